// The process edge: with cli.ts the only file that reads process.argv, sets process.exitCode
// and handles signals. runCli builds the real Context and hands the exit code of runMain to the
// process. cli.ts imports it and runs it for every run but `kvmig --version`; the single
// executable's start-up snapshot (sea-snapshot.ts) holds it, and runs it after deserialisation.

import { basename } from "node:path";
import { systemClock } from "./clock.js";
import type { Context } from "./context.js";
import { ExitCode } from "./errors.js";
import { createIO } from "./io/io.js";
import { lazyPrompter } from "./io/prompter-impl.js";
import { connectLazily } from "./k8s/provider.js";
import { runMain } from "./main.js";

function programName(): string {
  const invoked = basename(process.argv[1] ?? "kvmig");
  return invoked.startsWith("kubectl-kvmig") ? "kubectl kvmig" : "kvmig";
}

/** Runs kvmig with this process's arguments, streams and signals. */
export function runCli(): void {
  const stdin = {
    // node:tty loads node:net: only when something asks (a prompt, a picker), not on every start.
    get isTTY() {
      return process.getBuiltinModule("node:tty").isatty(0);
    },
    open: () => process.stdin,
  };
  const io = createIO(
    {
      stdin,
      stdout: process.stdout,
      // process.stderr is made on first access (for a pipe, with node:net): only when it is used.
      get stderr() {
        return process.stderr;
      },
    },
    process.env,
  );

  // A reader that went away (`kvmig ... | head`) is not an error worth a message.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? ExitCode.ok);
  });

  // The first Ctrl-C asks the running command to stop (it reports the state it leaves);
  // a second one leaves at once.
  const controller = new AbortController();
  process.on("SIGINT", () => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    controller.abort(new Error("interrupted"));
  });
  // SIGTERM (a service manager, `timeout`, `kill`) asks for the same orderly stop.
  process.on("SIGTERM", () => {
    if (controller.signal.aborted) process.exit(128 + 15);
    controller.abort(new Error("terminated"));
  });

  const ctx: Context = {
    io,
    env: process.env,
    clock: systemClock,
    signal: controller.signal,
    prompter: lazyPrompter(io),
    connect: connectLazily,
    programName: programName(),
  };

  // kubectl (1.26+) completes `kubectl kvmig ...` by running kubectl_complete-kvmig with the words.
  const completing = basename(process.argv[1] ?? "").replace(/\.exe$/i, "") === "kubectl_complete-kvmig";
  const argv = completing ? ["__complete", "--cobra", "--", ...process.argv.slice(2)] : process.argv.slice(2);
  // Colours are made with chalk, loaded only when this run may colour (it costs start-up time);
  // --no-color is read here for that, as main reads it before parsing. A completion (each Tab)
  // colours nothing worth loading it for: its words go to a pipe, and a warning stays plain.
  if (argv.includes("--no-color")) io.setColor(false);
  const colorReady = completing ? Promise.resolve() : io.prepareColor();
  // Not a top-level await: the single executables (scripts/sea.mjs) run the CLI as CommonJS.
  void colorReady
    // Without chalk, the run goes on in plain text.
    .catch(() => undefined)
    .then(() => runMain(argv, ctx))
    .then((code) => {
      process.exitCode = code;
      // A completion answers and leaves: a connection or credential plugin still going may not hold the shell.
      if (argv[0] === "__complete") process.stdout.write("", () => process.exit());
    });
}
