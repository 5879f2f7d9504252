// Validates nmstate.io objects against kubernetes-nmstate's own CRDs (test/fixtures/nmstate-crds/,
// deploy/crds/nmstate.io_*.yaml of nmstate/kubernetes-nmstate): the openAPIV3Schema of the object's
// version. As with KubeVirt's schema (openapi-schema.ts), an object schema that lists properties is
// closed unless it preserves unknown fields: the API server prunes unknown fields of a structural
// schema, so one in an object we build is a typo a real cluster would silently drop.

import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import ajvFormats from "ajv-formats";
import { parse } from "yaml";

type Node = Record<string, unknown>;

const crdFiles = [
  "nmstate.io_nodenetworkstates.yaml",
  "nmstate.io_nodenetworkconfigurationpolicies.yaml",
  "nmstate.io_nodenetworkconfigurationenactments.yaml",
];

function isRecord(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function close(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) close(item);
    return;
  }
  if (!isRecord(node)) return;
  if (
    isRecord(node.properties) &&
    node.additionalProperties === undefined &&
    node["x-kubernetes-preserve-unknown-fields"] !== true
  ) {
    node.additionalProperties = false;
  }
  for (const value of Object.values(node)) close(value);
}

interface CrdVersion {
  name: string;
  schema: { openAPIV3Schema: Node };
}

let validators: Map<string, ValidateFunction> | undefined;

function load(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  ajvFormats.default(ajv, ["date-time"]);
  for (const keyword of [
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-validations",
  ]) {
    ajv.addKeyword({ keyword });
  }
  const out = new Map<string, ValidateFunction>();
  for (const file of crdFiles) {
    const crd = parse(readFileSync(new URL(`../fixtures/nmstate-crds/${file}`, import.meta.url), "utf8")) as {
      spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
    };
    for (const version of crd.spec.versions) {
      const schema = structuredClone(version.schema.openAPIV3Schema);
      close(schema);
      out.set(`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`, ajv.compile(schema));
    }
  }
  return out;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath === "" ? "/" : error.instancePath;
  if (error.keyword === "additionalProperties")
    return `${path}: unknown field "${String((error.params as Node).additionalProperty)}"`;
  return `${path}: ${error.message ?? error.keyword}`;
}

/** Errors (empty when valid) of an nmstate.io object against its CRD version's schema; unknown kind → throws. */
export function validateNmstateObject(object: Node): string[] {
  validators ??= load();
  const key = `${String(object.apiVersion)} ${String(object.kind)}`;
  const validate = validators.get(key);
  if (!validate) throw new Error(`validateNmstateObject: no CRD schema for ${key}`);
  if (validate(object)) return [];
  return (validate.errors ?? []).map(describe);
}
