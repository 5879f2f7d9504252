// Driving a simulated cluster on manual time: simulated seconds pass only when a test says so,
// timers fire in order, and the controllers settle after each one, so a 300 s timeout or a 40 s
// backoff takes no wall time.

import { vmimPhases } from "../../src/k8s/types.js";
import type { SimCluster } from "../../src/sim/cluster.js";
import { ManualSimTime } from "../../src/sim/time.js";

/** The phases of a migration that succeeds, in KubeVirt's order. */
export const successfulPhases: readonly string[] = vmimPhases.slice(
  vmimPhases.indexOf("Pending"),
  vmimPhases.indexOf("Succeeded") + 1,
);

function manual(cluster: SimCluster): ManualSimTime {
  if (!(cluster.time instanceof ManualSimTime)) throw new Error("start the cluster with manualTime: true");
  return cluster.time;
}

/** Lets `ms` of simulated time pass. */
export async function runFor(cluster: SimCluster, ms: number): Promise<void> {
  const time = manual(cluster);
  const until = time.now() + ms;
  await cluster.controllers.settle();
  while (time.step(until)) await cluster.controllers.settle();
}

/**
 * Lets simulated time pass until `done()` holds (checked after every timer), at most `limitMs`;
 * returns the simulated milliseconds it took. Fails when the limit passes first.
 */
export async function runUntil(
  cluster: SimCluster,
  done: () => boolean,
  limitMs = 3_600_000,
): Promise<number> {
  const time = manual(cluster);
  const start = time.now();
  await cluster.controllers.settle();
  while (!done()) {
    if (!time.step(start + limitMs)) {
      if (done()) break;
      throw new Error(`not done after ${limitMs / 1000} simulated seconds`);
    }
    await cluster.controllers.settle();
  }
  return time.now() - start;
}
