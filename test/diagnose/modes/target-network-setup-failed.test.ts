import { describe, expect, it } from "vitest";
import { targetNetworkSetupFailed } from "../../../src/diagnose/modes/target-network-setup-failed.js";
import { targetPodFailed } from "../../../src/diagnose/modes/target-pod-failed.js";
import { targetPodUnschedulable } from "../../../src/diagnose/modes/target-pod-unschedulable.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Event, Node, Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import {
  emptySnapshot,
  fixtureSnapshot,
  type HitExpectation,
  testRuleFixtures,
} from "../../helpers/diagnose.js";

const id = "target-network-setup-failed";

const hits: Record<string, HitExpectation> = {
  "kube-ovn-6220-ovs-port-not-ready": {
    severity: "error",
    confidence: "high",
    evidence:
      "configure nic pod47c8e816dc4 for pod vm1/cilium-kube-ovn-test failed: ovs interface e19e7_47c8e81_h is not ready after 30s",
    command: "kubectl describe pod virt-launcher-vm1-c4c8h -n cilium-kube-ovn-test",
  },
  "kube-ovn-6823-primary-cni-stuck": {
    severity: "error",
    confidence: "high",
    evidence: "ovs interface 4c1f0e9d8c7b_h is not ready after 30s",
    command: "kubectl get pods -A -o wide --field-selector spec.nodeName=node-b",
  },
};

describe("target-network-setup-failed on fixtures", () => {
  testRuleFixtures(targetNetworkSetupFailed, hits, {
    hitTitle: (name) => `fires on ${name}, and the other target-pod rules do not`,
    silent: [targetPodUnschedulable, targetPodFailed],
  });
  it("offers a node other than the failing one", async () => {
    const [f] = targetNetworkSetupFailed.detect(
      await fixtureSnapshot(id, "kube-ovn-6220-ovs-port-not-ready"),
    );
    expect(f?.fix.commands).toContain("kvmig migrate vm1 -n cilium-kube-ovn-test --target-node k8s-worker-3");
    expect(f?.fix.commands).toContain("kvmig cancel vm1 -n cilium-kube-ovn-test");
  });
});

// What the simulated cluster's targetNetworkSetup fault writes (src/sim/controllers/pods.ts).
function simSnapshot(parts: Partial<Snapshot> = {}): Snapshot {
  const vmim: VirtualMachineInstanceMigration = {
    metadata: {
      name: "kubevirt-migrate-vm-9xk2p",
      namespace: "demo",
      uid: "m-7",
      creationTimestamp: "2024-05-01T12:00:00Z",
    },
    spec: { vmiName: "win-app" },
    status: { phase: "Scheduling" },
  };
  const pod: Pod = {
    metadata: {
      name: "virt-launcher-win-app-7hx2k",
      namespace: "demo",
      uid: "p-7",
      labels: { "kubevirt.io/migrationJobUID": "m-7" },
    },
    spec: { nodeName: "node-3" },
    status: {
      phase: "Pending",
      containerStatuses: [
        { name: "compute", ready: false, state: { waiting: { reason: "ContainerCreating" } } },
      ],
    },
  };
  const sandbox: Event = {
    metadata: { name: "s1", namespace: "demo" },
    involvedObject: { kind: "Pod", name: "virt-launcher-win-app-7hx2k", namespace: "demo" },
    reason: "FailedCreatePodSandBox",
    type: "Warning",
    message:
      'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "0a1b2c": plugin type="multus-shim" name="multus-cni-network" failed (add): [demo/virt-launcher-win-app-7hx2k/p-7:vlan-13]: error adding container to network "vlan-13": failed to find bridge br-vlan-13',
    lastTimestamp: "2024-05-01T12:01:00Z",
    count: 3,
  };
  const nodes: Node[] = ["node-1", "node-2", "node-3"].map((name) => ({
    metadata: { name },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  }));
  return emptySnapshot({
    source: "live",
    takenAt: "2024-05-01T12:02:00Z",
    namespace: "demo",
    vmName: "win-app",
    vmi: {
      metadata: { name: "win-app", namespace: "demo" },
      spec: {},
      status: { phase: "Running", nodeName: "node-2" },
    },
    migrations: [vmim],
    pods: [pod],
    events: [sandbox],
    nodes,
    ...parts,
  });
}

describe("what the simulator writes", () => {
  it("names the missing bridge, the network and the node", () => {
    const [f] = targetNetworkSetupFailed.detect(simSnapshot());
    expect(f?.summary).toContain("the bridge br-vlan-13 for network vlan-13 does not exist on node-3");
    expect(f?.fix.commands).toContain("kubectl get network-attachment-definitions vlan-13 -n demo -o yaml");
    expect(f?.fix.commands).toContain("kvmig migrate win-app -n demo --target-node node-1");
  });

  it("has medium confidence once the pod is gone, and says so", () => {
    const s = simSnapshot();
    const timeout: Event = {
      metadata: { name: "t1", namespace: "demo" },
      involvedObject: {
        kind: "VirtualMachineInstanceMigration",
        name: "kubevirt-migrate-vm-9xk2p",
        namespace: "demo",
      },
      reason: "SuccessfulDelete",
      type: "Normal",
      message: "pending pod demo/virt-launcher-win-app-7hx2k timeout period exceeded",
      lastTimestamp: "2024-05-01T12:15:01Z",
    };
    const failed = {
      ...s.migrations[0],
      status: { phase: "Failed" as const },
    } as VirtualMachineInstanceMigration;
    const [f] = targetNetworkSetupFailed.detect({
      ...s,
      pods: [],
      migrations: [failed],
      events: [...s.events, timeout],
    });
    expect(f?.confidence).toBe("medium");
    expect(f?.notChecked?.some((n) => n.includes("deleted"))).toBe(true);
    expect(f?.summary).toContain("15-minute pending timeout");
    expect(
      targetPodFailed.detect({ ...s, pods: [], migrations: [failed], events: [...s.events, timeout] }),
    ).toEqual([]);
  });

  it("is lower again when events were incomplete", () => {
    const [f] = targetNetworkSetupFailed.detect(
      simSnapshot({ missing: [{ what: "events in demo", why: "forbidden" }] }),
    );
    expect(f?.confidence).toBe("medium");
  });
});

describe("target-network-setup-failed from state alone (no sandbox event)", () => {
  const uid = "c1c1c1c1-0000-4000-8000-000000000001";
  const migration: VirtualMachineInstanceMigration = {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: "kubevirt-migrate-vm-s1",
      namespace: "demo",
      uid,
      creationTimestamp: "2026-01-01T10:00:00Z",
    },
    spec: { vmiName: "app" },
    status: {
      phase: "Scheduling",
      phaseTransitionTimestamps: [{ phase: "Scheduling", phaseTransitionTimestamp: "2026-01-01T10:00:01Z" }],
    },
  };
  const target = (waiting: string, extra: Partial<NonNullable<Pod["status"]>> = {}): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "virt-launcher-app-t1",
      namespace: "demo",
      creationTimestamp: "2026-01-01T10:00:01Z",
      labels: { "kubevirt.io/migrationJobUID": uid },
    },
    spec: { nodeName: "node-2", containers: [{ name: "compute", image: "virt-launcher:v1" }] },
    status: {
      phase: "Pending",
      conditions: [{ type: "Ready", status: "False" }],
      containerStatuses: [
        {
          name: "compute",
          ready: false,
          restartCount: 0,
          image: "",
          imageID: "",
          state: { waiting: { reason: waiting } },
        },
      ],
      ...extra,
    } as NonNullable<Pod["status"]>,
  });
  const at = (takenAt: string, pod: Pod, events: Event[] = []): Snapshot =>
    emptySnapshot({
      takenAt,
      namespace: "demo",
      vmName: "app",
      migrations: [migration],
      pods: [pod],
      events,
    });

  it("fires at low confidence once the pod has waited five minutes on its node, and not before", () => {
    expect(targetNetworkSetupFailed.detect(at("2026-01-01T10:05:00Z", target("ContainerCreating")))).toEqual(
      [],
    );
    const [f] = targetNetworkSetupFailed.detect(at("2026-01-01T10:05:01Z", target("ContainerCreating")));
    expect(f?.confidence).toBe("low");
    expect(f?.summary).toContain(
      "was placed on node-2 but has not started: it has waited 5 min without starting a container",
    );
    expect(f?.evidence.map((e) => e.text)).toEqual([
      "phase Pending on node node-2, containers waiting: ContainerCreating",
      "placed on node-2 5 min before the snapshot; no container has started, and no events were in the snapshot to say why",
    ]);
    expect(f?.notChecked?.[0]).toBe(
      "the pod's events (none in the snapshot), so a volume that cannot attach or mount is not ruled out",
    );
    // With events read and none about volumes or images, that is said instead.
    const other: Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "o", namespace: "demo" },
      involvedObject: { kind: "VirtualMachineInstance", name: "app", namespace: "demo" },
      reason: "Migrating",
      type: "Normal",
      lastTimestamp: "2026-01-01T10:00:05Z",
    };
    const [g] = targetNetworkSetupFailed.detect(
      at("2026-01-01T10:05:01Z", target("ContainerCreating"), [other]),
    );
    expect(g?.evidence[1]?.text).toBe(
      "placed on node-2 5 min before the snapshot; no container has started, and no volume or image event explains the wait",
    );
    expect(g?.notChecked?.some((n) => n.startsWith("the pod's events"))).toBe(false);
    expect(f?.fix.commands).toContain(
      "kubectl get events -n demo --field-selector involvedObject.name=virt-launcher-app-t1",
    );
    expect(f?.notChecked?.join(" ")).toContain(
      "a FailedCreatePodSandBox event or CNI error naming the network (none in the snapshot)",
    );
  });

  it("an init container still waiting counts; a started one, an image pull or a volume event does not", () => {
    const later = "2026-01-01T10:09:00Z";
    expect(targetNetworkSetupFailed.detect(at(later, target("PodInitializing")))).toHaveLength(1);
    expect(targetNetworkSetupFailed.detect(at(later, target("ImagePullBackOff")))).toEqual([]);
    const mixed = target("ContainerCreating", {
      initContainerStatuses: [
        {
          name: "init",
          ready: false,
          restartCount: 0,
          image: "",
          imageID: "",
          state: { waiting: { reason: "ErrImagePull" } },
        },
      ],
    } as never);
    expect(targetNetworkSetupFailed.detect(at(later, mixed))).toEqual([]);
    const started = target("ContainerCreating", {
      initContainerStatuses: [
        { name: "init", ready: false, restartCount: 0, image: "", imageID: "", state: { running: {} } },
      ],
    } as never);
    expect(targetNetworkSetupFailed.detect(at(later, started))).toEqual([]);
    const mount: Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "m", namespace: "demo" },
      involvedObject: { kind: "Pod", name: "virt-launcher-app-t1", namespace: "demo" },
      reason: "FailedMount",
      type: "Warning",
      lastTimestamp: "2026-01-01T10:03:00Z",
    };
    expect(targetNetworkSetupFailed.detect(at(later, target("ContainerCreating"), [mount]))).toEqual([]);
    const unplaced = target("ContainerCreating");
    unplaced.spec = { containers: [] };
    expect(targetNetworkSetupFailed.detect(at(later, unplaced))).toEqual([]);
  });
});
