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
//
// The builders live in objects/, one module per kind of object (their header comments say which);
// this module re-exports their public names, so that importers keep a single import path.

export type { VmBundle } from "./objects/bundle.js";
export { launcherStartupLogLines, vmBundle, vmStartEvents } from "./objects/bundle.js";
export type { NamespaceDescription, NodeDescription, NodeNetwork } from "./objects/cluster.js";
export { defaultCpuModels, defaultHostModel, namespace, node, nodeNetwork } from "./objects/cluster.js";
export {
  dirtyRateAnnotation,
  kubevirtApiVersion,
  outdatedLauncherImageLabel,
  resolvedMachineType,
} from "./objects/constants.js";
export type { EventDescription, ObjectReference } from "./objects/events.js";
export { aggregateEvents, event, referenceTo } from "./objects/events.js";
export type { Json } from "./objects/format.js";
export {
  firmwareUuid,
  generatedName,
  goObject,
  hashedPodInterfaceName,
  imageDigest,
  imageId,
  kubevirtLogTimestamp,
  quantityBytes,
  rfc3339,
  sanitizeHostname,
  sortKeysDeep,
  uuidV5,
  vmiIdLabel,
} from "./objects/format.js";
export type {
  MigrationTrigger,
  PastMigration,
  PastMigrationContext,
  PastMigrationDescription,
  PastMigrationFailure,
} from "./objects/history.js";
export {
  bridgePodInterface,
  clientSocketClosedReason,
  cpuMismatchMessage,
  cpuMismatchReason,
  evacuationMigrationAnnotation,
  migrationAbortedReason,
  migrationGenerateNames,
  migrationListenerPorts,
  pastMigration,
  vifCacheSyncFailedMessage,
  workloadUpdateMigrationAnnotation,
} from "./objects/history.js";
export type {
  ComponentDeploymentDescription,
  KubeVirtInstallDescription,
  MigrationPolicyDescription,
  NetworkAttachmentDefinitionDescription,
} from "./objects/kubevirt.js";
export {
  kubevirtCR,
  launcherImageFor,
  migrationPolicy,
  networkAttachmentDefinition,
  virtApiDeployment,
  virtControllerDeployment,
  virtOperatorDeployment,
} from "./objects/kubevirt.js";
export { launcherPod } from "./objects/launcher-pod.js";
export type { LauncherLogLineDescription } from "./objects/logs.js";
export { launcherLogLine } from "./objects/logs.js";
export type { StampedVm, VmStamper, VmStampInstance } from "./objects/stamp.js";
export { vmStamper } from "./objects/stamp.js";
export { isLiveMigratable, vm, vmi } from "./objects/vm.js";
export type {
  GuestOsName,
  VmContext,
  VmDescription,
  VmNetworkDescription,
  VmPlan,
  VmVolumeDescription,
} from "./objects/vm-plan.js";
export { planVm } from "./objects/vm-plan.js";
