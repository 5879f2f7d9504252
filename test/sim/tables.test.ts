// The simulated API server's Table printing, checked cell by cell against what kube-apiserver's
// printers and the apiextensions table convertor produce for the same objects.

import { describe, expect, it } from "vitest";
import { humanDuration } from "../../src/duration.js";
import { evaluateJsonPath } from "../../src/sim/jsonpath.js";
import { customResourcePrinter, type TablePrinter, tablePrinter, toTable } from "../../src/sim/tables.js";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** An RFC 3339 timestamp `ms` before NOW, with whole seconds as the API server writes them. */
function ago(ms: number): string {
  return new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const NAME_DOC =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATION_DOC_START =
  "CreationTimestamp is a timestamp representing the server time when this object was created.";

function names(printer: TablePrinter): string[] {
  return printer.columns.map((c) => c.name);
}

function wide(printer: TablePrinter): string[] {
  return printer.columns.filter((c) => c.priority === 1).map((c) => c.name);
}

describe("humanDuration", () => {
  it.each([
    [0, "0s"],
    [-1999, "0s"],
    [-2 * SECOND, "<invalid>"],
    [999, "0s"],
    [59 * SECOND, "59s"],
    [119 * SECOND + 999, "119s"],
    [2 * MINUTE, "2m"],
    [2 * MINUTE + 30 * SECOND, "2m30s"],
    [9 * MINUTE + 59 * SECOND, "9m59s"],
    [10 * MINUTE + 30 * SECOND, "10m"],
    [179 * MINUTE + 59 * SECOND, "179m"],
    [3 * HOUR, "3h"],
    [3 * HOUR + 2 * MINUTE + 40 * SECOND, "3h2m"],
    [7 * HOUR + 59 * MINUTE, "7h59m"],
    [8 * HOUR + 30 * MINUTE, "8h"],
    [26 * HOUR, "26h"],
    [47 * HOUR + 59 * MINUTE, "47h"],
    [2 * DAY, "2d"],
    [2 * DAY + 5 * HOUR, "2d5h"],
    [7 * DAY + 23 * HOUR, "7d23h"],
    [8 * DAY, "8d"],
    [8 * DAY + 5 * HOUR, "8d"],
    [400 * DAY, "400d"],
    [729 * DAY + 23 * HOUR, "729d"],
    [730 * DAY, "2y"],
    [740 * DAY, "2y10d"],
    [(8 * 365 - 1) * DAY, "7y364d"],
    [8 * 365 * DAY, "8y"],
    [3650 * DAY, "10y"],
  ])("%d ms is %s", (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });
});

describe("evaluateJsonPath", () => {
  const vmi = {
    metadata: { name: "testvm", labels: { "kubevirt.io/domain": "testvm", "vm.kubevirt.io/name": "testvm" } },
    status: {
      phase: "Running",
      nodeName: "node01",
      migrationState: null,
      interfaces: [
        { name: "default", ipAddress: "10.244.1.12", ipAddresses: ["10.244.1.12", "fd10:244::10c"] },
        { name: "secondary", ipAddress: "192.168.100.5" },
      ],
      conditions: [
        { type: "Ready", status: "True" },
        { type: "LiveMigratable", status: "False", reason: "DisksNotLiveMigratable" },
        { type: "AgentConnected", status: "True" },
      ],
    },
  };

  it("follows fields, with or without the braces and $ of a template", () => {
    expect(evaluateJsonPath(vmi, ".status.phase")).toEqual(["Running"]);
    expect(evaluateJsonPath(vmi, "{.status.nodeName}")).toEqual(["node01"]);
    expect(evaluateJsonPath(vmi, "$.status.nodeName")).toEqual(["node01"]);
  });

  it("gives nothing for a missing key, but a key holding null is a match", () => {
    expect(evaluateJsonPath(vmi, ".status.printableStatus")).toEqual([]);
    expect(evaluateJsonPath(vmi, ".spec.running")).toEqual([]);
    expect(evaluateJsonPath(vmi, ".status.migrationState")).toEqual([null]);
    expect(evaluateJsonPath(vmi, ".status.migrationState.endTimestamp")).toEqual([]);
  });

  it("indexes, slices and expands arrays", () => {
    expect(evaluateJsonPath(vmi, ".status.interfaces[0].ipAddress")).toEqual(["10.244.1.12"]);
    expect(evaluateJsonPath(vmi, ".status.interfaces[-1].name")).toEqual(["secondary"]);
    expect(evaluateJsonPath(vmi, ".status.interfaces[*].ipAddress")).toEqual([
      "10.244.1.12",
      "192.168.100.5",
    ]);
    expect(evaluateJsonPath(vmi, ".status.interfaces[0].ipAddresses[1]")).toEqual(["fd10:244::10c"]);
    expect(evaluateJsonPath(vmi, ".status.conditions[1:3].type")).toEqual([
      "LiveMigratable",
      "AgentConnected",
    ]);
    expect(evaluateJsonPath(vmi, ".status.interfaces.*.name")).toEqual(["default", "secondary"]);
  });

  it("gives nothing for an index past the end, as client-go's error becomes an empty cell", () => {
    expect(evaluateJsonPath(vmi, ".status.interfaces[2].ipAddress")).toEqual([]);
    expect(evaluateJsonPath({ status: { interfaces: [] } }, ".status.interfaces[0].ipAddress")).toEqual([]);
    expect(evaluateJsonPath(vmi, ".status.phase[0]")).toEqual([]);
  });

  it("filters on == and != between strings", () => {
    expect(evaluateJsonPath(vmi, ".status.conditions[?(@.type=='LiveMigratable')].status")).toEqual([
      "False",
    ]);
    expect(evaluateJsonPath(vmi, '.status.conditions[?(@.type == "Ready")].status')).toEqual(["True"]);
    expect(evaluateJsonPath(vmi, ".status.conditions[?(@.type!='Ready')].type")).toEqual([
      "LiveMigratable",
      "AgentConnected",
    ]);
    expect(evaluateJsonPath(vmi, ".status.conditions[?(@.type=='Paused')].status")).toEqual([]);
  });

  it("filters on existence and skips elements without the compared field", () => {
    expect(evaluateJsonPath(vmi, ".status.conditions[?(@.reason)].type")).toEqual(["LiveMigratable"]);
    expect(evaluateJsonPath(vmi, ".status.conditions[?(@.reason=='DisksNotLiveMigratable')].type")).toEqual([
      "LiveMigratable",
    ]);
  });

  it("gives nothing when a filter compares a string with a number or runs over a non-list", () => {
    const odd = { status: { conditions: [{ type: "Ready", status: "True" }, { type: 5 }] } };
    expect(evaluateJsonPath(odd, ".status.conditions[?(@.type=='Ready')].status")).toEqual([]);
    expect(evaluateJsonPath(vmi, ".status.nodeName[?(@.type=='Ready')]")).toEqual([]);
  });

  it("reads keys containing dots, quoted in brackets or escaped", () => {
    expect(evaluateJsonPath(vmi, ".metadata.labels['kubevirt.io/domain']")).toEqual(["testvm"]);
    expect(evaluateJsonPath(vmi, ".metadata.labels.vm\\.kubevirt\\.io/name")).toEqual(["testvm"]);
  });

  it("rejects paths it cannot parse", () => {
    expect(() => evaluateJsonPath(vmi, ".status.interfaces[")).toThrow(/invalid JSONPath/);
    expect(() => evaluateJsonPath(vmi, "..status")).toThrow(/recursive descent/);
    expect(() => evaluateJsonPath(vmi, ".status.conditions[?(@.type=='Ready'")).toThrow(
      /unterminated filter/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// KubeVirt custom resources

const vmiRunning = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: {
    name: "testvm",
    namespace: "vms",
    uid: "0f8b5f1e-8f3c-4a1e-9d62-3c5a1b2d4e6f",
    resourceVersion: "48213",
    creationTimestamp: ago(5 * MINUTE + 12 * SECOND),
    labels: { "kubevirt.io/nodeName": "node01", "kubevirt.io/domain": "testvm" },
    ownerReferences: [
      { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: "testvm", uid: "7d0e", controller: true },
    ],
  },
  spec: { domain: { devices: {}, resources: { requests: { memory: "2Gi" } } } },
  status: {
    phase: "Running",
    nodeName: "node01",
    interfaces: [
      {
        name: "default",
        interfaceName: "eth0",
        ipAddress: "10.244.1.12",
        ipAddresses: ["10.244.1.12"],
        mac: "52:54:00:8a:1c:2e",
        infoSource: "domain, guest-agent",
      },
    ],
    conditions: [
      { type: "Ready", status: "True", lastProbeTime: null, lastTransitionTime: ago(4 * MINUTE) },
      { type: "LiveMigratable", status: "True", lastProbeTime: null, lastTransitionTime: null },
      { type: "AgentConnected", status: "True", lastProbeTime: null, lastTransitionTime: ago(3 * MINUTE) },
    ],
    migrationMethod: "BlockMigration",
    qosClass: "Burstable",
  },
};

describe("KubeVirt printers", () => {
  it("virtualmachines: Age, Status, Ready as the CRD declares them", () => {
    const printer = tablePrinter("kubevirt.io", "virtualmachines");
    expect(printer.columns).toEqual([
      { name: "Name", type: "string", format: "name", description: NAME_DOC, priority: 0 },
      {
        name: "Age",
        type: "date",
        format: "",
        description: "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp",
        priority: 0,
      },
      { name: "Status", type: "string", format: "", description: "Human Readable Status", priority: 0 },
      {
        name: "Ready",
        type: "string",
        format: "",
        description:
          "Custom resource definition column (in JSONPath format): .status.conditions[?(@.type=='Ready')].status",
        priority: 0,
      },
    ]);
    const running = {
      metadata: {
        name: "testvm",
        namespace: "vms",
        creationTimestamp: ago(3 * DAY + 4 * HOUR + 10 * MINUTE),
      },
      spec: { runStrategy: "Always" },
      status: {
        printableStatus: "Running",
        ready: true,
        created: true,
        conditions: [
          { type: "Ready", status: "True" },
          { type: "LiveMigratable", status: "True" },
        ],
      },
    };
    expect(printer.cells(running, NOW)).toEqual(["testvm", "3d4h", "Running", "True"]);
    const stopped = {
      metadata: { name: "stopped-vm", creationTimestamp: ago(90 * SECOND) },
      spec: { runStrategy: "Halted" },
      status: { printableStatus: "Stopped" },
    };
    expect(printer.cells(stopped, NOW)).toEqual(["stopped-vm", "90s", "Stopped", null]);
  });

  it("virtualmachineinstances: the Live-Migratable and Paused filters are wide columns", () => {
    const printer = tablePrinter("kubevirt.io", "virtualmachineinstances");
    expect(names(printer)).toEqual([
      "Name",
      "Age",
      "Phase",
      "IP",
      "NodeName",
      "Ready",
      "Live-Migratable",
      "Paused",
    ]);
    expect(wide(printer)).toEqual(["Live-Migratable", "Paused"]);
    expect(printer.columns.map((c) => c.type)).toEqual([
      "string",
      "date",
      "string",
      "string",
      "string",
      "string",
      "string",
      "string",
    ]);
    expect(printer.cells(vmiRunning, NOW)).toEqual([
      "testvm",
      "5m12s",
      "Running",
      "10.244.1.12",
      "node01",
      "True",
      "True",
      null,
    ]);
  });

  it("virtualmachineinstances: a VMI that cannot migrate shows False, a paused one shows Paused", () => {
    const printer = tablePrinter("kubevirt.io", "virtualmachineinstances");
    const pinned = structuredClone(vmiRunning);
    pinned.status.conditions = [
      { type: "Paused", status: "True", lastProbeTime: null, lastTransitionTime: ago(MINUTE) },
      { type: "Ready", status: "False", lastProbeTime: null, lastTransitionTime: ago(MINUTE) },
      { type: "LiveMigratable", status: "False", lastProbeTime: null, lastTransitionTime: null },
    ];
    expect(printer.cells(pinned, NOW).slice(5)).toEqual(["False", "False", "True"]);
  });

  it("virtualmachineinstances: fields a scheduling VMI lacks are null cells", () => {
    const printer = tablePrinter("kubevirt.io", "virtualmachineinstances");
    const scheduling = {
      metadata: { name: "newvm", creationTimestamp: ago(4 * SECOND) },
      status: {
        phase: "Scheduling",
        interfaces: [],
        conditions: [{ type: "Ready", status: "False", reason: "GuestNotRunning" }],
      },
    };
    expect(printer.cells(scheduling, NOW)).toEqual([
      "newvm",
      "4s",
      "Scheduling",
      null,
      null,
      "False",
      null,
      null,
    ]);
    expect(printer.cells({ metadata: { name: "bare" } }, NOW)).toEqual([
      "bare",
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it("virtualmachineinstancemigrations: Phase and VMI with their descriptions, and no Age", () => {
    const printer = tablePrinter("kubevirt.io", "virtualmachineinstancemigrations");
    expect(printer.columns.map((c) => [c.name, c.description])).toEqual([
      ["Name", NAME_DOC],
      ["Phase", "The current phase of VM instance migration"],
      ["VMI", "The name of the VMI to perform the migration on"],
    ]);
    const migration = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: { name: "kubevirt-migrate-vm-x7k2p", namespace: "vms", creationTimestamp: ago(2 * MINUTE) },
      spec: { vmiName: "testvm" },
      status: {
        phase: "Running",
        phaseTransitionTimestamps: [{ phase: "Pending", phaseTransitionTimestamp: ago(2 * MINUTE) }],
      },
    };
    expect(printer.cells(migration, NOW)).toEqual(["kubevirt-migrate-vm-x7k2p", "Running", "testvm"]);
    expect(printer.cells({ metadata: { name: "new" }, spec: { vmiName: "testvm" } }, NOW)).toEqual([
      "new",
      null,
      "testvm",
    ]);
  });

  it("kubevirts: Age and Phase", () => {
    const printer = tablePrinter("kubevirt.io", "kubevirts");
    expect(names(printer)).toEqual(["Name", "Age", "Phase"]);
    const kv = {
      metadata: { name: "kubevirt", namespace: "kubevirt", creationTimestamp: ago(40 * DAY + 3 * HOUR) },
      status: { phase: "Deployed", observedKubeVirtVersion: "v1.4.0" },
    };
    expect(printer.cells(kv, NOW)).toEqual(["kubevirt", "40d", "Deployed"]);
  });

  it.each([
    ["migrations.kubevirt.io", "migrationpolicies"],
    ["k8s.cni.cncf.io", "network-attachment-definitions"],
  ])("%s %s: no declared columns, so the CRD default Age", (group, plural) => {
    const printer = tablePrinter(group, plural);
    expect(printer.columns).toHaveLength(2);
    expect(printer.columns[1]).toMatchObject({ name: "Age", type: "date", format: "", priority: 0 });
    expect(printer.columns[1]?.description.startsWith(CREATION_DOC_START)).toBe(true);
    const object = { metadata: { name: "allow-post-copy", creationTimestamp: ago(3 * HOUR + 5 * MINUTE) } };
    expect(printer.cells(object, NOW)).toEqual(["allow-post-copy", "3h5m"]);
  });
});

describe("customResourcePrinter cell types", () => {
  const printer = customResourcePrinter([
    { name: "Spec", type: "string", jsonPath: ".spec" },
    { name: "Count", type: "integer", jsonPath: ".status.count" },
    { name: "Ratio", type: "number", jsonPath: ".status.ratio" },
    { name: "OK", type: "boolean", jsonPath: ".status.ok" },
    { name: "When", type: "date", jsonPath: ".status.when" },
    { name: "Note", type: "string", jsonPath: ".status.note" },
    { name: "Size", type: "string", jsonPath: ".status.size" },
  ]);

  it("prints structures as encoding/json would, truncates integers, keeps booleans", () => {
    const object = {
      metadata: { name: "x" },
      spec: { zone: "b", affinity: "<none>", count: 2 },
      status: { count: 2.9, ratio: 0.25, ok: false, when: ago(3 * HOUR), note: null, size: 1.5e-7 },
    };
    expect(printer.cells(object, NOW)).toEqual([
      "x",
      '{"affinity":"\\u003cnone\\u003e","count":2,"zone":"b"}',
      2,
      0.25,
      false,
      "3h",
      "<no value>",
      "1.5e-07",
    ]);
  });

  it("gives null for values of the wrong type and placeholders for bad dates", () => {
    const object = {
      metadata: { name: "y" },
      spec: "plain",
      status: { count: "2", ratio: "0.5", ok: "true", when: "yesterday" },
    };
    expect(printer.cells(object, NOW)).toEqual(["y", "plain", null, null, null, "<invalid>", null, null]);
    expect(printer.cells({ metadata: { name: "z" }, status: { when: "" } }, NOW)[5]).toBe("<unknown>");
  });

  it("refuses a column whose path it cannot parse", () => {
    expect(() => customResourcePrinter([{ name: "Bad", type: "string", jsonPath: ".status[" }])).toThrow(
      /invalid JSONPath/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Pods

function launcherPod(
  overrides: { status?: Record<string, unknown>; metadata?: Record<string, unknown> } = {},
) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "virt-launcher-testvm-8xq2n",
      namespace: "vms",
      creationTimestamp: ago(5 * MINUTE + 40 * SECOND),
      labels: { "kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": "testvm" },
      ...overrides.metadata,
    },
    spec: {
      nodeName: "node01",
      containers: [{ name: "compute", image: "quay.io/kubevirt/virt-launcher:v1.4.0" }],
      readinessGates: [{ conditionType: "kubevirt.io/virtual-machine-unpaused" }],
    },
    status: {
      phase: "Running",
      podIP: "10.244.1.12",
      podIPs: [{ ip: "10.244.1.12" }],
      hostIP: "192.168.66.101",
      qosClass: "Burstable",
      conditions: [
        { type: "kubevirt.io/virtual-machine-unpaused", status: "True" },
        { type: "Initialized", status: "True" },
        { type: "Ready", status: "True" },
        { type: "ContainersReady", status: "True" },
        { type: "PodScheduled", status: "True" },
      ],
      containerStatuses: [
        {
          name: "compute",
          ready: true,
          started: true,
          restartCount: 0,
          image: "quay.io/kubevirt/virt-launcher:v1.4.0",
          state: { running: { startedAt: ago(5 * MINUTE + 30 * SECOND) } },
          lastState: {},
        },
      ],
      ...overrides.status,
    },
  };
}

describe("pods", () => {
  const printer = tablePrinter("", "pods");

  it("has the server's columns, the last four wide, Restarts sent as a string", () => {
    expect(names(printer)).toEqual([
      "Name",
      "Ready",
      "Status",
      "Restarts",
      "Age",
      "IP",
      "Node",
      "Nominated Node",
      "Readiness Gates",
    ]);
    expect(wide(printer)).toEqual(["IP", "Node", "Nominated Node", "Readiness Gates"]);
    expect(printer.columns.find((c) => c.name === "Restarts")?.type).toBe("string");
    expect(printer.columns[0]).toEqual({
      name: "Name",
      type: "string",
      format: "name",
      description: NAME_DOC,
      priority: 0,
    });
  });

  it("prints a running virt-launcher pod", () => {
    expect(printer.cells(launcherPod(), NOW)).toEqual([
      "virt-launcher-testvm-8xq2n",
      "1/1",
      "Running",
      "0",
      "5m40s",
      "10.244.1.12",
      "node01",
      "<none>",
      "1/1",
    ]);
  });

  it("shows a waiting reason and placeholders for a pod still being created", () => {
    const pod = launcherPod({
      metadata: { creationTimestamp: ago(3 * SECOND) },
      status: {
        phase: "Pending",
        podIPs: undefined,
        podIP: undefined,
        conditions: [{ type: "PodScheduled", status: "True" }],
        containerStatuses: [
          {
            name: "compute",
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: "ContainerCreating" } },
          },
        ],
      },
    });
    expect(printer.cells(pod, NOW)).toEqual([
      "virt-launcher-testvm-8xq2n",
      "0/1",
      "ContainerCreating",
      "0",
      "3s",
      "<none>",
      "node01",
      "<none>",
      "0/1",
    ]);
  });

  it("shows CrashLoopBackOff and when the last restart happened", () => {
    const pod = launcherPod({
      status: {
        containerStatuses: [
          {
            name: "compute",
            ready: false,
            restartCount: 3,
            state: {
              waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container" },
            },
            lastState: {
              terminated: {
                exitCode: 1,
                reason: "Error",
                startedAt: ago(6 * MINUTE),
                finishedAt: ago(5 * MINUTE),
              },
            },
          },
        ],
      },
    });
    expect(printer.cells(pod, NOW).slice(1, 4)).toEqual(["0/1", "CrashLoopBackOff", "3 (5m ago)"]);
  });

  it("sums restarts over containers and dates them by the latest termination", () => {
    const container = (name: string, restartCount: number, finishedAt: string) => ({
      name,
      ready: true,
      restartCount,
      state: { running: { startedAt: finishedAt } },
      lastState: { terminated: { exitCode: 137, reason: "OOMKilled", finishedAt } },
    });
    const base = launcherPod({
      status: {
        containerStatuses: [
          container("compute", 1, ago(3 * HOUR)),
          container("guest-console-log", 2, ago(90 * SECOND)),
        ],
      },
    });
    const consoleLog = { name: "guest-console-log", image: "quay.io/kubevirt/virt-launcher:v1.4.0" };
    const pod = { ...base, spec: { ...base.spec, containers: [...base.spec.containers, consoleLog] } };
    expect(printer.cells(pod, NOW).slice(1, 4)).toEqual(["2/2", "Running", "3 (90s ago)"]);
  });

  it("shows Completed for a succeeded pod, even while it is being deleted", () => {
    const completed = {
      phase: "Succeeded",
      conditions: [{ type: "Ready", status: "False", reason: "PodCompleted" }],
      containerStatuses: [
        {
          name: "compute",
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 0, reason: "Completed" } },
        },
      ],
    };
    expect(printer.cells(launcherPod({ status: completed }), NOW)[2]).toBe("Completed");
    const deleted = launcherPod({ status: completed, metadata: { deletionTimestamp: ago(SECOND) } });
    expect(printer.cells(deleted, NOW)[2]).toBe("Completed");
  });

  it("shows Terminating once a running pod has a deletion timestamp, Unknown if its node is lost", () => {
    const terminating = launcherPod({ metadata: { deletionTimestamp: ago(10 * SECOND) } });
    expect(printer.cells(terminating, NOW)[2]).toBe("Terminating");
    const lost = launcherPod({
      metadata: { deletionTimestamp: ago(10 * SECOND) },
      status: { reason: "NodeLost", message: "Node node01 which was running pod is unresponsive" },
    });
    expect(printer.cells(lost, NOW)[2]).toBe("Unknown");
  });

  it("reports a completed container beside a running one as Running or NotReady", () => {
    const statuses = [
      {
        name: "setup",
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: "Completed" } },
      },
      { name: "compute", ready: true, restartCount: 0, state: { running: { startedAt: ago(MINUTE) } } },
    ];
    const ready = launcherPod({ status: { containerStatuses: statuses } });
    expect(printer.cells(ready, NOW).slice(1, 3)).toEqual(["1/1", "Running"]);
    const notReady = launcherPod({
      status: { containerStatuses: statuses, conditions: [{ type: "Ready", status: "False" }] },
    });
    expect(printer.cells(notReady, NOW)[2]).toBe("NotReady");
  });

  describe("init containers", () => {
    const withInit = (initStatus: Record<string, unknown>) => {
      const pod = launcherPod({
        status: {
          phase: "Pending",
          conditions: [{ type: "Initialized", status: "False" }],
          initContainerStatuses: [initStatus],
          containerStatuses: [
            {
              name: "compute",
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: "PodInitializing" } },
            },
          ],
        },
      });
      return {
        ...pod,
        spec: { ...pod.spec, initContainers: [{ name: "container-disk-binary", image: "x" }] },
      };
    };

    it("counts Init:0/1 while the first init container runs", () => {
      const pod = withInit({
        name: "container-disk-binary",
        ready: false,
        restartCount: 0,
        state: { running: {} },
      });
      expect(printer.cells(pod, NOW).slice(1, 4)).toEqual(["0/1", "Init:0/1", "0"]);
    });

    it("names a waiting or failed init container's reason", () => {
      const backoff = withInit({
        name: "container-disk-binary",
        restartCount: 2,
        state: { waiting: { reason: "CrashLoopBackOff" } },
        lastState: { terminated: { exitCode: 1, finishedAt: ago(40 * SECOND) } },
      });
      expect(printer.cells(backoff, NOW).slice(2, 4)).toEqual(["Init:CrashLoopBackOff", "2 (40s ago)"]);
      const failed = withInit({
        name: "container-disk-binary",
        restartCount: 0,
        state: { terminated: { exitCode: 2 } },
      });
      expect(printer.cells(failed, NOW)[2]).toBe("Init:ExitCode:2");
      const signalled = withInit({
        name: "container-disk-binary",
        restartCount: 0,
        state: { terminated: { exitCode: 137, signal: 9 } },
      });
      expect(printer.cells(signalled, NOW)[2]).toBe("Init:Signal:9");
    });

    it("counts a started sidecar as a ready container", () => {
      const pod = launcherPod();
      const sidecarPod = {
        ...pod,
        spec: { ...pod.spec, initContainers: [{ name: "proxy", image: "envoy", restartPolicy: "Always" }] },
        status: {
          ...pod.status,
          initContainerStatuses: [
            {
              name: "proxy",
              ready: true,
              started: true,
              restartCount: 1,
              state: { running: {} },
              lastState: {},
            },
          ],
        },
      };
      expect(printer.cells(sidecarPod, NOW).slice(1, 4)).toEqual(["2/2", "Running", "1"]);
    });
  });

  it("shows a nominated node and unmet readiness gates", () => {
    const pod = launcherPod({
      status: {
        phase: "Pending",
        nominatedNodeName: "node02",
        podIPs: [],
        conditions: [{ type: "kubevirt.io/virtual-machine-unpaused", status: "False" }],
        containerStatuses: [],
      },
    });
    expect(printer.cells(pod, NOW)).toEqual([
      "virt-launcher-testvm-8xq2n",
      "0/1",
      "Pending",
      "0",
      "5m40s",
      "<none>",
      "node01",
      "node02",
      "0/1",
    ]);
  });

  it("shows SchedulingGated and <unknown> age for a pod without a creation time", () => {
    const pod = launcherPod({
      metadata: { creationTimestamp: undefined },
      status: {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }],
        containerStatuses: [],
      },
    });
    expect(printer.cells(pod, NOW).slice(2, 5)).toEqual(["SchedulingGated", "0", "<unknown>"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Nodes, namespaces, deployments

function node(
  name: string,
  extra: { labels?: Record<string, string>; ready?: string; unschedulable?: boolean },
) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      creationTimestamp: ago(12 * DAY + 6 * HOUR),
      labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...extra.labels },
    },
    spec: { podCIDR: "10.244.0.0/24", ...(extra.unschedulable ? { unschedulable: true } : {}) },
    status: {
      addresses: [
        { type: "InternalIP", address: "192.168.66.101" },
        { type: "Hostname", address: name },
      ],
      conditions:
        extra.ready === undefined
          ? []
          : [
              { type: "MemoryPressure", status: "False" },
              { type: "Ready", status: extra.ready, reason: "KubeletReady" },
            ],
      nodeInfo: {
        kubeletVersion: "v1.31.2",
        osImage: "Ubuntu 24.04.1 LTS",
        kernelVersion: "6.8.0-45-generic",
        containerRuntimeVersion: "containerd://1.7.22",
      },
    },
  };
}

describe("nodes", () => {
  const printer = tablePrinter("", "nodes");

  it("has the server's columns, with addresses and versions wide", () => {
    expect(names(printer)).toEqual([
      "Name",
      "Status",
      "Roles",
      "Age",
      "Version",
      "Internal-IP",
      "External-IP",
      "OS-Image",
      "Kernel-Version",
      "Container-Runtime",
    ]);
    expect(wide(printer)).toEqual([
      "Internal-IP",
      "External-IP",
      "OS-Image",
      "Kernel-Version",
      "Container-Runtime",
    ]);
  });

  it("prints a ready control-plane node, roles sorted", () => {
    const cp = node("node01", {
      ready: "True",
      labels: { "node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "" },
    });
    expect(printer.cells(cp, NOW)).toEqual([
      "node01",
      "Ready",
      "control-plane,worker",
      "12d",
      "v1.31.2",
      "192.168.66.101",
      "<none>",
      "Ubuntu 24.04.1 LTS",
      "6.8.0-45-generic",
      "containerd://1.7.22",
    ]);
  });

  it("derives the status from the Ready condition and cordoning", () => {
    expect(printer.cells(node("node02", { ready: "True", unschedulable: true }), NOW).slice(1, 3)).toEqual([
      "Ready,SchedulingDisabled",
      "<none>",
    ]);
    expect(printer.cells(node("node02", { ready: "False" }), NOW)[1]).toBe("NotReady");
    expect(printer.cells(node("node02", { ready: "Unknown" }), NOW)[1]).toBe("NotReady");
    expect(printer.cells(node("node02", { unschedulable: true }), NOW)[1]).toBe("Unknown,SchedulingDisabled");
  });

  it("takes a role from kubernetes.io/role and <unknown> for missing node info", () => {
    const legacy = node("node03", { ready: "True", labels: { "kubernetes.io/role": "infra" } });
    legacy.status.nodeInfo = {
      kubeletVersion: "v1.31.2",
      osImage: "",
      kernelVersion: "",
      containerRuntimeVersion: "",
    };
    legacy.status.addresses = [{ type: "ExternalIP", address: "203.0.113.7" }];
    expect(printer.cells(legacy, NOW).slice(2)).toEqual([
      "infra",
      "12d",
      "v1.31.2",
      "<none>",
      "203.0.113.7",
      "<unknown>",
      "<unknown>",
      "<unknown>",
    ]);
  });
});

describe("namespaces", () => {
  it("prints Name, Status, Age", () => {
    const printer = tablePrinter("", "namespaces");
    expect(names(printer)).toEqual(["Name", "Status", "Age"]);
    const ns = {
      metadata: { name: "kubevirt", creationTimestamp: ago(12 * DAY) },
      status: { phase: "Active" },
    };
    expect(printer.cells(ns, NOW)).toEqual(["kubevirt", "Active", "12d"]);
    const leaving = {
      metadata: { name: "old", creationTimestamp: ago(26 * HOUR) },
      status: { phase: "Terminating" },
    };
    expect(printer.cells(leaving, NOW)).toEqual(["old", "Terminating", "26h"]);
  });
});

describe("deployments", () => {
  const printer = tablePrinter("apps", "deployments");
  const operator = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "virt-operator", namespace: "kubevirt", creationTimestamp: ago(40 * DAY) },
    spec: {
      replicas: 2,
      selector: { matchLabels: { "kubevirt.io": "virt-operator" } },
      template: {
        metadata: { labels: { "kubevirt.io": "virt-operator" } },
        spec: {
          containers: [
            { name: "virt-operator", image: "quay.io/kubevirt/virt-operator:v1.4.0" },
            { name: "sidecar", image: "registry.k8s.io/pause:3.10" },
          ],
        },
      },
    },
    status: { replicas: 2, readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 },
  };

  it("prints Ready as ready/desired and the template in the wide columns", () => {
    expect(names(printer)).toEqual([
      "Name",
      "Ready",
      "Up-to-date",
      "Available",
      "Age",
      "Containers",
      "Images",
      "Selector",
    ]);
    expect(wide(printer)).toEqual(["Containers", "Images", "Selector"]);
    expect(printer.cells(operator, NOW)).toEqual([
      "virt-operator",
      "1/2",
      2,
      1,
      "40d",
      "virt-operator,sidecar",
      "quay.io/kubevirt/virt-operator:v1.4.0,registry.k8s.io/pause:3.10",
      "kubevirt.io=virt-operator",
    ]);
  });

  it("formats a selector's requirements sorted by key", () => {
    const selector = {
      matchLabels: { zone: "a" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["web", "api"] },
        { key: "app", operator: "Exists" },
        { key: "canary", operator: "DoesNotExist" },
        { key: "env", operator: "NotIn", values: ["dev"] },
      ],
    };
    const deployment = { ...operator, spec: { ...operator.spec, selector }, status: {} };
    expect(printer.cells(deployment, NOW).slice(1, 4)).toEqual(["0/2", 0, 0]);
    expect(printer.cells(deployment, NOW)[7]).toBe("app,!canary,env notin (dev),tier in (api,web),zone=a");
  });
});

// ---------------------------------------------------------------------------------------------
// Events

describe("events", () => {
  const coreEvent = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "testvm.181b3c5f2d0e9a41", namespace: "vms", creationTimestamp: ago(10 * MINUTE) },
    involvedObject: {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      name: "testvm",
      namespace: "vms",
      uid: "0f8b5f1e",
    },
    reason: "Migrated",
    message: "  The VirtualMachineInstance migrated to node node02.\n",
    source: { component: "virt-handler", host: "node02" },
    firstTimestamp: ago(10 * MINUTE),
    lastTimestamp: ago(2 * MINUTE + 30 * SECOND),
    count: 2,
    type: "Normal",
    eventTime: null,
    reportingComponent: "",
    reportingInstance: "",
  };

  it("uses the server's column order: Name comes last and wide", () => {
    const printer = tablePrinter("", "events");
    expect(names(printer)).toEqual([
      "Last Seen",
      "Type",
      "Reason",
      "Object",
      "Subobject",
      "Source",
      "Message",
      "First Seen",
      "Count",
      "Name",
    ]);
    expect(wide(printer)).toEqual(["Subobject", "Source", "First Seen", "Count", "Name"]);
    expect(printer.columns.at(-1)).toMatchObject({ name: "Name", format: "name", description: NAME_DOC });
    expect(tablePrinter("events.k8s.io", "events").columns).toEqual(printer.columns);
  });

  it("prints a core event with its lower-cased kind and trimmed message", () => {
    expect(tablePrinter("", "events").cells(coreEvent, NOW)).toEqual([
      "2m30s",
      "Normal",
      "Migrated",
      "virtualmachineinstance/testvm",
      "",
      "virt-handler, node02",
      "The VirtualMachineInstance migrated to node node02.",
      "10m",
      2,
      "testvm.181b3c5f2d0e9a41",
    ]);
  });

  it("falls back to eventTime, reportingComponent and a count of one", () => {
    const event = {
      ...coreEvent,
      involvedObject: {
        kind: "Pod",
        name: "virt-launcher-testvm-8xq2n",
        fieldPath: "spec.containers{compute}",
      },
      reason: "Pulled",
      firstTimestamp: null,
      lastTimestamp: null,
      count: undefined,
      source: {},
      eventTime: "2025-06-01T11:59:15.123456Z",
      reportingComponent: "kubelet",
      reportingInstance: "node01",
    };
    expect(tablePrinter("", "events").cells(event, NOW)).toEqual([
      "44s",
      "Normal",
      "Pulled",
      "pod/virt-launcher-testvm-8xq2n",
      "spec.containers{compute}",
      "kubelet, node01",
      "The VirtualMachineInstance migrated to node node02.",
      "44s",
      1,
      "testvm.181b3c5f2d0e9a41",
    ]);
  });

  it("takes Last Seen and Count from a series", () => {
    const event = { ...coreEvent, series: { count: 7, lastObservedTime: ago(20 * SECOND) } };
    const cells = tablePrinter("", "events").cells(event, NOW);
    expect([cells[0], cells[8]]).toEqual(["20s", 7]);
  });

  it("reads events.k8s.io/v1 fields under their new names", () => {
    const event = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: {
        name: "kubevirt-migrate-vm-x7k2p.181b3c",
        namespace: "vms",
        creationTimestamp: ago(MINUTE),
      },
      eventTime: null,
      reportingController: "virtualmachine-controller",
      reportingInstance: "",
      action: "",
      reason: "SuccessfulCreate",
      regarding: {
        kind: "VirtualMachineInstanceMigration",
        name: "kubevirt-migrate-vm-x7k2p",
        namespace: "vms",
      },
      note: "Created migration target pod virt-launcher-testvm-q9z4d",
      type: "Normal",
      deprecatedSource: { component: "virtualmachine-controller" },
      deprecatedFirstTimestamp: ago(3 * MINUTE),
      deprecatedLastTimestamp: ago(MINUTE),
      deprecatedCount: 3,
    };
    expect(tablePrinter("events.k8s.io", "events").cells(event, NOW)).toEqual([
      "60s",
      "Normal",
      "SuccessfulCreate",
      "virtualmachineinstancemigration/kubevirt-migrate-vm-x7k2p",
      "",
      "virtualmachine-controller",
      "Created migration target pod virt-launcher-testvm-q9z4d",
      "3m",
      3,
      "kubevirt-migrate-vm-x7k2p.181b3c",
    ]);
  });

  it("prints only the kind when the event is about an unnamed object", () => {
    const event = { ...coreEvent, involvedObject: { kind: "Node" } };
    expect(tablePrinter("", "events").cells(event, NOW)[3]).toBe("node");
  });
});

// ---------------------------------------------------------------------------------------------
// Fallback and the Table itself

describe("resources without a printer", () => {
  it("get the default convertor's Name and Created At, an RFC 3339 time in UTC", () => {
    const printer = tablePrinter("rbac.authorization.k8s.io", "roles");
    expect(printer.columns.map((c) => [c.name, c.type, c.format, c.priority])).toEqual([
      ["Name", "string", "name", 0],
      ["Created At", "date", "", 0],
    ]);
    expect(printer.columns[1]?.description.startsWith(CREATION_DOC_START)).toBe(true);
    const role = { metadata: { name: "kubevirt-operator", creationTimestamp: "2025-05-01T10:30:00+02:00" } };
    expect(printer.cells(role, NOW)).toEqual(["kubevirt-operator", "2025-05-01T08:30:00Z"]);
    expect(printer.cells({ metadata: { name: "unset" } }, NOW)).toEqual(["unset", "0001-01-01T00:00:00Z"]);
  });

  it("includes core and CRD resources the sim knows nothing about", () => {
    expect(names(tablePrinter("cdi.kubevirt.io", "datavolumes"))).toEqual(["Name", "Created At"]);
    expect(names(tablePrinter("", "widgets"))).toEqual(["Name", "Created At"]);
  });
});

describe("every printer", () => {
  it.each([
    ["", "pods"],
    ["", "nodes"],
    ["", "namespaces"],
    ["", "events"],
    ["events.k8s.io", "events"],
    ["apps", "deployments"],
    ["kubevirt.io", "virtualmachines"],
    ["kubevirt.io", "virtualmachineinstances"],
    ["kubevirt.io", "virtualmachineinstancemigrations"],
    ["kubevirt.io", "kubevirts"],
    ["migrations.kubevirt.io", "migrationpolicies"],
    ["k8s.cni.cncf.io", "network-attachment-definitions"],
    ["storage.k8s.io", "storageclasses"],
  ])("%s/%s fills one cell per column, even for an empty object", (group, plural) => {
    const printer = tablePrinter(group, plural);
    expect(printer.cells({}, NOW)).toHaveLength(printer.columns.length);
    expect(printer.columns.filter((c) => c.name === "Name")).toHaveLength(1);
  });
});

describe("toTable", () => {
  const printer = tablePrinter("kubevirt.io", "virtualmachineinstances");
  const listMeta = {
    resourceVersion: "48213",
    continue: "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ",
    remainingItemCount: 4,
  };

  it("carries each object's metadata as PartialObjectMetadata by default", () => {
    const table = toTable(printer, [vmiRunning], NOW, listMeta);
    expect(table).toEqual({
      kind: "Table",
      apiVersion: "meta.k8s.io/v1",
      metadata: listMeta,
      columnDefinitions: printer.columns,
      rows: [
        {
          cells: ["testvm", "5m12s", "Running", "10.244.1.12", "node01", "True", "True", null],
          object: {
            kind: "PartialObjectMetadata",
            apiVersion: "meta.k8s.io/v1",
            metadata: vmiRunning.metadata,
          },
        },
      ],
    });
    const rows = table.rows as { object: { metadata: unknown } }[];
    expect(rows[0]?.object.metadata).not.toBe(vmiRunning.metadata);
  });

  it("carries the whole object, or none, when asked", () => {
    const withObject = toTable(printer, [vmiRunning], NOW, {}, "Object").rows as { object: unknown }[];
    expect(withObject[0]?.object).toBe(vmiRunning);
    const without = toTable(printer, [vmiRunning], NOW, {}, "None").rows as Record<string, unknown>[];
    expect(Object.keys(without[0] ?? {})).toEqual(["cells"]);
  });

  it("answers in meta.k8s.io/v1beta1 when that is the Table asked for", () => {
    const table = toTable(
      printer,
      [vmiRunning],
      NOW,
      { resourceVersion: "7" },
      "Metadata",
      "meta.k8s.io/v1beta1",
    );
    expect(table.apiVersion).toBe("meta.k8s.io/v1beta1");
    const rows = table.rows as { object: { apiVersion: string } }[];
    expect(rows[0]?.object.apiVersion).toBe("meta.k8s.io/v1beta1");
  });

  it("leaves out empty list metadata and gives an empty list no rows", () => {
    const table = toTable(printer, [], NOW, { resourceVersion: "", continue: "" });
    expect(table.metadata).toEqual({});
    expect(table.rows).toEqual([]);
    expect(toTable(printer, [], NOW, { remainingItemCount: 0 }).metadata).toEqual({ remainingItemCount: 0 });
  });
});
