// version-skew's reasoning on hand-built snapshots: which failed attempts count (since the last
// success; their failure texts and log lines in their time), how each is classed (the target
// refusing the state, the connection lost, another text, none), whether the launcher images
// differ (read from the pods, the VMI's record, or inferred from virt-controller's image and the
// outdated label), and the confidence, summary, evidence and commands that follow.

import { describe, expect, it } from "vitest";
import { lastSuccessAt } from "../../../src/diagnose/failure-signals.js";
import { failedAttempts, launcherSkew, versionSkew } from "../../../src/diagnose/modes/version-skew.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type {
  Pod,
  VirtualMachineInstance,
  VirtualMachineInstanceMigrationState,
} from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const oldImage = "quay.io/kubevirt/virt-launcher:v1.5.0";
const newImage = "quay.io/kubevirt/virt-launcher:v1.6.0";
const src = "virt-launcher-db-1-src01";
const tgt = "virt-launcher-db-1-tgt01";
const loadFailed =
  "qemu-kvm: Failed to load virtio-net:virtio\nqemu-kvm: error while loading state for instance 0x0 of device";
const closed = "client socket is closed";

function failed(
  n: number,
  reason: string | undefined,
  state: VirtualMachineInstanceMigrationState = {},
  running = true,
) {
  return migration({
    name: `mig-${n}`,
    uid: `uid-${n}`,
    phase: "Failed",
    created: ago(3000 - n * 200),
    transitions: {
      Scheduling: ago(2990 - n * 200),
      ...(running ? { Running: ago(2950 - n * 200) } : {}),
      Failed: ago(2900 - n * 200),
    },
    state: { sourcePod: src, ...(reason ? { failureReason: reason } : {}), ...state },
  });
}

function launcher(name: string, image: string, uid?: string, fromStatus = false): Pod {
  const p = pod(name, {
    labels: uid ? { "kubevirt.io/migrationJobUID": uid } : {},
    spec: { containers: [{ name: "compute", image }] },
    status: { phase: "Running", ...(fromStatus ? { containerStatuses: [{ name: "compute", image }] } : {}) },
  });
  p.metadata.creationTimestamp = uid ? ago(2700) : ago(9000);
  return p;
}

const running = (
  extra: Partial<NonNullable<VirtualMachineInstance["status"]>> = {},
  labels?: Record<string, string>,
) => {
  const v = vmi({ phase: "Running", ...extra });
  if (labels) v.metadata.labels = labels;
  return v;
};

const someLog = [{ namespace: "demo", pod: src, container: "compute", lines: ["{}"] }];
const someEvent = event({
  kind: "Pod",
  name: src,
  reason: "Started",
  type: "Normal",
  message: "x",
  lastTimestamp: ago(9000),
});

function detectOne(s: Snapshot): Finding {
  const findings = versionSkew.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const tail =
  "The VM still runs a launcher older than the cluster's; live migration cannot move it to the new build, and retries fail the same way.";

describe("version-skew reasoning", () => {
  it("the target refusing the state, both pods read with different images: high; the whole finding", () => {
    const s = snap({
      vmi: running(),
      migrations: [failed(1, loadFailed)],
      pods: [launcher(src, oldImage, undefined, true), launcher(tgt, newImage, "uid-1")],
      logs: someLog,
      events: [someEvent],
    });
    expect(detectOne(s)).toEqual({
      id: "version-skew",
      title: "Migration failed between different virt-launcher versions",
      severity: "error",
      confidence: "high",
      summary: `Migration mig-1 of db-1 failed going from ${oldImage} to ${newImage} ("qemu-kvm: Failed to load virtio-net:virtio"): the new launcher's QEMU/libvirt on the target could not take over the old one's state. ${tail}`,
      evidence: [
        {
          object: "VirtualMachineInstanceMigration/mig-1",
          field: "status.migrationState.failureReason",
          time: ago(2700),
          text: loadFailed,
        },
        {
          object: `Pod/${src}`,
          field: "status.containerStatuses[compute].image",
          time: ago(9000),
          text: `${oldImage} (source)`,
        },
        {
          object: `Pod/${tgt}`,
          field: "spec.containers[compute].image",
          time: ago(2700),
          text: `${newImage} (target)`,
        },
      ],
      fix: {
        explanation:
          "Restart the VM so it starts on the current virt-launcher: this stops and starts the guest (downtime), after which it migrates normally. Other VMs still on the old launcher will fail the same way; list them first.",
        commands: ["kvmig restart db-1 -n demo", "kvmig outdated -n demo"],
      },
      docs: "https://kubevirt.io/user-guide/cluster_admin/updating_and_deletion/",
      notChecked: undefined,
    });
  });

  it("the same images on both ends are not skew", () => {
    const s = snap({
      migrations: [failed(1, loadFailed)],
      pods: [launcher(src, oldImage), launcher(tgt, oldImage, "uid-1")],
    });
    expect(versionSkew.detect(s)).toEqual([]);
    expect(launcherSkew(s, failedAttempts(s)[0])).toMatchObject({
      verdict: "same",
      direct: true,
      sourceImage: oldImage,
      targetImage: oldImage,
    });
  });

  it("the connection lost between skewed launchers: medium, and its words", () => {
    const s = snap({
      migrations: [failed(1, closed)],
      pods: [launcher(src, oldImage), launcher(tgt, newImage, "uid-1")],
      logs: someLog,
      events: [someEvent],
    });
    const f = detectOne(s);
    expect(f.confidence).toBe("medium");
    expect(f.summary).toBe(
      `Migration mig-1 of db-1 failed going from ${oldImage} to ${newImage} ("${closed}"): the libvirt connection to the target dropped, which is how a migration between mismatched launcher builds commonly ends. ${tail}`,
    );
  });

  it("the target inferred from virt-controller's image, the source from the VMI's record: medium, said", () => {
    const s = snap({
      vmi: running({ launcherContainerImageVersion: oldImage }),
      migrations: [failed(1, loadFailed, { sourcePod: "gone" })],
      currentLauncherImage: newImage,
      virtController: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "virt-controller", namespace: "kubevirt" },
      },
      logs: someLog,
      events: [someEvent],
    });
    const f = detectOne(s);
    expect(f.confidence).toBe("medium");
    expect(f.evidence.slice(1)).toEqual([
      {
        object: "VirtualMachineInstance/db-1",
        field: "status.launcherContainerImageVersion",
        text: oldImage,
      },
      {
        object: "Deployment/virt-controller",
        field: "--launcher-image",
        text: `${newImage} (what new target pods get)`,
      },
    ]);
    expect(f.notChecked).toEqual([
      "the target pod's own image (the pod is gone; inferred from virt-controller's --launcher-image)",
    ]);
  });

  it("the outdated-launcher label alone says skew; images unknown are named generally", () => {
    const s = snap({
      vmi: running({}, { "kubevirt.io/outdatedLauncherImage": "" }),
      migrations: [failed(1, loadFailed, { sourcePod: "gone" })],
    });
    const f = detectOne(s);
    expect(f.summary).toContain("failed going from an outdated virt-launcher to the current one (");
    expect(f.evidence.at(-1)).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "metadata.labels",
      text: "kubevirt.io/outdatedLauncherImage (the launcher differs from virt-controller's --launcher-image)",
    });
    expect(f.notChecked).toEqual([
      "the target pod's own image (the pod is gone; inferred from virt-controller's --launcher-image)",
      "events (none gathered: expired, or not readable)",
      "virt-launcher logs (the target QEMU's own error lines)",
    ]);
    // On the source pod instead of the VMI.
    const podLabelled = launcher(src, oldImage);
    podLabelled.metadata.labels = { "kubevirt.io/outdatedLauncherImage": "" };
    const g = detectOne(snap({ vmi: running(), migrations: [failed(1, loadFailed)], pods: [podLabelled] }));
    expect(g.evidence.find((e) => e.field === "metadata.labels")?.object).toBe(`Pod/${src}`);
    // Without any image or label: unknown, not skew.
    expect(
      versionSkew.detect(
        snap({ vmi: running(), migrations: [failed(1, loadFailed, { sourcePod: "gone" })] }),
      ),
    ).toEqual([]);
    expect(launcherSkew(snap({ vmi: running() })).verdict).toBe("unknown");
  });

  it("another text: only with both pods' images read, and only after the transfer began; low", () => {
    const pods = [launcher(src, oldImage), launcher(tgt, newImage, "uid-1")];
    const f = detectOne(
      snap({ migrations: [failed(1, "something else broke")], pods, logs: someLog, events: [someEvent] }),
    );
    expect(f.confidence).toBe("low");
    expect(f.summary).toContain(
      `("something else broke"): it failed after the transfer began, between two launcher builds.`,
    );
    expect(f.notChecked).toEqual([
      "whether the failure text is the launchers' mismatch: it names neither a lost connection nor the target refusing the source's state",
    ]);
    expect(
      versionSkew.detect(snap({ migrations: [failed(1, "something else broke", {}, false)], pods })),
    ).toEqual([]);
    // Inferred images are not enough for another text.
    expect(
      versionSkew.detect(
        snap({
          vmi: running({ launcherContainerImageVersion: oldImage }),
          migrations: [failed(1, "x", { sourcePod: "gone" })],
          currentLauncherImage: newImage,
        }),
      ),
    ).toEqual([]);
  });

  it("no reason at all: low, says so; only once the transfer began", () => {
    const pods = [launcher(src, oldImage), launcher(tgt, newImage, "uid-1")];
    const f = detectOne(
      snap({ migrations: [failed(1, undefined)], pods, logs: someLog, events: [someEvent] }),
    );
    expect(f.confidence).toBe("low");
    expect(f.summary).toContain("(no recorded reason): the reason was not recorded.");
    expect(f.notChecked?.[0]).toBe(
      "why the migration failed: no failureReason, no failure events and no launcher error lines were found",
    );
    expect(versionSkew.detect(snap({ migrations: [failed(1, undefined, {}, false)], pods }))).toEqual([]);
    // The VMI's record of the start counts as the transfer beginning.
    const started = snap({
      vmi: running({ migrationState: { migrationUid: "uid-1", startTimestamp: ago(2700) } }),
      migrations: [failed(1, undefined, {}, false)],
      pods,
    });
    expect(versionSkew.detect(started)).toHaveLength(1);
  });

  it("prefers the newest attempt with a known failure, and counts the ones that look the same", () => {
    const pods = [
      launcher(src, oldImage),
      launcher(tgt, newImage, "uid-1"),
      launcher("virt-launcher-db-1-t2", newImage, "uid-2"),
      launcher("virt-launcher-db-1-t3", newImage, "uid-3"),
    ];
    const s = snap({ migrations: [failed(1, closed), failed(2, loadFailed), failed(3, undefined)], pods });
    const f = detectOne(s);
    expect(f.summary).toMatch(/^Migration mig-2 of db-1 failed/);
    expect(f.summary.endsWith(" 3 failed attempts since the last success look the same.")).toBe(true);
  });

  it("counts only failures since the last successful migration", () => {
    const ok = migration({
      name: "mig-ok",
      uid: "uid-ok",
      phase: "Succeeded",
      created: ago(2700),
      transitions: { Succeeded: ago(2600) },
    });
    const s = snap({
      migrations: [failed(1, loadFailed), ok],
      pods: [launcher(src, oldImage), launcher(tgt, newImage, "uid-1")],
    });
    expect(lastSuccessAt(s)).toBe(Date.parse(ago(2600)));
    expect(failedAttempts(s)).toEqual([]);
    expect(versionSkew.detect(s)).toEqual([]);
    expect(lastSuccessAt(snap())).toBe(Number.NEGATIVE_INFINITY);
  });

  it("reads the launcher's error lines of the attempt's time, and classes by them", () => {
    const line = (msg: string, at: string) => JSON.stringify({ level: "error", msg, timestamp: at });
    const logs = [
      {
        namespace: "demo",
        pod: tgt,
        container: "compute",
        lines: [
          line("error while loading state for instance", ago(2750)),
          line("Failed to load x:y", ago(100)),
          line("unrelated", ago(2750)),
        ],
      },
    ];
    const s = snap({
      migrations: [failed(1, undefined)],
      pods: [launcher(src, oldImage), launcher(tgt, newImage, "uid-1")],
      logs,
    });
    const [attempt] = failedAttempts(s);
    expect(attempt?.kind).toBe("incoming-failed");
    expect(attempt?.logs.map((l) => l.text)).toEqual(["error while loading state for instance"]);
    const f = detectOne(s);
    expect(f.evidence[0]).toEqual({
      object: `Pod/${tgt}`,
      field: "log compute",
      time: ago(2750),
      text: "error while loading state for instance",
    });
  });

  it("a VMIM that is gone: the VMI's record and the Warning events naming its uid", () => {
    const state = {
      migrationUid: "gone-uid",
      failed: true,
      failureReason: loadFailed,
      endTimestamp: ago(100),
      sourcePod: src,
      targetPod: tgt,
      startTimestamp: ago(200),
    };
    const warn = event({
      reason: "Migrated",
      message: "VirtualMachineInstance migration uid gone-uid failed. reason: boom",
      lastTimestamp: ago(99),
    });
    const s = snap({
      vmi: running({ migrationState: state }),
      pods: [launcher(src, oldImage), launcher(tgt, newImage, "gone-uid")],
      events: [warn],
    });
    const f = detectOne(s);
    expect(f.summary).toMatch(/^Migration \(VMIM gone\) of db-1 failed going from/);
    expect(f.evidence.slice(0, 2)).toEqual([
      {
        object: "VirtualMachineInstance/db-1",
        field: "status.migrationState.failureReason",
        time: ago(100),
        text: loadFailed,
      },
      {
        object: "VirtualMachineInstance/db-1",
        field: "event Migrated",
        time: ago(99),
        text: "VirtualMachineInstance migration uid gone-uid failed. reason: boom",
      },
    ]);
  });

  it("shows the workload updater's creation of the migration", () => {
    const created = event({
      reason: "SuccessfulCreate",
      type: "Normal",
      message: "created migration for automated workload update",
      lastTimestamp: ago(2790),
    });
    const other = event({
      reason: "SuccessfulCreate",
      type: "Normal",
      message: "created something",
      lastTimestamp: ago(2790),
    });
    const s = snap({
      migrations: [failed(1, loadFailed)],
      pods: [launcher(src, oldImage), launcher(tgt, newImage, "uid-1")],
      events: [created, other],
    });
    expect(detectOne(s).evidence.at(-1)).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "event SuccessfulCreate",
      time: ago(2790),
      text: "created migration for automated workload update",
    });
  });

  it("quotes only the first line of a long text, cut at 200 characters", () => {
    const long = `Failed to load ${"x".repeat(300)}`;
    const f = detectOne(
      snap({
        migrations: [failed(1, long)],
        pods: [launcher(src, oldImage), launcher(tgt, newImage, "uid-1")],
      }),
    );
    expect(f.summary).toContain(`("Failed to load ${"x".repeat(182)}...")`);
  });
});
