// The bulk runner (src/operations/bulk.ts) on its own: which job may start next, the permission
// check, the pool with scripted jobs stopping at --max-failures, and the real jobs against a
// strict fake cluster: concurrency, the free-slot cap, Ctrl-C, and the results.
import { describe, expect, it, vi } from "vitest";
import { ExitCode, KvmigError } from "../../src/errors.js";
import {
  type BulkOptions,
  checkAccess,
  type Job,
  type JobResult,
  type JobRunner,
  type JobSeams,
  migrationCapacity,
  migrationSlots,
  nextJob,
  resultCounts,
  runBulk,
  runJob,
} from "../../src/operations/bulk.js";
import { outcomeError } from "../../src/render/bulk.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { currentImage, fakeMigrations } from "../helpers/fake-migrations.js";

function job(name: string, action: Job["action"]): Job {
  return { namespace: "apps", name, vmi: name, standalone: false, action, node: "node-1" };
}

function result(changes: Partial<JobResult> = {}): JobResult {
  return {
    namespace: "apps",
    vm: "web-1",
    action: "migrate",
    outcome: "succeeded",
    sourceNode: "node-1",
    targetNode: "node-2",
    seconds: 12,
    migration: "kvmig-web-1-x",
    launcherImage: "quay.io/kubevirt/virt-launcher:v1.9.0",
    launcherCurrent: true,
    detail: null,
    ...changes,
  };
}

function exitCode(error: Error | undefined): number | undefined {
  return error instanceof KvmigError ? error.exitCode : undefined;
}

describe("nextJob", () => {
  const m1 = job("m1", "migrate");
  const m2 = job("m2", "migrate");
  const r1 = job("r1", "restart");

  it("an empty queue has nothing to start", () => {
    expect(nextJob([], 0, 5)).toBe(-1);
  });

  it("the first job when a migration slot is free", () => {
    expect(nextJob([m1, r1, m2], 0, 1)).toBe(0);
    expect(nextJob([m1, m2], 1, 2)).toBe(0);
  });

  it("migrations only while fewer run than there are slots", () => {
    expect(nextJob([m1, m2], 2, 2)).toBe(-1);
    expect(nextJob([m1, m2], 3, 2)).toBe(-1);
    expect(nextJob([m1], 0, 0)).toBe(-1);
  });

  it("restarts always fit, even with every migration slot taken", () => {
    expect(nextJob([r1], 5, 5)).toBe(0);
    expect(nextJob([r1], 0, 0)).toBe(0);
  });

  it("skips migrations that do not fit for the first restart behind them", () => {
    expect(nextJob([m1, m2, r1, job("r2", "restart")], 2, 2)).toBe(2);
  });

  it("picks the first fitting job in order", () => {
    expect(nextJob([r1, m1], 0, 1)).toBe(0);
    expect(nextJob([m1, r1], 0, 1)).toBe(0);
    expect(nextJob([m1, r1], 1, 1)).toBe(1);
  });
});

describe("resultCounts", () => {
  it("counts each outcome", () => {
    expect(resultCounts([])).toEqual({ succeeded: 0, failed: 0, timeout: 0, skipped: 0 });
    expect(
      resultCounts([
        result(),
        result({ outcome: "failed" }),
        result({ outcome: "timeout" }),
        result({ outcome: "skipped" }),
        result({ outcome: "succeeded" }),
        result({ outcome: "timeout" }),
      ]),
    ).toEqual({ succeeded: 2, failed: 1, timeout: 2, skipped: 1 });
  });
});

describe("checkAccess", () => {
  it("asks once per namespace and permission, and a denial stops everything with exit 4 naming each", async () => {
    const asked: string[] = [];
    const kube = fakeKube({
      canI: async (check) => {
        asked.push(`${check.namespace} ${check.verb} ${check.resource}/${check.subresource ?? ""}`);
        return { allowed: !(check.namespace === "apps" && check.subresource === "restart") };
      },
    });
    const jobs = [job("a", "migrate"), job("b", "migrate"), job("c", "restart"), job("d", "restart")];
    const error = await checkAccess(kube, jobs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(asked.sort()).toEqual([
      "apps update virtualmachines/migrate",
      "apps update virtualmachines/restart",
    ]);
    expect(error).toBeInstanceOf(KvmigError);
    expect(exitCode(error as Error)).toBe(ExitCode.unauthorized);
    expect((error as Error).message).toBe(
      "not allowed to update virtualmachines/restart in apps (2 VMs); nothing was started",
    );
    expect((error as KvmigError).hint).toBe(
      'restarting needs the admin or edit ClusterRole in the namespace; check with: echo \'{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"update","group":"subresources.kubevirt.io","resource":"virtualmachines","subresource":"restart","namespace":"apps"}}}\' | kubectl create --validate=false -f - -o \'jsonpath={.status.allowed}\'',
    );
  });

  it("a standalone VMI needs create on virtualmachineinstancemigrations; a review that fails is no answer", async () => {
    const kube = fakeKube({
      canI: async (check) => {
        if (check.namespace === "other") throw new Error("selfsubjectaccessreviews is forbidden");
        expect(check).toEqual({
          verb: "create",
          group: "kubevirt.io",
          resource: "virtualmachineinstancemigrations",
          namespace: "apps",
        });
        return { allowed: true };
      },
    });
    await expect(
      checkAccess(kube, [
        { ...job("lonely", "migrate"), standalone: true },
        { ...job("x", "migrate"), namespace: "other" },
      ]),
    ).resolves.toBeUndefined();
    kube.assertDone();
  });
});

/** A job runner and cause finder that answer from a script, for runBulk without a cluster. */
function scripted(
  outcomes: Record<string, JobResult["outcome"] | Promise<JobResult["outcome"]>>,
  causes: Record<string, string | undefined | Promise<string | undefined>> = {},
) {
  const started: string[] = [];
  const diagnosed: string[] = [];
  const runner: JobRunner = async (_kube, j) => {
    started.push(j.name);
    const outcome = await (outcomes[j.name] ?? "succeeded");
    return result({ vm: j.name, action: j.action, outcome, detail: outcome === "failed" ? "boom" : null });
  };
  const seams: JobSeams = {
    run: () => runner,
    causeOf: async (_kube, j) => {
      diagnosed.push(j.name);
      return causes[j.name];
    },
  };
  return { seams, started, diagnosed };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const six = ["j1", "j2", "j3", "j4", "j5", "j6"].map((n) => job(n, "migrate"));
const options = (maxFailures: number | undefined, concurrency = 1): BulkOptions => ({
  concurrency,
  migrationSlots: 5,
  timeoutMs: 0,
  currentImage: undefined,
  maxFailures,
  clock: new FakeClock(),
  signal: new AbortController().signal,
});
const allFail = Object.fromEntries(six.map((j) => [j.name, "failed" as const]));

describe("runBulk and --max-failures", () => {
  it("--max-failures 2: after the second failure nothing new starts; the rest are not started, saying why", async () => {
    const s = scripted(allFail);
    const run = await runBulk(fakeKube({}), six, options(2), {}, s.seams);
    expect(s.started).toEqual(["j1", "j2"]);
    expect(s.diagnosed).toEqual([]);
    expect(run.stopped).toEqual({ failures: 2, limit: 2, explicit: true, cause: undefined });
    expect(run.results.map((r) => r.outcome)).toEqual([
      "failed",
      "failed",
      "skipped",
      "skipped",
      "skipped",
      "skipped",
    ]);
    expect(run.results[2]?.detail).toBe("not started: stopped after 2 failures (--max-failures 2)");
    expect(outcomeError(run.results, run, { scope: [], again: [] })?.message).toBe(
      "stopped after 2 failures (--max-failures 2); 4 not started",
    );
  });

  it("failures between successes count too: the third of --max-failures 3 stops the run", async () => {
    const s = scripted({ j1: "failed", j3: "failed", j4: "timeout", j5: "failed" });
    const run = await runBulk(fakeKube({}), six, options(3), {}, s.seams);
    expect(s.started).toEqual(["j1", "j2", "j3", "j4", "j5"]);
    expect(run.results.map((r) => r.outcome)).toEqual([
      "failed",
      "succeeded",
      "failed",
      "timeout",
      "failed",
      "skipped",
    ]);
    expect(run.stopped?.failures).toBe(3);
  });

  it("--max-failures 0: never stops; every job runs and no diagnosis is made", async () => {
    const s = scripted(allFail, { j1: "version-skew" });
    const run = await runBulk(fakeKube({}), six, options(0), {}, s.seams);
    expect(s.started).toEqual(["j1", "j2", "j3", "j4", "j5", "j6"]);
    expect(s.diagnosed).toEqual([]);
    expect(run.stopped).toBeUndefined();
    expect(outcomeError(run.results, run, { scope: [], again: [] })?.message).toBe("6 of 6 failed");
  });

  it("default: the first failure's cause is known (version-skew), so it stops after that one", async () => {
    const s = scripted(allFail, { j1: "version-skew" });
    const run = await runBulk(fakeKube({}), six, options(undefined), {}, s.seams);
    expect(s.started).toEqual(["j1"]);
    expect(s.diagnosed).toEqual(["j1"]);
    expect(run.stopped).toEqual({ failures: 1, limit: 1, explicit: false, cause: "version-skew" });
    expect(run.results.filter((r) => r.outcome === "skipped")).toHaveLength(5);
  });

  it("default: causes unknown, so three failures; diagnose runs only while a cause could change the limit", async () => {
    const s = scripted(allFail);
    const run = await runBulk(fakeKube({}), six, options(undefined), {}, s.seams);
    expect(s.started).toEqual(["j1", "j2", "j3"]);
    expect(s.diagnosed).toEqual(["j1"]);
    expect(run.stopped).toEqual({ failures: 3, limit: 3, explicit: false, cause: undefined });
    expect(run.results.slice(3).map((r) => r.detail)).toEqual([
      "not started: stopped after 3 failures (--max-failures 3)",
      "not started: stopped after 3 failures (--max-failures 3)",
      "not started: stopped after 3 failures (--max-failures 3)",
    ]);
  });

  it("the jobs in flight when the limit is reached are followed to their end, not dropped", async () => {
    const second = deferred<JobResult["outcome"]>();
    const s = scripted({ ...allFail, j2: second.promise }, { j1: "version-skew" });
    const running = runBulk(fakeKube({}), six, options(undefined, 2), {}, s.seams);
    await vi.waitFor(() => expect(s.diagnosed).toEqual(["j1"]));
    second.resolve("succeeded");
    const run = await running;
    expect(s.started).toEqual(["j1", "j2"]);
    expect(run.results.map((r) => r.outcome)).toEqual([
      "failed",
      "succeeded",
      "skipped",
      "skipped",
      "skipped",
      "skipped",
    ]);
  });

  it("nothing new starts while a failure's cause is being found, even when a slot frees up", async () => {
    const cause = deferred<string | undefined>();
    const s = scripted({ j1: "failed" }, { j1: cause.promise });
    const running = runBulk(fakeKube({}), six, options(undefined, 2), {}, s.seams);
    // j2 succeeds while j1's diagnosis is under way: its slot stays empty until the cause is known.
    await vi.waitFor(() => expect(s.diagnosed).toEqual(["j1"]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.started).toEqual(["j1", "j2"]);
    cause.resolve("vif-cache-missing");
    const run = await running;
    expect(s.started).toEqual(["j1", "j2"]);
    expect(run.stopped?.cause).toBe("vif-cache-missing");
    expect(run.results.filter((r) => r.outcome === "skipped")).toHaveLength(4);
  });

  it("no failure: all run and nothing is diagnosed", async () => {
    const s = scripted({});
    const run = await runBulk(fakeKube({}), six, options(undefined, 3), {}, s.seams);
    expect(s.started).toHaveLength(6);
    expect(s.diagnosed).toEqual([]);
    expect(run.stopped).toBeUndefined();
    expect(resultCounts(run.results)).toEqual({ succeeded: 6, failed: 0, timeout: 0, skipped: 0 });
  });
});

/**
 * Short waits (looking again for the VMIM a request created, the settle after a migration's
 * end) pass at once; the follow's periodic "why is it Pending" look never comes.
 */
class QuietClock extends FakeClock {
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms < 1000) return super.sleep(ms, signal);
    return new Promise((_resolve, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }
}

function clusterOptions(changes: Partial<BulkOptions> = {}): BulkOptions {
  return {
    concurrency: 2,
    migrationSlots: 5,
    timeoutMs: 0,
    currentImage,
    maxFailures: 0,
    clock: new QuietClock(),
    signal: new AbortController().signal,
    ...changes,
  };
}

const migrate = (name: string): Job => job(name, "migrate");
const waitFor = <T>(check: () => T) => vi.waitFor(check, { timeout: 5000, interval: 2 });

describe("runBulk against a fake cluster", () => {
  it("runs at most --concurrency migrations at once, each through migrate and its follow, results in the order given", async () => {
    const vms = ["vm-1", "vm-2", "vm-3", "vm-4", "vm-5"];
    const cluster = fakeMigrations({ vms });
    const run = runBulk(cluster.kube, vms.map(migrate), clusterOptions({ concurrency: 2 }));
    // Two start; the third waits for a free place, whichever ends first.
    await cluster.whenStarted(2);
    await waitFor(() => expect(cluster.running()).toEqual(["vm-1", "vm-2"]));
    expect(cluster.started).toEqual(["vm-1", "vm-2"]);
    cluster.finish("vm-2", "Succeeded");
    await cluster.whenStarted(3);
    expect(cluster.started).toEqual(["vm-1", "vm-2", "vm-3"]);
    for (const vm of ["vm-1", "vm-3", "vm-4", "vm-5"]) {
      await waitFor(() => expect(cluster.running()).toContain(vm));
      cluster.finish(vm, "Succeeded");
    }
    const outcome = await run;
    expect(cluster.maxRunning()).toBe(2);
    expect(outcome.interrupted).toBe(false);
    expect(outcome.stopped).toBeUndefined();
    expect(outcome.results.map((r) => r.vm)).toEqual(vms);
    expect(outcome.results[0]).toEqual({
      namespace: "apps",
      vm: "vm-1",
      action: "migrate",
      outcome: "succeeded",
      sourceNode: "node-1",
      targetNode: "node-2",
      seconds: expect.any(Number),
      migration: "kubevirt-migrate-vm-vm-1",
      launcherImage: currentImage,
      launcherCurrent: true,
      detail: null,
    });
    expect(resultCounts(outcome.results)).toEqual({ succeeded: 5, failed: 0, timeout: 0, skipped: 0 });
  });

  it("never more migrations than the cluster's free slots; restarts do not take a slot", async () => {
    const vms = ["vm-1", "vm-2", "vm-3", "db-1"];
    // parallelMigrationsPerCluster 2, one migration of another VM under way: one slot is free.
    const cluster = fakeMigrations({ vms, parallelMigrationsPerCluster: 2, busy: 1 });
    const capacity = await migrationCapacity(cluster.kube, cluster.kubevirt);
    expect(capacity).toEqual({ limit: 2, busy: 1, free: 1 });
    const slots = migrationSlots(3, capacity);
    expect(slots).toBe(1);
    const jobs = [migrate("vm-1"), migrate("vm-2"), migrate("vm-3"), job("db-1", "restart")];
    const run = runBulk(cluster.kube, jobs, clusterOptions({ concurrency: 3, migrationSlots: slots }));
    // vm-1 takes the slot; the restart goes past the waiting migrations.
    await cluster.whenStarted(2);
    expect(cluster.started).toEqual(["vm-1", "db-1"]);
    for (const vm of ["vm-1", "vm-2", "vm-3"]) {
      await waitFor(() => expect(cluster.running()).toEqual([vm]));
      cluster.finish(vm, "Succeeded");
    }
    const outcome = await run;
    expect(cluster.maxRunning()).toBe(1);
    expect(cluster.started).toEqual(["vm-1", "db-1", "vm-2", "vm-3"]);
    expect(outcome.results.map((r) => [r.vm, r.action, r.outcome])).toEqual([
      ["vm-1", "migrate", "succeeded"],
      ["vm-2", "migrate", "succeeded"],
      ["vm-3", "migrate", "succeeded"],
      ["db-1", "restart", "succeeded"],
    ]);
    expect(outcome.results[3]).toMatchObject({
      sourceNode: "node-1",
      targetNode: "node-3",
      migration: null,
      launcherImage: currentImage,
      launcherCurrent: true,
      detail: expect.stringMatching(/^downtime \d+\.\ds$/),
    });
  });

  it("no free slot at all still lets one migration run at a time (it waits its turn in KubeVirt's queue)", async () => {
    const cluster = fakeMigrations({ vms: [], parallelMigrationsPerCluster: 2, busy: 3 });
    const capacity = await migrationCapacity(cluster.kube, cluster.kubevirt);
    expect(capacity).toEqual({ limit: 2, busy: 3, free: 0 });
    expect(migrationSlots(4, capacity)).toBe(1);
    expect(migrationSlots(2, { limit: 5, busy: 0, free: 5 })).toBe(2);
  });

  it("Ctrl-C: nothing new starts, the running migrations are followed to their end, the rest are not started", async () => {
    const vms = ["vm-1", "vm-2", "vm-3", "vm-4"];
    const cluster = fakeMigrations({ vms });
    const interrupt = new AbortController();
    const told: number[] = [];
    const finished: string[] = [];
    const run = runBulk(
      cluster.kube,
      vms.map(migrate),
      clusterOptions({ concurrency: 2, signal: interrupt.signal }),
      { onInterrupt: (running) => told.push(running), onFinish: (r) => finished.push(r.vm) },
    );
    await cluster.whenStarted(2);
    await waitFor(() => expect(cluster.running()).toEqual(["vm-1", "vm-2"]));
    interrupt.abort(new Error("interrupted"));
    expect(told).toEqual([2]);
    // The follows go on after Ctrl-C: the migrations end and are reported.
    cluster.finish("vm-1", "Succeeded");
    cluster.finish("vm-2", "Failed", "target pod evicted");
    const outcome = await run;
    expect(cluster.started).toEqual(["vm-1", "vm-2"]);
    expect(finished.sort()).toEqual(["vm-1", "vm-2"]);
    expect(outcome.interrupted).toBe(true);
    expect(outcome.stopped).toBeUndefined();
    expect(outcome.results.map((r) => [r.vm, r.outcome, r.detail])).toEqual([
      ["vm-1", "succeeded", null],
      ["vm-2", "failed", "target pod evicted"],
      ["vm-3", "skipped", "not started: interrupted"],
      ["vm-4", "skipped", "not started: interrupted"],
    ]);
  });

  it("--max-failures with the real jobs: a refused request and a failed migration count; the rest do not start", async () => {
    const vms = ["vm-1", "vm-2", "vm-3", "vm-4"];
    const cluster = fakeMigrations({
      vms,
      autoFinish: (vm) => (vm === "vm-2" ? "Failed" : "Succeeded"),
      refuse: (vm) => (vm === "vm-1" ? new Error("admission webhook denied the request") : undefined),
    });
    const causes: string[] = [];
    const outcome = await runBulk(
      cluster.kube,
      vms.map(migrate),
      clusterOptions({ concurrency: 1, maxFailures: 2 }),
      {},
      {
        run: () => runJob,
        causeOf: async (_kube, j) => {
          causes.push(j.name);
          return undefined;
        },
      },
    );
    expect(cluster.started).toEqual(["vm-1", "vm-2"]);
    // An explicit limit needs no cause: nothing is diagnosed.
    expect(causes).toEqual([]);
    expect(outcome.stopped).toEqual({ failures: 2, limit: 2, explicit: true, cause: undefined });
    expect(outcome.results.map((r) => [r.vm, r.outcome, r.detail])).toEqual([
      ["vm-1", "failed", "admission webhook denied the request"],
      ["vm-2", "failed", "the target failed"],
      ["vm-3", "skipped", "not started: stopped after 2 failures (--max-failures 2)"],
      ["vm-4", "skipped", "not started: stopped after 2 failures (--max-failures 2)"],
    ]);
  });

  it("a VMI already migrating is followed, not migrated a second time", async () => {
    const cluster = fakeMigrations({ vms: ["vm-1"] });
    // Another client started vm-1's migration before the run.
    await cluster.kube.migrate("apps", "vm-1");
    const run = runBulk(cluster.kube, [migrate("vm-1")], clusterOptions());
    await waitFor(() => expect(cluster.kube.calls.filter((c) => c === "watch").length).toBe(3));
    cluster.finish("vm-1", "Succeeded");
    const outcome = await run;
    expect(cluster.kube.calls.filter((c) => c === "migrate")).toHaveLength(1);
    expect(outcome.results[0]).toMatchObject({ outcome: "succeeded", migration: "kubevirt-migrate-vm-vm-1" });
  });

  it("a VM moved onto the current launcher by someone else before its turn is neither migrated nor restarted", async () => {
    // Before the run another migration moved db-1 onto the current launcher; while vm-1's
    // migration runs, KubeVirt's workload updater moves vm-2.
    const cluster = fakeMigrations({ vms: ["vm-1", "vm-2", "db-1"] });
    await cluster.kube.migrate("apps", "db-1");
    cluster.finish("db-1", "Succeeded");
    const run = runBulk(
      cluster.kube,
      [migrate("vm-1"), migrate("vm-2"), job("db-1", "restart")],
      clusterOptions({ concurrency: 1 }),
    );
    await waitFor(() => expect(cluster.running()).toEqual(["vm-1"]));
    await cluster.kube.migrate("apps", "vm-2");
    cluster.finish("vm-2", "Succeeded");
    cluster.finish("vm-1", "Succeeded");
    const outcome = await run;
    // vm-1 by the run; vm-2 and db-1 by the others only.
    expect(cluster.started).toEqual(["db-1", "vm-1", "vm-2"]);
    expect(cluster.kube.calls.filter((c) => c === "restart")).toHaveLength(0);
    expect(outcome.results.map((r) => [r.vm, r.outcome, r.detail])).toEqual([
      ["vm-1", "succeeded", null],
      ["vm-2", "succeeded", "already on the current launcher (updated since it was listed); not migrated"],
      ["db-1", "succeeded", "already on the current launcher (updated since it was listed); not restarted"],
    ]);
    expect(outcome.results[1]).toMatchObject({
      sourceNode: "node-2",
      targetNode: null,
      migration: null,
      launcherImage: currentImage,
      launcherCurrent: true,
    });
  });
});
