// Bundles the CLI with esbuild. Both bins (kvmig and kubectl-kvmig) run the one entry file,
// dist/kvmig.js. What only some commands need (the Kubernetes client, ora, inquirer, yaml) is
// split into dist/chunks/ and loaded with import() on first use, so `kvmig --help` parses
// about 60 KiB instead of 2 MiB.
import { chmod, copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const outdir = "dist";

/** commander's import of node:child_process, replaced by a stub (see the stub's comment). */
const commanderWithoutChildProcess = {
  name: "commander-without-child-process",
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: fileURLToPath(new URL("stubs/commander-child-process.mjs", import.meta.url)) }
        : undefined,
    );
  },
};
const entry = `${outdir}/kvmig.js`;

await rm(outdir, { recursive: true, force: true });
const result = await build({
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
  plugins: [commanderWithoutChildProcess],
  logLevel: "warning",
  banner: {
    // Bundled CommonJS dependencies call require() for Node built-ins.
    js: 'import { createRequire as __kvmigCreateRequire } from "node:module";const require = __kvmigCreateRequire(import.meta.url);',
  },
});

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
const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith(".js"))
  .map(([file, output]) => `${file.replace(`${outdir}/`, "")} ${(output.bytes / 1024).toFixed(0)} KiB`);
console.log(
  `built ${entry} (${sizes.length} files: ${sizes.slice(0, 4).join(", ")}${sizes.length > 4 ? ", ..." : ""}; ${scenarioFiles.length} scenarios)`,
);
