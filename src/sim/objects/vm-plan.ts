// How a virtual machine is described (networks, volumes, guest OS presets) and its plan: the
// identities, addresses and times drawn for a running VM. The VM, VMI, launcher pod, bundle,
// history and stamp modules all build from a description and a plan.

import type { Random } from "../random.js";
import { type NodeNetwork, nodeIndex } from "./cluster.js";
import { generatedName, type Json } from "./format.js";
export interface VmNetworkDescription {
  name: string;
  binding: "masquerade" | "bridge";
  /** The NetworkAttachmentDefinition of a secondary network; unset means the pod network. */
  multus?: string;
  macAddress?: string;
}

export interface VmVolumeDescription {
  name: string;
  kind: "containerDisk" | "pvc" | "cloudInitNoCloud";
  /** containerDisk image; defaults to the guest OS's. */
  image?: string;
  /** pvc: claim name (default `<vm>-<volume>`), access mode (default ReadWriteMany), size (default 30Gi). */
  claimName?: string;
  accessMode?: "ReadWriteMany" | "ReadWriteOnce";
  size?: string;
  volumeMode?: "Filesystem" | "Block";
}

export type GuestOsName = "fedora" | "rhel9" | "centos-stream9" | "cirros" | "windows2022";

export interface VmDescription {
  name: string;
  namespace: string;
  /** The node the VMI runs on. */
  node: string;
  /** VM creation time. */
  createdAt: number;
  /** When the current VMI was created; defaults to 2 s after `createdAt`. */
  startedAt?: number;
  /** Guest memory, default "2Gi". */
  memory?: string;
  /** vCPU cores (1 socket, 1 thread), default 1. */
  cpuCores?: number;
  /** Simulated guest memory dirty rate in MiB/s (see `dirtyRateAnnotation`). */
  dirtyRateMiBps?: number;
  /** Default: one masquerade interface on the pod network, named "default". */
  networks?: readonly VmNetworkDescription[];
  /** Default: a containerDisk of the guest OS. */
  volumes?: readonly VmVolumeDescription[];
  nodeSelector?: Record<string, string>;
  /** The image of the VMI's virt-launcher pod (its `compute` container). */
  launcherImage: string;
  evictionStrategy?: "None" | "LiveMigrate" | "LiveMigrateIfPossible" | "External";
  /** Default "host-model". */
  cpuModel?: string;
  /** Default "fedora". */
  os?: GuestOsName;
  /** Whether the guest agent is connected; default depends on the OS (cirros has none). */
  guestAgent?: boolean;
  /** Labels on the VM and its template (so on the VMI and pod too). */
  labels?: Record<string, string>;
  /** Annotations on the VM template (propagated to the VMI and pod). */
  annotations?: Record<string, string>;
  /** Default 180. */
  terminationGracePeriodSeconds?: number;
  /** VMI `status.evacuationNodeName`: the eviction webhook marked it for evacuation from that node (facts §e). */
  evacuationNodeName?: string;
  /**
   * Node selector entries only the launcher pod carries (not the VM template), as virt-controller
   * renders them, e.g. `machine-type.node.kubevirt.io/pc-q35-rhel9.6.0: "true"`. (Host-model CPU
   * keys are never on the first launcher pod: KubeVirt adds them to migration target pods.)
   */
  launcherNodeSelector?: Record<string, string>;
}

interface GuestOsPreset {
  containerDisk: string;
  agent: boolean;
  info?: Json;
  /** Interface names inside the guest, by interface index. */
  interfaceNames: readonly string[];
}

const guestOsPresets: Readonly<Record<GuestOsName, GuestOsPreset>> = {
  fedora: {
    containerDisk: "quay.io/containerdisks/fedora:41",
    agent: true,
    info: {
      id: "fedora",
      kernelRelease: "6.11.4-301.fc41.x86_64",
      kernelVersion: "#1 SMP PREEMPT_DYNAMIC Sun Oct 20 15:02:33 UTC 2024",
      machine: "x86_64",
      name: "Fedora Linux",
      prettyName: "Fedora Linux 41 (Cloud Edition)",
      version: "41 (Cloud Edition)",
      versionId: "41",
    },
    interfaceNames: ["enp1s0", "enp2s0", "enp3s0"],
  },
  rhel9: {
    containerDisk: "registry.redhat.io/rhel9/rhel-guest-image:9.5",
    agent: true,
    info: {
      id: "rhel",
      kernelRelease: "5.14.0-503.11.1.el9_5.x86_64",
      kernelVersion: "#1 SMP PREEMPT_DYNAMIC Mon Sep 30 11:54:45 EDT 2024",
      machine: "x86_64",
      name: "Red Hat Enterprise Linux",
      prettyName: "Red Hat Enterprise Linux 9.5 (Plow)",
      version: "9.5 (Plow)",
      versionId: "9.5",
    },
    interfaceNames: ["enp1s0", "enp2s0", "enp3s0"],
  },
  "centos-stream9": {
    containerDisk: "quay.io/containerdisks/centos-stream:9",
    agent: true,
    info: {
      id: "centos",
      kernelRelease: "5.14.0-522.el9.x86_64",
      kernelVersion: "#1 SMP PREEMPT_DYNAMIC Fri Oct 11 20:34:03 UTC 2024",
      machine: "x86_64",
      name: "CentOS Stream",
      prettyName: "CentOS Stream 9",
      version: "9",
      versionId: "9",
    },
    interfaceNames: ["eth0", "eth1", "eth2"],
  },
  cirros: {
    containerDisk: "quay.io/kubevirt/cirros-container-disk-demo:v1.9.0",
    agent: false,
    interfaceNames: ["eth0", "eth1", "eth2"],
  },
  windows2022: {
    containerDisk: "registry.example.internal/windows/server2022:latest",
    agent: true,
    info: {
      id: "mswindows",
      kernelRelease: "20348",
      kernelVersion: "10.0",
      machine: "x86_64",
      name: "Microsoft Windows",
      prettyName: "Windows Server 2022 Datacenter",
      version: "Microsoft Windows Server 2022",
      versionId: "2022",
    },
    interfaceNames: ["Ethernet", "Ethernet 2", "Ethernet 3"],
  },
};

/** Everything about a running VM that is not in its description: identities, addresses, times. */
export interface VmPlan {
  vmUid: string;
  vmiUid: string;
  podUid: string;
  podName: string;
  node: NodeNetwork;
  podIP: string;
  /** MAC of each interface, by network name. */
  macs: Record<string, string>;
  /** Guest-reported IPs of secondary networks, by network name. */
  secondaryIPs: Record<string, string>;
  /** MACs of the pod's own interfaces (eth0 and the Multus ones), as the CNI plugins report them. */
  podMacs: Record<string, string>;
  /** Whether the launcher image differs from virt-controller's `--launcher-image`. */
  outdated: boolean;
  qemuTimeoutSeconds: number;
  qemuPid: number;
  containerIds: Record<string, string>;
  containerDiskChecksums: Record<string, number>;
  times: {
    vmCreated: number;
    vmiCreated: number;
    podCreated: number;
    initStarted: number;
    initFinished: number;
    containersStarted: number;
    podReady: number;
    vmiScheduled: number;
    vmiRunning: number;
    agentConnected: number;
  };
}

export interface VmContext {
  random: Random;
  /** virt-controller's `--launcher-image`: VMIs on another image are outdated. */
  currentLauncherImage: string;
  nodes: readonly NodeNetwork[];
  /** Pod IPs already handed out, shared across VMs so that addresses do not collide. */
  usedIPs?: Set<string>;
}

export function resolved(desc: VmDescription) {
  const os = guestOsPresets[desc.os ?? "fedora"];
  const networks = desc.networks ?? [{ name: "default", binding: "masquerade" as const }];
  const volumes = desc.volumes ?? [{ name: "containerdisk", kind: "containerDisk" as const }];
  return {
    os,
    agent: desc.guestAgent ?? os.agent,
    networks,
    volumes,
    memory: desc.memory ?? "2Gi",
    cores: desc.cpuCores ?? 1,
    cpuModel: desc.cpuModel ?? "host-model",
    grace: desc.terminationGracePeriodSeconds ?? 180,
  };
}

function macAddress(random: Pick<Random, "int">): string {
  const octet = () => random.int(0, 255).toString(16).padStart(2, "0");
  return `52:54:00:${octet()}:${octet()}:${octet()}`;
}

function allocateIP(cidr: string, used: Set<string>, random: Random): string {
  const base = cidr.split("/")[0]?.split(".").slice(0, 3).join(".") ?? "10.244.0";
  for (let attempt = 0; attempt < 1000; attempt++) {
    const ip = `${base}.${random.int(2, 254)}`;
    if (!used.has(ip)) {
      used.add(ip);
      return ip;
    }
  }
  throw new Error(`no free address left in ${cidr}`);
}

export function containerDiskContainerName(volume: string): string {
  return `volume${volume}`;
}

/** Names of all pod containers (init containers first) the launcher pod of this VM has. */
export function launcherContainerNames(desc: VmDescription): { init: string[]; main: string[] } {
  const containerDisks = resolved(desc).volumes.filter((volume) => volume.kind === "containerDisk");
  const init = ["guest-console-log"];
  if (containerDisks.length > 0) {
    init.push(
      "container-disk-binary",
      ...containerDisks.map((volume) => `${containerDiskContainerName(volume.name)}-init`),
    );
  }
  return {
    init,
    main: ["compute", ...containerDisks.map((volume) => containerDiskContainerName(volume.name))],
  };
}

/** Draws the identities, addresses and times of a running VM. Call with a per-VM `Random`. */
export function planVm(desc: VmDescription, context: VmContext): VmPlan {
  const { random } = context;
  const node = context.nodes.find((candidate) => candidate.name === desc.node);
  if (!node) throw new Error(`VM ${desc.namespace}/${desc.name}: unknown node ${desc.node}`);
  const r = resolved(desc);
  const used = context.usedIPs ?? new Set<string>();

  const vmCreated = desc.createdAt;
  const vmiCreated = desc.startedAt ?? vmCreated + 2_000;
  const podCreated = vmiCreated + random.int(100, 400);
  const initStarted = podCreated + random.int(1_000, 2_500);
  const initFinished = initStarted + random.int(1_000, 4_000);
  const containersStarted = initFinished + random.int(500, 1_500);
  const podReady = containersStarted + random.int(2_000, 5_000);
  const vmiScheduled = podReady + random.int(200, 800);
  const vmiRunning = vmiScheduled + random.int(2_000, 5_000);
  const agentConnected = vmiRunning + random.int(15_000, 40_000);

  const macs: Record<string, string> = {};
  const secondaryIPs: Record<string, string> = {};
  for (const network of r.networks) {
    macs[network.name] = network.macAddress ?? macAddress(random);
    if (network.multus)
      secondaryIPs[network.name] = `10.${nodeIndex(network.multus) % 256}.0.${random.int(10, 250)}`;
  }
  const podMacs: Record<string, string> = { eth0: macAddress(random).replace(/^52:54:00/, "0a:58:0a") };
  for (const network of r.networks) {
    if (network.multus) podMacs[network.name] = macAddress(random).replace(/^52:54:00/, "02:9c:1e");
  }
  const names = launcherContainerNames(desc);
  const containerIds: Record<string, string> = {};
  for (const name of [...names.init, ...names.main]) containerIds[name] = random.hex(64);
  const containerDiskChecksums: Record<string, number> = {};
  for (const volume of r.volumes) {
    if (volume.kind === "containerDisk")
      containerDiskChecksums[volume.name] = random.int(100_000_000, 4_294_967_295);
  }

  return {
    vmUid: random.uid(),
    vmiUid: random.uid(),
    podUid: random.uid(),
    podName: generatedName(`virt-launcher-${desc.name}-`, random),
    node,
    podIP: allocateIP(node.podCIDR, used, random),
    macs,
    secondaryIPs,
    podMacs,
    outdated: desc.launcherImage !== context.currentLauncherImage,
    qemuTimeoutSeconds: 240 + random.int(0, 119),
    qemuPid: random.int(60, 120),
    containerIds,
    containerDiskChecksums,
    times: {
      vmCreated,
      vmiCreated,
      podCreated,
      initStarted,
      initFinished,
      containersStarted,
      podReady,
      vmiScheduled,
      vmiRunning,
      agentConnected,
    },
  };
}
