// network-attachment-missing: the VM uses a Multus network whose NetworkAttachmentDefinition does
// not exist. virt-controller looks the NAD up whenever it renders a launcher pod, a migration
// target included, and gives up with "failed to render launch manifest: failed to locate network
// attachment definition <ns>/<name>" (pkg/network/multus/nad.go; v0.x capitalised "Failed to
// locate ..."). For a migration that error is only logged: the VMIM stays Pending with no
// target pod and no event. A VMI that is starting gets a FailedCreate event and condition.

import type { Network } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  eventEvidence,
  findEvents,
  findLogLines,
  isFinal,
  logEvidence,
  migrationObject,
  nonEmpty,
  phaseTime,
  podsOfMigration,
} from "../evidence.js";
import type { Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "network-attachment-missing";
const title = "Multus network has no NetworkAttachmentDefinition";
const docs = "https://kubevirt.io/user-guide/network/interfaces_and_networks/#multus";
// The name as the VM wrote it, which may hold a space ("default/management Network"), up to a
// quote, a bracket, a comma or the end: "... definition demo/nad, retrying".
const locateError = /[Ff]ailed to locate network attachment definition ([^",)\n]+?)\s*(?:$|"|\)|,)/m;

export interface MissingAttachment {
  network: string;
  /** As written in the VM: `name` or `namespace/name`. */
  reference: string;
  namespace: string;
  name: string;
}

function networksOf(s: Snapshot): Network[] {
  return s.vm?.spec.template?.spec?.networks ?? s.vmi?.spec.networks ?? [];
}

/** The Multus networks of the VM whose NAD is not among the snapshot's NetworkAttachmentDefinitions. */
export function missingAttachments(s: Snapshot): MissingAttachment[] {
  const out: MissingAttachment[] = [];
  for (const network of networksOf(s)) {
    const reference = network.multus?.networkName;
    if (!reference) continue;
    const slash = reference.indexOf("/");
    const namespace = slash >= 0 ? reference.slice(0, slash) : s.namespace;
    const name = slash >= 0 ? reference.slice(slash + 1) : reference;
    const present = s.networkAttachmentDefinitions.some(
      (n) => n.metadata.name === name && (n.metadata.namespace ?? s.namespace) === namespace,
    );
    if (!present) out.push({ network: network.name, reference, namespace, name });
  }
  return out;
}

/** Whether the snapshot could have listed the NADs at all (offline dumps often leave them out). */
function nadsUnread(s: Snapshot): string | undefined {
  return s.missing.find((m) => /NetworkAttachmentDefinition/i.test(m.what))?.why;
}

function manifest(missing: MissingAttachment): string {
  return JSON.stringify({
    apiVersion: "k8s.cni.cncf.io/v1",
    kind: "NetworkAttachmentDefinition",
    metadata: { name: missing.name, namespace: missing.namespace },
    spec: { config: "<the CNI configuration of this network, as on the other namespaces that use it>" },
  });
}

export const networkAttachmentMissing: Rule = {
  id,
  title,
  severity: "error",
  detect(s: Snapshot): Finding[] {
    const missing = missingAttachments(s);
    if (missing.length === 0) return [];
    const unread = nadsUnread(s);
    // Direct evidence: virt-controller's own error naming the NAD.
    const errorEvents = findEvents(s, { message: locateError });
    const errorLogs = findLogLines(s, locateError);
    const vmi = s.vmi;
    const findings: Finding[] = [];
    for (const m of missing) {
      const named = (text: string | undefined) => {
        const found = locateError.exec(text ?? "")?.[1] ?? "";
        // A sentence may go on after the name without a comma: the reference, then a space.
        return [`${m.namespace}/${m.name}`, m.name].some(
          (ref) => found === ref || found.startsWith(`${ref} `),
        );
      };
      const events = errorEvents.filter((e) => named(e.message));
      const logs = errorLogs.filter((l) => named(l.text));
      const condition = vmi?.status?.conditions?.find((c) => c.status === "False" && named(c.message));
      const netIndex = networksOf(s).findIndex((n) => n.name === m.network);
      const specPath = s.vm
        ? `spec.template.spec.networks[${netIndex}].multus.networkName`
        : `spec.networks[${netIndex}].multus.networkName`;
      const evidence: Evidence[] = [
        {
          object: s.vm ? `VirtualMachine/${s.vmName}` : `VirtualMachineInstance/${s.vmName}`,
          field: specPath,
          text: m.reference,
        },
        {
          object: `NetworkAttachmentDefinitions in ${m.namespace}`,
          text: unread
            ? `not read (${unread})`
            : (() => {
                const names = s.networkAttachmentDefinitions
                  .filter((n) => (n.metadata.namespace ?? s.namespace) === m.namespace)
                  .map((n) => n.metadata.name);
                return names.length > 0
                  ? `present: ${names.join(", ")}; no ${m.name}`
                  : `none found; no ${m.name}`;
              })(),
        },
      ];
      for (const e of events.slice(-1)) evidence.push(eventEvidence(e));
      if (condition) {
        evidence.push({
          object: `VirtualMachineInstance/${vmi?.metadata.name ?? s.vmName}`,
          field: `status.conditions[${condition.type}]`,
          time: condition.lastTransitionTime ?? undefined,
          text: `${condition.reason ?? ""}: ${condition.message ?? ""}`.replace(/^: /, ""),
        });
      }
      for (const l of logs.slice(-1)) evidence.push(logEvidence(l));
      const direct = events.length > 0 || logs.length > 0 || condition !== undefined;
      const waiting = s.migrations.filter(
        (mig) =>
          !isFinal(mig) && (mig.status?.phase ?? "") === "Pending" && podsOfMigration(s, mig).length === 0,
      );
      for (const mig of waiting.slice(-1)) {
        evidence.push({
          object: migrationObject(mig),
          field: "status.phase",
          time: phaseTime(mig, "Pending") ?? mig.metadata.creationTimestamp,
          text: "Pending, no target pod",
        });
      }
      // Absent evidence is no evidence: with the NADs unread and nothing naming this one as
      // missing, there is no problem to raise; only a migration waiting without a target pod
      // makes it worth a note (info) that this is one of the things that could hold it.
      if (unread && !direct && waiting.length === 0) continue;
      const notChecked: string[] = [];
      if (unread)
        notChecked.push(
          `whether ${m.namespace}/${m.name} exists (NetworkAttachmentDefinitions were not read: ${unread})`,
        );
      if (!direct)
        notChecked.push(
          'virt-controller\'s log, where a migration that cannot render its target pod says "failed to locate network attachment definition"',
        );
      const confidence = direct ? "high" : unread ? "low" : "medium";
      const running = vmi?.status?.phase === "Running";
      findings.push({
        id,
        title,
        severity: unread && !direct ? "info" : "error",
        confidence,
        summary:
          `Network ${m.network} of ${s.vmName} uses the Multus network ${m.reference}, and ${unread && !direct ? "the NetworkAttachmentDefinition could not be checked" : `there is no NetworkAttachmentDefinition ${m.name} in ${m.namespace}`}. ` +
          "virt-controller cannot render a launcher pod for this VM without it, " +
          (running
            ? "so every migration stays Pending with no target pod and no event."
            : "so the VM cannot start (and no migration target can be created)."),
        evidence,
        fix: {
          explanation:
            `Create the NetworkAttachmentDefinition ${m.name} in ${m.namespace} with the CNI configuration of this network (copy spec.config from a namespace where it exists: ${manifest(m)}), or change the VM to a network that exists. ` +
            "A Pending migration then creates its target pod by itself; a VM that failed to start needs a restart.",
          commands: [
            commandLine([
              "kubectl",
              "get",
              "network-attachment-definitions",
              "-A",
              "--field-selector",
              `metadata.name=${m.name}`,
            ]),
            commandLine(["kubectl", "get", "network-attachment-definitions", "-n", m.namespace]),
            ...(running
              ? [kvmigCommand(["watch", s.vmName, "-n", s.namespace])]
              : [kvmigCommand(["restart", s.vmName, "-n", s.namespace])]),
          ],
        },
        docs,
        notChecked: nonEmpty(notChecked),
      });
    }
    return findings;
  },
};
