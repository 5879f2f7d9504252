// Whether a VM's migration visibly went wrong, read from KubeVirt's state first: a migration that
// ended Failed (other than by the user's own cancel), a VMI whose migrationState says it failed,
// a migration that stopped moving or whose abort never finishes, an API call that was refused,
// and, where no object is left, the Warning events KubeVirt writes when a migration fails. A
// later successful migration makes earlier failures history. Diagnose is never silent when one
// of these is present (migration-failed-unexplained). Pure.

import type { Event, VirtualMachineInstanceMigration } from "../k8s/types.js";
import {
  ageSeconds,
  allowedRunningSeconds,
  eventEvidence,
  eventTime,
  findEvents,
  formatWait,
  isFinal,
  migrationEndTime,
  migrationObject,
  phaseTime,
  relevantMigrations,
  targetPodsOf,
  timeOf,
  vmiObject,
} from "./evidence.js";
import type { Evidence, Snapshot } from "./types.js";

export type SignalKind = "failed" | "stuck" | "refused";

export interface FailureSignal {
  kind: SignalKind;
  /** The migration it is about, when the VMIM is still there. */
  migration?: VirtualMachineInstanceMigration | undefined;
  /** The UID of the migration it is about, when known (also from the VMI's migrationState). */
  migrationUid?: string | undefined;
  /** One line: what went wrong, from state. */
  description: string;
  evidence: Evidence[];
}

/** How long an unfinished migration may stay in a phase before it counts as stuck, in seconds. */
export const stuckAfterSeconds: Readonly<Record<string, number>> = {
  // Parallel limits and backoff hold a migration Pending, each for minutes at most.
  "": 600,
  Pending: 600,
  // The target pod: the unschedulable timeout is 5 min, the catch-all pending one 15 min.
  Scheduling: 960,
  // virt-handler prepares the target and starts the transfer within seconds to a minute.
  Scheduled: 600,
  PreparingTarget: 600,
  TargetReady: 600,
};
/** A target pod that got a node starts within a minute or two; Scheduling this long after is stuck. */
const placedStuckAfterSeconds = 600;

function placedTargetPod(s: Snapshot, m: VirtualMachineInstanceMigration): boolean {
  return targetPodsOf(s, m).some((p) => p.spec?.nodeName);
}

/** Without the VM's memory size, a Running migration this old is past any default timeout. */
const runningFallbackSeconds = 3600;
/** An abort that virt-handler has not finished after this long is stuck. */
export const abortStuckAfterSeconds = 120;

/** When the newest successful migration ended (−∞ when none): failures before it are history. */
export function lastSuccessAt(s: Snapshot): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const m of s.migrations) {
    if (m.status?.phase === "Succeeded")
      newest = Math.max(newest, timeOf(migrationEndTime(s, m) ?? m.metadata.creationTimestamp));
  }
  const state = s.vmi?.status?.migrationState;
  if (state?.completed && !state.failed) newest = Math.max(newest, timeOf(state.endTimestamp ?? undefined));
  return newest;
}

/** Whether the user (or a drain's cancel) asked to abort this migration: then Failed is the intended end. */
export function cancelRequested(s: Snapshot, m: VirtualMachineInstanceMigration): boolean {
  if (m.metadata.deletionTimestamp) return true;
  if (m.status?.conditions?.some((c) => c.type === "migrationAbortRequested" && c.status === "True"))
    return true;
  const state = s.vmi?.status?.migrationState;
  const own = m.status?.migrationState;
  if (own?.abortRequested) return true;
  if (state?.abortRequested && m.metadata.uid !== undefined && state.migrationUid === m.metadata.uid)
    return true;
  return (
    findEvents(s, {
      kind: "VirtualMachineInstanceMigration",
      name: m.metadata.name,
      message: /^migration canceled|being canceled/i,
    }).length > 0
  );
}

/** The phases a migration went through, in order, as `Pending → Scheduling → Failed`. */
export function phaseStory(m: VirtualMachineInstanceMigration): string {
  const phases = (m.status?.phaseTransitionTimestamps ?? []).map((t) => t.phase ?? "?");
  if (phases.length === 0) return m.status?.phase || "no phase";
  if (m.status?.phase && phases.at(-1) !== m.status.phase) phases.push(m.status.phase);
  return phases.join(" → ");
}

/** The last phase a failed migration reached before Failed ("" when none is recorded). */
export function phaseBeforeFailure(m: VirtualMachineInstanceMigration): string {
  const phases = (m.status?.phaseTransitionTimestamps ?? [])
    .filter((t) => t.phase !== "Failed")
    .sort((a, b) => timeOf(a.phaseTransitionTimestamp) - timeOf(b.phaseTransitionTimestamp));
  return phases.at(-1)?.phase ?? "";
}

/** Whether the transfer began: the migration reached Running, or the VMI recorded its start. */
export function transferBegan(s: Snapshot, m: VirtualMachineInstanceMigration): boolean {
  if (phaseTime(m, "Running")) return true;
  const state = s.vmi?.status?.migrationState;
  const own = m.status?.migrationState;
  if (own?.startTimestamp) return true;
  return !!(state?.startTimestamp && m.metadata.uid !== undefined && state.migrationUid === m.metadata.uid);
}

function failedSignal(s: Snapshot, m: VirtualMachineInstanceMigration): FailureSignal {
  const before = phaseBeforeFailure(m);
  const end = migrationEndTime(s, m);
  const created = m.metadata.creationTimestamp;
  const lasted = end && created ? Math.round((timeOf(end) - timeOf(created)) / 1000) : undefined;
  const evidence: Evidence[] = [
    {
      object: migrationObject(m),
      field: "status.phaseTransitionTimestamps",
      time: end,
      text: `${phaseStory(m)}${lasted !== undefined && lasted >= 0 ? ` (failed ${formatWait(lasted)} after it was created)` : ""}`,
    },
  ];
  return {
    kind: "failed",
    migration: m,
    migrationUid: m.metadata.uid,
    description: `${migrationObject(m)} failed${before ? ` after ${before}` : ""}`,
    evidence,
  };
}

function stuckSignal(s: Snapshot, m: VirtualMachineInstanceMigration): FailureSignal | undefined {
  const abortAt =
    m.metadata.deletionTimestamp ??
    m.status?.conditions?.find((c) => c.type === "migrationAbortRequested" && c.status === "True")
      ?.lastTransitionTime ??
    undefined;
  if (abortAt) {
    const age = ageSeconds(s, abortAt);
    if (age === undefined || age < abortStuckAfterSeconds) return undefined;
    return {
      kind: "stuck",
      migration: m,
      migrationUid: m.metadata.uid,
      description: `the abort of ${migrationObject(m)} was requested ${formatWait(age)} ago and it is still ${m.status?.phase || "unset"}`,
      evidence: [
        {
          object: migrationObject(m),
          field: m.metadata.deletionTimestamp
            ? "metadata.deletionTimestamp"
            : "status.conditions[migrationAbortRequested]",
          time: abortAt,
          text: `abort requested; phase still ${m.status?.phase || "unset"}`,
        },
      ],
    };
  }
  const phase = m.status?.phase ?? "";
  const at =
    (m.status?.phaseTransitionTimestamps ?? []).filter((t) => t.phase === phase).at(-1)
      ?.phaseTransitionTimestamp ?? m.metadata.creationTimestamp;
  const age = ageSeconds(s, at);
  if (age === undefined) return undefined;
  const limit =
    phase === "Running"
      ? (() => {
          const allowed = allowedRunningSeconds(s);
          return allowed === undefined ? runningFallbackSeconds : allowed + 300;
        })()
      : phase === "Scheduling" && placedTargetPod(s, m)
        ? placedStuckAfterSeconds
        : stuckAfterSeconds[phase];
  if (limit === undefined || age < limit) return undefined;
  return {
    kind: "stuck",
    migration: m,
    migrationUid: m.metadata.uid,
    description: `${migrationObject(m)} has been ${phase || "without a phase"} for ${formatWait(age)}`,
    evidence: [
      {
        object: migrationObject(m),
        field: "status.phase",
        time: at,
        text: `${phase || "unset"} for ${formatWait(age)} (${phaseStory(m)})`,
      },
    ],
  };
}

/** Warning events that KubeVirt writes when a migration fails or cannot proceed. */
const failureEventReasons =
  /^(FailedMigration|Migrated|MigrationBackoff|migrationTargetPodUnschedulable|FailedHandOver|FailedAbortMigration)$/;

function failureEvents(s: Snapshot, since: number): Event[] {
  return s.events.filter(
    (e) =>
      e.type === "Warning" &&
      failureEventReasons.test(e.reason ?? "") &&
      // `Migrated` is also a Warning for "migrated to unknown host"; any Warning of it is news.
      timeOf(eventTime(e)) > since,
  );
}

/**
 * Every sign that a migration of the VM failed, is stuck or was refused, and is still news
 * (no successful migration since). Empty when nothing went wrong.
 */
export function failureSignals(s: Snapshot): FailureSignal[] {
  const since = lastSuccessAt(s);
  const signals: FailureSignal[] = [];
  for (const m of relevantMigrations(s)) {
    if (m.status?.phase === "Failed") {
      if (cancelRequested(s, m)) continue;
      if (timeOf(migrationEndTime(s, m) ?? m.metadata.creationTimestamp) < since) continue;
      signals.push(failedSignal(s, m));
    } else if (!isFinal(m)) {
      const stuck = stuckSignal(s, m);
      if (stuck) signals.push(stuck);
    }
  }
  // virt-controller could not create the target pod (a webhook, a quota, a render error): its
  // FailedCreate Warning on the VMI while an unfinished migration waits for that pod.
  for (const m of relevantMigrations(s)) {
    if (isFinal(m) || signals.some((x) => x.migration === m)) continue;
    if (!["", "Pending", "Scheduling"].includes(m.status?.phase ?? "")) continue;
    const refusals = findEvents(s, {
      kind: "VirtualMachineInstance",
      reason: "FailedCreate",
      type: "Warning",
    }).filter(
      (e) =>
        timeOf(eventTime(e)) >= timeOf(m.metadata.creationTimestamp) &&
        !/workload-update|evacuation|disruption/i.test(e.source?.component ?? e.reportingComponent ?? "") &&
        !/Migration/.test(e.message ?? ""),
    );
    const last = refusals.at(-1);
    if (last)
      signals.push({
        kind: "refused",
        migration: m,
        migrationUid: m.metadata.uid,
        description: `${migrationObject(m)} is ${m.status?.phase || "unset"} and virt-controller failed to create its target pod (FailedCreate${(last.count ?? 1) > 1 ? ` ×${last.count}` : ""})`,
        evidence: [eventEvidence(last)],
      });
  }
  const state = s.vmi?.status?.migrationState;
  const known = new Set(signals.map((x) => x.migrationUid).filter((u) => u !== undefined));
  const vmimOfState = s.migrations.find(
    (m) => state?.migrationUid !== undefined && m.metadata.uid === state.migrationUid,
  );
  if (
    state?.failed &&
    !state.abortRequested &&
    !(state.migrationUid && known.has(state.migrationUid)) &&
    !(vmimOfState && cancelRequested(s, vmimOfState)) &&
    timeOf(state.endTimestamp ?? undefined) >= since
  ) {
    signals.push({
      kind: "failed",
      migration: vmimOfState,
      migrationUid: state.migrationUid,
      description: `the VMI's migrationState records a failed migration${state.targetNode ? ` to ${state.targetNode}` : ""}`,
      evidence: [
        {
          object: vmiObject(s),
          field: "status.migrationState",
          time: state.endTimestamp ?? undefined,
          text: `failed: true, completed: ${state.completed === true}${state.sourceNode ? `, ${state.sourceNode} → ${state.targetNode ?? "?"}` : ""}`,
        },
      ],
    });
  } else if (
    state?.abortRequested &&
    !state.completed &&
    state.abortStatus !== "Succeeded" &&
    state.abortStatus !== "Failed" &&
    !vmimOfState
  ) {
    // The VMIM is gone (deleted) and the abort it asked for never finished.
    const age = ageSeconds(s, state.startTimestamp ?? undefined);
    if (age !== undefined && age >= abortStuckAfterSeconds)
      signals.push({
        kind: "stuck",
        migrationUid: state.migrationUid,
        description: `an abort was requested and the VMI's migrationState has not finished it (${state.abortStatus ?? "no abortStatus"})`,
        evidence: [
          {
            object: vmiObject(s),
            field: "status.migrationState",
            time: state.startTimestamp ?? undefined,
            text: `abortRequested: true, abortStatus: ${state.abortStatus ?? "unset"}, completed: false`,
          },
        ],
      });
  }
  // A refused migrate (or VMIM write); a refused restart is not a migration's failure.
  for (const r of s.rejections.filter((x) => /migrat/i.test(x.request))) {
    signals.push({
      kind: "refused",
      description: `${r.request} was refused (HTTP ${r.status})`,
      evidence: [
        {
          object: r.request,
          field: `HTTP ${r.status}${r.reason ? ` ${r.reason}` : ""}`,
          time: r.at,
          text: r.message,
        },
      ],
    });
  }
  // Only events left (the VMIMs collected, the VMI restarted): KubeVirt's own failure events.
  // Events about a migration whose VMIM or migrationState is there were judged by that state.
  if (signals.length === 0) {
    const judged = [...s.migrations.map((m) => m.metadata.uid), state?.migrationUid].filter(
      (u): u is string => typeof u === "string" && u !== "",
    );
    const events = failureEvents(s, since).filter(
      (e) =>
        !(e.reason === "Migrated" && /^The VirtualMachineInstance migrated to node/.test(e.message ?? "")) &&
        !judged.some((uid) => (e.message ?? "").includes(uid)),
    );
    const newest = events.at(-1);
    if (newest)
      signals.push({
        kind: "failed",
        description: `KubeVirt reported a failed migration (${newest.reason} event)`,
        evidence: events.slice(-3).map(eventEvidence),
      });
  }
  return signals;
}
