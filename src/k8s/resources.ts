// The resources kvmig reads and writes, as data: where each lives in the API.

export interface ResourceDescriptor {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** The short name kvmig shows in messages, e.g. "vmi". */
  readonly shortName: string;
}

function describe(
  group: string,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  shortName: string,
): ResourceDescriptor {
  return { group, version, plural, kind, namespaced, shortName };
}

export const resources = {
  vm: describe("kubevirt.io", "v1", "virtualmachines", "VirtualMachine", true, "vm"),
  vmi: describe("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true, "vmi"),
  vmim: describe(
    "kubevirt.io",
    "v1",
    "virtualmachineinstancemigrations",
    "VirtualMachineInstanceMigration",
    true,
    "vmim",
  ),
  kubevirt: describe("kubevirt.io", "v1", "kubevirts", "KubeVirt", true, "kubevirt"),
  migrationPolicy: describe(
    "migrations.kubevirt.io",
    "v1alpha1",
    "migrationpolicies",
    "MigrationPolicy",
    false,
    "migrationpolicy",
  ),
  nad: describe(
    "k8s.cni.cncf.io",
    "v1",
    "network-attachment-definitions",
    "NetworkAttachmentDefinition",
    true,
    "net-attach-def",
  ),
  nns: describe("nmstate.io", "v1beta1", "nodenetworkstates", "NodeNetworkState", false, "nns"),
  pod: describe("", "v1", "pods", "Pod", true, "pod"),
  event: describe("", "v1", "events", "Event", true, "event"),
  node: describe("", "v1", "nodes", "Node", false, "node"),
  namespace: describe("", "v1", "namespaces", "Namespace", false, "namespace"),
  deployment: describe("apps", "v1", "deployments", "Deployment", true, "deployment"),
} as const satisfies Record<string, ResourceDescriptor>;

export type ResourceName = keyof typeof resources;

export const subresourceGroup = "subresources.kubevirt.io";
export const subresourceVersion = "v1";

/** `pods`, `virtualmachines.kubevirt.io`: how kubectl and the API server name a resource. */
export function qualifiedName(resource: ResourceDescriptor): string {
  return resource.group === "" ? resource.plural : `${resource.plural}.${resource.group}`;
}

export function groupVersionPath(group: string, version: string): string {
  return group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** The REST path of a collection or an object; `namespace` undefined lists across all namespaces. */
export function resourcePath(
  resource: ResourceDescriptor,
  namespace: string | undefined,
  name?: string,
  subresource?: string,
): string {
  let path = groupVersionPath(resource.group, resource.version);
  if (resource.namespaced && namespace !== undefined) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${resource.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}
