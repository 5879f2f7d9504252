// The reads of `kvmig history`: for one VM (or the VMs in scope) the VMIMs KubeVirt still keeps,
// the VMI's migrationState, the events the API server still keeps, and with a Prometheus URL
// KubeVirt's migration series over the window; merged by migration/history.ts. Each source says
// how far back it reaches.

import { ApiError } from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { requireNamespace } from "../k8s/namespace.js";
import type { Event, VirtualMachineInstance, VirtualMachineInstanceMigration } from "../k8s/types.js";
import { queryMigrationHistory } from "../metrics/prometheus.js";
import {
  buildHistory,
  type HistoryItem,
  type HistoryRecord,
  type HistorySource,
  type HistorySummary,
  summarize,
} from "../migration/history.js";
import { eventRecords, prometheusRecords, vmimRecord, vmiRecord } from "../migration/history-records.js";
import { readVm, vmiNameLabel } from "./read-vm.js";

/** `migration.go` defaultFinalizedMigrationGarbageCollectionBuffer: the final VMIMs kept per VMI. */
export const finishedMigrationsKept = 5;

export interface HistoryRequest {
  /** undefined: every namespace (-A). */
  namespace: string | undefined;
  vm?: string | undefined;
  /** -l: only VMs whose VMI has these labels. */
  selector?: string | undefined;
  /** --node: only migrations from or to this node. */
  node?: string | undefined;
  prometheusUrl?: string | undefined;
  sinceMs: number;
  limit?: number | undefined;
  now: number;
  signal?: AbortSignal | undefined;
}

export interface SourceReach {
  source: HistorySource;
  /** Whether it was read (Prometheus only with a URL; events only when allowed). */
  read: boolean;
  /** The oldest time it told about (Prometheus: the window's start); null when it had nothing. */
  since: string | null;
  /** The migrations it told about. */
  migrations: number;
  /** What it keeps, in a few words. */
  keeps: string;
}

export interface HistoryResult {
  namespace: string | null;
  vm: string | null;
  node: string | null;
  since: string;
  items: HistoryItem[];
  summary: HistorySummary;
  /** Rows left out by --limit. */
  omitted: number;
  sources: SourceReach[];
  /** What the history may miss, and why. */
  notes: string[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function oldest(times: readonly (number | undefined)[]): string | null {
  const known = times.filter((t): t is number => t !== undefined && Number.isFinite(t));
  return known.length === 0 ? null : iso(Math.min(...known));
}

const eventTime = (e: Event) => Date.parse(e.firstTimestamp ?? e.eventTime ?? e.lastTimestamp ?? "");

/** The events about VMIs and VMIMs in scope; undefined when the user may not list events. */
async function readEvents(
  kube: KubeClient,
  namespace: string | undefined,
  vm: string | undefined,
): Promise<Event[] | undefined> {
  const vmiSelector = `involvedObject.kind=VirtualMachineInstance${vm ? `,involvedObject.name=${vm}` : ""}`;
  try {
    const [vmiEvents, vmimEvents] = await Promise.all([
      kube.list("event", { namespace, fieldSelector: vmiSelector }),
      kube.list("event", { namespace, fieldSelector: "involvedObject.kind=VirtualMachineInstanceMigration" }),
    ]);
    return [...vmiEvents, ...vmimEvents];
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return undefined;
    throw error;
  }
}

export async function readHistory(kube: KubeClient, request: HistoryRequest): Promise<HistoryResult> {
  const { namespace, vm } = request;
  let vmis: VirtualMachineInstance[];
  let vmims: VirtualMachineInstanceMigration[];
  if (vm !== undefined && namespace !== undefined) {
    const [objects, migrations] = await Promise.all([
      readVm(kube, namespace, vm),
      kube.list("vmim", { namespace, labelSelector: `${vmiNameLabel}=${vm}` }),
    ]);
    vmis = objects.vmi ? [objects.vmi] : [];
    vmims = migrations;
  } else {
    if (namespace !== undefined) await requireNamespace(kube, namespace);
    [vmis, vmims] = await Promise.all([
      kube.list("vmi", { namespace, labelSelector: request.selector }),
      kube.list("vmim", { namespace }),
    ]);
  }
  // -l selects VMs by their VMI's labels: their migrations are kept, others' left out.
  const selected =
    request.selector === undefined
      ? undefined
      : new Set(vmis.map((v) => `${v.metadata.namespace}/${v.metadata.name}`));
  const inScope = (ns: string, name: string) => selected === undefined || selected.has(`${ns}/${name}`);

  const events = await readEvents(kube, namespace, vm);
  const vmOfMigration = new Map<string, string>();
  for (const m of vmims) {
    if (m.spec?.vmiName) vmOfMigration.set(`${m.metadata.namespace}/${m.metadata.name}`, m.spec.vmiName);
  }
  const vmOfEvent = (e: Event): string | undefined => {
    const ns = e.involvedObject.namespace ?? e.metadata.namespace ?? "";
    const name =
      e.involvedObject.kind === "VirtualMachineInstance"
        ? e.involvedObject.name
        : vmOfMigration.get(`${ns}/${e.involvedObject.name}`);
    return name !== undefined && (vm === undefined || name === vm) ? name : undefined;
  };

  const series =
    request.prometheusUrl === undefined
      ? undefined
      : await queryMigrationHistory(
          request.prometheusUrl,
          { namespace, vm },
          request.sinceMs / 1000,
          request.signal,
        );

  const bySource: Record<HistorySource, HistoryRecord[]> = {
    vmim: vmims.map(vmimRecord),
    vmi: vmis.flatMap((v) => vmiRecord(v) ?? []),
    events: events ? eventRecords(events, vmOfEvent) : [],
    prometheus: series ? prometheusRecords(series) : [],
  };
  const records = Object.values(bySource)
    .flat()
    .filter((r) => inScope(r.namespace, r.vm));
  const built = buildHistory(records, { now: request.now, sinceMs: request.sinceMs });
  const rows =
    request.node === undefined
      ? built.items
      : built.items.filter((i) => i.from === request.node || i.to === request.node);
  const items = request.limit === undefined ? rows : rows.slice(0, request.limit);
  const summary = request.node === undefined ? built.summary : summarize(rows);

  const windowStart = request.now - request.sinceMs;
  const countOf = (source: HistorySource) => rows.filter((i) => i.sources.includes(source)).length;
  const sources: SourceReach[] = [
    {
      source: "vmim",
      read: true,
      since: oldest(vmims.map((m) => Date.parse(m.metadata.creationTimestamp ?? ""))),
      migrations: countOf("vmim"),
      keeps: `the newest ${finishedMigrationsKept} finished migrations of each VMI`,
    },
    {
      source: "vmi",
      read: true,
      since: oldest(bySource.vmi.map((r) => r.startedAt)),
      migrations: countOf("vmi"),
      keeps: "the last migration of each VMI",
    },
    {
      source: "events",
      read: events !== undefined,
      since: oldest((events ?? []).map(eventTime)),
      migrations: countOf("events"),
      keeps: "about an hour (kube-apiserver --event-ttl)",
    },
    {
      source: "prometheus",
      read: series !== undefined,
      since: series ? iso(windowStart) : null,
      migrations: countOf("prometheus"),
      keeps: "its retention (KubeVirt's migration series, v1.3+; start and end times v1.5+)",
    },
  ];

  const notes: string[] = [];
  if (series === undefined) {
    const full = fullVmis(vmims).filter((key) => {
      const [ns = "", name = ""] = key.split("/");
      return inScope(ns, name);
    });
    if (full.length > 0) {
      notes.push(
        `KubeVirt keeps only the newest ${finishedMigrationsKept} finished migrations of a VMI: older ones of ${full.join(", ")} are beyond what the API keeps; --prometheus-url reads KubeVirt's migration metrics over --since`,
      );
    }
  }
  if (events === undefined)
    notes.push("events were not readable (forbidden): failure reasons may be missing");
  if (request.limit !== undefined && rows.length > request.limit) {
    notes.push(`${rows.length - request.limit} older migrations left out by --limit ${request.limit}`);
  }
  return {
    namespace: namespace ?? null,
    vm: vm ?? null,
    node: request.node ?? null,
    since: iso(windowStart),
    items,
    summary,
    omitted: rows.length - items.length,
    sources,
    notes,
  };
}

/** The VMIs (namespace/name) with as many final VMIMs as KubeVirt keeps: older ones are gone. */
function fullVmis(vmims: readonly VirtualMachineInstanceMigration[]): string[] {
  const counts = new Map<string, number>();
  for (const m of vmims) {
    const phase = m.status?.phase;
    if (phase !== "Succeeded" && phase !== "Failed") continue;
    const key = `${m.metadata.namespace}/${m.spec?.vmiName ?? ""}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .filter(([, n]) => n >= finishedMigrationsKept)
    .map(([key]) => key)
    .sort();
}
