// Live: everything diagnose needs about one VM, each kind read once and concurrently, in at
// most 15 API requests. A read that is refused or fails becomes a note in `missing` (rules
// then say what they could not check); only the VM and VMI themselves are essential.

import { ApiError, describeError } from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { requireNamespace, vmNotFound } from "../k8s/namespace.js";
import type {
  Deployment,
  KubeVirt,
  NetworkAttachmentDefinition,
  NodeNetworkState,
  Pod,
  VirtualMachine,
  VirtualMachineInstance,
} from "../k8s/types.js";
import { countsTowardsLimits } from "../migration/pending.js";
import { isUnfinished, readClusterMigrations } from "./cluster-migrations.js";
import { eventTime, handlerPodSelector, migrationJobLabel } from "./evidence.js";
import { eventsAbout, launcherImageOf, newestTimestamp, sortByTime } from "./snapshot-parts.js";
import type { ApiRejection, ContainerLog, MissingEvidence, Snapshot } from "./types.js";

export interface GatherTarget {
  namespace: string;
  vmName: string;
  /** Failed calls the caller saw (a 403 on migrate, an in-flight rejection). */
  rejections?: readonly ApiRejection[] | undefined;
}

/** Lines of each launcher log read: enough for the last migration's progress and failure. */
export const logTailLines = 300;
// Big pages, so that a busy namespace's events or a large cluster's nodes stay one request.
const bigPage = 5000;
// Where virt-operator installs KubeVirt unless told otherwise; tried when the CR is not readable.
const defaultKubevirtNamespace = "kubevirt";
/** Cross-namespace NADs are read one by one; more than this many are noted, not read. */
const maxForeignNads = 2;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function status(error: unknown): number | undefined {
  return error instanceof ApiError ? error.status : undefined;
}

function why(error: unknown): string {
  const { message } = describeError(error);
  switch (status(error)) {
    case 401:
    case 403:
      return `forbidden: ${message}`;
    case 404:
      return `not found: ${message}`;
    default:
      return `could not be read: ${message}`;
  }
}

/** The value of a read, or `fallback` with a note in `missing` when the read failed. */
function valueOr<T>(outcome: Outcome<T>, fallback: T, what: string, missing: MissingEvidence[]): T {
  if (outcome.ok) return outcome.value;
  missing.push({ what, why: why(outcome.error) });
  return fallback;
}

/** The VM or VMI; a 404 is "there is none", anything else stays an error for the caller. */
async function optional<T>(read: Promise<T>): Promise<Outcome<T | undefined>> {
  const outcome = await settle(read);
  if (!outcome.ok && status(outcome.error) === 404) return { ok: true, value: undefined };
  return outcome;
}

async function kubevirtAndController(
  kube: KubeClient,
): Promise<{ kubevirt: Outcome<KubeVirt | undefined>; controller: Outcome<Deployment | undefined> }> {
  const kubevirt = await settle(kube.findKubeVirt());
  const namespace =
    (kubevirt.ok ? kubevirt.value?.metadata.namespace : undefined) ?? defaultKubevirtNamespace;
  // No KubeVirt CR visible: virt-controller may still be readable where it is usually installed.
  const controller = await settle(kube.findVirtController(namespace));
  return { kubevirt, controller };
}

/** The source launcher (where the VMI runs) and the newest migration target pod. */
export function podsToRead(vmi: VirtualMachineInstance | undefined, pods: readonly Pod[]): Pod[] {
  const running = pods.filter((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp);
  const sourceName = vmi?.status?.migrationState?.sourcePod;
  const source =
    running.find((p) => p.metadata.name === sourceName && p.spec?.nodeName === vmi?.status?.nodeName) ??
    running.find((p) => p.spec?.nodeName === vmi?.status?.nodeName) ??
    running[0];
  const targets = pods.filter((p) => p !== source && p.metadata.labels?.[migrationJobLabel] !== undefined);
  const target = targets.at(-1);
  return [source, target].filter((p): p is Pod => p !== undefined);
}

/** Why a container has no log to read yet, or undefined when it has one. */
function noLogYet(pod: Pod, container: string): string | undefined {
  const state = pod.status?.containerStatuses?.find((c) => c.name === container);
  if (state?.state?.running || state?.state?.terminated || state?.lastState?.terminated) return undefined;
  if (state?.state?.waiting) return `container not started (${state.state.waiting.reason ?? "waiting"})`;
  return pod.status?.phase === "Pending" ? "container not started (pod Pending)" : undefined;
}

async function readLogs(
  kube: KubeClient,
  namespace: string,
  pods: readonly Pod[],
  missing: MissingEvidence[],
) {
  const logs: ContainerLog[] = [];
  const reads = pods.map(async (pod) => {
    const name = pod.metadata.name ?? "";
    const what = `log of ${name}/compute`;
    const notYet = noLogYet(pod, "compute");
    if (notYet) {
      missing.push({ what, why: notYet });
      return;
    }
    const text = await settle(
      kube.podLogs(namespace, name, { container: "compute", tailLines: logTailLines }),
    );
    const body = valueOr(text, undefined, what, missing);
    if (body === undefined) return;
    const lines = body.split("\n");
    if (lines.at(-1) === "") lines.pop();
    logs.push({ namespace, pod: name, container: "compute", lines });
  });
  await Promise.all(reads);
  // Source first, then target, whichever answered first.
  return logs.sort(
    (a, b) =>
      pods.findIndex((p) => p.metadata.name === a.pod) - pods.findIndex((p) => p.metadata.name === b.pod),
  );
}

function multusReferences(
  vm: VirtualMachine | undefined,
  vmi: VirtualMachineInstance | undefined,
  namespace: string,
): { namespace: string; name: string }[] {
  const networks = vmi?.spec.networks ?? vm?.spec.template?.spec?.networks ?? [];
  return networks.flatMap((n) => {
    const ref = n.multus?.networkName;
    if (!ref) return [];
    const [first, second] = ref.split("/", 2);
    return second === undefined
      ? [{ namespace, name: ref }]
      : [{ namespace: first ?? namespace, name: second }];
  });
}

async function foreignNads(
  kube: KubeClient,
  refs: readonly { namespace: string; name: string }[],
  namespace: string,
  missing: MissingEvidence[],
): Promise<NetworkAttachmentDefinition[]> {
  const foreign = refs.filter((r) => r.namespace !== namespace);
  for (const skipped of foreign.slice(maxForeignNads)) {
    missing.push({
      what: `NetworkAttachmentDefinition ${skipped.namespace}/${skipped.name}`,
      why: "not read (too many)",
    });
  }
  const read = await Promise.all(
    foreign.slice(0, maxForeignNads).map(async (r) => {
      const outcome = await settle(kube.get("nad", r.name, r.namespace));
      // A 404 is evidence (the NAD is missing), not missing evidence.
      if (!outcome.ok && status(outcome.error) === 404) return undefined;
      return valueOr(outcome, undefined, `NetworkAttachmentDefinition ${r.namespace}/${r.name}`, missing);
    }),
  );
  return read.filter((n): n is NetworkAttachmentDefinition => n !== undefined);
}

export async function gatherSnapshot(kube: KubeClient, target: GatherTarget, now: string): Promise<Snapshot> {
  const { namespace, vmName } = target;
  const [
    vmRead,
    vmiRead,
    migrationsRead,
    eventsRead,
    nodesRead,
    cluster,
    nadsRead,
    policiesRead,
    accessRead,
  ] = await Promise.all([
    optional(kube.get("vm", vmName, namespace)),
    optional(kube.get("vmi", vmName, namespace)),
    settle(kube.list("vmim", { namespace, labelSelector: `kubevirt.io/vmi-name=${vmName}` })),
    settle(kube.list("event", { namespace, pageSize: bigPage })),
    settle(kube.list("node", { pageSize: bigPage })),
    kubevirtAndController(kube),
    settle(kube.list("nad", { namespace })),
    settle(kube.list("migrationPolicy")),
    settle(
      kube.canI({
        verb: "update",
        group: "subresources.kubevirt.io",
        resource: "virtualmachines",
        subresource: "migrate",
        namespace,
        name: vmName,
      }),
    ),
  ]);

  const vm = vmRead.ok ? vmRead.value : undefined;
  const vmi = vmiRead.ok ? vmiRead.value : undefined;
  if (!vm && !vmi) {
    // Nothing to diagnose: say why (refused, unreachable), or that there is no such VM.
    if (!vmiRead.ok) throw vmiRead.error;
    if (!vmRead.ok) throw vmRead.error;
    await requireNamespace(kube, namespace);
    throw vmNotFound(vmName, namespace);
  }
  const missing: MissingEvidence[] = [];
  if (!vmRead.ok) valueOr(vmRead, undefined, `VirtualMachine ${namespace}/${vmName}`, missing);
  else if (!vm)
    missing.push({ what: `VirtualMachine ${namespace}/${vmName}`, why: "none (a standalone VMI)" });
  if (!vmiRead.ok) valueOr(vmiRead, undefined, `VirtualMachineInstance ${namespace}/${vmName}`, missing);
  else if (!vmi)
    missing.push({
      what: `VirtualMachineInstance ${namespace}/${vmName}`,
      why: "none (the VM is not running)",
    });

  const uid = vmi?.metadata.uid;
  const podSelector = uid ? `kubevirt.io/created-by=${uid}` : `vm.kubevirt.io/name=${vmName}`;
  const refs = multusReferences(vm, vmi, namespace);
  const kubevirtNamespace =
    (cluster.kubevirt.ok ? cluster.kubevirt.value?.metadata.namespace : undefined) ??
    defaultKubevirtNamespace;
  const [podsRead, foreign, handlersRead, statesRead] = await Promise.all([
    settle(kube.list("pod", { namespace, labelSelector: podSelector })),
    foreignNads(kube, refs, namespace, missing),
    settle(kube.list("pod", { namespace: kubevirtNamespace, labelSelector: handlerPodSelector })),
    // The nodes' bridges, for a VM on Multus networks (bridge-missing-on-node).
    refs.length > 0 ? settle(kube.list("nns")) : undefined,
  ]);
  let nodeNetworkStates: NodeNetworkState[] | undefined;
  if (statesRead && !statesRead.ok && status(statesRead.error) === 404) {
    missing.push({
      what: "NodeNetworkStates (the nodes' bridges)",
      why: "kubernetes-nmstate is not installed (no nmstate.io/v1beta1 API)",
    });
  } else if (statesRead) {
    nodeNetworkStates = valueOr(statesRead, undefined, "NodeNetworkStates (the nodes' bridges)", missing);
  }
  const pods = sortByTime(
    valueOr(podsRead, [], `virt-launcher pods of ${vmName}`, missing),
    (p) => p.metadata.creationTimestamp,
  );
  const migrations = sortByTime(
    valueOr(migrationsRead, [], `VirtualMachineInstanceMigrations of ${vmName}`, missing),
    (m) => m.metadata.creationTimestamp,
  );
  const waiting = migrations.some((m) => isUnfinished(m) && !countsTowardsLimits(m));
  const [logs, clusterRead] = await Promise.all([
    readLogs(kube, namespace, podsToRead(vmi, pods), missing),
    waiting ? settle(readClusterMigrations(kube)) : undefined,
  ]);
  const unfinished =
    clusterRead &&
    valueOr(
      clusterRead,
      undefined,
      "the unfinished migrations of the cluster (for the parallel limits)",
      missing,
    );
  const events = eventsAbout(valueOr(eventsRead, [], `events in ${namespace}`, missing), {
    namespace,
    vmName,
    migrationNames: migrations.map((m) => m.metadata.name),
    podNames: pods.map((p) => p.metadata.name),
  });
  const kubevirt = valueOr(cluster.kubevirt, undefined, "KubeVirt resource", missing);
  if (cluster.kubevirt.ok && !kubevirt)
    missing.push({ what: "KubeVirt resource", why: "none found in any namespace" });
  const virtController = valueOr(
    cluster.controller,
    undefined,
    "virt-controller Deployment (the current launcher image)",
    missing,
  );
  if (cluster.controller.ok && !virtController) {
    missing.push({ what: "virt-controller Deployment (the current launcher image)", why: "not found" });
  }
  const access = valueOr(accessRead, undefined, "permission to migrate (SelfSubjectAccessReview)", missing);

  // The snapshot is no older than what it holds: when this machine's clock is behind the
  // cluster's, ages measured against `now` alone would come out negative.
  const newest = newestTimestamp([vm, vmi, ...migrations, ...pods], events.map(eventTime));
  const takenAt = newest !== undefined && Date.parse(newest) > Date.parse(now) ? newest : now;
  return {
    source: "live",
    takenAt,
    namespace,
    vmName,
    vm,
    vmi,
    migrations,
    clusterMigrations: unfinished?.migrations,
    clusterOutboundNodes: unfinished?.outboundNodes,
    pods,
    handlerPods: valueOr(handlersRead, [], `virt-handler pods in ${kubevirtNamespace}`, missing),
    events,
    logs,
    nodes: valueOr(nodesRead, [], "nodes", missing),
    kubevirt,
    virtController,
    currentLauncherImage: launcherImageOf(virtController),
    networkAttachmentDefinitions: [
      ...valueOr(nadsRead, [], `NetworkAttachmentDefinitions in ${namespace}`, missing),
      ...foreign,
    ],
    migrationPolicies: valueOr(policiesRead, [], "MigrationPolicies", missing),
    nodeNetworkStates,
    rejections: [...(target.rejections ?? [])],
    canMigrate: access?.allowed,
    missing,
  };
}
