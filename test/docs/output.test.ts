// docs/output.md, the page scripts read: it links every JSON Schema under docs/schemas/, each
// schema has an example there, and every example is valid against the schema it names. The
// schemas are closed and list what is required: an example with a field more, or one less, fails.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { schemaErrors, schemaFiles, schemasDir } from "../helpers/schemas.js";

const page = readFileSync(new URL("../../docs/output.md", import.meta.url), "utf8");

interface Example {
  schema: string;
  data: unknown;
  line: number;
}

// A ```json block is one document; a ```jsonl block (watch's NDJSON) one document per line.
const examples: Example[] = [
  ...page.matchAll(/<!-- schema: ([\w.-]+) -->\n```(json|jsonl)\n([\s\S]*?)\n```/g),
].flatMap((m) => {
  const line = page.slice(0, m.index).split("\n").length;
  const body = m[3] ?? "";
  const texts = m[2] === "jsonl" ? body.split("\n") : [body];
  return texts.map((text, i) => ({ schema: m[1] ?? "", data: JSON.parse(text), line: line + 2 + i }));
});

/** The object a required-field check works on: the document, or a list's first item. */
function firstObject(data: unknown): Record<string, unknown> {
  return (Array.isArray(data) ? data[0] : data) as Record<string, unknown>;
}

function withObject(data: unknown, object: Record<string, unknown>): unknown {
  return Array.isArray(data) ? [object, ...data.slice(1)] : object;
}

describe("docs/output.md", () => {
  it("links every schema in docs/schemas/, and every schema it links exists", () => {
    const linked = new Set([...page.matchAll(/\]\(schemas\/([\w.-]+)\)/g)].map((m) => m[1]));
    expect([...linked].sort()).toEqual([...schemaFiles]);
    for (const file of linked) expect(existsSync(new URL(file ?? "", schemasDir)), file).toBe(true);
  });

  it("has an example for every schema", () => {
    expect([...new Set(examples.map((e) => e.schema))].sort()).toEqual([...schemaFiles]);
  });

  it("every example is valid against the schema it names", () => {
    expect(examples.length).toBeGreaterThanOrEqual(schemaFiles.length);
    for (const example of examples) {
      expect(schemaErrors(example.schema, example.data), `${example.schema}, line ${example.line}`).toBe("");
    }
  });

  it("every example with a field more, or without any one field, is invalid: the shapes are closed and list what is required", () => {
    for (const example of examples) {
      const object = firstObject(example.data);
      const where = `${example.schema}, line ${example.line}`;
      expect(
        schemaErrors(example.schema, withObject(example.data, { ...object, unknown: 1 })),
        where,
      ).not.toBe("");
      const schema = JSON.parse(readFileSync(new URL(example.schema, schemasDir), "utf8"));
      // The fields required (the document's, or the items'), with those of the variant the
      // example is (cancel and restart: one per outcome).
      const shape = Array.isArray(example.data) ? schema.items : schema;
      const variant = ((shape.oneOf ?? []) as { required: string[] }[])
        .filter((v) => v.required.every((field) => field in object))
        .sort((a, b) => b.required.length - a.required.length)[0];
      const required = [...new Set<string>([...(shape.required ?? []), ...(variant?.required ?? [])])];
      expect(required.length, where).toBeGreaterThan(0);
      for (const field of required) {
        const { [field]: _, ...without } = object;
        expect(
          schemaErrors(example.schema, withObject(example.data, without)),
          `${where}: ${field}`,
        ).not.toBe("");
      }
    }
  });
});
