// kubernetes-nmstate's objects (nmstate.io): one NodeNetworkState per node (its handler's report of
// the host's interfaces, status.currentState in nmstate's own schema), the
// NodeNetworkConfigurationPolicies a scenario declares, and one NodeNetworkConfigurationEnactment
// per policy and node it selects (named `<node>.<policy>`, labelled nmstate.io/node and
// nmstate.io/policy: api/shared/nodenetworkconfigurationenactment_types.go). Shapes follow the
// CRDs (deploy/crds/nmstate.io_*.yaml) and the NodeNetworkState of docs/content/user-guide/
// 101-reporting.md; only what a bridge network needs is modelled: the node's NICs, the VLAN
// interfaces and the Linux bridges with their ports.

import type { Random } from "../random.js";
import type { NodeDescription, NodeNetwork } from "./cluster.js";
import { compact, type Json, rfc3339, sortKeysDeep } from "./format.js";

/** One Linux bridge that a policy puts on the nodes it selects. */
export interface NmstatePolicyDescription {
  name: string;
  createdAt: number;
  /** Equality-only node labels, as the NNCP's spec.nodeSelector; none: every node. */
  nodeSelector?: Record<string, string>;
  /** The Linux bridge's name (what the bridge CNI's `bridge` names). */
  bridge: string;
  /** The NIC the uplink rides on (default eth1). */
  uplink?: string;
  /** A VLAN interface `<uplink>.<vlan>` is the bridge's port; none: the NIC itself. */
  vlan?: number;
  /** VLAN ids the uplink port trunks (VLAN filtering on the bridge, for a NAD with `vlan`). */
  trunk?: readonly number[];
}

export interface NmstateDescription {
  /** When the operator was installed: the states exist from then on (or from the node's creation). */
  createdAt: number;
  policies: NmstatePolicyDescription[];
}

/** What kubernetes-nmstate v0.84's handler image reports of itself. */
const handlerVersions = {
  handlerNetworkManagerVersion: "1.52.0",
  handlerNmstateVersion: "2.2.45",
  hostNetworkManagerVersion: "1.52.0",
};

function selects(policy: NmstatePolicyDescription, node: NodeDescription): boolean {
  const labels: Record<string, string> = { ...node.labels, "kubernetes.io/hostname": node.name };
  return Object.entries(policy.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
}

function portName(policy: NmstatePolicyDescription): string {
  const uplink = policy.uplink ?? "eth1";
  return policy.vlan === undefined ? uplink : `${uplink}.${policy.vlan}`;
}

/** The interfaces a policy asks for (its desiredState), as nmstate's API writes them. */
function desiredInterfaces(policy: NmstatePolicyDescription): Json[] {
  const port: Json = { name: portName(policy) };
  if (policy.trunk && policy.trunk.length > 0) {
    port.vlan = { mode: "trunk", "trunk-tags": policy.trunk.map((id) => ({ id })) };
  }
  const bridge: Json = {
    name: policy.bridge,
    type: "linux-bridge",
    state: "up",
    ipv4: { enabled: false },
    ipv6: { enabled: false },
    bridge: { options: { stp: { enabled: false } }, port: [port] },
  };
  if (policy.vlan === undefined) return [bridge];
  const uplink = policy.uplink ?? "eth1";
  return [
    { name: portName(policy), type: "vlan", state: "up", vlan: { "base-iface": uplink, id: policy.vlan } },
    bridge,
  ];
}

function mac(random: Random): string {
  const octet = () => random.int(0, 255).toString(16).padStart(2, "0").toUpperCase();
  return `52:54:00:${octet()}:${octet()}:${octet()}`;
}

function ethernet(name: string, address: string, ip: string | undefined, prefix: number): Json {
  return {
    name,
    type: "ethernet",
    state: "up",
    "mac-address": address,
    mtu: 1500,
    ethernet: { "auto-negotiation": false },
    ipv4:
      ip === undefined
        ? { enabled: false }
        : { enabled: true, dhcp: true, address: [{ ip, "prefix-length": prefix }] },
    ipv6: { enabled: false },
  };
}

/** An interface of the node as the handler reports it (defaults filled in, as nmstate shows them). */
function reported(desired: Json, random: Random): Json {
  if (desired.type === "vlan") return { ...desired, "mac-address": mac(random), mtu: 1500 };
  const bridge = desired.bridge as { port: Json[] };
  return {
    ...desired,
    "mac-address": mac(random),
    mtu: 1500,
    bridge: {
      options: {
        "group-forward-mask": 0,
        "mac-ageing-time": 300,
        "multicast-snooping": true,
        stp: { enabled: false, "forward-delay": 15, "hello-time": 2, "max-age": 20, priority: 32768 },
      },
      port: bridge.port.map((p) => ({
        ...p,
        "stp-hairpin-mode": false,
        "stp-path-cost": 100,
        "stp-priority": 32,
      })),
    },
  };
}

const condition = (type: string, status: string, reason: string, at: string, message?: string): Json =>
  compact({ type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at });

/** The nmstate.io objects of a cluster: policies, their enactments, and each node's state. */
export function nmstateObjects(
  desc: NmstateDescription,
  nodes: readonly NodeDescription[],
  networks: readonly NodeNetwork[],
  nodeUids: ReadonlyMap<string, string>,
  random: Random,
): Json[] {
  const objects: Json[] = [];
  const policyUids = new Map<string, string>();
  for (const policy of desc.policies) {
    const uid = random.derive(`nncp/${policy.name}`).uid();
    policyUids.set(policy.name, uid);
    const selected = nodes.filter((n) => selects(policy, n));
    const at = rfc3339(policy.createdAt + 20_000);
    objects.push(
      sortKeysDeep({
        apiVersion: "nmstate.io/v1",
        kind: "NodeNetworkConfigurationPolicy",
        metadata: { name: policy.name, uid, creationTimestamp: rfc3339(policy.createdAt) },
        spec: compact({
          nodeSelector: policy.nodeSelector,
          desiredState: { interfaces: desiredInterfaces(policy) },
        }),
        status: {
          conditions: [
            condition(
              "Available",
              "True",
              "SuccessfullyConfigured",
              at,
              `${selected.length}/${selected.length} nodes successfully configured`,
            ),
            condition("Degraded", "False", "SuccessfullyConfigured", at),
          ],
          lastUnavailableNodeCountUpdate: at,
        },
      }),
    );
    for (const node of selected) {
      const created = Math.max(policy.createdAt, node.createdAt) + 1_000;
      const done = rfc3339(created + 15_000);
      objects.push(
        sortKeysDeep({
          apiVersion: "nmstate.io/v1beta1",
          kind: "NodeNetworkConfigurationEnactment",
          metadata: {
            name: `${node.name}.${policy.name}`,
            uid: random.derive(`nnce/${node.name}.${policy.name}`).uid(),
            creationTimestamp: rfc3339(created),
            labels: { "nmstate.io/node": node.name, "nmstate.io/policy": policy.name },
            ownerReferences: [
              {
                apiVersion: "nmstate.io/v1",
                kind: "NodeNetworkConfigurationPolicy",
                name: policy.name,
                uid,
              },
            ],
          },
          status: {
            conditions: [
              condition("Failing", "False", "SuccessfullyConfigured", done),
              condition("Available", "True", "SuccessfullyConfigured", done, "successfully reconciled"),
              condition("Progressing", "False", "SuccessfullyConfigured", done),
              condition("Pending", "False", "SuccessfullyConfigured", done),
              condition("Aborted", "False", "SuccessfullyConfigured", done),
            ],
            desiredState: { interfaces: desiredInterfaces(policy) },
            desiredStateMetaInfo: { time: done, version: "0" },
            policyGeneration: 1,
          },
        }),
      );
    }
  }
  for (const node of nodes) {
    const r = random.derive(`nns/${node.name}`);
    const network = networks.find((n) => n.name === node.name);
    const interfaces: Json[] = [
      ethernet("eth0", mac(r), network?.internalIP, 24),
      ethernet("eth1", mac(r), undefined, 24),
    ];
    for (const policy of desc.policies.filter((p) => selects(p, node))) {
      for (const desired of desiredInterfaces(policy)) interfaces.push(reported(desired, r));
    }
    interfaces.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const created = Math.max(desc.createdAt, node.createdAt) + 30_000;
    objects.push(
      sortKeysDeep({
        apiVersion: "nmstate.io/v1beta1",
        kind: "NodeNetworkState",
        metadata: {
          name: node.name,
          uid: r.uid(),
          creationTimestamp: rfc3339(created),
          ownerReferences: [
            { apiVersion: "v1", kind: "Node", name: node.name, uid: nodeUids.get(node.name) ?? "" },
          ],
        },
        status: {
          currentState: {
            "dns-resolver": { config: { search: [], server: [] }, running: { search: [], server: [] } },
            interfaces,
            "route-rules": { config: [] },
            routes: { config: [], running: [] },
          },
          ...handlerVersions,
          lastSuccessfulUpdateTime: rfc3339(Math.max(created, node.heartbeatAt ?? node.createdAt)),
        },
      }),
    );
  }
  return objects;
}
