// target-network-setup-failed's reasoning on hand-built snapshots: which FailedCreatePodSandBox
// events are network errors, the target pods they count on (not Ready, of an unfinished or
// timed-out migration), the bridge, network or port named from the text, a pod stuck before
// start without any event (five minutes, no volume or image cause), confidence, and the fix.

import { describe, expect, it } from "vitest";
import {
  networkSetupFailures,
  stuckBeforeStart,
  targetNetworkSetupFailed,
} from "../../../src/diagnose/modes/target-network-setup-failed.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { Node, Pod } from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const migUid = "bbbbbbbb-0000-4000-8000-000000000001";
const tgt = "virt-launcher-db-1-tgt01";

function target(
  parts: { node?: string; ready?: boolean; waiting?: string; created?: number; init?: string } = {},
): Pod {
  const p = pod(tgt, {
    labels: { "kubevirt.io/migrationJobUID": migUid },
    spec: {
      ...(parts.node === undefined ? { nodeName: "node-2" } : parts.node ? { nodeName: parts.node } : {}),
      containers: [],
    },
    status: {
      phase: "Pending",
      conditions: [{ type: "Ready", status: parts.ready ? "True" : "False" }],
      containerStatuses: [
        { name: "compute", state: { waiting: { reason: parts.waiting ?? "ContainerCreating" } } },
      ],
      ...(parts.init
        ? { initContainerStatuses: [{ name: "init", state: { waiting: { reason: parts.init } } }] }
        : {}),
    } as Pod["status"],
  });
  p.metadata.creationTimestamp = ago(parts.created ?? 120);
  return p;
}

const scheduling = (phase = "Scheduling") =>
  migration({ name: "mig-1", uid: migUid, phase, created: ago(200) });
const sandbox = (message: string | undefined, at = ago(60)) =>
  event({
    kind: "Pod",
    name: tgt,
    reason: "FailedCreatePodSandBox",
    ...(message === undefined ? {} : { message }),
    lastTimestamp: at,
  });

function node(name: string, ready = true, extra: Partial<Node> = {}): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    ...extra,
  } as Node;
}

function detectOne(s: Snapshot): Finding {
  const findings = targetNetworkSetupFailed.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const bridgeText =
  'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "abc": plugin type="bridge" failed (add): error adding container to network "demo/storage-nad": failed to find bridge br-storage';

describe("target-network-setup-failed reasoning", () => {
  it("a missing bridge on the target node: the whole finding, offering another usable node", () => {
    const s = snap({
      vmi: vmi({ phase: "Running", nodeName: "node-1" }),
      migrations: [scheduling()],
      pods: [target()],
      events: [sandbox(bridgeText)],
      nodes: [node("node-1"), node("node-2"), node("node-3"), node("node-4", false), node("node-5")],
    });
    expect(detectOne(s)).toEqual({
      id: "target-network-setup-failed",
      title: "Target pod's network cannot be set up on the target node",
      severity: "error",
      confidence: "high",
      summary: `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 was placed on node-2 but stays ContainerCreating: the bridge br-storage for network demo/storage-nad does not exist on node-2. The migration waits in Scheduling until virt-controller's 15-minute pending timeout deletes the pod and fails it; the VM keeps running on its source node.`,
      evidence: [
        {
          object: `Pod/${tgt}`,
          field: "status",
          text: "phase Pending on node node-2, containers waiting: ContainerCreating",
        },
        { object: `Pod/${tgt}`, field: "event FailedCreatePodSandBox", time: ago(60), text: bridgeText },
      ],
      fix: {
        explanation:
          "Create the bridge br-storage on node-2 (or fix the node's network configuration), or keep the VM off that node by migrating it to a node where the network works (node-3, node-5 look usable). Look at the CNI pods on the node for the cause.",
        commands: [
          `kubectl describe pod ${tgt} -n demo`,
          "kubectl get network-attachment-definitions storage-nad -n demo -o yaml",
          "kubectl get pods -A -o wide --field-selector spec.nodeName=node-2",
          "kvmig cancel db-1 -n demo",
          "kvmig migrate db-1 -n demo --target-node node-3",
        ],
      },
      docs: "https://kubevirt.io/user-guide/network/interfaces_and_networks/",
      notChecked: undefined,
    });
  });

  it("names a port that never became ready, a network in brackets, a bridge that does not exist, or just the CNI", () => {
    const summary = (message: string) =>
      detectOne(snap({ migrations: [scheduling()], pods: [target()], events: [sandbox(message)] })).summary;
    expect(summary("CNI: interface ovn-abc123 is not ready")).toContain(
      ": the pod's network port ovn-abc123 never became ready.",
    );
    expect(summary("multus: [demo/virt-launcher:storage-net]: error")).toContain(
      ": the CNI plugin failed to add the pod to network storage-net.",
    );
    expect(summary('CNI failed: bridge "br1" not found')).toContain(
      ": the bridge br1 does not exist on node-2.",
    );
    expect(summary("CNI failed: bridge br2 does not exist")).toContain(
      ": the bridge br2 does not exist on node-2.",
    );
    expect(summary("Link not found")).toContain(": the CNI plugin failed to add the pod to its network.");
    const port = detectOne(
      snap({ migrations: [scheduling()], pods: [target()], events: [sandbox("interface p1 is not ready")] }),
    );
    expect(port.fix.explanation).toMatch(
      /^Fix the CNI plugin on node-2, or keep the VM off that node\. Look at/,
    );
  });

  it("counts only network sandbox errors, or text-less ones, since the migration began", () => {
    const count = (events: ReturnType<typeof sandbox>[]) =>
      targetNetworkSetupFailed.detect(snap({ migrations: [scheduling()], pods: [target()], events })).length;
    for (const text of [
      "failed to set up network for sandbox",
      "error adding container to network",
      "multus error",
      "plugin type=ovn",
      "failed to find bridge x",
      "interface eth0 is not ready",
    ]) {
      expect(count([sandbox(text)]), text).toBe(1);
    }
    expect(count([sandbox("failed to pull pause image")])).toBe(0);
    expect(count([sandbox(bridgeText, ago(300))])).toBe(0);
    expect(count([{ ...sandbox(bridgeText), reason: "FailedMount" }])).toBe(0);
  });

  it("a text-less sandbox error: one step lower, and says the text was missing", () => {
    const f = detectOne(snap({ migrations: [scheduling()], pods: [target()], events: [sandbox(undefined)] }));
    expect(f.confidence).toBe("medium");
    expect(f.notChecked).toEqual([
      "the sandbox error's text (the events carry no message), so which network failed",
    ]);
    expect(f.summary).toContain(": the CNI plugin failed to add the pod to its network.");
  });

  it("ignores a Ready target pod, and a succeeded migration", () => {
    expect(
      targetNetworkSetupFailed.detect(
        snap({ migrations: [scheduling()], pods: [target({ ready: true })], events: [sandbox(bridgeText)] }),
      ),
    ).toEqual([]);
    expect(
      targetNetworkSetupFailed.detect(
        snap({ migrations: [scheduling("Succeeded")], pods: [target()], events: [sandbox(bridgeText)] }),
      ),
    ).toEqual([]);
  });

  it("a pod deleted by the pending timeout: medium, the deletion and the failure quoted", () => {
    const timeout = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-1",
      reason: "SuccessfulDelete",
      type: "Normal",
      message: `pending pod demo/${tgt} timeout period exceeded`,
      lastTimestamp: ago(20),
    });
    const removed = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-1",
      reason: "FailedMigration",
      message: "migration failed: target pod was removed",
      lastTimestamp: ago(19),
    });
    const scheduled = event({
      kind: "Pod",
      name: tgt,
      reason: "Scheduled",
      type: "Normal",
      message: `Successfully assigned demo/${tgt} to node-7`,
    });
    const s = snap({
      migrations: [scheduling("Failed")],
      events: [scheduled, sandbox(bridgeText), timeout, removed],
    });
    const f = detectOne(s);
    expect(f.confidence).toBe("medium");
    expect(f.notChecked).toEqual(["the target pod itself (it was deleted; only its events remain)"]);
    expect(f.summary).toBe(
      `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 was placed on node-7 but stays ContainerCreating: the bridge br-storage for network demo/storage-nad does not exist on node-7. Virt-controller deleted it after the 15-minute pending timeout and the migration failed; the VM keeps running on its source node.`,
    );
    expect(f.evidence.map((e) => e.field)).toEqual([
      "event FailedCreatePodSandBox",
      "event SuccessfulDelete",
      "event FailedMigration",
    ]);
    expect(f.fix.commands).toEqual([
      "kubectl get network-attachment-definitions storage-nad -n demo -o yaml",
      "kubectl get pods -A -o wide --field-selector spec.nodeName=node-7",
    ]);
    // A pod gone without the timeout (cancelled) is not this.
    expect(
      targetNetworkSetupFailed.detect(
        snap({ migrations: [scheduling("Failed")], events: [sandbox(bridgeText)] }),
      ),
    ).toEqual([]);
  });

  it("the node from the Scheduled event's host when its text does not name one; unknown otherwise", () => {
    const timeout = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-1",
      reason: "SuccessfulDelete",
      message: `pending pod ${tgt} timeout period exceeded`,
    });
    const host = event({
      kind: "Pod",
      name: tgt,
      reason: "Scheduled",
      type: "Normal",
      message: "assigned",
      source: { host: "node-9" },
    });
    expect(
      detectOne(snap({ migrations: [scheduling("Failed")], events: [host, sandbox("CNI failed"), timeout] }))
        .summary,
    ).toContain("was placed on node-9 but");
    const f = detectOne(
      snap({ migrations: [scheduling("Failed")], events: [sandbox("CNI failed"), timeout] }),
    );
    expect(f.summary).toContain("was placed on a node but");
    expect(f.notChecked).toContain("which node the target pod was on");
    expect(f.fix.explanation).toMatch(/^Fix the CNI plugin on the target node, or keep/);
  });

  it("without VMIMs any target pod counts; with missing events or logs it says so", () => {
    const f = detectOne(
      snap({
        pods: [target()],
        events: [sandbox(bridgeText)],
        missing: [
          { what: "events in demo", why: "forbidden" },
          { what: "logs of virt-launcher", why: "forbidden" },
        ],
      }),
    );
    expect(f.confidence).toBe("medium");
    expect(f.summary).toContain(`The migration target pod ${tgt} was placed on node-2`);
    expect(f.summary).toContain("The migration waits in Scheduling until");
    expect(f.notChecked).toEqual(["the CNI plugin's own logs on the node (diagnose does not read them)"]);
  });

  it("phase waiting is named; a pod without status says ?", () => {
    const s = snap({
      migrations: [scheduling("PreparingTarget")],
      pods: [target()],
      events: [sandbox(bridgeText)],
    });
    expect(detectOne(s).summary).toContain("The migration waits in PreparingTarget until");
    const bare = { ...target(), status: undefined };
    const g = detectOne(snap({ migrations: [scheduling()], pods: [bare], events: [sandbox(bridgeText)] }));
    expect(g.evidence[0]?.text).toBe("phase ? on node node-2");
  });

  describe("stuck before start, with no sandbox event", () => {
    it("five minutes on a node before any container starts: low, and says what it read", () => {
      const s = snap({ migrations: [scheduling()], pods: [target({ created: 300 })] });
      const f = detectOne(s);
      expect(f.confidence).toBe("low");
      expect(f.summary).toBe(
        `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 was placed on node-2 but has not started: it has waited 5 min without starting a container, the state of a pod whose sandbox network the CNI plugin has not set up (no event in the snapshot names the cause). The migration waits in Scheduling until virt-controller's 15-minute pending timeout deletes the pod and fails it; the VM keeps running on its source node.`,
      );
      expect(f.evidence[1]).toEqual({
        object: `Pod/${tgt}`,
        field: "metadata.creationTimestamp",
        time: ago(300),
        text: "placed on node-2 5 min before the snapshot; no container has started, and no events were in the snapshot to say why",
      });
      expect(f.notChecked).toEqual([
        "the pod's events (none in the snapshot), so a volume that cannot attach or mount is not ruled out",
        "a FailedCreatePodSandBox event or CNI error naming the network (none in the snapshot): the wait is read from the pod's state, before its sandbox, where the CNI plugins run, and its volumes are ready",
      ]);
      expect(f.fix.commands.slice(0, 2)).toEqual([
        `kubectl describe pod ${tgt} -n demo`,
        `kubectl get events -n demo --field-selector involvedObject.name=${tgt}`,
      ]);
      expect(
        targetNetworkSetupFailed.detect(
          snap({ migrations: [scheduling()], pods: [target({ created: 299 })] }),
        ),
      ).toEqual([]);
      // Not for a migration that has ended.
      expect(
        targetNetworkSetupFailed.detect(
          snap({ migrations: [scheduling("Failed")], pods: [target({ created: 600 })] }),
        ),
      ).toEqual([]);
    });

    it("what keeps it from counting: not placed, Ready, deleting, started, image pull, volume event", () => {
      const s = snap();
      expect(stuckBeforeStart(s, target({ created: 600 }))).toBe(600);
      expect(stuckBeforeStart(s, target({ created: 600, node: "" }))).toBeUndefined();
      expect(stuckBeforeStart(s, target({ created: 600, ready: true }))).toBeUndefined();
      const deleting = target({ created: 600 });
      deleting.metadata.deletionTimestamp = ago(5);
      expect(stuckBeforeStart(s, deleting)).toBeUndefined();
      const started = target({ created: 600 });
      started.status = {
        ...started.status,
        containerStatuses: [{ name: "compute", state: { running: {} } }],
      };
      expect(stuckBeforeStart(s, started)).toBeUndefined();
      const ended = target({ created: 600 });
      ended.status = {
        ...ended.status,
        containerStatuses: [{ name: "compute", state: { terminated: { exitCode: 1 } } }],
      };
      expect(stuckBeforeStart(s, ended)).toBeUndefined();
      expect(stuckBeforeStart(s, target({ created: 600, waiting: "ImagePullBackOff" }))).toBeUndefined();
      expect(stuckBeforeStart(s, target({ created: 600, waiting: "CrashLoopBackOff" }))).toBeUndefined();
      expect(stuckBeforeStart(s, target({ created: 600, waiting: "PodInitializing" }))).toBe(600);
      expect(stuckBeforeStart(s, target({ created: 600, waiting: "Other", init: "PodInitializing" }))).toBe(
        600,
      );
      expect(stuckBeforeStart(s, target({ created: 600, init: "ErrImagePull" }))).toBeUndefined();
      for (const reason of ["FailedMount", "FailedAttachVolume", "FailedMapVolume"]) {
        const withVolume = snap({ events: [event({ kind: "Pod", name: tgt, reason, message: "x" })] });
        expect(stuckBeforeStart(withVolume, target({ created: 600 })), reason).toBeUndefined();
      }
      const otherEvent = snap({
        events: [event({ kind: "Pod", name: tgt, reason: "Pulled", type: "Normal", message: "x" })],
      });
      expect(stuckBeforeStart(otherEvent, target({ created: 600 }))).toBe(600);
      const undated = target({ created: 600 });
      undated.metadata.creationTimestamp = undefined;
      expect(stuckBeforeStart(s, undated)).toBeUndefined();
    });

    it("a sandbox failure of the same migration wins over a stuck pod", () => {
      const failures = networkSetupFailures(
        snap({ migrations: [scheduling()], pods: [target({ created: 600 })], events: [sandbox(bridgeText)] }),
      );
      expect(failures).toHaveLength(1);
      expect(failures[0]?.stuckFor).toBeUndefined();
    });
  });

  it("prefers a failure whose pod is still there", () => {
    const other = migration({ name: "mig-0", uid: "uid-0", phase: "Scheduling", created: ago(250) });
    const gone = event({
      kind: "Pod",
      name: "virt-launcher-db-1-gone",
      reason: "FailedCreatePodSandBox",
      message: "CNI failed",
      lastTimestamp: ago(30),
    });
    const timeout = event({
      kind: "VirtualMachineInstanceMigration",
      name: "mig-0",
      reason: "SuccessfulDelete",
      message: "pending pod virt-launcher-db-1-gone timeout period exceeded",
    });
    const s = snap({
      migrations: [other, scheduling()],
      pods: [target()],
      events: [gone, timeout, sandbox(bridgeText)],
    });
    expect(networkSetupFailures(s).map((f) => f.podName)).toEqual(["virt-launcher-db-1-gone", tgt]);
    expect(detectOne(s).summary).toContain(`target pod ${tgt} of`);
  });
});
