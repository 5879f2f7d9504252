// Stopping a node's evacuation (`kvmig evacuate NODE --cancel`): every VMI's mark for the node is
// cleared through virt-api's evacuate/cancel (KubeVirt v1.7+), the evacuation migrations that have
// not started are deleted (their uid given, so a replaced one is left alone), the running ones go
// on to their end (cancelling those is `kvmig cancel`), and the node is uncordoned only when kvmig
// cordoned it (its kvmig.io/cordoned-by annotation): a node someone else cordoned stays so.

import { describeError } from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { isFinalPhase } from "../migration/state.js";
import { evacuationMigrationAnnotation } from "../migration/trigger.js";
import { cordonedByAnnotation } from "./evacuate-node.js";

/** What `kvmig evacuate NODE --cancel` did. */
export interface CancelEvacuationOutcome {
  node: string;
  /** VMIs whose evacuation mark was cleared. */
  cancelled: { namespace: string; vmi: string }[];
  /** Evacuation migrations deleted before they started. */
  deleted: { namespace: string; migration: string }[];
  /** Evacuation migrations already running: they go on to their end. */
  running: { namespace: string; migration: string; vmi: string }[];
  /** The node was uncordoned (kvmig had cordoned it). */
  uncordoned: boolean;
  /** The node is cordoned by someone else: left so. */
  cordonedByOther: boolean;
  errors: string[];
}

/**
 * Stops a node's evacuation: clears every VMI's mark for the node (evacuate/cancel), deletes the
 * evacuation migrations that have not started, lets the running ones end, and uncordons the node
 * when kvmig cordoned it.
 */
export async function cancelEvacuation(
  kube: KubeClient,
  node: string,
  /** clientOnly (--dry-run=client): what would be cancelled, with nothing sent. */
  options: { dryRun?: boolean | undefined; clientOnly?: boolean | undefined } = {},
): Promise<CancelEvacuationOutcome> {
  const nodeObject = await kube.get("node", node);
  const outcome: CancelEvacuationOutcome = {
    node,
    cancelled: [],
    deleted: [],
    running: [],
    uncordoned: false,
    cordonedByOther: false,
    errors: [],
  };
  for await (const page of kube.listPages("vmi")) {
    for (const vmi of page) {
      if (vmi.status?.evacuationNodeName !== node) continue;
      const namespace = vmi.metadata.namespace ?? "";
      const name = vmi.metadata.name ?? "";
      try {
        if (!options.clientOnly) await kube.evacuateCancel(namespace, name, node, { dryRun: options.dryRun });
        outcome.cancelled.push({ namespace, vmi: name });
      } catch (error) {
        outcome.errors.push(`${namespace}/${name}: ${describeError(error).message}`);
      }
    }
  }
  for await (const page of kube.listPages("vmim")) {
    for (const m of page) {
      if (m.metadata.annotations?.[evacuationMigrationAnnotation] !== node || isFinalPhase(m.status?.phase))
        continue;
      const namespace = m.metadata.namespace ?? "";
      const name = m.metadata.name ?? "";
      const phase = m.status?.phase ?? "";
      if (phase === "" || phase === "Pending") {
        try {
          if (!options.clientOnly)
            await kube.deleteMigration(namespace, name, { uid: m.metadata.uid, dryRun: options.dryRun });
          outcome.deleted.push({ namespace, migration: name });
        } catch (error) {
          outcome.errors.push(`${namespace}/${name}: ${describeError(error).message}`);
        }
      } else
        outcome.running.push({
          namespace,
          migration: name,
          vmi: m.spec?.vmiName ?? m.metadata.labels?.["kubevirt.io/vmi-name"] ?? "",
        });
    }
  }
  const spec = nodeObject.spec as { unschedulable?: boolean } | undefined;
  if (spec?.unschedulable) {
    if (outcome.errors.length > 0) {
      // Some VMs are still marked: KubeVirt goes on migrating them, so the node is left as it is.
      outcome.errors.push(`${node} stays cordoned, as not every evacuation could be cancelled`);
    } else if (nodeObject.metadata.annotations?.[cordonedByAnnotation] !== undefined) {
      if (!options.clientOnly)
        await kube.setNodeUnschedulable(node, false, {
          annotations: { [cordonedByAnnotation]: null },
          dryRun: options.dryRun,
        });
      outcome.uncordoned = true;
    } else outcome.cordonedByOther = true;
  }
  return outcome;
}
