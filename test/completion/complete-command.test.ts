// `kvmig __complete` and `kvmig completion SHELL`, in-process on the real command tree: the
// candidates it prints, the connection flags a cluster lookup gets, silence when the cluster
// fails or hangs, the cobra format for kubectl, and the usage errors of `completion`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { ConnectionFlags, KubeConnector } from "../../src/k8s/provider.js";
import type { Namespace, Node, VirtualMachineInstance } from "../../src/k8s/types.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { runCli } from "../helpers/test-context.js";

let connected: ConnectionFlags[];
let listed: Array<{ resource: string; namespace: string | undefined }>;

beforeEach(() => {
  connected = [];
  listed = [];
});

const refuseToConnect: KubeConnector = async (flags) => {
  connected.push(flags);
  throw new Error("this completion must not connect to a cluster");
};

/** A cluster whose client, like the real one, takes -n, else its context's namespace `ctx-ns`. */
const cluster: KubeConnector = async (flags) => {
  connected.push(flags);
  return fakeKube(
    {
      list: (async (resource: string, options?: { namespace?: string }) => {
        listed.push({ resource, namespace: options?.namespace });
        if (resource === "vmi") {
          const names = options?.namespace === "demo" ? ["win-app", "fedora-web", "rhel-db"] : ["other-vm"];
          return names.map((name) => ({ metadata: { name } }) as VirtualMachineInstance);
        }
        return ["kubevirt", "demo", "default"].map((name) => ({ metadata: { name } }) as Namespace);
      }) as never,
    },
    { namespace: flags.namespace ?? "ctx-ns" },
  );
};

function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

async function completeWith(connect: KubeConnector, words: string[], env: Record<string, string> = {}) {
  const result = await runCli(["__complete", "--", ...words], { connect, env });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return lines(result.stdout);
}

describe("kvmig __complete: names from the command tree, no cluster", () => {
  it("the commands, without the hidden one", async () => {
    const names = await completeWith(refuseToConnect, [""]);
    expect(names).toEqual(
      expect.arrayContaining([
        "migrate",
        "watch",
        "cancel",
        "restart",
        "outdated",
        "version",
        "diagnose",
        "sim",
        "help",
        "completion",
      ]),
    );
    expect(names).not.toContain("__complete");
    expect(connected).toEqual([]);
  });

  it("mi → migrate", async () => {
    expect(await completeWith(refuseToConnect, ["mi"])).toEqual(["migrate"]);
  });

  it("migrate --: its flags and the global ones", async () => {
    const flags = await completeWith(refuseToConnect, ["migrate", "--"]);
    expect(flags).toEqual(
      expect.arrayContaining([
        "--target-node",
        "--dry-run",
        "--no-wait",
        "--namespace",
        "--context",
        "--output",
      ]),
    );
    expect(flags.every((f) => f.startsWith("--"))).toBe(true);
    expect(flags).not.toContain("--version");
  });

  it("restart -: its short flags too", async () => {
    expect(await completeWith(refuseToConnect, ["restart", "-"])).toEqual(
      expect.arrayContaining(["-y", "--yes", "--force", "-n", "-o", "-h"]),
    );
  });

  it("-o: the output formats; wide only for tables, name only where the data names objects", async () => {
    expect(await completeWith(refuseToConnect, ["migrate", "-o", ""])).toEqual([
      "text",
      "json",
      "yaml",
      "name",
      "jsonpath=",
      "jsonpath-as-json=",
    ]);
    expect(await completeWith(refuseToConnect, ["outdated", "--output=w"])).toEqual(["--output=wide"]);
    expect(await completeWith(refuseToConnect, ["version", "-o", "n"])).toEqual([]);
    expect(await completeWith(refuseToConnect, ["-o", "n"])).toEqual(["name"]);
  });

  it("the new flags and their values: --dry-run=MODE, -v levels, booleans, virtctl's spellings", async () => {
    expect(await completeWith(refuseToConnect, ["migrate", "--dry-run="])).toEqual([
      "--dry-run=server",
      "--dry-run=client",
      "--dry-run=none",
    ]);
    expect(await completeWith(refuseToConnect, ["--verbose=1"])).toEqual(["--verbose=1", "--verbose=10"]);
    expect(await completeWith(refuseToConnect, ["outdated", "--all-namespaces="])).toEqual([
      "--all-namespaces=true",
      "--all-namespaces=false",
    ]);
    expect(await completeWith(refuseToConnect, ["migrate", "--add"])).toEqual(["--addedNodeSelector"]);
    expect(await completeWith(refuseToConnect, ["restart", "--gr"])).toEqual(["--grace-period"]);
    expect(await completeWith(refuseToConnect, ["migrate-"])).toEqual(["migrate-cancel"]);
    expect(await completeWith(refuseToConnect, ["mig"])).toEqual(["migrate"]);
  });

  it("--sim=: the simulator's scenarios, without starting one", async () => {
    const names = await completeWith(refuseToConnect, ["--sim="]);
    expect(names).toEqual(expect.arrayContaining(["--sim=default", "--sim=upgrade", "--sim=version-skew"]));
    expect(await completeWith(refuseToConnect, ["sim", "--scenario", "versi"])).toEqual(["version-skew"]);
  });

  it("diagnose --only: the failure-mode ids", async () => {
    expect(await completeWith(refuseToConnect, ["diagnose", "--only", "version-"])).toEqual(["version-skew"]);
  });

  it("completion: the shells", async () => {
    expect(await completeWith(refuseToConnect, ["completion", ""])).toEqual(["bash", "zsh", "fish"]);
  });

  it("--context: the contexts of the kubeconfig the line names", async () => {
    const dir = tempDir();
    const path = join(dir, "config");
    writeFileSync(
      path,
      "apiVersion: v1\nkind: Config\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\n- name: prod\n  context: {cluster: c, user: u}\n",
    );
    expect(await completeWith(refuseToConnect, ["--kubeconfig", path, "--context", ""])).toEqual([
      "dev",
      "prod",
    ]);
    expect(await completeWith(refuseToConnect, ["--context=p"], { KUBECONFIG: path })).toEqual([
      "--context=prod",
    ]);
    expect(
      await completeWith(refuseToConnect, ["--context", ""], { KUBECONFIG: join(dir, "missing") }),
    ).toEqual([]);
    expect(connected).toEqual([]);
  });
});

describe("kvmig __complete: names from the cluster", () => {
  it("migrate -n demo: the VMIs of demo, sorted", async () => {
    expect(await completeWith(cluster, ["migrate", "-n", "demo", ""])).toEqual([
      "fedora-web",
      "rhel-db",
      "win-app",
    ]);
    expect(connected).toHaveLength(1);
    expect(connected[0]).toMatchObject({ namespace: "demo" });
    expect(listed).toEqual([{ resource: "vmi", namespace: "demo" }]);
  });

  it("without -n: the namespace the client resolves from the context", async () => {
    expect(await completeWith(cluster, ["cancel", ""])).toEqual(["other-vm"]);
    expect(connected[0]?.namespace).toBeUndefined();
    expect(listed).toEqual([{ resource: "vmi", namespace: "ctx-ns" }]);
  });

  it("--kubeconfig, --context and --namespace= of the line reach the connection", async () => {
    await completeWith(cluster, [
      "--kubeconfig",
      "/k/config",
      "--context=prod",
      "watch",
      "--namespace=demo",
      "f",
    ]);
    expect(connected[0]).toMatchObject({ kubeconfig: "/k/config", context: "prod", namespace: "demo" });
    expect(connected[0]?.requestTimeoutMs).toBeLessThanOrEqual(2000);
  });

  it("kubectl's connection flags of the line (--server, --token, --as, --as-group) reach the connection", async () => {
    await completeWith(cluster, [
      "--server",
      "https://api.example:6443",
      "--token=t0ken",
      "--as",
      "bob",
      "--as-group",
      "team",
      "migrate",
      "f",
    ]);
    expect(connected[0]).toMatchObject({
      server: "https://api.example:6443",
      token: "t0ken",
      as: "bob",
      asGroups: ["team"],
    });
  });

  it("watch --node: the cluster's nodes, sorted", async () => {
    const nodes: KubeConnector = async (flags) => {
      connected.push(flags);
      return fakeKube({
        list: (async (resource: string) => {
          listed.push({ resource, namespace: undefined });
          return ["node-3", "node-1", "node-2"].map((name) => ({ metadata: { name } }) as Node);
        }) as never,
      });
    };
    expect(await completeWith(nodes, ["watch", "--node", "node-"])).toEqual(["node-1", "node-2", "node-3"]);
    expect(listed).toEqual([{ resource: "node", namespace: undefined }]);
  });

  it("-n: the namespaces", async () => {
    expect(await completeWith(cluster, ["restart", "-n", "d"])).toEqual(["default", "demo"]);
    expect(listed).toEqual([{ resource: "namespace", namespace: undefined }]);
  });

  it("a cluster that fails: nothing printed, exit 0", async () => {
    const failing: KubeConnector = async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:1");
    };
    expect(await completeWith(failing, ["migrate", ""])).toEqual([]);
  });

  it("a cluster that never answers: nothing printed, after the time budget", async () => {
    let aborted = false;
    const hanging: KubeConnector = (_flags, deps) =>
      new Promise((_resolve, reject) => {
        deps.signal?.addEventListener("abort", () => {
          aborted = true;
          reject(new Error("aborted"));
        });
      });
    const started = performance.now();
    expect(await completeWith(hanging, ["migrate", "-n", "demo", ""])).toEqual([]);
    const elapsed = performance.now() - started;
    expect(aborted).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(5000);
  });
});

describe("kvmig __complete --cobra: kubectl's format", () => {
  it("candidates, then :4 (no file completion)", async () => {
    const result = await runCli(["__complete", "--cobra", "--", "migrate", "-n", "demo", ""], {
      connect: cluster,
    });
    expect(lines(result.stdout)).toEqual(["fedora-web", "rhel-db", "win-app", ":4"]);
    expect(result.code).toBe(0);
  });

  it("--flag= values bare; :0 (files) for a path, :16 (directories) for a directory", async () => {
    const run = async (...words: string[]) =>
      lines((await runCli(["__complete", "--cobra", "--", ...words], { connect: refuseToConnect })).stdout);
    expect(await run("--output=j")).toEqual(["json", "jsonpath=", "jsonpath-as-json=", ":4"]);
    // A value that ends in = wants its template typed after it: no space (cobra's NoSpace, 2).
    expect(await run("--output=jsonp")).toEqual(["jsonpath=", "jsonpath-as-json=", ":6"]);
    expect(await run("--kubeconfig", "")).toEqual([":0"]);
    expect(await run("diagnose", "--from", "")).toEqual([":16"]);
  });
});

describe("kvmig completion SHELL", () => {
  it("bash: a script that registers _kvmig for kvmig and kubectl-kvmig", async () => {
    const result = await runCli(["completion", "bash"], { connect: refuseToConnect });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("_kvmig() {");
    expect(result.stdout).toContain("__complete --");
    expect(lines(result.stdout)).toContain("complete -o default -F _kvmig kvmig kubectl-kvmig");
  });

  it("zsh and fish: scripts that call __complete", async () => {
    const zsh = await runCli(["completion", "zsh"], { connect: refuseToConnect });
    expect(zsh.stdout.startsWith("#compdef kvmig kubectl-kvmig\n")).toBe(true);
    const fish = await runCli(["completion", "fish"], { connect: refuseToConnect });
    expect(lines(fish.stdout)).toContain("complete -c kvmig -f -a '(__kvmig_complete)'");
    // fish needs the path flags up front: it does not fall back to files by itself. Only for
    // their values: as -l rules they were offered as flags of every command.
    expect(lines(fish.stdout)).toContain("complete -c kvmig -n '__kvmig_value_of kubeconfig' -F");
    expect(fish.stdout).toContain("-n '__kvmig_value_of from' -f -a '(__fish_complete_directories)'");
    expect(fish.stdout).not.toMatch(/^complete .* -l /m);
  });

  it("an unknown shell: a usage error naming the shells, exit 2", async () => {
    const result = await runCli(["completion", "tcsh"], { connect: refuseToConnect });
    expect(lines(result.stderr)).toEqual([
      'error: unknown shell "tcsh"',
      "hint: the shells are bash, zsh and fish, e.g. kvmig completion bash",
    ]);
    expect(result.stdout).toBe("");
    expect(result.code).toBe(2);
  });

  it("no shell: a usage error, exit 2", async () => {
    const result = await runCli(["completion"], { connect: refuseToConnect });
    expect(lines(result.stderr)).toEqual([
      "error: missing required argument 'shell'",
      "hint: see kvmig completion --help",
    ]);
    expect(result.code).toBe(2);
  });

  it("--help shows how to load each script", async () => {
    const result = await runCli(["completion", "--help"], { connect: refuseToConnect });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("source <(kvmig completion bash)");
    expect(result.stdout).toContain("kvmig completion fish | source");
    expect(result.stdout).toContain(
      "kvmig completion bash > ~/.local/share/bash-completion/completions/kvmig",
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh's ${fpath[1]}, not a placeholder.
    expect(result.stdout).toContain('kvmig completion zsh > "${fpath[1]}/_kvmig"');
    expect(result.stdout).toMatch(/choices: "bash", "zsh", "fish"/);
  });

  it("kvmig --help lists completion, not __complete", async () => {
    const result = await runCli(["--help"], { connect: refuseToConnect });
    expect(result.stdout).toMatch(/^ {2}completion /m);
    expect(result.stdout).not.toContain("__complete");
  });
});
