// Kubeconfig files read the way kubectl reads them: which files apply (KUBECONFIG with several
// files, --kubeconfig, in-cluster), how they merge, which context and namespace win. The entries
// have the Kubernetes client's shapes (client-node's config_types), read by our own code: a file
// whose YAML kubeconfig-yaml.ts reads needs no YAML library; any other is read by the yaml
// package, loaded for it alone (loadFile).

import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
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
    let document = parseKubeconfigYaml(text);
    if (document === undefined) {
      // The default export: the bundle loads yaml as CommonJS, whose named exports import() lacks.
      const { default: YAML } = await import("yaml");
      // As client-go reads it (sigs.k8s.io/yaml over go-yaml): YAML 1.1 (merge keys, yes/no) and
      // the first document of a stream, the others ignored.
      const [first] = YAML.parseAllDocuments(text, { version: "1.1" });
      if (first === undefined || !("toJS" in first)) throw new Error("it holds no YAML document");
      const [error] = first.errors;
      if (error) throw error;
      document = first.toJS();
    }
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
      throw new Error("it is not a kubeconfig (a YAML mapping)");
    }
    return entriesOf(document, path);
  } catch (error) {
    throw new ConfigError(`cannot read kubeconfig ${path}: ${(error as Error).message.split("\n")[0]}`, {
      hint: `fix the file (${commandLine(["kubectl", "config", "view", "--kubeconfig", path])} shows how kubectl reads it), or pass another with --kubeconfig`,
      cause: error,
    });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a parsed document, read field by field as client-go does
type Loose = any;

/**
 * The entries of a parsed kubeconfig as kubectl (client-go's clientcmd) reads them: nothing is
 * checked here, since kubectl checks only the entries the context in use needs (resolveConfig);
 * an entry without a name is left out; relative file paths (certificates, token-file, and an exec
 * plugin's command when it has a slash) are taken from the file's directory, as ResolveLocalPaths
 * does; token-file is read when the user is used.
 */
export function entriesOf(document: Loose, path: string): KubeconfigEntries {
  const directory = path === "" ? "" : dirname(path);
  const list = (value: Loose): Loose[] =>
    (Array.isArray(value) ? value : []).filter((e) => e && typeof e === "object" && isText(e.name));
  const field = (value: Loose): Loose => (value && typeof value === "object" ? value : {});
  const text = (value: Loose): string | undefined => (isText(value) ? value : undefined);
  const file = (value: Loose): string | undefined => (isText(value) ? absolute(directory, value) : undefined);
  const clusters = list(document.clusters).map((entry): KubeCluster => {
    const c = field(entry.cluster);
    return {
      caData: text(c["certificate-authority-data"]),
      caFile: file(c["certificate-authority"]),
      name: entry.name,
      server: (text(c.server) ?? "").replace(/\/$/, ""),
      skipTLSVerify: c["insecure-skip-tls-verify"] === true,
      tlsServerName: text(c["tls-server-name"]),
      proxyUrl: text(c["proxy-url"]),
    };
  });
  const users = list(document.users).map((entry): KubeUser => {
    const u = field(entry.user);
    const exec = u.exec && typeof u.exec === "object" ? { ...u.exec } : undefined;
    // client-go resolves a command with a path separator against the file's directory; a bare
    // name is looked up on PATH when the plugin runs.
    if (exec && isText(exec.command) && exec.command.includes("/")) {
      exec.writtenCommand = exec.command;
      exec.command = absolute(directory, exec.command);
    }
    return {
      authProvider: u["auth-provider"] ?? undefined,
      certData: text(u["client-certificate-data"]),
      certFile: file(u["client-certificate"]),
      exec,
      keyData: text(u["client-key-data"]),
      keyFile: file(u["client-key"]),
      name: entry.name,
      token: text(u.token),
      tokenFile: file(u["token-file"]),
      password: text(u.password),
      username: text(u.username),
      impersonateUser: text(u.as),
      impersonateGroups: Array.isArray(u["as-groups"]) ? u["as-groups"].filter(isText) : undefined,
      impersonateUid: text(u["as-uid"]),
    };
  });
  const contexts = list(document.contexts).map((entry): KubeContext => {
    const c = field(entry.context);
    return {
      cluster: text(c.cluster) ?? "",
      name: entry.name,
      user: text(c.user) || undefined,
      namespace: text(c.namespace) || undefined,
    };
  });
  return { clusters, users, contexts, currentContext: text(document["current-context"]) ?? "" };
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value !== "";
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
 * The token file is re-read for each request, as the kubelet rotates it.
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
    [{ name, tokenFile }],
    [{ name, cluster: name, user: name, namespace: readFileOr(join(dir, "namespace"), "default") }],
    name,
  );
}

export interface ResolvedConfig {
  config: Kubeconfig;
  contextName: string;
  namespace: string;
  /** The cluster to reach: the context's entry (or --cluster's) with the flags' overrides. */
  cluster: KubeCluster;
  /** The user to be: the context's entry (or --user's) with the flags' overrides; none: anonymous. */
  user: KubeUser | undefined;
}

export async function resolveConfig(
  flags: ConnectionFlags,
  env: Environment,
  serviceAccountDir = defaultServiceAccountDir,
  cwd = process.cwd(),
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
      hint: `pass --context NAME (one of: ${names(merged.contexts)}) or set one with: ${commandLine(["kubectl", "config", "use-context", "NAME"])}`,
    });
  }
  const context = merged.getContextObject(contextName);
  if (!context) {
    const message = `context "${contextName}" is not in the kubeconfig`;
    const hint = `the contexts are: ${names(merged.contexts)}`;
    // Named with --context: a bad flag value; named by current-context: a broken kubeconfig.
    throw flags.context ? new UsageError(message, { hint }) : new ConfigError(message, { hint });
  }
  merged.currentContext = contextName;
  const cluster = effectiveCluster(merged, context, flags, cwd);
  const user = effectiveUser(merged, context, flags, cwd);
  return {
    config: merged,
    contextName,
    namespace: flags.namespace ?? context.namespace ?? "default",
    cluster,
    user,
  };
}

/**
 * The cluster entry the context names (or --cluster), with the flags' overrides applied as
 * client-go's DirectClientConfig.getCluster does, checked as its ConfirmUsable checks it: only
 * this entry, so a broken entry no context in use names does not matter.
 */
function effectiveCluster(config: Kubeconfig, context: KubeContext, flags: ConnectionFlags, cwd: string) {
  const name = flags.cluster ?? context.cluster;
  const entry = config.clusters.find((c) => c.name === name);
  if (flags.cluster !== undefined && entry === undefined) {
    throw new UsageError(`cluster "${flags.cluster}" is not in the kubeconfig`, {
      hint: `the clusters are: ${names(config.clusters)}`,
    });
  }
  const cluster: KubeCluster = { ...(entry ?? { name, server: "", skipTLSVerify: false }) };
  if (flags.server) cluster.server = flags.server.replace(/\/$/, "");
  // --certificate-authority or --insecure-skip-tls-verify replaces all three (getCluster).
  if (flags.certificateAuthority || flags.insecureSkipTlsVerify) {
    cluster.skipTLSVerify = Boolean(flags.insecureSkipTlsVerify);
    cluster.caFile = flags.certificateAuthority && resolve(cwd, flags.certificateAuthority);
    cluster.caData = undefined;
  }
  // A --server clears the kubeconfig's tls-server-name unless --tls-server-name gives one.
  if (flags.tlsServerName || flags.server) cluster.tlsServerName = flags.tlsServerName || undefined;
  if (cluster.server === "") {
    const defined = entry === undefined ? "which the kubeconfig does not define" : "which has no server";
    throw new ConfigError(`context "${context.name}" names cluster "${name}", ${defined}`, {
      hint: `fix the kubeconfig (${commandLine(["kubectl", "config", "view"])} shows its clusters), pass --server URL, or use another context`,
    });
  }
  if (!/^https?:\/\/[^/]/.test(cluster.server)) {
    const from = flags.server ? "--server" : `cluster "${name}"`;
    const message = `the server of ${from} is not an http(s) URL: ${cluster.server}`;
    const hint = "give the API server's URL, e.g. https://api.example.com:6443";
    throw flags.server ? new UsageError(message, { hint }) : new ConfigError(message, { hint });
  }
  return cluster;
}

/** The user entry the context names (or --user), with the flags' overrides, checked as client-go's validateAuthInfo does. */
function effectiveUser(
  config: Kubeconfig,
  context: KubeContext,
  flags: ConnectionFlags,
  cwd: string,
): KubeUser | undefined {
  const name = flags.user ?? context.user;
  const entry = name === undefined ? undefined : config.users.find((u) => u.name === name);
  if (flags.user !== undefined && entry === undefined) {
    throw new UsageError(`user "${flags.user}" is not in the kubeconfig`, {
      hint: `the users are: ${names(config.users)}`,
    });
  }
  const overridden =
    flags.token ||
    flags.clientCertificate ||
    flags.clientKey ||
    flags.as ||
    flags.asGroups?.length ||
    flags.asUid;
  // A context whose user no entry defines is anonymous, as for kubectl.
  if (entry === undefined && !overridden) return undefined;
  const user: KubeUser = { ...(entry ?? { name: name ?? "" }) };
  if (flags.token) {
    user.token = flags.token;
    user.tokenFile = undefined;
  }
  if (flags.clientCertificate) {
    user.certFile = resolve(cwd, flags.clientCertificate);
    user.certData = undefined;
  }
  if (flags.clientKey) {
    user.keyFile = resolve(cwd, flags.clientKey);
    user.keyData = undefined;
  }
  if (flags.as) user.impersonateUser = flags.as;
  if (flags.asGroups?.length) user.impersonateGroups = [...flags.asGroups];
  if (flags.asUid) user.impersonateUid = flags.asUid;
  checkUser(user, context);
  return user;
}

function checkUser(user: KubeUser, context: KubeContext): void {
  const broken = (what: string) =>
    new ConfigError(`user "${user.name}" of context "${context.name}" ${what}`, {
      hint: `fix that user entry (${commandLine(["kubectl", "config", "view"])} shows it), or use another with --user or --context`,
    });
  const hasCert = Boolean(user.certFile || user.certData);
  const hasKey = Boolean(user.keyFile || user.keyData);
  if (hasCert && !hasKey) throw broken("has a client certificate but no client-key(-data)");
  if (hasKey && !hasCert) throw broken("has a client-key but no client-certificate(-data)");
  // kubectl reads the files of the user in use before it connects (ConfirmUsable).
  for (const [what, file] of [
    ["client-certificate", user.certFile],
    ["client-key", user.keyFile],
  ] as const) {
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      throw broken(`has a ${what} that cannot be read: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  const basic = Boolean(user.username || user.password);
  if (basic && (user.token || user.tokenFile)) {
    throw broken("has both a token and a username/password; only one authentication method is allowed");
  }
  if (user.exec) {
    const exec = user.exec;
    if (!isText(exec.command)) throw broken("has an exec plugin without a command");
    if (!isText(exec.apiVersion)) throw broken("has an exec plugin without an apiVersion");
    const mode = exec.interactiveMode;
    if (mode === undefined || mode === null || mode === "") {
      // The kubeconfig defaults it for v1beta1 only; v1 must say it.
      if (exec.apiVersion === "client.authentication.k8s.io/v1") {
        throw broken(
          "has an exec plugin of apiVersion client.authentication.k8s.io/v1 without an interactiveMode",
        );
      }
    } else if (!["Never", "IfAvailable", "Always"].includes(mode)) {
      throw broken(`has an exec plugin with interactiveMode "${mode}" (Never, IfAvailable or Always)`);
    }
  }
}

function names(entries: ReadonlyArray<{ name: string }>): string {
  return entries.length > 0 ? entries.map((e) => e.name).join(", ") : "(none)";
}

function readFileOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8").trim() || fallback;
  } catch {
    return fallback;
  }
}
