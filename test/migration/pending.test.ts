// "Why is it Pending?": the parallel limits, a VMI with two launcher pods, backoff, quota, and a
// target pod that cannot be scheduled or cannot start, with KubeVirt's timeouts (facts §c, §g).
import { describe, expect, it } from "vitest";
import type {
  Event,
  Pod,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
  VMIMPhase,
} from "../../src/k8s/types.js";
import {
  countsTowardsLimits,
  defaultParallelMigrationsPerCluster,
  defaultParallelOutboundMigrationsPerNode,
  explainPending,
  type PendingInput,
  pendingTimeoutSeconds,
  unschedulableTimeoutSeconds,
} from "../../src/migration/pending.js";

const t0 = Date.parse("2025-03-14T09:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function migration(
  name: string,
  phase: VMIMPhase | undefined,
  extra: Partial<NonNullable<VirtualMachineInstanceMigration["status"]>> = {},
): VirtualMachineInstanceMigration {
  return {
    metadata: { name, namespace: "prod", uid: `uid-${name}`, creationTimestamp: iso(t0) },
    spec: { vmiName: "db-0" },
    status: { ...(phase === undefined ? {} : { phase }), ...extra },
  };
}

const vmi: VirtualMachineInstance = {
  metadata: { name: "db-0", namespace: "prod" },
  spec: {},
  status: { phase: "Running", nodeName: "node-a", activePods: { "pod-uid-1": "node-a" } },
};

function pod(
  name: string,
  status: NonNullable<Pod["status"]>,
  options: { nodeName?: string; created?: number } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: "prod",
      ...(options.created === undefined ? {} : { creationTimestamp: iso(options.created) }),
    },
    spec: options.nodeName ? { nodeName: options.nodeName } : {},
    status,
  };
}

function event(fields: Partial<Event> & { message: string; reason: string }, about = "db-0"): Event {
  return {
    metadata: { name: `ev-${fields.reason}`, namespace: "prod" },
    involvedObject: { kind: "VirtualMachineInstance", name: about, namespace: "prod" },
    type: "Warning",
    ...fields,
  };
}

const unschedulableMessage =
  "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";

const unschedulablePod = pod(
  "virt-launcher-db-0-tgt01",
  {
    phase: "Pending",
    conditions: [
      { type: "PodScheduled", status: "False", reason: "Unschedulable", message: unschedulableMessage },
    ],
  },
  { created: t0 },
);

function input(overrides: Partial<PendingInput> = {}): PendingInput {
  return {
    migration: migration("kvmig-db-0-abc12", "Pending"),
    vmi,
    clusterMigrations: [],
    outboundNodes: new Map(),
    limits: {
      perCluster: defaultParallelMigrationsPerCluster,
      perNode: defaultParallelOutboundMigrationsPerNode,
    },
    targetPods: [],
    events: [],
    now: t0 + 10_000,
    ...overrides,
  };
}

describe("countsTowardsLimits (KubeVirt's IsRunning)", () => {
  it.each([
    [undefined, false],
    ["", false],
    ["Pending", false],
    ["Succeeded", false],
    ["Failed", false],
    ["WaitingForSync", false],
    ["Synchronizing", false],
    ["Scheduling", true],
    ["Scheduled", true],
    ["PreparingTarget", true],
    ["TargetReady", true],
    ["Running", true],
  ] as const)("phase %j → %s", (phase, counts) => {
    expect(countsTowardsLimits(migration("m", phase))).toBe(counts);
  });

  it("a VMIM without status does not count", () => {
    expect(countsTowardsLimits({ metadata: { name: "m" }, spec: { vmiName: "x" } })).toBe(false);
  });
});

describe("explainPending", () => {
  it("says the migration waits for virt-controller when nothing else explains it", () => {
    expect(explainPending(input())).toEqual([
      { key: "waiting", kind: "waiting", text: "waiting for virt-controller to create the target pod" },
    ]);
    expect(explainPending(input({ migration: migration("kvmig-db-0-abc12", undefined) }))).toEqual([
      { key: "waiting", kind: "waiting", text: "waiting for virt-controller to create the target pod" },
    ]);
  });

  it("says nothing for a phase past Pending without pending target pods", () => {
    expect(explainPending(input({ migration: migration("kvmig-db-0-abc12", "Scheduling") }))).toEqual([]);
    expect(explainPending(input({ migration: migration("kvmig-db-0-abc12", "Running") }))).toEqual([]);
  });

  it("reports the cluster-wide limit with counts, counting only running migrations", () => {
    const others = [
      migration("m1", "Running"),
      migration("m2", "Scheduling"),
      migration("m3", "TargetReady"),
      migration("m4", "Pending"),
      migration("m5", "Succeeded"),
      migration("m6", "Failed"),
    ];
    const reasons = explainPending(
      input({ clusterMigrations: others, limits: { perCluster: 3, perNode: 10 } }),
    );
    expect(reasons).toEqual([
      {
        key: "cluster-limit",
        kind: "cluster-limit",
        text: "queued: 3 of 3 cluster-wide migration slots in use (parallelMigrationsPerCluster)",
      },
    ]);
    // One slot free: no limit.
    const free = explainPending(input({ clusterMigrations: others, limits: { perCluster: 4, perNode: 10 } }));
    expect(free.map((r) => r.kind)).toEqual(["waiting"]);
  });

  it("reports the cluster-wide limit at KubeVirt's default of 5", () => {
    const five = ["a", "b", "c", "d", "e"].map((n) => migration(n, "Running"));
    const [reason] = explainPending(input({ clusterMigrations: five }));
    expect(reason?.text).toBe(
      "queued: 5 of 5 cluster-wide migration slots in use (parallelMigrationsPerCluster)",
    );
    expect(explainPending(input({ clusterMigrations: five.slice(1) })).map((r) => r.kind)).toEqual([
      "waiting",
    ]);
  });

  it("reports the per-node limit from the source nodes of the running migrations", () => {
    const clusterMigrations = [
      migration("m1", "Running"),
      migration("m2", "PreparingTarget"),
      migration("m3", "Running"),
      // Pending ones do not count even when they come from the same node.
      migration("m4", "Pending"),
    ];
    const outboundNodes = new Map<string, string[]>([
      ["prod/m1", ["node-a"]],
      ["prod/m2", ["node-a"]],
      ["prod/m3", ["node-b"]],
      ["prod/m4", ["node-a"]],
    ]);
    const reasons = explainPending(input({ clusterMigrations, outboundNodes }));
    expect(reasons).toEqual([
      {
        key: "node-limit node-a",
        kind: "node-limit",
        text: "queued: 2 of 2 outbound migrations from node-a in use (parallelOutboundMigrationsPerNode)",
      },
    ]);
    const onB = explainPending(
      input({
        clusterMigrations,
        outboundNodes,
        vmi: { ...vmi, status: { ...vmi.status, nodeName: "node-b" } },
      }),
    );
    expect(onB.map((r) => r.kind)).toEqual(["waiting"]);
  });

  it("reports both limits when both are full", () => {
    const clusterMigrations = [migration("m1", "Running"), migration("m2", "Running")];
    const outboundNodes = new Map<string, string[]>([
      ["prod/m1", ["node-a"]],
      ["prod/m2", ["node-a"]],
    ]);
    const reasons = explainPending(
      input({ clusterMigrations, outboundNodes, limits: { perCluster: 2, perNode: 1 } }),
    );
    expect(reasons.map((r) => r.text)).toEqual([
      "queued: 2 of 2 cluster-wide migration slots in use (parallelMigrationsPerCluster)",
      "queued: 2 of 1 outbound migrations from node-a in use (parallelOutboundMigrationsPerNode)",
    ]);
  });

  it("cannot judge the limits when the migrations or the source nodes are unknown", () => {
    const clusterMigrations = [migration("m1", "Running"), migration("m2", "Running")];
    expect(
      explainPending(input({ clusterMigrations: undefined, limits: { perCluster: 0, perNode: 0 } })).map(
        (r) => r.kind,
      ),
    ).toEqual(["waiting"]);
    expect(explainPending(input({ clusterMigrations, outboundNodes: undefined })).map((r) => r.kind)).toEqual(
      ["waiting"],
    );
    expect(
      explainPending(
        input({
          clusterMigrations,
          vmi: undefined,
          outboundNodes: new Map<string, string[]>([["prod/m1", ["node-a"]]]),
        }),
      ).map((r) => r.kind),
    ).toEqual(["waiting"]);
  });

  it("reports a VMI that still has two launcher pods", () => {
    const two: VirtualMachineInstance = {
      ...vmi,
      status: { ...vmi.status, activePods: { "pod-uid-1": "node-a", "pod-uid-2": "node-c" } },
    };
    expect(explainPending(input({ vmi: two }))).toEqual([
      {
        key: "two-pods",
        kind: "two-pods",
        text: "the VMI still has 2 active launcher pods; KubeVirt waits until only one is left",
      },
    ]);
  });

  it("reports migration backoff with the newest MigrationBackoff event", () => {
    const events = [
      event({
        reason: "MigrationBackoff",
        message: "backoff migrating vmi prod/db-0 (older)",
        lastTimestamp: iso(t0 - 60_000),
      }),
      event({
        reason: "MigrationBackoff",
        message: "backoff migrating vmi prod/db-0",
        lastTimestamp: iso(t0),
      }),
      event({ reason: "FailedMigration", message: "something else", lastTimestamp: iso(t0 + 1000) }),
    ];
    expect(explainPending(input({ events }))).toEqual([
      {
        key: "backoff",
        kind: "backoff",
        text: "backing off after failed attempts: backoff migrating vmi prod/db-0",
      },
    ]);
  });

  it("orders backoff events by eventTime when they have no lastTimestamp", () => {
    const events = [
      event({ reason: "MigrationBackoff", message: "newest", eventTime: iso(t0 + 5000) }),
      event({ reason: "MigrationBackoff", message: "oldest", eventTime: iso(t0) }),
    ];
    expect(explainPending(input({ events }))[0]?.text).toBe("backing off after failed attempts: newest");
  });

  it("reports a resource quota rejection from the VMIM condition", () => {
    const quota = migration("kvmig-db-0-abc12", "Pending", {
      conditions: [
        {
          type: "migrationRejectedByResourceQuota",
          status: "True",
          reason: "MigrationRejectedByResourceQuota",
          message:
            'pods "virt-launcher-db-0-tgt01" is forbidden: exceeded quota: compute, requested: memory=4Gi',
        },
      ],
    });
    expect(explainPending(input({ migration: quota }))).toEqual([
      {
        key: "quota",
        kind: "quota",
        text: 'the target pod exceeds a resource quota: pods "virt-launcher-db-0-tgt01" is forbidden: exceeded quota: compute, requested: memory=4Gi',
      },
    ]);
    const cleared = migration("kvmig-db-0-abc12", "Pending", {
      conditions: [{ type: "migrationRejectedByResourceQuota", status: "False" }],
    });
    expect(explainPending(input({ migration: cleared })).map((r) => r.kind)).toEqual(["waiting"]);
  });

  it("reports an unschedulable target pod with the scheduler's message and the time left", () => {
    const reasons = explainPending(
      input({
        migration: migration("kvmig-db-0-abc12", "Scheduling"),
        targetPods: [unschedulablePod],
        now: t0 + 120_000,
      }),
    );
    expect(reasons).toEqual([
      {
        key: "unschedulable virt-launcher-db-0-tgt01",
        kind: "unschedulable",
        text: `target pod virt-launcher-db-0-tgt01 is unschedulable: ${unschedulableMessage}; KubeVirt gives up on it in 3m (300s timeout)`,
      },
    ]);
    expect(unschedulableTimeoutSeconds).toBe(300);
  });

  it("says when the unschedulable timeout has passed", () => {
    for (const now of [t0 + 300_000, t0 + 301_000, t0 + 3_600_000]) {
      const [reason] = explainPending(
        input({
          migration: migration("kvmig-db-0-abc12", "Scheduling"),
          targetPods: [unschedulablePod],
          now,
        }),
      );
      expect(reason?.text).toBe(
        `target pod virt-launcher-db-0-tgt01 is unschedulable: ${unschedulableMessage}; its 300s timeout has passed`,
      );
    }
    const [almost] = explainPending(
      input({
        migration: migration("kvmig-db-0-abc12", "Scheduling"),
        targetPods: [unschedulablePod],
        now: t0 + 299_500,
      }),
    );
    expect(almost?.text).toMatch(/; KubeVirt gives up on it in 500ms \(300s timeout\)$/);
  });

  it("keeps the key while the countdown changes", () => {
    const at = (now: number) =>
      explainPending(
        input({
          migration: migration("kvmig-db-0-abc12", "Scheduling"),
          targetPods: [unschedulablePod],
          now,
        }),
      )[0];
    const early = at(t0 + 10_000);
    const late = at(t0 + 250_000);
    const over = at(t0 + 400_000);
    expect(early?.text).toContain("gives up on it in 4m50s");
    expect(late?.text).toContain("gives up on it in 50s");
    expect(early?.text).not.toBe(late?.text);
    expect(new Set([early?.key, late?.key, over?.key])).toEqual(
      new Set(["unschedulable virt-launcher-db-0-tgt01"]),
    );
  });

  it("reports a Pending target pod on a node with its sandbox error and the 900 s timeout", () => {
    const sandboxPod = pod(
      "virt-launcher-db-0-tgt02",
      {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "True" }],
        containerStatuses: [{ name: "compute", state: { waiting: { reason: "ContainerCreating" } } }],
      },
      { nodeName: "node-b", created: t0 },
    );
    const sandbox =
      'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "4f1c": plugin type="multus" failed (add): CmdAdd (shim): CNI request failed';
    const events = [
      event(
        {
          reason: "FailedCreatePodSandBox",
          message: "an older sandbox failure",
          lastTimestamp: iso(t0 + 5000),
        },
        "virt-launcher-db-0-tgt02",
      ),
      event(
        { reason: "FailedCreatePodSandBox", message: sandbox, lastTimestamp: iso(t0 + 50_000) },
        "virt-launcher-db-0-tgt02",
      ),
      // About another pod.
      event({ reason: "FailedMount", message: "not this pod", lastTimestamp: iso(t0 + 59_000) }, "other-pod"),
    ];
    const reasons = explainPending(
      input({
        migration: migration("kvmig-db-0-abc12", "Scheduling"),
        targetPods: [sandboxPod],
        events,
        now: t0 + 60_000,
      }),
    );
    expect(reasons).toEqual([
      {
        key: `pod-pending virt-launcher-db-0-tgt02 ${sandbox}`,
        kind: "pod-pending",
        text: `target pod virt-launcher-db-0-tgt02 is on node-b but not running: ${sandbox}; KubeVirt gives up on it in 14m (900s timeout)`,
      },
    ]);
    expect(pendingTimeoutSeconds).toBe(900);

    const late = explainPending(
      input({
        migration: migration("kvmig-db-0-abc12", "Scheduling"),
        targetPods: [sandboxPod],
        events,
        now: t0 + 900_000,
      }),
    );
    expect(late[0]?.text).toBe(
      `target pod virt-launcher-db-0-tgt02 is on node-b but not running: ${sandbox}; its 900s timeout has passed`,
    );
    expect(late[0]?.key).toBe(reasons[0]?.key);
  });

  it("uses the container's waiting state when there is no Warning event about the pod", () => {
    const waiting = (state: { reason?: string; message?: string }) =>
      pod(
        "virt-launcher-db-0-tgt03",
        { phase: "Pending", containerStatuses: [{ name: "compute", state: { waiting: state } }] },
        { nodeName: "node-c" },
      );
    const normal = event(
      { reason: "Pulling", message: "Pulling image", type: "Normal" },
      "virt-launcher-db-0-tgt03",
    );
    const [withMessage] = explainPending(
      input({
        targetPods: [waiting({ reason: "ErrImagePull", message: "manifest unknown" })],
        events: [normal],
      }),
    );
    // No creation time: no countdown.
    expect(withMessage?.text).toBe(
      "target pod virt-launcher-db-0-tgt03 is on node-c but not running: manifest unknown",
    );
    const [reasonOnly] = explainPending(input({ targetPods: [waiting({ reason: "ContainerCreating" })] }));
    expect(reasonOnly?.text).toBe(
      "target pod virt-launcher-db-0-tgt03 is on node-c but not running: ContainerCreating",
    );
    const [nothing] = explainPending(
      input({
        targetPods: [pod("virt-launcher-db-0-tgt04", { phase: "Pending" }, { created: t0 })],
        now: t0,
      }),
    );
    expect(nothing?.text).toBe(
      "target pod virt-launcher-db-0-tgt04 is not running: not ready yet; KubeVirt gives up on it in 15m (900s timeout)",
    );
  });

  it("ignores target pods that are not Pending", () => {
    const running = pod("virt-launcher-db-0-tgt05", { phase: "Running" }, { created: t0 });
    const failed = pod("virt-launcher-db-0-tgt06", { phase: "Failed" }, { created: t0 });
    expect(explainPending(input({ targetPods: [running, failed] })).map((r) => r.kind)).toEqual(["waiting"]);
    expect(
      explainPending(input({ migration: migration("kvmig-db-0-abc12", "Running"), targetPods: [running] })),
    ).toEqual([]);
  });

  it("lists every reason that applies, pods after the Pending reasons", () => {
    const two: VirtualMachineInstance = {
      ...vmi,
      status: { ...vmi.status, activePods: { a: "node-a", b: "node-b" } },
    };
    const reasons = explainPending(
      input({
        vmi: two,
        clusterMigrations: [migration("m1", "Running")],
        outboundNodes: new Map<string, string[]>([["prod/m1", ["node-a"]]]),
        limits: { perCluster: 1, perNode: 1 },
        events: [event({ reason: "MigrationBackoff", message: "backoff migrating vmi prod/db-0" })],
        targetPods: [unschedulablePod],
      }),
    );
    expect(reasons.map((r) => r.kind)).toEqual([
      "cluster-limit",
      "node-limit",
      "two-pods",
      "backoff",
      "unschedulable",
    ]);
  });
});
