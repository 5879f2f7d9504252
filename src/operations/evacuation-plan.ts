// What `kvmig evacuate NODE` reads before it plans (migration/evacuation-plan.ts): the node, every
// node, the VMIs on it (listed across namespaces page by page and filtered: KubeVirt serves no
// status.nodeName field selector for VMIs), their launcher pods and VMs, every pod bound to a node
// (what the nodes have left), every migration and the KubeVirt CR. Only the node and the VMIs
// must be read; any other read that fails (RBAC, most often) becomes a warning in the plan
// saying what was not checked.

import { describeError, NotFoundError } from "../errors.js";
import { isNotFound } from "../k8s/api-errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type {
  KubeVirt,
  Node,
  Pod,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../k8s/types.js";
import {
  type EvacuationPlan,
  type EvacuationPlanInput,
  planEvacuation,
  type UnreadPart,
} from "../migration/evacuation-plan.js";
import { readOutboundNodes } from "../migration/outbound.js";
import { countsTowardsLimits } from "../migration/pending.js";
import { isFinalPhase } from "../migration/state.js";
import { commandLine } from "../util/shell.js";
import { listNodeNetworkStates } from "./node-network-states.js";
import { activeLauncherPod, readBoundPods } from "./placement-pods.js";

/** How many node names the not-found hint lists. */
const hintNodes = 10;

async function nodeNotFound(kube: KubeClient, node: string): Promise<NotFoundError> {
  const names = await kube
    .list("node")
    .then((nodes) => nodes.map((n) => n.metadata.name ?? "").sort())
    .catch(() => undefined);
  const list = commandLine(["kubectl", "get", "nodes"]);
  let hint: string;
  if (!names) hint = `list the nodes with: ${list}`;
  else if (names.length === 0) hint = `the cluster lists no nodes (${list})`;
  else {
    const shown = names.slice(0, hintNodes).join(", ");
    const more = names.length > hintNodes ? ` and ${names.length - hintNodes} more` : "";
    hint = `the nodes are ${shown}${more} (${list})`;
  }
  return new NotFoundError(`node "${node}" not found`, { hint });
}

function keyOf(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ""}/${name ?? ""}`;
}

export async function readEvacuationPlan(
  kube: KubeClient,
  node: string,
  options: { restart: boolean },
): Promise<EvacuationPlan> {
  const unread: Partial<Record<UnreadPart, string>> = {};
  const attempt = <T>(part: UnreadPart, promise: Promise<T>): Promise<T | undefined> =>
    promise.catch((error: unknown) => {
      unread[part] = describeError(error).message;
      return undefined;
    });

  const targetRead = kube.get("node", node).catch(async (error: unknown) => {
    if (isNotFound(error)) throw await nodeNotFound(kube, node);
    throw error;
  });
  const [target, nodes, migrations, kubevirt, pods, nodePods] = await Promise.all([
    targetRead,
    attempt("nodes", kube.list("node")),
    attempt("migrations", kube.list("vmim")),
    attempt("kubevirt", kube.findKubeVirt()),
    readBoundPods(kube),
    attempt(
      "launchers",
      kube.list("pod", {
        fieldSelector: `spec.nodeName=${node}`,
        labelSelector: "kubevirt.io=virt-launcher",
      }),
    ),
  ]);
  if (pods === undefined) unread.pods = "the list was refused or failed";

  // The VMIs of successful migrations lend their guest memory to the measured rate.
  const migrated = new Set(
    (migrations ?? [])
      .filter((m) => m.status?.phase === "Succeeded" && m.status.migrationState?.endTimestamp)
      .map((m) => keyOf(m.metadata.namespace, m.spec?.vmiName)),
  );
  const onNode: VirtualMachineInstance[] = [];
  const others: VirtualMachineInstance[] = [];
  for await (const page of kube.listPages("vmi")) {
    for (const vmi of page) {
      if (vmi.status?.nodeName === node && !isFinalPhase(vmi.status.phase)) onNode.push(vmi);
      else if (migrated.has(keyOf(vmi.metadata.namespace, vmi.metadata.name))) others.push(vmi);
    }
  }

  const namespaces = [...new Set(onNode.map((v) => v.metadata.namespace ?? ""))].sort();
  const onNodeKeys = new Set(onNode.map((v) => keyOf(v.metadata.namespace, v.metadata.name)));
  // The per-node count comes from the running migrations' VMIs, as virt-controller's does; those on
  // the node are already read.
  const runningElsewhere = (migrations ?? []).filter(
    (m) =>
      !isFinalPhase(m.status?.phase) &&
      countsTowardsLimits(m) &&
      !onNodeKeys.has(keyOf(m.metadata.namespace, m.spec?.vmiName)),
  );
  const [vms, outboundNodes] = await Promise.all([
    attempt(
      "vms",
      Promise.all(namespaces.map((namespace) => kube.list("vm", { namespace }))).then((lists) =>
        lists.flat(),
      ) as Promise<VirtualMachine[]>,
    ),
    readOutboundNodes(kube, runningElsewhere),
  ]);

  let launchers: Map<string, Pod> | undefined;
  if (nodePods) {
    launchers = new Map();
    for (const vmi of onNode) {
      const pod = activeLauncherPod(nodePods, vmi);
      if (pod) launchers.set(keyOf(vmi.metadata.namespace, vmi.metadata.name), pod);
    }
  }

  const bridges = await readBridgeInputs(kube, onNode);
  return planEvacuation({
    bridges,
    node,
    target: target as Node,
    nodes: nodes as Node[] | undefined,
    vmis: [...onNode, ...others],
    vms,
    launchers,
    pods,
    migrations: migrations as VirtualMachineInstanceMigration[] | undefined,
    outboundNodes,
    kubevirt: unread.kubevirt ? undefined : ((kubevirt as KubeVirt | undefined) ?? null),
    options,
    unread,
  });
}

/**
 * For the plan's bridge check (migration/bridges.ts): the NADs of the namespaces whose VMIs on the
 * node use Multus networks, and the nodes' NodeNetworkStates (a 404: kubernetes-nmstate is not
 * installed, said once in the plan); nothing is read for a node without such VMIs.
 */
async function readBridgeInputs(
  kube: KubeClient,
  onNode: readonly VirtualMachineInstance[],
): Promise<EvacuationPlanInput["bridges"]> {
  const namespaces = [
    ...new Set(
      onNode
        .filter((v) => (v.spec.networks ?? []).some((n) => n.multus?.networkName))
        .map((v) => v.metadata.namespace ?? ""),
    ),
  ].sort();
  if (namespaces.length === 0) return undefined;
  const [nads, states] = await Promise.all([
    Promise.all(namespaces.map((namespace) => kube.list("nad", { namespace }).catch(() => []))).then((l) =>
      l.flat(),
    ),
    listNodeNetworkStates(kube),
  ]);
  return { nads, states: states.states, statesUnread: states.unread };
}
