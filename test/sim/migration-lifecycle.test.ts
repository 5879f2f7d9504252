// Issue 21 items 1 and 5: the VMIM's migrationState and the migration's lifecycle as KubeVirt
// v1.9's virt-controller has them (pkg/virt-controller/watch/migration/migration.go,
// pkg/controller/controller.go), on manual simulated time. Each test failed against the earlier
// simulator: it wrote sourceNode into the VMIM from Pending on, counted outbound migrations from
// that field, refused to take over a stale record, marked an abort before the migration ran, failed
// the VMIM of a deleted VMI instead of deleting it, left "Target pod is down" out, removed source
// and failed target pods within seconds, retried queued migrations every 3 s with no priority,
// ignored a second active launcher pod, and warned of a host-model CPU only once.
import { describe, expect, it } from "vitest";
import type { SimCluster } from "../../src/sim/cluster.js";
import { controllerUser, R } from "../../src/sim/controllers/runtime.js";
import { simPerTest, simRequest } from "../helpers/sim.js";
import { runFor, runUntil } from "../helpers/sim-time.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const migrationJob = "kubevirt.io/migrationJobUID";

function migrationsOf(cluster: SimCluster, ns: string, vmi: string): Any[] {
  return (cluster.store.list(R.vmim.storage, ns) as Any[])
    .filter((m) => m.spec.vmiName === vmi)
    .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
}

function vmim(cluster: SimCluster, m: Any): Any {
  return cluster.store.get(R.vmim.storage, m.metadata.namespace, m.metadata.name) as Any;
}

function phaseOf(cluster: SimCluster, m: Any): string {
  return vmim(cluster, m)?.status?.phase ?? "";
}

function vmiOf(cluster: SimCluster, ns: string, name: string): Any {
  return cluster.store.get(R.vmi.storage, ns, name) as Any;
}

function pod(cluster: SimCluster, ns: string, name: string): Any {
  return cluster.store.get(R.pod.storage, ns, name) as Any;
}

function targetPods(cluster: SimCluster, m: Any): Any[] {
  return (cluster.store.list(R.pod.storage, m.metadata.namespace) as Any[]).filter(
    (p) => p.metadata.labels?.[migrationJob] === m.metadata.uid,
  );
}

function eventsOf(cluster: SimCluster, ns: string, uid: string): Any[] {
  return (cluster.store.list(R.event.storage, ns) as Any[]).filter((e) => e.involvedObject.uid === uid);
}

function stamp(m: Any, phase: string): number {
  const entry = (m.status?.phaseTransitionTimestamps ?? []).find((p: Any) => p.phase === phase);
  return entry ? Date.parse(entry.phaseTransitionTimestamp) : Number.NaN;
}

async function migrate(cluster: SimCluster, ns: string, vm: string, body: object = {}): Promise<Any> {
  const res = await simRequest(
    cluster,
    "PUT",
    `/apis/subresources.kubevirt.io/v1/namespaces/${ns}/virtualmachines/${vm}/migrate`,
    { body },
  );
  expect(res.status).toBe(202);
  return migrationsOf(cluster, ns, vm).at(-1);
}

async function cancel(cluster: SimCluster, m: Any): Promise<void> {
  const res = await simRequest(
    cluster,
    "DELETE",
    `/apis/kubevirt.io/v1/namespaces/${m.metadata.namespace}/virtualmachineinstancemigrations/${m.metadata.name}`,
  );
  expect(res.status).toBe(202);
}

/** Every phase a VMIM was seen in, from the store's changes (a deleted VMIM keeps no record). */
function recordPhases(cluster: SimCluster, m: Any): string[] {
  const seen: string[] = [];
  cluster.store.subscribe((change) => {
    if (change.storage !== R.vmim.storage || change.object.metadata.uid !== m.metadata.uid) return;
    const phase = (change.object.status as Any)?.phase;
    if (phase && seen.at(-1) !== phase) seen.push(phase);
  });
  return seen;
}

/** A slow guest, so that a migration of it is still running when the test acts. */
function slow(cluster: SimCluster, ns: string, vm: string): void {
  cluster.store.patch(R.vmi, ns, vm, "merge", {
    metadata: { annotations: { "sim.kvmig.dev/dirty-rate-mibps": "2000" } },
  });
}

describe("the VMIM's migrationState (item 1)", () => {
  const sim = simPerTest({ manualTime: true, scenario: "queued" });

  it("holds only the source pod until the migration is final, then the VMI's whole record", async () => {
    const cluster = sim();
    const sourcePod = Object.keys(vmiOf(cluster, "batch", "worker-1").status.activePods)[0];
    const states: Any[] = [];
    cluster.store.subscribe((change) => {
      if (change.storage === R.vmim.storage && (change.object.spec as Any)?.vmiName === "worker-1")
        states.push({
          phase: (change.object.status as Any)?.phase,
          state: (change.object.status as Any)?.migrationState,
        });
    });
    const m = await migrate(cluster, "batch", "worker-1");
    await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 300_000);
    const name = (cluster.store.list(R.pod.storage, "batch") as Any[]).find(
      (p) => p.metadata.uid === sourcePod,
    )?.metadata.name;
    expect(name).toMatch(/^virt-launcher-worker-1-/);
    const before = states.filter((s) => s.phase !== "Succeeded");
    expect(before.map((s) => s.phase)).toEqual(
      expect.arrayContaining(["Pending", "Scheduling", "Scheduled", "Running"]),
    );
    for (const s of before) if (s.phase) expect(s.state).toEqual({ sourcePod: name });
    const done = vmim(cluster, m);
    expect(done.status.migrationState).toEqual(vmiOf(cluster, "batch", "worker-1").status.migrationState);
    expect(done.status.migrationState).toMatchObject({ sourceNode: "node-1", completed: true });
  });

  it("a queued one has no source node in its status while it waits", async () => {
    const cluster = sim();
    const first = await migrate(cluster, "batch", "worker-1");
    await runUntil(cluster, () => phaseOf(cluster, first) === "Scheduling");
    const second = await migrate(cluster, "batch", "worker-2");
    await runFor(cluster, 10_000);
    expect(phaseOf(cluster, second)).toBe("Pending");
    expect(Object.keys(vmim(cluster, second).status.migrationState)).toEqual(["sourcePod"]);
    expect(Object.keys(vmim(cluster, first).status.migrationState)).toEqual(["sourcePod"]);
  });

  it("the per-node limit counts from the VMIs: a VMI whose record is of a migration from another node counts there too", async () => {
    // outboundMigrationsOnNode: the VMI's node, or its record's source node. worker-1 moved off
    // node-1; its next migration, still before hand-off, counts for node-1 as well.
    const cluster = sim();
    const moved = await migrate(cluster, "batch", "worker-1");
    await runUntil(cluster, () => phaseOf(cluster, moved) === "Succeeded", 300_000);
    const now = vmiOf(cluster, "batch", "worker-1").status;
    expect(now.nodeName).not.toBe("node-1");
    expect(now.migrationState.sourceNode).toBe("node-1");
    // A target no node can take: the migration stays in Scheduling, which counts as running.
    const stuck = await migrate(cluster, "batch", "worker-1", { addedNodeSelector: { nowhere: "true" } });
    await runUntil(cluster, () => phaseOf(cluster, stuck) === "Scheduling");
    const held = await migrate(cluster, "batch", "worker-2");
    await runFor(cluster, 20_000);
    expect(phaseOf(cluster, held)).toBe("Pending");
    expect(targetPods(cluster, held)).toEqual([]);
    // The cancel frees node-1's slot: the held one starts at once.
    await cancel(cluster, stuck);
    await runUntil(cluster, () => vmim(cluster, stuck) === undefined);
    await runUntil(cluster, () => phaseOf(cluster, held) === "Scheduling", 1000);
  });
});

describe("lifecycle details (item 5)", () => {
  const sim = simPerTest({ manualTime: true });

  it("a new migration takes over a stale record whose VMIM is gone, and hand-off replaces it", async () => {
    const cluster = sim();
    const vmi = vmiOf(cluster, "demo", "fedora-web");
    cluster.store.update(
      R.vmi,
      {
        ...vmi,
        status: {
          ...vmi.status,
          migrationState: {
            migrationUid: "5f0e4f3a-0000-4000-8000-00000000dead",
            sourceNode: "node-1",
            targetNode: "node-3",
            targetPod: "virt-launcher-fedora-web-gone1",
          },
        },
      },
      { subresource: "status" },
    );
    const m = await migrate(cluster, "demo", "fedora-web");
    await runUntil(cluster, () => ["Succeeded", "Failed"].includes(phaseOf(cluster, m)), 300_000);
    expect(phaseOf(cluster, m)).toBe("Succeeded");
    expect(vmiOf(cluster, "demo", "fedora-web").status.migrationState).toMatchObject({
      migrationUid: m.metadata.uid,
      completed: true,
    });
  });

  it("cancel before the migration runs adds only the condition; the abort is marked once it runs", async () => {
    const cluster = sim();
    slow(cluster, "demo", "rhel-db");
    const m = await migrate(cluster, "demo", "rhel-db");
    const phases = recordPhases(cluster, m);
    await runUntil(cluster, () => phaseOf(cluster, m) === "PreparingTarget");
    await cancel(cluster, m);
    await runFor(cluster, 0);
    // Handed off, not yet running: the condition, no abort on the VMI, no SuccessfulAbortMigration.
    const deleting = vmim(cluster, m);
    expect(deleting.metadata.deletionTimestamp).toBeDefined();
    expect(deleting.status.conditions.map((c: Any) => c.type)).toContain("migrationAbortRequested");
    expect(vmiOf(cluster, "demo", "rhel-db").status.migrationState.abortRequested).toBeUndefined();
    expect(eventsOf(cluster, "demo", m.metadata.uid).map((e) => e.reason)).not.toContain(
      "SuccessfulAbortMigration",
    );
    await runUntil(cluster, () => vmim(cluster, m) === undefined, 120_000);
    expect(phases).toEqual(expect.arrayContaining(["TargetReady", "Running", "Failed"]));
    const state = vmiOf(cluster, "demo", "rhel-db").status.migrationState;
    expect(state).toMatchObject({ abortRequested: true, abortStatus: "Succeeded", failed: true });
    expect(state.startTimestamp).toBeDefined();
    expect(eventsOf(cluster, "demo", m.metadata.uid).map((e) => e.reason)).toContain(
      "SuccessfulAbortMigration",
    );
  });

  it("a VMI deleted under a migration takes its migrations with it", async () => {
    const cluster = sim();
    const earlier = await migrate(cluster, "demo", "rhel-db");
    await runUntil(cluster, () => phaseOf(cluster, earlier) === "Succeeded", 300_000);
    slow(cluster, "demo", "rhel-db");
    const m = await migrate(cluster, "demo", "rhel-db");
    await runUntil(cluster, () => phaseOf(cluster, m) === "Running");
    const uid = vmiOf(cluster, "demo", "rhel-db").metadata.uid;
    const res = await simRequest(
      cluster,
      "DELETE",
      "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstances/rhel-db",
    );
    expect(res.status).toBeLessThan(300);
    await runUntil(cluster, () => vmiOf(cluster, "demo", "rhel-db")?.metadata.uid !== uid, 600_000);
    await runFor(cluster, 1000);
    expect(migrationsOf(cluster, "demo", "rhel-db")).toEqual([]);
    // It failed first, while the VMI was shutting down; "vmi does not exist" is never said.
    const messages = eventsOf(cluster, "demo", m.metadata.uid).map((e) => e.message);
    expect(messages).toContain("Migration failed vmi shutdown during migration.");
    expect(messages).not.toContain("Migration failed because vmi does not exist.");
  });

  it("a target pod gone before the migration started: failureReason 'Target pod is down' and a startTimestamp", async () => {
    const cluster = sim();
    const m = await migrate(cluster, "demo", "fedora-web");
    await runUntil(cluster, () => phaseOf(cluster, m) === "PreparingTarget");
    const [target] = targetPods(cluster, m);
    cluster.store.delete(R.pod, "demo", target.metadata.name);
    await runUntil(cluster, () => phaseOf(cluster, m) === "Failed", 10_000);
    const state = vmiOf(cluster, "demo", "fedora-web").status.migrationState;
    expect(state).toMatchObject({
      migrationUid: m.metadata.uid,
      completed: true,
      failed: true,
      failureReason: "Target pod is down",
    });
    expect(state.startTimestamp).toBeDefined();
    expect(state.endTimestamp).toBeDefined();
    expect(vmim(cluster, m).status.migrationState).toEqual(state);
  });

  it("source pods stay Completed until their migration is garbage-collected", async () => {
    const cluster = sim();
    const sources: string[] = [];
    const done: Any[] = [];
    for (let i = 0; i < 6; i++) {
      const m = await migrate(cluster, "demo", "fedora-web");
      await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 300_000);
      const state = vmiOf(cluster, "demo", "fedora-web").status.migrationState;
      sources.push(state.sourcePod);
      done.push(m);
      await runFor(cluster, 10_000);
      if (i < 5) {
        // Each source launcher is still there, Completed.
        for (const name of sources) expect(pod(cluster, "demo", name)?.status.phase).toBe("Succeeded");
      }
    }
    // The sixth success collected the first migration and, with it, its source pod only.
    expect(vmim(cluster, done[0])).toBeUndefined();
    expect(pod(cluster, "demo", sources[0] as string)).toBeUndefined();
    for (const name of sources.slice(1)) expect(pod(cluster, "demo", name)?.status.phase).toBe("Succeeded");
  });

  it("a failed migration's target pod stays until then as well", async () => {
    const cluster = sim();
    const m = await migrate(cluster, "demo", "fedora-web");
    await runUntil(cluster, () => phaseOf(cluster, m) === "Running");
    const [target] = targetPods(cluster, m);
    // The target launcher dies during the transfer.
    cluster.store.patch(R.pod, "demo", target.metadata.name, "merge", { status: { phase: "Failed" } }, {
      subresource: "status",
    } as never);
    await runUntil(cluster, () => phaseOf(cluster, m) === "Failed", 60_000);
    await runFor(cluster, 30_000);
    expect(pod(cluster, "demo", target.metadata.name)?.status.phase).toBe("Failed");
  });

  it("a second active launcher pod holds the migration in Pending until it is gone", async () => {
    const cluster = sim();
    const vmi = vmiOf(cluster, "demo", "fedora-web");
    const launcher = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
      (p) => p.metadata.labels?.["kubevirt.io/created-by"] === vmi.metadata.uid,
    );
    // A leftover launcher of the VMI, still running on another node.
    const extra = cluster.store.create(R.pod, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "virt-launcher-fedora-web-extra",
        namespace: "demo",
        labels: { ...launcher.metadata.labels },
        annotations: { ...launcher.metadata.annotations },
        ownerReferences: launcher.metadata.ownerReferences,
      },
      spec: { ...launcher.spec, nodeName: "node-3" },
      status: { phase: "Running" },
    }) as Any;
    const m = await migrate(cluster, "demo", "fedora-web");
    await runFor(cluster, 20_000);
    expect(phaseOf(cluster, m)).toBe("Pending");
    expect(targetPods(cluster, m)).toEqual([]);
    cluster.store.delete(R.pod, "demo", extra.metadata.name);
    await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 300_000);
  });
});

describe("queued migrations are tried again by priority when a slot frees (item 5)", () => {
  const sim = simPerTest({ manualTime: true });

  it("a system-critical one created after a user's starts first, the moment the running one ends", async () => {
    const cluster = sim();
    cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
      spec: { configuration: { migrations: { parallelMigrationsPerCluster: 1 } } },
    });
    const first = await migrate(cluster, "demo", "fedora-web");
    await runUntil(cluster, () => phaseOf(cluster, first) === "Scheduling");
    const user = await migrate(cluster, "demo", "rhel-db");
    await runFor(cluster, 500);
    // What the evacuation controller creates: priority system-critical, which only it may set.
    const critical = cluster.store.create(
      R.vmim,
      {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstanceMigration",
        metadata: { generateName: "kubevirt-evacuation-", namespace: "demo" },
        spec: { vmiName: "win-app", priority: "system-critical" },
      },
      { user: controllerUser },
    ) as Any;
    await runUntil(cluster, () => phaseOf(cluster, first) === "Succeeded", 300_000);
    // In the same instant: no retry timer had to fire.
    expect(phaseOf(cluster, critical)).toBe("Scheduling");
    expect(phaseOf(cluster, user)).toBe("Pending");
    expect(stamp(vmim(cluster, critical), "Scheduling")).toBe(stamp(vmim(cluster, first), "Succeeded"));
  });
});

describe("NoSuitableNodesForHostModelMigration (item 5)", () => {
  const sim = simPerTest({ manualTime: true, scenario: "cpu-mismatch" });

  it("is emitted on every sync that finds the host-model VMI's target unschedulable, not once at creation", async () => {
    const cluster = sim();
    const m = await migrate(cluster, "erp", "legacy-erp");
    await runUntil(cluster, () => phaseOf(cluster, m) === "Scheduling");
    const uid = vmiOf(cluster, "erp", "legacy-erp").metadata.uid;
    const warning = () =>
      eventsOf(cluster, "erp", uid).find((e) => e.reason === "NoSuitableNodesForHostModelMigration");
    const unschedulable = () =>
      eventsOf(cluster, "erp", m.metadata.uid).find((e) => e.reason === "migrationTargetPodUnschedulable");
    await runUntil(cluster, () => unschedulable() !== undefined, 60_000);
    await runFor(cluster, 90_000);
    expect(warning()?.count).toBeGreaterThan(1);
    expect(warning()?.count).toBe(unschedulable()?.count);
  });
});
