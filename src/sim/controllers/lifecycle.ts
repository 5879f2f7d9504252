// The VM and VMI controllers and virt-handler's part of a VMI's life (facts §d, §e, §f, §l):
// restart through the VM's stateChangeRequests (old VMI deleted, a new one created, a launcher
// pod scheduled, the guest started), runStrategy, VMI deletion with its finalizers, and the
// launcher image bookkeeping: `launcherContainerImageVersion` and the
// `kubevirt.io/outdatedLauncherImage` label against virt-controller's `--launcher-image`.

import { outdatedLauncherImageLabel } from "../objects.js";
import type { SimObject } from "../store.js";
import { currentLauncherImage } from "./config.js";
import { migrationJobLabel } from "./migration.js";
import { stopPod } from "./pods.js";
import { type ControllerRuntime, dig, R, statusOf, str } from "./runtime.js";
import { runStrategyOf } from "./virt-api.js";

const vmController = { component: "virtualmachine-controller" } as const;
const vmiFinalizers = [
  "kubevirt.io/virtualMachineControllerFinalize",
  "kubevirt.io/foregroundDeleteVirtualMachine",
];
const createdBy = "kubevirt.io/created-by";
const shutdownMs = 3000;

interface Template {
  vmi: SimObject;
  pod: SimObject | undefined;
}

function computeImage(pod: SimObject | undefined): string | undefined {
  const containers = (dig(pod, "spec", "containers") ?? []) as { name: string; image?: string }[];
  return containers.find((c) => c.name === "compute")?.image;
}

function isFinal(vmi: SimObject): boolean {
  const phase = str(vmi, "status", "phase");
  return phase === "Succeeded" || phase === "Failed";
}

export class LifecycleControllers {
  /** The last VMI and launcher pod of each VM: what a restart builds the new ones from. */
  private readonly templates = new Map<string, Template>();
  private readonly shuttingDown = new Set<string>();

  constructor(private readonly rt: ControllerRuntime) {
    rt.onChange((change) => {
      const object = change.object;
      const namespace = object.metadata.namespace ?? "";
      if (change.storage === R.vm.storage && change.type !== "DELETED")
        this.enqueueVm(namespace, object.metadata.name ?? "");
      if (change.storage === R.vmi.storage) {
        const owner = object.metadata.ownerReferences?.find((o) => o.kind === "VirtualMachine");
        if (owner) this.enqueueVm(namespace, owner.name);
        if (change.type !== "DELETED") this.enqueueVmi(namespace, object.metadata.name ?? "");
      }
      if (change.storage === R.pod.storage) {
        const vmiName = object.metadata.annotations?.["kubevirt.io/domain"];
        if (vmiName) {
          if (change.type === "DELETED") this.rememberDeletedPod(namespace, vmiName, object);
          this.enqueueVmi(namespace, vmiName);
        }
      }
      if (change.storage === R.deployment.storage) {
        for (const vmi of rt.list(R.vmi))
          this.enqueueVmi(vmi.metadata.namespace ?? "", vmi.metadata.name ?? "");
      }
    });
  }

  private enqueueVm(namespace: string, name: string): void {
    this.rt.enqueue(`vm:${namespace}/${name}`, () => this.syncVm(namespace, name));
  }

  private enqueueVmi(namespace: string, name: string): void {
    this.rt.enqueue(`vmi:${namespace}/${name}`, () => this.syncVmi(namespace, name));
  }

  private remember(vmi: SimObject): void {
    if (isFinal(vmi) || str(vmi, "status", "phase") !== "Running") return;
    const key = `${vmi.metadata.namespace}/${vmi.metadata.name}`;
    const pod = this.activePod(vmi);
    this.templates.set(key, {
      vmi: structuredClone(vmi),
      pod: pod ? structuredClone(pod) : this.templates.get(key)?.pod,
    });
  }

  /**
   * A launcher pod deleted under its Running VMI (an eviction, `kubectl delete pod`): what the
   * VM controller starts the VMI again from, once the VMI has failed.
   */
  private rememberDeletedPod(namespace: string, vmiName: string, pod: SimObject): void {
    const vmi = this.rt.peek(R.vmi, namespace, vmiName);
    if (!vmi || str(vmi, "status", "phase") !== "Running") return;
    if (pod.metadata.labels?.[createdBy] !== vmi.metadata.uid) return;
    if (str(pod, "spec", "nodeName") !== str(vmi, "status", "nodeName")) return;
    this.templates.set(`${namespace}/${vmiName}`, { vmi: structuredClone(vmi), pod: structuredClone(pod) });
  }

  /** `controller.CurrentVMIPod` finds one: a launcher pod of the VMI on its node, in any phase. */
  private hasCurrentPod(vmi: SimObject): boolean {
    const node = str(vmi, "status", "nodeName");
    return this.rt.podsOf(vmi.metadata.uid).some((p) => !node || str(p, "spec", "nodeName") === node);
  }

  private activePod(vmi: SimObject): SimObject | undefined {
    const node = str(vmi, "status", "nodeName");
    return this.rt
      .podsOf(vmi.metadata.uid)
      .find(
        (p) =>
          (node === undefined || str(p, "spec", "nodeName") === node) &&
          str(p, "status", "phase") === "Running",
      );
  }

  // ---- VM controller -------------------------------------------------------------------------

  private syncVm(namespace: string, name: string): void {
    const vm = this.rt.peek(R.vm, namespace, name);
    if (!vm || vm.metadata.deletionTimestamp) return;
    const vmi = this.rt.peek(R.vmi, namespace, name);
    const requests = (dig(vm, "status", "stateChangeRequests") ?? []) as { action: string; uid?: string }[];
    const first = requests[0];
    if (first?.action === "Stop") {
      if (vmi && (!first.uid || first.uid === vmi.metadata.uid)) {
        this.deleteVmi(vm, vmi);
        return;
      }
      this.setRequests(vm, requests.slice(1));
      return;
    }
    if (first?.action === "Start") {
      if (!vmi) {
        this.createVmi(vm);
        this.setRequests(vm, requests.slice(1));
      }
      return;
    }
    const strategy = runStrategyOf(vm);
    // A final VMI is stopped (deleted) to be started again: always with Always, after a failure
    // with RerunOnFailure (`pkg/virt-controller/watch/vm/vm.go` syncRunStrategy).
    const phase = str(vmi, "status", "phase");
    const rerun =
      vmi !== undefined &&
      ((strategy === "Always" && isFinal(vmi)) || (strategy === "RerunOnFailure" && phase === "Failed"));
    if (!vmi && (strategy === "Always" || strategy === "RerunOnFailure")) this.createVmi(vm);
    else if (vmi && (strategy === "Halted" || rerun)) this.deleteVmi(vm, vmi);
    this.printableStatus(vm, vmi);
  }

  private setRequests(vm: SimObject, requests: object[]): void {
    this.rt.mutate(
      R.vm,
      vm.metadata.namespace,
      vm.metadata.name ?? "",
      (o) => {
        const status = statusOf(o);
        if (requests.length === 0) delete status.stateChangeRequests;
        else status.stateChangeRequests = requests;
      },
      "status",
    );
  }

  private printableStatus(vm: SimObject, vmi: SimObject | undefined): void {
    const phase = str(vmi, "status", "phase");
    const migrating =
      !!dig(vmi, "status", "migrationState", "startTimestamp") &&
      !dig(vmi, "status", "migrationState", "endTimestamp");
    const printable = !vmi
      ? "Stopped"
      : vmi.metadata.deletionTimestamp
        ? "Stopping"
        : migrating
          ? "Migrating"
          : phase === "Running"
            ? "Running"
            : "Starting";
    if (str(vm, "status", "printableStatus") === printable) return;
    this.rt.mutate(
      R.vm,
      vm.metadata.namespace,
      vm.metadata.name ?? "",
      (o) => {
        const status = statusOf(o);
        status.printableStatus = printable;
        status.ready = printable === "Running" || printable === "Migrating";
        status.created = vmi !== undefined;
      },
      "status",
    );
  }

  private deleteVmi(vm: SimObject, vmi: SimObject): void {
    if (vmi.metadata.deletionTimestamp) return;
    this.remember(vmi);
    this.rt.store.delete(R.vmi, vmi.metadata.namespace, vmi.metadata.name ?? "");
    this.rt.event(
      vm,
      "Normal",
      "SuccessfulDelete",
      `Stopped the virtual machine by deleting the virtual machine instance ${vmi.metadata.uid}`,
      vmController,
    );
  }

  private createVmi(vm: SimObject): void {
    const namespace = vm.metadata.namespace ?? "";
    const name = vm.metadata.name ?? "";
    const template = this.templates.get(`${namespace}/${name}`);
    const spec = structuredClone((dig(vm, "spec", "template", "spec") ?? template?.vmi.spec ?? {}) as object);
    const labels = {
      ...(dig(vm, "spec", "template", "metadata", "labels") as Record<string, string> | undefined),
    };
    const annotations = {
      ...(template?.vmi.metadata.annotations ?? {}),
      ...(dig(vm, "spec", "template", "metadata", "annotations") as Record<string, string> | undefined),
    };
    const now = this.rt.stamp();
    const created = this.rt.create(R.vmi, {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: {
        name,
        namespace,
        labels,
        annotations,
        finalizers: [...vmiFinalizers],
        ownerReferences: [
          {
            apiVersion: "kubevirt.io/v1",
            kind: "VirtualMachine",
            name,
            uid: vm.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec,
      status: {
        phase: "Pending",
        phaseTransitionTimestamps: [{ phase: "Pending", phaseTransitionTimestamp: now }],
        guestOSInfo: {},
        qosClass: str(template?.vmi, "status", "qosClass") ?? "Burstable",
        currentCPUTopology: dig(template?.vmi, "status", "currentCPUTopology") ?? {
          cores: 1,
          sockets: 1,
          threads: 1,
        },
      },
    });
    this.rt.event(
      vm,
      "Normal",
      "SuccessfulCreate",
      `Started the virtual machine by creating the new virtual machine instance ${created.metadata.name}`,
      vmController,
    );
  }

  // ---- VMI controller and virt-handler --------------------------------------------------------

  private syncVmi(namespace: string, name: string): void {
    const vmi = this.rt.peek(R.vmi, namespace, name);
    if (!vmi) return;
    if (vmi.metadata.deletionTimestamp) {
      this.shutDown(vmi);
      return;
    }
    const phase = str(vmi, "status", "phase");
    if (phase === "Pending") this.startLauncher(vmi);
    else if (phase === "Scheduling" || phase === "Scheduled") this.followLauncher(vmi);
    else if (phase === "Running") {
      // The launcher pod is gone (evicted, deleted): virt-controller fails the VMI
      // (`pkg/virt-controller/watch/vmi/lifecycle.go`, "pod does not exist").
      if (!this.hasCurrentPod(vmi)) this.setVmiPhase(vmi, "Failed");
      else this.launcherImage(vmi);
    }
  }

  private shutDown(vmi: SimObject): void {
    const key = `${vmi.metadata.namespace}/${vmi.metadata.name}/${vmi.metadata.uid}`;
    if (this.shuttingDown.has(key)) return;
    this.shuttingDown.add(key);
    this.remember(vmi);
    const namespace = vmi.metadata.namespace ?? "";
    const node = str(vmi, "status", "nodeName");
    const handler = { component: "virt-handler", host: node };
    if (str(vmi, "status", "phase") === "Running") {
      this.rt.event(vmi, "Normal", "ShuttingDown", "Signaled Graceful Shutdown", handler);
      this.rt.event(vmi, "Normal", "Deleted", "Signaled Deletion", handler);
    }
    const grace = Number(dig(vmi, "spec", "terminationGracePeriodSeconds") ?? 180);
    const wait = Math.min(shutdownMs, Math.max(1000, grace * 1000));
    this.rt.later(wait, `shutdown:${key}`, () => {
      const current = this.rt.get(R.vmi, namespace, vmi.metadata.name ?? "");
      if (!current || current.metadata.uid !== vmi.metadata.uid) return;
      const wasFinal = isFinal(current);
      if (!wasFinal)
        this.rt.event(current, "Normal", "Stopped", "The VirtualMachineInstance was shut down.", handler);
      for (const pod of this.rt.podsOf(vmi.metadata.uid)) {
        stopPod(this.rt, namespace, pod.metadata.name ?? "", false);
        this.rt.remove(R.pod, namespace, pod.metadata.name ?? "");
        this.rt.event(
          current,
          "Normal",
          "SuccessfulDelete",
          `Deleted virtual machine pod ${pod.metadata.name}`,
          vmController,
        );
      }
      if (!wasFinal) {
        this.rt.mutate(R.vmi, namespace, vmi.metadata.name ?? "", (o) => {
          (o.status as Record<string, unknown>).phase = "Succeeded";
        });
      }
      // The finalizers go a moment after the VMI is final and its pods are gone, as virt-controller
      // removes them on a later sync: the migration controller sees the final VMI first and fails
      // its unfinished migration, before the VMI's removal deletes them all.
      this.rt.later(1000, `finalize:${key}`, () => {
        this.shuttingDown.delete(key);
        const final = this.rt.get(R.vmi, namespace, vmi.metadata.name ?? "");
        if (!final || final.metadata.uid !== vmi.metadata.uid) return;
        this.rt.mutate(R.vmi, namespace, vmi.metadata.name ?? "", (o) => {
          o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => !vmiFinalizers.includes(f));
        });
      });
    });
  }

  private startLauncher(vmi: SimObject): void {
    const namespace = vmi.metadata.namespace ?? "";
    const existing = this.rt
      .list(R.pod, namespace)
      .find((p) => p.metadata.labels?.[createdBy] === vmi.metadata.uid);
    if (existing) return;
    const template = this.templates.get(`${namespace}/${vmi.metadata.name}`)?.pod;
    if (!template) return;
    const image = currentLauncherImage(this.rt) ?? computeImage(template);
    const oldImage = computeImage(template);
    const spec = structuredClone(template.spec ?? {}) as Record<string, unknown>;
    delete spec.nodeName;
    for (const list of ["containers", "initContainers"]) {
      for (const container of (spec[list] ?? []) as { image?: string }[]) {
        if (container.image === oldImage && image) container.image = image;
      }
    }
    const labels: Record<string, string> = {
      ...template.metadata.labels,
      [createdBy]: vmi.metadata.uid ?? "",
    };
    for (const label of ["kubevirt.io/nodeName", outdatedLauncherImageLabel, migrationJobLabel])
      delete labels[label];
    const annotations = { ...template.metadata.annotations };
    delete annotations["kubevirt.io/migrationJobName"];
    const pod = this.rt.create(R.pod, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `virt-launcher-${vmi.metadata.name}-`,
        namespace,
        labels,
        annotations,
        ownerReferences: [
          {
            apiVersion: "kubevirt.io/v1",
            kind: "VirtualMachineInstance",
            name: vmi.metadata.name ?? "",
            uid: vmi.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec,
      status: { phase: "Pending", qosClass: str(template, "status", "qosClass") },
    });
    this.rt.event(
      vmi,
      "Normal",
      "SuccessfulCreate",
      `Created virtual machine pod ${pod.metadata.name}`,
      vmController,
    );
    this.setVmiPhase(vmi, "Scheduling");
  }

  private setVmiPhase(
    vmi: SimObject,
    phase: string,
    change?: (status: Record<string, unknown>, o: SimObject) => void,
  ): void {
    const now = this.rt.stamp();
    this.rt.mutate(R.vmi, vmi.metadata.namespace, vmi.metadata.name ?? "", (o) => {
      const status = statusOf(o);
      status.phase = phase;
      const stamps = (status.phaseTransitionTimestamps ?? []) as { phase: string }[];
      if (!stamps.some((s) => s.phase === phase))
        status.phaseTransitionTimestamps = [...stamps, { phase, phaseTransitionTimestamp: now }];
      change?.(status, o);
    });
  }

  private followLauncher(vmi: SimObject): void {
    const namespace = vmi.metadata.namespace ?? "";
    const pod = this.rt
      .list(R.pod, namespace)
      .find((p) => p.metadata.labels?.[createdBy] === vmi.metadata.uid);
    if (!pod) return;
    const node = str(pod, "spec", "nodeName");
    if (str(vmi, "status", "phase") === "Scheduling" && node) {
      this.setVmiPhase(vmi, "Scheduled", (status) => {
        status.nodeName = node;
      });
      return;
    }
    if (str(pod, "status", "phase") !== "Running" || !node) return;
    const template = this.templates.get(`${namespace}/${vmi.metadata.name}`)?.vmi;
    const now = this.rt.stamp();
    const ip = str(pod, "status", "podIP");
    const oldIp = str(this.templates.get(`${namespace}/${vmi.metadata.name}`)?.pod, "status", "podIP");
    this.setVmiPhase(vmi, "Running", (status, o) => {
      const before = (template?.status ?? {}) as Record<string, unknown>;
      for (const field of [
        "conditions",
        "interfaces",
        "guestOSInfo",
        "machine",
        "memory",
        "migrationMethod",
        "selinuxContext",
        "runtimeUser",
        "volumeStatus",
        "currentCPUTopology",
        "virtualMachineRevisionName",
      ]) {
        if (before[field] !== undefined) status[field] = structuredClone(before[field]);
      }
      for (const condition of (status.conditions ?? []) as Record<string, unknown>[]) {
        condition.lastTransitionTime = now;
        condition.lastProbeTime = null;
      }
      for (const iface of (status.interfaces ?? []) as Record<string, unknown>[]) {
        if (ip && iface.ipAddress === oldIp) {
          iface.ipAddress = ip;
          iface.ipAddresses = [ip];
        }
      }
      status.nodeName = node;
      status.activePods = { [pod.metadata.uid ?? ""]: node };
      status.launcherContainerImageVersion = computeImage(pod);
      status.migrationTransport = "Unix";
      o.metadata.labels = { ...o.metadata.labels, "kubevirt.io/nodeName": node };
    });
    const handler = { component: "virt-handler", host: node };
    this.rt.event(vmi, "Normal", "Created", "VirtualMachineInstance defined.", handler);
    this.rt.event(vmi, "Normal", "Started", "VirtualMachineInstance started.", handler);
  }

  /** `launcherContainerImageVersion` and the outdated label, on the VMI and its pod (facts §e). */
  private launcherImage(vmi: SimObject): void {
    const current = currentLauncherImage(this.rt);
    const pod = this.activePod(vmi);
    if (!pod || !current) return;
    const image = computeImage(pod);
    const outdated = image !== undefined && image !== current;
    const hasLabel = vmi.metadata.labels?.[outdatedLauncherImageLabel] !== undefined;
    if (str(vmi, "status", "launcherContainerImageVersion") !== image || hasLabel !== outdated) {
      this.rt.mutate(R.vmi, vmi.metadata.namespace, vmi.metadata.name ?? "", (o) => {
        (o.status as Record<string, unknown>).launcherContainerImageVersion = image;
        const labels = { ...o.metadata.labels };
        if (outdated) labels[outdatedLauncherImageLabel] = "";
        else delete labels[outdatedLauncherImageLabel];
        o.metadata.labels = labels;
      });
    }
    if ((pod.metadata.labels?.[outdatedLauncherImageLabel] !== undefined) !== outdated) {
      this.rt.mutate(R.pod, pod.metadata.namespace, pod.metadata.name ?? "", (o) => {
        const labels = { ...o.metadata.labels };
        if (outdated) labels[outdatedLauncherImageLabel] = "";
        else delete labels[outdatedLauncherImageLabel];
        o.metadata.labels = labels;
      });
    }
  }
}
