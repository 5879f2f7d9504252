// Pre-flight's placement against the simulated cluster's scheduler, on every VM of every
// scenario: what placeTargetPod predicts from the cluster's objects before the migration must be
// what happens to the target pod virt-controller then creates (bound to one of the predicted
// nodes, or left Unschedulable when none was predicted). Two independent implementations of
// KubeVirt's and the scheduler's rules, each checking the other.
import { describe, expect, it } from "vitest";
import type { Node, Pod, VirtualMachineInstance } from "../../src/k8s/types.js";
import { placeTargetPod } from "../../src/migration/placement.js";
import { createdByLabel } from "../../src/migration/target-pod.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { listScenarios } from "../../src/sim/scenario.js";
import { simRequest } from "../helpers/sim.js";
import { runUntil } from "../helpers/sim-time.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

const scenarios = listScenarios().map((s) => s.name);

/** A cluster whose controllers have made their first pass (e.g. an evacuation's next migration). */
async function cluster(scenario: string): Promise<SimCluster> {
  const sim = await startSimCluster({
    scenario,
    seed: 7,
    manualTime: true,
    vms: scenario === "scale" ? 12 : undefined,
  });
  await sim.controllers.settle();
  return sim;
}

/** VMIs KubeVirt would start a migration for now: Running, migratable, none in flight. */
function candidates(sim: SimCluster): VirtualMachineInstance[] {
  const busy = new Set(
    (sim.store.list(R.vmim.storage) as Any[])
      .filter((m) => !["Succeeded", "Failed"].includes(m.status?.phase))
      .map((m) => `${m.metadata.namespace}/${m.spec.vmiName}`),
  );
  return (sim.store.list(R.vmi.storage) as Any[]).filter(
    (v) =>
      v.status?.phase === "Running" &&
      v.status.conditions?.some((c: Any) => c.type === "LiveMigratable" && c.status === "True") &&
      !busy.has(`${v.metadata.namespace}/${v.metadata.name}`),
  );
}

function predict(sim: SimCluster, vmi: VirtualMachineInstance) {
  const pods = (sim.store.list(R.pod.storage) as Pod[]).filter(
    (p) => p.spec?.nodeName && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed",
  );
  return placeTargetPod({
    vmi,
    launcherPod: pods.find(
      (p) =>
        p.metadata.labels?.[createdByLabel] === vmi.metadata.uid &&
        p.spec?.nodeName === vmi.status?.nodeName &&
        p.status?.phase === "Running",
    ),
    nodes: sim.store.list(R.node.storage) as Node[],
    pods,
    kubevirt: (sim.store.list(R.kubevirt.storage) as Any[])[0],
  });
}

/** The target pod's fate: its node, "unschedulable", or undefined (never created, e.g. queued). */
async function outcome(sim: SimCluster, vmi: VirtualMachineInstance): Promise<string | undefined> {
  const { namespace = "", name = "" } = vmi.metadata;
  const res = await simRequest(
    sim,
    "PUT",
    `/apis/subresources.kubevirt.io/v1/namespaces/${namespace}/virtualmachines/${name}/migrate`,
    { body: {} },
  );
  expect(res.status, `${namespace}/${name}`).toBe(202);
  const target = () =>
    (sim.store.list(R.pod.storage, namespace) as Any[]).find(
      (p) =>
        p.metadata.labels?.[createdByLabel] === vmi.metadata.uid &&
        p.metadata.labels?.["kubevirt.io/migrationJobUID"] &&
        (p.spec.nodeName || p.status?.conditions?.some((c: Any) => c.reason === "Unschedulable")),
    );
  try {
    await runUntil(sim, () => target() !== undefined, 120_000);
  } catch {
    return undefined;
  }
  return target().spec.nodeName || "unschedulable";
}

describe("placement agrees with the simulated scheduler", () => {
  it.each(scenarios)(
    "%s: every migratable VM's target lands where pre-flight said, or nowhere when it said so",
    async (scenario) => {
      const probe = await cluster(scenario);
      const vms = candidates(probe).map((v) => `${v.metadata.namespace}/${v.metadata.name}`);
      await probe.close();
      let decided = 0;
      for (const vm of vms) {
        const sim = await cluster(scenario);
        try {
          const vmi = candidates(sim).find((v) => `${v.metadata.namespace}/${v.metadata.name}` === vm);
          if (!vmi) continue;
          const predicted = predict(sim, vmi);
          const fate = await outcome(sim, vmi);
          if (fate === undefined) continue;
          decided++;
          if (fate === "unschedulable") expect(predicted.fits, `${scenario} ${vm}`).toEqual([]);
          else expect(predicted.fits, `${scenario} ${vm} went to ${fate}`).toContain(fate);
        } finally {
          await sim.close();
        }
      }
      expect(decided, `${scenario}: no target pod was decided`).toBeGreaterThan(0);
    },
    60_000,
  );
});
