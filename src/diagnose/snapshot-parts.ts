// Pieces both ways of building a Snapshot share (live and from a directory): the event shape,
// the order of things, the snapshot's time, the current launcher image.

import type { ObjectMeta } from "../k8s/meta.js";
import type { Event } from "../k8s/types.js";
import { eventTime } from "./evidence.js";
import type { ApiRejection, MissingEvidence } from "./types.js";

export { launcherImageOf } from "../k8s/launcher-image.js";

/**
 * What a dump (`--dump`) records beyond the objects and logs: when the snapshot was taken, what
 * could not be read live, the caller's rejections. `--from` reads it back, so a dump is
 * diagnosed exactly as the live snapshot was.
 */
export interface SnapshotInfo {
  apiVersion: typeof snapshotInfoApiVersion;
  kind: typeof snapshotInfoKind;
  metadata: ObjectMeta;
  source?: string;
  takenAt?: string;
  canMigrate?: boolean;
  rejections?: ApiRejection[];
  missing?: MissingEvidence[];
}

export const snapshotInfoKind = "DiagnoseSnapshot";
export const snapshotInfoApiVersion = "kvmig/v1";

type Loose = Record<string, unknown>;

function record(value: unknown): Loose | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Loose) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * An `events.k8s.io/v1` Event in the core/v1 shape rules read: `regarding` is the involved
 * object, `note` the message, `series` (or the deprecated fields) the count and last time.
 */
export function toCoreEvent(object: Loose & { metadata: Event["metadata"] }): Event {
  const regarding = record(object.regarding) ?? {};
  const series = record(object.series);
  const source = record(object.deprecatedSource);
  const reporting = text(object.reportingController);
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: object.metadata,
    involvedObject: {
      kind: text(regarding.kind),
      name: text(regarding.name),
      namespace: text(regarding.namespace),
      uid: text(regarding.uid),
      apiVersion: text(regarding.apiVersion),
    },
    reason: text(object.reason),
    message: text(object.note),
    type: text(object.type),
    count: count(series?.count) ?? count(object.deprecatedCount),
    firstTimestamp: text(object.deprecatedFirstTimestamp) ?? null,
    lastTimestamp: text(series?.lastObservedTime) ?? text(object.deprecatedLastTimestamp) ?? null,
    eventTime: text(object.eventTime) ?? null,
    source: {
      component: text(source?.component) ?? reporting,
      host: text(source?.host),
    },
    reportingComponent: reporting,
    reportingInstance: text(object.reportingInstance),
  };
}

/** A stable sort, oldest first; items without a time keep their place before the timed ones. */
export function sortByTime<T>(items: readonly T[], time: (item: T) => string | null | undefined): T[] {
  const keyed = items.map((item, index) => ({ item, index, t: Date.parse(time(item) ?? "") }));
  keyed.sort((a, b) => {
    const ta = Number.isNaN(a.t) ? Number.NEGATIVE_INFINITY : a.t;
    const tb = Number.isNaN(b.t) ? Number.NEGATIVE_INFINITY : b.t;
    return ta === tb ? a.index - b.index : ta - tb;
  });
  return keyed.map((k) => k.item);
}

const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

function collectTimes(value: unknown, into: string[], depth: number): void {
  if (depth > 12) return;
  if (typeof value === "string") {
    if (rfc3339.test(value)) into.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectTimes(item, into, depth + 1);
  } else if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) collectTimes(item, into, depth + 1);
  }
}

/**
 * The newest time among the objects' metadata and status and the extra times given, as it was
 * written; undefined when there is none. A directory saved after a failure is diagnosed as of
 * its last recorded moment, not as of today, so "stuck for 3 minutes" stays true years later.
 */
export function newestTimestamp(
  objects: ReadonlyArray<{ metadata?: unknown; status?: unknown } | undefined>,
  times: ReadonlyArray<string | null | undefined>,
): string | undefined {
  const all: string[] = [];
  for (const object of objects) {
    if (!object) continue;
    collectTimes(object.metadata, all, 0);
    collectTimes(object.status, all, 0);
  }
  for (const t of times) if (t) all.push(t);
  let newest: string | undefined;
  let newestMs = Number.NEGATIVE_INFINITY;
  for (const t of all) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms) && ms > newestMs) {
      newest = t;
      newestMs = ms;
    }
  }
  return newest;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `virt-launcher-<vm>-xxxxx`: how KubeVirt names a VM's launcher pods (generateName). */
export function launcherPodPattern(vmName: string): RegExp {
  return new RegExp(`^virt-launcher-${escapeRegExp(vmName)}-[a-z0-9]{5}$`);
}

export interface Subjects {
  namespace: string;
  vmName: string;
  migrationNames: ReadonlyArray<string | undefined>;
  podNames: ReadonlyArray<string | undefined>;
}

/**
 * The events about the VM, its VMI, its VMIMs and its launcher pods, oldest first. Events of
 * launcher pods that are gone (target pods deleted after a failure) count too: they are often
 * the only trace of why a target never came up.
 */
export function eventsAbout(events: readonly Event[], s: Subjects): Event[] {
  const launcher = launcherPodPattern(s.vmName);
  const migrations = new Set(s.migrationNames);
  const pods = new Set(s.podNames);
  const relevant = events.filter((e) => {
    const { kind, name, namespace } = e.involvedObject;
    if (namespace !== undefined && namespace !== s.namespace) return false;
    switch (kind) {
      case "VirtualMachine":
      case "VirtualMachineInstance":
        return name === s.vmName;
      case "VirtualMachineInstanceMigration":
        return migrations.has(name);
      case "Pod":
        return pods.has(name) || (name !== undefined && launcher.test(name));
      default:
        return false;
    }
  });
  return sortByTime(relevant, eventTime);
}
