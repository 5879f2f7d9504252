// kvmig in-process as if on a terminal (stdin, stdout and stderr are TTYs), with a scripted
// prompter, against a simulated cluster through a real kubeconfig and HTTPS.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { systemClock } from "../../src/clock.js";
import type { Context } from "../../src/context.js";
import { createIO } from "../../src/io/io.js";
import type { Prompter } from "../../src/io/prompter.js";
import { connectLazily } from "../../src/k8s/provider.js";
import { runMain } from "../../src/main.js";
import type { SimCluster } from "../../src/sim/cluster.js";
import { bufferedStreams } from "./buffered-io.js";
import { tempDir } from "./kubeconfig.js";

export async function onTerminal(sim: SimCluster, argv: string[], prompter: Prompter, columns = 120) {
  const home = tempDir();
  const kubeconfig = join(home, "kubeconfig");
  writeFileSync(kubeconfig, sim.kubeconfig(), { mode: 0o600 });
  const env = { HOME: home, KUBECONFIG: kubeconfig, NO_COLOR: "1" };
  const buffers = bufferedStreams({ tty: true, columns });
  const ctx: Context = {
    io: createIO(buffers.streams, env),
    env,
    clock: systemClock,
    signal: new AbortController().signal,
    prompter,
    connect: connectLazily,
    programName: "kvmig",
  };
  const code = await runMain(argv, ctx);
  return { code, stdout: buffers.stdout(), stderr: buffers.stderr() };
}
