// The failure modes and lifecycle of the simulated KubeVirt, on manual simulated time: restart,
// an unschedulable target and its 300 s timeout, parallel limits, backoff of evacuations (20 s,
// then 40 s), a migration that does not converge, a dropped libvirt connection (version skew, and
// a retry that succeeds), a missing vif-cache, garbage collection, and every KubeVirt object
// written along the way validating against KubeVirt's schema.
import { describe, expect, it } from "vitest";
import type { SimCluster } from "../../src/sim/cluster.js";
import type { FaultSpec } from "../../src/sim/controllers/faults.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { validateKubeVirtObject } from "../helpers/openapi-schema.js";
import { simPerTest, simRequest } from "../helpers/sim.js";
import { runFor, runUntil } from "../helpers/sim-time.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const sub = "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines";

function get(cluster: SimCluster, storage: string, name: string): Any {
  return cluster.store.get(storage, "demo", name) as Any;
}

function migrations(cluster: SimCluster, vmi: string): Any[] {
  return (cluster.store.list(R.vmim.storage, "demo") as Any[])
    .filter((m) => m.spec.vmiName === vmi)
    .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
}

function eventsOf(cluster: SimCluster, uid: string): Any[] {
  return (cluster.store.list(R.event.storage, "demo") as Any[]).filter((e) => e.involvedObject.uid === uid);
}

function stamp(m: Any, phase: string): number {
  const entry = (m.status?.phaseTransitionTimestamps ?? []).find((p: Any) => p.phase === phase);
  return entry ? Date.parse(entry.phaseTransitionTimestamp) : Number.NaN;
}

async function migrate(cluster: SimCluster, vm: string, body: object = {}): Promise<Any> {
  const res = await simRequest(cluster, "PUT", `${sub}/${vm}/migrate`, { body });
  expect(res.status).toBe(202);
  const all = migrations(cluster, vm);
  return all[all.length - 1];
}

/**
 * The migration fails because its target pod was deleted at a timeout: between `atLeast` and
 * `below` simulated ms after Scheduling, with the controller's two events.
 */
async function expectTargetTimedOut(
  cluster: SimCluster,
  m: Any,
  pod: string,
  atLeast: number,
  below: number,
) {
  await runUntil(cluster, () => phaseOf(cluster, m) === "Failed", below + 100_000);
  const failed = get(cluster, R.vmim.storage, m.metadata.name);
  const waited = stamp(failed, "Failed") - stamp(failed, "Scheduling");
  expect(waited).toBeGreaterThanOrEqual(atLeast);
  expect(waited).toBeLessThan(below);
  const messages = eventsOf(cluster, m.metadata.uid).map((e) => e.message);
  expect(messages).toContain(`${pod} timeout period exceeded`);
  expect(messages).toContain("Migration target pod was removed during active migration.");
}

const phaseOf = (cluster: SimCluster, m: Any) => get(cluster, R.vmim.storage, m.metadata.name)?.status?.phase;

describe("restart", () => {
  const sim = simPerTest({ manualTime: true });

  it("the old VMI is deleted and a new one is created, scheduled and started, with the VM's and VMI's events", async () => {
    const cluster = sim();
    const old = get(cluster, R.vmi.storage, "fedora-web");
    const vm = get(cluster, R.vm.storage, "fedora-web");
    const res = await simRequest(cluster, "PUT", `${sub}/fedora-web/restart`, { body: {} });
    expect(res.status).toBe(202);
    await runUntil(
      cluster,
      () => {
        const now = get(cluster, R.vmi.storage, "fedora-web");
        return now !== undefined && now.metadata.uid !== old.metadata.uid && now.status.phase === "Running";
      },
      120_000,
    );
    const fresh = get(cluster, R.vmi.storage, "fedora-web");
    expect(fresh.status.nodeName).toMatch(/^node-[123]$/);
    expect(fresh.status.launcherContainerImageVersion).toBe("quay.io/kubevirt/virt-launcher:v1.9.0");
    expect(Object.values(fresh.status.activePods)).toEqual([fresh.status.nodeName]);
    const pods = (cluster.store.list(R.pod.storage, "demo") as Any[]).filter(
      (p) => p.metadata.annotations?.["kubevirt.io/domain"] === "fedora-web",
    );
    expect(pods.map((p) => [p.metadata.labels["kubevirt.io/created-by"], p.status.phase])).toEqual([
      [fresh.metadata.uid, "Running"],
    ]);
    const vmEvents = eventsOf(cluster, vm.metadata.uid).map((e) => [e.reason, e.message]);
    expect(vmEvents.slice(-2)).toEqual([
      [
        "SuccessfulDelete",
        `Stopped the virtual machine by deleting the virtual machine instance ${old.metadata.uid}`,
      ],
      [
        "SuccessfulCreate",
        "Started the virtual machine by creating the new virtual machine instance fedora-web",
      ],
    ]);
    expect(eventsOf(cluster, fresh.metadata.uid).map((e) => e.reason)).toEqual([
      "SuccessfulCreate",
      "Created",
      "Started",
    ]);
    expect(get(cluster, R.vm.storage, "fedora-web").status.printableStatus).toBe("Running");
    for (const object of [fresh, get(cluster, R.vm.storage, "fedora-web")])
      expect(validateKubeVirtObject(object)).toEqual([]);
  });

  it("restart's refusals: a positive grace period, and a halted VM", async () => {
    const cluster = sim();
    const grace = await simRequest(cluster, "PUT", `${sub}/rhel-db/restart`, {
      body: { gracePeriodSeconds: 30 },
    });
    expect([grace.status, grace.json.message]).toEqual([
      400,
      "For force restart, only gracePeriod=0 is supported for now",
    ]);
    cluster.store.patch(R.vm, "demo", "rhel-db", "merge", { spec: { runStrategy: "Halted" } });
    const halted = await simRequest(cluster, "PUT", `${sub}/rhel-db/restart`, { body: {} });
    expect([halted.status, halted.json.message]).toEqual([
      409,
      'Operation cannot be fulfilled on virtualmachine.kubevirt.io "rhel-db": RunStategy Halted does not support manual restart requests',
    ]);
  });
});

describe("scheduling the target", () => {
  const sim = simPerTest({ manualTime: true });

  it("unschedulable: FailedScheduling in the scheduler's words, then after 300 s the pod goes and the migration fails", async () => {
    const cluster = sim();
    const m = await migrate(cluster, "fedora-web", {
      addedNodeSelector: { "kubernetes.io/hostname": "node-9" },
    });
    await runUntil(cluster, () => phaseOf(cluster, m) === "Scheduling");
    await runFor(cluster, 20_000);
    const pod = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
      (p) => p.metadata.labels?.["kubevirt.io/migrationJobUID"] === m.metadata.uid,
    );
    const scheduled = pod.status.conditions.find((c: Any) => c.type === "PodScheduled");
    expect(scheduled).toMatchObject({ status: "False", reason: "Unschedulable" });
    expect(scheduled.message).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    expect(eventsOf(cluster, pod.metadata.uid).map((e) => [e.type, e.reason, e.message])).toContainEqual([
      "Warning",
      "FailedScheduling",
      scheduled.message,
    ]);
    expect(eventsOf(cluster, m.metadata.uid).map((e) => e.reason)).toContain(
      "migrationTargetPodUnschedulable",
    );
    await expectTargetTimedOut(cluster, m, `unschedulable pod demo/${pod.metadata.name}`, 300_000, 302_000);
  });

  it("a migration's addedNodeSelector is its own: the next migration's target pod does not keep it", async () => {
    const cluster = sim();
    const pinned = await migrate(cluster, "fedora-web", {
      addedNodeSelector: { "kubernetes.io/hostname": "node-3" },
    });
    await runUntil(cluster, () => phaseOf(cluster, pinned) === "Succeeded");
    expect(get(cluster, R.vmi.storage, "fedora-web").status.nodeName).toBe("node-3");
    const next = await migrate(cluster, "fedora-web");
    await runUntil(cluster, () => ["Succeeded", "Failed"].includes(phaseOf(cluster, next)));
    const target = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
      (p) => p.metadata.labels?.["kubevirt.io/migrationJobUID"] === next.metadata.uid,
    );
    expect(target.spec.nodeSelector["kubernetes.io/hostname"]).toBeUndefined();
    // The VMI's own selector and KubeVirt's stay.
    expect(target.spec.nodeSelector["kubevirt.io/schedulable"]).toBe("true");
    expect(phaseOf(cluster, next)).toBe("Succeeded");
    expect(get(cluster, R.vmi.storage, "fedora-web").status.nodeName).not.toBe("node-3");
  });

  it("parallel limits: with one migration allowed, the second waits in Pending without an event, then runs", async () => {
    const cluster = sim();
    cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
      spec: { configuration: { migrations: { parallelMigrationsPerCluster: 1 } } },
    });
    const first = await migrate(cluster, "fedora-web");
    await runUntil(cluster, () => phaseOf(cluster, first) === "Scheduling");
    const second = await migrate(cluster, "rhel-db");
    await runFor(cluster, 1000);
    expect(phaseOf(cluster, second)).toBe("Pending");
    expect(eventsOf(cluster, second.metadata.uid)).toEqual([]);
    await runUntil(cluster, () => phaseOf(cluster, first) === "Succeeded", 300_000);
    await runUntil(cluster, () => phaseOf(cluster, second) === "Succeeded", 300_000);
    const done = get(cluster, R.vmim.storage, second.metadata.name);
    expect(stamp(done, "Scheduling")).toBeGreaterThanOrEqual(
      stamp(get(cluster, R.vmim.storage, first.metadata.name), "Succeeded"),
    );
  });
});

describe("failures", () => {
  const withFaults = (faults: FaultSpec[]) => simPerTest({ manualTime: true, faults });

  describe("version skew", () => {
    const sim = withFaults([{ type: "connectionDrop", outdatedSourceOnly: true }]);

    it("an outdated VM's migration fails with `client socket is closed`; the target ran the new launcher; a current VM migrates", async () => {
      const cluster = sim();
      const m = await migrate(cluster, "cirros-test");
      await runUntil(cluster, () => phaseOf(cluster, m) === "Running");
      const target = get(
        cluster,
        R.pod.storage,
        get(cluster, R.vmi.storage, "cirros-test").status.migrationState.targetPod,
      );
      expect(target.spec.containers.find((c: Any) => c.name === "compute").image).toBe(
        "quay.io/kubevirt/virt-launcher:v1.9.0",
      );
      await runUntil(cluster, () => phaseOf(cluster, m) === "Failed", 120_000);
      const vmi = get(cluster, R.vmi.storage, "cirros-test");
      const reason = "virError(Code=1, Domain=10, Message='internal error: client socket is closed')";
      expect(vmi.status.migrationState).toMatchObject({
        failed: true,
        completed: true,
        failureReason: reason,
      });
      expect(vmi.status.migrationState.abortStatus).toBeUndefined();
      expect(eventsOf(cluster, vmi.metadata.uid).map((e) => [e.type, e.reason, e.message])).toContainEqual([
        "Warning",
        "Migrated",
        `VirtualMachineInstance migration uid ${m.metadata.uid} failed. reason:${reason}`,
      ]);
      expect(eventsOf(cluster, m.metadata.uid).map((e) => e.message)).toContain(
        "source node reported migration failed",
      );
      expect(vmi.metadata.labels["kubevirt.io/outdatedLauncherImage"]).toBe("");
      const ok = await migrate(cluster, "fedora-web");
      await runUntil(cluster, () => phaseOf(cluster, ok) === "Succeeded", 120_000);
    });
  });

  describe("connection lost once", () => {
    const sim = withFaults([{ type: "connectionDrop", vm: "rhel-db", times: 1 }]);

    it("the first attempt fails, a retry succeeds", async () => {
      const cluster = sim();
      const first = await migrate(cluster, "rhel-db");
      await runUntil(cluster, () => phaseOf(cluster, first) === "Failed", 120_000);
      const retry = await migrate(cluster, "rhel-db");
      await runUntil(cluster, () => phaseOf(cluster, retry) === "Succeeded", 120_000);
    });
  });

  describe("vif-cache", () => {
    const sim = withFaults([{ type: "vifCache", vm: "win-app" }]);

    it("the target fails to prepare with SyncFailed naming the missing vif-cache file; the migration fails", async () => {
      const cluster = sim();
      const m = await migrate(cluster, "win-app");
      await runUntil(cluster, () => phaseOf(cluster, m) === "Failed", 120_000);
      const vmi = get(cluster, R.vmi.storage, "win-app");
      const synced = eventsOf(cluster, vmi.metadata.uid).find((e) => e.reason === "SyncFailed");
      expect(synced.type).toBe("Warning");
      expect(synced.message).toMatch(
        /^syncing migration target failed: server error\. command SyncMigrationTarget failed: "pre-start pod-setup failed: preparing the pod network failed: open \/proc\/self\/root\/var\/run\/kubevirt-private\/vif-cache-pod[0-9a-f]{11}\.json: no such file or directory"$/,
      );
      expect(eventsOf(cluster, m.metadata.uid).map((e) => e.message)).toContain(
        "Migration failed because target pod shutdown during migration",
      );
    });
  });

  describe("not converging, post-copy and pause (the launcher's monitor, live-migration-source.go)", () => {
    const sim = withFaults([]);

    /** rhel-db (8Gi: 9 units of 10^9 bytes) dirtying 200 MiB/s over a 64 MiB/s cap; 10 s per unit: 90 s allowed. */
    function busyDb(cluster: SimCluster, migrations: Record<string, unknown> = {}): string[] {
      cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
        spec: {
          configuration: {
            migrations: {
              bandwidthPerMigration: "64Mi",
              progressTimeout: 30,
              completionTimeoutPerGiB: 10,
              ...migrations,
            },
          },
        },
      });
      cluster.store.patch(R.vmi, "demo", "rhel-db", "merge", {
        metadata: { annotations: { "sim.kvmig.dev/dirty-rate-mibps": "200" } },
      });
      const source = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
        (p) => p.metadata.annotations?.["kubevirt.io/domain"] === "rhel-db",
      );
      const lines: string[] = [];
      cluster.logs.follow("demo", source.metadata.name, "compute", (line) => line && lines.push(line.text));
      return lines;
    }
    const messagesOf = (lines: string[]) => lines.map((l) => JSON.parse(l).msg as string);
    const stateOf = (cluster: SimCluster) => get(cluster, R.vmi.storage, "rhel-db").status.migrationState;

    it("dirtying faster than the bandwidth is never stuck: aborted at the completion timeout, abortStatus Succeeded", async () => {
      const cluster = sim();
      // progressTimeout 30 s: the simulator's old lowest-so-far rule called it stuck long before 90 s.
      const lines = busyDb(cluster);
      const m = await migrate(cluster, "rhel-db");
      await runUntil(cluster, () => phaseOf(cluster, m) === "Failed", 600_000);
      const state = stateOf(cluster);
      expect(state).toMatchObject({
        failed: true,
        failureReason: "Live migration has been aborted",
        abortStatus: "Succeeded",
      });
      expect(state.abortRequested).toBeUndefined();
      const messages = messagesOf(lines);
      expect(messages).toContain("Aborting migration: not completed after 90 seconds");
      expect(messages.some((msg) => /stuck/.test(msg))).toBe(false);
      expect(messages).toContain("Live migration failed.");
      const ran = (Date.parse(state.endTimestamp) - Date.parse(state.startTimestamp)) / 1000;
      expect(ran).toBeGreaterThanOrEqual(90);
    });

    it("post-copy starts only at the completion timeout, and the VMI says PostCopy from the switch on", async () => {
      const cluster = sim();
      const lines = busyDb(cluster, { allowPostCopy: true });
      const m = await migrate(cluster, "rhel-db");
      await runUntil(cluster, () => stateOf(cluster)?.mode === "PostCopy", 600_000);
      const switched = stateOf(cluster);
      expect(switched.completed).toBeUndefined();
      expect(switched.migrationConfiguration.allowWorkloadDisruption).toBe(true);
      expect(cluster.time.now() - Date.parse(switched.startTimestamp)).toBeGreaterThan(90_000);
      expect(messagesOf(lines)).toContain("Starting post copy mode for migration");
      await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 600_000);
      expect(stateOf(cluster)).toMatchObject({ completed: true, mode: "PostCopy" });
    });

    it("workload disruption without post-copy pauses the guest (mode Paused), and the copy then completes", async () => {
      const cluster = sim();
      // 270 s, then 540 s once paused: time enough to send the 8 GiB at 64 MiB/s with the guest still.
      const lines = busyDb(cluster, { allowWorkloadDisruption: true, completionTimeoutPerGiB: 30 });
      const m = await migrate(cluster, "rhel-db");
      await runUntil(cluster, () => stateOf(cluster)?.mode === "Paused", 600_000);
      expect(stateOf(cluster).completed).toBeUndefined();
      expect(messagesOf(lines)).toContain("Pausing the guest to allow migration to complete");
      expect(messagesOf(lines)).toContain("Signaled pause for rhel-db");
      await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 600_000);
      expect(stateOf(cluster)).toMatchObject({ completed: true, mode: "Paused" });
      expect(stateOf(cluster).failed).toBeUndefined();
    });

    it("a v1.8.2 source launcher (outdated cirros-test) puts the cause in failureReason", async () => {
      const cluster = sim();
      cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
        spec: {
          configuration: { migrations: { bandwidthPerMigration: "16Mi", completionTimeoutPerGiB: 10 } },
        },
      });
      cluster.store.patch(R.vmi, "demo", "cirros-test", "merge", {
        metadata: { annotations: { "sim.kvmig.dev/dirty-rate-mibps": "200" } },
      });
      const m = await migrate(cluster, "cirros-test");
      await runUntil(cluster, () => phaseOf(cluster, m) === "Failed", 600_000);
      expect(get(cluster, R.vmi.storage, "cirros-test").status.migrationState).toMatchObject({
        failed: true,
        failureReason: "Live migration is not completed after 10 seconds and has been aborted",
        abortStatus: "Succeeded",
      });
    });
  });
});

describe("backoff and garbage collection", () => {
  const sim = simPerTest({ manualTime: true, faults: [{ type: "connectionDrop", vm: "rhel-db" }] });

  it("failing evacuations back off 20 s, then 40 s, with MigrationBackoff events on the VMI", async () => {
    const cluster = sim();
    const node = get(cluster, R.vmi.storage, "rhel-db").status.nodeName;
    cluster.store.patch(R.vmi, "demo", "rhel-db", "merge", { status: { evacuationNodeName: node } });
    await runUntil(
      cluster,
      () => migrations(cluster, "rhel-db").filter((m) => m.status?.phase === "Failed").length >= 3,
      900_000,
    );
    const all = migrations(cluster, "rhel-db");
    for (const m of all) {
      expect(m.metadata.generateName).toBe("kubevirt-evacuation-");
      expect(m.metadata.annotations["kubevirt.io/evacuationMigration"]).toBe(node);
    }
    const [a, b, c] = all;
    const firstWait = stamp(b, "Scheduling") - stamp(a, "Failed");
    const secondWait = stamp(c, "Scheduling") - stamp(b, "Failed");
    expect(firstWait).toBeGreaterThanOrEqual(20_000);
    expect(firstWait).toBeLessThanOrEqual(22_000);
    expect(secondWait).toBeGreaterThanOrEqual(40_000);
    expect(secondWait).toBeLessThanOrEqual(42_000);
    const vmi = get(cluster, R.vmi.storage, "rhel-db");
    const backoff = eventsOf(cluster, vmi.metadata.uid).find((e) => e.reason === "MigrationBackoff");
    expect(backoff).toMatchObject({ type: "Warning", message: "backoff migrating vmi demo/rhel-db" });
    expect(backoff.count).toBeGreaterThan(1);
  });

  it("only the newest five finished migrations of a VMI are kept", async () => {
    const cluster = sim();
    for (let i = 0; i < 7; i++) {
      const m = await migrate(cluster, "fedora-web");
      await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 120_000);
    }
    await runFor(cluster, 1000);
    expect(migrations(cluster, "fedora-web")).toHaveLength(5);
  });
});

describe("schema", () => {
  const sim = simPerTest({ manualTime: true });

  it("every KubeVirt object written during a migration, a cancel and a restart validates", async () => {
    const cluster = sim();
    const errors: string[] = [];
    let checked = 0;
    cluster.store.subscribe((change) => {
      if (!change.storage.endsWith(".kubevirt.io")) return;
      checked += 1;
      for (const error of validateKubeVirtObject(change.object))
        errors.push(`${change.object.metadata.name}: ${error}`);
    });
    const m = await migrate(cluster, "win-app");
    await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 120_000);
    const cancelled = await migrate(cluster, "rhel-db");
    await runUntil(cluster, () => phaseOf(cluster, cancelled) === "Scheduling");
    await simRequest(
      cluster,
      "DELETE",
      `/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations/${cancelled.metadata.name}`,
    );
    await simRequest(cluster, "PUT", `${sub}/cirros-test/restart`, { body: {} });
    await runFor(cluster, 60_000);
    expect(errors).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });
});

describe("virt-api's other subresources and the launcher image", () => {
  const sim = simPerTest({ manualTime: true });

  it("stop, then start: the VMI goes away and comes back; each is refused in the wrong state", async () => {
    const cluster = sim();
    const stopped = await simRequest(cluster, "PUT", `${sub}/cirros-test/stop`, { body: {} });
    expect(stopped.status).toBe(202);
    await runUntil(cluster, () => get(cluster, R.vmi.storage, "cirros-test") === undefined, 60_000);
    expect(get(cluster, R.vm.storage, "cirros-test").spec.runStrategy).toBe("Halted");
    const migrateStopped = await simRequest(cluster, "PUT", `${sub}/cirros-test/migrate`, { body: {} });
    expect([migrateStopped.status, migrateStopped.json.message]).toEqual([
      404,
      'virtualmachineinstance.kubevirt.io "cirros-test" not found',
    ]);
    const started = await simRequest(cluster, "PUT", `${sub}/cirros-test/start`, { body: {} });
    expect(started.status).toBe(202);
    await runUntil(
      cluster,
      () => get(cluster, R.vmi.storage, "cirros-test")?.status?.phase === "Running",
      60_000,
    );
    const again = await simRequest(cluster, "PUT", `${sub}/cirros-test/start`, { body: {} });
    expect([again.status, again.json.message]).toEqual([
      409,
      'Operation cannot be fulfilled on virtualmachine.kubevirt.io "cirros-test": VM is already running',
    ]);
    // Started again on the current launcher: no longer outdated.
    expect(
      get(cluster, R.vmi.storage, "cirros-test").metadata.labels["kubevirt.io/outdatedLauncherImage"],
    ).toBeUndefined();
  });

  it("evacuate/cancel clears the VMI's evacuation node; a drain-tainted node refuses it", async () => {
    const cluster = sim();
    const node = get(cluster, R.vmi.storage, "legacy-pvc").status.nodeName;
    cluster.store.patch(R.vmi, "demo", "legacy-pvc", "merge", { status: { evacuationNodeName: node } });
    const cancel = (body: object) =>
      simRequest(cluster, "PUT", `${sub}/legacy-pvc/evacuate/cancel`, { body });
    const missing = await cancel({});
    expect([missing.status, missing.json.message]).toEqual([400, "evacuationNodeName is required"]);
    cluster.store.patch(R.node, undefined, node, "merge", {
      spec: { taints: [{ key: "kubevirt.io/drain", effect: "NoSchedule" }] },
    });
    const tainted = await cancel({ evacuationNodeName: node });
    expect([tainted.status, tainted.json.message]).toEqual([
      400,
      `Node "${node}" has NodeDrainTaintKey "kubevirt.io/drain"`,
    ]);
    cluster.store.patch(R.node, undefined, node, "merge", { spec: { taints: null } });
    expect((await cancel({ evacuationNodeName: node })).status).toBe(200);
    expect(get(cluster, R.vmi.storage, "legacy-pvc").status.evacuationNodeName).toBeUndefined();
  });

  it("a new --launcher-image on virt-controller makes every running VMI outdated, on the VMI and its pod", async () => {
    const cluster = sim();
    const controller = cluster.store.get(R.deployment.storage, "kubevirt", "virt-controller") as Any;
    const container = controller.spec.template.spec.containers[0];
    const args: string[] = [...(container.args ?? [])];
    const at = args.indexOf("--launcher-image");
    expect(at).toBeGreaterThanOrEqual(0);
    args[at + 1] = "quay.io/kubevirt/virt-launcher:v1.9.1";
    container.args = args;
    cluster.store.update(R.deployment, controller);
    await runFor(cluster, 1000);
    const outdated = (cluster.store.list(R.vmi.storage, "demo") as Any[]).filter(
      (v) => v.metadata.labels["kubevirt.io/outdatedLauncherImage"] === "",
    );
    expect(outdated.map((v) => v.metadata.name).sort()).toEqual([
      "cirros-test",
      "fedora-web",
      "legacy-pvc",
      "rhel-db",
      "win-app",
    ]);
    const pods = (cluster.store.list(R.pod.storage, "demo") as Any[]).filter(
      (p) => p.metadata.labels?.["kubevirt.io"] === "virt-launcher",
    );
    expect(pods.every((p) => p.metadata.labels["kubevirt.io/outdatedLauncherImage"] === "")).toBe(true);
  });
});

describe("reproducibility", () => {
  const first = simPerTest({ manualTime: true, seed: 42 });
  const second = simPerTest({ manualTime: true, seed: 42 });

  it("the same seed and the same requests give the same migration: names, nodes, events", async () => {
    const summaries: string[][] = [];
    for (const cluster of [first(), second()]) {
      const m = await migrate(cluster, "rhel-db");
      await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 120_000);
      const vmi = get(cluster, R.vmi.storage, "rhel-db");
      summaries.push([
        m.metadata.name,
        m.metadata.uid,
        vmi.status.nodeName,
        vmi.status.migrationState.targetPod,
        ...eventsOf(cluster, m.metadata.uid).map((e) => `${e.reason}: ${e.message}`),
      ]);
    }
    expect(summaries[1]).toEqual(summaries[0]);
  });
});

describe("workload updates", () => {
  const sim = simPerTest({ manualTime: true });

  it("with LiveMigrate listed, the outdated VMs are migrated onto the current launcher and the CR's count drops to 0", async () => {
    const cluster = sim();
    const kubevirt = () => cluster.store.get(R.kubevirt.storage, "kubevirt", "kubevirt") as Any;
    await runFor(cluster, 1000);
    expect(kubevirt().status.outdatedVirtualMachineInstanceWorkloads).toBe(2);
    // Off by default: nothing moves.
    await runFor(cluster, 60_000);
    expect(cluster.store.list(R.vmim.storage, "demo")).toEqual([]);
    cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
      spec: { workloadUpdateStrategy: { workloadUpdateMethods: ["LiveMigrate"] } },
    });
    await runUntil(cluster, () => kubevirt().status.outdatedVirtualMachineInstanceWorkloads === 0, 600_000);
    const made = cluster.store.list(R.vmim.storage, "demo") as Any[];
    expect(made.map((m) => m.spec.vmiName).sort()).toEqual(["cirros-test", "win-app"]);
    for (const m of made) {
      expect(m.metadata.generateName).toBe("kubevirt-workload-update-");
      expect(m.metadata.annotations).toEqual({ "kubevirt.io/workloadUpdateMigration": "" });
      expect(m.status.phase).toBe("Succeeded");
    }
    const event = eventsOf(cluster, get(cluster, R.vmi.storage, "win-app").metadata.uid).find(
      (e) => e.reason === "SuccessfulCreate" && e.message.includes("automated workload update"),
    );
    expect(event.message).toMatch(
      /^Created Migration kubevirt-workload-update-\w{5} for automated workload update$/,
    );
    expect(
      get(cluster, R.vmi.storage, "win-app").metadata.labels["kubevirt.io/outdatedLauncherImage"],
    ).toBeUndefined();
  });
});

describe("a target whose network cannot be set up", () => {
  const sim = simPerTest({ manualTime: true, faults: [{ type: "targetNetworkSetup", vm: "win-app" }] });

  it("the target stays ContainerCreating with FailedCreatePodSandBox; after 900 s the pending pod goes and the migration fails", async () => {
    const cluster = sim();
    const source = get(cluster, R.vmi.storage, "win-app").status.nodeName;
    const m = await migrate(cluster, "win-app");
    await runUntil(cluster, () => phaseOf(cluster, m) === "Scheduling");
    await runFor(cluster, 60_000);
    const pod = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
      (p) => p.metadata.labels?.["kubevirt.io/migrationJobUID"] === m.metadata.uid,
    );
    expect(pod.status.phase).toBe("Pending");
    expect(pod.status.containerStatuses[0].state.waiting.reason).toBe("ContainerCreating");
    const sandbox = eventsOf(cluster, pod.metadata.uid).find((e) => e.reason === "FailedCreatePodSandBox");
    expect(sandbox.type).toBe("Warning");
    expect(sandbox.source).toEqual({ component: "kubelet", host: pod.spec.nodeName });
    expect(sandbox.message).toMatch(
      /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": .*error adding container to network "vlan-13": failed to find bridge br-vlan-13$/,
    );
    await expectTargetTimedOut(cluster, m, `pending pod demo/${pod.metadata.name}`, 900_000, 932_000);
    // The VM never left its node.
    expect(get(cluster, R.vmi.storage, "win-app").status.nodeName).toBe(source);
  });
});
