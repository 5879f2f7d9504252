// The one module that imports @kubernetes/client-node: it reads kubeconfig files the way kubectl
// does (KUBECONFIG with several files, --kubeconfig, --context, in-cluster, exec plugins) and
// hands the connection settings to our own transport. Loaded on first use only.

import { existsSync, readFileSync } from "node:fs";
import type { Agent } from "node:http";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
// KubeConfig from its own module: the package's index loads every API client as well (1.4 MiB).
import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import type { Cluster, Context as KubeContext, User } from "@kubernetes/client-node/dist/config_types.js";
import type { Clock } from "../clock.js";
import { ConfigError, UsageError } from "../errors.js";
import { commandLine } from "../util/shell.js";
import { HttpKubeClient } from "./client.js";
import type { KubeClient } from "./kube-client.js";
import { type TlsSettings, Transport } from "./transport.js";

export interface ConnectionFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  requestTimeoutMs?: number | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
}

export interface ConnectDependencies {
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  log?: ((line: string) => void) | undefined;
  /** A warning the user must see (e.g. TLS verification off), on stderr. */
  warn?: ((line: string) => void) | undefined;
  userAgent: string;
  /** Aborts every request (Ctrl-C). */
  signal?: AbortSignal | undefined;
  /** Where a pod's service account is mounted; the default is Kubernetes' own path. */
  serviceAccountDir?: string | undefined;
}

export const defaultServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
export const defaultRequestTimeoutMs = 30_000;

const howToPoint =
  "point kvmig at a cluster with --kubeconfig PATH or the KUBECONFIG environment variable, or create ~/.kube/config (kubectl config view shows what kubectl uses)";

/** Which kubeconfig files apply, in kubectl's order of precedence. */
export function kubeconfigFiles(flags: ConnectionFlags, env: ConnectDependencies["env"]): string[] {
  if (flags.kubeconfig) return [flags.kubeconfig];
  const fromEnv = (env.KUBECONFIG ?? "").split(delimiter).filter((f) => f !== "");
  if (fromEnv.length > 0) return fromEnv;
  const home = env.HOME ?? homedir();
  return [join(home, ".kube", "config")];
}

function loadFile(path: string): KubeConfig {
  const config = new KubeConfig();
  try {
    // kubectl reads an empty file as an empty config, so KUBECONFIG=real:empty still works.
    if (readFileSync(path, "utf8").trim() === "") {
      config.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: "" });
      return config;
    }
    config.loadFromFile(path);
  } catch (error) {
    throw new ConfigError(`cannot read kubeconfig ${path}: ${(error as Error).message.split("\n")[0]}`, {
      hint: `fix the file (${commandLine(["kubectl", "config", "view", "--kubeconfig", path])} shows how kubectl reads it), or pass another with --kubeconfig`,
      cause: error,
    });
  }
  return config;
}

/** Merges files as kubectl does: the first file to define a name wins, and the first current-context. */
function mergeFiles(paths: string[], explicit: boolean): KubeConfig | undefined {
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: KubeContext[] = [];
  let currentContext = "";
  let found = 0;
  for (const path of paths) {
    if (!existsSync(path)) {
      // A path given with --kubeconfig is a bad flag value (exit 2), as kubectl treats it.
      if (explicit) {
        throw new UsageError(`--kubeconfig ${path} does not exist`, { hint: howToPoint });
      }
      continue;
    }
    found += 1;
    const config = loadFile(path);
    const add = <T extends { name: string }>(into: T[], items: T[] | undefined) => {
      for (const item of items ?? []) if (!into.some((i) => i.name === item.name)) into.push(item);
    };
    add(clusters, config.clusters);
    add(users, config.users);
    add(contexts, config.contexts);
    if (!currentContext && config.currentContext) currentContext = config.currentContext;
  }
  if (found === 0) return undefined;
  const merged = new KubeConfig();
  merged.loadFromOptions({ clusters, users, contexts, currentContext });
  return merged;
}

/**
 * The service account a pod runs as, the way client-go's rest.InClusterConfig finds it:
 * KUBERNETES_SERVICE_HOST/PORT, and the token, CA and namespace files mounted in the pod.
 * The token is re-read as it rotates (client-node's tokenFile provider).
 */
function inClusterConfig(env: ConnectDependencies["env"], dir: string): KubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(dir, "token");
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const name = "in-cluster";
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      { name, server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`, caFile: join(dir, "ca.crt") },
    ],
    users: [{ name, authProvider: { name: "tokenFile", config: { tokenFile } } }],
    contexts: [{ name, cluster: name, user: name, namespace: readFileOr(join(dir, "namespace"), "default") }],
    currentContext: name,
  });
  return config;
}

interface Resolved {
  config: KubeConfig;
  contextName: string;
  namespace: string;
}

export function resolveConfig(
  flags: ConnectionFlags,
  env: ConnectDependencies["env"],
  serviceAccountDir = defaultServiceAccountDir,
): Resolved {
  const files = kubeconfigFiles(flags, env);
  const explicit = Boolean(flags.kubeconfig);
  const merged = mergeFiles(files, explicit) ?? inClusterConfig(env, serviceAccountDir);
  if (merged === undefined) {
    // KUBECONFIG naming only missing files is the same fault as --kubeconfig naming one: a bad
    // value the user gave (exit 2); no kubeconfig in the default place is not.
    if (env.KUBECONFIG)
      throw new UsageError(`no kubeconfig found: KUBECONFIG names ${files.join(", ")}, and none exists`, {
        hint: howToPoint,
      });
    throw new ConfigError(`no kubeconfig found: ${files[0]} does not exist`, { hint: howToPoint });
  }

  const contextName = flags.context ?? merged.currentContext;
  if (!contextName) {
    throw new ConfigError("the kubeconfig has no current context", {
      hint: `pass --context NAME (one of: ${contextNames(merged)}) or set one with: ${commandLine(["kubectl", "config", "use-context", "NAME"])}`,
    });
  }
  const context = merged.getContextObject(contextName);
  if (!context) {
    const message = `context "${contextName}" is not in the kubeconfig`;
    const hint = `the contexts are: ${contextNames(merged)}`;
    // Named with --context: a bad flag value; named by current-context: a broken kubeconfig.
    throw flags.context ? new UsageError(message, { hint }) : new ConfigError(message, { hint });
  }
  merged.setCurrentContext(contextName);
  if (!merged.getCurrentCluster()) {
    throw new ConfigError(
      `context "${contextName}" names cluster "${context.cluster}", which the kubeconfig does not define`,
      {
        hint: `fix the kubeconfig: ${commandLine(["kubectl", "config", "view"])} shows its clusters`,
      },
    );
  }
  return { config: merged, contextName, namespace: flags.namespace ?? context.namespace ?? "default" };
}

function contextNames(config: KubeConfig): string {
  const names = config.contexts.map((c) => c.name);
  return names.length > 0 ? names.join(", ") : "(none)";
}

function readFileOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8").trim() || fallback;
  } catch {
    return fallback;
  }
}

interface HttpsOptionsOut {
  agent?: unknown;
  headers?: Record<string, string | number | string[]>;
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  pfx?: Buffer | string;
  passphrase?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
  auth?: string;
}

async function credentialOptions(config: KubeConfig, contextName: string): Promise<HttpsOptionsOut> {
  const options: HttpsOptionsOut = {};
  try {
    await config.applyToHTTPSOptions(options as never);
  } catch (error) {
    throw new ConfigError(
      `cannot get credentials for context "${contextName}": ${(error as Error).message.split("\n")[0]}`,
      {
        hint: "check the user entry of this context in your kubeconfig (its exec plugin or token file)",
        cause: error,
      },
    );
  }
  return options;
}

export async function connect(flags: ConnectionFlags, deps: ConnectDependencies): Promise<KubeClient> {
  const { config, contextName, namespace } = resolveConfig(flags, deps.env, deps.serviceAccountDir);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new ConfigError(`context "${contextName}" has no cluster`);
  const first = await credentialOptions(config, contextName);
  const tls: TlsSettings = {
    ca: first.ca,
    cert: first.cert,
    key: first.key,
    pfx: first.pfx,
    passphrase: first.passphrase,
    rejectUnauthorized:
      flags.insecureSkipTlsVerify || cluster.skipTLSVerify ? false : first.rejectUnauthorized,
    servername: first.servername ?? cluster.tlsServerName,
  };
  if (flags.insecureSkipTlsVerify || cluster.skipTLSVerify) {
    const why = flags.insecureSkipTlsVerify
      ? "--insecure-skip-tls-verify"
      : `insecure-skip-tls-verify in the kubeconfig's cluster "${cluster.name}"`;
    deps.warn?.(
      `the API server's certificate is not verified (${why}); the connection can be read and changed`,
    );
  }
  let pending: HttpsOptionsOut | undefined = first;
  const authHeaders = async (): Promise<Record<string, string>> => {
    // Exec plugins and token files can rotate: ask the kubeconfig again for every request
    // after the first (client-node caches a credential until it expires).
    const options = pending ?? (await credentialOptions(config, contextName));
    pending = undefined;
    return Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k, String(v)]));
  };
  const transport = new Transport({
    server: cluster.server,
    context: contextName,
    tls,
    authHeaders,
    basicAuth: first.auth,
    // client-node builds the agent that tunnels through a kubeconfig proxy-url (HTTP or SOCKS).
    agent: cluster.proxyUrl ? (first.agent as Agent) : undefined,
    requestTimeoutMs: flags.requestTimeoutMs ?? defaultRequestTimeoutMs,
    log: deps.log,
    userAgent: deps.userAgent,
    signal: deps.signal,
  });
  return new HttpKubeClient(transport, { namespace, clock: deps.clock, log: deps.log });
}
