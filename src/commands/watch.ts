// kvmig watch [VM]: with a VM, its current (or latest) migration followed like migrate does,
// plus the VMI and VMIM events as they arrive; without, the table of migrations in scope
// (operations/watch-migrations.ts, rendered by render/watch-table.ts); with --node, only the
// migrations from or to that node, in every namespace unless -n names one (a drain someone else
// started).

import type { WatchOptions } from "../cli-tree/options.js";
import type { CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import { NotFoundError, UsageError } from "../errors.js";
import { isNotFound } from "../k8s/api-errors.js";
import { clusterName, type KubeClient } from "../k8s/kube-client.js";
import { requireNamespace } from "../k8s/namespace.js";
import { unfinishedMigration } from "../migration/preflight.js";
import { followToEnd } from "../operations/follow-migration.js";
import { readVmWithMigrations } from "../operations/read-vm.js";
import { type WatchMigrationsResult, watchMigrations } from "../operations/watch-migrations.js";
import { followScreen, reportFollow } from "../render/follow-report.js";
import { vmOrPick } from "../render/vm-picker.js";
import { migrationsTable, watchTimedOut } from "../render/watch-table.js";
import { compareText } from "../util/order.js";
import { commandLine, kvmigCommand } from "../util/shell.js";

export interface WatchFlags {
  vm?: string | undefined;
  allNamespaces: boolean;
  selector?: string | undefined;
  /** Only the migrations from or to this node. */
  node?: string | undefined;
  exitOnDone: boolean;
  timeoutMs: number;
  prometheusUrl?: string | undefined;
  noHeaders?: boolean | undefined;
}

export async function runWatch(flags: WatchFlags, ctx: CommandContext): Promise<void> {
  if (flags.vm !== undefined && ctx.options.output === "wide") {
    throw new UsageError("-o wide is for the table of migrations, not for one VM", {
      hint: "leave out the VM for the table, or use -o text, json or yaml with it",
    });
  }
  const kube = await ctx.kube();
  if (flags.vm === undefined) {
    // --node looks at every namespace unless -n names one.
    const everywhere =
      flags.allNamespaces || (flags.node !== undefined && ctx.options.namespace === undefined);
    if (!everywhere) await requireNamespace(kube, kube.namespace);
    if (flags.node !== undefined) await requireNode(kube, flags.node, ctx);
    const scope = {
      namespace: everywhere ? undefined : kube.namespace,
      selector: flags.selector,
      node: flags.node,
    };
    const table = await migrationsTable(ctx, {
      ...scope,
      wide: ctx.options.output === "wide",
      noHeaders: flags.noHeaders,
    });
    let result: WatchMigrationsResult;
    try {
      result = await watchMigrations(
        kube,
        {
          ...scope,
          exitOnDone: flags.exitOnDone,
          timeoutMs: flags.timeoutMs,
          clock: ctx.clock,
          signal: ctx.signal,
          debug: ctx.debug,
          outage: table.outage,
        },
        table.observer,
      );
    } finally {
      table.end();
    }
    if (result.timedOut) throw watchTimedOut(scope, result);
    return;
  }

  if (flags.allNamespaces) {
    throw new UsageError("a VM name and --all-namespaces cannot be combined", {
      hint: "name the VM's namespace with -n, or leave out the VM to watch every migration",
    });
  }
  const namespace = kube.namespace;
  const { migrations, vmi } = await readVmWithMigrations(kube, namespace, flags.vm);
  const migration =
    unfinishedMigration(migrations) ??
    [...migrations]
      .sort((a, b) => compareText(a.metadata.creationTimestamp ?? "", b.metadata.creationTimestamp ?? ""))
      .at(-1);
  if (!migration) {
    // A stopped VM has nothing to migrate: it wants a start, not a migration.
    throw new NotFoundError(`no migration found for ${namespace}/${flags.vm}`, {
      hint: vmi
        ? `start one with: ${kvmigCommand(["migrate", flags.vm, "-n", namespace])}`
        : `the VM is not running (no VMI), so there is nothing to migrate; start it with: ${commandLine(["virtctl", "start", flags.vm, "-n", namespace])}`,
    });
  }
  const screen = followScreen(ctx, kube, { showEvents: true });
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
  await reportFollow(ctx, { namespace, vmName: flags.vm, started: false }, result);
}

/** A node that does not exist would be watched forever for nothing: exit 5 with the way to list them. */
async function requireNode(kube: KubeClient, node: string, ctx: CommandContext): Promise<void> {
  try {
    await kube.get("node", node);
  } catch (error) {
    if (!isNotFound(error)) {
      // Not allowed to read nodes, say: the watch itself needs no node.
      ctx.debug(`node ${node} not checked: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    throw new NotFoundError(`there is no node "${node}" in ${clusterName(kube)}`, {
      hint: `list the nodes with: ${commandLine(["kubectl", "get", "nodes"])}`,
    });
  }
}

/** The action of `kvmig watch` (cli-tree/tree.ts): the flags checked, the VM named or picked, then runWatch. */
export async function watchAction(
  vmArg: string | undefined,
  options: WatchOptions,
  ctx: CommandContext,
): Promise<void> {
  if ((vmArg !== undefined || options.pick) && options.selector !== undefined) {
    throw new UsageError("-l/--selector is for the table of migrations, not for one VM", {
      hint: "leave out the VM (or --pick) to watch the migrations the selector matches",
    });
  }
  if (options.node !== undefined && (vmArg !== undefined || options.pick)) {
    throw new UsageError(`--node and ${vmArg !== undefined ? "a VM name" : "--pick"} cannot be combined`, {
      hint: `--node ${options.node} watches every migration from or to the node; to follow one VM, leave out --node`,
    });
  }
  if (options.pick && vmArg !== undefined) {
    throw new UsageError("--pick and a VM name cannot be combined", {
      hint: "name the VM, or pass --pick to choose it from a list",
    });
  }
  // A named VM is checked like every VM argument; without one, --pick asks for it.
  const vm = options.pick || vmArg !== undefined ? await vmOrPick(ctx, vmArg, "watch") : undefined;
  await runWatch(
    {
      vm,
      allNamespaces: options.allNamespaces,
      selector: options.selector,
      node: options.node,
      exitOnDone: options.exitOnDone,
      timeoutMs: parseDuration(options.timeout, "--timeout"),
      prometheusUrl: options.prometheusUrl,
      noHeaders: !options.headers,
    },
    ctx,
  );
}
