// version-skew's reasoning on hand-built snapshots: which texts count as a lost connection or as
// the target refusing the source's state, which launcher log lines belong to an attempt (the
// minute of slack either side), the attempt the VMI's state alone records, how the source and
// target images are read or inferred (and what the evidence says about each), which attempt is
// reported, the confidence per kind, the summary word for word, the fix and what was not checked.

import { describe, expect, it } from "vitest";
import {
  connectionClosedPattern,
  incomingFailurePattern,
  launcherSkew,
  versionSkew,
} from "../../../src/diagnose/modes/version-skew.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type {
  Pod,
  VirtualMachineInstanceMigration,
  VirtualMachineInstanceMigrationState,
} from "../../../src/k8s/types.js";
import { ago, event, migration, ns, pod, snap, vmi } from "../../helpers/builders.js";

const OLD = "quay.io/kubevirt/virt-launcher:v1.4.0";
const NEW = "quay.io/kubevirt/virt-launcher:v1.5.0";
const SRC = "virt-launcher-db-1-src01";
const TGT = "virt-launcher-db-1-tgt01";
const UID = "bbbbbbbb-0000-4000-8000-000000000001";
const NAME = "kubevirt-migrate-vm-abcde";
const SOCKET = "client socket is closed";
const TAIL =
  "The VM still runs a launcher older than the cluster's; live migration cannot move it to the new build, and retries fail the same way.";
const INFERRED =
  "the target pod's own image (the pod is gone; inferred from virt-controller's --launcher-image)";
const NO_EVENTS = "events (none gathered: expired, or not readable)";
const NO_LOGS = "virt-launcher logs (the target QEMU's own error lines)";

interface FailedParts {
  name?: string;
  uid?: string;
  reason?: string;
  /** Seconds before the snapshot: created, entered Running (omit: never), entered Failed (omit: unrecorded). */
  created?: number;
  running?: number | null;
  failedAt?: number | null;
  state?: VirtualMachineInstanceMigrationState;
}

function failed(parts: FailedParts = {}): VirtualMachineInstanceMigration {
  const created = parts.created ?? 600;
  const running = parts.running === undefined ? 540 : parts.running;
  const failedAt = parts.failedAt === undefined ? 480 : parts.failedAt;
  const transitions: Record<string, string> = { Pending: ago(created) };
  if (running !== null) transitions.Running = ago(running);
  if (failedAt !== null) transitions.Failed = ago(failedAt);
  return migration({
    name: parts.name ?? NAME,
    uid: parts.uid ?? UID,
    phase: "Failed",
    created: ago(created),
    transitions,
    state: {
      sourcePod: SRC,
      ...(parts.reason !== undefined ? { failureReason: parts.reason } : {}),
      ...parts.state,
    },
  });
}

function launcher(name: string, image: string, uid?: string, status?: Pod["status"]): Pod {
  return pod(name, {
    labels: uid ? { "kubevirt.io/migrationJobUID": uid } : {},
    spec: { containers: [{ name: "compute", image }] },
    status: status ?? { phase: "Running" },
  });
}

const source = () => launcher(SRC, OLD);
const target = (uid = UID) => launcher(TGT, NEW, uid, { phase: "Failed" });

function theVmi(status: Record<string, unknown> = {}, labels?: Record<string, string>) {
  const v = vmi({ phase: "Running", nodeName: "node-1", launcherContainerImageVersion: OLD, ...status });
  if (labels) v.metadata.labels = labels;
  return v;
}

function s(parts: Partial<Snapshot> = {}): Snapshot {
  return snap({ vmi: theVmi(), ...parts });
}

function line(msg: string, at?: string): string {
  return JSON.stringify({ level: "error", msg, ...(at ? { timestamp: at } : {}) });
}

function logsOf(podName: string, lines: string[]): Snapshot["logs"] {
  return [{ namespace: ns, pod: podName, container: "compute", lines }];
}

function only(snapshot: Snapshot): Finding {
  const found = versionSkew.detect(snapshot);
  expect(found).toHaveLength(1);
  return found[0] as Finding;
}

const srcEvidence = {
  object: `Pod/${SRC}`,
  field: "spec.containers[compute].image",
  time: ago(600),
  text: `${OLD} (source)`,
};
const tgtEvidence = {
  object: `Pod/${TGT}`,
  field: "spec.containers[compute].image",
  time: ago(600),
  text: `${NEW} (target)`,
};

describe("version-skew: the failure texts it knows", () => {
  it("reads each wording of a lost libvirt connection, in any case", () => {
    for (const text of [
      "client socket is closed",
      "internal error: connection closed due to keepalive timeout",
      "Cannot recv data: Connection reset by peer",
      "Unable to read from socket: Connection reset by peer",
      "Unable to write to socket: Broken pipe",
      "CLIENT SOCKET IS CLOSED",
    ])
      expect(connectionClosedPattern.test(text), text).toBe(true);
    expect(connectionClosedPattern.test("Unable to open socket")).toBe(false);
    expect(connectionClosedPattern.test("connection refused")).toBe(false);
  });

  it("reads each wording of the target refusing the source's state, in any case", () => {
    for (const text of [
      "qemu-kvm: Failed to load virtio-net:virtio",
      "qemu-kvm: error while loading state for instance 0x0 of device 'ram'",
      "operation failed: job 'migration in' failed: load of migration failed: Input/output error",
      "internal error: qemu unexpectedly closed the monitor",
      "guest CPU doesn't match specification: extra features: ht",
      "qemu-kvm: Features 0x130afe7a2 unsupported. Allowed features: 0x179bfffe7",
      "FAILED TO LOAD cpu",
    ])
      expect(incomingFailurePattern.test(text), text).toBe(true);
    expect(incomingFailurePattern.test("Features 0x unsupported")).toBe(false);
    expect(incomingFailurePattern.test("Failed to load")).toBe(false);
  });
});

describe("version-skew: a failure between two launchers read from the pods", () => {
  it("says which images, how it failed and what to do, word for word", () => {
    const f = only(
      s({ migrations: [failed({ reason: SOCKET })], pods: [source(), target()], currentLauncherImage: NEW }),
    );
    expect(f.id).toBe("version-skew");
    expect(f.title).toBe("Migration failed between different virt-launcher versions");
    expect(versionSkew.title).toBe(f.title);
    expect(f.severity).toBe("error");
    // A dropped connection can have other causes: medium even with both images read.
    expect(f.confidence).toBe("medium");
    expect(f.summary).toBe(
      `Migration ${NAME} of db-1 failed going from ${OLD} to ${NEW} ("${SOCKET}"): the libvirt connection to the target dropped, which is how a migration between mismatched launcher builds commonly ends. ${TAIL}`,
    );
    expect(f.evidence).toEqual([
      {
        object: `VirtualMachineInstanceMigration/${NAME}`,
        field: "status.migrationState.failureReason",
        time: ago(480),
        text: SOCKET,
      },
      srcEvidence,
      tgtEvidence,
    ]);
    expect(f.fix).toEqual({
      explanation:
        "Restart the VM so it starts on the current virt-launcher: this stops and starts the guest (downtime), " +
        "after which it migrates normally. Other VMs still on the old launcher will fail the same way; list them first.",
      commands: ["kvmig restart db-1 -n demo", "kvmig outdated -n demo"],
    });
    expect(f.docs).toBe("https://kubevirt.io/user-guide/cluster_admin/updating_and_deletion/");
    expect(f.notChecked).toEqual([NO_EVENTS, NO_LOGS]);
  });

  it("is high when the target refused the state and both images were read", () => {
    const f = only(
      s({
        migrations: [failed({ reason: "qemu-kvm: Failed to load virtio-net:virtio" })],
        pods: [source(), target()],
      }),
    );
    expect(f.confidence).toBe("high");
    expect(f.summary).toBe(
      `Migration ${NAME} of db-1 failed going from ${OLD} to ${NEW} ("qemu-kvm: Failed to load virtio-net:virtio"): the new launcher's QEMU/libvirt on the target could not take over the old one's state. ${TAIL}`,
    );
  });

  it("names the image field the pod's status gave when the running container reports it", () => {
    const withStatus = launcher(TGT, NEW, UID, {
      phase: "Failed",
      containerStatuses: [
        { name: "guest-console-log", image: "other:1" },
        { name: "compute", image: NEW },
      ] as never,
    });
    const f = only(s({ migrations: [failed({ reason: SOCKET })], pods: [source(), withStatus] }));
    expect(f.evidence).toContainEqual({ ...tgtEvidence, field: "status.containerStatuses[compute].image" });
    // Another container with the compute image in its status is not the compute container.
    const sidecar = launcher(TGT, NEW, UID, {
      phase: "Failed",
      containerStatuses: [{ name: "hotplug", image: NEW }] as never,
    });
    const g = only(s({ migrations: [failed({ reason: SOCKET })], pods: [source(), sidecar] }));
    expect(g.evidence).toContainEqual(tgtEvidence);
    // The status's compute image wins over the spec's and is what the evidence names.
    const moved = launcher(TGT, "spec-image:1", UID, {
      phase: "Failed",
      containerStatuses: [{ name: "compute", image: NEW }] as never,
    });
    const h = only(s({ migrations: [failed({ reason: SOCKET })], pods: [source(), moved] }));
    expect(h.evidence).toContainEqual({ ...tgtEvidence, field: "status.containerStatuses[compute].image" });
  });

  it("prefers the source pod's image to the VMI's record of it", () => {
    const f = only(
      s({
        vmi: theVmi({ launcherContainerImageVersion: "quay.io/kubevirt/virt-launcher:v1.3.0" }),
        migrations: [failed({ reason: SOCKET })],
        pods: [source(), target()],
      }),
    );
    expect(f.summary).toContain(`going from ${OLD} to ${NEW}`);
    expect(f.evidence).toContainEqual(srcEvidence);
  });

  it("falls back on the VMI's launcherContainerImageVersion when the source pod is gone or has no compute image", () => {
    const vmiEvidence = {
      object: "VirtualMachineInstance/db-1",
      field: "status.launcherContainerImageVersion",
      text: OLD,
    };
    const f = only(s({ migrations: [failed({ reason: SOCKET })], pods: [target()] }));
    expect(f.evidence.slice(1)).toEqual([vmiEvidence, tgtEvidence]);
    expect(f.summary).toContain(`going from ${OLD} to ${NEW}`);
    // Read directly (the VMI's own record and the target pod): nothing inferred.
    expect(f.notChecked).toEqual([NO_EVENTS, NO_LOGS]);

    const bare = pod(SRC, { spec: { containers: [{ name: "sidecar", image: "x:1" }] } });
    const g = only(s({ migrations: [failed({ reason: SOCKET })], pods: [bare, target()] }));
    expect(g.evidence.slice(1)).toEqual([vmiEvidence, tgtEvidence]);
  });

  it("works on a VMI without a status, reading both images from the pods", () => {
    const bare = vmi(undefined);
    delete bare.status;
    const f = only(s({ vmi: bare, migrations: [failed({ reason: SOCKET })], pods: [source(), target()] }));
    expect(f.summary).toContain(`going from ${OLD} to ${NEW}`);
  });

  it("ignores a VMIM that has no status yet", () => {
    const fresh = migration({ name: "fresh", uid: "fresh-uid", created: ago(10) });
    delete fresh.status;
    const f = only(s({ migrations: [failed({ reason: SOCKET }), fresh], pods: [source(), target()] }));
    expect(f.summary).toContain(`Migration ${NAME} `);
  });

  it("adds virt-controller's event when the workload updater created the migration", () => {
    const byUpdater = event({
      reason: "SuccessfulCreate",
      type: "Normal",
      message: `Created Migration ${NAME} for automated workload update`,
      lastTimestamp: undefined,
      firstTimestamp: ago(600),
    });
    const byUser = event({
      reason: "SuccessfulCreate",
      type: "Normal",
      message: "Created virtual machine pod virt-launcher-db-1-src01",
      lastTimestamp: ago(599),
    });
    const f = only(
      s({
        migrations: [failed({ reason: SOCKET })],
        pods: [source(), target()],
        events: [byUpdater, byUser],
      }),
    );
    expect(f.evidence.at(-1)).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "event SuccessfulCreate",
      time: ago(600),
      text: `Created Migration ${NAME} for automated workload update`,
    });
    expect(f.evidence.filter((e) => e.field === "event SuccessfulCreate")).toHaveLength(1);
    // Events were read: only the logs are missing.
    expect(f.notChecked).toEqual([NO_LOGS]);
  });
});

describe("version-skew: the launcher log lines of an attempt", () => {
  // Created 11:50:00, failed 11:52:00: lines from 11:49:00 to 11:53:00, and untimed ones, count.
  it("takes failure lines from a minute before its creation to a minute after its end, and untimed ones", () => {
    const lines = [
      line("client socket is closed (a)", "2025-03-01T11:48:59Z"),
      line("client socket is closed (b)", "2025-03-01T11:49:00Z"),
      line("migration is progressing", "2025-03-01T11:51:00Z"),
      line("Cannot recv data (c)", "2025-03-01T11:53:00Z"),
      line("Cannot recv data (d)", "2025-03-01T11:53:01Z"),
      line("Unable to write to socket (e)"),
    ];
    const f = only(
      s({ migrations: [failed()], pods: [source(), target()], logs: logsOf(SRC, lines), events: [] }),
    );
    expect(f.evidence.filter((e) => e.field === "log compute").map((e) => e.text)).toEqual([
      "client socket is closed (b)",
      "Cannot recv data (c)",
      "Unable to write to socket (e)",
    ]);
    expect(f.evidence[0]).toEqual({
      object: `Pod/${SRC}`,
      field: "log compute",
      time: "2025-03-01T11:49:00Z",
      text: "client socket is closed (b)",
    });
    // No failureReason: the log lines alone tell how it failed.
    expect(f.confidence).toBe("medium");
    expect(f.summary).toContain(
      '("client socket is closed (b)"): the libvirt connection to the target dropped',
    );
    expect(f.notChecked).toEqual([NO_EVENTS]);
  });

  it("takes an incoming-side line on its own", () => {
    const f = only(
      s({
        migrations: [failed()],
        pods: [source(), target()],
        logs: logsOf(TGT, [line("qemu-kvm: Failed to load cpu:cpu", "2025-03-01T11:51:30Z")]),
      }),
    );
    expect(f.confidence).toBe("high");
    expect(f.evidence[0]?.text).toBe("qemu-kvm: Failed to load cpu:cpu");
  });

  it("with no recorded end, takes every later line", () => {
    const f = only(
      s({
        migrations: [failed({ failedAt: null })],
        pods: [source(), target()],
        logs: logsOf(SRC, [line(SOCKET, "2025-03-01T11:59:00Z")]),
      }),
    );
    expect(f.evidence[0]?.text).toBe(SOCKET);
  });

  it("with no creation time, takes every earlier line", () => {
    const m = failed();
    delete m.metadata.creationTimestamp;
    const f = only(
      s({
        migrations: [m],
        pods: [source(), target()],
        logs: logsOf(SRC, [line(SOCKET, "2025-03-01T09:00:00Z")]),
      }),
    );
    expect(f.evidence[0]?.text).toBe(SOCKET);
  });
});

describe("version-skew: which failures are news", () => {
  const success = (endedAgo: number | null, created = 300) =>
    migration({
      name: "later",
      uid: "later-uid",
      phase: "Succeeded",
      created: ago(created),
      transitions: endedAgo === null ? {} : { Succeeded: ago(endedAgo) },
    });

  it("keeps a failure that ended at the same moment as the last success", () => {
    expect(
      versionSkew.detect(
        s({ migrations: [failed({ reason: SOCKET }), success(480)], pods: [source(), target()] }),
      ),
    ).toHaveLength(1);
    expect(
      versionSkew.detect(
        s({ migrations: [failed({ reason: SOCKET }), success(479)], pods: [source(), target()] }),
      ),
    ).toEqual([]);
  });

  it("dates a success with no recorded end by its creation", () => {
    expect(
      versionSkew.detect(
        s({ migrations: [failed({ reason: SOCKET }), success(null, 300)], pods: [source(), target()] }),
      ),
    ).toEqual([]);
  });

  it("dates a failure with no recorded end by its creation", () => {
    const f = failed({ reason: SOCKET, failedAt: null, created: 200 });
    expect(versionSkew.detect(s({ migrations: [f, success(300)], pods: [source(), target()] }))).toHaveLength(
      1,
    );
  });
});

describe("version-skew: the failure only the VMI's migrationState records (the VMIM is gone)", () => {
  const GONE = "cccccccc-0000-4000-8000-000000000003";
  const refused = "qemu-kvm: Features 0x2000 unsupported. Allowed features: 0x1000";
  const state = (extra: Record<string, unknown> = {}) => ({
    failed: true,
    completed: true,
    migrationUid: GONE,
    startTimestamp: ago(540),
    endTimestamp: ago(480),
    sourcePod: SRC,
    targetPod: TGT,
    ...extra,
  });
  const vmiWith = (extra: Record<string, unknown> = {}) => theVmi({ migrationState: state(extra) });
  const pods = () => [source(), target(GONE)];

  it("reports it with the VMI's failureReason and the Warning events naming its uid", () => {
    const migrated = event({
      reason: "Migrated",
      message: `VirtualMachineInstance migration uid ${GONE} failed. reason:${refused}`,
      lastTimestamp: ago(479),
    });
    const normal = event({ reason: "Migrating", type: "Normal", message: `migration ${GONE} started` });
    const unrelated = event({ reason: "Migrated", message: "migration uid other failed" });
    const f = only(
      s({ vmi: vmiWith({ failureReason: refused }), pods: pods(), events: [migrated, normal, unrelated] }),
    );
    expect(f.confidence).toBe("high");
    expect(f.summary).toBe(
      `Migration (VMIM gone) of db-1 failed going from ${OLD} to ${NEW} ("${refused}"): the new launcher's QEMU/libvirt on the target could not take over the old one's state. ${TAIL}`,
    );
    expect(f.evidence).toEqual([
      {
        object: "VirtualMachineInstance/db-1",
        field: "status.migrationState.failureReason",
        time: ago(480),
        text: refused,
      },
      {
        object: "VirtualMachineInstance/db-1",
        field: "event Migrated",
        time: ago(479),
        text: `VirtualMachineInstance migration uid ${GONE} failed. reason:${refused}`,
      },
      srcEvidence,
      { ...tgtEvidence, time: ago(600) },
    ]);
    expect(f.notChecked).toEqual([NO_LOGS]);
  });

  it("quotes an event of an unnamed object, and one without a reason or time", () => {
    const bare = event({ message: `migration ${GONE} failed`, lastTimestamp: undefined });
    bare.involvedObject = {};
    delete bare.reason;
    const f = only(s({ vmi: vmiWith({ failureReason: SOCKET }), pods: pods(), events: [bare] }));
    expect(f.evidence[1]).toEqual({
      object: "Object/?",
      field: "event",
      time: undefined,
      text: `migration ${GONE} failed`,
    });
  });

  it("takes its log lines from a minute before its start to a minute after its end", () => {
    // Started 11:51:00, ended 11:52:00.
    const lines = [
      line("client socket is closed (a)", "2025-03-01T11:49:59Z"),
      line("client socket is closed (b)", "2025-03-01T11:50:00Z"),
      line("Cannot recv data (c)", "2025-03-01T11:53:00Z"),
      line("Cannot recv data (d)", "2025-03-01T11:53:01Z"),
    ];
    const f = only(s({ vmi: vmiWith(), pods: pods(), logs: logsOf(SRC, lines) }));
    expect(f.evidence.filter((e) => e.field === "log compute").map((e) => e.text)).toEqual([
      "client socket is closed (b)",
      "Cannot recv data (c)",
    ]);
  });

  it("without a start or an end, takes every line", () => {
    const lines = [line("client socket is closed (a)", "2025-03-01T09:00:00Z"), line("Cannot recv data (b)")];
    const noTimes = theVmi({
      migrationState: { ...state(), startTimestamp: undefined, endTimestamp: undefined },
    });
    const f = only(s({ vmi: noTimes, pods: pods(), logs: logsOf(SRC, lines) }));
    expect(f.evidence.map((e) => e.text).slice(0, 2)).toEqual([
      "client socket is closed (a)",
      "Cannot recv data (b)",
    ]);
    expect(f.summary).toContain("Migration (VMIM gone) of db-1");
  });

  it("without a failure text, counts only once the transfer began", () => {
    const f = only(s({ vmi: vmiWith(), pods: pods() }));
    expect(f.confidence).toBe("low");
    expect(f.summary).toContain("(no recorded reason): the reason was not recorded.");
    expect(f.notChecked).toEqual([
      "why the migration failed: no failureReason, no failure events and no launcher error lines were found",
      NO_EVENTS,
      NO_LOGS,
    ]);
    expect(versionSkew.detect(s({ vmi: vmiWith({ startTimestamp: undefined }), pods: pods() }))).toEqual([]);
  });

  it("is not a second attempt when its VMIM is still there", () => {
    const vmiState = theVmi({ migrationState: { ...state({ failureReason: SOCKET }), migrationUid: UID } });
    const f = only(
      s({ vmi: vmiState, migrations: [failed({ reason: SOCKET })], pods: [source(), target()] }),
    );
    expect(f.summary).toContain(`Migration ${NAME} of db-1`);
    expect(f.summary).not.toContain("failed attempts");
  });

  it("is history once a later migration succeeded, unless it ended with it or has no end", () => {
    const success = (endedAgo: number) =>
      migration({
        name: "later",
        uid: "later-uid",
        phase: "Succeeded",
        created: ago(endedAgo + 30),
        transitions: { Succeeded: ago(endedAgo) },
      });
    const withReason = { failureReason: SOCKET };
    expect(
      versionSkew.detect(s({ vmi: vmiWith(withReason), migrations: [success(479)], pods: pods() })),
    ).toEqual([]);
    expect(
      versionSkew.detect(s({ vmi: vmiWith(withReason), migrations: [success(480)], pods: pods() })),
    ).toHaveLength(1);
    const noEnd = vmiWith({ ...withReason, endTimestamp: undefined });
    expect(versionSkew.detect(s({ vmi: noEnd, migrations: [success(100)], pods: pods() }))).toHaveLength(1);
  });
});

describe("version-skew: images inferred when the target pod is gone", () => {
  const noPods = (parts: Partial<Snapshot>) =>
    s({ migrations: [failed({ reason: SOCKET })], pods: [], ...parts });
  const attemptOf = (snapshot: Snapshot) => ({
    migration: snapshot.migrations[0],
    object: `VirtualMachineInstanceMigration/${NAME}`,
    failure: [],
    logs: [],
    kind: "connection-closed" as const,
  });

  it("compares the VMI's launcher with virt-controller's --launcher-image", () => {
    const snapshot = noPods({
      currentLauncherImage: NEW,
      virtController: { metadata: { name: "virt-controller" } } as never,
    });
    const skew = launcherSkew(snapshot, attemptOf(snapshot));
    expect(skew).toEqual({
      verdict: "skew",
      direct: false,
      sourceImage: OLD,
      targetImage: NEW,
      evidence: [
        { object: "VirtualMachineInstance/db-1", field: "status.launcherContainerImageVersion", text: OLD },
        {
          object: "Deployment/virt-controller",
          field: "--launcher-image",
          text: `${NEW} (what new target pods get)`,
        },
      ],
      notChecked: [INFERRED],
    });
    const f = only(snapshot);
    expect(f.confidence).toBe("medium");
    expect(f.notChecked).toEqual([INFERRED, NO_EVENTS, NO_LOGS]);
    expect(f.summary).toContain(`going from ${OLD} to ${NEW}`);
  });

  it("names virt-controller's Deployment as it is called, and 'virt-controller' when it was not read", () => {
    const named = noPods({
      currentLauncherImage: NEW,
      virtController: { metadata: { name: "kv-controller" } } as never,
    });
    expect(launcherSkew(named).evidence.map((e) => e.object)).toContain("Deployment/kv-controller");
    const unread = noPods({ currentLauncherImage: NEW });
    expect(launcherSkew(unread).evidence.map((e) => e.object)).toContain("Deployment/virt-controller");
  });

  it("reads the source pod's own image when it is still there", () => {
    const snapshot = noPods({ pods: [source()], currentLauncherImage: NEW });
    const skew = launcherSkew(snapshot, attemptOf(snapshot));
    expect(skew.evidence[0]).toEqual(srcEvidence);
    expect(skew.verdict).toBe("skew");
  });

  it("is the same launcher when the VMI's image is the current one: then silent", () => {
    const snapshot = noPods({ currentLauncherImage: OLD });
    expect(launcherSkew(snapshot, attemptOf(snapshot))).toMatchObject({
      verdict: "same",
      direct: false,
      sourceImage: OLD,
      targetImage: OLD,
      notChecked: [INFERRED],
    });
    expect(versionSkew.detect(snapshot)).toEqual([]);
  });

  it("takes the outdated-launcher label on the VMI as skew, even without any image", () => {
    const snapshot = noPods({
      vmi: theVmi({ launcherContainerImageVersion: undefined }, { "kubevirt.io/outdatedLauncherImage": "" }),
    });
    const skew = launcherSkew(snapshot, attemptOf(snapshot));
    expect(skew).toEqual({
      verdict: "skew",
      direct: false,
      sourceImage: undefined,
      targetImage: undefined,
      evidence: [
        {
          object: "VirtualMachineInstance/db-1",
          field: "metadata.labels",
          text: "kubevirt.io/outdatedLauncherImage (the launcher differs from virt-controller's --launcher-image)",
        },
      ],
      notChecked: [INFERRED],
    });
    const f = only(snapshot);
    expect(f.summary).toBe(
      `Migration ${NAME} of db-1 failed going from an outdated virt-launcher to the current one ("${SOCKET}"): the libvirt connection to the target dropped, which is how a migration between mismatched launcher builds commonly ends. ${TAIL}`,
    );
  });

  it("takes the label on the source pod too, naming the pod", () => {
    const labelled = pod(SRC, { labels: { "kubevirt.io/outdatedLauncherImage": "" } });
    const snapshot = noPods({
      vmi: theVmi({ launcherContainerImageVersion: undefined }),
      pods: [labelled],
      currentLauncherImage: "quay.io/kubevirt/virt-launcher:v1.5.0",
    });
    // The pod's image is the current one, yet the label says the launcher is outdated.
    const skew = launcherSkew(snapshot, attemptOf(snapshot));
    expect(skew.verdict).toBe("skew");
    expect(skew.evidence[0]).toEqual({
      object: `Pod/${SRC}`,
      field: "metadata.labels",
      text: "kubevirt.io/outdatedLauncherImage (the launcher differs from virt-controller's --launcher-image)",
    });
  });

  it("does not know without a target pod, a current launcher image or a label", () => {
    const snapshot = noPods({});
    expect(launcherSkew(snapshot, attemptOf(snapshot))).toEqual({
      verdict: "unknown",
      direct: false,
      sourceImage: OLD,
      targetImage: undefined,
      evidence: [
        { object: "VirtualMachineInstance/db-1", field: "status.launcherContainerImageVersion", text: OLD },
      ],
      notChecked: [
        "whether the source and target launcher images differ: no target pod, and neither the current launcher image (virt-controller Deployment) nor the VMI's launcher image is known",
      ],
    });
    expect(versionSkew.detect(snapshot)).toEqual([]);
  });

  it("reads the pods the VMI's migrationState names when asked without an attempt", () => {
    const snapshot = s({
      vmi: theVmi({ migrationState: { sourcePod: SRC, targetPod: TGT } }),
      pods: [target("other"), source()],
    });
    expect(launcherSkew(snapshot)).toEqual({
      verdict: "skew",
      direct: true,
      sourceImage: OLD,
      targetImage: NEW,
      evidence: [srcEvidence, tgtEvidence],
      notChecked: [],
    });
  });
});

describe("version-skew: which attempt it reports", () => {
  const second = (parts: FailedParts) =>
    failed({ name: "kubevirt-migrate-vm-later", uid: "dddddddd-0000-4000-8000-000000000004", ...parts });
  const podsFor = (...uids: string[]) => [source(), ...uids.map((u, i) => launcher(`${TGT}-${i}`, NEW, u))];

  it("reports the newest failure by its end, counting the others", () => {
    const older = failed({
      reason: "qemu-kvm: Failed to load cpu:cpu",
      created: 900,
      running: 880,
      failedAt: 860,
    });
    const newer = second({ reason: SOCKET });
    const f = only(
      s({ migrations: [newer, older], pods: podsFor(UID, "dddddddd-0000-4000-8000-000000000004") }),
    );
    expect(f.summary).toContain("Migration kubevirt-migrate-vm-later of db-1");
    expect(f.confidence).toBe("medium");
    expect(f.summary).toMatch(/ 2 failed attempts since the last success look the same\.$/);
  });

  it("prefers an attempt with a known failure over a newer one without a reason", () => {
    const known = failed({ reason: SOCKET, created: 900, running: 880, failedAt: 860 });
    const unknown = second({});
    const f = only(
      s({ migrations: [known, unknown], pods: podsFor(UID, "dddddddd-0000-4000-8000-000000000004") }),
    );
    expect(f.summary).toContain(`Migration ${NAME} of db-1`);
    expect(f.confidence).toBe("medium");
  });

  it("among attempts without a reason, reports the newest", () => {
    const a = failed({ created: 900, running: 880, failedAt: 860 });
    const b = second({});
    const f = only(s({ migrations: [a, b], pods: podsFor(UID, "dddddddd-0000-4000-8000-000000000004") }));
    expect(f.summary).toContain("Migration kubevirt-migrate-vm-later of db-1 failed going from");
    expect(f.summary).toContain("(no recorded reason): the reason was not recorded.");
    expect(f.confidence).toBe("low");
  });

  it("does not count a failure of another kind before the transfer began", () => {
    const early = failed({ reason: "some other error", running: null });
    expect(versionSkew.detect(s({ migrations: [early], pods: [source(), target()] }))).toEqual([]);
  });
});

describe("version-skew: how it quotes the failure", () => {
  it("quotes the first line only", () => {
    const f = only(
      s({ migrations: [failed({ reason: `${SOCKET}\nsecond line` })], pods: [source(), target()] }),
    );
    expect(f.summary).toContain(`("${SOCKET}"):`);
    expect(f.summary).not.toContain("second line");
  });

  it("cuts a line over 200 characters to 197 and an ellipsis", () => {
    const exactly200 = `${SOCKET} ${"x".repeat(200 - SOCKET.length - 1)}`;
    expect(exactly200).toHaveLength(200);
    const f = only(s({ migrations: [failed({ reason: exactly200 })], pods: [source(), target()] }));
    expect(f.summary).toContain(`("${exactly200}")`);
    const longer = `${exactly200}y`;
    const g = only(s({ migrations: [failed({ reason: longer })], pods: [source(), target()] }));
    expect(g.summary).toContain(`("${longer.slice(0, 197)}...")`);
  });

  it("quotes the text that shows the kind, not the first one", () => {
    const m = failed({ reason: "Migration failed" });
    const logs = logsOf(SRC, [line(SOCKET, "2025-03-01T11:51:00Z")]);
    const f = only(s({ migrations: [m], pods: [source(), target()], logs }));
    expect(f.summary).toContain(`("${SOCKET}"): the libvirt connection`);

    const both = logsOf(SRC, [
      line(SOCKET, "2025-03-01T11:51:00Z"),
      line("qemu-kvm: error while loading state section id 2", "2025-03-01T11:51:01Z"),
    ]);
    const g = only(s({ migrations: [m], pods: [source(), target()], logs: both }));
    expect(g.confidence).toBe("high");
    expect(g.summary).toContain('("qemu-kvm: error while loading state section id 2"): the new launcher');
  });

  it("after the transfer began, another text with both pods is the launchers' guess, quoted first", () => {
    const f = only(
      s({ migrations: [failed({ reason: "odd failure" })], pods: [source(), target()], events: [] }),
    );
    expect(f.confidence).toBe("low");
    expect(f.summary).toBe(
      `Migration ${NAME} of db-1 failed going from ${OLD} to ${NEW} ("odd failure"): it failed after the transfer began, between two launcher builds. ${TAIL}`,
    );
    expect(f.notChecked).toEqual([
      "whether the failure text is the launchers' mismatch: it names neither a lost connection nor the target refusing the source's state",
      NO_EVENTS,
      NO_LOGS,
    ]);
  });

  it("is silent when both pods run the same image", () => {
    const same = launcher(TGT, OLD, UID);
    expect(
      versionSkew.detect(s({ migrations: [failed({ reason: SOCKET })], pods: [source(), same] })),
    ).toEqual([]);
  });
});

describe("version-skew: images read in part", () => {
  it("reads a target pod that has no status from its spec", () => {
    const noStatus = launcher(TGT, NEW, UID);
    delete noStatus.status;
    const f = only(s({ migrations: [failed({ reason: SOCKET })], pods: [source(), noStatus] }));
    expect(f.evidence).toContainEqual(tgtEvidence);
  });

  it("knows nothing without a VMI, pods or virt-controller", () => {
    const snapshot = snap({ migrations: [failed({ reason: SOCKET })] });
    expect(launcherSkew(snapshot).verdict).toBe("unknown");
    expect(versionSkew.detect(snapshot)).toEqual([]);
  });

  it("with a source pod that shows no compute image, quotes the VMI's record of it", () => {
    const bare = pod(SRC, { spec: { containers: [{ name: "sidecar", image: "x:1" }] } });
    const snapshot = s({ migrations: [failed({ reason: SOCKET })], pods: [bare], currentLauncherImage: NEW });
    expect(launcherSkew(snapshot).evidence[0]).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "status.launcherContainerImageVersion",
      text: OLD,
    });
  });

  it("with the label and only the source image known, does not name a target image", () => {
    const snapshot = s({
      vmi: theVmi({}, { "kubevirt.io/outdatedLauncherImage": "" }),
      migrations: [failed({ reason: SOCKET })],
    });
    const f = only(snapshot);
    expect(f.summary).toContain("going from an outdated virt-launcher to the current one");
  });

  it("quotes only the workload updater's SuccessfulCreate, not other events that mention it", () => {
    const other = event({
      reason: "Migrating",
      type: "Normal",
      message: "started for automated workload update",
      lastTimestamp: ago(590),
    });
    const f = only(
      s({ migrations: [failed({ reason: SOCKET })], pods: [source(), target()], events: [other] }),
    );
    expect(f.evidence.map((e) => e.text)).not.toContain("started for automated workload update");
  });
});

describe("version-skew: without a VMI", () => {
  it("asked without an attempt, reads no pod names from a VMI that is not there", () => {
    const snapshot = snap({ pods: [source(), target()] });
    expect(launcherSkew(snapshot)).toMatchObject({
      verdict: "unknown",
      direct: false,
      sourceImage: undefined,
    });
  });
});
