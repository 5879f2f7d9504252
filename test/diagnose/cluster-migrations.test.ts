// The cluster's unfinished migrations, read for the parallel limits: only while this VM has one
// waiting, finished ones dropped page by page, and where each running one leaves from, read from
// its VMI (a running VMIM carries only its source pod: migration/outbound.ts).
import { describe, expect, it } from "vitest";
import { readClusterMigrations } from "../../src/diagnose/cluster-migrations.js";
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
  it("keeps the unfinished ones of every page; reads the running ones' VMIs for where they leave from", async () => {
    const asked: string[] = [];
    const kube = fakeKube({
      listPages: ((resource: string, options: { namespace?: string }) => {
        expect(resource).toBe("vmim");
        expect(options.namespace).toBeUndefined();
        return pages(
          [vmim("done", "Succeeded", "a"), vmim("run-1", "Running", "a")],
          [vmim("failed", "Failed", "b"), vmim("run-2", "Scheduling", "b"), vmim("wait", "Pending", "c")],
        );
      }) as never,
      get: (async (resource: string, name: string, namespace: string) => {
        asked.push(`${resource} ${namespace}/${name}`);
        // b moved off node-2 earlier; its record is still of that migration (before hand-off).
        return name === "a"
          ? vmiOn("a", "node-1", { migrationUid: "uid-run-1", sourceNode: "node-1" })
          : vmiOn("b", "node-9", { migrationUid: "uid-earlier", sourceNode: "node-2" });
      }) as never,
    });
    const read = await readClusterMigrations(kube);
    expect(read.migrations.map((m) => m.metadata.name)).toEqual(["run-1", "run-2", "wait"]);
    // The VMIMs are as listed: no source node is made up for them.
    expect(read.migrations.map((m) => m.status?.migrationState)).toEqual([undefined, undefined, undefined]);
    expect(Object.fromEntries(read.outboundNodes)).toEqual({
      "batch/run-1": ["node-1"],
      "batch/run-2": ["node-9", "node-2"],
    });
    // Only the running ones had their VMIs read.
    expect(asked.sort()).toEqual(["vmi batch/a", "vmi batch/b"]);
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
