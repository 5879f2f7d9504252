// Reading a Snapshot: the accessors every rule needs, so that rules stay short and agree on
// what "the latest migration", "the target pod" or "an event's time" means.

import type {
  Event,
  Pod,
  VirtualMachineInstanceMigration,
  VirtualMachineInstanceMigrationState,
} from "../k8s/types.js";
import { parseQuantity } from "../migration/quantity.js";
import { isFinalPhase } from "../migration/state.js";
import { commandLine } from "../util/shell.js";
import type { ContainerLog, Evidence, Snapshot } from "./types.js";

export const migrationJobLabel = "kubevirt.io/migrationJobUID";

export function isFinal(migration: VirtualMachineInstanceMigration): boolean {
  return isFinalPhase(migration.status?.phase);
}

/** A finding's optional list: undefined rather than empty, so the JSON leaves it out. */
export function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}

/** The newest VMIM (migrations are oldest first), or undefined. */
export function latestMigration(s: Snapshot): VirtualMachineInstanceMigration | undefined {
  return s.migrations.at(-1);
}

export function unfinishedMigrations(s: Snapshot): VirtualMachineInstanceMigration[] {
  return s.migrations.filter((m) => !isFinal(m));
}

export function failedMigrations(s: Snapshot): VirtualMachineInstanceMigration[] {
  return s.migrations.filter((m) => m.status?.phase === "Failed");
}

/** When a VMIM entered a phase, from its phaseTransitionTimestamps. */
export function phaseTime(migration: VirtualMachineInstanceMigration, phase: string): string | undefined {
  return migration.status?.phaseTransitionTimestamps?.find((t) => t.phase === phase)
    ?.phaseTransitionTimestamp;
}

/** The time of an event: the last occurrence, whichever API wrote it. */
export function eventTime(event: Event): string | undefined {
  return (
    event.lastTimestamp ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata.creationTimestamp ??
    undefined
  );
}

export interface EventQuery {
  reason?: string | RegExp;
  /** The involved object's kind, e.g. "VirtualMachineInstance". */
  kind?: string;
  name?: string;
  type?: "Normal" | "Warning";
  message?: string | RegExp;
}

function matches(value: string | undefined, pattern: string | RegExp | undefined): boolean {
  if (pattern === undefined) return true;
  if (value === undefined) return false;
  return typeof pattern === "string" ? value === pattern : pattern.test(value);
}

/** Events matching every given part (a string matches exactly, a RegExp by test), oldest first. */
export function findEvents(s: Snapshot, query: EventQuery): Event[] {
  return s.events.filter(
    (e) =>
      matches(e.reason, query.reason) &&
      matches(e.involvedObject.kind, query.kind) &&
      matches(e.involvedObject.name, query.name) &&
      matches(e.type, query.type) &&
      (query.message === undefined || matches(e.message, query.message)),
  );
}

export function eventEvidence(event: Event): Evidence {
  const count = (event.count ?? 1) > 1 ? ` (×${event.count})` : "";
  return {
    object: `${event.involvedObject.kind ?? "Object"}/${event.involvedObject.name ?? "?"}`,
    field: `event ${event.reason ?? ""}${count}`.trim(),
    time: eventTime(event),
    text: event.message ?? "",
  };
}

/** One log line, with the launcher's JSON fields read when the line is JSON. */
export interface LogEntry {
  namespace: string;
  pod: string;
  container: string;
  /** `msg` of a JSON line, else the raw line. */
  text: string;
  level?: string | undefined;
  time?: string | undefined;
  raw: string;
}

function parseLine(log: ContainerLog, raw: string): LogEntry {
  const base = { namespace: log.namespace, pod: log.pod, container: log.container, raw };
  // `kubectl logs --timestamps` prefixes each line with an RFC 3339 time and a space.
  const stamped = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/.exec(raw);
  const body = stamped?.[2] ?? raw;
  if (body.startsWith("{")) {
    try {
      const json = JSON.parse(body) as Record<string, unknown>;
      if (json && typeof json === "object") {
        const text = typeof json.msg === "string" ? json.msg : body;
        const reason = typeof json.reason === "string" ? ` ${json.reason}` : "";
        return {
          ...base,
          text: `${text}${reason}`,
          level: typeof json.level === "string" ? json.level : undefined,
          time: typeof json.timestamp === "string" ? json.timestamp : stamped?.[1],
        };
      }
    } catch {
      // Not JSON after all: keep the raw line.
    }
  }
  return { ...base, text: body, time: stamped?.[1] };
}

/** Every log line in the snapshot, parsed, in file order. */
export function logEntries(s: Snapshot): LogEntry[] {
  return s.logs.flatMap((log) => log.lines.map((line) => parseLine(log, line)));
}

/** Log lines whose text matches. */
export function findLogLines(s: Snapshot, pattern: RegExp): LogEntry[] {
  return logEntries(s).filter((entry) => pattern.test(entry.text));
}

export function logEvidence(entry: LogEntry): Evidence {
  return { object: `Pod/${entry.pod}`, field: `log ${entry.container}`, time: entry.time, text: entry.text };
}

/**
 * The words of every log text a rule looks for: error and warning lines (the level is a word of
 * a launcher's JSON line too), the failure texts (refused, aborted, closed, the CPU, post-copy and
 * storage errors), and the scheduler and handler messages the queue and handler rules quote.
 * Case-insensitive, matched on the raw line, so a superset of what rules match on the text
 * (`msg`) they read.
 */
const ruleLogWords =
  /error|fail|warn|fatal|panic|unable|cannot|can't|refused|denied|timed? ?out|abort|closed|exited|shutdown|removed|unreachable|no route|no such file|unsupported|features|incompatible|postcopy|userfaultfd|unsafe|smaller|non_shared|Waiting to schedule|multiple pods running|notify/i;

/** The source launcher's progress line, written every few seconds of a migration. */
const progressWords = /Migration info for /;

/**
 * Whether a rule may read this raw log line, and as what: a progress line, or another line a
 * rule looks for (an error, a warning, a failure text). A log too long to keep whole (`diagnose
 * --from`) keeps its last lines and, before them, only lines of these kinds, the progress lines
 * (which come by the thousand) in a share of their own so that they never crowd out the errors.
 * A rule that starts looking for a text none of the words cover adds its word above: the corpus
 * test that reads every fixture without any last lines shows which.
 */
export function logLineKind(raw: string): "progress" | "other" | undefined {
  if (progressWords.test(raw)) return "progress";
  return ruleLogWords.test(raw) ? "other" : undefined;
}

/** Whether any log was read at all (rules lower their confidence when none was). */
export function hasLogs(s: Snapshot): boolean {
  return s.logs.some((log) => log.lines.length > 0);
}

export function podsOfMigration(s: Snapshot, migration: VirtualMachineInstanceMigration): Pod[] {
  const uid = migration.metadata.uid;
  return uid === undefined ? [] : s.pods.filter((p) => p.metadata.labels?.[migrationJobLabel] === uid);
}

/** The image of a launcher pod's `compute` container (status first: it is what runs). */
export function computeImage(pod: Pod): string | undefined {
  return (
    pod.status?.containerStatuses?.find((c) => c.name === "compute")?.image ??
    pod.spec?.containers?.find((c) => c.name === "compute")?.image
  );
}

/** A time as epoch ms; −∞ when unknown, so that it sorts first and is never "after" anything. */
export function timeOf(text: string | null | undefined): number {
  const ms = Date.parse(text ?? "");
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** A wait as an operator reads it: "90 s", "12 min", "3.0 h". */
export function formatWait(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Whole seconds from one time to another; undefined when either is unknown. */
export function secondsBetween(
  from: string | undefined | null,
  to: string | undefined | null,
): number | undefined {
  const a = Date.parse(from ?? "");
  const b = Date.parse(to ?? "");
  return Number.isNaN(a) || Number.isNaN(b) ? undefined : Math.round((b - a) / 1000);
}

/** Seconds from `time` to when the snapshot was taken; undefined when either is unknown. */
export function ageSeconds(s: Snapshot, time: string | undefined): number | undefined {
  if (!time) return undefined;
  const then = Date.parse(time);
  const now = Date.parse(s.takenAt);
  return Number.isNaN(then) || Number.isNaN(now) ? undefined : Math.round((now - then) / 1000);
}

export function vmiObject(s: Snapshot): string {
  return `VirtualMachineInstance/${s.vmi?.metadata.name ?? s.vmName}`;
}

export function migrationObject(migration: VirtualMachineInstanceMigration): string {
  return `VirtualMachineInstanceMigration/${migration.metadata.name ?? "?"}`;
}

// ---------------------------------------------------------------------------------------------
// Who created a migration, and what its failure left behind
// ---------------------------------------------------------------------------------------------

// Who created a VMIM: src/migration/trigger.ts (re-exported for the rules).
export {
  evacuationMigrationAnnotation,
  type MigrationTrigger,
  migrationTrigger,
  workloadUpdateMigrationAnnotation,
} from "../migration/trigger.js";

/**
 * The migration state recorded for a VMIM: the VMI's while it is about this VMIM (same
 * `migrationUid`), else the copy a final VMIM keeps.
 */
export function migrationStateOf(
  s: Snapshot,
  migration: VirtualMachineInstanceMigration,
): VirtualMachineInstanceMigrationState | undefined {
  const uid = migration.metadata.uid;
  const vmiState = s.vmi?.status?.migrationState;
  if (uid !== undefined && vmiState?.migrationUid === uid) return vmiState;
  return migration.status?.migrationState;
}

/** When a VMIM ended: its Succeeded/Failed phase transition, else the recorded end of the migration. */
export function migrationEndTime(
  s: Snapshot,
  migration: VirtualMachineInstanceMigration,
): string | undefined {
  return (
    phaseTime(migration, "Failed") ??
    phaseTime(migration, "Succeeded") ??
    migrationStateOf(s, migration)?.endTimestamp ??
    undefined
  );
}

/**
 * What a failed migration left behind about why: `failureReason` on the VMIM and on the VMI
 * (when the VMI's state is about this VMIM), Warning events on the VMIM, and Warning events on
 * the VMI that name the migration's uid (`Migrated`, `FailedMigration`).
 */
export function failureEvidence(s: Snapshot, migration: VirtualMachineInstanceMigration): Evidence[] {
  const found: Evidence[] = [];
  const uid = migration.metadata.uid;
  const own = migration.status?.migrationState;
  if (own?.failureReason) {
    found.push({
      object: migrationObject(migration),
      field: "status.migrationState.failureReason",
      time: own.endTimestamp ?? phaseTime(migration, "Failed"),
      text: own.failureReason,
    });
  }
  const vmiState = s.vmi?.status?.migrationState;
  if (uid !== undefined && vmiState?.migrationUid === uid && vmiState.failureReason) {
    if (vmiState.failureReason !== own?.failureReason) {
      found.push({
        object: vmiObject(s),
        field: "status.migrationState.failureReason",
        time: vmiState.endTimestamp,
        text: vmiState.failureReason,
      });
    }
  }
  for (const event of s.events) {
    if (event.type !== "Warning") continue;
    const io = event.involvedObject;
    const onMigration = io.kind === "VirtualMachineInstanceMigration" && io.name === migration.metadata.name;
    const onVmiNamingIt =
      io.kind === "VirtualMachineInstance" && uid !== undefined && (event.message ?? "").includes(uid);
    if (onMigration || onVmiNamingIt) found.push(eventEvidence(event));
  }
  return found;
}

/** Events between a VMIM's creation and its end (plus `slackSeconds`), matching the query. */
export function eventsDuring(
  s: Snapshot,
  migration: VirtualMachineInstanceMigration,
  query: EventQuery,
  slackSeconds = 60,
): Event[] {
  const start = Date.parse(migration.metadata.creationTimestamp ?? "");
  const endText = migrationEndTime(s, migration);
  const end = endText === undefined ? Number.POSITIVE_INFINITY : Date.parse(endText) + slackSeconds * 1000;
  return findEvents(s, query).filter((event) => {
    const at = Date.parse(eventTime(event) ?? "");
    if (Number.isNaN(at)) return false;
    return (Number.isNaN(start) || at >= start - slackSeconds * 1000) && at <= end;
  });
}

/** The source launcher pod of a migration: by the name its state records, else the VMI's own pod. */
export function sourcePodOf(s: Snapshot, migration: VirtualMachineInstanceMigration): Pod | undefined {
  const name = migrationStateOf(s, migration)?.sourcePod ?? migration.status?.migrationState?.sourcePod;
  if (name) {
    const byName = s.pods.find((p) => p.metadata.name === name);
    if (byName) return byName;
  }
  const created = Date.parse(migration.metadata.creationTimestamp ?? "");
  // A pod without a migration-job label was created for the VMI itself; the newest one before the migration.
  const own = s.pods.filter(
    (p) =>
      p.metadata.labels?.[migrationJobLabel] === undefined &&
      (Number.isNaN(created) || Date.parse(p.metadata.creationTimestamp ?? "") <= created),
  );
  return own.at(-1);
}

/** The target launcher pods of a migration: labelled with its uid, or named in its state. */
export function targetPodsOf(s: Snapshot, migration: VirtualMachineInstanceMigration): Pod[] {
  const pods = podsOfMigration(s, migration);
  const name = migrationStateOf(s, migration)?.targetPod;
  if (name && !pods.some((p) => p.metadata.name === name)) {
    const byName = s.pods.find((p) => p.metadata.name === name);
    if (byName) pods.push(byName);
  }
  return pods;
}

/** The cluster-wide migration settings of the KubeVirt CR, with KubeVirt's defaults where unset. */
export interface MigrationSettings {
  parallelMigrationsPerCluster: number;
  parallelOutboundMigrationsPerNode: number;
  progressTimeout: number;
  completionTimeoutPerGiB: number;
  bandwidthPerMigration?: string | undefined;
  allowAutoConverge: boolean;
  allowPostCopy: boolean;
  /** Which of the fields above the CR sets itself (the others are KubeVirt's defaults). */
  explicit: ReadonlySet<string>;
}

export function migrationSettings(s: Snapshot): MigrationSettings {
  const m = s.kubevirt?.spec.configuration?.migrations ?? {};
  const explicit = new Set(Object.keys(m).filter((k) => (m as Record<string, unknown>)[k] !== undefined));
  return {
    parallelMigrationsPerCluster: m.parallelMigrationsPerCluster ?? 5,
    parallelOutboundMigrationsPerNode: m.parallelOutboundMigrationsPerNode ?? 2,
    progressTimeout: m.progressTimeout ?? 150,
    completionTimeoutPerGiB: m.completionTimeoutPerGiB ?? 150,
    bandwidthPerMigration: m.bandwidthPerMigration,
    allowAutoConverge: m.allowAutoConverge ?? false,
    allowPostCopy: m.allowPostCopy ?? false,
    explicit,
  };
}

/** A Kubernetes quantity ("4Gi", "512M", "2048") in bytes; undefined when unreadable. */
export function quantityBytes(q: string | undefined): number | undefined {
  return q ? parseQuantity(q) : undefined;
}

/**
 * How long KubeVirt lets a running migration go before its monitor aborts it: the completion
 * timeout (completionTimeoutPerGiB for each GiB of guest memory) plus the progress timeout.
 */
export function allowedRunningSeconds(s: Snapshot): number | undefined {
  const domain = s.vmi?.spec.domain;
  const bytes = quantityBytes(domain?.memory?.guest ?? domain?.resources?.requests?.memory);
  if (bytes === undefined) return undefined;
  const st = migrationSettings(s);
  const conf = s.vmi?.status?.migrationState?.migrationConfiguration;
  const perGiB = conf?.completionTimeoutPerGiB ?? st.completionTimeoutPerGiB;
  const progress = conf?.progressTimeout ?? st.progressTimeout;
  return perGiB * Math.max(1, Math.ceil(bytes / 2 ** 30)) + progress;
}

/** The `kubectl` / `kvmig` namespace flag words for the snapshot's namespace. */
export function namespaceArgs(s: Snapshot): string[] {
  return ["-n", s.namespace];
}

// --- Target pods, conditions, relevance and missing evidence -------------------------------

type PodConditionOf = NonNullable<NonNullable<Pod["status"]>["conditions"]>[number];

/** A pod condition by type (`PodScheduled`, `Ready`, ...). */
export function podCondition(pod: Pod, type: string): PodConditionOf | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

/** A VMI condition by type (`LiveMigratable`, ...), when the VMI was read. */
export function vmiCondition(
  s: Snapshot,
  type: string,
): NonNullable<NonNullable<NonNullable<Snapshot["vmi"]>["status"]>["conditions"]>[number] | undefined {
  return s.vmi?.status?.conditions?.find((c) => c.type === type);
}

/**
 * virt-controller's event when its 15-minute catch-all deletes a Pending target pod: "pending pod
 * <ns>/<pod> timeout period exceeded" from v1.3 on; before, a format slip printed
 * "pending pod timeout period exceeded%!(EXTRA string=<pod>)".
 */
export const pendingPodTimeout =
  /^pending pod (?:(?:\S+\/)?(\S+) )?timeout period exceeded(?:%!\(EXTRA string=(?:\S+\/)?([^)]+)\))?/;

/** The pod a pending-timeout event names, in either wording. */
export function timedOutPodName(message: string | undefined): string | undefined {
  const m = pendingPodTimeout.exec(message ?? "");
  return m?.[1] ?? m?.[2];
}

/** The label selector of virt-handler's pods. */
export const handlerPodSelector = "kubevirt.io=virt-handler";

/** Whether a pod is one of virt-handler's (by its label, or its DaemonSet's name pattern). */
export function isHandlerPod(pod: Pod): boolean {
  return (
    pod.metadata.labels?.["kubevirt.io"] === "virt-handler" ||
    /^virt-handler-[a-z0-9]{5}$/.test(pod.metadata.name ?? "")
  );
}

/** Whether a launcher pod is a migration target (it carries `kubevirt.io/migrationJobUID`). */
export function isTargetPod(pod: Pod): boolean {
  return pod.metadata.labels?.[migrationJobLabel] !== undefined;
}

/** The VMIM a target pod was created for: by the job UID label, else the job name annotation. */
export function migrationOfPod(s: Snapshot, pod: Pod): VirtualMachineInstanceMigration | undefined {
  const uid = pod.metadata.labels?.[migrationJobLabel];
  const name = pod.metadata.annotations?.["kubevirt.io/migrationJobName"];
  return (
    s.migrations.find((m) => uid !== undefined && m.metadata.uid === uid) ??
    s.migrations.find((m) => name !== undefined && m.metadata.name === name)
  );
}

/**
 * The names of the target pods a migration had, whether or not the pods still exist: pods
 * labelled with its UID, `Created migration target pod X` events on it, and the target pod
 * recorded in its (or the VMI's) migrationState.
 */
export function targetPodNamesOf(s: Snapshot, migration: VirtualMachineInstanceMigration): string[] {
  const names = new Set<string>(podsOfMigration(s, migration).map((p) => p.metadata.name ?? ""));
  const created = /^Created migration target pod (?:[^/\s]+\/)?(\S+)$/;
  for (const e of findEvents(s, { kind: "VirtualMachineInstanceMigration", name: migration.metadata.name })) {
    const m = created.exec(e.message ?? "");
    if (m?.[1]) names.add(m[1]);
  }
  const own = migration.status?.migrationState?.targetPod;
  if (own) names.add(own);
  const vmiState = s.vmi?.status?.migrationState;
  if (
    vmiState?.targetPod &&
    vmiState.migrationUid !== undefined &&
    vmiState.migrationUid === migration.metadata.uid
  )
    names.add(vmiState.targetPod);
  names.delete("");
  return [...names];
}

/**
 * The migrations whose outcome is still news: every unfinished one and the newest. An older
 * failure that a later migration superseded is history, not a current problem.
 */
export function relevantMigrations(s: Snapshot): VirtualMachineInstanceMigration[] {
  const latest = latestMigration(s);
  return s.migrations.filter((m) => m === latest || !isFinal(m));
}

/** When the oldest relevant migration was created; evidence older than this is history. */
export function relevantSince(s: Snapshot): string | undefined {
  const times = relevantMigrations(s)
    .map((m) => m.metadata.creationTimestamp)
    .filter((t): t is string => typeof t === "string" && !Number.isNaN(Date.parse(t)))
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  return times[0];
}

/** Whether an event happened at or after `since` (always true when either time is unknown). */
export function eventAtOrAfter(event: Event, since: string | undefined): boolean {
  const at = eventTime(event);
  if (!since || !at) return true;
  return Date.parse(at) >= Date.parse(since);
}

/** What diagnose could not read whose description matches, e.g. /events/i. */
export function missingAbout(s: Snapshot, pattern: RegExp): Snapshot["missing"][number][] {
  return s.missing.filter((m) => pattern.test(m.what));
}

/** One step lower: high → medium → low. */
export function lowerConfidence(confidence: "high" | "medium" | "low", steps = 1): "high" | "medium" | "low" {
  const order = ["high", "medium", "low"] as const;
  return order[Math.min(order.indexOf(confidence) + steps, order.length - 1)] ?? "low";
}

/**
 * Evidence whose text matches `pattern` about the relevant migrations going wrong: their
 * failure evidence (failureReason, Warning events on the VMIM, VMI events naming its uid), the
 * VMI's own failureReason, Warning events on the VMI and its pods since the oldest relevant
 * migration, and launcher log lines. Each text appears once per object.
 */
export function failureTextsMatching(s: Snapshot, pattern: RegExp): Evidence[] {
  const found: Evidence[] = [];
  const seen = new Set<string>();
  const add = (e: Evidence) => {
    const key = `${e.object}\u0000${e.text}`;
    if (seen.has(key) || !pattern.test(e.text)) return;
    seen.add(key);
    found.push(e);
  };
  for (const migration of relevantMigrations(s)) for (const e of failureEvidence(s, migration)) add(e);
  const state = s.vmi?.status?.migrationState;
  if (state?.failureReason) {
    add({
      object: vmiObject(s),
      field: "status.migrationState.failureReason",
      time: state.endTimestamp,
      text: state.failureReason,
    });
  }
  const since = relevantSince(s);
  for (const event of s.events) {
    const kind = event.involvedObject.kind;
    if (event.type !== "Warning" || (kind !== "VirtualMachineInstance" && kind !== "Pod")) continue;
    if (eventAtOrAfter(event, since)) add(eventEvidence(event));
  }
  for (const entry of logEntries(s)) add(logEvidence(entry));
  return found;
}

/** The command that merges `migrations` into the KubeVirt CR's spec.configuration.migrations. */
export function patchMigrationConfig(s: Snapshot, migrations: Record<string, unknown>): string {
  return commandLine([
    "kubectl",
    "patch",
    "kubevirt",
    s.kubevirt?.metadata.name ?? "kubevirt",
    "-n",
    s.kubevirt?.metadata.namespace ?? "kubevirt",
    "--type",
    "merge",
    "-p",
    JSON.stringify({ spec: { configuration: { migrations } } }),
  ]);
}

/** `kubectl get events` about one object of the snapshot's namespace, by its name. */
export function eventsCommand(s: Snapshot, name: string): string {
  return commandLine([
    "kubectl",
    "get",
    "events",
    "-n",
    s.namespace,
    "--field-selector",
    `involvedObject.name=${name}`,
  ]);
}

/** `kubectl get pods` for the VMI's launcher pods, with their nodes. */
export function launcherPodsCommand(s: Snapshot, vmiUid: string | undefined): string {
  return commandLine([
    "kubectl",
    "get",
    "pods",
    "-n",
    s.namespace,
    "-o",
    "wide",
    "-l",
    `kubevirt.io/created-by=${vmiUid ?? ""}`,
  ]);
}
