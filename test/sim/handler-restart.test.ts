// A node's virt-handler going away while the cluster runs (`SimCluster.addMigrationFaults` with a
// node-scoped connectionDrop, as the soak restarts one): the migrations from or to that node
// lose the migration proxy and fail as libvirt reports it (`client socket is closed`, facts §h);
// the others go on; once it is back, the node's migrations succeed again.
import { describe, expect, it } from "vitest";
import type { SimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { clientSocketClosedReason } from "../../src/sim/objects.js";
import { simPerTest, simRequest } from "../helpers/sim.js";
import { runUntil } from "../helpers/sim-time.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

async function migrate(cluster: SimCluster, vm: string): Promise<string> {
  const res = await simRequest(
    cluster,
    "PUT",
    `/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/${vm}/migrate`,
    { body: {} },
  );
  expect(res.status).toBe(202);
  const all = (cluster.store.list(R.vmim.storage, "demo") as Any[])
    .filter((m) => m.spec.vmiName === vm)
    .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
  return all.at(-1).metadata.name;
}

const vmim = (cluster: SimCluster, name: string): Any => cluster.store.get(R.vmim.storage, "demo", name);
const phase = (cluster: SimCluster, name: string) => vmim(cluster, name)?.status?.phase;
const final = (cluster: SimCluster, name: string) => ["Succeeded", "Failed"].includes(phase(cluster, name));

describe("a node's virt-handler restarting", () => {
  const sim = simPerTest({ manualTime: true, seed: 3 });

  it("fails the migrations through the node with `client socket is closed`, not the others, until it is back", async () => {
    const cluster = sim();
    // No migration may target node-1, so rhel-db's (node-2 → node-3) never runs through it.
    cluster.store.patch(R.node, undefined, "node-1", "merge", { spec: { unschedulable: true } });
    const remove = cluster.addMigrationFaults([{ type: "connectionDrop", node: "node-1", atProgress: 0 }]);
    const fromNode1 = await migrate(cluster, "fedora-web");
    const elsewhere = await migrate(cluster, "rhel-db");
    await runUntil(cluster, () => final(cluster, fromNode1) && final(cluster, elsewhere), 600_000);

    expect(phase(cluster, fromNode1)).toBe("Failed");
    const vmi = cluster.store.get(R.vmi.storage, "demo", "fedora-web") as Any;
    expect(vmi.status.migrationState).toMatchObject({
      sourceNode: "node-1",
      failed: true,
      failureReason: clientSocketClosedReason,
    });
    expect(phase(cluster, elsewhere)).toBe("Succeeded");
    const moved = cluster.store.get(R.vmi.storage, "demo", "rhel-db") as Any;
    expect([moved.status.migrationState.sourceNode, moved.status.nodeName]).not.toContain("node-1");

    // Back: the same VM's next migration goes through.
    remove();
    const again = await migrate(cluster, "fedora-web");
    await runUntil(cluster, () => final(cluster, again), 600_000);
    expect(phase(cluster, again)).toBe("Succeeded");
  });
});
