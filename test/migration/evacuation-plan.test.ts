// The plan of `kvmig evacuate NODE`: what KubeVirt's evacuation does with each VM on the node
// (its eviction strategy and LiveMigratable), whether the other nodes have room for the VMs that
// move (first fit, largest first, within each VM's selectors, affinity and tolerations), the
// parallel limits, the estimated duration and the warnings. Pure: objects in, plan out.
import { describe, expect, it } from "vitest";
import type {
  EvictionStrategy,
  KubeVirt,
  Node,
  Pod,
  Taint,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../../src/k8s/types.js";
import {
  type EvacuationPlanInput,
  guestMemoryOf,
  planEvacuation,
} from "../../src/migration/evacuation-plan.js";

const GiB = 2 ** 30;

interface NodeOptions {
  memory?: string;
  cpu?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  cordoned?: boolean;
  ready?: boolean;
  kubevirt?: boolean;
  pods?: string;
}

function node(name: string, options: NodeOptions = {}): Node {
  return {
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name,
        ...(options.kubevirt === false ? {} : { "kubevirt.io/schedulable": "true" }),
        ...options.labels,
      },
    },
    spec: {
      ...(options.cordoned ? { unschedulable: true } : {}),
      ...(options.taints ? { taints: options.taints } : {}),
    },
    status: {
      conditions: [
        { type: "MemoryPressure", status: "False" },
        { type: "Ready", status: options.ready === false ? "Unknown" : "True" },
      ],
      allocatable: {
        memory: options.memory ?? "32Gi",
        cpu: options.cpu ?? "16",
        pods: options.pods ?? "110",
      },
    },
  };
}

interface VmOptions {
  node?: string;
  guest?: string;
  /** The launcher pod's memory request (guest plus overhead). */
  memory?: string;
  cpu?: string;
  strategy?: EvictionStrategy;
  /** LiveMigratable: true, false (with reason/message), or null (no condition). */
  migratable?: boolean | null;
  reason?: string;
  message?: string;
  nodeSelector?: Record<string, string>;
  affinity?: Record<string, unknown>;
  tolerations?: Record<string, string>[];
  phase?: string;
  evacuationNodeName?: string;
  owned?: boolean;
  ownerKind?: string;
  cpuModel?: string;
}

interface Vm {
  vmi: VirtualMachineInstance;
  launcher: Pod;
  vm: VirtualMachine;
}

function uidOf(namespace: string, name: string): string {
  return `${namespace}-${name}-uid`;
}

function vm(namespace: string, name: string, options: VmOptions = {}): Vm {
  const nodeName = options.node ?? "node-1";
  const migratable = options.migratable === undefined ? true : options.migratable;
  // Another condition first: the plan must read LiveMigratable, not the first one.
  const conditions =
    migratable === null
      ? [{ type: "Ready", status: "True" }]
      : [
          { type: "Ready", status: "True" },
          {
            type: "LiveMigratable",
            status: migratable ? "True" : "False",
            ...(options.reason ? { reason: options.reason } : {}),
            ...(options.message ? { message: options.message } : {}),
          },
        ];
  const vmi: VirtualMachineInstance = {
    metadata: {
      name,
      namespace,
      uid: uidOf(namespace, name),
      ...(options.owned === false
        ? {}
        : {
            ownerReferences: [
              { apiVersion: "kubevirt.io/v1", kind: options.ownerKind ?? "VirtualMachine", name, uid: "vm" },
            ],
          }),
    },
    spec: {
      domain: {
        memory: { guest: options.guest ?? "4Gi" },
        ...(options.cpuModel ? { cpu: { model: options.cpuModel } } : {}),
      },
      evictionStrategy: options.strategy ?? "LiveMigrate",
      ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
      ...(options.affinity ? { affinity: options.affinity } : {}),
    } as VirtualMachineInstance["spec"],
    status: {
      phase: (options.phase ?? "Running") as "Running",
      nodeName,
      conditions: conditions as NonNullable<VirtualMachineInstance["status"]>["conditions"],
      ...(options.evacuationNodeName ? { evacuationNodeName: options.evacuationNodeName } : {}),
    },
  };
  const launcher: Pod = {
    metadata: {
      name: `virt-launcher-${name}-abcde`,
      namespace,
      labels: { "kubevirt.io": "virt-launcher", "kubevirt.io/created-by": uidOf(namespace, name) },
    },
    spec: {
      nodeName,
      nodeSelector: { "kubevirt.io/schedulable": "true", ...options.nodeSelector },
      ...(options.affinity ? { affinity: options.affinity } : {}),
      ...(options.tolerations ? { tolerations: options.tolerations } : {}),
      containers: [
        {
          name: "compute",
          resources: { requests: { memory: options.memory ?? "4Gi", cpu: options.cpu ?? "1" } },
        },
      ],
    } as unknown as Pod["spec"],
    status: { phase: "Running" },
  };
  return {
    vmi,
    launcher,
    vm: { metadata: { name, namespace }, spec: {} },
  };
}

/** A pod that is not a VM's: it only takes room on its node. */
function filler(nodeName: string, memory: string, cpu = "0"): Pod {
  return {
    metadata: { name: `filler-${nodeName}-${memory}`, namespace: "other" },
    spec: {
      nodeName,
      containers: [{ name: "app", resources: { requests: { memory, cpu } } }],
    } as unknown as Pod["spec"],
    status: { phase: "Running" },
  };
}

function kubevirt(migrations: Record<string, unknown> = {}, evictionStrategy?: EvictionStrategy): KubeVirt {
  return {
    metadata: { name: "kubevirt", namespace: "kubevirt" },
    spec: {
      configuration: {
        migrations,
        ...(evictionStrategy ? { evictionStrategy } : {}),
      },
    },
  };
}

interface MigrationOptions {
  vmi: string;
  namespace?: string;
  phase: string;
  uid?: string;
  annotations?: Record<string, string>;
  start?: string;
  end?: string;
  created?: string;
}

function vmim(name: string, options: MigrationOptions): VirtualMachineInstanceMigration {
  return {
    metadata: {
      name,
      namespace: options.namespace ?? "prod",
      uid: options.uid ?? `${name}-uid`,
      creationTimestamp: options.created ?? "2025-03-01T11:00:00Z",
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: { vmiName: options.vmi },
    status: {
      phase: options.phase as "Running",
      ...(options.start || options.end
        ? {
            migrationState: {
              ...(options.start ? { startTimestamp: options.start } : {}),
              ...(options.end ? { endTimestamp: options.end } : {}),
            },
          }
        : {}),
    },
  };
}

const nodes = [node("node-1"), node("node-2"), node("node-3"), node("node-4")];

function input(vms: Vm[], parts: Partial<EvacuationPlanInput> = {}): EvacuationPlanInput {
  const all = parts.nodes ?? nodes;
  return {
    node: "node-1",
    target: all.find((n) => n.metadata.name === "node-1") ?? node("node-1"),
    nodes: all,
    vmis: vms.map((v) => v.vmi),
    vms: vms.filter((v) => v.vmi.metadata.ownerReferences).map((v) => v.vm),
    launchers: new Map(vms.map((v) => [`${v.vmi.metadata.namespace}/${v.vmi.metadata.name}`, v.launcher])),
    pods: vms.map((v) => v.launcher),
    migrations: [],
    kubevirt: kubevirt(),
    options: { restart: false },
    ...parts,
  };
}

const rwoMessage =
  "cannot migrate VMI: PVC rootdisk is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)";

describe("planEvacuation: the action for each VM", () => {
  it("migrates a live-migratable VM with LiveMigrate or LiveMigrateIfPossible, as KubeVirt's evacuation does", () => {
    const plan = planEvacuation(
      input([
        vm("prod", "web", { strategy: "LiveMigrate" }),
        vm("dev", "ci", { strategy: "LiveMigrateIfPossible" }),
      ]),
    );
    expect(plan.vms.map((v) => [v.namespace, v.vm, v.action, v.why, v.command])).toEqual([
      [
        "dev",
        "ci",
        "migrate",
        "eviction strategy LiveMigrateIfPossible and live-migratable: KubeVirt's evacuation migrates it",
        undefined,
      ],
      [
        "prod",
        "web",
        "migrate",
        "eviction strategy LiveMigrate and live-migratable: KubeVirt's evacuation migrates it",
        undefined,
      ],
    ]);
    expect(plan.vms[1]).toEqual({
      namespace: "prod",
      vm: "web",
      vmi: "web",
      standalone: false,
      launcherPod: "virt-launcher-web-abcde",
      memoryBytes: 4 * GiB,
      cpuMillis: 1000,
      guestMemoryBytes: 4 * GiB,
      liveMigratable: { ok: true },
      evictionStrategy: "LiveMigrate",
      action: "migrate",
      why: "eviction strategy LiveMigrate and live-migratable: KubeVirt's evacuation migrates it",
      marked: false,
      placedOn: "node-2",
    });
    expect(plan.problems).toEqual([]);
  });

  it("blocks a LiveMigrate VM that cannot migrate (the webhook refuses its eviction forever), or restarts it with --restart", () => {
    const legacy = vm("prod", "legacy-rwo", {
      migratable: false,
      reason: "DisksNotLiveMigratable",
      message: rwoMessage,
    });
    const blocked = planEvacuation(input([legacy])).vms[0];
    expect(blocked).toMatchObject({
      action: "blocked",
      liveMigratable: { ok: false, reason: "DisksNotLiveMigratable", message: rwoMessage },
      why: `not live-migratable (DisksNotLiveMigratable: ${rwoMessage}); with eviction strategy LiveMigrate KubeVirt refuses its eviction, so a drain waits on it forever`,
      command: "kvmig restart legacy-rwo -n prod",
    });
    expect(blocked?.placedOn).toBeUndefined();
    const restarted = planEvacuation(input([legacy], { options: { restart: true } })).vms[0];
    expect(restarted).toMatchObject({
      action: "restart",
      why: `not live-migratable (DisksNotLiveMigratable: ${rwoMessage}); with eviction strategy LiveMigrate KubeVirt refuses its eviction, so a drain waits on it forever; --restart restarts it on another node, with downtime`,
      placedOn: "node-2",
    });
    expect(restarted?.command).toBeUndefined();
  });

  it("blocks a LiveMigrateIfPossible VM that cannot migrate: a drain would shut it down", () => {
    const plan = planEvacuation(
      input([
        vm("prod", "cache", {
          strategy: "LiveMigrateIfPossible",
          migratable: false,
          reason: "HostDeviceNotLiveMigratable",
        }),
      ]),
    );
    expect(plan.vms[0]).toMatchObject({
      action: "blocked",
      liveMigratable: { ok: false, reason: "HostDeviceNotLiveMigratable" },
      why: "not live-migratable (HostDeviceNotLiveMigratable); with eviction strategy LiveMigrateIfPossible a drain shuts it down instead",
      command: "kvmig restart cache -n prod",
    });
  });

  it("names a condition without a reason, and a VMI that reports no LiveMigratable condition yet", () => {
    const plan = planEvacuation(
      input([vm("prod", "a", { migratable: false }), vm("prod", "b", { migratable: null })]),
    );
    expect(plan.vms.map((v) => [v.liveMigratable, v.why])).toEqual([
      [
        { ok: false },
        "not live-migratable (no reason given); with eviction strategy LiveMigrate KubeVirt refuses its eviction, so a drain waits on it forever",
      ],
      [
        { ok: null },
        "not reported live-migratable yet (no LiveMigratable condition); with eviction strategy LiveMigrate KubeVirt refuses its eviction, so a drain waits on it forever",
      ],
    ]);
  });

  it("blocks a None VM (a drain shuts it down), pointing a live-migratable one to kvmig migrate", () => {
    const vms = [
      vm("prod", "batch", { strategy: "None" }),
      vm("prod", "scratch", { strategy: "None", migratable: false, reason: "DisksNotLiveMigratable" }),
    ];
    const plan = planEvacuation(input(vms));
    expect(plan.vms.map((v) => [v.vm, v.action, v.why, v.command])).toEqual([
      [
        "batch",
        "blocked",
        "eviction strategy None: a drain shuts it down instead of migrating it, though it is live-migratable",
        "kvmig migrate batch -n prod",
      ],
      [
        "scratch",
        "blocked",
        "eviction strategy None and not live-migratable (DisksNotLiveMigratable): a drain shuts it down",
        "kvmig restart scratch -n prod",
      ],
    ]);
    const restart = planEvacuation(input(vms, { options: { restart: true } }));
    expect(restart.vms.map((v) => [v.vm, v.action, v.why])).toEqual([
      [
        "batch",
        "restart",
        "eviction strategy None: a drain shuts it down instead of migrating it, though it is live-migratable; --restart restarts it on another node, with downtime",
      ],
      [
        "scratch",
        "restart",
        "eviction strategy None and not live-migratable (DisksNotLiveMigratable): a drain shuts it down; --restart restarts it on another node, with downtime",
      ],
    ]);
  });

  it("leaves an External VM to its external controller, even with --restart", () => {
    const vms = [
      vm("prod", "ext", { strategy: "External" }),
      vm("prod", "ext-rwo", { strategy: "External", migratable: false }),
    ];
    for (const restart of [false, true]) {
      const plan = planEvacuation(input(vms, { options: { restart } }));
      expect(plan.vms.map((v) => [v.action, v.why, v.command])).toEqual([
        [
          "blocked",
          "eviction strategy External: left to an external controller; KubeVirt marks it on a drain but never migrates it",
          "kvmig migrate ext -n prod",
        ],
        [
          "blocked",
          "eviction strategy External: left to an external controller; KubeVirt marks it on a drain but never migrates it",
          "kvmig restart ext-rwo -n prod",
        ],
      ]);
    }
  });

  it("takes the KubeVirt CR's strategy for a VMI without its own, and says unknown when the CR was not read", () => {
    const own = vm("prod", "web");
    delete own.vmi.spec.evictionStrategy;
    const fromCr = planEvacuation(input([own], { kubevirt: kubevirt({}, "LiveMigrate") })).vms[0];
    expect([fromCr?.evictionStrategy, fromCr?.action]).toEqual(["LiveMigrate", "migrate"]);
    const crDefault = planEvacuation(input([own], { kubevirt: kubevirt() })).vms[0];
    expect([crDefault?.evictionStrategy, crDefault?.action]).toEqual(["None", "blocked"]);
    for (const cr of [undefined, null]) {
      const unknown = planEvacuation(input([own], { kubevirt: cr, options: { restart: true } })).vms[0];
      expect(unknown).toMatchObject({
        evictionStrategy: "unknown",
        action: "blocked",
        why: "eviction strategy unknown: the VMI sets none and the KubeVirt CR could not be read, so whether a drain migrates it or shuts it down cannot be told",
        command: "kvmig migrate web -n prod",
      });
    }
  });

  it("cannot restart a standalone VMI: no VirtualMachine starts it again", () => {
    const alone = vm("prod", "solo", { migratable: false, owned: false });
    const plan = planEvacuation(input([alone], { options: { restart: true } }));
    expect(plan.vms[0]).toMatchObject({
      standalone: true,
      action: "blocked",
      why: "not live-migratable (no reason given); with eviction strategy LiveMigrate KubeVirt refuses its eviction, so a drain waits on it forever; a standalone VMI has no VirtualMachine to start it again, so --restart cannot move it",
    });
    expect(plan.vms[0]?.command).toBeUndefined();
    const none = planEvacuation(
      input([vm("prod", "solo", { strategy: "None", owned: false })], { options: { restart: true } }),
    );
    expect([none.vms[0]?.action, none.vms[0]?.command]).toEqual(["blocked", "kvmig migrate solo -n prod"]);
    const notRestarting = planEvacuation(input([alone]));
    expect(notRestarting.vms[0]?.command).toBeUndefined();
  });

  it("tells standalone VMIs by the VMs listed, else by the VMI's owner", () => {
    const owned = vm("prod", "web");
    const listedNone = planEvacuation(input([owned], { vms: [] }));
    expect(listedNone.vms[0]?.standalone).toBe(true);
    // A VM of the same name elsewhere is not its VM.
    const otherNamespace = planEvacuation(
      input([owned], { vms: [{ metadata: { name: "web", namespace: "dev" }, spec: {} }] }),
    );
    expect(otherNamespace.vms[0]?.standalone).toBe(true);
    const otherName = planEvacuation(
      input([owned], { vms: [{ metadata: { name: "db", namespace: "prod" }, spec: {} }] }),
    );
    expect(otherName.vms[0]?.standalone).toBe(true);
    const unread = planEvacuation(
      input(
        [
          owned,
          vm("prod", "solo", { owned: false }),
          vm("prod", "replica", { ownerKind: "VirtualMachineInstanceReplicaSet" }),
        ],
        { vms: undefined },
      ),
    );
    expect(unread.vms.map((v) => [v.vm, v.standalone])).toEqual([
      ["replica", true],
      ["solo", true],
      ["web", false],
    ]);
  });

  it("plans only the VMIs on the node that are not final, sorted by namespace and name", () => {
    const plan = planEvacuation(
      input([
        vm("prod", "b"),
        vm("prod", "elsewhere", { node: "node-2" }),
        vm("prod", "done", { phase: "Succeeded" }),
        vm("prod", "gone", { phase: "Failed" }),
        vm("dev", "z"),
        vm("prod", "a", { phase: "Scheduled" }),
      ]),
    );
    expect(plan.vms.map((v) => `${v.namespace}/${v.vm}`)).toEqual(["dev/z", "prod/a", "prod/b"]);
    expect(plan.node).toBe("node-1");
    expect(plan.cordoned).toBe(false);
  });

  it("sizes a VM without a launcher pod from its VMI, and says the overhead was left out", () => {
    const bare = vm("prod", "web", { guest: "6Gi" });
    const plan = planEvacuation(input([bare], { launchers: new Map() }));
    expect(plan.vms[0]).toMatchObject({
      launcherPod: null,
      memoryBytes: 6 * GiB,
      cpuMillis: 0,
      guestMemoryBytes: 6 * GiB,
    });
    expect(plan.problems).toEqual([
      {
        severity: "warning",
        message:
          "Not checked for prod/web: the launcher pod was not read: the VMI's own requests were used, without KubeVirt's overhead.",
      },
    ]);
  });

  it("reads the guest memory from memory.guest, else the memory request", () => {
    const byRequest = vm("prod", "r").vmi;
    byRequest.spec.domain = { resources: { requests: { memory: "3Gi" } } };
    expect(guestMemoryOf(byRequest)).toBe(3 * GiB);
    expect(guestMemoryOf(vm("prod", "g", { guest: "2Gi" }).vmi)).toBe(2 * GiB);
    byRequest.spec.domain = {};
    expect(guestMemoryOf(byRequest)).toBe(0);
  });
});

describe("planEvacuation: room on the other nodes", () => {
  it("places the largest VMs first, each on the first node with room, and counts what runs there", () => {
    // Named so that their names' order is not their sizes'.
    const vms = [
      vm("prod", "a-small", { memory: "2Gi" }),
      vm("prod", "b-mid", { memory: "12Gi", cpu: "2" }),
      vm("prod", "c-big", { memory: "20Gi", cpu: "4" }),
    ];
    const plan = planEvacuation(
      input(vms, {
        pods: [filler("node-2", "10Gi", "2"), filler("node-3", "1Gi"), ...vms.map((v) => v.launcher)],
      }),
    );
    expect(plan.room.fits).toBe(true);
    expect(plan.room.unplaced).toEqual([]);
    expect(plan.room.shortfall).toEqual({ memoryBytes: 0, cpuMillis: 0 });
    expect(plan.room.checked).toBe(true);
    expect(plan.room.nodes).toEqual([
      {
        node: "node-2",
        usable: true,
        allocatable: { memoryBytes: 32 * GiB, cpuMillis: 16000 },
        requested: { memoryBytes: 10 * GiB, cpuMillis: 2000 },
        free: { memoryBytes: 22 * GiB, cpuMillis: 14000 },
        left: { memoryBytes: 0, cpuMillis: 9000 },
        placed: ["prod/c-big", "prod/a-small"],
      },
      {
        node: "node-3",
        usable: true,
        allocatable: { memoryBytes: 32 * GiB, cpuMillis: 16000 },
        requested: { memoryBytes: 1 * GiB, cpuMillis: 0 },
        free: { memoryBytes: 31 * GiB, cpuMillis: 16000 },
        left: { memoryBytes: 19 * GiB, cpuMillis: 14000 },
        placed: ["prod/b-mid"],
      },
      {
        node: "node-4",
        usable: true,
        allocatable: { memoryBytes: 32 * GiB, cpuMillis: 16000 },
        requested: { memoryBytes: 0, cpuMillis: 0 },
        free: { memoryBytes: 32 * GiB, cpuMillis: 16000 },
        left: { memoryBytes: 32 * GiB, cpuMillis: 16000 },
        placed: [],
      },
    ]);
    expect(plan.vms.map((v) => [v.vm, v.placedOn])).toEqual([
      ["a-small", "node-2"],
      ["b-mid", "node-3"],
      ["c-big", "node-2"],
    ]);
    expect(plan.problems.filter((p) => p.severity === "error")).toEqual([]);
  });

  it("takes the larger CPU request first among equal memory, fills a node exactly, and tries nodes by name", () => {
    const vms = [vm("prod", "x-light", { cpu: "1" }), vm("prod", "y-heavy", { cpu: "3" })];
    const plan = planEvacuation(
      input(vms, { nodes: [node("node-1"), node("node-3"), node("node-2", { cpu: "3" })] }),
    );
    expect(plan.room.nodes.map((n) => [n.node, n.placed, n.left])).toEqual([
      ["node-2", ["prod/y-heavy"], { memoryBytes: 28 * GiB, cpuMillis: 0 }],
      ["node-3", ["prod/x-light"], { memoryBytes: 28 * GiB, cpuMillis: 15000 }],
    ]);
  });

  it("needs room for CPU too, and ignores terminal pods", () => {
    const hungry = vm("prod", "cpu", { memory: "1Gi", cpu: "10" });
    const done = { ...filler("node-2", "30Gi", "10"), status: { phase: "Succeeded" as const } };
    const failed = { ...filler("node-3", "30Gi", "10"), status: { phase: "Failed" as const } };
    const unbound: Pod = {
      ...filler("node-3", "30Gi", "10"),
      spec: { containers: [] } as unknown as Pod["spec"],
    };
    const plan = planEvacuation(
      input([hungry], {
        nodes: [node("node-1"), node("node-2", { cpu: "8" }), node("node-3", { cpu: "12" })],
        pods: [hungry.launcher, done, failed, unbound],
      }),
    );
    expect(plan.room.nodes.map((n) => [n.node, n.requested, n.placed])).toEqual([
      ["node-2", { memoryBytes: 0, cpuMillis: 0 }, []],
      ["node-3", { memoryBytes: 0, cpuMillis: 0 }, ["prod/cpu"]],
    ]);
  });

  it("names the shortfall per node when the VMs to move do not fit", () => {
    const vms = [
      vm("prod", "a", { memory: "16Gi" }),
      vm("prod", "b", { memory: "8Gi" }),
      vm("dev", "c", { memory: "8Gi" }),
      vm("dev", "d", { memory: "6Gi" }),
    ];
    const plan = planEvacuation(
      input(vms, {
        nodes: [
          node("node-1"),
          node("node-2", { memory: "16Gi" }),
          node("node-3", { memory: "16Gi" }),
          node("node-4", { cordoned: true }),
        ],
        pods: [
          ...vms.map((v) => v.launcher),
          filler("node-2", "12.5Gi"),
          { ...filler("node-3", "11.5Gi"), metadata: { name: "f3", namespace: "other" } },
        ],
      }),
    );
    expect(plan.room.fits).toBe(false);
    expect(plan.room.unplaced).toEqual(["dev/c", "dev/d", "prod/a", "prod/b"]);
    expect(plan.room.shortfall).toEqual({ memoryBytes: 38 * GiB, cpuMillis: 4000 });
    expect(plan.room.nodes.map((n) => [n.node, n.usable, n.why, n.free.memoryBytes])).toEqual([
      ["node-2", true, undefined, 3.5 * GiB],
      ["node-3", true, undefined, 4.5 * GiB],
      ["node-4", false, "cordoned", 32 * GiB],
    ]);
    expect(plan.problems).toEqual([
      {
        severity: "error",
        message:
          "Not enough room for the 4 VMs to move off node-1: they need 38.0 GiB of memory; 8.0 GiB is free (node-2: 3.5 GiB free of memory, node-3: 4.5 GiB free of memory; not counted: node-4 is cordoned). 4 VMs find no room: dev/c (8.0 GiB), dev/d (6.0 GiB), prod/a (16.0 GiB) and prod/b (8.0 GiB).",
        hint: "free room on those nodes (kubectl describe node NODE shows what runs there) or add a node, then plan again; --force evacuates anyway, and a VM that finds no room stays on node-1 (its target pod waits 5 minutes unschedulable, then KubeVirt fails the migration)",
      },
    ]);
    // More to migrate than free slots: they queue, which the limits say (no problem).
    expect(plan.limits.queued).toBe(2);
  });

  it("names CPU in the shortfall when CPU is what lacks, and one VM that finds no room", () => {
    const vms = [vm("prod", "a", { memory: "1Gi", cpu: "6" }), vm("prod", "b", { memory: "1Gi", cpu: "2" })];
    const plan = planEvacuation(input(vms, { nodes: [node("node-1"), node("node-2", { cpu: "6500m" })] }));
    expect(plan.room.unplaced).toEqual(["prod/b"]);
    expect(plan.room.shortfall).toEqual({ memoryBytes: 1 * GiB, cpuMillis: 2000 });
    expect(plan.problems[0]?.message).toBe(
      "Not enough room for the 2 VMs to move off node-1: they need 8 CPU; 6500m CPU is free (node-2: 32.0 GiB free of memory and 6500m CPU). 1 VM finds no room: prod/b (1.0 GiB).",
    );
  });

  it("counts a node whose CPU is taken as one without room, and one at its pod limit as refusing", () => {
    const web = vm("prod", "web");
    const full = planEvacuation(
      input([web], {
        nodes: [node("node-1"), node("node-2", { cpu: "4" })],
        pods: [web.launcher, filler("node-2", "0", "4")],
      }),
    );
    expect(full.problems[0]?.message).toBe(
      "Not enough room for the 1 VM to move off node-1: it needs 1 CPU; 0 CPU is free (node-2: 32.0 GiB free of memory and 0 CPU). 1 VM finds no room: prod/web (4.0 GiB).",
    );
    const crowded = planEvacuation(
      input([web], {
        nodes: [node("node-1"), node("node-2", { pods: "1" })],
        pods: [web.launcher, filler("node-2", "0")],
      }),
    );
    expect(crowded.problems[0]?.message).toBe(
      "prod/web can go to no other node: node-2: runs 1 pods, its maximum.",
    );
  });

  it("names both resources when both lack, and one VM in the singular", () => {
    const plan = planEvacuation(
      input([vm("prod", "a", { memory: "40Gi", cpu: "20" })], {
        nodes: [node("node-1"), node("node-2", { cpu: "1" })],
      }),
    );
    expect(plan.problems[0]?.message).toBe(
      "Not enough room for the 1 VM to move off node-1: it needs 40.0 GiB of memory and 20 CPU; 32.0 GiB and 1 CPU are free (node-2: 32.0 GiB free of memory and 1 CPU). 1 VM finds no room: prod/a (40.0 GiB).",
    );
  });

  it("says so when the total fits but not in the pieces the nodes have left", () => {
    const vms = [vm("prod", "a", { memory: "10Gi" }), vm("prod", "b", { memory: "10Gi" })];
    const plan = planEvacuation(
      input(vms, {
        nodes: [node("node-1"), node("node-2", { memory: "15Gi" }), node("node-3", { memory: "15Gi" })],
      }),
    );
    expect(plan.room.fits).toBe(true);
    const three = [...vms, vm("prod", "c", { memory: "10Gi" })];
    const tight = planEvacuation(
      input(three, {
        // Exactly as much free as needed, and CPU to spare exactly.
        nodes: [
          node("node-1"),
          node("node-2", { memory: "15Gi", cpu: "1" }),
          node("node-3", { memory: "15Gi", cpu: "2" }),
        ],
      }),
    );
    expect(tight.room.unplaced).toEqual(["prod/c"]);
    expect(tight.problems[0]?.message).toBe(
      "Not enough room for the 3 VMs to move off node-1: they need 30.0 GiB of memory; 30.0 GiB is free (node-2: 15.0 GiB free of memory, node-3: 15.0 GiB free of memory). 1 VM finds no room: prod/c (10.0 GiB). The total would fit, but not in the pieces each node has left, or not where those VMs may go.",
    );
  });

  it("keeps each VM to the nodes its nodeSelector and required node affinity accept", () => {
    const zoned = vm("prod", "zoned", { memory: "8Gi", nodeSelector: { zone: "east" } });
    const ssd = vm("prod", "ssd", {
      memory: "8Gi",
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] }],
          },
        },
      },
    });
    const plan = planEvacuation(
      input([zoned, ssd], {
        nodes: [
          node("node-1", { labels: { zone: "east" } }),
          node("node-2"),
          node("node-3", { labels: { zone: "east" } }),
          node("node-4", { labels: { disk: "ssd" } }),
        ],
      }),
    );
    expect(plan.vms.map((v) => [v.vm, v.placedOn])).toEqual([
      ["ssd", "node-4"],
      ["zoned", "node-3"],
    ]);
  });

  it("reports a VM no other node accepts, with each node's reason", () => {
    const zoned = vm("prod", "zoned", { memory: "2Gi", nodeSelector: { zone: "west" } });
    const pinned = vm("prod", "zpinned", {
      memory: "8Gi",
      nodeSelector: { "kubernetes.io/hostname": "node-9" },
    });
    const plan = planEvacuation(input([pinned, zoned, vm("prod", "web")]));
    expect(plan.room.fits).toBe(false);
    expect(plan.room.unplaced).toEqual(["prod/zoned", "prod/zpinned"]);
    expect(plan.room.shortfall).toEqual({ memoryBytes: 10 * GiB, cpuMillis: 2000 });
    expect(plan.vms.map((v) => [v.vm, v.placedOn])).toEqual([
      ["web", "node-2"],
      ["zoned", null],
      ["zpinned", null],
    ]);
    expect(plan.problems.slice(0, 2)).toEqual([
      {
        severity: "error",
        message:
          "prod/zoned can go to no other node: node-2, node-3, node-4: lacks label zone=west (nodeSelector).",
        hint: "its nodeSelector, affinity or tolerations rule out every other node: change them (kubectl edit vm zoned -n prod) or make a node it accepts schedulable; --force evacuates the others and leaves it on node-1",
      },
      {
        severity: "error",
        message:
          "prod/zpinned can go to no other node: node-2, node-3, node-4: lacks label kubernetes.io/hostname=node-9 (nodeSelector).",
        hint: "its nodeSelector, affinity or tolerations rule out every other node: change them (kubectl edit vm zpinned -n prod) or make a node it accepts schedulable; --force evacuates the others and leaves it on node-1",
      },
    ]);
  });

  it("names the accepting nodes that cannot be used, and leaves the edit out for a standalone VMI", () => {
    const zoned = vm("prod", "zoned", { nodeSelector: { zone: "east" }, owned: false });
    const plan = planEvacuation(
      input([zoned], {
        nodes: [node("node-1"), node("node-2"), node("node-3", { labels: { zone: "east" }, ready: false })],
      }),
    );
    expect(plan.problems).toEqual([
      {
        severity: "error",
        message:
          "prod/zoned can go to no other node: node-2: lacks label zone=east (nodeSelector); node-3: not Ready.",
        hint: "its nodeSelector, affinity or tolerations rule out every other node: change them or make a node it accepts schedulable; --force evacuates the others and leaves it on node-1",
      },
    ]);
  });

  it("names a node the VM would accept that the plan does not use (a cordon it tolerates)", () => {
    const tolerant = vm("prod", "tolerant", {
      nodeSelector: { zone: "east" },
      tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
    });
    const plan = planEvacuation(
      input([tolerant], {
        nodes: [
          node("node-1"),
          node("node-2"),
          node("node-3", { labels: { zone: "east" }, cordoned: true }),
          node("node-4", { labels: { zone: "east" }, cordoned: true }),
        ],
      }),
    );
    expect(plan.problems[0]?.message).toBe(
      "prod/tolerant can go to no other node: node-2: lacks label zone=east (nodeSelector); node-3: cordoned; node-4: cordoned.",
    );
  });

  it("reports a host-model VM whose node lacks its CPU model label: KubeVirt renders no target pod", () => {
    const host = vm("prod", "host", { cpuModel: "host-model" });
    const plan = planEvacuation(input([host], { launchers: new Map() }));
    expect(plan.room.unplaced).toEqual(["prod/host"]);
    expect(plan.problems[0]).toEqual({
      severity: "error",
      message:
        "prod/host can go to no other node: the source node node-1 has no host-model-cpu.node.kubevirt.io/<model> label, so KubeVirt cannot render the target pod of a host-model CPU.",
      hint: "check the node's labels: kubectl get node node-1 --show-labels",
    });
  });

  it("ignores PreferNoSchedule taints", () => {
    const plan = planEvacuation(
      input([vm("prod", "web")], {
        nodes: [node("node-1"), node("node-2", { taints: [{ key: "soft", effect: "PreferNoSchedule" }] })],
      }),
    );
    expect(plan.room.nodes.map((n) => [n.node, n.usable, n.placed])).toEqual([
      ["node-2", true, ["prod/web"]],
    ]);
  });

  it("uses a tainted node only for the VMs that tolerate the taint", () => {
    const taint: Taint = { key: "dedicated", value: "gpu", effect: "NoSchedule" };
    const gpu = vm("prod", "gpu", {
      memory: "8Gi",
      tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
    });
    const twoNodes = [node("node-1"), node("node-2", { memory: "4Gi" }), node("node-3", { taints: [taint] })];
    const plan = planEvacuation(input([gpu, vm("prod", "web", { memory: "4Gi" })], { nodes: twoNodes }));
    expect(plan.room.nodes.map((n) => [n.node, n.usable, n.placed])).toEqual([
      ["node-2", true, ["prod/web"]],
      ["node-3", true, ["prod/gpu"]],
    ]);
    const untolerated = planEvacuation(input([vm("prod", "web", { memory: "4Gi" })], { nodes: twoNodes }));
    expect(untolerated.room.nodes.map((n) => [n.node, n.usable, n.why])).toEqual([
      ["node-2", true, undefined],
      ["node-3", false, "taint dedicated=gpu:NoSchedule"],
    ]);
  });

  it("says why a node is not usable: cordoned, NotReady, a taint, not a KubeVirt node", () => {
    const plan = planEvacuation(
      input([vm("prod", "web")], {
        nodes: [
          node("node-1"),
          node("node-2", { cordoned: true }),
          node("node-3", { ready: false }),
          node("node-4", { taints: [{ key: "maint", effect: "NoExecute" }] }),
          node("node-5", { kubevirt: false }),
          node("node-6", { labels: { "kubevirt.io/schedulable": "false" } }),
        ],
      }),
    );
    expect(plan.room.nodes.map((n) => [n.node, n.usable, n.why])).toEqual([
      ["node-2", false, "cordoned"],
      ["node-3", false, "NotReady"],
      ["node-4", false, "taint maint:NoExecute"],
      ["node-5", false, "not a KubeVirt node (no kubevirt.io/schedulable=true label)"],
      ["node-6", false, "kubevirt.io/schedulable=false"],
    ]);
    expect(plan.problems[0]).toEqual({
      severity: "error",
      message:
        "No other node can take the 1 VM to move: node-2 is cordoned, node-3 is NotReady, node-4 has taint maint:NoExecute, node-5 is not a KubeVirt node (no kubevirt.io/schedulable=true label) and node-6 has kubevirt.io/schedulable=false.",
      hint: "uncordon a node whose maintenance is over (kubectl uncordon NODE) or add a node, then plan again; --force evacuates anyway, and whatever finds no node stays on node-1",
    });
  });

  it("says when the node is the only one", () => {
    const plan = planEvacuation(input([vm("prod", "a"), vm("prod", "b")], { nodes: [node("node-1")] }));
    expect(plan.room).toEqual({
      nodes: [],
      fits: false,
      unplaced: ["prod/a", "prod/b"],
      shortfall: { memoryBytes: 8 * GiB, cpuMillis: 2000 },
      checked: true,
    });
    expect(plan.problems[0]?.message).toBe(
      "No other node can take the 2 VMs to move: node-1 is the only node.",
    );
  });

  it("needs no room when nothing moves, and does not count blocked VMs", () => {
    const plan = planEvacuation(
      input([vm("prod", "ext", { strategy: "External", memory: "64Gi" })], { nodes: [node("node-1")] }),
    );
    expect(plan.room.fits).toBe(true);
    expect(plan.problems.filter((p) => p.severity === "error")).toEqual([]);
  });

  it("never places a VM on a node that runs another pod of it (KubeVirt's anti-affinity)", () => {
    const web = vm("prod", "web");
    const leftover: Pod = {
      ...web.launcher,
      metadata: { ...web.launcher.metadata, name: "virt-launcher-web-old" },
      spec: { ...web.launcher.spec, nodeName: "node-2" } as Pod["spec"],
    };
    const plan = planEvacuation(input([web], { pods: [web.launcher, leftover] }));
    expect(plan.vms[0]?.placedOn).toBe("node-3");
  });

  it("counts a running migration's bound target pod where it is, not again", () => {
    const web = vm("prod", "web", { memory: "20Gi" });
    const target: Pod = {
      ...web.launcher,
      metadata: {
        ...web.launcher.metadata,
        name: "virt-launcher-web-target",
        labels: { ...web.launcher.metadata.labels, "kubevirt.io/migrationJobUID": "mig-uid" },
      },
      spec: { ...web.launcher.spec, nodeName: "node-3" } as Pod["spec"],
      status: { phase: "Pending" },
    };
    const other = vm("prod", "other", { memory: "20Gi" });
    const plan = planEvacuation(
      input([web, other], {
        nodes: [node("node-1"), node("node-2"), node("node-3")],
        pods: [web.launcher, other.launcher, target],
        migrations: [vmim("kubevirt-evacuation-abc", { vmi: "web", phase: "Scheduling", uid: "mig-uid" })],
      }),
    );
    expect(plan.room.nodes.map((n) => [n.node, n.requested.memoryBytes, n.placed])).toEqual([
      ["node-2", 0, ["prod/other"]],
      ["node-3", 20 * GiB, ["prod/web"]],
    ]);
    expect(plan.vms.map((v) => [v.vm, v.placedOn])).toEqual([
      ["other", "node-2"],
      ["web", "node-3"],
    ]);
    expect(plan.room.fits).toBe(true);
  });

  it("places a VM whose migration's target pod is not bound yet like any other", () => {
    const web = vm("prod", "web");
    const target: Pod = {
      ...web.launcher,
      metadata: {
        ...web.launcher.metadata,
        name: "virt-launcher-web-target",
        labels: { ...web.launcher.metadata.labels, "kubevirt.io/migrationJobUID": "mig-uid" },
      },
      spec: { ...web.launcher.spec, nodeName: undefined } as unknown as Pod["spec"],
      status: { phase: "Pending" },
    };
    const plan = planEvacuation(
      input([web], {
        pods: [web.launcher, target],
        migrations: [vmim("kubevirt-evacuation-abc", { vmi: "web", phase: "Scheduling", uid: "mig-uid" })],
      }),
    );
    expect(plan.vms[0]?.placedOn).toBe("node-2");
    expect(plan.room.nodes[0]?.placed).toEqual(["prod/web"]);
  });

  it("checks nothing without the nodes, and says so", () => {
    const plan = planEvacuation(
      input([vm("prod", "web")], {
        nodes: undefined,
        pods: undefined,
        unread: { nodes: "nodes is forbidden" },
      }),
    );
    expect(plan.room).toEqual({
      nodes: [],
      fits: true,
      unplaced: [],
      shortfall: { memoryBytes: 0, cpuMillis: 0 },
      checked: false,
    });
    expect(plan.vms[0]?.placedOn).toBeUndefined();
    expect(plan.problems).toEqual([
      {
        severity: "warning",
        message:
          "Could not list the nodes, so the room on the other nodes was not checked (nodes is forbidden).",
      },
    ]);
  });

  it("takes every node as empty without the pods, and says so", () => {
    const plan = planEvacuation(
      input([vm("prod", "web")], { pods: undefined, unread: { pods: "pods is forbidden" } }),
    );
    expect(plan.room.nodes[0]?.requested).toEqual({ memoryBytes: 0, cpuMillis: 0 });
    expect(plan.problems).toEqual([
      {
        severity: "warning",
        message:
          "Could not list the pods on the nodes, so the room check took every node as empty and may count room that is taken (pods is forbidden).",
      },
    ]);
  });
});

describe("planEvacuation: limits", () => {
  const limited = kubevirt({ parallelOutboundMigrationsPerNode: 3, parallelMigrationsPerCluster: 4 });

  it("counts running migrations from the node and in the cluster, as KubeVirt does", () => {
    const web = vm("prod", "web");
    const plan = planEvacuation(
      input([web, vm("prod", "db"), vm("prod", "app")], {
        kubevirt: limited,
        migrations: [
          vmim("m-web", { vmi: "web", phase: "Running" }),
          vmim("m-far", { vmi: "far", phase: "Running" }),
          vmim("m-other", { vmi: "other", phase: "Scheduling" }),
          vmim("m-queued", { vmi: "queued", phase: "Pending" }),
          vmim("m-old", { vmi: "app", phase: "Succeeded" }),
        ],
        outboundNodes: new Map([
          ["prod/m-far", ["node-1"]],
          ["prod/m-other", ["node-2"]],
        ]),
      }),
    );
    expect(plan.vms.find((v) => v.vm === "web")?.migration).toEqual({
      name: "m-web",
      phase: "Running",
      trigger: "user",
    });
    expect(plan.limits).toEqual({
      perNode: 3,
      perCluster: 4,
      outboundFromNode: 2,
      inCluster: 3,
      freeSlots: 1,
      counted: true,
      queued: 1,
    });
    expect(plan.problems).toEqual([
      {
        severity: "warning",
        message:
          "prod/web is already migrating: m-web is Running, started by a user (kvmig migrate or virtctl migrate); kvmig follows it and starts no second migration.",
      },
    ]);
  });

  it("takes the cluster limit when it is the tighter, never below zero", () => {
    const plan = planEvacuation(
      input([vm("prod", "web")], {
        kubevirt: kubevirt({ parallelOutboundMigrationsPerNode: 5, parallelMigrationsPerCluster: 1 }),
        migrations: [
          vmim("m-a", { vmi: "a", phase: "Running" }),
          vmim("m-b", { vmi: "b", phase: "Running" }),
        ],
        outboundNodes: new Map(),
      }),
    );
    expect(plan.limits).toMatchObject({ outboundFromNode: 0, inCluster: 2, freeSlots: 0 });
    expect(plan.problems).toEqual([]);
    expect(plan.limits.queued).toBe(1);
  });

  it("counts a running migration of a VMI on the node from that VMI, without the map", () => {
    const web = vm("prod", "web");
    web.vmi.status = { ...web.vmi.status, migrationState: { sourceNode: "node-1" } };
    const plan = planEvacuation(
      input([web], {
        migrations: [vmim("m-web", { vmi: "web", phase: "Running" })],
        outboundNodes: undefined,
      }),
    );
    expect(plan.limits).toMatchObject({
      perNode: 2,
      perCluster: 5,
      outboundFromNode: 1,
      inCluster: 1,
      freeSlots: 1,
    });
  });

  it("assumes KubeVirt's defaults and counts nothing without the migrations", () => {
    const plan = planEvacuation(
      input([vm("prod", "a"), vm("prod", "b"), vm("prod", "c")], {
        migrations: undefined,
        unread: { migrations: "virtualmachineinstancemigrations.kubevirt.io is forbidden" },
      }),
    );
    expect(plan.limits).toEqual({
      perNode: 2,
      perCluster: 5,
      outboundFromNode: 0,
      inCluster: 0,
      freeSlots: 2,
      counted: false,
    });
    expect(plan.problems.map((p) => p.message)).toEqual([
      "Could not list the migrations: those already running, the free slots and the measured rate are unknown (virtualmachineinstancemigrations.kubevirt.io is forbidden).",
    ]);
  });
});

describe("planEvacuation: estimated duration", () => {
  it("divides the guest memory by bandwidthPerMigration times the migrations that run at once", () => {
    const plan = planEvacuation(
      input(
        [
          vm("prod", "a", { guest: "4Gi" }),
          vm("prod", "b", { guest: "4Gi" }),
          vm("prod", "c", { guest: "8Gi" }),
          vm("prod", "blocked", { guest: "64Gi", strategy: "External" }),
        ],
        { kubevirt: kubevirt({ bandwidthPerMigration: "64Mi", parallelOutboundMigrationsPerNode: 2 }) },
      ),
    );
    // 16 GiB at 2 x 64 MiB/s.
    expect(plan.estimate).toEqual({
      seconds: 128,
      basis: "16.0 GiB of guest memory at 64.0 MiB/s per migration (bandwidthPerMigration), 2 at a time",
    });
  });

  it("runs no more at once than there are VMs to migrate, and rounds up", () => {
    const plan = planEvacuation(
      input([vm("prod", "a", { guest: "1000Mi" })], {
        kubevirt: kubevirt({ bandwidthPerMigration: "300Mi" }),
      }),
    );
    expect(plan.estimate).toEqual({
      seconds: 4,
      basis: "1000 MiB of guest memory at 300 MiB/s per migration (bandwidthPerMigration), 1 at a time",
    });
  });

  it("measures the rate from recent successful migrations when no bandwidth is set: the median", () => {
    const earlier = (id: string, vmi: string, seconds: number, end: string) =>
      vmim(id, {
        vmi,
        phase: "Succeeded",
        start: new Date(Date.parse(end) - seconds * 1000).toISOString(),
        end,
      });
    const past = [
      vm("prod", "p1", { node: "node-3", guest: "8Gi" }),
      vm("prod", "p2", { node: "node-2", guest: "2Gi" }),
    ];
    const plan = planEvacuation(
      input([vm("prod", "a", { guest: "6Gi" }), vm("prod", "b", { guest: "6Gi" })], {
        kubevirt: kubevirt({ bandwidthPerMigration: "0Mi" }),
        vmis: [
          ...[vm("prod", "a", { guest: "6Gi" }), vm("prod", "b", { guest: "6Gi" })].map((v) => v.vmi),
          ...past.map((v) => v.vmi),
        ],
        migrations: [
          // Newest first: 512, 128, 256 MiB/s; the median is the middle of them sorted.
          earlier("m1", "p2", 8, "2025-03-01T10:00:00Z"), // 256 MiB/s
          earlier("m2", "p1", 64, "2025-03-01T10:10:00Z"), // 128 MiB/s
          earlier("m3", "p1", 16, "2025-03-01T10:20:00Z"), // 512 MiB/s
          earlier("m4", "gone", 10, "2025-03-01T10:30:00Z"), // VMI not known: not counted
          vmim("m5", {
            vmi: "p1",
            phase: "Failed",
            start: "2025-03-01T10:00:00Z",
            end: "2025-03-01T10:00:01Z",
          }),
          vmim("m6", { vmi: "p1", phase: "Succeeded" }),
          vmim("m7", { vmi: "p1", phase: "Succeeded", start: "2025-03-01T10:40:00Z" }),
          vmim("m8", { vmi: "p1", phase: "Succeeded", end: "2025-03-01T10:40:00Z" }),
          vmim("m9", {
            vmi: "p1",
            phase: "Succeeded",
            start: "2025-03-01T10:50:00Z",
            end: "2025-03-01T10:50:00Z",
          }),
        ],
      }),
    );
    // 12 GiB at 2 x 256 MiB/s.
    expect(plan.estimate).toEqual({
      seconds: 24,
      basis:
        "12.0 GiB of guest memory at 256 MiB/s per migration (the median of 3 recent successful migrations), 2 at a time",
    });
  });

  it("takes the mean of the middle two of an even count, and only the 20 newest", () => {
    const past = vm("prod", "p", { node: "node-2", guest: "1Gi" });
    const migrations: VirtualMachineInstanceMigration[] = [];
    // 20 new ones at 1 GiB in 4 s (256 MiB/s) and 2 s (512 MiB/s), 10 each; 5 old ones at 1 s.
    for (let i = 0; i < 25; i++) {
      const end = Date.parse("2025-03-01T10:00:00Z") + i * 60_000;
      const seconds = i < 5 ? 1 : i % 2 === 0 ? 4 : 2;
      migrations.push(
        vmim(`m${i}`, {
          vmi: "p",
          phase: "Succeeded",
          start: new Date(end - seconds * 1000).toISOString(),
          end: new Date(end).toISOString(),
        }),
      );
    }
    const a = vm("prod", "a", { guest: "384Mi" });
    const plan = planEvacuation(input([a], { vmis: [a.vmi, past.vmi], migrations }));
    // Median of ten 256s and ten 512s: 384 MiB/s.
    expect(plan.estimate).toEqual({
      seconds: 1,
      basis:
        "384 MiB of guest memory at 384 MiB/s per migration (the median of 20 recent successful migrations), 1 at a time",
    });
    const one = planEvacuation(input([a], { vmis: [a.vmi, past.vmi], migrations: migrations.slice(6, 7) }));
    expect(one.estimate.basis).toBe(
      "384 MiB of guest memory at 256 MiB/s per migration (the median of 1 recent successful migration), 1 at a time",
    );
    expect(one.estimate.seconds).toBe(2);
  });

  it("has no estimate without a bandwidth or a migration to measure, and says why", () => {
    expect(planEvacuation(input([vm("prod", "a")])).estimate).toEqual({
      seconds: null,
      basis: "no bandwidth limit set and no recent migration to measure",
    });
    expect(planEvacuation(input([vm("prod", "a")], { migrations: undefined })).estimate).toEqual({
      seconds: null,
      basis: "no bandwidth limit set, and the migrations could not be listed to measure a rate",
    });
    expect(planEvacuation(input([vm("prod", "x", { strategy: "External" })])).estimate).toEqual({
      seconds: 0,
      basis: "no VM to migrate",
    });
  });
});

describe("planEvacuation: warnings", () => {
  it("names a VM already migrating, with who started it", () => {
    const plan = planEvacuation(
      input([vm("prod", "a"), vm("prod", "b"), vm("prod", "c")], {
        kubevirt: kubevirt({ parallelOutboundMigrationsPerNode: 5 }),
        migrations: [
          // Another namespace's VMI of the same name: not this VM's migration.
          vmim("dev-a", { vmi: "a", namespace: "dev", phase: "Running", created: "2025-03-01T11:30:00Z" }),
          vmim("kubevirt-evacuation-x1", {
            vmi: "a",
            phase: "",
            annotations: { "kubevirt.io/evacuationMigration": "node-1" },
          }),
          vmim("kubevirt-workload-update-y", {
            vmi: "b",
            phase: "Scheduling",
            annotations: { "kubevirt.io/workloadUpdateMigration": "" },
          }),
          vmim("kubevirt-evacuation-z", {
            vmi: "c",
            phase: "Pending",
            annotations: { "kubevirt.io/evacuationMigration": "" },
          }),
          vmim("old", { vmi: "c", phase: "Failed" }),
        ],
      }),
    );
    expect(plan.vms.map((v) => v.migration)).toEqual([
      { name: "kubevirt-evacuation-x1", phase: "Pending", trigger: "evacuation" },
      { name: "kubevirt-workload-update-y", phase: "Scheduling", trigger: "workload-update" },
      { name: "kubevirt-evacuation-z", phase: "Pending", trigger: "evacuation" },
    ]);
    expect(plan.problems.map((p) => p.message)).toEqual([
      "prod/a is already migrating: kubevirt-evacuation-x1 is Pending, started by KubeVirt's evacuation of node-1; kvmig follows it and starts no second migration.",
      "prod/b is already migrating: kubevirt-workload-update-y is Scheduling, started by KubeVirt's workload updater; kvmig follows it and starts no second migration.",
      "prod/c is already migrating: kubevirt-evacuation-z is Pending, started by KubeVirt's evacuation; kvmig follows it and starts no second migration.",
    ]);
  });

  it("says the node is already cordoned, and tells marked VMs from those marked elsewhere", () => {
    const cordoned = [node("node-1", { cordoned: true }), node("node-2")];
    const plan = planEvacuation(
      input(
        [
          vm("prod", "here", { evacuationNodeName: "node-1" }),
          vm("prod", "stale", { evacuationNodeName: "node-7" }),
        ],
        { nodes: cordoned },
      ),
    );
    expect(plan.cordoned).toBe(true);
    expect(plan.vms.map((v) => [v.vm, v.marked])).toEqual([
      ["here", true],
      ["stale", false],
    ]);
    expect(plan.problems).toEqual([
      {
        severity: "warning",
        message:
          "node-1 is already cordoned (spec.unschedulable): a drain or another maintenance may be under way.",
        hint: "kvmig watch --node node-1 follows the migrations already leaving it",
      },
      {
        severity: "warning",
        message:
          "prod/stale is marked for evacuation from node-7, not from node-1 where it runs (status.evacuationNodeName).",
        hint: "kvmig cancel stale -n prod clears a mark that is left over",
      },
    ]);
  });

  it("warns of the restarts' downtime", () => {
    const plan = planEvacuation(
      input([vm("prod", "a", { migratable: false }), vm("prod", "b", { strategy: "None" })], {
        options: { restart: true },
      }),
    );
    expect(plan.problems).toEqual([
      {
        severity: "warning",
        message:
          "2 VMs cannot live-migrate and will be restarted on another node, with downtime: prod/a and prod/b.",
      },
    ]);
  });

  it("lists the VMs that stay, and offers --restart for the ones it would move", () => {
    const one = planEvacuation(input([vm("prod", "legacy", { migratable: false })]));
    expect(one.problems).toEqual([
      {
        severity: "warning",
        message: "1 VM will stay on node-1, as the evacuation cannot move it: prod/legacy.",
        hint: "kvmig evacuate node-1 --restart restarts it on other nodes (downtime); each VM's line names the command that moves it alone",
      },
    ]);
    const mixed = planEvacuation(
      input([
        vm("prod", "legacy", { migratable: false }),
        vm("prod", "ext", { strategy: "External" }),
        vm("prod", "none", { strategy: "None" }),
      ]),
    );
    expect(mixed.problems).toEqual([
      {
        severity: "warning",
        message:
          "3 VMs will stay on node-1, as the evacuation cannot move them: prod/ext, prod/legacy and prod/none.",
        hint: "kvmig evacuate node-1 --restart restarts the 2 that cannot live-migrate on other nodes (downtime); each VM's line names the command that moves it alone",
      },
    ]);
    const two = planEvacuation(
      input([vm("prod", "a", { migratable: false }), vm("prod", "b", { migratable: false })]),
    );
    expect(two.problems[0]?.hint).toBe(
      "kvmig evacuate node-1 --restart restarts them on other nodes (downtime); each VM's line names the command that moves it alone",
    );
    const external = planEvacuation(
      input([vm("prod", "ext", { strategy: "External" })], { options: { restart: true } }),
    );
    expect(external.problems).toEqual([
      {
        severity: "warning",
        message: "1 VM will stay on node-1, as the evacuation cannot move it: prod/ext.",
        hint: "each VM's line names the command that moves it",
      },
    ]);
  });

  it("groups what placement could not check", () => {
    const affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname" }],
      },
    };
    const plan = planEvacuation(
      input([
        vm("prod", "a", { affinity }),
        vm("prod", "b", { affinity }),
        vm("prod", "c"),
        vm("prod", "d-blocked", { affinity, strategy: "External" }),
      ]),
    );
    // Not for a VM that does not move.
    const notChecked = (problems: { message: string }[]) =>
      problems.map((p) => p.message).filter((m) => m.startsWith("Not checked"));
    expect(notChecked(plan.problems)).toEqual([
      "Not checked for prod/a and prod/b: the VM's own pod affinity rules were not checked.",
    ]);
    // Without the node's pods, the missing launcher pod is said once, the other notes still.
    const unread = planEvacuation(input([vm("prod", "a", { affinity })], { launchers: undefined }));
    expect(notChecked(unread.problems)).toEqual([
      "Not checked for prod/a: the VM's own pod affinity rules were not checked.",
    ]);
  });

  it("says what it could not read, with why", () => {
    const plan = planEvacuation(
      input([vm("prod", "web")], {
        launchers: undefined,
        vms: undefined,
        kubevirt: undefined,
        unread: {
          launchers: "pods is forbidden",
          vms: "virtualmachines.kubevirt.io is forbidden",
          kubevirt: "kubevirts.kubevirt.io is forbidden",
        },
      }),
    );
    expect(plan.problems.map((p) => p.message)).toEqual([
      "Could not list the pods on node-1: the launcher pods are not named, and each VM's size is its VMI's requests, without KubeVirt's overhead (pods is forbidden).",
      "Could not list the VirtualMachines: a VMI without a VirtualMachine owner is taken as standalone (virtualmachines.kubevirt.io is forbidden).",
      "Could not read the KubeVirt CR: KubeVirt's default limits are assumed, and a VMI without its own eviction strategy has an unknown one (kubevirts.kubevirt.io is forbidden).",
    ]);
    const none = planEvacuation(input([], { kubevirt: null }));
    expect(none.problems).toEqual([
      {
        severity: "warning",
        message:
          "No KubeVirt CR was found: KubeVirt's default limits are assumed, and a VMI without its own eviction strategy has an unknown one.",
      },
    ]);
    expect(none.vms).toEqual([]);
  });
});
