// KubeVirt's pod-eviction webhook (facts §e): evicting a virt-launcher pod (a drain) does not
// kill the VM. With eviction strategy LiveMigrate (or External, or LiveMigrateIfPossible on a
// migratable VMI) the eviction is refused with 429 and the VMI is marked for evacuation, which
// the evacuation controller turns into a migration; the drain retries until the pod is gone.

import { statusError } from "../status.js";
import type { SimObject } from "../store.js";
import { type ControllerRuntime, dig, R, str } from "./runtime.js";

const webhook = "virt-launcher-eviction-interceptor.kubevirt.io";

function refused(message: string): Error {
  return statusError(429, "TooManyRequests", `admission webhook "${webhook}" denied the request: ${message}`);
}

export function evictionWebhook(rt: ControllerRuntime) {
  return (pod: SimObject, dryRun: boolean): void => {
    if (pod.metadata.labels?.["kubevirt.io"] !== "virt-launcher") return;
    const namespace = pod.metadata.namespace ?? "";
    const vmiName = pod.metadata.annotations?.["kubevirt.io/domain"] ?? "";
    const vmi = rt.peek(R.vmi, namespace, vmiName);
    if (!vmi || vmi.metadata.uid !== pod.metadata.labels?.["kubevirt.io/created-by"]) return;
    const node = str(pod, "spec", "nodeName");
    // Only the pod the VMI runs in matters; an old source or a failed target may go.
    if (str(vmi, "status", "phase") !== "Running" || str(vmi, "status", "nodeName") !== node) return;
    const strategy =
      str(vmi, "spec", "evictionStrategy") ??
      str(rt.list(R.kubevirt)[0], "spec", "configuration", "evictionStrategy") ??
      "None";
    const conditions = (dig(vmi, "status", "conditions") ?? []) as { type: string; status: string }[];
    const migratable = conditions.some((c) => c.type === "LiveMigratable" && c.status === "True");
    const evacuate =
      strategy === "External" ||
      (strategy === "LiveMigrate" && migratable) ||
      (strategy === "LiveMigrateIfPossible" && migratable);
    if (strategy === "LiveMigrate" && !migratable) {
      throw refused(
        `VMI ${namespace}/${vmiName} is configured with an eviction strategy but is not live-migratable`,
      );
    }
    if (!evacuate) return;
    const message = `Eviction triggered evacuation of VMI "${namespace}/${vmiName}"`;
    if (str(vmi, "status", "evacuationNodeName")) throw refused(`Evacuation in progress: ${message}`);
    if (!dryRun) {
      rt.mutate(R.vmi, namespace, vmiName, (o) => {
        (o.status as Record<string, unknown>).evacuationNodeName = node;
      });
    }
    throw refused(message);
  };
}
