// target-pod-unschedulable's reasoning on hand-built snapshots, beside the reasoning tests: the
// scheduler message's edge wordings, the timeouts' annotations, removals told by timing (which
// creation is the pod's, a cancel, a placed pod, both kinds of evidence at once), which target
// pods count as unscheduled now, the hostname pin from the VM's template, and which nodes are
// offered.

import { describe, expect, it } from "vitest";
import {
  candidateNodes,
  pendingPodTimeouts,
  removalsByTiming,
  schedulerReasons,
  targetPodUnschedulable,
  unschedulableTargets,
} from "../../../src/diagnose/modes/target-pod-unschedulable.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { Node, Pod, VirtualMachine } from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const UID = "bbbbbbbb-0000-4000-8000-000000000001";
const TGT = "virt-launcher-db-1-tgt01";
const MSG =
  "0/3 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {maintenance: }.";

function scheduling(extra: Partial<Parameters<typeof migration>[0]> = {}) {
  return migration({
    name: "mig-1",
    uid: UID,
    phase: "Scheduling",
    created: ago(200),
    transitions: { Pending: ago(200), Scheduling: ago(199) },
    ...extra,
  });
}

function unscheduled(name = TGT, conditions?: unknown[], nodeName?: string): Pod {
  return pod(name, {
    labels: { "kubevirt.io/migrationJobUID": UID },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [] },
    status: {
      phase: "Pending",
      conditions: (conditions ?? [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: MSG,
          lastTransitionTime: ago(150),
        },
      ]) as never,
    },
  });
}

function s(parts: Partial<Snapshot>): Snapshot {
  return snap({ vmi: vmi({ phase: "Running", nodeName: "node-1" }), migrations: [scheduling()], ...parts });
}

function only(snapshot: Snapshot): Finding {
  const found = targetPodUnschedulable.detect(snapshot);
  expect(found).toHaveLength(1);
  return found[0] as Finding;
}

const onVmim = (reason: string, message: string, at?: string) =>
  event({
    kind: "VirtualMachineInstanceMigration",
    name: "mig-1",
    reason,
    message,
    type: "Normal",
    lastTimestamp: at,
  });

describe("target-pod-unschedulable: the scheduler's message", () => {
  it("cuts the preemption tail even without a space after the period", () => {
    expect(
      schedulerReasons(
        "0/3 nodes are available: 3 Insufficient memory.preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
      ),
    ).toEqual([{ count: 3, text: "Insufficient memory", cause: "resources" }]);
  });

  it("reads reasons written without spaces, and counts of two digits", () => {
    expect(schedulerReasons("0/14 nodes are available:1 Insufficient cpu,12 Insufficient memory.")).toEqual([
      { count: 1, text: "Insufficient cpu", cause: "resources" },
      { count: 12, text: "Insufficient memory", cause: "resources" },
    ]);
  });

  it("drops the closing period, and has no reason in an empty list", () => {
    expect(schedulerReasons("0/1 nodes are available: 1 Insufficient memory.")).toEqual([
      { count: 1, text: "Insufficient memory", cause: "resources" },
    ]);
    expect(schedulerReasons("0/1 nodes are available: .")).toEqual([]);
  });

  it("counts 1 for a reason without a leading count, whatever numbers it holds", () => {
    expect(
      schedulerReasons("0/3 nodes are available: pod has 2 unbound immediate PersistentVolumeClaims."),
    ).toEqual([
      { count: 1, text: "pod has 2 unbound immediate PersistentVolumeClaims", cause: "volume-affinity" },
    ]);
  });
});

describe("target-pod-unschedulable: the timeouts", () => {
  it("reads both annotations, and keeps the defaults for zero, negative or unreadable values", () => {
    const annotated = (annotations: Record<string, string>) => scheduling({ annotations });
    expect(pendingPodTimeouts(undefined)).toEqual({ unschedulable: 300, pending: 900 });
    expect(
      pendingPodTimeouts(
        annotated({
          "kubevirt.io/migrationUnschedulablePodTimeoutSeconds": "120",
          "kubevirt.io/migrationPendingPodTimeoutSeconds": "600",
        }),
      ),
    ).toEqual({ unschedulable: 120, pending: 600 });
    for (const value of ["0", "-5", "soon"])
      expect(
        pendingPodTimeouts(
          annotated({
            "kubevirt.io/migrationUnschedulablePodTimeoutSeconds": value,
            "kubevirt.io/migrationPendingPodTimeoutSeconds": value,
          }),
        ),
        value,
      ).toEqual({ unschedulable: 300, pending: 900 });
  });
});

describe("target-pod-unschedulable: a removal told by its timing", () => {
  const failedAfter = (seconds: number, extra: Partial<Parameters<typeof migration>[0]> = {}) =>
    migration({
      name: "mig-1",
      uid: UID,
      phase: "Failed",
      created: ago(seconds + 100),
      transitions: { Pending: ago(seconds + 100), Scheduling: ago(seconds + 100), Failed: ago(100) },
      ...extra,
    });
  const create = (at?: string) => onVmim("SuccessfulCreate", `Created migration target pod demo/${TGT}`, at);
  const remove = (at: string) => onVmim("SuccessfulDelete", `Deleted migration target pod demo/${TGT}`, at);

  it("is voided by the abort condition among others, not by another condition or a False one", () => {
    const withConditions = (conditions: unknown[]) => failedAfter(300, { conditions });
    const snapOf = (m: ReturnType<typeof failedAfter>) => s({ migrations: [m] });
    const aborted = withConditions([
      { type: "Other", status: "True" },
      { type: "migrationAbortRequested", status: "True" },
    ]);
    expect(removalsByTiming(snapOf(aborted), aborted)).toEqual([]);
    for (const conditions of [
      [{ type: "migrationAbortRequested", status: "False" }],
      [{ type: "Other", status: "True" }],
    ]) {
      const m = withConditions(conditions);
      expect(removalsByTiming(snapOf(m), m).map((r) => r.kind)).toEqual(["unschedulable"]);
    }
  });

  it("takes the newest creation at or before the deletion as the pod's", () => {
    const m = failedAfter(300);
    // Still unfinished: only the events can tell.
    const open = scheduling();
    // A creation in the same second as the deletion is the pod's: 0 s, no timeout.
    const same = s({ migrations: [open], events: [create(ago(500)), create(ago(200)), remove(ago(200))] });
    expect(removalsByTiming(same, open)).toEqual([]);
    // A creation after the deletion is another pod's.
    const after = s({ migrations: [m], events: [create(ago(500)), remove(ago(200)), create(ago(150))] });
    expect(removalsByTiming(after, m)).toEqual([
      {
        kind: "unschedulable",
        seconds: 300,
        evidence: {
          object: "VirtualMachineInstanceMigration/mig-1",
          field: "events SuccessfulCreate → SuccessfulDelete",
          time: ago(200),
          text: "a target pod was deleted 300 s after it was created (virt-controller's unschedulable timeout is 300 s)",
        },
      },
    ]);
    // A creation without a time is no creation to measure from.
    const undated = create(undefined);
    const noTime = s({ migrations: [open], events: [create(ago(500)), undated, remove(ago(200))] });
    expect(removalsByTiming(noTime, open).map((r) => r.seconds)).toEqual([300]);
  });

  it("reads the phases only when no deletion event told it", () => {
    const m = failedAfter(300);
    const found = removalsByTiming(s({ migrations: [m], events: [create(ago(500)), remove(ago(200))] }), m);
    expect(found.map((r) => r.evidence.field)).toEqual(["events SuccessfulCreate → SuccessfulDelete"]);
    expect(removalsByTiming(s({ migrations: [m] }), m)).toEqual([
      {
        kind: "unschedulable",
        seconds: 300,
        evidence: {
          object: "VirtualMachineInstanceMigration/mig-1",
          field: "status.phaseTransitionTimestamps",
          time: ago(100),
          text: "Scheduling → Failed after 300 s, never Scheduled (virt-controller's unschedulable timeout is 300 s)",
        },
      },
    ]);
  });

  it("not when any target pod of it got a node, looked up by its own name", () => {
    const m = failedAfter(300);
    const source = pod("virt-launcher-db-1-src01", { spec: { nodeName: "node-1", containers: [] } });
    const waiting = unscheduled(TGT);
    expect(removalsByTiming(s({ migrations: [m], pods: [source, waiting] }), m)).toHaveLength(1);
    const placed = unscheduled("virt-launcher-db-1-tgt02", undefined, "node-2");
    expect(removalsByTiming(s({ migrations: [m], pods: [waiting, placed] }), m)).toEqual([]);
  });

  it("reads nothing from a VMIM without a status", () => {
    const bare = scheduling();
    delete bare.status;
    expect(removalsByTiming(s({ migrations: [bare] }), bare)).toEqual([]);
  });
});

describe("target-pod-unschedulable: which target pods count", () => {
  it("not a launcher pod that is no migration target, when no VMIM is left", () => {
    const own = unscheduled("virt-launcher-db-1-own");
    own.metadata.labels = {};
    expect(targetPodUnschedulable.detect(s({ migrations: [], pods: [own] }))).toEqual([]);
  });

  it("counts a pod named by both its label and the timeout once", () => {
    const timeout = onVmim(
      "SuccessfulDelete",
      `unschedulable pod demo/${TGT} timeout period exceeded`,
      ago(10),
    );
    const f = only(s({ pods: [unscheduled()], events: [timeout] }));
    expect(f.summary).not.toContain("target pods in the affected migrations");
    expect(unschedulableTargets(s({ pods: [unscheduled()], events: [timeout] }))).toHaveLength(1);
  });

  it("reads the timeout's older wording without a namespace", () => {
    const timeout = onVmim("SuccessfulDelete", `unschedulable pod ${TGT} timeout period exceeded`, ago(10));
    const [t] = unschedulableTargets(s({ events: [timeout] }));
    expect(t).toMatchObject({ podName: TGT, timedOut: true, current: false });
  });

  it("attributes the VMIM's warning to its one named pod, gone or not", () => {
    const created = onVmim("SuccessfulCreate", `Created migration target pod ${TGT}`, ago(190));
    const warning = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-1",
      reason: "migrationTargetPodUnschedulable",
      message: "Migration target pod for VMI [demo/db-1] is currently unschedulable.",
      lastTimestamp: ago(100),
    });
    const [t] = unschedulableTargets(s({ events: [created, warning] }));
    expect(t).toMatchObject({ podName: TGT, current: false, timedOut: false });
    expect(t?.evidence.map((e) => e.field)).toEqual(["event migrationTargetPodUnschedulable"]);
    // A pod of it that got a node was only briefly Pending.
    const placed = unscheduled(TGT, [], "node-2");
    expect(unschedulableTargets(s({ pods: [placed], events: [created, warning] }))).toEqual([]);
  });

  it("needs PodScheduled False for Unschedulable to call a pod unscheduled now", () => {
    const noCondition = unscheduled(TGT, []);
    expect(unschedulableTargets(s({ pods: [noCondition] }))).toEqual([]);
    const schedulerError = unscheduled(TGT, [
      { type: "PodScheduled", status: "False", reason: "SchedulerError", message: "plugin failed" },
    ]);
    expect(unschedulableTargets(s({ pods: [schedulerError] }))).toEqual([]);
    const noSpec = unscheduled();
    delete noSpec.spec;
    expect(unschedulableTargets(s({ pods: [noSpec] }))).toMatchObject([{ podName: TGT, current: true }]);
  });

  it("reads a VMIM without a status as unfinished", () => {
    const bare = scheduling();
    delete bare.status;
    const f = only(s({ migrations: [bare], pods: [unscheduled()] }));
    expect(f.summary).toContain(
      `The migration target pod ${TGT} of VirtualMachineInstanceMigration/mig-1 never got a node`,
    );
  });
});

describe("target-pod-unschedulable: the hostname pin", () => {
  const vm = (spec: Record<string, unknown>): VirtualMachine =>
    ({ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "db-1" }, spec }) as never;

  it("reads it from the VM's template when neither the pod nor the VMI pins it", () => {
    const pinned = vm({ template: { spec: { nodeSelector: { "kubernetes.io/hostname": "node-1" } } } });
    const f = only(s({ vm: pinned, pods: [unscheduled()] }));
    expect(f.summary).toContain("the VM's node selector pins it to node-1, the node it already runs on");
    expect(f.docs).toBe("https://kubevirt.io/user-guide/compute/node_assignment/");
  });

  it("is no pin when the VM has no template, or a template without a spec", () => {
    for (const spec of [{}, { template: {} }]) {
      const f = only(s({ vm: vm(spec), pods: [unscheduled()] }));
      expect(f.docs).toBe("https://kubevirt.io/user-guide/compute/live_migration/");
      expect(f.evidence.map((e) => e.field)).not.toContain("spec.nodeSelector");
    }
  });
});

describe("target-pod-unschedulable: the nodes it offers", () => {
  const node = (name: string | undefined, parts: Partial<Node> = {}): Node =>
    ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { ...(name ? { name } : {}), labels: {} },
      status: { conditions: [{ type: "Ready", status: "True" }] },
      ...parts,
    }) as Node;

  it("only Ready nodes, by their Ready condition alone, sorted, named", () => {
    const nodes = [
      node("node-c"),
      node("node-a"),
      node(undefined),
      node("no-status", { status: undefined }),
      node("no-ready", { status: { conditions: [{ type: "MemoryPressure", status: "False" }] } as never }),
      node("not-ready", {
        status: {
          conditions: [
            { type: "MemoryPressure", status: "True" },
            { type: "Ready", status: "False" },
          ],
        } as never,
      }),
    ];
    expect(candidateNodes(s({ nodes }), [])).toEqual(["node-a", "node-c"]);
  });

  it("needs the selector's labels, but never the hostname", () => {
    const unlabelled = { ...node("plain"), metadata: { name: "plain" } } as Node;
    const labelled = node("zone-a", { metadata: { name: "zone-a", labels: { zone: "a" } } });
    const selector = { zone: "a", "kubernetes.io/hostname": "node-1" };
    expect(candidateNodes(s({ nodes: [unlabelled, labelled] }), [], selector)).toEqual(["zone-a"]);
  });
});

describe("target-pod-unschedulable: what it advises", () => {
  const warning = event({
    kind: "VirtualMachineInstanceMigration",
    name: "mig-1",
    reason: "migrationTargetPodUnschedulable",
    message: "Migration target pod for VMI [demo/db-1] is currently unschedulable.",
    lastTimestamp: ago(100),
  });
  const cpuEvent = event({
    reason: "NoSuitableNodesForHostModelMigration",
    message: "no node is suitable for the host model",
    lastTimestamp: ago(150),
  });

  it("with no target pod to look at, blames the CPU only on virt-controller's event about it", () => {
    const f = only(s({ events: [warning, cpuEvent] }));
    expect(f.causedBy).toBe("cpu-model-mismatch");
    expect(f.fix.explanation).toContain(
      "The CPU labels are the root cause: see the cpu-model-mismatch finding.",
    );
    const g = only(s({ events: [warning] }));
    expect(g.causedBy).toBeUndefined();
    expect(g.fix.explanation).not.toContain("CPU labels");
  });

  it("without the migration's uid, lists no pods to get", () => {
    const noUid = scheduling();
    delete noUid.metadata.uid;
    const f = only(s({ migrations: [noUid], events: [warning] }));
    expect(f.fix.commands).toEqual(["kvmig cancel db-1 -n demo"]);
  });

  it("uncordons at most two cordoned nodes, never the source, and only when the scheduler named them", () => {
    const node = (name: string, cordoned: boolean): Node => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name },
      spec: cordoned ? { unschedulable: true } : {},
      status: { conditions: [{ type: "Ready", status: "True" }] },
    });
    const cordonedMsg = "0/4 nodes are available: 3 node(s) were unschedulable.";
    const cordonedPod = unscheduled(TGT, [
      { type: "PodScheduled", status: "False", reason: "Unschedulable", message: cordonedMsg },
    ]);
    const all = [node("node-1", true), node("node-2", true), node("node-3", true), node("node-4", true)];
    const f = only(s({ pods: [cordonedPod], nodes: all }));
    expect(f.fix.explanation).toContain(
      "Uncordon a node once its maintenance is over (node-2, node-3, node-4).",
    );
    expect(f.fix.commands.filter((c) => c.startsWith("kubectl uncordon"))).toEqual([
      "kubectl uncordon node-2",
      "kubectl uncordon node-3",
    ]);
    const onlySource = only(s({ pods: [cordonedPod], nodes: [node("node-1", true), node("node-2", false)] }));
    expect(onlySource.fix.explanation).not.toContain("Uncordon");
    expect(onlySource.fix.commands.filter((c) => c.startsWith("kubectl uncordon"))).toEqual([]);
    const memory = only(s({ pods: [unscheduled()], nodes: all }));
    expect(memory.fix.commands.filter((c) => c.startsWith("kubectl uncordon"))).toEqual([]);
  });
});
