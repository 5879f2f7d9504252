import { describe, expect, it } from "vitest";
import {
  schedulerReasons,
  targetPodUnschedulable,
} from "../../../src/diagnose/modes/target-pod-unschedulable.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Event, Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import {
  emptySnapshot,
  fixtureSnapshot,
  type HitExpectation,
  testRuleFixtures,
} from "../../helpers/diagnose.js";

const id = "target-pod-unschedulable";

const hits: Record<string, HitExpectation & { vm: string; ns: string }> = {
  "kubevirt-7780-pinned-to-source-node": {
    vm: "testvm",
    ns: "default",
    severity: "error",
    confidence: "high",
    evidence: "3 node(s) didn't match Pod's node affinity/selector",
    command: "kubectl edit vm testvm -n default",
  },
  "kubevirt-7779-no-kvm-device": {
    vm: "testvm",
    ns: "default",
    severity: "error",
    confidence: "high",
    evidence: "1 Insufficient devices.kubevirt.io/kvm",
    command: "kubectl describe pod virt-launcher-testvm-q8n5d -n default",
  },
  "kubevirt-11988-timeout-only-events": {
    vm: "i-be12131d9a184d72830f",
    ns: "default",
    severity: "error",
    confidence: "medium",
    evidence:
      "unschedulable pod timeout period exceeded%!(EXTRA string=virt-launcher-i-be12131d9a184d72830f-h6tpd)",
    command:
      "kubectl get events -n default --field-selector involvedObject.name=virt-launcher-i-be12131d9a184d72830f-h6tpd",
  },
};

describe("target-pod-unschedulable on fixtures", () => {
  testRuleFixtures(targetPodUnschedulable, hits, {
    checkEvery: (f, want) => {
      expect(
        f.fix.commands.some((c) => c.includes(`${want.vm} -n ${want.ns}`) || c.includes(`-n ${want.ns}`)),
      ).toBe(true);
    },
  });

  it("names the source-node pin and offers no other node for it", async () => {
    const [f] = targetPodUnschedulable.detect(
      await fixtureSnapshot(id, "kubevirt-7780-pinned-to-source-node"),
    );
    expect(f?.summary).toContain("pins it to node1");
    expect(f?.fix.commands.some((c) => c.includes("--target-node"))).toBe(false);
  });

  it("does not suggest a node that lacks the KVM device", async () => {
    const [f] = targetPodUnschedulable.detect(await fixtureSnapshot(id, "kubevirt-7779-no-kvm-device"));
    expect(f?.summary).toContain("devices.kubevirt.io/kvm");
    expect(f?.fix.commands.some((c) => c.includes("--target-node node2"))).toBe(false);
  });

  it("says what it could not check when only the VMIM's events are left", async () => {
    const [f] = targetPodUnschedulable.detect(
      await fixtureSnapshot(id, "kubevirt-11988-timeout-only-events"),
    );
    expect(f?.notChecked?.some((n) => n.includes("scheduler's reasons"))).toBe(true);
  });

  it("points at cpu-model-mismatch when the CPU labels are the cause", async () => {
    const [f] = targetPodUnschedulable.detect(
      await fixtureSnapshot("cpu-model-mismatch", "harvester-3015-no-suitable-node"),
    );
    expect(f?.causedBy).toBe("cpu-model-mismatch");
  });
});

describe("scheduler messages", () => {
  it("splits reasons and drops the preemption tail", () => {
    const reasons = schedulerReasons(
      "0/3 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {node.kubernetes.io/unschedulable: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    expect(reasons.map((r) => [r.count, r.cause])).toEqual([
      [1, "resources"],
      [2, "taint"],
    ]);
  });
});

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({
    source: "live",
    takenAt: "2024-05-01T12:03:00Z",
    namespace: "demo",
    vmName: "db-1",
    ...parts,
  });
}

const vmim: VirtualMachineInstanceMigration = {
  metadata: {
    name: "kubevirt-migrate-vm-abcde",
    namespace: "demo",
    uid: "u-1",
    creationTimestamp: "2024-05-01T12:00:00Z",
  },
  spec: { vmiName: "db-1" },
  status: { phase: "Pending" },
};
const warning: Event = {
  metadata: { name: "e1", namespace: "demo" },
  involvedObject: {
    kind: "VirtualMachineInstanceMigration",
    name: "kubevirt-migrate-vm-abcde",
    namespace: "demo",
  },
  reason: "migrationTargetPodUnschedulable",
  type: "Warning",
  message: "Migration target pod for VMI [demo/db-1] is currently unschedulable.",
  lastTimestamp: "2024-05-01T12:01:00Z",
};
const pendingPod: Pod = {
  metadata: {
    name: "virt-launcher-db-1-abcde",
    namespace: "demo",
    labels: { "kubevirt.io/migrationJobUID": "u-1" },
  },
  spec: {},
  status: {
    phase: "Pending",
    conditions: [
      {
        type: "PodScheduled",
        status: "False",
        reason: "Unschedulable",
        message:
          "0/3 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 2 Insufficient memory.",
      },
    ],
  },
};

describe("confidence follows the evidence", () => {
  it("is high with the pod's scheduler message", () => {
    const [f] = targetPodUnschedulable.detect(
      snapshot({ migrations: [vmim], pods: [pendingPod], events: [warning] }),
    );
    expect(f?.confidence).toBe("high");
    expect(f?.summary).toContain("CPU or memory");
  });

  it("is medium with only the VMIM warning, and says the scheduler's reasons were not checked", () => {
    const [f] = targetPodUnschedulable.detect(snapshot({ migrations: [vmim], events: [warning] }));
    expect(f?.confidence).toBe("medium");
    expect(f?.notChecked?.length).toBeGreaterThan(0);
  });

  it("is low when events could not be read either", () => {
    const [f] = targetPodUnschedulable.detect(
      snapshot({
        migrations: [vmim],
        events: [warning],
        missing: [{ what: "events in demo", why: "forbidden" }],
      }),
    );
    expect(f?.confidence).toBe("low");
  });

  it("stays silent when the migration succeeded", () => {
    const done = { ...vmim, status: { phase: "Succeeded" as const } };
    expect(
      targetPodUnschedulable.detect(snapshot({ migrations: [done], pods: [pendingPod], events: [warning] })),
    ).toEqual([]);
  });
});
