// The unfinished migrations of the whole cluster, for the parallel limits: virt-controller keeps a
// migration Pending, without an event, while `parallelMigrationsPerCluster` migrations run in the
// cluster or `parallelOutboundMigrationsPerNode` leave the source node. Only the count tells which
// limit is full, and so which one a fix should raise; `watch` counts the same way.
//
// Read only when this VM has a migration waiting (the only time a rule needs them), page by page
// keeping only the unfinished ones, so a cluster with many finished VMIMs costs no memory. The
// per-node count needs each running migration's source node: the VMIM carries it in
// status.migrationState on recent KubeVirt; otherwise it comes from the VMI being migrated
// (status.migrationState.sourceNode while that migration is its current one, else its node).

import type { KubeClient } from "../k8s/kube-client.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigration } from "../k8s/types.js";
import { countsTowardsLimits } from "../migration/pending.js";

/** More running migrations than this have their VMIs read no further: the limits are full long before. */
const maxVmisRead = 50;

export function isUnfinished(m: VirtualMachineInstanceMigration): boolean {
  const phase = m.status?.phase ?? "";
  return phase !== "Succeeded" && phase !== "Failed";
}

/** The source node of a running migration, as the VMIM says it or as its VMI does. */
export function sourceNodeOf(
  m: VirtualMachineInstanceMigration,
  vmi: VirtualMachineInstance | undefined,
): string | undefined {
  const own = m.status?.migrationState?.sourceNode;
  if (own) return own;
  if (!vmi) return undefined;
  const state = vmi.status?.migrationState;
  if (state?.sourceNode && (state.migrationUid === undefined || state.migrationUid === m.metadata.uid)) {
    return state.sourceNode;
  }
  return vmi.status?.nodeName;
}

/**
 * The cluster's unfinished VMIMs; each running one without a source node in its status gets one
 * (a copy, status.migrationState.sourceNode from its VMI) when its VMI could be read.
 */
export async function readClusterMigrations(kube: KubeClient): Promise<VirtualMachineInstanceMigration[]> {
  const unfinished: VirtualMachineInstanceMigration[] = [];
  for await (const page of kube.listPages("vmim", {})) {
    for (const m of page) if (isUnfinished(m)) unfinished.push(m);
  }
  const lacking = unfinished
    .filter((m) => countsTowardsLimits(m) && !m.status?.migrationState?.sourceNode)
    .slice(0, maxVmisRead);
  const filled = new Map<VirtualMachineInstanceMigration, string>();
  await Promise.all(
    lacking.map(async (m) => {
      const name = m.spec?.vmiName ?? m.metadata.labels?.["kubevirt.io/vmi-name"];
      if (!name) return;
      const vmi = await kube.get("vmi", name, m.metadata.namespace).catch(() => undefined);
      const node = sourceNodeOf(m, vmi);
      if (node) filled.set(m, node);
    }),
  );
  return unfinished.map((m) => {
    const node = filled.get(m);
    if (!node) return m;
    return {
      ...m,
      status: { ...m.status, migrationState: { ...m.status?.migrationState, sourceNode: node } },
    };
  });
}
