// What the forecast (forecast.ts) knows of a VM beyond the samples, from objects already read: its
// memory, labels and VFIO devices from the VMI, and its migration settings resolved from the
// KubeVirt CR and the MigrationPolicies as KubeVirt resolves them. One builder for the follow
// (operations/forecast.ts reads the objects) and for diagnose (its snapshot holds them), so that
// both advise the same MigrationPolicy for the same VM.

import type { KubeVirt, MigrationPolicy, VirtualMachineInstance } from "../k8s/types.js";
import { guestMemoryOf } from "./evacuation-plan.js";
import { type ForecastSubject, resolveSettings } from "./forecast.js";

/** What the settings are resolved from. */
export interface ForecastContext {
  kubevirt?: KubeVirt | undefined;
  policies?: readonly MigrationPolicy[] | undefined;
  /** The namespace's labels; KubeVirt's kubernetes.io/metadata.name at least. */
  namespaceLabels?: Record<string, string> | undefined;
}

/** Host devices, GPUs or SR-IOV interfaces: VFIO, which post-copy cannot move. */
function hasVfio(vmi: VirtualMachineInstance | undefined): boolean {
  const devices = vmi?.spec?.domain?.devices as
    | { hostDevices?: unknown[]; gpus?: unknown[]; interfaces?: { sriov?: unknown }[] }
    | undefined;
  return (
    (devices?.hostDevices?.length ?? 0) > 0 ||
    (devices?.gpus?.length ?? 0) > 0 ||
    (devices?.interfaces ?? []).some((i) => i.sriov !== undefined)
  );
}

export function forecastSubject(
  target: { namespace: string; vmName: string; migrationUid?: string | undefined },
  vmi: VirtualMachineInstance | undefined,
  context: ForecastContext,
): ForecastSubject {
  return {
    namespace: target.namespace,
    vmName: target.vmName,
    memoryBytes: vmi ? guestMemoryOf(vmi) : 0,
    labels: vmi?.metadata.labels,
    vfio: hasVfio(vmi),
    settings: resolveSettings({
      kubevirt: context.kubevirt,
      policies: context.policies,
      namespaceLabels: context.namespaceLabels,
      vmi,
      migrationUid: target.migrationUid,
    }),
  };
}
