// What the simulated cluster's store holds and tells its watchers: an object of any kind, and a
// change to one. A module of its own, so that what the store uses (validation.ts, rbac.ts) can
// name them without importing the store.

import type { ObjectMeta } from "../k8s/meta.js";

export interface SimMeta extends ObjectMeta {
  deletionGracePeriodSeconds?: number;
  [field: string]: unknown;
}

export interface SimObject {
  apiVersion?: string;
  kind?: string;
  metadata: SimMeta;
  [field: string]: unknown;
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change {
  readonly rv: number;
  readonly storage: string;
  readonly key: string;
  readonly type: ChangeType;
  /** The object after the change (for DELETED, its last state with the deletion's resourceVersion). */
  readonly object: SimObject;
  /** The object before the change; undefined for ADDED. */
  readonly previous: SimObject | undefined;
}
