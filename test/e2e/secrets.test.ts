// No credential ever leaves kvmig: every command, run with -v against the simulated cluster,
// and the failures (a refused token, a dump of the evidence), are searched for the cluster's
// bearer tokens and for Authorization headers. And the simulated cluster listens on loopback only.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { tempDir } from "../helpers/kubeconfig.js";
import { cliEnv, runKvmig } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

let sim: SimCli;
let upgrade: SimCli;
beforeAll(async () => {
  [sim, upgrade] = await Promise.all([simCli({ speed: 20 }), simCli({ scenario: "upgrade", speed: 20 })]);
}, 30_000);
afterAll(async () => {
  await Promise.all([sim?.close(), upgrade?.close()]);
});

function secretsOf(cluster: SimCli): string[] {
  return [cluster.cluster.token("sim-admin"), cluster.cluster.token("sim-viewer")];
}

/** Every file under `dir`, with its text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [{ path, text: readFileSync(path, "utf8") }];
  });
}

function expectNoSecret(text: string, secrets: readonly string[], where: string) {
  expect(secrets.every((s) => s.length >= 16)).toBe(true);
  for (const secret of secrets) {
    expect(text.includes(secret), `${where} contains a token`).toBe(false);
    // Not even a recognisable piece of one.
    expect(text.includes(secret.slice(0, 12)), `${where} contains part of a token`).toBe(false);
  }
  expect(text, where).not.toMatch(/authorization:|bearer [a-z0-9_-]{8,}/i);
  expect(text, where).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
}

describe("no token, key or Authorization header in any output", () => {
  it("every command with -v: stdout, stderr and the -v request log", async () => {
    const dump = tempDir("kvmig-dump-");
    const runs: [SimCli, string[], number[]][] = [
      [sim, ["version", "-v"], [0]],
      [sim, ["version", "-v", "-o", "json"], [0]],
      [sim, ["migrate", "cirros-test", "-n", "demo", "-v"], [0]],
      [sim, ["migrate", "fedora-web", "-n", "demo", "-v", "--dry-run"], [0]],
      [sim, ["watch", "cirros-test", "-n", "demo", "-v"], [0]],
      [sim, ["watch", "-A", "--exit-on-done", "-v", "-o", "json"], [0]],
      [sim, ["cancel", "fedora-web", "-n", "demo", "-v"], [0]],
      [sim, ["restart", "cirros-test", "-n", "demo", "--yes", "-v"], [0]],
      [sim, ["diagnose", "fedora-web", "-n", "demo", "-v", "--dump", dump], [0]],
      [sim, ["diagnose", "--from", dump, "-v"], [0]],
      [sim, ["migrate", "no-such-vm", "-n", "demo", "-v"], [5]],
      [sim, ["help", "environment", "-v"], [0]],
      [upgrade, ["outdated", "-A", "-v"], [0]],
      [upgrade, ["outdated", "-A", "--check", "-o", "yaml", "-v"], [0]],
      [upgrade, ["outdated", "-A", "--migrate", "--restart", "--yes", "--concurrency", "3", "-v"], [0]],
    ];
    for (const [cluster, args, codes] of runs) {
      const result = await cluster.run(args, 90_000);
      expect(codes, `${args.join(" ")}: ${result.stderr}`).toContain(result.code);
      // -v really logged requests, so the check below looked at the request log.
      if (!args.includes("help") && !args.includes("--from"))
        expect(result.stderr, args.join(" ")).toMatch(/^(GET|POST|PUT|PATCH|DELETE) \//m);
      expectNoSecret(`${result.stdout}\n${result.stderr}`, secretsOf(cluster), args.join(" "));
    }
    const files = filesUnder(dump);
    expect(files.length).toBeGreaterThan(3);
    for (const { path, text } of files) expectNoSecret(text, secretsOf(sim), path);
  }, 240_000);

  it("a refused token: the 401 error, its hint and the -v log name the context, not the token", async () => {
    const config = YAML.parse(sim.cluster.kubeconfig());
    const wrong = "wrongtoken-0123456789abcdefghijklmnop";
    for (const user of config.users) user.user.token = wrong;
    const home = tempDir();
    const path = join(home, "kubeconfig");
    (await import("node:fs")).writeFileSync(path, YAML.stringify(config), { mode: 0o600 });
    const result = await runKvmig(
      ["migrate", "fedora-web", "-n", "demo", "-v"],
      cliEnv(home, { KUBECONFIG: path }),
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('did not accept the credentials of context "sim-admin"');
    expectNoSecret(`${result.stdout}\n${result.stderr}`, [wrong, ...secretsOf(sim)], "401 run");
  });

  it("an unexpected error's stack trace (-v) carries no token either", async () => {
    // A watch stream cut by a closed cluster mid-run is the closest to an unexpected failure.
    const result = await sim.run(["version", "-v", "--request-timeout", "1ms"]);
    expectNoSecret(`${result.stdout}\n${result.stderr}`, secretsOf(sim), "timeout run");
  });
});

describe("the simulated cluster listens on loopback only", () => {
  it("its URL and its kubeconfig name 127.0.0.1", () => {
    expect(new URL(sim.cluster.url).hostname).toBe("127.0.0.1");
    const config = YAML.parse(sim.cluster.kubeconfig());
    for (const cluster of config.clusters) expect(new URL(cluster.cluster.server).hostname).toBe("127.0.0.1");
  });

  it("kvmig sim binds 127.0.0.1 (not every interface), even with --port", async () => {
    const { spawn } = await import("node:child_process");
    const { distEntry } = await import("./built-cli.js");
    const home = tempDir();
    const out = join(home, "kubeconfig");
    const child = spawn(process.execPath, [distEntry, "sim", "--port", "0", "--kubeconfig-out", out], {
      env: cliEnv(home),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let text = "";
      child.stdout.on("data", (chunk) => {
        text += String(chunk);
      });
      child.stderr.on("data", (chunk) => {
        text += String(chunk);
      });
      const deadline = Date.now() + 20_000;
      while (!/export KUBECONFIG=/.test(text) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const server = /https:\/\/([\d.]+):(\d+)/.exec(text);
      expect(server?.[1]).toBe("127.0.0.1");
      // What the kernel says the process listens on: only loopback addresses.
      const port = server?.[2] ?? "";
      const listening = readFileSync("/proc/net/tcp", "utf8")
        .split("\n")
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        .filter(
          (f) =>
            f[3] === "0A" && f[1]?.endsWith(`:${Number(port).toString(16).toUpperCase().padStart(4, "0")}`),
        )
        .map((f) => f[1]?.split(":")[0]);
      expect(listening.length).toBeGreaterThan(0);
      // 0100007F is 127.0.0.1 in /proc/net/tcp's little-endian hex; 00000000 would be every interface.
      for (const address of listening) expect(address).toBe("0100007F");
    } finally {
      child.kill("SIGTERM");
    }
  }, 30_000);
});
