// -o yaml says exactly what -o json says, whichever YAML version reads it. The `yaml` package
// writes YAML 1.2 and quotes what a 1.2 parser would retype; but much of the tooling that reads
// kvmig's output (PyYAML, Ansible, go-yaml v2, Ruby's Psych) reads YAML 1.1, where a plain
// `2026-12-07T10:00:00Z` is a timestamp, `on`/`no` are booleans, `0777` is octal, `1:30` is
// ninety and a plain `=` or `<<` does not even load. So every string such a parser would read as
// another type is double-quoted, as a value and as a key. The library's own `compat: "yaml-1.1"`
// misses `=`, `<<` and the booleans in odd cases, so the rule is written out here, from YAML
// 1.1's type repository (yaml.org/type: bool, null, int, float, timestamp, merge, value), made
// broader where quoting one string too many costs nothing.
//
// The data goes through JSON first, so YAML holds exactly the JSON document: no undefined
// fields, no NaN, no shared objects turned into &anchors.

/** Writes one value as a YAML document (ends with a newline). */
export type WriteYaml = (data: unknown) => string;

const implicitTypes: readonly RegExp[] = [
  // bool: y|Y|yes|Yes|YES|n|N|no|No|NO|true|...|on|...|off|...; any case here.
  /^(?:y|yes|n|no|true|false|on|off)$/i,
  // null: ~, null (and the empty string, which the library quotes anyway)
  /^(?:~|null|)$/i,
  // int: binary, hexadecimal, decimal and octal (0777), with underscores (1_000)
  /^[-+]?0b[01_]+$/,
  /^[-+]?0x[0-9a-fA-F_]+$/,
  /^[-+]?[0-9][0-9_]*$/,
  // int and float in base 60: 1:30, 190:20:30.15
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/,
  // float: with a dot (1., .5, 1_000.5, 6.8523015e+5), or an exponent alone (1e3, YAML 1.2)
  /^[-+]?[0-9_]*\.[0-9_.]*(?:[eE][-+]?[0-9]+)?$/,
  /^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$/,
  /^[-+]?\.(?:inf|nan)$/i,
  // timestamp: 2026-12-07, 2026-12-7T1:00:00.5Z, 2026-12-07 10:00:00 +01:00
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/,
  // merge key and value key: PyYAML's safe loader refuses both
  /^(?:<<|=)$/,
];

/** Whether a YAML 1.1 parser reads this string, written plain, as something other than a string. */
function yaml11Retypes(text: string): boolean {
  return implicitTypes.some((pattern) => pattern.test(text));
}

/**
 * Characters a YAML 1.1 parser does not take literally: a tab ends a plain scalar in PyYAML; NEL,
 * LS and PS are line breaks to YAML 1.1 (folded, or ending a key) though not to JSON; DEL, the
 * C1 controls and U+FFFE/U+FFFF may not appear raw in a YAML stream at all, and a byte-order mark
 * at the start of a document is dropped. The bidirectional overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069) are legal but would reorder the text around them on a terminal (untrusted.ts),
 * so they are escaped too. A string holding any of them is written double-quoted, and in the text the library wrote (which escapes only what
 * JSON escapes) each such character still raw is replaced by its YAML escape: with the string
 * double-quoted, that is the only place the character can be.
 */
const needsQuotes = /[\t\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]/;
const rawInQuotes = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]/g;
const namedEscapes: Readonly<Record<string, string>> = { "\u0085": "\\N", "\u2028": "\\L", "\u2029": "\\P" };

function escapeRaw(char: string): string {
  const code = char.charCodeAt(0);
  return namedEscapes[char] ?? (code <= 0xff ? `\\x${code.toString(16)}` : `\\u${code.toString(16)}`);
}

/** Loads the `yaml` package (only when YAML is wanted: most runs print text) and returns a writer. */
export async function loadYamlWriter(): Promise<WriteYaml> {
  // The default export: bundled, this CommonJS package has no named exports.
  const { default: YAML } = await import("yaml");
  return (data) => {
    const json = JSON.stringify(data);
    const doc = new YAML.Document(json === undefined ? null : JSON.parse(json));
    YAML.visit(doc, {
      Scalar(_key, node) {
        if (typeof node.value !== "string") return;
        if (yaml11Retypes(node.value) || needsQuotes.test(node.value)) node.type = "QUOTE_DOUBLE";
      },
    });
    // No folding of long lines: a message stays on one line, as in JSON. A double-quoted string
    // keeps its line breaks as \n escapes, also as JSON does: the library's multi-line form of
    // it loses a backslash after "\n \n" (its own parser then reads another string back).
    return doc
      .toString({ lineWidth: 0, doubleQuotedMinMultiLineLength: Number.POSITIVE_INFINITY })
      .replace(rawInQuotes, escapeRaw);
  };
}
