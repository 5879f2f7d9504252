// `kvmig outdated --migrate/--restart`: cycles the chosen VMIs off the outdated launcher, a few
// at a time. Each migration goes through the same start and follow code as `kvmig migrate`
// (never a second migration for a VMI), each restart through the same code as `kvmig restart`.
// At most --concurrency jobs run at once, and no more migrations than the cluster has free
// slots. Ctrl-C, or reaching --max-failures (failure-limit.ts), stops starting new work and
// waits for what runs; a summary table ends it.

import type { CommandContext } from "../context.js";
import { formatDuration } from "../duration.js";
import {
  describeError,
  InterruptedError,
  OperationFailedError,
  TimeoutError,
  UnauthorizedError,
} from "../errors.js";
import { formatTable } from "../io/table.js";
import { accessCheckCommand } from "../k8s/access-check.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { failureText } from "../migration/state.js";
import { followMigration } from "../operations/follow-migration.js";
import { listMigrationsOf } from "../operations/read-vm.js";
import { restartAndWait } from "../operations/restart-vm.js";
import { ensureMigration } from "../operations/start-migration.js";
import {
  type Cause,
  causeMatters,
  type FailureStop,
  rootCause,
  stopAfter,
  stoppedDetail,
  stopText,
} from "../outdated/failure-limit.js";
import type { OutdatedRow } from "../outdated/rows.js";
import { outageNotices } from "../render/outage-notice.js";
import { kvmigCommand } from "../util/shell.js";

export type JobAction = "migrate" | "restart";

export interface Job {
  namespace: string;
  /** The VM (or, for a standalone VMI, the VMI) name. */
  name: string;
  vmi: string;
  standalone: boolean;
  action: JobAction;
  node: string | null;
}

export type JobOutcome = "succeeded" | "failed" | "timeout" | "skipped";

export interface JobResult {
  namespace: string;
  vm: string;
  action: JobAction;
  outcome: JobOutcome;
  sourceNode: string | null;
  targetNode: string | null;
  seconds: number | null;
  /** The migration kvmig followed (migrate only). */
  migration: string | null;
  /** The launcher image after the job, and whether it is the current one. */
  launcherImage: string | null;
  launcherCurrent: boolean | null;
  detail: string | null;
}

export interface ActOptions {
  concurrency: number;
  /** How many migrations may run at once: the cluster's free slots. */
  migrationSlots: number;
  timeoutMs: number;
  currentImage: string | undefined;
  /** --max-failures: 0 for no limit; undefined for the default (failure-limit.ts). */
  maxFailures: number | undefined;
}

export function jobOf(row: OutdatedRow): Job | undefined {
  if (row.action !== "migrate" && row.action !== "restart") return undefined;
  return {
    namespace: row.namespace,
    name: row.vm ?? row.vmi,
    vmi: row.vmi,
    standalone: row.vm === null,
    action: row.action,
    node: row.node,
  };
}

/** Counts for the progress line. */
export interface PoolCounts {
  done: number;
  running: number;
  failed: number;
  left: number;
}

export function progressBar(counts: PoolCounts, total: number, width = 20): string {
  const finished = counts.done + counts.failed;
  const filled = total === 0 ? width : Math.round((finished / total) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${finished}/${total}  done ${counts.done} · running ${counts.running} · failed ${counts.failed} · left ${counts.left}`;
}

/**
 * Picks the next job that may start: any restart, or a migration while a migration slot is
 * free. Returns its index, or -1 when nothing fits now.
 */
export function nextJob(queue: readonly Job[], runningMigrations: number, migrationSlots: number): number {
  return queue.findIndex((job) => job.action === "restart" || runningMigrations < migrationSlots);
}

async function launcherAfter(
  kube: KubeClient,
  job: Job,
  current: string | undefined,
): Promise<Pick<JobResult, "launcherImage" | "launcherCurrent">> {
  try {
    const vmi = await kube.get("vmi", job.vmi, job.namespace);
    const image = vmi.status?.launcherContainerImageVersion || null;
    return {
      launcherImage: image,
      launcherCurrent: image === null || current === undefined ? null : image === current,
    };
  } catch {
    return { launcherImage: null, launcherCurrent: null };
  }
}

/** One job, followed to its end with `signal` (which Ctrl-C does not abort). */
export type JobRunner = (
  kube: KubeClient,
  ctx: CommandContext,
  job: Job,
  options: ActOptions,
  signal: AbortSignal,
) => Promise<JobResult>;

const runMigration: JobRunner = async (kube, ctx, job, options, signal) => {
  const started = ctx.clock.now();
  const base = {
    namespace: job.namespace,
    vm: job.name,
    action: job.action,
    sourceNode: job.node,
  };
  // Never a second migration for a VMI: one that is already under way is followed instead.
  const { migration } = await ensureMigration(kube, {
    namespace: job.namespace,
    vmName: job.name,
    vmiName: job.vmi,
    standalone: job.standalone,
    migrations: await listMigrationsOf(kube, job.namespace, job.vmi),
    clock: ctx.clock,
    signal,
  });
  if (!migration) throw new Error("the migration ended before kvmig could follow it");
  const end = await followMigration(kube, {
    namespace: job.namespace,
    vmName: job.vmi,
    migration,
    signal,
    timeoutMs: options.timeoutMs,
    clock: ctx.clock,
    debug: ctx.debug,
    outage: outageNotices(ctx, kube),
  });
  const view = end.view;
  const outcome: JobOutcome =
    view.outcome === "succeeded" ? "succeeded" : view.outcome === "failed" ? "failed" : "timeout";
  const launcher =
    outcome === "succeeded"
      ? await launcherAfter(kube, job, options.currentImage)
      : { launcherImage: null, launcherCurrent: null };
  return {
    ...base,
    outcome,
    sourceNode: view.sourceNode ?? job.node,
    targetNode: view.targetNode ?? null,
    seconds: (ctx.clock.now() - started) / 1000,
    migration: view.name,
    ...launcher,
    detail:
      outcome === "failed"
        ? (failureText(view) ?? "the migration failed")
        : outcome === "timeout"
          ? `still ${view.phase || "Pending"} after the timeout; it goes on`
          : null,
  };
};

const runRestartJob: JobRunner = async (kube, ctx, job, options, signal) => {
  const started = ctx.clock.now();
  const oldVmi = await kube.get("vmi", job.vmi, job.namespace);
  const result = await restartAndWait(kube, {
    namespace: job.namespace,
    vmName: job.name,
    oldVmi,
    force: false,
    signal,
    timeoutMs: options.timeoutMs,
    clock: ctx.clock,
    outage: outageNotices(ctx, kube),
  });
  const image = result.newVmi?.status?.launcherContainerImageVersion || null;
  const outcome: JobOutcome =
    result.end === "running" ? "succeeded" : result.end === "failed" ? "failed" : "timeout";
  const downtime =
    result.runningAt !== undefined && result.goneAt !== undefined
      ? `downtime ${((result.runningAt - result.goneAt) / 1000).toFixed(1)}s`
      : null;
  return {
    namespace: job.namespace,
    vm: job.name,
    action: job.action,
    outcome,
    sourceNode: oldVmi.status?.nodeName ?? job.node,
    targetNode: result.newVmi?.status?.nodeName ?? null,
    seconds: (ctx.clock.now() - started) / 1000,
    migration: null,
    launcherImage: image,
    launcherCurrent:
      image === null || options.currentImage === undefined ? null : image === options.currentImage,
    detail:
      outcome === "failed"
        ? `the new VMI ended ${result.newPhase}`
        : outcome === "timeout"
          ? `the new VMI is still ${result.newPhase ?? "not created"} after the timeout`
          : downtime,
  };
};

/** The result of a job that did not get as far as a target. */
function endedEarly(job: Job, outcome: JobOutcome, seconds: number | null, detail: string): JobResult {
  return {
    namespace: job.namespace,
    vm: job.name,
    action: job.action,
    outcome,
    sourceNode: job.node,
    targetNode: null,
    seconds,
    migration: null,
    launcherImage: null,
    launcherCurrent: null,
    detail,
  };
}

function errorResult(job: Job, error: unknown, seconds: number): JobResult {
  return endedEarly(job, "failed", seconds, describeError(error).message);
}

function skipped(job: Job, stop: FailureStop | undefined): JobResult {
  return endedEarly(job, "skipped", null, `not started: ${stop ? stoppedDetail(stop) : "interrupted"}`);
}

function finishedLine(r: JobResult): string {
  const where = `${r.namespace}/${r.vm}`;
  const route = `${r.sourceNode ?? "?"} → ${r.targetNode ?? "?"}`;
  const time = r.seconds === null ? "" : ` in ${formatDuration(r.seconds * 1000)}`;
  const verb = r.action === "migrate" ? "migrated" : "restarted";
  if (r.outcome === "succeeded") return `${verb} ${where} ${route}${time}${r.detail ? ` (${r.detail})` : ""}`;
  if (r.outcome === "timeout") return `${r.action} ${where} timed out${time}: ${r.detail}`;
  return `${r.action} ${where} failed${time}: ${r.detail}`;
}

/** The permission each action needs (facts §a, RBAC): the subresource, or creating a VMIM. */
function permissionOf(job: Job): {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  text: string;
} {
  if (job.action === "restart")
    return {
      verb: "update",
      group: "subresources.kubevirt.io",
      resource: "virtualmachines",
      subresource: "restart",
      text: "update virtualmachines/restart",
    };
  if (job.standalone)
    return {
      verb: "create",
      group: "kubevirt.io",
      resource: "virtualmachineinstancemigrations",
      text: "create virtualmachineinstancemigrations",
    };
  return {
    verb: "update",
    group: "subresources.kubevirt.io",
    resource: "virtualmachines",
    subresource: "migrate",
    text: "update virtualmachines/migrate",
  };
}

/**
 * Asks the API server (SelfSubjectAccessReview) once per namespace and permission whether the
 * jobs may run, so that a missing permission stops everything before anything starts. A review
 * that cannot be made is no answer: the jobs then find out for themselves.
 */
export async function checkAccess(kube: KubeClient, jobs: readonly Job[]): Promise<void> {
  const wanted = new Map<
    string,
    { namespace: string; permission: ReturnType<typeof permissionOf>; count: number }
  >();
  for (const job of jobs) {
    const permission = permissionOf(job);
    const key = `${job.namespace} ${permission.text}`;
    const entry = wanted.get(key);
    if (entry) entry.count++;
    else wanted.set(key, { namespace: job.namespace, permission, count: 1 });
  }
  const answers = await Promise.all(
    [...wanted.values()].map(async (entry) => {
      const { text: _, ...check } = entry.permission;
      const answer = await kube.canI({ ...check, namespace: entry.namespace }).catch(() => undefined);
      return { ...entry, allowed: answer?.allowed !== false };
    }),
  );
  const denied = answers.filter((a) => !a.allowed);
  const first = denied[0];
  if (!first) return;
  const list = denied.map(
    (d) => `${d.permission.text} in ${d.namespace} (${d.count} VM${d.count === 1 ? "" : "s"})`,
  );
  const migrate = denied.some((d) => d.permission.text !== "update virtualmachines/restart");
  throw new UnauthorizedError(`not allowed to ${list.join("; ")}; nothing was started`, {
    hint: migrate
      ? `migrating needs the ClusterRole kubevirt.io:migrate (KubeVirt 1.5+) bound in the namespace; check with: ${accessCheckCommand({ verb: "update", group: "subresources.kubevirt.io", resource: "virtualmachines", subresource: "migrate", namespace: first.namespace })}`
      : `restarting needs the admin or edit ClusterRole in the namespace; check with: ${accessCheckCommand({ verb: "update", group: "subresources.kubevirt.io", resource: "virtualmachines", subresource: "restart", namespace: first.namespace })}`,
  });
}

/** What diagnose names as the root cause of a failed job; undefined when it names none. */
export type CauseFinder = (
  kube: KubeClient,
  ctx: CommandContext,
  job: Job,
  result: JobResult,
) => Promise<Cause>;

/** A failed migration's root cause, from the same live diagnosis `kvmig diagnose` makes. */
const diagnosedCause: CauseFinder = async (kube, ctx, job) => {
  // A restart has no migration to diagnose; an unknown cause counts as a distinct one.
  if (job.action !== "migrate") return undefined;
  try {
    const [{ diagnoseLive }, { registeredRules }] = await Promise.all([
      import("../diagnose/live.js"),
      import("../diagnose/registry.js"),
    ]);
    const now = new Date(ctx.clock.now()).toISOString();
    const { report } = await diagnoseLive(kube, { namespace: job.namespace, vmName: job.name }, now);
    const specificity = new Map(registeredRules().map((rule) => [rule.id, rule.specificity]));
    return rootCause(report.findings, (id) => specificity.get(id));
  } catch (error) {
    ctx.debug(`diagnose after the failure of ${job.namespace}/${job.name}: ${describeError(error).message}`);
    return undefined;
  }
};

/** How runJobs runs a job and learns why one failed: the real code, or a test's stand-ins. */
export interface JobSeams {
  run: (job: Job) => JobRunner;
  causeOf: CauseFinder;
}

const realSeams: JobSeams = {
  run: (job) => (job.action === "migrate" ? runMigration : runRestartJob),
  causeOf: diagnosedCause,
};

export interface RunOutcome {
  results: JobResult[];
  interrupted: boolean;
  /** Set when --max-failures was reached and no new work started after. */
  stopped: FailureStop | undefined;
}

/** Runs the jobs; returns every job's result, in the order given. */
export async function runJobs(
  kube: KubeClient,
  ctx: CommandContext,
  jobs: readonly Job[],
  options: ActOptions,
  seams: JobSeams = realSeams,
): Promise<RunOutcome> {
  const progress = ctx.progress();
  // The jobs' follows tell an API outage once, above the bar.
  outageNotices(ctx, kube, progress);
  const bar = ctx.io.stderrIsTTY;
  const queue = [...jobs];
  const results = new Map<Job, JobResult>();
  const running = new Map<Job, Promise<void>>();
  const counts: PoolCounts = { done: 0, running: 0, failed: 0, left: jobs.length };
  let runningMigrations = 0;
  // Running jobs finish even after Ctrl-C: they follow with a signal of their own.
  const jobSignal = new AbortController().signal;
  let interrupted = false;
  // One cause per failure, in the order they ended; `judging` failures are being diagnosed, and
  // nothing new starts until their cause (and so the limit) is known.
  const causes: Cause[] = [];
  let judging = 0;
  let stopped: FailureStop | undefined;
  let wake: (() => void) | undefined;
  const onInterrupt = () => {
    interrupted = true;
    if (ctx.io.mode === "text")
      ctx.io.err(
        `interrupted: no new work starts; waiting for the ${running.size} running (Ctrl-C again leaves them running)`,
      );
    wake?.();
  };
  ctx.signal.addEventListener("abort", onInterrupt, { once: true });
  const draw = () => {
    if (bar) progress.update(progressBar(counts, jobs.length));
  };

  /**
   * Counts a failure against --max-failures, learning its cause first when that can matter;
   * true when this failure reaches the limit.
   */
  const countFailure = async (job: Job, result: JobResult): Promise<boolean> => {
    let cause: Cause;
    if (queue.length > 0 && !stopped && causeMatters(options.maxFailures, causes)) {
      judging++;
      try {
        cause = await seams.causeOf(kube, ctx, job, result).catch(() => undefined);
      } finally {
        judging--;
      }
    }
    causes.push(cause);
    // After Ctrl-C nothing starts anyway: the interruption stays the reason.
    if (stopped || interrupted) return false;
    stopped = stopAfter(options.maxFailures, causes);
    return stopped !== undefined;
  };

  const launch = (job: Job) => {
    counts.left--;
    counts.running++;
    if (job.action === "migrate") runningMigrations++;
    draw();
    const started = ctx.clock.now();
    const work = seams
      .run(job)(kube, ctx, job, options, jobSignal)
      .catch((error: unknown) => errorResult(job, error, (ctx.clock.now() - started) / 1000))
      .then(async (result) => {
        const reached = result.outcome === "failed" && (await countFailure(job, result));
        results.set(job, result);
        running.delete(job);
        counts.running--;
        if (job.action === "migrate") runningMigrations--;
        if (result.outcome === "succeeded") {
          counts.done++;
          progress.succeed(finishedLine(result));
        } else {
          counts.failed++;
          progress.fail(finishedLine(result));
        }
        if (reached && stopped && queue.length > 0 && ctx.io.mode === "text") {
          const waiting = running.size > 0 ? `; waiting for the ${running.size} running` : "";
          progress.warn(`${stoppedDetail(stopped)}: no new work starts${waiting}`);
        }
        draw();
        wake?.();
      });
    running.set(job, work);
  };

  try {
    while (queue.length > 0 && !interrupted && !stopped) {
      const index =
        running.size < options.concurrency && judging === 0
          ? nextJob(queue, runningMigrations, options.migrationSlots)
          : -1;
      if (index >= 0) {
        const [job] = queue.splice(index, 1);
        if (job) launch(job);
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    await Promise.all(running.values());
  } finally {
    ctx.signal.removeEventListener("abort", onInterrupt);
    progress.stop();
    await progress.flush();
  }
  // A stop is only ever set before any Ctrl-C, so when set it is why the rest did not start.
  const notStarted = (job: Job) => skipped(job, stopped);
  for (const job of queue) results.set(job, notStarted(job));
  return {
    results: jobs.map((job) => results.get(job) ?? notStarted(job)),
    interrupted,
    stopped: stopped && queue.length > 0 ? stopped : undefined,
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

export function resultCounts(results: readonly JobResult[]) {
  const count = (o: JobOutcome) => results.filter((r) => r.outcome === o).length;
  return {
    succeeded: count("succeeded"),
    failed: count("failed"),
    timeout: count("timeout"),
    skipped: count("skipped"),
  };
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
  end: Pick<RunOutcome, "interrupted" | "stopped">,
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
