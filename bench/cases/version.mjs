// `kvmig version` next to `kubectl version`: both read the cluster (kvmig: /version, virt-api's
// version and the KubeVirt CR; kubectl: /version) on the default scenario, as the npm build runs
// (node dist/kvmig.js) and as the single executable (bench/lib/sea.mjs). Issue 26's target:
// wall ≤ 1.0× kubectl's.
import { comparePair, contains } from "../lib/pair.mjs";
import { pairTable, runsText, target } from "../lib/report.mjs";
import { singleExecutable } from "../lib/sea.mjs";
import { startSim } from "../lib/sim.mjs";

export const id = "version";
export const title = "Versions from the cluster";

export async function run(ctx) {
  const runs = ctx.quick ? 1 : ctx.runs * 2;
  const executable = await singleExecutable(ctx);
  const sim = await startSim(ctx, ["--scenario", "default"], "version");
  try {
    const kubectl = { args: ["version"], check: contains("Server Version:") };
    const kvmig = { args: ["version"], check: contains("KubeVirt:") };
    const version = await comparePair(ctx, {
      id: "version",
      kubeconfig: sim.kubeconfig,
      kvmig,
      kubectl,
      runs,
    });
    const cases = [version];
    if (executable) {
      cases.push(
        await comparePair(ctx, {
          id: "version-sea",
          label: "single executable",
          kubeconfig: sim.kubeconfig,
          kvmig: { ...kvmig, file: executable, name: "kubectl-kvmig" },
          kubectl,
          runs,
        }),
      );
    }
    // Issue 26: as quick as kubectl's, though kvmig reads three things (kubectl one).
    for (const c of cases) c.targets = [target(`${c.id}-wall`, "wall ≤ 1.0×", c.ratio.wall, 1.0)];
    return {
      cases,
      tables: [pairTable("Versions from the cluster (default scenario)", cases)],
      note: `${runsText(ctx, runs)}. kvmig reads three things (/version, virt-api's version, the KubeVirt CR), kubectl one; the single executable's row runs kubectl-kvmig (scripts/sea.mjs). Where the time goes: docs/cluster-commands-profile.md.`,
    };
  } finally {
    await sim.stop();
  }
}
