// Names printed inside suggested commands are shell-quoted, so a copy-paste runs what it says.

const safe = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** Quotes a word for POSIX shells when it needs it: `db-1` stays, `it's` becomes `'it'\''s'`. */
export function shellQuote(word: string): string {
  if (word !== "" && safe.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A command line from words, each quoted as needed. */
export function commandLine(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}

// How this program is run: "kvmig", or "kubectl kvmig" as a kubectl plugin (where a bare
// `kvmig` may not be on PATH). Set once per run by main(); suggested commands use it.
let self: readonly string[] = ["kvmig"];

export function setProgramName(name: string): void {
  self = name.split(" ").filter((w) => w !== "");
}

/** A kvmig command line for a hint or a fix: `kvmig cancel db-1 -n demo`, or `kubectl kvmig ...`. */
export function kvmigCommand(words: readonly string[]): string {
  return commandLine([...self, ...words]);
}
