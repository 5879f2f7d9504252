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
