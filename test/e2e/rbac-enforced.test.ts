// deploy/rbac.yaml enforced: the built CLI runs as a user whose only permissions are the ones the
// file grants (kvmig-viewer through a ClusterRoleBinding, kvmig-operator through a RoleBinding in
// the VMs' namespaces, or kvmig-node-maintainer through a ClusterRoleBinding for evacuate) plus
// what every authenticated user has, against a simulated cluster that evaluates RBAC like
// kube-apiserver (and virt-api's own second check). Every command works as it does for the admin; with one
// permission taken out of the roles, the command that needs it exits 4 and names it (or, for a
// read kvmig treats as optional, says what it could not read). Loopback only.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { SimClusterOptions } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import type { PolicyRule } from "../../src/sim/rbac.js";
import { simRequest } from "../helpers/sim.js";
import { ensureBuilt, type RunResult, repoRoot } from "./built-cli.js";
import { type SimCli, simCli, until } from "./sim-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

interface ClusterRoleDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  rules: PolicyRule[];
}

const rbacApi = "/apis/rbac.authorization.k8s.io/v1";

function fileRoles(): ClusterRoleDoc[] {
  return parseAllDocuments(readFileSync(join(repoRoot, "deploy", "rbac.yaml"), "utf8"))
    .map((d) => d.toJSON() as ClusterRoleDoc | null)
    .filter((d): d is ClusterRoleDoc => d?.kind === "ClusterRole");
}

interface Permission {
  verb: string;
  group: string;
  resource: string;
}

/**
 * The roles of deploy/rbac.yaml with one verb on one resource taken out (the rest of the rule
 * stays); fails when the file does not grant it, so a case cannot silently test nothing.
 */
function rolesWithout(permission: Permission): ClusterRoleDoc[] {
  const roles = structuredClone(fileRoles());
  let removed = 0;
  for (const role of roles) {
    role.rules = role.rules.flatMap((rule) => {
      const matches =
        (rule.apiGroups ?? []).includes(permission.group) &&
        (rule.resources ?? []).includes(permission.resource) &&
        rule.verbs.includes(permission.verb);
      if (!matches) return [rule];
      removed++;
      const kept: PolicyRule[] = [];
      const verbs = rule.verbs.filter((v) => v !== permission.verb);
      if (verbs.length > 0) kept.push({ ...rule, resources: [permission.resource], verbs });
      const others = (rule.resources ?? []).filter((r) => r !== permission.resource);
      if (others.length > 0) kept.push({ ...rule, resources: others });
      return kept;
    });
  }
  if (removed === 0) throw new Error(`deploy/rbac.yaml does not grant ${JSON.stringify(permission)}`);
  return roles;
}

async function asAdmin(sim: SimCli, path: string, body: unknown): Promise<void> {
  const answer = await simRequest(sim.cluster, "POST", path, { body });
  if (answer.status !== 201) throw new Error(`POST ${path}: ${answer.status} ${answer.text}`);
}

const user = "jane";

/** kvmig-operator in these namespaces, or kvmig-node-maintainer cluster-wide. */
type Grant = readonly string[] | "node-maintainer";

/**
 * Applies the roles (as the admin), adds the user, binds kvmig-viewer cluster-wide and
 * kvmig-operator in each of `namespaces` (or kvmig-node-maintainer cluster-wide); returns the
 * user's kubeconfig context.
 */
async function grant(sim: SimCli, roles: readonly ClusterRoleDoc[], namespaces: Grant): Promise<string> {
  for (const role of roles) await asAdmin(sim, `${rbacApi}/clusterroles`, role);
  const context = sim.addUser(user);
  const subjects = [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: user }];
  const roleRef = (name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name });
  await asAdmin(sim, `${rbacApi}/clusterrolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: `kvmig-viewer-${user}` },
    roleRef: roleRef("kvmig-viewer"),
    subjects,
  });
  if (namespaces === "node-maintainer") {
    await asAdmin(sim, `${rbacApi}/clusterrolebindings`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `kvmig-node-maintainer-${user}` },
      roleRef: roleRef("kvmig-node-maintainer"),
      subjects,
    });
    return context;
  }
  for (const namespace of namespaces) {
    await asAdmin(sim, `${rbacApi}/namespaces/${namespace}/rolebindings`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: `kvmig-operator-${user}`, namespace },
      roleRef: roleRef("kvmig-operator"),
      subjects,
    });
  }
  return context;
}

async function session<T>(
  options: SimClusterOptions,
  roles: readonly ClusterRoleDoc[],
  namespaces: Grant,
  body: (sim: SimCli, run: (args: string[], timeoutMs?: number) => Promise<RunResult>) => Promise<T>,
): Promise<T> {
  const sim = await simCli(options);
  try {
    const context = await grant(sim, roles, namespaces);
    return await body(sim, (args, timeoutMs) => sim.run([...args, "--context", context], timeoutMs));
  } finally {
    await sim.close();
  }
}

/** What kvmig says when a read or write was refused, on either stream. */
const refusal = /forbidden|not allowed|could not|may not|not readable/i;

function expectClean(result: RunResult, command: string): void {
  expect(result.stderr, `${command}: stderr`).not.toMatch(refusal);
  expect(result.stdout, `${command}: stdout`).not.toMatch(refusal);
}

function describeRun(result: RunResult): string {
  return `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

function removeVirtualMachine(sim: SimCli, namespace: string, name: string): void {
  // A standalone VMI: its VirtualMachine goes, the VMI stays (migrate then creates the VMIM itself).
  const store = sim.cluster.store;
  store.patch(R.vmi, namespace, name, "merge", { metadata: { ownerReferences: null } });
  store.patch(R.vm, namespace, name, "merge", { metadata: { finalizers: null } });
  store.delete(R.vm, namespace, name, { propagationPolicy: "Orphan" });
}

beforeAll(async () => {
  await ensureBuilt();
}, 180_000);

describe("a user with exactly deploy/rbac.yaml's roles (viewer cluster-wide, operator in the namespace)", () => {
  it("version, diagnose, migrate (to Succeeded) and restart work, with nothing refused", async () => {
    await session({ speed: 10 }, fileRoles(), ["demo"], async (sim, run) => {
      const version = await run(["version"]);
      expect(version.code, describeRun(version)).toBe(0);
      expect(version.stdout).toMatch(/^KubeVirt: {4}v1\.9\.0$/m);
      expect(version.stdout).toMatch(/^KubeVirt CR: kubevirt\/kubevirt: Deployed/m);
      expectClean(version, "version");

      const diagnose = await run(["diagnose", "fedora-web", "-n", "demo"]);
      expect(diagnose.code, describeRun(diagnose)).toBe(0);
      expect(diagnose.stdout).toContain("permission to migrate: yes");
      expect(diagnose.stdout).toMatch(/\b3 nodes, the KubeVirt resource, current launcher /);
      expectClean(diagnose, "diagnose");

      const migrate = await run(["migrate", "fedora-web", "-n", "demo"], 60_000);
      expect(migrate.code, describeRun(migrate)).toBe(0);
      expect(migrate.stdout).toMatch(/^Succeeded {2}demo\/fedora-web moved node-1 → /);
      expect(migrate.stderr).toContain("ok       allowed to update virtualmachines/migrate");
      expectClean(migrate, "migrate");
      expect(sim.migrations("demo", "fedora-web").map((m) => m.status?.phase)).toEqual(["Succeeded"]);

      const restart = await run(["restart", "cirros-test", "-n", "demo", "--yes"], 60_000);
      expect(restart.code, describeRun(restart)).toBe(0);
      expect(restart.stdout).toMatch(/^Restarted {2}demo\/cirros-test /);
      expectClean(restart, "restart");
    });
  }, 120_000);

  it("watch -A --exit-on-done follows the user's own migration to the end", async () => {
    await session({ speed: 6 }, fileRoles(), ["demo"], async (sim, run) => {
      const started = await run(["migrate", "rhel-db", "-n", "demo", "--no-wait"]);
      expect(started.code, describeRun(started)).toBe(0);
      const watch = await run(["watch", "-A", "--exit-on-done"], 60_000);
      expect(watch.code, describeRun(watch)).toBe(0);
      expect(watch.stdout).toMatch(/^\S+ +rhel-db +demo +Succeeded /m);
      expectClean(watch, "watch");
      expect(sim.migrations("demo", "rhel-db").map((m) => m.status?.phase)).toEqual(["Succeeded"]);
    });
  }, 120_000);

  it("cancel aborts the user's unfinished migration", async () => {
    await session({ speed: 0.2 }, fileRoles(), ["demo"], async (sim, run) => {
      const started = await run(["migrate", "fedora-web", "-n", "demo", "--no-wait"]);
      expect(started.code, describeRun(started)).toBe(0);
      const cancel = await run(["cancel", "fedora-web", "-n", "demo", "--yes"], 60_000);
      expect(cancel.code, describeRun(cancel)).toBe(0);
      expect(cancel.stdout).toMatch(
        /^aborted: migration \S+ was cancelled; demo\/fedora-web is still on node-1$/m,
      );
      expectClean(cancel, "cancel");
      await until(() => sim.migrations("demo", "fedora-web").length === 0);
    });
  }, 120_000);

  it("outdated -A lists, and outdated -A --migrate --restart --yes cycles every outdated VM", async () => {
    await session({ scenario: "upgrade", speed: 4 }, fileRoles(), ["apps", "team-b"], async (sim, run) => {
      const list = await run(["outdated", "-A"]);
      expect(list.code, describeRun(list)).toBe(0);
      expect(list.stdout).toContain(
        "8 outdated VMIs in all namespaces: 5 to migrate, 3 to restart (downtime)",
      );
      expectClean(list, "outdated -A");

      const cycle = await run(["outdated", "-A", "--migrate", "--restart", "--yes"], 120_000);
      expect(cycle.code, describeRun(cycle)).toBe(0);
      expect(cycle.stderr.split("\n").filter((l) => l.startsWith("ok: "))).toHaveLength(8);
      expectClean(cycle, "outdated --migrate --restart");
      const vmis = sim.cluster.store.list(R.vmi.storage) as Any[];
      expect(
        vmis.filter((v) => v.metadata.labels?.["kubevirt.io/outdatedLauncherImage"] !== undefined),
      ).toEqual([]);
    });
  }, 180_000);
});

interface RemovalCase {
  name: string;
  without: Permission;
  options: SimClusterOptions;
  namespaces: Grant;
  /** Runs as the admin before the user's command (a migration to watch or cancel, a standalone VMI). */
  prepare?: (sim: SimCli) => Promise<void>;
  args: string[];
  code: number;
  /** On stderr (exit 4) or stdout (an optional read): the permission kvmig says it lacks. */
  names: RegExp;
  /** Where `names` is looked for when not as above. */
  on?: "stdout" | "stderr";
  check?: (sim: SimCli, result: RunResult) => void;
}

const migrateRunning = (namespace: string, vm: string) => async (sim: SimCli) => {
  const started = await sim.run(["migrate", vm, "-n", namespace, "--no-wait"]);
  if (started.code !== 0) throw new Error(`admin migrate: ${describeRun(started)}`);
};

const removalCases: RemovalCase[] = [
  {
    name: "migrate without update virtualmachines/migrate: refused by the pre-flight, nothing created",
    without: { verb: "update", group: "subresources.kubevirt.io", resource: "virtualmachines/migrate" },
    options: { speed: 10 },
    namespaces: ["demo"],
    args: ["migrate", "fedora-web", "-n", "demo"],
    code: 4,
    names: /\bupdate virtualmachines\/migrate\b/,
    check: (sim) => expect(sim.migrations("demo", "fedora-web")).toEqual([]),
  },
  {
    name: "migrate of a standalone VMI without create virtualmachineinstancemigrations",
    without: { verb: "create", group: "kubevirt.io", resource: "virtualmachineinstancemigrations" },
    options: { speed: 10 },
    namespaces: ["demo"],
    prepare: async (sim) => removeVirtualMachine(sim, "demo", "cirros-test"),
    args: ["migrate", "cirros-test", "-n", "demo"],
    code: 4,
    names: /\bcreate virtualmachineinstancemigrations\b/,
    check: (sim) => expect(sim.migrations("demo", "cirros-test")).toEqual([]),
  },
  {
    name: "migrate without list virtualmachineinstancemigrations",
    without: { verb: "list", group: "kubevirt.io", resource: "virtualmachineinstancemigrations" },
    options: { speed: 10 },
    namespaces: ["demo"],
    args: ["migrate", "fedora-web", "-n", "demo"],
    code: 4,
    names: /\blist virtualmachineinstancemigrations\b/,
  },
  {
    name: "cancel without delete virtualmachineinstancemigrations: the migration goes on",
    without: { verb: "delete", group: "kubevirt.io", resource: "virtualmachineinstancemigrations" },
    options: { speed: 0.2 },
    namespaces: ["demo"],
    prepare: migrateRunning("demo", "fedora-web"),
    args: ["cancel", "fedora-web", "-n", "demo", "--yes"],
    code: 4,
    names: /\bdelete virtualmachineinstancemigrations\b/,
    check: (sim) => {
      const [migration] = sim.migrations("demo", "fedora-web");
      expect(migration?.metadata.deletionTimestamp).toBeUndefined();
    },
  },
  {
    name: "restart without update virtualmachines/restart",
    without: { verb: "update", group: "subresources.kubevirt.io", resource: "virtualmachines/restart" },
    options: { speed: 10 },
    namespaces: ["demo"],
    args: ["restart", "cirros-test", "-n", "demo", "--yes"],
    code: 4,
    names: /\bupdate virtualmachines\/restart\b/,
  },
  {
    name: "watch without watch virtualmachineinstancemigrations",
    without: { verb: "watch", group: "kubevirt.io", resource: "virtualmachineinstancemigrations" },
    options: { speed: 0.5 },
    namespaces: ["demo"],
    prepare: migrateRunning("demo", "fedora-web"),
    args: ["watch", "-A", "--exit-on-done"],
    code: 4,
    names: /\bwatch virtualmachineinstancemigrations\b/,
  },
  {
    name: "outdated without list virtualmachineinstances",
    without: { verb: "list", group: "kubevirt.io", resource: "virtualmachineinstances" },
    options: { scenario: "upgrade" },
    namespaces: ["apps", "team-b"],
    args: ["outdated", "-A"],
    code: 4,
    names: /\blist virtualmachineinstances\b/,
  },
  {
    name: "outdated --migrate without update virtualmachines/migrate: refused before anything starts",
    without: { verb: "update", group: "subresources.kubevirt.io", resource: "virtualmachines/migrate" },
    options: { scenario: "upgrade" },
    namespaces: ["apps", "team-b"],
    args: ["outdated", "-A", "--migrate", "--yes"],
    code: 4,
    names: /\bupdate virtualmachines\/migrate\b/,
    check: (sim) => expect(sim.cluster.store.list(R.vmim.storage)).toEqual([]),
  },
  {
    name: "diagnose without get pods/log: still diagnoses, and says which log it could not read",
    without: { verb: "get", group: "", resource: "pods/log" },
    options: { speed: 10 },
    namespaces: ["demo"],
    args: ["diagnose", "fedora-web", "-n", "demo"],
    code: 0,
    names:
      /^Could not check:\n {2}log of virt-launcher-fedora-web-\S+\/compute: forbidden: .*cannot get resource "pods\/log"/m,
  },
  {
    name: "diagnose without list nodes: still diagnoses, and says it could not read the nodes",
    without: { verb: "list", group: "", resource: "nodes" },
    options: { speed: 10 },
    namespaces: ["demo"],
    args: ["diagnose", "fedora-web", "-n", "demo"],
    code: 0,
    names: /^ {2}nodes: forbidden: .*cannot list resource "nodes"/m,
  },
];

/** The admin starts node-1's evacuation and stops following it: the VMIs marked, migrations queued. */
const evacuationUnderWay = async (sim: SimCli) => {
  const started = await sim.run(["evacuate", "node-1", "--yes", "--timeout", "3s"], 60_000);
  if (started.code !== 6) throw new Error(`admin evacuate: ${describeRun(started)}`);
};

const markedFor = (sim: SimCli, node: string) =>
  (sim.cluster.store.list(R.vmi.storage) as Any[])
    .filter((v) => v.status?.evacuationNodeName === node)
    .map((v) => `${v.metadata.namespace}/${v.metadata.name}`);

/** node-1 as before a refused evacuate: not cordoned, no VM marked. */
const nodeUntouched = (sim: SimCli) => {
  const node = sim.cluster.store.get(R.node.storage, undefined, "node-1") as Any;
  expect(node.spec.unschedulable).toBeUndefined();
  expect(markedFor(sim, "node-1")).toEqual([]);
};

removalCases.push(
  {
    name: "evacuate without patch nodes: refused before any change (the access check), node not cordoned",
    without: { verb: "patch", group: "", resource: "nodes" },
    options: { scenario: "maintenance", speed: 20 },
    namespaces: "node-maintainer",
    args: ["evacuate", "node-1", "--yes"],
    code: 4,
    names: /not allowed to patch node node-1 \(cordon\); nothing was changed/,
    check: nodeUntouched,
  },
  {
    name: "evacuate without create pods/eviction: refused before any change; not cordoned, no VM marked",
    without: { verb: "create", group: "", resource: "pods/eviction" },
    options: { scenario: "maintenance", speed: 20 },
    namespaces: "node-maintainer",
    args: ["evacuate", "node-1", "--yes"],
    code: 4,
    names: /not allowed to create pods\/eviction in dev; create pods\/eviction in prod; nothing was changed/,
    check: nodeUntouched,
  },
  {
    name: "evacuate --cancel without virt-api's evacuate/cancel: the API server lets it through, virt-api refuses, kvmig names it",
    without: {
      verb: "update",
      group: "subresources.kubevirt.io",
      resource: "virtualmachineinstances/evacuate/cancel",
    },
    options: { scenario: "maintenance", speed: 0.5 },
    namespaces: "node-maintainer",
    prepare: evacuationUnderWay,
    args: ["evacuate", "node-1", "--cancel"],
    code: 3,
    on: "stderr",
    names:
      /^error: could not cancel everything: (prod|dev)\/\S+: KubeVirt's virt-api refused update virtualmachineinstances\/evacuate\/cancel\.subresources\.kubevirt\.io in namespace "(prod|dev)" \(HTTP 401\)/m,
    check: (sim, result) => {
      expect(markedFor(sim, "node-1").length).toBeGreaterThan(0);
      // Marked but not cleared: not "no VM is marked".
      expect(result.stdout).not.toContain("no VM is marked");
      // VMs still marked: the node stays cordoned, and kvmig says why.
      const node = sim.cluster.store.get(R.node.storage, undefined, "node-1") as Any;
      expect(node.spec.unschedulable).toBe(true);
      expect(result.stderr).toContain("node-1 stays cordoned, as not every evacuation could be cancelled");
    },
  },
  {
    name: "evacuate --cancel without the API server's evacuate: refused (403), the VMs stay marked",
    without: {
      verb: "update",
      group: "subresources.kubevirt.io",
      resource: "virtualmachineinstances/evacuate",
    },
    options: { scenario: "maintenance", speed: 0.5 },
    namespaces: "node-maintainer",
    prepare: evacuationUnderWay,
    args: ["evacuate", "node-1", "--cancel"],
    code: 3,
    on: "stderr",
    names:
      /cannot update resource "virtualmachineinstances\/evacuate" in API group "subresources\.kubevirt\.io"/,
    check: (sim) => expect(markedFor(sim, "node-1").length).toBeGreaterThan(0),
  },
);

describe("a user with exactly kvmig-viewer + kvmig-node-maintainer (both cluster-wide)", () => {
  /** What the summary says of each VM, and what is left. */
  const outcomeOf = (result: RunResult) => {
    const doc = JSON.parse(result.stdout);
    return {
      code: result.code,
      results: doc.results
        .map(
          (r: Any) =>
            `${r.namespace}/${r.vm} ${r.outcome} ${r.from} ${r.to === null ? "-" : "→"} ${r.cause ?? ""}`,
        )
        .sort(),
      remaining: doc.remaining,
      cordoned: doc.cordoned,
    };
  };

  it("evacuate node-1 --yes on maintenance: the same result as the admin's, nothing refused; --cancel uncordons", async () => {
    const options: SimClusterOptions = { scenario: "maintenance", speed: 20 };
    const [asUser, asAdmin] = await Promise.all([
      session(options, fileRoles(), "node-maintainer", async (sim, run) => {
        const result = await run(["evacuate", "node-1", "--yes", "-o", "json"], 240_000);
        expect(result.code, describeRun(result)).toBe(3);
        expectClean(result, "evacuate");
        // pinned-cpu given up: its evacuation cancelled through virt-api's two checks.
        expect(markedFor(sim, "node-1")).toEqual([]);
        const node = sim.cluster.store.get(R.node.storage, undefined, "node-1") as Any;
        expect(node.metadata.annotations["kvmig.io/cordoned-by"]).toBe("kvmig evacuate");
        const cancel = await run(["evacuate", "node-1", "--cancel"]);
        expect(cancel.code, describeRun(cancel)).toBe(0);
        expect(cancel.stdout).toContain("uncordoned node-1");
        expectClean(cancel, "evacuate --cancel");
        return outcomeOf(result);
      }),
      (async () => {
        const sim = await simCli(options);
        try {
          return outcomeOf(await sim.run(["evacuate", "node-1", "--yes", "-o", "json"], 240_000));
        } finally {
          await sim.close();
        }
      })(),
    ]);
    expect(asUser).toEqual(asAdmin);
    expect(asUser.results.filter((r: string) => r.includes(" migrated "))).toHaveLength(8);
    expect(asUser.results).toContain("prod/legacy-rwo blocked node-1 - ");
    expect(asUser.results).toContain("prod/pinned-cpu failed node-1 - cpu-model-mismatch");
  }, 300_000);
});

describe("one permission removed from deploy/rbac.yaml: the command that needs it says which", () => {
  it.each(removalCases)(
    "$name",
    async (c) => {
      await session(c.options, rolesWithout(c.without), c.namespaces, async (sim, run) => {
        await c.prepare?.(sim);
        const result = await run(c.args, 60_000);
        expect(result.code, describeRun(result)).toBe(c.code);
        const stream = c.on ?? (c.code === 4 ? "stderr" : "stdout");
        expect(result[stream], describeRun(result)).toMatch(c.names);
        c.check?.(sim, result);
      });
    },
    120_000,
  );

  it("version without list on subresources.kubevirt.io version: still works, kubevirt.io:default grants it", async () => {
    const without = { verb: "list", group: "subresources.kubevirt.io", resource: "version" };
    await session({}, rolesWithout(without), [], async (_sim, run) => {
      const version = await run(["version"]);
      expect(version.code, describeRun(version)).toBe(0);
      expect(version.stdout).toMatch(/^KubeVirt: {4}v1\.9\.0$/m);
      expectClean(version, "version");
    });
  }, 60_000);
});
