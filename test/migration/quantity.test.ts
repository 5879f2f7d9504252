// Kubernetes quantities as the API server writes them, and as pre-flight prints the amounts.
import { describe, expect, it } from "vitest";
import { formatBytesQuantity, formatCpuQuantity, parseQuantity } from "../../src/migration/quantity.js";

describe("parseQuantity", () => {
  it.each([
    ["8Gi", 8 * 2 ** 30],
    ["1536Mi", 1536 * 2 ** 20],
    ["500m", 0.5],
    ["2", 2],
    ["1.5", 1.5],
    ["1k", 1000],
    ["129M", 129e6],
    ["1e3", 1000],
    ["12E-1", 1.2],
    ["94580335255", 94580335255],
  ])("%s is %d", (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 9);
  });

  it.each(["", "Gi", "8 Gi", "eight", "8GB", "1.2.3"])("%j is not a quantity", (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe("formatting", () => {
  it("writes bytes in the largest binary unit, one decimal below 100", () => {
    expect(formatBytesQuantity(3.1 * 2 ** 30)).toBe("3.1Gi");
    expect(formatBytesQuantity(8 * 2 ** 30)).toBe("8Gi");
    expect(formatBytesQuantity(512 * 2 ** 20)).toBe("512Mi");
    expect(formatBytesQuantity(0)).toBe("0");
  });

  it("writes CPU as whole cores or millicores", () => {
    expect(formatCpuQuantity(4)).toBe("4");
    expect(formatCpuQuantity(1.5)).toBe("1500m");
    expect(formatCpuQuantity(0)).toBe("0");
  });
});
