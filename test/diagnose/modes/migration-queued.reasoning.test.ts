// migration-queued's reasoning on hand-built snapshots: when a Pending migration counts as queued
// (10 s), what else explains the wait (a target pod, a missing NAD, a blocking condition,
// backoff, FailedCreate), the two-active-pods case, and the parallel limits: which one is full,
// from virt-controller's line or from the VMIMs, and the confidence and fix that follow.

import { describe, expect, it } from "vitest";
import { migrationQueued } from "../../../src/diagnose/modes/migration-queued.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type {
  KubeVirt,
  NetworkAttachmentDefinition,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi, vmiUid } from "../../helpers/builders.js";

const pendingUid = "bbbbbbbb-0000-4000-8000-00000000000p";

function pending(
  age = 300,
  parts: Partial<Parameters<typeof migration>[0]> = {},
): VirtualMachineInstanceMigration {
  return migration({
    name: "mig-q",
    uid: pendingUid,
    phase: "Pending",
    created: ago(age + 5),
    transitions: { Pending: ago(age) },
    ...parts,
  });
}

function other(
  name: string,
  vmiName: string,
  phase: string,
  sourceNode = "node-x",
): VirtualMachineInstanceMigration {
  const m = migration({ name, uid: `uid-${name}`, phase, state: { sourceNode } });
  return { ...m, spec: { vmiName } };
}

function kubevirt(migrations: Record<string, unknown>, name?: string): KubeVirt {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "KubeVirt",
    metadata: { ...(name ? { name } : {}), namespace: "kubevirt" },
    spec: { configuration: { migrations } },
  } as KubeVirt;
}

const onNode1 = vmi({ phase: "Running", nodeName: "node-1" });

function detectOne(s: Snapshot): Finding {
  const findings = migrationQueued.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const controllerLine = (text: string) => JSON.stringify({ level: "info", msg: text, timestamp: ago(20) });
const controllerLog = (lines: string[]) => [
  { namespace: "kubevirt", pod: "virt-controller-abc", container: "virt-controller", lines },
];

const watchAll = "kvmig watch -n demo";
const watchVm = "kvmig watch db-1 -n demo";
const raiseCluster = (n: number, name = "kubevirt") =>
  `kubectl patch kubevirt ${name} -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"parallelMigrationsPerCluster":${n}}}}}'`;
const raiseNode = (n: number) =>
  `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"parallelOutboundMigrationsPerNode":${n}}}}}'`;

describe("migration-queued reasoning", () => {
  it("only this VM's migrations read: low confidence, the limits suspected, and what was not checked", () => {
    expect(detectOne(snap({ vmi: onNode1, migrations: [pending(300)] }))).toEqual({
      id: "migration-queued",
      title: "Migration is queued behind other migrations",
      severity: "warning",
      confidence: "low",
      summary:
        "VirtualMachineInstanceMigration/mig-q has been Pending for 5 min with no target pod: no other cause was found; the most likely one is the parallel limits (5 per cluster, 2 outbound per node), which virt-controller enforces without an event. It starts by itself when a slot frees.",
      evidence: [
        {
          object: "VirtualMachineInstanceMigration/mig-q",
          field: "status.phase",
          time: ago(300),
          text: "Pending for 5 min, no target pod, no event",
        },
        {
          object: "KubeVirt",
          field: "spec.configuration.migrations",
          text: "parallelMigrationsPerCluster: 5 (KubeVirt default), parallelOutboundMigrationsPerNode: 2 (KubeVirt default)",
        },
      ],
      fix: {
        explanation:
          "Wait for the running migrations to finish (the queued one starts on its own), or raise the limit if the network between the nodes can carry more migrations at once.",
        commands: [watchAll, watchVm, raiseCluster(6)],
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: [
        "the running migrations of other VMs (the snapshot holds only this VM's migrations), so the counts against the limits",
        'virt-controller\'s log (its "Waiting to schedule target pod" line names the limit that is full)',
        "the KubeVirt resource (the limits shown are KubeVirt's defaults)",
      ],
    });
  });

  it("10 seconds Pending is the threshold; the Pending transition, else the creation, starts the clock", () => {
    expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [pending(10)] }))).toHaveLength(1);
    expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [pending(9)] }))).toEqual([]);
    const noTransition = migration({ name: "mig-q", phase: "Pending", created: ago(45) });
    expect(detectOne(snap({ vmi: onNode1, migrations: [noTransition] })).evidence[0]).toMatchObject({
      time: ago(45),
      text: "Pending for 45 s, no target pod, no event",
    });
    // An empty phase is Pending too.
    const unset = migration({ name: "mig-q", created: ago(45) });
    expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [unset] }))).toHaveLength(1);
    // Without any time it cannot say how long it waited.
    const undated = { ...noTransition, metadata: { ...noTransition.metadata, creationTimestamp: undefined } };
    expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [undated] }))).toEqual([]);
  });

  it("formats the wait in seconds, minutes and hours", () => {
    // Five migrations running fill the cluster's default limit: queued however long it waits.
    const full = ["a", "b", "c", "d", "e"].map((n) => other(`run-${n}`, `vm-${n}`, "Running"));
    const waited = (age: number) =>
      detectOne(snap({ vmi: onNode1, migrations: [...full, pending(age)] })).evidence[0]?.text;
    expect(waited(119)).toBe("Pending for 119 s, no target pod, no event");
    expect(waited(120)).toBe("Pending for 2 min, no target pod, no event");
    expect(waited(7199)).toBe("Pending for 120 min, no target pod, no event");
    expect(waited(7200)).toBe("Pending for 2 h, no target pod, no event");
  });

  it("past an hour with no sign of a full queue, it is not called queued (stuck-migration says it)", () => {
    expect(detectOne(snap({ vmi: onNode1, migrations: [pending(3599)] })).confidence).toBe("low");
    expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [pending(3600)] }))).toEqual([]);
  });

  it("only a Pending migration of this VM that is not being deleted is waiting", () => {
    const running = migration({ name: "mig-r", phase: "Running" });
    expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [running] }))).toEqual([]);
    const otherVm = { ...pending(), spec: { vmiName: "web-2" } };
    expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [otherVm] }))).toEqual([]);
    const deleting = pending();
    deleting.metadata.deletionTimestamp = ago(5);
    expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [deleting] }))).toEqual([]);
    // The VMI name from the label when the spec has none.
    const labelled = pending();
    labelled.spec = {} as VirtualMachineInstanceMigration["spec"];
    labelled.metadata.labels = { "kubevirt.io/vmi-name": "db-1" };
    expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [labelled] }))).toHaveLength(1);
  });

  it("stays silent when something else explains the wait", () => {
    const base = { vmi: onNode1, migrations: [pending(300)] };
    // A target pod exists.
    const target = pod("virt-launcher-db-1-t", { labels: { "kubevirt.io/migrationJobUID": pendingUid } });
    expect(migrationQueued.detect(snap({ ...base, pods: [target] }))).toEqual([]);
    // A blocking condition that is True (not one that is False, nor another type).
    const blocked = (type: string, status: string) =>
      migrationQueued.detect(
        snap({ ...base, migrations: [pending(300, { conditions: [{ type, status }] })] }),
      );
    expect(blocked("migrationRejectedByResourceQuota", "True")).toEqual([]);
    expect(blocked("migrationBlockedByUtilityVolumes", "True")).toEqual([]);
    expect(blocked("migrationBlockedByBackup", "True")).toEqual([]);
    expect(blocked("decentralizedMigrationBlocked", "True")).toEqual([]);
    expect(blocked("migrationRejectedByResourceQuota", "False")).toHaveLength(1);
    expect(blocked("SomethingElse", "True")).toHaveLength(1);
    // Backoff or a failed pod creation since it went Pending; older ones do not count.
    const backoff = (at: string) =>
      event({ reason: "MigrationBackoff", message: "backoff", lastTimestamp: at, type: "Normal" });
    expect(migrationQueued.detect(snap({ ...base, events: [backoff(ago(100))] }))).toEqual([]);
    expect(migrationQueued.detect(snap({ ...base, events: [backoff(ago(300))] }))).toEqual([]);
    expect(migrationQueued.detect(snap({ ...base, events: [backoff(ago(400))] }))).toHaveLength(1);
    const failedCreate = (type: string) =>
      event({ reason: "FailedCreate", message: "quota", lastTimestamp: ago(100), type });
    expect(migrationQueued.detect(snap({ ...base, events: [failedCreate("Warning")] }))).toEqual([]);
    expect(migrationQueued.detect(snap({ ...base, events: [failedCreate("Normal")] }))).toHaveLength(1);
    // Events about another object do not count.
    const elsewhere = {
      ...backoff(ago(100)),
      involvedObject: { kind: "VirtualMachineInstance", name: "web-2" },
    };
    expect(migrationQueued.detect(snap({ ...base, events: [elsewhere] }))).toHaveLength(1);
  });

  it("a Multus network without its NAD explains it, unless the NADs were not read", () => {
    const spec: VirtualMachineInstance["spec"] = {
      networks: [{ name: "storage", multus: { networkName: "storage-nad" } }],
      domain: { devices: { interfaces: [{ name: "storage", bridge: {} }] } },
    };
    const base = { vmi: vmi({ phase: "Running", nodeName: "node-1" }, spec), migrations: [pending(300)] };
    expect(migrationQueued.detect(snap(base))).toEqual([]);
    const nad = {
      apiVersion: "k8s.cni.cncf.io/v1",
      kind: "NetworkAttachmentDefinition",
      metadata: { name: "storage-nad", namespace: "demo" },
      spec: { config: "{}" },
    } as NetworkAttachmentDefinition;
    expect(migrationQueued.detect(snap({ ...base, networkAttachmentDefinitions: [nad] }))).toHaveLength(1);
    expect(
      migrationQueued.detect(
        snap({ ...base, missing: [{ what: "NetworkAttachmentDefinitions in demo", why: "forbidden" }] }),
      ),
    ).toHaveLength(1);
  });

  describe("two active launcher pods", () => {
    const src = pod("virt-launcher-db-1-src", { spec: { nodeName: "node-1" } });
    src.metadata.uid = "pod-src";
    const old = pod("virt-launcher-db-1-old", {
      spec: { nodeName: "node-2" },
      status: { phase: "Succeeded" },
    });
    old.metadata.uid = "pod-old";
    const twoPods = (state = {}) =>
      vmi({
        phase: "Running",
        nodeName: "node-1",
        activePods: { "pod-src": "node-1", "pod-old": "node-2" },
        migrationState: state,
      } as VirtualMachineInstance["status"]);

    it("a finished pod still listed: delete it, high confidence, caused by stale migration state", () => {
      const s = snap({ vmi: twoPods(), pods: [src, old], migrations: [pending(300)] });
      expect(detectOne(s)).toEqual({
        id: "migration-queued",
        title: "Migration waits: the VMI still has two active launcher pods",
        severity: "warning",
        confidence: "high",
        summary:
          "VirtualMachineInstanceMigration/mig-q has been Pending for 5 min without a target pod while db-1 lists 2 active launcher pods and no migration is running. virt-controller does not create a target pod while a VMI has more than one active pod; virt-launcher-db-1-old has already finished, so its entry is stale.",
        evidence: [
          {
            object: "VirtualMachineInstanceMigration/mig-q",
            field: "status.phase",
            time: ago(300),
            text: "Pending for 5 min, no target pod",
          },
          {
            object: "VirtualMachineInstance/db-1",
            field: "status.activePods",
            text: "pod-src: node-1, pod-old: node-2",
          },
          { object: "Pod/virt-launcher-db-1-src", field: "status.phase", text: "Running on node-1" },
          { object: "Pod/virt-launcher-db-1-old", field: "status.phase", text: "Succeeded on node-2" },
        ],
        fix: {
          explanation:
            "Delete the finished launcher pod so that status.activePods is recomputed with one pod; the queued migration then starts by itself.",
          commands: ["kubectl delete pod virt-launcher-db-1-old -n demo", watchVm],
        },
        docs: "https://github.com/kubevirt/kubevirt/issues/12773",
        notChecked: undefined,
        causedBy: "stale-migration-state",
      });
    });

    it("a Failed pod is finished too; pods that all run: medium, list the launcher pods", () => {
      const failedOld = { ...old, status: { phase: "Failed" as const } };
      expect(
        detectOne(snap({ vmi: twoPods(), pods: [src, failedOld], migrations: [pending(300)] })).confidence,
      ).toBe("high");
      const runningOld = { ...old, spec: {}, status: {} };
      const f = detectOne(snap({ vmi: twoPods(), pods: [src, runningOld], migrations: [pending(300)] }));
      expect(f.confidence).toBe("medium");
      expect(f.evidence[3]?.text).toBe("unknown on ?");
      expect(f.summary).toMatch(
        /virt-controller does not create a target pod while a VMI has more than one active pod\.$/,
      );
      expect(f.fix).toEqual({
        explanation:
          "Find which of the listed pods is not running the VM; once only one launcher pod is active the queued migration starts by itself.",
        commands: [`kubectl get pods -n demo -o wide -l kubevirt.io/created-by=${vmiUid}`, watchVm],
      });
    });

    it("says when a listed pod was not in the snapshot, and quotes virt-handler's complaint", () => {
      const logs = [
        {
          namespace: "kubevirt",
          pod: "virt-handler-x",
          container: "virt-handler",
          lines: ["multiple pods running for vmi demo/db-1", "unrelated"],
        },
      ];
      const f = detectOne(snap({ vmi: twoPods(), pods: [src], logs, migrations: [pending(300)] }));
      expect(f.notChecked).toEqual([
        "the phase of every pod listed in status.activePods (not all are in the snapshot)",
      ]);
      expect(f.evidence.at(-1)).toEqual({
        object: "Pod/virt-handler-x",
        field: "log virt-handler",
        time: undefined,
        text: "multiple pods running for vmi demo/db-1",
      });
      expect(f.evidence).toHaveLength(4);
    });

    it("two pods are normal while a migration runs; one pod is not this", () => {
      const runs = migration({ name: "mig-run", uid: "u-run", phase: "Running", created: ago(400) });
      expect(
        migrationQueued.detect(
          snap({
            vmi: twoPods({ migrationUid: "u-run" }),
            pods: [src, old],
            migrations: [runs, pending(300)],
          }),
        )[0]?.title,
      ).toBe("Migration is queued behind other migrations");
      // Not known to run, the VMIMs unread: it may still run.
      expect(
        migrationQueued.detect(
          snap({
            vmi: twoPods({ migrationUid: "u-run" }),
            pods: [src, old],
            migrations: [pending(300)],
            missing: [{ what: "VirtualMachineInstanceMigrations in demo", why: "forbidden" }],
          }),
        )[0]?.title,
      ).toBe("Migration is queued behind other migrations");
      // A record whose VMIM is gone or final is no migration under way: virt-controller takes it
      // over (canMigrateVMI), so the two pods are what holds this one.
      for (const owner of [
        [],
        [migration({ name: "mig-run", uid: "u-run", phase: "Failed", created: ago(400) })],
      ]) {
        expect(
          detectOne(
            snap({
              vmi: twoPods({ migrationUid: "u-run" }),
              pods: [src, old],
              migrations: [...owner, pending(300)],
            }),
          ).title,
        ).toBe("Migration waits: the VMI still has two active launcher pods");
      }
      // A finished record does not hold it.
      for (const state of [
        { migrationUid: "u-run", completed: true },
        { migrationUid: "u-run", failed: true },
      ]) {
        expect(
          detectOne(snap({ vmi: twoPods(state), pods: [src, old], migrations: [pending(300)] })).title,
        ).toBe("Migration waits: the VMI still has two active launcher pods");
      }
      const onePod = vmi({
        phase: "Running",
        nodeName: "node-1",
        activePods: { "pod-src": "node-1" },
      } as VirtualMachineInstance["status"]);
      expect(detectOne(snap({ vmi: onePod, pods: [src], migrations: [pending(300)] })).title).toBe(
        "Migration is queued behind other migrations",
      );
    });
  });

  describe("the parallel limits", () => {
    it("the cluster limit, full from the VMIMs read: high, and raise it by one", () => {
      const others = ["a", "b", "c", "d", "e"].map((n) => other(`mig-${n}`, `vm-${n}`, "Running"));
      const s = snap({ vmi: onNode1, migrations: [...others, pending(300)], kubevirt: kubevirt({}, "kv") });
      const f = detectOne(s);
      expect(f.confidence).toBe("high");
      expect(f.summary).toContain(
        ": the cluster already runs 5 migrations (limit 5). It starts by itself when a slot frees.",
      );
      expect(f.evidence[1]).toEqual({
        object: "KubeVirt/kv",
        field: "spec.configuration.migrations",
        text: "parallelMigrationsPerCluster: 5 (KubeVirt default), parallelOutboundMigrationsPerNode: 2 (KubeVirt default)",
      });
      expect(f.evidence[2]).toEqual({
        object: "VirtualMachineInstanceMigrations",
        field: "status.phase",
        text: "5 running in the cluster (limit 5), 0 outbound from node-1 (limit 2): mig-a (vm-a, Running), mig-b (vm-b, Running), mig-c (vm-c, Running), mig-d (vm-d, Running), mig-e (vm-e, Running)",
      });
      expect(f.fix.commands).toEqual([watchAll, watchVm, raiseCluster(6, "kv")]);
      expect(f.notChecked).toBeUndefined();
    });

    it("counts every running phase against the limit, not Pending or final ones", () => {
      const phases = ["Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running"];
      const running = phases.map((p, i) => other(`mig-${i}`, `vm-${i}`, p));
      expect(detectOne(snap({ vmi: onNode1, migrations: [...running, pending(300)] })).confidence).toBe(
        "high",
      );
      const notRunning = ["Pending", "Succeeded", "Failed", "Running"].map((p, i) =>
        other(`mig-${i}`, `vm-${i}`, p),
      );
      // One running of limit 5, none outbound from node-1: room, so the queue is not it.
      expect(
        migrationQueued.detect(snap({ vmi: onNode1, migrations: [...notRunning, pending(300)] })),
      ).toEqual([]);
    });

    it("an explicit cluster limit is shown without '(KubeVirt default)'", () => {
      const others = ["a", "b"].map((n) => other(`mig-${n}`, `vm-${n}`, "Running"));
      const f = detectOne(
        snap({
          vmi: onNode1,
          migrations: [...others, pending(300)],
          kubevirt: kubevirt({ parallelMigrationsPerCluster: 2, parallelOutboundMigrationsPerNode: 4 }),
        }),
      );
      expect(f.evidence[1]?.text).toBe(
        "parallelMigrationsPerCluster: 2, parallelOutboundMigrationsPerNode: 4",
      );
      expect(f.summary).toContain("the cluster already runs 2 migrations (limit 2)");
      expect(f.fix.commands[2]).toBe(raiseCluster(3));
    });

    it("the node limit, full from the VMIMs: names the source node, raises the node limit", () => {
      const others = [
        other("mig-a", "vm-a", "Running", "node-1"),
        other("mig-b", "vm-b", "Scheduling", "node-1"),
      ];
      const f = detectOne(snap({ vmi: onNode1, migrations: [...others, pending(300)] }));
      expect(f.confidence).toBe("high");
      expect(f.summary).toContain(": the source node node-1 already has 2 outbound migrations (limit 2).");
      expect(f.fix.commands[2]).toBe(raiseNode(3));
      // One outbound from node-1 is room.
      expect(
        migrationQueued.detect(
          snap({
            vmi: onNode1,
            migrations: [
              others[0] as VirtualMachineInstanceMigration,
              other("mig-c", "vm-c", "Running", "node-2"),
              pending(300),
            ],
          }),
        ),
      ).toEqual([]);
    });

    it("takes the source node from the VMIM when the VMI does not say", () => {
      const others = [
        other("mig-a", "vm-a", "Running", "node-7"),
        other("mig-b", "vm-b", "Running", "node-7"),
      ];
      const q = pending(300, { state: { sourceNode: "node-7" } });
      const f = detectOne(snap({ migrations: [...others, q] }));
      expect(f.summary).toContain("the source node node-7 already has 2 outbound migrations (limit 2)");
      // Without any source node, only the cluster limit counts, and the evidence names no node.
      const g = detectOne(
        snap({
          migrations: [...others, pending(300)],
          kubevirt: kubevirt({ parallelMigrationsPerCluster: 2 }),
        }),
      );
      expect(g.evidence[2]?.text).toBe(
        "2 running in the cluster (limit 2): mig-a (vm-a, Running), mig-b (vm-b, Running)",
      );
    });

    it("the cluster's migrations read live (issue 19): the per-node limit named and raised, not the cluster's", () => {
      // Only this VM's VMIMs in the snapshot; the cluster-wide read holds another VM's migration
      // from node-1 in another namespace: 1 of 5 in the cluster, 2 of 2 outbound from node-1.
      const elsewhere = [
        { ...other("mig-a", "vm-a", "Running", "node-1"), metadata: { name: "mig-a", namespace: "batch" } },
        { ...other("mig-b", "vm-b", "Scheduled", "node-1"), metadata: { name: "mig-b", namespace: "batch" } },
      ] as VirtualMachineInstanceMigration[];
      const q = pending(300);
      const f = detectOne(snap({ vmi: onNode1, migrations: [q], clusterMigrations: [...elsewhere, q] }));
      expect(f.confidence).toBe("high");
      expect(f.summary).toContain(": the source node node-1 already has 2 outbound migrations (limit 2).");
      expect(f.fix.commands[2]).toBe(raiseNode(3));
      expect(f.notChecked).toEqual(["the KubeVirt resource (the limits shown are KubeVirt's defaults)"]);
      expect(f.evidence[2]?.text).toBe(
        "2 running in the cluster (limit 5), 2 outbound from node-1 (limit 2): batch/mig-a (vm-a, Running), batch/mig-b (vm-b, Scheduled)",
      );
      // Without the live read, the same snapshot can only guess, with low confidence.
      const guess = detectOne(snap({ vmi: onNode1, migrations: [q] }));
      expect(guess.confidence).toBe("low");
    });

    it("read live, where the running ones leave from comes from their VMIs, not their VMIMs (issue 21)", () => {
      // A running VMIM carries only its source pod (SetSourcePod); virt-controller counts a running
      // migration on its VMI's node and its VMI's record's source node (outboundMigrationsOnNode).
      const running = (name: string, phase: string) =>
        ({
          ...migration({ name, uid: `uid-${name}`, phase, state: { sourcePod: `virt-launcher-${name}` } }),
          metadata: { name, namespace: "batch", uid: `uid-${name}` },
          spec: { vmiName: `vm-${name}` },
        }) as VirtualMachineInstanceMigration;
      const elsewhere = [running("mig-a", "Running"), running("mig-b", "Scheduling")];
      const q = pending(300);
      const f = detectOne(
        snap({
          vmi: onNode1,
          migrations: [q],
          clusterMigrations: [...elsewhere, q],
          // mig-b's VMI moved off node-1 before; its record still names node-1 until hand-off.
          clusterOutboundNodes: new Map([
            ["batch/mig-a", ["node-1"]],
            ["batch/mig-b", ["node-3", "node-1"]],
          ]),
        }),
      );
      expect(f.confidence).toBe("high");
      expect(f.summary).toContain(": the source node node-1 already has 2 outbound migrations (limit 2).");
      expect(f.evidence[2]?.text).toBe(
        "2 running in the cluster (limit 5), 2 outbound from node-1 (limit 2): batch/mig-a (vm-mig-a, Running), batch/mig-b (vm-mig-b, Scheduling)",
      );
      // The same VMIMs, their VMIs elsewhere: room, so not the queue.
      expect(
        migrationQueued.detect(
          snap({
            vmi: onNode1,
            migrations: [q],
            clusterMigrations: [...elsewhere, q],
            clusterOutboundNodes: new Map([
              ["batch/mig-a", ["node-2"]],
              ["batch/mig-b", ["node-3"]],
            ]),
          }),
        ),
      ).toEqual([]);
    });

    it("the cluster's migrations read live and leaving room: the queue is not what holds it", () => {
      const q = pending(300);
      const room = [other("mig-a", "vm-a", "Running", "node-2")];
      expect(
        migrationQueued.detect(snap({ vmi: onNode1, migrations: [q], clusterMigrations: [...room, q] })),
      ).toEqual([]);
      // None at all running in the cluster is a count too.
      expect(migrationQueued.detect(snap({ vmi: onNode1, migrations: [q], clusterMigrations: [q] }))).toEqual(
        [],
      );
    });

    it("both full: both are named, and both raised (raising one alone would not start it)", () => {
      const others = [
        other("mig-a", "vm-a", "Running", "node-1"),
        other("mig-b", "vm-b", "Running", "node-1"),
      ];
      const f = detectOne(
        snap({
          vmi: onNode1,
          migrations: [...others, pending(300)],
          kubevirt: kubevirt({ parallelMigrationsPerCluster: 2 }),
        }),
      );
      expect(f.summary).toContain(
        ": the cluster already runs 2 migrations (limit 2), and the source node node-1 already has 2 outbound migrations (limit 2).",
      );
      expect(f.fix.commands[2]).toBe(
        `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"parallelMigrationsPerCluster":3,"parallelOutboundMigrationsPerNode":3}}}}'`,
      );
    });

    it("other VMs' migrations read with none running: the list says none", () => {
      const f = detectOne(
        snap({
          vmi: onNode1,
          migrations: [other("mig-a", "vm-a", "Succeeded"), pending(300)],
          kubevirt: kubevirt({ parallelMigrationsPerCluster: 0 }),
        }),
      );
      expect(f.evidence[2]?.text).toBe(
        "0 running in the cluster (limit 0), 0 outbound from node-1 (limit 2): none",
      );
    });

    it("virt-controller's line names the full limit: high, and its count wins", () => {
      const cluster = controllerLine(
        "Waiting to schedule target pod for vmi [demo/db-1] migration because total running parallel migration count [12] is currently at the global cluster limit.",
      );
      const f = detectOne(snap({ vmi: onNode1, migrations: [pending(300)], logs: controllerLog([cluster]) }));
      expect(f.confidence).toBe("high");
      expect(f.summary).toContain("the cluster already runs 12 migrations (limit 5)");
      expect(f.evidence[2]).toEqual({
        object: "Pod/virt-controller-abc",
        field: "log virt-controller",
        time: ago(20),
        text: JSON.parse(cluster).msg,
      });
      expect(f.notChecked).toEqual(["the KubeVirt resource (the limits shown are KubeVirt's defaults)"]);
      const node = controllerLine(
        "Waiting to schedule target pod for vmi [demo/db-1] migration because total running parallel outbound migrations on target node [3] has hit outbound migrations per node limit.",
      );
      const g = detectOne(
        snap({ vmi: onNode1, migrations: [pending(300)], logs: controllerLog([cluster, node]) }),
      );
      expect(g.summary).toContain("the source node node-1 already has 3 outbound migrations (limit 2)");
      expect(g.fix.commands[2]).toBe(raiseNode(3));
    });

    it("ignores virt-controller lines about other VMIs, or without a count", () => {
      const lines = [
        controllerLine(
          "Waiting to schedule target pod for vmi [demo/web-2] migration because total running parallel migration count [9]",
        ),
        controllerLine("Waiting to schedule target pod for vmi [demo/db-1] migration because of something"),
      ];
      const f = detectOne(snap({ vmi: onNode1, migrations: [pending(300)], logs: controllerLog(lines) }));
      expect(f.confidence).toBe("low");
      expect(f.evidence).toHaveLength(2);
    });
  });
});
