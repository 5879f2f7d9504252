// Evacuation as KubeVirt v1.9 does it, on manual simulated time: the eviction webhook
// (pod-eviction-admitter.go) marks only VMIs whose strategy wants it, refuses the eviction of a
// migration's target (or an unfinished source) so that a drain waits, and lets a None VMI's pod
// go (the VMI fails, the VM starts it again); the evacuation controller (evacuation.go) migrates
// only VMIs that migrate on eviction (LiveMigrate, or LiveMigrateIfPossible when migratable, with
// LiveMigratable=True), never External or None ones; the workload updater's Evict evicts the
// launcher pods of outdated VMIs in batches; each controller's events carry its own component.
import { describe, expect, it } from "vitest";
import type { SimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { simPerTest, simRequest } from "../helpers/sim.js";
import { runFor, runUntil } from "../helpers/sim-time.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const webhook = 'admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: ';

function vmiOf(cluster: SimCluster, namespace: string, name: string): Any {
  return cluster.store.get(R.vmi.storage, namespace, name) as Any;
}

function migrationsOf(cluster: SimCluster, namespace: string, vmi?: string): Any[] {
  return (cluster.store.list(R.vmim.storage, namespace) as Any[])
    .filter((m) => vmi === undefined || m.spec.vmiName === vmi)
    .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
}

function launcherPods(cluster: SimCluster, namespace: string, vmi: string): Any[] {
  return (cluster.store.list(R.pod.storage, namespace) as Any[]).filter(
    (p) => p.metadata.annotations?.["kubevirt.io/domain"] === vmi,
  );
}

/** The launcher pod the VMI runs in: on its node, not finished. */
function currentPod(cluster: SimCluster, namespace: string, vmi: string): Any {
  const node = vmiOf(cluster, namespace, vmi).status.nodeName;
  return launcherPods(cluster, namespace, vmi).find(
    (p) => p.spec.nodeName === node && !["Succeeded", "Failed"].includes(p.status?.phase),
  );
}

function eventsOn(cluster: SimCluster, namespace: string, uid: string): Any[] {
  return (cluster.store.list(R.event.storage, namespace) as Any[]).filter(
    (e) => e.involvedObject.uid === uid,
  );
}

function evict(cluster: SimCluster, namespace: string, pod: string, annotations?: Record<string, string>) {
  return simRequest(cluster, "POST", `/api/v1/namespaces/${namespace}/pods/${pod}/eviction`, {
    body: {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: pod, namespace, ...(annotations ? { annotations } : {}) },
    },
  });
}

function setStrategy(cluster: SimCluster, namespace: string, vmi: string, strategy: string): void {
  cluster.store.patch(R.vmi, namespace, vmi, "merge", { spec: { evictionStrategy: strategy } });
}

function taint(cluster: SimCluster, node: string): void {
  cluster.store.patch(R.node, undefined, node, "merge", {
    spec: { unschedulable: true, taints: [{ key: "kubevirt.io/drain", effect: "NoSchedule" }] },
  });
}

function phaseOf(cluster: SimCluster, m: Any): string | undefined {
  return (cluster.store.get(R.vmim.storage, m.metadata.namespace, m.metadata.name) as Any)?.status?.phase;
}

describe("the evacuation controller", () => {
  const sim = simPerTest({ manualTime: true });

  it("on a drain-tainted node migrates LiveMigrate VMIs only: not External, not None, not a LiveMigrate VMI that cannot migrate", async () => {
    const cluster = sim();
    // node-2: rhel-db (LiveMigrate) and win-app (made External); node-3: cirros-test (no
    // strategy, and none in the KubeVirt CR: None) and legacy-pvc (LiveMigrate, not migratable).
    setStrategy(cluster, "demo", "win-app", "External");
    taint(cluster, "node-2");
    taint(cluster, "node-3");
    await runFor(cluster, 120_000);
    const made = migrationsOf(cluster, "demo").map((m) => [
      m.spec.vmiName,
      m.metadata.annotations["kubevirt.io/evacuationMigration"],
      m.spec.priority,
    ]);
    expect(made).toEqual([["rhel-db", "node-2", "system-critical"]]);
    for (const name of ["win-app", "cirros-test", "legacy-pvc"]) {
      expect(vmiOf(cluster, "demo", name).status.phase).toBe("Running");
    }
  });

  it("takes the cluster-wide eviction strategy from the KubeVirt CR when the VMI has none", async () => {
    const cluster = sim();
    cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
      spec: { configuration: { evictionStrategy: "LiveMigrate" } },
    });
    taint(cluster, "node-3");
    await runFor(cluster, 60_000);
    expect(migrationsOf(cluster, "demo").map((m) => m.spec.vmiName)).toEqual(["cirros-test"]);
  });

  it("LiveMigrateIfPossible: a migratable VMI is migrated off the tainted node", async () => {
    const cluster = sim();
    setStrategy(cluster, "demo", "rhel-db", "LiveMigrateIfPossible");
    setStrategy(cluster, "demo", "legacy-pvc", "LiveMigrateIfPossible");
    taint(cluster, "node-2");
    taint(cluster, "node-3");
    await runUntil(cluster, () => vmiOf(cluster, "demo", "rhel-db").status.nodeName !== "node-2", 600_000);
    expect(
      migrationsOf(cluster, "demo")
        .map((m) => m.spec.vmiName)
        .sort(),
    ).toEqual(["rhel-db", "win-app"]);
  });

  it("a marked VMI gets its migration from evacuation-controller, and the EvictionRequested condition until it has left", async () => {
    const cluster = sim();
    const pod = currentPod(cluster, "demo", "fedora-web").metadata.name;
    const res = await evict(cluster, "demo", pod);
    expect(res.status).toBe(429);
    await runFor(cluster, 1000);
    const marked = vmiOf(cluster, "demo", "fedora-web");
    expect(marked.status.conditions.find((c: Any) => c.type === "EvictionRequested")).toMatchObject({
      status: "True",
      reason: "EvictionRequested",
      message: "VMI is marked for eviction",
    });
    const [m] = migrationsOf(cluster, "demo", "fedora-web");
    expect(m.metadata.generateName).toBe("kubevirt-evacuation-");
    const created = eventsOn(cluster, "demo", marked.metadata.uid).find(
      (e) => e.reason === "SuccessfulCreate" && e.message.startsWith("Created Migration"),
    );
    expect(created).toMatchObject({
      message: `Created Migration ${m.metadata.name}`,
      source: { component: "evacuation-controller" },
      reportingComponent: "evacuation-controller",
    });
    await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 300_000);
    await runFor(cluster, 1000);
    const left = vmiOf(cluster, "demo", "fedora-web");
    expect(left.status.evacuationNodeName).toBeUndefined();
    expect(left.status.conditions.some((c: Any) => c.type === "EvictionRequested")).toBe(false);
  });

  it("an eviction the descheduler requested: the VMI is annotated and its migration has priority system-maintenance", async () => {
    const cluster = sim();
    const pod = currentPod(cluster, "demo", "fedora-web").metadata.name;
    const res = await evict(cluster, "demo", pod, { "requested-by": "sigs.k8s.io/descheduler" });
    expect(res.status).toBe(429);
    await runFor(cluster, 1000);
    expect(vmiOf(cluster, "demo", "fedora-web").metadata.annotations["kubevirt.io/eviction-source"]).toBe(
      "descheduler",
    );
    expect(migrationsOf(cluster, "demo", "fedora-web").map((m) => m.spec.priority)).toEqual([
      "system-maintenance",
    ]);
  });
});

describe("the eviction webhook", () => {
  const sim = simPerTest({ manualTime: true });

  it("External: the VMI is marked and the eviction refused, but KubeVirt creates no migration", async () => {
    const cluster = sim();
    setStrategy(cluster, "demo", "fedora-web", "External");
    const pod = currentPod(cluster, "demo", "fedora-web").metadata.name;
    const res = await evict(cluster, "demo", pod);
    // An AdmissionResponse Status: code 429, no reason.
    expect(res.json).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `${webhook}Eviction triggered evacuation of VMI "demo/fedora-web"`,
      code: 429,
    });
    await runFor(cluster, 300_000);
    expect(vmiOf(cluster, "demo", "fedora-web").status.evacuationNodeName).toBe("node-1");
    expect(migrationsOf(cluster, "demo")).toEqual([]);
    const again = await evict(cluster, "demo", pod);
    expect([again.status, again.json.message]).toEqual([
      429,
      `${webhook}Evacuation in progress: Eviction triggered evacuation of VMI "demo/fedora-web"`,
    ]);
    expect(currentPod(cluster, "demo", "fedora-web").metadata.name).toBe(pod);
  });

  it("LiveMigrate on a VMI that cannot migrate: refused with the VMI's name only", async () => {
    const cluster = sim();
    const res = await evict(cluster, "demo", currentPod(cluster, "demo", "legacy-pvc").metadata.name);
    expect([res.status, res.json.message]).toEqual([
      429,
      `${webhook}VMI legacy-pvc is configured with an eviction strategy but is not live-migratable`,
    ]);
  });

  it("None (and LiveMigrateIfPossible when the VMI cannot migrate): the pod goes, the VMI fails and the VM starts a new one", async () => {
    const cluster = sim();
    for (const [name, strategy] of [
      ["cirros-test", undefined],
      ["legacy-pvc", "LiveMigrateIfPossible"],
    ] as const) {
      if (strategy) setStrategy(cluster, "demo", name, strategy);
      const before = vmiOf(cluster, "demo", name);
      const pod = currentPod(cluster, "demo", name).metadata.name;
      const res = await evict(cluster, "demo", pod);
      expect(res.status).toBe(201);
      expect(cluster.store.get(R.pod.storage, "demo", pod)).toBeUndefined();
      await runUntil(cluster, () => {
        const now = vmiOf(cluster, "demo", name);
        return (
          now !== undefined && now.metadata.uid !== before.metadata.uid && now.status.phase === "Running"
        );
      });
      const vm = cluster.store.get(R.vm.storage, "demo", name) as Any;
      expect(eventsOn(cluster, "demo", vm.metadata.uid).map((e) => e.message)).toEqual(
        expect.arrayContaining([
          `Stopped the virtual machine by deleting the virtual machine instance ${before.metadata.uid}`,
        ]),
      );
      expect(migrationsOf(cluster, "demo", name)).toEqual([]);
    }
  });

  it("a migration's target pod is not evicted (Eviction request for target Pod, or Evacuation in progress once marked): the drain waits and the migration completes", async () => {
    const cluster = sim();
    const res = await simRequest(
      cluster,
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/migrate",
      { body: {} },
    );
    expect(res.status).toBe(202);
    const [m] = migrationsOf(cluster, "demo", "fedora-web");
    const target = () =>
      launcherPods(cluster, "demo", "fedora-web").find(
        (p) => p.metadata.labels?.["kubevirt.io/migrationJobUID"] === m.metadata.uid,
      );
    await runUntil(cluster, () => target()?.status?.phase === "Running", 120_000);
    const targetName = target().metadata.name;
    const first = await evict(cluster, "demo", targetName);
    expect([first.status, first.json.message]).toEqual([429, `${webhook}Eviction request for target Pod`]);
    // Evicting the source marks the VMI; the target is then refused as an evacuation in progress.
    const source = await evict(cluster, "demo", currentPod(cluster, "demo", "fedora-web").metadata.name);
    expect(source.json.message).toBe(`${webhook}Eviction triggered evacuation of VMI "demo/fedora-web"`);
    const second = await evict(cluster, "demo", targetName);
    expect([second.status, second.json.message]).toEqual([
      429,
      `${webhook}Evacuation in progress: Eviction triggered evacuation of VMI "demo/fedora-web"`,
    ]);
    await runUntil(cluster, () => ["Succeeded", "Failed"].includes(phaseOf(cluster, m) ?? ""), 300_000);
    expect(phaseOf(cluster, m)).toBe("Succeeded");
    expect(vmiOf(cluster, "demo", "fedora-web").status.nodeName).toBe(target().spec.nodeName);
  });

  it("a source launcher that has not finished after its VMI left is refused too; once completed it may go", async () => {
    const cluster = sim();
    const sourcePod = currentPod(cluster, "demo", "fedora-web").metadata.name;
    await simRequest(
      cluster,
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/migrate",
      { body: {} },
    );
    const [m] = migrationsOf(cluster, "demo", "fedora-web");
    await runUntil(cluster, () => phaseOf(cluster, m) === "Succeeded", 300_000);
    // As if its launcher were still shutting down: Running on the node the VMI has left.
    cluster.store.patch(
      R.pod,
      "demo",
      sourcePod,
      "merge",
      { status: { phase: "Running" } },
      { subresource: "status" },
    );
    const refused = await evict(cluster, "demo", sourcePod);
    expect([refused.status, refused.json.message]).toEqual([
      429,
      `${webhook}Eviction request for target Pod`,
    ]);
    cluster.store.patch(
      R.pod,
      "demo",
      sourcePod,
      "merge",
      { status: { phase: "Succeeded" } },
      { subresource: "status" },
    );
    expect((await evict(cluster, "demo", sourcePod)).status).toBe(201);
  });

  it("a launcher pod whose VMI is gone is refused: kubevirt failed getting the vmi", async () => {
    const cluster = sim();
    const pod = currentPod(cluster, "demo", "cirros-test");
    cluster.store.patch(R.pod, "demo", pod.metadata.name, "merge", {
      metadata: { annotations: { "kubevirt.io/domain": "no-such-vmi" } },
    });
    const res = await evict(cluster, "demo", pod.metadata.name);
    expect([res.status, res.json.message]).toEqual([
      429,
      `${webhook}kubevirt failed getting the vmi: virtualmachineinstances.kubevirt.io "no-such-vmi" not found`,
    ]);
  });
});

describe("the workload updater's Evict", () => {
  const sim = simPerTest({ manualTime: true, scenario: "upgrade" });

  it("evicts outdated launchers in batches: LiveMigrate VMIs are evacuated, None VMIs restarted, a LiveMigrate VMI that cannot migrate is refused", async () => {
    const cluster = sim();
    const kubevirt = () => cluster.store.get(R.kubevirt.storage, "kubevirt", "kubevirt") as Any;
    await runFor(cluster, 1000);
    expect(kubevirt().status.outdatedVirtualMachineInstanceWorkloads).toBe(8);
    // ledger cannot migrate (ReadWriteOnce); with LiveMigrate its eviction is refused.
    setStrategy(cluster, "apps", "ledger", "LiveMigrate");
    const before = new Map(
      (cluster.store.list(R.vmi.storage) as Any[]).map((v) => [
        `${v.metadata.namespace}/${v.metadata.name}`,
        v,
      ]),
    );
    cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
      spec: { workloadUpdateStrategy: { workloadUpdateMethods: ["Evict"], batchEvictionSize: 5 } },
    });
    await runUntil(cluster, () => kubevirt().status.outdatedVirtualMachineInstanceWorkloads === 1, 1_800_000);

    const evictions = [...before.values()].flatMap((v) =>
      eventsOn(cluster, v.metadata.namespace, v.metadata.uid)
        .filter((e) => e.reason === "SuccessfulEvict" || e.reason === "FailedEvict")
        .map((e) => ({ vmi: v.metadata.name, ...e })),
    );
    for (const e of evictions) {
      expect(e.source).toEqual({ component: "workload-update-controller" });
      expect(e.reportingComponent).toBe("workload-update-controller");
    }
    // At most five per minute: the first batch, then the rest a minute later.
    const firstAt = Math.min(...evictions.map((e) => Date.parse(e.firstTimestamp)));
    const firstBatch = evictions.filter((e) => Date.parse(e.firstTimestamp) === firstAt);
    expect(firstBatch).toHaveLength(5);
    for (const e of evictions.filter((x) => Date.parse(x.firstTimestamp) !== firstAt)) {
      expect(Date.parse(e.firstTimestamp) - firstAt).toBeGreaterThanOrEqual(60_000);
    }

    // The restarted ones: a new VMI on the current launcher, after a SuccessfulEvict.
    for (const key of ["apps/legacy-bridge", "team-b/build-cache"]) {
      const [namespace = "", name = ""] = key.split("/");
      const old = before.get(key);
      const now = vmiOf(cluster, namespace, name);
      expect(now.metadata.uid).not.toBe(old.metadata.uid);
      expect(now.metadata.labels["kubevirt.io/outdatedLauncherImage"]).toBeUndefined();
      expect(evictions.find((e) => e.vmi === name)).toMatchObject({
        type: "Normal",
        reason: "SuccessfulEvict",
        message: "Initiated eviction of VMI as part of automated workload update: <nil>",
      });
    }
    // The migrated ones: the same VMI, moved by the evacuation controller after the refusal.
    for (const name of ["web-1", "web-2", "api", "worker-1", "worker-2"]) {
      const namespace = name === "worker-2" ? "team-b" : "apps";
      const old = before.get(`${namespace}/${name}`);
      const now = vmiOf(cluster, namespace, name);
      expect(now.metadata.uid).toBe(old.metadata.uid);
      expect(now.metadata.labels["kubevirt.io/outdatedLauncherImage"]).toBeUndefined();
      expect(migrationsOf(cluster, namespace, name).map((m) => Object.keys(m.metadata.annotations))).toEqual([
        ["kubevirt.io/evacuationMigration"],
      ]);
      expect(evictions.find((e) => e.vmi === name)).toMatchObject({
        type: "Warning",
        reason: "FailedEvict",
        message: `Error deleting VMI during automated workload update: ${webhook}Eviction triggered evacuation of VMI "${namespace}/${name}"`,
      });
    }
    // ledger stays, refused at every batch.
    expect(vmiOf(cluster, "apps", "ledger").metadata.uid).toBe(before.get("apps/ledger").metadata.uid);
    expect(evictions.find((e) => e.vmi === "ledger")).toMatchObject({
      type: "Warning",
      reason: "FailedEvict",
      message: `Error deleting VMI during automated workload update: ${webhook}VMI ledger is configured with an eviction strategy but is not live-migratable`,
    });
  });

  it("LiveMigrate: its migrations' events come from workload-update-controller", async () => {
    const cluster = sim();
    cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
      spec: { workloadUpdateStrategy: { workloadUpdateMethods: ["LiveMigrate"] } },
    });
    await runFor(cluster, 1000);
    const events = (cluster.store.list(R.event.storage) as Any[]).filter(
      (e) => e.reason === "SuccessfulCreate" && e.message.endsWith("for automated workload update"),
    );
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.source).toEqual({ component: "workload-update-controller" });
  });
});
