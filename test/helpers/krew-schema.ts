// deploy/krew/plugin.schema.json, krew's manifest rules as a JSON Schema, in a validator.
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";

const schema = JSON.parse(
  readFileSync(new URL("../../deploy/krew/plugin.schema.json", import.meta.url), "utf8"),
);
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

/** The errors of a parsed manifest against krew's rules ("" when it follows them). */
export function krewSchemaErrors(manifest: unknown): string {
  if (validate(manifest)) return "";
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
}
