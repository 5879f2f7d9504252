// A reader for the YAML that kubeconfig files are written in (kubectl config, cloud CLIs, kind,
// kvmig sim): block mappings and sequences of plain or quoted one-line scalars. It answers
// undefined for anything else (flow collections, anchors, tags, block or multi-line scalars,
// numbers other than plain integers, duplicate keys...), and the caller then reads the file with
// the Kubernetes client's full YAML parser, as before: what this reader accepts, it reads as that
// parser (YAML 1.2's core schema) does. It exists because loading the full parser costs a
// cluster command more time than the rest of reading the kubeconfig.

/** A line with content: its indentation and its text after the indentation, comments kept. */
interface Line {
  indent: number;
  text: string;
}

class Unsupported extends Error {}

const unsupported = (): never => {
  throw new Unsupported();
};

/** The kubeconfig's document, or undefined when it uses YAML this reader does not read. */
export function parseKubeconfigYaml(source: string): unknown {
  try {
    const lines = contentLines(source);
    if (lines.length === 0) return undefined;
    const reader = new Reader(lines);
    const value = reader.node(lines[0]?.indent ?? 0);
    if (!reader.done()) unsupported();
    return value;
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function contentLines(source: string): Line[] {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const lines: Line[] = [];
  let started = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const indent = line.length - line.trimStart().length;
    const body = line.slice(indent);
    if (body === "" || body.startsWith("#")) continue;
    if (/^\s*\t/.test(raw)) unsupported();
    if (body.startsWith("%") || body === "..." || /^---(\s|$)/.test(body)) {
      // One document start marker, before any content, with nothing after it.
      if (started || body !== "---" || indent !== 0) unsupported();
      started = true;
      continue;
    }
    started = true;
    lines.push({ indent, text: body });
  }
  return lines;
}

class Reader {
  private at = 0;

  constructor(private readonly lines: Line[]) {}

  done(): boolean {
    return this.at === this.lines.length;
  }

  private peek(): Line | undefined {
    return this.lines[this.at];
  }

  /** The block that starts at the current line, which is at `indent`. */
  node(indent: number): unknown {
    const line = this.peek();
    if (!line || line.indent !== indent) return unsupported();
    return isSequenceItem(line.text) ? this.sequence(indent) : this.mapping(indent, undefined);
  }

  private sequence(indent: number): unknown[] {
    const items: unknown[] = [];
    for (let line = this.peek(); line && line.indent === indent; line = this.peek()) {
      if (!isSequenceItem(line.text)) break;
      if (line.text === "-") {
        this.at++;
        const next = this.peek();
        if (!next || next.indent <= indent) unsupported();
        items.push(this.node((next as Line).indent));
        continue;
      }
      // "- rest": rest is a scalar or the first key of a mapping, whose other keys sit under it.
      const rest = line.text.slice(2);
      const restIndent = indent + 2 + (rest.length - rest.trimStart().length);
      const item = rest.trimStart();
      if (isSequenceItem(item)) unsupported();
      if (keyOf(item) !== undefined) {
        items.push(this.mapping(restIndent, item));
      } else {
        this.at++;
        items.push(scalar(item));
      }
    }
    const after = this.peek();
    if (after && after.indent > indent) unsupported();
    return items;
  }

  /** A mapping at `indent`; `first` is its first entry's text when it shares a line with "- ". */
  private mapping(indent: number, first: string | undefined): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    let text = first;
    if (text === undefined) {
      text = this.peek()?.text;
    }
    while (text !== undefined) {
      const entry = keyOf(text);
      if (entry === undefined) return unsupported();
      const { key, rest } = entry;
      if (key === "<<" || Object.hasOwn(map, key) || key === "__proto__") unsupported();
      this.at++;
      if (rest === "") {
        const next = this.peek();
        if (next && next.indent > indent) {
          map[key] = this.node(next.indent);
        } else if (next && next.indent === indent && isSequenceItem(next.text)) {
          // kubectl writes a mapping's sequence at the key's own indentation.
          map[key] = this.sequence(indent);
        } else {
          map[key] = null;
        }
      } else {
        map[key] = scalar(rest);
      }
      const next = this.peek();
      if (!next || next.indent < indent) break;
      if (next.indent > indent || isSequenceItem(next.text)) unsupported();
      text = next.text;
    }
    return map;
  }
}

function isSequenceItem(text: string): boolean {
  return text === "-" || text.startsWith("- ");
}

/** "key: rest" or "key:" with a plain or quoted key; undefined when the text is no mapping entry. */
function keyOf(text: string): { key: string; rest: string } | undefined {
  let key: string;
  let after: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    const quoted = readQuoted(text);
    if (!quoted) return undefined;
    key = quoted.value;
    after = quoted.rest;
  } else {
    const colon = /:(\s|$)/.exec(text);
    if (!colon) return undefined;
    key = text.slice(0, colon.index);
    after = text.slice(colon.index);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(key) && key !== "<<") return unsupported();
  }
  if (!after.startsWith(":")) return undefined;
  const rest = after.slice(1);
  if (rest !== "" && !/^\s/.test(rest)) return undefined;
  return { key, rest: withoutComment(rest.trim()) };
}

/** A value's text up to a comment (" #"); quoted values keep theirs. */
function withoutComment(text: string): string {
  if (text.startsWith("#")) return "";
  if (text.startsWith('"') || text.startsWith("'")) return text;
  const at = text.indexOf(" #");
  return at === -1 ? text : text.slice(0, at).trimEnd();
}

function scalar(text: string): unknown {
  const value = withoutComment(text);
  if (value.startsWith('"') || value.startsWith("'")) {
    const quoted = readQuoted(value);
    if (!quoted) return unsupported();
    const rest = quoted.rest.trim();
    if (rest !== "" && !rest.startsWith("#")) unsupported();
    return quoted.value;
  }
  if (value === "" || value === "~" || value === "null" || value === "Null" || value === "NULL") return null;
  if (value === "true" || value === "True" || value === "TRUE") return true;
  if (value === "false" || value === "False" || value === "FALSE") return false;
  // YAML 1.1's other booleans (go-yaml's, so kubectl's: insecure-skip-tls-verify: yes is true).
  if (/^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/.test(value)) return unsupported();
  if (value === "[]") return [];
  if (value === "{}") return {};
  if (/^-?(0|[1-9][0-9]{0,14})$/.test(value)) return Number(value);
  // Exec plugins' arguments (--region, -o) and IDs (Azure's server-id): strings in every schema.
  if (/^--?[A-Za-z_]/.test(value) || uuid.test(value)) return plainString(value);
  // Indicators, other numbers and timestamps, and ": " (an error in a plain scalar).
  if (/^[-?:,[\]{}#&*!|>'"%@`+.0-9]/.test(value)) return unsupported();
  return plainString(value);
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A plain scalar that is a string; ": " in it is an error, left to the full parser to report. */
function plainString(value: string): string {
  return /:(\s|$)/.test(value) ? unsupported() : value;
}

/** A one-line quoted scalar at the start of `text`: its value and what follows the quote. */
function readQuoted(text: string): { value: string; rest: string } | undefined {
  const quote = text[0];
  let value = "";
  for (let i = 1; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c !== "'") {
        value += c;
      } else if (text[i + 1] === "'") {
        value += "'";
        i++;
      } else {
        return { value, rest: text.slice(i + 1) };
      }
    } else if (c === '"') {
      return { value, rest: text.slice(i + 1) };
    } else if (c === "\\") {
      const escaped = simpleEscapes[text[i + 1] ?? ""];
      if (escaped === undefined) return unsupported();
      value += escaped;
      i++;
    } else {
      value += c;
    }
  }
  // Not closed on this line: a multi-line scalar.
  return unsupported();
}

const simpleEscapes: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  n: "\n",
  t: "\t",
  r: "\r",
  "0": "\0",
  " ": " ",
};
