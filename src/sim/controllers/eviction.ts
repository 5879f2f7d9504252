// KubeVirt's pod-eviction webhook, as v1.9 has it (`pkg/virt-api/webhooks/validating-webhook/
// admitters/pod-eviction-admitter.go`, webhook `virt-launcher-eviction-interceptor.kubevirt.io`):
// evicting a virt-launcher pod (a drain, the workload updater's Evict) does not kill the VM when
// its eviction strategy wants it moved. The strategy is the VMI's `spec.evictionStrategy`, else
// the KubeVirt CR's `spec.configuration.evictionStrategy`, else None (`pkg/util/migrations/
// migrations.go` VMIEvictionStrategy; `pkg/virt-config/configuration.go`). In order:
//   - a pod that is no launcher, or a launcher that has completed (Succeeded/Failed), may go;
//   - a launcher whose VMI cannot be read: 429 `kubevirt failed getting the vmi: …`;
//   - strategy None (or LiveMigrateIfPossible on a VMI that is not migratable): the pod goes;
//   - LiveMigrate on a VMI without `LiveMigratable=True`: 429 `VMI <name> is configured with an
//     eviction strategy but is not live-migratable`;
//   - otherwise (LiveMigrate, LiveMigrateIfPossible when migratable, External):
//     - a VMI already marked: 429 `Evacuation in progress: Eviction triggered evacuation of VMI …`;
//     - a pod on another node than the VMI (a migration's target, or a source that has not
//       finished): 429 `Eviction request for target Pod`, so a drain waits for the migration;
//     - else `status.evacuationNodeName` is set to the pod's node (not on a dry run; with the
//       descheduler's `requested-by` annotation also `kubevirt.io/eviction-source: descheduler`
//       on the VMI) and the eviction is refused with `Eviction triggered evacuation of VMI …`.
// The refusal is an AdmissionResponse Status with code 429 and no reason. A hotplug-disk pod is
// refused while its launcher's VMI exists. What the mark leads to is the evacuation controller's
// business (evacuation.ts): External VMIs are marked but never migrated by KubeVirt.

import { type SimApiError, statusError } from "../status.js";
import type { SimObject } from "../store.js";
import { type ControllerRuntime, dig, R, str } from "./runtime.js";

export type EvictionStrategy = "None" | "LiveMigrate" | "LiveMigrateIfPossible" | "External";

const webhook = "virt-launcher-eviction-interceptor.kubevirt.io";
export const evictionSourceAnnotation = "kubevirt.io/eviction-source";
const requestedBy = "requested-by";
const descheduler = "sigs.k8s.io/descheduler";

function refused(message: string): SimApiError {
  const error = statusError(429, "", `admission webhook "${webhook}" denied the request: ${message}`);
  delete (error.status as { reason?: string }).reason;
  return error;
}

/** `vmi.IsMigratable()`: the `LiveMigratable` condition is True. */
export function isMigratable(vmi: SimObject): boolean {
  const conditions = (dig(vmi, "status", "conditions") ?? []) as { type: string; status: string }[];
  return conditions.some((c) => c.type === "LiveMigratable" && c.status === "True");
}

/** VMIEvictionStrategy: the VMI's own, else the cluster's, else KubeVirt's default None. */
export function evictionStrategyOf(rt: ControllerRuntime, vmi: SimObject): EvictionStrategy {
  return (str(vmi, "spec", "evictionStrategy") ??
    str(rt.list(R.kubevirt)[0], "spec", "configuration", "evictionStrategy") ??
    "None") as EvictionStrategy;
}

/** VMIMigratableOnEviction: LiveMigrate, or LiveMigrateIfPossible on a migratable VMI (not External). */
export function migratesOnEviction(rt: ControllerRuntime, vmi: SimObject): boolean {
  const strategy = evictionStrategyOf(rt, vmi);
  return strategy === "LiveMigrate" || (strategy === "LiveMigrateIfPossible" && isMigratable(vmi));
}

function isCompleted(pod: SimObject): boolean {
  const phase = str(pod, "status", "phase");
  return phase === "Succeeded" || phase === "Failed";
}

function isLauncher(pod: SimObject): boolean {
  return pod.metadata.labels?.["kubevirt.io"] === "virt-launcher";
}

function admitHotplugPod(rt: ControllerRuntime, pod: SimObject): void {
  const namespace = pod.metadata.namespace ?? "";
  const owner = rt.peek(R.pod, namespace, pod.metadata.ownerReferences?.[0]?.name ?? "");
  if (!owner || !isLauncher(owner) || isCompleted(owner)) return;
  const vmiName = owner.metadata.annotations?.["kubevirt.io/domain"];
  if (vmiName === undefined || !rt.peek(R.vmi, namespace, vmiName)) return;
  throw refused(
    `cannot evict hotplug pod: ${pod.metadata.name} associated with running vmi: ${vmiName} in namespace ${namespace}`,
  );
}

function admitLauncherPod(rt: ControllerRuntime, pod: SimObject, dryRun: boolean, eviction: unknown): void {
  const namespace = pod.metadata.namespace ?? "";
  const vmiName = pod.metadata.annotations?.["kubevirt.io/domain"];
  if (vmiName === undefined) return;
  const vmi = rt.peek(R.vmi, namespace, vmiName);
  if (!vmi) {
    throw refused(
      `kubevirt failed getting the vmi: virtualmachineinstances.kubevirt.io "${vmiName}" not found`,
    );
  }
  const strategy = evictionStrategyOf(rt, vmi);
  let mark = false;
  if (strategy === "LiveMigrate") {
    if (!isMigratable(vmi)) {
      throw refused(`VMI ${vmiName} is configured with an eviction strategy but is not live-migratable`);
    }
    mark = true;
  } else if (strategy === "LiveMigrateIfPossible") {
    mark = isMigratable(vmi);
  } else if (strategy === "External") {
    mark = true;
  }
  if (!mark) return;
  const message = `Eviction triggered evacuation of VMI "${namespace}/${vmiName}"`;
  if (str(vmi, "status", "evacuationNodeName")) throw refused(`Evacuation in progress: ${message}`);
  const node = str(pod, "spec", "nodeName") ?? "";
  if (str(vmi, "status", "nodeName") !== node) throw refused("Eviction request for target Pod");
  const annotations = (eviction as { metadata?: { annotations?: Record<string, string> } } | undefined)
    ?.metadata?.annotations;
  if (!dryRun) {
    rt.mutate(R.vmi, namespace, vmiName, (o) => {
      (o.status as Record<string, unknown>).evacuationNodeName = node;
      if (annotations?.[requestedBy] === descheduler) {
        o.metadata.annotations = { ...o.metadata.annotations, [evictionSourceAnnotation]: "descheduler" };
      }
    });
  }
  throw refused(message);
}

/** The webhook: returns when the eviction may proceed, throws the 429 that refuses it. */
export function evictionWebhook(rt: ControllerRuntime) {
  return (pod: SimObject, dryRun: boolean, eviction?: unknown): void => {
    const app = pod.metadata.labels?.["kubevirt.io"];
    if (app === "hotplug-disk" && pod.metadata.ownerReferences?.length === 1) admitHotplugPod(rt, pod);
    else if (isLauncher(pod) && !isCompleted(pod)) admitLauncherPod(rt, pod, dryRun, eviction);
  };
}

/**
 * A policy/v1 Eviction posted by a controller (the workload updater's Evict): the webhook, then
 * the pod's deletion. Throws the refusal.
 */
export function evictPod(rt: ControllerRuntime, pod: SimObject): void {
  evictionWebhook(rt)(pod, false, {
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
  });
  rt.remove(R.pod, pod.metadata.namespace, pod.metadata.name ?? "");
}
