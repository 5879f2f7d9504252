// Names printed inside suggested commands are shell-quoted, so a copy-paste runs what it says.

const safe = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** Quotes a word for POSIX shells when it needs it: `db-1` stays, `it's` becomes `'it'\''s'`. */
export function shellQuote(word: string): string {
  if (word !== "" && safe.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * A command line from words, each quoted as needed. A kubectl or virtctl command gets the
 * connection flags of this run right after the program's name (`kubectl --context prod get vmi`),
 * so that a copied hint reads the cluster kvmig just used, not the current context.
 */
export function commandLine(words: readonly string[]): string {
  const [program, first] = words;
  if ((program === "kubectl" || program === "virtctl") && first !== "kvmig") {
    return join([program, ...clientFlagsFor(words), ...words.slice(1)]);
  }
  return join(words);
}

function join(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}

// How this program is run: "kvmig", or "kubectl kvmig" as a kubectl plugin (where a bare
// `kvmig` may not be on PATH). Set once per run by main(); suggested commands use it.
let self: readonly string[] = ["kvmig"];

export function setProgramName(name: string): void {
  self = name.split(" ").filter((w) => w !== "");
}

/**
 * A kvmig command line for a hint or a fix: `kvmig cancel db-1 -n demo`, or `kubectl kvmig ...`,
 * with the connection flags of this run at the end (before a `--`), so that it acts on the same
 * cluster. `sim` and `completion` run no cluster command and get none.
 */
export function kvmigCommand(words: readonly string[]): string {
  const [command] = words;
  if (command === "sim" || command === "completion" || connection.kvmig.length === 0) {
    return join([...self, ...words]);
  }
  const end = words.indexOf("--");
  const [before, after] = end < 0 ? [words, []] : [words.slice(0, end), words.slice(end)];
  return join([...self, ...before, ...connection.kvmig, ...after]);
}

// The cluster this run talks to, as the flags the user gave for it. Set once per run by main()
// (before any hint is built); empty when the user gave none, so hints then read the current
// context just as the run did.

export interface ConnectionFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  /** `--sim[=SCENARIO]`: the scenario, "default" for a bare --sim. */
  sim?: string | undefined;
  /** kubectl's other connection flags as given (`--server URL --as bob`): kubectl and virtctl take them too. */
  overrides?: readonly string[] | undefined;
}

/**
 * The context of the embedded simulated cluster's kubeconfig (`kvmig sim` writes it, and makes
 * it current). Under --sim, kubectl hints name it: in a shell that exported a running sim's
 * KUBECONFIG they read the sim, anywhere else kubectl says the context does not exist, and
 * never reads the user's real cluster instead.
 */
export const simContext = "sim-admin";

interface Connection {
  kvmig: readonly string[];
  kubeconfig: readonly string[];
  context: readonly string[];
  overrides: readonly string[];
}

let connection: Connection = { kvmig: [], kubeconfig: [], context: [], overrides: [] };

export function setConnectionFlags(flags: ConnectionFlags): void {
  if (flags.sim !== undefined) {
    connection = {
      kvmig: [flags.sim === "default" ? "--sim" : `--sim=${flags.sim}`],
      kubeconfig: [],
      context: ["--context", simContext],
      overrides: [],
    };
    return;
  }
  const kubeconfig = flags.kubeconfig === undefined ? [] : ["--kubeconfig", flags.kubeconfig];
  const context = flags.context === undefined ? [] : ["--context", flags.context];
  const overrides = flags.overrides ?? [];
  connection = { kvmig: [...kubeconfig, ...context, ...overrides], kubeconfig, context, overrides };
}

/** The flags a kubectl or virtctl command needs to reach this run's cluster. */
function clientFlagsFor(words: readonly string[]): string[] {
  const has = (flag: string) => words.some((w) => w === flag || w.startsWith(`${flag}=`));
  // `kubectl config ...` works on the kubeconfig file: the context it is about is its argument.
  const configCommand = words[0] === "kubectl" && words[1] === "config";
  return [
    ...(has("--kubeconfig") ? [] : connection.kubeconfig),
    ...(has("--context") || configCommand ? [] : connection.context),
    ...(configCommand ? [] : connection.overrides),
  ];
}
