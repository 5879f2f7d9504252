// migration-backoff: the evacuation controller (a drain) or the workload updater (an upgrade)
// keeps creating migrations for one VMI, they keep failing, and virt-controller holds each new
// one Pending for a growing delay: 20 s after the first failure, doubling after each further one
// (facts §g), with `MigrationBackoff` warnings on the VMI. The loop is a symptom: the finding
// names what made the attempts fail (another rule's finding, the root cause) when it can.

import { effectiveEvictionStrategy, evacuationMigrates } from "../../migration/eviction-strategy.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  eventEvidence,
  eventTime,
  findEvents,
  migrationEndTime,
  migrationObject,
  migrationTrigger,
  nonEmpty,
  timeOf,
  unfinishedMigrations,
  vmiObject,
} from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";
import { cpuModelMismatch } from "./cpu-model-mismatch.js";
import { migrationConnectionLost } from "./migration-connection-lost.js";
import { targetNetworkSetupFailed } from "./target-network-setup-failed.js";
import { targetPodFailed } from "./target-pod-failed.js";
import { targetPodUnschedulable } from "./target-pod-unschedulable.js";
import { attemptEvidence, failedAttempts, versionSkew } from "./version-skew.js";
import { vifCacheMissing } from "./vif-cache-missing.js";

/**
 * The rules that explain why migration attempts fail, most specific first: the first one that
 * finds something here is the loop's root cause (the engine lists it before this finding).
 */
const rootCauseRules: readonly Rule[] = [
  versionSkew,
  vifCacheMissing,
  cpuModelMismatch,
  targetPodUnschedulable,
  targetNetworkSetupFailed,
  migrationConnectionLost,
  targetPodFailed,
];

function fires(rule: Rule, s: Snapshot): boolean {
  try {
    return rule.detect(s).length > 0;
  } catch {
    // Another rule's defect must not hide this finding.
    return false;
  }
}

function seconds(n: number): string {
  return n >= 120 ? `${Math.round(n / 60)} min` : `${n} s`;
}

function detect(s: Snapshot): Finding[] {
  const eligible = s.migrations.filter((m) => migrationTrigger(m) !== "user");
  const lastEligibleSuccess = Math.max(
    Number.NEGATIVE_INFINITY,
    ...eligible
      .filter((m) => m.status?.phase === "Succeeded")
      .map((m) => timeOf(migrationEndTime(s, m) ?? m.metadata.creationTimestamp)),
  );
  const failed = eligible.filter(
    (m) =>
      m.status?.phase === "Failed" &&
      timeOf(migrationEndTime(s, m) ?? m.metadata.creationTimestamp) >= lastEligibleSuccess,
  );
  const backoffEvents = findEvents(s, { reason: "MigrationBackoff", type: "Warning" }).filter(
    (e) => timeOf(eventTime(e)) >= lastEligibleSuccess,
  );
  if (backoffEvents.length === 0 && failed.length < 2) return [];

  const ns = s.namespace;
  const vm = s.vmName;
  const triggers = new Set(failed.map(migrationTrigger));
  const marked = s.vmi?.status?.evacuationNodeName || undefined;
  // A mark makes it a drain only when KubeVirt migrates the VMI for it: not with strategy
  // External (left to an external controller) or None (evacuation.go); unknown counts as yes.
  const markMigrates = marked ? evacuationMigrates(s.vmi, s.kubevirt) !== false : false;
  const evacuationNode =
    (markMigrates ? marked : undefined) ||
    failed.map((m) => m.metadata.annotations?.["kubevirt.io/evacuationMigration"]).find((n) => n) ||
    undefined;
  const drain = triggers.has("evacuation") || markMigrates;
  const who = drain
    ? `the evacuation controller (a drain of ${evacuationNode ?? "its node"})`
    : triggers.has("workload-update")
      ? "the workload updater (outdated virt-launcher after an upgrade)"
      : "KubeVirt's evacuation or workload-update controller";

  const evidence: Evidence[] = [];
  const latestBackoff = backoffEvents.at(-1);
  if (latestBackoff) evidence.push(eventEvidence(latestBackoff));
  for (const m of failed) {
    evidence.push({
      object: migrationObject(m),
      field: "status.phase",
      time: migrationEndTime(s, m) ?? m.metadata.creationTimestamp,
      text: `Failed (${migrationTrigger(m)} migration)`,
    });
  }
  const pending = unfinishedMigrations(s).filter((m) => migrationTrigger(m) !== "user");
  for (const m of pending) {
    evidence.push({
      object: migrationObject(m),
      field: "status.phase",
      time: m.metadata.creationTimestamp,
      text: `${m.status?.phase || "(no phase yet)"} (${migrationTrigger(m)} migration, waiting)`,
    });
  }
  if (s.vmi?.status?.evacuationNodeName) {
    evidence.push({
      object: vmiObject(s),
      field: "status.evacuationNodeName",
      text: s.vmi.status.evacuationNodeName,
    });
  }

  // The root cause: the first of the rules that explain failed attempts that fires here.
  let causedBy: string | undefined;
  let causeTitle: string | undefined;
  for (const rule of rootCauseRules) {
    if (fires(rule, s)) {
      causedBy = rule.id;
      causeTitle = rule.title;
      break;
    }
  }
  // What the attempts left behind about why they failed (the generic controller line says nothing).
  const attempts = failedAttempts(s).filter(
    (a) => a.migration === undefined || migrationTrigger(a.migration) !== "user",
  );
  const reasonOf = (text: string) =>
    /^VirtualMachineInstance migration uid \S+ failed\. reason: ?(.*)$/s.exec(text)?.[1] ?? text;
  const reasons = [
    ...new Set(
      attempts.flatMap((a) =>
        a.failure
          .map((e) => reasonOf(e.text))
          .filter((r) => !/^source node reported migration failed$/i.test(r)),
      ),
    ),
  ];
  const newestAttempt = attempts.at(-1);
  if (newestAttempt) evidence.push(...attemptEvidence(newestAttempt).slice(0, 3));
  const notChecked: string[] = [];
  let cause: string;
  if (causedBy) cause = `The attempts fail for the reason reported above: ${causeTitle} (${causedBy}).`;
  else if (reasons.length > 0)
    cause = `The attempts failed with: ${reasons
      .slice(0, 3)
      .map((r) => `"${r}"`)
      .join("; ")}.`;
  else {
    cause = "Why the attempts failed could not be determined.";
    notChecked.push(
      "why the attempts failed: no failureReason on the VMIMs or the VMI, and no failure events",
    );
  }

  let confidence: Confidence = "high";
  if (backoffEvents.length === 0) {
    confidence = "medium";
    notChecked.push("MigrationBackoff events (none found: expired after an hour, or not gathered)");
  }
  if (failed.length === 0) {
    confidence = "medium";
    notChecked.push("the failed VMIMs themselves (none kept: garbage-collected or not gathered)");
  }
  if (s.events.length === 0) confidence = "medium";

  const n = failed.length;
  const nextWait = n > 0 ? 20 * 2 ** (n - 1) : 20;
  const counted =
    n > 0
      ? `${n} ${drain ? "evacuation" : "workload-update"} migration${n > 1 ? "s" : ""} of ${vm} failed in a row`
      : `Migrations of ${vm} are being held back`;
  const strategy = effectiveEvictionStrategy(s.vmi, s.kubevirt);
  const notMigrated =
    marked && !markMigrates
      ? ` ${vm} is marked for evacuation from ${marked}, but KubeVirt does not migrate it for that (eviction strategy ${strategy}${strategy === "External" || strategy === "None" ? "" : " without LiveMigratable=True"}).`
      : "";
  const summary =
    `${counted}; ${who} keeps creating new ones and virt-controller delays each (20 s after the first failure, doubling, about ${seconds(nextWait)} now)` +
    `${backoffEvents.length > 0 ? ", with MigrationBackoff warnings on the VMI" : ""}. ${cause}` +
    (drain ? " The drain cannot finish until the VM leaves the node." : "") +
    notMigrated;

  const commands: string[] = [
    commandLine(["kubectl", "get", "vmim", "-n", ns, "-l", `kubevirt.io/vmi-name=${vm}`]),
  ];
  if (pending.length > 0) commands.push(kvmigCommand(["cancel", vm, "-n", ns]));
  if (drain) commands.push(commandLine(["virtctl", "evacuate-cancel", "vmi", vm, "-n", ns]));
  if (causedBy) commands.push(kvmigCommand(["diagnose", vm, "-n", ns, "--only", causedBy]));

  return [
    {
      id: migrationBackoff.id,
      title: migrationBackoff.title,
      severity: migrationBackoff.severity,
      confidence,
      summary,
      evidence,
      fix: {
        explanation:
          (causedBy
            ? `Fix the root cause (${causedBy}) first: new attempts will fail until then. `
            : "Find out why the attempts fail before letting them continue. ") +
          "Cancel the waiting migration" +
          (drain
            ? "; cancelling a VMIM is not enough while the VMI keeps status.evacuationNodeName (the controller recreates it), so cancel the evacuation too, or restart the VM to take it off the node."
            : ", or restart the VM so that it runs on the current launcher."),
        commands,
      },
      docs: "https://kubevirt.io/user-guide/cluster_admin/node_maintenance/",
      notChecked: nonEmpty(notChecked),
      causedBy,
    },
  ];
}

export const migrationBackoff: Rule = {
  id: "migration-backoff",
  title: "Migrations keep failing and are backed off",
  severity: "warning",
  specificity: "pattern",
  detect,
};
