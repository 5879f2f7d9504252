// kvmig outdated's questions: the checkbox picks which VMs to cycle, then with restarts among
// them one question (both, the migrations only, or nothing) whose "nothing" changes nothing. In
// process on a terminal against a simulated cluster, and with scripted answers alone. Also the
// command that "run it again" hints repeat, and --max-failures' validation.
import { afterEach, describe, expect, it } from "vitest";
import { againWords, type BothAnswer, chooseJobs, type OutdatedFlags } from "../../src/commands/outdated.js";
import type { CommandContext } from "../../src/context.js";
import { ExitCode, InterruptedError, type KvmigError, UsageError } from "../../src/errors.js";
import { silentProgress } from "../../src/io/progress.js";
import type { SelectQuestion } from "../../src/io/prompter.js";
import { NonInteractivePrompter } from "../../src/io/prompter-impl.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { FakePrompter } from "../helpers/fake-prompter.js";
import { onTerminal } from "../helpers/terminal-run.js";
import { runCli, testContext } from "../helpers/test-context.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const job = (name: string, action: "migrate" | "restart", node: string) => ({
  namespace: "team-b",
  name,
  vmi: name,
  standalone: false,
  action,
  node,
});

/** The VMIs and VMs of a namespace as the server stores them: their uids and restart requests. */
function serverState(c: SimCluster, namespace: string) {
  return {
    vmis: (c.store.list(R.vmi.storage, namespace) as Any[])
      .map((v) => `${v.metadata.name} ${v.metadata.uid}`)
      .sort(),
    restartRequests: (c.store.list(R.vm.storage, namespace) as Any[]).flatMap(
      (vm) => vm.status?.stateChangeRequests ?? [],
    ),
  };
}

/** A question that names the sim's cluster (its context and loopback URL) between two texts. */
function onSim(before: string, after: string): RegExp {
  const quote = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${quote(before)}context sim-admin \\(https://127\\.0\\.0\\.1:\\d+\\)${quote(after)}$`);
}

describe("kvmig outdated --migrate --restart on a terminal", () => {
  it('the checkbox lists the candidates; "migrations only" migrates and restarts nothing', async () => {
    const prompter = new FakePrompter()
      .expect("checkbox", onSim("Which VMs on ", "? (space toggles, enter starts)"), [
        job("build-cache", "restart", "node-1"),
        job("worker-2", "migrate", "node-2"),
      ])
      .expect(
        "select",
        onSim("Migrate 1 VM live and restart 1 VM with downtime (team-b/build-cache) on ", "?"),
        "migrations",
      );
    cluster = await startSimCluster({ seed: 7, scenario: "upgrade", speed: 2 });
    const before = new Map(
      (cluster.store.list(R.vmi.storage, "team-b") as Any[]).map((v) => [v.metadata.name, v.metadata.uid]),
    );
    const r = await onTerminal(
      cluster,
      ["outdated", "-n", "team-b", "--migrate", "--restart", "-o", "json"],
      prompter,
    );
    prompter.assertDone();
    expect(r.code).toBe(0);
    expect(prompter.asked.map((q) => q.flag)).toEqual(["--yes", "--yes"]);
    expect(prompter.asked[1]?.choices).toEqual([
      "Both: migrate 1 and restart 1 (downtime)",
      "Migrations only: migrate 1, restart none",
      "Nothing: change nothing",
    ]);
    const report = JSON.parse(r.stdout);
    expect(report.results).toHaveLength(1);
    expect(report.results[0]).toMatchObject({ vm: "worker-2", action: "migrate", outcome: "succeeded" });
    const vmis = cluster?.store.list(R.vmi.storage, "team-b") as Any[];
    const uid = (name: string) => vmis.find((v) => v.metadata.name === name).metadata.uid;
    // The restart left out never happened; the migration kept its VMI.
    expect(uid("build-cache")).toBe(before.get("build-cache"));
    expect(uid("worker-2")).toBe(before.get("worker-2"));
    expect(vmis.find((v) => v.metadata.name === "build-cache").metadata.labels).toHaveProperty(
      "kubevirt.io/outdatedLauncherImage",
    );
    expect(vmis.find((v) => v.metadata.name === "worker-2").metadata.labels).not.toHaveProperty(
      "kubevirt.io/outdatedLauncherImage",
    );
  }, 60_000);

  it('"nothing": exit 130, and no migration is created and no VM restarted', async () => {
    const prompter = new FakePrompter()
      .expect("checkbox", onSim("Which VMs on ", "? (space toggles, enter starts)"), [
        job("build-cache", "restart", "node-1"),
        job("worker-2", "migrate", "node-2"),
      ])
      .expect("select", /^Migrate 1 VM live and restart 1 VM with downtime/, "nothing");
    cluster = await startSimCluster({ seed: 7, scenario: "upgrade", speed: 2 });
    const before = serverState(cluster, "team-b");
    expect(before.restartRequests).toEqual([]);
    const r = await onTerminal(cluster, ["outdated", "-n", "team-b", "--migrate", "--restart"], prompter);
    prompter.assertDone();
    expect(r.code).toBe(130);
    expect(r.stderr.trim().split("\n").at(-1)).toBe("error: declined; nothing was migrated or restarted");
    // Give a wrongly started migration or restart the time to show on the server.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(cluster.store.list(R.vmim.storage)).toEqual([]);
    expect(serverState(cluster, "team-b")).toEqual(before);
  }, 60_000);
});

const flags = (changes: Partial<OutdatedFlags> = {}): OutdatedFlags => ({
  allNamespaces: false,
  selector: undefined,
  check: false,
  migrate: true,
  restart: true,
  yes: false,
  concurrency: 2,
  maxFailures: undefined,
  timeout: "15m",
  timeoutMs: 900_000,
  noHeaders: false,
  ...changes,
});

/** A FakePrompter that also records the answer each select starts on. */
class DefaultsPrompter extends FakePrompter {
  readonly defaults: unknown[] = [];
  override async select<T>(q: SelectQuestion<T>): Promise<T> {
    this.defaults.push(q.default);
    return super.select(q);
  }
}

function contextWith(prompter: FakePrompter | NonInteractivePrompter): CommandContext {
  const { ctx } = testContext({ prompter });
  return {
    ...ctx,
    options: { output: "text", requestTimeoutMs: 0, verbose: false },
    kube: async () => fakeKube({}),
    progress: () => silentProgress(),
    debug: () => {},
    setExitCode: () => {},
  };
}

describe("chooseJobs: the question before the restarts", () => {
  const lab = "context lab (https://127.0.0.1:6443)";
  const m1 = job("api", "migrate", "node-1");
  const m2 = job("web", "migrate", "node-2");
  const r1 = job("ledger", "restart", "node-2");
  const all = [m1, r1, m2];

  async function answered(answer: BothAnswer) {
    const prompter = new DefaultsPrompter()
      .expect(
        "checkbox",
        "Which VMs on context lab (https://127.0.0.1:6443)? (space toggles, enter starts)",
        all,
      )
      .expect(
        "select",
        "Migrate 2 VMs live and restart 1 VM with downtime (team-b/ledger) on context lab (https://127.0.0.1:6443)?",
        answer,
      );
    const outcome = await chooseJobs(contextWith(prompter), flags(), all, lab).then(
      (jobs) => ({ jobs, error: undefined }),
      (error: unknown) => ({ jobs: undefined, error }),
    );
    prompter.assertDone();
    return { ...outcome, prompter };
  }

  it('one question with three choices, starting on "nothing"', async () => {
    const { prompter } = await answered("both");
    expect(prompter.asked[1]).toEqual({
      kind: "select",
      message:
        "Migrate 2 VMs live and restart 1 VM with downtime (team-b/ledger) on context lab (https://127.0.0.1:6443)?",
      flag: "--yes",
      choices: [
        "Both: migrate 2 and restart 1 (downtime)",
        "Migrations only: migrate 2, restart none",
        "Nothing: change nothing",
      ],
    });
    expect(prompter.defaults).toEqual(["nothing"]);
  });

  it("both: every chosen job", async () => {
    expect((await answered("both")).jobs).toEqual(all);
  });

  it("migrations only: the migrations, no restart", async () => {
    expect((await answered("migrations")).jobs).toEqual([m1, m2]);
  });

  it("nothing: exit 130 and no job at all", async () => {
    const { jobs, error } = await answered("nothing");
    expect(jobs).toBeUndefined();
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as KvmigError).exitCode).toBe(ExitCode.interrupted);
    expect((error as KvmigError).message).toBe("declined; nothing was migrated or restarted");
  });

  it("restarts only (--restart, or no migration ticked): a yes/no question whose no changes nothing", async () => {
    const prompter = new FakePrompter()
      .expect(
        "checkbox",
        "Which VMs on context lab (https://127.0.0.1:6443)? (space toggles, enter starts)",
        [r1],
      )
      .expect(
        "confirm",
        "Restart 1 VM with downtime (team-b/ledger) on context lab (https://127.0.0.1:6443)?",
        false,
      );
    const error = await chooseJobs(contextWith(prompter), flags({ migrate: false }), [r1], lab).then(
      () => undefined,
      (e: unknown) => e,
    );
    prompter.assertDone();
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as KvmigError).exitCode).toBe(130);
    expect((error as KvmigError).message).toBe("declined; nothing was migrated or restarted");
  });

  it("migrations only among the candidates: no question after the checkbox", async () => {
    const prompter = new FakePrompter().expect(
      "checkbox",
      "Which VMs on context lab (https://127.0.0.1:6443)? (space toggles, enter starts)",
      [m2],
    );
    expect(await chooseJobs(contextWith(prompter), flags(), [m1, m2], lab)).toEqual([m2]);
    prompter.assertDone();
  });

  it("--yes: no question, every candidate", async () => {
    expect(await chooseJobs(contextWith(new FakePrompter()), flags({ yes: true }), all, lab)).toEqual(all);
  });

  it("without a terminal and without --yes: exit 2 naming --yes, before anything", async () => {
    const error = await chooseJobs(contextWith(new NonInteractivePrompter()), flags(), all, lab).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as KvmigError).exitCode).toBe(2);
    expect((error as KvmigError).message).toBe(
      '"Migrate 2 VMs live and restart 1 VM with downtime (team-b/ledger) on context lab (https://127.0.0.1:6443)?" needs an answer and there is no terminal to ask on',
    );
    expect((error as KvmigError).hint).toBe("pass --yes");
  });
});

describe("againWords: the command that goes on after Ctrl-C", () => {
  it("the whole command: scope, selector, actions, limits and output; defaults left out", () => {
    expect(
      againWords(
        flags({
          allNamespaces: true,
          selector: " app=web ",
          check: true,
          concurrency: 3,
          maxFailures: 0,
          timeout: "30m",
          noHeaders: true,
        }),
        ["-A"],
        "wide",
      ),
    ).toEqual([
      "outdated",
      "-A",
      "-l",
      "app=web",
      "--check",
      "--migrate",
      "--restart",
      "--concurrency",
      "3",
      "--max-failures",
      "0",
      "--timeout",
      "30m",
      "--no-headers",
      "-o",
      "wide",
    ]);
  });

  it("--yes only when the user gave it; the flags not given stay out", () => {
    expect(againWords(flags({ restart: false }), ["-n", "apps"], "text")).toEqual([
      "outdated",
      "-n",
      "apps",
      "--migrate",
    ]);
    expect(againWords(flags({ yes: true, maxFailures: 4 }), ["-n", "apps"], "json")).toEqual([
      "outdated",
      "-n",
      "apps",
      "--migrate",
      "--restart",
      "--yes",
      "--max-failures",
      "4",
      "-o",
      "json",
    ]);
  });
});

describe("--max-failures on the command line", () => {
  it.each(["-1", "two", "1.5"])("%j: exit 2 with a hint, before any cluster is read", async (value) => {
    const r = await runCli(["outdated", "--migrate", "--max-failures", value]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([
      `error: invalid --max-failures "${value}"`,
      "hint: give a whole number of 0 or more, e.g. --max-failures 3 (0: never stop for failures)",
    ]);
  });

  it("the help says what it does, its default and that 0 is no limit", async () => {
    const r = await runCli(["outdated", "--help"]);
    const help = r.stdout.replace(/\s+/g, " ");
    expect(help).toContain("--max-failures <n>");
    expect(help).toContain(
      "default 1 when every failure has the same cause diagnose names, else 3; 0 for no limit",
    );
  });
});
