import { describe, expect, test } from "vitest";
import { handlerDisruption } from "../../../src/diagnose/modes/handler-disruption.js";
import { stuckMigration } from "../../../src/diagnose/modes/stuck-migration.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import type { Pod } from "../../../src/k8s/types.js";
import { fixtureSnapshot, type HitExpectation, testRuleFixtures } from "../../helpers/diagnose.js";

const id = "handler-disruption";
const hit = "kv18670-handler-rollout-mid-migration";

const hits: Record<string, HitExpectation> = {
  [hit]: {
    title: "kubevirt#18670: notify server unreachable mid-migration during a rollout",
    severity: "warning",
    confidence: "high",
    evidence: "Failed to connect to notify server",
    command: [
      "kubectl rollout status daemonset/virt-handler -n kubevirt",
      "kvmig cancel testvmi-x7k2p -n kubevirt-test-default1",
    ],
    check: (f) => {
      const notify = f.evidence.find((e) => e.text.startsWith("Failed to connect to notify server"));
      expect(notify).toMatchObject({
        object: "Pod/virt-launcher-testvmi-x7k2p-bq9lm",
        field: "log compute",
        time: "2026-07-30T23:36:45.812000Z",
      });
      expect(notify?.text).toContain("domain-notify-pipe.sock");
      expect(
        f.evidence.some(
          (e) => e.text === "phase Deploying, observedKubeVirtVersion v1.8.2, targetKubeVirtVersion v1.9.0",
        ),
      ).toBe(true);
      expect(f.notChecked?.join(" ")).toContain("virt-handler pods on node01 and node02");
    },
  },
};

describe(id, () => {
  testRuleFixtures(handlerDisruption, hits, { minHits: 1 });

  test("the stuck migration it leaves behind names it as the cause", async () => {
    const s = await fixtureSnapshot(id, hit);
    const [f] = stuckMigration.detect(s);
    expect(f?.causedBy).toBe(id);
  });

  test("notify lines alone, without a rollout, give medium confidence", async () => {
    const base = await fixtureSnapshot(id, hit);
    const kubevirt = base.kubevirt && {
      ...base.kubevirt,
      status: {
        phase: "Deployed" as const,
        observedKubeVirtVersion: "v1.9.0",
        targetKubeVirtVersion: "v1.9.0",
      },
    };
    const migrations = base.migrations.map((m) => ({ ...m, metadata: { ...m.metadata, annotations: {} } }));
    const [f] = handlerDisruption.detect({ ...base, kubevirt, migrations });
    expect(f?.confidence).toBe("medium");
  });

  test("a virt-handler pod that restarted on the source node during the migration", async () => {
    const base = await fixtureSnapshot(id, hit);
    const handler: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "virt-handler-8d2kq",
        namespace: "kubevirt",
        labels: { "kubevirt.io": "virt-handler" },
        creationTimestamp: "2026-07-20T00:00:00Z",
      },
      spec: { nodeName: "node01" },
      status: {
        phase: "Running",
        containerStatuses: [
          {
            name: "virt-handler",
            restartCount: 1,
            lastState: { terminated: { reason: "Error", exitCode: 2, finishedAt: "2026-07-30T23:36:44Z" } },
            state: { running: { startedAt: "2026-07-30T23:36:50Z" } },
          },
        ],
      },
    };
    const s: Snapshot = {
      ...base,
      logs: [],
      pods: [...base.pods, handler],
      kubevirt: undefined,
      migrations: base.migrations.map((m) => ({ ...m, metadata: { ...m.metadata, annotations: {} } })),
    };
    const [f] = handlerDisruption.detect(s);
    expect(f?.confidence).toBe("high");
    expect(f?.evidence[0]).toMatchObject({
      object: "Pod/virt-handler-8d2kq",
      time: "2026-07-30T23:36:44Z",
      text: "Error (exit code 2), restartCount 1",
    });
    expect(f?.notChecked?.join(" ")).toContain("virt-launcher logs");
  });

  test("a stopped heartbeat on the target node, and a failed migration makes it an error", async () => {
    const base = await fixtureSnapshot(id, hit);
    const [m] = base.migrations;
    if (!m) throw new Error("fixture lost its VMIM");
    const failed = {
      ...m,
      status: {
        ...m.status,
        phase: "Failed" as const,
        phaseTransitionTimestamps: [
          ...(m.status?.phaseTransitionTimestamps ?? []),
          { phase: "Failed" as const, phaseTransitionTimestamp: "2026-07-30T23:47:00Z" },
        ],
      },
    };
    const node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: "node02",
        annotations: { "kubevirt.io/heartbeat": "2026-07-30T23:36:30Z" },
        labels: { "kubevirt.io/schedulable": "false" },
      },
    };
    const s: Snapshot = { ...base, logs: [], nodes: [node], migrations: [failed] };
    const [f] = handlerDisruption.detect(s);
    expect(f?.severity).toBe("error");
    expect(
      f?.evidence.some((e) => e.object === "Node/node02" && e.text.includes("kubevirt.io/schedulable=false")),
    ).toBe(true);
    expect(f?.fix.commands.some((c) => c.startsWith("kvmig cancel"))).toBe(false);
  });
});
