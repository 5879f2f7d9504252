// target-pod-unschedulable's reasoning on hand-built snapshots: how the scheduler's message is
// split into reasons and causes, which target pods count (unscheduled now, deleted by the
// unschedulable timeout in either wording, only a VMIM warning, told by timing alone), and for
// each cause the plain words, the fix and the commands; the source-node pin, the CPU labels,
// the candidate nodes, confidence and what it could not check.

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
import type { Node, Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const migUid = "bbbbbbbb-0000-4000-8000-000000000001";
const tgt = "virt-launcher-db-1-tgt01";

function unscheduled(message: string | undefined, selector: Record<string, string> = {}): Pod {
  return pod(tgt, {
    labels: { "kubevirt.io/migrationJobUID": migUid },
    spec: { containers: [], nodeSelector: selector },
    status: {
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          ...(message ? { message } : {}),
          lastTransitionTime: ago(100),
        },
      ],
    },
  });
}

const scheduling = (phase = "Scheduling") =>
  migration({ name: "mig-1", uid: migUid, phase, created: ago(200), transitions: { Scheduling: ago(190) } });

function node(
  name: string,
  parts: {
    ready?: boolean;
    unschedulable?: boolean;
    taint?: "NoSchedule" | "NoExecute" | "PreferNoSchedule";
    labels?: Record<string, string>;
    kvm?: string;
  } = {},
): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: parts.labels ?? {} },
    spec: {
      ...(parts.unschedulable ? { unschedulable: true } : {}),
      ...(parts.taint ? { taints: [{ key: "k", effect: parts.taint }] } : {}),
    },
    status: {
      conditions: [{ type: "Ready", status: parts.ready === false ? "False" : "True" }],
      ...(parts.kvm !== undefined ? { allocatable: { "devices.kubevirt.io/kvm": parts.kvm } } : {}),
    },
  };
}

const onNode1 = vmi({ phase: "Running", nodeName: "node-1" });
const vmimEvent = (reason: string, message: string, at: string, type = "Normal") =>
  event({ kind: "VirtualMachineInstanceMigration", name: "mig-1", reason, message, lastTimestamp: at, type });

function detectOne(s: Snapshot): Finding {
  const findings = targetPodUnschedulable.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const memoryMessage =
  "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";

describe("target-pod-unschedulable reasoning", () => {
  it("splits the scheduler's message into reasons and their causes", () => {
    expect(schedulerReasons(memoryMessage)).toEqual([
      { count: 1, text: "node(s) were unschedulable", cause: "cordoned" },
      { count: 2, text: "Insufficient memory", cause: "resources" },
    ]);
    const cause = (text: string) => schedulerReasons(`0/1 nodes are available: 1 ${text}.`)[0]?.cause;
    expect(cause("Insufficient devices.kubevirt.io/kvm")).toBe("kvm-device");
    expect(cause("Insufficient devices.kubevirt.io/tun")).toBe("kvm-device");
    expect(cause("Insufficient devices.kubevirt.io/vhost-net")).toBe("kvm-device");
    expect(cause("Insufficient bridge.network.kubevirt.io/br1")).toBe("bridge-resource");
    expect(cause("Insufficient cpu")).toBe("resources");
    expect(cause("Too many pods")).toBe("resources");
    expect(cause("node(s) didn't match pod anti-affinity rules")).toBe("anti-affinity");
    expect(cause("node(s) had volume node affinity conflict")).toBe("volume-affinity");
    expect(cause("pod has unbound immediate PersistentVolumeClaims")).toBe("volume-affinity");
    expect(cause("node(s) didn't match Pod's node affinity/selector")).toBe("selector");
    expect(cause("MatchNodeSelector")).toBe("selector");
    expect(cause("node(s) had untolerated taint {node-role: master}")).toBe("taint");
    expect(cause("something new")).toBe("other");
    expect(cause("has Insufficient memory")).toBe("other");
    // Without the "nodes are available" head, and without counts.
    expect(schedulerReasons("Insufficient memory")).toEqual([
      { count: 1, text: "Insufficient memory", cause: "resources" },
    ]);
    expect(
      schedulerReasons("0/2 nodes are available: 2 Insufficient cpu, 3 Insufficient memory."),
    ).toHaveLength(2);
  });

  it("an unschedulable pod for memory: the whole finding, with the cordoned node to uncordon", () => {
    const s = snap({
      vmi: onNode1,
      migrations: [scheduling()],
      pods: [unscheduled(memoryMessage)],
      nodes: [node("node-1"), node("node-2", { unschedulable: true }), node("node-3")],
    });
    expect(detectOne(s)).toEqual({
      id: "target-pod-unschedulable",
      title: "Migration target pod cannot be scheduled",
      severity: "error",
      confidence: "high",
      summary: `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 never got a node: no other node has the CPU or memory the pod requests; the other nodes are cordoned. Virt-controller deletes an unschedulable target pod after 5 minutes and the migration fails; the VM keeps running on node-1.`,
      evidence: [
        {
          object: `Pod/${tgt}`,
          field: "status.conditions[PodScheduled]",
          time: ago(100),
          text: `Unschedulable: ${memoryMessage}`,
        },
      ],
      fix: {
        explanation:
          "Free CPU or memory on another node (or add a node), or lower the VM's requests. Uncordon a node once its maintenance is over (node-2). Cancel the pending migration if nothing will change within the timeout.",
        commands: [
          `kubectl describe pod ${tgt} -n demo`,
          "kubectl describe nodes",
          "kubectl uncordon node-2",
          "kvmig migrate db-1 -n demo --target-node node-3",
          "kvmig cancel db-1 -n demo",
        ],
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: undefined,
      causedBy: undefined,
    });
  });

  it("the KubeVirt devices: names them, checks virt-handler, offers only nodes with /dev/kvm", () => {
    const msg = "0/3 nodes are available: 2 Insufficient devices.kubevirt.io/kvm.";
    const s = snap({
      vmi: onNode1,
      migrations: [scheduling()],
      pods: [unscheduled(msg)],
      nodes: [
        node("node-1", { kvm: "1k" }),
        node("node-2", { kvm: "0" }),
        node("node-3"),
        node("node-4", { kvm: "110" }),
      ],
    });
    const f = detectOne(s);
    expect(f.summary).toContain(
      ": no other node offers the KubeVirt devices (devices.kubevirt.io/kvm, tun, vhost-net): virt-handler is not running there, or the node has no /dev/kvm.",
    );
    expect(f.fix.explanation).toBe(
      "Check that virt-handler runs on the other nodes and that they expose /dev/kvm (allocatable devices.kubevirt.io/kvm). Or pick a node yourself (node-4 look usable). Cancel the pending migration if nothing will change within the timeout.",
    );
    expect(f.fix.commands).toEqual([
      `kubectl describe pod ${tgt} -n demo`,
      "kubectl get pods -A -l kubevirt.io=virt-handler -o wide",
      "kubectl get nodes -o 'custom-columns=NAME:.metadata.name,KVM:.status.allocatable.devices\\.kubevirt\\.io/kvm'",
      "kvmig migrate db-1 -n demo --target-node node-4",
      "kvmig cancel db-1 -n demo",
    ]);
  });

  it("a node selector no other node matches: relax it; with CPU labels it is the CPU's", () => {
    const msg = "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.";
    const plain = detectOne(
      snap({
        vmi: onNode1,
        migrations: [scheduling()],
        pods: [unscheduled(msg, { zone: "a" })],
        nodes: [node("node-1"), node("node-2", { labels: { zone: "a" } }), node("node-3")],
      }),
    );
    expect(plain.summary).toContain(": no other node matches the pod's node selector or affinity.");
    expect(plain.fix.explanation).toBe(
      "Relax the VM's node selector or affinity so another node qualifies (it takes effect when the VM restarts, or live with the LiveUpdate rollout strategy), or restart the VM instead if it must stay pinned. Or pick a node yourself (node-2 look usable). Cancel the pending migration if nothing will change within the timeout.",
    );
    expect(plain.fix.commands).toContain("kubectl edit vm db-1 -n demo");
    expect(plain.fix.commands).toContain("kvmig migrate db-1 -n demo --target-node node-2");
    const cpuLabel = "host-model-cpu.node.kubevirt.io/Icelake-Server";
    const cpu = detectOne(
      snap({
        vmi: onNode1,
        migrations: [scheduling()],
        pods: [unscheduled(msg, { [cpuLabel]: "true" })],
        nodes: [node("node-1", { labels: { [cpuLabel]: "true" } }), node("node-2")],
      }),
    );
    expect(cpu.summary).toContain(
      ": no other node matches the CPU model and feature labels the pod requires.",
    );
    expect(cpu.causedBy).toBe("cpu-model-mismatch");
    expect(cpu.fix.explanation).toBe(
      "The CPU labels are the root cause: see the cpu-model-mismatch finding. Cancel the pending migration if nothing will change within the timeout.",
    );
    expect(cpu.fix.commands).toEqual([`kubectl describe pod ${tgt} -n demo`, "kvmig cancel db-1 -n demo"]);
  });

  it("pinned by hostname to the node it runs on: says so, the node-assignment docs", () => {
    const msg = "0/3 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.";
    const f = detectOne(
      snap({
        vmi: onNode1,
        migrations: [scheduling()],
        pods: [unscheduled(msg, { "kubernetes.io/hostname": "node-1" })],
        nodes: [node("node-1"), node("node-2")],
      }),
    );
    expect(f.summary).toContain(
      ": the VM's node selector pins it to node-1, the node it already runs on, and a target never lands beside its source.",
    );
    expect(f.evidence.at(-1)).toEqual({
      object: `Pod/${tgt}`,
      field: "spec.nodeSelector",
      text: "kubernetes.io/hostname=node-1 (the node the VM already runs on)",
    });
    expect(f.docs).toBe("https://kubevirt.io/user-guide/compute/node_assignment/");
    expect(f.fix.commands).toEqual([
      `kubectl describe pod ${tgt} -n demo`,
      "kubectl edit vm db-1 -n demo",
      "kvmig cancel db-1 -n demo",
    ]);
    // Pinned elsewhere (from the VMI's own selector): named, not the source.
    const other = vmi(
      { phase: "Running", nodeName: "node-1" },
      { nodeSelector: { "kubernetes.io/hostname": "node-7" } },
    );
    const g = detectOne(
      snap({
        vmi: other,
        migrations: [scheduling()],
        pods: [unscheduled(msg)],
        nodes: [node("node-1"), node("node-2")],
      }),
    );
    expect(g.evidence.at(-1)).toEqual({
      object: `Pod/${tgt}`,
      field: "spec.nodeSelector",
      text: "kubernetes.io/hostname=node-7",
    });
    expect(g.summary).toContain(": no other node matches the pod's node selector or affinity.");
    // The hostname does not count as a selector label for the candidates.
    expect(g.fix.commands).toContain("kvmig migrate db-1 -n demo --target-node node-2");
  });

  it("taints, volumes, the bridge network, and what the scheduler said otherwise", () => {
    const run = (text: string) =>
      detectOne(
        snap({
          vmi: onNode1,
          migrations: [scheduling()],
          pods: [unscheduled(`0/2 nodes are available: 1 ${text}.`)],
        }),
      );
    const taint = run("node(s) had untolerated taint {dedicated: gpu}");
    expect(taint.summary).toContain(": the other nodes carry taints the pod does not tolerate.");
    expect(taint.fix.explanation).toContain(
      "Remove the taint from a node that should run VMs, or add a matching toleration to the VM.",
    );
    expect(taint.fix.commands).toContain(
      "kubectl get nodes -o 'custom-columns=NAME:.metadata.name,TAINTS:.spec.taints[*].key'",
    );
    expect(run("node(s) had volume node affinity conflict").summary).toContain(
      ": a volume is bound to a node the pod cannot use.",
    );
    expect(run("Insufficient bridge.network.kubevirt.io/br0").summary).toContain(
      ": the other nodes do not offer the bridge network the VM uses.",
    );
    const other = run("node(s) didn't match pod anti-affinity rules");
    expect(other.summary).toContain(": the scheduler said: 1 node(s) didn't match pod anti-affinity rules.");
    expect(other.fix.explanation).toBe(
      "Cancel the pending migration if nothing will change within the timeout.",
    );
    // Cordoned, but no cordoned node read: nothing to uncordon.
    const cordoned = run("node(s) were unschedulable");
    expect(cordoned.summary).toContain(": the other nodes are cordoned.");
    expect(cordoned.fix.commands.some((c) => c.startsWith("kubectl uncordon"))).toBe(false);
  });

  it("with a finished migration and nothing to say: the generic advice", () => {
    const failed = migration({ name: "mig-1", uid: migUid, phase: "Failed", created: ago(200) });
    const f = detectOne(
      snap({
        vmi: onNode1,
        migrations: [failed],
        pods: [unscheduled("0/2 nodes are available: 1 node(s) didn't match pod anti-affinity rules.")],
      }),
    );
    expect(f.fix.explanation).toBe(
      "Read the scheduler's message on the target pod and make room for it on another node, then migrate again.",
    );
  });

  it("no scheduler message: medium, and says the reasons were not available; nodes not read", () => {
    const f = detectOne(snap({ vmi: onNode1, migrations: [scheduling()], pods: [unscheduled(undefined)] }));
    expect(f.confidence).toBe("medium");
    expect(f.summary).toContain("never got a node: the scheduler's reasons were not available.");
    expect(f.notChecked).toEqual([
      "the scheduler's reasons (the target pod and its FailedScheduling events were not available)",
      "the nodes (capacity, labels, taints)",
    ]);
    expect(f.summary).toMatch(/; the VM keeps running on node-1\.$/);
    const noVmi = detectOne(snap({ migrations: [scheduling()], pods: [unscheduled(undefined)] }));
    expect(noVmi.summary).toMatch(/; the VM keeps running on its node\.$/);
  });

  it("uses the latest FailedScheduling event when it differs from the condition", () => {
    const fs = (message: string, at: string) =>
      event({ kind: "Pod", name: tgt, reason: "FailedScheduling", message, lastTimestamp: at });
    const s = snap({
      vmi: onNode1,
      migrations: [scheduling()],
      pods: [unscheduled(memoryMessage)],
      events: [fs("0/3 nodes are available: 3 Insufficient cpu.", ago(150)), fs(memoryMessage, ago(90))],
    });
    expect(detectOne(s).evidence.map((e) => e.field)).toEqual(["status.conditions[PodScheduled]"]);
    const t = snap({
      ...s,
      events: [fs(memoryMessage, ago(150)), fs("0/3 nodes are available: 3 Insufficient cpu.", ago(90))],
    });
    expect(detectOne(t).evidence.map((e) => e.field)).toEqual([
      "status.conditions[PodScheduled]",
      "event FailedScheduling",
    ]);
  });

  it("a pod deleted by the unschedulable timeout (both wordings): quoted with the failure, the pod's events to read", () => {
    for (const message of [
      `unschedulable pod demo/${tgt} timeout period exceeded`,
      `unschedulable pod timeout period exceeded%!(EXTRA string=${tgt})`,
    ]) {
      const timeout = vmimEvent("SuccessfulDelete", message, ago(50));
      const removed = vmimEvent(
        "FailedMigration",
        "Migration target pod was removed during active migration.",
        ago(49),
        "Warning",
      );
      const failed = migration({ name: "mig-1", uid: migUid, phase: "Failed", created: ago(400) });
      const f = detectOne(snap({ vmi: onNode1, migrations: [failed], events: [timeout, removed] }));
      expect(f.summary).toBe(
        `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 never got a node: the scheduler's reasons were not available. Virt-controller deleted it after the 5-minute unschedulable timeout and the migration failed; the VM keeps running on node-1.`,
      );
      expect(f.evidence.map((e) => e.field)).toEqual(["event SuccessfulDelete", "event FailedMigration"]);
      expect(f.fix.commands[0]).toBe(
        `kubectl get events -n demo --field-selector involvedObject.name=${tgt}`,
      );
    }
  });

  it("the VMIM's warning alone: the pod unnamed, found by its migration label", () => {
    const warning = vmimEvent(
      "migrationTargetPodUnschedulable",
      "Migration target pod for VMI [demo/db-1] is currently unschedulable.",
      ago(60),
      "Warning",
    );
    const f = detectOne(snap({ vmi: onNode1, migrations: [scheduling()], events: [warning] }));
    expect(f.summary).toMatch(
      /^The migration target pod of VirtualMachineInstanceMigration\/mig-1 never got a node:/,
    );
    expect(f.evidence).toEqual([
      {
        object: "VirtualMachineInstanceMigration/mig-1",
        field: "event migrationTargetPodUnschedulable",
        time: ago(60),
        text: "Migration target pod for VMI [demo/db-1] is currently unschedulable.",
      },
    ]);
    expect(f.fix.commands[0]).toBe(`kubectl get pods -n demo -l kubevirt.io/migrationJobUID=${migUid}`);
    // Not after the migration succeeded.
    expect(
      targetPodUnschedulable.detect(
        snap({ vmi: onNode1, migrations: [scheduling("Succeeded")], events: [warning] }),
      ),
    ).toEqual([]);
  });

  it("a pod that got a node, or a succeeded migration, was only briefly Pending", () => {
    const placed = { ...unscheduled(memoryMessage), spec: { nodeName: "node-2", containers: [] } };
    expect(
      targetPodUnschedulable.detect(snap({ vmi: onNode1, migrations: [scheduling()], pods: [placed] })),
    ).toEqual([]);
    expect(
      targetPodUnschedulable.detect(
        snap({ vmi: onNode1, migrations: [scheduling("Succeeded")], pods: [unscheduled(memoryMessage)] }),
      ),
    ).toEqual([]);
    // Scheduled=True is not unschedulable.
    const ok = unscheduled(memoryMessage);
    ok.status = { phase: "Pending", conditions: [{ type: "PodScheduled", status: "True" }] };
    expect(
      targetPodUnschedulable.detect(snap({ vmi: onNode1, migrations: [scheduling()], pods: [ok] })),
    ).toEqual([]);
  });

  it("FailedScheduling events of a pod gone, once its migration ended", () => {
    const fs = event({
      kind: "Pod",
      name: tgt,
      reason: "FailedScheduling",
      message: memoryMessage,
      lastTimestamp: ago(120),
    });
    const failed = migration({
      name: "mig-1",
      uid: migUid,
      phase: "Failed",
      created: ago(400),
      state: { targetPod: tgt },
    });
    const f = detectOne(snap({ vmi: onNode1, migrations: [failed], events: [fs] }));
    expect(f.summary).toContain("no other node has the CPU or memory the pod requests");
    expect(f.evidence).toEqual([
      { object: `Pod/${tgt}`, field: "event FailedScheduling", time: ago(120), text: memoryMessage },
    ]);
    // While it still runs, a vanished pod's old events are not enough.
    const running = migration({
      name: "mig-1",
      uid: migUid,
      phase: "Scheduling",
      created: ago(400),
      state: { targetPod: tgt },
    });
    expect(
      targetPodUnschedulable.detect(snap({ vmi: onNode1, migrations: [running], events: [fs] })),
    ).toEqual([]);
  });

  it("counts the target pods of the affected migrations, and prefers one unscheduled now", () => {
    const older = migration({ name: "mig-0", uid: "uid-0", phase: "Scheduling", created: ago(900) });
    const timeout = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-0",
      reason: "SuccessfulDelete",
      message: "unschedulable pod demo/virt-launcher-db-1-old timeout period exceeded",
    });
    const s = snap({
      vmi: onNode1,
      migrations: [older, scheduling()],
      pods: [unscheduled(memoryMessage)],
      events: [timeout],
    });
    expect(unschedulableTargets(s).map((t) => t.podName)).toEqual(["virt-launcher-db-1-old", tgt]);
    expect(detectOne(s).summary).toContain(
      `target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 never got a node (2 target pods in the affected migrations):`,
    );
  });

  it("without VMIMs, an unscheduled target pod still counts", () => {
    const f = detectOne(snap({ vmi: onNode1, pods: [unscheduled(memoryMessage)] }));
    expect(f.summary).toMatch(new RegExp(`^The migration target pod ${tgt} never got a node:`));
    expect(f.fix.commands).not.toContain("kvmig cancel db-1 -n demo");
  });

  it("missing events: named; lower only when the pod is not unscheduled now", () => {
    const missing = [{ what: "events in demo", why: "forbidden" }];
    const now = detectOne(
      snap({
        vmi: onNode1,
        migrations: [scheduling()],
        pods: [unscheduled(memoryMessage)],
        nodes: [node("node-1")],
        missing,
      }),
    );
    expect(now.confidence).toBe("high");
    expect(now.notChecked).toEqual(["events (FailedScheduling, migrationTargetPodUnschedulable)"]);
    const timeout = vmimEvent(
      "SuccessfulDelete",
      `unschedulable pod demo/${tgt} timeout period exceeded`,
      ago(50),
    );
    const gone = detectOne(
      snap({
        vmi: onNode1,
        migrations: [migration({ name: "mig-1", uid: migUid, phase: "Failed" })],
        events: [timeout],
        nodes: [node("node-1")],
        missing,
      }),
    );
    expect(gone.confidence).toBe("low");
  });

  describe("told by timing alone", () => {
    const created = (at: string, message = `Created migration target pod demo/${tgt}`) =>
      vmimEvent("SuccessfulCreate", message, at);
    const deleted = (at: string, message = `Deleted migration target pod demo/${tgt}`) =>
      vmimEvent("SuccessfulDelete", message, at);
    const failedAfter = (annotations?: Record<string, string>) => {
      const m = migration({
        name: "mig-1",
        uid: migUid,
        phase: "Failed",
        created: ago(2000),
        ...(annotations ? { annotations } : {}),
      });
      return m;
    };
    const removal = (seconds: number, m: VirtualMachineInstanceMigration = failedAfter()) =>
      removalsByTiming(
        snap({ migrations: [m], events: [created(ago(1500)), deleted(ago(1500 - seconds))] }),
        m,
      );

    it("a pod deleted 300 s (up to 120 s late, 5 s early) after its creation is the unschedulable timeout; 900 s the pending one", () => {
      expect(removal(295)[0]?.kind).toBe("unschedulable");
      expect(removal(294)).toEqual([]);
      expect(removal(420)[0]?.kind).toBe("unschedulable");
      expect(removal(421)).toEqual([]);
      expect(removal(895)[0]?.kind).toBe("pending");
      expect(removal(1080)[0]?.kind).toBe("pending");
      expect(removal(1081)).toEqual([]);
      expect(removal(300)).toEqual([
        {
          kind: "unschedulable",
          seconds: 300,
          evidence: {
            object: "VirtualMachineInstanceMigration/mig-1",
            field: "events SuccessfulCreate → SuccessfulDelete",
            time: ago(1200),
            text: "a target pod was deleted 300 s after it was created (virt-controller's unschedulable timeout is 300 s)",
          },
        },
      ]);
    });

    it("the VMIM's annotations set the timeouts", () => {
      expect(pendingPodTimeouts(undefined)).toEqual({ unschedulable: 300, pending: 900 });
      const m = failedAfter({
        "kubevirt.io/migrationUnschedulablePodTimeoutSeconds": "60",
        "kubevirt.io/migrationPendingPodTimeoutSeconds": "x",
      });
      expect(pendingPodTimeouts(m)).toEqual({ unschedulable: 60, pending: 900 });
      expect(
        pendingPodTimeouts(failedAfter({ "kubevirt.io/migrationPendingPodTimeoutSeconds": "-5" })),
      ).toEqual({ unschedulable: 300, pending: 900 });
      expect(removal(60, m)[0]?.kind).toBe("unschedulable");
    });

    it("a cancel, an attachment pod, a delete before any create, or an abort is not a timeout", () => {
      const m = failedAfter();
      const s = (events: ReturnType<typeof created>[]) =>
        removalsByTiming(snap({ migrations: [m], events }), m);
      expect(s([created(ago(1500)), deleted(ago(1200), "migration canceled")])).toEqual([]);
      expect(s([created(ago(1500), "Created attachment pod hp-volume-x"), deleted(ago(1200))])).toEqual([]);
      expect(s([deleted(ago(1200)), created(ago(1000))])).toEqual([]);
      const aborted = failedAfter();
      aborted.status = {
        ...aborted.status,
        conditions: [{ type: "migrationAbortRequested", status: "True" }],
      } as typeof aborted.status;
      expect(
        removalsByTiming(
          snap({ migrations: [aborted], events: [created(ago(1500)), deleted(ago(1200))] }),
          aborted,
        ),
      ).toEqual([]);
    });

    it("the newest creation before the deletion is the pod's", () => {
      const m = failedAfter();
      const found = removalsByTiming(
        snap({ migrations: [m], events: [created(ago(1900)), created(ago(1500)), deleted(ago(1200))] }),
        m,
      );
      expect(found.map((r) => r.seconds)).toEqual([300]);
    });

    it("a VMIM failed 300 s after Scheduling, never Scheduled, its pod gone or unplaced", () => {
      const byPhase = (transitions: Record<string, string>, pods: Pod[] = []) => {
        const m = migration({
          name: "mig-1",
          uid: migUid,
          phase: "Failed",
          created: ago(2000),
          transitions,
          state: { targetPod: tgt },
        });
        return removalsByTiming(snap({ migrations: [m], pods }), m);
      };
      expect(byPhase({ Scheduling: ago(1500), Failed: ago(1200) })).toEqual([
        {
          kind: "unschedulable",
          seconds: 300,
          evidence: {
            object: "VirtualMachineInstanceMigration/mig-1",
            field: "status.phaseTransitionTimestamps",
            time: ago(1200),
            text: "Scheduling → Failed after 300 s, never Scheduled (virt-controller's unschedulable timeout is 300 s)",
          },
        },
      ]);
      expect(byPhase({ Scheduling: ago(1500), Scheduled: ago(1400), Failed: ago(1200) })).toEqual([]);
      expect(byPhase({ Scheduling: ago(1500), Failed: ago(1300) })).toEqual([]);
      expect(byPhase({ Failed: ago(1200) })).toEqual([]);
      const placed = pod(tgt, { spec: { nodeName: "node-2", containers: [] } });
      expect(byPhase({ Scheduling: ago(1500), Failed: ago(1200) }, [placed])).toEqual([]);
      const unplaced = pod(tgt, { spec: { containers: [] } });
      expect(byPhase({ Scheduling: ago(1500), Failed: ago(1200) }, [unplaced])).toHaveLength(1);
      // Only for a failed VMIM.
      const running = migration({
        name: "mig-1",
        uid: migUid,
        phase: "Scheduling",
        transitions: { Scheduling: ago(1500), Failed: ago(1200) },
      });
      expect(removalsByTiming(snap({ migrations: [running] }), running)).toEqual([]);
    });

    it("reported at medium confidence, saying it was told from timing alone", () => {
      const m = failedAfter();
      const f = detectOne(
        snap({
          vmi: onNode1,
          migrations: [m],
          events: [created(ago(1500)), deleted(ago(1200))],
          nodes: [node("node-1")],
        }),
      );
      expect(f.confidence).toBe("medium");
      expect(f.summary).toBe(
        "The migration target pod of VirtualMachineInstanceMigration/mig-1 never got a node: the scheduler's reasons were not available. Virt-controller deleted it after the 5-minute unschedulable timeout and the migration failed; the VM keeps running on node-1.",
      );
      expect(f.notChecked).toEqual([
        "the scheduler's reasons (the target pod and its FailedScheduling events were not available)",
        "virt-controller's own word that the pod was unschedulable: told from the timing of its removal alone",
      ]);
      // The pending timeout is target-pod-failed's, not this.
      expect(
        targetPodUnschedulable.detect(
          snap({ vmi: onNode1, migrations: [m], events: [created(ago(1500)), deleted(ago(600))] }),
        ),
      ).toEqual([]);
    });
  });

  it("candidate nodes: Ready, not cordoned, untainted for scheduling, schedulable for KubeVirt, with the selector's labels", () => {
    const nodes = [
      node("a"),
      node("b", { ready: false }),
      node("c", { unschedulable: true }),
      node("d", { taint: "NoSchedule" }),
      node("e", { taint: "NoExecute" }),
      node("f", { taint: "PreferNoSchedule" }),
      node("g", { labels: { "kubevirt.io/schedulable": "false" } }),
      node("h", { labels: { zone: "x" } }),
    ];
    const s = snap({ nodes });
    expect(candidateNodes(s, [])).toEqual(["a", "f", "h"]);
    expect(candidateNodes(s, ["a"], { zone: "x", "kubernetes.io/hostname": "a" })).toEqual(["h"]);
  });
});
