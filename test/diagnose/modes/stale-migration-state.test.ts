import { describe, expect, test } from "vitest";
import { staleMigrationState } from "../../../src/diagnose/modes/stale-migration-state.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import { fixtureCases, fixtureSnapshot } from "../../helpers/diagnose.js";

const id = "stale-migration-state";

/** The API answer saved in the fixture, as the caller (kvmig migrate) hands it to diagnose. */

describe(id, () => {
  test("has hit and near-miss fixtures", () => {
    const { hits, nearMisses } = fixtureCases(id);
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(nearMisses.length).toBeGreaterThanOrEqual(2);
  });

  test("kubevirt#2495: an unfinished migrationState whose VMIM is gone", async () => {
    const loaded = await fixtureSnapshot(id, "kv2495-open-migration-state");
    // The saved refusal raises the confidence (next test); without it the finding stands alone.
    const s: Snapshot = { ...loaded, rejections: [] };
    const [f, ...rest] = staleMigrationState.detect(s);
    expect(rest).toEqual([]);
    expect(f?.id).toBe(id);
    expect(f?.severity).toBe("error");
    // The directory holds no VMIMs at all: whether the job exists could not be checked.
    expect(f?.confidence).toBe("low");
    expect(f?.notChecked?.join(" ")).toContain("VMIMs of this VM");
    expect(f?.evidence[0]?.text).toContain("migrationUid: b0a83915-a7b6-11e9-a058-525500d15501");
    expect(f?.evidence[0]?.text).toContain("targetPod: virt-launcher-vmi-migratable-46t7x");
    expect(f?.fix.commands).toContain("kvmig restart vmi-migratable -n default");
  });

  test("kubevirt#2495: the webhook's refusal naming the same UID raises the confidence", async () => {
    const base = await fixtureSnapshot(id, "kv2495-open-migration-state");
    // As loaded: the directory holds the webhook's saved refusal.
    const s = base;
    const [f] = staleMigrationState.detect(s);
    expect(f?.confidence).toBe("medium");
    expect(
      f?.evidence.some((e) =>
        e.text.includes(
          "in-flight migration detected. Active migration job (b0a83915-a7b6-11e9-a058-525500d15501)",
        ),
      ),
    ).toBe(true);
    // With the VMIM list read and empty, the absence is a fact.
    const read: Snapshot = {
      ...s,
      missing: s.missing.filter((m) => !/VirtualMachineInstanceMigration/.test(m.what)),
    };
    const [g] = staleMigrationState.detect(read);
    expect(g?.confidence).toBe("high");
    expect(g?.evidence.some((e) => e.text === "none has UID b0a83915-a7b6-11e9-a058-525500d15501")).toBe(
      true,
    );
    expect(g?.notChecked).toBeUndefined();
  });

  test("kubevirt#12773: a Completed launcher pod still listed in activePods", async () => {
    const s = await fixtureSnapshot(id, "kv12773-completed-pod-still-active");
    const [f, ...rest] = staleMigrationState.detect(s);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe("warning");
    expect(f?.confidence).toBe("high");
    expect(f?.evidence[0]?.text).toContain("e19201bc-9cb1-46bc-af3d-687d9c9419fb: yj-qaovnk8swork-01");
    expect(
      f?.evidence.some(
        (e) => e.object === "Pod/virt-launcher-testvm-n2lww" && e.text === "Succeeded on yj-qaovnk8swork-01",
      ),
    ).toBe(true);
    expect(f?.fix.commands[0]).toBe("kubectl delete pod virt-launcher-testvm-n2lww -n default");
  });

  test("without the pods, an offline snapshot cannot tell which entry is stale", async () => {
    const base = await fixtureSnapshot(id, "kv12773-completed-pod-still-active");
    const [f] = staleMigrationState.detect({ ...base, pods: [] });
    expect(f?.confidence).toBe("medium");
    expect(f?.notChecked?.join(" ")).toContain("status.activePods");
    // A live snapshot holds every launcher pod: a listed UID without a pod is gone.
    const [g] = staleMigrationState.detect({
      ...base,
      source: "live",
      pods: base.pods.filter((p) => p.status?.phase === "Running"),
    });
    expect(g?.confidence).toBe("high");
  });

  test.each(fixtureCases(id).nearMisses)("near miss %s gives no finding", async (caseName) => {
    const s = await fixtureSnapshot(id, caseName);
    expect(staleMigrationState.detect(s)).toEqual([]);
  });
});
