// kubectl's global connection flags (client-go's clientcmd overrides): another cluster or user
// entry of the kubeconfig, or single fields of the context in use, and impersonation. Each does
// what kubectl's does (src/k8s/kubeconfig.ts applies them); help lists them with the global options.

import { type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import type { ConnectionOverrides } from "../k8s/kubeconfig-types.js";

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The flags, in kubectl's words where they fit, and the field of ConnectionOverrides each sets
 * (--as-group, repeatable, sets asGroups); in the order help lists them and words repeats them.
 */
const flags: ReadonlyArray<{ option: string; description: string; key: keyof ConnectionOverrides }> = [
  {
    option: "-s, --server <url>",
    key: "server",
    description: "the address and port of the Kubernetes API server",
  },
  { option: "--cluster <name>", key: "cluster", description: "the name of the kubeconfig cluster to use" },
  { option: "--user <name>", key: "user", description: "the name of the kubeconfig user to use" },
  {
    option: "--token <token>",
    key: "token",
    description: "bearer token for authentication to the API server",
  },
  {
    option: "--certificate-authority <path>",
    key: "certificateAuthority",
    description: "path to a cert file for the certificate authority",
  },
  {
    option: "--client-certificate <path>",
    key: "clientCertificate",
    description: "path to a client certificate file for TLS",
  },
  { option: "--client-key <path>", key: "clientKey", description: "path to a client key file for TLS" },
  {
    option: "--tls-server-name <name>",
    key: "tlsServerName",
    description: "server name to use for server certificate validation (default: the server's host name)",
  },
  {
    option: "--as <user>",
    key: "as",
    description: "username to impersonate for the operation (a user or a service account)",
  },
  {
    option: "--as-group <group>",
    key: "asGroups",
    description: "group to impersonate for the operation; repeat it for several groups",
  },
  { option: "--as-uid <uid>", key: "asUid", description: "UID to impersonate for the operation" },
];

/** Adds the connection flags to the program (global: every command reads them). */
export function addConnectionFlags(program: CommandUnknownOpts): void {
  for (const { option, description, key } of flags) {
    const added = new Option(option, description);
    program.addOption(key === "asGroups" ? added.argParser(collect) : added);
  }
}

/** The flags' values from the program's parsed options. */
export function connectionOverrides(opts: Record<string, unknown>): ConnectionOverrides {
  const overrides: ConnectionOverrides = {};
  for (const { key } of flags) {
    if (key === "asGroups") {
      const groups = opts.asGroup;
      // Parsed: every --as-group; from a completion's line: the last one.
      overrides.asGroups = Array.isArray(groups)
        ? groups.map(String)
        : typeof groups === "string"
          ? [groups]
          : undefined;
    } else {
      const value = opts[key];
      overrides[key] = typeof value === "string" ? value : undefined;
    }
  }
  return overrides;
}

/** Whether any connection flag was given. */
export function hasConnectionOverrides(overrides: ConnectionOverrides): boolean {
  return Object.values(overrides).some((value) => value !== undefined);
}

/** The flags again, as words of a command line (kvmig's, kubectl's and virtctl's are the same). */
export function connectionFlagWords(overrides: ConnectionOverrides): string[] {
  return flags.flatMap(({ option, key }) => {
    const flag = /--[a-z-]+/.exec(option)?.[0] ?? "";
    const value = overrides[key];
    const values = value === undefined ? [] : typeof value === "string" ? [value] : value;
    return values.flatMap((v) => [flag, v]);
  });
}
