// kvmig migrate end to end on the failure scenarios: queued behind the parallel limits, a target
// that cannot be scheduled, a guest that never converges, and a launcher version skew.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, lines } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The checks every failed migration ends with: the reason on stdout, the error and the diagnose hint. */
function expectFailure(
  result: { code: number | null; stdout: string; stderr: string },
  migration: string,
  where: { vm: string; namespace: string; source: string },
  reason: string,
): void {
  expect(result.code).toBe(3);
  const stdout = lines(result.stdout);
  expect(stdout[0]).toMatch(
    new RegExp(
      `^Failed {2}(migration ${migration}: )?${where.namespace}/${where.vm} stays on ${where.source}$`,
    ),
  );
  expect(stdout).toContain(`  reason     ${reason}`);
  const stderr = lines(result.stderr);
  expect(stderr.slice(-2)).toEqual([
    `error: migration ${migration} failed: ${reason}`,
    `hint: find out why with: kvmig diagnose ${where.vm} -n ${where.namespace}`,
  ]);
  expect(stderr).toContain("  Failed");
}

describe("kvmig migrate on the failure scenarios", () => {
  it("queued: says why it waits, with the counts, and exits 6 at the --timeout; the migration goes on", async () => {
    // Limits: 2 migrations in the cluster, 1 outbound per node; an 8 GiB worker takes half a minute.
    sim = await simCli({ speed: 1, scenario: "queued" });
    for (const vm of ["worker-1", "worker-4"]) {
      const started = await sim.run(["migrate", vm, "-n", "batch", "--no-wait"]);
      expect(started.code).toBe(0);
    }
    const result = await sim.run(["migrate", "worker-7", "-n", "batch", "--timeout", "8s"]);
    expect(result.code).toBe(6);
    const [m] = sim.migrations("batch", "worker-7");
    const name = m.metadata.name;
    const stderr = lines(result.stderr);
    // The pre-flight warned before starting it.
    expect(stderr).toContain(
      "  warning  the migration will queue: 2 of 2 in the cluster, 0 of 1 from node-3",
    );
    expect(stderr).toContain(`migration ${name} started for batch/worker-7 on node-3`);
    expect(stderr).toContain(
      "  waiting   queued: 2 of 2 cluster-wide migration slots in use (parallelMigrationsPerCluster)",
    );
    expect(stderr.slice(-2)).toEqual([
      `error: migration ${name} is still Pending after the --timeout; it goes on`,
      "hint: follow it with: kvmig watch worker-7 -n batch; cancel it with: kvmig cancel worker-7 -n batch",
    ]);
    expect(lines(result.stdout)[0]).toMatch(
      new RegExp(`^Pending {2}(migration ${name}: )?batch/worker-7 from node-3 \\(still in progress\\)$`),
    );
    expect(sim.migrations("batch", "worker-7")[0].status.phase).toBe("Pending");
  }, 30_000);

  it("unschedulable: shows the scheduler's message while it waits, then fails at KubeVirt's 300 s timeout (exit 3)", async () => {
    // 300 simulated seconds in 10 s of wall time; the "why Pending" look starts after 3 s.
    sim = await simCli({ speed: 30, scenario: "unschedulable" });
    // pinned-app already failed this way two hours ago (the scenario's history).
    const before = sim.migrations("apps", "pinned-app").map((x) => x.metadata.uid);
    expect(before).toHaveLength(1);
    // The pre-flight knows no node can take it (migrate-placement.test.ts); --force lets
    // KubeVirt try, to show how a real migration of it ends.
    const result = await sim.run(["migrate", "pinned-app", "-n", "apps", "--force"], 40_000);
    const created = sim.migrations("apps", "pinned-app").filter((x) => !before.includes(x.metadata.uid));
    expect(created).toHaveLength(1);
    expect(created[0].status.phase).toBe("Failed");
    const name = created[0].metadata.name as string;
    const waiting = lines(result.stderr).filter((l) => l.startsWith("  waiting   "));
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting[0]).toMatch(
      new RegExp(
        `^ {2}waiting {3}target pod virt-launcher-pinned-app-\\w+ is unschedulable: 0/3 nodes are available: ${escapeRegExp(
          "1 node(s) didn't match pod anti-affinity rules, 2 node(s) didn't match Pod's node affinity/selector.",
        )} .*; KubeVirt gives up on it in \\S+ \\(300s timeout\\)$`,
      ),
    );
    expectFailure(
      result,
      name,
      { vm: "pinned-app", namespace: "apps", source: "node-1" },
      "Migration target pod was removed during active migration.",
    );
    expect(sim.vmi("apps", "pinned-app").status.nodeName).toBe("node-1");
  }, 40_000);

  it("not-converging: virt-launcher aborts it at the completion timeout; the reason and the launcher's line are in the summary (exit 3)", async () => {
    // About 1360 simulated seconds (the completion timeout: 150 s × 9 units of 10^9 bytes), 14 s of wall time.
    sim = await simCli({ speed: 100, scenario: "not-converging" });
    const before = sim.migrations("data", "busy-db").map((x) => x.metadata.uid);
    const result = await sim.run(["migrate", "busy-db", "-n", "data"], 40_000);
    const created = sim.migrations("data", "busy-db").filter((x) => !before.includes(x.metadata.uid));
    expect(created).toHaveLength(1);
    const name = created[0].metadata.name as string;
    expectFailure(
      result,
      name,
      { vm: "busy-db", namespace: "data", source: "node-1" },
      "Live migration has been aborted",
    );
    expect(lines(result.stdout)).toContainEqual(
      "  launcher   Aborting migration: not completed after 1350 seconds",
    );
    expect(lines(result.stdout)).toContain("  abort      Succeeded");
    expect(result.stdout).toContain("[not-converging]");
    expect(sim.vmi("data", "busy-db").status.nodeName).toBe("node-1");
  }, 40_000);

  it("old-release (KubeVirt v1.1.1): the launcher's 64-times-too-small rates shown as the ranges they stand for", async () => {
    // ledger: 4 GiB over a 64 MiB/s cap, about a minute simulated.
    sim = await simCli({ speed: 5, scenario: "old-release" });
    const result = await sim.run(["migrate", "ledger", "-n", "finance"], 60_000);
    expect(result.code).toBe(0);
    const progress = lines(result.stderr).filter((l) => l.startsWith("  progress  "));
    expect(progress.length).toBeGreaterThan(0);
    // 64 MiB/s is logged as 7 or 8 "Mbps" (bytes/s ÷ 8 ÷ 10^6): each is a step of 8 MB/s.
    for (const line of progress)
      expect(line).toMatch(/ · (53\.4–61\.0|61\.0–68\.7) MiB\/s · dirty (15\.3–22\.9|22\.9–30\.5) MiB\/s · /);
    // The progress lines' rates (the pre-flight's forecast may say the guest's dirty rate is unknown).
    expect(progress.join("\n")).not.toContain("rate unknown");
  }, 60_000);

  it("old-release (KubeVirt v1.1.1): reports' abort names its cause in the reason, as before v1.9 (exit 3)", async () => {
    // reports dirties 120 MiB/s over the 64 MiB/s cap: 750 s (5 units × 150 s) simulated.
    sim = await simCli({ speed: 100, scenario: "old-release" });
    const before = sim.migrations("finance", "reports").map((x) => x.metadata.uid);
    const result = await sim.run(["migrate", "reports", "-n", "finance"], 40_000);
    const [m] = sim.migrations("finance", "reports").filter((x) => !before.includes(x.metadata.uid));
    expectFailure(
      result,
      m.metadata.name,
      { vm: "reports", namespace: "finance", source: "node-2" },
      "Live migration is not completed after 750 seconds and has been aborted",
    );
    expect(result.stdout).toContain("[not-converging]");
  }, 40_000);

  it("version-skew: a VM on the old launcher fails with 'client socket is closed' (exit 3)", async () => {
    sim = await simCli({ speed: 10, scenario: "version-skew" });
    const result = await sim.run(["migrate", "api-gateway", "-n", "prod"]);
    const [m] = sim.migrations("prod", "api-gateway");
    expect(result.stderr).toContain(
      "  warning  outdated virt-launcher quay.io/kubevirt/virt-launcher:v1.8.2 (current quay.io/kubevirt/virt-launcher:v1.9.0): version-skew risk",
    );
    expectFailure(
      result,
      m.metadata.name,
      { vm: "api-gateway", namespace: "prod", source: "node-2" },
      "virError(Code=1, Domain=10, Message='internal error: client socket is closed')",
    );
    expect(result.stdout).toContain("[version-skew]");
    expect(sim.vmi("prod", "api-gateway").status.nodeName).toBe("node-2");
  }, 30_000);

  it("version-skew with -o json: phase Failed and the failureReason, exit 3", async () => {
    sim = await simCli({ speed: 10, scenario: "version-skew" });
    const result = await sim.run(["migrate", "api-gateway", "-n", "prod", "-o", "json"]);
    expect(result.code).toBe(3);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({
      vm: "api-gateway",
      namespace: "prod",
      migration: sim.migrations("prod", "api-gateway")[0].metadata.name,
      phase: "Failed",
      sourceNode: "node-2",
      failureReason: "virError(Code=1, Domain=10, Message='internal error: client socket is closed')",
    });
    expect(out.timeline.at(-1).phase).toBe("Failed");
    // Only the error and its hint on stderr.
    expect(lines(result.stderr)).toEqual([
      `error: migration ${out.migration} failed: ${out.failureReason}`,
      "hint: find out why with: kvmig diagnose api-gateway -n prod",
    ]);
  }, 30_000);
});
