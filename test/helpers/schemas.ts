// The JSON Schemas of kvmig's -o json output (docs/schemas/, listed in docs/output.md), all in one
// validator so that one schema can use another's definitions ("diagnose.schema.json#/...").
import { readdirSync, readFileSync } from "node:fs";
import { Ajv, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";

export const schemasDir = new URL("../../docs/schemas/", import.meta.url);

/** The schema files, by file name. */
export const schemaFiles: readonly string[] = readdirSync(schemasDir)
  .filter((f) => f.endsWith(".schema.json"))
  .sort();

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: true, strict: true }));
for (const file of schemaFiles) ajv.addSchema(JSON.parse(readFileSync(new URL(file, schemasDir), "utf8")));

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`)
    .join("; ");
}

/** The errors of `data` against the schema in `file` ("" when it is valid). */
export function schemaErrors(file: string, data: unknown): string {
  const validate = ajv.getSchema(`https://kvmig.dev/schemas/${file}`);
  if (!validate) throw new Error(`no schema docs/schemas/${file}`);
  return validate(data) ? "" : describe(validate.errors);
}
