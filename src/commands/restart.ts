// kvmig restart VM: the cold path. A downtime warning naming the VM, its node and how long it has
// run; confirmation on a terminal (never without one unless --yes); the server's own check as a
// dry run before asking, so a refusal comes before the question; then the restart subresource,
// followed until the new VMI runs, with the downtime measured and the launcher image compared.

import type { DryRunMode, RestartOptions } from "../cli-tree/options.js";
import type { CommandContext } from "../context.js";
import { formatDuration, humanDuration, parseDuration } from "../duration.js";
import { InterruptedError, OperationFailedError, TimeoutError, UsageError } from "../errors.js";
import { objectName, writeData } from "../io/output.js";
import { errProse } from "../io/wrap.js";
import { clusterName } from "../k8s/kube-client.js";
import { outdatedLauncherImageLabel } from "../k8s/launcher-image.js";
import type { VirtualMachineInstance } from "../k8s/types.js";
import {
  checkRestart,
  type RestartResult,
  requestRestart,
  restartAndWait,
  restartRefusal,
} from "../operations/restart-vm.js";
import { outageNotices } from "../render/outage-notice.js";
import { vmOrPick } from "../render/vm-picker.js";
import { commandLine, kvmigCommand } from "../util/shell.js";

/** -o name: the VM restarted (or checked). */
const vmNames = (vm: string) => () => [objectName("vm", vm)];

export interface RestartFlags {
  vm: string;
  yes: boolean;
  force: boolean;
  /** `--grace-period N`, N >= 0 (-1, virtctl's default, is left out). */
  gracePeriodSeconds?: number | undefined;
  dryRun: DryRunMode;
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

export async function runRestart(flags: RestartFlags, ctx: CommandContext): Promise<void> {
  const kube = await ctx.kube();
  const namespace = kube.namespace;
  const where = `${namespace}/${flags.vm}`;
  const target = {
    namespace,
    vmName: flags.vm,
    force: flags.force,
    gracePeriodSeconds: flags.gracePeriodSeconds,
  };
  // --dry-run=client asks the API server nothing that could change anything, not even its dry run.
  const { vmi, currentImage: current } = await checkRestart(kube, {
    ...target,
    serverCheck: flags.dryRun !== "client",
  });

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

  if (flags.dryRun !== "none") {
    await writeData(
      ctx.io,
      ctx.io.mode,
      { vm: flags.vm, namespace, outcome: "dry-run", node: vmi.status?.nodeName ?? null, force: flags.force },
      () =>
        ctx.io.out(
          flags.dryRun === "client"
            ? `dry run (client): would restart ${where}; nothing was sent to the API server`
            : `dry run: the API server accepted restarting ${where}; nothing was changed`,
        ),
      vmNames(flags.vm),
    );
    return;
  }
  if (!flags.yes) await confirmRestart(ctx, flags, `${where} on ${clusterName(kube)}`);

  if (!flags.wait) {
    await requestRestart(kube, target);
    const requested = {
      vm: flags.vm,
      namespace,
      outcome: "requested",
      node: vmi.status?.nodeName ?? null,
      force: flags.force,
    };
    await writeData(
      ctx.io,
      ctx.io.mode,
      requested,
      () =>
        ctx.io.out(
          `VM ${where} was scheduled to restart; follow it with: ${commandLine(["kubectl", "get", "vmi", flags.vm, "-n", namespace, "-w"])}`,
        ),
      vmNames(flags.vm),
    );
    return;
  }

  const progress = ctx.progress();
  let result: RestartResult;
  try {
    result = await restartAndWait(
      kube,
      {
        namespace,
        vmName: flags.vm,
        oldVmi: vmi,
        force: flags.force,
        gracePeriodSeconds: flags.gracePeriodSeconds,
        signal: ctx.signal,
        timeoutMs: flags.timeoutMs,
        clock: ctx.clock,
        outage: outageNotices(ctx, kube, progress),
      },
      {
        onStep: (step) => {
          if (step.kind === "requested") progress.start(`stopping ${where} on ${node}`);
          if (step.kind === "stopped")
            progress.info(`stopped ${where} on ${node} after ${formatDuration(step.ms)}`);
          if (step.kind === "phase")
            progress.update(`starting ${where}: ${step.phase}${step.node ? ` on ${step.node}` : ""}`);
        },
      },
    );
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
  await writeData(
    ctx.io,
    ctx.io.mode,
    summary,
    () => {
      const route =
        summary.oldNode && summary.oldNode === summary.newNode
          ? `on ${summary.newNode} again`
          : `${summary.oldNode ?? "?"} → ${summary.newNode ?? "?"}`;
      if (summary.outcome === "restarted") ctx.io.out(`${c.ok("Restarted")}  ${where} ${route}`);
      else if (summary.outcome === "failed")
        ctx.io.out(`${c.error("Failed")}  ${where}: the new VMI is ${summary.newPhase}`);
      else ctx.io.out(`${c.accent(summary.newPhase ?? "Stopping")}  ${where} (restart still in progress)`);
      if (summary.downtimeSeconds !== null)
        ctx.io.out(
          `  downtime   ${preciseDuration(summary.downtimeSeconds)} (old VMI gone → new VMI Running)`,
        );
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
    },
    vmNames(flags.vm),
  );
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

/** The action of `kvmig restart` (cli-tree/tree.ts): the VM named or picked, then runRestart. */
export async function restartAction(
  vmArg: string | undefined,
  options: RestartOptions,
  ctx: CommandContext,
): Promise<void> {
  const grace = options.gracePeriod;
  if (options.force && grace > 0) {
    throw new UsageError("--force means --grace-period 0; it cannot be combined with another grace period", {
      hint: `leave out --force to ask for --grace-period ${grace}`,
    });
  }
  const vm = await vmOrPick(ctx, vmArg, "restart");
  await runRestart(
    {
      vm,
      yes: options.yes,
      force: options.force || grace === 0,
      gracePeriodSeconds: grace >= 0 ? grace : undefined,
      dryRun: options.dryRun,
      wait: options.wait,
      timeoutMs: parseDuration(options.timeout, "--timeout"),
    },
    ctx,
  );
}
