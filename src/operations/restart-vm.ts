// Restarting a VM (the cold path, with downtime) through the `restart` subresource: the server's
// own check first (a dry run), then the restart, followed until the new VMI runs. The VM
// controller deletes the old VMI and creates a new one (facts §a, §f), so the downtime is what
// kvmig sees between the old VMI going (final or deleted) and the new one reaching Running.
// Used by `kvmig restart` and the bulk runner; it prints nothing: each step goes to an observer.

import type { Clock } from "../clock.js";
import { timeLimit } from "../duration.js";
import {
  ApiError,
  describeError,
  KvmigError,
  NotFoundError,
  OperationFailedError,
  UnauthorizedError,
} from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { currentLauncherImage } from "../k8s/launcher-image.js";
import type { ApiOutage } from "../k8s/outage.js";
import type { VirtualMachine, VirtualMachineInstance } from "../k8s/types.js";
import { isFinalPhase } from "../migration/state.js";
import { commandLine } from "../util/shell.js";
import { readVm } from "./read-vm.js";

/**
 * The server's refusals (runStrategy, a VM that is not running, volume recovery) keep its words;
 * the hint says what to do about each.
 */
export function restartRefusal(error: unknown, namespace: string, vm: string): unknown {
  if (!(error instanceof ApiError)) return error;
  if (error.status === 403) {
    return new UnauthorizedError(error.message, {
      hint: `you may not update virtualmachines/restart in "${namespace}"; the admin and edit ClusterRoles grant it`,
      cause: error,
    });
  }
  if (error.status !== 409) return error;
  const message = error.message;
  // A Halted VM is stopped: it wants a start, not a stop and a start.
  const hint = /RunSt(r)?ategy Halted/.test(message)
    ? `the VM is stopped (runStrategy Halted); start it with: ${commandLine(["virtctl", "start", vm, "-n", namespace])}`
    : /RunSt(r)?ategy/.test(message)
      ? `the VM's runStrategy does not allow a restart; start and stop it instead: ${commandLine(["virtctl", "stop", vm, "-n", namespace])}, then ${commandLine(["virtctl", "start", vm, "-n", namespace])}`
      : /not running/i.test(message)
        ? `the VM has no running VMI to restart; start it with: ${commandLine(["virtctl", "start", vm, "-n", namespace])}`
        : /recovery required|Volume migration/i.test(message)
          ? `a volume migration failed and the VM needs its volumes recovered first; see: ${commandLine(["kubectl", "describe", "vm", vm, "-n", namespace])}`
          : `the VM changed meanwhile; check it with ${commandLine(["kubectl", "get", "vm", vm, "-n", namespace])} and run again`;
  return new OperationFailedError(`the server refused to restart ${namespace}/${vm}: ${message}`, {
    hint,
    cause: error,
  });
}

export interface RestartCheckInput {
  namespace: string;
  vmName: string;
  /** Grace period 0. */
  force: boolean;
  /** `--grace-period N` (virtctl's flag): sent as the restart's gracePeriodSeconds; force means 0. */
  gracePeriodSeconds?: number | undefined;
  /** false: no dry run of the restart on the server either (--dry-run=client). */
  serverCheck?: boolean | undefined;
}

export interface RestartCheck {
  vm: VirtualMachine;
  /** The VMI that runs now; the restart replaces it. */
  vmi: VirtualMachineInstance;
  /** The launcher image a new VMI gets (virt-controller's --launcher-image), when readable. */
  currentImage: string | undefined;
}

/**
 * What a restart would replace, checked by the server with a dry run, so that a refusal comes
 * before any question and nothing changes: a standalone VMI (no VM) is a NotFoundError, a VM
 * without a running VMI a failed operation, the server's refusals as restartRefusal words them.
 */
export async function checkRestart(kube: KubeClient, input: RestartCheckInput): Promise<RestartCheck> {
  const { namespace, vmName } = input;
  const where = `${namespace}/${vmName}`;
  const [{ vm, vmi }, currentImage] = await Promise.all([
    readVm(kube, namespace, vmName),
    currentLauncherImage(kube),
  ]);
  if (!vm) {
    throw new NotFoundError(`VirtualMachine "${vmName}" not found in namespace "${namespace}"`, {
      hint: `${where} is a standalone VirtualMachineInstance; only a VM can be restarted (delete the VMI and create it again)`,
    });
  }
  if (input.serverCheck !== false) {
    try {
      await kube.restart(namespace, vmName, { ...restartOptions(input), dryRun: ["All"] });
    } catch (error) {
      throw restartRefusal(error, namespace, vmName);
    }
  }
  if (!vmi) {
    throw new OperationFailedError(`${where} has no running VMI to restart`, {
      hint: `start it with: ${commandLine(["virtctl", "start", vmName, "-n", namespace])}`,
    });
  }
  return { vm, vmi, currentImage };
}

/** The restart's body: a grace period only when one is asked for (today's KubeVirt takes only 0). */
function restartOptions(input: { force: boolean; gracePeriodSeconds?: number | undefined }) {
  if (input.force) return { gracePeriodSeconds: 0 };
  return input.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: input.gracePeriodSeconds };
}

/** Asks for the restart and returns at once (`--no-wait`); a refusal as restartRefusal words it. */
export async function requestRestart(kube: KubeClient, input: RestartCheckInput): Promise<void> {
  try {
    await kube.restart(input.namespace, input.vmName, restartOptions(input));
  } catch (error) {
    throw restartRefusal(error, input.namespace, input.vmName);
  }
}

export interface RestartWaitInput {
  namespace: string;
  vmName: string;
  /** The VMI that runs now; the restart replaces it. */
  oldVmi: VirtualMachineInstance;
  force: boolean;
  gracePeriodSeconds?: number | undefined;
  signal: AbortSignal;
  /** 0: no limit. */
  timeoutMs: number;
  clock: Clock;
  /** Where the watch tells an API outage it rides out until the timeout. */
  outage?: ApiOutage | undefined;
}

/** Each step, as it happens: requested, the old VMI stopped, and the new VMI's phases. */
export interface RestartObserver {
  onStep(step: RestartStep): void;
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
export async function restartAndWait(
  kube: KubeClient,
  options: RestartWaitInput,
  observer?: RestartObserver,
): Promise<RestartResult> {
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
      observer?.onStep({ kind: "stopped", ms: result.goneAt - result.requestedAt });
    }
    if (old || vmi === undefined || deleted) return;
    // A new VMI exists, so the old one is gone even if its deletion was not seen.
    if (result.goneAt === undefined) {
      result.goneAt = now();
      observer?.onStep({ kind: "stopped", ms: result.goneAt - result.requestedAt });
    }
    result.newVmi = vmi;
    const phase = vmi.status?.phase || "Pending";
    result.newPhase = phase;
    if (phase !== lastPhase) {
      lastPhase = phase;
      observer?.onStep({ kind: "phase", phase, node: vmi.status?.nodeName });
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
          await kube.restart(namespace, vmName, restartOptions(options));
          requested = true;
          result.requestedAt = now();
          observer?.onStep({ kind: "requested" });
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
