// Runs the rules over a snapshot: each rule on its own (one that throws is reported, the others
// still run), the fallback rules last with the others' findings, and the findings in order of
// likelihood: severity, then confidence, then specificity (a root cause before the symptom it
// explains), then id; a finding that names its root cause follows it. Pure: no I/O, no clock.

import { describeError } from "../errors.js";
import type { Confidence, Finding, Rule, Severity, Snapshot, Specificity } from "./types.js";

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
const confidenceRank: Record<Confidence, number> = { high: 0, medium: 1, low: 2 };
const specificityRank: Record<Specificity, number> = { cause: 0, symptom: 1, pattern: 2, fallback: 3 };

/** The specificity of a finding's rule, by the finding's id ("cause" for an unknown id). */
export type SpecificityOf = (id: string) => Specificity | undefined;

function compareFindings(a: Finding, b: Finding, specificityOf: SpecificityOf): number {
  const bySeverity = (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3);
  if (bySeverity !== 0) return bySeverity;
  const byConfidence = (confidenceRank[a.confidence] ?? 3) - (confidenceRank[b.confidence] ?? 3);
  if (byConfidence !== 0) return byConfidence;
  const bySpecificity =
    specificityRank[specificityOf(a.id) ?? "cause"] - specificityRank[specificityOf(b.id) ?? "cause"];
  if (bySpecificity !== 0) return bySpecificity;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Most severe first, then the most confident, then the most specific, then by id; a finding
 * whose `causedBy` names another finding present goes right after that root cause (with its own
 * dependants after it), whatever its severity.
 */
export function orderFindings(
  findings: readonly Finding[],
  specificityOf: SpecificityOf = () => undefined,
): Finding[] {
  const sorted = [...findings].sort((a, b) => compareFindings(a, b, specificityOf));
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
  const isFallback = (rule: Rule) => rule.specificity === "fallback";
  // The fallback rules run last, each seeing what the others found.
  for (const rule of [...rules.filter((r) => !isFallback(r)), ...rules.filter(isFallback)]) {
    try {
      const found = rule.detect(snapshot, isFallback(rule) ? [...findings] : undefined);
      if (!Array.isArray(found)) throw new Error("returned something other than a list of findings");
      findings.push(...found);
    } catch (error) {
      errors.push({ rule: rule.id, message: describeError(error).message });
    }
  }
  const specificity = new Map(rules.map((r) => [r.id, r.specificity]));
  const ordered = orderFindings(findings, (id) => specificity.get(id));
  const problems = ordered.filter((f) => f.severity === "error" || f.severity === "warning").length;
  return { status: problems > 0 ? "ProblemsFound" : "OK", problems, findings: ordered, errors };
}

/** The findings at or above the --fail-on level (none for `never`). */
export function findingsAtOrAbove(report: DiagnoseReport, failOn: FailOn): Finding[] {
  if (failOn === "never") return [];
  const limit = rank[failOn];
  return report.findings.filter((f) => (rank[f.severity] ?? 3) <= limit);
}
