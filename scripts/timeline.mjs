// Where a kvmig command's time goes (issue 26): runs it with scripts/timeline-hook.mjs preloaded
// and prints each mark's median over the runs, in ms since the process started, with the CPU time
// the process had used by then (all its threads): modules read, kubeconfig read, each
// connection's TCP and TLS handshake, each request sent and answered, first output, exit. kvmig
// itself carries no timeline code: the hook is loaded only here.
//
//   node scripts/timeline.mjs [--runs N] [--bin FILE] [--cpu-prof DIR] -- ARGS...
//
// --bin runs a single executable (scripts/sea.mjs) instead of node dist/kvmig.js; the hook goes
// in through NODE_OPTIONS there (--require: a single executable reads it; no module marks: it
// is one script). --cpu-prof DIR also makes as many runs with V8's CPU profiler (node --cpu-prof,
// sampled every 100 µs; without the hook), writes the profiles into DIR and prints their self
// time per run by kind (start-up, module loading, TLS, HTTP, kvmig's code, GC...) and by file.
// The profiler's samples count time the process was not running too: on a loaded machine, read
// the proportions, and the CPU column of the timeline for the cost.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values, positionals } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    bin: { type: "string" },
    "cpu-prof": { type: "string" },
  },
  allowPositionals: true,
});
const runs = Number(values.runs);
const hook = pathToFileURL(join(root, "scripts", "timeline-hook.mjs")).href;
const work = mkdtempSync(join(tmpdir(), "kvmig-timeline-"));
const profDir = values["cpu-prof"] ? resolve(values["cpu-prof"]) : undefined;
if (profDir) mkdirSync(profDir, { recursive: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** label -> the times it was marked at, one per run it appeared in. */
const marks = new Map();
let failed = 0;
for (let run = 0; run <= runs; run++) {
  const file = join(work, `run-${run}.txt`);
  const env = { ...process.env, KVMIG_TIMELINE_FILE: file };
  let command;
  let args;
  if (values.bin) {
    command = values.bin;
    args = positionals;
    // A single executable applies --require from NODE_OPTIONS (not --import); Node 24 requires the
    // hook, an ES module without top-level await, synchronously.
    env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--require=${fileURLToPath(hook)}`]
      .filter(Boolean)
      .join(" ");
  } else {
    command = process.execPath;
    args = ["--import", hook, join(root, "dist", "kvmig.js"), ...positionals];
  }
  const child = spawnSync(command, args, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (child.status !== 0) {
    failed++;
    process.stderr.write(`run ${run}: exit ${child.status ?? child.signal}\n${child.stderr}`);
  }
  // The first run warms the compile cache and is not counted.
  if (run === 0) continue;
  const seen = new Map();
  for (const line of readFileSync(file, "utf8").trim().split("\n")) {
    const [wall, cpu, ...words] = line.split(" ");
    const label = words.join(" ");
    // A label marked twice in a run (the same module, say) keeps its first time.
    if (seen.has(label)) continue;
    seen.set(label, { wall: Number(wall), cpu: Number(cpu) });
  }
  for (const [label, at] of seen) {
    if (!marks.has(label)) marks.set(label, []);
    marks.get(label).push(at);
  }
}
rmSync(work, { recursive: true, force: true });

const rows = [...marks].map(([label, times]) => ({
  label,
  ms: median(times.map((t) => t.wall)),
  cpu: median(times.map((t) => t.cpu)),
  runs: times.length,
}));
rows.sort((a, b) => a.ms - b.ms);
console.log(
  `${values.bin ? basename(values.bin) : "node dist/kvmig.js"} ${positionals.join(" ")}: median of ${runs} runs`,
);
console.log(`${"wall".padStart(8)}     ${"CPU".padStart(6)}`);
for (const row of rows) {
  const note = row.runs < runs ? ` (in ${row.runs} of ${runs} runs)` : "";
  console.log(
    `${row.ms.toFixed(1).padStart(8)} ms  ${row.cpu.toFixed(1).padStart(6)} ms  ${row.label}${note}`,
  );
}

/** Where a sample's time goes: by the file of the function it was in. */
function category({ url, functionName }) {
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(program)") return "native, not in a JS function (compiling, V8, OpenSSL)";
  if (functionName === "(idle)") return "idle (waiting for the network or the server)";
  if (url.includes("/dist/") || url.endsWith(".cjs") || url.startsWith("file:"))
    return "kvmig's code and its libraries";
  if (/^node:internal\/(bootstrap|main|process)\//.test(url)) return "Node start-up";
  if (/^node:internal\/modules\//.test(url) || /compile/i.test(functionName)) return "module loading";
  if (/tls|crypto|https/.test(url)) return "TLS and crypto (Node's)";
  if (/_http_|node:http$|node:net$|stream|node:events$|node:dns/.test(url))
    return "HTTP, sockets, streams (Node's)";
  return "other Node internals";
}

if (profDir) {
  // Profiled runs of their own, without the hook (whose module hook would count).
  for (let run = 1; run <= runs; run++) {
    const prof = ["--cpu-prof", "--cpu-prof-interval", "100", "--cpu-prof-dir", profDir];
    const child = values.bin
      ? spawnSync(values.bin, positionals, {
          env: {
            ...process.env,
            NODE_OPTIONS: [process.env.NODE_OPTIONS, ...prof].filter(Boolean).join(" "),
          },
          stdio: "ignore",
        })
      : spawnSync(process.execPath, [...prof, join(root, "dist", "kvmig.js"), ...positionals], {
          stdio: "ignore",
        });
    if (child.status !== 0) failed++;
  }
  const byFile = new Map();
  const byCategory = new Map();
  const files = readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"));
  let busy = 0;
  for (const f of files) {
    const profile = JSON.parse(readFileSync(join(profDir, f), "utf8"));
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < profile.samples.length; i++) {
      const node = byId.get(profile.samples[i]);
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const { url, functionName } = node.callFrame;
      const where = url
        ? url.startsWith("node:")
          ? url.replace(/^node:internal\/(modules|bootstrap)\/.*/, "node:internal/$1/*")
          : basename(url).replace(/-[A-Z0-9]{8}(\.js)$/, "$1")
        : `(${functionName.replace(/[()]/g, "")})`;
      byFile.set(where, (byFile.get(where) ?? 0) + ms);
      const kind = category(node.callFrame);
      byCategory.set(kind, (byCategory.get(kind) ?? 0) + ms);
      if (functionName !== "(idle)") busy += ms;
    }
  }
  const n = files.length || 1;
  const print = (map, count) => {
    for (const [where, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      console.log(`${(ms / n).toFixed(1).padStart(8)} ms  ${where}`);
    }
  };
  console.log(`\nCPU profile (${files.length} runs without the hook, in ${profDir}), per run: by kind`);
  print(byCategory, 20);
  console.log(`${(busy / n).toFixed(1).padStart(8)} ms  sampled, idle left out (the profiler adds to it)`);
  console.log("\nby file");
  print(byFile, 15);
}
if (failed > 0) process.exitCode = 1;
