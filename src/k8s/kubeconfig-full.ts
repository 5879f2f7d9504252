// What only the Kubernetes client does for a kubeconfig, loaded when a context needs it: the
// credentials of auth providers (oidc, the service account's token file, ...) and the agent that
// tunnels through a SOCKS proxy. KubeConfig from its own module: the package's index loads every
// API client as well. Exec plugins, HTTP(S) proxies and the kubeconfig's YAML are our own
// (exec-credential.ts, proxy.ts, kubeconfig.ts).

import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import type { HttpsOptionsOut, KubeCluster, KubeUser } from "./kubeconfig-types.js";

function configOf(cluster: KubeCluster, user: KubeUser | undefined): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: user ? [user] : [],
    contexts: [{ name: "in-use", cluster: cluster.name, user: user?.name }],
    currentContext: "in-use",
  } as never);
  return config;
}

/**
 * The auth provider's connection options from client-node (applyToHTTPSOptions), asked again at
 * each call: a provider's token can rotate, and client-node caches it until it expires.
 */
export function authProviderCredentials(
  cluster: KubeCluster,
  user: KubeUser,
): () => Promise<HttpsOptionsOut> {
  const config = configOf(cluster, user);
  return async () => {
    const options: HttpsOptionsOut = {};
    await config.applyToHTTPSOptions(options as never);
    return options;
  };
}

/** client-node's agent through a SOCKS proxy, with the cluster's TLS settings. */
export async function socksAgent(cluster: KubeCluster): Promise<unknown> {
  const options: HttpsOptionsOut = {};
  await configOf(cluster, undefined).applyToHTTPSOptions(options as never);
  return options.agent;
}
