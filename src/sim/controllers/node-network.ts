// What a node's host networking does to a VM's bridge networks after a migration: the bridge CNI
// plugin creates a Linux bridge that is missing on the target node by itself, without an uplink,
// so the migration succeeds and the guest is cut off from its physical network. Its guest agent
// then reports the interface without the address (a DHCP lease that cannot be renewed, a link with
// nothing behind it). Read from the objects: the VMI's Multus networks, their NADs' bridge CNI
// config, and the target node's NodeNetworkState (kubernetes-nmstate); without a NodeNetworkState
// for the node nothing is known, and the bridge is taken to be there.

import type { SimObject } from "../store.js";
import { type ControllerRuntime, dig, R } from "./runtime.js";

interface Interface {
  name?: string;
  type?: string;
  state?: string;
  bridge?: { port?: { name?: string }[] };
}

/** The bridge a NAD's CNI config names (a single plugin, or the bridge plugin of a conflist). */
function bridgeOf(nad: SimObject | undefined): string | undefined {
  const text = dig(nad, "spec", "config");
  if (typeof text !== "string") return undefined;
  try {
    const config = JSON.parse(text) as {
      type?: string;
      bridge?: string;
      plugins?: { type?: string; bridge?: string }[];
    };
    const plugin = config.type === "bridge" ? config : config.plugins?.find((p) => p.type === "bridge");
    return plugin ? (plugin.bridge ?? "cni0") : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the node's reported state has the bridge up with a port (undefined: no state to tell). */
function bridgeReady(rt: ControllerRuntime, node: string, bridge: string): boolean | undefined {
  const state = rt.peek(R.nns, undefined, node);
  if (!state) return undefined;
  const interfaces = (dig(state, "status", "currentState", "interfaces") ?? []) as Interface[];
  const found = interfaces.find((i) => i.name === bridge && i.type === "linux-bridge");
  return found !== undefined && found.state === "up" && (found.bridge?.port ?? []).length > 0;
}

/** The VMI's bridge networks (by network name) whose bridge the node lacks. */
export function networksCutOff(rt: ControllerRuntime, vmi: SimObject, node: string): Set<string> {
  const out = new Set<string>();
  const namespace = vmi.metadata.namespace ?? "";
  const networks = (dig(vmi, "spec", "networks") ?? []) as {
    name: string;
    multus?: { networkName?: string };
  }[];
  for (const network of networks) {
    const ref = network.multus?.networkName;
    if (!ref) continue;
    const [ns, name] = ref.includes("/") ? ref.split("/", 2) : [namespace, ref];
    const bridge = bridgeOf(rt.peek(R.nad, ns, name ?? ""));
    if (bridge !== undefined && bridgeReady(rt, node, bridge) === false) out.add(network.name);
  }
  return out;
}
