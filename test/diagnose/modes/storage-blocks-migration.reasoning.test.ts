// storage-blocks-migration's reasoning on hand-built snapshots: the four ways storage blocks a
// migration (unsafe, read-only disk, smaller destination, attach or mount on the target), the
// names in their summaries and commands, and how confidence falls with what was not read.

import { describe, expect, it } from "vitest";
import {
  storageBlocksMigration,
  storageExplainsTargetPod,
  targetVolumeEvents,
} from "../../../src/diagnose/modes/storage-blocks-migration.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { VirtualMachine, VirtualMachineInstance } from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const migUid = "bbbbbbbb-0000-4000-8000-000000000001";
const unsafeText =
  "Unsafe migration: Migration without shared storage is unsafe (operation failed: migration of disk vda failed)";
const readonlyText = "Cannot migrate empty or read-only disk sda";
const smallerText = "destination volume is smaller than the source volume";

function failed(reason: string) {
  return migration({ uid: migUid, phase: "Failed", state: { failed: true, failureReason: reason } });
}

function withVolumes(spec: VirtualMachineInstance["spec"]): VirtualMachineInstance {
  return vmi({ phase: "Running" }, spec);
}

function detectOne(s: Snapshot): Finding {
  const findings = storageBlocksMigration.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const targetName = "virt-launcher-db-1-tgt01";
const target = pod(targetName, {
  labels: { "kubevirt.io/migrationJobUID": migUid },
  status: { phase: "Pending" },
});
const attachEvent = (message: string, at = ago(60), reason = "FailedAttachVolume") =>
  event({ kind: "Pod", name: targetName, reason, message, lastTimestamp: at });

describe("storage-blocks-migration reasoning", () => {
  it("unsafe migration: names the volumes, checks two PVCs and the KubeVirt migration settings", () => {
    const s = snap({
      vmi: withVolumes({
        volumes: [
          { name: "root", persistentVolumeClaim: { claimName: "root-pvc" } },
          { name: "data", dataVolume: { name: "data-dv" } },
          { name: "logs", persistentVolumeClaim: { claimName: "logs-pvc" } },
          { name: "ci", cloudInitNoCloud: {} },
        ],
      }),
      migrations: [failed(unsafeText)],
    });
    expect(detectOne(s)).toEqual({
      id: "storage-blocks-migration",
      title: "Storage blocks the live migration",
      severity: "error",
      confidence: "high",
      summary:
        "libvirt refused the migration as unsafe: it does not recognise the storage under the VM's volumes (root-pvc, data-dv, logs-pvc) as shared between the nodes, although the PVCs may be ReadWriteMany. This happens with file systems libvirt does not know as shared (some NFS, CephFS or parallel file system setups).",
      evidence: [
        {
          object: "VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde",
          field: "status.migrationState.failureReason",
          time: undefined,
          text: unsafeText,
        },
      ],
      fix: {
        explanation:
          "Check that the storage class really gives both nodes the same data (a shared file system or block device). If it does, allow the migration with unsafeMigrationOverride in the KubeVirt CR's migration settings (only then: on storage that is not shared it corrupts the disk), or move the disks to a storage class libvirt recognises as shared.",
        commands: [
          "kubectl get pvc root-pvc -n demo -o wide",
          "kubectl get pvc data-dv -n demo -o wide",
          "kubectl get kubevirt -A -o 'jsonpath={.items[*].spec.configuration.migrations}'",
        ],
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: undefined,
    });
  });

  it("unsafe migration without known volumes speaks of the VM's disks; reads the VM template otherwise", () => {
    const bare = detectOne(snap({ migrations: [failed(unsafeText)] }));
    expect(bare.summary).toContain("the storage under the VM's disks as shared");
    expect(bare.fix.commands).toEqual([
      "kubectl get kubevirt -A -o 'jsonpath={.items[*].spec.configuration.migrations}'",
    ]);
    const vm = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: { name: "db-1", namespace: "demo" },
      spec: {
        template: {
          spec: {
            volumes: [{ name: "root", persistentVolumeClaim: { claimName: "tpl-pvc" } }],
            domain: { devices: { disks: [{ name: "cd", cdrom: {} }] } },
          },
        },
      },
    } as VirtualMachine;
    expect(detectOne(snap({ vm, migrations: [failed(unsafeText)] })).summary).toContain("volumes (tpl-pvc)");
    expect(detectOne(snap({ vm, migrations: [failed(readonlyText)] })).summary).toContain(
      "; the VM's CD-ROM disks are cd.",
    );
  });

  it("a read-only disk: names the disk and the CD-ROMs; edit, migrate again, or restart", () => {
    const s = snap({
      vmi: withVolumes({
        domain: {
          devices: {
            disks: [
              { name: "root", disk: {} },
              { name: "cd1", cdrom: {} },
              { name: "cd2", cdrom: { readonly: true } },
            ],
          },
        },
      }),
      migrations: [failed(readonlyText)],
    });
    const f = detectOne(s);
    expect(f.summary).toBe(
      "libvirt cannot copy the empty or read-only disk sda to the target; the VM's CD-ROM disks are cd1, cd2. A block migration copies every local disk, and a read-only or empty CD-ROM cannot be copied.",
    );
    expect(f.fix).toEqual({
      explanation:
        "Eject or remove the CD-ROM (cd1, cd2) from the VM, or mark it not read-only, then migrate again; KubeVirt releases that skip CD-ROMs during migration avoid this. A restart also moves the VM (with downtime).",
      commands: ["kubectl edit vm db-1 -n demo", "kvmig migrate db-1 -n demo", "kvmig restart db-1 -n demo"],
    });
    expect(f.confidence).toBe("high");
  });

  it("a read-only disk without CD-ROMs in the spec", () => {
    const f = detectOne(snap({ migrations: [failed(readonlyText)] }));
    expect(f.summary).toMatch(/^libvirt cannot copy the empty or read-only disk sda to the target\. A block/);
    expect(f.fix.explanation).toMatch(/^Eject or remove the CD-ROM from the VM,/);
  });

  it("a smaller destination: names both PVCs from the VMI's migrated volumes", () => {
    const status = {
      phase: "Running",
      migratedVolumes: [
        { sourcePVCInfo: { claimName: "src-pvc" }, destinationPVCInfo: { claimName: "dst-pvc" } },
        { sourcePVCInfo: { claimName: "other-src" }, destinationPVCInfo: { claimName: "other-dst" } },
      ],
    } as VirtualMachineInstance["status"];
    const f = detectOne(snap({ vmi: vmi(status), migrations: [failed(smallerText)] }));
    expect(f.summary).toBe(
      "The volume migration failed because the destination volume dst-pvc is smaller than the source src-pvc: QEMU on the target cannot fit the source disk into it.",
    );
    expect(f.fix).toEqual({
      explanation:
        "Recreate the destination PVC at least as large as the source (check the source's actual capacity, which can exceed its request), then update the VM's volumes again.",
      commands: ["kubectl get pvc src-pvc -n demo", "kubectl get pvc dst-pvc -n demo"],
    });
  });

  it("a smaller destination with one PVC known, or none", () => {
    const onlyDst = {
      phase: "Running",
      migratedVolumes: [{ destinationPVCInfo: { claimName: "dst-pvc" } }],
    } as VirtualMachineInstance["status"];
    const f = detectOne(snap({ vmi: vmi(onlyDst), migrations: [failed(smallerText)] }));
    expect(f.summary).toContain("destination volume dst-pvc is smaller than the source:");
    expect(f.fix.commands).toEqual(["kubectl get pvc dst-pvc -n demo"]);
    const onlySrc = {
      phase: "Running",
      migratedVolumes: [{ sourcePVCInfo: { claimName: "src-pvc" } }],
    } as VirtualMachineInstance["status"];
    expect(detectOne(snap({ vmi: vmi(onlySrc), migrations: [failed(smallerText)] })).fix.commands).toEqual([
      "kubectl get pvc src-pvc -n demo",
    ]);
    const none = detectOne(snap({ migrations: [failed(smallerText)] }));
    expect(none.summary).toBe(
      "The volume migration failed because the destination volume is smaller than the source: QEMU on the target cannot fit the source disk into it.",
    );
    expect(none.fix.commands).toEqual(["kubectl get pvc -n demo"]);
  });

  it("recognizes QEMU's own words for a smaller destination, in both spellings", () => {
    for (const text of [
      "destination volume is smaller then the source volume",
      "The sum of offset (0) and size (10737418240) has to be smaller or equal to the  actual size of the containing file (5368709120)",
    ]) {
      expect(
        storageBlocksMigration.detect(snap({ migrations: [failed(text)] })).map((f) => f.summary),
        text,
      ).toEqual([expect.stringContaining("destination volume is smaller")]);
    }
    expect(
      storageBlocksMigration.detect(snap({ migrations: [failed("The sum of offset (x) and size (1)")] })),
    ).toEqual([]);
  });

  it("gives one finding per cause, and quotes at most four texts each", () => {
    const events = [1, 2, 3, 4, 5].map((i) =>
      event({ reason: "Migrated", message: `${unsafeText} #${i}`, lastTimestamp: ago(100 - i) }),
    );
    const findings = storageBlocksMigration.detect(snap({ migrations: [failed(readonlyText)], events }));
    expect(findings.map((f) => f.summary.slice(0, 40))).toEqual([
      "libvirt refused the migration as unsafe:",
      "libvirt cannot copy the empty or read-on",
    ]);
    expect(findings[0]?.evidence.map((e) => e.text)).toEqual([1, 2, 3, 4].map((i) => `${unsafeText} #${i}`));
  });

  it("a volume that cannot attach on the target pod: the last two events, describe the pod, cancel while it runs", () => {
    const s = snap({
      migrations: [migration({ uid: migUid, phase: "Scheduling", created: ago(600) })],
      pods: [target],
      events: [
        attachEvent("Multi-Attach error 1", ago(300)),
        attachEvent("MountVolume.SetUp failed 2", ago(200), "FailedMount"),
        attachEvent("Multi-Attach error 3", ago(100)),
      ],
    });
    const f = detectOne(s);
    expect(f).toEqual({
      id: "storage-blocks-migration",
      title: "Storage blocks the live migration",
      severity: "error",
      confidence: "high",
      summary: `A volume cannot attach or mount on the target node for pod ${targetName}, so the target virt-launcher never starts and the migration waits or fails. Volumes the source pod holds exclusively (ReadWriteOnce, or a CSI driver without multi-attach) cannot be opened on a second node at the same time.`,
      evidence: [
        {
          object: `Pod/${targetName}`,
          field: "event FailedMount",
          time: ago(200),
          text: "MountVolume.SetUp failed 2",
        },
        {
          object: `Pod/${targetName}`,
          field: "event FailedAttachVolume",
          time: ago(100),
          text: "Multi-Attach error 3",
        },
      ],
      fix: {
        explanation:
          "Check the volume's access mode and its CSI driver's attachments; the target needs the volume attached on both nodes at once. Cancel the migration if it cannot succeed.",
        commands: [
          `kubectl describe pod ${targetName} -n demo`,
          "kubectl get volumeattachments",
          "kvmig cancel db-1 -n demo",
        ],
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: undefined,
    });
    expect(storageExplainsTargetPod(s, targetName)).toBe(true);
    expect(storageExplainsTargetPod(s, "virt-launcher-db-1-other")).toBe(false);
  });

  it("does not offer to cancel a migration that has ended", () => {
    const s = snap({
      migrations: [migration({ uid: migUid, phase: "Failed", created: ago(600) })],
      pods: [target],
      events: [attachEvent("Multi-Attach error")],
    });
    expect(detectOne(s).fix.commands).toEqual([
      `kubectl describe pod ${targetName} -n demo`,
      "kubectl get volumeattachments",
    ]);
  });

  it("counts only Warning attach or mount events on target pods of unfinished or latest, unsucceeded migrations, since they began", () => {
    const base = {
      migrations: [migration({ uid: migUid, phase: "Scheduling", created: ago(600) })],
      pods: [target],
    };
    const count = (events: ReturnType<typeof attachEvent>[], parts: Partial<Snapshot> = {}) =>
      targetVolumeEvents(snap({ ...base, events, ...parts })).length;
    expect(count([attachEvent("x")])).toBe(1);
    expect(count([attachEvent("x", ago(60), "FailedMount")])).toBe(1);
    expect(count([attachEvent("x", ago(60), "FailedScheduling")])).toBe(0);
    expect(count([attachEvent("x", ago(60), "FailedAttachVolumeX")])).toBe(0);
    expect(count([attachEvent("x", ago(60), "XFailedMount")])).toBe(0);
    expect(count([{ ...attachEvent("x"), type: "Normal" }])).toBe(0);
    // Before the migration was created: history.
    expect(count([attachEvent("x", ago(700))])).toBe(0);
    // On another pod.
    expect(
      count([{ ...attachEvent("x"), involvedObject: { kind: "Pod", name: "virt-launcher-db-1-src" } }]),
    ).toBe(0);
    // The migration succeeded: its target's old attach trouble is over.
    expect(
      count([attachEvent("x")], {
        migrations: [migration({ uid: migUid, phase: "Succeeded", created: ago(600) })],
      }),
    ).toBe(0);
    // A target pod that became ready is not blocked; one that is not ready is.
    const ready = {
      ...target,
      status: { phase: "Running" as const, conditions: [{ type: "Ready", status: "True" as const }] },
    };
    expect(count([attachEvent("x")], { pods: [ready] })).toBe(0);
    const notReady = {
      ...target,
      status: { phase: "Pending" as const, conditions: [{ type: "Ready", status: "False" as const }] },
    };
    expect(count([attachEvent("x")], { pods: [notReady] })).toBe(1);
  });

  it("without VMIMs, any target pod's events count, and they count with only events when the pod was not read", () => {
    const s = snap({ pods: [target], events: [attachEvent("Multi-Attach error")] });
    expect(detectOne(s).confidence).toBe("high");
    // A pod that is not a target does not count.
    const source = pod("virt-launcher-db-1-src");
    expect(
      storageBlocksMigration.detect(
        snap({
          pods: [source],
          events: [{ ...attachEvent("x"), involvedObject: { kind: "Pod", name: "virt-launcher-db-1-src" } }],
        }),
      ),
    ).toEqual([]);
  });

  it("the target pod known only from the VMIM's state: medium confidence, says the pod was not read", () => {
    const s = snap({
      migrations: [
        migration({ uid: migUid, phase: "Scheduling", created: ago(600), state: { targetPod: targetName } }),
      ],
      events: [attachEvent("Multi-Attach error")],
    });
    const f = detectOne(s);
    expect(f.confidence).toBe("medium");
    expect(f.notChecked).toEqual(["the target pod itself (only its events were read)"]);
    // With events incomplete too, one step lower still.
    const worse = detectOne({ ...s, missing: [{ what: "events in demo", why: "forbidden" }] });
    expect(worse.confidence).toBe("low");
    expect(worse.notChecked).toEqual([
      "the target pod itself (only its events were read)",
      "events (Migrated, FailedAttachVolume, FailedMount)",
    ]);
  });

  it("missing events do not lower the confidence of a failure reason, but are named", () => {
    const f = detectOne(
      snap({ migrations: [failed(unsafeText)], missing: [{ what: "Events in demo", why: "forbidden" }] }),
    );
    expect(f.confidence).toBe("high");
    expect(f.notChecked).toEqual(["events (Migrated, FailedAttachVolume, FailedMount)"]);
    const other = detectOne(
      snap({ migrations: [failed(unsafeText)], missing: [{ what: "nodes", why: "forbidden" }] }),
    );
    expect(other.notChecked).toBeUndefined();
  });

  describe("a failed volume migration", () => {
    const volumeStatus = (
      pairs: { volumeName?: string; src?: string; srcSize?: string; dst?: string; dstSize?: string }[],
      changing = true,
    ) =>
      ({
        phase: "Running",
        ...(changing
          ? { conditions: [{ type: "VolumesChange", status: "True", lastTransitionTime: ago(500) }] }
          : {}),
        migratedVolumes: pairs.map((p) => ({
          ...(p.volumeName ? { volumeName: p.volumeName } : {}),
          sourcePVCInfo: {
            ...(p.src ? { claimName: p.src } : {}),
            ...(p.srcSize ? { capacity: { storage: p.srcSize } } : {}),
          },
          destinationPVCInfo: {
            ...(p.dst ? { claimName: p.dst } : {}),
            ...(p.dstSize ? { capacity: { storage: p.dstSize } } : {}),
          },
        })),
      }) as VirtualMachineInstance["status"];
    const failedVm = (transitions: Record<string, string> = { Scheduling: ago(400), Failed: ago(300) }) =>
      migration({ uid: migUid, phase: "Failed", created: ago(450), transitions });

    it("with no reason given: low, names what failed, the PVCs and the commands", () => {
      const s = snap({
        vmi: vmi(
          volumeStatus([
            { volumeName: "root", src: "old-a", srcSize: "10Gi", dst: "new-a", dstSize: "10Gi" },
            { volumeName: "data", src: "old-b", dst: "new-b" },
          ]),
        ),
        migrations: [failedVm()],
      });
      expect(detectOne(s)).toEqual({
        id: "storage-blocks-migration",
        title: "Storage blocks the live migration",
        severity: "error",
        confidence: "low",
        summary:
          "The migration was a volume migration (the VM's volumes were changed with updateVolumesStrategy: Migration) and it failed: copying the changed volumes to their new PVCs is what failed, not the memory.",
        evidence: [
          {
            object: "VirtualMachineInstance/db-1",
            field: "status.conditions[VolumesChange]",
            time: ago(500),
            text: "True: the VM's volumes are being migrated to new PVCs",
          },
          {
            object: "VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde",
            field: "status.phase",
            text: "Failed (Scheduling → Failed)",
          },
        ],
        fix: {
          explanation:
            "Check the destination PVCs (bound, at least as large as the source, a mode the target node can use) and the KubeVirt version's volume-migration limitations; revert the VM's volumes to the source PVCs to stop the retries, or migrate the storage offline (stop the VM, copy, start).",
          commands: [
            "kubectl get pvc old-a -n demo",
            "kubectl get pvc new-a -n demo",
            "kubectl get vmi db-1 -n demo -o 'jsonpath={.status.migratedVolumes}'",
            "kubectl edit vm db-1 -n demo",
          ],
        },
        docs: "https://kubevirt.io/user-guide/compute/live_migration/",
        notChecked: undefined,
      });
    });

    it("says when the copy had begun", () => {
      const s = snap({
        vmi: vmi(volumeStatus([{ src: "old-a", dst: "new-a" }])),
        migrations: [failedVm({ Scheduling: ago(400), Running: ago(350), Failed: ago(300) })],
      });
      expect(detectOne(s).summary).toContain("and it failed after the copy began: copying");
    });

    it("needs a failed relevant migration, and the VolumesChange condition or migrated volumes", () => {
      expect(
        storageBlocksMigration.detect(
          snap({
            vmi: vmi(volumeStatus([{ src: "a", dst: "b" }])),
            migrations: [migration({ phase: "Running" })],
          }),
        ),
      ).toEqual([]);
      expect(
        storageBlocksMigration.detect(snap({ vmi: vmi({ phase: "Running" }), migrations: [failedVm()] })),
      ).toEqual([]);
      const conditionOnly = detectOne(snap({ vmi: vmi(volumeStatus([], true)), migrations: [failedVm()] }));
      expect(conditionOnly.fix.commands).toEqual([
        "kubectl get vmi db-1 -n demo -o 'jsonpath={.status.migratedVolumes}'",
        "kubectl edit vm db-1 -n demo",
      ]);
      const volumesOnly = detectOne(
        snap({ vmi: vmi(volumeStatus([{ src: "a", dst: "b" }], false)), migrations: [failedVm()] }),
      );
      expect(volumesOnly.evidence.map((e) => e.field)).toEqual(["status.phase"]);
      // A False condition is not a volume change.
      const off = {
        phase: "Running",
        conditions: [{ type: "VolumesChange", status: "False" }],
      } as VirtualMachineInstance["status"];
      expect(storageBlocksMigration.detect(snap({ vmi: vmi(off), migrations: [failedVm()] }))).toEqual([]);
    });

    it("a destination smaller than its source, from the capacities: names both, high", () => {
      const s = snap({
        vmi: vmi(
          volumeStatus([
            { volumeName: "root", src: "old-a", srcSize: "10Gi", dst: "new-a", dstSize: "10Gi" },
            { volumeName: "data", src: "old-b", srcSize: "20Gi", dst: "new-b", dstSize: "10Gi" },
          ]),
        ),
        migrations: [failedVm()],
      });
      const f = detectOne(s);
      expect(f.confidence).toBe("high");
      expect(f.summary).toBe(
        "The volume migration failed because the destination volume new-b is smaller than the source old-b: QEMU on the target cannot fit the source disk into it.",
      );
      expect(f.evidence[0]).toEqual({
        object: "VirtualMachineInstance/db-1",
        field: "status.migratedVolumes[data]",
        text: "old-b (20Gi) → new-b (10Gi): the destination is smaller",
      });
      expect(f.fix.commands).toEqual(["kubectl get pvc old-b -n demo", "kubectl get pvc new-b -n demo"]);
      // Equal or unknown sizes are not smaller.
      expect(
        detectOne(
          snap({
            vmi: vmi(volumeStatus([{ src: "a", srcSize: "10Gi", dst: "b", dstSize: "10Gi" }])),
            migrations: [failedVm()],
          }),
        ).confidence,
      ).toBe("low");
      expect(
        detectOne(
          snap({
            vmi: vmi(volumeStatus([{ src: "a", srcSize: "10Gi", dst: "b" }])),
            migrations: [failedVm()],
          }),
        ).confidence,
      ).toBe("low");
    });

    it("the smaller-destination text with a volume migration names its first pair and quotes the volume evidence", () => {
      const s = snap({
        vmi: vmi(volumeStatus([{ volumeName: "v", dst: "new-a", dstSize: "5Gi" }])),
        migrations: [
          migration({
            uid: migUid,
            phase: "Failed",
            created: ago(450),
            state: { failureReason: smallerText },
          }),
        ],
      });
      const f = detectOne(s);
      expect(f.summary).toContain("the destination volume new-a is smaller than the source:");
      expect(f.evidence.map((e) => e.field)).toEqual([
        "status.migrationState.failureReason",
        "status.conditions[VolumesChange]",
        "status.phase",
      ]);
    });

    it("libvirt's MIGRATE_DISKS refusal: high, the KubeVirt defect named", () => {
      const text =
        "unsupported configuration: 'VIR_MIGRATE_PARAM_MIGRATE_DISKS' requires use of 'VIR_MIGRATE_NON_SHARED_DISK' or 'VIR_MIGRATE_NON_SHARED_INC' flag";
      const f = detectOne(
        snap({ migrations: [migration({ uid: migUid, phase: "Failed", state: { failureReason: text } })] }),
      );
      expect(f.confidence).toBe("high");
      expect(f.summary).toBe(
        "The volume migration failed: libvirt was asked to copy the changed volumes but not told to copy non-shared disks, which it refuses. This is a KubeVirt defect in how the volume migration is started (kubevirt/kubevirt#12811), seen when moving between shared (RWX) storage classes.",
      );
      expect(f.evidence.map((e) => e.text)).toEqual([text]);
      expect(f.fix.commands).toEqual([
        "kubectl get vmi db-1 -n demo -o 'jsonpath={.status.migratedVolumes}'",
        "kubectl edit vm db-1 -n demo",
      ]);
      const unquoted = "VIR_MIGRATE_PARAM_MIGRATE_DISKS requires use of VIR_MIGRATE_NON_SHARED_INC";
      expect(
        storageBlocksMigration.detect(
          snap({ migrations: [migration({ phase: "Failed", state: { failureReason: unquoted } })] }),
        ),
      ).toHaveLength(1);
    });
  });
});
