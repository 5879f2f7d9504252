// The single executable's entry when it is built with a V8 start-up snapshot (scripts/sea.mjs):
// Node runs this file when the executable is made, and the snapshot keeps what it loaded (the
// CLI: commander, the command tree's code, the terminal IO); each run starts from that heap and
// calls the function below. What a snapshot may not hold loads after that, when a command asks
// for it (the connection code, with node:http, node:https and node:tls: Node aborts on those in
// a user snapshot; they are all behind import(), which the bundle turns into lazy init).

import { pathToFileURL } from "node:url";
import { startupSnapshot } from "node:v8";
import { systemClock } from "./clock.js";
import { createIO } from "./io/io.js";
import { runMain } from "./main.js";
import { answeredVersion } from "./quick-version.js";
import { runCli } from "./run.js";

// kvmig --help once, into nothing, while the snapshot is made: the code every run starts with
// (building the command tree, parsing, help) is then compiled in the snapshot, not at each start.
// It writes to no terminal, so nothing that must differ from run to run is made here (kvmig's
// own escape sequences get their random prefix on first use, in the run: io/untrusted.ts).
const nowhere = { write: () => true, isTTY: false, columns: 100 };
const io = createIO({ stdin: { isTTY: false }, stdout: nowhere, stderr: nowhere }, {});
const warmUp = (argv: string[]) =>
  runMain(argv, {
    io,
    env: {},
    clock: systemClock,
    signal: new AbortController().signal,
    prompter: undefined as never,
    connect: undefined as never,
    programName: "kvmig",
  });
// Then a Tab on a command's name (completion's parsing of the line, with no cluster to ask).
void warmUp(["--help"]).then(() => warmUp(["__complete", "mig"]));

// The code of the commands that are run most, loaded (not run) into the snapshot too. None of it
// loads the connection code until a command runs.
void Promise.all([
  import("./commands/version.js"),
  import("./commands/diagnose.js"),
  import("./commands/migrate.js"),
  import("./completion/sources.js"),
  import("./completion/candidates.js"),
]);

startupSnapshot.setDeserializeMainFunction(() => {
  // import.meta.url in the bundle (the simulator's scenarios, when they are not SEA assets): the
  // executable's own URL, read in this run, not the one of the node that built the snapshot.
  (globalThis as { __kvmigUrl?: string }).__kvmigUrl = pathToFileURL(process.execPath).href;
  if (!answeredVersion()) runCli();
});
