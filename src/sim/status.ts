// Errors as kube-apiserver writes them: a `Status` body with reason, code and details, and the
// message in apimachinery's own words (k8s.io/apimachinery/pkg/api/errors).

import type { Status, StatusCause } from "../k8s/meta.js";
import { qualifiedResource, type SimResource } from "./registry.js";

export class SimApiError extends Error {
  constructor(readonly status: Status & { code: number }) {
    super(status.message);
  }

  get code(): number {
    return this.status.code;
  }
}

type Details = NonNullable<Status["details"]>;

export function statusError(code: number, reason: string, message: string, details?: Details): SimApiError {
  const status: Status & { code: number } = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  } as Status & { code: number };
  if (details) status.details = details;
  return new SimApiError(status);
}

export function successStatus(details: Details): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details } as Status;
}

export function notFound(res: SimResource, name: string): SimApiError {
  return statusError(404, "NotFound", `${qualifiedResource(res)} "${name}" not found`, {
    name,
    group: res.group,
    kind: res.plural,
  });
}

export function namespaceNotFound(name: string): SimApiError {
  return statusError(404, "NotFound", `namespaces "${name}" not found`, {
    name,
    group: "",
    kind: "namespaces",
  });
}

export function alreadyExists(res: SimResource, name: string): SimApiError {
  return statusError(409, "AlreadyExists", `${qualifiedResource(res)} "${name}" already exists`, {
    name,
    group: res.group,
    kind: res.plural,
  });
}

export function conflict(res: SimResource, name: string, why: string): SimApiError {
  return statusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(res)} "${name}": ${why}`,
    {
      name,
      group: res.group,
      kind: res.plural,
    },
  );
}

export const staleObject =
  "the object has been modified; please apply your changes to the latest version and try again";

export function badRequest(message: string): SimApiError {
  return statusError(400, "BadRequest", message);
}

/** 422 with one cause per field, as the validation of any kind reports it. */
export function invalid(res: SimResource, name: string, causes: StatusCause[]): SimApiError {
  const kindGroup = res.group === "" ? res.kind : `${res.kind}.${res.group}`;
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  const summary = causes.length === 1 ? text : `[${text}]`;
  return statusError(422, "Invalid", `${kindGroup} "${name}" is invalid: ${summary}`, {
    name,
    group: res.group,
    kind: res.kind,
    causes,
  });
}

export function pathNotFound(): SimApiError {
  return statusError(404, "NotFound", "the server could not find the requested resource", {});
}

export function methodNotAllowed(): SimApiError {
  return statusError(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
    {},
  );
}

export function unsupportedMediaType(accepted: readonly string[]): SimApiError {
  return statusError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
  );
}

export function gone(message: string): SimApiError {
  return statusError(410, "Expired", message);
}

export function tooOldResourceVersion(requested: number, oldest: number): SimApiError {
  return gone(`too old resource version: ${requested} (${oldest})`);
}

export const expiredContinue =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

export function unauthorized(): SimApiError {
  return statusError(401, "Unauthorized", "Unauthorized");
}

export function internalError(message: string): SimApiError {
  return statusError(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}
