import { stripVTControlCharacters } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createIO } from "../../src/io/io.js";
import { createProgress, terminalStream } from "../../src/io/progress.js";
import { bufferedStreams } from "../helpers/buffered-io.js";

describe("progress in a pipe", () => {
  it("prints plain lines, each text once", async () => {
    const b = bufferedStreams();
    const progress = createProgress(createIO(b.streams, {}));
    progress.start("Connecting");
    progress.update("Connecting");
    progress.update("Waiting for target pod");
    progress.update("Waiting for target pod");
    progress.succeed("Migrated vm-1");
    progress.start("Waiting for target pod");
    progress.warn("slow");
    progress.fail("migration failed");
    progress.info("see kvmig diagnose");
    progress.stop();
    await progress.flush();
    expect(b.stderr()).toBe(
      [
        "Connecting",
        "Waiting for target pod",
        "ok: Migrated vm-1",
        "Waiting for target pod",
        "warning: slow",
        "error: migration failed",
        "see kvmig diagnose",
        "",
      ].join("\n"),
    );
    expect(b.stdout()).toBe("");
  });

  it("prints the same text again after stop()", () => {
    const b = bufferedStreams();
    const progress = createProgress(createIO(b.streams, {}));
    progress.start("Polling");
    progress.stop();
    progress.start("Polling");
    expect(b.stderr()).toBe("Polling\nPolling\n");
  });
});

describe.each(["json", "yaml"] as const)("progress in %s mode", (mode) => {
  it("writes nothing, even on a terminal", async () => {
    const b = bufferedStreams({ tty: true });
    const io = createIO(b.streams, {});
    io.setOutputMode(mode);
    const progress = createProgress(io);
    progress.start("Connecting");
    progress.update("Waiting");
    progress.succeed("done");
    progress.fail("bad");
    progress.warn("hmm");
    progress.info("fyi");
    progress.stop();
    await progress.flush();
    expect(b.stderr()).toBe("");
    expect(b.stdout()).toBe("");
  });
});

describe("progress on a terminal", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("spins on stderr and leaves no timers after stop()", async () => {
    const b = bufferedStreams({ tty: true });
    const progress = createProgress(createIO(b.streams, {}));
    progress.start("Connecting");
    await progress.flush();
    expect(b.stderr()).toContain("Connecting");
    expect(vi.getTimerCount()).toBeGreaterThan(0);

    progress.update("Waiting for target pod");
    vi.advanceTimersByTime(500);
    expect(b.stderr()).toContain("Waiting for target pod");

    progress.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(b.stdout()).toBe("");
  });

  it("persists the final line with a symbol", async () => {
    const b = bufferedStreams({ tty: true });
    const progress = createProgress(createIO(b.streams, { NO_COLOR: "1" }));
    progress.start("Migrating");
    await progress.flush();
    progress.succeed("Migrated vm-1");
    expect(b.stderr()).toMatch(/✔ Migrated vm-1\n$/);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("writes the final line at once when it comes before the spinner has loaded", async () => {
    const b = bufferedStreams({ tty: true });
    const progress = createProgress(createIO(b.streams, { NO_COLOR: "1" }));
    progress.start("Connecting");
    progress.fail("connection refused");
    expect(b.stderr()).toBe("✖ connection refused\n");
    await progress.flush();
    expect(b.stderr()).toBe("✖ connection refused\n");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("draws nothing when stopped before the spinner has loaded", async () => {
    const b = bufferedStreams({ tty: true });
    const progress = createProgress(createIO(b.streams, {}));
    progress.start("Connecting");
    progress.stop();
    await progress.flush();
    expect(b.stderr()).toBe("");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("colours the symbols unless colour is off", async () => {
    const b = bufferedStreams({ tty: true });
    const progress = createProgress(createIO(b.streams, {}));
    progress.warn("heads up");
    expect(b.stderr()).toBe("\u001B[33m⚠\u001B[39m heads up\n");
  });
});

describe("the spinner's terminal stream (what keeps a resize from erasing lines)", () => {
  const esc = "\u001B";
  function resizable(columns: number) {
    const written: string[] = [];
    const out = {
      isTTY: true,
      columns,
      write(chunk: string) {
        written.push(chunk);
        return true;
      },
    };
    const stream = terminalStream(out) as unknown as {
      columns: number;
      write(chunk: string): boolean;
      clearLine(dir: -1 | 0 | 1): boolean;
    };
    return { out, stream, written };
  }

  it("cuts each frame to the terminal's width as it is now, and parks the cursor at its start", () => {
    const { out, stream, written } = resizable(100);
    const frame = `${esc}[36m⠋${esc}[39m Running 12s  node-1 → node-3  ${"x".repeat(50)}`;
    stream.write(frame);
    expect(written.at(-1)).toBe(`${frame}\r`);
    out.columns = 40;
    stream.write(frame);
    const drawn = written.at(-1) ?? "";
    // 39 visible characters (the last an ellipsis), the colours kept and closed.
    expect(drawn).toBe(`${esc}[36m⠋${esc}[39m Running 12s  node-1 → node-3  xxxxxx…\r`);
    expect(stripVTControlCharacters(drawn).trimEnd()).toHaveLength(39);
  });

  it("asks a terminal stream for its size before each frame (Node hears of a resize later)", () => {
    const { out, stream, written } = resizable(100);
    // What tty.WriteStream does: read the size from the terminal now.
    Object.assign(out, {
      _refreshSize() {
        out.columns = 30;
      },
    });
    stream.write(`⠋ Running 12s  node-1 → node-3  ${"x".repeat(50)}`);
    expect(written.at(-1)).toBe("⠋ Running 12s  node-1 → node…\r");
  });

  it("tells ora a frame never wraps, clears to the end of the screen, and leaves whole lines alone", () => {
    const { stream, written } = resizable(30);
    // ora clears as many lines as it counts: with this width, one per frame.
    expect(stream.columns).toBeGreaterThan(1_000_000);
    stream.clearLine(1);
    expect(written.at(-1)).toBe(`${esc}[0J`);
    // A persisted line, and a bare escape sequence, go out as they are.
    const line = `✔ Scheduling   2s ${"y".repeat(60)}\n`;
    stream.write(line);
    expect(written.at(-1)).toBe(line);
    stream.write(`${esc}[?25l`);
    expect(written.at(-1)).toBe(`${esc}[?25l`);
  });
});
