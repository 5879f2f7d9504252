// kvmig watch [VM]: with a VM, its current (or latest) migration followed like migrate does,
// plus the VMI and VMIM events as they arrive; without, the table of migrations in scope.

import { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import { NotFoundError, UsageError } from "../errors.js";
import { unfinishedMigration } from "../migration/preflight.js";
import { kvmigCommand } from "../util/shell.js";
import { examples, type Runner } from "./command.js";
import { followAndReport, prometheusOption } from "./follow-report.js";
import { listMigrationsOf, readVm } from "./vm-lookup.js";
import { vmOrPick } from "./vm-picker.js";
import { watchTable } from "./watch-table.js";

export interface WatchFlags {
  vm?: string | undefined;
  allNamespaces: boolean;
  selector?: string | undefined;
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
    await watchTable(kube, ctx, {
      namespace: flags.allNamespaces ? undefined : kube.namespace,
      selector: flags.selector,
      exitOnDone: flags.exitOnDone,
      wide: ctx.options.output === "wide",
      noHeaders: flags.noHeaders,
    });
    return;
  }

  if (flags.allNamespaces) {
    throw new UsageError("a VM name and --all-namespaces cannot be combined", {
      hint: "name the VM's namespace with -n, or leave out the VM to watch every migration",
    });
  }
  const namespace = kube.namespace;
  const [migrations] = await Promise.all([
    listMigrationsOf(kube, namespace, flags.vm),
    readVm(kube, namespace, flags.vm),
  ]);
  const migration =
    unfinishedMigration(migrations) ??
    [...migrations]
      .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""))
      .at(-1);
  if (!migration) {
    throw new NotFoundError(`no migration found for ${namespace}/${flags.vm}`, {
      hint: `start one with: ${kvmigCommand(["migrate", flags.vm, "-n", namespace])}`,
    });
  }
  await followAndReport(kube, ctx, {
    namespace,
    vmName: flags.vm,
    migration,
    timeoutMs: flags.timeoutMs,
    prometheusUrl: flags.prometheusUrl,
    showEvents: true,
  });
}

export function watchCommand(run: Runner, programName: string) {
  return new Command("watch")
    .description("Follow migrations live: one VM's current migration, or every migration in scope")
    .argument("[vm]", "follow this VM's current (or latest) migration")
    .option("-A, --all-namespaces", "every namespace", false)
    .option("-l, --selector <selector>", "only migrations with these labels, e.g. kubevirt.io/vmi-name=db-1")
    .option("--exit-on-done", "return once no migration is in flight", false)
    .option("--pick", "choose the VM to follow from a list of the namespace's VMs (on a terminal)", false)
    .option("--no-headers", "the table without its column names")
    .option(
      "--timeout <duration>",
      "stop following after this long (the migration goes on); 0 for no limit",
      "0",
    )
    .addOption(prometheusOption())
    .addHelpText(
      "after",
      examples(
        [
          ["watch -A", "every migration in the cluster, live"],
          ["watch fedora-web -n demo", "one VM's migration with its events"],
          ["watch --pick -n demo", "choose the VM from a list, then follow it"],
          ["watch -n demo -o json --exit-on-done", "NDJSON until nothing is in flight"],
          ["watch -A -o wide", "the table with each migration's name and start time"],
        ],
        programName,
      ),
    )
    .action((vmArg, options) =>
      run(
        async (ctx) => {
          if ((vmArg !== undefined || options.pick) && options.selector !== undefined) {
            throw new UsageError("-l/--selector is for the table of migrations, not for one VM", {
              hint: "leave out the VM (or --pick) to watch the migrations the selector matches",
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
              exitOnDone: options.exitOnDone,
              timeoutMs: parseDuration(options.timeout, "--timeout"),
              prometheusUrl: options.prometheusUrl,
              noHeaders: !options.headers,
            },
            ctx,
          );
        },
        { wide: true },
      ),
    );
}
