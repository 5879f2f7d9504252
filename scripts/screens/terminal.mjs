// A small terminal emulator for the README screens (scripts/screens.mjs): enough of xterm to
// replay what kvmig writes to a terminal (text, colours, spinners that redraw a line in place,
// cursor movement and erasing) into a screen buffer with unlimited scrollback. What it does not
// know (private modes, OSC, DCS, charsets, ...) it skips.

/**
 * @typedef {{ fg: string | null, bg: string | null, bold: boolean, dim: boolean, italic: boolean,
 *   underline: boolean, inverse: boolean, strike: boolean }} Style
 * Colours are null (the default), "0".."255" (an xterm palette index) or "#rrggbb".
 * @typedef {{ ch: string, style: Style }} Cell   ch "" marks the right half of a wide character
 * @typedef {{ text: string, style: Style }} Run
 */

/** @returns {Style} */
export function defaultStyle() {
  return {
    fg: null,
    bg: null,
    bold: false,
    dim: false,
    italic: false,
    underline: false,
    inverse: false,
    strike: false,
  };
}

/** Whether two styles draw the same. */
export function sameStyle(a, b) {
  return (
    a.fg === b.fg &&
    a.bg === b.bg &&
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.italic === b.italic &&
    a.underline === b.underline &&
    a.inverse === b.inverse &&
    a.strike === b.strike
  );
}

/** Whether a cell with this style shows something even when it holds a space. */
function visibleWhenBlank(style) {
  return style.bg !== null || style.inverse || style.underline || style.strike;
}

// Code points that take two columns (East Asian Wide and Fullwidth, and emoji shown as emoji by
// default), and ones that take none (combining marks, zero-width characters, variation selectors).
const wideRanges = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x267f, 0x267f],
  [0x2693, 0x2693],
  [0x26a1, 0x26a1],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26ce, 0x26ce],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f2, 0x26f3],
  [0x26f5, 0x26f5],
  [0x26fa, 0x26fa],
  [0x26fd, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x274e, 0x274e],
  [0x2753, 0x2755],
  [0x2757, 0x2757],
  [0x2795, 0x2797],
  [0x27b0, 0x27b0],
  [0x27bf, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b50],
  [0x2b55, 0x2b55],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f251],
  [0x1f300, 0x1f320],
  [0x1f32d, 0x1f335],
  [0x1f337, 0x1f37c],
  [0x1f37e, 0x1f393],
  [0x1f3a0, 0x1f3ca],
  [0x1f3cf, 0x1f3d3],
  [0x1f3e0, 0x1f3f0],
  [0x1f3f4, 0x1f3f4],
  [0x1f3f8, 0x1f43e],
  [0x1f440, 0x1f440],
  [0x1f442, 0x1f4fc],
  [0x1f4ff, 0x1f53d],
  [0x1f54b, 0x1f54e],
  [0x1f550, 0x1f567],
  [0x1f57a, 0x1f57a],
  [0x1f595, 0x1f596],
  [0x1f5a4, 0x1f5a4],
  [0x1f5fb, 0x1f64f],
  [0x1f680, 0x1f6c5],
  [0x1f6cc, 0x1f6cc],
  [0x1f6d0, 0x1f6d2],
  [0x1f6d5, 0x1f6d7],
  [0x1f6eb, 0x1f6ec],
  [0x1f6f4, 0x1f6fc],
  [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f93a],
  [0x1f93c, 0x1f945],
  [0x1f947, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x3fffd],
];

function inRanges(ranges, cp) {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = ranges[mid];
    if (cp < start) hi = mid - 1;
    else if (cp > end) lo = mid + 1;
    else return true;
  }
  return false;
}

/** The columns a code point takes: 0, 1 or 2. */
export function charWidth(cp) {
  if (
    (cp >= 0x0300 && cp <= 0x036f) ||
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef) ||
    cp === 0x2060 ||
    cp === 0xfeff
  )
    return 0;
  return inRanges(wideRanges, cp) ? 2 : 1;
}

const ESC = "\x1b";

export class Terminal {
  /**
   * @param {{ cols?: number, rows?: number }} [options] rows: the height of the visible part, which
   *   cursor addressing (CUP, ED) works in; lines that scroll off it stay in the buffer.
   */
  constructor(options = {}) {
    this.cols = options.cols ?? 80;
    this.rows = options.rows ?? 30;
    /** @type {Cell[][]} */
    this.buffer = [[]];
    /** The buffer index of the first visible row. */
    this.top = 0;
    this.row = 0;
    /** 0..cols; cols means "at the right margin, the next character wraps" (xterm's deferred wrap). */
    this.col = 0;
    this.style = defaultStyle();
    this.saved = { row: 0, col: 0, style: defaultStyle() };
    /** How many times text reached the right margin and wrapped onto the next line. */
    this.wraps = 0;
    /** The start of an escape sequence split across write() calls. */
    this.pending = "";
    this.decoder = new TextDecoder("utf-8");
  }

  /** Feeds output to the terminal: a string, or bytes (decoded as UTF-8). */
  write(data) {
    const text =
      this.pending + (typeof data === "string" ? data : this.decoder.decode(data, { stream: true }));
    this.pending = "";
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === ESC) {
        const end = this.escape(text, i);
        if (end < 0) {
          this.pending = text.slice(i);
          return this;
        }
        i = end;
        continue;
      }
      const cp = text.codePointAt(i) ?? 0;
      i += cp > 0xffff ? 2 : 1;
      if (cp < 0x20 || cp === 0x7f) this.control(cp);
      else if (cp >= 0x80 && cp < 0xa0) {
        // C1 controls: not used by anything we replay.
      } else this.print(String.fromCodePoint(cp), charWidth(cp));
    }
    return this;
  }

  control(cp) {
    switch (cp) {
      case 0x0a: // LF, VT and FF: down a line. As with the tty's onlcr, also back to column 0.
      case 0x0b:
      case 0x0c:
        this.col = 0;
        this.lineFeed();
        break;
      case 0x0d:
        this.col = 0;
        break;
      case 0x08:
        this.col = Math.max(0, Math.min(this.col, this.cols - 1) - 1);
        break;
      case 0x09:
        this.col = Math.min(this.cols - 1, (Math.floor(Math.min(this.col, this.cols - 1) / 8) + 1) * 8);
        break;
      default: // BEL, SO, SI, ...: nothing to draw.
        break;
    }
  }

  lineFeed() {
    this.row++;
    while (this.buffer.length <= this.row) this.buffer.push([]);
    if (this.row >= this.top + this.rows) this.top = this.row - this.rows + 1;
  }

  line(row) {
    while (this.buffer.length <= row) this.buffer.push([]);
    return this.buffer[row];
  }

  setCell(row, col, ch) {
    const line = this.line(row);
    while (line.length < col) line.push({ ch: " ", style: defaultStyle() });
    // Overwriting half of a wide character blanks the other half.
    const old = line[col];
    if (old?.ch === "" && col > 0) line[col - 1] = { ch: " ", style: line[col - 1].style };
    if (old && old.ch !== "" && line[col + 1]?.ch === "") line[col + 1] = { ch: " ", style: old.style };
    line[col] = { ch, style: { ...this.style } };
  }

  print(ch, width) {
    if (width === 0) {
      // A combining character joins the cell before the cursor.
      const line = this.line(this.row);
      let col = Math.min(this.col, this.cols) - 1;
      while (col > 0 && line[col]?.ch === "") col--;
      if (col >= 0 && line[col]) line[col] = { ...line[col], ch: line[col].ch + ch };
      return;
    }
    if (this.col + width > this.cols) {
      if (this.col < this.cols && width === 2) this.setCell(this.row, this.col, " ");
      this.wraps++;
      this.col = 0;
      this.lineFeed();
    }
    this.setCell(this.row, this.col, ch);
    if (width === 2) this.setCell(this.row, this.col + 1, "");
    this.col += width;
  }

  /**
   * Handles the escape sequence at text[i] (an ESC) and returns the index after it, or -1 when
   * the text ends inside it.
   */
  escape(text, i) {
    const next = text[i + 1];
    if (next === undefined) return -1;
    if (next === "[") {
      let j = i + 2;
      while (j < text.length) {
        const code = text.charCodeAt(j);
        if (code >= 0x40 && code <= 0x7e) break;
        j++;
      }
      if (j >= text.length) return -1;
      this.csi(text.slice(i + 2, j), text[j]);
      return j + 1;
    }
    if (next === "]" || next === "P" || next === "X" || next === "^" || next === "_") {
      // OSC (titles, hyperlinks, ...), DCS, SOS, PM, APC: skipped up to BEL (OSC) or ST (ESC \).
      for (let j = i + 2; j < text.length; j++) {
        if (next === "]" && text[j] === "\x07") return j + 1;
        if (text[j] === ESC) {
          if (j + 1 >= text.length) return -1;
          if (text[j + 1] === "\\") return j + 2;
        }
      }
      return -1;
    }
    if (next === "7") {
      this.saveCursor();
      return i + 2;
    }
    if (next === "8") {
      this.restoreCursor();
      return i + 2;
    }
    if (next === "c") {
      this.style = defaultStyle();
      return i + 2;
    }
    // ESC with intermediate bytes (charsets like ESC ( B): skip them and the final byte.
    let j = i + 1;
    while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
    if (j >= text.length) return -1;
    return j + 1;
  }

  saveCursor() {
    this.saved = { row: this.row - this.top, col: this.col, style: { ...this.style } };
  }

  restoreCursor() {
    this.row = this.top + Math.min(this.saved.row, this.rows - 1);
    this.line(this.row);
    this.col = this.saved.col;
    this.style = { ...this.saved.style };
  }

  /** A CSI sequence: its parameter bytes (and intermediates) and final byte. */
  csi(body, final) {
    const privateMode = /^[?<=>]/.test(body);
    if (privateMode || /[\x20-\x2f]/.test(body)) return; // ?25l/h, ?2026h/l, ...: nothing to draw.
    const params = body === "" ? [] : body.split(";");
    const n = (index, fallback) => {
      const value = Number.parseInt((params[index] ?? "").split(":")[0], 10);
      return Number.isNaN(value) || value === 0 ? fallback : value;
    };
    const visibleRow = this.row - this.top;
    const col = Math.min(this.col, this.cols - 1);
    switch (final) {
      case "A":
        this.row = this.top + Math.max(0, visibleRow - n(0, 1));
        this.col = col;
        break;
      case "B":
        this.row = this.top + Math.min(this.rows - 1, visibleRow + n(0, 1));
        this.line(this.row);
        this.col = col;
        break;
      case "C":
        this.col = Math.min(this.cols - 1, col + n(0, 1));
        break;
      case "D":
        this.col = Math.max(0, col - n(0, 1));
        break;
      case "E":
        this.row = this.top + Math.min(this.rows - 1, visibleRow + n(0, 1));
        this.line(this.row);
        this.col = 0;
        break;
      case "F":
        this.row = this.top + Math.max(0, visibleRow - n(0, 1));
        this.col = 0;
        break;
      case "G":
      case "`":
        this.col = Math.min(this.cols - 1, n(0, 1) - 1);
        break;
      case "d":
        this.row = this.top + Math.min(this.rows - 1, n(0, 1) - 1);
        this.line(this.row);
        this.col = col;
        break;
      case "H":
      case "f":
        this.row = this.top + Math.min(this.rows - 1, n(0, 1) - 1);
        this.line(this.row);
        this.col = Math.min(this.cols - 1, n(1, 1) - 1);
        break;
      case "K":
        this.eraseInLine(Number.parseInt(params[0] ?? "0", 10) || 0);
        break;
      case "J":
        this.eraseInDisplay(Number.parseInt(params[0] ?? "0", 10) || 0);
        break;
      case "X": {
        const line = this.line(this.row);
        for (let c = col; c < Math.min(line.length, col + n(0, 1)); c++) line[c] = this.blank();
        break;
      }
      case "P": {
        const line = this.line(this.row);
        line.splice(col, n(0, 1));
        break;
      }
      case "@": {
        const line = this.line(this.row);
        if (col < line.length) {
          line.splice(col, 0, ...Array.from({ length: n(0, 1) }, () => this.blank()));
          line.length = Math.min(line.length, this.cols);
        }
        break;
      }
      case "m":
        this.sgr(params);
        break;
      case "s":
        this.saveCursor();
        break;
      case "u":
        this.restoreCursor();
        break;
      default: // Scrolling regions, device reports, ...: not used by kvmig.
        break;
    }
  }

  /** An erased cell: a space in the current background. */
  blank() {
    return { ch: " ", style: { ...defaultStyle(), bg: this.style.bg } };
  }

  eraseInLine(mode) {
    const line = this.line(this.row);
    const col = Math.min(this.col, this.cols - 1);
    const keepsBg = this.style.bg !== null;
    if (mode === 0) {
      if (keepsBg) for (let c = col; c < this.cols; c++) line[c] = this.blank();
      else line.length = Math.min(line.length, col);
    } else if (mode === 1) {
      for (let c = 0; c <= col; c++) line[c] = this.blank();
    } else if (mode === 2) {
      line.length = 0;
      if (keepsBg) for (let c = 0; c < this.cols; c++) line[c] = this.blank();
    }
  }

  eraseInDisplay(mode) {
    if (mode === 0) {
      this.eraseInLine(0);
      for (let r = this.row + 1; r < this.buffer.length; r++) this.buffer[r] = [];
    } else if (mode === 1) {
      this.eraseInLine(1);
      for (let r = this.top; r < this.row; r++) this.buffer[r] = [];
    } else if (mode === 2 || mode === 3) {
      for (let r = this.top; r < this.buffer.length; r++) this.buffer[r] = [];
    }
  }

  sgr(params) {
    if (params.length === 0) params = ["0"];
    // Colon sub-parameters (38:2::r:g:b, 4:3) arrive as one element; semicolon forms as several.
    for (let i = 0; i < params.length; i++) {
      const parts = params[i].split(":");
      const code = Number.parseInt(parts[0], 10) || 0;
      if (code === 38 || code === 48 || code === 58) {
        let color = null;
        if (parts.length > 1) {
          const sub = parts.slice(1).map((p) => Number.parseInt(p, 10));
          if (sub[0] === 5) color = paletteColor(sub[1]);
          else if (sub[0] === 2) color = rgbColor(...(sub.length >= 5 ? sub.slice(2, 5) : sub.slice(1, 4)));
        } else {
          const kind = Number.parseInt(params[i + 1] ?? "", 10);
          if (kind === 5) {
            color = paletteColor(Number.parseInt(params[i + 2] ?? "", 10));
            i += 2;
          } else if (kind === 2) {
            color = rgbColor(...params.slice(i + 2, i + 5).map((p) => Number.parseInt(p, 10)));
            i += 4;
          }
        }
        if (code === 38) this.style.fg = color;
        else if (code === 48) this.style.bg = color;
        continue;
      }
      if (code === 0) this.style = defaultStyle();
      else if (code === 1) this.style.bold = true;
      else if (code === 2) this.style.dim = true;
      else if (code === 3) this.style.italic = true;
      else if (code === 4) this.style.underline = parts[1] !== "0";
      else if (code === 7) this.style.inverse = true;
      else if (code === 9) this.style.strike = true;
      else if (code === 21) this.style.underline = true;
      else if (code === 22) {
        this.style.bold = false;
        this.style.dim = false;
      } else if (code === 23) this.style.italic = false;
      else if (code === 24) this.style.underline = false;
      else if (code === 27) this.style.inverse = false;
      else if (code === 29) this.style.strike = false;
      else if (code >= 30 && code <= 37) this.style.fg = String(code - 30);
      else if (code === 39) this.style.fg = null;
      else if (code >= 40 && code <= 47) this.style.bg = String(code - 40);
      else if (code === 49) this.style.bg = null;
      else if (code >= 90 && code <= 97) this.style.fg = String(code - 90 + 8);
      else if (code >= 100 && code <= 107) this.style.bg = String(code - 100 + 8);
      // Blink, fonts, overline, ...: not drawn.
    }
  }

  /**
   * The screen: every line of the buffer (scrollback included) as runs of one style, without
   * trailing blanks and without empty lines at the end.
   * @returns {Run[][]}
   */
  lines() {
    const out = this.buffer.map((line) => {
      let end = line.length;
      while (end > 0 && line[end - 1].ch === " " && !visibleWhenBlank(line[end - 1].style)) end--;
      /** @type {Run[]} */
      const runs = [];
      for (let c = 0; c < end; c++) {
        const cell = line[c] ?? { ch: " ", style: defaultStyle() };
        const last = runs.at(-1);
        if (last && sameStyle(last.style, cell.style)) last.text += cell.ch;
        else runs.push({ text: cell.ch, style: cell.style });
      }
      return runs;
    });
    while (out.length > 0 && out.at(-1).length === 0) out.pop();
    return out;
  }

  /** The screen as plain text, one string per line. */
  text() {
    return this.lines().map((runs) => runs.map((r) => r.text).join(""));
  }
}

function paletteColor(index) {
  return Number.isInteger(index) && index >= 0 && index <= 255 ? String(index) : null;
}

function rgbColor(r, g, b) {
  if (![r, g, b].every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) return null;
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

/** Replays output into a fresh terminal. */
export function emulate(data, options) {
  return new Terminal(options).write(data);
}
