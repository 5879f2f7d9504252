import { describe, expect, test } from "vitest";
import { stuckMigration } from "../../../src/diagnose/modes/stuck-migration.js";
import { fixtureCases, fixtureSnapshot } from "../../helpers/diagnose.js";

const id = "stuck-migration";

describe(id, () => {
  test("has hit and near-miss fixtures", () => {
    const { hits, nearMisses } = fixtureCases(id);
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(nearMisses.length).toBeGreaterThanOrEqual(2);
  });

  test("kubevirt#2228: a cancel requested in Scheduling never completes", async () => {
    const s = await fixtureSnapshot(id, "kv2228-cancel-in-scheduling");
    const [f, ...rest] = stuckMigration.detect(s);
    expect(rest).toEqual([]);
    expect(f?.id).toBe(id);
    expect(f?.severity).toBe("error");
    expect(f?.confidence).toBe("high");
    expect(f?.title).toBe("Migration cancel does not complete");
    expect(f?.summary).toContain("30 min ago");
    expect(f?.summary).toContain("still Scheduling");
    expect(
      f?.evidence.some(
        (e) => e.field === "status.conditions[migrationAbortRequested]" && e.time === "2019-04-26T19:56:15Z",
      ),
    ).toBe(true);
    expect(
      f?.evidence.some(
        (e) =>
          e.field === "metadata.deletionTimestamp" && e.text.includes("kubevirt.io/migrationJobFinalize"),
      ),
    ).toBe(true);
    expect(f?.fix.commands).toContain("kubectl delete pod virt-launcher-vmi-migratable-8hq4d -n default");
    expect(f?.fix.commands).toContain("kvmig restart vmi-migratable -n default");
  });

  test("Running for 40 minutes with the launcher's progress lines stopped", async () => {
    const s = await fixtureSnapshot(id, "running-launcher-silent");
    const [f, ...rest] = stuckMigration.detect(s);
    expect(rest).toEqual([]);
    expect(f?.confidence).toBe("high");
    expect(f?.summary).toContain("Running for 40 min");
    expect(f?.summary).toContain("last progress line is 40 min old");
    expect(f?.summary).toContain("longer than the 15 min after which virt-launcher aborts");
    expect(
      f?.evidence.some(
        (e) =>
          e.object === "Pod/virt-launcher-app-3-6rj2t" && e.text.startsWith("Migration info for 4b5c6d7e-"),
      ),
    ).toBe(true);
    expect(f?.fix.commands).toEqual(["kvmig cancel app-3 -n demo", "kvmig restart app-3 -n demo"]);
    expect(f?.causedBy).toBeUndefined();
  });

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

  test.each(fixtureCases(id).nearMisses)("near miss %s gives no finding", async (caseName) => {
    const s = await fixtureSnapshot(id, caseName);
    expect(stuckMigration.detect(s)).toEqual([]);
  });
});
