// kvmig restart VM: the cold path. A downtime warning naming the VM, its node and how long it has
// run; confirmation on a terminal (never without one unless --yes); the server's own check as a
// dry run before asking, so a refusal comes before the question; then the restart subresource,
// followed until the new VMI runs, with the downtime measured and the launcher image compared.

import type { CommandContext } from "../context.js";
import { formatDuration, humanDuration, parseDuration } from "../duration.js";
import {
  ApiError,
  InterruptedError,
  NotFoundError,
  OperationFailedError,
  TimeoutError,
  UnauthorizedError,
} from "../errors.js";
import { writeData } from "../io/output.js";
import { errProse } from "../io/wrap.js";
import { clusterName } from "../k8s/kube-client.js";
import { currentLauncherImage, outdatedLauncherImageLabel } from "../k8s/launcher-image.js";
import type { VirtualMachineInstance } from "../k8s/types.js";
import { commandLine, kvmigCommand } from "../util/shell.js";
import { outageNotices } from "./outage-notice.js";
import { type RestartResult, restartAndWait } from "./restart-wait.js";
import type { RestartOptions } from "./tree.js";
import { readVm } from "./vm-lookup.js";
import { vmOrPick } from "./vm-picker.js";

export interface RestartFlags {
  vm: string;
  yes: boolean;
  force: boolean;
  dryRun: boolean;
  wait: boolean;
  timeoutMs: number;
}

/**
 * When the VMI arrived on the node it runs on: the end of the migration that brought it there
 * (its phase stays Running through a migration, so the Running transition is when it first ran,
 * wherever that was), else its Running transition, else its creation.
 */
function onNodeSince(vmi: VirtualMachineInstance): number | undefined {
  const state = vmi.status?.migrationState;
  const migratedHere =
    state?.completed === true &&
    state.failed !== true &&
    state.endTimestamp !== undefined &&
    state.targetNode !== undefined &&
    state.targetNode === vmi.status?.nodeName;
  const stamp = migratedHere
    ? state.endTimestamp
    : (vmi.status?.phaseTransitionTimestamps?.find((t) => t.phase === "Running")?.phaseTransitionTimestamp ??
      vmi.metadata.creationTimestamp);
  const ms = Date.parse(stamp ?? "");
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The server's refusals (runStrategy, a VM that is not running, volume recovery) keep its words;
 * the hint says what to do about each.
 */
export function restartRefusal(error: unknown, namespace: string, vm: string): unknown {
  if (!(error instanceof ApiError)) return error;
  if (error.status === 403) {
    return new UnauthorizedError(error.message, {
      hint: `you may not update virtualmachines/restart in "${namespace}"; the admin and edit ClusterRoles grant it`,
      cause: error,
    });
  }
  if (error.status !== 409) return error;
  const message = error.message;
  // A Halted VM is stopped: it wants a start, not a stop and a start.
  const hint = /RunSt(r)?ategy Halted/.test(message)
    ? `the VM is stopped (runStrategy Halted); start it with: ${commandLine(["virtctl", "start", vm, "-n", namespace])}`
    : /RunSt(r)?ategy/.test(message)
      ? `the VM's runStrategy does not allow a restart; start and stop it instead: ${commandLine(["virtctl", "stop", vm, "-n", namespace])}, then ${commandLine(["virtctl", "start", vm, "-n", namespace])}`
      : /not running/i.test(message)
        ? `the VM has no running VMI to restart; start it with: ${commandLine(["virtctl", "start", vm, "-n", namespace])}`
        : /recovery required|Volume migration/i.test(message)
          ? `a volume migration failed and the VM needs its volumes recovered first; see: ${commandLine(["kubectl", "describe", "vm", vm, "-n", namespace])}`
          : `the VM changed meanwhile; check it with ${commandLine(["kubectl", "get", "vm", vm, "-n", namespace])} and run again`;
  return new OperationFailedError(`the server refused to restart ${namespace}/${vm}: ${message}`, {
    hint,
    cause: error,
  });
}

export async function runRestart(flags: RestartFlags, ctx: CommandContext): Promise<void> {
  const kube = await ctx.kube();
  const namespace = kube.namespace;
  const where = `${namespace}/${flags.vm}`;
  const [{ vm, vmi }, current] = await Promise.all([
    readVm(kube, namespace, flags.vm),
    currentLauncherImage(kube),
  ]);
  if (!vm) {
    throw new NotFoundError(`VirtualMachine "${flags.vm}" not found in namespace "${namespace}"`, {
      hint: `${where} is a standalone VirtualMachineInstance; only a VM can be restarted (delete the VMI and create it again)`,
    });
  }
  const options = flags.force ? { gracePeriodSeconds: 0 } : {};
  // The server's checks first: a refusal comes before any question, and nothing changes.
  try {
    await kube.restart(namespace, flags.vm, { ...options, dryRun: ["All"] });
  } catch (error) {
    throw restartRefusal(error, namespace, flags.vm);
  }
  if (!vmi) {
    throw new OperationFailedError(`${where} has no running VMI to restart`, {
      hint: `start it with: ${commandLine(["virtctl", "start", flags.vm, "-n", namespace])}`,
    });
  }

  const node = vmi.status?.nodeName ?? "no node";
  const since = onNodeSince(vmi);
  const image = vmi.status?.launcherContainerImageVersion;
  const outdated = vmi.metadata.labels?.[outdatedLauncherImageLabel] !== undefined;
  const c = ctx.io.errColors;
  if (ctx.io.mode === "text" || !flags.yes) {
    errProse(
      ctx.io,
      `${c.warn("warning:")} restarting ${where} stops its guest: it is down until the new VMI runs (usually tens of seconds, longer for big VMs)`,
    );
    errProse(
      ctx.io,
      `  running on ${node}${since === undefined ? "" : ` for ${humanDuration(ctx.clock.now() - since)}`}, phase ${vmi.status?.phase ?? "unknown"}`,
    );
    if (image)
      errProse(
        ctx.io,
        `  launcher ${image}${outdated ? ` (outdated${current ? `; the restart starts ${current}` : ""})` : ""}`,
      );
    const state = vmi.status?.migrationState;
    if (state?.startTimestamp && !state.endTimestamp)
      errProse(
        ctx.io,
        `${c.warn("warning:")} ${where} is migrating (${state.sourceNode ?? "?"} → ${state.targetNode ?? "?"}); the restart ends that migration`,
      );
    if (flags.force)
      errProse(
        ctx.io,
        `${c.warn("warning:")} --force stops the guest at once (grace period 0): writes not yet on disk may be lost`,
      );
  }

  if (flags.dryRun) {
    await writeData(
      ctx.io,
      ctx.io.mode,
      { vm: flags.vm, namespace, outcome: "dry-run", node: vmi.status?.nodeName ?? null, force: flags.force },
      () => ctx.io.out(`dry run: the API server accepted restarting ${where}; nothing was changed`),
    );
    return;
  }
  if (!flags.yes) await confirmRestart(ctx, flags, `${where} on ${clusterName(kube)}`);

  if (!flags.wait) {
    try {
      await kube.restart(namespace, flags.vm, options);
    } catch (error) {
      throw restartRefusal(error, namespace, flags.vm);
    }
    const requested = {
      vm: flags.vm,
      namespace,
      outcome: "requested",
      node: vmi.status?.nodeName ?? null,
      force: flags.force,
    };
    await writeData(ctx.io, ctx.io.mode, requested, () =>
      ctx.io.out(
        `VM ${where} was scheduled to restart; follow it with: ${commandLine(["kubectl", "get", "vmi", flags.vm, "-n", namespace, "-w"])}`,
      ),
    );
    return;
  }

  const progress = ctx.progress();
  let result: RestartResult;
  try {
    result = await restartAndWait(kube, {
      namespace,
      vmName: flags.vm,
      oldVmi: vmi,
      force: flags.force,
      signal: ctx.signal,
      timeoutMs: flags.timeoutMs,
      clock: ctx.clock,
      outage: outageNotices(ctx, kube, progress),
      onStep: (step) => {
        if (step.kind === "requested") progress.start(`stopping ${where} on ${node}`);
        if (step.kind === "stopped")
          progress.info(`stopped ${where} on ${node} after ${formatDuration(step.ms)}`);
        if (step.kind === "phase")
          progress.update(`starting ${where}: ${step.phase}${step.node ? ` on ${step.node}` : ""}`);
      },
    });
  } catch (error) {
    throw restartRefusal(error, namespace, flags.vm);
  } finally {
    progress.stop();
    await progress.flush();
  }
  await report(ctx, flags, namespace, { result, oldVmi: vmi, current });
}

interface ReportInput {
  result: RestartResult;
  oldVmi: VirtualMachineInstance;
  current: string | undefined;
}

/** What a finished (or abandoned) restart wait says: JSON, or the summary lines. */
export function restartSummary(input: ReportInput, namespace: string, vmName: string) {
  const { result, oldVmi, current } = input;
  const newVmi = result.newVmi;
  const newImage = newVmi?.status?.launcherContainerImageVersion || undefined;
  const launcherCurrent =
    newImage === undefined
      ? null
      : current === undefined
        ? !newVmi?.metadata.labels?.[outdatedLauncherImageLabel]
        : newImage === current;
  const downtimeMs =
    result.runningAt !== undefined && result.goneAt !== undefined
      ? result.runningAt - result.goneAt
      : undefined;
  return {
    vm: vmName,
    namespace,
    outcome: result.end === "running" ? "restarted" : result.end,
    oldNode: oldVmi.status?.nodeName ?? null,
    newNode: newVmi?.status?.nodeName ?? null,
    oldVmiUid: oldVmi.metadata.uid ?? null,
    newVmiUid: newVmi?.metadata.uid ?? null,
    newPhase: result.newPhase ?? null,
    stopSeconds: result.goneAt === undefined ? null : (result.goneAt - result.requestedAt) / 1000,
    downtimeSeconds: downtimeMs === undefined ? null : downtimeMs / 1000,
    oldLauncherImage: oldVmi.status?.launcherContainerImageVersion || null,
    launcherImage: newImage ?? null,
    currentLauncherImage: current ?? null,
    launcherCurrent,
  };
}

/** Tenths of a second below a minute: downtime is worth that precision. */
function preciseDuration(seconds: number): string {
  return seconds < 60 ? `${seconds.toFixed(1)}s` : formatDuration(seconds * 1000);
}

async function report(
  ctx: CommandContext,
  flags: RestartFlags,
  namespace: string,
  input: ReportInput,
): Promise<void> {
  const summary = restartSummary(input, namespace, flags.vm);
  const where = `${namespace}/${flags.vm}`;
  const c = ctx.io.colors;
  await writeData(ctx.io, ctx.io.mode, summary, () => {
    const route =
      summary.oldNode && summary.oldNode === summary.newNode
        ? `on ${summary.newNode} again`
        : `${summary.oldNode ?? "?"} → ${summary.newNode ?? "?"}`;
    if (summary.outcome === "restarted") ctx.io.out(`${c.ok("Restarted")}  ${where} ${route}`);
    else if (summary.outcome === "failed")
      ctx.io.out(`${c.error("Failed")}  ${where}: the new VMI is ${summary.newPhase}`);
    else ctx.io.out(`${c.accent(summary.newPhase ?? "Stopping")}  ${where} (restart still in progress)`);
    if (summary.downtimeSeconds !== null)
      ctx.io.out(`  downtime   ${preciseDuration(summary.downtimeSeconds)} (old VMI gone → new VMI Running)`);
    if (summary.stopSeconds !== null)
      ctx.io.out(`  stopping   ${preciseDuration(summary.stopSeconds)} (restart requested → old VMI gone)`);
    if (summary.launcherImage) {
      const state =
        summary.launcherCurrent === true
          ? c.ok("current")
          : summary.launcherCurrent === false
            ? c.warn("outdated")
            : "";
      ctx.io.out(`  launcher   ${summary.launcherImage}${state ? ` (${state})` : ""}`);
      if (summary.oldLauncherImage && summary.oldLauncherImage !== summary.launcherImage)
        ctx.io.out(`  was        ${summary.oldLauncherImage}`);
    }
  });
  const follow = commandLine(["kubectl", "get", "vmi", flags.vm, "-n", namespace, "-w"]);
  if (summary.outcome === "interrupted")
    throw new InterruptedError(`stopped waiting; the restart of ${where} goes on`, {
      hint: `follow it with: ${follow}`,
    });
  if (summary.outcome === "timeout")
    throw new TimeoutError(`${where} is not Running again after the --timeout; the restart goes on`, {
      hint: `follow it with: ${follow}; find out why with: ${kvmigCommand(["diagnose", flags.vm, "-n", namespace])}`,
    });
  if (summary.outcome === "failed")
    throw new OperationFailedError(`the restarted VMI of ${where} ended ${summary.newPhase}`, {
      hint: `see why with: ${commandLine(["kubectl", "describe", "vmi", flags.vm, "-n", namespace])}`,
    });
}

/**
 * A plain restart is a yes/no question; --force (grace period 0, possible data loss) asks for
 * the VM's name typed back, so that a reflexive "y" cannot do it.
 */
async function confirmRestart(ctx: CommandContext, flags: RestartFlags, where: string): Promise<void> {
  if (!flags.force) {
    const ok = await ctx.prompter.confirm({
      message: `Restart ${where} now?`,
      flag: "--yes",
      default: false,
    });
    if (!ok) throw new InterruptedError("restart declined; nothing was changed");
    return;
  }
  const typed = await ctx.prompter.input({
    message: `Force-restart ${where} now (grace period 0)? Type the VM's name, ${flags.vm}, to go on:`,
    flag: "--yes",
  });
  if (typed.trim() !== flags.vm) {
    throw new InterruptedError(
      typed.trim() === ""
        ? "force restart declined; nothing was changed"
        : `"${typed.trim()}" is not ${flags.vm}; nothing was changed`,
    );
  }
}

/** The action of `kvmig restart` (tree.ts): the VM named or picked, then runRestart. */
export async function restartAction(
  vmArg: string | undefined,
  options: RestartOptions,
  ctx: CommandContext,
): Promise<void> {
  const vm = await vmOrPick(ctx, vmArg, "restart");
  await runRestart(
    {
      vm,
      yes: options.yes,
      force: options.force,
      dryRun: options.dryRun,
      wait: options.wait,
      timeoutMs: parseDuration(options.timeout, "--timeout"),
    },
    ctx,
  );
}
