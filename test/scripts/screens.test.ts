// The README screens (scripts/screens.mjs): the terminal emulator that replays kvmig's output,
// the SVG renderer, and one real capture (`kvmig version` against a simulated cluster on loopback).
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import manifest from "../../package.json" with { type: "json" };
import { colorOf, escapeXml, renderSvg, theme } from "../../scripts/screens/svg.mjs";
import { defaultStyle, emulate, type Run, Terminal } from "../../scripts/screens/terminal.mjs";
import { ensureBuilt, runProcess } from "../e2e/built-cli.js";
import { tempDir } from "../helpers/kubeconfig.js";

const ESC = "\u001b";

/** The runs of a line as [text, fg, bold] for compact assertions. */
function runsOf(runs: Run[] | undefined) {
  return (runs ?? []).map((r) => [r.text, r.style.fg, r.style.bold]);
}

describe("terminal emulator", () => {
  it("a carriage return lets the next text overwrite the line", () => {
    expect(emulate("hello world\rHELLO").text()).toEqual(["HELLO world"]);
  });

  it("LF starts a new line at column 0, and CR LF does the same", () => {
    expect(emulate("one\ntwo\r\nthree").text()).toEqual(["one", "two", "three"]);
  });

  it("erase in line: to the end (0), to the start (1) and all of it (2)", () => {
    expect(emulate(`hello world${ESC}[6D${ESC}[K`).text()).toEqual(["hello"]);
    expect(emulate(`hello world${ESC}[6D${ESC}[1K`).text()).toEqual(["      world"]);
    expect(emulate(`hello world${ESC}[2Kbye`).text()).toEqual(["           bye"]);
    expect(emulate(`hello world\r${ESC}[2Kbye`).text()).toEqual(["bye"]);
  });

  it("a spinner redrawn in place leaves only its last state", () => {
    const t = new Terminal();
    t.write("migration started\r\n");
    t.write(`${ESC}[?25l${ESC}[1G${ESC}[36m⠋${ESC}[39m Scheduling 0ms`);
    t.write(`${ESC}[1G${ESC}[0K${ESC}[36m⠙${ESC}[39m Scheduling 1s`);
    t.write(`${ESC}[1G${ESC}[0K${ESC}[?25h${ESC}[32m✔${ESC}[39m Scheduling 2s\r\n`);
    expect(t.text()).toEqual(["migration started", "✔ Scheduling 2s"]);
    expect(runsOf(t.lines()[1])).toEqual([
      ["✔", "2", false],
      [" Scheduling 2s", null, false],
    ]);
  });

  it("cursor up and erase in display redraw a table in place (as kvmig watch does)", () => {
    const t = new Terminal();
    t.write("$ header\r\nA   Pending\r\nB   Pending\r\n");
    t.write(`${ESC}[2A${ESC}[0JA   Running\r\nB   Scheduling\r\n`);
    t.write(`${ESC}[2A${ESC}[0JA   Succeeded\r\nB   Failed\r\n`);
    expect(t.text()).toEqual(["$ header", "A   Succeeded", "B   Failed"]);
  });

  it("cursor movement: up, down, forward, back, CHA and CUP", () => {
    expect(emulate(`one\r\ntwo${ESC}[1AX`).text()).toEqual(["oneX", "two"]);
    expect(emulate(`one${ESC}[2BX`).text()).toEqual(["one", "", "   X"]);
    expect(emulate(`ab${ESC}[3Cc${ESC}[5Dd`).text()).toEqual(["ad   c"]);
    expect(emulate(`abcdef${ESC}[3Gx`).text()).toEqual(["abxdef"]);
    expect(emulate(`line 1\r\nline 2${ESC}[1;3HX${ESC}[2;1fY`).text()).toEqual(["liXe 1", "Yine 2"]);
  });

  it("erase in display: below (0), above (1) and all (2)", () => {
    expect(emulate(`a\r\nbb\r\nc${ESC}[1A${ESC}[0J`).text()).toEqual(["a", "b"]);
    expect(emulate(`a\r\nbbb\r\nc${ESC}[1A${ESC}[1J`).text()).toEqual(["", "  b", "c"]);
    expect(emulate(`a\r\nb${ESC}[2J`).text()).toEqual([]);
  });

  it("backspace and tab", () => {
    expect(emulate("abc\bX").text()).toEqual(["abX"]);
    expect(emulate("a\tb\tc").text()).toEqual(["a       b       c"]);
  });

  it("SGR colour runs, bold and reset", () => {
    const [line] = emulate(
      `${ESC}[31mred${ESC}[0m plain ${ESC}[1;32mgreen${ESC}[39m bold${ESC}[22m end`,
    ).lines();
    expect(runsOf(line)).toEqual([
      ["red", "1", false],
      [" plain ", null, false],
      ["green", "2", true],
      [" bold", null, true],
      [" end", null, false],
    ]);
  });

  it("bright, 256-colour and true colour, in semicolon and colon forms; dim, italic, underline, inverse", () => {
    const [line] = emulate(
      `${ESC}[91ma${ESC}[38;5;208mb${ESC}[38:5:33mc${ESC}[38;2;1;2;255md${ESC}[38:2::16:32:48me` +
        `${ESC}[0;2;3;4;7mf${ESC}[22;23;24;27;48;5;22mg${ESC}[49m`,
    ).lines();
    expect(line?.map((r) => [r.text, r.style.fg, r.style.bg])).toEqual([
      ["a", "9", null],
      ["b", "208", null],
      ["c", "33", null],
      ["d", "#0102ff", null],
      ["e", "#102030", null],
      ["f", null, null],
      ["g", null, "22"],
    ]);
    expect(line?.[5]?.style).toEqual({
      ...defaultStyle(),
      dim: true,
      italic: true,
      underline: true,
      inverse: true,
    });
  });

  it("wraps at column 80, and a line of exactly 80 columns followed by CR LF is one line", () => {
    const long = emulate("x".repeat(85));
    expect(long.text()).toEqual(["x".repeat(80), "xxxxx"]);
    expect(long.wraps).toBe(1);
    const exact = emulate(`${"y".repeat(80)}\r\nnext`);
    expect(exact.text()).toEqual(["y".repeat(80), "next"]);
    expect(exact.wraps).toBe(0);
    expect(emulate("z".repeat(12), { cols: 10 }).text()).toEqual(["z".repeat(10), "zz"]);
  });

  it("a wide character takes two columns and wraps whole", () => {
    const t = emulate(`${"a".repeat(79)}日本`);
    expect(t.text()).toEqual(["a".repeat(79), "日本"]);
    expect(emulate(`日本${ESC}[5Gx`).text()).toEqual(["日本x"]);
  });

  it("ignores OSC (titles, hyperlinks), private modes and charset selection", () => {
    const t = emulate(
      `${ESC}]0;a title\u0007ok ${ESC}]8;;https://example.invalid${ESC}\\link${ESC}]8;;${ESC}\\` +
        `${ESC}[?25l${ESC}[?2026h ${ESC}(Bdone${ESC}[?2026l${ESC}[?25h`,
    );
    expect(t.text()).toEqual(["ok link done"]);
  });

  it("sequences and UTF-8 split across writes", () => {
    const t = new Terminal();
    t.write(`${ESC}[3`);
    t.write("1mred");
    const arrow = Buffer.from("→", "utf8");
    t.write(arrow.subarray(0, 1));
    t.write(arrow.subarray(1));
    expect(t.text()).toEqual(["red→"]);
    expect(t.lines()[0]?.[0]?.style.fg).toBe("1");
  });

  it("trims trailing blanks and empty lines at the end, keeps empty lines between", () => {
    expect(emulate("a   \r\n\r\nb\r\n\r\n\r\n").text()).toEqual(["a", "", "b"]);
  });
});

describe("SVG renderer", () => {
  const lines = (text: string) => emulate(text).lines();

  it("escapes <, & and > in the command and the text", () => {
    expect(escapeXml(`<a & "b">`)).toBe("&lt;a &amp; &quot;b&quot;&gt;");
    const svg = renderSvg({ command: "kvmig x <&>", lines: lines("1 < 2 && 3 > 2") });
    expect(svg).toContain("kvmig x &lt;&amp;&gt;");
    expect(svg).toContain("1 &lt; 2 &amp;&amp; 3 &gt; 2");
    expect(svg).not.toMatch(/<&>|< 2|&& 3/);
  });

  it("a coloured run is a tspan filled from the palette; bold and 256 colours too", () => {
    const svg = renderSvg({
      command: "kvmig version",
      lines: lines(`plain ${ESC}[31mred${ESC}[39m ${ESC}[1mbold${ESC}[22m ${ESC}[38;5;208morange`),
    });
    expect(svg).toContain(`fill="${theme.ansi[1]}">red</tspan>`);
    expect(svg).toContain('font-weight="bold">bold</tspan>');
    expect(colorOf("208")).toBe("#ff8700");
    expect(colorOf("244")).toBe("#808080");
    expect(svg).toContain('fill="#ff8700">orange</tspan>');
    // Columns are placed explicitly: "red" starts at column 6.
    expect(svg).toMatch(/<tspan x="66\.4" fill="#ff7b72">red<\/tspan>/);
  });

  it("the first line is the prompt with the command; one <text> per line; a title", () => {
    const svg = renderSvg({ command: "kvmig watch -A", lines: lines("one\r\ntwo\r\n\r\nfour") });
    expect(svg.startsWith("<svg xmlns=")).toBe(true);
    expect(svg).toContain("<title>$ kvmig watch -A</title>");
    const texts = [...svg.matchAll(/<text y="[\d.]+"[^>]*>(.*?)<\/text>/g)].map((m) =>
      (m[1] ?? "").replace(/<[^>]+>/g, ""),
    );
    expect(texts).toEqual(["$kvmig watch -A", "one", "two", "four"]);
    expect(svg).toContain('width="704"');
  });

  it("is deterministic: the same input gives the same bytes", () => {
    const input = `${ESC}[32m✔${ESC}[39m Succeeded\r\n  total 15s\r\n`;
    const a = renderSvg({ command: "kvmig migrate vm", lines: lines(input) });
    const b = renderSvg({ command: "kvmig migrate vm", lines: lines(input) });
    expect(a).toBe(b);
    expect(a).not.toBe(renderSvg({ command: "kvmig migrate vm", lines: lines(`${input}x`) }));
  });
});

describe("scripts/screens.mjs", () => {
  let out: string | undefined;
  beforeAll(ensureBuilt, 120_000);
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it("captures `kvmig version` from a pseudo-terminal against the simulated cluster", async () => {
    out = tempDir("kvmig-screens-");
    const result = await runProcess(["scripts/screens.mjs", "--only", "version", "--out", out], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: out },
      timeoutMs: 55_000,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("1 of 1 screens");
    const svg = readFileSync(join(out, "version.svg"), "utf8");
    expect(svg).toContain("<title>$ kvmig version</title>");
    expect(svg).toContain(`${manifest.version} (Node.js v`);
    // Bold labels: kvmig saw a terminal and drew its styles.
    expect(svg).toContain('font-weight="bold">kvmig:');
    expect(svg).toContain("KubeVirt");
    expect(svg).toContain("127.0.0.1");
    expect(svg).not.toContain(ESC);
    // No control characters at all but the newlines between elements.
    expect([...svg].filter((ch) => ch.charCodeAt(0) < 0x20 && ch !== "\n")).toEqual([]);
  }, 60_000);
});
