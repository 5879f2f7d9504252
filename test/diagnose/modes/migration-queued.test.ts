import { describe, expect, test } from "vitest";
import { migrationBackoff } from "../../../src/diagnose/modes/migration-backoff.js";
import { migrationQueued } from "../../../src/diagnose/modes/migration-queued.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { fixtureSnapshot, type HitExpectation, testRuleFixtures } from "../../helpers/diagnose.js";

const id = "migration-queued";

const hits: Record<string, HitExpectation> = {
  "kv12773-two-active-pods": {
    title: "kubevirt#12773: a second migration waits for a Completed launcher pod still in activePods",
    severity: "warning",
    confidence: "high",
    evidence: [
      "de5d7166-9b5b-441c-a03a-5b131b3d5243: yj-qaovnk8swork-02",
      "e19201bc-9cb1-46bc-af3d-687d9c9419fb: yj-qaovnk8swork-01",
    ],
    command: ["kubectl delete pod virt-launcher-testvm-n2lww -n default", "kvmig watch testvm -n default"],
    check: (f) => {
      expect(f.causedBy).toBe("stale-migration-state");
      expect(
        f.evidence.some(
          (e) => e.object === "Pod/virt-launcher-testvm-n2lww" && e.text.startsWith("Succeeded"),
        ),
      ).toBe(true);
      expect(f.evidence.some((e) => e.object === "VirtualMachineInstanceMigration/migration-jobq7r2j")).toBe(
        true,
      );
    },
  },
  "kv10415-cluster-limit": {
    title: "kubevirt#10415: Pending behind the cluster limit, other VMs' migrations not in the snapshot",
    severity: "warning",
    // The loader keeps only vm-6's VMIMs: the counts cannot be checked, so the confidence is low.
    confidence: "low",
    evidence: ["parallelMigrationsPerCluster: 5", "parallelOutboundMigrationsPerNode: 2 (KubeVirt default)"],
    summary: "kubevirt-migrate-vm-k3w8s",
    command: [
      "kvmig watch vm-6 -n default",
      `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"parallelMigrationsPerCluster":6}}}}'`,
    ],
    check: (f) => {
      expect(f.notChecked?.join(" ")).toContain("running migrations of other VMs");
    },
  },
};

describe(id, () => {
  testRuleFixtures(migrationQueued, hits, { minHits: 2, minNearMisses: 2 });

  test("counts other VMs' running migrations when they are in the snapshot", async () => {
    const base = await fixtureSnapshot(id, "kv10415-cluster-limit");
    const running = (n: number, node: string): VirtualMachineInstanceMigration => ({
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: { name: `other-${n}`, namespace: "default", uid: `uid-${n}` },
      spec: { vmiName: `vm-${n}` },
      status: { phase: "Running", migrationState: { sourceNode: node } },
    });
    const full: Snapshot = {
      ...base,
      migrations: [...[1, 2, 3, 4, 5].map((n) => running(n, `node-${n}`)), ...base.migrations],
    };
    const [f] = migrationQueued.detect(full);
    expect(f?.confidence).toBe("high");
    expect(f?.summary).toContain("the cluster already runs 5 migrations (limit 5)");
    expect(f?.notChecked).toBeUndefined();

    const perNode: Snapshot = {
      ...base,
      migrations: [running(1, "node-a"), running(2, "node-a"), ...base.migrations],
    };
    const [g] = migrationQueued.detect(perNode);
    expect(g?.summary).toContain("node-a already has 2 outbound migrations (limit 2)");
    expect(g?.fix.commands.join("\n")).toContain('"parallelOutboundMigrationsPerNode":3');

    const room: Snapshot = { ...base, migrations: [running(1, "node-b"), ...base.migrations] };
    expect(migrationQueued.detect(room)).toEqual([]);
  });

  test("a virt-controller line naming the full limit raises the confidence", async () => {
    const base = await fixtureSnapshot(id, "kv10415-cluster-limit");
    const line = JSON.stringify({
      component: "virt-controller",
      level: "info",
      msg: "Waiting to schedule target pod for vmi [default/vm-6] migration because total running parallel migration count [5] is currently at the global cluster limit.",
      pos: "migration.go:1370",
      timestamp: "2023-09-12T08:02:30.000000Z",
    });
    const s: Snapshot = {
      ...base,
      logs: [
        ...base.logs,
        {
          namespace: "kubevirt",
          pod: "virt-controller-6d9b7c5f4-xk2lp",
          container: "virt-controller",
          lines: [line],
        },
      ],
    };
    const [f] = migrationQueued.detect(s);
    expect(f?.confidence).toBe("high");
    expect(f?.evidence.some((e) => e.text.includes("total running parallel migration count [5]"))).toBe(true);
    expect(f?.notChecked).toBeUndefined();
  });

  test("lower confidence without the pods listed in activePods", async () => {
    const base = await fixtureSnapshot(id, "kv12773-two-active-pods");
    const [f] = migrationQueued.detect({ ...base, pods: [] });
    expect(f?.confidence).toBe("medium");
    expect(f?.notChecked?.join(" ")).toContain("status.activePods");
    expect(f?.fix.commands[0]).toContain("kubectl get pods -n default -o wide -l kubevirt.io/created-by=");
  });
});

describe("a backoff loop seen in the failed attempts, its warnings gone", () => {
  test("is migration-backoff's, not a queue", async () => {
    const s = await fixtureSnapshot("migration-backoff", "kubevirt-9585-evacuation-unschedulable");
    const expired = { ...s, events: [] };
    expect(migrationBackoff.detect(expired)).toHaveLength(1);
    expect(migrationQueued.detect(expired)).toEqual([]);
  });
});
