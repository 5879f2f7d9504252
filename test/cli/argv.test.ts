// kubectl's and pflag's spellings rewritten before commander parses them (src/cli-tree/argv.ts).
import { Command, Option } from "@commander-js/extra-typings";
import { describe, expect, it } from "vitest";
import { normalizeArgv, parseBoolWord, parseVerbosity, verboseWord } from "../../src/cli-tree/argv.js";
import type { Runner } from "../../src/cli-tree/command.js";
import { cancelCommand, migrateCommand, outdatedCommand, restartCommand } from "../../src/cli-tree/tree.js";
import { ExitCode, exitCodeOf, UsageError } from "../../src/errors.js";

const run: Runner = async () => {};

/** The real commands under a root with main.ts's global flags that matter here. */
function tree() {
  const root = new Command("kvmig")
    .option("-n, --namespace <namespace>")
    .option("-o, --output <format>")
    .option("--no-color")
    .addOption(new Option("-v, --verbose [level]"))
    .option("--allow-missing-template-keys", "", true)
    .addOption(new Option("--no-allow-missing-template-keys").hideHelp())
    .option("--sim <scenario>");
  for (const command of [
    migrateCommand(run, "kvmig"),
    outdatedCommand(run, "kvmig"),
    restartCommand(run, "kvmig"),
    cancelCommand(run, "kvmig"),
  ])
    root.addCommand(command);
  return root;
}

const normalize = (...argv: string[]) => normalizeArgv(argv, tree());

function usageError(action: () => unknown): UsageError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect(exitCodeOf(error)).toBe(ExitCode.usage);
    return error as UsageError;
  }
  throw new Error("no usage error");
}

describe("-v as kubectl spells it", () => {
  it.each([
    [
      ["-v=6", "version"],
      ["--verbose=6", "version"],
    ],
    [
      ["--v=8", "version"],
      ["--verbose=8", "version"],
    ],
    [
      ["-v", "7", "version"],
      ["--verbose=7", "version"],
    ],
    [
      ["-v7", "version"],
      ["--verbose=7", "version"],
    ],
    [
      ["--verbose=0", "version"],
      ["--verbose=0", "version"],
    ],
    [
      ["-v", "version"],
      ["--verbose=6", "version"],
    ],
    [
      ["--verbose", "version"],
      ["--verbose=6", "version"],
    ],
    [
      ["migrate", "-v", "fedora-web"],
      ["migrate", "--verbose=6", "fedora-web"],
    ],
    [
      ["migrate", "fedora-web", "-v=99"],
      ["migrate", "fedora-web", "--verbose=10"],
    ],
  ])("%j → %j", (argv, expected) => {
    expect(normalize(...argv)).toEqual(expected);
  });

  it("a level that is not a number is a usage error naming the flag", () => {
    const error = usageError(() => normalize("--v=high", "version"));
    expect(error.message).toBe('invalid value "high" for --v: the log level is a number from 0 to 10');
    expect(error.hint).toBe("for example --v=6 (each API request)");
    expect(usageError(() => parseVerbosity("-1")).message).toBe(
      'invalid value "-1" for -v: the log level is a number from 0 to 10',
    );
  });

  it("verboseWord: what turns the request log (and a failure's stack) on", () => {
    expect(["-v", "--verbose", "-v=6", "--v=9", "-v8"].map(verboseWord)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["-v=5", "--v=0", "-v2", "--version", "-vx", "-n"].map(verboseWord)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe("--FLAG=true|false on a boolean flag, as pflag reads it", () => {
  it.each([
    [
      ["outdated", "--all-namespaces=true"],
      ["outdated", "--all-namespaces"],
    ],
    [["outdated", "--all-namespaces=false"], ["outdated"]],
    [
      ["outdated", "--all-namespaces=1"],
      ["outdated", "--all-namespaces"],
    ],
    [["outdated", "--all-namespaces=F"], ["outdated"]],
    [
      ["outdated", "-A=true"],
      ["outdated", "--all-namespaces"],
    ],
    [
      ["outdated", "--headers=false"],
      ["outdated", "--no-headers"],
    ],
    [["outdated", "--headers=true"], ["outdated"]],
    [
      ["outdated", "--no-headers=true"],
      ["outdated", "--no-headers"],
    ],
    [
      ["migrate", "vm", "--wait=false"],
      ["migrate", "vm", "--no-wait"],
    ],
    [
      ["--color=false", "outdated"],
      ["--no-color", "outdated"],
    ],
    [
      ["restart", "vm", "--force=true", "--yes=false"],
      ["restart", "vm", "--force"],
    ],
    // On by default: false is its --no- form.
    [
      ["--allow-missing-template-keys=false", "version"],
      ["--no-allow-missing-template-keys", "version"],
    ],
    [
      ["--allow-missing-template-keys=true", "version"],
      ["--allow-missing-template-keys", "version"],
    ],
  ])("%j → %j", (argv, expected) => {
    expect(normalize(...argv)).toEqual(expected);
  });

  it("a word pflag does not read as a boolean is a usage error", () => {
    const error = usageError(() => normalize("outdated", "--all-namespaces=yes"));
    expect(error.message).toBe(
      'invalid value "yes" for --all-namespaces: a boolean flag takes true or false',
    );
    expect(error.hint).toBe(
      "write --all-namespaces alone, or --all-namespaces=true or --all-namespaces=false",
    );
    expect(parseBoolWord("TRUE", "-A")).toBe(true);
    expect(parseBoolWord("0", "-A")).toBe(false);
  });

  it("leaves alone the values of flags that take one, words after --, and unknown flags", () => {
    expect(normalize("-n", "--all-namespaces=true", "outdated")).toEqual([
      "-n",
      "--all-namespaces=true",
      "outdated",
    ]);
    expect(normalize("outdated", "--selector=app=true", "-l", "-A=true")).toEqual([
      "outdated",
      "--selector=app=true",
      "-l",
      "-A=true",
    ]);
    expect(normalize("migrate", "--", "--force=true", "-v")).toEqual(["migrate", "--", "--force=true", "-v"]);
    expect(normalize("migrate", "--bogus=true")).toEqual(["migrate", "--bogus=true"]);
    // --all-namespaces belongs to outdated, not to migrate.
    expect(normalize("migrate", "--all-namespaces=true")).toEqual(["migrate", "--all-namespaces=true"]);
  });

  it("-X=VALUE on a short flag that takes a value drops the = as pflag does", () => {
    expect(normalize("-o=jsonpath={.a}", "-n=demo", "outdated")).toEqual([
      "-o",
      "jsonpath={.a}",
      "-n",
      "demo",
      "outdated",
    ]);
  });
});

describe("--dry-run[=MODE]", () => {
  it("a bare --dry-run is attached its preset, so the next word stays the VM", () => {
    expect(normalize("migrate", "--dry-run", "fedora-web")).toEqual([
      "migrate",
      "--dry-run=server",
      "fedora-web",
    ]);
    expect(normalize("cancel", "--dry-run=client", "x")).toEqual(["cancel", "--dry-run=client", "x"]);
  });
});
