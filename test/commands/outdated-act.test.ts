// The parts of `kvmig outdated --migrate/--restart`: which rows become jobs, which job may start
// next, the progress line, the summary table, the exit code of the run, and the pool itself
// (with scripted jobs) stopping at --max-failures.
import { describe, expect, it, vi } from "vitest";
import {
  type ActOptions,
  checkAccess,
  type Job,
  type JobResult,
  type JobRunner,
  type JobSeams,
  jobOf,
  nextJob,
  outcomeError,
  progressBar,
  resultCounts,
  runJobs,
  summaryTable,
} from "../../src/commands/outdated-act.js";
import type { CommandContext } from "../../src/context.js";
import {
  ExitCode,
  InterruptedError,
  KvmigError,
  OperationFailedError,
  TimeoutError,
} from "../../src/errors.js";
import { createProgress, silentProgress } from "../../src/io/progress.js";
import type { OutdatedRow } from "../../src/outdated/rows.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { testContext } from "../helpers/test-context.js";

function row(changes: Partial<OutdatedRow> = {}): OutdatedRow {
  return {
    namespace: "apps",
    vmi: "web-1",
    vm: "web-1",
    node: "node-1",
    phase: "Running",
    image: "quay.io/kubevirt/virt-launcher:v1.8.2",
    currentImage: "quay.io/kubevirt/virt-launcher:v1.9.0",
    labelled: true,
    liveMigratable: true,
    reason: null,
    message: null,
    action: "migrate",
    ...changes,
  };
}

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

describe("jobOf", () => {
  it("a migrate row becomes a migration of its VM", () => {
    expect(jobOf(row({ vmi: "web-1", vm: "web-1", node: "node-3" }))).toEqual({
      namespace: "apps",
      name: "web-1",
      vmi: "web-1",
      standalone: false,
      action: "migrate",
      node: "node-3",
    });
  });

  it("a restart row becomes a restart of the owning VM, not the VMI", () => {
    expect(
      jobOf(
        row({
          namespace: "team-b",
          vmi: "ledger-vmi",
          vm: "ledger",
          liveMigratable: false,
          action: "restart",
        }),
      ),
    ).toEqual({
      namespace: "team-b",
      name: "ledger",
      vmi: "ledger-vmi",
      standalone: false,
      action: "restart",
      node: "node-1",
    });
  });

  it("a standalone VMI is named by the VMI", () => {
    const j = jobOf(row({ vmi: "solo", vm: null, node: null }));
    expect(j).toEqual({
      namespace: "apps",
      name: "solo",
      vmi: "solo",
      standalone: true,
      action: "migrate",
      node: null,
    });
  });

  it.each(["wait", "recreate"] as const)("a %s row is no job", (action) => {
    expect(jobOf(row({ action }))).toBeUndefined();
    expect(jobOf(row({ action, vm: null }))).toBeUndefined();
  });
});

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

describe("progressBar", () => {
  const full = "█".repeat(20);
  const empty = "░".repeat(20);

  it("nothing finished: an empty bar", () => {
    expect(progressBar({ done: 0, running: 2, failed: 0, left: 2 }, 4)).toBe(
      `[${empty}] 0/4  done 0 · running 2 · failed 0 · left 2`,
    );
  });

  it("half finished, failures included: half the bar", () => {
    expect(progressBar({ done: 1, running: 1, failed: 1, left: 1 }, 4)).toBe(
      `[${"█".repeat(10)}${"░".repeat(10)}] 2/4  done 1 · running 1 · failed 1 · left 1`,
    );
  });

  it("all finished: a full bar", () => {
    expect(progressBar({ done: 3, running: 0, failed: 1, left: 0 }, 4)).toBe(
      `[${full}] 4/4  done 3 · running 0 · failed 1 · left 0`,
    );
  });

  it("no jobs at all: a full bar, not a division by zero", () => {
    expect(progressBar({ done: 0, running: 0, failed: 0, left: 0 }, 0)).toBe(
      `[${full}] 0/0  done 0 · running 0 · failed 0 · left 0`,
    );
  });

  it("rounds to whole cells and honours the width", () => {
    const bar = progressBar({ done: 1, running: 0, failed: 0, left: 2 }, 3, 10);
    expect(bar).toBe(`[${"█".repeat(3)}${"░".repeat(7)}] 1/3  done 1 · running 0 · failed 0 · left 2`);
    for (let finished = 0; finished <= 7; finished++) {
      const text = progressBar({ done: finished, running: 0, failed: 0, left: 7 - finished }, 7);
      const cells = text.slice(1, text.indexOf("]"));
      expect(cells).toHaveLength(20);
      expect(cells).toBe(
        "█".repeat(Math.round((finished / 7) * 20)) + "░".repeat(20 - Math.round((finished / 7) * 20)),
      );
    }
  });
});

describe("summaryTable", () => {
  const results = [
    result(),
    result({
      vm: "ledger",
      action: "restart",
      outcome: "failed",
      targetNode: null,
      seconds: 95,
      launcherCurrent: null,
      launcherImage: null,
      detail: "the new VMI ended Failed",
      migration: null,
    }),
    result({
      namespace: "team-b",
      vm: "old",
      outcome: "succeeded",
      seconds: 0.25,
      launcherCurrent: false,
      detail: "downtime 3.0s",
    }),
    result({
      vm: "never",
      outcome: "skipped",
      sourceNode: null,
      targetNode: null,
      seconds: null,
      migration: null,
      launcherImage: null,
      launcherCurrent: null,
      detail: "not started: interrupted",
    }),
  ];

  it("one row per result, without a NAMESPACE column for one namespace", () => {
    expect(summaryTable(results, false).split("\n")).toEqual([
      "VM       ACTION    RESULT      NODES             TIME    LAUNCHER   DETAIL",
      "web-1    migrate   succeeded   node-1 → node-2   12s     current",
      "ledger   restart   failed      node-1 → ?        1m35s   -          the new VMI ended Failed",
      "old      migrate   succeeded   node-1 → node-2   250ms   outdated   downtime 3.0s",
      "never    migrate   skipped     ? → ?             -       -          not started: interrupted",
    ]);
  });

  it("a NAMESPACE column first for all namespaces", () => {
    const lines = summaryTable(results, true).split("\n");
    expect(lines[0]).toBe(
      "NAMESPACE   VM       ACTION    RESULT      NODES             TIME    LAUNCHER   DETAIL",
    );
    expect(lines[1]).toBe("apps        web-1    migrate   succeeded   node-1 → node-2   12s     current");
    expect(lines[3]).toBe(
      "team-b      old      migrate   succeeded   node-1 → node-2   250ms   outdated   downtime 3.0s",
    );
    expect(summaryTable(results, false)).not.toContain("NAMESPACE");
    expect(summaryTable(results, false)).not.toContain("team-b");
  });

  it("no results: the headers alone", () => {
    expect(summaryTable([], false)).toBe("VM   ACTION   RESULT   NODES   TIME   LAUNCHER   DETAIL");
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

describe("outcomeError", () => {
  const ended = { interrupted: false, stopped: undefined };
  const interruptedRun = { interrupted: true, stopped: undefined };
  const hints = { scope: ["-A"], again: ["outdated", "-A", "--migrate"] };

  it("all succeeded: no error", () => {
    expect(outcomeError([result(), result({ vm: "web-2" })], ended, hints)).toBeUndefined();
    expect(outcomeError([], ended, hints)).toBeUndefined();
  });

  it("a failure: exit 3, naming the first failed VM in the diagnose hint", () => {
    const error = outcomeError(
      [
        result(),
        result({ namespace: "team-b", vm: "ledger", outcome: "failed" }),
        result({ vm: "web-9", outcome: "failed" }),
      ],
      ended,
      hints,
    );
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(exitCode(error)).toBe(ExitCode.operationFailed);
    expect(exitCode(error)).toBe(3);
    expect(error?.message).toBe("2 of 3 failed");
    expect((error as OperationFailedError).hint).toBe("see why with: kvmig diagnose ledger -n team-b");
  });

  it("quotes a VM name the shell would misread in the hint", () => {
    const error = outcomeError([result({ vm: "it's", namespace: "my ns", outcome: "failed" })], ended, hints);
    expect((error as OperationFailedError).hint).toBe(`see why with: kvmig diagnose 'it'\\''s' -n 'my ns'`);
  });

  it("failures come before an interruption and time-outs", () => {
    const error = outcomeError(
      [
        result({ outcome: "timeout" }),
        result({ vm: "db", outcome: "failed" }),
        result({ outcome: "skipped" }),
      ],
      interruptedRun,
      hints,
    );
    expect(exitCode(error)).toBe(3);
    expect(error?.message).toBe("1 of 3 failed");
  });

  it("interrupted without failures: exit 130, with how to go on", () => {
    const error = outcomeError(
      [result(), result({ outcome: "skipped" }), result({ outcome: "skipped" })],
      interruptedRun,
      {
        scope: ["-n", "apps"],
        again: [
          "outdated",
          "-n",
          "apps",
          "--migrate",
          "--restart",
          "--concurrency",
          "3",
          "--max-failures",
          "5",
        ],
      },
    );
    expect(error).toBeInstanceOf(InterruptedError);
    expect(exitCode(error)).toBe(ExitCode.interrupted);
    expect(exitCode(error)).toBe(130);
    expect(error?.message).toBe("interrupted: 2 not started");
    // The whole command, action flags included: running it goes on with what is left.
    expect((error as InterruptedError).hint).toBe(
      "run the same command again to go on: kvmig outdated -n apps --migrate --restart --concurrency 3 --max-failures 5",
    );
  });

  it("an interruption comes before time-outs", () => {
    const error = outcomeError([result({ outcome: "timeout" })], interruptedRun, hints);
    expect(exitCode(error)).toBe(130);
    expect(error?.message).toBe("interrupted: 0 not started");
  });

  it("time-outs only: exit 6, with how to follow them", () => {
    const error = outcomeError(
      [result(), result({ outcome: "timeout" }), result({ outcome: "timeout" })],
      ended,
      hints,
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(exitCode(error)).toBe(ExitCode.timedOut);
    expect(exitCode(error)).toBe(6);
    expect(error?.message).toBe("2 of 3 did not finish within the --timeout; they go on");
    expect((error as TimeoutError).hint).toBe("follow them with: kvmig watch -A");
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

describe("outcomeError when --max-failures stopped the run", () => {
  it("exit 3, saying after how many failures, which limit and how many did not start", () => {
    const error = outcomeError(
      [
        result({ vm: "a", outcome: "failed" }),
        result({ vm: "b", outcome: "failed" }),
        result({ vm: "c", outcome: "skipped" }),
      ],
      { interrupted: false, stopped: { failures: 2, limit: 2, explicit: true, cause: undefined } },
      { scope: ["-n", "apps"], again: ["outdated", "-n", "apps", "--migrate"] },
    );
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(exitCode(error)).toBe(3);
    expect(error?.message).toBe("stopped after 2 failures (--max-failures 2); 1 not started");
    expect((error as OperationFailedError).hint).toBe(
      "see why with: kvmig diagnose a -n apps; --max-failures N allows more failures, 0 any number",
    );
  });
});

/** A job runner and cause finder that answer from a script, for runJobs without a cluster. */
function scripted(
  outcomes: Record<string, JobResult["outcome"] | Promise<JobResult["outcome"]>>,
  causes: Record<string, string | undefined | Promise<string | undefined>> = {},
) {
  const started: string[] = [];
  const diagnosed: string[] = [];
  const runner: JobRunner = async (_kube, _ctx, j) => {
    started.push(j.name);
    const outcome = await (outcomes[j.name] ?? "succeeded");
    return result({ vm: j.name, action: j.action, outcome, detail: outcome === "failed" ? "boom" : null });
  };
  const seams: JobSeams = {
    run: () => runner,
    causeOf: async (_kube, _ctx, j) => {
      diagnosed.push(j.name);
      return causes[j.name];
    },
  };
  return { seams, started, diagnosed };
}

function commandContext(): CommandContext {
  const { ctx } = testContext();
  ctx.io.setOutputMode("text");
  return {
    ...ctx,
    options: { output: "text", requestTimeoutMs: 0, verbose: false },
    kube: async () => fakeKube({}),
    progress: () => silentProgress(),
    debug: () => {},
    setExitCode: () => {},
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const six = ["j1", "j2", "j3", "j4", "j5", "j6"].map((n) => job(n, "migrate"));
const options = (maxFailures: number | undefined, concurrency = 1): ActOptions => ({
  concurrency,
  migrationSlots: 5,
  timeoutMs: 0,
  currentImage: undefined,
  maxFailures,
});
const allFail = Object.fromEntries(six.map((j) => [j.name, "failed" as const]));

describe("runJobs and --max-failures", () => {
  it("--max-failures 2: after the second failure nothing new starts; the rest are not started, saying why", async () => {
    const s = scripted(allFail);
    const run = await runJobs(fakeKube({}), commandContext(), six, options(2), s.seams);
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
    const run = await runJobs(fakeKube({}), commandContext(), six, options(3), s.seams);
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
    const run = await runJobs(fakeKube({}), commandContext(), six, options(0), s.seams);
    expect(s.started).toEqual(["j1", "j2", "j3", "j4", "j5", "j6"]);
    expect(s.diagnosed).toEqual([]);
    expect(run.stopped).toBeUndefined();
    expect(outcomeError(run.results, run, { scope: [], again: [] })?.message).toBe("6 of 6 failed");
  });

  it("default: the first failure's cause is known (version-skew), so it stops after that one", async () => {
    const s = scripted(allFail, { j1: "version-skew" });
    const run = await runJobs(fakeKube({}), commandContext(), six, options(undefined), s.seams);
    expect(s.started).toEqual(["j1"]);
    expect(s.diagnosed).toEqual(["j1"]);
    expect(run.stopped).toEqual({ failures: 1, limit: 1, explicit: false, cause: "version-skew" });
    expect(run.results.filter((r) => r.outcome === "skipped")).toHaveLength(5);
  });

  it("default: causes unknown, so three failures; diagnose runs only while a cause could change the limit", async () => {
    const s = scripted(allFail);
    const run = await runJobs(fakeKube({}), commandContext(), six, options(undefined), s.seams);
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
    const running = runJobs(fakeKube({}), commandContext(), six, options(undefined, 2), s.seams);
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
    const running = runJobs(fakeKube({}), commandContext(), six, options(undefined, 2), s.seams);
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

  it("without a terminal: a line per finished VM, then one saying that nothing new starts and why", async () => {
    const s = scripted(allFail);
    const { ctx: base, stderr } = testContext();
    base.io.setOutputMode("text");
    const withLines: CommandContext = {
      ...commandContext(),
      io: base.io,
      progress: () => createProgress(base.io),
    };
    await runJobs(fakeKube({}), withLines, six.slice(0, 4), options(1), s.seams);
    expect(stderr().trim().split("\n")).toEqual([
      "error: migrate apps/j1 failed in 12s: boom",
      "warning: stopped after 1 failure (--max-failures 1): no new work starts",
    ]);
  });

  it("no failure: all run and nothing is diagnosed", async () => {
    const s = scripted({});
    const run = await runJobs(fakeKube({}), commandContext(), six, options(undefined, 3), s.seams);
    expect(s.started).toHaveLength(6);
    expect(s.diagnosed).toEqual([]);
    expect(run.stopped).toBeUndefined();
    expect(resultCounts(run.results)).toEqual({ succeeded: 6, failed: 0, timeout: 0, skipped: 0 });
  });
});
