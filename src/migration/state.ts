// The pure phase reducer: what kvmig knows about one migration, rebuilt from watch events for
// its VMIM, its VMI and the events about them. No I/O and no clock: times come from the server
// (phaseTransitionTimestamps, migrationState) or from the `now` the caller passes in.

import {
  type Event,
  type MigrationMode,
  type VirtualMachineInstance,
  type VirtualMachineInstanceMigration,
  type VirtualMachineInstanceMigrationState,
  vmimPhases,
} from "../k8s/types.js";
import type { Forecast } from "./forecast.js";
import type { MigrationProgress } from "./progress-line.js";

export type Outcome = "in-progress" | "succeeded" | "failed";

export interface TimelineEntry {
  phase: string;
  /** RFC 3339: when the VMIM entered the phase. */
  at: string;
}

export interface MigrationView {
  namespace: string;
  vmName: string;
  /** The VMIM being followed. */
  name: string;
  uid: string;
  createdAt?: string | undefined;
  phase: string;
  timeline: TimelineEntry[];
  sourceNode?: string | undefined;
  sourcePod?: string | undefined;
  targetNode?: string | undefined;
  targetPod?: string | undefined;
  /** Where the VMI runs now. */
  vmiNode?: string | undefined;
  outcome: Outcome;
  endedAt?: string | undefined;
  failureReason?: string | undefined;
  abortRequested: boolean;
  abortStatus?: string | undefined;
  /**
   * The VMI's `migrationState.mode` for this migration: PostCopy or Paused once virt-launcher's
   * monitor switched at the completion timeout (live-migration-source.go), else PreCopy.
   */
  mode?: MigrationMode | undefined;
  /** The VMIM was deleted (a cancel, or garbage collection). */
  deleted: boolean;
  /** Latest progress from the launcher log or Prometheus. */
  progress?: MigrationProgress | undefined;
  /** DataRemaining of every progress sample, oldest first (for the sparkline). */
  remainingCurve: number[];
  /** The latest progress samples, oldest first (the forecast's input; at most `keptSamples`). */
  samples: MigrationProgress[];
  /** Will it converge, and when does it end (migration/forecast.ts), from the samples so far. */
  forecast?: Forecast | undefined;
  /** Warning events about this migration, newest last (the failure detail before hand-off). */
  warnings: string[];
  /** How the VMI's migrationState (for this migration) says it ended, if it does. */
  vmiResult?: { completed: boolean; failed: boolean; endedAt?: string | undefined } | undefined;
  /** Warnings from the source launcher's log, e.g. "Aborting migration: stuck for 150 seconds". */
  launcherWarnings: string[];
}

export type FollowInput =
  | { kind: "migration"; type: "ADDED" | "MODIFIED" | "DELETED"; object: VirtualMachineInstanceMigration }
  | { kind: "vmi"; type: "ADDED" | "MODIFIED" | "DELETED"; object: VirtualMachineInstance }
  | { kind: "event"; object: Event }
  | { kind: "progress"; progress: MigrationProgress }
  /** A warning the source launcher logged (the abort reason, which v1.9+ writes only there). */
  | { kind: "launcher"; text: string };

export function initialView(migration: VirtualMachineInstanceMigration, vmName: string): MigrationView {
  const view: MigrationView = {
    namespace: migration.metadata.namespace ?? "",
    vmName,
    name: migration.metadata.name ?? "",
    uid: migration.metadata.uid ?? "",
    createdAt: migration.metadata.creationTimestamp,
    phase: "",
    timeline: [],
    outcome: "in-progress",
    abortRequested: false,
    deleted: false,
    remainingCurve: [],
    samples: [],
    warnings: [],
    launcherWarnings: [],
  };
  return applyMigration(view, migration, undefined);
}

const final = new Set(["Succeeded", "Failed"]);

export function isFinalPhase(phase: string | undefined): boolean {
  return phase !== undefined && final.has(phase);
}

/** One step: the view after `input`. `now` stamps phases the server gave no time for. */
export function reduce(view: MigrationView, input: FollowInput, now: string): MigrationView {
  switch (input.kind) {
    case "migration":
      if (input.object.metadata.uid !== view.uid) return view;
      if (input.type === "DELETED") return applyDeleted(applyMigration(view, input.object, now));
      return applyMigration(view, input.object, now);
    case "vmi":
      return applyVmi(view, input.object);
    case "event":
      return applyEvent(view, input.object);
    case "progress":
      return applyProgress(view, input.progress);
    case "launcher":
      return view.launcherWarnings.includes(input.text)
        ? view
        : { ...view, launcherWarnings: [...view.launcherWarnings, input.text] };
  }
}

function applyMigration(
  view: MigrationView,
  migration: VirtualMachineInstanceMigration,
  now: string | undefined,
): MigrationView {
  const status = migration.status ?? {};
  const phase = status.phase ?? "";
  const timeline = mergeTimeline(view.timeline, status.phaseTransitionTimestamps ?? [], phase, now);
  let next: MigrationView = {
    ...view,
    phase: view.outcome === "in-progress" || isFinalPhase(phase) ? phase : view.phase,
    timeline,
    createdAt: view.createdAt ?? migration.metadata.creationTimestamp,
  };
  if (migration.metadata.deletionTimestamp) next.abortRequested = true;
  if (status.conditions?.some((c) => c.type === "migrationAbortRequested" && c.status === "True")) {
    next.abortRequested = true;
  }
  const state = status.migrationState;
  if (state)
    next = applyState(next, state, state.migrationUid === undefined || state.migrationUid === view.uid);
  if (phase === "Succeeded") next = finish(next, "succeeded", timeAt(timeline, phase));
  if (phase === "Failed") next = finish(next, "failed", timeAt(timeline, phase));
  return next;
}

function applyState(
  view: MigrationView,
  state: VirtualMachineInstanceMigrationState,
  ours: boolean,
): MigrationView {
  const next = { ...view, sourcePod: view.sourcePod ?? state.sourcePod };
  if (!ours) return next;
  next.sourceNode = state.sourceNode ?? next.sourceNode;
  next.targetNode = state.targetNode ?? next.targetNode;
  next.targetPod = state.targetPod ?? next.targetPod;
  next.failureReason = state.failureReason || next.failureReason;
  next.abortRequested = next.abortRequested || state.abortRequested === true;
  next.abortStatus = state.abortStatus ?? next.abortStatus;
  next.mode = state.mode ?? next.mode;
  if (state.endTimestamp) next.endedAt = next.endedAt ?? state.endTimestamp;
  return next;
}

function applyVmi(view: MigrationView, vmi: VirtualMachineInstance): MigrationView {
  const status = vmi.status ?? {};
  let next: MigrationView = { ...view, vmiNode: status.nodeName ?? view.vmiNode };
  // Before hand-off the VMI's migrationState still describes the previous migration.
  const state = status.migrationState;
  if (state && state.migrationUid === view.uid) next = applyState(next, state, true);
  next.sourceNode = next.sourceNode ?? (view.outcome === "in-progress" ? status.nodeName : undefined);
  if (state && state.migrationUid === view.uid && (state.completed || state.failed)) {
    next.vmiResult = {
      completed: state.completed === true,
      failed: state.failed === true,
      endedAt: state.endTimestamp,
    };
  }
  return next.deleted ? settleDeleted(next) : next;
}

const beforeHandOff = new Set(["", "Pending", "Scheduling", "Scheduled"]);

function applyDeleted(view: MigrationView): MigrationView {
  return settleDeleted({
    ...view,
    deleted: true,
    abortRequested: view.abortRequested || view.outcome === "in-progress",
  });
}

/** A deleted VMIM leaves the VMI as the only record of how it ended (facts §c, cancel). */
function settleDeleted(view: MigrationView): MigrationView {
  if (view.outcome !== "in-progress") return view;
  const result = view.vmiResult;
  if (result?.failed) return finish(view, "failed", result.endedAt);
  if (result?.completed) return finish(view, "succeeded", result.endedAt);
  // Deleted before hand-off: the target pod goes and the VMI never moved.
  if (beforeHandOff.has(view.phase)) return finish(view, "failed", undefined);
  return view;
}

function applyEvent(view: MigrationView, event: Event): MigrationView {
  if (event.type !== "Warning" || !event.message) return view;
  const about = event.involvedObject;
  const ours =
    (about.kind === "VirtualMachineInstanceMigration" && about.name === view.name) ||
    (about.kind === "VirtualMachineInstance" &&
      about.name === view.vmName &&
      event.message.includes(view.uid));
  if (!ours || view.warnings.includes(event.message)) return view;
  return { ...view, warnings: [...view.warnings, event.message] };
}

/** Samples a view keeps: at one every 4 s, the last ten minutes. */
export const keptSamples = 150;

function applyProgress(view: MigrationView, progress: MigrationProgress): MigrationView {
  if (progress.migrationUid !== view.uid) return view;
  return {
    ...view,
    progress,
    samples: [...view.samples.slice(1 - keptSamples), progress],
    // Before the first pass everything remains: the curve starts at the total.
    remainingCurve: [
      ...(view.remainingCurve.length === 0 && progress.dataTotalBytes > progress.dataRemainingBytes
        ? [progress.dataTotalBytes]
        : view.remainingCurve),
      progress.dataRemainingBytes,
    ],
  };
}

function finish(view: MigrationView, outcome: Outcome, at: string | undefined): MigrationView {
  return { ...view, outcome, endedAt: view.endedAt ?? at };
}

/** Server timestamps win; a phase seen without one gets `now` (and keeps it once set). */
function mergeTimeline(
  known: TimelineEntry[],
  server: ReadonlyArray<{ phase?: string; phaseTransitionTimestamp?: string }>,
  current: string,
  now: string | undefined,
): TimelineEntry[] {
  const byPhase = new Map(known.map((e) => [e.phase, e.at]));
  for (const t of server) {
    if (t.phase && t.phaseTransitionTimestamp) byPhase.set(t.phase, t.phaseTransitionTimestamp);
  }
  if (current && !byPhase.has(current) && now !== undefined) byPhase.set(current, now);
  return [...byPhase]
    .map(([phase, at]) => ({ phase, at }))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || phaseOrder(a.phase) - phaseOrder(b.phase));
}

// KubeVirt's own order of the phases (types.go), for phases entered in the same second.
const order: readonly string[] = vmimPhases;

function phaseOrder(phase: string): number {
  const i = order.indexOf(phase);
  return i < 0 ? order.length : i;
}

function timeAt(timeline: TimelineEntry[], phase: string): string | undefined {
  return timeline.find((e) => e.phase === phase)?.at;
}

export interface PhaseDuration {
  phase: string;
  ms: number;
}

/** How long each completed phase took (the last, unfinished one runs until `now`). */
export function phaseDurations(view: MigrationView, now: string): PhaseDuration[] {
  const entries = view.timeline;
  const out: PhaseDuration[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (!entry || isFinalPhase(entry.phase)) continue;
    const end = entries[i + 1]?.at ?? (view.outcome === "in-progress" ? now : view.endedAt) ?? now;
    out.push({ phase: entry.phase, ms: Math.max(0, Date.parse(end) - Date.parse(entry.at)) });
  }
  return out;
}

/** From creation to the end (or `now`), in ms. */
export function totalDuration(view: MigrationView, now: string): number {
  const start = view.createdAt ?? view.timeline[0]?.at;
  if (!start) return 0;
  const end = view.outcome === "in-progress" ? now : (view.endedAt ?? now);
  return Math.max(0, Date.parse(end) - Date.parse(start));
}

/**
 * virt-handler's Warning `Migrated` event about a failed migration: before v1.3.0 the VMI's
 * migrationState has no failureReason, and this event is the only place the reason is
 * (pkg/virt-handler/vm.go; no space after the colon).
 */
const handlerFailedEvent = /^VirtualMachineInstance migration uid \S+ failed\. reason: ?(.+)$/s;

/** Why it failed, in the best words available: the VMI's reason, else the warning events about it. */
export function failureText(view: MigrationView): string | undefined {
  if (view.failureReason) return view.failureReason;
  const specific = view.warnings.filter((w) => w !== "source node reported migration failed");
  const text = specific.at(-1) ?? view.warnings.at(-1);
  return text === undefined ? undefined : (handlerFailedEvent.exec(text)?.[1] ?? text);
}
