// The forecast's advice as text: one source for the warning `kvmig migrate` prints while a
// migration runs (render/migration-render.ts) and for the fix of diagnose's not-converging, so
// that both name the same remedies in the same order with the same MigrationPolicy.

import { commandLine } from "../util/shell.js";
import type { Advice } from "./forecast.js";

export const adviceHeading = "what would make it converge, most effective first:";

/** Why the policy is for the next migration, before its command. */
export const policyIntro =
  "for the next migration of this VM (KubeVirt applies a policy when a migration starts):";

/** The advice numbered as the forecast ranks it (most effective first), each with its risk. */
export function adviceLines(advice: readonly Advice[]): string[] {
  return advice.map((a, i) => `  ${i + 1}. ${a.text}${a.risk ? ` (risk: ${a.risk})` : ""}`);
}

/** The most effective advice that comes with a MigrationPolicy (a dedicated network does not). */
export function policyAdvice(advice: readonly Advice[]): (Advice & { yaml: string }) | undefined {
  return advice.find((a): a is Advice & { yaml: string } => a.yaml !== undefined);
}

/**
 * `kubectl apply` with the policy as a here-document, one command to copy and paste, with the
 * connection flags of this run so that it reaches the cluster kvmig read.
 */
export function applyPolicyCommand(yaml: string, label?: Advice["label"]): string {
  // The VMI gets kvmig's label first when none of its own lets the policy select it alone.
  const labelFirst = label
    ? `${commandLine(["kubectl", "label", "vmi", label.vmi, "-n", label.namespace, `${label.key}=${label.value}`, "--overwrite"])} && `
    : "";
  return `${labelFirst}${commandLine(["kubectl", "apply", "-f", "-"])} <<'EOF'\n${yaml.trimEnd()}\nEOF`;
}
