// The jobs `kvmig outdated --migrate/--restart` hands the bulk runner: which rows become jobs.
import { describe, expect, it } from "vitest";
import { jobOf } from "../../src/commands/outdated.js";
import type { OutdatedRow } from "../../src/outdated/rows.js";

function row(changes: Partial<OutdatedRow> = {}): OutdatedRow {
  return {
    namespace: "apps",
    vmi: "web-1",
    vm: "web-1",
    node: "node-1",
    phase: "Running",
    image: "quay.io/kubevirt/virt-launcher:v1.8.2",
    currentImage: "quay.io/kubevirt/virt-launcher:v1.9.0",
    labelled: true,
    liveMigratable: true,
    reason: null,
    message: null,
    action: "migrate",
    ...changes,
  };
}

describe("jobOf", () => {
  it("a migrate row becomes a migration of its VM", () => {
    expect(jobOf(row({ vmi: "web-1", vm: "web-1", node: "node-3" }))).toEqual({
      namespace: "apps",
      name: "web-1",
      vmi: "web-1",
      standalone: false,
      action: "migrate",
      node: "node-3",
    });
  });

  it("a restart row becomes a restart of the owning VM, not the VMI", () => {
    expect(
      jobOf(
        row({
          namespace: "team-b",
          vmi: "ledger-vmi",
          vm: "ledger",
          liveMigratable: false,
          action: "restart",
        }),
      ),
    ).toEqual({
      namespace: "team-b",
      name: "ledger",
      vmi: "ledger-vmi",
      standalone: false,
      action: "restart",
      node: "node-1",
    });
  });

  it("a standalone VMI is named by the VMI", () => {
    const j = jobOf(row({ vmi: "solo", vm: null, node: null }));
    expect(j).toEqual({
      namespace: "apps",
      name: "solo",
      vmi: "solo",
      standalone: true,
      action: "migrate",
      node: null,
    });
  });

  it.each(["wait", "recreate"] as const)("a %s row is no job", (action) => {
    expect(jobOf(row({ action }))).toBeUndefined();
    expect(jobOf(row({ action, vm: null }))).toBeUndefined();
  });
});
