// Request paths to what they name, as kube-apiserver's router reads them: discovery, a
// resource collection or object (with subresource), the legacy `/watch/` prefix, and the
// routes of KubeVirt's aggregated subresource API.

import {
  findResource,
  kubevirtSubresourceGroup,
  kubevirtSubresourceVersions,
  type SimResource,
} from "./registry.js";

export type Route =
  | { type: "version" }
  | { type: "health" }
  | { type: "apiVersions" }
  | { type: "openapi"; path: string }
  | { type: "groupList" }
  | { type: "group"; group: string }
  | { type: "resourceList"; group: string; version: string }
  | {
      type: "resource";
      res: SimResource;
      group: string;
      version: string;
      namespace: string | undefined;
      name: string | undefined;
      subresource: string | undefined;
      /** The deprecated `/watch/` path form. */
      watchPath: boolean;
    }
  | {
      type: "kubevirt";
      version: string;
      /** `version`, or an action on a VM or VMI such as `migrate`, `evacuate/cancel`. */
      action: string;
      resource?: "virtualmachines" | "virtualmachineinstances";
      namespace?: string;
      name?: string;
    }
  | { type: "unknown" };

function decode(segments: string[]): string[] {
  return segments.map((segment) => decodeURIComponent(segment));
}

export function parseRoute(pathname: string): Route {
  const trimmed = pathname.replace(/\/+$/, "");
  if (trimmed === "/version") return { type: "version" };
  if (/^\/(healthz|livez|readyz)(\/.*)?$/.test(trimmed)) return { type: "health" };
  if (trimmed === "/api") return { type: "apiVersions" };
  if (trimmed === "/openapi/v3" || trimmed.startsWith("/openapi/v3/"))
    return { type: "openapi", path: trimmed };
  if (trimmed === "/apis") return { type: "groupList" };
  let segments: string[];
  try {
    segments = decode(trimmed.split("/").slice(1));
  } catch {
    return { type: "unknown" };
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === "api") {
    if (segments.length < 2) return { type: "unknown" };
    group = "";
    version = segments[1] ?? "";
    rest = segments.slice(2);
  } else if (segments[0] === "apis") {
    if (segments.length === 2) return { type: "group", group: segments[1] ?? "" };
    group = segments[1] ?? "";
    version = segments[2] ?? "";
    rest = segments.slice(3);
  } else {
    return { type: "unknown" };
  }
  if (rest.length === 0) return { type: "resourceList", group, version };
  if (group === kubevirtSubresourceGroup) return kubevirtRoute(version, rest);

  let watchPath = false;
  if (rest[0] === "watch") {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    const candidate = findResource(group, version, rest[2] ?? "");
    // `/api/v1/namespaces/{name}/status` is the namespace's own subresource, not a collection.
    if (candidate?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const [plural = "", name, ...sub] = rest;
  const res = findResource(group, version, plural);
  if (!res) return { type: "unknown" };
  if (res.namespaced === false && namespace !== undefined) return { type: "unknown" };
  return {
    type: "resource",
    res,
    group,
    version,
    namespace,
    name,
    subresource: sub.length > 0 ? sub.join("/") : undefined,
    watchPath,
  };
}

function kubevirtRoute(version: string, rest: string[]): Route {
  if (!kubevirtSubresourceVersions.includes(version)) return { type: "unknown" };
  if (rest.length === 1 && (rest[0] === "version" || rest[0] === "healthz")) {
    return { type: "kubevirt", version, action: rest[0] };
  }
  const [namespaces, namespace, resource, name, ...action] = rest;
  if (namespaces !== "namespaces" || !namespace || !name || action.length === 0) return { type: "unknown" };
  if (resource !== "virtualmachines" && resource !== "virtualmachineinstances") return { type: "unknown" };
  return { type: "kubevirt", version, action: action.join("/"), resource, namespace, name };
}
