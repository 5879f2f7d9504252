// Every bad input gets one error line, a hint and the spec's exit code, with the built CLI:
// names, namespaces, flags, durations, selectors, kubeconfigs, contexts, credentials, a server
// that is not Kubernetes, a cluster without KubeVirt, and a KubeVirt older than kvmig supports.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { R } from "../../src/sim/controllers/runtime.js";
import { ScriptedApiServer, sendJson } from "../helpers/api-server.js";
import { tempDir, writeKubeconfig } from "../helpers/kubeconfig.js";
import { cliEnv, lines, runKvmig } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

let sim: SimCli;
let oldKubeVirt: SimCli;
let webPage: ScriptedApiServer;
let noKubeVirt: ScriptedApiServer;

const notServed = {
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: "the server could not find the requested resource",
  reason: "NotFound",
  details: {},
  code: 404,
};

beforeAll(async () => {
  [sim, oldKubeVirt, webPage, noKubeVirt] = await Promise.all([
    simCli({ manualTime: true }),
    simCli({ manualTime: true }),
    ScriptedApiServer.start(),
    ScriptedApiServer.start(),
  ]);
  // A cluster still on KubeVirt v0.59.0.
  const store = oldKubeVirt.cluster.store;
  const kv = (store.list(R.kubevirt.storage) as Any[])[0];
  store.update(
    R.kubevirt,
    { ...kv, status: { ...kv.status, observedKubeVirtVersion: "v0.59.0" } },
    { subresource: "status" },
  );
  webPage.on("GET", /.*/, (_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><html><body>Sign in</body></html>");
  });
  noKubeVirt.on("GET", "/version", (_req, res) =>
    sendJson(res, 200, { gitVersion: "v1.32.4", platform: "linux/amd64" }),
  );
  noKubeVirt.on("GET", /^\/apis\/(subresources\.)?kubevirt\.io\//, (_req, res) =>
    sendJson(res, 404, notServed),
  );
  noKubeVirt.on("GET", /^\/api\/v1\/namespaces\//, (_req, res) =>
    sendJson(res, 200, { kind: "Namespace", apiVersion: "v1", metadata: { name: "demo" } }),
  );
}, 30_000);

afterAll(async () => {
  await Promise.all([sim?.close(), oldKubeVirt?.close(), webPage?.close(), noKubeVirt?.close()]);
});

interface Case {
  title: string;
  args: string[];
  /** The environment: the simulated cluster's by default. */
  env?: () => Record<string, string>;
  code: number;
  error: string | RegExp;
  hint: string | RegExp;
}

function kubeconfigFor(server: { url: string; pki: { caPem: string } }): Record<string, string> {
  const home = tempDir();
  return cliEnv(home, {
    KUBECONFIG: writeKubeconfig(home, {
      server: server.url,
      caPem: server.pki.caPem,
      token: "t",
      context: "lab",
    }),
  });
}

function file(content: string): string {
  const path = join(tempDir(), "kubeconfig");
  writeFileSync(path, content);
  return path;
}

const cases: Case[] = [
  {
    title: "a VM name in upper case",
    args: ["migrate", "Fedora-Web", "-n", "demo"],
    code: 2,
    error: 'invalid VM name "Fedora-Web": names are lower case',
    hint: 'did you mean "fedora-web"? list the VMs with: kubectl get vm,vmi -n demo',
  },
  {
    title: "a VM name that is too long",
    args: ["restart", "a".repeat(254), "-n", "demo", "--yes"],
    code: 2,
    error: `invalid VM name "${"a".repeat(254)}": it is 254 characters long, more than 253`,
    hint: "list the VMs with: kubectl get vm,vmi -n demo",
  },
  {
    title: "a path as a VM name",
    args: ["cancel", "../etc", "-n", "demo"],
    code: 2,
    error: `invalid VM name "../etc": it contains '/'`,
    hint: "list the VMs with: kubectl get vm,vmi -n demo",
  },
  {
    title: "an empty VM name",
    args: ["diagnose", "", "-n", "demo"],
    code: 2,
    error: 'invalid VM name "": it is empty',
    hint: "list the VMs with: kubectl get vm,vmi -n demo",
  },
  {
    title: "a VM name with other characters",
    args: ["watch", "db_1", "-n", "demo"],
    code: 2,
    error: `invalid VM name "db_1": a name is lower-case letters, digits, '-' and '.', and starts and ends with a letter or digit`,
    hint: "list the VMs with: kubectl get vm,vmi -n demo",
  },
  {
    title: "a namespace that is not a valid name",
    args: ["migrate", "fedora-web", "-n", "Demo"],
    code: 2,
    error: 'invalid namespace "Demo": names are lower case',
    hint: 'did you mean "demo"? list the namespaces with: kubectl get namespaces',
  },
  {
    title: "a namespace that does not exist",
    args: ["migrate", "fedora-web", "-n", "no-such-namespace"],
    code: 5,
    error: 'namespace "no-such-namespace" not found',
    hint: "list the namespaces with: kubectl get namespaces, and pass one with -n",
  },
  {
    title: "a VM that does not exist",
    args: ["restart", "no-such-vm", "-n", "demo", "--yes"],
    code: 5,
    error: 'VirtualMachine "no-such-vm" not found in namespace "demo"',
    hint: "list the VMs with: kubectl get vm,vmi -n demo",
  },
  {
    title: "an unknown flag",
    args: ["migrate", "fedora-web", "--bogus"],
    code: 2,
    error: "unknown option '--bogus'",
    hint: "see kvmig migrate --help",
  },
  {
    title: "an unknown command",
    args: ["migrat", "fedora-web"],
    code: 2,
    error: "unknown command 'migrat'",
    hint: /^did you mean migrate\? see kvmig --help$/,
  },
  {
    title: "conflicting flags: --target-node and --node-selector",
    args: ["migrate", "fedora-web", "-n", "demo", "--target-node", "node-2", "--node-selector", "zone=a"],
    code: 2,
    error: "--target-node and --node-selector cannot be combined",
    hint: "--target-node NODE means --node-selector kubernetes.io/hostname=NODE; add the other labels to that",
  },
  {
    title: "conflicting flags: a VM with -A",
    args: ["watch", "fedora-web", "-A"],
    code: 2,
    error: "a VM name and --all-namespaces cannot be combined",
    hint: "name the VM's namespace with -n, or leave out the VM to watch every migration",
  },
  {
    title: "an output format that does not exist",
    args: ["version", "-o", "xml"],
    code: 2,
    error: 'unable to match a printer suitable for the output format "xml"',
    hint: "the formats are text, json, yaml, name, wide, jsonpath=TEMPLATE and jsonpath-as-json=TEMPLATE",
  },
  {
    title: "a bad duration",
    args: ["migrate", "fedora-web", "-n", "demo", "--timeout", "5x"],
    code: 2,
    error: 'invalid duration "5x" for --timeout',
    hint: "write it like 90s, 5m, 1h or 1h30m",
  },
  {
    title: "a bad request timeout",
    args: ["version", "--request-timeout", "soon"],
    code: 2,
    error: 'invalid duration "soon" for --request-timeout',
    hint: "write it like 90s, 5m, 1h or 1h30m",
  },
  {
    title: "a bad label selector (the API server's words)",
    args: ["outdated", "-A", "-l", "app=web=x"],
    code: 2,
    error: /^found '=', expected: ',' or 'end of string'/,
    hint: "the API server rejected the request as invalid; fix the value it names and run again",
  },
  {
    title: "a bad node selector",
    args: ["migrate", "fedora-web", "-n", "demo", "--node-selector", "zone"],
    code: 2,
    error: 'invalid --node-selector "zone"',
    hint: "write it as key=value[,key=value], e.g. topology.kubernetes.io/zone=a",
  },
  {
    title: "KUBECONFIG naming a missing file (the same fault as --kubeconfig naming one)",
    args: ["version"],
    env: () => {
      const home = tempDir();
      return cliEnv(home, { KUBECONFIG: join(home, "missing") });
    },
    code: 2,
    error: /^no kubeconfig found: KUBECONFIG names .*missing, and none exists$/,
    hint: /^point kvmig at a cluster with --kubeconfig PATH/,
  },
  {
    title: "no kubeconfig anywhere (no KUBECONFIG, none in the home directory)",
    args: ["version"],
    env: () => cliEnv(tempDir(), {}),
    code: 1,
    error: /^no kubeconfig found: .*\/\.kube\/config does not exist$/,
    hint: /^point kvmig at a cluster with --kubeconfig PATH/,
  },
  {
    title: "--kubeconfig naming a missing file",
    args: ["version", "--kubeconfig", "/nonexistent/kubeconfig"],
    code: 2,
    error: "--kubeconfig /nonexistent/kubeconfig does not exist",
    hint: /^point kvmig at a cluster with --kubeconfig PATH/,
  },
  {
    title: "a corrupt kubeconfig",
    args: ["version"],
    env: () => cliEnv(tempDir(), { KUBECONFIG: file("clusters: [\n  - name: x\n bad") }),
    code: 1,
    error: /^cannot read kubeconfig .*kubeconfig: /,
    // The file named, so the command runs as printed.
    hint: /^fix the file \(kubectl config view --kubeconfig \S+\/kubeconfig shows how kubectl reads it\), or pass another with --kubeconfig$/,
  },
  {
    title: "an unknown context",
    args: ["version", "--context", "prod"],
    code: 2,
    error: 'context "prod" is not in the kubeconfig',
    hint: "the contexts are: sim-admin, sim-viewer",
  },
  {
    title: "an expired or wrong token",
    args: ["migrate", "fedora-web", "-n", "demo"],
    env: () => {
      const config = YAML.parse(sim.cluster.kubeconfig());
      for (const user of config.users) user.user.token = "expired-token";
      return cliEnv(tempDir(), { KUBECONFIG: file(YAML.stringify(config)) });
    },
    code: 4,
    error: "Unauthorized",
    hint: /^the API server at https:\/\/127\.0\.0\.1:\d+ did not accept the credentials of context "sim-admin" .*; log in again or refresh the credentials in your kubeconfig$/,
  },
  {
    title: "an API server that is not Kubernetes",
    args: ["outdated", "-A"],
    env: () => kubeconfigFor(webPage),
    code: 1,
    error:
      /^the server at https:\/\/127\.0\.0\.1:\d+ is not a Kubernetes API server: it answered GET \/apis\/kubevirt\.io\/v1\/\w+ with a web page \(HTTP 200\)$/,
    hint: 'check the server address of context "lab": kubectl config view --minify --context lab',
  },
  {
    title: "KubeVirt not installed",
    args: ["migrate", "fedora-web", "-n", "demo"],
    env: () => kubeconfigFor(noKubeVirt),
    code: 1,
    error:
      /^KubeVirt is not installed on the cluster of context "lab": the API server does not serve kubevirt\.io virtual/,
    hint: "install KubeVirt (https://kubevirt.io/user-guide/cluster_admin/installation/), or choose the cluster that runs it with --context",
  },
  {
    title: "KubeVirt older than kvmig supports",
    args: ["migrate", "fedora-web", "-n", "demo"],
    env: () => oldKubeVirt.env,
    code: 8,
    error: "pre-flight: KubeVirt v0.59.0 is older than v1.0.0, the oldest version kvmig supports",
    hint: "upgrade KubeVirt, or use virtctl migrate; --force starts the migration anyway",
  },
];

describe("bad input: one error line, a hint, the spec's exit code", () => {
  it.each(cases)("$title", async ({ args, env, code, error, hint }) => {
    const result = await runKvmig(args, env ? env() : sim.env);
    const errorLines = lines(result.stderr).filter((l) => l.startsWith("error:") || l.startsWith("hint:"));
    expect(errorLines, result.stderr).toHaveLength(2);
    const [errorLine, hintLine] = errorLines.map((l) => l.replace(/^(error|hint): /, ""));
    if (typeof error === "string") expect(errorLine).toBe(error);
    else expect(errorLine).toMatch(error);
    if (typeof hint === "string") expect(hintLine).toBe(hint);
    else expect(hintLine).toMatch(hint);
    expect(result.code).toBe(code);
    // Never a stack trace without -v.
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it("nothing was migrated, restarted or cancelled by any of them", () => {
    expect(sim.migrations("demo", "fedora-web")).toEqual([]);
    expect(oldKubeVirt.migrations("demo", "fedora-web")).toEqual([]);
  });
});
