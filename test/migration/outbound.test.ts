// Where a running migration leaves from, as virt-controller counts it for the per-node limit
// (migration.go outboundMigrationsOnNode): from the migration's VMI, never from the VMIM, whose
// status holds only the source pod while it runs (controller.go SetSourcePod).
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors.js";
import type { Pod, VirtualMachineInstance, VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import {
  outboundFrom,
  outboundKey,
  outboundNodesOf,
  readOutboundNodes,
  sourceNodeOf,
} from "../../src/migration/outbound.js";
import { fakeKube } from "../helpers/fake-kube.js";

function vmim(
  name: string,
  state?: { sourcePod?: string; sourceNode?: string },
): VirtualMachineInstanceMigration {
  return {
    metadata: { name, namespace: "batch", uid: `uid-${name}` },
    spec: { vmiName: `vm-${name}` },
    status: { phase: "Running", ...(state ? { migrationState: state } : {}) },
  };
}

function vmi(node: string, state?: { migrationUid: string; sourceNode: string }): VirtualMachineInstance {
  return {
    metadata: { name: "vm", namespace: "batch" },
    spec: {},
    status: { phase: "Running", nodeName: node, ...(state ? { migrationState: state } : {}) },
  };
}

const podOn = (node: string): Pod => ({ metadata: { name: "virt-launcher-x" }, spec: { nodeName: node } });

function notFound(): ApiError {
  return new ApiError("not found", 404, "NotFound", 1);
}

describe("outboundNodesOf", () => {
  it("the VMI's node, and its record's source node when that differs (a record of an earlier migration)", () => {
    const m = vmim("m", { sourcePod: "virt-launcher-x" });
    expect(outboundNodesOf(m, vmi("node-1"))).toEqual(["node-1"]);
    expect(outboundNodesOf(m, vmi("node-1", { migrationUid: "uid-m", sourceNode: "node-1" }))).toEqual([
      "node-1",
    ]);
    expect(outboundNodesOf(m, vmi("node-2", { migrationUid: "earlier", sourceNode: "node-1" }))).toEqual([
      "node-2",
      "node-1",
    ]);
  });

  it("without the VMI: its source pod's node, else the node a (final) VMIM carries, else none", () => {
    expect(outboundNodesOf(vmim("m", { sourcePod: "virt-launcher-x" }), undefined, podOn("node-3"))).toEqual([
      "node-3",
    ]);
    expect(outboundNodesOf(vmim("m", { sourceNode: "node-4" }), undefined)).toEqual(["node-4"]);
    expect(outboundNodesOf(vmim("m"), undefined)).toEqual([]);
  });
});

describe("sourceNodeOf", () => {
  it("the VMI's record of this migration, else the VMI's node, else the source pod's, else the VMIM's", () => {
    const m = vmim("m", { sourceNode: "node-7" });
    expect(sourceNodeOf(m, vmi("node-5", { migrationUid: "uid-m", sourceNode: "node-2" }))).toBe("node-2");
    // The record is of another migration: the VMI's node is where this one leaves from.
    expect(sourceNodeOf(m, vmi("node-5", { migrationUid: "other", sourceNode: "node-2" }))).toBe("node-5");
    expect(sourceNodeOf(m, undefined, podOn("node-3"))).toBe("node-3");
    expect(sourceNodeOf(m, undefined)).toBe("node-7");
    expect(sourceNodeOf(vmim("m"), undefined)).toBeUndefined();
  });
});

describe("outboundFrom", () => {
  it("the running migrations a node counts; none for an unknown node", () => {
    const running = [vmim("a"), vmim("b"), vmim("c")];
    const nodes = new Map([
      ["batch/a", ["node-1"]],
      ["batch/b", ["node-2", "node-1"]],
      ["batch/c", ["node-2"]],
    ]);
    const of = (m: VirtualMachineInstanceMigration) => nodes.get(outboundKey(m));
    expect(outboundFrom("node-1", running, of).map((m) => m.metadata.name)).toEqual(["a", "b"]);
    expect(outboundFrom("node-2", running, of).map((m) => m.metadata.name)).toEqual(["b", "c"]);
    expect(outboundFrom(undefined, running, of)).toEqual([]);
  });
});

describe("readOutboundNodes", () => {
  it("reads each running migration's VMI; a VMI that is gone counts nowhere; an unreadable one is replaced by the source pod", async () => {
    const asked: string[] = [];
    const kube = fakeKube({
      get: (async (resource: string, name: string, namespace: string) => {
        asked.push(`${resource} ${namespace}/${name}`);
        if (name === "vm-a") return vmi("node-1");
        if (name === "vm-b") throw notFound();
        if (name === "vm-c") throw new ApiError("forbidden", 403, "Forbidden", 1);
        if (resource === "pod" && name === "virt-launcher-c") return podOn("node-3");
        throw new Error(`unexpected get ${resource} ${name}`);
      }) as never,
    });
    const nodes = await readOutboundNodes(kube, [
      vmim("a"),
      vmim("b"),
      vmim("c", { sourcePod: "virt-launcher-c" }),
    ]);
    expect(Object.fromEntries(nodes)).toEqual({
      "batch/a": ["node-1"],
      "batch/b": [],
      "batch/c": ["node-3"],
    });
    expect(asked.sort()).toEqual([
      "pod batch/virt-launcher-c",
      "vmi batch/vm-a",
      "vmi batch/vm-b",
      "vmi batch/vm-c",
    ]);
  });
});
