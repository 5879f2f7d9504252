// kvmig help [COMMAND|TOPIC]: a command's help (as `kvmig COMMAND --help`), or one of the
// reference topics that do not belong to a single command: exit codes, the failure modes
// diagnose knows, and the environment variables kvmig reads.

import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { examples } from "../cli-tree/command.js";
import { type Topic, topics } from "../cli-tree/help-topics.js";
import type { Context } from "../context.js";
import { exitCodeTable, UsageError } from "../errors.js";
import { type OutputFlag, outputModeOf, useOutputFlag, writeData } from "../io/output.js";
import { formatTable } from "../io/table.js";

export interface EnvironmentVariable {
  name: string;
  meaning: string;
}

export const environmentVariables: readonly EnvironmentVariable[] = [
  {
    name: "KUBECONFIG",
    meaning: "kubeconfig files, separated by ':' and merged as kubectl merges them (default: ~/.kube/config)",
  },
  { name: "HOME", meaning: "where ~/.kube/config is looked for" },
  {
    name: "KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT",
    meaning: "inside a pod without a kubeconfig: the API server, reached with the pod's service account",
  },
  {
    name: "HTTPS_PROXY, HTTP_PROXY, NO_PROXY (or in lower case)",
    meaning:
      "the proxy for an https (http) API server, and the hosts reached directly, read as kubectl reads them (localhost and loopback never proxied; a cluster's proxy-url wins)",
  },
  {
    name: "KVMIG_PROMETHEUS_URL",
    meaning:
      "Prometheus to read migration progress from when launcher logs are not readable (--prometheus-url)",
  },
  {
    name: "NO_COLOR",
    meaning: "any non-empty value turns colours off (as --no-color does); see https://no-color.org",
  },
];

function isTopic(name: string): name is Topic {
  return topics.some(([topic]) => topic === name);
}

async function topicData(topic: Topic): Promise<unknown> {
  switch (topic) {
    case "exit-codes":
      return exitCodeTable;
    case "failure-modes": {
      const { ruleCatalog } = await import("../diagnose/registry.js");
      return ruleCatalog();
    }
    case "environment":
      return environmentVariables;
  }
}

async function renderTopic(topic: Topic, ctx: Context): Promise<void> {
  const { io, programName } = ctx;
  const c = io.colors;
  switch (topic) {
    case "exit-codes": {
      const rows = exitCodeTable.map(({ code, meaning }) => [String(code), meaning]);
      io.out(formatTable(["code", "meaning"], rows));
      io.out(
        `\nEvery error is one line saying what happened, and a ${c.dim("hint:")} line saying what to do when there is something to do.`,
      );
      return;
    }
    case "failure-modes": {
      const { ruleCatalog } = await import("../diagnose/registry.js");
      const rows = ruleCatalog().map(({ id, severity, title }) => [id, severity, title]);
      io.out(formatTable(["id", "severity", "title"], rows));
      io.out(
        `\nRun one with: ${programName} diagnose VM --only ID; leave one out with --skip ID.` +
          `\nWith -o json each finding carries the same id.`,
      );
      return;
    }
    case "environment": {
      for (const { name, meaning } of environmentVariables) io.out(`${c.bold(name)}\n    ${meaning}`);
      return;
    }
  }
}

/** `help` replaces commander's own help command, so that topics sit beside command names. */
export function helpCommand(program: CommandUnknownOpts, ctx: Context) {
  const topicList = topics.map(([name, what]) => `  ${name.padEnd(15)}${what}`).join("\n");
  return new Command("help")
    .description("Show help for a command, or one of the topics: exit-codes, failure-modes, environment")
    .argument("[command-or-topic]", "a command name, or exit-codes, failure-modes, environment")
    .addHelpText(
      "after",
      `\nTopics:\n${topicList}\n${examples(
        [
          ["help migrate", "the same as: migrate --help"],
          ["help exit-codes", "the exit-code table"],
          ["help failure-modes -o json", "the failure modes as JSON (id, title, severity)"],
        ],
        ctx.programName,
      )}`,
    )
    .action(async (name) => {
      if (name === undefined) {
        program.outputHelp();
        return;
      }
      if (isTopic(name)) {
        const flag = (program.opts().output as OutputFlag | undefined) ?? { format: "text" };
        if (flag.format === "wide" || flag.format === "name") {
          throw new UsageError(
            flag.format === "wide"
              ? "-o wide is only for commands that print a table"
              : "-o name is only for commands whose output names Kubernetes objects",
            { hint: "use -o text, json, yaml or jsonpath=TEMPLATE here" },
          );
        }
        ctx.io.setOutputMode(outputModeOf(flag.format));
        await useOutputFlag(ctx.io, flag, {
          allowMissingKeys: program.opts().allowMissingTemplateKeys !== false,
        });
        await writeData(ctx.io, ctx.io.mode, await topicData(name), () => renderTopic(name, ctx));
        return;
      }
      const command = program.commands.find((c) => c.name() === name);
      if (command) {
        command.outputHelp();
        return;
      }
      const commands = program.commands
        .map((c) => c.name())
        .filter((n) => n !== "help" && !n.startsWith("_"));
      throw new UsageError(`no command or help topic named "${name}"`, {
        hint: `topics: ${topics.map(([t]) => t).join(", ")}; commands: ${commands.join(", ")}`,
      });
    });
}
