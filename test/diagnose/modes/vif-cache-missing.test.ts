import { describe, expect, it } from "vitest";
import { vifCacheMissing } from "../../../src/diagnose/modes/vif-cache-missing.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Event } from "../../../src/k8s/types.js";
import { vifCacheSyncFailedMessage } from "../../../src/sim/objects/history.js";
import {
  emptySnapshot,
  fixtureSnapshot,
  type HitExpectation,
  testRuleFixtures,
} from "../../helpers/diagnose.js";

const id = "vif-cache-missing";

interface Expected extends HitExpectation {
  /** The missing cache file, as the SyncFailed event names it. */
  evidence: string;
  /** The fix's commands, all of them and in this order. */
  command: readonly string[];
}

const hits: Record<string, Expected> = {
  "kubevirt-18087-target-pod-loop": {
    severity: "error",
    confidence: "high",
    evidence: "vif-cache-pod37a8eec1ce1.json: no such file or directory",
    command: ["kvmig cancel vm-l2 -n default", "kvmig restart vm-l2 -n default"],
  },
  "kubevirt-18103-evacuation-loop": {
    severity: "error",
    confidence: "high",
    evidence: "vif-cache-pod6c21b3f9a0e.json: no such file or directory",
    command: [
      "kvmig cancel edge-router -n infra",
      "virtctl evacuate-cancel vmi edge-router -n infra",
      "kvmig restart edge-router -n infra",
    ],
  },
  "kubevirt-19023-migrate-back": {
    severity: "error",
    confidence: "high",
    evidence: "vif-cache-eth0.json: no such file or directory",
    command: ["kvmig restart fw-01 -n net"],
  },
};

describe("vif-cache-missing on fixtures from real reports", () => {
  testRuleFixtures(vifCacheMissing, hits, {
    minNearMisses: 2,
    hitTitle: (name) => `finds the missing vif-cache in ${name}`,
    checkEvery: (finding, expected) => {
      expect(
        finding.evidence.some(
          (e) => e.text.includes(expected.evidence) && e.field?.startsWith("event SyncFailed"),
        ),
      ).toBe(true);
      // The bridge binding is part of the evidence.
      expect(finding.evidence.some((e) => e.field?.endsWith(".bridge"))).toBe(true);
      expect(finding.fix.commands).toEqual(expected.command);
      expect(finding.docs).toBe("https://github.com/kubevirt/kubevirt/issues/18087");
    },
  });

  it("counts the target pods created again and again (kubevirt#18087)", async () => {
    const [finding] = vifCacheMissing.detect(await fixtureSnapshot(id, "kubevirt-18087-target-pod-loop"));
    expect(finding?.summary).toContain("4 migration target pods were created");
    expect(
      finding?.evidence.some((e) => e.field === "log compute" && e.text.includes("failed plugging phase2")),
    ).toBe(true);
  });
});

const ns = "telco";
const vmName = "pbx-gateway";

function syncFailed(message: string, type = "Warning"): Event {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "pbx-gateway.1", namespace: ns },
    involvedObject: { kind: "VirtualMachineInstance", name: vmName, namespace: ns },
    reason: "SyncFailed",
    type,
    message,
    lastTimestamp: "2026-08-22T10:00:05Z",
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
      metadata: { name: vmName, namespace: ns },
      spec: {
        domain: {
          devices: {
            interfaces: [
              { name: "default", masquerade: {} },
              { name: "voice", bridge: {} },
            ],
          },
        },
        networks: [
          { name: "default", pod: {} },
          { name: "voice", multus: { networkName: "vlan-200" } },
        ],
      },
      status: { phase: "Running" },
    },
    logs: [{ namespace: ns, pod: "virt-launcher-pbx-gateway-aaaaa", container: "compute", lines: ["{}"] }],
    ...parts,
  });
}

describe("vif-cache-missing reasoning", () => {
  it("recognizes the simulator's SyncFailed text", () => {
    const message = vifCacheSyncFailedMessage("pod16477688c0e");
    const [finding] = vifCacheMissing.detect(snapshot({ events: [syncFailed(message)] }));
    expect(finding?.evidence[0]?.text).toBe(message);
    expect(finding?.summary).toContain("vif-cache-pod16477688c0e.json");
    expect(finding?.summary).toContain("Multus network vlan-200");
  });

  it("ignores the text in a Normal event", () => {
    const message = vifCacheSyncFailedMessage("pod16477688c0e");
    expect(vifCacheMissing.detect(snapshot({ events: [syncFailed(message, "Normal")] }))).toEqual([]);
  });

  it("lowers its confidence when the VM's interfaces cannot be read, and says so", () => {
    const [finding] = vifCacheMissing.detect(
      snapshot({ vmi: undefined, events: [syncFailed(vifCacheSyncFailedMessage("eth0"))] }),
    );
    expect(finding?.confidence).toBe("medium");
    expect(finding?.notChecked?.join("\n")).toMatch(/interface bindings/);
  });

  it("still reports the text from a launcher error line when events expired", () => {
    const line = JSON.stringify({
      component: "virt-launcher",
      level: "error",
      msg: "Failed to prepare migration target pod",
      reason:
        "pre-start pod-setup failed: preparing the pod network failed: open /proc/self/root/var/run/kubevirt-private/vif-cache-eth0.json: no such file or directory",
      timestamp: "2026-08-22T10:00:04.000000Z",
    });
    const [finding] = vifCacheMissing.detect(
      snapshot({
        logs: [
          { namespace: ns, pod: "virt-launcher-pbx-gateway-bbbbb", container: "compute", lines: [line] },
        ],
      }),
    );
    expect(finding?.evidence[0]?.object).toBe("Pod/virt-launcher-pbx-gateway-bbbbb");
    expect(finding?.notChecked?.join("\n")).toMatch(/events/);
  });
});
