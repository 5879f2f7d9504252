// Suggested commands: shell-quoted words, and the program's own name as the user runs it
// ("kvmig", or "kubectl kvmig" as a kubectl plugin, where a bare kvmig may not be on PATH).
import { afterEach, describe, expect, it } from "vitest";
import {
  commandLine,
  kvmigCommand,
  setConnectionFlags,
  setProgramName,
  shellQuote,
  simContext,
} from "../../src/util/shell.js";
import { runCli } from "../helpers/test-context.js";

afterEach(() => {
  setProgramName("kvmig");
  setConnectionFlags({});
});

describe("shell quoting", () => {
  it("leaves plain words and quotes the rest", () => {
    expect(shellQuote("db-1")).toBe("db-1");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("")).toBe("''");
    expect(commandLine(["kubectl", "get", "vmi", "a b", "-n", "x;rm"])).toBe(
      "kubectl get vmi 'a b' -n 'x;rm'",
    );
  });
});

describe("kvmigCommand", () => {
  it("starts with kvmig by default", () => {
    expect(kvmigCommand(["cancel", "db-1", "-n", "demo"])).toBe("kvmig cancel db-1 -n demo");
  });

  it("starts with kubectl kvmig when run as a plugin, and still quotes the words", () => {
    setProgramName("kubectl kvmig");
    expect(kvmigCommand(["restart", "odd name", "-n", "demo"])).toBe(
      "kubectl kvmig restart 'odd name' -n demo",
    );
  });

  it("main() sets it from the context, so a hint names the plugin form", async () => {
    // A directory that holds two VMs: diagnose --from needs the VM's name, and the hint says how.
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const empty = mkdtempSync(join(tmpdir(), "kvmig-two-vms-"));
    const vmi = (name: string) =>
      `apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata:\n  name: ${name}\n  namespace: demo\n`;
    writeFileSync(join(empty, "objects.yaml"), `${vmi("a")}---\n${vmi("b")}`);
    const asPlugin = await runCli(["diagnose", "--from", empty], { programName: "kubectl kvmig" });
    expect(asPlugin.code).toBe(2);
    expect(asPlugin.stderr).toContain("hint: kubectl kvmig diagnose VM --from DIR");
    const plain = await runCli(["diagnose", "--from", empty]);
    expect(plain.stderr).toContain("hint: kvmig diagnose VM --from DIR");
  });
});

describe("connection flags in suggested commands", () => {
  it("a kvmig command carries --kubeconfig and --context at its end, before a --", () => {
    setConnectionFlags({ kubeconfig: "/home/me/other config", context: "prod" });
    expect(kvmigCommand(["cancel", "db-1", "-n", "demo"])).toBe(
      "kvmig cancel db-1 -n demo --kubeconfig '/home/me/other config' --context prod",
    );
    expect(kvmigCommand(["diagnose", "db-1", "--", "-x"])).toBe(
      "kvmig diagnose db-1 --kubeconfig '/home/me/other config' --context prod -- -x",
    );
    setProgramName("kubectl kvmig");
    expect(kvmigCommand(["watch", "db-1"])).toBe(
      "kubectl kvmig watch db-1 --kubeconfig '/home/me/other config' --context prod",
    );
  });

  it("only the flags given: --context alone adds --context alone", () => {
    setConnectionFlags({ context: "staging" });
    expect(kvmigCommand(["watch", "-A"])).toBe("kvmig watch -A --context staging");
    expect(commandLine(["kubectl", "get", "vmim", "-n", "demo"])).toBe(
      "kubectl --context staging get vmim -n demo",
    );
  });

  it("kubectl and virtctl commands carry them right after the program, never twice", () => {
    setConnectionFlags({ kubeconfig: "k.yaml", context: "prod" });
    expect(commandLine(["virtctl", "start", "db-1", "-n", "demo"])).toBe(
      "virtctl --kubeconfig k.yaml --context prod start db-1 -n demo",
    );
    expect(commandLine(["kubectl", "config", "view", "--minify", "--context", "prod"])).toBe(
      "kubectl --kubeconfig k.yaml config view --minify --context prod",
    );
    // `kubectl config use-context NAME` is about the file; a --context there would mislead.
    expect(commandLine(["kubectl", "config", "use-context", "NAME"])).toBe(
      "kubectl --kubeconfig k.yaml config use-context NAME",
    );
    expect(commandLine(["kubectl", "--kubeconfig=x", "get", "pods"])).toBe(
      "kubectl --context prod --kubeconfig=x get pods",
    );
    // Other programs and plain words are left alone.
    expect(commandLine(["cp", "a", "b"])).toBe("cp a b");
  });

  it("under --sim, kvmig hints say --sim (with its scenario) and kubectl names the sim's context", () => {
    setConnectionFlags({ sim: "default" });
    expect(kvmigCommand(["watch", "db-1", "-n", "demo"])).toBe("kvmig watch db-1 -n demo --sim");
    expect(commandLine(["kubectl", "get", "vmi", "-n", "demo"])).toBe(
      `kubectl --context ${simContext} get vmi -n demo`,
    );
    setConnectionFlags({ sim: "version-skew" });
    expect(kvmigCommand(["diagnose", "db-1"])).toBe("kvmig diagnose db-1 --sim=version-skew");
  });

  it("sim and completion hints get none, and no flags given means none added", () => {
    setConnectionFlags({ context: "prod" });
    expect(kvmigCommand(["sim", "--list-scenarios"])).toBe("kvmig sim --list-scenarios");
    expect(kvmigCommand(["completion", "bash"])).toBe("kvmig completion bash");
    setConnectionFlags({});
    expect(kvmigCommand(["cancel", "db-1"])).toBe("kvmig cancel db-1");
    expect(commandLine(["kubectl", "get", "vmi"])).toBe("kubectl get vmi");
  });

  it("the sim's kubeconfig makes simContext its current context", async () => {
    const { startSimCluster } = await import("../../src/sim/cluster.js");
    const cluster = await startSimCluster({ seed: 1 });
    try {
      expect(cluster.kubeconfig()).toContain(`current-context: ${simContext}`);
    } finally {
      await cluster.close();
    }
  });

  it("main() resets them per run: a run without flags after one with them adds none", async () => {
    const withContext = await runCli(["migrate", "db-1", "-n", "Bad_NS", "--context", "prod"]);
    expect(withContext.code).toBe(2);
    expect(withContext.stderr).toContain("kubectl --context prod get namespaces");
    const without = await runCli(["migrate", "db-1", "-n", "Bad_NS"]);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain("hint: list the namespaces with: kubectl get namespaces");
  });
});

describe("hints from the API layer carry the connection flags", () => {
  it("a 404's list command and a refused connection's kubeconfig check", async () => {
    const { errorFromNetwork, errorFromResponse } = await import("../../src/k8s/api-errors.js");
    const request = {
      method: "GET",
      path: "/apis/kubevirt.io/v1/namespaces/demo/virtualmachines/db-1",
      server: "https://127.0.0.1:6443",
      context: "prod",
    };
    setConnectionFlags({ kubeconfig: "/etc/k.yaml", context: "prod" });
    const notFound = errorFromResponse(
      404,
      JSON.stringify({
        kind: "Status",
        status: "Failure",
        reason: "NotFound",
        code: 404,
        message: "not found",
      }),
      request,
    );
    expect(notFound.hint).toBe(
      'there is no virtualmachines.kubevirt.io "db-1" in namespace "demo" (context "prod"); list what exists with: kubectl --kubeconfig /etc/k.yaml --context prod get virtualmachines.kubevirt.io -n demo',
    );
    const refused = errorFromNetwork(
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      request,
    );
    expect(refused.hint).toBe(
      "is the cluster running? check the server address and the cluster with: kubectl --kubeconfig /etc/k.yaml config view --minify --context prod",
    );
  });
});
