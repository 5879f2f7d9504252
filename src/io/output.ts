// Machine-readable output (-o json|yaml) and the text fallback, all on stdout.
import { UsageError } from "../errors.js";
import type { IO, OutputMode } from "./io.js";
import { jsonSafe } from "./untrusted.js";
import { loadYamlWriter } from "./yaml.js";

export type OutputFormat = OutputMode;

export function parseOutputFormat(value: string, allowed: readonly string[]): OutputFormat {
  const format = value.trim().toLowerCase();
  if (allowed.includes(format) && isOutputFormat(format)) return format;
  throw new UsageError(`unsupported output format "${value}"`, { hint: `use one of: ${allowed.join(", ")}` });
}

export async function writeData(
  io: IO,
  format: OutputFormat,
  data: unknown,
  renderText: () => void | Promise<void>,
): Promise<void> {
  switch (format) {
    // The data exactly, whatever the IO's mode: straight to the stream, not through the text
    // mode's terminal safety (untrusted.ts), which shows a control character instead of keeping it.
    case "json":
      // A control JSON.stringify leaves raw (C1, bidi) \u-escaped: the same data, safe to show.
      io.streams.stdout.write(jsonSafe(`${JSON.stringify(data, null, 2)}\n`));
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
