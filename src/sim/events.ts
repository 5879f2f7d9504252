// One store of events, two APIs: core `v1` Events are the storage form, and `events.k8s.io/v1`
// reads and writes the same objects under the newer field names, as kube-apiserver converts them.

import type { SimObject } from "./store.js";

type Json = Record<string, unknown>;

const renamed: readonly (readonly [core: string, eventsV1: string])[] = [
  ["involvedObject", "regarding"],
  ["message", "note"],
  ["count", "deprecatedCount"],
  ["firstTimestamp", "deprecatedFirstTimestamp"],
  ["lastTimestamp", "deprecatedLastTimestamp"],
  ["source", "deprecatedSource"],
  ["reportingComponent", "reportingController"],
];

const kept = ["metadata", "reason", "type", "eventTime", "series", "action", "related", "reportingInstance"];

export function toEventsV1(core: SimObject): SimObject {
  const source = core as Json;
  const out: Json = { kind: "Event", apiVersion: "events.k8s.io/v1" };
  for (const field of kept) if (source[field] !== undefined) out[field] = source[field];
  for (const [from, to] of renamed) if (source[from] !== undefined) out[to] = source[from];
  out.eventTime ??= null;
  return out as SimObject;
}

export function fromEventsV1(event: SimObject): SimObject {
  const source = event as Json;
  const out: Json = { kind: "Event", apiVersion: "v1" };
  for (const field of kept) if (source[field] !== undefined) out[field] = source[field];
  for (const [to, from] of renamed) if (source[from] !== undefined) out[to] = source[from];
  // The core API requires an involvedObject namespace for namespaced events; the newer API may omit it.
  out.involvedObject ??= {};
  return out as SimObject;
}

/** events.k8s.io field labels in the storage form's names. */
export function coreFieldLabel(field: string): string {
  if (field.startsWith("regarding.")) return `involvedObject.${field.slice("regarding.".length)}`;
  if (field === "reportingController") return "reportingComponent";
  return field;
}
