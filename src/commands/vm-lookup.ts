// Finding a VM and its migrations: the reads migrate, watch and cancel share.

import { NotFoundError } from "../errors.js";
import { isNotFound } from "../k8s/api-errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { VirtualMachine, VirtualMachineInstance } from "../k8s/types.js";
import { commandLine } from "../util/shell.js";

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
    if (!(await namespaceExists(kube, namespace))) {
      throw new NotFoundError(`namespace "${namespace}" not found`, {
        hint: `list the namespaces with: ${commandLine(["kubectl", "get", "namespaces"])} (or pass -n with the VM's namespace)`,
      });
    }
    throw new NotFoundError(`VirtualMachine "${name}" not found in namespace "${namespace}"`, {
      hint: `list the VMs with: ${commandLine(["kubectl", "get", "vm,vmi", "-n", namespace])}`,
    });
  }
  return { vm, vmi };
}

/** False only when the server says the namespace does not exist (a 403 proves nothing). */
async function namespaceExists(kube: KubeClient, namespace: string): Promise<boolean> {
  try {
    await kube.get("namespace", namespace);
    return true;
  } catch (error) {
    return !isNotFound(error);
  }
}

export function listMigrationsOf(kube: KubeClient, namespace: string, vmName: string) {
  return kube.list("vmim", { namespace, labelSelector: `${vmiNameLabel}=${vmName}` });
}
