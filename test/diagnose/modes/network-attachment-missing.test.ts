import { describe, expect, test } from "vitest";
import { networkAttachmentMissing } from "../../../src/diagnose/modes/network-attachment-missing.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import { fixtureSnapshot, type HitExpectation, testRuleFixtures } from "../../helpers/diagnose.js";

const id = "network-attachment-missing";

const hits: Record<string, HitExpectation> = {
  "harvester-759-management-network": {
    title: "harvester#759: 'Failed to locate network attachment definition default/management Network'",
    severity: "error",
    confidence: "high",
    evidence: "Failed to locate network attachment definition default/management Network",
    summary: "cannot start",
    command: [
      "kubectl get network-attachment-definitions -A --field-selector 'metadata.name=management Network'",
      "kvmig restart cw -n default",
    ],
    check: (f) => {
      expect(f.evidence[0]).toMatchObject({
        object: "VirtualMachine/cw",
        field: "spec.template.spec.networks[0].multus.networkName",
        text: "management Network",
      });
    },
  },
  "vlan-13-deleted-migration-pending": {
    title:
      "vlan-13 deleted: the migration stays Pending; without virt-controller's log the confidence is medium",
    severity: "error",
    confidence: "medium",
    evidence: "present: vlan-12; no vlan-13",
    summary: "every migration stays Pending",
    command: ["kubectl get network-attachment-definitions -n demo", "kvmig watch db-1 -n demo"],
    check: (f) => {
      expect(f.evidence[1]?.text).toBe("present: vlan-12; no vlan-13");
      expect(
        f.evidence.some(
          (e) =>
            e.object === "VirtualMachineInstanceMigration/kubevirt-migrate-vm-w4p9j" &&
            e.text === "Pending, no target pod",
        ),
      ).toBe(true);
      expect(f.notChecked?.join(" ")).toContain("virt-controller's log");
    },
  },
};

describe(id, () => {
  testRuleFixtures(networkAttachmentMissing, hits, { minHits: 2, minNearMisses: 2 });

  test("virt-controller's own 'failed to locate' line makes it high", async () => {
    const base = await fixtureSnapshot(id, "vlan-13-deleted-migration-pending");
    const line = JSON.stringify({
      component: "virt-controller",
      level: "info",
      msg: "reenqueuing Migration demo/kubevirt-migrate-vm-w4p9j",
      pos: "migration.go:317",
      reason: "failed to render launch manifest: failed to locate network attachment definition demo/vlan-13",
      timestamp: "2025-03-01T12:05:58.310422Z",
    });
    const s: Snapshot = {
      ...base,
      logs: [
        ...base.logs,
        {
          namespace: "kubevirt",
          pod: "virt-controller-7f9c6b8d5-q2w4e",
          container: "virt-controller",
          lines: [line],
        },
      ],
    };
    const [f] = networkAttachmentMissing.detect(s);
    expect(f?.confidence).toBe("high");
    expect(
      f?.evidence.some((e) => e.text.endsWith("failed to locate network attachment definition demo/vlan-13")),
    ).toBe(true);
    expect(f?.notChecked).toBeUndefined();
  });

  test("NADs that could not be read: info, low confidence, not a claim (absent evidence is no problem)", async () => {
    const base = await fixtureSnapshot(id, "vlan-13-deleted-migration-pending");
    const s: Snapshot = {
      ...base,
      networkAttachmentDefinitions: [],
      missing: [
        ...base.missing,
        {
          what: "NetworkAttachmentDefinitions in demo",
          why: "forbidden: cannot list network-attachment-definitions",
        },
      ],
    };
    const [f] = networkAttachmentMissing.detect(s);
    expect(f?.severity).toBe("info");
    expect(f?.confidence).toBe("low");
    expect(f?.summary).toContain("could not be checked");
    expect(f?.notChecked?.join(" ")).toContain("forbidden");
  });
});

describe("virt-controller's words naming the NAD, however the sentence goes on", () => {
  test.each([
    "failed to render launch manifest: failed to locate network attachment definition demo/vlan-13, retrying",
    'Error creating pod: "failed to locate network attachment definition demo/vlan-13"',
    "failed to render launch manifest (failed to locate network attachment definition demo/vlan-13)",
    "Failed to locate network attachment definition demo/vlan-13",
    "failed to locate network attachment definition demo/vlan-13 while rendering the target pod",
  ])("%s", async (message) => {
    const base = await fixtureSnapshot(id, "vlan-13-deleted-migration-pending");
    const s: Snapshot = {
      ...base,
      events: [
        ...base.events,
        {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: "x", namespace: "demo" },
          involvedObject: { kind: "VirtualMachineInstance", name: base.vmName, namespace: "demo" },
          reason: "FailedCreate",
          type: "Warning",
          message,
          lastTimestamp: base.takenAt,
        },
      ],
    };
    const [f] = networkAttachmentMissing.detect(s);
    expect(f?.confidence).toBe("high");
    expect(f?.evidence.some((e) => e.text === message)).toBe(true);
  });
});
