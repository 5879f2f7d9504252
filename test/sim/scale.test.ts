// Issue 21 item 7, the simulated cluster live at 50,000 VMs: controllers react to what changed
// (a node update that touches no spec, status or labels, as virt-handler's heartbeat, does
// nothing), virt-handler's heartbeat comes from each node on its own jittered timer, long
// controller work is sliced so that the API server answers between slices, and the indexes and
// the store's ordered keys give what the scans gave. How fast is for `npm run bench`
// (bench/cases/sim-latency.mjs); these tests check behaviour only.
import { describe, expect, it } from "vitest";
import type { SimCluster } from "../../src/sim/cluster.js";
import { ObjectIndex, touchesSpecStatusOrLabels } from "../../src/sim/controllers/object-index.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { Random } from "../../src/sim/random.js";
import { findResource } from "../../src/sim/registry.js";
import { type Change, type SimObject, Store } from "../../src/sim/store.js";
import { simPerTest, simRequest } from "../helpers/sim.js";
import { runFor, runUntil } from "../helpers/sim-time.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const sub = "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines";

function podResource() {
  const res = findResource("", "v1", "pods");
  if (!res) throw new Error("no pods");
  return res;
}

function namespaceResource() {
  const res = findResource("", "v1", "namespaces");
  if (!res) throw new Error("no namespaces");
  return res;
}

function newStore(historyLimit?: number): Store {
  let now = Date.parse("2026-01-01T00:00:00Z");
  return new Store({ now: () => (now += 1000), random: new Random(7), historyLimit });
}

function pod(namespace: string, name: string, extra: Partial<SimObject> = {}): SimObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { namespace, name }, spec: { containers: [] }, ...extra };
}

describe("controllers react to what changed", () => {
  const sim = simPerTest({ manualTime: true });

  /** A migration whose target cannot be scheduled, and the scheduler's FailedScheduling event. */
  async function unschedulableTarget(cluster: SimCluster): Promise<() => number> {
    const res = await simRequest(cluster, "PUT", `${sub}/fedora-web/migrate`, {
      body: { addedNodeSelector: { "kubernetes.io/hostname": "node-9" } },
    });
    expect(res.status).toBe(202);
    let target: Any;
    await runUntil(cluster, () => {
      target = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
        (p) => p.metadata.labels?.["kubevirt.io/migrationJobUID"] && !p.spec.nodeName,
      );
      return target?.status?.conditions?.some((c: Any) => c.reason === "Unschedulable") === true;
    });
    return () =>
      (cluster.store.list(R.event.storage, "demo") as Any[])
        .filter((e) => e.involvedObject.uid === target.metadata.uid && e.reason === "FailedScheduling")
        .reduce((sum, e) => sum + e.count, 0);
  }

  it("a node update that only rewrites an annotation (virt-handler's heartbeat) makes the scheduler retry nothing; a label change does", async () => {
    const cluster = sim();
    const failedScheduling = await unschedulableTarget(cluster);
    const before = failedScheduling();
    expect(before).toBeGreaterThan(0);

    cluster.store.patch(R.node, undefined, "node-1", "merge", {
      metadata: { annotations: { "kubevirt.io/heartbeat": "2030-01-01T00:00:00Z" } },
    });
    await cluster.controllers.settle();
    expect(failedScheduling()).toBe(before);

    // A change the scheduler reads: the pending pod is tried again at once.
    cluster.store.patch(R.node, undefined, "node-1", "merge", { metadata: { labels: { rack: "r2" } } });
    await cluster.controllers.settle();
    expect(failedScheduling()).toBe(before + 1);
  });

  it("what counts as a change: spec, status, labels or the deletion; not annotations or managed fields", () => {
    const node: SimObject = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n", labels: { a: "1" }, annotations: { x: "1" } },
      spec: { unschedulable: false },
      status: { conditions: [] },
    };
    const change = (object: SimObject, type: Change["type"] = "MODIFIED"): Change => ({
      rv: 2,
      storage: "nodes",
      key: "n",
      type,
      object,
      previous: node,
    });
    const edit = (f: (o: Any) => void) => {
      const copy = structuredClone(node) as Any;
      f(copy);
      return copy as SimObject;
    };
    expect(touchesSpecStatusOrLabels(change(edit((o) => (o.metadata.annotations.x = "2"))))).toBe(false);
    expect(touchesSpecStatusOrLabels(change(edit((o) => (o.metadata.resourceVersion = "9"))))).toBe(false);
    expect(touchesSpecStatusOrLabels(change(edit((o) => (o.spec.unschedulable = true))))).toBe(true);
    expect(touchesSpecStatusOrLabels(change(edit((o) => o.status.conditions.push({ type: "Ready" }))))).toBe(
      true,
    );
    expect(touchesSpecStatusOrLabels(change(edit((o) => (o.metadata.labels.b = "2"))))).toBe(true);
    expect(touchesSpecStatusOrLabels(change(edit((o) => (o.metadata.deletionTimestamp = "t"))))).toBe(true);
    expect(touchesSpecStatusOrLabels(change(node, "ADDED"))).toBe(true);
    expect(touchesSpecStatusOrLabels(change(node, "DELETED"))).toBe(true);
  });
});

describe("virt-handler's heartbeat", () => {
  const sim = simPerTest({ manualTime: true });

  it("each node beats on its own timer, 60 to 132 s apart (wait.JitterUntil, 1 minute, factor 1.2), one write per beat", async () => {
    const cluster = sim();
    const started = cluster.time.now();
    const beats = new Map<string, number[]>();
    const unsubscribe = cluster.store.subscribe((change) => {
      if (change.storage !== R.node.storage || change.type !== "MODIFIED") return;
      const before = change.previous?.metadata.annotations?.["kubevirt.io/heartbeat"];
      const after = change.object.metadata.annotations?.["kubevirt.io/heartbeat"];
      if (before === after) return;
      const name = change.object.metadata.name ?? "";
      beats.set(name, [...(beats.get(name) ?? []), cluster.time.now()]);
    });
    await runFor(cluster, 20 * 60_000);
    unsubscribe();

    expect([...beats.keys()].sort()).toEqual(["node-1", "node-2", "node-3"]);
    for (const [name, times] of beats) {
      expect(times.length, name).toBeGreaterThanOrEqual(9);
      const gaps = [
        (times[0] as number) - started,
        ...times.slice(1).map((t, i) => t - (times[i] as number)),
      ];
      for (const gap of gaps) {
        expect(gap, name).toBeGreaterThanOrEqual(60_000);
        expect(gap, name).toBeLessThanOrEqual(132_000);
      }
      // Jittered: not every minute on the minute.
      expect(new Set(gaps).size, name).toBeGreaterThan(1);
    }
    // Each node on its own: the nodes do not beat together.
    const [one, two, three] = [...beats.values()].map((times) => times.join(","));
    expect(new Set([one, two, three]).size).toBe(3);
  });
});

describe("controller work is sliced", () => {
  const sim = simPerTest({ manualTime: true });

  it("the API server answers while a long queue of controller work is still draining", async () => {
    const cluster = sim();
    await cluster.controllers.settle();
    const tasks = 300;
    let done = 0;
    for (let i = 0; i < tasks; i++) {
      cluster.controllers.enqueue(`busy:${i}`, () => {
        // About a millisecond of work each: 300 ms in all, far longer than a slice.
        const until = performance.now() + 1;
        while (performance.now() < until) {
          /* busy */
        }
        done += 1;
      });
    }
    const res = await simRequest(cluster, "GET", "/api/v1/namespaces/kubevirt/pods?limit=1");
    const doneAtAnswer = done;
    expect(res.status).toBe(200);
    expect(doneAtAnswer).toBeLessThan(tasks);
    await cluster.controllers.settle();
    expect(done).toBe(tasks);
  });

  it("work queued under one key runs once, in the order first queued, also past a slice", async () => {
    const cluster = sim();
    await cluster.controllers.settle();
    const ran: string[] = [];
    for (let i = 0; i < 5000; i++)
      cluster.controllers.enqueue(`k${i % 2500}`, () => ran.push(`k${i % 2500}`));
    await cluster.controllers.settle();
    expect(ran).toEqual(Array.from({ length: 2500 }, (_, i) => `k${i}`));
  });
});

describe("the store's ordered keys", () => {
  it("a namespace's list is the cluster-wide list filtered, in key order, through creates and deletes", () => {
    const store = newStore();
    const pods = podResource();
    for (const ns of ["a", "a-b", "ab", "b", "a0"]) {
      store.create(namespaceResource(), { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    }
    const rng = new Random(3);
    const names = () => store.list(pods.storage).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    const check = () => {
      const all = names();
      expect(all).toEqual([...all].sort());
      for (const ns of ["a", "a-b", "ab", "b", "a0", "missing"]) {
        expect(
          store.list(pods.storage, ns).map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
          ns,
        ).toEqual(all.filter((key) => key.startsWith(`${ns}/`)));
      }
    };
    // A bulk of creates (merged at the next read), then a few at a time (spliced in), deletes
    // of merged and of not yet merged keys, and a name created again after its deletion.
    for (let i = 0; i < 200; i++) {
      const ns = ["a", "a-b", "ab", "b", "a0"][rng.int(0, 4)] as string;
      store.create(pods, pod(ns, `p-${rng.int(0, 10_000)}-${i}`));
    }
    check();
    for (let round = 0; round < 20; round++) {
      const existing = store.list(pods.storage);
      const victim = existing[rng.int(0, existing.length - 1)] as SimObject;
      store.delete(pods, victim.metadata.namespace, victim.metadata.name ?? "");
      store.create(pods, pod("b", `late-${round}`));
      if (round % 3 === 0) store.delete(pods, "b", `late-${round}`);
      if (round % 5 === 0)
        store.create(pods, pod(victim.metadata.namespace ?? "", victim.metadata.name ?? ""));
      check();
    }
  });

  it("a continued list shows the objects as they were at its resourceVersion, in order", () => {
    const store = newStore();
    const pods = podResource();
    store.create(namespaceResource(), { apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } });
    for (let i = 0; i < 50; i++) store.create(pods, pod("a", `p${String(i).padStart(2, "0")}`));
    const rv = store.resourceVersion;
    const then = store.list(pods.storage, "a").map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`);
    store.delete(pods, "a", "p10");
    store.create(pods, pod("a", "p10"));
    store.create(pods, pod("a", "p05x"));
    store.delete(pods, "a", "p20");
    store.patch(pods, "a", "p30", "merge", { metadata: { labels: { changed: "yes" } } });
    store.patch(pods, "a", "p30", "merge", { metadata: { labels: { changed: "twice" } } });
    const at = store
      .listAt(pods.storage, rv, "a")
      .map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`);
    expect(at).toEqual(then);
    expect(store.listAt(pods.storage, rv).length).toBe(50);
    expect(store.listAt(pods.storage, store.resourceVersion, "a").map((o) => o.metadata.name)).toContain(
      "p05x",
    );
  });
});

describe("indexes", () => {
  it("follow creates, updates and deletes, with each value's total weight", () => {
    const store = newStore();
    const pods = podResource();
    store.create(namespaceResource(), { apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } });
    store.create(pods, pod("a", "early", { spec: { nodeName: "n1", containers: [] } }));
    const byNode = new ObjectIndex(
      store,
      pods.storage,
      (p) => (p.spec as Any)?.nodeName ?? "",
      (p) => ((p.status as Any)?.phase === "Succeeded" ? 0 : 1),
    );
    store.subscribe((change) => {
      if (change.storage === pods.storage) byNode.apply(change);
    });
    const names = (node: string) =>
      byNode
        .objects(node)
        .map((p) => p.metadata.name)
        .sort();
    store.create(pods, pod("a", "x"));
    store.create(pods, pod("a", "y", { spec: { nodeName: "n1", containers: [] } }));
    expect(names("")).toEqual(["x"]);
    expect(names("n1")).toEqual(["early", "y"]);
    expect(byNode.total("n1")).toBe(2);

    // A change the index does not read leaves it (and its version) as it was.
    const version = byNode.version;
    store.patch(pods, "a", "y", "merge", { metadata: { labels: { unrelated: "yes" } } });
    expect(byNode.version).toBe(version);
    store.patch(pods, "a", "x", "merge", { spec: { nodeName: "n2" } });
    expect(byNode.version).toBeGreaterThan(version);
    expect(names("")).toEqual([]);
    expect(names("n2")).toEqual(["x"]);
    // A weight change alone (the pod ended) moves the total, not the membership.
    store.update(
      pods,
      { ...(store.get(pods.storage, "a", "y") as SimObject), status: { phase: "Succeeded" } },
      { subresource: "status" },
    );
    expect(names("n1")).toEqual(["early", "y"]);
    expect(byNode.total("n1")).toBe(1);
    store.delete(pods, "a", "early");
    expect(names("n1")).toEqual(["y"]);
    expect(byNode.total("n1")).toBe(0);
    expect(byNode.count("n2")).toBe(1);
    expect(byNode.objects(undefined)).toEqual([]);
  });
});
