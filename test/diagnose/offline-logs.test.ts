// Reading a saved log of any size: lines split as `split(/\r?\n/)` splits them, a log longer than
// the limits read in full but kept to its tail and, before it, the newest lines rules read, a line
// too long cut short, and a note saying what was not kept. Small files and lowered limits stand
// in for the gigabyte logs of a must-gather.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  defaultLogLimits,
  LogKeeper,
  type LogLimits,
  logCutNote,
  readLog,
} from "../../src/diagnose/offline-logs.js";
import { tempDir } from "../helpers/kubeconfig.js";

function logFile(content: string | Buffer): string {
  const file = join(tempDir(), "compute.log");
  writeFileSync(file, content);
  return file;
}

const limits = (overrides: Partial<LogLimits>): LogLimits => ({ ...defaultLogLimits, ...overrides });

/** A launcher's JSON line, as virt-launcher writes them. */
const launcher = (level: string, msg: string) =>
  JSON.stringify({ component: "virt-launcher", level, msg, timestamp: "2025-06-10T13:00:00.000000Z" });

describe("readLog: lines as split(/\\r?\\n/) gives them", () => {
  const cases: [string, string][] = [
    ["an empty file", ""],
    ["one line without a line break", "only"],
    ["a line break at the end", "one\ntwo\n"],
    ["empty lines", "one\n\n\ntwo\n\n"],
    ["CRLF line breaks", "one\r\ntwo\r\n"],
    ["a carriage return inside a line, and at the very end", "one\rstill one\nlast\r"],
    ["UTF-8 text", "Größe: 4 GiB — ok\n日本\n"],
  ];
  for (const [name, text] of cases) {
    it(name, async () => {
      const expected = text.split(/\r?\n/);
      if (expected.at(-1) === "") expected.pop();
      const log = await readLog(logFile(text));
      expect(log.lines).toEqual(expected);
      expect(log.linesRead).toBe(expected.length);
      expect(logCutNote(log)).toBeUndefined();
    });
  }

  it("a character and a line that span the 64 KiB chunks the file is streamed in", async () => {
    // "é" is two bytes, the first the last of the first chunk; the second line starts in it.
    const first = `${"a".repeat(64 * 1024 - 1)}é`;
    const second = `${"b".repeat(100 * 1024)}`;
    const log = await readLog(logFile(`${first}\r\n${second}\n`), limits({ logLineBytes: 1024 * 1024 }));
    expect(log.lines).toEqual([first, second]);
  });
});

describe("readLog: a log longer than the limits", () => {
  // 20,000 lines of noise, with error lines at 1,000 and 5,000, a progress line at 9,000, an
  // abort at 15,000 and an error just before the last five lines.
  const special = new Map([
    [1000, launcher("error", "first error, too old to keep")],
    [5000, launcher("error", "Live migration failed.")],
    [9000, launcher("info", "Migration info for 9f8e: TimeElapsed:4000ms DataRemaining:7700MiB")],
    [15000, launcher("warning", "Aborting migration: stuck for 150 seconds")],
    [19994, launcher("error", "Failed to connect to notify server")],
  ]);
  const content = `${Array.from({ length: 20000 }, (_, i) => special.get(i) ?? launcher("info", `Synced vmi, line ${i}`)).join("\n")}\n`;

  it("is read to its end: the last lines whatever they say, and before them the newest lines rules read", async () => {
    const log = await readLog(logFile(content), limits({ logTailLines: 5, logLines: 8 }));
    expect(log.linesRead).toBe(20000);
    expect(log.bytesRead).toBe(Buffer.byteLength(content));
    expect(log.lines).toEqual([
      special.get(9000),
      special.get(15000),
      special.get(19994),
      ...Array.from({ length: 5 }, (_, k) => launcher("info", `Synced vmi, line ${19995 + k}`)),
    ]);
    expect(log.earlierKept).toBe(3);
    // Room for one more line: the next newest line rules read, never noise.
    const roomier = await readLog(logFile(content), limits({ logTailLines: 5, logLines: 9 }));
    expect(roomier.lines.slice(0, 4)).toEqual([
      special.get(5000),
      special.get(9000),
      special.get(15000),
      special.get(19994),
    ]);
  });

  it("says what it read, what it kept and how much it skipped", async () => {
    const log = await readLog(logFile(content), limits({ logTailLines: 5, logLines: 8 }));
    expect(logCutNote(log)).toBe(
      "2.2 MiB, 20,000 lines: all read, 8 kept (the last 5, and before them the newest 3 of the kinds diagnose looks for: errors, warnings, progress); 19,992 lines skipped",
    );
  });

  it("keeps no more bytes than allowed: the earlier lines go first, then the oldest of the tail", async () => {
    const tail = Array.from({ length: 5 }, (_, k) => launcher("info", `Synced vmi, line ${19995 + k}`));
    const tailBytes = tail.reduce((sum, line) => sum + line.length, 0);
    const oneEarlier = await readLog(
      logFile(content),
      limits({ logTailLines: 5, logLines: 8, logBytes: tailBytes + (special.get(19994)?.length ?? 0) }),
    );
    expect(oneEarlier.lines).toEqual([special.get(19994), ...tail]);
    const tailOnly = await readLog(
      logFile(content),
      limits({ logTailLines: 5, logLines: 8, logBytes: tailBytes - 1 }),
    );
    expect(tailOnly.lines).toEqual(tail.slice(1));
    expect(logCutNote(tailOnly)).toBe(
      "2.2 MiB, 20,000 lines: all read, 4 kept (the last 4); 19,996 lines skipped",
    );
  });
});

describe("readLog: a line longer than the line limit", () => {
  it("is cut short, and the note says so", async () => {
    const long = `${launcher("error", "x".repeat(300))}`;
    const log = await readLog(logFile(`short\n${long}\r\nend\n`), limits({ logLineBytes: 100 }));
    expect(log.lines).toEqual(["short", long.slice(0, 100), "end"]);
    expect(log.linesCut).toBe(1);
    expect(logCutNote(log, limits({ logLineBytes: 100 }))).toBe("1 line longer than 100 B cut short");
  });

  it("counts as a line rules read by what is kept of it", async () => {
    // The word "error" only after the cut: the line is noise before the tail.
    const late = `${"x".repeat(200)} error`;
    const log = await readLog(
      logFile(`${late}\nerror early\nnoise\n`),
      limits({ logTailLines: 1, logLines: 3, logLineBytes: 100 }),
    );
    expect(log.lines).toEqual(["error early", "noise"]);
  });
});

describe("LogKeeper: which lines, by position", () => {
  const plan = (keeper: LogKeeper) => keeper.plan(0, true).lines.map((l) => l.start);

  it("with no tail, keeps only the newest lines rules read", () => {
    const keeper = new LogKeeper(limits({ logTailLines: 0, logLines: 2 }));
    for (let i = 0; i < 10; i++) keeper.add(i * 10, 9, i % 3 === 0 ? "other" : undefined);
    expect(plan(keeper)).toEqual([60, 90]);
  });

  it("progress lines take up to half the room while other lines need it, and all of it otherwise", () => {
    const room = limits({ logTailLines: 0, logLines: 4 });
    // An error, then ten progress lines: the error stays, and the newest progress lines fill the rest.
    const keeper = new LogKeeper(room);
    keeper.add(0, 9, "other");
    for (let i = 1; i <= 10; i++) keeper.add(i * 10, 9, "progress");
    expect(plan(keeper)).toEqual([0, 80, 90, 100]);
    // Three errors among the progress lines: two progress lines, the two newest errors.
    const mixed = new LogKeeper(room);
    for (let i = 0; i < 12; i++) mixed.add(i * 10, 9, i % 4 === 0 ? "other" : "progress");
    expect(plan(mixed)).toEqual([40, 80, 100, 110]);
    // Progress lines only: all the room.
    const progress = new LogKeeper(room);
    for (let i = 0; i < 10; i++) progress.add(i * 10, 9, "progress");
    expect(plan(progress)).toEqual([60, 70, 80, 90]);
  });

  it("a log within the limits is kept whole", () => {
    const keeper = new LogKeeper(defaultLogLimits);
    for (let i = 0; i < 600; i++) keeper.add(i * 10, 9, undefined);
    expect(plan(keeper)).toHaveLength(500);
    const whole = new LogKeeper(defaultLogLimits);
    for (let i = 0; i < 500; i++) whole.add(i * 10, 9, undefined);
    expect(plan(whole)).toEqual(Array.from({ length: 500 }, (_, i) => i * 10));
  });

  it("counts a line past the line limit by the bytes that will be read of it", () => {
    const keeper = new LogKeeper(limits({ logTailLines: 3, logLines: 3, logBytes: 30, logLineBytes: 10 }));
    keeper.add(0, 1000, undefined);
    keeper.add(1001, 1000, undefined);
    keeper.add(2002, 1000, undefined);
    expect(plan(keeper)).toEqual([0, 1001, 2002]);
  });
});
