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
  return {
    name: "startup-core",
    setup(build) {
      build.onResolve({ filter: /^kvmig:startup-core$/ }, () => ({
        path: "startup-core",
        namespace: "kvmig",
      }));
      build.onLoad({ filter: /.*/, namespace: "kvmig" }, () => ({
        contents: imports,
        resolveDir: process.cwd(),
        loader: "js",
      }));
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!entries.has(args.path) || shared.size === 0) return undefined;
        // After the shebang, which must stay the first line.
        const [, shebang = "", source] = /^(#!.*\n)?([\s\S]*)$/.exec(await readFile(args.path, "utf8"));
        return { contents: `${shebang}import "kvmig:startup-core";\n${source}`, loader: "ts" };
      });
    },
  };
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
