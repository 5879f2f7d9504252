// cpu-model-mismatch: no node can take the guest's CPU. With a host-model CPU (KubeVirt's default)
// the target pod requires the source node's CPU model and features through node-selector labels;
// when no other node carries them, KubeVirt warns NoSuitableNodesForHostModelMigration and the
// target pod never schedules. When a node does carry the labels but its CPU still lacks a feature
// the guest uses, libvirt refuses the incoming guest: "guest CPU doesn't match specification".
//
// State signatures: a target pod with CPU-label node selectors that no node other than the source
// carries; a host-model guest whose migration failed within a minute of Running, from a node of
// one host CPU model (host-model-cpu.node.kubevirt.io/<model>) to a node of another (low
// confidence). The NoSuitableNodesForHostModelMigration reason and libvirt's text raise it.

import type { Node, Pod } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  eventAtOrAfter,
  eventEvidence,
  failureTextsMatching,
  findEvents,
  isTargetPod,
  lowerConfidence,
  migrationObject,
  migrationStateOf,
  missingAbout,
  nonEmpty,
  phaseTime,
  relevantMigrations,
  relevantSince,
  sourcePodOf,
  targetPodsOf,
} from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "cpu-model-mismatch";
const title = "No node offers the VM's CPU model or features";
const docs = "https://kubevirt.io/user-guide/compute/virtual_hardware/";

/** Node-selector label prefixes KubeVirt's CPU handling puts on launcher pods. */
const cpuLabelPrefixes = [
  "host-model-cpu.node.kubevirt.io/",
  "cpu-model-migration.node.kubevirt.io/",
  "cpu-model.node.kubevirt.io/",
  "cpu-feature.node.kubevirt.io/",
];

export function isCpuLabel(key: string): boolean {
  return cpuLabelPrefixes.some((prefix) => key.startsWith(prefix));
}

const missingFeatures =
  /guest CPU doesn'?t match specification: missing features: ([\w.,-]+)|Host CPU does not provide required features: ([\w.,-]+)|the CPU is incompatible with host CPU/;

/** The CPU labels a pod's node selector requires. */
export function cpuSelector(pod: Pod): Record<string, string> {
  return Object.fromEntries(Object.entries(pod.spec?.nodeSelector ?? {}).filter(([key]) => isCpuLabel(key)));
}

export interface CpuSelectorCheck {
  pod: Pod;
  required: Record<string, string>;
  /** Nodes other than the source that carry every required label. */
  fitting: string[];
  /** Per other node, the required labels it lacks. */
  lacking: { node: string; labels: string[] }[];
}

/**
 * For a target pod that requires CPU labels: which other nodes carry them all. Undefined when the
 * pod requires none, or no nodes were read.
 */
export function checkCpuSelector(
  s: Snapshot,
  pod: Pod,
  sourceNode: string | undefined,
): CpuSelectorCheck | undefined {
  const required = cpuSelector(pod);
  if (Object.keys(required).length === 0 || s.nodes.length === 0) return undefined;
  const others = s.nodes.filter((n) => n.metadata.name !== sourceNode);
  const lacking = others.map((n) => ({
    node: n.metadata.name ?? "?",
    labels: Object.entries(required)
      .filter(([k, v]) => n.metadata.labels?.[k] !== v)
      .map(([k]) => k),
  }));
  return {
    pod,
    required,
    fitting: lacking.filter((l) => l.labels.length === 0).map((l) => l.node),
    lacking: lacking.filter((l) => l.labels.length > 0),
  };
}

function sourceNodeOf(s: Snapshot): string | undefined {
  return s.vmi?.status?.migrationState?.sourceNode ?? s.vmi?.status?.nodeName;
}

/** Unscheduled target pods of the relevant migrations whose CPU labels no other node carries. */
export function unsatisfiableCpuTargets(s: Snapshot): CpuSelectorCheck[] {
  const source = sourceNodeOf(s);
  const pods = new Set<Pod>();
  for (const m of relevantMigrations(s)) for (const p of targetPodsOf(s, m)) pods.add(p);
  if (s.migrations.length === 0) for (const p of s.pods) if (isTargetPod(p)) pods.add(p);
  const found: CpuSelectorCheck[] = [];
  for (const pod of pods) {
    if (pod.spec?.nodeName) continue;
    const check = checkCpuSelector(s, pod, source);
    if (check && check.fitting.length === 0) found.push(check);
  }
  return found;
}

/** NoSuitableNodesForHostModelMigration warnings since the oldest relevant migration. */
export function noSuitableNodeEvents(s: Snapshot) {
  const since = relevantSince(s);
  return findEvents(s, { reason: "NoSuitableNodesForHostModelMigration" }).filter((e) =>
    eventAtOrAfter(e, since),
  );
}

/** Whether this rule explains an unschedulable target pod (for target-pod-unschedulable's causedBy). */
export function cpuExplainsUnschedulable(s: Snapshot, pod: Pod): boolean {
  if (unsatisfiableCpuTargets(s).some((c) => c.pod === pod)) return true;
  return Object.keys(cpuSelector(pod)).length > 0 && noSuitableNodeEvents(s).length > 0;
}

function cpuModelOf(s: Snapshot): string {
  return s.vmi?.spec.domain?.cpu?.model ?? s.vm?.spec.template?.spec?.domain?.cpu?.model ?? "";
}

/** CPU models every schedulable node advertises (`cpu-model.node.kubevirt.io/<model>=true`). */
function commonCpuModels(nodes: readonly Node[]): string[] {
  const usable = nodes.filter((n) => !n.spec?.unschedulable);
  if (usable.length < 2) return [];
  const modelsOf = (n: Node) =>
    new Set(
      Object.entries(n.metadata.labels ?? {})
        .filter(([k, v]) => k.startsWith("cpu-model.node.kubevirt.io/") && v === "true")
        .map(([k]) => k.slice("cpu-model.node.kubevirt.io/".length)),
    );
  const [first, ...rest] = usable.map(modelsOf);
  return [...(first ?? [])].filter((model) => rest.every((set) => set.has(model))).sort();
}

/** A host-model guest's migration that failed within this long of its transfer starting. */
const earlyFailureSeconds = 60;

function hostModelCpuOf(node: Node | undefined): string | undefined {
  const key = Object.keys(node?.metadata.labels ?? {}).find((k) =>
    k.startsWith("host-model-cpu.node.kubevirt.io/"),
  );
  return key?.slice("host-model-cpu.node.kubevirt.io/".length);
}

/**
 * From state alone: a host-model guest whose migration failed within a minute of Running, from
 * a node of one host CPU model to a node of another (their host-model-cpu labels differ).
 */
function crossModelEarlyFailure(s: Snapshot): Evidence[] {
  const model = cpuModelOf(s);
  if (model !== "" && model !== "host-model") return [];
  const failed = relevantMigrations(s)
    .filter((m) => m.status?.phase === "Failed")
    .at(-1);
  if (!failed) return [];
  const running = phaseTime(failed, "Running");
  const ended = phaseTime(failed, "Failed");
  const seconds = running && ended ? (Date.parse(ended) - Date.parse(running)) / 1000 : Number.NaN;
  if (!(seconds >= 0 && seconds <= earlyFailureSeconds)) return [];
  const state = migrationStateOf(s, failed);
  const target = targetPodsOf(s, failed).find((p) => p.spec?.nodeName)?.spec?.nodeName ?? state?.targetNode;
  const source = state?.sourceNode ?? sourcePodOf(s, failed)?.spec?.nodeName ?? s.vmi?.status?.nodeName;
  const node = (name: string | undefined) => s.nodes.find((n) => n.metadata.name === name);
  const from = hostModelCpuOf(node(source));
  const to = hostModelCpuOf(node(target));
  if (!from || !to || from === to || source === target) return [];
  return [
    {
      object: migrationObject(failed),
      field: "status.phaseTransitionTimestamps",
      time: ended,
      text: `Failed ${Math.round(seconds)} s after Running: the target refused the guest as the transfer began`,
    },
    {
      object: `Node/${source}`,
      field: "metadata.labels",
      text: `host-model-cpu.node.kubevirt.io/${from} (the source: the guest's host-model CPU)`,
    },
    {
      object: `Node/${target}`,
      field: "metadata.labels",
      text: `host-model-cpu.node.kubevirt.io/${to} (the target: another CPU generation)`,
    },
  ];
}

function detect(s: Snapshot): Finding[] {
  const evidence: Evidence[] = [];
  const notChecked: string[] = [];
  const events = noSuitableNodeEvents(s);
  for (const e of events.slice(-2)) evidence.push(eventEvidence(e));
  const incompatible = failureTextsMatching(s, missingFeatures);
  evidence.push(...incompatible.slice(0, 3));
  const unsatisfiable = unsatisfiableCpuTargets(s);
  for (const check of unsatisfiable.slice(0, 1)) {
    const lacking = check.lacking
      .slice(0, 4)
      .map((l) => `${l.node} lacks ${l.labels.slice(0, 3).join(", ")}${l.labels.length > 3 ? ", ..." : ""}`)
      .join("; ");
    evidence.push({
      object: `Pod/${check.pod.metadata.name ?? "?"}`,
      field: "spec.nodeSelector",
      text: `requires ${Object.entries(check.required)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}; no node other than the source has them all (${lacking})`,
    });
  }
  const crossModel = evidence.length === 0 ? crossModelEarlyFailure(s) : [];
  evidence.push(...crossModel);
  if (evidence.length === 0) return [];

  const features = [
    ...new Set(
      incompatible.flatMap((e) => {
        const m = missingFeatures.exec(e.text);
        return (m?.[1] ?? m?.[2] ?? "").split(",").filter(Boolean);
      }),
    ),
  ];
  const model = cpuModelOf(s);
  const hostModel = model === "" || model === "host-model";
  const modelEvidence: Evidence = {
    object: `VirtualMachineInstance/${s.vmi?.metadata.name ?? s.vmName}`,
    field: "spec.domain.cpu.model",
    text:
      model === "" ? "(unset: the cluster default, host-model unless the KubeVirt CR sets cpuModel)" : model,
  };
  if (s.vmi || s.vm) evidence.push(modelEvidence);

  let confidence: Confidence = events.length > 0 || incompatible.length > 0 ? "high" : "medium";
  if (unsatisfiable.length > 0 && confidence === "medium") confidence = "high";
  if (crossModel.length > 0) {
    confidence = "low";
    notChecked.push(
      "libvirt's own words (\"guest CPU doesn't match specification\" and the missing features): no failure text was found, so this is read from the nodes' CPU models and the timing",
    );
  }
  if (s.nodes.length === 0) notChecked.push("the nodes' CPU model and feature labels (nodes were not read)");
  if (missingAbout(s, /events/i).length > 0) {
    notChecked.push("events (NoSuitableNodesForHostModelMigration is an event on the VMI)");
    if (incompatible.length === 0 && unsatisfiable.length === 0) confidence = lowerConfidence(confidence);
  }

  const vm = s.vmName;
  const ns = ["-n", s.namespace];
  const common = commonCpuModels(s.nodes);
  const commands: string[] = [];
  const pod = unsatisfiable[0]?.pod ?? s.pods.find((p) => isTargetPod(p) && !p.spec?.nodeName);
  if (pod?.metadata.name)
    commands.push(commandLine(["kubectl", "describe", "pod", pod.metadata.name, ...ns]));
  // The host model of one of the nodes, when every node offers it, keeps the most features.
  const hostModels = new Set(
    s.nodes.flatMap((n) =>
      Object.keys(n.metadata.labels ?? {})
        .filter((k) => k.startsWith("host-model-cpu.node.kubevirt.io/"))
        .map((k) => k.slice("host-model-cpu.node.kubevirt.io/".length)),
    ),
  );
  const chosen = common.find((m) => hostModels.has(m)) ?? common[0];
  if (chosen) {
    commands.push(
      commandLine(["kubectl", "get", "nodes", "-l", `cpu-model.node.kubevirt.io/${chosen}=true`]),
    );
    commands.push(
      commandLine([
        "kubectl",
        "patch",
        "vm",
        vm,
        ...ns,
        "--type",
        "merge",
        "-p",
        JSON.stringify({ spec: { template: { spec: { domain: { cpu: { model: chosen } } } } } }),
      ]),
    );
  } else {
    commands.push(commandLine(["kubectl", "get", "nodes", "--show-labels"]));
    commands.push(commandLine(["kubectl", "edit", "vm", vm, ...ns]));
  }
  commands.push(kvmigCommand(["restart", vm, ...ns]));

  const where = features.length > 0 ? ` (missing on the target: ${features.join(", ")})` : "";
  const why = hostModel
    ? "The VM uses the host-model CPU, so it can only move to nodes with the same CPU model and features as the node it started on"
    : `The VM asks for CPU model ${model}, which no other node can provide`;
  const summary = `${why}; ${
    incompatible.length > 0
      ? `the target node's CPU lacks features the guest uses${where}, so libvirt refused the incoming guest`
      : crossModel.length > 0
        ? "the migration went to a node of another CPU generation and failed as soon as the transfer began, which is how the target refuses a CPU it cannot provide"
        : "no other node offers them, so the migration target cannot be placed anywhere"
  }. A running guest keeps its CPU: only a restart with a CPU model every node offers fixes this.`;
  const explanation = chosen
    ? `Set the VM's CPU model to one every node advertises (${common.join(", ")} here; ${chosen} is used below), then restart the VM so it boots with that model (this causes downtime). A cluster-wide default is spec.configuration.cpuModel in the KubeVirt CR.`
    : "Pick a CPU model that every node advertises (the cpu-model.node.kubevirt.io/<model> node labels) and set it in the VM's spec.template.spec.domain.cpu.model (or cluster-wide in the KubeVirt CR's spec.configuration.cpuModel), then restart the VM so it boots with that model (this causes downtime).";
  return [
    {
      id,
      title,
      severity: "error",
      confidence,
      summary,
      evidence,
      fix: { explanation, commands },
      docs,
      notChecked: nonEmpty(notChecked),
    },
  ];
}

export const cpuModelMismatch: Rule = { id, title, severity: "error", detect };

/** For other rules: whether this rule finds something in the snapshot. */
export function cpuMismatchFound(s: Snapshot): boolean {
  return detect(s).length > 0;
}
