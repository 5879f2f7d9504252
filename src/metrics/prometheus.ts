// Migration progress from Prometheus (`--prometheus-url`), for when launcher logs are not
// readable: virt-handler exports libvirt's job stats as kubevirt_vmi_migration_* gauges,
// refreshed every 5 s (facts §k). One instant query per poll reads all of them.

import { ConnectionError, KvmigError } from "../errors.js";
import type { MetricSample, MigrationSeries } from "../migration/history-records.js";
import type { MigrationProgress } from "../migration/progress-line.js";

const metricNames = [
  "data_bytes_total",
  "data_remaining_bytes",
  "data_processed_bytes",
  "dirty_memory_rate_bytes",
  "memory_transfer_rate_bytes",
] as const;

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

interface QueryResponse {
  status: "success" | "error";
  error?: string;
  data?: { resultType: string; result: VectorSample[] };
}

/** The PromQL label value, quoted and escaped. */
function labelValue(value: string): string {
  return JSON.stringify(value);
}

export function progressQuery(namespace: string, vmi: string): string {
  return `{__name__=~"kubevirt_vmi_migration_(${metricNames.join("|")})",namespace=${labelValue(namespace)},name=${labelValue(vmi)}}`;
}

/** One instant query (`GET api/v1/query`): the vector's samples. */
export async function instantQuery(
  baseUrl: string,
  query: string,
  signal?: AbortSignal,
): Promise<VectorSample[]> {
  const url = new URL("api/v1/query", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  url.searchParams.set("query", query);
  let response: Response;
  try {
    response = await fetch(url, { signal: signal ?? null, headers: { Accept: "application/json" } });
  } catch (error) {
    // fetch says only "fetch failed"; the cause says why (refused, TLS, DNS).
    const cause = (error as Error & { cause?: { message?: string } }).cause?.message;
    throw new ConnectionError(
      `cannot reach Prometheus at ${url.origin}: ${cause ?? (error as Error).message}`,
      {
        hint: "check --prometheus-url (or KVMIG_PROMETHEUS_URL)",
        cause: error,
      },
    );
  }
  const body = (await response.json().catch(() => undefined)) as QueryResponse | undefined;
  if (!response.ok || body?.status !== "success" || !body.data) {
    throw new KvmigError(
      `Prometheus query failed (HTTP ${response.status}): ${body?.error ?? "unexpected answer"}`,
      {
        hint: "check that --prometheus-url points at the Prometheus API (the URL before /api/v1)",
      },
    );
  }
  return body.data.result;
}

/** Reads the migration gauges of one VMI; undefined when Prometheus has none (not migrating yet). */
export async function queryMigrationProgress(
  baseUrl: string,
  target: { namespace: string; vmi: string; migrationUid: string },
  signal?: AbortSignal,
): Promise<MigrationProgress | undefined> {
  const result = await instantQuery(baseUrl, progressQuery(target.namespace, target.vmi), signal);
  const values = new Map<string, { value: number; at: number }>();
  for (const sample of result) {
    const name = sample.metric.__name__?.replace("kubevirt_vmi_migration_", "");
    const value = Number(sample.value[1]);
    if (name && Number.isFinite(value)) values.set(name, { value, at: sample.value[0] });
  }
  const total = values.get("data_bytes_total");
  const remaining = values.get("data_remaining_bytes");
  if (!total || !remaining) return undefined;
  return {
    migrationUid: target.migrationUid,
    at: new Date(remaining.at * 1000).toISOString(),
    elapsedMs: 0,
    dataTotalBytes: total.value,
    dataRemainingBytes: remaining.value,
    dataProcessedBytes: values.get("data_processed_bytes")?.value ?? total.value - remaining.value,
    bandwidthBytesPerSecond: values.get("memory_transfer_rate_bytes")?.value ?? 0,
    dirtyRateBytesPerSecond: values.get("dirty_memory_rate_bytes")?.value ?? 0,
    // Prometheus has no iteration count.
    iteration: 0,
    completed: false,
  };
}

/** The scope of history's queries: a VM, a namespace's VMs, or every namespace. */
export interface HistoryScope {
  namespace?: string | undefined;
  vm?: string | undefined;
}

/**
 * History's queries: each of KubeVirt's migration series (virt-controller's, facts §k) that was
 * there at any time in the window, with its value: `max_over_time(series[window])` evaluated now.
 * The outcome series name the VMI `vmi`, the start and end series `name`.
 */
export function historyQueries(
  scope: HistoryScope,
  windowSeconds: number,
): Record<keyof MigrationSeries, string> {
  const range = `${Math.max(1, Math.round(windowSeconds))}s`;
  const matchers = (vmLabel: string) =>
    [
      scope.namespace === undefined ? undefined : `namespace=${labelValue(scope.namespace)}`,
      scope.vm === undefined ? undefined : `${vmLabel}=${labelValue(scope.vm)}`,
    ]
      .filter((m) => m !== undefined)
      .join(",");
  const q = (name: string, vmLabel: string) => `max_over_time(${name}{${matchers(vmLabel)}}[${range}])`;
  return {
    succeeded: q("kubevirt_vmi_migration_succeeded", "vmi"),
    failed: q("kubevirt_vmi_migration_failed", "vmi"),
    startTimes: q("kubevirt_vmi_migration_start_time_seconds", "name"),
    endTimes: q("kubevirt_vmi_migration_end_time_seconds", "name"),
  };
}

/** KubeVirt's migration series over the window, for history (four instant queries at once). */
export async function queryMigrationHistory(
  baseUrl: string,
  scope: HistoryScope,
  windowSeconds: number,
  signal?: AbortSignal,
): Promise<MigrationSeries> {
  const queries = historyQueries(scope, windowSeconds);
  const read = async (query: string): Promise<MetricSample[]> =>
    (await instantQuery(baseUrl, query, signal)).flatMap((s) => {
      const value = Number(s.value[1]);
      return Number.isFinite(value) ? [{ metric: s.metric, value }] : [];
    });
  const [succeeded, failed, startTimes, endTimes] = await Promise.all([
    read(queries.succeeded),
    read(queries.failed),
    read(queries.startTimes),
    read(queries.endTimes),
  ]);
  return { succeeded, failed, startTimes, endTimes };
}
