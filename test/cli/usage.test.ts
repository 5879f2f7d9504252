// Usage errors and help, in-process: each bad flag or command is one error line, a hint and exit
// 2; help and --version print to stdout and exit 0. None of these may try to reach a cluster.
import { beforeEach, describe, expect, it } from "vitest";
import manifest from "../../package.json" with { type: "json" };
import type { KubeConnector } from "../../src/k8s/provider.js";
import { runCli } from "../helpers/test-context.js";

let connectCalls: number;

/** A connector that fails the run, and counts, if anything tries to connect. */
const refuseToConnect: KubeConnector = async () => {
  connectCalls += 1;
  throw new Error("this run must not connect to a cluster");
};

beforeEach(() => {
  connectCalls = 0;
});

function run(argv: string[]) {
  return runCli(argv, { connect: refuseToConnect, env: {} });
}

function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

describe("usage errors: one error line, one hint, exit 2", () => {
  it("an unknown option", async () => {
    const result = await run(["version", "--bogus"]);
    expect(lines(result.stderr)).toEqual([
      "error: unknown option '--bogus'",
      "hint: see kvmig version --help",
    ]);
    expect(result.stdout).toBe("");
    expect(result.code).toBe(2);
    expect(connectCalls).toBe(0);
  });

  it("an unknown command: the hint names kvmig --help", async () => {
    const result = await run(["migrat"]);
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toBe("error: unknown command 'migrat'");
    expect(stderr[1]).toMatch(/^hint: /);
    expect(stderr[1]).toMatch(/see kvmig --help$/);
    expect(result.stdout).toBe("");
    expect(result.code).toBe(2);
    expect(connectCalls).toBe(0);
  });

  it("a mistyped command: the hint keeps commander's suggestion", async () => {
    const result = await run(["versoin"]);
    expect(lines(result.stderr)).toEqual([
      "error: unknown command 'versoin'",
      "hint: did you mean version? see kvmig --help",
    ]);
    expect(result.code).toBe(2);
    expect(connectCalls).toBe(0);
  });

  it("a mistyped option: the hint keeps commander's suggestion", async () => {
    const result = await run(["version", "--kubeconfg", "x"]);
    const stderr = lines(result.stderr);
    expect(stderr[0]).toBe("error: unknown option '--kubeconfg'");
    expect(stderr[1]).toBe("hint: did you mean --kubeconfig? see kvmig version --help");
    expect(result.code).toBe(2);
    expect(connectCalls).toBe(0);
  });

  it("a bad duration for --request-timeout", async () => {
    const result = await run(["--request-timeout", "abc", "version"]);
    expect(lines(result.stderr)).toEqual([
      'error: invalid duration "abc" for --request-timeout',
      "hint: write it like 90s, 5m, 1h or 1h30m",
    ]);
    expect(result.stdout).toBe("");
    expect(result.code).toBe(2);
    expect(connectCalls).toBe(0);
  });

  it("an output format that does not exist", async () => {
    const result = await run(["-o", "xml", "version"]);
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toBe('error: unable to match a printer suitable for the output format "xml"');
    expect(stderr[1]).toBe(
      "hint: the formats are text, json, yaml, name, wide, jsonpath=TEMPLATE and jsonpath-as-json=TEMPLATE",
    );
    expect(result.stdout).toBe("");
    expect(result.code).toBe(2);
    expect(connectCalls).toBe(0);
  });

  it("the hint names the command, not the value of a flag before it", async () => {
    // "prod" is a flag value; the command is version.
    const unknown = await run(["--context", "prod", "version", "--bogus"]);
    expect(lines(unknown.stderr)).toEqual([
      "error: unknown option '--bogus'",
      "hint: see kvmig version --help",
    ]);
    expect(unknown.code).toBe(2);
  });

  it("an argument the command does not take", async () => {
    const result = await run(["version", "extra"]);
    expect(lines(result.stderr)).toEqual([
      "error: too many arguments for 'version'. Expected 0 arguments but got 1: extra.",
      "hint: see kvmig version --help",
    ]);
    expect(result.stdout).toBe("");
    expect(result.code).toBe(2);
    expect(connectCalls).toBe(0);
  });

  it("a flag that needs a value and has none", async () => {
    const result = await run(["version", "--context"]);
    expect(lines(result.stderr)).toEqual([
      "error: option '--context <name>' argument missing",
      "hint: see kvmig version --help",
    ]);
    expect(result.code).toBe(2);
    expect(connectCalls).toBe(0);
  });
});

describe("help and --version: stdout, exit 0, no connection", () => {
  it("no arguments at all prints the help", async () => {
    const result = await run([]);
    expect(result.stdout).toMatch(/^Usage: kvmig \[options\] \[command\]\n/);
    expect(result.stdout).toContain("Commands:");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(connectCalls).toBe(0);
  });

  it("--help lists the version command, the global flags and examples", async () => {
    const result = await run(["--help"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: kvmig \[options\] \[command\]\n/);
    // Commander wraps descriptions at 80 columns when stdout is not a terminal.
    expect(result.stdout).toMatch(/^ {2}version +Print the kvmig, Kubernetes and KubeVirt\s+versions$/m);
    for (const flag of [
      "--kubeconfig <path>",
      "--context <name>",
      "-n, --namespace",
      "--request-timeout",
      "-o, --output",
    ]) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toContain("\nExamples:\n");
    expect(result.stdout).toContain("  kvmig version --context prod -o json\n");
    expect(connectCalls).toBe(0);
  });

  it("--help shows --sim's value as optional and attached, --sim[=SCENARIO], as it is parsed", async () => {
    for (const argv of [["--help"], ["migrate", "--help"]]) {
      const { stdout } = await run(argv);
      expect(stdout).toMatch(/^ {2}--sim\[=SCENARIO\] +run against a fresh embedded simulated cluster$/m);
      expect(stdout).not.toContain("--sim <scenario>");
    }
  });

  it("-h is --help", async () => {
    const long = await run(["--help"]);
    const short = await run(["-h"]);
    expect(short.stdout).toBe(long.stdout);
    expect(short.code).toBe(0);
  });

  it("version --help has its own usage and examples", async () => {
    const result = await run(["version", "--help"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: kvmig version \[options\]\n/);
    expect(result.stdout).toContain("\nExamples:\n");
    expect(result.stdout).toContain("  # the same as one JSON object\n  kvmig version -o json\n");
    expect(connectCalls).toBe(0);
  });

  it("help version is version --help", async () => {
    const result = await run(["help", "version"]);
    expect(result.stdout).toMatch(/^Usage: kvmig version \[options\]\n/);
    expect(result.code).toBe(0);
    expect(connectCalls).toBe(0);
  });

  it("--version prints the package.json version", async () => {
    const result = await run(["--version"]);
    expect(result.stdout).toBe(`${manifest.version}\n`);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(connectCalls).toBe(0);
  });

  it("as a kubectl plugin, help and hints say kubectl kvmig", async () => {
    const help = await runCli(["--help"], { connect: refuseToConnect, programName: "kubectl kvmig" });
    expect(help.stdout).toMatch(/^Usage: kubectl kvmig \[options\] \[command\]\n/);
    expect(help.stdout).toContain("  kubectl kvmig version --context prod -o json\n");
    const bad = await runCli(["version", "--bogus"], {
      connect: refuseToConnect,
      programName: "kubectl kvmig",
    });
    expect(lines(bad.stderr)).toEqual([
      "error: unknown option '--bogus'",
      "hint: see kubectl kvmig version --help",
    ]);
    expect(bad.code).toBe(2);
    expect(connectCalls).toBe(0);
  });
});

describe("the connector guard itself", () => {
  it("a command that needs the cluster does reach the connector", async () => {
    const result = await run(["version"]);
    expect(connectCalls).toBe(1);
    expect(lines(result.stderr)[0]).toBe("error: this run must not connect to a cluster");
    expect(result.code).toBe(1);
  });
});

describe("colour on a terminal", () => {
  it("an error is coloured on a terminal, and not with --no-color, even when parsing fails", async () => {
    const coloured = await runCli(["version", "--bogus"], { connect: refuseToConnect, env: {}, tty: true });
    expect(coloured.code).toBe(2);
    expect(coloured.stderr).toContain("\u001b[31merror:\u001b[39m unknown option '--bogus'");

    const plain = await runCli(["version", "--bogus", "--no-color"], {
      connect: refuseToConnect,
      env: {},
      tty: true,
    });
    expect(plain.code).toBe(2);
    expect(plain.stderr.startsWith("error: unknown option '--bogus'\nhint: ")).toBe(true);
    expect(plain.stderr).not.toContain("\u001b[");
  });
});
