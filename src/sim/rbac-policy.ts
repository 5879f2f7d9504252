// The roles and bindings the simulated cluster starts with: the part of Kubernetes' bootstrap
// policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) that matters to the kinds the simulator
// serves, KubeVirt's ClusterRoles as virt-operator installs them (v1.5+:
// pkg/virt-operator/resource/generate/rbac/cluster.go), and the simulator's own read-only role
// for the `sim-viewer` user.

import {
  aggregatedRules,
  type BindingObject,
  type PolicyRule,
  type RoleObject,
  rbacGroup,
  rbacStorage,
  type Subject,
  startAggregation,
} from "./rbac.js";
import { storageResource } from "./registry.js";
import type { Store } from "./store.js";

const read = ["get", "list", "watch"];
const write = ["create", "update", "patch", "delete", "deletecollection"];
const readWrite = [...read, ...write];
/** KubeVirt's full verb list, in its order. */
const kubevirtAll = ["get", "delete", "create", "update", "patch", "list", "watch", "deletecollection"];
/** KubeVirt's edit verbs: all but deletecollection. */
const kubevirtEdit = ["get", "delete", "create", "update", "patch", "list", "watch"];

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups, resources };
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

const bootstrapLabels = { "kubernetes.io/bootstrapping": "rbac-defaults" };
const autoupdate = { "rbac.authorization.kubernetes.io/autoupdate": "true" };

function clusterRole(
  name: string,
  rules: PolicyRule[],
  meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
  aggregateFrom?: string,
): RoleObject {
  return {
    apiVersion: `${rbacGroup}/v1`,
    kind: "ClusterRole",
    metadata: { name, ...meta },
    ...(aggregateFrom
      ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [aggregateFrom]: "true" } }] } }
      : {}),
    rules,
  };
}

function bootstrapRole(
  name: string,
  rules: PolicyRule[],
  labels: Record<string, string> = {},
  aggregateFrom?: string,
): RoleObject {
  return clusterRole(
    name,
    rules,
    { labels: { ...bootstrapLabels, ...labels }, annotations: { ...autoupdate } },
    aggregateFrom,
  );
}

export function group(name: string): Subject {
  return { kind: "Group", apiGroup: rbacGroup, name };
}

export function user(name: string): Subject {
  return { kind: "User", apiGroup: rbacGroup, name };
}

export function clusterRoleBinding(
  name: string,
  role: string,
  subjects: Subject[],
  meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): BindingObject {
  return {
    apiVersion: `${rbacGroup}/v1`,
    kind: "ClusterRoleBinding",
    metadata: { name, ...meta },
    roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: role },
    subjects,
  };
}

const aggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin";
const aggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit";
const aggregateToView = "rbac.authorization.k8s.io/aggregate-to-view";

/** Kubernetes' bootstrap ClusterRoles (those for users; not the controllers' and nodes' own). */
function kubernetesRoles(): RoleObject[] {
  return [
    bootstrapRole("cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
    bootstrapRole("admin", [], {}, aggregateToAdmin),
    bootstrapRole("edit", [], { [aggregateToAdmin]: "true" }, aggregateToEdit),
    bootstrapRole("view", [], { [aggregateToEdit]: "true" }, aggregateToView),
    bootstrapRole(
      "system:aggregate-to-admin",
      [
        rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
        rule(readWrite, [rbacGroup], ["rolebindings", "roles"]),
      ],
      { [aggregateToAdmin]: "true" },
    ),
    bootstrapRole(
      "system:aggregate-to-edit",
      [
        rule(
          read,
          [""],
          ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
        ),
        rule(["impersonate"], [""], ["serviceaccounts"]),
        rule(write, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
        rule(["create"], [""], ["pods/eviction"]),
        rule(
          write,
          [""],
          ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "secrets"],
        ),
        rule(write, [""], ["replicationcontrollers/scale", "serviceaccounts", "services", "services/proxy"]),
        rule(["create"], [""], ["serviceaccounts/token"]),
        rule(write, ["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale"]),
        rule(write, ["apps"], ["replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]),
        rule(write, ["policy"], ["poddisruptionbudgets"]),
      ],
      { [aggregateToEdit]: "true" },
    ),
    bootstrapRole(
      "system:aggregate-to-view",
      [
        rule(
          read,
          [""],
          ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status"],
        ),
        rule(
          read,
          [""],
          ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts"],
        ),
        rule(read, [""], ["services", "services/status"]),
        rule(
          read,
          [""],
          ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status"],
        ),
        rule(read, [""], ["replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]),
        rule(read, [""], ["namespaces"]),
        rule(read, ["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments"]),
        rule(read, ["apps"], ["deployments/scale", "deployments/status", "replicasets", "replicasets/scale"]),
        rule(
          read,
          ["apps"],
          ["replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"],
        ),
        rule(read, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
      ],
      { [aggregateToView]: "true" },
    ),
    // Every authenticated user: who am I, what may I do.
    bootstrapRole("system:basic-user", [
      rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
      rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ]),
    // Every authenticated user: discovery and the OpenAPI documents.
    bootstrapRole("system:discovery", [
      urls(
        ["get"],
        [
          "/api",
          "/api/*",
          "/apis",
          "/apis/*",
          "/healthz",
          "/livez",
          "/openapi",
          "/openapi/*",
          "/readyz",
          "/version",
          "/version/",
        ],
      ),
    ]),
    // Everyone, even unauthenticated: health and version.
    bootstrapRole("system:public-info-viewer", [
      urls(["get"], ["/healthz", "/livez", "/readyz", "/version", "/version/"]),
    ]),
  ];
}

function kubernetesBindings(): BindingObject[] {
  const meta = { labels: { ...bootstrapLabels }, annotations: { ...autoupdate } };
  return [
    clusterRoleBinding("cluster-admin", "cluster-admin", [group("system:masters")], meta),
    clusterRoleBinding("system:basic-user", "system:basic-user", [group("system:authenticated")], meta),
    clusterRoleBinding("system:discovery", "system:discovery", [group("system:authenticated")], meta),
    clusterRoleBinding(
      "system:public-info-viewer",
      "system:public-info-viewer",
      [group("system:authenticated"), group("system:unauthenticated")],
      meta,
    ),
  ];
}

const sub = "subresources.kubevirt.io";
const kv = "kubevirt.io";
const vmKinds = [
  "virtualmachines",
  "virtualmachineinstances",
  "virtualmachineinstancepresets",
  "virtualmachineinstancereplicasets",
];
const snapshots = ["virtualmachinesnapshots", "virtualmachinesnapshotcontents", "virtualmachinerestores"];
const backups = ["virtualmachinebackups", "virtualmachinebackuptrackers"];
const instancetypes = [
  "virtualmachineinstancetypes",
  "virtualmachineclusterinstancetypes",
  "virtualmachinepreferences",
  "virtualmachineclusterpreferences",
];
const vmiUpdates = [
  "virtualmachineinstances/pause",
  "virtualmachineinstances/unpause",
  "virtualmachineinstances/addvolume",
  "virtualmachineinstances/removevolume",
  "virtualmachineinstances/freeze",
  "virtualmachineinstances/unfreeze",
  "virtualmachineinstances/softreboot",
  "virtualmachineinstances/reset",
  "virtualmachineinstances/sev/setupsession",
  "virtualmachineinstances/sev/injectlaunchsecret",
  "virtualmachineinstances/evacuate/cancel",
];
const vmUpdates = [
  "virtualmachines/start",
  "virtualmachines/stop",
  "virtualmachines/restart",
  "virtualmachines/addvolume",
  "virtualmachines/removevolume",
  "virtualmachines/memorydump",
  "virtualmachines/removememorydump",
  "virtualmachines/evacuate/cancel",
];

function vmiReads(screenshot: boolean): string[] {
  return [
    "virtualmachineinstances/console",
    "virtualmachineinstances/vnc",
    ...(screenshot ? ["virtualmachineinstances/vnc/screenshot"] : []),
    "virtualmachineinstances/portforward",
    "virtualmachineinstances/guestosinfo",
    "virtualmachineinstances/filesystemlist",
    "virtualmachineinstances/userlist",
    "virtualmachineinstances/sev/fetchcertchain",
    "virtualmachineinstances/sev/querylaunchmeasurement",
    "virtualmachineinstances/usbredir",
    "virtualmachines/objectgraph",
    "virtualmachineinstances/objectgraph",
  ];
}

/** KubeVirt's ClusterRoles (labelled `kubevirt.io: ""`), v1.5+: migrating is kubevirt.io:migrate's alone. */
function kubevirtRoles(): RoleObject[] {
  const labels = (extra: Record<string, string> = {}) => ({ labels: { "kubevirt.io": "", ...extra } });
  return [
    clusterRole(
      "kubevirt.io:default",
      [rule(["get", "list"], [kv], ["kubevirts"]), rule(["get", "list"], [sub], ["version", "guestfs"])],
      { labels: { "kubevirt.io": "", ...bootstrapLabels }, annotations: { ...autoupdate } },
    ),
    clusterRole(
      "kubevirt.io:admin",
      [
        rule(["get"], [sub], vmiReads(true)),
        rule(["update"], [sub], vmiUpdates),
        rule(["get"], [sub], ["virtualmachines/expand-spec", "virtualmachines/portforward"]),
        rule(["update"], [sub], vmUpdates),
        rule(["update"], [sub], ["expand-vm-spec"]),
        rule(kubevirtAll, [kv], vmKinds),
        rule(["get", "list", "watch"], [kv], ["virtualmachineinstancemigrations"]),
        rule(kubevirtAll, ["snapshot.kubevirt.io"], snapshots),
        rule(kubevirtAll, ["backup.kubevirt.io"], backups),
        rule(kubevirtAll, ["plugin.kubevirt.io"], ["plugins"]),
        rule(kubevirtAll, ["export.kubevirt.io"], ["virtualmachineexports"]),
        rule(kubevirtAll, ["clone.kubevirt.io"], ["virtualmachineclones"]),
        rule(kubevirtAll, ["instancetype.kubevirt.io"], instancetypes),
        rule(kubevirtAll, ["pool.kubevirt.io"], ["virtualmachinepools"]),
        rule(["get", "list", "watch"], ["migrations.kubevirt.io"], ["migrationpolicies"]),
      ],
      labels({ [aggregateToAdmin]: "true" }),
    ),
    clusterRole(
      "kubevirt.io:edit",
      [
        rule(["get"], [sub], vmiReads(false)),
        rule(["update"], [sub], vmiUpdates),
        rule(["get"], [sub], ["virtualmachines/expand-spec", "virtualmachines/portforward"]),
        rule(["update"], [sub], vmUpdates),
        rule(["update"], [sub], ["expand-vm-spec"]),
        rule(kubevirtEdit, [kv], vmKinds),
        rule(["get", "list", "watch"], [kv], ["virtualmachineinstancemigrations"]),
        rule(kubevirtEdit, ["snapshot.kubevirt.io"], snapshots),
        rule(kubevirtEdit, ["backup.kubevirt.io"], backups),
        rule(kubevirtEdit, ["export.kubevirt.io"], ["virtualmachineexports"]),
        rule(kubevirtEdit, ["clone.kubevirt.io"], ["virtualmachineclones"]),
        rule(kubevirtEdit, ["instancetype.kubevirt.io"], instancetypes),
        rule(kubevirtEdit, ["pool.kubevirt.io"], ["virtualmachinepools"]),
        rule(["get", "list"], [kv], ["kubevirts"]),
        rule(["get", "list", "watch"], ["migrations.kubevirt.io"], ["migrationpolicies"]),
      ],
      labels({ [aggregateToEdit]: "true" }),
    ),
    clusterRole(
      "kubevirt.io:view",
      [
        rule(["get", "list"], [kv], ["kubevirts"]),
        rule(
          ["get"],
          [sub],
          [
            "virtualmachines/expand-spec",
            "virtualmachineinstances/guestosinfo",
            "virtualmachineinstances/filesystemlist",
            "virtualmachineinstances/userlist",
            "virtualmachineinstances/sev/fetchcertchain",
            "virtualmachineinstances/sev/querylaunchmeasurement",
            "virtualmachines/objectgraph",
            "virtualmachineinstances/objectgraph",
          ],
        ),
        rule(["update"], [sub], ["expand-vm-spec"]),
        rule(["get", "list", "watch"], [kv], [...vmKinds, "virtualmachineinstancemigrations"]),
        rule(["get", "list", "watch"], ["snapshot.kubevirt.io"], snapshots),
        rule(["get", "list", "watch"], ["backup.kubevirt.io"], backups),
        rule(["get", "list", "watch"], ["export.kubevirt.io"], ["virtualmachineexports"]),
        rule(["get", "list", "watch"], ["clone.kubevirt.io"], ["virtualmachineclones"]),
        rule(["get", "list", "watch"], ["instancetype.kubevirt.io"], instancetypes),
        rule(["get", "list", "watch"], ["pool.kubevirt.io"], ["virtualmachinepools"]),
        rule(["get", "list", "watch"], ["migrations.kubevirt.io"], ["migrationpolicies"]),
        rule(["get", "list", "watch"], ["plugin.kubevirt.io"], ["plugins"]),
      ],
      labels({ [aggregateToView]: "true" }),
    ),
    clusterRole(
      "kubevirt.io:migrate",
      [
        rule(["update"], [sub], ["virtualmachines/migrate"]),
        rule(kubevirtAll, [kv], ["virtualmachineinstancemigrations"]),
      ],
      labels(),
    ),
    clusterRole(
      "instancetype.kubevirt.io:view",
      [
        rule(
          ["get", "list", "watch"],
          ["instancetype.kubevirt.io"],
          ["virtualmachineclusterinstancetypes", "virtualmachineclusterpreferences"],
        ),
      ],
      labels(),
    ),
  ];
}

function kubevirtBindings(): BindingObject[] {
  const meta = { labels: { "kubevirt.io": "" }, annotations: { ...autoupdate } };
  return [
    clusterRoleBinding("kubevirt.io:default", "kubevirt.io:default", [group("system:authenticated")], meta),
    clusterRoleBinding(
      "instancetype.kubevirt.io:view",
      "instancetype.kubevirt.io:view",
      [group("system:authenticated")],
      meta,
    ),
  ];
}

/** The ClusterRole behind the simulator's `sim-viewer`: read everything, change nothing. */
export const simViewerRole = "sim-viewer";

function simRoles(): RoleObject[] {
  const meta = { labels: { "app.kubernetes.io/part-of": "kvmig-sim" } };
  return [clusterRole(simViewerRole, [rule(read, ["*"], ["*"]), urls(["get"], ["*"])], meta)];
}

function simBindings(): BindingObject[] {
  const meta = { labels: { "app.kubernetes.io/part-of": "kvmig-sim" } };
  return [clusterRoleBinding("sim-viewer", simViewerRole, [user("sim-viewer")], meta)];
}

/** The ClusterRoles a new simulated cluster has, the aggregated ones already filled in. */
export function bootstrapClusterRoles(): RoleObject[] {
  const roles = [...kubernetesRoles(), ...kubevirtRoles(), ...simRoles()];
  // What the aggregation controller would do at once: view, then edit (which picks view), then admin.
  for (let round = 0; round < 5; round++) {
    for (const role of roles) if (role.aggregationRule) role.rules = aggregatedRules(role, roles);
  }
  return roles;
}

export function bootstrapClusterRoleBindings(): BindingObject[] {
  return [...kubernetesBindings(), ...kubevirtBindings(), ...simBindings()];
}

/**
 * Puts the bootstrap roles and bindings in a new cluster's store (as seed objects) and keeps the
 * aggregated ClusterRoles up to date from then on; returns the aggregation's stop.
 */
export function installRbac(store: Store): () => void {
  const clusterRoles = storageResource(rbacStorage.clusterRoles);
  const bindings = storageResource(rbacStorage.clusterRoleBindings);
  for (const role of bootstrapClusterRoles()) store.load(clusterRoles, role);
  for (const binding of bootstrapClusterRoleBindings()) store.load(bindings, binding);
  return startAggregation(store, clusterRoles);
}
