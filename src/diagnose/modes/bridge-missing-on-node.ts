// bridge-missing-on-node: the VM runs on, or its migration's target pod was placed on, a node
// whose NodeNetworkState (kubernetes-nmstate) lacks the Linux bridge one of its bridge networks
// needs, or has it down, without an uplink, or without the VLAN the NAD tags. The bridge CNI plugin
// creates a missing bridge by itself, without an uplink (containernetworking/plugins,
// plugins/main/bridge: ensureBridge), so nothing fails: the migration succeeds and the guest is cut
// off from its physical network. State first: the node's NodeNetworkState and the NAD's config;
// the VMI's interface on that network without an address (as the guest agent reports it) raises the
// confidence. Without NodeNetworkStates (nmstate not installed) there is nothing to check.

import type { NmstateInterface, NodeNetworkState, VirtualMachineInstanceMigration } from "../../k8s/types.js";
import {
  type BridgeGap,
  type BridgeNetwork,
  bridgeGapOn,
  bridgeNetworksOf,
} from "../../migration/bridges.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import { isFinal, migrationObject, nonEmpty, podsOfMigration } from "../evidence.js";
import type { Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "bridge-missing-on-node";
const title = "Node lacks the Linux bridge of the VM's bridge network";
const docs = "https://kubevirt.io/user-guide/network/interfaces_and_networks/#bridge";

interface Placed {
  node: string;
  /** How the VM came to that node. */
  how: "runs" | "target";
  migration?: VirtualMachineInstanceMigration | undefined;
}

/** The node the VMI runs on, and the target node of its newest migration when that did not land. */
function placements(s: Snapshot): Placed[] {
  const out: Placed[] = [];
  const node = s.vmi?.status?.nodeName;
  if (node) out.push({ node, how: "runs" });
  const newest = s.migrations.at(-1);
  if (newest && (!isFinal(newest) || newest.status?.phase === "Failed")) {
    const target =
      newest.status?.migrationState?.targetNode ??
      podsOfMigration(s, newest).find((p) => p.spec?.nodeName)?.spec?.nodeName;
    if (target && target !== node) out.push({ node: target, how: "target", migration: newest });
  }
  return out;
}

/** The bridge's uplink on a node that has it: the interfaces to copy into a policy for the node that lacks it. */
function uplinkOn(states: readonly NodeNetworkState[], bridge: string): NmstateInterface[] {
  for (const state of states) {
    const interfaces = state.status?.currentState?.interfaces ?? [];
    const found = interfaces.find((i) => i.name === bridge && i.type === "linux-bridge" && i.state === "up");
    const port = found?.bridge?.port?.find((p) =>
      interfaces.some((i) => i.name === p.name && i.type !== "veth"),
    );
    if (!found || !port) continue;
    const iface = interfaces.find((i) => i.name === port.name);
    return iface?.type === "vlan" ? [iface] : [{ name: port.name, type: iface?.type }];
  }
  return [];
}

/** An NNCP that puts the bridge on the node, with the uplink another node uses (or a placeholder). */
function policyExample(gap: BridgeGap, network: BridgeNetwork, states: readonly NodeNetworkState[]): string {
  const uplink = uplinkOn(states, gap.bridge);
  const port = uplink[0]?.name ?? "<the NIC or VLAN interface that reaches the network>";
  const vlan = uplink[0]?.type === "vlan" ? uplink[0] : undefined;
  const portEntry: Record<string, unknown> = { name: port };
  if (network.vlan) portEntry.vlan = { mode: "trunk", "trunk-tags": [{ id: network.vlan }] };
  const interfaces: object[] = [];
  if (vlan) interfaces.push({ name: vlan.name, type: "vlan", state: "up", vlan: vlan.vlan });
  interfaces.push({
    name: gap.bridge,
    type: "linux-bridge",
    state: "up",
    bridge: { options: { stp: { enabled: false } }, port: [portEntry] },
  });
  return JSON.stringify({
    apiVersion: "nmstate.io/v1",
    kind: "NodeNetworkConfigurationPolicy",
    metadata: { name: `${gap.bridge}-${gap.node}` },
    spec: { nodeSelector: { "kubernetes.io/hostname": gap.node }, desiredState: { interfaces } },
  });
}

/** A node of the cluster whose state has all the VM's bridges, other than `except`. */
function goodNode(
  s: Snapshot,
  networks: readonly BridgeNetwork[],
  except: readonly string[],
): string | undefined {
  return (s.nodeNetworkStates ?? [])
    .filter((st) => !except.includes(st.metadata.name ?? ""))
    .find((st) => networks.every((n) => bridgeGapOn(st, n) === undefined))?.metadata.name;
}

export const bridgeMissingOnNode: Rule = {
  id,
  title,
  severity: "error",
  detect(s: Snapshot): Finding[] {
    const states = s.nodeNetworkStates;
    if (!states) return [];
    const networks = bridgeNetworksOf(
      s.vm?.spec.template?.spec?.networks ?? s.vmi?.spec.networks ?? [],
      s.networkAttachmentDefinitions,
      s.namespace,
    );
    if (networks.length === 0) return [];
    const findings: Finding[] = [];
    for (const placed of placements(s)) {
      const state = states.find((st) => st.metadata.name === placed.node);
      if (!state) continue;
      for (const network of networks) {
        const gap = bridgeGapOn(state, network);
        if (!gap) continue;
        const evidence: Evidence[] = [
          {
            object: `NodeNetworkState/${gap.node}`,
            field: gap.field,
            time: state.status?.lastSuccessfulUpdateTime,
            text: gap.text,
          },
          {
            object: `NetworkAttachmentDefinition/${network.nad}`,
            field: "spec.config",
            text: `bridge CNI on bridge ${network.bridge}${network.vlan ? `, VLAN ${network.vlan}` : ""}${network.ipam ? `, IPAM ${network.ipam}` : ", no IPAM (the guest brings its address)"}`,
          },
        ];
        const iface = s.vmi?.status?.interfaces?.find((i) => i.name === network.network);
        const addressless =
          placed.how === "runs" &&
          iface !== undefined &&
          (iface.ipAddresses ?? (iface.ipAddress ? [iface.ipAddress] : [])).length === 0;
        if (placed.how === "runs") {
          evidence.push({
            object: `VirtualMachineInstance/${s.vmi?.metadata.name ?? s.vmName}`,
            field: "status.nodeName",
            text: gap.node,
          });
          if (iface) {
            evidence.push({
              object: `VirtualMachineInstance/${s.vmi?.metadata.name ?? s.vmName}`,
              field: `status.interfaces[name=${network.network}]`,
              text: addressless
                ? `no IP address reported${iface.infoSource ? ` (infoSource: ${iface.infoSource})` : ""}`
                : `ipAddress ${iface.ipAddress ?? (iface.ipAddresses ?? []).join(", ")}`,
            });
          }
          const moved = [...s.migrations]
            .reverse()
            .find((m) => m.status?.phase === "Succeeded" && m.status.migrationState?.targetNode === gap.node);
          if (moved) {
            evidence.push({
              object: migrationObject(moved),
              field: "status.migrationState",
              time: moved.status?.migrationState?.endTimestamp ?? undefined,
              text: `moved ${moved.status?.migrationState?.sourceNode ?? "?"} → ${gap.node}, Succeeded`,
            });
          }
        } else if (placed.migration) {
          evidence.push({
            object: migrationObject(placed.migration),
            field: "status.migrationState.targetNode",
            text: `${gap.node} (${placed.migration.status?.phase || "Pending"})`,
          });
        }
        const back =
          placed.how === "runs"
            ? (goodNode(s, networks, [gap.node]) ?? s.migrations.at(-1)?.status?.migrationState?.sourceNode)
            : goodNode(s, networks, [gap.node, s.vmi?.status?.nodeName ?? ""]);
        const ns = s.namespace;
        const vm = s.vmName;
        findings.push({
          id,
          title,
          severity: "error",
          confidence: placed.how === "target" || addressless ? "high" : "medium",
          summary:
            placed.how === "runs"
              ? `${vm} runs on ${gap.node}, and ${gap.node}'s NodeNetworkState shows ${gap.text}: its network ${network.network} (bridge ${network.bridge}) has no way out there. The bridge CNI plugin creates a missing bridge by itself, without an uplink, so the migration succeeded and the guest lost its network${addressless ? " (its interface reports no address)" : ""}.`
              : `The target pod of ${placed.migration?.metadata.name ?? "the migration"} was placed on ${gap.node}, whose NodeNetworkState shows ${gap.text}: if it lands there, ${vm}'s network ${network.network} (bridge ${network.bridge}) has no way out, and the bridge CNI plugin will not stop it.`,
          evidence,
          fix: {
            explanation:
              `Configure the bridge ${gap.bridge} on ${gap.node} with a NodeNetworkConfigurationPolicy like the one the other nodes got (${policyExample(gap, network, states)}), ` +
              (placed.how === "runs"
                ? `and migrate ${vm} back to a node that has it meanwhile${back ? ` (${back})` : ""}; keep it off ${gap.node} with --target-node until the policy is Available there.`
                : `or cancel this migration and pin the next one to a node that has it with --target-node.`),
            commands: [
              commandLine(["kubectl", "get", "nncp"]),
              commandLine(["kubectl", "get", "nns", gap.node, "-o", "yaml"]),
              ...(placed.how === "target" ? [kvmigCommand(["cancel", vm, "-n", ns])] : []),
              ...(back ? [kvmigCommand(["migrate", vm, "-n", ns, "--target-node", back])] : []),
            ],
          },
          docs,
          notChecked: nonEmpty(
            iface === undefined && placed.how === "runs"
              ? [`the guest's address on ${network.network} (the VMI reports no interface for it)`]
              : [],
          ),
        });
      }
    }
    return findings;
  },
};
