// The prompts once for real, on a terminal under tmux (the prompter seam has its own tests with a
// scripted prompter): the built CLI runs in a detached tmux session against a simulated cluster;
// the test reads the screen with capture-pane and types with send-keys, then checks what reached
// the cluster. Each tmux server has its own socket and is killed after the test.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
import { TmuxSession } from "../helpers/terminals.js";
import { ensureBuilt } from "./built-cli.js";
import { type SimCli, simCli, until } from "./sim-cli.js";
import { kvmigInTmux as startInTmux } from "./tmux-cli.js";

beforeAll(ensureBuilt, 120_000);

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

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

/** kvmig in tmux (tmux-cli.ts), killed after the test. */
async function kvmigInTmux(s: SimCli, label: string, args: string[], extraEnv: string[] = [], columns = 100) {
  const t = await startInTmux(s, label, args, extraEnv, columns);
  session = t;
  return t;
}

const question = "VM to migrate (namespace demo; type to filter)";
const demoVms = [
  ["cirros-test", "node-3"],
  ["fedora-web", "node-1"],
  ["legacy-pvc", "node-3"],
  ["rhel-db", "node-2"],
  ["win-app", "node-2"],
] as const;

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape byte is what is looked for.
const sgr = /\u001b\[[0-9;:]*m/;

/** The screen with its line breaks taken out (for text a program wrapped at the width). */
const unwrap = (screen: string) => screen.replace(/\n/g, "");

/** The picker's line for a VM: its name, then its node and phase in columns. */
const rowOf = (vm: string, node: string) => new RegExp(`${vm} +${node} +Running`);

describe.skipIf(!tmux)("under tmux, for real", () => {
  it("migrate with no VM: the picker lists every VM with its node, filters as you type, Enter starts the migration", async () => {
    sim = await simCli();
    const t = await kvmigInTmux(sim, "picker", ["migrate", "-n", "demo", "--no-wait"]);

    const listed = await t.waitFor(
      (screen) => screen.includes(question) && demoVms.every(([vm, node]) => rowOf(vm, node).test(screen)),
      "the picker with all five demo VMs",
    );
    for (const [vm, node] of demoVms) expect(listed).toMatch(rowOf(vm, node));
    // On a terminal the prompt has colours (the run below with NO_COLOR=1 has none).
    expect(await t.screen(true)).toMatch(sgr);
    expect(sim.cluster.store.list(R.vmim.storage)).toEqual([]);

    await t.type("cirr");
    const filtered = await t.waitFor(
      (screen) =>
        /type to filter\) cirr$/m.test(screen) && demoVms.filter(([vm]) => screen.includes(vm)).length === 1,
      "the list narrowed to cirros-test",
    );
    expect(filtered).toMatch(rowOf("cirros-test", "node-3"));
    for (const [vm] of demoVms.filter(([vm]) => vm !== "cirros-test")) expect(filtered).not.toContain(vm);

    await t.press("Enter");
    const end = await t.waitFor((screen) => /^EXIT=\d+$/m.test(screen), "kvmig to end", 30_000);
    expect(end).toMatch(/^EXIT=0$/m);
    expect(end).toMatch(/migration \S+ started for demo\/cirros-test on node-3/);

    // The cluster got exactly one migration, of the VM picked.
    const current = sim;
    await until(() => current.migrations("demo", "cirros-test").length > 0);
    expect(current.migrations("demo", "cirros-test")).toHaveLength(1);
    for (const [vm] of demoVms.filter(([vm]) => vm !== "cirros-test"))
      expect(current.migrations("demo", vm)).toEqual([]);
  }, 60_000);

  it("restart with no VM under NO_COLOR=1: the picker draws without colours; Ctrl-C leaves it, exit 130, nothing restarted", async () => {
    sim = await simCli();
    const before = sim.vmi("demo", "cirros-test").metadata.uid;
    const t = await kvmigInTmux(sim, "nocolor", ["restart", "-n", "demo", "--no-wait"], ["NO_COLOR=1"]);
    await t.waitFor(
      (screen) =>
        screen.includes("VM to restart (namespace demo; type to filter)") &&
        demoVms.every(([vm, node]) => rowOf(vm, node).test(screen)),
      "the restart picker with all five demo VMs",
    );
    const drawn = await t.screen(true);
    expect(drawn.match(new RegExp(sgr.source, "g")) ?? []).toEqual([]);

    await t.press("C-c");
    const end = await t.waitFor((screen) => /^EXIT=\d+$/m.test(screen), "kvmig to end", 30_000);
    expect(end).toMatch(/^EXIT=130$/m);
    expect(end).toMatch(/^error: cancelled at the prompt$/m);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sim.vmi("demo", "cirros-test").metadata.uid).toBe(before);
    expect(
      (sim.cluster.store.get(R.vm.storage, "demo", "cirros-test") as Any)?.status?.stateChangeRequests,
    ).toBeUndefined();
  }, 60_000);

  it.each([
    ["Esc", ["Escape"]],
    // Sent together, as a quick typist's terminal sends them: readline alone would hold the Esc
    // half a second and read both as one Meta-Ctrl-C, which nothing answered.
    ["Esc then Ctrl-C at once", ["Escape", "C-c"]],
  ])(
    "restart with no VM: %s leaves the picker, exit 130, nothing restarted",
    async (_what, keys) => {
      sim = await simCli();
      const before = sim.vmi("demo", "cirros-test").metadata.uid;
      const t = await kvmigInTmux(sim, "escape", ["restart", "-n", "demo", "--no-wait"]);
      await t.waitFor(
        (screen) =>
          screen.includes("VM to restart (namespace demo; type to filter)") &&
          rowOf("win-app", "node-2").test(screen),
        "the restart picker",
      );
      await t.press(...keys);
      // One press is enough: the end comes without a second Ctrl-C.
      const end = await t.waitFor((screen) => /^EXIT=\d+$/m.test(screen), "kvmig to end", 10_000);
      expect(end).toMatch(/^EXIT=130$/m);
      expect(end).toMatch(/^error: cancelled at the prompt$/m);
      expect(sim.vmi("demo", "cirros-test").metadata.uid).toBe(before);
      expect(
        (sim.cluster.store.get(R.vm.storage, "demo", "cirros-test") as Any)?.status?.stateChangeRequests,
      ).toBeUndefined();
    },
    60_000,
  );

  it("migrate with no VM on a narrow terminal: each picker row is cut to the width, none wraps", async () => {
    sim = await simCli();
    // 30 columns: "❯ legacy-pvc    node-3   Running" takes 32.
    const t = await kvmigInTmux(sim, "narrow", ["migrate", "-n", "demo", "--no-wait"], [], 30);
    await t.waitFor((screen) => /^. cirros-test +node-3/m.test(screen), "the picker");
    // capture-pane -J joins what the terminal wrapped: a wrapped row would show longer than 30.
    const rows = (await t.screen())
      .split("\n")
      .filter((line) => /^. [a-z]/.test(line) && /node-|…/.test(line));
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row.length).toBeLessThan(30);
    expect(rows.some((row) => row.endsWith("…"))).toBe(true);
    await t.press("C-c");
    expect(await t.waitFor((screen) => /^EXIT=\d+$/m.test(screen), "kvmig to end")).toMatch(/^EXIT=130$/m);
  }, 60_000);

  it("restart --force: the name typed back at the prompt goes on, and the restart reaches the cluster", async () => {
    sim = await simCli();
    const before = sim.vmi("demo", "cirros-test");
    const t = await kvmigInTmux(sim, "restart", [
      "restart",
      "cirros-test",
      "-n",
      "demo",
      "--force",
      "--no-wait",
    ]);

    // The prompt wraps its long line itself at the terminal's width: read the screen unwrapped.
    const asked = unwrap(
      await t.waitFor(
        (screen) => unwrap(screen).includes("Type the VM's name, cirros-test, to go on:"),
        "the typed-back prompt",
      ),
    );
    // The question names the cluster (context and server) since issue 19 item 2.
    expect(asked).toMatch(
      /\? Force-restart demo\/cirros-test on context sim-admin \(https:\/\/127\.0\.0\.1:\d+\) now \(grace period 0\)\? Type the VM's name/,
    );
    expect(asked).toContain("warning: --force stops the guest at once (grace period 0)");
    // Nothing happens while the question waits.
    expect(sim.vmi("demo", "cirros-test").metadata.uid).toBe(before.metadata.uid);

    await t.type("cirros-test");
    await t.waitFor(
      (screen) => unwrap(screen).includes("to go on: cirros-test"),
      "the typed name on the screen",
    );
    await t.press("Enter");
    const end = await t.waitFor((screen) => /^EXIT=\d+$/m.test(screen), "kvmig to end", 30_000);
    expect(end).toMatch(/^EXIT=0$/m);
    expect(end).toContain("VM demo/cirros-test was scheduled to restart");

    // The restart reached the cluster: the old VMI is going (or gone and replaced).
    const current = sim;
    await until(() => {
      const vmi: Any = current.vmi("demo", "cirros-test");
      const vm: Any = current.cluster.store.get(R.vm.storage, "demo", "cirros-test");
      return (
        vmi === undefined ||
        vmi.metadata.uid !== before.metadata.uid ||
        vmi.metadata.deletionTimestamp !== undefined ||
        (vm?.status?.stateChangeRequests?.length ?? 0) > 0
      );
    });
  }, 60_000);
});
