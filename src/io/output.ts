// Machine-readable output (-o json|yaml) and the text fallback, all on stdout.
import { UsageError } from "../errors.js";
import type { IO, OutputMode } from "./io.js";

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
    case "json":
      io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      return;
    case "yaml": {
      // Loaded on use: most runs print text and should not pay for the YAML library.
      // The default export: bundled, this CommonJS package has no named exports.
      const { default: YAML } = await import("yaml");
      // No folding of long messages, and no &anchors when one object appears twice.
      io.stdout.write(YAML.stringify(data, { lineWidth: 0, aliasDuplicateObjects: false }));
      return;
    }
    case "text":
      await renderText();
      return;
  }
}

function isOutputFormat(value: string): value is OutputFormat {
  return value === "text" || value === "json" || value === "yaml";
}
