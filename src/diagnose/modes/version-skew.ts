// version-skew: a migration that failed between two different virt-launcher builds. After a
// KubeVirt upgrade, a VM started before it still runs the old launcher (its QEMU and libvirt);
// the target pod gets the new one. When the new QEMU cannot take the old one's state (a device
// it cannot load, a CPU feature it now reports differently) or the connection drops, live
// migration cannot move the VM to the new launcher: only a restart can.
//
// State signature: a failed migration that reached Running (the transfer began) whose source and
// target launchers run different images (read from both pods, or the source's outdated-launcher
// label or launcherContainerImageVersion against virt-controller's --launcher-image). A text of a
// lost connection or of the target refusing the source's state raises the confidence.
//
// It also exports what the other migration-failure rules share: the failed attempts since the
// last success, how each one failed, and whether its source and target launcher images differ.

import { outdatedLauncherImageLabel } from "../../k8s/launcher-image.js";
import type { Pod, VirtualMachineInstanceMigration } from "../../k8s/types.js";
import { kvmigCommand } from "../../util/shell.js";
import {
  computeImage,
  eventsDuring,
  failedMigrations,
  failureEvidence,
  hasLogs,
  type LogEntry,
  logEntries,
  logEvidence,
  migrationEndTime,
  migrationObject,
  nonEmpty,
  sourcePodOf,
  targetPodsOf,
  timeOf,
  vmiObject,
} from "../evidence.js";
import { lastSuccessAt, transferBegan } from "../failure-signals.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";

/** libvirt losing its connection to the target (facts §h), and its kin. */
export const connectionClosedPattern =
  /client socket is closed|connection closed due to keepalive timeout|Cannot recv data|Unable to (?:read from|write to) socket/i;

/** The incoming side (the target's QEMU or libvirt) refusing or failing to load the source's state. */
export const incomingFailurePattern =
  /Failed to load [\w:.-]+|error while loading state|load of migration failed|qemu unexpectedly closed the monitor|guest CPU doesn't match specification|Features 0x[0-9a-f]+ unsupported/i;

/** libvirt could not reach the target at all: a firewall, a network policy, the migration network. */
export const unreachablePattern =
  /unable to connect to server|Connection refused|No route to host|Connection timed out|Network is unreachable|dial tcp [^ ]+: i\/o timeout/i;

export type FailureKind = "connection-closed" | "unreachable" | "incoming-failed" | "other" | "unknown";

/** One failed migration: the VMIM when it is still there, else what the VMI's state recorded. */
export interface FailedAttempt {
  migration?: VirtualMachineInstanceMigration | undefined;
  /** `kind/name` of the VMIM, or the VMI when only its state is left. */
  object: string;
  uid?: string | undefined;
  endedAt?: string | undefined;
  /** failureReason fields and Warning events about it. */
  failure: Evidence[];
  /** Launcher log lines of its time that show a connection or incoming-side failure. */
  logs: LogEntry[];
  kind: FailureKind;
}

function classify(texts: readonly string[]): FailureKind {
  if (texts.length === 0) return "unknown";
  if (texts.some((t) => incomingFailurePattern.test(t))) return "incoming-failed";
  if (texts.some((t) => connectionClosedPattern.test(t))) return "connection-closed";
  if (texts.some((t) => unreachablePattern.test(t))) return "unreachable";
  return "other";
}

/** Launcher log lines between `from` and `to` (ms) that show either failure pattern. */
function failureLogLines(s: Snapshot, from: number, to: number): LogEntry[] {
  return logEntries(s).filter((entry) => {
    if (!incomingFailurePattern.test(entry.text) && !connectionClosedPattern.test(entry.text)) return false;
    const at = timeOf(entry.time);
    return at === Number.NEGATIVE_INFINITY || (at >= from && at <= to);
  });
}

/**
 * The failed migrations since the last successful one, oldest first: every Failed VMIM, plus
 * the VMI's recorded failure when its VMIM is gone (garbage-collected or cancelled).
 */
export function failedAttempts(s: Snapshot): FailedAttempt[] {
  const since = lastSuccessAt(s);
  const attempts: FailedAttempt[] = [];
  for (const m of failedMigrations(s)) {
    const endedAt = migrationEndTime(s, m);
    if (timeOf(endedAt ?? m.metadata.creationTimestamp) < since) continue;
    const failure = failureEvidence(s, m);
    const from = timeOf(m.metadata.creationTimestamp);
    const to = endedAt === undefined ? Number.POSITIVE_INFINITY : timeOf(endedAt) + 60_000;
    const logs = failureLogLines(s, from === Number.NEGATIVE_INFINITY ? from : from - 60_000, to);
    attempts.push({
      migration: m,
      object: migrationObject(m),
      uid: m.metadata.uid,
      endedAt,
      failure,
      logs,
      kind: classify([...failure.map((e) => e.text), ...logs.map((l) => l.text)]),
    });
  }
  const state = s.vmi?.status?.migrationState;
  const known = new Set(s.migrations.map((m) => m.metadata.uid));
  if (state?.failed && !(state.migrationUid && known.has(state.migrationUid))) {
    const endedAt = state.endTimestamp ?? undefined;
    if (timeOf(endedAt) >= since || endedAt === undefined) {
      const failure: Evidence[] = [];
      if (state.failureReason) {
        failure.push({
          object: vmiObject(s),
          field: "status.migrationState.failureReason",
          time: endedAt,
          text: state.failureReason,
        });
      }
      const uid = state.migrationUid;
      for (const event of s.events) {
        if (event.type === "Warning" && uid && (event.message ?? "").includes(uid)) {
          failure.push({
            object: `${event.involvedObject.kind ?? "Object"}/${event.involvedObject.name ?? "?"}`,
            field: `event ${event.reason ?? ""}`.trim(),
            time: event.lastTimestamp ?? event.firstTimestamp ?? undefined,
            text: event.message ?? "",
          });
        }
      }
      const from = timeOf(state.startTimestamp ?? undefined);
      const logs = failureLogLines(
        s,
        from === Number.NEGATIVE_INFINITY ? from : from - 60_000,
        endedAt ? timeOf(endedAt) + 60_000 : Number.POSITIVE_INFINITY,
      );
      attempts.push({
        migration: undefined,
        object: vmiObject(s),
        uid,
        endedAt,
        failure,
        logs,
        kind: classify([...failure.map((e) => e.text), ...logs.map((l) => l.text)]),
      });
    }
  }
  return attempts.sort((a, b) => timeOf(a.endedAt) - timeOf(b.endedAt));
}

/** The evidence of an attempt's failure: its failure texts, then its log lines. */
export function attemptEvidence(attempt: FailedAttempt): Evidence[] {
  return [...attempt.failure, ...attempt.logs.map(logEvidence)];
}

/** Whether the source and target launcher images of a failed attempt differ. */
export interface SkewVerdict {
  verdict: "skew" | "same" | "unknown";
  /** Both images were read from the pods (or the VMI's own record), not inferred. */
  direct: boolean;
  sourceImage?: string | undefined;
  targetImage?: string | undefined;
  evidence: Evidence[];
  notChecked: string[];
}

function podImageEvidence(pod: Pod, image: string, role: string): Evidence {
  const fromStatus = pod.status?.containerStatuses?.some((c) => c.name === "compute" && c.image === image);
  return {
    object: `Pod/${pod.metadata.name ?? "?"}`,
    field: fromStatus ? "status.containerStatuses[compute].image" : "spec.containers[compute].image",
    time: pod.metadata.creationTimestamp,
    text: `${image} (${role})`,
  };
}

/**
 * Compares the launcher image the VM ran on (the source) with the one the target got. Read from
 * the pods when they are still there; else inferred: a target pod always gets virt-controller's
 * current `--launcher-image`, and the VMI's `kubevirt.io/outdatedLauncherImage` label or its
 * `status.launcherContainerImageVersion` say whether its own launcher is that one.
 */
export function launcherSkew(s: Snapshot, attempt?: FailedAttempt): SkewVerdict {
  const m = attempt?.migration;
  const evidence: Evidence[] = [];
  const vmi = s.vmi;
  const sourcePod = m
    ? sourcePodOf(s, m)
    : s.pods.find((p) => p.metadata.name === vmi?.status?.migrationState?.sourcePod);
  const targetPod = m
    ? targetPodsOf(s, m)[0]
    : s.pods.find((p) => p.metadata.name === vmi?.status?.migrationState?.targetPod);
  const podSource = sourcePod ? computeImage(sourcePod) : undefined;
  const vmiImage = vmi?.status?.launcherContainerImageVersion || undefined;
  const sourceImage = podSource ?? vmiImage;
  const targetImage = targetPod ? computeImage(targetPod) : undefined;

  if (sourceImage && targetImage) {
    if (sourcePod && podSource) evidence.push(podImageEvidence(sourcePod, podSource, "source"));
    else
      evidence.push({
        object: vmiObject(s),
        field: "status.launcherContainerImageVersion",
        text: sourceImage,
      });
    if (targetPod) evidence.push(podImageEvidence(targetPod, targetImage, "target"));
    return {
      verdict: sourceImage === targetImage ? "same" : "skew",
      direct: true,
      sourceImage,
      targetImage,
      evidence,
      notChecked: [],
    };
  }

  const current = s.currentLauncherImage;
  const labelled =
    (vmi?.metadata.labels && outdatedLauncherImageLabel in vmi.metadata.labels) ||
    (sourcePod?.metadata.labels && outdatedLauncherImageLabel in sourcePod.metadata.labels);
  const inferredTarget = targetImage ?? current;
  if (labelled) {
    evidence.push({
      object:
        vmi?.metadata.labels && outdatedLauncherImageLabel in vmi.metadata.labels
          ? vmiObject(s)
          : `Pod/${sourcePod?.metadata.name ?? "?"}`,
      field: "metadata.labels",
      text: `${outdatedLauncherImageLabel} (the launcher differs from virt-controller's --launcher-image)`,
    });
  }
  if (sourceImage) {
    evidence.push(
      sourcePod && podSource
        ? podImageEvidence(sourcePod, podSource, "source")
        : { object: vmiObject(s), field: "status.launcherContainerImageVersion", text: sourceImage },
    );
  }
  if (current) {
    evidence.push({
      object: `Deployment/${s.virtController?.metadata.name ?? "virt-controller"}`,
      field: "--launcher-image",
      text: `${current} (what new target pods get)`,
    });
  }
  if (labelled || (sourceImage && inferredTarget && sourceImage !== inferredTarget)) {
    return {
      verdict: "skew",
      direct: false,
      sourceImage,
      targetImage: inferredTarget,
      evidence,
      notChecked: [
        "the target pod's own image (the pod is gone; inferred from virt-controller's --launcher-image)",
      ],
    };
  }
  if (sourceImage && inferredTarget) {
    return {
      verdict: "same",
      direct: false,
      sourceImage,
      targetImage: inferredTarget,
      evidence,
      notChecked: [
        "the target pod's own image (the pod is gone; inferred from virt-controller's --launcher-image)",
      ],
    };
  }
  return {
    verdict: "unknown",
    direct: false,
    sourceImage,
    targetImage,
    evidence,
    notChecked: [
      "whether the source and target launcher images differ: no target pod, and neither the current launcher image (virt-controller Deployment) nor the VMI's launcher image is known",
    ],
  };
}

function notCheckedCommon(s: Snapshot): string[] {
  const out: string[] = [];
  if (s.events.length === 0) out.push("events (none gathered: expired, or not readable)");
  if (!hasLogs(s)) out.push("virt-launcher logs (the target QEMU's own error lines)");
  return out;
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? text;
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

function describeFailure(attempt: FailedAttempt): string {
  const texts = [...attempt.failure.map((e) => e.text), ...attempt.logs.map((l) => l.text)];
  const pattern = attempt.kind === "incoming-failed" ? incomingFailurePattern : connectionClosedPattern;
  const hit = attempt.kind === "other" ? texts[0] : texts.find((t) => pattern.test(t));
  return hit ? `"${firstLine(hit)}"` : "no recorded reason";
}

/** Whether an attempt's transfer began: its VMIM reached Running, or the VMI recorded its start. */
function attemptTransferBegan(s: Snapshot, attempt: FailedAttempt): boolean {
  if (attempt.migration) return transferBegan(s, attempt.migration);
  return !!s.vmi?.status?.migrationState?.startTimestamp;
}

function detect(s: Snapshot): Finding[] {
  const attempts = failedAttempts(s);
  let chosen: { attempt: FailedAttempt; skew: SkewVerdict } | undefined;
  let qualifying = 0;
  for (const attempt of attempts) {
    // Without a skew-type text, only a failure after the transfer began can be the launchers'
    // mismatch (a migration that never got a target pod never met the new launcher); a text of
    // another kind leaves it to the launchers' images read directly from both pods.
    const began = attemptTransferBegan(s, attempt);
    // A target never reached is the network's, not the launchers' (migration-connection-lost).
    if (attempt.kind === "unreachable") continue;
    if ((attempt.kind === "unknown" || attempt.kind === "other") && !began) continue;
    const skew = launcherSkew(s, attempt);
    if (skew.verdict !== "skew") continue;
    if (attempt.kind === "other" && !skew.direct) continue;
    qualifying += 1;
    // Prefer the newest attempt with a known failure; one without a reason only when nothing better.
    if (!chosen || attempt.kind !== "unknown" || chosen.attempt.kind === "unknown")
      chosen = { attempt, skew };
  }
  if (!chosen) return [];
  const { attempt, skew } = chosen;
  const ns = s.namespace;
  const vm = s.vmName;
  const notChecked = [...skew.notChecked, ...notCheckedCommon(s)];

  let confidence: Confidence;
  if (attempt.kind === "other") {
    confidence = "low";
    notChecked.unshift(
      "whether the failure text is the launchers' mismatch: it names neither a lost connection nor the target refusing the source's state",
    );
  } else if (attempt.kind === "unknown") {
    confidence = "low";
    notChecked.unshift(
      "why the migration failed: no failureReason, no failure events and no launcher error lines were found",
    );
  } else if (skew.direct && attempt.kind === "incoming-failed") confidence = "high";
  else confidence = "medium";

  const images =
    skew.sourceImage && skew.targetImage
      ? `from ${skew.sourceImage} to ${skew.targetImage}`
      : "from an outdated virt-launcher to the current one";
  const how =
    attempt.kind === "incoming-failed"
      ? "the new launcher's QEMU/libvirt on the target could not take over the old one's state"
      : attempt.kind === "connection-closed"
        ? "the libvirt connection to the target dropped, which is how a migration between mismatched launcher builds commonly ends"
        : attempt.kind === "other"
          ? "it failed after the transfer began, between two launcher builds"
          : "the reason was not recorded";
  const more = qualifying > 1 ? ` ${qualifying} failed attempts since the last success look the same.` : "";
  const name = attempt.migration?.metadata.name ?? "(VMIM gone)";
  const summary =
    `Migration ${name} of ${vm} failed going ${images} (${describeFailure(attempt)}): ${how}. ` +
    `The VM still runs a launcher older than the cluster's; live migration cannot move it to the new build, and retries fail the same way.${more}`;

  const evidence: Evidence[] = [...attemptEvidence(attempt), ...skew.evidence];
  if (attempt.migration) {
    const created = eventsDuring(s, attempt.migration, {
      reason: "SuccessfulCreate",
      kind: "VirtualMachineInstance",
    });
    for (const event of created) {
      if ((event.message ?? "").includes("automated workload update")) {
        evidence.push({
          object: vmiObject(s),
          field: `event ${event.reason ?? ""}`,
          time: event.lastTimestamp ?? event.firstTimestamp ?? undefined,
          text: event.message ?? "",
        });
      }
    }
  }

  return [
    {
      id: versionSkew.id,
      title: versionSkew.title,
      severity: versionSkew.severity,
      confidence,
      summary,
      evidence,
      fix: {
        explanation:
          "Restart the VM so it starts on the current virt-launcher: this stops and starts the guest (downtime), " +
          "after which it migrates normally. Other VMs still on the old launcher will fail the same way; list them first.",
        commands: [kvmigCommand(["restart", vm, "-n", ns]), kvmigCommand(["outdated", "-n", ns])],
      },
      docs: "https://kubevirt.io/user-guide/cluster_admin/updating_and_deletion/",
      notChecked: nonEmpty(notChecked),
    },
  ];
}

export const versionSkew: Rule = {
  id: "version-skew",
  title: "Migration failed between different virt-launcher versions",
  severity: "error",
  detect,
};
