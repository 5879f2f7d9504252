// Text from elsewhere made safe for a terminal (src/io/untrusted.ts), and the IO applying it where
// text leaves the process, while kvmig's own colours and redraws still pass.
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { createIO } from "../../src/io/io.js";
import { writeData } from "../../src/io/output.js";
import {
  jsonSafe,
  maxLineLength,
  ownCsi,
  terminalSafe,
  terminalWord,
  toTerminal,
  untag,
} from "../../src/io/untrusted.js";
import { bufferedStreams } from "../helpers/buffered-io.js";
import { hostileSamples, rawControl } from "../helpers/hostile-text.js";

const ESC = "\u001B";

describe("terminalSafe", () => {
  it.each(hostileSamples)("shows $kind visibly", ({ text, shown }) => {
    expect(terminalSafe(text)).toBe(shown);
    expect(toTerminal(text)).toBe(shown);
    expect(toTerminal(text)).not.toMatch(rawControl);
    // Idempotent: what is safe stays as it is.
    expect(terminalSafe(shown)).toBe(shown);
  });

  it("keeps newlines, tabs and ordinary Unicode as they are", () => {
    const text = "line one\n\tindented — ✔ 名前 🚀 é";
    expect(terminalSafe(text)).toBe(text);
  });

  it("shows DEL as ^? and every C1 control as a \\u escape", () => {
    expect(terminalSafe("a\u007fb")).toBe("a^?b");
    for (let code = 0x80; code <= 0x9f; code++) {
      expect(terminalSafe(String.fromCharCode(code))).toBe(`\\u00${code.toString(16)}`);
    }
  });

  it("lets kvmig's own sequences through, and toTerminal writes them plain", () => {
    const red = `${ownCsi("31m")}failed${ownCsi("39m")}`;
    const line = `${red}: \u001B]52;c;eA==\u0007 ${ownCsi("1G")}${ownCsi("3A")}${ownCsi("0J")}`;
    expect(toTerminal(line)).toBe(`${ESC}[31mfailed${ESC}[39m: ^[]52;c;eA==^G ${ESC}[1G${ESC}[3A${ESC}[0J`);
    expect(untag(red)).toBe(`${ESC}[31mfailed${ESC}[39m`);
  });

  it("does not take an escape that only looks like kvmig's own (the prefix is this process's secret)", () => {
    const own = ownCsi("");
    const params = own.slice(2, -1);
    // The same shape with other parameters, and ours without its ESC, both stay visible.
    const forged = `\u001B[1111;2222;3333;4444;2J`;
    expect(forged.startsWith(own)).toBe(false);
    expect(toTerminal(forged)).toBe("^[[1111;2222;3333;4444;2J");
    expect(toTerminal(`[${params};2J`)).toBe(`[${params};2J`);
  });

  it("cuts a line longer than the limit with a marker saying how much, and leaves shorter ones", () => {
    const long = "x".repeat(maxLineLength + 1000);
    const cut = terminalSafe(`short\n${long}\nend`).split("\n");
    expect(cut[0]).toBe("short");
    expect(cut[2]).toBe("end");
    expect(cut[1]?.length).toBeLessThanOrEqual(maxLineLength);
    expect(cut[1]).toMatch(/^x+ … \[1,040 more characters cut\]$/);
    // Cut once: cutting again changes nothing.
    expect(terminalSafe(cut[1] ?? "")).toBe(cut[1]);
    expect(terminalSafe("y".repeat(maxLineLength))).toBe("y".repeat(maxLineLength));
  });

  it("counts a line's own colours as nothing when cutting, and keeps them so the colour closes", () => {
    const long = `${ownCsi("31m")}${"z".repeat(maxLineLength + 10)}${ownCsi("39m")}`;
    const written = toTerminal(long);
    expect(written.startsWith(`${ESC}[31m`)).toBe(true);
    expect(written.endsWith(`more characters cut]${ESC}[39m`)).toBe(true);
  });

  it("makes a completion word one line: newline and tab shown too", () => {
    expect(terminalWord("ctx\nrm -rf\tx\u001B[2J")).toBe("ctx^Jrm -rf^Ix^[[2J");
  });
});

describe("the IO's streams", () => {
  it.each(hostileSamples)(
    "show $kind visibly on stdout and stderr, on a terminal and in a pipe",
    ({ text, shown }) => {
      for (const tty of [true, false]) {
        const b = bufferedStreams({ tty });
        const io = createIO(b.streams, {});
        io.out(`message: ${text}`);
        io.err(io.errColors.error(`error: ${text}`));
        io.stdout.write(`${text}\n`);
        io.stderr.write(`${text}\n`);
        expect(b.stdout()).toBe(`message: ${shown}\n${shown}\n`);
        const err = b.stderr();
        expect(err).toContain(`error: ${shown}`);
        expect(err.replaceAll(`${ESC}[31m`, "").replaceAll(`${ESC}[39m`, "")).not.toMatch(rawControl);
        expect(err.includes(`${ESC}[31m`)).toBe(tty);
      }
    },
  );

  it("stderr stays safe in JSON mode; stdout's JSON carries the exact data", async () => {
    const b = bufferedStreams({ tty: true });
    const io = createIO(b.streams, {});
    io.setOutputMode("json");
    const data = { items: hostileSamples.map((s) => s.text) };
    await writeData(io, "json", data, () => {});
    io.err(`warning: ${hostileSamples[3]?.text}`);
    expect(b.stdout()).not.toMatch(rawControl);
    expect(JSON.parse(b.stdout())).toEqual(data);
    expect(b.stderr()).toBe(`warning: ${hostileSamples[3]?.shown}\n`);
  });

  it("JSON written in JSON mode through io.stdout (watch's stream) is the same data, escaped", () => {
    const b = bufferedStreams();
    const io = createIO(b.streams, {});
    io.setOutputMode("json");
    const record = { message: hostileSamples.map((s) => s.text).join(" ") };
    io.stdout.write(`${JSON.stringify(record)}\n`);
    expect(b.stdout()).not.toMatch(rawControl);
    expect(JSON.parse(b.stdout())).toEqual(record);
    expect(b.stdout()).toContain("\\u009b2J");
    expect(b.stdout()).toContain("\\u202egnp.exe");
  });

  it("jsonSafe escapes only what JSON.stringify leaves raw, and the text parses to the same value", () => {
    const value = { s: "\u009b\u202e\u2066\u007f plain é 🚀", n: 1 };
    const json = JSON.stringify(value, null, 2);
    const safe = jsonSafe(json);
    expect(safe).toContain('"\\u009b\\u202e\\u2066\\u007f plain é 🚀"');
    expect(JSON.parse(safe)).toEqual(value);
    expect(jsonSafe('{\n\t"a": "b"\r\n}')).toBe('{\n\t"a": "b"\r\n}');
  });

  it("-o yaml quotes every control and bidi character and reads back exactly", async () => {
    const b = bufferedStreams();
    const io = createIO(b.streams, {});
    const data = { items: hostileSamples.map((s) => s.text) };
    await writeData(io, "yaml", data, () => {});
    expect(b.stdout()).not.toMatch(rawControl);
    expect(b.stdout()).toContain('"ok\\u202egnp.exe\\u202c \\u2066x\\u2069"');
    expect(YAML.parse(b.stdout())).toEqual(data);
  });
});
