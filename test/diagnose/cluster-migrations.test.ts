// The cluster's unfinished migrations, read for the parallel limits: only while this VM has one
// waiting, finished ones dropped page by page, and a source node for each running one (from its
// VMI when the VMIM does not carry it, as on KubeVirt releases whose VMIM status has no state).
import { describe, expect, it } from "vitest";
import { readClusterMigrations, sourceNodeOf } from "../../src/diagnose/cluster-migrations.js";
import { gatherSnapshot } from "../../src/diagnose/gather.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { fakeKube } from "../helpers/fake-kube.js";

function vmim(
  name: string,
  phase: string,
  vmiName: string,
  sourceNode?: string,
): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: { name, namespace: "batch", uid: `uid-${name}`, creationTimestamp: "2030-01-01T00:00:00Z" },
    spec: { vmiName },
    status: { phase, ...(sourceNode ? { migrationState: { sourceNode } } : {}) },
  } as VirtualMachineInstanceMigration;
}

function vmiOn(name: string, node: string, state?: { migrationUid: string; sourceNode: string }) {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name, namespace: "batch" },
    spec: {},
    status: { phase: "Running", nodeName: node, ...(state ? { migrationState: state } : {}) },
  } as VirtualMachineInstance;
}

async function* pages<T>(...list: T[][]): AsyncIterable<T[]> {
  for (const page of list) yield page;
}

describe("readClusterMigrations", () => {
  it("keeps the unfinished ones of every page; fills a missing source node from the VMI", async () => {
    const asked: string[] = [];
    const kube = fakeKube({
      listPages: ((resource: string, options: { namespace?: string }) => {
        expect(resource).toBe("vmim");
        expect(options.namespace).toBeUndefined();
        return pages(
          [vmim("done", "Succeeded", "a"), vmim("run-1", "Running", "a", "node-1")],
          [vmim("failed", "Failed", "b"), vmim("run-2", "Running", "b"), vmim("wait", "Pending", "c")],
        );
      }) as never,
      get: (async (resource: string, name: string, namespace: string) => {
        asked.push(`${resource} ${namespace}/${name}`);
        return vmiOn("b", "node-9", { migrationUid: "uid-run-2", sourceNode: "node-2" });
      }) as never,
    });
    const read = await readClusterMigrations(kube);
    expect(read.map((m) => m.metadata.name)).toEqual(["run-1", "run-2", "wait"]);
    expect(read.map((m) => m.status?.migrationState?.sourceNode)).toEqual(["node-1", "node-2", undefined]);
    // Only the running one without a source node had its VMI read.
    expect(asked).toEqual(["vmi batch/b"]);
  });

  it("the source node: the VMIM's own, else the VMI's migration state for this migration, else its node", () => {
    const m = vmim("m", "Running", "x");
    expect(sourceNodeOf(vmim("m", "Running", "x", "node-1"), vmiOn("x", "node-5"))).toBe("node-1");
    expect(sourceNodeOf(m, vmiOn("x", "node-5", { migrationUid: "uid-m", sourceNode: "node-2" }))).toBe(
      "node-2",
    );
    // The VMI's state is about another migration: its node is where this one leaves from.
    expect(sourceNodeOf(m, vmiOn("x", "node-5", { migrationUid: "other", sourceNode: "node-2" }))).toBe(
      "node-5",
    );
    expect(sourceNodeOf(m, undefined)).toBeUndefined();
  });
});

describe("gatherSnapshot reads them only while this VM has a migration waiting", () => {
  const vm = {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: "w", namespace: "batch" },
    spec: { template: { spec: {} } },
  };
  const stubs = (own: VirtualMachineInstanceMigration[], listPages?: () => AsyncIterable<unknown[]>) =>
    fakeKube({
      get: (async (resource: string) => {
        if (resource === "vm") return vm;
        if (resource === "vmi") return vmiOn("w", "node-1");
        throw new Error(`unexpected get ${resource}`);
      }) as never,
      list: (async (resource: string) => (resource === "vmim" ? own : [])) as never,
      findKubeVirt: async () => undefined,
      findVirtController: async () => undefined,
      canI: async () => ({ allowed: true }),
      ...(listPages ? { listPages: listPages as never } : {}),
    });

  it("a Pending migration of its own: the cluster's unfinished ones are in the snapshot", async () => {
    const own = [vmim("q", "Pending", "w")];
    const kube = stubs(own, () =>
      pages([vmim("run", "Running", "a", "node-1"), vmim("old", "Succeeded", "a")]),
    );
    const s = await gatherSnapshot(kube, { namespace: "batch", vmName: "w" }, "2030-01-01T00:10:00Z");
    expect(s.clusterMigrations?.map((m) => m.metadata.name)).toEqual(["run"]);
    expect(kube.calls).toContain("listPages");
  });

  it("nothing waiting: no cluster-wide read at all", async () => {
    const kube = stubs([vmim("done", "Succeeded", "w")]);
    const s = await gatherSnapshot(kube, { namespace: "batch", vmName: "w" }, "2030-01-01T00:10:00Z");
    expect(s.clusterMigrations).toBeUndefined();
    expect(kube.calls).not.toContain("listPages");
  });

  it("a refused cluster-wide read is missing evidence, not a failure", async () => {
    const kube = stubs([vmim("q", "Pending", "w")], () => {
      throw new Error("forbidden: cannot list virtualmachineinstancemigrations at the cluster scope");
    });
    const s = await gatherSnapshot(kube, { namespace: "batch", vmName: "w" }, "2030-01-01T00:10:00Z");
    expect(s.clusterMigrations).toBeUndefined();
    expect(s.missing.map((m) => m.what)).toContain(
      "the unfinished migrations of the cluster (for the parallel limits)",
    );
  });
});
