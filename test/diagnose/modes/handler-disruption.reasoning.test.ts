// handler-disruption's reasoning on hand-built snapshots: the migration it looks at and its time
// window, each direct sign that virt-handler went away during it (a handler pod created or
// terminated then, the launchers' notify lines, the shutdown text, a stale heartbeat), the
// upgrade that supports it, and the confidence, severity and commands that follow.

import { describe, expect, it } from "vitest";
import {
  handlerDisruption,
  handlerDisruptionSignals,
} from "../../../src/diagnose/modes/handler-disruption.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { KubeVirt, Node, Pod, VirtualMachineInstanceMigrationState } from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const uid = "bbbbbbbb-0000-4000-8000-000000000001";
const srcPod = "virt-launcher-db-1-src01";
const tgtPod = "virt-launcher-db-1-tgt01";
const state: VirtualMachineInstanceMigrationState = {
  sourceNode: "node-1",
  targetNode: "node-2",
  sourcePod: srcPod,
  targetPod: tgtPod,
};

/** A migration created 600 s before the snapshot; Running, or Failed 100 s before it. */
function mig(
  phase: "Running" | "Failed" | "Succeeded" | "Scheduling",
  extra: Partial<VirtualMachineInstanceMigrationState> = {},
) {
  return migration({
    uid,
    name: "mig-1",
    phase,
    created: ago(600),
    transitions:
      phase === "Running" || phase === "Scheduling" ? { [phase]: ago(590) } : { [phase]: ago(100) },
    state: { ...state, ...extra },
  });
}

const notifyLine = (pod: string, at: string) => ({
  namespace: "demo",
  pod,
  container: "compute",
  lines: [JSON.stringify({ level: "error", msg: "Failed to connect to notify server", timestamp: at })],
});

function handler(name: string, node: string, created: string, parts: Partial<Pod> = {}): Pod {
  const p = pod(name, {
    labels: { "kubevirt.io": "virt-handler" },
    spec: { nodeName: node, containers: [] },
    ...parts,
  });
  p.metadata.creationTimestamp = created;
  return p;
}

function detectOne(s: Snapshot): Finding {
  const findings = handlerDisruption.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const summaryTail =
  "virt-handler carries the migration traffic through its proxy and tracks the domain; a restart mid-migration breaks the transfer or leaves it hanging.";

describe("handler-disruption reasoning", () => {
  it("notify lines of the migration's launcher alone: medium, a warning while it runs; the whole finding", () => {
    const s = snap({
      vmi: vmi({ phase: "Running", nodeName: "node-1" }),
      migrations: [mig("Running")],
      logs: [notifyLine(srcPod, ago(300))],
    });
    expect(detectOne(s)).toEqual({
      id: "handler-disruption",
      title: "virt-handler was disrupted during the migration",
      severity: "warning",
      confidence: "medium",
      summary: `While VirtualMachineInstanceMigration/mig-1 ran (still Running), virt-handler on node-1 or node-2 was not reachable or restarted. ${summaryTail}`,
      evidence: [
        {
          object: `Pod/${srcPod}`,
          field: "log compute",
          time: ago(300),
          text: "Failed to connect to notify server",
        },
      ],
      fix: {
        explanation:
          "Let the virt-handler rollout finish (every virt-handler pod Ready), check that the VM still runs on its source node, then migrate again. If the migration stays unfinished after virt-handler is back, cancel it; if the cancel does not complete, restart the VM (downtime).",
        commands: [
          "kubectl rollout status daemonset/virt-handler -n kubevirt",
          "kubectl get vmi db-1 -n demo -o wide",
          "kvmig cancel db-1 -n demo",
          "kvmig migrate db-1 -n demo",
        ],
      },
      docs: "https://github.com/kubevirt/kubevirt/issues/18670",
      notChecked: ["the virt-handler pods on node-1 and node-2 (restart counts and start times)"],
    });
  });

  it("a failed migration is an error, and there is nothing to cancel", () => {
    const f = detectOne(snap({ migrations: [mig("Failed")], logs: [notifyLine(srcPod, ago(300))] }));
    expect(f.severity).toBe("error");
    expect(f.summary).toMatch(
      /^While VirtualMachineInstanceMigration\/mig-1 ran \(it failed\), virt-handler on node-1 or node-2/,
    );
    expect(f.fix.explanation).toBe(
      "Let the virt-handler rollout finish (every virt-handler pod Ready), check that the VM still runs on its source node, then migrate again. ",
    );
    expect(f.fix.commands).toEqual([
      "kubectl rollout status daemonset/virt-handler -n kubevirt",
      "kubectl get vmi db-1 -n demo -o wide",
      "kvmig migrate db-1 -n demo",
    ]);
  });

  it("counts only what happened in the migration's window (up to a minute after it ended), on its pods", () => {
    const at = (t: string, pod = srcPod) =>
      handlerDisruption.detect(snap({ migrations: [mig("Failed")], logs: [notifyLine(pod, t)] }));
    expect(at(ago(601))).toEqual([]);
    expect(at(ago(600))).toHaveLength(1);
    expect(at(ago(40))).toHaveLength(1);
    expect(at(ago(39))).toEqual([]);
    expect(at(ago(300), tgtPod)).toHaveLength(1);
    expect(at(ago(300), "virt-launcher-web-2-x")).toEqual([]);
    // An undated line cannot be placed.
    const undated = {
      namespace: "demo",
      pod: srcPod,
      container: "compute",
      lines: ["Failed to connect to notify server"],
    };
    expect(handlerDisruption.detect(snap({ migrations: [mig("Failed")], logs: [undated] }))).toEqual([]);
  });

  it("quotes one notify line per pod, and recognizes each notify text", () => {
    const lines = [
      "Failed to connect to notify server",
      "Failed to send domain notify event",
      "failed to notify domain event",
    ].map((msg, i) => JSON.stringify({ level: "error", msg, timestamp: ago(300 - i) }));
    const f = detectOne(
      snap({
        migrations: [mig("Running")],
        logs: [{ namespace: "demo", pod: srcPod, container: "compute", lines }, notifyLine(tgtPod, ago(200))],
      }),
    );
    expect(f.evidence.map((e) => `${e.object} ${e.text}`)).toEqual([
      `Pod/${srcPod} Failed to connect to notify server`,
      `Pod/${tgtPod} Failed to connect to notify server`,
    ]);
    for (const line of lines) {
      expect(
        handlerDisruption.detect(
          snap({
            migrations: [mig("Running")],
            logs: [{ namespace: "demo", pod: srcPod, container: "compute", lines: [line] }],
          }),
        ),
      ).toHaveLength(1);
    }
  });

  it("without pod names in the state, any launcher's notify line counts", () => {
    const noPods = migration({
      uid,
      name: "mig-1",
      phase: "Running",
      created: ago(600),
      state: { sourceNode: "node-1" },
    });
    const f = detectOne(snap({ migrations: [noPods], logs: [notifyLine("virt-launcher-any", ago(300))] }));
    expect(f.summary).toContain("virt-handler on node-1 was not reachable");
    // No node known at all.
    const bare = migration({ uid, name: "mig-1", phase: "Running", created: ago(600) });
    const g = detectOne(snap({ migrations: [bare], logs: [notifyLine("virt-launcher-any", ago(300))] }));
    expect(g.summary).toContain("virt-handler on a node of the migration was not reachable");
    expect(g.notChecked).toEqual([
      "the virt-handler pods on the nodes of the migration (restart counts and start times)",
    ]);
  });

  it("the nodes include the VMI's node, once", () => {
    const s = snap({
      vmi: vmi({ phase: "Running", nodeName: "node-3" }),
      migrations: [mig("Running")],
      logs: [notifyLine(srcPod, ago(300))],
    });
    expect(detectOne(s).summary).toContain("virt-handler on node-1 or node-2 or node-3 was");
    const same = snap({
      vmi: vmi({ phase: "Running", nodeName: "node-1" }),
      migrations: [mig("Running")],
      logs: [notifyLine(srcPod, ago(300))],
    });
    expect(detectOne(same).summary).toContain("virt-handler on node-1 or node-2 was");
  });

  it("the VMI's state about this migration gives the nodes and pods", () => {
    const s = snap({
      vmi: vmi({
        phase: "Running",
        migrationState: { migrationUid: uid, sourceNode: "node-8", sourcePod: "virt-launcher-db-1-x" },
      }),
      migrations: [migration({ uid, name: "mig-1", phase: "Running", created: ago(600) })],
      logs: [notifyLine("virt-launcher-db-1-x", ago(300))],
    });
    expect(detectOne(s).summary).toContain("virt-handler on node-8 was");
  });

  it("picks the newest unfinished migration, else the newest failed one after the last success", () => {
    const old = migration({
      uid: "u-old",
      name: "mig-old",
      phase: "Failed",
      created: ago(3000),
      transitions: { Failed: ago(2900) },
      state,
    });
    const ok = migration({
      uid: "u-ok",
      name: "mig-ok",
      phase: "Succeeded",
      created: ago(2000),
      transitions: { Succeeded: ago(1900) },
      state,
    });
    const logs = [notifyLine(srcPod, ago(2950))];
    expect(handlerDisruption.detect(snap({ migrations: [old, ok], logs }))).toEqual([]);
    expect(detectOne(snap({ migrations: [old], logs })).summary).toContain("mig-old ran (it failed)");
    // A final migration's window ends at its end time; an unfinished one's at the snapshot.
    const w = handlerDisruptionSignals(
      snap({ migrations: [mig("Scheduling")], logs: [notifyLine(srcPod, ago(10))] }),
    )?.window;
    expect(w?.to).toBe(Date.parse(ago(0)));
    expect(w?.from).toBe(Date.parse(ago(600)));
    const ended = handlerDisruptionSignals(
      snap({ migrations: [mig("Failed", { endTimestamp: ago(200) })], logs: [notifyLine(srcPod, ago(300))] }),
    );
    expect(ended?.window.to).toBe(Date.parse(ago(200)));
    expect(
      handlerDisruption.detect(
        snap({ migrations: [mig("Succeeded")], logs: [notifyLine(srcPod, ago(300))] }),
      ),
    ).toEqual([]);
  });

  it("a virt-handler pod of a node of the migration created or terminated during it: high", () => {
    const created = handler("virt-handler-abcde", "node-2", ago(300));
    const f = detectOne(snap({ migrations: [mig("Running")], handlerPods: [created] }));
    expect(f.confidence).toBe("high");
    expect(f.evidence).toEqual([
      {
        object: "Pod/virt-handler-abcde",
        field: "metadata.creationTimestamp",
        time: ago(300),
        text: "created on node-2 during the migration",
      },
    ]);
    expect(f.notChecked).toEqual(["the virt-launcher logs of the migration"]);
    const restarted = handler("virt-handler-fghij", "node-1", ago(9000), {
      status: {
        phase: "Running",
        containerStatuses: [
          {
            name: "virt-handler",
            restartCount: 3,
            lastState: { terminated: { reason: "OOMKilled", exitCode: 137, finishedAt: ago(200) } },
          },
          { name: "other", lastState: { terminated: { finishedAt: ago(5000) } } },
        ],
      },
    });
    expect(detectOne(snap({ migrations: [mig("Running")], pods: [restarted] })).evidence).toEqual([
      {
        object: "Pod/virt-handler-fghij",
        field: "status.containerStatuses[virt-handler].lastState.terminated",
        time: ago(200),
        text: "OOMKilled (exit code 137), restartCount 3",
      },
    ]);
    const unknown = handler("virt-handler-klmno", "node-1", ago(9000), {
      status: {
        containerStatuses: [{ name: "virt-handler", lastState: { terminated: { finishedAt: ago(200) } } }],
      },
    });
    expect(detectOne(snap({ migrations: [mig("Running")], pods: [unknown] })).evidence[0]?.text).toBe(
      "terminated (exit code ?), restartCount ?",
    );
  });

  it("ignores virt-handler pods of other nodes, older ones, and counts a pod once when read twice", () => {
    const elsewhere = handler("virt-handler-zzzzz", "node-9", ago(300));
    expect(
      handlerDisruption.detect(snap({ migrations: [mig("Running")], handlerPods: [elsewhere] })),
    ).toEqual([]);
    const older = handler("virt-handler-yyyyy", "node-1", ago(9000));
    expect(handlerDisruption.detect(snap({ migrations: [mig("Running")], handlerPods: [older] }))).toEqual(
      [],
    );
    const twice = handler("virt-handler-abcde", "node-2", ago(300));
    expect(
      detectOne(snap({ migrations: [mig("Running")], handlerPods: [twice], pods: [twice] })).evidence,
    ).toHaveLength(1);
    // Found by its name alone (no label), and a pod without a node counts.
    const byName = pod("virt-handler-qwert", { spec: { containers: [] } });
    byName.metadata.creationTimestamp = ago(300);
    expect(detectOne(snap({ migrations: [mig("Running")], pods: [byName] })).evidence[0]?.text).toBe(
      "created on ? during the migration",
    );
    expect(
      handlerDisruption.detect(
        snap({
          migrations: [mig("Running")],
          pods: [{ ...byName, metadata: { ...byName.metadata, name: "virt-handler-qwerty" } }],
        }),
      ),
    ).toEqual([]);
  });

  it("virt-handler's shutdown text: the last event and the last log line in the window, high", () => {
    const text = "failed to open migration connection during virt-handler shutdown";
    const events = [
      event({ reason: "SyncFailed", message: `${text} 1`, lastTimestamp: ago(400) }),
      event({ reason: "SyncFailed", message: `${text} 2`, lastTimestamp: ago(300) }),
      event({ reason: "SyncFailed", message: `${text} 3`, lastTimestamp: ago(9000) }),
    ];
    const handlerLog = {
      namespace: "kubevirt",
      pod: "virt-handler-abcde",
      container: "virt-handler",
      lines: [1, 2].map((i) =>
        JSON.stringify({ level: "error", msg: `${text} log ${i}`, timestamp: ago(350 - i) }),
      ),
    };
    const f = detectOne(
      snap({
        migrations: [mig("Running")],
        events,
        logs: [handlerLog],
        handlerPods: [handler("virt-handler-abcde", "node-1", ago(9000))],
      }),
    );
    expect(f.confidence).toBe("high");
    expect(f.evidence.map((e) => e.text)).toEqual([`${text} 2`, `${text} log 2`]);
    expect(f.notChecked).toBeUndefined();
  });

  it("a stale heartbeat on a node of the migration (over 180 s)", () => {
    const node = (beat: string, schedulable?: string): Node => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: "node-2",
        annotations: { "kubevirt.io/heartbeat": beat },
        labels: schedulable ? { "kubevirt.io/schedulable": schedulable } : {},
      },
    });
    expect(handlerDisruption.detect(snap({ migrations: [mig("Running")], nodes: [node(ago(180))] }))).toEqual(
      [],
    );
    const f = detectOne(snap({ migrations: [mig("Running")], nodes: [node(ago(181), "false")] }));
    expect(f.evidence).toEqual([
      {
        object: "Node/node-2",
        field: "metadata.annotations[kubevirt.io/heartbeat]",
        time: ago(181),
        text: "last virt-handler heartbeat 181 s before the snapshot; kubevirt.io/schedulable=false",
      },
    ]);
    expect(f.confidence).toBe("medium");
    expect(
      detectOne(snap({ migrations: [mig("Running")], nodes: [node(ago(500), "true")] })).evidence[0]?.text,
    ).toBe("last virt-handler heartbeat 500 s before the snapshot");
    expect(
      handlerDisruption.detect(
        snap({
          migrations: [mig("Running")],
          nodes: [
            {
              ...node(ago(500)),
              metadata: { name: "node-9", annotations: { "kubevirt.io/heartbeat": ago(500) } },
            },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it("an upgrade under way or a workload-update migration supports it: high, and said", () => {
    const kubevirt = (status: Record<string, string>): KubeVirt =>
      ({
        apiVersion: "kubevirt.io/v1",
        kind: "KubeVirt",
        metadata: { name: "kv", namespace: "kv-ns" },
        spec: {},
        status,
      }) as KubeVirt;
    const base = { migrations: [mig("Running")], logs: [notifyLine(srcPod, ago(300))] };
    const deploying = detectOne(snap({ ...base, kubevirt: kubevirt({ phase: "Deploying" }) }));
    expect(deploying.confidence).toBe("high");
    expect(deploying.evidence.at(-1)).toEqual({
      object: "KubeVirt/kv",
      field: "status",
      text: "phase Deploying, observedKubeVirtVersion ?, targetKubeVirtVersion ?",
    });
    expect(deploying.summary.endsWith(`${summaryTail} A KubeVirt rollout was under way at the time.`)).toBe(
      true,
    );
    expect(deploying.fix.commands[0]).toBe("kubectl rollout status daemonset/virt-handler -n kv-ns");
    const versions = detectOne(
      snap({
        ...base,
        kubevirt: kubevirt({
          phase: "Deployed",
          observedKubeVirtVersion: "v1.5.0",
          targetKubeVirtVersion: "v1.6.0",
        }),
      }),
    );
    expect(versions.evidence.at(-1)?.text).toBe(
      "phase Deployed, observedKubeVirtVersion v1.5.0, targetKubeVirtVersion v1.6.0",
    );
    const settled = detectOne(
      snap({
        ...base,
        kubevirt: kubevirt({
          phase: "Deployed",
          observedKubeVirtVersion: "v1.6.0",
          targetKubeVirtVersion: "v1.6.0",
        }),
      }),
    );
    expect(settled.confidence).toBe("medium");
    expect(settled.evidence).toHaveLength(1);
    expect(
      detectOne(snap({ ...base, kubevirt: kubevirt({ phase: "Deployed", targetKubeVirtVersion: "v1.6.0" }) }))
        .evidence,
    ).toHaveLength(1);
    const workload = mig("Running");
    workload.metadata.annotations = { "kubevirt.io/workloadUpdateMigration": "" };
    const wu = detectOne(snap({ ...base, migrations: [workload] }));
    expect(wu.confidence).toBe("high");
    expect(wu.evidence.at(-1)).toEqual({
      object: "VirtualMachineInstanceMigration/mig-1",
      field: "metadata.annotations[kubevirt.io/workloadUpdateMigration]",
      text: "created by the workload updater (an upgrade is rolling out)",
    });
  });

  it("no migration, or one without times, gives nothing", () => {
    expect(handlerDisruption.detect(snap({ logs: [notifyLine(srcPod, ago(300))] }))).toEqual([]);
    const undated = migration({ uid, name: "mig-1", phase: "Running", state });
    undated.metadata.creationTimestamp = undefined;
    expect(
      handlerDisruption.detect(snap({ migrations: [undated], logs: [notifyLine(srcPod, ago(300))] })),
    ).toEqual([]);
    // The Pending transition stands in for a missing creation time.
    const pendingOnly = migration({
      uid,
      name: "mig-1",
      phase: "Running",
      state,
      transitions: { Pending: ago(600) },
    });
    pendingOnly.metadata.creationTimestamp = undefined;
    expect(
      handlerDisruption.detect(snap({ migrations: [pendingOnly], logs: [notifyLine(srcPod, ago(300))] })),
    ).toHaveLength(1);
  });
});
