// A VM's Multus bridge networks against the nodes' host networking, pure. The bridge CNI plugin
// (containernetworking/plugins, plugins/main/bridge) attaches the pod to the Linux bridge its config
// names and, when the bridge is missing on the node, creates it by itself: without an uplink, so a
// migration there succeeds and the guest silently loses its network. Where kubernetes-nmstate runs,
// each node's NodeNetworkState (status.currentState.interfaces) says whether the bridge is there,
// up, with an uplink port, and with the VLAN filtering the NAD asks for (`vlan`, `vlanTrunk`).

import type {
  Network,
  NetworkAttachmentDefinition,
  NmstateBridgePort,
  NmstateInterface,
  NodeNetworkState,
} from "../k8s/types.js";

/** What the bridge CNI config of a NAD asks of the node. */
export interface BridgeConfig {
  /** The Linux bridge (the plugin's default is cni0). */
  bridge: string;
  /** The pod's port gets this VLAN tag: the uplink must carry it (VLAN filtering). */
  vlan?: number | undefined;
  /** VLAN ids the pod's port trunks: the uplink must carry them too. */
  vlanTrunk?: number[] | undefined;
  /** The IPAM plugin's type, if any (none: the guest brings its own address). */
  ipam?: string | undefined;
}

/** One Multus network of the VM whose NAD is a bridge CNI config. */
export interface BridgeNetwork extends BridgeConfig {
  /** The network's name in the VM (spec.networks[].name). */
  network: string;
  /** The NAD, `namespace/name`. */
  nad: string;
}

interface RawBridge {
  type?: string;
  bridge?: string;
  vlan?: number;
  vlanTrunk?: { id?: number; minID?: number; maxID?: number }[];
  ipam?: { type?: string };
}

const maxTrunkIds = 4094;

function trunkIds(entries: RawBridge["vlanTrunk"]): number[] | undefined {
  if (!entries || entries.length === 0) return undefined;
  const ids = new Set<number>();
  for (const entry of entries) {
    if (entry.id !== undefined) ids.add(entry.id);
    if (entry.minID !== undefined && entry.maxID !== undefined) {
      for (let id = entry.minID; id <= Math.min(entry.maxID, maxTrunkIds); id++) ids.add(id);
    }
  }
  return [...ids].sort((a, b) => a - b);
}

/** The bridge plugin's settings of a NAD (a single plugin or a conflist); undefined for other CNIs. */
export function bridgeConfigOf(nad: NetworkAttachmentDefinition): BridgeConfig | undefined {
  let parsed: RawBridge & { plugins?: RawBridge[] };
  try {
    parsed = JSON.parse(nad.spec?.config ?? "") as RawBridge & { plugins?: RawBridge[] };
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const plugin = parsed.type === "bridge" ? parsed : parsed.plugins?.find((p) => p.type === "bridge");
  if (!plugin) return undefined;
  return {
    bridge: plugin.bridge || "cni0",
    vlan: plugin.vlan || undefined,
    vlanTrunk: trunkIds(plugin.vlanTrunk),
    ipam: plugin.ipam?.type || undefined,
  };
}

/** The VM's Multus networks that use the bridge CNI, with their NAD's settings (NADs not found left out). */
export function bridgeNetworksOf(
  networks: readonly Network[],
  nads: readonly NetworkAttachmentDefinition[],
  namespace: string,
): BridgeNetwork[] {
  const out: BridgeNetwork[] = [];
  for (const network of networks) {
    const ref = network.multus?.networkName;
    if (!ref) continue;
    const [ns, name] = ref.includes("/") ? (ref.split("/", 2) as [string, string]) : [namespace, ref];
    const nad = nads.find((n) => n.metadata.name === name && (n.metadata.namespace ?? namespace) === ns);
    const config = nad ? bridgeConfigOf(nad) : undefined;
    if (config) out.push({ network: network.name, nad: `${ns}/${name}`, ...config });
  }
  return out;
}

/** Why a node cannot carry a bridge network, with the NodeNetworkState field that shows it. */
export interface BridgeGap {
  node: string;
  bridge: string;
  network: string;
  /** The field of NodeNetworkState/<node> that shows it. */
  field: string;
  /** What it shows, e.g. "no linux-bridge vlan-13". */
  text: string;
}

function carries(port: NmstateBridgePort, id: number): boolean {
  const vlan = port.vlan;
  if (!vlan) return false;
  if (vlan.mode === "access") return vlan.tag === id;
  if (vlan.tag === id && vlan["enable-native"]) return true;
  return (vlan["trunk-tags"] ?? []).some((t) =>
    "id" in t ? t.id === id : id >= t["id-range"].min && id <= t["id-range"].max,
  );
}

const interfacesField = "status.currentState.interfaces";

/**
 * Whether the node's state has the network's bridge up with an uplink (a port that is not a pod's
 * veth) carrying the NAD's VLANs; undefined when it does, else the gap.
 */
export function bridgeGapOn(state: NodeNetworkState, network: BridgeNetwork): BridgeGap | undefined {
  const node = state.metadata.name ?? "";
  const { bridge } = network;
  const gap = (field: string, text: string): BridgeGap => ({
    node,
    bridge,
    network: network.network,
    field,
    text,
  });
  const interfaces: readonly NmstateInterface[] = state.status?.currentState?.interfaces ?? [];
  const found = interfaces.find((i) => i.name === bridge);
  if (!found) return gap(interfacesField, `no interface ${bridge}`);
  const at = `${interfacesField}[name=${bridge}]`;
  if (found.type !== "linux-bridge")
    return gap(`${at}.type`, `${bridge} is ${found.type ?? "untyped"}, not linux-bridge`);
  if (found.state !== "up") return gap(`${at}.state`, `${bridge} is ${found.state ?? "in no state"}, not up`);
  const typeOf = (name: string) => interfaces.find((i) => i.name === name)?.type;
  const uplinks = (found.bridge?.port ?? []).filter((p) => {
    const type = typeOf(p.name);
    return type === undefined ? !p.name.startsWith("veth") : type !== "veth";
  });
  if (uplinks.length === 0) return gap(`${at}.bridge.port`, `${bridge} has no uplink port`);
  const wanted = [...(network.vlan ? [network.vlan] : []), ...(network.vlanTrunk ?? [])];
  const missing = wanted.filter((id) => !uplinks.some((p) => carries(p, id)));
  if (missing.length > 0) {
    const ids = missing.length > 3 ? `${missing.slice(0, 3).join(", ")}, ...` : missing.join(", ");
    return gap(
      `${at}.bridge.port[].vlan`,
      `no uplink of ${bridge} carries VLAN ${ids} (${uplinks.map((p) => p.name).join(", ")})`,
    );
  }
  return undefined;
}

/** Each node's gaps for the networks; nodes without a NodeNetworkState are in `unreported`. */
export function bridgeGaps(
  networks: readonly BridgeNetwork[],
  states: readonly NodeNetworkState[],
  nodes: readonly string[],
): { gaps: Map<string, BridgeGap[]>; unreported: string[] } {
  const gaps = new Map<string, BridgeGap[]>();
  const unreported: string[] = [];
  for (const node of nodes) {
    const state = states.find((s) => s.metadata.name === node);
    if (!state) {
      unreported.push(node);
      continue;
    }
    const found = networks.map((n) => bridgeGapOn(state, n)).filter((g): g is BridgeGap => g !== undefined);
    if (found.length > 0) gaps.set(node, found);
  }
  return { gaps, unreported };
}

/** "NodeNetworkState node-3 status.currentState.interfaces: no interface vlan-13". */
export function gapText(gap: BridgeGap): string {
  return `NodeNetworkState ${gap.node} ${gap.field}: ${gap.text}`;
}

/** Why the NodeNetworkStates could not be read, from the list's error (a 404: nmstate not installed). */
export function nmstateUnreadable(status: number | undefined, message: string): string {
  if (status === 404)
    return "kubernetes-nmstate is not installed (no nmstate.io/v1beta1 NodeNetworkState API)";
  if (status === 403) return "not allowed to list nodenetworkstates.nmstate.io";
  return `NodeNetworkStates could not be listed: ${message}`;
}

/** The bridges named once each, in order: "br1, br2". */
export function bridgeNames(networks: readonly { bridge: string }[]): string {
  return [...new Set(networks.map((n) => n.bridge))].join(", ");
}

/** Up to three names, then how many more: "a, b, c and 2 more". */
export function nodeNames(nodes: readonly string[]): string {
  return nodes.length <= 3
    ? nodes.join(", ")
    : `${nodes.slice(0, 3).join(", ")} and ${nodes.length - 3} more`;
}

/** A VM to move off a node in a bulk plan (evacuate): where it runs and its networks. */
export interface BulkBridgeVm {
  namespace: string;
  vm: string;
  networks: readonly Network[];
}

/** A warning of a bulk plan about bridges, shaped like the plan's problems. */
export interface BulkBridgeWarning {
  severity: "warning";
  message: string;
  hint?: string;
}

/**
 * The bulk plan's bridge check: for each VM that moves, the usable nodes whose NodeNetworkState
 * lacks one of its bridges (KubeVirt may put it there), with a node to pin it to; one line when
 * the states could not be read and a VM has bridge networks. Nothing for VMs without bridges.
 */
export function bulkBridgeWarnings(input: {
  vms: readonly BulkBridgeVm[];
  nads: readonly NetworkAttachmentDefinition[] | undefined;
  states: readonly NodeNetworkState[] | undefined;
  statesUnread?: string | undefined;
  /** The nodes the VMs may go to (usable, not the one being emptied). */
  candidates: readonly string[];
}): BulkBridgeWarning[] {
  const out: BulkBridgeWarning[] = [];
  const withBridges = input.vms
    .map((vm) => ({ vm, networks: bridgeNetworksOf(vm.networks, input.nads ?? [], vm.namespace) }))
    .filter((v) => v.networks.length > 0);
  if (withBridges.length === 0) return out;
  if (!input.states) {
    const shown = nodeNames(withBridges.map((v) => `${v.vm.namespace}/${v.vm.vm}`));
    out.push({
      severity: "warning",
      message: `the bridges of ${shown} were not checked on the other nodes: ${input.statesUnread ?? "NodeNetworkStates not read"}`,
    });
    return out;
  }
  for (const { vm, networks } of withBridges) {
    const { gaps } = bridgeGaps(networks, input.states, input.candidates);
    if (gaps.size === 0) continue;
    const lacking = [...gaps.keys()];
    const good = input.candidates.filter(
      (n) => !gaps.has(n) && input.states?.some((s) => s.metadata.name === n),
    );
    const first = (gaps.get(lacking[0] as string) ?? [])[0] as BridgeGap;
    out.push({
      severity: "warning",
      message: `${vm.namespace}/${vm.vm}: ${lacking.join(", ")} lack${lacking.length === 1 ? "s" : ""} bridge ${bridgeNames(lacking.flatMap((n) => gaps.get(n) ?? []))} (${gapText(first)}); KubeVirt may move it there and the guest would lose its network`,
      ...(good.length > 0
        ? {
            hint: `move it first to a node that has it: kvmig migrate ${vm.vm} -n ${vm.namespace} --target-node ${good[0]}`,
          }
        : { hint: "configure the bridge on those nodes with a NodeNetworkConfigurationPolicy first" }),
    });
  }
  return out;
}
