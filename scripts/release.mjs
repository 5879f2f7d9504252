// Packs a release for kubectl plugin users: release/kvmig-VERSION.tar.gz (the bundle with its
// entry named kubectl-kvmig), its sha256, and release/kvmig.yaml, the krew plugin manifest filled
// in from deploy/krew/kvmig.yaml. The archive is checked before anything is written: it is
// extracted into a temp dir and its kubectl-kvmig must print the version.
//
//   node scripts/release.mjs [--out DIR] [--base-url URL] [--homepage URL] [--no-build]
//
// --out       where to write (default: release/)
// --base-url  where the archive will be downloaded from, without its file name (default: a
//             GitHub release URL with OWNER to replace)
// --homepage  the plugin's homepage in the manifest
// --no-build  use dist/ as it is instead of building it first
//
// The tar.gz is reproducible: sorted entries, fixed owner, modes and times (SOURCE_DATE_EPOCH
// when set), so the same dist/ gives the same sha256.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
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
      "no-build": { type: "boolean", default: false },
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

const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version ?? ""))
  fail(`package.json has no semver version: ${version}`);
const archiveName = `kvmig-${version}.tar.gz`;
const baseUrl = (
  options["base-url"] ?? `https://github.com/OWNER/kvmig/releases/download/v${version}`
).replace(/\/+$/, "");
const out = resolve(options.out);

// --- dist/ ---
if (!options["no-build"]) {
  execFileSync(process.execPath, [join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
}
if (!existsSync(join(dist, "kvmig.js")) || !existsSync(join(dist, "chunks"))) {
  fail("dist/ is missing or incomplete: run npm run build (or leave out --no-build)");
}

// --- What goes into the archive: [name in the archive, bytes, mode]. ---
/** @type {[string, Buffer, number][]} */
const files = [];
files.push(["kubectl-kvmig", readFileSync(join(dist, "kvmig.js")), 0o755]);
// The bundle is ES modules: this package.json says so to node, whatever lies above the install dir.
const packageJson = { name: "kvmig", version, private: true, type: "module", engines: { node: ">=22.12.0" } };
files.push(["package.json", Buffer.from(`${JSON.stringify(packageJson, null, 2)}\n`), 0o644]);
for (const file of walk(join(dist, "chunks"))) {
  files.push([relative(dist, file).split("\\").join("/"), readFileSync(file), 0o644]);
}
for (const extra of ["README.md", "LICENSE", "LICENSE.md", "LICENSE.txt", "NOTICE"]) {
  if (existsSync(join(root, extra))) files.push([extra, readFileSync(join(root, extra)), 0o644]);
}
files.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function walk(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
}

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

const archive = gzipSync(tarOf(files), { level: 9 });
const sha256 = createHash("sha256").update(archive).digest("hex");

// --- Check that the archive runs before publishing anything. ---
const check = mkdtempSync(join(tmpdir(), "kvmig-release-check-"));
try {
  const archivePath = join(check, archiveName);
  writeFileSync(archivePath, archive);
  const extracted = join(check, "x");
  mkdirSync(extracted);
  execFileSync("tar", ["-xzf", archivePath, "-C", extracted]);
  const printed = execFileSync(join(extracted, "kubectl-kvmig"), ["--version"], {
    cwd: extracted,
    env: { ...process.env, PATH: [dirname(process.execPath), process.env.PATH ?? ""].join(delimiter) },
    encoding: "utf8",
  }).trim();
  if (printed !== version) fail(`the packed kubectl-kvmig --version printed "${printed}", not ${version}`);
} finally {
  rmSync(check, { recursive: true, force: true });
}

// --- The krew manifest. ---
const values = {
  VERSION: version,
  HOMEPAGE: options.homepage,
  URI: `${baseUrl}/${archiveName}`,
  SHA256: sha256,
};
const lines = readFileSync(template, "utf8").split("\n");
const firstLine = lines.findIndex((l) => !l.startsWith("#"));
const body = lines
  .slice(firstLine)
  .join("\n")
  .replace(/\{\{(\w+)\}\}/g, (whole, key) => {
    if (!(key in values)) fail(`deploy/krew/kvmig.yaml has an unknown placeholder ${whole}`);
    return values[key];
  });
if (body.includes("{{")) fail("the manifest still has a {{ placeholder");
const manifest = `# Generated by scripts/release.mjs from deploy/krew/kvmig.yaml for kvmig ${version}.\n${body}`;

mkdirSync(out, { recursive: true });
writeFileSync(join(out, archiveName), archive);
writeFileSync(join(out, `${archiveName}.sha256`), `${sha256}  ${archiveName}\n`);
writeFileSync(join(out, "kvmig.yaml"), manifest);
console.log(`released kvmig ${version} into ${out}:`);
console.log(`  ${archiveName} (${files.length} files, ${(archive.length / 1024).toFixed(0)} KiB)`);
console.log(`  ${archiveName}.sha256 (${sha256})`);
console.log(`  kvmig.yaml (uri ${values.URI})`);
