// The source launcher's progress lines as diagnose reads them: the live progress's parser, fed the
// release of the pod that wrote each line, and the rates a rule may compare when that release is
// unknown.

import { describe, expect, it } from "vitest";
import type { LogEntry } from "../../src/diagnose/evidence.js";
import {
  dirtyAtLeastBandwidth,
  type LauncherRates,
  launcherVersionOfPod,
  progressLines,
  ratesNote,
  readProgress,
} from "../../src/diagnose/launcher-progress.js";
import type { KubeVirt } from "../../src/k8s/types.js";
import { ago, pod, snap, vmi } from "../helpers/builders.js";

const uid = "bbbbbbbb-0000-4000-8000-000000000002";
const src = "virt-launcher-db-1-src01";
const digest = "registry.example/kubevirt/virt-launcher@sha256:0a1b2c3d";
const deployed = {
  metadata: { name: "kubevirt", namespace: "kubevirt" },
  spec: {},
  status: { phase: "Deployed", observedKubeVirtVersion: "v1.1.0", targetKubeVirtVersion: "v1.1.0" },
} as KubeVirt;

const launcher = (image: string, name = src) =>
  pod(name, { spec: { containers: [{ name: "compute", image }] } });
const entry = (text: string, name = src): LogEntry => ({
  namespace: "demo",
  pod: name,
  container: "compute",
  text,
  raw: text,
  time: ago(10),
});
const mibLine = (bandwidth: number, dirty: number, forUid = uid) =>
  `Migration info for ${forUid}: TimeElapsed:8004ms DataProcessed:812MiB DataRemaining:3301MiB DataTotal:4113MiB MemoryBandwidth:${bandwidth}Mbps DirtyRate:${dirty}Mbps Iteration:1`;
const bytesLine = `Migration info for ${uid}: TimeElapsed:8004ms DataProcessed:851443712B DataRemaining:3461349376B DataTotal:4312793088B MemoryBandwidth:300000000B/s DirtyRate:80000000B/s Iteration:1`;

describe("launcherVersionOfPod", () => {
  it("reads the tag of the pod's compute image", () => {
    const s = snap({ pods: [launcher("quay.io/kubevirt/virt-launcher:v1.1.1")] });
    expect(launcherVersionOfPod(s, src)).toBe("v1.1.1");
    expect(launcherVersionOfPod(s, "virt-launcher-db-1-other")).toBeUndefined();
  });

  it("a digest: the CR's release only when the image is the VMI's own and not outdated", () => {
    const own = vmi({ phase: "Running", launcherContainerImageVersion: digest });
    expect(launcherVersionOfPod(snap({ pods: [launcher(digest)], vmi: own, kubevirt: deployed }), src)).toBe(
      "v1.1.0",
    );
    // Another image than the VMI's: what the VMI's labels say is not about this pod.
    const other = vmi({ phase: "Running", launcherContainerImageVersion: `${digest}ff` });
    expect(
      launcherVersionOfPod(snap({ pods: [launcher(digest)], vmi: other, kubevirt: deployed }), src),
    ).toBeUndefined();
    expect(launcherVersionOfPod(snap({ pods: [launcher(digest)], kubevirt: deployed }), src)).toBeUndefined();
    const noStatus = { ...own, status: undefined };
    expect(
      launcherVersionOfPod(snap({ pods: [launcher(digest)], vmi: noStatus, kubevirt: deployed }), src),
    ).toBeUndefined();
  });
});

describe("readProgress", () => {
  it("v1.0.1–v1.2.0: the rates in 8 MB/s steps", () => {
    const s = snap({ pods: [launcher("quay.io/kubevirt/virt-launcher:v1.1.1")] });
    expect(readProgress(s, entry(mibLine(37, 10)))).toMatchObject({
      launcherVersion: "v1.1.1",
      progress: { migrationUid: uid, dataRemainingBytes: 3301 * 2 ** 20 },
      rates: { bandwidth: 296_000_000, dirty: 80_000_000, step: 8_000_000, reading: "stepped" },
    });
  });

  it("true Mbps and bytes: exact", () => {
    const s = snap({ pods: [launcher("quay.io/kubevirt/virt-launcher:v1.3.0")] });
    const exact = { bandwidth: 300_000_000, dirty: 80_000_000, step: 0, reading: "exact" };
    expect(readProgress(s, entry(mibLine(2400, 640)))?.rates).toEqual(exact);
    expect(readProgress(s, entry(bytesLine))?.rates).toEqual(exact);
    expect(readProgress(snap(), entry(bytesLine))?.rates).toEqual(exact);
  });

  it("an unknown release: the line's numbers read as true Mbps, one Mbps apart at least", () => {
    expect(readProgress(snap({ pods: [launcher(digest)] }), entry(mibLine(2400, 640)))).toMatchObject({
      launcherVersion: undefined,
      progress: { bandwidthBytesPerSecond: undefined },
      rates: { bandwidth: 300_000_000, dirty: 80_000_000, step: 125_000, reading: "relative" },
    });
  });

  it("other lines are not progress", () => {
    expect(readProgress(snap(), entry("Aborting migration: stuck for 150 seconds"))).toBeUndefined();
  });
});

describe("progressLines", () => {
  it("keeps the lines of the given migration, in order, each read for its own pod's release", () => {
    const other = "virt-launcher-db-1-old01";
    const s = snap({
      pods: [
        launcher("quay.io/kubevirt/virt-launcher:v1.2.0"),
        launcher("quay.io/kubevirt/virt-launcher:v1.9.0", other),
      ],
      logs: [
        {
          namespace: "demo",
          pod: other,
          container: "compute",
          lines: [mibLine(800, 8), mibLine(1, 1, "elsewhere")],
        },
        { namespace: "demo", pod: src, container: "compute", lines: ["starting", mibLine(100, 8)] },
      ],
    });
    expect(progressLines(s, uid).map((l) => [l.entry.pod, l.launcherVersion, l.rates.reading])).toEqual([
      [other, "v1.9.0", "exact"],
      [src, "v1.2.0", "stepped"],
    ]);
    expect(progressLines(s)).toHaveLength(3);
  });
});

describe("dirtyAtLeastBandwidth", () => {
  const rates = (dirty: number, bandwidth: number, step: number): LauncherRates => ({
    dirty,
    bandwidth,
    step,
    reading: "exact",
  });
  it("the dirty rate's least must reach the bandwidth's most; zero is never winning", () => {
    expect(dirtyAtLeastBandwidth(rates(10, 10, 0))).toBe(true);
    expect(dirtyAtLeastBandwidth(rates(9, 10, 0))).toBe(false);
    expect(dirtyAtLeastBandwidth(rates(0, 0, 0))).toBe(false);
    expect(dirtyAtLeastBandwidth(rates(16, 8, 8))).toBe(true);
    expect(dirtyAtLeastBandwidth(rates(15, 8, 8))).toBe(false);
  });
});

describe("ratesNote", () => {
  const note = (image: string, text: string) => {
    const read = readProgress(snap({ pods: [launcher(image)] }), entry(text));
    return read && ratesNote(read);
  };
  it("v1.0.1–v1.2.0: the true rates, as the 8 MB/s ranges that hold them, and why", () => {
    expect(note("quay.io/kubevirt/virt-launcher:v1.0.1", mibLine(37, 10))).toBe(
      "virt-launcher v1.0.1 labels its rates Mbps but writes bytes/s ÷ 8 ÷ 10^6, 64 times less (kubevirt/kubevirt#11377): the last line's dirty rate is 76.3–83.9 MiB/s against a bandwidth of 282–290 MiB/s.",
    );
  });
  it("an unknown release: no number, the rates are unknown", () => {
    expect(note(digest, mibLine(2400, 640))).toBe(
      'The launcher\'s KubeVirt release is unknown, so the rates themselves are too (v1.0.1–v1.2.0 wrote "Mbps" 64 times too small): only the dirty rate against the bandwidth is read.',
    );
  });
  it("bytes and true Mbps read as written: nothing to add", () => {
    expect(note("quay.io/kubevirt/virt-launcher:v1.3.0", mibLine(2400, 640))).toBeUndefined();
    expect(note(digest, bytesLine)).toBeUndefined();
  });
});
