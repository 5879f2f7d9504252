// Text that others wrote (event messages, failure reasons, conditions, logs, annotations, files
// of a --from directory) made safe for a terminal. The IO applies it where text leaves the
// process (io.ts): every C0 control but newline and tab is shown in caret notation (ESC as ^[,
// BEL as ^G, DEL as ^?), every C1 control and bidirectional override or isolate as a \u escape,
// so no escape sequence (CSI, OSC, DCS, APC, PM, SOS) from such text can start, and no text can
// reorder what follows it; a line longer than maxLineLength is cut with a marker saying how much.
//
// kvmig's own escapes (colours, in-place redraws) must still reach the terminal. They are made
// with ownCsi, which writes them with a parameter prefix only this process knows (random, made on
// first use): terminalSafe keeps an ESC only where that prefix follows it, and toTerminal turns
// those back into the plain sequences. Text from the cluster cannot guess the prefix, so each ESC
// it holds is shown as ^[. The tagged form is itself a CSI sequence, so width measurements
// (stripVTControlCharacters, cutToWidth) count it as nothing, as they count a plain one.

/** The longest line written as it is; a longer one (only ever text from elsewhere) is cut. */
export const maxLineLength = 4000;

const ESC = "\u001B";

// A control that may not reach a terminal raw: C0 but \t and \n, DEL, C1, bidi overrides/isolates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is matched.
const unsafeChar = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is matched.
const unsafeChars = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

let ownPrefix: string | undefined;

/** `ESC [` and this process's private parameters: what starts each of kvmig's own sequences. */
function prefix(): string {
  if (ownPrefix === undefined) {
    // Four 4-digit parameters (about 53 bits): stripVTControlCharacters takes up to 4 digits each.
    const random = globalThis.crypto.getRandomValues(new Uint16Array(4));
    ownPrefix = `${ESC}[${[...random].map((n) => String(n % 10_000).padStart(4, "0")).join(";")};`;
  }
  return ownPrefix;
}

/**
 * One of kvmig's own CSI sequences, by what follows `ESC [` ("31m", "2A", "0J", "1G"): the form
 * that passes terminalSafe and that toTerminal writes as `ESC [ body`.
 */
export function ownCsi(body: string): string {
  return `${prefix()}${body}`;
}

/** How a control character is shown: ^[ for ESC, ^G for BEL, ^? for DEL, \u009b for C1 and bidi. */
export function visibleControl(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return "^?";
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with every control character that could change the terminal shown visibly instead
 * (kvmig's own sequences from ownCsi kept, still in their private form) and every line longer
 * than maxLineLength cut with a marker. Idempotent: safe text stays as it is.
 */
export function terminalSafe(text: string): string {
  let safe = text;
  if (unsafeChar.test(text)) {
    const own = ownPrefix;
    safe = text.replace(unsafeChars, (char, offset: number) =>
      char === ESC && own !== undefined && text.startsWith(own, offset) ? char : visibleControl(char),
    );
  }
  return safe.length > maxLineLength ? cutLongLines(safe) : safe;
}

/** kvmig's own sequences in the form the terminal reads; the text is otherwise left as it is. */
export function untag(text: string): string {
  return ownPrefix !== undefined && text.includes(ownPrefix) ? text.replaceAll(ownPrefix, `${ESC}[`) : text;
}

/** What may be written to a terminal: terminalSafe, then kvmig's own sequences made plain. */
export function toTerminal(text: string): string {
  return untag(terminalSafe(text));
}

/**
 * One word for a shell's completion protocol (a candidate per line): terminalSafe, and also a
 * line break or tab shown as ^J or ^I, which would otherwise split it into two candidates.
 */
export function terminalWord(text: string): string {
  return terminalSafe(text).replace(/[\n\t]/g, visibleControl);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: raw controls are what is matched.
const rawInJson = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text with the controls JSON.stringify leaves raw (DEL, C1, bidi; and any C0, which valid
 * JSON only has escaped) written as \u escapes. They can only stand inside strings, where the
 * escape means the same character: the document parses to exactly the same data.
 */
export function jsonSafe(json: string): string {
  return json.replace(rawInJson, (char) =>
    char === "\n" || char === "\t" || char === "\r"
      ? char
      : `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function cutLongLines(text: string): string {
  return text
    .split("\n")
    .map((line) => (line.length > maxLineLength ? cutLine(line) : line))
    .join("\n");
}

/** Room kept for the marker, so that a cut line is no longer than maxLineLength (and stays as it is). */
const markerRoom = 40;

/** A line cut to maxLineLength characters shown (own sequences count as none, and all stay). */
function cutLine(line: string): string {
  const own = ownPrefix;
  const pieces = own === undefined ? [line] : line.split(ownSequences(own));
  const shown = pieces.reduce((n, piece, i) => (i % 2 === 1 ? n : n + piece.length), 0);
  if (shown <= maxLineLength) return line;
  let room = maxLineLength - markerRoom;
  const marker = ` … [${(shown - room).toLocaleString("en-US")} more characters cut]`;
  let out = "";
  let marked = false;
  pieces.forEach((piece, i) => {
    if (i % 2 === 1) {
      out += piece;
      return;
    }
    let kept = piece.slice(0, Math.max(0, room));
    // Not half of a surrogate pair.
    if (kept.length > 0 && kept.length < piece.length && /[\ud800-\udbff]$/.test(kept))
      kept = kept.slice(0, -1);
    out += kept;
    room -= kept.length;
    if (!marked && kept.length < piece.length) {
      out += marker;
      marked = true;
    }
  });
  return out;
}

const sequencePatterns = new Map<string, RegExp>();

/** kvmig's own sequences as split() separators kept in the result (odd indexes). */
function ownSequences(own: string): RegExp {
  let pattern = sequencePatterns.get(own);
  if (!pattern) {
    pattern = new RegExp(`(${own.replace(/[[\]\\^$.|?*+()]/g, "\\$&")}[0-9;?]*[@-~])`);
    sequencePatterns.set(own, pattern);
  }
  return pattern;
}
