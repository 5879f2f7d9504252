// What the command tree, main.ts and the help and completion commands share: the runner that
// applies the global flags, and the examples block of a --help.

import type { CommandContext } from "../context.js";

/** Runs a command body with the global flags applied and the cluster connection closed afterwards. */
export type Runner = (body: (ctx: CommandContext) => Promise<void>, options?: RunnerOptions) => Promise<void>;

export interface RunnerOptions {
  /** The command prints a table that `-o wide` widens. */
  wide?: boolean;
  /** The command's data names Kubernetes objects, which `-o name` prints. */
  names?: boolean;
  /**
   * Requests are not cut by the first Ctrl-C: the command stops starting work on ctx.signal and
   * lets what runs finish (the second Ctrl-C leaves at once).
   */
  finishOnInterrupt?: boolean;
}

/** The "Aliases:" block of a command's --help, as kubectl shows one: the name, then the others. */
export function aliases(names: readonly string[]): string {
  return `\nAliases:\n  ${names.join(", ")}\n`;
}

/** The "Examples:" block of a command's --help. */
export function examples(lines: ReadonlyArray<[command: string, what: string]>, programName: string): string {
  const body = lines.map(([command, what]) => `  # ${what}\n  ${programName} ${command}`).join("\n\n");
  return `\nExamples:\n${body}\n`;
}
