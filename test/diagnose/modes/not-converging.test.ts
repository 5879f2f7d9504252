import { describe, expect, test } from "vitest";
import { notConverging } from "../../../src/diagnose/modes/not-converging.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import { defaultSettings, policyYaml } from "../../../src/migration/forecast.js";
import { fixtureSnapshot, type HitExpectation, testRuleFixtures } from "../../helpers/diagnose.js";

const id = "not-converging";

const hits: Record<string, HitExpectation> = {
  "kv3504-ram-stress-v0.28": {
    title: "kubevirt#3504 (v0.28): stuck for 151 sec and aborted",
    severity: "error",
    confidence: "high",
    summary: "no progress for 151 seconds",
    evidence: "reason:Live migration stuck for 151 sec",
    command: [
      `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"allowAutoConverge":true}}}}'`,
      "kvmig migrate vm1 -n default",
    ],
    check: (f) => {
      expect(f.evidence[0]).toMatchObject({
        object: "VirtualMachineInstance/vm1",
        field: "status.migrationState.failureReason",
        text: "Live migration stuck for 151 sec and has been aborted",
      });
      expect(
        f.evidence.some(
          (e) => e.field === "event Migrated" && e.text.includes("reason:Live migration stuck for 151 sec"),
        ),
      ).toBe(true);
    },
  },
  "v1.9-aborted-dirty-rate-above-bandwidth": {
    title:
      "v1.9: 'Live migration has been aborted' explained by the launcher's 'Aborting migration' line and the rates",
    severity: "error",
    confidence: "high",
    summary: ["no progress for 150 seconds", "dirtying memory at least as fast as the migration sends it"],
    evidence: ["Live migration has been aborted", "Aborting migration: stuck for 150 seconds"],
    command: "kvmig migrate busy-db -n data",
    check: (f) => {
      const texts = f.evidence.map((e) => e.text);
      expect(texts).toContain("Live migration has been aborted");
      expect(texts).toContain("Aborting migration: stuck for 150 seconds");
      expect(texts.some((t) => /MemoryBandwidth:536Mbps DirtyRate:1677Mbps/.test(t))).toBe(true);
      expect(f.evidence.find((e) => e.text.startsWith("Aborting"))?.object).toBe(
        "Pod/virt-launcher-busy-db-4hx7k",
      );
      // The model's first remedy lifts the 64Mi cap for this VM, with its MigrationPolicy.
      expect(f.fix.explanation).toContain("from 64 MiB/s to 400Mi");
      expect(f.fix.commands[0]).toContain('bandwidthPerMigration: "400Mi"');
    },
  },
};

describe(id, () => {
  testRuleFixtures(notConverging, hits, { minHits: 2, minNearMisses: 2 });

  describe("the forecast model on the fixture's 12 progress lines (busy-db, 8 GiB, 64Mi cap)", () => {
    test("the summary says what the samples showed, that it could not converge, and which timeout ends it", async () => {
      const [f] = notConverging.detect(await fixtureSnapshot(id, "v1.9-aborted-dirty-rate-above-bandwidth"));
      // 1677 Mbps = 209.6 MB/s = 200 MiB/s dirtied, 536 Mbps = 64 MiB/s sent; iterations 9-11 start at
      // 3466, 3452, 3471 MiB (each at least 95% of the one before); 150 s × 9 units (8 GiB = 8.6 × 10^9
      // bytes) = 1350 s; the last line is 169 s into the copy, 23.6 s before endTimestamp 14:03:34.
      expect(f?.summary).toContain(
        " kvmig's forecast model, from the 12 progress lines of this migration: the guest dirtied 200 MiB/s, at least the 64 MiB/s sent, " +
          "and the remaining data at the start of iterations 9, 10 and 11 (3466, 3452 and 3471 MiB) did not shrink: pre-copy could not converge, " +
          "and at that pace KubeVirt's completion timeout ends it 1350 s into the copy (completionTimeoutPerGiB 150 s × 9 started units of 10^9 bytes). " +
          "It ended 193 s into the copy, at 2025-06-10T14:03:34Z.",
      );
    });

    test("the fix is the model's advice, ranked, with the MigrationPolicy policyYaml writes for busy-db", async () => {
      const base = await fixtureSnapshot(id, "v1.9-aborted-dirty-rate-above-bandwidth");
      const [f] = notConverging.detect(base);
      // Twice the 200 MiB/s dirty rate, rounded up to 50 MiB/s: 400Mi. The VMI's only label is
      // kubevirt.io/nodeName, which moves with it: the VMI gets kvmig's label first and the policy
      // selects by it (by the namespace alone it would apply to every VM of data).
      const subject = {
        namespace: "data",
        vmName: "busy-db",
        memoryBytes: 8 * 1024 ** 3,
        labels: base.vmi?.metadata.labels,
        settings: defaultSettings,
      };
      const yaml = policyYaml(subject, { bandwidthPerMigration: "400Mi" });
      expect(yaml).toContain(
        '    virtualMachineInstanceSelector:\n      kvmig.io/migration-policy: "kvmig-busy-db"\n',
      );
      expect(f?.fix.commands).toEqual([
        `kubectl label vmi busy-db -n data kvmig.io/migration-policy=kvmig-busy-db --overwrite && kubectl apply -f - <<'EOF'\n${yaml}EOF`,
        "kvmig migrate busy-db -n data",
      ]);
      const explanation = f?.fix.explanation.split("\n") ?? [];
      expect(explanation[0]).toBe("what would make it converge, most effective first:");
      expect(explanation.slice(1, -1).map((l) => /^ {2}(\d)\. (\S+)/.exec(l)?.slice(1).join(" "))).toEqual([
        "1 raise",
        "2 allowPostCopy:",
        "3 a",
        "4 allowAutoConverge:",
      ]);
      expect(explanation[1]).toBe(
        "  1. raise bandwidthPerMigration for this VM from 64 MiB/s to 400Mi (twice its dirty rate): converges in about 40s, if the network carries it",
      );
      expect(explanation.at(-1)).toBe(
        "for the next migration of this VM (KubeVirt applies a policy when a migration starts):",
      );
    });

    test("a policy that selects the VM now is kept in the advised one, and its labels select it", async () => {
      const base = await fixtureSnapshot(id, "v1.9-aborted-dirty-rate-above-bandwidth");
      const vmi = base.vmi;
      const state = vmi?.status?.migrationState;
      if (!vmi || !state) throw new Error("fixture lost its VMI");
      const policy = {
        apiVersion: "migrations.kubevirt.io/v1alpha1",
        kind: "MigrationPolicy",
        metadata: { name: "db-policy" },
        spec: { selectors: { virtualMachineInstanceSelector: { app: "db" } }, completionTimeoutPerGiB: 150 },
      };
      const s: Snapshot = {
        ...base,
        migrationPolicies: [policy],
        vmi: {
          ...vmi,
          metadata: { ...vmi.metadata, labels: { ...vmi.metadata.labels, app: "db" } },
          status: { ...vmi.status, migrationState: { ...state, migrationPolicyName: "db-policy" } },
        },
      };
      const [f] = notConverging.detect(s);
      const yaml = f?.fix.commands[0] ?? "";
      expect(yaml).toContain('    virtualMachineInstanceSelector:\n      app: "db"\n');
      expect(yaml).toContain("  completionTimeoutPerGiB: 150\n");
      expect(yaml).not.toContain("kubevirt.io/nodeName");
    });

    test("with too few lines (under 3) or rates of an unknown release: no numbers, the cluster-wide fix", async () => {
      const base = await fixtureSnapshot(id, "v1.9-aborted-dirty-rate-above-bandwidth");
      const oldFix = [
        `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"allowAutoConverge":true}}}}'`,
        `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"bandwidthPerMigration":"0Mi"}}}}'`,
        `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"allowPostCopy":true}}}}'`,
        "kvmig migrate busy-db -n data",
      ];
      // Two progress lines: the model is not yet sure.
      let kept = 0;
      const logs = base.logs.map((l) => ({
        ...l,
        lines: l.lines.filter((x) => !x.includes("Migration info") || ++kept > 10),
      }));
      const [few] = notConverging.detect({ ...base, logs });
      expect(few?.summary).not.toContain("forecast model");
      expect(few?.fix.commands).toEqual(oldFix);
      // No launcher pod: its release, and so its rates, are unknown.
      const [unknown] = notConverging.detect({ ...base, pods: [] });
      expect(unknown?.summary).not.toContain("forecast model");
      expect(unknown?.summary).not.toMatch(/MiB\/s/);
      expect(unknown?.fix.commands).toEqual(oldFix);
    });
  });

  test("v1.9 without the launcher log: lower confidence, and it says what it could not check", async () => {
    const base = await fixtureSnapshot(id, "v1.9-aborted-dirty-rate-above-bandwidth");
    const [f] = notConverging.detect({ ...base, logs: [] });
    expect(f?.confidence).toBe("low");
    expect(f?.notChecked?.join(" ")).toContain("source virt-launcher log");
    expect(f?.summary).not.toContain("150 seconds");
  });

  test("v1.9 with progress lines but no abort line: medium, from the rates", async () => {
    const base = await fixtureSnapshot(id, "v1.9-aborted-dirty-rate-above-bandwidth");
    const logs = base.logs.map((l) => ({
      ...l,
      lines: l.lines.filter((x) => !x.includes("Aborting migration")),
    }));
    const [f] = notConverging.detect({ ...base, logs });
    expect(f?.confidence).toBe("medium");
    expect(f?.notChecked?.join(" ")).toContain("Aborting migration");
  });

  test("libvirt's own abort text counts when no user asked for the abort", async () => {
    const base = await fixtureSnapshot(id, "v1.9-aborted-dirty-rate-above-bandwidth");
    const vmi = base.vmi;
    const state = vmi?.status?.migrationState;
    if (!vmi || !state) throw new Error("fixture lost its VMI");
    const reason =
      "virError(Code=78, Domain=10, Message='operation aborted: job 'migration out' canceled by client')";
    const s: Snapshot = {
      ...base,
      vmi: { ...vmi, status: { ...vmi.status, migrationState: { ...state, failureReason: reason } } },
    };
    const [f] = notConverging.detect(s);
    expect(f?.confidence).toBe("high");
    expect(f?.evidence[0]?.text).toBe(reason);
  });

  test("a Running migration that loses the race is reported before the abort", async () => {
    const base = await fixtureSnapshot(id, "v1.9-aborted-dirty-rate-above-bandwidth");
    const [m] = base.migrations;
    if (!m) throw new Error("fixture lost its VMIM");
    const running = {
      ...m,
      status: {
        ...m.status,
        phase: "Running" as const,
        phaseTransitionTimestamps: m.status?.phaseTransitionTimestamps?.slice(0, -1),
      },
    };
    const logs = base.logs.map((l) => ({ ...l, lines: l.lines.filter((x) => x.includes("Migration info")) }));
    const s: Snapshot = {
      ...base,
      migrations: [running],
      logs,
      vmi: base.vmi && { ...base.vmi, status: { ...base.vmi.status, migrationState: undefined } },
      takenAt: "2025-06-10T14:03:20Z",
    };
    const [f, ...rest] = notConverging.detect(s);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe("warning");
    expect(f?.title).toBe("Migration is not converging");
    // Not "aborted after 150 s without progress": each pass still counts as progress (the previous poll's value).
    expect(f?.summary).toContain("so its 150 s progress timeout will not end it");
    expect(f?.summary).toContain("runs until the completion timeout");
  });
});
