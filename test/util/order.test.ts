// compareText orders by code units, as Go's sort.Strings does (not by locale).
import { describe, expect, it } from "vitest";
import { compareText } from "../../src/util/order.js";

describe("compareText", () => {
  it("sorts names by code units: digits, then upper case, then lower case; - before . before _", () => {
    const names = ["node-b", "node_a", "node.a", "Node-z", "node-10", "node-9", "node-a"];
    expect([...names].sort(compareText)).toEqual([
      "Node-z",
      "node-10",
      "node-9",
      "node-a",
      "node-b",
      "node.a",
      "node_a",
    ]);
  });

  it("answers 0 for equal text, and a sign for the rest", () => {
    expect(compareText("a", "a")).toBe(0);
    expect(compareText("a", "b")).toBe(-1);
    expect(compareText("b", "a")).toBe(1);
    expect(compareText("", "a")).toBe(-1);
    expect(compareText("2026-12-07T10:00:00Z", "2026-12-07T09:59:59Z")).toBe(1);
  });
});
