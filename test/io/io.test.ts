import { Chalk } from "chalk";
import { describe, expect, it, vi } from "vitest";
import { createIO } from "../../src/io/io.js";
import type { Streams } from "../../src/io/streams.js";
import { ownCsi, toTerminal, untag } from "../../src/io/untrusted.js";
import { bufferedStreams } from "../helpers/buffered-io.js";

const ESC = "\u001B[";

describe("createIO", () => {
  it("reports terminal facts", () => {
    const { streams } = bufferedStreams({ tty: true, columns: 120 });
    const io = createIO(streams, {});
    expect(io).toMatchObject({
      stdoutIsTTY: true,
      stderrIsTTY: true,
      stdinIsTTY: true,
      interactive: true,
      columns: 120,
    });
  });

  it("is interactive only when stdin and stderr are terminals", () => {
    expect(createIO(bufferedStreams({ tty: true, stdinTTY: false }).streams, {}).interactive).toBe(false);
    expect(createIO(bufferedStreams({ tty: true, stderrTTY: false }).streams, {}).interactive).toBe(false);
    expect(createIO(bufferedStreams({ tty: true, stdoutTTY: false }).streams, {}).interactive).toBe(true);
  });

  it("defaults to 80 columns", () => {
    expect(createIO(bufferedStreams().streams, {}).columns).toBe(80);
  });

  it("reads the width on every use, so a resized terminal is measured as it is now", () => {
    const { streams } = bufferedStreams({ tty: true, columns: 120 });
    let columns = 120;
    const resizable: Streams = {
      ...streams,
      stdout: {
        isTTY: true,
        get columns() {
          return columns;
        },
        write: (chunk) => streams.stdout.write(chunk),
      },
    };
    const io = createIO(resizable, {});
    expect(io.columns).toBe(120);
    columns = 50;
    expect(io.columns).toBe(50);
  });

  it("TERM=dumb is treated like a pipe: no terminal facts, no colour, no prompts", () => {
    const { streams } = bufferedStreams({ tty: true, columns: 120 });
    const io = createIO(streams, { TERM: "dumb" });
    expect(io).toMatchObject({ stdoutIsTTY: false, stderrIsTTY: false, interactive: false });
    expect(io.colors.enabled).toBe(false);
    expect(io.errColors.enabled).toBe(false);
    expect(io.colors.bold("x") + io.errColors.error("y")).toBe("xy");
    // Any other terminal type is a terminal.
    const xterm = createIO(bufferedStreams({ tty: true }).streams, { TERM: "xterm-256color" });
    expect(xterm).toMatchObject({ stdoutIsTTY: true, stderrIsTTY: true, interactive: true });
  });

  it("writes lines to stdout and stderr", () => {
    const b = bufferedStreams();
    const io = createIO(b.streams, {});
    io.out("data");
    io.err("note");
    expect(b.stdout()).toBe("data\n");
    expect(b.stderr()).toBe("note\n");
  });

  it("looks at stdin and stderr only when asked (kvmig --help opens neither)", () => {
    const { streams } = bufferedStreams({ tty: true, columns: 100 });
    const looked: string[] = [];
    const watched: Streams = {
      stdout: streams.stdout,
      get stdin() {
        looked.push("stdin");
        return streams.stdin;
      },
      get stderr() {
        looked.push("stderr");
        return streams.stderr;
      },
    };
    const io = createIO(watched, {});
    io.out("help");
    expect(io.colors.bold("x")).toContain(ESC);
    expect(looked).toEqual([]);
    expect(io.columns).toBe(100);
    expect(looked).toEqual([]);
    expect(io.interactive).toBe(true);
    expect(looked).toEqual(["stderr", "stdin"]);
    // Each is asked once.
    expect(io.stderrIsTTY && io.stdinIsTTY).toBe(true);
    expect(looked).toEqual(["stderr", "stdin"]);
  });

  it("switches output mode", () => {
    const io = createIO(bufferedStreams().streams, {});
    expect(io.mode).toBe("text");
    io.setOutputMode("json");
    expect(io.mode).toBe("json");
  });
});

describe("colour", () => {
  it("is on for a terminal", () => {
    const io = createIO(bufferedStreams({ tty: true }).streams, {});
    expect(io.colors.ok("fine")).toContain(ESC);
    expect(io.errColors.error("bad")).toContain(ESC);
    expect(io.colors.enabled).toBe(true);
  });

  it("is off for a pipe", () => {
    const io = createIO(bufferedStreams({ tty: false }).streams, {});
    for (const style of ["bold", "dim", "ok", "warn", "error", "accent", "phase"] as const) {
      expect(io.colors[style]("text")).toBe("text");
      expect(io.errColors[style]("text")).toBe("text");
    }
    expect(io.colors.enabled).toBe(false);
  });

  it("is decided per stream", () => {
    const io = createIO(bufferedStreams({ stdoutTTY: false, stderrTTY: true }).streams, {});
    expect(io.colors.bold("x")).toBe("x");
    expect(io.errColors.bold("x")).toContain(ESC);
  });

  it("is off when NO_COLOR is set and non-empty", () => {
    const { streams } = bufferedStreams({ tty: true });
    expect(createIO(streams, { NO_COLOR: "1" }).colors.ok("x")).toBe("x");
    expect(createIO(streams, { NO_COLOR: "" }).colors.ok("x")).toContain(ESC);
  });

  it("is off after setColor(false), and setColor(true) cannot force it on", () => {
    const io = createIO(bufferedStreams({ tty: true }).streams, {});
    const bold = io.colors.bold;
    io.setColor(false);
    expect(bold("x")).toBe("x");
    expect(io.errColors.ok("x")).toBe("x");
    io.setColor(true);
    expect(io.colors.ok("x")).toContain(ESC);

    const noColor = createIO(bufferedStreams({ tty: true }).streams, { NO_COLOR: "1" });
    noColor.setColor(true);
    expect(noColor.colors.ok("x")).toBe("x");
    const pipe = createIO(bufferedStreams().streams, {});
    pipe.setColor(true);
    expect(pipe.colors.ok("x")).toBe("x");
  });

  it("styles text byte for byte as chalk does at level 1", () => {
    const chalk = new Chalk({ level: 1 });
    const io = createIO(bufferedStreams({ tty: true }).streams, {});
    const pairs = [
      [io.colors.bold, chalk.bold],
      [io.colors.dim, chalk.dim],
      [io.colors.ok, chalk.green],
      [io.colors.warn, chalk.yellow],
      [io.colors.error, chalk.red],
      [io.colors.accent, chalk.cyan],
    ] as const;
    const texts = [
      "",
      "plain",
      "two\nlines\n",
      "windows\r\nline\r\n\n",
      `a ${chalk.dim("dim")} and ${chalk.green("green")} word`,
      `${chalk.bold("bold")}\n${chalk.red("red\nacross")}`,
      "\u001B[22m\u001B[39m",
    ];
    // Our colours are kvmig's own sequences (untrusted.ts), written plain by the streams (untag):
    // a text that holds some holds ours, and what reaches the terminal is chalk's, byte for byte.
    const own = (text: string) => text.replaceAll("\u001B[", ownCsi(""));
    for (const [ours, theirs] of pairs) {
      for (const text of texts) expect(untag(ours(own(text)))).toBe(theirs(text));
    }
    expect(untag(io.colors.accent(io.colors.bold("<enter>")))).toBe(chalk.cyan(chalk.bold("<enter>")));
    const b = bufferedStreams({ tty: true });
    const written = createIO(b.streams, {});
    written.out(written.colors.error("red"));
    expect(b.stdout()).toBe(`${chalk.red("red")}\n`);
  });

  it("shows an escape from elsewhere in coloured text as ^[, and keeps kvmig's own", () => {
    const chalk = new Chalk({ level: 1 });
    const io = createIO(bufferedStreams({ tty: true }).streams, {});
    const foreign = "evil\u001B[2Jtext\u001B[39m";
    expect(toTerminal(io.colors.ok(foreign))).toBe(chalk.green("evil^[[2Jtext^[[39m"));
    expect(toTerminal(io.colors.ok(`${io.colors.bold("b")} ${foreign}`))).toBe(
      chalk.green(`${chalk.bold("b")} evil^[[2Jtext^[[39m`),
    );
  });

  it("colours phases by outcome", () => {
    const io = createIO(bufferedStreams({ tty: true }).streams, {});
    expect(io.colors.phase("Succeeded")).toBe(io.colors.ok("Succeeded"));
    expect(io.colors.phase("Failed")).toBe(io.colors.error("Failed"));
    expect(io.colors.phase("Running")).toBe(io.colors.accent("Running"));
  });
});

describe("chalk, loaded only when a run may colour", () => {
  /** A fresh io.ts (chalk not loaded yet), with chalk's import() counted. */
  async function freshIo() {
    vi.resetModules();
    const imports = { chalk: 0 };
    vi.doMock("chalk", async () => {
      imports.chalk++;
      return vi.importActual("chalk");
    });
    const module = await import("../../src/io/io.js");
    // The fresh io.ts's own escapes are those of its fresh untrusted.ts.
    const { untag: freshUntag } = await import("../../src/io/untrusted.js");
    return { createIO: module.createIO, untag: freshUntag, imports };
  }

  it("colours are plain until prepareColor has loaded chalk, then chalk's at level 1", async () => {
    const { createIO: create, untag: freshUntag, imports } = await freshIo();
    const io = create(bufferedStreams({ tty: true }).streams, {});
    expect(io.colors.enabled).toBe(false);
    expect(io.colors.ok("x")).toBe("x");
    await io.prepareColor();
    expect(imports.chalk).toBe(1);
    expect(io.colors.enabled).toBe(true);
    expect(freshUntag(io.colors.ok("x"))).toBe(new Chalk({ level: 1 }).green("x"));
    // Loaded once for every IO of the process.
    await create(bufferedStreams({ tty: true }).streams, {}).prepareColor();
    expect(imports.chalk).toBe(1);
  });

  const off: Record<string, (create: typeof createIO) => ReturnType<typeof createIO>> = {
    "stdout and stderr pipes": (create) => create(bufferedStreams({ tty: false }).streams, {}),
    NO_COLOR: (create) => create(bufferedStreams({ tty: true }).streams, { NO_COLOR: "1" }),
    "TERM=dumb": (create) => create(bufferedStreams({ tty: true }).streams, { TERM: "dumb" }),
    "--no-color (setColor(false))": (create) => {
      const io = create(bufferedStreams({ tty: true }).streams, {});
      io.setColor(false);
      return io;
    },
  };
  for (const [what, make] of Object.entries(off)) {
    it(`${what}: prepareColor does not load chalk`, async () => {
      const { createIO: create, imports } = await freshIo();
      const io = make(create);
      await io.prepareColor();
      expect(imports.chalk).toBe(0);
      expect(io.colors.ok("x") + io.errColors.ok("y")).toBe("xy");
    });
  }

  it("stderr alone on a terminal: chalk loads, stderr is coloured and stdout not", async () => {
    const { createIO: create, imports } = await freshIo();
    const io = create(bufferedStreams({ tty: true, stdoutTTY: false }).streams, {});
    await io.prepareColor();
    expect(imports.chalk).toBe(1);
    expect(io.colors.ok("x")).toBe("x");
    expect(io.errColors.ok("y")).toContain(ESC);
  });
});
