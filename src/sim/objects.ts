// Builders of realistic Kubernetes and KubeVirt objects for the simulated API server, from compact,
// plain-data descriptions (scenario files will supply them as YAML).
//
// The shapes follow what the real writers produce (KubeVirt v1.9: virt-api's mutating webhooks,
// virt-controller, virt-handler, virt-operator; Kubernetes v1.32: kubelet, kube-controller-manager,
// client-go's event recorder). Sources are cited next to the less obvious choices.
//
// Conventions:
// - Builders return plain JSON objects; none sets `metadata.resourceVersion` or `metadata.generation`,
//   which the store assigns. Seeded objects do bring their own `uid` and `creationTimestamp`.
// - Times in descriptions are epoch milliseconds of the simulated clock; objects carry RFC 3339
//   timestamps at second precision, as metav1.Time serialises.
// - Custom resources (KubeVirt kinds, NetworkAttachmentDefinitions) are returned with their keys
//   sorted at every level, as kube-apiserver serialises unstructured objects; core objects keep the
//   field order of their Go structs.
// - Every random choice comes from the `Random` passed in, so a seed reproduces the same objects.

import { createHash } from "node:crypto";
import { MigrationModel, migrationAbortLogMessage, migrationInfoMessage } from "./migration-model.js";
import type { Random } from "./random.js";

export type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Time, naming and formatting helpers
// ---------------------------------------------------------------------------------------------

/** `metav1.Time` as the API server writes it: RFC 3339, second precision, UTC (`2025-01-02T03:04:05Z`). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** KubeVirt's log timestamp, Go layout `2006-01-02T15:04:05.000000Z` (microseconds, always UTC). */
export function kubevirtLogTimestamp(ms: number): string {
  const micros = Math.round(ms * 1000);
  const whole = Math.floor(micros / 1000);
  const iso = new Date(whole).toISOString();
  return `${iso.slice(0, 23)}${String(micros - whole * 1000).padStart(3, "0")}Z`;
}

/** Returns a copy with object keys sorted at every level (how unstructured objects are serialised). */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => sortKeysDeep(item)) as T;
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Json)[key];
    if (item !== undefined) out[key] = sortKeysDeep(item);
  }
  return out as T;
}

/** Fields that are Go maps in the core API types: encoding/json writes their keys sorted. */
const goMapFields = new Set([
  "labels",
  "annotations",
  "nodeSelector",
  "matchLabels",
  "limits",
  "requests",
  "capacity",
  "allocatable",
]);

/**
 * A deep copy of a core object in which the map-typed fields (labels, annotations, resource lists,
 * ...) have sorted keys, as encoding/json writes Go maps, while struct fields keep their order.
 */
export function goObject<T>(value: T, key = ""): T {
  if (Array.isArray(value)) return value.map((item) => goObject(item)) as T;
  if (typeof value !== "object" || value === null) return value;
  const keys = Object.keys(value);
  if (goMapFields.has(key)) keys.sort();
  const out: Json = {};
  for (const name of keys) {
    const item = (value as Json)[name];
    if (item !== undefined) out[name] = goObject(item, name);
  }
  return out as T;
}

/** Drops keys whose value is undefined (keeps the key order of the rest). */
function compact<T extends Json>(object: T): T {
  for (const key of Object.keys(object)) if (object[key] === undefined) delete object[key];
  return object;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A name-based (version 5, SHA-1) UUID, as Go's `uuid.NewSHA1(namespace, name)`. */
export function uuidV5(namespaceUuid: string, name: string): string {
  const ns = Buffer.from(namespaceUuid.replace(/-/g, ""), "hex");
  const bytes = createHash("sha1").update(ns).update(name).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The firmware UUID virt-controller gives a VM (`CalculateLegacyUUID`, pkg/virt-controller/watch/vm/firmware.go). */
export function firmwareUuid(vmName: string): string {
  return uuidV5("6a1a24a1-4061-4607-8bf4-a3963d0c5895", vmName);
}

/** A stable image digest: the same image reference always resolves to the same `sha256:` digest. */
export function imageDigest(image: string): string {
  return `sha256:${sha256Hex(`image:${image}`)}`;
}

/** The `imageID` the kubelet reports for an image: `<repository>@sha256:<digest>`. */
export function imageId(image: string): string {
  const at = image.indexOf("@");
  if (at >= 0) return image;
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  const repository = colon > slash ? image.slice(0, colon) : image;
  return `${repository}@${imageDigest(image)}`;
}

/** The pod interface name of a secondary (Multus) network: `pod` + 11 hex digits of sha256(network name). */
export function hashedPodInterfaceName(networkName: string): string {
  return `pod${sha256Hex(networkName).slice(0, 11)}`;
}

/** The pod name the API server makes from a generateName: the prefix cut to 58 characters plus 5 random ones. */
export function generatedName(generateName: string, random: Random): string {
  return `${generateName.slice(0, 58)}${random.suffix(5)}`;
}

/** The `vmi.kubevirt.io/id` label: the VMI name, or its first 54 characters and a hash when longer than 63. */
export function vmiIdLabel(vmiName: string): string {
  if (vmiName.length <= 63) return vmiName;
  return `${vmiName.slice(0, 54)}-${createHash("sha1").update(vmiName).digest("hex").slice(0, 8)}`;
}

/** The launcher pod's hostname (`dns.SanitizeHostname`): the name up to its first dot, at most 63 characters. */
export function sanitizeHostname(vmiName: string): string {
  return (vmiName.split(".")[0] ?? vmiName).slice(0, 63);
}

/** Go's `%x` of a Unix nanosecond time, as client-go's event names end (`<object>.<hex>`). */
function eventNameSuffix(ms: number, random: Random): string {
  const nanos = BigInt(Math.floor(ms)) * 1_000_000n + BigInt(random.int(0, 999_999));
  return nanos.toString(16);
}

/** Parses a binary or decimal quantity ("4Gi", "512Mi", "2G", "1024") into bytes. */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGTPE]i?|k)?$/.exec(quantity.trim());
  if (!match) throw new Error(`unsupported quantity ${JSON.stringify(quantity)}`);
  const value = Number(match[1]);
  const unit = match[2] ?? "";
  const binary: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
  const decimal: Record<string, number> = { k: 1, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };
  if (unit in binary) return value * 1024 ** (binary[unit] ?? 0);
  if (unit in decimal) return value * 1000 ** (decimal[unit] ?? 0);
  return value;
}

function mebibytes(quantity: string): number {
  return Math.ceil(quantityBytes(quantity) / 1024 ** 2);
}

/** Formats a byte count as a Kubernetes binary quantity in the largest exact unit. */
function binaryQuantity(bytes: number): string {
  const units = ["", "Ki", "Mi", "Gi", "Ti"];
  let value = bytes;
  let unit = 0;
  while (unit < units.length - 1 && value % 1024 === 0 && value >= 1024) {
    value /= 1024;
    unit++;
  }
  return `${value}${units[unit]}`;
}

// ---------------------------------------------------------------------------------------------
// Shared constants (KubeVirt v1.9 spellings)
// ---------------------------------------------------------------------------------------------

export const kubevirtApiVersion = "kubevirt.io/v1";
export const outdatedLauncherImageLabel = "kubevirt.io/outdatedLauncherImage";
/** Launcher logs' libvirt URI for a non-root VMI (cmd/virt-launcher/virt-launcher.go). */
const sessionLibvirtUri = "qemu+unix:///session?socket=/var/run/libvirt/virtqemud-sock";
/** The qemu machine type q35 resolves to in the v1.9 launcher image. */
export const resolvedMachineType = "pc-q35-rhel9.6.0";
/** The non-root uid/gid virt-launcher runs as (`util.NonRootUID`). */
const nonRootUid = 107;

/**
 * Annotation carrying the simulated guest's memory dirty rate (MiB/s). It is a user annotation on
 * the VM template, so KubeVirt propagates it to the VMI and the launcher pod like any other; the
 * migration simulation reads it from there.
 */
export const dirtyRateAnnotation = "sim.kvmig.dev/dirty-rate-mibps";

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

function nodeIndex(name: string): number {
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
  for (const feature of defaultCpuFeatures) labels[`cpu-feature.node.kubevirt.io/${feature}`] = "true";
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

// ---------------------------------------------------------------------------------------------
// KubeVirt installation: the KubeVirt CR and the component Deployments
// ---------------------------------------------------------------------------------------------

export interface KubeVirtInstallDescription {
  createdAt: number;
  /** Default "v1.9.0". */
  version?: string;
  /** Default "quay.io/kubevirt". */
  registry?: string;
  /** Default "kubevirt". */
  namespace?: string;
  /** `spec.configuration.migrations`. */
  migrations?: Json;
  /** `spec.workloadUpdateStrategy`; defaults to LiveMigrate, 10 per 1m0s. */
  workloadUpdateStrategy?: Json;
  featureGates?: readonly string[];
  /** When the current version finished rolling out (the conditions' times); default 95 s after `createdAt`. */
  deployedAt?: number;
  /** `status.outdatedVirtualMachineInstanceWorkloads`. */
  outdatedWorkloads?: number;
  /**
   * The version observed before an upgrade that is still rolling out; when set (and different),
   * the CR shows phase Deploying with the UpdateInProgress conditions.
   */
  observedVersion?: string;
}

/** The virt-launcher image virt-operator configures for a version: `<registry>/virt-launcher:<version>`. */
export function launcherImageFor(desc: Pick<KubeVirtInstallDescription, "registry" | "version">): string {
  return `${desc.registry ?? "quay.io/kubevirt"}/virt-launcher:${desc.version ?? "v1.9.0"}`;
}

function deploymentConfig(registry: string, version: string, ns: string): { id: string; json: string } {
  const additionalProperties = { HypervisorName: "kvm", ImagePrefix: "", ImagePullPolicy: "IfNotPresent" };
  const seed = `ID|Namespace${ns}|Registry${registry}|KubeVirtVersion${version}|${JSON.stringify(additionalProperties)}`;
  const id = createHash("sha1").update(seed).digest("hex");
  const json = JSON.stringify({
    id,
    namespace: ns,
    registry,
    kubeVirtVersion: version,
    virtOperatorImage: `${registry}/virt-operator:${version}`,
    additionalProperties,
  });
  return { id, json };
}

export function kubevirtCR(desc: KubeVirtInstallDescription, random: Random): Json {
  const version = desc.version ?? "v1.9.0";
  const registry = desc.registry ?? "quay.io/kubevirt";
  const ns = desc.namespace ?? "kubevirt";
  const observedVersion = desc.observedVersion ?? version;
  const target = deploymentConfig(registry, version, ns);
  const observed = deploymentConfig(registry, observedVersion, ns);
  const upgrading = observedVersion !== version;
  const deployedAt = desc.deployedAt ?? desc.createdAt + 95_000;

  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastProbeTime: rfc3339(deployedAt),
    lastTransitionTime: rfc3339(deployedAt),
  });
  const conditions = upgrading
    ? ["Available", "Progressing", "Degraded"].map((type) =>
        condition(
          type,
          "True",
          "UpdateInProgress",
          `Transitioning from previous version ${observedVersion} with registry ${registry} to target version ${version} using registry ${registry}`,
        ),
      )
    : [
        condition("Available", "True", "AllComponentsReady", "All components are ready."),
        condition("Progressing", "False", "AllComponentsReady", "All components are ready."),
        condition("Degraded", "False", "AllComponentsReady", "All components are ready."),
        {
          ...condition("Created", "True", "AllResourcesCreated", "All resources were created."),
          lastTransitionTime: null,
        },
      ];

  const generation = (
    group: string,
    resource: string,
    name: string,
    lastGeneration: number,
    namespaced = true,
  ) =>
    compact({
      group,
      resource,
      name,
      namespace: namespaced ? ns : undefined,
      lastGeneration,
      hash: namespaced && group === "apps" ? random.hex(32) : undefined,
    });

  return sortKeysDeep({
    apiVersion: kubevirtApiVersion,
    kind: "KubeVirt",
    metadata: {
      name: "kubevirt",
      namespace: ns,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.createdAt),
      annotations: {
        "kubevirt.io/latest-observed-api-version": "v1",
        "kubevirt.io/storage-observed-api-version": "v1",
      },
      finalizers: ["kubevirt.io/foregroundDeleteKubeVirt"],
    },
    spec: compact({
      certificateRotateStrategy: {},
      configuration: compact({
        developerConfiguration: { featureGates: [...(desc.featureGates ?? [])] },
        migrations: desc.migrations,
      }),
      customizeComponents: {},
      imagePullPolicy: "IfNotPresent",
      workloadUpdateStrategy: desc.workloadUpdateStrategy ?? {
        workloadUpdateMethods: ["LiveMigrate"],
        batchEvictionSize: 10,
        batchEvictionInterval: "1m0s",
      },
    }),
    status: {
      conditions,
      defaultArchitecture: "amd64",
      generations: [
        generation(
          "admissionregistration.k8s.io",
          "validatingwebhookconfigurations",
          "virt-operator-validator",
          1,
          false,
        ),
        generation(
          "admissionregistration.k8s.io",
          "validatingwebhookconfigurations",
          "virt-api-validator",
          1,
          false,
        ),
        generation(
          "admissionregistration.k8s.io",
          "mutatingwebhookconfigurations",
          "virt-api-mutator",
          1,
          false,
        ),
        generation("apps", "deployments", "virt-api", 1),
        generation("apps", "deployments", "virt-controller", 1),
        generation("apps", "daemonsets", "virt-handler", 1),
        generation("policy", "poddisruptionbudgets", "virt-api-pdb", 1),
        generation("policy", "poddisruptionbudgets", "virt-controller-pdb", 1),
      ],
      observedDeploymentConfig: observed.json,
      observedDeploymentID: observed.id,
      observedGeneration: 1,
      observedKubeVirtRegistry: registry,
      observedKubeVirtVersion: observedVersion,
      operatorVersion: version,
      outdatedVirtualMachineInstanceWorkloads: desc.outdatedWorkloads ?? 0,
      phase: upgrading ? "Deploying" : "Deployed",
      targetDeploymentConfig: target.json,
      targetDeploymentID: target.id,
      targetKubeVirtRegistry: registry,
      targetKubeVirtVersion: version,
    },
  });
}

export interface ComponentDeploymentDescription {
  createdAt: number;
  version?: string;
  registry?: string;
  namespace?: string;
  /** virt-controller only: the `--launcher-image` argument; defaults to `launcherImageFor(version)`. */
  launcherImage?: string;
  replicas?: number;
  readyReplicas?: number;
}

interface ComponentSpec {
  name: string;
  serviceAccount: string;
  args: string[];
  ports: Json[];
  requests: Record<string, string>;
  env?: Json[];
}

function componentDeployment(
  desc: ComponentDeploymentDescription,
  component: ComponentSpec,
  random: Random,
): Json {
  const version = desc.version ?? "v1.9.0";
  const registry = desc.registry ?? "quay.io/kubevirt";
  const ns = desc.namespace ?? "kubevirt";
  const replicas = desc.replicas ?? 2;
  const ready = Math.min(desc.readyReplicas ?? replicas, replicas);
  const image = `${registry}/${component.name}:${version}`;
  const config = deploymentConfig(registry, version, ns);
  const rolledOutAt = desc.createdAt + 40_000;
  const podTemplateHash = random.suffix(10);
  const installAnnotations = {
    "kubevirt.io/install-strategy-identifier": config.id,
    "kubevirt.io/install-strategy-registry": registry,
    "kubevirt.io/install-strategy-version": version,
  };
  const labels = {
    "app.kubernetes.io/component": "kubevirt",
    "app.kubernetes.io/managed-by": "virt-operator",
    "kubevirt.io": component.name,
  };
  return goObject({
    kind: "Deployment",
    apiVersion: "apps/v1",
    metadata: {
      name: component.name,
      namespace: ns,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.createdAt),
      labels,
      annotations: {
        "deployment.kubernetes.io/revision": "1",
        ...installAnnotations,
        "kubevirt.io/customizer-identifier": random.hex(40),
        "kubevirt.io/generation": "1",
      },
    },
    spec: {
      replicas,
      selector: { matchLabels: { "kubevirt.io": component.name } },
      template: {
        metadata: {
          labels: { ...labels, "prometheus.kubevirt.io": "true" },
          annotations: { ...installAnnotations, "openshift.io/required-scc": "restricted-v2" },
        },
        spec: {
          containers: [
            compact({
              name: component.name,
              image,
              command: [component.name],
              args: component.args,
              ports: component.ports,
              env: component.env,
              resources: { requests: component.requests },
              terminationMessagePath: "/dev/termination-log",
              terminationMessagePolicy: "File",
              imagePullPolicy: "IfNotPresent",
              securityContext: {
                capabilities: { drop: ["ALL"] },
                allowPrivilegeEscalation: false,
                seccompProfile: { type: "RuntimeDefault" },
              },
            }),
          ],
          restartPolicy: "Always",
          terminationGracePeriodSeconds: 30,
          dnsPolicy: "ClusterFirst",
          nodeSelector: { "kubernetes.io/os": "linux" },
          serviceAccountName: component.serviceAccount,
          serviceAccount: component.serviceAccount,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 1,
                  podAffinityTerm: {
                    labelSelector: {
                      matchExpressions: [{ key: "kubevirt.io", operator: "In", values: [component.name] }],
                    },
                    topologyKey: "kubernetes.io/hostname",
                  },
                },
              ],
            },
          },
          schedulerName: "default-scheduler",
          tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
          priorityClassName: "kubevirt-cluster-critical",
        },
      },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: compact({
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: ready > 0 ? ready : undefined,
      availableReplicas: ready > 0 ? ready : undefined,
      unavailableReplicas: ready < replicas ? replicas - ready : undefined,
      conditions: [
        {
          type: "Available",
          status: ready > 0 ? "True" : "False",
          lastUpdateTime: rfc3339(rolledOutAt),
          lastTransitionTime: rfc3339(rolledOutAt),
          reason: ready > 0 ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
          message:
            ready > 0
              ? "Deployment has minimum availability."
              : "Deployment does not have minimum availability.",
        },
        {
          type: "Progressing",
          status: "True",
          lastUpdateTime: rfc3339(rolledOutAt),
          lastTransitionTime: rfc3339(desc.createdAt),
          reason: "NewReplicaSetAvailable",
          message: `ReplicaSet "${component.name}-${podTemplateHash}" has successfully progressed.`,
        },
      ],
    }),
  });
}

export function virtControllerDeployment(desc: ComponentDeploymentDescription, random: Random): Json {
  const registry = desc.registry ?? "quay.io/kubevirt";
  const version = desc.version ?? "v1.9.0";
  return componentDeployment(
    desc,
    {
      name: "virt-controller",
      serviceAccount: "kubevirt-controller",
      args: [
        "--launcher-image",
        desc.launcherImage ?? launcherImageFor({ registry, version }),
        "--exporter-image",
        `${registry}/virt-exportserver:${version}`,
        "--port",
        "8443",
        "-v",
        "2",
      ],
      ports: [{ name: "metrics", containerPort: 8443, protocol: "TCP" }],
      requests: { cpu: "10m", memory: "275Mi" },
      env: [{ name: "SIDECAR_SHIM_IMAGE", value: `${registry}/sidecar-shim:${version}` }],
    },
    random,
  );
}

export function virtApiDeployment(desc: ComponentDeploymentDescription, random: Random): Json {
  return componentDeployment(
    desc,
    {
      name: "virt-api",
      serviceAccount: "kubevirt-apiserver",
      args: ["--port", "8443", "--console-server-port", "8186", "--subresources-only", "-v", "2"],
      ports: [
        { name: "virt-api", containerPort: 8443, protocol: "TCP" },
        { name: "metrics", containerPort: 8443, protocol: "TCP" },
      ],
      requests: { cpu: "5m", memory: "500Mi" },
    },
    random,
  );
}

export function virtOperatorDeployment(desc: ComponentDeploymentDescription, random: Random): Json {
  const registry = desc.registry ?? "quay.io/kubevirt";
  const version = desc.version ?? "v1.9.0";
  return componentDeployment(
    desc,
    {
      name: "virt-operator",
      serviceAccount: "kubevirt-operator",
      args: ["--port", "8443", "-v", "2"],
      ports: [
        { name: "metrics", containerPort: 8443, protocol: "TCP" },
        { name: "webhooks", containerPort: 8444, protocol: "TCP" },
      ],
      requests: { cpu: "10m", memory: "450Mi" },
      env: [
        { name: "VIRT_OPERATOR_IMAGE", value: `${registry}/virt-operator:${version}` },
        {
          name: "WATCH_NAMESPACE",
          valueFrom: {
            fieldRef: { apiVersion: "v1", fieldPath: "metadata.annotations['olm.targetNamespaces']" },
          },
        },
        { name: "KUBEVIRT_VERSION", value: version },
      ],
    },
    random,
  );
}

// ---------------------------------------------------------------------------------------------
// MigrationPolicy and NetworkAttachmentDefinition
// ---------------------------------------------------------------------------------------------

export interface MigrationPolicyDescription {
  name: string;
  createdAt: number;
  namespaceSelector?: Record<string, string>;
  virtualMachineInstanceSelector?: Record<string, string>;
  allowAutoConverge?: boolean;
  allowPostCopy?: boolean;
  allowWorkloadDisruption?: boolean;
  bandwidthPerMigration?: string;
  completionTimeoutPerGiB?: number;
  maxDowntimeMs?: number;
}

export function migrationPolicy(desc: MigrationPolicyDescription, random: Random): Json {
  const { name, createdAt, namespaceSelector, virtualMachineInstanceSelector, ...settings } = desc;
  return sortKeysDeep({
    apiVersion: "migrations.kubevirt.io/v1alpha1",
    kind: "MigrationPolicy",
    metadata: { name, uid: random.uid(), creationTimestamp: rfc3339(createdAt) },
    spec: compact({ ...settings, selectors: compact({ namespaceSelector, virtualMachineInstanceSelector }) }),
  });
}

export interface NetworkAttachmentDefinitionDescription {
  name: string;
  namespace: string;
  createdAt: number;
  /** The CNI config as a JSON string; by default a Linux bridge CNI on `bridge` with `vlan`. */
  config?: string;
  /** Default "br1". */
  bridge?: string;
  vlan?: number;
}

export function networkAttachmentDefinition(
  desc: NetworkAttachmentDefinitionDescription,
  random: Random,
): Json {
  const config =
    desc.config ??
    JSON.stringify({
      cniVersion: "0.3.1",
      name: desc.name,
      type: "bridge",
      bridge: desc.bridge ?? "br1",
      ...(desc.vlan !== undefined ? { vlan: desc.vlan } : {}),
      macspoofchk: true,
      ipam: {},
    });
  return sortKeysDeep({
    apiVersion: "k8s.cni.cncf.io/v1",
    kind: "NetworkAttachmentDefinition",
    metadata: {
      name: desc.name,
      namespace: desc.namespace,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.createdAt),
      annotations: {
        "k8s.v1.cni.cncf.io/resourceName": `bridge.network.kubevirt.io/${desc.bridge ?? "br1"}`,
      },
    },
    spec: { config },
  });
}

// ---------------------------------------------------------------------------------------------
// Events (core v1, as client-go's record.EventRecorder writes them)
// ---------------------------------------------------------------------------------------------

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
  /** The involved object's resourceVersion when the event was recorded; left out when unknown. */
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventDescription {
  involvedObject: ObjectReference;
  reason: string;
  type?: "Normal" | "Warning";
  message: string;
  /** `source.component`, e.g. "virt-handler", "virtualmachine-controller". */
  component: string;
  /** `source.host`: set by virt-handler (its node), empty for virt-controller. */
  host?: string;
  count?: number;
  firstTimestamp: number;
  lastTimestamp?: number;
  /** Default: the component (client-go copies source.component). */
  reportingComponent?: string;
  /** Default: the host, or "" (client-go copies source.host). */
  reportingInstance?: string;
}

export function event(desc: EventDescription, random: Random): Json {
  const ref = desc.involvedObject;
  const ns = ref.namespace ?? "default";
  return {
    kind: "Event",
    apiVersion: "v1",
    metadata: {
      name: `${ref.name}.${eventNameSuffix(desc.firstTimestamp, random)}`,
      namespace: ns,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.firstTimestamp),
    },
    involvedObject: compact({
      kind: ref.kind,
      namespace: ref.namespace,
      name: ref.name,
      uid: ref.uid,
      apiVersion: ref.apiVersion,
      resourceVersion: ref.resourceVersion,
      fieldPath: ref.fieldPath,
    }),
    reason: desc.reason,
    message: desc.message,
    source: compact({ component: desc.component, host: desc.host }),
    firstTimestamp: rfc3339(desc.firstTimestamp),
    lastTimestamp: rfc3339(desc.lastTimestamp ?? desc.firstTimestamp),
    count: desc.count ?? 1,
    type: desc.type ?? "Normal",
    eventTime: null,
    reportingComponent: desc.reportingComponent ?? desc.component,
    reportingInstance: desc.reportingInstance ?? desc.host ?? "",
  };
}

/** The reference client-go puts in `involvedObject` for an object built here. */
export function referenceTo(object: Json): ObjectReference {
  const meta = (object.metadata ?? {}) as Json;
  return compact({
    apiVersion: String(object.apiVersion),
    kind: String(object.kind),
    name: String(meta.name),
    namespace: typeof meta.namespace === "string" ? meta.namespace : undefined,
    uid: String(meta.uid),
    resourceVersion: typeof meta.resourceVersion === "string" ? meta.resourceVersion : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// virt-launcher log lines
// ---------------------------------------------------------------------------------------------

export interface LauncherLogLineDescription {
  /** Epoch ms (fractions give the microseconds). */
  time: number;
  level: "info" | "warning" | "error";
  msg: string;
  /** `file.go:line` of the logging call. */
  pos: string;
  /** Default "virt-launcher". */
  component?: string;
  /** For object-scoped lines (`log.Log.Object(vmi)`); the launcher's VMI usually has an empty kind. */
  object?: { namespace?: string; name: string; kind?: string; uid: string };
  /** The error of `log.Log.Reason(err)`. */
  reason?: string;
  /** More key/value pairs (e.g. `source`, `iteration` with stall detection). */
  fields?: Record<string, string | number | boolean>;
}

/** A JSON string as Go's encoding/json writes it with SetEscapeHTML(false). */
function goJsonString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '"') out += '\\"';
    else if (char === "\\") out += "\\\\";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x2028 || code === 0x2029)
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += char;
  }
  return `${out}"`;
}

function goJsonValue(value: string | number | boolean): string {
  return typeof value === "string" ? goJsonString(value) : JSON.stringify(value);
}

/**
 * One virt-launcher log line, exactly as KubeVirt's logger writes it: go-kit's JSON logger encodes
 * a map, so the keys come out sorted (`component, kind, level, msg, name, namespace, pos, timestamp,
 * uid`), without a trailing newline here.
 */
export function launcherLogLine(desc: LauncherLogLineDescription): string {
  const fields: Record<string, string | number | boolean> = {
    ...desc.fields,
    level: desc.level,
    timestamp: kubevirtLogTimestamp(desc.time),
    pos: desc.pos,
    component: desc.component ?? "virt-launcher",
    msg: desc.msg,
  };
  if (desc.object) {
    if (desc.object.namespace) fields.namespace = desc.object.namespace;
    fields.name = desc.object.name;
    fields.kind = desc.object.kind ?? "";
    fields.uid = desc.object.uid;
  }
  if (desc.reason !== undefined) fields.reason = desc.reason;
  const body = Object.keys(fields)
    .sort()
    .map((key) => `${goJsonString(key)}:${goJsonValue(fields[key] as string | number | boolean)}`)
    .join(",");
  return `{${body}}`;
}

// ---------------------------------------------------------------------------------------------
// Virtual machines: VM, VMI and virt-launcher pod
// ---------------------------------------------------------------------------------------------

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
   * adds them, e.g. `host-model-cpu.node.kubevirt.io/<model>: "true"` for a host-model CPU.
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

function resolved(desc: VmDescription) {
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

function containerDiskContainerName(volume: string): string {
  return `volume${volume}`;
}

/** Names of all pod containers (init containers first) the launcher pod of this VM has. */
function launcherContainerNames(desc: VmDescription): { init: string[]; main: string[] } {
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

function claimName(desc: VmDescription, volume: VmVolumeDescription): string {
  return volume.claimName ?? `${desc.name}-${volume.name}`;
}

function templateLabels(desc: VmDescription): Record<string, string> {
  return { ...desc.labels, "kubevirt.io/vm": desc.name };
}

function templateAnnotations(desc: VmDescription): Record<string, string> {
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
function migratability(desc: VmDescription): MigratabilityVerdict {
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

/** The compute container's memory request: guest memory plus virt-launcher's overhead estimate. */
function launcherMemoryRequest(desc: VmDescription): string {
  const r = resolved(desc);
  const guestMi = mebibytes(r.memory);
  const overheadMi = 230 + 8 * r.cores + Math.ceil(guestMi / 512) + 32 + 16;
  return `${guestMi + overheadMi}Mi`;
}

function runningStatus(name: string, image: string, containerId: string, startedAt: number): Json {
  return {
    name,
    state: { running: { startedAt: rfc3339(startedAt) } },
    lastState: {},
    ready: true,
    restartCount: 0,
    image,
    imageID: imageId(image),
    containerID: `containerd://${containerId}`,
    started: true,
  };
}

function completedStatus(name: string, image: string, containerId: string, from: number, to: number): Json {
  return {
    name,
    state: {
      terminated: {
        exitCode: 0,
        reason: "Completed",
        startedAt: rfc3339(from),
        finishedAt: rfc3339(to),
        containerID: `containerd://${containerId}`,
      },
    },
    lastState: {},
    ready: true,
    restartCount: 0,
    image,
    imageID: imageId(image),
    containerID: `containerd://${containerId}`,
    started: false,
  };
}

const restrictedSecurityContext = {
  capabilities: { drop: ["ALL"] },
  runAsUser: nonRootUid,
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
};

export function launcherPod(desc: VmDescription, plan: VmPlan): Json {
  const r = resolved(desc);
  const t = plan.times;
  const id = (name: string) => plan.containerIds[name] ?? "";
  const containerDisks = r.volumes.filter((volume) => volume.kind === "containerDisk");
  const pvcs = r.volumes.filter((volume) => volume.kind === "pvc");
  const secondary = r.networks.filter((network) => network.multus !== undefined);
  const hostname = sanitizeHostname(desc.name);
  const diskDataDir = `/var/run/kubevirt-ephemeral-disks/container-disk-data/${plan.vmiUid}`;

  const labels: Record<string, string> = {
    ...templateLabels(desc),
    "kubevirt.io": "virt-launcher",
    "kubevirt.io/created-by": plan.vmiUid,
    "kubevirt.io/nodeName": desc.node,
    "vm.kubevirt.io/name": hostname,
    "vmi.kubevirt.io/id": vmiIdLabel(desc.name),
  };
  if (plan.outdated) labels[outdatedLauncherImageLabel] = "";

  const annotations: Record<string, string> = {
    ...templateAnnotations(desc),
    "kubevirt.io/domain": desc.name,
    "kubectl.kubernetes.io/default-container": "compute",
    "kubevirt.io/migrationTransportUnix": "true",
    "descheduler.alpha.kubernetes.io/request-evict-only": "",
    "kubevirt.io/vm-generation": "1",
    "pre.hook.backup.velero.io/container": "compute",
    "pre.hook.backup.velero.io/command": `["/usr/bin/virt-freezer", "--freeze", "--name", "${desc.name}", "--namespace", "${desc.namespace}"]`,
    "pre.hook.backup.velero.io/timeout": "60s",
    "post.hook.backup.velero.io/container": "compute",
    "post.hook.backup.velero.io/command": `["/usr/bin/virt-freezer", "--unfreeze", "--name", "${desc.name}", "--namespace", "${desc.namespace}"]`,
  };
  if (secondary.length > 0) {
    annotations["k8s.v1.cni.cncf.io/networks"] = JSON.stringify(
      secondary.map((network) => ({
        name: network.multus,
        namespace: desc.namespace,
        ...(network.macAddress ? { mac: network.macAddress } : {}),
        interface: hashedPodInterfaceName(network.name),
      })),
    );
  }
  const networkStatus: Json[] = [
    {
      name: "k8s-pod-network",
      interface: "eth0",
      ips: [plan.podIP],
      mac: plan.podMacs.eth0,
      default: true,
      dns: {},
    },
    ...secondary.map((network) => ({
      name: `${desc.namespace}/${network.multus}`,
      interface: hashedPodInterfaceName(network.name),
      mac: plan.podMacs[network.name],
      dns: {},
    })),
  ];
  annotations["k8s.v1.cni.cncf.io/network-status"] = JSON.stringify(networkStatus, null, 4);

  const computeMounts: Json[] = [
    { name: "private", mountPath: "/var/run/kubevirt-private" },
    { name: "public", mountPath: "/var/run/kubevirt" },
    { name: "ephemeral-disks", mountPath: "/var/run/kubevirt-ephemeral-disks" },
    {
      name: "container-disks",
      mountPath: "/var/run/kubevirt/container-disks",
      mountPropagation: "HostToContainer",
    },
    { name: "libvirt-runtime", mountPath: "/var/run/libvirt" },
    { name: "sockets", mountPath: "/var/run/kubevirt/sockets" },
  ];
  for (const volume of pvcs) {
    if ((volume.volumeMode ?? "Block") === "Filesystem") {
      computeMounts.push({
        name: volume.name,
        mountPath: `/var/run/kubevirt-private/vmi-disks/${volume.name}`,
      });
    }
  }
  computeMounts.push({
    name: "hotplug-disks",
    mountPath: "/var/run/kubevirt/hotplug-disks",
    mountPropagation: "HostToContainer",
  });
  const blockDevices = pvcs
    .filter((volume) => (volume.volumeMode ?? "Block") === "Block")
    .map((volume) => ({ name: volume.name, devicePath: `/dev/${volume.name}` }));

  const devices = {
    "devices.kubevirt.io/kvm": "1",
    "devices.kubevirt.io/tun": "1",
    "devices.kubevirt.io/vhost-net": "1",
  };
  const compute = compact({
    name: "compute",
    image: desc.launcherImage,
    command: ["/usr/bin/virt-launcher-monitor"],
    args: [
      "--qemu-timeout",
      `${plan.qemuTimeoutSeconds}s`,
      "--name",
      desc.name,
      "--uid",
      plan.vmiUid,
      "--namespace",
      desc.namespace,
      "--kubevirt-share-dir",
      "/var/run/kubevirt",
      "--ephemeral-disk-dir",
      "/var/run/kubevirt-ephemeral-disks",
      "--container-disk-dir",
      "/var/run/kubevirt/container-disks",
      "--grace-period-seconds",
      String(r.grace + 15),
      "--hook-sidecars",
      "0",
      "--ovmf-path",
      "/usr/share/OVMF",
      "--disk-memory-limit",
      "2097152000",
      "--hypervisor",
      "kvm",
      "--run-as-nonroot",
    ],
    env: [
      { name: "XDG_CACHE_HOME", value: "/var/run/kubevirt-private" },
      { name: "XDG_CONFIG_HOME", value: "/var/run/kubevirt-private" },
      { name: "XDG_RUNTIME_DIR", value: "/var/run" },
      { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
    ],
    resources: {
      limits: { ...devices },
      requests: {
        cpu: `${100 * r.cores}m`,
        ...devices,
        "ephemeral-storage": "50M",
        memory: launcherMemoryRequest(desc),
      },
    },
    volumeMounts: computeMounts,
    volumeDevices: blockDevices.length > 0 ? blockDevices : undefined,
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: "IfNotPresent",
    securityContext: {
      capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
      privileged: false,
      runAsUser: nonRootUid,
      runAsGroup: nonRootUid,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
    },
  });

  const diskResources = {
    limits: { cpu: "10m", memory: "40M" },
    requests: { cpu: "1m", "ephemeral-storage": "50M", memory: "1M" },
  };
  const diskImage = (volume: VmVolumeDescription) => volume.image ?? r.os.containerDisk;
  // The copier container of a containerDisk, and its init twin, differ only in name and args.
  const diskContainer = (volume: VmVolumeDescription, name: string, args: string[]): Json => ({
    name,
    image: diskImage(volume),
    command: ["/usr/bin/container-disk"],
    args,
    resources: diskResources,
    volumeMounts: [
      { name: "container-disks", mountPath: diskDataDir },
      { name: "virt-bin-share-dir", mountPath: "/usr/bin" },
    ],
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: "IfNotPresent",
    securityContext: restrictedSecurityContext,
  });
  const diskContainers = containerDisks.map((volume) =>
    diskContainer(volume, containerDiskContainerName(volume.name), [
      "--copy-path",
      `${diskDataDir}/disk_${r.volumes.indexOf(volume)}`,
    ]),
  );

  const initContainers: Json[] = [
    {
      name: "guest-console-log",
      image: desc.launcherImage,
      command: ["/usr/bin/virt-tail"],
      args: ["--logfile", `/var/run/kubevirt-private/${plan.vmiUid}/virt-serial0-log`],
      env: [{ name: "VIRT_LAUNCHER_LOG_VERBOSITY", value: "2" }],
      resources: { limits: { cpu: "15m", memory: "60M" }, requests: { cpu: "5m", memory: "35M" } },
      restartPolicy: "Always",
      volumeMounts: [{ name: "private", mountPath: "/var/run/kubevirt-private", readOnly: true }],
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      imagePullPolicy: "IfNotPresent",
      securityContext: restrictedSecurityContext,
    },
  ];
  if (containerDisks.length > 0) {
    initContainers.push({
      name: "container-disk-binary",
      image: desc.launcherImage,
      command: ["/usr/bin/cp"],
      args: ["--preserve=all", "/usr/bin/container-disk", "/init/usr/bin/container-disk"],
      env: [
        { name: "XDG_CACHE_HOME", value: "/var/run/kubevirt-private" },
        { name: "XDG_CONFIG_HOME", value: "/var/run/kubevirt-private" },
        { name: "XDG_RUNTIME_DIR", value: "/var/run" },
      ],
      resources: diskResources,
      volumeMounts: [{ name: "virt-bin-share-dir", mountPath: "/init/usr/bin" }],
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      imagePullPolicy: "IfNotPresent",
      securityContext: { ...restrictedSecurityContext, privileged: false },
    });
    for (const volume of containerDisks) {
      initContainers.push(
        diskContainer(volume, `${containerDiskContainerName(volume.name)}-init`, ["--no-op"]),
      );
    }
  }

  const emptyDir = (name: string) => ({ name, emptyDir: {} });
  const volumes: Json[] = [
    emptyDir("private"),
    emptyDir("public"),
    emptyDir("sockets"),
    emptyDir("virt-bin-share-dir"),
    emptyDir("libvirt-runtime"),
    emptyDir("ephemeral-disks"),
    emptyDir("container-disks"),
    ...pvcs.map((volume) => ({
      name: volume.name,
      persistentVolumeClaim: { claimName: claimName(desc, volume) },
    })),
    emptyDir("hotplug-disks"),
  ];

  const nodeSelector: Record<string, string> = {
    ...desc.nodeSelector,
    ...desc.launcherNodeSelector,
    "kubevirt.io/schedulable": "true",
    "machine-type.node.kubevirt.io/q35": "true",
  };
  if (r.cpuModel !== "host-model" && r.cpuModel !== "host-passthrough") {
    nodeSelector[`cpu-model.node.kubevirt.io/${r.cpuModel}`] = "true";
  }
  const affinity =
    r.cpuModel === "host-model"
      ? {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: "node-labeller.kubevirt.io/obsolete-host-model", operator: "DoesNotExist" },
                  ],
                },
              ],
            },
          },
        }
      : undefined;

  const condition = (type: string, at: number) => ({
    type,
    status: "True",
    lastProbeTime: null,
    lastTransitionTime: rfc3339(at),
  });
  const initStatuses: Json[] = [
    runningStatus("guest-console-log", desc.launcherImage, id("guest-console-log"), t.initStarted),
  ];
  if (containerDisks.length > 0) {
    initStatuses.push(
      completedStatus(
        "container-disk-binary",
        desc.launcherImage,
        id("container-disk-binary"),
        t.initStarted,
        t.initStarted + 200,
      ),
    );
    for (const volume of containerDisks) {
      const name = `${containerDiskContainerName(volume.name)}-init`;
      initStatuses.push(
        completedStatus(name, diskImage(volume), id(name), t.initStarted + 300, t.initFinished),
      );
    }
  }

  return goObject({
    kind: "Pod",
    apiVersion: "v1",
    metadata: {
      name: plan.podName,
      generateName: `virt-launcher-${desc.name}-`,
      namespace: desc.namespace,
      uid: plan.podUid,
      creationTimestamp: rfc3339(t.podCreated),
      labels,
      annotations,
      ownerReferences: [
        {
          apiVersion: kubevirtApiVersion,
          kind: "VirtualMachineInstance",
          name: desc.name,
          uid: plan.vmiUid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: compact({
      volumes,
      initContainers,
      containers: [compute, ...diskContainers],
      restartPolicy: "Never",
      terminationGracePeriodSeconds: r.grace + 30,
      dnsPolicy: "ClusterFirst",
      nodeSelector,
      serviceAccountName: "default",
      serviceAccount: "default",
      automountServiceAccountToken: false,
      nodeName: desc.node,
      securityContext: {
        runAsUser: nonRootUid,
        runAsGroup: nonRootUid,
        runAsNonRoot: true,
        fsGroup: nonRootUid,
      },
      hostname,
      affinity,
      schedulerName: "default-scheduler",
      tolerations: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
        {
          key: "node.kubernetes.io/unreachable",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      readinessGates: [{ conditionType: "kubevirt.io/virtual-machine-unpaused" }],
      enableServiceLinks: false,
      preemptionPolicy: "PreemptLowerPriority",
    }),
    status: {
      phase: "Running",
      conditions: [
        condition("kubevirt.io/virtual-machine-unpaused", t.podCreated),
        condition("PodReadyToStartContainers", t.initStarted),
        condition("Initialized", t.initFinished),
        condition("Ready", t.podReady),
        condition("ContainersReady", t.podReady),
        condition("PodScheduled", t.podCreated),
      ],
      hostIP: plan.node.internalIP,
      hostIPs: [{ ip: plan.node.internalIP }],
      podIP: plan.podIP,
      podIPs: [{ ip: plan.podIP }],
      startTime: rfc3339(t.podCreated),
      initContainerStatuses: initStatuses,
      containerStatuses: [
        runningStatus("compute", desc.launcherImage, id("compute"), t.containersStarted),
        ...containerDisks.map((volume) => {
          const name = containerDiskContainerName(volume.name);
          return runningStatus(name, diskImage(volume), id(name), t.containersStarted);
        }),
      ],
      qosClass: "Burstable",
    },
  });
}

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
  const evictionWantsMigration =
    desc.evictionStrategy === "LiveMigrate" || desc.evictionStrategy === "External";
  if (evictionWantsMigration && verdict.live.status === "False") {
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

// ---------------------------------------------------------------------------------------------
// Past migrations: what earlier VMIMs left behind (scenario history)
// ---------------------------------------------------------------------------------------------

export const evacuationMigrationAnnotation = "kubevirt.io/evacuationMigration";
export const workloadUpdateMigrationAnnotation = "kubevirt.io/workloadUpdateMigration";
/** libvirt's error when the connection to the target drops, as v1.9 stores it in `failureReason` (facts §h). */
export const clientSocketClosedReason =
  "virError(Code=1, Domain=10, Message='internal error: client socket is closed')";
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
  /** Succeeded only: the node the VM left. */
  sourceNode?: string;
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
  /** Its Succeeded or Failed phase transition. */
  endedAt: number;
}

const controllerSource = { component: "virtualmachine-controller" } as const;
const gib = 1024 ** 3;

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
  const sourceNode = succeeded ? (desc.sourceNode as string) : vmDesc.node;
  const targetNode = desc.targetNode;
  const otherPod = generatedName(`virt-launcher-${vmDesc.name}-`, random);
  const sourcePod = succeeded ? otherPod : plan.podName;
  const targetPod = succeeded ? plan.podName : otherPod;
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
  if (trigger === "evacuation")
    note(vmiRef, "Normal", "SuccessfulCreate", `Created Migration ${name}`, created);
  if (trigger === "workloadUpdate") {
    note(
      vmiRef,
      "Normal",
      "SuccessfulCreate",
      `Created Migration ${name} for automated workload update`,
      created,
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
  note(vmimRef, "Normal", "SuccessfulCreate", `Created migration target pod ${ns}/${targetPod}`, t);

  let state: Json | undefined;
  let endedAt: number;
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
      Object.assign(state, {
        targetDirectMigrationNodePorts: { "49152": 0, "49153": 0 },
        targetNodeAddress: target.internalIP,
      });
      note(
        vmiRef,
        "Normal",
        "PreparingTarget",
        `Migration Target is listening at ${target.internalIP}, on ports: 49152,49153`,
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
      log(start + random.int(1, 30), "info", "Live migration started.", "live-migration-source.go:826");

      const config = ctx.migrationConfiguration;
      const model = new MigrationModel({
        memoryBytes: quantityBytes(resolved(vmDesc).memory),
        dirtyRateBytesPerSecond: (vmDesc.dirtyRateMiBps ?? 30) * 1024 * 1024,
        bandwidthBytesPerSecond: quantityBytes(String(config.bandwidthPerMigration ?? "0")) || gib,
        maxDowntimeMs: Number(config.maxDowntimeMs ?? 900),
        completionTimeoutPerGiB: Number(config.completionTimeoutPerGiB ?? 150),
        progressTimeoutSeconds: Number(config.progressTimeout ?? 150),
        allowAutoConverge: config.allowAutoConverge === true,
        allowPostCopy: config.allowPostCopy === true,
        seed: random.int(0, 2 ** 30),
      });
      const atProgress = desc.atProgress ?? 0.3;
      let polls = 0;
      let end: number | undefined;
      while (end === undefined) {
        if (++polls > 200_000) throw new Error(`${where}: the migration does not end`);
        const snapshot = model.advance(400);
        const at = start + polls * 400;
        const outcome = model.outcome;
        if (polls % 10 === 0 || model.iterationChanged || outcome) {
          const done = outcome?.kind === "completed" ? { downtimeMs: outcome.downtimeMs } : undefined;
          log(at, "info", migrationInfoMessage(uid, snapshot, done), "live-migration-source.go:731");
        }
        const sent = snapshot.dataTotal > 0 ? snapshot.dataProcessed / snapshot.dataTotal : 0;
        if (failure === "connectionDrop" && sent >= atProgress) {
          log(at + 0.5, "error", "Live migration failed.", "live-migration-source.go:872");
          Object.assign(state, { failureReason: desc.failureReason ?? clientSocketClosedReason });
          end = at;
        } else if (outcome?.kind === "completed") {
          if (!succeeded) {
            throw new Error(
              `${where}: the migration converges (it would have succeeded); a ${failure} failure needs a higher dirty rate or lower bandwidth`,
            );
          }
          if (outcome.mode === "PostCopy") state.mode = "PostCopy";
          end = at;
        } else if (outcome?.kind === "aborted") {
          if (failure !== "aborted") {
            throw new Error(`${where}: the migration does not converge and would have been aborted`);
          }
          log(at + 0.25, "warning", migrationAbortLogMessage(outcome), "live-migration-source.go:682");
          log(at + 0.5, "error", "Live migration failed.", "live-migration-source.go:872");
          Object.assign(state, { failureReason: migrationAbortedReason });
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
        Object.assign(state, { completed: true, endTimestamp: stamp, failed: true });
        note(
          vmiRef,
          "Warning",
          "Migrated",
          `VirtualMachineInstance migration uid ${uid} failed. reason:${String(state.failureReason)}`,
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
      // Final: the controller copied the VMI's state, when it got that far (facts §c).
      migrationState: state ? structuredClone(state) : { sourceNode, sourcePod },
    },
  });
  return {
    vmim,
    events,
    log: { pod: sourcePod, lines },
    vmiState: state && sortKeysDeep(state),
    startedAt,
    endedAt,
  };
}

/** Same involved object, type, reason, message and source: one Event with a count, as client-go's recorder keeps it. */
export function aggregateEvents(descs: readonly EventDescription[]): EventDescription[] {
  const byKey = new Map<string, EventDescription>();
  for (const desc of descs) {
    const key = [
      desc.involvedObject.uid,
      desc.type ?? "Normal",
      desc.reason,
      desc.message,
      desc.component,
      desc.host ?? "",
    ].join("\u0000");
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { ...desc });
      continue;
    }
    const first = Math.min(seen.firstTimestamp, desc.firstTimestamp);
    const last = Math.max(
      seen.lastTimestamp ?? seen.firstTimestamp,
      desc.lastTimestamp ?? desc.firstTimestamp,
    );
    seen.count = (seen.count ?? 1) + (desc.count ?? 1);
    seen.firstTimestamp = first;
    seen.lastTimestamp = last;
  }
  return [...byKey.values()];
}

// ---------------------------------------------------------------------------------------------
// Many VMs of one shape, fast: build a bundle once and stamp copies with new names and identities
// ---------------------------------------------------------------------------------------------

/** What makes one stamped VM: everything else comes from the template. */
export interface VmStampInstance {
  name: string;
  namespace: string;
  node: NodeNetwork;
  /** VM creation time; the stamp moves all of the template's times by whole seconds. */
  createdAt: number;
  podIP: string;
  /** Draws the uids, pod name suffix, MACs and container ids. */
  random: Random;
}

export interface StampedVm {
  vm: Json;
  vmi: Json;
  pod: Json;
  log: VmBundle["log"];
}

export interface VmStamper {
  /** Whether its VMs run an outdated launcher. */
  readonly outdated: boolean;
  stamp(instance: VmStampInstance): StampedVm;
}

type StampNode =
  | { kind: "const"; value: unknown }
  | { kind: "string"; parts: readonly StampPart[] }
  | { kind: "object"; keys: readonly StampNode[]; values: readonly StampNode[] }
  | { kind: "array"; items: readonly StampNode[] };

/** A literal, a value slot, or a timestamp to move. */
type StampPart = string | { slot: number } | { time: string; seconds: number; fraction: string };

const stampTimePattern = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;
const stampTemplateShift = 86_400_000;

const stampDays = new Map<number, string>();

/** An RFC 3339 time (its fraction kept) `shiftMs` (whole seconds) later; days are formatted once. */
function shiftTimestamp(time: { seconds: number; fraction: string }, shiftMs: number): string {
  const seconds = time.seconds + Math.round(shiftMs / 1000);
  const day = Math.floor(seconds / 86_400);
  let date = stampDays.get(day);
  if (date === undefined) {
    date = new Date(day * 86_400_000).toISOString().slice(0, 11);
    stampDays.set(day, date);
  }
  const rest = seconds - day * 86_400;
  const h = Math.floor(rest / 3600);
  const m = Math.floor((rest % 3600) / 60);
  const sec = rest % 60;
  return `${date}${h < 10 ? "0" : ""}${h}:${m < 10 ? "0" : ""}${m}:${sec < 10 ? "0" : ""}${sec}${time.fraction}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const stampSlotNames = [
  "name",
  "namespace",
  "node",
  "hostIP",
  "vmUid",
  "vmiUid",
  "podUid",
  "podName",
  "podIP",
  "firmwareUuid",
] as const;

/**
 * Compiles a stamper for VMs described like `template` (its name, namespace, node and times are
 * placeholders). The template is built twice with different identities and times one day apart;
 * what is equal in both is shared by every stamped copy (stored objects are never changed in
 * place), and every string that differs must be the template's with the identities replaced and
 * the timestamps moved, or compiling fails. So a stamped VM is what `vmBundle` would build, minus
 * the start events (an API server keeps events for an hour; stamped VMs are older).
 */
export function vmStamper(
  template: VmDescription,
  context: { currentLauncherImage: string; random: Random },
): VmStamper {
  const r = resolved(template);
  const multus = r.networks.filter((n) => n.multus !== undefined);
  const names = launcherContainerNames(template);
  const containers = [...names.init, ...names.main];
  const slotNames: string[] = [
    ...stampSlotNames,
    ...r.networks.map((n) => `mac:${n.name}`),
    "podMac:eth0",
    ...multus.map((n) => `podMac:${n.name}`),
    ...multus.map((n) => `secondaryIP:${n.name}`),
    ...containers.map((c) => `container:${c}`),
  ];
  const slot = (name: string) => slotNames.indexOf(name);
  const tokens = (variant: string) => slotNames.map((_, i) => `zq${variant}${String(i).padStart(3, "0")}zq`);
  const tokensA = tokens("a");
  const tokensB = tokens("b");
  // The firmware uuid is a hash of the name: its own slot, filled from the name.
  tokensA[slot("firmwareUuid")] = firmwareUuid(tokensA[slot("name")] as string);
  tokensB[slot("firmwareUuid")] = firmwareUuid(tokensB[slot("name")] as string);

  const base = planVm(
    { ...template, node: "template-node" },
    {
      random: context.random,
      currentLauncherImage: context.currentLauncherImage,
      nodes: [{ name: "template-node", internalIP: "192.0.2.1", podCIDR: "10.0.0.0/24" }],
    },
  );
  const variant = (values: readonly string[], shift: number) => {
    const v = (name: string) => values[slot(name)] as string;
    const pick = (prefix: string, keys: readonly string[]) =>
      Object.fromEntries(keys.map((key) => [key, v(`${prefix}:${key}`)]));
    const desc: VmDescription = {
      ...template,
      name: v("name"),
      namespace: v("namespace"),
      node: v("node"),
      createdAt: template.createdAt + shift,
      startedAt: template.startedAt === undefined ? undefined : template.startedAt + shift,
    };
    const times = Object.fromEntries(
      Object.entries(base.times).map(([key, value]) => [key, value + shift]),
    ) as VmPlan["times"];
    const plan: VmPlan = {
      ...base,
      vmUid: v("vmUid"),
      vmiUid: v("vmiUid"),
      podUid: v("podUid"),
      podName: v("podName"),
      node: { name: v("node"), internalIP: v("hostIP"), podCIDR: "10.0.0.0/24" },
      podIP: v("podIP"),
      macs: pick(
        "mac",
        r.networks.map((n) => n.name),
      ),
      secondaryIPs: pick(
        "secondaryIP",
        multus.map((n) => n.name),
      ),
      podMacs: pick("podMac", ["eth0", ...multus.map((n) => n.name)]),
      containerIds: pick("container", containers),
      times,
    };
    return {
      vm: vm(desc, plan),
      vmi: vmi(desc, plan),
      pod: launcherPod(desc, plan),
      lines: launcherStartupLogLines(desc, plan),
    };
  };
  const a = variant(tokensA, 0);
  const b = variant(tokensB, stampTemplateShift);

  const literal = new RegExp(
    `${[...tokensA]
      .sort((x, y) => y.length - x.length)
      .map(escapeRegExp)
      .join("|")}|${stampTimePattern.source}`,
    "g",
  );
  const slotOf = new Map(tokensA.map((token, i) => [token, i]));
  const fill = (parts: readonly StampPart[], values: readonly string[], shift: number) => {
    let out = "";
    for (const part of parts) {
      if (typeof part === "string") out += part;
      else if ("slot" in part) out += values[part.slot];
      else out += shiftTimestamp(part, shift);
    }
    return out;
  };
  const compileString = (sa: string, sb: string, path: string): StampNode => {
    if (sa === sb) return { kind: "const", value: sa };
    const parts: StampPart[] = [];
    let last = 0;
    for (const match of sa.matchAll(literal)) {
      if (match.index > last) parts.push(sa.slice(last, match.index));
      const index = slotOf.get(match[0]);
      const text = match[0];
      parts.push(
        index === undefined
          ? { time: text, seconds: Date.parse(`${text.slice(0, 19)}Z`) / 1000, fraction: text.slice(19) }
          : { slot: index },
      );
      last = match.index + match[0].length;
    }
    if (last < sa.length) parts.push(sa.slice(last));
    if (fill(parts, tokensB, stampTemplateShift) !== sb) {
      throw new Error(`vmStamper: ${path} is not the template's with identities and times replaced`);
    }
    return { kind: "string", parts };
  };
  const compile = (va: unknown, vb: unknown, path: string): StampNode => {
    if (typeof va === "string" && typeof vb === "string") return compileString(va, vb, path);
    if (Array.isArray(va) && Array.isArray(vb) && va.length === vb.length) {
      const items = va.map((item, i) => compile(item, vb[i], `${path}[${i}]`));
      return items.every((item) => item.kind === "const")
        ? { kind: "const", value: va }
        : { kind: "array", items };
    }
    if (
      typeof va === "object" &&
      va !== null &&
      typeof vb === "object" &&
      vb !== null &&
      !Array.isArray(va)
    ) {
      const ka = Object.keys(va);
      const kb = Object.keys(vb);
      if (ka.length === kb.length) {
        const keys = ka.map((key, i) => compileString(key, kb[i] as string, `${path}.${key}`));
        const values = ka.map((key, i) =>
          compile((va as Json)[key], (vb as Json)[kb[i] as string], `${path}.${key}`),
        );
        if (keys.every((k) => k.kind === "const") && values.every((v) => v.kind === "const")) {
          return { kind: "const", value: va };
        }
        return { kind: "object", keys, values };
      }
    }
    if (va === vb) return { kind: "const", value: va };
    throw new Error(`vmStamper: ${path} differs between two stamps in a way a stamp cannot reproduce`);
  };
  // The compiled tree becomes one function that builds a stamp with object and array literals:
  // several times faster than walking the tree, which matters at ten thousand VMs. It only
  // references the shared constants (`c`), the stamp's values (`v`) and moved times (`m`).
  const constants: unknown[] = [];
  const times: { seconds: number; fraction: string }[] = [];
  const timeIndex = new Map<string, number>();
  const emitString = (parts: readonly StampPart[]) =>
    `(""${parts
      .map((part) => {
        if (typeof part === "string") return `+${JSON.stringify(part)}`;
        if ("slot" in part) return `+v[${part.slot}]`;
        let index = timeIndex.get(part.time);
        if (index === undefined) {
          index = times.length;
          times.push(part);
          timeIndex.set(part.time, index);
        }
        return `+m[${index}]`;
      })
      .join("")})`;
  const emit = (node: StampNode): string => {
    switch (node.kind) {
      case "const":
        if (typeof node.value === "object" && node.value !== null) {
          constants.push(node.value);
          return `c[${constants.length - 1}]`;
        }
        return node.value === undefined ? "undefined" : JSON.stringify(node.value);
      case "string":
        return emitString(node.parts);
      case "array":
        return `[${node.items.map(emit).join(",")}]`;
      case "object":
        return `{${node.keys
          .map((key, i) => {
            const value = emit(node.values[i] as StampNode);
            return key.kind === "const" ? `${JSON.stringify(key.value)}:${value}` : `[${emit(key)}]:${value}`;
          })
          .join(",")}}`;
    }
  };
  const body = [
    `vm:${emit(compile(a.vm, b.vm, "vm"))}`,
    `vmi:${emit(compile(a.vmi, b.vmi, "vmi"))}`,
    `pod:${emit(compile(a.pod, b.pod, "pod"))}`,
    `lines:[${a.lines.map((line, i) => emit(compileString(line.text, b.lines[i]?.text ?? "", `log[${i}]`))).join(",")}]`,
  ].join(",");
  const build = new Function("c", "v", "m", `"use strict";return {${body}};`) as (
    c: readonly unknown[],
    v: readonly string[],
    m: readonly string[],
  ) => { vm: Json; vmi: Json; pod: Json; lines: string[] };
  const lineTimes = a.lines.map((line) => line.time);
  const octets = (random: Random) =>
    `${random.int(0, 255).toString(16).padStart(2, "0")}:${random.int(0, 255).toString(16).padStart(2, "0")}:${random.int(0, 255).toString(16).padStart(2, "0")}`;

  return {
    outdated: base.outdated,
    stamp(instance) {
      if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(instance.name)) {
        throw new Error(`vmStamper: ${JSON.stringify(instance.name)} is not a stampable VM name`);
      }
      const random = instance.random;
      const values: string[] = new Array(slotNames.length).fill("");
      const set = (name: string, value: string) => {
        values[slot(name)] = value;
      };
      set("name", instance.name);
      set("namespace", instance.namespace);
      set("node", instance.node.name);
      set("hostIP", instance.node.internalIP);
      set("firmwareUuid", firmwareUuid(instance.name));
      set("vmUid", random.uid());
      set("vmiUid", random.uid());
      set("podUid", random.uid());
      set("podName", generatedName(`virt-launcher-${instance.name}-`, random));
      set("podIP", instance.podIP);
      for (const network of r.networks)
        set(`mac:${network.name}`, network.macAddress ?? `52:54:00:${octets(random)}`);
      set("podMac:eth0", `0a:58:0a:${octets(random)}`);
      for (const network of multus) {
        set(`podMac:${network.name}`, `02:9c:1e:${octets(random)}`);
        const n = /(\d+)$/.exec(network.multus ?? "");
        set(`secondaryIP:${network.name}`, `10.${(n ? Number(n[1]) : 0) % 256}.0.${random.int(10, 250)}`);
      }
      for (const container of containers) {
        // 64 hex digits, 8 per draw (Random.hex draws one per digit).
        let id = "";
        for (let k = 0; k < 8; k++) id += random.int(0, 0xffffffff).toString(16).padStart(8, "0");
        set(`container:${container}`, id);
      }
      const shift = Math.round((instance.createdAt - template.createdAt) / 1000) * 1000;
      const built = build(
        constants,
        values,
        times.map((time) => shiftTimestamp(time, shift)),
      );
      return {
        vm: built.vm,
        vmi: built.vmi,
        pod: built.pod,
        log: {
          namespace: instance.namespace,
          pod: values[slot("podName")] as string,
          container: "compute",
          lines: built.lines.map((text, i) => ({ time: (lineTimes[i] ?? 0) + shift, text })),
        },
      };
    },
  };
}
