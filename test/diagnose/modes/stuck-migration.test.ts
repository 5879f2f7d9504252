import { describe, expect, test } from "vitest";
import { stuckMigration } from "../../../src/diagnose/modes/stuck-migration.js";
import { ago, migration, pod, snap, vmi } from "../../helpers/builders.js";
import { fixtureSnapshot, type HitExpectation, testRuleFixtures } from "../../helpers/diagnose.js";

const id = "stuck-migration";

const hits: Record<string, HitExpectation> = {
  "kv2228-cancel-in-scheduling": {
    title: "kubevirt#2228: a cancel requested in Scheduling never completes",
    severity: "error",
    confidence: "high",
    summary: ["30 min ago", "still Scheduling"],
    evidence: "kubevirt.io/migrationJobFinalize",
    command: [
      "kubectl delete pod virt-launcher-vmi-migratable-8hq4d -n default",
      "kvmig restart vmi-migratable -n default",
    ],
    check: (f) => {
      expect(f.title).toBe("Migration cancel does not complete");
      expect(
        f.evidence.some(
          (e) =>
            e.field === "status.conditions[migrationAbortRequested]" && e.time === "2019-04-26T19:56:15Z",
        ),
      ).toBe(true);
      expect(
        f.evidence.some(
          (e) =>
            e.field === "metadata.deletionTimestamp" && e.text.includes("kubevirt.io/migrationJobFinalize"),
        ),
      ).toBe(true);
    },
  },
  "running-launcher-silent": {
    title: "Running for 40 minutes with the launcher's progress lines stopped",
    severity: "error",
    confidence: "high",
    summary: [
      "Running for 40 min",
      "last progress line is 40 min old",
      "longer than the 13 min after which virt-launcher aborts",
    ],
    evidence: "Migration info for 4b5c6d7e-",
    command: ["kvmig cancel app-3 -n demo", "kvmig restart app-3 -n demo"],
    check: (f) => {
      expect(
        f.evidence.some(
          (e) =>
            e.object === "Pod/virt-launcher-app-3-6rj2t" && e.text.startsWith("Migration info for 4b5c6d7e-"),
        ),
      ).toBe(true);
      expect(f.fix.commands).toEqual(["kvmig cancel app-3 -n demo", "kvmig restart app-3 -n demo"]);
      expect(f.causedBy).toBeUndefined();
    },
  },
};

describe(id, () => {
  testRuleFixtures(stuckMigration, hits, { minHits: 2, minNearMisses: 2 });

  test("without the launcher log it still reports past the completion timeout, with lower confidence", async () => {
    const base = await fixtureSnapshot(id, "running-launcher-silent");
    const [f] = stuckMigration.detect({ ...base, logs: [] });
    expect(f?.confidence).toBe("medium");
    expect(f?.notChecked?.join(" ")).toContain("source virt-launcher log");
    // Without a guest size, only after an hour, and low.
    const vmi = base.vmi;
    if (!vmi) throw new Error("fixture lost its VMI");
    const noSize = { ...vmi, spec: { ...vmi.spec, domain: {} } };
    expect(stuckMigration.detect({ ...base, logs: [], vmi: noSize })).toEqual([]);
    const [g] = stuckMigration.detect({ ...base, logs: [], vmi: noSize, takenAt: "2025-04-01T11:30:00Z" });
    expect(g?.confidence).toBe("low");
  });
});

describe("stuck-migration on a long Pending (state only)", () => {
  const pendingFor = (seconds: number) =>
    migration({
      name: "mig-p",
      uid: "uid-p",
      phase: "Pending",
      created: ago(seconds),
      transitions: { Pending: ago(seconds) },
    });
  const running = vmi({ phase: "Running", nodeName: "node-1" });

  test("an hour Pending with no target pod and no full queue is stuck; less is migration-queued's", () => {
    expect(stuckMigration.detect(snap({ vmi: running, migrations: [pendingFor(3599)] }))).toEqual([]);
    const [f] = stuckMigration.detect(snap({ vmi: running, migrations: [pendingFor(3600)] }));
    expect(f?.confidence).toBe("medium");
    expect(f?.summary).toBe(
      "VirtualMachineInstanceMigration/mig-p has been Pending for 60 min with nothing moving: no target pod was ever created, and nothing shows the parallel-migration limits full; virt-controller is holding it back (a stale record of an earlier migration, a target pod it cannot render, a condition it waits for).",
    );
    expect(f?.notChecked?.[0]).toMatch(/^virt-controller's log for this VMI/);
  });

  test("not while the queue is seen full, nor once a target pod exists", () => {
    const full = ["a", "b", "c", "d", "e"].map((n) => {
      const m = migration({
        name: `run-${n}`,
        uid: `uid-${n}`,
        phase: "Running",
        state: { sourceNode: "node-9" },
      });
      return { ...m, spec: { vmiName: `vm-${n}` } };
    });
    expect(stuckMigration.detect(snap({ vmi: running, migrations: [...full, pendingFor(7200)] }))).toEqual(
      [],
    );
    const target = pod("virt-launcher-db-1-t", { labels: { "kubevirt.io/migrationJobUID": "uid-p" } });
    expect(
      stuckMigration.detect(snap({ vmi: running, migrations: [pendingFor(7200)], pods: [target] })),
    ).toEqual([]);
  });
});
