// The migration's target pod as virt-controller will render it (`createTargetPod`), which is
// what kube-scheduler will weigh: the launch manifest's node selector (the VM's own,
// `kubevirt.io/schedulable=true`, the CPU model, machine type and other node-labeller keys),
// affinity and tolerations; the migration's `addedNodeSelector` under it (the template's keys
// win); for a host-model CPU the source node's host model as
// `cpu-model-migration.node.kubevirt.io/<model>` plus its required features as
// `cpu-feature.node.kubevirt.io/<feature>` (or those keys copied from the source pod once the VM
// has migrated); since v1.8 the source node's `cpu-vendor.node.kubevirt.io/<vendor>`. (Its pod
// anti-affinity on `kubevirt.io/created-by` is placement.ts's: never the source node.)
//
// The running launcher pod was rendered from the same VMI, so its selector, affinity,
// tolerations and requests stand for the target's; the VMI spec is the fallback. Keys of the
// pod's selector that neither KubeVirt nor the VMI set are left out: a former migration's
// addedNodeSelector (`--target-node` of the last move) stays on that pod but not on the next.

import { isOlderThan } from "../k8s/kubevirt-version.js";
import type { KubeVirt, Node, Pod, VirtualMachineInstance } from "../k8s/types.js";
import { compareText } from "../util/order.js";
import { parseQuantity } from "./quantity.js";

export const createdByLabel = "kubevirt.io/created-by";
export const schedulableLabel = "kubevirt.io/schedulable";
export const hostnameLabel = "kubernetes.io/hostname";
const hostModelCpuPrefix = "host-model-cpu.node.kubevirt.io/";
const hostModelFeaturePrefix = "host-model-required-features.node.kubevirt.io/";
const migrationCpuPrefix = "cpu-model-migration.node.kubevirt.io/";
const cpuFeaturePrefix = "cpu-feature.node.kubevirt.io/";
const cpuModelPrefix = "cpu-model.node.kubevirt.io/";
const cpuVendorPrefix = "cpu-vendor.node.kubevirt.io/";
export const obsoleteHostModelLabel = "node-labeller.kubevirt.io/obsolete-host-model";
/** The first release whose target pods carry the source node's CPU vendor (migration.go). */
const vendorSelectorSince = "v1.8.0";

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

interface AffinityView {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
  };
  podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: unknown[] };
  podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: unknown[] };
}

interface ContainerView {
  resources?: { requests?: Record<string, string> };
  restartPolicy?: string;
}

/** The pod fields placement reads (the typed Pod models fewer). */
interface PodSpecView {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: AffinityView;
  tolerations?: Toleration[];
  containers?: ContainerView[];
  initContainers?: ContainerView[];
  overhead?: Record<string, string>;
  topologySpreadConstraints?: unknown[];
}

interface VmiSpecView {
  nodeSelector?: Record<string, string>;
  affinity?: AffinityView;
  tolerations?: Toleration[];
  topologySpreadConstraints?: unknown[];
  domain?: {
    cpu?: { model?: string; features?: { name: string; policy?: string }[] };
    resources?: { requests?: Record<string, string> };
    memory?: { guest?: string };
  };
}

export type AddedBy = "--target-node" | "--node-selector";

export interface TargetPodInput {
  vmi: VirtualMachineInstance;
  /** The VMI's running virt-launcher pod, when it could be read. */
  launcherPod?: Pod | undefined;
  nodes: readonly Node[];
  /** The migration's addedNodeSelector (kvmig's --target-node or --node-selector). */
  addedNodeSelector?: Readonly<Record<string, string>> | undefined;
  addedBy?: AddedBy | undefined;
  /** Its version (the vendor selector) and cluster-wide node selectors. */
  kubevirt?: KubeVirt | undefined;
}

/** One key=value the target pod's nodeSelector asks for, and where it comes from. */
export interface LabelNeed {
  key: string;
  value: string;
  /** "nodeSelector" (the VM's), "--target-node", "host-model CPU of node-1", "KubeVirt", ... */
  from: string;
}

/** What the scheduler will see of the target pod. */
export interface TargetPod {
  needs: LabelNeed[];
  /** Required node affinity terms (ORed); undefined when there are none. */
  terms?: NodeSelectorTerm[] | undefined;
  tolerations: Toleration[];
  /** Base units (bytes, cores, devices). */
  requests: Record<string, number>;
  /** Where the requests come from. */
  requestsFrom: "launcher pod" | "VMI";
  notes: string[];
  blocker?: string | undefined;
}

export function podSpec(pod: Pod | undefined): PodSpecView | undefined {
  return pod?.spec as PodSpecView | undefined;
}

function vmiSpec(vmi: VirtualMachineInstance): VmiSpecView {
  return (vmi.spec ?? {}) as VmiSpecView;
}

/** Keys KubeVirt itself writes into a launch manifest's node selector. */
function isKubeVirtKey(key: string): boolean {
  const domain = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
  return (
    domain === "kubevirt.io" ||
    domain.endsWith(".kubevirt.io") ||
    key === "kubernetes.io/arch" ||
    key === "cpumanager"
  );
}

function isHostModel(vmi: VirtualMachineInstance): boolean {
  return vmiSpec(vmi).domain?.cpu?.model === "host-model";
}

function fromOf(key: string, vmi: VirtualMachineInstance, clusterWide: Record<string, string>): string {
  if (vmiSpec(vmi).nodeSelector?.[key] !== undefined) return "nodeSelector";
  if (clusterWide[key] !== undefined) return "KubeVirt's nodeSelectors";
  if (key === schedulableLabel) return "KubeVirt";
  if (key.startsWith(cpuModelPrefix)) return `CPU model ${key.slice(cpuModelPrefix.length)}`;
  if (key.startsWith(migrationCpuPrefix)) return "host-model CPU";
  if (key.startsWith(cpuFeaturePrefix)) return isHostModel(vmi) ? "host-model CPU" : "CPU feature";
  if (key.startsWith(cpuVendorPrefix)) return "CPU vendor";
  return "KubeVirt";
}

/** The order label refusals are reported in: what the user asked for first. */
function fromRank(from: string): number {
  if (from === "--target-node" || from === "--node-selector") return 0;
  if (from === "nodeSelector") return 1;
  if (from === "KubeVirt's nodeSelectors") return 2;
  if (from === "KubeVirt") return 3;
  return 4;
}

export function labelsOf(node: Node | undefined): Record<string, string> {
  return node?.metadata.labels ?? {};
}

/** The host-model keys virt-controller adds (prepareNodeSelectorForHostCpuModel). */
function hostModelNeeds(
  launcher: Record<string, string> | undefined,
  sourceName: string | undefined,
  source: Node | undefined,
): { needs: LabelNeed[]; blocker?: string; note?: string } {
  // Once migrated, the source pod carries the keys of the VM's first node: KubeVirt keeps them.
  const copied = Object.entries(launcher ?? {}).filter(
    ([key]) => key.includes(cpuFeaturePrefix) || key.includes(migrationCpuPrefix),
  );
  if (copied.length > 0) return { needs: [] };
  if (!source) {
    return {
      needs: [],
      note: `the host-model CPU labels of the source node${sourceName ? ` ${sourceName}` : ""} were not read`,
    };
  }
  const labels = labelsOf(source);
  const model = Object.keys(labels).find((key) => key.startsWith(hostModelCpuPrefix));
  if (!model) {
    return {
      needs: [],
      blocker: `the source node ${sourceName} has no ${hostModelCpuPrefix}<model> label, so KubeVirt cannot render the target pod of a host-model CPU`,
    };
  }
  const from = `host-model CPU of ${sourceName}`;
  const needs: LabelNeed[] = [
    {
      key: migrationCpuPrefix + model.slice(hostModelCpuPrefix.length),
      value: labels[model] ?? "",
      from,
    },
  ];
  for (const [key, value] of Object.entries(labels).sort(([a], [b]) => compareText(a, b))) {
    if (key.startsWith(hostModelFeaturePrefix)) {
      needs.push({ key: cpuFeaturePrefix + key.slice(hostModelFeaturePrefix.length), value, from });
    }
  }
  return { needs };
}

/** Requests of a pod as the scheduler sums them: containers, init containers, overhead. */
export function podRequests(pod: Pod | undefined): Record<string, number> {
  const spec = podSpec(pod);
  const add = (into: Record<string, number>, requests: Record<string, string> | undefined) => {
    for (const [name, text] of Object.entries(requests ?? {})) {
      const amount = parseQuantity(text);
      if (amount !== undefined) into[name] = (into[name] ?? 0) + amount;
    }
  };
  const total: Record<string, number> = {};
  for (const c of spec?.containers ?? []) add(total, c.resources?.requests);
  // Sidecars (restartable init containers) run beside the containers; a plain init container
  // runs alone, with the sidecars started before it.
  const sidecars: Record<string, number> = {};
  const initPeak: Record<string, number> = {};
  for (const c of spec?.initContainers ?? []) {
    if (c.restartPolicy === "Always") {
      add(sidecars, c.resources?.requests);
      continue;
    }
    const alone: Record<string, number> = { ...sidecars };
    add(alone, c.resources?.requests);
    for (const [name, amount] of Object.entries(alone))
      initPeak[name] = Math.max(initPeak[name] ?? 0, amount);
  }
  for (const [name, amount] of Object.entries(sidecars)) total[name] = (total[name] ?? 0) + amount;
  for (const [name, amount] of Object.entries(initPeak)) total[name] = Math.max(total[name] ?? 0, amount);
  add(total, spec?.overhead);
  return total;
}

/** The target pod, as virt-controller will render it for this migration. */
export function targetPodOf(input: TargetPodInput): TargetPod {
  const { vmi, launcherPod, addedNodeSelector = {} } = input;
  const spec = vmiSpec(vmi);
  const launcher = podSpec(launcherPod);
  // developerConfiguration.nodeSelectors: KubeVirt puts them on every launch manifest.
  const developer = input.kubevirt?.spec.configuration?.developerConfiguration as
    | { nodeSelectors?: Record<string, string> }
    | undefined;
  const clusterWide = developer?.nodeSelectors ?? {};
  const notes: string[] = [];
  const selector: Record<string, string> = {};
  const from: Record<string, string> = {};
  const set = (key: string, value: string, source: string) => {
    selector[key] = value;
    from[key] = source;
  };

  set(schedulableLabel, "true", "KubeVirt");
  for (const [k, v] of Object.entries(clusterWide)) set(k, v, "KubeVirt's nodeSelectors");
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) set(k, v, "nodeSelector");
  if (launcher) {
    for (const [k, v] of Object.entries(launcher.nodeSelector ?? {})) {
      if (isKubeVirtKey(k) && spec.nodeSelector?.[k] === undefined) set(k, v, fromOf(k, vmi, clusterWide));
    }
  } else {
    const model = spec.domain?.cpu?.model;
    if (model && model !== "host-model" && model !== "host-passthrough") {
      set(cpuModelPrefix + model, "true", `CPU model ${model}`);
    }
    for (const feature of spec.domain?.cpu?.features ?? []) {
      if (!feature.policy || feature.policy === "require")
        set(cpuFeaturePrefix + feature.name, "true", "CPU feature");
    }
  }

  const sourceName = vmi.status?.nodeName;
  const source = input.nodes.find((n) => n.metadata.name === sourceName);
  let blocker: string | undefined;
  if (isHostModel(vmi)) {
    const hostModel = hostModelNeeds(launcher?.nodeSelector, sourceName, source);
    for (const need of hostModel.needs) set(need.key, need.value, need.from);
    if (hostModel.note) notes.push(hostModel.note);
    blocker = hostModel.blocker;
  }
  const version = input.kubevirt?.status?.observedKubeVirtVersion;
  const vendorSelector = !version || !isOlderThan(version, vendorSelectorSince);
  if (vendorSelector && !Object.keys(selector).some((k) => k.startsWith(cpuVendorPrefix))) {
    const vendor = Object.keys(labelsOf(source)).find((k) => k.startsWith(cpuVendorPrefix));
    if (vendor) set(vendor, "true", `CPU vendor of ${sourceName}`);
  }
  // The migration's addedNodeSelector goes under the template: the template's keys win.
  for (const [k, v] of Object.entries(addedNodeSelector)) {
    if (selector[k] === undefined) set(k, v, input.addedBy ?? "--node-selector");
  }

  const needs = Object.entries(selector)
    .map(([key, value]) => ({ key, value, from: from[key] ?? "KubeVirt" }))
    .sort((a, b) => fromRank(a.from) - fromRank(b.from));

  const affinity = launcher ? launcher.affinity : spec.affinity;
  let terms = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!launcher && isHostModel(vmi)) {
    // setNodeAffinityForHostModelCpuModel: a host-model VM avoids nodes of an obsolete host model.
    const avoid: NodeSelectorRequirement = { key: obsoleteHostModelLabel, operator: "DoesNotExist" };
    terms =
      terms && terms.length > 0
        ? terms.map((t) => ({ ...t, matchExpressions: [...(t.matchExpressions ?? []), avoid] }))
        : [{ matchExpressions: [avoid] }];
  }

  const userAffinity = spec.affinity;
  if (
    (userAffinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0 ||
    (userAffinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0
  ) {
    notes.push("the VM's own pod affinity rules were not checked");
  }
  if ((spec.topologySpreadConstraints?.length ?? 0) > 0) {
    notes.push("the VM's topology spread constraints were not checked");
  }

  let requests: Record<string, number>;
  let requestsFrom: TargetPod["requestsFrom"];
  if (launcherPod) {
    requests = podRequests(launcherPod);
    requestsFrom = "launcher pod";
  } else {
    requestsFrom = "VMI";
    requests = {};
    const memory = parseQuantity(spec.domain?.resources?.requests?.memory ?? spec.domain?.memory?.guest);
    if (memory !== undefined) requests.memory = memory;
    const cpu = parseQuantity(spec.domain?.resources?.requests?.cpu);
    if (cpu !== undefined) requests.cpu = cpu;
    if (Object.keys(requests).length > 0) {
      notes.push(
        "the launcher pod was not read: the VMI's own requests were used, without KubeVirt's overhead",
      );
    }
  }

  return {
    needs,
    terms,
    tolerations: (launcher ? launcher.tolerations : spec.tolerations) ?? [],
    requests,
    requestsFrom,
    notes,
    blocker,
  };
}
