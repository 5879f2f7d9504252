// not-converging: the guest dirties memory faster than the migration sends it, so the copy never
// catches up and virt-launcher's monitor aborts the migration: over the completion time
// (`completionTimeoutPerGiB` × size), as a busy guest is, or for no progress in `progressTimeout`.
// The monitor counts any drop of the remaining data since its previous poll (400 ms before) as
// progress, and every pass still drains, so a busy guest is practically never "stuck": it runs to
// the completion timeout (live-migration-source.go, every release v1.0–v1.9).
// v1.8 and earlier say so in failureReason ("Live migration stuck for N seconds and has been
// aborted", "... is not completed after N seconds ..."; v0.x wrote "sec"); v1.9 and later only
// write "Live migration has been aborted" and put the detail in the launcher log ("Aborting
// migration: stuck for N seconds") (facts §m, §n). The launcher's `Migration info` lines show
// the dirty rate against the bandwidth when they were read.
//
// State signature: a failed migration with abortStatus Succeeded although nobody requested an
// abort (abortRequested unset: the launcher records its own abort so), or one that ran
// (migrationState startTimestamp → endTimestamp) as long as the completion timeout allows. The
// abort texts, wherever they appear (failureReason, events, launcher lines), raise the confidence
// and say which timeout it was.

import type {
  VirtualMachineInstanceMigration,
  VirtualMachineInstanceMigrationState,
} from "../../k8s/types.js";
import { kvmigCommand } from "../../util/shell.js";
import {
  ageSeconds,
  allowedRunningSeconds,
  eventEvidence,
  failureTextsMatching,
  findEvents,
  findLogLines,
  hasLogs,
  isFinal,
  logEvidence,
  migrationObject,
  migrationSettings,
  nonEmpty,
  patchMigrationConfig,
  phaseTime,
  secondsBetween,
  vmiObject,
} from "../evidence.js";
import { endedConclusion, forecastOfLines, modelFix, runningConclusion } from "../forecast.js";
import {
  dirtyAtLeastBandwidth,
  type LauncherProgress,
  progressLines,
  ratesNote,
} from "../launcher-progress.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "not-converging";
const title = "Migration does not converge";
const docs = "https://kubevirt.io/user-guide/compute/live_migration/";
const oldReason =
  /Live migration (stuck for (\d+) (?:seconds|sec)|is not completed after (\d+) (?:seconds|sec)) and has been aborted/;
const newReason = /^Live migration has been aborted$/;
/**
 * libvirt's own text of an aborted job, in every libvirt's wording ("job 'migration out' canceled
 * by client", "migration out job: canceled by client", "migration job: canceled by client"):
 * KubeVirt itself matches only "canceled by client".
 */
const libvirtAbort = /canceled by client/;
const abortLog = /Aborting migration: (stuck for (\d+) seconds|not completed after (\d+) seconds)/;
/** A running migration whose remaining data has not reached a new low for this long is stalling. */
const stallSeconds = 60;

interface Attempt {
  migration?: VirtualMachineInstanceMigration | undefined;
  uid?: string | undefined;
  state?: VirtualMachineInstanceMigrationState | undefined;
  stateObject: string;
}

/** Failed migrations not followed by a successful one, newest last, with the state that records their end. */
function failedAttempts(s: Snapshot): Attempt[] {
  const lastSuccess = s.migrations.findLastIndex((m) => m.status?.phase === "Succeeded");
  const attempts: Attempt[] = [];
  for (const m of s.migrations.slice(lastSuccess + 1)) {
    if (m.status?.phase !== "Failed") continue;
    const vmiState = s.vmi?.status?.migrationState;
    const own = vmiState?.migrationUid !== undefined && vmiState.migrationUid === m.metadata.uid;
    attempts.push({
      migration: m,
      uid: m.metadata.uid,
      state: own ? vmiState : m.status?.migrationState,
      stateObject: own ? vmiObject(s) : migrationObject(m),
    });
  }
  // A cancelled or deleted VMIM leaves only the VMI's record (facts §m).
  const vmiState = s.vmi?.status?.migrationState;
  if (
    vmiState?.failed &&
    !s.migrations.some((m) => m.metadata.uid === vmiState.migrationUid) &&
    lastSuccess < 0
  ) {
    attempts.push({ uid: vmiState.migrationUid, state: vmiState, stateObject: vmiObject(s) });
  }
  return attempts;
}

/**
 * The dirty rate against the bandwidth in the last progress lines, and what to add about the last
 * line's rates when the quoted line does not give them right; undefined without lines.
 */
function rateEvidence(
  lines: LauncherProgress[],
): { evidence: Evidence; dirtyAbove: boolean; note?: string | undefined } | undefined {
  const last = lines.at(-1);
  if (!last) return undefined;
  const dirtyAbove = lines.slice(-3).every((l) => dirtyAtLeastBandwidth(l.rates));
  return { evidence: logEvidence(last.entry), dirtyAbove, note: ratesNote(last) };
}

/**
 * The v0.x–v1.8 abort text ("Live migration stuck for N sec and has been aborted") found outside
 * failureReason: in a Warning event naming the migration, or a launcher log line of its time
 * ("Live migration abort detected with reason: ...").
 */
function oldInText(s: Snapshot, attempt: Attempt): Evidence | undefined {
  return failureTextsMatching(s, oldReason).find(
    (e) =>
      !e.field?.startsWith("log") ||
      attempt.state?.sourcePod === undefined ||
      e.object === `Pod/${attempt.state.sourcePod}`,
  );
}

/**
 * The monitor's abort, from state alone: the migration failed with abortStatus Succeeded while
 * nobody asked for an abort (the launcher records its own aborts so), or it ran (startTimestamp
 * to endTimestamp) as long as the completion timeout allows (completionTimeoutPerGiB × GiB).
 */
function monitorAbortByState(
  s: Snapshot,
  attempt: Attempt,
): { evidence: Evidence[]; cause?: string | undefined; confidence: Confidence } | undefined {
  const state = attempt.state;
  if (!state?.failed || state.abortRequested) return undefined;
  if (attempt.migration?.metadata.deletionTimestamp) return undefined;
  const ran = secondsBetween(state.startTimestamp ?? undefined, state.endTimestamp ?? undefined);
  const completion = completionTimeoutSeconds(s);
  const atTimeout = ran !== undefined && completion !== undefined && ran >= completion * 0.95;
  const selfAborted = state.abortStatus === "Succeeded";
  if (!selfAborted && !atTimeout) return undefined;
  const evidence: Evidence[] = [
    {
      object: attempt.stateObject,
      field: "status.migrationState",
      time: state.endTimestamp ?? undefined,
      text: `failed: true, abortStatus: ${state.abortStatus ?? "unset"}, abortRequested: false${ran !== undefined ? `, ran ${ran} s (startTimestamp → endTimestamp)` : ""}`,
    },
  ];
  if (completion !== undefined)
    evidence.push({
      object: attempt.stateObject,
      field: "completion timeout",
      text: `${completion} s (completionTimeoutPerGiB × the guest's GiB of memory)`,
    });
  return {
    evidence,
    cause: atTimeout ? `not completed within the ${completion} s completion timeout` : undefined,
    confidence: selfAborted && atTimeout ? "medium" : "low",
  };
}

/** completionTimeoutPerGiB × the guest memory in GiB (at least one), when the memory is known. */
function completionTimeoutSeconds(s: Snapshot): number | undefined {
  const allowed = allowedRunningSeconds(s);
  if (allowed === undefined) return undefined;
  const conf = s.vmi?.status?.migrationState?.migrationConfiguration;
  return allowed - (conf?.progressTimeout ?? migrationSettings(s).progressTimeout);
}

/** The reason in the newest `... migration uid <uid> failed. reason:<text>` event about the attempt. */
function reasonFromEvents(s: Snapshot, uid: string | undefined): string | undefined {
  if (uid === undefined) return undefined;
  const events = findEvents(s, { type: "Warning", message: /failed\. reason: ?/ }).filter((e) =>
    (e.message ?? "").includes(uid),
  );
  const text = events.at(-1)?.message ?? "";
  return /failed\. reason: ?(.*)$/s.exec(text)?.[1]?.trim() || undefined;
}

function fix(s: Snapshot): Finding["fix"] {
  const settings = migrationSettings(s);
  const patch = (migrations: Record<string, unknown>) => patchMigrationConfig(s, migrations);
  const commands: string[] = [];
  if (!settings.allowAutoConverge) commands.push(patch({ allowAutoConverge: true }));
  const limited =
    settings.bandwidthPerMigration !== undefined && !/^0[A-Za-z]*$/.test(settings.bandwidthPerMigration);
  if (limited) commands.push(patch({ bandwidthPerMigration: "0Mi" }));
  if (!settings.allowPostCopy) commands.push(patch({ allowPostCopy: true }));
  commands.push(kvmigCommand(["migrate", s.vmName, "-n", s.namespace]));
  return {
    explanation:
      "The guest writes memory faster than it can be copied. Let KubeVirt throttle the guest (allowAutoConverge), " +
      (limited ? `lift the per-migration bandwidth cap (${settings.bandwidthPerMigration}), ` : "") +
      "or switch to post-copy (allowPostCopy: the guest briefly runs on the target with its memory fetched on demand; a network failure then loses the VM). " +
      "To change only this VM, put the same settings in a MigrationPolicy that selects its labels; a dedicated migration network (spec.configuration.migrations.network) adds bandwidth. Then migrate again, ideally when the guest is less busy.",
    commands,
  };
}

function abortedFinding(s: Snapshot, attempt: Attempt, count: number): Finding | undefined {
  // failureReason exists from v1.3 on; before, the reason is only in virt-handler's Migrated event.
  const reason = attempt.state?.failureReason ?? reasonFromEvents(s, attempt.uid) ?? "";
  const evidence: Evidence[] = [];
  const notChecked: string[] = [];
  const at =
    attempt.state?.endTimestamp ?? (attempt.migration ? phaseTime(attempt.migration, "Failed") : undefined);
  let cause: string | undefined;
  let confidence: Confidence;
  const old = oldReason.exec(reason);
  const uidEvents = findEvents(s, {
    reason: "Migrated",
    type: "Warning",
    message: /failed\. reason:/,
  }).filter((e) => attempt.uid === undefined || (e.message ?? "").includes(attempt.uid));
  const sourcePod = attempt.state?.sourcePod;
  const logs = findLogLines(s, abortLog).filter((l) => sourcePod === undefined || l.pod === sourcePod);
  const lines = progressLines(s, attempt.uid);
  const rates = rateEvidence(lines);
  // The forecast model over the same lines: what they showed, and its advice as the fix.
  const model = forecastOfLines(s, attempt.uid, lines);
  if (old) {
    evidence.push({
      object: attempt.stateObject,
      field: "status.migrationState.failureReason",
      time: at,
      text: reason,
    });
    cause = old[2] ? `no progress for ${old[2]} seconds` : `not completed within ${old[3]} seconds`;
    confidence = "high";
  } else if (oldInText(s, attempt)) {
    const text = oldInText(s, attempt) as Evidence;
    evidence.push(text);
    const m = oldReason.exec(text.text);
    cause = m?.[2] ? `no progress for ${m[2]} seconds` : `not completed within ${m?.[3]} seconds`;
    confidence = "high";
  } else if (newReason.test(reason) || libvirtAbort.test(reason)) {
    if (attempt.state?.abortRequested === true) return undefined; // a user's cancel, not the monitor
    evidence.push({
      object: attempt.stateObject,
      field: "status.migrationState.failureReason",
      time: at,
      text: reason,
    });
    const line = logs.at(-1);
    if (line) {
      evidence.push(logEvidence(line));
      const m = abortLog.exec(line.text);
      cause = m?.[2] ? `no progress for ${m[2]} seconds` : `not completed within ${m?.[3]} seconds`;
      confidence = "high";
    } else {
      confidence = rates?.dirtyAbove ? "medium" : "low";
      if (!hasLogs(s))
        notChecked.push(
          "the source virt-launcher log, which says whether the abort was for no progress or for the completion timeout",
        );
      else
        notChecked.push(
          'an "Aborting migration:" line in the launcher logs that were read (the log tail may not reach back to the abort)',
        );
    }
    if (
      !libvirtAbort.test(reason) &&
      attempt.state?.abortStatus !== undefined &&
      attempt.state.abortStatus !== "Succeeded"
    )
      return undefined;
  } else {
    const monitor = monitorAbortByState(s, attempt);
    if (!monitor) return undefined;
    evidence.push(...monitor.evidence);
    cause = monitor.cause;
    confidence = monitor.confidence;
    notChecked.push(
      "the abort's own words (no failureReason, event or launcher line says why it was aborted)",
    );
  }
  for (const e of uidEvents.slice(-1)) evidence.push(eventEvidence(e));
  if (rates) {
    evidence.push(rates.evidence);
    if (rates.dirtyAbove && confidence === "low") confidence = "medium";
  } else if (hasLogs(s)) {
    notChecked.push("the launcher's Migration info lines for this migration (dirty rate against bandwidth)");
  }
  const rateText = rates
    ? rates.dirtyAbove
      ? " The launcher's last progress lines show the guest dirtying memory at least as fast as the migration sends it."
      : " The launcher's last progress lines do not show the dirty rate above the bandwidth, so a slow or congested migration network is as likely as a busy guest."
    : "";
  const noteText = rates?.note ? ` ${rates.note}` : "";
  const repeated = count > 1 ? ` ${count} attempts since the last successful migration ended this way.` : "";
  const conclusion = model ? ` ${endedConclusion(model, at)}` : "";
  // A timeout is no stall: each pass still shrank the remaining data, then the next began.
  const why = cause?.startsWith("not completed")
    ? ": each pass left as much to copy again, so the copy could not catch up with the guest in the time allowed."
    : ": the remaining data stopped shrinking, so the copy could not catch up with the guest.";
  return {
    id,
    title,
    severity: "error",
    confidence,
    summary:
      `${attempt.migration ? migrationObject(attempt.migration) : "The last migration"} was aborted by virt-launcher's migration monitor` +
      (cause ? ` (${cause})` : "") +
      `${why}${rateText}${noteText}${conclusion}${repeated}`,
    evidence,
    fix: (model && modelFix(s, model)) ?? fix(s),
    docs,
    notChecked: nonEmpty(notChecked),
  };
}

/**
 * What virt-launcher does at the completion timeout (handleLegacyConvergence): with
 * allowWorkloadDisruption (which follows allowPostCopy when unset), post-copy if allowed, else it
 * pauses the guest; without it, the abort. The migration's own configuration when the VMI's state
 * is about it, else the cluster's.
 */
function atCompletionTimeout(s: Snapshot, running: VirtualMachineInstanceMigration): string {
  const state = s.vmi?.status?.migrationState;
  const own = state?.migrationUid === running.metadata.uid ? state?.migrationConfiguration : undefined;
  const cluster = s.kubevirt?.spec.configuration?.migrations;
  const postCopy = own?.allowPostCopy ?? cluster?.allowPostCopy ?? false;
  const disruption = own?.allowWorkloadDisruption ?? cluster?.allowWorkloadDisruption ?? postCopy;
  if (!disruption) return "is then aborted";
  return postCopy ? "then switches to post-copy" : "then pauses the guest until the copy is done";
}

/** A running migration whose progress lines show it losing the race right now. */
function stallingFinding(s: Snapshot): Finding | undefined {
  const running = s.migrations.filter((m) => m.status?.phase === "Running" && !isFinal(m)).at(-1);
  if (!running) return undefined;
  const lines = progressLines(s, running.metadata.uid);
  const rates = rateEvidence(lines);
  if (!rates?.dirtyAbove) return undefined;
  const model = forecastOfLines(s, running.metadata.uid, lines);
  // When did the remaining data last reach a new low?
  let low = Number.POSITIVE_INFINITY;
  let lowAt: string | undefined;
  for (const l of lines) {
    const remaining = l.progress.dataRemainingBytes;
    if (remaining < low) {
      low = remaining;
      lowAt = l.entry.time;
    }
  }
  const stalled = ageSeconds(s, lowAt);
  if (stalled === undefined || stalled < stallSeconds) return undefined;
  const settings = migrationSettings(s);
  return {
    id,
    title: "Migration is not converging",
    severity: "warning",
    confidence: "medium",
    summary:
      `${migrationObject(running)} is Running but its remaining data has not reached a new low for ${stalled} s and the guest dirties memory at least as fast as it is sent. ` +
      (model ? `${runningConclusion(model)} ` : "") +
      `virt-launcher counts any drop since its previous poll as progress, so its ${settings.progressTimeout} s progress timeout will not end it: ` +
      `it runs until the completion timeout (completionTimeoutPerGiB × the guest's size) and ${atCompletionTimeout(s, running)}.` +
      (rates.note ? ` ${rates.note}` : ""),
    evidence: [rates.evidence],
    fix: (model && modelFix(s, model)) ?? fix(s),
    docs,
  };
}

export const notConverging: Rule = {
  id,
  title,
  severity: "error",
  detect(s: Snapshot): Finding[] {
    const attempts = failedAttempts(s);
    const findings: Finding[] = [];
    const aborted = attempts
      .map((a) => ({ a, f: abortedFinding(s, a, 1) }))
      .filter((x): x is { a: Attempt; f: Finding } => x.f !== undefined);
    const newest = aborted.at(-1);
    if (newest) {
      const again = abortedFinding(s, newest.a, aborted.length);
      if (again) findings.push(again);
    }
    const stalling = stallingFinding(s);
    if (stalling) findings.push(stalling);
    return findings;
  },
};
