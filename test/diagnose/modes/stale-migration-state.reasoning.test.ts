// stale-migration-state's reasoning on hand-built snapshots: an open migrationState whose VMIM is
// gone or final (after 60 s to settle). Up to KubeVirt v0.39 the webhook refused every migration
// for it: the evidence around it (the owner, the target pod, the webhook's refusal naming the UID),
// confidence when the VMIMs were not read. Since v0.40.0 (every release kvmig supports) it refuses
// nothing, and what it still does is said: a VMI counted as migrating, a leftover target pod
// holding migrations back. And activePods listing a finished pod while no migration runs.

import { describe, expect, it } from "vitest";
import { staleMigrationState } from "../../../src/diagnose/modes/stale-migration-state.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type {
  KubeVirt,
  VirtualMachineInstance,
  VirtualMachineInstanceMigrationState,
} from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi, vmiUid } from "../../helpers/builders.js";

const uid = "cccccccc-0000-4000-8000-000000000001";
const tgtName = "virt-launcher-db-1-tgt01";

function openVmi(state: VirtualMachineInstanceMigrationState = {}): VirtualMachineInstance {
  return vmi({
    phase: "Running",
    migrationState: {
      migrationUid: uid,
      sourceNode: "node-1",
      targetNode: "node-2",
      targetPod: tgtName,
      ...state,
    },
  });
}

const refusal = `admission webhook "migration-create-validator.kubevirt.io" denied the request: in-flight migration detected. Active migration job (${uid}) is currently already in progress for VMI db-1.`;
const unread = [{ what: "VirtualMachineInstanceMigrations in demo", why: "forbidden" }];

function detectOne(s: Snapshot): Finding {
  const findings = staleMigrationState.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const webhookText =
  "KubeVirt v0.39.0's admission webhook treats this state as an in-flight migration and rejects every new one until the record is closed (v0.40.0 and later no longer do).";

/** A KubeVirt whose create webhook still read the VMI's record (before v0.40.0). */
const oldRelease: KubeVirt = {
  apiVersion: "kubevirt.io/v1",
  kind: "KubeVirt",
  metadata: { name: "kubevirt", namespace: "kubevirt" },
  spec: {},
  status: { phase: "Deployed", observedKubeVirtVersion: "v0.39.0" },
};

function release039(parts: Partial<Snapshot> = {}): Snapshot {
  return snap({ kubevirt: oldRelease, ...parts });
}

describe("stale-migration-state reasoning", () => {
  describe("an open migrationState", () => {
    it("up to v0.39: no VMIM with its UID, target pod gone: the whole finding", () => {
      const s = release039({ vmi: openVmi() });
      expect(detectOne(s)).toEqual({
        id: "stale-migration-state",
        title: "The VMI keeps the state of a finished migration",
        severity: "error",
        confidence: "high",
        summary: `db-1 still records migration ${uid} as unfinished, but no VMIM with that UID exists any more. ${webhookText}`,
        evidence: [
          {
            object: "VirtualMachineInstance/db-1",
            field: "status.migrationState",
            text: `migrationUid: ${uid}, sourceNode: node-1, targetNode: node-2, targetPod: ${tgtName}; completed and failed not set`,
          },
          { object: "VirtualMachineInstanceMigrations of db-1", text: `none has UID ${uid}` },
          { object: `Pod/${tgtName}`, text: "not found (the migration target pod is gone)" },
        ],
        fix: {
          explanation:
            "Nothing in this KubeVirt closes the record once its migration object is gone. Restarting the VM (downtime) starts a fresh VMI without it; remove a leftover target pod first.",
          commands: ["kvmig restart db-1 -n demo"],
        },
        docs: "https://github.com/kubevirt/kubevirt/issues/2495",
        notChecked: undefined,
      });
    });

    it("unknown nodes and pod are shown as ?; no target pod named, no pod line", () => {
      const f = detectOne(snap({ vmi: vmi({ phase: "Running", migrationState: { migrationUid: uid } }) }));
      expect(f.evidence[0]?.text).toBe(
        `migrationUid: ${uid}, sourceNode: ?, targetNode: ?, targetPod: ?; completed and failed not set`,
      );
      expect(f.evidence).toHaveLength(2);
    });

    it("a closed record, no record, or no UID is not stale", () => {
      for (const state of [{ completed: true }, { failed: true }, { migrationUid: undefined }]) {
        expect(staleMigrationState.detect(snap({ vmi: openVmi(state) })), JSON.stringify(state)).toEqual([]);
      }
      expect(staleMigrationState.detect(snap({ vmi: vmi({ phase: "Running" }) }))).toEqual([]);
      expect(staleMigrationState.detect(snap())).toEqual([]);
    });

    it("up to v0.39: the owner still running is not stale; a final owner is, once 60 s have passed", () => {
      const owner = (phase: string, age: number) =>
        migration({ name: "mig-1", uid, phase, created: ago(age + 30), transitions: { [phase]: ago(age) } });
      expect(
        staleMigrationState.detect(release039({ vmi: openVmi(), migrations: [owner("Running", 600)] })),
      ).toEqual([]);
      expect(
        staleMigrationState.detect(release039({ vmi: openVmi(), migrations: [owner("Succeeded", 59)] })),
      ).toEqual([]);
      const f = detectOne(release039({ vmi: openVmi(), migrations: [owner("Succeeded", 60)] }));
      expect(f.summary).toBe(
        `db-1 still records migration ${uid} as unfinished, but its VMIM mig-1 is Succeeded. ${webhookText}`,
      );
      expect(f.evidence[1]).toEqual({
        object: "VirtualMachineInstanceMigration/mig-1",
        field: "status.phase",
        time: ago(60),
        text: "Succeeded",
      });
      // Without a phase transition the creation time counts.
      const noTransition = migration({ name: "mig-1", uid, phase: "Failed", created: ago(30) });
      expect(staleMigrationState.detect(release039({ vmi: openVmi(), migrations: [noTransition] }))).toEqual(
        [],
      );
      const old = migration({ name: "mig-1", uid, phase: "Failed", created: ago(300) });
      expect(detectOne(release039({ vmi: openVmi(), migrations: [old] })).evidence[1]).toEqual({
        object: "VirtualMachineInstanceMigration/mig-1",
        field: "status.phase",
        time: undefined,
        text: "Failed",
      });
    });

    it("up to v0.39: a leftover target pod: its phase, and delete it first when it has finished", () => {
      const target = (phase: "Failed" | "Succeeded" | "Running") =>
        pod(tgtName, { spec: { nodeName: "node-2" }, status: { phase } });
      const f = detectOne(release039({ vmi: openVmi(), pods: [target("Failed")] }));
      expect(f.evidence[2]).toEqual({
        object: `Pod/${tgtName}`,
        field: "status.phase",
        text: "Failed on node-2",
      });
      expect(f.fix.commands).toEqual([`kubectl delete pod ${tgtName} -n demo`, "kvmig restart db-1 -n demo"]);
      expect(
        detectOne(release039({ vmi: openVmi(), pods: [target("Succeeded")] })).fix.commands,
      ).toHaveLength(2);
      expect(detectOne(release039({ vmi: openVmi(), pods: [target("Running")] })).fix.commands).toEqual([
        "kvmig restart db-1 -n demo",
      ]);
      const bare = pod(tgtName, { spec: {}, status: {} });
      expect(detectOne(release039({ vmi: openVmi(), pods: [bare] })).evidence[2]?.text).toBe("unknown on ?");
    });

    it("up to v0.39: quotes the last refusal and the last event naming this UID, and none naming another", () => {
      const other = refusal.replace(uid, "dddddddd-0000-4000-8000-000000000001");
      const s = release039({
        vmi: openVmi(),
        rejections: [
          { request: "POST vmims", status: 400, message: refusal },
          { request: "PUT virtualmachines/db-1/migrate", status: 500, message: refusal, at: ago(5) },
          { request: "POST vmims", status: 400, message: other },
        ],
        events: [
          event({ reason: "FailedCreate", message: refusal, lastTimestamp: ago(100) }),
          event({ reason: "FailedCreate", message: refusal, lastTimestamp: ago(50) }),
          event({ reason: "FailedCreate", message: other, lastTimestamp: ago(10) }),
        ],
      });
      const f = detectOne(s);
      expect(f.evidence.slice(3)).toEqual([
        { object: "PUT virtualmachines/db-1/migrate", field: "HTTP 500", time: ago(5), text: refusal },
        { object: "VirtualMachineInstance/db-1", field: "event FailedCreate", time: ago(50), text: refusal },
      ]);
    });

    it("up to v0.39: VMIMs not read: low, or medium when the webhook refused with this UID; says what it could not check", () => {
      const low = detectOne(release039({ vmi: openVmi(), missing: unread }));
      expect(low.confidence).toBe("low");
      expect(low.summary).toContain("but its VMIM could not be looked up.");
      expect(low.notChecked).toEqual([
        "the VMIMs of this VM (not in the snapshot), so whether the recorded migration still exists",
      ]);
      // No "none has UID" line when the VMIMs were not read.
      expect(low.evidence.map((e) => e.object)).toEqual(["VirtualMachineInstance/db-1", `Pod/${tgtName}`]);
      const medium = detectOne(
        release039({
          vmi: openVmi(),
          missing: unread,
          rejections: [{ request: "POST vmims", status: 400, message: refusal }],
        }),
      );
      expect(medium.confidence).toBe("medium");
      // Other missing evidence is not about VMIMs.
      expect(
        detectOne(release039({ vmi: openVmi(), missing: [{ what: "events", why: "forbidden" }] })).confidence,
      ).toBe("high");
    });
  });

  describe("an open migrationState since v0.40.0 (every release kvmig supports): it refuses nothing", () => {
    const takenOver =
      "That refuses no new migration: the create webhook checks only unfinished VMIMs, and virt-controller takes over a record whose VMIM is final or gone";

    it("no VMIM with its UID, target pod gone, never started: info, the next migration replaces it; the whole finding", () => {
      expect(detectOne(snap({ vmi: openVmi() }))).toEqual({
        id: "stale-migration-state",
        title: "The VMI keeps the state of a finished migration",
        severity: "info",
        confidence: "high",
        summary: `db-1 still records migration ${uid} as unfinished, but no VMIM with that UID exists any more. ${takenOver}; the next migration replaces it.`,
        evidence: [
          {
            object: "VirtualMachineInstance/db-1",
            field: "status.migrationState",
            text: `migrationUid: ${uid}, sourceNode: node-1, targetNode: node-2, targetPod: ${tgtName}; completed and failed not set`,
          },
          { object: "VirtualMachineInstanceMigrations of db-1", text: `none has UID ${uid}` },
          { object: `Pod/${tgtName}`, text: "not found (the migration target pod is gone)" },
        ],
        fix: {
          explanation:
            "A new migration replaces the record: virt-controller takes it over and the hand-off writes a fresh one. Restarting the VM (downtime) also clears it.",
          commands: ["kvmig migrate db-1 -n demo"],
        },
        docs: "https://kubevirt.io/user-guide/compute/live_migration/",
        notChecked: undefined,
      });
      // A launcher of a release from v0.40.0 on says the same as no release at all.
      const v140 = pod("virt-launcher-db-1-src", {
        spec: { containers: [{ name: "compute", image: "quay.io/kubevirt/virt-launcher:v1.4.0" }] },
      });
      expect(detectOne(snap({ vmi: openVmi(), pods: [v140] })).severity).toBe("info");
    });

    it("started and never ended: KubeVirt counts the VMI as migrating, so evacuation and workload updates skip it (warning)", () => {
      const f = detectOne(snap({ vmi: openVmi({ startTimestamp: ago(86_400) }) }));
      expect(f.severity).toBe("warning");
      expect(f.summary).toBe(
        `db-1 still records migration ${uid} as unfinished, but no VMIM with that UID exists any more. ${takenOver}. But it has a startTimestamp and no endTimestamp, so KubeVirt counts the VMI as migrating: the evacuation controller and the workload updater skip it (a drain of its node waits for it, an outdated launcher is not updated).`,
      );
      expect(f.evidence.at(-1)).toEqual({
        object: "VirtualMachineInstance/db-1",
        field: "status.migrationState",
        time: ago(86_400),
        text: `startTimestamp ${ago(86_400)}, no endTimestamp`,
      });
      expect(f.fix.commands).toEqual(["kvmig migrate db-1 -n demo"]);
      // Ended: no longer migrating to KubeVirt.
      expect(
        detectOne(snap({ vmi: openVmi({ startTimestamp: ago(900), endTimestamp: ago(800) }) })).severity,
      ).toBe("info");
    });

    it("its target pod still running off the VMI's node: two active launcher pods hold every new migration (error); delete it first", () => {
      const onNode1 = vmi({
        phase: "Running",
        nodeName: "node-1",
        migrationState: { migrationUid: uid, sourceNode: "node-1", targetNode: "node-2", targetPod: tgtName },
      });
      const target = (phase: "Running" | "Succeeded") =>
        pod(tgtName, { spec: { nodeName: "node-2" }, status: { phase } });
      const f = detectOne(snap({ vmi: onNode1, pods: [target("Running")] }));
      expect(f.severity).toBe("error");
      expect(f.summary).toContain(
        `But its target pod ${tgtName} still runs on node-2, so the VMI has two active launcher pods and virt-controller holds every new migration in Pending ("multiple pods running").`,
      );
      expect(f.fix).toEqual({
        explanation:
          "Delete the leftover target pod (the VM runs on node-1, not there); then a new migration replaces the record: virt-controller takes it over and the hand-off writes a fresh one. Restarting the VM (downtime) also clears it.",
        commands: [`kubectl delete pod ${tgtName} -n demo`, "kvmig migrate db-1 -n demo"],
      });
      // A target that has finished is no second active pod.
      const done = detectOne(snap({ vmi: onNode1, pods: [target("Succeeded")] }));
      expect(done.severity).toBe("info");
      expect(done.fix.commands).toEqual(["kvmig migrate db-1 -n demo"]);
    });

    it("a refusal naming the UID is not quoted (it shows that VMIM ran then); the VMIMs not read: low, and said", () => {
      const f = detectOne(
        snap({ vmi: openVmi(), rejections: [{ request: "POST vmims", status: 400, message: refusal }] }),
      );
      expect(f.evidence.map((e) => e.text)).not.toContain(refusal);
      const low = detectOne(snap({ vmi: openVmi(), missing: unread }));
      expect(low.confidence).toBe("low");
      expect(low.notChecked).toEqual([
        "the VMIMs of this VM (not in the snapshot), so whether the recorded migration still runs",
      ]);
    });
  });

  describe("activePods listing more than one pod", () => {
    const src = pod("virt-launcher-db-1-src", { spec: { nodeName: "node-1" } });
    src.metadata.uid = "pod-src";
    const old = pod("virt-launcher-db-1-old", {
      spec: { nodeName: "node-2" },
      status: { phase: "Succeeded" },
    });
    old.metadata.uid = "pod-old";
    const twoPods = (state?: VirtualMachineInstanceMigrationState) =>
      vmi({
        phase: "Running",
        activePods: { "pod-src": "node-1", "pod-old": "node-2" },
        ...(state ? { migrationState: state } : {}),
      } as VirtualMachineInstance["status"]);

    it("a finished pod still listed: delete it; the whole finding", () => {
      const s = snap({
        vmi: twoPods({ migrationUid: uid, completed: true, endTimestamp: ago(400) }),
        pods: [src, old],
      });
      expect(detectOne(s)).toEqual({
        id: "stale-migration-state",
        title: "The VMI still lists two active launcher pods",
        severity: "warning",
        confidence: "high",
        summary:
          'db-1 lists 2 active launcher pods while no migration runs; virt-launcher-db-1-old has already finished. virt-controller does not start a new migration (it waits for "multiple pods running") and evictions may not be protected until only one pod is left.',
        evidence: [
          {
            object: "VirtualMachineInstance/db-1",
            field: "status.activePods",
            text: "pod-src: node-1, pod-old: node-2",
          },
          { object: "Pod/virt-launcher-db-1-src", field: "status.phase", text: "Running on node-1" },
          { object: "Pod/virt-launcher-db-1-old", field: "status.phase", text: "Succeeded on node-2" },
          {
            object: "VirtualMachineInstance/db-1",
            field: "status.migrationState",
            time: ago(400),
            text: `last migration ${uid} completed`,
          },
        ],
        fix: {
          explanation:
            "Delete the finished launcher pod; status.activePods is then recomputed and new migrations can start. If it comes back, restart the VM (downtime).",
          commands: ["kubectl delete pod virt-launcher-db-1-old -n demo", "kvmig restart db-1 -n demo"],
        },
        docs: "https://github.com/kubevirt/kubevirt/issues/12773",
        notChecked: undefined,
      });
    });

    it("names a failed last migration as failed", () => {
      const f = detectOne(
        snap({ vmi: twoPods({ migrationUid: uid, completed: true, failed: true }), pods: [src, old] }),
      );
      expect(f.evidence.at(-1)?.text).toBe(`last migration ${uid} failed`);
      const noRecord = detectOne(snap({ vmi: twoPods(), pods: [src, old] }));
      expect(noRecord.evidence).toHaveLength(3);
    });

    it("every pod running: medium, list the launcher pods", () => {
      const running = { ...old, status: { phase: "Running" as const } };
      const f = detectOne(snap({ vmi: twoPods(), pods: [src, running] }));
      expect(f.confidence).toBe("medium");
      expect(f.summary).toMatch(
        /^db-1 lists 2 active launcher pods while no migration runs\. virt-controller/,
      );
      expect(f.fix).toEqual({
        explanation:
          "Find the launcher pod that no longer runs the VM and delete it; if that is not clear, restart the VM (downtime).",
        commands: [
          `kubectl get pods -n demo -o wide -l kubevirt.io/created-by=${vmiUid}`,
          "kvmig restart db-1 -n demo",
        ],
      });
    });

    it("a listed pod that is not there: gone when live (high), unknown offline (medium, said)", () => {
      const live = detectOne(snap({ vmi: twoPods(), pods: [src] }));
      expect(live.confidence).toBe("high");
      expect(live.notChecked).toBeUndefined();
      const offline = detectOne(snap({ source: "directory", vmi: twoPods(), pods: [src] }));
      expect(offline.confidence).toBe("medium");
      expect(offline.notChecked).toEqual([
        "the phase of every pod listed in status.activePods (not all are in the snapshot)",
      ]);
    });

    it("not while a migration is under way; one pod is normal", () => {
      expect(
        staleMigrationState.detect(
          snap({ vmi: twoPods(), pods: [src, old], migrations: [migration({ phase: "Running" })] }),
        ),
      ).toEqual([]);
      expect(
        staleMigrationState.detect(
          snap({ vmi: twoPods(), pods: [src, old], migrations: [migration({ phase: "Scheduling" })] }),
        ),
      ).toEqual([]);
      // A Pending (or phase-less) or final VMIM is not running.
      for (const phase of ["Pending", undefined, "Failed"]) {
        expect(
          staleMigrationState.detect(
            snap({ vmi: twoPods(), pods: [src, old], migrations: [migration(phase ? { phase } : {})] }),
          ),
          String(phase),
        ).toHaveLength(1);
      }
      const one = vmi({
        phase: "Running",
        activePods: { "pod-src": "node-1" },
      } as VirtualMachineInstance["status"]);
      expect(staleMigrationState.detect(snap({ vmi: one, pods: [src] }))).toEqual([]);
    });

    it("an open record with two pods is the open-record finding only", () => {
      const findings = staleMigrationState.detect(
        snap({ vmi: twoPods({ migrationUid: uid }), pods: [src, old] }),
      );
      expect(findings.map((f) => f.title)).toEqual(["The VMI keeps the state of a finished migration"]);
    });
  });
});
