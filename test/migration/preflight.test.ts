// Pre-flight checks before `kvmig migrate`: one verdict per check, with the operator's message.
import { describe, expect, it } from "vitest";
import type {
  KubeVirt,
  Network,
  NetworkAttachmentDefinition,
  Node,
  Pod,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
  VMIMPhase,
} from "../../src/k8s/types.js";
import {
  checkAccess,
  checkInFlight,
  checkLauncherImage,
  checkLiveMigratable,
  checkNetworks,
  checkParallelLimits,
  checkTargetNodes,
  checkVmiRunning,
  limitsOf,
  type PreflightInput,
  preflight,
  unfinishedMigration,
} from "../../src/migration/preflight.js";

const image = "quay.io/kubevirt/virt-launcher:v1.5.0";
const newImage = "quay.io/kubevirt/virt-launcher:v1.5.2";

function node(
  name: string,
  options: { ready?: boolean | "missing"; cordoned?: boolean; labels?: Record<string, string> } = {},
): Node {
  const ready = options.ready ?? true;
  // virt-handler labels every node it serves kubevirt.io/schedulable=true; target pods require it.
  return {
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": name, "kubevirt.io/schedulable": "true", ...options.labels },
    },
    spec: options.cordoned ? { unschedulable: true } : {},
    status: {
      conditions:
        ready === "missing"
          ? [{ type: "MemoryPressure", status: "False" }]
          : [
              { type: "MemoryPressure", status: "False" },
              { type: "Ready", status: ready ? "True" : "Unknown" },
            ],
    },
  };
}

function vmiWith(changes: {
  phase?: NonNullable<VirtualMachineInstance["status"]>["phase"];
  nodeName?: string | undefined;
  liveMigratable?: { status: "True" | "False"; reason?: string; message?: string } | undefined;
  labels?: Record<string, string>;
  launcherImage?: string | undefined;
  networks?: Network[];
}): VirtualMachineInstance {
  return {
    metadata: {
      name: "db-0",
      namespace: "prod",
      labels: { "kubevirt.io/nodeName": "node-a", ...changes.labels },
    },
    spec: changes.networks ? { networks: changes.networks } : {},
    status: {
      phase: changes.phase ?? "Running",
      ...("nodeName" in changes
        ? changes.nodeName
          ? { nodeName: changes.nodeName }
          : {}
        : { nodeName: "node-a" }),
      ...("launcherImage" in changes
        ? changes.launcherImage === undefined
          ? {}
          : { launcherContainerImageVersion: changes.launcherImage }
        : { launcherContainerImageVersion: image }),
      conditions: [
        { type: "Ready", status: "True" },
        ...("liveMigratable" in changes
          ? changes.liveMigratable
            ? [{ type: "LiveMigratable", ...changes.liveMigratable }]
            : []
          : [{ type: "LiveMigratable", status: "True" as const }]),
      ],
    },
  };
}

function vmWithNetworks(networks: Network[]): VirtualMachine {
  return {
    metadata: { name: "db-0", namespace: "prod" },
    spec: { runStrategy: "Always", template: { spec: { networks } } },
  };
}

function nad(name: string, namespace?: string): NetworkAttachmentDefinition {
  return { metadata: namespace === undefined ? { name } : { name, namespace }, spec: { config: "{}" } };
}

function migration(
  name: string,
  phase: VMIMPhase | undefined,
  created = "2025-03-14T09:00:00Z",
): VirtualMachineInstanceMigration {
  return {
    metadata: { name, namespace: "prod", creationTimestamp: created },
    spec: { vmiName: "db-0" },
    status: phase === undefined ? {} : { phase },
  };
}

function kubevirt(migrations: {
  parallelMigrationsPerCluster?: number;
  parallelOutboundMigrationsPerNode?: number;
}): KubeVirt {
  return { metadata: { name: "kubevirt", namespace: "kubevirt" }, spec: { configuration: { migrations } } };
}

function input(overrides: Partial<PreflightInput> = {}): PreflightInput {
  return {
    namespace: "prod",
    vmName: "db-0",
    vm: vmWithNetworks([{ name: "default", pod: {} }]),
    vmi: vmiWith({}),
    migrations: [],
    nodes: [node("node-a"), node("node-b"), node("node-c")],
    pods: [],
    nads: [],
    currentLauncherImage: image,
    clusterMigrations: [],
    outboundNodes: new Map(),
    access: { allowed: true },
    accessDescription: "update virtualmachines/migrate",
    ...overrides,
  };
}

describe("limitsOf", () => {
  it("uses KubeVirt's defaults without a CR or without the settings", () => {
    expect(limitsOf(undefined)).toEqual({ perCluster: 5, perNode: 2 });
    expect(limitsOf({ metadata: {}, spec: {} })).toEqual({ perCluster: 5, perNode: 2 });
    expect(limitsOf(kubevirt({}))).toEqual({ perCluster: 5, perNode: 2 });
  });

  it("reads spec.configuration.migrations, each setting on its own", () => {
    expect(
      limitsOf(kubevirt({ parallelMigrationsPerCluster: 10, parallelOutboundMigrationsPerNode: 4 })),
    ).toEqual({
      perCluster: 10,
      perNode: 4,
    });
    expect(limitsOf(kubevirt({ parallelOutboundMigrationsPerNode: 1 }))).toEqual({
      perCluster: 5,
      perNode: 1,
    });
    expect(limitsOf(kubevirt({ parallelMigrationsPerCluster: 0 }))).toEqual({ perCluster: 0, perNode: 2 });
  });
});

describe("unfinishedMigration", () => {
  it("is undefined with no migrations or only final ones", () => {
    expect(unfinishedMigration([])).toBeUndefined();
    expect(unfinishedMigration([migration("a", "Succeeded"), migration("b", "Failed")])).toBeUndefined();
  });

  it("is the newest unfinished migration, a phase-less one included", () => {
    const list = [
      migration("old-running", "Running", "2025-03-14T08:00:00Z"),
      migration("newer-failed", "Failed", "2025-03-14T10:00:00Z"),
      migration("new-unset", undefined, "2025-03-14T09:30:00Z"),
    ];
    expect(unfinishedMigration(list)?.metadata.name).toBe("new-unset");
    expect(unfinishedMigration(list.slice(0, 2))?.metadata.name).toBe("old-running");
  });

  it("does not reorder the caller's array", () => {
    const list = [
      migration("b", "Running", "2025-03-14T08:00:00Z"),
      migration("a", "Pending", "2025-03-14T09:00:00Z"),
    ];
    unfinishedMigration(list);
    expect(list.map((m) => m.metadata.name)).toEqual(["b", "a"]);
  });
});

describe("checkVmiRunning", () => {
  it("errors without a VMI, with the command to start it", () => {
    expect(checkVmiRunning(input({ vmi: undefined }))).toEqual({
      check: "vmi-running",
      status: "error",
      message: "VM db-0 is not running (no VirtualMachineInstance)",
      hint: "start it first: virtctl start db-0 -n prod; kubectl get vm,vmi db-0 -n prod shows both",
      blocking: true,
    });
  });

  it("errors for a VMI that is not Running", () => {
    expect(checkVmiRunning(input({ vmi: vmiWith({ phase: "Scheduling" }) }))).toEqual({
      check: "vmi-running",
      status: "error",
      message: "VMI db-0 is Scheduling, not Running",
      hint: "only a Running VMI can be live-migrated",
      blocking: true,
    });
    expect(checkVmiRunning(input({ vmi: vmiWith({ phase: "" }) })).message).toBe(
      "VMI db-0 is not yet scheduled, not Running",
    );
    expect(checkVmiRunning(input({ vmi: { metadata: { name: "db-0" }, spec: {} } })).message).toBe(
      "VMI db-0 is not yet scheduled, not Running",
    );
  });

  it("is ok for a Running VMI, naming its node", () => {
    expect(checkVmiRunning(input())).toEqual({
      check: "vmi-running",
      status: "ok",
      message: "VMI db-0 is Running on node-a",
    });
    expect(checkVmiRunning(input({ vmi: vmiWith({ nodeName: undefined }) })).message).toBe(
      "VMI db-0 is Running on ?",
    );
  });
});

describe("checkLiveMigratable", () => {
  it("is ok when LiveMigratable is True", () => {
    expect(checkLiveMigratable(input())).toEqual({
      check: "live-migratable",
      status: "ok",
      message: "live-migratable",
    });
  });

  it("warns when the condition is not reported yet", () => {
    const verdict = checkLiveMigratable(input({ vmi: vmiWith({ liveMigratable: undefined }) }));
    expect(verdict.status).toBe("warning");
    expect(verdict.message).toBe("the VMI does not report LiveMigratable yet");
    expect(verdict.hint).toContain("KubeVirt will refuse the migration if it is not migratable");
  });

  it("errors with the condition's reason and message, pointing at restart", () => {
    const vmi = vmiWith({
      liveMigratable: {
        status: "False",
        reason: "DisksNotLiveMigratable",
        message:
          "cannot migrate VMI: PVC rootdisk is not shared, live migration requires that all PVCs must be shared",
      },
    });
    expect(checkLiveMigratable(input({ vmi }))).toEqual({
      check: "live-migratable",
      status: "error",
      message:
        "not live-migratable: DisksNotLiveMigratable: cannot migrate VMI: PVC rootdisk is not shared, live migration requires that all PVCs must be shared",
      hint: "KubeVirt refuses this migration; kvmig restart db-0 -n prod moves it with downtime",
    });
  });

  it("errors with a default reason and no message when the condition has neither", () => {
    const verdict = checkLiveMigratable(input({ vmi: vmiWith({ liveMigratable: { status: "False" } }) }));
    expect(verdict.status).toBe("error");
    expect(verdict.message).toBe("not live-migratable: NotMigratable");
  });
});

describe("checkInFlight", () => {
  it("is ok without an unfinished migration", () => {
    expect(checkInFlight(input({ migrations: [migration("done", "Succeeded")] }))).toEqual({
      check: "in-flight",
      status: "ok",
      message: "no migration in progress",
    });
  });

  it("warns that it follows the unfinished migration instead", () => {
    expect(checkInFlight(input({ migrations: [migration("kvmig-db-0-abc12", "Running")] }))).toEqual({
      check: "in-flight",
      status: "warning",
      message: "migration kvmig-db-0-abc12 is already Running; following it instead of starting another",
    });
    expect(checkInFlight(input({ migrations: [migration("kvmig-db-0-new", undefined)] })).message).toBe(
      "migration kvmig-db-0-new is already Pending; following it instead of starting another",
    );
  });
});

describe("checkLauncherImage", () => {
  it("is ok when the running image is the current one", () => {
    expect(checkLauncherImage(input())).toEqual({
      check: "launcher-image",
      status: "ok",
      message: `launcher image is current (${image})`,
    });
  });

  it("is ok when the current image is unknown and the VMI is not labelled outdated", () => {
    expect(checkLauncherImage(input({ currentLauncherImage: undefined })).status).toBe("ok");
  });

  it("is ok, saying so, when the VMI reports no image", () => {
    expect(checkLauncherImage(input({ vmi: vmiWith({ launcherImage: undefined }) }))).toEqual({
      check: "launcher-image",
      status: "ok",
      message: "launcher image not reported",
    });
    expect(checkLauncherImage(input({ vmi: vmiWith({ launcherImage: "" }) })).message).toBe(
      "launcher image not reported",
    );
  });

  it("warns when launcherContainerImageVersion differs from the current image", () => {
    expect(checkLauncherImage(input({ currentLauncherImage: newImage }))).toEqual({
      check: "launcher-image",
      status: "warning",
      message: `outdated virt-launcher ${image} (current ${newImage}): version-skew risk`,
      hint: "if the migration fails, kvmig restart db-0 -n prod is the safer path (with downtime)",
    });
  });

  it("warns when the VMI carries the outdatedLauncherImage label, even with matching images", () => {
    const labelled = vmiWith({ labels: { "kubevirt.io/outdatedLauncherImage": "" } });
    const verdict = checkLauncherImage(input({ vmi: labelled }));
    expect(verdict.status).toBe("warning");
    expect(verdict.message).toBe(`outdated virt-launcher ${image} (current ${image}): version-skew risk`);
    const bare = checkLauncherImage(
      input({
        vmi: vmiWith({ labels: { "kubevirt.io/outdatedLauncherImage": "" }, launcherImage: undefined }),
        currentLauncherImage: undefined,
      }),
    );
    expect(bare.message).toBe("outdated virt-launcher: version-skew risk");
  });
});

describe("checkNetworks", () => {
  const multus = (networkName: string, name = networkName.replace("/", "-")): Network => ({
    name,
    multus: { networkName },
  });

  it("is ok without Multus networks", () => {
    expect(checkNetworks(input())).toEqual({
      check: "networks",
      status: "ok",
      message: "no Multus networks",
    });
    expect(checkNetworks(input({ vm: undefined, vmi: vmiWith({}) })).message).toBe("no Multus networks");
  });

  it("is ok when every NAD is present in the namespace", () => {
    const verdict = checkNetworks(
      input({
        vm: vmWithNetworks([{ name: "default", pod: {} }, multus("storage-net"), multus("vlan-20")]),
        nads: [nad("storage-net", "prod"), nad("vlan-20", "prod"), nad("unused", "prod")],
      }),
    );
    expect(verdict).toEqual({
      check: "networks",
      status: "ok",
      message: "Multus networks present: storage-net, vlan-20",
    });
  });

  it("errors when a NAD is missing, naming it", () => {
    const verdict = checkNetworks(
      input({
        vm: vmWithNetworks([multus("storage-net"), multus("vlan-20")]),
        nads: [nad("storage-net", "prod")],
      }),
    );
    expect(verdict).toEqual({
      check: "networks",
      status: "error",
      message: "NetworkAttachmentDefinition vlan-20 not found in prod; the target pod cannot start",
      hint: "create it: kubectl get network-attachment-definitions -A, then kubectl apply -n prod -f NAD.yaml",
    });
  });

  it("names a qualified reference with its own namespace", () => {
    const verdict = checkNetworks(input({ vm: vmWithNetworks([multus("infra/br-ext")]), nads: [] }));
    expect(verdict.message).toBe(
      "NetworkAttachmentDefinition infra/br-ext not found; the target pod cannot start",
    );
  });

  it("does not accept a NAD of the same name in another namespace", () => {
    const verdict = checkNetworks(
      input({ vm: vmWithNetworks([multus("storage-net")]), nads: [nad("storage-net", "infra")] }),
    );
    expect(verdict.status).toBe("error");
    expect(verdict.message).toContain("storage-net not found");
  });

  it("resolves a namespaced ns/name reference in that namespace", () => {
    const vm = vmWithNetworks([multus("infra/br-ext")]);
    expect(checkNetworks(input({ vm, nads: [nad("br-ext", "infra")] }))).toEqual({
      check: "networks",
      status: "ok",
      message: "Multus networks present: infra/br-ext",
    });
    const missing = checkNetworks(input({ vm, nads: [nad("br-ext", "prod")] }));
    expect(missing.status).toBe("error");
    expect(missing.message).toContain("NetworkAttachmentDefinition infra/br-ext not found");
  });

  it("takes a NAD listed without a namespace as one of the VM's namespace", () => {
    expect(
      checkNetworks(input({ vm: vmWithNetworks([multus("storage-net")]), nads: [nad("storage-net")] }))
        .status,
    ).toBe("ok");
  });

  it("warns when the NADs could not be listed", () => {
    expect(
      checkNetworks(
        input({ vm: vmWithNetworks([multus("storage-net"), multus("infra/br-ext")]), nads: undefined }),
      ),
    ).toEqual({
      check: "networks",
      status: "warning",
      message: "could not list NetworkAttachmentDefinitions to check storage-net, infra/br-ext",
    });
  });

  it("reads the VMI's networks when there is no VM", () => {
    const vmi = vmiWith({ networks: [multus("vlan-20")] });
    expect(checkNetworks(input({ vm: undefined, vmi, nads: [] })).status).toBe("error");
    expect(checkNetworks(input({ vm: undefined, vmi, nads: [nad("vlan-20", "prod")] })).status).toBe("ok");
  });
});

describe("checkTargetNodes", () => {
  it("warns when the nodes could not be listed", () => {
    expect(checkTargetNodes(input({ nodes: undefined }))).toEqual({
      check: "target-nodes",
      status: "warning",
      message: "could not list nodes to check for a target",
    });
  });

  it("counts the other Ready, schedulable nodes", () => {
    expect(checkTargetNodes(input())).toEqual({
      check: "target-nodes",
      status: "ok",
      message: "2 other schedulable nodes: node-b, node-c",
    });
    const one = checkTargetNodes(
      input({ nodes: [node("node-a"), node("node-b"), node("node-c", { cordoned: true })] }),
    );
    expect(one.message).toBe("1 other schedulable node: node-b");
  });

  it("leaves out cordoned, not Ready, condition-less and kubevirt.io/schedulable=false nodes", () => {
    const verdict = checkTargetNodes(
      input({
        nodes: [
          node("node-a"),
          node("node-b", { cordoned: true }),
          node("node-c", { ready: false }),
          node("node-d", { ready: "missing" }),
          node("node-e", { labels: { "kubevirt.io/schedulable": "false" } }),
          node("node-f", { labels: { "kubevirt.io/schedulable": "true" } }),
        ],
      }),
    );
    expect(verdict.message).toBe("1 other schedulable node: node-f");
  });

  it("shows at most four names", () => {
    const nodes = ["node-a", "n1", "n2", "n3", "n4", "n5", "n6"].map((n) => node(n));
    expect(checkTargetNodes(input({ nodes })).message).toBe("6 other schedulable nodes: n1, n2, n3, n4, …");
    expect(checkTargetNodes(input({ nodes: nodes.slice(0, 5) })).message).toBe(
      "4 other schedulable nodes: n1, n2, n3, n4",
    );
  });

  it("errors when no other node can take the VMI, with every node and its reason", () => {
    expect(checkTargetNodes(input({ nodes: [node("node-a"), node("node-b", { cordoned: true })] }))).toEqual({
      check: "target-nodes",
      status: "error",
      message: "no node can take it: node-b: cordoned",
      hint: "uncordon one when its maintenance is over: kubectl uncordon node-b",
      nodes: [
        { node: "node-a", reason: "the source node" },
        { node: "node-b", reason: "cordoned" },
      ],
    });
  });

  it("narrows the candidates with the node selector", () => {
    const nodes = [
      node("node-a", { labels: { zone: "a" } }),
      node("node-b", { labels: { zone: "a", gpu: "true" } }),
      node("node-c", { labels: { zone: "b", gpu: "true" } }),
      node("node-d", { labels: { zone: "b" } }),
    ];
    expect(checkTargetNodes(input({ nodes, nodeSelector: { gpu: "true" } })).message).toBe(
      "2 other schedulable nodes: node-b, node-c",
    );
    expect(checkTargetNodes(input({ nodes, nodeSelector: { gpu: "true", zone: "b" } })).message).toBe(
      "1 other schedulable node: node-c",
    );
    // No node has the label at all: that is what to say, and how to check it.
    expect(checkTargetNodes(input({ nodes, nodeSelector: { zone: "c" } }))).toEqual({
      check: "target-nodes",
      status: "error",
      message: "no node other than the source has the label zone=c",
      hint: "check the labels: kubectl get nodes -l zone=c",
    });
    expect(checkTargetNodes(input({ nodes, nodeSelector: { zone: "c", gpu: "true" } })).message).toBe(
      "no node other than the source has the labels zone=c,gpu=true",
    );
    // Nodes have the label but cannot take the pod: then capacity and cordons are the question.
    const cordoned = [node("node-a"), node("node-b", { labels: { zone: "c" }, cordoned: true })];
    expect(checkTargetNodes(input({ nodes: cordoned, nodeSelector: { zone: "c" } }))).toEqual({
      check: "target-nodes",
      status: "error",
      message: "no node can take it: node-b: cordoned",
      hint: "uncordon one when its maintenance is over: kubectl uncordon node-b",
      nodes: [
        { node: "node-a", reason: "the source node" },
        { node: "node-b", reason: "cordoned" },
      ],
    });
    // The source node matching the selector does not count.
    expect(checkTargetNodes(input({ nodes, nodeSelector: { zone: "a", gpu: "true" } })).message).toBe(
      "1 other schedulable node: node-b",
    );
    expect(checkTargetNodes(input({ nodes: nodes.slice(0, 1), nodeSelector: { zone: "a" } })).status).toBe(
      "error",
    );
  });

  describe("--target-node", () => {
    it("is ok for a Ready, schedulable node", () => {
      expect(checkTargetNodes(input({ targetNode: "node-b" }))).toEqual({
        check: "target-nodes",
        status: "ok",
        message: "target node node-b is Ready and schedulable",
      });
    });

    it("errors for a node that does not exist", () => {
      expect(checkTargetNodes(input({ targetNode: "node-x" }))).toEqual({
        check: "target-nodes",
        status: "error",
        message: "target node node-x does not exist",
        hint: "kubectl get nodes",
      });
    });

    it("errors for the node the VMI already runs on", () => {
      expect(checkTargetNodes(input({ targetNode: "node-a" }))).toEqual({
        check: "target-nodes",
        status: "error",
        message: "the VMI already runs on node-a",
        hint: "pick another --target-node",
      });
    });

    it("errors for a cordoned node", () => {
      expect(
        checkTargetNodes(
          input({ targetNode: "node-b", nodes: [node("node-a"), node("node-b", { cordoned: true })] }),
        ),
      ).toEqual({
        check: "target-nodes",
        status: "error",
        message: "target node node-b is cordoned",
        hint: "pick another --target-node",
      });
    });

    it("errors for a node that is not Ready", () => {
      const nodes = [node("node-a"), node("node-b", { ready: false }), node("node-c", { ready: "missing" })];
      expect(checkTargetNodes(input({ targetNode: "node-b", nodes })).message).toBe(
        "target node node-b is not Ready",
      );
      expect(checkTargetNodes(input({ targetNode: "node-c", nodes })).message).toBe(
        "target node node-c is not Ready",
      );
    });

    it("errors for a node KubeVirt marked unschedulable", () => {
      const nodes = [node("node-a"), node("node-b", { labels: { "kubevirt.io/schedulable": "false" } })];
      expect(checkTargetNodes(input({ targetNode: "node-b", nodes })).message).toBe(
        "target node node-b is kubevirt.io/schedulable=false",
      );
    });

    it("checks the named node, not the selector", () => {
      const nodes = [node("node-a"), node("node-b", { labels: { zone: "a" } })];
      expect(
        checkTargetNodes(input({ targetNode: "node-b", nodes, nodeSelector: { zone: "z" } })).status,
      ).toBe("ok");
    });
  });
});

describe("checkTargetNodes: where the scheduler would put the target pod", () => {
  const withSpec = (spec: VirtualMachineInstance["spec"], base = vmiWith({})): VirtualMachineInstance => ({
    ...base,
    metadata: { ...base.metadata, uid: "vmi-uid" },
    spec,
  });

  it("errors when the VM's own nodeSelector pins it to its node, naming each node and the label", () => {
    const vmi = withSpec({ nodeSelector: { "kubernetes.io/hostname": "node-a" } });
    expect(checkTargetNodes(input({ vmi }))).toEqual({
      check: "target-nodes",
      status: "error",
      message:
        "no node can take it: node-b, node-c: lacks label kubernetes.io/hostname=node-a (nodeSelector)",
      hint: "the VM's nodeSelector allows no other node: change spec.template.spec.nodeSelector if it may move (kubectl edit vm db-0 -n prod)",
      nodes: [
        { node: "node-a", reason: "the source node" },
        { node: "node-b", reason: "lacks label kubernetes.io/hostname=node-a (nodeSelector)" },
        { node: "node-c", reason: "lacks label kubernetes.io/hostname=node-a (nodeSelector)" },
      ],
    });
  });

  it("errors for a host-model CPU no other node offers, and points at a common CPU model", () => {
    const icelake = { "host-model-cpu.node.kubevirt.io/Icelake-Server": "true" };
    const nodes = [
      node("node-a", { labels: icelake }),
      node("node-b", { labels: { "cpu-model-migration.node.kubevirt.io/Cascadelake-Server": "true" } }),
    ];
    const vmi = withSpec({ domain: { cpu: { model: "host-model" } } });
    const verdict = checkTargetNodes(input({ vmi, nodes }));
    expect(verdict.message).toBe(
      "no node can take it: node-b: lacks label cpu-model-migration.node.kubevirt.io/Icelake-Server=true (host-model CPU of node-a)",
    );
    expect(verdict.hint).toBe(
      "no other node offers the host-model CPU of node-a: give the VM a CPU model every node offers (spec.template.spec.domain.cpu.model), then kvmig restart db-0 -n prod",
    );
  });

  it("errors when no node has the memory left, and says where to look", () => {
    const room = { memory: "16Gi", cpu: "8", pods: "110" };
    const nodes = ["node-a", "node-b", "node-c"].map((n) => ({
      ...node(n),
      status: { ...node(n).status, allocatable: room },
    }));
    // The typed Pod leaves out resources; placement reads them.
    const launcher = {
      metadata: { name: "virt-launcher-db-0-abcde", namespace: "prod" },
      spec: {
        nodeName: "node-a",
        containers: [{ name: "compute", resources: { requests: { memory: "8Gi" } } }],
      },
    } as unknown as Pod;
    const filler = (n: string): Pod =>
      ({
        metadata: { name: `filler-${n}`, namespace: "prod" },
        spec: { nodeName: n, containers: [{ name: "c", resources: { requests: { memory: "12Gi" } } }] },
        status: { phase: "Running" },
      }) as unknown as Pod;
    const verdict = checkTargetNodes(
      input({ launcherPod: launcher, pods: [launcher, filler("node-b"), filler("node-c")], nodes }),
    );
    expect(verdict).toMatchObject({
      status: "error",
      message: "no node can take it: node-b, node-c: 4Gi memory free, needs 8Gi",
      hint: "free memory on a node, or add one: kubectl describe node node-b shows what it runs",
    });
  });

  it("names the taint a --target-node has that the VM does not tolerate", () => {
    const nodes = [
      node("node-a"),
      {
        ...node("node-b"),
        spec: { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" as const }] },
      },
    ];
    expect(checkTargetNodes(input({ nodes, targetNode: "node-b" }))).toEqual({
      check: "target-nodes",
      status: "error",
      message: "target node node-b cannot take it: taint dedicated=gpu:NoSchedule not tolerated",
      hint: "pick another --target-node",
    });
    const refusing = checkTargetNodes(input({ nodes: [node("node-a"), nodes[1] as Node] }));
    expect(refusing.hint).toBe(
      "add a toleration for dedicated=gpu:NoSchedule to the VM (spec.template.spec.tolerations), or see kubectl describe node node-b",
    );
  });

  it("warns, never passes silently, when the pods on the nodes could not be listed", () => {
    expect(checkTargetNodes(input({ pods: undefined }))).toEqual({
      check: "target-nodes",
      status: "warning",
      message:
        "2 other schedulable nodes: node-b, node-c; what runs on the nodes was not counted: could not list pods",
    });
  });

  it("sums up many nodes by reason in its message, and lists every node in its data", () => {
    const nodes = [
      node("node-a"),
      ...Array.from({ length: 12 }, (_, i) => node(`w-${String(i).padStart(2, "0")}`, { cordoned: true })),
      ...Array.from({ length: 3 }, (_, i) => node(`x-${i}`, { ready: false })),
      node("gpu-1", { labels: { "kubevirt.io/schedulable": "false" } }),
    ];
    const verdict = checkTargetNodes(input({ nodes }));
    expect(verdict.message).toBe(
      "no node can take it: w-00, w-01, w-02 and 9 more: cordoned; x-0, x-1, x-2: not Ready; gpu-1: kubevirt.io/schedulable=false",
    );
    expect(verdict.nodes).toHaveLength(17);
    expect(verdict.hint).toBe("uncordon one when its maintenance is over: kubectl uncordon w-00");
  });

  it("is an error when KubeVirt could not even render the target pod", () => {
    const vmi = withSpec({ domain: { cpu: { model: "host-model" } } });
    expect(checkTargetNodes(input({ vmi }))).toEqual({
      check: "target-nodes",
      status: "error",
      message:
        "no node can take it: the source node node-a has no host-model-cpu.node.kubevirt.io/<model> label, so KubeVirt cannot render the target pod of a host-model CPU",
      hint: "check the node's labels: kubectl get node node-a --show-labels",
    });
  });

  it("does not count the target pod of the migration in flight as a rival on its node", () => {
    const vmi = withSpec({});
    const target: Pod = {
      metadata: {
        name: "virt-launcher-db-0-target",
        namespace: "prod",
        labels: { "kubevirt.io/created-by": "vmi-uid", "kubevirt.io/migrationJobUID": "m-uid" },
      },
      spec: { nodeName: "node-b", containers: [] },
      status: { phase: "Pending" },
    };
    const inFlight = {
      ...migration("kvmig-db-0-abc12", "Scheduling"),
      metadata: { name: "kvmig-db-0-abc12", uid: "m-uid" },
    };
    const nodes = [node("node-a"), node("node-b")];
    expect(checkTargetNodes(input({ vmi, nodes, pods: [target], migrations: [inFlight] })).status).toBe("ok");
    expect(checkTargetNodes(input({ vmi, nodes, pods: [target] })).message).toBe(
      "no node can take it: node-b: already runs pod virt-launcher-db-0-target of this VM",
    );
  });
});

describe("checkParallelLimits", () => {
  it("warns when cluster migrations could not be listed", () => {
    expect(checkParallelLimits(input({ clusterMigrations: undefined }))).toEqual({
      check: "parallel-limits",
      status: "warning",
      message: "could not list migrations cluster-wide to check the parallel limits",
    });
  });

  it("is ok with free slots, counting only running migrations", () => {
    const clusterMigrations = [
      migration("m1", "Running"),
      migration("m2", "Scheduling"),
      migration("m3", "Pending"),
      migration("m4", "Succeeded"),
    ];
    const outboundNodes = new Map<string, string[]>([
      ["prod/m1", ["node-a"]],
      ["prod/m2", ["node-b"]],
      ["prod/m3", ["node-a"]],
    ]);
    expect(checkParallelLimits(input({ clusterMigrations, outboundNodes }))).toEqual({
      check: "parallel-limits",
      status: "ok",
      message: "migration slots in use: 2 of 5 in the cluster, 1 of 2 from node-a",
    });
  });

  it("warns that the migration will queue when the cluster limit is reached", () => {
    const clusterMigrations = ["m1", "m2", "m3"].map((n) => migration(n, "Running"));
    const verdict = checkParallelLimits(
      input({ clusterMigrations, kubevirt: kubevirt({ parallelMigrationsPerCluster: 3 }) }),
    );
    expect(verdict).toEqual({
      check: "parallel-limits",
      status: "warning",
      message: "the migration will queue: 3 of 3 in the cluster, 0 of 2 from node-a",
      hint: "it starts when a slot frees; the limits are spec.configuration.migrations in the KubeVirt CR",
    });
  });

  it("warns that the migration will queue when the source node's limit is reached", () => {
    const clusterMigrations = [migration("m1", "Running"), migration("m2", "TargetReady")];
    const outboundNodes = new Map<string, string[]>([
      ["prod/m1", ["node-a"]],
      ["prod/m2", ["node-a"]],
    ]);
    const verdict = checkParallelLimits(input({ clusterMigrations, outboundNodes }));
    expect(verdict.status).toBe("warning");
    expect(verdict.message).toBe("the migration will queue: 2 of 5 in the cluster, 2 of 2 from node-a");
    // Raised per-node limit: ok again.
    expect(
      checkParallelLimits(
        input({
          clusterMigrations,
          outboundNodes,
          kubevirt: kubevirt({ parallelOutboundMigrationsPerNode: 3 }),
        }),
      ).message,
    ).toBe("migration slots in use: 2 of 5 in the cluster, 2 of 3 from node-a");
  });
});

describe("checkAccess", () => {
  it("is ok when allowed", () => {
    expect(checkAccess(input())).toEqual({
      check: "rbac",
      status: "ok",
      message: "allowed to update virtualmachines/migrate",
    });
  });

  it("errors when denied, naming the namespace and the ClusterRole", () => {
    expect(checkAccess(input({ access: { allowed: false, reason: "RBAC: no rule" } }))).toEqual({
      check: "rbac",
      status: "error",
      message: "not allowed to update virtualmachines/migrate in prod",
      hint: "ask for the ClusterRole kubevirt.io:migrate (KubeVirt 1.5+) bound in this namespace",
    });
  });

  it("warns when the access review could not be made", () => {
    expect(checkAccess(input({ access: undefined }))).toEqual({
      check: "rbac",
      status: "warning",
      message: "could not check whether you may update virtualmachines/migrate",
    });
  });
});

describe("preflight", () => {
  it("runs every check in order for a running VMI", () => {
    const verdicts = preflight(input());
    expect(verdicts.map((v) => v.check)).toEqual([
      "vmi-running",
      "live-migratable",
      "in-flight",
      "launcher-image",
      "networks",
      "target-nodes",
      "parallel-limits",
      "rbac",
    ]);
    expect(verdicts.every((v) => v.status === "ok")).toBe(true);
  });

  it("passes on each check's own verdict", () => {
    const verdicts = preflight(
      input({
        currentLauncherImage: newImage,
        targetNode: "node-x",
        access: { allowed: false },
        migrations: [migration("kvmig-db-0-abc12", "Scheduling")],
      }),
    );
    expect(verdicts.map((v) => [v.check, v.status])).toEqual([
      ["vmi-running", "ok"],
      ["live-migratable", "ok"],
      ["in-flight", "warning"],
      ["launcher-image", "warning"],
      ["networks", "ok"],
      ["target-nodes", "error"],
      ["parallel-limits", "ok"],
      ["rbac", "error"],
    ]);
  });

  it("gives only two verdicts when the VMI is missing or not Running", () => {
    const missing = preflight(input({ vmi: undefined, access: { allowed: false } }));
    expect(missing).toEqual([
      {
        check: "vmi-running",
        status: "error",
        message: "VM db-0 is not running (no VirtualMachineInstance)",
        hint: "start it first: virtctl start db-0 -n prod; kubectl get vm,vmi db-0 -n prod shows both",
        blocking: true,
      },
      {
        check: "rbac",
        status: "error",
        message: "not allowed to update virtualmachines/migrate in prod",
        hint: "ask for the ClusterRole kubevirt.io:migrate (KubeVirt 1.5+) bound in this namespace",
      },
    ]);
    const pending = preflight(input({ vmi: vmiWith({ phase: "Pending" }) }));
    expect(pending.map((v) => [v.check, v.status])).toEqual([
      ["vmi-running", "error"],
      ["rbac", "ok"],
    ]);
    expect(pending[0]?.message).toBe("VMI db-0 is Pending, not Running");
  });
});
