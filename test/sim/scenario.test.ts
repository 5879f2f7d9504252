// Scenario files: each loads, its KubeVirt objects validate against KubeVirt's OpenAPI schema,
// it is deterministic per seed, and it contains what it promises (the history, the configuration
// and the faults that make its failure happen). Malformed files fail with the file and the field.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  hashedPodInterfaceName,
  launcherPod,
  planVm,
  quantityBytes,
  type VmDescription,
  vmi as vmiObject,
  vm as vmObject,
  vmStamper,
} from "../../src/sim/objects.js";
import { Random } from "../../src/sim/random.js";
import { listScenarios, loadScenario, type Scenario } from "../../src/sim/scenario.js";
import type { SeedData } from "../../src/sim/seed.js";
import { kubeVirtDefinition, validateKubeVirtObject } from "../helpers/openapi-schema.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const now = Date.UTC(2026, 4, 14, 9, 30, 0);
const names = [
  "default",
  "backoff-loop",
  "bridges",
  "connection-lost",
  "cpu-mismatch",
  "history",
  "kind",
  "maintenance",
  "maintenance-full",
  "not-converging",
  "old-release",
  "queued",
  "scale",
  "unschedulable",
  "upgrade",
  "version-skew",
  "vif-cache",
];
const scenarioDir = fileURLToPath(new URL("../../src/sim/scenarios/", import.meta.url));

const loaded = new Map<string, Scenario>();
function scenario(name: string): Scenario {
  let found = loaded.get(name);
  if (!found) {
    found = loadScenario(name, { seed: 42, now });
    loaded.set(name, found);
  }
  return found;
}

function ofKind(data: SeedData, kind: string): Any[] {
  return data.objects.filter((o) => o.kind === kind) as Any[];
}

function named(data: SeedData, kind: string, name: string): Any {
  const found = ofKind(data, kind).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

function eventsOn(data: SeedData, object: Any): Any[] {
  return ofKind(data, "Event").filter((e) => e.involvedObject.uid === object.metadata.uid);
}

function podOf(data: SeedData, vmi: Any): Any {
  const pod = ofKind(data, "Pod").find(
    (p) => p.metadata.labels?.["kubevirt.io/created-by"] === vmi.metadata.uid,
  );
  if (!pod) throw new Error(`no pod for ${vmi.metadata.name}`);
  return pod;
}

const outdatedLabel = "kubevirt.io/outdatedLauncherImage";
const isOutdated = (o: Any) => o.metadata.labels?.[outdatedLabel] !== undefined;

function phaseTime(vmim: Any, phase: string): number {
  const stamp = vmim.status.phaseTransitionTimestamps.find((p: Any) => p.phase === phase);
  if (!stamp) throw new Error(`${vmim.metadata.name} never was ${phase}`);
  return Date.parse(stamp.phaseTransitionTimestamp);
}

function nodeLabels(data: SeedData): Map<string, Record<string, string>> {
  return new Map(ofKind(data, "Node").map((n) => [n.metadata.name, n.metadata.labels]));
}

describe("listScenarios", () => {
  it("names exactly the thirteen scenarios, default first, each with a one-line description", () => {
    const list = listScenarios();
    expect(list.map((s) => s.name)).toEqual(names);
    for (const { description } of list) {
      expect(description.length).toBeGreaterThan(10);
      expect(description).not.toContain("\n");
    }
  });
});

describe.each(names)("scenario %s", (name) => {
  it("loads, and every KubeVirt object validates against KubeVirt's OpenAPI schema", () => {
    const { data, description } = scenario(name);
    expect(description).toBe(listScenarios().find((s) => s.name === name)?.description);
    const kubevirt = data.objects.filter((o) => kubeVirtDefinition(o) !== undefined);
    expect(kubevirt.length).toBeGreaterThan(4);
    for (const object of kubevirt) {
      const id = `${object.kind} ${(object as Any).metadata.name}`;
      expect({ id, errors: validateKubeVirtObject(object) }).toEqual({ id, errors: [] });
    }
  });

  it("has unique names and uids, objects in existing namespaces, and nothing after now", () => {
    const { data } = scenario(name);
    const objects = data.objects as Any[];
    const keys = objects.map(
      (o) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`,
    );
    expect(new Set(keys).size).toBe(keys.length);
    const uids = objects.map((o) => o.metadata.uid);
    expect(new Set(uids).size).toBe(uids.length);
    const namespaces = new Set(ofKind(data, "Namespace").map((ns) => ns.metadata.name));
    for (const o of objects) {
      if (o.metadata.namespace !== undefined) expect(namespaces).toContain(o.metadata.namespace);
      expect(Date.parse(o.metadata.creationTimestamp)).toBeLessThanOrEqual(now);
      expect(o.metadata.resourceVersion).toBeUndefined();
    }
    for (const e of ofKind(data, "Event")) {
      expect(Date.parse(e.lastTimestamp)).toBeLessThanOrEqual(now);
      expect(uids).toContain(e.involvedObject.uid);
    }
    for (const log of data.logs) {
      for (const line of log.lines) expect(line.time).toBeLessThanOrEqual(now);
    }
  });

  it("is deterministic for a seed", () => {
    const again = loadScenario(name, { seed: 42, now, vms: name === "scale" ? 60 : undefined });
    const twice = loadScenario(name, { seed: 42, now, vms: name === "scale" ? 60 : undefined });
    expect(twice).toEqual(again);
    const other = loadScenario(name, { seed: 43, now, vms: name === "scale" ? 60 : undefined });
    const uids = new Set(again.data.objects.map((o) => (o as Any).metadata.uid));
    expect(other.data.objects.filter((o) => uids.has((o as Any).metadata.uid))).toEqual([]);
  });
});

describe("the default scenario", () => {
  const { data, faults } = scenario("default");

  it("has no automated workload updates, so outdated VMs stay outdated until someone acts; no faults", () => {
    const kv = named(data, "KubeVirt", "kubevirt");
    expect(kv.spec.workloadUpdateStrategy).toEqual({
      batchEvictionInterval: "1m0s",
      batchEvictionSize: 10,
      workloadUpdateMethods: [],
    });
    expect(faults).toEqual([]);
  });

  it("has the five demo VMs, cirros-test and win-app outdated, legacy-pvc not live-migratable", () => {
    const vmis = ofKind(data, "VirtualMachineInstance");
    expect(vmis.map((v) => v.metadata.name)).toEqual([
      "fedora-web",
      "rhel-db",
      "cirros-test",
      "win-app",
      "legacy-pvc",
    ]);
    expect(vmis.filter(isOutdated).map((v) => v.metadata.name)).toEqual(["cirros-test", "win-app"]);
    const live = (vmi: Any) => vmi.status.conditions.find((c: Any) => c.type === "LiveMigratable");
    expect(live(named(data, "VirtualMachineInstance", "legacy-pvc"))).toMatchObject({
      status: "False",
      reason: "DisksNotLiveMigratable",
    });
    expect(named(data, "KubeVirt", "kubevirt").status.outdatedVirtualMachineInstanceWorkloads).toBe(2);
  });
});

describe("the version-skew scenario", () => {
  const { data, faults } = scenario("version-skew");

  it("has finished upgrading, with VMs still on the old launcher", () => {
    const kv = named(data, "KubeVirt", "kubevirt");
    expect(kv.status.phase).toBe("Deployed");
    expect(kv.status.observedDeploymentID).toBe(kv.status.targetDeploymentID);
    expect(kv.status.observedKubeVirtVersion).toBe("v1.9.0");
    const outdated = ofKind(data, "VirtualMachineInstance").filter(isOutdated);
    expect(outdated.length).toBeGreaterThanOrEqual(3);
    expect(kv.status.outdatedVirtualMachineInstanceWorkloads).toBe(outdated.length);
    for (const vmi of outdated) {
      expect(vmi.status.launcherContainerImageVersion).toBe("quay.io/kubevirt/virt-launcher:v1.8.2");
    }
    const controller = named(data, "Deployment", "virt-controller");
    const args = controller.spec.template.spec.containers[0].args as string[];
    expect(args[args.indexOf("--launcher-image") + 1]).toBe("quay.io/kubevirt/virt-launcher:v1.9.0");
  });

  it("makes migrations from an outdated launcher drop their libvirt connection", () => {
    expect(faults).toEqual([{ type: "connectionDrop", outdatedSourceOnly: true }]);
  });

  it("remembers one such failure: client socket is closed in failureReason and the Migrated warning", () => {
    const [vmim, ...rest] = ofKind(data, "VirtualMachineInstanceMigration");
    expect(rest).toEqual([]);
    expect(vmim.status.phase).toBe("Failed");
    expect(vmim.status.migrationState.failureReason).toBe(
      "virError(Code=1, Domain=10, Message='internal error: client socket is closed')",
    );
    const vmi = named(data, "VirtualMachineInstance", vmim.spec.vmiName);
    expect(isOutdated(vmi)).toBe(true);
    expect(vmi.status.migrationState).toMatchObject({
      migrationUid: vmim.metadata.uid,
      failed: true,
      completed: true,
    });
    expect(eventsOn(data, vmi)).toContainEqual(
      expect.objectContaining({
        type: "Warning",
        reason: "Migrated",
        message: `VirtualMachineInstance migration uid ${vmim.metadata.uid} failed. reason:virError(Code=1, Domain=10, Message='internal error: client socket is closed')`,
        source: { component: "virt-handler", host: vmi.status.nodeName },
      }),
    );
    expect(eventsOn(data, vmim).map((e) => e.reason)).toEqual([
      "SuccessfulCreate",
      "SuccessfulHandOver",
      "FailedMigration",
    ]);
    const log = data.logs.find((l) => l.pod === podOf(data, vmi).metadata.name);
    const messages = log?.lines.map((l) => JSON.parse(l.text).msg as string) ?? [];
    expect(messages).toContain("Initiating live migration.");
    expect(messages.some((m) => m.startsWith(`Migration info for ${vmim.metadata.uid}: TimeElapsed:`))).toBe(
      true,
    );
    expect(messages.at(-1)).toBe("Live migration failed.");
  });
});

describe("the vif-cache scenario", () => {
  const { data, faults } = scenario("vif-cache");
  const vmi = named(data, "VirtualMachineInstance", "pbx-gateway");

  it("has a VM bridge-bound to a Multus network with its NetworkAttachmentDefinition", () => {
    expect(vmi.spec.domain.devices.interfaces).toContainEqual({ bridge: {}, name: "voice" });
    expect(vmi.spec.networks).toContainEqual({ multus: { networkName: "vlan-200" }, name: "voice" });
    expect(named(data, "NetworkAttachmentDefinition", "vlan-200").metadata.namespace).toBe("telco");
  });

  it("remembers failed migrations with the SyncFailed vif-cache error of facts §h", () => {
    const failed = ofKind(data, "VirtualMachineInstanceMigration").filter(
      (m) => m.spec.vmiName === "pbx-gateway" && m.status.phase === "Failed",
    );
    expect(failed.length).toBeGreaterThanOrEqual(1);
    const iface = hashedPodInterfaceName("voice");
    const syncFailed = eventsOn(data, vmi).find((e) => e.reason === "SyncFailed");
    expect(syncFailed).toMatchObject({
      type: "Warning",
      message: `syncing migration target failed: server error. command SyncMigrationTarget failed: "pre-start pod-setup failed: preparing the pod network failed: open /proc/self/root/var/run/kubevirt-private/vif-cache-${iface}.json: no such file or directory"`,
      source: { component: "virt-handler", host: failed[0].status.migrationState.targetNode },
      count: failed.length,
    });
    for (const vmim of failed) {
      expect(vmim.status.phaseTransitionTimestamps.map((p: Any) => p.phase)).toEqual([
        "Pending",
        "Scheduling",
        "Scheduled",
        "PreparingTarget",
        "Failed",
      ]);
      expect(eventsOn(data, vmim)).toContainEqual(
        expect.objectContaining({
          type: "Warning",
          reason: "FailedMigration",
          message: "Migration failed because target pod shutdown during migration",
        }),
      );
    }
    expect(faults).toEqual([{ type: "vifCache", vm: "telco/pbx-gateway" }]);
  });
});

describe("the backoff-loop scenario", () => {
  const { data, faults } = scenario("backoff-loop");

  it("drains a node: cordoned, with the drain taint, and the VMI marked for evacuation", () => {
    const drained = ofKind(data, "Node").filter((n) => n.spec.unschedulable === true);
    expect(drained.map((n) => n.metadata.name)).toEqual(["node-3"]);
    expect(drained[0].spec.taints).toContainEqual({ key: "kubevirt.io/drain", effect: "NoSchedule" });
    const vmi = named(data, "VirtualMachineInstance", "erp-db");
    expect(vmi.status.evacuationNodeName).toBe("node-3");
    expect(vmi.status.nodeName).toBe("node-3");
  });

  it("has failed evacuation migrations spaced by the backoff, and MigrationBackoff warnings", () => {
    const vmi = named(data, "VirtualMachineInstance", "erp-db");
    const attempts = ofKind(data, "VirtualMachineInstanceMigration")
      .filter((m) => m.spec.vmiName === "erp-db")
      .sort((a, b) => phaseTime(a, "Pending") - phaseTime(b, "Pending"));
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    for (const m of attempts) {
      expect(m.metadata.name).toMatch(/^kubevirt-evacuation-[a-z0-9]{5}$/);
      expect(m.metadata.annotations).toEqual({ "kubevirt.io/evacuationMigration": "node-3" });
      expect(m.spec.priority).toBe("system-critical");
      expect(m.status.phase).toBe("Failed");
    }
    const failedAt = attempts.map((m) => phaseTime(m, "Failed"));
    for (let i = 1; i < attempts.length; i++) {
      expect(failedAt[i]).toBeGreaterThan(failedAt[i - 1] as number);
      // Held Pending for 20 s, 40 s, 80 s after the previous failure (second-precision timestamps).
      const wait = phaseTime(attempts[i], "Scheduling") - (failedAt[i - 1] as number);
      const backoff = 20_000 * 2 ** (i - 1);
      expect(wait).toBeGreaterThanOrEqual(backoff - 1_000);
      expect(wait).toBeLessThanOrEqual(backoff + 1_000);
    }
    const backoff = eventsOn(data, vmi).filter((e) => e.reason === "MigrationBackoff");
    expect(backoff).toEqual([
      expect.objectContaining({
        type: "Warning",
        message: "backoff migrating vmi prod/erp-db",
        count: attempts.length - 1,
      }),
    ]);
    expect(faults).toEqual([{ type: "connectionDrop", vm: "prod/erp-db" }]);
  });
});

describe("the unschedulable scenario", () => {
  const { data } = scenario("unschedulable");
  const labels = nodeLabels(data);

  it("pins a VM with a nodeSelector that only its own node matches", () => {
    const vmi = named(data, "VirtualMachineInstance", "pinned-app");
    const selector = podOf(data, vmi).spec.nodeSelector as Record<string, string>;
    const matching = [...labels].filter(([, l]) => Object.entries(selector).every(([k, v]) => l[k] === v));
    expect(matching.map(([n]) => n)).toEqual([vmi.status.nodeName]);
  });

  it("has a VM no other node has the memory for", () => {
    const vmi = named(data, "VirtualMachineInstance", "big-mem");
    const request = (pod: Any) => quantityBytes(pod.spec.containers[0].resources.requests.memory);
    const needed = request(podOf(data, vmi));
    for (const node of ofKind(data, "Node").filter((n) => n.metadata.name !== vmi.status.nodeName)) {
      const allocatable = quantityBytes(node.status.allocatable.memory);
      const used = ofKind(data, "Pod")
        .filter((p) => p.spec.nodeName === node.metadata.name)
        .reduce((sum, p) => sum + request(p), 0);
      expect(allocatable - used).toBeLessThan(needed);
    }
  });

  it("remembers a migration that failed after the 5-minute unschedulable timeout", () => {
    const [vmim] = ofKind(data, "VirtualMachineInstanceMigration");
    expect(vmim.status.phaseTransitionTimestamps.map((p: Any) => p.phase)).toEqual([
      "Pending",
      "Scheduling",
      "Failed",
    ]);
    expect(phaseTime(vmim, "Failed") - phaseTime(vmim, "Scheduling")).toBeGreaterThanOrEqual(300_000);
    expect(eventsOn(data, vmim).map((e) => e.reason)).toEqual([
      "SuccessfulCreate",
      "migrationTargetPodUnschedulable",
      "SuccessfulDelete",
      "FailedMigration",
    ]);
  });
});

describe("the old-release scenario (KubeVirt v1.1.1)", () => {
  const { data } = scenario("old-release");

  it("remembers reports' aborted attempt with its cause in the reason, as launchers before v1.9 give it", () => {
    const [vmim] = ofKind(data, "VirtualMachineInstanceMigration");
    const reason = "Live migration is not completed after 750 seconds and has been aborted";
    expect(vmim.status.migrationState).toMatchObject({ failed: true, abortStatus: "Succeeded" });
    // No failureReason field before v1.3.0: virt-handler's Migrated event carries the reason.
    expect(vmim.status.migrationState.failureReason).toBeUndefined();
    const events = ofKind(data, "Event").filter((e) => e.reason === "Migrated" && e.type === "Warning");
    expect(events.map((e) => e.message)).toEqual([
      `VirtualMachineInstance migration uid ${vmim.metadata.uid} failed. reason:${reason}`,
    ]);
    const vmi = named(data, "VirtualMachineInstance", "reports");
    const log = data.logs.find((l) => l.pod === podOf(data, vmi).metadata.name);
    const messages = log?.lines.map((l) => JSON.parse(l.text).msg as string) ?? [];
    expect(messages).toContain(`Live migration abort detected with reason: ${reason}`);
    expect(messages.some((m) => m.startsWith("Aborting migration:"))).toBe(false);
  });

  it("has v1.1.1 launchers log the progress line in MiB with 'Mbps' 64 times too small", () => {
    const vmi = named(data, "VirtualMachineInstance", "reports");
    const pod = podOf(data, vmi);
    expect(pod.spec.containers.find((c: Any) => c.name === "compute").image).toBe(
      "quay.io/kubevirt/virt-launcher:v1.1.1",
    );
    const log = data.logs.find((l) => l.pod === pod.metadata.name);
    const info = (log?.lines ?? [])
      .map((l) => JSON.parse(l.text).msg as string)
      .filter((m) => m.startsWith("Migration info for "));
    expect(info.length).toBeGreaterThan(100);
    // The 64 MiB/s cap is 536 true Mbps; v1.0.1–v1.2.0 print bytes/s ÷ 8 ÷ 10^6.
    for (const m of info) expect(m).toMatch(/ MemoryBandwidth:[78]Mbps DirtyRate:1[4-6]Mbps /);
  });
});

describe("the not-converging scenario", () => {
  const { data } = scenario("not-converging");

  it("caps the bandwidth below a VM's dirty rate", () => {
    const kv = named(data, "KubeVirt", "kubevirt");
    expect(kv.spec.configuration.migrations.bandwidthPerMigration).toBe("64Mi");
    const vmi = named(data, "VirtualMachineInstance", "busy-db");
    expect(Number(vmi.metadata.annotations["sim.kvmig.dev/dirty-rate-mibps"])).toBeGreaterThan(64);
  });

  it("remembers an attempt aborted at the completion timeout (never stuck), with the launcher's reason in its log", () => {
    const [vmim] = ofKind(data, "VirtualMachineInstanceMigration");
    expect(vmim.status.migrationState).toMatchObject({
      failureReason: "Live migration has been aborted",
      abortStatus: "Succeeded",
    });
    expect(vmim.status.migrationState.abortRequested).toBeUndefined();
    expect(vmim.status.migrationState.migrationConfiguration.bandwidthPerMigration).toBe("64Mi");
    const vmi = named(data, "VirtualMachineInstance", "busy-db");
    const log = data.logs.find((l) => l.pod === podOf(data, vmi).metadata.name);
    const messages = log?.lines.map((l) => JSON.parse(l.text).msg as string) ?? [];
    // 8Gi is 9 units of 10^9 bytes × completionTimeoutPerGiB 150.
    expect(messages).toContain("Aborting migration: not completed after 1350 seconds");
    expect(messages.some((m) => /stuck/.test(m))).toBe(false);
    const { startTimestamp, endTimestamp } = vmim.status.migrationState;
    expect((Date.parse(endTimestamp) - Date.parse(startTimestamp)) / 1000).toBeGreaterThanOrEqual(1350);
  });

  it("matches a MigrationPolicy that allows auto-converge to the batch VM", () => {
    const policy = named(data, "MigrationPolicy", "batch-auto-converge");
    expect(policy.spec).toEqual({
      allowAutoConverge: true,
      selectors: { virtualMachineInstanceSelector: { app: "batch" } },
    });
    expect(named(data, "VirtualMachineInstance", "batch-worker").metadata.labels.app).toBe("batch");
  });
});

describe("the queued, connection-lost and cpu-mismatch scenarios", () => {
  it("queued: more live-migratable VMs than the parallel limits allow at once", () => {
    const { data } = scenario("queued");
    const migrations = named(data, "KubeVirt", "kubevirt").spec.configuration.migrations;
    expect(migrations.parallelMigrationsPerCluster).toBeLessThanOrEqual(2);
    expect(migrations.parallelOutboundMigrationsPerNode).toBe(1);
    const migratable = ofKind(data, "VirtualMachineInstance").filter((v) =>
      v.status.conditions.some((c: Any) => c.type === "LiveMigratable" && c.status === "True"),
    );
    expect(migratable.length).toBeGreaterThan(2 * migrations.parallelMigrationsPerCluster);
  });

  it("connection-lost: one dropped connection for one VM", () => {
    const { data, faults } = scenario("connection-lost");
    expect(faults).toEqual([{ type: "connectionDrop", vm: "shop/checkout", atProgress: 0.5, times: 1 }]);
    expect(named(data, "VirtualMachineInstance", "checkout").status.phase).toBe("Running");
  });

  it("cpu-mismatch: a host-model VM on the only node of its host CPU model", () => {
    const { data } = scenario("cpu-mismatch");
    const vmi = named(data, "VirtualMachineInstance", "legacy-erp");
    expect(vmi.spec.domain.cpu.model).toBe("host-model");
    // KubeVirt puts no host-model key on the first launcher pod; its migration targets get them.
    const selector = podOf(data, vmi).spec.nodeSelector as Record<string, string>;
    expect(Object.keys(selector).filter((k) => /host-model|cpu-model-migration|cpu-feature/.test(k))).toEqual(
      [],
    );
    const labels = nodeLabels(data);
    expect(labels.get(vmi.status.nodeName)?.["host-model-cpu.node.kubevirt.io/Icelake-Server"]).toBe("true");
    const offering = [...labels].filter(
      ([, l]) => l["cpu-model-migration.node.kubevirt.io/Icelake-Server"] === "true",
    );
    expect(offering.map(([n]) => n)).toEqual([vmi.status.nodeName]);
    // Every node can take the features its own host model requires.
    for (const [, l] of labels) {
      for (const key of Object.keys(l).filter((k) =>
        k.startsWith("host-model-required-features.node.kubevirt.io/"),
      )) {
        expect(l[`cpu-feature.node.kubevirt.io/${key.slice(key.indexOf("/") + 1)}`]).toBe("true");
      }
    }
    const portable = podOf(data, named(data, "VirtualMachineInstance", "portable-app")).spec.nodeSelector;
    const everywhere = [...labels].filter(([, l]) =>
      Object.entries(portable as Record<string, string>).every(([k, v]) => l[k] === v),
    );
    expect(everywhere).toHaveLength(3);
  });
});

describe("the scale scenario", () => {
  const { data } = loadScenario("scale", { seed: 5, now, vms: 1000 });

  it("has N VMIs spread over several namespaces and nodes, a tenth outdated", () => {
    const vmis = ofKind(data, "VirtualMachineInstance");
    expect(vmis).toHaveLength(1000);
    expect(ofKind(data, "VirtualMachine")).toHaveLength(1000);
    expect(ofKind(data, "Pod")).toHaveLength(1000);
    const namespaces = new Set(vmis.map((v) => v.metadata.namespace));
    expect(namespaces.size).toBe(20);
    expect(new Set(vmis.map((v) => v.status.nodeName)).size).toBe(20);
    expect(vmis.filter(isOutdated)).toHaveLength(100);
    expect(ofKind(data, "Pod").filter(isOutdated)).toHaveLength(100);
    expect(named(data, "KubeVirt", "kubevirt").status.outdatedVirtualMachineInstanceWorkloads).toBe(100);
    const ips = ofKind(data, "Pod").map((p) => p.status.podIP);
    expect(new Set(ips).size).toBe(ips.length);
    expect(data.logs).toHaveLength(1000);
  });

  it("links each VM, VMI and launcher pod, and validates a sample", () => {
    const vms = new Map(
      ofKind(data, "VirtualMachine").map((v) => [`${v.metadata.namespace}/${v.metadata.name}`, v]),
    );
    for (const vmi of ofKind(data, "VirtualMachineInstance")) {
      const vm = vms.get(`${vmi.metadata.namespace}/${vmi.metadata.name}`);
      expect(vmi.metadata.ownerReferences[0].uid).toBe(vm.metadata.uid);
      const pod = podOf(data, vmi);
      expect(pod.spec.nodeName).toBe(vmi.status.nodeName);
      expect(Object.keys(vmi.status.activePods)).toEqual([pod.metadata.uid]);
      expect(vmi.status.interfaces[0].ipAddress).toBe(pod.status.podIP);
      expect(pod.metadata.name).toMatch(new RegExp(`^virt-launcher-${vmi.metadata.name}-[a-z0-9]{5}$`));
    }
    for (const object of data.objects.filter((o) => kubeVirtDefinition(o) !== undefined).slice(0, 300)) {
      expect(validateKubeVirtObject(object)).toEqual([]);
    }
  });

  it("rejects --vms for a scenario without a scale section, and out of range", () => {
    expect(() => loadScenario("default", { seed: 1, now, vms: 10 })).toThrow(/no scale section/);
    expect(() => loadScenario("scale", { seed: 1, now, vms: 0 })).toThrow(/from 1 to 50000, not 0/);
  });
});

describe("vmStamper", () => {
  it("stamps what the builders would build for the same identities", () => {
    const template: VmDescription = {
      name: "template",
      namespace: "template",
      node: "template-node",
      createdAt: now - 50 * 86_400_000,
      memory: "4Gi",
      cpuCores: 2,
      dirtyRateMiBps: 30,
      os: "fedora",
      labels: { app: "web" },
      volumes: [
        { name: "containerdisk", kind: "containerDisk" },
        { name: "data", kind: "pvc", size: "10Gi" },
        { name: "cloudinitdisk", kind: "cloudInitNoCloud" },
      ],
      evictionStrategy: "LiveMigrate",
      launcherImage: "quay.io/kubevirt/virt-launcher:v1.8.2",
    };
    const current = "quay.io/kubevirt/virt-launcher:v1.9.0";
    const stamper = vmStamper(template, { currentLauncherImage: current, random: new Random(11) });
    expect(stamper.outdated).toBe(true);
    const node = { name: "node-07", internalIP: "10.100.0.9", podCIDR: "10.128.7.0/24" };
    const stamped = stamper.stamp({
      name: "vm-0042",
      namespace: "tenant-03",
      node,
      createdAt: template.createdAt + 3 * 86_400_000 + 17_000,
      podIP: "10.128.7.12",
      random: new Random(12),
    });
    // The same plan, as planVm draws it for the template, with the stamp's identities.
    const desc: VmDescription = { ...template, name: "vm-0042", namespace: "tenant-03", node: "node-07" };
    const base = planVm(
      { ...template, node: "template-node" },
      {
        random: new Random(11),
        currentLauncherImage: current,
        nodes: [{ name: "template-node", internalIP: "192.0.2.1", podCIDR: "10.0.0.0/24" }],
      },
    );
    const shift = 3 * 86_400_000 + 17_000;
    const pod = stamped.pod as Any;
    const statuses = [...pod.status.initContainerStatuses, ...pod.status.containerStatuses] as Any[];
    const plan = {
      ...base,
      vmUid: (stamped.vm as Any).metadata.uid,
      vmiUid: (stamped.vmi as Any).metadata.uid,
      podUid: pod.metadata.uid,
      podName: pod.metadata.name,
      node,
      podIP: "10.128.7.12",
      macs: { default: (stamped.vmi as Any).status.interfaces[0].mac },
      podMacs: { eth0: JSON.parse(pod.metadata.annotations["k8s.v1.cni.cncf.io/network-status"])[0].mac },
      containerIds: Object.fromEntries(
        statuses.map((s) => [s.name, s.containerID.replace("containerd://", "")]),
      ),
      times: Object.fromEntries(
        Object.entries(base.times).map(([k, v]) => [k, v + shift]),
      ) as typeof base.times,
    };
    expect(stamped.vm).toEqual(vmObject(desc, plan));
    expect(stamped.vmi).toEqual(vmiObject(desc, plan));
    expect(stamped.pod).toEqual(launcherPod(desc, plan));
    expect(validateKubeVirtObject(stamped.vmi)).toEqual([]);
  });
});

describe("loadScenario errors", () => {
  it("names an unknown scenario", () => {
    expect(() => loadScenario("nope", { seed: 1, now })).toThrow(new Error('unknown scenario "nope"'));
    expect(() => loadScenario("../scenarios/default", { seed: 1, now })).toThrow(
      new Error('unknown scenario "../scenarios/default"'),
    );
  });

  function withFile(text: string): string {
    const dir = mkdtempSync(join(tmpdir(), "kvmig-scenarios-"));
    writeFileSync(join(dir, "broken.yaml"), text);
    return dir;
  }

  const base = readFileSync(join(scenarioDir, "default.yaml"), "utf8");

  it.each([
    [
      "a misspelled VM field",
      base.replace("    memory: 4Gi\n", "    memroy: 4Gi\n"),
      "vms[0].memroy: unknown field",
    ],
    [
      "a bad age",
      base.replace("createdAt: 34d5h15m50s", "createdAt: yesterday"),
      "nodes[0].createdAt: expected an age",
    ],
    [
      "a node nobody has",
      base.replace("node: node-2\n", "node: node-9\n"),
      "vms[1].node: no node node-9 in this scenario",
    ],
    ["a bad quantity", base.replace("memory: 8Gi", "memory: lots"), "vms[1].memory: expected a quantity"],
    [
      "a bad enum",
      base.replace("binding: bridge", "binding: sriov"),
      "vms[3].networks[1].binding: expected one of masquerade, bridge",
    ],
    [
      "an unquoted label value",
      base.replace("labels: { app: web }", "labels: { app: 1 }"),
      "vms[0].labels.app: expected a string",
    ],
    [
      "a missing description",
      base.replace(/^description: .*$/m, ""),
      "description: expected a non-empty string",
    ],
    [
      "a fault for a VM that is not there",
      `${base}\nfaults:\n  - { type: vifCache, vm: demo/ghost }\n`,
      "faults[0].vm: no VM demo/ghost",
    ],
    [
      "an unknown fault",
      `${base}\nfaults:\n  - { type: meteor }\n`,
      "faults[0].type: expected one of connectionDrop, vifCache",
    ],
    ["YAML that does not parse", `${base}\nvms: [\n`, "broken.yaml"],
  ])("reports the file and the field for %s", (_what, text, message) => {
    const dir = withFile(text);
    let error: Error | undefined;
    try {
      loadScenario("broken", { seed: 1, now, dir });
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).toContain(join(dir, "broken.yaml"));
    expect(error?.message).toContain(message);
  });

  it("reads a targetNetworkSetup fault, with the VM resolved and an optional CNI message", () => {
    const text = `${base}\nfaults:\n  - { type: targetNetworkSetup, vm: win-app, times: 2, message: "no bridge" }\n`;
    const { faults } = loadScenario("broken", { seed: 1, now, dir: withFile(text) });
    expect(faults).toEqual([
      { type: "targetNetworkSetup", vm: "demo/win-app", times: 2, message: "no bridge" },
    ]);
  });

  it("checks history against the VMs: a migration that would have succeeded cannot be an abort", () => {
    const text = `${base}\nhistory:\n  migrations:\n    - { vm: demo/fedora-web, createdAt: 1h, result: Failed, failure: aborted }\n`;
    expect(() => loadScenario("broken", { seed: 1, now, dir: withFile(text) })).toThrow(/converges/);
  });
});
