// kvmig help [COMMAND|TOPIC], in-process: the three topics, command help, and a bad name. None of
// them may reach a cluster.
import { describe, expect, it } from "vitest";
import { allRules } from "../../src/diagnose/modes/index.js";
import { exitCodeTable } from "../../src/errors.js";
import type { KubeConnector } from "../../src/k8s/provider.js";
import { runCli } from "../helpers/test-context.js";

const refuseToConnect: KubeConnector = async () => {
  throw new Error("help must not connect to a cluster");
};

function run(argv: string[], programName?: string) {
  return runCli(argv, { connect: refuseToConnect, env: {}, ...(programName ? { programName } : {}) });
}

describe("kvmig help TOPIC", () => {
  it("exit-codes: every code of the table, with its meaning, one per line", async () => {
    const result = await run(["help", "exit-codes"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^CODE\s+MEANING$/);
    for (const { code, meaning } of exitCodeTable) {
      expect(lines).toContain(`${String(code).padEnd(4)}   ${meaning}`);
    }
  });

  it("failure-modes: one line per rule diagnose knows, with its id, severity and title", async () => {
    const result = await run(["help", "failure-modes"]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(allRules.length).toBeGreaterThan(10);
    for (const rule of allRules) {
      const line = lines.find((l) => l.startsWith(`${rule.id} `));
      expect(line, rule.id).toBeDefined();
      expect(line).toContain(rule.severity);
      expect(line).toContain(rule.title);
    }
    expect(result.stdout).toContain("kvmig diagnose VM --only ID");
  });

  it("failure-modes -o json: the catalogue as data, sorted by id", async () => {
    const result = await run(["help", "failure-modes", "-o", "json"]);
    expect(result.code).toBe(0);
    const data = JSON.parse(result.stdout) as { id: string; title: string; severity: string }[];
    expect(data.map((r) => r.id)).toEqual(allRules.map((r) => r.id).sort());
    expect(Object.keys(data[0] ?? {}).sort()).toEqual(["id", "severity", "title"]);
  });

  it("exit-codes -o yaml", async () => {
    const result = await run(["help", "exit-codes", "-o", "yaml"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("- code: 130\n  meaning: interrupted, or a confirmation was declined");
  });

  it("environment: the variables kvmig reads", async () => {
    const result = await run(["help", "environment"]);
    expect(result.code).toBe(0);
    for (const name of [
      "KUBECONFIG",
      "KVMIG_PROMETHEUS_URL",
      "NO_COLOR",
      "KUBERNETES_SERVICE_HOST",
      "HTTPS_PROXY",
    ]) {
      expect(result.stdout).toContain(name);
    }
  });

  it("a command name shows that command's help, as COMMAND --help does", async () => {
    const viaHelp = await run(["help", "migrate"]);
    const viaFlag = await run(["migrate", "--help"]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain("Usage: kvmig migrate [options]");
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it("no argument: the program's help, which lists the help command and its topics", async () => {
    const result = await run(["help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: kvmig [options] [command]");
    expect(result.stdout).toMatch(
      /help \[command-or-topic\]\s+Show help for a command, or one of the topics/,
    );
  });

  it("as a kubectl plugin, the examples say kubectl kvmig", async () => {
    const result = await run(["help", "help"], "kubectl kvmig");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("kubectl kvmig help exit-codes");
  });

  it("an unknown name: exit 2, one line, and a hint listing the topics and commands", async () => {
    const result = await run(["help", "exit-code"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe('error: no command or help topic named "exit-code"');
    expect(lines[1]).toMatch(
      /^hint: topics: exit-codes, failure-modes, environment; commands: migrate, watch/,
    );
    expect(lines).toHaveLength(2);
  });

  it("-o wide is refused for a topic", async () => {
    const result = await run(["help", "exit-codes", "-o", "wide"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: -o wide is only for commands that print a table");
  });
});
