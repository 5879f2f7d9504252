// The engine: rules run in isolation, findings come out in one order whatever the rule order,
// root causes before their symptoms, --only/--skip validated, --fail-on thresholds.
import { describe, expect, it } from "vitest";
import { findingsAtOrAbove, orderFindings, runRules } from "../../src/diagnose/engine.js";
import { parseRuleIds, ruleCatalog, selectRules } from "../../src/diagnose/registry.js";
import type { Finding, Rule, Severity } from "../../src/diagnose/types.js";
import { ExitCode, UsageError } from "../../src/errors.js";
import { emptySnapshot } from "../helpers/diagnose.js";

function finding(id: string, severity: Severity, extra: Partial<Finding> = {}): Finding {
  return {
    id,
    title: `title of ${id}`,
    severity,
    confidence: "high",
    summary: `summary of ${id}`,
    evidence: [{ object: "VirtualMachineInstance/db-1", text: `seen for ${id}` }],
    fix: { explanation: `fix ${id}`, commands: [`kvmig restart db-1 -n demo`] },
    docs: "https://kubevirt.io/user-guide/compute/live_migration/",
    ...extra,
  };
}

function rule(id: string, severity: Severity, detect: Rule["detect"]): Rule {
  return { id, title: `title of ${id}`, severity, detect };
}

const fires = (id: string, severity: Severity, extra: Partial<Finding> = {}) =>
  rule(id, severity, () => [finding(id, severity, extra)]);

describe("runRules", () => {
  it("orders findings error > warning > info, then by id, whatever the rule order", () => {
    const rules = [
      fires("zeta", "info"),
      fires("beta", "warning"),
      fires("alpha", "warning"),
      fires("omega", "error"),
      rule("quiet", "error", () => []),
    ];
    const report = runRules(emptySnapshot(), rules);
    expect(report.findings.map((f) => f.id)).toEqual(["omega", "alpha", "beta", "zeta"]);
    expect(report.status).toBe("ProblemsFound");
    // Info findings are context, not problems.
    expect(report.problems).toBe(3);
    expect(report.errors).toEqual([]);
    expect(runRules(emptySnapshot(), [...rules].reverse())).toEqual(report);
  });

  it("ranks by likelihood: severity, then confidence, then specificity, then id", () => {
    const ranked = (
      id: string,
      severity: Severity,
      confidence: Finding["confidence"],
      specificity?: Rule["specificity"],
    ) => ({
      ...rule(id, severity, () => [finding(id, severity, { confidence })]),
      specificity,
    });
    const report = runRules(emptySnapshot(), [
      ranked("a-pattern", "error", "high", "pattern"),
      ranked("b-symptom", "error", "high", "symptom"),
      ranked("z-cause", "error", "high", "cause"),
      ranked("y-default", "error", "high"),
      ranked("c-cause-low", "error", "low", "cause"),
      ranked("d-symptom-medium", "error", "medium", "symptom"),
      ranked("e-warning", "warning", "high", "cause"),
    ]);
    expect(report.findings.map((f) => f.id)).toEqual([
      "y-default",
      "z-cause",
      "b-symptom",
      "a-pattern",
      "d-symptom-medium",
      "c-cause-low",
      "e-warning",
    ]);
  });

  it("runs fallback rules last, handing them what the others found", () => {
    const seen: string[][] = [];
    const fallback: Rule = {
      ...rule("fallback", "error", (_s, earlier) => {
        seen.push((earlier ?? []).map((f) => f.id));
        return earlier?.length ? [] : [finding("fallback", "error", { confidence: "low" })];
      }),
      specificity: "fallback",
    };
    const first = runRules(emptySnapshot(), [fallback, fires("cause", "warning")]);
    expect(seen).toEqual([["cause"]]);
    expect(first.findings.map((f) => f.id)).toEqual(["cause"]);
    const alone = runRules(emptySnapshot(), [fallback, rule("quiet", "error", () => [])]);
    expect(seen[1]).toEqual([]);
    expect(alone.findings.map((f) => f.id)).toEqual(["fallback"]);
    // A plain rule gets no earlier findings.
    let plainGot: unknown = "unset";
    runRules(emptySnapshot(), [
      fires("x", "error"),
      rule("plain", "error", (_s, earlier) => {
        plainGot = earlier;
        return [];
      }),
    ]);
    expect(plainGot).toBeUndefined();
  });

  it("puts a finding right after the root cause it names, even when it is more severe", () => {
    const report = runRules(emptySnapshot(), [
      fires("migration-backoff", "error", { causedBy: "version-skew" }),
      fires("version-skew", "warning"),
      fires("another-error", "error"),
      fires("stuck-migration", "info", { causedBy: "migration-backoff" }),
      fires("orphan", "warning", { causedBy: "not-present" }),
    ]);
    expect(report.findings.map((f) => f.id)).toEqual([
      "another-error",
      "orphan",
      "version-skew",
      "migration-backoff",
      "stuck-migration",
    ]);
  });

  it("findings that name each other in a circle keep the plain order, each once", () => {
    const ordered = orderFindings([
      finding("b", "error", { causedBy: "a" }),
      finding("a", "error", { causedBy: "b" }),
      finding("self", "info", { causedBy: "self" }),
    ]);
    expect(ordered.map((f) => f.id)).toEqual(["a", "b", "self"]);
  });

  it("a rule that throws is reported with its message, and the other rules still run", () => {
    const report = runRules(emptySnapshot(), [
      rule("broken", "error", () => {
        throw new TypeError("Cannot read properties of undefined (reading 'phase')\n    at detect");
      }),
      rule("wrong-shape", "error", () => "nope" as unknown as Finding[]),
      fires("works", "warning"),
    ]);
    expect(report.findings.map((f) => f.id)).toEqual(["works"]);
    expect(report.errors).toEqual([
      { rule: "broken", message: "Cannot read properties of undefined (reading 'phase')" },
      { rule: "wrong-shape", message: "returned something other than a list of findings" },
    ]);
  });

  it("no findings: status OK and zero problems, as JSON exactly the spec's keys", () => {
    const report = runRules(emptySnapshot(), [rule("quiet", "error", () => [])]);
    expect(report).toEqual({ status: "OK", problems: 0, findings: [], errors: [] });
    expect(Object.keys(JSON.parse(JSON.stringify(report)))).toEqual([
      "status",
      "problems",
      "findings",
      "errors",
    ]);
  });
});

describe("--fail-on", () => {
  const report = runRules(emptySnapshot(), [fires("w", "warning"), fires("i", "info")]);
  it("error: a warning is below the threshold", () => {
    expect(findingsAtOrAbove(report, "error")).toEqual([]);
  });
  it("warning: the warning counts, the info does not", () => {
    expect(findingsAtOrAbove(report, "warning").map((f) => f.id)).toEqual(["w"]);
  });
  it("never: nothing counts, even an error", () => {
    const withError = runRules(emptySnapshot(), [fires("e", "error")]);
    expect(findingsAtOrAbove(withError, "never")).toEqual([]);
    expect(findingsAtOrAbove(withError, "error").map((f) => f.id)).toEqual(["e"]);
  });
});

describe("registry", () => {
  const rules = [
    fires("version-skew", "error"),
    fires("vif-cache-missing", "error"),
    fires("migration-queued", "info"),
  ];

  it("lists the rules by id with title and severity", () => {
    expect(ruleCatalog(rules)).toEqual([
      { id: "migration-queued", title: "title of migration-queued", severity: "info" },
      { id: "version-skew", title: "title of version-skew", severity: "error" },
      { id: "vif-cache-missing", title: "title of vif-cache-missing", severity: "error" },
    ]);
  });

  it("--only and --skip select rules; both may be given", () => {
    expect(selectRules({ only: ["version-skew", "migration-queued"] }, rules).map((r) => r.id)).toEqual([
      "migration-queued",
      "version-skew",
    ]);
    expect(selectRules({ skip: ["version-skew"] }, rules).map((r) => r.id)).toEqual([
      "migration-queued",
      "vif-cache-missing",
    ]);
    expect(selectRules({ only: ["version-skew"], skip: ["version-skew"] }, rules)).toEqual([]);
    expect(selectRules({}, rules)).toHaveLength(3);
  });

  it("an unknown id is a usage error (exit 2) that lists the valid ones", () => {
    let error: unknown;
    try {
      selectRules({ skip: ["version-skw", "nope"] }, rules);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    expect((error as UsageError).message).toBe('--skip: unknown failure modes "version-skw", "nope"');
    expect((error as UsageError).hint).toBe(
      "the failure modes are: migration-queued, version-skew, vif-cache-missing",
    );
  });

  it("parses comma- and space-separated lists from repeated flags", () => {
    expect(parseRuleIds(["a,b", "c", " d , e "])).toEqual(["a", "b", "c", "d", "e"]);
    expect(parseRuleIds(undefined)).toBeUndefined();
    expect(parseRuleIds("x")).toEqual(["x"]);
  });
});
