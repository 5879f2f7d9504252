// Times: "3m ago" on a terminal, RFC 3339 elsewhere.
import { describe, expect, it } from "vitest";
import { formatTime, timeStyleFor } from "../../src/io/time.js";

const now = Date.parse("2026-11-26T12:00:00Z");

describe("formatTime", () => {
  it.each([
    ["2026-11-26T11:57:00Z", "3m ago"],
    ["2026-11-26T11:59:15Z", "45s ago"],
    ["2026-11-26T09:30:00Z", "150m ago"],
    ["2026-11-26T06:30:00Z", "5h30m ago"],
    ["2026-11-23T12:00:00Z", "3d ago"],
    ["2026-11-26T12:00:00.400Z", "just now"],
    ["2026-11-26T12:00:20Z", "in 20s"],
  ])("relative: %s is %s", (iso, text) => {
    expect(formatTime(iso, "relative", now)).toBe(text);
  });

  it("RFC 3339 in UTC: whole seconds as Kubernetes writes them, a fraction kept", () => {
    expect(formatTime("2026-11-26T11:57:00Z", "rfc3339", now)).toBe("2026-11-26T11:57:00Z");
    expect(formatTime("2026-11-26T13:57:00+02:00", "rfc3339", now)).toBe("2026-11-26T11:57:00Z");
    expect(formatTime("2026-11-26T11:57:00.250Z", "rfc3339", now)).toBe("2026-11-26T11:57:00.250Z");
  });

  it("text that is not a time is left as it is", () => {
    expect(formatTime("yesterday", "relative", now)).toBe("yesterday");
  });

  it("relative only on a terminal", () => {
    expect(timeStyleFor(true)).toBe("relative");
    expect(timeStyleFor(false)).toBe("rfc3339");
  });
});
