// vif-cache-missing: the migration target's virt-launcher found no `vif-cache-<iface>.json` for
// a bridge-bound interface (facts §h). virt-handler writes that file while it sets up the
// target pod's network; when it skips that (kubevirt/kubevirt#18087: a stale network state left
// by an earlier target pod on the same node), the target fails to prepare, the migration fails,
// and every new target pod fails the same way. A restart sets the VM's network up from scratch.

import type { Interface, Network } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  eventEvidence,
  eventTime,
  hasLogs,
  logEntries,
  logEvidence,
  migrationJobLabel,
  nonEmpty,
  timeOf,
  unfinishedMigrations,
  vmiObject,
} from "../evidence.js";
import { lastSuccessAt } from "../failure-signals.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";

/** `open …/vif-cache-<iface>.json: no such file or directory`, as the OS error reads. */
export const vifCacheMissingPattern = /vif-cache-[^\s"'/]*\.json:?\s*no such file/i;

/** Where the text appears as a failure: Warning events, failure reasons, error or warning log lines. */
function occurrences(s: Snapshot, since: number): Evidence[] {
  const found: Evidence[] = [];
  for (const event of s.events) {
    if (event.type !== "Warning" || !vifCacheMissingPattern.test(event.message ?? "")) continue;
    if (timeOf(eventTime(event)) < since) continue;
    found.push(eventEvidence(event));
  }
  const states = [
    { object: vmiObject(s), state: s.vmi?.status?.migrationState },
    ...s.migrations.map((m) => ({
      object: `VirtualMachineInstanceMigration/${m.metadata.name ?? "?"}`,
      state: m.status?.migrationState,
    })),
  ];
  for (const { object, state } of states) {
    const reason = state?.failureReason;
    if (!reason || !vifCacheMissingPattern.test(reason)) continue;
    if (timeOf(state?.endTimestamp) < since && state?.endTimestamp) continue;
    if (found.some((e) => e.text === reason)) continue;
    found.push({
      object,
      field: "status.migrationState.failureReason",
      time: state?.endTimestamp,
      text: reason,
    });
  }
  for (const entry of logEntries(s)) {
    if (!vifCacheMissingPattern.test(entry.text)) continue;
    // A launcher info line that merely names the file is not the failure.
    if (entry.level !== undefined && entry.level !== "error" && entry.level !== "warning") continue;
    if (timeOf(entry.time) < since && entry.time !== undefined) continue;
    found.push(logEvidence(entry));
  }
  return found;
}

interface BridgeInterface {
  iface: Interface;
  network?: Network | undefined;
}

function bridgeInterfaces(s: Snapshot): BridgeInterface[] | undefined {
  const spec = s.vmi?.spec ?? s.vm?.spec.template?.spec;
  if (!spec) return undefined;
  const interfaces = spec.domain?.devices?.interfaces ?? [];
  return interfaces
    .filter((i) => i.bridge !== undefined)
    .map((iface) => ({ iface, network: spec.networks?.find((n) => n.name === iface.name) }));
}

function detect(s: Snapshot): Finding[] {
  const since = lastSuccessAt(s);
  const found = occurrences(s, since);
  if (found.length === 0) return [];
  const ns = s.namespace;
  const vm = s.vmName;
  const notChecked: string[] = [];

  const bridges = bridgeInterfaces(s);
  const evidence: Evidence[] = [...found];
  let bridgeText: string;
  if (bridges === undefined) {
    bridgeText = "the VM's interfaces could not be read";
    notChecked.push("the VM's interface bindings (no VM or VMI spec)");
  } else if (bridges.length === 0) {
    bridgeText = "yet no interface of the VM uses bridge binding now";
  } else {
    const names = bridges.map(({ iface, network }) =>
      network?.multus
        ? `${iface.name} (bridge binding on Multus network ${network.multus.networkName})`
        : `${iface.name} (bridge binding${network?.pod ? " on the pod network" : ""})`,
    );
    bridgeText = `bridge-bound interface${names.length > 1 ? "s" : ""} ${names.join(", ")}`;
    for (const { iface, network } of bridges) {
      evidence.push({
        object: vmiObject(s),
        field: `spec.domain.devices.interfaces[${iface.name}].bridge`,
        text: network?.multus ? `bridge binding, network ${network.multus.networkName}` : "bridge binding",
      });
    }
  }

  // Target pods created again and again: pods labelled as migration targets, and the
  // controller's "Created migration target pod" events.
  const targetPods = s.pods.filter((p) => p.metadata.labels?.[migrationJobLabel] !== undefined);
  const created = s.events.filter(
    (e) => e.reason === "SuccessfulCreate" && (e.message ?? "").startsWith("Created migration target pod"),
  );
  const createdCount = Math.max(
    targetPods.length,
    created.reduce((n, e) => n + (e.count ?? 1), 0),
  );
  const failedCount = s.migrations.filter((m) => m.status?.phase === "Failed").length;
  const loop =
    createdCount > 1
      ? ` ${createdCount} migration target pods were created for it${failedCount > 0 ? ` and ${failedCount} migrations failed` : ""}: each new target pod fails the same way.`
      : "";

  let confidence: Confidence = bridges && bridges.length > 0 ? "high" : "medium";
  if (!hasLogs(s) && s.events.length === 0) confidence = "medium";
  if (s.events.length === 0) notChecked.push("events (none gathered: expired, or not readable)");

  const iface = /vif-cache-([^\s"'/]*)\.json/i.exec(found[0]?.text ?? "")?.[1];
  const summary =
    `The migration target of ${vm} could not set up its network: the cached interface file vif-cache-${iface ?? "…"}.json ` +
    `was never written on the target (${bridgeText}). The target pod fails before the migration starts, and a stale ` +
    `network state on that node makes every retry fail the same way (kubevirt/kubevirt#18087).${loop}`;

  const commands: string[] = [];
  if (unfinishedMigrations(s).length > 0) commands.push(kvmigCommand(["cancel", vm, "-n", ns]));
  if (s.vmi?.status?.evacuationNodeName) {
    commands.push(commandLine(["virtctl", "evacuate-cancel", "vmi", vm, "-n", ns]));
  }
  commands.push(kvmigCommand(["restart", vm, "-n", ns]));

  return [
    {
      id: vifCacheMissing.id,
      title: vifCacheMissing.title,
      severity: vifCacheMissing.severity,
      confidence,
      summary,
      evidence,
      fix: {
        explanation:
          "Stop the retries, then restart the VM (downtime): its new launcher pod gets a clean CNI and network setup, " +
          "and the stale state on the target node is no longer used. Later KubeVirt releases fix the stale state (kubevirt/kubevirt#18087).",
        commands,
      },
      docs: "https://github.com/kubevirt/kubevirt/issues/18087",
      notChecked: nonEmpty(notChecked),
    },
  ];
}

export const vifCacheMissing: Rule = {
  id: "vif-cache-missing",
  title: "Migration target has no vif-cache for a bridge interface",
  severity: "error",
  detect,
};
