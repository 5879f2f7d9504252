// The live diagnosis of one VM with every rule: what migrate, watch and the bulk runner ask
// after a failure. The modules load on first use, so that a command that never needs a
// diagnosis never loads them.

import type { KubeClient } from "../k8s/kube-client.js";
import type { DiagnoseReport } from "./engine.js";
import type { GatherTarget } from "./gather.js";
import type { Snapshot } from "./types.js";

/** Gathers the VM's snapshot (`now` is its time, from the caller's clock) and runs every rule over it. */
export async function diagnoseLive(
  kube: KubeClient,
  target: GatherTarget,
  now: string,
): Promise<{ snapshot: Snapshot; report: DiagnoseReport }> {
  const [{ gatherSnapshot }, { runRules }, { selectRules }] = await Promise.all([
    import("./gather.js"),
    import("./engine.js"),
    import("./registry.js"),
  ]);
  const snapshot = await gatherSnapshot(kube, target, now);
  return { snapshot, report: runRules(snapshot, selectRules({})) };
}
