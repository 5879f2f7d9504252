// The credentials kvmig reads itself (certificates, tokens, basic auth, impersonation) are what
// the Kubernetes client's applyToHTTPSOptions makes of the same kubeconfig entries; the client
// is loaded only for exec plugins, auth providers and proxies. And a client certificate from the
// kubeconfig reaches the server.
import { writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ExitCode, exitCodeOf, KvmigError } from "../../src/errors.js";
import { connect } from "../../src/k8s/connect.js";
import { credentialSource, needsClient, staticOptions } from "../../src/k8s/credentials.js";
import { entriesOf, type KubeCluster, Kubeconfig, type KubeUser } from "../../src/k8s/kubeconfig.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { createTestPki } from "../helpers/tls.js";

const pem = (text: string) => Buffer.from(text).toString("base64");

async function clientNodeOptions(cluster: KubeCluster, user: KubeUser): Promise<Record<string, unknown>> {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [user],
    contexts: [{ name: "c", cluster: cluster.name, user: user.name }],
    currentContext: "c",
  } as never);
  const options: Record<string, unknown> = {};
  await config.applyToHTTPSOptions(options as never);
  delete options.agent;
  return options;
}

describe("staticOptions: client-node's options for the same entries", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "ca.crt"), "CA FROM FILE");
  writeFileSync(join(dir, "client.crt"), "CERT FROM FILE");
  writeFileSync(join(dir, "client.key"), "KEY FROM FILE");
  const server = "https://127.0.0.1:6443";
  const combos: Array<[string, KubeCluster, KubeUser]> = [
    [
      "a token and CA data",
      { name: "k", server, caData: pem("CA"), skipTLSVerify: false },
      { name: "u", token: "t0ken" },
    ],
    [
      "certificate files, a server name",
      { name: "k", server, caFile: join(dir, "ca.crt"), skipTLSVerify: false, tlsServerName: "api.example" },
      { name: "u", certFile: join(dir, "client.crt"), keyFile: join(dir, "client.key") },
    ],
    [
      "certificate data, verification off",
      { name: "k", server, skipTLSVerify: true },
      { name: "u", certData: pem("CERT"), keyData: pem("KEY") },
    ],
    [
      "basic auth and impersonation",
      { name: "k", server, caData: pem("CA"), skipTLSVerify: false },
      { name: "u", username: "admin", password: "s3cret", impersonateUser: "alice", token: "t" },
    ],
    [
      "plain HTTP with verification off",
      { name: "k", server: "http://127.0.0.1:8080", skipTLSVerify: true },
      { name: "u" },
    ],
  ];
  for (const [name, cluster, user] of combos) {
    it(name, async () => {
      expect(needsClient(cluster, user)).toBe(false);
      expect({ ...staticOptions(cluster, user) }).toEqual(await clientNodeOptions(cluster, user));
    });
  }

  it("a plain http:// server gets no credentials at all, as client-go sends none without TLS", async () => {
    const cluster = { name: "k", server: "http://127.0.0.1:8001", skipTLSVerify: false };
    const user = {
      name: "u",
      token: "t",
      impersonateUser: "alice",
      certData: pem("CERT"),
      keyData: pem("KEY"),
    };
    const source = await credentialSource(cluster, user, { context: "c", env: {} });
    expect(await source()).toEqual({});
    const secure = await credentialSource({ ...cluster, server: "https://127.0.0.1:6443" }, user, {
      context: "c",
      env: {},
    });
    expect((await secure()).headers).toEqual({ Authorization: "Bearer t", "Impersonate-User": "alice" });
  });

  it("a 401 to a token file's token is worth another try only once the file holds another token", async () => {
    const file = join(tempDir(), "token");
    writeFileSync(file, "first\n");
    const cluster = { name: "k", server: "https://127.0.0.1:6443", skipTLSVerify: false };
    const source = await credentialSource(cluster, { name: "u", tokenFile: file }, { context: "c", env: {} });
    expect((await source()).headers?.Authorization).toBe("Bearer first");
    expect(source.refused?.("Bearer first")).toBe(false);
    writeFileSync(file, "second\n");
    expect(source.refused?.("Bearer first")).toBe(true);
    expect((await source()).headers?.Authorization).toBe("Bearer second");
    // A fixed token has nothing fresher to offer.
    const fixed = await credentialSource(cluster, { name: "u", token: "t" }, { context: "c", env: {} });
    expect(fixed.refused).toBeUndefined();
  });

  it("only auth providers need the Kubernetes client; exec plugins and proxies are our own", () => {
    const cluster = { name: "k", server, skipTLSVerify: false };
    expect(needsClient(cluster, { name: "u", exec: { command: "x" } })).toBe(false);
    expect(needsClient(cluster, { name: "u", authProvider: { name: "oidc" } })).toBe(true);
    expect(needsClient({ ...cluster, proxyUrl: "http://proxy:3128" }, { name: "u" })).toBe(false);
    expect(needsClient(cluster, { name: "u", token: "t" })).toBe(false);
  });

  it("impersonation of groups and a UID: one Impersonate-Group header per group", () => {
    const cluster = { name: "k", server, skipTLSVerify: false };
    const options = staticOptions(cluster, {
      name: "u",
      impersonateUser: "bob",
      impersonateGroups: ["g1", "g2"],
      impersonateUid: "42",
    });
    expect(options.headers).toEqual({
      "Impersonate-User": "bob",
      "Impersonate-Group": ["g1", "g2"],
      "Impersonate-Uid": "42",
    });
  });
});

describe("entriesOf: client-node's loadFromFile for the same document", () => {
  it("the same entries, relative certificate paths under the file's directory, token-file read", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "from-a-file");
    const document = {
      clusters: [
        {
          name: "a",
          cluster: { server: "https://a:6443/", "certificate-authority": "ca.crt", "proxy-url": "http://p" },
        },
        {
          name: "b",
          cluster: { server: "https://b", "insecure-skip-tls-verify": true, "tls-server-name": "b.example" },
        },
      ],
      users: [
        { name: "x", user: { "client-certificate": "x.crt", "client-key": "/abs/x.key", as: "alice" } },
        { name: "y", user: { "token-file": join(dir, "token"), username: "u", password: "p" } },
        { name: "z" },
      ],
      contexts: [
        { name: "c", context: { cluster: "a", user: "x", namespace: "n" } },
        { name: "d", context: { cluster: "b" } },
      ],
      "current-context": "c",
    };
    const file = join(dir, "config");
    writeFileSync(file, stringify(document));
    const config = new KubeConfig();
    config.loadFromFile(file);
    const ours = entriesOf(document, file);
    const normalize = (value: unknown) =>
      JSON.parse(
        JSON.stringify(value, (k, v) => (k === "source" || k === "tokenFile" ? undefined : (v ?? undefined))),
      );
    expect(normalize(ours.clusters)).toEqual(normalize(config.clusters));
    // client-node reads token-file on load; kubectl (and we) when the user is used.
    expect(ours.users.find((u) => u.name === "y")?.tokenFile).toBe(join(dir, "token"));
    expect(normalize(ours.users)).toEqual(
      normalize(config.users.map((u) => (u.name === "y" ? { ...u, token: undefined } : u))),
    );
    expect(normalize(ours.contexts)).toEqual(normalize(config.contexts));
    expect(ours.currentContext).toBe("c");
  });

  it("incomplete entries are kept, as kubectl keeps them: only the context in use is checked", () => {
    const ours = entriesOf(
      {
        clusters: [{ name: "a", cluster: {} }, { name: "b" }, { cluster: { server: "https://x" } }],
        contexts: [{ name: "c", context: {} }],
        users: [{ user: {} }, { name: "u", user: { "token-file": "/nonexistent/token" } }],
      },
      "",
    );
    expect(ours.clusters.map((c) => [c.name, c.server])).toEqual([
      ["a", ""],
      ["b", ""],
    ]);
    expect(ours.contexts).toEqual([{ name: "c", cluster: "", user: undefined, namespace: undefined }]);
    expect(ours.users.map((u) => [u.name, u.tokenFile])).toEqual([["u", "/nonexistent/token"]]);
  });

  it("an exec plugin's command with a slash is taken from the kubeconfig's directory; a bare name is not", () => {
    const ours = entriesOf(
      {
        users: [
          { name: "rel", user: { exec: { command: "./bin/login.sh" } } },
          { name: "bare", user: { exec: { command: "kubelogin" } } },
          { name: "abs", user: { exec: { command: "/usr/bin/login" } } },
        ],
      },
      "/home/me/.kube/config",
    );
    expect(ours.users.map((u) => u.exec.command)).toEqual([
      "/home/me/.kube/bin/login.sh",
      "kubelogin",
      "/usr/bin/login",
    ]);
    expect(ours.users[0]?.exec.writtenCommand).toBe("./bin/login.sh");
  });
});

describe("connect: credentials from the kubeconfig reach the server", () => {
  it("a client certificate and key from files next to the kubeconfig", async () => {
    const serverPki = await createTestPki("server-ca");
    const clientPki = await createTestPki("client-ca");
    const seen: string[] = [];
    const server = createServer({
      cert: serverPki.certPem,
      key: serverPki.keyPem,
      requestCert: true,
      rejectUnauthorized: false,
    });
    server.on("request", (req, res) => {
      const peer = (req.socket as import("node:tls").TLSSocket).getPeerCertificate();
      seen.push(String(peer.subject?.CN ?? "none"));
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ gitVersion: "v1.32.4" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const dir = tempDir();
      // The client presents the other PKI's serving certificate: its subject tells it came.
      writeFileSync(join(dir, "client.crt"), clientPki.certPem);
      writeFileSync(join(dir, "client.key"), clientPki.keyPem);
      const kubeconfig = join(dir, "config");
      writeFileSync(
        kubeconfig,
        stringify({
          clusters: [
            {
              name: "k",
              cluster: {
                server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
                "certificate-authority-data": pem(serverPki.caPem),
              },
            },
          ],
          users: [{ name: "u", user: { "client-certificate": "client.crt", "client-key": "client.key" } }],
          contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
          "current-context": "c",
        }),
      );
      const client = await connect(
        { kubeconfig },
        { env: {}, clock: new FakeClock(), userAgent: "kvmig-test" },
      );
      expect((await client.serverVersion()).gitVersion).toBe("v1.32.4");
      client.close();
      expect(seen).toEqual(["kube-apiserver"]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("a client certificate file that does not exist: one line naming the context, exit 1", async () => {
    const dir = tempDir();
    const kubeconfig = join(dir, "config");
    writeFileSync(
      kubeconfig,
      stringify({
        clusters: [{ name: "k", cluster: { server: "https://127.0.0.1:1" } }],
        users: [{ name: "u", user: { "client-certificate": "gone.crt", "client-key": "gone.key" } }],
        contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
        "current-context": "c",
      }),
    );
    const error = await connect({ kubeconfig }, { env: {}, clock: new FakeClock(), userAgent: "t" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KvmigError);
    expect((error as KvmigError).message).toBe(
      `user "u" of context "c" has a client-certificate that cannot be read: ENOENT: no such file or directory, access '${join(dir, "gone.crt")}'`,
    );
    expect((error as KvmigError).hint).toContain("fix that user entry");
    expect(exitCodeOf(error)).toBe(ExitCode.unexpected);
  });

  it("a kubeconfig's Kubeconfig answers the current cluster and user", () => {
    const config = new Kubeconfig(
      [{ name: "k", server: "https://x", skipTLSVerify: false }],
      [{ name: "u", token: "t" }],
      [
        { name: "c", cluster: "k", user: "u" },
        { name: "nouser", cluster: "k" },
      ],
      "c",
    );
    expect(config.getCurrentCluster()?.server).toBe("https://x");
    expect(config.getCurrentUser()?.token).toBe("t");
    config.currentContext = "nouser";
    expect(config.getCurrentUser()).toBeUndefined();
    config.currentContext = "missing";
    expect(config.getCurrentCluster()).toBeUndefined();
  });
});
