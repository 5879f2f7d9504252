// "Why is it Pending?": KubeVirt keeps a migration Pending without an event when the parallel
// limits are full or the VMI still has two launcher pods, and an unschedulable target pod is
// deleted after a timeout (facts §c, §g). This turns what kvmig read into sentences, with counts.

import { formatDuration } from "../duration.js";
import type { Event, Pod, VirtualMachineInstance, VirtualMachineInstanceMigration } from "../k8s/types.js";
import { type OutboundNodes, outboundFrom, outboundKey } from "./outbound.js";

/** KubeVirt's defaults when the KubeVirt CR does not set them. */
export const defaultParallelMigrationsPerCluster = 5;
export const defaultParallelOutboundMigrationsPerNode = 2;
/** Seconds an unschedulable target pod may stay Pending before KubeVirt deletes it. */
export const unschedulableTimeoutSeconds = 300;
/** Seconds a target pod may stay Pending for any other reason. */
export const pendingTimeoutSeconds = 900;

export interface Limits {
  perCluster: number;
  perNode: number;
}

/** KubeVirt's `IsRunning()`: the migrations the parallel limits count. */
export function countsTowardsLimits(migration: VirtualMachineInstanceMigration): boolean {
  const phase = migration.status?.phase ?? "";
  return !["", "Pending", "Succeeded", "Failed", "WaitingForSync", "Synchronizing"].includes(phase);
}

export interface PendingInput {
  migration: VirtualMachineInstanceMigration;
  vmi?: VirtualMachineInstance | undefined;
  /** Unfinished migrations in the cluster, when they could be listed. */
  clusterMigrations?: readonly VirtualMachineInstanceMigration[] | undefined;
  /** Where each running migration leaves from (from its VMI: migration/outbound.ts), for the per-node count. */
  outboundNodes?: OutboundNodes | undefined;
  limits: Limits;
  /** Target pods of this migration. */
  targetPods: readonly Pod[];
  /** Recent events about the VMI and the VMIM. */
  events: readonly Event[];
  now: number;
}

export interface PendingReason {
  /** What the reason is about, without counts or countdowns: a change of key is news. */
  key: string;
  kind:
    | "cluster-limit"
    | "node-limit"
    | "unschedulable"
    | "pod-pending"
    | "backoff"
    | "two-pods"
    | "quota"
    | "waiting";
  text: string;
}

export function explainPending(input: PendingInput): PendingReason[] {
  const reasons: PendingReason[] = [];
  const { migration, vmi, limits } = input;
  const phase = migration.status?.phase ?? "";

  if (phase === "Pending" || phase === "") {
    const running = input.clusterMigrations?.filter(countsTowardsLimits);
    if (running && running.length >= limits.perCluster) {
      reasons.push({
        key: "cluster-limit",
        kind: "cluster-limit",
        text: `queued: ${running.length} of ${limits.perCluster} cluster-wide migration slots in use (parallelMigrationsPerCluster)`,
      });
    }
    const node = vmi?.status?.nodeName;
    const nodes = input.outboundNodes;
    if (running && node && nodes) {
      const outbound = outboundFrom(node, running, (m) => nodes.get(outboundKey(m))).length;
      if (outbound >= limits.perNode) {
        reasons.push({
          key: `node-limit ${node}`,
          kind: "node-limit",
          text: `queued: ${outbound} of ${limits.perNode} outbound migrations from ${node} in use (parallelOutboundMigrationsPerNode)`,
        });
      }
    }
    const active = Object.keys(vmi?.status?.activePods ?? {}).length;
    if (active > 1) {
      reasons.push({
        key: "two-pods",
        kind: "two-pods",
        text: `the VMI still has ${active} active launcher pods; KubeVirt waits until only one is left`,
      });
    }
    const backoff = latest(input.events.filter((e) => e.reason === "MigrationBackoff"));
    if (backoff) {
      reasons.push({
        key: "backoff",
        kind: "backoff",
        text: `backing off after failed attempts: ${backoff.message ?? "MigrationBackoff"}`,
      });
    }
    const quota = migration.status?.conditions?.find((c) => c.type === "migrationRejectedByResourceQuota");
    if (quota?.status === "True") {
      reasons.push({
        key: "quota",
        kind: "quota",
        text: `the target pod exceeds a resource quota: ${quota.message ?? quota.reason ?? ""}`,
      });
    }
  }

  for (const pod of input.targetPods) {
    if (pod.status?.phase !== "Pending") continue;
    const name = pod.metadata.name ?? "the target pod";
    const created = Date.parse(pod.metadata.creationTimestamp ?? "");
    const scheduled = pod.status.conditions?.find((c) => c.type === "PodScheduled");
    if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
      reasons.push({
        key: `unschedulable ${name}`,
        kind: "unschedulable",
        text: `target pod ${name} is unschedulable: ${scheduled.message ?? "no reason given"}${timeLeft(created, unschedulableTimeoutSeconds, input.now)}`,
      });
    } else {
      const waiting = pod.status.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
      const sandbox = latest(
        input.events.filter((e) => e.involvedObject.name === pod.metadata.name && e.type === "Warning"),
      );
      const detail = sandbox?.message ?? waiting?.message ?? waiting?.reason ?? "not ready yet";
      reasons.push({
        key: `pod-pending ${name} ${detail}`,
        kind: "pod-pending",
        text: `target pod ${name} is ${pod.spec?.nodeName ? `on ${pod.spec.nodeName} but ` : ""}not running: ${detail}${timeLeft(created, pendingTimeoutSeconds, input.now)}`,
      });
    }
  }

  if (reasons.length === 0 && (phase === "Pending" || phase === "")) {
    reasons.push({
      key: "waiting",
      kind: "waiting",
      text: "waiting for virt-controller to create the target pod",
    });
  }
  return reasons;
}

function latest(events: readonly Event[]): Event | undefined {
  const time = (e: Event) => Date.parse(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? "") || 0;
  return [...events].sort((a, b) => time(a) - time(b)).at(-1);
}

function timeLeft(createdMs: number, timeoutSeconds: number, now: number): string {
  if (Number.isNaN(createdMs)) return "";
  const left = createdMs + timeoutSeconds * 1000 - now;
  return left > 0
    ? `; KubeVirt gives up on it in ${formatDuration(left)} (${timeoutSeconds}s timeout)`
    : `; its ${timeoutSeconds}s timeout has passed`;
}
