// The bridge networks' addresses in migrate's summary: before → after for each, and a warning
// when one disappeared, changed or was not reported again (operations/bridge-addresses.ts).

import type { ColorScheme } from "../io/io.js";
import type { NetworkAddresses } from "../operations/bridge-addresses.js";

function list(ips: readonly string[] | null): string {
  if (ips === null) return "not reported";
  return ips.length > 0 ? ips.join(", ") : "none";
}

/** The summary's `network` rows; nothing for a VM without bridge networks or a move that did not succeed. */
export function networkLines(networks: readonly NetworkAddresses[], colors: ColorScheme): string[] {
  const lines: string[] = [];
  for (const n of networks) {
    // Not read after the move (it did not succeed): nothing to compare.
    if (n.ipsAfter === null && n.kept === null && !n.note) continue;
    const row = `  network    ${n.name} (bridge ${n.bridge}): ${list(n.ipsBefore)} → ${list(n.ipsAfter)}`;
    if (n.kept === true) lines.push(`${row}  ${colors.ok("kept")}`);
    else if (n.kept === false || n.ipsAfter === null) {
      lines.push(row);
      if (n.note) lines.push(`  ${colors.warn("warning")}    ${n.note}`);
    } else lines.push(n.note ? `${row}  (${n.note})` : row);
  }
  return lines;
}
