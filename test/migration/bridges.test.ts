// The bridge networks' pre-flight (issue 23 item 1): a NAD's bridge CNI config, a node's
// NodeNetworkState against it, and the verdict over the nodes a VM's target pod may go to.
import { describe, expect, it } from "vitest";
import type {
  NetworkAttachmentDefinition,
  NmstateInterface,
  Node,
  NodeNetworkState,
  VirtualMachine,
  VirtualMachineInstance,
} from "../../src/k8s/types.js";
import {
  type BridgeNetwork,
  bridgeConfigOf,
  bridgeGapOn,
  bridgeGaps,
  bridgeNetworksOf,
  bulkBridgeWarnings,
  gapText,
  nmstateUnreadable,
} from "../../src/migration/bridges.js";
import { checkBridges, type PreflightInput, preflight } from "../../src/migration/preflight.js";

const nad = (name: string, config: object | string, namespace = "vlan"): NetworkAttachmentDefinition => ({
  metadata: { name, namespace },
  spec: { config: typeof config === "string" ? config : JSON.stringify(config) },
});

const bridgeIface = (
  name: string,
  ports: NmstateInterface["bridge"] extends infer B ? B : never,
  state = "up",
): NmstateInterface => ({
  name,
  type: "linux-bridge",
  state,
  ...(ports ? { bridge: ports } : {}),
});

function nns(node: string, interfaces: NmstateInterface[]): NodeNetworkState {
  return { metadata: { name: node }, status: { currentState: { interfaces } } };
}

/** A node with the bridge `name` up on the VLAN uplink eth1.<n>. */
function withBridge(node: string, ...bridges: string[]): NodeNetworkState {
  return nns(node, [
    { name: "eth1", type: "ethernet", state: "up" },
    ...bridges.flatMap((b, i) => [
      { name: `eth1.${i + 10}`, type: "vlan", state: "up" },
      bridgeIface(b, { port: [{ name: `eth1.${i + 10}` }] }),
    ]),
  ]);
}

const net13: BridgeNetwork = { network: "vlan-13", nad: "vlan/vlan-13", bridge: "vlan-13" };

describe("bridgeConfigOf", () => {
  it("reads the bridge plugin's bridge, vlan, vlanTrunk and IPAM type", () => {
    expect(
      bridgeConfigOf(
        nad("a", {
          type: "bridge",
          bridge: "br1",
          vlan: 13,
          vlanTrunk: [{ id: 20 }, { minID: 30, maxID: 32 }],
          ipam: { type: "whereabouts" },
        }),
      ),
    ).toEqual({ bridge: "br1", vlan: 13, vlanTrunk: [20, 30, 31, 32], ipam: "whereabouts" });
  });

  it("finds the bridge plugin in a conflist, defaults the bridge to cni0, and ignores empty IPAM", () => {
    expect(bridgeConfigOf(nad("a", { plugins: [{ type: "bridge", ipam: {} }, { type: "tuning" }] }))).toEqual(
      {
        bridge: "cni0",
        vlan: undefined,
        vlanTrunk: undefined,
        ipam: undefined,
      },
    );
  });

  it("is undefined for another CNI, a config that is not JSON, or none", () => {
    expect(bridgeConfigOf(nad("a", { type: "macvlan", master: "eth1" }))).toBeUndefined();
    expect(bridgeConfigOf(nad("a", "{not json"))).toBeUndefined();
    expect(bridgeConfigOf(nad("a", "null"))).toBeUndefined();
    expect(bridgeConfigOf({ metadata: { name: "a" } })).toBeUndefined();
  });
});

describe("bridgeNetworksOf", () => {
  it("keeps the Multus networks whose NAD is a bridge, in this namespace or the one named", () => {
    const nads = [
      nad("vlan-13", { type: "bridge", bridge: "vlan-13" }),
      nad("ext", { type: "bridge", bridge: "br-ext", vlan: 5 }, "infra"),
      nad("mac", { type: "macvlan" }),
    ];
    expect(
      bridgeNetworksOf(
        [
          { name: "default", pod: {} },
          { name: "a", multus: { networkName: "vlan-13" } },
          { name: "b", multus: { networkName: "infra/ext" } },
          { name: "c", multus: { networkName: "mac" } },
          { name: "d", multus: { networkName: "absent" } },
        ],
        nads,
        "vlan",
      ),
    ).toEqual([
      {
        network: "a",
        nad: "vlan/vlan-13",
        bridge: "vlan-13",
        vlan: undefined,
        vlanTrunk: undefined,
        ipam: undefined,
      },
      { network: "b", nad: "infra/ext", bridge: "br-ext", vlan: 5, vlanTrunk: undefined, ipam: undefined },
    ]);
  });
});

describe("bridgeGapOn", () => {
  it("is undefined when the bridge is up with an uplink port", () => {
    expect(bridgeGapOn(withBridge("node-1", "vlan-13"), net13)).toBeUndefined();
  });

  it("names the field that shows a missing bridge, one of another type, one down, one without an uplink", () => {
    expect(bridgeGapOn(withBridge("node-3", "vlan-12"), net13)).toEqual({
      node: "node-3",
      bridge: "vlan-13",
      network: "vlan-13",
      field: "status.currentState.interfaces",
      text: "no interface vlan-13",
    });
    expect(bridgeGapOn(nns("n", [{ name: "vlan-13", type: "ovs-bridge", state: "up" }]), net13)?.text).toBe(
      "vlan-13 is ovs-bridge, not linux-bridge",
    );
    const down = bridgeGapOn(nns("n", [bridgeIface("vlan-13", { port: [{ name: "eth1" }] }, "down")]), net13);
    expect(down).toMatchObject({
      field: "status.currentState.interfaces[name=vlan-13].state",
      text: "vlan-13 is down, not up",
    });
    // What the bridge CNI leaves behind when it creates the bridge itself: only pods' veths.
    const vethOnly = nns("n", [
      bridgeIface("vlan-13", { port: [{ name: "veth1a2b" }, { name: "vethpod" }] }),
      { name: "vethpod", type: "veth", state: "up" },
    ]);
    expect(bridgeGapOn(vethOnly, net13)).toMatchObject({
      field: "status.currentState.interfaces[name=vlan-13].bridge.port",
      text: "vlan-13 has no uplink port",
    });
    expect(bridgeGapOn(nns("n", [bridgeIface("vlan-13", undefined)]), net13)?.text).toBe(
      "vlan-13 has no uplink port",
    );
  });

  it("checks the VLAN filtering a NAD with vlan or vlanTrunk needs on the uplink", () => {
    const trunk = (tags: object[], extra: object = {}) =>
      nns("n", [
        { name: "eth1", type: "ethernet" },
        bridgeIface("br1", {
          port: [{ name: "eth1", vlan: { mode: "trunk", "trunk-tags": tags as never, ...extra } }],
        }),
      ]);
    const vlan13 = { ...net13, bridge: "br1", vlan: 13 };
    expect(bridgeGapOn(trunk([{ id: 13 }]), vlan13)).toBeUndefined();
    expect(bridgeGapOn(trunk([{ "id-range": { min: 10, max: 20 } }]), vlan13)).toBeUndefined();
    expect(bridgeGapOn(trunk([], { tag: 13, "enable-native": true }), vlan13)).toBeUndefined();
    expect(bridgeGapOn(trunk([{ id: 12 }]), vlan13)).toEqual({
      node: "n",
      bridge: "br1",
      network: "vlan-13",
      field: "status.currentState.interfaces[name=br1].bridge.port[].vlan",
      text: "no uplink of br1 carries VLAN 13 (eth1)",
    });
    expect(bridgeGapOn(trunk([{ id: 13 }]), { ...vlan13, vlanTrunk: [20, 21, 22, 23] })?.text).toBe(
      "no uplink of br1 carries VLAN 20, 21, 22, ... (eth1)",
    );
    const access = nns("n", [
      bridgeIface("br1", { port: [{ name: "eth1", vlan: { mode: "access", tag: 13 } }] }),
    ]);
    expect(bridgeGapOn(access, vlan13)).toBeUndefined();
    // An uplink without VLAN filtering does not carry a tagged VLAN the pod's port asks for.
    expect(bridgeGapOn(withBridge("n", "br1"), vlan13)?.text).toBe(
      "no uplink of br1 carries VLAN 13 (eth1.10)",
    );
  });
});

describe("bridgeGaps and its texts", () => {
  it("groups the gaps by node and lists the nodes without a NodeNetworkState", () => {
    const { gaps, unreported } = bridgeGaps(
      [net13],
      [withBridge("node-1", "vlan-13"), withBridge("node-3")],
      ["node-1", "node-3", "node-4"],
    );
    expect([...gaps.keys()]).toEqual(["node-3"]);
    expect(gapText((gaps.get("node-3") ?? [])[0] as never)).toBe(
      "NodeNetworkState node-3 status.currentState.interfaces: no interface vlan-13",
    );
    expect(unreported).toEqual(["node-4"]);
  });

  it("says why the states could not be read", () => {
    expect(nmstateUnreadable(404, "the server could not find the requested resource")).toBe(
      "kubernetes-nmstate is not installed (no nmstate.io/v1beta1 NodeNetworkState API)",
    );
    expect(nmstateUnreadable(403, "forbidden")).toBe("not allowed to list nodenetworkstates.nmstate.io");
    expect(nmstateUnreadable(500, "etcd timeout")).toBe(
      "NodeNetworkStates could not be listed: etcd timeout",
    );
  });
});

// The pre-flight verdict: web-13 on node-1, nodes 1-3 schedulable, node-3 without vlan-13.
const schedulable = (name: string): Node => ({
  metadata: { name, labels: { "kubernetes.io/hostname": name, "kubevirt.io/schedulable": "true" } },
  spec: {},
  status: { conditions: [{ type: "Ready", status: "True" }] },
});
const networks = [
  { name: "default", pod: {} },
  { name: "vlan-13", multus: { networkName: "vlan-13" } },
];
const vm: VirtualMachine = {
  metadata: { name: "web-13", namespace: "vlan" },
  spec: { template: { spec: { networks } } },
};
const vmi: VirtualMachineInstance = {
  metadata: { name: "web-13", namespace: "vlan", uid: "u1" },
  spec: { networks },
  status: { phase: "Running", nodeName: "node-1" },
};

function input(overrides: Partial<PreflightInput> = {}): PreflightInput {
  return {
    namespace: "vlan",
    vmName: "web-13",
    vm,
    vmi,
    migrations: [],
    nodes: ["node-1", "node-2", "node-3"].map(schedulable),
    pods: [],
    nads: [nad("vlan-13", { type: "bridge", bridge: "vlan-13" })],
    nodeNetworkStates: [
      withBridge("node-1", "vlan-13"),
      withBridge("node-2", "vlan-13"),
      withBridge("node-3", "vlan-12"),
    ],
    clusterMigrations: [],
    access: { allowed: true },
    accessDescription: "update virtualmachines/migrate",
    ...overrides,
  };
}

describe("checkBridges", () => {
  it("is left out for a VM without bridge networks", () => {
    expect(checkBridges(input({ nads: [nad("vlan-13", { type: "macvlan" })] }))).toBeUndefined();
    expect(preflight(input({ nads: [] })).map((v) => v.check)).not.toContain("bridges");
  });

  it("an error naming the bridge, the node and the field when --target-node lacks it; the hint names a node that has it", () => {
    expect(checkBridges(input({ targetNode: "node-3" }))).toEqual({
      check: "bridges",
      status: "error",
      message:
        "target node node-3 lacks bridge vlan-13: NodeNetworkState node-3 status.currentState.interfaces: no interface vlan-13; the VM would lose its network there",
      hint: "pick a node that has it: --target-node node-2; or configure it there with a NodeNetworkConfigurationPolicy (kubectl get nncp shows the existing ones)",
    });
  });

  it("ok for a --target-node that has it", () => {
    expect(checkBridges(input({ targetNode: "node-2" }))).toEqual({
      check: "bridges",
      status: "ok",
      message: "bridge vlan-13 up with an uplink on target node node-2",
    });
  });

  it("a warning naming the nodes the scheduler may pick that lack it, and a node to pin", () => {
    expect(checkBridges(input())).toEqual({
      check: "bridges",
      status: "warning",
      message:
        "node-3 lacks bridge vlan-13 (NodeNetworkState node-3 status.currentState.interfaces: no interface vlan-13); the scheduler may pick it",
      hint: "pin a node that has vlan-13: --target-node node-2",
    });
  });

  it("an error when no node the VM may move to has it (a cordoned node with it does not count)", () => {
    const nodes = ["node-1", "node-2", "node-3"].map(schedulable);
    (nodes[1] as Node).spec = { unschedulable: true };
    const verdict = checkBridges(input({ nodes }));
    expect(verdict).toEqual({
      check: "bridges",
      status: "error",
      message:
        "no node the VM may move to has bridge vlan-13: NodeNetworkState node-3 status.currentState.interfaces: no interface vlan-13",
      hint: "configure it there with a NodeNetworkConfigurationPolicy (kubectl get nncp shows the existing ones)",
    });
    expect(preflight(input({ nodes })).find((v) => v.check === "bridges")?.status).toBe("error");
  });

  it("ok over every candidate, a warning for the nodes that report no state", () => {
    const states = [withBridge("node-2", "vlan-13"), withBridge("node-3", "vlan-13")];
    expect(checkBridges(input({ nodeNetworkStates: states }))).toEqual({
      check: "bridges",
      status: "ok",
      message: "bridge vlan-13 up with an uplink on node-2, node-3",
    });
    expect(checkBridges(input({ nodeNetworkStates: states.slice(0, 1) }))).toEqual({
      check: "bridges",
      status: "warning",
      message: "bridge vlan-13 up with an uplink on node-2; no NodeNetworkState for node-3",
    });
  });

  it("without NodeNetworkStates: one warning saying the bridges were not checked and why", () => {
    const verdict = checkBridges(
      input({ nodeNetworkStates: undefined, nodeNetworkStatesUnread: nmstateUnreadable(404, "not found") }),
    );
    expect(verdict).toEqual({
      check: "bridges",
      status: "warning",
      message:
        "bridge vlan-13 not checked on the nodes: kubernetes-nmstate is not installed (no nmstate.io/v1beta1 NodeNetworkState API)",
    });
  });
});

describe("bulkBridgeWarnings (the evacuation plan)", () => {
  const vms = [
    { namespace: "vlan", vm: "web-13", networks },
    { namespace: "vlan", vm: "plain", networks: [{ name: "default", pod: {} }] },
  ];
  const nads = [nad("vlan-13", { type: "bridge", bridge: "vlan-13" })];

  it("names a VM whose bridge some candidate node lacks, with a node to pin it to", () => {
    expect(
      bulkBridgeWarnings({
        vms,
        nads,
        states: [withBridge("node-2", "vlan-13"), withBridge("node-3", "vlan-12")],
        candidates: ["node-2", "node-3"],
      }),
    ).toEqual([
      {
        severity: "warning",
        message:
          "vlan/web-13: node-3 lacks bridge vlan-13 (NodeNetworkState node-3 status.currentState.interfaces: no interface vlan-13); KubeVirt may move it there and the guest would lose its network",
        hint: "move it first to a node that has it: kvmig migrate web-13 -n vlan --target-node node-2",
      },
    ]);
  });

  it("nothing when every candidate has it or no VM has bridges; one line when the states were not read", () => {
    expect(
      bulkBridgeWarnings({ vms, nads, states: [withBridge("node-2", "vlan-13")], candidates: ["node-2"] }),
    ).toEqual([]);
    expect(
      bulkBridgeWarnings({ vms: vms.slice(1), nads, states: undefined, candidates: ["node-2"] }),
    ).toEqual([]);
    expect(
      bulkBridgeWarnings({
        vms,
        nads,
        states: undefined,
        statesUnread: nmstateUnreadable(404, ""),
        candidates: ["node-2"],
      }),
    ).toEqual([
      {
        severity: "warning",
        message:
          "the bridges of vlan/web-13 were not checked on the other nodes: kubernetes-nmstate is not installed (no nmstate.io/v1beta1 NodeNetworkState API)",
      },
    ]);
    expect(
      bulkBridgeWarnings({ vms, nads, states: [withBridge("node-3")], candidates: ["node-3"] })[0]?.hint,
    ).toBe("configure the bridge on those nodes with a NodeNetworkConfigurationPolicy first");
  });
});
