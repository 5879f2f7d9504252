import { describe, expect, it } from "vitest";
import { migrationBackoff } from "../../../src/diagnose/modes/migration-backoff.js";
import { versionSkew } from "../../../src/diagnose/modes/version-skew.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Event, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { clientSocketClosedReason } from "../../../src/sim/objects/history.js";
import {
  emptySnapshot,
  fixtureSnapshot,
  type HitExpectation,
  testRuleFixtures,
} from "../../helpers/diagnose.js";

const id = "migration-backoff";

interface Expected extends HitExpectation {
  vm: string;
  namespace: string;
  causedBy?: string;
  evacuateCancel: boolean;
}

const hits: Record<string, Expected> = {
  "harvester-7965-maintenance-cpu": {
    vm: "vm",
    namespace: "default",
    severity: "warning",
    confidence: "high",
    // The CPU mismatch is another rule's finding; the loop links to it.
    causedBy: "cpu-model-mismatch",
    summary: "cpu-model-mismatch",
    evidence: "backoff migrating vmi default/vm",
    command: ["kubectl get vmim -n default -l kubevirt.io/vmi-name=vm", "kvmig cancel vm -n default"],
    evacuateCancel: true,
  },
  "harvester-10354-events-expired": {
    vm: "rke2-v1346-pool1-fnl52-lzm2v",
    namespace: "default",
    severity: "warning",
    confidence: "medium",
    evidence: "Failed (evacuation migration)",
    command: [
      "kubectl get vmim -n default -l kubevirt.io/vmi-name=rke2-v1346-pool1-fnl52-lzm2v",
      "kvmig cancel rke2-v1346-pool1-fnl52-lzm2v -n default",
    ],
    evacuateCancel: true,
  },
  "kubevirt-9585-evacuation-unschedulable": {
    vm: "vm-db-2",
    namespace: "tenant-x",
    severity: "warning",
    confidence: "high",
    evidence: "backoff migrating vmi tenant-x/vm-db-2",
    command: [
      "kubectl get vmim -n tenant-x -l kubevirt.io/vmi-name=vm-db-2",
      "kvmig cancel vm-db-2 -n tenant-x",
    ],
    evacuateCancel: true,
  },
  "harvester-11615-workload-update-skew": {
    vm: "rke2-pool2-r45r5-p2sb2",
    namespace: "default",
    severity: "warning",
    confidence: "high",
    causedBy: "version-skew",
    summary: "version-skew",
    evidence: "backoff migrating vmi default/rke2-pool2-r45r5-p2sb2",
    command: [
      "kubectl get vmim -n default -l kubevirt.io/vmi-name=rke2-pool2-r45r5-p2sb2",
      "kvmig cancel rke2-pool2-r45r5-p2sb2 -n default",
    ],
    evacuateCancel: false,
  },
};

describe("migration-backoff on fixtures from real reports", () => {
  testRuleFixtures(migrationBackoff, hits, {
    minNearMisses: 3,
    hitTitle: (name) => `finds the backoff loop in ${name}`,
    checkEvery: (finding, expected) => {
      expect(finding.causedBy).toBe(expected.causedBy);
      expect(
        finding.fix.commands.includes(`virtctl evacuate-cancel vmi ${expected.vm} -n ${expected.namespace}`),
      ).toBe(expected.evacuateCancel);
    },
  });

  it("quotes the failure reason when none of the linked rules explains it (kubevirt#9585)", async () => {
    const [finding] = migrationBackoff.detect(
      await fixtureSnapshot(id, "kubevirt-9585-evacuation-unschedulable"),
    );
    expect(finding?.summary).toContain("is currently unschedulable");
  });

  it("says what it could not check when the events expired (harvester#10354)", async () => {
    const [finding] = migrationBackoff.detect(await fixtureSnapshot(id, "harvester-10354-events-expired"));
    expect(finding?.notChecked?.join("\n")).toMatch(/MigrationBackoff events/);
    expect(finding?.notChecked?.join("\n")).toMatch(/why the attempts failed/);
    expect(finding?.summary).toContain("could not be determined");
  });

  it("names vif-cache-missing as the root cause of the evacuation loop in kubevirt#18103", async () => {
    const [finding] = migrationBackoff.detect(
      await fixtureSnapshot("vif-cache-missing", "kubevirt-18103-evacuation-loop"),
    );
    expect(finding?.causedBy).toBe("vif-cache-missing");
  });

  it("reports version-skew itself on the workload-update loop", async () => {
    expect(
      versionSkew.detect(await fixtureSnapshot(id, "harvester-11615-workload-update-skew")),
    ).toHaveLength(1);
  });
});

const ns = "prod";
const vmName = "erp-db";

function evacuation(
  uid: string,
  phase: "Failed" | "Pending" | "Succeeded",
  at: string,
): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: `kubevirt-evacuation-${uid}`,
      namespace: ns,
      uid,
      creationTimestamp: at,
      annotations: { "kubevirt.io/evacuationMigration": "node-3" },
    },
    spec: { vmiName: vmName },
    status: {
      phase,
      phaseTransitionTimestamps: [{ phase, phaseTransitionTimestamp: at }],
      migrationState:
        phase === "Failed"
          ? { migrationUid: uid, failed: true, failureReason: clientSocketClosedReason, targetNode: "node-1" }
          : undefined,
    },
  };
}

function backoffEvent(at: string): Event {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "erp-db.1", namespace: ns },
    involvedObject: { kind: "VirtualMachineInstance", name: vmName, namespace: ns },
    reason: "MigrationBackoff",
    type: "Warning",
    message: `backoff migrating vmi ${ns}/${vmName}`,
    lastTimestamp: at,
    count: 4,
  };
}

function snapshot(parts: Partial<Snapshot>): Snapshot {
  const image = "quay.io/kubevirt/virt-launcher:v1.9.0";
  return emptySnapshot({
    source: "live",
    takenAt: "2026-08-22T10:30:00Z",
    namespace: ns,
    vmName,
    vmi: {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: { name: vmName, namespace: ns },
      spec: {},
      status: { phase: "Running", evacuationNodeName: "node-3", launcherContainerImageVersion: image },
    },
    currentLauncherImage: image,
    ...parts,
  });
}

describe("migration-backoff reasoning", () => {
  it("links the simulator's backoff-loop (dropped connections, same launcher) to migration-connection-lost", () => {
    const s = snapshot({
      migrations: [
        evacuation("a1", "Failed", "2026-08-22T10:00:00Z"),
        evacuation("a2", "Failed", "2026-08-22T10:02:00Z"),
        evacuation("a3", "Pending", "2026-08-22T10:05:00Z"),
      ],
      events: [backoffEvent("2026-08-22T10:05:30Z")],
    });
    const [finding] = migrationBackoff.detect(s);
    expect(finding?.causedBy).toBe("migration-connection-lost");
    expect(finding?.confidence).toBe("high");
    expect(finding?.summary).toContain("about 40 s now");
  });

  it("fires on MigrationBackoff events alone, with lower confidence when the VMIMs are gone", () => {
    const [finding] = migrationBackoff.detect(snapshot({ events: [backoffEvent("2026-08-22T10:05:30Z")] }));
    expect(finding?.confidence).toBe("medium");
    expect(finding?.notChecked?.join("\n")).toMatch(/failed VMIMs themselves/);
  });

  it("is silent after a successful evacuation", () => {
    const s = snapshot({
      migrations: [
        evacuation("a1", "Failed", "2026-08-22T10:00:00Z"),
        evacuation("a2", "Failed", "2026-08-22T10:02:00Z"),
        evacuation("a3", "Succeeded", "2026-08-22T10:06:00Z"),
      ],
      events: [backoffEvent("2026-08-22T10:05:30Z")],
    });
    expect(migrationBackoff.detect(s)).toEqual([]);
  });

  it("does not count migrations a user started", () => {
    const user = (uid: string, at: string): VirtualMachineInstanceMigration => {
      const m = evacuation(uid, "Failed", at);
      return {
        ...m,
        metadata: { ...m.metadata, name: `kubevirt-migrate-vm-${uid}`, annotations: undefined },
      };
    };
    const s = snapshot({
      migrations: [user("u1", "2026-08-22T10:00:00Z"), user("u2", "2026-08-22T10:02:00Z")],
    });
    expect(migrationBackoff.detect(s)).toEqual([]);
  });
});
