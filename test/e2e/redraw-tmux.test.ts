// What is redrawn in place, on a real terminal under tmux: the table of `kvmig watch` after a
// Ctrl-C (the terminal echoes "^C" where the cursor is), and the timeline of `kvmig migrate`
// while the terminal is resized under its spinner. The screen is read with capture-pane.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { TmuxSession } from "../helpers/terminals.js";
import { ensureBuilt } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";
import { ended, kvmigInTmux } from "./tmux-cli.js";

beforeAll(ensureBuilt, 120_000);

const tmux = await TmuxSession.available();
if (!tmux) console.log("skipping the tmux tests: tmux is not installed (which tmux finds nothing)");

let sim: SimCli | undefined;
let session: TmuxSession | undefined;
afterEach(async () => {
  await session?.kill();
  session = undefined;
  await sim?.close();
  sim = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!tmux)("redrawn in place, under tmux", () => {
  it("watch: Ctrl-C leaves the table with its header intact (no 'VMVM' where ^C was echoed)", async () => {
    // Slow enough that the migration is still in flight when Ctrl-C comes.
    sim = await simCli({ speed: 0.2 });
    const started = await sim.run(["migrate", "fedora-web", "-n", "demo", "--no-wait"]);
    expect(started.code).toBe(0);
    const t = await kvmigInTmux(sim, "watch-ctrl-c", ["watch", "-n", "demo"]);
    session = t;
    await t.waitFor(
      (screen) => /^VM +PHASE +(TRIGGER +)?SOURCE → TARGET/m.test(screen) && /^fedora-web +\w+/m.test(screen),
      "the table with fedora-web",
    );
    await t.press("C-c");
    const end = await ended(t);
    const header = end.split("\n").find((line) => line.includes("PHASE"));
    // TRIGGER where the terminal has room for it (80 columns here, usually enough).
    expect(header).toMatch(/^VM +PHASE +(TRIGGER +)?SOURCE → TARGET +ELAPSED +PROGRESS$/);
    expect(end).not.toContain("VMVM");
    expect(end).toMatch(
      header?.includes("TRIGGER") ? /^fedora-web +\w+ +user +node-1/m : /^fedora-web +\w+ +node-1/m,
    );
  }, 60_000);

  it("migrate: resizing the terminal under the spinner erases no finished line and leaves no half frame", async () => {
    sim = await simCli({ speed: 1 });
    const t = await kvmigInTmux(sim, "resize", ["migrate", "fedora-web", "-n", "demo"], [], 110);
    session = t;
    await t.waitFor((screen) => /started for demo\/fedora-web/.test(screen), "the migration to start");
    // Narrow and wide again, again and again, until it ends: the spinner's line (about 90
    // columns while Running) wraps at 45 columns and not at 110.
    let done = false;
    const resizing = (async () => {
      for (let i = 0; !done && i < 60; i++) {
        await t.resize(i % 2 === 0 ? 45 : 110);
        await sleep(600);
      }
      await t.resize(110);
    })();
    const end = await ended(t, 45_000).finally(() => {
      done = true;
    });
    await resizing;
    // With what scrolled off the top while the terminal was narrow.
    const screen = await t.screen(false, true);
    expect(end).toMatch(/^EXIT=0$/m);
    // Every finished phase keeps its line, in order, then the summary.
    const timeline = screen
      .split("\n")
      .filter((line) => line.startsWith("✔ "))
      .map((line) => line.split(/ +/)[1]);
    expect(timeline).toEqual([
      "Pending",
      "Scheduling",
      "Scheduled",
      "PreparingTarget",
      "TargetReady",
      "Running",
      "Succeeded",
    ]);
    expect(screen).toMatch(/^Succeeded {2}demo\/fedora-web moved node-1 → node-\d$/m);
    // No piece of a spinner frame is left behind (a braille spinner character starts a frame).
    expect(screen.split("\n").filter((line) => /^[\u2800-\u28ff] /.test(line))).toEqual([]);
  }, 90_000);
});
