// Cancelling a VM's migration: there is no cancel endpoint; deleting the unfinished VMIM is the
// abort request (facts §c). Only that VMIM is deleted, with a uid precondition, and the outcome is
// read from the migration's end: aborted on the source node, completed first, or the abort failed.
// Three steps, so that the caller can show the target and ask before the request: the target
// (findCancelTarget), the request (requestAbort), the outcome (waitForAbort). It prints nothing.

import type { Clock } from "../clock.js";
import { ApiError, OperationFailedError } from "../errors.js";
import { isNotFound } from "../k8s/api-errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { ApiOutage } from "../k8s/outage.js";
import { isOutcomeUnknown } from "../k8s/retry.js";
import type {
  EvictionStrategy,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../k8s/types.js";
import { effectiveEvictionStrategy, evacuationMigrates } from "../migration/eviction-strategy.js";
import { unfinishedMigration } from "../migration/preflight.js";
import type { MigrationView } from "../migration/state.js";
import { kvmigCommand } from "../util/shell.js";
import { type FollowEnd, type FollowObserver, followMigration } from "./follow-migration.js";
import { readVmWithMigrations } from "./read-vm.js";

export interface CancelTarget {
  namespace: string;
  vmName: string;
  vmi: VirtualMachineInstance | undefined;
  /** The unfinished migration; undefined when there is nothing to cancel. */
  migration: VirtualMachineInstanceMigration | undefined;
  /** When an earlier cancel (maybe interrupted) requested the abort: then nothing is sent again. */
  requestedAt: string | undefined;
  /** The node the VMI is marked for evacuation from (`status.evacuationNodeName`). */
  evacuation: string | undefined;
  /**
   * Whether KubeVirt migrates the marked VMI (and so makes new migrations until the evacuation
   * is cancelled): not with eviction strategy External or None, nor without LiveMigratable=True;
   * undefined when the strategy is unknown (only the KubeVirt CR would say, and it was not read).
   */
  evacuationMigrates: boolean | undefined;
  /** The eviction strategy that applies, when known. */
  evictionStrategy: EvictionStrategy | undefined;
}

/** The VM's unfinished migration, if any, and what the caller shows about it. */
export async function findCancelTarget(
  kube: KubeClient,
  namespace: string,
  vmName: string,
): Promise<CancelTarget> {
  const { migrations, vmi } = await readVmWithMigrations(kube, namespace, vmName);
  const migration = unfinishedMigration(migrations);
  const evacuation = vmi?.status?.evacuationNodeName || undefined;
  // The cluster-wide strategy matters only for a marked VMI without its own.
  const kubevirt =
    evacuation && !vmi?.spec?.evictionStrategy ? await kube.findKubeVirt().catch(() => undefined) : undefined;
  return {
    namespace,
    vmName,
    vmi,
    migration,
    requestedAt: migration?.metadata.deletionTimestamp,
    evacuation,
    evacuationMigrates: evacuation ? evacuationMigrates(vmi, kubevirt) : undefined,
    evictionStrategy: effectiveEvictionStrategy(vmi, kubevirt),
  };
}

/** After a lost answer: is the migration gone, replaced, or marked for deletion? */
async function deletionArrived(
  kube: KubeClient,
  namespace: string,
  name: string,
  uid: string | undefined,
): Promise<boolean> {
  try {
    const now = await kube.get("vmim", name, namespace);
    return now.metadata.uid !== uid || now.metadata.deletionTimestamp !== undefined;
  } catch (error) {
    if (isNotFound(error)) return true;
    throw error;
  }
}

/**
 * Deletes the migration (only that uid) unless an earlier cancel already did: the abort request.
 * A migration replaced meanwhile, or a request lost on the way, is a failed operation; one that
 * ended meanwhile is no error (its end tells how).
 */
export async function requestAbort(
  kube: KubeClient,
  target: CancelTarget & { migration: VirtualMachineInstanceMigration },
  options: { dryRun: boolean },
): Promise<void> {
  if (target.requestedAt) return;
  const { namespace, vmName, migration } = target;
  const name = migration.metadata.name ?? "";
  try {
    await kube.deleteMigration(namespace, name, { uid: migration.metadata.uid, dryRun: options.dryRun });
  } catch (error) {
    // Replaced since kvmig read it (same name, another uid): the uid precondition kept the new
    // one alive; say so rather than cancel a migration the user never saw.
    if (error instanceof ApiError && error.status === 409 && /Precondition failed: UID/.test(error.message)) {
      throw new OperationFailedError(
        `migration ${name} of ${namespace}/${vmName} was replaced by another one since kvmig read it; nothing was deleted`,
        {
          hint: `see the current one with: ${kvmigCommand(["watch", vmName, "-n", namespace])}, then cancel again`,
        },
      );
    }
    // The answer was lost: whether the delete arrived shows on the migration itself.
    if (isOutcomeUnknown(error)) {
      if (!(await deletionArrived(kube, namespace, name, migration.metadata.uid))) {
        throw new OperationFailedError(
          `the abort request for migration ${name} was lost on the way (${error.message}); the migration still runs`,
          { hint: `run the same cancel again: ${kvmigCommand(["cancel", vmName, "-n", namespace])}` },
        );
      }
    } else if (!isNotFound(error)) {
      // Already gone: it ended (or was cancelled) meanwhile; the VMI still tells how.
      throw error;
    }
  }
}

export type AbortOutcome = "aborted" | "completed" | "abort-failed";

export interface AbortWaitInput {
  signal: AbortSignal;
  /** 0: no limit. */
  timeoutMs: number;
  clock: Clock;
  debug?: ((line: string) => void) | undefined;
  outage?: ApiOutage | undefined;
}

export interface AbortResult {
  /** Undefined when the wait stopped first (`end.kind` says why: timeout or interrupted). */
  outcome: AbortOutcome | undefined;
  end: FollowEnd;
  view: MigrationView;
  /** The node the VMI runs on at the end. */
  node: string | null;
}

/** Follows the migration until the abort's outcome shows (or the timeout, or Ctrl-C). */
export async function waitForAbort(
  kube: KubeClient,
  target: CancelTarget & { migration: VirtualMachineInstanceMigration },
  input: AbortWaitInput,
  observer?: FollowObserver,
): Promise<AbortResult> {
  const end = await followMigration(
    kube,
    { ...input, namespace: target.namespace, vmName: target.vmName, migration: target.migration },
    observer,
  );
  const view = end.view;
  const node = view.vmiNode ?? target.vmi?.status?.nodeName ?? null;
  const outcome: AbortOutcome | undefined =
    view.outcome === "succeeded"
      ? "completed"
      : view.outcome === "failed"
        ? view.abortStatus === "Failed"
          ? "abort-failed"
          : "aborted"
        : undefined;
  return { outcome, end, view, node };
}
