// The one object commands write through: streams, terminal facts, colour and output mode.
import type { OutStream, Streams } from "./streams.js";
import { jsonSafe, ownCsi, toTerminal, visibleControl } from "./untrusted.js";

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
  /**
   * Loads what colours are made with (chalk) when stdout or stderr is to be coloured; until it
   * has, colours are plain. Called once before a run writes (run.ts), after `--no-color`.
   */
  prepareColor(): Promise<void>;
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
 * One of chalk's styles with its escapes written as kvmig's own (ownCsi), which the streams below
 * let through while they show any other escape as text. In the text, an escape from elsewhere is
 * shown as ^[ (as the streams would show it) and kvmig's own are made plain for chalk to see (a
 * close code inside the text re-opens the style after it, as each line break does), so that
 * every escape in chalk's result is kvmig's.
 */
function own(style: (text: string) => string): (text: string) => string {
  return (text) => {
    if (!text) return text;
    const tag = ownCsi("");
    const plain = text.includes("\u001B")
      ? text
          // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape byte is what is matched.
          .replace(/\u001B/g, (esc, at: number) => (text.startsWith(tag, at) ? esc : visibleControl(esc)))
          .replaceAll(tag, "\u001B[")
      : text;
    return style(plain).replaceAll("\u001B[", tag);
  };
}

/**
 * chalk, at level 1 (16 colours) whatever it detects of the terminal: whether to colour is
 * kvmig's decision (createIO). Loaded with import() by prepareColor, only when a run may colour:
 * its import costs start-up time (its own detection loads node:tty and asks both streams).
 */
let colorStyles: Styles | undefined;
let loadingColor: Promise<void> | undefined;

function loadColorStyles(): Promise<void> {
  loadingColor ??= import("chalk").then(({ Chalk }) => {
    const chalk = new Chalk({ level: 1 });
    colorStyles = {
      level: 1,
      bold: own(chalk.bold),
      dim: own(chalk.dim),
      green: own(chalk.green),
      yellow: own(chalk.yellow),
      red: own(chalk.red),
      cyan: own(chalk.cyan),
    };
  });
  return loadingColor;
}

const same = (text: string) => text;
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

  // Plain until chalk has loaded (prepareColor): a run that may colour waits for it before it writes.
  const colors = colorScheme(() =>
    colorAllowed && stdoutIsTTY ? (colorStyles ?? plainStyles) : plainStyles,
  );
  const errColors = colorScheme(() =>
    colorAllowed && stderrIsTTY() ? (colorStyles ?? plainStyles) : plainStyles,
  );
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
    async prepareColor() {
      // stdout first: when it is a terminal, stderr need not be asked.
      if (colorAllowed && (stdoutIsTTY || stderrIsTTY())) await loadColorStyles();
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

function colorScheme(styles: () => Styles): ColorScheme {
  const scheme: ColorScheme = {
    get enabled() {
      return styles().level > 0;
    },
    bold: (t) => styles().bold(t),
    dim: (t) => styles().dim(t),
    ok: (t) => styles().green(t),
    warn: (t) => styles().yellow(t),
    error: (t) => styles().red(t),
    accent: (t) => styles().cyan(t),
    phase: (t) => (t === "Succeeded" ? scheme.ok(t) : t === "Failed" ? scheme.error(t) : scheme.accent(t)),
  };
  return scheme;
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}
