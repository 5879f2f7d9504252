import { describe, expect, it } from "vitest";
import { bridgeMissingOnNode } from "../../../src/diagnose/modes/bridge-missing-on-node.js";
import type { NodeNetworkState } from "../../../src/k8s/types.js";
import { fixtureSnapshot, type HitExpectation, testRuleFixtures } from "../../helpers/diagnose.js";

const id = "bridge-missing-on-node";

const hits: Record<string, HitExpectation> = {
  "state-only-web-13-forced-to-node-3": {
    title: "web-13 runs on node-3, whose NodeNetworkState has no vlan-13; its interface lost its address",
    severity: "error",
    confidence: "high",
    evidence: ["no interface vlan-13", "no IP address reported", "moved node-2 → node-3, Succeeded"],
    summary: ["web-13 runs on node-3", "creates a missing bridge by itself, without an uplink"],
    command: ["kubectl get nns node-3 -o yaml", "kvmig migrate web-13 -n vlan --target-node node-1"],
    check: (f) => {
      expect(f.evidence[0]).toMatchObject({
        object: "NodeNetworkState/node-3",
        field: "status.currentState.interfaces",
        text: "no interface vlan-13",
      });
      // The policy to apply has the real names: the bridge, the node and the uplink node-1 uses.
      expect(f.fix.explanation).toContain(
        '"nodeSelector":{"kubernetes.io/hostname":"node-3"},"desiredState":{"interfaces":[{"name":"eth1.13","type":"vlan","state":"up","vlan":{"base-iface":"eth1","id":13}},{"name":"vlan-13","type":"linux-bridge"',
      );
    },
  },
};

describe(id, () => {
  testRuleFixtures(bridgeMissingOnNode, hits);

  it("says nothing without NodeNetworkStates (nmstate not installed)", async () => {
    const snapshot = await fixtureSnapshot(id, "state-only-web-13-forced-to-node-3");
    expect(bridgeMissingOnNode.detect({ ...snapshot, nodeNetworkStates: undefined })).toEqual([]);
  });

  it("medium confidence while the interface still reports its address; a bridge without uplink is a gap too", async () => {
    const snapshot = await fixtureSnapshot(id, "state-only-web-13-forced-to-node-3");
    const vmi = structuredClone(snapshot.vmi);
    const iface = vmi?.status?.interfaces?.find((i) => i.name === "vlan-13");
    if (iface) iface.ipAddresses = ["10.13.0.193"];
    const states: NodeNetworkState[] = (snapshot.nodeNetworkStates ?? []).map((s) =>
      s.metadata.name === "node-3"
        ? {
            ...s,
            status: {
              currentState: {
                interfaces: [
                  {
                    name: "vlan-13",
                    type: "linux-bridge",
                    state: "up",
                    bridge: { port: [{ name: "veth12ab" }] },
                  },
                ],
              },
            },
          }
        : s,
    );
    const [finding] = bridgeMissingOnNode.detect({ ...snapshot, vmi, nodeNetworkStates: states });
    expect(finding?.confidence).toBe("medium");
    expect(finding?.evidence[0]).toMatchObject({
      field: "status.currentState.interfaces[name=vlan-13].bridge.port",
      text: "vlan-13 has no uplink port",
    });
  });

  it("a failed migration's target node without the bridge, while the VM stays where it has it", async () => {
    const snapshot = await fixtureSnapshot(id, "near-miss-back-on-node-2");
    const last = structuredClone(snapshot.migrations.at(-1));
    if (!last?.status?.migrationState) throw new Error("the fixture has a migration");
    last.status.phase = "Failed";
    last.status.migrationState.targetNode = "node-3";
    const findings = bridgeMissingOnNode.detect({
      ...snapshot,
      migrations: [...snapshot.migrations.slice(0, -1), last],
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.summary).toContain(`The target pod of ${last.metadata.name} was placed on node-3`);
    expect(findings[0]?.fix.commands).toContain("kvmig cancel web-13 -n vlan");
  });
});
