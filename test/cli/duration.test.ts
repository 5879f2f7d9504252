// Durations as kubectl writes them, and back: parseDuration for flags, formatDuration for output.
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { formatDuration, maxTimerMs, parseDuration, timeLimit } from "../../src/duration.js";
import { ExitCode, exitCodeOf, UsageError } from "../../src/errors.js";

describe("parseDuration", () => {
  it.each([
    ["90s", 90_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["2m30s", 150_000],
    ["500ms", 500],
    ["1m500ms", 60_500],
    ["1.5s", 1_500],
    ["30", 30_000],
    ["0", 0],
    ["0s", 0],
    [" 5m ", 300_000],
  ])("%j is %i ms", (text, ms) => {
    expect(parseDuration(text, "--timeout")).toBe(ms);
  });

  it.each(["abc", "5x", "", "   ", "1h-3m", "-5m", "m", "5m5", "1.5", "5 m"])(
    "%j is a usage error naming the flag; exit 2",
    (text) => {
      let error: unknown;
      try {
        parseDuration(text, "--request-timeout");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe(`invalid duration "${text}" for --request-timeout`);
      expect((error as UsageError).hint).toBe("write it like 90s, 5m, 1h or 1h30m");
      expect(exitCodeOf(error)).toBe(ExitCode.usage);
      expect(exitCodeOf(error)).toBe(2);
    },
  );

  it("names whichever flag it parses", () => {
    expect(() => parseDuration("soon", "--wait")).toThrow('invalid duration "soon" for --wait');
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0ms"],
    [500, "500ms"],
    [999, "999ms"],
    [1_000, "1s"],
    [59_000, "59s"],
    [90_000, "1m30s"],
    [300_000, "5m"],
    [3_600_000, "1h"],
    [5_400_000, "1h30m"],
    // Seconds are dropped once there are hours.
    [3_661_000, "1h1m"],
    // Rounds to whole seconds from one second on.
    [1_499, "1s"],
    [59_600, "1m"],
  ])("%i ms is %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(["1m30s", "5m", "1h", "1h30m", "500ms", "45s"])("%j survives a round trip", (text) => {
    expect(formatDuration(parseDuration(text, "--x"))).toBe(text);
  });
});

// Node's timers hold at most 2^31-1 ms (about 24.8 days) and fire after 1 ms beyond that.
describe("timeLimit: a limit as a timer can hold it", () => {
  it("a timer holds 2^31-1 ms, about 24.8 days", () => {
    expect(maxTimerMs).toBe(2_147_483_647);
    expect(formatDuration(maxTimerMs)).toBe("596h31m");
  });

  it.each([
    [1, 1],
    [30_000, 30_000],
    [maxTimerMs - 1, maxTimerMs - 1],
    [maxTimerMs, maxTimerMs],
  ])("%i ms is a limit of %i ms", (ms, delay) => {
    expect(timeLimit(ms)).toBe(delay);
  });

  it.each([
    ["0 (the flags' no limit)", 0],
    ["2^31 ms", maxTimerMs + 1],
    ["--timeout 1000h", parseDuration("1000h", "--timeout")],
    ["--request-timeout 99999999h", parseDuration("99999999h", "--request-timeout")],
    ["an infinite duration", Number.POSITIVE_INFINITY],
    ["a negative one", -5],
  ])("%s is no limit, never a timer of 1 ms", (_, ms) => {
    expect(timeLimit(ms)).toBeUndefined();
  });
});

describe("systemClock.sleep beyond what a timer can hold", () => {
  const stillAsleepAfter = (ms: number) =>
    new Promise<string>((resolve) => setTimeout(() => resolve("still asleep"), ms));

  it("sleeps until the signal aborts, not 1 ms", async () => {
    const stop = new AbortController();
    const slept = systemClock.sleep(maxTimerMs + 1, stop.signal).then(() => "woke");
    expect(await Promise.race([slept, stillAsleepAfter(50)])).toBe("still asleep");
    stop.abort(new Error("stopped"));
    await expect(slept).rejects.toThrow("stopped");
  });

  it("a sleep of 0 still resolves at once", async () => {
    expect(await Promise.race([systemClock.sleep(0).then(() => "woke"), stillAsleepAfter(50)])).toBe("woke");
  });
});
