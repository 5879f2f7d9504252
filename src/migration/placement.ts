// Where could the migration's target pod land? Pre-flight asks before anything changes, the way
// kube-scheduler will ask once KubeVirt creates the pod: a migration that no node can take waits
// five minutes as an unschedulable pod and then fails, so "no node can take it" must be said
// up front, with one reason per node.
//
// The pod is target-pod.ts's rendering, plus KubeVirt's pod anti-affinity on the VMI's
// `kubevirt.io/created-by` label: never the source node, nor a node with another pod of the VMI.
// Nodes are judged in kube-scheduler's filter order (NodeUnschedulable, TaintToleration,
// NodeAffinity, NodeResourcesFit, InterPodAffinity), and each refused node gets the first
// reason, as the scheduler reports it. Pure: data in, data out.

import type { Node, Pod } from "../k8s/types.js";
import { compareText } from "../util/order.js";
import { formatBytesQuantity, formatCpuQuantity, parseQuantity } from "./quantity.js";
import {
  createdByLabel,
  type LabelNeed,
  labelsOf,
  type NodeSelectorRequirement,
  type NodeSelectorTerm,
  obsoleteHostModelLabel,
  podRequests,
  podSpec,
  schedulableLabel,
  type TargetPodInput,
  type Toleration,
  targetPodOf,
} from "./target-pod.js";

const migrationJobLabel = "kubevirt.io/migrationJobUID";
const unschedulableTaintKey = "node.kubernetes.io/unschedulable";

export interface PlacementInput extends TargetPodInput {
  /** Non-terminal pods bound to nodes; undefined: they could not be listed. */
  pods?: readonly Pod[] | undefined;
  /** An unfinished migration of this VMI: its own target pod is no rival to the next one. */
  inFlightMigrationUid?: string | undefined;
}

export type RefusalKind =
  | "source"
  | "vm-pod"
  | "cordoned"
  | "not-ready"
  | "taint"
  | "label"
  | "affinity"
  | "resources";

export interface Refusal {
  node: string;
  kind: RefusalKind;
  /** One line, e.g. "lacks label zone=east (nodeSelector)", "3.1Gi memory free, needs 8Gi". */
  reason: string;
  /** A label refusal: the label the node lacks and who asks for it. */
  label?: LabelNeed | undefined;
  /** A taint refusal: the taint as `key=value:Effect`. */
  taint?: string | undefined;
  /** A resources refusal: which resource. */
  resource?: string | undefined;
}

export interface Placement {
  /** Nodes the target pod fits, by name. */
  fits: string[];
  /** Every other node, with its first reason. */
  refusals: Refusal[];
  /** What could not be checked, and why. */
  notes: string[];
  /** KubeVirt would not even create the target pod. */
  blocker?: string | undefined;
}

/** Whether a toleration in the list tolerates the taint (kube-scheduler's TaintToleration). */
export function tolerates(
  tolerations: readonly Toleration[],
  taint: { key: string; value?: string; effect: string },
) {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key && t.key !== taint.key) return false;
    if (t.operator === "Exists") return true;
    if (!t.key) return false;
    return (t.value ?? "") === (taint.value ?? "");
  });
}

function isReady(node: Node): boolean {
  return node.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
}

function taintText(taint: { key: string; value?: string | undefined; effect: string }): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect}`;
}

function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0] ?? "")) return false;
      const actual = BigInt(value);
      const bound = BigInt(values[0] as string);
      return req.operator === "Gt" ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** A requirement as a label selector writes it: `zone in (a,b)`, `!gpu`, `cores>4`. */
export function requirementText(req: NodeSelectorRequirement): string {
  const values = (req.values ?? []).join(",");
  switch (req.operator) {
    case "In":
      return `${req.key} in (${values})`;
    case "NotIn":
      return `${req.key} notin (${values})`;
    case "Exists":
      return req.key;
    case "DoesNotExist":
      return `!${req.key}`;
    case "Gt":
      return `${req.key}>${values}`;
    case "Lt":
      return `${req.key}<${values}`;
    default:
      return `${req.key} ${req.operator} (${values})`;
  }
}

/** The first requirement of a term the node fails; undefined when the node matches the term. */
function termMiss(term: NodeSelectorTerm, node: Node): NodeSelectorRequirement | undefined {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term matches no node.
  if (expressions.length === 0 && fields.length === 0) return { key: "", operator: "" };
  const labels = labelsOf(node);
  const missed = expressions.find((req) => !requirementMatches(req, labels[req.key]));
  if (missed) return missed;
  return fields.find(
    (req) => !requirementMatches(req, req.key === "metadata.name" ? node.metadata.name : undefined),
  );
}

function affinityRefusal(terms: readonly NodeSelectorTerm[], node: Node): string | undefined {
  const misses = terms.map((t) => termMiss(t, node));
  if (misses.some((m) => m === undefined)) return undefined;
  if (terms.length === 1) {
    const miss = misses[0] as NodeSelectorRequirement;
    if (miss.key === "") return "its required node affinity term is empty, which no node matches";
    if (miss.key === obsoleteHostModelLabel) return "its host CPU model is obsolete (host-model CPU)";
    return `fails required node affinity ${requirementText(miss)}`;
  }
  return `matches none of the ${terms.length} required node affinity terms`;
}

function formatAmount(resource: string, amount: number): string {
  if (resource === "cpu") return `${formatCpuQuantity(amount)} CPU`;
  if (resource === "memory" || resource === "ephemeral-storage" || resource.startsWith("hugepages-"))
    return `${formatBytesQuantity(amount)} ${resource}`;
  return `${Math.max(0, Math.floor(amount))} ${resource}`;
}

function formatNeed(resource: string, amount: number): string {
  if (resource === "cpu") return formatCpuQuantity(amount);
  if (resource === "memory" || resource === "ephemeral-storage" || resource.startsWith("hugepages-"))
    return formatBytesQuantity(amount);
  return String(Math.ceil(amount));
}

/** Resources the node reports only when it has them: missing from allocatable means none. */
function absentMeansNone(resource: string): boolean {
  return resource !== "cpu" && resource !== "memory" && resource !== "ephemeral-storage";
}

const resourceOrder = (name: string) => (name === "memory" ? 0 : name === "cpu" ? 1 : 2);

function resourceRefusal(
  node: Node,
  requests: Record<string, number>,
  used: Record<string, number> | undefined,
  podCount: number | undefined,
): { reason: string; resource: string } | undefined {
  const allocatable = node.status?.allocatable;
  if (!allocatable) return undefined;
  const names = Object.keys(requests)
    .filter((name) => (requests[name] ?? 0) > 0)
    .sort((a, b) => resourceOrder(a) - resourceOrder(b) || compareText(a, b));
  for (const name of names) {
    const need = requests[name] ?? 0;
    const text = allocatable[name];
    if (text === undefined && !absentMeansNone(name)) continue;
    const total = text === undefined ? 0 : (parseQuantity(text) ?? 0);
    const free = total - (used?.[name] ?? 0);
    if (need > free) {
      return {
        reason: `${formatAmount(name, Math.max(0, free))} free, needs ${formatNeed(name, need)}`,
        resource: name,
      };
    }
  }
  const maxPods = parseQuantity(allocatable.pods);
  if (podCount !== undefined && maxPods !== undefined && podCount + 1 > maxPods) {
    return { reason: `runs ${podCount} pods, its maximum`, resource: "pods" };
  }
  return undefined;
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** Decides, node by node, whether the migration's target pod can land there. */
export function placeTargetPod(input: PlacementInput): Placement {
  const target = targetPodOf(input);
  const sourceName = input.vmi.status?.nodeName;
  const uid = input.vmi.metadata.uid;
  const notes = [...target.notes];
  if (input.pods === undefined) {
    notes.push("what runs on the nodes was not counted: could not list pods");
  }

  const used = new Map<string, Record<string, number>>();
  const podCount = new Map<string, number>();
  /** Nodes with another pod of this VMI (the anti-affinity on kubevirt.io/created-by). */
  const vmPods = new Map<string, string>();
  for (const pod of input.pods ?? []) {
    const node = podSpec(pod)?.nodeName;
    if (!node || isTerminal(pod)) continue;
    podCount.set(node, (podCount.get(node) ?? 0) + 1);
    const sum = used.get(node) ?? {};
    for (const [name, amount] of Object.entries(podRequests(pod))) sum[name] = (sum[name] ?? 0) + amount;
    used.set(node, sum);
    const labels = pod.metadata.labels ?? {};
    if (
      uid &&
      labels[createdByLabel] === uid &&
      pod.metadata.namespace === input.vmi.metadata.namespace &&
      !(input.inFlightMigrationUid && labels[migrationJobLabel] === input.inFlightMigrationUid)
    ) {
      vmPods.set(node, pod.metadata.name ?? "");
    }
  }

  const fits: string[] = [];
  const refusals: Refusal[] = [];
  const nodes = [...input.nodes].sort((a, b) => compareText(a.metadata.name ?? "", b.metadata.name ?? ""));
  for (const node of nodes) {
    const name = node.metadata.name ?? "";
    const refuse = (kind: RefusalKind, reason: string, extra: Partial<Refusal> = {}) =>
      refusals.push({ node: name, kind, reason, ...extra });
    if (name === sourceName) {
      refuse("source", "the source node");
      continue;
    }
    if (
      node.spec?.unschedulable &&
      !tolerates(target.tolerations, { key: unschedulableTaintKey, effect: "NoSchedule" })
    ) {
      refuse("cordoned", "cordoned");
      continue;
    }
    if (!isReady(node)) {
      refuse("not-ready", "not Ready");
      continue;
    }
    const taint = (node.spec?.taints ?? []).find(
      (t) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && !tolerates(target.tolerations, t),
    );
    if (taint) {
      refuse("taint", `taint ${taintText(taint)} not tolerated`, { taint: taintText(taint) });
      continue;
    }
    const labels = labelsOf(node);
    const missing = target.needs.find((need) => labels[need.key] !== need.value);
    if (missing) {
      const reason =
        missing.key === schedulableLabel && labels[schedulableLabel] === "false"
          ? `${schedulableLabel}=false`
          : `lacks label ${missing.key}${missing.value ? `=${missing.value}` : ""} (${missing.from})`;
      refuse("label", reason, { label: missing });
      continue;
    }
    const affinity = target.terms ? affinityRefusal(target.terms, node) : undefined;
    if (affinity) {
      refuse("affinity", affinity);
      continue;
    }
    const short = resourceRefusal(
      node,
      target.requests,
      used.get(name),
      input.pods === undefined ? undefined : (podCount.get(name) ?? 0),
    );
    if (short) {
      refuse("resources", short.reason, { resource: short.resource });
      continue;
    }
    const rival = vmPods.get(name);
    if (rival !== undefined) {
      refuse("vm-pod", `already runs ${rival ? `pod ${rival}` : "a pod"} of this VM`);
      continue;
    }
    fits.push(name);
  }
  return { fits, refusals, notes, blocker: target.blocker };
}
