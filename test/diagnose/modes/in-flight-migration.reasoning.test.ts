// in-flight-migration's reasoning on hand-built snapshots: which refusals are about this VM, how
// the blocking migration is found (by UID, else the newest unfinished one), and the outcomes: a
// migration still under way (follow or cancel it), one that has finished since (retry: KubeVirt
// v0.40.0 and later refuse only while a VMIM is unfinished), or, up to v0.39, a stale record
// (restart).

import { describe, expect, it } from "vitest";
import { inFlightMigration } from "../../../src/diagnose/modes/in-flight-migration.js";
import type { ApiRejection, Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { KubeVirt } from "../../../src/k8s/types.js";
import { ago, event, migration, ns, snap, vmi, vmName } from "../../helpers/builders.js";

const blockingUid = "cccccccc-0000-4000-8000-000000000001";
const refusal = (uid: string, vmi = vmName) =>
  `admission webhook "migration-create-validator.kubevirt.io" denied the request: in-flight migration detected. Active migration job (${uid}) is currently already in progress for VMI ${vmi}.`;

function rejection(overrides: Partial<ApiRejection> = {}): ApiRejection {
  return {
    request: `POST virtualmachineinstancemigrations`,
    status: 400,
    message: refusal(blockingUid),
    ...overrides,
  };
}

const running = migration({ name: "mig-running", uid: blockingUid, phase: "Running" });

/** A KubeVirt whose create webhook still read the VMI's record (before v0.40.0). */
const oldRelease: KubeVirt = {
  apiVersion: "kubevirt.io/v1",
  kind: "KubeVirt",
  metadata: { name: "kubevirt", namespace: "kubevirt" },
  spec: {},
  status: { phase: "Deployed", observedKubeVirtVersion: "v0.39.0" },
};

const finishedSince =
  ": it was unfinished when the migration was refused and has finished since. Nothing refuses a new migration now (KubeVirt refuses only while a VMIM of the VMI is unfinished).";

function detectOne(s: Snapshot): Finding {
  const findings = inFlightMigration.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

describe("in-flight-migration reasoning", () => {
  it("a refusal while the blocking migration runs: follow it or cancel it", () => {
    const f = detectOne(snap({ vmi: vmi(), migrations: [running], rejections: [rejection({ at: ago(5) })] }));
    expect(f).toEqual({
      id: "in-flight-migration",
      title: "Migration refused: another migration is in flight",
      severity: "warning",
      confidence: "high",
      summary:
        "A new migration of db-1 was refused because VirtualMachineInstanceMigration/mig-running is still Running. KubeVirt allows one unfinished migration per VMI.",
      evidence: [
        {
          object: "POST virtualmachineinstancemigrations",
          field: "HTTP 400",
          time: ago(5),
          text: refusal(blockingUid),
        },
        {
          object: "VirtualMachineInstanceMigration/mig-running",
          field: "status.phase",
          text: `Running (UID ${blockingUid})`,
        },
      ],
      fix: {
        explanation: "Follow the migration that is already under way, or cancel it and start again.",
        commands: ["kvmig watch db-1 -n demo", "kvmig cancel db-1 -n demo"],
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: undefined,
      causedBy: undefined,
    });
  });

  it("shows the reason after the status code when the rejection has one", () => {
    const f = detectOne(
      snap({ migrations: [running], rejections: [rejection({ status: 500, reason: "InternalError" })] }),
    );
    expect(f.evidence[0]?.field).toBe("HTTP 500 InternalError");
  });

  it("ignores refusals and events about another VMI", () => {
    const other = refusal(blockingUid, "web-2");
    expect(
      inFlightMigration.detect(snap({ migrations: [running], rejections: [rejection({ message: other })] })),
    ).toEqual([]);
    expect(
      inFlightMigration.detect(
        snap({ migrations: [running], events: [event({ reason: "FailedCreate", message: other })] }),
      ),
    ).toEqual([]);
    // Unrelated rejections and events are not refusals.
    expect(
      inFlightMigration.detect(
        snap({
          migrations: [running],
          rejections: [rejection({ message: "forbidden" })],
          events: [event({ reason: "FailedCreate", message: "quota exceeded" })],
        }),
      ),
    ).toEqual([]);
  });

  it("accepts a refusal naming the VMI when the VM name differs", () => {
    const s = snap({
      vmName: "db-vm",
      vmi: vmi(),
      migrations: [running],
      rejections: [rejection()],
      events: [event({ reason: "FailedCreate", message: refusal(blockingUid) })],
    });
    const f = detectOne(s);
    expect(f.evidence.map((e) => e.object)).toEqual([
      "POST virtualmachineinstancemigrations",
      "VirtualMachineInstance/db-1",
      "VirtualMachineInstanceMigration/mig-running",
    ]);
  });

  it("reads the blocking UID from the newest refusal event, and quotes that event", () => {
    const s = snap({
      migrations: [
        migration({ name: "mig-other", uid: "dddddddd-0000-4000-8000-000000000001", phase: "Scheduling" }),
        running,
      ],
      events: [
        event({
          reason: "FailedCreate",
          message: refusal("dddddddd-0000-4000-8000-000000000001"),
          lastTimestamp: ago(120),
        }),
        event({ reason: "FailedCreate", message: refusal(blockingUid), count: 3, lastTimestamp: ago(30) }),
      ],
    });
    const f = detectOne(s);
    expect(f.evidence[0]).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "event FailedCreate (×3)",
      time: ago(30),
      text: refusal(blockingUid),
    });
    expect(f.evidence).toHaveLength(2);
    expect(f.summary).toContain("mig-running is still Running");
  });

  it("prefers the UID of the rejection to that of an event", () => {
    const s = snap({
      migrations: [
        running,
        migration({ name: "mig-b", uid: "eeeeeeee-0000-4000-8000-000000000001", phase: "Pending" }),
      ],
      rejections: [rejection()],
      events: [event({ reason: "FailedCreate", message: refusal("eeeeeeee-0000-4000-8000-000000000001") })],
    });
    expect(detectOne(s).summary).toContain("mig-running is still Running");
  });

  it("a VMIM that lost the race is evidence, and is never the blocking one", () => {
    const loser = migration({
      name: "mig-loser",
      uid: "ffffffff-0000-4000-8000-000000000001",
      phase: "Pending",
    });
    const lostEvent = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-loser",
      reason: "FailedMigration",
      message: "VMI is not eligible for migration because another migration job is in progress.",
    });
    const f = detectOne(snap({ migrations: [running, loser], events: [lostEvent] }));
    expect(f.evidence[0]).toEqual({
      object: "VirtualMachineInstanceMigration/mig-loser",
      field: "event FailedMigration",
      time: ago(60),
      text: "VMI is not eligible for migration because another migration job is in progress.",
    });
    // No UID anywhere: the newest unfinished VMIM other than the loser blocks.
    expect(f.summary).toContain("mig-running is still Running");
    // The same message about the VMI (not a VMIM) is not this.
    expect(
      inFlightMigration.detect(
        snap({
          migrations: [running],
          events: [{ ...lostEvent, involvedObject: { kind: "VirtualMachineInstance", name: vmName } }],
        }),
      ),
    ).toEqual([]);
  });

  it("without a UID, the newest unfinished VMIM blocks, never a finished one", () => {
    const lostEvent = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-loser",
      reason: "FailedMigration",
      message: "VMI is not eligible for migration because another migration job is in progress",
    });
    const s = snap({
      migrations: [
        migration({ name: "mig-old", uid: "11111111-0000-4000-8000-000000000001", phase: "Scheduling" }),
        migration({ name: "mig-new", uid: "11111111-0000-4000-8000-000000000002", phase: "Running" }),
        migration({ name: "mig-done", uid: "11111111-0000-4000-8000-000000000003", phase: "Succeeded" }),
      ],
      events: [lostEvent],
    });
    expect(detectOne(s).summary).toContain("mig-new is still Running");
  });

  it("falls back to the VMI's migrationUid when no refusal names one", () => {
    const lostEvent = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-loser",
      reason: "FailedMigration",
      message: "VMI is not eligible for migration because another migration job is in progress",
    });
    const s = snap({
      vmi: vmi({ phase: "Running", migrationState: { migrationUid: blockingUid } }),
      migrations: [
        running,
        migration({ name: "mig-later", uid: "22222222-0000-4000-8000-000000000001", phase: "Pending" }),
      ],
      events: [lostEvent],
    });
    expect(detectOne(s).summary).toContain("mig-running is still Running");
  });

  it("names an unset phase as unset", () => {
    const f = detectOne(
      snap({ migrations: [migration({ name: "mig-new", uid: blockingUid })], rejections: [rejection()] }),
    );
    expect(f.summary).toContain("mig-new is still unset.");
    expect(f.evidence[1]?.text).toBe(`unset (UID ${blockingUid})`);
  });

  it("up to v0.39, a stale record on the VMI: the webhook checks it, nothing clears it, restart", () => {
    const s = snap({
      kubevirt: oldRelease,
      vmi: vmi({ phase: "Running", migrationState: { migrationUid: blockingUid } }),
      rejections: [rejection()],
    });
    const f = detectOne(s);
    expect(f).toEqual({
      id: "in-flight-migration",
      title: "Migration refused: another migration is in flight",
      severity: "error",
      confidence: "high",
      summary: `A new migration of db-1 was refused as in flight, but no VMIM with UID ${blockingUid} exists: the VMI still carries that migration's unfinished record, which is what this KubeVirt's webhook checks.`,
      evidence: [
        {
          object: "POST virtualmachineinstancemigrations",
          field: "HTTP 400",
          time: undefined,
          text: refusal(blockingUid),
        },
        {
          object: "VirtualMachineInstance/db-1",
          field: "status.migrationState",
          text: `migrationUid: ${blockingUid}, completed and failed not set`,
        },
      ],
      fix: {
        explanation:
          "The record will not clear by itself: restart the VM (downtime) to start a fresh VMI, then migrate.",
        commands: [
          "kubectl get vmi db-1 -n demo -o 'jsonpath={.status.migrationState}'",
          "kvmig restart db-1 -n demo",
        ],
      },
      docs: "https://github.com/kubevirt/kubevirt/issues/2495",
      notChecked: undefined,
      causedBy: "stale-migration-state",
    });
  });

  it("since v0.40.0 the same record refuses nothing: the blocker has finished since, retry", () => {
    const f = detectOne(
      snap({
        vmi: vmi({ phase: "Running", migrationState: { migrationUid: blockingUid } }),
        rejections: [rejection()],
      }),
    );
    expect(f.causedBy).toBeUndefined();
    expect(f.severity).toBe("warning");
    expect(f.docs).toBe("https://kubevirt.io/user-guide/compute/live_migration/");
    expect(f.evidence).toHaveLength(1);
    expect(f.summary).toBe(
      `A new migration of db-1 was refused as in flight, but no VMIM with UID ${blockingUid} exists${finishedSince}`,
    );
    expect(f.fix).toEqual({
      explanation:
        "Start the migration again; if it is refused again, another migration has started meanwhile.",
      commands: ["kvmig migrate db-1 -n demo", "kvmig watch db-1 -n demo"],
    });
  });

  it("up to v0.39, a final record, or one about another migration, is not a stale record", () => {
    for (const state of [
      { migrationUid: blockingUid, completed: true },
      { migrationUid: blockingUid, failed: true },
      { migrationUid: "99999999-0000-4000-8000-000000000001" },
      {},
    ]) {
      const f = detectOne(
        snap({
          kubevirt: oldRelease,
          vmi: vmi({ phase: "Running", migrationState: state }),
          rejections: [rejection()],
        }),
      );
      expect(f.causedBy, JSON.stringify(state)).toBeUndefined();
      expect(f.severity).toBe("warning");
      expect(f.docs).toBe("https://kubevirt.io/user-guide/compute/live_migration/");
      expect(f.evidence).toHaveLength(1);
      expect(f.summary).toBe(
        `A new migration of db-1 was refused as in flight, but no VMIM with UID ${blockingUid} exists.`,
      );
      expect(f.fix.explanation).toBe(
        "Retry once the VMI's migration state is final; if the refusal repeats, restart the VM (downtime).",
      );
    }
  });

  it("a blocking migration that has finished since: says so, and it is not a stale record", () => {
    const done = migration({ name: "mig-done", uid: blockingUid, phase: "Succeeded" });
    const f = detectOne(snap({ migrations: [done], rejections: [rejection()] }));
    expect(f.summary).toBe(
      `A new migration of db-1 was refused as in flight, but the blocking VirtualMachineInstanceMigration/mig-done is already Succeeded${finishedSince}`,
    );
    expect(f.confidence).toBe("high");
    expect(f.causedBy).toBeUndefined();
  });

  it("an unknown blocking UID is shown as ?", () => {
    const lostEvent = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-loser",
      reason: "FailedMigration",
      message: "VMI is not eligible for migration because another migration job is in progress",
    });
    const f = detectOne(snap({ events: [lostEvent] }));
    expect(f.summary).toBe(
      `A new migration of db-1 was refused as in flight, but no VMIM with UID ? exists${finishedSince}`,
    );
  });

  it("when the VMIMs were not read, the blocking migration may still run: medium, and says what was not checked", () => {
    const s = snap({
      rejections: [rejection()],
      missing: [{ what: "VirtualMachineInstanceMigrations in demo", why: "forbidden" }],
    });
    const f = detectOne(s);
    expect(f.confidence).toBe("medium");
    expect(f.notChecked).toEqual([
      "the VMIMs of this VM (not in the snapshot), so whether the blocking migration still runs",
    ]);
    // Nor is it said to have finished.
    expect(f.summary).toBe(
      `A new migration of db-1 was refused as in flight, but no VMIM with UID ${blockingUid} exists.`,
    );
    // Other missing evidence does not lower it.
    const other = detectOne({ ...s, missing: [{ what: `events in ${ns}`, why: "forbidden" }] });
    expect(other.confidence).toBe("high");
    expect(other.notChecked).toBeUndefined();
  });
});

describe("in-flight-migration with objects missing parts", () => {
  it("a refusal naming an unknown UID falls back to the newest unfinished VMIM", () => {
    const other = migration({
      name: "mig-other",
      uid: "dddddddd-0000-4000-8000-000000000009",
      phase: "Scheduling",
    });
    const f = detectOne(snap({ migrations: [other], rejections: [rejection()] }));
    expect(f.summary).toContain("mig-other is still Scheduling");
  });

  it("a VMI without status and a VMIM without status", () => {
    const bareVmi = { ...vmi(), status: undefined };
    const bareMig = { ...migration({ name: "mig-bare", uid: blockingUid }), status: undefined };
    const f = detectOne(snap({ vmi: bareVmi, migrations: [bareMig], rejections: [rejection()] }));
    expect(f.summary).toContain("mig-bare is still unset.");
    expect(f.evidence[1]?.text).toBe(`unset (UID ${blockingUid})`);
  });
});

describe("in-flight-migration from state: a text-less FailedCreate while a migration ran", () => {
  const failedCreate = (component: string | undefined, at = ago(100), extra: Record<string, unknown> = {}) =>
    event({
      reason: "FailedCreate",
      lastTimestamp: at,
      ...(component ? { source: { component } } : {}),
      ...extra,
    });
  const runningSince = (created: number) =>
    migration({ name: "mig-running", uid: blockingUid, phase: "Running", created: ago(created) });

  it("from the workload updater while a VMIM ran: low, and says the refusal had no text", () => {
    const s = snap({
      migrations: [runningSince(300)],
      events: [failedCreate("virt-controller-workload-update")],
    });
    const f = detectOne(s);
    expect(f.confidence).toBe("low");
    expect(f.notChecked).toEqual(["the refusal's text (the FailedCreate event carries no message)"]);
    expect(f.evidence.slice(0, 2)).toEqual([
      { object: "VirtualMachineInstance/db-1", field: "event FailedCreate", time: ago(100), text: "" },
      {
        object: "VirtualMachineInstanceMigration/mig-running",
        field: "status.phase",
        text: "Running when virt-controller-workload-update failed to create a migration",
      },
    ]);
    expect(f.summary).toContain("mig-running is still Running");
  });

  it("each creating controller counts (source or reporting component), others do not", () => {
    const fires = (e: ReturnType<typeof failedCreate>) =>
      inFlightMigration.detect(snap({ migrations: [runningSince(300)], events: [e] })).length;
    expect(fires(failedCreate("evacuation-controller"))).toBe(1);
    expect(fires(failedCreate("Disruption-Budget"))).toBe(1);
    expect(fires(failedCreate(undefined, ago(100), { reportingComponent: "workload-update" }))).toBe(1);
    expect(fires(failedCreate("virt-handler"))).toBe(0);
    expect(fires(failedCreate(undefined))).toBe(0);
    // With a message, the text decides (another cause is not this mode).
    expect(fires(failedCreate("workload-update", ago(100), { message: "quota exceeded" }))).toBe(0);
    // Normal events, or events on another kind, do not count.
    expect(fires(failedCreate("workload-update", ago(100), { type: "Normal" }))).toBe(0);
    expect(
      fires({ ...failedCreate("workload-update"), involvedObject: { kind: "VirtualMachine", name: vmName } }),
    ).toBe(0);
  });

  it("only when a VMIM was unfinished at the event's time", () => {
    const at = (mig: ReturnType<typeof migration>, when = ago(100)) =>
      inFlightMigration.detect(snap({ migrations: [mig], events: [failedCreate("workload-update", when)] }))
        .length;
    // Created after the event.
    expect(at(runningSince(50))).toBe(0);
    // Created exactly then.
    expect(at(runningSince(100))).toBe(1);
    // Finished before the event; finished exactly then; finished after it.
    const done = (endedAgo: number) =>
      migration({
        name: "mig-done",
        phase: "Failed",
        created: ago(500),
        transitions: { Failed: ago(endedAgo) },
      });
    expect(at(done(200))).toBe(0);
    expect(at(done(100))).toBe(1);
    expect(at(done(50))).toBe(1);
    // Final without an end time: it may have run then.
    expect(at(migration({ name: "mig-x", phase: "Failed", created: ago(500) }))).toBe(1);
    // An undated event cannot be placed.
    expect(
      inFlightMigration.detect(
        snap({
          migrations: [runningSince(300)],
          events: [{ ...failedCreate("workload-update"), lastTimestamp: undefined }],
        }),
      ),
    ).toEqual([]);
  });

  it("uses the newest matching event, and names an unset phase and an unnamed controller", () => {
    const unset = migration({ name: "mig-new", uid: blockingUid, created: ago(300) });
    const events = [
      failedCreate(undefined, ago(200), { reportingComponent: "workload-update" }),
      failedCreate("virt-handler", ago(50)),
    ];
    const f = detectOne(snap({ migrations: [unset], events }));
    expect(f.evidence[0]?.time).toBe(ago(200));
    expect(f.evidence[1]?.text).toBe("unset when a controller failed to create a migration");
  });
});
