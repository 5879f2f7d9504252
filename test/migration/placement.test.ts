// Where a migration's target pod can land: the target pod as virt-controller renders it (the
// launcher pod's selector, KubeVirt's host-model and vendor keys, the migration's added selector),
// then each node in kube-scheduler's filter order with one reason per refused node.
import { describe, expect, it } from "vitest";
import type { KubeVirt, Node, Pod, Taint, VirtualMachineInstance } from "../../src/k8s/types.js";
import { type PlacementInput, placeTargetPod, requirementText } from "../../src/migration/placement.js";
import { podRequests, targetPodOf } from "../../src/migration/target-pod.js";

const GiB = 2 ** 30;

interface NodeOptions {
  labels?: Record<string, string>;
  taints?: Taint[];
  cordoned?: boolean;
  ready?: boolean;
  allocatable?: Record<string, string>;
}

function node(name: string, options: NodeOptions = {}): Node {
  return {
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": name, "kubevirt.io/schedulable": "true", ...options.labels },
    },
    spec: {
      ...(options.cordoned ? { unschedulable: true } : {}),
      ...(options.taints ? { taints: options.taints } : {}),
    },
    status: {
      conditions: [{ type: "Ready", status: options.ready === false ? "Unknown" : "True" }],
      ...(options.allocatable ? { allocatable: options.allocatable } : {}),
    },
  };
}

function vmi(spec: Record<string, unknown> = {}, nodeName = "node-1"): VirtualMachineInstance {
  return {
    metadata: { name: "db", namespace: "prod", uid: "vmi-uid" },
    spec: spec as VirtualMachineInstance["spec"],
    status: { phase: "Running", nodeName },
  };
}

function pod(
  name: string,
  nodeName: string,
  requests: Record<string, string>,
  extra: { labels?: Record<string, string>; spec?: Record<string, unknown>; phase?: string } = {},
): Pod {
  return {
    metadata: { name, namespace: "prod", ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      nodeName,
      containers: [{ name: "compute", resources: { requests } }],
      ...extra.spec,
    } as unknown as Pod["spec"],
    status: { phase: (extra.phase ?? "Running") as "Running" },
  };
}

function place(overrides: Partial<PlacementInput> & { nodes: Node[] }) {
  return placeTargetPod({ vmi: vmi(), pods: [], ...overrides });
}

/** node → reason, the fitting ones as "fits". */
function verdicts(input: Partial<PlacementInput> & { nodes: Node[] }): Record<string, string> {
  const placement = place(input);
  return Object.fromEntries([
    ...placement.refusals.map((r) => [r.node, r.reason]),
    ...placement.fits.map((n) => [n, "fits"]),
  ]);
}

describe("placeTargetPod: one reason per node", () => {
  it("never places the target beside its source", () => {
    expect(verdicts({ nodes: [node("node-1"), node("node-2")] })).toEqual({
      "node-1": "the source node",
      "node-2": "fits",
    });
  });

  it("refuses cordoned and not Ready nodes, unless the pod tolerates the cordon", () => {
    const nodes = [node("node-1"), node("node-2", { cordoned: true }), node("node-3", { ready: false })];
    expect(verdicts({ nodes })).toEqual({
      "node-1": "the source node",
      "node-2": "cordoned",
      "node-3": "not Ready",
    });
    const tolerant = vmi({
      tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
    });
    expect(verdicts({ vmi: tolerant, nodes })["node-2"]).toBe("fits");
  });

  it("refuses a NoSchedule or NoExecute taint the pod does not tolerate; PreferNoSchedule never", () => {
    const gpu: Taint = { key: "dedicated", value: "gpu", effect: "NoSchedule" };
    const nodes = [
      node("node-1"),
      node("node-2", { taints: [gpu] }),
      node("node-3", { taints: [{ key: "maintenance", effect: "NoExecute" }] }),
      node("node-4", { taints: [{ key: "spot", value: "true", effect: "PreferNoSchedule" }] }),
    ];
    expect(verdicts({ nodes })).toEqual({
      "node-1": "the source node",
      "node-2": "taint dedicated=gpu:NoSchedule not tolerated",
      "node-3": "taint maintenance:NoExecute not tolerated",
      "node-4": "fits",
    });
    // Equal needs the value; Exists takes any value; another effect does not count; an empty
    // key with Exists tolerates everything.
    const tolerating = (tolerations: unknown[]) => verdicts({ vmi: vmi({ tolerations }), nodes })["node-2"];
    expect(tolerating([{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }])).toBe(
      "fits",
    );
    expect(tolerating([{ key: "dedicated", value: "cpu" }])).toBe(
      "taint dedicated=gpu:NoSchedule not tolerated",
    );
    expect(tolerating([{ key: "dedicated", operator: "Exists" }])).toBe("fits");
    expect(tolerating([{ key: "dedicated", operator: "Exists", effect: "NoExecute" }])).toBe(
      "taint dedicated=gpu:NoSchedule not tolerated",
    );
    expect(tolerating([{ operator: "Exists" }])).toBe("fits");
  });

  it("refuses a node without the VM's nodeSelector labels, naming the label and whose it is", () => {
    const nodes = [
      node("node-1", { labels: { zone: "east" } }),
      node("node-2", { labels: { zone: "west" } }),
      node("node-3"),
      node("node-4", { labels: { zone: "east" } }),
    ];
    expect(verdicts({ vmi: vmi({ nodeSelector: { zone: "east" } }), nodes })).toEqual({
      "node-1": "the source node",
      "node-2": "lacks label zone=east (nodeSelector)",
      "node-3": "lacks label zone=east (nodeSelector)",
      "node-4": "fits",
    });
  });

  it("needs kubevirt.io/schedulable=true, which KubeVirt puts on every launcher pod", () => {
    const nodes = [
      node("node-1"),
      node("node-2", { labels: { "kubevirt.io/schedulable": "false" } }),
      { ...node("node-3"), metadata: { name: "node-3", labels: {} } },
    ];
    expect(verdicts({ nodes })).toEqual({
      "node-1": "the source node",
      "node-2": "kubevirt.io/schedulable=false",
      "node-3": "lacks label kubevirt.io/schedulable=true (KubeVirt)",
    });
  });

  it("adds --node-selector and --target-node under the VM's own selector, whose keys win", () => {
    const nodes = [node("node-1"), node("node-2", { labels: { gpu: "a100" } }), node("node-3")];
    expect(verdicts({ nodes, addedNodeSelector: { gpu: "a100" }, addedBy: "--node-selector" })).toEqual({
      "node-1": "the source node",
      "node-2": "fits",
      "node-3": "lacks label gpu=a100 (--node-selector)",
    });
    expect(
      verdicts({
        nodes,
        addedNodeSelector: { "kubernetes.io/hostname": "node-3" },
        addedBy: "--target-node",
      }),
    ).toMatchObject({
      "node-2": "lacks label kubernetes.io/hostname=node-3 (--target-node)",
      "node-3": "fits",
    });
    // KubeVirt copies the added selector first and the template over it.
    const pinned = vmi({ nodeSelector: { gpu: "h100" } });
    expect(
      verdicts({ vmi: pinned, nodes, addedNodeSelector: { gpu: "a100" }, addedBy: "--node-selector" })[
        "node-2"
      ],
    ).toBe("lacks label gpu=h100 (nodeSelector)");
  });

  it("reads the launcher pod's selector, but not a key a former migration added to it", () => {
    // The VM moved to node-2 with --target-node node-2: its launcher pod keeps that key; the
    // next target pod, rendered from the VMI, does not.
    const launcher = pod(
      "virt-launcher-db-abcde",
      "node-2",
      {},
      {
        spec: {
          nodeSelector: {
            "kubernetes.io/hostname": "node-2",
            "kubevirt.io/schedulable": "true",
            "machine-type.node.kubevirt.io/q35": "true",
          },
        },
      },
    );
    const nodes = [
      node("node-1", { labels: { "machine-type.node.kubevirt.io/q35": "true" } }),
      node("node-2", { labels: { "machine-type.node.kubevirt.io/q35": "true" } }),
      node("node-3"),
    ];
    expect(verdicts({ vmi: vmi({}, "node-2"), launcherPod: launcher, nodes })).toEqual({
      "node-1": "fits",
      "node-2": "the source node",
      "node-3": "lacks label machine-type.node.kubevirt.io/q35=true (KubeVirt)",
    });
  });

  it("requires a named CPU model's label, from the launcher pod or else from the VMI", () => {
    const model = { "cpu-model.node.kubevirt.io/Skylake-Server": "true" };
    const nodes = [node("node-1", { labels: model }), node("node-2"), node("node-3", { labels: model })];
    const named = vmi({ domain: { cpu: { model: "Skylake-Server" } } });
    const expected = {
      "node-1": "the source node",
      "node-2": "lacks label cpu-model.node.kubevirt.io/Skylake-Server=true (CPU model Skylake-Server)",
      "node-3": "fits",
    };
    expect(verdicts({ vmi: named, nodes })).toEqual(expected);
    const launcher = pod("virt-launcher-db-x", "node-1", {}, { spec: { nodeSelector: { ...model } } });
    expect(verdicts({ vmi: named, launcherPod: launcher, nodes })).toEqual(expected);
  });
});

describe("placeTargetPod: a host-model CPU", () => {
  const hostModel = vmi({ domain: { cpu: { model: "host-model" } } });
  const icelake = {
    "host-model-cpu.node.kubevirt.io/Icelake-Server": "true",
    "host-model-required-features.node.kubevirt.io/vmx": "true",
    "cpu-model-migration.node.kubevirt.io/Icelake-Server": "true",
    "cpu-feature.node.kubevirt.io/vmx": "true",
  };
  const cascadelake = {
    "host-model-cpu.node.kubevirt.io/Cascadelake-Server": "true",
    "cpu-model-migration.node.kubevirt.io/Cascadelake-Server": "true",
    "cpu-feature.node.kubevirt.io/vmx": "true",
  };

  it("needs the source node's host model (cpu-model-migration) and its required features", () => {
    const nodes = [
      node("node-1", { labels: icelake }),
      node("node-2", { labels: cascadelake }),
      node("node-3", { labels: { "cpu-model-migration.node.kubevirt.io/Icelake-Server": "true" } }),
      node("node-4", { labels: icelake }),
    ];
    expect(verdicts({ vmi: hostModel, nodes })).toEqual({
      "node-1": "the source node",
      "node-2":
        "lacks label cpu-model-migration.node.kubevirt.io/Icelake-Server=true (host-model CPU of node-1)",
      "node-3": "lacks label cpu-feature.node.kubevirt.io/vmx=true (host-model CPU of node-1)",
      "node-4": "fits",
    });
  });

  it("keeps the keys of the VM's first node once it has migrated (KubeVirt copies them from the source pod)", () => {
    const launcher = pod(
      "virt-launcher-db-x",
      "node-2",
      {},
      {
        spec: { nodeSelector: { "cpu-model-migration.node.kubevirt.io/Cascadelake-Server": "true" } },
      },
    );
    const nodes = [node("node-1", { labels: cascadelake }), node("node-2", { labels: icelake })];
    expect(
      verdicts({
        vmi: vmi({ domain: { cpu: { model: "host-model" } } }, "node-2"),
        launcherPod: launcher,
        nodes,
      }),
    ).toEqual({
      "node-1": "fits",
      "node-2": "the source node",
    });
  });

  it("is blocked when the source node has no host-model label: KubeVirt renders no target pod", () => {
    const placement = place({ vmi: hostModel, nodes: [node("node-1"), node("node-2", { labels: icelake })] });
    expect(placement.blocker).toBe(
      "the source node node-1 has no host-model-cpu.node.kubevirt.io/<model> label, so KubeVirt cannot render the target pod of a host-model CPU",
    );
  });

  it("keeps a host-model VM off nodes whose host model is obsolete (affinity, from the VMI)", () => {
    const nodes = [
      node("node-1", { labels: icelake }),
      node("node-2", { labels: { ...icelake, "node-labeller.kubevirt.io/obsolete-host-model": "true" } }),
    ];
    expect(verdicts({ vmi: hostModel, nodes })["node-2"]).toBe(
      "its host CPU model is obsolete (host-model CPU)",
    );
  });

  it("adds the source node's CPU vendor since KubeVirt v1.8, not before", () => {
    const intel = { ...icelake, "cpu-vendor.node.kubevirt.io/Intel": "true" };
    const amd = { ...icelake, "cpu-vendor.node.kubevirt.io/AMD": "true" };
    const nodes = [node("node-1", { labels: intel }), node("node-2", { labels: amd })];
    const version = (v: string): KubeVirt => ({
      metadata: { name: "kubevirt" },
      spec: {},
      status: { observedKubeVirtVersion: v },
    });
    expect(verdicts({ vmi: hostModel, nodes, kubevirt: version("v1.8.0") })["node-2"]).toBe(
      "lacks label cpu-vendor.node.kubevirt.io/Intel=true (CPU vendor of node-1)",
    );
    expect(verdicts({ vmi: hostModel, nodes, kubevirt: version("v1.7.2") })["node-2"]).toBe("fits");
  });
});

describe("placeTargetPod: node affinity", () => {
  const nodes = [
    node("node-1", { labels: { zone: "a", cores: "8" } }),
    node("node-2", { labels: { zone: "b", cores: "16", gpu: "" } }),
    node("node-3", { labels: { zone: "c", cores: "4" } }),
  ];
  const required = (...terms: unknown[]) =>
    vmi({
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
      },
    });

  it.each([
    [{ key: "zone", operator: "In", values: ["b"] }, "fails required node affinity zone in (b)"],
    [{ key: "zone", operator: "NotIn", values: ["c"] }, "fails required node affinity zone notin (c)"],
    [{ key: "gpu", operator: "Exists" }, "fails required node affinity gpu"],
    [{ key: "gpu", operator: "DoesNotExist" }, "fits"],
    [{ key: "cores", operator: "Gt", values: ["8"] }, "fails required node affinity cores>8"],
    [{ key: "cores", operator: "Lt", values: ["8"] }, "fits"],
  ])("%j on node-3: %s", (expression, reason) => {
    expect(verdicts({ vmi: required({ matchExpressions: [expression] }), nodes })["node-3"]).toBe(reason);
  });

  it("reads matchFields metadata.name, ORs the terms, and an empty term matches nothing", () => {
    const byName = { matchFields: [{ key: "metadata.name", operator: "In", values: ["node-2"] }] };
    expect(verdicts({ vmi: required(byName), nodes })).toMatchObject({
      "node-2": "fits",
      "node-3": "fails required node affinity metadata.name in (node-2)",
    });
    const zoneC = { matchExpressions: [{ key: "zone", operator: "In", values: ["c"] }] };
    expect(verdicts({ vmi: required(byName, zoneC), nodes })).toMatchObject({
      "node-2": "fits",
      "node-3": "fits",
    });
    expect(
      verdicts({
        vmi: required({ matchExpressions: [{ key: "zone", operator: "In", values: ["x"] }] }, zoneC),
        nodes,
      })["node-2"],
    ).toBe("matches none of the 2 required node affinity terms");
    expect(verdicts({ vmi: required({}), nodes })["node-2"]).toBe(
      "its required node affinity term is empty, which no node matches",
    );
  });

  it("writes requirements as label selectors do", () => {
    expect(requirementText({ key: "zone", operator: "In", values: ["a", "b"] })).toBe("zone in (a,b)");
    expect(requirementText({ key: "gpu", operator: "DoesNotExist" })).toBe("!gpu");
  });
});

describe("placeTargetPod: room on the node", () => {
  const launcher = pod("virt-launcher-db-x", "node-1", {
    memory: "8Gi",
    cpu: "2",
    "devices.kubevirt.io/kvm": "1",
  });
  const room = { memory: "16Gi", cpu: "8", "devices.kubevirt.io/kvm": "1k", pods: "110" };

  it("weighs the launcher pod's requests against what the node's pods leave", () => {
    const nodes = [
      node("node-1", { allocatable: room }),
      node("node-2", { allocatable: room }),
      node("node-3", { allocatable: room }),
      node("node-4", { allocatable: { ...room, "devices.kubevirt.io/kvm": "0" } }),
      node("node-5", { allocatable: { memory: "16Gi", cpu: "8" } }),
    ];
    const pods = [
      launcher,
      pod("big", "node-2", { memory: `${Math.round(12.9 * 1024)}Mi`, cpu: "1" }),
      pod("busy", "node-3", { memory: "1Gi", cpu: "6500m" }),
      pod("done", "node-3", { memory: "8Gi" }, { phase: "Succeeded" }),
    ];
    expect(verdicts({ launcherPod: launcher, pods, nodes })).toEqual({
      "node-1": "the source node",
      "node-2": "3.1Gi memory free, needs 8Gi",
      "node-3": "1500m CPU free, needs 2",
      "node-4": "0 devices.kubevirt.io/kvm free, needs 1",
      "node-5": "0 devices.kubevirt.io/kvm free, needs 1",
    });
  });

  it("counts pods against the node's maximum", () => {
    const full = node("node-2", { allocatable: { ...room, pods: "2" } });
    const pods = [pod("a", "node-2", {}), pod("b", "node-2", {})];
    expect(verdicts({ launcherPod: launcher, pods, nodes: [node("node-1"), full] })["node-2"]).toBe(
      "runs 2 pods, its maximum",
    );
  });

  it("without the pods, compares with the whole node only and says what it did not count", () => {
    const nodes = [
      node("node-1"),
      node("node-2", { allocatable: { ...room, memory: "6Gi" } }),
      node("node-3", { allocatable: room }),
    ];
    const placement = placeTargetPod({ vmi: vmi(), launcherPod: launcher, nodes, pods: undefined });
    expect(placement.fits).toEqual(["node-3"]);
    expect(placement.refusals.find((r) => r.node === "node-2")?.reason).toBe("6Gi memory free, needs 8Gi");
    expect(placement.notes).toEqual(["what runs on the nodes was not counted: could not list pods"]);
  });

  it("falls back to the VMI's own requests when the launcher pod was not read, and says so", () => {
    const small = node("node-2", { allocatable: { ...room, memory: "4Gi" } });
    const placement = placeTargetPod({
      vmi: vmi({ domain: { memory: { guest: "6Gi" } } }),
      nodes: [node("node-1"), small],
      pods: [],
    });
    expect(placement.refusals.at(-1)?.reason).toBe("4Gi memory free, needs 6Gi");
    expect(placement.notes).toEqual([
      "the launcher pod was not read: the VMI's own requests were used, without KubeVirt's overhead",
    ]);
  });

  it("refuses a node that still runs another pod of this VMI, but not the in-flight migration's own target", () => {
    const stale = pod(
      "virt-launcher-db-old",
      "node-2",
      {},
      {
        labels: { "kubevirt.io/created-by": "vmi-uid", "kubevirt.io/migrationJobUID": "m-1" },
      },
    );
    const nodes = [node("node-1"), node("node-2")];
    expect(verdicts({ pods: [stale], nodes })["node-2"]).toBe(
      "already runs pod virt-launcher-db-old of this VM",
    );
    expect(verdicts({ pods: [stale], nodes, inFlightMigrationUid: "m-1" })["node-2"]).toBe("fits");
  });
});

describe("podRequests", () => {
  it("sums containers and sidecars, takes the peak of a plain init container, adds the overhead", () => {
    const p = pod(
      "p",
      "node-1",
      { memory: "1Gi", cpu: "500m" },
      {
        spec: {
          initContainers: [
            { name: "sidecar", restartPolicy: "Always", resources: { requests: { memory: "1Gi" } } },
            { name: "setup", resources: { requests: { memory: "3Gi", cpu: "100m" } } },
          ],
          overhead: { memory: "512Mi" },
        },
      },
    );
    // Containers 1Gi + sidecar 1Gi = 2Gi; the init step holds sidecar + 3Gi = 4Gi; + overhead.
    expect(podRequests(p)).toEqual({ memory: 4.5 * GiB, cpu: 0.5 });
  });

  it("describes what the scheduler will see of the target pod", () => {
    const target = targetPodOf({ vmi: vmi({ nodeSelector: { zone: "a" } }), nodes: [] });
    expect(target.needs).toEqual([
      { key: "zone", value: "a", from: "nodeSelector" },
      { key: "kubevirt.io/schedulable", value: "true", from: "KubeVirt" },
    ]);
    expect(target.requestsFrom).toBe("VMI");
  });
});
