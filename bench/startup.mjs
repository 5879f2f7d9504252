// Start-up time of kvmig next to kubectl: each command runs RUNS times (default 30) after a
// warm-up run, and the median wall time is compared. Run with `npm run bench:startup` after `npm run build`.
import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";

const runs = Number(process.env.RUNS ?? 30);
const kvmig = [process.execPath, "dist/kvmig.js"];

const cases = [
  { name: "kvmig --help", command: [...kvmig, "--help"] },
  { name: "kvmig --version", command: [...kvmig, "--version"] },
  { name: "kubectl version --client", command: ["kubectl", "version", "--client"] },
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function time([file, ...args]) {
  const started = performance.now();
  const result = spawnSync(file, args, { stdio: "ignore" });
  if (result.error) return undefined;
  return performance.now() - started;
}

// Interleaved (one run of each case per round), so that load on the machine hits all alike.
const available = cases.filter(({ name, command }) => {
  const ok = time(command) !== undefined;
  if (!ok) console.log(`${name}: not available, skipped`);
  return ok;
});
const samples = new Map(available.map(({ name }) => [name, []]));
for (let i = 0; i < runs; i++) {
  for (const { name, command } of available) samples.get(name).push(time(command));
}
const results = available.map(({ name }) => {
  const values = samples.get(name);
  return { name, median: median(values), min: Math.min(...values) };
});

const kubectl = results.find((r) => r.name.startsWith("kubectl"));
console.log(`node ${process.version}, ${runs} runs each, median (min) wall time`);
for (const r of results) {
  const ratio = kubectl ? `  ${(r.median / kubectl.median).toFixed(2)}x kubectl` : "";
  console.log(`${r.name.padEnd(26)} ${r.median.toFixed(1).padStart(7)} ms (${r.min.toFixed(1)})${ratio}`);
}
