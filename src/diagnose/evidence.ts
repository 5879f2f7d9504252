// Reading a Snapshot: the accessors every rule needs, so that rules stay short and agree on
// what "the latest migration", "the target pod" or "an event's time" means.

import type { Event, Pod, VirtualMachineInstanceMigration } from "../k8s/types.js";
import type { ContainerLog, Evidence, Snapshot } from "./types.js";

export const migrationJobLabel = "kubevirt.io/migrationJobUID";
export const outdatedLauncherLabel = "kubevirt.io/outdatedLauncherImage";

export function isFinal(migration: VirtualMachineInstanceMigration): boolean {
  const phase = migration.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
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
