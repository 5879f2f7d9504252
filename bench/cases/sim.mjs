// The simulated cluster's default scenario (what `kvmig sim` serves without flags): start-up to
// its kubeconfig line and to the first answered list of VMIs, its CPU and memory then, and one
// 4 GiB VM (demo/fedora-web) migrated at --speed 20, from the migrate call to the VMIM final.
import { median } from "../lib/measure.mjs";
import { mib, ms } from "../lib/report.mjs";
import { simStartSamples, startSim } from "../lib/sim.mjs";

export const id = "sim";
export const title = "The simulated cluster, default scenario";

export async function run(ctx) {
  const starts = ctx.quick ? 1 : ctx.runs + 1;
  const samples = await simStartSamples(ctx, {
    starts,
    name: "default",
    log: (i) =>
      `sim: default scenario, start ${i + 1} of ${starts}${i === 0 && starts > 1 ? " (warm-up)" : ""}`,
    measure: async (sim) => {
      const asked = process.hrtime.bigint();
      const list = await sim.call("GET", "/apis/kubevirt.io/v1/virtualmachineinstances");
      if (list.status !== 200) throw new Error(`first list: ${list.status}`);
      const answeredMs = sim.readyMs + Number(process.hrtime.bigint() - asked) / 1e6;
      return { readyMs: sim.readyMs, answeredMs, cpuMs: sim.atReady.cpuMs, rssKiB: sim.atReady.rssKiB };
    },
  });
  const startup = {
    id: "sim-default-startup",
    runs: samples.length,
    readyMs: median(samples.map((s) => s.readyMs)),
    answeredMs: median(samples.map((s) => s.answeredMs)),
    maxReadyMs: Math.max(...samples.map((s) => s.readyMs)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    rssKiB: median(samples.map((s) => s.rssKiB)),
    samples,
  };

  ctx.log("sim: a 4 GiB migration at --speed 20");
  const sim = await startSim(ctx, ["--speed", "20"], "migration");
  let migration;
  try {
    const before = sim.stats();
    const began = process.hrtime.bigint();
    const started = await sim.call(
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/migrate",
      {},
    );
    if (started.status !== 202) throw new Error(`migrate: ${started.status}`);
    let phase = "";
    let simulatedMs = null;
    const deadline = Date.now() + 120_000;
    while (phase !== "Succeeded" && phase !== "Failed") {
      if (Date.now() > deadline) throw new Error("the 4 GiB migration did not end within 2 minutes");
      await new Promise((resolve) => setTimeout(resolve, 25));
      const list = await sim.call(
        "GET",
        "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations",
      );
      const vmim = list.json.items[0];
      phase = vmim?.status?.phase ?? "";
      const stamps = vmim?.status?.phaseTransitionTimestamps ?? [];
      if (stamps.length > 1)
        simulatedMs =
          Date.parse(stamps.at(-1).phaseTransitionTimestamp) - Date.parse(stamps[0].phaseTransitionTimestamp);
    }
    const wallMs = Number(process.hrtime.bigint() - began) / 1e6;
    migration = {
      id: "sim-migration-4gi",
      phase,
      wallMs,
      simulatedMs,
      simCpuMs: sim.stats().cpuMs - before.cpuMs,
    };
  } finally {
    await sim.stop();
  }

  return {
    cases: [startup, migration],
    tables: [
      {
        title: "Simulated cluster, default scenario (the sim's own process)",
        headers: ["Case", "wall", "CPU (sim)", "RSS (sim)", "detail"],
        rows: [
          [
            "start-up: kubeconfig line printed",
            ms(startup.readyMs),
            ms(startup.cpuMs),
            mib(startup.rssKiB),
            `median of ${startup.runs}, max ${ms(startup.maxReadyMs)}`,
          ],
          ["start-up: first list of VMIs answered", ms(startup.answeredMs), "–", "–", "from spawn"],
          [
            "4 GiB VM migrated at --speed 20 (demo/fedora-web)",
            ms(migration.wallMs),
            ms(migration.simCpuMs),
            "–",
            `${migration.phase}; ${ms(migration.simulatedMs)} simulated, Pending to final`,
          ],
        ],
      },
    ],
    note: `Start-up: ${starts > 1 ? "a warm-up start, then " : ""}${samples.length} start${samples.length === 1 ? "" : "s"}; CPU and RSS of the sim process when it printed its kubeconfig line, from /proc.`,
  };
}
