// Bundles the CLI with esbuild. Both bins (kvmig and kubectl-kvmig) run the one entry file,
// dist/kvmig.js, which answers --version and otherwise imports the CLI (src/run.ts). Each
// command's code, and what only some commands need (the Kubernetes client, ora, inquirer, yaml),
// is split into dist/chunks/ and loaded with import() on first use: `kvmig --help` loads four
// files, about 70 KiB (the build's last line lists them), and `kvmig --version` two of them.
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { build } from "esbuild";
import { requireBuiltins } from "./builtin-imports.mjs";
import {
  commanderCheapVariadicTest,
  commanderWithoutChildProcess,
  kubeConfigOnly,
  oneYamlParser,
} from "./esbuild-plugins.mjs";

const outdir = "dist";

const entry = `${outdir}/kvmig.js`;
// Bundled CommonJS dependencies call require() for Node built-ins, and so does the code after
// builtin-imports.mjs. process.getBuiltinModule (Node 22.3+) needs no import of node:module.
const requireLine = 'const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);';

const options = {
  entryPoints: { kvmig: "src/cli.ts" },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  platform: "node",
  format: "esm",
  target: "node22",
  minify: true,
  legalComments: "external",
  metafile: true,
  plugins: [commanderWithoutChildProcess, commanderCheapVariadicTest, kubeConfigOnly, oneYamlParser],
  logLevel: "warning",
  banner: { js: requireLine },
};

/** The entry, and the CLI it imports for every run but --version: what every start loads. */
const startupEntries = ["src/cli.ts", "src/run.ts"];

/** The start-up files of a build: the start-up entries' outputs and the chunks they import. */
function startupFiles(outputs) {
  const files = new Set();
  const visit = (file) => {
    if (files.has(file)) return;
    files.add(file);
    for (const { path, kind, external } of outputs[file].imports) {
      if (kind === "import-statement" && !external) visit(path);
    }
  };
  for (const [file, output] of Object.entries(outputs)) {
    if (startupEntries.includes(output.entryPoint)) visit(file);
  }
  return files;
}

/**
 * One shared chunk for start-up, not a dozen. esbuild puts each module in a chunk by the set of
 * entries (the bins, and every import() target) that reach it, so the small modules start-up
 * shares with lazily loaded commands (errors, durations, output...) land in as many tiny chunks
 * as there are such sets, and each file costs start-up ~0.7 ms. A first build finds them; the
 * real one has the entry and every import() target in src/ import them all (the "startup core"),
 * so that they have one set and one chunk. They are loaded at start-up anyway (a few KiB), so the
 * import changes nothing else.
 */
function startupCore(probe) {
  const outputs = probe.metafile.outputs;
  const shared = new Set();
  for (const file of startupFiles(outputs)) {
    if (outputs[file].entryPoint) continue;
    for (const input of Object.keys(outputs[file].inputs)) shared.add(resolve(input));
  }
  const entries = new Set(
    Object.values(outputs)
      .map((output) => output.entryPoint)
      .filter((input) => input?.startsWith("src/"))
      .map((input) => resolve(input)),
  );
  // A JSON file is reached through the module that imports it (esbuild ignores a bare import of
  // a file without side effects).
  const imports = [...shared]
    .filter((file) => !file.endsWith(".json"))
    .map((file) => `import ${JSON.stringify(file)};`)
    .join("\n");
  const cluster = clusterCore(outputs, startupFiles(outputs));
  return {
    name: "startup-core",
    setup(build) {
      build.onResolve({ filter: /^kvmig:(startup|cluster)-core$/ }, (args) => ({
        path: args.path.slice("kvmig:".length),
        namespace: "kvmig",
      }));
      build.onLoad({ filter: /.*/, namespace: "kvmig" }, (args) => ({
        contents: args.path === "startup-core" ? imports : cluster.imports,
        resolveDir: process.cwd(),
        loader: "js",
      }));
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!entries.has(args.path) || shared.size === 0) return undefined;
        // After the shebang, which must stay the first line.
        const [, shebang = "", source] = /^(#!.*\n)?([\s\S]*)$/.exec(await readFile(args.path, "utf8"));
        const core = cluster.entries.has(args.path) ? 'import "kvmig:cluster-core";\n' : "";
        return { contents: `${shebang}import "kvmig:startup-core";\n${core}${source}`, loader: "ts" };
      });
    },
  };
}

/** What only the connection code may load: a module whose chunk imports one is left out of the cluster core. */
const connectionBuiltins = ["node:http", "node:https", "node:tls", "node:net", "node:child_process"];

/**
 * One chunk for what the commands that are loaded on demand share, not two dozen. As for start-up
 * (startupCore), esbuild makes a chunk for each set of import() targets that reach a module, so
 * migrate --dry-run loaded 33 files and diagnose 32, many of them under 1 KiB, and each file
 * costs a few tenths of a millisecond. The modules of src/ in those shared chunks (not the
 * simulator's, not start-up's, and none whose chunk imports the network or child processes,
 * which stay with the connection code) are imported by every import() target in src/ but the
 * simulator's and src/io's (YAML, JSONPath and the prompts, which start-up code imports: with
 * them, the core went into the start-up chunk), so that they share one chunk: a command loads
 * a little more code (the core is about 110 KiB), in fewer files (diagnose 32 -> 11, migrate
 * --dry-run 33 -> 8, version 11 -> 7; --help still 4).
 */
function clusterCore(outputs, startup) {
  const modules = new Set();
  for (const [file, output] of Object.entries(outputs)) {
    if (output.entryPoint || startup.has(file) || !file.endsWith(".js")) continue;
    const inputs = Object.keys(output.inputs);
    if (!inputs.every((input) => input.startsWith("src/") && !input.startsWith("src/sim/"))) continue;
    if (output.imports.some(({ path, external }) => external && connectionBuiltins.includes(path))) continue;
    for (const input of inputs) if (!input.endsWith(".json")) modules.add(resolve(input));
  }
  const entries = new Set(
    Object.values(outputs)
      .map((output) => output.entryPoint)
      .filter(
        (input) =>
          input?.startsWith("src/") &&
          !input.startsWith("src/sim/") &&
          input !== "src/commands/sim.ts" &&
          !input.startsWith("src/io/") &&
          !startupEntries.includes(input),
      )
      .map((input) => resolve(input)),
  );
  const imports = [...modules].map((file) => `import ${JSON.stringify(file)};`).join("\n");
  return { entries, imports };
}

await rm(outdir, { recursive: true, force: true });
const probe = await build({ ...options, write: false });
const result = await build({ ...options, plugins: [...options.plugins, startupCore(probe)] });

// Every ES import of a Node built-in becomes a require() (see builtin-imports.mjs).
await Promise.all(
  Object.keys(result.metafile.outputs)
    .filter((file) => file.endsWith(".js"))
    .map(async (file) => {
      const { code, count } = requireBuiltins(await readFile(file, "utf8"), requireLine);
      if (count > 0) await writeFile(file, code);
    }),
);

// The shebang goes on the entry only; esbuild keeps the one in src/cli.ts.
await chmod(entry, 0o755);

// The simulator's scenarios are data files it reads at run time, next to its code: the sim
// modules are bundled into dist/chunks/, so they look in dist/chunks/scenarios/.
const scenarioSource = "src/sim/scenarios";
const scenarioTarget = `${outdir}/chunks/scenarios`;
await mkdir(scenarioTarget, { recursive: true });
const scenarioFiles = (await readdir(scenarioSource)).filter((file) => file.endsWith(".yaml"));
await Promise.all(
  scenarioFiles.map((file) => copyFile(`${scenarioSource}/${file}`, `${scenarioTarget}/${file}`)),
);
// What went into each file, for tools that look at the bundle (esbuild's analyzer, the
// dependencies test): dist/meta.json, left out of the npm package (package.json "files").
await writeFile(`${outdir}/meta.json`, JSON.stringify(result.metafile));

const outputs = result.metafile.outputs;
const files = Object.keys(outputs).filter((file) => file.endsWith(".js")).length;
const startup = [...startupFiles(outputs)];
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const startupSizes = startup.map((file) => `${file.replace(`${outdir}/`, "")} ${kib(outputs[file].bytes)}`);
console.log(
  `built ${entry} (${files} files; start-up loads ${startupSizes.join(", ")}; ${scenarioFiles.length} scenarios)`,
);
