// The credentials of the user in use, as kubectl sends them: a client certificate, a bearer token
// (or token-file, re-read as it rotates), basic auth, impersonation headers, an exec plugin's
// credential (exec-credential.ts, our own runner), or an auth provider's (client-node's, loaded
// for it alone: kubeconfig-full.ts). A plain http:// server gets none of them, as client-go reads
// a user's credentials only for a TLS connection.

import { readFileSync } from "node:fs";
import type { ExecConfig, ExecCredential } from "./exec-credential.js";
import type { Environment, HttpsOptionsOut, KubeCluster, KubeUser } from "./kubeconfig-types.js";

export type { HttpsOptionsOut } from "./kubeconfig-types.js";

/** Whether the user needs the Kubernetes client for its credentials (an auth provider). */
export function needsClient(cluster: KubeCluster | undefined, user: KubeUser | undefined): boolean {
  return Boolean(user?.authProvider) && !cluster?.server.startsWith("http:");
}

export interface CredentialOptions {
  context: string;
  env: Environment;
  signal?: AbortSignal | undefined;
  /** Whether an exec plugin may use our stdin; default: when it is a terminal. */
  stdinIsTerminal?: boolean | undefined;
  /** A line for the user while an exec plugin keeps us waiting. */
  note?: ((line: string) => void) | undefined;
}

/**
 * A function that answers the user's options for each request; may throw (a missing file, a
 * failing plugin). Its `refused` says what a 401 to a bearer token means: whether another try
 * may carry a newer credential (an exec plugin's, run again, or a rotated token file's).
 */
export type CredentialSource = (() => Promise<HttpsOptionsOut>) & {
  refused?: ((authorization: string | undefined) => boolean) | undefined;
};

export async function credentialSource(
  cluster: KubeCluster,
  user: KubeUser | undefined,
  options: CredentialOptions,
): Promise<CredentialSource> {
  // client-go reads the user's credentials (and impersonation) only for a TLS connection.
  if (!user || cluster.server.startsWith("http:")) return async () => ({});
  const hasToken = Boolean(user.token || user.tokenFile);
  const hasBasic = Boolean(user.username || user.password);
  const hasCert = Boolean(user.certFile || user.certData);
  let dynamic: (() => Promise<HttpsOptionsOut>) | undefined;
  let refused: CredentialSource["refused"];
  if (user.authProvider) {
    const { authProviderCredentials } = await import("./kubeconfig-full.js");
    dynamic = authProviderCredentials(cluster, user);
  } else if (user.exec && !hasToken && !hasBasic && !hasCert) {
    // A token, basic auth or a certificate of the user (--token...) beats the plugin (client-go).
    // The plugin runner loads for an exec user only.
    const { execCredentialSource } = await import("./exec-credential.js");
    const exec = execCredentialSource(user.exec as ExecConfig, {
      user: user.name,
      context: options.context,
      cluster,
      env: options.env,
      signal: options.signal,
      stdinIsTerminal: options.stdinIsTerminal,
      note: options.note,
    });
    dynamic = async () => execOptions(await exec());
    // Always worth another try: it goes with a newer credential, or the plugin's next answer.
    refused = (authorization) => {
      exec.refused(bearerToken(authorization));
      return true;
    };
  } else if (user.tokenFile && !user.token) {
    // The file may have rotated since the request was sent: worth a try if it holds another token.
    refused = (authorization) => {
      const token = readTokenFile(user.tokenFile ?? "");
      return token !== undefined && token !== bearerToken(authorization);
    };
  }
  // Files are read on the first request (a missing one is then a credential error, one line).
  let fixed: HttpsOptionsOut | undefined;
  const source = async () => {
    fixed ??= staticOptions(cluster, user);
    const options: HttpsOptionsOut = { ...fixed, headers: { ...fixed.headers } };
    if (user.tokenFile && !user.token && options.headers) {
      options.headers.Authorization = `Bearer ${readFileSync(user.tokenFile, "utf8").trim()}`;
    }
    if (dynamic) {
      const more = await dynamic();
      return { ...options, ...more, headers: { ...options.headers, ...more.headers } };
    }
    return options;
  };
  return Object.assign(source, { refused });
}

function bearerToken(authorization: string | undefined): string | undefined {
  return authorization?.startsWith("Bearer ") ? authorization.slice("Bearer ".length) : undefined;
}

function readTokenFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

function execOptions(credential: ExecCredential): HttpsOptionsOut {
  const options: HttpsOptionsOut = { headers: {} };
  if (credential.token && options.headers) options.headers.Authorization = `Bearer ${credential.token}`;
  if (credential.cert) options.cert = credential.cert;
  if (credential.key) options.key = credential.key;
  return options;
}

/** client-node's applyToHTTPSOptions for the user's own fields (no plugin or provider, no proxy). */
export function staticOptions(cluster: KubeCluster | undefined, user: KubeUser | undefined): HttpsOptionsOut {
  const options: HttpsOptionsOut = {};
  if (user) {
    if (cluster?.skipTLSVerify) options.rejectUnauthorized = false;
    if (cluster?.tlsServerName) options.servername = cluster.tlsServerName;
    const ca = cluster && fileOrData(cluster.caFile, cluster.caData);
    if (ca) options.ca = ca;
    const cert = fileOrData(user.certFile, user.certData);
    if (cert) options.cert = cert;
    const key = fileOrData(user.keyFile, user.keyData);
    if (key) options.key = key;
    options.headers = {};
    if (user.impersonateUser != null) options.headers["Impersonate-User"] = user.impersonateUser;
    if (user.impersonateGroups?.length) options.headers["Impersonate-Group"] = [...user.impersonateGroups];
    if (user.impersonateUid) options.headers["Impersonate-Uid"] = user.impersonateUid;
    if (user.token) options.headers.Authorization = `Bearer ${user.token}`;
    if (user.username) options.auth = `${user.username}:${user.password}`;
  }
  return options;
}

function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, "base64");
  return undefined;
}
