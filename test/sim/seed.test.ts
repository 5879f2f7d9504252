// The simulated cluster's default seed: KubeVirt objects valid against KubeVirt's own OpenAPI schema
// (made strict about unknown fields), deterministic per seed, and consistent across objects.

import { describe, expect, it } from "vitest";
import { launcherLogLine, vmBundle } from "../../src/sim/objects.js";
import { Random } from "../../src/sim/random.js";
import { loadScenario } from "../../src/sim/scenario.js";
import type { SeedData } from "../../src/sim/seed.js";

const defaultSeed = (options: { seed: number; now: number }): SeedData =>
  loadScenario("default", options).data;

import { kubeVirtDefinition, validateKubeVirtObject } from "../helpers/openapi-schema.js";

type Json = Record<string, unknown>;

const now = Date.UTC(2026, 4, 14, 9, 30, 0);
const seed = defaultSeed({ seed: 42, now });

interface Meta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  finalizers?: string[];
  resourceVersion?: string;
  generation?: number;
}

function meta(object: Json): Meta {
  return object.metadata as Meta;
}

function ofKind(data: SeedData, kind: string): Json[] {
  return data.objects.filter((object) => object.kind === kind);
}

function named(data: SeedData, kind: string, name: string): Json {
  const found = ofKind(data, kind).find((object) => meta(object).name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** Reads a dotted path (`status.nodeName`) out of an object. */
function at(object: unknown, path: string): unknown {
  let value = object;
  for (const key of path.split(".")) value = (value as Json | undefined)?.[key];
  return value;
}

const vmNames = ["fedora-web", "rhel-db", "cirros-test", "win-app", "legacy-pvc"];

function deepClone<T>(value: T): T {
  return structuredClone(value);
}

describe("the KubeVirt OpenAPI validator", () => {
  const vmi = named(seed, "VirtualMachineInstance", "fedora-web");

  it("accepts a valid VMI", () => {
    expect(validateKubeVirtObject(vmi)).toEqual([]);
  });

  it("catches a misspelled field (migrationUID instead of migrationUid)", () => {
    const bad = deepClone(vmi);
    (bad.status as Json).migrationState = {
      migrationUID: "0b3f3c1e-7a43-4b7e-9d1c-1f0e2d3c4b5a",
      targetNode: "node-2",
    };
    expect(validateKubeVirtObject(bad)).toEqual(['/status/migrationState: unknown field "migrationUID"']);
    (bad.status as Json).migrationState = {
      migrationUid: "0b3f3c1e-7a43-4b7e-9d1c-1f0e2d3c4b5a",
      targetNode: "node-2",
    };
    expect(validateKubeVirtObject(bad)).toEqual([]);
  });

  it("catches an unknown spec field on a VMIM", () => {
    const vmim = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: {
        name: "kubevirt-migrate-vm-x7k2q",
        namespace: "demo",
        generateName: "kubevirt-migrate-vm-",
      },
      spec: { vmiName: "fedora-web", targetNode: "node-2" },
    };
    expect(validateKubeVirtObject(vmim)).toEqual(['/spec: unknown field "targetNode"']);
    expect(
      validateKubeVirtObject({ ...vmim, spec: { vmiName: "fedora-web", addedNodeSelector: { zone: "b" } } }),
    ).toEqual([]);
  });

  it("catches wrong types: a number for a string, a non-date timestamp, a numeric quantity", () => {
    const bad = deepClone(vmi);
    (bad.status as Json).phase = 4;
    (bad.status as Json).phaseTransitionTimestamps = [
      { phase: "Running", phaseTransitionTimestamp: "yesterday" },
    ];
    ((bad.status as Json).memory as Json).guestCurrent = 4294967296;
    expect(validateKubeVirtObject(bad)).toEqual([
      "/status/memory/guestCurrent: must be string",
      "/status/phase: must be string",
      '/status/phaseTransitionTimestamps/0/phaseTransitionTimestamp: must match format "date-time"',
    ]);
  });

  it("allows null where the API writes null (condition times, nullable status)", () => {
    const ok = deepClone(vmi);
    ((ok.status as Json).conditions as Json[])[0] = {
      type: "Ready",
      status: "True",
      lastProbeTime: null,
      lastTransitionTime: null,
    };
    expect(validateKubeVirtObject(ok)).toEqual([]);
    expect(validateKubeVirtObject({ ...ok, status: null })).toEqual([]);
  });

  it("validates MigrationPolicies and refuses kinds it has no schema for", () => {
    const policy = {
      apiVersion: "migrations.kubevirt.io/v1alpha1",
      kind: "MigrationPolicy",
      metadata: { name: "fast-lane" },
      spec: { selectors: { namespaceSelector: { team: "db" } }, allowPostCopy: "yes" },
    };
    expect(validateKubeVirtObject(policy)).toEqual(["/spec/allowPostCopy: must be boolean"]);
    expect(() =>
      validateKubeVirtObject(named(seed, "Pod", meta(ofKind(seed, "Pod")[0] as Json).name)),
    ).toThrow(/not a KubeVirt kind/);
  });
});

describe("defaultSeed", () => {
  it("has the namespaces, three ready schedulable workers, KubeVirt and the demo VMs", () => {
    expect(ofKind(seed, "Namespace").map((ns) => meta(ns).name)).toEqual([
      "default",
      "kube-system",
      "kubevirt",
      "demo",
    ]);
    const nodes = ofKind(seed, "Node");
    expect(nodes.map((n) => meta(n).name)).toEqual(["node-1", "node-2", "node-3"]);
    for (const n of nodes) {
      expect(meta(n).labels?.["kubevirt.io/schedulable"]).toBe("true");
      expect(meta(n).labels?.["node-role.kubernetes.io/worker"]).toBe("");
      const ready = (at(n, "status.conditions") as Json[]).find((c) => c.type === "Ready");
      expect(ready?.status).toBe("True");
      expect(at(n, "status.capacity.memory")).toBe("33554432Ki");
      expect(at(n, "status.capacity.cpu")).toBe("8");
      expect(at(n, "status.nodeInfo.kubeletVersion")).toMatch(/^v1\.32\.\d+$/);
    }
    expect(ofKind(seed, "KubeVirt")).toHaveLength(1);
    for (const kind of ["VirtualMachine", "VirtualMachineInstance"]) {
      expect(ofKind(seed, kind).map((o) => meta(o).name)).toEqual(vmNames);
    }
    expect(ofKind(seed, "Pod")).toHaveLength(vmNames.length);
    expect(
      ofKind(seed, "NetworkAttachmentDefinition").map((o) => `${meta(o).namespace}/${meta(o).name}`),
    ).toEqual(["demo/vlan-13"]);
  });

  it("gives every KubeVirt object that validates against the schema", () => {
    const kubevirtObjects = seed.objects.filter((object) => kubeVirtDefinition(object) !== undefined);
    expect(kubevirtObjects.length).toBe(1 + 2 * vmNames.length);
    for (const object of kubevirtObjects) {
      expect({
        object: `${object.kind} ${meta(object).name}`,
        errors: validateKubeVirtObject(object),
      }).toEqual({
        object: `${object.kind} ${meta(object).name}`,
        errors: [],
      });
    }
  });

  it("sets identity and times but leaves resourceVersion and generation to the store", () => {
    for (const object of seed.objects) {
      const m = meta(object);
      expect(typeof object.apiVersion).toBe("string");
      expect(typeof object.kind).toBe("string");
      expect(m.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(m.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Date.parse(m.creationTimestamp)).toBeLessThanOrEqual(now);
      expect(m.resourceVersion).toBeUndefined();
      expect(m.generation).toBeUndefined();
    }
  });

  it("is deterministic for a seed and differs between seeds", () => {
    expect(defaultSeed({ seed: 42, now })).toEqual(seed);
    const other = defaultSeed({ seed: 43, now });
    const uids = new Set(seed.objects.map((object) => meta(object).uid));
    expect(other.objects.filter((object) => uids.has(meta(object).uid))).toEqual([]);
    expect(ofKind(other, "Pod").map((p) => meta(p).name)).not.toEqual(
      ofKind(seed, "Pod").map((p) => meta(p).name),
    );
  });

  it("has unique names per kind and namespace, and unique uids", () => {
    const keys = seed.objects.map(
      (object) => `${object.apiVersion} ${object.kind} ${meta(object).namespace ?? ""}/${meta(object).name}`,
    );
    expect(new Set(keys).size).toBe(keys.length);
    const uids = seed.objects.map((object) => meta(object).uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it("links each VM, VMI and launcher pod", () => {
    for (const name of vmNames) {
      const vm = named(seed, "VirtualMachine", name);
      const vmi = named(seed, "VirtualMachineInstance", name);
      const pods = ofKind(seed, "Pod").filter(
        (pod) => meta(pod).labels?.["kubevirt.io/created-by"] === meta(vmi).uid,
      );
      expect(pods).toHaveLength(1);
      const pod = pods[0] as Json;

      expect(meta(vmi).ownerReferences).toEqual([
        {
          apiVersion: "kubevirt.io/v1",
          blockOwnerDeletion: true,
          controller: true,
          kind: "VirtualMachine",
          name,
          uid: meta(vm).uid,
        },
      ]);
      expect(meta(pod).ownerReferences).toEqual([
        expect.objectContaining({
          kind: "VirtualMachineInstance",
          name,
          uid: meta(vmi).uid,
          controller: true,
        }),
      ]);
      expect(meta(pod).name).toMatch(new RegExp(`^virt-launcher-${name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(meta(pod).generateName).toBe(`virt-launcher-${name}-`);
      expect(meta(pod).labels).toMatchObject({
        "kubevirt.io": "virt-launcher",
        "vm.kubevirt.io/name": name,
        "vmi.kubevirt.io/id": name,
      });
      expect(meta(pod).annotations?.["kubevirt.io/domain"]).toBe(name);

      expect(Object.keys(at(vmi, "status.activePods") as Json)).toEqual([meta(pod).uid]);
      expect(at(vmi, "status.activePods") as Json).toEqual({ [meta(pod).uid]: at(vmi, "status.nodeName") });
      expect(at(vmi, "status.nodeName")).toBe(at(pod, "spec.nodeName"));
      expect(meta(vmi).labels?.["kubevirt.io/nodeName"]).toBe(at(pod, "spec.nodeName"));
      expect(meta(pod).labels?.["kubevirt.io/nodeName"]).toBe(at(pod, "spec.nodeName"));
      const compute = (at(pod, "spec.containers") as Json[]).find((c) => c.name === "compute");
      expect(at(vmi, "status.launcherContainerImageVersion")).toBe(compute?.image);
      expect((at(vmi, "status.interfaces") as Json[])[0]?.ipAddress).toBe(at(pod, "status.podIP"));
      expect(at(pod, "status.phase")).toBe("Running");
      expect(at(vmi, "status.phase")).toBe("Running");
      expect(at(vm, "status.printableStatus")).toBe("Running");
      expect(meta(vmi).finalizers).toEqual([
        "kubevirt.io/virtualMachineControllerFinalize",
        "kubevirt.io/foregroundDeleteVirtualMachine",
      ]);
    }
  });

  it("spreads the VMs over the nodes and gives pods distinct IPs from their node's pod CIDR", () => {
    const pods = ofKind(seed, "Pod");
    expect(new Set(pods.map((pod) => at(pod, "spec.nodeName")))).toEqual(
      new Set(["node-1", "node-2", "node-3"]),
    );
    const ips = pods.map((pod) => String(at(pod, "status.podIP")));
    expect(new Set(ips).size).toBe(ips.length);
    for (const pod of pods) {
      const nodeName = String(at(pod, "spec.nodeName"));
      const n = named(seed, "Node", nodeName);
      const prefix = String(at(n, "spec.podCIDR")).replace(/\.0\/24$/, ".");
      expect(String(at(pod, "status.podIP")).startsWith(prefix)).toBe(true);
      expect(at(pod, "status.hostIP")).toBe((at(n, "status.addresses") as Json[])[0]?.address);
    }
  });

  it("marks exactly cirros-test and win-app as running an outdated launcher", () => {
    const current = "quay.io/kubevirt/virt-launcher:v1.9.0";
    const outdated = (kind: string) =>
      ofKind(seed, kind)
        .filter((o) => meta(o).labels?.["kubevirt.io/outdatedLauncherImage"] !== undefined)
        .map((o) => (kind === "Pod" ? meta(o).labels?.["vm.kubevirt.io/name"] : meta(o).name));
    expect(outdated("VirtualMachineInstance")).toEqual(["cirros-test", "win-app"]);
    expect(outdated("Pod")).toEqual(["cirros-test", "win-app"]);
    for (const vmi of ofKind(seed, "VirtualMachineInstance")) {
      const label = meta(vmi).labels?.["kubevirt.io/outdatedLauncherImage"];
      const image = at(vmi, "status.launcherContainerImageVersion");
      if (label === undefined) expect(image).toBe(current);
      else {
        expect(label).toBe("");
        expect(image).toBe("quay.io/kubevirt/virt-launcher:v1.8.2");
      }
    }
    expect(at(named(seed, "KubeVirt", "kubevirt"), "status.outdatedVirtualMachineInstanceWorkloads")).toBe(2);
  });

  it("gives virt-controller the current launcher image", () => {
    const deployment = named(seed, "Deployment", "virt-controller");
    const args = (at(deployment, "spec.template.spec.containers") as Json[])[0]?.args as string[];
    expect(args[args.indexOf("--launcher-image") + 1]).toBe("quay.io/kubevirt/virt-launcher:v1.9.0");
    expect(meta(deployment).namespace).toBe("kubevirt");
    expect(at(deployment, "status.readyReplicas")).toBe(2);
  });

  it("reports the KubeVirt CR deployed at v1.9.0", () => {
    const kv = named(seed, "KubeVirt", "kubevirt");
    expect(meta(kv).namespace).toBe("kubevirt");
    expect(at(kv, "status.phase")).toBe("Deployed");
    expect(at(kv, "status.observedKubeVirtVersion")).toBe("v1.9.0");
    expect(at(kv, "status.targetKubeVirtVersion")).toBe("v1.9.0");
    expect(at(kv, "status.observedDeploymentID")).toBe(at(kv, "status.targetDeploymentID"));
    expect(at(kv, "spec.workloadUpdateStrategy")).toEqual({
      batchEvictionInterval: "1m0s",
      batchEvictionSize: 10,
      workloadUpdateMethods: [],
    });
  });

  it("computes live-migratability as virt-handler does", () => {
    const condition = (name: string) =>
      (at(named(seed, "VirtualMachineInstance", name), "status.conditions") as Json[]).find(
        (c) => c.type === "LiveMigratable",
      );
    expect(condition("legacy-pvc")).toMatchObject({
      status: "False",
      reason: "DisksNotLiveMigratable",
      message:
        "cannot migrate VMI: PVC legacy-pvc-data is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)",
    });
    for (const name of ["fedora-web", "rhel-db", "cirros-test", "win-app"])
      expect(condition(name)?.status).toBe("True");
    const method = (name: string) =>
      at(named(seed, "VirtualMachineInstance", name), "status.migrationMethod");
    expect(method("rhel-db")).toBe("LiveMigration");
    expect(method("fedora-web")).toBe("BlockMigration");
    // The VM mirrors the VMI's conditions.
    const vmCondition = (at(named(seed, "VirtualMachine", "legacy-pvc"), "status.conditions") as Json[]).find(
      (c) => c.type === "LiveMigratable",
    );
    expect(vmCondition).toEqual(condition("legacy-pvc"));
  });

  it("reports a bridge on the pod network as not migratable", () => {
    const random = new Random(7);
    const bundle = vmBundle(
      {
        name: "pod-bridge",
        namespace: "demo",
        node: "node-1",
        createdAt: now - 3_600_000,
        networks: [{ name: "default", binding: "bridge" }],
        launcherImage: "quay.io/kubevirt/virt-launcher:v1.9.0",
      },
      {
        random,
        currentLauncherImage: "quay.io/kubevirt/virt-launcher:v1.9.0",
        nodes: [{ name: "node-1", internalIP: "192.168.122.11", podCIDR: "10.244.1.0/24" }],
      },
    );
    expect(validateKubeVirtObject(bundle.vmi)).toEqual([]);
    expect(validateKubeVirtObject(bundle.vm)).toEqual([]);
    const conditions = at(bundle.vmi, "status.conditions") as Json[];
    expect(conditions.find((c) => c.type === "LiveMigratable")).toMatchObject({
      status: "False",
      reason: "InterfaceNotLiveMigratable",
      message:
        "cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the pod network",
    });
    expect(conditions.find((c) => c.type === "StorageLiveMigratable")).toMatchObject({
      status: "False",
      reason: "NotMigratable",
    });
  });

  it("wires win-app's secondary bridge network through Multus", () => {
    const vmi = named(seed, "VirtualMachineInstance", "win-app");
    expect(at(vmi, "spec.networks")).toEqual([
      { name: "default", pod: {} },
      { multus: { networkName: "vlan-13" }, name: "vlan-13" },
    ]);
    const interfaces = at(vmi, "status.interfaces") as Json[];
    expect(interfaces[1]).toMatchObject({
      name: "vlan-13",
      infoSource: "domain, guest-agent, multus-status",
      podInterfaceName: expect.stringMatching(/^pod[0-9a-f]{11}$/),
    });
    const pod = ofKind(seed, "Pod").find(
      (p) => meta(p).labels?.["vm.kubevirt.io/name"] === "win-app",
    ) as Json;
    const networks = JSON.parse(meta(pod).annotations?.["k8s.v1.cni.cncf.io/networks"] ?? "[]") as Json[];
    expect(networks).toEqual([
      { name: "vlan-13", namespace: "demo", interface: interfaces[1]?.podInterfaceName },
    ]);
    const nad = named(seed, "NetworkAttachmentDefinition", "vlan-13");
    expect(JSON.parse(String(at(nad, "spec.config")))).toMatchObject({
      type: "bridge",
      vlan: 13,
      name: "vlan-13",
    });
  });

  it("records the start events on each VM and VMI", () => {
    const events = ofKind(seed, "Event");
    for (const name of vmNames) {
      const vm = named(seed, "VirtualMachine", name);
      const vmi = named(seed, "VirtualMachineInstance", name);
      const on = (uid: string) => events.filter((e) => at(e, "involvedObject.uid") === uid);
      expect(on(meta(vm).uid).map((e) => [e.reason, e.message])).toEqual([
        [
          "SuccessfulCreate",
          `Started the virtual machine by creating the new virtual machine instance ${name}`,
        ],
      ]);
      const vmiEvents = on(meta(vmi).uid).map((e) => [e.reason, e.type, at(e, "source.component")]);
      expect(vmiEvents).toEqual(
        expect.arrayContaining([
          ["SuccessfulCreate", "Normal", "virtualmachine-controller"],
          ["Created", "Normal", "virt-handler"],
          ["Started", "Normal", "virt-handler"],
        ]),
      );
    }
    for (const e of events) {
      expect(meta(e).name).toMatch(new RegExp(`^${String(at(e, "involvedObject.name"))}\\.[0-9a-f]{16,}$`));
      expect(meta(e).namespace).toBe(at(e, "involvedObject.namespace"));
      expect(e.eventTime).toBeNull();
      expect(e.reportingComponent).toBe(at(e, "source.component"));
      expect(e.reportingInstance).toBe(at(e, "source.host") ?? "");
      expect(Date.parse(String(e.lastTimestamp))).toBeGreaterThanOrEqual(
        Date.parse(String(e.firstTimestamp)),
      );
    }
    const started = events.find(
      (e) => e.reason === "Started" && at(e, "involvedObject.name") === "rhel-db",
    ) as Json;
    expect(at(started, "source")).toEqual({ component: "virt-handler", host: "node-2" });
    const warning = events.filter((e) => e.type === "Warning").map((e) => at(e, "involvedObject.name"));
    expect(warning).toEqual(["legacy-pvc"]);
  });

  it("gives each launcher's compute container KubeVirt-style JSON log lines", () => {
    expect(seed.logs.map((log) => log.container)).toEqual(vmNames.map(() => "compute"));
    for (const log of seed.logs) {
      const pod = named(seed, "Pod", log.pod);
      expect(meta(pod).namespace).toBe(log.namespace);
      expect(log.lines.length).toBeGreaterThanOrEqual(5);
      let previous = 0;
      for (const line of log.lines) {
        expect(line.time).toBeGreaterThanOrEqual(previous);
        expect(line.time).toBeLessThanOrEqual(now);
        previous = line.time;
        const parsed = JSON.parse(line.text) as Json;
        expect(Object.keys(parsed)).toEqual([...Object.keys(parsed)].sort());
        expect(parsed).toMatchObject({ component: "virt-launcher", level: "info" });
        expect(String(parsed.timestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
        expect(Date.parse(String(parsed.timestamp))).toBe(line.time);
        expect(String(parsed.pos)).toMatch(/^[\w.-]+\.go:\d+$/);
      }
      expect(log.lines.some((line) => line.text.includes('"msg":"Domain started."'))).toBe(true);
    }
  });
});

describe("launcherLogLine", () => {
  it("writes the keys sorted and the timestamp with microseconds, as KubeVirt's logger does", () => {
    const line = launcherLogLine({
      time: Date.UTC(2026, 4, 14, 9, 0, 1, 234) + 0.567,
      level: "info",
      pos: "live-migration-source.go:736",
      msg: "Migration info for 1b6e: TimeElapsed:4006ms DataProcessed:512MiB DataRemaining:3584MiB",
      object: { namespace: "demo", name: "fedora-web", uid: "5f0c0a4e-2b1d-4c3e-8f7a-6b5c4d3e2f1a" },
    });
    expect(line).toBe(
      '{"component":"virt-launcher","kind":"","level":"info",' +
        '"msg":"Migration info for 1b6e: TimeElapsed:4006ms DataProcessed:512MiB DataRemaining:3584MiB",' +
        '"name":"fedora-web","namespace":"demo","pos":"live-migration-source.go:736",' +
        '"timestamp":"2026-05-14T09:00:01.234567Z","uid":"5f0c0a4e-2b1d-4c3e-8f7a-6b5c4d3e2f1a"}',
    );
  });

  it("escapes like Go's encoder without HTML escaping", () => {
    const line = launcherLogLine({
      time: 0,
      level: "error",
      pos: "a.go:1",
      msg: 'x<y>&"z"\n\u0008',
      reason: "boom",
    });
    expect(line).toBe(
      '{"component":"virt-launcher","level":"error","msg":"x<y>&\\"z\\"\\n\\u0008","pos":"a.go:1","reason":"boom","timestamp":"1970-01-01T00:00:00.000000Z"}',
    );
  });
});

describe("Random", () => {
  it("is reproducible, in range, and shapes uids and suffixes like Kubernetes", () => {
    const a = new Random(1);
    const b = new Random(1);
    const draws = Array.from({ length: 50 }, () => a.next());
    expect(draws).toEqual(Array.from({ length: 50 }, () => b.next()));
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Random(2).next()).not.toBe(new Random(1).next());
    const r = new Random(9);
    for (let i = 0; i < 200; i++) {
      const n = r.int(3, 5);
      expect(n >= 3 && n <= 5 && Number.isInteger(n)).toBe(true);
    }
    expect(r.uid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.suffix()).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(["a", "b", "c"]).toContain(r.pick(["a", "b", "c"]));
    expect(() => r.pick([])).toThrow();
    expect(r.derive("x").uid()).toBe(new Random(9).derive("x").uid());
  });
});
