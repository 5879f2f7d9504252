// migration-failed-unexplained: the fallback that keeps diagnose from saying "no problems found"
// about a migration that failed, is stuck or was refused. Hand-built snapshots: each signal of
// failure alone, what does not count (a user's cancel, a failure a later success superseded, a
// refused restart, a VM that never started), and the evidence and next steps it quotes.

import { describe, expect, it } from "vitest";
import { runRules } from "../../../src/diagnose/engine.js";
import { failureSignals } from "../../../src/diagnose/failure-signals.js";
import { allRules } from "../../../src/diagnose/modes/index.js";
import { migrationFailedUnexplained as rule } from "../../../src/diagnose/modes/migration-failed-unexplained.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { Event, Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { emptySnapshot } from "../../helpers/diagnose.js";

const ns = "shop";
const vm = "orders";
const vmiUid = "aaaaaaaa-0000-4000-8000-000000000001";
const uid = "bbbbbbbb-0000-4000-8000-000000000002";

function vmim(
  phase: string,
  stamps: [string, string][],
  extra: Partial<VirtualMachineInstanceMigration["metadata"]> = {},
  status: Partial<NonNullable<VirtualMachineInstanceMigration["status"]>> = {},
): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: "kubevirt-migrate-vm-q7x2k",
      namespace: ns,
      uid,
      creationTimestamp: stamps[0]?.[1] ?? "2026-03-01T10:00:00Z",
      labels: { "kubevirt.io/vmi-name": vm },
      ...extra,
    },
    spec: { vmiName: vm },
    status: {
      phase: phase as never,
      phaseTransitionTimestamps: stamps.map(([p, t]) => ({ phase: p as never, phaseTransitionTimestamp: t })),
      ...status,
    },
  };
}

const failedAfterRunning = vmim("Failed", [
  ["Pending", "2026-03-01T10:00:00Z"],
  ["Scheduling", "2026-03-01T10:00:01Z"],
  ["Scheduled", "2026-03-01T10:00:10Z"],
  ["PreparingTarget", "2026-03-01T10:00:10Z"],
  ["TargetReady", "2026-03-01T10:00:12Z"],
  ["Running", "2026-03-01T10:00:13Z"],
  ["Failed", "2026-03-01T10:01:40Z"],
]);

function pod(
  name: string,
  node: string,
  target: boolean,
  state: Partial<NonNullable<Pod["status"]>> = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      creationTimestamp: target ? "2026-03-01T10:00:01Z" : "2026-02-20T08:00:00Z",
      labels: {
        "kubevirt.io/created-by": vmiUid,
        ...(target ? { "kubevirt.io/migrationJobUID": uid } : {}),
      },
    },
    spec: { nodeName: node, containers: [{ name: "compute", image: "virt-launcher:v1.9.0" }] },
    status: { phase: "Running", ...state },
  };
}

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({
    source: "directory",
    takenAt: "2026-03-01T10:05:00Z",
    namespace: ns,
    vmName: vm,
    vmi: {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: { name: vm, namespace: ns, uid: vmiUid },
      spec: { domain: { resources: { requests: { memory: "2Gi" } } } } as never,
      status: { phase: "Running", nodeName: "node-1" },
    },
    ...parts,
  });
}

function only(s: Snapshot): Finding {
  const found = rule.detect(s, []);
  expect(found).toHaveLength(1);
  return found[0] as Finding;
}

describe("migration-failed-unexplained", () => {
  it("reports a failed migration with no text at all: the phases it went through, and where to look", () => {
    const s = snapshot({
      migrations: [failedAfterRunning],
      pods: [
        pod("virt-launcher-orders-src", "node-1", false),
        pod("virt-launcher-orders-tgt", "node-2", true, {
          phase: "Failed",
          containerStatuses: [
            { name: "compute", state: { terminated: { reason: "Error", exitCode: 1 } } } as never,
          ],
        }),
      ],
    });
    const f = only(s);
    expect(f).toMatchObject({
      id: "migration-failed-unexplained",
      severity: "error",
      confidence: "low",
      title: "Migration failed, and no known failure mode explains it",
    });
    expect(f.summary).toMatch(
      /^VirtualMachineInstanceMigration\/kubevirt-migrate-vm-q7x2k failed after Running\. None of the known failure modes/,
    );
    expect(f.evidence.map((e) => [e.object, e.field, e.text])).toEqual([
      [
        "VirtualMachineInstanceMigration/kubevirt-migrate-vm-q7x2k",
        "status.phaseTransitionTimestamps",
        "Pending → Scheduling → Scheduled → PreparingTarget → TargetReady → Running → Failed (failed 100 s after it was created)",
      ],
      ["Pod/virt-launcher-orders-tgt", "status", "Failed on node-2; compute terminated: Error (exit code 1)"],
    ]);
    expect(f.fix.commands).toEqual([
      "kubectl logs virt-launcher-orders-src -n shop -c compute",
      "kubectl logs virt-launcher-orders-tgt -n shop -c compute",
      "kubectl logs -n kubevirt $(kubectl get pods -n kubevirt -l kubevirt.io=virt-handler --field-selector spec.nodeName=node-1 -o name) --since=2h",
      "kubectl logs -n kubevirt $(kubectl get pods -n kubevirt -l kubevirt.io=virt-handler --field-selector spec.nodeName=node-2 -o name) --since=2h",
      "kubectl get events -n shop --field-selector involvedObject.name=orders",
      "kvmig diagnose orders -n shop --dump kvmig-dump-orders",
    ]);
    expect(f.notChecked).toEqual([
      "events (none in the snapshot: expired after an hour, or not read)",
      "the virt-launcher logs (the source's and the target's own error lines)",
      "virt-handler's logs on the source and target nodes (not part of a snapshot)",
    ]);
  });

  it("quotes every piece of failure text: failureReason, conditions, Warning events, launcher error lines", () => {
    const m = vmim(
      "Failed",
      [
        ["Pending", "2026-03-01T10:00:00Z"],
        ["Running", "2026-03-01T10:00:13Z"],
        ["Failed", "2026-03-01T10:01:40Z"],
      ],
      {},
      {
        migrationState: { failureReason: "some new wording nobody knows" },
        conditions: [
          { type: "someNewCondition", status: "True", reason: "Odd", message: "odd thing" } as never,
          { type: "ignored", status: "False", reason: "No" } as never,
        ],
      },
    );
    const event = (name: string, kind: string, type: string, message: string): Event => ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${name}.1`, namespace: ns },
      involvedObject: { kind, name, namespace: ns },
      reason: "Something",
      type,
      message,
      lastTimestamp: "2026-03-01T10:01:30Z",
    });
    const s = snapshot({
      migrations: [m],
      pods: [pod("virt-launcher-orders-src", "node-1", false)],
      events: [
        event("kubevirt-migrate-vm-q7x2k", "VirtualMachineInstanceMigration", "Warning", "vmim warning"),
        event(vm, "VirtualMachineInstance", "Warning", "vmi warning"),
        event(vm, "VirtualMachineInstance", "Normal", "a normal event"),
        event("unrelated-pod", "Pod", "Warning", "not about this VM"),
      ],
      logs: [
        {
          namespace: ns,
          pod: "virt-launcher-orders-src",
          container: "compute",
          lines: [
            '{"level":"info","msg":"all good"}',
            '{"level":"error","msg":"first error"}',
            '{"level":"error","msg":"second error"}',
            '{"level":"error","msg":"third error"}',
            '{"level":"error","msg":"fourth error"}',
            "plain line: connection refused by peer",
          ],
        },
      ],
    });
    const texts = only(s).evidence.map((e) => e.text);
    expect(texts).toContain("some new wording nobody knows");
    expect(texts).toContain("Odd: odd thing");
    expect(texts).not.toContain("No");
    expect(texts).toContain("vmim warning");
    expect(texts).toContain("vmi warning");
    expect(texts).not.toContain("a normal event");
    expect(texts).not.toContain("not about this VM");
    // The last three error lines of the log, not the info line nor the oldest errors.
    expect(texts.filter((t) => /error|refused/.test(t))).toEqual([
      "third error",
      "fourth error",
      "plain line: connection refused by peer",
    ]);
  });

  it("stays quiet when another rule raised a problem, and speaks over info findings", () => {
    const s = snapshot({ migrations: [failedAfterRunning] });
    const other = (severity: Finding["severity"]): Finding => ({
      id: "version-skew",
      title: "t",
      severity,
      confidence: "high",
      summary: "s",
      evidence: [],
      fix: { explanation: "e", commands: [] },
      docs: "d",
    });
    expect(rule.detect(s, [other("error")])).toEqual([]);
    expect(rule.detect(s, [other("warning")])).toEqual([]);
    expect(rule.detect(s, [other("info")])).toHaveLength(1);
  });

  it("is not raised for a cancel the user asked for, in any of the ways KubeVirt records one", () => {
    const cancelled = [
      vmim(
        "Failed",
        [["Failed", "2026-03-01T10:01:00Z"]],
        {},
        {
          conditions: [{ type: "migrationAbortRequested", status: "True" } as never],
        },
      ),
      vmim("Failed", [["Failed", "2026-03-01T10:01:00Z"]], {}, { migrationState: { abortRequested: true } }),
    ];
    for (const m of cancelled) expect(rule.detect(snapshot({ migrations: [m] }), [])).toEqual([]);
    const viaVmi = snapshot({
      migrations: [vmim("Failed", [["Failed", "2026-03-01T10:01:00Z"]])],
    });
    const withState: Snapshot = {
      ...viaVmi,
      vmi: {
        ...(viaVmi.vmi as NonNullable<Snapshot["vmi"]>),
        status: {
          phase: "Running",
          migrationState: { migrationUid: uid, abortRequested: true, abortStatus: "Succeeded", failed: true },
        },
      },
    };
    expect(rule.detect(withState, [])).toEqual([]);
  });

  it("treats a failure that a later successful migration superseded as history", () => {
    const later = vmim(
      "Succeeded",
      [
        ["Pending", "2026-03-01T10:02:00Z"],
        ["Succeeded", "2026-03-01T10:03:00Z"],
      ],
      { name: "kubevirt-migrate-vm-later", uid: "later" },
    );
    expect(rule.detect(snapshot({ migrations: [failedAfterRunning, later] }), [])).toEqual([]);
    expect(failureSignals(snapshot({ migrations: [failedAfterRunning, later] }))).toEqual([]);
  });

  it("reports a migration stuck in its phase past the time KubeVirt gives it, and not before", () => {
    const scheduled = (at: string) =>
      vmim("Scheduled", [
        ["Pending", "2026-03-01T09:00:00Z"],
        ["Scheduled", at],
      ]);
    // Snapshot at 10:05:00: 600 s is the limit for Scheduled.
    expect(rule.detect(snapshot({ migrations: [scheduled("2026-03-01T09:55:01Z")] }), [])).toEqual([]);
    const f = only(snapshot({ migrations: [scheduled("2026-03-01T09:55:00Z")] }));
    expect(f.summary).toMatch(
      /^VirtualMachineInstanceMigration\/kubevirt-migrate-vm-q7x2k has been Scheduled for 10 min/,
    );
    // Running: a 2 GiB VM may run 2 × 150 s + 150 s; 300 s more and it is stuck.
    const running = (at: string) =>
      vmim("Running", [
        ["Pending", "2026-03-01T09:00:00Z"],
        ["Running", at],
      ]);
    expect(rule.detect(snapshot({ migrations: [running("2026-03-01T09:52:31Z")] }), [])).toEqual([]);
    expect(rule.detect(snapshot({ migrations: [running("2026-03-01T09:52:30Z")] }), [])).toHaveLength(1);
  });

  it("reports an abort that has not finished after two minutes", () => {
    const m = (at: string) =>
      vmim("Running", [["Running", "2026-03-01T10:04:00Z"]], { deletionTimestamp: at });
    expect(rule.detect(snapshot({ migrations: [m("2026-03-01T10:03:01Z")] }), [])).toEqual([]);
    const f = only(snapshot({ migrations: [m("2026-03-01T10:03:00Z")] }));
    expect(f.summary).toMatch(
      /the abort of VirtualMachineInstanceMigration\/kubevirt-migrate-vm-q7x2k was requested 2 min ago and it is still Running/,
    );
  });

  it("reads the VMI's migrationState when the VMIM is gone", () => {
    const base = snapshot({});
    const s: Snapshot = {
      ...base,
      vmi: {
        ...(base.vmi as NonNullable<Snapshot["vmi"]>),
        status: {
          phase: "Running",
          migrationState: {
            migrationUid: uid,
            failed: true,
            completed: true,
            sourceNode: "node-1",
            targetNode: "node-3",
            sourcePod: "virt-launcher-orders-src",
            endTimestamp: "2026-03-01T10:01:00Z",
          },
        },
      },
    };
    const f = only(s);
    expect(f.summary).toMatch(/^the VMI's migrationState records a failed migration to node-3\./);
    expect(f.evidence[0]?.text).toBe("failed: true, completed: true, node-1 → node-3");
    expect(f.fix.commands.some((c) => c.includes("spec.nodeName=node-3"))).toBe(true);
  });

  it("reports a refused migrate, not a refused restart", () => {
    const refused = (request: string) =>
      snapshot({ rejections: [{ request, status: 500, message: "Internal error occurred: something new" }] });
    const f = only(refused("PUT virtualmachines/orders/migrate"));
    expect(f.summary).toMatch(/^PUT virtualmachines\/orders\/migrate was refused \(HTTP 500\)/);
    expect(f.evidence[0]?.text).toBe("Internal error occurred: something new");
    expect(rule.detect(refused("PUT virtualmachines/orders/restart"), [])).toEqual([]);
  });

  it("falls back on KubeVirt's failure events when no object is left, but not on a success event", () => {
    const event = (reason: string, type: string, message: string, at: string): Event => ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `orders.${reason}`, namespace: ns },
      involvedObject: { kind: "VirtualMachineInstance", name: vm, namespace: ns },
      reason,
      type,
      message,
      lastTimestamp: at,
    });
    const failed = event(
      "Migrated",
      "Warning",
      "VirtualMachineInstance migration uid x failed. reason:?",
      "2026-03-01T10:01:00Z",
    );
    expect(only(snapshot({ events: [failed] })).summary).toMatch(
      /^KubeVirt reported a failed migration \(Migrated event\)/,
    );
    const normal = event(
      "Migrated",
      "Normal",
      "The VirtualMachineInstance migrated to node node-2.",
      "2026-03-01T10:01:00Z",
    );
    expect(rule.detect(snapshot({ events: [normal] }), [])).toEqual([]);
    const backoff = event("MigrationBackoff", "Warning", "", "2026-03-01T10:01:00Z");
    expect(rule.detect(snapshot({ events: [backoff] }), [])).toHaveLength(1);
  });

  it("reports a waiting migration whose target pod virt-controller could not create, quoting the event without a message", () => {
    const pending = vmim("Pending", [["Pending", "2026-03-01T10:00:00Z"]]);
    const failedCreate = (component: string, message?: string): Event => ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "orders.fc", namespace: ns },
      involvedObject: { kind: "VirtualMachineInstance", name: vm, namespace: ns },
      reason: "FailedCreate",
      type: "Warning",
      count: 4,
      ...(message === undefined ? {} : { message }),
      source: { component },
      lastTimestamp: "2026-03-01T10:02:00Z",
    });
    const f = only(snapshot({ migrations: [pending], events: [failedCreate("virtualmachine-controller")] }));
    expect(f.summary).toMatch(
      /^VirtualMachineInstanceMigration\/kubevirt-migrate-vm-q7x2k is Pending and virt-controller failed to create its target pod \(FailedCreate ×4\)\./,
    );
    expect(f.evidence.map((e) => [e.field, e.text])).toContainEqual([
      "event FailedCreate (×4)",
      "(no message)",
    ]);
    // The workload updater's FailedCreate is its own refusal (in-flight-migration), not this.
    expect(
      rule.detect(
        snapshot({ migrations: [pending], events: [failedCreate("workload-update-controller")] }),
        [],
      ),
    ).toEqual([]);
    // Before the migration was created, the event is about something else.
    const early = { ...failedCreate("virtualmachine-controller"), lastTimestamp: "2026-03-01T09:59:59Z" };
    expect(rule.detect(snapshot({ migrations: [pending], events: [early] }), [])).toEqual([]);
  });

  it("says nothing about a VM that never migrated, even one that failed to start", () => {
    const base = snapshot({});
    const s: Snapshot = {
      ...base,
      vmi: { ...(base.vmi as NonNullable<Snapshot["vmi"]>), status: { phase: "Failed" } },
    };
    expect(rule.detect(s, [])).toEqual([]);
    expect(runRules(s, allRules).status).toBe("OK");
  });

  it("is the only problem the whole engine reports for an unexplained failure", () => {
    const report = runRules(snapshot({ migrations: [failedAfterRunning] }), allRules);
    expect(report.findings.filter((f) => f.severity !== "info").map((f) => f.id)).toEqual([
      "migration-failed-unexplained",
    ]);
  });
});
