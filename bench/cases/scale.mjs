// The `scale` scenario at each size (10,000 and 50,000 VMIs; 500 with --quick): how long the
// simulated cluster takes to start and how much memory it holds, how fast it serves a paged
// list of every VMI, and `kvmig outdated` next to kubectl's lists on that cluster.
import { median, ratio } from "../lib/measure.mjs";
import { comparePair, jsonItems, kubectlVmiItems } from "../lib/pair.mjs";
import { count, mib, ms, pairTable, target } from "../lib/report.mjs";
import { listAll, startSim } from "../lib/sim.mjs";

export const id = "scale";
export const title = "The scale scenario";

const outdatedLabel = "kubevirt.io/outdatedLauncherImage";
const vmiPath = "/apis/kubevirt.io/v1/virtualmachineinstances";

export async function run(ctx) {
  const sims = [];
  const cases = [];
  for (const vms of ctx.sizes) {
    const result = await size(ctx, vms);
    sims.push(result.sim);
    cases.push(...result.cases);
  }

  // Targets: at 10,000 VMIs against kubectl; at 50,000 against kvmig's own peak at 10,000.
  const find = (caseId) => cases.find((c) => c.id === caseId);
  const outdated10k = find("outdated-10000");
  if (outdated10k)
    outdated10k.targets = [target("outdated-10k-wall", "wall ≤ 0.5×", outdated10k.ratio.wall, 0.5)];
  const check10k = find("check-10000");
  if (check10k) {
    check10k.targets = [
      target("check-10k-wall", "wall ≤ 0.3×", check10k.ratio.wall, 0.3),
      target("check-10k-rss", "peak RSS ≤ 0.5×", check10k.ratio.rss, 0.5),
    ];
  }
  const check50k = find("check-50000");
  if (check50k && check10k) {
    const own = ratio(check50k.kvmig.maxRssKiB, check10k.kvmig.maxRssKiB);
    check50k.targets = [target("check-50k-rss", "kvmig peak RSS ≤ 1.2× its own at 10k", own, 1.2)];
  }

  return {
    cases: [...sims, ...cases],
    tables: [
      {
        title: "Simulated cluster, scale scenario (the sim's own process)",
        headers: [
          "VMIs",
          "ready",
          "first answer",
          "CPU to ready",
          "RSS at ready",
          "peak RSS (all cases)",
          "list all VMIs",
          "VMIs/s",
          "MiB/s",
          "sim CPU per list",
        ],
        rows: sims.map((s) => [
          count(s.vms),
          ms(s.startup.readyMs),
          ms(s.startup.firstAnswerMs),
          ms(s.startup.cpuMs),
          mib(s.startup.rssKiB),
          mib(s.peakRssKiB),
          ms(s.list.wallMs),
          count(Math.round(s.list.vmisPerSecond)),
          s.list.mibPerSecond.toFixed(1),
          ms(s.list.simCpuMs),
        ]),
      },
      pairTable("kvmig outdated next to kubectl's lists, scale scenario", cases),
    ],
    note: [
      ctx.quick
        ? "One start, one list and one run of each command, no warm-up (--quick)."
        : `Up to 3 starts of the cluster at each size. ${ctx.runs} lists and ${ctx.runs} runs of each command after a warm-up run up to 10,000 VMIs;`,
      ctx.quick
        ? ""
        : `above 10,000, ${Math.min(ctx.runs, 3)} of each, and no warm-up for the unfiltered list (kubectl reads every VMI for about a minute).`,
      "Start-up: median of the starts (wall from spawn to the kubeconfig line; first answer: to the first",
      "`GET .../virtualmachineinstances?limit=1` answered; CPU and RSS of the sim process then, from /proc).",
      "List: every VMI, 500 per page (limit/continue, as kubectl and kvmig read), bodies read and dropped by the",
      "bench; sim CPU from /proc. Every tenth VMI is outdated. The cluster runs at speed 1 with its simulated",
      "controllers live (virt-handler's heartbeats among them; the latency case below measures what they cost the",
      "API server). `kvmig outdated` reads 500 VMIs per request;",
      "kubectl too (`--chunk-size` 500 by default), but it prints `-o json` only once it has read them all.",
    ]
      .filter(Boolean)
      .join(" "),
  };
}

async function size(ctx, vms) {
  const heavy = vms > 10_000;
  const starts = ctx.quick ? 1 : Math.min(ctx.runs, 3);
  // Speed 1, controllers live (issue 21 item 7: before it, the bench ran this at --speed 0.01, since
  // virt-handler's heartbeats stalled the sim for seconds a minute at 10,000 VMIs and kept it busy
  // for good at 50,000).
  const args = ["--scenario", "scale", "--vms", String(vms)];
  const startups = [];
  let sim;
  try {
    for (let i = 0; i < starts; i++) {
      ctx.log(`scale ${vms}: starting the simulated cluster (${i + 1} of ${starts})`);
      sim = await startSim(ctx, args, `scale-${vms}`);
      const asked = process.hrtime.bigint();
      const first = await sim.call("GET", `${vmiPath}?limit=1`);
      if (first.status !== 200) throw new Error(`first list: ${first.status}`);
      const firstAnswerMs = sim.readyMs + Number(process.hrtime.bigint() - asked) / 1e6;
      startups.push({
        readyMs: sim.readyMs,
        firstAnswerMs,
        cpuMs: sim.atReady.cpuMs,
        rssKiB: sim.atReady.rssKiB,
      });
      if (i < starts - 1) await sim.stop();
    }
    const listRuns = ctx.quick ? 1 : heavy ? Math.min(ctx.runs, 3) : ctx.runs;
    ctx.log(`scale ${vms}: list throughput, ${listRuns} run${listRuns === 1 ? "" : "s"}`);
    const lists = [];
    for (let i = 0; i < listRuns; i++) {
      const before = sim.stats();
      const started = process.hrtime.bigint();
      const list = await listAll(sim.call, vmiPath, { raw: true });
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const after = sim.stats();
      if (list.total !== null && list.total !== vms) throw new Error(`listed ${list.total} VMIs, not ${vms}`);
      lists.push({ wallMs, simCpuMs: after.cpuMs - before.cpuMs, bytes: list.bytes, pages: list.pages });
    }
    const listWall = median(lists.map((l) => l.wallMs));
    const bytes = lists[0].bytes;

    const outdated = vms / 10;
    const runs = ctx.quick ? 1 : heavy ? Math.min(ctx.runs, 3) : ctx.runs;
    const label = `${count(vms)} VMIs`;
    const cases = [];
    cases.push(
      await comparePair(ctx, {
        id: `outdated-${vms}`,
        label,
        kubeconfig: sim.kubeconfig,
        kvmig: { args: ["outdated", "-A", "-o", "json"], check: jsonItems(outdated) },
        kubectl: {
          args: ["get", "vmi", "-A", "-l", outdatedLabel, "-o", "json"],
          check: kubectlVmiItems(outdated),
        },
        runs,
      }),
    );
    cases.push(
      await comparePair(ctx, {
        id: `check-${vms}`,
        label,
        kubeconfig: sim.kubeconfig,
        kvmig: { args: ["outdated", "-A", "--check", "-o", "json"], check: jsonItems(outdated) },
        kubectl: { args: ["get", "vmi", "-A", "-o", "json"], check: kubectlVmiItems(vms) },
        runs,
        // kubectl reads every VMI for a minute at 50,000: no warm-up (the label list warmed it up).
        warmup: !ctx.quick && !heavy,
      }),
    );
    const end = sim.stats();
    return {
      cases,
      sim: {
        id: `sim-scale-${vms}`,
        vms,
        startup: {
          runs: startups.length,
          readyMs: median(startups.map((s) => s.readyMs)),
          firstAnswerMs: median(startups.map((s) => s.firstAnswerMs)),
          cpuMs: median(startups.map((s) => s.cpuMs)),
          rssKiB: median(startups.map((s) => s.rssKiB)),
          samples: startups,
        },
        list: {
          runs: lists.length,
          wallMs: listWall,
          vmisPerSecond: vms / (listWall / 1000),
          mibPerSecond: bytes / 1024 / 1024 / (listWall / 1000),
          bytes,
          pages: lists[0].pages,
          simCpuMs: median(lists.map((l) => l.simCpuMs)),
          samples: lists,
        },
        peakRssKiB: end.peakRssKiB,
        cpuMs: end.cpuMs,
      },
    };
  } finally {
    await sim?.stop();
  }
}
