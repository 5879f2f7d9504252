// A client for the current context: the kubeconfig read the way kubectl reads it, with the
// connection flags' overrides (kubeconfig.ts), its credentials (credentials.ts), the proxy
// (proxy.ts) and our own transport. Loaded on first use only; the Kubernetes client itself only
// for what needs it (auth providers, SOCKS proxies: kubeconfig-full.ts).

import { readFileSync } from "node:fs";
import type { Agent } from "node:http";
import type { Clock } from "../clock.js";
import { ConfigError } from "../errors.js";
import { HttpKubeClient } from "./client.js";
import { credentialSource, type HttpsOptionsOut } from "./credentials.js";
import { ExecPluginError } from "./exec-plugin-error.js";
import type { KubeClient } from "./kube-client.js";
import { type ConnectionFlags, resolveConfig } from "./kubeconfig.js";
import type { KubeCluster } from "./kubeconfig-types.js";
import type { ProxyChoice } from "./proxy.js";
import { definedOnly, type TlsSettings, Transport } from "./transport.js";

export type { ConnectionFlags } from "./kubeconfig.js";
export { defaultServiceAccountDir, kubeconfigFiles, resolveConfig } from "./kubeconfig.js";

export interface ConnectDependencies {
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  log?: ((line: string) => void) | undefined;
  /** kubectl's -v level: 7 also logs headers (credentials redacted), 8 bodies (transport.ts). */
  logLevel?: number | undefined;
  /** A warning the user must see (e.g. TLS verification off), on stderr. */
  warn?: ((line: string) => void) | undefined;
  /** A note for the user on stderr (what an exec plugin keeps us waiting for); none: silent. */
  note?: ((line: string) => void) | undefined;
  /** Whether an exec plugin may talk to the user on our stdin; default: when stdin is a terminal. */
  interactive?: boolean | undefined;
  userAgent: string;
  /** Aborts every request (Ctrl-C), and a running exec plugin. */
  signal?: AbortSignal | undefined;
  /** Where a pod's service account is mounted; the default is Kubernetes' own path. */
  serviceAccountDir?: string | undefined;
}

export const defaultRequestTimeoutMs = 30_000;

async function credentialOptions(
  source: () => Promise<HttpsOptionsOut>,
  contextName: string,
  signal: AbortSignal | undefined,
): Promise<HttpsOptionsOut> {
  try {
    return await source();
  } catch (error) {
    // Ctrl-C while a plugin runs is the interruption, not a credential failure.
    if (signal?.aborted && error === signal.reason) throw error;
    const reason = (error as Error).message.split("\n")[0];
    throw new ConfigError(`cannot get credentials for context "${contextName}": ${reason}`, {
      hint:
        error instanceof ExecPluginError
          ? error.hint
          : "check the user entry of this context in your kubeconfig (its exec plugin or token file)",
      cause: error,
    });
  }
}

/** The cluster's TLS settings: its CA, server name and verification. */
function clusterTls(cluster: KubeCluster): TlsSettings {
  const ca = cluster.caFile
    ? readCa(cluster.caFile, cluster.name)
    : cluster.caData
      ? Buffer.from(cluster.caData, "base64")
      : undefined;
  return {
    ca,
    rejectUnauthorized: cluster.skipTLSVerify ? false : undefined,
    servername: cluster.tlsServerName,
  };
}

function readCa(file: string, cluster: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(
      `cannot read the certificate-authority of cluster "${cluster}": ${(error as Error).message.split("\n")[0]}`,
      {
        hint: "fix the cluster's certificate-authority entry, or pass --certificate-authority FILE",
        cause: error,
      },
    );
  }
}

/** The environment variables a proxy can come from (proxy.ts reads them as Go's httpproxy does). */
const proxyVariables = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];

/**
 * The proxy of this cluster: its proxy-url, else the environment's (kubectl's order). The proxy
 * code (proxy.ts) loads only when there is a proxy-url or a proxy variable.
 */
async function chooseProxy(
  cluster: KubeCluster,
  env: ConnectDependencies["env"],
): Promise<{ proxy: ProxyChoice; agent: typeof import("./proxy.js").proxyAgent } | undefined> {
  if (!cluster.proxyUrl && !proxyVariables.some((name) => env[name])) return undefined;
  const { parseProxyUrl, proxyAgent, proxyFromEnvironment } = await import("./proxy.js");
  const from = `the proxy-url of cluster "${cluster.name}"`;
  let proxy: ProxyChoice | undefined;
  try {
    proxy = cluster.proxyUrl
      ? { url: parseProxyUrl(cluster.proxyUrl, from), from }
      : proxyFromEnvironment(new URL(cluster.server), env);
  } catch (error) {
    throw new ConfigError((error as Error).message, {
      hint: cluster.proxyUrl
        ? "fix the cluster's proxy-url in the kubeconfig"
        : "fix the proxy variable, or unset it (NO_PROXY names hosts to reach directly)",
    });
  }
  return proxy && { proxy, agent: proxyAgent };
}

export async function connect(flags: ConnectionFlags, deps: ConnectDependencies): Promise<KubeClient> {
  const { contextName, namespace, cluster, user } = await resolveConfig(
    flags,
    deps.env,
    deps.serviceAccountDir,
  );
  const source = await credentialSource(cluster, user, {
    context: contextName,
    env: deps.env,
    signal: deps.signal,
    stdinIsTerminal: deps.interactive === false ? false : undefined,
    note: deps.note,
  });
  const first = await credentialOptions(source, contextName, deps.signal);
  const tls: TlsSettings = { ...clusterTls(cluster), cert: first.cert, key: first.key };
  if (flags.insecureSkipTlsVerify) tls.rejectUnauthorized = false;
  const secure = cluster.server.startsWith("https:");
  if (secure && tls.rejectUnauthorized === false) {
    const why = flags.insecureSkipTlsVerify
      ? "--insecure-skip-tls-verify"
      : `insecure-skip-tls-verify in the kubeconfig's cluster "${cluster.name}"`;
    deps.warn?.(
      `the API server's certificate is not verified (${why}); the connection can be read and changed`,
    );
  }
  const chosen = await chooseProxy(cluster, deps.env);
  let agent: Agent | undefined;
  if (chosen) {
    const { proxy, agent: proxyAgent } = chosen;
    deps.log?.(`sending through the proxy ${proxy.url.host} (${proxy.from})`);
    if (proxy.url.protocol.startsWith("socks")) {
      const { socksAgent } = await import("./kubeconfig-full.js");
      agent = (await socksAgent({
        ...cluster,
        proxyUrl: proxy.url.href,
        skipTLSVerify: tls.rejectUnauthorized === false,
      })) as Agent;
    } else {
      try {
        agent = proxyAgent(new URL(cluster.server), proxy.url, definedOnly(tls));
      } catch (error) {
        throw new ConfigError((error as Error).message, {
          hint: `run kvmig with a newer Node.js, or reach the server directly (NO_PROXY=${new URL(cluster.server).hostname})`,
        });
      }
    }
  }
  let pending: HttpsOptionsOut | undefined = first;
  const authHeaders = async (): Promise<Record<string, string | string[]>> => {
    // Token files rotate and plugin credentials expire: ask again for every request after the
    // first (a plugin's credential is kept until it expires: exec-credential.ts).
    const options = pending ?? (await credentialOptions(source, contextName, deps.signal));
    pending = undefined;
    return Object.fromEntries(
      Object.entries(options.headers ?? {}).map(([k, v]) => [
        k,
        Array.isArray(v) ? v.map(String) : String(v),
      ]),
    );
  };
  const transport = new Transport({
    server: cluster.server,
    context: contextName,
    tls,
    authHeaders,
    refused: source.refused,
    basicAuth: first.auth,
    agent,
    requestTimeoutMs: flags.requestTimeoutMs ?? defaultRequestTimeoutMs,
    log: deps.log,
    logLevel: deps.logLevel,
    userAgent: deps.userAgent,
    signal: deps.signal,
  });
  return new HttpKubeClient(transport, { namespace, clock: deps.clock, log: deps.log });
}
