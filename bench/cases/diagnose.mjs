// `kvmig diagnose` live, for a VM whose migration just failed (the version-skew scenario, after
// `kvmig migrate orders-db -n prod`): wall time and the API requests it makes (counted from
// `-v`, one line per request). For scale, kubectl reading the objects the README suggests
// for an offline diagnosis (`kubectl get vmim,vmi,pods,events -n prod -o yaml`); no target
// compares the two.
import { timeCommand } from "../lib/measure.mjs";
import { comparePair, contains } from "../lib/pair.mjs";
import { pairTable, runsText, target } from "../lib/report.mjs";
import { startSim } from "../lib/sim.mjs";

export const id = "diagnose";
export const title = "Diagnosing a failed migration";

export async function run(ctx) {
  const runs = ctx.quick ? 1 : ctx.runs;
  const sim = await startSim(ctx, ["--scenario", "version-skew", "--speed", "20"], "diagnose");
  try {
    const env = ctx.env(sim.kubeconfig);
    const options = { env, cwd: ctx.root, tmp: ctx.tmp };
    ctx.log("diagnose: kvmig migrate orders-db -n prod (fails: exit 3)");
    await timeCommand(process.execPath, [ctx.distEntry, "migrate", "orders-db", "-n", "prod"], {
      ...options,
      ok: [3],
    });
    const kvmigArgs = ["diagnose", "orders-db", "-n", "prod"];
    const kubectlArgs = ["get", "vmim,vmi,pods,events", "-n", "prod", "-o", "yaml"];
    const diagnose = await comparePair(ctx, {
      id: "diagnose",
      kubeconfig: sim.kubeconfig,
      // Exit 7: a finding at or above --fail-on (error), as expected for this VM.
      kvmig: { args: kvmigArgs, ok: [7], check: contains("version-skew") },
      kubectl: { args: kubectlArgs, check: contains("kind: VirtualMachineInstanceMigration") },
      runs,
    });
    // The requests, from one more run of each with its request log on.
    const verbose = await timeCommand(process.execPath, [ctx.distEntry, ...kvmigArgs, "-v"], {
      ...options,
      ok: [7],
    });
    const requests = verbose.stderr
      .split("\n")
      .filter((l) => /^(GET|POST|PUT|PATCH|DELETE) \/\S* \d{3}\b/.test(l));
    diagnose.kvmig.requests = requests.length;
    diagnose.kvmig.requestLog = requests;
    if (ctx.kubectl) {
      const kubectlVerbose = await timeCommand(ctx.kubectl, [...kubectlArgs, "-v=6"], options);
      diagnose.kubectl.requests = kubectlVerbose.stderr
        .split("\n")
        .filter((l) => /round_trippers\.go:\d+\] (GET|POST|PUT|PATCH|DELETE) https?:\/\//.test(l)).length;
    }
    diagnose.targets = [
      target("diagnose-wall", "wall < 1 s", diagnose.kvmig.wallMs, 1000, {
        strict: true,
        show: (v) => `${Math.round(v)} ms`,
      }),
      target("diagnose-requests", "≤ 15 requests", diagnose.kvmig.requests, 15, { show: (v) => String(v) }),
    ];
    const table = pairTable("Diagnosing a failed migration (version-skew scenario)", [diagnose]);
    table.headers.splice(10, 0, "requests (kvmig / kubectl)");
    table.rows[0].splice(10, 0, `${diagnose.kvmig.requests} / ${diagnose.kubectl?.requests ?? "–"}`);
    return {
      cases: [diagnose],
      tables: [table],
      note: `${runsText(ctx, runs)}. Requests: from one more run with \`-v\` (kvmig) and \`-v=6\` (kubectl, discovery included).`,
    };
  } finally {
    await sim.stop();
  }
}
