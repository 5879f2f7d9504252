// kubectl's global connection flags (client-go's clientcmd overrides): another cluster or user
// entry of the kubeconfig, or single fields of the context in use, and impersonation. Each does
// what kubectl's does (src/k8s/kubeconfig.ts applies them); help lists them with the global options.

import { type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import type { ConnectionOverrides } from "../k8s/kubeconfig-types.js";

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The flags, in kubectl's words where they fit. */
function connectionOptions(): Option[] {
  return [
    new Option("-s, --server <url>", "the address and port of the Kubernetes API server"),
    new Option("--cluster <name>", "the name of the kubeconfig cluster to use"),
    new Option("--user <name>", "the name of the kubeconfig user to use"),
    new Option("--token <token>", "bearer token for authentication to the API server"),
    new Option("--certificate-authority <path>", "path to a cert file for the certificate authority"),
    new Option("--client-certificate <path>", "path to a client certificate file for TLS"),
    new Option("--client-key <path>", "path to a client key file for TLS"),
    new Option(
      "--tls-server-name <name>",
      "server name to use for server certificate validation (default: the server's host name)",
    ),
    new Option("--as <user>", "username to impersonate for the operation (a user or a service account)"),
    new Option(
      "--as-group <group>",
      "group to impersonate for the operation; repeat it for several groups",
    ).argParser(collect),
    new Option("--as-uid <uid>", "UID to impersonate for the operation"),
  ];
}

/** Adds the connection flags to the program (global: every command reads them). */
export function addConnectionFlags(program: CommandUnknownOpts): void {
  for (const option of connectionOptions()) program.addOption(option);
}

/** The flags' values from the program's parsed options. */
export function connectionOverrides(opts: Record<string, unknown>): ConnectionOverrides {
  const text = (key: string): string | undefined => {
    const value = opts[key];
    return typeof value === "string" ? value : undefined;
  };
  const groups = opts.asGroup;
  return {
    server: text("server"),
    cluster: text("cluster"),
    user: text("user"),
    token: text("token"),
    certificateAuthority: text("certificateAuthority"),
    clientCertificate: text("clientCertificate"),
    clientKey: text("clientKey"),
    tlsServerName: text("tlsServerName"),
    as: text("as"),
    // Parsed: every --as-group; from a completion's line: the last one.
    asGroups: Array.isArray(groups) ? groups.map(String) : typeof groups === "string" ? [groups] : undefined,
    asUid: text("asUid"),
  };
}

/** Whether any connection flag was given. */
export function hasConnectionOverrides(overrides: ConnectionOverrides): boolean {
  return Object.values(overrides).some((value) => value !== undefined);
}

/** The flags again, as words of a command line (kvmig's, kubectl's and virtctl's are the same). */
export function connectionFlagWords(overrides: ConnectionOverrides): string[] {
  const words: string[] = [];
  const add = (flag: string, value: string | undefined) => {
    if (value !== undefined) words.push(flag, value);
  };
  add("--server", overrides.server);
  add("--cluster", overrides.cluster);
  add("--user", overrides.user);
  add("--token", overrides.token);
  add("--certificate-authority", overrides.certificateAuthority);
  add("--client-certificate", overrides.clientCertificate);
  add("--client-key", overrides.clientKey);
  add("--tls-server-name", overrides.tlsServerName);
  add("--as", overrides.as);
  for (const group of overrides.asGroups ?? []) add("--as-group", group);
  add("--as-uid", overrides.asUid);
  return words;
}
