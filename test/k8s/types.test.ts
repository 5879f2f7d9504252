// Checks the hand-written KubeVirt types in src/k8s/types.ts against KubeVirt's own OpenAPI schema
// (api/openapi-spec/swagger.json, kept as kubevirt-openapi.json).
//
// The path lists below are typed `Record<FieldPaths<T>, true>`, so `tsc` rejects them unless they
// name every field path of the TypeScript type and nothing else. At run time every path is then
// resolved through the schema, so a field that is misspelled, misplaced, or typed as a scalar where
// the schema has a list (or the reverse) fails here.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ObjectMeta } from "../../src/k8s/meta.js";
import type {
  KubeVirt,
  KubeVirtVersionInfo,
  MigrateOptions,
  MigrationPolicy,
  RestartOptions,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../../src/k8s/types.js";
import type { FieldPaths } from "../helpers/field-paths.js";

/** Paths of a KubeVirt kind; `metadata` is one leaf here and ObjectMeta is checked once, separately. */
type Paths<T> = FieldPaths<T, ObjectMeta>;

// ---------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------

interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  format?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
}

interface Operation {
  responses?: Record<string, { schema?: SchemaNode }>;
}

interface Swagger {
  definitions: Record<string, SchemaNode>;
  paths: Record<string, Record<string, Operation>>;
}

// KubeVirt's own OpenAPI schema (api/openapi-spec/swagger.json), kept as a fixture.
const schemaFile = fileURLToPath(new URL("../fixtures/kubevirt-openapi.json", import.meta.url));

function loadSwagger(): Swagger {
  return JSON.parse(readFileSync(schemaFile, "utf8")) as Swagger;
}

const swagger = loadSwagger();

const refPrefix = "#/definitions/";

/** Follows `$ref`s to the definition they name. `where` is updated to the definition's name. */
function deref(node: SchemaNode, where: { name: string }): SchemaNode {
  let current = node;
  for (let hops = 0; current.$ref !== undefined; hops++) {
    if (hops > 20 || !current.$ref.startsWith(refPrefix)) throw new Error(`bad $ref ${current.$ref}`);
    const name = current.$ref.slice(refPrefix.length);
    const target = swagger.definitions[name];
    if (target === undefined) throw new Error(`$ref to missing definition ${name}`);
    where.name = name;
    current = target;
  }
  return current;
}

function isArray(node: SchemaNode): boolean {
  return node.type === "array" || (Array.isArray(node.type) && node.type.includes("array"));
}

type Walk = { node: SchemaNode; definition: string } | { error: string };

/**
 * Walks a dotted field path (`status.conditions[].type`) from a definition, following `$ref`,
 * `properties` and `items`. A map (`additionalProperties`) ends a path.
 */
function walkPath(rootDefinition: string, path: string): Walk {
  const root = swagger.definitions[rootDefinition];
  if (root === undefined) return { error: `no definition ${rootDefinition}` };
  const where = { name: rootDefinition };
  let node: SchemaNode = root;
  let walked = "";
  for (const segment of path.split(".")) {
    const match = /^([^[\]]+)((?:\[\])*)$/.exec(segment);
    const name = match?.[1];
    if (match === null || name === undefined) return { error: `malformed segment "${segment}"` };
    const arrayDepth = (match[2] ?? "").length / 2;
    node = deref(node, where);
    const at = walked === "" ? where.name : `${walked} (${where.name})`;
    if (node.properties === undefined) {
      return {
        error:
          node.additionalProperties !== undefined
            ? `${at} is a map; a path cannot continue into "${name}"`
            : `${at} has no properties; cannot find "${name}"`,
      };
    }
    const property = node.properties[name];
    if (property === undefined) {
      const near = Object.keys(node.properties).find((k) => k.toLowerCase() === name.toLowerCase());
      return {
        error: `${at} has no property "${name}"${near === undefined ? "" : ` (did you mean "${near}"?)`}`,
      };
    }
    walked = walked === "" ? name : `${walked}.${name}`;
    node = property;
    for (let i = 0; i < arrayDepth; i++) {
      const resolved = deref(node, where);
      if (!isArray(resolved) || resolved.items === undefined) {
        return { error: `${walked} is not an array in the schema` };
      }
      node = resolved.items;
      walked += "[]";
    }
    if (arrayDepth === 0 && isArray(deref(node, { name: "" }))) {
      return { error: `${walked} is an array in the schema; write it as "${name}[]"` };
    }
  }
  node = deref(node, where);
  return { node, definition: where.name };
}

/** Undefined when the path exists in the schema, otherwise a message saying where it breaks off. */
function resolvePath(rootDefinition: string, path: string): string | undefined {
  const walk = walkPath(rootDefinition, path);
  return "error" in walk ? walk.error : undefined;
}

function unresolved(rootDefinition: string, paths: Record<string, true>): string[] {
  return Object.keys(paths).flatMap((path) => {
    const problem = resolvePath(rootDefinition, path);
    return problem === undefined ? [] : [`${path}: ${problem}`];
  });
}

// ---------------------------------------------------------------------------------------------
// Every field path of each type (complete and exact, enforced by tsc)
// ---------------------------------------------------------------------------------------------

const vmPaths: Record<Paths<VirtualMachine>, true> = {
  apiVersion: true,
  kind: true,
  metadata: true,
  "spec.runStrategy": true,
  "spec.running": true,
  "spec.template.metadata": true,
  "spec.template.spec.affinity": true,
  "spec.template.spec.domain.cpu.cores": true,
  "spec.template.spec.domain.cpu.dedicatedCpuPlacement": true,
  "spec.template.spec.domain.cpu.maxSockets": true,
  "spec.template.spec.domain.cpu.model": true,
  "spec.template.spec.domain.cpu.sockets": true,
  "spec.template.spec.domain.cpu.threads": true,
  "spec.template.spec.domain.devices.disks[]": true,
  "spec.template.spec.domain.devices.interfaces[].binding.name": true,
  "spec.template.spec.domain.devices.interfaces[].bridge": true,
  "spec.template.spec.domain.devices.interfaces[].macAddress": true,
  "spec.template.spec.domain.devices.interfaces[].masquerade": true,
  "spec.template.spec.domain.devices.interfaces[].model": true,
  "spec.template.spec.domain.devices.interfaces[].name": true,
  "spec.template.spec.domain.devices.interfaces[].passt": true,
  "spec.template.spec.domain.devices.interfaces[].sriov": true,
  "spec.template.spec.domain.memory.guest": true,
  "spec.template.spec.domain.memory.maxGuest": true,
  "spec.template.spec.domain.resources.limits": true,
  "spec.template.spec.domain.resources.overcommitGuestOverhead": true,
  "spec.template.spec.domain.resources.requests": true,
  "spec.template.spec.evictionStrategy": true,
  "spec.template.spec.networks[].multus.default": true,
  "spec.template.spec.networks[].multus.networkName": true,
  "spec.template.spec.networks[].name": true,
  "spec.template.spec.networks[].pod.vmIPv6NetworkCIDR": true,
  "spec.template.spec.networks[].pod.vmNetworkCIDR": true,
  "spec.template.spec.nodeSelector": true,
  "spec.template.spec.terminationGracePeriodSeconds": true,
  "spec.template.spec.volumes[].cloudInitConfigDrive": true,
  "spec.template.spec.volumes[].cloudInitNoCloud": true,
  "spec.template.spec.volumes[].containerDisk.image": true,
  "spec.template.spec.volumes[].containerDisk.path": true,
  "spec.template.spec.volumes[].dataVolume.hotpluggable": true,
  "spec.template.spec.volumes[].dataVolume.name": true,
  "spec.template.spec.volumes[].emptyDisk": true,
  "spec.template.spec.volumes[].hostDisk": true,
  "spec.template.spec.volumes[].name": true,
  "spec.template.spec.volumes[].persistentVolumeClaim.claimName": true,
  "spec.template.spec.volumes[].persistentVolumeClaim.hotpluggable": true,
  "spec.template.spec.volumes[].persistentVolumeClaim.readOnly": true,
  "status.conditions[].lastProbeTime": true,
  "status.conditions[].lastTransitionTime": true,
  "status.conditions[].message": true,
  "status.conditions[].reason": true,
  "status.conditions[].status": true,
  "status.conditions[].type": true,
  "status.created": true,
  "status.printableStatus": true,
  "status.ready": true,
  "status.runStrategy": true,
  "status.stateChangeRequests[].action": true,
  "status.stateChangeRequests[].data": true,
  "status.stateChangeRequests[].uid": true,
};

const vmiPaths: Record<Paths<VirtualMachineInstance>, true> = {
  apiVersion: true,
  kind: true,
  metadata: true,
  "spec.affinity": true,
  "spec.domain.cpu.cores": true,
  "spec.domain.cpu.dedicatedCpuPlacement": true,
  "spec.domain.cpu.maxSockets": true,
  "spec.domain.cpu.model": true,
  "spec.domain.cpu.sockets": true,
  "spec.domain.cpu.threads": true,
  "spec.domain.devices.disks[]": true,
  "spec.domain.devices.interfaces[].binding.name": true,
  "spec.domain.devices.interfaces[].bridge": true,
  "spec.domain.devices.interfaces[].macAddress": true,
  "spec.domain.devices.interfaces[].masquerade": true,
  "spec.domain.devices.interfaces[].model": true,
  "spec.domain.devices.interfaces[].name": true,
  "spec.domain.devices.interfaces[].passt": true,
  "spec.domain.devices.interfaces[].sriov": true,
  "spec.domain.memory.guest": true,
  "spec.domain.memory.maxGuest": true,
  "spec.domain.resources.limits": true,
  "spec.domain.resources.overcommitGuestOverhead": true,
  "spec.domain.resources.requests": true,
  "spec.evictionStrategy": true,
  "spec.networks[].multus.default": true,
  "spec.networks[].multus.networkName": true,
  "spec.networks[].name": true,
  "spec.networks[].pod.vmIPv6NetworkCIDR": true,
  "spec.networks[].pod.vmNetworkCIDR": true,
  "spec.nodeSelector": true,
  "spec.terminationGracePeriodSeconds": true,
  "spec.volumes[].cloudInitConfigDrive": true,
  "spec.volumes[].cloudInitNoCloud": true,
  "spec.volumes[].containerDisk.image": true,
  "spec.volumes[].containerDisk.path": true,
  "spec.volumes[].dataVolume.hotpluggable": true,
  "spec.volumes[].dataVolume.name": true,
  "spec.volumes[].emptyDisk": true,
  "spec.volumes[].hostDisk": true,
  "spec.volumes[].name": true,
  "spec.volumes[].persistentVolumeClaim.claimName": true,
  "spec.volumes[].persistentVolumeClaim.hotpluggable": true,
  "spec.volumes[].persistentVolumeClaim.readOnly": true,
  "status.activePods": true,
  "status.conditions[].lastProbeTime": true,
  "status.conditions[].lastTransitionTime": true,
  "status.conditions[].message": true,
  "status.conditions[].reason": true,
  "status.conditions[].status": true,
  "status.conditions[].type": true,
  "status.evacuationNodeName": true,
  "status.interfaces[].infoSource": true,
  "status.interfaces[].interfaceName": true,
  "status.interfaces[].ipAddress": true,
  "status.interfaces[].ipAddresses[]": true,
  "status.interfaces[].mac": true,
  "status.interfaces[].name": true,
  "status.launcherContainerImageVersion": true,
  "status.migrationMethod": true,
  "status.migrationState.abortRequested": true,
  "status.migrationState.abortStatus": true,
  "status.migrationState.completed": true,
  "status.migrationState.endTimestamp": true,
  "status.migrationState.failed": true,
  "status.migrationState.failureReason": true,
  "status.migrationState.migrationConfiguration.allowAutoConverge": true,
  "status.migrationState.migrationConfiguration.allowPostCopy": true,
  "status.migrationState.migrationConfiguration.allowWorkloadDisruption": true,
  "status.migrationState.migrationConfiguration.bandwidthPerMigration": true,
  "status.migrationState.migrationConfiguration.completionTimeoutPerGiB": true,
  "status.migrationState.migrationConfiguration.disableTLS": true,
  "status.migrationState.migrationConfiguration.experimental.compression": true,
  "status.migrationState.migrationConfiguration.experimental.downtimeTuning": true,
  "status.migrationState.migrationConfiguration.experimental.stallDetector": true,
  "status.migrationState.migrationConfiguration.matchSELinuxLevelOnMigration": true,
  "status.migrationState.migrationConfiguration.maxDowntimeMs": true,
  "status.migrationState.migrationConfiguration.network": true,
  "status.migrationState.migrationConfiguration.nodeDrainTaintKey": true,
  "status.migrationState.migrationConfiguration.parallelMigrationsPerCluster": true,
  "status.migrationState.migrationConfiguration.parallelOutboundMigrationsPerNode": true,
  "status.migrationState.migrationConfiguration.progressTimeout": true,
  "status.migrationState.migrationConfiguration.unsafeMigrationOverride": true,
  "status.migrationState.migrationConfiguration.utilityVolumesTimeout": true,
  "status.migrationState.migrationNetworkType": true,
  "status.migrationState.migrationPolicyName": true,
  "status.migrationState.migrationUid": true,
  "status.migrationState.mode": true,
  "status.migrationState.sourceNode": true,
  "status.migrationState.sourcePersistentStatePVCName": true,
  "status.migrationState.sourcePod": true,
  "status.migrationState.sourceState.domainName": true,
  "status.migrationState.sourceState.domainNamespace": true,
  "status.migrationState.sourceState.migrationUID": true,
  "status.migrationState.sourceState.node": true,
  "status.migrationState.sourceState.nodeSelectors": true,
  "status.migrationState.sourceState.persistentStatePVCName": true,
  "status.migrationState.sourceState.pod": true,
  "status.migrationState.sourceState.selinuxContext": true,
  "status.migrationState.sourceState.syncAddress": true,
  "status.migrationState.sourceState.virtualMachineInstanceUID": true,
  "status.migrationState.startTimestamp": true,
  "status.migrationState.targetAttachmentPodUID": true,
  "status.migrationState.targetCPUSet[]": true,
  "status.migrationState.targetDirectMigrationNodePorts": true,
  "status.migrationState.targetMemoryOverhead": true,
  "status.migrationState.targetNode": true,
  "status.migrationState.targetNodeAddress": true,
  "status.migrationState.targetNodeDomainDetected": true,
  "status.migrationState.targetNodeDomainReadyTimestamp": true,
  "status.migrationState.targetNodeTopology": true,
  "status.migrationState.targetPersistentStatePVCName": true,
  "status.migrationState.targetPod": true,
  "status.migrationState.targetState.attachmentPodUID": true,
  "status.migrationState.targetState.cpuSet[]": true,
  "status.migrationState.targetState.directMigrationNodePorts": true,
  "status.migrationState.targetState.domainDetected": true,
  "status.migrationState.targetState.domainName": true,
  "status.migrationState.targetState.domainNamespace": true,
  "status.migrationState.targetState.domainReadyTimestamp": true,
  "status.migrationState.targetState.migrationUID": true,
  "status.migrationState.targetState.node": true,
  "status.migrationState.targetState.nodeAddress": true,
  "status.migrationState.targetState.nodeTopology": true,
  "status.migrationState.targetState.persistentStatePVCName": true,
  "status.migrationState.targetState.pod": true,
  "status.migrationState.targetState.selinuxContext": true,
  "status.migrationState.targetState.syncAddress": true,
  "status.migrationState.targetState.virtualMachineInstanceUID": true,
  "status.migrationTransport": true,
  "status.nodeName": true,
  "status.phase": true,
  "status.phaseTransitionTimestamps[].phase": true,
  "status.phaseTransitionTimestamps[].phaseTransitionTimestamp": true,
  "status.qosClass": true,
  "status.reason": true,
  "status.selinuxContext": true,
};

const vmimPaths: Record<Paths<VirtualMachineInstanceMigration>, true> = {
  apiVersion: true,
  kind: true,
  metadata: true,
  "spec.addedNodeSelector": true,
  "spec.priority": true,
  "spec.receive.migrationID": true,
  "spec.sendTo.connectURL": true,
  "spec.sendTo.migrationID": true,
  "spec.vmiName": true,
  "status.conditions[].lastProbeTime": true,
  "status.conditions[].lastTransitionTime": true,
  "status.conditions[].message": true,
  "status.conditions[].reason": true,
  "status.conditions[].status": true,
  "status.conditions[].type": true,
  "status.migrationState.abortRequested": true,
  "status.migrationState.abortStatus": true,
  "status.migrationState.completed": true,
  "status.migrationState.endTimestamp": true,
  "status.migrationState.failed": true,
  "status.migrationState.failureReason": true,
  "status.migrationState.migrationConfiguration.allowAutoConverge": true,
  "status.migrationState.migrationConfiguration.allowPostCopy": true,
  "status.migrationState.migrationConfiguration.allowWorkloadDisruption": true,
  "status.migrationState.migrationConfiguration.bandwidthPerMigration": true,
  "status.migrationState.migrationConfiguration.completionTimeoutPerGiB": true,
  "status.migrationState.migrationConfiguration.disableTLS": true,
  "status.migrationState.migrationConfiguration.experimental.compression": true,
  "status.migrationState.migrationConfiguration.experimental.downtimeTuning": true,
  "status.migrationState.migrationConfiguration.experimental.stallDetector": true,
  "status.migrationState.migrationConfiguration.matchSELinuxLevelOnMigration": true,
  "status.migrationState.migrationConfiguration.maxDowntimeMs": true,
  "status.migrationState.migrationConfiguration.network": true,
  "status.migrationState.migrationConfiguration.nodeDrainTaintKey": true,
  "status.migrationState.migrationConfiguration.parallelMigrationsPerCluster": true,
  "status.migrationState.migrationConfiguration.parallelOutboundMigrationsPerNode": true,
  "status.migrationState.migrationConfiguration.progressTimeout": true,
  "status.migrationState.migrationConfiguration.unsafeMigrationOverride": true,
  "status.migrationState.migrationConfiguration.utilityVolumesTimeout": true,
  "status.migrationState.migrationNetworkType": true,
  "status.migrationState.migrationPolicyName": true,
  "status.migrationState.migrationUid": true,
  "status.migrationState.mode": true,
  "status.migrationState.sourceNode": true,
  "status.migrationState.sourcePersistentStatePVCName": true,
  "status.migrationState.sourcePod": true,
  "status.migrationState.sourceState.domainName": true,
  "status.migrationState.sourceState.domainNamespace": true,
  "status.migrationState.sourceState.migrationUID": true,
  "status.migrationState.sourceState.node": true,
  "status.migrationState.sourceState.nodeSelectors": true,
  "status.migrationState.sourceState.persistentStatePVCName": true,
  "status.migrationState.sourceState.pod": true,
  "status.migrationState.sourceState.selinuxContext": true,
  "status.migrationState.sourceState.syncAddress": true,
  "status.migrationState.sourceState.virtualMachineInstanceUID": true,
  "status.migrationState.startTimestamp": true,
  "status.migrationState.targetAttachmentPodUID": true,
  "status.migrationState.targetCPUSet[]": true,
  "status.migrationState.targetDirectMigrationNodePorts": true,
  "status.migrationState.targetMemoryOverhead": true,
  "status.migrationState.targetNode": true,
  "status.migrationState.targetNodeAddress": true,
  "status.migrationState.targetNodeDomainDetected": true,
  "status.migrationState.targetNodeDomainReadyTimestamp": true,
  "status.migrationState.targetNodeTopology": true,
  "status.migrationState.targetPersistentStatePVCName": true,
  "status.migrationState.targetPod": true,
  "status.migrationState.targetState.attachmentPodUID": true,
  "status.migrationState.targetState.cpuSet[]": true,
  "status.migrationState.targetState.directMigrationNodePorts": true,
  "status.migrationState.targetState.domainDetected": true,
  "status.migrationState.targetState.domainName": true,
  "status.migrationState.targetState.domainNamespace": true,
  "status.migrationState.targetState.domainReadyTimestamp": true,
  "status.migrationState.targetState.migrationUID": true,
  "status.migrationState.targetState.node": true,
  "status.migrationState.targetState.nodeAddress": true,
  "status.migrationState.targetState.nodeTopology": true,
  "status.migrationState.targetState.persistentStatePVCName": true,
  "status.migrationState.targetState.pod": true,
  "status.migrationState.targetState.selinuxContext": true,
  "status.migrationState.targetState.syncAddress": true,
  "status.migrationState.targetState.virtualMachineInstanceUID": true,
  "status.phase": true,
  "status.phaseTransitionTimestamps[].phase": true,
  "status.phaseTransitionTimestamps[].phaseTransitionTimestamp": true,
  "status.synchronizationAddresses[]": true,
};

const kubeVirtPaths: Record<Paths<KubeVirt>, true> = {
  apiVersion: true,
  kind: true,
  metadata: true,
  "spec.configuration.developerConfiguration.disabledFeatureGates[]": true,
  "spec.configuration.developerConfiguration.featureGates[]": true,
  "spec.configuration.evictionStrategy": true,
  "spec.configuration.migrations.allowAutoConverge": true,
  "spec.configuration.migrations.allowPostCopy": true,
  "spec.configuration.migrations.allowWorkloadDisruption": true,
  "spec.configuration.migrations.bandwidthPerMigration": true,
  "spec.configuration.migrations.completionTimeoutPerGiB": true,
  "spec.configuration.migrations.disableTLS": true,
  "spec.configuration.migrations.matchSELinuxLevelOnMigration": true,
  "spec.configuration.migrations.maxDowntimeMs": true,
  "spec.configuration.migrations.network": true,
  "spec.configuration.migrations.nodeDrainTaintKey": true,
  "spec.configuration.migrations.parallelMigrationsPerCluster": true,
  "spec.configuration.migrations.parallelOutboundMigrationsPerNode": true,
  "spec.configuration.migrations.progressTimeout": true,
  "spec.configuration.migrations.unsafeMigrationOverride": true,
  "spec.configuration.migrations.utilityVolumesTimeout": true,
  "spec.configuration.vmRolloutStrategy": true,
  "spec.imageRegistry": true,
  "spec.imageTag": true,
  "spec.workloadUpdateStrategy.batchEvictionInterval": true,
  "spec.workloadUpdateStrategy.batchEvictionSize": true,
  "spec.workloadUpdateStrategy.workloadUpdateMethods[]": true,
  "status.conditions[].lastProbeTime": true,
  "status.conditions[].lastTransitionTime": true,
  "status.conditions[].message": true,
  "status.conditions[].reason": true,
  "status.conditions[].status": true,
  "status.conditions[].type": true,
  "status.defaultArchitecture": true,
  "status.generations[].group": true,
  "status.generations[].hash": true,
  "status.generations[].lastGeneration": true,
  "status.generations[].name": true,
  "status.generations[].namespace": true,
  "status.generations[].resource": true,
  "status.observedDeploymentConfig": true,
  "status.observedDeploymentID": true,
  "status.observedGeneration": true,
  "status.observedKubeVirtRegistry": true,
  "status.observedKubeVirtVersion": true,
  "status.operatorVersion": true,
  "status.outdatedVirtualMachineInstanceWorkloads": true,
  "status.phase": true,
  "status.synchronizationAddresses[]": true,
  "status.targetDeploymentConfig": true,
  "status.targetDeploymentID": true,
  "status.targetKubeVirtRegistry": true,
  "status.targetKubeVirtVersion": true,
};

const migrationPolicyPaths: Record<Paths<MigrationPolicy>, true> = {
  apiVersion: true,
  kind: true,
  metadata: true,
  "spec.allowAutoConverge": true,
  "spec.allowPostCopy": true,
  "spec.allowWorkloadDisruption": true,
  "spec.bandwidthPerMigration": true,
  "spec.completionTimeoutPerGiB": true,
  "spec.experimental.compression": true,
  "spec.experimental.downtimeTuning": true,
  "spec.experimental.stallDetector": true,
  "spec.maxDowntimeMs": true,
  "spec.selectors.namespaceSelector": true,
  "spec.selectors.virtualMachineInstanceSelector": true,
  status: true,
};

const objectMetaPaths: Record<FieldPaths<ObjectMeta>, true> = {
  annotations: true,
  creationTimestamp: true,
  deletionTimestamp: true,
  "finalizers[]": true,
  generateName: true,
  generation: true,
  labels: true,
  name: true,
  namespace: true,
  "ownerReferences[].apiVersion": true,
  "ownerReferences[].blockOwnerDeletion": true,
  "ownerReferences[].controller": true,
  "ownerReferences[].kind": true,
  "ownerReferences[].name": true,
  "ownerReferences[].uid": true,
  resourceVersion: true,
  uid: true,
};

const versionInfoPaths: Record<Paths<KubeVirtVersionInfo>, true> = {
  buildDate: true,
  compiler: true,
  gitCommit: true,
  gitTreeState: true,
  gitVersion: true,
  goVersion: true,
  platform: true,
};

const migrateOptionsPaths: Record<Paths<MigrateOptions>, true> = {
  addedNodeSelector: true,
  "dryRun[]": true,
};

const restartOptionsPaths: Record<Paths<RestartOptions>, true> = {
  "dryRun[]": true,
  gracePeriodSeconds: true,
};
// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

const kinds: { type: string; definition: string; paths: Record<string, true> }[] = [
  { type: "VirtualMachine", definition: "v1.VirtualMachine", paths: vmPaths },
  { type: "VirtualMachineInstance", definition: "v1.VirtualMachineInstance", paths: vmiPaths },
  {
    type: "VirtualMachineInstanceMigration",
    definition: "v1.VirtualMachineInstanceMigration",
    paths: vmimPaths,
  },
  { type: "KubeVirt", definition: "v1.KubeVirt", paths: kubeVirtPaths },
  { type: "MigrationPolicy", definition: "v1alpha1.MigrationPolicy", paths: migrationPolicyPaths },
  { type: "MigrateOptions", definition: "v1.MigrateOptions", paths: migrateOptionsPaths },
  { type: "RestartOptions", definition: "v1.RestartOptions", paths: restartOptionsPaths },
  {
    type: "ObjectMeta (src/k8s/meta.ts)",
    definition: "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    paths: objectMetaPaths,
  },
];

describe("KubeVirt types match the KubeVirt OpenAPI schema", () => {
  for (const kind of kinds) {
    it(`every field path of ${kind.type} exists in ${kind.definition}`, () => {
      expect(Object.keys(kind.paths).length).toBeGreaterThan(0);
      expect(unresolved(kind.definition, kind.paths)).toEqual([]);
    });
  }

  it("KubeVirtVersionInfo has exactly the JSON fields of kubevirt.io/client-go/version.Info", () => {
    // The swagger documents no body for the version endpoint, so the reference is the Go struct
    // (staging/src/kubevirt.io/client-go/version/types.go). If the swagger ever gains a schema for
    // it, this test fails so the check can move to the schema like the kinds above.
    const operation = swagger.paths["/apis/subresources.kubevirt.io/v1/version"]?.get;
    expect(operation).toBeDefined();
    expect(operation?.responses?.["200"]?.schema).toBeUndefined();
    expect(Object.keys(versionInfoPaths).sort()).toEqual(
      ["buildDate", "compiler", "gitCommit", "gitTreeState", "gitVersion", "goVersion", "platform"].sort(),
    );
  });
});

/**
 * Structs kvmig models completely: every property the schema declares must appear in the type
 * (as a path or a path prefix), so a field KubeVirt adds shows up here when the schema is updated.
 */
const fullyModelled: {
  label: string;
  root: string;
  paths: Record<string, true>;
  at: string;
  definition: string;
}[] = [
  {
    label: "VMI",
    root: "v1.VirtualMachineInstance",
    paths: vmiPaths,
    at: "status.migrationState",
    definition: "v1.VirtualMachineInstanceMigrationState",
  },
  {
    label: "VMI",
    root: "v1.VirtualMachineInstance",
    paths: vmiPaths,
    at: "status.migrationState.migrationConfiguration",
    definition: "v1.VMIMConfigurationOptions",
  },
  {
    label: "VMI",
    root: "v1.VirtualMachineInstance",
    paths: vmiPaths,
    at: "status.migrationState.sourceState",
    definition: "v1.VirtualMachineInstanceMigrationSourceState",
  },
  {
    label: "VMI",
    root: "v1.VirtualMachineInstance",
    paths: vmiPaths,
    at: "status.migrationState.targetState",
    definition: "v1.VirtualMachineInstanceMigrationTargetState",
  },
  {
    label: "VMI",
    root: "v1.VirtualMachineInstance",
    paths: vmiPaths,
    at: "status.conditions[]",
    definition: "v1.VirtualMachineInstanceCondition",
  },
  {
    label: "VMIM",
    root: "v1.VirtualMachineInstanceMigration",
    paths: vmimPaths,
    at: "spec",
    definition: "v1.VirtualMachineInstanceMigrationSpec",
  },
  {
    label: "VMIM",
    root: "v1.VirtualMachineInstanceMigration",
    paths: vmimPaths,
    at: "status",
    definition: "v1.VirtualMachineInstanceMigrationStatus",
  },
  {
    label: "VMIM",
    root: "v1.VirtualMachineInstanceMigration",
    paths: vmimPaths,
    at: "status.conditions[]",
    definition: "v1.VirtualMachineInstanceMigrationCondition",
  },
  {
    label: "KubeVirt",
    root: "v1.KubeVirt",
    paths: kubeVirtPaths,
    at: "spec.configuration.migrations",
    definition: "v1.MigrationConfiguration",
  },
  {
    label: "KubeVirt",
    root: "v1.KubeVirt",
    paths: kubeVirtPaths,
    at: "spec.workloadUpdateStrategy",
    definition: "v1.KubeVirtWorkloadUpdateStrategy",
  },
  {
    label: "KubeVirt",
    root: "v1.KubeVirt",
    paths: kubeVirtPaths,
    at: "status",
    definition: "v1.KubeVirtStatus",
  },
  {
    label: "MigrationPolicy",
    root: "v1alpha1.MigrationPolicy",
    paths: migrationPolicyPaths,
    at: "spec",
    definition: "v1alpha1.MigrationPolicySpec",
  },
  {
    label: "MigrationPolicy",
    root: "v1alpha1.MigrationPolicy",
    paths: migrationPolicyPaths,
    at: "spec.selectors",
    definition: "v1alpha1.Selectors",
  },
];

describe("migration structs are modelled completely", () => {
  for (const entry of fullyModelled) {
    it(`${entry.label} ${entry.at} covers every property of ${entry.definition}`, () => {
      const walk = walkPath(entry.root, entry.at);
      if ("error" in walk) throw new Error(walk.error);
      expect(walk.definition).toBe(entry.definition);
      const declared = Object.keys(walk.node.properties ?? {});
      expect(declared.length).toBeGreaterThan(0);
      const paths = Object.keys(entry.paths);
      const missing = declared.filter((name) => {
        const path = `${entry.at}.${name}`;
        return !paths.some((p) => p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[]`));
      });
      expect(missing).toEqual([]);
    });
  }
});

describe("the path resolver", () => {
  it("accepts real paths through $ref, items and maps", () => {
    expect(resolvePath("v1.VirtualMachineInstance", "status.migrationState.migrationUid")).toBeUndefined();
    expect(resolvePath("v1.VirtualMachineInstance", "status.conditions[].type")).toBeUndefined();
    expect(resolvePath("v1.VirtualMachineInstance", "status.activePods")).toBeUndefined();
    expect(
      resolvePath("v1.VirtualMachineInstanceMigration", "status.migrationState.sourceState.migrationUID"),
    ).toBeUndefined();
  });

  it("rejects a misspelled field and suggests the right spelling", () => {
    expect(resolvePath("v1.VirtualMachineInstance", "status.migrationState.migrationUID")).toMatch(
      /no property "migrationUID" \(did you mean "migrationUid"\?\)/,
    );
  });

  it("rejects a list used as a scalar and a scalar used as a list", () => {
    expect(resolvePath("v1.VirtualMachineInstance", "status.conditions.type")).toMatch(/is an array/);
    expect(resolvePath("v1.VirtualMachineInstance", "status.nodeName[]")).toMatch(/is not an array/);
  });

  it("rejects a path that continues into a map", () => {
    expect(resolvePath("v1.VirtualMachineInstance", "status.activePods.someUid")).toMatch(/is a map/);
  });
});
