// Validates KubeVirt objects against KubeVirt's own OpenAPI schema (test/fixtures/kubevirt-openapi.json,
// the Swagger 2.0 `api/openapi-spec/swagger.json` of kubevirt/kubevirt), so that simulated objects are
// shaped as KubeVirt writes them.
//
// The schema is made stricter than the raw document where the API server is strict in practice:
// - Every object schema that lists `properties` and no `additionalProperties` is closed. KubeVirt's
//   CRDs have structural schemas, so the API server prunes unknown fields; an unknown field in an
//   object we build is therefore a typo that a real cluster would silently drop.
// - `resource.Quantity` must be a string (the document allows numbers; KubeVirt always writes strings).
// - `metav1.Time` must be an RFC 3339 date-time; fields the document types as `string | null`
//   (condition times, creationTimestamp) may be null, and are date-times when they are strings.
// - Integer formats are range-checked (`int32`, `int64` within the safe integers, `byte` 0..255).
//
// Swagger quirks handled: the Swagger-only formats are registered, `nullable` is understood, and the
// `x-kubernetes-*` extension keywords are ignored.

import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import ajvFormats from "ajv-formats";

type SchemaNode = Record<string, unknown>;

const schemaUrl = new URL("../fixtures/kubevirt-openapi.json", import.meta.url);
const schemaId = "kubevirt-openapi";

/** apiVersion + kind → definition name. */
const definitionByKind: Readonly<Record<string, string>> = {
  "kubevirt.io/v1 VirtualMachine": "v1.VirtualMachine",
  "kubevirt.io/v1 VirtualMachineInstance": "v1.VirtualMachineInstance",
  "kubevirt.io/v1 VirtualMachineInstanceMigration": "v1.VirtualMachineInstanceMigration",
  "kubevirt.io/v1 KubeVirt": "v1.KubeVirt",
  "migrations.kubevirt.io/v1alpha1 MigrationPolicy": "v1alpha1.MigrationPolicy",
};

const quantity = "k8s.io.apimachinery.pkg.api.resource.Quantity";
const time = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
const intOrString = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";

function isRecord(value: unknown): value is SchemaNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Closes object schemas and tightens nullable strings, in place, over the whole tree. */
function tighten(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) tighten(item);
    return;
  }
  if (!isRecord(node)) return;
  if (isRecord(node.properties) && node.additionalProperties === undefined) {
    node.additionalProperties = false;
  }
  const type = node.type;
  if (Array.isArray(type) && type.length === 2 && type.includes("string") && type.includes("null")) {
    // Condition times and creationTimestamp: null or a date-time.
    node.format ??= "date-time";
  }
  for (const value of Object.values(node)) tighten(value);
}

function extensionKeywords(node: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) extensionKeywords(item, found);
  } else if (isRecord(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key.startsWith("x-")) found.add(key);
      extensionKeywords(value, found);
    }
  }
  return found;
}

function loadDefinitions(): Record<string, SchemaNode> {
  const document = JSON.parse(readFileSync(schemaUrl, "utf8")) as {
    definitions?: Record<string, SchemaNode>;
  };
  const definitions = document.definitions;
  if (!definitions) throw new Error(`${schemaUrl.pathname}: no definitions`);
  tighten(definitions);
  definitions[quantity] = { type: "string", description: "resource.Quantity, serialised as a string" };
  definitions[time] = { type: "string", format: "date-time", description: "metav1.Time (RFC 3339)" };
  definitions[intOrString] = { type: ["integer", "string"], description: "intstr.IntOrString" };
  return definitions;
}

const int32 = (value: number) => Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31;

let compiled: { ajv: Ajv; validators: Map<string, ValidateFunction> } | undefined;

function validatorFor(definition: string): ValidateFunction {
  if (!compiled) {
    const definitions = loadDefinitions();
    const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
    // ajv-formats is CommonJS: under NodeNext its default import is `module.exports`, whose `default` is the plugin.
    ajvFormats.default(ajv, ["date-time"]);
    ajv.addFormat("int32", { type: "number", validate: int32 });
    ajv.addFormat("int64", { type: "number", validate: (value: number) => Number.isSafeInteger(value) });
    ajv.addFormat("byte", {
      type: "number",
      validate: (value: number) => Number.isInteger(value) && value >= 0 && value < 256,
    });
    ajv.addFormat("float", { type: "number", validate: () => true });
    ajv.addFormat("double", { type: "number", validate: () => true });
    ajv.addFormat("int-or-string", true);
    for (const keyword of extensionKeywords(definitions, new Set())) ajv.addKeyword({ keyword });
    ajv.addSchema({ $id: schemaId, definitions });
    compiled = { ajv, validators: new Map() };
  }
  let validate = compiled.validators.get(definition);
  if (!validate) {
    validate = compiled.ajv.getSchema(`${schemaId}#/definitions/${definition}`);
    if (!validate) throw new Error(`kubevirt-openapi.json has no definition ${definition}`);
    compiled.validators.set(definition, validate);
  }
  return validate;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath === "" ? "/" : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "additionalProperties")
    return `${path}: unknown field "${String(params.additionalProperty)}"`;
  if (error.keyword === "enum") return `${path}: ${error.message} ${JSON.stringify(params.allowedValues)}`;
  return `${path}: ${error.message ?? error.keyword}`;
}

/** The definition name for a KubeVirt object's apiVersion and kind, or undefined for other objects. */
export function kubeVirtDefinition(object: unknown): string | undefined {
  if (!isRecord(object)) return undefined;
  return definitionByKind[`${String(object.apiVersion)} ${String(object.kind)}`];
}

/** Errors (empty when valid) of a KubeVirt object against KubeVirt's OpenAPI schema; unknown kind → throws. */
export function validateKubeVirtObject(object: unknown): string[] {
  const definition = kubeVirtDefinition(object);
  if (!definition) {
    const shown = isRecord(object) ? `${String(object.apiVersion)} ${String(object.kind)}` : typeof object;
    throw new Error(`validateKubeVirtObject: not a KubeVirt kind with a schema: ${shown}`);
  }
  const validate = validatorFor(definition);
  if (validate(object)) return [];
  return (validate.errors ?? []).map(describe);
}
