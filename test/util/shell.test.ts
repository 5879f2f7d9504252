// Suggested commands: shell-quoted words, and the program's own name as the user runs it
// ("kvmig", or "kubectl kvmig" as a kubectl plugin, where a bare kvmig may not be on PATH).
import { afterEach, describe, expect, it } from "vitest";
import { commandLine, kvmigCommand, setProgramName, shellQuote } from "../../src/util/shell.js";
import { runCli } from "../helpers/test-context.js";

afterEach(() => setProgramName("kvmig"));

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
