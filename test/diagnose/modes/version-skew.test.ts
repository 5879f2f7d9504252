import { describe, expect, it } from "vitest";
import { migrationConnectionLost } from "../../../src/diagnose/modes/migration-connection-lost.js";
import { versionSkew } from "../../../src/diagnose/modes/version-skew.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Event, Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { clientSocketClosedReason } from "../../../src/sim/objects/history.js";
import { emptySnapshot, type HitExpectation, testRuleFixtures } from "../../helpers/diagnose.js";

const hits: Record<string, HitExpectation> = {
  "kubevirt-16386-virtio-net-load": {
    severity: "error",
    confidence: "high",
    // Text that must appear in some evidence line, exactly as the report shows it.
    evidence: "qemu-kvm: Failed to load virtio-net:virtio",
    command: "kvmig restart vm-app-01 -n default",
  },
  "harvester-11615-cpu-ht": {
    severity: "error",
    confidence: "medium",
    evidence: "guest CPU doesn't match specification: extra features: ht",
    command: "kvmig restart vm-2cores -n default",
  },
  "kubevirt-16386-cpu-ht-1.8.2": {
    severity: "error",
    confidence: "high",
    evidence: "guest CPU doesn't match specification: extra features: ht",
    command: "kvmig restart worker-3 -n tenant-a",
  },
};

describe("version-skew on fixtures from real reports", () => {
  testRuleFixtures(versionSkew, hits, {
    minHits: 3,
    hitTitle: (name) => `finds version skew in ${name}`,
    // Never both on one failure.
    silent: [migrationConnectionLost],
    checkEvery: (finding) => {
      // The differing images are part of the evidence.
      expect(finding.evidence.some((e) => /virt-launcher/.test(e.text))).toBe(true);
      expect(finding.docs).toMatch(/^https:\/\/kubevirt\.io\/user-guide\//);
    },
  });
});

// Hand-built snapshots: the simulator's texts, and what happens when evidence is missing.

const ns = "prod";
const vmName = "orders-db";
const vmiUid = "11111111-2222-4333-8444-555555555555";
const migUid = "66666666-7777-4888-9999-000000000000";
const oldImage = "quay.io/kubevirt/virt-launcher:v1.8.2";
const newImage = "quay.io/kubevirt/virt-launcher:v1.9.0";

function failedMigration(state: Record<string, unknown> = {}): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: "kubevirt-migrate-vm-abcde",
      namespace: ns,
      uid: migUid,
      creationTimestamp: "2026-08-22T10:00:00Z",
    },
    spec: { vmiName: vmName },
    status: {
      phase: "Failed",
      phaseTransitionTimestamps: [{ phase: "Failed", phaseTransitionTimestamp: "2026-08-22T10:03:00Z" }],
      migrationState: {
        sourceNode: "node-1",
        targetNode: "node-3",
        sourcePod: "virt-launcher-orders-db-aaaaa",
        ...state,
      },
    },
  };
}

function launcherPod(name: string, image: string, migrationUid?: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      creationTimestamp: migrationUid ? "2026-08-22T10:00:05Z" : "2026-06-01T00:00:00Z",
      labels: migrationUid ? { "kubevirt.io/migrationJobUID": migrationUid } : {},
    },
    spec: { containers: [{ name: "compute", image }] },
    status: { phase: migrationUid ? "Failed" : "Running" },
  };
}

function migratedEvent(reason: string): Event {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "orders-db.1", namespace: ns },
    involvedObject: { kind: "VirtualMachineInstance", name: vmName, namespace: ns, uid: vmiUid },
    reason: "Migrated",
    type: "Warning",
    message: `VirtualMachineInstance migration uid ${migUid} failed. reason:${reason}`,
    lastTimestamp: "2026-08-22T10:02:58Z",
  };
}

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({
    source: "live",
    takenAt: "2026-08-22T10:10:00Z",
    namespace: ns,
    vmName,
    vmi: {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: {
        name: vmName,
        namespace: ns,
        uid: vmiUid,
        labels: { "kubevirt.io/outdatedLauncherImage": "" },
      },
      spec: {},
      status: { phase: "Running", launcherContainerImageVersion: oldImage },
    },
    currentLauncherImage: newImage,
    ...parts,
  });
}

describe("version-skew reasoning", () => {
  it("recognizes the simulator's version-skew failure and leaves it to version-skew alone", () => {
    const s = snapshot({
      migrations: [
        failedMigration({ failed: true, completed: true, failureReason: clientSocketClosedReason }),
      ],
      events: [migratedEvent(clientSocketClosedReason)],
      pods: [launcherPod("virt-launcher-orders-db-aaaaa", oldImage)],
      logs: [{ namespace: ns, pod: "virt-launcher-orders-db-aaaaa", container: "compute", lines: ["{}"] }],
    });
    const [finding] = versionSkew.detect(s);
    expect(finding?.evidence.map((e) => e.text)).toContain(clientSocketClosedReason);
    // The target pod is gone: its image is inferred, so the confidence is not high.
    expect(finding?.confidence).toBe("medium");
    expect(finding?.summary).toContain(oldImage);
    expect(finding?.summary).toContain(newImage);
    expect(migrationConnectionLost.detect(s)).toEqual([]);
  });

  it("reads both images from the pods when they are there (high for an incoming-side failure)", () => {
    const s = snapshot({
      migrations: [
        failedMigration({ failed: true, failureReason: "load of migration failed: Operation not permitted" }),
      ],
      pods: [
        launcherPod("virt-launcher-orders-db-aaaaa", oldImage),
        launcherPod("virt-launcher-orders-db-bbbbb", newImage, migUid),
      ],
      events: [migratedEvent("load of migration failed: Operation not permitted")],
      logs: [{ namespace: ns, pod: "virt-launcher-orders-db-bbbbb", container: "compute", lines: ["{}"] }],
    });
    const [finding] = versionSkew.detect(s);
    expect(finding?.confidence).toBe("high");
    expect(finding?.notChecked).toBeUndefined();
    expect(finding?.evidence.some((e) => e.object === "Pod/virt-launcher-orders-db-bbbbb")).toBe(true);
  });

  it("is silent when the failure is of another kind, even with skew", () => {
    const s = snapshot({
      migrations: [
        failedMigration({
          failed: true,
          failureReason: "Migration target pod was removed during active migration.",
        }),
      ],
    });
    expect(versionSkew.detect(s)).toEqual([]);
  });

  it("lowers its confidence and says what it could not check when no failure reason survived", () => {
    const s = snapshot({ migrations: [failedMigration({ startTimestamp: "2026-08-22T10:01:00Z" })] });
    const [finding] = versionSkew.detect(s);
    expect(finding?.confidence).toBe("low");
    expect(finding?.notChecked?.join("\n")).toMatch(/why the migration failed/);
    expect(finding?.notChecked?.join("\n")).toMatch(/events/);
    expect(finding?.notChecked?.join("\n")).toMatch(/virt-launcher logs/);
  });

  it("without a skew-type text, is silent on a failure before the transfer began", () => {
    // Failed in Pending: the new launcher never ran, so the skew cannot be why.
    expect(versionSkew.detect(snapshot({ migrations: [failedMigration()] }))).toEqual([]);
    const other = failedMigration({ failureReason: "some other error" });
    expect(versionSkew.detect(snapshot({ migrations: [other] }))).toEqual([]);
  });

  it("after the transfer began, a text of another kind is skew only with both images read from the pods", () => {
    const began = failedMigration({
      failed: true,
      failureReason: "some other error",
      startTimestamp: "2026-08-22T10:01:00Z",
    });
    // The target image only inferred (the target pod is gone): not enough.
    expect(versionSkew.detect(snapshot({ migrations: [began] }))).toEqual([]);
    const s = snapshot({
      migrations: [began],
      pods: [
        launcherPod("virt-launcher-orders-db-aaaaa", oldImage),
        launcherPod("virt-launcher-orders-db-bbbbb", newImage, migUid),
      ],
    });
    const [finding] = versionSkew.detect(s);
    expect(finding?.confidence).toBe("low");
    expect(finding?.summary).toContain(
      '("some other error"): it failed after the transfer began, between two launcher builds',
    );
    expect(finding?.notChecked?.[0]).toMatch(/^whether the failure text is the launchers' mismatch/);
  });

  it("is silent when the same images ran on both ends", () => {
    const s = snapshot({
      vmi: {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstance",
        metadata: { name: vmName, namespace: ns, uid: vmiUid },
        spec: {},
        status: { phase: "Running", launcherContainerImageVersion: newImage },
      },
      migrations: [failedMigration({ failed: true, failureReason: clientSocketClosedReason })],
    });
    expect(versionSkew.detect(s)).toEqual([]);
    expect(migrationConnectionLost.detect(s)).toHaveLength(1);
  });

  it("ignores a skewed failure that a later successful migration left behind", () => {
    const success: VirtualMachineInstanceMigration = {
      ...failedMigration(),
      metadata: {
        name: "kubevirt-migrate-vm-later",
        namespace: ns,
        uid: "later",
        creationTimestamp: "2026-08-22T10:05:00Z",
      },
      status: {
        phase: "Succeeded",
        phaseTransitionTimestamps: [{ phase: "Succeeded", phaseTransitionTimestamp: "2026-08-22T10:06:00Z" }],
      },
    };
    const s = snapshot({
      migrations: [failedMigration({ failed: true, failureReason: clientSocketClosedReason }), success],
    });
    expect(versionSkew.detect(s)).toEqual([]);
  });

  it("quotes names with shell quoting in its commands", () => {
    const s = snapshot({
      namespace: "team a",
      migrations: [failedMigration({ failed: true, failureReason: clientSocketClosedReason })],
    });
    const [finding] = versionSkew.detect(s);
    expect(finding?.fix.commands[0]).toBe("kvmig restart orders-db -n 'team a'");
  });
});
