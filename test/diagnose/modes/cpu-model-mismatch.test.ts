import { describe, expect, it } from "vitest";
import { cpuModelMismatch } from "../../../src/diagnose/modes/cpu-model-mismatch.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type {
  Event,
  Node,
  Pod,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../../../src/k8s/types.js";
import {
  emptySnapshot,
  fixtureSnapshot,
  type HitExpectation,
  testRuleFixtures,
} from "../../helpers/diagnose.js";

const id = "cpu-model-mismatch";

const hits: Record<string, HitExpectation> = {
  "harvester-3015-no-suitable-node": {
    evidence:
      "Migration cannot proceed since no node is suitable to run the required CPU model / required features: map[cpu-feature.node.kubevirt.io/amd-ssbd:true",
    command: "kvmig restart jarvis-worker-c60b9d50-466tv -n default",
    severity: "error",
    confidence: "high",
  },
  "kubevirt-12519-missing-vmx-features": {
    evidence:
      "guest CPU doesn't match specification: missing features: vmx-rdrand-exit,vmx-vmfunc,vmx-rdseed-exit,vmx-posted-intr",
    command: "kvmig restart rhel9-vm -n vms",
    severity: "error",
    confidence: "high",
  },
};

describe("cpu-model-mismatch on fixtures", () => {
  testRuleFixtures(cpuModelMismatch, hits);

  it("suggests a CPU model every node offers, shell-quoted", async () => {
    const [f] = cpuModelMismatch.detect(await fixtureSnapshot(id, "harvester-3015-no-suitable-node"));
    expect(f?.fix.commands).toContain(
      `kubectl patch vm jarvis-worker-c60b9d50-466tv -n default --type merge -p '{"spec":{"template":{"spec":{"domain":{"cpu":{"model":"EPYC"}}}}}}'`,
    );
    expect(f?.evidence.some((e) => e.text.includes("ultron01 lacks"))).toBe(true);
  });

  it("names the missing features and says the nodes were not read", async () => {
    const [f] = cpuModelMismatch.detect(await fixtureSnapshot(id, "kubevirt-12519-missing-vmx-features"));
    expect(f?.summary).toContain("vmx-posted-intr");
    expect(f?.notChecked?.some((n) => n.includes("nodes were not read"))).toBe(true);
  });

  it("leaves extra-feature errors (version skew) alone", () => {
    const s = snapshot({
      events: [
        event(
          "Migrated",
          "VirtualMachineInstance migration uid x failed. reason:virError(Code=9, Domain=31, Message='operation failed: guest CPU doesn't match specification: extra features: ht')",
        ),
      ],
    });
    expect(cpuModelMismatch.detect(s)).toEqual([]);
  });
});

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({
    source: "live",
    takenAt: "2024-05-01T12:05:00Z",
    namespace: "erp",
    vmName: "legacy-erp",
    vmi,
    migrations: [vmim],
    ...parts,
  });
}

const vmi: VirtualMachineInstance = {
  metadata: { name: "legacy-erp", namespace: "erp", uid: "vmi-1" },
  spec: { domain: { cpu: { model: "host-model" } } },
  status: { phase: "Running", nodeName: "node-1" },
};
const vmim: VirtualMachineInstanceMigration = {
  metadata: {
    name: "kubevirt-migrate-vm-x1",
    namespace: "erp",
    uid: "m-1",
    creationTimestamp: "2024-05-01T12:00:00Z",
  },
  spec: { vmiName: "legacy-erp" },
  status: { phase: "Scheduling" },
};
function event(reason: string, message: string): Event {
  return {
    metadata: { name: reason, namespace: "erp" },
    involvedObject: { kind: "VirtualMachineInstance", name: "legacy-erp", namespace: "erp" },
    reason,
    type: "Warning",
    message,
    lastTimestamp: "2024-05-01T12:01:00Z",
  };
}
const target: Pod = {
  metadata: {
    name: "virt-launcher-legacy-erp-k9j8h",
    namespace: "erp",
    labels: { "kubevirt.io/migrationJobUID": "m-1" },
  },
  spec: { nodeSelector: { "host-model-cpu.node.kubevirt.io/Icelake-Server": "true" } },
  status: { phase: "Pending" },
};
function node(name: string, model: string): Node {
  return {
    metadata: {
      name,
      labels: {
        [`host-model-cpu.node.kubevirt.io/${model}`]: "true",
        "cpu-model.node.kubevirt.io/Cascadelake-Server": "true",
      },
    },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  };
}

describe("confidence follows the evidence", () => {
  const nodes = [
    node("node-1", "Icelake-Server"),
    node("node-2", "Cascadelake-Server"),
    node("node-3", "Cascadelake-Server"),
  ];

  it("is high when the node labels show no other node fits, even without the event", () => {
    const [f] = cpuModelMismatch.detect(snapshot({ pods: [target], nodes }));
    expect(f?.confidence).toBe("high");
    expect(f?.fix.commands.some((c) => c.includes('"model":"Cascadelake-Server"'))).toBe(true);
  });

  it("is high from the event, and medium when the events were incomplete", () => {
    const warning = event(
      "NoSuitableNodesForHostModelMigration",
      "Migration cannot proceed since no node is suitable to run the required CPU model / required features: map[host-model-cpu.node.kubevirt.io/Icelake-Server:true]",
    );
    expect(cpuModelMismatch.detect(snapshot({ events: [warning] }))[0]?.confidence).toBe("high");
    const partial = cpuModelMismatch.detect(
      snapshot({ events: [warning], missing: [{ what: "events in erp", why: "forbidden" }] }),
    )[0];
    expect(partial?.confidence).toBe("medium");
    expect(partial?.notChecked?.some((n) => n.includes("events"))).toBe(true);
  });

  it("stays silent when another node carries the labels", () => {
    const fits = [node("node-1", "Icelake-Server"), node("node-2", "Icelake-Server")];
    expect(cpuModelMismatch.detect(snapshot({ pods: [target], nodes: fits }))).toEqual([]);
  });
});
