// kubectl's JSONPath (`-o jsonpath=TEMPLATE`), evaluated on the same data as -o json. The dialect
// and its quirks follow k8s.io/client-go/util/jsonpath (parser.go, jsonpath.go) and the value
// comparisons of its forked text/template (funcs.go), as kubectl 1.32 runs them; the code is
// ours. Text outside `{...}` is printed as it is; inside, `$`/`@` (the current object), `.field`,
// `['field']`, `[n]`, `[start:end:step]`, `[*]`, `..` (recursive descent), unions `[a,b]`,
// filters `[?(@.x == "y")]`, quoted literals and `{range ...}...{end}`. Printing is kubectl's:
// the results of one `{...}` space-separated, maps and arrays as compact JSON (keys sorted, as
// Go writes a map), strings raw. Values keep Go's kinds as kubectl decodes JSON: a whole number
// is an int64, another a float64, and the two do not compare.
//
// One choice where kubectl has none: Go ranges over a map in random order (`.labels.*`, `..`);
// here it is the keys' sorted order, the order -o json writes them in kubectl's output.

import { compareText } from "../util/order.js";

/** A template that does not parse, or fails on the data: the message is kubectl's. */
export class JsonPathError extends Error {
  /**
   * What the failing step handed on with its error in client-go: an existence filter
   * (`[?(@.tags[0])]`) ignores the error and keeps the item when this is not empty.
   */
  partial: unknown[] = [];

  static failing(message: string, partial: unknown[]): JsonPathError {
    const error = new JsonPathError(message);
    error.partial = partial;
    return error;
  }
}

/** A step's error passed on with what that step hands on with it (client-go returns its input). */
function handingOn(error: unknown, partial: unknown[]): unknown {
  return error instanceof JsonPathError ? JsonPathError.failing(error.message, partial) : error;
}

type Node =
  | { type: "list"; nodes: Node[] }
  | { type: "text"; text: string }
  | { type: "field"; name: string }
  | { type: "identifier"; name: string }
  | { type: "array"; params: [Param, Param, Param] }
  | { type: "filter"; left: ListNode; right: ListNode; operator: string }
  | { type: "int"; value: number }
  | { type: "float"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "wildcard" }
  | { type: "recursive" }
  | { type: "union"; lists: ListNode[] };

type ListNode = Extract<Node, { type: "list" }>;

interface Param {
  /** Whether the number was written (else the default applies). */
  known: boolean;
  value: number;
  /** `[n]`: the end is n+1, made up rather than written. */
  derived: boolean;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const terminators = new Set([" ", "\t", "\r", "\n", ".", ",", "[", "]", "$", "@", "{", "}"]);
const isTerminator = (c: string | undefined) => c === undefined || terminators.has(c);
const isAlphaNumeric = (c: string | undefined) => c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c);
const isDigit = (c: string | undefined) => c !== undefined && /^\p{Nd}$/u.test(c);

class Parser {
  private pos = 0;
  private start = 0;
  readonly root: ListNode = { type: "list", nodes: [] };
  /** Code points, so that a position is a character as Go's rune reader sees one. */
  private readonly input: string[];

  constructor(text: string) {
    this.input = [...text];
  }

  private rest(): string {
    return this.input.slice(this.pos).join("");
  }
  private at(offset = 0): string | undefined {
    return this.input[this.pos + offset];
  }
  private next(): string | undefined {
    const c = this.input[this.pos];
    if (c !== undefined) this.pos++;
    return c;
  }
  private consume(): string {
    const text = this.input.slice(this.start, this.pos).join("");
    this.start = this.pos;
    return text;
  }

  parse(): ListNode {
    this.parseText();
    return this.root;
  }

  private parseText(): void {
    for (;;) {
      if (this.at() === "{") {
        if (this.pos > this.start) this.root.nodes.push({ type: "text", text: this.consume() });
        this.pos++;
        this.consume();
        const action: ListNode = { type: "list", nodes: [] };
        this.root.nodes.push(action);
        this.parseAction(action);
        return;
      }
      if (this.next() === undefined) break;
    }
    if (this.pos > this.start) this.root.nodes.push({ type: "text", text: this.consume() });
  }

  /** Inside `{...}`: one element after another, until the closing brace. */
  private parseAction(cur: ListNode): void {
    for (;;) {
      const rest = this.rest();
      if (rest.startsWith("}")) {
        this.pos++;
        this.consume();
        this.parseText();
        return;
      }
      if (rest.startsWith("[?(")) {
        this.parseFilter(cur);
        continue;
      }
      if (rest.startsWith("..")) {
        const last = cur.nodes[cur.nodes.length - 1];
        if (last?.type === "recursive") throw new JsonPathError("invalid multiple recursive descent");
        this.pos += 2;
        this.consume();
        cur.nodes.push({ type: "recursive" });
        if (isAlphaNumeric(this.at())) this.parseField(cur);
        continue;
      }
      const c = this.next();
      if (c === undefined || c === "\r" || c === "\n") throw new JsonPathError("unclosed action");
      if (c === " " || c === "@" || c === "$") {
        this.consume();
      } else if (c === "[") {
        this.parseArray(cur);
      } else if (c === '"' || c === "'") {
        this.parseQuote(cur, c);
      } else if (c === ".") {
        this.parseField(cur);
      } else if (c === "+" || c === "-" || isDigit(c)) {
        this.pos--;
        this.parseNumber(cur);
      } else if (isAlphaNumeric(c)) {
        this.pos--;
        this.parseIdentifier(cur);
      } else {
        throw new JsonPathError(`unrecognized character in action: ${goRune(c)}`);
      }
    }
  }

  private parseIdentifier(cur: ListNode): void {
    while (!isTerminator(this.at())) this.pos++;
    const value = this.consume();
    if (value === "true" || value === "false") cur.nodes.push({ type: "bool", value: value === "true" });
    else cur.nodes.push({ type: "identifier", name: value });
  }

  private parseNumber(cur: ListNode): void {
    if (this.at() === "+" || this.at() === "-") this.pos++;
    while (this.at() === "." || isDigit(this.at())) this.pos++;
    const text = this.consume();
    if (/^[+-]?\d+$/.test(text) && Math.abs(Number(text)) <= Number.MAX_SAFE_INTEGER) {
      cur.nodes.push({ type: "int", value: Number(text) });
    } else if (/^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(text)) {
      cur.nodes.push({ type: "float", value: Number(text) });
    } else {
      throw new JsonPathError(`cannot parse number ${text}`);
    }
  }

  private parseArray(cur: ListNode): void {
    for (;;) {
      const c = this.next();
      if (c === undefined || c === "\n") throw new JsonPathError("unterminated array");
      if (c === "]") break;
    }
    let text = this.consume().slice(1, -1);
    if (text === "*") text = ":";
    const parts = text.split(",");
    if (parts.length > 1) {
      const lists = parts.map((part) => parseInner(`[${part.replace(/^ +| +$/g, "")}]`));
      cur.nodes.push({ type: "union", lists });
      return;
    }
    const key = /^'([^']*)'$/.exec(text);
    if (key) {
      cur.nodes.push(...parseInner(`.${key[1]}`).nodes);
      return;
    }
    const slice = /^(-?\d*)(:-?\d*)?(:-?\d*)?$/.exec(text);
    if (!slice) throw new JsonPathError(`invalid array index ${text}`);
    const params: Param[] = [];
    for (let i = 0; i < 3; i++) {
      let written = slice[i + 1] ?? "";
      if (written !== "") {
        if (i > 0) written = written.slice(1);
        if (i > 0 && written === "") params.push({ known: false, value: 0, derived: false });
        else {
          if (!/^-?\d+$/.test(written)) throw new JsonPathError(`array index ${written} is not a number`);
          params.push({ known: true, value: Number(written), derived: false });
        }
      } else if (i === 1) {
        params.push({ known: true, value: (params[0]?.value ?? 0) + 1, derived: true });
      } else params.push({ known: false, value: 0, derived: false });
    }
    cur.nodes.push({ type: "array", params: params as [Param, Param, Param] });
  }

  private parseFilter(cur: ListNode): void {
    this.pos += 3;
    this.consume();
    let begin = false;
    let end = false;
    let pair = "";
    for (;;) {
      const c = this.next();
      if (c === undefined || c === "\n") throw new JsonPathError("unterminated filter");
      if (c === '"' || c === "'") {
        if (!begin) {
          begin = true;
          pair = c;
          continue;
        }
        if (this.input[this.pos - 2] !== "\\" && c === pair) end = true;
      } else if (c === ")" && begin === end) break;
    }
    if (this.next() !== "]") throw new JsonPathError("unclosed array expect ]");
    const text = this.consume().slice(0, -2);
    const comparison = /^([^!<>=]+)([!<>=]+)(.+?)$/s.exec(text);
    if (!comparison) {
      cur.nodes.push({
        type: "filter",
        left: parseInner(text),
        right: { type: "list", nodes: [] },
        operator: "exists",
      });
      return;
    }
    cur.nodes.push({
      type: "filter",
      left: parseInner(comparison[1] ?? ""),
      right: parseInner(comparison[3] ?? ""),
      operator: comparison[2] ?? "",
    });
  }

  private parseQuote(cur: ListNode, quote: string): void {
    for (;;) {
      const c = this.next();
      if (c === undefined || c === "\n") throw new JsonPathError("unterminated quoted string");
      if (c === quote && this.input[this.pos - 2] !== "\\") break;
    }
    const text = this.consume();
    cur.nodes.push({ type: "text", text: unquote(text) });
  }

  private parseField(cur: ListNode): void {
    this.consume();
    for (;;) {
      const c = this.at();
      if (c === "\\") {
        this.pos++;
        if (this.at() !== undefined) this.pos++;
        continue;
      }
      if (isTerminator(c)) break;
      this.pos++;
    }
    const value = this.consume();
    if (value === "*") cur.nodes.push({ type: "wildcard" });
    else cur.nodes.push({ type: "field", name: value.replaceAll("\\", "") });
  }
}

/** A part of an action (a filter's side, a union's member) parsed as an action of its own. */
function parseInner(text: string): ListNode {
  const root = new Parser(`{${text}}`).parse();
  const first = root.nodes[0];
  return first?.type === "list" ? first : { type: "list", nodes: [] };
}

/** Go's %#U of a rune, as the parser's errors show one: U+0023 '#'. */
function goRune(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")} '${c}'`;
}

const simpleEscapes: Readonly<Record<string, string>> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
};

/** A quoted literal's text, with Go's escapes (strconv.UnquoteChar), in either quote. */
function unquote(quoted: string): string {
  const quote = quoted[0] ?? "";
  const body = quoted.slice(1, -1);
  const fail = () => new JsonPathError(`unquote string ${quoted} error invalid syntax`);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? "";
    if (c === quote) throw fail();
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw fail();
    if (e in simpleEscapes) out += simpleEscapes[e];
    else if (e === quote) out += e;
    else if (e === "x" || e === "u" || e === "U") {
      const size = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + size);
      if (!new RegExp(`^[0-9a-fA-F]{${size}}$`).test(hex)) throw fail();
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) throw fail();
      out += String.fromCodePoint(code);
      i += size;
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct) || Number.parseInt(oct, 8) > 255) throw fail();
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
    } else throw fail();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** A value as the evaluator holds it: JSON data, or undefined for Go's "no value". */
type Value = unknown;

/** A float literal of the template (`1.0`): a float64 even when whole, unlike a number of the data. */
class GoFloat {
  constructor(readonly value: number) {}
}

type GoKind = "map" | "slice" | "string" | "int" | "float" | "bool" | "nil" | "invalid";

function kindOf(value: Value): GoKind {
  if (value === undefined) return "invalid";
  if (value === null) return "nil";
  if (value instanceof GoFloat) return "float";
  if (Array.isArray(value)) return "slice";
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
      return Number.isInteger(value) ? "int" : "float";
    case "boolean":
      return "bool";
    case "object":
      return "map";
    default:
      return "invalid";
  }
}

/** The Go type name an error shows for a value. */
function goType(value: Value): string {
  switch (kindOf(value)) {
    case "map":
      return "map[string]interface {}";
    case "slice":
      return "[]interface {}";
    case "int":
      return "int64";
    case "float":
      return "float64";
    case "nil":
      return "interface {}";
    default:
      return kindOf(value);
  }
}

/** A value as Go's %v prints it (a filter's error names the value it cannot filter). */
function goFormat(value: Value): string {
  switch (kindOf(value)) {
    case "map": {
      const map = value as Record<string, Value>;
      return `map[${sortedKeys(map)
        .map((k) => `${k}:${goFormat(map[k])}`)
        .join(" ")}]`;
    }
    case "slice":
      return `[${(value as Value[]).map(goFormat).join(" ")}]`;
    case "nil":
      return "<nil>";
    case "invalid":
      return "<invalid reflect.Value>";
    default:
      return goText(value);
  }
}

function sortedKeys(map: Record<string, Value>): string[] {
  // Go sorts map keys by their bytes: UTF-16 order differs only above the BMP, rare in a key.
  return Object.keys(map).sort(compareText);
}

function children(value: Value): Value[] {
  switch (kindOf(value)) {
    case "map": {
      const map = value as Record<string, Value>;
      return sortedKeys(map).map((k) => map[k]);
    }
    case "slice":
      return value as Value[];
    case "string":
      // Go indexes a string by byte.
      return [...Buffer.from(value as string, "utf8")];
    default:
      return [];
  }
}

export interface JsonPathOptions {
  /** A field or key that is not there is no result, not an error (kubectl get's default). */
  allowMissingKeys?: boolean;
  /** jsonpath-as-json: each `{...}`'s results as one JSON array. */
  outputJson?: boolean;
}

/** A parsed template: parse once (a bad template is a usage error before any work), run on each document. */
export class JsonPath {
  private readonly root: ListNode;

  constructor(
    readonly template: string,
    private readonly options: JsonPathOptions = {},
  ) {
    this.root = new Parser(template).parse();
  }

  /** The text the template prints for `data`; a JsonPathError with kubectl's message when it fails. */
  execute(data: Value): string {
    const run = new Run(this.options.allowMissingKeys ?? false);
    const results = run.findResults(this.root.nodes, data);
    return results.map((values) => this.print(values)).join("");
  }

  private print(values: Value[]): string {
    if (this.options.outputJson) return `${goJson(values, "    ")}\n`;
    return values
      .map((value) => {
        const kind = kindOf(value);
        return kind === "map" || kind === "slice" ? goJson(value) : goText(value);
      })
      .join(" ");
  }
}

/** One execution: the range bookkeeping of client-go's evaluator, whose quirks kubectl shows. */
class Run {
  private beginRange = 0;
  private inRange = 0;
  private endRange = 0;
  private lastEnd: Node | undefined;

  constructor(private readonly allowMissingKeys: boolean) {}

  findResults(nodes: readonly Node[], data: Value): Value[][] {
    const cur = [data];
    const all: Value[][] = [];
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as Node;
      const results = this.walk(cur, node);
      if (this.endRange > 0 && this.endRange <= this.inRange) {
        this.endRange--;
        this.lastEnd = node;
        break;
      }
      if (this.beginRange > 0) {
        this.beginRange--;
        this.inRange++;
        const body = nodes.slice(i + 1);
        if (results.length > 0) for (const value of results) all.push(...this.findResults(body, value));
        // Still walked, for the position of its {end}; what it finds is dropped.
        else this.findResults(body, undefined);
        this.inRange--;
        const end = nodes.indexOf(this.lastEnd as Node, i + 1);
        if (end >= 0) i = end;
        continue;
      }
      all.push(results);
    }
    return all;
  }

  private walk(input: Value[], node: Node): Value[] {
    switch (node.type) {
      case "list": {
        let cur = input;
        for (const inner of node.nodes) cur = this.walk(cur, inner);
        return cur;
      }
      case "text":
        return [node.text];
      case "int":
      case "bool":
        return input.map(() => node.value);
      case "float":
        return input.map(() => new GoFloat(node.value));
      case "field":
        return this.field(input, node.name);
      case "array":
        return this.array(input, node.params);
      case "filter":
        return this.filter(input, node);
      case "wildcard":
        return input.flatMap((value) => (value === null ? [] : children(value)));
      case "recursive":
        return this.recursive(input);
      case "union":
        try {
          return node.lists.flatMap((list) => this.walk(input, list));
        } catch (error) {
          throw handingOn(error, input);
        }
      case "identifier":
        return this.identifier(input, node.name);
    }
  }

  private identifier(input: Value[], name: string): Value[] {
    if (name === "range") {
      this.beginRange++;
      return input;
    }
    if (name === "end") {
      if (this.inRange === 0) throw new JsonPathError("not in range, nothing to end");
      this.endRange++;
      return [];
    }
    throw JsonPathError.failing(`unrecognized identifier ${name}`, input);
  }

  private field(input: Value[], name: string): Value[] {
    if (input.length === 0) return [];
    const results: Value[] = [];
    for (const value of input) {
      if (kindOf(value) !== "map") continue;
      const map = value as Record<string, Value>;
      if (Object.hasOwn(map, name)) results.push(map[name]);
    }
    if (results.length === 0 && !this.allowMissingKeys) throw new JsonPathError(`${name} is not found`);
    return results;
  }

  private array(input: Value[], params: readonly [Param, Param, Param]): Value[] {
    const results: Value[] = [];
    for (const value of input) {
      if (value === null) continue;
      const fail = (message: string) => JsonPathError.failing(message, input);
      if (!Array.isArray(value)) throw fail(`${goType(value)} is not array or slice`);
      const length = value.length;
      let start = params[0].known ? params[0].value : 0;
      if (start < 0) start += length;
      let end = params[1].known ? params[1].value : length;
      if (end < 0 || (end === 0 && params[1].derived)) end += length;
      // Zero elements asked for: no error, and nothing more from the other inputs either.
      if (end === start) return results;
      if (start >= length || start < 0)
        throw fail(`array index out of bounds: index ${start}, length ${length}`);
      if (end > length || end < 0)
        throw fail(`array index out of bounds: index ${end - 1}, length ${length}`);
      if (start > end) throw fail(`starting index ${start} is greater than ending index ${end}`);
      let step = 1;
      if (params[2].known) {
        if (params[2].value <= 0) throw fail("step must be > 0");
        step = params[2].value;
      }
      for (let i = start; i < end; i += step) results.push(value[i]);
    }
    return results;
  }

  private recursive(input: Value[]): Value[] {
    const results: Value[] = [];
    for (const value of input) {
      if (value === null) continue;
      const below = children(value);
      if (below.length === 0) continue;
      results.push(value, ...this.recursive(below));
    }
    return results;
  }

  private filter(input: Value[], node: Extract<Node, { type: "filter" }>): Value[] {
    const results: Value[] = [];
    for (const value of input) {
      if (!Array.isArray(value))
        throw JsonPathError.failing(`${goFormat(value)} is not array or slice and cannot be filtered`, input);
      for (const item of value) {
        if (node.operator === "exists") {
          let found: Value[];
          try {
            found = this.walk([item], node.left);
          } catch (error) {
            // client-go ignores the error of an existence test, and keeps the item when the
            // failing step handed anything on (an index out of bounds hands on its array).
            if (!(error instanceof JsonPathError)) throw error;
            found = error.partial;
          }
          if (found.length > 0) results.push(item);
          continue;
        }
        const side = (list: ListNode) => {
          try {
            return this.walk([item], list);
          } catch (error) {
            throw handingOn(error, input);
          }
        };
        const lefts = side(node.left);
        if (lefts.length === 0) continue;
        if (lefts.length > 1) throw JsonPathError.failing("can only compare one element at a time", input);
        const rights = side(node.right);
        if (rights.length === 0) continue;
        if (rights.length > 1) throw JsonPathError.failing("can only compare one element at a time", input);
        try {
          if (compare(lefts[0], rights[0], node.operator)) results.push(item);
        } catch (error) {
          throw handingOn(error, results);
        }
      }
    }
    return results;
  }
}

/** The kinds text/template compares; anything else is "invalid type for comparison". */
function comparable(value: Value): "bool" | "int" | "float" | "string" {
  const kind = kindOf(value);
  if (kind === "bool" || kind === "int" || kind === "float" || kind === "string") return kind;
  throw new JsonPathError("invalid type for comparison");
}

function equal(a: Value, b: Value): boolean {
  const ka = comparable(a);
  const kb = comparable(b);
  if (ka !== kb) throw new JsonPathError("incompatible types for comparison");
  return ka === "int" || ka === "float" ? numberOf(a) === numberOf(b) : a === b;
}

function less(a: Value, b: Value): boolean {
  const ka = comparable(a);
  const kb = comparable(b);
  if (ka !== kb) throw new JsonPathError("incompatible types for comparison");
  if (ka === "bool") throw new JsonPathError("invalid type for comparison");
  if (ka === "string") return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string)) < 0;
  return numberOf(a) < numberOf(b);
}

function numberOf(value: Value): number {
  return value instanceof GoFloat ? value.value : (value as number);
}

function compare(a: Value, b: Value, operator: string): boolean {
  switch (operator) {
    case "==":
      return equal(a, b);
    case "!=":
      return !equal(a, b);
    case "<":
      return less(a, b);
    case "<=":
      return less(a, b) || equal(a, b);
    case ">":
      return !(less(a, b) || equal(a, b));
    case ">=":
      return !less(a, b);
    default:
      throw new JsonPathError(`unrecognized filter operator ${operator}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Printing, as Go prints

/** A scalar as fmt.Fprint writes it. */
function goText(value: Value): string {
  switch (kindOf(value)) {
    case "string":
      return value as string;
    case "int":
      return String(value);
    case "float":
      return goFloat(numberOf(value));
    case "bool":
      return String(value);
    case "nil":
      return "null";
    case "invalid":
      return "<no value>";
    default:
      return goJson(value);
  }
}

/** A float64 as %v writes it (strconv's %g, shortest): exponent form below 1e-4 and from 1e6 on. */
function goFloat(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
  const exponential = value.toExponential(); // shortest digits: d.ddde±x
  const [mantissa = "", exp = "0"] = exponential.split("e");
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return String(value);
}

/** JSON as Go's encoding/json writes it: map keys sorted, <, > and & escaped (HTML safe). */
function goJson(value: Value, indent = "", depth = 0): string {
  const kind = kindOf(value);
  const pad = (d: number) => (indent === "" ? "" : `\n${indent.repeat(d)}`);
  if (kind === "map") {
    const map = value as Record<string, Value>;
    const keys = sortedKeys(map).filter((k) => map[k] !== undefined);
    if (keys.length === 0) return "{}";
    const sep = indent === "" ? ":" : ": ";
    const body = keys.map((k) => `${pad(depth + 1)}${goString(k)}${sep}${goJson(map[k], indent, depth + 1)}`);
    return `{${body.join(",")}${pad(depth)}}`;
  }
  if (kind === "slice") {
    const items = value as Value[];
    if (items.length === 0) return "[]";
    const body = items.map((item) => `${pad(depth + 1)}${goJson(item, indent, depth + 1)}`);
    return `[${body.join(",")}${pad(depth)}]`;
  }
  if (kind === "string") return goString(value as string);
  if (kind === "nil" || kind === "invalid") return "null";
  return JSON.stringify(numberOf(value));
}

function goString(text: string): string {
  return JSON.stringify(text).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
