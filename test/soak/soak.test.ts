// The soak's short version: scripts/soak.mjs as `npm run soak` runs it, on 100 VMs (10 outdated)
// for the simulated hour at 40x (about 90 s of wall time): the same timeline (the
// workload updates, one node's virt-handler restarting, a drain and uncordon, dropped watches,
// 503s, an outage), with the built CLI's `watch -A -o json` and `outdated -A --migrate` running
// through it, and the same checks. The whole hour, not a shorter one scaled: the memory check
// compares its first 10 minutes with its last 10, and in a 20-minute run those are the wave's
// warm-up against its end (watch's live heap grows about 1.4 MiB while the wave's migrations come,
// then stays flat for the 40 minutes after: 9.36 to 9.40 MiB).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliEnv, ensureBuilt, repoRoot, runProcess } from "../e2e/built-cli.js";
import { tempDir } from "../helpers/kubeconfig.js";

// biome-ignore lint/suspicious/noExplicitAny: the report is the script's JSON.
type Any = any;

describe("the soak, short", () => {
  it("an upgrade wave under API faults: every check of the hour holds", async () => {
    await ensureBuilt();
    const home = tempDir();
    const reportFile = join(home, "soak.json");
    const run = await runProcess(
      [
        join(repoRoot, "scripts", "soak.mjs"),
        ...["--vms", "100", "--minutes", "60", "--speed", "40", "--seed", "1", "--json", reportFile],
      ],
      { env: cliEnv(home), timeoutMs: 240_000 },
    );
    const report: Any = JSON.parse(readFileSync(reportFile, "utf8"));
    // Each check by name, with what it found when it fails.
    expect(report.checks.filter((c: Any) => !c.ok).map((c: Any) => `${c.name}: ${c.detail}`)).toEqual([]);
    expect(report.checks).toHaveLength(6);
    expect(run.code, run.stdout + run.stderr).toBe(0);

    // What ran: the wave and every fault, and kvmig saw it.
    expect(report.cluster).toEqual({ vms: 100, outdated: 10, nodes: 3 });
    expect(report.migrations.succeeded).toBeGreaterThanOrEqual(10);
    expect(report.migrations.byCreator["kubevirt-workload-update-"].made).toBeGreaterThan(0);
    expect(report.migrations.byCreator["kubevirt-evacuation-"].made).toBeGreaterThanOrEqual(report.drain.vms);
    expect(report.drain.refused).toBeGreaterThan(0);
    expect(report.handlerRestart.failed).toBeGreaterThan(0);
    expect(report.faults.watchesDropped).toBeGreaterThan(0);
    expect(report.faults.errors["503"]).toBeGreaterThan(0);
    expect(report.faults.outages).toBe(1);
    expect(report.watch.migrationsSeen).toBe(report.migrations.recorded);
    expect(run.stdout).toMatch(/^kvmig soak: 100 VMs \(10 outdated\) on 3 nodes/);
  }, 300_000);
});
