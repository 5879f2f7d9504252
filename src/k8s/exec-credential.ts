// Exec credential plugins (client.authentication.k8s.io v1 and v1beta1), run the way client-go's
// plugin/pkg/client/auth/exec does: the kubeconfig's env on top of ours, KUBERNETES_EXEC_INFO
// (with the cluster when provideClusterInfo), the terminal's stdin when interactiveMode allows
// and stdin is a terminal, the plugin's stderr straight to ours (a login prompt shows), and the
// credential (a token, or a client certificate and key) kept until its expirationTimestamp.
// Our own runner instead of the Kubernetes client's, which captures stderr and has to be loaded.
// kubectl waits for a plugin as long as it takes; so do we, saying after a few seconds what we
// wait for, and we stop it (its whole process group, when it has its own) on an abort.

import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { ExecPluginError } from "./exec-plugin-error.js";
import type { Environment, KubeCluster } from "./kubeconfig-types.js";

export interface ExecConfig {
  command: string;
  /** The command as the kubeconfig wrote it (before a relative path was resolved), for messages. */
  writtenCommand?: string;
  args?: string[] | null;
  env?: Array<{ name: string; value: string }> | null;
  apiVersion: string;
  installHint?: string | null;
  provideClusterInfo?: boolean | null;
  interactiveMode?: "Never" | "IfAvailable" | "Always" | null;
  // biome-ignore lint/suspicious/noExplicitAny: handed to the plugin as the kubeconfig has it
  config?: any;
}

export interface ExecCredential {
  token?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

export interface ExecRunOptions {
  /** The kubeconfig user and context, for messages. */
  user: string;
  context: string;
  cluster: KubeCluster;
  /** The environment the plugin inherits (with the kubeconfig's env added). */
  env: Environment;
  /** Whether our stdin is a terminal the plugin may use; default: process.stdin.isTTY. */
  stdinIsTerminal?: boolean | undefined;
  /** Stops the plugin (Ctrl-C, a completion out of time). */
  signal?: AbortSignal | undefined;
  /** A line for the user while we wait (on stderr); none: say nothing. */
  note?: ((line: string) => void) | undefined;
  /** How long to wait before saying what we wait for. */
  noteAfterMs?: number | undefined;
  /** The time now, in ms (tests). */
  now?: () => number;
}

export { ExecPluginError };

const supportedVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"];

/**
 * A function that answers the plugin's credential: run once, then kept until it expires (a
 * credential without expirationTimestamp is kept until the server refuses it (`refused`, as
 * client-go's exec authenticator refreshes on a 401). Calls while the plugin runs share its answer.
 */
export function execCredentialSource(exec: ExecConfig, options: ExecRunOptions): ExecCredentialSource {
  const now = options.now ?? Date.now;
  let cached: { credential: ExecCredential; expiresAt: number } | undefined;
  let running: Promise<ExecCredential> | undefined;
  const refused = (token: string | undefined): void => {
    // Refused with the credential we hold: run the plugin again at the next call. Refused with
    // an older one (a request sent before a refresh): the one we hold is already newer.
    if (cached !== undefined && cached.credential.token === token) cached = undefined;
  };
  return Object.assign(
    () => {
      if (cached && now() < cached.expiresAt) return Promise.resolve(cached.credential);
      running ??= runPlugin(exec, options)
        .then(({ credential, expiresAt }) => {
          cached = { credential, expiresAt };
          return credential;
        })
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    { refused },
  );
}

/** The plugin's credential, and what to do when the server refuses a token it gave (a 401). */
export type ExecCredentialSource = (() => Promise<ExecCredential>) & {
  /** The server answered 401 to this token: the next call asks the plugin again. */
  refused(token: string | undefined): void;
};

function describePlugin(exec: ExecConfig, options: ExecRunOptions): string {
  return `the credential plugin ${exec.writtenCommand ?? exec.command} of user "${options.user}" (context "${options.context}")`;
}

/** The plugin's interactivity, as client-go decides it; throws for Always without a terminal. */
function interactive(exec: ExecConfig, options: ExecRunOptions): boolean {
  const terminal = options.stdinIsTerminal ?? Boolean(process.stdin.isTTY);
  const mode = exec.interactiveMode || "IfAvailable";
  if (mode === "Never") return false;
  if (mode === "Always" && !terminal) {
    throw new ExecPluginError(
      `${describePlugin(exec, options)} must be interactive (interactiveMode Always), and stdin is not a terminal`,
      "run kvmig in a terminal, or log in first so that the plugin need not ask",
    );
  }
  return terminal;
}

/** KUBERNETES_EXEC_INFO: the ExecCredential the plugin is given. */
export function execInfo(exec: ExecConfig, cluster: KubeCluster, isInteractive: boolean): string {
  const spec: Record<string, unknown> = { interactive: isInteractive };
  if (exec.provideClusterInfo) {
    const ca = cluster.caData
      ? cluster.caData
      : cluster.caFile
        ? readFileSync(cluster.caFile).toString("base64")
        : undefined;
    spec.cluster = {
      server: cluster.server,
      ...(cluster.tlsServerName ? { "tls-server-name": cluster.tlsServerName } : {}),
      ...(cluster.skipTLSVerify ? { "insecure-skip-tls-verify": true } : {}),
      ...(ca ? { "certificate-authority-data": ca } : {}),
      ...(cluster.proxyUrl ? { "proxy-url": cluster.proxyUrl } : {}),
      ...(exec.config !== undefined ? { config: exec.config } : {}),
    };
  }
  return JSON.stringify({ kind: "ExecCredential", apiVersion: exec.apiVersion, spec });
}

async function runPlugin(
  exec: ExecConfig,
  options: ExecRunOptions,
): Promise<{ credential: ExecCredential; expiresAt: number }> {
  const what = describePlugin(exec, options);
  if (!supportedVersions.includes(exec.apiVersion)) {
    throw new ExecPluginError(
      `${what} has apiVersion ${exec.apiVersion}, which kvmig does not speak`,
      `use ${supportedVersions.join(" or ")} in the kubeconfig's exec entry`,
    );
  }
  const isInteractive = interactive(exec, options);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.env)) if (value !== undefined) env[name] = value;
  for (const entry of exec.env ?? []) env[entry.name] = entry.value;
  env.KUBERNETES_EXEC_INFO = execInfo(exec, options.cluster, isInteractive);
  const signal = options.signal;
  if (signal?.aborted) throw signal.reason;

  const stdout = await new Promise<string>((resolve, reject) => {
    let child: ChildProcess;
    // A plugin that cannot talk to the user gets a process group of its own, so that stopping
    // it stops what it started too; an interactive one stays in ours, the terminal's foreground.
    const detached = !isInteractive;
    try {
      // node:child_process when a plugin runs, not with every kubeconfig (about 3 ms of CPU).
      child = process.getBuiltinModule("node:child_process").spawn(exec.command, exec.args ?? [], {
        env,
        stdio: [isInteractive ? "inherit" : "ignore", "pipe", "inherit"],
        detached,
      });
    } catch (error) {
      reject(spawnError(error, exec, what));
      return;
    }
    const chunks: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
    const stop = () => {
      try {
        if (detached && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGTERM");
      } catch {
        // Gone already.
      }
    };
    const onAbort = () => {
      stop();
      finish(() => reject(signal?.reason));
    };
    const waiting =
      options.note &&
      setTimeout(() => {
        options.note?.(`waiting for ${what}...`);
      }, options.noteAfterMs ?? 3000);
    let done = false;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      if (waiting) clearTimeout(waiting);
      signal?.removeEventListener("abort", onAbort);
      settle();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (error) => finish(() => reject(spawnError(error, exec, what))));
    child.on("close", (code, killedBy) => {
      if (detached && child.pid !== undefined) {
        // What the plugin left running in its group ends with it.
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // Nothing left.
        }
      }
      finish(() => {
        if (code === 0) resolve(Buffer.concat(chunks).toString("utf8"));
        else
          reject(
            new ExecPluginError(
              `${what} failed (${killedBy ? `killed by ${killedBy}` : `exit code ${code}`})`,
              "what it printed above says why; run it yourself to log in, or fix the user's exec entry",
            ),
          );
      });
    });
  });
  return parseCredential(stdout, exec, what, options.now ?? Date.now);
}

function spawnError(error: unknown, exec: ExecConfig, what: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") {
    const relative = exec.command.includes("/");
    return new ExecPluginError(
      `${what} was not found${relative ? ` (${exec.command})` : " on PATH"}`,
      exec.installHint?.trim().split("\n")[0] ||
        (relative
          ? "a relative command is taken from the kubeconfig file's directory, as kubectl does"
          : "install it, or put its directory on PATH"),
    );
  }
  if (code === "EACCES") {
    return new ExecPluginError(
      `${what} cannot be run (permission denied: ${exec.command})`,
      "make it executable",
    );
  }
  return new ExecPluginError(
    `${what} could not start: ${(error as Error).message}`,
    "check the user's exec entry",
  );
}

/** The plugin's answer, checked as client-go checks it. */
export function parseCredential(
  stdout: string,
  exec: ExecConfig,
  what: string,
  now: () => number = Date.now,
): { credential: ExecCredential; expiresAt: number } {
  const bad = (why: string) =>
    new ExecPluginError(`${what} answered ${why}`, "a plugin prints one ExecCredential as JSON on stdout");
  // biome-ignore lint/suspicious/noExplicitAny: the plugin's JSON, checked field by field
  let answer: any;
  try {
    answer = JSON.parse(stdout);
  } catch {
    throw bad(stdout.trim() === "" ? "nothing" : "something that is not JSON");
  }
  if (answer?.kind !== "ExecCredential") throw bad("no ExecCredential");
  if (answer.apiVersion !== exec.apiVersion) {
    throw bad(`apiVersion ${answer.apiVersion}, while the kubeconfig asks for ${exec.apiVersion}`);
  }
  const status = answer.status;
  if (!status || typeof status !== "object") throw bad("no status");
  const token = nonEmpty(status.token);
  const cert = nonEmpty(status.clientCertificateData);
  const key = nonEmpty(status.clientKeyData);
  if (Boolean(cert) !== Boolean(key)) throw bad("a client certificate without its key, or a key without one");
  if (!token && !cert) throw bad("neither a token nor a client certificate");
  let expiresAt = Number.POSITIVE_INFINITY;
  if (status.expirationTimestamp !== undefined && status.expirationTimestamp !== null) {
    expiresAt = Date.parse(String(status.expirationTimestamp));
    if (Number.isNaN(expiresAt))
      throw bad(`an expirationTimestamp that is no time (${status.expirationTimestamp})`);
  }
  // An expired credential is still used for this request, as client-go does, and asked again next time.
  if (expiresAt <= now()) expiresAt = 0;
  return { credential: { token, cert, key }, expiresAt };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
