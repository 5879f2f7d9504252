// Reading a VM: the VirtualMachine, its VirtualMachineInstance and its migrations, as every
// operation that starts from a VM's name needs them.

import { isNotFound } from "../k8s/api-errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { requireNamespace, vmNotFound } from "../k8s/namespace.js";
import type {
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../k8s/types.js";

/** The label KubeVirt puts on a VMIM: the name of the VMI it migrates. */
export const vmiNameLabel = "kubevirt.io/vmi-name";

export interface VmObjects {
  vm?: VirtualMachine | undefined;
  vmi?: VirtualMachineInstance | undefined;
}

async function optional<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The VM and its VMI; a NotFoundError (exit 5) when neither exists. */
export async function readVm(kube: KubeClient, namespace: string, name: string): Promise<VmObjects> {
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

/** The VMIMs of the VMI named `vmName`, finished ones included, in the list's order. */
export function listMigrationsOf(
  kube: KubeClient,
  namespace: string,
  vmName: string,
): Promise<VirtualMachineInstanceMigration[]> {
  return kube.list("vmim", { namespace, labelSelector: `${vmiNameLabel}=${vmName}` });
}

/** The namespace's VMIs and migrations, and with `vms` its VMs (stopped ones too): what a list of VMs to choose from shows. */
export async function readNamespaceVms(
  kube: KubeClient,
  namespace: string,
  options: { vms: boolean },
): Promise<{
  vmis: VirtualMachineInstance[];
  migrations: VirtualMachineInstanceMigration[];
  vms: VirtualMachine[];
}> {
  const [vmis, migrations, vms] = await Promise.all([
    kube.list("vmi", { namespace }),
    kube.list("vmim", { namespace }),
    options.vms ? kube.list("vm", { namespace }) : Promise.resolve([]),
  ]);
  return { vmis, migrations, vms };
}

/** The VM, its VMI and its migrations, read at once; a NotFoundError when neither VM nor VMI exists. */
export async function readVmWithMigrations(
  kube: KubeClient,
  namespace: string,
  name: string,
): Promise<VmObjects & { migrations: VirtualMachineInstanceMigration[] }> {
  const [migrations, objects] = await Promise.all([
    listMigrationsOf(kube, namespace, name),
    readVm(kube, namespace, name),
  ]);
  return { ...objects, migrations };
}
