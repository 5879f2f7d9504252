// How migrate and watch VM show a followed migration: the live screen while it runs (the
// timeline and a live line, followScreen) and, at the end, the summary (or JSON) with the top
// diagnose findings of a failure, and the error that gives the exit code (reportFollow).

import type { CommandContext } from "../context.js";
import { renderTopFindings } from "../diagnose/render.js";
import { InterruptedError, OperationFailedError, TimeoutError } from "../errors.js";
import { objectName, writeData } from "../io/output.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { ApiOutage } from "../k8s/outage.js";
import { failureText } from "../migration/state.js";
import type { NetworkAddresses } from "../operations/bridge-addresses.js";
import type { FollowObserver, FollowResult } from "../operations/follow-migration.js";
import { kvmigCommand } from "../util/shell.js";
import { networkLines } from "./bridge-networks.js";
import { FollowRenderer, migrationJson, summaryLines } from "./migration-render.js";
import { outageNotices } from "./outage-notice.js";

/** What the follow renders into, and where its watches tell an API outage. */
export interface FollowScreen {
  observer: FollowObserver;
  outage: ApiOutage;
}

/** The live screen of a follow: the observer stops it (and flushes the live line) when the follow ends. */
export function followScreen(
  ctx: CommandContext,
  kube: KubeClient,
  options: { showEvents: boolean },
): FollowScreen {
  const progress = ctx.progress();
  const renderer = new FollowRenderer(ctx.io, progress, {
    now: () => ctx.clock.now(),
    showEvents: options.showEvents,
  });
  return {
    observer: {
      onChange: (view, change) => renderer.onChange(view, change),
      onFollowEnd: async () => {
        renderer.stop();
        await progress.flush();
      },
    },
    outage: outageNotices(ctx, kube, progress),
  };
}

export interface FollowedTarget {
  namespace: string;
  vmName: string;
  /** Whether this run started the migration (migrate), or found it running (watch; a migrate that followed one in flight). */
  started: boolean;
}

/** Failed migrations show this many findings inline; `kvmig diagnose` shows them all. */
const shownFindings = 2;

/** Prints the summary (or JSON) of a followed migration and throws the error of its exit code. */
export async function reportFollow(
  ctx: CommandContext,
  target: FollowedTarget,
  result: FollowResult,
  /** migrate: the bridge networks' addresses before and after the move. */
  networks?: readonly NetworkAddresses[],
): Promise<void> {
  const { end, findings, endedAt: now } = result;
  const view = end.view;
  const data = {
    ...migrationJson(view, now, findings),
    started: target.started,
    ...(networks ? { networks } : {}),
  };
  await writeData(
    ctx.io,
    ctx.io.mode,
    data,
    () => {
      for (const line of summaryLines(view, ctx.io, now)) ctx.io.out(line);
      for (const line of networkLines(networks ?? [], ctx.io.colors)) ctx.io.out(line);
      if (findings.length > 0) {
        ctx.io.out("  findings");
        for (const line of renderTopFindings(findings, shownFindings, ctx.io.colors))
          ctx.io.out(`    ${line}`);
      }
    },
    () => [objectName("vmim", view.name)],
  );
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
