// Names checked before anything is sent: Kubernetes' own rules (DNS-1123), so that a typo gets
// a precise one-line error and a hint instead of a confusing "not found".

import { UsageError } from "../errors.js";
import { commandLine } from "./shell.js";

const label = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const subdomainPattern = new RegExp(`^${label}(\\.${label})*$`);
const labelPattern = new RegExp(`^${label}$`);

function problem(value: string, max: number, pattern: RegExp, dots: boolean): string | undefined {
  if (value === "") return "it is empty";
  if (value.length > max) return `it is ${value.length} characters long, more than ${max}`;
  if (value.includes("/")) return "it contains '/'";
  if (/[A-Z]/.test(value) && pattern.test(value.toLowerCase())) return "names are lower case";
  if (pattern.test(value)) return undefined;
  return dots
    ? "a name is lower-case letters, digits, '-' and '.', and starts and ends with a letter or digit"
    : "a name is lower-case letters, digits and '-', and starts and ends with a letter or digit";
}

function fail(what: string, value: string, why: string, example: string): never {
  const lower = value.toLowerCase();
  const suggestion = why === "names are lower case" ? `did you mean "${lower}"? ` : "";
  throw new UsageError(`invalid ${what} "${value}": ${why}`, { hint: `${suggestion}${example}` });
}

/** A VM or VMI name: a DNS-1123 subdomain, as the API server requires of object names. */
export function checkVmName(value: string, listHint: string): void {
  const why = problem(value, 253, subdomainPattern, true);
  if (why) fail("VM name", value, why, listHint);
}

/** A namespace: a DNS-1123 label (at most 63 characters, no dots). */
export function checkNamespace(value: string): void {
  const why = problem(value, 63, labelPattern, false);
  if (why)
    fail(
      "namespace",
      value,
      why,
      `list the namespaces with: ${commandLine(["kubectl", "get", "namespaces"])}`,
    );
}
