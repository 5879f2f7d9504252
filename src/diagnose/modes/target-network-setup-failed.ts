// target-network-setup-failed: the target pod got a node, but the kubelet could not set up its
// network there: FailedCreatePodSandBox with a CNI error (a Multus bridge missing on that node, a
// plugin error, an OVS port that never becomes ready). The pod stays ContainerCreating until
// virt-controller's 15-minute pending timeout deletes it and the migration fails.
//
// State signature: a target pod of an unfinished (or pending-timeout-failed) migration, placed
// on a node and not Ready, with FailedCreatePodSandBox events (the kubelet could not create its
// sandbox, which is where the CNI plugins run). The event's text raises the confidence and names
// the network, bridge or port; a sandbox error whose text shows no network cause is not this mode.
// Without any sandbox event (low confidence): a target pod placed on a node for 5 minutes or more
// whose containers and init containers all still wait in ContainerCreating or PodInitializing,
// with no volume event (FailedMount, FailedAttachVolume) and no image pull error to explain it.

import type { Event, Pod, VirtualMachineInstanceMigration } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  ageSeconds,
  eventAtOrAfter,
  eventEvidence,
  eventsCommand,
  findEvents,
  isFinal,
  isTargetPod,
  lowerConfidence,
  migrationObject,
  missingAbout,
  nonEmpty,
  pendingPodTimeout,
  podCondition,
  relevantMigrations,
  relevantSince,
  targetPodNamesOf,
  timedOutPodName,
} from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";
import { candidateNodes } from "./target-pod-unschedulable.js";

const id = "target-network-setup-failed";
const title = "Target pod's network cannot be set up on the target node";
const docs = "https://kubevirt.io/user-guide/network/interfaces_and_networks/";

const networkError =
  /network for (?:sandbox|pod)|error adding container to network|CNI|multus|Link not found|failed to find bridge|interface \S+ is not ready|plugin type=/i;

export interface NetworkFailure {
  migration?: VirtualMachineInstanceMigration | undefined;
  podName: string;
  pod?: Pod | undefined;
  node?: string | undefined;
  events: Event[];
  /** The pod was deleted by virt-controller's pending timeout. */
  timedOut?: Event | undefined;
  removed?: Event | undefined;
  /** Known from state alone: the pod has waited this many seconds on its node, with no sandbox event. */
  stuckFor?: number | undefined;
}

const pendingTimeout = pendingPodTimeout;

function nodeOf(s: Snapshot, podName: string, pod: Pod | undefined): string | undefined {
  if (pod?.spec?.nodeName) return pod.spec.nodeName;
  const scheduled = findEvents(s, { kind: "Pod", name: podName, reason: "Scheduled" }).at(-1);
  const m = / to (\S+)$/.exec(scheduled?.message ?? "");
  return m?.[1] ?? scheduled?.source?.host ?? undefined;
}

/** Target pods of the relevant migrations stuck (or killed) on sandbox network errors. */
export function networkSetupFailures(s: Snapshot): NetworkFailure[] {
  const since = relevantSince(s);
  const groups: { migration?: VirtualMachineInstanceMigration; names: string[] }[] = relevantMigrations(
    s,
  ).map((m) => ({ migration: m, names: targetPodNamesOf(s, m) }));
  if (s.migrations.length === 0)
    groups.push({ names: s.pods.filter(isTargetPod).map((p) => p.metadata.name ?? "") });
  const found: NetworkFailure[] = [];
  for (const { migration, names } of groups) {
    if (migration?.status?.phase === "Succeeded") continue;
    const timeouts = migration
      ? findEvents(s, {
          kind: "VirtualMachineInstanceMigration",
          name: migration.metadata.name,
          reason: "SuccessfulDelete",
        }).filter((e) => pendingTimeout.test(e.message ?? ""))
      : [];
    for (const t of timeouts) {
      const n = timedOutPodName(t.message);
      if (n && !names.includes(n)) names.push(n);
    }
    for (const podName of names) {
      const pod = s.pods.find((p) => p.metadata.name === podName);
      const ready = pod ? podCondition(pod, "Ready")?.status === "True" : false;
      if (ready) continue;
      // With no message (or one this version words unlike any we know, but still empty), the
      // reason alone says the sandbox, and so its network, could not be set up.
      const events = findEvents(s, { kind: "Pod", name: podName, reason: "FailedCreatePodSandBox" }).filter(
        (e) => (networkError.test(e.message ?? "") || !e.message) && eventAtOrAfter(e, since),
      );
      if (events.length === 0) continue;
      const timedOut = timeouts.find((e) => timedOutPodName(e.message) === podName);
      // A pod gone without a timeout (cancelled, or its migration went on) is not stuck on its network.
      if (!pod && !timedOut) continue;
      const removed = migration
        ? findEvents(s, {
            kind: "VirtualMachineInstanceMigration",
            name: migration.metadata.name,
            reason: "FailedMigration",
            message: /target pod was removed/,
          }).at(-1)
        : undefined;
      found.push({ migration, podName, pod, node: nodeOf(s, podName, pod), events, timedOut, removed });
    }
    // No sandbox event: a target pod placed on a node and stuck before its containers start.
    if (migration && !isFinal(migration) && !found.some((f) => f.migration === migration)) {
      for (const podName of names) {
        const pod = s.pods.find((p) => p.metadata.name === podName);
        const stuck = pod && stuckBeforeStart(s, pod);
        if (stuck)
          found.push({ migration, podName, pod, node: pod.spec?.nodeName, events: [], stuckFor: stuck });
      }
    }
  }
  return found;
}

/** Waiting reasons of a pod whose sandbox (network) or volumes are not ready yet. */
const beforeStart = /^(ContainerCreating|PodInitializing)$/;
/** Evidence that something other than the network holds the pod: its volumes or its image. */
const volumeEvents = /^(FailedMount|FailedAttachVolume|FailedMapVolume)$/;
const imageWaits = /ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull/;
/** A target pod waiting this long on a node before any container starts is stuck. */
export const stuckBeforeStartSeconds = 300;

/**
 * Seconds a placed, not Ready target pod has been waiting before any container started, when it
 * is longer than `stuckBeforeStartSeconds` and neither a volume event nor an image pull explains it.
 */
export function stuckBeforeStart(s: Snapshot, pod: Pod): number | undefined {
  if (!pod.spec?.nodeName || podCondition(pod, "Ready")?.status === "True" || pod.metadata.deletionTimestamp)
    return undefined;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  if (statuses.some((c) => c.state?.running || c.state?.terminated)) return undefined;
  const reasons = statuses.map((c) => c.state?.waiting?.reason ?? "");
  if (!reasons.some((r) => beforeStart.test(r)) || reasons.some((r) => imageWaits.test(r))) return undefined;
  const name = pod.metadata.name;
  if (findEvents(s, { kind: "Pod", name, reason: volumeEvents }).length > 0) return undefined;
  const age = ageSeconds(s, pod.metadata.creationTimestamp);
  return age !== undefined && age >= stuckBeforeStartSeconds ? age : undefined;
}

function detect(s: Snapshot): Finding[] {
  const failures = networkSetupFailures(s);
  const f = failures.find((x) => x.pod) ?? failures.at(-1);
  if (!f) return [];
  const vm = s.vmName;
  const ns = ["-n", s.namespace];
  const last = f.events.at(-1);
  const message = last?.message ?? "";
  const network =
    /error adding container to network "([^"]+)"/.exec(message)?.[1] ??
    /\[[^\]]*:([^\]:]+)\]/.exec(message)?.[1];
  const bridge =
    /failed to find bridge (\S+)/.exec(message)?.[1] ??
    /bridge "?([\w.-]+)"? (?:not found|does not exist)/.exec(message)?.[1];
  const port = /interface (\S+) is not ready/.exec(message)?.[1];

  const evidence: Evidence[] = [];
  if (f.pod) {
    const waiting = f.pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting?.reason;
    evidence.push({
      object: `Pod/${f.podName}`,
      field: "status",
      text: `phase ${f.pod.status?.phase ?? "?"} on node ${f.node ?? "?"}${waiting ? `, containers waiting: ${waiting}` : ""}`,
    });
  }
  if (last) evidence.push(eventEvidence(last));
  if (f.stuckFor !== undefined && f.pod)
    evidence.push({
      object: `Pod/${f.podName}`,
      field: "metadata.creationTimestamp",
      time: f.pod.metadata.creationTimestamp,
      text: `placed on ${f.node ?? "?"} ${Math.round(f.stuckFor / 60)} min before the snapshot; no container has started, and ${s.events.length > 0 ? "no volume or image event explains the wait" : "no events were in the snapshot to say why"}`,
    });
  if (f.timedOut) evidence.push(eventEvidence(f.timedOut));
  if (f.removed) evidence.push(eventEvidence(f.removed));

  const notChecked: string[] = [];
  let confidence: Confidence = "high";
  if (!f.pod) {
    confidence = "medium";
    notChecked.push("the target pod itself (it was deleted; only its events remain)");
  }
  if (!f.node) notChecked.push("which node the target pod was on");
  if (missingAbout(s, /logs/i).length > 0)
    notChecked.push("the CNI plugin's own logs on the node (diagnose does not read them)");
  if (missingAbout(s, /events/i).length > 0) confidence = lowerConfidence(confidence);
  if (f.stuckFor !== undefined) {
    confidence = "low";
    if (s.events.length === 0)
      notChecked.push(
        "the pod's events (none in the snapshot), so a volume that cannot attach or mount is not ruled out",
      );
    notChecked.push(
      "a FailedCreatePodSandBox event or CNI error naming the network (none in the snapshot): the wait is read from the pod's state, before its sandbox, where the CNI plugins run, and its volumes are ready",
    );
  } else if (!f.events.some((e) => e.message)) {
    confidence = lowerConfidence(confidence);
    notChecked.push("the sandbox error's text (the events carry no message), so which network failed");
  }

  const what =
    f.stuckFor !== undefined
      ? `it has waited ${Math.round(f.stuckFor / 60)} min without starting a container, the state of a pod whose sandbox network the CNI plugin has not set up (no event in the snapshot names the cause)`
      : bridge
        ? `the bridge ${bridge}${network ? ` for network ${network}` : ""} does not exist on ${f.node ?? "that node"}`
        : port
          ? `the pod's network port ${port} never became ready`
          : `the CNI plugin failed to add the pod to ${network ? `network ${network}` : "its network"}`;
  const outcome = f.timedOut
    ? "virt-controller deleted it after the 15-minute pending timeout and the migration failed"
    : `the migration waits in ${f.migration?.status?.phase || "Scheduling"} until virt-controller's 15-minute pending timeout deletes the pod and fails it`;
  const summary = `The migration target pod ${f.podName}${f.migration ? ` of ${migrationObject(f.migration)}` : ""} was placed on ${f.node ?? "a node"} but ${f.stuckFor !== undefined ? "has not started" : "stays ContainerCreating"}: ${what}. ${outcome[0]?.toUpperCase()}${outcome.slice(1)}; the VM keeps running on its source node.`;

  const commands: string[] = [];
  if (f.pod) commands.push(commandLine(["kubectl", "describe", "pod", f.podName, ...ns]));
  if (f.stuckFor !== undefined) commands.push(eventsCommand(s, f.podName));
  if (network)
    commands.push(
      commandLine([
        "kubectl",
        "get",
        "network-attachment-definitions",
        network.split("/").at(-1) ?? network,
        ...ns,
        "-o",
        "yaml",
      ]),
    );
  if (f.node)
    commands.push(
      commandLine([
        "kubectl",
        "get",
        "pods",
        "-A",
        "-o",
        "wide",
        "--field-selector",
        `spec.nodeName=${f.node}`,
      ]),
    );
  const others = candidateNodes(s, [f.node, s.vmi?.status?.nodeName]);
  if (f.migration && !isFinal(f.migration)) commands.push(kvmigCommand(["cancel", vm, ...ns]));
  if (others[0]) commands.push(kvmigCommand(["migrate", vm, ...ns, "--target-node", others[0]]));
  const explanation = `${bridge ? `Create the bridge ${bridge} on ${f.node ?? "the target node"} (or fix the node's network configuration)` : `Fix the CNI plugin on ${f.node ?? "the target node"}`}, or keep the VM off that node${others[0] ? ` by migrating it to a node where the network works (${others.join(", ")} look usable)` : ""}. Look at the CNI pods on the node for the cause.`;
  return [
    {
      id,
      title,
      severity: "error",
      confidence,
      summary,
      evidence,
      fix: { explanation, commands },
      docs,
      notChecked: nonEmpty(notChecked),
    },
  ];
}

export const targetNetworkSetupFailed: Rule = { id, title, severity: "error", detect };
