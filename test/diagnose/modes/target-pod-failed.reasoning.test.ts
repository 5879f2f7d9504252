// target-pod-failed's reasoning on hand-built snapshots: each way a target pod dies (OOM, evicted,
// failed, QEMU not starting, deleted, scheduled onto the source node, the pending timeout, the
// controller's shutdown or removal text), which one is reported first, what other rules explain
// instead (a cancel), the aftermath after the migration ended, confidence, and the fix per kind.

import { describe, expect, it } from "vitest";
import { targetPodFailed } from "../../../src/diagnose/modes/target-pod-failed.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { Node, Pod, VirtualMachineInstanceMigrationState } from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const migUid = "bbbbbbbb-0000-4000-8000-000000000001";
const tgt = "virt-launcher-db-1-tgt01";

function failedMig(state: VirtualMachineInstanceMigrationState = {}, phase = "Failed") {
  return migration({
    name: "mig-1",
    uid: migUid,
    phase,
    created: ago(600),
    transitions:
      phase === "Failed"
        ? { Scheduling: ago(590), Running: ago(500), Failed: ago(100) }
        : { Running: ago(500) },
    state: { sourceNode: "node-1", ...state },
  });
}

function target(status: Pod["status"], node = "node-2", extra: Partial<Pod["metadata"]> = {}): Pod {
  const p = pod(tgt, {
    labels: { "kubevirt.io/migrationJobUID": migUid },
    spec: { nodeName: node, containers: [] },
    status,
  });
  Object.assign(p.metadata, extra);
  return p;
}

function readyNode(name: string): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  };
}

const onVmim = (reason: string, message: string, at = ago(100)) =>
  event({ kind: "VirtualMachineInstanceMigration", name: "mig-1", reason, message, lastTimestamp: at });
const shutdownEvent = onVmim(
  "FailedMigration",
  "Migration failed because target pod shutdown during migration",
);

function detectOne(s: Snapshot): Finding {
  const findings = targetPodFailed.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const base = { vmi: vmi({ phase: "Running", nodeName: "node-1" }) };

describe("target-pod-failed reasoning", () => {
  it("an OOM-killed target pod: the whole finding, migrating to another usable node", () => {
    const oom = target({
      phase: "Failed",
      containerStatuses: [
        {
          name: "compute",
          state: { terminated: { reason: "OOMKilled", exitCode: 137, finishedAt: ago(120) } },
        },
      ],
    });
    const killing = event({
      kind: "Pod",
      name: tgt,
      reason: "OOMKilling",
      message: "Memory cgroup out of memory",
      lastTimestamp: ago(121),
    });
    const s = snap({
      ...base,
      migrations: [failedMig()],
      pods: [oom],
      events: [killing, shutdownEvent],
      nodes: [readyNode("node-1"), readyNode("node-2"), readyNode("node-3")],
    });
    expect(detectOne(s)).toEqual({
      id: "target-pod-failed",
      title: "Migration target pod failed",
      severity: "error",
      confidence: "high",
      summary: `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 was OOM-killed on node-2: the target launcher needed more memory than its limit while receiving the guest. The VM keeps running on its source node; the migration failed.`,
      evidence: [
        {
          object: `Pod/${tgt}`,
          field: "status.containerStatuses[compute]",
          text: "terminated: OOMKilled (exit code 137)",
        },
        {
          object: `Pod/${tgt}`,
          field: "event OOMKilling",
          time: ago(121),
          text: "Memory cgroup out of memory",
        },
        {
          object: "VirtualMachineInstanceMigration/mig-1",
          field: "event FailedMigration",
          time: ago(100),
          text: "Migration failed because target pod shutdown during migration",
        },
      ],
      fix: {
        explanation:
          "Give the launcher more memory overhead (the KubeVirt CR's additionalGuestMemoryOverheadRatio, or a larger memory limit on the VM), check the target node for memory pressure, then migrate again.",
        commands: [
          `kubectl describe pod ${tgt} -n demo`,
          "kubectl describe node node-2",
          "kvmig migrate db-1 -n demo --target-node node-3",
        ],
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: undefined,
      causedBy: undefined,
    });
  });

  it("an OOM kill counts even after the migration ended; other stops after the end are aftermath", () => {
    const late = (reason: string) =>
      target({
        phase: "Failed",
        containerStatuses: [
          { name: "compute", lastState: { terminated: { reason, exitCode: 1, finishedAt: ago(50) } } },
        ],
      });
    expect(
      detectOne(snap({ ...base, migrations: [failedMig()], pods: [late("OOMKilled")] })).summary,
    ).toContain("was OOM-killed");
    // Failed after the end: not the cause, and nothing else to report.
    expect(
      targetPodFailed.detect(snap({ ...base, migrations: [failedMig()], pods: [late("Error")] })),
    ).toEqual([]);
    // Within five seconds of the end still counts.
    const atEnd = target({
      phase: "Failed",
      containerStatuses: [
        { name: "compute", state: { terminated: { reason: "Error", exitCode: 1, finishedAt: ago(96) } } },
      ],
    });
    expect(detectOne(snap({ ...base, migrations: [failedMig()], pods: [atEnd] })).evidence[0]?.text).toBe(
      "Failed, compute terminated: Error (exit code 1)",
    );
    const unknownExit = target({
      phase: "Failed",
      containerStatuses: [{ name: "compute", state: { terminated: { reason: "OOMKilled" } } }],
    });
    expect(
      detectOne(snap({ ...base, migrations: [failedMig()], pods: [unknownExit] })).evidence[0]?.text,
    ).toBe("terminated: OOMKilled (exit code ?)");
  });

  it("an evicted pod: the kubelet's message, the node to look at", () => {
    const ev = target({
      phase: "Failed",
      reason: "Evicted",
      message: "The node was low on resource: memory.",
    });
    const f = detectOne(snap({ ...base, migrations: [failedMig()], pods: [ev] }));
    expect(f.evidence[0]).toEqual({
      object: `Pod/${tgt}`,
      field: "status.reason",
      text: "Evicted: The node was low on resource: memory.",
    });
    expect(f.summary).toBe(
      `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 was evicted on node-2 before the migration finished. The VM keeps running on its source node; the migration failed.`,
    );
    expect(f.fix).toEqual({
      explanation:
        "Look at the target node (memory or disk pressure, a drain, a taint) and migrate again, to another node if that one keeps evicting.",
      commands: [
        `kubectl describe pod ${tgt} -n demo`,
        "kubectl describe node node-2",
        "kvmig migrate db-1 -n demo",
      ],
    });
    const bare = target({ phase: "Failed", reason: "Evicted" });
    expect(detectOne(snap({ ...base, migrations: [failedMig()], pods: [bare] })).evidence[0]?.text).toBe(
      "Evicted:",
    );
  });

  it("a failed pod: its reason and compute's end, the compute log to read", () => {
    const failed = target({
      phase: "Failed",
      reason: "Error",
      containerStatuses: [
        { name: "compute", state: { terminated: { reason: "Error", exitCode: 2, finishedAt: ago(150) } } },
      ],
    });
    const f = detectOne(snap({ ...base, migrations: [failedMig()], pods: [failed] }));
    expect(f.evidence[0]?.text).toBe("Failed (Error), compute terminated: Error (exit code 2)");
    expect(f.fix).toEqual({
      explanation:
        "Read the target pod's compute log and the node's state for the cause, then migrate again.",
      commands: [
        `kubectl describe pod ${tgt} -n demo`,
        `kubectl logs ${tgt} -n demo -c compute`,
        "kubectl describe node node-2",
        "kvmig migrate db-1 -n demo",
      ],
    });
    const plain = detectOne(
      snap({ ...base, migrations: [failedMig()], pods: [target({ phase: "Failed" })] }),
    );
    expect(plain.evidence[0]?.text).toBe("Failed");
    const noReason = target({
      phase: "Failed",
      containerStatuses: [{ name: "compute", state: { terminated: {} } }],
    });
    expect(detectOne(snap({ ...base, migrations: [failedMig()], pods: [noReason] })).evidence[0]?.text).toBe(
      "Failed, compute terminated: ? (exit code ?)",
    );
    // A running pod is not a failure.
    expect(
      targetPodFailed.detect(
        snap({ ...base, migrations: [failedMig()], pods: [target({ phase: "Running" })] }),
      ),
    ).toEqual([]);
  });

  it("deleted before the migration ended: removed, and says when its node is cordoned", () => {
    const deleted = target({ phase: "Running" }, "node-2", { deletionTimestamp: ago(200) });
    const cordoned: Node = { ...readyNode("node-2"), spec: { unschedulable: true } };
    const f = detectOne(snap({ ...base, migrations: [failedMig()], pods: [deleted], nodes: [cordoned] }));
    expect(f.evidence[0]).toEqual({
      object: `Pod/${tgt}`,
      field: "metadata.deletionTimestamp",
      text: `deleted at ${ago(200)}, before the migration ended; its node node-2 is cordoned (drained)`,
    });
    expect(f.summary).toContain("was removed during the migration.");
    expect(f.confidence).toBe("medium");
    expect(f.fix.explanation).toBe(
      "Find who deleted the target pod (events, a controller, an eviction), then migrate again.",
    );
    const g = detectOne(
      snap({ ...base, migrations: [failedMig()], pods: [deleted], nodes: [readyNode("node-2")] }),
    );
    expect(g.evidence[0]?.text).toBe(`deleted at ${ago(200)}, before the migration ended`);
    // Deleted after the end: cleanup.
    const after = target({ phase: "Running" }, "node-2", { deletionTimestamp: ago(50) });
    expect(targetPodFailed.detect(snap({ ...base, migrations: [failedMig()], pods: [after] }))).toEqual([]);
  });

  it("QEMU not starting: from error (or level-less) lines of the target pod, not another rule's texts", () => {
    const logs = (lines: string[], p = tgt) => [{ namespace: "demo", pod: p, container: "compute", lines }];
    const line = (msg: string, level?: string) =>
      JSON.stringify({ ...(level ? { level } : {}), msg, timestamp: ago(300) });
    const run = (l: ReturnType<typeof logs>) =>
      targetPodFailed.detect(
        snap({ ...base, migrations: [failedMig()], pods: [target({ phase: "Running" })], logs: l }),
      );
    const [f] = run(
      logs([
        line("qemu unexpectedly closed the monitor: 1", "error"),
        line("failed to start domain 2", "error"),
        line("Failed to start VirtualMachineInstance 3"),
      ]),
    );
    expect(f?.summary).toBe(
      `QEMU could not start in the migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 on node-2, so there was nothing to receive the guest. The VM keeps running on its source node; the migration failed.`,
    );
    expect(f?.evidence.map((e) => e.text)).toEqual([
      "failed to start domain 2",
      "Failed to start VirtualMachineInstance 3",
    ]);
    expect(f?.fix.explanation).toBe(
      "Read the QEMU error in the target launcher's log: it names what the target node lacks (memory, hugepages, a device). Fix the node or pick another, then migrate again.",
    );
    expect(f?.fix.commands[1]).toBe(`kubectl logs ${tgt} -n demo -c compute`);
    expect(run(logs([line("process exited while connecting to monitor", "info")]))).toEqual([]);
    expect(run(logs([line("unable to map backing store")]))).toHaveLength(1);
    expect(
      run(
        logs([line("qemu unexpectedly closed the monitor: guest CPU doesn't match specification", "error")]),
      ),
    ).toEqual([]);
    expect(run(logs([line("failed to start domain: Userfaultfd not available", "error")]))).toEqual([]);
    expect(
      run(logs([line("qemu unexpectedly closed the monitor", "error")], "virt-launcher-db-1-src")),
    ).toEqual([]);
  });

  it("a target pod on the source node: first, with its own docs and fix", () => {
    const same = target({ phase: "Running" }, "node-1");
    const s = snap({
      ...base,
      migrations: [failedMig({ targetNode: "node-1" })],
      pods: [same],
      events: [shutdownEvent],
      nodes: [readyNode("node-1"), readyNode("node-3")],
    });
    const f = detectOne(s);
    expect(f.summary).toBe(
      `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 was scheduled onto node-1, the node the VM already runs on, so the two launchers collide there and the target never becomes usable; the migration times out with the target pod shut down. The VM keeps running on its source node; the migration failed.`,
    );
    expect(f.evidence).toEqual([
      { object: `Pod/${tgt}`, field: "spec.nodeName", text: "node-1 (the source node)" },
      {
        object: "VirtualMachineInstance/db-1",
        field: "status.migrationState",
        text: "sourceNode node-1, targetNode node-1",
      },
      {
        object: "VirtualMachineInstanceMigration/mig-1",
        field: "event FailedMigration",
        time: ago(100),
        text: "Migration failed because target pod shutdown during migration",
      },
    ]);
    expect(f.docs).toBe("https://github.com/kubevirt/kubevirt/issues/18946");
    expect(f.fix).toEqual({
      explanation:
        "The target pod must land on another node: migrate again naming a different node, and check why the scheduler allowed the source node (a missing anti-affinity, or a node-name override).",
      commands: [
        `kubectl describe pod ${tgt} -n demo`,
        "kubectl describe node node-1",
        "kvmig migrate db-1 -n demo --target-node node-3",
      ],
    });
    // Without the state naming the target node, only the pod line.
    const g = detectOne(snap({ ...base, migrations: [failedMig()], pods: [same] }));
    expect(g.evidence).toEqual([
      { object: `Pod/${tgt}`, field: "spec.nodeName", text: "node-1 (the source node)" },
    ]);
  });

  it("reports the most telling kind first, with the evidence of all", () => {
    const both = target(
      {
        phase: "Failed",
        reason: "Evicted",
        containerStatuses: [
          { name: "compute", state: { terminated: { reason: "OOMKilled", exitCode: 137 } } },
        ],
      },
      "node-1",
    );
    const f = detectOne(snap({ ...base, migrations: [failedMig()], pods: [both] }));
    expect(f.summary).toContain("was scheduled onto node-1, the node the VM already runs on");
    expect(f.evidence.map((e) => e.field)).toEqual(["status.containerStatuses[compute]", "spec.nodeName"]);
  });

  it("only the controller's text left: shutdown or removal, medium, the pod not available", () => {
    const f = detectOne(snap({ ...base, migrations: [failedMig()], events: [shutdownEvent] }));
    expect(f.confidence).toBe("medium");
    // With no pod name known the summary says "The migration target pod the target pod of ..." (reported).
    expect(f.summary).toContain(
      "of VirtualMachineInstanceMigration/mig-1 shut down during the migration. The VM keeps running on its source node; the migration failed.",
    );
    expect(f.notChecked).toEqual(["the target pod's status (the pod was not available)"]);
    expect(f.fix).toEqual({
      explanation:
        "Look at the target node and the target pod's events for why it stopped, then migrate again.",
      commands: ["kvmig migrate db-1 -n demo"],
    });
    const removedEvent = onVmim(
      "FailedMigration",
      "Migration target pod was removed during active migration.",
    );
    const g = detectOne(
      snap({ ...base, migrations: [failedMig({ targetPod: tgt })], events: [removedEvent] }),
    );
    expect(g.summary).toContain(
      `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 was removed during the migration.`,
    );
    // The VMI's event naming the migration's uid, in the older lower-case words.
    const onVmi = event({
      reason: "FailedMigration",
      message: `VirtualMachineInstance migration uid ${migUid} failed. reason: target pod is down`,
    });
    expect(detectOne(snap({ ...base, migrations: [failedMig()], events: [onVmi] })).summary).toContain(
      "shut down during the migration",
    );
    const otherUid = event({
      reason: "FailedMigration",
      message: "VirtualMachineInstance migration uid other failed. reason: target pod is down",
    });
    expect(targetPodFailed.detect(snap({ ...base, migrations: [failedMig()], events: [otherUid] }))).toEqual(
      [],
    );
  });

  it("missing logs and events are named; missing events lower the confidence", () => {
    const missing = [
      { what: "logs of virt-launcher", why: "forbidden" },
      { what: "events in demo", why: "forbidden" },
    ];
    const f = detectOne(snap({ ...base, migrations: [failedMig()], events: [shutdownEvent], missing }));
    expect(f.confidence).toBe("low");
    expect(f.notChecked).toEqual([
      "the target pod's status (the pod was not available)",
      "the target launcher's log (why QEMU or the launcher stopped)",
      "events (Evicted, FailedMigration)",
    ]);
    const ev = target({ phase: "Failed", reason: "Evicted" });
    const g = detectOne(snap({ ...base, migrations: [failedMig()], pods: [ev], missing }));
    expect(g.confidence).toBe("medium");
    expect(g.notChecked).toEqual(["events (Evicted, FailedMigration)"]);
  });

  it("the pending timeout with nothing to explain it: medium, and what to look at next time", () => {
    const timeout = onVmim("SuccessfulDelete", `pending pod demo/${tgt} timeout period exceeded`);
    const f = detectOne(snap({ ...base, migrations: [failedMig()], events: [timeout, shutdownEvent] }));
    expect(f.confidence).toBe("medium");
    expect(f.summary).toContain(
      `The migration target pod ${tgt} of VirtualMachineInstanceMigration/mig-1 never became ready and virt-controller deleted it after the 15-minute pending timeout; no network, storage or scheduling error explains why.`,
    );
    expect(f.notChecked).toBeUndefined();
    expect(f.fix.explanation).toBe(
      "Describe the target pod's events next time before the timeout (image pulls, init containers, volumes), check the target node, then migrate again.",
    );
  });

  it("says nothing about a cancelled or a succeeded migration", () => {
    const ev = target({ phase: "Failed", reason: "Evicted" });
    const aborted = failedMig();
    aborted.status = {
      ...aborted.status,
      conditions: [{ type: "migrationAbortRequested", status: "True" }],
    } as typeof aborted.status;
    expect(targetPodFailed.detect(snap({ ...base, migrations: [aborted], pods: [ev] }))).toEqual([]);
    const cancelEvent = onVmim("SuccessfulDelete", "migration canceled by user");
    expect(
      targetPodFailed.detect(snap({ ...base, migrations: [failedMig()], pods: [ev], events: [cancelEvent] })),
    ).toEqual([]);
    expect(
      targetPodFailed.detect(snap({ ...base, migrations: [failedMig({}, "Succeeded")], pods: [ev] })),
    ).toEqual([]);
    // Without VMIMs, a target pod still counts.
    expect(detectOne(snap({ ...base, pods: [ev] })).summary).toMatch(
      /^The migration target pod virt-launcher-db-1-tgt01 was evicted on node-2/,
    );
  });

  it("names the root cause another rule finds", () => {
    const vif = "open /var/run/kubevirt-private/vif-cache-default.json: no such file or directory";
    const failed = target({ phase: "Failed" });
    const s = snap({
      ...base,
      migrations: [failedMig({ failureReason: vif })],
      pods: [failed],
    });
    expect(detectOne(s).causedBy).toBe("vif-cache-missing");
    // An OOM kill has no other cause to name.
    const oom = target({
      phase: "Failed",
      containerStatuses: [{ name: "compute", state: { terminated: { reason: "OOMKilled" } } }],
    });
    expect(detectOne({ ...s, pods: [oom] }).causedBy).toBeUndefined();
  });

  describe("more of the reasoning", () => {
    const qemuLog = [
      {
        namespace: "demo",
        pod: tgt,
        container: "compute",
        lines: [
          JSON.stringify({
            level: "error",
            msg: "qemu unexpectedly closed the monitor",
            timestamp: ago(300),
          }),
        ],
      },
    ];
    const cpuText = "guest CPU doesn't match specification: missing features: avx512f";
    const kinds = (s: Snapshot) => detectOne(s).summary;

    it("orders the kinds: OOM and eviction before QEMU, QEMU before a failed or removed pod, a failed pod before the timeout", () => {
      const evicted = target({ phase: "Failed", reason: "Evicted", message: "low memory" });
      expect(kinds(snap({ ...base, migrations: [failedMig()], pods: [evicted], logs: qemuLog }))).toContain(
        "was evicted on node-2",
      );
      const oom = target({
        phase: "Running",
        containerStatuses: [{ name: "compute", lastState: { terminated: { reason: "OOMKilled" } } }],
      });
      expect(kinds(snap({ ...base, migrations: [failedMig()], pods: [oom], logs: qemuLog }))).toContain(
        "was OOM-killed",
      );
      const failedPod = target({ phase: "Failed" });
      expect(kinds(snap({ ...base, migrations: [failedMig()], pods: [failedPod], logs: qemuLog }))).toMatch(
        /^QEMU could not start/,
      );
      const deleted = target({ phase: "Running" }, "node-2", { deletionTimestamp: ago(200) });
      expect(kinds(snap({ ...base, migrations: [failedMig()], pods: [deleted], logs: qemuLog }))).toMatch(
        /^QEMU could not start/,
      );
      const timeout = onVmim(
        "SuccessfulDelete",
        "pending pod demo/virt-launcher-db-1-other timeout period exceeded",
      );
      expect(
        kinds(snap({ ...base, migrations: [failedMig()], pods: [failedPod], events: [timeout] })),
      ).toContain(`${tgt} of VirtualMachineInstanceMigration/mig-1 failed on node-2`);
      const onSource = target({ phase: "Failed", reason: "Evicted" }, "node-1");
      expect(kinds(snap({ ...base, migrations: [failedMig()], pods: [onSource] }))).toContain(
        "was scheduled onto node-1",
      );
      const oomOnSource = target(
        {
          phase: "Running",
          containerStatuses: [{ name: "compute", state: { terminated: { reason: "OOMKilled" } } }],
        },
        "node-1",
      );
      expect(kinds(snap({ ...base, migrations: [failedMig()], pods: [oomOnSource] }))).toContain(
        "was scheduled onto node-1",
      );
    });

    it("a CPU mismatch is the cause of QEMU, a shutdown or a failed pod; never of an OOM kill or an eviction", () => {
      const withCpu = (pods: Pod[], extra: Partial<Snapshot> = {}) =>
        targetPodFailed.detect(
          snap({ ...base, migrations: [failedMig({ failureReason: cpuText })], pods, ...extra }),
        )[0]?.causedBy;
      expect(withCpu([target({ phase: "Failed" })])).toBe("cpu-model-mismatch");
      expect(withCpu([target({ phase: "Running" })], { logs: qemuLog })).toBe("cpu-model-mismatch");
      expect(withCpu([], { events: [shutdownEvent] })).toBe("cpu-model-mismatch");
      expect(withCpu([target({ phase: "Failed", reason: "Evicted" })])).toBeUndefined();
      const oom = target({
        phase: "Running",
        containerStatuses: [{ name: "compute", state: { terminated: { reason: "OOMKilled" } } }],
      });
      expect(withCpu([oom])).toBeUndefined();
      // A removed pod is not the CPU's; another rule can still explain it.
      const deleted = target({ phase: "Running" }, "node-2", { deletionTimestamp: ago(200) });
      expect(withCpu([deleted])).toBeUndefined();
      const vif = "open /var/run/kubevirt-private/vif-cache-default.json: no such file or directory";
      expect(
        targetPodFailed.detect(
          snap({ ...base, migrations: [failedMig({ failureReason: vif })], pods: [deleted] }),
        )[0]?.causedBy,
      ).toBe("vif-cache-missing");
      expect(
        targetPodFailed.detect(
          snap({
            ...base,
            migrations: [failedMig({ failureReason: vif })],
            pods: [target({ phase: "Failed", reason: "Evicted" })],
          }),
        )[0]?.causedBy,
      ).toBeUndefined();
    });

    it("a cancel is a True abort condition, or a delete event that starts 'migration canceled'", () => {
      const ev = target({ phase: "Failed", reason: "Evicted" });
      const notAborted = failedMig();
      notAborted.status = {
        ...notAborted.status,
        conditions: [
          { type: "migrationAbortRequested", status: "False" },
          { type: "Other", status: "True" },
        ],
      } as typeof notAborted.status;
      expect(targetPodFailed.detect(snap({ ...base, migrations: [notAborted], pods: [ev] }))).toHaveLength(1);
      const notCancel = onVmim("SuccessfulDelete", "the migration canceled earlier is gone");
      expect(
        targetPodFailed.detect(snap({ ...base, migrations: [failedMig()], pods: [ev], events: [notCancel] })),
      ).toHaveLength(1);
    });

    it("the kubelet's last Evicted, OOMKilling, Killing or Preempted event, exactly those reasons", () => {
      const ev = target({ phase: "Failed", reason: "Evicted" });
      const podEvent = (reason: string, n: number) =>
        event({ kind: "Pod", name: tgt, reason, message: `${reason} ${n}`, lastTimestamp: ago(300 - n) });
      const f = detectOne(
        snap({
          ...base,
          migrations: [failedMig()],
          pods: [ev],
          events: [
            podEvent("Killing", 1),
            podEvent("Preempted", 2),
            podEvent("XEvicted", 3),
            podEvent("EvictedX", 4),
          ],
        }),
      );
      expect(f.evidence.map((e) => e.text)).toEqual(["Evicted:", "Preempted 2"]);
    });

    it("words: 'reason:target pod is down' without the space; a CPU text without the apostrophe is cpu-model-mismatch's", () => {
      const onVmi = event({
        reason: "FailedMigration",
        message: `VirtualMachineInstance migration uid ${migUid} failed. reason:target pod is down`,
      });
      expect(detectOne(snap({ ...base, migrations: [failedMig()], events: [onVmi] })).summary).toContain(
        "shut down during the migration",
      );
      const line = (msg: string) => [
        {
          namespace: "demo",
          pod: tgt,
          container: "compute",
          lines: [JSON.stringify({ level: "error", msg, timestamp: ago(300) })],
        },
      ];
      expect(
        targetPodFailed.detect(
          snap({
            ...base,
            migrations: [failedMig()],
            pods: [target({ phase: "Running" })],
            logs: line("qemu unexpectedly closed the monitor: guest CPU doesnt match specification"),
          }),
        ),
      ).toEqual([]);
    });

    it("a stop five seconds after the end still counts; an undated one counts", () => {
      const at = (finishedAt?: string) =>
        targetPodFailed.detect(
          snap({
            ...base,
            migrations: [failedMig()],
            pods: [
              target({
                phase: "Failed",
                containerStatuses: [
                  {
                    name: "compute",
                    state: { terminated: { reason: "Error", ...(finishedAt ? { finishedAt } : {}) } },
                  },
                ],
              }),
            ],
          }),
        );
      expect(at(ago(95))).toHaveLength(1);
      expect(at(ago(94))).toEqual([]);
      expect(at()).toHaveLength(1);
    });

    it("names the launcher's log as not checked for a failed or removed pod when logs were missing, not for an eviction", () => {
      const missing = [{ what: "logs of virt-launcher", why: "forbidden" }];
      expect(
        detectOne(snap({ ...base, migrations: [failedMig()], pods: [target({ phase: "Failed" })], missing }))
          .notChecked,
      ).toEqual(["the target launcher's log (why QEMU or the launcher stopped)"]);
      const deleted = target({ phase: "Running" }, "node-2", { deletionTimestamp: ago(200) });
      expect(
        detectOne(snap({ ...base, migrations: [failedMig()], pods: [deleted], missing })).notChecked,
      ).toEqual(["the target launcher's log (why QEMU or the launcher stopped)"]);
      expect(
        detectOne(
          snap({
            ...base,
            migrations: [failedMig()],
            pods: [target({ phase: "Failed", reason: "Evicted" })],
            missing,
          }),
        ).notChecked,
      ).toBeUndefined();
    });

    it("offers another node than the failing one, but may offer the source's peer for a same-node pod", () => {
      const nodes = [readyNode("node-1"), readyNode("node-2"), readyNode("node-3")];
      const ev = target({ phase: "Failed", reason: "Evicted" });
      expect(
        detectOne(snap({ ...base, migrations: [failedMig()], pods: [ev], nodes })).fix.commands.at(-1),
      ).toBe("kvmig migrate db-1 -n demo --target-node node-3");
      const same = target({ phase: "Running" }, "node-1");
      expect(
        detectOne(snap({ ...base, migrations: [failedMig()], pods: [same], nodes })).fix.commands.at(-1),
      ).toBe("kvmig migrate db-1 -n demo --target-node node-2");
    });

    it("the same-node evidence names the VMI as it is called; a deleted pod's node without spec is not cordoned", () => {
      const v = vmi({ phase: "Running", nodeName: "node-1" });
      v.metadata.name = "db-1-vmi";
      const same = target({ phase: "Running" }, "node-1");
      const f = detectOne(snap({ vmi: v, migrations: [failedMig({ targetNode: "node-1" })], pods: [same] }));
      expect(f.evidence[1]?.object).toBe("VirtualMachineInstance/db-1-vmi");
      const deleted = target({ phase: "Running" }, "node-2", { deletionTimestamp: ago(200) });
      const bareNode = { apiVersion: "v1", kind: "Node", metadata: { name: "node-2" } } as Node;
      expect(
        detectOne(snap({ ...base, migrations: [failedMig()], pods: [deleted], nodes: [bareNode] }))
          .evidence[0]?.text,
      ).toBe(`deleted at ${ago(200)}, before the migration ended`);
    });
  });
});
