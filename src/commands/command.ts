// What every command module shares: the runner that applies the global flags, and help examples.

import type { CommandContext } from "../context.js";

/** Runs a command body with the global flags applied and the cluster connection closed afterwards. */
export type Runner = (body: (ctx: CommandContext) => Promise<void>) => Promise<void>;

/** The "Examples:" block of a command's --help. */
export function examples(lines: ReadonlyArray<[command: string, what: string]>, programName: string): string {
  const body = lines.map(([command, what]) => `  # ${what}\n  ${programName} ${command}`).join("\n\n");
  return `\nExamples:\n${body}\n`;
}
