// `kvmig watch -A -o json --exit-on-done` next to `kubectl get vmim -A -w -o json` while 500
// migrations (20 with --quick) run on a `scale` cluster: the events each printed, and CPU time
// per event.
//
// So that both watchers see every migration from its start: the bench sets the KubeVirt CR's
// parallelMigrationsPerCluster to 0 (every migration waits in Pending), starts the migrations
// through virt-api's migrate subresource, starts both watchers and waits until each has printed
// all of them, then raises the limits to the number of migrations so that all run at once.
// kvmig ends by itself once none is in flight; kubectl is interrupted at the same point of its
// stream (every migration final), and only its events up to there count.
import { median, ratio, startTimed, timeCommand } from "../lib/measure.mjs";
import { count, mib, ms, target } from "../lib/report.mjs";
import { listAll, startSim } from "../lib/sim.mjs";

export const id = "watch";
export const title = "Watching migrations";

const speed = 10;
const finalPhases = new Set(["Succeeded", "Failed"]);

export async function run(ctx) {
  const migrations = ctx.migrations;
  const runs = ctx.quick ? 1 : Math.min(ctx.runs, 3);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    ctx.log(`watch: ${migrations} migrations, run ${i + 1} of ${runs}`);
    samples.push(await once(ctx, migrations));
  }
  const side = (name) => {
    const pick = (f) => median(samples.map((s) => s[name][f]));
    return {
      command: samples[0][name].command,
      runs: samples.length,
      events: pick("events"),
      progress: pick("progress"),
      wallMs: pick("wallMs"),
      cpuMs: pick("cpuMs"),
      maxRssKiB: pick("maxRssKiB"),
      cpuPerEventMs: pick("cpuPerEventMs"),
    };
  };
  const kvmig = side("kvmig");
  const kubectl = ctx.kubectl ? side("kubectl") : null;
  const missed = ctx.kubectl ? Math.max(...samples.map((s) => s.missed)) : null;
  const result = {
    id: "watch",
    migrations,
    speed,
    kvmig,
    kubectl,
    missed,
    migrationsMs: median(samples.map((s) => s.migrationsMs)),
    ratio: {
      wall: ratio(kvmig.wallMs, kubectl?.wallMs),
      cpu: ratio(kvmig.cpuMs, kubectl?.cpuMs),
      rss: ratio(kvmig.maxRssKiB, kubectl?.maxRssKiB),
      cpuPerEvent: ratio(kvmig.cpuPerEventMs, kubectl?.cpuPerEventMs),
    },
    samples,
  };
  result.targets = [
    target("watch-events", "every (migration, phase) kubectl saw, kvmig saw (missed)", missed, 0, {
      show: count,
    }),
    target("watch-cpu-per-event", "CPU per event ≤ 1.0×", result.ratio.cpuPerEvent, 1.0),
  ];
  const row = (name, s, targets) => [
    `\`${s.command}\``,
    count(s.events),
    name === "kvmig" ? count(s.progress) : "–",
    ms(s.wallMs),
    ms(s.cpuMs),
    ms(s.cpuPerEventMs),
    mib(s.maxRssKiB),
    targets.map((t) => `${t.text}: ${t.shown}`).join("; ") || "–",
    targets.map((t) => (t.met === null ? "n/a" : t.met ? "met" : "MISSED")).join("; ") || "–",
  ];
  return {
    cases: [result],
    tables: [
      {
        title: `Watching ${count(migrations)} migrations at once (scale scenario, --speed ${speed})`,
        headers: [
          "Watcher",
          "events",
          "progress lines",
          "wall",
          "CPU",
          "CPU per event",
          "peak RSS",
          "Target",
          "Met",
        ],
        rows: [row("kvmig", kvmig, result.targets), ...(kubectl ? [row("kubectl", kubectl, [])] : [])],
      },
    ],
    note: [
      `Median of ${runs} run${runs === 1 ? "" : "s"}, each on a fresh cluster of ${count(migrations)} VMs that all migrate;`,
      `the migrations took ${ms(result.migrationsMs)} (wall) from the limits raised to the last one final.`,
      "Events: the initial list plus every change, up to the moment every migration is final (kvmig's NDJSON",
      "records other than PROGRESS; kubectl's JSON objects). Progress lines: kvmig's PROGRESS records, read from",
      "the source launchers' logs (at most 10 followed at once); they are not counted as events.",
      "CPU per event: the watcher's whole CPU time (start-up included) over its events.",
    ].join(" "),
  };
}

async function once(ctx, migrations) {
  const sim = await startSim(
    ctx,
    ["--scenario", "scale", "--vms", String(migrations), "--speed", String(speed)],
    "watch",
  );
  const env = ctx.env(sim.kubeconfig);
  const running = [];
  try {
    const kubevirt = (await sim.call("GET", "/apis/kubevirt.io/v1/kubevirts")).json.items[0];
    const limits = async (cluster, node) => {
      const patched = await sim.call(
        "PATCH",
        `/apis/kubevirt.io/v1/namespaces/${kubevirt.metadata.namespace}/kubevirts/${kubevirt.metadata.name}`,
        {
          spec: {
            configuration: {
              migrations: { parallelMigrationsPerCluster: cluster, parallelOutboundMigrationsPerNode: node },
            },
          },
        },
        { contentType: "application/merge-patch+json" },
      );
      if (patched.status !== 200)
        throw new Error(`patching the KubeVirt CR: ${patched.status} ${patched.text}`);
    };
    await limits(0, 0);

    if (!ctx.quick) {
      // Warm-up on this cluster: kubectl's discovery cache, the file cache for kvmig.
      const warm = { env, cwd: ctx.root, tmp: ctx.tmp };
      if (ctx.kubectl) await timeCommand(ctx.kubectl, ["get", "vmim", "-A", "-o", "json"], warm);
      await timeCommand(
        process.execPath,
        [ctx.distEntry, "watch", "-A", "-o", "json", "--exit-on-done"],
        warm,
      );
    }

    const vmis = (await listAll(sim.call, "/apis/kubevirt.io/v1/virtualmachineinstances")).items;
    await pool(16, vmis.slice(0, migrations), async (vmi) => {
      const { namespace, name } = vmi.metadata;
      const answer = await sim.call(
        "PUT",
        `/apis/subresources.kubevirt.io/v1/namespaces/${namespace}/virtualmachines/${name}/migrate`,
        {},
      );
      if (answer.status !== 202)
        throw new Error(`migrate ${namespace}/${name}: ${answer.status} ${answer.text}`);
    });

    // kubectl: one pretty-printed JSON object per event, one after the other.
    const kubectlEvents = [];
    const phases = new Map();
    let allFinalAt;
    let kubectlRun;
    const objects = jsonObjects((object) => {
      const key = `${object.metadata.namespace}/${object.metadata.name}`;
      const phase = object.status?.phase ?? "";
      kubectlEvents.push(`${key} ${phase}`);
      phases.set(key, phase);
      if (
        allFinalAt === undefined &&
        phases.size === migrations &&
        [...phases.values()].every((p) => finalPhases.has(p))
      ) {
        allFinalAt = kubectlEvents.length;
        void kubectlRun?.stop();
      }
    });
    const kubectlCommand = ["get", "vmim", "-A", "-w", "-o", "json"];
    kubectlRun = ctx.kubectl
      ? startTimed(ctx.kubectl, kubectlCommand, { env, cwd: ctx.root, tmp: ctx.tmp, onStdout: objects })
      : undefined;
    if (kubectlRun) running.push(kubectlRun);

    // kvmig: NDJSON.
    const kvmigEvents = [];
    let progress = 0;
    const kvmigCommand = ["watch", "-A", "-o", "json", "--exit-on-done"];
    const kvmigRun = startTimed(process.execPath, [ctx.distEntry, ...kvmigCommand], {
      env,
      cwd: ctx.root,
      tmp: ctx.tmp,
      onStdout: jsonObjects((record) => {
        if (record.type === "PROGRESS") progress++;
        else kvmigEvents.push(`${record.namespace}/${record.migration} ${record.phase}`);
      }),
    });
    running.push(kvmigRun);

    await waitFor(
      () => kvmigEvents.length >= migrations && (!kubectlRun || kubectlEvents.length >= migrations),
      60_000,
      "both watchers to list the pending migrations",
      [kvmigRun, kubectlRun],
    );
    const opened = process.hrtime.bigint();
    await limits(migrations, migrations);
    const kvmigResult = await withTimeout(kvmigRun.done, 300_000, "kvmig watch to end");
    const migrationsMs = Number(process.hrtime.bigint() - opened) / 1e6;
    if (kvmigResult.code !== 0)
      throw new Error(`kvmig watch: exit ${kvmigResult.code}\n${kvmigResult.stderr}`);
    let kubectlResult;
    if (kubectlRun) {
      await waitFor(() => allFinalAt !== undefined, 60_000, "kubectl to see every migration final", [
        kubectlRun,
      ]);
      kubectlResult = await kubectlRun.done;
    }

    // kubectl prints every change, kvmig each state of a migration once (a final phase is not told
    // again when virt-controller removes the finalizer, a change its record does not show): what
    // counts is a (migration, phase) kubectl printed that kvmig never did.
    const counted = kubectlEvents.slice(0, allFinalAt);
    const ours = new Set(kvmigEvents);
    const missed = new Set(counted.filter((event) => !ours.has(event))).size;

    const summary = (command, result, events) => ({
      command,
      events,
      wallMs: result.wallMs,
      cpuMs: result.cpuMs ?? null,
      maxRssKiB: result.maxRssKiB ?? null,
      cpuPerEventMs: result.cpuMs !== undefined && events > 0 ? result.cpuMs / events : null,
    });
    return {
      migrations,
      migrationsMs,
      missed,
      kvmig: { ...summary(`kvmig ${kvmigCommand.join(" ")}`, kvmigResult, kvmigEvents.length), progress },
      kubectl: kubectlResult
        ? { ...summary(`kubectl ${kubectlCommand.join(" ")}`, kubectlResult, counted.length), progress: null }
        : null,
    };
  } finally {
    for (const r of running) await r.stop("SIGKILL");
    await sim.stop();
  }
}

/** Splits a stream of JSON objects printed one after another, and hands each to `onObject`. */
export function jsonObjects(onObject) {
  let text = "";
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  let scanned = 0;
  return (chunk) => {
    text += chunk;
    for (let i = scanned; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === "\\") escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") {
        if (depth === 0) start = i;
        depth++;
      } else if (c === "}") {
        depth--;
        if (depth === 0) onObject(JSON.parse(text.slice(start, i + 1)));
      }
    }
    if (depth === 0) {
      text = "";
      scanned = 0;
    } else {
      text = text.slice(start);
      scanned = text.length;
      start = 0;
    }
  };
}

async function pool(size, items, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

export async function waitFor(check, timeoutMs, what, runs) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    for (const r of runs) {
      if (r && r.child.exitCode !== null) {
        const result = await r.done;
        throw new Error(`waiting for ${what}: a watcher ended (exit ${result.code})\n${result.stderr}`);
      }
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function withTimeout(promise, timeoutMs, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}
