// Label and field selectors as the API server parses them (k8s.io/apimachinery/pkg/labels and
// .../pkg/fields). The simulator answers `?labelSelector=` and `?fieldSelector=` with these, so
// a selector the real server would reject is rejected here too, with the server's message: a
// CLI that builds selectors wrongly should fail against the simulator the way it would in a cluster.

/** A selector the API server would refuse; the message is the server's. */
export class SelectorError extends Error {
  override readonly name = "SelectorError";
}

export interface LabelSelector {
  matches(labels: Record<string, string> | undefined): boolean;
  readonly empty: boolean;
}

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  matches(get: (field: string) => string | undefined): boolean;
}

// ---------------------------------------------------------------------------------------------
// Label selectors

type Operator = "in" | "notin" | "=" | "==" | "!=" | "gt" | "lt" | "exists" | "!";

interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

type TokenKind = "end" | "ident" | "in" | "notin" | "(" | ")" | "," | "!" | "=" | "==" | "!=" | ">" | "<";

interface Token {
  kind: TokenKind;
  text: string;
}

const symbolTokens: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  [")", ")"],
  [",", ","],
  ["!", "!"],
  ["==", "=="],
  ["=", "="],
  [">", ">"],
  ["<", "<"],
  ["!=", "!="],
  ["(", "("],
]);
const specialChars = new Set(["=", "!", "(", ")", ",", ">", "<"]);
const whitespace = new Set([" ", "\t", "\r", "\n"]);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && whitespace.has(text[pos] as string)) pos++;
    if (pos >= text.length) {
      tokens.push({ kind: "end", text: "" });
      return tokens;
    }
    if (specialChars.has(text[pos] as string)) {
      // Longest run of symbols that still names a token: "!=" and "==" win over "!" and "=".
      let kind = symbolTokens.get(text[pos] as string) as TokenKind;
      let end = pos + 1;
      const pair = text.slice(pos, pos + 2);
      if (pair.length === 2 && symbolTokens.has(pair)) {
        kind = symbolTokens.get(pair) as TokenKind;
        end = pos + 2;
      }
      tokens.push({ kind, text: text.slice(pos, end) });
      pos = end;
      continue;
    }
    const start = pos;
    while (
      pos < text.length &&
      !specialChars.has(text[pos] as string) &&
      !whitespace.has(text[pos] as string)
    ) {
      pos++;
    }
    const word = text.slice(start, pos);
    tokens.push({ kind: word === "in" || word === "notin" ? word : "ident", text: word });
  }
}

const binaryOperators = "in, notin, =, ==, !=, gt, lt";

class LabelParser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  /** Where a value may stand, "in" and "notin" are ordinary words (`x in (in)`). */
  private peek(): Token {
    const token = this.tokens[Math.min(this.position, this.tokens.length - 1)] as Token;
    return token.kind === "in" || token.kind === "notin" ? { kind: "ident", text: token.text } : token;
  }

  private next(): Token {
    const token = this.peek();
    this.position++;
    return token;
  }

  private nextOperator(): Token {
    const token = this.tokens[Math.min(this.position, this.tokens.length - 1)] as Token;
    this.position++;
    return token;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const token = this.peek();
      if (token.kind === "end") return requirements;
      if (token.kind !== "ident" && token.kind !== "!") {
        throw new SelectorError(`found '${token.text}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.requirement());
      } catch (error) {
        if (error instanceof SelectorError) {
          throw new SelectorError(`unable to parse requirement: ${error.message}`);
        }
        throw error;
      }
      const after = this.next();
      if (after.kind === "end") return requirements;
      if (after.kind !== ",") {
        throw new SelectorError(`found '${after.text}', expected: ',' or 'end of string'`);
      }
      const following = this.peek();
      if (following.kind !== "ident" && following.kind !== "!") {
        throw new SelectorError(`found '${following.text}', expected: identifier after ','`);
      }
    }
  }

  private requirement(): Requirement {
    let token = this.next();
    let operator: Operator | undefined;
    if (token.kind === "!") {
      operator = "!";
      token = this.next();
    }
    if (token.kind !== "ident") throw new SelectorError(`found '${token.text}', expected: identifier`);
    const key = token.text;
    // The parser checks the key before the operator, with no field path (hence "<nil>").
    const keyErrors = labelKeyErrors(key);
    if (keyErrors.length > 0) throw new SelectorError(invalid("<nil>", key, keyErrors));
    const lookahead = this.peek().kind;
    if (operator === "!" || lookahead === "end" || lookahead === ",") {
      return validated({ key, operator: operator ?? "exists", values: [] });
    }
    const op = this.operator();
    const values = op === "in" || op === "notin" ? this.setValues() : this.exactValue();
    return validated({ key, operator: op, values: [...new Set(values)].sort() });
  }

  private operator(): Operator {
    const token = this.nextOperator();
    switch (token.kind) {
      case "in":
      case "notin":
      case "=":
      case "==":
      case "!=":
        return token.kind;
      case ">":
        return "gt";
      case "<":
        return "lt";
      default:
        throw new SelectorError(`found '${token.text}', expected: ${binaryOperators}`);
    }
  }

  private setValues(): string[] {
    const open = this.next();
    if (open.kind !== "(") throw new SelectorError(`found '${open.text}' expected: '('`);
    const first = this.peek();
    if (first.kind === ")") {
      this.next();
      return [""];
    }
    if (first.kind !== "ident" && first.kind !== ",") {
      throw new SelectorError(`found '${first.text}', expected: ',', ')' or identifier`);
    }
    const values = this.identifierList();
    // The API server names the first value here, not the token it found; kept for fidelity.
    if (this.next().kind !== ")") throw new SelectorError(`found '${first.text}', expected: ')'`);
    return values;
  }

  private identifierList(): string[] {
    const values: string[] = [];
    for (;;) {
      const token = this.next();
      if (token.kind === "ident") {
        values.push(token.text);
        const after = this.peek();
        if (after.kind === ",") continue;
        if (after.kind === ")") return values;
        throw new SelectorError(`found '${after.text}', expected: ',' or ')'`);
      }
      if (token.kind !== ",") throw new SelectorError(`found '${token.text}', expected: ',', or identifier`);
      // A leading, trailing or doubled comma stands for the empty value.
      if (values.length === 0) values.push("");
      const after = this.peek();
      if (after.kind === ")") {
        values.push("");
        return values;
      }
      if (after.kind === ",") {
        this.next();
        values.push("");
      }
    }
  }

  private exactValue(): string[] {
    const lookahead = this.peek();
    if (lookahead.kind === "end" || lookahead.kind === ",") return [""];
    const token = this.next();
    if (token.kind === "ident") return [token.text];
    throw new SelectorError(`found '${token.text}', expected: identifier`);
  }
}

function validated(requirement: Requirement): Requirement {
  const { key, operator, values } = requirement;
  const errors: string[] = [];
  if ((operator === "gt" || operator === "lt") && values.length === 1) {
    values.forEach((value, i) => {
      if (!isInt64(value)) {
        errors.push(
          invalid(`values[${i}]`, value, ["for 'Gt', 'Lt' operators, the value must be an integer"]),
        );
      }
    });
  }
  values.forEach((value, i) => {
    const valueErrors = labelValueErrors(value);
    if (valueErrors.length > 0) errors.push(invalid(`values[${i}][${key}]`, value, valueErrors));
  });
  if (errors.length === 1) throw new SelectorError(errors[0]);
  if (errors.length > 1) throw new SelectorError(`[${[...new Set(errors)].join(", ")}]`);
  return requirement;
}

function isInt64(text: string): boolean {
  if (!/^[+-]?\d+$/.test(text)) return false;
  const value = BigInt(text);
  return value >= -(2n ** 63n) && value < 2n ** 63n;
}

function invalid(path: string, value: string, details: string[]): string {
  return `${path}: Invalid value: ${JSON.stringify(value)}: ${details.join("; ")}`;
}

const nameChars = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const nameRegexp = new RegExp(`^${nameChars}$`);
const valueRegexp = new RegExp(`^(${nameChars})?$`);
const subdomainChars = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const subdomainRegexp = new RegExp(`^${subdomainChars}$`);
const charsetRule =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

function regexError(message: string, regex: string, ...examples: string[]): string {
  const shown = examples.map((example) => `'${example}', `).join(" or ");
  return `${message} (e.g. ${shown}regex used for validation is '${regex}')`;
}

function maxLength(limit: number): string {
  return `must be no more than ${limit} characters`;
}

function labelKeyErrors(key: string): string[] {
  const parts = key.split("/");
  const errors: string[] = [];
  if (parts.length > 2) {
    return [
      `a qualified name ${regexError(charsetRule, nameChars, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const name = parts[parts.length - 1] as string;
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (prefix === "") errors.push("prefix part must be non-empty");
    else {
      if (prefix.length > 253) errors.push(`prefix part ${maxLength(253)}`);
      if (!subdomainRegexp.test(prefix)) {
        const rule =
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
        errors.push(`prefix part ${regexError(rule, subdomainChars, "example.com")}`);
      }
    }
  }
  if (name === "") errors.push("name part must be non-empty");
  else if (name.length > 63) errors.push(`name part ${maxLength(63)}`);
  if (!nameRegexp.test(name))
    errors.push(`name part ${regexError(charsetRule, nameChars, "MyName", "my.name", "123-abc")}`);
  return errors;
}

function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLength(63));
  if (!valueRegexp.test(value)) {
    errors.push(
      regexError(
        `a valid label must be an empty string or ${charsetRule.replace("must ", "")}`,
        `(${nameChars})?`,
        "MyValue",
        "my_value",
        "12345",
      ),
    );
  }
  return errors;
}

function requirementMatches(requirement: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case "in":
    case "=":
    case "==":
      return value !== undefined && requirement.values.includes(value);
    case "notin":
    case "!=":
      return value === undefined || !requirement.values.includes(value);
    case "exists":
      return has;
    case "!":
      return !has;
    case "gt":
    case "lt": {
      if (value === undefined || !isInt64(value)) return false;
      const actual = BigInt(value);
      const bound = BigInt(requirement.values[0] as string);
      return requirement.operator === "gt" ? actual > bound : actual < bound;
    }
  }
}

/** Parses `?labelSelector=`; empty or absent text selects everything. */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  const requirements = text === undefined ? [] : new LabelParser(tokenize(text)).parse();
  return {
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((requirement) => requirementMatches(requirement, labels ?? {})),
  };
}

// ---------------------------------------------------------------------------------------------
// Field selectors

/** Splits on commas that no backslash escapes; the escapes stay in the terms. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (escaped) escaped = false;
    else if (ch === "\\") escaped = true;
    else if (ch === ",") {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/** The first operator wins, so a field name can't contain one; "!=" and "==" are tried before "=". */
function splitTerm(term: string): [string, "=" | "!=", string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ["!=", "==", "="] as const) {
      if (term.startsWith(op, i))
        return [term.slice(0, i), op === "!=" ? "!=" : "=", term.slice(i + op.length)];
    }
  }
  return undefined;
}

function unescapeValue(raw: string): string {
  let out = "";
  let escaped = false;
  for (const ch of raw) {
    if (escaped) {
      if (ch !== "\\" && ch !== "," && ch !== "=") {
        throw new SelectorError(`invalid field selector: invalid escape sequence: \\${ch}`);
      }
      out += ch;
      escaped = false;
    } else if (ch === "\\") escaped = true;
    else if (ch === "," || ch === "=") {
      // The server prints the rune with %v, which shows its code point.
      throw new SelectorError(`invalid field selector: unescaped character in value: ${ch.codePointAt(0)}`);
    } else out += ch;
  }
  if (escaped) throw new SelectorError("invalid field selector: invalid escape sequence: \\");
  return out;
}

/**
 * Parses `?fieldSelector=`. `supported` is the set of field labels the resource accepts; the
 * server parses the whole selector first and only then checks the field names.
 */
export function parseFieldSelector(text: string | undefined, supported: ReadonlySet<string>): FieldSelector {
  const requirements: FieldRequirement[] = [];
  // Sorted like the server, so that of several bad terms the same one is reported.
  const terms = text ? splitTerms(text).sort() : [];
  for (const term of terms) {
    if (term === "") continue;
    const parts = splitTerm(term);
    if (parts === undefined)
      throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    const [field, operator, raw] = parts;
    requirements.push({ field, operator, value: unescapeValue(raw) });
  }
  for (const { field } of requirements) {
    if (!supported.has(field)) throw new SelectorError(`field label not supported: ${field}`);
  }
  return {
    requirements,
    matches: (get) =>
      requirements.every(
        ({ field, operator, value }) => ((get(field) ?? "") === value) === (operator === "="),
      ),
  };
}
