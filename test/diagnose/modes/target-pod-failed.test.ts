import { describe, expect, it } from "vitest";
import { targetNetworkSetupFailed } from "../../../src/diagnose/modes/target-network-setup-failed.js";
import { targetPodFailed } from "../../../src/diagnose/modes/target-pod-failed.js";
import { targetPodUnschedulable } from "../../../src/diagnose/modes/target-pod-unschedulable.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Event, Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import {
  emptySnapshot,
  fixtureSnapshot,
  type HitExpectation,
  testRuleFixtures,
} from "../../helpers/diagnose.js";

const id = "target-pod-failed";

const hits: Record<string, HitExpectation> = {
  "kubevirt-18946-target-on-source-node": {
    severity: "error",
    confidence: "high",
    evidence: "Migration failed because target pod shutdown during migration",
    summary: "scheduled onto worker-1, the node the VM already runs on",
    command: "kvmig migrate fedora-local -n default --target-node worker-2",
  },
  "source-texts-oom-killed-target": {
    severity: "error",
    confidence: "high",
    evidence: "terminated: OOMKilled (exit code 137)",
    summary: "OOM-killed on worker-2",
    command: "kubectl describe pod virt-launcher-db-1-t6y7u -n demo",
  },
};

describe("target-pod-failed on fixtures", () => {
  testRuleFixtures(targetPodFailed, hits, {
    minNearMisses: 2,
    hitTitle: (name) => `fires on ${name}, and the other target-pod rules do not`,
    silent: [targetPodUnschedulable, targetNetworkSetupFailed],
  });
  it("leaves an unschedulable timeout to target-pod-unschedulable", async () => {
    const s = await fixtureSnapshot(id, "near-miss-unschedulable-timeout");
    expect(targetPodUnschedulable.detect(s).map((f) => f.id)).toEqual(["target-pod-unschedulable"]);
  });
});

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({
    source: "live",
    takenAt: "2024-05-01T12:20:00Z",
    namespace: "demo",
    vmName: "db-1",
    vmi: {
      metadata: { name: "db-1", namespace: "demo" },
      spec: {},
      status: { phase: "Running", nodeName: "worker-1" },
    },
    migrations: [vmim],
    ...parts,
  });
}
const vmim: VirtualMachineInstanceMigration = {
  metadata: {
    name: "kubevirt-migrate-vm-c3",
    namespace: "demo",
    uid: "m-3",
    creationTimestamp: "2024-05-01T12:00:00Z",
  },
  spec: { vmiName: "db-1" },
  status: { phase: "Failed" },
};
function vmimEvent(reason: string, message: string): Event {
  return {
    metadata: { name: reason, namespace: "demo" },
    involvedObject: {
      kind: "VirtualMachineInstanceMigration",
      name: "kubevirt-migrate-vm-c3",
      namespace: "demo",
    },
    reason,
    type: reason === "SuccessfulDelete" ? "Normal" : "Warning",
    message,
    lastTimestamp: "2024-05-01T12:15:02Z",
  };
}
const evicted: Pod = {
  metadata: {
    name: "virt-launcher-db-1-e4r5t",
    namespace: "demo",
    labels: { "kubevirt.io/migrationJobUID": "m-3" },
  },
  spec: { nodeName: "worker-2" },
  status: { phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." },
};

describe("hand-built cases", () => {
  it("reports an evicted target pod with the kubelet's message", () => {
    const [f] = targetPodFailed.detect(
      snapshot({
        pods: [evicted],
        events: [
          vmimEvent("FailedMigration", "Migration failed because target pod shutdown during migration"),
        ],
      }),
    );
    expect(f?.summary).toContain("evicted on worker-2");
    expect(f?.evidence[0]?.text).toBe("Evicted: The node was low on resource: memory.");
    expect(f?.confidence).toBe("high");
  });

  it("reports QEMU failing to start from the target launcher's log", () => {
    const running: Pod = { ...evicted, status: { phase: "Running" } };
    const logs = [
      {
        namespace: "demo",
        pod: "virt-launcher-db-1-e4r5t",
        container: "compute",
        lines: [
          '{"component":"virt-launcher","level":"error","msg":"internal error: qemu unexpectedly closed the monitor: 2024-05-01T12:01:29.495586Z qemu-kvm: unable to map backing store for guest RAM: Cannot allocate memory","pos":"qemuProcessReportLogError:2051","subcomponent":"libvirt","timestamp":"2024-05-01T12:01:29.572000Z"}',
        ],
      },
    ];
    const [f] = targetPodFailed.detect(snapshot({ pods: [running], logs }));
    expect(f?.summary).toContain("QEMU could not start");
    expect(f?.evidence[0]?.text).toContain("unable to map backing store for guest RAM");
    expect(f?.fix.commands).toContain("kubectl logs virt-launcher-db-1-e4r5t -n demo -c compute");
  });

  it("reports only the symptom, with medium confidence, when the pod is gone", () => {
    const [f] = targetPodFailed.detect(
      snapshot({
        events: [vmimEvent("FailedMigration", "Migration target pod was removed during active migration.")],
      }),
    );
    expect(f?.confidence).toBe("medium");
    expect(f?.summary).toContain("was removed during the migration");
  });

  it("lowers confidence again when events were incomplete", () => {
    const [f] = targetPodFailed.detect(
      snapshot({
        events: [vmimEvent("FailedMigration", "Migration target pod was removed during active migration.")],
        missing: [{ what: "events in demo", why: "forbidden" }],
      }),
    );
    expect(f?.confidence).toBe("low");
  });

  it("says nothing about a cancelled migration", () => {
    expect(
      targetPodFailed.detect(
        snapshot({
          pods: [evicted],
          events: [
            vmimEvent(
              "SuccessfulDelete",
              "migration canceled and pod demo/virt-launcher-db-1-e4r5t is deleted",
            ),
          ],
        }),
      ),
    ).toEqual([]);
  });
});

describe("target-pod-failed: QEMU on the target, as the migration's failure records it", () => {
  const uid = "dddddddd-0000-4000-8000-000000000001";
  const reason =
    "Live migration failed error encountered during MigrateToURI3 libvirt api call: virError(Code=1, Domain=10, Message='internal error: qemu unexpectedly closed the monitor: Could not open '/var/run/kubevirt-private/vmi-disks/rootdisk/disk.img': Permission denied')";
  const failed = (failureReason: string): VirtualMachineInstanceMigration => ({
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: "kubevirt-migrate-vm-q1",
      namespace: "demo",
      uid,
      creationTimestamp: "2026-02-01T10:00:00Z",
    },
    spec: { vmiName: "db-1" },
    status: {
      phase: "Failed",
      phaseTransitionTimestamps: [{ phase: "Failed", phaseTransitionTimestamp: "2026-02-01T10:00:30Z" }],
      migrationState: { failed: true, failureReason },
    },
  });

  it("names QEMU failing to start, from failureReason alone", () => {
    const [f] = targetPodFailed.detect(emptySnapshot({ migrations: [failed(reason)] }));
    expect(f?.summary).toContain("QEMU could not start in the migration target pod");
    expect(f?.evidence[0]?.text).toBe(reason);
  });

  it("leaves a QEMU error another rule owns (the guest CPU) alone", () => {
    const cpu =
      "operation failed: guest CPU doesn't match specification: missing features: vmx; qemu unexpectedly closed the monitor";
    expect(targetPodFailed.detect(emptySnapshot({ migrations: [failed(cpu)] }))).toEqual([]);
  });
});

describe("target-pod-failed: a target pod whose name is not known", () => {
  it("says 'the migration target pod of <VMIM>', not the pod twice", () => {
    const m: VirtualMachineInstanceMigration = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: {
        name: "kubevirt-migrate-vm-n1",
        namespace: "demo",
        uid: "eeeeeeee-0000-4000-8000-000000000001",
      },
      spec: { vmiName: "db-1" },
      status: {
        phase: "Failed",
        migrationState: {
          failed: true,
          failureReason: "internal error: qemu unexpectedly closed the monitor",
        },
      },
    };
    const [f] = targetPodFailed.detect(emptySnapshot({ migrations: [m] }));
    expect(f?.summary).toMatch(
      /^QEMU could not start in the migration target pod of VirtualMachineInstanceMigration\/kubevirt-migrate-vm-n1, so/,
    );
  });
});

describe("target-pod-failed after a root cause", () => {
  it("defers to the cause's fix: no 'migrate again' that the cause says will fail", async () => {
    const s = await fixtureSnapshot("vif-cache-missing", "kubevirt-18087-target-pod-loop");
    const [f] = targetPodFailed.detect(s);
    expect(f?.causedBy).toBe("vif-cache-missing");
    expect(f?.fix.explanation).toMatch(
      /^The target pod failed because of vif-cache-missing \(the finding it follows\)/,
    );
    expect(f?.fix.commands.some((c) => /\bmigrate\b/.test(c))).toBe(false);
  });
});
