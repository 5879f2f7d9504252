import { describe, expect, test } from "vitest";
import { migrationQueued } from "../../../src/diagnose/modes/migration-queued.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { fixtureCases, fixtureSnapshot } from "../../helpers/diagnose.js";

const id = "migration-queued";

describe(id, () => {
  test("has hit and near-miss fixtures", () => {
    const { hits, nearMisses } = fixtureCases(id);
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(nearMisses.length).toBeGreaterThanOrEqual(2);
  });

  test("kubevirt#12773: a second migration waits for a Completed launcher pod still in activePods", async () => {
    const s = await fixtureSnapshot(id, "kv12773-two-active-pods");
    const [f, ...rest] = migrationQueued.detect(s);
    expect(rest).toEqual([]);
    expect(f?.id).toBe(id);
    expect(f?.severity).toBe("warning");
    expect(f?.confidence).toBe("high");
    expect(f?.causedBy).toBe("stale-migration-state");
    const texts = f?.evidence.map((e) => e.text).join("\n") ?? "";
    expect(texts).toContain("de5d7166-9b5b-441c-a03a-5b131b3d5243: yj-qaovnk8swork-02");
    expect(texts).toContain("e19201bc-9cb1-46bc-af3d-687d9c9419fb: yj-qaovnk8swork-01");
    expect(
      f?.evidence.some(
        (e) => e.object === "Pod/virt-launcher-testvm-n2lww" && e.text.startsWith("Succeeded"),
      ),
    ).toBe(true);
    expect(f?.evidence.some((e) => e.object === "VirtualMachineInstanceMigration/migration-jobq7r2j")).toBe(
      true,
    );
    expect(f?.fix.commands).toContain("kubectl delete pod virt-launcher-testvm-n2lww -n default");
    expect(f?.fix.commands).toContain("kvmig watch testvm -n default");
  });

  test("kubevirt#10415: Pending behind the cluster limit, other VMs' migrations not in the snapshot", async () => {
    const s = await fixtureSnapshot(id, "kv10415-cluster-limit");
    const [f] = migrationQueued.detect(s);
    expect(f?.id).toBe(id);
    expect(f?.severity).toBe("warning");
    // The loader keeps only vm-6's VMIMs: the counts cannot be checked, so the confidence is low.
    expect(f?.confidence).toBe("low");
    expect(f?.notChecked?.join(" ")).toContain("running migrations of other VMs");
    const texts = f?.evidence.map((e) => e.text).join("\n") ?? "";
    expect(texts).toContain("parallelMigrationsPerCluster: 5");
    expect(texts).toContain("parallelOutboundMigrationsPerNode: 2 (KubeVirt default)");
    expect(f?.summary).toContain("kubevirt-migrate-vm-k3w8s");
    expect(f?.fix.commands).toContain("kvmig watch vm-6 -n default");
    expect(f?.fix.commands).toContain(
      `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"parallelMigrationsPerCluster":6}}}}'`,
    );
  });

  test.each(fixtureCases(id).nearMisses)("near miss %s gives no finding", async (caseName) => {
    const s = await fixtureSnapshot(id, caseName);
    expect(migrationQueued.detect(s)).toEqual([]);
  });

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
