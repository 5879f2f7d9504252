// Numbers as the tables show them, the table of a kvmig-versus-kubectl comparison, targets, and
// the two renderings of a table: aligned text for the terminal and Markdown for docs/.

export function ms(value) {
  if (typeof value !== "number") return "–";
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 10) return `${value.toFixed(0)} ms`;
  return `${value.toFixed(1)} ms`;
}

export function mib(kib) {
  if (typeof kib !== "number") return "–";
  const m = kib / 1024;
  if (m >= 1024) return `${(m / 1024).toFixed(2)} GiB`;
  return `${m.toFixed(m >= 100 ? 0 : 1)} MiB`;
}

export function times(value) {
  return typeof value === "number" ? `${value.toFixed(2)}×` : "–";
}

export function count(value) {
  return typeof value === "number" ? value.toLocaleString("en-US") : "–";
}

/**
 * A target: `measured` against `limit` (`measured <= limit`, or `<` when `strict`). `text` says
 * what is compared, as the issue states it.
 */
export function target(id, text, measured, limit, { strict = false, show = times } = {}) {
  const known = typeof measured === "number" && Number.isFinite(measured);
  const met = known ? (strict ? measured < limit : measured <= limit) : null;
  return { id, text, measured: known ? measured : null, limit, met, shown: show(measured) };
}

export function metText(t) {
  if (t.met === null) return "n/a";
  return t.met ? "met" : "MISSED";
}

/** `kvmig ... vs kubectl ...` rows: median wall, CPU and peak RSS of each, and kvmig's ratio. */
export function pairTable(title, cases) {
  return {
    title,
    headers: [
      "Case",
      "kvmig wall",
      "kubectl wall",
      "×",
      "kvmig CPU",
      "kubectl CPU",
      "×",
      "kvmig peak RSS",
      "kubectl peak RSS",
      "×",
      "Target",
      "Met",
    ],
    rows: cases.map((c) => [
      `${c.label ? `${c.label}: ` : ""}\`${c.kvmig.command}\` vs \`${c.kubectl?.command ?? "–"}\``,
      ms(c.kvmig.wallMs),
      ms(c.kubectl?.wallMs),
      times(c.ratio.wall),
      ms(c.kvmig.cpuMs),
      ms(c.kubectl?.cpuMs),
      times(c.ratio.cpu),
      mib(c.kvmig.maxRssKiB),
      mib(c.kubectl?.maxRssKiB),
      times(c.ratio.rss),
      (c.targets ?? []).map((t) => `${t.text}: ${t.shown}`).join("; ") || "–",
      (c.targets ?? []).map(metText).join("; ") || "–",
    ]),
  };
}

export function renderText(table) {
  const plain = (cell) => String(cell).replaceAll("`", "");
  const rows = [table.headers, ...table.rows].map((r) => r.map(plain));
  const words = new Set(["Target", "Met", "detail"]);
  const widths = table.headers.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((cell, i) =>
        i === 0 || words.has(table.headers[i]) ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
      )
      .join("  ")
      .trimEnd();
  return [table.title, line(rows[0]), ...rows.slice(1).map(line)].join("\n");
}

/**
 * A Markdown table laid out the way Biome formats one (every column padded to its widest cell),
 * so that `biome check .` finds docs/benchmarks.md as written. `table.align`: "left" or "right"
 * per column; by default the first column and the words (target, met, detail) go left.
 */
export function renderMarkdown(table) {
  const cellText = (cell) => String(cell).replaceAll("|", "\\|");
  const words = new Set(["Target", "Met", "detail"]);
  const align = table.align ?? table.headers.map((h, i) => (i === 0 || words.has(h) ? "left" : "right"));
  const rows = [table.headers, ...table.rows].map((r) => r.map(cellText));
  const widths = table.headers.map((_, i) => Math.max(3, ...rows.map((r) => r[i].length)));
  const line = (r) =>
    `| ${r.map((cell, i) => (align[i] === "right" ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(" | ")} |`;
  const rule = widths.map((w, i) => (align[i] === "right" ? `${"-".repeat(w - 1)}:` : "-".repeat(w)));
  return [line(rows[0]), `| ${rule.join(" | ")} |`, ...rows.slice(1).map(line)].join("\n");
}

/** "a warm-up run, then 5 runs of each", or for --quick "1 run of each, no warm-up". */
export function runsText(ctx, runs, warmup = true) {
  const n = `${runs} run${runs === 1 ? "" : "s"} of each`;
  return ctx.quick || !warmup ? `${n}, no warm-up` : `a warm-up run, then ${n}`;
}
