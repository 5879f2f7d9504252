// The soak (issue 21 item 8): `npm run soak` (which builds first), or `node scripts/soak.mjs
// [--minutes 60] [--vms 1000] [--speed 10] [--seed 1] [--json FILE]`. An upgrade wave on the
// `scale` scenario (a tenth of the VMs on the previous launcher) for a simulated hour, under API
// faults, with the built CLI's `kvmig watch -A -o json` and `kvmig outdated -A --migrate
// --concurrency 4 --yes -o json` running through it as child processes:
//
//   minute  0     API faults on: every watch stream ends 30 s after it began, 5% of the other
//                 requests answered 503; `kvmig watch` starts (its --timeout ends it at the end)
//   minute  1     the KubeVirt CR's workloadUpdateMethods becomes [LiveMigrate]; `kvmig
//                 outdated --migrate` starts; the workload updater and kvmig race for the VMs
//   minute  3+    one node's virt-handler restarts (the first node with a migration running
//                 through it from minute 3 on): every migration through it fails as KubeVirt's
//                 do when the migration proxy goes away (`client socket is closed`)
//   minute 10     a node is drained as `kubectl drain` does it (cordon, then every pod evicted
//                 and each refusal retried every 5 s until the node is empty); KubeVirt's
//                 eviction webhook and evacuation controller migrate its VMs away; 5 minutes
//                 after it is empty it is uncordoned
//   minute 40     the API server is away for 10 s (every connection dropped, new ones refused)
//   minute 60     watch's --timeout: it must exit by itself
//
// Times are simulated; every fault's length too (so at --speed 10 the outage lasts 1 s of wall
// time). With --minutes the timeline shrinks in proportion. The simulator runs in this process
// (bundled from src/sim/ with esbuild, used through startSimCluster, its fault controls, its
// store's change feed and its HTTPS API); kvmig runs as it ships (dist/kvmig.js).
//
// Asserted, each a line of the report (ok or FAIL) and exit 1 when one fails:
//   - the wave ran as planned (the restart hit a migration, the drain ended and the node was
//     uncordoned, every migration ended) and was over before the run's last sixth
//   - every migration the server recorded in a final phase (the store's change feed) was seen by
//     watch exactly once in that phase: one NDJSON record of type ADDED or MODIFIED with it; none
//     missed, none repeated, none the server never had
//   - every VM outdated at the start ended on the current launcher, or kvmig outdated reported it
//     failed (or timed out) with a cause
//   - kvmig watch's memory is flat: its live heap after a full GC (sampled by the probe inside the
//     process), the mean of the last sixth of its run (the last 10 minutes of an hour) at most 10%
//     above that of the first sixth, from its first requests on; RSS is reported beside it
//   - both kvmig processes exit by themselves with no socket or timer left (from inside each
//     process: its `beforeExit` came, so nothing held the event loop, and nothing but its stdout
//     and stderr was open at `exit`); watch with --timeout's exit 6
//   - the simulator's memory is flat once the wave settled: its live heap after a full GC, the
//     mean of the last 10 minutes at most 10% above that of the 10 after the wave. Over the wave
//     it grows with the cluster's state (each migration's VMIM, pods and events, and the watch
//     history of the last 10,000 changes), as an API server's does; the report gives both.
// Exit 2: the soak itself could not run.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const usage = `usage: node scripts/soak.mjs [options]
  --minutes N   simulated minutes (default 60); the timeline shrinks in proportion
  --vms N       the scale scenario's VMs, a tenth of them outdated (default 1000)
  --speed X     simulated seconds per wall second (default 10)
  --seed N      the simulator's seed (default 1)
  --json FILE   also write the report as JSON to FILE`;

const root = fileURLToPath(new URL("..", import.meta.url));
const distEntry = join(root, "dist", "kvmig.js");

const finalPhases = new Set(["Succeeded", "Failed"]);
const vmimStorage = "virtualmachineinstancemigrations.kubevirt.io";
const vmiStorage = "virtualmachineinstances.kubevirt.io";
const outdatedLabel = "kubevirt.io/outdatedLauncherImage";
const memoryLimit = 0.1;

function options() {
  const { values } = parseArgs({
    options: {
      minutes: { type: "string", default: "60" },
      vms: { type: "string", default: "1000" },
      speed: { type: "string", default: "10" },
      seed: { type: "string", default: "1" },
      json: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const number = (name, min, max, integer) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      console.error(
        `--${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}\n${usage}`,
      );
      process.exit(2);
    }
    return n;
  };
  return {
    minutes: number("minutes", 1, 24 * 60, false),
    vms: number("vms", 20, 50_000, true),
    speed: number("speed", 0.01, 1000, false),
    seed: number("seed", 0, 2 ** 31 - 1, true),
    json: values.json,
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The simulator, bundled from src/sim/ into `dir` (its scenarios linked beside it). */
async function loadSimulator(dir) {
  const { build } = await import("esbuild");
  const outfile = join(dir, "sim.mjs");
  await build({
    entryPoints: [join(root, "src", "sim", "cluster.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    logLevel: "warning",
    banner: { js: 'const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);' },
  });
  symlinkSync(join(root, "src", "sim", "scenarios"), join(dir, "scenarios"));
  return import(pathToFileURL(outfile).href);
}

/** A full GC before a heap sample, so that the samples compare live data, not garbage. */
function fullGc() {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc");
  return () => gc();
}

/**
 * An HTTPS client for the simulator as sim-admin: JSON in and out. Faults are part of the soak,
 * so a 5xx, a 429 when `retry429`, and a refused or dropped connection are tried again.
 */
function client(cluster) {
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca: cluster.pki.caPem });
  const token = cluster.token("sim-admin");
  const once = (method, path, body, contentType) =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${cluster.url}${path}`, {
        method,
        agent,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          ...(text ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) } : {}),
        },
      });
      req.setTimeout(30_000, () => req.destroy(new Error("no answer in 30 s")));
      req.on("response", (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          const data = Buffer.concat(chunks).toString("utf8");
          let json;
          try {
            json = data ? JSON.parse(data) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, json, text: data });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(text);
    });
  const call = async (method, path, body, { contentType = "application/json", retry429 = true } = {}) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      let answer;
      try {
        answer = await once(method, path, body, contentType);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(200);
        continue;
      }
      const again = answer.status >= 500 || (answer.status === 429 && retry429);
      if (!again || Date.now() > deadline) return answer;
      await sleep(200);
    }
  };
  call.close = () => agent.destroy();
  return call;
}

function must(answer, what) {
  if (answer.status < 200 || answer.status > 299) throw new Error(`${what}: ${answer.status} ${answer.text}`);
  return answer.json;
}

/**
 * Loaded with --import into each kvmig process (which runs with --expose-gc): how it ended, from
 * the inside. `active` is what is still open at exit, but for the process's own stdout and
 * stderr (a pipe each). SIGUSR2 asks for a sample: a full GC, then the live heap appended to a
 * file. The listener neither keeps the process alive nor counts as open.
 */
const probeSource = `import { appendFileSync, writeFileSync } from "node:fs";
const file = process.env.KVMIG_SOAK_PROBE;
let drained = false;
process.on("SIGUSR2", () => {
  globalThis.gc();
  appendFileSync(file + ".heap", process.memoryUsage().heapUsed + String.fromCharCode(10));
});
process.on("beforeExit", () => { drained = true; });
process.on("exit", (code) => {
  const active = process.getActiveResourcesInfo();
  for (const stream of [process.stdout, process.stderr]) {
    const handle = stream._handle?.constructor?.name;
    const i = active.indexOf(handle === "Pipe" ? "PipeWrap" : handle === "TTY" ? "TTYWrap" : "");
    if (i >= 0) active.splice(i, 1);
  }
  writeFileSync(file, JSON.stringify({ code, drained, active }));
});
`;

/** Runs `kvmig ...args` with the probe; keeps stdout whole or line by line, and stderr's tail. */
function startKvmig(name, args, { dir, kubeconfig, onLine }) {
  const probe = join(dir, `${name}.probe.json`);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", pathToFileURL(join(dir, "probe.mjs")).href, distEntry, ...args],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        KUBECONFIG: kubeconfig,
        NO_COLOR: "1",
        TERM: "dumb",
        KVMIG_SOAK_PROBE: probe,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let partial = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    if (!onLine) {
      stdout += chunk;
      return;
    }
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line !== "") onLine(line);
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-32_768);
  });
  const exited = new Promise((resolve) => {
    child.on("close", (code, signal) => {
      if (onLine && partial !== "") onLine(partial);
      let probed;
      try {
        probed = JSON.parse(readFileSync(probe, "utf8"));
      } catch {
        probed = undefined;
      }
      resolve({ code, signal, wallMs: performance.now() - started, probe: probed });
    });
  });
  return {
    name,
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    /** Asks the probe for a live-heap sample (after a full GC). */
    sampleHeap: () => {
      try {
        return child.kill("SIGUSR2");
      } catch {
        return false;
      }
    },
    /** The live-heap samples the probe wrote, in KiB, in the order asked. */
    heapSamples: () => {
      try {
        return readFileSync(`${probe}.heap`, "utf8")
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => Number(line) / 1024);
      } catch {
        return [];
      }
    },
  };
}

function rssKiB(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const mean = (values) =>
  values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const minutesText = (ms) => `${(ms / 60_000).toFixed(1)} min`;
const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

/** The mean of the samples in [from, from + span) and in (to - span, to]; the change between them. */
function flatness(samples, from, to, span) {
  const first = samples.filter((s) => s.at >= from && s.at < from + span).map((s) => s.value);
  const last = samples.filter((s) => s.at > to - span && s.at <= to).map((s) => s.value);
  const a = mean(first);
  const b = mean(last);
  const change = (b - a) / a;
  return {
    first: a,
    last: b,
    samplesFirst: first.length,
    samplesLast: last.length,
    change,
    ok: first.length > 0 && last.length > 0 && change <= memoryLimit,
  };
}

async function main() {
  const opts = options();
  const wallStart = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "kvmig-soak-"));
  const gc = fullGc();
  const report = { options: opts, timeline: [], checks: [] };
  const log = (line) =>
    process.stderr.write(`soak [${((performance.now() - wallStart) / 1000).toFixed(1)}s]: ${line}\n`);
  let cluster;
  let call;
  const children = [];
  try {
    const sim = await loadSimulator(dir);
    writeFileSync(join(dir, "probe.mjs"), probeSource);
    const { speed, minutes } = opts;
    const runMs = minutes * 60_000;
    /** A point of the hour, scaled to the run. */
    const at = (minute) => (minute / 60) * runMs;
    cluster = await sim.startSimCluster({ scenario: "scale", vms: opts.vms, seed: opts.seed, speed });
    const t0 = cluster.time.now();
    const rv0 = cluster.store.resourceVersion;
    const simNow = () => cluster.time.now() - t0;
    const event = (what) => {
      report.timeline.push({ atMs: simNow(), what });
      log(`${minutesText(simNow())}: ${what}`);
    };
    const until = async (ms) => {
      while (simNow() < ms) await sleep(Math.min(250, Math.max(5, (ms - simNow()) / speed)));
    };
    const simSleep = (ms) => until(simNow() + ms);
    call = client(cluster);
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, cluster.kubeconfig(), { mode: 0o600 });

    // What the server recorded: every migration's phases, from the store's change feed.
    const recorded = new Map();
    const unsubscribe = cluster.store.subscribe((change) => {
      if (change.storage !== vmimStorage) return;
      const m = change.object;
      const key = `${m.metadata.namespace}/${m.metadata.name}`;
      let entry = recorded.get(key);
      if (!entry) {
        // Whether its VM still ran an outdated launcher when the migration was made.
        const vmi = cluster.store.get(vmiStorage, m.metadata.namespace, m.spec?.vmiName ?? "");
        entry = {
          key,
          uid: m.metadata.uid,
          vmi: m.spec?.vmiName,
          created: simNow(),
          ofOutdated: vmi?.metadata.labels?.[outdatedLabel] !== undefined,
          phases: [],
          deleted: false,
        };
        recorded.set(key, entry);
      }
      const phase = m.status?.phase ?? "";
      if (change.type === "DELETED") entry.deleted = true;
      else if (entry.phases.at(-1) !== phase) entry.phases.push(phase);
      if (finalPhases.has(phase) && entry.final === undefined) {
        entry.final = phase;
        entry.finalAt = simNow();
        entry.failureReason = change.object.status?.migrationState?.failureReason;
      }
    });

    const vmis = cluster.store.list(vmiStorage);
    const outdatedAtStart = vmis
      .filter((v) => v.metadata.labels?.[outdatedLabel] !== undefined)
      .map((v) => `${v.metadata.namespace}/${v.metadata.name}`);
    report.cluster = {
      vms: vmis.length,
      outdated: outdatedAtStart.length,
      nodes: cluster.store.list("nodes").length,
    };
    log(
      `${vmis.length} VMs (${outdatedAtStart.length} outdated) on ${report.cluster.nodes} nodes; ${minutes} simulated minutes at ${speed}x (${minutesText(runMs / speed)} of wall time)`,
    );

    // The API faults, in simulated time.
    const dropMs = Math.max(1, Math.round(30_000 / speed));
    cluster.faults.set(`drop-watches=${dropMs}ms,errors=0.05:503`);
    event(`API faults on: watches dropped every 30 s (${dropMs} ms of wall time), 5% of other requests 503`);

    // kvmig watch, for the whole run.
    const seen = new Map();
    let progressRecords = 0;
    let records = 0;
    // Its --timeout runs from here, in wall time.
    const watchEndsWall = performance.now() + Math.ceil(runMs / speed);
    const watch = startKvmig(
      "watch",
      ["watch", "-A", "-o", "json", "--timeout", `${Math.ceil(runMs / speed)}ms`],
      {
        dir,
        kubeconfig,
        onLine: (line) => {
          records++;
          let r;
          try {
            r = JSON.parse(line);
          } catch {
            log(`watch printed a line that is not JSON: ${line.slice(0, 200)}`);
            return;
          }
          if (r.type === "PROGRESS") {
            progressRecords++;
            return;
          }
          const key = `${r.namespace}/${r.migration}`;
          let entry = seen.get(key);
          if (!entry) {
            entry = { records: [], finals: [] };
            seen.set(key, entry);
          }
          entry.records.push(`${r.type} ${r.phase}`);
          if (r.type !== "DELETED" && finalPhases.has(r.phase)) entry.finals.push(r.phase);
        },
      },
    );
    children.push(watch);
    // Up once the server has had its first requests (the lists and watches of migrations and VMIs):
    // kvmig's memory is compared from then on, not from the process's start-up.
    const requestsBefore = cluster.faults.stats().requests;
    while (cluster.faults.stats().requests < requestsBefore + 4 && watch.child.exitCode === null)
      await sleep(20);
    const watchReadyAt = simNow();
    event("kvmig watch -A -o json started");

    // Memory, every 10 simulated seconds: kvmig's RSS, and the simulator's live heap (after a full
    // GC); every 20 s also watch's live heap (the probe's, after a full GC in that process), but
    // not in its last 1.5 s of wall time, when it may be exiting.
    let outdated;
    const memory = { watch: [], watchHeap: [], outdated: [], simHeap: [], simRss: [] };
    const heapAsked = [];
    let sampling = true;
    const sampler = (async () => {
      for (let i = 0; sampling; i++) {
        const now = simNow();
        const w = rssKiB(watch.child.pid);
        if (w !== undefined && watch.child.exitCode === null) memory.watch.push({ at: now, value: w });
        if (i % 2 === 0 && watch.child.exitCode === null && performance.now() < watchEndsWall - 1500) {
          if (watch.sampleHeap()) heapAsked.push(now);
        }
        const o = outdated ? rssKiB(outdated.child.pid) : undefined;
        if (o !== undefined && outdated.child.exitCode === null) memory.outdated.push({ at: now, value: o });
        gc();
        const usage = process.memoryUsage();
        memory.simHeap.push({ at: now, value: usage.heapUsed / 1024 });
        memory.simRss.push({ at: now, value: usage.rss / 1024 });
        await simSleep(10_000);
      }
    })();

    // Minute 1: the wave.
    await until(at(1));
    const kubevirt = must(await call("GET", "/apis/kubevirt.io/v1/kubevirts"), "listing the KubeVirt CR")
      .items[0];
    must(
      await call(
        "PATCH",
        `/apis/kubevirt.io/v1/namespaces/${kubevirt.metadata.namespace}/kubevirts/${kubevirt.metadata.name}`,
        { spec: { workloadUpdateStrategy: { workloadUpdateMethods: ["LiveMigrate"] } } },
        { contentType: "application/merge-patch+json" },
      ),
      "setting workloadUpdateMethods",
    );
    event("KubeVirt CR: workloadUpdateMethods [LiveMigrate]");
    outdated = startKvmig(
      "outdated",
      ["outdated", "-A", "--migrate", "--concurrency", "4", "--yes", "-o", "json"],
      { dir, kubeconfig },
    );
    children.push(outdated);
    event("kvmig outdated -A --migrate --concurrency 4 --yes -o json started");

    // Minute 3 on: one node's virt-handler restarts.
    const handler = (async () => {
      await until(at(3));
      let node;
      for (;;) {
        const running = cluster.store
          .list(vmiStorage)
          .map((v) => v.status?.migrationState)
          .find((s) => s && !s.completed && s.startTimestamp && s.sourceNode);
        if (running) {
          node = running.sourceNode;
          break;
        }
        if (simNow() > at(50)) return undefined;
        await simSleep(1000);
      }
      // The migrations running through the node when its handler goes (their VMIs' migrationUid).
      const through = new Set(
        cluster.store
          .list(vmiStorage)
          .map((v) => v.status?.migrationState)
          .filter((s) => s && !s.completed && (s.sourceNode === node || s.targetNode === node))
          .map((s) => s.migrationUid),
      );
      const startedAt = simNow();
      const restartMs = 10_000;
      const remove = cluster.addMigrationFaults([{ type: "connectionDrop", node, atProgress: 0 }]);
      event(
        `virt-handler on ${node} restarts (its migrations lose the connection for ${restartMs / 1000} s)`,
      );
      await simSleep(restartMs);
      remove();
      event(`virt-handler on ${node} is back`);
      return { node, through, startedAt, backAt: simNow() };
    })();

    // Minute 10: a drain, as kubectl drain does it; uncordoned 5 minutes after the node is empty.
    const drain = (async () => {
      await until(at(10));
      const counts = new Map();
      for (const pod of cluster.store.list("pods")) {
        const node = pod.spec?.nodeName;
        if (node && pod.status?.phase === "Running") counts.set(node, (counts.get(node) ?? 0) + 1);
      }
      // The node with the most VMs running.
      const node = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
      const nodePath = `/api/v1/nodes/${node}`;
      const cordon = (unschedulable) =>
        call("PATCH", nodePath, { spec: { unschedulable } }, { contentType: "application/merge-patch+json" });
      must(await cordon(true), `cordoning ${node}`);
      const started = simNow();
      event(`drain of ${node} (${counts.get(node)} VMs): cordoned, evicting`);
      let evictions = 0;
      let refused = 0;
      let gaveUp = false;
      for (;;) {
        if (simNow() > at(50)) {
          gaveUp = true;
          event(`drain of ${node}: not empty by minute 50; given up`);
          break;
        }
        const pods = must(
          await call("GET", `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`),
          "listing the node's pods",
        ).items.filter((p) => !p.metadata.ownerReferences?.some((o) => o.kind === "DaemonSet"));
        if (pods.length === 0) break;
        await Promise.all(
          pods.map(async (pod) => {
            const { namespace, name } = pod.metadata;
            evictions++;
            const answer = await call(
              "POST",
              `/api/v1/namespaces/${namespace}/pods/${name}/eviction`,
              { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
              { retry429: false },
            );
            if (answer.status === 429) refused++;
            else if (answer.status !== 201 && answer.status !== 404)
              throw new Error(`evicting ${namespace}/${name}: ${answer.status} ${answer.text}`);
          }),
        );
        await simSleep(5000);
      }
      const emptyAt = simNow();
      if (!gaveUp)
        event(
          `drain of ${node}: empty after ${minutesText(emptyAt - started)} (${evictions} evictions, ${refused} refused)`,
        );
      await simSleep(at(5));
      must(await cordon(false), `uncordoning ${node}`);
      event(`${node} uncordoned`);
      return {
        node,
        vms: counts.get(node),
        drainMs: emptyAt - started,
        evictions,
        refused,
        gaveUp,
        uncordonedAt: simNow(),
      };
    })();

    // Minute 40: the outage.
    const outage = (async () => {
      await until(at(40));
      const ms = Math.max(1, Math.round(10_000 / speed));
      event(`API server away for 10 s (${ms} ms of wall time)`);
      await cluster.faults.outage(ms);
      event("API server back");
    })();

    const watchExit = watch.exited.then((end) => {
      event(`kvmig watch exited (${end.code ?? end.signal})`);
      return { ...end, simAt: simNow() };
    });
    const [handlerResult, drainResult] = await Promise.all([handler, drain, outage]);
    // Each kvmig process has until a minute after the watch's --timeout to exit by itself.
    const exitBy = async (exited) => {
      let timer;
      const grace = new Promise((resolve) => {
        timer = setTimeout(resolve, Math.max(0, watchEndsWall + 60_000 - performance.now()));
      });
      const end = await Promise.race([exited, grace]);
      clearTimeout(timer);
      return end;
    };
    const watchEnded = await exitBy(watchExit);
    const watchEnd = watchEnded ?? { code: null, signal: null, wallMs: null, simAt: simNow() };
    const outdatedEnd = await exitBy(outdated.exited);
    sampling = false;
    await sampler;
    // The probe's samples, in the order asked.
    memory.watchHeap = watch.heapSamples().map((value, i) => ({ at: heapAsked[i] ?? Number.NaN, value }));
    const endMs = simNow();
    unsubscribe();
    const faultStats = cluster.faults.stats();
    cluster.faults.clear();

    // ---- the checks ----------------------------------------------------------------------------
    const check = (name, ok, detail) => {
      report.checks.push({ name, ok, detail });
    };

    // 1. Every final migration seen by watch exactly once in its final phase.
    // A migration that ended in the last 5 s (wall) of the watch could not be seen: none should.
    const seeable = watchEnd.simAt - 5000 * speed;
    const finals = [...recorded.values()].filter((e) => e.final !== undefined && e.finalAt <= seeable);
    const late = [...recorded.values()].filter((e) => e.final !== undefined && e.finalAt > seeable);
    const missed = [];
    const repeated = [];
    const wrong = [];
    for (const e of finals) {
      const s = seen.get(e.key);
      const count = s ? s.finals.length : 0;
      if (count === 0) missed.push(e.key);
      else if (count > 1) repeated.push(`${e.key} (${s.records.join(", ")})`);
      else if (s.finals[0] !== e.final) wrong.push(`${e.key}: server ${e.final}, watch ${s.finals[0]}`);
    }
    const phantoms = [...seen.keys()].filter((key) => !recorded.has(key));
    const unfinished = [...recorded.values()]
      .filter((e) => e.final === undefined && !e.deleted)
      .map((e) => e.key);
    const lastFinalAt = Math.max(0, ...[...recorded.values()].map((e) => e.finalAt ?? 0));
    const settledAt = Math.max(lastFinalAt, drainResult?.uncordonedAt ?? endMs);

    // 0. The wave as planned: each step happened, and it was over before the last sixth.
    const steps = [
      handlerResult ? undefined : "no virt-handler restart (no migration ran)",
      drainResult.gaveUp ? "the drained node never emptied" : undefined,
      unfinished.length ? `${unfinished.length} migrations unfinished at the end` : undefined,
      late.length ? `${late.length} migrations ended as the watch ended` : undefined,
      settledAt > watchEnd.simAt - runMs / 6
        ? `the wave settled at ${minutesText(settledAt)}, in the run's last sixth`
        : undefined,
    ].filter(Boolean);
    check(
      "the wave ran as planned and settled before the last sixth of the run",
      steps.length === 0,
      steps.length
        ? steps.join("; ")
        : `settled at ${minutesText(settledAt)} of ${minutesText(watchEnd.simAt)}`,
    );
    check(
      "every final migration seen by watch exactly once in its final phase",
      missed.length + repeated.length + wrong.length + phantoms.length === 0,
      `${finals.length} final (${finals.filter((e) => e.final === "Succeeded").length} succeeded, ${finals.filter((e) => e.final === "Failed").length} failed); missed ${missed.length}, repeated ${repeated.length}, wrong phase ${wrong.length}, unknown to the server ${phantoms.length}${[...missed, ...repeated, ...wrong, ...phantoms].length ? `: ${[...missed, ...repeated, ...wrong, ...phantoms].slice(0, 5).join("; ")}` : ""}`,
    );

    // 2. Every outdated VM current, or reported failed with a cause.
    let outdatedReport;
    try {
      outdatedReport = JSON.parse(outdated.stdout());
    } catch {
      outdatedReport = undefined;
    }
    const results = new Map((outdatedReport?.results ?? []).map((r) => [`${r.namespace}/${r.vm}`, r]));
    const stillOutdated = [];
    const failedWithCause = [];
    for (const key of outdatedAtStart) {
      const [namespace, name] = key.split("/");
      const vmi = cluster.store.get(vmiStorage, namespace, name);
      const current =
        vmi && vmi.metadata.labels?.[outdatedLabel] === undefined && vmi.status?.phase === "Running";
      if (current) continue;
      const r = results.get(key);
      if (r && (r.outcome === "failed" || r.outcome === "timeout") && r.detail)
        failedWithCause.push(`${key}: ${r.detail}`);
      else
        stillOutdated.push(
          `${key} (kvmig: ${r ? `${r.outcome}${r.detail ? `, ${r.detail}` : ""}` : "no result"})`,
        );
    }
    const outcomes = {};
    for (const r of results.values()) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    check(
      "every outdated VM ended current or was reported failed with a cause",
      outdatedReport !== undefined && stillOutdated.length === 0,
      `${outdatedAtStart.length - stillOutdated.length - failedWithCause.length} of ${outdatedAtStart.length} current, ${failedWithCause.length} reported failed with a cause, ${stillOutdated.length} neither${stillOutdated.length ? `: ${stillOutdated.slice(0, 5).join("; ")}` : ""}${outdatedReport === undefined ? "; kvmig outdated printed no JSON document" : ""}`,
    );

    // 3. kvmig watch's memory flat.
    const tenMinutes = runMs / 6;
    const watchMemory = flatness(memory.watchHeap, watchReadyAt, watchEnd.simAt, tenMinutes);
    const watchRss = flatness(memory.watch, watchReadyAt, watchEnd.simAt, tenMinutes);
    check(
      "kvmig watch's memory flat (live heap after GC: the last 10 minutes within 10% of the first 10)",
      watchMemory.ok,
      `heap mean ${mib(watchMemory.first)} first, ${mib(watchMemory.last)} last (${pct(watchMemory.change)}; ${watchMemory.samplesFirst} and ${watchMemory.samplesLast} samples); RSS ${mib(watchRss.first)} first, ${mib(watchRss.last)} last (${pct(watchRss.change)})`,
    );

    // 4. Both kvmig processes exit by themselves with nothing left.
    const exitCheck = (name, end, okCodes) => {
      if (!end) return { ok: false, text: `${name} did not exit within a minute of the run's end` };
      const p = end.probe;
      const ok = okCodes.includes(end.code) && p?.drained === true && p.active.length === 0;
      const left = p ? (p.active.length ? p.active.join(", ") : "nothing") : "unknown (no probe)";
      return {
        ok,
        text: `${name} exit ${end.code ?? end.signal}, event loop ${p?.drained ? "drained" : "not drained (process.exit or a signal)"}, left at exit: ${left}`,
      };
    };
    // watch ends by its --timeout (exit 6); outdated's code tells how its VMs went (0, 3 for a
    // failure, 6 for a time-out), each checked above.
    const w = exitCheck("watch", watchEnded, [6]);
    const o = exitCheck("outdated", outdatedEnd, [0, 3, 6]);
    check("kvmig exits by itself with no socket or timer left", w.ok && o.ok, `${w.text}; ${o.text}`);

    // 5. The simulator's memory flat.
    // The cluster's state grows with the wave (each migration's VMIM, pods, events, and the watch
    // history of the last 10,000 changes), as an API server's does; once the wave has settled,
    // the faults, relists and heartbeats of the rest of the run must not make it grow.
    const simMemory = flatness(memory.simHeap, settledAt, watchEnd.simAt, tenMinutes);
    const heapAt = (ms) =>
      (memory.simHeap.findLast((s) => s.at <= ms) ?? memory.simHeap[0])?.value ?? Number.NaN;
    check(
      "the simulator's memory flat once the wave settled (heap after GC: the last 10 minutes within 10% of the 10 after the wave)",
      simMemory.ok,
      `heap mean ${mib(simMemory.first)} after the wave, ${mib(simMemory.last)} last (${pct(simMemory.change)}); ${mib(heapAt(0))} at the start, ${mib(heapAt(settledAt))} when the wave settled`,
    );

    // ---- the report ----------------------------------------------------------------------------
    // By who made them (the name's prefix), and how many of those moved a VM already current.
    const byPrefix = {};
    for (const e of recorded.values()) {
      const prefix = /^(kubevirt-[a-z-]+-|kvmig-)/.exec(e.key.split("/")[1] ?? "")?.[1] ?? "other";
      byPrefix[prefix] ??= { made: 0, ofCurrentVm: 0 };
      byPrefix[prefix].made++;
      if (!e.ofOutdated) byPrefix[prefix].ofCurrentVm++;
    }
    const failureReasons = {};
    for (const e of finals) {
      if (e.final !== "Failed") continue;
      const reason = (e.failureReason ?? "(none)").replace(/uid [0-9a-f-]+/g, "uid …").slice(0, 120);
      failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
    }
    // What the restart failed: the migrations through the node then, and those begun while it was away.
    const droppedByRestart = [...recorded.values()].filter(
      (e) => e.final === "Failed" && /client socket is closed/.test(e.failureReason ?? ""),
    );
    report.detail = {
      missed,
      repeated,
      wrong,
      phantoms,
      unfinished,
      ofCurrentVm: [...recorded.values()]
        .filter((e) => !e.ofOutdated && !e.key.includes("/kubevirt-evacuation-"))
        .map((e) => ({
          key: e.key,
          createdMin: +(e.created / 60_000).toFixed(2),
          final: e.final,
          others: [...recorded.values()]
            .filter((o) => o.vmi === e.vmi && o.key.split("/")[0] === e.key.split("/")[0] && o !== e)
            .map(
              (o) =>
                `${o.key.split("/")[1]} ${(o.created / 60_000).toFixed(2)}-${((o.finalAt ?? 0) / 60_000).toFixed(2)} ${o.final}`,
            ),
        })),
    };
    Object.assign(report, {
      wallMs: performance.now() - wallStart,
      simMs: endMs,
      migrations: {
        recorded: recorded.size,
        byCreator: byPrefix,
        succeeded: finals.filter((e) => e.final === "Succeeded").length,
        failed: finals.filter((e) => e.final === "Failed").length,
        unfinished: unfinished.length,
        failureReasons,
      },
      watch: {
        records,
        progressRecords,
        migrationsSeen: seen.size,
        exit: watchEnd.code,
        wallMs: watchEnd.wallMs,
        memory: { heap: watchMemory, rss: watchRss, peakKiB: Math.max(...memory.watch.map((s) => s.value)) },
      },
      outdated: {
        exit: outdatedEnd?.code ?? null,
        wallMs: outdatedEnd?.wallMs ?? null,
        results: outcomes,
        list: [...results.values()].map(
          (r) => `${r.namespace}/${r.vm} ${r.outcome} ${r.migration ?? "-"} ${r.detail ?? ""}`,
        ),
        peakKiB: memory.outdated.length ? Math.max(...memory.outdated.map((s) => s.value)) : null,
        stderrTail: outdated.stderr().split("\n").slice(-6).join("\n"),
      },
      drain: drainResult,
      handlerRestart: handlerResult
        ? {
            node: handlerResult.node,
            awayMs: handlerResult.backAt - handlerResult.startedAt,
            runningThrough: handlerResult.through.size,
            failed: droppedByRestart.length,
            failedOfRunning: droppedByRestart.filter((e) => handlerResult.through.has(e.uid)).length,
          }
        : null,
      faults: {
        requests: faultStats.requests,
        errors: faultStats.errors,
        watchesDropped: faultStats.watchesDropped,
        outages: faultStats.outages,
        connectionsDropped: faultStats.connectionsDropped,
      },
      sim: {
        memory: simMemory,
        heapStartKiB: heapAt(0),
        heapSettledKiB: heapAt(settledAt),
        heapEndKiB: heapAt(endMs),
        rssPeakKiB: Math.max(...memory.simRss.map((s) => s.value)),
        changes: cluster.store.resourceVersion - rv0,
      },
      samples: Object.fromEntries(
        Object.entries(memory).map(([name, list]) => [
          name,
          list.map((s) => [Math.round(s.at / 1000), Math.round(s.value)]),
        ]),
      ),
    });
    printReport(report, watch, outdated);
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    process.exitCode = report.checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    for (const c of children)
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
    call?.close();
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function printReport(r, watch, outdated) {
  const out = (line = "") => process.stdout.write(`${line}\n`);
  const m = r.migrations;
  out(
    `kvmig soak: ${r.cluster.vms} VMs (${r.cluster.outdated} outdated) on ${r.cluster.nodes} nodes, ${minutesText(r.simMs)} simulated at ${r.options.speed}x in ${minutesText(r.wallMs)} of wall time (seed ${r.options.seed})`,
  );
  out(`migrations: ${m.recorded}; ${m.succeeded} succeeded, ${m.failed} failed, ${m.unfinished} unfinished`);
  for (const [prefix, n] of Object.entries(m.byCreator)) {
    // A workload update's or virt-api's migrate (kvmig's) is meant for an outdated VM; a drain's not.
    const current =
      prefix === "kubevirt-evacuation-" ? "" : `, ${n.ofCurrentVm} of a VM already on the current launcher`;
    out(`  ${prefix}*: ${n.made}${current}`);
  }
  for (const [reason, n] of Object.entries(m.failureReasons)) out(`  failed ${n}x: ${reason}`);
  out(
    `watch: ${r.watch.records} NDJSON records (${r.watch.progressRecords} PROGRESS) on ${r.watch.migrationsSeen} migrations; exit ${r.watch.exit} after ${minutesText(r.watch.wallMs)} of wall time; RSS peak ${mib(r.watch.memory.peakKiB)}`,
  );
  out(
    `outdated: exit ${r.outdated.exit} after ${r.outdated.wallMs === null ? "?" : minutesText(r.outdated.wallMs)} of wall time; ${
      Object.entries(r.outdated.results)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ") || "no results"
    }; RSS peak ${r.outdated.peakKiB === null ? "?" : mib(r.outdated.peakKiB)}`,
  );
  const d = r.drain;
  if (d)
    out(
      `drain: ${d.node} (${d.vms} VMs) empty after ${minutesText(d.drainMs)} simulated, ${d.evictions} evictions (${d.refused} refused with 429)`,
    );
  const h = r.handlerRestart;
  out(
    h
      ? `virt-handler restart: ${h.node}, away ${(h.awayMs / 1000).toFixed(0)} s simulated; ${h.failed} migrations failed with client socket is closed (${h.failedOfRunning} of the ${h.runningThrough} running through it then, the rest begun while it was away)`
      : "virt-handler restart: none (no migration ran through a node to restart under)",
  );
  out(
    `API faults: ${r.faults.requests} requests, ${
      Object.entries(r.faults.errors)
        .map(([code, n]) => `${n} answered ${code}`)
        .join(", ") || "none answered with an error"
    }, ${r.faults.watchesDropped} watches dropped, ${r.faults.outages} outage (${r.faults.connectionsDropped} connections dropped)`,
  );
  out(
    `simulator: live heap ${mib(r.sim.heapStartKiB)} at the start, ${mib(r.sim.heapSettledKiB)} when the wave settled, ${mib(r.sim.heapEndKiB)} at the end; RSS peak ${mib(r.sim.rssPeakKiB)}; ${r.sim.changes} changes (the watch history keeps the last 10,000)`,
  );
  for (const c of r.checks) out(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  if (!r.checks.every((c) => c.ok)) {
    out("watch's stderr (tail):");
    out(watch.stderr().split("\n").slice(-10).join("\n"));
    out("outdated's stderr (tail):");
    out(outdated.stderr().split("\n").slice(-10).join("\n"));
  }
}

main().catch((error) => {
  process.stderr.write(`soak: ${error.stack ?? error}\n`);
  process.exitCode = 2;
});
