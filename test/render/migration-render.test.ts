// The follow spinner on a terminal: its elapsed time ticks while a phase is quiet, and stops
// ticking when the follow ends.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createIO } from "../../src/io/io.js";
import { type Progress, silentProgress } from "../../src/io/progress.js";
import type {
  MigrationMode,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../../src/k8s/types.js";
import { parseMigrationInfo } from "../../src/migration/progress-line.js";
import { initialView, type MigrationView, reduce } from "../../src/migration/state.js";
import { FollowRenderer, progressText, summaryLines } from "../../src/render/migration-render.js";
import { bufferedStreams } from "../helpers/buffered-io.js";

afterEach(() => {
  vi.useRealTimers();
});

function recordingProgress(): Progress & { updates: string[] } {
  const updates: string[] = [];
  return { ...silentProgress(), updates, update: (text) => updates.push(text) };
}

describe("FollowRenderer on a terminal", () => {
  it("redraws the phase's elapsed time every second between changes, and not after stop()", () => {
    vi.useFakeTimers();
    let now = 1_000_000;
    const io = createIO(bufferedStreams({ tty: true, columns: 100 }).streams, { NO_COLOR: "1" });
    const progress = recordingProgress();
    const renderer = new FollowRenderer(io, progress, { now: () => now, showEvents: false });
    const view = initialView(
      {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstanceMigration",
        metadata: { name: "m", namespace: "demo", uid: "u", creationTimestamp: "2026-11-26T00:00:00Z" },
        spec: { vmiName: "db" },
        status: { phase: "Scheduling" },
      },
      "db",
    );
    renderer.start(view);
    expect(progress.updates.at(-1)).toMatch(/^Scheduling 0ms/);
    for (const seconds of [1, 2, 3]) {
      now += 1000;
      vi.advanceTimersByTime(1000);
      expect(progress.updates.at(-1)).toMatch(new RegExp(`^Scheduling ${seconds}s`));
    }
    renderer.stop();
    const count = progress.updates.length;
    now += 5000;
    vi.advanceTimersByTime(5000);
    expect(progress.updates).toHaveLength(count);
  });

  it("in a pipe nothing ticks", () => {
    vi.useFakeTimers();
    const io = createIO(bufferedStreams({ tty: false }).streams, {});
    const progress = recordingProgress();
    const renderer = new FollowRenderer(io, progress, { now: () => 0, showEvents: false });
    renderer.start(
      initialView(
        {
          apiVersion: "kubevirt.io/v1",
          kind: "VirtualMachineInstanceMigration",
          metadata: { name: "m", namespace: "demo", uid: "u" },
          spec: { vmiName: "db" },
        },
        "db",
      ),
    );
    vi.advanceTimersByTime(5000);
    expect(progress.updates).toEqual([]);
    renderer.stop();
  });
});

describe("progressText: the rates as the launcher's release lets them be read", () => {
  const uid = "3f1c0d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f";
  const line = (bandwidth: number, dirty: number) =>
    `Migration info for ${uid}: TimeElapsed:8004ms DataProcessed:812MiB DataRemaining:3301MiB DataTotal:4113MiB ` +
    `MemoryProcessed:812MiB MemoryRemaining:3284MiB MemoryTotal:4096MiB MemoryBandwidth:${bandwidth}Mbps ` +
    `DirtyRate:${dirty}Mbps Iteration:1 PostcopyRequests:0 ConstantPages:12000 NormalPages:207000 ` +
    "NormalData:808MiB ExpectedDowntime:11470ms DiskMbps:16";
  const viewWith = (text: string, version: string | undefined): MigrationView => ({
    ...initialView(
      {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstanceMigration",
        metadata: { name: "m", namespace: "demo", uid },
        spec: { vmiName: "db" },
        status: { phase: "Running" },
      },
      "db",
    ),
    progress: parseMigrationInfo(text, version),
  });

  it("v1.2.1 and later: the rates", () => {
    expect(progressText(viewWith(line(2400, 640), "v1.3.0"))).toBe(
      "3.2 GiB of 4.0 GiB left · 286 MiB/s · dirty 76.3 MiB/s · iteration 1 · expected downtime 11470ms",
    );
  });

  it("v1.0.1–v1.2.0: the range each rate lies in, not the 64-times-too-small number", () => {
    expect(progressText(viewWith(line(37, 10), "v1.2.0"))).toBe(
      "3.2 GiB of 4.0 GiB left · 282–290 MiB/s · dirty 76.3–83.9 MiB/s · iteration 1 · expected downtime 11470ms",
    );
  });

  it("an unknown release: 'rate unknown', never a number", () => {
    const text = progressText(viewWith(line(37, 10), undefined));
    expect(text).toBe("3.2 GiB of 4.0 GiB left · rate unknown · iteration 1 · expected downtime 11470ms");
    expect(text).not.toMatch(/\/s/);
  });
});

describe("summaryLines: what the launcher and the status say about the end", () => {
  const uid = "9a8b7c6d-0000-4000-8000-000000000001";
  const migration = (phase: "Running" | "Succeeded" | "Failed"): VirtualMachineInstanceMigration => ({
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: { name: "m", namespace: "demo", uid, creationTimestamp: "2026-11-26T00:00:00Z" },
    spec: { vmiName: "db" },
    status: {
      phase,
      phaseTransitionTimestamps: [{ phase, phaseTransitionTimestamp: "2026-11-26T00:25:00Z" }],
    },
  });
  /** A v1.9 launcher's line, `Downtime:` included as a completed job's would have it. */
  const line = (remainingMiB: number, iteration: number, downtime = "ExpectedDowntime:300ms") =>
    `Migration info for ${uid}: TimeElapsed:4000ms DataProcessed:100MiB DataRemaining:${remainingMiB}MiB DataTotal:4096MiB ` +
    `MemoryProcessed:100MiB MemoryRemaining:${remainingMiB}MiB MemoryTotal:4096MiB MemoryBandwidth:2000Mbps DirtyRate:100Mbps ` +
    `Iteration:${iteration} PostcopyRequests:0 ConstantPages:0 NormalPages:0 NormalData:100MiB ${downtime} DiskMbps:0`;

  function view(
    phase: "Succeeded" | "Failed",
    mode: MigrationMode | undefined,
    lines: string[],
  ): MigrationView {
    let v = reduce(
      initialView(migration("Running"), "db"),
      { kind: "migration", type: "MODIFIED", object: migration("Running") },
      "2026-11-26T00:00:01Z",
    );
    v = reduce(
      v,
      {
        kind: "vmi",
        type: "MODIFIED",
        object: {
          apiVersion: "kubevirt.io/v1",
          kind: "VirtualMachineInstance",
          metadata: { name: "db", namespace: "demo" },
          status: {
            nodeName: "node-1",
            migrationState: {
              migrationUid: uid,
              sourceNode: "node-1",
              targetNode: "node-2",
              ...(mode ? { mode } : {}),
            },
          },
        } as VirtualMachineInstance,
      },
      "2026-11-26T00:00:02Z",
    );
    for (const text of lines) {
      const progress = parseMigrationInfo(text, "v1.9.0");
      if (progress) v = reduce(v, { kind: "progress", progress }, "2026-11-26T00:00:03Z");
    }
    return reduce(
      v,
      { kind: "migration", type: "MODIFIED", object: migration(phase) },
      "2026-11-26T00:25:00Z",
    );
  }
  const io = () => createIO(bufferedStreams({ tty: false, columns: 100 }).streams, { NO_COLOR: "1" });
  const tail = (v: MigrationView) => summaryLines(v, io(), "2026-11-26T00:25:00Z").slice(-2);

  it("no downtime row, even from a completed job's line: the launcher logs none, and no status says it", () => {
    const lines = summaryLines(
      view("Succeeded", "PreCopy", [line(2048, 1), line(12, 3, "Downtime:87ms DowntimeNet:80ms")]),
      io(),
      "2026-11-26T00:25:00Z",
    );
    expect(lines.some((l) => l.startsWith("  downtime"))).toBe(false);
    expect(lines.some((l) => l.startsWith("  mode"))).toBe(false);
    // The last line was seconds before the end; the migration succeeded, so it all went over.
    expect(lines.at(-1)).toMatch(/^ {2}remaining {2}\S+ {2}4\.0 GiB → 0 B over at least 3 iterations$/);
  });

  it("post-copy and a paused guest, from the VMI's migration mode", () => {
    expect(tail(view("Succeeded", "PostCopy", [line(3000, 9)]))[0]).toBe(
      "  mode       post-copy: the guest ran on node-2 while the rest of its memory was copied (the completion timeout had passed)",
    );
    expect(tail(view("Succeeded", "Paused", [line(3000, 9)]))[0]).toBe(
      "  mode       paused: the guest was paused to let the copy finish (the completion timeout had passed)",
    );
  });

  it("a failed migration's curve ends where the launcher's last line left it", () => {
    const lines = summaryLines(
      view("Failed", "PreCopy", [line(2048, 11), line(1024, 12)]),
      io(),
      "2026-11-26T00:25:00Z",
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}remaining {2}\S+ {2}4\.0 GiB → 1\.0 GiB over 12 iterations$/),
    );
  });
});
