// How an evacuation shows (render/evacuate.ts): the node's bar, each VM's line while it moves and
// at its end, the lines a pipe gets (one per change, progress samples left out), the summary.
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../../src/context.js";
import type { PlannedVm } from "../../src/migration/evacuation-plan.js";
import type { EvacuationCounts, EvacuationResult, VmStatus } from "../../src/operations/evacuate-node.js";
import {
  evacuationJson,
  evacuationScreen,
  progressBar,
  resultLine,
  summaryTable,
  vmLine,
} from "../../src/render/evacuate.js";
import { testContext } from "../helpers/test-context.js";

const vm = (name: string, namespace = "prod"): PlannedVm =>
  ({ namespace, vm: name, vmi: name, action: "migrate" }) as PlannedVm;

function result(parts: Partial<EvacuationResult>): EvacuationResult {
  return {
    namespace: "prod",
    vm: "db",
    vmi: "db",
    outcome: "migrated",
    from: "node-1",
    to: "node-3",
    duration: 83,
    attempts: 1,
    cause: null,
    message: null,
    fix: null,
    ...parts,
  };
}

const counts: EvacuationCounts = { done: 3, running: 2, queued: 3, failed: 1, blocked: 1, total: 10 };

describe("progressBar", () => {
  it("fills by the finished share (done, failed and blocked) and names every count", () => {
    expect(progressBar(counts, 10)).toBe(
      "[█████░░░░░] 5/10  done 3 · running 2 · queued 3 · failed 1 · blocked 1",
    );
    expect(progressBar({ ...counts, done: 0, failed: 0, blocked: 0 }, 4)).toBe(
      "[░░░░] 0/10  done 0 · running 2 · queued 3 · failed 0 · blocked 0",
    );
    expect(progressBar({ done: 0, running: 0, queued: 0, failed: 0, blocked: 0, total: 0 }, 3)).toBe(
      "[███] 0/0  done 0 · running 0 · queued 0 · failed 0 · blocked 0",
    );
  });
});

describe("a VM's line", () => {
  it("while it waits: why, and the attempt once one failed", () => {
    expect(vmLine({ vm: vm("db"), stage: "waiting", attempts: 0 })).toBe("prod/db: queued");
    expect(
      vmLine({ vm: vm("db"), stage: "waiting", attempts: 1, waiting: "waiting for KubeVirt's next attempt" }),
    ).toBe("prod/db: waiting for KubeVirt's next attempt (attempt 2)");
  });

  it("while it migrates: the phase, and why it is pending", () => {
    expect(vmLine({ vm: vm("db"), stage: "migrating", attempts: 0, phase: "Scheduling" })).toBe(
      "prod/db: Scheduling",
    );
    expect(
      vmLine({
        vm: vm("db"),
        stage: "migrating",
        attempts: 1,
        phase: "Pending",
        waiting: "queued: 2 of 2 outbound migrations from node-1 in use",
      }),
    ).toBe("prod/db: Pending (attempt 2) · queued: 2 of 2 outbound migrations from node-1 in use");
    expect(vmLine({ vm: vm("db"), stage: "migrating", attempts: 0 })).toBe("prod/db: Pending");
  });

  it("while it restarts, and once it has a result", () => {
    expect(vmLine({ vm: vm("old"), stage: "restarting", attempts: 0 })).toBe(
      "prod/old: restarting (downtime)",
    );
    expect(vmLine({ vm: vm("db"), stage: "finished", attempts: 1, result: result({}) })).toBe(
      "prod/db: migrated node-1 → node-3 in 1m23s",
    );
  });
});

describe("resultLine", () => {
  it.each([
    [result({}), "prod/db: migrated node-1 → node-3 in 1m23s"],
    [result({ to: null, duration: null }), "prod/db: migrated node-1 → ?"],
    [result({ outcome: "restarted", to: "node-2", duration: 40 }), "prod/db: restarted on node-2 in 40s"],
    [
      result({ outcome: "restarted", to: "node-2", duration: null, message: "its VMI was replaced" }),
      "prod/db: restarted on node-2 (its VMI was replaced)",
    ],
    [
      result({ outcome: "failed", to: null, cause: "cpu-model-mismatch", message: "failed 2 times" }),
      "prod/db: failed (cpu-model-mismatch): failed 2 times",
    ],
    [result({ outcome: "failed", to: null, message: "x" }), "prod/db: failed: x"],
    [
      result({ outcome: "blocked", to: null, message: "not live-migratable" }),
      "prod/db: blocked: not live-migratable",
    ],
    [
      result({ outcome: "skipped", to: null, message: "its VMI stopped" }),
      "prod/db: skipped: its VMI stopped",
    ],
  ])("%#", (r, line) => {
    expect(resultLine(r)).toBe(line);
  });
});

describe("summaryTable and the JSON document", () => {
  const results = [
    result({}),
    result({ vm: "legacy", vmi: "legacy", outcome: "blocked", to: null, duration: null, attempts: 0 }),
    result({
      vm: "pinned",
      vmi: "pinned",
      outcome: "failed",
      to: null,
      duration: null,
      attempts: 2,
      cause: "cpu-model-mismatch",
      fix: "restart it",
    }),
  ];

  it("has a row per VM with its route, duration, attempts and cause", () => {
    expect(summaryTable(results).split("\n")).toEqual([
      "NAMESPACE   VM       OUTCOME    FROM → TO         DURATION   ATTEMPTS   CAUSE",
      "prod        db       migrated   node-1 → node-3   1m23s      1          -",
      "prod        legacy   blocked    node-1 → -        -          0          not live-migratable",
      "prod        pinned   failed     node-1 → -        -          2          cpu-model-mismatch",
    ]);
  });

  it("carries the issue's fields only, and interrupted only when it was", () => {
    const outcome = {
      node: "node-1",
      cordoned: true,
      results,
      remaining: [{ namespace: "prod", vmi: "pinned" }],
      interrupted: false,
      timedOut: false,
    };
    const doc = evacuationJson(outcome);
    expect(Object.keys(doc)).toEqual(["node", "cordoned", "results", "remaining"]);
    expect(doc.results[2]).toEqual({
      namespace: "prod",
      vm: "pinned",
      outcome: "failed",
      from: "node-1",
      to: null,
      duration: null,
      attempts: 2,
      cause: "cpu-model-mismatch",
      message: null,
    });
    expect(evacuationJson(outcome, { interrupted: true }).interrupted).toBe(true);
  });
});

describe("evacuationScreen", () => {
  const screenOf = (tty: boolean) => {
    const t = testContext({ tty });
    const ctx = t.ctx as unknown as CommandContext;
    return { screen: evacuationScreen(ctx, "node-1"), stderr: t.stderr, stdout: t.stdout };
  };

  it("in a pipe: a line per change of stage, phase or reason, none per progress sample", () => {
    const { screen, stderr, stdout } = screenOf(false);
    const s: VmStatus = { vm: vm("db"), stage: "waiting", attempts: 0, waiting: "waiting for KubeVirt" };
    screen.observer.onCordon?.(false);
    screen.observer.onVm?.(s, counts);
    screen.observer.onVm?.(s, counts);
    Object.assign(s, { stage: "migrating", phase: "Running", waiting: undefined });
    screen.observer.onVm?.(s, counts);
    screen.observer.onVm?.(s, counts);
    screen.observer.onFailure?.({ ...s, migration: "kubevirt-evacuation-x", attempts: 1 }, undefined, true);
    screen.observer.onVm?.({ ...s, stage: "finished", result: result({}) }, counts);
    screen.observer.onNote?.(undefined, "a note");
    screen.stop();
    expect(stdout()).toBe("");
    expect(stderr().split("\n")).toEqual([
      "cordoned node-1: no new pods are scheduled on it",
      "prod/db: waiting for KubeVirt",
      "prod/db: Running",
      "prod/db: migration kubevirt-evacuation-x failed (attempt 1) — diagnose names no cause; KubeVirt will try again",
      "prod/db: migrated node-1 → node-3 in 1m23s",
      "a note",
      "",
    ]);
  });

  it("says when the node was cordoned already", () => {
    const { screen, stderr } = screenOf(false);
    screen.observer.onCordon?.(true);
    expect(stderr()).toBe("node-1 was cordoned already\n");
  });
});
