// virt-handler on the source and target nodes, and the source virt-launcher (facts §d, §f, §h,
// §n): the target prepares and reports its address, the source starts the migration, the
// launcher's monitor (launcher-monitor.ts, as the source pod's KubeVirt release behaves) logs
// `Migration info for ...` every 4 s from the data-transfer model and switches to post-copy,
// pauses or aborts, and the end is written into `status.migrationState` by the side that owns
// each field. Faults from the scenario make it fail the way real clusters do.

import {
  DEFAULT_LAUNCHER_VERSION,
  handlerRecordsFailureReason,
  type LauncherLine,
  LauncherMonitor,
  launcherImageVersion,
  launcherRelease,
  migrationStartLine,
} from "../launcher-monitor.js";
import { DEFAULT_STREAM_BYTES_PER_SECOND } from "../migration-model.js";
import {
  clientSocketClosedReason,
  cpuMismatchMessage,
  cpuMismatchReason,
  dirtyRateAnnotation,
  launcherLogLine,
  migrationAbortedReason,
  migrationListenerPorts,
  outdatedLauncherImageLabel,
  vifCacheSyncFailedMessage,
} from "../objects.js";
import type { MigrationStat } from "../prometheus.js";
import type { SimObject } from "../store.js";
import { quantity } from "./config.js";
import type { Faults } from "./faults.js";
import { migrationTargetNodeLabel } from "./migration.js";
import { networksCutOff } from "./node-network.js";
import { stopPod } from "./pods.js";
import { type ControllerRuntime, dig, R, str } from "./runtime.js";

const pollMs = 400;
const defaultLauncherVerbosity = 2;
const heartbeatAnnotation = "kubevirt.io/heartbeat";
const heartbeatIntervalMs = 60_000;
/** `wait.JitterUntil`'s maxFactor in heartbeat.go: each wait is 1 to 2.2 intervals. */
const heartbeatJitter = 1.2;
/** A heartbeat older than this at start means the scenario's handler is down. */
const heartbeatStaleMs = 180_000;
const targetPrepareMs = 1500;
const abortMs = 1200;

interface Running {
  monitor: LauncherMonitor;
  stop: boolean;
  namespace: string;
  name: string;
  node: string;
}

/** A fraction in [0, 1) drawn from `text` (FNV-1a): the same text, the same fraction. */
function jitterFraction(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

function stateOf(vmi: SimObject | undefined): Record<string, unknown> | undefined {
  return dig(vmi, "status", "migrationState") as Record<string, unknown> | undefined;
}

export class VirtHandler {
  private readonly running = new Map<string, Running>();
  private readonly preparing = new Set<string>();
  /** The guest addresses of bridge networks cut off on a node without their bridge, by VMI uid and network. */
  private readonly lostAddresses = new Map<string, string[]>();

  constructor(
    private readonly rt: ControllerRuntime,
    private readonly faults: Faults,
  ) {
    // The nodes whose virt-handler runs: those with a recent heartbeat when the cluster starts.
    // A scenario that stops a handler leaves its heartbeat old, and it stays old.
    const alive = rt
      .list(R.node)
      .filter((node) => {
        const beat = Date.parse(node.metadata.annotations?.[heartbeatAnnotation] ?? "");
        return !Number.isNaN(beat) && rt.now() - beat < heartbeatStaleMs;
      })
      .map((node) => node.metadata.name ?? "");
    this.heartbeat(alive);
    rt.onChange((change) => {
      if (change.storage !== R.vmi.storage || change.type === "DELETED") return;
      const { namespace = "", name = "" } = change.object.metadata;
      if (stateOf(change.object))
        rt.enqueue(`handler:${namespace}/${name}`, () => this.sync(namespace, name));
    });
    rt.onChange((change) => {
      // A target pod that became Running may be waiting for its handler.
      if (change.storage !== R.pod.storage || !change.object.metadata.labels?.["kubevirt.io/migrationJobUID"])
        return;
      const vmiName = change.object.metadata.annotations?.["kubevirt.io/domain"];
      const namespace = change.object.metadata.namespace ?? "";
      if (vmiName) rt.enqueue(`handler:${namespace}/${vmiName}`, () => this.sync(namespace, vmiName));
    });
  }

  /** What virt-handler's migration collector exports for every migration in flight (facts §k). */
  migrationStats(): MigrationStat[] {
    return [...this.running.values()]
      .filter((run) => !run.stop)
      .map((run) => {
        const s = run.monitor.model.snapshot;
        return {
          namespace: run.namespace,
          name: run.name,
          node: run.node,
          totalBytes: s.dataTotal,
          remainingBytes: s.dataRemaining,
          processedBytes: s.dataProcessed,
          dirtyRateBytes: s.dirtyRateBps,
          transferRateBytes: s.memoryBandwidthBps,
        };
      });
  }

  /**
   * virt-handler's heartbeat (`pkg/virt-handler/heartbeat/heartbeat.go`): each node's handler
   * rewrites its node's `kubevirt.io/heartbeat` annotation on a timer of its own, a minute with
   * a jitter factor of 1.2 (`wait.JitterUntil(h.do, 1m, 1.2, true, ...)`: 60 s to 132 s apart).
   * So the nodes beat at scattered moments, one write each, never all nodes in one task (at
   * 1,000 nodes that was a stall). The jitter comes from the node's name and the beat's number,
   * not from the cluster's seeded random numbers, whose other draws stay as they were.
   */
  private heartbeat(nodes: readonly string[]): void {
    for (const name of nodes) this.beat(name, 0);
  }

  private beat(name: string, count: number): void {
    const delay = Math.round(
      heartbeatIntervalMs * (1 + heartbeatJitter * jitterFraction(`${name}#${count}`)),
    );
    this.rt.later(delay, `handler:heartbeat:${name}`, () => {
      this.rt.mutate(R.node, undefined, name, (node) => {
        node.metadata.annotations = {
          ...node.metadata.annotations,
          [heartbeatAnnotation]: this.rt.stamp(),
        };
      });
      this.beat(name, count + 1);
    });
  }

  private source(vmi: SimObject): { component: string; host?: string } {
    return { component: "virt-handler", host: str(vmi, "status", "migrationState", "sourceNode") };
  }

  private target(vmi: SimObject): { component: string; host?: string } {
    return { component: "virt-handler", host: str(vmi, "status", "migrationState", "targetNode") };
  }

  private writeState(
    vmi: SimObject,
    change: (state: Record<string, unknown>, vmi: SimObject) => void,
  ): SimObject | undefined {
    const uid = stateOf(vmi)?.migrationUid;
    return this.rt.mutate(R.vmi, vmi.metadata.namespace, vmi.metadata.name ?? "", (o) => {
      const state = stateOf(o);
      if (state && state.migrationUid === uid) change(state, o);
    });
  }

  sync(namespace: string, name: string): void {
    const vmi = this.rt.peek(R.vmi, namespace, name);
    const state = stateOf(vmi);
    if (!vmi || !state?.migrationUid || state.completed === true) return;
    const uid = String(state.migrationUid);
    if (state.targetNode && !state.targetNodeAddress) {
      this.prepareTarget(vmi, state);
      return;
    }
    if (state.targetNodeAddress && !state.startTimestamp && state.abortRequested !== true) {
      this.start(vmi, uid);
      return;
    }
    const run = this.running.get(uid);
    if (state.abortRequested === true && run && !run.stop) {
      run.stop = true;
      this.rt.event(
        vmi,
        "Normal",
        "Migrating",
        "VirtualMachineInstance is aborting migration.",
        this.source(vmi),
      );
      this.rt.later(abortMs, `abort:${uid}`, () => this.end(namespace, name, uid, { aborted: true }));
    } else if (state.abortRequested === true && !run && !state.startTimestamp) {
      this.end(namespace, name, uid, { aborted: true });
    }
  }

  private prepareTarget(vmi: SimObject, state: Record<string, unknown>): void {
    const uid = String(state.migrationUid);
    const namespace = vmi.metadata.namespace ?? "";
    const pod = this.rt.get(R.pod, namespace, String(state.targetPod ?? ""));
    if (!pod || str(pod, "status", "phase") !== "Running" || this.preparing.has(uid)) return;
    this.preparing.add(uid);
    const vifCache = this.faults.vifCache(vmi);
    this.rt.later(targetPrepareMs, `prepare:${uid}`, () => {
      const current = this.rt.get(R.vmi, namespace, vmi.metadata.name ?? "");
      if (stateOf(current)?.migrationUid !== uid) return;
      if (vifCache) {
        // The target launcher finds no vif-cache for the bridge interface and gives up (facts §h).
        const message = vifCacheSyncFailedMessage(vifCache);
        this.rt.event(
          current as SimObject,
          "Warning",
          "SyncFailed",
          message,
          this.target(current as SimObject),
        );
        stopPod(this.rt, namespace, pod.metadata.name ?? "", true);
        return;
      }
      const node = this.rt.get(R.node, undefined, String(state.targetNode));
      const address =
        ((dig(node, "status", "addresses") ?? []) as { type: string; address: string }[]).find(
          (a) => a.type === "InternalIP",
        )?.address ?? "127.0.0.1";
      const ports = migrationListenerPorts(this.rt.random);
      const updated = this.writeState(current as SimObject, (s) => {
        s.targetNodeAddress = address;
        s.targetDirectMigrationNodePorts = ports;
      });
      if (!updated) return;
      this.rt.event(
        updated,
        "Normal",
        "PreparingTarget",
        `Migration Target is listening at ${address}, on ports: ${Object.keys(ports).join(",")}`,
        this.target(updated),
      );
      this.rt.event(
        updated,
        "Normal",
        "PreparingTarget",
        "VirtualMachineInstance Migration Target Prepared.",
        this.target(updated),
      );
    });
  }

  private start(vmi: SimObject, uid: string): void {
    if (this.running.has(uid)) return;
    const namespace = vmi.metadata.namespace ?? "";
    const name = vmi.metadata.name ?? "";
    const config = (stateOf(vmi)?.migrationConfiguration ?? {}) as Record<string, unknown>;
    const memory = quantity(
      dig(vmi, "spec", "domain", "memory", "guest") ??
        dig(vmi, "spec", "domain", "resources", "requests", "memory"),
    );
    const dirty = Number(vmi.metadata.annotations?.[dirtyRateAnnotation] ?? 30) * 1024 * 1024;
    const bandwidth = quantity(config.bandwidthPerMigration) || DEFAULT_STREAM_BYTES_PER_SECOND;
    const launcher = this.sourceLauncher(vmi);
    const monitor = new LauncherMonitor(
      {
        memoryBytes: memory || 1024 ** 3,
        dirtyRateBytesPerSecond: dirty,
        bandwidthBytesPerSecond: bandwidth,
        maxDowntimeMs: Number(config.maxDowntimeMs ?? 900),
        completionTimeoutPerGiB: Number(config.completionTimeoutPerGiB ?? 150),
        progressTimeoutSeconds: Number(config.progressTimeout ?? 150),
        allowAutoConverge: config.allowAutoConverge === true,
        allowPostCopy: config.allowPostCopy === true,
        // virt-handler fills it from allowPostCopy when the state lacks it (migration-source.go).
        allowWorkloadDisruption:
          typeof config.allowWorkloadDisruption === "boolean"
            ? config.allowWorkloadDisruption
            : config.allowPostCopy === true,
        seed: this.rt.random.int(0, 2 ** 30),
      },
      {
        migrationUid: uid,
        vmiName: name,
        release: launcherRelease(launcher.version),
        verbosity: launcher.verbosity,
      },
    );
    const node = str(vmi, "status", "migrationState", "sourceNode") ?? str(vmi, "status", "nodeName") ?? "";
    this.running.set(uid, { monitor, stop: false, namespace, name, node });
    const started = this.writeState(vmi, (s) => {
      s.startTimestamp = this.rt.stamp();
      s.mode = "PreCopy";
    });
    if (!started) return;
    this.rt.event(
      started,
      "Normal",
      "Migrating",
      "VirtualMachineInstance is migrating.",
      this.source(started),
    );
    this.launcherLog(started, migrationStartLine);
    const missing = this.faults.cpuMismatch(started);
    if (missing) {
      this.rt.later(pollMs, `poll:${uid}`, () => this.refuseCpu(namespace, name, uid, missing));
      return;
    }
    this.rt.later(pollMs, `poll:${uid}`, () => this.poll(namespace, name, uid));
  }

  /**
   * The target's libvirt refuses the incoming guest: its CPU lacks features the guest uses. The
   * target launcher logs libvirt's error, MigrateToURI3 on the source returns it, and the source
   * reports the migration failed with it (live-migration-source.go migrate; facts §h).
   */
  private refuseCpu(namespace: string, name: string, uid: string, features: readonly string[]): void {
    const vmi = this.rt.get(R.vmi, namespace, name);
    const state = stateOf(vmi);
    if (!vmi || state?.migrationUid !== uid || state.completed === true || this.running.get(uid)?.stop)
      return;
    const targetPod = str(vmi, "status", "migrationState", "targetPod");
    if (targetPod) {
      // libvirtd's own line, forwarded by the target launcher (subcomponent libvirt).
      const line = launcherLogLine({
        time: this.rt.now(),
        level: "error",
        msg: cpuMismatchMessage(features),
        pos: "virCPUx86UpdateLive:3206",
        fields: { subcomponent: "libvirt" },
      });
      this.rt.containerLog(namespace, targetPod, "compute", line);
    }
    this.launcherLog(vmi, {
      level: "error",
      msg: "Live migration failed.",
      pos: "live-migration-source.go:1416",
    });
    this.end(namespace, name, uid, { failureReason: cpuMismatchReason(features) });
  }

  /**
   * The source launcher's KubeVirt release (its compute image's tag, else the KubeVirt CR's
   * observed version) and log verbosity (the container's VIRT_LAUNCHER_LOG_VERBOSITY, set only
   * when not the default 2: services/template.go).
   */
  private sourceLauncher(vmi: SimObject): { version: string; verbosity: number } {
    const pod = this.rt.peek(R.pod, vmi.metadata.namespace, String(stateOf(vmi)?.sourcePod ?? ""));
    const containers = (dig(pod, "spec", "containers") ?? []) as {
      name?: string;
      image?: string;
      env?: { name?: string; value?: string }[];
    }[];
    const compute = containers.find((c) => c.name === "compute");
    const kubevirt = this.rt.list(R.kubevirt)[0];
    const version =
      launcherImageVersion(compute?.image) ??
      str(kubevirt, "status", "observedKubeVirtVersion") ??
      DEFAULT_LAUNCHER_VERSION;
    const level = Number(compute?.env?.find((e) => e.name === "VIRT_LAUNCHER_LOG_VERBOSITY")?.value);
    return { version, verbosity: Number.isInteger(level) ? level : defaultLauncherVerbosity };
  }

  private launcherLog(vmi: SimObject, { level, msg, pos }: LauncherLine): void {
    const pod = str(vmi, "status", "migrationState", "sourcePod");
    if (!pod) return;
    const line = launcherLogLine({
      time: this.rt.now(),
      level,
      msg,
      pos,
      object: {
        namespace: vmi.metadata.namespace,
        name: vmi.metadata.name ?? "",
        kind: "",
        uid: vmi.metadata.uid ?? "",
      },
    });
    this.rt.containerLog(vmi.metadata.namespace ?? "", pod, "compute", line);
  }

  private poll(namespace: string, name: string, uid: string): void {
    const run = this.running.get(uid);
    const vmi = this.rt.get(R.vmi, namespace, name);
    const state = stateOf(vmi);
    if (!run || !vmi || state?.migrationUid !== uid || state.completed === true) {
      this.running.delete(uid);
      return;
    }
    if (run.stop) return;
    const { snapshot, lines, mode, end } = run.monitor.poll();
    const drop = this.faults.connectionDrop(
      vmi,
      snapshot.dataTotal > 0 ? snapshot.dataProcessed / snapshot.dataTotal : 0,
    );
    if (drop) {
      // The connection went once that share of the data was sent: before whatever ended this poll.
      if (!end) for (const line of lines) this.launcherLog(vmi, line);
      this.launcherLog(vmi, {
        level: "error",
        msg: "Live migration failed.",
        pos: "live-migration-source.go:1416",
      });
      this.end(namespace, name, uid, { failureReason: clientSocketClosedReason });
      return;
    }
    for (const line of lines) this.launcherLog(vmi, line);
    // virt-handler copies the launcher's mode into the VMI as it changes (setMigrationProgressStatus).
    if (mode) this.writeState(vmi, (s) => (s.mode = mode));
    if (end) {
      this.end(
        namespace,
        name,
        uid,
        end.failed ? { failureReason: end.failureReason, abortStatus: end.abortStatus } : {},
      );
      return;
    }
    this.rt.later(pollMs, `poll:${uid}`, () => this.poll(namespace, name, uid));
  }

  /**
   * After a move: on a node whose NodeNetworkState lacks a bridge network's bridge, the guest
   * agent reports that interface without its addresses (node-network.ts); back on a node with the
   * bridge, the guest has them again.
   */
  private bridgeAddresses(vmi: SimObject, node: string): void {
    const cutOff = networksCutOff(this.rt, vmi, node);
    const uid = vmi.metadata.uid ?? "";
    const status = vmi.status as Record<string, unknown>;
    for (const iface of (status.interfaces ?? []) as Record<string, unknown>[]) {
      const key = `${uid}/${String(iface.name)}`;
      if (cutOff.has(String(iface.name))) {
        const addresses = (iface.ipAddresses as string[] | undefined) ?? [];
        if (addresses.length > 0) this.lostAddresses.set(key, addresses);
        delete iface.ipAddress;
        delete iface.ipAddresses;
      } else {
        const lost = this.lostAddresses.get(key);
        if (!lost) continue;
        this.lostAddresses.delete(key);
        iface.ipAddress = lost[0];
        iface.ipAddresses = lost;
      }
    }
  }

  /** The end of a migration, written by the source (result) and the target (node, labels). */
  private end(
    namespace: string,
    name: string,
    uid: string,
    result: { failureReason?: string; aborted?: boolean; abortStatus?: "Succeeded" },
  ): void {
    this.running.delete(uid);
    this.preparing.delete(uid);
    const vmi = this.rt.peek(R.vmi, namespace, name);
    const state = stateOf(vmi);
    if (!vmi || !state || state.migrationUid !== uid || state.completed === true) return;
    const now = this.rt.stamp();
    const failed = result.aborted === true || result.failureReason !== undefined;
    const sourcePod = String(state.sourcePod ?? "");
    const targetPod = String(state.targetPod ?? "");
    const targetNode = String(state.targetNode ?? "");
    const targetPodObject = this.rt.get(R.pod, namespace, targetPod);
    const sourcePodObject = this.rt.get(R.pod, namespace, sourcePod);
    const recordsReason = handlerRecordsFailureReason(
      str(this.rt.list(R.kubevirt)[0], "status", "observedKubeVirtVersion"),
    );
    const updated = this.rt.mutate(R.vmi, namespace, name, (o) => {
      const s = stateOf(o) as Record<string, unknown>;
      const status = o.status as Record<string, unknown>;
      const labels = { ...o.metadata.labels };
      delete labels[migrationTargetNodeLabel];
      s.completed = true;
      s.endTimestamp = now;
      if (failed) {
        s.failed = true;
        // Before v1.3.0 the field does not exist; the Migrated event below carries the reason.
        if (recordsReason) s.failureReason = result.failureReason ?? migrationAbortedReason;
        // A user's cancel, or the monitor's own abort: both through cancelMigration (facts §n).
        if (result.aborted || result.abortStatus) s.abortStatus = "Succeeded";
      } else {
        s.targetNodeDomainDetected = true;
        s.targetNodeDomainReadyTimestamp = now;
        status.nodeName = targetNode;
        labels["kubevirt.io/nodeName"] = targetNode;
        delete labels[outdatedLauncherImageLabel];
        status.migrationTransport = "Unix";
        // The VMI left the node it was evacuated from.
        delete status.evacuationNodeName;
        // The target handler clears it; the VMI controller sets it again from the new pod.
        status.launcherContainerImageVersion = "";
        const active = { ...(status.activePods as Record<string, string> | undefined) };
        if (sourcePodObject?.metadata.uid) delete active[sourcePodObject.metadata.uid];
        if (targetPodObject?.metadata.uid) active[targetPodObject.metadata.uid] = targetNode;
        status.activePods = active;
        const oldIp = str(sourcePodObject, "status", "podIP");
        const newIp = str(targetPodObject, "status", "podIP");
        for (const iface of (status.interfaces ?? []) as Record<string, unknown>[]) {
          if (oldIp && newIp && iface.ipAddress === oldIp) {
            iface.ipAddress = newIp;
            iface.ipAddresses = [newIp];
          }
        }
        this.bridgeAddresses(o, targetNode);
      }
      o.metadata.labels = labels;
    });
    if (!updated) return;
    if (failed) {
      const reason = result.failureReason ?? migrationAbortedReason;
      this.rt.event(
        updated,
        "Warning",
        "Migrated",
        `VirtualMachineInstance migration uid ${uid} failed. reason:${reason}`,
        this.source(updated),
      );
      if (targetPodObject) stopPod(this.rt, namespace, targetPod, true);
      return;
    }
    this.rt.event(
      updated,
      "Normal",
      "Migrated",
      `The VirtualMachineInstance migrated to node ${targetNode}.`,
      {
        component: "virt-handler",
        host: targetNode,
      },
    );
    // The source launcher exits once the domain left; its pod stays Completed until the VMIM is
    // garbage-collected (`migration.go` garbageCollectFinalizedMigrations) or the VMI goes.
    if (sourcePodObject) stopPod(this.rt, namespace, sourcePod, false);
  }
}
