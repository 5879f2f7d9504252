// The per-node limit end to end (issue 21 item 1): two migrations leaving node-1 with
// parallelOutboundMigrationsPerNode 1 (the queued scenario). A running VMIM does not say where it
// leaves from (its status.migrationState holds only sourcePod until it is final), so kvmig counts
// from the running migrations' VMIs, as virt-controller does: migrate's pre-flight, follow's "why
// Pending" and diagnose all name the per-node limit. kvmig used to read the VMIM's sourceNode, which
// a real cluster never fills for a running migration, and counted 0 outbound.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DiagnoseReport } from "../../src/diagnose/engine.js";
import { ensureBuilt, lines } from "./built-cli.js";
import { type SimCli, simCli, until } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("two migrations from one node, one outbound slot per node", () => {
  it("pre-flight, follow and diagnose name the per-node limit, with the counts", async () => {
    // Limits: 2 in the cluster, 1 outbound per node; an 8 GiB worker takes half a minute.
    sim = await simCli({ speed: 1, scenario: "queued" });
    const cli = sim;
    const first = await cli.run(["migrate", "worker-1", "-n", "batch", "--no-wait"]);
    expect(first.code).toBe(0);
    const [running] = cli.migrations("batch", "worker-1");
    await until(() => !["", "Pending"].includes(running.status?.phase ?? ""));
    // What a real cluster shows of it while it runs: the source pod, no source node.
    const runningState = cli.migrations("batch", "worker-1")[0].status.migrationState;
    expect(Object.keys(runningState)).toEqual(["sourcePod"]);

    const result = await cli.run(["migrate", "worker-2", "-n", "batch", "--timeout", "8s"]);
    expect(result.code).toBe(6);
    const stderr = lines(result.stderr);
    expect(stderr).toContain(
      "  warning  the migration will queue: 1 of 2 in the cluster, 1 of 1 from node-1",
    );
    expect(stderr).toContain(
      "  waiting   queued: 1 of 1 outbound migrations from node-1 in use (parallelOutboundMigrationsPerNode)",
    );
    const [queued] = cli.migrations("batch", "worker-2");
    expect(queued.status.phase).toBe("Pending");

    // Queued for longer than the few seconds virt-controller takes to start a migration.
    const since = Date.parse(queued.metadata.creationTimestamp);
    await until(() => cli.cluster.time.now() - since > 11_000);
    const diagnosed = await cli.run(["diagnose", "worker-2", "-n", "batch", "-o", "json"]);
    const report = JSON.parse(diagnosed.stdout) as DiagnoseReport;
    const finding = report.findings.find((f) => f.id === "migration-queued");
    expect(finding?.confidence).toBe("high");
    expect(finding?.summary).toContain("the source node node-1 already has 1 outbound migrations (limit 1)");
    expect(finding?.fix.commands.join("\n")).toContain('"parallelOutboundMigrationsPerNode":2');
    expect(cli.migrations("batch", "worker-1")[0].status.phase).not.toBe("Failed");
  }, 60_000);
});
