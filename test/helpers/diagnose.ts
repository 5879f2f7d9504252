// Diagnose fixtures: test/fixtures/diagnose/<rule id>/<case>/ holds the evidence of one case as
// `--from` reads it. Cases named `near-miss-*` look like the failure but are not it: the rule
// must stay silent (or say less) there.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { loadSnapshotFromDir, type OfflineOptions } from "../../src/diagnose/offline.js";
import type { Confidence, Finding, Rule, Severity, Snapshot } from "../../src/diagnose/types.js";

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

/** What a rule must report on one hit fixture: exactly one finding, with these values. */
export interface HitExpectation {
  /** The test's name; `fires on <case>` (or the `hitTitle` option) when not given. */
  title?: string;
  severity: Severity;
  confidence: Confidence;
  /** Text that some evidence line must contain; with a list, each item. */
  evidence: string | readonly string[];
  /** A command the fix must offer, among others; with a list, each of them. */
  command: string | readonly string[];
  /** Text the summary must contain; with a list, each item. */
  summary?: string | readonly string[];
  /** Further checks on this case's finding, and the snapshot it came from. */
  check?: (finding: Finding, snapshot: Snapshot) => void | Promise<void>;
}

export interface RuleFixtureOptions<H extends HitExpectation> {
  /** At least this many hit fixtures. */
  minHits?: number;
  /** At least this many near misses (default 1). */
  minNearMisses?: number;
  /** The name of each hit's test, unless the expectation has a title (default `fires on <case>`). */
  hitTitle?: (caseName: string) => string;
  /** Rules that must stay silent on every hit fixture (the failure is this rule's alone). */
  silent?: readonly Rule[];
  /** Checks made on the finding of every hit fixture, after the expectation's own. */
  checkEvery?: (finding: Finding, want: H, snapshot: Snapshot) => void | Promise<void>;
}

function list(value: string | readonly string[] | undefined): readonly string[] {
  return value === undefined ? [] : typeof value === "string" ? [value] : value;
}

/**
 * Registers, in the enclosing describe block, the tests every rule runs on its fixtures: that
 * `hits` names exactly the rule's hit fixtures (and that there are near misses), that each hit
 * gives one finding as `hits` describes it, and that the rule stays silent on each near miss.
 */
export function testRuleFixtures<H extends HitExpectation>(
  rule: Rule,
  hits: Readonly<Record<string, H>>,
  options: RuleFixtureOptions<H> = {},
): void {
  const { id } = rule;
  const cases = fixtureCases(id);

  // Every fixture goes through the whole engine in test/diagnose/corpus.test.ts; here the rule's
  // own reasoning is checked in detail on the cases listed.
  it("has a hit fixture for every expectation, and near misses", () => {
    for (const name of Object.keys(hits)) expect(cases.hits).toContain(name);
    if (options.minHits !== undefined) expect(cases.hits.length).toBeGreaterThanOrEqual(options.minHits);
    expect(cases.nearMisses.length).toBeGreaterThanOrEqual(options.minNearMisses ?? 1);
  });

  for (const [name, want] of Object.entries(hits)) {
    it(want.title ?? options.hitTitle?.(name) ?? `fires on ${name}`, async () => {
      const snapshot = await fixtureSnapshot(id, name);
      const findings = rule.detect(snapshot);
      expect(findings).toHaveLength(1);
      const finding = findings[0] as Finding;
      expect(finding.id).toBe(id);
      expect(finding.severity).toBe(want.severity);
      expect(finding.confidence).toBe(want.confidence);
      for (const text of list(want.evidence)) {
        expect(
          finding.evidence.some((e) => e.text.includes(text)),
          `some evidence contains ${JSON.stringify(text)}`,
        ).toBe(true);
      }
      for (const text of list(want.summary)) expect(finding.summary).toContain(text);
      for (const command of list(want.command)) expect(finding.fix.commands).toContain(command);
      for (const other of options.silent ?? []) {
        expect(other.detect(snapshot), `${other.id} on ${name}`).toEqual([]);
      }
      await want.check?.(finding, snapshot);
      await options.checkEvery?.(finding, want, snapshot);
    });
  }

  for (const name of cases.nearMisses) {
    it(`stays silent on ${name}`, async () => {
      expect(rule.detect(await fixtureSnapshot(id, name))).toEqual([]);
    });
  }
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

/**
 * The snapshot with every message text removed, as a cluster that words nothing (or words it
 * in a way no rule knows) leaves it: no failureReason, no event or condition message, no log
 * line, no rejection text. What is left is KubeVirt's state: objects, phases, conditions'
 * types, statuses and reasons, timestamps, pods, images, labels, event reasons.
 */
export function stripMessages(s: Snapshot): Snapshot {
  const clone = <T>(value: T): T => structuredClone(value);
  const dropMessages = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) dropMessages(item);
      return;
    }
    if (value === null || typeof value !== "object") return;
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (key === "message" || key === "failureReason") delete record[key];
      else dropMessages(record[key]);
    }
  };
  const migrations = clone(s.migrations);
  const vmi = clone(s.vmi);
  const pods = clone(s.pods);
  const nodes = clone(s.nodes);
  const events = clone(s.events);
  dropMessages([migrations, vmi, pods, nodes, events]);
  return {
    ...s,
    migrations,
    vmi,
    pods,
    nodes,
    events,
    logs: [],
    rejections: s.rejections.map((r) => ({ ...r, message: "" })),
  };
}
