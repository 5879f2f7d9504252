// A restart through the `restart` subresource, followed until the new VMI runs: the VM
// controller deletes the old VMI and creates a new one (facts §a, §f), so the downtime is what
// kvmig sees between the old VMI going (final or deleted) and the new one reaching Running.
// Shared by `kvmig restart` and `kvmig outdated --restart`; it prints nothing itself.

import type { Clock } from "../clock.js";
import { timeLimit } from "../duration.js";
import { describeError, KvmigError } from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { ApiOutage } from "../k8s/outage.js";
import type { VirtualMachineInstance } from "../k8s/types.js";
import { isFinalPhase } from "../migration/state.js";

export interface RestartWaitOptions {
  namespace: string;
  vmName: string;
  /** The VMI that runs now; the restart replaces it. */
  oldVmi: VirtualMachineInstance;
  force: boolean;
  signal: AbortSignal;
  /** 0: no limit. */
  timeoutMs: number;
  clock: Clock;
  /** Each step, as it happens: "stopping", "stopped", and the new VMI's phases. */
  onStep?: ((step: RestartStep) => void) | undefined;
  /** Where the watch tells an API outage it rides out until the timeout (outage-notice.ts). */
  outage?: ApiOutage | undefined;
}

export type RestartStep =
  | { kind: "requested" }
  | { kind: "stopped"; ms: number }
  | { kind: "phase"; phase: string; node?: string | undefined };

export interface RestartResult {
  end: "running" | "failed" | "timeout" | "interrupted";
  requestedAt: number;
  /** When the old VMI was seen final or gone. */
  goneAt?: number | undefined;
  /** When the new VMI was seen Running. */
  runningAt?: number | undefined;
  newVmi?: VirtualMachineInstance | undefined;
  /** The last phase the new VMI was seen in. */
  newPhase?: string | undefined;
}

/**
 * Watches the VMI, asks for the restart once the watch is in place, and follows the old VMI
 * out and the new one in. Ctrl-C and the timeout stop the waiting, never the restart.
 */
export async function restartAndWait(kube: KubeClient, options: RestartWaitOptions): Promise<RestartResult> {
  const { namespace, vmName, oldVmi, clock } = options;
  const oldUid = oldVmi.metadata.uid;
  const stop = new AbortController();
  const result: RestartResult = { end: "interrupted", requestedAt: 0 };
  let ended: RestartResult["end"] | undefined;
  const finish = (end: RestartResult["end"]) => {
    ended ??= end;
    stop.abort();
  };
  const onAbort = () => finish("interrupted");
  options.signal.addEventListener("abort", onAbort, { once: true });
  if (options.signal.aborted) onAbort();
  const timeout = timeLimit(options.timeoutMs);
  if (timeout !== undefined)
    clock.sleep(timeout, stop.signal).then(
      () => finish("timeout"),
      () => {},
    );
  // The server's clock may run ahead of ours (a simulated cluster running faster): "now" is
  // never earlier than the newest server timestamp seen.
  let serverTime = 0;
  const now = () => Math.max(clock.now(), serverTime);
  let requested = false;
  let lastPhase = "";

  const observe = (vmi: VirtualMachineInstance | undefined, deleted: boolean) => {
    for (const stamp of vmi?.status?.phaseTransitionTimestamps ?? []) {
      const ms = Date.parse(stamp.phaseTransitionTimestamp ?? "");
      if (!Number.isNaN(ms) && ms > serverTime) serverTime = ms;
    }
    if (!requested) return;
    const old = vmi === undefined || vmi.metadata.uid === oldUid;
    if (
      old &&
      result.goneAt === undefined &&
      (deleted || vmi === undefined || isFinalPhase(vmi.status?.phase))
    ) {
      result.goneAt = now();
      options.onStep?.({ kind: "stopped", ms: result.goneAt - result.requestedAt });
    }
    if (old || vmi === undefined || deleted) return;
    // A new VMI exists, so the old one is gone even if its deletion was not seen.
    if (result.goneAt === undefined) {
      result.goneAt = now();
      options.onStep?.({ kind: "stopped", ms: result.goneAt - result.requestedAt });
    }
    result.newVmi = vmi;
    const phase = vmi.status?.phase || "Pending";
    result.newPhase = phase;
    if (phase !== lastPhase) {
      lastPhase = phase;
      options.onStep?.({ kind: "phase", phase, node: vmi.status?.nodeName });
    }
    if (phase === "Running" && vmi.status?.nodeName) {
      result.runningAt = now();
      finish("running");
    } else if (isFinalPhase(vmi.status?.phase)) finish("failed");
  };

  try {
    let current: VirtualMachineInstance | undefined;
    for await (const update of kube.watch("vmi", {
      namespace,
      fieldSelector: `metadata.name=${vmName}`,
      signal: stop.signal,
      outage: options.outage,
    })) {
      if (update.type === "SYNCED") {
        if (!requested) {
          await kube.restart(namespace, vmName, options.force ? { gracePeriodSeconds: 0 } : {});
          requested = true;
          result.requestedAt = now();
          options.onStep?.({ kind: "requested" });
          if (current?.metadata.uid !== oldUid) observe(current, current === undefined);
        }
        continue;
      }
      current = update.type === "DELETED" ? undefined : update.object;
      observe(update.object, update.type === "DELETED");
    }
  } catch (error) {
    if (!stop.signal.aborted) {
      throw error instanceof KvmigError
        ? error
        : new KvmigError(`watching the VMI: ${describeError(error).message}`, { cause: error });
    }
  } finally {
    options.signal.removeEventListener("abort", onAbort);
    stop.abort();
  }
  result.end = ended ?? "interrupted";
  return result;
}
