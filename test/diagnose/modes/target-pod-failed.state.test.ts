// target-pod-failed's reasoning on hand-built snapshots, beside the reasoning tests: which root
// cause it names per kind (the CPU for a pod that failed, QEMU or a shutdown; never for an OOM
// kill, an eviction or the source node), the 5 s after the end that still counts, which failure
// is reported when several are found, what a cancel is, which pods and events count, and the
// evidence, commands and words that go with each.

import { describe, expect, it } from "vitest";
import { targetPodFailed } from "../../../src/diagnose/modes/target-pod-failed.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { Node, Pod, VirtualMachineInstanceMigrationState } from "../../../src/k8s/types.js";
import { ago, event, migration, ns, pod, snap, vmi } from "../../helpers/builders.js";

const UID = "bbbbbbbb-0000-4000-8000-000000000001";
const TGT = "virt-launcher-db-1-tgt01";
const MIG = "VirtualMachineInstanceMigration/mig-1";
const VIF = "open /var/run/kubevirt-private/vif-cache-default.json: no such file or directory";

function failedMig(state: VirtualMachineInstanceMigrationState = {}, extra: Record<string, unknown> = {}) {
  return migration({
    name: "mig-1",
    uid: UID,
    phase: "Failed",
    created: ago(600),
    transitions: { Scheduling: ago(590), Running: ago(500), Failed: ago(100) },
    state: { sourceNode: "node-1", ...state },
    ...extra,
  });
}

function target(status: Pod["status"] | undefined, node: string | undefined = "node-2", name = TGT): Pod {
  const p = pod(name, {
    labels: { "kubevirt.io/migrationJobUID": UID },
    spec: { ...(node ? { nodeName: node } : {}), containers: [] },
  });
  if (status === undefined) delete p.status;
  else p.status = status;
  return p;
}

const sourcePod = () =>
  pod("virt-launcher-db-1-src01", {
    spec: { nodeName: "node-1", containers: [] },
    status: { phase: "Running" },
  });

const onVmim = (reason: string, message: string, at = ago(100)) =>
  event({ kind: "VirtualMachineInstanceMigration", name: "mig-1", reason, message, lastTimestamp: at });
const shutdownEvent = onVmim(
  "FailedMigration",
  "Migration failed because target pod shutdown during migration",
);
const removedEvent = onVmim("FailedMigration", "Migration target pod was removed during active migration.");
const cpuEvent = event({
  reason: "NoSuitableNodesForHostModelMigration",
  message: "no node is suitable for the host model",
  lastTimestamp: ago(300),
});

function qemuLog(podName = TGT): Snapshot["logs"] {
  return [
    {
      namespace: ns,
      pod: podName,
      container: "compute",
      lines: [
        JSON.stringify({ level: "error", msg: "internal error: qemu unexpectedly closed the monitor" }),
      ],
    },
  ];
}

function s(parts: Partial<Snapshot>): Snapshot {
  return snap({ vmi: vmi({ phase: "Running", nodeName: "node-1" }), migrations: [failedMig()], ...parts });
}

function only(snapshot: Snapshot): Finding {
  const found = targetPodFailed.detect(snapshot);
  expect(found).toHaveLength(1);
  return found[0] as Finding;
}

const oomStatus: Pod["status"] = {
  phase: "Failed",
  containerStatuses: [
    { name: "compute", state: { terminated: { reason: "OOMKilled", exitCode: 137 } } },
  ] as never,
};

describe("target-pod-failed: the root cause it names", () => {
  it("names the CPU for a pod that failed, for QEMU not starting and for a shutdown", () => {
    const failed = s({ pods: [target({ phase: "Failed" })], events: [cpuEvent] });
    expect(only(failed).causedBy).toBe("cpu-model-mismatch");
    const qemu = s({ pods: [target({ phase: "Running" })], logs: qemuLog(), events: [cpuEvent] });
    expect(only(qemu).summary).toMatch(/^QEMU could not start/);
    expect(only(qemu).causedBy).toBe("cpu-model-mismatch");
    const shutdown = s({ events: [shutdownEvent, cpuEvent] });
    expect(only(shutdown).summary).toContain("shut down during the migration");
    expect(only(shutdown).causedBy).toBe("cpu-model-mismatch");
  });

  it("names no cause when no other rule finds one", () => {
    expect(only(s({ pods: [target({ phase: "Failed" })] })).causedBy).toBeUndefined();
    expect(only(s({ events: [shutdownEvent] })).causedBy).toBeUndefined();
  });

  it("does not blame the CPU for a removal or a pending timeout, yet names other rules there", () => {
    const deleted = target({ phase: "Running" });
    deleted.metadata.deletionTimestamp = ago(200);
    const f = only(s({ pods: [deleted], events: [cpuEvent] }));
    expect(f.summary).toContain("was removed during the migration");
    expect(f.causedBy).toBeUndefined();
    const viaVif = only(s({ migrations: [failedMig({ failureReason: VIF })], pods: [deleted] }));
    expect(viaVif.causedBy).toBe("vif-cache-missing");
    const timeout = onVmim("SuccessfulDelete", `pending pod demo/${TGT} timeout period exceeded`);
    const g = only(s({ events: [timeout, cpuEvent] }));
    expect(g.summary).toContain("15-minute pending timeout");
    expect(g.causedBy).toBeUndefined();
  });

  it("names nothing for an OOM kill, an eviction or the source node, whatever else is found", () => {
    const withVif = (p: Pod) =>
      s({ migrations: [failedMig({ failureReason: VIF })], pods: [p], events: [cpuEvent] });
    expect(only(withVif(target(oomStatus))).causedBy).toBeUndefined();
    expect(
      only(withVif(target({ phase: "Failed", reason: "Evicted", message: "low memory" }))).causedBy,
    ).toBeUndefined();
    const onSource = only(withVif(target({ phase: "Running" }, "node-1")));
    expect(onSource.summary).toContain("the node the VM already runs on");
    expect(onSource.causedBy).toBeUndefined();
  });
});

describe("target-pod-failed: what counts as the target pod failing", () => {
  it("reads virt-controller's older 'reason:target pod is down', with or without a space", () => {
    const onVmi = event({
      reason: "FailedMigration",
      message: `VirtualMachineInstance migration uid ${UID} failed. reason:target pod is down`,
    });
    expect(only(s({ events: [onVmi] })).summary).toContain("shut down during the migration");
  });

  it("does not take another Warning naming the migration's uid for a shutdown", () => {
    const migrated = event({
      reason: "Migrated",
      message: `VirtualMachineInstance migration uid ${UID} failed. reason:target pod is down`,
    });
    expect(targetPodFailed.detect(s({ events: [migrated] }))).toEqual([]);
  });

  it("leaves the guest CPU's QEMU error to cpu-model-mismatch in either spelling", () => {
    const lines = [
      JSON.stringify({
        level: "error",
        msg: "qemu unexpectedly closed the monitor: guest CPU doesnt match specification",
      }),
    ];
    const f = s({
      pods: [target({ phase: "Running" })],
      logs: [{ namespace: ns, pod: TGT, container: "compute", lines }],
    });
    expect(targetPodFailed.detect(f)).toEqual([]);
  });

  it("reads the compute container's end, not another container's", () => {
    const sidecarOom = target({
      phase: "Running",
      containerStatuses: [
        { name: "hotplug", state: { terminated: { reason: "OOMKilled", exitCode: 137 } } },
        { name: "compute", state: { running: {} } },
      ] as never,
    });
    expect(targetPodFailed.detect(s({ pods: [sidecarOom] }))).toEqual([]);
    const restarted = target({
      phase: "Running",
      containerStatuses: [
        { name: "compute", lastState: { terminated: { reason: "OOMKilled", exitCode: 137 } } },
      ] as never,
    });
    expect(only(s({ pods: [restarted] })).summary).toContain("was OOM-killed on node-2");
  });

  it("counts a deletion up to 5 s after the migration ended", () => {
    const deletedAt = (seconds: number) => {
      const p = target({ phase: "Running" });
      p.metadata.deletionTimestamp = ago(seconds);
      return p;
    };
    // Failed 100 s before the snapshot.
    const f = only(s({ pods: [deletedAt(95)] }));
    expect(f.evidence[0]).toEqual({
      object: `Pod/${TGT}`,
      field: "metadata.deletionTimestamp",
      text: `deleted at ${ago(95)}, before the migration ended`,
    });
    expect(targetPodFailed.detect(s({ pods: [deletedAt(94)] }))).toEqual([]);
  });

  it("says the deleted pod's own node is cordoned, not another's", () => {
    const node = (name: string, cordoned: boolean): Node => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name },
      spec: cordoned ? { unschedulable: true } : {},
    });
    const deleted = target({ phase: "Running" });
    deleted.metadata.deletionTimestamp = ago(200);
    const other = only(s({ pods: [deleted], nodes: [node("node-9", true), node("node-2", false)] }));
    expect(other.evidence[0]?.text).toBe(`deleted at ${ago(200)}, before the migration ended`);
    const own = only(s({ pods: [deleted], nodes: [node("node-9", false), node("node-2", true)] }));
    expect(own.evidence[0]?.text).toBe(
      `deleted at ${ago(200)}, before the migration ended; its node node-2 is cordoned (drained)`,
    );
    const bareNode = { apiVersion: "v1", kind: "Node", metadata: { name: "node-2" } } as Node;
    expect(only(s({ pods: [deleted], nodes: [bareNode] })).evidence[0]?.text).toBe(
      `deleted at ${ago(200)}, before the migration ended`,
    );
    const noSpec = target({ phase: "Running" });
    noSpec.metadata.deletionTimestamp = ago(200);
    delete noSpec.spec;
    expect(only(s({ pods: [noSpec], nodes: [node("node-2", true)] })).evidence[0]?.text).toBe(
      `deleted at ${ago(200)}, before the migration ended`,
    );
  });

  it("words a plain Failed pod as just that", () => {
    const f = only(s({ pods: [target({ phase: "Failed" })] }));
    expect(f.evidence[0]).toEqual({ object: `Pod/${TGT}`, field: "status.phase", text: "Failed" });
    expect(f.summary).toBe(
      `The migration target pod ${TGT} of ${MIG} failed on node-2 before the migration finished. The VM keeps running on its source node; the migration failed.`,
    );
  });

  it("finds the target pod by its name among the others", () => {
    const f = only(s({ pods: [sourcePod(), target({ phase: "Failed" })] }));
    expect(f.evidence[0]?.object).toBe(`Pod/${TGT}`);
  });

  it("is not same-node when neither the pod's node nor the source node is known", () => {
    const f = only(
      s({
        migrations: [failedMig({ sourceNode: undefined })],
        pods: [target({ phase: "Failed" }, "")],
      }),
    );
    expect(f.summary).toBe(
      `The migration target pod ${TGT} of ${MIG} failed before the migration finished. The VM keeps running on its source node; the migration failed.`,
    );
  });

  it("quotes only the pod's last eviction or kill event", () => {
    const podEvent = (reason: string, message: string, at: number) =>
      event({ kind: "Pod", name: TGT, reason, message, lastTimestamp: ago(at) });
    const f = only(
      s({
        pods: [
          target({ phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." }),
        ],
        events: [
          podEvent("Killing", "Stopping container compute", 300),
          podEvent("Evicted", "The node was low on resource: memory.", 200),
          podEvent("WasKilling", "not a kill", 150),
          podEvent("PreemptedLater", "not a preemption", 140),
        ],
      }),
    );
    expect(f.evidence).toEqual([
      {
        object: `Pod/${TGT}`,
        field: "status.reason",
        text: "Evicted: The node was low on resource: memory.",
      },
      {
        object: `Pod/${TGT}`,
        field: "event Evicted",
        time: ago(200),
        text: "The node was low on resource: memory.",
      },
    ]);
    expect(f.summary).toContain("was evicted on node-2 before the migration finished");
  });
});

describe("target-pod-failed: what it leaves alone", () => {
  it("a migration cancelled by its abort condition among others, not a condition of another kind", () => {
    const failedPod = target({ phase: "Failed" });
    const cancelled = failedMig(
      {},
      {
        conditions: [
          { type: "Other", status: "True" },
          { type: "migrationAbortRequested", status: "True" },
        ],
      },
    );
    expect(targetPodFailed.detect(s({ migrations: [cancelled], pods: [failedPod] }))).toEqual([]);
    const notTrue = failedMig({}, { conditions: [{ type: "migrationAbortRequested", status: "False" }] });
    expect(targetPodFailed.detect(s({ migrations: [notTrue], pods: [failedPod] }))).toHaveLength(1);
    const otherTrue = failedMig({}, { conditions: [{ type: "Ready", status: "True" }] });
    expect(targetPodFailed.detect(s({ migrations: [otherTrue], pods: [failedPod] }))).toHaveLength(1);
  });

  it("a cancel only by a SuccessfulDelete that starts with 'migration canceled'", () => {
    const failedPod = target({ phase: "Failed" });
    const notACancel = onVmim(
      "SuccessfulDelete",
      "Deleted target pod after the migration canceled elsewhere",
    );
    expect(targetPodFailed.detect(s({ pods: [failedPod], events: [notACancel] }))).toHaveLength(1);
    const cancel = onVmim("SuccessfulDelete", "migration canceled by the user");
    expect(targetPodFailed.detect(s({ pods: [failedPod], events: [cancel] }))).toEqual([]);
  });

  it("a target pod that target-pod-unschedulable explains, deleted or not", () => {
    const unschedulable = target(
      {
        phase: "Pending",
        conditions: [
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message: "0/3 nodes are available: 3 Insufficient memory.",
          },
        ],
      } as never,
      "",
    );
    unschedulable.metadata.deletionTimestamp = ago(200);
    expect(targetPodFailed.detect(s({ pods: [unschedulable], events: [removedEvent] }))).toEqual([]);
  });

  it("a removal that target-pod-unschedulable tells from the timing alone", () => {
    const timed = migration({
      name: "mig-1",
      uid: UID,
      phase: "Failed",
      created: ago(400),
      transitions: { Pending: ago(400), Scheduling: ago(400), Failed: ago(100) },
      state: { sourceNode: "node-1" },
    });
    expect(targetPodFailed.detect(s({ migrations: [timed], events: [removedEvent] }))).toEqual([]);
  });

  it("launcher pods that are not migration targets, when no VMIM is left", () => {
    const oldSource = pod("virt-launcher-db-1-old", { status: { phase: "Failed" } });
    expect(targetPodFailed.detect(s({ migrations: [], pods: [oldSource] }))).toEqual([]);
  });

  it("a VMIM without a status", () => {
    const bare = migration({ name: "mig-1", uid: UID, created: ago(60) });
    delete bare.status;
    expect(targetPodFailed.detect(s({ migrations: [bare] }))).toEqual([]);
  });

  it("a VMI shutdown event when no VMIM is left to name", () => {
    const onVmi = event({
      reason: "FailedMigration",
      message: `VirtualMachineInstance migration uid ${UID} failed. reason: target pod is down`,
    });
    expect(targetPodFailed.detect(s({ migrations: [], events: [onVmi] }))).toEqual([]);
  });
});

describe("target-pod-failed: without any VMIM", () => {
  it("still reports a failed target pod, on a VMI without a status", () => {
    const bare = vmi();
    delete bare.status;
    const f = only(s({ vmi: bare, migrations: [], pods: [target({ phase: "Failed" })] }));
    expect(f.summary).toBe(
      `The migration target pod ${TGT} failed on node-2 before the migration finished. The VM keeps running on its source node; the migration failed.`,
    );
    expect(f.fix.commands).toEqual([
      `kubectl describe pod ${TGT} -n demo`,
      `kubectl logs ${TGT} -n demo -c compute`,
      "kubectl describe node node-2",
      "kvmig migrate db-1 -n demo",
    ]);
  });
});

describe("target-pod-failed: several failures at once", () => {
  it("reports an OOM kill before an eviction", () => {
    const evicted = target({ phase: "Failed", reason: "Evicted" }, "node-2", "tgt-evicted");
    const oom = target(oomStatus, "node-3", "tgt-oom");
    const f = only(s({ pods: [evicted, oom] }));
    expect(f.summary).toMatch(/^The migration target pod tgt-oom .* was OOM-killed on node-3/);
    expect(f.evidence.map((e) => e.object)).toEqual(["Pod/tgt-evicted", "Pod/tgt-oom"]);
  });

  it("reports the source node before QEMU, and QEMU before a plain failure", () => {
    const both = s({ pods: [target({ phase: "Failed" })], logs: qemuLog() });
    const f = only(both);
    expect(f.summary).toMatch(/^QEMU could not start in the migration target pod/);
    expect(f.fix.commands).toContain(`kubectl logs ${TGT} -n demo -c compute`);
    expect(f.evidence.map((e) => e.field)).toEqual(["status.phase", "log compute"]);
    const onSource = only(s({ pods: [target({ phase: "Running" }, "node-1")], logs: qemuLog() }));
    expect(onSource.summary).toMatch(/^The migration target pod .* was scheduled onto node-1/);
  });

  it("reports a failed pod before the pending timeout", () => {
    const timeout = onVmim("SuccessfulDelete", "pending pod demo/tgt-old timeout period exceeded");
    const f = only(s({ pods: [target({ phase: "Failed" })], events: [timeout] }));
    expect(f.summary).toContain("failed on node-2 before the migration finished");
  });

  it("keeps the controller's text with the pending timeout it explains", () => {
    const timeout = onVmim("SuccessfulDelete", `pending pod demo/${TGT} timeout period exceeded`, ago(110));
    const f = only(s({ events: [timeout, removedEvent] }));
    expect(f.evidence).toEqual([
      {
        object: MIG,
        field: "event SuccessfulDelete",
        time: ago(110),
        text: `pending pod demo/${TGT} timeout period exceeded`,
      },
      {
        object: MIG,
        field: "event FailedMigration",
        time: ago(100),
        text: "Migration target pod was removed during active migration.",
      },
    ]);
    expect(f.notChecked).toBeUndefined();
    expect(f.fix.commands).toEqual(["kvmig migrate db-1 -n demo"]);
  });

  it("quotes at most five evidence lines, each once", () => {
    const podEvent = (reason: string, at: number) =>
      event({ kind: "Pod", name: "tgt-oom", reason, message: `${reason} it`, lastTimestamp: ago(at) });
    const pods = [
      target(oomStatus, "node-2", "tgt-oom"),
      target({ phase: "Failed", reason: "Evicted" }, "node-3", "tgt-ev1"),
      target({ phase: "Failed", reason: "Evicted" }, "node-4", "tgt-ev2"),
    ];
    const f = only(s({ pods, events: [podEvent("OOMKilling", 300), shutdownEvent] }));
    expect(f.evidence).toHaveLength(5);
    expect(f.evidence.map((e) => e.object)).toEqual([
      "Pod/tgt-oom",
      "Pod/tgt-oom",
      "VirtualMachineInstanceMigration/mig-1",
      "Pod/tgt-ev1",
      "Pod/tgt-ev2",
    ]);
  });
});

describe("target-pod-failed: the symptom alone", () => {
  it("with the target pod still there and healthy, describes it and reads its status", () => {
    const f = only(s({ pods: [sourcePod(), target({ phase: "Running" })], events: [shutdownEvent] }));
    expect(f.summary).toBe(
      `The migration target pod ${TGT} of ${MIG} shut down during the migration. The VM keeps running on its source node; the migration failed.`,
    );
    expect(f.evidence).toEqual([
      {
        object: MIG,
        field: "event FailedMigration",
        time: ago(100),
        text: "Migration failed because target pod shutdown during migration",
      },
    ]);
    expect(f.notChecked).toBeUndefined();
    expect(f.fix.commands).toEqual([`kubectl describe pod ${TGT} -n demo`, "kvmig migrate db-1 -n demo"]);
  });

  it("reads a target pod without a status as not failed", () => {
    const f = only(s({ pods: [target(undefined)], events: [removedEvent] }));
    expect(f.summary).toContain(`The migration target pod ${TGT} of ${MIG} was removed during the migration`);
    expect(f.fix.commands[0]).toBe(`kubectl describe pod ${TGT} -n demo`);
  });

  it("names the missing launcher log for a removal, a shutdown or a failure, not an eviction", () => {
    const missing = [{ what: "logs of virt-launcher", why: "forbidden" }];
    const log = "the target launcher's log (why QEMU or the launcher stopped)";
    expect(only(s({ events: [removedEvent], missing })).notChecked).toContain(log);
    expect(only(s({ events: [shutdownEvent], missing })).notChecked).toContain(log);
    expect(only(s({ pods: [target({ phase: "Failed" })], missing })).notChecked).toEqual([log]);
    expect(
      only(s({ pods: [target({ phase: "Failed", reason: "Evicted" })], missing })).notChecked,
    ).toBeUndefined();
  });
});

describe("target-pod-failed: the commands", () => {
  const ready = (name: string): Node => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  });

  it("offers another node than the source and the failed pod's", () => {
    const f = only(
      s({ pods: [target({ phase: "Failed" })], nodes: [ready("node-1"), ready("node-2"), ready("node-3")] }),
    );
    expect(f.fix.commands.at(-1)).toBe("kvmig migrate db-1 -n demo --target-node node-3");
  });

  it("on the source node, may offer the node it collided on only if it is not the source", () => {
    const f = only(
      s({ pods: [target({ phase: "Running" }, "node-1")], nodes: [ready("node-1"), ready("node-2")] }),
    );
    expect(f.fix.commands.at(-1)).toBe("kvmig migrate db-1 -n demo --target-node node-2");
    expect(f.docs).toBe("https://github.com/kubevirt/kubevirt/issues/18946");
  });

  it("reads the VMI without a status", () => {
    const bare = vmi();
    delete bare.status;
    const f = only(
      s({ vmi: bare, pods: [target({ phase: "Failed" })], nodes: [ready("node-1"), ready("node-2")] }),
    );
    expect(f.fix.commands.at(-1)).toBe("kvmig migrate db-1 -n demo --target-node node-1");
  });

  it("is an error symptom rule", () => {
    expect(targetPodFailed.severity).toBe("error");
    expect(targetPodFailed.specificity).toBe("symptom");
    expect(targetPodFailed.title).toBe("Migration target pod failed");
  });
});
