// May this user evacuate the node? Asked of the API server (SelfSubjectAccessReview) before
// anything changes, so that a missing permission never leaves a node cordoned with nothing moving:
// the cordon (patch the node) and the evictions (create pods/eviction in each namespace of a VM to
// migrate) must be allowed, and with --restart the restarts. What kvmig needs only when a VM's
// evacuation fails twice (evacuate/cancel, deleting KubeVirt's queued retry) is a warning: the
// evacuation works without it, and kvmig then says it could not stop that VM's retries.
// A review that cannot be made is no answer (access-review.ts).

import { UnauthorizedError } from "../errors.js";
import { type AccessAttributes, accessCheckCommand, evacuationAccess } from "../k8s/access-check.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { EvacuationPlan } from "../migration/evacuation-plan.js";
import { allowedEach } from "./access-review.js";

interface Wanted {
  attrs: AccessAttributes;
  /** The permission as a person reads it. */
  text: string;
  /** Needed to start (an error), or only to stop a failing VM's retries (a warning). */
  required: boolean;
}

function wanted(plan: EvacuationPlan): Wanted[] {
  const out: Wanted[] = [];
  if (!plan.cordoned)
    out.push({
      attrs: evacuationAccess.cordon(plan.node),
      text: `patch node ${plan.node} (cordon)`,
      required: true,
    });
  const namespaces = (action: string) =>
    [...new Set(plan.vms.filter((v) => v.action === action).map((v) => v.namespace))].sort();
  for (const namespace of namespaces("migrate")) {
    out.push({
      attrs: evacuationAccess.evict(namespace),
      text: `create pods/eviction in ${namespace}`,
      required: true,
    });
    out.push({
      attrs: evacuationAccess.evacuateCancel(namespace),
      text: `update virtualmachineinstances/evacuate in ${namespace}`,
      required: false,
    });
    out.push({
      attrs: { ...evacuationAccess.evacuateCancel(namespace), subresource: "evacuate/cancel" },
      text: `update virtualmachineinstances/evacuate/cancel in ${namespace}`,
      required: false,
    });
    out.push({
      attrs: {
        verb: "delete",
        group: "kubevirt.io",
        resource: "virtualmachineinstancemigrations",
        namespace,
      },
      text: `delete virtualmachineinstancemigrations in ${namespace}`,
      required: false,
    });
  }
  for (const namespace of namespaces("restart")) {
    out.push({
      attrs: {
        verb: "update",
        group: "subresources.kubevirt.io",
        resource: "virtualmachines",
        subresource: "restart",
        namespace,
      },
      text: `update virtualmachines/restart in ${namespace}`,
      required: true,
    });
  }
  return out;
}

/**
 * Throws an UnauthorizedError (exit 4, nothing changed) naming every permission the evacuation
 * needs to start and lacks; returns the warnings for what only stopping a failing VM needs.
 */
export async function checkEvacuationAccess(kube: KubeClient, plan: EvacuationPlan): Promise<string[]> {
  const checks = wanted(plan);
  const allowed = await allowedEach(
    kube,
    checks.map((w) => w.attrs),
  );
  const answers = checks.map((w, i) => ({ ...w, allowed: allowed[i] }));
  const denied = answers.filter((a) => !a.allowed && a.required);
  const first = denied[0];
  if (first) {
    throw new UnauthorizedError(
      `not allowed to ${denied.map((d) => d.text).join("; ")}; nothing was changed`,
      {
        hint: `evacuating a node needs deploy/rbac.yaml's kvmig-node-maintainer bound with a ClusterRoleBinding; check with: ${accessCheckCommand(first.attrs)}`,
      },
    );
  }
  const missing = answers.filter((a) => !a.allowed && !a.required).map((a) => a.text);
  return missing.length === 0
    ? []
    : [
        `not allowed to ${missing.join("; ")}: a VM whose migration fails twice cannot be stopped from retrying (KubeVirt's backoff goes on); kvmig-node-maintainer grants these`,
      ];
}
