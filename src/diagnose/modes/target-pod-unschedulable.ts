// target-pod-unschedulable: the migration's target virt-launcher pod never got a node. The
// scheduler says why in the pod's PodScheduled condition and its FailedScheduling events;
// virt-controller warns migrationTargetPodUnschedulable on the VMIM and deletes the pod after five
// minutes ("unschedulable pod ... timeout period exceeded"), which fails the migration.
//
// State signature (no message needed): a target pod with no node and PodScheduled=False
// (Unschedulable); or a target pod that came and went 300 s after it was created (the
// unschedulable timeout; 900 s is the catch-all pending timeout, target-pod-failed's) — read from
// the VMIM's SuccessfulCreate/SuccessfulDelete event times, or from a VMIM that failed 300 s after
// it entered Scheduling without ever reaching Scheduled, its target pod gone. The scheduler's
// message, when present, names the reason and raises the confidence.

import type { Event, Node, Pod, VirtualMachineInstanceMigration } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  eventEvidence,
  eventsCommand,
  eventTime,
  findEvents,
  isFinal,
  isTargetPod,
  lowerConfidence,
  migrationObject,
  missingAbout,
  nonEmpty,
  phaseTime,
  podCondition,
  relevantMigrations,
  secondsBetween,
  targetPodNamesOf,
} from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";
import { cpuExplainsUnschedulable, isCpuLabel, noSuitableNodeEvents } from "./cpu-model-mismatch.js";

const id = "target-pod-unschedulable";
const title = "Migration target pod cannot be scheduled";
const docs = "https://kubevirt.io/user-guide/compute/live_migration/";

export type SchedulingCause =
  | "resources"
  | "kvm-device"
  | "selector"
  | "anti-affinity"
  | "taint"
  | "cordoned"
  | "volume-affinity"
  | "bridge-resource"
  | "other";

export interface SchedulerReason {
  count: number;
  text: string;
  cause: SchedulingCause;
}

function classify(text: string): SchedulingCause {
  if (/Insufficient devices\.kubevirt\.io\/(kvm|tun|vhost-net)/.test(text)) return "kvm-device";
  if (/Insufficient bridge\.network\.kubevirt\.io\//.test(text)) return "bridge-resource";
  if (/^Insufficient |Too many pods/.test(text)) return "resources";
  if (/anti-affinity/.test(text)) return "anti-affinity";
  // "volume node affinity conflict" names node affinity too: the volume's test comes first.
  if (/volume node affinity|VolumeBinding|unbound immediate PersistentVolumeClaims/i.test(text))
    return "volume-affinity";
  if (/node affinity|node selector|MatchNodeSelector|NodeAffinity/i.test(text)) return "selector";
  if (/taint/.test(text)) return "taint";
  if (/were unschedulable/.test(text)) return "cordoned";
  return "other";
}

/**
 * The reasons of a scheduler message: "0/3 nodes are available: 1 Insufficient memory, 2 node(s)
 * didn't match Pod's node affinity/selector. preemption: ..." gives two reasons.
 */
export function schedulerReasons(message: string): SchedulerReason[] {
  const body = message.split(/\.\s*preemption:/)[0] ?? message;
  const list = /nodes are available:\s*(.*)$/s.exec(body)?.[1] ?? body;
  return list
    .replace(/\.\s*$/, "")
    .split(/,\s*(?=\d+\s)/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^(\d+)\s+(.*)$/s.exec(part);
      const text = (m?.[2] ?? part).trim();
      return { count: Number(m?.[1] ?? 1), text, cause: classify(text) };
    });
}

export interface UnschedulableTarget {
  migration?: VirtualMachineInstanceMigration | undefined;
  podName: string;
  pod?: Pod | undefined;
  evidence: Evidence[];
  /** The scheduler's latest message about the pod, when known. */
  message?: string | undefined;
  /** The pod was deleted by virt-controller's unschedulable timeout. */
  timedOut: boolean;
  /** The pod is unscheduled right now. */
  current: boolean;
  /** Known only from the timing of its removal (no scheduler or virt-controller text). */
  byTiming?: boolean | undefined;
}

// KubeVirt before v1.3 printed the pod name after the text: "unschedulable pod timeout period
// exceeded%!(EXTRA string=virt-launcher-...)".
const unschedulableTimeout =
  /^unschedulable pod (?:(?:\S+\/)?(\S+) )?timeout period exceeded(?:%!\(EXTRA string=([^)]+)\))?/;

function timedOutPod(message: string | undefined): string | undefined {
  const m = unschedulableTimeout.exec(message ?? "");
  return m?.[1] ?? m?.[2];
}

function latest(events: Event[]): Event | undefined {
  return events.at(-1);
}

/** The timeouts after which virt-controller deletes a Pending target pod, in seconds (VMIM annotations override them). */
export function pendingPodTimeouts(m: VirtualMachineInstanceMigration | undefined): {
  unschedulable: number;
  pending: number;
} {
  const a = m?.metadata.annotations ?? {};
  const read = (key: string, fallback: number) => {
    const n = Number(a[key]);
    return Number.isFinite(n) && n > 0 ? n : fallback;
  };
  return {
    unschedulable: read("kubevirt.io/migrationUnschedulablePodTimeoutSeconds", 300),
    pending: read("kubevirt.io/migrationPendingPodTimeoutSeconds", 900),
  };
}

/** A target pod removal told by its timing alone: which timeout it matches. */
export interface TimedRemoval {
  kind: "unschedulable" | "pending";
  /** Seconds from the pod's creation (or the VMIM's Scheduling phase) to its removal (or the failure). */
  seconds: number;
  evidence: Evidence;
}

function timeoutKind(
  seconds: number,
  limits: { unschedulable: number; pending: number },
): TimedRemoval["kind"] | undefined {
  // virt-controller deletes the pod on its first sync after the timeout: a little late, never early.
  if (seconds >= limits.unschedulable - 5 && seconds <= limits.unschedulable + 120) return "unschedulable";
  if (seconds >= limits.pending - 5 && seconds <= limits.pending + 180) return "pending";
  return undefined;
}

/**
 * Target pods of a migration removed by one of virt-controller's Pending timeouts, told from
 * timing alone: a VMIM SuccessfulDelete that follows its SuccessfulCreate by the timeout, or a
 * VMIM that failed that long after it entered Scheduling, never having reached Scheduled.
 */
export function removalsByTiming(s: Snapshot, m: VirtualMachineInstanceMigration): TimedRemoval[] {
  const limits = pendingPodTimeouts(m);
  if (m.status?.conditions?.some((c) => c.type === "migrationAbortRequested" && c.status === "True"))
    return [];
  const found: TimedRemoval[] = [];
  // A removal whose timing matches a timeout; `what` has %s where the seconds go.
  const add = (seconds: number | undefined, field: string, time: string | undefined, what: string) => {
    const kind = seconds === undefined ? undefined : timeoutKind(seconds, limits);
    if (!kind || seconds === undefined) return;
    const text = `${what.replace("%s", String(seconds))} (virt-controller's ${kind} timeout is ${limits[kind]} s)`;
    found.push({ kind, seconds, evidence: { object: migrationObject(m), field, time, text } });
  };
  const on = (reason: string) =>
    findEvents(s, { kind: "VirtualMachineInstanceMigration", name: m.metadata.name, reason });
  const creates = on("SuccessfulCreate").filter((e) => !/attachment pod/i.test(e.message ?? ""));
  for (const del of on("SuccessfulDelete")) {
    if (/cancel/i.test(del.message ?? "")) continue;
    const at = eventTime(del);
    const created = creates.filter((c) => (secondsBetween(eventTime(c), at) ?? -1) >= 0).at(-1);
    const seconds = secondsBetween(created ? eventTime(created) : undefined, at);
    add(
      seconds,
      "events SuccessfulCreate → SuccessfulDelete",
      at,
      "a target pod was deleted %s s after it was created",
    );
  }
  if (found.length === 0 && m.status?.phase === "Failed" && !phaseTime(m, "Scheduled")) {
    const scheduling = phaseTime(m, "Scheduling");
    const failedAt = phaseTime(m, "Failed");
    const seconds = secondsBetween(scheduling, failedAt);
    const placed = targetPodNamesOf(s, m).some(
      (n) => s.pods.find((p) => p.metadata.name === n)?.spec?.nodeName,
    );
    if (!placed)
      add(
        seconds,
        "status.phaseTransitionTimestamps",
        failedAt,
        "Scheduling → Failed after %s s, never Scheduled",
      );
  }
  return found;
}

/** The target pods of the relevant migrations that never got a node, with the evidence. */
export function unschedulableTargets(s: Snapshot): UnschedulableTarget[] {
  const groups: { migration?: VirtualMachineInstanceMigration; names: string[] }[] = relevantMigrations(
    s,
  ).map((m) => ({ migration: m, names: targetPodNamesOf(s, m) }));
  if (s.migrations.length === 0) {
    const orphans = s.pods.filter(isTargetPod).map((p) => p.metadata.name ?? "");
    if (orphans.length > 0) groups.push({ names: orphans });
  }
  const found: UnschedulableTarget[] = [];
  for (const { migration, names } of groups) {
    const onMigration = migration
      ? (reason: string) =>
          findEvents(s, { kind: "VirtualMachineInstanceMigration", name: migration.metadata.name, reason })
      : () => [];
    const warnings = onMigration("migrationTargetPodUnschedulable");
    const timeouts = onMigration("SuccessfulDelete").filter((e) =>
      unschedulableTimeout.test(e.message ?? ""),
    );
    const timedOutNames = new Set(timeouts.map((e) => timedOutPod(e.message)));
    for (const name of timedOutNames) if (name && !names.includes(name)) names.push(name);
    const succeeded = migration?.status?.phase === "Succeeded";
    // The VMIM's warning alone still says a target pod of it was unschedulable; its name is unknown.
    if (names.length === 0 && warnings.length > 0 && !succeeded) names.push("");
    for (const podName of names) {
      const pod = s.pods.find((p) => p.metadata.name === podName);
      const scheduled = podCondition(pod ?? { metadata: {} }, "PodScheduled");
      const current =
        pod !== undefined &&
        !pod.spec?.nodeName &&
        scheduled?.status === "False" &&
        scheduled.reason === "Unschedulable";
      const failedScheduling = findEvents(s, { kind: "Pod", name: podName, reason: "FailedScheduling" });
      const timedOut = timedOutNames.has(podName);
      // A pod that did get a node, or a migration that went through, was only briefly Pending.
      if (succeeded || (pod?.spec?.nodeName && !timedOut)) continue;
      const mine = warnings.length > 0 && (names.length === 1 || current || timedOut);
      if (
        !current &&
        !timedOut &&
        !mine &&
        !(failedScheduling.length > 0 && pod === undefined && migration && isFinal(migration))
      )
        continue;
      const evidence: Evidence[] = [];
      if (current && scheduled?.message) {
        evidence.push({
          object: `Pod/${podName}`,
          field: "status.conditions[PodScheduled]",
          time: scheduled.lastTransitionTime ?? undefined,
          text: `${scheduled.reason}: ${scheduled.message}`,
        });
      }
      const lastScheduling = latest(failedScheduling);
      if (lastScheduling && lastScheduling.message !== scheduled?.message)
        evidence.push(eventEvidence(lastScheduling));
      const lastWarning = latest(warnings);
      if (lastWarning) evidence.push(eventEvidence(lastWarning));
      for (const t of timeouts.filter((e) => timedOutPod(e.message) === podName))
        evidence.push(eventEvidence(t));
      if (timedOut && migration) {
        const removed = findEvents(s, {
          kind: "VirtualMachineInstanceMigration",
          name: migration.metadata.name,
          reason: "FailedMigration",
          message: /target pod was removed/,
        });
        const last = latest(removed);
        if (last) evidence.push(eventEvidence(last));
      }
      found.push({
        migration,
        podName,
        pod,
        evidence,
        message: (current ? scheduled?.message : undefined) ?? lastScheduling?.message,
        timedOut,
        current,
      });
    }
    // No text said so, but the timing does: a target pod removed by the unschedulable timeout.
    if (migration && !succeeded && !found.some((t) => t.migration === migration)) {
      const timed = removalsByTiming(s, migration).filter((r) => r.kind === "unschedulable");
      if (timed.length > 0)
        found.push({
          migration,
          podName: "",
          evidence: timed.map((r) => r.evidence),
          timedOut: true,
          current: false,
          byTiming: true,
        });
    }
  }
  return found;
}

/** Whether a node can take a launcher pod at all: Ready, not cordoned, no NoSchedule taint. */
function usable(node: Node): boolean {
  const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  const blocked = (node.spec?.taints ?? []).some(
    (t) => t.effect === "NoSchedule" || t.effect === "NoExecute",
  );
  return (
    ready &&
    !node.spec?.unschedulable &&
    !blocked &&
    node.metadata.labels?.["kubevirt.io/schedulable"] !== "false"
  );
}

/** Nodes a target pod could go to: usable, not excluded, carrying the selector's labels (hostname aside). */
export function candidateNodes(
  s: Snapshot,
  exclude: readonly (string | undefined)[],
  selector: Record<string, string> = {},
) {
  return s.nodes
    .filter((n) => usable(n) && !exclude.includes(n.metadata.name))
    .filter((n) =>
      Object.entries(selector).every(
        ([k, v]) => k === "kubernetes.io/hostname" || n.metadata.labels?.[k] === v,
      ),
    )
    .map((n) => n.metadata.name ?? "")
    .filter(Boolean)
    .sort();
}

function describe(reasons: SchedulerReason[]): string {
  return reasons.map((r) => `${r.count} ${r.text}`).join(", ");
}

function hostnamePin(s: Snapshot, pod: Pod | undefined): string | undefined {
  return (
    pod?.spec?.nodeSelector?.["kubernetes.io/hostname"] ??
    s.vmi?.spec.nodeSelector?.["kubernetes.io/hostname"] ??
    s.vm?.spec.template?.spec?.nodeSelector?.["kubernetes.io/hostname"]
  );
}

function detect(s: Snapshot): Finding[] {
  const targets = unschedulableTargets(s);
  if (targets.length === 0) return [];
  // The newest affected pod speaks for the rest; earlier attempts are counted.
  const target = targets.find((t) => t.current) ?? targets.at(-1);
  if (!target) return [];
  const vm = s.vmName;
  const ns = ["-n", s.namespace];
  const source = s.vmi?.status?.nodeName;
  const reasons = target.message ? schedulerReasons(target.message) : [];
  const causes = new Set(reasons.map((r) => r.cause));
  const evidence = [...target.evidence];
  const notChecked: string[] = [];
  let confidence: Confidence = "high";

  const pin = hostnamePin(s, target.pod);
  const pinnedToSource = pin !== undefined && pin === source;
  if (pin !== undefined) {
    evidence.push({
      object: target.pod ? `Pod/${target.podName}` : `VirtualMachineInstance/${s.vmi?.metadata.name ?? vm}`,
      field: "spec.nodeSelector",
      text: `kubernetes.io/hostname=${pin}${pinnedToSource ? " (the node the VM already runs on)" : ""}`,
    });
  }
  const cpuLabels = Object.keys(target.pod?.spec?.nodeSelector ?? {}).filter(isCpuLabel);
  const causedByCpu = target.pod
    ? cpuExplainsUnschedulable(s, target.pod)
    : noSuitableNodeEvents(s).length > 0;

  if (!target.message) {
    confidence = "medium";
    notChecked.push(
      "the scheduler's reasons (the target pod and its FailedScheduling events were not available)",
    );
    if (target.byTiming)
      notChecked.push(
        "virt-controller's own word that the pod was unschedulable: told from the timing of its removal alone",
      );
  }
  if (missingAbout(s, /events/i).length > 0) {
    notChecked.push("events (FailedScheduling, migrationTargetPodUnschedulable)");
    if (!target.current) confidence = lowerConfidence(confidence);
  }
  if (s.nodes.length === 0) notChecked.push("the nodes (capacity, labels, taints)");

  const plain: string[] = [];
  if (causes.has("resources")) plain.push("no other node has the CPU or memory the pod requests");
  if (causes.has("kvm-device"))
    plain.push(
      "no other node offers the KubeVirt devices (devices.kubevirt.io/kvm, tun, vhost-net): virt-handler is not running there, or the node has no /dev/kvm",
    );
  if (pinnedToSource)
    plain.push(
      `the VM's node selector pins it to ${pin}, the node it already runs on, and a target never lands beside its source`,
    );
  else if (causes.has("selector") && cpuLabels.length > 0)
    plain.push("no other node matches the CPU model and feature labels the pod requires");
  else if (causes.has("selector")) plain.push("no other node matches the pod's node selector or affinity");
  if (causes.has("taint")) plain.push("the other nodes carry taints the pod does not tolerate");
  if (causes.has("cordoned")) plain.push("the other nodes are cordoned");
  if (causes.has("volume-affinity")) plain.push("a volume is bound to a node the pod cannot use");
  if (causes.has("bridge-resource"))
    plain.push("the other nodes do not offer the bridge network the VM uses");
  const because =
    plain.length > 0
      ? plain.join("; ")
      : target.message
        ? `the scheduler said: ${describe(reasons)}`
        : "the scheduler's reasons were not available";

  const attempts = targets.length > 1 ? ` (${targets.length} target pods in the affected migrations)` : "";
  const outcome = target.timedOut
    ? "virt-controller deleted it after the 5-minute unschedulable timeout and the migration failed"
    : "virt-controller deletes an unschedulable target pod after 5 minutes and the migration fails";
  const podLabel = target.podName === "" ? "" : ` ${target.podName}`;
  const summary = `The migration target pod${podLabel}${target.migration ? ` of ${migrationObject(target.migration)}` : ""} never got a node${attempts}: ${because}. ${outcome[0]?.toUpperCase()}${outcome.slice(1)}; the VM keeps running on ${source ?? "its node"}.`;

  const commands: string[] = [];
  if (target.pod) commands.push(commandLine(["kubectl", "describe", "pod", target.podName, ...ns]));
  else if (target.podName === "" && target.migration?.metadata.uid)
    commands.push(
      commandLine([
        "kubectl",
        "get",
        "pods",
        ...ns,
        "-l",
        `kubevirt.io/migrationJobUID=${target.migration.metadata.uid}`,
      ]),
    );
  else if (target.podName !== "") commands.push(eventsCommand(s, target.podName));
  const explanation: string[] = [];
  if (causes.has("resources")) {
    explanation.push("Free CPU or memory on another node (or add a node), or lower the VM's requests.");
    commands.push(commandLine(["kubectl", "describe", "nodes"]));
  }
  if (causes.has("kvm-device")) {
    explanation.push(
      "Check that virt-handler runs on the other nodes and that they expose /dev/kvm (allocatable devices.kubevirt.io/kvm).",
    );
    commands.push(
      commandLine(["kubectl", "get", "pods", "-A", "-l", "kubevirt.io=virt-handler", "-o", "wide"]),
    );
    commands.push(
      commandLine([
        "kubectl",
        "get",
        "nodes",
        "-o",
        "custom-columns=NAME:.metadata.name,KVM:.status.allocatable.devices\\.kubevirt\\.io/kvm",
      ]),
    );
  }
  if (pinnedToSource || (causes.has("selector") && cpuLabels.length === 0)) {
    explanation.push(
      "Relax the VM's node selector or affinity so another node qualifies (it takes effect when the VM restarts, or live with the LiveUpdate rollout strategy), or restart the VM instead if it must stay pinned.",
    );
    commands.push(commandLine(["kubectl", "edit", "vm", vm, ...ns]));
  }
  if (causes.has("taint")) {
    explanation.push(
      "Remove the taint from a node that should run VMs, or add a matching toleration to the VM.",
    );
    commands.push(
      commandLine([
        "kubectl",
        "get",
        "nodes",
        "-o",
        "custom-columns=NAME:.metadata.name,TAINTS:.spec.taints[*].key",
      ]),
    );
  }
  const cordoned = s.nodes
    .filter((n) => n.spec?.unschedulable && n.metadata.name !== source)
    .map((n) => n.metadata.name ?? "");
  if (causes.has("cordoned") && cordoned.length > 0) {
    explanation.push(`Uncordon a node once its maintenance is over (${cordoned.join(", ")}).`);
    for (const node of cordoned.slice(0, 2)) commands.push(commandLine(["kubectl", "uncordon", node]));
  }
  if (causedByCpu) explanation.push("The CPU labels are the root cause: see the cpu-model-mismatch finding.");
  const selector = Object.fromEntries(
    Object.entries(target.pod?.spec?.nodeSelector ?? {}).filter(([k]) => k !== "kubernetes.io/hostname"),
  );
  const withKvm = (name: string) => {
    const kvm = s.nodes.find((n) => n.metadata.name === name)?.status?.allocatable?.[
      "devices.kubevirt.io/kvm"
    ];
    return kvm !== undefined && kvm !== "0";
  };
  const candidates =
    pinnedToSource || causedByCpu
      ? []
      : candidateNodes(s, [source], selector).filter((n) => !causes.has("kvm-device") || withKvm(n));
  if (candidates[0] && !causes.has("resources")) {
    explanation.push(`Or pick a node yourself (${candidates.join(", ")} look usable).`);
  }
  if (candidates[0]) commands.push(kvmigCommand(["migrate", vm, ...ns, "--target-node", candidates[0]]));
  if (target.migration && !isFinal(target.migration)) {
    explanation.push("Cancel the pending migration if nothing will change within the timeout.");
    commands.push(kvmigCommand(["cancel", vm, ...ns]));
  }
  if (explanation.length === 0)
    explanation.push(
      "Read the scheduler's message on the target pod and make room for it on another node, then migrate again.",
    );

  return [
    {
      id,
      title,
      severity: "error",
      confidence,
      summary,
      evidence,
      fix: { explanation: explanation.join(" "), commands },
      docs: pinnedToSource ? "https://kubevirt.io/user-guide/compute/node_assignment/" : docs,
      notChecked: nonEmpty(notChecked),
      causedBy: causedByCpu ? "cpu-model-mismatch" : undefined,
    },
  ];
}

export const targetPodUnschedulable: Rule = { id, title, severity: "error", detect };
