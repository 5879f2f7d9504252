// Core v1 Events as client-go's record.EventRecorder writes them: building one, the reference to
// an object built here for its `involvedObject`, and folding repeats into one Event with a count.

import type { Random } from "../random.js";
import { compact, type Json, rfc3339 } from "./format.js";

/** Go's `%x` of a Unix nanosecond time, as client-go's event names end (`<object>.<hex>`). */
function eventNameSuffix(ms: number, random: Random): string {
  const nanos = BigInt(Math.floor(ms)) * 1_000_000n + BigInt(random.int(0, 999_999));
  return nanos.toString(16);
}

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
  /** The involved object's resourceVersion when the event was recorded; left out when unknown. */
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventDescription {
  involvedObject: ObjectReference;
  reason: string;
  type?: "Normal" | "Warning";
  message: string;
  /** `source.component`, e.g. "virt-handler", "virtualmachine-controller". */
  component: string;
  /** `source.host`: set by virt-handler (its node), empty for virt-controller. */
  host?: string;
  count?: number;
  firstTimestamp: number;
  lastTimestamp?: number;
  /** Default: the component (client-go copies source.component). */
  reportingComponent?: string;
  /** Default: the host, or "" (client-go copies source.host). */
  reportingInstance?: string;
}

export function event(desc: EventDescription, random: Random): Json {
  const ref = desc.involvedObject;
  const ns = ref.namespace ?? "default";
  return {
    kind: "Event",
    apiVersion: "v1",
    metadata: {
      name: `${ref.name}.${eventNameSuffix(desc.firstTimestamp, random)}`,
      namespace: ns,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.firstTimestamp),
    },
    involvedObject: compact({
      kind: ref.kind,
      namespace: ref.namespace,
      name: ref.name,
      uid: ref.uid,
      apiVersion: ref.apiVersion,
      resourceVersion: ref.resourceVersion,
      fieldPath: ref.fieldPath,
    }),
    reason: desc.reason,
    message: desc.message,
    source: compact({ component: desc.component, host: desc.host }),
    firstTimestamp: rfc3339(desc.firstTimestamp),
    lastTimestamp: rfc3339(desc.lastTimestamp ?? desc.firstTimestamp),
    count: desc.count ?? 1,
    type: desc.type ?? "Normal",
    eventTime: null,
    reportingComponent: desc.reportingComponent ?? desc.component,
    reportingInstance: desc.reportingInstance ?? desc.host ?? "",
  };
}

/** The reference client-go puts in `involvedObject` for an object built here. */
export function referenceTo(object: Json): ObjectReference {
  const meta = (object.metadata ?? {}) as Json;
  return compact({
    apiVersion: String(object.apiVersion),
    kind: String(object.kind),
    name: String(meta.name),
    namespace: typeof meta.namespace === "string" ? meta.namespace : undefined,
    uid: String(meta.uid),
    resourceVersion: typeof meta.resourceVersion === "string" ? meta.resourceVersion : undefined,
  });
}

/** Same involved object, type, reason, message and source: one Event with a count, as client-go's recorder keeps it. */
export function aggregateEvents(descs: readonly EventDescription[]): EventDescription[] {
  const byKey = new Map<string, EventDescription>();
  for (const desc of descs) {
    const key = [
      desc.involvedObject.uid,
      desc.type ?? "Normal",
      desc.reason,
      desc.message,
      desc.component,
      desc.host ?? "",
    ].join("\u0000");
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { ...desc });
      continue;
    }
    const first = Math.min(seen.firstTimestamp, desc.firstTimestamp);
    const last = Math.max(
      seen.lastTimestamp ?? seen.firstTimestamp,
      desc.lastTimestamp ?? desc.firstTimestamp,
    );
    seen.count = (seen.count ?? 1) + (desc.count ?? 1);
    seen.firstTimestamp = first;
    seen.lastTimestamp = last;
  }
  return [...byKey.values()];
}
