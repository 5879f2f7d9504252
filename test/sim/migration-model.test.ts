// The simulated launcher's migration transfer model: the outcomes KubeVirt's monitor reaches for
// converging, non-converging, throttled and post-copy migrations, the consistency of the job stats
// it would log, and the exact text of the progress line.
import { describe, expect, it } from "vitest";
import {
  completionTimeoutSeconds,
  MigrationModel,
  type MigrationModelInput,
  type MigrationSnapshot,
  MONITOR_POLL_MS,
  migrationAbortLogMessage,
  migrationInfoMessage,
  PAGE_SIZE,
} from "../../src/sim/migration-model.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const defaults: MigrationModelInput = {
  memoryBytes: 4 * GiB,
  dirtyRateBytesPerSecond: 50 * MiB,
  bandwidthBytesPerSecond: GiB,
  maxDowntimeMs: 900,
  completionTimeoutPerGiB: 150,
  progressTimeoutSeconds: 150,
  allowAutoConverge: false,
  allowPostCopy: false,
};

/** A guest that dirties memory half again as fast as the link can send it. */
const hot: MigrationModelInput = { ...defaults, dirtyRateBytesPerSecond: 1.5 * GiB };

interface Run {
  model: MigrationModel;
  snapshots: MigrationSnapshot[];
  iterationChanges: number;
}

/** Polls like the launcher (every 400 ms) until the model reports an outcome. */
function run(input: MigrationModelInput, maxPolls = 10_000): Run {
  const model = new MigrationModel(input);
  const snapshots: MigrationSnapshot[] = [];
  let iterationChanges = 0;
  while (model.outcome === undefined && snapshots.length < maxPolls) {
    snapshots.push(model.advance(MONITOR_POLL_MS));
    if (model.iterationChanged) iterationChanges++;
  }
  return { model, snapshots, iterationChanges };
}

function last<T>(items: T[]): T {
  const item = items[items.length - 1];
  if (item === undefined) throw new Error("empty list");
  return item;
}

/**
 * KubeVirt's progress rule replayed over the polls: DataRemaining below its value at the previous
 * poll is progress; the whole seconds since the last progress at each poll.
 */
function secondsWithoutDecreasePerPoll(snapshots: MigrationSnapshot[]): number[] {
  let previous = 0;
  let progressAt = 0;
  return snapshots.map((s) => {
    if (previous === 0 || s.dataRemaining < previous) progressAt = s.elapsedMs;
    previous = s.dataRemaining;
    return Math.floor((s.elapsedMs - progressAt) / 1000);
  });
}

/**
 * The rule the simulator once used instead (a lowest-so-far watermark): the whole seconds since
 * the last new low of DataRemaining at each poll.
 */
function stalledSecondsPerPoll(snapshots: MigrationSnapshot[]): number[] {
  let low = Number.POSITIVE_INFINITY;
  let lowAt = 0;
  return snapshots.map((s) => {
    if (s.dataRemaining < low) {
      low = s.dataRemaining;
      lowAt = s.elapsedMs;
    }
    return Math.floor((s.elapsedMs - lowAt) / 1000);
  });
}

describe("completionTimeoutSeconds", () => {
  it("counts started units of 10^9 bytes, not GiB, including block-migrated disks", () => {
    expect(completionTimeoutSeconds({ memoryBytes: 4 * GiB, completionTimeoutPerGiB: 150 })).toBe(750);
    expect(completionTimeoutSeconds({ memoryBytes: 1e9, completionTimeoutPerGiB: 150 })).toBe(150);
    expect(completionTimeoutSeconds({ memoryBytes: 1e9 + 1, completionTimeoutPerGiB: 150 })).toBe(300);
    // 4 GiB + 2 GiB = 6.44e9 bytes -> 7 units.
    expect(
      completionTimeoutSeconds({ memoryBytes: 4 * GiB, blockBytes: 2 * GiB, completionTimeoutPerGiB: 150 }),
    ).toBe(1050);
    expect(completionTimeoutSeconds({ memoryBytes: 4 * GiB, completionTimeoutPerGiB: 0 })).toBe(0);
  });
});

describe("migrationInfoMessage", () => {
  const snapshot: MigrationSnapshot = {
    elapsedMs: 4000,
    dataProcessed: 3000 * MiB,
    dataRemaining: 1096 * MiB,
    dataTotal: 4096 * MiB,
    memoryProcessed: 3000 * MiB,
    memoryRemaining: 1096 * MiB,
    memoryTotal: 4096 * MiB,
    diskProcessed: 0,
    diskRemaining: 0,
    diskTotal: 0,
    memoryBandwidthBps: 750 * MiB,
    dirtyRateBps: 50 * MiB,
    diskBps: 0,
    iteration: 2,
    postcopyRequests: 0,
    constantPages: 1000,
    normalPages: 768000,
    normalData: 3000 * MiB,
    expectedDowntimeMs: 1394,
    throttlePercent: 0,
    mode: "PreCopy",
  };

  it("prints the launcher's line with MiB and Mbps truncated", () => {
    expect(migrationInfoMessage("1234", snapshot)).toBe(
      "Migration info for 1234: TimeElapsed:4000ms DataProcessed:3000MiB DataRemaining:1096MiB DataTotal:4096MiB " +
        "MemoryProcessed:3000MiB MemoryRemaining:1096MiB MemoryTotal:4096MiB MemoryBandwidth:6291Mbps " +
        "DirtyRate:419Mbps Iteration:2 PostcopyRequests:0 ConstantPages:1000 NormalPages:768000 " +
        "NormalData:3000MiB ExpectedDowntime:1394ms DiskMbps:0",
    );
    // One byte short of a MiB, and 999 992 bits per second, both truncate down.
    const ragged = { ...snapshot, dataRemaining: 2 * MiB - 1, diskBps: 124_999 };
    expect(migrationInfoMessage("u", ragged)).toContain("DataRemaining:1MiB ");
    expect(migrationInfoMessage("u", ragged)).toMatch(/ DiskMbps:0$/);
    expect(migrationInfoMessage("u", { ...snapshot, diskBps: 125_000 })).toMatch(/ DiskMbps:1$/);
  });

  it("shows the actual downtimes instead of the expected one for a completed job", () => {
    const done = { ...snapshot, dataRemaining: 0, memoryRemaining: 0 };
    expect(migrationInfoMessage("1234", done, { downtimeMs: 120, downtimeNetMs: 118 })).toMatch(
      / NormalData:3000MiB Downtime:120ms DowntimeNet:118ms DiskMbps:0$/,
    );
    expect(migrationInfoMessage("1234", done, { downtimeMs: 87 })).toContain(
      " Downtime:87ms DowntimeNet:87ms ",
    );
    expect(migrationInfoMessage("1234", done, { downtimeMs: 87 })).not.toContain("ExpectedDowntime");
  });
});

describe("migrationInfoMessage in older releases' forms", () => {
  const snapshot: MigrationSnapshot = {
    elapsedMs: 4000,
    dataProcessed: 3000 * MiB,
    dataRemaining: 1096 * MiB,
    dataTotal: 4096 * MiB,
    memoryProcessed: 3000 * MiB,
    memoryRemaining: 1096 * MiB,
    memoryTotal: 4096 * MiB,
    diskProcessed: 0,
    diskRemaining: 0,
    diskTotal: 0,
    memoryBandwidthBps: 64 * MiB,
    dirtyRateBps: 200 * MiB,
    diskBps: 0,
    iteration: 2,
    postcopyRequests: 0,
    constantPages: 1000,
    normalPages: 768000,
    normalData: 3000 * MiB,
    expectedDowntimeMs: 1394,
    throttlePercent: 0,
    mode: "PreCopy",
  };

  it("v1.0.1–v1.2.0: MiB, and 'Mbps' that are bytes/s ÷ 8 ÷ 10^6 (64 MiB/s prints 8, not 536)", () => {
    expect(migrationInfoMessage("u", snapshot, undefined, "mib-steps")).toBe(
      "Migration info for u: TimeElapsed:4000ms DataProcessed:3000MiB DataRemaining:1096MiB DataTotal:4096MiB " +
        "MemoryProcessed:3000MiB MemoryRemaining:1096MiB MemoryTotal:4096MiB MemoryBandwidth:8Mbps " +
        "DirtyRate:26Mbps Iteration:2 PostcopyRequests:0 ConstantPages:1000 NormalPages:768000 " +
        "NormalData:3000MiB ExpectedDowntime:1394ms DiskMbps:0",
    );
    expect(migrationInfoMessage("u", snapshot)).toContain(" MemoryBandwidth:536Mbps DirtyRate:1677Mbps ");
  });

  it("v1.0.0: bytes and B/s, and DiskBps", () => {
    expect(migrationInfoMessage("u", snapshot, undefined, "bytes")).toBe(
      `Migration info for u: TimeElapsed:4000ms DataProcessed:${3000 * MiB}B DataRemaining:${1096 * MiB}B DataTotal:${4096 * MiB}B ` +
        `MemoryProcessed:${3000 * MiB}B MemoryRemaining:${1096 * MiB}B MemoryTotal:${4096 * MiB}B MemoryBandwidth:${64 * MiB}B/s ` +
        `DirtyRate:${200 * MiB}B/s Iteration:2 PostcopyRequests:0 ConstantPages:1000 NormalPages:768000 ` +
        `NormalData:${3000 * MiB}B ExpectedDowntime:1394ms DiskBps:0`,
    );
  });
});

describe("a converging migration", () => {
  it("completes in pre-copy within a few seconds, a few iterations, inside the downtime budget", () => {
    const { model, snapshots, iterationChanges } = run(defaults);
    const outcome = model.outcome;
    expect(outcome?.kind).toBe("completed");
    if (outcome?.kind !== "completed") return;
    expect(outcome.mode).toBe("PreCopy");
    expect(outcome.downtimeMs).toBeGreaterThan(0);
    expect(outcome.downtimeMs).toBeLessThanOrEqual(defaults.maxDowntimeMs);

    const final = last(snapshots);
    // 4 GiB at 1 GiB/s with a tenth of it zero pages: a little under 4 s.
    expect(final.elapsedMs).toBeGreaterThan(3000);
    expect(final.elapsedMs).toBeLessThan(6000);
    expect(final.elapsedMs).toBeLessThanOrEqual(snapshots.length * MONITOR_POLL_MS);
    expect(final.iteration).toBeGreaterThanOrEqual(3);
    expect(final.iteration).toBeLessThan(10);
    expect(iterationChanges).toBeGreaterThanOrEqual(1);
    expect(final.dataRemaining).toBe(0);
    expect(final.expectedDowntimeMs).toBe(outcome.downtimeMs);

    // DataRemaining only ever goes down.
    for (let i = 1; i < snapshots.length; i++) {
      expect(snapshots[i]?.dataRemaining).toBeLessThan(snapshots[i - 1]?.dataRemaining ?? 0);
    }
  });

  it("keeps the job stats consistent poll after poll", () => {
    const { snapshots } = run({ ...defaults, seed: 11 });
    const totalPages = defaults.memoryBytes / PAGE_SIZE;
    for (const s of snapshots) {
      expect(s.dataTotal).toBe(4 * GiB);
      expect(s.memoryTotal).toBe(4 * GiB);
      expect(s.dataProcessed).toBe(s.memoryProcessed);
      expect(s.dataRemaining).toBe(s.memoryRemaining);
      expect(s.memoryProcessed).toBe(s.normalData);
      expect(s.normalData).toBe(s.normalPages * PAGE_SIZE);
      expect(s.memoryRemaining % PAGE_SIZE).toBe(0);
      expect(s.diskBps).toBe(0);
      expect(s.mode).toBe("PreCopy");
      if (s.iteration === 1) {
        // Iteration 1 walks memory once: every page is either still to go, sent, or a zero page.
        expect(s.memoryRemaining + s.normalData + s.constantPages * PAGE_SIZE).toBe(s.memoryTotal);
      } else {
        // Later iterations resend dirtied pages, so more than the total has gone over the wire.
        expect(s.memoryProcessed + s.memoryRemaining + s.constantPages * PAGE_SIZE).toBeGreaterThanOrEqual(
          s.memoryTotal,
        );
      }
    }
    const final = last(snapshots);
    // Zero pages are a plausible share of guest memory.
    expect(final.constantPages).toBeGreaterThanOrEqual(0.05 * totalPages);
    expect(final.constantPages).toBeLessThanOrEqual(0.2 * totalPages);
    // With a seed the rates wobble a little (±5%) around the configured ones.
    const bandwidths = new Set(snapshots.map((s) => s.memoryBandwidthBps));
    expect(bandwidths.size).toBeGreaterThan(1);
    for (const s of snapshots.filter((x) => x.dirtyRateBps > 0)) {
      expect(s.memoryBandwidthBps).toBeGreaterThanOrEqual(0.95 * GiB - 1);
      expect(s.memoryBandwidthBps).toBeLessThanOrEqual(1.05 * GiB + 1);
      expect(s.dirtyRateBps).toBeGreaterThanOrEqual(0.95 * 50 * MiB - 1);
      expect(s.dirtyRateBps).toBeLessThanOrEqual(1.05 * 50 * MiB + 1);
    }
  });

  it("stays in pre-copy when post-copy is allowed but not needed", () => {
    const { model } = run({ ...defaults, allowPostCopy: true, seed: 5 });
    expect(model.outcome).toMatchObject({ kind: "completed", mode: "PreCopy" });
  });

  it("copies block-migrated disks first, counting them in the data totals", () => {
    const input = { ...defaults, bandwidthBytesPerSecond: 500 * MiB, blockBytes: 2 * GiB };
    const { model, snapshots } = run(input);
    expect(model.outcome?.kind).toBe("completed");
    const first = snapshots[0];
    expect(first?.iteration).toBe(0);
    expect(first?.diskBps).toBe(500 * MiB);
    expect(first?.memoryRemaining).toBe(4 * GiB);
    expect(first?.memoryProcessed).toBe(0);
    expect(first?.dataTotal).toBe(6 * GiB);
    expect(first?.dataProcessed).toBe(first?.diskProcessed);
    const memoryStarted = snapshots.findIndex((s) => s.iteration >= 1);
    expect(memoryStarted).toBeGreaterThan(0);
    // 2 GiB at 500 MiB/s: the disks are done after about 4 s, then memory follows.
    expect(snapshots[memoryStarted]?.elapsedMs).toBe(4400);
    expect(snapshots[memoryStarted]?.diskRemaining).toBe(0);
    for (const s of snapshots.slice(memoryStarted)) expect(s.diskBps).toBe(0);
    expect(last(snapshots).dataProcessed).toBeGreaterThanOrEqual(2 * GiB + last(snapshots).normalData - 1);
  });
});

describe("a migration that does not converge", () => {
  it("is never stuck while its passes drain: it runs to the completion timeout (the monitor compares with the previous poll)", () => {
    const { model, snapshots } = run(hot);
    // 4 GiB -> 5 units of 10^9 bytes × 150 s; the first poll whose whole seconds exceed 750 aborts.
    expect(model.outcome).toEqual({ kind: "aborted", why: "timeout", afterSeconds: 750 });
    expect(last(snapshots).elapsedMs).toBe(751_200);
    // DataRemaining fell between almost every two polls: never 150 s without a decrease.
    expect(Math.max(...secondsWithoutDecreasePerPoll(snapshots))).toBeLessThanOrEqual(1);
    // Under the old lowest-so-far rule the same run was "stuck" long before the timeout.
    expect(stalledSecondsPerPoll(snapshots).some((seconds) => seconds > hot.progressTimeoutSeconds)).toBe(
      true,
    );
    const outcome = model.outcome;
    if (outcome?.kind === "aborted") {
      expect(migrationAbortLogMessage(outcome)).toBe("Aborting migration: not completed after 750 seconds");
    }
  });

  it("busy-db of the not-converging scenario (8Gi, 200 MiB/s dirty, 64 MiB/s cap) is aborted after 1350 s, not stuck", () => {
    const busy = {
      ...defaults,
      memoryBytes: 8 * GiB,
      dirtyRateBytesPerSecond: 200 * MiB,
      bandwidthBytesPerSecond: 64 * MiB,
      seed: 7,
    };
    const { model, snapshots } = run(busy);
    // 8 GiB = 8.59e9 bytes -> 9 units × 150 s.
    expect(model.outcome).toEqual({ kind: "aborted", why: "timeout", afterSeconds: 1350 });
    expect(Math.max(...secondsWithoutDecreasePerPoll(snapshots))).toBeLessThanOrEqual(1);
  });

  it("is aborted on the completion timeout when that comes first", () => {
    // 4 GiB -> 5 units of 10^9 bytes × 10 s = 50 s allowed.
    const input = { ...hot, completionTimeoutPerGiB: 10 };
    const { model, snapshots } = run(input);
    const outcome = model.outcome;
    expect(outcome).toEqual({ kind: "aborted", why: "timeout", afterSeconds: 50 });
    // The first poll whose whole elapsed seconds exceed 50.
    expect(last(snapshots).elapsedMs).toBe(51_200);
    if (outcome?.kind === "aborted") {
      expect(migrationAbortLogMessage(outcome)).toBe("Aborting migration: not completed after 50 seconds");
    }
  });

  it("is aborted as stuck when nothing moves at all", () => {
    const { model, snapshots } = run({ ...defaults, bandwidthBytesPerSecond: 0 });
    expect(model.outcome).toEqual({ kind: "aborted", why: "stuck", afterSeconds: 151 });
    // The first poll sets the watermark; 151 s later the monitor gives up.
    expect(last(snapshots).elapsedMs).toBe(400 + 151_200);
    expect(last(snapshots).dataRemaining).toBe(4 * GiB);
  });

  it("converges with auto-converge, the guest throttled step by step", () => {
    const input = { ...hot, allowAutoConverge: true, seed: 1 };
    const { model, snapshots } = run(input);
    const outcome = model.outcome;
    expect(outcome).toMatchObject({ kind: "completed", mode: "PreCopy" });
    if (outcome?.kind !== "completed") return;
    expect(outcome.downtimeMs).toBeLessThanOrEqual(input.maxDowntimeMs);
    const throttles = snapshots.map((s) => s.throttlePercent);
    // QEMU's cpu-throttle: 20% first, then 10 points at a time, never backwards.
    expect(throttles[0]).toBe(0);
    expect(throttles.find((t) => t > 0)).toBe(20);
    for (let i = 1; i < throttles.length; i++) {
      const step = (throttles[i] ?? 0) - (throttles[i - 1] ?? 0);
      expect([0, 10, 20]).toContain(step);
    }
    expect(last(throttles)).toBeGreaterThanOrEqual(40);
    // Throttled below the link's rate, and done long before progressTimeout could bite.
    const lastPreCopy = snapshots.filter((s) => s.dirtyRateBps > 0);
    expect(last(lastPreCopy).dirtyRateBps).toBeLessThan(GiB);
    expect(last(snapshots).elapsedMs).toBeLessThan(120_000);
  });

  it("switches to post-copy only at the completion timeout, and always finishes there", () => {
    // allowWorkloadDisruption unset follows allowPostCopy.
    const input = { ...hot, allowPostCopy: true, seed: 1 };
    const { model, snapshots } = run(input);
    const outcome = model.outcome;
    expect(outcome).toMatchObject({ kind: "completed", mode: "PostCopy" });
    if (outcome?.kind !== "completed") return;
    expect(outcome.downtimeMs).toBeGreaterThan(0);
    expect(outcome.downtimeMs).toBeLessThanOrEqual(input.maxDowntimeMs);
    const switched = snapshots.findIndex((s) => s.mode === "PostCopy");
    // Not at the third iteration, as the simulator once did: at the first poll past 750 s.
    expect(snapshots[switched]?.elapsedMs).toBe(751_200);
    expect(snapshots[switched - 1]?.postcopyRequests).toBe(0);
    for (const s of snapshots.slice(switched)) expect(s.mode).toBe("PostCopy");
    // The guest now runs on the target: no more dirtying on the source, pages are fetched instead.
    for (const s of snapshots.slice(switched + 1)) expect(s.dirtyRateBps).toBe(0);
    const final = last(snapshots);
    expect(final.postcopyRequests).toBeGreaterThan(0);
    expect(final.dataRemaining).toBe(0);
    expect(final.elapsedMs).toBeLessThan(760_000);
  });

  it("does not switch to post-copy without workload disruption: aborted at the timeout", () => {
    const { model, snapshots } = run({
      ...hot,
      allowPostCopy: true,
      allowWorkloadDisruption: false,
      seed: 1,
    });
    expect(model.outcome).toEqual({ kind: "aborted", why: "timeout", afterSeconds: 750 });
    expect(snapshots.every((s) => s.mode === "PreCopy")).toBe(true);
  });

  it("pauses the guest at the timeout with workload disruption and no post-copy; the copy then finishes", () => {
    const input = { ...hot, allowWorkloadDisruption: true, seed: 1 };
    const { model, snapshots } = run(input);
    const paused = snapshots.findIndex((s) => s.mode === "Paused");
    expect(snapshots[paused]?.elapsedMs).toBe(751_200);
    for (const s of snapshots.slice(paused)) expect(s.mode).toBe("Paused");
    // A suspended guest dirties nothing.
    for (const s of snapshots.slice(paused + 1)) expect(s.dirtyRateBps).toBe(0);
    const outcome = model.outcome;
    expect(outcome).toMatchObject({ kind: "completed", mode: "Paused" });
    if (outcome?.kind !== "completed") return;
    // Down from the pause to the end.
    expect(Math.abs(outcome.downtimeMs - (last(snapshots).elapsedMs - 751_200))).toBeLessThanOrEqual(1);
    expect(outcome.downtimeMs).toBeGreaterThan(input.maxDowntimeMs);
    expect(last(snapshots).dataRemaining).toBe(0);
  });

  it("allows twice the time once paused: a link too slow still ends 'not completed after' the doubled time", () => {
    const input = { ...hot, bandwidthBytesPerSecond: 4 * MiB, allowWorkloadDisruption: true };
    const { model, snapshots } = run(input, 20_000);
    expect(model.outcome).toEqual({ kind: "aborted", why: "timeout", afterSeconds: 1500 });
    expect(last(snapshots).mode).toBe("Paused");
    expect(last(snapshots).elapsedMs).toBe(1_501_200);
  });
});

describe("determinism", () => {
  it("replays the same snapshots for the same input and seed, and other ones for another seed", () => {
    const a = run({ ...hot, allowAutoConverge: true, seed: 42 });
    const b = run({ ...hot, allowAutoConverge: true, seed: 42 });
    const c = run({ ...hot, allowAutoConverge: true, seed: 43 });
    expect(b.snapshots).toEqual(a.snapshots);
    expect(b.model.outcome).toEqual(a.model.outcome);
    expect(c.snapshots).not.toEqual(a.snapshots);
  });

  it("freezes once there is an outcome", () => {
    const { model } = run(defaults);
    const final = model.snapshot;
    expect(model.advance(MONITOR_POLL_MS)).toBe(final);
    expect(model.iterationChanged).toBe(false);
    expect(model.outcome?.kind).toBe("completed");
  });

  it("starts from an untouched snapshot and refuses nonsense input", () => {
    const model = new MigrationModel(defaults);
    expect(model.outcome).toBeUndefined();
    expect(model.snapshot).toMatchObject({
      elapsedMs: 0,
      iteration: 1,
      dataRemaining: 4 * GiB,
      dataProcessed: 0,
    });
    expect(() => new MigrationModel({ ...defaults, memoryBytes: -1 })).toThrow(RangeError);
    expect(() => new MigrationModel({ ...defaults, bandwidthBytesPerSecond: Number.NaN })).toThrow(
      RangeError,
    );
    expect(() => model.advance(-400)).toThrow(RangeError);
  });
});
