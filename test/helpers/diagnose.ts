// Diagnose fixtures: test/fixtures/diagnose/<rule id>/<case>/ holds the evidence of one case as
// `--from` reads it. Cases named `near-miss-*` look like the failure but are not it: the rule
// must stay silent (or say less) there.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSnapshotFromDir, type OfflineOptions } from "../../src/diagnose/offline.js";
import type { Snapshot } from "../../src/diagnose/types.js";

export const diagnoseFixturesDir = fileURLToPath(new URL("../fixtures/diagnose", import.meta.url));

export function fixtureDir(id: string, caseName: string): string {
  return join(diagnoseFixturesDir, id, caseName);
}

/** The snapshot of one fixture case, loaded exactly as `kvmig diagnose --from` loads it. */
export function fixtureSnapshot(
  id: string,
  caseName: string,
  options: OfflineOptions = {},
): Promise<Snapshot> {
  return loadSnapshotFromDir(fixtureDir(id, caseName), options);
}

/** The case directories of a rule, sorted: hits, and near misses (`near-miss-*`). */
export function fixtureCases(id: string): { hits: string[]; nearMisses: string[] } {
  const root = join(diagnoseFixturesDir, id);
  const dirs = readdirSync(root)
    .filter((name) => statSync(join(root, name)).isDirectory())
    .sort();
  return {
    hits: dirs.filter((name) => !name.startsWith("near-miss-")),
    nearMisses: dirs.filter((name) => name.startsWith("near-miss-")),
  };
}

/** A snapshot with nothing in it but the subject, for engine and render tests. */
export function emptySnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    source: "directory",
    takenAt: "2025-03-01T12:00:00Z",
    namespace: "demo",
    vmName: "db-1",
    migrations: [],
    pods: [],
    events: [],
    logs: [],
    nodes: [],
    networkAttachmentDefinitions: [],
    migrationPolicies: [],
    rejections: [],
    missing: [],
    ...overrides,
  };
}
