// Sizes, rates and the sparkline as `kvmig migrate` shows them.
import { describe, expect, it } from "vitest";
import { formatBytes, formatRate, formatRateWithin, sparkline } from "../../src/migration/format.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1, "1 B"],
    [0.4, "0 B"],
    [0.6, "1 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [99 * KiB, "99.0 KiB"],
    [100 * KiB, "100 KiB"],
    [1023 * KiB, "1023 KiB"],
    [MiB, "1.0 MiB"],
    [2560 * MiB, "2.5 GiB"],
    [4294967296, "4.0 GiB"],
    [150 * GiB, "150 GiB"],
    [TiB, "1.0 TiB"],
    [1.25 * TiB, "1.3 TiB"],
  ])("%d bytes → %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it("stops at TiB for huge values", () => {
    expect(formatBytes(2048 * TiB)).toBe("2048 TiB");
  });

  it("shows negative sizes as 0 B", () => {
    expect(formatBytes(-1)).toBe("0 B");
    expect(formatBytes(-5 * GiB)).toBe("0 B");
  });
});

describe("formatRate", () => {
  it("is the size per second", () => {
    expect(formatRate(0)).toBe("0 B/s");
    expect(formatRate(512)).toBe("512 B/s");
    expect(formatRate(125_000_000)).toBe("119 MiB/s");
    expect(formatRate(1.5 * GiB)).toBe("1.5 GiB/s");
  });
});

describe("formatRateWithin", () => {
  it("is the rate itself without a step", () => {
    expect(formatRateWithin(300_000_000, undefined)).toBe(formatRate(300_000_000));
  });

  it("is the range from the value to one step above it, the unit written once when shared", () => {
    // 37 steps of 8 MB/s, as a v1.2.0 launcher's MemoryBandwidth:37Mbps means.
    expect(formatRateWithin(296_000_000, 8_000_000)).toBe("282–290 MiB/s");
    expect(formatRateWithin(8_000_000, 8_000_000)).toBe("7.6–15.3 MiB/s");
  });

  it("writes both units when they differ", () => {
    expect(formatRateWithin(1_072_000_000, 8_000_000)).toBe("1022 MiB/s–1.0 GiB/s");
  });

  it("from zero is 'less than one step'", () => {
    expect(formatRateWithin(0, 8_000_000)).toBe("< 7.6 MiB/s");
  });
});

describe("sparkline", () => {
  it("is empty for no values", () => {
    expect(sparkline([])).toBe("");
  });

  it("maps the highest value to █ and zero to ▁, one character per value", () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe("▁▂▃▄▅▆▇█");
    expect(sparkline([7, 6, 5, 4, 3, 2, 1, 0])).toBe("█▇▆▅▄▃▂▁");
    expect(sparkline([0, 100])).toBe("▁█");
  });

  it("scales to the maximum, not to a fixed range", () => {
    expect(sparkline([5, 10])).toBe(sparkline([500, 1000]));
    expect(sparkline([5, 10])).toBe("▅█");
  });

  it("draws all zeros as the lowest bar, one per value", () => {
    expect(sparkline([0])).toBe("▁");
    expect(sparkline([0, 0, 0, 0])).toBe("▁▁▁▁");
  });

  it("draws negative values as the lowest bar", () => {
    expect(sparkline([-3, 0, 7])).toBe("▁▁█");
    expect(sparkline([-3, -1])).toBe("▁▁");
  });

  it("a single non-zero value is the highest bar", () => {
    expect(sparkline([42])).toBe("█");
  });

  it("keeps every value when there are exactly `width` of them", () => {
    const values = [7, 0, 7, 0, 7];
    expect(sparkline(values, 5)).toBe("█▁█▁█");
  });

  it("samples evenly down to `width` characters, keeping the first and the last", () => {
    const values = Array.from({ length: 100 }, (_, i) => i);
    const line = sparkline(values, 10);
    expect([...line]).toHaveLength(10);
    expect(line.startsWith("▁")).toBe(true);
    expect(line.endsWith("█")).toBe(true);
    // Samples at indices 0, 11, 22, ... 99: a steadily rising line.
    expect(line).toBe("▁▂▃▃▄▅▆▆▇█");
  });

  it("sampling keeps a first and last value that differ from all others", () => {
    const values = [7, ...Array.from({ length: 98 }, () => 0), 3];
    expect(sparkline(values, 8)).toBe("█▁▁▁▁▁▁▄");
  });

  it("defaults to 32 characters", () => {
    const values = Array.from({ length: 500 }, (_, i) => 500 - i);
    const line = sparkline(values);
    expect([...line]).toHaveLength(32);
    expect(line.startsWith("█")).toBe(true);
    expect(line.endsWith("▁")).toBe(true);
    expect(sparkline(values.slice(0, 32))).toHaveLength(32);
    expect([...sparkline(values.slice(0, 20))]).toHaveLength(20);
  });
});

describe("rounding at a unit boundary, and a one-character sparkline", () => {
  it("1048575 bytes is 1.0 MiB, not 1024 KiB", () => {
    expect(formatBytes(1048575)).toBe("1.0 MiB");
  });
  it("width 1 shows the last value", () => {
    expect(sparkline([5, 9], 1)).toBe("█");
    expect(sparkline([9, 0], 1)).toBe("▁");
  });
});
