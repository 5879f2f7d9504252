// `kvmig version` end to end: the built CLI (dist/kvmig.js) in a child process, a kubeconfig in
// a temp dir, and a scripted API server on loopback HTTPS that trusts only its own test CA.
import { existsSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import manifest from "../../package.json" with { type: "json" };
import { ScriptedApiServer, sendJson, sendStatus } from "../helpers/api-server.js";
import { tempDir, writeKubeconfig } from "../helpers/kubeconfig.js";
import { cliEnv, distEntry, ensureBuilt, lines, nodeDir, runKvmig, runProcess } from "./built-cli.js";

const token = "kvmig-secret-token-123";
const contextName = "lab";

const kubernetesVersion = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.4",
  gitCommit: "59526cd4867447956156ae3a602fcbac10a2c335",
  gitTreeState: "clean",
  buildDate: "2025-04-22T16:02:27Z",
  goVersion: "go1.23.6",
  compiler: "gc",
  platform: "linux/amd64",
};

const virtApiVersion = {
  gitVersion: "v1.9.0",
  gitCommit: "79d34c17a0a4b4a6bfe1a4c9e0e3b0c1d2e3f4a5",
  gitTreeState: "clean",
  buildDate: "2025-11-04T10:12:44Z",
  goVersion: "go1.24",
  compiler: "gc",
  platform: "linux/amd64",
};

const kubevirtList = {
  apiVersion: "kubevirt.io/v1",
  kind: "KubeVirtList",
  metadata: { resourceVersion: "81234" },
  items: [
    {
      apiVersion: "kubevirt.io/v1",
      kind: "KubeVirt",
      metadata: {
        name: "kubevirt",
        namespace: "kubevirt",
        uid: "6c1d6a52-3f0e-4a43-9d55-0d8f2c1e7b11",
        creationTimestamp: "2025-11-04T10:30:00Z",
      },
      spec: {},
      status: {
        phase: "Deployed",
        observedKubeVirtVersion: "v1.9.0",
        targetKubeVirtVersion: "v1.9.0",
      },
    },
  ],
};

function serveCluster(s: ScriptedApiServer): void {
  s.on("GET", "/version", (_req, res) => sendJson(res, 200, kubernetesVersion));
  s.on("GET", "/apis/subresources.kubevirt.io/v1/version", (_req, res) => sendJson(res, 200, virtApiVersion));
  s.on("GET", "/apis/kubevirt.io/v1/kubevirts", (_req, res) => sendJson(res, 200, kubevirtList));
}

let server: ScriptedApiServer;
let home: string;
let kubeconfig: string;

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

beforeEach(async () => {
  server = await ScriptedApiServer.start();
  home = tempDir("kvmig-e2e-home-");
  kubeconfig = writeKubeconfig(tempDir("kvmig-e2e-kube-"), {
    server: server.url,
    caPem: server.pki.caPem,
    token,
    context: contextName,
    namespace: "vms",
  });
});

afterEach(async () => {
  await server.close();
  expect(server.unexpected).toEqual([]);
});

const env = () => cliEnv(home, { KUBECONFIG: kubeconfig });

describe("kvmig version against a cluster with KubeVirt", () => {
  it("prints the three versions, the server and the context; exit 0, nothing on stderr", async () => {
    serveCluster(server);
    const result = await runKvmig(["version"], env());
    expect(result.stderr).toBe("");
    expect(lines(result.stdout)).toEqual([
      `kvmig:       ${manifest.version} (Node.js ${process.version})`,
      `Kubernetes:  v1.32.4 at ${server.url} (context "lab")`,
      "KubeVirt:    v1.9.0",
      "KubeVirt CR: kubevirt/kubevirt: Deployed, deployed v1.9.0",
      "Supports:    KubeVirt v1.0 to v1.9",
    ]);
    expect(result.code).toBe(0);
    // The token from the kubeconfig reached the server.
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${token}`,
      `Bearer ${token}`,
      `Bearer ${token}`,
    ]);
  });

  it("-o json: one JSON object with the versions", async () => {
    serveCluster(server);
    const json = await runKvmig(["version", "-o", "json"], env());
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({
      kvmig: {
        version: manifest.version,
        node: process.version,
        supportedKubeVirt: { oldest: "v1.0", newest: "v1.9" },
      },
      kubernetes: { server: server.url, context: "lab", gitVersion: "v1.32.4", platform: "linux/amd64" },
      kubevirt: {
        version: "v1.9.0",
        gitCommit: virtApiVersion.gitCommit,
        buildDate: virtApiVersion.buildDate,
        resource: {
          namespace: "kubevirt",
          name: "kubevirt",
          phase: "Deployed",
          observedVersion: "v1.9.0",
          targetVersion: "v1.9.0",
        },
        support: "supported",
        errors: [],
      },
    });
  });

  it("-o yaml: the same object as -o json, written as YAML", async () => {
    serveCluster(server);
    const json = await runKvmig(["version", "-o", "json"], env());
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    const yaml = await runKvmig(["-o", "yaml", "version"], env());
    expect(yaml.stderr).toBe("");
    expect(yaml.code).toBe(0);
    expect(yaml.stdout.trimStart().startsWith("{")).toBe(false);
    expect(parseYaml(yaml.stdout)).toEqual(report);
  });
});

describe("kvmig version when something is missing or wrong", () => {
  it("KubeVirt not installed: the Kubernetes version, a warning per missing piece; exit 0", async () => {
    server.on("GET", "/version", (_req, res) => sendJson(res, 200, kubernetesVersion));
    const notServed = "the server could not find the requested resource";
    server.on("GET", "/apis/subresources.kubevirt.io/v1/version", (_req, res) =>
      sendStatus(res, 404, "NotFound", notServed),
    );
    server.on("GET", "/apis/kubevirt.io/v1/kubevirts", (_req, res) =>
      sendStatus(res, 404, "NotFound", notServed),
    );
    const result = await runKvmig(["version"], env());
    expect(lines(result.stdout)).toEqual([
      `kvmig:       ${manifest.version} (Node.js ${process.version})`,
      `Kubernetes:  v1.32.4 at ${server.url} (context "lab")`,
      "KubeVirt:    unknown",
      "Supports:    KubeVirt v1.0 to v1.9",
    ]);
    expect(lines(result.stderr).sort()).toEqual([
      `warning: KubeVirt resource: KubeVirt is not installed on the cluster of context "lab": the API server does not serve kubevirt.io kubevirts`,
      `warning: virt-api version: KubeVirt is not installed on the cluster of context "lab": the API server does not serve subresources.kubevirt.io version`,
    ]);
    expect(result.code).toBe(0);
  });

  it("server down: one error line and one hint; exit 1, nothing on stdout", async () => {
    const port = await closedPort();
    const down = writeKubeconfig(tempDir("kvmig-e2e-kube-"), {
      server: `https://127.0.0.1:${port}`,
      caPem: server.pki.caPem,
      token,
      context: contextName,
    });
    const result = await runKvmig(["version"], cliEnv(home, { KUBECONFIG: down }));
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toBe(
      `error: cannot connect to the API server at https://127.0.0.1:${port} (context "lab"): connection refused`,
    );
    expect(stderr[1]).toMatch(/^hint: .*kubectl config view --minify --context lab$/);
    expect(result.stdout).toBe("");
    expect(result.code).toBe(1);
  });

  it("no kubeconfig anywhere: says so, and the hint names --kubeconfig and KUBECONFIG; exit 1", async () => {
    const result = await runKvmig(["version"], cliEnv(home));
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toBe(`error: no kubeconfig found: ${join(home, ".kube", "config")} does not exist`);
    expect(stderr[1]).toMatch(/^hint: /);
    expect(stderr[1]).toContain("--kubeconfig");
    expect(stderr[1]).toContain("KUBECONFIG");
    expect(result.stdout).toBe("");
    expect(result.code).toBe(1);
    expect(server.requests).toEqual([]);
  });
});

describe("kvmig -v", () => {
  it("logs each request and the client load time, and never a credential", async () => {
    serveCluster(server);
    const result = await runKvmig(["-v", "version"], env());
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toHaveLength(5);

    const stderr = lines(result.stderr);
    expect(stderr[0]).toMatch(/^loaded the connection code in \d+ms$/);
    expect(stderr.slice(1).sort()).toEqual([
      expect.stringMatching(/^GET \/apis\/kubevirt\.io\/v1\/kubevirts\?limit=500 200 OK in \d+ms$/),
      expect.stringMatching(/^GET \/apis\/subresources\.kubevirt\.io\/v1\/version 200 OK in \d+ms$/),
      expect.stringMatching(/^GET \/version 200 OK in \d+ms$/),
    ]);

    // The server did get the token, so its absence from the log is not for want of auth.
    expect(server.requests).toHaveLength(3);
    for (const request of server.requests) expect(request.headers.authorization).toBe(`Bearer ${token}`);

    const everything = result.stdout + result.stderr;
    expect(everything).not.toContain(token);
    expect(everything.toLowerCase()).not.toContain("authorization");
    expect(everything).not.toContain("Bearer");
    for (const pem of [server.pki.caPem, server.pki.certPem, server.pki.keyPem]) {
      for (const fragment of pemFragments(pem)) expect(everything).not.toContain(fragment);
    }
    // The kubeconfig carries the CA as base64 of the PEM text.
    expect(everything).not.toContain(Buffer.from(server.pki.caPem).toString("base64").slice(0, 40));
  });
});

describe("the program name", () => {
  it("is `kubectl kvmig` through a kubectl-kvmig symlink, `kvmig` otherwise", async () => {
    const bin = tempDir("kvmig-e2e-bin-");
    symlinkSync(distEntry, join(bin, "kubectl-kvmig"));
    const plugin = await runProcess(["--help"], { command: join(bin, "kubectl-kvmig"), env: cliEnv(home) });
    expect(plugin.stderr).toBe("");
    expect(plugin.code).toBe(0);
    expect(lines(plugin.stdout)[0]).toBe("Usage: kubectl kvmig [options] [command]");
    expect(plugin.stdout).toContain("  kubectl kvmig version --context prod -o json");

    const plain = await runKvmig(["--help"], cliEnv(home));
    expect(plain.stderr).toBe("");
    expect(plain.code).toBe(0);
    expect(lines(plain.stdout)[0]).toBe("Usage: kvmig [options] [command]");
    expect(plain.stdout).not.toContain("kubectl kvmig");
  });

  // Plugin discovery is kubectl's own code; without kubectl on PATH there is nothing to run.
  it.skipIf(!hasKubectl())("runs as a real kubectl plugin: kubectl kvmig --version", async () => {
    const bin = tempDir("kvmig-e2e-bin-");
    symlinkSync(distEntry, join(bin, "kubectl-kvmig"));
    const kubectl = findOnPath("kubectl");
    expect(kubectl).toBeDefined();
    const path = [bin, nodeDir, process.env.PATH ?? ""].join(delimiter);
    const result = await runProcess(["kvmig", "--version"], {
      command: kubectl as string,
      env: { PATH: path, HOME: home, NO_COLOR: "1" },
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${manifest.version}\n`);
    expect(result.code).toBe(0);
  });
});

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return address.port;
}

/** The base64 lines of a PEM block, each long enough to be unmistakable. */
function pemFragments(pem: string): string[] {
  return pem
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("-----"))
    .map((l) => l.slice(0, 24))
    .filter((l) => l.length >= 16);
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function hasKubectl(): boolean {
  const found = findOnPath("kubectl") !== undefined;
  if (!found) console.warn("skipping the kubectl plugin test: kubectl is not on PATH");
  return found;
}
