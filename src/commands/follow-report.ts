// Following a migration to its end and reporting it: the summary (or JSON), the top diagnose
// findings of a failure, and the exit code. Shared by migrate and watch VM.

import type { CommandContext } from "../context.js";
import { renderTopFindings } from "../diagnose/render.js";
import type { Finding } from "../diagnose/types.js";
import { describeError, InterruptedError, OperationFailedError, TimeoutError } from "../errors.js";
import { writeData } from "../io/output.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { VirtualMachineInstanceMigration } from "../k8s/types.js";
import { failureText } from "../migration/state.js";
import { kvmigCommand } from "../util/shell.js";
import { followMigration } from "./follow.js";
import { FollowRenderer, migrationJson, summaryLines } from "./migration-render.js";
import { outageNotices } from "./outage-notice.js";

export interface FollowTarget {
  namespace: string;
  vmName: string;
  migration: VirtualMachineInstanceMigration;
  timeoutMs: number;
  prometheusUrl?: string | undefined;
  showEvents: boolean;
  /** Whether this run started the migration (migrate), or found it running (watch; a migrate that followed one in flight). */
  started: boolean;
}

/** Follows to the end, prints the summary (or JSON) and chooses the exit code. Shared with watch. */
export async function followAndReport(
  kube: KubeClient,
  ctx: CommandContext,
  target: FollowTarget,
): Promise<void> {
  const progress = ctx.progress();
  const renderer = new FollowRenderer(ctx.io, progress, {
    now: () => ctx.clock.now(),
    showEvents: target.showEvents,
  });
  let end: Awaited<ReturnType<typeof followMigration>>;
  try {
    end = await followMigration(kube, {
      namespace: target.namespace,
      vmName: target.vmName,
      migration: target.migration,
      signal: ctx.signal,
      timeoutMs: target.timeoutMs,
      clock: ctx.clock,
      prometheusUrl: target.prometheusUrl,
      onChange: (view, change) => renderer.onChange(view, change),
      debug: ctx.debug,
      outage: outageNotices(ctx, kube, progress),
    });
  } finally {
    renderer.stop();
    await progress.flush();
  }
  const now = new Date(ctx.clock.now()).toISOString();
  const view = end.view;
  const findings = view.outcome === "failed" ? await topFindings(kube, ctx, target, now) : [];
  const data = { ...migrationJson(view, now, findings), started: target.started };
  await writeData(ctx.io, ctx.io.mode, data, () => {
    for (const line of summaryLines(view, ctx.io, now)) ctx.io.out(line);
    if (findings.length > 0) {
      ctx.io.out("  findings");
      for (const line of renderTopFindings(findings, shownFindings, ctx.io.colors)) ctx.io.out(`    ${line}`);
    }
  });
  const follow = kvmigCommand(["watch", target.vmName, "-n", target.namespace]);
  const cancel = kvmigCommand(["cancel", target.vmName, "-n", target.namespace]);
  if (end.kind === "interrupted") {
    throw new InterruptedError(`stopped following migration ${view.name}; the migration goes on`, {
      hint: `follow it again with: ${follow}; cancel it with: ${cancel}`,
    });
  }
  if (end.kind === "timeout") {
    throw new TimeoutError(
      `migration ${view.name} is still ${view.phase || "Pending"} after the --timeout; it goes on`,
      {
        hint: `follow it with: ${follow}; cancel it with: ${cancel}`,
      },
    );
  }
  if (view.outcome === "failed") {
    const reason = failureText(view);
    throw new OperationFailedError(`migration ${view.name} failed${reason ? `: ${reason}` : ""}`, {
      hint: `find out why with: ${kvmigCommand(["diagnose", target.vmName, "-n", target.namespace])}`,
    });
  }
}

/** Failed migrations show this many findings inline; `kvmig diagnose` shows them all. */
const shownFindings = 2;

/** What diagnose finds about a failed migration; nothing (and a -v note) when it cannot run. */
async function topFindings(
  kube: KubeClient,
  ctx: CommandContext,
  target: FollowTarget,
  now: string,
): Promise<Finding[]> {
  try {
    const { diagnoseLive } = await import("./diagnose.js");
    const { report } = await diagnoseLive(kube, { namespace: target.namespace, vmName: target.vmName }, now);
    return report.findings.slice(0, 3);
  } catch (error) {
    ctx.debug(`diagnose after the failure: ${describeError(error).message}`);
    return [];
  }
}
