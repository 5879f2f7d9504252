// A script with no terminal never hangs on a prompt: every command that can prompt (the VM
// picker, a confirmation, the typed-back name of --force, the outdated checklist) runs the built
// CLI with stdin closed (a pipe ended at once, and /dev/null) and stdout and stderr pipes, against
// a fresh simulated cluster. A kill timer bounds each run: a process waiting on a prompt is
// killed and the test fails. The server's own state shows that nothing was changed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { hasScript, runInPty, runWithoutTerminal, type StdinMode, shQuote } from "../helpers/terminals.js";
import { distEntry, ensureBuilt, lines, repoRoot } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

/** Long enough for a whole command on a busy machine; a prompt waits for ever. */
const killAfterMs = 15_000;

const sims: SimCli[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

/** The API requests the server answered (its log also carries the controllers' lines). */
type Requests = string[];

async function freshSim(scenario: string, options: { manualTime?: boolean; speed?: number } = {}) {
  const requests: Requests = [];
  const sim = await simCli({
    scenario,
    ...options,
    log: (line) => {
      if (/^(GET|POST|PUT|PATCH|DELETE) \//.test(line)) requests.push(line);
    },
  });
  sims.push(sim);
  return { sim, requests };
}

function uids(sim: SimCli, namespace?: string): string[] {
  return (sim.cluster.store.list(R.vmi.storage, namespace) as Any[])
    .map((v) => `${v.metadata.namespace}/${v.metadata.name}=${v.metadata.uid}`)
    .sort();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A line that names the sim's cluster, its context and loopback URL, between two texts. */
function onSimCluster(before: string, after: string) {
  const quote = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const cluster = String.raw`context sim-admin \(https://127\.0\.0\.1:\d+\)`;
  return expect.stringMatching(new RegExp(`^${quote(before)}${cluster}${quote(after)}$`));
}

interface Case {
  title: string;
  scenario?: string;
  manualTime?: boolean;
  speed?: number;
  args: string[];
  /** Runs before the command; what it returns goes to `stderr` and `after`. */
  setup?: (sim: SimCli) => Promise<Any>;
  code: number;
  /** The whole of stderr, as lines (strings, or matchers). */
  stderr: (state: Any) => unknown[];
  stdout?: (state: Any) => unknown[];
  /** Nothing reached the API server: the usage error came before the kubeconfig was read. */
  noRequests?: boolean;
  /** What the server holds afterwards. */
  after: (sim: SimCli, state: Any, before: string[]) => Promise<void> | void;
  timeoutMs?: number;
}

function missingVm(command: string, purpose: string, extra = ""): string[] {
  return [
    `error: missing required argument VM (${purpose})`,
    `hint: kvmig ${command} VM -n demo${extra}; on a terminal kvmig offers a list to choose from`,
  ];
}

/** The VMI uids are what they were, and no VM has a pending state change. */
function nothingRestarted(sim: SimCli, before: string[]) {
  expect(uids(sim)).toEqual(before);
  for (const vmi of sim.cluster.store.list(R.vmi.storage) as Any[])
    expect(vmi.metadata.deletionTimestamp).toBeUndefined();
  for (const vm of sim.cluster.store.list(R.vm.storage) as Any[])
    expect(vm.status?.stateChangeRequests).toBeUndefined();
}

const noMigrations = (sim: SimCli) => expect(sim.cluster.store.list(R.vmim.storage)).toEqual([]);

const cases: Case[] = [
  {
    title: "migrate with no VM (the picker)",
    args: ["migrate", "-n", "demo"],
    code: 2,
    stderr: () => missingVm("migrate", "the VM to migrate"),
    noRequests: true,
    after: async (sim) => {
      await sleep(500);
      noMigrations(sim);
    },
  },
  {
    title: "cancel with no VM (the picker)",
    args: ["cancel", "-n", "demo"],
    code: 2,
    stderr: () => missingVm("cancel", "the VM whose migration to cancel"),
    noRequests: true,
    after: noMigrations,
  },
  {
    title: "cancel of a running migration (the confirmation)",
    // Manual time: the migration stays where it is until the test moves the clock, never.
    manualTime: true,
    args: ["cancel", "rhel-db", "-n", "demo"],
    setup: async (sim) => {
      const started = await sim.run(["migrate", "rhel-db", "-n", "demo", "--no-wait"]);
      expect(started.stderr).not.toMatch(/^error:/m);
      expect(started.code).toBe(0);
      const [vmim] = sim.migrations("demo", "rhel-db");
      expect(vmim).toBeDefined();
      return vmim;
    },
    code: 2,
    stderr: (vmim) => [
      onSimCluster(
        `error: "Cancel migration ${vmim.metadata.name} of demo/rhel-db (${vmim.status?.phase || "Pending"}, on node-2) on `,
        '?" needs an answer and there is no terminal to ask on',
      ),
      "hint: pass --yes",
    ],
    after: (sim, vmim) => {
      const now = sim.migrations("demo", "rhel-db");
      expect(now.map((m) => m.metadata.uid)).toEqual([vmim.metadata.uid]);
      expect(now[0].metadata.deletionTimestamp).toBeUndefined();
    },
  },
  {
    title: "restart (the yes/no confirmation)",
    args: ["restart", "cirros-test", "-n", "demo"],
    code: 2,
    stderr: () => [
      "warning: restarting demo/cirros-test stops its guest: it is down until the new VMI runs (usually tens of seconds, longer for big VMs)",
      expect.stringMatching(/^ {2}running on node-3 for \S+, phase Running$/),
      "  launcher quay.io/kubevirt/virt-launcher:v1.8.2 (outdated; the restart starts quay.io/kubevirt/virt-launcher:v1.9.0)",
      onSimCluster(
        'error: "Restart demo/cirros-test on ',
        ' now?" needs an answer and there is no terminal to ask on',
      ),
      "hint: pass --yes",
    ],
    after: async (sim, _state, before) => {
      await sleep(1000);
      nothingRestarted(sim, before);
    },
  },
  {
    title: "restart --force (the typed-back name)",
    args: ["restart", "cirros-test", "-n", "demo", "--force"],
    code: 2,
    stderr: () => [
      "warning: restarting demo/cirros-test stops its guest: it is down until the new VMI runs (usually tens of seconds, longer for big VMs)",
      expect.stringMatching(/^ {2}running on node-3 for \S+, phase Running$/),
      "  launcher quay.io/kubevirt/virt-launcher:v1.8.2 (outdated; the restart starts quay.io/kubevirt/virt-launcher:v1.9.0)",
      "warning: --force stops the guest at once (grace period 0): writes not yet on disk may be lost",
      onSimCluster(
        'error: "Force-restart demo/cirros-test on ',
        ` now (grace period 0)? Type the VM's name, cirros-test, to go on" needs an answer and there is no terminal to ask on`,
      ),
      "hint: pass --yes",
    ],
    after: async (sim, _state, before) => {
      await sleep(1000);
      nothingRestarted(sim, before);
    },
  },
  {
    title: "restart with no VM (the picker)",
    args: ["restart", "-n", "demo"],
    code: 2,
    stderr: () => missingVm("restart", "the VM to restart"),
    noRequests: true,
    after: (sim, _state, before) => nothingRestarted(sim, before),
  },
  {
    title: "diagnose with no VM (the picker)",
    args: ["diagnose", "-n", "demo"],
    code: 2,
    stderr: () => missingVm("diagnose", "the VM to diagnose", ", or --from DIR for saved evidence"),
    noRequests: true,
    after: noMigrations,
  },
  {
    title: "watch --pick (the picker)",
    args: ["watch", "--pick", "-n", "demo"],
    code: 2,
    stderr: () => missingVm("watch", "the VM to watch"),
    noRequests: true,
    after: noMigrations,
  },
  {
    title: "outdated -A --restart (the confirmation of the downtime)",
    scenario: "upgrade",
    args: ["outdated", "-A", "--restart"],
    code: 2,
    // The listing comes first; the question only when it is time to act.
    stdout: () => ["", "8 outdated VMIs in all namespaces: 5 to migrate, 3 to restart (downtime)"],
    stderr: () => [
      onSimCluster(
        'error: "Restart 3 VMs with downtime (apps/ledger, apps/legacy-bridge, team-b/build-cache) on ',
        '?" needs an answer and there is no terminal to ask on',
      ),
      "hint: pass --yes",
    ],
    after: async (sim, _state, before) => {
      await sleep(1000);
      nothingRestarted(sim, before);
      noMigrations(sim);
    },
  },
  {
    // Live migration does not stop a guest: without a terminal there is no checklist to offer,
    // and nothing to confirm, so every migratable outdated VM is migrated (as with --yes).
    title: "outdated -A --migrate (no checklist without a terminal: it goes ahead)",
    scenario: "upgrade",
    speed: 4,
    args: ["outdated", "-A", "--migrate"],
    code: 0,
    stderr: () => [
      expect.stringMatching(/^cycling 5 VMs \(5 to migrate, 0 to restart\), \d+ at a time$/),
      // Without a terminal: no progress bar, one plain line per VM.
      ...Array.from({ length: 5 }, () =>
        expect.stringMatching(/^ok: migrated \S+\/\S+ node-\d → node-\d in \d+s$/),
      ),
    ],
    stdout: () => [expect.anything(), "5 succeeded, 0 failed, 0 timed out, 0 not started"],
    after: (sim, _state, before) => {
      const migrated = (sim.cluster.store.list(R.vmim.storage) as Any[])
        .map((m) => `${m.metadata.namespace}/${m.spec.vmiName} ${m.status?.phase}`)
        .sort();
      expect(migrated).toEqual([
        "apps/api Succeeded",
        "apps/web-1 Succeeded",
        "apps/web-2 Succeeded",
        "apps/worker-1 Succeeded",
        "team-b/worker-2 Succeeded",
      ]);
      // The three that only a restart updates were left alone.
      const restartOnly = ["apps/ledger", "apps/legacy-bridge", "team-b/build-cache"];
      const kept = (list: string[]) => list.filter((u) => restartOnly.some((vm) => u.startsWith(`${vm}=`)));
      expect(kept(uids(sim))).toEqual(kept(before));
      expect(kept(before)).toHaveLength(3);
    },
    timeoutMs: 60_000,
  },
];

const stdinModes: StdinMode[] = ["closed pipe", "/dev/null"];

describe.concurrent("without a terminal, every command that can prompt ends by itself", () => {
  for (const c of cases) {
    for (const stdin of stdinModes) {
      it(
        `${c.title}, stdin ${stdin}: exit ${c.code}`,
        async () => {
          const { sim, requests } = await freshSim(c.scenario ?? "default", {
            manualTime: c.manualTime,
            speed: c.speed,
          });
          const state = await c.setup?.(sim);
          const before = uids(sim);
          const requestsBefore = requests.length;
          const result = await runWithoutTerminal(process.execPath, [distEntry, ...c.args], {
            env: sim.env,
            cwd: repoRoot,
            stdin,
            killAfterMs: c.timeoutMs ?? killAfterMs,
          });
          // It ended by itself: not killed by the timer, no signal.
          expect({ killed: result.killed, signal: result.signal }).toEqual({ killed: false, signal: null });
          expect(lines(result.stderr)).toEqual(c.stderr(state));
          expect(result.code).toBe(c.code);
          if (c.stdout) expect(lines(result.stdout).slice(-2)).toEqual(c.stdout(state));
          else expect(result.stdout).toBe("");
          // The server's request log works: the commands that get that far do reach it.
          if (c.noRequests) expect(requests.slice(requestsBefore)).toEqual([]);
          else expect(requests.length).toBeGreaterThan(requestsBefore);
          await c.after(sim, state, before);
        },
        (c.timeoutMs ?? killAfterMs) + 20_000,
      );
    }
  }
});

// Prompts need both ends of a terminal: stdin to read the answer, stderr to draw on. On a
// terminal with either one redirected, the question is still a usage error, not a wait.
describe.skipIf(!hasScript()).concurrent("half a terminal is no terminal", () => {
  const halves = [
    {
      title: "stderr to a file: migrate with no VM",
      args: ["migrate", "-n", "demo"],
      redirect: (file: string) => ` 2>${shQuote(file)}; echo EXIT=$?`,
      stderr: missingVm("migrate", "the VM to migrate"),
    },
    {
      title: "stdin from /dev/null: restart",
      args: ["restart", "cirros-test", "-n", "demo"],
      redirect: (file: string) => ` </dev/null 2>${shQuote(file)}; echo EXIT=$?`,
      stderr: [
        onSimCluster(
          'error: "Restart demo/cirros-test on ',
          ' now?" needs an answer and there is no terminal to ask on',
        ),
        "hint: pass --yes",
      ],
    },
  ];
  for (const h of halves) {
    it(`${h.title}: exit 2, on its own`, async () => {
      const { sim } = await freshSim("default");
      const before = uids(sim);
      const errFile = join(tempDir(), "stderr");
      const line = [process.execPath, distEntry, ...h.args].map(shQuote).join(" ");
      const result = await runInPty(`${line}${h.redirect(errFile)}`, {
        env: { ...sim.env, TERM: "xterm-256color" },
        cwd: repoRoot,
        killAfterMs,
      });
      expect(result.killed).toBe(false);
      expect(result.screen).toMatch(/^EXIT=2\r?$/m);
      expect(lines(readFileSync(errFile, "utf8")).slice(-2)).toEqual(h.stderr);
      await sleep(500);
      nothingRestarted(sim, before);
      noMigrations(sim);
    }, 40_000);
  }
});

describe("the kill timer", () => {
  it("does catch a process that never ends by itself (so a hang would fail the tests above)", async () => {
    // A shell whose child holds the pipes: the whole process group is killed, not just the shell.
    const hang = await runWithoutTerminal("/bin/sh", ["-c", "sleep 30; echo never"], {
      env: { PATH: "/usr/bin:/bin" },
      stdin: "closed pipe",
      killAfterMs: 300,
    });
    expect(hang).toMatchObject({ killed: true, signal: "SIGKILL", stdout: "" });
    expect(hang.elapsedMs).toBeLessThan(5_000);
    // `cat` reads its stdin to the end: a closed pipe ends it at once.
    const ends = await runWithoutTerminal("/bin/cat", [], {
      env: { PATH: "/usr/bin:/bin" },
      stdin: "closed pipe",
      killAfterMs: 5_000,
    });
    expect(ends).toMatchObject({ killed: false, code: 0, signal: null });
  });
});
