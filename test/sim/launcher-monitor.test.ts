// The simulated source virt-launcher, poll by poll, as each KubeVirt release behaves
// (live-migration-source.go at each tag): which progress line it writes and when, how it tells
// a switch to post-copy or a pause, and how it words the monitor's aborts.
import { describe, expect, it } from "vitest";
import {
  type LauncherLine,
  LauncherMonitor,
  type LauncherPoll,
  launcherImageVersion,
  launcherRelease,
} from "../../src/sim/launcher-monitor.js";
import type { MigrationModelInput } from "../../src/sim/migration-model.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const quiet: MigrationModelInput = {
  memoryBytes: 4 * GiB,
  dirtyRateBytesPerSecond: 50 * MiB,
  bandwidthBytesPerSecond: 128 * MiB,
  maxDowntimeMs: 900,
  completionTimeoutPerGiB: 150,
  progressTimeoutSeconds: 150,
  allowAutoConverge: false,
  allowPostCopy: false,
  seed: 4,
};
/** Dirties faster than the link; 5 units of 10^9 bytes × 10 s: 50 s allowed. */
const busy: MigrationModelInput = {
  ...quiet,
  dirtyRateBytesPerSecond: 1.5 * GiB,
  bandwidthBytesPerSecond: GiB,
  completionTimeoutPerGiB: 10,
};

interface Run {
  polls: LauncherPoll[];
  lines: (LauncherLine & { poll: number })[];
  last: LauncherPoll;
}

function run(input: MigrationModelInput, version: string, verbosity?: number): Run {
  const monitor = new LauncherMonitor(input, {
    migrationUid: "mig-1",
    vmiName: "db",
    release: launcherRelease(version),
    verbosity,
  });
  const polls: LauncherPoll[] = [];
  while (polls.at(-1)?.end === undefined && polls.length < 50_000) polls.push(monitor.poll());
  const lines = polls.flatMap((p, i) => p.lines.map((line) => ({ ...line, poll: i + 1 })));
  return { polls, lines, last: polls.at(-1) as LauncherPoll };
}

const progress = (r: Run) => r.lines.filter((l) => l.msg.startsWith("Migration info for mig-1: "));
const texts = (r: Run) => r.lines.map((l) => l.msg);

describe("launcherRelease", () => {
  it("reads each release's progress form, verbosity, workload disruption and abort wording", () => {
    const row = (v: string) => {
      const r = launcherRelease(v);
      return [r.progressForm, r.progressVerbosity, r.workloadDisruption, r.abortCauseInLogOnly];
    };
    expect(row("v1.0.0")).toEqual(["bytes", 4, false, false]);
    expect(row("v1.0.1")).toEqual(["mib-steps", 4, false, false]);
    expect(row("v1.1.0")).toEqual(["mib-steps", 4, false, false]);
    expect(row("v1.1.1")).toEqual(["mib-steps", 2, false, false]);
    expect(row("v1.2.0")).toEqual(["mib-steps", 2, false, false]);
    expect(row("v1.2.1")).toEqual(["mib", 2, false, false]);
    expect(row("v1.4.3")).toEqual(["mib", 2, false, false]);
    expect(row("v1.5.0")).toEqual(["mib", 2, true, false]);
    expect(row("v1.8.2")).toEqual(["mib", 2, true, false]);
    expect(row("v1.9.0")).toEqual(["mib", 2, true, true]);
    // Not a release number: the simulator's default, v1.9.0.
    expect(row("latest")).toEqual(row("v1.9.0"));
    expect(launcherRelease(undefined).version).toEqual([1, 9, 0]);
  });

  it("takes a release from a launcher image's tag, not from a digest or another tag", () => {
    expect(launcherImageVersion("quay.io/kubevirt/virt-launcher:v1.8.2")).toBe("v1.8.2");
    expect(launcherImageVersion("localhost:5000/kubevirt/virt-launcher:v1.1.1")).toBe("v1.1.1");
    expect(launcherImageVersion("localhost:5000/kubevirt/virt-launcher")).toBeUndefined();
    expect(launcherImageVersion("quay.io/kubevirt/virt-launcher@sha256:0123abcd")).toBeUndefined();
    expect(launcherImageVersion("quay.io/kubevirt/virt-launcher:latest")).toBeUndefined();
    expect(launcherImageVersion(undefined)).toBeUndefined();
  });
});

describe("the progress line", () => {
  it("every 10th poll (4 s) while the job runs: none at an iteration boundary, none for the completed job", () => {
    const r = run(quiet, "v1.9.0");
    expect(r.last.end).toEqual({ failed: false });
    const lines = progress(r);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.map((l) => l.poll)).toEqual(lines.map((_, i) => (i + 1) * 10));
    for (const [i, line] of lines.entries()) {
      expect(line).toMatchObject({ level: "info", pos: "live-migration-source.go:967" });
      expect(line.msg).toContain(` TimeElapsed:${(i + 1) * 4000}ms `);
      expect(line.msg).toMatch(/ ExpectedDowntime:\d+ms DiskMbps:\d+$/);
    }
    // The migration crossed iterations between lines, and no line marks them.
    const iterations = r.polls.map((p) => p.snapshot.iteration);
    expect(new Set(iterations).size).toBeGreaterThan(2);
    expect(texts(r).some((t) => t.includes("Downtime:") && !t.includes("ExpectedDowntime:"))).toBe(false);
    // The last poll logs the success instead.
    expect(r.last.lines.map((l) => l.msg)).toEqual(["Live migration succeeded."]);
  });

  it("v1.1.1–v1.2.0: MiB and rates 64 times too small, at the default verbosity", () => {
    const lines = progress(run(quiet, "v1.1.1"));
    expect(lines.length).toBeGreaterThan(0);
    // 128 MiB/s is 1073 true Mbps; these launchers print bytes/s ÷ 8 ÷ 10^6.
    for (const line of lines) expect(line.msg).toMatch(/ MemoryBandwidth:1[67]Mbps DirtyRate:[0-7]Mbps /);
  });

  it("v1.0.0–v1.1.0 log it at verbosity 4 only: nothing at the default 2", () => {
    expect(progress(run(quiet, "v1.1.0"))).toEqual([]);
    expect(progress(run(quiet, "v1.0.0"))).toEqual([]);
    const verbose = progress(run(quiet, "v1.0.0", 4));
    expect(verbose.length).toBeGreaterThan(0);
    expect(verbose[0]?.msg).toMatch(/ DataProcessed:\d+B .* MemoryBandwidth:\d+B\/s .* DiskBps:\d+$/);
  });
});

describe("the monitor's aborts", () => {
  it("v1.9: 'Aborting migration: not completed after N seconds' in the log, a bare reason, abortStatus Succeeded", () => {
    const r = run(busy, "v1.9.0");
    expect(r.last.end).toEqual({
      failed: true,
      failureReason: "Live migration has been aborted",
      abortStatus: "Succeeded",
    });
    expect(r.last.lines.map((l) => [l.level, l.msg])).toEqual([
      ["warning", "Aborting migration: not completed after 50 seconds"],
      ["info", "Live migration abort succeeded"],
      ["error", "Live migration failed."],
    ]);
  });

  it("v1.0–v1.8: the cause in failureReason, logged as 'Live migration abort detected with reason'", () => {
    const r = run(busy, "v1.8.2");
    const reason = "Live migration is not completed after 50 seconds and has been aborted";
    expect(r.last.end).toEqual({ failed: true, failureReason: reason, abortStatus: "Succeeded" });
    expect(r.last.lines.map((l) => [l.level, l.msg])).toEqual([
      ["error", `Live migration abort detected with reason: ${reason}`],
      ["error", "Live migration failed."],
    ]);
  });

  it("stuck: only when DataRemaining stops decreasing from poll to poll (here, a dead link)", () => {
    const dead = { ...quiet, bandwidthBytesPerSecond: 0 };
    expect(run(dead, "v1.9.0").last.lines.map((l) => l.msg)).toEqual([
      "live migration stuck for 151 seconds",
      "Aborting migration: stuck for 151 seconds",
      "Live migration abort succeeded",
      "Live migration failed.",
    ]);
    const old = run(dead, "v1.3.0").last;
    expect(old.end).toMatchObject({
      failureReason: "Live migration stuck for 151 seconds and has been aborted",
    });
    expect(old.lines[0]?.msg).toBe("Live migration stuck for 151 seconds");
  });
});

describe("post-copy and pause at the completion timeout", () => {
  it("post-copy with allowPostCopy (workload disruption following it): the mode changes at the switch", () => {
    const r = run({ ...busy, allowPostCopy: true }, "v1.9.0");
    const switched = r.polls.findIndex((p) => p.mode !== undefined);
    expect(r.polls[switched]?.mode).toBe("PostCopy");
    expect(r.polls[switched]?.snapshot.elapsedMs).toBe(51_200);
    expect(r.polls[switched]?.lines.map((l) => l.msg)).toContain("Starting post copy mode for migration");
    expect(r.polls[switched]?.end).toBeUndefined();
    expect(r.last.end).toEqual({ failed: false });
    expect(r.polls.filter((p) => p.mode !== undefined)).toHaveLength(1);
  });

  it("a pause with workload disruption and no post-copy; twice the time allowed", () => {
    const r = run({ ...busy, allowWorkloadDisruption: true }, "v1.9.0");
    const paused = r.polls.find((p) => p.mode === "Paused");
    expect(paused?.lines.map((l) => l.msg)).toEqual([
      "Pausing the guest to allow migration to complete",
      "Signaled pause for db",
    ]);
    expect(r.last.end).toEqual({ failed: false });
    const slow = run({ ...busy, bandwidthBytesPerSecond: 4 * MiB, allowWorkloadDisruption: true }, "v1.9.0");
    expect(texts(slow)).toContain("Aborting migration: not completed after 100 seconds");
  });

  it("allowPostCopy without workload disruption: v1.9 aborts, a launcher before v1.5 (no such option) switches", () => {
    const input = { ...busy, allowPostCopy: true, allowWorkloadDisruption: false };
    expect(run(input, "v1.9.0").last.end).toMatchObject({ failed: true });
    const old = run(input, "v1.4.0");
    expect(old.polls.some((p) => p.mode === "PostCopy")).toBe(true);
    expect(old.last.end).toEqual({ failed: false });
    // And no pause before v1.5, whatever allowWorkloadDisruption says.
    const noPause = run({ ...busy, allowWorkloadDisruption: true }, "v1.4.0");
    expect(noPause.polls.some((p) => p.mode === "Paused")).toBe(false);
    expect(noPause.last.end).toMatchObject({
      failureReason: "Live migration is not completed after 50 seconds and has been aborted",
    });
  });
});
