// Stands in for what @kubernetes/client-node's KubeConfig (dist/config.js) imports for API
// clients and fetch, which kvmig does not use: it reads kubeconfig files with KubeConfig and
// gets credentials and the proxy agent from applyToHTTPSOptions, then talks HTTP itself
// (src/k8s/transport.ts). undici (the fetch dispatcher, with its WebAssembly parser) and the
// generated API client (./gen/index.js) are most of the 1.4 MiB the client would load and run.
function unused(name) {
  return class {
    constructor() {
      throw new Error(`kvmig does not use @kubernetes/client-node's ${name}`);
    }
  };
}
export const Agent = unused("undici Agent");
export const ProxyAgent = unused("undici ProxyAgent");
export const ServerConfiguration = unused("ServerConfiguration");
export function createConfiguration() {
  throw new Error("kvmig does not use @kubernetes/client-node's API clients");
}
