// kvmig watch --node end to end: the built CLI against the simulated cluster's backoff-loop
// scenario, where node-3 is being drained and the evacuation controller's migrations of prod/erp-db
// keep failing (to node-1 and node-2, in turn). A user's migration of prod/reports, node-2 →
// node-1, runs beside them. Each node's watch shows the migrations leaving or reaching it, and
// only those, each with who created it; without -n, every namespace.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

interface WatchRecord {
  type: string;
  vm: string;
  namespace: string;
  migration: string;
  trigger: string;
  sourceNode: string | null;
  targetNode: string | null;
}

/** The migrations `watch --node NODE -o json` told before its --timeout (exit 6), by name. */
async function watchedOn(s: SimCli, node: string): Promise<Map<string, WatchRecord>> {
  const result = await s.run(["watch", "--node", node, "-o", "json", "--timeout", "3s"]);
  expect(result.stderr).toContain("stopped watching after the --timeout (3s)");
  expect(result.stderr).toContain(`kvmig watch --node ${node}`);
  expect(result.code).toBe(6);
  const records = result.stdout
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as WatchRecord);
  return new Map(records.map((r) => [r.migration, r]));
}

describe("kvmig watch --node", () => {
  it("shows only the node's migrations, in every namespace, each with its trigger", async () => {
    sim = await simCli({ scenario: "backoff-loop", speed: 5 });
    const started = await sim.run([
      "migrate",
      "reports",
      "-n",
      "prod",
      "--target-node",
      "node-1",
      "--no-wait",
    ]);
    expect(started.code).toBe(0);
    const [user] = sim.migrations("prod", "reports");
    const evacuations = sim.migrations("prod", "erp-db");
    expect(evacuations.length).toBeGreaterThanOrEqual(4);

    const drained = await watchedOn(sim, "node-3");
    // Every attempt at erp-db leaves node-3: the evacuation controller's; the user's is not there.
    expect([...drained.values()].every((r) => r.sourceNode === "node-3" || r.targetNode === "node-3")).toBe(
      true,
    );
    expect([...drained.values()].map((r) => `${r.namespace}/${r.vm} ${r.trigger}`)).toEqual(
      [...drained.values()].map(() => "prod/erp-db evacuation"),
    );
    expect(drained.size).toBeGreaterThanOrEqual(4);
    expect(drained.has(user.metadata.name)).toBe(false);

    const target = await watchedOn(sim, "node-1");
    // The user's migration reaches node-1; of the evacuations, those whose target was node-1.
    expect(target.get(user.metadata.name)).toMatchObject({
      vm: "reports",
      trigger: "user",
      sourceNode: "node-2",
    });
    const erp = [...target.values()].filter((r) => r.vm === "erp-db");
    expect(erp.length).toBeGreaterThanOrEqual(2);
    for (const r of erp)
      expect(r).toMatchObject({ trigger: "evacuation", sourceNode: "node-3", targetNode: "node-1" });
    // None of those it shows neither leaves nor reaches node-1.
    for (const r of target.values()) expect([r.sourceNode, r.targetNode]).toContain("node-1");
  }, 60_000);
});
