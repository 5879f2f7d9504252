// The VirtualMachine and its running VirtualMachineInstance as virt-api, virt-controller and
// virt-handler leave them, with virt-handler's live-migratability verdict, and the template
// labels and annotations the launcher pod inherits.

import {
  dirtyRateAnnotation,
  kubevirtApiVersion,
  nonRootUid,
  outdatedLauncherImageLabel,
  resolvedMachineType,
} from "./constants.js";
import {
  binaryQuantity,
  compact,
  firmwareUuid,
  hashedPodInterfaceName,
  type Json,
  quantityBytes,
  rfc3339,
  sortKeysDeep,
} from "./format.js";
import { resolved, type VmDescription, type VmPlan, type VmVolumeDescription } from "./vm-plan.js";

function volumeSource(desc: VmDescription, volume: VmVolumeDescription): Json {
  const os = resolved(desc).os;
  switch (volume.kind) {
    case "containerDisk":
      return { name: volume.name, containerDisk: { image: volume.image ?? os.containerDisk } };
    case "pvc":
      return { name: volume.name, persistentVolumeClaim: { claimName: claimName(desc, volume) } };
    case "cloudInitNoCloud":
      return {
        name: volume.name,
        cloudInitNoCloud: {
          userData: `#cloud-config\nhostname: ${desc.name}\nssh_pwauth: false\nuser: cloud-user\n`,
        },
      };
  }
}

export function claimName(desc: VmDescription, volume: VmVolumeDescription): string {
  return volume.claimName ?? `${desc.name}-${volume.name}`;
}

export function templateLabels(desc: VmDescription): Record<string, string> {
  return { ...desc.labels, "kubevirt.io/vm": desc.name };
}

export function templateAnnotations(desc: VmDescription): Record<string, string> {
  const annotations: Record<string, string> = {
    ...desc.annotations,
    "kubevirt.io/pci-topology-version": "v3",
  };
  if (desc.dirtyRateMiBps !== undefined) annotations[dirtyRateAnnotation] = String(desc.dirtyRateMiBps);
  return annotations;
}

/** The VMI spec as the VM template writes it (`full` adds virt-api's defaults, as on a VMI). */
function vmiSpec(desc: VmDescription, full: boolean): Json {
  const r = resolved(desc);
  const guestBytes = quantityBytes(r.memory);
  const cpu: Json = full
    ? { cores: r.cores, maxSockets: 4, model: r.cpuModel, sockets: 1, threads: 1 }
    : compact({ cores: r.cores, model: desc.cpuModel });
  const memory: Json = full
    ? { guest: r.memory, maxGuest: binaryQuantity(guestBytes * 4) }
    : { guest: r.memory };
  return compact({
    architecture: "amd64",
    domain: compact({
      cpu,
      devices: {
        disks: r.volumes.map((volume) => ({ disk: { bus: "virtio" }, name: volume.name })),
        interfaces: r.networks.map((network) =>
          compact({
            [network.binding]: {},
            macAddress: network.macAddress,
            name: network.name,
          }),
        ),
      },
      features: full ? { acpi: { enabled: true } } : undefined,
      firmware: { uuid: firmwareUuid(desc.name) },
      machine: { type: "q35" },
      memory,
      resources: {},
    }),
    evictionStrategy: desc.evictionStrategy,
    networks: r.networks.map((network) =>
      network.multus
        ? { multus: { networkName: network.multus }, name: network.name }
        : { name: network.name, pod: {} },
    ),
    nodeSelector: desc.nodeSelector,
    terminationGracePeriodSeconds: r.grace,
    volumes: r.volumes.map((volume) => volumeSource(desc, volume)),
  });
}

interface MigratabilityVerdict {
  live: Json;
  storage: Json;
  method: "LiveMigration" | "BlockMigration";
}

/** virt-handler's LiveMigratable / StorageLiveMigratable conditions and migration method (pkg/virt-handler/vm.go). */
export function migratability(desc: VmDescription): MigratabilityVerdict {
  const r = resolved(desc);
  const allowPodBridge =
    desc.annotations?.["kubevirt.io/allow-pod-bridge-network-live-migration"] !== undefined;
  const podBridge =
    r.networks.some((network) => !network.multus && network.binding === "bridge") && !allowPodBridge;
  const interfaceMessage =
    "cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the pod network";

  let block = false;
  let diskError: string | undefined;
  for (const volume of r.volumes) {
    if (volume.kind === "pvc") {
      if ((volume.accessMode ?? "ReadWriteMany") !== "ReadWriteMany" && diskError === undefined) {
        block = true;
        diskError = `cannot migrate VMI: PVC ${claimName(desc, volume)} is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)`;
      }
    } else {
      // containerDisk and cloud-init volumes are local to the node: their data goes by block migration.
      block = true;
    }
  }

  const notMigratable = (reason: string, message: string) => ({
    lastProbeTime: null,
    lastTransitionTime: null,
    message,
    reason,
    status: "False",
    type: "LiveMigratable",
  });
  const live = podBridge
    ? notMigratable("InterfaceNotLiveMigratable", interfaceMessage)
    : diskError !== undefined
      ? notMigratable("DisksNotLiveMigratable", diskError)
      : { lastProbeTime: null, lastTransitionTime: null, status: "True", type: "LiveMigratable" };
  const storage = podBridge
    ? {
        lastProbeTime: null,
        lastTransitionTime: null,
        message: `InterfaceNotLiveMigratable: ${interfaceMessage}`,
        reason: "NotMigratable",
        status: "False",
        type: "StorageLiveMigratable",
      }
    : { lastProbeTime: null, lastTransitionTime: null, status: "True", type: "StorageLiveMigratable" };
  return { live, storage, method: block ? "BlockMigration" : "LiveMigration" };
}

/** Whether virt-handler reports the VMI as live-migratable. */
export function isLiveMigratable(desc: VmDescription): boolean {
  return migratability(desc).live.status === "True";
}

function vmiConditions(desc: VmDescription, plan: VmPlan): Json[] {
  const verdict = migratability(desc);
  const conditions: Json[] = [
    { lastProbeTime: null, lastTransitionTime: rfc3339(plan.times.podReady), status: "True", type: "Ready" },
    verdict.live,
    verdict.storage,
  ];
  if (resolved(desc).agent) {
    conditions.push({
      lastProbeTime: rfc3339(plan.times.agentConnected),
      lastTransitionTime: null,
      status: "True",
      type: "AgentConnected",
    });
  }
  return conditions;
}

function volumeSnapshotStatus(volume: VmVolumeDescription): Json {
  if (volume.kind === "pvc") return { enabled: true, name: volume.name };
  return {
    enabled: false,
    name: volume.name,
    reason: `Snapshot is not supported for this volumeSource type [${volume.name}]`,
  };
}

export function vm(desc: VmDescription, plan: VmPlan): Json {
  const r = resolved(desc);
  return sortKeysDeep({
    apiVersion: kubevirtApiVersion,
    kind: "VirtualMachine",
    metadata: compact({
      name: desc.name,
      namespace: desc.namespace,
      uid: plan.vmUid,
      creationTimestamp: rfc3339(plan.times.vmCreated),
      labels: desc.labels && Object.keys(desc.labels).length > 0 ? { ...desc.labels } : undefined,
      annotations: {
        "kubevirt.io/latest-observed-api-version": "v1",
        "kubevirt.io/storage-observed-api-version": "v1",
      },
      finalizers: ["kubevirt.io/virtualMachineControllerFinalize"],
    }),
    spec: {
      runStrategy: "Always",
      template: {
        metadata: { annotations: templateAnnotations(desc), labels: templateLabels(desc) },
        spec: vmiSpec(desc, false),
      },
    },
    status: {
      conditions: vmiConditions(desc, plan),
      created: true,
      // The store gives a new VM generation 1; the VMI was started from it.
      desiredGeneration: 1,
      observedGeneration: 1,
      printableStatus: "Running",
      ready: true,
      runStrategy: "Always",
      volumeSnapshotStatuses: r.volumes.map(volumeSnapshotStatus),
    },
  });
}

function interfaceStatuses(desc: VmDescription, plan: VmPlan): Json[] {
  const r = resolved(desc);
  return r.networks.map((network, index) => {
    const secondary = network.multus !== undefined;
    const sources = ["domain"];
    if (r.agent) sources.push("guest-agent");
    if (secondary) sources.push("multus-status");
    const ip = secondary ? (r.agent ? plan.secondaryIPs[network.name] : undefined) : plan.podIP;
    return compact({
      infoSource: sources.join(", "),
      interfaceName: r.agent ? r.os.interfaceNames[index] : undefined,
      ipAddress: ip,
      ipAddresses: ip === undefined ? undefined : [ip],
      linkState: "up",
      mac: plan.macs[network.name],
      name: network.name,
      podInterfaceName: secondary ? hashedPodInterfaceName(network.name) : "eth0",
      queueCount: 1,
    });
  });
}

function volumeStatus(
  desc: VmDescription,
  plan: VmPlan,
  volume: VmVolumeDescription,
  index: number,
): Json & { name: string } {
  const target = `vd${String.fromCharCode(97 + index)}`;
  if (volume.kind === "containerDisk") {
    return {
      containerDiskVolume: { checksum: plan.containerDiskChecksums[volume.name] ?? 0 },
      name: volume.name,
      target,
    };
  }
  if (volume.kind === "cloudInitNoCloud") return { name: volume.name, size: 1_048_576, target };
  const size = volume.size ?? "30Gi";
  const volumeMode = volume.volumeMode ?? "Block";
  return {
    name: volume.name,
    persistentVolumeClaimInfo: compact({
      accessModes: [volume.accessMode ?? "ReadWriteMany"],
      capacity: { storage: size },
      claimName: claimName(desc, volume),
      filesystemOverhead: volumeMode === "Filesystem" ? "0.055" : undefined,
      requests: { storage: size },
      volumeMode,
    }),
    target,
  };
}

function volumeStatuses(desc: VmDescription, plan: VmPlan): Json[] {
  return resolved(desc)
    .volumes.map((volume, index) => volumeStatus(desc, plan, volume, index))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function vmi(desc: VmDescription, plan: VmPlan): Json {
  const r = resolved(desc);
  const labels: Record<string, string> = { ...templateLabels(desc), "kubevirt.io/nodeName": desc.node };
  if (plan.outdated) labels[outdatedLauncherImageLabel] = "";
  const t = plan.times;
  return sortKeysDeep({
    apiVersion: kubevirtApiVersion,
    kind: "VirtualMachineInstance",
    metadata: {
      name: desc.name,
      namespace: desc.namespace,
      uid: plan.vmiUid,
      creationTimestamp: rfc3339(t.vmiCreated),
      labels,
      annotations: {
        ...templateAnnotations(desc),
        "kubevirt.io/latest-observed-api-version": "v1",
        "kubevirt.io/storage-observed-api-version": "v1",
        "kubevirt.io/vm-generation": "1",
      },
      finalizers: [
        "kubevirt.io/virtualMachineControllerFinalize",
        "kubevirt.io/foregroundDeleteVirtualMachine",
      ],
      ownerReferences: [
        {
          apiVersion: kubevirtApiVersion,
          blockOwnerDeletion: true,
          controller: true,
          kind: "VirtualMachine",
          name: desc.name,
          uid: plan.vmUid,
        },
      ],
    },
    spec: vmiSpec(desc, true),
    status: {
      activePods: { [plan.podUid]: desc.node },
      conditions: vmiConditions(desc, plan),
      currentCPUTopology: { cores: r.cores, sockets: 1, threads: 1 },
      evacuationNodeName: desc.evacuationNodeName,
      guestOSInfo: r.agent && r.os.info ? { ...r.os.info } : {},
      interfaces: interfaceStatuses(desc, plan),
      launcherContainerImageVersion: desc.launcherImage,
      machine: { type: resolvedMachineType },
      memory: { guestAtBoot: r.memory, guestCurrent: r.memory, guestRequested: r.memory },
      migrationMethod: migratability(desc).method,
      migrationTransport: "Unix",
      nodeName: desc.node,
      phase: "Running",
      phaseTransitionTimestamps: [
        { phase: "Pending", phaseTransitionTimestamp: rfc3339(t.vmiCreated) },
        { phase: "Scheduling", phaseTransitionTimestamp: rfc3339(t.podCreated) },
        { phase: "Scheduled", phaseTransitionTimestamp: rfc3339(t.vmiScheduled) },
        { phase: "Running", phaseTransitionTimestamp: rfc3339(t.vmiRunning) },
      ],
      qosClass: "Burstable",
      runtimeUser: nonRootUid,
      selinuxContext: "none",
      virtualMachineRevisionName: `revision-start-vm-${plan.vmUid}-1`,
      volumeStatus: volumeStatuses(desc, plan),
    },
  });
}
