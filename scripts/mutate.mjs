// Mutation testing with StrykerJS, one module at a time:
//
//   npm run mutate -- src/diagnose/modes/version-skew.ts [more modules...]
//   npm run mutate -- --all-rules
//   npm run mutate -- --all-rules --without .reasoning.   (leave out test files whose path has this)
//   npm run mutate -- --all-rules --reports reports/baseline   (where the reports go; default reports/mutation)
//
// For each module, Stryker mutates that module only (`mutate: [module]`) and runs a generated
// vitest config whose `include` lists the tests that cover it: test/diagnose/modes/<name>.test.ts,
// test/diagnose/modes/<name>.*.test.ts, and every test file that imports the module. (Stryker's
// own `testFiles` filter is not used: with it, mutants of a module's top-level constants, which
// run when the module loads, cannot be killed.) Shared options are in stryker.config.mjs.
//
// Prints, per module, killed / survived / no coverage / timeout and the score
// killed / (killed + survived + no coverage), lists the surviving mutants, and writes
// reports/mutation/<name>.{html,json} and a summary of every module measured so far,
// reports/mutation/summary.{json,md}. Exits 1 when a module scores below --min (default 0), or
// when Stryker fails on one (a test that fails without mutants); the other modules still run.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { Stryker } from "@stryker-mutator/core";

const root = resolve(import.meta.dirname, "..");
const rulesDir = "src/diagnose/modes";
let reportsDir = "reports/mutation";
// Under Stryker's temp dir, which is git-ignored and never copied into its sandboxes.
const configsDir = ".stryker-tmp/vitest-configs";

function usage(message) {
  if (message) console.error(message);
  console.error(
    "usage: npm run mutate -- <module.ts>... | --all-rules [--min <score>] [--without <text>] [--reports <dir>]",
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const modules = [];
const without = [];
let min = 0;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--all-rules") {
    for (const file of readdirSync(join(root, rulesDir)).sort()) {
      if (file.endsWith(".ts") && file !== "index.ts") modules.push(`${rulesDir}/${file}`);
    }
  } else if (arg === "--min") {
    min = Number(args[++i]);
    if (!Number.isFinite(min)) usage("--min takes a number (a percentage)");
  } else if (arg === "--without") {
    const text = args[++i];
    if (!text) usage("--without takes some text of the test paths to leave out");
    without.push(text);
  } else if (arg === "--reports") {
    reportsDir = args[++i] ?? "";
    if (!reportsDir) usage("--reports takes a directory");
  } else if (arg === "--help" || arg === "-h") {
    usage();
  } else if (arg.startsWith("-")) {
    usage(`unknown option ${arg}`);
  } else {
    modules.push(relative(root, resolve(arg)));
  }
}
if (modules.length === 0) usage("no module given");

/** Every .ts file under dir (relative to the project), skipping fixtures. */
function testFilesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== "fixtures") out.push(...testFilesUnder(path));
    } else if (entry.name.endsWith(".test.ts")) {
      out.push(path);
    }
  }
  return out;
}

const allTests = testFilesUnder("test").filter((file) => !without.some((text) => file.includes(text)));

/** The test files that cover a module: its own tests by name, and the tests that import it. */
function testsFor(module) {
  const name = basename(module).replace(/\.ts$/, "");
  const own = new Set([`test/diagnose/modes/${name}.test.ts`]);
  const ownPrefix = `test/diagnose/modes/${name}.`;
  // An import of the module, static or dynamic, as `.../<dir>/<name>.js` (or .ts).
  const importPath = module.replace(/^src\//, "").replace(/\.ts$/, "");
  const imports = new RegExp(`["'][./]*(?:src/)?${escapeRegExp(importPath)}\\.(?:js|ts)["']`);
  const files = [];
  for (const file of allTests) {
    const isOwn = own.has(file) || (file.startsWith(ownPrefix) && file.endsWith(".test.ts"));
    if (isOwn || imports.test(readFileSync(join(root, file), "utf8"))) files.push(file);
  }
  return files.sort();
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A vitest config (no imports, so it loads from anywhere) running only these files. */
function writeVitestConfig(name, files) {
  mkdirSync(join(root, configsDir), { recursive: true });
  // One file per run, so that two runs at once (a baseline beside a final run) do not share one.
  const path = join(root, configsDir, `${name}.${process.pid}.vitest.config.mjs`);
  const config = {
    test: { include: files, testTimeout: 20_000, hookTimeout: 20_000, pool: "forks", reporters: ["default"] },
  };
  writeFileSync(
    path,
    `// Generated by scripts/mutate.mjs for ${name}; do not edit.\nexport default ${JSON.stringify(config, null, 2)};\n`,
  );
  return path;
}

const countedStatuses = [
  "Killed",
  "Survived",
  "NoCoverage",
  "Timeout",
  "RuntimeError",
  "CompileError",
  "Ignored",
];

function summarize(module, results, seconds, tests) {
  const counts = Object.fromEntries(countedStatuses.map((s) => [s, 0]));
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  const denominator = counts.Killed + counts.Survived + counts.NoCoverage;
  const score = denominator === 0 ? null : Math.round((counts.Killed / denominator) * 10_000) / 100;
  const survivors = results
    .filter((r) => r.status === "Survived" || r.status === "NoCoverage")
    .sort(
      (a, b) =>
        a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column,
    )
    .map((r) => ({
      status: r.status,
      line: r.location.start.line,
      column: r.location.start.column + 1,
      mutator: r.mutatorName,
      replacement: r.replacement,
    }));
  return {
    module,
    killed: counts.Killed,
    survived: counts.Survived,
    noCoverage: counts.NoCoverage,
    timeout: counts.Timeout,
    runtimeError: counts.RuntimeError,
    compileError: counts.CompileError,
    ignored: counts.Ignored,
    total: results.length,
    score,
    seconds,
    tests,
    measuredAt: new Date().toISOString(),
    survivors,
  };
}

function oneLine(text) {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 100 ? `${flat.slice(0, 97)}...` : flat;
}

function writeSummary(entries) {
  const jsonPath = join(root, reportsDir, "summary.json");
  let all = {};
  try {
    all = JSON.parse(readFileSync(jsonPath, "utf8"));
  } catch {
    // First run.
  }
  for (const entry of entries) all[entry.module] = entry;
  const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(jsonPath, `${JSON.stringify(sorted, null, 2)}\n`);
  const rows = Object.values(sorted).map(
    (e) =>
      `| ${e.module} | ${e.score ?? "n/a"}% | ${e.killed} | ${e.survived} | ${e.noCoverage} | ${e.timeout} | ${e.seconds} s |`,
  );
  const survivorSections = Object.values(sorted)
    .filter((e) => e.survivors.length > 0)
    .map(
      (e) =>
        `## ${e.module}\n\n${e.survivors
          .map((s) => `- ${s.status} ${s.line}:${s.column} ${s.mutator}: \`${oneLine(s.replacement)}\``)
          .join("\n")}\n`,
    );
  const md = [
    "# Mutation scores",
    "",
    "Score = killed / (killed + survived + no coverage). Made by `npm run mutate`.",
    "",
    "| module | score | killed | survived | no coverage | timeout | time |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    ...survivorSections,
  ].join("\n");
  writeFileSync(join(root, reportsDir, "summary.md"), md);
}

process.chdir(root);
mkdirSync(join(root, reportsDir), { recursive: true });
const entries = [];
const failures = [];
for (const module of modules) {
  const name = basename(module).replace(/\.ts$/, "");
  const tests = testsFor(module);
  if (tests.length === 0) {
    console.error(`${module}: no test file covers it; skipped`);
    continue;
  }
  console.log(`\n${module}: mutating, with ${tests.join(", ")}`);
  const started = Date.now();
  const stryker = new Stryker({
    configFile: "stryker.config.mjs",
    mutate: [module],
    vitest: { configFile: writeVitestConfig(name, tests) },
    htmlReporter: { fileName: `${reportsDir}/${name}.html` },
    jsonReporter: { fileName: `${reportsDir}/${name}.json` },
  });
  let results;
  try {
    results = await stryker.runMutationTest();
  } catch (error) {
    // Most often a test that fails without any mutant: report it and go on with the next module.
    console.error(`${module}: Stryker failed: ${error instanceof Error ? error.message : error}`);
    failures.push(module);
    continue;
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const entry = summarize(module, results, seconds, tests);
  entries.push(entry);
  writeSummary([entry]);
  for (const s of entry.survivors) {
    console.log(`  ${s.status} ${module}:${s.line}:${s.column} ${s.mutator}: ${oneLine(s.replacement)}`);
  }
}

console.log("\nmodule | score | killed | survived | no coverage | timeout | time");
for (const e of entries) {
  console.log(
    `${e.module} | ${e.score ?? "n/a"}% | ${e.killed} | ${e.survived} | ${e.noCoverage} | ${e.timeout} | ${e.seconds} s`,
  );
}
console.log(`\nSummary: ${reportsDir}/summary.md and summary.json`);
if (failures.length > 0) console.error(`not measured (Stryker failed): ${failures.join(", ")}`);
const low = entries.filter((e) => e.score !== null && e.score < min);
if (low.length > 0) console.error(`below ${min}%: ${low.map((e) => e.module).join(", ")}`);
if (failures.length > 0 || low.length > 0) process.exit(1);
