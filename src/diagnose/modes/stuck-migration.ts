// stuck-migration: a migration that stays unfinished with nothing moving: no phase change and no
// progress for far longer than KubeVirt's own timeouts allow, or a cancel (the VMIM deleted, the
// abort requested) that never completes (kubevirt/kubevirt#2228). Pending is left to
// migration-queued for its first hour (and for as long as the queue is seen full) and an
// unschedulable target to target-pod-unschedulable: both have their own timeouts and explanations.
//
// State signature: a VMIM whose deletionTimestamp or migrationAbortRequested condition is over
// two minutes old and still not final; a phase held far past KubeVirt's own timeouts (Running past
// the completion and progress timeouts with no progress line, a preparing phase over ten minutes,
// Pending over an hour with no target pod and no full queue).

import type { VirtualMachineInstanceMigration } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  ageSeconds,
  allowedRunningSeconds,
  formatWait,
  hasLogs,
  isFinal,
  logEvidence,
  migrationObject,
  nonEmpty,
  podsOfMigration,
  vmiObject,
} from "../evidence.js";
import { progressLines } from "../launcher-progress.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";
import { handlerDisruptionSignals } from "./handler-disruption.js";
import { migrationQueued, queuedAtMostSeconds } from "./migration-queued.js";

const id = "stuck-migration";
const title = "Migration is stuck";
const docs = "https://kubevirt.io/user-guide/compute/live_migration/";
/** An abort that has not finished after this long is stuck (virt-handler acts within seconds). */
const abortStuckSeconds = 120;
/** Phases between hand-off and start: virt-handler prepares the target within seconds to a minute. */
const preparePhases = new Set(["Scheduled", "PreparingTarget", "TargetReady"]);
const prepareStuckSeconds = 600;
/** Launcher progress lines come every few seconds; none for this long means nothing is moving. */
const silentLogSeconds = 300;

function lastTransition(m: VirtualMachineInstanceMigration): { phase: string; at?: string | undefined } {
  const stamps = m.status?.phaseTransitionTimestamps ?? [];
  const phase = m.status?.phase ?? "";
  const own = stamps.filter((t) => t.phase === phase).at(-1) ?? stamps.at(-1);
  return { phase, at: own?.phaseTransitionTimestamp ?? m.metadata.creationTimestamp };
}

function abortFinding(s: Snapshot, m: VirtualMachineInstanceMigration): Finding | undefined {
  const state = s.vmi?.status?.migrationState;
  const handedOff = state?.migrationUid !== undefined && state.migrationUid === m.metadata.uid;
  const condition = m.status?.conditions?.find(
    (c) => c.type === "migrationAbortRequested" && c.status === "True",
  );
  const requestedAt =
    m.metadata.deletionTimestamp ?? condition?.lastTransitionTime ?? condition?.lastProbeTime ?? undefined;
  const requested =
    m.metadata.deletionTimestamp !== undefined ||
    condition !== undefined ||
    (handedOff && state?.abortRequested === true);
  if (!requested) return undefined;
  const age = ageSeconds(s, requestedAt);
  if (age === undefined || age < abortStuckSeconds) return undefined;
  const evidence: Evidence[] = [];
  if (m.metadata.deletionTimestamp) {
    evidence.push({
      object: migrationObject(m),
      field: "metadata.deletionTimestamp",
      time: m.metadata.deletionTimestamp,
      text: `deleted (cancel requested) ${formatWait(age)} ago; finalizer ${m.metadata.finalizers?.join(", ") ?? "none"} still holds it`,
    });
  }
  if (condition) {
    evidence.push({
      object: migrationObject(m),
      field: "status.conditions[migrationAbortRequested]",
      time: condition.lastProbeTime ?? condition.lastTransitionTime ?? undefined,
      text: `True; phase still ${m.status?.phase ?? "unset"}`,
    });
  } else {
    evidence.push({ object: migrationObject(m), field: "status.phase", text: m.status?.phase ?? "unset" });
  }
  if (handedOff) {
    evidence.push({
      object: vmiObject(s),
      field: "status.migrationState",
      text: `abortRequested: ${state?.abortRequested === true}, abortStatus: ${state?.abortStatus ?? "unset"}, completed: ${state?.completed === true}`,
    });
  }
  const target = podsOfMigration(s, m).at(-1);
  if (target)
    evidence.push({
      object: `Pod/${target.metadata.name}`,
      field: "status.phase",
      text: `${target.status?.phase ?? "unknown"}${target.spec?.nodeName ? ` on ${target.spec.nodeName}` : ", not scheduled"}`,
    });
  const beforeHandOff =
    !handedOff && ["", "Pending", "Scheduling", "Scheduled"].includes(m.status?.phase ?? "");
  const commands: string[] = [];
  if (beforeHandOff && target && target.status?.phase !== "Running") {
    commands.push(commandLine(["kubectl", "delete", "pod", target.metadata.name ?? "", "-n", s.namespace]));
  }
  commands.push(kvmigCommand(["watch", s.vmName, "-n", s.namespace]));
  commands.push(kvmigCommand(["restart", s.vmName, "-n", s.namespace]));
  return {
    id,
    title: "Migration cancel does not complete",
    severity: "error",
    confidence: "high",
    summary:
      `The cancel of ${migrationObject(m)} was requested ${formatWait(age)} ago and the migration is still ${m.status?.phase || "unset"}` +
      (beforeHandOff
        ? ": it was cancelled before the target took over, a case KubeVirt before v0.53 could not abort (kubevirt/kubevirt#2228)."
        : handedOff && state?.abortStatus === "Aborting"
          ? ": virt-handler reports the abort as still Aborting."
          : ": the source virt-handler has not reported the abort result."),
    evidence,
    fix: {
      explanation: beforeHandOff
        ? "Delete the migration's target pod so that the controller can finish the cancel; if the VMIM still hangs, restart the VM (downtime) and upgrade KubeVirt."
        : "Check virt-handler on the source node; if the abort still does not finish, restart the VM (downtime) to clear the migration.",
      commands,
    },
    docs,
  };
}

function silentFinding(s: Snapshot, m: VirtualMachineInstanceMigration): Finding | undefined {
  const { phase, at } = lastTransition(m);
  const age = ageSeconds(s, at);
  if (age === undefined) return undefined;
  const evidence: Evidence[] = [
    {
      object: migrationObject(m),
      field: "status.phaseTransitionTimestamps",
      time: at,
      text: `${phase || "unset"} since ${formatWait(age)} before the snapshot, no later phase`,
    },
  ];
  const notChecked: string[] = [];
  let confidence: Confidence;
  let why: string;
  if (phase === "Running") {
    const last = progressLines(s, m.metadata.uid).at(-1)?.entry;
    const allowed = allowedRunningSeconds(s);
    if (last) {
      const silent = ageSeconds(s, last.time);
      if (silent === undefined || silent < silentLogSeconds) return undefined; // still reporting progress
      evidence.push(logEvidence(last));
      confidence = "high";
      why = `the source launcher's last progress line is ${formatWait(silent)} old`;
    } else {
      if (allowed === undefined ? age < 3600 : age < allowed + 300) return undefined;
      if (hasLogs(s)) {
        confidence = "medium";
        why = "the launcher logs that were read hold no progress line for it";
      } else {
        confidence = allowed === undefined ? "low" : "medium";
        why = "its launcher log was not read";
        notChecked.push("the source virt-launcher log (whether the migration still reports progress)");
      }
    }
    if (allowed !== undefined && age > allowed) {
      why += `, and it has run longer than the ${formatWait(allowed)} after which virt-launcher aborts a migration by itself`;
    }
    const state = s.vmi?.status?.migrationState;
    if (state && state.migrationUid === m.metadata.uid) {
      evidence.push({
        object: vmiObject(s),
        field: "status.migrationState",
        text: `startTimestamp: ${state.startTimestamp ?? "unset"}, completed: ${state.completed === true}, failed: ${state.failed === true}, mode: ${state.mode ?? "unset"}`,
      });
    }
  } else if (phase === "Pending" || phase === "") {
    // A queue behind the parallel limits moves within minutes; past an hour with no target pod
    // and no sign of a full queue (migration-queued then stays quiet), nothing is moving.
    if (age < queuedAtMostSeconds || podsOfMigration(s, m).length > 0 || migrationQueued.detect(s).length > 0)
      return undefined;
    confidence = "medium";
    why =
      "no target pod was ever created, and nothing shows the parallel-migration limits full; virt-controller is holding it back (a stale record of an earlier migration, a target pod it cannot render, a condition it waits for)";
    notChecked.push(
      "virt-controller's log for this VMI (it says why it does not create the target pod), and the other VMs' migrations (whether the limits are full)",
    );
  } else if (preparePhases.has(phase)) {
    if (age < prepareStuckSeconds) return undefined;
    confidence = "medium";
    why = "virt-handler normally prepares the target and starts the transfer within a minute";
    const target = podsOfMigration(s, m).at(-1);
    if (target)
      evidence.push({
        object: `Pod/${target.metadata.name}`,
        field: "status.phase",
        text: `${target.status?.phase ?? "unknown"} on ${target.spec?.nodeName ?? "?"}`,
      });
  } else {
    return undefined;
  }
  const handler = handlerDisruptionSignals(s);
  return {
    id,
    title,
    severity: "error",
    confidence,
    summary: `${migrationObject(m)} has been ${phase || "without a phase"} for ${formatWait(age)} with nothing moving: ${why}.`,
    evidence,
    fix: {
      explanation:
        "Cancel the migration (the VM stays on its source node); if the cancel does not complete either, restart the VM (downtime). Then look at virt-handler and virt-launcher on both nodes before migrating again.",
      commands: [
        kvmigCommand(["cancel", s.vmName, "-n", s.namespace]),
        kvmigCommand(["restart", s.vmName, "-n", s.namespace]),
      ],
    },
    docs,
    notChecked: nonEmpty(notChecked),
    causedBy: handler ? "handler-disruption" : undefined,
  };
}

export const stuckMigration: Rule = {
  id,
  title,
  severity: "error",
  specificity: "pattern",
  detect(s: Snapshot): Finding[] {
    const m = s.migrations.filter((x) => !isFinal(x)).at(-1);
    if (!m) return [];
    const abort = abortFinding(s, m);
    if (abort) return [abort];
    if (m.metadata.deletionTimestamp) return [];
    const silent = silentFinding(s, m);
    return silent ? [silent] : [];
  },
};
