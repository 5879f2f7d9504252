// How an evacuation shows (render/evacuate.ts): the node's bar, each VM's line while it moves and
// at its end, the lines a pipe gets (one per change, progress samples left out), the summary.
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../../src/context.js";
import type { EvacuationPlan, PlannedVm } from "../../src/migration/evacuation-plan.js";
import type { EvacuationCounts, EvacuationResult, VmStatus } from "../../src/operations/evacuate-node.js";
import {
  evacuationJson,
  evacuationScreen,
  planLines,
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

  it("is cut to a terminal's width", () => {
    expect(summaryTable(results, 30).split("\n")[0]).toBe("VM            OUTCOME    TO …");
  });

  it("has a row per VM with where it went, how long, the attempts and the cause", () => {
    expect(
      summaryTable([...results, result({ vm: "quick", vmi: "quick", duration: 0 })]).split("\n"),
    ).toEqual([
      "VM            OUTCOME    TO       TIME    ATTEMPTS   CAUSE",
      "prod/db       migrated   node-3   1m23s   1          -",
      "prod/legacy   blocked    -        -       0          not live-migratable",
      "prod/pinned   failed     -        -       2          cpu-model-mismatch",
      "prod/quick    migrated   node-3   <1s     1          -",
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
    screen.observer.onFailure?.(
      { ...s, migration: "kubevirt-evacuation-y", attempts: 2 },
      { id: "cpu-model-mismatch", title: "No node offers the VM's CPU model", summary: "long" } as never,
      false,
    );
    screen.observer.onVm?.({ ...s, stage: "finished", result: result({}) }, counts);
    screen.observer.onNote?.(undefined, "a note");
    screen.stop();
    expect(stdout()).toBe("");
    expect(stderr().split("\n")).toEqual([
      "cordoned node-1: no new pods are scheduled on it",
      "prod/db: waiting for KubeVirt",
      "prod/db: Running",
      "prod/db: migration kubevirt-evacuation-x failed (attempt 1) — diagnose names no cause; KubeVirt will try again",
      "prod/db: migration kubevirt-evacuation-y failed (attempt 2) — cpu-model-mismatch: No node offers the VM's CPU model",
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

describe("planLines", () => {
  const plan = {
    node: "node-1",
    cordoned: false,
    vms: [
      {
        ...vm("web"),
        launcherPod: "virt-launcher-web-x",
        memoryBytes: 2 * 2 ** 30,
        cpuMillis: 1000,
        guestMemoryBytes: 2 * 2 ** 30,
        liveMigratable: { ok: true },
        evictionStrategy: "LiveMigrate",
        why: "LiveMigrate; live-migratable",
        marked: false,
      },
      {
        ...vm("legacy"),
        action: "blocked" as const,
        launcherPod: "virt-launcher-legacy-x",
        memoryBytes: 2 ** 30,
        cpuMillis: 500,
        guestMemoryBytes: 2 ** 30,
        liveMigratable: { ok: false, reason: "DisksNotLiveMigratable" },
        evictionStrategy: "LiveMigrate",
        why: "not live-migratable",
        command: "kvmig restart legacy -n prod",
        marked: false,
        migration: { name: "m-1", phase: "", trigger: "user" },
      },
    ],
    room: {
      nodes: [
        {
          node: "node-2",
          usable: true,
          allocatable: { memoryBytes: 8 * 2 ** 30, cpuMillis: 4000 },
          requested: { memoryBytes: 0, cpuMillis: 500 },
          free: { memoryBytes: 8 * 2 ** 30, cpuMillis: 3500 },
          placed: ["prod/web"],
        },
        {
          node: "node-3",
          usable: false,
          why: "cordoned",
          allocatable: { memoryBytes: 0, cpuMillis: 0 },
          requested: { memoryBytes: 0, cpuMillis: 0 },
          free: { memoryBytes: 0, cpuMillis: 2000 },
          placed: [],
        },
      ],
      fits: true,
      unplaced: [],
      shortfall: { memoryBytes: 0, cpuMillis: 0 },
    },
    limits: { perNode: 2, perCluster: 5, outboundFromNode: 1, inCluster: 3, freeSlots: 1, queued: 3 },
    estimate: { seconds: 95, basis: "3.0 GiB at 64 MiB/s" },
    problems: [{ severity: "warning" as const, message: "1 VM will stay", hint: "use --restart" }],
  } as unknown as EvacuationPlan;

  it("names each VM's action, the room per node, the limits with the queue, the estimate and the problems", () => {
    const t = testContext();
    const lines = planLines(plan, t.ctx as unknown as CommandContext)
      .join("\n")
      .split("\n");
    expect(lines).toEqual([
      "Node node-1: 2 VMs, 1 to move",
      "",
      "NAMESPACE   VM       ACTION    MIGRATABLE   EVICTION      MEMORY    NOW",
      "prod        web      migrate   yes          LiveMigrate   2.0 GiB   -",
      "prod        legacy   blocked   no: Disks    LiveMigrate   1.0 GiB   user migration Pending",
      "  prod/legacy: not live-migratable",
      "    to move it: kvmig restart legacy -n prod",
      "",
      "NODE     USABLE         FREE MEMORY   FREE CPU   COULD TAKE",
      "node-2   yes            8.0 GiB       3.5        prod/web",
      "node-3   no: cordoned   0 B           2          -",
      "",
      "KubeVirt's limits: 2 outbound per node (parallelOutboundMigrationsPerNode; 1 from node-1 now), 5 in the cluster (parallelMigrationsPerCluster; 3 now): 1 free slot; 3 of the migrations wait in KubeVirt's queue and start as slots free",
      "Estimate: about 1m35s (3.0 GiB at 64 MiB/s)",
      "warning: 1 VM will stay",
      "  hint: use --restart",
    ]);
  });

  it("on a terminal cuts the tables to its width, not the prose; names three VMs a node could take, and how many more", () => {
    const t = testContext();
    const busy = structuredClone(plan);
    (busy.room.nodes[0] as { placed: string[] }).placed = ["prod/a", "prod/b", "prod/c", "prod/d", "prod/e"];
    const lines = planLines(busy, t.ctx as unknown as CommandContext, 40)
      .join("\n")
      .split("\n");
    expect(lines).toContain("NAMESPACE   VM       ACTION    MIGRATA…");
    expect(lines).toContain("node-2   yes            8.0 GiB       …");
    expect(lines).toContain("    to move it: kvmig restart legacy -n prod");
    const whole = planLines(busy, t.ctx as unknown as CommandContext).join("\n");
    expect(whole).toContain("prod/a, prod/b, prod/c and 2 more");
  });

  it("says when there is no estimate, and a cordoned node", () => {
    const t = testContext();
    const lines = planLines(
      { ...plan, cordoned: true, estimate: { seconds: null, basis: "no rate known" }, problems: [] },
      t.ctx as unknown as CommandContext,
    );
    expect(lines[0]).toBe("Node node-1 (cordoned): 2 VMs, 1 to move");
    expect(lines.at(-1)).toBe("Estimate: none (no rate known)");
  });
});
