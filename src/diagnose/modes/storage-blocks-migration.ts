// storage-blocks-migration: the VM is live-migratable on paper, but libvirt or QEMU refused its
// storage during the migration: storage libvirt does not consider shared ("Unsafe migration"),
// a read-only or empty CD-ROM it cannot copy, a volume-migration destination smaller than its
// source, or a volume that cannot attach or mount on the target node.

import type { Event } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  eventAtOrAfter,
  eventEvidence,
  failureTextsMatching,
  findEvents,
  isFinal,
  isTargetPod,
  lowerConfidence,
  missingAbout,
  nonEmpty,
  relevantMigrations,
  relevantSince,
  targetPodNamesOf,
} from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "storage-blocks-migration";
const title = "Storage blocks the live migration";
const docs = "https://kubevirt.io/user-guide/compute/live_migration/";

type Case = "unsafe" | "readonly-disk" | "smaller-destination" | "attach";

const patterns: Record<Exclude<Case, "attach">, RegExp> = {
  unsafe: /Unsafe migration: Migration without shared storage is unsafe/,
  "readonly-disk": /Cannot migrate empty or read-only disk (\w+)/,
  "smaller-destination":
    /destination volume is smaller th[ae]n the source volume|The sum of offset \(\d+\) and size \(\d+\) has to be smaller or equal to the\s+actual size of the containing file/,
};

const attachFailure = /^(FailedAttachVolume|FailedMount)$/;

/** FailedAttachVolume / FailedMount events on the target pods of the relevant migrations. */
export function targetVolumeEvents(s: Snapshot): Event[] {
  const since = relevantSince(s);
  const names = new Set<string>();
  for (const m of relevantMigrations(s)) {
    if (m.status?.phase === "Succeeded") continue;
    for (const n of targetPodNamesOf(s, m)) names.add(n);
  }
  if (s.migrations.length === 0) for (const p of s.pods) if (isTargetPod(p)) names.add(p.metadata.name ?? "");
  const found: Event[] = [];
  for (const name of names) {
    const pod = s.pods.find((p) => p.metadata.name === name);
    if (pod?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) continue;
    found.push(
      ...findEvents(s, { kind: "Pod", name, reason: attachFailure, type: "Warning" }).filter((e) =>
        eventAtOrAfter(e, since),
      ),
    );
  }
  return found;
}

function cdromDisks(s: Snapshot): string[] {
  const disks = s.vmi?.spec.domain?.devices?.disks ?? s.vm?.spec.template?.spec?.domain?.devices?.disks ?? [];
  return disks.filter((d) => d.cdrom !== undefined).map((d) => d.name);
}

function pvcNames(s: Snapshot): string[] {
  const volumes = s.vmi?.spec.volumes ?? s.vm?.spec.template?.spec?.volumes ?? [];
  return volumes
    .flatMap((v) => [v.persistentVolumeClaim?.claimName, v.dataVolume?.name])
    .filter((n): n is string => !!n);
}

function detect(s: Snapshot): Finding[] {
  const vm = s.vmName;
  const ns = ["-n", s.namespace];
  const findings: Finding[] = [];
  const eventsMissing = missingAbout(s, /events/i).length > 0;
  const unfinished = relevantMigrations(s).some((m) => !isFinal(m));

  const make = (
    kind: Case,
    evidence: Evidence[],
    summary: string,
    explanation: string,
    commands: string[],
  ) => {
    let confidence: Confidence = "high";
    const notChecked: string[] = [];
    if (kind === "attach" && !s.pods.some(isTargetPod)) {
      confidence = "medium";
      notChecked.push("the target pod itself (only its events were read)");
    }
    if (eventsMissing) {
      notChecked.push("events (Migrated, FailedAttachVolume, FailedMount)");
      if (kind === "attach") confidence = lowerConfidence(confidence);
    }
    findings.push({
      id,
      title,
      severity: "error",
      confidence,
      summary,
      evidence: evidence.slice(0, 4),
      fix: { explanation, commands },
      docs,
      notChecked: nonEmpty(notChecked),
    });
  };

  const unsafe = failureTextsMatching(s, patterns.unsafe);
  if (unsafe.length > 0) {
    const pvcs = pvcNames(s);
    make(
      "unsafe",
      unsafe,
      `libvirt refused the migration as unsafe: it does not recognise the storage under ${pvcs.length > 0 ? `the VM's volumes (${pvcs.join(", ")})` : "the VM's disks"} as shared between the nodes, although the PVCs may be ReadWriteMany. This happens with file systems libvirt does not know as shared (some NFS, CephFS or parallel file system setups).`,
      "Check that the storage class really gives both nodes the same data (a shared file system or block device). If it does, allow the migration with unsafeMigrationOverride in the KubeVirt CR's migration settings (only then: on storage that is not shared it corrupts the disk), or move the disks to a storage class libvirt recognises as shared.",
      [
        ...pvcs.slice(0, 2).map((p) => commandLine(["kubectl", "get", "pvc", p, ...ns, "-o", "wide"])),
        commandLine([
          "kubectl",
          "get",
          "kubevirt",
          "-A",
          "-o",
          "jsonpath={.items[*].spec.configuration.migrations}",
        ]),
      ],
    );
  }

  const readonly = failureTextsMatching(s, patterns["readonly-disk"]);
  if (readonly.length > 0) {
    const target = patterns["readonly-disk"].exec(readonly[0]?.text ?? "")?.[1];
    const cdroms = cdromDisks(s);
    make(
      "readonly-disk",
      readonly,
      `libvirt cannot copy the empty or read-only disk ${target ?? "of the VM"} to the target${cdroms.length > 0 ? `; the VM's CD-ROM disks are ${cdroms.join(", ")}` : ""}. A block migration copies every local disk, and a read-only or empty CD-ROM cannot be copied.`,
      `Eject or remove the CD-ROM${cdroms.length > 0 ? ` (${cdroms.join(", ")})` : ""} from the VM, or mark it not read-only, then migrate again; KubeVirt releases that skip CD-ROMs during migration avoid this. A restart also moves the VM (with downtime).`,
      [
        commandLine(["kubectl", "edit", "vm", vm, ...ns]),
        kvmigCommand(["migrate", vm, ...ns]),
        kvmigCommand(["restart", vm, ...ns]),
      ],
    );
  }

  const smaller = failureTextsMatching(s, patterns["smaller-destination"]);
  if (smaller.length > 0) {
    const migrated = (
      s.vmi?.status as
        | {
            migratedVolumes?: {
              sourcePVCInfo?: { claimName?: string };
              destinationPVCInfo?: { claimName?: string };
            }[];
          }
        | undefined
    )?.migratedVolumes;
    const pair = migrated?.[0];
    const src = pair?.sourcePVCInfo?.claimName;
    const dst = pair?.destinationPVCInfo?.claimName;
    make(
      "smaller-destination",
      smaller,
      `The volume migration failed because the destination volume${dst ? ` ${dst}` : ""} is smaller than the source${src ? ` ${src}` : ""}: QEMU on the target cannot fit the source disk into it.`,
      "Recreate the destination PVC at least as large as the source (check the source's actual capacity, which can exceed its request), then update the VM's volumes again.",
      [
        ...[src, dst]
          .filter((n): n is string => !!n)
          .map((n) => commandLine(["kubectl", "get", "pvc", n, ...ns])),
        ...(src || dst ? [] : [commandLine(["kubectl", "get", "pvc", ...ns])]),
      ],
    );
  }

  const attach = targetVolumeEvents(s);
  if (attach.length > 0) {
    const last = attach.at(-1) as Event;
    const pod = last.involvedObject.name ?? "?";
    make(
      "attach",
      attach.slice(-2).map(eventEvidence),
      `A volume cannot attach or mount on the target node for pod ${pod}, so the target virt-launcher never starts and the migration waits or fails. Volumes the source pod holds exclusively (ReadWriteOnce, or a CSI driver without multi-attach) cannot be opened on a second node at the same time.`,
      "Check the volume's access mode and its CSI driver's attachments; the target needs the volume attached on both nodes at once. Cancel the migration if it cannot succeed.",
      [
        commandLine(["kubectl", "describe", "pod", pod, ...ns]),
        commandLine(["kubectl", "get", "volumeattachments"]),
        ...(unfinished ? [kvmigCommand(["cancel", vm, ...ns])] : []),
      ],
    );
  }
  return findings;
}

/** For other rules: whether a target pod of the relevant migrations is stuck on its volumes. */
export function storageExplainsTargetPod(s: Snapshot, podName: string): boolean {
  return targetVolumeEvents(s).some((e) => e.involvedObject.name === podName);
}

export const storageBlocksMigration: Rule = { id, title, severity: "error", detect };
