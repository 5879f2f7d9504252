// A VM's migration history, merged from what each source still holds: the VMIMs KubeVirt keeps
// (the newest five final ones per VMI), the VMI's migrationState (the last migration), the events
// the API server keeps (about an hour), and KubeVirt's migration series in Prometheus. Each
// source's view of a migration is a record; records about the same migration (the same uid, or
// the same VMIM name in a namespace) become one row, each field taken from the most direct source
// that has it. Pure: no I/O.

import type { VirtualMachineInstanceMigration } from "../k8s/types.js";
import { compareText } from "../util/order.js";
import { type MigrationTrigger, migrationTrigger } from "./trigger.js";

export type HistorySource = "vmim" | "vmi" | "events" | "prometheus";
/** The order fields are taken in: the objects first, then what is about them. */
export const historySources: readonly HistorySource[] = ["vmim", "vmi", "events", "prometheus"];

export type HistoryOutcome = "succeeded" | "failed" | "running" | "pending" | "unknown";

/** One source's view of one migration. Times are epoch ms. */
export interface HistoryRecord {
  source: HistorySource;
  namespace: string;
  vm: string;
  /** The VMIM's name. */
  migration?: string | undefined;
  /** The VMIM's uid (the VMI's migrationState has only this). */
  uid?: string | undefined;
  trigger?: MigrationTrigger | undefined;
  createdAt?: number | undefined;
  /** When the live migration started (migrationState.startTimestamp), else when it was asked for. */
  startedAt?: number | undefined;
  endedAt?: number | undefined;
  from?: string | undefined;
  to?: string | undefined;
  outcome?: Exclude<HistoryOutcome, "unknown"> | undefined;
  failureReason?: string | undefined;
}

/** One row of the history (the -o json item). */
export interface HistoryItem {
  namespace: string;
  vm: string;
  migration: string | null;
  uid: string | null;
  trigger: MigrationTrigger | null;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
  from: string | null;
  to: string | null;
  outcome: HistoryOutcome;
  failureReason: string | null;
  /** Where the row came from, in historySources order. */
  sources: HistorySource[];
}

export interface HistorySummary {
  /** Migrations in the window (before --limit). */
  moves: number;
  succeeded: number;
  failed: number;
  /** succeeded / (succeeded + failed), 0..1; null when none finished. */
  successRate: number | null;
  /** Of the finished ones with a known start and end. */
  medianDurationSeconds: number | null;
}

/** Who created a migration, from its VMIM's name alone (what Prometheus and events name). */
export function triggerOfName(name: string): MigrationTrigger {
  return migrationTrigger({ metadata: { name } } as VirtualMachineInstanceMigration);
}

class Groups {
  private readonly parent: number[] = [];
  add(): number {
    this.parent.push(this.parent.length);
    return this.parent.length - 1;
  }
  find(i: number): number {
    let root = i;
    while (this.parent[root] !== root) root = this.parent[root] as number;
    this.parent[i] = root;
    return root;
  }
  join(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

/** The records about the same migration, grouped: by uid, and by namespace and VMIM name. */
export function groupRecords(records: readonly HistoryRecord[]): HistoryRecord[][] {
  const groups = new Groups();
  const owner = new Map<string, number>();
  records.forEach((record, i) => {
    groups.add();
    const keys = [
      record.uid ? `uid:${record.uid}` : undefined,
      record.migration ? `name:${record.namespace}/${record.migration}` : undefined,
    ];
    for (const key of keys) {
      if (key === undefined) continue;
      const seen = owner.get(key);
      if (seen === undefined) owner.set(key, i);
      else groups.join(i, seen);
    }
  });
  const byRoot = new Map<number, HistoryRecord[]>();
  records.forEach((record, i) => {
    const root = groups.find(i);
    byRoot.set(root, [...(byRoot.get(root) ?? []), record]);
  });
  return [...byRoot.values()];
}

const iso = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString().replace(".000Z", "Z");

/** One row from the records about one migration: each field from the first source that has it. */
export function mergeRecords(group: readonly HistoryRecord[]): HistoryItem {
  const ordered = [...group].sort(
    (a, b) => historySources.indexOf(a.source) - historySources.indexOf(b.source),
  );
  const first = <K extends keyof HistoryRecord>(key: K): HistoryRecord[K] | undefined =>
    ordered.find((r) => r[key] !== undefined && r[key] !== "")?.[key];
  const startedAt = first("startedAt") ?? first("createdAt");
  const endedAt = first("endedAt");
  const outcome = first("outcome") ?? "unknown";
  const finished = outcome === "succeeded" || outcome === "failed";
  const duration =
    finished && startedAt !== undefined && endedAt !== undefined && endedAt >= startedAt
      ? Math.round((endedAt - startedAt) / 1000)
      : null;
  const migration = first("migration");
  return {
    namespace: ordered[0]?.namespace ?? "",
    vm: ordered[0]?.vm ?? "",
    migration: migration ?? null,
    uid: first("uid") ?? null,
    trigger: first("trigger") ?? (migration ? triggerOfName(migration) : null),
    startedAt: iso(startedAt),
    endedAt: finished ? iso(endedAt) : null,
    durationSeconds: duration,
    from: first("from") ?? null,
    to: first("to") ?? null,
    outcome,
    failureReason: outcome === "failed" ? (first("failureReason") ?? null) : null,
    sources: historySources.filter((s) => group.some((r) => r.source === s)),
  };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarize(items: readonly HistoryItem[]): HistorySummary {
  const succeeded = items.filter((i) => i.outcome === "succeeded").length;
  const failed = items.filter((i) => i.outcome === "failed").length;
  const durations = items.flatMap((i) => (i.durationSeconds === null ? [] : [i.durationSeconds]));
  return {
    moves: items.length,
    succeeded,
    failed,
    successRate: succeeded + failed === 0 ? null : succeeded / (succeeded + failed),
    medianDurationSeconds: median(durations),
  };
}

const timeOf = (item: HistoryItem): number | undefined =>
  item.startedAt === null ? undefined : Date.parse(item.startedAt);

/**
 * The history: records merged into rows, those that started before the window left out (a row
 * with no time at all stays: its source found it in the window), newest first (rows without a
 * time last), at most `limit` of them; the summary counts the whole window.
 */
export function buildHistory(
  records: readonly HistoryRecord[],
  options: { now: number; sinceMs: number; limit?: number | undefined },
): { items: HistoryItem[]; summary: HistorySummary; omitted: number } {
  const from = options.now - options.sinceMs;
  const rows = groupRecords(records)
    .map(mergeRecords)
    .filter((item) => (timeOf(item) ?? from) >= from)
    .sort(
      (a, b) =>
        (timeOf(b) ?? Number.NEGATIVE_INFINITY) - (timeOf(a) ?? Number.NEGATIVE_INFINITY) ||
        compareText(a.namespace, b.namespace) ||
        compareText(a.vm, b.vm) ||
        compareText(a.migration ?? "", b.migration ?? ""),
    );
  const items = options.limit === undefined ? rows : rows.slice(0, options.limit);
  return { items, summary: summarize(rows), omitted: rows.length - items.length };
}
