import { describe, expect, it } from "vitest";
import { migrationConnectionLost } from "../../../src/diagnose/modes/migration-connection-lost.js";
import { versionSkew } from "../../../src/diagnose/modes/version-skew.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Event, Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { clientSocketClosedReason } from "../../../src/sim/objects/history.js";
import { fixtureCases, fixtureSnapshot } from "../../helpers/diagnose.js";

const id = "version-skew";

interface Expected {
  vm: string;
  namespace: string;
  confidence: "high" | "medium" | "low";
  /** Text that must appear in some evidence line, exactly as the report shows it. */
  evidenceText: string;
}

const hits: Record<string, Expected> = {
  "kubevirt-16386-virtio-net-load": {
    vm: "vm-app-01",
    namespace: "default",
    confidence: "high",
    evidenceText: "qemu-kvm: Failed to load virtio-net:virtio",
  },
  "harvester-11615-cpu-ht": {
    vm: "vm-2cores",
    namespace: "default",
    confidence: "medium",
    evidenceText: "guest CPU doesn't match specification: extra features: ht",
  },
  "kubevirt-16386-cpu-ht-1.8.2": {
    vm: "worker-3",
    namespace: "tenant-a",
    confidence: "high",
    evidenceText: "guest CPU doesn't match specification: extra features: ht",
  },
};

describe("version-skew on fixtures from real reports", () => {
  const cases = fixtureCases(id);

  it("has a hit fixture for every expectation and at least three", () => {
    expect(cases.hits.sort()).toEqual(Object.keys(hits).sort());
    expect(cases.hits.length).toBeGreaterThanOrEqual(3);
  });

  for (const name of Object.keys(hits)) {
    it(`finds version skew in ${name}`, async () => {
      const expected = hits[name] as Expected;
      const snapshot = await fixtureSnapshot(id, name);
      const findings = versionSkew.detect(snapshot);
      expect(findings).toHaveLength(1);
      const [finding] = findings;
      expect(finding?.id).toBe(id);
      expect(finding?.severity).toBe("error");
      expect(finding?.confidence).toBe(expected.confidence);
      expect(finding?.evidence.some((e) => e.text.includes(expected.evidenceText))).toBe(true);
      // The differing images are part of the evidence.
      expect(finding?.evidence.some((e) => /virt-launcher/.test(e.text))).toBe(true);
      expect(finding?.fix.commands).toContain(`kvmig restart ${expected.vm} -n ${expected.namespace}`);
      expect(finding?.docs).toMatch(/^https:\/\/kubevirt\.io\/user-guide\//);
      // Never both on one failure.
      expect(migrationConnectionLost.detect(snapshot)).toEqual([]);
    });
  }

  for (const name of cases.nearMisses) {
    it(`stays silent on ${name}`, async () => {
      const snapshot = await fixtureSnapshot(id, name);
      expect(versionSkew.detect(snapshot)).toEqual([]);
    });
  }
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
  return {
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
    migrations: [],
    pods: [],
    events: [],
    logs: [],
    nodes: [],
    networkAttachmentDefinitions: [],
    migrationPolicies: [],
    rejections: [],
    missing: [],
    currentLauncherImage: newImage,
    ...parts,
  };
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
    const s = snapshot({ migrations: [failedMigration()] });
    const [finding] = versionSkew.detect(s);
    expect(finding?.confidence).toBe("low");
    expect(finding?.notChecked?.join("\n")).toMatch(/why the migration failed/);
    expect(finding?.notChecked?.join("\n")).toMatch(/events/);
    expect(finding?.notChecked?.join("\n")).toMatch(/virt-launcher logs/);
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
