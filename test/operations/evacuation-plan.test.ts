// What `kvmig evacuate NODE` reads before it plans: the node (a missing one is a not-found error
// that lists the nodes), every node, the VMIs across namespaces page by page (filtered to the
// node: KubeVirt has no field selector for it), the node's launcher pods, every bound pod, the
// VMs of the VMIs' namespaces, every migration and the KubeVirt CR. A read other than the node and
// the VMIs that fails becomes a warning in the plan, not a crash.
import { describe, expect, it } from "vitest";
import { ApiError, ExitCode, NotFoundError } from "../../src/errors.js";
import type { ListOptions, ListPiece } from "../../src/k8s/kube-client.js";
import type {
  KubeVirt,
  Node,
  Pod,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../../src/k8s/types.js";
import { readEvacuationPlan } from "../../src/operations/evacuation-plan.js";
import { fakeKube } from "../helpers/fake-kube.js";

const GiB = 2 ** 30;

function node(name: string): Node {
  return {
    metadata: { name, labels: { "kubevirt.io/schedulable": "true" } },
    spec: {},
    status: {
      conditions: [{ type: "Ready", status: "True" }],
      allocatable: { memory: "32Gi", cpu: "16" },
    },
  };
}

function vmi(
  namespace: string,
  name: string,
  nodeName: string,
  phase = "Running",
  guest = "4Gi",
): VirtualMachineInstance {
  return {
    metadata: { name, namespace, uid: `${name}-uid` },
    spec: { domain: { memory: { guest } }, evictionStrategy: "LiveMigrate" },
    status: {
      phase: phase as "Running",
      nodeName,
      conditions: [{ type: "LiveMigratable", status: "True" }],
    },
  };
}

function launcher(v: VirtualMachineInstance, name: string, phase = "Running"): Pod {
  return {
    metadata: {
      name,
      namespace: v.metadata.namespace,
      labels: { "kubevirt.io": "virt-launcher", "kubevirt.io/created-by": v.metadata.uid ?? "" },
    },
    spec: {
      nodeName: v.status?.nodeName,
      containers: [{ name: "compute", resources: { requests: { memory: "5Gi", cpu: "1" } } }],
    } as unknown as Pod["spec"],
    status: { phase: phase as "Running" },
  };
}

function vmim(name: string, vmiName: string, phase: string, state?: { start: string; end: string }) {
  return {
    metadata: { name, namespace: "prod", uid: `${name}-uid` },
    spec: { vmiName },
    status: {
      phase,
      ...(state ? { migrationState: { startTimestamp: state.start, endTimestamp: state.end } } : {}),
    },
  } as VirtualMachineInstanceMigration;
}

async function* pages<T>(...lists: T[][]): AsyncIterable<T[]> {
  for (const list of lists) yield list;
}

async function* pieces(pods: Pod[]): AsyncIterable<ListPiece<Pod>> {
  yield { objects: pods, pageEnd: true };
}

const forbidden = (what: string) =>
  new ApiError(`${what} is forbidden: User "dev" cannot list`, 403, "Forbidden", ExitCode.unauthorized);
const notFound = () => new ApiError('nodes "node-9" not found', 404, "NotFound", ExitCode.notFound);

const web = vmi("prod", "web", "node-1");
const db = vmi("prod", "db", "node-1");
const tool = vmi("dev", "tool", "node-1");
const elsewhere = vmi("prod", "far", "node-2");
const migrated = vmi("prod", "old", "node-3", "Running", "8Gi");
const finished = vmi("prod", "done", "node-1", "Succeeded");
const kubevirt: KubeVirt = {
  metadata: { name: "kubevirt", namespace: "kubevirt" },
  spec: { configuration: { migrations: { parallelOutboundMigrationsPerNode: 1 } } },
};

describe("readEvacuationPlan", () => {
  it("reads the node, the VMIs on it page by page, their pods and VMs, the migrations and the CR, and plans", async () => {
    const lists: [string, ListOptions | undefined][] = [];
    const gets: string[] = [];
    const kube = fakeKube({
      get: (async (resource: string, name: string, namespace?: string) => {
        gets.push(`${resource} ${namespace ?? ""}/${name}`);
        if (resource === "node") return node("node-1");
        if (resource === "vmi" && name === "far") return elsewhere;
        throw new Error(`unexpected get ${resource} ${name}`);
      }) as never,
      list: (async (resource: string, options?: ListOptions) => {
        lists.push([resource, options]);
        if (resource === "node") return [node("node-1"), node("node-2"), node("node-3")];
        if (resource === "vmim")
          return [
            vmim("m-old", "old", "Succeeded", { start: "2025-03-01T10:00:00Z", end: "2025-03-01T10:00:32Z" }),
            vmim("m-far", "far", "Running"),
            // On the node (its VMI is read already) and queued (it counts nowhere): neither read again.
            vmim("m-web", "web", "Running"),
            vmim("m-queued", "queued", "Pending"),
          ];
        if (resource === "pod")
          return [
            launcher(web, "virt-launcher-web-old", "Failed"),
            launcher(web, "virt-launcher-web-a"),
            launcher(tool, "virt-launcher-tool-b"),
          ];
        if (resource === "vm" && options?.namespace === "prod")
          return [
            { metadata: { name: "web", namespace: "prod" }, spec: {} },
            { metadata: { name: "db", namespace: "prod" }, spec: {} },
          ] as VirtualMachine[];
        if (resource === "vm") return [];
        throw new Error(`unexpected list ${resource}`);
      }) as never,
      listPages: ((resource: string, options?: ListOptions) => {
        lists.push([`${resource} pages`, options]);
        return pages([web, elsewhere, finished], [migrated, db, tool]);
      }) as never,
      listStream: ((resource: string, options?: ListOptions) => {
        lists.push([`${resource} stream`, options]);
        return pieces([launcher(web, "virt-launcher-web-a"), launcher(elsewhere, "virt-launcher-far-c")]);
      }) as never,
      findKubeVirt: (async () => kubevirt) as never,
    });

    const plan = await readEvacuationPlan(kube, "node-1", { restart: false });

    expect(lists).toEqual([
      ["node", undefined],
      ["vmim", undefined],
      ["pod stream", { fieldSelector: "status.phase!=Succeeded,status.phase!=Failed" }],
      ["pod", { fieldSelector: "spec.nodeName=node-1", labelSelector: "kubevirt.io=virt-launcher" }],
      ["vmi pages", undefined],
      ["vm", { namespace: "dev" }],
      ["vm", { namespace: "prod" }],
    ]);
    expect(gets).toEqual(["node /node-1", "vmi prod/far"]);
    expect(
      plan.vms.map((v) => [`${v.namespace}/${v.vm}`, v.launcherPod, v.standalone, v.memoryBytes, v.action]),
    ).toEqual([
      ["dev/tool", "virt-launcher-tool-b", true, 5 * GiB, "migrate"],
      ["prod/db", null, false, 4 * GiB, "migrate"],
      ["prod/web", "virt-launcher-web-a", false, 5 * GiB, "migrate"],
    ]);
    expect(plan.limits).toEqual({
      perNode: 1,
      perCluster: 5,
      outboundFromNode: 1,
      inCluster: 2,
      freeSlots: 0,
      counted: true,
      queued: 2,
    });
    // node-2 holds the far VM's launcher pod.
    expect(plan.room.nodes.map((n) => [n.node, n.requested.memoryBytes])).toEqual([
      ["node-2", 5 * GiB],
      ["node-3", 0],
    ]);
    // 8 GiB in 32 s: 256 MiB/s; 12 GiB one at a time.
    expect(plan.estimate).toEqual({
      seconds: 48,
      basis:
        "12.0 GiB of guest memory at 256 MiB/s per migration (the median of 1 recent successful migration), 1 at a time",
    });
    expect(plan.problems.map((p) => p.message)).toEqual([
      "prod/web is already migrating: m-web is Running, started by a user (kvmig migrate or virtctl migrate); kvmig follows it and starts no second migration.",
      "Not checked for prod/db: the launcher pod was not read: the VMI's own requests were used, without KubeVirt's overhead.",
    ]);
    kube.assertDone();
  });

  it("says what it could not read, and plans with the rest", async () => {
    const kube = fakeKube({
      get: (async () => node("node-1")) as never,
      list: (async (resource: string) => {
        throw forbidden(resource === "vm" ? "virtualmachines.kubevirt.io" : `${resource}s`);
      }) as never,
      listPages: (() => pages([web])) as never,
      listStream: (() =>
        (async function* () {
          yield* [];
          throw forbidden("pods");
        })()) as never,
      findKubeVirt: (async () => {
        throw forbidden("kubevirts.kubevirt.io");
      }) as never,
    });
    const plan = await readEvacuationPlan(kube, "node-1", { restart: false });
    expect(plan.vms.map((v) => [v.vm, v.evictionStrategy, v.standalone, v.launcherPod])).toEqual([
      ["web", "LiveMigrate", true, null],
    ]);
    expect(plan.room.checked).toBe(false);
    expect(plan.limits.counted).toBe(false);
    expect(plan.problems.map((p) => p.message)).toEqual([
      'Could not list the nodes, so the room on the other nodes was not checked (nodes is forbidden: User "dev" cannot list).',
      "Could not list the pods on node-1: the launcher pods are not named, and each VM's size is its VMI's requests, without KubeVirt's overhead (pods is forbidden: User \"dev\" cannot list).",
      'Could not list the VirtualMachines: a VMI without a VirtualMachine owner is taken as standalone (virtualmachines.kubevirt.io is forbidden: User "dev" cannot list).',
      'Could not list the migrations: those already running, the free slots and the measured rate are unknown (vmims is forbidden: User "dev" cannot list).',
      'Could not read the KubeVirt CR: KubeVirt\'s default limits are assumed, and a VMI without its own eviction strategy has an unknown one (kubevirts.kubevirt.io is forbidden: User "dev" cannot list).',
    ]);
    kube.assertDone();
  });

  it("counts the nodes as empty when the pods cannot be listed, and says no KubeVirt CR was found", async () => {
    const kube = fakeKube({
      get: (async () => node("node-1")) as never,
      list: (async (resource: string) => {
        if (resource === "node") return [node("node-1"), node("node-2")];
        if (resource === "pod") return [launcher(web, "virt-launcher-web-a")];
        return [];
      }) as never,
      listPages: (() => pages([web])) as never,
      listStream: (() =>
        (async function* () {
          yield* [];
          throw forbidden("pods");
        })()) as never,
      findKubeVirt: (async () => undefined) as never,
    });
    const plan = await readEvacuationPlan(kube, "node-1", { restart: false });
    expect(plan.vms[0]?.evictionStrategy).toBe("LiveMigrate");
    expect(plan.room.nodes.map((n) => [n.node, n.requested, n.placed])).toEqual([
      ["node-2", { memoryBytes: 0, cpuMillis: 0 }, ["prod/web"]],
    ]);
    expect(plan.problems.map((p) => p.message)).toEqual([
      "Could not list the pods on the nodes, so the room check took every node as empty and may count room that is taken (the list was refused or failed).",
      "No KubeVirt CR was found: KubeVirt's default limits are assumed, and a VMI without its own eviction strategy has an unknown one.",
    ]);
  });

  it("plans an empty node without reading VMs", async () => {
    const kube = fakeKube({
      get: (async () => node("node-1")) as never,
      list: (async (resource: string) => {
        if (resource === "vm") throw new Error("no VM should be listed");
        return resource === "node" ? [node("node-1"), node("node-2")] : [];
      }) as never,
      listPages: (() => pages([elsewhere], [])) as never,
      listStream: (() => pieces([])) as never,
      findKubeVirt: (async () => kubevirt) as never,
    });
    const plan = await readEvacuationPlan(kube, "node-1", { restart: true });
    expect(plan.vms).toEqual([]);
    expect(plan.room.fits).toBe(true);
    expect(plan.estimate).toEqual({ seconds: 0, basis: "no VM to migrate" });
    expect(plan.problems).toEqual([]);
  });

  it("says a node that does not exist is not found, listing the nodes there are", async () => {
    const names = Array.from({ length: 12 }, (_, i) => node(`node-${String(i + 1).padStart(2, "0")}`));
    for (const [listed, hint] of [
      [names.slice(0, 2), "the nodes are node-01, node-02 (kubectl get nodes)"],
      [
        names.slice(0, 10),
        "the nodes are node-01, node-02, node-03, node-04, node-05, node-06, node-07, node-08, node-09, node-10 (kubectl get nodes)",
      ],
      [
        [...names].reverse(),
        "the nodes are node-01, node-02, node-03, node-04, node-05, node-06, node-07, node-08, node-09, node-10 and 2 more (kubectl get nodes)",
      ],
      [[], "the cluster lists no nodes (kubectl get nodes)"],
      [undefined, "list the nodes with: kubectl get nodes"],
    ] as [Node[] | undefined, string][]) {
      const kube = fakeKube({
        get: (async () => {
          throw notFound();
        }) as never,
        list: (async (resource: string) => {
          if (resource === "node" && listed) return listed;
          if (resource === "node") throw forbidden("nodes");
          return [];
        }) as never,
        listStream: (() => pieces([])) as never,
        findKubeVirt: (async () => kubevirt) as never,
      });
      const error = await readEvacuationPlan(kube, "node-9", { restart: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).message).toBe('node "node-9" not found');
      expect((error as NotFoundError).hint).toBe(hint);
      expect((error as NotFoundError).exitCode).toBe(5);
    }
  });

  it("fails when the node or the VMIs cannot be read", async () => {
    const base = {
      list: (async () => []) as never,
      listStream: (() => pieces([])) as never,
      findKubeVirt: (async () => kubevirt) as never,
    };
    const nodeRefused = fakeKube({
      ...base,
      get: (async () => {
        throw forbidden("nodes");
      }) as never,
    });
    const refusedNode = await readEvacuationPlan(nodeRefused, "node-1", { restart: false }).catch(
      (e: unknown) => e,
    );
    expect((refusedNode as ApiError).message).toBe('nodes is forbidden: User "dev" cannot list');
    expect((refusedNode as ApiError).exitCode).toBe(4);

    const vmisRefused = fakeKube({
      ...base,
      get: (async () => node("node-1")) as never,
      listPages: (() =>
        (async function* () {
          yield* [];
          throw forbidden("virtualmachineinstances.kubevirt.io");
        })()) as never,
    });
    const refusedVmis = await readEvacuationPlan(vmisRefused, "node-1", { restart: false }).catch(
      (e: unknown) => e,
    );
    expect((refusedVmis as ApiError).message).toBe(
      'virtualmachineinstances.kubevirt.io is forbidden: User "dev" cannot list',
    );
  });
});
