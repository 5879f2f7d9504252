// The one object commands write through: streams, terminal facts, colour and output mode.
import { Chalk, type ChalkInstance } from "chalk";
import type { OutStream, Streams } from "./streams.js";

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
  readonly streams: Streams;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
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

// Level 1 (16 colours) covers every style we use and works on every colour terminal.
const colorChalk = new Chalk({ level: 1 });
const plainChalk = new Chalk({ level: 0 });

export function createIO(streams: Streams, env: Record<string, string | undefined>): IO {
  const stdoutIsTTY = streams.stdout.isTTY === true;
  const stderrIsTTY = streams.stderr.isTTY === true;
  const stdinIsTTY = streams.stdin.isTTY === true;
  // https://no-color.org: present and non-empty disables colour.
  const noColorEnv = (env.NO_COLOR ?? "") !== "";
  let colorAllowed = !noColorEnv;
  let mode: OutputMode = "text";

  const colors = colorScheme(() => (colorAllowed && stdoutIsTTY ? colorChalk : plainChalk));
  const errColors = colorScheme(() => (colorAllowed && stderrIsTTY ? colorChalk : plainChalk));

  return {
    streams,
    stdout: streams.stdout,
    stderr: streams.stderr,
    stdoutIsTTY,
    stderrIsTTY,
    stdinIsTTY,
    interactive: stdinIsTTY && stderrIsTTY,
    columns: positive(streams.stdout.columns) ?? positive(streams.stderr.columns) ?? 80,
    colors,
    errColors,
    get mode() {
      return mode;
    },
    out(text) {
      streams.stdout.write(`${text}\n`);
    },
    err(text) {
      streams.stderr.write(`${text}\n`);
    },
    setColor(enabled) {
      colorAllowed = enabled && !noColorEnv;
    },
    setOutputMode(next) {
      mode = next;
    },
  };
}

function colorScheme(chalk: () => ChalkInstance): ColorScheme {
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
