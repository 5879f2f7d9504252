// The simulated cluster's Prometheus: the migration gauges virt-handler exports
// (kubevirt_vmi_migration_*, facts §k), answered through Prometheus's instant-query API on a
// plain-HTTP loopback port, as a Prometheus next to the cluster would. Only the selector form
// kvmig and a person at a prompt use is understood: a metric name (or `__name__=~"re"`) with
// `=`, `!=`, `=~` and `!~` label matchers; anything else is Prometheus's 400 bad_data.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

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

export function evaluate(query: string, stats: readonly MigrationStat[], at: number) {
  const matchers = parseSelector(query);
  const result = [];
  for (const stat of stats) {
    for (const [name, value] of metrics) {
      const labels = { __name__: name, namespace: stat.namespace, name: stat.name, node: stat.node };
      if (matchers.every((m) => matches(labels, m))) {
        result.push({
          metric: labels,
          value: [at / 1000, String(Math.round(value(stat)))] as [number, string],
        });
      }
    }
  }
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
      reply(res, 200, { status: "success", data: evaluate(query, stats(), now()) });
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
