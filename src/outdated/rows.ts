// Which VMIs run an outdated virt-launcher and what to do about each (facts §j): the
// `kubevirt.io/outdatedLauncherImage` label virt-controller sets, or (with --check) a
// `launcherContainerImageVersion` that differs from the current launcher image. An empty
// image counts as unknown, not outdated, as in the workload updater's isOutdated().

import { outdatedLauncherImageLabel } from "../k8s/launcher-image.js";
import type { KubeVirt, VirtualMachineInstance } from "../k8s/types.js";
import { isFinalPhase } from "../migration/state.js";
import { plural } from "../util/words.js";

export type OutdatedAction = "migrate" | "restart" | "wait" | "recreate";

export interface OutdatedRow {
  namespace: string;
  vmi: string;
  /** The owning VirtualMachine; null for a standalone VMI. */
  vm: string | null;
  node: string | null;
  phase: string | null;
  image: string | null;
  currentImage: string | null;
  /** Carries the outdated label. */
  labelled: boolean;
  /** The `LiveMigratable` condition: null when the VMI does not report it. */
  liveMigratable: boolean | null;
  reason: string | null;
  message: string | null;
  action: OutdatedAction;
}

export function isFinalVmi(vmi: VirtualMachineInstance): boolean {
  return isFinalPhase(vmi.status?.phase);
}

/** Outdated by the label; with `check`, also by an image that differs from the current one. */
export function isOutdated(
  vmi: VirtualMachineInstance,
  current: string | undefined,
  check: boolean,
): boolean {
  if (isFinalVmi(vmi)) return false;
  if (vmi.metadata.labels?.[outdatedLauncherImageLabel] !== undefined) return true;
  if (!check || current === undefined) return false;
  const image = vmi.status?.launcherContainerImageVersion;
  return image !== undefined && image !== "" && image !== current;
}

function migrating(vmi: VirtualMachineInstance): boolean {
  const state = vmi.status?.migrationState;
  return !!state?.startTimestamp && !state.endTimestamp && !state.completed && !state.failed;
}

export function outdatedRow(vmi: VirtualMachineInstance, current: string | undefined): OutdatedRow {
  const condition = vmi.status?.conditions?.find((c) => c.type === "LiveMigratable");
  const liveMigratable = condition === undefined ? null : condition.status === "True";
  const vm = vmi.metadata.ownerReferences?.find((o) => o.kind === "VirtualMachine")?.name ?? null;
  const action: OutdatedAction = migrating(vmi)
    ? "wait"
    : liveMigratable === true
      ? "migrate"
      : vm !== null
        ? "restart"
        : "recreate";
  return {
    namespace: vmi.metadata.namespace ?? "",
    vmi: vmi.metadata.name ?? "",
    vm,
    node: vmi.status?.nodeName || null,
    phase: vmi.status?.phase || null,
    image: vmi.status?.launcherContainerImageVersion || null,
    currentImage: current ?? null,
    labelled: vmi.metadata.labels?.[outdatedLauncherImageLabel] !== undefined,
    liveMigratable,
    reason: liveMigratable === false ? (condition?.reason ?? null) : null,
    message: liveMigratable === false ? (condition?.message ?? null) : null,
    action,
  };
}

/** The action in the 80-column table: one word (the totals line says which cost downtime). */
export function shortActionText(action: OutdatedAction): string {
  return action;
}

/** What the wide table's action column and the prompts say about an action. */
export function actionText(action: OutdatedAction): string {
  switch (action) {
    case "migrate":
      return "migrate";
    case "restart":
      return "restart (downtime)";
    case "wait":
      return "wait (migrating now)";
    case "recreate":
      return "recreate (standalone VMI)";
  }
}

export interface ClusterFacts {
  kubevirt: {
    namespace: string;
    name: string;
    phase: string | null;
    observedVersion: string | null;
    targetVersion: string | null;
    /** The cluster's own count, `status.outdatedVirtualMachineInstanceWorkloads`. */
    outdatedWorkloads: number | null;
  } | null;
  currentLauncherImage: string | null;
  workloadUpdateMethods: string[];
  /** Whether KubeVirt updates outdated VMIs by itself (a non-empty method list). */
  automaticUpdates: boolean;
  batchEvictionSize: number | null;
  batchEvictionInterval: string | null;
}

export function clusterFacts(kubevirt: KubeVirt | undefined, current: string | undefined): ClusterFacts {
  const strategy = kubevirt?.spec.workloadUpdateStrategy;
  const methods = [...(strategy?.workloadUpdateMethods ?? [])];
  return {
    kubevirt: kubevirt
      ? {
          namespace: kubevirt.metadata.namespace ?? "",
          name: kubevirt.metadata.name ?? "",
          phase: kubevirt.status?.phase || null,
          observedVersion: kubevirt.status?.observedKubeVirtVersion || null,
          targetVersion: kubevirt.status?.targetKubeVirtVersion || null,
          outdatedWorkloads: kubevirt.status?.outdatedVirtualMachineInstanceWorkloads ?? null,
        }
      : null,
    currentLauncherImage: current ?? null,
    workloadUpdateMethods: methods,
    automaticUpdates: methods.length > 0,
    batchEvictionSize: methods.includes("Evict") ? (strategy?.batchEvictionSize ?? 10) : null,
    batchEvictionInterval: methods.includes("Evict") ? (strategy?.batchEvictionInterval ?? "1m0s") : null,
  };
}

/** The header lines of the text output: versions, the current launcher, automatic updates. */
export function headerLines(facts: ClusterFacts): string[] {
  const kv = facts.kubevirt;
  const lines: string[] = [];
  if (!kv) lines.push("KubeVirt: no KubeVirt resource found (versions unknown)");
  else {
    const observed = kv.observedVersion ?? "unknown";
    const target = kv.targetVersion ?? observed;
    const count =
      kv.outdatedWorkloads === null ? "" : `; its own count of outdated VMIs: ${kv.outdatedWorkloads}`;
    lines.push(
      observed === target
        ? `KubeVirt ${observed} (${kv.phase ?? "phase unknown"})${count}`
        : `KubeVirt ${observed} → ${target} (upgrade in progress, ${kv.phase ?? "phase unknown"})${count}`,
    );
  }
  lines.push(`current launcher ${facts.currentLauncherImage ?? "unknown (virt-controller not readable)"}`);
  if (facts.automaticUpdates) {
    const evict = facts.workloadUpdateMethods.includes("Evict")
      ? `; evicts ${facts.batchEvictionSize} every ${facts.batchEvictionInterval}`
      : "";
    lines.push(`automatic workload updates: on (${facts.workloadUpdateMethods.join(", ")}${evict})`);
  } else {
    lines.push("automatic workload updates: off (no workloadUpdateMethods in the KubeVirt CR)");
  }
  return lines;
}

/** `registry/repo:tag` → `tag` when both images share the repository; else the whole images. */
export function imageChange(image: string | null, current: string | null): string {
  if (image === null) return current === null ? "unknown" : `unknown → ${current}`;
  if (current === null) return image;
  // `repo[:tag][@digest]`: the repository, and the tag (else the digest) that names the version.
  const split = (ref: string) => {
    const at = ref.indexOf("@");
    const name = at >= 0 ? ref.slice(0, at) : ref;
    const digest = at >= 0 ? ref.slice(at + 1) : "";
    const colon = name.lastIndexOf(":");
    const tagged = colon > name.lastIndexOf("/");
    return [tagged ? name.slice(0, colon) : name, (tagged ? name.slice(colon + 1) : "") || digest];
  };
  const [repo, tag] = split(image);
  const [currentRepo, currentTag] = split(current);
  if (repo === currentRepo && tag && currentTag) return `${tag} → ${currentTag}`;
  return `${image} → ${current}`;
}

export function migratableText(row: OutdatedRow): string {
  if (row.liveMigratable === null) return "unknown";
  return row.liveMigratable ? "yes" : `no: ${row.reason ?? "not live-migratable"}`;
}

/** The same in a few characters: KubeVirt's reasons end in NotLiveMigratable ("no: Disks"). */
export function shortMigratableText(row: OutdatedRow): string {
  if (row.liveMigratable !== false || !row.reason) return migratableText(row);
  return `no: ${row.reason.replace(/Not(Live)?Migratable$/, "") || row.reason}`;
}

export interface OutdatedCounts {
  outdated: number;
  migrate: number;
  restart: number;
  wait: number;
  recreate: number;
}

export function emptyCounts(): OutdatedCounts {
  return { outdated: 0, migrate: 0, restart: 0, wait: 0, recreate: 0 };
}

export function countRow(counts: OutdatedCounts, row: OutdatedRow): void {
  counts.outdated++;
  counts[row.action]++;
}

export function countsLine(counts: OutdatedCounts, scope: string): string {
  if (counts.outdated === 0) return `no VMI runs an outdated virt-launcher ${scope}`;
  const parts = [`${counts.migrate} to migrate`, `${counts.restart} to restart (downtime)`];
  if (counts.wait > 0) parts.push(`${counts.wait} migrating now`);
  if (counts.recreate > 0) parts.push(`${counts.recreate} standalone (recreate)`);
  return `${plural(counts.outdated, "outdated VMI")} ${scope}: ${parts.join(", ")}`;
}
