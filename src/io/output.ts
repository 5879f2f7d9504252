// Machine-readable output (-o json|yaml|name|jsonpath=...) and the text fallback, all on stdout.
// -o name and -o jsonpath run in the IO's JSON mode (no progress, no colour, no text on stdout) and
// print the JSON document through a DataPrinter instead: kind/name lines of the objects the
// command names, or kubectl's JSONPath (jsonpath.ts) on the same data as -o json.
import { UsageError } from "../errors.js";
import type { IO, OutputMode } from "./io.js";
import type { JsonPath } from "./jsonpath.js";
import { jsonSafe, toTerminal } from "./untrusted.js";
import { loadYamlWriter } from "./yaml.js";

/** What -o asks for: the format, and for jsonpath the template (jsonpath-as-json: asJson). */
export type OutputFlag =
  | { format: "text" | "json" | "yaml" | "wide" | "name" }
  | { format: "jsonpath"; template: string; asJson: boolean };

export type OutputFlagFormat = OutputFlag["format"];

/** The help line of -o: kubectl's "One of: (...)" list. */
export const outputFlagHelp =
  "output format where a command has data output. One of: (text, json, yaml, name, wide, jsonpath=TEMPLATE, jsonpath-as-json=TEMPLATE); name and wide only where a command has them";

const jsonPathHint =
  "see https://kubernetes.io/docs/reference/kubectl/jsonpath/, e.g. -o jsonpath='{.items[*].vm}'";

/**
 * -o's value: one of the formats, or jsonpath=TEMPLATE. The template is parsed by useOutputFlag,
 * which loads the JSONPath module only then (not on every start: --help need not pay for it).
 */
export function parseOutputFlag(value: string): OutputFlag {
  const eq = value.indexOf("=");
  const name = eq < 0 ? value : value.slice(0, eq);
  if (name === "jsonpath" || name === "jsonpath-as-json") {
    const template = eq < 0 ? "" : value.slice(eq + 1);
    if (template === "") {
      throw new UsageError(`-o ${name} needs a template: -o ${name}=TEMPLATE`, { hint: jsonPathHint });
    }
    return { format: "jsonpath", template, asJson: name === "jsonpath-as-json" };
  }
  if (eq < 0 && (["text", "json", "yaml", "wide", "name"] as const).includes(name as "text")) {
    return { format: name as "text" | "json" | "yaml" | "wide" | "name" };
  }
  throw new UsageError(`unable to match a printer suitable for the output format "${value}"`, {
    hint: "the formats are text, json, yaml, name, wide, jsonpath=TEMPLATE and jsonpath-as-json=TEMPLATE",
  });
}

/** The IO mode a format runs in: name and jsonpath are JSON's data mode, printed differently. */
export function outputModeOf(format: OutputFlagFormat): OutputMode {
  return format === "wide" || format === "text" ? "text" : format === "yaml" ? "yaml" : "json";
}

/** How a command names the objects in its data for -o name: `virtualmachineinstance.kubevirt.io/db-1`. */
export type NamesOf<T = never> = (data: T) => ReadonlyArray<string | null | undefined>;

/** kubectl's -o name prefix of the kinds kvmig names. */
export const nameKinds = {
  vm: "virtualmachine.kubevirt.io",
  vmi: "virtualmachineinstance.kubevirt.io",
  vmim: "virtualmachineinstancemigration.kubevirt.io",
  node: "node",
} as const;

/** One -o name line's object: `kind/name`, as kubectl prints it (no namespace). */
export function objectName(
  kind: keyof typeof nameKinds,
  name: string | null | undefined,
): string | undefined {
  return name ? `${nameKinds[kind]}/${name}` : undefined;
}

interface DataPrinter {
  print(io: IO, data: unknown, names: NamesOf<unknown> | undefined): void;
}

const printers = new WeakMap<IO, DataPrinter>();

/**
 * Makes the JSON documents written to `io` print as -o name or -o jsonpath asks (main.ts, before
 * the command runs): a template that does not parse is a usage error before any work.
 */
export async function useOutputFlag(
  io: IO,
  flag: OutputFlag,
  /** --allow-missing-template-keys (kubectl's, default true). */
  options: { allowMissingKeys?: boolean | undefined } = {},
): Promise<void> {
  if (flag.format === "name") printers.set(io, { print: printNames });
  else if (flag.format === "jsonpath") {
    const { JsonPath, JsonPathError } = await import("./jsonpath.js");
    let template: JsonPath;
    try {
      // kubectl's printers allow missing keys unless --allow-missing-template-keys=false.
      template = new JsonPath(flag.template, {
        allowMissingKeys: options.allowMissingKeys ?? true,
        outputJson: flag.asJson,
      });
    } catch (error) {
      if (error instanceof JsonPathError) {
        throw new UsageError(`error parsing jsonpath ${flag.template}, ${error.message}`, {
          hint: jsonPathHint,
        });
      }
      throw error;
    }
    printers.set(io, {
      print: (target, data) =>
        printJsonPath(target, template, data, (error) => error instanceof JsonPathError),
    });
  } else printers.delete(io);
}

/** Whether a JSON document on `io` is printed as JSON (not through -o name or -o jsonpath). */
export function printsJson(io: IO): boolean {
  return !printers.has(io);
}

/** Text from the cluster, raw to a pipe as kubectl prints it, made safe for a terminal. */
function writeRaw(io: IO, text: string): void {
  io.streams.stdout.write(io.stdoutIsTTY ? toTerminal(text) : text);
}

function printNames(io: IO, data: unknown, names: NamesOf<unknown> | undefined): void {
  if (!names) {
    throw new UsageError("-o name is not supported here: this output names no objects", {
      hint: "use -o json or -o jsonpath=TEMPLATE",
    });
  }
  const lines = names(data).filter((name): name is string => typeof name === "string" && name !== "");
  if (lines.length > 0) writeRaw(io, `${lines.join("\n")}\n`);
}

function printJsonPath(
  io: IO,
  template: JsonPath,
  data: unknown,
  isJsonPathError: (error: unknown) => error is Error,
): void {
  let text: string;
  try {
    // The data as -o json has it: no undefined fields, dates as strings.
    text = template.execute(JSON.parse(JSON.stringify(data ?? null)));
  } catch (error) {
    if (isJsonPathError(error)) {
      throw new UsageError(`error executing jsonpath "${template.template}": ${error.message}`, {
        hint: `the fields are those of -o json; ${jsonPathHint}`,
      });
    }
    throw error;
  }
  writeRaw(io, text);
}

/**
 * One JSON document (or one NDJSON record, with `compact`) on stdout: as JSON, or through -o name
 * or -o jsonpath when those are asked for.
 */
export function writeDocument<T>(io: IO, data: T, names?: NamesOf<T>, compact = false): void {
  const printer = printers.get(io);
  if (printer) {
    printer.print(io, data, names as NamesOf<unknown> | undefined);
    return;
  }
  // A control JSON.stringify leaves raw (C1, bidi) \u-escaped: the same data, safe to show.
  io.streams.stdout.write(jsonSafe(`${compact ? JSON.stringify(data) : JSON.stringify(data, null, 2)}\n`));
}

export type OutputFormat = OutputMode;

export function parseOutputFormat(value: string, allowed: readonly string[]): OutputFormat {
  const format = value.trim().toLowerCase();
  if (allowed.includes(format) && isOutputFormat(format)) return format;
  throw new UsageError(`unsupported output format "${value}"`, { hint: `use one of: ${allowed.join(", ")}` });
}

export async function writeData<T>(
  io: IO,
  format: OutputFormat,
  data: T,
  renderText: () => void | Promise<void>,
  /** The objects the data names, for -o name (a command without them refuses -o name first). */
  names?: NamesOf<T>,
): Promise<void> {
  switch (format) {
    // The data exactly, whatever the IO's mode: straight to the stream, not through the text
    // mode's terminal safety (untrusted.ts), which shows a control character instead of keeping it.
    case "json":
      writeDocument(io, data, names);
      return;
    case "yaml":
      // The same data as JSON, with every string a YAML 1.1 parser would retype quoted (yaml.ts),
      // and every control character escaped in double quotes.
      io.streams.stdout.write((await loadYamlWriter())(data));
      return;
    case "text":
      await renderText();
      return;
  }
}

function isOutputFormat(value: string): value is OutputFormat {
  return value === "text" || value === "json" || value === "yaml";
}
