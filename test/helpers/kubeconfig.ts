// Writes kubeconfig files for tests: a cluster trusted through its CA, a bearer-token user.
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export interface KubeconfigSpec {
  server: string;
  caPem: string;
  token: string;
  context?: string;
  namespace?: string;
  /** The cluster's proxy-url. */
  proxyUrl?: string;
}

export function tempDir(prefix = "kvmig-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function kubeconfigYaml(spec: KubeconfigSpec): string {
  const context = spec.context ?? "test";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: `${context}-cluster`,
        cluster: {
          server: spec.server,
          "certificate-authority-data": Buffer.from(spec.caPem).toString("base64"),
          ...(spec.proxyUrl ? { "proxy-url": spec.proxyUrl } : {}),
        },
      },
    ],
    users: [{ name: `${context}-user`, user: { token: spec.token } }],
    contexts: [
      {
        name: context,
        context: {
          cluster: `${context}-cluster`,
          user: `${context}-user`,
          ...(spec.namespace ? { namespace: spec.namespace } : {}),
        },
      },
    ],
    "current-context": context,
  });
}

export function writeKubeconfig(dir: string, spec: KubeconfigSpec, name = "config"): string {
  const path = join(dir, name);
  writeFileSync(path, kubeconfigYaml(spec), { mode: 0o600 });
  return path;
}

/**
 * A kubeconfig whose user gets its credential from an exec plugin (a node script): the plugin
 * answers with the token `from-<spec.token>`, so a test can tell it came through the plugin.
 */
export function writeExecPluginKubeconfig(dir: string, spec: KubeconfigSpec): string {
  const plugin = join(dir, "credential-plugin.mjs");
  writeFileSync(
    plugin,
    `process.stdout.write(JSON.stringify({
  apiVersion: "client.authentication.k8s.io/v1",
  kind: "ExecCredential",
  status: { token: "from-" + process.env.PLUGIN_USER },
}));
`,
  );
  chmodSync(plugin, 0o755);
  const context = spec.context ?? "exec";
  const path = join(dir, "config");
  writeFileSync(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "c",
          cluster: {
            server: spec.server,
            "certificate-authority-data": Buffer.from(spec.caPem).toString("base64"),
          },
        },
      ],
      users: [
        {
          name: "u",
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1",
              command: process.execPath,
              args: [plugin],
              env: [{ name: "PLUGIN_USER", value: spec.token }],
              interactiveMode: "Never",
            },
          },
        },
      ],
      contexts: [{ name: context, context: { cluster: "c", user: "u" } }],
      "current-context": context,
    }),
    { mode: 0o600 },
  );
  return path;
}
