// The `kind` scenario: the simulated twin of the cluster scripts/kind/up.sh builds, which the
// portable end-to-end suite (test/portable) runs against by default. It mirrors what real
// KubeVirt does with those VMs: a bridge binding on a Multus network is live-migratable.
import { describe, expect, it } from "vitest";
import { loadScenario } from "../../src/sim/scenario.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const { data, faults, description } = loadScenario("kind", { seed: 42, now: Date.UTC(2026, 10, 1) });
const ofKind = (kind: string) => data.objects.filter((o) => o.kind === kind) as Any[];
const named = (kind: string, name: string) => ofKind(kind).find((o) => o.metadata.name === name);

describe("the kind scenario", () => {
  it("says what it is, in one line", () => {
    expect(description).toBe(
      "what scripts/kind/up.sh deploys (kind nodes, Multus bridges vlan-12/vlan-13, vm-masq and vm-bridge in kvmig-e2e)",
    );
  });

  it("has kind's nodes: a tainted control plane that takes no VMs, two workers", () => {
    const nodes = ofKind("Node");
    expect(nodes.map((n) => n.metadata.name)).toEqual([
      "kvmig-control-plane",
      "kvmig-worker",
      "kvmig-worker2",
    ]);
    const plane = named("Node", "kvmig-control-plane");
    expect(plane.metadata.labels["kubevirt.io/schedulable"]).toBe("false");
    expect(plane.spec.taints).toContainEqual({
      key: "node-role.kubernetes.io/control-plane",
      effect: "NoSchedule",
    });
    for (const worker of ["kvmig-worker", "kvmig-worker2"]) {
      expect(named("Node", worker).metadata.labels["kubevirt.io/schedulable"]).toBe("true");
    }
  });

  it("runs vm-masq and vm-bridge, both live-migratable (vm-bridge's bridge binding is on Multus vlan-13)", () => {
    const vmis = ofKind("VirtualMachineInstance");
    expect(vmis.map((v) => [v.metadata.namespace, v.metadata.name, v.status.phase])).toEqual([
      ["kvmig-e2e", "vm-masq", "Running"],
      ["kvmig-e2e", "vm-bridge", "Running"],
    ]);
    for (const vmi of vmis) {
      expect(vmi.status.conditions.find((c: Any) => c.type === "LiveMigratable")?.status).toBe("True");
      expect(vmi.metadata.labels["kubevirt.io/outdatedLauncherImage"]).toBeUndefined();
    }
    const bridge = named("VirtualMachineInstance", "vm-bridge");
    expect(bridge.spec.domain.devices.interfaces).toContainEqual(
      expect.objectContaining({ name: "vlan-13", bridge: {} }),
    );
    expect(bridge.spec.networks).toContainEqual({ name: "vlan-13", multus: { networkName: "vlan-13" } });
  });

  it("is a fresh install: KubeVirt v1.9.0, nothing outdated, no history, no faults", () => {
    const kv = named("KubeVirt", "kubevirt");
    expect(kv.status.observedKubeVirtVersion).toBe("v1.9.0");
    expect(kv.status.outdatedVirtualMachineInstanceWorkloads).toBe(0);
    expect(ofKind("VirtualMachineInstanceMigration")).toEqual([]);
    expect(faults).toEqual([]);
  });
});
