// Prose fitted to a terminal: broken between words, continuation lines indented.
import { describe, expect, it } from "vitest";
import { ownCsi } from "../../src/io/untrusted.js";
import { errProse, wrapLine, wrapperFor } from "../../src/io/wrap.js";

describe("wrapLine", () => {
  it("leaves a line that fits", () => {
    expect(wrapLine("  Fix: restart the VM", 40)).toEqual(["  Fix: restart the VM"]);
  });

  it("breaks between words, keeping the indent and adding two spaces on continuation lines", () => {
    const line =
      "  Fix: Restart the VM onto the current launcher; the migration cannot work across versions.";
    const lines = wrapLine(line, 40);
    expect(lines).toEqual([
      "  Fix: Restart the VM onto the current",
      "    launcher; the migration cannot work",
      "    across versions.",
    ]);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(lines.map((l) => l.trim()).join(" ")).toBe(line.trim());
  });

  it("counts what the terminal shows, not colour escapes", () => {
    // kvmig's own colours, as io.colors makes them (untrusted.ts).
    const red = (t: string) => `${ownCsi("31m")}${t}${ownCsi("39m")}`;
    const line = `${red("ERROR")} Migration failed between different virt-launcher versions`;
    const lines = wrapLine(line, 50);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`${red("ERROR")} Migration failed between different`);
  });

  it("counts an escape from elsewhere as the ^[ text it is shown as", () => {
    const line = "\u001B[2J\u001B[2J Migration failed between different versions";
    // Shown as ^[[2J^[[2J Migration failed between (33 characters) and the rest.
    expect(wrapLine(line, 40)).toEqual([
      "\u001B[2J\u001B[2J Migration failed between",
      "  different versions",
    ]);
  });

  it("a word longer than the width stays whole on its own line", () => {
    const url = `https://example.com/${"x".repeat(60)}`;
    expect(wrapLine(`  Docs: ${url}`, 40)).toEqual(["  Docs:", `    ${url}`]);
  });
});

describe("wrapperFor and errProse", () => {
  it("no width: nothing is wrapped (a pipe keeps lines whole)", () => {
    const long = "word ".repeat(40).trim();
    expect(wrapperFor(undefined)(long)).toEqual([long]);
  });

  it("stderr on a terminal: fitted to its columns; elsewhere one line", () => {
    const text =
      "warning: restarting demo/db stops its guest: it is down until the new VMI runs (usually tens of seconds)";
    const written: string[] = [];
    errProse({ stderrIsTTY: true, columns: 80, err: (t) => written.push(t) }, text);
    expect(written.length).toBe(2);
    for (const line of written) expect(line.length).toBeLessThan(80);
    const piped: string[] = [];
    errProse({ stderrIsTTY: false, columns: 80, err: (t) => piped.push(t) }, text);
    expect(piped).toEqual([text]);
  });
});
