// Never a second migration for a VMI, never a deleted VMIM other than the one the user cancelled,
// and after a Ctrl-C in the middle of a write, the next call tells the truth about what happened.
import { afterEach, describe, expect, it } from "vitest";
import type { Prompter } from "../../src/io/prompter.js";
import { NonInteractivePrompter } from "../../src/io/prompter-impl.js";
import type { SimCluster } from "../../src/sim/cluster.js";
import { startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { onTerminal } from "../helpers/terminal-run.js";
import { type SimCli, simCli, until } from "./sim-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

let sim: SimCli | undefined;
let cluster: SimCluster | undefined;
afterEach(async () => {
  await sim?.close();
  await cluster?.close();
  sim = undefined;
  cluster = undefined;
});

describe("never a second migration for a VMI", () => {
  it("five kvmig migrate at once for one VM: one migration, and every run follows it", async () => {
    // Simulated time stands still, so the migration stays unfinished while all five run.
    sim = await simCli({ manualTime: true });
    const s = sim;
    const runs = await Promise.all(
      Array.from({ length: 5 }, () =>
        s.run(["migrate", "fedora-web", "-n", "demo", "--no-wait", "-o", "json"]),
      ),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const migrations = s.migrations("demo", "fedora-web");
    expect(migrations).toHaveLength(1);
    // Each run names the one migration, whether it started it or found it in flight.
    const named = new Set(runs.map((run) => JSON.parse(run.stdout).migration));
    expect([...named]).toEqual([migrations[0].metadata.name]);
  });
});

/** A prompter that, when asked to confirm, first lets `meanwhile` change the cluster. */
function racingPrompter(meanwhile: () => Promise<void>): Prompter {
  const base = new NonInteractivePrompter();
  return {
    ...base,
    interactive: true,
    confirm: async () => {
      await meanwhile();
      return true;
    },
    select: base.select.bind(base),
    search: base.search.bind(base),
    input: base.input.bind(base),
    checkbox: base.checkbox.bind(base),
  };
}

describe("cancel deletes only the migration it showed", () => {
  it("replaced between the question and the answer: nothing is deleted, and it says so (exit 3)", async () => {
    cluster = await startSimCluster({ seed: 7, manualTime: true });
    const c = cluster;
    const store = c.store;
    // An unfinished migration with a fixed name, as a drain's evacuation would make.
    const make = () =>
      store.create(R.vmim, {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstanceMigration",
        metadata: {
          name: "evacuation-1",
          namespace: "demo",
          labels: { "kubevirt.io/vmi-name": "fedora-web" },
        },
        spec: { vmiName: "fedora-web" },
      } as Any);
    const first = make();
    let replacement: Any;
    const prompter = racingPrompter(async () => {
      // While the user reads the question, the migration is replaced by one with the same name.
      const current = store.get(R.vmim.storage, "demo", "evacuation-1") as Any;
      store.update(R.vmim, { ...current, metadata: { ...current.metadata, finalizers: [] } });
      store.delete(R.vmim, "demo", "evacuation-1");
      replacement = make();
    });
    const result = await onTerminal(c, ["cancel", "fedora-web", "-n", "demo", "--no-wait"], prompter);
    expect(result.stderr).toContain(
      "error: migration evacuation-1 of demo/fedora-web was replaced by another one since kvmig read it; nothing was deleted",
    );
    expect(result.stderr).toContain(
      "hint: see the current one with: kvmig watch fedora-web -n demo, then cancel again",
    );
    expect(result.code).toBe(3);
    const left = (store.list(R.vmim.storage, "demo") as Any[]).filter(
      (m) => m.metadata.name === "evacuation-1",
    );
    expect(left.map((m) => m.metadata.uid)).toEqual([replacement.metadata.uid]);
    expect(replacement.metadata.uid).not.toBe(first.metadata.uid);
  });
});

describe("Ctrl-C in the middle, then the next call", () => {
  it("migrate interrupted after the migration started: the next migrate follows that one, no second", async () => {
    sim = await simCli({ manualTime: true });
    const s = sim;
    const running = s.start(["migrate", "cirros-test", "-n", "demo"]);
    await until(() => /migration \S+ started/.test(running.stderr()));
    running.child.kill("SIGINT");
    expect(await running.exited).toBe(130);
    expect(running.stderr()).toMatch(/kvmig watch cirros-test -n demo/);
    const [first] = s.migrations("demo", "cirros-test");
    expect(first).toBeDefined();

    const again = await s.run(["migrate", "cirros-test", "-n", "demo", "--no-wait"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`${first.metadata.name}`);
    expect(again.stderr).toMatch(/already in progress|following/);
    expect(s.migrations("demo", "cirros-test")).toHaveLength(1);
  });

  it("cancel interrupted while waiting for the outcome: the abort stands, and the next cancel says there is nothing left", async () => {
    sim = await simCli({ manualTime: true });
    const s = sim;
    expect((await s.run(["migrate", "rhel-db", "-n", "demo", "--no-wait"])).code).toBe(0);
    const [migration] = s.migrations("demo", "rhel-db");
    const cancelling = s.start(["cancel", "rhel-db", "-n", "demo", "--yes"]);
    await until(() => /abort requested/.test(cancelling.stderr()));
    cancelling.child.kill("SIGINT");
    expect(await cancelling.exited).toBe(130);
    // The delete was sent before the interrupt: the migration is gone or going.
    await until(() => {
      const now = s.migrations("demo", "rhel-db").find((m) => m.metadata.uid === migration.metadata.uid);
      return now === undefined || now.metadata.deletionTimestamp !== undefined;
    });
    const next = await s.run(["cancel", "rhel-db", "-n", "demo", "--yes", "--no-wait"]);
    expect(next.code).toBe(0);
    // Truthful: the abort is already under way (not requested a second time), or it is over.
    expect(`${next.stdout}${next.stderr}`).toMatch(
      new RegExp(
        `the abort of migration ${migration.metadata.name} \\(\\w+\\) was already requested at \\S+|nothing to cancel`,
      ),
    );
    // Never a VMIM of another VM touched.
    expect(s.migrations("demo", "fedora-web")).toEqual([]);
  });
});
