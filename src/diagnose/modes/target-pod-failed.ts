// target-pod-failed: the target pod got a node and then died or vanished before the migration
// finished: it failed, was evicted or OOM-killed, was removed, or its QEMU could not start.
// virt-controller then fails the migration with "Migration failed because target pod shutdown
// during migration" or "Migration target pod was removed during active migration." Removals that
// another rule explains (the unschedulable or pending timeouts with their causes, a cancel) are
// left to that rule.

import type { Pod, VirtualMachineInstanceMigration } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  eventEvidence,
  failureEvidence,
  findEvents,
  isTargetPod,
  logEntries,
  logEvidence,
  lowerConfidence,
  migrationEndTime,
  migrationObject,
  migrationStateOf,
  missingAbout,
  nonEmpty,
  pendingPodTimeout,
  relevantMigrations,
  targetPodNamesOf,
  timedOutPodName,
} from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";
import { cpuMismatchFound } from "./cpu-model-mismatch.js";
import { migrationConnectionLost } from "./migration-connection-lost.js";
import { storageExplainsTargetPod } from "./storage-blocks-migration.js";
import { networkSetupFailures } from "./target-network-setup-failed.js";
import { candidateNodes, unschedulableTargets } from "./target-pod-unschedulable.js";
import { versionSkew } from "./version-skew.js";
import { vifCacheMissing } from "./vif-cache-missing.js";

/**
 * A target pod that shut down or vanished is often the symptom of a failure another rule
 * names (the handler's CNI setup, a dropped libvirt connection, launcher skew): link to it.
 */
function rootCause(s: Snapshot, kind: Kind): string | undefined {
  if (kind === "qemu" || kind === "shutdown" || kind === "failed") {
    if (cpuMismatchFound(s)) return "cpu-model-mismatch";
  }
  if (kind === "oom" || kind === "evicted" || kind === "same-node") return undefined;
  for (const rule of [vifCacheMissing, versionSkew, migrationConnectionLost]) {
    if (rule.detect(s).length > 0) return rule.id;
  }
  return undefined;
}

const id = "target-pod-failed";
const title = "Migration target pod failed";
const docs = "https://kubevirt.io/user-guide/compute/live_migration/";

// "target pod is down" was lower case before v1.3.
const shutdown = /Migration failed because target pod shutdown during migration|reason: ?target pod is down/i;
const removed = /Migration target pod was removed during active migration/;
const pendingTimeout = pendingPodTimeout;
const qemuFailed =
  /qemu unexpectedly closed the monitor|process exited while connecting to monitor|Failed to start VirtualMachineInstance|failed to start domain|unable to map backing store/i;
/** QEMU errors another rule owns: the guest CPU, the volume size. */
const ownedElsewhere =
  /guest CPU doesn'?t match|The sum of offset|destination volume is smaller|Userfaultfd|Postcopy/i;

type Kind = "oom" | "evicted" | "failed" | "qemu" | "shutdown" | "removed" | "pending" | "same-node";

interface Failure {
  kind: Kind;
  migration?: VirtualMachineInstanceMigration | undefined;
  podName?: string | undefined;
  pod?: Pod | undefined;
  node?: string | undefined;
  evidence: Evidence[];
}

function terminatedCompute(pod: Pod) {
  const status = pod.status?.containerStatuses?.find((c) => c.name === "compute");
  return status?.state?.terminated ?? status?.lastState?.terminated;
}

/** Whether `time` comes after the migration's end (by more than a few seconds): the aftermath, not the cause. */
function afterEnd(time: string | undefined, endedAt: string | undefined): boolean {
  const t = Date.parse(time ?? "");
  const end = Date.parse(endedAt ?? "");
  return !Number.isNaN(t) && !Number.isNaN(end) && t > end + 5_000;
}

function podFailure(
  s: Snapshot,
  pod: Pod,
  endedAt: string | undefined,
): { kind: Kind; text: string; field: string } | undefined {
  const term = terminatedCompute(pod);
  const deleted = pod.metadata.deletionTimestamp;
  if (deleted && !afterEnd(deleted, endedAt)) {
    const node = s.nodes.find((n) => n.metadata.name === pod.spec?.nodeName);
    const drained = node?.spec?.unschedulable ? `; its node ${node.metadata.name} is cordoned (drained)` : "";
    return {
      kind: "removed",
      field: "metadata.deletionTimestamp",
      text: `deleted at ${deleted}, before the migration ended${drained}`,
    };
  }
  // A target launcher that stops after its migration failed is the aftermath, not the cause.
  if (term?.reason !== "OOMKilled" && afterEnd(term?.finishedAt ?? undefined, endedAt)) return undefined;
  if (term?.reason === "OOMKilled")
    return {
      kind: "oom",
      field: "status.containerStatuses[compute]",
      text: `terminated: OOMKilled (exit code ${term.exitCode ?? "?"})`,
    };
  if (pod.status?.reason === "Evicted")
    return { kind: "evicted", field: "status.reason", text: `Evicted: ${pod.status.message ?? ""}`.trim() };
  if (pod.status?.phase === "Failed") {
    const detail = term
      ? `, compute terminated: ${term.reason ?? "?"} (exit code ${term.exitCode ?? "?"})`
      : "";
    return {
      kind: "failed",
      field: "status.phase",
      text: `Failed${pod.status.reason ? ` (${pod.status.reason})` : ""}${detail}`,
    };
  }
  return undefined;
}

function failures(s: Snapshot): Failure[] {
  const found: Failure[] = [];
  const stuck = unschedulableTargets(s);
  const broken = networkSetupFailures(s);
  const unschedulable = new Set(stuck.map((t) => t.podName));
  const network = new Set(broken.map((f) => f.podName));
  const groups: { migration?: VirtualMachineInstanceMigration; names: string[] }[] = relevantMigrations(
    s,
  ).map((m) => ({ migration: m, names: targetPodNamesOf(s, m) }));
  if (s.migrations.length === 0)
    groups.push({ names: s.pods.filter(isTargetPod).map((p) => p.metadata.name ?? "") });
  for (const { migration, names } of groups) {
    if (migration?.status?.phase === "Succeeded") continue;
    const onVmim = (reason: string, message: RegExp) =>
      migration
        ? findEvents(s, {
            kind: "VirtualMachineInstanceMigration",
            name: migration.metadata.name,
            reason,
            message,
          })
        : [];
    const cancelled =
      migration?.status?.conditions?.some(
        (c) => c.type === "migrationAbortRequested" && c.status === "True",
      ) || onVmim("SuccessfulDelete", /^migration canceled/).length > 0;
    if (cancelled) continue;
    const state = migration ? migrationStateOf(s, migration) : s.vmi?.status?.migrationState;
    const sourceNode = state?.sourceNode;
    const explained = (name: string) =>
      unschedulable.has(name) || network.has(name) || storageExplainsTargetPod(s, name);
    const own = names.filter((n) => !explained(n));
    const explainedHere =
      names.some(explained) ||
      stuck.some((t) => t.migration === migration) ||
      broken.some((f) => f.migration === migration);
    const timeouts = onVmim("SuccessfulDelete", pendingTimeout).filter(
      (e) => !explained(timedOutPodName(e.message) ?? ""),
    );

    for (const podName of own) {
      const pod = s.pods.find((p) => p.metadata.name === podName);
      if (!pod) continue;
      const node = pod.spec?.nodeName;
      const failure = podFailure(s, pod, migration ? migrationEndTime(s, migration) : undefined);
      if (failure) {
        found.push({
          kind: failure.kind,
          migration,
          podName,
          pod,
          node,
          evidence: [
            { object: `Pod/${podName}`, field: failure.field, text: failure.text },
            ...findEvents(s, {
              kind: "Pod",
              name: podName,
              reason: /^(Evicted|OOMKilling|Killing|Preempted)$/,
            })
              .slice(-1)
              .map(eventEvidence),
          ],
        });
      }
      if (node && sourceNode && node === sourceNode) {
        found.push({
          kind: "same-node",
          migration,
          podName,
          pod,
          node,
          evidence: [
            { object: `Pod/${podName}`, field: "spec.nodeName", text: `${node} (the source node)` },
            ...(state?.targetNode === sourceNode
              ? [
                  {
                    object: `VirtualMachineInstance/${s.vmi?.metadata.name ?? s.vmName}`,
                    field: "status.migrationState",
                    text: `sourceNode ${sourceNode}, targetNode ${state.targetNode}`,
                  },
                ]
              : []),
          ],
        });
      }
      const qemu = logEntries(s).filter(
        (e) =>
          e.pod === podName &&
          (e.level === "error" || e.level === undefined) &&
          qemuFailed.test(e.text) &&
          !ownedElsewhere.test(e.text),
      );
      if (qemu.length > 0)
        found.push({
          kind: "qemu",
          migration,
          podName,
          pod,
          node,
          evidence: qemu.slice(-2).map(logEvidence),
        });
    }
    // The target's QEMU refusing to start, as the migration's own failure records it
    // (failureReason, the Migrated event), when no target log line said it.
    if (migration && !found.some((f) => f.migration === migration && f.kind === "qemu")) {
      const started = failureEvidence(s, migration).filter(
        (e) => qemuFailed.test(e.text) && !ownedElsewhere.test(e.text),
      );
      if (started.length > 0)
        found.push({
          kind: "qemu",
          migration,
          podName: own[0],
          pod: s.pods.find((p) => p.metadata.name === own[0]),
          evidence: started.slice(0, 2),
        });
    }
    for (const t of timeouts) {
      found.push({
        kind: "pending",
        migration,
        podName: timedOutPodName(t.message),
        evidence: [eventEvidence(t)],
      });
    }
    // What virt-controller said, when nothing above explains it yet: still the symptom to report.
    const down = [
      ...onVmim("FailedMigration", shutdown),
      ...findEvents(s, {
        kind: "VirtualMachineInstance",
        reason: "FailedMigration",
        message: shutdown,
      }).filter(
        (e) => migration?.metadata.uid !== undefined && (e.message ?? "").includes(migration.metadata.uid),
      ),
    ];
    const gone = onVmim("FailedMigration", removed);
    const mine = found.filter((f) => f.migration === migration);
    const symptom = down.at(-1) ?? gone.at(-1);
    if (symptom) {
      if (mine.length > 0) mine[0]?.evidence.push(eventEvidence(symptom));
      else if (!timeouts.length && !explainedHere)
        found.push({
          kind: down.length > 0 ? "shutdown" : "removed",
          migration,
          podName: own[0],
          pod: s.pods.find((p) => p.metadata.name === own[0]),
          evidence: [eventEvidence(symptom)],
        });
    }
  }
  return found;
}

const priority: Kind[] = ["same-node", "oom", "evicted", "qemu", "failed", "pending", "shutdown", "removed"];

function detect(s: Snapshot): Finding[] {
  const all = failures(s);
  if (all.length === 0) return [];
  const f = [...all].sort((a, b) => priority.indexOf(a.kind) - priority.indexOf(b.kind))[0] as Failure;
  const evidence = all.filter((x) => x.migration === f.migration).flatMap((x) => x.evidence);
  const unique = evidence.filter(
    (e, i) => evidence.findIndex((o) => o.object === e.object && o.text === e.text) === i,
  );
  const vm = s.vmName;
  const ns = ["-n", s.namespace];
  const pod = f.podName ? ` ${f.podName}` : "";
  const where = f.node ? ` on ${f.node}` : "";
  const of = f.migration ? ` of ${migrationObject(f.migration)}` : "";
  const what: Record<Kind, string> = {
    "same-node": `The migration target pod${pod}${of} was scheduled onto ${f.node}, the node the VM already runs on, so the two launchers collide there and the target never becomes usable; the migration times out with the target pod shut down`,
    oom: `The migration target pod${pod}${of} was OOM-killed${where}: the target launcher needed more memory than its limit while receiving the guest`,
    evicted: `The migration target pod${pod}${of} was evicted${where} before the migration finished`,
    failed: `The migration target pod${pod}${of} failed${where} before the migration finished`,
    qemu: `QEMU could not start in the migration target pod${pod}${of}${where}, so there was nothing to receive the guest`,
    pending: `The migration target pod${pod}${of} never became ready and virt-controller deleted it after the 15-minute pending timeout; no network, storage or scheduling error explains why`,
    shutdown: `The migration target pod${pod}${of} shut down during the migration`,
    removed: `The migration target pod${pod}${of} was removed during the migration`,
  };
  const summary = `${what[f.kind]}. The VM keeps running on its source node; the migration failed.`;

  let confidence: Confidence =
    f.kind === "shutdown" || f.kind === "removed" || f.kind === "pending" ? "medium" : "high";
  const notChecked: string[] = [];
  if (!f.pod && f.kind !== "pending") notChecked.push("the target pod's status (the pod was not available)");
  if (
    (f.kind === "shutdown" || f.kind === "removed" || f.kind === "failed") &&
    missingAbout(s, /logs/i).length > 0
  ) {
    notChecked.push("the target launcher's log (why QEMU or the launcher stopped)");
  }
  if (missingAbout(s, /events/i).length > 0) {
    notChecked.push("events (Evicted, FailedMigration)");
    confidence = lowerConfidence(confidence);
  }
  const cause = rootCause(s, f.kind);

  const commands: string[] = [];
  if (f.pod && f.podName) commands.push(commandLine(["kubectl", "describe", "pod", f.podName, ...ns]));
  if (f.pod && f.podName && (f.kind === "qemu" || f.kind === "failed"))
    commands.push(commandLine(["kubectl", "logs", f.podName, ...ns, "-c", "compute"]));
  if (f.node) commands.push(commandLine(["kubectl", "describe", "node", f.node]));
  const source = s.vmi?.status?.nodeName;
  const others = candidateNodes(s, [source, f.kind === "same-node" ? undefined : f.node]);
  // With a root cause named, migrating again before it is fixed fails the same way: its
  // finding's fix comes first, and this one does not contradict it.
  if (!cause) {
    if (others[0]) commands.push(kvmigCommand(["migrate", vm, ...ns, "--target-node", others[0]]));
    else commands.push(kvmigCommand(["migrate", vm, ...ns]));
  }

  const explanation: Record<Kind, string> = {
    "same-node":
      "The target pod must land on another node: migrate again naming a different node, and check why the scheduler allowed the source node (a missing anti-affinity, or a node-name override).",
    oom: "Give the launcher more memory overhead (the KubeVirt CR's additionalGuestMemoryOverheadRatio, or a larger memory limit on the VM), check the target node for memory pressure, then migrate again.",
    evicted:
      "Look at the target node (memory or disk pressure, a drain, a taint) and migrate again, to another node if that one keeps evicting.",
    failed: "Read the target pod's compute log and the node's state for the cause, then migrate again.",
    qemu: "Read the QEMU error in the target launcher's log: it names what the target node lacks (memory, hugepages, a device). Fix the node or pick another, then migrate again.",
    pending:
      "Describe the target pod's events next time before the timeout (image pulls, init containers, volumes), check the target node, then migrate again.",
    shutdown: "Look at the target node and the target pod's events for why it stopped, then migrate again.",
    removed: "Find who deleted the target pod (events, a controller, an eviction), then migrate again.",
  };
  return [
    {
      id,
      title,
      severity: "error",
      confidence,
      summary,
      evidence: unique.slice(0, 5),
      fix: {
        explanation: cause
          ? `The target pod failed because of ${cause} (the finding it follows): do what that finding says first; a new migration before then fails the same way. The commands below show the pod and its node.`
          : explanation[f.kind],
        commands,
      },
      docs: f.kind === "same-node" ? "https://github.com/kubevirt/kubevirt/issues/18946" : docs,
      notChecked: nonEmpty(notChecked),
      causedBy: cause,
    },
  ];
}

export const targetPodFailed: Rule = { id, title, severity: "error", specificity: "symptom", detect };
