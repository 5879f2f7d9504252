// `kvmig watch -A -o json` next to `kubectl get vmim -A -w -o json` during an upgrade wave on the
// largest scale cluster (50,000 VMs; 500 with --quick) at --speed 10 (50): the KubeVirt CR turns on
// the workload updater's LiveMigrate with 50 migrations at once, and the VMs still on the
// previous launcher (a tenth) get migrations, which the migration controller runs 50 at a time.
// After 30 s (2 s with --quick) no new ones start; once every migration is final both watchers
// stop. Reported: the migrations, the events each watcher printed, the (migration, phase) pairs
// kubectl printed that kvmig did not (issue 21: 0), CPU per event (kvmig's over kubectl's), and a
// small list's latency on the sim through the wave.
import { ratio, startTimed } from "../lib/measure.mjs";
import { count, mib, ms, target, times } from "../lib/report.mjs";
import { startSim } from "../lib/sim.mjs";
import { pollLatency, stopWithin } from "./sim-latency.mjs";
import { jsonObjects, waitFor } from "./watch.mjs";

export const id = "sim-wave";
export const title = "Watching an upgrade wave on the largest cluster";

const parallel = 50;
const finalPhases = new Set(["Succeeded", "Failed"]);

export async function run(ctx) {
  const vms = ctx.quick ? 500 : Math.max(...ctx.sizes);
  const windowMs = ctx.quick ? 2_000 : 30_000;
  const speed = ctx.quick ? 50 : 10;
  ctx.log(`sim-wave ${vms}: an upgrade wave for ${windowMs / 1000} s at --speed ${speed}, watched`);
  const sim = await startSim(
    ctx,
    ["--scenario", "scale", "--vms", String(vms), "--speed", String(speed)],
    `wave-${vms}`,
  );
  let result;
  try {
    result = { id: `sim-wave-${vms}`, vms, speed, windowMs, ...(await wave(ctx, sim, vms, windowMs)) };
  } finally {
    await stopWithin(sim, 120_000);
  }
  result.targets = [
    target("wave-events", "every (migration, phase) kubectl saw, kvmig saw (missed)", result.missed, 0, {
      show: count,
    }),
    target("wave-cpu-per-event", "CPU per event ≤ 1.0×", result.ratio.cpuPerEvent, 1.0),
  ];
  const row = (s, targets) => [
    `\`${s.command}\``,
    count(s.events),
    ms(s.cpuMs),
    ms(s.cpuPerEventMs),
    mib(s.maxRssKiB),
    targets.map((t) => `${t.text}: ${t.shown}`).join("; ") || "–",
    targets.map((t) => (t.met === null ? "n/a" : t.met ? "met" : "MISSED")).join("; ") || "–",
  ];
  const l = result.latency;
  return {
    cases: [result],
    tables: [
      {
        title: `Watching an upgrade wave: ${count(vms)} VMs, ${count(result.migrations)} migrations (${count(result.succeeded)} succeeded), --speed ${speed}`,
        headers: ["Watcher", "events", "CPU", "CPU per event", "peak RSS", "Target", "Met"],
        rows: [row(result.kvmig, result.targets), ...(result.kubectl ? [row(result.kubectl, [])] : [])],
      },
      {
        title: "The small list's latency during the wave",
        headers: ["requests", "p50", "p99", "worst", "over 300 ms", "CPU per event, kvmig ÷ kubectl"],
        rows: [
          [
            count(l.requests),
            ms(l.p50Ms),
            ms(l.p99Ms),
            ms(l.maxMs),
            count(l.over300),
            times(result.ratio.cpuPerEvent),
          ],
        ],
      },
    ],
    note: [
      `One cluster of ${count(vms)} VMs (\`--scenario scale --speed ${speed}\`; a tenth of them on the previous`,
      "launcher). Both watchers start and list a first migration (so both are watching); then the KubeVirt CR",
      `gets \`workloadUpdateMethods: [LiveMigrate]\` and ${parallel} migrations at once (2 per node). The simulated`,
      "workload updater creates migrations for the free slots at each pass, and passes after every change (KubeVirt's",
      "at most every 5 s), so more may wait in Pending; the migration controller runs them",
      `${parallel} at a time. After ${windowMs / 1000} s no new ones; once every migration is final (and`,
      `${ctx.quick ? 1 : 3} s more) both watchers get SIGINT. Events: kubectl's JSON objects (every change); kvmig's`,
      "NDJSON records other than PROGRESS (each state of a migration once: a final phase is not told again",
      "when the finalizer goes). Missed: the (migration, phase) pairs kubectl printed that kvmig never did, over the wave's migrations (the first one, started before either watcher listed, only tells that both watch).",
      "CPU per event: the watcher's whole CPU time (start-up included) over its events. Latency:",
      `\`GET ${l.path}\` every 100 ms from the wave's start until every migration is final.`,
    ].join(" "),
  };
}

async function wave(ctx, sim, vms, windowMs) {
  const env = ctx.env(sim.kubeconfig);
  const running = [];
  try {
    const kubevirt = (await sim.call("GET", "/apis/kubevirt.io/v1/kubevirts")).json.items[0];
    const patchCr = async (spec) => {
      const answer = await sim.call(
        "PATCH",
        `/apis/kubevirt.io/v1/namespaces/${kubevirt.metadata.namespace}/kubevirts/${kubevirt.metadata.name}`,
        { spec },
        { contentType: "application/merge-patch+json" },
      );
      if (answer.status !== 200) throw new Error(`patching the KubeVirt CR: ${answer.status} ${answer.text}`);
    };

    // A first migration, which both watchers must list: then both are watching.
    const first = (
      await sim.call("GET", "/apis/kubevirt.io/v1/namespaces/tenant-01/virtualmachineinstances?limit=1")
    ).json.items[0];
    const started = await sim.call(
      "PUT",
      `/apis/subresources.kubevirt.io/v1/namespaces/tenant-01/virtualmachines/${first.metadata.name}/migrate`,
      {},
    );
    if (started.status !== 202) throw new Error(`migrate: ${started.status} ${started.text}`);

    const kubectlEvents = [];
    const kubectlCommand = ["get", "vmim", "-A", "-w", "-o", "json"];
    const kubectlRun = ctx.kubectl
      ? startTimed(ctx.kubectl, kubectlCommand, {
          env,
          cwd: ctx.root,
          tmp: ctx.tmp,
          onStdout: jsonObjects((object) =>
            kubectlEvents.push(
              `${object.metadata.namespace}/${object.metadata.name} ${object.status?.phase ?? ""}`,
            ),
          ),
        })
      : undefined;
    if (kubectlRun) running.push(kubectlRun);
    const kvmigEvents = [];
    const kvmigCommand = ["watch", "-A", "-o", "json"];
    const kvmigRun = startTimed(process.execPath, [ctx.distEntry, ...kvmigCommand], {
      env,
      cwd: ctx.root,
      tmp: ctx.tmp,
      // NDJSON: one object per line, which jsonObjects splits as it splits kubectl's.
      onStdout: jsonObjects((record) => {
        if (record.type !== "PROGRESS")
          kvmigEvents.push(`${record.namespace}/${record.migration} ${record.phase}`);
      }),
    });
    running.push(kvmigRun);
    await waitFor(
      () => kvmigEvents.length > 0 && (!kubectlRun || kubectlEvents.length > 0),
      120_000,
      "both watchers to list the first migration",
      [kvmigRun, kubectlRun],
    );

    // The first migration started before either watcher: what each saw of it depends on when
    // each listed (kubectl may list it at Scheduling and print PreparingTarget, which was over when
    // kvmig listed). It only tells that both watch; the wave's migrations are what is compared.
    const sentinel = new Set([...kubectlEvents, ...kvmigEvents].map((event) => event.split(" ")[0]));

    // The wave, and the small list polled through it.
    ctx.log(`sim-wave ${vms}: both watchers are watching; the wave begins`);
    await patchCr({
      workloadUpdateStrategy: { workloadUpdateMethods: ["LiveMigrate"] },
      configuration: {
        migrations: { parallelMigrationsPerCluster: parallel, parallelOutboundMigrationsPerNode: 2 },
      },
    });
    let waveOver = false;
    const polling = pollLatency(sim, { windowMs: 30 * 60_000, stop: () => waveOver });
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    await patchCr({ workloadUpdateStrategy: { workloadUpdateMethods: [] } });
    ctx.log(`sim-wave ${vms}: no new migrations; waiting for those started to end`);
    let migrations = [];
    const deadline = Date.now() + 1_200_000;
    for (;;) {
      const list = await sim.call("GET", "/apis/kubevirt.io/v1/virtualmachineinstancemigrations");
      if (list.status !== 200) throw new Error(`listing the migrations: ${list.status}`);
      migrations = list.json.items;
      if (migrations.every((m) => finalPhases.has(m.status?.phase))) break;
      if (Date.now() > deadline) throw new Error("the wave's migrations did not end within 20 minutes");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    waveOver = true;
    const latency = await polling;
    await new Promise((resolve) => setTimeout(resolve, ctx.quick ? 1000 : 3000));
    const [kvmigResult, kubectlResult] = await Promise.all([
      kvmigRun.stop("SIGINT"),
      kubectlRun?.stop("SIGINT"),
    ]);
    if (kvmigResult.code !== 0 && kvmigResult.code !== 130)
      throw new Error(`kvmig watch: exit ${kvmigResult.code ?? kvmigResult.signal}\n${kvmigResult.stderr}`);

    // kubectl prints every change, kvmig each state of a migration once (a final phase is not
    // told again when the finalizer goes): what counts is a (migration, phase) kvmig never told.
    const ours = new Set(kvmigEvents);
    const missedPairs = [
      ...new Set(kubectlEvents.filter((event) => !ours.has(event) && !sentinel.has(event.split(" ")[0]))),
    ];
    const missed = missedPairs.length;
    const summary = (command, result, events) => ({
      command,
      events,
      wallMs: result.wallMs,
      cpuMs: result.cpuMs ?? null,
      maxRssKiB: result.maxRssKiB ?? null,
      cpuPerEventMs: result.cpuMs !== undefined && events > 0 ? result.cpuMs / events : null,
    });
    const kvmig = summary(`kvmig ${kvmigCommand.join(" ")}`, kvmigResult, kvmigEvents.length);
    const kubectl = kubectlResult
      ? summary(`kubectl ${kubectlCommand.join(" ")}`, kubectlResult, kubectlEvents.length)
      : null;
    return {
      migrations: migrations.length,
      succeeded: migrations.filter((m) => m.status?.phase === "Succeeded").length,
      missed: kubectl ? missed : null,
      // Which (migration, phase) pairs, to look into a miss.
      missedPairs: kubectl ? missedPairs.slice(0, 20) : null,
      kvmig,
      kubectl,
      ratio: { cpuPerEvent: ratio(kvmig.cpuPerEventMs, kubectl?.cpuPerEventMs) },
      latency,
    };
  } finally {
    for (const r of running) await r.stop("SIGKILL");
  }
}
