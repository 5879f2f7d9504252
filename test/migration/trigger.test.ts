// Who created a migration, from the marks KubeVirt's controllers put on it, else the names they
// generate (older releases), else a user.
import { describe, expect, it } from "vitest";
import type { VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { migrationTrigger } from "../../src/migration/trigger.js";

function vmim(metadata: VirtualMachineInstanceMigration["metadata"]): VirtualMachineInstanceMigration {
  return { metadata: { namespace: "prod", ...metadata }, spec: { vmiName: "db" } };
}

describe("migrationTrigger", () => {
  it("the evacuation controller's annotation (its value is the node) is an evacuation, whatever the name", () => {
    expect(
      migrationTrigger(
        vmim({ name: "my-move", annotations: { "kubevirt.io/evacuationMigration": "node-1" } }),
      ),
    ).toBe("evacuation");
  });

  it("the workload updater's annotation (empty value) is a workload update", () => {
    expect(
      migrationTrigger(vmim({ name: "x-1", annotations: { "kubevirt.io/workloadUpdateMigration": "" } })),
    ).toBe("workload-update");
  });

  it("the volume-update label wins over the workload updater's annotation it comes with", () => {
    const m = vmim({
      name: "kubevirt-workload-update-abcde",
      annotations: { "kubevirt.io/workloadUpdateMigration": "" },
      labels: { "kubevirt.io/volume-update-migration": "db", "kubevirt.io/vmi-name": "db" },
    });
    expect(migrationTrigger(m)).toBe("volume-update");
  });

  it("the evacuation annotation wins over the volume-update label", () => {
    const m = vmim({
      name: "m",
      annotations: { "kubevirt.io/evacuationMigration": "node-2" },
      labels: { "kubevirt.io/volume-update-migration": "db" },
    });
    expect(migrationTrigger(m)).toBe("evacuation");
  });

  it("without a mark, the controllers' name prefixes tell (older KubeVirt), generateName too", () => {
    expect(migrationTrigger(vmim({ name: "kubevirt-evacuation-x7k2p" }))).toBe("evacuation");
    expect(migrationTrigger(vmim({ name: "kubevirt-workload-update-q9z8w" }))).toBe("workload-update");
    expect(migrationTrigger(vmim({ generateName: "kubevirt-evacuation-" }))).toBe("evacuation");
  });

  it("a mark wins over the name: a workload-update annotation on an evacuation-like name", () => {
    expect(
      migrationTrigger(
        vmim({ name: "kubevirt-evacuation-abc", annotations: { "kubevirt.io/workloadUpdateMigration": "" } }),
      ),
    ).toBe("workload-update");
  });

  it("anything else is a user's: virt-api's migrate, kvmig's, a hand-written one; labels of other kinds change nothing", () => {
    expect(migrationTrigger(vmim({ name: "kubevirt-migrate-vm-abcde" }))).toBe("user");
    expect(migrationTrigger(vmim({ name: "kvmig-db-1", labels: { "kubevirt.io/vmi-name": "db" } }))).toBe(
      "user",
    );
    expect(migrationTrigger(vmim({}))).toBe("user");
    // The annotation key in the labels, or the label key in the annotations, is no mark.
    expect(
      migrationTrigger(
        vmim({
          name: "m",
          labels: { "kubevirt.io/evacuationMigration": "node-1" },
          annotations: { "kubevirt.io/volume-update-migration": "db" },
        }),
      ),
    ).toBe("user");
  });
});
