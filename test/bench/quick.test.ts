// The benchmark runner works: `node bench/run.mjs --quick` (one run of each case, a 500-VMI scale
// cluster, 20 migrations) exits 0 and writes its JSON with every case. No timing is checked here:
// the numbers come from `npm run bench` (docs/benchmarks.md).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliEnv, ensureBuilt, repoRoot, runProcess } from "../e2e/built-cli.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl } from "../helpers/kubectl.js";

beforeAll(ensureBuilt, 120_000);

// biome-ignore lint/suspicious/noExplicitAny: the report is plain JSON.
type Any = any;

describe("npm run bench -- --quick", () => {
  it("runs every case once and writes benchmarks.json and benchmarks.md", async () => {
    const out = tempDir();
    const kubectl = findKubectl();
    const env = cliEnv(tempDir(), kubectl ? { KUBECTL: kubectl } : {});
    const result = await runProcess([join(repoRoot, "bench", "run.mjs"), "--quick", "--out", out], {
      env,
      timeoutMs: 110_000,
    });
    expect(result.stderr).not.toMatch(/FAILED/);
    expect(result.code).toBe(0);

    const report = JSON.parse(readFileSync(join(out, "benchmarks.json"), "utf8"));
    expect(report.meta).toMatchObject({ quick: true, node: process.version, sizes: [500], migrations: 20 });
    const cases = Object.fromEntries(
      report.groups.flatMap((g: Any) => g.cases.map((c: Any) => [c.id, { group: g.id, ...c }])),
    );
    expect(report.groups.map((g: Any) => g.id)).toEqual([
      "startup",
      "sim-startup",
      "version",
      "cluster",
      "scale",
      "sim-latency",
      "watch",
      "sim-wave",
      "diagnose",
      "diagnose-from",
      "sim",
    ]);
    expect(Object.keys(cases).sort()).toEqual(
      [
        "help",
        "help-sea",
        "version-flag",
        "version",
        "version-sea",
        "diagnose-healthy",
        "diagnose-healthy-sea",
        "complete-vm",
        "complete-vm-sea",
        "migrate-dry-run",
        "migrate-dry-run-sea",
        "sim-scale-500",
        "sim-latency-2000",
        "sim-wave-500",
        "outdated-500",
        "check-500",
        "watch",
        "diagnose",
        "diagnose-from",
        "sim-default-startup",
        "sim-migration-4gi",
        "version-sim",
        "version-running-sim",
        "version-sim-added",
        "sim-kubeconfig-line",
      ].sort(),
    );
    // Every client case measured kvmig (and kubectl, when there is one); the outputs were checked.
    for (const id of [
      "help",
      "version-flag",
      "version",
      "version-sea",
      "diagnose-healthy",
      "diagnose-healthy-sea",
      "complete-vm",
      "complete-vm-sea",
      "migrate-dry-run",
      "migrate-dry-run-sea",
      "outdated-500",
      "check-500",
      "diagnose",
    ]) {
      expect(cases[id].kvmig.wallMs, id).toBeGreaterThan(0);
      if (kubectl) expect(cases[id].kubectl.wallMs, id).toBeGreaterThan(0);
    }
    expect(cases["outdated-500"].kvmig.check).toEqual({ items: 50 });
    expect(cases["check-500"].kvmig.check).toEqual({ items: 50 });
    if (kubectl) expect(cases["check-500"].kubectl.check).toEqual({ items: 500 });
    expect(cases.watch.kvmig.events).toBeGreaterThanOrEqual(20);
    expect(cases.diagnose.kvmig.requests).toBeGreaterThan(0);
    // Issue 26's rows carry their target, measured.
    for (const id of ["version", "diagnose-healthy", "complete-vm", "migrate-dry-run"]) {
      expect(
        cases[id].targets.map((t: Any) => t.text),
        id,
      ).toEqual(["wall ≤ 1.0×"]);
      if (kubectl) expect(cases[id].targets[0].measured, id).toBeGreaterThan(0);
    }
    // The must-gather case read its (smaller, --quick) tree and found the buried abort.
    expect(cases["diagnose-from"].kvmig.wallMs).toBeGreaterThan(0);
    expect(cases["diagnose-from"].treeBytes).toBeGreaterThan(50 * 1024 * 1024);
    expect(cases["sim-migration-4gi"].phase).toBe("Succeeded");
    // --sim start-up: the command with the cluster in its own process, and without; kvmig sim's line.
    for (const id of ["version-sim", "version-running-sim"]) {
      expect(cases[id].kvmig.wallMs, id).toBeGreaterThan(0);
      expect(cases[id].kvmig.check, id).toEqual({ contains: "KubeVirt:" });
    }
    expect(cases["sim-kubeconfig-line"].wallMs).toBeGreaterThan(0);
    expect(cases["sim-kubeconfig-line"].cpuMs).toBeGreaterThan(0);
    // The latency case polled a small list on a live 2,000-VM cluster, every answer a 200.
    expect(cases["sim-latency-2000"].latency.requests).toBeGreaterThan(10);
    expect(cases["sim-latency-2000"].latency.failures).toBe(0);
    expect(cases["sim-latency-2000"].migrations).toBe(4);
    // The upgrade wave migrated VMs while both watchers watched; kvmig missed nothing kubectl saw.
    expect(cases["sim-wave-500"].migrations).toBeGreaterThan(1);
    expect(cases["sim-wave-500"].kvmig.events).toBeGreaterThan(0);
    if (kubectl) expect(cases["sim-wave-500"].missed).toBe(0);
    expect(readFileSync(join(out, "benchmarks.md"), "utf8")).toMatch(/^# Benchmarks\n/);
  }, 120_000);
});
