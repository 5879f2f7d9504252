// Each source's view of a VM's migrations, as history records (history.ts merges them). Object
// state first (the VMIM, the VMI's migrationState); events and Prometheus only say what they can:
// event messages are version-dependent, so only the reasons KubeVirt emits as constants and the
// names and uids in their messages are read. Pure: no I/O.

import type {
  Event,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
  VirtualMachineInstanceMigrationState,
} from "../k8s/types.js";
import type { HistoryOutcome, HistoryRecord } from "./history.js";
import { triggerOfName } from "./history.js";
import { migrationTrigger } from "./trigger.js";

const ms = (stamp: string | null | undefined): number | undefined => {
  if (!stamp) return undefined;
  const t = Date.parse(stamp);
  return Number.isFinite(t) ? t : undefined;
};

type Finished = Exclude<HistoryOutcome, "unknown">;

function stateOutcome(state: VirtualMachineInstanceMigrationState): Finished | undefined {
  if (state.completed === true) return state.failed === true ? "failed" : "succeeded";
  if (state.failed === true) return "failed";
  return state.startTimestamp ? "running" : undefined;
}

function stateFields(state: VirtualMachineInstanceMigrationState | undefined) {
  if (!state) return {};
  return {
    startedAt: ms(state.startTimestamp),
    endedAt: ms(state.endTimestamp),
    from: state.sourceNode,
    to: state.targetNode,
    failureReason: state.failureReason,
  };
}

/** A VMIM: its phase, and the copy of the VMI's record a final one keeps. */
export function vmimRecord(vmim: VirtualMachineInstanceMigration): HistoryRecord {
  const phase = vmim.status?.phase ?? "";
  const phaseAt = (p: string) =>
    ms(vmim.status?.phaseTransitionTimestamps?.find((t) => t.phase === p)?.phaseTransitionTimestamp);
  const outcome: Finished =
    phase === "Succeeded"
      ? "succeeded"
      : phase === "Failed"
        ? "failed"
        : phase === "" || phase === "Pending"
          ? "pending"
          : "running";
  const state = vmim.status?.migrationState;
  // A VMIM that never got past Pending holds only sourcePod: no record of a migration yet.
  const fields = state?.migrationUid === vmim.metadata.uid ? stateFields(state) : {};
  const final = outcome === "succeeded" || outcome === "failed";
  return {
    source: "vmim",
    namespace: vmim.metadata.namespace ?? "",
    vm: vmim.spec?.vmiName ?? "",
    migration: vmim.metadata.name,
    uid: vmim.metadata.uid,
    trigger: migrationTrigger(vmim),
    createdAt: ms(vmim.metadata.creationTimestamp),
    ...fields,
    startedAt: fields.startedAt ?? phaseAt("Running"),
    endedAt: fields.endedAt ?? (final ? phaseAt(phase) : undefined),
    outcome,
  };
}

/** The VMI's migrationState: the last migration that got as far as the hand-off. */
export function vmiRecord(vmi: VirtualMachineInstance): HistoryRecord | undefined {
  const state = vmi.status?.migrationState;
  if (!state?.migrationUid) return undefined;
  return {
    source: "vmi",
    namespace: vmi.metadata.namespace ?? "",
    vm: vmi.metadata.name ?? "",
    uid: state.migrationUid,
    ...stateFields(state),
    outcome: stateOutcome(state),
  };
}

const eventTime = (e: Event) => ms(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp);
const firstTime = (e: Event) => ms(e.firstTimestamp ?? e.eventTime ?? e.lastTimestamp);

/**
 * The events of a VM's VMI and VMIMs: a VMIM's SuccessfulMigration / FailedMigration, the
 * controllers' "Created Migration NAME" on the VMI, and a failed migration's uid on the VMI
 * (virt-handler's Migrated warning, virt-controller's FailedMigration).
 */
export function eventRecords(
  events: readonly Event[],
  vmOf: (e: Event) => string | undefined,
): HistoryRecord[] {
  const records: HistoryRecord[] = [];
  const sorted = [...events].sort((a, b) => (firstTime(a) ?? 0) - (firstTime(b) ?? 0));
  for (const e of sorted) {
    const vm = vmOf(e);
    if (vm === undefined) continue;
    const namespace = e.involvedObject.namespace ?? e.metadata.namespace ?? "";
    const base = { source: "events" as const, namespace, vm };
    const message = e.message ?? "";
    if (e.involvedObject.kind === "VirtualMachineInstanceMigration") {
      const record: HistoryRecord = {
        ...base,
        migration: e.involvedObject.name,
        uid: e.involvedObject.uid,
        createdAt: firstTime(e),
      };
      if (e.reason === "SuccessfulMigration")
        Object.assign(record, { outcome: "succeeded", endedAt: eventTime(e) });
      if (e.reason === "FailedMigration")
        Object.assign(record, {
          outcome: "failed",
          endedAt: eventTime(e),
          failureReason: message || undefined,
        });
      records.push(record);
      continue;
    }
    if (e.involvedObject.kind !== "VirtualMachineInstance") continue;
    const created = e.reason === "SuccessfulCreate" ? /^Created Migration (\S+)/.exec(message) : null;
    if (created?.[1]) {
      records.push({
        ...base,
        migration: created[1],
        trigger: triggerOfName(created[1]),
        createdAt: firstTime(e),
      });
      continue;
    }
    const failed = /migration uid (\S+) failed\. reason: ?(.*)$/s.exec(message);
    if (failed?.[1] && (e.reason === "Migrated" || e.reason === "FailedMigration")) {
      records.push({
        ...base,
        uid: failed[1],
        outcome: "failed",
        endedAt: eventTime(e),
        failureReason: failed[2] || undefined,
        from: e.reason === "Migrated" ? e.source?.host : undefined,
      });
    }
  }
  return records;
}

/** One series of an instant query's answer. */
export interface MetricSample {
  metric: Record<string, string>;
  value: number;
}

/** The answers of history's four queries (max_over_time of each series over the window). */
export interface MigrationSeries {
  succeeded: readonly MetricSample[];
  failed: readonly MetricSample[];
  startTimes: readonly MetricSample[];
  endTimes: readonly MetricSample[];
}

/**
 * KubeVirt's migration series: the outcome of each VMIM virt-controller saw final, and the start
 * and end of each VMI record with its node: the source while it ran, the target once it moved.
 */
export function prometheusRecords(series: MigrationSeries): HistoryRecord[] {
  interface Acc {
    namespace: string;
    vm: string;
    outcome?: Finished;
    startedAt?: number;
    endedAt?: number;
    startNodes: Set<string>;
    endNode?: string;
    endStatus?: string;
  }
  const byName = new Map<string, Acc>();
  const acc = (namespace: string | undefined, vm: string | undefined, name: string | undefined) => {
    if (!namespace || !vm || !name || name === "none") return undefined;
    const key = `${namespace}/${name}`;
    let found = byName.get(key);
    if (!found) {
      found = { namespace, vm, startNodes: new Set() };
      byName.set(key, found);
    }
    return found;
  };
  for (const s of series.succeeded) {
    const a = acc(s.metric.namespace, s.metric.vmi, s.metric.vmim);
    if (a && s.value > 0) a.outcome = "succeeded";
  }
  for (const s of series.failed) {
    const a = acc(s.metric.namespace, s.metric.vmi, s.metric.vmim);
    if (a && s.value > 0) a.outcome = "failed";
  }
  for (const s of series.startTimes) {
    const a = acc(s.metric.namespace, s.metric.name, s.metric.migration_name);
    if (!a) continue;
    a.startedAt = s.value * 1000;
    if (s.metric.node) a.startNodes.add(s.metric.node);
  }
  for (const s of series.endTimes) {
    const a = acc(s.metric.namespace, s.metric.name, s.metric.migration_name);
    if (!a) continue;
    a.endedAt = s.value * 1000;
    a.endNode = s.metric.node || undefined;
    a.endStatus = s.metric.status;
  }
  return [...byName].map(([key, a]) => {
    const migration = key.slice(a.namespace.length + 1);
    const outcome: Finished | undefined =
      a.outcome ??
      (a.endStatus === "succeeded" || a.endStatus === "failed"
        ? a.endStatus
        : a.startedAt !== undefined
          ? "running"
          : undefined);
    // A move's end is reported from the target; its start from the source too, while it ran.
    const moved = outcome === "succeeded" && a.endNode !== undefined;
    const others = [...a.startNodes].filter((n) => n !== a.endNode);
    const from = moved ? (others.length === 1 ? others[0] : undefined) : (a.endNode ?? [...a.startNodes][0]);
    return {
      source: "prometheus" as const,
      namespace: a.namespace,
      vm: a.vm,
      migration,
      trigger: triggerOfName(migration),
      startedAt: a.startedAt,
      endedAt: a.endedAt,
      from,
      to: moved ? a.endNode : undefined,
      outcome,
    };
  });
}
