// The pods pre-flight needs to place a migration's target pod (migration/placement.ts): the
// VMI's running virt-launcher pod, whose selector, affinity, tolerations and requests the target
// pod will repeat, and every non-terminal pod bound to a node, for what each node has left.
// The node-wide list is read as a stream and each pod kept only as the fields placement reads, so
// a cluster of many thousand pods costs little memory. A list that fails is reported as
// undefined: placement then says what it could not count instead of guessing.

import type { KubeClient } from "../k8s/kube-client.js";
import type { Pod, VirtualMachineInstance } from "../k8s/types.js";
import { createdByLabel } from "../migration/target-pod.js";

/** kube-scheduler's own view: pods that still hold their node's resources. */
const nonTerminal = "status.phase!=Succeeded,status.phase!=Failed";

interface ContainerResources {
  resources?: { requests?: Record<string, string> };
  restartPolicy?: string;
}

/** Only what placement reads of a pod on some node: its node, requests, labels and phase. */
function slim(pod: Pod): Pod {
  const spec = (pod.spec ?? {}) as {
    nodeName?: string;
    containers?: ContainerResources[];
    initContainers?: ContainerResources[];
    overhead?: Record<string, string>;
  };
  const requests = (c: ContainerResources) => ({
    name: "",
    resources: { requests: c.resources?.requests ?? {} },
    ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}),
  });
  return {
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, labels: pod.metadata.labels },
    spec: {
      nodeName: spec.nodeName,
      containers: (spec.containers ?? []).map(requests),
      ...(spec.initContainers ? { initContainers: spec.initContainers.map(requests) } : {}),
      ...(spec.overhead ? { overhead: spec.overhead } : {}),
    } as Pod["spec"],
    status: { phase: pod.status?.phase },
  } as Pod;
}

async function nodePods(kube: KubeClient, targetNode: string | undefined): Promise<Pod[] | undefined> {
  const fieldSelector = targetNode ? `spec.nodeName=${targetNode},${nonTerminal}` : nonTerminal;
  try {
    const pods: Pod[] = [];
    for await (const piece of kube.listStream("pod", { fieldSelector })) {
      for (const pod of piece.objects) if (pod.spec?.nodeName) pods.push(slim(pod));
    }
    return pods;
  } catch {
    return undefined;
  }
}

/**
 * Every non-terminal pod bound to a node, each cut down to what placement reads; undefined when
 * they could not be listed.
 */
export function readBoundPods(kube: KubeClient): Promise<Pod[] | undefined> {
  return nodePods(kube, undefined);
}

/**
 * The VMI's launcher pod on its node among `pods` (any pods; those of other VMIs are skipped):
 * running, else the newest that is not finished.
 */
export function activeLauncherPod(pods: readonly Pod[], vmi: VirtualMachineInstance): Pod | undefined {
  const uid = vmi.metadata.uid;
  if (!uid) return undefined;
  const onNode = pods.filter(
    (p) =>
      p.metadata.labels?.[createdByLabel] === uid &&
      p.metadata.namespace === vmi.metadata.namespace &&
      p.spec?.nodeName === vmi.status?.nodeName &&
      p.status?.phase !== "Succeeded" &&
      p.status?.phase !== "Failed" &&
      !p.metadata.deletionTimestamp,
  );
  return onNode.find((p) => p.status?.phase === "Running") ?? onNode.at(-1);
}

/** The VMI's launcher pod on its node: running, else the newest that is not finished. */
async function launcherPod(kube: KubeClient, vmi: VirtualMachineInstance): Promise<Pod | undefined> {
  const uid = vmi.metadata.uid;
  const namespace = vmi.metadata.namespace;
  if (!uid || !namespace) return undefined;
  const pods = await kube
    .list("pod", { namespace, labelSelector: `${createdByLabel}=${uid}` })
    .catch(() => [] as Pod[]);
  return activeLauncherPod(pods, vmi);
}

export async function readPlacementPods(
  kube: KubeClient,
  vmi: VirtualMachineInstance | undefined,
  targetNode: string | undefined,
): Promise<{ launcherPod?: Pod | undefined; pods?: Pod[] | undefined }> {
  if (vmi?.status?.phase !== "Running") return {};
  const [launcher, pods] = await Promise.all([launcherPod(kube, vmi), nodePods(kube, targetNode)]);
  return { launcherPod: launcher, pods };
}
