// The simulated cluster live at scale: the `scale` scenario at 10,000 and 50,000 VMs (2,000 with
// --quick) at speed 1 with every controller running, and a small list polled every 100 ms for 75
// simulated seconds (8 with --quick) while virt-handler's heartbeats come each minute and a few
// migrations run: how long the sim takes to be ready, and the latency profile of that list
// (p50, p99, worst). Issue 21's targets: ready in ≤ 10 s, worst ≤ 300 ms, p99 ≤ 50 ms at 50,000.
import { readFileSync } from "node:fs";
import { median } from "../lib/measure.mjs";
import { count, mib, ms, target } from "../lib/report.mjs";
import { startSim } from "../lib/sim.mjs";

export const id = "sim-latency";
export const title = "The simulated cluster live at scale: API latency with its controllers running";

/** What is polled: a small list (one pod of the kubevirt namespace), as a watcher's relist or a probe. */
export const pollPath = "/api/v1/namespaces/kubevirt/pods?limit=1";
const pollEveryMs = 100;
/** A request not answered in this long ends the polling (it is counted, with this latency). */
const answerTimeoutMs = 120_000;

export async function run(ctx) {
  const sizes = ctx.quick ? [2_000] : ctx.sizes;
  const windowMs = ctx.quick ? 8_000 : 75_000;
  const migrations = ctx.quick ? 4 : 20;
  const cases = [];
  for (const vms of sizes) {
    ctx.log(`sim-latency ${vms}: polling ${pollPath} for ${windowMs / 1000} s with ${migrations} migrations`);
    const sim = await startSim(ctx, ["--scenario", "scale", "--vms", String(vms)], `latency-${vms}`);
    try {
      cases.push({ id: `sim-latency-${vms}`, vms, ...(await measureLatency(sim, { windowMs, migrations })) });
    } finally {
      await stopWithin(sim, answerTimeoutMs);
    }
  }
  const at50k = cases.find((c) => c.vms === 50_000);
  if (at50k) {
    at50k.targets = [
      target("sim-50k-ready", "ready ≤ 10 s", at50k.readyMs, 10_000, { show: ms }),
      target("sim-50k-latency-max", "small list, worst ≤ 300 ms", at50k.latency.maxMs, 300, { show: ms }),
      target("sim-50k-latency-p99", "small list, p99 ≤ 50 ms", at50k.latency.p99Ms, 50, { show: ms }),
    ];
  }
  return {
    cases,
    tables: [
      {
        title: `A small list polled every ${pollEveryMs} ms, scale scenario at speed 1, controllers live`,
        headers: [
          "VMIs",
          "ready",
          "RSS at ready",
          "requests",
          "p50",
          "p99",
          "worst",
          "over 300 ms",
          "sim CPU in the window",
          "migrations ended",
          "Target",
          "Met",
        ],
        rows: cases.map((c) => [
          count(c.vms),
          ms(c.readyMs),
          mib(c.rssKiB),
          count(c.latency.requests),
          ms(c.latency.p50Ms),
          ms(c.latency.p99Ms),
          ms(c.latency.maxMs),
          count(c.latency.over300),
          ms(c.simCpuMs),
          c.migrationsEnded === null ? `? of ${c.migrations}` : `${c.migrationsEnded} of ${c.migrations}`,
          (c.targets ?? []).map((t) => `${t.text}: ${t.shown}`).join("; ") || "–",
          (c.targets ?? []).map((t) => (t.met === null ? "n/a" : t.met ? "met" : "MISSED")).join("; ") || "–",
        ]),
      },
      beforeTable(),
    ],
    note: [
      `One cluster at each size (\`kvmig sim --scenario scale --vms N\`, speed 1: every simulated controller`,
      "runs, and virt-handler's heartbeat updates every node once a simulated minute).",
      `Once it is ready, ${migrations} VMs are migrated (virt-api's migrate subresource; the scenario allows 5 at`,
      `once) and \`GET ${pollPath}\` is sent every ${pollEveryMs} ms, one at a time (the next goes`,
      `${pollEveryMs} ms after the last was sent, or at once if it took longer), for ${windowMs / 1000} s:`,
      "latency from the request to the last byte of the answer, over HTTPS with keep-alive. Sim CPU: /proc.",
      `Before: the same case against the simulator of commit ${before.commit} (${before.date.slice(0, 10)}, this machine),`,
      "kept in bench/baselines/sim-latency-before.json; a request unanswered for 120 s ended its polling.",
    ].join(" "),
  };
}

/** The profile measured before issue 21 item 7's work on the simulator, shown beside today's. */
const before = JSON.parse(
  readFileSync(new URL("../baselines/sim-latency-before.json", import.meta.url), "utf8"),
);

function beforeTable() {
  return {
    title: `Before: the simulator of commit ${before.commit}, same case`,
    headers: [
      "VMIs",
      "ready",
      "requests",
      "p50",
      "p99",
      "worst",
      "over 300 ms",
      "sim CPU in the window",
      "migrations ended",
    ],
    rows: before.cases.map((c) => [
      count(c.vms),
      ms(c.readyMs),
      count(c.latency.requests),
      ms(c.latency.p50Ms),
      ms(c.latency.p99Ms),
      c.latency.failures > 0 ? `${ms(c.latency.maxMs)} (no answer)` : ms(c.latency.maxMs),
      count(c.latency.over300),
      ms(c.simCpuMs),
      c.migrationsEnded === null ? `? of ${c.migrations}` : `${c.migrationsEnded} of ${c.migrations}`,
    ]),
  };
}

/** Starts the migrations, polls for `windowMs`, and returns the latency profile. */
export async function measureLatency(sim, { windowMs, migrations, path = pollPath }) {
  const targets = await migrationTargets(sim, migrations);
  const before = sim.stats();
  const started = new Set();
  await Promise.all(
    targets.map(async ({ namespace, name }) => {
      const answer = await sim.call(
        "PUT",
        `/apis/subresources.kubevirt.io/v1/namespaces/${namespace}/virtualmachines/${name}/migrate`,
        {},
      );
      if (answer.status !== 202)
        throw new Error(`migrate ${namespace}/${name}: ${answer.status} ${answer.text}`);
      started.add(`${namespace}/${name}`);
    }),
  );
  const latency = await pollLatency(sim, { windowMs, path });
  const after = sim.stats();
  const ended = await endedMigrations(sim, started);
  return {
    readyMs: sim.readyMs,
    rssKiB: sim.atReady.rssKiB,
    windowMs,
    migrations: targets.length,
    migrationsEnded: ended,
    simCpuMs: after.cpuMs - before.cpuMs,
    latency,
  };
}

/**
 * `GET path` every 100 ms, one at a time, until `windowMs` passed (or `stop()` says so): the
 * latency profile. A request not answered within 120 s ends it (a stalled sim is recorded, not
 * waited out).
 */
export async function pollLatency(sim, { windowMs, path = pollPath, stop = () => false }) {
  const began = Date.now();
  const latencies = [];
  let worst = -1;
  let worstAt = 0;
  let failures = 0;
  while (Date.now() - began < windowMs && !stop()) {
    const sent = process.hrtime.bigint();
    let timer;
    const answer = await Promise.race([
      sim.call("GET", path, undefined, { raw: true }).catch((error) => ({ status: 0, error })),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve({ status: 0, error: "no answer" }), answerTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    const latencyMs = Number(process.hrtime.bigint() - sent) / 1e6;
    if (answer.status !== 200) failures++;
    if (latencyMs > worst) {
      worst = latencyMs;
      worstAt = Math.round((Date.now() - began) / 100) / 10;
    }
    latencies.push(latencyMs);
    if (answer.error === "no answer") break;
    const wait = pollEveryMs - latencyMs;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
  return {
    path,
    requests: latencies.length,
    failures,
    p50Ms: median(latencies),
    p90Ms: pct(90),
    p99Ms: pct(99),
    maxMs: sorted.at(-1) ?? null,
    worstAtSeconds: worstAt,
    over100: latencies.filter((l) => l > 100).length,
    over300: latencies.filter((l) => l > 300).length,
  };
}

/** Stops the sim; one too busy to hear SIGINT within `ms` (a stalled one) is killed. */
export async function stopWithin(sim, ms) {
  const stopping = sim.stop();
  stopping.catch(() => {});
  let timer;
  const killed = new Promise((resolve) => {
    timer = setTimeout(() => resolve("killed"), ms);
  });
  const outcome = await Promise.race([stopping, killed]);
  clearTimeout(timer);
  if (outcome === "killed") sim.child.kill("SIGKILL");
  else await stopping;
}

/** The first VMs of the first tenant namespaces, one page each. */
async function migrationTargets(sim, wanted) {
  const out = [];
  for (let ns = 1; out.length < wanted && ns <= 20; ns++) {
    const namespace = `tenant-${String(ns).padStart(2, "0")}`;
    const page = await sim.call(
      "GET",
      `/apis/kubevirt.io/v1/namespaces/${namespace}/virtualmachineinstances?limit=${Math.min(wanted, 5)}`,
    );
    if (page.status !== 200) throw new Error(`listing ${namespace}'s VMIs: ${page.status}`);
    for (const vmi of page.json.items) {
      if (out.length < wanted) out.push({ namespace, name: vmi.metadata.name });
    }
  }
  return out;
}

async function endedMigrations(sim, started) {
  let timer;
  const list = await Promise.race([
    sim.call("GET", "/apis/kubevirt.io/v1/virtualmachineinstancemigrations").catch(() => ({ status: 0 })),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve({ status: 0 }), answerTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (list.status !== 200) return null;
  return list.json.items.filter(
    (m) =>
      started.has(`${m.metadata.namespace}/${m.spec.vmiName}`) &&
      (m.status?.phase === "Succeeded" || m.status?.phase === "Failed"),
  ).length;
}
