// kvmig's benchmarks, side by side with kubectl on the same simulated cluster: `npm run bench`
// (which builds first), or `node bench/run.mjs [--quick] [--out DIR] [--runs N] [--only IDS]`.
// Prints a table per group of cases and writes benchmarks.json and benchmarks.md: to docs/ for
// a full run, to a new temporary directory for --quick or --only (unless --out says where).
// It reports the targets of issue 10 (issue 19's for diagnose --from, issue 21's for the simulated
// cluster's latency at scale, issue 26's for cluster commands next to kubectl) and asserts none
// of them: it fails only when a command fails or prints the wrong thing. See docs/benchmarks.md
// for how each number is measured.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, tmpdir, totalmem, type } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as cluster from "./cases/cluster.mjs";
import * as diagnose from "./cases/diagnose.mjs";
import * as diagnoseFrom from "./cases/diagnose-from.mjs";
import * as scale from "./cases/scale.mjs";
import * as sim from "./cases/sim.mjs";
import * as simLatency from "./cases/sim-latency.mjs";
import * as simStartup from "./cases/sim-startup.mjs";
import * as simWave from "./cases/sim-wave.mjs";
import * as startup from "./cases/startup.mjs";
import * as version from "./cases/version.mjs";
import * as watch from "./cases/watch.mjs";
import { gnuTime, killAll } from "./lib/measure.mjs";
import { metText, renderMarkdown, renderText } from "./lib/report.mjs";

/** In the order of the report; they run cheapest first. */
const groups = [
  startup,
  simStartup,
  version,
  cluster,
  scale,
  simLatency,
  watch,
  simWave,
  diagnose,
  diagnoseFrom,
  sim,
];
const runOrder = [
  startup,
  simStartup,
  version,
  cluster,
  diagnose,
  diagnoseFrom,
  sim,
  watch,
  scale,
  simLatency,
  simWave,
];

const usage = `usage: node bench/run.mjs [options]
  --quick            one run of each case, no warm-up, scale 500 VMIs, 20 migrations, latency at 2,000
                     VMIs, an upgrade wave at 500 (about a minute)
  --out DIR          where to write benchmarks.json and benchmarks.md (default: docs/ for a full run,
                     a new temporary directory for --quick or --only)
  --runs N           runs of each case after the warm-up (default 5; start-up cases run 4N times)
  --only IDS         only these groups, comma-separated: ${groups.map((g) => g.id).join(", ")}
  --vms N,N          the scale scenario's sizes, also the latency case's; the wave runs at the largest
                     (default 10000,50000; --quick: 500, and 2000 for the latency case)
  --migrations N     migrations watched at once (default 500; --quick: 20)`;

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    runs: { type: "string" },
    only: { type: "string" },
    vms: { type: "string" },
    migrations: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log(usage);
  process.exit(0);
}

const root = fileURLToPath(new URL("..", import.meta.url));
const distEntry = join(root, "dist", "kvmig.js");
const quick = flags.quick;
const positive = (text, name) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer, not "${text}"\n${usage}`);
    process.exit(2);
  }
  return n;
};
const runs = flags.runs ? positive(flags.runs, "--runs") : quick ? 1 : 5;
const sizes = flags.vms
  ? flags.vms.split(",").map((v) => positive(v, "--vms"))
  : quick
    ? [500]
    : [10_000, 50_000];
const migrations = flags.migrations ? positive(flags.migrations, "--migrations") : quick ? 20 : 500;
const only = flags.only?.split(",").map((s) => s.trim());
for (const id of only ?? []) {
  if (!groups.some((g) => g.id === id)) {
    console.error(`unknown group "${id}"\n${usage}`);
    process.exit(2);
  }
}
const selected = runOrder.filter((g) => !only || only.includes(g.id));

try {
  readFileSync(distEntry);
} catch {
  console.error(`${distEntry} is missing: run npm run build first (npm run bench does)`);
  process.exit(1);
}

const kubectl = findKubectl();
const tmp = mkdtempSync(join(tmpdir(), "kvmig-bench-"));
const home = join(tmp, "home");
mkdirSync(home);
const began = Date.now();
const ctx = {
  root,
  distEntry,
  tmp,
  kubectl,
  quick,
  runs,
  sizes,
  migrations,
  /** The children's environment: a HOME of the bench's own (kubectl's caches), no colours. */
  env: (kubeconfig) => ({
    PATH: [dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter),
    HOME: home,
    NO_COLOR: "1",
    ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
  }),
  log: (message) => {
    const seconds = ((Date.now() - began) / 1000).toFixed(0).padStart(4);
    process.stderr.write(`[${seconds} s] ${message}\n`);
  },
};

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killAll();
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
}

const meta = machine();
ctx.log(
  `node ${meta.node}, ${meta.kubectl ? `kubectl ${meta.kubectl}` : "no kubectl"}, ${meta.cpu.model} × ${meta.cpu.cores}, ${meta.memoryGiB} GiB` +
    (gnuTime ? "" : "; no GNU time: wall time only"),
);

const results = new Map();
for (const group of selected) {
  const started = Date.now();
  try {
    results.set(group.id, { ...(await group.run(ctx)), seconds: (Date.now() - started) / 1000 });
  } catch (error) {
    ctx.log(`${group.id}: FAILED: ${error.stack ?? error}`);
    results.set(group.id, { error: String(error.message ?? error), cases: [], tables: [] });
  }
}
killAll();
rmSync(tmp, { recursive: true, force: true });
meta.seconds = Math.round((Date.now() - began) / 1000);

const reported = groups.filter((g) => results.has(g.id));
const targets = reported.flatMap((g) =>
  results
    .get(g.id)
    .cases.flatMap((c) => (c.targets ?? []).map((t) => ({ case: c.id, about: about(c), ...t }))),
);
const report = {
  meta,
  groups: reported.map((g) => {
    const r = results.get(g.id);
    return { id: g.id, title: g.title, seconds: r.seconds, note: r.note, error: r.error, cases: r.cases };
  }),
  targets,
};

// The terminal.
for (const g of reported) {
  const r = results.get(g.id);
  console.log(`\n== ${g.title}${r.error ? ": FAILED" : ""}`);
  if (r.error) console.log(r.error);
  for (const table of r.tables) console.log(`\n${renderText(table)}`);
}
console.log("\n== Targets (reported, not asserted)");
for (const t of targets)
  console.log(`${metText(t).padEnd(6)}  ${t.about.replaceAll("`", "")}: ${t.text}: ${t.shown}`);

const out = resolve(
  flags.out ?? (quick || only ? mkdtempSync(join(tmpdir(), "kvmig-bench-out-")) : join(root, "docs")),
);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "benchmarks.json"), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(out, "benchmarks.md"), markdown(report));
console.log(`\nwrote ${join(out, "benchmarks.md")} and benchmarks.json (${meta.seconds} s in all)`);
process.exit(report.groups.some((g) => g.error) ? 1 : 0);

/** What a target is about: the commands compared, and the size of the cluster when it matters. */
function about(c) {
  const commands = c.kvmig?.command
    ? `\`${c.kvmig.command}\`${c.kubectl?.command ? ` vs \`${c.kubectl.command}\`` : ""}`
    : c.id;
  return c.label ? `${c.label}: ${commands}` : commands;
}

function findKubectl() {
  if (process.env.KUBECTL) return process.env.KUBECTL;
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), "/usr/bin"]) {
    if (!dir) continue;
    const candidate = join(dir, "kubectl");
    if (spawnSync(candidate, ["version", "--client"], { stdio: "ignore" }).status === 0) return candidate;
  }
  return undefined;
}

function machine() {
  const cpuInfo = (() => {
    try {
      return readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return "";
    }
  })();
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuInfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  let kubectlVersion = null;
  if (kubectl) {
    const probe = spawnSync(kubectl, ["version", "--client", "-o", "json"], { encoding: "utf8" });
    try {
      kubectlVersion = JSON.parse(probe.stdout).clientVersion.gitVersion;
    } catch {
      kubectlVersion = probe.stdout.trim() || null;
    }
  }
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return {
    date: new Date().toISOString(),
    kvmig: pkg.version,
    node: process.version,
    kubectl: kubectlVersion,
    os: `${type()} ${release()}`,
    cpu: { model: model.trim(), cores: availableParallelism() },
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    gnuTime: gnuTime ?? null,
    quick,
    runs,
    sizes,
    migrations,
  };
}

function markdown(r) {
  const m = r.meta;
  const lines = [
    "# Benchmarks",
    "",
    `Written by \`${m.quick ? "npm run bench -- --quick" : "npm run bench"}\` (\`bench/run.mjs\`); run it again rather than editing this file.`,
    "The same numbers, and every sample, are in `benchmarks.json` next to it. The targets are those of",
    "issue 10, for `diagnose --from` on a large must-gather issue 19's, for the simulated cluster's",
    "API latency at scale issue 21's, and for cluster commands next to kubectl issue 26's; the bench",
    "reports them and asserts none.",
    "",
    renderMarkdown({
      headers: ["", ""],
      align: ["left", "left"],
      rows: [
        ["Date", m.date],
        ["kvmig", `${m.kvmig} (\`dist/\` as built)`],
        ["Node.js", m.node],
        ["kubectl", m.kubectl ?? "not found: kubectl columns empty"],
        ["Machine", `${m.cpu.model}, ${m.cpu.cores} cores, ${m.memoryGiB} GiB memory, ${m.os}`],
        [
          "Runs",
          m.quick
            ? "1 of each case, no warm-up (--quick)"
            : `a warm-up run, then ${m.runs} of each case (start-up ${m.runs * 4}, version and cluster commands ${m.runs * 2}; fewer where a case says so)`,
        ],
        ["Took", `${Math.round(m.seconds / 6) / 10} min`],
      ],
    }),
    "",
    "## How it measures",
    "",
    "- Every command runs as a child process of the bench, on the same simulated cluster as its kubectl",
    "  counterpart (`node dist/kvmig.js sim --port 0 --seed 1 ...`, started by the bench in a process of its own,",
    "  so the server's CPU never counts for a client). The two commands of a pair alternate, kvmig first in",
    "  even rounds and kubectl first in odd ones. Each number is the median over the runs.",
    "- **Wall** time: `process.hrtime` in the bench, from spawn to exit.",
    "- **CPU** time (user + system) and **peak RSS** of a client: the kernel's resource usage of the child",
    "  (`wait4`), as GNU time reports it: `/usr/bin/time -f '%e %U %S %M' -o FILE -- command`. CPU times have",
    "  GNU time's resolution of 10 ms; the start-up cases run 4× as often for that reason.",
    "- The simulated cluster's own CPU and memory: `/proc/PID/stat` (utime + stime) and `/proc/PID/status`",
    "  (VmRSS, VmHWM for the peak) of the sim process.",
    "- Output goes to /dev/null, except in the first run of each command (the warm-up where there is one),",
    "  which the bench checks: the number of items, or the text that must be there. The two watchers write",
    "  into pipes that the bench reads as the events come, to count them.",
    "- `kvmig` runs as `node dist/kvmig.js`; both tools get the same small environment: a HOME of the bench's",
    "  own (kubectl's discovery cache), the sim's KUBECONFIG, NO_COLOR=1.",
    "",
    "## Targets",
    "",
    renderMarkdown({
      headers: ["Case", "Target", "Measured", "Met"],
      rows: r.targets.map((t) => [t.about, t.text, t.shown, metText(t)]),
    }),
    "",
  ];
  for (const g of r.groups) {
    lines.push(`## ${g.title}`, "");
    if (g.error) lines.push(`FAILED: ${g.error}`, "");
    const result = results.get(g.id);
    for (const table of result.tables) lines.push(`**${table.title}**`, "", renderMarkdown(table), "");
    if (g.note) lines.push(`${g.note[0].toUpperCase()}${g.note.slice(1)}`, "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
