// postcopy-unavailable's reasoning on hand-built snapshots: which texts mean userfaultfd was
// refused, SELinux versus the kernel or seccomp, where the post-copy setting came from (the
// migration's own configuration, a MigrationPolicy, the KubeVirt CR) and what the fix touches.

import { describe, expect, it } from "vitest";
import { postcopyUnavailable } from "../../../src/diagnose/modes/postcopy-unavailable.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { KubeVirt, VirtualMachineInstanceMigrationState } from "../../../src/k8s/types.js";
import { ago, event, migration, snap, vmi } from "../../helpers/builders.js";

const notPermitted = "Postcopy is not supported: Userfaultfd not available: Operation not permitted";
const permissionDenied = "Postcopy is not supported: Userfaultfd not available: Permission denied";

function failed(state: VirtualMachineInstanceMigrationState = {}, reason = notPermitted) {
  return migration({ phase: "Failed", state: { failed: true, failureReason: reason, ...state } });
}

function kubevirt(allowPostCopy: boolean | undefined, name?: string): KubeVirt {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "KubeVirt",
    metadata: { ...(name ? { name } : {}), namespace: "kubevirt" },
    spec: { configuration: { migrations: allowPostCopy === undefined ? {} : { allowPostCopy } } },
  } as KubeVirt;
}

function detectOne(s: Snapshot): Finding {
  const findings = postcopyUnavailable.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const kernelCause =
  "the kernel or the container runtime refused QEMU the userfaultfd syscall (Operation not permitted: vm.unprivileged_userfaultfd is 0, or seccomp blocks it)";

describe("postcopy-unavailable reasoning", () => {
  it("a refusal on a known target node, post-copy from the KubeVirt CR: the whole finding", () => {
    const s = snap({
      migrations: [failed({ targetNode: "worker-2" })],
      kubevirt: kubevirt(true, "kv"),
    });
    const f = detectOne(s);
    expect(f).toEqual({
      id: "postcopy-unavailable",
      title: "Post-copy is enabled but refused on the node",
      severity: "error",
      confidence: "high",
      summary: `The migration used post-copy, but on target node worker-2 ${kernelCause}, so QEMU could not switch to post-copy and the migration failed. Post-copy needs userfaultfd on every node that may receive a migration.`,
      evidence: [
        {
          object: "VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde",
          field: "status.migrationState.failureReason",
          time: undefined,
          text: notPermitted,
        },
        { object: "KubeVirt/kv", field: "spec.configuration.migrations.allowPostCopy", text: "true" },
      ],
      fix: {
        explanation:
          "On every node that may receive migrations set vm.unprivileged_userfaultfd=1 (persist it in /etc/sysctl.d) and, where seccomp is enforced, use KubeVirt's seccomp profile (KubevirtSeccompProfile); or turn post-copy off. Then migrate again.",
        commands: [
          "kubectl debug node/worker-2 -it --image=busybox -- sysctl vm.unprivileged_userfaultfd",
          `kubectl patch kubevirt kv -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"allowPostCopy":false}}}}'`,
          "kvmig migrate db-1 -n demo",
        ],
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/#node-configuration-for-post-copy",
      notChecked: undefined,
    });
  });

  it("recognizes each way the refusal is written, and nothing else", () => {
    const texts = [
      "Postcopy is not supported",
      "Userfaultfd not available",
      "postcopy IS NOT SUPPORTED",
      "userfaultfd(2) failed: Operation not permitted",
      "syscall userfaultfd: Permission denied",
      'avc:  denied  { create } for pid=1 comm="qemu-kvm" name="[userfaultfd]" tclass=anon_inode',
      "denied { ioctl } for scontext=... tclass=userfaultfd",
    ];
    for (const text of texts) {
      expect(postcopyUnavailable.detect(snap({ migrations: [failed({}, text)] })), text).toHaveLength(1);
    }
    const others = [
      "Operation not permitted",
      "userfaultfd enabled",
      "userfaultfd\nOperation not permitted",
      "denied { userfaultfd",
      "migration failed: connection reset",
    ];
    for (const text of others) {
      expect(postcopyUnavailable.detect(snap({ migrations: [failed({}, text)] })), text).toEqual([]);
    }
  });

  it("tells SELinux (Permission denied, an avc denial) from the kernel or seccomp", () => {
    const selinux = detectOne(snap({ migrations: [failed({ targetNode: "w1" }, permissionDenied)] }));
    expect(selinux.summary).toBe(
      "The migration used post-copy, but on target node w1 SELinux denied QEMU the userfaultfd syscall, so QEMU could not switch to post-copy and the migration failed. Post-copy needs userfaultfd on every node that may receive a migration.",
    );
    expect(selinux.fix.explanation).toBe(
      "Allow userfaultfd for containers on the target node (container-selinux 2.248 or later has the permission), or turn post-copy off; then migrate again.",
    );
    const avc = detectOne(
      snap({
        migrations: [
          failed(
            {},
            `type=AVC msg=audit: avc:  denied  { create } for pid=4242 comm="qemu-kvm" name="[userfaultfd]"`,
          ),
        ],
      }),
    );
    expect(avc.summary).toContain("SELinux denied");
    const kernel = detectOne(snap({ migrations: [failed({}, notPermitted)] }));
    expect(kernel.summary).toContain(kernelCause);
  });

  it("takes the setting and the node from the VMI's state when it is about the latest migration", () => {
    const uid = "bbbbbbbb-0000-4000-8000-000000000001";
    const s = snap({
      vmi: vmi({
        phase: "Running",
        migrationState: {
          migrationUid: uid,
          targetNode: "worker-9",
          migrationPolicyName: "busy",
          migrationConfiguration: { allowPostCopy: true },
        },
      }),
      migrations: [
        migration({ uid, phase: "Failed", state: { failureReason: permissionDenied, targetNode: "old" } }),
      ],
      kubevirt: kubevirt(true),
    });
    const f = detectOne(s);
    expect(f.evidence.at(-1)).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "status.migrationState.migrationConfiguration.allowPostCopy",
      text: "true (from MigrationPolicy busy)",
    });
    expect(f.summary).toContain("on target node worker-9 SELinux");
    expect(f.fix.commands).toEqual([
      "kubectl debug node/worker-9 -it --image=busybox -- sysctl vm.unprivileged_userfaultfd",
      `kubectl patch migrationpolicy busy --type merge -p '{"spec":{"allowPostCopy":false}}'`,
      "kvmig migrate db-1 -n demo",
    ]);
    expect(f.fix.explanation).toContain("or turn post-copy off in MigrationPolicy busy; then migrate again.");
  });

  it("names the policy in the kernel explanation too", () => {
    const f = detectOne(
      snap({
        migrations: [
          failed(
            { migrationPolicyName: "p1", migrationConfiguration: { allowPostCopy: true } },
            notPermitted,
          ),
        ],
      }),
    );
    expect(f.fix.explanation).toContain("or turn post-copy off in MigrationPolicy p1. Then migrate again.");
  });

  it("quotes a configuration that says false as it is, without a policy", () => {
    const f = detectOne(
      snap({
        migrations: [failed({ migrationConfiguration: { allowPostCopy: false } })],
        kubevirt: kubevirt(true),
      }),
    );
    expect(f.evidence.at(-1)).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "status.migrationState.migrationConfiguration.allowPostCopy",
      text: "false",
    });
    expect(f.evidence).toHaveLength(2);
  });

  it("quotes the KubeVirt CR only when it allows post-copy; with no CR, patches the default one", () => {
    const off = detectOne(snap({ migrations: [failed()], kubevirt: kubevirt(false) }));
    expect(off.evidence.map((e) => e.object)).toEqual([
      "VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde",
    ]);
    const unnamed = detectOne(snap({ migrations: [failed()], kubevirt: kubevirt(true) }));
    expect(unnamed.evidence[1]?.object).toBe("KubeVirt/kubevirt");
    const none = detectOne(snap({ migrations: [failed()] }));
    expect(none.evidence).toHaveLength(1);
    expect(none.fix.commands).toEqual([
      `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"allowPostCopy":false}}}}'`,
      "kvmig migrate db-1 -n demo",
    ]);
  });

  it("without a node: no node command, and it says what it could not check", () => {
    const f = detectOne(snap({ migrations: [failed()] }));
    expect(f.summary).toContain("but on the target node the kernel");
    expect(f.notChecked).toEqual(["which node refused it (the VMI's migrationState was not available)"]);
    expect(f.fix.commands.some((c) => c.startsWith("kubectl debug"))).toBe(false);
  });

  it("without migrations, reads the VMI's state", () => {
    const s = snap({
      vmi: vmi({ phase: "Running", migrationState: { targetNode: "w3", failureReason: notPermitted } }),
    });
    const f = detectOne(s);
    expect(f.summary).toContain("target node w3");
    expect(f.evidence[0]).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "status.migrationState.failureReason",
      time: undefined,
      text: notPermitted,
    });
  });

  it("quotes at most three matching texts", () => {
    const events = [1, 2, 3, 4].map((i) =>
      event({ reason: "Migrated", message: `${notPermitted} (${i})`, lastTimestamp: ago(10 * i) }),
    );
    const f = detectOne(snap({ events }));
    expect(f.evidence.map((e) => e.text)).toEqual([1, 2, 3].map((i) => `${notPermitted} (${i})`));
  });

  it("a VMI without status, and no migration: the node is unknown", () => {
    const bare = { ...vmi(), status: undefined };
    const f = detectOne(snap({ vmi: bare, events: [event({ reason: "Migrated", message: notPermitted })] }));
    expect(f.notChecked).toEqual(["which node refused it (the VMI's migrationState was not available)"]);
    expect(postcopyUnavailable.severity).toBe("error");
  });
});
