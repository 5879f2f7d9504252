// Packs a release for kubectl plugin users: one single executable per platform (scripts/sea.mjs:
// Node's single-executable-application support, so no Node.js is needed where it runs), each in
// release/kvmig-VERSION-OS-ARCH.tar.gz with LICENSE, Node's licence (LICENSE.node) and
// README.md; their sha256 sums in release/kvmig-VERSION-sha256sums.txt; and release/kvmig.yaml,
// the krew plugin manifest filled in from deploy/krew/kvmig.yaml with one platform entry each.
// The executable of this machine's platform is run before anything is written (`--version`,
// `--help`, `version --sim`, with no node on PATH); a failure is exit 1.
//
//   node scripts/release.mjs [--out DIR] [--base-url URL] [--homepage URL] [--targets LIST]
//
// --out       where to write (default: release/)
// --base-url  where the archives will be downloaded from, without their file names (default: a
//             GitHub release URL with OWNER to replace)
// --homepage  the plugin's homepage in the manifest
// --targets   comma-separated, from linux-x64, linux-arm64, darwin-x64, windows-x64 and
//             darwin-arm64 (default: all but darwin-arm64, which only an Apple-silicon Mac builds:
//             run the script there with --targets darwin-arm64 and merge its manifest entry)
//
// The Node builds come from the npm registry into ~/.cache/kvmig-release (KVMIG_RELEASE_CACHE).
// Nothing is signed: on macOS a user re-signs the binary ad hoc (see docs/krew.md).
// The tar.gz files are reproducible: sorted entries, fixed owner, modes and times
// (SOURCE_DATE_EPOCH when set).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { fillManifest } from "./krew-manifest.mjs";
import { buildExecutable, bundleForSea, defaultTargets, hostTarget, targets } from "./sea.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const template = join(root, "deploy", "krew", "kvmig.yaml");

function fail(message, code = 1) {
  console.error(`release: ${message}`);
  process.exit(code);
}

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      out: { type: "string", default: join(root, "release") },
      "base-url": { type: "string" },
      homepage: { type: "string", default: "https://github.com/OWNER/kvmig" },
      targets: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail(`${error.message} (see the top of scripts/release.mjs for the options)`, 2);
}
if (options.help) {
  const text = readFileSync(fileURLToPath(import.meta.url), "utf8");
  console.log(
    text
      .split("\n")
      .filter((l) => l.startsWith("//"))
      .map((l) => l.replace(/^\/\/ ?/, ""))
      .join("\n"),
  );
  process.exit(0);
}
const chosen = options.targets === undefined ? defaultTargets() : options.targets.split(",").filter(Boolean);
for (const name of chosen) {
  if (!(name in targets)) fail(`unknown target ${name} (one of ${Object.keys(targets).join(", ")})`, 2);
}
if (chosen.length === 0) fail("--targets names no target", 2);

const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version ?? ""))
  fail(`package.json has no semver version: ${version}`);
const baseUrl = (
  options["base-url"] ?? `https://github.com/OWNER/kvmig/releases/download/v${version}`
).replace(/\/+$/, "");
const out = resolve(options.out);
const licence = join(root, "LICENSE");
if (!existsSync(licence)) fail("there is no LICENSE file to ship");

// --- A ustar archive, gzipped. ---
const mtime = Number.parseInt(process.env.SOURCE_DATE_EPOCH ?? "0", 10) || 0;

function header(name, size, mode, type) {
  if (Buffer.byteLength(name) > 100) fail(`name too long for the archive: ${name}`);
  const block = Buffer.alloc(512);
  const put = (text, offset, length) => block.write(text, offset, length, "utf8");
  const octal = (value, offset, length) =>
    put(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length);
  put(name, 0, 100);
  octal(mode, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(size, 124, 12);
  octal(mtime, 136, 12);
  block.fill(" ", 148, 156); // the checksum counts as spaces while it is computed
  put(type, 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put("root", 265, 32);
  put("root", 297, 32);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return block;
}

function tarOf(entries) {
  const blocks = [];
  const dirs = new Set();
  for (const [name, data, mode] of entries) {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = `${parts.slice(0, i).join("/")}/`;
      if (!dirs.has(dir)) {
        dirs.add(dir);
        blocks.push(header(dir, 0, 0o755, "5"));
      }
    }
    blocks.push(header(name, data.length, mode, "0"), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const log = (line) => console.error(`release: ${line}`);

// --- The executables, each checked where it can run, then archived. ---
const work = mkdtempSync(join(tmpdir(), "kvmig-release-"));
/** @type {{ name: string, os: string, arch: string, bin: string, archive: string, data: Buffer, sha256: string }[]} */
const built = [];
try {
  const bundle = await bundleForSea(root, join(work, "bundle"));
  for (const name of chosen) {
    const { os, arch } = targets[name];
    const bin = os === "windows" ? "kubectl-kvmig.exe" : "kubectl-kvmig";
    const dir = join(work, name);
    mkdirSync(dir);
    const file = join(dir, bin);
    log(`building ${name}`);
    const made = await buildExecutable(name, bundle, file, { work: join(work, "sea"), log });
    if (name === hostTarget()) check(file);
    const nodeLicence = [
      join(dirname(made.base), "..", "LICENSE"),
      join(dirname(process.execPath), "..", "LICENSE"),
    ].find((path) => existsSync(path));
    if (!nodeLicence) fail(`no LICENSE of Node.js beside ${made.base} or ${process.execPath}`);
    /** @type {[string, Buffer, number][]} */
    const files = [
      [bin, readFileSync(file), 0o755],
      ["LICENSE", readFileSync(licence), 0o644],
      ["LICENSE.node", readFileSync(nodeLicence), 0o644],
      ["README.md", readFileSync(join(root, "README.md")), 0o644],
    ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const data = gzipSync(tarOf(files), { level: 9 });
    const archive = `kvmig-${version}-${os}-${arch}.tar.gz`;
    built.push({ name, os, arch, bin, archive, data, sha256: sha256(data) });
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Runs the executable with no node on PATH: --version, --help and version --sim must work. */
function check(file) {
  const home = mkdtempSync(join(tmpdir(), "kvmig-release-home-"));
  const env = { PATH: join(home, "no-node-here"), HOME: home, NO_COLOR: "1" };
  const run = (args) => {
    try {
      return execFileSync(file, args, {
        env,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 60_000,
      });
    } catch (error) {
      fail(
        `${file} ${args.join(" ")} failed (exit ${error.status ?? error.signal}): ${String(error.stderr).trim()}`,
      );
    }
  };
  try {
    const printed = run(["--version"]).trim();
    if (printed !== version) fail(`kubectl-kvmig --version printed "${printed}", not ${version}`);
    const help = run(["--help"]).split("\n")[0];
    if (help !== "Usage: kubectl kvmig [options] [command]") fail(`kubectl-kvmig --help began "${help}"`);
    const sim = run(["version", "--sim"]);
    if (!sim.includes(`kvmig:       ${version}`)) fail(`kubectl-kvmig version --sim printed: ${sim.trim()}`);
    log(`checked ${file}: --version, --help, version --sim`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

// --- The krew manifest: the template with one platform entry per executable. ---
let manifest;
try {
  manifest = fillManifest(readFileSync(template, "utf8"), {
    version,
    homepage: options.homepage,
    platforms: built.map((b) => ({
      os: b.os,
      arch: b.arch,
      uri: `${baseUrl}/${b.archive}`,
      sha256: b.sha256,
      bin: b.bin,
    })),
  });
} catch (error) {
  fail(error.message);
}

mkdirSync(out, { recursive: true });
const sums = `kvmig-${version}-sha256sums.txt`;
for (const b of built) writeFileSync(join(out, b.archive), b.data);
writeFileSync(join(out, sums), built.map((b) => `${b.sha256}  ${b.archive}\n`).join(""));
writeFileSync(join(out, "kvmig.yaml"), manifest);
console.log(`released kvmig ${version} into ${out}:`);
for (const b of built)
  console.log(`  ${b.archive} (${(b.data.length / 1024 / 1024).toFixed(1)} MiB, sha256 ${b.sha256})`);
console.log(`  ${sums}`);
console.log(`  kvmig.yaml (${built.length} platforms)`);
