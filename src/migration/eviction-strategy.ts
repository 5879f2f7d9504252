// Whether a drain makes KubeVirt migrate a VMI. The eviction strategy is the VMI's own
// `spec.evictionStrategy`, else the KubeVirt CR's `spec.configuration.evictionStrategy`, else
// None (KubeVirt's `pkg/util/migrations/migrations.go` VMIEvictionStrategy; the default in
// `pkg/virt-config/configuration.go`). The evacuation controller migrates a VMI marked for
// evacuation (or on a drain-tainted node) only when VMIMigratableOnEviction holds (LiveMigrate,
// or LiveMigrateIfPossible on a migratable VMI) and `LiveMigratable` is True
// (`pkg/virt-controller/watch/drain/evacuation/evacuation.go`). External VMIs are marked by the
// eviction webhook and left to an external controller; None VMIs' pods are simply evicted.

import type { EvictionStrategy, KubeVirt, VirtualMachineInstance } from "../k8s/types.js";

/** The strategy that applies; undefined when the VMI has none and the KubeVirt CR was not read. */
export function effectiveEvictionStrategy(
  vmi: VirtualMachineInstance | undefined,
  kubevirt: KubeVirt | null | undefined,
): EvictionStrategy | undefined {
  const own = vmi?.spec?.evictionStrategy;
  if (own) return own;
  if (!kubevirt) return undefined;
  return kubevirt.spec?.configuration?.evictionStrategy ?? "None";
}

function liveMigratable(vmi: VirtualMachineInstance | undefined): boolean {
  return vmi?.status?.conditions?.some((c) => c.type === "LiveMigratable" && c.status === "True") ?? false;
}

/**
 * Whether KubeVirt's evacuation controller creates migrations for this VMI when it is to leave
 * its node; undefined when the strategy is unknown.
 */
export function evacuationMigrates(
  vmi: VirtualMachineInstance | undefined,
  kubevirt: KubeVirt | null | undefined,
): boolean | undefined {
  const strategy = effectiveEvictionStrategy(vmi, kubevirt);
  if (strategy === undefined) return undefined;
  return (strategy === "LiveMigrate" || strategy === "LiveMigrateIfPossible") && liveMigratable(vmi);
}
