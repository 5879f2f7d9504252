// A namespace that does not exist reads the same on every path: `namespace "x" not found`, exit 5,
// whether the command named a VM (the API server then answers 404 for the VM too), watched a
// namespace, listed outdated VMIs or offered a picker. Lists in a missing namespace come back
// empty rather than 404, so the paths that list ask for the namespace itself.

import { NotFoundError } from "../errors.js";
import { commandLine } from "../util/shell.js";
import { isNotFound } from "./api-errors.js";
import type { KubeClient } from "./kube-client.js";

export function namespaceNotFound(namespace: string): NotFoundError {
  return new NotFoundError(`namespace "${namespace}" not found`, {
    hint: `list the namespaces with: ${commandLine(["kubectl", "get", "namespaces"])}, and pass one with -n`,
  });
}

export function vmNotFound(name: string, namespace: string): NotFoundError {
  return new NotFoundError(`VirtualMachine "${name}" not found in namespace "${namespace}"`, {
    hint: `list the VMs with: ${commandLine(["kubectl", "get", "vm,vmi", "-n", namespace])}`,
  });
}

/**
 * Throws namespaceNotFound when the API server says the namespace does not exist. Any other
 * answer proves nothing (a user allowed into one namespace may not read Namespace objects) and
 * lets the command go on.
 */
export async function requireNamespace(kube: KubeClient, namespace: string): Promise<void> {
  try {
    await kube.get("namespace", namespace);
  } catch (error) {
    if (isNotFound(error)) throw namespaceNotFound(namespace);
  }
}
