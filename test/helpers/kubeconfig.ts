// Writes kubeconfig files for tests: a cluster trusted through its CA, a bearer-token user.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export interface KubeconfigSpec {
  server: string;
  caPem: string;
  token: string;
  context?: string;
  namespace?: string;
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
