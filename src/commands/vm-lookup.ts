// Finding a VM and its migrations: the reads migrate, watch and cancel share.

import { isNotFound } from "../k8s/api-errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { requireNamespace, vmNotFound } from "../k8s/namespace.js";
import type { VirtualMachine, VirtualMachineInstance } from "../k8s/types.js";

export const vmiNameLabel = "kubevirt.io/vmi-name";

async function optional<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The VM and its VMI; a NotFoundError (exit 5) when neither exists. */
export async function readVm(
  kube: KubeClient,
  namespace: string,
  name: string,
): Promise<{ vm?: VirtualMachine | undefined; vmi?: VirtualMachineInstance | undefined }> {
  const [vm, vmi] = await Promise.all([
    optional(kube.get("vm", name, namespace)),
    optional(kube.get("vmi", name, namespace)),
  ]);
  if (!vm && !vmi) {
    // The API server answers 404 for an object in a namespace that does not exist, too.
    await requireNamespace(kube, namespace);
    throw vmNotFound(name, namespace);
  }
  return { vm, vmi };
}

export function listMigrationsOf(kube: KubeClient, namespace: string, vmName: string) {
  return kube.list("vmim", { namespace, labelSelector: `${vmiNameLabel}=${vmName}` });
}
