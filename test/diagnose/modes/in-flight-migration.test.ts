import { describe, expect, test } from "vitest";
import { inFlightMigration } from "../../../src/diagnose/modes/in-flight-migration.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import { fixtureCases, fixtureSnapshot } from "../../helpers/diagnose.js";

const id = "in-flight-migration";

/** The API answer saved in the fixture, as the caller (kvmig migrate) hands it to diagnose. */

describe(id, () => {
  test("has hit and near-miss fixtures", () => {
    const { hits, nearMisses } = fixtureCases(id);
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(nearMisses.length).toBeGreaterThanOrEqual(1);
  });

  test("kubevirt#2495: refused by an in-flight job that no longer exists", async () => {
    const base = await fixtureSnapshot(id, "kv2495-refused-by-stale-state");
    // The directory's saved Status is the refusal; without a refusal there is nothing to report.
    expect(base.rejections.map((r) => r.status)).toEqual([400]);
    expect(inFlightMigration.detect({ ...base, rejections: [] })).toEqual([]);
    // As loaded: the directory holds the saved refusal.
    const s = base;
    const [f, ...rest] = inFlightMigration.detect(s);
    expect(rest).toEqual([]);
    expect(f?.id).toBe(id);
    expect(f?.severity).toBe("error");
    expect(f?.causedBy).toBe("stale-migration-state");
    expect(f?.evidence[0]?.text).toContain(
      "in-flight migration detected. Active migration job (b0a83915-a7b6-11e9-a058-525500d15501) is currently already in progress for VMI vmi-migratable.",
    );
    expect(f?.summary).toContain("no VMIM with UID b0a83915-a7b6-11e9-a058-525500d15501 exists");
    // The VMIMs were not in the directory, so that absence is not certain.
    expect(f?.confidence).toBe("medium");
    expect(f?.notChecked?.join(" ")).toContain("VMIMs of this VM");
    expect(f?.fix.commands).toContain("kvmig restart vmi-migratable -n default");
  });

  test("the workload updater refused while a user migration runs: follow or cancel it", async () => {
    const s = await fixtureSnapshot(id, "workload-update-refused");
    const [f, ...rest] = inFlightMigration.detect(s);
    expect(rest).toEqual([]);
    expect(f?.severity).toBe("warning");
    expect(f?.confidence).toBe("high");
    expect(f?.causedBy).toBeUndefined();
    expect(f?.evidence[0]).toMatchObject({
      object: "VirtualMachineInstance/db-1",
      field: "event FailedCreate (×2)",
    });
    expect(
      f?.evidence.some(
        (e) =>
          e.object === "VirtualMachineInstanceMigration/kubevirt-migrate-vm-8kq2z" &&
          e.text.startsWith("Running"),
      ),
    ).toBe(true);
    expect(f?.fix.commands).toEqual(["kvmig watch db-1 -n demo", "kvmig cancel db-1 -n demo"]);
  });

  test("the composite 500 from the migrate subresource is read too", async () => {
    const base = await fixtureSnapshot(id, "near-miss-running-no-rejection");
    const uid = base.migrations[0]?.metadata.uid ?? "";
    const s: Snapshot = {
      ...base,
      rejections: [
        {
          request: "PUT virtualmachines/db-1/migrate",
          status: 500,
          reason: "InternalError",
          message: `Internal error occurred: admission webhook "migration-create-validator.kubevirt.io" denied the request: in-flight migration detected. Active migration job (${uid}) is currently already in progress for VMI db-1.`,
          at: "2025-03-01T12:00:35Z",
        },
      ],
    };
    const [f] = inFlightMigration.detect(s);
    expect(f?.evidence[0]).toMatchObject({
      object: "PUT virtualmachines/db-1/migrate",
      field: "HTTP 500 InternalError",
      time: "2025-03-01T12:00:35Z",
    });
    expect(f?.summary).toContain("kubevirt-migrate-vm-8kq2z is still Running");
  });

  test.each(fixtureCases(id).nearMisses)("near miss %s gives no finding", async (caseName) => {
    const s = await fixtureSnapshot(id, caseName);
    expect(inFlightMigration.detect(s)).toEqual([]);
  });
});
