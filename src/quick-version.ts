// `kvmig --version`, answered before anything else is loaded: it costs no more than starting
// Node. The entries (cli.ts, and sea-snapshot.ts for the single executables) ask it first.

import { basename } from "node:path";
import { kvmigVersion } from "./version.js";

/** Whether this run is `kvmig --version`, which it then answers; otherwise the CLI runs. */
export function answeredVersion(): boolean {
  const args = process.argv.slice(2);
  // As kubectl_complete-kvmig, the arguments are words to complete, not flags (see run.ts).
  const completing = basename(process.argv[1] ?? "").replace(/\.exe$/i, "") === "kubectl_complete-kvmig";
  if (args.length !== 1 || args[0] !== "--version" || completing) return false;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  });
  process.stdout.write(`${kvmigVersion}\n`);
  return true;
}
