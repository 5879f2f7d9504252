// The slice of client-go's JSONPath that CRD additionalPrinterColumns use, evaluated the way the
// apiextensions table convertor runs it: missing keys are not errors, and anything client-go would
// reject while walking (an index past the end, a filter over a non-list, comparing a string with a
// number) yields no matches, because the convertor turns every such error into an empty cell.

type Literal = { kind: "literal"; value: string | number | boolean };

type Step =
  | { kind: "field"; name: string }
  | { kind: "wildcard" }
  | { kind: "slice"; start?: number; end?: number; endDerived: boolean; step?: number }
  | { kind: "filter"; left: Step[]; op: FilterOp; right: Step[] | Literal };

type FilterOp = "==" | "!=" | "<" | ">" | "<=" | ">=" | "exists";

const FILTER_OPS: readonly string[] = ["==", "!=", "<", ">", "<=", ">="];

/** Thrown while walking; never escapes evaluateJsonPath. */
class WalkError extends Error {}

const parsed = new Map<string, Step[]>();

/**
 * The values `path` selects in `object`, in document order. Throws only for a path it cannot parse;
 * data that does not fit the path gives an empty list.
 */
export function evaluateJsonPath(object: unknown, path: string): unknown[] {
  let steps = parsed.get(path);
  if (steps === undefined) {
    steps = parsePath(path);
    parsed.set(path, steps);
  }
  try {
    return walk([object], steps);
  } catch (error) {
    if (error instanceof WalkError) return [];
    throw error;
  }
}

function parsePath(path: string): Step[] {
  let text = path.trim();
  // Printer columns are written bare (".status.phase") but reach client-go wrapped in braces.
  if (text.startsWith("{") && text.endsWith("}")) text = text.slice(1, -1).trim();
  if (text.startsWith("$")) text = text.slice(1);
  return new Parser(text, path).steps();
}

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly original: string,
  ) {}

  steps(): Step[] {
    const steps: Step[] = [];
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === "." && this.text[this.pos + 1] === ".") this.fail("recursive descent (..) is not supported");
      if (c === ".") {
        this.pos++;
        const name = this.fieldName();
        if (name === "*") steps.push({ kind: "wildcard" });
        else if (name !== "") steps.push({ kind: "field", name });
      } else if (c === "[") {
        steps.push(this.text.startsWith("[?(", this.pos) ? this.filter() : this.bracket());
      } else if (c === " " || c === "\t") {
        this.pos++;
      } else {
        this.fail(`unexpected "${c}"`);
      }
    }
    return steps;
  }

  private fieldName(): string {
    let name = "";
    while (this.pos < this.text.length) {
      const c = this.text[this.pos] ?? "";
      if (c === "\\" && this.pos + 1 < this.text.length) {
        name += this.text[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if (".,[]$@{} \t".includes(c)) break;
      name += c;
      this.pos++;
    }
    return name;
  }

  private bracket(): Step {
    const close = this.text.indexOf("]", this.pos);
    if (close < 0) this.fail("unterminated [");
    const inner = this.text.slice(this.pos + 1, close).trim();
    this.pos = close + 1;
    if (inner === "*") return { kind: "slice", endDerived: false };
    if (inner.includes(",")) this.fail("unions ([a,b]) are not supported");
    const key = /^'([^']*)'$/.exec(inner) ?? /^"([^"]*)"$/.exec(inner);
    if (key) return { kind: "field", name: key[1] ?? "" };
    const slice = /^(-?\d*)(?::(-?\d*))?(?::(-?\d*))?$/.exec(inner);
    if (!slice || inner === "") this.fail(`invalid array index [${inner}]`);
    const [, start = "", end, step] = slice;
    if (end === undefined) {
      // "[i]" is client-go's slice [i:i+1]; the derived end matters for "[-1]".
      const index = Number(start);
      return { kind: "slice", start: index, end: index + 1, endDerived: true };
    }
    return {
      kind: "slice",
      start: start === "" ? undefined : Number(start),
      end: end === "" ? undefined : Number(end),
      endDerived: false,
      step: step === undefined || step === "" ? undefined : Number(step),
    };
  }

  private filter(): Step {
    const begin = this.pos + 3;
    let quote = "";
    let i = begin;
    for (; i < this.text.length; i++) {
      const c = this.text[i];
      if (quote !== "") {
        if (c === quote && this.text[i - 1] !== "\\") quote = "";
      } else if (c === "'" || c === '"') {
        quote = c;
      } else if (c === ")") {
        break;
      }
    }
    if (i >= this.text.length || this.text[i + 1] !== "]") this.fail("unterminated filter");
    const expression = this.text.slice(begin, i);
    this.pos = i + 2;
    const match = /^([^!<>=]+)([!<>=]+)(.+?)$/.exec(expression);
    if (!match) return { kind: "filter", left: this.operand(expression), op: "exists", right: [] };
    const [, left = "", op = "", right = ""] = match;
    if (!FILTER_OPS.includes(op)) this.fail(`unknown filter operator ${op}`);
    return { kind: "filter", left: this.operand(left), op: op as FilterOp, right: this.rightOperand(right) };
  }

  private operand(text: string): Step[] {
    const trimmed = text.trim();
    if (!trimmed.startsWith("@")) this.fail(`filter operand must start with @: ${trimmed}`);
    return new Parser(trimmed.slice(1), this.original).steps();
  }

  private rightOperand(text: string): Step[] | Literal {
    const trimmed = text.trim();
    const quoted = /^'((?:[^'\\]|\\.)*)'$/.exec(trimmed) ?? /^"((?:[^"\\]|\\.)*)"$/.exec(trimmed);
    if (quoted) return { kind: "literal", value: (quoted[1] ?? "").replace(/\\(.)/g, "$1") };
    if (/^[+-]?\d+(\.\d+)?$/.test(trimmed)) return { kind: "literal", value: Number(trimmed) };
    if (trimmed === "true" || trimmed === "false") return { kind: "literal", value: trimmed === "true" };
    return this.operand(trimmed);
  }

  private fail(why: string): never {
    throw new Error(`invalid JSONPath ${JSON.stringify(this.original)}: ${why}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function walk(input: unknown[], steps: readonly Step[]): unknown[] {
  let current = input;
  for (const step of steps) current = apply(current, step);
  return current;
}

function apply(input: unknown[], step: Step): unknown[] {
  const out: unknown[] = [];
  for (const value of input) {
    switch (step.kind) {
      case "field":
        // A key present with a null value is still a match, as with client-go's map lookup.
        if (isRecord(value) && Object.hasOwn(value, step.name)) out.push(value[step.name]);
        break;
      case "wildcard":
        if (isRecord(value)) out.push(...Object.values(value));
        else if (Array.isArray(value)) out.push(...value);
        break;
      case "slice":
        if (value === null || value === undefined) break;
        if (!Array.isArray(value)) throw new WalkError("not an array");
        out.push(...slice(value, step));
        break;
      case "filter":
        if (!Array.isArray(value)) throw new WalkError("not an array");
        for (const element of value) if (passes(element, step)) out.push(element);
        break;
    }
  }
  return out;
}

function slice(array: readonly unknown[], step: Extract<Step, { kind: "slice" }>): unknown[] {
  const length = array.length;
  let start = step.start ?? 0;
  if (start < 0) start += length;
  let end = step.end ?? length;
  if (end < 0 || (end === 0 && step.endDerived)) end += length;
  if (start === end) return [];
  if (start >= length || start < 0) throw new WalkError("index out of bounds");
  if (end > length || end < 0) throw new WalkError("index out of bounds");
  if (start > end) throw new WalkError("start after end");
  const stride = step.step ?? 1;
  if (stride <= 0) throw new WalkError("step must be > 0");
  const out: unknown[] = [];
  for (let i = start; i < end; i += stride) out.push(array[i]);
  return out;
}

function passes(element: unknown, step: Extract<Step, { kind: "filter" }>): boolean {
  if (step.op === "exists") {
    try {
      return walk([element], step.left).length > 0;
    } catch (error) {
      if (error instanceof WalkError) return false;
      throw error;
    }
  }
  const lefts = walk([element], step.left);
  if (lefts.length === 0) return false;
  if (lefts.length > 1) throw new WalkError("can only compare one element at a time");
  let right: unknown;
  if ("kind" in step.right) {
    right = step.right.value;
  } else {
    const rights = walk([element], step.right);
    if (rights.length === 0) return false;
    if (rights.length > 1) throw new WalkError("can only compare one element at a time");
    right = rights[0];
  }
  return compare(lefts[0], step.op, right);
}

function compare(left: unknown, op: Exclude<FilterOp, "exists">, right: unknown): boolean {
  const kind = comparableKind(left);
  if (kind !== comparableKind(right)) throw new WalkError("incompatible types for comparison");
  if (op === "==") return left === right;
  if (op === "!=") return left !== right;
  if (kind === "boolean") throw new WalkError("invalid type for comparison");
  const l = left as string | number;
  const r = right as string | number;
  switch (op) {
    case "<":
      return l < r;
    case ">":
      return l > r;
    case "<=":
      return l <= r;
    case ">=":
      return l >= r;
  }
}

function comparableKind(value: unknown): "string" | "number" | "boolean" {
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  throw new WalkError("invalid type for comparison");
}
