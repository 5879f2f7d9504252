#!/usr/bin/env node
// The entry. `kvmig --version` is answered here, before anything else is loaded: it costs no
// more than starting Node. Every other run imports run.ts, the CLI itself (commander, the
// command tree, the terminal IO), which prints the same for --version in any other spelling.

import { answeredVersion } from "./quick-version.js";

if (!answeredVersion()) {
  // Node's compile cache ($NODE_COMPILE_CACHE, else the temp directory; NODE_DISABLE_COMPILE_CACHE
  // turns it off): later starts read the compiled code instead of compiling it again. It takes
  // 5-10% off a command that loads the Kubernetes client; for --help it makes no difference.
  process.getBuiltinModule("node:module").enableCompileCache?.();
  // Not a top-level await: the single executables (scripts/sea.mjs) run this as CommonJS.
  void import("./run.js").then(({ runCli }) => runCli());
}
