// The shapes of a kubeconfig's entries, as the Kubernetes client's config_types names them, and
// of the connection options read from them: data only, shared by kubeconfig.ts, credentials.ts
// and kubeconfig-full.ts.

export interface ConnectionFlags extends ConnectionOverrides {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  requestTimeoutMs?: number | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
}

/**
 * kubectl's global flags that override the entries of the context in use (client-go's
 * ConfigOverrides): another cluster or user entry, or single fields of them.
 */
export interface ConnectionOverrides {
  /** `--cluster`: the kubeconfig cluster entry to use instead of the context's. */
  cluster?: string | undefined;
  /** `--user`: the kubeconfig user entry to use instead of the context's. */
  user?: string | undefined;
  /** `-s, --server`: the API server's URL. */
  server?: string | undefined;
  /** `--tls-server-name`: the name the server's certificate is checked against (and SNI). */
  tlsServerName?: string | undefined;
  /** `--certificate-authority`: a CA file (replaces the cluster's CA and its insecure-skip-tls-verify). */
  certificateAuthority?: string | undefined;
  /** `--token`: a bearer token (beats the user's other credentials). */
  token?: string | undefined;
  /** `--client-certificate` and `--client-key`: files of a client certificate and its key. */
  clientCertificate?: string | undefined;
  clientKey?: string | undefined;
  /** `--as`, `--as-group` (repeatable), `--as-uid`: impersonation. */
  as?: string | undefined;
  asGroups?: readonly string[] | undefined;
  asUid?: string | undefined;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** A kubeconfig cluster, as client-node's Cluster. */
export interface KubeCluster {
  name: string;
  server: string;
  caData?: string | undefined;
  caFile?: string | undefined;
  skipTLSVerify: boolean;
  tlsServerName?: string | undefined;
  proxyUrl?: string | undefined;
}

/** A kubeconfig user, as client-node's User. */
export interface KubeUser {
  name: string;
  token?: string | undefined;
  /** token-file, read when the user is used (kubectl reads it then, not on load). */
  tokenFile?: string | undefined;
  certData?: string | undefined;
  certFile?: string | undefined;
  keyData?: string | undefined;
  keyFile?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  impersonateUser?: string | undefined;
  impersonateGroups?: readonly string[] | undefined;
  impersonateUid?: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: the plugin's settings, handed to the client as they are
  exec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: the provider's settings, handed to the client as they are
  authProvider?: any;
}

/** A kubeconfig context, as client-node's Context. */
export interface KubeContext {
  name: string;
  cluster: string;
  user?: string | undefined;
  namespace?: string | undefined;
}

export interface KubeconfigEntries {
  clusters: KubeCluster[];
  users: KubeUser[];
  contexts: KubeContext[];
  currentContext: string;
}

/** The connection options of a context, as client-node's applyToHTTPSOptions fills them. */
export interface HttpsOptionsOut {
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
