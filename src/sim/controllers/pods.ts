// The scheduler and the kubelet, as much as launcher pods need: a pending pod is bound to a
// Ready, schedulable node that matches its node selector, tolerates the node's taints, keeps
// the pod anti-affinity and has the memory; otherwise it stays Pending with the scheduler's
// FailedScheduling message. A bound pod starts its containers a moment later.

import type { SimObject } from "../store.js";
import { quantity } from "./config.js";
import type { ObjectIndex } from "./object-index.js";
import { type ControllerRuntime, dig, R, statusOf, str, touchesSpecStatusOrLabels } from "./runtime.js";

const scheduleRetryMs = 10_000;
const sandboxRetryMs = 30_000;
const containerStartMs = 2_000;

interface PodSpec {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; effect?: string }[];
  containers?: { name: string; image?: string; resources?: { requests?: Record<string, string> } }[];
  initContainers?: { name: string; image?: string; restartPolicy?: string }[];
  affinity?: {
    podAntiAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: {
        labelSelector?: { matchLabels?: Record<string, string> };
      }[];
    };
  };
}

function specOf(pod: SimObject): PodSpec {
  return (pod.spec ?? {}) as PodSpec;
}

export function podMemoryRequest(pod: SimObject): number {
  return (specOf(pod).containers ?? []).reduce((sum, c) => sum + quantity(c.resources?.requests?.memory), 0);
}

function isTerminal(pod: SimObject): boolean {
  const phase = str(pod, "status", "phase");
  return phase === "Succeeded" || phase === "Failed";
}

function nodeReady(node: SimObject): boolean {
  const conditions = (dig(node, "status", "conditions") ?? []) as { type: string; status: string }[];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

function tolerates(pod: SimObject, taint: { key: string; effect: string }): boolean {
  return (specOf(pod).tolerations ?? []).some(
    (t) => (t.operator === "Exists" && (t.key === undefined || t.key === taint.key)) || t.key === taint.key,
  );
}

const nodeIndexes = new WeakMap<ControllerRuntime, ObjectIndex>();

/**
 * The scheduler's view of the pods, as its cache keeps it: pods by `spec.nodeName` ("" for
 * those not bound yet, its queue), each weighing the memory it requests until it ends. So a
 * node's free memory is a lookup, not a sum over every pod of the cluster for every node.
 */
function podsByNode(rt: ControllerRuntime): ObjectIndex {
  let index = nodeIndexes.get(rt);
  if (!index) {
    index = rt.addIndex(
      R.pod,
      (pod) => specOf(pod).nodeName ?? "",
      (pod) => (isTerminal(pod) ? 0 : podMemoryRequest(pod)),
    );
    nodeIndexes.set(rt, index);
  }
  return index;
}

/**
 * The nodes a pod's required anti-affinity keeps it off: those running a pod (not ended) that
 * a term selects. A term on `kubevirt.io/created-by` (a migration's target, kept off its
 * source) reads that VMI's pods from the index; any other reads every pod once.
 */
function antiAffinityNodes(rt: ControllerRuntime, pod: SimObject): Set<string> {
  const blocked = new Set<string>();
  for (const term of specOf(pod).affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ??
    []) {
    const labels = term.labelSelector?.matchLabels ?? {};
    const match = Object.entries(labels);
    const vmiUid = labels["kubevirt.io/created-by"];
    for (const other of vmiUid === undefined ? rt.list(R.pod) : rt.podsOf(vmiUid)) {
      const node = specOf(other).nodeName;
      if (node && !isTerminal(other) && match.every(([k, v]) => other.metadata.labels?.[k] === v))
        blocked.add(node);
    }
  }
  return blocked;
}

/** Why a node does not fit, in the scheduler's words; undefined when it fits. */
function misfit(
  pod: SimObject,
  node: SimObject,
  blocked: ReadonlySet<string>,
  used: number,
): string | undefined {
  const labels = node.metadata.labels ?? {};
  if (!nodeReady(node)) return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }";
  if (dig(node, "spec", "unschedulable") === true) return "node(s) were unschedulable";
  const taints = (dig(node, "spec", "taints") ?? []) as { key: string; value?: string; effect: string }[];
  const blocking = taints.find(
    (t) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && !tolerates(pod, t),
  );
  if (blocking) return `node(s) had untolerated taint {${blocking.key}: ${blocking.value ?? ""}}`;
  const selector = specOf(pod).nodeSelector ?? {};
  if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    return "node(s) didn't match Pod's node affinity/selector";
  }
  if (blocked.has(node.metadata.name ?? "")) return "node(s) didn't match pod anti-affinity rules";
  if (used + podMemoryRequest(pod) > quantity(dig(node, "status", "allocatable", "memory")))
    return "Insufficient memory";
  return undefined;
}

function unschedulableMessage(total: number, reasons: Map<string, number>): string {
  const parts = [...reasons.entries()].map(([why, n]) => `${n} ${why}`).sort();
  const victims = [...reasons.entries()].map(([why, n]) =>
    why.startsWith("Insufficient")
      ? `${n} No preemption victims found for incoming pod`
      : `${n} Preemption is not helpful for scheduling`,
  );
  const preemption = victims.sort().join(", ");
  return `0/${total} nodes are available: ${parts.join(", ")}. preemption: 0/${total} nodes are available: ${preemption}.`;
}

function setCondition(
  pod: SimObject,
  type: string,
  status: string,
  extra: Record<string, unknown> = {},
  now = "",
): void {
  const statusObject = statusOf(pod);
  const conditions = ((statusObject.conditions ?? []) as Record<string, unknown>[]).filter(
    (c) => c.type !== type,
  );
  conditions.push({ type, status, lastProbeTime: null, lastTransitionTime: now, ...extra });
  statusObject.conditions = conditions;
}

export function schedulePod(rt: ControllerRuntime, namespace: string, name: string): void {
  const pod = rt.peek(R.pod, namespace, name);
  if (!pod || pod.metadata.deletionTimestamp || specOf(pod).nodeName || isTerminal(pod)) return;
  const nodes = [...rt.list(R.node)];
  const reasons = new Map<string, number>();
  const fits: SimObject[] = [];
  const byNode = podsByNode(rt);
  const blocked = antiAffinityNodes(rt, pod);
  const load = (node: SimObject) => byNode.total(node.metadata.name ?? "");
  for (const node of nodes) {
    const why = misfit(pod, node, blocked, load(node));
    if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
    else fits.push(node);
  }
  const now = rt.stamp();
  if (fits.length === 0) {
    const message = unschedulableMessage(nodes.length, reasons);
    rt.mutate(R.pod, namespace, name, (p) => {
      setCondition(p, "PodScheduled", "False", { reason: "Unschedulable", message }, now);
    });
    rt.event(pod, "Warning", "FailedScheduling", message, { component: "default-scheduler" });
    rt.later(scheduleRetryMs, `schedule:${namespace}/${name}`, () => schedulePod(rt, namespace, name));
    return;
  }
  // The least loaded node wins, as the default scoring spreads pods.
  const chosen = fits.sort(
    (a, b) => load(a) - load(b) || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  )[0];
  if (!chosen) return;
  const nodeName = chosen.metadata.name ?? "";
  rt.mutate(R.pod, namespace, name, (p) => {
    (p.spec as PodSpec).nodeName = nodeName;
    setCondition(p, "PodScheduled", "True", {}, now);
  });
  rt.event(pod, "Normal", "Scheduled", `Successfully assigned ${namespace}/${name} to ${nodeName}`, {
    component: "default-scheduler",
  });
  const vmi = pod.metadata.labels?.["kubevirt.io/migrationJobUID"]
    ? rt.peek(R.vmi, namespace, pod.metadata.annotations?.["kubevirt.io/domain"] ?? "")
    : undefined;
  const cniError = vmi ? rt.faults.targetNetworkSetup(vmi) : undefined;
  rt.later(containerStartMs, `kubelet:${namespace}/${name}`, () =>
    cniError ? sandboxFails(rt, namespace, name, cniError) : startContainers(rt, namespace, name),
  );
}

function podIp(rt: ControllerRuntime, node: SimObject | undefined): string {
  const cidr = str(node, "spec", "podCIDR") ?? "10.244.9.0/24";
  const base = cidr.split("/")[0]?.split(".").slice(0, 3).join(".") ?? "10.244.9";
  return `${base}.${rt.random.int(2, 250)}`;
}

/** The kubelet: containers of a bound pod start; init containers ran; the pod is Ready. */
export function startContainers(rt: ControllerRuntime, namespace: string, name: string): void {
  const pod = rt.get(R.pod, namespace, name);
  if (!pod || pod.metadata.deletionTimestamp || str(pod, "status", "phase") !== "Pending") return;
  const nodeName = specOf(pod).nodeName;
  if (!nodeName) return;
  const node = rt.get(R.node, undefined, nodeName);
  const now = rt.stamp();
  const hostIP = ((dig(node, "status", "addresses") ?? []) as { type: string; address: string }[]).find(
    (a) => a.type === "InternalIP",
  )?.address;
  const ip = podIp(rt, node);
  const imageId = (image = "") => `${image.split(":")[0]}@sha256:${rt.random.hex(64)}`;
  rt.mutate(R.pod, namespace, name, (p) => {
    const spec = specOf(p);
    const status = statusOf(p);
    status.phase = "Running";
    status.hostIP = hostIP;
    status.hostIPs = hostIP ? [{ ip: hostIP }] : undefined;
    status.podIP = ip;
    status.podIPs = [{ ip }];
    status.startTime = now;
    status.initContainerStatuses = (spec.initContainers ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      imageID: imageId(c.image),
      ready: c.restartPolicy === "Always",
      restartCount: 0,
      started: c.restartPolicy === "Always",
      state:
        c.restartPolicy === "Always"
          ? { running: { startedAt: now } }
          : { terminated: { exitCode: 0, reason: "Completed", startedAt: now, finishedAt: now } },
    }));
    status.containerStatuses = (spec.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      imageID: imageId(c.image),
      ready: true,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: now } },
    }));
    for (const type of ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"]) {
      setCondition(p, type, "True", {}, now);
    }
  });
  for (const container of specOf(pod).containers ?? []) {
    rt.event(pod, "Normal", "Started", `Started container ${container.name}`, {
      component: "kubelet",
      host: nodeName,
    });
  }
}

/** A pod's containers stop: Succeeded (exit 0) or Failed (exit 1, with the reason). */
export function stopPod(rt: ControllerRuntime, namespace: string, name: string, failed: boolean): void {
  const now = rt.stamp();
  rt.mutate(R.pod, namespace, name, (p) => {
    const status = statusOf(p);
    status.phase = failed ? "Failed" : "Succeeded";
    const statuses = (status.containerStatuses ?? []) as Record<string, unknown>[];
    status.containerStatuses = statuses.map((s) => ({
      ...s,
      ready: false,
      started: false,
      state: {
        terminated: {
          exitCode: failed ? 1 : 0,
          reason: failed ? "Error" : "Completed",
          startedAt: dig(s, "state", "running", "startedAt") ?? now,
          finishedAt: now,
        },
      },
    }));
    for (const type of ["Ready", "ContainersReady"])
      setCondition(p, type, "False", { reason: "PodCompleted" }, now);
  });
  for (const container of specOf(rt.get(R.pod, namespace, name) ?? { metadata: {} }).containers ?? []) {
    rt.logs.end(namespace, name, container.name);
  }
}

/**
 * The kubelet cannot set up the pod's network (a scenario fault): the pod stays
 * ContainerCreating and the kubelet reports FailedCreatePodSandBox again and again.
 */
function sandboxFails(rt: ControllerRuntime, namespace: string, name: string, cniError: string): void {
  const pod = rt.peek(R.pod, namespace, name);
  if (!pod || pod.metadata.deletionTimestamp || str(pod, "status", "phase") !== "Pending") return;
  const node = specOf(pod).nodeName ?? "";
  if (str(pod, "status", "containerStatuses", "0", "state", "waiting", "reason") !== "ContainerCreating") {
    rt.mutate(R.pod, namespace, name, (p) => {
      statusOf(p).containerStatuses = (specOf(p).containers ?? []).map((c) => ({
        name: c.name,
        image: c.image,
        imageID: "",
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason: "ContainerCreating" } },
      }));
    });
  }
  const sandbox = rt.random.hex(64);
  rt.event(
    pod,
    "Warning",
    "FailedCreatePodSandBox",
    `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${sandbox}": plugin type="multus-shim" name="multus-cni-network" failed (add): [${namespace}/${name}/${pod.metadata.uid}:${cniError.match(/network "([^"]+)"/)?.[1] ?? "default"}]: ${cniError}`,
    { component: "kubelet", host: node },
  );
  rt.later(sandboxRetryMs, `kubelet:${namespace}/${name}`, () => sandboxFails(rt, namespace, name, cniError));
}

export function installPodControllers(rt: ControllerRuntime): void {
  podsByNode(rt);
  rt.onChange((change) => {
    if (change.storage === R.pod.storage && change.type !== "DELETED") {
      const { namespace = "", name = "" } = change.object.metadata;
      if (!specOf(change.object).nodeName)
        rt.enqueue(`schedule:${namespace}/${name}`, () => schedulePod(rt, namespace, name));
    }
    if (change.storage === R.pod.storage && change.type === "DELETED") {
      rt.logs.dropPod(change.object.metadata.namespace ?? "", change.object.metadata.name ?? "");
    }
    // A node that changed what the scheduler reads (not a heartbeat) may fit the pods still unbound.
    if (change.storage === R.node.storage && touchesSpecStatusOrLabels(change)) {
      const unbound = podsByNode(rt)
        .objects("")
        .map((pod) => ({ key: `${pod.metadata.namespace}/${pod.metadata.name}`, pod }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const { pod } of unbound) {
        if (specOf(pod).nodeName || pod.metadata.deletionTimestamp || isTerminal(pod)) continue;
        const { namespace = "", name = "" } = pod.metadata;
        rt.enqueue(`schedule:${namespace}/${name}`, () => schedulePod(rt, namespace, name));
      }
    }
  });
}
