// handler-disruption: virt-handler on the source or target node went away (restart, crash, or a
// DaemonSet rollout during an upgrade) while a migration ran. virt-handler owns the migration
// proxy and the launchers' notify server; when it dies mid-migration the proxy is torn down, the
// source QEMU may never finish, and the migration fails or hangs (kubevirt/kubevirt#18670).
// What the snapshot can show: the launchers' "Failed to connect to notify server" lines, a
// handler sync error mentioning its shutdown, virt-handler pods (when gathered) whose container
// started during the migration, a node whose virt-handler heartbeat stopped, and an upgrade in
// progress on the KubeVirt resource.

import type { Pod, VirtualMachineInstanceMigration } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  ageSeconds,
  eventEvidence,
  eventTime,
  findEvents,
  findLogLines,
  hasLogs,
  isFinal,
  isHandlerPod,
  logEvidence,
  migrationObject,
  nonEmpty,
  phaseTime,
} from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "handler-disruption";
const title = "virt-handler was disrupted during the migration";
const docs = "https://github.com/kubevirt/kubevirt/issues/18670";
const notifyLost =
  /Failed to connect to notify server|failed to send domain notify event|failed to notify domain event/i;
const handlerShutdown = /during virt-handler shutdown/;
const heartbeatAnnotation = "kubevirt.io/heartbeat";
/** virt-handler writes its heartbeat every minute; older than this means it is not running. */
const heartbeatStaleSeconds = 180;

interface Window {
  migration: VirtualMachineInstanceMigration;
  from: number;
  to: number;
  nodes: string[];
  pods: string[];
}

function time(t: string | null | undefined): number {
  return t ? Date.parse(t) : Number.NaN;
}

/** The migration to look at (newest unfinished, else newest failed not followed by a success) and its time span. */
function windowOf(s: Snapshot): Window | undefined {
  const unfinished = s.migrations.filter((m) => !isFinal(m)).at(-1);
  const lastSuccess = s.migrations.findLastIndex((m) => m.status?.phase === "Succeeded");
  const failed = s.migrations
    .slice(lastSuccess + 1)
    .filter((m) => m.status?.phase === "Failed")
    .at(-1);
  const migration = unfinished ?? failed;
  if (!migration) return undefined;
  const vmiState = s.vmi?.status?.migrationState;
  const state =
    vmiState?.migrationUid === migration.metadata.uid ? vmiState : migration.status?.migrationState;
  const from = time(migration.metadata.creationTimestamp ?? phaseTime(migration, "Pending"));
  const end = isFinal(migration)
    ? (state?.endTimestamp ?? phaseTime(migration, migration.status?.phase ?? ""))
    : s.takenAt;
  const to = time(end);
  if (Number.isNaN(from) || Number.isNaN(to)) return undefined;
  const nodes = [state?.sourceNode, state?.targetNode, s.vmi?.status?.nodeName].filter(
    (n): n is string => !!n,
  );
  const pods = [state?.sourcePod, state?.targetPod].filter((p): p is string => !!p);
  return { migration, from, to, nodes: [...new Set(nodes)], pods };
}

function within(w: Window, t: string | null | undefined): boolean {
  const ms = time(t);
  return !Number.isNaN(ms) && ms >= w.from && ms <= w.to + 60_000;
}

/** virt-handler's pods: read on their own, or found among the pods of a directory. */
function handlerPods(s: Snapshot): Pod[] {
  const all = [...(s.handlerPods ?? []), ...s.pods.filter(isHandlerPod)];
  return all.filter((p, i) => all.findIndex((q) => q.metadata.name === p.metadata.name) === i);
}

export interface HandlerSignals {
  direct: Evidence[];
  supporting: Evidence[];
  window: Window;
}

/** Evidence that virt-handler on a node of the migration went away during it; undefined when there is none. */
export function handlerDisruptionSignals(s: Snapshot): HandlerSignals | undefined {
  const w = windowOf(s);
  if (!w) return undefined;
  const direct: Evidence[] = [];
  const supporting: Evidence[] = [];
  // 1. virt-handler pods on the nodes of the migration that (re)started during it.
  for (const pod of handlerPods(s)) {
    if (pod.spec?.nodeName && !w.nodes.includes(pod.spec.nodeName)) continue;
    const object = `Pod/${pod.metadata.name}`;
    if (within(w, pod.metadata.creationTimestamp)) {
      direct.push({
        object,
        field: "metadata.creationTimestamp",
        time: pod.metadata.creationTimestamp,
        text: `created on ${pod.spec?.nodeName ?? "?"} during the migration`,
      });
    }
    for (const c of pod.status?.containerStatuses ?? []) {
      const finished = c.lastState?.terminated?.finishedAt;
      if (within(w, finished)) {
        direct.push({
          object,
          field: `status.containerStatuses[${c.name}].lastState.terminated`,
          time: finished,
          text: `${c.lastState?.terminated?.reason ?? "terminated"} (exit code ${c.lastState?.terminated?.exitCode ?? "?"}), restartCount ${c.restartCount ?? "?"}`,
        });
      }
    }
  }
  // 2. The launchers of the migration could not reach virt-handler's notify server.
  const launcherLines = findLogLines(s, notifyLost).filter(
    (l) => within(w, l.time) && (w.pods.length === 0 || w.pods.includes(l.pod)),
  );
  const byPod = new Map<string, (typeof launcherLines)[number]>();
  for (const l of launcherLines) if (!byPod.has(l.pod)) byPod.set(l.pod, l);
  for (const l of byPod.values()) direct.push(logEvidence(l));
  // 3. virt-handler refusing migration connections because it is shutting down.
  for (const e of findEvents(s, { message: handlerShutdown })
    .filter((e) => within(w, eventTime(e)))
    .slice(-1)) {
    direct.push(eventEvidence(e));
  }
  for (const l of findLogLines(s, handlerShutdown)
    .filter((l) => within(w, l.time))
    .slice(-1))
    direct.push(logEvidence(l));
  // 4. A node of the migration whose virt-handler stopped reporting.
  for (const node of s.nodes.filter((n) => w.nodes.includes(n.metadata.name ?? ""))) {
    const beat = node.metadata.annotations?.[heartbeatAnnotation];
    const age = ageSeconds(s, beat);
    if (age !== undefined && age > heartbeatStaleSeconds) {
      direct.push({
        object: `Node/${node.metadata.name}`,
        field: `metadata.annotations[${heartbeatAnnotation}]`,
        time: beat,
        text: `last virt-handler heartbeat ${age} s before the snapshot${node.metadata.labels?.["kubevirt.io/schedulable"] === "false" ? "; kubevirt.io/schedulable=false" : ""}`,
      });
    }
  }
  if (direct.length === 0) return undefined;
  // Supporting: an upgrade (virt-handler rollout) under way.
  const st = s.kubevirt?.status;
  if (
    st &&
    (st.phase === "Deploying" ||
      (st.targetKubeVirtVersion &&
        st.observedKubeVirtVersion &&
        st.targetKubeVirtVersion !== st.observedKubeVirtVersion))
  ) {
    supporting.push({
      object: `KubeVirt/${s.kubevirt?.metadata.name ?? "kubevirt"}`,
      field: "status",
      text: `phase ${st.phase ?? "?"}, observedKubeVirtVersion ${st.observedKubeVirtVersion ?? "?"}, targetKubeVirtVersion ${st.targetKubeVirtVersion ?? "?"}`,
    });
  }
  if (w.migration.metadata.annotations?.["kubevirt.io/workloadUpdateMigration"] !== undefined) {
    supporting.push({
      object: migrationObject(w.migration),
      field: "metadata.annotations[kubevirt.io/workloadUpdateMigration]",
      text: "created by the workload updater (an upgrade is rolling out)",
    });
  }
  return { direct, supporting, window: w };
}

export const handlerDisruption: Rule = {
  id,
  title,
  severity: "error",
  detect(s: Snapshot): Finding[] {
    const signals = handlerDisruptionSignals(s);
    if (!signals) return [];
    const { direct, supporting, window: w } = signals;
    const m = w.migration;
    const podEvidence = direct.some((e) => e.object.startsWith("Pod/virt-handler-"));
    const shutdownText = direct.some((e) => handlerShutdown.test(e.text));
    const confidence: Confidence = podEvidence || shutdownText || supporting.length > 0 ? "high" : "medium";
    const notChecked: string[] = [];
    if (handlerPods(s).length === 0)
      notChecked.push(
        `the virt-handler pods on ${w.nodes.join(" and ") || "the nodes of the migration"} (restart counts and start times)`,
      );
    if (!hasLogs(s)) notChecked.push("the virt-launcher logs of the migration");
    const failed = m.status?.phase === "Failed";
    const phase = m.status?.phase ?? "Pending";
    return [
      {
        id,
        title,
        severity: failed ? "error" : "warning",
        confidence,
        summary:
          `While ${migrationObject(m)} ran (${failed ? "it failed" : `still ${phase}`}), virt-handler on ${w.nodes.join(" or ") || "a node of the migration"} was not reachable or restarted. ` +
          "virt-handler carries the migration traffic through its proxy and tracks the domain; a restart mid-migration breaks the transfer or leaves it hanging." +
          (supporting.length > 0 ? " A KubeVirt rollout was under way at the time." : ""),
        evidence: [...direct, ...supporting],
        fix: {
          explanation:
            "Let the virt-handler rollout finish (every virt-handler pod Ready), check that the VM still runs on its source node, then migrate again. " +
            (failed
              ? ""
              : "If the migration stays unfinished after virt-handler is back, cancel it; if the cancel does not complete, restart the VM (downtime)."),
          commands: [
            commandLine([
              "kubectl",
              "rollout",
              "status",
              "daemonset/virt-handler",
              "-n",
              s.kubevirt?.metadata.namespace ?? "kubevirt",
            ]),
            commandLine(["kubectl", "get", "vmi", s.vmName, "-n", s.namespace, "-o", "wide"]),
            ...(failed ? [] : [kvmigCommand(["cancel", s.vmName, "-n", s.namespace])]),
            kvmigCommand(["migrate", s.vmName, "-n", s.namespace]),
          ],
        },
        docs,
        notChecked: nonEmpty(notChecked),
      },
    ];
  },
};
