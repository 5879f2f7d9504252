// Reading one manifest file of any size (`diagnose --from`): streamed line by line, cut into
// documents and list items (manifest-split.ts), each parsed on its own, and of each object only
// what the caller keeps is kept; the rest is dropped at once, or not even parsed when its kind
// and text tell the caller enough. Memory grows with the largest object and with what is kept,
// not with the file: the YAML parser takes about 70 times the size of what it parses, so a
// 15 MiB `kubectl get pods -A -o yaml` parsed whole costs a gigabyte.
// An object over the size limit is skipped with a note, and the rest of its file is read.

import { open } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../k8s/meta.js";
import { formatBytes } from "../migration/format.js";
import { type ManifestPiece, ManifestSplitter } from "./manifest-split.js";

export type LooseObject = KubeObject & Record<string, unknown>;

/** What is kept of the objects found in a file. */
export interface ObjectFilter {
  /** What is kept of an object, or undefined to drop it. */
  keep(object: LooseObject): LooseObject | undefined;
  /**
   * Whether an object of this kind, of this text, is dropped whatever else it holds: then it is
   * not even parsed (the YAML parser's garbage is most of what reading a must-gather costs).
   */
  skip?(kind: string, text: string): boolean;
}

export const keepAll: ObjectFilter = { keep: (object) => object };

export interface ManifestContents {
  /** The objects kept, in the file's order. */
  objects: LooseObject[];
  /** How many objects the file held, kept or not. */
  found: number;
  /** What could not be used, and why: for "could not check". */
  problems: string[];
}

/** Reads a manifest file; rejects when it cannot be read. */
export async function readManifest(
  path: string,
  maxObjectBytes: number,
  filter: ObjectFilter = keepAll,
): Promise<ManifestContents> {
  const reader = new PieceReader(maxObjectBytes, filter);
  const splitter = new ManifestSplitter(maxObjectBytes, (piece) => reader.read(piece));
  const bytes = await readLines(path, maxObjectBytes, (line, size) => splitter.push(line, size));
  splitter.end();
  return reader.finish(bytes, splitter.sawText);
}

/**
 * Calls `onLine` with each line of a file and its size in bytes, line break included; returns the
 * file's size. A line longer than `maxBytes` comes as its first 4 KiB only (its size tells it was
 * cut), so that a file of one huge line costs `maxBytes` at most, and that only for a moment.
 */
async function readLines(
  path: string,
  maxBytes: number,
  onLine: (line: string, bytes: number) => void,
): Promise<number> {
  const lines = new LineCutter(maxBytes, onLine);
  // One buffer, read into again and again: a stream's new buffer for every chunk piles up
  // outside the heap until the collector frees it, tens of MiB over a large file.
  const buffer = Buffer.allocUnsafe(64 * 1024);
  const handle = await open(path, "r");
  let total = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      lines.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
  } finally {
    await handle.close();
  }
  lines.end();
  return total;
}

/** What is kept of a line over the limit: enough to see what it starts. */
const cutTo = 4096;

class LineCutter {
  /** The start of a line whose end is in a later chunk: all of it up to the limit, then `cutTo`. */
  private carry: Buffer[] = [];
  private carried = 0;
  private lineBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string, bytes: number) => void,
  ) {}

  /** A chunk of the file; it may be overwritten once this returns. */
  push(chunk: Buffer): void {
    let from = 0;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, from)) {
      const length = this.lineBytes + at - from;
      const over = length > this.maxBytes;
      let text: string;
      if (this.lineBytes === 0) text = chunk.toString("utf8", from, over ? Math.min(at, from + cutTo) : at);
      else {
        const parts = [...this.carry, chunk.subarray(from, at)];
        text = Buffer.concat(parts, over ? Math.min(cutTo, this.carried + at - from) : length).toString(
          "utf8",
        );
      }
      this.onLine(text, length + 1);
      this.carry = [];
      this.carried = 0;
      this.lineBytes = 0;
      from = at + 1;
    }
    if (from === chunk.length) return;
    const rest = chunk.subarray(from);
    this.lineBytes += rest.length;
    if (this.lineBytes <= this.maxBytes) {
      this.carry.push(Buffer.from(rest));
      this.carried += rest.length;
    } else if (this.carried > cutTo) {
      // Over the limit: its start is all that is kept of it.
      this.carry = [Buffer.concat(this.carry, cutTo)];
      this.carried = cutTo;
    } else if (this.carried < cutTo) {
      const start = Buffer.from(rest.subarray(0, cutTo - this.carried));
      this.carry.push(start);
      this.carried += start.length;
    }
  }

  /** The last line, when the file does not end with a line break. */
  end(): void {
    if (this.lineBytes > 0) this.onLine(Buffer.concat(this.carry).toString("utf8"), this.lineBytes);
  }
}

type Parsed = { values: unknown[]; yaml: boolean } | { error: string };

/** Parses the pieces of one file as they come, and keeps what the caller keeps. */
class PieceReader {
  private readonly objects: LooseObject[] = [];
  private found = 0;
  private readonly problems: string[] = [];
  private pieces = 0;
  private documentTooLarge = false;
  /** A list's items, until the rest of the list (after them) shows it is one. */
  private staged = newStage();

  constructor(
    private readonly maxBytes: number,
    private readonly filter: ObjectFilter,
  ) {}

  read(piece: ManifestPiece): void {
    this.pieces++;
    const { text } = piece;
    if (text === undefined) {
      this.tooLarge(piece);
      // A list whose rest is unusable still had its items.
      if (piece.role === "rest") this.commitStaged("");
      return;
    }
    if (piece.kind !== undefined && this.filter.skip?.(piece.kind, text)) {
      if (piece.role === "item") this.staged.found++;
      else this.found++;
      return;
    }
    const parsed = parsePiece(piece, text);
    if ("error" in parsed) {
      this.problems.push(`not valid YAML or JSON: ${parsed.error}`);
      if (piece.role === "rest") this.commitStaged("");
      return;
    }
    const { values, yaml } = parsed;
    if (piece.role === "document") {
      for (const value of values) this.found += this.use(value, yaml, this.objects);
    } else if (piece.role === "item") {
      for (const value of values) this.stage(value, yaml, piece.listKind);
    } else {
      const rest = values[0];
      const kind = isRecord(rest) && typeof rest.kind === "string" ? rest.kind : "";
      if (kind === "" || kind.endsWith("List")) this.commitStaged(kind);
      else {
        // Its kind came after `items` and is no list's: the items were one object's field (no
        // kind diagnose reads has one), and the object is kept without them.
        this.staged = newStage();
        this.found += this.use(rest, yaml, this.objects);
      }
    }
  }

  finish(fileBytes: number, sawText: boolean): ManifestContents {
    if (this.documentTooLarge && this.pieces === 1) {
      // The whole file is one object (or one line): nothing of it could be read.
      this.problems[0] = `${formatBytes(fileBytes)}, larger than the ${formatBytes(this.maxBytes)} diagnose reads of one manifest file; skipped unread (save fewer objects per file)`;
    }
    if (this.found === 0 && this.problems.length === 0 && sawText) {
      this.problems.push("holds no Kubernetes objects (no kind and metadata)");
    }
    return { objects: this.objects, found: this.found, problems: this.problems };
  }

  private tooLarge(piece: ManifestPiece): void {
    if (piece.role === "document") this.documentTooLarge = true;
    const what = piece.role === "item" ? "list item" : piece.role === "rest" ? "list" : "document";
    this.problems.push(
      `the ${what} at line ${piece.line.toLocaleString("en-US")} is ${formatBytes(piece.bytes)}, larger than the ${formatBytes(this.maxBytes)} diagnose parses of one object; skipped, and the rest of the file read`,
    );
  }

  /** Expands a value into its objects and keeps what is kept; returns how many there were. */
  private use(value: unknown, yaml: boolean, into: LooseObject[]): number {
    const objects = expandLists(value);
    for (const object of objects) {
      const kept = this.filter.keep(object);
      if (kept) into.push(yaml ? ownCopy(kept) : kept);
    }
    return objects.length;
  }

  private stage(value: unknown, yaml: boolean, listKind: string | undefined): void {
    // `kubectl get -o yaml` items carry their kind; a typed list's (PodList) items may not.
    if (isRecord(value) && !("kind" in value)) {
      if (listKind === undefined) {
        // The list's kind comes after its items: until then, the item as it is.
        this.staged.kindless.push({ value, yaml });
        return;
      }
      this.staged.found += this.use(withListKind(value, listKind), yaml, this.staged.kept);
      return;
    }
    this.staged.found += this.use(value, yaml, this.staged.kept);
  }

  private commitStaged(listKind: string): void {
    const { kept, found, kindless } = this.staged;
    for (const object of kept) this.objects.push(object);
    this.found += found;
    for (const { value, yaml } of kindless) {
      this.found += this.use(withListKind(value, listKind), yaml, this.objects);
    }
    this.staged = newStage();
  }
}

function newStage() {
  return {
    kept: [] as LooseObject[],
    found: 0,
    kindless: [] as { value: Record<string, unknown>; yaml: boolean }[],
  };
}

/**
 * A copy of an object parsed from YAML whose strings are its own: the parser's strings are
 * slices of the text they were read from, and would keep the whole text alive (twice the memory
 * of the copy for a kept Event).
 */
function ownCopy(object: LooseObject): LooseObject {
  return JSON.parse(JSON.stringify(object)) as LooseObject;
}

function parsePiece(piece: ManifestPiece, text: string): Parsed {
  // JSON.parse takes a fraction of the YAML parser's time and memory: try it on what starts as
  // JSON does (also `kubectl get -o json > x.yaml`); YAML reads the rest, and files named .json
  // that hold YAML. An item of a JSON list ends with the comma before the next.
  const source = piece.json && piece.role === "item" ? text.replace(/,\s*$/, "") : text;
  if (piece.json) {
    try {
      return { values: [JSON.parse(source) as unknown], yaml: false };
    } catch {
      // Flow YAML starts with a brace too.
    }
  }
  const values: unknown[] = [];
  for (const doc of parseAllDocuments(source, { uniqueKeys: false })) {
    const first = doc.errors[0];
    if (first) return { error: placed(first.message.split("\n")[0] ?? first.code, piece) };
    values.push(doc.toJS({ maxAliasCount: 1000 }));
  }
  // A YAML item is read as a sequence of one.
  if (piece.role === "item" && !piece.json) return { values: values.flat(), yaml: true };
  return { values, yaml: true };
}

/** The parser's message with the line in the file rather than in the piece. */
function placed(message: string, piece: ManifestPiece): string {
  // The rest of a list lacks its items' lines: no line number would be right.
  if (piece.role === "rest") return message.replace(/ at line \d+, column \d+/, "");
  return message.replace(/at line (\d+)/, (_, line: string) => `at line ${Number(line) + piece.line - 1}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isKubeObject(value: unknown): value is LooseObject {
  if (!isRecord(value)) return false;
  return typeof value.kind === "string" && value.metadata !== null && typeof value.metadata === "object";
}

/** An item of a typed list (`PodList`) without a kind of its own takes the list's. */
function withListKind(item: Record<string, unknown>, listKind: string): unknown {
  const kind = listKind.replace(/List$/, "");
  return kind === "" ? item : { kind, ...item };
}

/** One object, or the items of a List (`kind: List`, `PodList`, ... from kubectl). */
function expandLists(value: unknown): LooseObject[] {
  if (value === null || typeof value !== "object") return [];
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.items) && (typeof v.kind !== "string" || v.kind.endsWith("List"))) {
    const listKind = typeof v.kind === "string" ? v.kind : "";
    return v.items.flatMap((item) =>
      isRecord(item) && !("kind" in item) ? expandLists(withListKind(item, listKind)) : expandLists(item),
    );
  }
  // A Status (a refused request's body) often comes without metadata; it is evidence all the same.
  if (v.kind === "Status" && v.metadata === undefined) return [{ ...v, metadata: {} } as LooseObject];
  return isKubeObject(value) ? [value] : [];
}
