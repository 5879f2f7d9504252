// main(argv, ctx): builds the commander program, applies the global flags, runs one command.
// runMain wraps it: an error becomes one line and a hint on stderr, and the exit code of the
// table in errors.ts, which cli.ts hands to the process.

import { Command, CommanderError, Help, Option } from "@commander-js/extra-typings";
import { defaultVerbosity, normalizeArgv, parseVerbosity, verboseWord } from "./cli-tree/argv.js";
import { examples, type Runner, type RunnerOptions } from "./cli-tree/command.js";
import {
  addConnectionFlags,
  connectionFlagWords,
  connectionOverrides,
  hasConnectionOverrides,
} from "./cli-tree/connection-flags.js";
import {
  cancelCommand,
  diagnoseCommand,
  evacuateCommand,
  historyCommand,
  migrateCommand,
  outdatedCommand,
  restartCommand,
  simCommand,
  versionCommand,
  watchCommand,
} from "./cli-tree/tree.js";
import { addCompletionCommands } from "./commands/completion.js";
import { helpCommand } from "./commands/help.js";
import type { CommandContext, Context, GlobalOptions } from "./context.js";
import { parseDuration } from "./duration.js";
import { describeError, ExitCode, exitCodeOf, type KvmigError, UsageError } from "./errors.js";
import { outputFlagHelp, outputModeOf, parseOutputFlag, useOutputFlag } from "./io/output.js";
import { createProgress } from "./io/progress.js";
import { KubeProvider } from "./k8s/provider.js";
import { checkNamespace } from "./util/names.js";
import { kvmigCommand, setConnectionFlags, setProgramName } from "./util/shell.js";
import { kvmigVersion } from "./version.js";

function buildProgram(ctx: Context, outcome: { code?: ExitCode }) {
  const program = new Command(ctx.programName)
    .description("Live-migrate KubeVirt VMs, follow them to the end, and explain what went wrong.")
    .version(kvmigVersion, "--version", "print the kvmig version and exit")
    .option("--kubeconfig <path>", "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "the kubeconfig context to use")
    .option("-n, --namespace <namespace>", "the namespace (default: the context's namespace, else default)")
    .option(
      "--request-timeout <duration>",
      "time limit for each API request, like 30s or 2m; 0, or over 24 days, for none",
      "30s",
    )
    .addOption(
      new Option("-o, --output <format>", outputFlagHelp)
        .argParser(parseOutputFlag)
        .default(parseOutputFlag("text"), "text"),
    )
    .option(
      "--allow-missing-template-keys",
      "with -o jsonpath, a field or map key the data lacks prints nothing, as kubectl's default; =false makes it an error",
      true,
    )
    .addOption(new Option("--no-allow-missing-template-keys").hideHelp())
    .option("--no-color", "no colours (also: the NO_COLOR environment variable)")
    // Its value is only ever attached (argv.ts rewrites -v 6, --v=6 and a bare -v): help shows
    // kubectl's spellings.
    .addOption(
      Object.assign(
        new Option(
          "-v, --verbose [level]",
          `log level, as kubectl's -v: 6 and up log each API request (method, path, status, time) to stderr, 7 also the headers (credentials redacted), 8 also the bodies, cut short; a bare -v is ${defaultVerbosity}`,
        )
          .argParser((value: string) => parseVerbosity(value))
          .default(0),
        { flags: "-v, --v, --verbose[=LEVEL]" },
      ),
    )
    .option(
      "--insecure-skip-tls-verify",
      "do not verify the API server's certificate (insecure: anyone on the path can read and change the traffic)",
      false,
    )
    // Its value is optional and only ever attached (expandSimFlag): help shows it that way.
    .addOption(
      Object.assign(
        new Option(
          "--sim <scenario>",
          "run against a fresh embedded simulated cluster (the scenario named default without =SCENARIO)",
        ),
        { flags: "--sim[=SCENARIO]" },
      ),
    )
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true)
    .configureHelp({
      showGlobalOptions: true,
      // The command list names each command once; its help shows its aliases (tree.ts: "Aliases:").
      subcommandTerm(this: Help, command: Help["subcommandTerm"] extends (c: infer C) => string ? C : never) {
        const term = Help.prototype.subcommandTerm.call(this, command);
        const alias = command.aliases()[0];
        return alias ? term.replace(`${command.name()}|${alias}`, command.name()) : term;
      },
    })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      writeErr: (text) => ctx.io.stderr.write(text),
      // Errors are reported once, by runMain, as one line and a hint.
      outputError: () => {},
    })
    .addHelpText(
      "after",
      examples(
        [
          ["version", "check that kvmig reaches the cluster, and which KubeVirt it runs"],
          ["version --context prod -o json", "the same for another context, as JSON"],
        ],
        ctx.programName,
      ),
    );

  addConnectionFlags(program);

  const run: Runner = async (body, runner = {}) => {
    const raw = program.opts();
    const overrides = connectionOverrides(raw);
    if (raw.output.format === "name" && !runner.names) {
      throw new UsageError("-o name is only for commands whose output names Kubernetes objects", {
        hint: "use -o json or -o jsonpath=TEMPLATE here; -o name is for migrate, watch, cancel, restart, outdated, evacuate and history",
      });
    }
    if (raw.output.format === "wide" && !runner.wide) {
      throw new UsageError("-o wide is only for commands that print a table", {
        hint: `use -o text, json or yaml here; -o wide is for the tables of ${kvmigCommand(["outdated"])} and ${kvmigCommand(["watch"])}`,
      });
    }
    if (raw.sim !== undefined) {
      const scenario = raw.sim;
      if (raw.kubeconfig || raw.context || hasConnectionOverrides(overrides)) {
        throw new UsageError(
          "--sim cannot be combined with --kubeconfig, --context or other connection flags",
          {
            hint: "--sim brings its own cluster; leave out the other flags",
          },
        );
      }
      setConnectionFlags({ sim: scenario });
      const { withEmbeddedSim } = await import("./commands/sim.js");
      await withEmbeddedSim(scenario, ctx, verbosityOf(raw.verbose) >= defaultVerbosity, (kubeconfig) =>
        runWith({ ...raw, kubeconfig }, body, runner),
      );
      return;
    }
    setConnectionFlags({
      kubeconfig: raw.kubeconfig,
      context: raw.context,
      overrides: connectionFlagWords(overrides),
    });
    await runWith(raw, body, runner);
  };

  const runWith = async (
    raw: ReturnType<typeof program.opts>,
    body: Parameters<Runner>[0],
    runner: RunnerOptions,
  ) => {
    if (raw.namespace !== undefined) checkNamespace(raw.namespace);
    const verbosity = verbosityOf(raw.verbose);
    const options: GlobalOptions = {
      kubeconfig: raw.kubeconfig,
      context: raw.context,
      namespace: raw.namespace,
      requestTimeoutMs: parseDuration(raw.requestTimeout, "--request-timeout"),
      output: raw.output.format,
      verbose: verbosity >= defaultVerbosity,
      verbosity,
      sim: raw.sim,
      insecureSkipTlsVerify: raw.insecureSkipTlsVerify,
      ...connectionOverrides(raw),
    };
    ctx.io.setOutputMode(outputModeOf(options.output));
    await useOutputFlag(ctx.io, raw.output, { allowMissingKeys: raw.allowMissingTemplateKeys });
    const debug = (line: string) => {
      if (options.verbose) ctx.io.err(ctx.io.errColors.dim(line));
    };
    const provider = new KubeProvider(ctx.connect, options, {
      env: ctx.env,
      clock: ctx.clock,
      log: options.verbose ? debug : undefined,
      logLevel: options.verbosity,
      warn: (line: string) => ctx.io.err(`${ctx.io.errColors.warn("warning:")} ${line}`),
      note: (line: string) => ctx.io.err(line),
      userAgent: `kvmig/${kvmigVersion}`,
      // A command that finishes its running work after Ctrl-C passes ctx.signal where it stops.
      signal: runner.finishOnInterrupt ? undefined : ctx.signal,
    });
    const commandContext: CommandContext = {
      ...ctx,
      options,
      kube: () => provider.get(),
      progress: () => createProgress(ctx.io),
      debug,
      setExitCode: (code) => {
        outcome.code = code;
      },
    };
    try {
      await body(commandContext);
    } finally {
      await provider.close();
    }
  };

  // Subcommands inherit the root's settings: exitOverride and the output redirection above.
  for (const command of [
    migrateCommand(run, ctx.programName),
    watchCommand(run, ctx.programName),
    cancelCommand(run, ctx.programName),
    restartCommand(run, ctx.programName),
    outdatedCommand(run, ctx.programName),
    evacuateCommand(run, ctx.programName),
    historyCommand(run, ctx.programName),
    versionCommand(run, ctx.programName),
    diagnoseCommand(run, ctx.programName),
    simCommand(run, ctx.programName),
  ]) {
    program.addCommand(command.copyInheritedSettings(program));
  }
  // Our help command knows the topics as well as the commands; commander's own would not.
  program.helpCommand(false);
  program.addCommand(helpCommand(program, ctx).copyInheritedSettings(program));
  // `completion SHELL`, and the hidden `__complete` its scripts call: both walk the whole tree.
  addCompletionCommands(program, ctx);
  return program;
}

/** -v's level: argv.ts gives it a value, so `true` (a bare flag) is only a fallback. */
function verbosityOf(value: number | boolean): number {
  return value === true ? defaultVerbosity : value === false ? 0 : value;
}

const quietExits = new Set(["commander.helpDisplayed", "commander.version", "commander.help"]);

/** A bare `--sim` means the default scenario; the value is given as `--sim=NAME`. */
function expandSimFlag(argv: readonly string[]): string[] {
  const end = argv.indexOf("--");
  return argv.map((arg, i) => (arg === "--sim" && (end < 0 || i < end) ? "--sim=default" : arg));
}

/** Runs one command; returns the exit code the command chose, if it chose one. */
export async function main(argv: readonly string[], ctx: Context): Promise<ExitCode | undefined> {
  // --no-color takes effect before parsing, so that a usage error is not coloured either.
  if (argv.includes("--no-color")) ctx.io.setColor(false);
  setProgramName(ctx.programName);
  setConnectionFlags({});
  const outcome: { code?: ExitCode } = {};
  const program = buildProgram(ctx, outcome);
  if (argv.length === 0) {
    program.outputHelp();
    return undefined;
  }
  try {
    const words = normalizeArgv(expandSimFlag(argv), program);
    // `--color=false` is --no-color too.
    if (words.includes("--no-color")) ctx.io.setColor(false);
    await program.parseAsync(words, { from: "user" });
    return outcome.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (quietExits.has(error.code)) return undefined;
      const commands = program.commands.map((c) => c.name());
      throw usageErrorFrom(error, argv, ctx.programName, commands);
    }
    throw error;
  }
}

function usageErrorFrom(
  error: CommanderError,
  argv: readonly string[],
  programName: string,
  commandNames: readonly string[],
): KvmigError {
  const message = error.message.replace(/^error:\s*/i, "").split("\n")[0] ?? error.message;
  const command = argv.find((a) => commandNames.includes(a));
  const help =
    error.code === "commander.unknownCommand" || command === undefined
      ? `${programName} --help`
      : `${programName} ${command} --help`;
  // Commander's own suggestion ("(Did you mean version?)") is worth keeping in the hint.
  const suggestion = /\(Did you mean (.+)\?\)/.exec(error.message)?.[1];
  return new UsageError(message, { hint: `${suggestion ? `did you mean ${suggestion}? ` : ""}see ${help}` });
}

/** Runs main and reports its outcome: the exit code, with any error already printed. */
export async function runMain(argv: readonly string[], ctx: Context): Promise<ExitCode> {
  try {
    const chosen = await main(argv, ctx);
    return chosen ?? (ctx.signal.aborted ? ExitCode.interrupted : ExitCode.ok);
  } catch (error) {
    const code = exitCodeOf(error);
    if (ctx.signal.aborted && code === ExitCode.unexpected) {
      ctx.io.err("interrupted");
      return ExitCode.interrupted;
    }
    const { message, hint } = describeError(error);
    const c = ctx.io.errColors;
    ctx.io.err(`${c.error("error:")} ${message}`);
    if (hint) ctx.io.err(`${c.dim("hint:")} ${hint}`);
    const verbose = argv.some(verboseWord);
    if (verbose && error instanceof Error && error.stack) ctx.io.err(c.dim(error.stack));
    return code;
  }
}
