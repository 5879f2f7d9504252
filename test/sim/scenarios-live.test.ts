// Each failure scenario, live: the cluster starts from the scenario's data with its faults, a
// migration is started through virt-api over HTTP (or the scenario's own drain acts), and the
// objects, events and log lines it promises appear, on manual simulated time.
import { describe, expect, it, onTestFinished } from "vitest";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { validateKubeVirtObject } from "../helpers/openapi-schema.js";
import { simRequest } from "../helpers/sim.js";
import { runUntil } from "../helpers/sim-time.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

async function scenario(name: string, vms?: number): Promise<SimCluster> {
  const cluster = await startSimCluster({ scenario: name, seed: 7, manualTime: true, vms });
  onTestFinished(() => cluster.close());
  return cluster;
}

async function migrate(cluster: SimCluster, namespace: string, vm: string): Promise<Any> {
  const res = await simRequest(
    cluster,
    "PUT",
    `/apis/subresources.kubevirt.io/v1/namespaces/${namespace}/virtualmachines/${vm}/migrate`,
    { body: {} },
  );
  expect(res.status).toBe(202);
  return newest(cluster, namespace, vm);
}

function newest(cluster: SimCluster, namespace: string, vmi: string): Any {
  return (cluster.store.list(R.vmim.storage, namespace) as Any[])
    .filter((m) => m.spec.vmiName === vmi)
    .sort((a, b) => Number(b.metadata.resourceVersion) - Number(a.metadata.resourceVersion))[0];
}

function phase(cluster: SimCluster, m: Any): string | undefined {
  return (cluster.store.get(R.vmim.storage, m.metadata.namespace, m.metadata.name) as Any)?.status?.phase;
}

function events(cluster: SimCluster, namespace: string, uid: string): Any[] {
  return (cluster.store.list(R.event.storage, namespace) as Any[]).filter(
    (e) => e.involvedObject.uid === uid,
  );
}

function vmi(cluster: SimCluster, namespace: string, name: string): Any {
  return cluster.store.get(R.vmi.storage, namespace, name) as Any;
}

describe("failure scenarios, live", () => {
  it("version-skew: an outdated VM's migration fails with `client socket is closed`, the target on the new launcher", async () => {
    const cluster = await scenario("version-skew");
    const outdated = (cluster.store.list(R.vmi.storage, "prod") as Any[]).filter(
      (v) => v.metadata.labels["kubevirt.io/outdatedLauncherImage"] === "",
    );
    expect(outdated.length).toBeGreaterThan(1);
    const name = outdated[0].metadata.name;
    const m = await migrate(cluster, "prod", name);
    await runUntil(cluster, () => phase(cluster, m) === "Running");
    const target = cluster.store.get(
      R.pod.storage,
      "prod",
      vmi(cluster, "prod", name).status.migrationState.targetPod,
    ) as Any;
    const current = (cluster.store.get(R.deployment.storage, "kubevirt", "virt-controller") as Any).spec
      .template.spec.containers[0].args;
    expect(target.spec.containers.find((c: Any) => c.name === "compute").image).toBe(
      current[current.indexOf("--launcher-image") + 1],
    );
    await runUntil(cluster, () => phase(cluster, m) === "Failed", 300_000);
    const state = vmi(cluster, "prod", name).status.migrationState;
    expect(state.failureReason).toContain("client socket is closed");
    expect(
      events(cluster, "prod", vmi(cluster, "prod", name).metadata.uid).map((e) => [
        e.type,
        e.reason,
        e.message,
      ]),
    ).toContainEqual([
      "Warning",
      "Migrated",
      `VirtualMachineInstance migration uid ${m.metadata.uid} failed. reason:${state.failureReason}`,
    ]);
  });

  it("vif-cache: an earlier failure in the history; each new target fails with SyncFailed and another is made on retry", async () => {
    const cluster = await scenario("vif-cache");
    const before = (cluster.store.list(R.vmim.storage, "telco") as Any[]).filter(
      (m) => m.spec.vmiName === "pbx-gateway",
    );
    expect(before.some((m) => m.status.phase === "Failed")).toBe(true);
    const uid = vmi(cluster, "telco", "pbx-gateway").metadata.uid;
    const syncFailedBefore = events(cluster, "telco", uid).filter((e) => e.reason === "SyncFailed").length;
    expect(syncFailedBefore).toBeGreaterThan(0);
    const targets = new Set<string>();
    for (let attempt = 0; attempt < 2; attempt++) {
      const m = await migrate(cluster, "telco", "pbx-gateway");
      await runUntil(cluster, () => phase(cluster, m) === "Failed", 300_000);
      targets.add(
        String(
          events(cluster, "telco", m.metadata.uid).find((e) => e.reason === "SuccessfulCreate")?.message,
        ),
      );
    }
    expect(targets.size).toBe(2);
    const synced = events(cluster, "telco", uid).filter((e) => e.reason === "SyncFailed");
    expect(synced.reduce((n, e) => n + (e.count ?? 1), 0)).toBeGreaterThan(syncFailedBefore);
    expect(synced.at(-1).message).toMatch(/vif-cache-[a-z0-9]+\.json: no such file or directory"$/);
  });

  it("backoff-loop: the drain's evacuations keep failing, and each new one waits longer (MigrationBackoff)", async () => {
    const cluster = await scenario("backoff-loop");
    const history = (cluster.store.list(R.vmim.storage, "prod") as Any[]).filter(
      (m) => m.spec.vmiName === "erp-db",
    );
    expect(history.length).toBeGreaterThanOrEqual(2);
    expect(
      history.every((m) => m.metadata.annotations["kubevirt.io/evacuationMigration"] !== undefined),
    ).toBe(true);
    const failedBefore = history.filter((m) => m.status.phase === "Failed").length;
    await runUntil(
      cluster,
      () =>
        (cluster.store.list(R.vmim.storage, "prod") as Any[]).filter(
          (m) => m.spec.vmiName === "erp-db" && m.status?.phase === "Failed",
        ).length > failedBefore,
      1_800_000,
    );
    const uid = vmi(cluster, "prod", "erp-db").metadata.uid;
    const backoff = events(cluster, "prod", uid).filter((e) => e.reason === "MigrationBackoff");
    expect(backoff.length).toBeGreaterThan(0);
    expect(backoff[0].message).toBe("backoff migrating vmi prod/erp-db");
  });

  it("unschedulable: the pinned VM's target waits with FailedScheduling, then is deleted after 300 s", async () => {
    const cluster = await scenario("unschedulable");
    const m = await migrate(cluster, "apps", "pinned-app");
    await runUntil(cluster, () => phase(cluster, m) === "Failed", 400_000);
    const messages = events(cluster, "apps", m.metadata.uid).map((e) => e.message);
    expect(
      messages.some((msg) =>
        /^unschedulable pod apps\/virt-launcher-pinned-app-\w+ timeout period exceeded$/.test(msg),
      ),
    ).toBe(true);
    const scheduling = (cluster.store.list(R.event.storage, "apps") as Any[]).filter(
      (e) => e.reason === "FailedScheduling",
    );
    expect(scheduling[0].message).toMatch(/^0\/\d+ nodes are available: /);
  });

  it("not-converging: the busy database dirties faster than the capped bandwidth and is aborted at the completion timeout", async () => {
    const cluster = await scenario("not-converging");
    const m = await migrate(cluster, "data", "busy-db");
    const took = await runUntil(cluster, () => phase(cluster, m) === "Failed", 3_600_000);
    const state = vmi(cluster, "data", "busy-db").status.migrationState;
    expect(state).toMatchObject({
      failureReason: "Live migration has been aborted",
      abortStatus: "Succeeded",
    });
    // 150 s × 9 units of 10^9 bytes, plus the phases before Running.
    expect(took).toBeGreaterThan(1_350_000);
    expect((Date.parse(state.endTimestamp) - Date.parse(state.startTimestamp)) / 1000).toBeGreaterThanOrEqual(
      1350,
    );
  });

  it("queued: more migrations than the limits allow; the rest wait in Pending, then all finish", async () => {
    const cluster = await scenario("queued");
    const started: Any[] = [];
    for (let i = 1; i <= 5; i++) started.push(await migrate(cluster, "batch", `worker-${i}`));
    await runUntil(cluster, () => started.filter((m) => phase(cluster, m) === "Scheduling").length > 0);
    const phases = started.map((m) => phase(cluster, m));
    expect(phases.filter((p) => p === "Pending").length).toBeGreaterThanOrEqual(3);
    await runUntil(cluster, () => started.every((m) => phase(cluster, m) === "Succeeded"), 600_000);
  });

  it("connection-lost: the first attempt fails with a closed socket, the retry succeeds", async () => {
    const cluster = await scenario("connection-lost");
    const first = await migrate(cluster, "shop", "checkout");
    await runUntil(cluster, () => phase(cluster, first) === "Failed", 300_000);
    expect(vmi(cluster, "shop", "checkout").status.migrationState.failureReason).toContain(
      "client socket is closed",
    );
    const retry = await migrate(cluster, "shop", "checkout");
    await runUntil(cluster, () => phase(cluster, retry) === "Succeeded", 300_000);
  });

  it("cpu-mismatch: the host-model VM's target matches no node", async () => {
    const cluster = await scenario("cpu-mismatch");
    const m = await migrate(cluster, "erp", "legacy-erp");
    await runUntil(cluster, () => phase(cluster, m) === "Scheduling");
    await runUntil(
      cluster,
      () =>
        (cluster.store.list(R.event.storage, "erp") as Any[]).some((e) => e.reason === "FailedScheduling"),
      60_000,
    );
    const failed = (cluster.store.list(R.event.storage, "erp") as Any[]).find(
      (e) => e.reason === "FailedScheduling",
    );
    expect(failed.message).toContain("didn't match Pod's node affinity/selector");
    const warning = events(cluster, "erp", vmi(cluster, "erp", "legacy-erp").metadata.uid).find(
      (e) => e.reason === "NoSuitableNodesForHostModelMigration",
    );
    expect(warning.type).toBe("Warning");
    // KubeVirt lists the target pod's cpu-feature and cpu-model-migration keys, sorted.
    expect(warning.message).toMatch(
      /^Migration cannot proceed since no node is suitable to run the required CPU model \/ required features: map\[(cpu-feature\.node\.kubevirt\.io\/[\w-]+:true )+cpu-model-migration\.node\.kubevirt\.io\/Icelake-Server:true\]$/,
    );
    // The target pod asks for node-1's host model and required features, and its CPU vendor.
    const target = (cluster.store.list(R.pod.storage, "erp") as Any[]).find(
      (p) => p.metadata.labels["kubevirt.io/migrationJobUID"] === m.metadata.uid,
    );
    expect(target.spec.nodeSelector).toMatchObject({
      "cpu-model-migration.node.kubevirt.io/Icelake-Server": "true",
      "cpu-feature.node.kubevirt.io/vmx": "true",
      "cpu-vendor.node.kubevirt.io/Intel": "true",
    });
  });

  it("scale: N VMIs over several namespaces, a tenth outdated, all valid", async () => {
    const cluster = await scenario("scale", 1000);
    const all = cluster.store.list(R.vmi.storage) as Any[];
    expect(all).toHaveLength(1000);
    expect(new Set(all.map((v) => v.metadata.namespace)).size).toBeGreaterThan(1);
    const res = await simRequest(
      cluster,
      "GET",
      `/apis/kubevirt.io/v1/virtualmachineinstances?labelSelector=${encodeURIComponent("kubevirt.io/outdatedLauncherImage")}`,
    );
    expect(res.json.items).toHaveLength(100);
    for (const object of all.slice(0, 50)) expect(validateKubeVirtObject(object)).toEqual([]);
  });
});
