// kvmig cancel VM: there is no cancel endpoint; deleting the unfinished VMIM is the abort
// request (facts §c). Only that VMIM is deleted, with a uid precondition, and the outcome is
// read from the VMI: aborted on the source node, completed first, or the abort failed.

import type { CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import { ApiError, InterruptedError, OperationFailedError, TimeoutError } from "../errors.js";
import { writeData } from "../io/output.js";
import { errProse, outProse } from "../io/wrap.js";
import { isNotFound } from "../k8s/api-errors.js";
import { clusterName } from "../k8s/kube-client.js";
import { isOutcomeUnknown } from "../k8s/retry.js";
import { unfinishedMigration } from "../migration/preflight.js";
import { followMigration } from "../operations/follow-migration.js";
import { readVmWithMigrations } from "../operations/read-vm.js";
import { outageNotices } from "../render/outage-notice.js";
import { commandLine, kvmigCommand } from "../util/shell.js";
import type { CancelOptions } from "./tree.js";
import { vmOrPick } from "./vm-picker.js";

export interface CancelFlags {
  vm: string;
  yes: boolean;
  dryRun: boolean;
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

/** After a lost answer: is the migration gone, replaced, or marked for deletion? */
async function deletionArrived(
  kube: Awaited<ReturnType<CommandContext["kube"]>>,
  namespace: string,
  name: string,
  uid: string | undefined,
): Promise<boolean> {
  try {
    const now = await kube.get("vmim", name, namespace);
    return now.metadata.uid !== uid || now.metadata.deletionTimestamp !== undefined;
  } catch (error) {
    if (isNotFound(error)) return true;
    throw error;
  }
}

/** The picker found no VM with an unfinished migration: nothing to cancel, which is not an error. */
async function nothingToCancelAnywhere(ctx: CommandContext): Promise<void> {
  const { namespace } = await ctx.kube();
  await writeData(
    ctx.io,
    ctx.io.mode,
    { vm: null, namespace, outcome: "nothing-to-cancel", migration: null, evacuationNodeName: null },
    () => outProse(ctx.io, `nothing to cancel: no VM in namespace ${namespace} has an unfinished migration`),
  );
}

export async function runCancel(flags: CancelFlags, ctx: CommandContext): Promise<void> {
  const kube = await ctx.kube();
  const namespace = kube.namespace;
  const { migrations, vmi } = await readVmWithMigrations(kube, namespace, flags.vm);
  const evacuation = vmi?.status?.evacuationNodeName;
  const evacuationHint = () => {
    if (!evacuation) return;
    errProse(
      ctx.io,
      `note: ${namespace}/${flags.vm} is being evacuated from ${evacuation} (a drain); KubeVirt will create new migrations until the evacuation is cancelled: ${commandLine(["virtctl", "evacuate-cancel", "vmi", flags.vm, "-n", namespace])}`,
    );
  };
  const result = (outcome: CancelOutcome, extra: Record<string, unknown> = {}) => ({
    vm: flags.vm,
    namespace,
    outcome,
    evacuationNodeName: evacuation ?? null,
    ...extra,
  });

  const target = unfinishedMigration(migrations);
  if (!target) {
    await writeData(ctx.io, ctx.io.mode, result("nothing-to-cancel", { migration: null }), () =>
      outProse(ctx.io, `nothing to cancel: ${namespace}/${flags.vm} has no unfinished migration`),
    );
    evacuationHint();
    return;
  }
  const name = target.metadata.name ?? "";
  const phase = target.status?.phase || "Pending";
  const state = vmi?.status?.migrationState;
  const ours = state?.migrationUid === target.metadata.uid;
  const route =
    ours && state?.targetNode
      ? `${state.sourceNode ?? vmi?.status?.nodeName} → ${state.targetNode}`
      : `on ${vmi?.status?.nodeName ?? "?"}`;

  // Asked before (an earlier cancel, maybe interrupted): the deletion is under way; asking again
  // would change nothing, so say so and wait for the outcome like the first call would have.
  const requestedAt = target.metadata.deletionTimestamp;
  // A dry run changes nothing, so there is nothing to confirm (as with kubectl delete --dry-run).
  if (!flags.yes && !flags.dryRun && !requestedAt) {
    const ok = await ctx.prompter.confirm({
      message: `Cancel migration ${name} of ${namespace}/${flags.vm} (${phase}, ${route}) on ${clusterName(kube)}?`,
      flag: "--yes",
      default: false,
    });
    if (!ok) throw new InterruptedError("cancel declined; nothing was changed");
  }

  try {
    if (!requestedAt) {
      await kube.deleteMigration(namespace, name, { uid: target.metadata.uid, dryRun: flags.dryRun });
    }
  } catch (error) {
    // Replaced since kvmig read it (same name, another uid): the uid precondition kept the new
    // one alive; say so rather than cancel a migration the user never saw.
    if (error instanceof ApiError && error.status === 409 && /Precondition failed: UID/.test(error.message)) {
      throw new OperationFailedError(
        `migration ${name} of ${namespace}/${flags.vm} was replaced by another one since kvmig read it; nothing was deleted`,
        {
          hint: `see the current one with: ${kvmigCommand(["watch", flags.vm, "-n", namespace])}, then cancel again`,
        },
      );
    }
    // The answer was lost: whether the delete arrived shows on the migration itself.
    if (isOutcomeUnknown(error)) {
      if (!(await deletionArrived(kube, namespace, name, target.metadata.uid))) {
        throw new OperationFailedError(
          `the abort request for migration ${name} was lost on the way (${error.message}); the migration still runs`,
          { hint: `run the same cancel again: ${kvmigCommand(["cancel", flags.vm, "-n", namespace])}` },
        );
      }
    } else if (!isNotFound(error)) {
      // Already gone: it ended (or was cancelled) meanwhile; the VMI still tells how.
      throw error;
    }
  }
  // In the data: when an earlier cancel requested the abort (this run then sent nothing), or null.
  const alreadyRequestedAt = requestedAt ?? null;
  if (flags.dryRun) {
    await writeData(
      ctx.io,
      ctx.io.mode,
      result("dry-run", { migration: name, phase, alreadyRequestedAt }),
      () =>
        outProse(
          ctx.io,
          requestedAt
            ? `dry run: the abort of migration ${name} (${phase}) was already requested at ${requestedAt}; nothing was changed`
            : `dry run: would delete migration ${name} (${phase}) to cancel it; nothing was changed`,
        ),
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
  const end = await followMigration(kube, {
    namespace,
    vmName: flags.vm,
    migration: target,
    signal: ctx.signal,
    timeoutMs: flags.timeoutMs,
    clock: ctx.clock,
    debug: ctx.debug,
    outage: outageNotices(ctx, kube),
  });
  const view = end.view;
  const node = view.vmiNode ?? vmi?.status?.nodeName ?? null;
  const outcome: CancelOutcome | undefined =
    view.outcome === "succeeded"
      ? "completed"
      : view.outcome === "failed"
        ? view.abortStatus === "Failed"
          ? "abort-failed"
          : "aborted"
        : undefined;
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

/** The action of `kvmig cancel` (tree.ts): the VM named or picked, then runCancel. */
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
