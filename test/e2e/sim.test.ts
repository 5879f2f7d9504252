// `kvmig sim` and `--sim` end to end: the built CLI serves the simulated cluster, writes a
// kubeconfig that kvmig and kubectl accept (TLS verified through its CA), stops cleanly with
// exit 0 on SIGINT or SIGTERM, and rejects bad flags with one line and a hint.
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { get as httpsGet } from "node:https";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { tempDir } from "../helpers/kubeconfig.js";
import { cliEnv, distEntry, ensureBuilt, lines, repoRoot, runKvmig } from "./built-cli.js";

beforeAll(ensureBuilt);

// A sim a failed test did not stop: stopped here, so that it cleans up and no server outlives the run.
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** A directory's entries, without the compile cache node keeps in TMPDIR. */
function entries(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name !== "node-compile-cache")
    .sort();
}

/** Runs `kvmig sim`, its temp directory the test's own (so its default kubeconfig lands there). */
function startSim(args: string[], home: string): Running {
  const child = spawn(process.execPath, [distEntry, "sim", ...args], {
    cwd: repoRoot,
    env: cliEnv(home, { TMPDIR: home }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits until the simulator printed its export line (the test's timeout bounds the wait). */
async function ready(sim: Running): Promise<string> {
  for (;;) {
    const match = /^export KUBECONFIG=(.+)$/m.exec(sim.stdout());
    if (match?.[1]) return match[1];
    if (sim.child.exitCode !== null) throw new Error(`kvmig sim exited: ${sim.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("kvmig sim", () => {
  it("prints the kubeconfig path and export line; kvmig reaches the cluster with it; SIGINT stops it with exit 0", async () => {
    const home = tempDir();
    const out = join(home, "kubeconfig");
    const sim = startSim(["--kubeconfig-out", out, "--seed", "42"], home);
    const path = await ready(sim);
    expect(path).toBe(out);
    expect(lines(sim.stdout())).toEqual([`kubeconfig: ${out}`, `export KUBECONFIG=${out}`]);
    expect(sim.stderr()).toMatch(
      /^kvmig sim serving https:\/\/127\.0\.0\.1:\d+ \(scenario default, seed 42, speed 1x\)$/m,
    );
    // The kubeconfig holds tokens: readable by its owner only.
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const config = parseYaml(readFileSync(out, "utf8")) as {
      "current-context": string;
      contexts: { name: string; context: { namespace: string } }[];
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    };
    expect(config["current-context"]).toBe("sim-admin");
    expect(config.contexts.map((c) => [c.name, c.context.namespace])).toEqual([
      ["sim-admin", "demo"],
      ["sim-viewer", "demo"],
    ]);
    expect(config.clusters[0]?.cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(config.clusters[0]?.cluster["certificate-authority-data"]).not.toBe("");

    const version = await runKvmig(["version", "-o", "json"], cliEnv(home, { KUBECONFIG: path }));
    expect(version.stderr).toBe("");
    expect(version.code).toBe(0);
    const report = JSON.parse(version.stdout) as {
      kubernetes: { gitVersion: string; context: string };
      kubevirt: { version: string; resource: { namespace: string; observedVersion: string } };
    };
    expect(report.kubernetes).toMatchObject({ gitVersion: "v1.32.3", context: "sim-admin" });
    expect(report.kubevirt).toMatchObject({
      version: "v1.9.0",
      resource: { namespace: "kubevirt", observedVersion: "v1.9.0" },
    });

    sim.child.kill("SIGINT");
    expect(await sim.exited).toBe(0);
    expect(sim.stderr()).toMatch(/kvmig sim: stopped\n$/);
    // It holds tokens, and kvmig created it: gone with the sim.
    expect(existsSync(out)).toBe(false);
  });

  it("SIGTERM stops it with exit 0 too; by default the kubeconfig goes to a new private directory in the temp directory, removed on stop", async () => {
    const home = tempDir();
    const sim = startSim(["--port", "0"], home);
    const path = await ready(sim);
    // mkdtemp's name: random, not the port or anything else another user could guess.
    expect(path).toMatch(
      new RegExp(`^${home.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")}/kvmig-sim-[A-Za-z0-9]{6}/kubeconfig$`),
    );
    expect(lstatSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    expect(entries(home)).toHaveLength(1);
    sim.child.kill("SIGTERM");
    expect(await sim.exited).toBe(0);
    expect(entries(home)).toEqual([]);
  });

  it("a second Ctrl-C (which leaves at once) removes the kubeconfig too", async () => {
    const home = tempDir();
    const sim = startSim(["--port", "0"], home);
    await ready(sim);
    sim.child.kill("SIGINT");
    sim.child.kill("SIGINT");
    expect([0, 130]).toContain(await sim.exited);
    expect(entries(home)).toEqual([]);
  });

  it("--force replaces an existing regular file (mode 0600), which stays after the sim stops, no temp file left", async () => {
    const home = tempDir();
    const out = join(home, "config");
    writeFileSync(out, "the user's contexts\n", { mode: 0o644 });
    const sim = startSim(["--kubeconfig-out", out, "--force"], home);
    expect(await ready(sim)).toBe(out);
    expect(readFileSync(out, "utf8")).toMatch(/current-context: sim-admin/);
    expect(lstatSync(out).mode & 0o777).toBe(0o600);
    sim.child.kill("SIGINT");
    expect(await sim.exited).toBe(0);
    expect(entries(home)).toEqual(["config"]);
  });

  describe("--kubeconfig-out it will not write: one line, a hint, exit 2, nothing touched", () => {
    async function refused(args: string[], home: string) {
      const result = await runKvmig(["sim", "--port", "0", ...args], cliEnv(home, { TMPDIR: home }));
      expect(result.stdout).toBe("");
      expect(result.code).toBe(2);
      return lines(result.stderr);
    }

    it("an existing file, without --force", async () => {
      const home = tempDir();
      const out = join(home, "config");
      writeFileSync(out, "the user's contexts\n");
      expect(await refused(["--kubeconfig-out", out], home)).toEqual([
        `error: --kubeconfig-out ${out} already exists`,
        "hint: add --force to replace it, or choose another --kubeconfig-out path",
      ]);
      expect(readFileSync(out, "utf8")).toBe("the user's contexts\n");
      expect(entries(home)).toEqual(["config"]);
    });

    it.each([[[]], [["--force"]]])("a symbolic link, to a file or dangling, even with %j", async (extra) => {
      const home = tempDir();
      writeFileSync(join(home, "real"), "the user's contexts\n");
      symlinkSync(join(home, "real"), join(home, "link"));
      symlinkSync(join(home, "victim"), join(home, "dangling"));
      for (const name of ["link", "dangling"]) {
        const out = join(home, name);
        expect(await refused(["--kubeconfig-out", out, ...extra], home)).toEqual([
          `error: --kubeconfig-out ${out} is a symbolic link; kvmig does not write through links`,
          "hint: choose another --kubeconfig-out path (--force does not apply to links)",
        ]);
      }
      expect(readFileSync(join(home, "real"), "utf8")).toBe("the user's contexts\n");
      expect(readlinkSync(join(home, "link"))).toBe(join(home, "real"));
      expect(entries(home)).toEqual(["dangling", "link", "real"]);
    });

    it.each([[[]], [["--force"]]])("a directory (not EISDIR), even with %j", async (extra) => {
      const home = tempDir();
      const dir = join(home, "sim");
      mkdirSync(dir);
      for (const given of [dir, `${join(home, "new")}/`]) {
        const path = given.replace(/\/$/, "");
        expect(await refused(["--kubeconfig-out", given, ...extra], home)).toEqual([
          `error: --kubeconfig-out ${path} is a directory`,
          `hint: name a file, for example --kubeconfig-out ${join(path, "kubeconfig")}`,
        ]);
      }
      expect(entries(home)).toEqual(["sim"]);
      expect(entries(dir)).toEqual([]);
    });

    it("a path whose parent directory is missing (no mkdir -p), or is a file", async () => {
      const home = tempDir();
      const out = join(home, "nope", "kubeconfig");
      expect(await refused(["--kubeconfig-out", out], home)).toEqual([
        `error: --kubeconfig-out ${out}: the directory ${join(home, "nope")} does not exist`,
        `hint: create it first (mkdir -p ${join(home, "nope")}), or choose another --kubeconfig-out path`,
      ]);
      writeFileSync(join(home, "file"), "");
      const under = join(home, "file", "kubeconfig");
      expect(await refused(["--kubeconfig-out", under], home)).toEqual([
        `error: --kubeconfig-out ${under}: ${join(home, "file")} is not a directory`,
        "hint: choose another --kubeconfig-out path",
      ]);
      expect(entries(home)).toEqual(["file"]);
    });
  });

  it("--list-scenarios lists each scenario on one line, from the scenario files shipped in dist/", async () => {
    const result = await runKvmig(["sim", "--list-scenarios"], cliEnv(tempDir()));
    expect(result.code).toBe(0);
    const listed = lines(result.stdout);
    expect(listed[0]).toMatch(/^default\s+three nodes; namespace demo/);
    expect(listed.map((line) => line.split(/\s+/)[0]).sort()).toEqual([
      "backoff-loop",
      "bridges",
      "connection-lost",
      "cpu-mismatch",
      "default",
      "history",
      "kind",
      "maintenance",
      "maintenance-full",
      "not-converging",
      "old-release",
      "queued",
      "scale",
      "unschedulable",
      "upgrade",
      "version-skew",
      "vif-cache",
    ]);
  });

  it("--scenario scale --vms N serves N VMIs", async () => {
    const home = tempDir();
    const sim = startSim(["--scenario", "scale", "--vms", "60", "--seed", "3"], home);
    const path = await ready(sim);
    const config = parseYaml(readFileSync(path, "utf8")) as {
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
      users: { name: string; user: { token: string } }[];
    };
    const cluster = config.clusters[0]?.cluster;
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsGet(
        `${cluster?.server}/apis/kubevirt.io/v1/virtualmachineinstances`,
        {
          ca: Buffer.from(cluster?.["certificate-authority-data"] ?? "", "base64"),
          headers: { Authorization: `Bearer ${config.users[0]?.user.token}` },
        },
        (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => {
            text += chunk.toString("utf8");
          });
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
    });
    const items = (JSON.parse(body) as { items: { metadata: { namespace: string } }[] }).items;
    expect(items).toHaveLength(60);
    expect(new Set(items.map((i) => i.metadata.namespace)).size).toBeGreaterThan(1);
    expect(sim.stderr()).toMatch(/\(scenario scale, seed 3, speed 1x\)/);
    sim.child.kill("SIGINT");
    expect(await sim.exited).toBe(0);
  });

  it.each([
    [["--port", "70000"], '--port must be an integer from 0 to 65535, not "70000"'],
    [["--speed", "fast"], '--speed must be a number from 0.01 to 1000, not "fast"'],
    [["--seed", "-1"], '--seed must be an integer from 0 to 2147483647, not "-1"'],
    [["--scenario", "nope"], 'unknown scenario "nope"'],
    [["--vms", "50"], "--vms applies to the scale scenario only"],
    [["--scenario", "scale", "--vms", "0"], '--vms must be an integer from 1 to 50000, not "0"'],
  ])("bad input %j: one line, a hint, exit 2", async (args, message) => {
    const result = await runKvmig(["sim", ...args], cliEnv(tempDir()));
    expect(result.code).toBe(2);
    const [first, hint, ...rest] = lines(result.stderr);
    expect(first).toBe(`error: ${message}`);
    expect(hint).toMatch(/^hint: /);
    expect(rest).toEqual([]);
    expect(result.stdout).toBe("");
  });

  it("a port already in use: a usage error naming the port", async () => {
    const home = tempDir();
    const first = startSim(["--port", "0"], home);
    const path = await ready(first);
    const server = (parseYaml(readFileSync(path, "utf8")) as { clusters: { cluster: { server: string } }[] })
      .clusters[0]?.cluster.server;
    const port = new URL(server ?? "").port;
    const second = await runKvmig(["sim", "--port", port], cliEnv(home));
    expect(second.code).toBe(2);
    expect(lines(second.stderr)).toEqual([
      `error: port ${port} on 127.0.0.1 is already in use`,
      "hint: choose another --port, or --port 0 for any free one",
    ]);
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
  });
});

describe("--sim", () => {
  it("runs one command against a fresh embedded cluster, then removes it", async () => {
    const result = await runKvmig(["version", "--sim", "-o", "json"], cliEnv(tempDir()));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      kubernetes: { server: string; context: string };
      kubevirt: { version: string };
    };
    expect(report.kubernetes.context).toBe("sim-admin");
    expect(report.kubernetes.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(report.kubevirt.version).toBe("v1.9.0");
  });

  it("--sim=SCENARIO picks the scenario; an unknown one is a usage error", async () => {
    const ok = await runKvmig(["--sim=default", "version"], cliEnv(tempDir()));
    expect(ok.code).toBe(0);
    const bad = await runKvmig(["version", "--sim=nope"], cliEnv(tempDir()));
    expect(bad.code).toBe(2);
    expect(lines(bad.stderr)[0]).toBe('error: unknown scenario "nope"');
  });

  it("a bare --sim takes no value: the word after it stays the command's argument", async () => {
    // fedora-web is the VM to watch (it has no migration: exit 5), not a scenario named fedora-web.
    const result = await runKvmig(["watch", "--sim", "fedora-web", "-n", "demo"], cliEnv(tempDir()));
    expect(result.code).toBe(5);
    expect(lines(result.stderr)[0]).toBe("error: no migration found for demo/fedora-web");
  });

  it.each([
    ["--kubeconfig", "/nonexistent"],
    ["--server", "https://127.0.0.1:1"],
    ["--as", "someone"],
  ])("cannot be combined with %s", async (flag, value) => {
    const result = await runKvmig(["version", "--sim", flag, value], cliEnv(tempDir()));
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      "error: --sim cannot be combined with --kubeconfig, --context or other connection flags",
      "hint: --sim brings its own cluster; leave out the other flags",
    ]);
  });
});
