// The rules diagnose knows, by id: for --only/--skip validation, help and the engine.

import { UsageError } from "../errors.js";
import { allRules } from "./modes/index.js";
import type { Rule, Severity } from "./types.js";

export interface RuleInfo {
  id: string;
  title: string;
  severity: Severity;
}

/** Every rule, sorted by id. */
export function registeredRules(rules: readonly Rule[] = allRules): Rule[] {
  return [...rules].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Id, title and severity of every rule, sorted by id (for help and listings). */
export function ruleCatalog(rules: readonly Rule[] = allRules): RuleInfo[] {
  return registeredRules(rules).map(({ id, title, severity }) => ({ id, title, severity }));
}

/** `a,b c` → ["a", "b", "c"]: the flag may be repeated, comma- or space-separated. */
export function parseRuleIds(values: readonly string[] | string | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = (typeof values === "string" ? [values] : values).flatMap((v) => v.split(/[\s,]+/));
  return list.filter((id) => id !== "");
}

export interface RuleSelection {
  only?: readonly string[] | undefined;
  skip?: readonly string[] | undefined;
}

/** The rules to run; an id that names no rule is a usage error listing the valid ones. */
export function selectRules(selection: RuleSelection, rules: readonly Rule[] = allRules): Rule[] {
  const known = registeredRules(rules);
  const ids = new Set(known.map((r) => r.id));
  for (const [flag, list] of [
    ["--only", selection.only],
    ["--skip", selection.skip],
  ] as const) {
    const unknown = (list ?? []).filter((id) => !ids.has(id));
    if (unknown.length > 0) {
      const valid = known.length > 0 ? known.map((r) => r.id).join(", ") : "(no rules are registered)";
      throw new UsageError(
        `${flag}: unknown failure mode${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}`,
        { hint: `the failure modes are: ${valid}` },
      );
    }
  }
  const only = selection.only && selection.only.length > 0 ? new Set(selection.only) : undefined;
  const skip = new Set(selection.skip ?? []);
  return known.filter((r) => (only === undefined || only.has(r.id)) && !skip.has(r.id));
}
