import { describe, expect, it } from "vitest";
import { formatTable } from "../../src/io/table.js";

describe("formatTable", () => {
  it("aligns columns three spaces apart with upper-case headers and no trailing spaces", () => {
    const table = formatTable(
      ["name", "phase", "node"],
      [
        ["vm-1", "Running", "worker-a"],
        ["database-vm", "Succeeded", ""],
      ],
    );
    expect(table).toBe(
      [
        "NAME          PHASE       NODE",
        "vm-1          Running     worker-a",
        "database-vm   Succeeded",
      ].join("\n"),
    );
  });

  it("measures coloured cells by what is visible", () => {
    const green = (s: string) => `\u001B[32m${s}\u001B[39m`;
    const table = formatTable(
      ["a", "b"],
      [
        [green("ok"), "1"],
        ["long-one", "2"],
      ],
    );
    const lines = table.split("\n");
    expect(lines[1]).toBe(`${green("ok")}         1`);
    expect(lines[2]).toBe("long-one   2");
  });

  it("leaves out headers and sizes columns from the rows alone", () => {
    expect(formatTable(["namespace", "name"], [["a", "vm"]], { noHeaders: true })).toBe("a   vm");
  });

  it("pads short rows", () => {
    expect(formatTable(["x", "y", "z"], [["1"]])).toBe("X   Y   Z\n1");
  });
});
