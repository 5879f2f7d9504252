import { describe, expect, it } from "vitest";
import { cutToWidth, formatTable, streamingTable, truncateToWidth } from "../../src/io/table.js";
import { ownCsi, toTerminal } from "../../src/io/untrusted.js";

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
    // kvmig's own colours (untrusted.ts), as io.colors makes them.
    const green = (s: string) => `${ownCsi("32m")}${s}${ownCsi("39m")}`;
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

  it("measures a cell with a control character from elsewhere as it is shown (^[ and all)", () => {
    const table = formatTable(
      ["a", "b"],
      [
        ["\u001B[2Jx", "1"],
        ["long-one", "2"],
      ],
    );
    // ^[[2Jx is six characters wide once written.
    expect(toTerminal(table).split("\n")).toEqual(["A          B", "^[[2Jx     1", "long-one   2"]);
    expect(truncateToWidth("\u001B]0;title\u0007 and more text", 21)).toBe("^[]0;title^G and mo…");
  });

  it("leaves out headers and sizes columns from the rows alone", () => {
    expect(formatTable(["namespace", "name"], [["a", "vm"]], { noHeaders: true })).toBe("a   vm");
  });

  it("pads short rows", () => {
    expect(formatTable(["x", "y", "z"], [["1"]])).toBe("X   Y   Z\n1");
  });
});

describe("cutToWidth", () => {
  const cyan = (s: string) => `\u001B[36m${s}\u001B[39m`;
  it("leaves a line that fits as it is", () => {
    expect(cutToWidth(`${cyan("⠋")} Running`, 9)).toBe(`${cyan("⠋")} Running`);
  });
  it("cuts to the width with an ellipsis, keeping every escape so colours still close", () => {
    expect(cutToWidth(`${cyan("Running")} 12s`, 5)).toBe(`${cyan("Runn…")}`);
    expect(cutToWidth(`${cyan("⠋")} Running 12s`, 6)).toBe(`${cyan("⠋")} Run…`);
  });
});

describe("streamingTable", () => {
  it("heads the first batch, aligns later batches with the widths so far, which only grow", () => {
    const table = streamingTable(["time", "phase", "vm"], { minWidths: { PHASE: 10 } });
    expect(table([["12:00", "Pending", "db"]])).toEqual([
      "TIME    PHASE        VM",
      "12:00   Pending      db",
    ]);
    expect(table([])).toEqual([]);
    expect(table([["12:01:30", "Succeeded", "db"]])).toEqual(["12:01:30   Succeeded    db"]);
  });
  it("without headers, starts with the rows", () => {
    const table = streamingTable(["time", "vm"], { noHeaders: true });
    expect(table([["12:00", "db"]])).toEqual(["12:00   db"]);
  });
});
