// Shell completion, step two: the candidates for the word under the cursor. Names of commands,
// flags and fixed choices come from the commander tree; scenario names, kubeconfig contexts,
// failure-mode ids and cluster objects come from the sources, which the caller provides (the live
// ones in sources.ts; fakes in tests). A source that fails or is slow yields nothing.

import type { CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { connectionOverrides } from "../cli-tree/connection-flags.js";
import { helpTopics } from "../cli-tree/help-topics.js";
import { terminalWord } from "../io/untrusted.js";
import type { ConnectionOverrides } from "../k8s/kubeconfig-types.js";
import {
  type AnalyzeOptions,
  acceptedOptions,
  analyzeLine,
  type LineAnalysis,
  subcommands,
} from "./analyze.js";

/** What the shell should offer when there is no candidate: nothing, files, or directories. */
export type Fallback = "none" | "files" | "dirs";

export interface CompletionReply {
  /** Whole words, each starting with the word under the cursor (`--namespace=demo` for `--namespace=d`). */
  candidates: string[];
  /** The same, without a `--flag=` in front: what cobra-style callers (kubectl) expect. */
  bare: string[];
  fallback: Fallback;
}

export type ClusterObjects = "vmi" | "namespace" | "node";

/** Where the line points: the connection flags it gives. */
export interface ClusterTarget extends ConnectionOverrides {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}

export interface CompletionSources {
  /** The simulator's scenario names. */
  scenarios(): Promise<string[]>;
  /** Context names in the kubeconfig (`--kubeconfig`, else KUBECONFIG, else ~/.kube/config). */
  contexts(kubeconfig: string | undefined): Promise<string[]>;
  /** The failure-mode ids diagnose knows. */
  failureModes(): Promise<string[]>;
  /** Names of VMIs (in the target's namespace), namespaces or nodes; [] when out of reach. */
  cluster(objects: ClusterObjects, target: ClusterTarget): Promise<string[]>;
}

type ValueSource = "scenarios" | "contexts" | "namespaces" | "nodes" | "failure-modes" | "files" | "dirs";

/** Where the values of an option come from, by attribute name; options with choices need no entry. */
const optionValues: Readonly<Record<string, ValueSource>> = {
  sim: "scenarios",
  scenario: "scenarios",
  context: "contexts",
  namespace: "namespaces",
  targetNode: "nodes",
  node: "nodes",
  only: "failure-modes",
  skip: "failure-modes",
  kubeconfig: "files",
  kubeconfigOut: "files",
  from: "dirs",
  dump: "dirs",
};

/** Options whose value is a comma-separated list: each item is completed on its own. */
const listOptions = new Set(["only", "skip"]);

/** The positional arguments that name a VM: completed with the VMIs of the namespace. */
const vmArguments = new Set(["vm"]);

/** The positional arguments that name a node (`evacuate NODE`): completed with the cluster's nodes. */
const nodeArguments = new Set(["node"]);

/** The commands that print a table `-o wide` widens (their run passes RunnerOptions.wide). */
const wideCommands = new Set(["outdated", "watch", "history"]);

/** The commands whose data names objects for `-o name` (their run passes RunnerOptions.names). */
const nameCommands = new Set(["migrate", "watch", "cancel", "restart", "outdated", "evacuate", "history"]);

/** -o's values when the option lists no choices of its own (kvmig's parses jsonpath=TEMPLATE). */
const outputWords = ["text", "json", "yaml", "name", "wide", "jsonpath=", "jsonpath-as-json="];

/** -v's levels: 6 the requests, 7 with headers, 8 with bodies. */
const verbosityWords = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

function flagNames(options: readonly Option[]): string[] {
  const names: string[] = [];
  for (const option of options) {
    if (option.long) names.push(option.long);
    if (option.short) names.push(option.short);
  }
  return names;
}

async function valuesOf(
  option: Option,
  line: LineAnalysis,
  sources: CompletionSources,
): Promise<{ values: string[]; fallback: Fallback }> {
  const none = (values: string[]) => ({ values, fallback: "none" as const });
  // `--all-namespaces=`: a boolean flag takes pflag's words after an `=`.
  if (!option.required && !option.optional) return none(["true", "false"]);
  const inCommand = line.path.length > 1;
  if (option.long === "--output" && !option.argChoices) {
    return none(
      outputWords.filter(
        (word) =>
          !inCommand ||
          ((word !== "wide" || wideCommands.has(line.command.name())) &&
            (word !== "name" || nameCommands.has(line.command.name()))),
      ),
    );
  }
  if (option.long === "--verbose") return none(verbosityWords);
  if (option.argChoices) {
    const choices = option.argChoices;
    const narrow =
      option.long === "--output" && line.path.length > 1 && !wideCommands.has(line.command.name());
    return none(narrow ? choices.filter((c) => c !== "wide") : [...choices]);
  }
  switch (optionValues[option.attributeName()]) {
    case "scenarios":
      return none(await sources.scenarios());
    case "contexts":
      return none(await sources.contexts(line.values.kubeconfig));
    case "failure-modes":
      return none(await sources.failureModes());
    case "namespaces":
      return none(await clusterNames("namespace", line, sources));
    case "nodes":
      return none(await clusterNames("node", line, sources));
    case "files":
      return { values: [], fallback: "files" };
    case "dirs":
      return { values: [], fallback: "dirs" };
    default:
      return none([]);
  }
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function clusterNames(objects: ClusterObjects, line: LineAnalysis, sources: CompletionSources) {
  // --sim runs against a fresh cluster of its own: there is nothing to ask yet.
  if (line.values.sim !== undefined) return Promise.resolve([]);
  const { kubeconfig, context, namespace } = line.values;
  return sources.cluster(objects, {
    kubeconfig: kubeconfig || undefined,
    context: context || undefined,
    namespace: namespace || undefined,
    // kubectl's connection flags of the line (--server, --user, --as...) reach the same cluster.
    ...definedOnly(connectionOverrides(line.values)),
  });
}

async function argumentValues(line: LineAnalysis, sources: CompletionSources): Promise<string[]> {
  if (line.target.kind !== "argument") return [];
  const { command } = line;
  // `help COMMAND`: the commands beside it.
  const parent = line.path[line.path.length - 2];
  if (command.name() === "help" && parent && line.target.index === 0) {
    const commands = subcommands(parent)
      .map((c) => c.name())
      .filter((name) => name !== "help");
    return [...commands, ...helpTopics];
  }
  const argument = line.target.argument;
  if (!argument) return [];
  if (argument.argChoices) return [...argument.argChoices];
  if (vmArguments.has(argument.name())) return clusterNames("vmi", line, sources);
  if (nodeArguments.has(argument.name())) return clusterNames("node", line, sources);
  return [];
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Completes the last of `words` (the words after the program name). */
export async function complete(
  root: CommandUnknownOpts,
  words: readonly string[],
  sources: CompletionSources,
  options: AnalyzeOptions = {},
): Promise<CompletionReply> {
  const line = analyzeLine(root, words, options);
  let values: string[] = [];
  let fallback: Fallback = "none";
  let partial = line.partial;
  let listPrefix = "";
  switch (line.target.kind) {
    case "command": {
      // An alias (virtctl's migrate-cancel for cancel) when no name fits, as cobra completes
      // them: `mi` stays migrate alone, `migrate-` finds migrate-cancel.
      const commands = subcommands(line.command);
      values = commands.map((c) => c.name());
      if (!values.some((name) => name.startsWith(partial))) values = commands.flatMap((c) => c.aliases());
      break;
    }
    case "flag":
      values = flagNames(acceptedOptions(line.path));
      break;
    case "value": {
      const option = line.target.option;
      if (listOptions.has(option.attributeName())) {
        const comma = partial.lastIndexOf(",");
        listPrefix = partial.slice(0, comma + 1);
        partial = partial.slice(comma + 1);
      }
      ({ values, fallback } = await valuesOf(option, line, sources));
      break;
    }
    case "argument":
      values = await argumentValues(line, sources);
      break;
    case "none":
      break;
  }
  // A name from the cluster or a kubeconfig is one line, shown safe (a line break or tab would
  // split it in the shell's protocol, an escape would reach the terminal under the prompt).
  const matching = unique(values.map(terminalWord))
    .filter((v) => v.startsWith(partial))
    .map((v) => `${listPrefix}${v}`);
  // kubectl's scripts (cobra's) strip `--flag=` from the word themselves; `-n` stays attached.
  const barePrefix = line.flagPrefix.endsWith("=") ? "" : line.flagPrefix;
  return {
    candidates: matching.map((v) => `${line.flagPrefix}${v}`),
    bare: matching.map((v) => `${barePrefix}${v}`),
    fallback,
  };
}

/** The long flags (without `--`) anywhere in the tree whose value is a file, or a directory. */
export function pathFlags(root: CommandUnknownOpts): { files: string[]; dirs: string[] } {
  const files = new Set<string>();
  const dirs = new Set<string>();
  const visit = (command: CommandUnknownOpts) => {
    for (const option of command.options) {
      const source = optionValues[option.attributeName()];
      const name = option.long?.replace(/^--/, "");
      if (!name) continue;
      if (source === "files") files.add(name);
      if (source === "dirs") dirs.add(name);
    }
    for (const sub of command.commands) visit(sub);
  };
  visit(root);
  return { files: [...files], dirs: [...dirs] };
}
