// stale-migration-state: the VMI still carries the record of a migration that is over. Two shapes
// are known. `status.migrationState` of a migration whose VMIM is gone or final but with neither
// `completed` nor `failed` set: up to KubeVirt v0.39 the create webhook read it as "in-flight" and
// refused every new migration (kubevirt/kubevirt#2495). Since v0.40.0 the webhook looks only at the
// VMI's unfinished VMIMs and virt-controller takes over a record whose VMIM is final or gone
// (`migration.go` canMigrateVMI; hand-off replaces it), so there the record refuses nothing; what
// it still does: with a startTimestamp and no endTimestamp KubeVirt counts the VMI as migrating
// (`pkg/util/migrations` IsMigrating), so the evacuation controller and the workload updater skip
// it, and a target pod it left running is a second active launcher pod, which holds every new
// migration in Pending ("multiple pods running"). The second shape: `status.activePods` still
// listing a launcher pod that has finished, which makes virt-controller wait for "multiple pods
// running" before it creates a target pod (kubevirt/kubevirt#12773).

import { isOlderThan } from "../../k8s/kubevirt-version.js";
import { kubevirtVersionOfLauncherImage } from "../../k8s/launcher-image.js";
import type { Pod, VirtualMachineInstanceMigration } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  ageSeconds,
  computeImage,
  eventTime,
  findEvents,
  findLogLines,
  isFinal,
  launcherPodsCommand,
  logEvidence,
  migrationObject,
  phaseTime,
  vmiObject,
} from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "stale-migration-state";
const title = "The VMI keeps the state of a finished migration";
/** A final VMIM whose VMI record is still open may just be a controller lagging: give it this long. */
const settleSeconds = 60;
const inFlight = /in-flight migration detected\. Active migration job \(([^)]+)\)/;

function podDown(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

function migrationsUnread(s: Snapshot): boolean {
  return s.missing.some((m) => /VirtualMachineInstanceMigration/.test(m.what));
}

/** The release whose create webhook stopped reading the VMI's record (migration-create-admitter.go). */
const webhookIgnoresRecordSince = "v0.40.0";

/** The cluster's KubeVirt release: the KubeVirt CR's, else a launcher pod's image tag. */
function kubevirtRelease(s: Snapshot): string | undefined {
  const observed = s.kubevirt?.status?.observedKubeVirtVersion;
  if (observed) return observed;
  for (const pod of s.pods) {
    const version = kubevirtVersionOfLauncherImage(computeImage(pod));
    if (version) return version;
  }
  return undefined;
}

/**
 * True only on a KubeVirt known to be older than v0.40.0, whose create webhook refused a new
 * migration while the VMI's record was open; later ones (all kvmig supports) do not.
 */
export function openRecordRefusesMigrations(s: Snapshot): boolean {
  const version = kubevirtRelease(s);
  return version !== undefined && isOlderThan(version, webhookIgnoresRecordSince);
}

/**
 * The VMI's record is of a migration that is over: unfinished, but its VMIM is final or gone (or,
 * when the VMIMs could not be read, not known to run). Undefined when the record is closed, or its
 * migration still runs.
 */
export function openRecordOwner(
  s: Snapshot,
): { uid: string; owner: VirtualMachineInstanceMigration | undefined } | undefined {
  const state = s.vmi?.status?.migrationState;
  const uid = state?.migrationUid;
  if (!state || !uid || state.completed === true || state.failed === true) return undefined;
  const owner = s.migrations.find((m) => m.metadata.uid === uid);
  if (owner && !isFinal(owner)) return undefined;
  return { uid, owner };
}

function openStateFinding(s: Snapshot): Finding | undefined {
  const open = openRecordOwner(s);
  const state = s.vmi?.status?.migrationState;
  if (!open || !state) return undefined;
  const { uid, owner } = open;
  if (owner) {
    const age = ageSeconds(
      s,
      phaseTime(owner, owner.status?.phase ?? "") ?? owner.metadata.creationTimestamp,
    );
    if (age !== undefined && age < settleSeconds) return undefined;
  }
  const unread = migrationsUnread(s);
  const evidence: Evidence[] = [
    {
      object: vmiObject(s),
      field: "status.migrationState",
      text: `migrationUid: ${uid}, sourceNode: ${state.sourceNode ?? "?"}, targetNode: ${state.targetNode ?? "?"}, targetPod: ${state.targetPod ?? "?"}; completed and failed not set`,
    },
  ];
  if (owner) {
    evidence.push({
      object: migrationObject(owner),
      field: "status.phase",
      time: phaseTime(owner, owner.status?.phase ?? ""),
      text: owner.status?.phase ?? "",
    });
  } else if (!unread) {
    evidence.push({ object: `VirtualMachineInstanceMigrations of ${s.vmName}`, text: `none has UID ${uid}` });
  }
  const target = s.pods.find((p) => p.metadata.name === state.targetPod);
  if (target) {
    evidence.push({
      object: `Pod/${target.metadata.name}`,
      field: "status.phase",
      text: `${target.status?.phase ?? "unknown"} on ${target.spec?.nodeName ?? "?"}`,
    });
  } else if (state.targetPod) {
    evidence.push({ object: `Pod/${state.targetPod}`, text: "not found (the migration target pod is gone)" });
  }
  const whose = owner
    ? `its VMIM ${owner.metadata.name} is ${owner.status?.phase}`
    : unread
      ? "its VMIM could not be looked up"
      : "no VMIM with that UID exists any more";
  if (!openRecordRefusesMigrations(s))
    return recordTakenOver(s, { uid, owner, unread, target, whose, evidence });

  for (const r of s.rejections.filter((r) => inFlight.exec(r.message)?.[1] === uid).slice(-1)) {
    evidence.push({ object: r.request, field: `HTTP ${r.status}`, time: r.at, text: r.message });
  }
  for (const e of findEvents(s, { message: inFlight })
    .filter((e) => inFlight.exec(e.message ?? "")?.[1] === uid)
    .slice(-1)) {
    evidence.push({
      object: `${e.involvedObject.kind}/${e.involvedObject.name}`,
      field: `event ${e.reason}`,
      time: eventTime(e),
      text: e.message ?? "",
    });
  }
  // The webhook refusing with this very UID shows that KubeVirt itself reads the record as open.
  const refused = evidence.some((e) => e.text.includes(`(${uid})`));
  const confidence: Confidence = unread && !owner ? (refused ? "medium" : "low") : "high";
  const commands: string[] = [];
  if (target && podDown(target))
    commands.push(commandLine(["kubectl", "delete", "pod", target.metadata.name ?? "", "-n", s.namespace]));
  commands.push(kvmigCommand(["restart", s.vmName, "-n", s.namespace]));
  return {
    id,
    title,
    severity: "error",
    confidence,
    summary:
      `${s.vmName} still records migration ${uid} as unfinished, but ${whose}. ` +
      `KubeVirt ${kubevirtRelease(s)}'s admission webhook treats this state as an in-flight migration and rejects every new one until the record is closed (v0.40.0 and later no longer do).`,
    evidence,
    fix: {
      explanation:
        "Nothing in this KubeVirt closes the record once its migration object is gone. Restarting the VM (downtime) starts a fresh VMI without it; remove a leftover target pod first.",
      commands,
    },
    docs: "https://github.com/kubevirt/kubevirt/issues/2495",
    notChecked: unread
      ? ["the VMIMs of this VM (not in the snapshot), so whether the recorded migration still exists"]
      : undefined,
  };
}

/**
 * KubeVirt v0.40.0 and later: the record refuses no migration (the next one takes it over), but
 * while it looks started and not ended the VMI counts as migrating, and a target pod it left
 * running keeps two launcher pods active.
 */
function recordTakenOver(
  s: Snapshot,
  found: {
    uid: string;
    owner: VirtualMachineInstanceMigration | undefined;
    unread: boolean;
    target: Pod | undefined;
    whose: string;
    evidence: Evidence[];
  },
): Finding {
  const { uid, owner, unread, target, whose, evidence } = found;
  const state = s.vmi?.status?.migrationState;
  const node = s.vmi?.status?.nodeName;
  // The migration's target, left running off the VMI's node: a second active launcher pod.
  const leftover = target && !podDown(target) && target.spec?.nodeName !== node ? target : undefined;
  const migrating = state?.startTimestamp !== undefined && state.endTimestamp === undefined;
  if (migrating) {
    evidence.push({
      object: vmiObject(s),
      field: "status.migrationState",
      time: state?.startTimestamp,
      text: `startTimestamp ${state?.startTimestamp}, no endTimestamp`,
    });
  }
  for (const line of findLogLines(s, /multiple pods running for vmi/).slice(-1))
    evidence.push(logEvidence(line));
  const effects: string[] = [];
  if (leftover) {
    effects.push(
      `its target pod ${leftover.metadata.name} still runs on ${leftover.spec?.nodeName ?? "?"}, so the VMI has two active launcher pods and virt-controller holds every new migration in Pending ("multiple pods running")`,
    );
  }
  if (migrating) {
    effects.push(
      `it has a startTimestamp and no endTimestamp, so KubeVirt counts the VMI as migrating: the evacuation controller and the workload updater skip it (a drain of ${node ?? "its node"} waits for it, an outdated launcher is not updated)`,
    );
  }
  const commands: string[] = [];
  if (leftover)
    commands.push(commandLine(["kubectl", "delete", "pod", leftover.metadata.name ?? "", "-n", s.namespace]));
  commands.push(kvmigCommand(["migrate", s.vmName, "-n", s.namespace]));
  return {
    id,
    title,
    severity: leftover ? "error" : migrating ? "warning" : "info",
    confidence: unread && !owner ? "low" : "high",
    summary:
      `${s.vmName} still records migration ${uid} as unfinished, but ${whose}. ` +
      "That refuses no new migration: the create webhook checks only unfinished VMIMs, and virt-controller takes over a record whose VMIM is final or gone" +
      (effects.length > 0 ? `. But ${effects.join("; and ")}.` : "; the next migration replaces it."),
    evidence,
    fix: {
      explanation:
        (leftover
          ? `Delete the leftover target pod (the VM runs on ${node ?? "its node"}, not there); then a`
          : "A") +
        " new migration replaces the record: virt-controller takes it over and the hand-off writes a fresh one. Restarting the VM (downtime) also clears it.",
      commands,
    },
    docs: "https://kubevirt.io/user-guide/compute/live_migration/",
    notChecked: unread
      ? ["the VMIMs of this VM (not in the snapshot), so whether the recorded migration still runs"]
      : undefined,
  };
}

function activePodsFinding(s: Snapshot): Finding | undefined {
  const active = Object.entries(s.vmi?.status?.activePods ?? {});
  if (active.length < 2) return undefined;
  const state = s.vmi?.status?.migrationState;
  if (state?.migrationUid && state.completed !== true && state.failed !== true) return undefined;
  if (s.migrations.some((m) => !isFinal(m) && !["", "Pending"].includes(m.status?.phase ?? "")))
    return undefined;
  const evidence: Evidence[] = [
    {
      object: vmiObject(s),
      field: "status.activePods",
      text: active.map(([uid, node]) => `${uid}: ${node}`).join(", "),
    },
  ];
  const down: Pod[] = [];
  let missingPods = 0;
  for (const [uid] of active) {
    const pod = s.pods.find((p) => p.metadata.uid === uid);
    if (!pod) {
      missingPods += 1;
      continue;
    }
    evidence.push({
      object: `Pod/${pod.metadata.name}`,
      field: "status.phase",
      text: `${pod.status?.phase ?? "unknown"} on ${pod.spec?.nodeName ?? "?"}`,
    });
    if (podDown(pod)) down.push(pod);
  }
  if (state?.completed) {
    evidence.push({
      object: vmiObject(s),
      field: "status.migrationState",
      time: state.endTimestamp,
      text: `last migration ${state.migrationUid ?? ""} ${state.failed ? "failed" : "completed"}`,
    });
  }
  const live = s.source === "live";
  // A live snapshot holds every launcher pod: a listed UID with no pod is gone.
  const stale = down.length > 0 || (live && missingPods > 0);
  const confidence: Confidence = stale ? "high" : "medium";
  const notChecked =
    missingPods > 0 && !live
      ? ["the phase of every pod listed in status.activePods (not all are in the snapshot)"]
      : undefined;
  const uid = s.vmi?.metadata.uid ?? "";
  return {
    id,
    title: "The VMI still lists two active launcher pods",
    severity: "warning",
    confidence,
    summary:
      `${s.vmName} lists ${active.length} active launcher pods while no migration runs` +
      (down.length > 0 ? `; ${down.map((p) => p.metadata.name).join(", ")} has already finished.` : ".") +
      ' virt-controller does not start a new migration (it waits for "multiple pods running") and evictions may not be protected until only one pod is left.',
    evidence,
    fix: {
      explanation:
        down.length > 0
          ? "Delete the finished launcher pod; status.activePods is then recomputed and new migrations can start. If it comes back, restart the VM (downtime)."
          : "Find the launcher pod that no longer runs the VM and delete it; if that is not clear, restart the VM (downtime).",
      commands: [
        ...(down.length > 0
          ? down.map((p) =>
              commandLine(["kubectl", "delete", "pod", p.metadata.name ?? "", "-n", s.namespace]),
            )
          : [launcherPodsCommand(s, uid)]),
        kvmigCommand(["restart", s.vmName, "-n", s.namespace]),
      ],
    },
    docs: "https://github.com/kubevirt/kubevirt/issues/12773",
    notChecked,
  };
}

export const staleMigrationState: Rule = {
  id,
  title,
  severity: "error",
  detect(s: Snapshot): Finding[] {
    return [openStateFinding(s), activePodsFinding(s)].filter((f): f is Finding => f !== undefined);
  },
};
