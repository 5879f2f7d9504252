// `kvmig outdated` output, written as pages arrive so memory stays flat however many VMIs there
// are: a table (columns widen as wider cells come, like kubectl's chunked output), or one JSON
// or YAML document whose items are written one page at a time.

import { stripVTControlCharacters } from "node:util";
import type { IO } from "../io/io.js";
import { objectName, printsJson, writeDocument } from "../io/output.js";
import { truncateToWidth } from "../io/table.js";
import { loadYamlWriter, type WriteYaml } from "../io/yaml.js";
import {
  actionText,
  type ClusterFacts,
  countsLine,
  headerLines,
  imageChange,
  migratableText,
  type OutdatedCounts,
  type OutdatedRow,
  shortActionText,
  shortMigratableText,
} from "./rows.js";

export type OutdatedFormat = "text" | "wide" | "json" | "yaml";

export interface OutdatedTail {
  counts: OutdatedCounts;
  /** Present when kvmig acted on the VMIs (--migrate, --restart). */
  results?: unknown[] | undefined;
}

export interface OutdatedWriter {
  begin(facts: ClusterFacts): Promise<void>;
  rows(rows: readonly OutdatedRow[]): Promise<void>;
  /** The listing is complete: the table's footer, or the end of the items array. */
  listed(counts: OutdatedCounts): Promise<void>;
  /** The end of the document (JSON, YAML); nothing more for a table. */
  end(tail: OutdatedTail): Promise<void>;
}

export interface WriterOptions {
  format: OutdatedFormat;
  allNamespaces: boolean;
  noHeaders?: boolean | undefined;
  /** "in namespace demo", "in all namespaces": for the footer. */
  scope: string;
}

export function createOutdatedWriter(io: IO, options: WriterOptions): OutdatedWriter {
  switch (options.format) {
    case "json":
      // -o name and -o jsonpath print the whole document once it is complete.
      return printsJson(io) ? new JsonWriter(io) : new DocumentWriter(io);
    case "yaml":
      return new YamlWriter(io);
    default:
      return new TableWriter(io, options);
  }
}

const GAP = "   ";

/**
 * A table printed whole (the summary after --migrate or --restart), fitted as the listing is: on
 * a terminal each line cut to its width, never wrapped; -o wide, or a pipe, shows it all.
 */
export function fitTable(io: IO, table: string, format: OutdatedFormat): string {
  if (!io.stdoutIsTTY || format === "wide") return table;
  return table
    .split("\n")
    .map((line) => truncateToWidth(line, io.columns))
    .join("\n");
}

class TableWriter implements OutdatedWriter {
  #widths: number[] = [];
  #headerDone = false;
  #headers: string[];

  constructor(
    private readonly io: IO,
    private readonly options: WriterOptions,
  ) {
    const wide = options.format === "wide";
    this.#headers = [
      ...(options.allNamespaces ? ["NAMESPACE"] : []),
      "VM",
      "NODE",
      ...(wide ? ["IMAGE", "CURRENT IMAGE", "LIVE-MIGRATABLE"] : ["LAUNCHER", "MIGRATABLE"]),
      "ACTION",
      ...(wide ? ["MESSAGE"] : []),
    ];
  }

  async begin(facts: ClusterFacts): Promise<void> {
    if (this.options.noHeaders) return;
    for (const line of headerLines(facts)) this.io.out(line);
    this.io.out("");
  }

  #cells(row: OutdatedRow): string[] {
    const c = this.io.colors;
    const wide = this.options.format === "wide";
    const name = row.vm ?? `${row.vmi} (VMI)`;
    const action = wide ? actionText(row.action) : shortActionText(row.action);
    const migratable = wide ? migratableText(row) : shortMigratableText(row);
    return [
      ...(this.options.allNamespaces ? [row.namespace] : []),
      name,
      row.node ?? "<none>",
      ...(wide
        ? [row.image ?? "unknown", row.currentImage ?? "unknown"]
        : [imageChange(row.image, row.currentImage)]),
      row.liveMigratable === false ? c.warn(migratable) : migratable,
      row.action === "migrate" ? action : c.warn(action),
      ...(wide ? [row.message ?? ""] : []),
    ];
  }

  async rows(rows: readonly OutdatedRow[]): Promise<void> {
    if (rows.length === 0) return;
    const lines = rows.map((row) => this.#cells(row));
    const all = this.#headerDone || this.options.noHeaders ? lines : [this.#headers, ...lines];
    for (const cells of all) {
      cells.forEach((cell, i) => {
        this.#widths[i] = Math.max(this.#widths[i] ?? 0, visible(cell));
      });
    }
    this.#headerDone = true;
    // On a terminal the default table never wraps (-o wide shows everything, and may).
    const fit = this.io.stdoutIsTTY && this.options.format !== "wide";
    const text = all.map((cells) => {
      const line = cells
        .map((cell, i) => cell + " ".repeat((this.#widths[i] ?? 0) - visible(cell)))
        .join(GAP)
        .trimEnd();
      return fit ? truncateToWidth(line, this.io.columns) : line;
    });
    this.io.out(text.join("\n"));
  }

  async listed(counts: OutdatedCounts): Promise<void> {
    if (this.options.noHeaders) return;
    if (counts.outdated > 0) this.io.out("");
    this.io.out(countsLine(counts, this.options.scope));
  }

  async end(): Promise<void> {}
}

function visible(text: string): number {
  return stripVTControlCharacters(text).length;
}

function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? line : `${by}${line}`))
    .join("\n");
}

class JsonWriter implements OutdatedWriter {
  #first = true;
  constructor(private readonly io: IO) {}

  async begin(facts: ClusterFacts): Promise<void> {
    this.io.stdout.write(
      `{\n  "cluster": ${indent(JSON.stringify(facts, null, 2), "  ").trimStart()},\n  "items": [`,
    );
  }
  async rows(rows: readonly OutdatedRow[]): Promise<void> {
    if (rows.length === 0) return;
    const text = rows.map((row) => indent(JSON.stringify(row, null, 2), "    ")).join(",\n");
    this.io.stdout.write(`${this.#first ? "\n" : ",\n"}${text}`);
    this.#first = false;
  }
  async listed(): Promise<void> {
    this.io.stdout.write(this.#first ? "]" : "\n  ]");
  }
  async end(tail: OutdatedTail): Promise<void> {
    const rest: Record<string, unknown> = { summary: tail.counts };
    if (tail.results) rest.results = tail.results;
    const body = JSON.stringify(rest, null, 2).slice(1, -2);
    this.io.stdout.write(`,${body}\n}\n`);
  }
}

/** The JSON document, held until its end and printed through -o name (the VMIs) or -o jsonpath. */
class DocumentWriter implements OutdatedWriter {
  #cluster: ClusterFacts | undefined;
  #items: OutdatedRow[] = [];
  constructor(private readonly io: IO) {}

  async begin(facts: ClusterFacts): Promise<void> {
    this.#cluster = facts;
  }
  async rows(rows: readonly OutdatedRow[]): Promise<void> {
    this.#items.push(...rows);
  }
  async listed(): Promise<void> {}
  async end(tail: OutdatedTail): Promise<void> {
    // The same document, key for key, as JsonWriter writes.
    const document: Record<string, unknown> = {
      cluster: this.#cluster,
      items: this.#items,
      summary: tail.counts,
    };
    if (tail.results) document.results = tail.results;
    writeDocument(this.io, document, () => this.#items.map((row) => objectName("vmi", row.vmi)));
  }
}

class YamlWriter implements OutdatedWriter {
  #first = true;
  #yaml: WriteYaml | undefined;
  constructor(private readonly io: IO) {}

  async #stringify(value: unknown): Promise<string> {
    // Loaded on use; strings a YAML 1.1 parser would retype come out quoted (io/yaml.ts).
    this.#yaml ??= await loadYamlWriter();
    return this.#yaml(value);
  }

  async begin(facts: ClusterFacts): Promise<void> {
    this.io.stdout.write(await this.#stringify({ cluster: facts }));
  }
  async rows(rows: readonly OutdatedRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.#first) this.io.stdout.write("items:\n");
    this.#first = false;
    this.io.stdout.write(indent(await this.#stringify(rows), "  "));
  }
  async listed(): Promise<void> {
    if (this.#first) this.io.stdout.write("items: []\n");
  }
  async end(tail: OutdatedTail): Promise<void> {
    const rest: Record<string, unknown> = { summary: tail.counts };
    if (tail.results) rest.results = tail.results;
    this.io.stdout.write(await this.#stringify(rest));
  }
}
