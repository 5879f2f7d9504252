// Loaded before every test file (vitest.config.ts setupFiles): chalk, which colours are made
// with, loaded as run.ts has it loaded before a run that may colour writes (IO.prepareColor), so
// that an IO made in a test on a pretend terminal colours at once. test/io/io.test.ts checks
// the plain-until-loaded start on a fresh copy of the module.

import { createIO } from "../../src/io/io.js";
import { bufferedStreams } from "./buffered-io.js";

await createIO(bufferedStreams({ tty: true }).streams, {}).prepareColor();
