// not-live-migratable: virt-handler computed LiveMigratable=False for the VMI (the first failing
// check wins: interfaces, CPU mode, host devices, SEV/TDX, ..., disks), so the migration webhook
// rejects every migration with "Cannot migrate VMI, Reason: ..., Message: ...", and a drain of
// its node cannot move it.

import { commandLine, kvmigCommand } from "../../util/shell.js";
import { eventEvidence, findEvents, vmiCondition } from "../evidence.js";
import type { Evidence, Finding, Rule, Severity, Snapshot } from "../types.js";

const id = "not-live-migratable";
const title = "VM is not live-migratable";
const docs = "https://kubevirt.io/user-guide/compute/live_migration/#limitations";

const rejection = /Cannot migrate VMI, Reason: (\w+), Message: (.*)$/s;

interface Verdict {
  reason: string;
  message: string;
  evidence: Evidence[];
}

function verdict(s: Snapshot): Verdict | undefined {
  const evidence: Evidence[] = [];
  const condition = vmiCondition(s, "LiveMigratable");
  let reason: string | undefined;
  let message = "";
  if (condition?.status === "False") {
    reason = condition.reason ?? "NotMigratable";
    message = condition.message ?? "";
    evidence.push({
      object: `VirtualMachineInstance/${s.vmi?.metadata.name ?? s.vmName}`,
      field: "status.conditions[LiveMigratable]",
      time: condition.lastTransitionTime ?? undefined,
      text: `False, reason ${reason}: ${message}`,
    });
  }
  for (const r of s.rejections) {
    const m = rejection.exec(r.message);
    if (!m) continue;
    reason ??= m[1];
    if (!message) message = (m[2] ?? "").trim();
    evidence.push({ object: r.request, field: `HTTP ${r.status}`, time: r.at, text: r.message });
  }
  const evictionWarnings = findEvents(s, {
    kind: "VirtualMachineInstance",
    reason: "Migrated",
    type: "Warning",
    message: /EvictionStrategy is set but vmi is not migratable/,
  });
  const last = evictionWarnings.at(-1);
  if (last) evidence.push(eventEvidence(last));
  // A VMI that is migratable now was not blocked by an old warning.
  if (reason === undefined) return undefined;
  return { reason, message, evidence };
}

function podBridgeInterface(s: Snapshot): string | undefined {
  const spec = s.vmi?.spec ?? s.vm?.spec.template?.spec;
  const podNetwork = spec?.networks?.find((n) => n.pod !== undefined)?.name;
  const iface = spec?.domain?.devices?.interfaces?.find((i) => i.name === podNetwork);
  return iface?.bridge !== undefined ? iface.name : undefined;
}

function detect(s: Snapshot): Finding[] {
  const v = verdict(s);
  if (!v) return [];
  const vm = s.vmName;
  const ns = ["-n", s.namespace];
  const restart = kvmigCommand(["restart", vm, ...ns]);
  const commands: string[] = [];
  let cause: string;
  let explanation: string;
  switch (v.reason) {
    case "DisksNotLiveMigratable": {
      const pvc = /PVC (\S+) is not shared/.exec(v.message)?.[1];
      if (pvc) {
        cause = `its volume on PVC ${pvc} is not shared (not ReadWriteMany), so the target node could not open the disk while the source still uses it`;
        explanation = `Move ${pvc} to storage that supports ReadWriteMany (a volume migration to an RWX PVC keeps the VM running), or restart the VM to move it with downtime.`;
        commands.push(
          commandLine(["kubectl", "get", "pvc", pvc, ...ns, "-o", "jsonpath={.spec.accessModes}"]),
        );
        commands.push(commandLine(["kubectl", "get", "storageclass"]));
      } else {
        cause = "one of its disks is on node-local storage (a HostDisk or a non-shared PVC)";
        explanation =
          "Put the disk on shared ReadWriteMany storage, or restart the VM instead of migrating it (downtime).";
      }
      break;
    }
    case "InterfaceNotLiveMigratable": {
      const iface = podBridgeInterface(s);
      cause = `it connects to the pod network with bridge binding${iface ? ` (interface ${iface})` : ""}, and the pod IP cannot follow the VM to another node`;
      explanation = `Change the pod-network interface${iface ? ` ${iface}` : ""} to masquerade binding and restart the VM, or, if the CNI keeps the pod IP on migration, annotate the VM with kubevirt.io/allow-pod-bridge-network-live-migration. Until then, a restart moves the VM (with downtime).`;
      commands.push(commandLine(["kubectl", "edit", "vm", vm, ...ns]));
      break;
    }
    case "CPUModeLiveMigratable":
      cause = "its CPU is host-passthrough, which ties the guest to this exact host CPU";
      explanation =
        "Use host-model or a named CPU model, then restart the VM; until then only a restart moves it.";
      commands.push(commandLine(["kubectl", "edit", "vm", vm, ...ns]));
      break;
    case "HostDeviceNotLiveMigratable":
      cause = "it uses host devices (PCI passthrough or GPUs) that cannot move with it";
      explanation =
        "Restart the VM instead of migrating it (downtime); it is scheduled again where its devices exist.";
      break;
    case "HotplugNotLiveMigratable":
      cause = "it has hotplugged volumes or interfaces that cannot be migrated";
      explanation =
        "Unplug the hotplugged device (or make it part of the VM spec) and restart, or restart the VM instead of migrating it.";
      break;
    default:
      cause = `virt-handler reported ${v.reason}`;
      explanation =
        "This kind of VM cannot be live-migrated; restart it instead (downtime) when it must leave its node.";
  }
  commands.push(restart);

  const eviction = s.vmi?.spec.evictionStrategy ?? s.vm?.spec.template?.spec?.evictionStrategy;
  const needed =
    s.rejections.length > 0 ||
    s.migrations.length > 0 ||
    eviction === "LiveMigrate" ||
    eviction === "External";
  const severity: Severity = needed ? "error" : "warning";
  const drain =
    eviction === "LiveMigrate"
      ? " Its eviction strategy is LiveMigrate, so draining its node is blocked until it is restarted elsewhere."
      : "";
  const summary = `KubeVirt marked the VM as not live-migratable (${v.reason}): ${cause}. Every migration request is rejected until that changes.${drain}`;
  const notChecked = s.vmi ? undefined : ["the VMI's LiveMigratable condition (the VMI was not read)"];
  return [
    {
      id,
      title,
      severity,
      confidence: s.vmi ? "high" : "medium",
      summary,
      evidence: v.evidence,
      fix: { explanation, commands },
      docs,
      notChecked,
    },
  ];
}

export const notLiveMigratable: Rule = { id, title, severity: "error", detect };
