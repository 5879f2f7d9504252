// Watching every migration in scope (a namespace, or all of them; a label selector): a
// list-then-watch of the VMIMs, one of the VMIs a migration targets (the VMIM names its target
// node only once final), the VMI of each unfinished migration once, for its source node (a VMIM
// names that only once final too: while it runs its migrationState holds only sourcePod), and the
// source launcher's log of up to ten running migrations for their progress. It keeps each migration as a row and tells every change to an observer,
// which `kvmig watch` renders as a table, lines or NDJSON (render/watch-table.ts). It goes on
// until --exit-on-done finds nothing in flight, the signal (Ctrl-C), or the timeout; an API
// server that is away meanwhile is ridden out (and told through `outage`).
//
// With a node (`watch --node`), only the migrations from or to it: from it when the node it
// leaves is that one (the VMI's record of this migration, the VMI's node while not handed off,
// the source pod's node, as outbound.ts reasons), to it when its target is (the VMIM's once final,
// the VMI's migrationTargetNodeName label, the node of its target pod, watched then by the
// migration's kubevirt.io/migrationJobUID label). A migration whose target becomes known later is
// told as ADDED then; one told stays told.

import type { Clock } from "../clock.js";
import { timeLimit } from "../duration.js";
import { describeError } from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { ApiOutage } from "../k8s/outage.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigration } from "../k8s/types.js";
import { formatBytes } from "../migration/format.js";
import { sourceNodeOf } from "../migration/outbound.js";
import { parseMigrationInfo } from "../migration/progress-line.js";
import { isFinalPhase } from "../migration/state.js";
import { type MigrationTrigger, migrationTrigger } from "../migration/trigger.js";

/** Launcher logs followed at once for the progress column. */
const maxLogStreams = 10;
/** VMIs read at once for the source nodes of the migrations the first list brings. */
const sourceReads = 16;
const targetLabel = "kubevirt.io/migrationTargetNodeName";
/** A target launcher pod's label: its migration's uid. */
const migrationJobLabel = "kubevirt.io/migrationJobUID";

/** One migration as the watch keeps it. */
export interface MigrationRow {
  key: string;
  uid: string;
  vm: string;
  namespace: string;
  migration: string;
  /** Who created it: a user, the evacuation controller, the workload updater (trigger.ts). */
  trigger: MigrationTrigger;
  phase: string;
  sourceNode?: string | undefined;
  targetNode?: string | undefined;
  sourcePod?: string | undefined;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
  /** When the migration last changed phase (or was deleted), by the server's clock. */
  changedAt?: string | undefined;
  progress?: string | undefined;
  /** The launcher's time of the progress line behind `progress`. */
  progressAt?: string | undefined;
}

/** Where a VMI that is being migrated runs, and the node its migration targets (its label). */
export interface VmiPlacement {
  node?: string | undefined;
  target?: string | undefined;
}

/** What the watch holds: the migrations by namespace/name, the VMIs by namespace/name. */
export interface MigrationsState {
  readonly rows: ReadonlyMap<string, MigrationRow>;
  readonly vmis: ReadonlyMap<string, VmiPlacement>;
  /** The first list is in. */
  readonly synced: boolean;
  /** How many migrations are not final. */
  unfinished(): number;
}

export type MigrationChange = "ADDED" | "MODIFIED" | "DELETED";

/** What the watch tells as it goes. */
export interface MigrationsObserver {
  /** The list is in (again, after a reconnect: then only what changed meanwhile is new). */
  onSynced?(state: MigrationsState): void;
  /** A migration was added, changed or deleted; `before` is its row before the change. */
  onMigration?(
    row: MigrationRow,
    type: MigrationChange,
    before: MigrationRow | undefined,
    state: MigrationsState,
  ): void;
  /** A running migration's launcher logged its progress (`at`: the line's own time). */
  onProgress?(row: MigrationRow, at: string | undefined, state: MigrationsState): void;
  /** A VMI's node or target changed. */
  onVmi?(state: MigrationsState): void;
}

export interface WatchMigrationsInput {
  /** Undefined: every namespace. */
  namespace?: string | undefined;
  selector?: string | undefined;
  /** Only the migrations from or to this node. */
  node?: string | undefined;
  /** Return once the list is in and no migration is in flight. */
  exitOnDone: boolean;
  /** 0 (or more than a timer holds) for no limit. */
  timeoutMs?: number | undefined;
  clock: Clock;
  /** Ctrl-C: stops the watch. */
  signal: AbortSignal;
  debug?: ((line: string) => void) | undefined;
  /** Where the watches tell an API outage they ride out. */
  outage?: ApiOutage | undefined;
}

export interface WatchMigrationsResult {
  /** The timeout ended the watch. */
  timedOut: boolean;
  /** The limit the timeout had (undefined: none). */
  timeoutMs: number | undefined;
  /** The state when the watch ended: what kvmig last saw. */
  state: MigrationsState;
}

/** The newest of the migration's phase transitions, else its creation. */
function lastChange(m: VirtualMachineInstanceMigration): string | undefined {
  let newest: { at: string; ms: number } | undefined;
  for (const t of m.status?.phaseTransitionTimestamps ?? []) {
    const ms = Date.parse(t.phaseTransitionTimestamp ?? "");
    if (!Number.isNaN(ms) && (newest === undefined || ms >= newest.ms))
      newest = { at: t.phaseTransitionTimestamp ?? "", ms };
  }
  return newest?.at ?? m.metadata.creationTimestamp;
}

function rowOf(m: VirtualMachineInstanceMigration, previous: MigrationRow | undefined): MigrationRow {
  const status = m.status ?? {};
  const phase = status.phase ?? "";
  const ended = status.phaseTransitionTimestamps?.find((t) =>
    isFinalPhase(t.phase),
  )?.phaseTransitionTimestamp;
  return {
    key: `${m.metadata.namespace}/${m.metadata.name}`,
    uid: m.metadata.uid ?? "",
    vm: m.spec.vmiName ?? m.metadata.labels?.["kubevirt.io/vmi-name"] ?? "",
    namespace: m.metadata.namespace ?? "",
    migration: m.metadata.name ?? "",
    trigger: migrationTrigger(m),
    phase,
    sourceNode: status.migrationState?.sourceNode ?? previous?.sourceNode,
    targetNode: status.migrationState?.targetNode ?? previous?.targetNode,
    sourcePod: status.migrationState?.sourcePod ?? previous?.sourcePod,
    startedAt: m.metadata.creationTimestamp,
    endedAt: ended,
    changedAt: m.metadata.deletionTimestamp ?? lastChange(m),
    progress: isFinalPhase(phase) ? undefined : previous?.progress,
    progressAt: isFinalPhase(phase) ? undefined : previous?.progressAt,
  };
}

export async function watchMigrations(
  kube: KubeClient,
  input: WatchMigrationsInput,
  observer: MigrationsObserver = {},
): Promise<WatchMigrationsResult> {
  const node = input.node;
  /** Every migration in scope; `rows`, what is told, is the same map unless a node filters. */
  const all = new Map<string, MigrationRow>();
  const rows = node === undefined ? all : new Map<string, MigrationRow>();
  const vmis = new Map<string, VmiPlacement>();
  /** With a node: the node of each migration's target pod, by the migration's uid. */
  const targetPods = new Map<string, string>();
  const streams = new Map<string, AbortController>();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  input.signal.addEventListener("abort", onAbort, { once: true });
  let synced = false;
  const state: MigrationsState = {
    rows,
    vmis,
    get synced() {
      return synced;
    },
    unfinished: () => [...rows.values()].filter((r) => !isFinalPhase(r.phase)).length,
  };
  /** Whether a migration leaves or reaches the node (always, without one). */
  const ofNode = (row: MigrationRow): boolean =>
    node === undefined ||
    row.sourceNode === node ||
    (row.targetNode ?? vmis.get(`${row.namespace}/${row.vm}`)?.target) === node;

  const followProgress = (row: MigrationRow) => {
    if (streams.has(row.uid) || streams.size >= maxLogStreams || !row.sourcePod || row.phase !== "Running")
      return;
    const controller = new AbortController();
    streams.set(row.uid, controller);
    const signal = AbortSignal.any([controller.signal, stop.signal]);
    void (async () => {
      try {
        for await (const line of kube.followPodLogs(row.namespace, row.sourcePod ?? "", {
          container: "compute",
          tailLines: 5,
          signal,
        })) {
          const p = parseMigrationInfo(line);
          const current = rows.get(row.key);
          if (!p || !current || p.migrationUid !== row.uid) continue;
          current.progress = `${formatBytes(p.dataRemainingBytes)} left`;
          current.progressAt = p.at;
          observer.onProgress?.(current, p.at, state);
        }
      } catch (error) {
        if (!signal.aborted) input.debug?.(`progress of ${row.key}: ${describeError(error).message}`);
      } finally {
        streams.delete(row.uid);
      }
    })();
  };

  const done = () => input.exitOnDone && synced && state.unfinished() === 0;

  const timeout = timeLimit(input.timeoutMs ?? 0);
  let timedOut = false;
  if (timeout !== undefined) {
    input.clock.sleep(timeout, stop.signal).then(
      () => {
        timedOut = true;
        stop.abort();
      },
      () => {},
    );
  }

  const vmiWatch = (async () => {
    try {
      for await (const u of kube.watch("vmi", {
        namespace: input.namespace,
        labelSelector: targetLabel,
        signal: stop.signal,
        outage: input.outage,
      })) {
        if (u.type === "SYNCED") continue;
        const vmi: VirtualMachineInstance = u.object;
        const key = `${vmi.metadata.namespace}/${vmi.metadata.name}`;
        if (u.type === "DELETED") vmis.delete(key);
        else vmis.set(key, { node: vmi.status?.nodeName, target: vmi.metadata.labels?.[targetLabel] });
        reconsider();
        observer.onVmi?.(state);
      }
    } catch (error) {
      if (!stop.signal.aborted) input.debug?.(`VMIs not followed: ${describeError(error).message}`);
    }
  })();

  // With a node, the target pods: where a migration goes before its VMI or VMIM says so.
  const podWatch = (async () => {
    if (node === undefined) return;
    try {
      for await (const u of kube.watch("pod", {
        namespace: input.namespace,
        labelSelector: migrationJobLabel,
        signal: stop.signal,
        outage: input.outage,
      })) {
        if (u.type === "SYNCED" || u.type === "DELETED") continue;
        const uid = u.object.metadata.labels?.[migrationJobLabel];
        const on = u.object.spec?.nodeName;
        if (!uid || !on || targetPods.get(uid) === on) continue;
        targetPods.set(uid, on);
        for (const row of all.values()) if (row.uid === uid) row.targetNode ??= on;
        reconsider();
        observer.onVmi?.(state);
      }
    } catch (error) {
      if (!stop.signal.aborted) input.debug?.(`target pods not followed: ${describeError(error).message}`);
    }
  })();

  // The node an unfinished migration leaves from: its VMIM says so only once final, so its VMI is
  // read, once per migration (the row keeps it): its record of this migration, else its node.
  const needsSource = (m: VirtualMachineInstanceMigration) =>
    !isFinalPhase(m.status?.phase) &&
    !m.status?.migrationState?.sourceNode &&
    !rows.get(`${m.metadata.namespace}/${m.metadata.name}`)?.sourceNode;
  const sourceOf = async (m: VirtualMachineInstanceMigration): Promise<string | undefined> => {
    const vm = m.spec.vmiName ?? m.metadata.labels?.["kubevirt.io/vmi-name"];
    if (!vm) return undefined;
    try {
      return sourceNodeOf(m, await kube.get("vmi", vm, m.metadata.namespace));
    } catch (error) {
      input.debug?.(
        `source node of ${m.metadata.namespace}/${m.metadata.name}: ${describeError(error).message}`,
      );
    }
    // Without its VMI, the node of the source pod the VMIM names.
    const pod = m.status?.migrationState?.sourcePod;
    if (!pod) return undefined;
    try {
      return sourceNodeOf(m, undefined, await kube.get("pod", pod, m.metadata.namespace));
    } catch {
      return undefined;
    }
  };
  const tell = (u: { type: MigrationChange; object: VirtualMachineInstanceMigration }, source?: string) => {
    const key = `${u.object.metadata.namespace}/${u.object.metadata.name}`;
    const before = all.get(key);
    const row = rowOf(u.object, before);
    row.sourceNode ??= source;
    row.targetNode ??= targetPods.get(row.uid);
    // Told before (always, without a node), or told now for the first time.
    const told = rows === all || rows.has(key);
    if (u.type === "DELETED") {
      all.delete(key);
      rows.delete(key);
      targetPods.delete(row.uid);
      streams.get(row.uid)?.abort();
      if (told) observer.onMigration?.(row, u.type, before, state);
      return;
    }
    all.set(key, row);
    if (!told && !ofNode(row)) return;
    rows.set(key, row);
    if (isFinalPhase(row.phase)) streams.get(row.uid)?.abort();
    else followProgress(row);
    observer.onMigration?.(row, told ? u.type : "ADDED", told ? before : undefined, state);
  };
  /** With a node: the migrations whose target became known as the node's, told now. */
  function reconsider(): void {
    if (rows === all) return;
    for (const [key, row] of all) {
      if (rows.has(key) || !ofNode(row)) continue;
      rows.set(key, row);
      if (!isFinalPhase(row.phase)) followProgress(row);
      observer.onMigration?.(row, "ADDED", undefined, state);
    }
  }
  // The first list is told once its source nodes are read, several at a time.
  let first: { type: MigrationChange; object: VirtualMachineInstanceMigration }[] | undefined = [];

  try {
    for await (const u of kube.watch("vmim", {
      namespace: input.namespace,
      labelSelector: input.selector,
      signal: stop.signal,
      outage: input.outage,
    })) {
      if (u.type === "SYNCED") {
        if (first) {
          const list = first;
          first = undefined;
          const sources: (string | undefined)[] = [];
          for (let i = 0; i < list.length; i += sourceReads) {
            const slice = list.slice(i, i + sourceReads);
            sources.push(
              ...(await Promise.all(
                slice.map((x) =>
                  x.type !== "DELETED" && needsSource(x.object) ? sourceOf(x.object) : undefined,
                ),
              )),
            );
          }
          list.forEach((x, i) => {
            tell(x, sources[i]);
          });
        }
        synced = true;
        observer.onSynced?.(state);
        if (done()) break;
        continue;
      }
      if (first) {
        first.push(u);
        continue;
      }
      tell(u, u.type !== "DELETED" && needsSource(u.object) ? await sourceOf(u.object) : undefined);
      if (done()) break;
    }
  } finally {
    stop.abort();
    input.signal.removeEventListener("abort", onAbort);
    await vmiWatch;
    await podWatch;
  }
  return { timedOut, timeoutMs: timeout, state };
}
