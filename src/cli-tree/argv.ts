// kubectl's and pflag's spellings of flags, rewritten into the forms commander parses, before it
// parses them: `-v=6`, `--v=6`, `-v 6` and a bare `-v` become `--verbose=N`; `--FLAG=true|false`
// on a boolean flag (pflag takes strconv.ParseBool's words) becomes the flag, its `--no-` form,
// or nothing; a bare `--dry-run` becomes `--dry-run=` its preset, so that the next word is never
// taken for its value. Words after `--`, and the values of flags that take one, are left as they
// are. The tree is walked the way commander dispatches: the first operand that names a
// subcommand enters it, and its flags join those of the commands above it.

import type { CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { UsageError } from "../errors.js";

/** The level a bare `-v` or `--verbose` means: the request lines (kubectl's -v=6). */
export const defaultVerbosity = 6;
/** The highest level that changes anything; a higher one (kubectl accepts -v=99) means this one. */
export const maxVerbosity = 10;

/** strconv.ParseBool's words, which pflag takes for a boolean flag's value. */
const trueWords = new Set(["1", "t", "T", "true", "TRUE", "True"]);
const falseWords = new Set(["0", "f", "F", "false", "FALSE", "False"]);

/** A boolean flag's value as pflag reads it, or a usage error that names the flag. */
export function parseBoolWord(value: string, flag: string): boolean {
  if (trueWords.has(value)) return true;
  if (falseWords.has(value)) return false;
  throw new UsageError(`invalid value "${value}" for ${flag}: a boolean flag takes true or false`, {
    hint: `write ${flag} alone, or ${flag}=true or ${flag}=false`,
  });
}

/** A -v level, or a usage error. */
export function parseVerbosity(value: string, flag = "-v"): number {
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`invalid value "${value}" for ${flag}: the log level is a number from 0 to 10`, {
      hint: `for example ${flag}=6 (each API request)`,
    });
  }
  return Math.min(Number(value), maxVerbosity);
}

const verboseFlag = /^(?:-v|--v|--verbose)(?:=(.*))?$/s;

/** Whether a word of argv asks for the request log (a bare -v, or a level of 6 or more). */
export function verboseWord(word: string): boolean {
  const match = verboseFlag.exec(word) ?? /^-v(\d+)$/.exec(word);
  if (!match) return false;
  const level = match[1];
  return level === undefined || (/^\d+$/.test(level) && Number(level) >= defaultVerbosity);
}

function isBoolean(option: Option): boolean {
  return !option.required && !option.optional;
}

function findOption(path: readonly CommandUnknownOpts[], flag: string): Option | undefined {
  for (const command of [...path].reverse()) {
    const found = command.options.find((o) => o.long === flag || o.short === flag);
    if (found) return found;
  }
  return undefined;
}

function findSubcommand(command: CommandUnknownOpts, name: string): CommandUnknownOpts | undefined {
  return command.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

/**
 * `--flag=WORD` on a boolean flag: the words commander reads instead. Off is nothing, or the
 * flag's `--no-` form when it has one (a flag that is on by default, --allow-missing-template-keys).
 */
function booleanWords(
  path: readonly CommandUnknownOpts[],
  option: Option,
  flag: string,
  value: string,
): string[] {
  const on = parseBoolWord(value, flag);
  const long = option.long ?? flag;
  if (on) return [long];
  const negation = long.startsWith("--") ? findOption(path, `--no-${long.slice(2)}`) : undefined;
  return negation?.long ? [negation.long] : [];
}

/** Rewrites argv (the words after the program name) into the forms commander parses. */
export function normalizeArgv(argv: readonly string[], root: CommandUnknownOpts): string[] {
  const out: string[] = [];
  const path: CommandUnknownOpts[] = [root];
  let command = root;
  let operands = 0;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? "";
    if (word === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const verbose = verboseFlag.exec(word) ?? /^-v(\d+)$/.exec(word);
    if (verbose) {
      const attached = verbose[1];
      const flag =
        word.startsWith("--v=") || word === "--v" ? "--v" : word.startsWith("--") ? "--verbose" : "-v";
      if (attached !== undefined) out.push(`--verbose=${parseVerbosity(attached, flag)}`);
      else if (/^\d+$/.test(argv[i + 1] ?? "")) {
        out.push(`--verbose=${parseVerbosity(argv[i + 1] ?? "", flag)}`);
        i++;
      } else out.push(`--verbose=${defaultVerbosity}`);
      continue;
    }
    if (word.startsWith("--") && word.length > 2) {
      const eq = word.indexOf("=");
      const flag = eq < 0 ? word : word.slice(0, eq);
      const option = findOption(path, flag);
      if (eq >= 0) {
        const value = word.slice(eq + 1);
        if (option && isBoolean(option)) out.push(...booleanWords(path, option, flag, value));
        else if (!option && findOption(path, `--no-${flag.slice(2)}`)) {
          // `--wait=false` where the flag is spelt `--no-wait`.
          out.push(...(parseBoolWord(value, flag) ? [] : [`--no-${flag.slice(2)}`]));
        } else out.push(word);
        continue;
      }
      out.push(option?.optional && option.presetArg !== undefined ? `${flag}=${option.presetArg}` : word);
      if (option?.required && flag !== "--sim") {
        // The next word is the flag's value, whatever it looks like.
        if (i + 1 < argv.length) out.push(argv[++i] ?? "");
      }
      continue;
    }
    if (word.startsWith("-") && word.length > 1) {
      const short = /^(-[^-])=(.*)$/s.exec(word);
      const shortOption = short ? findOption(path, short[1] ?? "") : undefined;
      if (short && shortOption && isBoolean(shortOption)) {
        out.push(...booleanWords(path, shortOption, short[1] ?? "", short[2] ?? ""));
        continue;
      }
      if (short && shortOption?.required) {
        // `-o=json`, `-n=demo`: pflag drops the `=`; commander would keep it in the value.
        out.push(short[1] ?? "", short[2] ?? "");
        continue;
      }
      out.push(word);
      // Short flags, maybe combined (-Ay): the first that takes a value takes the rest of the
      // word, or the next word when the rest is empty.
      for (let k = 1; k < word.length; k++) {
        const option = findOption(path, `-${word[k]}`);
        if (!option) break;
        if (option.required || option.optional) {
          if (k === word.length - 1 && option.required && i + 1 < argv.length) out.push(argv[++i] ?? "");
          break;
        }
      }
      continue;
    }
    out.push(word);
    const sub = operands === 0 ? findSubcommand(command, word) : undefined;
    if (sub) {
      command = sub;
      path.push(sub);
    } else operands++;
  }
  return out;
}
