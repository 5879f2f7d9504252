// virt-controller's migration controller (facts §c, §f, §g): the VMIM phases with their
// triggers, the target launcher pod, parallel limits, backoff for evacuation and workload-update
// migrations, the unschedulable and pending timeouts, cancel before and after hand-off, the
// finalizer, and garbage collection of finished migrations.

import type { SimObject } from "../store.js";
import { isFinalPhase, migrationFinalizer, vmiNameLabel } from "./admission.js";
import { currentLauncherImage, effectiveConfig, matchingPolicy, migrationConfig } from "./config.js";
import { type ControllerRuntime, dig, R, statusOf, str } from "./runtime.js";

export const migrationJobLabel = "kubevirt.io/migrationJobUID";
const hostModelCpuPrefix = "host-model-cpu.node.kubevirt.io/";
const hostModelFeaturePrefix = "host-model-required-features.node.kubevirt.io/";
const migrationCpuPrefix = "cpu-model-migration.node.kubevirt.io/";
const cpuFeaturePrefix = "cpu-feature.node.kubevirt.io/";
const cpuVendorPrefix = "cpu-vendor.node.kubevirt.io/";
export const migrationTargetNodeLabel = "kubevirt.io/migrationTargetNodeName";
const evacuationAnnotation = "kubevirt.io/evacuationMigration";
const workloadUpdateAnnotation = "kubevirt.io/workloadUpdateMigration";
const ignoreBackoffAnnotation = "kubevirt.io/func-test-ignore-migration-backoff";
const controller = { component: "virtualmachine-controller" } as const;
const unschedulableTimeoutMs = 300_000;
const pendingTimeoutMs = 900_000;
const finishedToKeep = 5;
const backoffStartMs = 20_000;

const runningPhases = new Set(["Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running"]);
const beforeHandOff = new Set(["", "Pending", "Scheduling", "Scheduled"]);

/** virt-controller's queue priority of a migration (`pkg/util/migrations/migrations.go` PriorityFromMigration). */
function priorityOf(vmim: SimObject): number {
  const priority = str(vmim, "spec", "priority");
  if (priority === "system-critical") return 100;
  if (priority === "user-triggered") return 50;
  if (priority === "system-maintenance") return 20;
  return 0;
}

/** How soon a migration held by the limits is tried again (`migration.go` getRequeueDelayForPriority). */
function requeueDelayMs(vmim: SimObject): number {
  const priority = priorityOf(vmim);
  return priority >= 100 ? 1000 : priority >= 50 ? 3000 : 5000;
}

function phaseOf(vmim: SimObject): string {
  return str(vmim, "status", "phase") ?? "";
}

function migrationStateOf(vmi: SimObject | undefined): Record<string, unknown> | undefined {
  return dig(vmi, "status", "migrationState") as Record<string, unknown> | undefined;
}

/** The migration's target pod: the pod whose `kubevirt.io/migrationJobUID` is the VMIM's uid (an index). */
export function targetPodOf(rt: ControllerRuntime, vmim: SimObject): SimObject | undefined {
  return rt.podsByMigration
    .objects(vmim.metadata.uid)
    .find((pod) => pod.metadata.namespace === vmim.metadata.namespace);
}

function podCondition(pod: SimObject, type: string): { status?: string; reason?: string } | undefined {
  return (
    (dig(pod, "status", "conditions") ?? []) as { type: string; status?: string; reason?: string }[]
  ).find((c) => c.type === type);
}

export class MigrationController {
  constructor(private readonly rt: ControllerRuntime) {
    rt.onChange((change) => {
      const object = change.object;
      const namespace = object.metadata.namespace ?? "";
      if (change.storage === R.vmim.storage && change.type !== "DELETED")
        this.enqueue(namespace, object.metadata.name ?? "");
      if (change.storage === R.vmi.storage) {
        // KubeVirt enqueues every migration of the VMI; a final one matters only once the VMI is
        // gone: it is deleted with it (migration.go deleteVMI, execute).
        for (const vmim of this.migrationsOf(namespace, object.metadata.name ?? "")) {
          if (change.type === "DELETED" || !isFinalPhase(phaseOf(vmim)) || vmim.metadata.deletionTimestamp)
            this.enqueue(namespace, vmim.metadata.name ?? "");
        }
      }
      if (change.storage === R.pod.storage) {
        const uid = object.metadata.labels?.[migrationJobLabel];
        const vmim = uid ? rt.list(R.vmim, namespace).find((m) => m.metadata.uid === uid) : undefined;
        if (vmim) this.enqueue(namespace, vmim.metadata.name ?? "");
      }
    });
  }

  enqueue(namespace: string, name: string, afterMs?: number): void {
    const key = `migration:${namespace}/${name}`;
    const task = () => this.sync(namespace, name);
    if (afterMs === undefined) this.rt.enqueue(key, task);
    else this.rt.later(afterMs, key, task);
  }

  private migrationsOf(namespace: string, vmiName: string): readonly SimObject[] {
    return this.rt.list(R.vmim, namespace).filter((m) => str(m, "spec", "vmiName") === vmiName);
  }

  private setPhase(
    vmim: SimObject,
    phase: string,
    extra?: (status: Record<string, unknown>) => void,
  ): SimObject | undefined {
    const now = this.rt.stamp();
    return this.rt.mutate(
      R.vmim,
      vmim.metadata.namespace,
      vmim.metadata.name ?? "",
      (m) => {
        const status = statusOf(m);
        status.phase = phase;
        const stamps = (status.phaseTransitionTimestamps ?? []) as { phase: string }[];
        if (!stamps.some((s) => s.phase === phase)) {
          status.phaseTransitionTimestamps = [...stamps, { phase, phaseTransitionTimestamp: now }];
        }
        extra?.(status);
      },
      "status",
    );
  }

  private fail(vmim: SimObject, message: string): void {
    const namespace = vmim.metadata.namespace ?? "";
    let vmi = this.rt.get(R.vmi, namespace, str(vmim, "spec", "vmiName") ?? "");
    const state = migrationStateOf(vmi);
    if (
      vmi &&
      !vmi.metadata.deletionTimestamp &&
      state &&
      state.migrationUid === vmim.metadata.uid &&
      state.completed !== true &&
      state.failed !== true
    ) {
      // Handed off, but it ended before the source node reported (the target pod is gone or
      // down): virt-controller closes the VMI's record itself, failed with the reason "Target
      // pod is down" unless one is set, start and end stamped where missing
      // (`migration.go` handleMarkMigrationFailedOnVMI, in PreparingTarget, TargetReady and Failed).
      const now = this.rt.stamp();
      vmi =
        this.rt.mutate(R.vmi, namespace, vmi.metadata.name ?? "", (o) => {
          const s = migrationStateOf(o);
          if (!s || s.migrationUid !== vmim.metadata.uid) return;
          Object.assign(s, { failed: true, completed: true });
          s.endTimestamp ??= now;
          s.startTimestamp ??= now;
          if (!s.failureReason) s.failureReason = "Target pod is down";
          const labels = { ...o.metadata.labels };
          delete labels[migrationTargetNodeLabel];
          o.metadata.labels = labels;
        }) ?? vmi;
      this.rt.event(
        vmi,
        "Warning",
        "FailedMigration",
        `VirtualMachineInstance migration uid ${vmim.metadata.uid} failed. reason: Target pod is down`,
        controller,
      );
    }
    this.setPhase(vmim, "Failed", (status) => this.copyState(status, vmim, vmi));
    this.rt.event(vmim, "Warning", "FailedMigration", message, controller);
    // Its target pod stays (Completed or failed) until the VMIM is garbage-collected: see finish().
  }

  /** A final VMIM keeps the VMI's record of the migration, when it is about this VMIM. */
  private copyState(status: Record<string, unknown>, vmim: SimObject, vmi: SimObject | undefined): void {
    const state = migrationStateOf(vmi);
    if (state && state.migrationUid === vmim.metadata.uid) status.migrationState = structuredClone(state);
  }

  sync(namespace: string, name: string): void {
    const vmim = this.rt.get(R.vmim, namespace, name);
    if (!vmim) return;
    const vmiName = str(vmim, "spec", "vmiName") ?? "";
    const vmi = this.rt.get(R.vmi, namespace, vmiName);
    if (vmim.metadata.labels?.[vmiNameLabel] !== vmiName) {
      this.rt.mutate(R.vmim, namespace, name, (m) => {
        m.metadata.labels = { ...m.metadata.labels, [vmiNameLabel]: vmiName };
      });
      return;
    }
    if (!vmi) {
      // The VMI is gone: its migrations are deleted, whatever their phase; one already being
      // deleted is left as it is (`migration.go` execute, "Deleting migration for deleted vmi").
      if (!vmim.metadata.deletionTimestamp) this.rt.remove(R.vmim, namespace, name);
      return;
    }
    const phase = phaseOf(vmim);
    if (isFinalPhase(phase)) {
      this.finish(vmim);
      return;
    }
    if (str(vmi, "status", "phase") === "Succeeded" || str(vmi, "status", "phase") === "Failed") {
      this.fail(vmim, "Migration failed vmi shutdown during migration.");
      return;
    }
    const state = migrationStateOf(vmi);
    const handedOff = state?.migrationUid === vmim.metadata.uid;
    if (vmim.metadata.deletionTimestamp && !handedOff && beforeHandOff.has(phase)) {
      this.cancelBeforeHandOff(vmim);
      return;
    }
    switch (phase) {
      case "": {
        if (!this.canMigrate(vmim, vmi)) {
          this.fail(vmim, "VMI is not eligible for migration because another migration job is in progress.");
          return;
        }
        // While Pending the VMIM's migrationState holds only the source pod (`pkg/controller/
        // controller.go` SetSourcePod); the VMI's record is copied in once it is final.
        const sourcePod = this.currentPodName(vmi);
        this.setPhase(vmim, "Pending", (status) => {
          if (sourcePod) status.migrationState = { sourcePod };
        });
        return;
      }
      case "Pending":
        this.pending(vmim, vmi);
        return;
      case "Scheduling":
        this.scheduling(vmim, vmi);
        return;
      case "Scheduled":
        if (!this.checkTargetPod(vmim)) return;
        if (!handedOff) this.handOff(vmim, vmi);
        else if (this.abortCondition(vmim)) return;
        else if (state?.targetNode) this.setPhase(vmim, "PreparingTarget");
        return;
      default:
        this.followHandler(vmim, vmi, phase);
    }
  }

  /**
   * A VMI whose record names another migration may still be taken over, when that migration is
   * final or gone; hand-off then replaces the record (`migration.go` canMigrateVMI).
   */
  private canMigrate(vmim: SimObject, vmi: SimObject): boolean {
    const uid = migrationStateOf(vmi)?.migrationUid;
    if (!uid || uid === vmim.metadata.uid) return true;
    const owner = this.rt.list(R.vmim, vmim.metadata.namespace).find((m) => m.metadata.uid === uid);
    return owner === undefined || isFinalPhase(phaseOf(owner));
  }

  /**
   * The VMI's current launcher pod: the newest of its pods on its node, in any phase
   * (`pkg/controller/controller.go` CurrentVMIPod).
   */
  private currentPodName(vmi: SimObject): string | undefined {
    const node = str(vmi, "status", "nodeName");
    let newest: SimObject | undefined;
    for (const pod of this.rt.podsOf(vmi.metadata.uid)) {
      if (node && str(pod, "spec", "nodeName") !== node) continue;
      if (!newest || (pod.metadata.creationTimestamp ?? "") > (newest.metadata.creationTimestamp ?? ""))
        newest = pod;
    }
    return newest?.metadata.name;
  }

  /** Launcher pods of the VMI that have not terminated (`pkg/controller/controller.go` VMIActivePodsCount). */
  private activePods(vmi: SimObject): number {
    return this.rt.podsOf(vmi.metadata.uid).filter((p) => !isFinalPhase(str(p, "status", "phase") ?? ""))
      .length;
  }

  /**
   * The node a running migration counts as outbound from: KubeVirt reads it from the migration's
   * VMI, not from the VMIM: the VMI's node or its record's source node (`migration.go`
   * outboundMigrationsOnNode), so a VMI whose record is of an earlier migration from elsewhere
   * counts on both nodes until hand-off replaces it.
   */
  private leavesFrom(m: SimObject, node: string | undefined): boolean {
    const vmi = this.rt.peek(R.vmi, m.metadata.namespace, str(m, "spec", "vmiName") ?? "");
    if (!vmi || !node) return false;
    return (
      str(vmi, "status", "nodeName") === node || str(vmi, "status", "migrationState", "sourceNode") === node
    );
  }

  private pending(vmim: SimObject, vmi: SimObject): void {
    const namespace = vmim.metadata.namespace ?? "";
    const name = vmim.metadata.name ?? "";
    // SetSourcePod: on every Pending sync, the VMI's current pod.
    const sourcePod = this.currentPodName(vmi);
    if (sourcePod && str(vmim, "status", "migrationState", "sourcePod") !== sourcePod) {
      this.rt.mutate(
        R.vmim,
        namespace,
        name,
        (m) => {
          const status = statusOf(m);
          status.migrationState = { ...(status.migrationState as object | undefined), sourcePod };
        },
        "status",
      );
    }
    const delay = this.backoffRemaining(vmim);
    if (delay > 0) {
      this.rt.event(
        vmi,
        "Warning",
        "MigrationBackoff",
        `backoff migrating vmi ${namespace}/${vmi.metadata.name}`,
        controller,
      );
      this.enqueue(namespace, name, delay);
      return;
    }
    if (targetPodOf(this.rt, vmim)) {
      this.setPhase(vmim, "Scheduling");
      return;
    }
    // handleTargetPodCreation, in its order; none of these waits has an event, only a log line.
    if (this.activePods(vmi) > 1) {
      this.rt.debug(
        `Waiting to schedule target pod for migration because there are already multiple pods running for vmi ${namespace}/${vmi.metadata.name}`,
      );
      this.enqueue(namespace, name, 1000);
      return;
    }
    const config = migrationConfig(this.rt);
    const running = this.rt.list(R.vmim).filter((m) => runningPhases.has(phaseOf(m)));
    if (running.length >= config.parallelMigrationsPerCluster) {
      this.rt.debug(
        `Waiting to schedule target pod for vmi [${namespace}/${vmi.metadata.name}] migration because total running parallel migration count [${running.length}] is currently at the global cluster limit.`,
      );
      this.enqueue(namespace, name, requeueDelayMs(vmim));
      return;
    }
    const sourceNode = str(vmi, "status", "nodeName");
    const outbound = running.filter((m) => this.leavesFrom(m, sourceNode)).length;
    if (outbound >= config.parallelOutboundMigrationsPerNode) {
      this.rt.debug(
        `Waiting to schedule target pod for vmi [${namespace}/${vmi.metadata.name}] migration because total running parallel outbound migrations on target node [${outbound}] has hit outbound migrations per node limit.`,
      );
      this.enqueue(namespace, name, requeueDelayMs(vmim));
      return;
    }
    const pod = this.createTargetPod(vmim, vmi);
    if (!pod) return;
    this.rt.event(
      vmim,
      "Normal",
      "SuccessfulCreate",
      `Created migration target pod ${pod.metadata.name}`,
      controller,
    );
    this.setPhase(vmim, "Scheduling");
  }

  /** Past failed evacuation/workload-update attempts delay the next one: 20 s, doubling (facts §g). */
  private backoffRemaining(vmim: SimObject): number {
    const eligible = (m: SimObject) =>
      m.metadata.annotations?.[evacuationAnnotation] !== undefined ||
      m.metadata.annotations?.[workloadUpdateAnnotation] !== undefined;
    if (!eligible(vmim) || vmim.metadata.annotations?.[ignoreBackoffAnnotation] !== undefined) return 0;
    const history = this.migrationsOf(vmim.metadata.namespace ?? "", str(vmim, "spec", "vmiName") ?? "")
      .filter(eligible)
      .sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""));
    if (history.length < 2 || history[0]?.metadata.uid !== vmim.metadata.uid) return 0;
    let delay = 0;
    let lastFailure: number | undefined;
    for (const previous of history.slice(1)) {
      if (previous.metadata.deletionTimestamp) continue;
      const phase = phaseOf(previous);
      if (phase === "Succeeded") break;
      if (phase !== "Failed") continue;
      delay = delay === 0 ? backoffStartMs : delay * 2;
      if (lastFailure === undefined) {
        const stamps = (dig(previous, "status", "phaseTransitionTimestamps") ?? []) as {
          phase: string;
          phaseTransitionTimestamp: string;
        }[];
        const failed = stamps.find((s) => s.phase === "Failed");
        lastFailure = failed ? Date.parse(failed.phaseTransitionTimestamp) : undefined;
      }
    }
    if (lastFailure === undefined) return 0;
    return Math.max(0, lastFailure + delay - this.rt.now());
  }

  /**
   * The source pod's node selector without what the migration that created it added: KubeVirt
   * renders a target pod from the VMI (services/template.go RenderMigrationManifest), so one
   * migration's addedNodeSelector (`--target-node`) is that migration's alone. The sim clones the
   * source pod instead, and takes back out the keys its own migration (the VMIM whose uid the pod's
   * kubevirt.io/migrationJobUID label holds) added with those values.
   */
  private baseSelector(source: SimObject, namespace: string): Record<string, string> {
    const selector = { ...((dig(source, "spec", "nodeSelector") ?? {}) as Record<string, string>) };
    const uid = source.metadata.labels?.[migrationJobLabel];
    if (!uid) return selector;
    const creator = this.rt.list(R.vmim, namespace).find((m) => m.metadata.uid === uid);
    const added = (dig(creator, "spec", "addedNodeSelector") ?? {}) as Record<string, string>;
    for (const [key, value] of Object.entries(added)) if (selector[key] === value) delete selector[key];
    return selector;
  }

  private createTargetPod(vmim: SimObject, vmi: SimObject): SimObject | undefined {
    const namespace = vmim.metadata.namespace ?? "";
    const sourceName = this.currentPodName(vmi);
    const source = sourceName ? this.rt.get(R.pod, namespace, sourceName) : undefined;
    if (!source) {
      this.rt.event(vmi, "Warning", "FailedCreate", "Error creating pod: source pod not found", controller);
      return undefined;
    }
    const image = currentLauncherImage(this.rt);
    const spec = structuredClone(source.spec ?? {}) as Record<string, unknown>;
    delete spec.nodeName;
    const added = (dig(vmim, "spec", "addedNodeSelector") ?? {}) as Record<string, string>;
    spec.nodeSelector = { ...added, ...this.baseSelector(source, namespace) };
    // The target never lands beside the source.
    spec.affinity = {
      ...(spec.affinity as object | undefined),
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { "kubevirt.io/created-by": vmi.metadata.uid ?? "" } },
            topologyKey: "kubernetes.io/hostname",
          },
        ],
      },
    };
    if (image) {
      for (const list of ["containers", "initContainers"]) {
        for (const container of (spec[list] ?? []) as { name: string; image?: string }[]) {
          if (
            container.image === str(source, "spec", "containers", "0", "image") ||
            container.name === "compute"
          ) {
            container.image = image;
          }
        }
      }
      const compute = ((spec.containers ?? []) as { name: string; image?: string }[]).find(
        (c) => c.name === "compute",
      );
      if (compute) compute.image = image;
    }
    this.addCpuSelectors(vmi, source, spec.nodeSelector as Record<string, string>);
    const labels: Record<string, string> = {
      ...source.metadata.labels,
      [migrationJobLabel]: vmim.metadata.uid ?? "",
    };
    delete labels["kubevirt.io/nodeName"];
    delete labels["kubevirt.io/outdatedLauncherImage"];
    return this.rt.create(R.pod, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `virt-launcher-${vmi.metadata.name}-`,
        namespace,
        labels,
        annotations: {
          ...source.metadata.annotations,
          "kubevirt.io/migrationJobName": vmim.metadata.name ?? "",
        },
        ownerReferences: source.metadata.ownerReferences,
      },
      spec,
      status: { phase: "Pending", qosClass: str(source, "status", "qosClass") },
    });
  }

  /**
   * The CPU keys createTargetPod adds. A host-model CPU may only go where the source node's host
   * model runs (prepareNodeSelectorForHostCpuModel): once the VM has migrated, the source pod
   * already carries those keys and they stay; else the source node's
   * `host-model-cpu.node.kubevirt.io/<model>` becomes `cpu-model-migration.node.kubevirt.io/<model>`
   * and each `host-model-required-features.node.kubevirt.io/<f>` becomes
   * `cpu-feature.node.kubevirt.io/<f>`. Since v1.8 any VM also keeps the source node's CPU vendor.
   */
  private addCpuSelectors(vmi: SimObject, source: SimObject, selector: Record<string, string>): void {
    const node = this.rt.peek(R.node, undefined, str(vmi, "status", "nodeName") ?? "");
    const labels = node?.metadata.labels ?? {};
    if (str(vmi, "spec", "domain", "cpu", "model") === "host-model") {
      const migrated = Object.keys(
        (dig(source, "spec", "nodeSelector") ?? {}) as Record<string, string>,
      ).some((key) => key.includes(cpuFeaturePrefix) || key.includes(migrationCpuPrefix));
      if (!migrated) {
        for (const [key, value] of Object.entries(labels)) {
          if (key.startsWith(hostModelCpuPrefix))
            selector[migrationCpuPrefix + key.slice(hostModelCpuPrefix.length)] = value;
          if (key.startsWith(hostModelFeaturePrefix))
            selector[cpuFeaturePrefix + key.slice(hostModelFeaturePrefix.length)] = value;
        }
      }
    }
    if (!Object.keys(selector).some((key) => key.startsWith(cpuVendorPrefix))) {
      const vendor = Object.keys(labels).find((key) => key.startsWith(cpuVendorPrefix));
      if (vendor) selector[vendor] = "true";
    }
  }

  /**
   * A host-model VMI's target pod is unschedulable and no node but the source has its CPU model
   * and required features: KubeVirt warns on the VMI, on every such sync
   * (`migration.go` alertIfHostModelIsUnschedulable, from handlePendingPodTimeout).
   */
  private alertIfHostModelIsUnschedulable(vmi: SimObject, pod: SimObject): void {
    if (str(vmi, "spec", "domain", "cpu", "model") !== "host-model") return;
    const selector = (dig(pod, "spec", "nodeSelector") ?? {}) as Record<string, string>;
    const required = Object.entries(selector)
      .filter(([key]) => key.startsWith(migrationCpuPrefix) || key.startsWith(cpuFeaturePrefix))
      .sort(([a], [b]) => a.localeCompare(b));
    const source = str(vmi, "status", "nodeName");
    const fits = this.rt
      .list(R.node)
      .some(
        (node) =>
          node.metadata.name !== source && required.every(([k, v]) => node.metadata.labels?.[k] === v),
      );
    if (fits) return;
    // Go prints the map of required labels as map[key:value ...], keys sorted.
    const map = `map[${required.map(([k, v]) => `${k}:${v}`).join(" ")}]`;
    this.rt.event(
      vmi,
      "Warning",
      "NoSuitableNodesForHostModelMigration",
      `Migration cannot proceed since no node is suitable to run the required CPU model / required features: ${map}`,
      controller,
    );
  }

  /** False (and the VMIM failed) when the target pod went away or died. */
  private checkTargetPod(vmim: SimObject): boolean {
    const pod = targetPodOf(this.rt, vmim);
    if (!pod) {
      this.fail(vmim, "Migration target pod was removed during active migration.");
      return false;
    }
    // PodIsDown: Succeeded or Failed.
    if (isFinalPhase(str(pod, "status", "phase") ?? "")) {
      this.fail(vmim, "Migration failed because target pod shutdown during migration");
      return false;
    }
    return true;
  }

  private scheduling(vmim: SimObject, vmi: SimObject): void {
    if (!this.checkTargetPod(vmim)) return;
    const pod = targetPodOf(this.rt, vmim) as SimObject;
    const namespace = vmim.metadata.namespace ?? "";
    const podName = pod.metadata.name ?? "";
    if (podCondition(pod, "Ready")?.status === "True") {
      this.setPhase(vmim, "Scheduled");
      return;
    }
    const unschedulable = podCondition(pod, "PodScheduled")?.reason === "Unschedulable";
    const annotation = unschedulable
      ? "kubevirt.io/migrationUnschedulablePodTimeoutSeconds"
      : "kubevirt.io/migrationPendingPodTimeoutSeconds";
    const override = Number(vmim.metadata.annotations?.[annotation]);
    const timeout =
      Number.isFinite(override) && override > 0
        ? override * 1000
        : unschedulable
          ? unschedulableTimeoutMs
          : pendingTimeoutMs;
    const age = this.rt.now() - Date.parse(pod.metadata.creationTimestamp ?? "");
    if (age >= timeout) {
      this.rt.remove(R.pod, namespace, podName);
      this.rt.event(
        vmim,
        "Normal",
        "SuccessfulDelete",
        `${unschedulable ? "unschedulable" : "pending"} pod ${namespace}/${podName} timeout period exceeded`,
        controller,
      );
      return;
    }
    if (unschedulable) {
      this.alertIfHostModelIsUnschedulable(vmi, pod);
      this.rt.event(
        vmim,
        "Warning",
        "migrationTargetPodUnschedulable",
        `Migration target pod for VMI [${namespace}/${str(vmim, "spec", "vmiName")}] is currently unschedulable.`,
        controller,
      );
    }
    // Checked again at the timeout, or sooner when the pod changes.
    this.enqueue(namespace, vmim.metadata.name ?? "", Math.min(timeout - age, 30_000));
  }

  private handOff(vmim: SimObject, vmi: SimObject): void {
    const pod = targetPodOf(this.rt, vmim) as SimObject;
    const targetNode = str(pod, "spec", "nodeName") ?? "";
    const policy = matchingPolicy(this.rt, vmi);
    const config = effectiveConfig(this.rt, policy);
    this.rt.mutate(R.vmi, vmi.metadata.namespace, vmi.metadata.name ?? "", (o) => {
      o.metadata.labels = { ...o.metadata.labels, [migrationTargetNodeLabel]: targetNode };
      const status = statusOf(o);
      status.migrationState = {
        migrationUid: vmim.metadata.uid,
        targetNode,
        targetPod: pod.metadata.name,
        sourceNode: str(vmi, "status", "nodeName"),
        sourcePod: str(vmim, "status", "migrationState", "sourcePod"),
        ...(policy ? { migrationPolicyName: policy.metadata.name } : {}),
        migrationConfiguration: {
          allowAutoConverge: config.allowAutoConverge,
          allowPostCopy: config.allowPostCopy,
          allowWorkloadDisruption: config.allowWorkloadDisruption,
          bandwidthPerMigration:
            config.bandwidthPerMigration === 0 ? "0" : String(config.bandwidthPerMigration),
          completionTimeoutPerGiB: config.completionTimeoutPerGiB,
          nodeDrainTaintKey: config.nodeDrainTaintKey,
          parallelMigrationsPerCluster: config.parallelMigrationsPerCluster,
          parallelOutboundMigrationsPerNode: config.parallelOutboundMigrationsPerNode,
          progressTimeout: config.progressTimeout,
          maxDowntimeMs: config.maxDowntimeMs,
          unsafeMigrationOverride: false,
        },
        mode: "PreCopy",
      };
    });
    this.rt.event(
      vmim,
      "Normal",
      "SuccessfulHandOver",
      "Migration target pod is ready for preparation by virt-handler.",
      controller,
    );
  }

  private followHandler(vmim: SimObject, vmi: SimObject, phase: string): void {
    const state = migrationStateOf(vmi);
    if (!state || state.migrationUid !== vmim.metadata.uid) {
      this.fail(
        vmim,
        "VMI's migration state was taken over by another migration job during active migration.",
      );
      return;
    }
    if (state.failed === true) {
      this.fail(vmim, "source node reported migration failed");
      return;
    }
    if (!this.checkTargetPod(vmim)) return;
    // Deleted after hand-off: the condition at once, the abort only once the migration runs;
    // before that it goes on, and may complete first (`migration.go` updateStatus; sync's
    // MigrationRunning case, markMigrationAbortInVmiStatus).
    if (this.abortCondition(vmim)) return;
    if (state.completed === true) {
      this.setPhase(vmim, "Succeeded", (status) => this.copyState(status, vmim, vmi));
      this.rt.event(
        vmim,
        "Normal",
        "SuccessfulMigration",
        "Source node reported migration succeeded",
        controller,
      );
      return;
    }
    if (phase === "Running" && vmim.metadata.deletionTimestamp && state.abortRequested !== true) {
      this.rt.mutate(R.vmi, vmi.metadata.namespace, vmi.metadata.name ?? "", (o) => {
        const s = migrationStateOf(o);
        if (s && s.migrationUid === vmim.metadata.uid) s.abortRequested = true;
      });
      this.rt.event(
        vmim,
        "Normal",
        "SuccessfulAbortMigration",
        "Migration is ready to be canceled by virt-handler.",
        controller,
      );
      return;
    }
    if (phase === "PreparingTarget" && state.targetNodeAddress) this.setPhase(vmim, "TargetReady");
    else if (phase === "TargetReady" && state.startTimestamp) this.setPhase(vmim, "Running");
  }

  /** A VMIM being deleted gets the migrationAbortRequested condition; true when this wrote it. */
  private abortCondition(vmim: SimObject): boolean {
    if (!vmim.metadata.deletionTimestamp) return false;
    const conditions = (dig(vmim, "status", "conditions") ?? []) as { type: string }[];
    if (conditions.some((c) => c.type === "migrationAbortRequested")) return false;
    const now = this.rt.stamp();
    this.rt.mutate(
      R.vmim,
      vmim.metadata.namespace,
      vmim.metadata.name ?? "",
      (m) => {
        const status = statusOf(m);
        status.conditions = [
          ...((status.conditions ?? []) as object[]),
          { type: "migrationAbortRequested", status: "True", lastProbeTime: now, lastTransitionTime: now },
        ];
      },
      "status",
    );
    return true;
  }

  /** Deleted before hand-off: the target pod goes and the migration fails as canceled. */
  private cancelBeforeHandOff(vmim: SimObject): void {
    const namespace = vmim.metadata.namespace ?? "";
    const pod = targetPodOf(this.rt, vmim);
    if (pod) {
      this.rt.remove(R.pod, namespace, pod.metadata.name ?? "");
      this.rt.event(
        vmim,
        "Normal",
        "SuccessfulDelete",
        `migration canceled and pod ${namespace}/${pod.metadata.name} is deleted`,
        controller,
      );
    }
    const now = this.rt.stamp();
    this.setPhase(vmim, "Failed", (status) => {
      const conditions = (status.conditions ?? []) as { type: string }[];
      if (!conditions.some((c) => c.type === "migrationAbortRequested")) {
        status.conditions = [
          ...conditions,
          { type: "migrationAbortRequested", status: "True", lastProbeTime: now, lastTransitionTime: now },
        ];
      }
    });
    this.rt.event(vmim, "Warning", "FailedMigration", "Migration failed due to being canceled", controller);
  }

  /**
   * A final VMIM: the finalizer goes, only the newest five finished ones per VMI stay, and a slot
   * may have freed: the Pending migrations are tried again at once, highest priority first.
   */
  private finish(vmim: SimObject): void {
    const namespace = vmim.metadata.namespace ?? "";
    if ((vmim.metadata.finalizers ?? []).includes(migrationFinalizer)) {
      this.rt.mutate(R.vmim, namespace, vmim.metadata.name ?? "", (m) => {
        m.metadata.finalizers = (m.metadata.finalizers ?? []).filter((f) => f !== migrationFinalizer);
        if (m.metadata.finalizers.length === 0) delete m.metadata.finalizers;
      });
      // KubeVirt does this on every sync of a final VMIM; once, when it became final, is the same.
      this.reEnqueuePending();
    }
    const finished = this.migrationsOf(namespace, str(vmim, "spec", "vmiName") ?? "")
      .filter((m) => isFinalPhase(phaseOf(m)) && !m.metadata.deletionTimestamp)
      .sort(
        (a, b) =>
          (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? "") ||
          (b.metadata.name ?? "").localeCompare(a.metadata.name ?? ""),
      );
    for (const old of finished.slice(finishedToKeep)) {
      // The defunct pod goes with it, as its copy of the VMI's record names it: the target of a
      // failed migration, the source of a successful one (`migration.go` garbageCollectFinalizedMigrations).
      const state = dig(old, "status", "migrationState") as Record<string, unknown> | undefined;
      const pod =
        state?.failed === true ? state.targetPod : state?.completed === true ? state.sourcePod : undefined;
      if (typeof pod === "string" && pod) this.rt.remove(R.pod, namespace, pod);
      this.rt.remove(R.vmim, namespace, old.metadata.name ?? "");
    }
  }

  /**
   * The Pending migrations, highest priority first (equal ones in the order listed), up to
   * parallelMigrationsPerCluster of them (`migration.go` reEnqueueHighestPriorityPendingMigrations).
   */
  private reEnqueuePending(): void {
    const limit = migrationConfig(this.rt).parallelMigrationsPerCluster;
    const pending = this.rt
      .list(R.vmim)
      .filter((m) => phaseOf(m) === "Pending")
      .sort((a, b) => priorityOf(b) - priorityOf(a));
    for (const m of pending.slice(0, limit)) this.enqueue(m.metadata.namespace ?? "", m.metadata.name ?? "");
  }
}
