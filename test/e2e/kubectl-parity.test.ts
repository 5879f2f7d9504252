// Issue 25 item 2: kvmig reads kubeconfigs and connects as kubectl does. Each case runs the real
// kubectl and the built kvmig side by side, with the same kubeconfig and environment, against the
// simulated cluster, and checks they agree: both succeed with the same data, or both fail.
// Proxies are a CONNECT proxy of the test's own on 127.0.0.1 (it answers for a made-up host name,
// since loopback addresses are never proxied); plain HTTP is `kubectl proxy` in front of the sim.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { type AddressInfo, connect as netConnect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import type { SimRequestRecord } from "../../src/sim/server.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl } from "../helpers/kubectl.js";
import { createTestPki } from "../helpers/tls.js";
import { cliEnv, distEntry, ensureBuilt, lines, type RunResult, repoRoot, runProcess } from "./built-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: kubeconfig documents, edited freely.
type Any = any;

const kubectl = findKubectl() ?? "/usr/bin/kubectl";
const fakeHost = "sim.kvmig.test";

let sim: SimCluster;
let other: SimCluster;
let proxy: ConnectProxy;
const requests: SimRequestRecord[] = [];
const otherRequests: SimRequestRecord[] = [];

beforeAll(async () => {
  await ensureBuilt();
  [sim, other] = await Promise.all([
    startSimCluster({ seed: 7, manualTime: true }),
    startSimCluster({ seed: 8, manualTime: true }),
  ]);
  sim.onRequest((r) => requests.push(r));
  other.onRequest((r) => otherRequests.push(r));
  proxy = await startConnectProxy();
}, 120_000);

afterAll(async () => {
  await Promise.all([sim?.close(), other?.close(), proxy?.close()]);
});

/** A proxy on 127.0.0.1 (CONNECT, and plain HTTP in absolute form) that counts what it carries and takes sim.kvmig.test for 127.0.0.1. */
interface ConnectProxy {
  url: string;
  connects: string[];
  /** The plain-HTTP requests it forwarded (host:port each). */
  forwards: string[];
  close(): Promise<void>;
}

async function startConnectProxy(): Promise<ConnectProxy> {
  const connects: string[] = [];
  const forwards: string[] = [];
  // Plain HTTP through the proxy: the request in absolute form, forwarded as it is.
  const server: Server = createServer((req, res) => {
    const target = URL.canParse(req.url ?? "") ? new URL(req.url ?? "") : new URL("none:");
    if (target.protocol !== "http:" || (target.hostname !== fakeHost && target.hostname !== "127.0.0.1")) {
      res.writeHead(403).end();
      return;
    }
    forwards.push(target.host);
    const upstream = httpRequest(
      {
        host: "127.0.0.1",
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connect", (req, client, head) => {
    const authority = req.url ?? "";
    connects.push(authority);
    const at = authority.lastIndexOf(":");
    const host = authority.slice(0, at);
    const port = Number(authority.slice(at + 1));
    if (host !== fakeHost && host !== "127.0.0.1") {
      client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const upstream = netConnect(port, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    forwards,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The sim's kubeconfig as a document, to edit. */
function simConfig(cluster: SimCluster = sim): Any {
  return YAML.parse(cluster.kubeconfig());
}

interface Setup {
  dir: string;
  env: Record<string, string>;
  kubeconfig: string;
}

/** A directory with the kubeconfig (one document, or several files for KUBECONFIG=a:b), and the env both run with. */
function setup(documents: Any[], extraEnv: Record<string, string> = {}): Setup {
  const dir = tempDir("kvmig-parity-");
  const paths = documents.map((document, i) => {
    const path = join(dir, `config-${i}`);
    writeFileSync(path, typeof document === "string" ? document : YAML.stringify(document), { mode: 0o600 });
    return path;
  });
  const kubeconfig = paths.join(":");
  const env = cliEnv(dir, { KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, "cache"), ...extraEnv });
  return { dir, env, kubeconfig };
}

interface Both {
  kubectl: RunResult & { gitVersion: string | undefined };
  kvmig: RunResult & { gitVersion: string | undefined };
}

/** `kubectl version -o json` and `kvmig version -o json`, with the same flags and environment. */
async function versionBoth(s: Setup, flags: string[] = []): Promise<Both> {
  const [k, v] = await Promise.all([
    runProcess(["version", "-o", "json", ...flags], { command: kubectl, env: s.env, timeoutMs: 30_000 }),
    runProcess([distEntry, "version", "-o", "json", ...flags], { env: s.env, timeoutMs: 30_000 }),
  ]);
  return {
    kubectl: { ...k, gitVersion: k.code === 0 ? JSON.parse(k.stdout).serverVersion?.gitVersion : undefined },
    kvmig: { ...v, gitVersion: v.code === 0 ? JSON.parse(v.stdout).kubernetes?.gitVersion : undefined },
  };
}

function expectBothSucceed(both: Both, gitVersion = "v1.32.3"): void {
  expect({ code: both.kubectl.code, stderr: both.kubectl.stderr }).toEqual({ code: 0, stderr: "" });
  expect({ code: both.kvmig.code, gitVersion: both.kvmig.gitVersion }).toEqual({ code: 0, gitVersion });
  expect(both.kubectl.gitVersion).toBe(gitVersion);
}

function expectBothFail(both: Both): void {
  expect(both.kubectl.code).not.toBe(0);
  expect(both.kvmig.code).not.toBe(0);
  expect(both.kvmig.stdout).toBe("");
}

/** kvmig's error: one line and a hint, nothing else (warnings aside). */
function errorLines(result: RunResult): string[] {
  return lines(result.stderr).filter((l) => !l.startsWith("warning:"));
}

/** The sim's kubeconfig with its server named by the made-up host, checked against "localhost". */
function fakeHostConfig(edit: (cluster: Any) => void = () => {}): Any {
  const config = simConfig();
  for (const entry of config.clusters) {
    entry.cluster.server = entry.cluster.server.replace("127.0.0.1", fakeHost);
    entry.cluster["tls-server-name"] = "localhost";
    edit(entry.cluster);
  }
  return config;
}

describe("1. HTTPS_PROXY, NO_PROXY from the environment; a kubeconfig proxy-url wins", () => {
  it("HTTPS_PROXY: both tunnel through the proxy and read the sim", async () => {
    const s = setup([fakeHostConfig()], { HTTPS_PROXY: proxy.url });
    const before = proxy.connects.length;
    const both = await versionBoth(s);
    expectBothSucceed(both);
    const port = new URL(sim.url).port;
    const tunnels = proxy.connects.slice(before);
    // Both went through it (kubectl opens one tunnel per connection, as kvmig does).
    expect(tunnels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tunnels)).toEqual(new Set([`${fakeHost}:${port}`]));
  });

  it("https_proxy in lower case works as well, for each of them alone", async () => {
    const s = setup([fakeHostConfig()], { https_proxy: proxy.url });
    let before = proxy.connects.length;
    const k = await runProcess(["get", "--raw", "/version"], { command: kubectl, env: s.env });
    expect(k.code).toBe(0);
    expect(proxy.connects.length).toBeGreaterThan(before);
    before = proxy.connects.length;
    const v = await runProcess([distEntry, "version", "-o", "json"], { env: s.env });
    expect(v.code).toBe(0);
    expect(proxy.connects.length).toBeGreaterThan(before);
  });

  it.each([".kvmig.test", "kvmig.test", "*.kvmig.test", "sim.kvmig.test", "*", "sim.kvmig.test:PORT"])(
    "NO_PROXY=%s: both bypass the proxy, and both fail to resolve the made-up name",
    async (noProxy) => {
      const entry = noProxy.replace("PORT", new URL(sim.url).port);
      const s = setup([fakeHostConfig()], { HTTPS_PROXY: proxy.url, NO_PROXY: entry });
      const before = proxy.connects.length;
      const both = await versionBoth(s);
      expectBothFail(both);
      expect(proxy.connects.length).toBe(before);
      expect(both.kubectl.stderr).toContain(fakeHost);
      const [error, hint, ...rest] = errorLines(both.kvmig);
      expect(error).toMatch(new RegExp(`^error: .*${fakeHost.replaceAll(".", "\\.")}`));
      expect(hint).toMatch(/^hint: /);
      expect(rest).toEqual([]);
    },
  );

  it("NO_PROXY naming another domain, or another port: both still go through the proxy", async () => {
    for (const noProxy of ["other.test,.example.com", `${fakeHost}:1`, "10.0.0.0/8"]) {
      const s = setup([fakeHostConfig()], { HTTPS_PROXY: proxy.url, no_proxy: noProxy });
      const before = proxy.connects.length;
      expectBothSucceed(await versionBoth(s));
      expect(proxy.connects.length).toBeGreaterThanOrEqual(before + 2);
    }
  });

  it("a loopback server is never proxied: a dead HTTPS_PROXY changes nothing for either", async () => {
    const s = setup([simConfig()], { HTTPS_PROXY: "http://127.0.0.1:1" });
    expectBothSucceed(await versionBoth(s));
  });

  it("the kubeconfig's proxy-url beats HTTPS_PROXY (which points nowhere): both go through proxy-url", async () => {
    const config = fakeHostConfig((c) => {
      c["proxy-url"] = proxy.url;
    });
    const s = setup([config], { HTTPS_PROXY: "http://127.0.0.1:1", NO_PROXY: "*" });
    const before = proxy.connects.length;
    expectBothSucceed(await versionBoth(s));
    expect(proxy.connects.length).toBeGreaterThanOrEqual(before + 2);
  });
});

describe("2. a merged kubeconfig with broken entries no context in use names", () => {
  const broken = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "no-server", cluster: { "insecure-skip-tls-verify": true } }],
    users: [
      {
        name: "bad-user",
        user: { "client-certificate": "/nonexistent/cert.pem", "token-file": "/nonexistent/token" },
      },
    ],
    contexts: [
      { name: "no-cluster", context: { user: "sim-admin" } },
      { name: "serverless", context: { cluster: "no-server", user: "sim-admin" } },
      { name: "broken-user", context: { cluster: "kvmig-sim", user: "bad-user" } },
    ],
  };

  it("KUBECONFIG=sim:broken: both work with the sim's context", async () => {
    expectBothSucceed(await versionBoth(setup([simConfig(), broken])));
  });

  it("the broken file first, in JSON (read by the full YAML parser): both still work", async () => {
    const s = setup([JSON.stringify({ ...broken, "current-context": "" }), simConfig()]);
    expectBothSucceed(await versionBoth(s));
  });

  it.each([
    ["no-cluster", /^error: context "no-cluster" names cluster "", which the kubeconfig does not define$/],
    ["serverless", /^error: context "serverless" names cluster "no-server", which has no server$/],
    [
      "broken-user",
      /^error: user "bad-user" of context "broken-user" has a client certificate but no client-key\(-data\)$/,
    ],
  ])(
    "the broken entry in use (--context %s): both fail, kvmig with one line and a hint, exit 1",
    async (context, message) => {
      const both = await versionBoth(setup([simConfig(), broken]), ["--context", context]);
      expectBothFail(both);
      const [error, hint, ...rest] = errorLines(both.kvmig);
      expect(error).toMatch(message);
      expect(hint).toMatch(/^hint: /);
      expect(rest).toEqual([]);
      expect(both.kvmig.code).toBe(1);
    },
  );
});

describe("3. --insecure-skip-tls-verify with a proxy-url cluster", () => {
  it("a CA that does not fit, through proxy-url: both refuse; with the flag both work through the proxy", async () => {
    const stranger = await createTestPki("someone-else");
    const config = fakeHostConfig((c) => {
      c["proxy-url"] = proxy.url;
      c["certificate-authority-data"] = Buffer.from(stranger.caPem).toString("base64");
    });
    const s = setup([config]);
    expectBothFail(await versionBoth(s));
    const before = proxy.connects.length;
    const both = await versionBoth(s, ["--insecure-skip-tls-verify"]);
    expectBothSucceed({ ...both, kubectl: { ...both.kubectl, stderr: "" } });
    expect(proxy.connects.length).toBeGreaterThanOrEqual(before + 2);
    expect(both.kvmig.stderr).toContain(
      "warning: the API server's certificate is not verified (--insecure-skip-tls-verify)",
    );
  });
});

/** A kubeconfig whose user is an exec plugin (a shell script) answering the admin's token. */
function execSetup(
  command: string,
  script: string,
  extra: Any = {},
  env: Record<string, string> = {},
): Setup {
  const config = simConfig();
  const s = setup([config], env);
  const token = sim.token("sim-admin");
  const body = script.replaceAll("TOKEN", token);
  mkdirSync(join(s.dir, "bin"), { recursive: true });
  writeFileSync(join(s.dir, "bin", "login.sh"), `#!/bin/sh\n${body}\n`);
  chmodSync(join(s.dir, "bin", "login.sh"), 0o755);
  config.users = [
    {
      name: "plugin-user",
      user: {
        exec: {
          apiVersion: "client.authentication.k8s.io/v1",
          command,
          interactiveMode: "Never",
          ...extra,
        },
      },
    },
  ];
  for (const context of config.contexts) context.context.user = "plugin-user";
  writeFileSync(s.kubeconfig, YAML.stringify(config));
  return s;
}

const answer = `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"TOKEN"}}'`;

describe("4, 5. exec credential plugins: relative paths, PATH, stderr", () => {
  it("./bin/login.sh is taken from the kubeconfig's directory, whatever the working directory", async () => {
    const s = execSetup("./bin/login.sh", answer);
    expectBothSucceed(await versionBoth(s));
  });

  it("a bare name is looked up on PATH, not in the kubeconfig's directory", async () => {
    const s = execSetup("login.sh", answer);
    // Not on PATH: both fail, kvmig saying the plugin was not found.
    const missing = await versionBoth(s);
    expectBothFail(missing);
    expect(errorLines(missing.kvmig)[0]).toMatch(
      /credential plugin login\.sh of user "plugin-user".* was not found on PATH/,
    );
    // On PATH: both work.
    const onPath = { ...s, env: { ...s.env, PATH: `${join(s.dir, "bin")}:${s.env.PATH}` } };
    expectBothSucceed(await versionBoth(onPath));
  });

  it("the plugin's stderr (a login prompt) reaches the user's stderr, with kubectl's and kvmig's alike", async () => {
    const s = execSetup(
      "./bin/login.sh",
      `echo 'To sign in, open https://login.example/device and enter ABCD-1234' >&2\n${answer}`,
    );
    const both = await versionBoth(s);
    expectBothSucceed({ ...both, kubectl: { ...both.kubectl, stderr: "" } });
    const prompt = "To sign in, open https://login.example/device and enter ABCD-1234";
    expect(lines(both.kubectl.stderr)).toContain(prompt);
    expect(lines(both.kvmig.stderr)).toContain(prompt);
  });

  it("interactiveMode IfAvailable on a terminal: the plugin asks on stderr and reads the answer from it, for both", async () => {
    const script = `printf 'code: ' >&2\nread code\necho "$code" > "$(mktemp "$(dirname "$0")/got.XXXXXX")"\n${answer}`;
    const s = execSetup("./bin/login.sh", script, { interactiveMode: "IfAvailable" });
    const onTerminal = (command: string[], typed: string) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        // script(1) runs the command on a pseudo-terminal and types what it reads from stdin.
        const child = spawn("script", ["-qec", command.join(" "), "/dev/null"], {
          cwd: repoRoot,
          env: s.env,
          stdio: ["pipe", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (c: Buffer) => {
          output += c.toString("utf8");
        });
        child.on("close", (code) => resolve({ code, output }));
        child.stdin.end(`${typed}\n`);
      });
    const k = await onTerminal([kubectl, "get", "--raw", "/version"], "typed-for-kubectl");
    const v = await onTerminal([process.execPath, distEntry, "version"], "typed-for-kvmig");
    expect(k.code).toBe(0);
    expect(v.code).toBe(0);
    expect(k.output).toContain("code: ");
    expect(v.output).toContain("code: ");
    expect(v.output).toContain("v1.32.3");
    const bin = join(s.dir, "bin");
    const got = readdirSync(bin)
      .filter((f) => f.startsWith("got."))
      .map((f) => readFileSync(join(bin, f), "utf8").trim())
      .sort();
    expect(got).toEqual(["typed-for-kubectl", "typed-for-kvmig"]);
  }, 30_000);

  it("env, args and KUBERNETES_EXEC_INFO with provideClusterInfo reach the plugin, as kubectl gives them", async () => {
    // One file per run: kubectl and kvmig run at once, and their lines would interleave in one.
    const script = `echo "$GREETING|$1|$KUBERNETES_EXEC_INFO" > "$(mktemp "$(dirname "$0")/seen.XXXXXX")"\n${answer}`;
    const s = execSetup("./bin/login.sh", script, {
      args: ["first-arg"],
      env: [{ name: "GREETING", value: "hello" }],
      provideClusterInfo: true,
    });
    expectBothSucceed(await versionBoth(s));
    const bin = join(s.dir, "bin");
    const seen = readdirSync(bin)
      .filter((f) => f.startsWith("seen."))
      .map((f) => readFileSync(join(bin, f), "utf8").trim());
    expect(seen.length).toBeGreaterThanOrEqual(2);
    const infos = seen.map((line) => {
      const [greeting, arg, info] = line.split("|");
      return { greeting, arg, info: JSON.parse(info ?? "{}") };
    });
    for (const { greeting, arg, info } of infos) {
      expect({ greeting, arg }).toEqual({ greeting: "hello", arg: "first-arg" });
      expect(info.kind).toBe("ExecCredential");
      expect(info.spec.interactive).toBe(false);
      expect(info.spec.cluster.server).toBe(sim.url);
      expect(info.spec.cluster["certificate-authority-data"]).toBe(
        Buffer.from(sim.pki.caPem).toString("base64"),
      );
    }
  });

  it("a plugin that fails: both fail, kvmig naming the plugin and its exit code in one line", async () => {
    const s = execSetup("./bin/login.sh", "echo 'login expired' >&2\nexit 3");
    const both = await versionBoth(s);
    expectBothFail(both);
    expect(lines(both.kvmig.stderr)).toContain("login expired");
    const errors = errorLines(both.kvmig).filter((l) => l !== "login expired");
    expect(errors[0]).toBe(
      `error: cannot get credentials for context "sim-admin": the credential plugin ./bin/login.sh of user "plugin-user" (context "sim-admin") failed (exit code 3)`,
    );
    expect(errors[1]).toMatch(/^hint: /);
  });
});

/** The processes whose environment carries `marker` (the plugin and what it started). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").includes(marker)) found.push(Number(entry));
    } catch {
      // Gone, or not ours.
    }
  }
  return found;
}

describe("6. an exec plugin that hangs", () => {
  const hanging = (marker: string) =>
    execSetup("./bin/login.sh", "sleep 300 &\nwait", { env: [{ name: "KVMIG_TEST_MARKER", value: marker }] });

  it("kvmig says on stderr what it waits for, keeps waiting, and Ctrl-C stops it and the plugin", async () => {
    const marker = `hang-${process.pid}-${Date.now()}`;
    const s = hanging(marker);
    const child: ChildProcess = spawn(process.execPath, [distEntry, "version"], {
      cwd: repoRoot,
      env: s.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    while (!stderr.includes("waiting for")) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines(stderr)).toEqual([
      `waiting for the credential plugin ./bin/login.sh of user "plugin-user" (context "sim-admin")...`,
    ]);
    expect(processesWith(marker).length).toBeGreaterThan(0);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(processesWith(marker)).toEqual([]);
  }, 30_000);

  it("a completion gives up on it within its budget, prints nothing, and leaves no process behind", async () => {
    const marker = `complete-${process.pid}-${Date.now()}`;
    const s = hanging(marker);
    const result = await runProcess([distEntry, "__complete", "--", "migrate", ""], {
      env: s.env,
      timeoutMs: 20_000,
    });
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(processesWith(marker)).toEqual([]);
  }, 30_000);
});

/** `kubectl proxy` in front of the sim on a port of its own; its URL. */
async function kubectlProxy(...flags: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const s = setup([simConfig()]);
  const child = spawn(kubectl, ["proxy", "--port=0", "--address=127.0.0.1", ...flags], {
    env: s.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  for (;;) {
    const port = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
    if (port) {
      return {
        url: `http://127.0.0.1:${port}`,
        stop: async () => {
          child.kill("SIGTERM");
          await exited;
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("7. a plain http:// server (kubectl proxy)", () => {
  it("a kubeconfig naming it, with a user holding a token no one checks: both work, no TLS", async () => {
    const kp = await kubectlProxy();
    try {
      const s = setup([
        {
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: "proxy", cluster: { server: kp.url } }],
          users: [{ name: "someone", user: { token: "not-checked" } }],
          contexts: [{ name: "local", context: { cluster: "proxy", user: "someone" } }],
          "current-context": "local",
        },
      ]);
      expectBothSucceed(await versionBoth(s));
      // --server on the command line, over the sim's own kubeconfig, does the same.
      expectBothSucceed(await versionBoth(setup([simConfig()]), ["--server", kp.url]));
    } finally {
      await kp.stop();
    }
  }, 30_000);

  it("HTTP_PROXY for an http:// server: both send through it (absolute form); NO_PROXY bypasses it for both", async () => {
    // The made-up name arrives as the Host: kubectl proxy accepts only loopback names unless told.
    const kp = await kubectlProxy("--accept-hosts=.*");
    try {
      const server = kp.url.replace("127.0.0.1", fakeHost);
      const through = setup([simConfig()], { HTTP_PROXY: proxy.url, HTTPS_PROXY: "http://127.0.0.1:1" });
      const before = proxy.forwards.length;
      expectBothSucceed(await versionBoth(through, ["--server", server]));
      expect(proxy.forwards.length).toBeGreaterThanOrEqual(before + 2);
      expect(new Set(proxy.forwards.slice(before))).toEqual(new Set([new URL(server).host]));
      const bypass = setup([simConfig()], { HTTP_PROXY: proxy.url, NO_PROXY: ".kvmig.test" });
      const after = proxy.forwards.length;
      expectBothFail(await versionBoth(bypass, ["--server", server]));
      expect(proxy.forwards.length).toBe(after);
    } finally {
      await kp.stop();
    }
  }, 30_000);

  it("the proxy gone: both fail, and kvmig's error is about reaching the server, not the credentials", async () => {
    const kp = await kubectlProxy();
    await kp.stop();
    const both = await versionBoth(setup([simConfig()]), ["--server", kp.url]);
    expectBothFail(both);
    const [error, hint, ...rest] = errorLines(both.kvmig);
    expect(error).toContain(kp.url);
    expect(`${error} ${hint}`).not.toMatch(/credential|token|certificate/i);
    expect(rest).toEqual([]);
  }, 30_000);
});

describe("8. kubectl's connection flags", () => {
  const usersOf = (records: SimRequestRecord[], from: number) =>
    new Set(records.slice(from).map((r) => r.user));

  it("--server, --certificate-authority and --token of a second cluster: both read that one", async () => {
    const s = setup([simConfig()]);
    const ca = join(s.dir, "other-ca.pem");
    writeFileSync(ca, other.pki.caPem);
    const before = otherRequests.length;
    const mine = requests.length;
    const flags = [
      "--server",
      other.url,
      "--certificate-authority",
      ca,
      "--token",
      other.token("sim-viewer"),
    ];
    expectBothSucceed(await versionBoth(s, flags));
    expect(usersOf(otherRequests, before)).toEqual(new Set(["sim-viewer"]));
    expect(requests.length).toBe(mine);
    // --server alone keeps the first cluster's CA: both refuse the second cluster's certificate.
    expectBothFail(await versionBoth(s, ["--server", other.url, "--token", other.token("sim-viewer")]));
  });

  it("--token that the server does not know: both refused", async () => {
    expectBothFail(await versionBoth(setup([simConfig()]), ["--token", "not-a-token"]));
  });

  it("--user and --cluster pick other entries of the kubeconfig; names it lacks fail alike", async () => {
    const s = setup([simConfig()]);
    const before = requests.length;
    expectBothSucceed(await versionBoth(s, ["--user", "sim-viewer"]));
    expect(usersOf(requests, before)).toEqual(new Set(["sim-viewer"]));
    expectBothSucceed(await versionBoth(s, ["--cluster", "kvmig-sim"]));
    const noUser = await versionBoth(s, ["--user", "nosuch"]);
    expectBothFail(noUser);
    expect(errorLines(noUser.kvmig)[0]).toBe('error: user "nosuch" is not in the kubeconfig');
    const noCluster = await versionBoth(s, ["--cluster", "nosuch"]);
    expectBothFail(noCluster);
    expect(errorLines(noCluster.kvmig)[0]).toBe('error: cluster "nosuch" is not in the kubeconfig');
  });

  it("--client-certificate and --client-key: files that cannot be read fail both before connecting; readable ones work for both", async () => {
    const s = setup([simConfig()]);
    const missing = await versionBoth(s, ["--client-certificate", "gone.crt", "--client-key", "gone.key"]);
    expectBothFail(missing);
    expect(missing.kubectl.stderr).toContain("unable to read client-cert");
    expect(errorLines(missing.kvmig)[0]).toMatch(
      /^error: user "sim-admin" of context "sim-admin" has a client-certificate that cannot be read: ENOENT/,
    );
    const client = await createTestPki("client");
    writeFileSync(join(s.dir, "client.crt"), client.certPem);
    writeFileSync(join(s.dir, "client.key"), client.keyPem);
    const flags = [
      "--client-certificate",
      join(s.dir, "client.crt"),
      "--client-key",
      join(s.dir, "client.key"),
    ];
    expectBothSucceed(await versionBoth(s, flags));
  });

  it("--tls-server-name: a name the certificate has works, one it lacks fails, for both", async () => {
    const s = setup([simConfig()]);
    expectBothSucceed(await versionBoth(s, ["--tls-server-name", "localhost"]));
    expectBothFail(await versionBoth(s, ["--tls-server-name", "wrong.example"]));
  });

  it("--as, --as-group (twice), --as-uid: the sim sees the impersonated user; a forbidden read is refused for both", async () => {
    const s = setup([simConfig()]);
    const before = requests.length;
    const flags = ["--as", "sim-viewer", "--as-group", "team-a", "--as-group", "team-b", "--as-uid", "1234"];
    expectBothSucceed(await versionBoth(s, flags));
    expect(usersOf(requests, before)).toEqual(new Set(["sim-viewer"]));
    // Listing VMIs as a user RBAC gives nothing: kubectl get and kvmig outdated are both refused.
    const [k, v] = await Promise.all([
      runProcess(["get", "vmi", "-n", "demo", "--as", "nobody"], { command: kubectl, env: s.env }),
      runProcess([distEntry, "outdated", "-n", "demo", "--as", "nobody"], { env: s.env }),
    ]);
    expect(k.stderr).toContain('User "nobody" cannot list resource "virtualmachineinstances"');
    expect(k.code).toBe(1);
    expect(errorLines(v)[0]).toContain('User "nobody" cannot list resource "virtualmachineinstances"');
    expect(v.code).toBe(4);
    // The hint's kubectl command carries --as, so it asks about the same user.
    const hint = errorLines(v)[1] ?? "";
    expect(hint).toContain("kubectl --as nobody auth can-i list virtualmachineinstances.kubevirt.io -n demo");
    const canI = await runProcess(
      ["--as", "nobody", "auth", "can-i", "list", "virtualmachineinstances.kubevirt.io", "-n", "demo"],
      {
        command: kubectl,
        env: s.env,
      },
    );
    expect(canI.stdout.trim()).toBe("no");
  });

  it("a user without the impersonate verb (--user sim-viewer --as sim-admin): both refused", async () => {
    const both = await versionBoth(setup([simConfig()]), ["--user", "sim-viewer", "--as", "sim-admin"]);
    expectBothFail(both);
    expect(errorLines(both.kvmig)[0]).toContain('User "sim-viewer" cannot impersonate resource "users"');
  });

  it("a kvmig hint repeats the connection flags, so that the printed command reaches the same cluster", async () => {
    const s = setup([simConfig()]);
    const ca = join(s.dir, "other-ca.pem");
    writeFileSync(ca, other.pki.caPem);
    const flags = ["--server", other.url, "--token", other.token("sim-admin"), "--certificate-authority", ca];
    const result = await runProcess(
      [distEntry, "migrate", "fedora-web", "-n", "demo", "--no-wait", ...flags],
      {
        env: s.env,
        timeoutMs: 30_000,
      },
    );
    expect(result.code).toBe(0);
    const follow = /follow it with: kvmig (.*)$/m.exec(result.stdout)?.[1] ?? "";
    expect(follow).toBe(`watch fedora-web -n demo ${flags.join(" ")}`);
  }, 40_000);

  it("help lists them with the global options", async () => {
    const result = await runProcess([distEntry, "--help"], { env: cliEnv(tempDir()) });
    for (const flag of [
      "-s, --server <url>",
      "--as <user>",
      "--as-group <group>",
      "--as-uid <uid>",
      "--cluster <name>",
      "--user <name>",
      "--token <token>",
      "--certificate-authority <path>",
      "--client-certificate <path>",
      "--client-key <path>",
      "--tls-server-name <name>",
    ]) {
      expect(result.stdout).toContain(flag);
    }
  });
});
