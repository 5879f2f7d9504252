// kvmig history on the `history` scenario: ledger's seven migrations over five days, of which
// KubeVirt keeps the newest five VMIMs and the simulated Prometheus keeps all seven series. The
// built CLI, over real HTTP, its -o json held to docs/schemas/history.schema.json.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemaErrors } from "../helpers/schemas.js";
import { ensureBuilt } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: the document is checked by its schema.
type Any = any;

let sim: SimCli;
beforeAll(async () => {
  await ensureBuilt();
  sim = await simCli({ scenario: "history", prometheus: true });
}, 120_000);
afterAll(() => sim?.close());

const hour = 3_600_000;
const day = 24 * hour;

/** ledger's moves as the scenario has them, newest first. */
const expected = [
  { trigger: "user", outcome: "succeeded", from: "node-1", to: "node-2" },
  { trigger: "evacuation", outcome: "succeeded", from: "node-3", to: "node-1" },
  { trigger: "evacuation", outcome: "failed", from: "node-3", to: "node-2" },
  { trigger: "workload-update", outcome: "succeeded", from: "node-1", to: "node-3" },
  { trigger: "workload-update", outcome: "failed", from: "node-1", to: "node-2" },
  { trigger: "evacuation", outcome: "succeeded", from: "node-3", to: "node-1" },
  { trigger: "user", outcome: "succeeded", from: "node-1", to: "node-3" },
];

function document(stdout: string): Any {
  const data = JSON.parse(stdout);
  expect(schemaErrors("history.schema.json", data), stdout).toBe("");
  return data;
}

describe("kvmig history on the history scenario", () => {
  it("with --prometheus-url: all seven, newest first, with trigger, outcome, route and start", async () => {
    const url = sim.cluster.prometheus?.url as string;
    const result = await sim.run([
      "history",
      "ledger",
      "-n",
      "finance",
      "--prometheus-url",
      url,
      "-o",
      "json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = document(result.stdout);
    expect(
      out.items.map((i: Any) => ({ trigger: i.trigger, outcome: i.outcome, from: i.from, to: i.to })),
    ).toEqual(expected);
    // The five kept: startedAt is each VMIM's record of its start.
    const kept = sim
      .migrations("finance", "ledger")
      .sort((a: Any, b: Any) => b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp));
    expect(kept).toHaveLength(5);
    expect(out.items.slice(0, 5).map((i: Any) => [i.migration, i.startedAt])).toEqual(
      kept.map((m: Any) => [m.metadata.name, m.status.migrationState.startTimestamp]),
    );
    // The two only Prometheus has: started minutes after they were created 4d2h and 4d20h ago.
    const now = Date.now();
    const [second, first] = out.items.slice(5);
    for (const [item, age] of [
      [second, 4 * day + 2 * hour],
      [first, 4 * day + 20 * hour],
    ] as const) {
      expect(item.sources).toEqual(["prometheus"]);
      const started = Date.parse(item.startedAt);
      expect(started).toBeGreaterThan(now - age - 60_000);
      expect(started).toBeLessThan(now - age + 15 * 60_000);
    }
    expect(out.items[0].sources).toEqual(["vmim", "vmi", "prometheus"]);
    expect(out.summary).toMatchObject({ moves: 7, succeeded: 5, failed: 2 });
    expect(out.summary.successRate).toBeCloseTo(5 / 7);
    expect(out.sources.find((s: Any) => s.source === "prometheus")).toMatchObject({
      read: true,
      migrations: 7,
    });
    expect(out.notes).toEqual([]);
  }, 60_000);

  it("without --prometheus-url: the five the API keeps, and it says the rest is beyond what the API keeps", async () => {
    const result = await sim.run(["history", "ledger", "-n", "finance", "-o", "json"]);
    expect(result.code).toBe(0);
    const out = document(result.stdout);
    expect(
      out.items.map((i: Any) => ({ trigger: i.trigger, outcome: i.outcome, from: i.from, to: i.to })),
    ).toEqual(expected.slice(0, 5));
    expect(out.summary).toMatchObject({ moves: 5, succeeded: 3, failed: 2 });
    expect(out.notes).toEqual([
      expect.stringMatching(/finance\/ledger are beyond what the API keeps; --prometheus-url/),
    ]);
    expect(out.sources.find((s: Any) => s.source === "prometheus")).toMatchObject({
      read: false,
      since: null,
    });
    // The events are gone (older than an hour): the source reaches nothing.
    expect(out.sources.find((s: Any) => s.source === "events")).toMatchObject({ read: true, since: null });

    // In text, the note goes to stderr; the table and the summary to stdout.
    const text = await sim.run(["history", "ledger", "-n", "finance", "--limit", "2"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Migrations of finance\/ledger, newest first\n/);
    expect(text.stdout.match(/ (succeeded|failed) /g)).toHaveLength(2);
    expect(text.stdout).toMatch(
      /5 migrations since .*: 3 succeeded, 2 failed, 60% succeeded; median duration /,
    );
    expect(text.stderr).toContain("beyond what the API keeps");
    expect(text.stderr).toContain("3 older migrations left out by --limit 2");
  }, 60_000);

  it("an unknown VM: not found, exit 5, with the kubectl command that lists the VMs", async () => {
    const result = await sim.run(["history", "nope", "-n", "finance"]);
    expect(result.code).toBe(5);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('error: VirtualMachine "nope" not found in namespace "finance"');
    expect(result.stderr).toContain("hint: list the VMs with: kubectl get vm,vmi -n finance");
  }, 30_000);

  it("a bad --since or --limit: a usage error, exit 2, before the cluster is read", async () => {
    const since = await sim.run(["history", "ledger", "-n", "finance", "--since", "a week"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('error: invalid duration "a week" for --since');
    expect(since.stderr).toContain("hint: write it like 7d, 2w, 36h or 1d12h");
    const limit = await sim.run(["history", "ledger", "-n", "finance", "--limit", "0"]);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('error: --limit must be a whole number from 1, not "0"');
  }, 30_000);

  it("--node: every VM's moves from or to the node; without a VM or scope and no terminal, a usage error", async () => {
    const url = sim.cluster.prometheus?.url as string;
    const result = await sim.run([
      "history",
      "-A",
      "--node",
      "node-2",
      "--prometheus-url",
      url,
      "-o",
      "json",
    ]);
    expect(result.code).toBe(0);
    const out = document(result.stdout);
    expect(out).toMatchObject({ namespace: null, vm: null, node: "node-2" });
    expect(out.items.map((i: Any) => [i.vm, i.from, i.to])).toEqual([
      ["ledger", "node-1", "node-2"],
      ["ledger", "node-3", "node-2"],
      ["ledger", "node-1", "node-2"],
    ]);
    const missing = await sim.run(["history", "-n", "finance"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: missing required argument VM");
  }, 30_000);
});
