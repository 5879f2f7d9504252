// kubectl-style tables: upper-case headers, columns three spaces apart.
import { stripVTControlCharacters } from "node:util";
import { terminalSafe } from "./untrusted.js";

const GAP = "   ";

export function formatTable(headers: string[], rows: string[][], opts: { noHeaders?: boolean } = {}): string {
  const lines = opts.noHeaders ? rows : [headers.map((h) => h.toUpperCase()), ...rows];
  const columnCount = Math.max(headers.length, ...rows.map((r) => r.length));
  // Widths count what the terminal shows, so coloured cells line up with plain ones.
  const widths = Array.from({ length: columnCount }, (_, i) =>
    Math.max(0, ...lines.map((cells) => visibleLength(cells[i] ?? ""))),
  );
  return lines
    .map((cells) =>
      widths
        .map((width, i) => {
          const cell = cells[i] ?? "";
          return cell + " ".repeat(width - visibleLength(cell));
        })
        .join(GAP)
        .trimEnd(),
    )
    .join("\n");
}

/**
 * A table written a few rows at a time (a log of changes, a paged listing): each batch is aligned
 * with the widths seen so far, which only grow, so that columns stay put where they can. The
 * headers come with the first batch, unless `noHeaders`.
 */
export function streamingTable(
  headers: readonly string[],
  opts: {
    noHeaders?: boolean | undefined;
    /** Widths to start from, by column name as shown (upper case), for cells known to grow. */
    minWidths?: Readonly<Record<string, number>>;
  } = {},
): (rows: readonly (readonly string[])[]) => string[] {
  const widths: number[] = headers.map((h) => opts.minWidths?.[h.toUpperCase()] ?? 0);
  let headed = opts.noHeaders === true;
  return (rows) => {
    if (rows.length === 0) return [];
    const lines = headed ? rows : [headers.map((h) => h.toUpperCase()), ...rows];
    headed = true;
    for (const cells of lines)
      cells.forEach((cell, i) => {
        widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell));
      });
    return lines.map((cells) =>
      cells
        .map((cell, i) => cell + " ".repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(cell))))
        .join(GAP)
        .trimEnd(),
    );
  };
}

/**
 * A line cut to the terminal's width with an ellipsis, so that it never wraps (a wrapped line
 * also breaks in-place redraws). A cut line loses its colours: the escapes cannot be cut safely.
 */
export function truncateToWidth(line: string, columns: number): string {
  const width = Math.max(20, columns - 1);
  const plain = stripVTControlCharacters(terminalSafe(line));
  return plain.length > width ? `${plain.slice(0, width - 1)}…` : line;
}

/**
 * `line`, ready for the terminal (untrusted.ts toTerminal), cut to `width` visible characters (the last one an ellipsis), keeping its colours: every
 * escape sequence stays, so a colour opened before the cut is still closed after it.
 */
export function cutToWidth(line: string, width: number): string {
  // For text as the terminal gets it (toTerminal'd, ora's frames): every escape in it is ours.
  if (stripVTControlCharacters(line).length <= width) return line;
  const room = Math.max(1, width) - 1;
  let out = "";
  let shown = 0;
  let cut = false;
  for (const piece of line.split(escapeSequence)) {
    if (escapeSequence.test(piece)) {
      out += piece;
      continue;
    }
    const chars = [...piece];
    const kept = chars.slice(0, Math.max(0, room - shown));
    out += kept.join("");
    shown += kept.length;
    if (!cut && chars.length > kept.length) {
      out += "…";
      cut = true;
    }
  }
  return out;
}

// CSI and OSC sequences, whole, as split() separators kept in the result.
const escapeSequence =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is matched.
  /(\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)|\u001B[@-Z\\-_])/;

/** The width of `text` as written (untrusted.ts shows a control from elsewhere as text). */
function visibleLength(text: string): number {
  return stripVTControlCharacters(terminalSafe(text)).length;
}
