// Start-up with the simulated cluster (issue 25): `kvmig version --sim`, which loads the
// simulator's code, makes its certificates, builds the default scenario and serves it in the
// same process before the command runs; the same command against a simulated cluster already
// running (`kvmig version`), so that the difference is what --sim adds; and `kvmig sim`'s own
// start-up to its `export KUBECONFIG=` line, the time a user waits for it, with its CPU then.

import { median } from "../lib/measure.mjs";
import { comparePair, contains } from "../lib/pair.mjs";
import { mib, ms, runsText } from "../lib/report.mjs";
import { simStartSamples, startSim } from "../lib/sim.mjs";

export const id = "sim-startup";
export const title = "Start-up with the simulated cluster";

export async function run(ctx) {
  const runs = ctx.quick ? 1 : ctx.runs * 2;
  const check = contains("KubeVirt:");
  const embedded = await comparePair(ctx, {
    id: "version-sim",
    kvmig: { args: ["version", "--sim"], check },
    runs,
  });
  const sim = await startSim(ctx, ["--scenario", "default"], "sim-startup");
  let running;
  try {
    running = await comparePair(ctx, {
      id: "version-running-sim",
      kubeconfig: sim.kubeconfig,
      kvmig: { args: ["version"], check },
      runs,
    });
  } finally {
    await sim.stop();
  }

  const starts = ctx.quick ? 1 : ctx.runs + 1;
  const samples = await simStartSamples(ctx, {
    starts,
    name: "ready",
    log: (i) => `sim-startup: kvmig sim to its kubeconfig line, start ${i + 1} of ${starts}`,
    measure: (started) => ({
      wallMs: started.readyMs,
      cpuMs: started.atReady.cpuMs,
      rssKiB: started.atReady.rssKiB,
    }),
  });
  const ready = {
    id: "sim-kubeconfig-line",
    runs: samples.length,
    wallMs: median(samples.map((s) => s.wallMs)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    rssKiB: median(samples.map((s) => s.rssKiB)),
    samples,
  };
  const difference = (a, b) => (typeof a === "number" && typeof b === "number" ? a - b : null);
  const added = {
    id: "version-sim-added",
    wallMs: difference(embedded.kvmig.wallMs, running.kvmig.wallMs),
    cpuMs: difference(embedded.kvmig.cpuMs, running.kvmig.cpuMs),
    maxRssKiB: difference(embedded.kvmig.maxRssKiB, running.kvmig.maxRssKiB),
  };
  const row = (what, r, rssKiB) => [what, ms(r.wallMs), ms(r.cpuMs), mib(rssKiB)];
  return {
    cases: [embedded, running, { ...added }, ready],
    tables: [
      {
        title: "Start-up with the simulated cluster (default scenario)",
        headers: ["Case", "wall", "CPU", "peak RSS"],
        rows: [
          row(
            "`kvmig version --sim` (the cluster in the same process)",
            embedded.kvmig,
            embedded.kvmig.maxRssKiB,
          ),
          row(
            "`kvmig version` against a simulated cluster already running",
            running.kvmig,
            running.kvmig.maxRssKiB,
          ),
          row("what `--sim` adds (the difference of the medians)", added, added.maxRssKiB),
          row("`kvmig sim` to its `export KUBECONFIG=` line (CPU and RSS then)", ready, ready.rssKiB),
        ],
      },
    ],
    note: `The version commands: ${runsText(ctx, runs)}. \`kvmig sim\`: ${ready.runs} start${ready.runs === 1 ? "" : "s"}${ctx.quick ? "" : " after a first one"}.`,
  };
}
