// Indexes over the store, as client-go's informers keep them (cache.Indexer: an index function
// from an object to its index values, and the keys of the objects under each value), so that a
// controller finds "the pods on node X" or "the pods of VMI Y" without reading every pod: at
// 50,000 VMs a scan per change is what stalled the simulated API server.

import type { Change, SimObject, Store } from "../store.js";

export type IndexFunction = (object: SimObject) => string | undefined;
export type WeightFunction = (object: SimObject) => number;

/**
 * One resource's objects by one value computed from each (a label, a field; undefined: not
 * indexed), and, with a weight function, the sum of their weights under each value (the memory
 * the pods on a node request), kept as objects change rather than added up at each read.
 */
export class ObjectIndex {
  private readonly byValue = new Map<string, Set<string>>();
  private readonly totals = new Map<string, number>();
  /** Moves on whenever an object joins or leaves a value, or its weight changes: what a cache of it checks. */
  version = 0;

  constructor(
    private readonly store: Store,
    readonly storage: string,
    private readonly indexValue: IndexFunction,
    private readonly weigh?: WeightFunction,
  ) {
    for (const object of store.list(storage)) {
      this.add(this.indexValue(object), keyOfObject(object), this.weightOf(object));
    }
  }

  /** Follows a stored change of this index's resource. */
  apply(change: Change): void {
    const previous = change.previous;
    const current = change.type === "DELETED" ? undefined : change.object;
    const before = previous ? this.indexValue(previous) : undefined;
    const after = current ? this.indexValue(current) : undefined;
    const weightBefore = previous ? this.weightOf(previous) : 0;
    const weightAfter = current ? this.weightOf(current) : 0;
    if (before === after && weightBefore === weightAfter && change.type === "MODIFIED") return;
    this.version += 1;
    this.remove(before, change.key, weightBefore);
    this.add(after, change.key, weightAfter);
  }

  /** The sum of the weights of the objects with `value` (0 without a weight function). */
  total(value: string): number {
    return this.totals.get(value) ?? 0;
  }

  /** The stored objects (read-only, as stored) whose value is `value`, in no particular order. */
  objects(value: string | undefined): SimObject[] {
    const keys = value === undefined ? undefined : this.byValue.get(value);
    if (!keys) return [];
    const out: SimObject[] = [];
    for (const key of keys) {
      const object = this.store.peekKey(this.storage, key);
      if (object) out.push(object);
    }
    return out;
  }

  /** How many objects have `value`. */
  count(value: string): number {
    return this.byValue.get(value)?.size ?? 0;
  }

  /** The values present, each with the keys of its objects. */
  values(): IterableIterator<[string, ReadonlySet<string>]> {
    return this.byValue.entries();
  }

  private weightOf(object: SimObject): number {
    return this.weigh ? this.weigh(object) : 0;
  }

  private add(value: string | undefined, key: string, weight: number): void {
    if (value === undefined) return;
    let keys = this.byValue.get(value);
    if (!keys) {
      keys = new Set();
      this.byValue.set(value, keys);
    }
    keys.add(key);
    if (weight !== 0) this.totals.set(value, (this.totals.get(value) ?? 0) + weight);
  }

  private remove(value: string | undefined, key: string, weight: number): void {
    if (value === undefined) return;
    const keys = this.byValue.get(value);
    if (!keys?.delete(key)) return;
    if (keys.size === 0) this.byValue.delete(value);
    if (weight === 0) return;
    const total = (this.totals.get(value) ?? 0) - weight;
    if (keys.size === 0 || total === 0) this.totals.delete(value);
    else this.totals.set(value, total);
  }
}

/** The store's key of an object: `namespace/name`, or the name of a cluster-scoped one. */
function keyOfObject(object: SimObject): string {
  const { namespace, name = "" } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * True when a change touches what controllers act on (the spec, the status, the labels, the
 * deletion) and not only the rest of the metadata: virt-handler's heartbeat, which rewrites
 * every node's `kubevirt.io/heartbeat` annotation about once a minute, changes nothing the
 * scheduler or the evacuation controller reads, so their handlers skip it.
 */
export function touchesSpecStatusOrLabels(change: Change): boolean {
  const before = change.previous;
  const after = change.object;
  if (change.type !== "MODIFIED" || !before) return true;
  return (
    JSON.stringify(before.spec) !== JSON.stringify(after.spec) ||
    JSON.stringify(before.status) !== JSON.stringify(after.status) ||
    JSON.stringify(before.metadata.labels) !== JSON.stringify(after.metadata.labels) ||
    before.metadata.deletionTimestamp !== after.metadata.deletionTimestamp
  );
}
