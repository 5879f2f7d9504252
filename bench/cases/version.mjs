// `kvmig version` next to `kubectl version`: both read the cluster (kvmig: /version, virt-api's
// version and the KubeVirt CR; kubectl: /version) on the default scenario. Issue 26's target:
// wall ≤ 1.0× kubectl's.
import { comparePair, contains } from "../lib/pair.mjs";
import { pairTable, runsText, target } from "../lib/report.mjs";
import { startSim } from "../lib/sim.mjs";

export const id = "version";
export const title = "Versions from the cluster";

export async function run(ctx) {
  const runs = ctx.quick ? 1 : ctx.runs * 2;
  const sim = await startSim(ctx, ["--scenario", "default"], "version");
  try {
    const version = await comparePair(ctx, {
      id: "version",
      kubeconfig: sim.kubeconfig,
      kvmig: { args: ["version"], check: contains("KubeVirt:") },
      kubectl: { args: ["version"], check: contains("Server Version:") },
      runs,
    });
    // Issue 26: as quick as kubectl's, though kvmig reads three things (kubectl one).
    version.targets = [target("version-wall", "wall ≤ 1.0×", version.ratio.wall, 1.0)];
    return {
      cases: [version],
      tables: [pairTable("Versions from the cluster (default scenario)", [version])],
      note: `${runsText(ctx, runs)}.`,
    };
  } finally {
    await sim.stop();
  }
}
