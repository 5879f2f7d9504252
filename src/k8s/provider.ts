// The lazy way in: nothing here imports the connection code (kubeconfig, credentials, transport);
// the first call loads it.

import type { ConnectDependencies, ConnectionFlags } from "./connect.js";
import type { KubeClient } from "./kube-client.js";

export type { ConnectionFlags };

/** Connects with the given flags; the real one loads the connection code on first call. */
export type KubeConnector = (flags: ConnectionFlags, deps: ConnectDependencies) => Promise<KubeClient>;

export const connectLazily: KubeConnector = async (flags, deps) => {
  const started = performance.now();
  const { connect } = await import("./connect.js");
  deps.log?.(`loaded the connection code in ${Math.round(performance.now() - started)}ms`);
  return connect(flags, deps);
};

/** One client per command run, created on first use and closed at the end. */
export class KubeProvider {
  private client: Promise<KubeClient> | undefined;

  constructor(
    private readonly connector: KubeConnector,
    private readonly flags: ConnectionFlags,
    private readonly deps: ConnectDependencies,
  ) {}

  get(): Promise<KubeClient> {
    this.client ??= this.connector(this.flags, this.deps);
    return this.client;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) (await client.catch(() => undefined))?.close();
  }
}
