import { describe, expect, it } from "vitest";
import { storageBlocksMigration } from "../../../src/diagnose/modes/storage-blocks-migration.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Event, Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import {
  emptySnapshot,
  fixtureSnapshot,
  type HitExpectation,
  testRuleFixtures,
} from "../../helpers/diagnose.js";

const id = "storage-blocks-migration";

const hits: Record<string, HitExpectation> = {
  "kubevirt-9643-unsafe-migration": {
    severity: "error",
    confidence: "high",
    evidence: "Unsafe migration: Migration without shared storage is unsafe",
    summary: "fedora-dv",
    command: "kubectl get pvc fedora-dv -n default -o wide",
  },
  "bz-1927378-readonly-cdrom": {
    severity: "error",
    confidence: "high",
    evidence: "Operation not supported: Cannot migrate empty or read-only disk sdb",
    summary: "installcdrom",
    command: "kubectl edit vm win10-iso -n openshift-cnv-vms",
  },
  "kubevirt-12875-smaller-destination": {
    severity: "error",
    confidence: "high",
    evidence:
      "The sum of offset (0) and size (0) has to be smaller or equal to the  actual size of the containing file (1006632960)",
    summary: "dest-pvc-fs",
    command: "kubectl get pvc dest-pvc-fs -n kubevirt-test-default1",
  },
};

describe("storage-blocks-migration on fixtures", () => {
  testRuleFixtures(storageBlocksMigration, hits);
  it("names the disk target without the quoting around it", async () => {
    const [f] = storageBlocksMigration.detect(await fixtureSnapshot(id, "bz-1927378-readonly-cdrom"));
    expect(f?.summary).toContain("read-only disk sdb to the target");
  });
});

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({
    source: "live",
    takenAt: "2024-05-01T12:10:00Z",
    namespace: "demo",
    vmName: "db-1",
    migrations: [vmim],
    pods: [target],
    ...parts,
  });
}
const vmim: VirtualMachineInstanceMigration = {
  metadata: {
    name: "kubevirt-migrate-vm-q1",
    namespace: "demo",
    uid: "m-1",
    creationTimestamp: "2024-05-01T12:00:00Z",
  },
  spec: { vmiName: "db-1" },
  status: { phase: "Scheduling" },
};
const target: Pod = {
  metadata: {
    name: "virt-launcher-db-1-q2w3e",
    namespace: "demo",
    labels: { "kubevirt.io/migrationJobUID": "m-1" },
  },
  spec: { nodeName: "worker-2" },
  status: { phase: "Pending" },
};
const attach: Event = {
  metadata: { name: "a1", namespace: "demo" },
  involvedObject: { kind: "Pod", name: "virt-launcher-db-1-q2w3e", namespace: "demo" },
  reason: "FailedAttachVolume",
  type: "Warning",
  message:
    'Multi-Attach error for volume "pvc-0b1c" Volume is already used by pod(s) virt-launcher-db-1-abcde',
  lastTimestamp: "2024-05-01T12:02:00Z",
};

describe("a volume that cannot attach on the target", () => {
  it("fires with the attach error and the target pod's name in the fix", () => {
    const [f] = storageBlocksMigration.detect(snapshot({ events: [attach] }));
    expect(f?.evidence[0]?.text).toContain("Multi-Attach error");
    expect(f?.fix.commands).toContain("kubectl describe pod virt-launcher-db-1-q2w3e -n demo");
    expect(f?.fix.commands).toContain("kvmig cancel db-1 -n demo");
    expect(f?.confidence).toBe("high");
  });

  it("ties the event to a migration only through its target pod, and lowers confidence when events were incomplete", () => {
    const noPod = storageBlocksMigration.detect(snapshot({ pods: [], events: [attach] }));
    expect(noPod).toEqual([]);
    const partial = storageBlocksMigration.detect(
      snapshot({ events: [attach], missing: [{ what: "events in demo", why: "forbidden" }] }),
    )[0];
    expect(partial?.confidence).toBe("medium");
    expect(partial?.notChecked?.some((n) => n.includes("events"))).toBe(true);
  });

  it("ignores attach errors of a target pod that became ready", () => {
    const ready = {
      ...target,
      status: { phase: "Running" as const, conditions: [{ type: "Ready", status: "True" as const }] },
    };
    expect(storageBlocksMigration.detect(snapshot({ pods: [ready], events: [attach] }))).toEqual([]);
  });
});
