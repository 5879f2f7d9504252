// Start-up: `kvmig --help` and `kvmig --version` next to `kubectl version --client`, which
// also reads no cluster, and `--help` of the single executable (scripts/sea.mjs, built for this
// machine's platform into the bench's temp dir: bench/lib/sea.mjs) next to the same. Cheap, so run
// four times as often as the other cases.
import { comparePair } from "../lib/pair.mjs";
import { pairTable, runsText, target } from "../lib/report.mjs";
import { singleExecutable } from "../lib/sea.mjs";

export const id = "startup";
export const title = "Start-up";

export async function run(ctx) {
  const runs = ctx.quick ? 1 : ctx.runs * 4;
  const counterpart = { args: ["version", "--client"] };
  const help = await comparePair(ctx, {
    id: "help",
    kvmig: { args: ["--help"] },
    kubectl: counterpart,
    runs,
  });
  help.targets = [target("help-wall", "wall ≤ 1.0×", help.ratio.wall, 1.0)];
  const version = await comparePair(ctx, {
    id: "version-flag",
    kvmig: { args: ["--version"] },
    kubectl: counterpart,
    runs,
  });
  version.targets = [target("version-flag-wall", "wall ≤ 1.0×", version.ratio.wall, 1.0)];
  const cases = [help, version];
  const executable = await singleExecutable(ctx);
  if (executable) {
    const sea = await comparePair(ctx, {
      id: "help-sea",
      label: "single executable",
      kvmig: { file: executable, name: "kubectl-kvmig", args: ["--help"] },
      kubectl: counterpart,
      runs,
    });
    sea.targets = [target("help-sea-wall", "wall ≤ 1.0×", sea.ratio.wall, 1.0)];
    cases.push(sea);
  }
  return {
    cases,
    tables: [pairTable("Start-up, no cluster read", cases)],
    note: `${runsText(ctx, runs)}, alternating; kubectl's counterpart is measured in both pairs.`,
  };
}
