// The connection options of the current context: TLS material, the Authorization header, basic
// auth and, for a proxy-url, the agent. Certificates, tokens and basic auth are read here, as
// client-node's applyToHTTPSOptions reads them; exec plugins, auth providers and proxies are
// client-node's (kubeconfig-full.ts, loaded then only).

import { readFileSync } from "node:fs";
import type { Kubeconfig } from "./kubeconfig.js";
import type { HttpsOptionsOut, KubeCluster, KubeUser } from "./kubeconfig-types.js";

export type { HttpsOptionsOut } from "./kubeconfig-types.js";

/** Whether the context needs the Kubernetes client for its credentials or its connection. */
export function needsClient(cluster: KubeCluster | undefined, user: KubeUser | undefined): boolean {
  return Boolean(user?.exec || user?.authProvider || cluster?.proxyUrl);
}

/** A function that answers the context's options; may throw (a missing file, a failing plugin). */
export async function credentialSource(config: Kubeconfig): Promise<() => Promise<HttpsOptionsOut>> {
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  if (needsClient(cluster, user)) {
    const { clientCredentials } = await import("./kubeconfig-full.js");
    return clientCredentials(config);
  }
  let options: HttpsOptionsOut | undefined;
  return async () => {
    options ??= staticOptions(cluster, user);
    return options;
  };
}

/** client-node's applyToHTTPSOptions for a user without plugin or provider, and no proxy. */
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
    if (user.token) options.headers.Authorization = `Bearer ${user.token}`;
    if (user.username) options.auth = `${user.username}:${user.password}`;
  }
  // client-node refuses plain HTTP unless TLS verification is off (its createAgent).
  if (cluster?.server.startsWith("http:") && !cluster.skipTLSVerify) {
    throw new Error("HTTP protocol is not allowed when skipTLSVerify is not set or false");
  }
  return options;
}

function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, "base64");
  return undefined;
}
