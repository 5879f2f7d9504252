// Whether a drain makes KubeVirt migrate a VMI: the VMI's strategy, else the KubeVirt CR's, else
// None; only LiveMigrate and LiveMigrateIfPossible with LiveMigratable=True (evacuation.go).
import { describe, expect, it } from "vitest";
import type { EvictionStrategy, KubeVirt, VirtualMachineInstance } from "../../src/k8s/types.js";
import { effectiveEvictionStrategy, evacuationMigrates } from "../../src/migration/eviction-strategy.js";

function vmi(strategy: EvictionStrategy | undefined, migratable: boolean): VirtualMachineInstance {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name: "db-1", namespace: "demo" },
    spec: strategy ? { evictionStrategy: strategy } : {},
    status: {
      phase: "Running",
      conditions: [{ type: "LiveMigratable", status: migratable ? "True" : "False" }],
    },
  };
}

function kubevirt(strategy?: EvictionStrategy): KubeVirt {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "KubeVirt",
    metadata: { name: "kubevirt", namespace: "kubevirt" },
    spec: strategy ? { configuration: { evictionStrategy: strategy } } : {},
  };
}

describe("evacuationMigrates", () => {
  it("by the VMI's own strategy and its LiveMigratable condition", () => {
    const cases: [EvictionStrategy, boolean, boolean][] = [
      ["LiveMigrate", true, true],
      ["LiveMigrate", false, false],
      ["LiveMigrateIfPossible", true, true],
      ["LiveMigrateIfPossible", false, false],
      ["External", true, false],
      ["None", true, false],
    ];
    for (const [strategy, migratable, expected] of cases) {
      expect([strategy, migratable, evacuationMigrates(vmi(strategy, migratable), undefined)]).toEqual([
        strategy,
        migratable,
        expected,
      ]);
    }
  });

  it("without one: the KubeVirt CR's, None when it has none, unknown when it was not read", () => {
    expect(effectiveEvictionStrategy(vmi(undefined, true), kubevirt("LiveMigrate"))).toBe("LiveMigrate");
    expect(evacuationMigrates(vmi(undefined, true), kubevirt("LiveMigrate"))).toBe(true);
    expect(effectiveEvictionStrategy(vmi(undefined, true), kubevirt())).toBe("None");
    expect(evacuationMigrates(vmi(undefined, true), kubevirt())).toBe(false);
    expect(effectiveEvictionStrategy(vmi(undefined, true), undefined)).toBeUndefined();
    expect(evacuationMigrates(vmi(undefined, true), undefined)).toBeUndefined();
    // The VMI's own wins over the cluster's.
    expect(evacuationMigrates(vmi("External", true), kubevirt("LiveMigrate"))).toBe(false);
  });
});
