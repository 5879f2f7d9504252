// Prose fitted to a terminal: long lines broken between words, continuation lines indented like
// the first (plus `extra`), so that nothing wraps mid-word at the terminal's edge. Commands and
// other text meant for copy-paste are not passed through here.

import { stripVTControlCharacters } from "node:util";
import { terminalSafe } from "./untrusted.js";

// The width as written: untrusted.ts shows a control character from elsewhere as text.
const visible = (text: string) => stripVTControlCharacters(terminalSafe(text)).length;

/** `line` as one or more lines of at most `width` visible characters (a longer word stays whole). */
export function wrapLine(line: string, width: number, extra = 2): string[] {
  if (visible(line) <= width) return [line];
  const indent = /^ */.exec(line)?.[0] ?? "";
  const words = line.slice(indent.length).split(" ");
  const lines: string[] = [];
  let current = indent;
  let currentWidth = indent.length;
  let fresh = true;
  for (const word of words) {
    const w = visible(word);
    if (!fresh && currentWidth + 1 + w > width) {
      lines.push(current);
      current = `${indent}${" ".repeat(extra)}${word}`;
      currentWidth = indent.length + extra + w;
      continue;
    }
    current = fresh ? `${current}${word}` : `${current} ${word}`;
    currentWidth += fresh ? w : 1 + w;
    fresh = false;
  }
  lines.push(current);
  return lines;
}

/** A wrapper for a width, or none (a pipe keeps its lines whole). */
export function wrapperFor(width: number | undefined): (line: string) => string[] {
  return width === undefined ? (line) => [line] : (line) => wrapLine(line, Math.max(40, width - 1));
}

/** Writes prose to stderr, fitted to the terminal when stderr is one. */
export function errProse(
  io: { stderrIsTTY: boolean; columns: number; err(text: string): void },
  text: string,
) {
  for (const line of wrapperFor(io.stderrIsTTY ? io.columns : undefined)(text)) io.err(line);
}

/** Writes prose to stdout, fitted to the terminal when stdout is one. */
export function outProse(
  io: { stdoutIsTTY: boolean; columns: number; out(text: string): void },
  text: string,
) {
  for (const line of wrapperFor(io.stdoutIsTTY ? io.columns : undefined)(text)) io.out(line);
}
