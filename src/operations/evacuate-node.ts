// Evacuating a node the KubeVirt way (issue 22): cordon it, then ask for each VM's eviction as
// `kubectl drain` does. KubeVirt's eviction webhook refuses the eviction of a launcher pod whose
// VM should move (429) and marks the VMI (`status.evacuationNodeName`); its evacuation controller
// then creates the `kubevirt-evacuation-*` migrations and the migration controller runs them
// within parallelOutboundMigrationsPerNode and parallelMigrationsPerCluster. kvmig never creates a
// migration here: everything it follows is KubeVirt's, so that an interrupted run (or `kubectl
// drain` beside it) goes on correctly without kvmig.
//
// Each VM is followed through its migrations (followToEnd: phases, progress, the reason it waits,
// and diagnose's findings when one fails). A VM whose evacuation fails `maxAttempts` times (counted
// from the server's own record, so a second run counts the first run's attempts) is given up:
// its evacuation is cancelled (evacuate/cancel) and a retry KubeVirt queued meanwhile is deleted
// before it starts, and it is reported failed with the cause diagnose names. The node stays
// cordoned. VMs that cannot live-migrate are blocked, or with `restart` restarted (cold) so that
// they start on another node. Ctrl-C and the timeout stop the following only.

import type { Clock } from "../clock.js";
import type { Finding } from "../diagnose/types.js";
import { timeLimit } from "../duration.js";
import { ApiError, describeError } from "../errors.js";
import type { KubeClient, ObjectOf } from "../k8s/kube-client.js";
import type { ApiOutage } from "../k8s/outage.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigration } from "../k8s/types.js";
import type { EvacuationPlan, PlannedVm } from "../migration/evacuation-plan.js";
import { isFinalPhase, type MigrationView } from "../migration/state.js";
import { evacuationMigrationAnnotation, migrationTrigger } from "../migration/trigger.js";
import { compareText } from "../util/order.js";
import { kvmigCommand } from "../util/shell.js";
import { rootCause } from "./failure-limit.js";
import { followToEnd } from "./follow-migration.js";
import { restartAndWait } from "./restart-vm.js";

/** The node annotation that says kvmig cordoned the node (so `--cancel` uncordons only then). */
export const cordonedByAnnotation = "kvmig.io/cordoned-by";
/** A VM's evacuation is given up after this many failed migrations (KubeVirt's backoff starts at the second). */
export const defaultMaxAttempts = 2;
/** KubeVirt's VMI condition while it is marked for evacuation (v1.7+). */
const evictionRequested = "EvictionRequested";
/** Without KubeVirt's EvictionRequested condition (before v1.7), failures this recent count as attempts. */
const recentFailureMs = 60 * 60 * 1000;

export type EvacuationOutcome = "migrated" | "restarted" | "failed" | "blocked" | "skipped";

/** One VM's end, as the summary and `-o json` tell it. */
export interface EvacuationResult {
  namespace: string;
  vm: string;
  vmi: string;
  outcome: EvacuationOutcome;
  from: string;
  to: string | null;
  /** Seconds from the start of its first migration (or restart) to its end; null when nothing ran. */
  duration: number | null;
  /** Migrations KubeVirt ran for it in this evacuation (failed ones included). */
  attempts: number;
  /** The id of diagnose's top finding for a failure. */
  cause: string | null;
  message: string | null;
  /** What to do about it: diagnose's fix, or the command that moves a blocked VM. */
  fix: string | null;
}

/** Where a VM stands while the evacuation runs. */
export type VmStage = "waiting" | "migrating" | "restarting" | "finished";

export interface VmStatus {
  vm: PlannedVm;
  stage: VmStage;
  /** The migration followed now, and its phase. */
  migration?: string | undefined;
  phase?: string | undefined;
  /** Why it waits (the limits with counts, KubeVirt's backoff), as followMigration explains it. */
  waiting?: string | undefined;
  attempts: number;
  result?: EvacuationResult | undefined;
  /** The MigrationView of the followed migration, for a renderer that shows data left and rates. */
  view?: MigrationView | undefined;
}

/** Counts for the node's progress bar. */
export interface EvacuationCounts {
  done: number;
  running: number;
  queued: number;
  failed: number;
  blocked: number;
  total: number;
}

export interface EvacuateObserver {
  /** The node was cordoned now (`already`: it was before). */
  onCordon?(already: boolean): void;
  /** A VM's status changed. */
  onVm?(status: VmStatus, counts: EvacuationCounts): void;
  /** A migration of the VM failed: diagnose's top finding (undefined when it names none). */
  onFailure?(status: VmStatus, finding: Finding | undefined, willRetry: boolean): void;
  /** A note worth a line (an eviction that went through, a cancel that could not be made). */
  onNote?(status: VmStatus | undefined, text: string): void;
}

export interface EvacuateInput {
  plan: EvacuationPlan;
  /** --force on a restart: stop the guests at once. */
  forceRestart?: boolean | undefined;
  maxAttempts?: number | undefined;
  /** The whole evacuation; 0 for no limit. The evacuation goes on after it. */
  timeoutMs: number;
  clock: Clock;
  /** Ctrl-C: the following stops; KubeVirt's evacuation goes on. */
  signal: AbortSignal;
  debug?: ((line: string) => void) | undefined;
  outage?: ApiOutage | undefined;
  /** How a failed migration's root cause is found (diagnose's specificity); tests give their own. */
  specificityOf?: ((id: string) => "cause" | "symptom" | "pattern" | "fallback" | undefined) | undefined;
}

export interface EvacuateOutcome {
  node: string;
  /** The node is cordoned at the end. */
  cordoned: boolean;
  results: EvacuationResult[];
  /** VMIs still on the node at the end (any namespace). */
  remaining: { namespace: string; vmi: string }[];
  interrupted: boolean;
  timedOut: boolean;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

function vmiOf(m: VirtualMachineInstanceMigration): string | undefined {
  return m.spec?.vmiName ?? m.metadata.labels?.["kubevirt.io/vmi-name"];
}

function createdMs(o: { metadata: { creationTimestamp?: string | undefined } }): number {
  const ms = Date.parse(o.metadata.creationTimestamp ?? "");
  return Number.isNaN(ms) ? 0 : ms;
}

/** When KubeVirt marked the VMI for evacuation (its EvictionRequested condition, v1.7+). */
export function markedSince(vmi: VirtualMachineInstance | undefined): number | undefined {
  const condition = (vmi?.status?.conditions ?? []).find(
    (c) => c.type === evictionRequested && c.status === "True",
  );
  const ms = Date.parse(condition?.lastTransitionTime ?? "");
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The evacuation migrations from `node` of one VMI that failed during this evacuation: since the
 * VMI was marked (its EvictionRequested condition), else within the last hour (older KubeVirt has
 * no such condition). A user's migration that failed is no evacuation attempt.
 */
export function failedAttempts(
  migrations: Iterable<VirtualMachineInstanceMigration>,
  vmi: string,
  node: string,
  since: number | undefined,
  now: number,
): VirtualMachineInstanceMigration[] {
  const from = since ?? now - recentFailureMs;
  return [...migrations].filter(
    (m) =>
      vmiOf(m) === vmi &&
      m.status?.phase === "Failed" &&
      m.metadata.annotations?.[evacuationMigrationAnnotation] === node &&
      createdMs(m) >= from - 1000,
  );
}

/** The counts of the node's progress bar from the VMs' statuses. */
export function countsOf(statuses: readonly VmStatus[]): EvacuationCounts {
  const counts: EvacuationCounts = { done: 0, running: 0, queued: 0, failed: 0, blocked: 0, total: 0 };
  for (const s of statuses) {
    counts.total++;
    const outcome = s.result?.outcome;
    if (outcome === "migrated" || outcome === "restarted" || outcome === "skipped") counts.done++;
    else if (outcome === "failed") counts.failed++;
    else if (outcome === "blocked") counts.blocked++;
    else if (s.stage === "migrating" || s.stage === "restarting") counts.running++;
    else counts.queued++;
  }
  return counts;
}

/** What the run knows of the VMs' namespaces: their VMIs and migrations, kept by watches. */
class ClusterView {
  readonly vmis = new Map<string, VirtualMachineInstance>();
  readonly migrations = new Map<string, VirtualMachineInstanceMigration>();
  #waiters = new Set<() => void>();
  #synced = 0;

  constructor(private readonly watches: number) {}

  get synced(): boolean {
    return this.#synced >= this.watches;
  }
  markSynced(): void {
    this.#synced++;
    this.changed();
  }
  changed(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }
  /** Resolves with test()'s first defined answer after a change, or undefined once `signal` aborts. */
  async until<T>(test: () => T | undefined, signal: AbortSignal): Promise<T | undefined> {
    for (;;) {
      if (signal.aborted) return undefined;
      if (this.synced) {
        const answer = test();
        if (answer !== undefined) return answer;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener("abort", wake);
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }
  migrationsOf(namespace: string, vmi: string): VirtualMachineInstanceMigration[] {
    return [...this.migrations.values()]
      .filter((m) => m.metadata.namespace === namespace && vmiOf(m) === vmi)
      .sort((a, b) => createdMs(a) - createdMs(b));
  }
}

/** The watches that keep the view: the VMIs and the migrations of each namespace with a VM to move. */
function startWatches(
  kube: KubeClient,
  namespaces: readonly string[],
  view: ClusterView,
  signal: AbortSignal,
  input: EvacuateInput,
  onError: (error: unknown) => void,
): void {
  /** One list-then-watch into one of the view's maps. */
  const keep = <R extends "vmi" | "vmim">(resource: R, namespace: string, into: Map<string, ObjectOf<R>>) =>
    void (async () => {
      try {
        for await (const update of kube.watch(resource, { namespace, signal, outage: input.outage })) {
          if (update.type === "SYNCED") {
            view.markSynced();
            continue;
          }
          const k = key(namespace, update.object.metadata.name ?? "");
          if (update.type === "DELETED") into.delete(k);
          else into.set(k, update.object);
          view.changed();
        }
      } catch (error) {
        if (!signal.aborted) onError(error);
      }
    })();
  for (const namespace of namespaces) {
    keep("vmi", namespace, view.vmis);
    keep("vmim", namespace, view.migrations);
  }
}

/** A migration KubeVirt has not started: no phase yet, or Pending (held by the limits or the backoff). */
function isQueued(m: VirtualMachineInstanceMigration): boolean {
  const phase = m.status?.phase ?? "";
  return phase === "" || phase === "Pending";
}

function seconds(fromMs: number | undefined, toMs: number): number | null {
  return fromMs === undefined ? null : Math.max(0, Math.round((toMs - fromMs) / 1000));
}

/** The VM's result when it no longer runs on the node: migrated (same VMI), restarted (a new one). */
function leftNode(
  node: string,
  vmi: VirtualMachineInstance | undefined,
  originalUid: string | undefined,
): { outcome: "migrated" | "restarted"; to: string | null } | undefined {
  if (!vmi) return undefined;
  const where = vmi.status?.nodeName;
  const running = vmi.status?.phase === "Running";
  if (originalUid !== undefined && vmi.metadata.uid !== originalUid) {
    return running && where && where !== node ? { outcome: "restarted", to: where } : undefined;
  }
  if (where && where !== node && !isFinalPhase(vmi.status?.phase)) return { outcome: "migrated", to: where };
  return undefined;
}

/**
 * Cordons the node (unless it is), asks for the evictions, follows every VM to its end, and
 * returns each VM's result with what is left on the node.
 */
export async function evacuateNode(
  kube: KubeClient,
  input: EvacuateInput,
  observer: EvacuateObserver = {},
): Promise<EvacuateOutcome> {
  const { plan, clock } = input;
  const node = plan.node;
  const maxAttempts = input.maxAttempts ?? defaultMaxAttempts;
  const stop = new AbortController();
  let interrupted = false;
  let timedOut = false;
  const onAbort = () => {
    interrupted = true;
    stop.abort();
  };
  input.signal.addEventListener("abort", onAbort, { once: true });
  if (input.signal.aborted) onAbort();
  const limit = timeLimit(input.timeoutMs);
  if (limit !== undefined) {
    clock.sleep(limit, stop.signal).then(
      () => {
        if (stop.signal.aborted) return;
        timedOut = true;
        stop.abort();
      },
      () => {},
    );
  }

  const statuses = plan.vms.map((vm): VmStatus => ({ vm, stage: "waiting", attempts: 0 }));
  const tell = (s: VmStatus) => observer.onVm?.(s, countsOf(statuses));
  const finish = (s: VmStatus, result: Omit<EvacuationResult, "namespace" | "vm" | "vmi" | "from">) => {
    s.stage = "finished";
    s.result = { namespace: s.vm.namespace, vm: s.vm.vm, vmi: s.vm.vmi, from: node, ...result };
    tell(s);
  };

  // Blocked VMs are known before anything changes.
  for (const s of statuses) {
    if (s.vm.action === "blocked")
      finish(s, {
        outcome: "blocked",
        to: null,
        duration: null,
        attempts: 0,
        cause: null,
        message: s.vm.why,
        fix: s.vm.command ?? null,
      });
  }

  let cordoned = plan.cordoned;
  if (!stop.signal.aborted && statuses.some((s) => !s.result)) {
    if (!plan.cordoned) {
      await kube.setNodeUnschedulable(node, true, {
        annotations: { [cordonedByAnnotation]: "kvmig evacuate" },
      });
      cordoned = true;
    }
    observer.onCordon?.(plan.cordoned);
  }

  const namespaces = [...new Set(statuses.filter((s) => !s.result).map((s) => s.vm.namespace))].sort();
  const view = new ClusterView(namespaces.length * 2);
  let watchError: unknown;
  startWatches(kube, namespaces, view, stop.signal, input, (error) => {
    watchError ??= error;
    stop.abort();
  });

  /** A signal that aborts after `ms` on the run's clock, or with the run. */
  const within = (ms: number): AbortSignal => {
    const controller = new AbortController();
    clock.sleep(ms, stop.signal).then(
      () => controller.abort(),
      () => controller.abort(),
    );
    return AbortSignal.any([controller.signal, stop.signal]);
  };

  /**
   * Why a VM's migration waits in KubeVirt's queue: the node's outbound limit with its count (the
   * VMs on the node are all this run's, so their running migrations are the node's), else the
   * backoff after a failure, else KubeVirt's turn.
   */
  const queueReason = (failures: number): string => {
    const running = [...view.migrations.values()].filter(
      (m) =>
        !isQueued(m) &&
        !isFinalPhase(m.status?.phase) &&
        statuses.some((x) => x.vm.vmi === vmiOf(m) && x.vm.namespace === m.metadata.namespace),
    ).length;
    const perNode = plan.limits.perNode;
    const reasons: string[] = [];
    if (running >= perNode)
      reasons.push(
        `${running} of ${perNode} outbound migrations from ${node} running (parallelOutboundMigrationsPerNode)`,
      );
    if (failures > 0) reasons.push("KubeVirt backs off before the next attempt (longer after each failure)");
    return `queued: ${reasons.length > 0 ? reasons.join("; ") : "waiting for KubeVirt to start it"}`;
  };

  /** What the run sees of one VM: its VMI and its migrations; a change of it is news. */
  const stateOf = (s: VmStatus): string => {
    const vmi = view.vmis.get(key(s.vm.namespace, s.vm.vmi));
    const migrations = view
      .migrationsOf(s.vm.namespace, s.vm.vmi)
      .map((m) => `${m.metadata.uid}:${m.status?.phase ?? ""}`);
    return [vmi?.metadata.uid, vmi?.metadata.resourceVersion, ...migrations].join(" ");
  };

  const migrateVm = async (s: VmStatus): Promise<void> => {
    const { vm } = s;
    const k = key(vm.namespace, vm.vmi);
    if (!(await view.until(() => (view.synced ? true : undefined), stop.signal))) return;
    const original = view.vmis.get(k);
    const originalUid = original?.metadata.uid;
    // Failures before this run (a run that was interrupted, a drain before it) count too.
    let failures = failedAttempts(
      view.migrations.values(),
      vm.vmi,
      node,
      markedSince(original),
      clock.now(),
    ).length;
    s.attempts = failures;
    const followed = new Set<string>();
    for (const m of view.migrationsOf(vm.namespace, vm.vmi))
      if (isFinalPhase(m.status?.phase)) followed.add(m.metadata.uid ?? "");
    let startedMs: number | undefined;
    let lastFinding: Finding | undefined;
    let evicted = false;

    for (;;) {
      if (stop.signal.aborted) return;
      const vmi = view.vmis.get(k);
      const left = leftNode(node, vmi, originalUid);
      if (left) {
        finish(s, {
          outcome: left.outcome,
          to: left.to,
          duration: seconds(startedMs, clock.now()),
          attempts: s.attempts,
          cause: null,
          message:
            left.outcome === "restarted"
              ? "it was not migrated: its VMI was replaced (shut down and started again) on another node"
              : null,
          fix: null,
        });
        return;
      }
      if (!vmi || isFinalPhase(vmi.status?.phase)) {
        // Stopped or gone: a VM whose run strategy restarts it comes back elsewhere (the node is cordoned).
        const back = await view.until(
          () => (leftNode(node, view.vmis.get(k), originalUid) ? true : undefined),
          within(10_000),
        );
        if (back) continue;
        if (stop.signal.aborted) return;
        finish(s, {
          outcome: "skipped",
          to: null,
          duration: seconds(startedMs, clock.now()),
          attempts: s.attempts,
          cause: null,
          message: "its VMI stopped during the evacuation and was not started again elsewhere",
          fix: null,
        });
        return;
      }
      if (failures >= maxAttempts) {
        await giveUp(s, lastFinding);
        return;
      }
      const open = view.migrationsOf(vm.namespace, vm.vmi).find((m) => !isFinalPhase(m.status?.phase));
      if (open && !followed.has(open.metadata.uid ?? "") && isQueued(open)) {
        // Queued in KubeVirt: followed from the view until it starts, so that a node of many VMs
        // (v1.9's evacuation creates all their migrations at once) costs a few follows, not one
        // per VM.
        startedMs ??= clock.now();
        s.stage = "waiting";
        s.migration = open.metadata.name;
        s.phase = "Pending";
        const reason = queueReason(failures);
        s.waiting = reason;
        tell(s);
        // Its own change, or the reason's: the others' migrations starting or ending change the count.
        const before = stateOf(s);
        await view.until(
          () => (stateOf(s) !== before || queueReason(failures) !== reason ? true : undefined),
          stop.signal,
        );
        continue;
      }
      if (open && !followed.has(open.metadata.uid ?? "")) {
        followed.add(open.metadata.uid ?? "");
        startedMs ??= clock.now();
        const end = await follow(s, open);
        if (stop.signal.aborted) return;
        if (end.outcome !== "in-progress") s.attempts++;
        if (end.outcome === "failed") {
          // Only KubeVirt's evacuation migrations count towards giving up; a user's is not ours.
          if (migrationTrigger(open) === "evacuation") failures++;
          lastFinding = end.finding;
          observer.onFailure?.(s, lastFinding, failures < maxAttempts);
        } else if (end.outcome === "succeeded") {
          // The VMI's node says where it is now; the top of the loop reads it.
          await view.until(
            () => (leftNode(node, view.vmis.get(k), originalUid) ? true : undefined),
            within(10_000),
          );
        }
        s.view = undefined;
        continue;
      }
      const marked = vmi.status?.evacuationNodeName === node;
      if (!open && !marked) {
        if (evicted) {
          finish(s, {
            outcome: "skipped",
            to: null,
            duration: seconds(startedMs, clock.now()),
            attempts: s.attempts,
            cause: null,
            message: `its evacuation was cancelled by someone else (status.evacuationNodeName cleared); it still runs on ${node}`,
            fix: null,
          });
          return;
        }
        evicted = true;
        if ((await evict(s)) === "done") return;
        continue;
      }
      s.stage = "waiting";
      s.waiting = open
        ? `waiting for migration ${open.metadata.name} to end`
        : failures > 0
          ? "waiting for KubeVirt's next attempt (its backoff grows after each failure)"
          : "waiting for KubeVirt's evacuation controller to create its migration";
      tell(s);
      const before = stateOf(s);
      await view.until(() => (stateOf(s) !== before ? true : undefined), stop.signal);
    }
  };

  /** Follows one migration of the VM to its end, telling each change. */
  const follow = async (
    s: VmStatus,
    migration: VirtualMachineInstanceMigration,
  ): Promise<{ outcome: string; finding: Finding | undefined }> => {
    s.stage = "migrating";
    s.migration = migration.metadata.name;
    s.phase = migration.status?.phase || "Pending";
    s.waiting = undefined;
    tell(s);
    const result = await followToEnd(
      kube,
      {
        namespace: s.vm.namespace,
        vmName: s.vm.vm,
        migration,
        signal: stop.signal,
        timeoutMs: 0,
        clock,
        pendingAfterMs: 2000,
        debug: input.debug,
        outage: input.outage,
      },
      {
        onChange: (v, change) => {
          s.view = v;
          s.phase = v.phase || "Pending";
          if (change.kind === "pending") s.waiting = change.reasons.map((r) => r.text).join("; ");
          else if (change.kind === "phase" && v.phase !== "Pending" && v.phase !== "") s.waiting = undefined;
          tell(s);
        },
      },
    );
    const outcome = result.end.view.outcome;
    return { outcome, finding: outcome === "failed" ? topFinding(result.findings, input) : undefined };
  };

  /** Asks for the eviction of the VM's launcher pod; "done" when the VM's result is known already. */
  const evict = async (s: VmStatus): Promise<"marked" | "done"> => {
    const pod = s.vm.launcherPod;
    if (!pod) {
      observer.onNote?.(s, "no running launcher pod found for it on the node; waiting for KubeVirt");
      return "marked";
    }
    try {
      await kube.evictPod(s.vm.namespace, pod);
      // Allowed: KubeVirt did not intercept it (its eviction strategy, or an older KubeVirt); the
      // pod goes and the VM starts again elsewhere if its run strategy says so.
      observer.onNote?.(
        s,
        `the eviction of ${pod} went through: KubeVirt shuts the VM down instead of migrating it`,
      );
      return "marked";
    } catch (error) {
      if (error instanceof ApiError && error.status === 429) {
        // Refused as KubeVirt refuses it when it migrates instead (the VMI is then marked), or by
        // something else (a PodDisruptionBudget, a VM that cannot migrate): the VMI's mark tells.
        const marked = await view.until(
          () =>
            view.vmis.get(key(s.vm.namespace, s.vm.vmi))?.status?.evacuationNodeName === node
              ? true
              : undefined,
          within(3000),
        );
        if (marked || stop.signal.aborted) return "marked";
        finish(s, {
          outcome: "blocked",
          to: null,
          duration: null,
          attempts: s.attempts,
          cause: null,
          message: `its eviction was refused: ${error.message}`,
          fix: s.vm.command ?? null,
        });
        return "done";
      }
      throw error;
    }
  };

  /** Cancels the VM's evacuation and deletes a retry that has not started: it stays on the node. */
  const giveUp = async (s: VmStatus, finding: Finding | undefined): Promise<void> => {
    const { vm } = s;
    const notes: string[] = [];
    try {
      await kube.evacuateCancel(vm.namespace, vm.vmi, node);
    } catch (error) {
      notes.push(`its evacuation could not be cancelled (${describeError(error).message})`);
    }
    for (const m of view.migrationsOf(vm.namespace, vm.vmi)) {
      const phase = m.status?.phase ?? "";
      if (phase !== "" && phase !== "Pending") continue;
      if (m.metadata.annotations?.[evacuationMigrationAnnotation] !== node) continue;
      try {
        await kube.deleteMigration(vm.namespace, m.metadata.name ?? "", { uid: m.metadata.uid });
      } catch (error) {
        notes.push(
          `KubeVirt's next attempt ${m.metadata.name} could not be deleted (${describeError(error).message})`,
        );
      }
    }
    const reason = finding ? finding.title : "diagnose names no cause";
    finish(s, {
      outcome: "failed",
      to: null,
      duration: null,
      attempts: s.attempts,
      cause: finding?.id ?? null,
      message: [
        `its migration failed ${s.attempts} times, so kvmig stopped its evacuation: ${reason}`,
        ...notes,
      ].join("; "),
      fix: fixLine(finding, vm),
    });
  };

  const restartVm = async (s: VmStatus): Promise<void> => {
    const { vm } = s;
    const synced = await view.until(() => (view.synced ? true : undefined), stop.signal);
    if (!synced) return;
    const oldVmi = view.vmis.get(key(vm.namespace, vm.vmi));
    if (!oldVmi) {
      finish(s, {
        outcome: "skipped",
        to: null,
        duration: null,
        attempts: 0,
        cause: null,
        message: "its VMI is gone",
        fix: null,
      });
      return;
    }
    s.stage = "restarting";
    tell(s);
    const started = clock.now();
    const result = await restartAndWait(kube, {
      namespace: vm.namespace,
      vmName: vm.vm,
      oldVmi,
      force: input.forceRestart ?? false,
      signal: stop.signal,
      timeoutMs: 0,
      clock,
      outage: input.outage,
    });
    if (result.end === "interrupted") return;
    const to = result.newVmi?.status?.nodeName ?? null;
    if (result.end === "running" && to !== node) {
      finish(s, {
        outcome: "restarted",
        to,
        duration: seconds(started, clock.now()),
        attempts: 0,
        cause: null,
        message: null,
        fix: null,
      });
      return;
    }
    finish(s, {
      outcome: "failed",
      to,
      duration: seconds(started, clock.now()),
      attempts: 0,
      cause: null,
      message:
        result.end === "running"
          ? `it was restarted but runs on ${node} again`
          : `its restart ended ${result.end}${result.newPhase ? ` (new VMI ${result.newPhase})` : ""}`,
      fix: null,
    });
  };

  // Restarts one at a time (each is downtime), migrations all at once (KubeVirt queues them).
  const restarts = statuses.filter((s) => !s.result && s.vm.action === "restart");
  const tasks = [
    ...statuses.filter((s) => !s.result && s.vm.action === "migrate").map((s) => migrateVm(s)),
    (async () => {
      for (const s of restarts) {
        if (stop.signal.aborted) return;
        await restartVm(s);
      }
    })(),
  ];
  try {
    const settled = await Promise.allSettled(tasks);
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure && !stop.signal.aborted) throw failure.reason;
  } finally {
    stop.abort();
    input.signal.removeEventListener("abort", onAbort);
  }
  if (watchError !== undefined && !interrupted && !timedOut) throw watchError;

  const remaining = await remainingOn(kube, node);
  return {
    node,
    cordoned,
    results: statuses.flatMap((s) => (s.result ? [s.result] : [])),
    remaining,
    interrupted,
    timedOut,
  };
}

/**
 * A failed VM's fix in one line, for the summary: diagnose's first command when it is one line,
 * else (a here-document, a YAML to apply) the diagnose command that prints it whole.
 */
export function fixLine(finding: Finding | undefined, vm: PlannedVm): string | null {
  if (!finding) return null;
  const command = finding.fix.commands[0];
  if (command && !command.includes("\n")) return command;
  return `see the fix with: ${kvmigCommand(["diagnose", vm.vm, "-n", vm.namespace])}`;
}

/** The top finding: the first that names a root cause (failure-limit.ts rootCause), else the first error. */
function topFinding(findings: readonly Finding[], input: EvacuateInput): Finding | undefined {
  const id = input.specificityOf ? rootCause(findings, input.specificityOf) : undefined;
  return findings.find((f) => f.id === id) ?? findings.find((f) => f.severity === "error") ?? findings[0];
}

/** The VMIs that still run on the node, in every namespace. */
export async function remainingOn(
  kube: KubeClient,
  node: string,
): Promise<{ namespace: string; vmi: string }[]> {
  const out: { namespace: string; vmi: string }[] = [];
  for await (const page of kube.listPages("vmi")) {
    for (const vmi of page) {
      if (vmi.status?.nodeName === node && !isFinalPhase(vmi.status?.phase))
        out.push({ namespace: vmi.metadata.namespace ?? "", vmi: vmi.metadata.name ?? "" });
    }
  }
  return out.sort((a, b) => compareText(a.namespace, b.namespace) || compareText(a.vmi, b.vmi));
}
