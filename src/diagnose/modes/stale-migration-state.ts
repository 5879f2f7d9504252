// stale-migration-state: the VMI still carries the record of a migration that is over, so KubeVirt
// refuses or holds back the next one. Two shapes are known: `status.migrationState` of a
// migration whose VMIM is gone or final but with neither `completed` nor `failed` set, which the
// create webhook reads as "in-flight" (kubevirt/kubevirt#2495); and `status.activePods` still
// listing a launcher pod that has finished, which makes virt-controller wait for "multiple pods
// running" before it creates a target pod (kubevirt/kubevirt#12773).

import type { Pod } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  ageSeconds,
  eventTime,
  findEvents,
  isFinal,
  launcherPodsCommand,
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

function openStateFinding(s: Snapshot): Finding | undefined {
  const state = s.vmi?.status?.migrationState;
  const uid = state?.migrationUid;
  if (!state || !uid || state.completed === true || state.failed === true) return undefined;
  const owner = s.migrations.find((m) => m.metadata.uid === uid);
  if (owner && !isFinal(owner)) return undefined; // the migration is still going
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
      `${s.vmName} still records migration ${uid} as unfinished, but ${owner ? `its VMIM ${owner.metadata.name} is ${owner.status?.phase}` : unread ? "its VMIM could not be looked up" : "no VMIM with that UID exists any more"}. ` +
      "KubeVirt's admission webhook treats this state as an in-flight migration and rejects every new one until the record is closed.",
    evidence,
    fix: {
      explanation:
        "Nothing in KubeVirt closes this record once its migration object is gone. Restarting the VM (downtime) starts a fresh VMI without it; remove a leftover target pod first.",
      commands,
    },
    docs: "https://github.com/kubevirt/kubevirt/issues/2495",
    notChecked: unread
      ? ["the VMIMs of this VM (not in the snapshot), so whether the recorded migration still exists"]
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
