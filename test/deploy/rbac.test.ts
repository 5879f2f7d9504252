// deploy/rbac.yaml against what kvmig really asks of the API server: every command runs end to
// end against the simulated cluster with -v, each logged request becomes the attributes the
// Kubernetes authorizer sees (verb, API group, resource, subresource, namespace, name), and a
// small RBAC rule matcher decides it with the roles from the file. Read-only commands must get
// by with kvmig-viewer; operating ones with kvmig-viewer + kvmig-operator; and every rule in the
// file must be used by some request (least privilege); `evacuate` gets by with kvmig-viewer +
// kvmig-node-maintainer. A KubeVirt subresource deeper than one segment (`evacuate/cancel`) is
// checked as kube-apiserver sees it and as virt-api (v1.9+) does. The commands run as the admin here;
// test/e2e/rbac-enforced.test.ts runs them as a user the simulated cluster's RBAC holds to exactly
// these roles. It listens on 127.0.0.1 only.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { R } from "../../src/sim/controllers/runtime.js";
import { bootstrapClusterRoles } from "../../src/sim/rbac-policy.js";
import { ensureBuilt, repoRoot } from "../e2e/built-cli.js";
import { type SimCli, simCli } from "../e2e/sim-cli.js";

// --- The authorizer's view of a request (k8s.io/apiserver RequestInfoFactory, simplified). ---

type Attributes =
  | {
      resourceRequest: true;
      verb: string;
      apiGroup: string;
      resource: string;
      subresource: string;
      namespace: string;
      name: string;
    }
  | { resourceRequest: false; verb: string; path: string };

const verbOfMethod: Record<string, string> = {
  POST: "create",
  GET: "get",
  HEAD: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/** `?watch=` values the API server reads as false (metav1's string-to-bool conversion). */
const falseWords = new Set(["", "0", "n", "no", "f", "false", "off"]);

/**
 * virt-api's second check of a request to one of its subresources (pkg/virt-api/rest/authorizer.go):
 * a SubjectAccessReview whose subresource is, since KubeVirt v1.9, the whole path after the name
 * (`evacuate/cancel`), where kube-apiserver took its first segment; portforward stays one segment.
 * Undefined when it asks what kube-apiserver asked.
 */
function virtApiAttributes(method: string, pathWithQuery: string): Attributes | undefined {
  const a = attributesOf(method, pathWithQuery);
  if (!a.resourceRequest || a.apiGroup !== "subresources.kubevirt.io" || a.subresource === "")
    return undefined;
  const parts = new URL(pathWithQuery, "https://127.0.0.1").pathname.split("/").filter((p) => p !== "");
  const after = parts.slice(parts.indexOf(a.name, parts.indexOf(a.resource)) + 1);
  if (after.length < 2 || after[0] === "portforward") return undefined;
  return { ...a, subresource: after.join("/") };
}

function attributesOf(method: string, pathWithQuery: string): Attributes {
  const url = new URL(pathWithQuery, "https://127.0.0.1");
  const path = url.pathname;
  const nonResource = (): Attributes => ({ resourceRequest: false, verb: method.toLowerCase(), path });
  const segments = path.split("/").filter((p) => p !== "");
  const prefix = segments[0];
  // /api/v1/<resource...> or /apis/<group>/<version>/<resource...>; shorter paths are discovery.
  if (segments.length < 3 || (prefix !== "api" && prefix !== "apis")) return nonResource();
  let parts = segments.slice(1);
  let apiGroup = "";
  if (prefix === "apis") {
    if (parts.length < 3) return nonResource();
    apiGroup = parts[0] ?? "";
    parts = parts.slice(1);
  }
  parts = parts.slice(1); // the version
  let verb = verbOfMethod[method] ?? method.toLowerCase();
  if (parts[0] === "watch") {
    verb = "watch";
    parts = parts.slice(1);
  }
  let namespace = "";
  if (parts[0] === "namespaces" && parts.length > 1) {
    namespace = parts[1] ?? "";
    if (parts.length > 2) parts = parts.slice(2);
  }
  const [resource = "", name = "", subresource = ""] = parts;
  const watch = url.searchParams.get("watch");
  let effectiveName = name;
  if (name === "") {
    if (verb === "get") verb = watch !== null && !falseWords.has(watch.toLowerCase()) ? "watch" : "list";
    if (verb === "delete") verb = "deletecollection";
    // A list or watch of one object by field selector is authorized with that object's name.
    const byName = /^metadata\.name=([^,]+)$/.exec(url.searchParams.get("fieldSelector") ?? "");
    if (byName && (verb === "list" || verb === "watch")) effectiveName = byName[1] ?? "";
  }
  return { resourceRequest: true, verb, apiGroup, resource, subresource, namespace, name: effectiveName };
}

// --- RBAC rules and the matcher (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac). ---

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

interface ClusterRole {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  rules: PolicyRule[];
}

function has(list: readonly string[] | undefined, value: string): boolean {
  return (list ?? []).some((item) => item === "*" || item === value);
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource === "" ? resource : `${resource}/${subresource}`;
  return (rule.resources ?? []).some(
    (r) => r === "*" || r === combined || (subresource !== "" && r === `*/${subresource}`),
  );
}

function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === "*" || u === a.path || (u.endsWith("*") && a.path.startsWith(u.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  if (!resourceMatches(rule, a.resource, a.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

function allows(rules: readonly PolicyRule[], a: Attributes): boolean {
  return rules.some((rule) => ruleAllows(rule, a));
}

/**
 * What Kubernetes grants every authenticated user (bootstrap policy: system:basic-user,
 * system:discovery, system:public-info-viewer); rbac.yaml relies on these and says so.
 */
const everyAuthenticatedUser: PolicyRule[] = [
  {
    apiGroups: ["authorization.k8s.io"],
    resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    verbs: ["create"],
  },
  { apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], verbs: ["create"] },
  {
    nonResourceURLs: [
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
    verbs: ["get"],
  },
];

/** KubeVirt's `kubevirt.io:migrate` (pkg/virt-operator/resource/generate/rbac/cluster.go, v1.5.0+). */
const kubevirtMigrate: PolicyRule[] = [
  { apiGroups: ["subresources.kubevirt.io"], resources: ["virtualmachines/migrate"], verbs: ["update"] },
  {
    apiGroups: ["kubevirt.io"],
    resources: ["virtualmachineinstancemigrations"],
    verbs: ["get", "delete", "create", "update", "patch", "list", "watch", "deletecollection"],
  },
];

/** One (group, resource, verb[, name]) a rule grants; rules are unions of these. */
interface Permission {
  apiGroup: string;
  resource: string;
  verb: string;
  resourceName?: string;
}

function expand(rule: PolicyRule): Permission[] {
  const out: Permission[] = [];
  for (const apiGroup of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs)
        if ((rule.resourceNames ?? []).length === 0) out.push({ apiGroup, resource, verb });
        else
          for (const resourceName of rule.resourceNames ?? [])
            out.push({ apiGroup, resource, verb, resourceName });
  return out;
}

function permissionText(p: Permission): string {
  return `${p.verb} ${p.apiGroup === "" ? "core" : p.apiGroup} ${p.resource}${p.resourceName ? ` (${p.resourceName})` : ""}`;
}

function describeAttributes(a: Attributes): string {
  if (!a.resourceRequest) return `${a.verb} ${a.path}`;
  const resource = a.subresource === "" ? a.resource : `${a.resource}/${a.subresource}`;
  return `${a.verb} ${a.apiGroup === "" ? "core" : a.apiGroup} ${resource}${a.namespace ? ` in ${a.namespace}` : " (cluster-wide)"}${a.name ? ` name=${a.name}` : ""}`;
}

// --- The roles from deploy/rbac.yaml. ---

const rbacPath = join(repoRoot, "deploy", "rbac.yaml");
const rbacText = readFileSync(rbacPath, "utf8");
const documents = parseAllDocuments(rbacText)
  .map((d) => d.toJSON() as ClusterRole | null)
  .filter((d): d is ClusterRole => d !== null);

function role(name: string): ClusterRole {
  const found = documents.find((d) => d.kind === "ClusterRole" && d.metadata?.name === name);
  if (!found) throw new Error(`deploy/rbac.yaml has no ClusterRole ${name}`);
  return found;
}

const viewer = role("kvmig-viewer");
const operator = role("kvmig-operator");
const maintainer = role("kvmig-node-maintainer");

function touchesMigrations(rule: PolicyRule): boolean {
  return (rule.resources ?? []).some(
    (r) => r === "virtualmachines/migrate" || r === "virtualmachineinstancemigrations",
  );
}

/**
 * Permissions the file may hold although no command below exercises them, each with the reason.
 * Kept empty while every rule is exercised; an entry that becomes exercised fails the test.
 */
const notExercised: ReadonlyArray<Permission & { reason: string }> = [];

// --- What the commands request: each run with -v, its request lines parsed. ---

/** read: kvmig-viewer's commands; operate: + kvmig-operator; maintain: + kvmig-node-maintainer. */
type Kind = "read" | "operate" | "maintain";

interface Observed {
  kind: Kind;
  command: string;
  line: string;
  attributes: Attributes;
  /** Who asks: kube-apiserver (every request), or virt-api again for a deeper subresource path. */
  by: "kube-apiserver" | "virt-api";
}

const requestLine = /^(GET|POST|PUT|PATCH|DELETE) (\/\S*) (?:\d{3}\b|failed in )/;

/** The requests in one run's -v output (transport.ts logs `METHOD PATH STATUS TEXT in Nms`). */
function requestsIn(stderr: string): { method: string; path: string; line: string }[] {
  const out: { method: string; path: string; line: string }[] = [];
  for (const line of stderr.split("\n")) {
    const m = requestLine.exec(line);
    if (m) out.push({ method: m[1] ?? "", path: m[2] ?? "", line });
  }
  return out;
}

const observed: Observed[] = [];
const commandsRun: { kind: Kind; command: string; requests: number }[] = [];

async function kvmig(sim: SimCli, kind: Kind, args: string[], codes: number[] = [0], timeoutMs = 60_000) {
  const result = await sim.run([...args, "-v"], timeoutMs);
  const command = `kvmig ${args.join(" ")}`;
  if (!codes.includes(result.code ?? -1)) {
    throw new Error(`${command} exited ${result.code}, expected ${codes.join(" or ")}:\n${result.stderr}`);
  }
  const requests = requestsIn(result.stderr);
  for (const r of requests) {
    const line = r.line;
    observed.push({ kind, command, line, attributes: attributesOf(r.method, r.path), by: "kube-apiserver" });
    const again = virtApiAttributes(r.method, r.path);
    if (again) observed.push({ kind, command, line, attributes: again, by: "virt-api" });
  }
  commandsRun.push({ kind, command, requests: requests.length });
  return result;
}

async function session(options: Parameters<typeof simCli>[0], body: (sim: SimCli) => Promise<void>) {
  const sim = await simCli(options);
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

/** The sessions: every command, in the situations that make it read what it can read. */
async function runEverything(): Promise<void> {
  const outcomes = await Promise.allSettled([
    // A migration from start to end, and the reads around it.
    session({ speed: 10 }, async (sim) => {
      await kvmig(sim, "read", ["version"]);
      await kvmig(sim, "read", ["diagnose", "fedora-web", "-n", "demo"]);
      await kvmig(sim, "operate", ["migrate", "fedora-web", "-n", "demo", "--dry-run"]);
      await kvmig(sim, "operate", ["migrate", "fedora-web", "-n", "demo"]);
      await kvmig(sim, "read", ["watch", "fedora-web", "-n", "demo"]);
      await kvmig(sim, "read", ["diagnose", "fedora-web", "-n", "demo"]);
      // Not found: an unknown VM, and an unknown namespace told apart from it.
      await kvmig(sim, "operate", ["migrate", "no-such-vm", "-n", "demo"], [5]);
      await kvmig(sim, "read", ["watch", "fedora-web", "-n", "no-such-namespace"], [5]);
    }),
    // Watching a running migration: the table (one namespace and all) and one VM.
    session({ speed: 2 }, async (sim) => {
      await kvmig(sim, "operate", ["migrate", "rhel-db", "-n", "demo", "--no-wait"]);
      await Promise.all([
        kvmig(sim, "read", ["watch", "-n", "demo", "--exit-on-done"]),
        kvmig(sim, "read", ["watch", "-A", "--exit-on-done", "-o", "json"]),
        kvmig(sim, "read", ["watch", "rhel-db", "-n", "demo"]),
      ]);
    }),
    // Cancelling an unfinished migration (slow time: it is still before hand-off).
    session({ speed: 0.2 }, async (sim) => {
      await kvmig(sim, "operate", ["migrate", "fedora-web", "-n", "demo", "--no-wait"]);
      await kvmig(sim, "operate", ["cancel", "fedora-web", "-n", "demo", "--dry-run"]);
      await kvmig(sim, "operate", ["cancel", "fedora-web", "-n", "demo", "--yes"]);
    }),
    // Restarts: plain, forced, dry run.
    session({ speed: 4 }, async (sim) => {
      await kvmig(sim, "operate", ["restart", "cirros-test", "-n", "demo", "--dry-run"]);
      await kvmig(sim, "operate", ["restart", "cirros-test", "-n", "demo", "--yes"]);
      await kvmig(sim, "operate", ["restart", "fedora-web", "-n", "demo", "--yes", "--force"]);
    }),
    // A standalone VMI (its VirtualMachine removed): migrate creates the VMIM itself.
    session({ speed: 10 }, async (sim) => {
      const store = sim.cluster.store;
      store.patch(R.vmi, "demo", "cirros-test", "merge", { metadata: { ownerReferences: null } });
      store.patch(R.vm, "demo", "cirros-test", "merge", { metadata: { finalizers: null } });
      store.delete(R.vm, "demo", "cirros-test", { propagationPolicy: "Orphan" });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(store.get(R.vm.storage, "demo", "cirros-test")).toBeUndefined();
      expect(sim.vmi("demo", "cirros-test")?.status?.phase).toBe("Running");
      await kvmig(sim, "operate", ["migrate", "cirros-test", "-n", "demo"]);
      await kvmig(sim, "read", ["diagnose", "cirros-test", "-n", "demo"]);
    }),
    // After an upgrade: list the outdated VMIs, then cycle them.
    session({ scenario: "upgrade", speed: 4 }, async (sim) => {
      await kvmig(sim, "read", ["outdated", "-A"]);
      await kvmig(sim, "read", ["outdated", "-n", "apps", "--check", "-o", "wide"]);
      await kvmig(
        sim,
        "operate",
        ["outdated", "-A", "--migrate", "--restart", "--yes", "--concurrency", "3"],
        [0],
        120_000,
      );
    }),
    // A VM on a Multus network defined in another namespace: diagnose reads that NAD by name.
    session({ speed: 10 }, async (sim) => {
      const vmi = sim.vmi("demo", "win-app");
      const networks = structuredClone(vmi.spec.networks) as { multus?: { networkName: string } }[];
      const multus = networks.find((n) => n.multus);
      if (!multus?.multus) throw new Error("win-app has no Multus network in the default scenario");
      multus.multus.networkName = `kube-system/${multus.multus.networkName}`;
      sim.cluster.store.patch(R.vmi, "demo", "win-app", "merge", { spec: { networks } });
      await kvmig(sim, "read", ["diagnose", "win-app", "-n", "demo", "--fail-on", "never"]);
    }),
    // Bridges with kubernetes-nmstate installed: the NodeNetworkStates are there to be read (the
    // default scenario has no nmstate: the same list answers 404, authorized first all the same).
    session({ scenario: "bridges", speed: 10 }, async (sim) => {
      await kvmig(sim, "operate", ["migrate", "web-13", "-n", "vlan", "--dry-run"]);
      await kvmig(sim, "read", ["diagnose", "web-13", "-n", "vlan", "--fail-on", "never"]);
    }),
    // A VM's migration history: one VM, a namespace by node, every namespace, and an unknown VM.
    session({ scenario: "history" }, async (sim) => {
      await kvmig(sim, "read", ["history", "ledger", "-n", "finance"]);
      await kvmig(sim, "read", ["history", "-n", "finance", "--node", "node-3"]);
      await kvmig(sim, "read", ["history", "-A", "-o", "json"]);
      await kvmig(sim, "read", ["history", "nope", "-n", "finance"], [5]);
    }),
    // Node maintenance: the plan, an unknown node, and a whole evacuation with restarts (pinned-cpu
    // fails twice: kvmig cancels its evacuation and deletes KubeVirt's queued retry; exit 3).
    session({ scenario: "maintenance", speed: 20 }, async (sim) => {
      await kvmig(sim, "maintain", ["evacuate", "node-1", "--dry-run"]);
      await kvmig(sim, "maintain", ["evacuate", "no-such-node", "--dry-run"], [5]);
      await kvmig(sim, "maintain", ["evacuate", "node-1", "--restart", "--yes"], [3], 170_000);
    }),
    // --cancel while KubeVirt's evacuation is under way (slow time; the first run stops following
    // at its --timeout, exit 6): every mark cleared, the migrations not started deleted, uncordoned.
    session({ scenario: "maintenance", speed: 0.5 }, async (sim) => {
      await kvmig(sim, "maintain", ["evacuate", "node-1", "--yes", "--timeout", "3s"], [6]);
      const pending = () =>
        (sim.cluster.store.list(R.vmim.storage) as { status?: { phase?: string } }[]).filter(
          (m) => (m.status?.phase ?? "") === "" || m.status?.phase === "Pending",
        ).length;
      expect(pending()).toBeGreaterThan(0);
      await kvmig(sim, "maintain", ["evacuate", "node-1", "--cancel"]);
      expect(pending()).toBe(0);
    }),
    // A failed migration in the history: diagnose has target pods, events and logs to read.
    session({ scenario: "not-converging", speed: 10 }, async (sim) => {
      await kvmig(sim, "read", ["diagnose", "busy-db", "-n", "data", "--fail-on", "never"]);
      // Its last migration failed: watch shows it, diagnoses it, and exits 3.
      await kvmig(sim, "read", ["watch", "busy-db", "-n", "data"], [3]);
    }),
  ]);
  // Every session ends (and closes its cluster) before a failure is reported.
  for (const outcome of outcomes) if (outcome.status === "rejected") throw outcome.reason;
}

beforeAll(async () => {
  await ensureBuilt();
  await runEverything();
}, 240_000);

function denied(kind: Kind, rules: readonly PolicyRule[]): string[] {
  return observed
    .filter((o) => o.kind === kind && !allows(rules, o.attributes))
    .map((o) => `${o.command}: ${describeAttributes(o.attributes)}   [${o.line}]`);
}

const unique = (items: string[]) => [...new Set(items)].sort();

describe("the request attributes and the rule matcher", () => {
  it("turn request lines into the authorizer's verbs, like the API server", () => {
    expect(attributesOf("GET", "/api/v1/namespaces/demo/pods?labelSelector=a%3Db&limit=500")).toMatchObject({
      verb: "list",
      apiGroup: "",
      resource: "pods",
      namespace: "demo",
      name: "",
    });
    expect(
      attributesOf("GET", "/apis/kubevirt.io/v1/virtualmachineinstancemigrations?watch=1&resourceVersion=5"),
    ).toMatchObject({ verb: "watch", apiGroup: "kubevirt.io", namespace: "" });
    expect(attributesOf("GET", "/api/v1/namespaces/demo/pods/p-1/log?follow=true")).toMatchObject({
      verb: "get",
      resource: "pods",
      subresource: "log",
      name: "p-1",
    });
    expect(
      attributesOf("PUT", "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/vm-1/migrate"),
    ).toMatchObject({ verb: "update", resource: "virtualmachines", subresource: "migrate" });
    expect(
      attributesOf("DELETE", "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations/m"),
    ).toMatchObject({ verb: "delete", name: "m" });
    // virt-api's version is a resource "version" of its API group, read as a collection.
    expect(attributesOf("GET", "/apis/subresources.kubevirt.io/v1/version")).toMatchObject({
      resourceRequest: true,
      verb: "list",
      apiGroup: "subresources.kubevirt.io",
      resource: "version",
      namespace: "",
    });
    expect(attributesOf("GET", "/version")).toEqual({
      resourceRequest: false,
      verb: "get",
      path: "/version",
    });
    expect(attributesOf("GET", "/apis/kubevirt.io/v1")).toMatchObject({ resourceRequest: false });
  });

  it("allows only what a rule names: group, resource/subresource, verb, resourceNames", () => {
    const vmis: PolicyRule = {
      apiGroups: ["kubevirt.io"],
      resources: ["virtualmachineinstances"],
      verbs: ["get"],
    };
    const get = attributesOf("GET", "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstances/a");
    expect(ruleAllows(vmis, get)).toBe(true);
    expect(ruleAllows(vmis, attributesOf("GET", "/apis/kubevirt.io/v1/virtualmachineinstances"))).toBe(false);
    expect(ruleAllows({ ...vmis, apiGroups: [""] }, get)).toBe(false);
    const log = attributesOf("GET", "/api/v1/namespaces/demo/pods/p/log");
    expect(ruleAllows({ apiGroups: [""], resources: ["pods"], verbs: ["get"] }, log)).toBe(false);
    expect(ruleAllows({ apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }, log)).toBe(true);
    expect(ruleAllows({ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, log)).toBe(true);
    const controller = attributesOf("GET", "/apis/apps/v1/namespaces/kubevirt/deployments/virt-controller");
    const named: PolicyRule = {
      apiGroups: ["apps"],
      resources: ["deployments"],
      resourceNames: ["virt-controller"],
      verbs: ["get"],
    };
    expect(ruleAllows(named, controller)).toBe(true);
    expect(
      ruleAllows(named, attributesOf("GET", "/apis/apps/v1/namespaces/kubevirt/deployments/virt-api")),
    ).toBe(false);
    expect(allows(everyAuthenticatedUser, attributesOf("GET", "/version"))).toBe(true);
    expect(
      allows(
        viewer.rules,
        attributesOf("PUT", "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/a/migrate"),
      ),
    ).toBe(false);
  });
});

describe("deploy/rbac.yaml", () => {
  it("holds the two ClusterRoles, every rule commented with the commands that need it", () => {
    expect(documents.map((d) => `${d.apiVersion} ${d.kind} ${d.metadata.name}`)).toEqual([
      "rbac.authorization.k8s.io/v1 ClusterRole kvmig-viewer",
      "rbac.authorization.k8s.io/v1 ClusterRole kvmig-operator",
      "rbac.authorization.k8s.io/v1 ClusterRole kvmig-node-maintainer",
    ]);
    const known = new Set(["apiGroups", "resources", "resourceNames", "nonResourceURLs", "verbs"]);
    for (const rule of [...viewer.rules, ...operator.rules, ...maintainer.rules]) {
      for (const key of Object.keys(rule)) expect(known).toContain(key);
      expect(rule.verbs.length).toBeGreaterThan(0);
      expect(rule.verbs).not.toContain("*");
      expect(rule.resources ?? []).not.toContain("*");
    }
    // Read-only means read-only.
    for (const rule of viewer.rules)
      for (const verb of rule.verbs) expect(["get", "list", "watch"]).toContain(verb);

    const ruleLines = rbacText.split("\n").flatMap((line, i) => (/^ {2}- apiGroups:/.test(line) ? [i] : []));
    expect(ruleLines).toHaveLength(viewer.rules.length + operator.rules.length + maintainer.rules.length);
    const lines = rbacText.split("\n");
    for (const i of ruleLines) {
      const comment = lines[i - 1] ?? "";
      expect(comment, `the comment above line ${i + 1}`).toMatch(/^ {2}#/);
      // The comment block above the rule names at least one command.
      let block = "";
      for (let j = i - 1; j >= 0 && /^ {2}#/.test(lines[j] ?? ""); j--) block = `${lines[j]}\n${block}`;
      expect(block).toMatch(/\b(migrate|cancel|restart|watch|diagnose|history|outdated|version|evacuate)\b/);
    }
  });

  it("has example bindings (commented out) with placeholder subjects for the three roles and for kubevirt.io:migrate", () => {
    const start = rbacText.indexOf("# Example bindings.");
    expect(start).toBeGreaterThan(0);
    const commentLines = rbacText
      .slice(start)
      .split("\n")
      .filter((l) => l.startsWith("#"));
    // From the first commented-out line of YAML (a comment inside it stays a comment).
    const first = commentLines.findIndex((l) => /^# (# |apiVersion:)/.test(l));
    expect(first).toBeGreaterThan(0);
    const commented = commentLines
      .slice(first)
      .map((l) => l.replace(/^# ?/, ""))
      .join("\n");
    const bindings = parseAllDocuments(commented).map((d) => d.toJSON());
    expect(
      bindings.map(
        (b) => `${b.kind} ${b.roleRef.kind}/${b.roleRef.name}${b.metadata.namespace ? " namespaced" : ""}`,
      ),
    ).toEqual([
      "ClusterRoleBinding ClusterRole/kvmig-viewer",
      "RoleBinding ClusterRole/kvmig-operator namespaced",
      "RoleBinding ClusterRole/kubevirt.io:migrate namespaced",
      "ClusterRoleBinding ClusterRole/kvmig-node-maintainer",
    ]);
    for (const b of bindings) {
      expect(b.apiVersion).toBe("rbac.authorization.k8s.io/v1");
      expect(b.subjects.length).toBeGreaterThan(0);
    }
    // Nothing but comments after the marker: applying the file creates no binding.
    expect(parseAllDocuments(rbacText.slice(start)).every((d) => d.toJSON() === null)).toBe(true);
    // The parser of the commented part would also read a real document: it is YAML.
    expect(parseYaml(commented.split("---")[0] ?? "")).toMatchObject({ kind: "ClusterRoleBinding" });
  });
});

describe("deploy/rbac.yaml against the requests kvmig makes", () => {
  it("every command ran and made requests that were logged", () => {
    expect(commandsRun.length).toBeGreaterThanOrEqual(30);
    for (const c of commandsRun) expect(c.requests, c.command).toBeGreaterThan(0);
    // The commands the issue names, read-only and operating.
    const names = (kind: Kind) =>
      unique(commandsRun.filter((c) => c.kind === kind).map((c) => c.command.split(" ")[1] ?? ""));
    expect(names("read")).toEqual(["diagnose", "history", "outdated", "version", "watch"]);
    expect(names("operate")).toEqual(["cancel", "migrate", "outdated", "restart"]);
    expect(names("maintain")).toEqual(["evacuate"]);
  });

  it("kvmig-viewer (with what every authenticated user has) allows every request of watch, diagnose, history, outdated and version", () => {
    expect(unique(denied("read", [...viewer.rules, ...everyAuthenticatedUser]))).toEqual([]);
  });

  it("kvmig-viewer + kvmig-operator allow every request of migrate, cancel, restart and outdated --migrate --restart", () => {
    expect(
      unique(denied("operate", [...viewer.rules, ...operator.rules, ...everyAuthenticatedUser])),
    ).toEqual([]);
  });

  it("without kvmig-operator the operating commands are refused (the roles are not vacuous)", () => {
    const refused = unique(
      observed
        .filter(
          (o) => o.kind === "operate" && !allows([...viewer.rules, ...everyAuthenticatedUser], o.attributes),
        )
        .map((o) => describeAttributes({ ...o.attributes, name: "", namespace: "" } as Attributes)),
    );
    expect(refused).toEqual([
      "create kubevirt.io virtualmachineinstancemigrations (cluster-wide)",
      "delete kubevirt.io virtualmachineinstancemigrations (cluster-wide)",
      "update subresources.kubevirt.io virtualmachines/migrate (cluster-wide)",
      "update subresources.kubevirt.io virtualmachines/restart (cluster-wide)",
    ]);
  });

  it("kvmig-viewer + kvmig-node-maintainer allow every request of evacuate, --dry-run, --restart and --cancel", () => {
    expect(
      unique(denied("maintain", [...viewer.rules, ...maintainer.rules, ...everyAuthenticatedUser])),
    ).toEqual([]);
  });

  it("without kvmig-node-maintainer evacuate is refused: what it adds, each used", () => {
    const refused = unique(
      observed
        .filter(
          (o) => o.kind === "maintain" && !allows([...viewer.rules, ...everyAuthenticatedUser], o.attributes),
        )
        .map(
          (o) =>
            `${describeAttributes({ ...o.attributes, name: "", namespace: "" } as Attributes)} [${o.by}]`,
        ),
    );
    expect(refused).toEqual([
      "create core pods/eviction (cluster-wide) [kube-apiserver]",
      "delete kubevirt.io virtualmachineinstancemigrations (cluster-wide) [kube-apiserver]",
      "get core nodes (cluster-wide) [kube-apiserver]",
      "list kubevirt.io virtualmachines (cluster-wide) [kube-apiserver]",
      "patch core nodes (cluster-wide) [kube-apiserver]",
      "update subresources.kubevirt.io virtualmachineinstances/evacuate (cluster-wide) [kube-apiserver]",
      "update subresources.kubevirt.io virtualmachineinstances/evacuate/cancel (cluster-wide) [virt-api]",
      "update subresources.kubevirt.io virtualmachines/restart (cluster-wide) [kube-apiserver]",
    ]);
  });

  it("evacuate/cancel: kube-apiserver asks about evacuate, virt-api about evacuate/cancel; KubeVirt's admin role names only the second", () => {
    const cancels = observed.filter(
      (o) =>
        o.attributes.resourceRequest &&
        o.attributes.resource === "virtualmachineinstances" &&
        o.attributes.subresource.startsWith("evacuate"),
    );
    expect(
      unique(cancels.map((o) => `${o.by} ${(o.attributes as { subresource: string }).subresource}`)),
    ).toEqual(["kube-apiserver evacuate", "virt-api evacuate/cancel"]);
    // Both come from evacuate's give-up of pinned-cpu and from --cancel.
    expect(unique(cancels.map((o) => (o.command.includes("--cancel") ? "--cancel" : "evacuate")))).toEqual([
      "--cancel",
      "evacuate",
    ]);
    const admin = bootstrapClusterRoles().find((r) => r.metadata.name === "kubevirt.io:admin")?.rules ?? [];
    expect(admin.length).toBeGreaterThan(0);
    for (const o of cancels)
      expect(allows(admin, o.attributes), `${o.by} ${o.line}`).toBe(o.by === "virt-api");
    // Either check alone in the role is not enough.
    const [rule] = maintainer.rules.filter((r) => (r.resources ?? []).some((x) => x.includes("evacuate")));
    expect(rule?.resources).toEqual([
      "virtualmachineinstances/evacuate",
      "virtualmachineinstances/evacuate/cancel",
    ]);
    for (const only of rule?.resources ?? []) {
      const narrowed = { ...rule, verbs: ["update"], resources: [only] } as PolicyRule;
      expect(cancels.every((o) => ruleAllows(narrowed, o.attributes))).toBe(false);
    }
  });

  it("least privilege: every permission in the file is used by some request", () => {
    const unused: string[] = [];
    for (const r of [viewer, operator, maintainer]) {
      for (const rule of r.rules) {
        for (const p of expand(rule)) {
          const single: PolicyRule = {
            apiGroups: [p.apiGroup],
            resources: [p.resource],
            verbs: [p.verb],
            ...(p.resourceName ? { resourceNames: [p.resourceName] } : {}),
          };
          const users = observed.filter((o) => ruleAllows(single, o.attributes));
          // An operator or maintainer permission counts only where the viewer would not already
          // allow the request, and for its own commands.
          const needed =
            r === viewer
              ? users
              : users.filter(
                  (o) =>
                    !allows(viewer.rules, o.attributes) &&
                    o.kind === (r === operator ? "operate" : "maintain"),
                );
          const excused = notExercised.some(
            (n) => n.apiGroup === p.apiGroup && n.resource === p.resource && n.verb === p.verb,
          );
          if (needed.length === 0 && !excused) unused.push(`${r.metadata.name}: ${permissionText(p)}`);
          if (needed.length > 0 && excused)
            unused.push(`${permissionText(p)} is exercised: drop it from notExercised`);
        }
      }
    }
    expect(unused).toEqual([]);
  });

  it("the operator's migrate part is what kubevirt.io:migrate grants, minus what kvmig never sends", () => {
    const key = (p: Permission) => permissionText(p);
    const operatorMigrate = unique(operator.rules.filter(touchesMigrations).flatMap(expand).map(key));
    const operating = observed.filter((o) => o.kind === "operate" && !allows(viewer.rules, o.attributes));
    const usedFromKubevirtMigrate = unique(
      kubevirtMigrate
        .flatMap(expand)
        .filter((p) =>
          operating.some((o) =>
            ruleAllows({ apiGroups: [p.apiGroup], resources: [p.resource], verbs: [p.verb] }, o.attributes),
          ),
        )
        .map(key),
    );
    expect(operatorMigrate).toEqual(usedFromKubevirtMigrate);
    expect(operatorMigrate).toEqual([
      "create kubevirt.io virtualmachineinstancemigrations",
      "delete kubevirt.io virtualmachineinstancemigrations",
      "update subresources.kubevirt.io virtualmachines/migrate",
    ]);
    // Option B: kubevirt.io:migrate in place of the migrate part serves every operating command.
    const optionB = [
      ...viewer.rules,
      ...operator.rules.filter((rule) => !touchesMigrations(rule)),
      ...kubevirtMigrate,
      ...everyAuthenticatedUser,
    ];
    expect(unique(denied("operate", optionB))).toEqual([]);
  });

  it("kvmig-operator works through a RoleBinding: every write is in the VM's namespace", () => {
    const writes = observed.filter((o) => o.kind === "operate" && allows(operator.rules, o.attributes));
    expect(writes.length).toBeGreaterThan(0);
    expect(
      writes.filter((o) => !o.attributes.resourceRequest || o.attributes.namespace === "").map((o) => o.line),
    ).toEqual([]);
  });

  it("the cluster-wide reads are the ones rbac.yaml says need a ClusterRoleBinding for kvmig-viewer", () => {
    const clusterWide = unique(
      observed
        .filter((o) => o.attributes.resourceRequest && o.attributes.namespace === "")
        .filter((o) => allows(viewer.rules, o.attributes))
        .filter((o) => !allows(everyAuthenticatedUser, o.attributes))
        .map((o) => {
          const a = o.attributes as Extract<Attributes, { resourceRequest: true }>;
          return `${a.verb} ${a.resource}`;
        }),
    );
    // Nodes, NodeNetworkStates and migration policies are cluster-scoped; kubevirts, VMIMs and VMIs
    // are read across namespaces (the KubeVirt CR's namespace varies; the parallel-migration limits
    // are per cluster; -A), and so are pods (what runs on each node, for the room a target pod
    // needs) and events (history -A); the KubeVirt version is cluster-scoped.
    // (GET /api/v1/namespaces/NS is, to the authorizer, in namespace NS: a RoleBinding there covers it.)
    expect(clusterWide).toEqual([
      "list events",
      "list kubevirts",
      "list migrationpolicies",
      "list nodenetworkstates",
      "list nodes",
      "list pods",
      "list version",
      "list virtualmachineinstancemigrations",
      "list virtualmachineinstances",
      "watch virtualmachineinstancemigrations",
      "watch virtualmachineinstances",
    ]);
    // And virt-controller is read in KubeVirt's namespace, not the VM's.
    expect(
      observed.some(
        (o) =>
          o.attributes.resourceRequest &&
          o.attributes.resource === "deployments" &&
          o.attributes.namespace === "kubevirt",
      ),
    ).toBe(true);
  });

  it("kvmig-node-maintainer needs a ClusterRoleBinding: the node is cluster-scoped, its VMs in any namespace", () => {
    const writes = observed.filter(
      (o) =>
        o.kind === "maintain" &&
        o.attributes.resourceRequest &&
        !allows(viewer.rules, o.attributes) &&
        o.attributes.verb !== "get" &&
        o.attributes.verb !== "list",
    );
    const where = unique(
      writes.map((o) => {
        const a = o.attributes as Extract<Attributes, { resourceRequest: true }>;
        return `${a.resource}${a.subresource ? `/${a.subresource}` : ""} ${a.namespace === "" ? "(cluster)" : a.namespace}`;
      }),
    );
    expect(where).toContain("nodes (cluster)");
    expect(where).toContain("pods/eviction prod");
    expect(where).toContain("pods/eviction dev");
  });
});
