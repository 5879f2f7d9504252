// Kubeconfig files read the way kubectl reads them: which files apply (KUBECONFIG with several
// files, --kubeconfig, in-cluster), how they merge, which context and namespace win. The entries
// have the Kubernetes client's shapes (client-node's config_types), read by our own code: a file
// whose YAML kubeconfig-yaml.ts reads needs nothing of the client; any other is read by the
// client's KubeConfig.loadFromFile, loaded for it alone (kubeconfig-full.ts).

import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { ConfigError, UsageError } from "../errors.js";
import { commandLine } from "../util/shell.js";
import type {
  ConnectionFlags,
  Environment,
  KubeCluster,
  KubeContext,
  KubeconfigEntries,
  KubeUser,
} from "./kubeconfig-types.js";
import { parseKubeconfigYaml } from "./kubeconfig-yaml.js";

export type {
  ConnectionFlags,
  Environment,
  KubeCluster,
  KubeContext,
  KubeconfigEntries,
  KubeUser,
} from "./kubeconfig-types.js";

/** The merged kubeconfig with its current context set. */
export class Kubeconfig implements KubeconfigEntries {
  constructor(
    readonly clusters: KubeCluster[],
    readonly users: KubeUser[],
    readonly contexts: KubeContext[],
    public currentContext: string,
  ) {}

  getContextObject(name: string): KubeContext | undefined {
    return this.contexts.find((c) => c.name === name);
  }

  getCurrentCluster(): KubeCluster | undefined {
    const context = this.getContextObject(this.currentContext);
    return context && this.clusters.find((c) => c.name === context.cluster);
  }

  getCurrentUser(): KubeUser | undefined {
    const context = this.getContextObject(this.currentContext);
    return context && this.users.find((u) => u.name === context.user);
  }
}

export const defaultServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

const howToPoint =
  "point kvmig at a cluster with --kubeconfig PATH or the KUBECONFIG environment variable, or create ~/.kube/config (kubectl config view shows what kubectl uses)";

/** Which kubeconfig files apply, in kubectl's order of precedence. */
export function kubeconfigFiles(flags: ConnectionFlags, env: Environment): string[] {
  if (flags.kubeconfig) return [flags.kubeconfig];
  const fromEnv = (env.KUBECONFIG ?? "").split(delimiter).filter((f) => f !== "");
  if (fromEnv.length > 0) return fromEnv;
  const home = env.HOME ?? homedir();
  return [join(home, ".kube", "config")];
}

async function loadFile(path: string): Promise<KubeconfigEntries> {
  try {
    const text = readFileSync(path, "utf8");
    // kubectl reads an empty file as an empty config, so KUBECONFIG=real:empty still works.
    if (text.trim() === "") return { clusters: [], users: [], contexts: [], currentContext: "" };
    const document = parseKubeconfigYaml(text);
    if (document !== undefined) return entriesOf(document, dirname(path));
    const { loadWithClient } = await import("./kubeconfig-full.js");
    return loadWithClient(path);
  } catch (error) {
    throw new ConfigError(`cannot read kubeconfig ${path}: ${(error as Error).message.split("\n")[0]}`, {
      hint: `fix the file (${commandLine(["kubectl", "config", "view", "--kubeconfig", path])} shows how kubectl reads it), or pass another with --kubeconfig`,
      cause: error,
    });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a parsed document, read field by field as client-node does
type Loose = any;

/**
 * The entries of a parsed kubeconfig as client-node's loadFromFile makes them (config_types.js:
 * the same required fields and messages; token-file read now; relative certificate paths taken
 * from the file's directory).
 */
export function entriesOf(document: Loose, directory: string): KubeconfigEntries {
  const list = (value: Loose): Loose[] => (Array.isArray(value) ? value : []);
  const clusters = list(document.clusters).map((entry, i): KubeCluster => {
    if (!entry.name) throw new Error(`clusters[${i}].name is missing`);
    if (!entry.cluster) throw new Error(`clusters[${i}].cluster is missing`);
    if (!entry.cluster.server) throw new Error(`clusters[${i}].cluster.server is missing`);
    const c = entry.cluster;
    return {
      caData: c["certificate-authority-data"],
      caFile: c["certificate-authority"] && absolute(directory, c["certificate-authority"]),
      name: entry.name,
      server: c.server.replace(/\/$/, ""),
      skipTLSVerify: c["insecure-skip-tls-verify"] === true,
      tlsServerName: c["tls-server-name"],
      proxyUrl: c["proxy-url"],
    };
  });
  const users = list(document.users).map((entry, i): KubeUser => {
    if (!entry.name) throw new Error(`users[${i}].name is missing`);
    const u = entry.user;
    return {
      authProvider: u ? u["auth-provider"] : null,
      certData: u ? u["client-certificate-data"] : null,
      certFile: u?.["client-certificate"] ? absolute(directory, u["client-certificate"]) : undefined,
      exec: u ? u.exec : null,
      keyData: u ? u["client-key-data"] : null,
      keyFile: u?.["client-key"] ? absolute(directory, u["client-key"]) : undefined,
      name: entry.name,
      token: u?.token ? u.token : u?.["token-file"] ? readFileSync(u["token-file"]).toString() : undefined,
      password: u ? u.password : null,
      username: u ? u.username : null,
      impersonateUser: u ? u.as : null,
    };
  });
  const contexts = list(document.contexts).map((entry, i): KubeContext => {
    if (!entry.name) throw new Error(`contexts[${i}].name is missing`);
    if (!entry.context) throw new Error(`contexts[${i}].context is missing`);
    if (!entry.context.cluster) throw new Error(`contexts[${i}].context.cluster is missing`);
    return {
      cluster: entry.context.cluster,
      name: entry.name,
      user: entry.context.user || undefined,
      namespace: entry.context.namespace || undefined,
    };
  });
  return { clusters, users, contexts, currentContext: document["current-context"] };
}

function absolute(directory: string, file: string): string {
  return !directory || isAbsolute(file) ? file : join(directory, file);
}

/** Merges files as kubectl does: the first file to define a name wins, and the first current-context. */
async function mergeFiles(paths: string[], explicit: boolean): Promise<Kubeconfig | undefined> {
  const clusters: KubeCluster[] = [];
  const users: KubeUser[] = [];
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
    const config = await loadFile(path);
    const add = <T extends { name: string }>(into: T[], items: T[] | undefined) => {
      for (const item of items ?? []) if (!into.some((i) => i.name === item.name)) into.push(item);
    };
    add(clusters, config.clusters);
    add(users, config.users);
    add(contexts, config.contexts);
    if (!currentContext && config.currentContext) currentContext = config.currentContext;
  }
  if (found === 0) return undefined;
  return new Kubeconfig(clusters, users, contexts, currentContext);
}

/**
 * The service account a pod runs as, the way client-go's rest.InClusterConfig finds it:
 * KUBERNETES_SERVICE_HOST/PORT, and the token, CA and namespace files mounted in the pod.
 * The token is re-read as it rotates (client-node's tokenFile provider).
 */
function inClusterConfig(env: Environment, dir: string): Kubeconfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(dir, "token");
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const name = "in-cluster";
  return new Kubeconfig(
    [
      {
        name,
        server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
        caFile: join(dir, "ca.crt"),
        skipTLSVerify: false,
      },
    ],
    [{ name, authProvider: { name: "tokenFile", config: { tokenFile } } }],
    [{ name, cluster: name, user: name, namespace: readFileOr(join(dir, "namespace"), "default") }],
    name,
  );
}

export interface ResolvedConfig {
  config: Kubeconfig;
  contextName: string;
  namespace: string;
}

export async function resolveConfig(
  flags: ConnectionFlags,
  env: Environment,
  serviceAccountDir = defaultServiceAccountDir,
): Promise<ResolvedConfig> {
  const files = kubeconfigFiles(flags, env);
  const explicit = Boolean(flags.kubeconfig);
  const merged = (await mergeFiles(files, explicit)) ?? inClusterConfig(env, serviceAccountDir);
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
  merged.currentContext = contextName;
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

function contextNames(config: Kubeconfig): string {
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
