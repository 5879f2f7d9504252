// The command a person runs to check a permission themselves. `kubectl auth can-i` cannot name
// KubeVirt's subresources (virt-api's discovery lists only `virtualmachines/migrate`-style
// entries, so kubectl resolves `virtualmachines` to the wrong group); for those, the command
// posts the same SelfSubjectAccessReview kvmig asks, and prints true or false.

import { commandLine, shellQuote } from "../util/shell.js";

export interface AccessAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string | undefined;
  /** Undefined: cluster-wide (as -A asks). */
  namespace?: string | undefined;
  name?: string | undefined;
}

/** Core resources that live outside namespaces: `kubectl auth can-i` takes neither -n nor -A for them. */
const clusterScoped: ReadonlySet<string> = new Set(["nodes", "namespaces", "persistentvolumes"]);

export function isClusterScoped(attrs: Pick<AccessAttributes, "group" | "resource">): boolean {
  return attrs.group === "" && clusterScoped.has(attrs.resource);
}

/**
 * What the writes of a node evacuation need, as the API server's authorizer sees them (a path's
 * first segment after the name is the subresource: `evacuate` of `evacuate/cancel`).
 */
export const evacuationAccess = {
  /** Cordon and uncordon: a patch of the node. */
  cordon: (node?: string): AccessAttributes => ({ verb: "patch", group: "", resource: "nodes", name: node }),
  /** A policy/v1 Eviction of a pod. */
  evict: (namespace?: string, pod?: string): AccessAttributes => ({
    verb: "create",
    group: "",
    resource: "pods",
    subresource: "eviction",
    namespace,
    name: pod,
  }),
  /**
   * virt-api's evacuate/cancel of a VMI (KubeVirt v1.7+), as kube-apiserver checks it. virt-api
   * (v1.9+) checks `evacuate/cancel` again and answers 401 when refused: a role needs both names.
   * KubeVirt's admin and edit roles name only `evacuate/cancel`, which this check never matches.
   */
  evacuateCancel: (namespace?: string, vmi?: string): AccessAttributes => ({
    verb: "update",
    group: "subresources.kubevirt.io",
    resource: "virtualmachineinstances",
    subresource: "evacuate",
    namespace,
    name: vmi,
  }),
} as const;

export function accessCheckCommand(attrs: AccessAttributes, asUser?: string): string {
  const as = asUser ? [`--as=${asUser}`] : [];
  if (attrs.group === "subresources.kubevirt.io") {
    const review = JSON.stringify({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: {
        resourceAttributes: {
          verb: attrs.verb,
          group: attrs.group,
          resource: attrs.resource,
          ...(attrs.subresource ? { subresource: attrs.subresource } : {}),
          ...(attrs.namespace !== undefined ? { namespace: attrs.namespace } : {}),
          ...(attrs.name ? { name: attrs.name } : {}),
        },
      },
    });
    return `echo ${shellQuote(review)} | ${commandLine(["kubectl", "create", ...as, "--validate=false", "-f", "-", "-o", "jsonpath={.status.allowed}"])}`;
  }
  const resource = attrs.group === "" ? attrs.resource : `${attrs.resource}.${attrs.group}`;
  return commandLine([
    "kubectl",
    "auth",
    "can-i",
    attrs.verb,
    resource,
    ...(attrs.subresource ? [`--subresource=${attrs.subresource}`] : []),
    ...(isClusterScoped(attrs) ? [] : attrs.namespace === undefined ? ["-A"] : ["-n", attrs.namespace]),
    ...as,
  ]);
}
