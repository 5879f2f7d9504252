import { describe, expect, test } from "vitest";
import { notConverging } from "../../../src/diagnose/modes/not-converging.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
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
      // The 64Mi cap is named, and lifting it is one of the fixes.
      expect(f.fix.explanation).toContain("64Mi");
      expect(f.fix.commands.join("\n")).toContain('"bandwidthPerMigration":"0Mi"');
    },
  },
};

describe(id, () => {
  testRuleFixtures(notConverging, hits, { minHits: 2, minNearMisses: 2 });

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
