// Migration progress from Prometheus: the PromQL query kvmig sends, and how it reads the
// `/api/v1/query` vector answer, against a real HTTP server on 127.0.0.1.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConnectionError, KvmigError } from "../../src/errors.js";
import { progressQuery, queryMigrationProgress } from "../../src/metrics/prometheus.js";

const expectedQuery =
  '{__name__=~"kubevirt_vmi_migration_(data_bytes_total|data_remaining_bytes|data_processed_bytes|dirty_memory_rate_bytes|memory_transfer_rate_bytes)",namespace="prod",name="db-0"}';

const target = { namespace: "prod", vmi: "db-0", migrationUid: "11111111-2222-4333-8444-555555555555" };

interface Seen {
  method: string | undefined;
  path: string;
  query: string | null;
  accept: string | undefined;
}

type Answer = { status: number; body: string; contentType?: string };

let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
let answer: (req: IncomingMessage) => Answer = () => ({ status: 500, body: "not configured" });

/** A Prometheus instant-vector answer with one sample per metric (name without the prefix). */
function vector(samples: Record<string, string>, time = 1_741_944_000.5): string {
  return JSON.stringify({
    status: "success",
    data: {
      resultType: "vector",
      result: Object.entries(samples).map(([name, value]) => ({
        metric: {
          __name__: `kubevirt_vmi_migration_${name}`,
          namespace: "prod",
          name: "db-0",
          node: "node-a",
          job: "kubevirt-prometheus-metrics",
        },
        value: [time, value],
      })),
    },
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    seen.push({
      method: req.method,
      path: url.pathname,
      query: url.searchParams.get("query"),
      accept: req.headers.accept,
    });
    const { status, body, contentType } = answer(req);
    res.writeHead(status, { "Content-Type": contentType ?? "application/json" });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  seen.length = 0;
  answer = () => ({ status: 500, body: "not configured" });
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

describe("progressQuery", () => {
  it("selects the five migration gauges of one VMI", () => {
    expect(progressQuery("prod", "db-0")).toBe(expectedQuery);
  });

  it("quotes and escapes label values", () => {
    expect(progressQuery('we"ird', "back\\slash")).toBe(
      '{__name__=~"kubevirt_vmi_migration_(data_bytes_total|data_remaining_bytes|data_processed_bytes|dirty_memory_rate_bytes|memory_transfer_rate_bytes)",namespace="we\\"ird",name="back\\\\slash"}',
    );
    // A value cannot close the string and add a matcher of its own.
    const injected = progressQuery('prod",name=~".*', "db-0");
    expect(injected).toContain('namespace="prod\\",name=~\\".*"');
    expect(injected.endsWith(',name="db-0"}')).toBe(true);
  });
});

describe("queryMigrationProgress", () => {
  it("sends the instant query and reads every gauge", async () => {
    answer = () => ({
      status: 200,
      body: vector({
        data_bytes_total: "4294967296",
        data_remaining_bytes: "1073741824",
        data_processed_bytes: "3221225472",
        dirty_memory_rate_bytes: "52428800",
        memory_transfer_rate_bytes: "375000000",
      }),
    });
    const progress = await queryMigrationProgress(baseUrl, target);
    expect(seen).toEqual([
      { method: "GET", path: "/api/v1/query", query: expectedQuery, accept: "application/json" },
    ]);
    expect(progress).toEqual({
      migrationUid: target.migrationUid,
      at: "2025-03-14T09:20:00.500Z",
      elapsedMs: 0,
      dataTotalBytes: 4294967296,
      dataRemainingBytes: 1073741824,
      dataProcessedBytes: 3221225472,
      bandwidthBytesPerSecond: 375_000_000,
      dirtyRateBytesPerSecond: 52_428_800,
      iteration: 0,
      completed: false,
    });
  });

  it("sends the escaped label values in the query string", async () => {
    answer = () => ({ status: 200, body: vector({}) });
    await queryMigrationProgress(baseUrl, { ...target, namespace: 'a"b', vmi: "c d&e" });
    expect(seen[0]?.query).toBe(progressQuery('a"b', "c d&e"));
    expect(seen[0]?.query).toContain('namespace="a\\"b",name="c d&e"');
  });

  it("keeps a path prefix of the base URL, with or without a trailing slash", async () => {
    answer = () => ({ status: 200, body: vector({}) });
    await queryMigrationProgress(`${baseUrl}/prometheus`, target);
    await queryMigrationProgress(`${baseUrl}/prometheus/`, target);
    expect(seen.map((s) => s.path)).toEqual(["/prometheus/api/v1/query", "/prometheus/api/v1/query"]);
    expect(seen.every((s) => s.query === expectedQuery)).toBe(true);
  });

  it("is undefined when Prometheus has no series (not migrating yet)", async () => {
    answer = () => ({ status: 200, body: vector({}) });
    await expect(queryMigrationProgress(baseUrl, target)).resolves.toBeUndefined();
  });

  it("is undefined when the total or the remaining series is missing", async () => {
    answer = () => ({ status: 200, body: vector({ data_bytes_total: "100", data_processed_bytes: "40" }) });
    await expect(queryMigrationProgress(baseUrl, target)).resolves.toBeUndefined();
    answer = () => ({
      status: 200,
      body: vector({ data_remaining_bytes: "60", memory_transfer_rate_bytes: "9" }),
    });
    await expect(queryMigrationProgress(baseUrl, target)).resolves.toBeUndefined();
  });

  it("ignores values that are not finite numbers", async () => {
    answer = () => ({ status: 200, body: vector({ data_bytes_total: "100", data_remaining_bytes: "NaN" }) });
    await expect(queryMigrationProgress(baseUrl, target)).resolves.toBeUndefined();
    answer = () => ({
      status: 200,
      body: vector({
        data_bytes_total: "100",
        data_remaining_bytes: "60",
        memory_transfer_rate_bytes: "+Inf",
      }),
    });
    expect((await queryMigrationProgress(baseUrl, target))?.bandwidthBytesPerSecond).toBe(0);
  });

  it("derives processed data from total and remaining, and rates default to 0", async () => {
    answer = () => ({
      status: 200,
      body: vector({ data_bytes_total: "1000", data_remaining_bytes: "250" }, 1_741_944_010),
    });
    expect(await queryMigrationProgress(baseUrl, target)).toEqual({
      migrationUid: target.migrationUid,
      at: "2025-03-14T09:20:10.000Z",
      elapsedMs: 0,
      dataTotalBytes: 1000,
      dataRemainingBytes: 250,
      dataProcessedBytes: 750,
      bandwidthBytesPerSecond: 0,
      dirtyRateBytesPerSecond: 0,
      iteration: 0,
      completed: false,
    });
  });

  it("ignores series of other metrics in the answer", async () => {
    const body = JSON.parse(vector({ data_bytes_total: "1000", data_remaining_bytes: "250" })) as {
      data: { result: unknown[] };
    };
    body.data.result.push(
      { metric: { __name__: "up" }, value: [1_741_944_000, "1"] },
      { metric: {}, value: [1, "7"] },
    );
    answer = () => ({ status: 200, body: JSON.stringify(body) });
    expect((await queryMigrationProgress(baseUrl, target))?.dataRemainingBytes).toBe(250);
  });

  it("turns a Prometheus error answer into a KvmigError with its message", async () => {
    answer = () => ({
      status: 400,
      body: JSON.stringify({
        status: "error",
        errorType: "bad_data",
        error: 'invalid parameter "query": 1:1: parse error: unexpected character',
      }),
    });
    const error = await queryMigrationProgress(baseUrl, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KvmigError);
    expect(error).not.toBeInstanceOf(ConnectionError);
    expect((error as KvmigError).message).toBe(
      'Prometheus query failed (HTTP 400): invalid parameter "query": 1:1: parse error: unexpected character',
    );
    expect((error as KvmigError).hint).toBe(
      "check that --prometheus-url points at the Prometheus API (the URL before /api/v1)",
    );
  });

  it("rejects an error status even with HTTP 200", async () => {
    answer = () => ({
      status: 200,
      body: JSON.stringify({ status: "error", error: "query timed out in expression evaluation" }),
    });
    await expect(queryMigrationProgress(baseUrl, target)).rejects.toThrow(
      "Prometheus query failed (HTTP 200): query timed out in expression evaluation",
    );
  });

  it("rejects an answer that is not the Prometheus API", async () => {
    answer = () => ({ status: 404, body: "<html>404 page not found</html>", contentType: "text/html" });
    await expect(queryMigrationProgress(baseUrl, target)).rejects.toThrow(
      "Prometheus query failed (HTTP 404): unexpected answer",
    );
    answer = () => ({ status: 200, body: JSON.stringify({ status: "success" }) });
    await expect(queryMigrationProgress(baseUrl, target)).rejects.toThrow(
      "Prometheus query failed (HTTP 200): unexpected answer",
    );
    answer = () => ({ status: 200, body: "{not json" });
    await expect(queryMigrationProgress(baseUrl, target)).rejects.toBeInstanceOf(KvmigError);
  });

  it("reports a refused connection as a ConnectionError naming --prometheus-url", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await queryMigrationProgress(`http://127.0.0.1:${port}`, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toMatch(
      new RegExp(`^cannot reach Prometheus at http://127\\.0\\.0\\.1:${port}: `),
    );
    expect((error as ConnectionError).hint).toContain("--prometheus-url");
    expect((error as ConnectionError).cause).toBeInstanceOf(Error);
  });
});
