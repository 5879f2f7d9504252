// kvmig as a kubectl plugin, run by the real kubectl: a kubectl-kvmig symlink to the built CLI on
// PATH makes `kubectl kvmig ...` work, and help, usage and hints then say `kubectl kvmig`. The
// migration runs on the embedded simulated cluster (--sim, loopback only).
import { existsSync, realpathSync, symlinkSync } from "node:fs";
import { delimiter, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/kubeconfig.js";
import { distEntry, ensureBuilt, lines, nodeDir, type RunResult, runProcess } from "./built-cli.js";

/** kubectl from PATH, else the usual install location. */
function findKubectl(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/bin", "/usr/bin"];
  for (const dir of dirs) {
    if (dir !== "" && existsSync(join(dir, "kubectl"))) return join(dir, "kubectl");
  }
  return undefined;
}

const kubectl = findKubectl();
if (!kubectl)
  console.warn("skipping the kubectl plugin tests: no kubectl on PATH, /usr/local/bin or /usr/bin");

const bin = tempDir("kvmig-plugin-bin-");
const home = tempDir("kvmig-plugin-home-");
// Only the plugin dir, node (for the bundle's shebang) and the system dirs: no other kvmig on PATH.
const env = { PATH: [bin, nodeDir, "/usr/bin", "/bin"].join(delimiter), HOME: home, NO_COLOR: "1" };

function run(args: string[], timeoutMs = 20_000): Promise<RunResult> {
  return runProcess(args, { command: kubectl as string, env, timeoutMs });
}

beforeAll(async () => {
  await ensureBuilt();
  symlinkSync(distEntry, join(bin, "kubectl-kvmig"));
}, 120_000);

describe.skipIf(!kubectl)("kubectl kvmig (the real kubectl, kubectl-kvmig on PATH)", () => {
  it("kubectl plugin list finds it", async () => {
    const result = await run(["plugin", "list"]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toContain(join(bin, "kubectl-kvmig"));
    // A plugin that kubectl would shadow or that is not executable gets a warning here.
    expect(result.stderr).not.toMatch(/warning/i);
  });

  it("kubectl kvmig migrate fedora-web -n demo --sim migrates the VM to the end", async () => {
    const result = await run(["kvmig", "migrate", "fedora-web", "-n", "demo", "--sim"], 90_000);
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.code).toBe(0);
    const err = lines(result.stderr);
    expect(err[0]).toMatch(
      /^pre-flight demo\/fedora-web on context sim-admin \(https:\/\/127\.0\.0\.1:\d+\)$/,
    );
    expect(err).toContain("  ok       allowed to update virtualmachines/migrate");
    expect(err.at(-1)).toBe("  Succeeded");
    expect(lines(result.stdout)[0]).toMatch(/^Succeeded {2}demo\/fedora-web moved node-1 → node-[23]$/);
  }, 100_000);

  it("kubectl kvmig --help: usage and examples say kubectl kvmig", async () => {
    const result = await run(["kvmig", "--help"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = lines(result.stdout);
    expect(out[0]).toBe("Usage: kubectl kvmig [options] [command]");
    expectExamplesSayKubectlKvmig(out);
  });

  it("kubectl kvmig migrate --help: usage and examples say kubectl kvmig", async () => {
    const result = await run(["kvmig", "migrate", "--help"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = lines(result.stdout);
    expect(out[0]).toBe("Usage: kubectl kvmig migrate [options] [vm]");
    expect(out).toContain("  kubectl kvmig migrate fedora-web -n demo --sim");
    expectExamplesSayKubectlKvmig(out);
  });

  it("a usage error is exit 2 with a hint that says kubectl kvmig", async () => {
    const result = await run(["kvmig", "migrate", "fedora-web", "--no-such-flag"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toEqual([
      "error: unknown option '--no-such-flag'",
      "hint: see kubectl kvmig migrate --help",
    ]);
  });

  it("kubectl kvmig --version is kvmig's version, and the symlink is what kubectl ran", async () => {
    const result = await run(["kvmig", "--version"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(realpathSync(join(bin, "kubectl-kvmig"))).toBe(realpathSync(distEntry));
  });
});

/** Every command line in the Examples block starts with `kubectl kvmig`. */
function expectExamplesSayKubectlKvmig(out: string[]): void {
  const start = out.indexOf("Examples:");
  expect(start).toBeGreaterThan(0);
  const commands = out.slice(start + 1).filter((l) => l.startsWith("  ") && !l.startsWith("  #"));
  expect(commands.length).toBeGreaterThan(0);
  for (const line of commands) expect(line).toMatch(/^ {2}kubectl kvmig /);
}
