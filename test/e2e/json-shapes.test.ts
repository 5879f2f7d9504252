// Every -o json shape the built CLI prints, run for real against the simulated cluster and held to
// its published JSON Schema (docs/schemas/, listed in docs/output.md): the outcomes of migrate
// (followed, failed, timed out, following one already in flight, --no-wait twice, --dry-run),
// watch, cancel (nothing to cancel, dry run, requested, requested again, aborted, nothing left
// after the abort), restart, diagnose, version and the help topics. outdated's schema is held in
// outdated.test.ts. A dry run's result is on stdout, in text as in JSON.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { schemaErrors } from "../helpers/schemas.js";
import { runFor, runUntil } from "../helpers/sim-time.js";
import { ensureBuilt, lines, type RunResult } from "./built-cli.js";
import { type SimCli, simCli, until } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

// biome-ignore lint/suspicious/noExplicitAny: the documents are checked by their schema.
type Any = any;

let sims: SimCli[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function cluster(options: Parameters<typeof simCli>[0]): Promise<SimCli> {
  const sim = await simCli(options);
  sims.push(sim);
  return sim;
}

/** The one JSON document on stdout, held to docs/schemas/`schema`. */
function document(result: RunResult, schema: string): Any {
  const data = JSON.parse(result.stdout);
  expect(schemaErrors(schema, data), `${schema}: ${result.stdout}`).toBe("");
  return data;
}

describe("migrate -o json", () => {
  it("a migration it starts and follows to Succeeded: started true (migration.schema.json)", async () => {
    const sim = await cluster({ speed: 20 });
    const result = await sim.run(["migrate", "cirros-test", "-n", "demo", "-o", "json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const out = document(result, "migration.schema.json");
    expect(out).toMatchObject({ vm: "cirros-test", phase: "Succeeded", started: true });
    expect(out.failureReason).toBeUndefined();

    // watch VM prints the same shape for the same migration; it started nothing.
    const watched = await sim.run(["watch", "cirros-test", "-n", "demo", "-o", "json"]);
    expect(watched.code).toBe(0);
    // The launcher logs no progress after the end: a finished migration has no forecast to show.
    // Nor the bridge networks' addresses, which only migrate reads (cirros-test has none).
    expect(out.networks).toEqual([]);
    expect(document(watched, "migration.schema.json")).toEqual({
      ...out,
      started: false,
      forecast: undefined,
      networks: undefined,
    });

    // watch without a VM: NDJSON, every line a watch event.
    const table = await sim.run(["watch", "-A", "-o", "json", "--exit-on-done"]);
    expect(table.code).toBe(0);
    const events = lines(table.stdout).map((line) => JSON.parse(line));
    expect(events.length).toBeGreaterThan(0);
    for (const event of events)
      expect(schemaErrors("watch-event.schema.json", event), JSON.stringify(event)).toBe("");
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "ADDED",
        vm: "cirros-test",
        migration: out.migration,
        phase: "Succeeded",
      }),
    );
  }, 60_000);

  it("a migration that fails: failureReason and the top findings, exit 3; diagnose's document (exit 7)", async () => {
    const sim = await cluster({ scenario: "version-skew", speed: 50, seed: 1 });
    const result = await sim.run(["migrate", "orders-db", "-n", "prod", "-o", "json", "--force"], 60_000);
    expect(result.code).toBe(3);
    const out = document(result, "migration.schema.json");
    expect(out).toMatchObject({ phase: "Failed", started: true });
    expect(out.failureReason).toMatch(/client socket is closed/);
    expect(out.findings[0].id).toBe("version-skew");

    const diagnosed = await sim.run(["diagnose", "orders-db", "-n", "prod", "-o", "json"]);
    expect(diagnosed.code).toBe(7);
    const report = document(diagnosed, "diagnose.schema.json");
    expect(report).toMatchObject({ status: "ProblemsFound" });
    expect(report.findings[0].id).toBe("version-skew");
  }, 90_000);

  it("--no-wait twice: the first started one, the second started nothing and names the one in flight; --dry-run would follow it; a follow that times out", async () => {
    const sim = await cluster({ manualTime: true });
    const first = await sim.run(["migrate", "rhel-db", "-n", "demo", "--no-wait", "-o", "json"]);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe("");
    const started = document(first, "migrate-no-wait.schema.json");
    expect(started).toMatchObject({ vm: "rhel-db", namespace: "demo", started: true });
    const [stored] = sim.migrations("demo", "rhel-db");
    expect(started.migration).toBe(stored.metadata.name);

    const second = await sim.run(["migrate", "rhel-db", "-n", "demo", "--no-wait", "-o", "json"]);
    expect(second.code).toBe(0);
    expect(document(second, "migrate-no-wait.schema.json")).toEqual({ ...started, started: false });
    expect(sim.migrations("demo", "rhel-db")).toHaveLength(1);
    // In text too: it says that it started none, not that it started this one.
    const text = await sim.run(["migrate", "rhel-db", "-n", "demo", "--no-wait"]);
    expect(text.code).toBe(0);
    expect(lines(text.stdout)).toEqual([
      `migration ${started.migration} was already in progress (${stored.status?.phase || "Pending"}); no other was started; follow it with: kvmig watch rhel-db -n demo`,
    ]);

    const dry = await sim.run(["migrate", "rhel-db", "-n", "demo", "--dry-run", "-o", "json"]);
    expect(dry.code).toBe(0);
    expect(document(dry, "migrate-dry-run.schema.json")).toMatchObject({
      dryRun: true,
      wouldFollow: started.migration,
    });

    // Simulated time stands still: the follow times out (exit 6), the document still printed.
    const follow = await sim.run(["migrate", "rhel-db", "-n", "demo", "-o", "json", "--timeout", "1s"]);
    expect(follow.code).toBe(6);
    expect(document(follow, "migration.schema.json")).toMatchObject({
      migration: started.migration,
      started: false,
      endedAt: null,
    });
    expect(sim.migrations("demo", "rhel-db")).toHaveLength(1);
  }, 60_000);
});

describe("cancel -o json", () => {
  it("nothing to cancel; a dry run; requested; requested again (alreadyRequestedAt); aborted; then nothing to cancel again", async () => {
    const sim = await cluster({ manualTime: true });
    const cancel = (...more: string[]) => sim.run(["cancel", "rhel-db", "-n", "demo", "-o", "json", ...more]);

    const none = await cancel();
    expect(none.code).toBe(0);
    expect(document(none, "cancel.schema.json")).toEqual({
      vm: "rhel-db",
      namespace: "demo",
      outcome: "nothing-to-cancel",
      migration: null,
      evacuationNodeName: null,
    });

    expect((await sim.run(["migrate", "rhel-db", "-n", "demo", "--no-wait"])).code).toBe(0);
    const [m] = sim.migrations("demo", "rhel-db");
    // Running: an abort then takes the source launcher a while, so the request stays pending.
    await runUntil(sim.cluster, () => sim.migrations("demo", "rhel-db")[0]?.status?.phase === "Running");

    const dry = await cancel("--dry-run");
    expect(dry.code).toBe(0);
    expect(document(dry, "cancel.schema.json")).toMatchObject({
      outcome: "dry-run",
      migration: m.metadata.name,
      phase: "Running",
      alreadyRequestedAt: null,
    });

    const requested = await cancel("--yes", "--no-wait");
    expect(requested.code).toBe(0);
    expect(document(requested, "cancel.schema.json")).toMatchObject({
      outcome: "requested",
      migration: m.metadata.name,
      alreadyRequestedAt: null,
    });
    const deleting = sim.migrations("demo", "rhel-db").find((x) => x.metadata.uid === m.metadata.uid);
    expect(deleting?.metadata.deletionTimestamp).toBeDefined();

    // A second cancel requests nothing: the data says when the first one did.
    const again = await cancel("--yes", "--no-wait");
    expect(again.code).toBe(0);
    expect(document(again, "cancel.schema.json")).toMatchObject({
      outcome: "requested",
      alreadyRequestedAt: deleting.metadata.deletionTimestamp,
    });

    // And one that waits: once it watches the VMI (-v shows its requests on stderr), the abort
    // finishes as simulated time passes.
    const waiting = sim.start(["cancel", "rhel-db", "-n", "demo", "-o", "json", "--yes", "-v"]);
    let code: number | null | undefined;
    waiting.exited.then((c) => {
      code = c;
    });
    await until(() => /virtualmachineinstances\?watch=/.test(waiting.stderr()) || code !== undefined);
    while (code === undefined) {
      await runFor(sim.cluster, 1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(code).toBe(0);
    const aborted = JSON.parse(waiting.stdout());
    expect(schemaErrors("cancel.schema.json", aborted), waiting.stdout()).toBe("");
    expect(aborted).toMatchObject({
      outcome: "aborted",
      abortStatus: "Succeeded",
      alreadyRequestedAt: deleting.metadata.deletionTimestamp,
      node: "node-2",
    });

    // The aborted migration is final: nothing is left to cancel.
    await runUntil(sim.cluster, () => sim.migrations("demo", "rhel-db").length === 0);
    const after = await cancel();
    expect(after.code).toBe(0);
    expect(document(after, "cancel.schema.json")).toMatchObject({
      outcome: "nothing-to-cancel",
      migration: null,
    });
  }, 90_000);
});

describe("restart -o json", () => {
  it("dry run, requested (--no-wait), and restarted with its downtime", async () => {
    const sim = await cluster({ speed: 20 });
    const dry = await sim.run(["restart", "cirros-test", "-n", "demo", "--dry-run", "--yes", "-o", "json"]);
    expect(dry.code).toBe(0);
    expect(document(dry, "restart.schema.json")).toEqual({
      vm: "cirros-test",
      namespace: "demo",
      outcome: "dry-run",
      node: sim.vmi("demo", "cirros-test").status.nodeName,
      force: false,
    });

    const requested = await sim.run(["restart", "rhel-db", "-n", "demo", "--yes", "--no-wait", "-o", "json"]);
    expect(requested.code).toBe(0);
    expect(document(requested, "restart.schema.json")).toMatchObject({ outcome: "requested", force: false });

    const restarted = await sim.run(["restart", "cirros-test", "-n", "demo", "--yes", "-o", "json"]);
    expect(restarted.code).toBe(0);
    const out = document(restarted, "restart.schema.json");
    expect(out.outcome).toBe("restarted");
    expect(out.downtimeSeconds).toBeGreaterThan(0);
  }, 60_000);
});

describe("the other commands' -o json", () => {
  it.each([
    ["version", ["version"], "version.schema.json", 0],
    ["diagnose (no problem)", ["diagnose", "fedora-web", "-n", "demo"], "diagnose.schema.json", 0],
    [
      "diagnose --from",
      ["diagnose", "--from", "test/fixtures/diagnose-offline/healthy"],
      "diagnose.schema.json",
      0,
    ],
    ["help exit-codes", ["help", "exit-codes"], "help-exit-codes.schema.json", 0],
    ["help failure-modes", ["help", "failure-modes"], "help-failure-modes.schema.json", 0],
    ["help environment", ["help", "environment"], "help-environment.schema.json", 0],
  ] as const)(
    "%s",
    async (_title, args, schema, code) => {
      const sim = await cluster({ manualTime: true });
      const result = await sim.run([...args, "-o", "json"]);
      expect(result.code).toBe(code);
      const out = document(result, schema);
      expect(out).not.toEqual([]);
    },
    30_000,
  );
});

describe("a dry run's result is on stdout, in text and in JSON", () => {
  it.each([
    [
      "migrate",
      ["migrate", "fedora-web", "-n", "demo", "--dry-run"],
      "dry run: the API server accepted migrating demo/fedora-web off node-1; nothing was changed",
      "migrate-dry-run.schema.json",
    ],
    [
      "restart",
      ["restart", "cirros-test", "-n", "demo", "--dry-run", "--yes"],
      "dry run: the API server accepted restarting demo/cirros-test; nothing was changed",
      "restart.schema.json",
    ],
  ] as const)(
    "%s --dry-run",
    async (_title, args, line, schema) => {
      const sim = await cluster({ manualTime: true });
      const text = await sim.run([...args]);
      expect(text.code).toBe(0);
      expect(lines(text.stdout)).toEqual([line]);
      expect(text.stderr).not.toContain("dry run:");
      const json = await sim.run([...args, "-o", "json"]);
      expect(json.code).toBe(0);
      expect(json.stderr).not.toContain("dry run:");
      expect(document(json, schema)).toMatchObject({ vm: args[1], namespace: "demo" });
      expect(sim.migrations("demo", args[1])).toEqual([]);
    },
    30_000,
  );

  it("cancel --dry-run", async () => {
    const sim = await cluster({ manualTime: true });
    expect((await sim.run(["migrate", "rhel-db", "-n", "demo", "--no-wait"])).code).toBe(0);
    const [m] = sim.migrations("demo", "rhel-db");
    const phase = m.status?.phase || "Pending";
    const text = await sim.run(["cancel", "rhel-db", "-n", "demo", "--dry-run"]);
    expect(text.code).toBe(0);
    expect(lines(text.stdout)).toEqual([
      `dry run: would delete migration ${m.metadata.name} (${phase}) to cancel it; nothing was changed`,
    ]);
    expect(text.stderr).toBe("");
    const json = await sim.run(["cancel", "rhel-db", "-n", "demo", "--dry-run", "-o", "json"]);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe("");
    expect(document(json, "cancel.schema.json")).toMatchObject({
      outcome: "dry-run",
      migration: m.metadata.name,
    });
    expect(sim.migrations("demo", "rhel-db")[0].metadata.deletionTimestamp).toBeUndefined();
  }, 30_000);

  it("migrate --dry-run while one is in flight: that it would follow it, on stdout", async () => {
    const sim = await cluster({ manualTime: true });
    expect((await sim.run(["migrate", "rhel-db", "-n", "demo", "--no-wait"])).code).toBe(0);
    const [m] = sim.migrations("demo", "rhel-db");
    const text = await sim.run(["migrate", "rhel-db", "-n", "demo", "--dry-run"]);
    expect(text.code).toBe(0);
    expect(lines(text.stdout)).toEqual([
      `dry run: migration ${m.metadata.name} is already in progress; kvmig would follow it`,
    ]);
  }, 30_000);
});
