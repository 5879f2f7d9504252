// The simulated cluster's Prometheus: the migration gauges virt-handler exports
// (kubevirt_vmi_migration_*, facts §k) and its guest dirty-rate gauge (objects/guest-metrics.ts),
// and the migration series virt-controller exports (objects/migration-metrics.ts) as a Prometheus
// kept them, answered through Prometheus's instant-query API on a plain-HTTP loopback port, as a
// Prometheus next to the cluster would.
// Only the forms kvmig and a person at a prompt use are understood: a selector, a metric name
// (or `__name__=~"re"`) with `=`, `!=`, `=~` and `!~` label matchers, alone or as
// `max_over_time`, `min_over_time` or `last_over_time` of `selector[range]` (which, as in
// Prometheus, drop the metric name); anything else is Prometheus's 400 bad_data.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MetricSeries } from "./objects/migration-metrics.js";

export interface MigrationStat {
  namespace: string;
  name: string;
  node: string;
  totalBytes: number;
  remainingBytes: number;
  processedBytes: number;
  dirtyRateBytes: number;
  transferRateBytes: number;
}

interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

const metrics: ReadonlyArray<[name: string, value: (s: MigrationStat) => number]> = [
  ["kubevirt_vmi_migration_data_bytes_total", (s) => s.totalBytes],
  ["kubevirt_vmi_migration_data_remaining_bytes", (s) => s.remainingBytes],
  ["kubevirt_vmi_migration_data_processed_bytes", (s) => s.processedBytes],
  ["kubevirt_vmi_migration_dirty_memory_rate_bytes", (s) => s.dirtyRateBytes],
  ["kubevirt_vmi_migration_memory_transfer_rate_bytes", (s) => s.transferRateBytes],
];

class BadQuery extends Error {}

/** `name{a="b",c=~"d"}` or `{__name__=~"...",a="b"}` → matchers. */
export function parseSelector(query: string): Matcher[] {
  const match = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$/s.exec(query);
  if (!match || (match[1] === undefined && match[2] === undefined)) {
    throw new BadQuery(`1:1: parse error: unexpected input in ${JSON.stringify(query)}`);
  }
  const matchers: Matcher[] = match[1] ? [{ label: "__name__", op: "=", value: match[1] }] : [];
  const body = match[2] ?? "";
  const pattern = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  let consumed = 0;
  for (const m of body.matchAll(pattern)) {
    matchers.push({
      label: m[1] ?? "",
      op: (m[2] ?? "=") as Matcher["op"],
      value: JSON.parse(`"${m[3] ?? ""}"`),
    });
    consumed = (m.index ?? 0) + m[0].length;
  }
  if (consumed !== body.length)
    throw new BadQuery(`parse error: unexpected character in label matchers ${JSON.stringify(body)}`);
  if (matchers.length === 0)
    throw new BadQuery("vector selector must contain at least one non-empty matcher");
  return matchers;
}

function matches(labels: Record<string, string>, matcher: Matcher): boolean {
  const value = labels[matcher.label] ?? "";
  switch (matcher.op) {
    case "=":
      return value === matcher.value;
    case "!=":
      return value !== matcher.value;
    case "=~":
      return new RegExp(`^(?:${matcher.value})$`).test(value);
    case "!~":
      return !new RegExp(`^(?:${matcher.value})$`).test(value);
  }
}

const rangeFunctions = ["max_over_time", "min_over_time", "last_over_time"] as const;
type RangeFunction = (typeof rangeFunctions)[number];

const durationUnits: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** A Prometheus duration (`7d`, `1h30m`, `90s`) in ms. */
export function parseRange(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/gy)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text)
    throw new BadQuery(`bad duration ${JSON.stringify(text)}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (durationUnits[p[2] ?? ""] ?? 0), 0);
}

/** The query: a selector, or one of the range functions of `selector[range]`. */
export function parseQuery(query: string): { fn?: RangeFunction; rangeMs?: number; matchers: Matcher[] } {
  const call = /^\s*([a-z_]+)\s*\(\s*(.*)\[([0-9a-z]+)\]\s*\)\s*$/s.exec(query);
  if (call && (rangeFunctions as readonly string[]).includes(call[1] ?? "")) {
    return {
      fn: call[1] as RangeFunction,
      rangeMs: parseRange(call[3] ?? ""),
      matchers: parseSelector(call[2] ?? ""),
    };
  }
  return { matchers: parseSelector(query) };
}

/** How far back an instant selector looks for a series' last sample (Prometheus's lookback delta). */
const lookbackMs = 5 * 60_000;

type Sample = { metric: Record<string, string>; value: [number, string] };

export function evaluate(
  query: string,
  stats: readonly MigrationStat[],
  at: number,
  history: readonly MetricSeries[] = [],
) {
  const { fn, rangeMs, matchers } = parseQuery(query);
  const found: { labels: Record<string, string>; value: number; last: number }[] = [];
  for (const stat of stats) {
    for (const [name, value] of metrics) {
      const labels = { __name__: name, namespace: stat.namespace, name: stat.name, node: stat.node };
      if (matchers.every((m) => matches(labels, m))) found.push({ labels, value: value(stat), last: at });
    }
  }
  const since = at - (fn ? (rangeMs ?? 0) : lookbackMs);
  for (const series of history) {
    if (series.from > at || (series.to ?? at) < since) continue;
    const labels = { __name__: series.name, ...series.labels };
    if (matchers.every((m) => matches(labels, m)))
      found.push({ labels, value: series.value, last: Math.min(series.to ?? at, at) });
  }
  if (!fn) {
    const result: Sample[] = found.map((f) => ({
      metric: f.labels,
      value: [at / 1000, String(Math.round(f.value))],
    }));
    return { resultType: "vector" as const, result };
  }
  // The functions drop the metric name; series that then share their labels are one.
  const byLabels = new Map<string, { labels: Record<string, string>; value: number; last: number }>();
  for (const f of found) {
    const { __name__: _name, ...labels } = f.labels;
    const key = JSON.stringify(Object.entries(labels).sort());
    const seen = byLabels.get(key);
    if (!seen) byLabels.set(key, { labels, value: f.value, last: f.last });
    else if (fn === "max_over_time") seen.value = Math.max(seen.value, f.value);
    else if (fn === "min_over_time") seen.value = Math.min(seen.value, f.value);
    else if (f.last >= seen.last) Object.assign(seen, { value: f.value, last: f.last });
  }
  const result: Sample[] = [...byLabels.values()].map((f) => ({
    metric: f.labels,
    value: [at / 1000, String(f.value)],
  }));
  return { resultType: "vector" as const, result };
}

export interface SimPrometheus {
  url: string;
  /** Queries answered so far, for tests. */
  readonly queries: number;
  close(): Promise<void>;
}

export async function startPrometheus(
  stats: () => readonly MigrationStat[],
  now: () => number,
  history: () => readonly MetricSeries[] = () => [],
): Promise<SimPrometheus> {
  let queries = 0;
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/api/v1/query" || (req.method !== "GET" && req.method !== "POST")) {
      reply(res, 404, {
        status: "error",
        errorType: "not_found",
        error: `no ${url.pathname} here; try /api/v1/query`,
      });
      return;
    }
    const query = url.searchParams.get("query");
    if (!query) {
      reply(res, 400, {
        status: "error",
        errorType: "bad_data",
        error: 'invalid parameter "query": empty query',
      });
      return;
    }
    queries += 1;
    try {
      // The history comes from every VMI and VMIM: read only for a query that may select it.
      const series = /succeeded|failed|start_time|end_time|dirty_rate_bytes_per_second/.test(query)
        ? history()
        : [];
      reply(res, 200, { status: "success", data: evaluate(query, stats(), now(), series) });
    } catch (error) {
      if (!(error instanceof BadQuery)) throw error;
      reply(res, 400, {
        status: "error",
        errorType: "bad_data",
        error: `invalid parameter "query": ${error.message}`,
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get queries() {
      return queries;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
