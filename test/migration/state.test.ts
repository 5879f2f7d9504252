// The pure phase reducer behind `kvmig migrate`: a view of one migration rebuilt from watch
// events of its VMIM and VMI, the events about them, launcher progress and launcher warnings.
import { describe, expect, it } from "vitest";
import type {
  Event,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
  VirtualMachineInstanceMigrationState,
  VirtualMachineInstanceMigrationStatus,
  VMIMPhase,
} from "../../src/k8s/types.js";
import type { MigrationProgress } from "../../src/migration/progress-line.js";
import {
  type FollowInput,
  failureText,
  initialView,
  isFinalPhase,
  keptSamples,
  type MigrationView,
  phaseDurations,
  reduce,
  totalDuration,
} from "../../src/migration/state.js";

const uid = "11111111-2222-4333-8444-555555555555";
const oldUid = "99999999-8888-4777-8666-555555555555";
const name = "kvmig-db-0-x7k2p";
const vmName = "db-0";
const created = "2025-03-14T09:00:00Z";

/** `created` plus `seconds`, as RFC 3339. */
function at(seconds: number): string {
  return new Date(Date.parse(created) + seconds * 1000).toISOString();
}

function vmim(
  status: VirtualMachineInstanceMigrationStatus = {},
  meta: Partial<VirtualMachineInstanceMigration["metadata"]> = {},
): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: { name, namespace: "prod", uid, creationTimestamp: created, ...meta },
    spec: { vmiName: vmName },
    status,
  };
}

/** A VMIM status whose phases were entered at the given seconds after creation. */
function phases(entries: Array<[VMIMPhase, number]>, extra: VirtualMachineInstanceMigrationStatus = {}) {
  const last = entries.at(-1);
  return {
    phase: last?.[0],
    phaseTransitionTimestamps: entries.map(([phase, s]) => ({ phase, phaseTransitionTimestamp: at(s) })),
    ...extra,
  } satisfies VirtualMachineInstanceMigrationStatus;
}

function vmi(
  nodeName: string,
  migrationState?: VirtualMachineInstanceMigrationState,
): VirtualMachineInstance {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name: vmName, namespace: "prod", uid: "vmi-uid-0001" },
    spec: {},
    status: { phase: "Running", nodeName, ...(migrationState ? { migrationState } : {}) },
  };
}

function warning(
  message: string,
  about: { kind: string; name: string } = { kind: "VirtualMachineInstanceMigration", name },
  type = "Warning",
): Event {
  return {
    metadata: { name: `ev-${message.length}`, namespace: "prod" },
    involvedObject: { ...about, namespace: "prod" },
    reason: "FailedMigration",
    message,
    type,
  };
}

function progress(remainingMiB: number, totalMiB = 4096, migrationUid = uid): MigrationProgress {
  const MiB = 1024 * 1024;
  return {
    migrationUid,
    elapsedMs: 1000,
    dataProcessedBytes: (totalMiB - remainingMiB) * MiB,
    dataRemainingBytes: remainingMiB * MiB,
    dataTotalBytes: totalMiB * MiB,
    bandwidthBytesPerSecond: 1e8,
    dirtyRateBytesPerSecond: 1e6,
    iteration: 1,
    completed: false,
  };
}

const modified = (object: VirtualMachineInstanceMigration): FollowInput => ({
  kind: "migration",
  type: "MODIFIED",
  object,
});
const deleted = (object: VirtualMachineInstanceMigration): FollowInput => ({
  kind: "migration",
  type: "DELETED",
  object,
});
const vmiUpdate = (object: VirtualMachineInstance): FollowInput => ({
  kind: "vmi",
  type: "MODIFIED",
  object,
});

/** Folds the inputs, each at its own `now`. */
function run(view: MigrationView, inputs: Array<[FollowInput, string]>): MigrationView {
  return inputs.reduce((v, [input, now]) => reduce(v, input, now), view);
}

describe("initialView", () => {
  it("starts from the VMIM as created", () => {
    const view = initialView(vmim(), vmName);
    expect(view).toEqual({
      namespace: "prod",
      vmName,
      name,
      uid,
      createdAt: created,
      phase: "",
      timeline: [],
      outcome: "in-progress",
      abortRequested: false,
      deleted: false,
      remainingCurve: [],
      samples: [],
      warnings: [],
      launcherWarnings: [],
      endedAt: undefined,
    });
  });

  it("takes the server's phase timestamps, without stamping a phase that has none", () => {
    const view = initialView(
      vmim({
        phase: "Scheduling",
        phaseTransitionTimestamps: [{ phase: "Pending", phaseTransitionTimestamp: at(1) }],
      }),
      vmName,
    );
    expect(view.phase).toBe("Scheduling");
    expect(view.timeline).toEqual([{ phase: "Pending", at: at(1) }]);
  });

  it("reads nodes and pods from the VMIM's own migrationState", () => {
    const view = initialView(
      vmim({
        phase: "Running",
        migrationState: {
          migrationUid: uid,
          sourceNode: "node-a",
          sourcePod: "virt-launcher-db-0-aaaaa",
          targetNode: "node-b",
          targetPod: "virt-launcher-db-0-bbbbb",
        },
      }),
      vmName,
    );
    expect(view).toMatchObject({
      sourceNode: "node-a",
      sourcePod: "virt-launcher-db-0-aaaaa",
      targetNode: "node-b",
      targetPod: "virt-launcher-db-0-bbbbb",
    });
  });

  it("an already Succeeded VMIM is a success ending at its Succeeded timestamp", () => {
    const view = initialView(
      vmim(
        phases([
          ["Pending", 0],
          ["Running", 5],
          ["Succeeded", 30],
        ]),
      ),
      vmName,
    );
    expect(view.outcome).toBe("succeeded");
    expect(view.endedAt).toBe(at(30));
  });

  it("tolerates a VMIM without metadata fields or status", () => {
    const view = initialView({ metadata: {}, spec: { vmiName: vmName } }, vmName);
    expect(view).toMatchObject({ namespace: "", name: "", uid: "", phase: "", outcome: "in-progress" });
    expect(view.createdAt).toBeUndefined();
  });
});

describe("isFinalPhase", () => {
  it("is true only for Succeeded and Failed", () => {
    expect(isFinalPhase("Succeeded")).toBe(true);
    expect(isFinalPhase("Failed")).toBe(true);
    for (const phase of ["", "Pending", "Running", "TargetReady", "WaitingForSync", undefined]) {
      expect(isFinalPhase(phase)).toBe(false);
    }
  });
});

describe("reduce: timeline", () => {
  it("stamps a phase the server gave no time for with `now`, and keeps that stamp", () => {
    let view = initialView(vmim(), vmName);
    view = reduce(view, modified(vmim({ phase: "Pending" })), at(1));
    view = reduce(view, modified(vmim({ phase: "Scheduling" })), at(3));
    view = reduce(view, modified(vmim({ phase: "Scheduling" })), at(9));
    expect(view.phase).toBe("Scheduling");
    expect(view.timeline).toEqual([
      { phase: "Pending", at: at(1) },
      { phase: "Scheduling", at: at(3) },
    ]);
  });

  it("server timestamps win over `now`, also over a stamp taken earlier", () => {
    let view = initialView(vmim(), vmName);
    view = reduce(view, modified(vmim({ phase: "Pending" })), at(10));
    expect(view.timeline).toEqual([{ phase: "Pending", at: at(10) }]);
    view = reduce(
      view,
      modified(
        vmim(
          phases([
            ["Pending", 2],
            ["Scheduling", 4],
          ]),
        ),
      ),
      at(20),
    );
    expect(view.timeline).toEqual([
      { phase: "Pending", at: at(2) },
      { phase: "Scheduling", at: at(4) },
    ]);
  });

  it("sorts by time, and phases entered in the same second by their order", () => {
    const view = reduce(
      initialView(vmim(), vmName),
      modified(
        vmim({
          phase: "PreparingTarget",
          phaseTransitionTimestamps: [
            { phase: "PreparingTarget", phaseTransitionTimestamp: at(5) },
            { phase: "Scheduled", phaseTransitionTimestamp: at(5) },
            { phase: "Pending", phaseTransitionTimestamp: at(0) },
            { phase: "Scheduling", phaseTransitionTimestamp: at(1) },
          ],
        }),
      ),
      at(6),
    );
    expect(view.timeline.map((e) => e.phase)).toEqual([
      "Pending",
      "Scheduling",
      "Scheduled",
      "PreparingTarget",
    ]);
  });

  it("ignores timestamp entries without a phase or without a time", () => {
    const view = reduce(
      initialView(vmim(), vmName),
      modified(
        vmim({
          phase: "Running",
          phaseTransitionTimestamps: [
            { phase: "Pending", phaseTransitionTimestamp: at(0) },
            { phaseTransitionTimestamp: at(1) },
            { phase: "Scheduling" },
          ],
        }),
      ),
      at(7),
    );
    expect(view.timeline).toEqual([
      { phase: "Pending", at: at(0) },
      { phase: "Running", at: at(7) },
    ]);
  });

  it("ignores a VMIM event for another migration uid", () => {
    const view = initialView(vmim({ phase: "Running" }), vmName);
    const other = vmim(phases([["Failed", 3]]), { uid: oldUid });
    expect(reduce(view, modified(other), at(4))).toBe(view);
    expect(reduce(view, deleted(other), at(4))).toBe(view);
  });
});

describe("reduce: outcome", () => {
  it("a Succeeded phase is a success at the server's Succeeded time", () => {
    const view = run(initialView(vmim(), vmName), [
      [
        modified(
          vmim(
            phases([
              ["Pending", 0],
              ["Scheduling", 1],
              ["Running", 8],
            ]),
          ),
        ),
        at(9),
      ],
      [
        modified(
          vmim(
            phases([
              ["Pending", 0],
              ["Scheduling", 1],
              ["Running", 8],
              ["Succeeded", 25],
            ]),
          ),
        ),
        at(40),
      ],
    ]);
    expect(view.outcome).toBe("succeeded");
    expect(view.phase).toBe("Succeeded");
    expect(view.endedAt).toBe(at(25));
    expect(failureText(view)).toBeUndefined();
  });

  it("a Succeeded phase without a timestamp ends at `now`", () => {
    const view = reduce(
      initialView(vmim({ phase: "Running" }), vmName),
      modified(vmim({ phase: "Succeeded" })),
      at(33),
    );
    expect(view.outcome).toBe("succeeded");
    expect(view.endedAt).toBe(at(33));
  });

  it("prefers the migrationState's endTimestamp as the end", () => {
    const view = reduce(
      initialView(vmim({ phase: "Running" }), vmName),
      modified(
        vmim(phases([["Succeeded", 30]], { migrationState: { migrationUid: uid, endTimestamp: at(28) } })),
      ),
      at(31),
    );
    expect(view.outcome).toBe("succeeded");
    expect(view.endedAt).toBe(at(28));
  });

  it("a failure takes its reason from the VMI's migrationState of this migration", () => {
    const view = run(initialView(vmim(phases([["Running", 8]])), vmName), [
      [
        vmiUpdate(
          vmi("node-a", {
            migrationUid: uid,
            sourceNode: "node-a",
            targetNode: "node-b",
            failed: true,
            failureReason: "Live migration failed: operation failed: migration out job: unexpectedly failed",
            endTimestamp: at(20),
          }),
        ),
        at(20),
      ],
      [
        modified(
          vmim(
            phases([
              ["Running", 8],
              ["Failed", 21],
            ]),
          ),
        ),
        at(22),
      ],
    ]);
    expect(view.outcome).toBe("failed");
    expect(view.phase).toBe("Failed");
    expect(view.endedAt).toBe(at(20));
    expect(view.targetNode).toBe("node-b");
    expect(failureText(view)).toBe(
      "Live migration failed: operation failed: migration out job: unexpectedly failed",
    );
  });

  it("ignores the failureReason of a migrationState for another migration", () => {
    const view = run(initialView(vmim(phases([["Running", 8]])), vmName), [
      [
        vmiUpdate(vmi("node-a", { migrationUid: oldUid, failed: true, failureReason: "old failure" })),
        at(10),
      ],
      [
        modified(
          vmim(
            phases([
              ["Running", 8],
              ["Failed", 21],
            ]),
          ),
        ),
        at(22),
      ],
    ]);
    expect(view.outcome).toBe("failed");
    expect(view.failureReason).toBeUndefined();
    expect(failureText(view)).toBeUndefined();
  });

  it("a VMI whose migrationState is of an older migration does not leak in", () => {
    const start = initialView(vmim({ phase: "Scheduling" }), vmName);
    const view = reduce(
      start,
      vmiUpdate(
        vmi("node-a", {
          migrationUid: oldUid,
          sourceNode: "node-z",
          sourcePod: "virt-launcher-db-0-old",
          targetNode: "node-y",
          targetPod: "virt-launcher-db-0-older",
          completed: true,
          abortRequested: true,
          abortStatus: "Succeeded",
          endTimestamp: "2025-03-13T08:00:00Z",
          failureReason: "stale",
        }),
      ),
      at(5),
    );
    expect(view.vmiNode).toBe("node-a");
    expect(view.sourceNode).toBe("node-a");
    expect(view.sourcePod).toBeUndefined();
    expect(view.targetNode).toBeUndefined();
    expect(view.targetPod).toBeUndefined();
    expect(view.vmiResult).toBeUndefined();
    expect(view.endedAt).toBeUndefined();
    expect(view.failureReason).toBeUndefined();
    expect(view.abortRequested).toBe(false);
    expect(view.abortStatus).toBeUndefined();
    expect(view.outcome).toBe("in-progress");
  });

  it("a finished view does not go back to an earlier phase on a stale update", () => {
    const done = reduce(
      initialView(vmim({ phase: "Running" }), vmName),
      modified(vmim(phases([["Succeeded", 30]]))),
      at(30),
    );
    const view = reduce(done, modified(vmim({ phase: "Running" })), at(31));
    expect(view.phase).toBe("Succeeded");
    expect(view.outcome).toBe("succeeded");
  });

  it("records abort requests from the deletionTimestamp, the condition and the migrationState", () => {
    const start = initialView(vmim({ phase: "Running" }), vmName);
    expect(start.abortRequested).toBe(false);
    expect(
      reduce(start, modified(vmim({ phase: "Running" }, { deletionTimestamp: at(9) })), at(9)).abortRequested,
    ).toBe(true);
    expect(
      reduce(
        start,
        modified(
          vmim({ phase: "Running", conditions: [{ type: "migrationAbortRequested", status: "True" }] }),
        ),
        at(9),
      ).abortRequested,
    ).toBe(true);
    expect(
      reduce(
        start,
        modified(
          vmim({ phase: "Running", conditions: [{ type: "migrationAbortRequested", status: "False" }] }),
        ),
        at(9),
      ).abortRequested,
    ).toBe(false);
    const viaVmi = reduce(
      start,
      vmiUpdate(vmi("node-a", { migrationUid: uid, abortRequested: true, abortStatus: "Aborting" })),
      at(9),
    );
    expect(viaVmi.abortRequested).toBe(true);
    expect(viaVmi.abortStatus).toBe("Aborting");
  });
});

describe("reduce: deletion", () => {
  it.each(["", "Pending", "Scheduling", "Scheduled"] as const)(
    "deleted in phase %j, before hand-off: failed, abort requested",
    (phase) => {
      const start = initialView(vmim({ phase }), vmName);
      const view = reduce(start, deleted(vmim({ phase }, { deletionTimestamp: at(4) })), at(5));
      expect(view.deleted).toBe(true);
      expect(view.outcome).toBe("failed");
      expect(view.abortRequested).toBe(true);
      expect(view.endedAt).toBeUndefined();
    },
  );

  it("deleted after hand-off: undecided until the VMI says it completed", () => {
    const running = initialView(
      vmim(
        phases([
          ["Pending", 0],
          ["Running", 8],
        ]),
      ),
      vmName,
    );
    const afterDelete = reduce(
      running,
      deleted(
        vmim(
          phases([
            ["Pending", 0],
            ["Running", 8],
          ]),
        ),
      ),
      at(12),
    );
    expect(afterDelete.deleted).toBe(true);
    expect(afterDelete.abortRequested).toBe(true);
    expect(afterDelete.outcome).toBe("in-progress");

    // A VMI update without a result for this migration settles nothing.
    const noResult = reduce(afterDelete, vmiUpdate(vmi("node-a", { migrationUid: uid })), at(13));
    expect(noResult.outcome).toBe("in-progress");

    const view = reduce(
      noResult,
      vmiUpdate(vmi("node-b", { migrationUid: uid, completed: true, endTimestamp: at(14) })),
      at(15),
    );
    expect(view.outcome).toBe("succeeded");
    expect(view.endedAt).toBe(at(14));
    expect(view.vmiResult).toEqual({ completed: true, failed: false, endedAt: at(14) });
    expect(view.vmiNode).toBe("node-b");
  });

  it("deleted after hand-off: failed when the VMI says so, with its reason", () => {
    const running = initialView(vmim(phases([["Running", 8]])), vmName);
    const view = run(running, [
      [deleted(vmim(phases([["Running", 8]]))), at(12)],
      [
        vmiUpdate(
          vmi("node-a", {
            migrationUid: uid,
            failed: true,
            abortStatus: "Succeeded",
            failureReason: "Migration was cancelled",
            endTimestamp: at(13),
          }),
        ),
        at(14),
      ],
    ]);
    expect(view.outcome).toBe("failed");
    expect(view.endedAt).toBe(at(13));
    expect(view.abortStatus).toBe("Succeeded");
    expect(failureText(view)).toBe("Migration was cancelled");
  });

  it("a cancelled migration (VMI says completed and failed, abort Succeeded) is a failure", () => {
    const running = initialView(vmim(phases([["Running", 8]])), vmName);
    const state: VirtualMachineInstanceMigrationState = {
      migrationUid: uid,
      completed: true,
      failed: true,
      abortRequested: true,
      abortStatus: "Succeeded",
      endTimestamp: at(13),
    };
    for (const order of [
      [deleted(vmim(phases([["Running", 8]]))), vmiUpdate(vmi("node-a", state))],
      [vmiUpdate(vmi("node-a", state)), deleted(vmim(phases([["Running", 8]])))],
    ]) {
      const view = order.reduce((v, input) => reduce(v, input, at(14)), running);
      expect(view.outcome).toBe("failed");
      expect(view.vmiResult).toEqual({ completed: true, failed: true, endedAt: at(13) });
      expect(view.abortStatus).toBe("Succeeded");
      expect(view.endedAt).toBe(at(13));
    }
  });

  it("deleted after hand-off: the VMI update may come before the DELETED", () => {
    const running = initialView(vmim(phases([["Running", 8]])), vmName);
    const vmiFirst = reduce(
      running,
      vmiUpdate(vmi("node-b", { migrationUid: uid, completed: true, endTimestamp: at(14) })),
      at(14),
    );
    // Not settled by the VMI alone while the VMIM still exists.
    expect(vmiFirst.outcome).toBe("in-progress");
    const view = reduce(vmiFirst, deleted(vmim(phases([["Running", 8]]))), at(15));
    expect(view.outcome).toBe("succeeded");
    expect(view.endedAt).toBe(at(14));

    const failedFirst = run(running, [
      [vmiUpdate(vmi("node-a", { migrationUid: uid, failed: true, endTimestamp: at(16) })), at(16)],
      [deleted(vmim(phases([["Running", 8]]))), at(17)],
    ]);
    expect(failedFirst.outcome).toBe("failed");
    expect(failedFirst.endedAt).toBe(at(16));
  });

  it("deleted after hand-off: the result of an older migration on the VMI does not settle it", () => {
    const running = initialView(vmim(phases([["Running", 8]])), vmName);
    const view = run(running, [
      [deleted(vmim(phases([["Running", 8]]))), at(12)],
      [vmiUpdate(vmi("node-a", { migrationUid: oldUid, completed: true, endTimestamp: at(1) })), at(13)],
    ]);
    expect(view.outcome).toBe("in-progress");
    expect(view.vmiResult).toBeUndefined();
  });

  it("a DELETED of a finished migration (garbage collection) keeps its outcome", () => {
    const done = initialView(
      vmim(
        phases([
          ["Running", 8],
          ["Succeeded", 20],
        ]),
      ),
      vmName,
    );
    const view = reduce(
      done,
      deleted(
        vmim(
          phases([
            ["Running", 8],
            ["Succeeded", 20],
          ]),
        ),
      ),
      at(100),
    );
    expect(view.deleted).toBe(true);
    expect(view.outcome).toBe("succeeded");
    expect(view.endedAt).toBe(at(20));
    expect(view.abortRequested).toBe(false);
  });
});

describe("reduce: VMI", () => {
  it("the source node is where the VMI runs while the migration is in progress", () => {
    const view = reduce(initialView(vmim({ phase: "Pending" }), vmName), vmiUpdate(vmi("node-a")), at(1));
    expect(view.sourceNode).toBe("node-a");
    expect(view.vmiNode).toBe("node-a");
    // After hand-off the VMI runs on the target; the source stays.
    const moved = reduce(view, vmiUpdate(vmi("node-b")), at(2));
    expect(moved.sourceNode).toBe("node-a");
    expect(moved.vmiNode).toBe("node-b");
  });

  it("takes pods and nodes from this migration's migrationState on the VMI", () => {
    const view = reduce(
      initialView(vmim({ phase: "Running" }), vmName),
      vmiUpdate(
        vmi("node-a", {
          migrationUid: uid,
          sourceNode: "node-a",
          sourcePod: "virt-launcher-db-0-aaaaa",
          targetNode: "node-c",
          targetPod: "virt-launcher-db-0-ccccc",
        }),
      ),
      at(9),
    );
    expect(view).toMatchObject({
      sourceNode: "node-a",
      sourcePod: "virt-launcher-db-0-aaaaa",
      targetNode: "node-c",
      targetPod: "virt-launcher-db-0-ccccc",
      outcome: "in-progress",
    });
  });
});

describe("reduce: progress", () => {
  it("builds remainingCurve starting at the total", () => {
    const view = run(initialView(vmim({ phase: "Running" }), vmName), [
      [{ kind: "progress", progress: progress(3000) }, at(10)],
      [{ kind: "progress", progress: progress(1200) }, at(14)],
      [{ kind: "progress", progress: progress(300) }, at(18)],
    ]);
    const MiB = 1024 * 1024;
    expect(view.remainingCurve).toEqual([4096 * MiB, 3000 * MiB, 1200 * MiB, 300 * MiB]);
    expect(view.progress?.dataRemainingBytes).toBe(300 * MiB);
  });

  it("does not repeat the total when the first sample still has everything remaining", () => {
    const MiB = 1024 * 1024;
    const view = run(initialView(vmim({ phase: "Running" }), vmName), [
      [{ kind: "progress", progress: progress(4096) }, at(10)],
      [{ kind: "progress", progress: progress(2048) }, at(14)],
    ]);
    expect(view.remainingCurve).toEqual([4096 * MiB, 2048 * MiB]);
  });

  it("keeps the samples in order, the last keptSamples of them", () => {
    const steps: Array<[FollowInput, string]> = Array.from({ length: keptSamples + 2 }, (_, i) => [
      { kind: "progress", progress: progress(4000 - i) },
      at(10 + i),
    ]);
    const view = run(initialView(vmim({ phase: "Running" }), vmName), steps);
    expect(view.samples).toHaveLength(keptSamples);
    expect(view.samples[0]?.dataRemainingBytes).toBe((4000 - 2) * 1024 * 1024);
    expect(view.samples.at(-1)?.dataRemainingBytes).toBe((4000 - keptSamples - 1) * 1024 * 1024);
  });

  it("ignores progress of another migration", () => {
    const view = initialView(vmim({ phase: "Running" }), vmName);
    expect(reduce(view, { kind: "progress", progress: progress(10, 4096, oldUid) }, at(1))).toBe(view);
  });
});

describe("reduce: warnings", () => {
  it("collects Warning events about this VMIM, once each, newest last", () => {
    const view = run(initialView(vmim({ phase: "Running" }), vmName), [
      [{ kind: "event", object: warning("first problem") }, at(1)],
      [{ kind: "event", object: warning("second problem") }, at(2)],
      [{ kind: "event", object: warning("first problem") }, at(3)],
    ]);
    expect(view.warnings).toEqual(["first problem", "second problem"]);
  });

  it("ignores Normal events, events without a message and events about other objects", () => {
    const start = initialView(vmim({ phase: "Running" }), vmName);
    const inputs: Event[] = [
      warning("all fine", undefined, "Normal"),
      { ...warning(""), message: undefined },
      warning("other migration failed", {
        kind: "VirtualMachineInstanceMigration",
        name: "kvmig-db-0-other",
      }),
      warning("a pod", { kind: "Pod", name }),
      // About the VMI but not naming this migration.
      warning("VMI failed to migrate", { kind: "VirtualMachineInstance", name: vmName }),
      // Naming the migration, but about another VMI.
      warning(`migration ${uid} failed`, { kind: "VirtualMachineInstance", name: "other-vm" }),
    ];
    for (const object of inputs) {
      expect(reduce(start, { kind: "event", object }, at(1))).toBe(start);
    }
  });

  it("collects Warning events about the VMI that name this migration's uid", () => {
    const view = reduce(
      initialView(vmim({ phase: "Running" }), vmName),
      {
        kind: "event",
        object: warning(`VirtualMachineInstance migration uid ${uid} failed. reason: target pod crashed`, {
          kind: "VirtualMachineInstance",
          name: vmName,
        }),
      },
      at(1),
    );
    expect(view.warnings).toEqual([
      `VirtualMachineInstance migration uid ${uid} failed. reason: target pod crashed`,
    ]);
  });

  it("failureText prefers a specific warning over the generic 'source node reported migration failed'", () => {
    const view = run(initialView(vmim({ phase: "Running" }), vmName), [
      [{ kind: "event", object: warning("target pod could not pull its image") }, at(1)],
      [{ kind: "event", object: warning("source node reported migration failed") }, at(2)],
    ]);
    expect(failureText(view)).toBe("target pod could not pull its image");
  });

  it("failureText falls back to the generic warning, and prefers the VMI's reason over all warnings", () => {
    const generic = reduce(
      initialView(vmim({ phase: "Running" }), vmName),
      { kind: "event", object: warning("source node reported migration failed") },
      at(1),
    );
    expect(failureText(generic)).toBe("source node reported migration failed");
    const withReason = reduce(
      generic,
      vmiUpdate(vmi("node-a", { migrationUid: uid, failed: true, failureReason: "the real reason" })),
      at(2),
    );
    expect(failureText(withReason)).toBe("the real reason");
  });

  it("failureText reads the reason out of virt-handler's Migrated event, the only place before v1.3 has it", () => {
    const reason = "Live migration is not completed after 750 seconds and has been aborted";
    const view = run(initialView(vmim({ phase: "Running" }), vmName), [
      [
        {
          kind: "event",
          object: warning(`VirtualMachineInstance migration uid ${uid} failed. reason:${reason}`, {
            kind: "VirtualMachineInstance",
            name: vmName,
          }),
        },
        at(1),
      ],
      [{ kind: "event", object: warning("source node reported migration failed") }, at(2)],
    ]);
    expect(failureText(view)).toBe(reason);
  });

  it("collects launcher warnings once each", () => {
    const view = run(initialView(vmim({ phase: "Running" }), vmName), [
      [{ kind: "launcher", text: "Aborting migration: stuck for 150 seconds" }, at(1)],
      [{ kind: "launcher", text: "Aborting migration: stuck for 150 seconds" }, at(2)],
      [{ kind: "launcher", text: "Live migration failed." }, at(3)],
    ]);
    expect(view.launcherWarnings).toEqual([
      "Aborting migration: stuck for 150 seconds",
      "Live migration failed.",
    ]);
  });
});

describe("phaseDurations and totalDuration", () => {
  const full = phases([
    ["Pending", 0],
    ["Scheduling", 2],
    ["Scheduled", 5],
    ["PreparingTarget", 6],
    ["TargetReady", 7],
    ["Running", 8],
    ["Succeeded", 20],
  ]);

  it("gives each phase until the next one, without the final phase", () => {
    const view = initialView(vmim(full), vmName);
    expect(phaseDurations(view, at(100))).toEqual([
      { phase: "Pending", ms: 2000 },
      { phase: "Scheduling", ms: 3000 },
      { phase: "Scheduled", ms: 1000 },
      { phase: "PreparingTarget", ms: 1000 },
      { phase: "TargetReady", ms: 1000 },
      { phase: "Running", ms: 12_000 },
    ]);
    expect(totalDuration(view, at(100))).toBe(20_000);
  });

  it("the current phase runs until `now` while in progress", () => {
    const view = initialView(
      vmim(
        phases([
          ["Pending", 0],
          ["Scheduling", 2],
        ]),
      ),
      vmName,
    );
    expect(phaseDurations(view, at(10))).toEqual([
      { phase: "Pending", ms: 2000 },
      { phase: "Scheduling", ms: 8000 },
    ]);
    expect(totalDuration(view, at(10))).toBe(10_000);
  });

  it("a migration settled after deletion ends its last phase at the VMI's end time", () => {
    const view = run(
      initialView(
        vmim(
          phases([
            ["Pending", 0],
            ["Running", 8],
          ]),
        ),
        vmName,
      ),
      [
        [
          deleted(
            vmim(
              phases([
                ["Pending", 0],
                ["Running", 8],
              ]),
            ),
          ),
          at(12),
        ],
        [vmiUpdate(vmi("node-b", { migrationUid: uid, completed: true, endTimestamp: at(15) })), at(16)],
      ],
    );
    expect(phaseDurations(view, at(60))).toEqual([
      { phase: "Pending", ms: 8000 },
      { phase: "Running", ms: 7000 },
    ]);
    expect(totalDuration(view, at(60))).toBe(15_000);
  });

  it("a migration failed without an end time runs until `now`", () => {
    const view = reduce(
      initialView(vmim({ phase: "Pending" }), vmName),
      deleted(vmim({ phase: "Pending" })),
      at(3),
    );
    expect(view.outcome).toBe("failed");
    expect(totalDuration(view, at(7))).toBe(7000);
  });

  it("without a creation time the total starts at the first phase, and is 0 with neither", () => {
    const noCreation = initialView(
      vmim(
        phases([
          ["Pending", 4],
          ["Running", 6],
        ]),
        { creationTimestamp: undefined },
      ),
      vmName,
    );
    expect(totalDuration(noCreation, at(10))).toBe(6000);
    const nothing = initialView(vmim({}, { creationTimestamp: undefined }), vmName);
    expect(totalDuration(nothing, at(10))).toBe(0);
    expect(phaseDurations(nothing, at(10))).toEqual([]);
  });

  it("never gives negative durations", () => {
    const view = initialView(
      vmim(
        phases([
          ["Pending", 0],
          ["Running", 8],
        ]),
      ),
      vmName,
    );
    expect(phaseDurations(view, at(5))).toEqual([
      { phase: "Pending", ms: 8000 },
      { phase: "Running", ms: 0 },
    ]);
    expect(totalDuration(view, "2025-03-14T08:00:00Z")).toBe(0);
  });
});
