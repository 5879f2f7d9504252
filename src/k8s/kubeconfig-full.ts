// What only the Kubernetes client does for a kubeconfig, loaded when a kubeconfig needs it: YAML
// beyond what kubeconfig-yaml.ts reads, and the credentials of exec plugins, auth providers (oidc,
// the service account's token file, ...) and the agent that tunnels through a proxy-url (HTTP or
// SOCKS). KubeConfig from its own module: the package's index loads every API client as well.

import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import type { HttpsOptionsOut, KubeconfigEntries } from "./kubeconfig-types.js";

/** A file read by client-node's loadFromFile (its parser, its checks, its relative paths). */
export function loadWithClient(path: string): KubeconfigEntries {
  const config = new KubeConfig();
  config.loadFromFile(path);
  return config as unknown as KubeconfigEntries;
}

/**
 * The current context's connection options from client-node (applyToHTTPSOptions), asked again at
 * each call: exec plugins and token files can rotate, and client-node caches a credential until
 * it expires.
 */
export function clientCredentials(resolved: KubeconfigEntries): () => Promise<HttpsOptionsOut> {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: resolved.clusters,
    users: resolved.users,
    contexts: resolved.contexts,
    currentContext: resolved.currentContext,
  } as never);
  return async () => {
    const options: HttpsOptionsOut = {};
    await config.applyToHTTPSOptions(options as never);
    return options;
  };
}
