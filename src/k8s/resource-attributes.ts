// A request's path and method as the API server's authorizer sees them (its RequestInfo
// resolver): what api-errors.ts names in a hint and webhook-refusal.ts reads a VM's name from.

/** A request path taken apart, the way the API server's RequestInfo resolver does it. */
export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource: string | undefined;
  namespace: string | undefined;
  name: string | undefined;
}

export function resourceAttributes(method: string, pathWithQuery: string): ResourceAttributes | undefined {
  const [path = "", query = ""] = pathWithQuery.split("?", 2);
  const parts = path.split("/").filter((p) => p !== "");
  let group: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    group = "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1] ?? "";
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1] ?? "");
    rest = rest.slice(2);
  }
  const [resource, rawName, ...sub] = rest;
  if (resource === undefined) return undefined;
  const name = rawName === undefined ? undefined : decodeURIComponent(rawName);
  // The authorizer sees the first segment only: `evacuate` of `.../evacuate/cancel`.
  const subresource = sub[0];
  const watching = new URLSearchParams(query).get("watch");
  const verb = verbOf(method, name !== undefined, watching === "1" || watching === "true");
  return { verb, group, resource, subresource, namespace, name };
}

function verbOf(method: string, hasName: boolean, watching: boolean): string {
  switch (method.toUpperCase()) {
    case "GET":
      if (watching) return "watch";
      return hasName ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return hasName ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}
