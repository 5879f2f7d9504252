// KubeVirt's behaviour in the simulated cluster, through real HTTP on manual simulated time:
// the migrate subresource and the webhooks, a migration from Pending to Succeeded with every
// phase, event and log line the facts file names, cancel before and after hand-off, limits,
// timeouts, backoff, garbage collection, restart, and the failure scenarios' faults.
import { describe, expect, it } from "vitest";
import type { SimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { simPerTest, simRequest } from "../helpers/sim.js";
import { runFor, runUntil, successfulPhases } from "../helpers/sim-time.js";

const demo = "/apis/kubevirt.io/v1/namespaces/demo";
const sub = "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

function vmims(cluster: SimCluster, vmi?: string): Any[] {
  return cluster.store
    .list(R.vmim.storage, "demo")
    .filter((m) => vmi === undefined || (m.spec as { vmiName: string }).vmiName === vmi) as Any[];
}

function vmi(cluster: SimCluster, name: string): Any {
  return cluster.store.get(R.vmi.storage, "demo", name) as Any;
}

function events(cluster: SimCluster, uid: string): { reason: string; message: string; type: string }[] {
  return (cluster.store.list(R.event.storage, "demo") as Any[])
    .filter((e) => e.involvedObject.uid === uid)
    .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
    .map((e) => ({ reason: e.reason, message: e.message, type: e.type }));
}

function phase(m: Any): string {
  return m?.status?.phase ?? "";
}

async function migrate(cluster: SimCluster, vm: string, body: object = {}) {
  return simRequest(cluster, "PUT", `${sub}/${vm}/migrate`, { body });
}

async function startMigration(cluster: SimCluster, vm: string): Promise<Any> {
  const res = await migrate(cluster, vm);
  expect(res.status).toBe(202);
  expect(res.text).toBe("");
  const created = vmims(cluster, vm);
  expect(created).toHaveLength(1);
  return created[0];
}

function current(cluster: SimCluster, m: Any): Any {
  return cluster.store.get(R.vmim.storage, "demo", m.metadata.name) as Any;
}

describe("a migration on the default scenario", () => {
  const sim = simPerTest({ manualTime: true });

  it("reaches Succeeded through every phase in order; the VMI moves, the source pod stays Completed, events and log lines as KubeVirt's", async () => {
    const cluster = sim();
    const before = vmi(cluster, "fedora-web");
    const sourceNode = before.status.nodeName;
    const sourcePod = Object.keys(before.status.activePods)[0];
    const m = await startMigration(cluster, "fedora-web");
    expect(m.metadata.name).toMatch(/^kubevirt-migrate-vm-[a-z0-9]{5}$/);
    expect(m.metadata.labels).toEqual({ "kubevirt.io/vmi-name": "fedora-web" });
    expect(m.metadata.finalizers).toEqual(["kubevirt.io/migrationJobFinalize"]);
    const took = await runUntil(cluster, () => phase(current(cluster, m)) === "Succeeded", 600_000);
    // A 4 GiB VM at about 1 GiB/s: seconds, not minutes, of simulated time.
    expect(took).toBeLessThan(60_000);
    const done = current(cluster, m);
    expect(done.status.phaseTransitionTimestamps.map((p: Any) => p.phase)).toEqual(successfulPhases);
    const after = vmi(cluster, "fedora-web");
    const state = after.status.migrationState;
    expect(after.status.nodeName).not.toBe(sourceNode);
    expect(after.status.nodeName).toBe(state.targetNode);
    expect(after.metadata.labels["kubevirt.io/nodeName"]).toBe(state.targetNode);
    expect(after.metadata.labels["kubevirt.io/migrationTargetNodeName"]).toBeUndefined();
    expect(state).toMatchObject({
      completed: true,
      sourceNode,
      migrationUid: m.metadata.uid,
      mode: "PreCopy",
    });
    expect(state.failed).toBeUndefined();
    expect(done.status.migrationState).toEqual(state);
    expect(Object.values(after.status.activePods)).toEqual([state.targetNode]);
    // The finalizer is gone once final; the source pod stays Completed until the VMIM is
    // garbage-collected (migration.go garbageCollectFinalizedMigrations).
    expect(done.metadata.finalizers).toBeUndefined();
    await runFor(cluster, 5000);
    const source = cluster.store.list(R.pod.storage, "demo").find((p) => p.metadata.uid === sourcePod) as Any;
    expect(source.status.phase).toBe("Succeeded");
    expect(source.metadata.name).toBe(state.sourcePod);
    const target = cluster.store.get(R.pod.storage, "demo", state.targetPod) as Any;
    expect(target.metadata.labels["kubevirt.io/migrationJobUID"]).toBe(m.metadata.uid);
    expect(target.spec.nodeName).toBe(state.targetNode);

    expect(events(cluster, m.metadata.uid)).toEqual([
      {
        type: "Normal",
        reason: "SuccessfulCreate",
        message: `Created migration target pod ${state.targetPod}`,
      },
      {
        type: "Normal",
        reason: "SuccessfulHandOver",
        message: "Migration target pod is ready for preparation by virt-handler.",
      },
      { type: "Normal", reason: "SuccessfulMigration", message: "Source node reported migration succeeded" },
    ]);
    const onVmi = events(cluster, after.metadata.uid).filter((e) => e.reason !== "SuccessfulCreate");
    expect(onVmi.slice(-4)).toEqual([
      {
        type: "Normal",
        reason: "PreparingTarget",
        message: expect.stringMatching(/^Migration Target is listening at [0-9.]+, on ports: \d+,\d+,\d+$/),
      },
      {
        type: "Normal",
        reason: "PreparingTarget",
        message: "VirtualMachineInstance Migration Target Prepared.",
      },
      { type: "Normal", reason: "Migrating", message: "VirtualMachineInstance is migrating." },
      {
        type: "Normal",
        reason: "Migrated",
        message: `The VirtualMachineInstance migrated to node ${state.targetNode}.`,
      },
    ]);
    const podName = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
      (p) => p.metadata.uid === sourcePod,
    )?.metadata.name;
    expect(podName).toBe(state.sourcePod);
  });

  it("the source launcher logs `Migration info for <uid>` every 4 s while the job runs, then its success", async () => {
    const cluster = sim();
    const sourcePodName = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
      (p) => p.metadata.annotations?.["kubevirt.io/domain"] === "rhel-db",
    ).metadata.name;
    const m = await startMigration(cluster, "rhel-db");
    const lines: string[] = [];
    cluster.logs.follow("demo", sourcePodName, "compute", (line) => {
      if (line) lines.push(line.text);
    });
    await runUntil(cluster, () => phase(current(cluster, m)) === "Succeeded", 600_000);
    const info = lines
      .map((l) => JSON.parse(l))
      .filter((l) => String(l.msg).startsWith("Migration info for"));
    expect(info.length).toBeGreaterThan(1);
    for (const line of info) {
      expect(line).toMatchObject({
        component: "virt-launcher",
        level: "info",
        namespace: "demo",
        name: "rhel-db",
      });
      expect(line.msg).toMatch(
        new RegExp(
          `^Migration info for ${m.metadata.uid}: TimeElapsed:\\d+ms DataProcessed:\\d+MiB DataRemaining:\\d+MiB DataTotal:\\d+MiB MemoryProcessed:\\d+MiB MemoryRemaining:\\d+MiB MemoryTotal:\\d+MiB MemoryBandwidth:\\d+Mbps DirtyRate:\\d+Mbps Iteration:\\d+ PostcopyRequests:\\d+ ConstantPages:\\d+ NormalPages:\\d+ NormalData:\\d+MiB ExpectedDowntime:\\d+ms DiskMbps:\\d+$`,
        ),
      );
    }
    const remaining = info.map((l) => Number(/DataRemaining:(\d+)MiB/.exec(l.msg)?.[1]));
    expect(remaining.at(-1)).toBeLessThan(remaining[0] as number);
    // Every 10th poll of 400 ms (startMonitor's logInterval): none at iteration boundaries, and
    // none for the completed job, which is no longer DOMAIN_JOB_UNBOUNDED (live-migration-source.go).
    const elapsed = info.map((l) => Number(/TimeElapsed:(\d+)ms/.exec(l.msg)?.[1]));
    expect(elapsed).toEqual(elapsed.map((_, i) => (i + 1) * 4000));
    const messages = lines.map((l) => JSON.parse(l).msg as string);
    expect(messages.slice(messages.lastIndexOf(info.at(-1).msg) + 1)).toEqual(["Live migration succeeded."]);
  });

  it("an outdated VM lands on the current launcher image and loses the outdated label", async () => {
    const cluster = sim();
    expect(vmi(cluster, "cirros-test").metadata.labels["kubevirt.io/outdatedLauncherImage"]).toBe("");
    const m = await startMigration(cluster, "cirros-test");
    await runUntil(cluster, () => phase(current(cluster, m)) === "Succeeded", 600_000);
    await runFor(cluster, 1000);
    const after = vmi(cluster, "cirros-test");
    expect(after.metadata.labels["kubevirt.io/outdatedLauncherImage"]).toBeUndefined();
    expect(after.status.launcherContainerImageVersion).toBe("quay.io/kubevirt/virt-launcher:v1.9.0");
  });
});

describe("the migrate subresource and the webhooks", () => {
  const sim = simPerTest({ manualTime: true });

  it("404 without the VM, 409 when the VMI is not running, 500 with the webhook's message when it is not live-migratable", async () => {
    const missing = await migrate(sim(), "nope");
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('virtualmachine.kubevirt.io "nope" not found');
    // A restart with every node cordoned leaves the new VMI scheduling.
    for (const node of ["node-1", "node-2", "node-3"]) {
      sim().store.patch(R.node, undefined, node, "merge", { spec: { unschedulable: true } });
    }
    expect((await simRequest(sim(), "PUT", `${sub}/rhel-db/restart`, { body: {} })).status).toBe(202);
    await runFor(sim(), 10_000);
    expect(vmi(sim(), "rhel-db").status.phase).toBe("Scheduling");
    const notRunning = await migrate(sim(), "rhel-db");
    expect(notRunning.status).toBe(409);
    expect(notRunning.json.message).toBe(
      'Operation cannot be fulfilled on virtualmachine.kubevirt.io "rhel-db": VM is not running',
    );
    const pvc = await migrate(sim(), "legacy-pvc");
    expect(pvc.status).toBe(500);
    expect(pvc.json.message).toMatch(
      /^Internal error occurred: admission webhook "migration-create-validator\.kubevirt\.io" denied the request: Cannot migrate VMI, Reason: DisksNotLiveMigratable, Message: cannot migrate VMI: PVC legacy-pvc-data is not shared/,
    );
    expect(vmims(sim())).toEqual([]);
  });

  it("a second migration while one is unfinished: in-flight migration detected, naming the first one's uid", async () => {
    const first = await startMigration(sim(), "fedora-web");
    const second = await migrate(sim(), "fedora-web");
    expect(second.status).toBe(500);
    expect(second.json.message).toBe(
      `Internal error occurred: admission webhook "migration-create-validator.kubevirt.io" denied the request: in-flight migration detected. Active migration job (${first.metadata.uid}) is currently already in progress for VMI fedora-web.`,
    );
    const direct = await simRequest(sim(), "POST", `${demo}/virtualmachineinstancemigrations`, {
      body: { metadata: { name: "mine" }, spec: { vmiName: "fedora-web" } },
    });
    // KubeVirt denies with a plain error: 400, and no reason for kubectl to print.
    expect(direct.status).toBe(400);
    expect(direct.json.reason).toBeUndefined();
    expect(direct.json.message).toMatch(
      /^admission webhook "migration-create-validator\.kubevirt\.io" denied the request: in-flight migration detected\./,
    );
    const priority = await simRequest(sim(), "POST", `${demo}/virtualmachineinstancemigrations`, {
      body: { metadata: { name: "urgent" }, spec: { vmiName: "rhel-db", priority: "system-critical" } },
    });
    expect(priority.json.message).toContain(
      "Migration priority queue, only virt-controller is allowed to set priority field",
    );
    const dry = await migrate(sim(), "rhel-db", { dryRun: ["All"] });
    expect(dry.status).toBe(202);
    expect(vmims(sim(), "rhel-db")).toEqual([]);
  });
});

describe("cancel", () => {
  const sim = simPerTest({ manualTime: true });

  it("before hand-off: the target pod is deleted, the VMIM fails as canceled and disappears; the VMI is untouched", async () => {
    const cluster = sim();
    const m = await startMigration(cluster, "fedora-web");
    await runUntil(cluster, () => phase(current(cluster, m)) === "Scheduling");
    const targetPods = () =>
      cluster.store
        .list(R.pod.storage, "demo")
        .filter((p) => p.metadata.labels?.["kubevirt.io/migrationJobUID"] === m.metadata.uid);
    const podName = targetPods()[0]?.metadata.name;
    expect(podName).toBeDefined();
    const deleted = await simRequest(
      cluster,
      "DELETE",
      `${demo}/virtualmachineinstancemigrations/${m.metadata.name}`,
    );
    expect(deleted.status).toBe(202);
    await runFor(cluster, 2000);
    expect(current(cluster, m)).toBeUndefined();
    expect(targetPods()).toEqual([]);
    expect(events(cluster, m.metadata.uid)).toEqual(
      expect.arrayContaining([
        {
          type: "Normal",
          reason: "SuccessfulDelete",
          message: `migration canceled and pod demo/${podName} is deleted`,
        },
        { type: "Warning", reason: "FailedMigration", message: "Migration failed due to being canceled" },
      ]),
    );
    expect(vmi(cluster, "fedora-web").status.migrationState).toBeUndefined();
  });

  it("after hand-off: the VMI records abortRequested, abortStatus Succeeded and failed; the VMIM goes", async () => {
    const cluster = sim();
    // A slow migration, so that it is still running when the cancel comes.
    cluster.store.patch(R.vmi, "demo", "rhel-db", "merge", {
      metadata: { annotations: { "sim.kvmig.dev/dirty-rate-mibps": "2000" } },
    });
    const m = await startMigration(cluster, "rhel-db");
    await runUntil(cluster, () => phase(current(cluster, m)) === "Running");
    await simRequest(cluster, "DELETE", `${demo}/virtualmachineinstancemigrations/${m.metadata.name}`);
    await runUntil(cluster, () => current(cluster, m) === undefined, 60_000);
    const state = vmi(cluster, "rhel-db").status.migrationState;
    expect(state).toMatchObject({
      abortRequested: true,
      abortStatus: "Succeeded",
      completed: true,
      failed: true,
    });
    expect(events(cluster, m.metadata.uid).map((e) => e.reason)).toEqual(
      expect.arrayContaining(["SuccessfulAbortMigration", "FailedMigration"]),
    );
    expect(events(cluster, vmi(cluster, "rhel-db").metadata.uid)).toContainEqual({
      type: "Normal",
      reason: "Migrating",
      message: "VirtualMachineInstance is aborting migration.",
    });
  });
});
