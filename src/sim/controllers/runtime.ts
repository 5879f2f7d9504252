// What the simulated controllers share: a work queue drained after each change (like an
// informer and a workqueue: keyed, deduplicated, single-threaded), indexes over the store (as
// informers' indexers: pods by VMI, by migration and by node; VMIs by node and by launcher image),
// timers in simulated time, an event recorder that aggregates repeats as client-go's does, and
// small write helpers. The queue runs in slices of a few milliseconds, so that the API server
// answers between them however much work a change brings (an upgrade wave at 50,000 VMs).

import type { LogStore } from "../logs.js";
import type { Random } from "../random.js";
import { findResource, type SimResource } from "../registry.js";
import { type Change, type SimObject, type Store, timestamp } from "../store.js";
import type { SimTime } from "../time.js";
import { Faults } from "./faults.js";
import { dig, str } from "./fields.js";
import { type IndexFunction, ObjectIndex, type WeightFunction } from "./object-index.js";

export { touchesSpecStatusOrLabels } from "./object-index.js";
export { dig, str };

export const controllerUser = "system:serviceaccount:kubevirt:kubevirt-controller";
export const handlerUser = "system:serviceaccount:kubevirt:kubevirt-handler";

function mustFind(group: string, version: string, plural: string): SimResource {
  const res = findResource(group, version, plural);
  if (!res) throw new Error(`no resource ${plural}`);
  return res;
}

export const R = {
  vm: mustFind("kubevirt.io", "v1", "virtualmachines"),
  vmi: mustFind("kubevirt.io", "v1", "virtualmachineinstances"),
  vmim: mustFind("kubevirt.io", "v1", "virtualmachineinstancemigrations"),
  kubevirt: mustFind("kubevirt.io", "v1", "kubevirts"),
  policy: mustFind("migrations.kubevirt.io", "v1alpha1", "migrationpolicies"),
  pod: mustFind("", "v1", "pods"),
  node: mustFind("", "v1", "nodes"),
  event: mustFind("", "v1", "events"),
  deployment: mustFind("apps", "v1", "deployments"),
  nad: mustFind("k8s.cni.cncf.io", "v1", "network-attachment-definitions"),
  nns: mustFind("nmstate.io", "v1beta1", "nodenetworkstates"),
};

export interface EventSource {
  component: string;
  host?: string | undefined;
}

type Task = () => void;

/** How long queued work runs before the event loop (and so the API server) gets a turn, in wall ms. */
const drainSliceMs = 8;

export class ControllerRuntime {
  /** Queued tasks by key, and the keys in the order they were first queued (a FIFO read from `head`). */
  private readonly queue = new Map<string, Task>();
  private order: string[] = [];
  private head = 0;
  private draining = false;
  private scheduled = false;
  private readonly cancels = new Set<() => void>();
  private stopped = false;
  private readonly eventIndex = new Map<string, string>();
  private readonly handlers: ((change: Change) => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  /** The scenario's faults for future migrations. */
  faults: Faults = new Faults();
  /** Launcher pods by the VMI uid in their `kubevirt.io/created-by` label. */
  readonly podsByVmi: ObjectIndex;
  /** Target pods by the VMIM uid in their `kubevirt.io/migrationJobUID` label. */
  readonly podsByMigration: ObjectIndex;
  /** VMIs by `status.nodeName`. */
  readonly vmisByNode: ObjectIndex;
  /**
   * VMIs by `status.launcherContainerImageVersion`, each weighing 1 while Running and not being
   * deleted: the workload updater's count of outdated VMIs, without reading them.
   */
  readonly vmisByLauncherImage: ObjectIndex;
  private readonly indexes: ObjectIndex[] = [];

  constructor(
    readonly store: Store,
    readonly logs: LogStore,
    readonly time: SimTime,
    readonly random: Random,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.podsByVmi = this.addIndex(R.pod, (pod) => pod.metadata.labels?.["kubevirt.io/created-by"]);
    this.podsByMigration = this.addIndex(
      R.pod,
      (pod) => pod.metadata.labels?.["kubevirt.io/migrationJobUID"],
    );
    this.vmisByNode = this.addIndex(R.vmi, (vmi) => str(vmi, "status", "nodeName"));
    this.vmisByLauncherImage = this.addIndex(
      R.vmi,
      (vmi) => str(vmi, "status", "launcherContainerImageVersion"),
      (vmi) => (str(vmi, "status", "phase") === "Running" && !vmi.metadata.deletionTimestamp ? 1 : 0),
    );
    store.subscribe((change) => {
      for (const index of this.indexes) if (index.storage === change.storage) index.apply(change);
      if (this.stopped) return;
      for (const handler of this.handlers) handler(change);
    });
  }

  /** A new index over one resource, kept up to date from now on (filled from the store at once). */
  addIndex(res: SimResource, indexValue: IndexFunction, weigh?: WeightFunction): ObjectIndex {
    const index = new ObjectIndex(this.store, res.storage, indexValue, weigh);
    this.indexes.push(index);
    return index;
  }

  /** The launcher pods of a VMI (read-only, as stored). */
  podsOf(vmiUid: string | undefined): SimObject[] {
    return this.podsByVmi.objects(vmiUid);
  }

  /**
   * Hands every existing object to the controllers once, as informers do at start, so that a
   * scenario's state (a drained node, a pending migration) is acted on without a first change.
   */
  replay(): void {
    // Nodes are left out: what they gate (pending pods, drains) is replayed through the pods and VMIs.
    for (const res of [R.vm, R.vmi, R.vmim, R.pod]) {
      for (const object of this.store.list(res.storage)) {
        const change: Change = {
          rv: this.store.resourceVersion,
          storage: res.storage,
          key: "",
          type: "ADDED",
          object,
          previous: undefined,
        };
        for (const handler of this.handlers) handler(change);
      }
    }
  }

  /** Calls `handler` for every stored change (it should only enqueue work). */
  onChange(handler: (change: Change) => void): void {
    this.handlers.push(handler);
  }

  now(): number {
    return this.time.now();
  }

  stamp(): string {
    return timestamp(this.time.now());
  }

  /** Queues `task` under `key`; a key already queued runs once. */
  enqueue(key: string, task: Task): void {
    if (this.stopped) return;
    if (!this.queue.has(key)) this.order.push(key);
    this.queue.set(key, task);
    if (!this.scheduled && !this.draining) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Queues `task` after `ms` of simulated time. */
  later(ms: number, key: string, task: Task): void {
    if (this.stopped) return;
    const cancel = this.time.after(ms, () => {
      this.cancels.delete(cancel);
      this.enqueue(key, task);
    });
    this.cancels.add(cancel);
  }

  /** The next queued task in order, taken off the queue. */
  private next(): [string, Task] | undefined {
    while (this.head < this.order.length) {
      const key = this.order[this.head] as string;
      this.head += 1;
      const task = this.queue.get(key);
      if (task === undefined) continue;
      this.queue.delete(key);
      if (this.head > 4096 && this.head * 2 > this.order.length) {
        this.order = this.order.slice(this.head);
        this.head = 0;
      }
      return [key, task];
    }
    return undefined;
  }

  /**
   * Runs queued work in slices of about `drainSliceMs`, then yields to the event loop (setImmediate
   * comes after pending I/O), so that the API server keeps answering while controllers catch up.
   */
  private drain(): void {
    this.scheduled = false;
    this.draining = true;
    try {
      const until = performance.now() + drainSliceMs;
      do {
        const next = this.stopped ? undefined : this.next();
        if (!next) break;
        const [key, task] = next;
        try {
          task();
        } catch (error) {
          this.log(`controller ${key}: ${(error as Error).stack ?? error}`);
        }
      } while (performance.now() < until);
    } finally {
      this.draining = false;
    }
    if (this.queue.size > 0 && !this.stopped) {
      this.scheduled = true;
      setImmediate(() => this.drain());
      return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves once the work queue is empty (for tests driving simulated time by hand). */
  async settle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (this.queue.size === 0 && !this.scheduled && !this.draining) {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.queue.size === 0 && !this.scheduled) return;
      }
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
    this.queue.clear();
    this.order = [];
    this.head = 0;
  }

  get(res: SimResource, namespace: string | undefined, name: string): SimObject | undefined {
    return this.store.get(res.storage, namespace, name);
  }

  /** The stored object itself, for reading only (no copy): what a sync checks before it acts. */
  peek(res: SimResource, namespace: string | undefined, name: string): SimObject | undefined {
    return this.store.peek(res.storage, namespace, name);
  }

  list(res: SimResource, namespace?: string): readonly SimObject[] {
    return this.store.list(res.storage, namespace);
  }

  create(res: SimResource, object: SimObject): SimObject {
    return this.store.create(res, object, { user: controllerUser });
  }

  /** Reads, changes and writes an object; undefined when it is gone. */
  mutate(
    res: SimResource,
    namespace: string | undefined,
    name: string,
    change: (object: SimObject) => void,
    subresource?: "status",
  ): SimObject | undefined {
    const object = this.get(res, namespace, name);
    if (!object) return undefined;
    change(object);
    const updated = this.store.update(res, object, { subresource, user: controllerUser });
    // Where status is a subresource, a change to both needs both writes (as a binding does).
    if (subresource === undefined && res.subresources.includes("status")) {
      if (JSON.stringify(updated.status) !== JSON.stringify(object.status)) {
        return this.store.update(
          res,
          { ...updated, status: object.status },
          { subresource: "status", user: controllerUser },
        );
      }
    }
    return updated;
  }

  remove(res: SimResource, namespace: string | undefined, name: string): void {
    if (this.store.peek(res.storage, namespace, name)) this.store.delete(res, namespace, name);
  }

  /** A core v1 Event as client-go's recorder writes it; a repeat bumps count and lastTimestamp. */
  event(
    object: SimObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    source: EventSource,
  ): void {
    const meta = object.metadata;
    const namespace = meta.namespace ?? "default";
    const key = [meta.uid, type, reason, message, source.component, source.host ?? ""].join("\u0000");
    const now = this.stamp();
    const existing = this.eventIndex.get(key);
    if (existing && this.store.peek(R.event.storage, namespace, existing)) {
      this.mutate(R.event, namespace, existing, (event) => {
        event.count = ((event.count as number | undefined) ?? 1) + 1;
        event.lastTimestamp = now;
      });
      return;
    }
    const name = `${meta.name}.${(this.time.now() * 1_000_000 + this.random.int(0, 999_999)).toString(16)}`;
    this.eventIndex.set(key, name);
    this.store.create(R.event, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      reason,
      message,
      source: source.host
        ? { component: source.component, host: source.host }
        : { component: source.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? "",
    });
  }

  /** A line in a container's log, stamped with simulated time. */
  containerLog(namespace: string, pod: string, container: string, text: string): void {
    this.logs.append(namespace, pod, container, { time: this.time.now(), text });
  }

  debug(line: string): void {
    this.log(line);
  }
}

/** An object's status, created empty when it has none yet. */
export function statusOf(object: SimObject): Record<string, unknown> {
  if (object.status === undefined || object.status === null) object.status = {};
  return object.status as Record<string, unknown>;
}

/**
 * A migration virt-controller starts on its own (evacuation, workload update): system-critical
 * priority (system-maintenance for a descheduler's eviction), which only virt-controller may set,
 * and the annotation that makes it subject to backoff.
 */
export function createControllerMigration(
  rt: ControllerRuntime,
  vmi: SimObject,
  generateName: string,
  annotations: Record<string, string>,
  priority = "system-critical",
): SimObject {
  return rt.store.create(
    R.vmim,
    {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: { generateName, namespace: vmi.metadata.namespace, annotations },
      spec: { vmiName: vmi.metadata.name ?? "", priority },
    },
    { user: controllerUser },
  );
}
