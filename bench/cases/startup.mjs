// Start-up: `kvmig --help` and `kvmig --version` next to `kubectl version --client`, which
// also reads no cluster. Cheap, so run four times as often as the other cases.
import { comparePair } from "../lib/pair.mjs";
import { pairTable, runsText, target } from "../lib/report.mjs";

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
  return {
    cases,
    tables: [pairTable("Start-up, no cluster read", cases)],
    note: `${runsText(ctx, runs)}, alternating; kubectl's counterpart is measured in both pairs.`,
  };
}
