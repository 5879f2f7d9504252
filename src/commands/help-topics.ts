// The topics of `kvmig help TOPIC`: apart from help.ts, so that completion (which offers them)
// does not import the command definitions, and with them commander.

export type Topic = "exit-codes" | "failure-modes" | "environment";

export const topics: ReadonlyArray<[Topic, string]> = [
  ["exit-codes", "what each exit code means"],
  ["failure-modes", "the failure modes diagnose recognises, one line each"],
  ["environment", "the environment variables kvmig reads"],
];

/** The topic names, for completion. */
export const helpTopics: readonly string[] = topics.map(([name]) => name);
