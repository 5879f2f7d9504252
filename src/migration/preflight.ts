// Pre-flight checks before a migration: each a pure function over what `migrate` read once,
// each a verdict (ok / warning / error) with one line of explanation. Nothing here changes or
// reads the cluster.

import { unsupportedKubeVirtVersion, unsupportedMessage } from "../k8s/kubevirt-version.js";
import { outdatedLauncherImageLabel } from "../k8s/launcher-image.js";
import type {
  KubeVirt,
  NetworkAttachmentDefinition,
  Node,
  NodeNetworkState,
  Pod,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../k8s/types.js";
import { compareText } from "../util/order.js";
import { commandLine, kvmigCommand } from "../util/shell.js";
import {
  type BridgeNetwork,
  bridgeGaps,
  bridgeNames,
  bridgeNetworksOf,
  gapText,
  nodeNames,
} from "./bridges.js";
import { type OutboundNodes, outboundFrom, outboundKey } from "./outbound.js";
import {
  countsTowardsLimits,
  defaultParallelMigrationsPerCluster,
  defaultParallelOutboundMigrationsPerNode,
  type Limits,
} from "./pending.js";
import { type Placement, placeTargetPod, type Refusal } from "./placement.js";
import { isFinalPhase } from "./state.js";
import { createdByLabel, hostnameLabel, type LabelNeed, schedulableLabel } from "./target-pod.js";

export type VerdictStatus = "ok" | "warning" | "error";

export interface Verdict {
  check:
    | "vmi-running"
    | "live-migratable"
    | "in-flight"
    | "launcher-image"
    | "networks"
    | "bridges"
    | "target-nodes"
    | "parallel-limits"
    | "rbac"
    | "kubevirt-version"
    | "forecast";
  status: VerdictStatus;
  message: string;
  hint?: string | undefined;
  /** An error that --force cannot bypass: there is nothing KubeVirt could migrate. */
  blocking?: true | undefined;
  /** target-nodes, when no node can take the target pod: every node and why not. */
  nodes?: NodeRefusal[] | undefined;
}

export interface NodeRefusal {
  node: string;
  reason: string;
}

export interface PreflightInput {
  namespace: string;
  vmName: string;
  vm?: VirtualMachine | undefined;
  vmi?: VirtualMachineInstance | undefined;
  /** This VMI's migrations (label kubevirt.io/vmi-name). */
  migrations: readonly VirtualMachineInstanceMigration[];
  /** undefined: could not be read. */
  nodes?: readonly Node[] | undefined;
  nads?: readonly NetworkAttachmentDefinition[] | undefined;
  kubevirt?: KubeVirt | undefined;
  currentLauncherImage?: string | undefined;
  clusterMigrations?: readonly VirtualMachineInstanceMigration[] | undefined;
  /** Where each running migration leaves from (from its VMI: outbound.ts), for the per-node limit. */
  outboundNodes?: OutboundNodes | undefined;
  /** undefined: the access review could not be made. */
  access?: { allowed: boolean; reason?: string | undefined } | undefined;
  /** What the review asked for, e.g. "update virtualmachines/migrate". */
  accessDescription: string;
  targetNode?: string | undefined;
  nodeSelector?: Readonly<Record<string, string>> | undefined;
  /** The VMI's running virt-launcher pod: the target pod is rendered like it. */
  launcherPod?: Pod | undefined;
  /** Non-terminal pods on the nodes (what they have left); undefined: could not be listed. */
  pods?: readonly Pod[] | undefined;
  /** kubernetes-nmstate's NodeNetworkStates; undefined: not read (see nodeNetworkStatesUnread). */
  nodeNetworkStates?: readonly NodeNetworkState[] | undefined;
  /** Why they could not be read (nmstate not installed, forbidden). */
  nodeNetworkStatesUnread?: string | undefined;
}

export function limitsOf(kubevirt: KubeVirt | undefined): Limits {
  const m = kubevirt?.spec.configuration?.migrations;
  return {
    perCluster: m?.parallelMigrationsPerCluster ?? defaultParallelMigrationsPerCluster,
    perNode: m?.parallelOutboundMigrationsPerNode ?? defaultParallelOutboundMigrationsPerNode,
  };
}

/** The unfinished migration of this VMI, newest first, if any (the webhook allows one). */
export function unfinishedMigration(
  migrations: readonly VirtualMachineInstanceMigration[],
): VirtualMachineInstanceMigration | undefined {
  return [...migrations]
    .filter((m) => !isFinalPhase(m.status?.phase))
    .sort((a, b) => compareText(b.metadata.creationTimestamp ?? "", a.metadata.creationTimestamp ?? ""))[0];
}

export function checkVmiRunning(input: PreflightInput): Verdict {
  const vmi = input.vmi;
  if (!vmi) {
    return {
      check: "vmi-running",
      status: "error",
      message: `VM ${input.vmName} is not running (no VirtualMachineInstance)`,
      hint: `start it first: ${commandLine(["virtctl", "start", input.vmName, "-n", input.namespace])}; ${commandLine(["kubectl", "get", "vm,vmi", input.vmName, "-n", input.namespace])} shows both`,
      blocking: true,
    };
  }
  const phase = vmi.status?.phase ?? "";
  if (phase !== "Running") {
    return {
      check: "vmi-running",
      status: "error",
      message: `VMI ${input.vmName} is ${phase || "not yet scheduled"}, not Running`,
      hint: "only a Running VMI can be live-migrated",
      blocking: true,
    };
  }
  return {
    check: "vmi-running",
    status: "ok",
    message: `VMI ${input.vmName} is Running on ${vmi.status?.nodeName ?? "?"}`,
  };
}

export function checkLiveMigratable(input: PreflightInput): Verdict {
  const condition = input.vmi?.status?.conditions?.find((c) => c.type === "LiveMigratable");
  if (!condition) {
    return {
      check: "live-migratable",
      status: "warning",
      message: "the VMI does not report LiveMigratable yet",
      hint: "virt-handler sets it once the VMI runs; KubeVirt will refuse the migration if it is not migratable",
    };
  }
  if (condition.status === "True")
    return { check: "live-migratable", status: "ok", message: "live-migratable" };
  return {
    check: "live-migratable",
    status: "error",
    message: `not live-migratable: ${condition.reason ?? "NotMigratable"}${condition.message ? `: ${condition.message}` : ""}`,
    hint: `KubeVirt refuses this migration; ${kvmigCommand(["restart", input.vmName, "-n", input.namespace])} moves it with downtime`,
  };
}

export function checkInFlight(input: PreflightInput): Verdict {
  const existing = unfinishedMigration(input.migrations);
  if (!existing) return { check: "in-flight", status: "ok", message: "no migration in progress" };
  return {
    check: "in-flight",
    status: "warning",
    message: `migration ${existing.metadata.name} is already ${existing.status?.phase || "Pending"}; following it instead of starting another`,
  };
}

export function checkLauncherImage(input: PreflightInput): Verdict {
  const vmi = input.vmi;
  const running = vmi?.status?.launcherContainerImageVersion;
  const labelled = vmi?.metadata.labels?.[outdatedLauncherImageLabel] !== undefined;
  const differs = Boolean(running && input.currentLauncherImage && running !== input.currentLauncherImage);
  if (labelled || differs) {
    return {
      check: "launcher-image",
      status: "warning",
      message: `outdated virt-launcher${running ? ` ${running}` : ""}${input.currentLauncherImage ? ` (current ${input.currentLauncherImage})` : ""}: version-skew risk`,
      hint: `if the migration fails, ${kvmigCommand(["restart", input.vmName, "-n", input.namespace])} is the safer path (with downtime)`,
    };
  }
  return {
    check: "launcher-image",
    status: "ok",
    message: running ? `launcher image is current (${running})` : "launcher image not reported",
  };
}

export function checkNetworks(input: PreflightInput): Verdict {
  const spec = input.vm?.spec.template?.spec ?? input.vmi?.spec;
  const multus = (spec?.networks ?? []).filter((n) => n.multus?.networkName);
  if (multus.length === 0) return { check: "networks", status: "ok", message: "no Multus networks" };
  if (!input.nads) {
    return {
      check: "networks",
      status: "warning",
      message: `could not list NetworkAttachmentDefinitions to check ${multus.map((n) => n.multus?.networkName).join(", ")}`,
    };
  }
  const missing = multus
    .map((n) => n.multus?.networkName ?? "")
    .filter((ref) => {
      const [ns, name] = ref.includes("/") ? ref.split("/", 2) : [input.namespace, ref];
      return !input.nads?.some(
        (nad) => nad.metadata.name === name && (nad.metadata.namespace ?? input.namespace) === ns,
      );
    });
  if (missing.length > 0) {
    return {
      check: "networks",
      status: "error",
      // A qualified reference (`infra/br-ext`) names its own namespace.
      message: `NetworkAttachmentDefinition ${missing.map((ref) => (ref.includes("/") ? `${ref} not found` : `${ref} not found in ${input.namespace}`)).join(", ")}; the target pod cannot start`,
      hint: `create it: ${commandLine(["kubectl", "get", "network-attachment-definitions", "-A"])}, then ${commandLine(["kubectl", "apply", "-n", input.namespace, "-f", "NAD.yaml"])}`,
    };
  }
  return {
    check: "networks",
    status: "ok",
    message: `Multus networks present: ${multus.map((n) => n.multus?.networkName).join(", ")}`,
  };
}

/** The VM's bridge networks (Multus networks whose NAD is the bridge CNI). */
export function preflightBridgeNetworks(input: PreflightInput): BridgeNetwork[] {
  const spec = input.vm?.spec.template?.spec ?? input.vmi?.spec;
  return bridgeNetworksOf(spec?.networks ?? [], input.nads ?? [], input.namespace);
}

/**
 * The bridges of the VM's bridge networks on the nodes its target pod may go to (migration/
 * bridges.ts): an error when --target-node names a node without one, or when no node the
 * scheduler may choose has them all; a warning naming the nodes without them otherwise. Where
 * the NodeNetworkStates cannot be read, one warning saying why. None for a VM without bridges.
 */
export function checkBridges(input: PreflightInput): Verdict | undefined {
  const networks = preflightBridgeNetworks(input);
  if (networks.length === 0) return undefined;
  const names = bridgeNames(networks);
  if (!input.nodeNetworkStates) {
    return {
      check: "bridges",
      status: "warning",
      message: `bridge${networks.length === 1 ? "" : "s"} ${names} not checked on the nodes: ${input.nodeNetworkStatesUnread ?? "NodeNetworkStates not read"}`,
    };
  }
  const states = input.nodeNetworkStates;
  const source = input.vmi?.status?.nodeName;
  // The nodes the scheduler may choose (placement.ts), without --target-node's own selector.
  const fits =
    input.vmi && input.nodes
      ? placeTargetPod({
          vmi: input.vmi,
          launcherPod: input.launcherPod,
          nodes: input.nodes,
          pods: input.pods,
          addedNodeSelector: input.nodeSelector,
          addedBy: input.nodeSelector ? "--node-selector" : undefined,
          kubevirt: input.kubevirt,
          inFlightMigrationUid: unfinishedMigration(input.migrations)?.metadata.uid,
        }).fits
      : states.map((s) => s.metadata.name ?? "").filter((n) => n !== source);
  const candidates = input.targetNode ? [input.targetNode] : fits;
  const { gaps, unreported } = bridgeGaps(networks, states, candidates);
  const good = candidates.filter((n) => !gaps.has(n) && !unreported.includes(n));
  const unknown = unreported.length > 0 ? `; no NodeNetworkState for ${nodeNames(unreported)}` : "";
  const first = (node: string) =>
    gapText((gaps.get(node) ?? [])[0] as NonNullable<ReturnType<typeof gaps.get>>[number]);
  const nncp =
    "configure it there with a NodeNetworkConfigurationPolicy (kubectl get nncp shows the existing ones)";
  if (input.targetNode && gaps.has(input.targetNode)) {
    const missing = bridgeNames(gaps.get(input.targetNode) ?? []);
    const others = bridgeGaps(networks, states, fits);
    const alternatives = fits.filter((n) => !others.gaps.has(n) && !others.unreported.includes(n));
    return {
      check: "bridges",
      status: "error",
      message: `target node ${input.targetNode} lacks bridge ${missing}: ${first(input.targetNode)}; the VM would lose its network there`,
      hint:
        alternatives.length > 0
          ? `pick a node that has it: --target-node ${alternatives[0]}; or ${nncp}`
          : nncp,
    };
  }
  if (gaps.size > 0 && good.length === 0 && unreported.length === 0) {
    const shown = [...gaps.keys()].slice(0, 3).map((node) => first(node));
    return {
      check: "bridges",
      status: "error",
      message: `no node the VM may move to has bridge ${names}: ${shown.join("; ")}`,
      hint: nncp,
    };
  }
  if (gaps.size > 0) {
    const lacking = [...gaps.keys()];
    return {
      check: "bridges",
      status: "warning",
      message: `${nodeNames(lacking)} lack${lacking.length === 1 ? "s" : ""} bridge ${bridgeNames(lacking.flatMap((n) => gaps.get(n) ?? []))} (${first(lacking[0] as string)}); the scheduler may pick ${lacking.length === 1 ? "it" : "them"}${unknown}`,
      hint: `pin a node that has ${names}: --target-node ${good[0]}`,
    };
  }
  const where = input.targetNode ? `target node ${input.targetNode}` : nodeNames(good);
  return {
    check: "bridges",
    status: unknown ? "warning" : "ok",
    message: `bridge ${names} up with an uplink on ${good.length > 0 ? where : "no reported node"}${unknown}`,
  };
}

/** "node-2, node-3: lacks label zone=east (nodeSelector); node-4: cordoned": the largest groups first. */
export function refusalSummary(refusals: readonly Refusal[]): string {
  const others = refusals.filter((r) => r.kind !== "source");
  if (others.length === 0) {
    const source = refusals.find((r) => r.kind === "source");
    return source ? `${source.node} is the only node, and the VM runs there` : "the cluster lists no nodes";
  }
  const groups = new Map<string, string[]>();
  for (const r of others) groups.set(r.reason, [...(groups.get(r.reason) ?? []), r.node]);
  const sorted = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  const shown = sorted.slice(0, 3).map(([reason, nodes]) => `${nodeNames(nodes)}: ${reason}`);
  const rest = sorted.slice(3).reduce((n, [, nodes]) => n + nodes.length, 0);
  return `${shown.join("; ")}${rest > 0 ? `; ${rest} more node${rest === 1 ? "" : "s"}` : ""}`;
}

/** What to do about the reason that rules out the most nodes (the flags' own labels aside). */
function refusalHint(refusals: readonly Refusal[], input: PreflightInput): string {
  const others = refusals.filter((r) => r.kind !== "source");
  if (others.length === 0) return "a VM never migrates onto its own node: add a node to the cluster";
  const fromFlag = (r: Refusal) => r.label?.from === "--node-selector" || r.label?.from === "--target-node";
  const pool = others.some((r) => !fromFlag(r)) ? others.filter((r) => !fromFlag(r)) : others;
  const keyOf = (r: Refusal) => (r.kind === "label" ? `label:${r.label?.from}:${r.label?.key}` : r.kind);
  const counts = new Map<string, number>();
  for (const r of pool) counts.set(keyOf(r), (counts.get(keyOf(r)) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const first = pool.find((r) => keyOf(r) === top) as Refusal;
  const vm = input.vmName;
  const ns = input.namespace;
  const edit = input.vm ? ` (${commandLine(["kubectl", "edit", "vm", vm, "-n", ns])})` : "";
  switch (first.kind) {
    case "cordoned":
      return `uncordon one when its maintenance is over: ${commandLine(["kubectl", "uncordon", first.node])}`;
    case "not-ready":
      return `see why it is not Ready: ${commandLine(["kubectl", "describe", "node", first.node])}`;
    case "taint":
      return `add a toleration for ${first.taint} to the VM (spec.template.spec.tolerations), or see ${commandLine(["kubectl", "describe", "node", first.node])}`;
    case "affinity":
      return first.reason.includes("obsolete")
        ? "KubeVirt lists those nodes' host CPU models as obsolete (obsoleteCPUModels in the KubeVirt CR)"
        : `the VM's node affinity rules out the other nodes: change spec.template.spec.affinity if it may move${edit}`;
    case "resources":
      return `free ${first.resource} on a node, or add one: ${commandLine(["kubectl", "describe", "node", first.node])} shows what it runs`;
    case "vm-pod":
      return `another pod of this VM is still there: ${commandLine(["kubectl", "get", "pods", "-n", ns, "-l", `${createdByLabel}=${input.vmi?.metadata.uid ?? ""}`, "-o", "wide"])}`;
    case "label": {
      const label = first.label as LabelNeed;
      if (label.from === "nodeSelector")
        return `the VM's nodeSelector allows no other node: change spec.template.spec.nodeSelector if it may move${edit}`;
      if (label.from.startsWith("host-model CPU"))
        return `no other node offers the host-model CPU of ${input.vmi?.status?.nodeName ?? "its node"}: give the VM a CPU model every node offers (spec.template.spec.domain.cpu.model), then ${kvmigCommand(["restart", vm, "-n", ns])}`;
      if (label.from === "--node-selector") return "pick another --node-selector";
      if (label.from === "--target-node") return "pick another --target-node";
      return `no other node has it: ${commandLine(["kubectl", "get", "nodes", "-l", `${label.key}=${label.value}`])}`;
    }
    default:
      return `${commandLine(["kubectl", "get", "nodes"])}`;
  }
}

function nodeList(placement: Placement): NodeRefusal[] {
  return placement.refusals.map(({ node, reason }) => ({ node, reason }));
}

export function checkTargetNodes(input: PreflightInput): Verdict {
  const source = input.vmi?.status?.nodeName;
  if (!input.nodes)
    return {
      check: "target-nodes",
      status: "warning",
      message: "could not list nodes to check for a target",
    };
  if (input.targetNode) {
    const node = input.nodes.find((n) => n.metadata.name === input.targetNode);
    if (!node) {
      return {
        check: "target-nodes",
        status: "error",
        message: `target node ${input.targetNode} does not exist`,
        hint: commandLine(["kubectl", "get", "nodes"]),
      };
    }
    if (input.targetNode === source) {
      return {
        check: "target-nodes",
        status: "error",
        message: `the VMI already runs on ${input.targetNode}`,
        hint: "pick another --target-node",
      };
    }
  }
  if (!input.vmi) {
    return { check: "target-nodes", status: "warning", message: "no VMI: nothing to place" };
  }
  const placement = placeTargetPod({
    vmi: input.vmi,
    launcherPod: input.launcherPod,
    nodes: input.nodes,
    pods: input.pods,
    addedNodeSelector: input.targetNode ? { [hostnameLabel]: input.targetNode } : input.nodeSelector,
    addedBy: input.targetNode ? "--target-node" : input.nodeSelector ? "--node-selector" : undefined,
    kubevirt: input.kubevirt,
    inFlightMigrationUid: unfinishedMigration(input.migrations)?.metadata.uid,
  });
  const caveats = placement.notes.length > 0 ? `; ${placement.notes.join("; ")}` : "";
  if (placement.blocker) {
    return {
      check: "target-nodes",
      status: "error",
      message: `no node can take it: ${placement.blocker}`,
      hint: `check the node's labels: ${commandLine(["kubectl", "get", "node", source ?? "", "--show-labels"])}`,
    };
  }

  if (input.targetNode) {
    const refusal = placement.refusals.find((r) => r.node === input.targetNode);
    if (refusal) {
      const state =
        refusal.kind === "cordoned" ||
        refusal.kind === "not-ready" ||
        refusal.reason === `${schedulableLabel}=false`;
      return {
        check: "target-nodes",
        status: "error",
        message: state
          ? `target node ${input.targetNode} is ${refusal.reason}`
          : `target node ${input.targetNode} cannot take it: ${refusal.reason}`,
        hint: "pick another --target-node",
      };
    }
    const message = `target node ${input.targetNode} is Ready and schedulable`;
    return caveats
      ? { check: "target-nodes", status: "warning", message: `${message}${caveats}` }
      : { check: "target-nodes", status: "ok", message };
  }

  // No node carries the selector's labels at all: say that, not "uncordon or add capacity".
  const selector = input.nodeSelector ?? {};
  const labelled = input.nodes.filter(
    (n) =>
      n.metadata.name !== source && Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v),
  );
  if (Object.keys(selector).length > 0 && labelled.length === 0) {
    const wanted = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    return {
      check: "target-nodes",
      status: "error",
      message: `no node other than the source has the label${Object.keys(selector).length > 1 ? "s" : ""} ${wanted}`,
      hint: `check the labels: ${commandLine(["kubectl", "get", "nodes", "-l", wanted])}`,
    };
  }
  if (placement.fits.length === 0) {
    return {
      check: "target-nodes",
      status: "error",
      message: `no node can take it: ${refusalSummary(placement.refusals)}`,
      hint: refusalHint(placement.refusals, input),
      nodes: nodeList(placement),
    };
  }
  const names = placement.fits;
  const shown = names.length > 4 ? `${names.slice(0, 4).join(", ")}, …` : names.join(", ");
  const message = `${names.length} other schedulable node${names.length === 1 ? "" : "s"}: ${shown}`;
  return caveats
    ? { check: "target-nodes", status: "warning", message: `${message}${caveats}` }
    : { check: "target-nodes", status: "ok", message };
}

export function checkParallelLimits(input: PreflightInput): Verdict {
  if (!input.clusterMigrations) {
    return {
      check: "parallel-limits",
      status: "warning",
      message: "could not list migrations cluster-wide to check the parallel limits",
    };
  }
  const limits = limitsOf(input.kubevirt);
  const running = input.clusterMigrations.filter(countsTowardsLimits);
  const source = input.vmi?.status?.nodeName;
  const outbound = outboundFrom(source, running, (m) => input.outboundNodes?.get(outboundKey(m))).length;
  const counts = `${running.length} of ${limits.perCluster} in the cluster, ${outbound} of ${limits.perNode} from ${source ?? "the source node"}`;
  if (running.length >= limits.perCluster || outbound >= limits.perNode) {
    return {
      check: "parallel-limits",
      status: "warning",
      message: `the migration will queue: ${counts}`,
      hint: "it starts when a slot frees; the limits are spec.configuration.migrations in the KubeVirt CR",
    };
  }
  return { check: "parallel-limits", status: "ok", message: `migration slots in use: ${counts}` };
}

export function checkAccess(input: PreflightInput): Verdict {
  if (!input.access) {
    return {
      check: "rbac",
      status: "warning",
      message: `could not check whether you may ${input.accessDescription}`,
    };
  }
  if (input.access.allowed)
    return { check: "rbac", status: "ok", message: `allowed to ${input.accessDescription}` };
  return {
    check: "rbac",
    status: "error",
    message: `not allowed to ${input.accessDescription} in ${input.namespace}`,
    hint: "ask for the ClusterRole kubevirt.io:migrate (KubeVirt 1.5+) bound in this namespace",
  };
}

/** Every check, in the order they are shown. */
/** Only when the cluster's KubeVirt is older than kvmig supports: then an error. */
export function checkKubeVirtVersion(input: PreflightInput): Verdict | undefined {
  const version = unsupportedKubeVirtVersion(input.kubevirt);
  if (!version) return undefined;
  return {
    check: "kubevirt-version",
    status: "error",
    message: unsupportedMessage(version),
    hint: "upgrade KubeVirt, or use virtctl migrate",
  };
}

export function preflight(input: PreflightInput): Verdict[] {
  const tooOld = checkKubeVirtVersion(input);
  if (tooOld) return [tooOld];
  const running = checkVmiRunning(input);
  if (running.status === "error") return [running, checkAccess(input)];
  return [
    running,
    checkLiveMigratable(input),
    checkInFlight(input),
    checkLauncherImage(input),
    checkNetworks(input),
    ...[checkBridges(input)].filter((v): v is Verdict => v !== undefined),
    checkTargetNodes(input),
    checkParallelLimits(input),
    checkAccess(input),
  ];
}
