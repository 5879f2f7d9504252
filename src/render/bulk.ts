// How a bulk run (operations/bulk.ts) shows: on a terminal a progress bar, and a line per
// finished VM (also in a pipe); Ctrl-C and --max-failures said when they stop new work; the
// summary table at the end, and the error that gives the run's exit code.

import type { CommandContext } from "../context.js";
import { formatDuration } from "../duration.js";
import { InterruptedError, OperationFailedError, TimeoutError } from "../errors.js";
import { formatTable } from "../io/table.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { ApiOutage } from "../k8s/outage.js";
import type { BulkObserver, BulkOutcome, JobResult, PoolCounts } from "../operations/bulk.js";
import { alreadyCurrentDetail, resultCounts } from "../operations/bulk.js";
import { stoppedDetail, stopText } from "../operations/failure-limit.js";
import { kvmigCommand } from "../util/shell.js";
import { outageNotices } from "./outage-notice.js";

export function progressBar(counts: PoolCounts, total: number, width = 20): string {
  const finished = counts.done + counts.failed;
  const filled = total === 0 ? width : Math.round((finished / total) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${finished}/${total}  done ${counts.done} · running ${counts.running} · failed ${counts.failed} · left ${counts.left}`;
}

export function finishedLine(r: JobResult): string {
  const where = `${r.namespace}/${r.vm}`;
  const route = `${r.sourceNode ?? "?"} → ${r.targetNode ?? "?"}`;
  const time = r.seconds === null ? "" : ` in ${formatDuration(r.seconds * 1000)}`;
  const verb = r.action === "migrate" ? "migrated" : "restarted";
  if (r.outcome === "succeeded" && r.detail === alreadyCurrentDetail(r.action)) return `${where} ${r.detail}`;
  if (r.outcome === "succeeded") return `${verb} ${where} ${route}${time}${r.detail ? ` (${r.detail})` : ""}`;
  if (r.outcome === "timeout") return `${r.action} ${where} timed out${time}: ${r.detail}`;
  return `${r.action} ${where} failed${time}: ${r.detail}`;
}

/** What a bulk run renders into; stop() ends the live line once the run is over. */
export interface BulkScreen {
  observer: BulkObserver;
  /** The jobs' follows tell an API outage once, above the bar. */
  outage: ApiOutage;
  stop(): Promise<void>;
}

export function bulkScreen(ctx: CommandContext, kube: KubeClient, total: number): BulkScreen {
  const progress = ctx.progress();
  const outage = outageNotices(ctx, kube, progress);
  const bar = ctx.io.stderrIsTTY;
  const text = () => ctx.io.mode === "text";
  const draw = (counts: PoolCounts) => {
    if (bar) progress.update(progressBar(counts, total));
  };
  return {
    outage,
    observer: {
      onStart: (_job, counts) => draw(counts),
      onFinish: (result, counts, stopping) => {
        if (result.outcome === "succeeded") progress.succeed(finishedLine(result));
        else progress.fail(finishedLine(result));
        if (stopping && text()) {
          const waiting = stopping.running > 0 ? `; waiting for the ${stopping.running} running` : "";
          progress.warn(`${stoppedDetail(stopping.stop)}: no new work starts${waiting}`);
        }
        draw(counts);
      },
      onInterrupt: (running) => {
        if (text())
          ctx.io.err(
            `interrupted: no new work starts; waiting for the ${running} running (Ctrl-C again leaves them running)`,
          );
      },
    },
    stop: async () => {
      progress.stop();
      await progress.flush();
    },
  };
}

export function summaryTable(results: readonly JobResult[], allNamespaces: boolean): string {
  const rows = results.map((r) => [
    ...(allNamespaces ? [r.namespace] : []),
    r.vm,
    r.action,
    r.outcome,
    `${r.sourceNode ?? "?"} → ${r.targetNode ?? "?"}`,
    r.seconds === null ? "-" : formatDuration(r.seconds * 1000),
    r.launcherCurrent === true ? "current" : r.launcherCurrent === false ? "outdated" : "-",
    r.detail ?? "",
  ]);
  return formatTable(
    [
      ...(allNamespaces ? ["NAMESPACE"] : []),
      "VM",
      "ACTION",
      "RESULT",
      "NODES",
      "TIME",
      "LAUNCHER",
      "DETAIL",
    ],
    rows,
  );
}

/** The commands the run's last line suggests. */
export interface RunHints {
  /** `-A`, or `-n NS`: where `kvmig watch` follows what goes on. */
  scope: readonly string[];
  /** The whole command the user gave, from the parsed flags: running it again goes on. */
  again: readonly string[];
}

/**
 * The exit code of the run: failures first (3, saying when --max-failures stopped it), then an
 * interruption (130), then time-outs (6).
 */
export function outcomeError(
  results: readonly JobResult[],
  end: Pick<BulkOutcome, "interrupted" | "stopped">,
  hints: RunHints,
): Error | undefined {
  const { failed, timeout, skipped: notStarted } = resultCounts(results);
  const diagnose = results.find((r) => r.outcome === "failed");
  if (failed > 0) {
    const why = diagnose
      ? `see why with: ${kvmigCommand(["diagnose", diagnose.vm, "-n", diagnose.namespace])}`
      : undefined;
    if (end.stopped && notStarted > 0)
      return new OperationFailedError(stopText(end.stopped, notStarted), {
        hint: `${why ? `${why}; ` : ""}--max-failures N allows more failures, 0 any number`,
      });
    return new OperationFailedError(`${failed} of ${results.length} failed`, { hint: why });
  }
  if (end.interrupted)
    return new InterruptedError(`interrupted: ${notStarted} not started`, {
      hint: `run the same command again to go on: ${kvmigCommand(hints.again)}`,
    });
  if (timeout > 0)
    return new TimeoutError(
      `${timeout} of ${results.length} did not finish within the --timeout; they go on`,
      {
        hint: `follow them with: ${kvmigCommand(["watch", ...hints.scope])}`,
      },
    );
  return undefined;
}
