// kvmig migrate VM: the flags checked, the start (operations/start-migration.ts: pre-flight,
// then the migrate subresource) with its verdicts shown, then the migration followed to its end
// (operations/follow-migration.ts) and summarised (render/follow-report.ts).

import type { DryRunMode, MigrateOptions } from "../cli-tree/options.js";
import type { CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import { objectName, writeData } from "../io/output.js";
import { clusterName } from "../k8s/kube-client.js";
import { preflightBridgeNetworks } from "../migration/preflight.js";
import { addressesAfter, addressesBefore } from "../operations/bridge-addresses.js";
import { followToEnd } from "../operations/follow-migration.js";
import { startMigration } from "../operations/start-migration.js";
import { followScreen, reportFollow } from "../render/follow-report.js";
import { renderVerdicts } from "../render/migration-render.js";
import { vmOrPick } from "../render/vm-picker.js";
import { kvmigCommand } from "../util/shell.js";

export interface MigrateFlags {
  vm: string;
  targetNode?: string | undefined;
  nodeSelector?: Record<string, string> | undefined;
  dryRun: DryRunMode;
  force: boolean;
  wait: boolean;
  timeoutMs: number;
  prometheusUrl?: string | undefined;
}

/** `k=v,k2=v2` → a map, or a usage error naming the flag. */
export function parseNodeSelector(text: string, flag = "--node-selector"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    const match = /^\s*([A-Za-z0-9./_-]+)\s*=\s*([A-Za-z0-9._-]*)\s*$/.exec(part);
    if (!match?.[1]) {
      throw new UsageError(`invalid ${flag} "${text}"`, {
        hint: "write it as key=value[,key=value], e.g. topology.kubernetes.io/zone=a",
      });
    }
    out[match[1]] = match[2] ?? "";
  }
  return out;
}

export async function runMigrate(flags: MigrateFlags, ctx: CommandContext): Promise<void> {
  const kube = await ctx.kube();
  const namespace = kube.namespace;
  const text = ctx.io.mode === "text";
  const start = await startMigration(
    kube,
    {
      namespace,
      vmName: flags.vm,
      targetNode: flags.targetNode,
      nodeSelector: flags.nodeSelector,
      force: flags.force,
      dryRun: flags.dryRun !== "none",
      clientOnly: flags.dryRun === "client",
      clock: ctx.clock,
      signal: ctx.signal,
      forecast: { prometheusUrl: flags.prometheusUrl },
    },
    {
      onPreflight: (verdicts) => {
        if (text)
          renderVerdicts(ctx.io, `pre-flight ${namespace}/${flags.vm} on ${clusterName(kube)}`, verdicts);
      },
      onRaced: () =>
        ctx.io.err(
          "another migration of this VM started meanwhile; following it instead of starting a second one",
        ),
    },
  );

  if (start.kind === "dry-run") {
    const { existing, selector, verdicts } = start;
    // The dry run's result is the command's result: on stdout, as cancel's and restart's are
    // (the pre-flight verdicts above stay on stderr).
    await writeData(
      ctx.io,
      ctx.io.mode,
      { vm: flags.vm, namespace, dryRun: true, wouldFollow: existing?.metadata.name ?? null, verdicts },
      () =>
        ctx.io.out(
          existing
            ? `dry run: migration ${existing.metadata.name} is already in progress; kvmig would follow it`
            : flags.dryRun === "client"
              ? `dry run (client): the pre-flight checks allow migrating ${namespace}/${flags.vm} off ${start.preflight.vmi?.status?.nodeName ?? "its node"}; nothing was sent to the API server`
              : `dry run: the API server accepted migrating ${namespace}/${flags.vm} off ${start.preflight.vmi?.status?.nodeName ?? "its node"}${
                  selector
                    ? ` to a node with ${Object.entries(selector)
                        .map(([k, v]) => `${k}=${v}`)
                        .join(",")}`
                    : ""
                }; nothing was changed`,
        ),
      // -o name: the migration a real run would follow; a new one has no name before it exists.
      (d) => [objectName("vmim", d.wouldFollow)],
    );
    return;
  }

  const { migration } = start;
  // Whether this run started the migration it reports on (false: one was already in flight).
  const started = start.origin === "started";
  if (text && started)
    ctx.io.err(
      `migration ${migration.metadata.name} started for ${namespace}/${flags.vm} on ${start.preflight.vmi?.status?.nodeName ?? "?"}`,
    );
  else if (text && start.origin === "in-flight")
    ctx.io.err(`following migration ${migration.metadata.name} (${migration.status?.phase || "Pending"})`);

  if (!flags.wait) {
    const name = migration.metadata.name;
    const phase = migration.status?.phase ?? "";
    const follow = kvmigCommand(["watch", flags.vm, "-n", namespace]);
    // `started: false`: the migration named was already in flight, and kvmig started none.
    await writeData(
      ctx.io,
      ctx.io.mode,
      { vm: flags.vm, namespace, migration: name, phase, started },
      () =>
        ctx.io.out(
          started
            ? `migration ${name} started; follow it with: ${follow}`
            : `migration ${name} was already in progress (${phase || "Pending"}); no other was started; follow it with: ${follow}`,
        ),
      () => [objectName("vmim", name)],
    );
    return;
  }
  const screen = followScreen(ctx, kube, { showEvents: false });
  const result = await followToEnd(
    kube,
    {
      namespace,
      vmName: flags.vm,
      migration,
      signal: ctx.signal,
      timeoutMs: flags.timeoutMs,
      clock: ctx.clock,
      prometheusUrl: flags.prometheusUrl,
      debug: ctx.debug,
      outage: screen.outage,
    },
    screen.observer,
  );
  // The bridge networks' addresses before and after (operations/bridge-addresses.ts).
  const before = addressesBefore(preflightBridgeNetworks(start.preflight), start.preflight.vmi);
  const networks =
    result.end.view.outcome === "succeeded"
      ? await addressesAfter(kube, {
          namespace,
          vmiName: start.preflight.vmi?.metadata.name ?? flags.vm,
          targetNode: result.end.view.targetNode,
          before,
          clock: ctx.clock,
          signal: ctx.signal,
        })
      : before;
  await reportFollow(ctx, { namespace, vmName: flags.vm, started }, result, networks);
}

/** The action of `kvmig migrate` (cli-tree/tree.ts): the flags checked and parsed, then runMigrate. */
export async function migrateAction(
  vmArg: string | undefined,
  options: MigrateOptions,
  ctx: CommandContext,
): Promise<void> {
  if (options.nodeSelector !== undefined && options.addedNodeSelector !== undefined) {
    throw new UsageError("--node-selector and --addedNodeSelector cannot be combined", {
      hint: "--addedNodeSelector is virtctl's spelling of --node-selector: give the labels once",
    });
  }
  const nodeSelector = options.nodeSelector ?? options.addedNodeSelector;
  const selectorFlag = options.addedNodeSelector !== undefined ? "--addedNodeSelector" : "--node-selector";
  if (options.targetNode !== undefined && nodeSelector !== undefined) {
    throw new UsageError(`--target-node and ${selectorFlag} cannot be combined`, {
      hint: `--target-node NODE means ${selectorFlag} kubernetes.io/hostname=NODE; add the other labels to that`,
    });
  }
  const vm = await vmOrPick(ctx, vmArg, "migrate");
  await runMigrate(
    {
      vm,
      targetNode: options.targetNode,
      nodeSelector: nodeSelector === undefined ? undefined : parseNodeSelector(nodeSelector, selectorFlag),
      dryRun: options.dryRun,
      force: options.force,
      wait: options.wait,
      timeoutMs: parseDuration(options.timeout, "--timeout"),
      prometheusUrl: options.prometheusUrl,
    },
    ctx,
  );
}
