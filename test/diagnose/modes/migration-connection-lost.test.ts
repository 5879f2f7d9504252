import { describe, expect, it } from "vitest";
import { migrationConnectionLost } from "../../../src/diagnose/modes/migration-connection-lost.js";
import { versionSkew } from "../../../src/diagnose/modes/version-skew.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Node, Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { clientSocketClosedReason } from "../../../src/sim/objects/history.js";
import {
  emptySnapshot,
  fixtureSnapshot,
  type HitExpectation,
  testRuleFixtures,
} from "../../helpers/diagnose.js";

const id = "migration-connection-lost";

const hits: Record<string, HitExpectation> = {
  "kubevirt-5319-abort-socket-closed": {
    title: "finds the dropped connection in kubevirt-5319-abort-socket-closed",
    severity: "warning",
    // Same image on both pods: high confidence that this is not skew.
    confidence: "high",
    evidence: "internal error: client socket is closed",
    summary: "abort had been requested",
    command: "kvmig migrate testvmi-kzr6v -n kubevirt-test-default1",
    check: (finding) => {
      expect(finding.fix.commands[0]).toContain("spec.nodeName=node02");
    },
  },
};

describe("migration-connection-lost on fixtures", () => {
  testRuleFixtures(migrationConnectionLost, hits, { minNearMisses: 2, silent: [versionSkew] });

  it("leaves the skewed socket-closed failure to version-skew", async () => {
    const snapshot = await fixtureSnapshot(id, "near-miss-skewed-socket-closed");
    expect(versionSkew.detect(snapshot)).toHaveLength(1);
  });
});

const ns = "shop";
const vmName = "checkout";
const image = "quay.io/kubevirt/virt-launcher:v1.9.0";

function dropped(uid: string, at: string, targetNode = "node-3"): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: { name: `kubevirt-migrate-vm-${uid}`, namespace: ns, uid, creationTimestamp: at },
    spec: { vmiName: vmName },
    status: {
      phase: "Failed",
      phaseTransitionTimestamps: [{ phase: "Failed", phaseTransitionTimestamp: at }],
      migrationState: {
        migrationUid: uid,
        targetNode,
        sourcePod: "virt-launcher-checkout-aaaaa",
        failed: true,
        failureReason: clientSocketClosedReason,
      },
    },
  };
}

const sourcePod: Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "virt-launcher-checkout-aaaaa",
    namespace: ns,
    creationTimestamp: "2026-08-01T00:00:00Z",
  },
  spec: { containers: [{ name: "compute", image }] },
  status: { phase: "Running" },
};

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({
    source: "live",
    takenAt: "2026-08-22T11:00:00Z",
    namespace: ns,
    vmName,
    vmi: {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: { name: vmName, namespace: ns, uid: "vmi-uid" },
      spec: {},
      status: { phase: "Running", launcherContainerImageVersion: image },
    },
    pods: [sourcePod],
    logs: [{ namespace: ns, pod: "virt-launcher-checkout-aaaaa", container: "compute", lines: ["{}"] }],
    currentLauncherImage: image,
    ...parts,
  });
}

describe("migration-connection-lost reasoning", () => {
  it("recognizes the simulator's dropped connection with the same launcher on both ends (medium: target inferred)", () => {
    const s = snapshot({ migrations: [dropped("m1", "2026-08-22T10:00:00Z")] });
    const [finding] = migrationConnectionLost.detect(s);
    expect(finding?.confidence).toBe("medium");
    expect(finding?.evidence.map((e) => e.text)).toContain(clientSocketClosedReason);
    expect(versionSkew.detect(s)).toEqual([]);
  });

  it("lowers its confidence when the launcher images cannot be compared", () => {
    const s = snapshot({
      vmi: {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstance",
        metadata: { name: vmName, namespace: ns },
        spec: {},
        status: { phase: "Running" },
      },
      pods: [],
      currentLauncherImage: undefined,
      logs: [],
      migrations: [dropped("m1", "2026-08-22T10:00:00Z")],
    });
    const [finding] = migrationConnectionLost.detect(s);
    expect(finding?.confidence).toBe("low");
    expect(finding?.notChecked?.join("\n")).toMatch(/launcher images differ/);
    expect(finding?.notChecked?.join("\n")).toMatch(/virt-launcher logs/);
    expect(finding?.notChecked?.join("\n")).toMatch(/events/);
    // Without skew evidence, version-skew stays silent: the two never both fire.
    expect(versionSkew.detect(s)).toEqual([]);
  });

  it("never fires on the same failure as version-skew", () => {
    const s = snapshot({
      vmi: {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstance",
        metadata: { name: vmName, namespace: ns, labels: { "kubevirt.io/outdatedLauncherImage": "" } },
        spec: {},
        status: { phase: "Running", launcherContainerImageVersion: "quay.io/kubevirt/virt-launcher:v1.8.2" },
      },
      pods: [],
      migrations: [dropped("m1", "2026-08-22T10:00:00Z")],
    });
    expect(versionSkew.detect(s)).toHaveLength(1);
    expect(migrationConnectionLost.detect(s)).toEqual([]);
  });

  it("points at the migration network when it keeps happening, and shows a NotReady target node", () => {
    const node: Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "node-3" },
      status: {
        conditions: [
          {
            type: "Ready",
            status: "Unknown",
            reason: "NodeStatusUnknown",
            message: "Kubelet stopped posting node status.",
          },
        ],
      },
    };
    const s = snapshot({
      migrations: [dropped("m1", "2026-08-22T10:00:00Z"), dropped("m2", "2026-08-22T10:20:00Z")],
      nodes: [node],
    });
    const [finding] = migrationConnectionLost.detect(s);
    expect(finding?.summary).toContain("2 times");
    expect(finding?.fix.commands.some((c) => c.includes("spec.configuration.migrations"))).toBe(true);
    expect(
      finding?.evidence.some((e) => e.object === "Node/node-3" && e.text.startsWith("Ready=Unknown")),
    ).toBe(true);
  });
});
