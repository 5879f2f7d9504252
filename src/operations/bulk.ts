// The bulk runner: a queue of jobs, each a live migration or a restart of one VM, run a few at a
// time. Each migration goes through the same start and follow code as `kvmig migrate` (never a
// second migration for a VMI), each restart through the same code as `kvmig restart`. At most
// `concurrency` jobs run at once, and no more migrations than the cluster has free slots
// (migrationCapacity). Ctrl-C (the signal), or reaching --max-failures (failure-limit.ts), stops
// starting new work; the jobs that run are followed to their end, with a signal of their own.
// Every job's result comes back, in the order given. It prints nothing: starts, ends and the
// interruption go to a BulkObserver. `kvmig outdated --migrate/--restart` uses it.
//
// The VMs were listed when the run began; by a job's turn KubeVirt's workload updater (or a drain,
// or another run) may have moved its VM onto the current launcher already. Each job therefore
// reads the VMI before it acts (a migration's after finding none under way), and one that no
// longer runs an outdated launcher is neither migrated nor restarted: its result says so
// (alreadyCurrentDetail) and counts as succeeded.

import type { Clock } from "../clock.js";
import { describeError, UnauthorizedError } from "../errors.js";
import { accessCheckCommand } from "../k8s/access-check.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { ApiOutage } from "../k8s/outage.js";
import type { KubeVirt, VirtualMachineInstance } from "../k8s/types.js";
import { limitsOf } from "../migration/preflight.js";
import { failureText, isFinalPhase } from "../migration/state.js";
import { isFinalVmi, isOutdated } from "../outdated/rows.js";
import { allowedEach } from "./access-review.js";
import {
  type Cause,
  causeMatters,
  type FailureStop,
  rootCause,
  stopAfter,
  stoppedDetail,
} from "./failure-limit.js";
import { followMigration } from "./follow-migration.js";
import { listMigrationsOf } from "./read-vm.js";
import { restartAndWait } from "./restart-vm.js";
import { ensureMigration } from "./start-migration.js";

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

export interface BulkOptions {
  concurrency: number;
  /** How many migrations may run at once: the cluster's free slots (migrationCapacity). */
  migrationSlots: number;
  /** How long to follow each job; 0 for no limit. */
  timeoutMs: number;
  /** The current launcher image, to tell whether a job's VMI runs it afterwards. */
  currentImage: string | undefined;
  /** --max-failures: 0 for no limit; undefined for the default (failure-limit.ts). */
  maxFailures: number | undefined;
  clock: Clock;
  /** Ctrl-C: once it aborts nothing new starts; the running jobs go on to their end. */
  signal: AbortSignal;
  debug?: ((line: string) => void) | undefined;
  /** Where the jobs' watches tell an API outage they ride out (one for all the jobs). */
  outage?: ApiOutage | undefined;
}

/** Counts for a progress line. */
export interface PoolCounts {
  done: number;
  running: number;
  failed: number;
  left: number;
}

/** What a run tells as it goes. */
export interface BulkObserver {
  /** A job started (counted in `counts` already). */
  onStart?(job: Job, counts: PoolCounts): void;
  /**
   * A job ended. `stopping` is set when its failure reached --max-failures while jobs were still
   * queued: nothing new starts, and `running` jobs are waited for.
   */
  onFinish?(result: JobResult, counts: PoolCounts, stopping?: { stop: FailureStop; running: number }): void;
  /** Ctrl-C: nothing new starts; the `running` jobs go on to their end. */
  onInterrupt?(running: number): void;
}

/** The cluster's room for migrations: parallelMigrationsPerCluster, the unfinished ones, and what is left. */
export interface MigrationCapacity {
  limit: number;
  busy: number;
  free: number;
}

/** How many more migrations the cluster runs at once: parallelMigrationsPerCluster minus the unfinished ones. */
export async function migrationCapacity(
  kube: KubeClient,
  kubevirt: KubeVirt | undefined,
): Promise<MigrationCapacity> {
  const limit = limitsOf(kubevirt).perCluster;
  const migrations = (await kube.list("vmim").catch(() => undefined)) ?? [];
  const busy = migrations.filter((m) => !isFinalPhase(m.status?.phase)).length;
  return { limit, busy, free: Math.max(0, limit - busy) };
}

/** The migration slots of a run: within --concurrency and the free slots, and at least one (it waits its turn). */
export function migrationSlots(concurrency: number, capacity: MigrationCapacity): number {
  return Math.max(1, Math.min(concurrency, capacity.free));
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
  job: Job,
  options: BulkOptions,
  signal: AbortSignal,
) => Promise<JobResult>;

const runMigration: JobRunner = async (kube, job, options, signal) => {
  const { clock } = options;
  const started = clock.now();
  const base = {
    namespace: job.namespace,
    vm: job.name,
    action: job.action,
    sourceNode: job.node,
  };
  const migrations = await listMigrationsOf(kube, job.namespace, job.vmi);
  // With none under way, a VM moved onto the current launcher meanwhile is left alone. The VMI is
  // read after the list, so that a migration that ends in between has made it current by then.
  if (!migrations.some((m) => !isFinalPhase(m.status?.phase))) {
    const vmi = await kube.get("vmi", job.vmi, job.namespace).catch(() => undefined);
    const current = alreadyCurrent(vmi, job, options, (clock.now() - started) / 1000);
    if (current) return current;
  }
  // Never a second migration for a VMI: one that is already under way is followed instead.
  const { migration } = await ensureMigration(kube, {
    namespace: job.namespace,
    vmName: job.name,
    vmiName: job.vmi,
    standalone: job.standalone,
    migrations,
    clock,
    signal,
  });
  if (!migration) throw new Error("the migration ended before kvmig could follow it");
  const end = await followMigration(kube, {
    namespace: job.namespace,
    vmName: job.vmi,
    migration,
    signal,
    timeoutMs: options.timeoutMs,
    clock,
    debug: options.debug,
    outage: options.outage,
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
    seconds: (clock.now() - started) / 1000,
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

const runRestart: JobRunner = async (kube, job, options, signal) => {
  const { clock } = options;
  const started = clock.now();
  const oldVmi = await kube.get("vmi", job.vmi, job.namespace);
  const current = alreadyCurrent(oldVmi, job, options, (clock.now() - started) / 1000);
  if (current) return current;
  const result = await restartAndWait(kube, {
    namespace: job.namespace,
    vmName: job.name,
    oldVmi,
    force: false,
    signal,
    timeoutMs: options.timeoutMs,
    clock,
    outage: options.outage,
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
    seconds: (clock.now() - started) / 1000,
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
  const entries = [...wanted.values()];
  const allowed = await allowedEach(
    kube,
    entries.map((entry) => {
      const { text: _, ...check } = entry.permission;
      return { ...check, namespace: entry.namespace };
    }),
  );
  const answers = entries.map((entry, i) => ({ ...entry, allowed: allowed[i] }));
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
  job: Job,
  result: JobResult,
  options: BulkOptions,
) => Promise<Cause>;

/** A failed migration's root cause, from the same live diagnosis `kvmig diagnose` makes. */
const diagnosedCause: CauseFinder = async (kube, job, _result, options) => {
  // A restart has no migration to diagnose; an unknown cause counts as a distinct one.
  if (job.action !== "migrate") return undefined;
  try {
    const [{ diagnoseLive }, { registeredRules }] = await Promise.all([
      import("../diagnose/live.js"),
      import("../diagnose/registry.js"),
    ]);
    const now = new Date(options.clock.now()).toISOString();
    const { report } = await diagnoseLive(kube, { namespace: job.namespace, vmName: job.name }, now);
    const specificity = new Map(registeredRules().map((rule) => [rule.id, rule.specificity]));
    return rootCause(report.findings, (id) => specificity.get(id));
  } catch (error) {
    options.debug?.(
      `diagnose after the failure of ${job.namespace}/${job.name}: ${describeError(error).message}`,
    );
    return undefined;
  }
};

/** How runBulk runs a job and learns why one failed: the real code, or a test's stand-ins. */
export interface JobSeams {
  run: (job: Job) => JobRunner;
  causeOf: CauseFinder;
}

/** The detail of a job whose VM ran the current launcher by its turn: nothing was done to it. */
export function alreadyCurrentDetail(action: JobAction): string {
  return `already on the current launcher (updated since it was listed); not ${action === "migrate" ? "migrated" : "restarted"}`;
}

/**
 * The result of a job whose VMI no longer runs an outdated launcher (by the label, or with the
 * current image known by its image: as `outdated --check` tells); undefined when it still does,
 * is not running, or could not be read (the job then finds out for itself).
 */
function alreadyCurrent(
  vmi: VirtualMachineInstance | undefined,
  job: Job,
  options: BulkOptions,
  seconds: number,
): JobResult | undefined {
  if (!vmi || isFinalVmi(vmi) || isOutdated(vmi, options.currentImage, true)) return undefined;
  const image = vmi.status?.launcherContainerImageVersion || null;
  return {
    ...endedEarly(job, "succeeded", seconds, alreadyCurrentDetail(job.action)),
    sourceNode: vmi.status?.nodeName ?? job.node,
    launcherImage: image,
    launcherCurrent:
      image === null || options.currentImage === undefined ? null : image === options.currentImage,
  };
}

/** The real job: a live migration followed to its end, or a restart waited for. */
export const runJob: JobRunner = (kube, job, options, signal) =>
  (job.action === "migrate" ? runMigration : runRestart)(kube, job, options, signal);

const realSeams: JobSeams = {
  run: () => runJob,
  causeOf: diagnosedCause,
};

export interface BulkOutcome {
  results: JobResult[];
  interrupted: boolean;
  /** Set when --max-failures was reached and no new work started after. */
  stopped: FailureStop | undefined;
}

/** Runs the jobs; returns every job's result, in the order given. */
export async function runBulk(
  kube: KubeClient,
  jobs: readonly Job[],
  options: BulkOptions,
  observer: BulkObserver = {},
  seams: JobSeams = realSeams,
): Promise<BulkOutcome> {
  const { clock } = options;
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
    observer.onInterrupt?.(running.size);
    wake?.();
  };
  options.signal.addEventListener("abort", onInterrupt, { once: true });

  /**
   * Counts a failure against --max-failures, learning its cause first when that can matter;
   * true when this failure reaches the limit.
   */
  const countFailure = async (job: Job, result: JobResult): Promise<boolean> => {
    let cause: Cause;
    if (queue.length > 0 && !stopped && causeMatters(options.maxFailures, causes)) {
      judging++;
      try {
        cause = await seams.causeOf(kube, job, result, options).catch(() => undefined);
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
    observer.onStart?.(job, counts);
    const started = clock.now();
    const work = seams
      .run(job)(kube, job, options, jobSignal)
      .catch((error: unknown) => errorResult(job, error, (clock.now() - started) / 1000))
      .then(async (result) => {
        const reached = result.outcome === "failed" && (await countFailure(job, result));
        results.set(job, result);
        running.delete(job);
        counts.running--;
        if (job.action === "migrate") runningMigrations--;
        if (result.outcome === "succeeded") counts.done++;
        else counts.failed++;
        const stopping =
          reached && stopped && queue.length > 0 ? { stop: stopped, running: running.size } : undefined;
        observer.onFinish?.(result, counts, stopping);
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
    options.signal.removeEventListener("abort", onInterrupt);
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

export function resultCounts(results: readonly JobResult[]) {
  const count = (o: JobOutcome) => results.filter((r) => r.outcome === o).length;
  return {
    succeeded: count("succeeded"),
    failed: count("failed"),
    timeout: count("timeout"),
    skipped: count("skipped"),
  };
}
