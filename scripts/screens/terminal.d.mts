// Types for terminal.mjs (the TypeScript tests import it).

export interface Style {
  /** null: the default colour; "0".."255": an xterm palette index; "#rrggbb": a true colour. */
  fg: string | null;
  bg: string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  strike: boolean;
}

export interface Run {
  text: string;
  style: Style;
}

export function defaultStyle(): Style;
export function sameStyle(a: Style, b: Style): boolean;
export function charWidth(codePoint: number): 0 | 1 | 2;

export class Terminal {
  constructor(options?: { cols?: number; rows?: number });
  readonly cols: number;
  readonly rows: number;
  /** How many times text reached the right margin and wrapped onto the next line. */
  readonly wraps: number;
  write(data: string | Uint8Array): this;
  /** Every line (scrollback included) as style runs, without trailing blanks or empty last lines. */
  lines(): Run[][];
  /** The same as plain text. */
  text(): string[];
}

export function emulate(data: string | Uint8Array, options?: { cols?: number; rows?: number }): Terminal;
