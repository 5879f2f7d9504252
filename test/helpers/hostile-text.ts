// Text a cluster (or a --from directory) may hold that would drive a terminal if printed raw:
// one sample per class of control sequence, with the form kvmig shows instead (untrusted.ts).

export interface HostileSample {
  /** The class, as a test names it. */
  kind: string;
  text: string;
  /** What a terminal shows: the controls in caret notation or as \u escapes. */
  shown: string;
}

export const hostileSamples: readonly HostileSample[] = [
  {
    kind: "C0 (NUL, backspace, CR, vertical tab)",
    text: "a\u0000b\u0008c\rd\u000be",
    shown: "a^@b^Hc^Md^Ke",
  },
  { kind: "ESC CSI (clear screen)", text: "x\u001B[2J\u001B[Hy", shown: "x^[[2J^[[Hy" },
  { kind: "OSC 0 (window title)", text: "\u001B]0;owned\u0007t", shown: "^[]0;owned^Gt" },
  {
    kind: "OSC 52 (clipboard)",
    text: "\u001B]52;c;Y3VybCBldmlsIHwgc2g=\u0007",
    shown: "^[]52;c;Y3VybCBldmlsIHwgc2g=^G",
  },
  {
    kind: "OSC 8 (hidden link)",
    text: "\u001B]8;;https://evil.example/\u001B\\docs\u001B]8;;\u001B\\",
    shown: "^[]8;;https://evil.example/^[\\docs^[]8;;^[\\",
  },
  { kind: "DCS", text: "\u001BP+q544e\u001B\\", shown: "^[P+q544e^[\\" },
  {
    kind: "APC, PM, SOS",
    text: "\u001B_a\u001B\\\u001B^p\u001B\\\u001BXs\u001B\\",
    shown: "^[_a^[\\^[^p^[\\^[Xs^[\\",
  },
  { kind: "C1 CSI (U+009B)", text: "\u009B2J\u009B31mred", shown: "\\u009b2J\\u009b31mred" },
  { kind: "C1 OSC and ST (U+009D, U+009C)", text: "\u009D0;t\u009C", shown: "\\u009d0;t\\u009c" },
  {
    kind: "bidi override and isolate",
    text: "ok\u202Egnp.exe\u202C \u2066x\u2069",
    shown: "ok\\u202egnp.exe\\u202c \\u2066x\\u2069",
  },
];

/** Any character that would reach a terminal as a control: C0 but \n and \t, DEL, C1, bidi. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is matched.
export const rawControl = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * The raw controls in `text` once kvmig's own escape sequences are taken out: its colours (SGR)
 * and redraws (cursor moves, erases, cursor visibility), which are the only ones it may write.
 */
export function foreignControls(text: string): string[] {
  const own =
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is matched.
    /\u001B\[(?:(?:1|2|22|31|32|33|36|39)m|\d+[ABCD]|0J|1G|[12]K|\?25[lh])/g;
  const rest = text.replace(own, "");
  // A carriage return ends each spinner frame (ora's, on the raw stream); one from elsewhere is ^M.
  return [...rest].filter((c) => rawControl.test(c) && c !== "\r");
}
