// OpenAPI v3 documents, as much of them as kubectl needs: `kubectl create`/`apply` first asks
// whether the server validates fields itself (the `fieldValidation` parameter of the PATCH
// operation carrying the kind's x-kubernetes-group-version-kind), and then leaves validation to
// the server instead of failing with "failed to download openapi". Schemas are open objects.

import { createHash } from "node:crypto";
import {
  apiVersionOf,
  groupsServed,
  kubevirtSubresourceGroup,
  type SimResource,
  simResources,
} from "./registry.js";

function groupVersionPath(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

function hash(text: string): string {
  return createHash("sha512").update(text).digest("hex").slice(0, 128).toUpperCase();
}

/** `GET /openapi/v3`: one entry per group version. */
export function openApiRoot(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [group, versions] of groupsServed()) {
    if (group === kubevirtSubresourceGroup) continue;
    for (const version of versions) {
      const path = groupVersionPath(group, version);
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash(path)}` };
    }
  }
  return { paths };
}

function schemaName(res: SimResource, version: string): string {
  const group = res.group === "" ? "io.k8s.api.core" : res.group.split(".").reverse().join(".");
  return `${group}.${version}.${res.kind}`;
}

const queryParameters = ["dryRun", "fieldManager", "fieldValidation", "pretty"].map((name) => ({
  name,
  in: "query",
  schema: { type: "string", uniqueItems: true },
}));

function operation(res: SimResource, version: string, action: string, verb: string): object {
  return {
    operationId: `${verb}${res.kind}`,
    parameters: queryParameters,
    responses: { "200": { description: "OK" } },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": { group: res.group, version, kind: res.kind },
  };
}

/** `GET /openapi/v3/apis/{group}/{version}` (or `api/v1`); undefined when not served. */
export function openApiDocument(path: string): object | undefined {
  const match = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!match) return undefined;
  const group = match[2] ?? "";
  const version = (match[1] ?? match[3]) as string;
  const served = simResources.filter((r) => r.group === group && r.versions.includes(version));
  if (served.length === 0) return undefined;
  const paths: Record<string, object> = {};
  const schemas: Record<string, object> = {};
  for (const res of served) {
    const base = `/${groupVersionPath(group, version)}${res.namespaced ? "/namespaces/{namespace}" : ""}/${res.plural}`;
    if (res.virtual) {
      paths[base] = { post: operation(res, version, "post", "create") };
    } else {
      paths[base] = {
        get: operation(res, version, "list", "list"),
        post: operation(res, version, "post", "create"),
      };
      paths[`${base}/{name}`] = {
        get: operation(res, version, "get", "read"),
        put: operation(res, version, "put", "replace"),
        patch: operation(res, version, "patch", "patch"),
        delete: operation(res, version, "delete", "delete"),
      };
    }
    schemas[schemaName(res, version)] = {
      type: "object",
      description: `${res.kind} (${apiVersionOf(group, version)}), as served by the kvmig simulated cluster.`,
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
      "x-kubernetes-preserve-unknown-fields": true,
      "x-kubernetes-group-version-kind": [{ group, version, kind: res.kind }],
    };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.3" },
    paths,
    components: { schemas },
  };
}
