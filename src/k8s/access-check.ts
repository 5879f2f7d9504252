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
    ...(attrs.namespace === undefined ? ["-A"] : ["-n", attrs.namespace]),
    ...as,
  ]);
}
