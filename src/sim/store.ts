// The simulated cluster's storage: objects with the semantics of an API server backed by etcd.
// One cluster-wide resourceVersion counter, uid and timestamps, generateName, generation,
// optimistic concurrency, finalizers with deletionTimestamp, background garbage collection by
// ownerReferences, a bounded history of changes (watches resume from it; beyond it is 410 Gone),
// and consistent snapshots for paged lists.

import type { ObjectMeta, OwnerReference } from "../k8s/meta.js";
import { rfc3339 } from "./objects/format.js";
import { applyPatch, PatchError, type PatchType } from "./patch.js";
import type { Random } from "./random.js";
import { type SimResource, storageResource } from "./registry.js";
import type { Change, ChangeType, SimMeta, SimObject } from "./sim-object.js";
import {
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  namespaceNotFound,
  notFound,
  staleObject,
  statusError,
  tooOldResourceVersion,
} from "./status.js";
import { validateKind, validateLabels, validateName } from "./validation.js";

export type { Change, ChangeType, SimMeta, SimObject } from "./sim-object.js";

export interface WriteOptions {
  dryRun?: boolean;
  /** Who asks (admission webhooks care: only virt-controller may set a migration's priority). */
  user?: string | undefined;
}

export interface AdmissionRequest {
  operation: "CREATE" | "UPDATE";
  res: SimResource;
  /** The object to store; a mutating webhook changes it in place. */
  object: SimObject;
  old?: SimObject | undefined;
  user?: string | undefined;
}

/** Admission webhooks: mutate the object, or throw the API error that rejects the request. */
export type Admission = (request: AdmissionRequest) => void;

export interface UpdateOptions extends WriteOptions {
  /** `status`: only the status changes; otherwise the status (where a status subresource exists) is kept. */
  subresource?: "status" | undefined;
}

export interface DeleteOptions extends WriteOptions {
  preconditions?: { uid?: string | undefined; resourceVersion?: string | undefined } | undefined;
  propagationPolicy?: "Background" | "Foreground" | "Orphan" | undefined;
}

export interface DeleteResult {
  object: SimObject;
  /** False when finalizers keep the object (it now has a deletionTimestamp). */
  gone: boolean;
}

/** See `Store.setExpiry`. */
export interface StoreExpiry {
  floor(newest: number): number | undefined;
  expired(rv: number, floor: number): void;
}

export interface StoreOptions {
  now: () => number;
  random: Random;
  /** How many changes stay watchable; an older resourceVersion gets 410 Gone. */
  historyLimit?: number | undefined;
}

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** metav1.Time: RFC 3339 in whole seconds, the same formatting the object builders use. */
export const timestamp = rfc3339;

/** Objects go in and out as copies: nobody holds a reference into the store. */
function copy<T>(value: T): T {
  return structuredClone(value);
}

function withoutMetadataAndStatus(object: SimObject, includeStatus: boolean): string {
  const { metadata: _m, status, ...rest } = object;
  return JSON.stringify(includeStatus ? { ...rest, status } : rest);
}

/** The first index in sorted `keys` whose key is not below `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((keys[mid] as string) < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * One resource's objects, and their keys in order: new keys wait in `added` and join the order
 * when it is next read (a merge after a bulk load, a binary search and a splice for a few), so
 * that no read sorts every key again, and a namespace's objects are a range of that order: a
 * small list costs what it returns, not the size of the cluster.
 */
class Bucket {
  readonly objects = new Map<string, SimObject>();
  private sorted: string[] = [];
  private added: string[] = [];

  keys(): readonly string[] {
    if (this.added.length > 0) this.merge();
    return this.sorted;
  }

  /** The keys of one namespace's objects (`namespace/` prefixed), in order. */
  namespaceKeys(namespace: string): readonly string[] {
    const keys = this.keys();
    const from = lowerBound(keys, `${namespace}/`);
    // "0" is the character after "/": every key of the namespace sorts below `${namespace}0`.
    const to = lowerBound(keys, `${namespace}0`);
    return keys.slice(from, to);
  }

  set(key: string, object: SimObject): void {
    if (!this.objects.has(key)) this.added.push(key);
    this.objects.set(key, object);
  }

  delete(key: string): void {
    if (!this.objects.delete(key)) return;
    const at = lowerBound(this.sorted, key);
    if (this.sorted[at] === key) this.sorted.splice(at, 1);
    else {
      const pending = this.added.indexOf(key);
      if (pending >= 0) this.added.splice(pending, 1);
    }
  }

  private merge(): void {
    const added = this.added.sort();
    this.added = [];
    if (added.length <= 16) {
      for (const key of added) this.sorted.splice(lowerBound(this.sorted, key), 0, key);
      return;
    }
    const merged: string[] = new Array(this.sorted.length + added.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < this.sorted.length && j < added.length) {
      const a = this.sorted[i] as string;
      const b = added[j] as string;
      if (a < b) {
        merged[k++] = a;
        i++;
      } else {
        merged[k++] = b;
        j++;
      }
    }
    while (i < this.sorted.length) merged[k++] = this.sorted[i++] as string;
    while (j < added.length) merged[k++] = added[j++] as string;
    this.sorted = merged;
  }
}

export class Store {
  private rv = 0;
  private readonly buckets = new Map<string, Bucket>();
  private history: Change[] = [];
  /** The first resourceVersion no longer in the history (0 while nothing was dropped). */
  private compactedThrough = 0;
  private readonly historyLimit: number;
  private readonly listeners = new Set<(change: Change) => void>();
  /** owner uid → dependents, for garbage collection. */
  private readonly dependents = new Map<string, Set<string>>();
  private admission: Admission | undefined;
  private expiry: StoreExpiry | undefined;

  constructor(private readonly options: StoreOptions) {
    this.historyLimit = options.historyLimit ?? 10_000;
  }

  /** Installs the admission webhooks (KubeVirt's, in the simulated cluster). */
  setAdmission(admission: Admission | undefined): void {
    this.admission = admission;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /**
   * An API fault (api-faults.ts `expire-rv`): resourceVersions below `floor(newest)` get 410 as
   * if compacted, on a watch resume and a continue token; `expired` hears of each.
   */
  setExpiry(expiry: StoreExpiry | undefined): void {
    this.expiry = expiry;
  }

  /** 410 Gone for a resourceVersion that left the history (or that a fault expires). */
  private checkRetained(rv: number): void {
    if (rv < this.compactedThrough) throw tooOldResourceVersion(rv, this.compactedThrough);
    const floor = this.expiry?.floor(this.rv);
    if (floor !== undefined && rv < floor) {
      this.expiry?.expired(rv, floor);
      throw tooOldResourceVersion(rv, floor);
    }
  }

  /** The oldest resourceVersion a watch may resume from. */
  get oldestResourceVersion(): number {
    return this.compactedThrough;
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private bucket(storage: string): Bucket {
    let bucket = this.buckets.get(storage);
    if (!bucket) {
      bucket = new Bucket();
      this.buckets.set(storage, bucket);
    }
    return bucket;
  }

  /** The stored object itself, read-only by contract (the server serializes it). */
  peek(storage: string, namespace: string | undefined, name: string): SimObject | undefined {
    return this.buckets.get(storage)?.objects.get(keyOf(namespace, name));
  }

  /** The stored object under its key (`namespace/name`, or a cluster-scoped object's name), read-only. */
  peekKey(storage: string, key: string): SimObject | undefined {
    return this.buckets.get(storage)?.objects.get(key);
  }

  get(storage: string, namespace: string | undefined, name: string): SimObject | undefined {
    const found = this.peek(storage, namespace, name);
    return found && copy(found);
  }

  /** Current objects in key order (namespace/name), read-only by contract. */
  list(storage: string, namespace?: string): SimObject[] {
    const bucket = this.buckets.get(storage);
    if (!bucket) return [];
    const keys = namespace === undefined ? bucket.keys() : bucket.namespaceKeys(namespace);
    const out: SimObject[] = [];
    for (const key of keys) {
      const object = bucket.objects.get(key);
      if (object) out.push(object);
    }
    return out;
  }

  /**
   * The objects as they were at resourceVersion `rv`, in key order: what a continued list
   * serves, so that paging shows one consistent state. 410 once that state left the history.
   */
  listAt(storage: string, rv: number, namespace?: string): SimObject[] {
    if (rv >= this.rv) return this.list(storage, namespace);
    this.checkRetained(rv);
    // The objects changed since `rv`, as they were then (undefined: not there yet): walking the
    // history back, the earliest change of a key leaves its state at `rv`.
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    const then = new Map<string, SimObject | undefined>();
    for (let i = this.history.length - 1; i >= 0; i--) {
      const change = this.history[i];
      if (!change || change.rv <= rv) break;
      if (change.storage !== storage) continue;
      if (prefix !== undefined && !change.key.startsWith(prefix)) continue;
      then.set(change.key, change.previous);
    }
    const current = this.list(storage, namespace);
    if (then.size === 0) return current;
    // The rest is as it is now, already in order; the few changed ones go back in their place.
    const entries: [string, SimObject][] = [];
    for (const object of current) {
      const key = keyOf(object.metadata.namespace, object.metadata.name ?? "");
      if (!then.has(key)) entries.push([key, object]);
    }
    for (const [key, object] of then) if (object !== undefined) entries.push([key, object]);
    return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, object]) => object);
  }

  /** Changes after `rv`, for a watch that resumes; 410 when some were already dropped. */
  changesSince(rv: number): Change[] {
    this.checkRetained(rv);
    let low = 0;
    let high = this.history.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.history[mid]?.rv ?? 0) <= rv) low = mid + 1;
      else high = mid;
    }
    return this.history.slice(low);
  }

  private record(
    storage: string,
    key: string,
    type: ChangeType,
    object: SimObject,
    previous?: SimObject,
  ): void {
    const change: Change = { rv: this.rv, storage, key, type, object, previous };
    this.history.push(change);
    if (this.history.length > this.historyLimit * 1.25) {
      const dropped = this.history.length - this.historyLimit;
      this.compactedThrough = this.history[dropped - 1]?.rv ?? this.compactedThrough;
      this.history = this.history.slice(dropped);
    }
    for (const listener of this.listeners) listener(change);
  }

  private nextVersion(): string {
    this.rv += 1;
    return String(this.rv);
  }

  private trackOwners(
    storage: string,
    key: string,
    before: SimObject | undefined,
    after: SimObject | undefined,
  ) {
    const ref = `${storage}\u0000${key}`;
    for (const owner of before?.metadata.ownerReferences ?? []) this.dependents.get(owner.uid)?.delete(ref);
    for (const owner of after?.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(owner.uid);
      if (!set) {
        set = new Set();
        this.dependents.set(owner.uid, set);
      }
      set.add(ref);
    }
  }

  private checkNamespace(res: SimResource, namespace: string | undefined, name: string): void {
    if (!res.namespaced) return;
    if (!namespace) throw badRequest("the server could not find the requested resource");
    const ns = this.peek("namespaces", undefined, namespace);
    if (!ns) throw namespaceNotFound(namespace);
    if (ns.metadata.deletionTimestamp) {
      throw statusError(
        403,
        "Forbidden",
        `${res.plural} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        { name, group: res.group, kind: res.plural },
      );
    }
  }

  /**
   * Stores a new object: name from generateName, uid, timestamps, generation and
   * resourceVersion are the server's (seed objects that bring their own go through `load`).
   */
  create(res: SimResource, input: SimObject, options: WriteOptions = {}): SimObject {
    const object = copy(input);
    const meta = object.metadata ?? ({} as SimMeta);
    object.metadata = meta;
    if (!res.namespaced) delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${this.options.random.suffix()}`;
    const name = meta.name ?? "";
    const causes = [...validateName(res, name), ...validateLabels(meta.labels), ...validateKind(res, object)];
    if (causes.length > 0) throw invalid(res, name, causes);
    this.checkNamespace(res, meta.namespace, name);
    const bucket = this.bucket(res.storage);
    const key = keyOf(meta.namespace, name);
    if (bucket.objects.has(key)) throw alreadyExists(res, name);
    this.admission?.({ operation: "CREATE", res, object, user: options.user });
    meta.uid = this.options.random.uid();
    meta.creationTimestamp = timestamp(this.options.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (res.generation) meta.generation = 1;
    else delete meta.generation;
    if (options.dryRun) {
      delete meta.resourceVersion;
      return object;
    }
    meta.resourceVersion = this.nextVersion();
    bucket.set(key, object);
    this.trackOwners(res.storage, key, undefined, object);
    this.record(res.storage, key, "ADDED", object);
    return copy(object);
  }

  /**
   * Puts a seed object in place as it is, before anyone watches: no copy (the caller hands it
   * over), no admission, no history. What a cluster already had when the simulation starts.
   */
  load(res: SimResource, object: SimObject): void {
    const meta = object.metadata;
    if (!res.namespaced) delete meta.namespace;
    const key = keyOf(meta.namespace, meta.name ?? "");
    const bucket = this.bucket(res.storage);
    if (bucket.objects.has(key)) throw alreadyExists(res, meta.name ?? "");
    meta.uid ??= this.options.random.uid();
    meta.creationTimestamp ??= timestamp(this.options.now());
    if (res.generation) meta.generation ??= 1;
    meta.resourceVersion = this.nextVersion();
    bucket.set(key, object);
    this.trackOwners(res.storage, key, undefined, object);
  }

  /** Replaces an object (PUT): 409 on a stale resourceVersion; server-owned metadata is kept. */
  update(res: SimResource, input: SimObject, options: UpdateOptions = {}): SimObject {
    const incoming = copy(input);
    const namespace = res.namespaced ? incoming.metadata?.namespace : undefined;
    const name = incoming.metadata?.name ?? "";
    const bucket = this.bucket(res.storage);
    const key = keyOf(namespace, name);
    const current = bucket.objects.get(key);
    if (!current) throw notFound(res, name);
    const wanted = incoming.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== "" && wanted !== current.metadata.resourceVersion) {
      throw conflict(res, name, staleObject);
    }
    let next: SimObject;
    if (options.subresource === "status") {
      next = { ...copy(current), status: incoming.status };
    } else {
      next = incoming;
      const causes = [...validateLabels(next.metadata.labels), ...validateKind(res, next, current)];
      if (causes.length > 0) throw invalid(res, name, causes);
      if (res.subresources.includes("status")) {
        if (current.status === undefined) delete next.status;
        else next.status = copy(current.status);
      }
      for (const field of [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
      ] as const) {
        if (current.metadata[field] === undefined) delete next.metadata[field];
        else next.metadata[field] = current.metadata[field] as never;
      }
      if (!res.namespaced) delete next.metadata.namespace;
      if (current.metadata.deletionTimestamp) {
        const added = (next.metadata.finalizers ?? []).filter(
          (f) => !(current.metadata.finalizers ?? []).includes(f),
        );
        if (added.length > 0) {
          throw invalid(res, name, [
            {
              reason: "FieldValueForbidden",
              field: "metadata.finalizers",
              message: "Forbidden: no new finalizers can be added if the object is being deleted",
            },
          ]);
        }
      }
    }
    if (options.subresource !== "status") {
      this.admission?.({ operation: "UPDATE", res, object: next, old: current, user: options.user });
    }
    if (res.generation) {
      const hasStatus = res.subresources.includes("status");
      const changed =
        withoutMetadataAndStatus(current, !hasStatus) !== withoutMetadataAndStatus(next, !hasStatus);
      next.metadata.generation = (current.metadata.generation ?? 1) + (changed ? 1 : 0);
    } else {
      delete next.metadata.generation;
    }
    if (options.dryRun) return next;
    // Nothing changed: a real server writes nothing and keeps the resourceVersion.
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (JSON.stringify(next) === JSON.stringify(current)) return copy(current);
    if (current.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      next.metadata.resourceVersion = this.nextVersion();
      this.remove(res, key, next, current);
      return copy(next);
    }
    next.metadata.resourceVersion = this.nextVersion();
    bucket.set(key, next);
    this.trackOwners(res.storage, key, current, next);
    this.record(res.storage, key, "MODIFIED", next, current);
    return copy(next);
  }

  /** PATCH: the patch applies to the current object, then it is an update at that version. */
  patch(
    res: SimResource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    options: UpdateOptions = {},
  ): SimObject {
    const current = this.peek(res.storage, res.namespaced ? namespace : undefined, name);
    if (!current) throw notFound(res, name);
    let patched: SimObject;
    try {
      patched = applyPatch(current, patch, type) as SimObject;
    } catch (error) {
      if (!(error instanceof PatchError)) throw error;
      if (error.status !== 422)
        throw statusError(error.status, error.status === 409 ? "Conflict" : "BadRequest", error.message);
      // As the API server reports a patch that does not apply: a generic message, the detail in the cause.
      throw statusError(422, "Invalid", "the server rejected our request due to an error in our request", {
        causes: [{ reason: "UnexpectedServerResponse", message: error.message }],
      });
    }
    if (typeof patched !== "object" || patched === null || Array.isArray(patched)) {
      throw badRequest("the patch produced something that is not an object");
    }
    patched.metadata ??= {};
    if (patched.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (res.namespaced) patched.metadata.namespace = namespace;
    // A patch that names a resourceVersion asks for it; one that does not applies to the latest.
    const asked = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
    if (typeof asked !== "string") patched.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.update(res, patched, options);
  }

  /** DELETE: gone at once, or kept with a deletionTimestamp while finalizers remain. */
  delete(
    res: SimResource,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): DeleteResult {
    const key = keyOf(res.namespaced ? namespace : undefined, name);
    const bucket = this.bucket(res.storage);
    const current = bucket.objects.get(key);
    if (!current) throw notFound(res, name);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== current.metadata.uid) {
      throw conflict(
        res,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(
        res,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    }
    const finalizers = current.metadata.finalizers ?? [];
    const isNamespace = res.plural === "namespaces";
    if (finalizers.length > 0 || isNamespace) {
      if (current.metadata.deletionTimestamp) return { object: copy(current), gone: false };
      const next = copy(current);
      next.metadata.deletionTimestamp = timestamp(this.options.now());
      next.metadata.deletionGracePeriodSeconds = 0;
      // As the API server does when a deletion starts: the generation moves on.
      if (res.generation) next.metadata.generation = (next.metadata.generation ?? 1) + 1;
      if (isNamespace) next.status = { ...(next.status as object), phase: "Terminating" };
      if (options.dryRun) return { object: next, gone: false };
      next.metadata.resourceVersion = this.nextVersion();
      bucket.set(key, next);
      this.record(res.storage, key, "MODIFIED", next, current);
      if (isNamespace) this.emptyNamespace(name);
      return { object: copy(next), gone: false };
    }
    const last = copy(current);
    if (options.dryRun) return { object: last, gone: true };
    last.metadata.resourceVersion = this.nextVersion();
    this.remove(res, key, last, current, options.propagationPolicy);
    return { object: copy(last), gone: true };
  }

  private remove(
    res: SimResource,
    key: string,
    last: SimObject,
    previous: SimObject,
    propagation: DeleteOptions["propagationPolicy"] = "Background",
  ): void {
    this.bucket(res.storage).delete(key);
    this.trackOwners(res.storage, key, previous, undefined);
    this.record(res.storage, key, "DELETED", last, previous);
    const uid = previous.metadata.uid;
    if (uid) this.collectDependents(uid, propagation);
    const namespace = previous.metadata.namespace;
    if (namespace) {
      const ns = this.peek("namespaces", undefined, namespace);
      if (ns?.metadata.deletionTimestamp) this.finishNamespace(namespace);
    }
  }

  /** Background garbage collection: dependents whose owner is gone are deleted too (or orphaned). */
  private collectDependents(
    ownerUid: string,
    propagation: NonNullable<DeleteOptions["propagationPolicy"]>,
  ): void {
    const refs = this.dependents.get(ownerUid);
    if (!refs) return;
    this.dependents.delete(ownerUid);
    for (const ref of [...refs]) {
      const [storage = "", key = ""] = ref.split("\u0000");
      const object = this.buckets.get(storage)?.objects.get(key);
      if (!object) continue;
      const res = storageResource(storage);
      const { namespace, name = "" } = object.metadata;
      if (propagation === "Orphan") {
        const next = copy(object);
        next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter(
          (owner: OwnerReference) => owner.uid !== ownerUid,
        );
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        this.update(res, next);
      } else {
        this.delete(res, namespace, name);
      }
    }
  }

  private emptyNamespace(namespace: string): void {
    for (const [storage, bucket] of this.buckets) {
      const res = storageResource(storage);
      if (!res.namespaced) continue;
      for (const object of this.list(storage, namespace)) {
        if (bucket.objects.has(keyOf(namespace, object.metadata.name ?? ""))) {
          this.delete(res, namespace, object.metadata.name ?? "");
        }
      }
    }
    this.finishNamespace(namespace);
  }

  private finishNamespace(namespace: string): void {
    for (const [storage] of this.buckets) {
      if (!storageResource(storage).namespaced) continue;
      if (this.list(storage, namespace).length > 0) return;
    }
    const ns = this.peek("namespaces", undefined, namespace);
    if (!ns) return;
    const last = copy(ns);
    last.metadata.resourceVersion = this.nextVersion();
    this.remove(storageResource("namespaces"), namespace, last, ns);
  }
}

export type { ObjectMeta };
