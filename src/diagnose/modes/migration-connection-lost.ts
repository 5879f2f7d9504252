// migration-connection-lost: libvirt lost its connection to the target (`client socket is
// closed` and kin, facts §h) while nothing points at launcher version skew. The connection runs
// through virt-handler's migration proxy on both nodes, so a target virt-handler that restarted,
// a target node that went away, or a broken migration network end a migration this way. The
// same text between two different launcher images is version-skew's, never this rule's. A
// target that could not be reached at all (connection refused, no route, timed out) is the
// migration network's or a firewall's, whatever the images.

import { commandLine, kvmigCommand } from "../../util/shell.js";
import { hasLogs, migrationStateOf, nonEmpty } from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";
import { attemptEvidence, type FailedAttempt, failedAttempts, launcherSkew } from "./version-skew.js";

function targetNodeOf(s: Snapshot, attempt: FailedAttempt): string | undefined {
  const state = attempt.migration ? migrationStateOf(s, attempt.migration) : s.vmi?.status?.migrationState;
  return state?.targetNode ?? undefined;
}

function nodeEvidence(s: Snapshot, nodeName: string | undefined): Evidence[] {
  if (!nodeName) return [];
  const node = s.nodes.find((n) => n.metadata.name === nodeName);
  const ready = node?.status?.conditions?.find((c) => c.type === "Ready");
  if (!node || !ready || ready.status === "True") return [];
  return [
    {
      object: `Node/${nodeName}`,
      field: "status.conditions[Ready]",
      time: ready.lastTransitionTime ?? undefined,
      text: `Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ""}${ready.message ? `: ${ready.message}` : ""}`,
    },
  ];
}

function detect(s: Snapshot): Finding[] {
  const dropped = failedAttempts(s).filter((a) => a.kind === "connection-closed" || a.kind === "unreachable");
  // Never on a failure version-skew explains: the two rules must not both fire on one failure.
  // A target that was never reached is not skew's, whatever the images.
  const unexplained = dropped
    .map((attempt) => ({ attempt, skew: launcherSkew(s, attempt) }))
    .filter(({ attempt, skew }) => attempt.kind === "unreachable" || skew.verdict !== "skew");
  const newest = unexplained.at(-1);
  if (!newest) return [];
  const { attempt, skew } = newest;
  const ns = s.namespace;
  const vm = s.vmName;

  const notChecked = [...skew.notChecked];
  if (s.events.length === 0) notChecked.push("events (none gathered: expired, or not readable)");
  if (!hasLogs(s)) notChecked.push("virt-launcher logs");
  let confidence: Confidence;
  if (skew.verdict === "unknown") confidence = "low";
  else if (skew.direct) confidence = "high";
  else confidence = "medium";

  const targetNode = targetNodeOf(s, attempt);
  const state = attempt.migration ? migrationStateOf(s, attempt.migration) : s.vmi?.status?.migrationState;
  const aborting = state?.abortRequested === true;
  const sameImage =
    skew.verdict === "same"
      ? `both ends ran ${skew.sourceImage}${skew.direct ? "" : " (the target's image inferred)"}, so this is not launcher skew`
      : "the launcher images could not be compared";
  const repeats =
    unexplained.length > 1 ? ` It happened ${unexplained.length} times since the last success.` : "";
  const abortNote = aborting
    ? " An abort had been requested: the connection closed while it was under way, and no abort result was recorded."
    : "";
  const name = attempt.migration?.metadata.name ?? "(VMIM gone)";
  const unreachable = attempt.kind === "unreachable";
  const summary = unreachable
    ? `Migration ${name} of ${vm} failed because the source could not reach the target${targetNode ? ` on ${targetNode}` : ""} at all (refused, unreachable or timed out). ` +
      `The migration connects through virt-handler's proxy on both nodes, on the pod network or the dedicated migration network: a firewall or NetworkPolicy that blocks the migration ports, a missing route on the migration network, or a target virt-handler that is not listening stops it.${repeats}`
    : `Migration ${name} of ${vm} failed because libvirt lost its connection to the target${targetNode ? ` on ${targetNode}` : ""}; ` +
      `${sameImage}. The migration runs through virt-handler's proxy on both nodes, so a target virt-handler that restarted, a node that went away or the migration network dropped it.${repeats}${abortNote}`;

  const kubevirtNs = s.kubevirt?.metadata.namespace ?? "kubevirt";
  const commands = [
    commandLine(
      ["kubectl", "get", "pods", "-n", kubevirtNs, "-l", "kubevirt.io=virt-handler", "-o", "wide"].concat(
        targetNode ? ["--field-selector", `spec.nodeName=${targetNode}`] : [],
      ),
    ),
    kvmigCommand(["migrate", vm, "-n", ns]),
  ];
  if (unexplained.length > 1) {
    commands.push(
      commandLine([
        "kubectl",
        "get",
        "kubevirt",
        "-n",
        kubevirtNs,
        "-o",
        "jsonpath={.items[0].spec.configuration.migrations}",
      ]),
    );
  }
  return [
    {
      id: migrationConnectionLost.id,
      title: migrationConnectionLost.title,
      severity: migrationConnectionLost.severity,
      confidence,
      summary,
      evidence: [...attemptEvidence(attempt), ...skew.evidence, ...nodeEvidence(s, targetNode)],
      fix: {
        explanation: unreachable
          ? "Check that virt-handler runs on the target node, and that the nodes reach each other on the migration ports (NetworkPolicies in the KubeVirt namespace, host firewalls, the routes of spec.configuration.migrations.network), then migrate again."
          : "Check that virt-handler on the target node is running and has not just restarted, then migrate again. " +
            (unexplained.length > 1
              ? "It keeps happening: check the migration network (spec.configuration.migrations.network) and the nodes' connectivity on it."
              : "If it happens again, check the migration network between the nodes."),
        commands,
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: nonEmpty(notChecked),
    },
  ];
}

export const migrationConnectionLost: Rule = {
  id: "migration-connection-lost",
  title: "Migration lost its connection to the target",
  severity: "warning",
  specificity: "symptom",
  detect,
};
