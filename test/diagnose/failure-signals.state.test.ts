// failure-signals on hand-built snapshots: how long each phase may last before a migration counts
// as stuck (and the placed target pod that shortens Scheduling), the two minutes an abort gets,
// what is a user's cancel, what a later success makes history, the story of phases, whether the
// transfer began, the FailedCreate refusal, the VMI's own record, refused API calls, and the
// failure events when no object is left, each with its words.

import { describe, expect, it } from "vitest";
import {
  abortStuckAfterSeconds,
  cancelRequested,
  failureSignals,
  lastSuccessAt,
  phaseBeforeFailure,
  phaseStory,
  stuckAfterSeconds,
  transferBegan,
} from "../../src/diagnose/failure-signals.js";
import type { Snapshot } from "../../src/diagnose/types.js";
import type { VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { ago, event, migration, pod, snap, takenAt, vmi } from "../helpers/builders.js";

const UID = "bbbbbbbb-0000-4000-8000-000000000001";
const MIG = "VirtualMachineInstanceMigration/mig-1";

function inPhase(phase: string, seconds: number, extra: Partial<Parameters<typeof migration>[0]> = {}) {
  return migration({
    name: "mig-1",
    uid: UID,
    phase,
    created: ago(seconds + 10),
    transitions: { Pending: ago(seconds + 10), [phase]: ago(seconds) },
    ...extra,
  });
}

function failedMig(extra: Partial<Parameters<typeof migration>[0]> = {}) {
  return migration({
    name: "mig-1",
    uid: UID,
    phase: "Failed",
    created: ago(600),
    transitions: { Pending: ago(600), Scheduling: ago(599), Running: ago(540), Failed: ago(480) },
    ...extra,
  });
}

function s(parts: Partial<Snapshot> = {}, vmiStatus: Record<string, unknown> = {}): Snapshot {
  return snap({
    vmi: vmi({ phase: "Running", nodeName: "node-1", ...vmiStatus }, {
      domain: { memory: { guest: "2Gi" } },
    } as never),
    ...parts,
  });
}

describe("failure-signals: how long each phase may last", () => {
  it("has KubeVirt's limits per phase", () => {
    expect(stuckAfterSeconds).toEqual({
      "": 600,
      Pending: 600,
      Scheduling: 960,
      Scheduled: 600,
      PreparingTarget: 600,
      TargetReady: 600,
    });
    expect(abortStuckAfterSeconds).toBe(120);
  });

  it("counts each phase as stuck from its limit on, not a second before", () => {
    for (const [phase, limit] of Object.entries(stuckAfterSeconds)) {
      if (phase === "") continue;
      expect(failureSignals(s({ migrations: [inPhase(phase, limit - 1)] })), phase).toEqual([]);
      const [signal] = failureSignals(s({ migrations: [inPhase(phase, limit)] }));
      expect(signal?.kind, phase).toBe("stuck");
      expect(signal?.description).toBe(`${MIG} has been ${phase} for ${Math.round(limit / 60)} min`);
      expect(signal?.evidence).toEqual([
        {
          object: MIG,
          field: "status.phase",
          time: ago(limit),
          text: `${phase} for ${Math.round(limit / 60)} min (${phase === "Pending" ? "Pending" : `Pending → ${phase}`})`,
        },
      ]);
    }
  });

  it("without a phase, from its creation", () => {
    const bare = migration({ name: "mig-1", uid: UID, created: ago(600) });
    const [signal] = failureSignals(s({ migrations: [bare] }));
    expect(signal?.description).toBe(`${MIG} has been without a phase for 10 min`);
    expect(signal?.evidence[0]?.text).toBe("unset for 10 min (no phase)");
    expect(
      failureSignals(s({ migrations: [migration({ name: "mig-1", uid: UID, created: ago(599) })] })),
    ).toEqual([]);
  });

  it("Scheduling with a target pod that got a node is stuck after 600 s, not 960 s", () => {
    const placed = pod("virt-launcher-db-1-tgt01", {
      labels: { "kubevirt.io/migrationJobUID": UID },
      spec: { nodeName: "node-2", containers: [] },
    });
    const waiting = pod("virt-launcher-db-1-tgt01", { labels: { "kubevirt.io/migrationJobUID": UID } });
    expect(failureSignals(s({ migrations: [inPhase("Scheduling", 599)], pods: [placed] }))).toEqual([]);
    expect(failureSignals(s({ migrations: [inPhase("Scheduling", 600)], pods: [placed] }))).toHaveLength(1);
    expect(failureSignals(s({ migrations: [inPhase("Scheduling", 600)], pods: [waiting] }))).toEqual([]);
  });

  it("Running: the completion and progress timeouts plus 300 s, or an hour without the guest's size", () => {
    // 2 GiB: 2 × 150 s + 150 s = 450 s, plus 300 s.
    expect(failureSignals(s({ migrations: [inPhase("Running", 749)] }))).toEqual([]);
    expect(failureSignals(s({ migrations: [inPhase("Running", 750)] }))).toHaveLength(1);
    const unsized = (seconds: number) =>
      snap({ vmi: vmi({ phase: "Running" }), migrations: [inPhase("Running", seconds)] });
    expect(failureSignals(unsized(3599))).toEqual([]);
    expect(failureSignals(unsized(3600))[0]?.description).toBe(`${MIG} has been Running for 60 min`);
  });

  it("not a phase no limit is known for", () => {
    expect(failureSignals(s({ migrations: [inPhase("WaitingForSync", 7200)] }))).toEqual([]);
  });

  it("reads the time of the phase it is in, else its creation; none, nothing", () => {
    const m = migration({
      name: "mig-1",
      uid: UID,
      phase: "Scheduled",
      created: ago(5000),
      transitions: { Pending: ago(5000), Scheduled: ago(100) },
    });
    expect(failureSignals(s({ migrations: [m] }))).toEqual([]);
    const undated = migration({ name: "mig-1", uid: UID, phase: "Scheduled" });
    delete undated.metadata.creationTimestamp;
    expect(failureSignals(s({ migrations: [undated] }))).toEqual([]);
  });
});

describe("failure-signals: an abort that does not finish", () => {
  it("after two minutes from the deletion, or from the abort condition's transition", () => {
    const deleted = (seconds: number) => {
      const m = inPhase("Running", 30);
      m.metadata.deletionTimestamp = ago(seconds);
      return m;
    };
    expect(failureSignals(s({ migrations: [deleted(119)] }))).toEqual([]);
    expect(failureSignals(s({ migrations: [deleted(120)] }))).toEqual([
      {
        kind: "stuck",
        migration: deleted(120),
        migrationUid: UID,
        description: `the abort of ${MIG} was requested 2 min ago and it is still Running`,
        evidence: [
          {
            object: MIG,
            field: "metadata.deletionTimestamp",
            time: ago(120),
            text: "abort requested; phase still Running",
          },
        ],
      },
    ]);
    const condition = inPhase("Running", 30, {
      conditions: [{ type: "migrationAbortRequested", status: "True", lastTransitionTime: ago(300) }],
    });
    const [signal] = failureSignals(s({ migrations: [condition] }));
    expect(signal?.evidence[0]?.field).toBe("status.conditions[migrationAbortRequested]");
    expect(signal?.description).toBe(`the abort of ${MIG} was requested 5 min ago and it is still Running`);
  });

  it("words a VMIM without a phase as unset", () => {
    const m = migration({ name: "mig-1", uid: UID, created: ago(900) });
    m.metadata.deletionTimestamp = ago(300);
    const [signal] = failureSignals(s({ migrations: [m] }));
    expect(signal?.description).toBe(`the abort of ${MIG} was requested 5 min ago and it is still unset`);
    expect(signal?.evidence[0]?.text).toBe("abort requested; phase still unset");
  });

  it("the VMI's abort with its VMIM gone: two minutes from the migration's start, unless finished", () => {
    const state = (start: number, extra: Record<string, unknown> = {}) => ({
      migrationState: { migrationUid: UID, abortRequested: true, startTimestamp: ago(start), ...extra },
    });
    expect(failureSignals(s({}, state(119)))).toEqual([]);
    expect(failureSignals(s({}, state(120)))).toEqual([
      {
        kind: "stuck",
        migrationUid: UID,
        description:
          "an abort was requested and the VMI's migrationState has not finished it (no abortStatus)",
        evidence: [
          {
            object: "VirtualMachineInstance/db-1",
            field: "status.migrationState",
            time: ago(120),
            text: "abortRequested: true, abortStatus: unset, completed: false",
          },
        ],
      },
    ]);
    expect(failureSignals(s({}, state(300, { abortStatus: "Aborting" })))[0]?.description).toBe(
      "an abort was requested and the VMI's migrationState has not finished it (Aborting)",
    );
    for (const done of [{ completed: true }, { abortStatus: "Succeeded" }, { abortStatus: "Failed" }])
      expect(failureSignals(s({}, state(300, done)))).toEqual([]);
    expect(failureSignals(s({ migrations: [inPhase("Running", 30)] }, state(300)))).toEqual([]);
  });
});

describe("failure-signals: a failed migration", () => {
  it("says after which phase it failed and how long after its creation", () => {
    const [signal] = failureSignals(s({ migrations: [failedMig()] }));
    expect(signal).toEqual({
      kind: "failed",
      migration: failedMig(),
      migrationUid: UID,
      description: `${MIG} failed after Running`,
      evidence: [
        {
          object: MIG,
          field: "status.phaseTransitionTimestamps",
          time: ago(480),
          text: "Pending → Scheduling → Running → Failed (failed 2 min after it was created)",
        },
      ],
    });
  });

  it("without a Failed time or creation, tells only the phases", () => {
    const m = failedMig({ transitions: { Pending: ago(600) } });
    const [signal] = failureSignals(s({ migrations: [m] }));
    expect(signal?.description).toBe(`${MIG} failed after Pending`);
    expect(signal?.evidence[0]?.text).toBe("Pending → Failed");
    const early = failedMig({ transitions: {} });
    expect(failureSignals(s({ migrations: [early] }))[0]?.description).toBe(`${MIG} failed`);
  });

  it("is history before the last success, news when it ended with it", () => {
    const success = (ended: number) =>
      migration({
        name: "mig-2",
        uid: "uid-2",
        phase: "Succeeded",
        created: ago(ended + 10),
        transitions: { Succeeded: ago(ended) },
      });
    expect(failureSignals(s({ migrations: [failedMig(), success(479)] }))).toEqual([]);
    // The failed VMIM is no longer the newest: only the VMI's record could make it news.
    expect(lastSuccessAt(s({ migrations: [failedMig(), success(480)] }))).toBe(Date.parse(ago(480)));
    const succeededState = s({}, { migrationState: { completed: true, endTimestamp: ago(300) } });
    expect(lastSuccessAt(succeededState)).toBe(Date.parse(ago(300)));
    const failedState = s({}, { migrationState: { completed: true, failed: true, endTimestamp: ago(300) } });
    expect(lastSuccessAt(failedState)).toBe(Number.NEGATIVE_INFINITY);
    const undated = migration({ name: "mig-2", uid: "uid-2", phase: "Succeeded", created: ago(200) });
    expect(lastSuccessAt(s({ migrations: [undated] }))).toBe(Date.parse(ago(200)));
  });

  it("not when the user cancelled it, in each way KubeVirt records a cancel", () => {
    const cases: VirtualMachineInstanceMigration[] = [];
    const deleted = failedMig();
    deleted.metadata.deletionTimestamp = ago(400);
    cases.push(deleted);
    cases.push(failedMig({ conditions: [{ type: "migrationAbortRequested", status: "True" }] }));
    cases.push(failedMig({ state: { abortRequested: true } }));
    for (const m of cases) {
      expect(cancelRequested(s({ migrations: [m] }), m)).toBe(true);
      expect(failureSignals(s({ migrations: [m] }))).toEqual([]);
    }
    const viaVmi = s(
      { migrations: [failedMig()] },
      { migrationState: { migrationUid: UID, abortRequested: true } },
    );
    expect(cancelRequested(viaVmi, failedMig())).toBe(true);
    const otherUid = s(
      { migrations: [failedMig()] },
      { migrationState: { migrationUid: "other", abortRequested: true } },
    );
    expect(cancelRequested(otherUid, failedMig())).toBe(false);
    for (const message of ["Migration canceled by user", "the migration is being canceled"]) {
      const e = event({ kind: "VirtualMachineInstanceMigration", name: "mig-1", reason: "X", message });
      expect(cancelRequested(s({ events: [e] }), failedMig()), message).toBe(true);
    }
    const notCancel = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-1",
      message: "not canceled",
    });
    expect(cancelRequested(s({ events: [notCancel] }), failedMig())).toBe(false);
    const falseCondition = failedMig({ conditions: [{ type: "migrationAbortRequested", status: "False" }] });
    expect(cancelRequested(s(), falseCondition)).toBe(false);
  });
});

describe("failure-signals: phases and the transfer", () => {
  it("tells the phases in order, adding the current one when not recorded", () => {
    expect(phaseStory(inPhase("Running", 10))).toBe("Pending → Running");
    const m = inPhase("Running", 10);
    m.status = { ...m.status, phase: "Failed" } as never;
    expect(phaseStory(m)).toBe("Pending → Running → Failed");
    const bare = migration({ name: "x" });
    expect(phaseStory(bare)).toBe("no phase");
    expect(phaseStory(migration({ name: "x", phase: "Pending" }))).toBe("Pending");
  });

  it("finds the last phase before Failed by time, not by order", () => {
    const m = migration({
      name: "x",
      phase: "Failed",
      transitions: { Running: ago(100), Failed: ago(50), Pending: ago(300), Scheduled: ago(200) },
    });
    expect(phaseBeforeFailure(m)).toBe("Running");
    expect(
      phaseBeforeFailure(migration({ name: "x", phase: "Failed", transitions: { Failed: ago(5) } })),
    ).toBe("");
  });

  it("the transfer began at Running, or when a migrationState (its own, or the VMI's about it) started", () => {
    expect(transferBegan(s(), failedMig())).toBe(true);
    const early = failedMig({ transitions: { Pending: ago(600), Failed: ago(480) } });
    expect(transferBegan(s(), early)).toBe(false);
    expect(transferBegan(s(), failedMig({ transitions: {}, state: { startTimestamp: ago(500) } }))).toBe(
      true,
    );
    const vmiState = { migrationState: { migrationUid: UID, startTimestamp: ago(500) } };
    expect(transferBegan(s({}, vmiState), early)).toBe(true);
    const otherState = { migrationState: { migrationUid: "other", startTimestamp: ago(500) } };
    expect(transferBegan(s({}, otherState), early)).toBe(false);
  });
});

describe("failure-signals: refusals", () => {
  const failedCreate = (at: number, extra: Record<string, unknown> = {}) =>
    event({
      reason: "FailedCreate",
      message: "admission webhook denied the request",
      lastTimestamp: ago(at),
      ...extra,
    });

  it("virt-controller's FailedCreate since the waiting migration was created", () => {
    const m = inPhase("Pending", 100);
    const [signal] = failureSignals(s({ migrations: [m], events: [failedCreate(110, { count: 3 })] }));
    expect(signal).toEqual({
      kind: "refused",
      migration: m,
      migrationUid: UID,
      description: `${MIG} is Pending and virt-controller failed to create its target pod (FailedCreate ×3)`,
      evidence: [
        {
          object: "VirtualMachineInstance/db-1",
          field: "event FailedCreate (×3)",
          time: ago(110),
          text: "admission webhook denied the request",
        },
      ],
    });
    expect(failureSignals(s({ migrations: [m], events: [failedCreate(111)] }))).toEqual([]);
    expect(failureSignals(s({ migrations: [m], events: [failedCreate(50)] }))[0]?.description).toBe(
      `${MIG} is Pending and virt-controller failed to create its target pod (FailedCreate)`,
    );
  });

  it("not the updater's, evacuation's or disruption budget's own, nor one about a migration object", () => {
    const m = inPhase("Scheduling", 100);
    for (const component of ["workload-update-controller", "evacuation-controller", "disruption-budget"]) {
      const e = failedCreate(50, { source: { component } });
      expect(failureSignals(s({ migrations: [m], events: [e] })), component).toEqual([]);
    }
    const reporting = failedCreate(50, { reportingComponent: "workload-update" });
    expect(failureSignals(s({ migrations: [m], events: [reporting] }))).toEqual([]);
    const aboutMigration = failedCreate(50, { message: "failed to create VirtualMachineInstanceMigration" });
    expect(failureSignals(s({ migrations: [m], events: [aboutMigration] }))).toEqual([]);
    const normal = failedCreate(50, { type: "Normal" });
    expect(failureSignals(s({ migrations: [m], events: [normal] }))).toEqual([]);
  });

  it("only while the migration waits for its target pod", () => {
    for (const phase of ["Scheduled", "Running"]) {
      const m = inPhase(phase, 30);
      expect(failureSignals(s({ migrations: [m], events: [failedCreate(10)] })), phase).toEqual([]);
    }
    const noPhase = migration({ name: "mig-1", uid: UID, created: ago(100) });
    expect(failureSignals(s({ migrations: [noPhase], events: [failedCreate(10)] }))[0]?.description).toBe(
      `${MIG} is unset and virt-controller failed to create its target pod (FailedCreate)`,
    );
  });

  it("a refused migrate, with the status and reason it came with", () => {
    const [signal] = failureSignals(
      s({
        rejections: [
          {
            request: "PUT virtualmachines/db-1/migrate",
            status: 422,
            reason: "Invalid",
            message: "no",
            at: takenAt,
          },
          { request: "PUT virtualmachines/db-1/restart", status: 500, message: "boom" },
        ],
      }),
    );
    expect(signal).toEqual({
      kind: "refused",
      description: "PUT virtualmachines/db-1/migrate was refused (HTTP 422)",
      evidence: [
        { object: "PUT virtualmachines/db-1/migrate", field: "HTTP 422 Invalid", time: takenAt, text: "no" },
      ],
    });
  });
});

describe("failure-signals: the VMI's own record", () => {
  const failedState = (extra: Record<string, unknown> = {}) => ({
    migrationState: {
      migrationUid: "gone",
      failed: true,
      completed: true,
      sourceNode: "node-1",
      targetNode: "node-2",
      endTimestamp: ago(300),
      ...extra,
    },
  });

  it("a failure whose VMIM is gone", () => {
    expect(failureSignals(s({}, failedState()))).toEqual([
      {
        kind: "failed",
        migration: undefined,
        migrationUid: "gone",
        description: "the VMI's migrationState records a failed migration to node-2",
        evidence: [
          {
            object: "VirtualMachineInstance/db-1",
            field: "status.migrationState",
            time: ago(300),
            text: "failed: true, completed: true, node-1 → node-2",
          },
        ],
      },
    ]);
    const bare = failureSignals(s({}, { migrationState: { failed: true, endTimestamp: ago(300) } }));
    expect(bare[0]?.description).toBe("the VMI's migrationState records a failed migration");
    expect(bare[0]?.evidence[0]?.text).toBe("failed: true, completed: false");
    const noTarget = failureSignals(s({}, failedState({ targetNode: undefined })));
    expect(noTarget[0]?.evidence[0]?.text).toBe("failed: true, completed: true, node-1 → ?");
  });

  it("not once aborted, cancelled, told by its VMIM, or before the last success", () => {
    expect(failureSignals(s({}, failedState({ abortRequested: true })))).toEqual([]);
    const m = failedMig();
    m.metadata.deletionTimestamp = ago(400);
    expect(failureSignals(s({ migrations: [m] }, failedState({ migrationUid: UID })))).toEqual([]);
    expect(failureSignals(s({ migrations: [failedMig()] }, failedState({ migrationUid: UID })))).toHaveLength(
      1,
    );
    const success = migration({
      name: "mig-2",
      uid: "uid-2",
      phase: "Succeeded",
      transitions: { Succeeded: ago(299) },
    });
    expect(failureSignals(s({ migrations: [success] }, failedState()))).toEqual([]);
    const atSuccess = migration({
      name: "mig-2",
      uid: "uid-2",
      phase: "Succeeded",
      transitions: { Succeeded: ago(300) },
    });
    expect(failureSignals(s({ migrations: [atSuccess] }, failedState()))).toHaveLength(1);
  });
});

describe("failure-signals: only events left", () => {
  const warning = (reason: string, message: string, at = 100, type = "Warning") =>
    event({ reason, message, type, lastTimestamp: ago(at) });

  it("KubeVirt's failure events, the last three quoted, described by the newest", () => {
    const events = [
      warning("FailedMigration", "one", 400),
      warning("MigrationBackoff", "two", 300),
      warning("FailedHandOver", "three", 200),
      warning("FailedAbortMigration", "four", 150),
      warning("migrationTargetPodUnschedulable", "five", 100),
    ];
    const [signal] = failureSignals(s({ events }));
    expect(signal?.description).toBe(
      "KubeVirt reported a failed migration (migrationTargetPodUnschedulable event)",
    );
    expect(signal?.evidence.map((e) => e.text)).toEqual(["three", "four", "five"]);
    expect(signal?.kind).toBe("failed");
    expect(signal?.migration).toBeUndefined();
  });

  it("not other reasons, Normal events, the success message, or events about a migration still judged by its state", () => {
    expect(failureSignals(s({ events: [warning("FailedMigrationX", "x")] }))).toEqual([]);
    expect(failureSignals(s({ events: [warning("XMigrated", "x")] }))).toEqual([]);
    expect(failureSignals(s({ events: [warning("Migrated", "x", 100, "Normal")] }))).toEqual([]);
    expect(
      failureSignals(
        s({ events: [warning("Migrated", "The VirtualMachineInstance migrated to node node-2.")] }),
      ),
    ).toEqual([]);
    expect(failureSignals(s({ events: [warning("Migrated", "migrated to unknown host")] }))).toHaveLength(1);
    const judged = warning("Migrated", `VirtualMachineInstance migration uid ${UID} failed`);
    const running = inPhase("Running", 30);
    expect(failureSignals(s({ migrations: [running], events: [judged] }))).toEqual([]);
    expect(failureSignals(s({ events: [judged] }, { migrationState: { migrationUid: UID } }))).toEqual([]);
    expect(failureSignals(s({ events: [judged] }, { migrationState: { migrationUid: "" } }))).toHaveLength(1);
  });

  it("only after the last success", () => {
    const success = { migrationState: { completed: true, endTimestamp: ago(100) } };
    expect(failureSignals(s({ events: [warning("FailedMigration", "x", 100)] }, success))).toEqual([]);
    expect(failureSignals(s({ events: [warning("FailedMigration", "x", 99)] }, success))).toHaveLength(1);
  });
});

describe("failure-signals: odd shapes and edges", () => {
  it("reads a VMIM without a status as one without a phase, neither cancelled nor begun", () => {
    const m = migration({ name: "mig-1", uid: UID, created: ago(900) });
    delete m.status;
    expect(failureSignals(s({ migrations: [m] }))[0]?.description).toBe(
      `${MIG} has been without a phase for 15 min`,
    );
    expect(cancelRequested(s({ migrations: [m] }), m)).toBe(false);
    expect(phaseStory(m)).toBe("no phase");
    expect(phaseBeforeFailure(m)).toBe("");
    expect(transferBegan(s(), m)).toBe(false);
    expect(lastSuccessAt(s({ migrations: [m] }))).toBe(Number.NEGATIVE_INFINITY);
  });

  it("reads a VMI without a status", () => {
    const bare = vmi();
    delete bare.status;
    const snapshot = snap({ vmi: bare, migrations: [failedMig()] });
    expect(failureSignals(snapshot).map((x) => x.kind)).toEqual(["failed"]);
    expect(cancelRequested(snapshot, failedMig())).toBe(false);
    expect(transferBegan(snapshot, failedMig({ transitions: {} }))).toBe(false);
  });

  it("says how long after its creation it failed only when both times are known and in order", () => {
    const atOnce = failedMig({ created: ago(480), transitions: { Failed: ago(480) } });
    expect(failureSignals(s({ migrations: [atOnce] }))[0]?.evidence[0]?.text).toBe(
      "Failed (failed 0 s after it was created)",
    );
    const before = failedMig({ created: ago(400), transitions: { Failed: ago(480) } });
    expect(failureSignals(s({ migrations: [before] }))[0]?.evidence[0]?.text).toBe("Failed");
    const undated = failedMig();
    delete undated.metadata.creationTimestamp;
    expect(failureSignals(s({ migrations: [undated] }))[0]?.evidence[0]?.text).toBe(
      "Pending → Scheduling → Running → Failed",
    );
  });

  it("keeps a failure that ended with the last success, and dates one without an end by its creation", () => {
    const success = (ended: number) =>
      migration({
        name: "mig-0",
        uid: "uid-0",
        phase: "Succeeded",
        created: ago(ended + 10),
        transitions: { Succeeded: ago(ended) },
      });
    expect(failureSignals(s({ migrations: [success(480), failedMig()] }))).toHaveLength(1);
    expect(failureSignals(s({ migrations: [success(479), failedMig()] }))).toEqual([]);
    const noEnd = failedMig({ transitions: { Pending: ago(600) } });
    expect(failureSignals(s({ migrations: [success(700), noEnd] }))).toHaveLength(1);
  });

  it("does not add a refusal to a migration already stuck", () => {
    const m = inPhase("Pending", 600);
    const refusal = event({ reason: "FailedCreate", message: "quota exceeded", lastTimestamp: ago(100) });
    expect(failureSignals(s({ migrations: [m], events: [refusal] })).map((x) => x.kind)).toEqual(["stuck"]);
  });

  it("reads an abort condition's transition as the time of the request, only for a True abort condition", () => {
    const other = inPhase("Running", 30, {
      conditions: [
        { type: "Other", status: "True", lastTransitionTime: ago(900) },
        { type: "migrationAbortRequested", status: "False", lastTransitionTime: ago(900) },
      ],
    });
    expect(failureSignals(s({ migrations: [other] }))).toEqual([]);
  });
});
