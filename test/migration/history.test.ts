// The history merge: records from the four sources about the same migration become one row
// (by uid, by VMIM name), each field from the most direct source; rows newest first; the summary.
import { describe, expect, it } from "vitest";
import type { Event, VirtualMachineInstance, VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { buildHistory, type HistoryRecord, mergeRecords, summarize } from "../../src/migration/history.js";
import {
  eventRecords,
  prometheusRecords,
  vmimRecord,
  vmiRecord,
} from "../../src/migration/history-records.js";

const t = (iso: string) => Date.parse(iso);
const now = t("2026-12-07T12:00:00Z");
const week = 7 * 86_400_000;
const base = { namespace: "finance", vm: "ledger" };

describe("buildHistory", () => {
  it("merges a migration's records across sources by uid and by name, the VMIM's fields first", () => {
    const records: HistoryRecord[] = [
      {
        ...base,
        source: "prometheus",
        migration: "kubevirt-evacuation-abc",
        startedAt: t("2026-12-06T10:00:00Z"),
        endedAt: t("2026-12-06T10:01:00Z"),
        from: "node-3",
        to: "node-1",
        outcome: "succeeded",
      },
      {
        ...base,
        source: "vmi",
        uid: "u1",
        startedAt: t("2026-12-06T10:00:05Z"),
        from: "node-3",
        to: "node-1",
        outcome: "succeeded",
      },
      {
        ...base,
        source: "vmim",
        migration: "kubevirt-evacuation-abc",
        uid: "u1",
        trigger: "evacuation",
        startedAt: t("2026-12-06T10:00:05Z"),
        endedAt: t("2026-12-06T10:01:35Z"),
        outcome: "succeeded",
        to: "node-1",
      },
      { ...base, source: "events", uid: "u1", failureReason: "ignored: it succeeded" },
    ];
    const { items, summary } = buildHistory(records, { now, sinceMs: week });
    expect(items).toEqual([
      {
        ...base,
        migration: "kubevirt-evacuation-abc",
        uid: "u1",
        trigger: "evacuation",
        startedAt: "2026-12-06T10:00:05Z",
        endedAt: "2026-12-06T10:01:35Z",
        durationSeconds: 90,
        // The VMIM did not say; the VMI's record did.
        from: "node-3",
        to: "node-1",
        outcome: "succeeded",
        failureReason: null,
        sources: ["vmim", "vmi", "events", "prometheus"],
      },
    ]);
    expect(summary).toEqual({ moves: 1, succeeded: 1, failed: 0, successRate: 1, medianDurationSeconds: 90 });
  });

  it("keeps different migrations apart, newest first, leaves out those before the window, and --limit keeps the newest", () => {
    const rec = (
      name: string,
      start: string,
      outcome: "succeeded" | "failed",
      seconds: number,
    ): HistoryRecord => ({
      ...base,
      source: "prometheus",
      migration: name,
      startedAt: t(start),
      endedAt: t(start) + seconds * 1000,
      outcome,
    });
    const records = [
      rec("kubevirt-migrate-vm-a", "2026-12-01T00:00:00Z", "succeeded", 60),
      rec("kubevirt-workload-update-b", "2026-12-05T00:00:00Z", "failed", 20),
      rec("kubevirt-migrate-vm-c", "2026-12-03T00:00:00Z", "succeeded", 100),
      rec("kubevirt-migrate-vm-old", "2026-11-20T00:00:00Z", "succeeded", 10),
    ];
    const all = buildHistory(records, { now, sinceMs: week });
    expect(all.items.map((i) => [i.migration, i.trigger])).toEqual([
      ["kubevirt-workload-update-b", "workload-update"],
      ["kubevirt-migrate-vm-c", "user"],
      ["kubevirt-migrate-vm-a", "user"],
    ]);
    expect(all.summary).toEqual({
      moves: 3,
      succeeded: 2,
      failed: 1,
      successRate: 2 / 3,
      medianDurationSeconds: 60,
    });
    const limited = buildHistory(records, { now, sinceMs: week, limit: 1 });
    expect(limited.items.map((i) => i.migration)).toEqual(["kubevirt-workload-update-b"]);
    expect(limited.omitted).toBe(2);
    expect(limited.summary.moves).toBe(3);
  });

  it("a row without any time stays, last", () => {
    const records: HistoryRecord[] = [
      { ...base, source: "prometheus", migration: "kubevirt-migrate-vm-x", outcome: "failed" },
      {
        ...base,
        source: "vmim",
        migration: "kubevirt-migrate-vm-y",
        createdAt: t("2026-12-06T00:00:00Z"),
        outcome: "pending",
      },
    ];
    const { items } = buildHistory(records, { now, sinceMs: week });
    expect(items.map((i) => [i.migration, i.startedAt, i.outcome, i.durationSeconds])).toEqual([
      ["kubevirt-migrate-vm-y", "2026-12-06T00:00:00Z", "pending", null],
      ["kubevirt-migrate-vm-x", null, "failed", null],
    ]);
  });
});

describe("summarize", () => {
  it("no migrations: zero moves, no rate, no median; an even count takes the middle two's mean", () => {
    expect(summarize([])).toEqual({
      moves: 0,
      succeeded: 0,
      failed: 0,
      successRate: null,
      medianDurationSeconds: null,
    });
    const item = mergeRecords([
      { ...base, source: "vmim", migration: "m", outcome: "running", startedAt: now },
    ]);
    const done = (s: number) => ({ ...item, outcome: "succeeded" as const, durationSeconds: s });
    expect(summarize([item, done(10), done(40), done(20), done(30)])).toMatchObject({
      moves: 5,
      succeeded: 4,
      successRate: 1,
      medianDurationSeconds: 25,
    });
  });
});

describe("the sources' records", () => {
  const vmim: VirtualMachineInstanceMigration = {
    metadata: {
      name: "kubevirt-workload-update-q",
      namespace: "finance",
      uid: "u2",
      creationTimestamp: "2026-12-04T10:00:00Z",
      annotations: { "kubevirt.io/workloadUpdateMigration": "" },
    },
    spec: { vmiName: "ledger" },
    status: {
      phase: "Failed",
      phaseTransitionTimestamps: [{ phase: "Failed", phaseTransitionTimestamp: "2026-12-04T10:01:10Z" }],
      migrationState: {
        migrationUid: "u2",
        sourceNode: "node-1",
        targetNode: "node-2",
        startTimestamp: "2026-12-04T10:00:40Z",
        endTimestamp: "2026-12-04T10:01:05Z",
        completed: true,
        failed: true,
        failureReason: "client socket is closed",
      },
    },
  } as VirtualMachineInstanceMigration;

  it("a VMIM: trigger from its annotation, start and end from its record, not from a Pending one's sourcePod", () => {
    expect(vmimRecord(vmim)).toMatchObject({
      source: "vmim",
      trigger: "workload-update",
      startedAt: t("2026-12-04T10:00:40Z"),
      endedAt: t("2026-12-04T10:01:05Z"),
      from: "node-1",
      to: "node-2",
      outcome: "failed",
      failureReason: "client socket is closed",
    });
    const pending = {
      ...vmim,
      status: { phase: "Pending", migrationState: { sourcePod: "virt-launcher-ledger-x" } },
    };
    const record = vmimRecord(pending as VirtualMachineInstanceMigration);
    expect([record.outcome, record.from, record.startedAt, record.createdAt]).toEqual([
      "pending",
      undefined,
      undefined,
      t("2026-12-04T10:00:00Z"),
    ]);
  });

  it("the VMI's record: by uid only; none without one", () => {
    const vmi = {
      metadata: { name: "ledger", namespace: "finance" },
      status: { migrationState: vmim.status?.migrationState },
    } as VirtualMachineInstance;
    const record = vmiRecord(vmi);
    expect([record?.source, record?.uid, record?.outcome, record?.migration]).toEqual([
      "vmi",
      "u2",
      "failed",
      undefined,
    ]);
    expect(vmiRecord({ metadata: { name: "ledger" }, status: {} } as VirtualMachineInstance)).toBeUndefined();
  });

  it("events: the VMI's 'Created Migration', the VMIM's outcome, a failed uid with its reason and source node", () => {
    const ev = (
      kind: string,
      name: string,
      reason: string,
      message: string,
      at: string,
      extra: Partial<Event> = {},
    ): Event =>
      ({
        metadata: { namespace: "finance" },
        involvedObject: {
          kind,
          name,
          namespace: "finance",
          uid: kind === "VirtualMachineInstanceMigration" ? "u3" : "vmi-uid",
        },
        reason,
        message,
        firstTimestamp: at,
        lastTimestamp: at,
        ...extra,
      }) as Event;
    const records = eventRecords(
      [
        ev(
          "VirtualMachineInstanceMigration",
          "kubevirt-evacuation-z",
          "SuccessfulMigration",
          "Source node reported migration succeeded",
          "2026-12-07T11:31:00Z",
        ),
        ev(
          "VirtualMachineInstance",
          "ledger",
          "SuccessfulCreate",
          "Created Migration kubevirt-evacuation-z",
          "2026-12-07T11:30:00Z",
        ),
        ev(
          "VirtualMachineInstance",
          "ledger",
          "Migrated",
          "VirtualMachineInstance migration uid u9 failed. reason:client socket is closed",
          "2026-12-07T11:20:00Z",
          { source: { component: "virt-handler", host: "node-3" } },
        ),
        ev(
          "VirtualMachineInstance",
          "other",
          "Migrated",
          "VirtualMachineInstance migration uid u8 failed. reason:x",
          "2026-12-07T11:20:00Z",
        ),
      ],
      (e) => (e.involvedObject.name === "other" ? undefined : "ledger"),
    );
    expect(records).toEqual([
      {
        source: "events",
        ...base,
        uid: "u9",
        outcome: "failed",
        endedAt: t("2026-12-07T11:20:00Z"),
        failureReason: "client socket is closed",
        from: "node-3",
      },
      {
        source: "events",
        ...base,
        migration: "kubevirt-evacuation-z",
        trigger: "evacuation",
        createdAt: t("2026-12-07T11:30:00Z"),
      },
      {
        source: "events",
        ...base,
        migration: "kubevirt-evacuation-z",
        uid: "u3",
        createdAt: t("2026-12-07T11:31:00Z"),
        outcome: "succeeded",
        endedAt: t("2026-12-07T11:31:00Z"),
      },
    ]);
    const [row] = buildHistory(records.slice(1), { now, sinceMs: week }).items;
    expect(row).toMatchObject({
      migration: "kubevirt-evacuation-z",
      uid: "u3",
      trigger: "evacuation",
      outcome: "succeeded",
      sources: ["events"],
    });
  });

  it("Prometheus: a move's source is its start series' other node, its target the end series' node; a failure's source its node", () => {
    const m = (metric: Record<string, string>, value: number) => ({
      metric: { namespace: "finance", ...metric },
      value,
    });
    const records = prometheusRecords({
      succeeded: [m({ vmi: "ledger", vmim: "kubevirt-migrate-vm-a" }, 1)],
      failed: [m({ vmi: "ledger", vmim: "kubevirt-evacuation-b" }, 1)],
      startTimes: [
        m({ name: "ledger", migration_name: "kubevirt-migrate-vm-a", node: "node-1" }, 1_800_000_000),
        m({ name: "ledger", migration_name: "kubevirt-migrate-vm-a", node: "node-2" }, 1_800_000_000),
        m({ name: "ledger", migration_name: "kubevirt-evacuation-b", node: "node-3" }, 1_799_000_000),
        m({ name: "ledger", migration_name: "none", node: "node-3" }, 1_798_000_000),
      ],
      endTimes: [
        m(
          { name: "ledger", migration_name: "kubevirt-migrate-vm-a", node: "node-2", status: "succeeded" },
          1_800_000_090,
        ),
        m(
          { name: "ledger", migration_name: "kubevirt-evacuation-b", node: "node-3", status: "failed" },
          1_799_000_030,
        ),
      ],
    });
    expect(records).toEqual([
      {
        source: "prometheus",
        ...base,
        migration: "kubevirt-migrate-vm-a",
        trigger: "user",
        startedAt: 1_800_000_000_000,
        endedAt: 1_800_000_090_000,
        from: "node-1",
        to: "node-2",
        outcome: "succeeded",
      },
      {
        source: "prometheus",
        ...base,
        migration: "kubevirt-evacuation-b",
        trigger: "evacuation",
        startedAt: 1_799_000_000_000,
        endedAt: 1_799_000_030_000,
        from: "node-3",
        to: undefined,
        outcome: "failed",
      },
    ]);
  });
});
