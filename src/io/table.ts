// kubectl-style tables: upper-case headers, columns three spaces apart.
import { stripVTControlCharacters } from "node:util";

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
 * A line cut to the terminal's width with an ellipsis, so that it never wraps (a wrapped line
 * also breaks in-place redraws). A cut line loses its colours: the escapes cannot be cut safely.
 */
export function truncateToWidth(line: string, columns: number): string {
  const width = Math.max(20, columns - 1);
  const plain = stripVTControlCharacters(line);
  return plain.length > width ? `${plain.slice(0, width - 1)}…` : line;
}

function visibleLength(text: string): number {
  return stripVTControlCharacters(text).length;
}
