// The maintenance scenarios (issue 22): node-1 runs ten VMs in prod and dev, eight that KubeVirt
// live-migrates on eviction, legacy-rwo that it cannot (a ReadWriteOnce PVC) and pinned-cpu whose
// every migration libvirt on the target refuses (a CPU feature the target lacks). Evicting
// node-1's launchers as a drain does moves the eight through kubevirt-evacuation-* migrations
// within KubeVirt's limits, refuses legacy-rwo every time, and pinned-cpu's attempts fail and back
// off; diagnose names cpu-model-mismatch. maintenance-full has the same node-1 and no room.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { runMain } from "../../src/main.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { loadScenario } from "../../src/sim/scenario.js";
import type { Change } from "../../src/sim/store.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl, Kubectl, outputLines } from "../helpers/kubectl.js";
import { validateKubeVirtObject } from "../helpers/openapi-schema.js";
import { recordRequests, simRequest } from "../helpers/sim.js";
import { runFor, runUntil } from "../helpers/sim-time.js";
import { testContext } from "../helpers/test-context.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const now = Date.UTC(2026, 4, 14, 9, 30, 0);
const migratable = ["api-1", "cache-1", "db-main", "dev-build", "dev-ci", "dev-test", "web-1", "web-2"];
const onNode1 = [...migratable, "legacy-rwo", "pinned-cpu"].sort();
const finalPhases = new Set(["Succeeded", "Failed"]);

function ofKind(objects: readonly unknown[], kind: string): Any[] {
  return objects.filter((o) => (o as Any).kind === kind) as Any[];
}

function condition(vmi: Any, type: string): Any {
  return vmi.status.conditions.find((c: Any) => c.type === type);
}

/** Memory a pod's containers request, in bytes. */
function requestedBytes(pod: Any): number {
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, M: 1e6, k: 1e3 };
  return (pod.spec.containers as Any[]).reduce((sum, c) => {
    const text = String(c.resources?.requests?.memory ?? "0");
    const [, n = "0", unit = ""] = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(text) ?? [];
    return sum + Number(n) * (units[unit] ?? 1);
  }, 0);
}

function allocatableBytes(node: Any): number {
  return Number(/^(\d+)Ki$/.exec(node.status.allocatable.memory)?.[1]) * 1024;
}

describe("the maintenance scenarios", () => {
  it("maintenance: ten VMs on node-1 (eight live-migratable), room on nodes 2-4, KubeVirt's default limits", () => {
    const { data, faults, description } = loadScenario("maintenance", { seed: 42, now });
    expect(description).toMatch(/^node maintenance; node-1 runs ten VMs/);
    const nodes = ofKind(data.objects, "Node");
    expect(nodes.map((n) => n.metadata.name)).toEqual(["node-1", "node-2", "node-3", "node-4"]);
    expect(nodes.every((n) => !n.spec.unschedulable)).toBe(true);
    const vmis = ofKind(data.objects, "VirtualMachineInstance");
    for (const vmi of vmis) expect(validateKubeVirtObject(vmi), vmi.metadata.name).toEqual([]);
    const here = vmis.filter((v) => v.status.nodeName === "node-1");
    expect(here.map((v) => v.metadata.name).sort()).toEqual(onNode1);
    expect(new Set(here.map((v) => v.metadata.namespace))).toEqual(new Set(["prod", "dev"]));
    expect(vmis.some((v) => v.status.nodeName !== "node-1")).toBe(true);
    for (const vmi of here) {
      expect(vmi.spec.evictionStrategy, vmi.metadata.name).toBe("LiveMigrate");
      const live = condition(vmi, "LiveMigratable");
      expect(live.status, vmi.metadata.name).toBe(vmi.metadata.name === "legacy-rwo" ? "False" : "True");
    }
    const legacy = here.find((v) => v.metadata.name === "legacy-rwo");
    expect(legacy.metadata.namespace).toBe("prod");
    expect(condition(legacy, "LiveMigratable")).toMatchObject({
      reason: "DisksNotLiveMigratable",
      message: expect.stringMatching(
        /^cannot migrate VMI: PVC legacy-rwo-rootdisk is not shared, live migration/,
      ),
    });
    const memories = here.map((v) => v.spec.domain.memory.guest as string);
    expect(new Set(memories).size).toBeGreaterThanOrEqual(4);
    const config = ofKind(data.objects, "KubeVirt")[0].spec.configuration.migrations;
    expect(config).toMatchObject({ parallelMigrationsPerCluster: 5, parallelOutboundMigrationsPerNode: 2 });
    expect(faults).toEqual([
      {
        type: "cpuMismatch",
        vm: "prod/pinned-cpu",
        times: undefined,
        features: ["vmx-rdseed-exit", "vmx-tsc-scaling", "vmx-enable-user-wait-pause"],
      },
    ]);
    // Nothing has happened yet.
    expect(ofKind(data.objects, "VirtualMachineInstanceMigration")).toEqual([]);
    // Room: what the launchers on node-1 request fits in what nodes 2-4 have free.
    const pods = ofKind(data.objects, "Pod");
    const free = (node: Any) =>
      allocatableBytes(node) -
      pods.filter((p) => p.spec.nodeName === node.metadata.name).reduce((n, p) => n + requestedBytes(p), 0);
    const needed = pods
      .filter((p) => p.spec.nodeName === "node-1")
      .reduce((n, p) => n + requestedBytes(p), 0);
    expect(nodes.slice(1).reduce((n, node) => n + free(node), 0)).toBeGreaterThan(needed);
    expect(nodes.slice(1).every((node) => free(node) > needed / 2)).toBe(true);
  });

  it("maintenance-full: the same node-1, but nodes 2-4 together lack the memory for its VMs, though each VM fits somewhere", () => {
    const full = loadScenario("maintenance-full", { seed: 42, now }).data;
    const plain = loadScenario("maintenance", { seed: 42, now }).data;
    const node1 = (objects: readonly unknown[]) =>
      ofKind(objects, "VirtualMachineInstance")
        .filter((v) => v.status.nodeName === "node-1")
        .map((v) => [
          v.metadata.namespace,
          v.metadata.name,
          v.spec.domain.memory.guest,
          condition(v, "LiveMigratable").status,
        ]);
    expect(node1(full.objects)).toEqual(node1(plain.objects));
    const pods = ofKind(full.objects, "Pod");
    const nodes = ofKind(full.objects, "Node").filter((n) => n.metadata.name !== "node-1");
    const free = nodes.map(
      (node) =>
        allocatableBytes(node) -
        pods.filter((p) => p.spec.nodeName === node.metadata.name).reduce((n, p) => n + requestedBytes(p), 0),
    );
    const launchers = pods.filter(
      (p) => p.spec.nodeName === "node-1" && p.metadata.labels["kubevirt.io"] === "virt-launcher",
    );
    const needed = launchers.reduce((n, p) => n + requestedBytes(p), 0);
    expect(free.reduce((a, b) => a + b, 0)).toBeLessThan(needed);
    const biggest = Math.max(...launchers.map(requestedBytes));
    expect(Math.max(...free)).toBeGreaterThan(biggest);
  });
});

/** A record of every VMIM change, to check invariants over the whole run, not only the end. */
class MigrationHistory {
  readonly violations: string[] = [];
  maxRunningFromNode1 = 0;
  maxRunning = 0;
  private readonly current = new Map<string, Any>();
  readonly all = new Map<string, Any>();

  constructor(private readonly cluster: SimCluster) {
    for (const m of cluster.store.list(R.vmim.storage) as Any[]) this.current.set(m.metadata.uid, m);
    const stop = cluster.store.subscribe((change: Change) => this.seen(change));
    onTestFinished(stop);
  }

  private seen(change: Change): void {
    if (change.storage !== R.vmim.storage) return;
    const m = change.object as Any;
    this.all.set(m.metadata.uid, m);
    if (change.type === "DELETED") this.current.delete(m.metadata.uid);
    else this.current.set(m.metadata.uid, m);
    const unfinished = [...this.current.values()].filter((v) => !finalPhases.has(v.status?.phase));
    const perVmi = new Map<string, number>();
    for (const v of unfinished) {
      const key = `${v.metadata.namespace}/${v.spec.vmiName}`;
      perVmi.set(key, (perVmi.get(key) ?? 0) + 1);
    }
    for (const [key, n] of perVmi) if (n > 1) this.violations.push(`${n} unfinished migrations of ${key}`);
    // Running in KubeVirt's sense: past Pending, not final (migration.go filterRunningMigrations).
    const running = unfinished.filter((v) => v.status?.phase !== undefined && v.status.phase !== "Pending");
    const fromNode1 = running.filter((v) => this.sourceNode(v) === "node-1");
    this.maxRunning = Math.max(this.maxRunning, running.length);
    this.maxRunningFromNode1 = Math.max(this.maxRunningFromNode1, fromNode1.length);
  }

  private sourceNode(m: Any): string | undefined {
    const vmi = this.cluster.store.get(R.vmi.storage, m.metadata.namespace, m.spec.vmiName) as Any;
    const state = vmi?.status?.migrationState;
    return state?.migrationUid === m.metadata.uid ? state.sourceNode : vmi?.status?.nodeName;
  }
}

function vmi(cluster: SimCluster, namespace: string, name: string): Any {
  return cluster.store.get(R.vmi.storage, namespace, name) as Any;
}

function vmisOn(cluster: SimCluster, node: string): Any[] {
  return (cluster.store.list(R.vmi.storage) as Any[]).filter((v) => v.status?.nodeName === node);
}

function migrationsOf(cluster: SimCluster, namespace: string, name: string): Any[] {
  return (cluster.store.list(R.vmim.storage, namespace) as Any[]).filter((m) => m.spec.vmiName === name);
}

/** Evicts every launcher pod on the node through policy/v1, as one pass of `kubectl drain` does. */
async function evictAll(
  cluster: SimCluster,
  node: string,
): Promise<Map<string, { status: number; message: string }>> {
  const answers = new Map<string, { status: number; message: string }>();
  const pods = (cluster.store.list(R.pod.storage) as Any[]).filter(
    (p) =>
      p.spec.nodeName === node &&
      p.metadata.labels?.["kubevirt.io"] === "virt-launcher" &&
      p.status.phase === "Running",
  );
  for (const pod of pods) {
    const { namespace, name } = pod.metadata;
    const res = await simRequest(cluster, "POST", `/api/v1/namespaces/${namespace}/pods/${name}/eviction`, {
      body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
    });
    answers.set(`${namespace}/${pod.metadata.annotations["kubevirt.io/domain"]}`, {
      status: res.status,
      message: res.json?.message ?? "",
    });
  }
  return answers;
}

async function startMaintenance(): Promise<SimCluster> {
  const cluster = await startSimCluster({ scenario: "maintenance", seed: 7, manualTime: true });
  onTestFinished(() => cluster.close());
  return cluster;
}

describe("the cpuMismatch fault in a scenario file", () => {
  const header = `description: one VM
nodes:
  - { name: node-1, createdAt: 1d }
  - { name: node-2, createdAt: 1d }
namespaces:
  - { name: prod, createdAt: 1d }
kubevirt: { installedAt: 1d }
vms:
  - { name: vm-1, namespace: prod, node: node-1, createdAt: 1h }
`;
  function load(faults: string) {
    const dir = mkdtempSync(join(tmpdir(), "kvmig-scenarios-"));
    writeFileSync(join(dir, "one.yaml"), `${header}faults:\n${faults}`);
    return () => loadScenario("one", { seed: 1, now, dir });
  }

  it("resolves the VM and keeps the features; without features the default nested-virt ones apply", () => {
    expect(
      load("  - { type: cpuMismatch, vm: vm-1, times: 2, features: [avx512f, pku] }\n")().faults,
    ).toEqual([{ type: "cpuMismatch", vm: "prod/vm-1", times: 2, features: ["avx512f", "pku"] }]);
    expect(load("  - { type: cpuMismatch }\n")().faults).toEqual([
      { type: "cpuMismatch", vm: undefined, times: undefined, features: undefined },
    ]);
  });

  it("names the field of a feature that is no feature name, and of an unknown key", () => {
    expect(load("  - { type: cpuMismatch, features: [AVX 512] }\n")).toThrow(
      /faults\[0\]\.features\[0\]: expected a CPU feature name like vmx-rdseed-exit$/,
    );
    expect(load("  - { type: cpuMismatch, atProgress: 0.5 }\n")).toThrow(
      /faults\[0\]\.atProgress: unknown field \(known: type, vm, times, features\)$/,
    );
  });
});

describe("the maintenance scenario, live", () => {
  it("evicting node-1's launchers: the eight move through evacuation migrations within the limits, legacy-rwo is refused, pinned-cpu fails and backs off", async () => {
    const cluster = await startMaintenance();
    const history = new MigrationHistory(cluster);
    const cordon = await simRequest(cluster, "PATCH", "/api/v1/nodes/node-1", {
      body: { spec: { unschedulable: true } },
      contentType: "application/strategic-merge-patch+json",
    });
    expect(cordon.status).toBe(200);
    const first = await evictAll(cluster, "node-1");
    expect([...first.keys()].map((k) => k.split("/")[1]).sort()).toEqual(onNode1);
    for (const [key, answer] of first) {
      expect(answer.status, key).toBe(429);
      expect(answer.message, key).toBe(
        key === "prod/legacy-rwo"
          ? 'admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: VMI legacy-rwo is configured with an eviction strategy but is not live-migratable'
          : `admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: Eviction triggered evacuation of VMI "${key}"`,
      );
    }
    // The drain's retries, every 5 s, until the eight are off node-1 and pinned-cpu failed twice.
    const failedAttempts = () =>
      migrationsOf(cluster, "prod", "pinned-cpu").filter((m) => m.status?.phase === "Failed");
    const movedAll = () =>
      vmisOn(cluster, "node-1")
        .map((v) => v.metadata.name)
        .sort()
        .join() === "legacy-rwo,pinned-cpu";
    const refusals: string[] = [];
    await runUntil(cluster, () => movedAll() && failedAttempts().length >= 2, 600_000);
    for (let pass = 0; pass < 3; pass++) {
      const again = await evictAll(cluster, "node-1");
      refusals.push(again.get("prod/legacy-rwo")?.message ?? "");
      await runFor(cluster, 5_000);
    }
    expect(
      refusals.every((m) =>
        m.endsWith("VMI legacy-rwo is configured with an eviction strategy but is not live-migratable"),
      ),
    ).toBe(true);

    for (const name of migratable) {
      const ns = name.startsWith("dev-") ? "dev" : "prod";
      const ms = migrationsOf(cluster, ns, name);
      expect(
        ms.map((m) => m.status.phase),
        name,
      ).toEqual(["Succeeded"]);
      expect(ms[0].metadata.name, name).toMatch(/^kubevirt-evacuation-/);
      expect(ms[0].metadata.annotations["kubevirt.io/evacuationMigration"]).toBe("node-1");
      expect(vmi(cluster, ns, name).status.nodeName, name).not.toBe("node-1");
    }
    expect(migrationsOf(cluster, "prod", "legacy-rwo")).toEqual([]);
    expect(vmi(cluster, "prod", "legacy-rwo").status.nodeName).toBe("node-1");
    expect(vmi(cluster, "prod", "legacy-rwo").status.evacuationNodeName).toBeUndefined();

    // pinned-cpu: each attempt failed (not stuck), with libvirt's refusal, and the next waited.
    const pinned = vmi(cluster, "prod", "pinned-cpu");
    expect(pinned.status.nodeName).toBe("node-1");
    expect(pinned.status.evacuationNodeName).toBe("node-1");
    const attempts = failedAttempts();
    for (const m of attempts) {
      expect(m.metadata.name).toMatch(/^kubevirt-evacuation-/);
      expect(m.status.phaseTransitionTimestamps.map((t: Any) => t.phase)).toContain("Running");
      expect(m.status.migrationState.failureReason).toBe(
        "virError(Code=9, Domain=31, Message='operation failed: guest CPU doesn't match specification: missing features: vmx-rdseed-exit,vmx-tsc-scaling,vmx-enable-user-wait-pause')",
      );
      expect(m.status.migrationState.targetNode).not.toBe("node-1");
    }
    const events = (cluster.store.list(R.event.storage, "prod") as Any[]).filter(
      (e) => e.involvedObject.uid === pinned.metadata.uid,
    );
    expect(events.filter((e) => e.reason === "MigrationBackoff").map((e) => e.message)).toContain(
      "backoff migrating vmi prod/pinned-cpu",
    );
    expect(
      events.some(
        (e) =>
          e.reason === "Migrated" &&
          e.type === "Warning" &&
          /failed\. reason:virError\(Code=9, Domain=31,/.test(e.message),
      ),
    ).toBe(true);
    // The target launcher logged libvirt's own words.
    const target = attempts[0].status.migrationState.targetPod;
    expect(
      cluster.logs
        .read("prod", target, "compute", {})
        .map((l) => l.text)
        .join("\n"),
    ).toContain("guest CPU doesn't match specification: missing features: vmx-rdseed-exit");

    // Over the whole run: never two unfinished migrations of a VMI, never more than the limits.
    expect(history.violations).toEqual([]);
    expect(history.maxRunningFromNode1).toBe(2);
    expect(history.maxRunning).toBeLessThanOrEqual(5);
  }, 60_000);
});

describe("diagnose on the maintenance scenario", () => {
  async function diagnose(cluster: SimCluster): Promise<Any> {
    const kubeconfig = join(tempDir(), "kubeconfig");
    writeFileSync(kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
    const t = testContext({ env: { HOME: tempDir(), KUBECONFIG: kubeconfig } });
    await runMain(["diagnose", "pinned-cpu", "-n", "prod", "-o", "json"], t.ctx);
    return JSON.parse(t.stdout());
  }

  it("after pinned-cpu's first failed evacuation: cpu-model-mismatch first, with libvirt's missing features", async () => {
    const cluster = await startMaintenance();
    const launcher = (cluster.store.list(R.pod.storage, "prod") as Any[]).find(
      (p) => p.metadata.annotations?.["kubevirt.io/domain"] === "pinned-cpu",
    );
    const evicted = await simRequest(
      cluster,
      "POST",
      `/api/v1/namespaces/prod/pods/${launcher.metadata.name}/eviction`,
      { body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: launcher.metadata.name } } },
    );
    expect(evicted.status).toBe(429);
    await runUntil(cluster, () =>
      migrationsOf(cluster, "prod", "pinned-cpu").some((m) => m.status?.phase === "Failed"),
    );
    const report = await diagnose(cluster);
    const [top] = report.findings;
    expect(top).toMatchObject({ id: "cpu-model-mismatch", confidence: "high" });
    expect(top.summary).toContain(
      "missing on the target: vmx-rdseed-exit, vmx-tsc-scaling, vmx-enable-user-wait-pause",
    );
    // The second attempt waited out KubeVirt's backoff and failed the same way: still the cause.
    await runUntil(
      cluster,
      () =>
        migrationsOf(cluster, "prod", "pinned-cpu").filter((m) => m.status?.phase === "Failed").length === 2,
    );
    const again = await diagnose(cluster);
    expect(again.findings.map((f: Any) => f.id)).toEqual(["cpu-model-mismatch", "migration-backoff"]);
  }, 30_000);
});

const kubectlBinary = findKubectl();
if (!kubectlBinary)
  console.warn("kubectl not found on PATH or in /usr/bin: the kubectl drain test is skipped");

describe.skipIf(!kubectlBinary)("kubectl drain node-1 on the maintenance scenario", () => {
  it("cordons, evicts through policy/v1 and retries the 429s: the eight move, legacy-rwo is refused every time until the drain times out, pinned-cpu fails and backs off", async () => {
    // 50 simulated seconds per wall second: the eight take about 70 simulated seconds; the
    // drain retries every 5 wall seconds (kubectl's own clock).
    const cluster = await startSimCluster({ scenario: "maintenance", seed: 7, speed: 50 });
    onTestFinished(() => cluster.close());
    const history = new MigrationHistory(cluster);
    const requests = recordRequests(cluster);
    const kubectl = new Kubectl(kubectlBinary as string, cluster);
    onTestFinished(() => kubectl.close());
    const launchers = new Map(
      (cluster.store.list(R.pod.storage) as Any[])
        .filter((p) => p.spec.nodeName === "node-1" && p.metadata.labels?.["kubevirt.io"] === "virt-launcher")
        .map((p) => [p.metadata.annotations["kubevirt.io/domain"] as string, p.metadata.name as string]),
    );
    expect([...launchers.keys()].sort()).toEqual(onNode1);

    const result = await kubectl.run([
      "drain",
      "node-1",
      "--ignore-daemonsets",
      "--delete-emptydir-data",
      "--timeout=16s",
    ]);
    const said = outputLines(result.stderr);
    const done = outputLines(result.stdout);
    // legacy-rwo and pinned-cpu never go: the drain gives up at its timeout, naming both pods.
    expect(result.code).toBe(1);
    expect(done[0]).toBe("node/node-1 cordoned");
    expect(done).not.toContain("node/node-1 drained");
    const legacy = launchers.get("legacy-rwo");
    const pinnedPod = launchers.get("pinned-cpu");
    const gaveUp = said.find((line) =>
      line.startsWith('error: unable to drain node "node-1" due to error: ['),
    );
    for (const pod of [legacy, pinnedPod]) {
      expect(gaveUp).toContain(`error when evicting pods/"${pod}" -n "prod": global timeout reached: 16s`);
    }
    expect(said).toContain("There are pending nodes to be drained:");
    const refusalsOf = (pod: string | undefined) =>
      said.filter((line) =>
        line.startsWith(`error when evicting pods/"${pod}" -n "prod" (will retry after 5s): `),
      );
    // Every 5 s, for 16 s: the webhook refused legacy-rwo each time, for the same reason.
    const refusals = refusalsOf(legacy);
    expect(refusals.length).toBeGreaterThanOrEqual(3);
    for (const line of refusals) {
      expect(line).toMatch(
        /admission webhook "virt-launcher-eviction-interceptor\.kubevirt\.io" denied the request: VMI legacy-rwo is configured with an eviction strategy but is not live-migratable$/,
      );
    }
    // pinned-cpu: marked by the first eviction, then "in progress" while its attempts fail.
    const pinnedRefusals = refusalsOf(pinnedPod).map((line) =>
      line.slice(line.indexOf("denied the request: ") + 20),
    );
    expect(pinnedRefusals[0]).toBe('Eviction triggered evacuation of VMI "prod/pinned-cpu"');
    expect(pinnedRefusals.slice(1).length).toBeGreaterThanOrEqual(2);
    for (const text of pinnedRefusals.slice(1)) {
      expect(text).toBe('Evacuation in progress: Eviction triggered evacuation of VMI "prod/pinned-cpu"');
    }
    for (const name of migratable) {
      const ns = name.startsWith("dev-") ? "dev" : "prod";
      expect(said, name).toContain(
        `error when evicting pods/"${launchers.get(name)}" -n "${ns}" (will retry after 5s): admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: Eviction triggered evacuation of VMI "${ns}/${name}"`,
      );
      expect(done, name).toContain(`pod/${launchers.get(name)} evicted`);
    }

    // What the server did: the node cordoned (a PATCH of spec.unschedulable), evictions as
    // policy/v1 Eviction subresource POSTs, each of the eight moved by one evacuation migration.
    expect((cluster.store.get(R.node.storage, undefined, "node-1") as Any).spec.unschedulable).toBe(true);
    expect(
      requests.some(
        (r) => r.method === "PATCH" && r.path.startsWith("/api/v1/nodes/node-1") && r.status === 200,
      ),
    ).toBe(true);
    const evictions = requests.filter((r) => r.method === "POST" && r.path.endsWith("/eviction"));
    expect(evictions.filter((r) => r.path.includes(`/pods/${legacy}/`)).every((r) => r.status === 429)).toBe(
      true,
    );
    expect(new Set(evictions.map((r) => r.status))).toEqual(new Set([201, 429]));
    expect(
      vmisOn(cluster, "node-1")
        .map((v) => v.metadata.name)
        .sort(),
    ).toEqual(["legacy-rwo", "pinned-cpu"]);
    for (const name of migratable) {
      const ns = name.startsWith("dev-") ? "dev" : "prod";
      const ms = migrationsOf(cluster, ns, name);
      expect(
        ms.map((m) => [m.status.phase, m.metadata.annotations["kubevirt.io/evacuationMigration"]]),
        name,
      ).toEqual([["Succeeded", "node-1"]]);
      expect(ms[0].metadata.name).toMatch(/^kubevirt-evacuation-/);
    }
    expect(migrationsOf(cluster, "prod", "legacy-rwo")).toEqual([]);

    // pinned-cpu: attempt after attempt failed, each next one held back longer (20 s, 40 s, ...).
    const attempts = migrationsOf(cluster, "prod", "pinned-cpu").sort(
      (a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp),
    );
    const failed = attempts.filter((m) => m.status?.phase === "Failed");
    expect(failed.length).toBeGreaterThanOrEqual(2);
    const when = (m: Any, phase: string) =>
      Date.parse(
        m.status.phaseTransitionTimestamps.find((t: Any) => t.phase === phase)?.phaseTransitionTimestamp,
      );
    for (let i = 1; i < failed.length; i++) {
      const waited = (when(failed[i], "Scheduling") - when(failed[i - 1], "Failed")) / 1000;
      expect(waited, `attempt ${i + 1}`).toBeGreaterThanOrEqual(20 * 2 ** (i - 1));
    }
    const pinned = vmi(cluster, "prod", "pinned-cpu");
    expect(
      (cluster.store.list(R.event.storage, "prod") as Any[]).some(
        (e) => e.involvedObject.uid === pinned.metadata.uid && e.reason === "MigrationBackoff",
      ),
    ).toBe(true);

    // Over the whole drain: one unfinished migration per VMI at most, at most 2 from node-1.
    expect(history.violations).toEqual([]);
    expect(history.maxRunningFromNode1).toBe(2);
    expect(history.maxRunning).toBeLessThanOrEqual(5);
  }, 60_000);
});
