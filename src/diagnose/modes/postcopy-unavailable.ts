// postcopy-unavailable: post-copy is allowed for the migration, but the target node's QEMU may
// not use userfaultfd, the syscall post-copy needs. The kernel refuses it to unprivileged
// processes unless vm.unprivileged_userfaultfd=1, the runtime's seccomp profile can block it,
// and an SELinux policy without the userfaultfd permission denies it.

import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  failureTextsMatching,
  migrationSettings,
  migrationStateOf,
  patchMigrationConfig,
  relevantMigrations,
} from "../evidence.js";
import type { Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "postcopy-unavailable";
const title = "Post-copy is enabled but refused on the node";
const docs = "https://kubevirt.io/user-guide/compute/live_migration/#node-configuration-for-post-copy";

const refused =
  /Postcopy is not supported|Userfaultfd not available|userfaultfd[^\n]*(?:Operation not permitted|Permission denied)|denied\s*\{[^}]*\}[^\n]*userfaultfd/i;

function detect(s: Snapshot): Finding[] {
  const found = failureTextsMatching(s, refused);
  if (found.length === 0) return [];
  const vm = s.vmName;
  const ns = ["-n", s.namespace];
  const evidence: Evidence[] = found.slice(0, 3);
  const migration = relevantMigrations(s).at(-1);
  const state = migration ? migrationStateOf(s, migration) : s.vmi?.status?.migrationState;
  const policy = state?.migrationPolicyName ?? undefined;
  const allowed = state?.migrationConfiguration?.allowPostCopy;
  if (allowed !== undefined) {
    evidence.push({
      object: `VirtualMachineInstance/${s.vmi?.metadata.name ?? vm}`,
      field: "status.migrationState.migrationConfiguration.allowPostCopy",
      text: `${allowed}${policy ? ` (from MigrationPolicy ${policy})` : ""}`,
    });
  } else if (s.kubevirt && migrationSettings(s).allowPostCopy) {
    evidence.push({
      object: `KubeVirt/${s.kubevirt.metadata.name ?? "kubevirt"}`,
      field: "spec.configuration.migrations.allowPostCopy",
      text: "true",
    });
  }
  const text = found.map((e) => e.text).join("\n");
  const selinux = /Permission denied|avc:\s*denied/i.test(text);
  const node = state?.targetNode;
  const cause = selinux
    ? "SELinux denied QEMU the userfaultfd syscall"
    : "the kernel or the container runtime refused QEMU the userfaultfd syscall (Operation not permitted: vm.unprivileged_userfaultfd is 0, or seccomp blocks it)";
  const summary = `The migration used post-copy, but on ${node ? `target node ${node}` : "the target node"} ${cause}, so QEMU could not switch to post-copy and the migration failed. Post-copy needs userfaultfd on every node that may receive a migration.`;

  const commands: string[] = [];
  if (node)
    commands.push(
      commandLine([
        "kubectl",
        "debug",
        `node/${node}`,
        "-it",
        "--image=busybox",
        "--",
        "sysctl",
        "vm.unprivileged_userfaultfd",
      ]),
    );
  if (policy) {
    commands.push(
      commandLine([
        "kubectl",
        "patch",
        "migrationpolicy",
        policy,
        "--type",
        "merge",
        "-p",
        JSON.stringify({ spec: { allowPostCopy: false } }),
      ]),
    );
  } else {
    commands.push(patchMigrationConfig(s, { allowPostCopy: false }));
  }
  commands.push(kvmigCommand(["migrate", vm, ...ns]));
  const explanation = selinux
    ? `Allow userfaultfd for containers on the target node (container-selinux 2.248 or later has the permission), or turn post-copy off${policy ? ` in MigrationPolicy ${policy}` : ""}; then migrate again.`
    : `On every node that may receive migrations set vm.unprivileged_userfaultfd=1 (persist it in /etc/sysctl.d) and, where seccomp is enforced, use KubeVirt's seccomp profile (KubevirtSeccompProfile); or turn post-copy off${policy ? ` in MigrationPolicy ${policy}` : ""}. Then migrate again.`;
  return [
    {
      id,
      title,
      severity: "error",
      confidence: "high",
      summary,
      evidence,
      fix: { explanation, commands },
      docs,
      notChecked: node ? undefined : ["which node refused it (the VMI's migrationState was not available)"],
    },
  ];
}

export const postcopyUnavailable: Rule = { id, title, severity: "error", detect };
