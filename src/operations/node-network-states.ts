// kubernetes-nmstate's NodeNetworkStates, read for the bridge checks (migration/bridges.ts) of
// migrate's pre-flight and evacuate's plan: a list that fails is why they are missing (a 404:
// nmstate is not installed), never an error.

import { ApiError } from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { NodeNetworkState } from "../k8s/types.js";
import { nmstateUnreadable } from "../migration/bridges.js";

/** The states, or why they could not be read. */
export async function listNodeNetworkStates(
  kube: KubeClient,
): Promise<{ states?: NodeNetworkState[] | undefined; unread?: string | undefined }> {
  try {
    return { states: await kube.list("nns") };
  } catch (error) {
    const status = error instanceof ApiError ? error.status : undefined;
    return { unread: nmstateUnreadable(status, error instanceof Error ? error.message : String(error)) };
  }
}
