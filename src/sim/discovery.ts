// Discovery documents as kube-apiserver serves them (the legacy, unaggregated form, which
// kubectl falls back to): /api, /apis, /apis/{group}, and one APIResourceList per group version.

import { createHash } from "node:crypto";
import {
  apiVersionOf,
  groupsServed,
  kubevirtSubresourceGroup,
  kubevirtSubresources,
  kubevirtSubresourceVersions,
  simResources,
} from "./registry.js";

function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash("sha256").update(`${group}/${version}/${kind}`).digest("base64").slice(0, 11);
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function apiGroup(group: string, versions: string[]): object {
  const entries = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: entries, preferredVersion: entries[0] };
}

export function apiGroupList(): object {
  const groups = [...groupsServed()].filter(([group]) => group !== "");
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groups.map(([group, versions]) => apiGroup(group, versions)),
  };
}

export function apiGroupDocument(group: string): object | undefined {
  const versions = groupsServed().get(group);
  if (!versions || group === "") return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group, versions) };
}

export function apiResourceList(group: string, version: string): object | undefined {
  const groupVersion = apiVersionOf(group, version);
  if (group === kubevirtSubresourceGroup) {
    if (!kubevirtSubresourceVersions.includes(version)) return undefined;
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion,
      resources: kubevirtSubresources.map((sub) => ({
        name: sub.name,
        singularName: "",
        namespaced: true,
        kind: "",
        verbs: sub.verbs,
      })),
    };
  }
  const served = simResources.filter((r) => r.group === group && r.versions.includes(version));
  if (served.length === 0) return undefined;
  const resources: object[] = [];
  for (const res of served) {
    resources.push({
      name: res.plural,
      singularName: res.singular,
      namespaced: res.namespaced,
      kind: res.kind,
      verbs: res.verbs,
      ...(res.shortNames.length > 0 ? { shortNames: res.shortNames } : {}),
      ...(res.categories.length > 0 ? { categories: res.categories } : {}),
      ...(res.virtual
        ? {}
        : { storageVersionHash: storageVersionHash(group, res.versions[0] ?? version, res.kind) }),
    });
    for (const sub of res.subresources) {
      // An eviction is a policy/v1 Eviction posted to the pod (kubectl drain looks for this entry).
      const eviction =
        sub === "eviction"
          ? { group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] }
          : undefined;
      resources.push({
        name: `${res.plural}/${sub}`,
        singularName: "",
        namespaced: res.namespaced,
        ...(eviction ? { group: eviction.group, version: eviction.version } : {}),
        kind: eviction?.kind ?? res.kind,
        verbs: eviction?.verbs ?? (sub === "log" ? ["get"] : ["get", "patch", "update"]),
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
}
