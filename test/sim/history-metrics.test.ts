// The simulated Prometheus's migration history: KubeVirt's outcome and start/end series as spans,
// the range functions over a window, and the `history` scenario's seven migrations (five VMIMs
// kept, every series in Prometheus, no event older than an hour).
import { afterEach, describe, expect, it } from "vitest";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import type { MetricSeries } from "../../src/sim/objects/migration-metrics.js";
import { evaluate, parseQuery } from "../../src/sim/prometheus.js";
import { loadScenario } from "../../src/sim/scenario.js";

const at = Date.parse("2026-12-07T12:00:00Z");
const hour = 3_600_000;
const series: MetricSeries[] = [
  {
    name: "kubevirt_vmi_migration_succeeded",
    labels: { namespace: "finance", vmi: "ledger", vmim: "old" },
    value: 1,
    from: at - 100 * hour,
    to: at - 90 * hour,
  },
  {
    name: "kubevirt_vmi_migration_succeeded",
    labels: { namespace: "finance", vmi: "ledger", vmim: "recent" },
    value: 1,
    from: at - 10 * hour,
  },
  {
    name: "kubevirt_vmi_migration_failed",
    labels: { namespace: "finance", vmi: "ledger", vmim: "ancient" },
    value: 1,
    from: at - 300 * hour,
    to: at - 200 * hour,
  },
];

describe("the simulated Prometheus's range functions", () => {
  it("max_over_time(selector[range]): every series there at some time in the window, without its name", () => {
    const { result } = evaluate(
      'max_over_time(kubevirt_vmi_migration_succeeded{namespace="finance"}[7d])',
      [],
      at,
      series,
    );
    expect(result).toEqual([
      { metric: { namespace: "finance", vmi: "ledger", vmim: "old" }, value: [at / 1000, "1"] },
      { metric: { namespace: "finance", vmi: "ledger", vmim: "recent" }, value: [at / 1000, "1"] },
    ]);
    // A shorter window leaves out what ended before it; an instant selector sees only what is there now.
    expect(
      evaluate("max_over_time(kubevirt_vmi_migration_succeeded[2d])", [], at, series).result,
    ).toHaveLength(1);
    expect(evaluate("kubevirt_vmi_migration_succeeded", [], at, series).result).toEqual([
      {
        metric: {
          __name__: "kubevirt_vmi_migration_succeeded",
          namespace: "finance",
          vmi: "ledger",
          vmim: "recent",
        },
        value: [at / 1000, "1"],
      },
    ]);
  });

  it("reads durations as Prometheus writes them, and refuses other functions", () => {
    expect(parseQuery("last_over_time(up[1d12h])").rangeMs).toBe(36 * hour);
    expect(() => parseQuery("rate(up[5m])")).toThrow(/parse error/);
    expect(() => parseQuery("max_over_time(up[7x])")).toThrow(/bad duration/);
  });
});

describe("the history scenario", () => {
  let cluster: SimCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("keeps ledger's newest five VMIMs and no event older than an hour; its seed keeps the series of the other two", () => {
    const now = Date.now();
    const { data } = loadScenario("history", { seed: 3, now });
    const kinds = (kind: string) =>
      data.objects.filter((o) => o.kind === kind) as { metadata: { name: string } }[];
    expect(kinds("VirtualMachineInstanceMigration")).toHaveLength(5);
    for (const e of kinds("Event") as unknown as { lastTimestamp: string }[])
      expect(Date.parse(e.lastTimestamp)).toBeGreaterThanOrEqual(now - hour - 1000);
    const gone = new Set(
      (data.metrics ?? [])
        .filter(
          (s) => s.name === "kubevirt_vmi_migration_succeeded" || s.name === "kubevirt_vmi_migration_failed",
        )
        .map((s) => s.labels.vmim),
    );
    expect(gone.size).toBe(2);
    for (const m of kinds("VirtualMachineInstanceMigration")) expect(gone.has(m.metadata.name)).toBe(false);
  });

  it("its Prometheus answers history's queries for all seven migrations, two of them failed", async () => {
    cluster = await startSimCluster({ scenario: "history", seed: 3, prometheus: true, manualTime: true });
    const url = cluster.prometheus?.url as string;
    const query = async (q: string) => {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
      return ((await response.json()) as { data: { result: { metric: Record<string, string> }[] } }).data
        .result;
    };
    const succeeded = await query(
      'max_over_time(kubevirt_vmi_migration_succeeded{namespace="finance",vmi="ledger"}[604800s])',
    );
    const failed = await query(
      'max_over_time(kubevirt_vmi_migration_failed{namespace="finance",vmi="ledger"}[604800s])',
    );
    expect([succeeded.length, failed.length]).toEqual([5, 2]);
    const ends = await query(
      'max_over_time(kubevirt_vmi_migration_end_time_seconds{namespace="finance",name="ledger"}[7d])',
    );
    expect(ends.map((s) => s.metric.status).sort()).toEqual([
      "failed",
      "failed",
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    // The last move's end is reported now, from the node ledger runs on.
    const now = await query('kubevirt_vmi_migration_end_time_seconds{name="ledger"}');
    expect(now.map((s) => s.metric.node)).toEqual(["node-2"]);
  });
});
