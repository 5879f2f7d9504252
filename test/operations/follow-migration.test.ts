// Following a migration reads the source launcher's progress line with the launcher's KubeVirt
// release: from the image tag on the VMI, else the KubeVirt CR when the launcher is the current
// one; otherwise the rates are unknown and a note says why. Through the strict fake cluster.
import { describe, expect, it } from "vitest";
import { outdatedLauncherImageLabel } from "../../src/k8s/launcher-image.js";
import type {
  KubeVirt,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../../src/k8s/types.js";
import type { MigrationView } from "../../src/migration/state.js";
import { type FollowChange, followMigration } from "../../src/operations/follow-migration.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { fakeKube } from "../helpers/fake-kube.js";

const uid = "3f1c0d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f";
const sourcePod = "virt-launcher-db-0-x7k2p";
const digest = `quay.io/kubevirt/virt-launcher@sha256:${"d".repeat(64)}`;

/** A v1.0.1–v1.2.0 line: 300 000 000 bytes/s logged as 37 "Mbps", 80 000 000 as 10. */
const buggyLine = JSON.stringify({
  component: "virt-launcher",
  level: "info",
  msg:
    `Migration info for ${uid}: TimeElapsed:8004ms DataProcessed:812MiB DataRemaining:3301MiB DataTotal:4113MiB ` +
    "MemoryProcessed:812MiB MemoryRemaining:3284MiB MemoryTotal:4096MiB MemoryBandwidth:37Mbps DirtyRate:10Mbps " +
    "Iteration:1 PostcopyRequests:0 ConstantPages:12000 NormalPages:207000 NormalData:808MiB " +
    "ExpectedDowntime:11470ms DiskMbps:0",
  timestamp: "2026-11-25T12:00:08.000000Z",
});

function migration(phase: string): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: "kubevirt-migrate-vm-abcde",
      namespace: "prod",
      uid,
      creationTimestamp: "2026-11-25T12:00:00Z",
    },
    spec: { vmiName: "db-0" },
    status: {
      phase,
      migrationState: { migrationUid: uid, sourceNode: "node-a", targetNode: "node-b", sourcePod },
      phaseTransitionTimestamps: [{ phase, phaseTransitionTimestamp: "2026-11-25T12:00:01Z" }],
    },
  } as VirtualMachineInstanceMigration;
}

function vmi(image: string, outdated: boolean): VirtualMachineInstance {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: {
      name: "db-0",
      namespace: "prod",
      labels: outdated ? { [outdatedLauncherImageLabel]: "" } : {},
    },
    spec: { domain: { devices: {} } },
    status: { phase: "Running", nodeName: "node-a", launcherContainerImageVersion: image },
  } as VirtualMachineInstance;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * Follows one Running migration whose source launcher logs `buggyLine`, then succeeds; the VMI
 * (and so its launcher image) is delivered before the migration.
 */
async function follow(source: VirtualMachineInstance, kubevirt?: KubeVirt) {
  const vmiSent = deferred();
  const lineRead = deferred();
  const kube = fakeKube({
    watch: ((resource: string, options: { signal: AbortSignal }) =>
      (async function* () {
        if (resource === "vmi") {
          yield { type: "ADDED", object: source };
          vmiSent.resolve();
          yield { type: "SYNCED", resourceVersion: "1" };
        } else if (resource === "vmim") {
          await vmiSent.promise;
          yield { type: "ADDED", object: migration("Running") };
          yield { type: "SYNCED", resourceVersion: "1" };
          await lineRead.promise;
          yield { type: "MODIFIED", object: migration("Succeeded") };
        } else {
          yield { type: "SYNCED", resourceVersion: "1" };
        }
        await aborted(options.signal);
      })()) as never,
    followPodLogs: (_namespace, pod, options) =>
      (async function* () {
        expect(pod).toBe(sourcePod);
        yield buggyLine;
        lineRead.resolve();
        await aborted(options.signal);
      })(),
    ...(kubevirt ? { findKubeVirt: async () => kubevirt } : {}),
  });
  const changes: Array<{ view: MigrationView; change: FollowChange }> = [];
  const end = await followMigration(
    kube,
    {
      namespace: "prod",
      vmName: "db-0",
      migration: migration("Running"),
      signal: new AbortController().signal,
      timeoutMs: 0,
      clock: new FakeClock(),
    },
    { onChange: (view, change) => changes.push({ view, change }) },
  );
  kube.assertDone();
  const notes = changes.flatMap(({ change }) => (change.kind === "note" ? [change.text] : []));
  const progress = changes.find(({ change }) => change.kind === "progress")?.view.progress;
  return { end, notes, progress };
}

describe("followMigration reads the progress line with the source launcher's release", () => {
  it("from the image tag on the VMI: a v1.2.0 launcher's rates, 64 times too small, read as 8 MB/s steps", async () => {
    const { end, notes, progress } = await follow(vmi("quay.io/kubevirt/virt-launcher:v1.2.0", true));
    expect(end.kind).toBe("done");
    expect(progress).toMatchObject({
      bandwidthBytesPerSecond: 37 * 8_000_000,
      dirtyRateBytesPerSecond: 10 * 8_000_000,
      rateStepBytesPerSecond: 8_000_000,
    });
    expect(notes).toEqual([]);
  });

  it("a digest-only launcher that is the current one: the KubeVirt CR's release", async () => {
    const { progress, notes } = await follow(vmi(digest, false), {
      metadata: { name: "kubevirt", namespace: "kubevirt" },
      spec: {},
      status: { phase: "Deployed", observedKubeVirtVersion: "v1.1.1", targetKubeVirtVersion: "v1.1.1" },
    });
    expect(progress?.bandwidthBytesPerSecond).toBe(37 * 8_000_000);
    expect(progress?.rateStepBytesPerSecond).toBe(8_000_000);
    expect(notes).toEqual([]);
  });

  it("a digest-only launcher that is outdated: rate unknown, and a note saying why", async () => {
    const { progress, notes } = await follow(vmi(digest, true), {
      metadata: { name: "kubevirt", namespace: "kubevirt" },
      spec: {},
      status: { phase: "Deployed", observedKubeVirtVersion: "v1.3.0", targetKubeVirtVersion: "v1.3.0" },
    });
    expect(progress?.dataRemainingBytes).toBe(3301 * 1024 * 1024);
    expect(progress?.bandwidthBytesPerSecond).toBeUndefined();
    expect(progress?.dirtyRateBytesPerSecond).toBeUndefined();
    expect(notes).toEqual([
      `bandwidth and dirty rate unknown: the source launcher's KubeVirt release cannot be told from ${digest}, and v1.0.1 to v1.2.0 logged them 64 times too small`,
    ]);
  });

  it("a launcher that logs progress only at verbosity 4 (before v1.1.1): a note says so", async () => {
    const { notes } = await follow(vmi("quay.io/kubevirt/virt-launcher:v1.1.0", false));
    expect(notes).toEqual([
      "virt-launcher v1.1.0 logs its progress only at verbosity 4 (spec.configuration.developerConfiguration.logVerbosity.virtLauncher): live progress may not show",
    ]);
  });
});
