// Past migrations: what earlier VMIMs left behind (scenario history). `pastMigration` builds the
// VMIM, the events on it and on the VMI, the source launcher's log lines and the VMI's migration
// state; the constants are the annotations, generateNames and failure reasons and messages v1.9
// writes for them.

import {
  DEFAULT_LAUNCHER_VERSION,
  handlerRecordsFailureReason,
  LauncherMonitor,
  launcherImageVersion,
  launcherRelease,
  migrationStartLine,
} from "../launcher-monitor.js";
import { DEFAULT_STREAM_BYTES_PER_SECOND } from "../migration-model.js";
import type { Random } from "../random.js";
import type { NodeNetwork } from "./cluster.js";
import { kubevirtApiVersion } from "./constants.js";
import type { EventDescription, ObjectReference } from "./events.js";
import {
  generatedName,
  hashedPodInterfaceName,
  type Json,
  quantityBytes,
  rfc3339,
  sortKeysDeep,
} from "./format.js";
import { launcherLogLine } from "./logs.js";
import { resolved, type VmDescription, type VmPlan } from "./vm-plan.js";

/**
 * The target's migration proxy listeners: a random port for the main connection (mapped to 0)
 * and one each for libvirt's direct and block migration ports (49152, 49153).
 */
export function migrationListenerPorts(random: Random): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const libvirtPort of [0, 49152, 49153]) {
    let port = random.int(32768, 60999);
    while (String(port) in ports) port += 1;
    ports[String(port)] = libvirtPort;
  }
  return ports;
}

export const evacuationMigrationAnnotation = "kubevirt.io/evacuationMigration";
export const workloadUpdateMigrationAnnotation = "kubevirt.io/workloadUpdateMigration";
/** libvirt's error when the connection to the target drops, as v1.9 stores it in `failureReason` (facts §h). */
export const clientSocketClosedReason =
  "virError(Code=1, Domain=10, Message='internal error: client socket is closed')";
/**
 * libvirt's refusal of an incoming guest whose CPU the target cannot provide, as v1.9 stores it
 * in `failureReason` (the raw virError: facts §h; the text as kubevirt/kubevirt#12519 shows it).
 */
export function cpuMismatchReason(features: readonly string[]): string {
  return `virError(Code=9, Domain=31, Message='${cpuMismatchMessage(features)}')`;
}

/** libvirt's own message (src/cpu/cpu_x86.c), as the launchers log it. */
export function cpuMismatchMessage(features: readonly string[]): string {
  return `operation failed: guest CPU doesn't match specification: missing features: ${features.join(",")}`;
}

/** v1.9's `failureReason` after the launcher's monitor aborted a migration (facts §m). */
export const migrationAbortedReason = "Live migration has been aborted";

/** The target handler's SyncFailed message when the launcher finds no vif-cache file (facts §h, v1.9). */
export function vifCacheSyncFailedMessage(podInterface: string): string {
  return `syncing migration target failed: server error. command SyncMigrationTarget failed: "pre-start pod-setup failed: preparing the pod network failed: open /proc/self/root/var/run/kubevirt-private/vif-cache-${podInterface}.json: no such file or directory"`;
}

/** The pod interface of the VM's first bridge-bound network (`eth0`, or `pod<hash>` for Multus); undefined without one. */
export function bridgePodInterface(desc: VmDescription): string | undefined {
  const network = resolved(desc).networks.find((n) => n.binding === "bridge");
  if (!network) return undefined;
  return network.multus ? hashedPodInterfaceName(network.name) : "eth0";
}

export type MigrationTrigger = "user" | "evacuation" | "workloadUpdate";
export type PastMigrationFailure = "connectionDrop" | "vifCache" | "aborted" | "unschedulable";

/** generateName of the VMIMs each creator makes (facts §c). */
export const migrationGenerateNames: Readonly<Record<MigrationTrigger, string>> = {
  user: "kubevirt-migrate-vm-",
  evacuation: "kubevirt-evacuation-",
  workloadUpdate: "kubevirt-workload-update-",
};

export interface PastMigrationDescription {
  /** Who created it: virtctl / the migrate subresource, the evacuation controller, the workload updater. */
  trigger?: MigrationTrigger;
  createdAt: number;
  /** The node of the target pod; for a Succeeded one, the VM's node now. */
  targetNode: string;
  /**
   * The node the VM left: required for a Succeeded one; a Failed one starts from the VM's node
   * unless an earlier node is given (a failure before a later successful move).
   */
  sourceNode?: string;
  /** The launcher pod it starts from, when not the VM's pod now (a move before a later one). */
  sourcePod?: string;
  /** Succeeded: the launcher pod it ends in, when not the VM's pod now (a later move left it). */
  targetPod?: string;
  result: "Succeeded" | "Failed";
  /** How a Failed one failed (required then). */
  failure?: PastMigrationFailure;
  /** connectionDrop: the failure reason; default libvirt's `client socket is closed`. */
  failureReason?: string;
  /** connectionDrop: fraction of the data sent when the connection dropped (default 0.3). */
  atProgress?: number;
  /** evacuation: the node being drained (the annotation's value); default the source node. */
  evacuationNode?: string;
  /** The end of a backoff: the controller keeps it Pending until then (facts §g). */
  notBefore?: number;
}

export interface PastMigrationContext {
  random: Random;
  plan: VmPlan;
  nodes: readonly NodeNetwork[];
  /** The effective `VMIMConfigurationOptions` at hand-off (cluster config with a policy over it). */
  migrationConfiguration: Json;
  migrationPolicyName: string | null;
  /** The cluster's KubeVirt release: the launcher's, unless its image's tag says otherwise. */
  kubevirtVersion?: string | undefined;
}

export interface PastMigration {
  vmim: Json;
  /** Not yet built: repeats of one event are aggregated by the caller, as client-go's recorder does. */
  events: EventDescription[];
  /** The source launcher's compute log lines about it. */
  log: { pod: string; lines: { time: number; text: string }[] };
  /** The VMI's `status.migrationState` it left; undefined when it never got past Scheduling. */
  vmiState: Json | undefined;
  /** When it left Pending. */
  startedAt: number;
  /** Its hand-off (PreparingTarget): from then on the VMI's migration state is about it. */
  handedOffAt?: number;
  /** Its Succeeded or Failed phase transition. */
  endedAt: number;
}

const controllerSource = { component: "virtualmachine-controller" } as const;

/**
 * A finished migration of a running VM as virt-controller, virt-handler and virt-launcher leave
 * it: the VMIM with its phases, the events on it and on the VMI, the launcher's progress lines,
 * and the VMI's migration state. Timings follow the simulated controllers; the transfer follows
 * the migration model, so a connection drop happens at the given progress and an abort happens
 * only to a migration that does not converge.
 */
export function pastMigration(
  vmDesc: VmDescription,
  desc: PastMigrationDescription,
  ctx: PastMigrationContext,
): PastMigration {
  const { random, plan } = ctx;
  const trigger = desc.trigger ?? "user";
  const succeeded = desc.result === "Succeeded";
  const failure = succeeded ? undefined : desc.failure;
  const where = `past migration of ${vmDesc.namespace}/${vmDesc.name}`;
  if (!succeeded && failure === undefined) throw new Error(`${where}: a Failed migration needs a failure`);
  if (succeeded && !desc.sourceNode) throw new Error(`${where}: a Succeeded migration needs its source node`);
  const generateName = migrationGenerateNames[trigger];
  const name = generatedName(generateName, random);
  const uid = random.uid();
  const ns = vmDesc.namespace;
  const sourceNode = desc.sourceNode ?? vmDesc.node;
  const targetNode = desc.targetNode;
  const otherPod = generatedName(`virt-launcher-${vmDesc.name}-`, random);
  const sourcePod = desc.sourcePod ?? (succeeded ? otherPod : plan.podName);
  const targetPod = (succeeded ? desc.targetPod : undefined) ?? (succeeded ? plan.podName : otherPod);
  const target = ctx.nodes.find((n) => n.name === targetNode);
  if (!target) throw new Error(`${where}: unknown target node ${targetNode}`);

  const vmiRef: ObjectReference = {
    apiVersion: kubevirtApiVersion,
    kind: "VirtualMachineInstance",
    name: vmDesc.name,
    namespace: ns,
    uid: plan.vmiUid,
  };
  const vmimRef: ObjectReference = {
    apiVersion: kubevirtApiVersion,
    kind: "VirtualMachineInstanceMigration",
    name,
    namespace: ns,
    uid,
  };
  const events: EventDescription[] = [];
  const note = (
    ref: ObjectReference,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    at: number,
    source: { component: string; host?: string } = controllerSource,
  ) => {
    events.push({
      involvedObject: ref,
      type,
      reason,
      message,
      component: source.component,
      host: source.host,
      firstTimestamp: at,
    });
  };
  const sourceHandler = { component: "virt-handler", host: sourceNode };
  const targetHandler = { component: "virt-handler", host: targetNode };
  const lines: { time: number; text: string }[] = [];
  const log = (time: number, level: "info" | "warning" | "error", msg: string, pos: string) => {
    lines.push({
      time: Math.floor(time),
      text: launcherLogLine({
        time,
        level,
        msg,
        pos,
        object: { namespace: ns, name: vmDesc.name, kind: "", uid: plan.vmiUid },
      }),
    });
  };

  const phases: { phase: string; at: number }[] = [];
  const created = desc.createdAt;
  // Each controller records with its own component (`pkg/virt-controller/watch/application.go`).
  if (trigger === "evacuation")
    note(vmiRef, "Normal", "SuccessfulCreate", `Created Migration ${name}`, created, {
      component: "evacuation-controller",
    });
  if (trigger === "workloadUpdate") {
    note(
      vmiRef,
      "Normal",
      "SuccessfulCreate",
      `Created Migration ${name} for automated workload update`,
      created,
      { component: "workload-update-controller" },
    );
  }
  let t = created + random.int(20, 120);
  phases.push({ phase: "Pending", at: t });
  if (desc.notBefore !== undefined && desc.notBefore > t) {
    note(vmiRef, "Warning", "MigrationBackoff", `backoff migrating vmi ${ns}/${vmDesc.name}`, t);
  }
  t = Math.max(t + random.int(30, 200), desc.notBefore ?? 0);
  const startedAt = t;
  phases.push({ phase: "Scheduling", at: t });
  note(vmimRef, "Normal", "SuccessfulCreate", `Created migration target pod ${targetPod}`, t);

  let state: Json | undefined;
  let endedAt: number;
  let handedOffAt: number | undefined;
  if (failure === "unschedulable") {
    const timeoutAt = t + 300_000;
    for (let at = t + random.int(50, 300); at < timeoutAt; at += 30_000) {
      note(
        vmimRef,
        "Warning",
        "migrationTargetPodUnschedulable",
        `Migration target pod for VMI [${ns}/${vmDesc.name}] is currently unschedulable.`,
        at,
      );
    }
    note(
      vmimRef,
      "Normal",
      "SuccessfulDelete",
      `unschedulable pod ${ns}/${targetPod} timeout period exceeded`,
      timeoutAt,
    );
    endedAt = timeoutAt + random.int(20, 200);
    phases.push({ phase: "Failed", at: endedAt });
    note(
      vmimRef,
      "Warning",
      "FailedMigration",
      "Migration target pod was removed during active migration.",
      endedAt,
    );
  } else {
    t += random.int(2_500, 6_000);
    phases.push({ phase: "Scheduled", at: t });
    t += random.int(50, 300);
    phases.push({ phase: "PreparingTarget", at: t });
    handedOffAt = t;
    note(
      vmimRef,
      "Normal",
      "SuccessfulHandOver",
      "Migration target pod is ready for preparation by virt-handler.",
      t,
    );
    state = {
      migrationConfiguration: ctx.migrationConfiguration,
      // A *string with omitempty: absent when no policy matched.
      migrationPolicyName: ctx.migrationPolicyName ?? undefined,
      migrationUid: uid,
      sourceNode,
      sourcePod,
      targetNode,
      targetPod,
    };
    if (failure === "vifCache") {
      const iface = bridgePodInterface(vmDesc);
      if (!iface) throw new Error(`${where}: a vif-cache failure needs a bridge-bound interface`);
      const at = t + random.int(1_200, 1_800);
      note(vmiRef, "Warning", "SyncFailed", vifCacheSyncFailedMessage(iface), at, targetHandler);
      endedAt = at + random.int(300, 1_200);
      phases.push({ phase: "Failed", at: endedAt });
      note(
        vmimRef,
        "Warning",
        "FailedMigration",
        "Migration failed because target pod shutdown during migration",
        endedAt,
      );
      note(
        vmiRef,
        "Warning",
        "FailedMigration",
        `VirtualMachineInstance migration uid ${uid} failed. reason: Target pod is down`,
        endedAt,
      );
      // virt-controller marks a migration the handler never started as done (handleMarkMigrationFailedOnVMI).
      Object.assign(state, {
        completed: true,
        endTimestamp: rfc3339(endedAt),
        failed: true,
        startTimestamp: rfc3339(endedAt),
      });
    } else {
      t += random.int(1_400, 1_700);
      const ports = migrationListenerPorts(random);
      Object.assign(state, {
        targetDirectMigrationNodePorts: ports,
        targetNodeAddress: target.internalIP,
      });
      note(
        vmiRef,
        "Normal",
        "PreparingTarget",
        `Migration Target is listening at ${target.internalIP}, on ports: ${Object.keys(ports).join(",")}`,
        t,
        targetHandler,
      );
      note(
        vmiRef,
        "Normal",
        "PreparingTarget",
        "VirtualMachineInstance Migration Target Prepared.",
        t,
        targetHandler,
      );
      t += random.int(20, 150);
      phases.push({ phase: "TargetReady", at: t });
      const start = t + random.int(50, 300);
      Object.assign(state, { mode: "PreCopy", startTimestamp: rfc3339(start) });
      note(vmiRef, "Normal", "Migrating", "VirtualMachineInstance is migrating.", start, sourceHandler);
      phases.push({ phase: "Running", at: start + random.int(20, 200) });
      log(
        start + random.int(1, 30),
        migrationStartLine.level,
        migrationStartLine.msg,
        migrationStartLine.pos,
      );

      const config = ctx.migrationConfiguration;
      const allowPostCopy = config.allowPostCopy === true;
      const monitor = new LauncherMonitor(
        {
          memoryBytes: quantityBytes(resolved(vmDesc).memory),
          dirtyRateBytesPerSecond: (vmDesc.dirtyRateMiBps ?? 30) * 1024 * 1024,
          bandwidthBytesPerSecond:
            quantityBytes(String(config.bandwidthPerMigration ?? "0")) || DEFAULT_STREAM_BYTES_PER_SECOND,
          maxDowntimeMs: Number(config.maxDowntimeMs ?? 900),
          completionTimeoutPerGiB: Number(config.completionTimeoutPerGiB ?? 150),
          progressTimeoutSeconds: Number(config.progressTimeout ?? 150),
          allowAutoConverge: config.allowAutoConverge === true,
          allowPostCopy,
          allowWorkloadDisruption:
            typeof config.allowWorkloadDisruption === "boolean"
              ? config.allowWorkloadDisruption
              : allowPostCopy,
          seed: random.int(0, 2 ** 30),
        },
        {
          migrationUid: uid,
          vmiName: vmDesc.name,
          release: launcherRelease(
            launcherImageVersion(vmDesc.launcherImage) ?? ctx.kubevirtVersion ?? DEFAULT_LAUNCHER_VERSION,
          ),
        },
      );
      const atProgress = desc.atProgress ?? 0.3;
      let failureReason = "";
      let polls = 0;
      let end: number | undefined;
      while (end === undefined) {
        if (++polls > 200_000) throw new Error(`${where}: the migration does not end`);
        const poll = monitor.poll();
        const at = start + polls * 400;
        const snapshot = poll.snapshot;
        const sent = snapshot.dataTotal > 0 ? snapshot.dataProcessed / snapshot.dataTotal : 0;
        // The connection goes once that share is sent: before whatever else ended this poll.
        const dropped = failure === "connectionDrop" && sent >= atProgress;
        // The lines of one poll a quarter of a millisecond apart, in the order they were logged.
        if (!(dropped && poll.end))
          poll.lines.forEach((line, i) => {
            log(at + i * 0.25, line.level, line.msg, line.pos);
          });
        if (poll.mode && !dropped) state.mode = poll.mode;
        if (dropped) {
          log(at + 0.5, "error", "Live migration failed.", "live-migration-source.go:1416");
          failureReason = desc.failureReason ?? clientSocketClosedReason;
          end = at;
        } else if (poll.end?.failed === false) {
          if (!succeeded) {
            throw new Error(
              `${where}: the migration converges (it would have succeeded); a ${failure} failure needs a higher dirty rate or lower bandwidth`,
            );
          }
          end = at;
        } else if (poll.end?.failed) {
          if (failure !== "aborted") {
            throw new Error(`${where}: the migration does not converge and would have been aborted`);
          }
          failureReason = poll.end.failureReason;
          Object.assign(state, { abortStatus: poll.end.abortStatus });
          end = at;
        }
      }
      const stamp = rfc3339(end);
      if (succeeded) {
        Object.assign(state, {
          completed: true,
          endTimestamp: stamp,
          targetNodeDomainDetected: true,
          targetNodeDomainReadyTimestamp: stamp,
        });
        note(
          vmiRef,
          "Normal",
          "Migrated",
          `The VirtualMachineInstance migrated to node ${targetNode}.`,
          end,
          targetHandler,
        );
        endedAt = end + random.int(100, 600);
        phases.push({ phase: "Succeeded", at: endedAt });
        note(vmimRef, "Normal", "SuccessfulMigration", "Source node reported migration succeeded", endedAt);
      } else {
        // v1.3.0 added the field; before, the reason is only in the Migrated event below.
        if (handlerRecordsFailureReason(ctx.kubevirtVersion)) Object.assign(state, { failureReason });
        Object.assign(state, { completed: true, endTimestamp: stamp, failed: true });
        note(
          vmiRef,
          "Warning",
          "Migrated",
          `VirtualMachineInstance migration uid ${uid} failed. reason:${failureReason}`,
          end,
          sourceHandler,
        );
        endedAt = end + random.int(100, 600);
        phases.push({ phase: "Failed", at: endedAt });
        note(vmimRef, "Warning", "FailedMigration", "source node reported migration failed", endedAt);
      }
    }
  }

  const annotations: Record<string, string> = {};
  if (trigger === "evacuation")
    annotations[evacuationMigrationAnnotation] = desc.evacuationNode ?? sourceNode;
  if (trigger === "workloadUpdate") annotations[workloadUpdateMigrationAnnotation] = "";
  const vmim = sortKeysDeep({
    apiVersion: kubevirtApiVersion,
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name,
      generateName,
      namespace: ns,
      uid,
      creationTimestamp: rfc3339(created),
      labels: { "kubevirt.io/vmi-name": vmDesc.name },
      annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
    },
    spec: { vmiName: vmDesc.name, priority: trigger === "user" ? undefined : "system-critical" },
    status: {
      phase: succeeded ? "Succeeded" : "Failed",
      phaseTransitionTimestamps: phases.map((p) => ({
        phase: p.phase,
        phaseTransitionTimestamp: rfc3339(p.at),
      })),
      // Final: the controller copied the VMI's state, when it got that far (facts §c); else it
      // holds only what SetSourcePod wrote while it was Pending.
      migrationState: state ? structuredClone(state) : { sourcePod },
    },
  });
  return {
    vmim,
    events,
    log: { pod: sourcePod, lines },
    vmiState: state && sortKeysDeep(state),
    startedAt,
    handedOffAt,
    endedAt,
  };
}
