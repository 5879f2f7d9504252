// stuck-migration's reasoning on hand-built snapshots: a cancel that does not complete (deleted,
// or an abort requested two minutes ago or more), before or after the hand-off to virt-handler;
// a migration held in a phase far past KubeVirt's own timeouts (Running with progress lines gone
// silent or none, a preparing phase over ten minutes, Pending over an hour with no queue), the
// confidence each gives, and handler-disruption named as its cause.

import { describe, expect, it } from "vitest";
import { stuckMigration } from "../../../src/diagnose/modes/stuck-migration.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { Pod, VirtualMachineInstance, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { ago, migration, pod, snap, vmi } from "../../helpers/builders.js";

const uid = "bbbbbbbb-0000-4000-8000-000000000001";
const tgt = "virt-launcher-db-1-tgt01";
const src = "virt-launcher-db-1-src01";

function mig(phase: string, since: number, extra: Partial<VirtualMachineInstanceMigration["metadata"]> = {}) {
  const m = migration({
    name: "mig-1",
    uid,
    phase,
    created: ago(since + 10),
    transitions: { Pending: ago(since + 10), [phase]: ago(since) },
  });
  Object.assign(m.metadata, extra);
  return m;
}

function withAbort(
  m: VirtualMachineInstanceMigration,
  at: number,
  probe = false,
): VirtualMachineInstanceMigration {
  return {
    ...m,
    status: {
      ...m.status,
      conditions: [
        {
          type: "migrationAbortRequested",
          status: "True",
          ...(probe ? { lastProbeTime: ago(at) } : { lastTransitionTime: ago(at) }),
        },
      ],
    } as VirtualMachineInstanceMigration["status"],
  };
}

function target(phase: "Pending" | "Running", node?: string): Pod {
  return pod(tgt, {
    labels: { "kubevirt.io/migrationJobUID": uid },
    spec: { ...(node ? { nodeName: node } : {}), containers: [] },
    status: { phase },
  });
}

function detectOne(s: Snapshot): Finding {
  const findings = stuckMigration.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const infoText = (forUid: string) =>
  `Migration info for ${forUid}: TimeElapsed:1000ms DataProcessed:900MiB DataRemaining:100MiB DataTotal:1000MiB MemoryBandwidth:800Mbps DirtyRate:8Mbps Iteration:1`;
const info = (at: string, forUid = uid) =>
  JSON.stringify({ level: "info", msg: infoText(forUid), timestamp: at });
const logs = (lines: string[]) => [{ namespace: "demo", pod: src, container: "compute", lines }];
const withMemory = (state?: VirtualMachineInstance["status"]) =>
  vmi(state ?? { phase: "Running" }, { domain: { memory: { guest: "1Gi" } } });

describe("stuck-migration reasoning", () => {
  describe("a cancel that does not complete", () => {
    it("deleted before the hand-off, target pod still Pending: delete the pod; the whole finding", () => {
      const m = mig("Scheduling", 900, {
        deletionTimestamp: ago(300),
        finalizers: ["kubevirt.io/migrationJobFinalize"],
      });
      const s = snap({ vmi: vmi(), migrations: [m], pods: [target("Pending")] });
      expect(detectOne(s)).toEqual({
        id: "stuck-migration",
        title: "Migration cancel does not complete",
        severity: "error",
        confidence: "high",
        summary:
          "The cancel of VirtualMachineInstanceMigration/mig-1 was requested 5 min ago and the migration is still Scheduling: it was cancelled before the target took over, a case KubeVirt before v0.53 could not abort (kubevirt/kubevirt#2228).",
        evidence: [
          {
            object: "VirtualMachineInstanceMigration/mig-1",
            field: "metadata.deletionTimestamp",
            time: ago(300),
            text: "deleted (cancel requested) 5 min ago; finalizer kubevirt.io/migrationJobFinalize still holds it",
          },
          { object: "VirtualMachineInstanceMigration/mig-1", field: "status.phase", text: "Scheduling" },
          { object: `Pod/${tgt}`, field: "status.phase", text: "Pending, not scheduled" },
        ],
        fix: {
          explanation:
            "Delete the migration's target pod so that the controller can finish the cancel; if the VMIM still hangs, restart the VM (downtime) and upgrade KubeVirt.",
          commands: [
            `kubectl delete pod ${tgt} -n demo`,
            "kvmig watch db-1 -n demo",
            "kvmig restart db-1 -n demo",
          ],
        },
        docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      });
    });

    it("two minutes is the threshold; seconds below two minutes, hours past two", () => {
      expect(
        stuckMigration.detect(
          snap({ migrations: [mig("Scheduling", 900, { deletionTimestamp: ago(119) })] }),
        ),
      ).toEqual([]);
      const at120 = detectOne(
        snap({ migrations: [mig("Scheduling", 900, { deletionTimestamp: ago(120) })] }),
      );
      expect(at120.evidence[0]?.text).toBe(
        "deleted (cancel requested) 2 min ago; finalizer none still holds it",
      );
      const hours = detectOne(snap({ migrations: [withAbort(mig("Running", 9000), 7200)] }));
      expect(hours.summary).toContain("was requested 2.0 h ago");
    });

    it("an abort requested after the hand-off, virt-handler still Aborting", () => {
      const m = withAbort(mig("Running", 900), 200);
      const s = snap({
        vmi: vmi({
          phase: "Running",
          migrationState: { migrationUid: uid, abortRequested: true, abortStatus: "Aborting" },
        }),
        migrations: [m],
        pods: [target("Running", "node-2")],
      });
      const f = detectOne(s);
      expect(f.summary).toBe(
        "The cancel of VirtualMachineInstanceMigration/mig-1 was requested 3 min ago and the migration is still Running: virt-handler reports the abort as still Aborting.",
      );
      expect(f.evidence).toEqual([
        {
          object: "VirtualMachineInstanceMigration/mig-1",
          field: "status.conditions[migrationAbortRequested]",
          time: ago(200),
          text: "True; phase still Running",
        },
        {
          object: "VirtualMachineInstance/db-1",
          field: "status.migrationState",
          text: "abortRequested: true, abortStatus: Aborting, completed: false",
        },
        { object: `Pod/${tgt}`, field: "status.phase", text: "Running on node-2" },
      ]);
      expect(f.fix).toEqual({
        explanation:
          "Check virt-handler on the source node; if the abort still does not finish, restart the VM (downtime) to clear the migration.",
        commands: ["kvmig watch db-1 -n demo", "kvmig restart db-1 -n demo"],
      });
    });

    it("no abort result reported; the time from the probe when there is no transition", () => {
      const m = withAbort(mig("Running", 900), 300, true);
      const f = detectOne(
        snap({ vmi: vmi({ phase: "Running", migrationState: { migrationUid: uid } }), migrations: [m] }),
      );
      expect(f.summary).toMatch(
        /requested 5 min ago and the migration is still Running: the source virt-handler has not reported the abort result\.$/,
      );
      expect(f.evidence[0]?.time).toBe(ago(300));
      expect(f.evidence[1]?.text).toBe("abortRequested: false, abortStatus: unset, completed: false");
    });

    it("the VMI's abortRequested alone is no time to measure; a Running target pod is not deleted", () => {
      const handedOff = vmi({
        phase: "Running",
        migrationState: { migrationUid: uid, abortRequested: true },
      });
      // Requested, but with no time: nothing to measure, and the phase is not held long enough either.
      expect(stuckMigration.detect(snap({ vmi: handedOff, migrations: [mig("Scheduled", 100)] }))).toEqual(
        [],
      );
      const m = mig("Scheduled", 900, { deletionTimestamp: ago(300) });
      const f = detectOne(snap({ migrations: [m], pods: [target("Running", "node-2")] }));
      expect(f.fix.commands).toEqual(["kvmig watch db-1 -n demo", "kvmig restart db-1 -n demo"]);
      const unset = { ...mig("Pending", 900, { deletionTimestamp: ago(300) }), status: undefined };
      expect(detectOne(snap({ migrations: [unset] })).summary).toContain(
        "the migration is still unset: it was cancelled before",
      );
    });

    it("a deleted VMIM whose cancel is recent is nothing yet, not a silent phase", () => {
      expect(
        stuckMigration.detect(snap({ migrations: [mig("Running", 99999, { deletionTimestamp: ago(10) })] })),
      ).toEqual([]);
    });
  });

  describe("held in a phase with nothing moving", () => {
    it("Running with progress lines silent for five minutes: high, past the completion time too", () => {
      const s = snap({
        vmi: withMemory({
          phase: "Running",
          migrationState: { migrationUid: uid, startTimestamp: ago(900), mode: "PreCopy" },
        }),
        migrations: [mig("Running", 900)],
        logs: logs([info(ago(600)), info(ago(300))]),
      });
      expect(detectOne(s)).toEqual({
        id: "stuck-migration",
        title: "Migration is stuck",
        severity: "error",
        confidence: "high",
        summary:
          "VirtualMachineInstanceMigration/mig-1 has been Running for 15 min with nothing moving: the source launcher's last progress line is 5 min old, and it has run longer than the 5 min after which virt-launcher aborts a migration by itself.",
        evidence: [
          {
            object: "VirtualMachineInstanceMigration/mig-1",
            field: "status.phaseTransitionTimestamps",
            time: ago(900),
            text: "Running since 15 min before the snapshot, no later phase",
          },
          {
            object: `Pod/${src}`,
            field: "log compute",
            time: ago(300),
            text: infoText(uid),
          },
          {
            object: "VirtualMachineInstance/db-1",
            field: "status.migrationState",
            text: `startTimestamp: ${ago(900)}, completed: false, failed: false, mode: PreCopy`,
          },
        ],
        fix: {
          explanation:
            "Cancel the migration (the VM stays on its source node); if the cancel does not complete either, restart the VM (downtime). Then look at virt-handler and virt-launcher on both nodes before migrating again.",
          commands: ["kvmig cancel db-1 -n demo", "kvmig restart db-1 -n demo"],
        },
        docs: "https://kubevirt.io/user-guide/compute/live_migration/",
        notChecked: undefined,
        causedBy: undefined,
      });
      // A progress line under five minutes old: still reporting.
      expect(stuckMigration.detect({ ...s, logs: logs([info(ago(299))]) })).toEqual([]);
      // Lines of another migration do not count.
      const other = info(ago(10), "other");
      expect(detectOne({ ...s, logs: logs([other, info(ago(400))]) }).confidence).toBe("high");
    });

    it("Running without progress lines: past the completion time plus five minutes (medium), or an hour when unknown (low)", () => {
      // 1 GiB: 150 s + 150 s progress timeout = 300 s; reported from 600 s.
      const run = (since: number, parts: Partial<Snapshot> = {}) =>
        stuckMigration.detect(snap({ vmi: withMemory(), migrations: [mig("Running", since)], ...parts }));
      expect(run(599)).toEqual([]);
      const [f] = run(600);
      expect(f?.confidence).toBe("medium");
      expect(f?.summary).toContain(
        "with nothing moving: its launcher log was not read, and it has run longer than the 5 min after which virt-launcher aborts a migration by itself.",
      );
      expect(f?.notChecked).toEqual([
        "the source virt-launcher log (whether the migration still reports progress)",
      ]);
      const [g] = run(600, { logs: logs(["unrelated"]) });
      expect(g?.confidence).toBe("medium");
      expect(g?.summary).toContain("the launcher logs that were read hold no progress line for it");
      expect(g?.notChecked).toBeUndefined();
      const unknown = (since: number) =>
        stuckMigration.detect(snap({ vmi: vmi(), migrations: [mig("Running", since)] }));
      expect(unknown(3599)).toEqual([]);
      const [h] = unknown(3600);
      expect(h?.confidence).toBe("low");
      expect(h?.summary).toBe(
        "VirtualMachineInstanceMigration/mig-1 has been Running for 60 min with nothing moving: its launcher log was not read.",
      );
    });

    it("a preparing phase over ten minutes: medium, with the target pod", () => {
      expect(stuckMigration.detect(snap({ migrations: [mig("PreparingTarget", 599)] }))).toEqual([]);
      const f = detectOne(
        snap({ migrations: [mig("PreparingTarget", 600)], pods: [target("Running", "node-2")] }),
      );
      expect(f.confidence).toBe("medium");
      expect(f.summary).toBe(
        "VirtualMachineInstanceMigration/mig-1 has been PreparingTarget for 10 min with nothing moving: virt-handler normally prepares the target and starts the transfer within a minute.",
      );
      expect(f.evidence[1]).toEqual({
        object: `Pod/${tgt}`,
        field: "status.phase",
        text: "Running on node-2",
      });
      for (const phase of ["Scheduled", "TargetReady"]) {
        expect(detectOne(snap({ migrations: [mig(phase, 700)] })).summary, phase).toContain(
          `has been ${phase} for 12 min`,
        );
      }
      const bare = { ...target("Running"), spec: { containers: [] }, status: {} };
      expect(detectOne(snap({ migrations: [mig("Scheduled", 700)], pods: [bare] })).evidence[1]?.text).toBe(
        "unknown on ?",
      );
      // Scheduling is target-pod-unschedulable's to explain.
      expect(stuckMigration.detect(snap({ migrations: [mig("Scheduling", 9000)] }))).toEqual([]);
    });

    it("Pending over an hour with no target pod and no full queue: medium, says what it could not check", () => {
      const onNode = vmi({ phase: "Running", nodeName: "node-1" });
      // Within the hour migration-queued speaks for it.
      expect(stuckMigration.detect(snap({ vmi: onNode, migrations: [mig("Pending", 3590)] }))).toEqual([]);
      const f = detectOne(snap({ vmi: onNode, migrations: [mig("Pending", 3600)] }));
      expect(f.confidence).toBe("medium");
      expect(f.summary).toBe(
        "VirtualMachineInstanceMigration/mig-1 has been Pending for 60 min with nothing moving: no target pod was ever created, and nothing shows the parallel-migration limits full; virt-controller is holding it back (a stale record of an earlier migration, a target pod it cannot render, a condition it waits for).",
      );
      expect(f.notChecked).toEqual([
        "virt-controller's log for this VMI (it says why it does not create the target pod), and the other VMs' migrations (whether the limits are full)",
      ]);
      // A target pod exists: not this.
      expect(
        stuckMigration.detect(
          snap({ vmi: onNode, migrations: [mig("Pending", 7200)], pods: [target("Pending")] }),
        ),
      ).toEqual([]);
      // The queue is seen full: migration-queued's.
      const full = ["a", "b", "c", "d", "e"].map((n) => ({
        ...migration({ name: `run-${n}`, uid: `u-${n}`, phase: "Running", created: ago(100) }),
        spec: { vmiName: `vm-${n}` },
      }));
      expect(
        stuckMigration.detect(snap({ vmi: onNode, migrations: [...full, mig("Pending", 7200)] }))[0]
          ?.summary ?? "",
      ).not.toContain("mig-1 has been Pending");
    });

    it("the phase time: its own transition, else the last one, else the creation", () => {
      const noOwn = migration({
        name: "mig-1",
        uid,
        phase: "PreparingTarget",
        created: ago(2000),
        transitions: { Scheduled: ago(1500) },
      });
      expect(detectOne(snap({ migrations: [noOwn] })).evidence[0]?.time).toBe(ago(1500));
      const none = migration({ name: "mig-1", uid, phase: "PreparingTarget", created: ago(2000) });
      expect(detectOne(snap({ migrations: [none] })).evidence[0]?.time).toBe(ago(2000));
      const undated = { ...none, metadata: { ...none.metadata, creationTimestamp: undefined } };
      expect(stuckMigration.detect(snap({ migrations: [undated] }))).toEqual([]);
    });

    it("only the newest unfinished migration; a final one is never stuck", () => {
      expect(stuckMigration.detect(snap({ migrations: [mig("Failed", 9000)] }))).toEqual([]);
      const older = migration({
        name: "mig-0",
        uid: "u0",
        phase: "PreparingTarget",
        created: ago(5000),
        transitions: { PreparingTarget: ago(4000) },
      });
      const f = detectOne(snap({ migrations: [older, mig("Scheduled", 700), mig("Succeeded", 10)] }));
      expect(f.summary).toMatch(/^VirtualMachineInstanceMigration\/mig-1 has been Scheduled/);
    });

    it("names handler-disruption when virt-handler went away during it", () => {
      const state = { migrationUid: uid, sourceNode: "node-1", sourcePod: src };
      const notify = [
        {
          namespace: "demo",
          pod: src,
          container: "compute",
          lines: [
            JSON.stringify({
              level: "error",
              msg: "Failed to connect to notify server",
              timestamp: ago(500),
            }),
          ],
        },
      ];
      const m = mig("Scheduled", 700);
      m.status = { ...m.status, migrationState: state };
      const f = detectOne(
        snap({ vmi: vmi({ phase: "Running", migrationState: state }), migrations: [m], logs: notify }),
      );
      expect(f.causedBy).toBe("handler-disruption");
    });
  });
});
