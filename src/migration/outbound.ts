// Where a running migration leaves from, for parallelOutboundMigrationsPerNode. virt-controller
// counts a running migration as outbound from its VMI's node and from the source node in its VMI's
// record (`pkg/virt-controller/watch/migration/migration.go` outboundMigrationsOnNode): both come
// from the VMI, never from the VMIM. While a migration runs, its VMIM's status.migrationState holds
// only sourcePod (`pkg/controller/controller.go` SetSourcePod); the VMI's record is copied in once
// the VMIM is final (`migration.go` updateStatus). So the VMIs of the running migrations are read.
// A VMI whose record is of an earlier migration from elsewhere (before hand-off replaces it) counts
// on both nodes, as KubeVirt counts it.

import { isNotFound } from "../k8s/api-errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { Pod, VirtualMachineInstance, VirtualMachineInstanceMigration } from "../k8s/types.js";

/** The nodes each running migration counts as outbound from, by {@link outboundKey}. */
export type OutboundNodes = ReadonlyMap<string, readonly string[]>;

/** More running migrations than this have their VMIs read no further: the limits are full long before. */
const maxVmisRead = 50;

export function outboundKey(m: VirtualMachineInstanceMigration): string {
  return `${m.metadata.namespace ?? ""}/${m.metadata.name ?? ""}`;
}

function vmiNameOf(m: VirtualMachineInstanceMigration): string | undefined {
  return m.spec?.vmiName ?? m.metadata.labels?.["kubevirt.io/vmi-name"];
}

/**
 * The nodes a running migration counts on: its VMI's node and its VMI's record's source node
 * (KubeVirt's rule); without the VMI, the node of its source pod (status.migrationState.sourcePod),
 * else the source node its VMIM carries (a final one's copy of the record).
 */
export function outboundNodesOf(
  m: VirtualMachineInstanceMigration,
  vmi: VirtualMachineInstance | undefined,
  sourcePod?: Pod | undefined,
): string[] {
  if (vmi) {
    const nodes = [vmi.status?.nodeName, vmi.status?.migrationState?.sourceNode];
    return [...new Set(nodes.filter((n): n is string => Boolean(n)))];
  }
  const node = sourcePod?.spec?.nodeName ?? m.status?.migrationState?.sourceNode;
  return node ? [node] : [];
}

/**
 * The node a migration leaves from: its VMI's record of it, else the node its VMI runs on (the
 * record is of another migration, or there is none yet), else its source pod's node, else what
 * its VMIM carries.
 */
export function sourceNodeOf(
  m: VirtualMachineInstanceMigration,
  vmi: VirtualMachineInstance | undefined,
  sourcePod?: Pod | undefined,
): string | undefined {
  const state = vmi?.status?.migrationState;
  if (state?.sourceNode && state.migrationUid !== undefined && state.migrationUid === m.metadata.uid) {
    return state.sourceNode;
  }
  return vmi?.status?.nodeName ?? sourcePod?.spec?.nodeName ?? m.status?.migrationState?.sourceNode;
}

/** The running migrations among `running` that leave `node`. */
export function outboundFrom(
  node: string | undefined,
  running: readonly VirtualMachineInstanceMigration[],
  nodes: (m: VirtualMachineInstanceMigration) => readonly string[] | undefined,
): VirtualMachineInstanceMigration[] {
  if (!node) return [];
  return running.filter((m) => nodes(m)?.includes(node) === true);
}

/**
 * Reads the VMI of each running migration (the first {@link maxVmisRead}) and returns where each
 * leaves from. A VMI that is gone counts nowhere (virt-controller skips it too); one that cannot be
 * read is replaced by the migration's source pod; a migration with neither is left out.
 */
export async function readOutboundNodes(
  kube: KubeClient,
  running: readonly VirtualMachineInstanceMigration[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    running.slice(0, maxVmisRead).map(async (m) => {
      const name = vmiNameOf(m);
      const namespace = m.metadata.namespace;
      if (!name) return;
      try {
        out.set(outboundKey(m), outboundNodesOf(m, await kube.get("vmi", name, namespace)));
        return;
      } catch (error) {
        if (isNotFound(error)) {
          out.set(outboundKey(m), []);
          return;
        }
      }
      const podName = m.status?.migrationState?.sourcePod;
      const pod = podName ? await kube.get("pod", podName, namespace).catch(() => undefined) : undefined;
      const nodes = outboundNodesOf(m, undefined, pod);
      if (nodes.length > 0) out.set(outboundKey(m), nodes);
    }),
  );
  return out;
}
