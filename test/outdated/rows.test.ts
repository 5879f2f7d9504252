// Which VMIs run an outdated virt-launcher, what to do about each, and the lines that describe
// the cluster and the totals.
import { describe, expect, it } from "vitest";
import { outdatedLauncherImageLabel } from "../../src/k8s/launcher-image.js";
import type {
  KubeVirt,
  KubeVirtWorkloadUpdateStrategy,
  VirtualMachineInstance,
  VirtualMachineInstanceCondition,
  VirtualMachineInstanceMigrationState,
  VMIPhase,
} from "../../src/k8s/types.js";
import {
  actionText,
  type ClusterFacts,
  clusterFacts,
  countRow,
  countsLine,
  emptyCounts,
  headerLines,
  imageChange,
  isFinalVmi,
  isOutdated,
  migratableText,
  type OutdatedRow,
  outdatedRow,
} from "../../src/outdated/rows.js";

const oldImage = "quay.io/kubevirt/virt-launcher:v1.8.2";
const current = "quay.io/kubevirt/virt-launcher:v1.9.0";

interface VmiOptions {
  name?: string;
  namespace?: string;
  phase?: VMIPhase;
  labelled?: boolean;
  /** undefined leaves the field out. */
  image?: string | undefined;
  node?: string | undefined;
  /** The VirtualMachine that owns it; null for a standalone VMI. */
  owner?: string | null;
  liveMigratable?: Omit<VirtualMachineInstanceCondition, "type"> | null;
  migrationState?: VirtualMachineInstanceMigrationState;
}

function vmi(options: VmiOptions = {}): VirtualMachineInstance {
  const name = options.name ?? "db-0";
  const owner = options.owner === undefined ? name : options.owner;
  const liveMigratable =
    options.liveMigratable === undefined ? { status: "True" as const } : options.liveMigratable;
  return {
    metadata: {
      name,
      namespace: options.namespace ?? "prod",
      labels: {
        "kubevirt.io/nodeName": "node-a",
        ...(options.labelled === false ? {} : { [outdatedLauncherImageLabel]: "" }),
      },
      ...(owner === null
        ? {}
        : {
            ownerReferences: [
              { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: owner, uid: "uid-1" },
            ],
          }),
    },
    spec: {},
    status: {
      phase: options.phase ?? "Running",
      ...("node" in options
        ? options.node === undefined
          ? {}
          : { nodeName: options.node }
        : { nodeName: "node-a" }),
      ...("image" in options
        ? options.image === undefined
          ? {}
          : { launcherContainerImageVersion: options.image }
        : { launcherContainerImageVersion: oldImage }),
      conditions: [
        { type: "Ready", status: "True" },
        ...(liveMigratable === null ? [] : [{ type: "LiveMigratable", ...liveMigratable }]),
      ],
      ...(options.migrationState ? { migrationState: options.migrationState } : {}),
    },
  };
}

function kubevirt(
  options: {
    observed?: string;
    target?: string;
    phase?: "Deployed" | "Deploying";
    strategy?: KubeVirtWorkloadUpdateStrategy;
    outdated?: number;
  } = {},
): KubeVirt {
  return {
    metadata: { name: "kubevirt", namespace: "kubevirt" },
    spec: options.strategy ? { workloadUpdateStrategy: options.strategy } : {},
    status: {
      phase: options.phase ?? "Deployed",
      ...(options.observed === undefined ? {} : { observedKubeVirtVersion: options.observed }),
      ...(options.target === undefined ? {} : { targetKubeVirtVersion: options.target }),
      ...(options.outdated === undefined
        ? {}
        : { outdatedVirtualMachineInstanceWorkloads: options.outdated }),
    },
  };
}

function row(action: OutdatedRow["action"]): OutdatedRow {
  return {
    namespace: "prod",
    vmi: "db-0",
    vm: "db-0",
    node: "node-a",
    phase: "Running",
    image: oldImage,
    currentImage: current,
    labelled: true,
    liveMigratable: action === "migrate",
    reason: null,
    message: null,
    action,
  };
}

describe("isOutdated", () => {
  it("a VMI with the outdated label is outdated, with or without --check", () => {
    expect(isOutdated(vmi({ labelled: true }), current, false)).toBe(true);
    expect(isOutdated(vmi({ labelled: true }), current, true)).toBe(true);
    // The label wins even when the image already looks current.
    expect(isOutdated(vmi({ labelled: true, image: current }), current, false)).toBe(true);
  });

  it.each(["Succeeded", "Failed"] as const)("a %s VMI never is, label or not", (phase) => {
    const final = vmi({ phase, labelled: true, image: oldImage });
    expect(isFinalVmi(final)).toBe(true);
    expect(isOutdated(final, current, false)).toBe(false);
    expect(isOutdated(final, current, true)).toBe(false);
  });

  it("non-final phases are not final", () => {
    for (const phase of ["Pending", "Scheduling", "Scheduled", "Running", "Unknown"] as const) {
      expect(isFinalVmi(vmi({ phase }))).toBe(false);
    }
    expect(isFinalVmi({ metadata: {}, spec: {} })).toBe(false);
  });

  it("without --check, an unlabelled VMI with a different image is not outdated", () => {
    expect(isOutdated(vmi({ labelled: false, image: oldImage }), current, false)).toBe(false);
  });

  it("with --check, an unlabelled VMI with a different image is outdated", () => {
    expect(isOutdated(vmi({ labelled: false, image: oldImage }), current, true)).toBe(true);
  });

  it("with --check, an unlabelled VMI on the current image is not outdated", () => {
    expect(isOutdated(vmi({ labelled: false, image: current }), current, true)).toBe(false);
  });

  it("an empty or missing launcher image is unknown, not outdated", () => {
    expect(isOutdated(vmi({ labelled: false, image: "" }), current, true)).toBe(false);
    expect(isOutdated(vmi({ labelled: false, image: undefined }), current, true)).toBe(false);
    // The label still counts when the image is unknown.
    expect(isOutdated(vmi({ labelled: true, image: "" }), current, true)).toBe(true);
  });

  it("with --check but no current image known, only the label counts", () => {
    expect(isOutdated(vmi({ labelled: false, image: oldImage }), undefined, true)).toBe(false);
    expect(isOutdated(vmi({ labelled: true, image: oldImage }), undefined, true)).toBe(true);
  });
});

describe("outdatedRow", () => {
  it("a live-migratable VMI owned by a VM is migrated, with every field filled in", () => {
    expect(outdatedRow(vmi({ name: "web-1", namespace: "apps", node: "node-2" }), current)).toEqual({
      namespace: "apps",
      vmi: "web-1",
      vm: "web-1",
      node: "node-2",
      phase: "Running",
      image: oldImage,
      currentImage: current,
      labelled: true,
      liveMigratable: true,
      reason: null,
      message: null,
      action: "migrate",
    });
  });

  it("a standalone live-migratable VMI is migrated too", () => {
    const r = outdatedRow(vmi({ owner: null }), current);
    expect(r.vm).toBeNull();
    expect(r.action).toBe("migrate");
  });

  it("a VMI that cannot migrate but has a VirtualMachine is restarted, with the reason and message", () => {
    const r = outdatedRow(
      vmi({
        name: "ledger-abc",
        owner: "ledger",
        liveMigratable: {
          status: "False",
          reason: "DisksNotLiveMigratable",
          message: "cannot migrate VMI: PVC data is not shared",
        },
      }),
      current,
    );
    expect(r.vm).toBe("ledger");
    expect(r.vmi).toBe("ledger-abc");
    expect(r.action).toBe("restart");
    expect(r.liveMigratable).toBe(false);
    expect(r.reason).toBe("DisksNotLiveMigratable");
    expect(r.message).toBe("cannot migrate VMI: PVC data is not shared");
  });

  it("takes the VM from the VirtualMachine owner reference, not another kind", () => {
    const v = vmi({ owner: null, liveMigratable: { status: "False" } });
    v.metadata.ownerReferences = [
      { apiVersion: "v1", kind: "ReplicaSet", name: "other", uid: "u1" },
      { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: "the-vm", uid: "u2" },
    ];
    const r = outdatedRow(v, current);
    expect(r.vm).toBe("the-vm");
    expect(r.action).toBe("restart");

    v.metadata.ownerReferences = [{ apiVersion: "v1", kind: "ReplicaSet", name: "other", uid: "u1" }];
    expect(outdatedRow(v, current).vm).toBeNull();
    expect(outdatedRow(v, current).action).toBe("recreate");
  });

  it("a standalone VMI that cannot migrate is to be recreated", () => {
    const r = outdatedRow(
      vmi({ owner: null, liveMigratable: { status: "False", reason: "HostDeviceNotLiveMigratable" } }),
      current,
    );
    expect(r.vm).toBeNull();
    expect(r.action).toBe("recreate");
    expect(r.reason).toBe("HostDeviceNotLiveMigratable");
    expect(r.message).toBeNull();
  });

  it("a VMI without a LiveMigratable condition has liveMigratable null and is not migrated", () => {
    const owned = outdatedRow(vmi({ liveMigratable: null }), current);
    expect(owned.liveMigratable).toBeNull();
    expect(owned.reason).toBeNull();
    expect(owned.message).toBeNull();
    expect(owned.action).toBe("restart");
    expect(outdatedRow(vmi({ owner: null, liveMigratable: null }), current).action).toBe("recreate");
  });

  it("reason and message only when it is not migratable", () => {
    const r = outdatedRow(
      vmi({ liveMigratable: { status: "True", reason: "Whatever", message: "some text" } }),
      current,
    );
    expect(r.liveMigratable).toBe(true);
    expect(r.reason).toBeNull();
    expect(r.message).toBeNull();
  });

  it("a VMI migrating now (started, not ended) is waited for, whatever else it is", () => {
    const migrationState = { startTimestamp: "2024-05-01T12:00:00Z" };
    expect(outdatedRow(vmi({ migrationState }), current).action).toBe("wait");
    expect(outdatedRow(vmi({ migrationState, liveMigratable: { status: "False" } }), current).action).toBe(
      "wait",
    );
    expect(outdatedRow(vmi({ migrationState, owner: null, liveMigratable: null }), current).action).toBe(
      "wait",
    );
  });

  it("a migration that ended (or completed, or failed) is not waited for", () => {
    const start = "2024-05-01T12:00:00Z";
    for (const migrationState of [
      { startTimestamp: start, endTimestamp: "2024-05-01T12:01:00Z" },
      { startTimestamp: start, completed: true },
      { startTimestamp: start, failed: true },
      { targetNode: "node-b" },
    ]) {
      expect(outdatedRow(vmi({ migrationState }), current).action).toBe("migrate");
    }
  });

  it("the labelled flag follows the label", () => {
    expect(outdatedRow(vmi({ labelled: true }), current).labelled).toBe(true);
    expect(outdatedRow(vmi({ labelled: false }), current).labelled).toBe(false);
  });

  it("missing or empty fields become null, never empty strings", () => {
    const r = outdatedRow(vmi({ node: undefined, image: "" }), undefined);
    expect(r.node).toBeNull();
    expect(r.image).toBeNull();
    expect(r.currentImage).toBeNull();
    const bare = outdatedRow({ metadata: {}, spec: {} }, undefined);
    expect(bare).toMatchObject({
      namespace: "",
      vmi: "",
      vm: null,
      node: null,
      phase: null,
      image: null,
      labelled: false,
      liveMigratable: null,
      action: "recreate",
    });
  });
});

describe("actionText and migratableText", () => {
  it("say what each action means", () => {
    expect(actionText("migrate")).toBe("migrate");
    expect(actionText("restart")).toBe("restart (downtime)");
    expect(actionText("wait")).toBe("wait (migrating now)");
    expect(actionText("recreate")).toBe("recreate (standalone VMI)");
  });

  it("say whether a row is live-migratable and why not", () => {
    expect(migratableText({ ...row("migrate"), liveMigratable: true })).toBe("yes");
    expect(migratableText({ ...row("migrate"), liveMigratable: null })).toBe("unknown");
    expect(
      migratableText({ ...row("restart"), liveMigratable: false, reason: "DisksNotLiveMigratable" }),
    ).toBe("no: DisksNotLiveMigratable");
    expect(migratableText({ ...row("restart"), liveMigratable: false, reason: null })).toBe(
      "no: not live-migratable",
    );
  });
});

describe("imageChange", () => {
  it("shortens images of the same repository to their tags", () => {
    expect(imageChange(oldImage, current)).toBe("v1.8.2 → v1.9.0");
  });

  it("the same tag on both sides still shows both", () => {
    expect(imageChange(current, current)).toBe("v1.9.0 → v1.9.0");
  });

  it("a registry with a port is not taken for a tag", () => {
    expect(
      imageChange("registry:5000/kubevirt/virt-launcher:v1", "registry:5000/kubevirt/virt-launcher:v2"),
    ).toBe("v1 → v2");
    // Same repository name on a different registry port: not the same repository.
    expect(
      imageChange("registry:5000/kubevirt/virt-launcher:v1", "registry:5001/kubevirt/virt-launcher:v2"),
    ).toBe("registry:5000/kubevirt/virt-launcher:v1 → registry:5001/kubevirt/virt-launcher:v2");
  });

  it("an untagged image on a registry with a port is shown whole", () => {
    expect(
      imageChange("registry:5000/kubevirt/virt-launcher", "registry:5000/kubevirt/virt-launcher:v2"),
    ).toBe("registry:5000/kubevirt/virt-launcher → registry:5000/kubevirt/virt-launcher:v2");
  });

  it("shortens digests of the same repository to the digests", () => {
    const a = `quay.io/kubevirt/virt-launcher@sha256:${"a".repeat(64)}`;
    const b = `quay.io/kubevirt/virt-launcher@sha256:${"b".repeat(64)}`;
    expect(imageChange(a, b)).toBe(`sha256:${"a".repeat(64)} → sha256:${"b".repeat(64)}`);
    // A digest against a tag of the same repository.
    expect(imageChange(a, current)).toBe(`sha256:${"a".repeat(64)} → v1.9.0`);
    // A digest on a registry with a port.
    expect(
      imageChange(`registry:5000/kv/launcher@sha256:${"c".repeat(64)}`, "registry:5000/kv/launcher:v2"),
    ).toBe(`sha256:${"c".repeat(64)} → v2`);
    // A tag pinned by a digest names the version by its tag.
    expect(
      imageChange(
        `quay.io/kubevirt/virt-launcher:v1.8.2@sha256:${"d".repeat(64)}`,
        `quay.io/kubevirt/virt-launcher:v1.9.0@sha256:${"e".repeat(64)}`,
      ),
    ).toBe("v1.8.2 → v1.9.0");
  });

  it("shows the whole images for different repositories", () => {
    expect(imageChange("docker.io/kubevirt/virt-launcher:v1.8.2", current)).toBe(
      `docker.io/kubevirt/virt-launcher:v1.8.2 → ${current}`,
    );
  });

  it("shows the whole images when a side has no tag", () => {
    expect(imageChange("quay.io/kubevirt/virt-launcher", current)).toBe(
      `quay.io/kubevirt/virt-launcher → ${current}`,
    );
  });

  it("says unknown for what it does not know", () => {
    expect(imageChange(null, null)).toBe("unknown");
    expect(imageChange(null, current)).toBe(`unknown → ${current}`);
    expect(imageChange(oldImage, null)).toBe(oldImage);
  });
});

describe("clusterFacts", () => {
  it("without a KubeVirt resource: no versions, no automatic updates", () => {
    expect(clusterFacts(undefined, undefined)).toEqual({
      kubevirt: null,
      currentLauncherImage: null,
      workloadUpdateMethods: [],
      automaticUpdates: false,
      batchEvictionSize: null,
      batchEvictionInterval: null,
    });
    expect(clusterFacts(undefined, current).currentLauncherImage).toBe(current);
  });

  it("reads the versions, the phase and the cluster's own outdated count", () => {
    expect(clusterFacts(kubevirt({ observed: "v1.8.2", target: "v1.9.0", outdated: 8 }), current)).toEqual({
      kubevirt: {
        namespace: "kubevirt",
        name: "kubevirt",
        phase: "Deployed",
        observedVersion: "v1.8.2",
        targetVersion: "v1.9.0",
        outdatedWorkloads: 8,
      },
      currentLauncherImage: current,
      workloadUpdateMethods: [],
      automaticUpdates: false,
      batchEvictionSize: null,
      batchEvictionInterval: null,
    });
  });

  it("an outdated count of 0 stays 0; missing versions become null", () => {
    const facts = clusterFacts(kubevirt({ outdated: 0 }), current);
    expect(facts.kubevirt?.outdatedWorkloads).toBe(0);
    expect(facts.kubevirt?.observedVersion).toBeNull();
    expect(facts.kubevirt?.targetVersion).toBeNull();
    expect(clusterFacts(kubevirt(), current).kubevirt?.outdatedWorkloads).toBeNull();
  });

  it("LiveMigrate only: on, without the eviction batch", () => {
    const facts = clusterFacts(kubevirt({ strategy: { workloadUpdateMethods: ["LiveMigrate"] } }), current);
    expect(facts.automaticUpdates).toBe(true);
    expect(facts.workloadUpdateMethods).toEqual(["LiveMigrate"]);
    expect(facts.batchEvictionSize).toBeNull();
    expect(facts.batchEvictionInterval).toBeNull();
  });

  it("Evict: the batch defaults to 10 every 1m0s", () => {
    const facts = clusterFacts(
      kubevirt({ strategy: { workloadUpdateMethods: ["LiveMigrate", "Evict"] } }),
      current,
    );
    expect(facts.automaticUpdates).toBe(true);
    expect(facts.batchEvictionSize).toBe(10);
    expect(facts.batchEvictionInterval).toBe("1m0s");
  });

  it("Evict: the batch as configured", () => {
    const facts = clusterFacts(
      kubevirt({
        strategy: { workloadUpdateMethods: ["Evict"], batchEvictionSize: 3, batchEvictionInterval: "30s" },
      }),
      current,
    );
    expect(facts.batchEvictionSize).toBe(3);
    expect(facts.batchEvictionInterval).toBe("30s");
  });

  it("off when the method list is empty or missing, whatever the batch settings", () => {
    for (const strategy of [
      { workloadUpdateMethods: [] },
      {},
      { batchEvictionSize: 5, batchEvictionInterval: "2m" },
    ] satisfies KubeVirtWorkloadUpdateStrategy[]) {
      const facts = clusterFacts(kubevirt({ strategy }), current);
      expect(facts.automaticUpdates).toBe(false);
      expect(facts.workloadUpdateMethods).toEqual([]);
      expect(facts.batchEvictionSize).toBeNull();
      expect(facts.batchEvictionInterval).toBeNull();
    }
  });

  it("copies the method list rather than sharing the resource's array", () => {
    const methods: ("LiveMigrate" | "Evict")[] = ["LiveMigrate"];
    const facts = clusterFacts(kubevirt({ strategy: { workloadUpdateMethods: methods } }), current);
    methods.push("Evict");
    expect(facts.workloadUpdateMethods).toEqual(["LiveMigrate"]);
  });
});

describe("headerLines", () => {
  const off = "automatic workload updates: off (no workloadUpdateMethods in the KubeVirt CR)";

  it("without a KubeVirt resource or a readable virt-controller", () => {
    expect(headerLines(clusterFacts(undefined, undefined))).toEqual([
      "KubeVirt: no KubeVirt resource found (versions unknown)",
      "current launcher unknown (virt-controller not readable)",
      off,
    ]);
  });

  it("one version when observed and target agree", () => {
    expect(headerLines(clusterFacts(kubevirt({ observed: "v1.9.0", target: "v1.9.0" }), current))).toEqual([
      "KubeVirt v1.9.0 (Deployed)",
      `current launcher ${current}`,
      off,
    ]);
  });

  it("KubeVirt's own count of outdated VMIs, when its status has one", () => {
    const kv = kubevirt({ observed: "v1.9.0", target: "v1.9.0" });
    const counted = { ...kv, status: { ...kv.status, outdatedVirtualMachineInstanceWorkloads: 1000 } };
    expect(headerLines(clusterFacts(counted, current))[0]).toBe(
      "KubeVirt v1.9.0 (Deployed); its own count of outdated VMIs: 1000",
    );
  });

  it("a missing target counts as the observed version", () => {
    expect(headerLines(clusterFacts(kubevirt({ observed: "v1.9.0" }), current))[0]).toBe(
      "KubeVirt v1.9.0 (Deployed)",
    );
  });

  it("an upgrade in progress when observed and target differ", () => {
    expect(
      headerLines(
        clusterFacts(kubevirt({ observed: "v1.8.2", target: "v1.9.0", phase: "Deploying" }), current),
      )[0],
    ).toBe("KubeVirt v1.8.2 → v1.9.0 (upgrade in progress, Deploying)");
  });

  it("unknown versions and phase are said so", () => {
    const facts: ClusterFacts = {
      ...clusterFacts(kubevirt(), current),
      kubevirt: {
        namespace: "kubevirt",
        name: "kubevirt",
        phase: null,
        observedVersion: null,
        targetVersion: null,
        outdatedWorkloads: null,
      },
    };
    expect(headerLines(facts)[0]).toBe("KubeVirt unknown (phase unknown)");
    expect(
      headerLines({
        ...facts,
        kubevirt: facts.kubevirt && { ...facts.kubevirt, targetVersion: "v1.9.0" },
      })[0],
    ).toBe("KubeVirt unknown → v1.9.0 (upgrade in progress, phase unknown)");
  });

  it("automatic updates on with LiveMigrate: the methods, no eviction batch", () => {
    const lines = headerLines(
      clusterFacts(
        kubevirt({ observed: "v1.9.0", strategy: { workloadUpdateMethods: ["LiveMigrate"] } }),
        current,
      ),
    );
    expect(lines[2]).toBe("automatic workload updates: on (LiveMigrate)");
  });

  it("automatic updates on with Evict: the default batch", () => {
    const lines = headerLines(
      clusterFacts(
        kubevirt({ observed: "v1.9.0", strategy: { workloadUpdateMethods: ["LiveMigrate", "Evict"] } }),
        current,
      ),
    );
    expect(lines[2]).toBe("automatic workload updates: on (LiveMigrate, Evict; evicts 10 every 1m0s)");
  });

  it("automatic updates on with Evict: the configured batch", () => {
    const lines = headerLines(
      clusterFacts(
        kubevirt({
          strategy: { workloadUpdateMethods: ["Evict"], batchEvictionSize: 5, batchEvictionInterval: "2m0s" },
        }),
        current,
      ),
    );
    expect(lines[2]).toBe("automatic workload updates: on (Evict; evicts 5 every 2m0s)");
  });

  it("automatic updates off when the list is empty or missing", () => {
    expect(headerLines(clusterFacts(kubevirt({ strategy: { workloadUpdateMethods: [] } }), current))[2]).toBe(
      off,
    );
    expect(headerLines(clusterFacts(kubevirt({ strategy: {} }), current))[2]).toBe(off);
    expect(headerLines(clusterFacts(kubevirt(), current))[2]).toBe(off);
  });
});

describe("emptyCounts, countRow and countsLine", () => {
  it("starts at zero everywhere", () => {
    expect(emptyCounts()).toEqual({ outdated: 0, migrate: 0, restart: 0, wait: 0, recreate: 0 });
  });

  it("gives a fresh object each time", () => {
    const a = emptyCounts();
    countRow(a, row("migrate"));
    expect(emptyCounts().outdated).toBe(0);
  });

  it("counts each row once in total and once under its action", () => {
    const counts = emptyCounts();
    for (const action of [
      "migrate",
      "migrate",
      "restart",
      "wait",
      "recreate",
      "recreate",
      "migrate",
    ] as const)
      countRow(counts, row(action));
    expect(counts).toEqual({ outdated: 7, migrate: 3, restart: 1, wait: 1, recreate: 2 });
  });

  it("zero: says nothing is outdated in the scope", () => {
    expect(countsLine(emptyCounts(), "in namespace demo")).toBe(
      "no VMI runs an outdated virt-launcher in namespace demo",
    );
  });

  it("one: singular VMI, and zero counts are still named for migrate and restart", () => {
    const counts = emptyCounts();
    countRow(counts, row("restart"));
    expect(countsLine(counts, "in namespace apps")).toBe(
      "1 outdated VMI in namespace apps: 0 to migrate, 1 to restart (downtime)",
    );
  });

  it("several: plural, with the migrating and standalone parts only when there are any", () => {
    const counts = emptyCounts();
    for (const action of ["migrate", "migrate", "restart"] as const) countRow(counts, row(action));
    expect(countsLine(counts, "in all namespaces")).toBe(
      "3 outdated VMIs in all namespaces: 2 to migrate, 1 to restart (downtime)",
    );
    countRow(counts, row("wait"));
    expect(countsLine(counts, "in all namespaces")).toBe(
      "4 outdated VMIs in all namespaces: 2 to migrate, 1 to restart (downtime), 1 migrating now",
    );
    countRow(counts, row("recreate"));
    countRow(counts, row("recreate"));
    expect(countsLine(counts, "in all namespaces")).toBe(
      "6 outdated VMIs in all namespaces: 2 to migrate, 1 to restart (downtime), 1 migrating now, 2 standalone (recreate)",
    );
  });

  it("standalone without migrating now", () => {
    const counts = emptyCounts();
    countRow(counts, row("recreate"));
    countRow(counts, row("migrate"));
    expect(countsLine(counts, "in namespace x")).toBe(
      "2 outdated VMIs in namespace x: 1 to migrate, 0 to restart (downtime), 1 standalone (recreate)",
    );
  });
});
