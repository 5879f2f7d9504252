// Draws a terminal screen (the runs from terminal.mjs) as an SVG: a dark window with three dots
// and the command as its title, a prompt line with the command, then the output. Every run is a
// <tspan> placed at its column, so columns line up whatever glyphs the font falls back to. The
// same screen always gives the same bytes.
import { charWidth } from "./terminal.mjs";

/** A dark theme (close to GitHub's dark terminal colours). */
export const theme = {
  background: "#0d1117",
  border: "#30363d",
  titleBar: "#161b22",
  title: "#8b949e",
  foreground: "#e6edf3",
  prompt: "#3fb950",
  dots: ["#ff5f57", "#febc2e", "#28c840"],
  /** SGR 30-37 and 90-97: black, red, green, yellow, blue, magenta, cyan, white; then bright. */
  ansi: [
    "#484f58",
    "#ff7b72",
    "#3fb950",
    "#d29922",
    "#58a6ff",
    "#bc8cff",
    "#39c5cf",
    "#b1bac4",
    "#6e7681",
    "#ffa198",
    "#56d364",
    "#e3b341",
    "#79c0ff",
    "#d2a8ff",
    "#56d4dd",
    "#f0f6fc",
  ],
};

export const layout = {
  cols: 80,
  fontSize: 14,
  lineHeight: 18,
  /** The advance of one column: 0.6 em, what common monospace fonts have. */
  charWidth: 8.4,
  padX: 16,
  padTop: 12,
  padBottom: 14,
  titleBarHeight: 34,
};

const fontFamily = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";

/** An xterm palette index ("0".."255") or "#rrggbb" as a hex colour; null stays null. */
export function colorOf(color) {
  if (color === null || color === undefined) return null;
  if (color.startsWith("#")) return color;
  const index = Number(color);
  if (index < 16) return theme.ansi[index];
  if (index < 232) {
    const levels = [0, 95, 135, 175, 215, 255];
    const n = index - 16;
    return hex(levels[Math.floor(n / 36)], levels[Math.floor(n / 6) % 6], levels[n % 6]);
  }
  const grey = 8 + (index - 232) * 10;
  return hex(grey, grey, grey);
}

function hex(r, g, b) {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

/** Escapes text for XML content and attribute values. */
export function escapeXml(text) {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** A number with at most two decimals and no trailing zeros: the same everywhere. */
function num(n) {
  return String(Math.round(n * 100) / 100);
}

/** The fill and background of a style, with inverse applied. */
function colors(style) {
  let fg = colorOf(style.fg);
  let bg = colorOf(style.bg);
  if (style.inverse) [fg, bg] = [bg ?? theme.background, fg ?? theme.foreground];
  return { fg, bg };
}

function textAttributes(style, fg) {
  const attrs = [];
  if (fg !== null && fg !== theme.foreground) attrs.push(`fill="${fg}"`);
  if (style.bold) attrs.push('font-weight="bold"');
  if (style.italic) attrs.push('font-style="italic"');
  if (style.dim) attrs.push('fill-opacity="0.6"');
  const decorations = [style.underline && "underline", style.strike && "line-through"].filter(Boolean);
  if (decorations.length > 0) attrs.push(`text-decoration="${decorations.join(" ")}"`);
  return attrs;
}

/** The columns a run takes (wide characters take two, combining marks none). */
function displayWidth(text) {
  let width = 0;
  for (const ch of text) width += charWidth(ch.codePointAt(0) ?? 0);
  return width;
}

/**
 * @param {{ command: string, lines: import("./terminal.mjs").Run[][], cols?: number }} screen
 *   command: what the user typed, without the "$ "; lines: the screen from Terminal.lines().
 * @returns {string} the SVG document
 */
export function renderSvg({ command, lines, cols = layout.cols }) {
  const { fontSize, lineHeight, charWidth, padX, padTop, padBottom, titleBarHeight } = layout;
  const width = padX * 2 + cols * charWidth;
  const height = titleBarHeight + padTop + (lines.length + 1) * lineHeight + padBottom;
  const baseline = (row) => titleBarHeight + padTop + row * lineHeight + Math.round(fontSize * 0.95);
  const x = (col) => padX + col * charWidth;

  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" role="img" font-family="${fontFamily}" font-size="${fontSize}">`,
    `<title>${escapeXml(`$ ${command}`)}</title>`,
    `<rect x="0.5" y="0.5" width="${num(width - 1)}" height="${num(height - 1)}" rx="8" fill="${theme.background}" stroke="${theme.border}"/>`,
    `<path d="M0.5 ${titleBarHeight}V8.5a8 8 0 0 1 8-8H${num(width - 8.5)}a8 8 0 0 1 8 8V${titleBarHeight}Z" fill="${theme.titleBar}"/>`,
    `<line x1="0.5" y1="${titleBarHeight}" x2="${num(width - 0.5)}" y2="${titleBarHeight}" stroke="${theme.border}"/>`,
  );
  theme.dots.forEach((color, i) => {
    out.push(`<circle cx="${20 + i * 20}" cy="${titleBarHeight / 2}" r="6" fill="${color}"/>`);
  });
  out.push(
    `<text x="${num(width / 2)}" y="${titleBarHeight / 2 + 4.5}" text-anchor="middle" font-size="13" fill="${theme.title}">${escapeXml(command)}</text>`,
  );

  // The prompt line, then the output.
  out.push(
    `<text y="${baseline(0)}" fill="${theme.foreground}" xml:space="preserve"><tspan x="${num(x(0))}" fill="${theme.prompt}" font-weight="bold">$</tspan><tspan x="${num(x(2))}">${escapeXml(command)}</tspan></text>`,
  );
  lines.forEach((runs, index) => {
    const y = baseline(index + 1);
    const spans = [];
    const backgrounds = [];
    let col = 0;
    for (const run of runs) {
      const runWidth = displayWidth(run.text);
      const start = col;
      col += runWidth;
      const { fg, bg } = colors(run.style);
      if (bg !== null)
        backgrounds.push(
          `<rect x="${num(x(start))}" y="${num(y - Math.round(fontSize * 0.95) - (lineHeight - fontSize) / 2 + 1)}" width="${num(runWidth * charWidth)}" height="${lineHeight}" fill="${bg}"/>`,
        );
      const attrs = textAttributes(run.style, fg);
      // Plain spaces need no element: the next run has its own x.
      if (run.text.trim() === "" && !run.style.underline && !run.style.strike) continue;
      spans.push(
        `<tspan x="${num(x(start))}"${attrs.map((a) => ` ${a}`).join("")}>${escapeXml(run.text)}</tspan>`,
      );
    }
    out.push(...backgrounds);
    if (spans.length > 0)
      out.push(`<text y="${y}" fill="${theme.foreground}" xml:space="preserve">${spans.join("")}</text>`);
  });
  out.push("</svg>", "");
  return out.join("\n");
}
