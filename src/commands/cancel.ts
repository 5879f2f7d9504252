// kvmig cancel VM: the VM's unfinished migration shown and confirmed, the abort requested and
// its outcome waited for (operations/cancel-migration.ts: deleting the VMIM is the abort), then
// the outcome said: aborted on the source node, completed first, or the abort failed.

import type { CancelOptions, DryRunMode } from "../cli-tree/options.js";
import type { CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import { InterruptedError, OperationFailedError, TimeoutError } from "../errors.js";
import { objectName, writeData } from "../io/output.js";
import { errProse, outProse } from "../io/wrap.js";
import { clusterName } from "../k8s/kube-client.js";
import { findCancelTarget, requestAbort, waitForAbort } from "../operations/cancel-migration.js";
import { outageNotices } from "../render/outage-notice.js";
import { vmOrPick } from "../render/vm-picker.js";
import { commandLine, kvmigCommand } from "../util/shell.js";

export interface CancelFlags {
  vm: string;
  yes: boolean;
  dryRun: DryRunMode;
  wait: boolean;
  timeoutMs: number;
}

export type CancelOutcome =
  | "aborted"
  | "completed"
  | "abort-failed"
  | "requested"
  | "nothing-to-cancel"
  | "dry-run";

/** -o name: the migration the outcome is about (deleted, or would be), if any. */
const migrationNames = (data: Record<string, unknown>) => [
  objectName("vmim", typeof data.migration === "string" ? data.migration : null),
];

/** The picker found no VM with an unfinished migration: nothing to cancel, which is not an error. */
async function nothingToCancelAnywhere(ctx: CommandContext): Promise<void> {
  const { namespace } = await ctx.kube();
  await writeData(
    ctx.io,
    ctx.io.mode,
    { vm: null, namespace, outcome: "nothing-to-cancel", migration: null, evacuationNodeName: null },
    () => outProse(ctx.io, `nothing to cancel: no VM in namespace ${namespace} has an unfinished migration`),
    migrationNames,
  );
}

export async function runCancel(flags: CancelFlags, ctx: CommandContext): Promise<void> {
  const kube = await ctx.kube();
  const namespace = kube.namespace;
  const found = await findCancelTarget(kube, namespace, flags.vm);
  const { vmi, evacuation, requestedAt } = found;
  const evacuationHint = () => {
    if (!evacuation) return;
    const evacuateCancel = commandLine(["virtctl", "evacuate-cancel", "vmi", flags.vm, "-n", namespace]);
    // KubeVirt migrates a marked VMI only with strategy LiveMigrate (or LiveMigrateIfPossible)
    // and LiveMigratable=True; an External one is left to whatever acts on the mark.
    if (found.evacuationMigrates === false) {
      const strategy = found.evictionStrategy ?? "unknown";
      const why =
        strategy === "External" || strategy === "None"
          ? `eviction strategy ${strategy}`
          : `eviction strategy ${strategy}, not live-migratable`;
      errProse(
        ctx.io,
        `note: ${namespace}/${flags.vm} is marked for evacuation from ${evacuation} (a drain), but KubeVirt does not migrate it (${why}); to clear the mark: ${evacuateCancel}`,
      );
      return;
    }
    errProse(
      ctx.io,
      `note: ${namespace}/${flags.vm} is being evacuated from ${evacuation} (a drain); KubeVirt will create new migrations until the evacuation is cancelled: ${evacuateCancel}`,
    );
  };
  const result = (outcome: CancelOutcome, extra: Record<string, unknown> = {}) => ({
    vm: flags.vm,
    namespace,
    outcome,
    evacuationNodeName: evacuation ?? null,
    ...extra,
  });

  const migration = found.migration;
  if (!migration) {
    await writeData(
      ctx.io,
      ctx.io.mode,
      result("nothing-to-cancel", { migration: null }),
      () => outProse(ctx.io, `nothing to cancel: ${namespace}/${flags.vm} has no unfinished migration`),
      migrationNames,
    );
    evacuationHint();
    return;
  }
  const target = { ...found, migration };
  const name = migration.metadata.name ?? "";
  const phase = migration.status?.phase || "Pending";
  const state = vmi?.status?.migrationState;
  const ours = state?.migrationUid === migration.metadata.uid;
  const route =
    ours && state?.targetNode
      ? `${state.sourceNode ?? vmi?.status?.nodeName} → ${state.targetNode}`
      : `on ${vmi?.status?.nodeName ?? "?"}`;

  // Asked before (an earlier cancel, maybe interrupted): the deletion is under way; asking again
  // would change nothing, so say so and wait for the outcome like the first call would have.
  // A dry run changes nothing, so there is nothing to confirm (as with kubectl delete --dry-run).
  const dryRun = flags.dryRun !== "none";
  if (!flags.yes && !dryRun && !requestedAt) {
    const ok = await ctx.prompter.confirm({
      message: `Cancel migration ${name} of ${namespace}/${flags.vm} (${phase}, ${route}) on ${clusterName(kube)}?`,
      flag: "--yes",
      default: false,
    });
    if (!ok) throw new InterruptedError("cancel declined; nothing was changed");
  }

  // --dry-run=client sends nothing; server, the API server's dry run of the deletion.
  if (flags.dryRun !== "client") await requestAbort(kube, target, { dryRun });
  // In the data: when an earlier cancel requested the abort (this run then sent nothing), or null.
  const alreadyRequestedAt = requestedAt ?? null;
  if (dryRun) {
    const dry = flags.dryRun === "client" ? "dry run (client)" : "dry run";
    await writeData(
      ctx.io,
      ctx.io.mode,
      result("dry-run", { migration: name, phase, alreadyRequestedAt }),
      () =>
        outProse(
          ctx.io,
          requestedAt
            ? `${dry}: the abort of migration ${name} (${phase}) was already requested at ${requestedAt}; nothing was changed`
            : `${dry}: would delete migration ${name} (${phase}) to cancel it; nothing was changed`,
        ),
      migrationNames,
    );
    return;
  }
  const requested = requestedAt
    ? `the abort of migration ${name} (${phase}) was already requested at ${requestedAt}`
    : `abort requested: migration ${name} (${phase}) is being cancelled`;
  if (!flags.wait) {
    await writeData(
      ctx.io,
      ctx.io.mode,
      result("requested", { migration: name, phase, alreadyRequestedAt }),
      () => outProse(ctx.io, requested),
      migrationNames,
    );
    evacuationHint();
    return;
  }
  if (ctx.io.mode === "text")
    errProse(
      ctx.io,
      requestedAt
        ? `${requested}; waiting for the outcome`
        : `abort requested for migration ${name} (${phase}); waiting for the outcome`,
    );
  const { outcome, end, view, node } = await waitForAbort(kube, target, {
    signal: ctx.signal,
    timeoutMs: flags.timeoutMs,
    clock: ctx.clock,
    debug: ctx.debug,
    outage: outageNotices(ctx, kube),
  });
  if (outcome === undefined) {
    const watch = kvmigCommand(["watch", flags.vm, "-n", namespace]);
    if (end.kind === "interrupted")
      throw new InterruptedError(`stopped waiting; the abort of ${name} goes on`, {
        hint: `follow it with: ${watch}`,
      });
    throw new TimeoutError(
      `the abort of migration ${name} has not finished within the --timeout (abort status: ${view.abortStatus ?? "none yet"})`,
      {
        hint: `follow it with: ${watch}; a migration that cannot be cancelled may need: ${kvmigCommand(["restart", flags.vm, "-n", namespace])}`,
      },
    );
  }
  await writeData(
    ctx.io,
    ctx.io.mode,
    result(outcome, {
      migration: name,
      phase,
      alreadyRequestedAt,
      abortStatus: view.abortStatus ?? null,
      node,
    }),
    () => {
      if (outcome === "aborted")
        outProse(
          ctx.io,
          `aborted: migration ${name} was cancelled; ${namespace}/${flags.vm} is still on ${node ?? "its source node"}`,
        );
      if (outcome === "completed")
        outProse(
          ctx.io,
          `completed: migration ${name} finished before the abort took effect; ${namespace}/${flags.vm} is now on ${node}`,
        );
      if (outcome === "abort-failed")
        outProse(
          ctx.io,
          `abort failed: migration ${name} could not be cancelled (${view.failureReason ?? "abortStatus Failed"})`,
        );
    },
    migrationNames,
  );
  evacuationHint();
  if (outcome === "completed") {
    throw new OperationFailedError(`the migration completed before the abort took effect`, {
      hint: `the VM now runs on ${node}; migrate it back with: ${kvmigCommand(["migrate", flags.vm, "-n", namespace])}`,
    });
  }
  if (outcome === "abort-failed") {
    throw new OperationFailedError(`the abort of migration ${name} failed`, {
      hint: `see why with: ${kvmigCommand(["diagnose", flags.vm, "-n", namespace])}`,
    });
  }
}

/** The action of `kvmig cancel` (cli-tree/tree.ts): the VM named or picked, then runCancel. */
export async function cancelAction(
  vmArg: string | undefined,
  options: CancelOptions,
  ctx: CommandContext,
): Promise<void> {
  const vm = await vmOrPick(ctx, vmArg, "cancel");
  if (vm === undefined) {
    await nothingToCancelAnywhere(ctx);
    return;
  }
  await runCancel(
    {
      vm,
      yes: options.yes,
      dryRun: options.dryRun,
      wait: options.wait,
      timeoutMs: parseDuration(options.timeout, "--timeout"),
    },
    ctx,
  );
}
