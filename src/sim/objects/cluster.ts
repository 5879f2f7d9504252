// Cluster-level core objects: Namespaces and Nodes (with the labels virt-handler's node labeller
// adds), and the default addressing of a node that the VMs on it take their host and pod IPs from.

import type { Random } from "../random.js";
import { resolvedMachineType } from "./constants.js";
import { compact, goObject, type Json, quantityBytes, rfc3339 } from "./format.js";
// ---------------------------------------------------------------------------------------------
// Namespace
// ---------------------------------------------------------------------------------------------

export interface NamespaceDescription {
  name: string;
  createdAt: number;
  labels?: Record<string, string>;
}

export function namespace(desc: NamespaceDescription, random: Random): Json {
  return goObject({
    kind: "Namespace",
    apiVersion: "v1",
    metadata: {
      name: desc.name,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.createdAt),
      labels: { ...desc.labels, "kubernetes.io/metadata.name": desc.name },
    },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  });
}

// ---------------------------------------------------------------------------------------------
// Node
// ---------------------------------------------------------------------------------------------

export interface NodeDescription {
  name: string;
  createdAt: number;
  /** When the kubelet and virt-handler last reported; defaults to `createdAt`. */
  heartbeatAt?: number;
  /** Memory capacity, e.g. "32Gi". */
  memory?: string;
  cpu?: number;
  /** Kubelet Ready condition; false gives `Ready=Unknown` and the unreachable taints. */
  ready?: boolean;
  /** virt-handler's `kubevirt.io/schedulable` label. */
  schedulable?: boolean;
  /** Cordoned (`spec.unschedulable`). */
  cordoned?: boolean;
  /** More taints, e.g. KubeVirt's drain taint `kubevirt.io/drain:NoSchedule`. */
  taints?: readonly {
    key: string;
    value?: string;
    effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  }[];
  role?: "worker" | "control-plane";
  labels?: Record<string, string>;
  cpuModels?: readonly string[];
  hostModel?: string;
  kubeletVersion?: string;
  internalIP?: string;
  podCIDR?: string;
  osImage?: string;
  kernelVersion?: string;
  containerRuntimeVersion?: string;
}

/** Addressing of a node that VMs on it need: host IP and the pod CIDR their pod IPs come from. */
export interface NodeNetwork {
  name: string;
  internalIP: string;
  podCIDR: string;
}

export const defaultCpuModels: readonly string[] = [
  "Broadwell-noTSX",
  "Broadwell-noTSX-IBRS",
  "Cascadelake-Server-noTSX",
  "Haswell-noTSX",
  "Haswell-noTSX-IBRS",
  "IvyBridge",
  "IvyBridge-IBRS",
  "Nehalem",
  "Nehalem-IBRS",
  "Penryn",
  "SandyBridge",
  "SandyBridge-IBRS",
  "Skylake-Client-noTSX-IBRS",
  "Skylake-Server-noTSX-IBRS",
  "Westmere",
  "Westmere-IBRS",
];
export const defaultHostModel = "Cascadelake-Server";
const defaultCpuFeatures = [
  "abm",
  "adx",
  "aes",
  "avx512bw",
  "avx512vnni",
  "invtsc",
  "md-clear",
  "pdpe1gb",
  "ssbd",
];
const defaultHostModelRequiredFeatures = [
  "arch-capabilities",
  "hypervisor",
  "invtsc",
  "md-clear",
  "ssbd",
  "vmx",
];
const hypervFeatures = [
  "frequencies",
  "ipi",
  "reenlightenment",
  "reset",
  "runtime",
  "synic",
  "synictimer",
  "tlbflush",
  "vpindex",
];

export function nodeIndex(name: string): number {
  const match = /(\d+)$/.exec(name);
  return match ? Number(match[1]) : 0;
}

/** The default addressing of a node: `192.168.122.(10+n)`, pods in `10.244.n.0/24`, n from its name. */
export function nodeNetwork(desc: Pick<NodeDescription, "name" | "internalIP" | "podCIDR">): NodeNetwork {
  const n = nodeIndex(desc.name) % 240;
  return {
    name: desc.name,
    internalIP: desc.internalIP ?? `192.168.122.${10 + n}`,
    podCIDR: desc.podCIDR ?? `10.244.${n}.0/24`,
  };
}

function nodeCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  heartbeat: number,
  since: number,
) {
  return {
    type,
    status,
    lastHeartbeatTime: rfc3339(heartbeat),
    lastTransitionTime: rfc3339(since),
    reason,
    message,
  };
}

export function node(desc: NodeDescription, random: Random): Json {
  const net = nodeNetwork(desc);
  const ready = desc.ready ?? true;
  const schedulable = desc.schedulable ?? ready;
  const role = desc.role ?? "worker";
  const heartbeat = desc.heartbeatAt ?? desc.createdAt;
  const cpuModels = desc.cpuModels ?? defaultCpuModels;
  const hostModel = desc.hostModel ?? defaultHostModel;
  const kubeletVersion = desc.kubeletVersion ?? "v1.32.5";
  const capacityKi = Math.floor(quantityBytes(desc.memory ?? "32Gi") / 1024);
  const cpu = String(desc.cpu ?? 8);

  const labels: Record<string, string> = {
    "beta.kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/hostname": desc.name,
    "kubernetes.io/os": "linux",
    [`node-role.kubernetes.io/${role}`]: "",
    "kubevirt.io/schedulable": schedulable ? "true" : "false",
    "kubevirt.io/ksm-enabled": "false",
    "cpu-vendor.node.kubevirt.io/Intel": "true",
    [`host-model-cpu.node.kubevirt.io/${hostModel}`]: "true",
    "cpu-timer.node.kubevirt.io/tsc-frequency": "2294608000",
    "cpu-timer.node.kubevirt.io/tsc-scalable": "true",
    "machine-type.node.kubevirt.io/q35": "true",
    [`machine-type.node.kubevirt.io/${resolvedMachineType}`]: "true",
    "machine-type.node.kubevirt.io/pc-q35-rhel9.4.0": "true",
    "machine-type.node.kubevirt.io/pc-q35-rhel8.6.0": "true",
  };
  for (const model of cpuModels) {
    labels[`cpu-model.node.kubevirt.io/${model}`] = "true";
    labels[`cpu-model-migration.node.kubevirt.io/${model}`] = "true";
  }
  labels[`cpu-model-migration.node.kubevirt.io/${hostModel}`] = "true";
  // A node supports the features its own host model requires, so a host-model VM can always
  // migrate to a node of the same CPU (KubeVirt's target pod requires them as cpu-feature keys).
  for (const feature of [...defaultCpuFeatures, ...defaultHostModelRequiredFeatures]) {
    labels[`cpu-feature.node.kubevirt.io/${feature}`] = "true";
  }
  for (const feature of defaultHostModelRequiredFeatures) {
    labels[`host-model-required-features.node.kubevirt.io/${feature}`] = "true";
  }
  for (const feature of hypervFeatures) labels[`hyperv.node.kubevirt.io/${feature}`] = "true";
  Object.assign(labels, desc.labels);

  const taints: Json[] = [];
  if (role === "control-plane")
    taints.push({ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" });
  if (desc.cordoned) {
    taints.push({
      key: "node.kubernetes.io/unschedulable",
      effect: "NoSchedule",
      timeAdded: rfc3339(heartbeat),
    });
  }
  for (const taint of desc.taints ?? []) {
    taints.push(compact({ key: taint.key, value: taint.value, effect: taint.effect }));
  }
  if (!ready) {
    taints.push({
      key: "node.kubernetes.io/unreachable",
      effect: "NoSchedule",
      timeAdded: rfc3339(heartbeat),
    });
    taints.push({
      key: "node.kubernetes.io/unreachable",
      effect: "NoExecute",
      timeAdded: rfc3339(heartbeat),
    });
  }

  const kvmDevices = {
    "devices.kubevirt.io/kvm": "1k",
    "devices.kubevirt.io/tun": "1k",
    "devices.kubevirt.io/vhost-net": "1k",
  };
  const conditions = ready
    ? [
        nodeCondition(
          "MemoryPressure",
          "False",
          "KubeletHasSufficientMemory",
          "kubelet has sufficient memory available",
          heartbeat,
          desc.createdAt,
        ),
        nodeCondition(
          "DiskPressure",
          "False",
          "KubeletHasNoDiskPressure",
          "kubelet has no disk pressure",
          heartbeat,
          desc.createdAt,
        ),
        nodeCondition(
          "PIDPressure",
          "False",
          "KubeletHasSufficientPID",
          "kubelet has sufficient PID available",
          heartbeat,
          desc.createdAt,
        ),
        nodeCondition(
          "Ready",
          "True",
          "KubeletReady",
          "kubelet is posting ready status",
          heartbeat,
          desc.createdAt + 30_000,
        ),
      ]
    : ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map((type) =>
        nodeCondition(
          type,
          "Unknown",
          "NodeStatusUnknown",
          "Kubelet stopped posting node status.",
          heartbeat,
          heartbeat + 40_000,
        ),
      );

  return goObject({
    kind: "Node",
    apiVersion: "v1",
    metadata: {
      name: desc.name,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.createdAt),
      labels,
      annotations: {
        "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
        "kubevirt.io/heartbeat": rfc3339(heartbeat),
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: compact({
      podCIDR: net.podCIDR,
      podCIDRs: [net.podCIDR],
      taints: taints.length > 0 ? taints : undefined,
      unschedulable: desc.cordoned ? true : undefined,
    }),
    status: {
      capacity: {
        cpu,
        ...kvmDevices,
        "ephemeral-storage": "102625208Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: `${capacityKi}Ki`,
        pods: "110",
      },
      allocatable: {
        cpu,
        ...kvmDevices,
        "ephemeral-storage": "94580335255",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: `${capacityKi - 102_400}Ki`,
        pods: "110",
      },
      conditions,
      addresses: [
        { type: "InternalIP", address: net.internalIP },
        { type: "Hostname", address: desc.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: random.hex(32),
        systemUUID: random.uid(),
        bootID: random.uid(),
        kernelVersion: desc.kernelVersion ?? "6.8.0-60-generic",
        osImage: desc.osImage ?? "Ubuntu 24.04.2 LTS",
        containerRuntimeVersion: desc.containerRuntimeVersion ?? "containerd://1.7.27",
        kubeletVersion,
        operatingSystem: "linux",
        architecture: "amd64",
      },
    },
  });
}
