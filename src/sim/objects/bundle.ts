// A running VM with everything that comes with it: the events the controllers record while it
// starts, the compute container's first log lines, and `vmBundle`, which builds them together with
// the VM, VMI and launcher pod.

import type { Random } from "../random.js";
import { kubevirtApiVersion, sessionLibvirtUri } from "./constants.js";
import { event, type ObjectReference } from "./events.js";
import type { Json } from "./format.js";
import { launcherPod } from "./launcher-pod.js";
import { type LauncherLogLineDescription, launcherLogLine } from "./logs.js";
import { migratability, vm, vmi } from "./vm.js";
import { planVm, type VmContext, type VmDescription, type VmPlan } from "./vm-plan.js";
/** The events the controllers record while the VM starts: on the VM, then on the VMI. */
export function vmStartEvents(desc: VmDescription, plan: VmPlan, random: Random): Json[] {
  const t = plan.times;
  const vmRef: ObjectReference = {
    apiVersion: kubevirtApiVersion,
    kind: "VirtualMachine",
    name: desc.name,
    namespace: desc.namespace,
    uid: plan.vmUid,
  };
  const vmiRef: ObjectReference = { ...vmRef, kind: "VirtualMachineInstance", uid: plan.vmiUid };
  const events: Json[] = [
    event(
      {
        involvedObject: vmRef,
        reason: "SuccessfulCreate",
        message: `Started the virtual machine by creating the new virtual machine instance ${desc.name}`,
        component: "virtualmachine-controller",
        firstTimestamp: t.vmiCreated,
      },
      random,
    ),
    event(
      {
        involvedObject: vmiRef,
        reason: "SuccessfulCreate",
        message: `Created virtual machine pod ${plan.podName}`,
        component: "virtualmachine-controller",
        firstTimestamp: t.podCreated,
      },
      random,
    ),
    event(
      {
        involvedObject: vmiRef,
        reason: "Created",
        message: "VirtualMachineInstance defined.",
        component: "virt-handler",
        host: desc.node,
        firstTimestamp: t.vmiRunning - 1_000,
      },
      random,
    ),
    event(
      {
        involvedObject: vmiRef,
        reason: "Started",
        message: "VirtualMachineInstance started.",
        component: "virt-handler",
        host: desc.node,
        firstTimestamp: t.vmiRunning,
      },
      random,
    ),
  ];
  const verdict = migratability(desc);
  // virt-handler warns when VMIMigratableOnEviction holds but the VMI cannot migrate: only with
  // LiveMigrate (LiveMigrateIfPossible needs a migratable VMI; External is not migrated by
  // KubeVirt): `pkg/virt-handler/vm.go`, `pkg/util/migrations/migrations.go`.
  if (desc.evictionStrategy === "LiveMigrate" && verdict.live.status === "False") {
    events.push(
      event(
        {
          involvedObject: vmiRef,
          reason: "Migrated",
          type: "Warning",
          message: `EvictionStrategy is set but vmi is not migratable; ${String(verdict.live.message)}`,
          component: "virt-handler",
          host: desc.node,
          count: random.int(2, 6),
          firstTimestamp: t.vmiRunning - 500,
          lastTimestamp: t.agentConnected,
        },
        random,
      ),
    );
  }
  return events;
}

/** The compute container's first log lines: virt-launcher starting and booting the domain. */
export function launcherStartupLogLines(desc: VmDescription, plan: VmPlan): { time: number; text: string }[] {
  const t = plan.times;
  const object = { namespace: desc.namespace, name: desc.name, kind: "", uid: plan.vmiUid };
  const domain = `${desc.namespace}_${desc.name}`;
  const start = t.containersStarted + 180.417;
  const boot = t.vmiRunning - 1_650.25;
  const lines: LauncherLogLineDescription[] = [
    { time: start, level: "info", pos: "manager.go:88", msg: "Collected all requested hook sidecar sockets" },
    {
      time: start + 0.211,
      level: "info",
      pos: "manager.go:91",
      msg: "Sorted all collected sidecar sockets per hook point based on their priority and name: map[]",
    },
    {
      time: start + 2.933,
      level: "info",
      pos: "libvirt.go:680",
      msg: `Connecting to libvirt daemon: ${sessionLibvirtUri}`,
    },
    { time: start + 1_012.37, level: "info", pos: "libvirt.go:695", msg: "Connected to libvirt daemon" },
    {
      time: start + 1_020.645,
      level: "info",
      pos: "client.go:638",
      msg: "Registered libvirt event notify callback",
    },
    { time: start + 1_021.09, level: "info", pos: "virt-launcher.go:85", msg: "Marked as ready" },
    {
      time: boot,
      level: "info",
      pos: "manager.go:895",
      msg: "Executing PreStartHook on VMI pod environment",
      object,
    },
    {
      time: boot + 3.118,
      level: "info",
      pos: "manager.go:904",
      msg: "Starting PreCloudInitIso hook",
      object,
    },
    { time: boot + 412.906, level: "info", pos: "manager.go:1651", msg: "Domain defined.", object },
    { time: boot + 415.2, level: "info", pos: "client.go:478", msg: `Domain name event: ${domain}` },
    { time: boot + 1_402.77, level: "info", pos: "manager.go:1612", msg: "Domain started.", object },
    { time: boot + 1_409.013, level: "info", pos: "server.go:269", msg: "Synced vmi", object },
  ];
  return lines.map((line) => ({ time: Math.floor(line.time), text: launcherLogLine(line) }));
}

export interface VmBundle {
  plan: VmPlan;
  vm: Json;
  vmi: Json;
  pod: Json;
  events: Json[];
  /** The compute container's log. */
  log: { namespace: string; pod: string; container: string; lines: { time: number; text: string }[] };
}

/** A running VM with everything that comes with it: VM, VMI, launcher pod, events and launcher log. */
export function vmBundle(desc: VmDescription, context: VmContext): VmBundle {
  const plan = planVm(desc, context);
  return {
    plan,
    vm: vm(desc, plan),
    vmi: vmi(desc, plan),
    pod: launcherPod(desc, plan),
    events: vmStartEvents(desc, plan, context.random),
    log: {
      namespace: desc.namespace,
      pod: plan.podName,
      container: "compute",
      lines: launcherStartupLogLines(desc, plan),
    },
  };
}
