// storage-blocks-migration: the VM is live-migratable on paper, but libvirt or QEMU refused its
// storage during the migration: storage libvirt does not consider shared ("Unsafe migration"),
// a read-only or empty CD-ROM it cannot copy, a volume-migration destination smaller than its
// source, or a volume that cannot attach or mount on the target node.
//
// State signatures: a volume migration (the VMI's VolumesChange condition or status.migratedVolumes)
// whose migration failed, and in it a destination PVC whose capacity is below its source's; a
// target pod with FailedAttachVolume or FailedMount events. The libvirt and QEMU texts name the
// other cases (unsafe storage, a read-only disk) and raise the confidence.

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
  migrationObject,
  missingAbout,
  nonEmpty,
  quantityBytes,
  relevantMigrations,
  relevantSince,
  targetPodNamesOf,
  vmiObject,
} from "../evidence.js";
import { phaseStory, transferBegan } from "../failure-signals.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "storage-blocks-migration";
const title = "Storage blocks the live migration";
const docs = "https://kubevirt.io/user-guide/compute/live_migration/";

type Case = "unsafe" | "readonly-disk" | "smaller-destination" | "volume-migration" | "attach";

const patterns: Record<Exclude<Case, "attach" | "volume-migration"> | "migrate-disks", RegExp> = {
  "migrate-disks": /VIR_MIGRATE_PARAM_MIGRATE_DISKS'? requires use of '?VIR_MIGRATE_NON_SHARED_(?:DISK|INC)/,
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

interface VolumePair {
  source?: string | undefined;
  destination?: string | undefined;
  /** The destination's capacity is below the source's. */
  smaller: boolean;
  evidence: Evidence;
}

interface PVCInfo {
  claimName?: string;
  capacity?: { storage?: string };
}

/**
 * A volume migration (the VMI's VolumesChange condition, or its status.migratedVolumes) whose
 * migration failed: the pairs of source and destination PVCs, with their capacities compared.
 */
function volumeMigrationFailure(
  s: Snapshot,
): { pairs: VolumePair[]; evidence: Evidence[]; afterStart: boolean } | undefined {
  const status = s.vmi?.status as
    | { migratedVolumes?: { volumeName?: string; sourcePVCInfo?: PVCInfo; destinationPVCInfo?: PVCInfo }[] }
    | undefined;
  const migrated = status?.migratedVolumes ?? [];
  const changing = s.vmi?.status?.conditions?.find((c) => c.type === "VolumesChange" && c.status === "True");
  if (migrated.length === 0 && !changing) return undefined;
  const failed = relevantMigrations(s)
    .filter((m) => m.status?.phase === "Failed")
    .at(-1);
  if (!failed) return undefined;
  const evidence: Evidence[] = [];
  if (changing)
    evidence.push({
      object: vmiObject(s),
      field: "status.conditions[VolumesChange]",
      time: changing.lastTransitionTime ?? undefined,
      text: "True: the VM's volumes are being migrated to new PVCs",
    });
  evidence.push({
    object: migrationObject(failed),
    field: "status.phase",
    text: `Failed (${phaseStory(failed)})`,
  });
  const pairs = migrated.map((v): VolumePair => {
    const from = quantityBytes(v.sourcePVCInfo?.capacity?.storage);
    const to = quantityBytes(v.destinationPVCInfo?.capacity?.storage);
    const smaller = from !== undefined && to !== undefined && to < from;
    return {
      source: v.sourcePVCInfo?.claimName,
      destination: v.destinationPVCInfo?.claimName,
      smaller,
      evidence: {
        object: vmiObject(s),
        field: `status.migratedVolumes[${v.volumeName ?? "?"}]`,
        text: `${v.sourcePVCInfo?.claimName ?? "?"} (${v.sourcePVCInfo?.capacity?.storage ?? "capacity unknown"}) → ${v.destinationPVCInfo?.claimName ?? "?"} (${v.destinationPVCInfo?.capacity?.storage ?? "capacity unknown"})${smaller ? ": the destination is smaller" : ""}`,
      },
    };
  });
  return { pairs, evidence, afterStart: transferBegan(s, failed) };
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
    initial: Confidence = "high",
  ) => {
    let confidence: Confidence = initial;
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

  const smallerText = failureTextsMatching(s, patterns["smaller-destination"]);
  const volumeMigration = volumeMigrationFailure(s);
  const shrunk = volumeMigration?.pairs.find((p) => p.smaller);
  const smaller = smallerText.length > 0 || shrunk !== undefined;
  if (smaller) {
    const pair = shrunk ?? volumeMigration?.pairs[0];
    const src = pair?.source;
    const dst = pair?.destination;
    make(
      "smaller-destination",
      [...smallerText, ...(shrunk ? [shrunk.evidence] : []), ...(volumeMigration?.evidence ?? [])],
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

  const disksFlag = failureTextsMatching(s, patterns["migrate-disks"]);
  // A failed volume migration says no more than that, unless the text or a smaller destination named why.
  if (disksFlag.length > 0 || (volumeMigration && !smaller)) {
    const direct = disksFlag.length > 0;
    make(
      "volume-migration",
      [...disksFlag, ...(volumeMigration?.evidence ?? [])],
      direct
        ? "The volume migration failed: libvirt was asked to copy the changed volumes but not told to copy non-shared disks, which it refuses. This is a KubeVirt defect in how the volume migration is started (kubevirt/kubevirt#12811), seen when moving between shared (RWX) storage classes."
        : `The migration was a volume migration (the VM's volumes were changed with updateVolumesStrategy: Migration) and it failed${volumeMigration?.afterStart ? " after the copy began" : ""}: copying the changed volumes to their new PVCs is what failed, not the memory.`,
      "Check the destination PVCs (bound, at least as large as the source, a mode the target node can use) and the KubeVirt version's volume-migration limitations; revert the VM's volumes to the source PVCs to stop the retries, or migrate the storage offline (stop the VM, copy, start).",
      [
        ...(volumeMigration?.pairs ?? [])
          .flatMap((p) => [p.source, p.destination])
          .filter((n): n is string => !!n)
          .slice(0, 2)
          .map((n) => commandLine(["kubectl", "get", "pvc", n, ...ns])),
        commandLine(["kubectl", "get", "vmi", vm, ...ns, "-o", "jsonpath={.status.migratedVolumes}"]),
        commandLine(["kubectl", "edit", "vm", vm, ...ns]),
      ],
      direct ? "high" : "low",
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
