// What every command runs with: terminal IO, prompts, a clock, an abort signal wired to Ctrl-C,
// and a lazy way to the cluster. cli.ts builds the real one; tests build their own.

import type { Clock } from "./clock.js";
import type { ExitCode } from "./errors.js";
import type { IO } from "./io/io.js";
import type { Progress } from "./io/progress.js";
import type { Prompter } from "./io/prompter.js";
import type { KubeClient } from "./k8s/kube-client.js";
import type { ConnectionOverrides } from "./k8s/kubeconfig-types.js";
import type { KubeConnector } from "./k8s/provider.js";

export type Env = Readonly<Record<string, string | undefined>>;

export interface Context {
  readonly io: IO;
  readonly env: Env;
  readonly clock: Clock;
  /** Aborts on Ctrl-C; every wait takes it. */
  readonly signal: AbortSignal;
  readonly prompter: Prompter;
  /** How to reach a cluster; the real one loads the Kubernetes client on first use. */
  readonly connect: KubeConnector;
  /** "kvmig", or "kubectl kvmig" when run as a kubectl plugin; used in help and hints. */
  readonly programName: string;
}

/** The global flags every command accepts, parsed (kubectl's connection flags: ConnectionOverrides). */
export interface GlobalOptions extends ConnectionOverrides {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  requestTimeoutMs: number;
  /**
   * `wide` is text with more columns; only commands that print a table accept it. `name` and
   * `jsonpath` print the JSON document differently (io/output.ts) and otherwise run as `json`.
   */
  output: "text" | "json" | "yaml" | "wide" | "name" | "jsonpath";
  /** The request log is on: -v at level 6 or more. */
  verbose: boolean;
  /** kubectl's -v level, 0 when not given. */
  verbosity?: number | undefined;
  /** `--sim[=SCENARIO]`: run against a fresh embedded simulated cluster. */
  sim?: string | undefined;
  /** `--insecure-skip-tls-verify`: do not check the server's certificate (never the default). */
  insecureSkipTlsVerify?: boolean | undefined;
}

/** A Context with the global flags applied: what a command's run function receives. */
export interface CommandContext extends Context {
  readonly options: GlobalOptions;
  /** The cluster client, connected on first call with the global flags. */
  kube(): Promise<KubeClient>;
  progress(): Progress;
  /** A line on stderr with -v, nothing otherwise. */
  debug(line: string): void;
  /** The exit code when the command ends without an error (e.g. 0 for `sim` stopped by Ctrl-C). */
  setExitCode(code: ExitCode): void;
}
