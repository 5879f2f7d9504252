// The one object commands write through: streams, terminal facts, colour and output mode.
import type { OutStream, Streams } from "./streams.js";
import { jsonSafe, ownCsi, toTerminal } from "./untrusted.js";

export type OutputMode = "text" | "json" | "yaml";

export interface ColorScheme {
  /** Whether the functions below add escapes right now. */
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  ok(text: string): string;
  warn(text: string): string;
  error(text: string): string;
  accent(text: string): string;
  /** Colours a migration phase name by outcome: Succeeded green, Failed red, others accent. */
  phase(text: string): string;
}

export interface IO {
  /** The process's own streams, raw: only for writers that draw their own escapes (ora, inquirer). */
  readonly streams: Streams;
  /**
   * stdout as commands write it: in text mode every write is made safe for a terminal (untrusted.ts:
   * a control character from the cluster is shown, kvmig's own colours and redraws pass); in JSON
   * mode the characters JSON.stringify leaves raw are \u-escaped (the same data); YAML as written.
   */
  readonly stdout: OutStream;
  /** stderr, every write made safe for a terminal whatever the mode. */
  readonly stderr: OutStream;
  /** A terminal that takes escape sequences: false for a pipe, a file, and under TERM=dumb. */
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly stdinIsTTY: boolean;
  /** A person can answer prompts: stdin and stderr (where prompts draw) are terminals. */
  readonly interactive: boolean;
  readonly columns: number;
  /** Colours for text written to stdout; read at call time, so setColor applies to it. */
  readonly colors: ColorScheme;
  /** Colours for text written to stderr. */
  readonly errColors: ColorScheme;
  readonly mode: OutputMode;
  out(text: string): void;
  err(text: string): void;
  /** `--no-color`: false turns colour off; true never turns it on for a pipe or under NO_COLOR. */
  setColor(enabled: boolean): void;
  setOutputMode(mode: OutputMode): void;
}

/** The styles a ColorScheme applies: on (16 colours, which every colour terminal has) or off. */
interface Styles {
  readonly level: 0 | 1;
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
}

/**
 * One SGR style, applied the way chalk applies it at level 1 (byte for byte, once written): a close
 * code inside the text re-opens the style after it, and each line break closes and re-opens it.
 * Not chalk itself: its import detects the terminal's colours for a default instance we never use,
 * which loads node:tty and node:net on every start. The codes are kvmig's own (ownCsi), which the
 * streams below let through while they show any other escape as text; made on first use.
 */
function sgr(open: number, close: number): (text: string) => string {
  let codes: { on: string; off: string } | undefined;
  return (text) => {
    if (!text) return text;
    codes ??= { on: ownCsi(`${open}m`), off: ownCsi(`${close}m`) };
    const { on, off } = codes;
    let styled = text.includes(off) ? text.replaceAll(off, off + on) : text;
    if (styled.includes("\n")) styled = styled.replace(/\r?\n/g, (lineBreak) => off + lineBreak + on);
    return on + styled + off;
  };
}

const same = (text: string) => text;
const colorStyles: Styles = {
  level: 1,
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  red: sgr(31, 39),
  cyan: sgr(36, 39),
};
const plainStyles: Styles = {
  level: 0,
  bold: same,
  dim: same,
  green: same,
  yellow: same,
  red: same,
  cyan: same,
};

/** A value computed on first use. */
function once<T>(compute: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: compute() };
    return value.v;
  };
}

/**
 * The IO over `streams`. stdin and stderr are only looked at when first needed: asking whether
 * stdin is a terminal loads node:tty (and node:net), and process.stderr is created on first
 * access (a pipe loads node:net), costs that `kvmig --help` need not pay.
 */
export function createIO(streams: Streams, env: Record<string, string | undefined>): IO {
  // TERM=dumb (Emacs' shell, some CI logs) draws no escape sequence: no colour, no cursor moves,
  // no spinner, no prompt. Such a terminal is treated like a pipe.
  const dumb = env.TERM === "dumb";
  const stdoutIsTTY = !dumb && streams.stdout.isTTY === true;
  const stderrIsTTY = once(() => !dumb && streams.stderr.isTTY === true);
  const stdinIsTTY = once(() => streams.stdin.isTTY === true);
  // Read on every use: a terminal can be resized while a command runs, and whatever is cut to
  // the width (a spinner line, a redrawn table) must fit the terminal as it is now.
  const columns = () => positive(streams.stdout.columns) ?? positive(streams.stderr.columns) ?? 80;
  // https://no-color.org: present and non-empty disables colour.
  const noColorEnv = (env.NO_COLOR ?? "") !== "";
  let colorAllowed = !noColorEnv;
  let mode: OutputMode = "text";

  const colors = colorScheme(() => (colorAllowed && stdoutIsTTY ? colorStyles : plainStyles));
  const errColors = colorScheme(() => (colorAllowed && stderrIsTTY() ? colorStyles : plainStyles));
  const stdout = safeStream(
    () => streams.stdout,
    (text) => (mode === "text" ? toTerminal(text) : mode === "json" ? jsonSafe(text) : text),
  );
  const stderr = safeStream(() => streams.stderr, toTerminal);

  return {
    streams,
    stdout,
    stderr,
    stdoutIsTTY,
    get stderrIsTTY() {
      return stderrIsTTY();
    },
    get stdinIsTTY() {
      return stdinIsTTY();
    },
    get interactive() {
      // stderr first: when it is no terminal, stdin need not be asked.
      return stderrIsTTY() && stdinIsTTY();
    },
    get columns() {
      return columns();
    },
    colors,
    errColors,
    get mode() {
      return mode;
    },
    out(text) {
      stdout.write(`${text}\n`);
    },
    err(text) {
      stderr.write(`${text}\n`);
    },
    setColor(enabled) {
      colorAllowed = enabled && !noColorEnv;
    },
    setOutputMode(next) {
      mode = next;
    },
  };
}

/** `stream()` with each write passed through `safe` (the stream is looked up at each use). */
function safeStream(stream: () => OutStream, safe: (text: string) => string): OutStream {
  return {
    write: (chunk) => stream().write(safe(chunk)),
    get isTTY() {
      return stream().isTTY;
    },
    get columns() {
      return stream().columns;
    },
  };
}

function colorScheme(chalk: () => Styles): ColorScheme {
  const scheme: ColorScheme = {
    get enabled() {
      return chalk().level > 0;
    },
    bold: (t) => chalk().bold(t),
    dim: (t) => chalk().dim(t),
    ok: (t) => chalk().green(t),
    warn: (t) => chalk().yellow(t),
    error: (t) => chalk().red(t),
    accent: (t) => chalk().cyan(t),
    phase: (t) => (t === "Succeeded" ? scheme.ok(t) : t === "Failed" ? scheme.error(t) : scheme.accent(t)),
  };
  return scheme;
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}
