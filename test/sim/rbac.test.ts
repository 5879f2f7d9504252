// RBAC in the simulated cluster: the rule matching of kube-apiserver's RBAC authorizer (unit),
// roles and bindings created through the API and enforced on the next request, the bootstrap
// policy (what every authenticated user has, KubeVirt's roles), SelfSubjectAccessReview and
// SelfSubjectRulesReview from the same authorizer, and the real kubectl: `apply -f
// deploy/rbac.yaml`, `create rolebinding`, and `auth can-i` agreeing with SelfSubjectAccessReview.
// Loopback only.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { RequestAttributes } from "../../src/sim/auth.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import {
  aggregatedRules,
  labelSelectorMatches,
  nameFromFieldSelector,
  nonResourceURLMatches,
  type PolicyRule,
  type RoleObject,
  ruleAllows,
  serviceAccountUser,
  subjectApplies,
} from "../../src/sim/rbac.js";
import { bootstrapClusterRoles } from "../../src/sim/rbac-policy.js";
import { findKubectl, Kubectl, outputLines, parseTable } from "../helpers/kubectl.js";
import { apiServerOnly, simPerTest, simRequest } from "../helpers/sim.js";

const repoRoot = join(import.meta.dirname, "..", "..");
const rbac = "/apis/rbac.authorization.k8s.io/v1";
const ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const ssrr = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";

// --- Unit: the rule matching -------------------------------------------------------------------

const res = (
  verb: string,
  group: string,
  resource: string,
  more: Partial<RequestAttributes> = {},
): RequestAttributes => ({ verb, group, resource, ...more });
const url = (verb: string, path: string): RequestAttributes => ({ verb, path });

describe("ruleAllows: one PolicyRule against one request, as the RBAC authorizer matches", () => {
  const vmis: PolicyRule = {
    apiGroups: ["kubevirt.io"],
    resources: ["virtualmachineinstances"],
    verbs: ["get"],
  };

  it.each<[string, PolicyRule, RequestAttributes, boolean]>([
    ["the named verb, group and resource", vmis, res("get", "kubevirt.io", "virtualmachineinstances"), true],
    ["another verb", vmis, res("list", "kubevirt.io", "virtualmachineinstances"), false],
    ["another group", vmis, res("get", "", "virtualmachineinstances"), false],
    ["another resource", vmis, res("get", "kubevirt.io", "virtualmachines"), false],
    [
      "verb *",
      { ...vmis, verbs: ["*"] },
      res("deletecollection", "kubevirt.io", "virtualmachineinstances"),
      true,
    ],
    ["apiGroups *", { ...vmis, apiGroups: ["*"] }, res("get", "", "virtualmachineinstances"), true],
    ["resources *", { ...vmis, resources: ["*"] }, res("get", "kubevirt.io", "kubevirts"), true],
    [
      "resources * covers subresources",
      { ...vmis, resources: ["*"] },
      res("get", "kubevirt.io", "virtualmachineinstances", { subresource: "status" }),
      true,
    ],
    [
      "a resource does not cover its subresources",
      { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
      res("get", "", "pods", { subresource: "log" }),
      false,
    ],
    [
      "resource/subresource",
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
      res("get", "", "pods", { subresource: "log" }),
      true,
    ],
    [
      "resource/subresource is not the resource",
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
      res("get", "", "pods"),
      false,
    ],
    [
      "*/subresource: that subresource of any resource",
      { apiGroups: ["*"], resources: ["*/status"], verbs: ["get"] },
      res("get", "apps", "deployments", { subresource: "status" }),
      true,
    ],
    [
      "*/subresource: not another subresource",
      { apiGroups: ["*"], resources: ["*/status"], verbs: ["get"] },
      res("get", "", "pods", { subresource: "log" }),
      false,
    ],
    [
      "*/subresource: not the resource itself",
      { apiGroups: ["*"], resources: ["*/status"], verbs: ["get"] },
      res("get", "apps", "deployments"),
      false,
    ],
    [
      "a KubeVirt subresource in its own API group",
      { apiGroups: ["subresources.kubevirt.io"], resources: ["virtualmachines/migrate"], verbs: ["update"] },
      res("update", "subresources.kubevirt.io", "virtualmachines", { subresource: "migrate", name: "vm" }),
      true,
    ],
    [
      "the same subresource in kubevirt.io is something else",
      { apiGroups: ["subresources.kubevirt.io"], resources: ["virtualmachines/migrate"], verbs: ["update"] },
      res("update", "kubevirt.io", "virtualmachines", { subresource: "migrate", name: "vm" }),
      false,
    ],
    [
      "resourceNames: that name",
      { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["virt-controller"], verbs: ["get"] },
      res("get", "apps", "deployments", { name: "virt-controller", namespace: "kubevirt" }),
      true,
    ],
    [
      "resourceNames: not another name",
      { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["virt-controller"], verbs: ["get"] },
      res("get", "apps", "deployments", { name: "virt-api", namespace: "kubevirt" }),
      false,
    ],
    [
      "resourceNames: not an unnamed list",
      {
        apiGroups: ["apps"],
        resources: ["deployments"],
        resourceNames: ["virt-controller"],
        verbs: ["list"],
      },
      res("list", "apps", "deployments", { namespace: "kubevirt" }),
      false,
    ],
    [
      "resourceNames: not a create (no name yet)",
      { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["x"], verbs: ["create"] },
      res("create", "apps", "deployments", { namespace: "kubevirt" }),
      false,
    ],
    [
      "resourceNames: a list by metadata.name is authorized with that name",
      {
        apiGroups: ["apps"],
        resources: ["deployments"],
        resourceNames: ["virt-controller"],
        verbs: ["list"],
      },
      res("list", "apps", "deployments", { namespace: "kubevirt", name: "virt-controller" }),
      true,
    ],
    ["a resource rule never allows a path", vmis, url("get", "/version"), false],
    [
      "a URL rule never allows a resource",
      { nonResourceURLs: ["*"], verbs: ["*"] },
      res("get", "", "pods"),
      false,
    ],
    ["a URL rule: its path", { nonResourceURLs: ["/version"], verbs: ["get"] }, url("get", "/version"), true],
    [
      "a URL rule: its verbs only",
      { nonResourceURLs: ["/version"], verbs: ["get"] },
      url("post", "/version"),
      false,
    ],
  ])("%s", (_name, rule, attributes, allowed) => {
    expect(ruleAllows(rule, attributes)).toBe(allowed);
  });

  it("nonResourceURLs: exact, `*`, and a prefix with a trailing `*`", () => {
    const rule = (...urls: string[]): PolicyRule => ({ nonResourceURLs: urls, verbs: ["get"] });
    expect(nonResourceURLMatches(rule("/apis"), "/apis")).toBe(true);
    expect(nonResourceURLMatches(rule("/apis"), "/apis/kubevirt.io")).toBe(false);
    expect(nonResourceURLMatches(rule("/apis/*"), "/apis/kubevirt.io/v1")).toBe(true);
    expect(nonResourceURLMatches(rule("/apis/*"), "/apis")).toBe(false);
    expect(nonResourceURLMatches(rule("/healthz*"), "/healthz/etcd")).toBe(true);
    expect(nonResourceURLMatches(rule("*"), "/metrics")).toBe(true);
    expect(nonResourceURLMatches(rule("/version/"), "/version")).toBe(false);
  });

  it("subjects: a User by name, a Group by membership, a ServiceAccount by its user name", () => {
    const alice = { name: "alice", groups: ["dev", "system:authenticated"] };
    expect(subjectApplies(alice, { kind: "User", name: "alice" }, "")).toBe(true);
    expect(subjectApplies(alice, { kind: "User", name: "bob" }, "")).toBe(false);
    expect(subjectApplies(alice, { kind: "Group", name: "dev" }, "")).toBe(true);
    expect(subjectApplies(alice, { kind: "Group", name: "ops" }, "")).toBe(false);
    // A user named like a group is not in it.
    expect(subjectApplies(alice, { kind: "Group", name: "alice" }, "")).toBe(false);
    const robot = { name: serviceAccountUser("demo", "robot"), groups: [] };
    expect(robot.name).toBe("system:serviceaccount:demo:robot");
    expect(subjectApplies(robot, { kind: "ServiceAccount", name: "robot", namespace: "demo" }, "")).toBe(
      true,
    );
    // Without a namespace: the RoleBinding's own; a ClusterRoleBinding has none, so no match.
    expect(subjectApplies(robot, { kind: "ServiceAccount", name: "robot" }, "demo")).toBe(true);
    expect(subjectApplies(robot, { kind: "ServiceAccount", name: "robot" }, "")).toBe(false);
    expect(subjectApplies(robot, { kind: "ServiceAccount", name: "robot" }, "other")).toBe(false);
  });

  it("a list or watch by `metadata.name=` is authorized with that name", () => {
    expect(nameFromFieldSelector("metadata.name=fedora-web")).toBe("fedora-web");
    expect(nameFromFieldSelector("metadata.name==fedora-web")).toBe("fedora-web");
    expect(nameFromFieldSelector("status.phase=Running,metadata.name=a")).toBe("a");
    expect(nameFromFieldSelector("metadata.name!=a")).toBeUndefined();
    expect(nameFromFieldSelector("metadata.namespace=demo")).toBeUndefined();
    expect(nameFromFieldSelector("metadata.name=a/b")).toBeUndefined();
    expect(nameFromFieldSelector(undefined)).toBeUndefined();
  });

  it("aggregation: the rules of every ClusterRole a selector picks, once each", () => {
    const picked = (name: string, rules: PolicyRule[], labels: Record<string, string>): RoleObject => ({
      metadata: { name, labels },
      rules,
    });
    const a = { apiGroups: [""], resources: ["pods"], verbs: ["get"] };
    const b = { apiGroups: [""], resources: ["events"], verbs: ["list"] };
    const target: RoleObject = {
      metadata: { name: "target" },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: "true" } }] },
    };
    const all = [
      target,
      picked("z", [a], { agg: "true" }),
      picked("y", [b, a], { agg: "true" }),
      picked("x", [{ ...a, verbs: ["delete"] }], { agg: "false" }),
    ];
    expect(aggregatedRules(target, all)).toEqual([b, a]);
    expect(
      labelSelectorMatches(
        { matchExpressions: [{ key: "agg", operator: "In", values: ["true"] }] },
        { agg: "true" },
      ),
    ).toBe(true);
    expect(
      labelSelectorMatches({ matchExpressions: [{ key: "agg", operator: "DoesNotExist" }] }, { agg: "true" }),
    ).toBe(false);
    expect(
      labelSelectorMatches({ matchExpressions: [{ key: "agg", operator: "NotIn", values: ["x"] }] }, {}),
    ).toBe(true);
  });

  it("the bootstrap admin, edit and view roles are aggregated, KubeVirt's v1.5+ roles included", () => {
    const roles = new Map(bootstrapClusterRoles().map((r) => [r.metadata.name, r.rules ?? []]));
    const allows = (role: string, attributes: RequestAttributes) =>
      (roles.get(role) ?? []).some((rule) => ruleAllows(rule, attributes));
    const restart = res("update", "subresources.kubevirt.io", "virtualmachines", { subresource: "restart" });
    const migrate = res("update", "subresources.kubevirt.io", "virtualmachines", { subresource: "migrate" });
    const createVmim = res("create", "kubevirt.io", "virtualmachineinstancemigrations");
    const listVmis = res("list", "kubevirt.io", "virtualmachineinstances");
    expect([
      allows("view", listVmis),
      allows("view", restart),
      allows("view", res("list", "", "pods")),
    ]).toEqual([true, false, true]);
    expect([allows("edit", listVmis), allows("edit", restart), allows("edit", migrate)]).toEqual([
      true,
      true,
      false,
    ]);
    expect([allows("admin", restart), allows("admin", migrate), allows("admin", createVmim)]).toEqual([
      true,
      false,
      false,
    ]);
    expect(allows("admin", res("create", "rbac.authorization.k8s.io", "rolebindings"))).toBe(true);
    expect(allows("edit", res("create", "rbac.authorization.k8s.io", "rolebindings"))).toBe(false);
    expect([allows("kubevirt.io:migrate", migrate), allows("kubevirt.io:migrate", createVmim)]).toEqual([
      true,
      true,
    ]);
  });
});

// --- Through the API --------------------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: tests build and read arbitrary JSON.
type Any = any;

function binding(
  kind: "RoleBinding" | "ClusterRoleBinding",
  name: string,
  role: { kind: "Role" | "ClusterRole"; name: string },
  subjects: Any[],
  namespace?: string,
): Any {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}) },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", ...role },
    subjects,
  };
}

const userSubject = (name: string) => ({ kind: "User", apiGroup: "rbac.authorization.k8s.io", name });

describe("RBAC through the API", () => {
  const sim = simPerTest(apiServerOnly);

  /** Creates as sim-admin and fails unless the server says 201. */
  async function create(path: string, body: Any): Promise<Any> {
    const answer = await simRequest(sim(), "POST", path, { body });
    expect(answer.status, answer.text).toBe(201);
    return answer.json;
  }

  async function bindInNamespace(namespace: string, name: string, role: Any, subjects: Any[]) {
    return create(
      `${rbac}/namespaces/${namespace}/rolebindings`,
      binding("RoleBinding", name, role, subjects, namespace),
    );
  }

  async function bindClusterWide(name: string, role: string, subjects: Any[]) {
    return create(
      `${rbac}/clusterrolebindings`,
      binding("ClusterRoleBinding", name, { kind: "ClusterRole", name: role }, subjects),
    );
  }

  async function status(token: string, path: string, method = "GET", body?: unknown): Promise<number> {
    return (await simRequest(sim(), method, path, { token, ...(body === undefined ? {} : { body }) })).status;
  }

  async function review(token: string, attributes: Record<string, string>): Promise<Any> {
    const nonResource = "path" in attributes;
    const answer = await simRequest(sim(), "POST", ssar, {
      token,
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: nonResource ? { nonResourceAttributes: attributes } : { resourceAttributes: attributes },
      },
    });
    expect(answer.status, answer.text).toBe(201);
    return answer.json.status;
  }

  it("serves rbac.authorization.k8s.io/v1 in discovery with its four kinds", async () => {
    const groups = (await simRequest(sim(), "GET", "/apis")).json.groups as Any[];
    expect(groups.find((g) => g.name === "rbac.authorization.k8s.io")?.preferredVersion.version).toBe("v1");
    const list = (await simRequest(sim(), "GET", rbac)).json.resources as Any[];
    expect(list.map((r) => [r.name, r.kind, r.namespaced])).toEqual([
      ["roles", "Role", true],
      ["clusterroles", "ClusterRole", false],
      ["rolebindings", "RoleBinding", true],
      ["clusterrolebindings", "ClusterRoleBinding", false],
    ]);
    for (const r of list) {
      expect(r.verbs).toEqual(
        expect.arrayContaining([
          "create",
          "delete",
          "deletecollection",
          "get",
          "list",
          "patch",
          "update",
          "watch",
        ]),
      );
    }
  });

  it("a new user has what every authenticated user has, and nothing else", async () => {
    const alice = sim().addUser("alice").token;
    const pods = await simRequest(sim(), "GET", "/api/v1/namespaces/demo/pods", { token: alice });
    expect(pods.status).toBe(403);
    expect(pods.json.message).toBe(
      'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "demo"',
    );
    const nodes = await simRequest(sim(), "GET", "/api/v1/nodes", { token: alice });
    expect(nodes.json.message).toBe(
      'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope',
    );
    // system:discovery, system:public-info-viewer
    for (const path of [
      "/version",
      "/api",
      "/apis",
      "/api/v1",
      "/apis/kubevirt.io/v1",
      "/healthz",
      "/openapi/v3",
    ]) {
      expect(await status(alice, path), path).toBe(200);
    }
    // system:basic-user
    expect((await review(alice, { verb: "list", resource: "pods", namespace: "demo" })).allowed).toBe(false);
    // kubevirt.io:default: the KubeVirt CR and virt-api's version (a `list` of the resource `version`).
    expect(await status(alice, "/apis/subresources.kubevirt.io/v1/version")).toBe(200);
    expect(await status(alice, "/apis/kubevirt.io/v1/kubevirts")).toBe(200);
    expect(await status(alice, "/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt")).toBe(200);
    expect(await status(alice, "/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts?watch=1")).toBe(403);
    expect(await status(alice, "/apis/kubevirt.io/v1/virtualmachineinstances")).toBe(403);
    // Still a 401 without a token, before any authorization.
    expect((await simRequest(sim(), "GET", "/version", { token: null })).status).toBe(401);
  });

  it("a ClusterRoleBinding grants everywhere; deleting it takes the grant away", async () => {
    const alice = sim().addUser("alice").token;
    await bindClusterWide("alice-view", "kubevirt.io:view", [userSubject("alice")]);
    expect(await status(alice, "/apis/kubevirt.io/v1/virtualmachineinstances")).toBe(200);
    expect(
      await status(alice, "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstances/fedora-web"),
    ).toBe(200);
    expect(
      await status(
        alice,
        "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstances/fedora-web",
        "DELETE",
      ),
    ).toBe(403);
    expect((await simRequest(sim(), "DELETE", `${rbac}/clusterrolebindings/alice-view`)).status).toBe(200);
    expect(await status(alice, "/apis/kubevirt.io/v1/virtualmachineinstances")).toBe(403);
  });

  it("a RoleBinding to a ClusterRole grants in its own namespace only", async () => {
    const alice = sim().addUser("alice").token;
    await bindInNamespace("demo", "alice-view", { kind: "ClusterRole", name: "view" }, [
      userSubject("alice"),
    ]);
    expect(await status(alice, "/api/v1/namespaces/demo/pods")).toBe(200);
    // KubeVirt's view role is aggregated into view.
    expect(await status(alice, "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstances")).toBe(200);
    expect(await status(alice, "/api/v1/namespaces/kube-system/pods")).toBe(403);
    const all = await simRequest(sim(), "GET", "/apis/kubevirt.io/v1/virtualmachineinstances", {
      token: alice,
    });
    expect(all.json.message).toBe(
      'virtualmachineinstances.kubevirt.io is forbidden: User "alice" cannot list resource "virtualmachineinstances" in API group "kubevirt.io" at the cluster scope',
    );
    // SelfSubjectAccessReview says why.
    expect(await review(alice, { verb: "list", resource: "pods", namespace: "demo" })).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "alice-view/demo" of ClusterRole "view" to User "alice"',
    });
    expect(await review(alice, { verb: "list", resource: "pods", namespace: "kube-system" })).toEqual({
      allowed: false,
    });
  });

  it("a RoleBinding to a Role: the Role of the binding's namespace; a missing one is named in the 403", async () => {
    const alice = sim().addUser("alice").token;
    const reader = (namespace: string) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "log-reader", namespace },
      rules: [{ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list"] }],
    });
    await create(`${rbac}/namespaces/kube-system/roles`, reader("kube-system"));
    await bindInNamespace("demo", "alice-logs", { kind: "Role", name: "log-reader" }, [userSubject("alice")]);
    // The Role lives in kube-system only: the binding in demo points at nothing.
    const denied = await simRequest(sim(), "GET", "/api/v1/namespaces/demo/pods", { token: alice });
    expect(denied.status).toBe(403);
    expect(denied.json.message).toBe(
      'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "demo": RBAC: role.rbac.authorization.k8s.io "log-reader" not found',
    );
    expect(await review(alice, { verb: "list", resource: "pods", namespace: "demo" })).toEqual({
      allowed: false,
      reason: 'RBAC: role.rbac.authorization.k8s.io "log-reader" not found',
    });
    await create(`${rbac}/namespaces/demo/roles`, reader("demo"));
    expect(await status(alice, "/api/v1/namespaces/demo/pods")).toBe(200);
    const pod = (await simRequest(sim(), "GET", "/api/v1/namespaces/demo/pods")).json.items[0].metadata.name;
    expect(await status(alice, `/api/v1/namespaces/demo/pods/${pod}/log?container=compute`)).toBe(200);
    expect(await status(alice, "/api/v1/namespaces/kube-system/pods")).toBe(403);
  });

  it("Group and ServiceAccount subjects", async () => {
    const bob = sim().addUser("bob", ["vm-operators"]).token;
    const robot = sim().addUser(serviceAccountUser("demo", "robot"), ["system:serviceaccounts"]).token;
    await bindClusterWide("operators", "kubevirt.io:view", [
      { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "vm-operators" },
    ]);
    await bindInNamespace("demo", "robot", { kind: "ClusterRole", name: "kubevirt.io:migrate" }, [
      { kind: "ServiceAccount", name: "robot" },
    ]);
    expect(await status(bob, "/apis/kubevirt.io/v1/virtualmachines")).toBe(200);
    expect(await status(robot, "/apis/kubevirt.io/v1/virtualmachines")).toBe(403);
    expect(await status(robot, "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations")).toBe(
      200,
    );
    expect(
      await review(robot, {
        verb: "create",
        group: "kubevirt.io",
        resource: "virtualmachineinstancemigrations",
        namespace: "demo",
      }),
    ).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by RoleBinding "robot/demo" of ClusterRole "kubevirt.io:migrate" to ServiceAccount "robot/demo"',
    });
  });

  it("resourceNames: the named object only; not a list, except one by metadata.name", async () => {
    const carol = sim().addUser("carol").token;
    await create(`${rbac}/namespaces/kubevirt/roles`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "controller-reader", namespace: "kubevirt" },
      rules: [
        {
          apiGroups: ["apps"],
          resources: ["deployments"],
          resourceNames: ["virt-controller"],
          verbs: ["get", "list"],
        },
      ],
    });
    await bindInNamespace("kubevirt", "carol", { kind: "Role", name: "controller-reader" }, [
      userSubject("carol"),
    ]);
    const deployments = "/apis/apps/v1/namespaces/kubevirt/deployments";
    expect(await status(carol, `${deployments}/virt-controller`)).toBe(200);
    const other = await simRequest(sim(), "GET", `${deployments}/virt-api`, { token: carol });
    expect(other.json.message).toBe(
      'deployments.apps "virt-api" is forbidden: User "carol" cannot get resource "deployments" in API group "apps" in the namespace "kubevirt"',
    );
    expect(await status(carol, deployments)).toBe(403);
    const byName = await simRequest(
      sim(),
      "GET",
      `${deployments}?fieldSelector=metadata.name%3Dvirt-controller`,
      {
        token: carol,
      },
    );
    expect(byName.status).toBe(200);
    expect(byName.json.items.map((d: Any) => d.metadata.name)).toEqual(["virt-controller"]);
    expect(await status(carol, `${deployments}?fieldSelector=metadata.name%3Dvirt-api`)).toBe(403);
    expect(
      await review(carol, {
        verb: "get",
        group: "apps",
        resource: "deployments",
        namespace: "kubevirt",
        name: "virt-controller",
      }),
    ).toMatchObject({ allowed: true });
    expect(
      (await review(carol, { verb: "get", group: "apps", resource: "deployments", namespace: "kubevirt" }))
        .allowed,
    ).toBe(false);
  });

  it("KubeVirt's roles, v1.5+: admin restarts but does not migrate; kubevirt.io:migrate does", async () => {
    const dave = sim().addUser("dave").token;
    const migrate = "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/migrate";
    const restart = "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/restart";
    expect(await status(dave, restart, "PUT", {})).toBe(403);
    await bindInNamespace("demo", "dave-admin", { kind: "ClusterRole", name: "admin" }, [
      userSubject("dave"),
    ]);
    // Authorized: the API server alone has no virt-api behind it, hence 503.
    expect(await status(dave, restart, "PUT", {})).toBe(503);
    const refused = await simRequest(sim(), "PUT", migrate, { token: dave, body: {} });
    expect(refused.json.message).toBe(
      'virtualmachines.subresources.kubevirt.io "fedora-web" is forbidden: User "dave" cannot update resource "virtualmachines/migrate" in API group "subresources.kubevirt.io" in the namespace "demo"',
    );
    await bindInNamespace("demo", "dave-migrate", { kind: "ClusterRole", name: "kubevirt.io:migrate" }, [
      userSubject("dave"),
    ]);
    expect(await status(dave, migrate, "PUT", {})).toBe(503);
    expect(await status(dave, migrate.replace("/demo/", "/kube-system/"), "PUT", {})).toBe(403);
  });

  it("SelfSubjectRulesReview lists the rules of the user's bindings, incomplete when a role is missing", async () => {
    const erin = sim().addUser("erin").token;
    await bindInNamespace("demo", "erin-migrate", { kind: "ClusterRole", name: "kubevirt.io:migrate" }, [
      userSubject("erin"),
    ]);
    const rules = async (namespace: string) =>
      (
        await simRequest(sim(), "POST", ssrr, {
          token: erin,
          body: {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectRulesReview",
            spec: { namespace },
          },
        })
      ).json.status;
    const inDemo = await rules("demo");
    expect(inDemo.incomplete).toBe(false);
    expect(inDemo.resourceRules).toContainEqual({
      verbs: ["update"],
      apiGroups: ["subresources.kubevirt.io"],
      resources: ["virtualmachines/migrate"],
    });
    expect(inDemo.resourceRules).toContainEqual({
      verbs: ["create"],
      apiGroups: ["authorization.k8s.io"],
      resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    });
    expect(inDemo.nonResourceRules).toContainEqual({
      verbs: ["get"],
      nonResourceURLs: expect.arrayContaining(["/version", "/apis/*"]),
    });
    const elsewhere = await rules("kube-system");
    expect(JSON.stringify(elsewhere.resourceRules)).not.toContain("virtualmachines/migrate");
    await bindInNamespace("demo", "erin-missing", { kind: "ClusterRole", name: "no-such-role" }, [
      userSubject("erin"),
    ]);
    expect(await rules("demo")).toMatchObject({
      incomplete: true,
      evaluationError: 'clusterrole.rbac.authorization.k8s.io "no-such-role" not found',
    });
  });

  it("aggregation: a ClusterRole labelled aggregate-to-view extends view, edit and admin until it goes", async () => {
    const frank = sim().addUser("frank").token;
    await bindInNamespace("demo", "frank-view", { kind: "ClusterRole", name: "view" }, [
      userSubject("frank"),
    ]);
    const nads = "/apis/k8s.cni.cncf.io/v1/namespaces/demo/network-attachment-definitions";
    expect(await status(frank, nads)).toBe(403);
    await create(`${rbac}/clusterroles`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "nad-view", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
      rules: [
        {
          apiGroups: ["k8s.cni.cncf.io"],
          resources: ["network-attachment-definitions"],
          verbs: ["get", "list"],
        },
      ],
    });
    const hasRule = async (role: string) =>
      JSON.stringify((await simRequest(sim(), "GET", `${rbac}/clusterroles/${role}`)).json.rules).includes(
        "network-attachment-definitions",
      );
    await expect.poll(() => hasRule("admin")).toBe(true);
    expect([await hasRule("view"), await hasRule("edit")]).toEqual([true, true]);
    expect(await status(frank, nads)).toBe(200);
    await simRequest(sim(), "DELETE", `${rbac}/clusterroles/nad-view`);
    await expect.poll(() => hasRule("admin")).toBe(false);
    expect(await status(frank, nads)).toBe(403);
  });

  it("validates like the API server: names, rules, roleRef (immutable), subjects", async () => {
    const invalid = async (path: string, body: Any, method = "POST") => {
      const answer = await simRequest(sim(), method, path, { body });
      expect(answer.status, answer.text).toBe(422);
      return answer.json.message as string;
    };
    expect(
      await invalid(`${rbac}/namespaces/demo/roles`, {
        kind: "Role",
        metadata: { name: "urls" },
        rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }],
      }),
    ).toBe(
      'Role.rbac.authorization.k8s.io "urls" is invalid: rules[0].nonResourceURLs: Invalid value: []string{"/metrics"}: namespaced rules cannot apply to non-resource URLs',
    );
    expect(
      await invalid(`${rbac}/clusterroles`, {
        kind: "ClusterRole",
        metadata: { name: "empty" },
        rules: [{ apiGroups: [""], resources: ["pods"] }],
      }),
    ).toBe(
      'ClusterRole.rbac.authorization.k8s.io "empty" is invalid: rules[0].verbs: Required value: verbs must contain at least one value',
    );
    expect(
      await invalid(
        `${rbac}/clusterrolebindings`,
        binding("ClusterRoleBinding", "to-role", { kind: "Role", name: "x" } as Any, [userSubject("a")]),
      ),
    ).toBe(
      'ClusterRoleBinding.rbac.authorization.k8s.io "to-role" is invalid: roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    );
    expect(
      await invalid(`${rbac}/clusterroles`, { kind: "ClusterRole", metadata: { name: "a/b" }, rules: [] }),
    ).toBe(
      'ClusterRole.rbac.authorization.k8s.io "a/b" is invalid: metadata.name: Invalid value: "a/b": may not contain \'/\'',
    );
    // Colons are fine (KubeVirt's role names have them); User subjects get the RBAC API group.
    const created = await bindInNamespace("demo", "x:y", { kind: "ClusterRole", name: "view" }, [
      { kind: "User", name: "alice" },
    ]);
    expect(created.subjects).toEqual([userSubject("alice")]);
    expect(
      await invalid(
        `${rbac}/namespaces/demo/rolebindings/x:y`,
        { ...created, roleRef: { ...created.roleRef, name: "edit" } },
        "PUT",
      ),
    ).toBe(
      'RoleBinding.rbac.authorization.k8s.io "x:y" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
    );
    // A change of subjects is fine.
    const updated = await simRequest(sim(), "PUT", `${rbac}/namespaces/demo/rolebindings/x:y`, {
      body: { ...created, subjects: [userSubject("bob")] },
    });
    expect(updated.status, updated.text).toBe(200);
  });

  it("sim-viewer reads everything, RBAC objects included, and changes nothing", async () => {
    const viewer = sim().token("sim-viewer");
    expect(await status(viewer, `${rbac}/clusterrolebindings`)).toBe(200);
    expect(await status(viewer, "/api/v1/nodes")).toBe(200);
    expect(await status(viewer, "/metrics")).not.toBe(403);
    const denied = await simRequest(sim(), "POST", `${rbac}/clusterrolebindings`, {
      token: viewer,
      body: binding("ClusterRoleBinding", "me-admin", { kind: "ClusterRole", name: "cluster-admin" }, [
        userSubject("sim-viewer"),
      ]),
    });
    expect(denied.json.message).toBe(
      'clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "sim-viewer" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope',
    );
  });
});

// --- The real kubectl --------------------------------------------------------------------------

const kubectlBinary = findKubectl();
const describeKubectl = kubectlBinary ? describe : describe.skip;

describeKubectl("kubectl and RBAC in the simulated cluster", { timeout: 60_000 }, () => {
  let cluster: SimCluster;
  let kubectl: Kubectl;
  let alice: { token: string; context: string };
  let bob: { token: string; context: string };

  beforeEach(async () => {
    cluster = await startSimCluster({ seed: 1, controllers: false });
    alice = cluster.addUser("alice");
    bob = cluster.addUser("bob");
    // After the users: the kubeconfig kubectl gets has their contexts.
    kubectl = new Kubectl(kubectlBinary ?? "kubectl", cluster);
  });
  afterEach(async () => {
    await kubectl.close();
    await cluster.close();
  });

  const rbacYaml = join(repoRoot, "deploy", "rbac.yaml");
  const fileRoles = () =>
    parseAllDocuments(readFileSync(rbacYaml, "utf8"))
      .map((d) => d.toJSON())
      .filter((d) => d?.kind === "ClusterRole");

  async function applyAndBindForAlice(): Promise<void> {
    await kubectl.ok(["apply", "-f", rbacYaml]);
    await kubectl.ok([
      "create",
      "clusterrolebinding",
      "kvmig-viewer",
      "--clusterrole=kvmig-viewer",
      "--user=alice",
    ]);
    await kubectl.ok([
      "create",
      "rolebinding",
      "kvmig-operator",
      "--clusterrole=kvmig-operator",
      "--user=alice",
      "-n",
      "demo",
    ]);
  }

  it("kubectl apply -f deploy/rbac.yaml creates the ClusterRoles as written; again, nothing changes", async () => {
    const names = fileRoles().map((r) => r.metadata.name as string);
    expect(outputLines(await kubectl.ok(["apply", "-f", rbacYaml]))).toEqual(
      names.map((n) => `clusterrole.rbac.authorization.k8s.io/${n} created`),
    );
    expect(outputLines(await kubectl.ok(["apply", "-f", rbacYaml]))).toEqual(
      names.map((n) => `clusterrole.rbac.authorization.k8s.io/${n} unchanged`),
    );
    for (const role of fileRoles()) {
      const stored = JSON.parse(await kubectl.ok(["get", "clusterrole", role.metadata.name, "-o", "json"]));
      expect(stored.rules).toEqual(role.rules);
      expect(stored.metadata.labels).toEqual(role.metadata.labels);
    }
  });

  it("kubectl create clusterrolebinding/rolebinding; get -o wide shows role and subjects; delete takes it away", async () => {
    await kubectl.ok(["apply", "-f", rbacYaml]);
    expect(
      await kubectl.ok([
        "create",
        "clusterrolebinding",
        "kvmig-viewer",
        "--clusterrole=kvmig-viewer",
        "--user=alice",
      ]),
    ).toBe("clusterrolebinding.rbac.authorization.k8s.io/kvmig-viewer created\n");
    expect(
      await kubectl.ok([
        "create",
        "rolebinding",
        "ops",
        "--clusterrole=kvmig-operator",
        "--user=bob",
        "--group=vm-operators",
        "--serviceaccount=demo:robot",
        "-n",
        "demo",
      ]),
    ).toBe("rolebinding.rbac.authorization.k8s.io/ops created\n");
    const table = parseTable(await kubectl.ok(["get", "rolebindings", "-n", "demo", "-o", "wide"]));
    expect(table.header).toEqual(["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]);
    expect(table.rows.map((r) => [r[0], r[1], r[3], r[4], r[5]])).toEqual([
      ["ops", "ClusterRole/kvmig-operator", "bob", "vm-operators", "demo/robot"],
    ]);
    const yes = { stdout: "yes\n", code: 0 };
    const no = { stdout: "no\n", code: 1 };
    expect(
      await kubectl.run(["auth", "can-i", "list", "vmi", "-A"], { context: alice.context }),
    ).toMatchObject(yes);
    expect(
      await kubectl.run(["auth", "can-i", "delete", "vmim", "-n", "demo"], { context: bob.context }),
    ).toMatchObject(yes);
    // The RoleBinding grants in demo only.
    expect(
      await kubectl.run(["auth", "can-i", "delete", "vmim", "-n", "kube-system"], { context: bob.context }),
    ).toMatchObject(no);
    await kubectl.ok(["delete", "clusterrolebinding", "kvmig-viewer"]);
    expect(
      await kubectl.run(["auth", "can-i", "list", "vmi", "-A"], { context: alice.context }),
    ).toMatchObject(no);
  });

  it("kubectl auth can-i agrees with SelfSubjectAccessReview, for a user with exactly the kvmig roles", async () => {
    await applyAndBindForAlice();
    const checks: [string[], Record<string, string>, boolean][] = [
      [
        ["list", "virtualmachineinstances", "-A"],
        { verb: "list", group: "kubevirt.io", resource: "virtualmachineinstances" },
        true,
      ],
      [
        ["watch", "vmim", "-A"],
        { verb: "watch", group: "kubevirt.io", resource: "virtualmachineinstancemigrations" },
        true,
      ],
      [
        ["create", "vmim", "-n", "demo"],
        {
          verb: "create",
          group: "kubevirt.io",
          resource: "virtualmachineinstancemigrations",
          namespace: "demo",
        },
        true,
      ],
      [
        ["create", "vmim", "-n", "kube-system"],
        {
          verb: "create",
          group: "kubevirt.io",
          resource: "virtualmachineinstancemigrations",
          namespace: "kube-system",
        },
        false,
      ],
      [
        ["delete", "vmim", "-n", "demo"],
        {
          verb: "delete",
          group: "kubevirt.io",
          resource: "virtualmachineinstancemigrations",
          namespace: "demo",
        },
        true,
      ],
      [
        ["update", "vmim", "-n", "demo"],
        {
          verb: "update",
          group: "kubevirt.io",
          resource: "virtualmachineinstancemigrations",
          namespace: "demo",
        },
        false,
      ],
      [
        ["delete", "vmi", "-n", "demo"],
        { verb: "delete", group: "kubevirt.io", resource: "virtualmachineinstances", namespace: "demo" },
        false,
      ],
      [
        ["get", "deployments/virt-controller", "-n", "kubevirt"],
        {
          verb: "get",
          group: "apps",
          resource: "deployments",
          namespace: "kubevirt",
          name: "virt-controller",
        },
        true,
      ],
      [
        ["get", "deployments/virt-api", "-n", "kubevirt"],
        { verb: "get", group: "apps", resource: "deployments", namespace: "kubevirt", name: "virt-api" },
        false,
      ],
      [
        ["list", "deployments", "-n", "kubevirt"],
        { verb: "list", group: "apps", resource: "deployments", namespace: "kubevirt" },
        false,
      ],
      [
        ["get", "pods", "--subresource=log", "-n", "demo"],
        { verb: "get", group: "", resource: "pods", subresource: "log", namespace: "demo" },
        true,
      ],
      [["get", "pods", "-n", "demo"], { verb: "get", group: "", resource: "pods", namespace: "demo" }, false],
      [["list", "nodes"], { verb: "list", group: "", resource: "nodes" }, true],
      // kubectl resolves `virtualmachines` to kubevirt.io (discovery has no top-level resource in
      // subresources.kubevirt.io), so it asks about kubevirt.io's virtualmachines/migrate: no.
      [
        ["update", "virtualmachines", "--subresource=migrate", "-n", "demo"],
        {
          verb: "update",
          group: "kubevirt.io",
          resource: "virtualmachines",
          subresource: "migrate",
          namespace: "demo",
        },
        false,
      ],
      [["get", "/version"], { verb: "get", path: "/version" }, true],
      [["get", "/metrics"], { verb: "get", path: "/metrics" }, false],
    ];
    for (const [args, attributes, expected] of checks) {
      const answer = await kubectl.run(["auth", "can-i", ...args], { context: alice.context });
      const nonResource = "path" in attributes;
      const review = await simRequest(cluster, "POST", ssar, {
        token: alice.token,
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: nonResource ? { nonResourceAttributes: attributes } : { resourceAttributes: attributes },
        },
      });
      const line = `kubectl auth can-i ${args.join(" ")}`;
      expect(answer.stdout, line).toBe(expected ? "yes\n" : "no\n");
      expect(answer.code, line).toBe(expected ? 0 : 1);
      expect(review.json.status.allowed, `SSAR for ${line}`).toBe(expected);
    }
    // What kvmig's pre-flight asks, in the API group kubectl cannot name: allowed in demo only.
    const migrate = async (namespace: string) =>
      (
        await simRequest(cluster, "POST", ssar, {
          token: alice.token,
          body: {
            kind: "SelfSubjectAccessReview",
            apiVersion: "authorization.k8s.io/v1",
            spec: {
              resourceAttributes: {
                verb: "update",
                group: "subresources.kubevirt.io",
                resource: "virtualmachines",
                subresource: "migrate",
                namespace,
                name: "fedora-web",
              },
            },
          },
        })
      ).json.status;
    expect(await migrate("demo")).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by RoleBinding "kvmig-operator/demo" of ClusterRole "kvmig-operator" to User "alice"',
    });
    expect(await migrate("kube-system")).toEqual({ allowed: false });
  });

  it("kubectl auth can-i --list shows the rules of the user's bindings (SelfSubjectRulesReview)", async () => {
    await applyAndBindForAlice();
    const table = parseTable(
      await kubectl.ok(["auth", "can-i", "--list", "-n", "demo"], { context: alice.context }),
    );
    const rows = new Map(table.rows.map((r) => [r[0] === "" ? r[1] : r[0], r]));
    expect(rows.get("virtualmachines.subresources.kubevirt.io/migrate")?.[3]).toBe("[update]");
    expect(rows.get("virtualmachineinstancemigrations.kubevirt.io")?.[3]).toBe("[list watch create delete]");
    expect(rows.get("deployments.apps")?.[2]).toBe("[virt-controller]");
    expect(rows.get("[/version]")?.[3]).toBe("[get]");
    const elsewhere = await kubectl.ok(["auth", "can-i", "--list", "-n", "kube-system"], {
      context: alice.context,
    });
    expect(elsewhere).not.toContain("virtualmachines.subresources.kubevirt.io/migrate");
    // bob has no bindings: the self reviews and discovery only.
    const bobs = parseTable(
      await kubectl.ok(["auth", "can-i", "--list", "-n", "demo"], { context: bob.context }),
    );
    expect(bobs.rows.map((r) => r[0]).filter((r) => r !== "")).toEqual([
      "selfsubjectreviews.authentication.k8s.io",
      "selfsubjectaccessreviews.authorization.k8s.io",
      "selfsubjectrulesreviews.authorization.k8s.io",
      "virtualmachineclusterinstancetypes.instancetype.kubevirt.io",
      "virtualmachineclusterpreferences.instancetype.kubevirt.io",
      "kubevirts.kubevirt.io",
      "guestfs.subresources.kubevirt.io",
      "version.subresources.kubevirt.io",
    ]);
  });

  it("kubectl as the user: reads that RBAC allows work, the rest are refused in the API server's words", async () => {
    await applyAndBindForAlice();
    expect(
      parseTable(await kubectl.ok(["get", "vmi", "-n", "demo"], { context: alice.context })).rows.length,
    ).toBe(5);
    const refused = await kubectl.run(["delete", "vmi", "fedora-web", "-n", "demo"], {
      context: alice.context,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      'Error from server (Forbidden): virtualmachineinstances.kubevirt.io "fedora-web" is forbidden: User "alice" cannot delete resource "virtualmachineinstances" in API group "kubevirt.io" in the namespace "demo"',
    );
    const roles = await kubectl.run(["get", "clusterroles"], { context: alice.context });
    expect(roles.stderr.trim()).toBe(
      'Error from server (Forbidden): clusterroles.rbac.authorization.k8s.io is forbidden: User "alice" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope',
    );
  });
});

describe("evacuate/cancel: authorized twice, as on a real cluster with KubeVirt v1.9", () => {
  // kube-apiserver's RequestInfo takes the first segment after the name as the subresource
  // (`evacuate`); virt-api's own SubjectAccessReview takes the whole rest (`evacuate/cancel`,
  // pkg/virt-api/rest/authorizer.go since v1.9) and answers 401 when that is refused.
  const sim = simPerTest({ scenario: "maintenance" });
  const path =
    "/apis/subresources.kubevirt.io/v1/namespaces/prod/virtualmachineinstances/web-1/evacuate/cancel";
  const body = { evacuationNodeName: "node-1" };

  async function grantClusterWide(name: string, resources: string[]): Promise<void> {
    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name },
      rules: [{ apiGroups: ["subresources.kubevirt.io"], resources, verbs: ["update"] }],
    };
    for (const [url, object] of [
      [`${rbac}/clusterroles`, role],
      [
        `${rbac}/clusterrolebindings`,
        binding("ClusterRoleBinding", name, { kind: "ClusterRole", name }, [userSubject("gina")]),
      ],
    ] as const) {
      const answer = await simRequest(sim(), "POST", url, { body: object });
      expect(answer.status, answer.text).toBe(201);
    }
  }

  it("KubeVirt's admin role names only evacuate/cancel: the API server refuses (403, subresource evacuate)", async () => {
    const gina = sim().addUser("gina").token;
    const answer = await simRequest(sim(), "PUT", path, { token: gina, body });
    expect(answer.status).toBe(403);
    const admin = await simRequest(sim(), "POST", `${rbac}/namespaces/prod/rolebindings`, {
      body: binding(
        "RoleBinding",
        "gina-admin",
        { kind: "ClusterRole", name: "admin" },
        [userSubject("gina")],
        "prod",
      ),
    });
    expect(admin.status, admin.text).toBe(201);
    const refused = await simRequest(sim(), "PUT", path, { token: gina, body });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toBe(
      'virtualmachineinstances.subresources.kubevirt.io "web-1" is forbidden: User "gina" cannot update resource "virtualmachineinstances/evacuate" in API group "subresources.kubevirt.io" in the namespace "prod"',
    );
  });

  it("evacuate alone passes the API server, then virt-api refuses evacuate/cancel (401, plain text)", async () => {
    const gina = sim().addUser("gina").token;
    await grantClusterWide("evacuate-only", ["virtualmachineinstances/evacuate"]);
    const answer = await simRequest(sim(), "PUT", path, { token: gina, body });
    expect(answer.status).toBe(401);
    expect(answer.text).toBe("");
  });

  it("both names: allowed (200: web-1 is not marked, nothing to clear)", async () => {
    const gina = sim().addUser("gina").token;
    await grantClusterWide("evacuate-both", [
      "virtualmachineinstances/evacuate",
      "virtualmachineinstances/evacuate/cancel",
    ]);
    const answer = await simRequest(sim(), "PUT", path, { token: gina, body });
    expect(answer.status, answer.text).toBe(200);
  });
});
