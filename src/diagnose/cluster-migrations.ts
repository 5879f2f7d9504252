// The unfinished migrations of the whole cluster, for the parallel limits: virt-controller keeps a
// migration Pending, without an event, while `parallelMigrationsPerCluster` migrations run in the
// cluster or `parallelOutboundMigrationsPerNode` leave the source node. Only the count tells which
// limit is full, and so which one a fix should raise; `watch` counts the same way.
//
// Read only when this VM has a migration waiting (the only time a rule needs them), page by page
// keeping only the unfinished ones, so a cluster with many finished VMIMs costs no memory. The
// per-node count needs where each running migration leaves from, which virt-controller takes from
// the migration's VMI: a running VMIM's status.migrationState holds only its source pod
// (migration/outbound.ts), so the running migrations' VMIs are read too.

import type { KubeClient } from "../k8s/kube-client.js";
import type { VirtualMachineInstanceMigration } from "../k8s/types.js";
import { type OutboundNodes, readOutboundNodes } from "../migration/outbound.js";
import { countsTowardsLimits } from "../migration/pending.js";

export function isUnfinished(m: VirtualMachineInstanceMigration): boolean {
  const phase = m.status?.phase ?? "";
  return phase !== "Succeeded" && phase !== "Failed";
}

export interface ClusterMigrations {
  /** Every namespace's unfinished VMIMs. */
  migrations: VirtualMachineInstanceMigration[];
  /** Where each running one leaves from, from its VMI (or its source pod). */
  outboundNodes: OutboundNodes;
}

/** The cluster's unfinished VMIMs, and where the running ones leave from. */
export async function readClusterMigrations(kube: KubeClient): Promise<ClusterMigrations> {
  const migrations: VirtualMachineInstanceMigration[] = [];
  for await (const page of kube.listPages("vmim", {})) {
    for (const m of page) if (isUnfinished(m)) migrations.push(m);
  }
  const outboundNodes = await readOutboundNodes(kube, migrations.filter(countsTowardsLimits));
  return { migrations, outboundNodes };
}
