// Shell completion, step one: what is being completed. Given the commander tree and the words of
// the command line (after the program name; the last word is the one under the cursor, maybe
// empty), find the command the line is in, the flags it already sets, and whether the cursor is
// on a subcommand name, a flag, a flag's value or a positional argument. Pure: no I/O.

import type { Argument, CommandUnknownOpts, Option } from "@commander-js/extra-typings";

/** What the word under the cursor is. */
export type Target =
  /** A subcommand name (or, once the command has none, its first argument). */
  | { kind: "command" }
  /** A flag of the command or of one of its parents. */
  | { kind: "flag" }
  /** The value of this option. */
  | { kind: "value"; option: Option }
  /** The positional argument at `index` of the command; `argument` is undefined past the last one. */
  | { kind: "argument"; index: number; argument: Argument | undefined }
  /** Nothing can go there (`--bogus=`: a flag kvmig does not know). */
  | { kind: "none" };

export interface LineAnalysis {
  /** The deepest command the line names (the root when it names none). */
  command: CommandUnknownOpts;
  /** The root, then each command named down to `command`. */
  path: CommandUnknownOpts[];
  target: Target;
  /** The part of the word under the cursor to match candidates against. */
  partial: string;
  /**
   * What stays in front of each candidate in the word: `--namespace=` for `--namespace=de`,
   * `-n` for `-nde`; empty when the word is all value.
   */
  flagPrefix: string;
  /** Values given in the line so far, by option attribute name (`namespace`, `kubeconfig`, ...). */
  values: Record<string, string>;
  /** The positional arguments given so far (after the command names). */
  positionals: string[];
}

/**
 * Options whose value may only be attached (`--sim=upgrade`): a bare `--sim` means the default
 * scenario and the next word is not its value (main.ts expands it before parsing).
 */
const attachedValueOnly = new Set(["--sim"]);

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

/** Whether the next word is this option's value when the flag is given alone. */
function takesNextWord(option: Option): boolean {
  return option.required && !attachedValueOnly.has(option.long ?? "");
}

/**
 * The options the last command of `path` (root first) accepts: its own, with help, and its
 * parents' without help and version. (The path, not Command#parent: commander's implicit help
 * command has no parent.)
 */
export function acceptedOptions(path: readonly CommandUnknownOpts[]): Option[] {
  const [own, ...parents] = [...path].reverse();
  const options = own ? [...own.createHelp().visibleOptions(own)] : [];
  for (const parent of parents) {
    for (const option of parent.options) {
      if (option.hidden || option.long === "--help" || option.long === "--version") continue;
      options.push(option);
    }
  }
  return options;
}

function findOption(path: readonly CommandUnknownOpts[], flag: string): Option | undefined {
  // Every option of the path, innermost first, hidden ones included: a hidden flag still takes its value.
  for (const c of [...path].reverse()) {
    const found = c.options.find((o) => o.long === flag || o.short === flag);
    if (found) return found;
  }
  return undefined;
}

/** The visible subcommands of a command. */
export function subcommands(command: CommandUnknownOpts): CommandUnknownOpts[] {
  return command.createHelp().visibleCommands(command);
}

function findSubcommand(command: CommandUnknownOpts, name: string): CommandUnknownOpts | undefined {
  // Hidden commands are in .commands; commander's implicit help command only in the visible ones.
  const named = (c: CommandUnknownOpts) => c.name() === name || c.aliases().includes(name);
  return command.commands.find(named) ?? subcommands(command).find(named);
}

function expandHome(value: string, home: string | undefined): string {
  return home && (value === "~" || value.startsWith("~/")) ? `${home}${value.slice(1)}` : value;
}

export interface AnalyzeOptions {
  /** For `~/...` in path values. */
  home?: string | undefined;
}

/** Reads the line: the command it names, the values it sets, and what the last word is. */
export function analyzeLine(
  root: CommandUnknownOpts,
  words: readonly string[],
  options: AnalyzeOptions = {},
): LineAnalysis {
  const current = words.length > 0 ? (words[words.length - 1] ?? "") : "";
  const done = words.slice(0, -1);
  let command = root;
  const path = [root];
  const values: Record<string, string> = {};
  const positionals: string[] = [];
  let operandsOnly = false;
  /** The option whose value the next word is. */
  let pending: Option | undefined;

  const record = (option: Option, value: string | undefined) => {
    const key = option.attributeName();
    values[key] = value === undefined ? "" : expandHome(value, options.home);
  };

  /** After a bare -v: a number is its level (`-v 6`, argv.ts), not an operand. */
  let verbosityLevel = false;
  for (const word of done) {
    const level = verbosityLevel && /^\d+$/.test(word);
    verbosityLevel = !operandsOnly && !pending && /^(?:-v|--v|--verbose)$/.test(word);
    if (level) continue;
    if (pending) {
      record(pending, word);
      pending = undefined;
      continue;
    }
    if (!operandsOnly && word === "--") {
      operandsOnly = true;
      continue;
    }
    if (!operandsOnly && word.startsWith("--") && word.length > 2) {
      const eq = word.indexOf("=");
      const flag = eq < 0 ? word : word.slice(0, eq);
      const option = findOption(path, flag);
      if (!option) continue;
      if (eq >= 0) record(option, word.slice(eq + 1));
      else if (takesNextWord(option)) pending = option;
      else record(option, undefined);
      continue;
    }
    if (!operandsOnly && word.startsWith("-") && word.length > 1) {
      // Short flags, maybe combined (-Ay) or with the value attached (-ndemo).
      for (let i = 1; i < word.length; i++) {
        const option = findOption(path, `-${word[i]}`);
        if (!option) break;
        if (takesValue(option)) {
          const rest = word.slice(i + 1);
          if (rest !== "") record(option, rest);
          else if (takesNextWord(option)) pending = option;
          break;
        }
        record(option, undefined);
      }
      continue;
    }
    // An operand: a subcommand name while no argument is given yet (commander dispatches on the
    // first operand, even after --), else a positional argument.
    const sub = positionals.length === 0 ? findSubcommand(command, word) : undefined;
    if (sub) {
      command = sub;
      path.push(sub);
      operandsOnly = false;
      continue;
    }
    positionals.push(word);
  }

  const result = (target: Target, partial: string, flagPrefix = ""): LineAnalysis => ({
    command,
    path,
    target,
    partial,
    flagPrefix,
    values,
    positionals,
  });

  if (pending) return result({ kind: "value", option: pending }, current);
  if (!operandsOnly && current.startsWith("--")) {
    const eq = current.indexOf("=");
    if (eq > 2) {
      const flag = current.slice(0, eq);
      const option = findOption(path, flag);
      // A boolean flag takes true or false after an `=`, as pflag reads it (cli-tree/argv.ts).
      if (option) return result({ kind: "value", option }, current.slice(eq + 1), `${flag}=`);
      // An unknown flag: nothing fits.
      return result({ kind: "none" }, current.slice(eq + 1), `${flag}=`);
    }
    return result({ kind: "flag" }, current);
  }
  if (!operandsOnly && current.startsWith("-") && current.length > 1) {
    if (current.length > 2) {
      const option = findOption(path, current.slice(0, 2));
      if (option && takesValue(option) && takesNextWord(option)) {
        return result({ kind: "value", option }, current.slice(2), current.slice(0, 2));
      }
    }
    return result({ kind: "flag" }, current);
  }
  if (!operandsOnly && current === "-") return result({ kind: "flag" }, current);
  if (positionals.length === 0 && subcommands(command).length > 0)
    return result({ kind: "command" }, current);
  const index = positionals.length;
  return result({ kind: "argument", index, argument: argumentAt(command, index) }, current);
}

function argumentAt(command: CommandUnknownOpts, index: number): Argument | undefined {
  const args = command.registeredArguments;
  const last = args[args.length - 1];
  if (index < args.length) return args[index];
  return last?.variadic ? last : undefined;
}
