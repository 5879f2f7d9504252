// A client for the current context: the kubeconfig read the way kubectl reads it (kubeconfig.ts),
// its credentials (credentials.ts) and our own transport. Loaded on first use only; the
// Kubernetes client itself only for what needs it (exec plugins, auth providers, proxy-url, YAML
// beyond the common forms: kubeconfig-full.ts).

import type { Agent } from "node:http";
import type { Clock } from "../clock.js";
import { ConfigError } from "../errors.js";
import { HttpKubeClient } from "./client.js";
import { credentialSource, type HttpsOptionsOut } from "./credentials.js";
import type { KubeClient } from "./kube-client.js";
import { type ConnectionFlags, resolveConfig } from "./kubeconfig.js";
import { type TlsSettings, Transport } from "./transport.js";

export type { ConnectionFlags } from "./kubeconfig.js";
export { defaultServiceAccountDir, kubeconfigFiles, resolveConfig } from "./kubeconfig.js";

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

export const defaultRequestTimeoutMs = 30_000;

async function credentialOptions(
  source: () => Promise<HttpsOptionsOut>,
  contextName: string,
): Promise<HttpsOptionsOut> {
  try {
    return await source();
  } catch (error) {
    throw new ConfigError(
      `cannot get credentials for context "${contextName}": ${(error as Error).message.split("\n")[0]}`,
      {
        hint: "check the user entry of this context in your kubeconfig (its exec plugin or token file)",
        cause: error,
      },
    );
  }
}

export async function connect(flags: ConnectionFlags, deps: ConnectDependencies): Promise<KubeClient> {
  const { config, contextName, namespace } = await resolveConfig(flags, deps.env, deps.serviceAccountDir);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new ConfigError(`context "${contextName}" has no cluster`);
  const source = await credentialSource(config);
  const first = await credentialOptions(source, contextName);
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
    const options = pending ?? (await credentialOptions(source, contextName));
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
