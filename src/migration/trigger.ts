// Who created a migration. KubeVirt's controllers mark theirs: the evacuation controller (a drain,
// an eviction) annotates `kubevirt.io/evacuationMigration` with the node it empties
// (`pkg/virt-controller/watch/drain/evacuation/evacuation.go` GenerateNewMigration); the workload
// updater annotates `kubevirt.io/workloadUpdateMigration` and, for a migration that moves a VMI's
// volumes, labels it `kubevirt.io/volume-update-migration`
// (`pkg/virt-controller/watch/workload-updater/workload-updater.go`). A VMIM with none of these
// marks falls back on the generateName prefixes those controllers use (`kubevirt-evacuation-`,
// `kubevirt-workload-update-`), for releases that did not mark them; anything else a person (or a
// tool, kvmig and virtctl included) created.

import type { VirtualMachineInstanceMigration } from "../k8s/types.js";

export const evacuationMigrationAnnotation = "kubevirt.io/evacuationMigration";
export const workloadUpdateMigrationAnnotation = "kubevirt.io/workloadUpdateMigration";
export const volumeUpdateMigrationLabel = "kubevirt.io/volume-update-migration";

/** Who created a VMIM. */
export type MigrationTrigger = "user" | "evacuation" | "workload-update" | "volume-update";

export const migrationTriggers: readonly MigrationTrigger[] = [
  "user",
  "evacuation",
  "workload-update",
  "volume-update",
];

export function migrationTrigger(migration: VirtualMachineInstanceMigration): MigrationTrigger {
  const annotations = migration.metadata.annotations ?? {};
  const labels = migration.metadata.labels ?? {};
  if (evacuationMigrationAnnotation in annotations) return "evacuation";
  // The workload updater's volume migrations carry its annotation too: the label says more.
  if (volumeUpdateMigrationLabel in labels) return "volume-update";
  if (workloadUpdateMigrationAnnotation in annotations) return "workload-update";
  const name = migration.metadata.name ?? migration.metadata.generateName ?? "";
  if (name.startsWith("kubevirt-evacuation-")) return "evacuation";
  if (name.startsWith("kubevirt-workload-update-")) return "workload-update";
  return "user";
}
