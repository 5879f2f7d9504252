// migration-queued: a VMIM that stays Pending with no target pod because virt-controller will not
// start it yet. virt-controller holds a migration back, with no event, when the cluster already
// runs `parallelMigrationsPerCluster` migrations, when the source node already has
// `parallelOutboundMigrationsPerNode` outbound ones, or when the VMI still has more than one
// active launcher pod (facts §c "Parallel limits"). The only trace of the first two is a
// virt-controller log line, so the counts come from that line when it was read, else from the
// cluster's unfinished VMIMs (a live snapshot reads them while a migration waits), else from the
// VMIMs in the snapshot. Which limit is full decides the fix: raising the cluster's limit does
// nothing for a source node that already sends its maximum.

import type { Pod, VirtualMachineInstanceMigration } from "../../k8s/types.js";
import { outboundFrom, outboundKey, outboundNodesOf } from "../../migration/outbound.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  ageSeconds,
  eventTime,
  findEvents,
  findLogLines,
  isFinal,
  launcherPodsCommand,
  logEvidence,
  migrationObject,
  migrationSettings,
  nonEmpty,
  patchMigrationConfig,
  phaseTime,
  podsOfMigration,
  vmiObject,
} from "../evidence.js";
import type { Evidence, Finding, Rule, Snapshot } from "../types.js";
import { migrationBackoff } from "./migration-backoff.js";
import { missingAttachments } from "./network-attachment-missing.js";
import { openRecordOwner } from "./stale-migration-state.js";

const id = "migration-queued";
const title = "Migration is queued behind other migrations";
/** Pending for less than this is normal: virt-controller retries every 1 to 5 seconds. */
const queuedAfterSeconds = 10;
const docs = "https://kubevirt.io/user-guide/compute/live_migration/";
/** Phases in which a VMIM counts against the limits (VMIM.IsRunning in KubeVirt). */
const countedPhases = new Set(["Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running"]);
/** VMIM conditions that hold a Pending migration for a reason of their own. */
const blockingConditions = new Set([
  "migrationRejectedByResourceQuota",
  "migrationBlockedByUtilityVolumes",
  "migrationBlockedByBackup",
  "decentralizedMigrationBlocked",
]);

function podDown(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

function vmiNameOf(m: VirtualMachineInstanceMigration): string | undefined {
  return m.spec?.vmiName ?? m.metadata.labels?.["kubevirt.io/vmi-name"];
}

function fmt(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** The Pending VMIM of this VMI that virt-controller has not started, with how long it waited. */
/** Without evidence of a full queue, a Pending migration this old is stuck rather than queued. */
export const queuedAtMostSeconds = 3600;

function waitingMigration(
  s: Snapshot,
): { migration: VirtualMachineInstanceMigration; since: string; age: number } | undefined {
  const own = s.migrations.filter((m) => vmiNameOf(m) === s.vmName && !isFinal(m));
  const pending = own.filter((m) => {
    const phase = m.status?.phase ?? "";
    return (phase === "Pending" || phase === "") && !m.metadata.deletionTimestamp;
  });
  const migration = pending.at(-1);
  if (!migration) return undefined;
  const since = phaseTime(migration, "Pending") ?? migration.metadata.creationTimestamp;
  const age = ageSeconds(s, since);
  if (since === undefined || age === undefined || age < queuedAfterSeconds) return undefined;
  return { migration, since, age };
}

/** Something else explains the wait: a target pod exists, backoff, a blocking condition, a failed pod creation. */
function otherExplanation(s: Snapshot, migration: VirtualMachineInstanceMigration, since: string): boolean {
  if (podsOfMigration(s, migration).length > 0) return true;
  // A Multus network without its NAD: virt-controller cannot render the target pod at all.
  const nadsRead = !s.missing.some((m) => /NetworkAttachmentDefinition/.test(m.what));
  if (nadsRead && missingAttachments(s).length > 0) return true;
  if (migration.status?.conditions?.some((c) => blockingConditions.has(c.type) && c.status === "True"))
    return true;
  const after = (t: string | undefined) => t !== undefined && Date.parse(t) >= Date.parse(since);
  const vmi = s.vmi?.metadata.name ?? s.vmName;
  if (findEvents(s, { reason: "MigrationBackoff", name: vmi }).some((e) => after(eventTime(e)))) return true;
  // A backoff loop seen in the failed attempts themselves, its warnings expired or not read.
  if (migrationBackoff.detect(s).length > 0) return true;
  return findEvents(s, { reason: "FailedCreate", name: vmi, type: "Warning" }).some((e) =>
    after(eventTime(e)),
  );
}

function activePodsFinding(
  s: Snapshot,
  migration: VirtualMachineInstanceMigration,
  since: string,
  age: number,
): Finding | undefined {
  const active = Object.entries(s.vmi?.status?.activePods ?? {});
  if (active.length < 2) return undefined;
  const state = s.vmi?.status?.migrationState;
  // Two pods are normal while a migration is under way; an open record of one whose VMIM is known
  // to be final or gone is not one (virt-controller takes such a record over: stale-migration-state).
  const over = openRecordOwner(s);
  const known =
    over !== undefined &&
    (over.owner !== undefined || !s.missing.some((m) => /VirtualMachineInstanceMigration/.test(m.what)));
  if (state?.migrationUid && state.completed !== true && state.failed !== true && !known) return undefined;
  const evidence: Evidence[] = [
    {
      object: migrationObject(migration),
      field: "status.phase",
      time: since,
      text: `Pending for ${fmt(age)}, no target pod`,
    },
    {
      object: vmiObject(s),
      field: "status.activePods",
      text: active.map(([uid, node]) => `${uid}: ${node}`).join(", "),
    },
  ];
  const stale: Pod[] = [];
  for (const [uid] of active) {
    const pod = s.pods.find((p) => p.metadata.uid === uid);
    if (!pod) continue;
    evidence.push({
      object: `Pod/${pod.metadata.name}`,
      field: "status.phase",
      text: `${pod.status?.phase ?? "unknown"} on ${pod.spec?.nodeName ?? "?"}`,
    });
    if (podDown(pod)) stale.push(pod);
  }
  for (const line of findLogLines(s, /multiple pods running for vmi/)) evidence.push(logEvidence(line));
  const matched = active.filter(([uid]) => s.pods.some((p) => p.metadata.uid === uid)).length;
  const notChecked =
    matched < active.length
      ? ["the phase of every pod listed in status.activePods (not all are in the snapshot)"]
      : undefined;
  const uid = s.vmi?.metadata.uid;
  const commands =
    stale.length > 0
      ? stale.map((p) => commandLine(["kubectl", "delete", "pod", p.metadata.name ?? "", "-n", s.namespace]))
      : [launcherPodsCommand(s, uid)];
  commands.push(kvmigCommand(["watch", s.vmName, "-n", s.namespace]));
  return {
    id,
    title: "Migration waits: the VMI still has two active launcher pods",
    severity: "warning",
    confidence: stale.length > 0 ? "high" : "medium",
    summary:
      `${migrationObject(migration)} has been Pending for ${fmt(age)} without a target pod while ${s.vmName} lists ${active.length} active launcher pods and no migration is running. ` +
      "virt-controller does not create a target pod while a VMI has more than one active pod" +
      (stale.length > 0
        ? `; ${stale.map((p) => p.metadata.name).join(", ")} has already finished, so its entry is stale.`
        : "."),
    evidence,
    fix: {
      explanation:
        stale.length > 0
          ? "Delete the finished launcher pod so that status.activePods is recomputed with one pod; the queued migration then starts by itself."
          : "Find which of the listed pods is not running the VM; once only one launcher pod is active the queued migration starts by itself.",
      commands,
    },
    docs: "https://github.com/kubevirt/kubevirt/issues/12773",
    notChecked,
    causedBy: "stale-migration-state",
  };
}

interface ControllerCount {
  kind: "cluster" | "node";
  count: number;
  line: ReturnType<typeof findLogLines>[number];
}

/** virt-controller's own "Waiting to schedule target pod ..." lines about this VMI, newest last. */
function controllerCounts(s: Snapshot): ControllerCount[] {
  const vmi = `${s.namespace}/${s.vmName}`;
  const out: ControllerCount[] = [];
  for (const line of findLogLines(s, /Waiting to schedule target pod for vmi \[/)) {
    if (!line.text.includes(`[${vmi}]`)) continue;
    const cluster = /total running parallel migration count \[(\d+)\]/.exec(line.text);
    const node = /parallel outbound migrations on target node \[(\d+)\]/.exec(line.text);
    if (cluster?.[1]) out.push({ kind: "cluster", count: Number(cluster[1]), line });
    else if (node?.[1]) out.push({ kind: "node", count: Number(node[1]), line });
  }
  return out;
}

function limitsFinding(
  s: Snapshot,
  migration: VirtualMachineInstanceMigration,
  since: string,
  age: number,
): Finding | undefined {
  const settings = migrationSettings(s);
  const clusterLimit = settings.parallelMigrationsPerCluster;
  const nodeLimit = settings.parallelOutboundMigrationsPerNode;
  const sourceNode = s.vmi?.status?.nodeName ?? migration.status?.migrationState?.sourceNode;
  // Read from the cluster: every namespace's unfinished migrations, so zero others is a count too.
  const read = s.clusterMigrations !== undefined;
  const all = s.clusterMigrations ?? s.migrations;
  const own = (m: VirtualMachineInstanceMigration) =>
    vmiNameOf(m) === s.vmName && (m.metadata.namespace ?? s.namespace) === s.namespace;
  const others = all.filter((m) => !own(m));
  const running = all.filter((m) => countedPhases.has(m.status?.phase ?? ""));
  // Where a running migration leaves from is its VMI's business, not its VMIM's (outbound.ts): read
  // live with the cluster's migrations; for this VM's own, its VMI is at hand.
  const outbound = outboundFrom(
    sourceNode,
    running,
    (m) => s.clusterOutboundNodes?.get(outboundKey(m)) ?? outboundNodesOf(m, own(m) ? s.vmi : undefined),
  );
  const fromLog = controllerCounts(s);
  const lastLog = fromLog.at(-1);
  const clusterFull = running.length >= clusterLimit;
  const nodeFull = sourceNode !== undefined && outbound.length >= nodeLimit;

  // Other VMs' migrations were read and they leave room: the queue is not what holds this one.
  if (!lastLog && (read || others.length > 0) && !clusterFull && !nodeFull) return undefined;
  // Migrations take minutes; a wait far longer than that with no sign of a full queue is a
  // migration that is not going to start by itself (stuck-migration says so).
  if (!lastLog && !clusterFull && !nodeFull && age >= queuedAtMostSeconds) return undefined;

  const cr = s.kubevirt ? `KubeVirt/${s.kubevirt.metadata.name ?? "kubevirt"}` : "KubeVirt";
  const limitSource = (field: string) => (settings.explicit.has(field) ? "" : " (KubeVirt default)");
  const evidence: Evidence[] = [
    {
      object: migrationObject(migration),
      field: "status.phase",
      time: since,
      text: `Pending for ${fmt(age)}, no target pod, no event`,
    },
    {
      object: cr,
      field: "spec.configuration.migrations",
      text: `parallelMigrationsPerCluster: ${clusterLimit}${limitSource("parallelMigrationsPerCluster")}, parallelOutboundMigrationsPerNode: ${nodeLimit}${limitSource("parallelOutboundMigrationsPerNode")}`,
    },
  ];
  if (lastLog) evidence.push(logEvidence(lastLog.line));
  if (read || others.length > 0) {
    const where = (m: VirtualMachineInstanceMigration) =>
      m.metadata.namespace && m.metadata.namespace !== s.namespace ? `${m.metadata.namespace}/` : "";
    evidence.push({
      object: "VirtualMachineInstanceMigrations",
      field: "status.phase",
      text: `${running.length} running in the cluster (limit ${clusterLimit})${sourceNode ? `, ${outbound.length} outbound from ${sourceNode} (limit ${nodeLimit})` : ""}: ${running.map((m) => `${where(m)}${m.metadata.name} (${vmiNameOf(m)}, ${m.status?.phase})`).join(", ") || "none"}`,
    });
  }
  const notChecked: string[] = [];
  if (!read && others.length === 0 && !lastLog) {
    notChecked.push(
      "the running migrations of other VMs (the snapshot holds only this VM's migrations), so the counts against the limits",
    );
    notChecked.push(
      'virt-controller\'s log (its "Waiting to schedule target pod" line names the limit that is full)',
    );
  }
  if (!s.kubevirt) notChecked.push("the KubeVirt resource (the limits shown are KubeVirt's defaults)");
  const confidence = lastLog || clusterFull || nodeFull ? "high" : "low";
  // The limit that holds it: virt-controller's own line says which; else the counts do.
  const full = lastLog ? lastLog.kind : clusterFull && nodeFull ? "both" : nodeFull ? "node" : "cluster";
  const nodeText = `the source node ${sourceNode ?? ""} already has ${lastLog?.count ?? outbound.length} outbound migrations (limit ${nodeLimit})`;
  const clusterText = `the cluster already runs ${lastLog?.count ?? running.length} migrations (limit ${clusterLimit})`;
  const which =
    full === "node"
      ? nodeText
      : full === "both"
        ? `${clusterText}, and ${nodeText}`
        : lastLog || clusterFull
          ? clusterText
          : `no other cause was found; the most likely one is the parallel limits (${clusterLimit} per cluster, ${nodeLimit} outbound per node), which virt-controller enforces without an event`;
  const raise =
    full === "node"
      ? { parallelOutboundMigrationsPerNode: nodeLimit + 1 }
      : full === "both"
        ? { parallelMigrationsPerCluster: clusterLimit + 1, parallelOutboundMigrationsPerNode: nodeLimit + 1 }
        : { parallelMigrationsPerCluster: clusterLimit + 1 };
  return {
    id,
    title,
    severity: "warning",
    confidence,
    summary: `${migrationObject(migration)} has been Pending for ${fmt(age)} with no target pod: ${which}. It starts by itself when a slot frees.`,
    evidence,
    fix: {
      explanation:
        "Wait for the running migrations to finish (the queued one starts on its own), or raise the limit if the network between the nodes can carry more migrations at once.",
      commands: [
        kvmigCommand(["watch", "-n", s.namespace]),
        kvmigCommand(["watch", s.vmName, "-n", s.namespace]),
        patchMigrationConfig(s, raise),
      ],
    },
    docs,
    notChecked: nonEmpty(notChecked),
  };
}

export const migrationQueued: Rule = {
  id,
  title,
  severity: "warning",
  specificity: "symptom",
  detect(s: Snapshot): Finding[] {
    const waiting = waitingMigration(s);
    if (!waiting) return [];
    const { migration, since, age } = waiting;
    if (otherExplanation(s, migration, since)) return [];
    const pods = activePodsFinding(s, migration, since, age);
    if (pods) return [pods];
    const limits = limitsFinding(s, migration, since, age);
    return limits ? [limits] : [];
  },
};
