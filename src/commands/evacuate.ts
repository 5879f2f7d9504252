// kvmig evacuate NODE: node maintenance with eyes (issue 22). The plan first (operations/
// evacuation-plan.ts; --dry-run stops there and changes nothing), one confirmation naming the
// cluster, then the node cordoned and KubeVirt's own evacuation followed VM by VM (operations/
// evacuate-node.ts), a summary, what is left on the node and the next step. --cancel stops a
// node's evacuation and uncordons the node when kvmig cordoned it.

import type { DryRunMode, EvacuateOptions } from "../cli-tree/options.js";
import type { CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import {
  InterruptedError,
  OperationFailedError,
  PreflightRefusedError,
  TimeoutError,
  UsageError,
} from "../errors.js";
import { objectName, writeDocument } from "../io/output.js";
import { clusterName, type KubeClient } from "../k8s/kube-client.js";
import type { EvacuationPlan } from "../migration/evacuation-plan.js";
import { cancelEvacuation } from "../operations/cancel-evacuation.js";
import { type EvacuateOutcome, evacuateNode } from "../operations/evacuate-node.js";
import { checkEvacuationAccess } from "../operations/evacuation-access.js";
import { readEvacuationPlan } from "../operations/evacuation-plan.js";
import { evacuationJson, evacuationScreen, planLines, summaryTable } from "../render/evacuate.js";
import { commandLine, kvmigCommand } from "../util/shell.js";
import { plural } from "../util/words.js";

export interface EvacuateFlags {
  dryRun: DryRunMode;
  yes: boolean;
  force: boolean;
  restart: boolean;
  cancel: boolean;
  timeoutMs: number;
}

/** The width tables are cut to on stdout: the terminal's, or none (a pipe, a file). */
function outColumns(ctx: CommandContext): number | undefined {
  return ctx.io.stdoutIsTTY ? ctx.io.columns : undefined;
}

/** The document on stdout as JSON or YAML; -o name prints the node (evacuate's object, as for kubectl drain). */
async function writeData(ctx: CommandContext, document: unknown, node: string): Promise<void> {
  if (ctx.io.mode === "json") {
    writeDocument(ctx.io, document, () => [objectName("node", node)]);
    return;
  }
  const { loadYamlWriter } = await import("../io/yaml.js");
  ctx.io.out((await loadYamlWriter())(document).trimEnd());
}

/** Without NODE: on a terminal, a list of the nodes with their VM counts; else a usage error. */
async function pickNode(kube: KubeClient, ctx: CommandContext): Promise<string> {
  if (!ctx.prompter.interactive) {
    throw new UsageError("evacuate needs a NODE", {
      hint: `list the nodes with: ${commandLine(["kubectl", "get", "nodes"])}`,
    });
  }
  const nodes = await kube.list("node");
  const counts = new Map<string, number>();
  for await (const page of kube.listPages("vmi")) {
    for (const vmi of page) {
      const where = vmi.status?.nodeName;
      if (where) counts.set(where, (counts.get(where) ?? 0) + 1);
    }
  }
  if (nodes.length === 0) throw new UsageError("the cluster has no nodes to evacuate");
  return ctx.prompter.select<string>({
    message: `Which node of ${clusterName(kube)} to evacuate?`,
    flag: "NODE",
    choices: nodes
      .map((n) => n.metadata.name ?? "")
      .sort()
      .map((name) => {
        const spec = nodes.find((n) => n.metadata.name === name)?.spec as
          | { unschedulable?: boolean }
          | undefined;
        return {
          name: `${name}  ${plural(counts.get(name) ?? 0, "VM")}${spec?.unschedulable ? "  (cordoned)" : ""}`,
          value: name,
        };
      }),
  });
}

async function runCancel(kube: KubeClient, node: string, flags: EvacuateFlags, ctx: CommandContext) {
  const outcome = await cancelEvacuation(kube, node, {
    dryRun: flags.dryRun !== "none",
    clientOnly: flags.dryRun === "client",
  });
  if (ctx.io.mode !== "text") {
    await writeData(ctx, outcome, node);
  } else {
    const dry =
      flags.dryRun === "client"
        ? " (dry run, client: nothing sent)"
        : flags.dryRun === "server"
          ? " (dry run: nothing changed)"
          : "";
    // Nothing cancelled with errors: the VMs are marked still, and the error at the end names them.
    if (outcome.cancelled.length > 0 || outcome.errors.length === 0)
      ctx.io.out(
        outcome.cancelled.length === 0
          ? `no VM is marked for evacuation from ${node}${dry}`
          : `cancelled the evacuation of ${plural(outcome.cancelled.length, "VM")} from ${node}${dry}: ${outcome.cancelled.map((c) => `${c.namespace}/${c.vmi}`).join(", ")}`,
      );
    for (const d of outcome.deleted)
      ctx.io.out(`deleted ${d.namespace}/${d.migration}, which had not started${dry}`);
    for (const r of outcome.running)
      ctx.io.out(
        `${r.namespace}/${r.migration} (${r.vmi}) is running and goes on to its end; stop it with: ${kvmigCommand(["cancel", r.vmi, "-n", r.namespace])}`,
      );
    if (outcome.uncordoned) ctx.io.out(`uncordoned ${node}${dry}`);
    else if (outcome.cordonedByOther)
      ctx.io.out(
        `${node} stays cordoned: kvmig did not cordon it; uncordon it with: ${commandLine(["kubectl", "uncordon", node])}`,
      );
  }
  if (outcome.errors.length > 0) {
    throw new OperationFailedError(`could not cancel everything: ${outcome.errors.join("; ")}`);
  }
}

/** The question before anything changes; declining is exit 130 with nothing changed. */
async function confirm(ctx: CommandContext, kube: KubeClient, plan: EvacuationPlan, flags: EvacuateFlags) {
  if (flags.yes) return;
  const migrate = plan.vms.filter((v) => v.action === "migrate").length;
  const restarts = plan.vms.filter((v) => v.action === "restart");
  const restartText =
    restarts.length > 0
      ? ` and restart ${plural(restarts.length, "VM")} with downtime (${restarts.map((v) => `${v.namespace}/${v.vm}`).join(", ")})`
      : "";
  const ok = await ctx.prompter.confirm({
    message: `${plan.cordoned ? "Evacuate" : "Cordon"} ${plan.node}${plan.cordoned ? "" : " and evacuate it"} on ${clusterName(kube)}: live-migrate ${plural(migrate, "VM")}${restartText}?`,
    flag: "--yes",
    default: false,
  });
  if (!ok) throw new InterruptedError("declined; nothing was changed");
}

/** The exit of a run: interrupted (130), failed or blocked VMs or VMs left (3), timed out (6), else 0. */
export function outcomeError(outcome: EvacuateOutcome, node: string): Error | undefined {
  const cancel = kvmigCommand(["evacuate", node, "--cancel"]);
  const follow = kvmigCommand(["watch", "--node", node]);
  if (outcome.interrupted)
    return new InterruptedError(
      `interrupted: kvmig stopped following; KubeVirt's evacuation of ${node} goes on`,
      {
        hint: `follow it with: ${follow}; pick it up again with: ${kvmigCommand(["evacuate", node])}; stop it with: ${cancel}`,
      },
    );
  if (outcome.timedOut)
    return new TimeoutError(
      `the evacuation of ${node} did not end within the --timeout; KubeVirt's evacuation goes on`,
      {
        hint: `follow it with: ${follow}; stop it with: ${cancel}`,
      },
    );
  const stuck = outcome.results.filter((r) => r.outcome === "failed" || r.outcome === "blocked");
  if (stuck.length > 0 || outcome.remaining.length > 0) {
    const names = stuck.map((r) => `${r.namespace}/${r.vm} (${r.outcome})`);
    const others = outcome.remaining.filter(
      (v) => !stuck.some((r) => r.namespace === v.namespace && r.vmi === v.vmi),
    );
    const what = [...names, ...others.map((v) => `${v.namespace}/${v.vmi} (still there)`)];
    const first = stuck.find((r) => r.outcome === "failed");
    return new OperationFailedError(`${plural(what.length, "VM")} still on ${node}: ${what.join(", ")}`, {
      hint: first
        ? `see why with: ${kvmigCommand(["diagnose", first.vm, "-n", first.namespace])}`
        : `the summary says how to move each; ${node} stays cordoned (uncordon it with: ${commandLine(["kubectl", "uncordon", node])})`,
    });
  }
  return undefined;
}

export async function runEvacuate(nodeArg: string | undefined, flags: EvacuateFlags, ctx: CommandContext) {
  const kube = await ctx.kube();
  const node = nodeArg ?? (await pickNode(kube, ctx));
  if (flags.cancel) {
    await runCancel(kube, node, flags, ctx);
    return;
  }
  const text = ctx.io.mode === "text";
  const plan = await readEvacuationPlan(kube, node, { restart: flags.restart });
  const errors = plan.problems.filter((p) => p.severity === "error");

  if (flags.dryRun !== "none") {
    if (text) for (const line of planLines(plan, ctx, outColumns(ctx))) ctx.io.out(line);
    else await writeData(ctx, { node, dryRun: true, cordoned: plan.cordoned, plan }, node);
    if (errors.length > 0 && !flags.force)
      throw new PreflightRefusedError(`pre-flight: ${errors[0]?.message}`, {
        hint: errors[0]?.hint ?? "--force starts anyway",
      });
    return;
  }
  if (text)
    for (const line of planLines(plan, ctx, ctx.io.stderrIsTTY ? ctx.io.columns : undefined))
      ctx.io.err(line);
  if (errors.length > 0 && !flags.force) {
    throw new PreflightRefusedError(`pre-flight: ${errors[0]?.message}`, {
      hint: `${errors[0]?.hint ? `${errors[0].hint}; ` : ""}--force evacuates anyway`,
    });
  }
  if (plan.vms.length === 0) {
    if (text) {
      ctx.io.out(`no VM runs on ${node}`);
      ctx.io.out(
        `next: ${commandLine(["kubectl", "drain", node, "--ignore-daemonsets", "--delete-emptydir-data"])}`,
      );
    } else await writeData(ctx, { node, cordoned: plan.cordoned, results: [], remaining: [] }, node);
    return;
  }
  // A missing permission stops here, before the cordon: never a cordoned node with nothing moving.
  const accessWarnings = await checkEvacuationAccess(kube, plan);
  if (text) for (const warning of accessWarnings) ctx.io.err(`warning: ${warning}`);
  await confirm(ctx, kube, plan, flags);
  if (text) ctx.io.err("");

  const screen = evacuationScreen(ctx, node);
  let outcome: EvacuateOutcome;
  try {
    outcome = await evacuateNode(
      kube,
      {
        plan,
        timeoutMs: flags.timeoutMs,
        clock: ctx.clock,
        signal: ctx.signal,
        debug: ctx.debug,
        specificityOf: await specificity(),
      },
      screen.observer,
    );
  } finally {
    screen.stop();
  }

  if (!text) await writeData(ctx, evacuationJson(outcome, { interrupted: outcome.interrupted }), node);
  else {
    if (outcome.results.length > 0) {
      ctx.io.out("");
      ctx.io.out(`from ${node}:`);
      ctx.io.out(summaryTable(outcome.results, outColumns(ctx)));
    }
    ctx.io.out("");
    if (outcome.remaining.length === 0) {
      ctx.io.out(`no VM is left on ${node}${outcome.cordoned ? " (cordoned)" : ""}`);
      ctx.io.out(
        `next: ${commandLine(["kubectl", "drain", node, "--ignore-daemonsets", "--delete-emptydir-data"])}; after the maintenance: ${commandLine(["kubectl", "uncordon", node])}`,
      );
    } else {
      ctx.io.out(
        `still on ${node}: ${outcome.remaining.map((v) => `${v.namespace}/${v.vmi}`).join(", ")}${outcome.cordoned ? ` (${node} stays cordoned)` : ""}`,
      );
      for (const r of outcome.results.filter(
        (x) => x.fix && (x.outcome === "failed" || x.outcome === "blocked"),
      ))
        ctx.io.out(`  ${r.namespace}/${r.vm}: ${r.fix}`);
    }
  }
  const error = outcomeError(outcome, node);
  if (error) throw error;
}

/** Diagnose's specificity of each rule, to name a failure's root cause. */
async function specificity(): Promise<
  (id: string) => "cause" | "symptom" | "pattern" | "fallback" | undefined
> {
  const { registeredRules } = await import("../diagnose/registry.js");
  const byId = new Map(registeredRules().map((rule) => [rule.id, rule.specificity]));
  return (id) => byId.get(id);
}

/** The action of `kvmig evacuate` (cli-tree/tree.ts): the flags parsed, then runEvacuate. */
export async function evacuateAction(
  nodeArg: string | undefined,
  options: EvacuateOptions,
  ctx: CommandContext,
): Promise<void> {
  await runEvacuate(
    nodeArg,
    {
      dryRun: options.dryRun,
      yes: options.yes,
      force: options.force,
      restart: options.restart,
      cancel: options.cancel,
      timeoutMs: parseDuration(options.timeout, "--timeout"),
    },
    ctx,
  );
}
