// The topics of `kvmig help TOPIC`: below both commands/help.ts (which shows them) and
// completion/ (which offers them), so that completion imports no command, and with it commander.

export type Topic = "exit-codes" | "failure-modes" | "environment";

export const topics: ReadonlyArray<[Topic, string]> = [
  ["exit-codes", "what each exit code means"],
  ["failure-modes", "the failure modes diagnose recognises, one line each"],
  ["environment", "the environment variables kvmig reads"],
];

/** The topic names, for completion. */
export const helpTopics: readonly string[] = topics.map(([name]) => name);
