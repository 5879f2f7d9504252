// How an API outage that a follow rides out is told (src/k8s/outage.ts): not for a blip, once it
// has lasted 5 s, again every 30 s while it lasts, and once when the API server is back.
import { describe, expect, it } from "vitest";
import { ApiOutage, outageEveryMs, outageFirstAfterMs } from "../../src/k8s/outage.js";
import { FakeClock } from "../helpers/fake-clock.js";

function outage(options: { firstAfterMs?: number; everyMs?: number } = {}) {
  const clock = new FakeClock();
  const told: string[] = [];
  return { clock, told, outage: new ApiOutage({ clock, report: (l) => told.push(l), ...options }) };
}

describe("ApiOutage", () => {
  it("5 s before the first line, 30 s between lines", () => {
    expect([outageFirstAfterMs, outageEveryMs]).toEqual([5_000, 30_000]);
  });

  it("a failure that passes within 5 s is no news, and leaves nothing behind", () => {
    const { clock, told, outage: o } = outage();
    o.lost("connection refused");
    expect(o.down).toBe(true);
    clock.advance(4_999);
    o.lost("connection refused");
    o.back();
    expect(o.down).toBe(false);
    expect(told).toEqual([]);
    // A later outage counts from its own start.
    clock.advance(60_000);
    o.lost("connection reset");
    clock.advance(4_000);
    o.lost("connection reset");
    expect(told).toEqual([]);
  });

  it("told at the first failure 5 s in, every 30 s after, and when it is back", () => {
    const { clock, told, outage: o } = outage();
    o.lost("connection refused");
    clock.advance(5_000);
    o.lost("connection refused");
    clock.advance(29_999);
    o.lost("connection refused");
    clock.advance(1);
    o.lost("HTTP 503 ServiceUnavailable");
    clock.advance(100_000);
    o.back();
    o.back();
    expect(told).toEqual([
      "kvmig: lost the API server (connection refused); reconnecting for 5s so far",
      "kvmig: lost the API server (HTTP 503 ServiceUnavailable); reconnecting for 35s so far",
      "kvmig: reconnected after 2m15s",
    ]);
    // Over: the next failure starts a new outage, told 5 s into it.
    o.lost("connection refused");
    clock.advance(5_000);
    o.lost("connection refused");
    expect(told.at(-1)).toBe("kvmig: lost the API server (connection refused); reconnecting for 5s so far");
  });

  it("back without a failure says nothing", () => {
    const { told, outage: o } = outage();
    o.back();
    expect(told).toEqual([]);
    expect(o.down).toBe(false);
  });

  it("the thresholds can be set", () => {
    const { clock, told, outage: o } = outage({ firstAfterMs: 0, everyMs: 1_000 });
    o.lost("a");
    clock.advance(999);
    o.lost("b");
    clock.advance(1);
    o.lost("c");
    expect(told).toEqual([
      "kvmig: lost the API server (a); reconnecting for 0ms so far",
      "kvmig: lost the API server (c); reconnecting for 1s so far",
    ]);
  });
});
