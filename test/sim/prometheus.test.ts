// The simulated Prometheus: the selector subset it understands, and its answers over HTTP.
import { describe, expect, it } from "vitest";
import { evaluate, type MigrationStat, parseSelector, startPrometheus } from "../../src/sim/prometheus.js";

const stat: MigrationStat = {
  namespace: "demo",
  name: "fedora-web",
  node: "node-1",
  totalBytes: 4 * 1024 ** 3,
  remainingBytes: 1024 ** 3,
  processedBytes: 3 * 1024 ** 3,
  dirtyRateBytes: 40 * 1024 ** 2,
  transferRateBytes: 375_000_000,
};
const other: MigrationStat = { ...stat, namespace: "prod", name: "orders-db", node: "node-2" };

describe("parseSelector", () => {
  it("reads a metric name and every matcher kind, with escaped quotes", () => {
    expect(
      parseSelector(
        'kubevirt_vmi_migration_data_remaining_bytes{namespace="demo",name!="x",node=~"node-.*",a!~"b\\"c"}',
      ),
    ).toEqual([
      { label: "__name__", op: "=", value: "kubevirt_vmi_migration_data_remaining_bytes" },
      { label: "namespace", op: "=", value: "demo" },
      { label: "name", op: "!=", value: "x" },
      { label: "node", op: "=~", value: "node-.*" },
      { label: "a", op: "!~", value: 'b"c' },
    ]);
  });

  it.each(["", "{}", "up{", 'up{a="b"', "rate(up[5m])", "up{a=b}", "up or down"])(
    "refuses %j as Prometheus does (bad_data)",
    (query) => {
      expect(() => parseSelector(query)).toThrow(/parse error|at least one non-empty matcher/);
    },
  );
});

describe("evaluate", () => {
  it("selects the series of one VMI by the name regex kvmig sends, with values in bytes", () => {
    const { result } = evaluate(
      '{__name__=~"kubevirt_vmi_migration_(data_bytes_total|data_remaining_bytes)",namespace="demo",name="fedora-web"}',
      [stat, other],
      Date.parse("2026-11-25T12:00:00Z"),
    );
    expect(result).toEqual([
      {
        metric: {
          __name__: "kubevirt_vmi_migration_data_bytes_total",
          namespace: "demo",
          name: "fedora-web",
          node: "node-1",
        },
        value: [Date.parse("2026-11-25T12:00:00Z") / 1000, String(4 * 1024 ** 3)],
      },
      {
        metric: {
          __name__: "kubevirt_vmi_migration_data_remaining_bytes",
          namespace: "demo",
          name: "fedora-web",
          node: "node-1",
        },
        value: [Date.parse("2026-11-25T12:00:00Z") / 1000, String(1024 ** 3)],
      },
    ]);
  });

  it("a plain metric name gives one series per migration; no migration, no series", () => {
    expect(
      evaluate("kubevirt_vmi_migration_dirty_memory_rate_bytes", [stat, other], 0).result.map(
        (r) => r.metric.name,
      ),
    ).toEqual(["fedora-web", "orders-db"]);
    expect(evaluate("kubevirt_vmi_migration_dirty_memory_rate_bytes", [], 0).result).toEqual([]);
  });
});

describe("over HTTP", () => {
  it("answers /api/v1/query, counts queries, and gives 400 bad_data and 404 as Prometheus does", async () => {
    const prometheus = await startPrometheus(
      () => [stat],
      () => 0,
    );
    try {
      expect(prometheus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const ok = await fetch(
        `${prometheus.url}/api/v1/query?query=${encodeURIComponent("kubevirt_vmi_migration_data_remaining_bytes")}`,
      );
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({
        status: "success",
        data: {
          resultType: "vector",
          result: [
            {
              metric: {
                __name__: "kubevirt_vmi_migration_data_remaining_bytes",
                namespace: "demo",
                name: "fedora-web",
                node: "node-1",
              },
              value: [0, String(1024 ** 3)],
            },
          ],
        },
      });
      const bad = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent("up{")}`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ status: "error", errorType: "bad_data" });
      const missing = await fetch(`${prometheus.url}/api/v1/labels`);
      expect(missing.status).toBe(404);
      expect(prometheus.queries).toBe(2);
    } finally {
      await prometheus.close();
    }
  });
});
