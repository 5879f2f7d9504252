// stale-migration-state's reasoning on hand-built snapshots: an open migrationState whose VMIM is
// gone or final (after 60 s to settle), the evidence around it (the owner, the target pod, the
// webhook's refusal naming the UID), confidence when the VMIMs were not read; and activePods
// listing a finished pod while no migration runs.

import { describe, expect, it } from "vitest";
import { staleMigrationState } from "../../../src/diagnose/modes/stale-migration-state.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigrationState } from "../../../src/k8s/types.js";
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
  "KubeVirt's admission webhook treats this state as an in-flight migration and rejects every new one until the record is closed.";

describe("stale-migration-state reasoning", () => {
  describe("an open migrationState", () => {
    it("no VMIM with its UID, target pod gone: the whole finding", () => {
      const s = snap({ vmi: openVmi() });
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
            "Nothing in KubeVirt closes this record once its migration object is gone. Restarting the VM (downtime) starts a fresh VMI without it; remove a leftover target pod first.",
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

    it("the owner still running is not stale; a final owner is, once 60 s have passed", () => {
      const owner = (phase: string, age: number) =>
        migration({ name: "mig-1", uid, phase, created: ago(age + 30), transitions: { [phase]: ago(age) } });
      expect(
        staleMigrationState.detect(snap({ vmi: openVmi(), migrations: [owner("Running", 600)] })),
      ).toEqual([]);
      expect(
        staleMigrationState.detect(snap({ vmi: openVmi(), migrations: [owner("Succeeded", 59)] })),
      ).toEqual([]);
      const f = detectOne(snap({ vmi: openVmi(), migrations: [owner("Succeeded", 60)] }));
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
      expect(staleMigrationState.detect(snap({ vmi: openVmi(), migrations: [noTransition] }))).toEqual([]);
      const old = migration({ name: "mig-1", uid, phase: "Failed", created: ago(300) });
      expect(detectOne(snap({ vmi: openVmi(), migrations: [old] })).evidence[1]).toEqual({
        object: "VirtualMachineInstanceMigration/mig-1",
        field: "status.phase",
        time: undefined,
        text: "Failed",
      });
    });

    it("a leftover target pod: its phase, and delete it first when it has finished", () => {
      const target = (phase: "Failed" | "Succeeded" | "Running") =>
        pod(tgtName, { spec: { nodeName: "node-2" }, status: { phase } });
      const f = detectOne(snap({ vmi: openVmi(), pods: [target("Failed")] }));
      expect(f.evidence[2]).toEqual({
        object: `Pod/${tgtName}`,
        field: "status.phase",
        text: "Failed on node-2",
      });
      expect(f.fix.commands).toEqual([`kubectl delete pod ${tgtName} -n demo`, "kvmig restart db-1 -n demo"]);
      expect(detectOne(snap({ vmi: openVmi(), pods: [target("Succeeded")] })).fix.commands).toHaveLength(2);
      expect(detectOne(snap({ vmi: openVmi(), pods: [target("Running")] })).fix.commands).toEqual([
        "kvmig restart db-1 -n demo",
      ]);
      const bare = pod(tgtName, { spec: {}, status: {} });
      expect(detectOne(snap({ vmi: openVmi(), pods: [bare] })).evidence[2]?.text).toBe("unknown on ?");
    });

    it("quotes the last refusal and the last event naming this UID, and none naming another", () => {
      const other = refusal.replace(uid, "dddddddd-0000-4000-8000-000000000001");
      const s = snap({
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

    it("VMIMs not read: low, or medium when the webhook refused with this UID; says what it could not check", () => {
      const low = detectOne(snap({ vmi: openVmi(), missing: unread }));
      expect(low.confidence).toBe("low");
      expect(low.summary).toContain("but its VMIM could not be looked up.");
      expect(low.notChecked).toEqual([
        "the VMIMs of this VM (not in the snapshot), so whether the recorded migration still exists",
      ]);
      // No "none has UID" line when the VMIMs were not read.
      expect(low.evidence.map((e) => e.object)).toEqual(["VirtualMachineInstance/db-1", `Pod/${tgtName}`]);
      const medium = detectOne(
        snap({
          vmi: openVmi(),
          missing: unread,
          rejections: [{ request: "POST vmims", status: 400, message: refusal }],
        }),
      );
      expect(medium.confidence).toBe("medium");
      // Other missing evidence is not about VMIMs.
      expect(
        detectOne(snap({ vmi: openVmi(), missing: [{ what: "events", why: "forbidden" }] })).confidence,
      ).toBe("high");
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
