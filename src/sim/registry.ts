// The resources the simulated API server serves, as data: enough of each to route a request,
// answer discovery and validate a field selector the way kube-apiserver and KubeVirt's CRDs do.

export interface SimResource {
  readonly group: string;
  /** Served versions, preferred first. */
  readonly versions: readonly string[];
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  /** Subresources besides the object itself, e.g. `status`, `log`. */
  readonly subresources: readonly string[];
  /** Where the objects live in the store; two APIs may share it (core and events.k8s.io events). */
  readonly storage: string;
  /** Field selector labels beyond `metadata.name` and `metadata.namespace`. */
  readonly fieldLabels: readonly string[];
  /** A custom resource (KubeVirt's CRDs): no strategic merge patch, Status on delete. */
  readonly custom: boolean;
  /** Whether `metadata.generation` is kept (CRDs and apps do; most core kinds do not). */
  readonly generation: boolean;
  /** Action-only routes with no stored objects (SelfSubjectAccessReview, KubeVirt's subresource API). */
  readonly virtual?: boolean;
}

const crudVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function resource(
  fields: Partial<SimResource> & Pick<SimResource, "group" | "plural" | "kind">,
): SimResource {
  const custom = fields.custom ?? false;
  return {
    versions: ["v1"],
    singular: fields.kind.toLowerCase(),
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: crudVerbs,
    subresources: [],
    storage: fields.group === "" ? fields.plural : `${fields.plural}.${fields.group}`,
    fieldLabels: [],
    generation: custom,
    ...fields,
    custom,
  };
}

const kubevirtVersions = ["v1", "v1alpha3"];

/** kubernetes-nmstate's API group: absent from a cluster whose scenario has no `nmstate` section. */
export const nmstateGroup = "nmstate.io";

export const simResources: readonly SimResource[] = [
  resource({ group: "", plural: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"] }),
  resource({
    group: "",
    plural: "nodes",
    kind: "Node",
    namespaced: false,
    shortNames: ["no"],
    subresources: ["status"],
    fieldLabels: ["spec.unschedulable"],
  }),
  resource({
    group: "",
    plural: "pods",
    kind: "Pod",
    shortNames: ["po"],
    categories: ["all"],
    subresources: ["status", "log", "eviction"],
    fieldLabels: [
      "spec.nodeName",
      "spec.restartPolicy",
      "spec.schedulerName",
      "status.phase",
      "status.podIP",
    ],
  }),
  resource({
    group: "",
    plural: "events",
    kind: "Event",
    shortNames: ["ev"],
    storage: "events",
    fieldLabels: [
      "involvedObject.kind",
      "involvedObject.namespace",
      "involvedObject.name",
      "involvedObject.uid",
      "involvedObject.apiVersion",
      "involvedObject.resourceVersion",
      "involvedObject.fieldPath",
      "reason",
      "reportingComponent",
      "source",
      "type",
    ],
  }),
  resource({
    group: "events.k8s.io",
    plural: "events",
    kind: "Event",
    shortNames: ["ev"],
    storage: "events",
    fieldLabels: [
      "regarding.kind",
      "regarding.namespace",
      "regarding.name",
      "regarding.uid",
      "regarding.apiVersion",
      "regarding.resourceVersion",
      "regarding.fieldPath",
      "reason",
      "reportingController",
      "type",
    ],
  }),
  resource({
    group: "apps",
    plural: "deployments",
    kind: "Deployment",
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: ["status"],
    generation: true,
  }),
  resource({
    group: "policy",
    plural: "poddisruptionbudgets",
    kind: "PodDisruptionBudget",
    shortNames: ["pdb"],
    subresources: ["status"],
    generation: true,
  }),
  resource({
    group: "authorization.k8s.io",
    plural: "selfsubjectaccessreviews",
    kind: "SelfSubjectAccessReview",
    namespaced: false,
    verbs: ["create"],
    virtual: true,
  }),
  resource({
    group: "authorization.k8s.io",
    plural: "selfsubjectrulesreviews",
    kind: "SelfSubjectRulesReview",
    namespaced: false,
    verbs: ["create"],
    virtual: true,
  }),
  resource({
    group: "authentication.k8s.io",
    plural: "selfsubjectreviews",
    kind: "SelfSubjectReview",
    namespaced: false,
    verbs: ["create"],
    virtual: true,
  }),
  // RBAC (src/sim/rbac.ts evaluates these objects for every request).
  resource({ group: "rbac.authorization.k8s.io", plural: "roles", kind: "Role" }),
  resource({
    group: "rbac.authorization.k8s.io",
    plural: "clusterroles",
    kind: "ClusterRole",
    namespaced: false,
  }),
  resource({ group: "rbac.authorization.k8s.io", plural: "rolebindings", kind: "RoleBinding" }),
  resource({
    group: "rbac.authorization.k8s.io",
    plural: "clusterrolebindings",
    kind: "ClusterRoleBinding",
    namespaced: false,
  }),
  resource({
    group: "kubevirt.io",
    versions: kubevirtVersions,
    plural: "virtualmachines",
    kind: "VirtualMachine",
    shortNames: ["vm", "vms"],
    categories: ["all"],
    subresources: ["status"],
    custom: true,
  }),
  resource({
    group: "kubevirt.io",
    versions: kubevirtVersions,
    plural: "virtualmachineinstances",
    kind: "VirtualMachineInstance",
    shortNames: ["vmi", "vmis"],
    categories: ["all"],
    custom: true,
  }),
  resource({
    group: "kubevirt.io",
    versions: kubevirtVersions,
    plural: "virtualmachineinstancemigrations",
    kind: "VirtualMachineInstanceMigration",
    shortNames: ["vmim", "vmims"],
    categories: ["all"],
    subresources: ["status"],
    custom: true,
  }),
  resource({
    group: "kubevirt.io",
    versions: kubevirtVersions,
    plural: "kubevirts",
    kind: "KubeVirt",
    shortNames: ["kv", "kvs"],
    categories: ["all"],
    subresources: ["status"],
    custom: true,
  }),
  resource({
    group: "migrations.kubevirt.io",
    versions: ["v1alpha1"],
    plural: "migrationpolicies",
    kind: "MigrationPolicy",
    namespaced: false,
    subresources: ["status"],
    custom: true,
  }),
  resource({
    group: "k8s.cni.cncf.io",
    plural: "network-attachment-definitions",
    singular: "network-attachment-definition",
    kind: "NetworkAttachmentDefinition",
    shortNames: ["net-attach-def"],
    custom: true,
  }),
  // kubernetes-nmstate's CRDs (deploy/crds/nmstate.io_*.yaml of nmstate/kubernetes-nmstate): all
  // cluster-scoped; NNCP is served as v1 (stored) and the deprecated v1beta1, so it comes first and
  // makes v1 the group's preferred version. Served only where a scenario installs nmstate.
  resource({
    group: nmstateGroup,
    versions: ["v1", "v1beta1"],
    plural: "nodenetworkconfigurationpolicies",
    kind: "NodeNetworkConfigurationPolicy",
    namespaced: false,
    shortNames: ["nncp"],
    subresources: ["status"],
    custom: true,
  }),
  resource({
    group: nmstateGroup,
    versions: ["v1beta1"],
    plural: "nodenetworkconfigurationenactments",
    kind: "NodeNetworkConfigurationEnactment",
    namespaced: false,
    shortNames: ["nnce"],
    subresources: ["status"],
    custom: true,
  }),
  resource({
    group: nmstateGroup,
    versions: ["v1beta1"],
    plural: "nodenetworkstates",
    kind: "NodeNetworkState",
    namespaced: false,
    shortNames: ["nns"],
    subresources: ["status"],
    custom: true,
  }),
];

/** KubeVirt's aggregated API (virt-api): routes under `subresources.kubevirt.io`, no stored objects. */
export const kubevirtSubresourceGroup = "subresources.kubevirt.io";
export const kubevirtSubresourceVersions = ["v1", "v1alpha3"];
export const kubevirtSubresources: readonly { name: string; verbs: string[] }[] = [
  { name: "virtualmachines/migrate", verbs: ["update"] },
  { name: "virtualmachines/restart", verbs: ["update"] },
  { name: "virtualmachines/start", verbs: ["update"] },
  { name: "virtualmachines/stop", verbs: ["update"] },
  { name: "virtualmachines/evacuate/cancel", verbs: ["update"] },
  { name: "virtualmachineinstances/evacuate/cancel", verbs: ["update"] },
  { name: "virtualmachineinstances/pause", verbs: ["update"] },
  { name: "virtualmachineinstances/unpause", verbs: ["update"] },
  { name: "virtualmachineinstances/guestosinfo", verbs: ["get"] },
];

/** The deprecation warning kube-apiserver sends for KubeVirt's old API version. */
export const deprecatedVersions: ReadonlyMap<string, string> = new Map([
  ["kubevirt.io/v1alpha3", "kubevirt.io/v1alpha3 is now deprecated and will be removed in a future release."],
]);

export function apiVersionOf(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/** The `resource.group` name the API server uses in messages (`pods`, `virtualmachines.kubevirt.io`). */
export function qualifiedResource(res: SimResource): string {
  return res.group === "" ? res.plural : `${res.plural}.${res.group}`;
}

export function findResource(group: string, version: string, plural: string): SimResource | undefined {
  return simResources.find((r) => r.group === group && r.plural === plural && r.versions.includes(version));
}

/** The API as it stores an object: the first resource of that storage (events: core v1). */
export function storageResource(storage: string): SimResource {
  const found = simResources.find((r) => r.storage === storage);
  if (!found) throw new Error(`no resource stores ${storage}`);
  return found;
}

/** Storage key of a kind, for seeding and controllers: `Pod` → `pods`, `VirtualMachine` → `virtualmachines.kubevirt.io`. */
export function storageOfKind(apiVersion: string, kind: string): string {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const found = simResources.find((r) => r.kind === kind && r.group === group && !r.virtual);
  if (!found) throw new Error(`the simulated cluster does not store ${kind} (${apiVersion})`);
  return found.storage;
}

export function groupsServed(): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const res of simResources) {
    const versions = groups.get(res.group) ?? [];
    for (const version of res.versions) if (!versions.includes(version)) versions.push(version);
    groups.set(res.group, versions);
  }
  groups.set(kubevirtSubresourceGroup, [...kubevirtSubresourceVersions]);
  return groups;
}
