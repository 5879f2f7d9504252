// Every failure-mode rule, one file each. Add a rule by importing it here; the registry takes
// them from this list, and the order here does not matter (output is sorted).

import type { Rule } from "../types.js";
import { bridgeMissingOnNode } from "./bridge-missing-on-node.js";
import { cpuModelMismatch } from "./cpu-model-mismatch.js";
import { handlerDisruption } from "./handler-disruption.js";
import { inFlightMigration } from "./in-flight-migration.js";
import { migrateForbidden } from "./migrate-forbidden.js";
import { migrationBackoff } from "./migration-backoff.js";
import { migrationConnectionLost } from "./migration-connection-lost.js";
import { migrationFailedUnexplained } from "./migration-failed-unexplained.js";
import { migrationQueued } from "./migration-queued.js";
import { networkAttachmentMissing } from "./network-attachment-missing.js";
import { notConverging } from "./not-converging.js";
import { notLiveMigratable } from "./not-live-migratable.js";
import { postcopyUnavailable } from "./postcopy-unavailable.js";
import { staleMigrationState } from "./stale-migration-state.js";
import { storageBlocksMigration } from "./storage-blocks-migration.js";
import { stuckMigration } from "./stuck-migration.js";
import { targetNetworkSetupFailed } from "./target-network-setup-failed.js";
import { targetPodFailed } from "./target-pod-failed.js";
import { targetPodUnschedulable } from "./target-pod-unschedulable.js";
import { versionSkew } from "./version-skew.js";
import { vifCacheMissing } from "./vif-cache-missing.js";

export const allRules: readonly Rule[] = [
  migrationQueued,
  notConverging,
  networkAttachmentMissing,
  bridgeMissingOnNode,
  stuckMigration,
  inFlightMigration,
  migrateForbidden,
  handlerDisruption,
  staleMigrationState,
  targetPodUnschedulable,
  cpuModelMismatch,
  notLiveMigratable,
  storageBlocksMigration,
  postcopyUnavailable,
  targetNetworkSetupFailed,
  targetPodFailed,
  versionSkew,
  migrationConnectionLost,
  vifCacheMissing,
  migrationBackoff,
  migrationFailedUnexplained,
];
