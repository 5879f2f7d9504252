// Runs the rules over a snapshot: each rule on its own (one that throws is reported, the others
// still run), findings in a deterministic order, root causes before the symptoms they explain.
// Pure: no I/O, no clock.

import { describeError } from "../errors.js";
import type { Finding, Rule, Severity, Snapshot } from "./types.js";

export interface RuleError {
  rule: string;
  message: string;
}

/** The `-o json` shape of `kvmig diagnose` (product spec §2). */
export interface DiagnoseReport {
  status: "OK" | "ProblemsFound";
  /** Findings of severity error or warning; info findings are context, not problems. */
  problems: number;
  findings: Finding[];
  errors: RuleError[];
}

export type FailOn = "error" | "warning" | "never";
export const failOnLevels: readonly FailOn[] = ["error", "warning", "never"];

const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

function compareFindings(a: Finding, b: Finding): number {
  const bySeverity = (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3);
  if (bySeverity !== 0) return bySeverity;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Most severe first, then by id; a finding whose `causedBy` names another finding present goes
 * right after that root cause (with its own dependants after it), whatever its severity.
 */
export function orderFindings(findings: readonly Finding[]): Finding[] {
  const sorted = [...findings].sort(compareFindings);
  const firstById = new Map<string, Finding>();
  for (const f of sorted) if (!firstById.has(f.id)) firstById.set(f.id, f);
  const namedParent = (f: Finding): Finding | undefined => {
    const parent = f.causedBy === undefined ? undefined : firstById.get(f.causedBy);
    return parent === f ? undefined : parent;
  };
  // Findings that name each other in a circle have no root: they keep the plain order.
  const reachesRoot = (f: Finding): boolean => {
    const seen = new Set<Finding>();
    for (let at: Finding | undefined = f; at !== undefined; at = namedParent(at)) {
      if (seen.has(at)) return false;
      seen.add(at);
    }
    return true;
  };
  const parentOf = (f: Finding) => (reachesRoot(f) ? namedParent(f) : undefined);
  const children = new Map<Finding, Finding[]>();
  for (const f of sorted) {
    const parent = parentOf(f);
    if (parent) children.set(parent, [...(children.get(parent) ?? []), f]);
  }
  const out: Finding[] = [];
  const emitted = new Set<Finding>();
  const emit = (f: Finding) => {
    if (emitted.has(f)) return;
    emitted.add(f);
    out.push(f);
    for (const child of children.get(f) ?? []) emit(child);
  };
  for (const f of sorted) if (parentOf(f) === undefined) emit(f);
  return out;
}

export function runRules(snapshot: Snapshot, rules: readonly Rule[]): DiagnoseReport {
  const findings: Finding[] = [];
  const errors: RuleError[] = [];
  for (const rule of rules) {
    try {
      const found = rule.detect(snapshot);
      if (!Array.isArray(found)) throw new Error("returned something other than a list of findings");
      findings.push(...found);
    } catch (error) {
      errors.push({ rule: rule.id, message: describeError(error).message });
    }
  }
  const ordered = orderFindings(findings);
  const problems = ordered.filter((f) => f.severity === "error" || f.severity === "warning").length;
  return { status: problems > 0 ? "ProblemsFound" : "OK", problems, findings: ordered, errors };
}

/** The findings at or above the --fail-on level (none for `never`). */
export function findingsAtOrAbove(report: DiagnoseReport, failOn: FailOn): Finding[] {
  if (failOn === "never") return [];
  const limit = rank[failOn];
  return report.findings.filter((f) => (rank[f.severity] ?? 3) <= limit);
}
