// How a bulk run shows (src/render/bulk.ts): the progress line, a line per finished VM, the
// summary table, and the exit code of the run.
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../../src/context.js";
import {
  ExitCode,
  InterruptedError,
  KvmigError,
  OperationFailedError,
  TimeoutError,
} from "../../src/errors.js";
import { createProgress } from "../../src/io/progress.js";
import {
  alreadyCurrentDetail,
  type BulkOptions,
  type Job,
  type JobResult,
  type JobSeams,
  runBulk,
} from "../../src/operations/bulk.js";
import { bulkScreen, finishedLine, outcomeError, progressBar, summaryTable } from "../../src/render/bulk.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { testContext } from "../helpers/test-context.js";

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

describe("bulkScreen", () => {
  const six = ["j1", "j2", "j3", "j4", "j5", "j6"].map((n) => job(n, "migrate"));
  const failing: JobSeams = {
    run: () => async (_kube, j) =>
      result({ vm: j.name, action: j.action, outcome: "failed", detail: "boom" }),
    causeOf: async () => undefined,
  };

  it("without a terminal: a line per finished VM, then one saying that nothing new starts and why", async () => {
    const { ctx: base, stderr } = testContext();
    base.io.setOutputMode("text");
    const ctx = {
      ...base,
      progress: () => createProgress(base.io),
    } as unknown as CommandContext;
    const kube = fakeKube({});
    const screen = bulkScreen(ctx, kube, 4);
    const options: BulkOptions = {
      concurrency: 1,
      migrationSlots: 5,
      timeoutMs: 0,
      currentImage: undefined,
      maxFailures: 1,
      clock: base.clock,
      signal: base.signal,
    };
    await runBulk(kube, six.slice(0, 4), options, screen.observer, failing);
    await screen.stop();
    expect(stderr().trim().split("\n")).toEqual([
      "error: migrate apps/j1 failed in 12s: boom",
      "warning: stopped after 1 failure (--max-failures 1): no new work starts",
    ]);
  });
});

describe("finishedLine", () => {
  it("a migration: its route and time", () => {
    expect(finishedLine(result())).toBe("migrated apps/web-1 node-1 → node-2 in 12s");
  });

  it("a VM already on the current launcher by its turn: that nothing was done, no route", () => {
    for (const action of ["migrate", "restart"] as const) {
      const line = finishedLine(
        result({
          action,
          targetNode: null,
          seconds: 0,
          migration: null,
          detail: alreadyCurrentDetail(action),
        }),
      );
      expect(line).toBe(
        `apps/web-1 already on the current launcher (updated since it was listed); not ${action === "migrate" ? "migrated" : "restarted"}`,
      );
    }
  });
});
