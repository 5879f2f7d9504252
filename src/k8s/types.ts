// Hand-written typed subsets of the Kubernetes and KubeVirt objects kvmig reads.
//
// Only the fields kvmig uses are modelled; everything else the server sends is simply not typed.
// JSON names match the KubeVirt swagger (api/openapi-spec/swagger.json) exactly, and
// test/k8s/types.test.ts resolves every KubeVirt field path declared here through that schema.
//
// Why not @kubevirt-ui/kubevirt-api (KubeVirt's generated types): version 1.4.0 ships raw .ts
// sources written as CommonJS-style modules, which under our tsconfig (NodeNext,
// verbatimModuleSyntax) produce about 3,400 type errors, and it predates v1.9 fields such as
// migrationState.targetMemoryOverhead.
//
// Conventions:
// - Every field is optional unless the API guarantees it: `metadata`, the top-level `spec` of the
//   KubeVirt kinds (the schema marks it required), and the identifying keys of list items
//   (`name`, condition `type`/`status`, state-change `action`).
// - Timestamps (`metav1.Time`) are RFC 3339 strings. Condition times may be `null`.
// - Resource quantities (`resource.Quantity`) are strings as the server serialises them ("2Gi").
// - Loosely typed parts (affinity, disks, experimental options, ...) are `Record<string, unknown>`.

import type { KubeObject, ObjectMeta } from "./meta.js";

/** A `resource.Quantity` as serialised by the API server, e.g. "64Mi", "500m", "0". */
export type Quantity = string;

/** A `metav1.Time`: an RFC 3339 timestamp such as "2024-05-01T12:00:00Z". */
export type Timestamp = string;

/** A `metav1.Duration` such as "1m0s". */
export type Duration = string;

export type ConditionStatus = "True" | "False" | "Unknown";

/** An object with no modelled fields (KubeVirt uses `{}` as a presence marker, e.g. `masquerade: {}`). */
export type EmptyObject = Record<string, never>;

// ---------------------------------------------------------------------------------------------
// Shared KubeVirt pieces
// ---------------------------------------------------------------------------------------------

/**
 * The condition shape KubeVirt uses on VMs, VMIs, VMIMs and the KubeVirt CR
 * (`v1.VirtualMachineInstanceCondition` and its identical siblings).
 */
export interface VirtualMachineInstanceCondition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastProbeTime?: Timestamp | null;
  lastTransitionTime?: Timestamp | null;
}

export type VirtualMachineCondition = VirtualMachineInstanceCondition;
export type VirtualMachineInstanceMigrationCondition = VirtualMachineInstanceCondition;
export type KubeVirtCondition = VirtualMachineInstanceCondition;

/** One entry of `status.phaseTransitionTimestamps` (VMI and VMIM). */
export interface PhaseTransitionTimestamp<P extends string = string> {
  phase?: P;
  phaseTransitionTimestamp?: Timestamp;
}

// ---------------------------------------------------------------------------------------------
// Migration configuration (KubeVirt CR, MigrationPolicy, effective VMI configuration)
// ---------------------------------------------------------------------------------------------

/** KubeVirt CR `spec.configuration.migrations` (`v1.MigrationConfiguration`). */
export interface MigrationConfiguration {
  /** Default 5. */
  parallelMigrationsPerCluster?: number;
  /** Default 2. */
  parallelOutboundMigrationsPerNode?: number;
  /** Quantity per second; default "0Mi" (unlimited). */
  bandwidthPerMigration?: Quantity;
  /** Seconds per 10^9 bytes of migrated data; default 150. */
  completionTimeoutPerGiB?: number;
  /** Seconds without progress before the migration is aborted; default 150. */
  progressTimeout?: number;
  /** Default 900 (v1.9.0+). */
  maxDowntimeMs?: number;
  /** Seconds a VMIM may wait in Pending for utility volumes; default 150 (v1.8.0+). */
  utilityVolumesTimeout?: number;
  allowAutoConverge?: boolean;
  allowPostCopy?: boolean;
  /** Follows `allowPostCopy` when unset (v1.6.0+). */
  allowWorkloadDisruption?: boolean;
  unsafeMigrationOverride?: boolean;
  disableTLS?: boolean;
  /** Name of the NetworkAttachmentDefinition used for migration traffic; unset means the pod network. */
  network?: string;
  matchSELinuxLevelOnMigration?: boolean;
  /** Default "kubevirt.io/drain" (deprecated node-taint evacuation). */
  nodeDrainTaintKey?: string;
}

/** Alpha migration options (`v1.ExperimentalMigrationOptions`); only `compression` is typed. */
export interface ExperimentalMigrationOptions {
  /** "none" or "zstd". */
  compression?: string;
  stallDetector?: Record<string, unknown>;
  /** HEAD only (after v1.9.0). */
  downtimeTuning?: Record<string, unknown>;
}

/**
 * The effective migration settings stored in a VMI's `migrationState.migrationConfiguration`
 * (`v1.VMIMConfigurationOptions`): the cluster config merged with the matched policy.
 */
export interface VMIMConfigurationOptions extends MigrationConfiguration {
  experimental?: ExperimentalMigrationOptions;
}

// ---------------------------------------------------------------------------------------------
// VirtualMachineInstance spec (shared by VMIs and VM templates)
// ---------------------------------------------------------------------------------------------

export type EvictionStrategy = "None" | "LiveMigrate" | "LiveMigrateIfPossible" | "External";

export interface CPU {
  model?: string;
  cores?: number;
  sockets?: number;
  threads?: number;
  maxSockets?: number;
  dedicatedCpuPlacement?: boolean;
}

export interface Memory {
  guest?: Quantity;
  maxGuest?: Quantity;
}

export interface ResourceRequirements {
  requests?: Record<string, Quantity>;
  limits?: Record<string, Quantity>;
  overcommitGuestOverhead?: boolean;
}

/** `v1.Interface`. Exactly one binding (`masquerade`, `bridge`, `sriov`, `passt`, `binding`) is set. */
export interface Interface {
  name: string;
  masquerade?: EmptyObject;
  bridge?: EmptyObject;
  sriov?: EmptyObject;
  /** Deprecated core passt binding; the passt network binding plugin uses `binding`. */
  passt?: EmptyObject;
  /** Network binding plugin, e.g. `{ name: "passt" }`, `{ name: "l2bridge" }`. */
  binding?: { name: string };
  macAddress?: string;
  model?: string;
}

/** `v1.Disk`; only the name is typed. */
export interface Disk {
  name: string;
  [field: string]: unknown;
}

export interface Devices {
  interfaces?: Interface[];
  disks?: Disk[];
}

export interface DomainSpec {
  cpu?: CPU;
  memory?: Memory;
  resources?: ResourceRequirements;
  devices?: Devices;
}

/** `v1.Network`: the pod network or a Multus network, matched to an interface by name. */
export interface Network {
  name: string;
  pod?: { vmNetworkCIDR?: string; vmIPv6NetworkCIDR?: string };
  multus?: { networkName: string; default?: boolean };
}

/** `v1.Volume`; the sources kvmig inspects are typed, a few others are only marked present. */
export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean; hotpluggable?: boolean };
  dataVolume?: { name: string; hotpluggable?: boolean };
  containerDisk?: { image: string; path?: string };
  hostDisk?: Record<string, unknown>;
  emptyDisk?: Record<string, unknown>;
  cloudInitNoCloud?: Record<string, unknown>;
  cloudInitConfigDrive?: Record<string, unknown>;
}

/** `v1.VirtualMachineInstanceSpec`, shared by VMIs and `VirtualMachine.spec.template.spec`. */
export interface VirtualMachineInstanceSpec {
  domain?: DomainSpec;
  networks?: Network[];
  volumes?: Volume[];
  nodeSelector?: Record<string, string>;
  affinity?: Record<string, unknown>;
  evictionStrategy?: EvictionStrategy;
  terminationGracePeriodSeconds?: number;
}

// ---------------------------------------------------------------------------------------------
// VirtualMachineInstance
// ---------------------------------------------------------------------------------------------

export const vmiPhases = [
  "",
  "Pending",
  "Scheduling",
  "Scheduled",
  "Running",
  "Succeeded",
  "Failed",
  "WaitingForSync",
  "Unknown",
] as const;
export type VMIPhase = (typeof vmiPhases)[number];

export const finalVMIPhases = ["Succeeded", "Failed"] as const satisfies readonly VMIPhase[];

/** VMI condition types relevant to migration (`type` stays `string` for the others). */
export const vmiConditionTypes = [
  "Ready",
  "Paused",
  "AgentConnected",
  "LiveMigratable",
  "StorageLiveMigratable",
  "MigrationRequired",
  "EvictionRequested",
  "HotVCPUChange",
  "HotMemoryChange",
  "VolumesChange",
  "DecentralizedLiveMigrationFailure",
] as const;
export type VMIConditionType = (typeof vmiConditionTypes)[number];

export type MigrationAbortStatus = "Succeeded" | "Failed" | "Aborting";
export type MigrationMode = "PreCopy" | "PostCopy" | "Paused";
export type MigrationMethod = "BlockMigration" | "LiveMigration";

/** Decentralized migration: state managed by the source virt-handler (v1.7.0+). */
export interface VirtualMachineInstanceMigrationSourceState {
  /** Note the spelling: `migrationUID` here, `migrationUid` on the parent. */
  migrationUID?: string;
  node?: string;
  pod?: string;
  nodeSelectors?: Record<string, string>;
  persistentStatePVCName?: string;
  selinuxContext?: string;
  syncAddress?: string;
  virtualMachineInstanceUID?: string;
  domainName?: string;
  domainNamespace?: string;
}

/** Decentralized migration: state managed by the target virt-handler (v1.7.0+). */
export interface VirtualMachineInstanceMigrationTargetState {
  migrationUID?: string;
  node?: string;
  pod?: string;
  nodeAddress?: string;
  domainDetected?: boolean;
  domainReadyTimestamp?: Timestamp;
  directMigrationNodePorts?: Record<string, number>;
  attachmentPodUID?: string;
  cpuSet?: number[];
  nodeTopology?: string;
  persistentStatePVCName?: string;
  selinuxContext?: string;
  syncAddress?: string;
  virtualMachineInstanceUID?: string;
  domainName?: string;
  domainNamespace?: string;
}

/** `status.migrationState` of a VMI (and of a final VMIM). */
export interface VirtualMachineInstanceMigrationState {
  startTimestamp?: Timestamp;
  endTimestamp?: Timestamp;

  targetNode?: string;
  targetPod?: string;
  targetNodeAddress?: string;
  targetNodeDomainDetected?: boolean;
  targetNodeDomainReadyTimestamp?: Timestamp;
  /** Port (as a string key) to port number. */
  targetDirectMigrationNodePorts?: Record<string, number>;
  targetAttachmentPodUID?: string;
  targetCPUSet?: number[];
  targetNodeTopology?: string;
  targetPersistentStatePVCName?: string;
  /** v1.9.0+. */
  targetMemoryOverhead?: Quantity;

  sourceNode?: string;
  sourcePod?: string;
  sourcePersistentStatePVCName?: string;

  completed?: boolean;
  failed?: boolean;
  abortRequested?: boolean;
  abortStatus?: MigrationAbortStatus;
  failureReason?: string;
  /** UID of the VMIM driving this migration. Spelled `migrationUid`, not `migrationUID`. */
  migrationUid?: string;
  mode?: MigrationMode;
  migrationPolicyName?: string | null;
  migrationConfiguration?: VMIMConfigurationOptions;

  sourceState?: VirtualMachineInstanceMigrationSourceState;
  targetState?: VirtualMachineInstanceMigrationTargetState;
  /** "Pod" or "Migration" (v1.7.0+). */
  migrationNetworkType?: string;
}

export interface VirtualMachineInstanceNetworkInterface {
  name?: string;
  interfaceName?: string;
  ipAddress?: string;
  ipAddresses?: string[];
  mac?: string;
  infoSource?: string;
}

export interface VirtualMachineInstanceStatus {
  nodeName?: string;
  phase?: VMIPhase;
  phaseTransitionTimestamps?: PhaseTransitionTimestamp<VMIPhase>[];
  reason?: string;
  conditions?: VirtualMachineInstanceCondition[];
  migrationState?: VirtualMachineInstanceMigrationState;
  migrationMethod?: MigrationMethod;
  /** Only value: "Unix". */
  migrationTransport?: string;
  /** Image of the `compute` container of the active virt-launcher pod; "" while unknown. */
  launcherContainerImageVersion?: string;
  evacuationNodeName?: string;
  /** Pod UID to node name; two entries while a migration runs. */
  activePods?: Record<string, string>;
  interfaces?: VirtualMachineInstanceNetworkInterface[];
  qosClass?: "BestEffort" | "Burstable" | "Guaranteed";
  selinuxContext?: string;
}

export interface VirtualMachineInstance extends KubeObject {
  spec: VirtualMachineInstanceSpec;
  status?: VirtualMachineInstanceStatus;
}

// ---------------------------------------------------------------------------------------------
// VirtualMachine
// ---------------------------------------------------------------------------------------------

export type RunStrategy = "Always" | "RerunOnFailure" | "Manual" | "Halted" | "Once" | "WaitAsReceiver";

export interface VirtualMachineInstanceTemplateSpec {
  metadata?: ObjectMeta;
  spec?: VirtualMachineInstanceSpec;
}

export interface VirtualMachineSpec {
  runStrategy?: RunStrategy;
  /** Deprecated in favour of `runStrategy`. */
  running?: boolean;
  template?: VirtualMachineInstanceTemplateSpec;
}

export interface VirtualMachineStateChangeRequest {
  /** "Start" or "Stop". */
  action: string;
  /** The UID of the VMI the request applies to. */
  uid?: string;
  data?: Record<string, string>;
}

export interface VirtualMachineStatus {
  /** E.g. "Running", "Migrating", "Stopped", "ErrorUnschedulable". */
  printableStatus?: string;
  ready?: boolean;
  created?: boolean;
  runStrategy?: RunStrategy;
  conditions?: VirtualMachineCondition[];
  stateChangeRequests?: VirtualMachineStateChangeRequest[];
}

export interface VirtualMachine extends KubeObject {
  spec: VirtualMachineSpec;
  status?: VirtualMachineStatus;
}

// ---------------------------------------------------------------------------------------------
// VirtualMachineInstanceMigration
// ---------------------------------------------------------------------------------------------

export const vmimPhases = [
  "",
  "Pending",
  "Scheduling",
  "Scheduled",
  "PreparingTarget",
  "TargetReady",
  "Running",
  "Succeeded",
  "Failed",
  "WaitingForSync",
  "Synchronizing",
] as const;
export type VMIMPhase = (typeof vmimPhases)[number];

export const finalVMIMPhases = ["Succeeded", "Failed"] as const satisfies readonly VMIMPhase[];

/** VMIM condition types (note the lower-case first letter). */
export const vmimConditionTypes = [
  "migrationAbortRequested",
  "migrationRejectedByResourceQuota",
  "migrationBlockedByUtilityVolumes",
  "decentralizedMigrationBlocked",
  "migrationBlockedByBackup",
] as const;
export type VMIMConditionType = (typeof vmimConditionTypes)[number];

export type MigrationPriority = "system-critical" | "user-triggered" | "system-maintenance";

export interface VirtualMachineInstanceMigrationSpec {
  vmiName: string;
  addedNodeSelector?: Record<string, string>;
  /** Decentralized (cross-cluster) source, v1.6.0+. */
  sendTo?: { migrationID: string; connectURL: string };
  /** Decentralized target, v1.6.0+. */
  receive?: { migrationID: string };
  /** Only virt-controller may set this. */
  priority?: MigrationPriority;
}

export interface VirtualMachineInstanceMigrationStatus {
  phase?: VMIMPhase;
  conditions?: VirtualMachineInstanceMigrationCondition[];
  phaseTransitionTimestamps?: PhaseTransitionTimestamp<VMIMPhase>[];
  migrationState?: VirtualMachineInstanceMigrationState;
  synchronizationAddresses?: string[];
}

export interface VirtualMachineInstanceMigration extends KubeObject {
  spec: VirtualMachineInstanceMigrationSpec;
  status?: VirtualMachineInstanceMigrationStatus;
}

// ---------------------------------------------------------------------------------------------
// KubeVirt CR
// ---------------------------------------------------------------------------------------------

export type WorkloadUpdateMethod = "LiveMigrate" | "Evict";

/** `spec.workloadUpdateStrategy`; an empty method list means no automated updates. */
export interface KubeVirtWorkloadUpdateStrategy {
  workloadUpdateMethods?: WorkloadUpdateMethod[];
  /** Default 10. */
  batchEvictionSize?: number;
  /** Default "1m0s". */
  batchEvictionInterval?: Duration;
}

export interface KubeVirtConfiguration {
  migrations?: MigrationConfiguration;
  evictionStrategy?: EvictionStrategy;
  developerConfiguration?: { featureGates?: string[]; disabledFeatureGates?: string[] };
  vmRolloutStrategy?: string;
}

export interface KubeVirtSpec {
  configuration?: KubeVirtConfiguration;
  workloadUpdateStrategy?: KubeVirtWorkloadUpdateStrategy;
  imageRegistry?: string;
  imageTag?: string;
}

export type KubeVirtPhase = "Deploying" | "Deployed" | "Deleting" | "Deleted" | "";

export interface KubeVirtGenerationStatus {
  group: string;
  resource: string;
  name: string;
  namespace?: string;
  lastGeneration: number;
  hash?: string;
}

export interface KubeVirtStatus {
  phase?: KubeVirtPhase;
  conditions?: KubeVirtCondition[];
  operatorVersion?: string;
  targetKubeVirtRegistry?: string;
  targetKubeVirtVersion?: string;
  targetDeploymentConfig?: string;
  targetDeploymentID?: string;
  observedKubeVirtRegistry?: string;
  observedKubeVirtVersion?: string;
  observedDeploymentConfig?: string;
  observedDeploymentID?: string;
  outdatedVirtualMachineInstanceWorkloads?: number;
  observedGeneration?: number;
  defaultArchitecture?: string;
  generations?: KubeVirtGenerationStatus[];
  synchronizationAddresses?: string[];
}

export interface KubeVirt extends KubeObject {
  spec: KubeVirtSpec;
  status?: KubeVirtStatus;
}

// ---------------------------------------------------------------------------------------------
// MigrationPolicy (migrations.kubevirt.io/v1alpha1, cluster-scoped)
// ---------------------------------------------------------------------------------------------

/** Plain equality label maps, not LabelSelector objects. */
export interface MigrationPolicySelectors {
  namespaceSelector?: Record<string, string>;
  virtualMachineInstanceSelector?: Record<string, string>;
}

export interface MigrationPolicySpec {
  selectors?: MigrationPolicySelectors;
  allowAutoConverge?: boolean;
  bandwidthPerMigration?: Quantity;
  completionTimeoutPerGiB?: number;
  maxDowntimeMs?: number;
  allowPostCopy?: boolean;
  allowWorkloadDisruption?: boolean;
  experimental?: ExperimentalMigrationOptions;
}

export interface MigrationPolicy extends KubeObject {
  spec: MigrationPolicySpec;
  /** Always empty. */
  status?: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Subresource API bodies (subresources.kubevirt.io/v1)
// ---------------------------------------------------------------------------------------------

/** `GET /apis/subresources.kubevirt.io/v1/version` (`kubevirt.io/client-go/version.Info`). */
export interface KubeVirtVersionInfo {
  gitVersion?: string;
  gitCommit?: string;
  gitTreeState?: string;
  buildDate?: string;
  goVersion?: string;
  compiler?: string;
  platform?: string;
}

/** Body of `PUT .../virtualmachines/{name}/migrate`. */
export interface MigrateOptions {
  /** `["All"]` for a dry run. */
  dryRun?: string[];
  addedNodeSelector?: Record<string, string>;
}

/** Body of `PUT .../virtualmachines/{name}/restart`. */
export interface RestartOptions {
  /** Only 0 (force restart) is accepted besides leaving it unset. */
  gracePeriodSeconds?: number;
  dryRun?: string[];
}

// ---------------------------------------------------------------------------------------------
// Multus
// ---------------------------------------------------------------------------------------------

/** `k8s.cni.cncf.io/v1` NetworkAttachmentDefinition. */
export interface NetworkAttachmentDefinition extends KubeObject {
  spec?: {
    /** The CNI configuration, a JSON document in a string. */
    config?: string;
  };
}

/**
 * kubernetes-nmstate's `nmstate.io/v1beta1` NodeNetworkState: one per node, named after it; its
 * `status.currentState` is nmstate's own report of the host's interfaces (untyped in the CRD).
 */
export interface NodeNetworkState extends KubeObject {
  status?: {
    currentState?: { interfaces?: NmstateInterface[] };
    lastSuccessfulUpdateTime?: Timestamp;
  };
}

/** One interface of nmstate's state: only what a Linux bridge and its uplink need. */
export interface NmstateInterface {
  name: string;
  /** `linux-bridge`, `ethernet`, `vlan`, `bond`, `ovs-bridge`, ... */
  type?: string;
  /** `up`, `down`, `absent`, `ignore`. */
  state?: string;
  bridge?: { options?: Record<string, unknown>; port?: NmstateBridgePort[] };
  vlan?: { "base-iface"?: string; id?: number };
}

export interface NmstateBridgePort {
  name: string;
  /** VLAN filtering on the port: `trunk` carries the tagged VLANs of `trunk-tags`. */
  vlan?: {
    mode?: string;
    "trunk-tags"?: ({ id: number } | { "id-range": { min: number; max: number } })[];
    tag?: number;
    "enable-native"?: boolean;
  };
}

// ---------------------------------------------------------------------------------------------
// Core Kubernetes objects
// ---------------------------------------------------------------------------------------------

export interface PodCondition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: Timestamp | null;
}

/** `state` / `lastState` of a container: exactly one of the three keys is set. */
export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: Timestamp };
  terminated?: {
    exitCode?: number;
    signal?: number;
    reason?: string;
    message?: string;
    startedAt?: Timestamp;
    finishedAt?: Timestamp;
  };
}

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";

export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    containers?: { name: string; image?: string }[];
    affinity?: Record<string, unknown>;
  };
  status?: {
    phase?: PodPhase;
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    startTime?: Timestamp;
    reason?: string;
    message?: string;
  };
}

/** A core/v1 Event (the form `kubectl get events` and most controllers still write). */
export interface Event extends KubeObject {
  involvedObject: {
    kind?: string;
    name?: string;
    namespace?: string;
    uid?: string;
    apiVersion?: string;
  };
  reason?: string;
  message?: string;
  /** "Normal" or "Warning". */
  type?: string;
  count?: number;
  firstTimestamp?: Timestamp | null;
  lastTimestamp?: Timestamp | null;
  /** MicroTime, set by events.k8s.io writers instead of first/lastTimestamp. */
  eventTime?: Timestamp | null;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  timeAdded?: Timestamp;
}

export interface NodeCondition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: Timestamp | null;
  lastTransitionTime?: Timestamp | null;
}

/** Labels (e.g. `kubevirt.io/schedulable`) come from `metadata.labels`. */
export interface Node extends KubeObject {
  spec?: {
    unschedulable?: boolean;
    taints?: Taint[];
  };
  status?: {
    conditions?: NodeCondition[];
    allocatable?: Record<string, Quantity>;
    capacity?: Record<string, Quantity>;
    nodeInfo?: { kubeletVersion?: string };
  };
}

export interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    template?: {
      metadata?: ObjectMeta;
      spec?: {
        containers?: { name: string; image?: string; args?: string[]; command?: string[] }[];
      };
    };
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
  };
}

export interface Namespace extends KubeObject {
  status?: { phase?: "Active" | "Terminating" };
}

/** `authorization.k8s.io/v1` SelfSubjectAccessReview (request and response). */
export interface SelfSubjectAccessReview {
  apiVersion: "authorization.k8s.io/v1";
  kind: "SelfSubjectAccessReview";
  metadata?: ObjectMeta;
  spec: {
    resourceAttributes?: {
      namespace?: string;
      verb?: string;
      group?: string;
      version?: string;
      resource?: string;
      subresource?: string;
      name?: string;
    };
  };
  status?: {
    allowed: boolean;
    denied?: boolean;
    reason?: string;
    evaluationError?: string;
  };
}

/** The body of `GET /version` (`k8s.io/apimachinery/pkg/version.Info`). */
export interface ServerVersion {
  major?: string;
  minor?: string;
  gitVersion?: string;
  gitCommit?: string;
  gitTreeState?: string;
  buildDate?: string;
  goVersion?: string;
  compiler?: string;
  platform?: string;
  emulationMajor?: string;
  emulationMinor?: string;
  minCompatibilityMajor?: string;
  minCompatibilityMinor?: string;
}
