// `kvmig watch -o json` against a real simulated cluster (in process, on manual time): a record
// per change that the record shows, so that each phase of a migration, its final one included,
// is told once although the server changes the VMIM again (virt-controller removes its
// finalizer once it is final: `pkg/virt-controller/watch/migration/migration.go`).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runMain } from "../../src/main.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { simRequest } from "../helpers/sim.js";
import { runUntil } from "../helpers/sim-time.js";
import { testContext } from "../helpers/test-context.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function migrate(sim: SimCluster, vm: string): Promise<Any> {
  const before = new Set(
    (sim.store.list(R.vmim.storage, "demo") as Any[]).map((m) => m.metadata.name as string),
  );
  const answer = await simRequest(
    sim,
    "PUT",
    `/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/${vm}/migrate`,
    { body: {} },
  );
  expect(answer.status).toBe(202);
  const created = (sim.store.list(R.vmim.storage, "demo") as Any[]).find((m) => !before.has(m.metadata.name));
  expect(created).toBeDefined();
  return created;
}

/** Resolves once `done()` holds, checking every 10 ms (what kvmig printed arrives on its own). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}

describe("kvmig watch -o json", () => {
  it("tells a migration's final phase once, though its VMIM changes again (the finalizer goes)", async () => {
    const sim = await startSimCluster({ seed: 3, manualTime: true });
    cluster = sim;
    const kubeconfig = join(tempDir(), "kubeconfig");
    writeFileSync(kubeconfig, sim.kubeconfig(), { mode: 0o600 });
    const first = await migrate(sim, "fedora-web");
    const t = testContext({ env: { HOME: tempDir(), KUBECONFIG: kubeconfig } });
    const records = () =>
      t
        .stdout()
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line));
    const watching = runMain(["watch", "-n", "demo", "-o", "json"], t.ctx);
    // The list is in: the migration's first record.
    await until(() => records().some((r) => r.migration === first.metadata.name));

    const stored = () => sim.store.get(R.vmim.storage, "demo", first.metadata.name) as Any;
    await runUntil(sim, () => stored().status?.phase === "Succeeded" && !stored().metadata.finalizers);
    // Changes come in order: once a later migration's record is out, every change of the first
    // one has reached kvmig.
    const second = await migrate(sim, "cirros-test");
    await until(() => records().some((r) => r.migration === second.metadata.name));
    t.controller.abort();
    await watching;

    const ofFirst = records().filter((r) => r.migration === first.metadata.name && r.type !== "PROGRESS");
    expect(ofFirst.filter((r) => r.phase === "Succeeded")).toHaveLength(1);
    expect(ofFirst.at(-1)).toMatchObject({ type: "MODIFIED", phase: "Succeeded" });
    // Every record of it is news: no two say the same, their type aside.
    const said = ofFirst.map(({ type: _, ...rest }) => JSON.stringify(rest));
    expect(new Set(said).size).toBe(said.length);
  }, 30_000);
});
