// A Context for in-process tests: buffered streams, a fake clock, a strict prompter, and either
// the real connector (against a loopback server) or a fake cluster client.
import type { Context, Env } from "../../src/context.js";
import { createIO } from "../../src/io/io.js";
import type { Prompter } from "../../src/io/prompter.js";
import { NonInteractivePrompter } from "../../src/io/prompter-impl.js";
import type { KubeClient } from "../../src/k8s/kube-client.js";
import { connectLazily, type KubeConnector } from "../../src/k8s/provider.js";
import { runMain } from "../../src/main.js";
import { bufferedStreams } from "./buffered-io.js";
import { FakeClock } from "./fake-clock.js";

export interface TestContextOptions {
  env?: Env;
  tty?: boolean;
  prompter?: Prompter;
  /** A fake cluster client; without one the real connector is used. */
  kube?: KubeClient;
  connect?: KubeConnector;
  programName?: string;
}

// A HOME without a kubeconfig, so that no test ever reads the machine's ~/.kube/config.
const isolatedEnv: Env = { HOME: "/nonexistent/kvmig-test-home" };

export function testContext(options: TestContextOptions = {}) {
  const env = options.env ?? isolatedEnv;
  const buffers = bufferedStreams({ tty: options.tty ?? false });
  const io = createIO(buffers.streams, env);
  const controller = new AbortController();
  const clock = new FakeClock();
  const kube = options.kube;
  const connect: KubeConnector = options.connect ?? (kube ? async () => kube : connectLazily);
  const ctx: Context = {
    io,
    env,
    clock,
    signal: controller.signal,
    prompter: options.prompter ?? new NonInteractivePrompter(),
    connect,
    programName: options.programName ?? "kvmig",
  };
  return { ctx, clock, controller, stdout: buffers.stdout, stderr: buffers.stderr };
}

/** Runs the CLI in-process; returns the exit code and what it printed. */
export async function runCli(argv: string[], options: TestContextOptions = {}) {
  const t = testContext(options);
  const code = await runMain(argv, t.ctx);
  return { code, stdout: t.stdout(), stderr: t.stderr(), clock: t.clock };
}
