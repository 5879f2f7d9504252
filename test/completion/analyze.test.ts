// The word analysis of shell completion, on a small commander tree shaped like kvmig's: which
// command the line is in, which values it sets, and what the word under the cursor is.
import { Command, type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { describe, expect, it } from "vitest";
import {
  acceptedOptions,
  analyzeLine,
  type LineAnalysis,
  subcommands,
} from "../../src/completion/analyze.js";

function tree(): CommandUnknownOpts {
  const root = new Command("kvmig")
    .version("1.0.0", "--version")
    .option("--kubeconfig <path>", "kubeconfig")
    .option("--context <name>", "context")
    .option("-n, --namespace <namespace>", "namespace")
    .addOption(new Option("-o, --output <format>", "format").choices(["text", "json", "yaml", "wide"]))
    .option("-v, --verbose", "verbose")
    .option("--sim <scenario>", "simulated cluster");
  root
    .command("migrate")
    .argument("<vm>", "the VM")
    .option("--target-node <node>", "node")
    .option("--dry-run", "dry run")
    .option("--no-wait", "return at once");
  root
    .command("watch")
    .argument("[vm]", "the VM")
    .option("-A, --all-namespaces", "all")
    .option("-y, --yes", "yes")
    .option("-l, --selector <selector>", "labels");
  root.command("secret", { hidden: true }).argument("[words...]");
  return root as unknown as CommandUnknownOpts;
}

function analyze(...words: string[]): LineAnalysis {
  return analyzeLine(tree(), words, { home: "/home/me" });
}

function summary(line: LineAnalysis) {
  const t = line.target;
  return {
    command: line.command.name(),
    target:
      t.kind === "value"
        ? `value of ${t.option.long}`
        : t.kind === "argument"
          ? `argument ${t.index} (${t.argument?.name() ?? "none"})`
          : t.kind,
    partial: line.partial,
    flagPrefix: line.flagPrefix,
  };
}

describe("the command and the word under the cursor", () => {
  it("an empty line completes a command name of the root", () => {
    expect(summary(analyze(""))).toEqual({
      command: "kvmig",
      target: "command",
      partial: "",
      flagPrefix: "",
    });
    // No words at all is the same as one empty word.
    expect(summary(analyzeLine(tree(), []))).toEqual(summary(analyze("")));
  });

  it("a partial word is the prefix to match", () => {
    expect(summary(analyze("mi"))).toMatchObject({ target: "command", partial: "mi" });
  });

  it("after a command name, its first argument: the VM", () => {
    expect(summary(analyze("migrate", ""))).toEqual({
      command: "migrate",
      target: "argument 0 (vm)",
      partial: "",
      flagPrefix: "",
    });
  });

  it("past the last argument there is no argument to complete", () => {
    const line = analyze("migrate", "fedora-web", "");
    expect(summary(line)).toMatchObject({ command: "migrate", target: "argument 1 (none)" });
    expect(line.positionals).toEqual(["fedora-web"]);
  });

  it("a word starting with - is a flag, -- is a long flag", () => {
    expect(summary(analyze("migrate", "-"))).toMatchObject({
      command: "migrate",
      target: "flag",
      partial: "-",
    });
    expect(summary(analyze("migrate", "--ta"))).toMatchObject({ target: "flag", partial: "--ta" });
  });

  it("global flags before the command name do not hide it", () => {
    const line = analyze("-n", "demo", "--context", "prod", "migrate", "");
    expect(summary(line)).toMatchObject({ command: "migrate", target: "argument 0 (vm)" });
    expect(line.values).toMatchObject({ namespace: "demo", context: "prod" });
  });

  it("a hidden command is still walked into", () => {
    expect(analyze("secret", "").command.name()).toBe("secret");
  });
});

describe("flag values in the line", () => {
  it.each([[["-n", "demo"]], [["--namespace", "demo"]], [["--namespace=demo"]], [["-ndemo"]]])(
    "%j sets the namespace",
    (flags) => {
      const line = analyze("migrate", ...flags, "");
      expect(line.values.namespace).toBe("demo");
      expect(summary(line).target).toBe("argument 0 (vm)");
      expect(line.positionals).toEqual([]);
    },
  );

  it("the last one given wins", () => {
    expect(analyze("-n", "a", "migrate", "--namespace=b", "").values.namespace).toBe("b");
  });

  it("a boolean flag does not take the next word", () => {
    const line = analyze("migrate", "--dry-run", "--no-wait", "fedora-web", "");
    expect(line.positionals).toEqual(["fedora-web"]);
    expect(line.values).toMatchObject({ dryRun: "", wait: "" });
  });

  it("combined short flags: booleans, then one that takes the rest or the next word", () => {
    expect(analyze("watch", "-Ay", "").positionals).toEqual([]);
    const line = analyze("watch", "-Al", "app=web", "");
    expect(line.values.selector).toBe("app=web");
    expect(summary(line).target).toBe("argument 0 (vm)");
    expect(analyze("watch", "-Alapp=db", "").values.selector).toBe("app=db");
  });

  it("a bare --sim takes no value: the next word is still the command", () => {
    const line = analyze("--sim", "migrate", "");
    expect(summary(line)).toMatchObject({ command: "migrate", target: "argument 0 (vm)" });
    expect(line.values.sim).toBe("");
    expect(analyze("--sim=upgrade", "migrate", "").values.sim).toBe("upgrade");
  });

  it("~/ in a path value is the home directory", () => {
    expect(analyze("--kubeconfig", "~/k/config", "migrate", "").values.kubeconfig).toBe("/home/me/k/config");
    expect(analyze("--kubeconfig=~/c", "").values.kubeconfig).toBe("/home/me/c");
  });

  it("an unknown flag is skipped as a boolean", () => {
    const line = analyze("migrate", "--bogus", "");
    expect(summary(line).target).toBe("argument 0 (vm)");
  });
});

describe("completing a flag's value", () => {
  it("the word after a flag that takes a value", () => {
    expect(summary(analyze("migrate", "-n", ""))).toEqual({
      command: "migrate",
      target: "value of --namespace",
      partial: "",
      flagPrefix: "",
    });
    expect(summary(analyze("migrate", "-o", "j"))).toMatchObject({
      target: "value of --output",
      partial: "j",
    });
    expect(summary(analyze("migrate", "--target-node", "no"))).toMatchObject({
      target: "value of --target-node",
      partial: "no",
    });
  });

  it("--flag=partial keeps --flag= in front", () => {
    expect(summary(analyze("migrate", "--namespace=de"))).toEqual({
      command: "migrate",
      target: "value of --namespace",
      partial: "de",
      flagPrefix: "--namespace=",
    });
    expect(summary(analyze("--sim="))).toMatchObject({
      target: "value of --sim",
      partial: "",
      flagPrefix: "--sim=",
    });
  });

  it("-npartial keeps -n in front", () => {
    expect(summary(analyze("migrate", "-nde"))).toMatchObject({
      target: "value of --namespace",
      partial: "de",
      flagPrefix: "-n",
    });
  });

  it("a boolean flag given = completes its value (pflag's --flag=true|false)", () => {
    expect(summary(analyze("migrate", "--dry-run="))).toMatchObject({
      target: "value of --dry-run",
      flagPrefix: "--dry-run=",
    });
  });

  it("-v 6: the number is -v's level, so the next word is still the command", () => {
    expect(summary(analyze("-v", "6", "mi"))).toMatchObject({ target: "command", partial: "mi" });
    expect(summary(analyze("migrate", "-v", "7", ""))).toMatchObject({ target: "argument 0 (vm)" });
  });

  it("a flag kvmig does not know, given =, completes to nothing", () => {
    expect(summary(analyze("migrate", "--bogus="))).toMatchObject({ target: "none", flagPrefix: "--bogus=" });
  });

  it("a value that starts with - is still the value", () => {
    expect(summary(analyze("migrate", "--context", "-"))).toMatchObject({ target: "value of --context" });
  });
});

describe("after --", () => {
  it("every word is an argument, even one that starts with -", () => {
    expect(summary(analyze("migrate", "--", "-x"))).toMatchObject({
      target: "argument 0 (vm)",
      partial: "-x",
    });
    expect(summary(analyze("migrate", "--", ""))).toMatchObject({ target: "argument 0 (vm)", partial: "" });
  });

  it("flags after -- are not read", () => {
    const line = analyze("migrate", "--", "-n", "");
    expect(line.values.namespace).toBeUndefined();
    expect(line.positionals).toEqual(["-n"]);
  });

  it("-- itself, as the word under the cursor, is a flag prefix", () => {
    expect(summary(analyze("migrate", "--"))).toMatchObject({ target: "flag", partial: "--" });
  });
});

describe("what a command offers", () => {
  it("visible subcommands only (the hidden one is left out)", () => {
    const names = subcommands(tree()).map((c) => c.name());
    expect(names).toContain("migrate");
    expect(names).toContain("watch");
    expect(names).not.toContain("secret");
  });

  it("a subcommand's flags: its own, help, and the global ones without --version", () => {
    const root = tree();
    const migrate = root.commands.find((c) => c.name() === "migrate") as CommandUnknownOpts;
    const flags = acceptedOptions([root, migrate]).flatMap((o) => [o.long, o.short].filter(Boolean));
    expect(flags).toEqual(
      expect.arrayContaining([
        "--target-node",
        "--dry-run",
        "--no-wait",
        "--help",
        "-h",
        "--namespace",
        "-n",
      ]),
    );
    expect(flags).not.toContain("--version");
    expect(flags.filter((f) => f === "--help")).toHaveLength(1);
  });

  it("the root's flags include --version", () => {
    const flags = acceptedOptions([tree()]).map((o) => o.long);
    expect(flags).toContain("--version");
    expect(flags).toContain("--sim");
  });
});
