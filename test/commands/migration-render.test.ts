// The follow spinner on a terminal: its elapsed time ticks while a phase is quiet, and stops
// ticking when the follow ends.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FollowRenderer } from "../../src/commands/migration-render.js";
import { createIO } from "../../src/io/io.js";
import { type Progress, silentProgress } from "../../src/io/progress.js";
import { initialView } from "../../src/migration/state.js";
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
