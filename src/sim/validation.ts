// Object-level validation every kind gets from kube-apiserver (names, namespaces), in its words.

import type { StatusCause } from "../k8s/meta.js";
import { pathSegmentNameErrors, rbacGroup, validateRbacObject } from "./rbac.js";
import type { SimResource } from "./registry.js";
import type { SimObject } from "./sim-object.js";

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const subdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const labelMessage =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** Namespaces are DNS labels; RBAC objects path segments; every other kind here DNS subdomain names. */
export function validateName(res: SimResource, name: string): StatusCause[] {
  const field = "metadata.name";
  if (name === "") {
    return [
      { reason: "FieldValueRequired", field, message: "Required value: name or generateName is required" },
    ];
  }
  if (res.group === rbacGroup) {
    return pathSegmentNameErrors(name).map((message) => ({
      reason: "FieldValueInvalid",
      field,
      message: `Invalid value: "${name}": ${message}`,
    }));
  }
  const label = res.plural === "namespaces";
  const max = label ? 63 : 253;
  if (name.length > max) {
    return [
      {
        reason: "FieldValueInvalid",
        field,
        message: `Invalid value: "${name}": must be no more than ${max} characters`,
      },
    ];
  }
  const ok = label ? dnsLabel.test(name) : dnsSubdomain.test(name);
  if (!ok) {
    return [
      {
        reason: "FieldValueInvalid",
        field,
        message: `Invalid value: "${name}": ${label ? labelMessage : subdomainMessage}`,
      },
    ];
  }
  return [];
}

/** Label keys and values as metav1validation checks them, for metadata.labels. */
export function validateLabels(labels: unknown): StatusCause[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== "object") {
    return [
      { reason: "FieldValueTypeInvalid", field: "metadata.labels", message: "Invalid value: must be a map" },
    ];
  }
  const causes: StatusCause[] = [];
  const valuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    if (typeof value !== "string" || value.length > 63 || !valuePattern.test(value)) {
      causes.push({
        reason: "FieldValueInvalid",
        field: "metadata.labels",
        message: `Invalid value: "${String(value)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      });
    }
    const slash = key.indexOf("/");
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    const prefix = slash >= 0 ? key.slice(0, slash) : "";
    const namePattern = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
    if (
      name.length === 0 ||
      name.length > 63 ||
      !namePattern.test(name) ||
      (slash >= 0 && !dnsSubdomain.test(prefix))
    ) {
      causes.push({
        reason: "FieldValueInvalid",
        field: "metadata.labels",
        message: `Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      });
    }
  }
  return causes;
}

/** What a kind's own strategy checks on create and update (`old`); it may default fields first. */
export function validateKind(res: SimResource, object: SimObject, old?: SimObject): StatusCause[] {
  return validateRbacObject(res, object, old);
}
