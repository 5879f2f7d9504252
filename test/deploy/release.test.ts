// scripts/release.mjs end to end: it packs dist/ into kvmig-VERSION.tar.gz with its sha256 and
// fills deploy/krew/kvmig.yaml into a krew manifest, all in a temp dir (--out), and the archive,
// extracted by the system's tar, runs as kubectl-kvmig.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { delimiter, join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import manifest from "../../package.json" with { type: "json" };
import { chunksDir, ensureBuilt, nodeDir, type RunResult, repoRoot, runProcess } from "../e2e/built-cli.js";
import { tempDir } from "../helpers/kubeconfig.js";

const version = manifest.version;
const archiveName = `kvmig-${version}.tar.gz`;
const baseUrl = "https://downloads.example.invalid/kvmig/v9";
const env = {
  PATH: [nodeDir, "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter),
  HOME: tempDir(),
  NO_COLOR: "1",
};

function release(args: string[]): Promise<RunResult> {
  return runProcess([join(repoRoot, "scripts", "release.mjs"), "--no-build", ...args], {
    env,
    timeoutMs: 60_000,
  });
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the manifest is checked field by field.
type Any = any;

/** krew's platform selection: matchLabels and matchExpressions (In) against os and arch. */
function selects(selector: Any, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator !== "In") throw new Error(`operator ${e.operator} not handled here`);
    if (!e.values.includes(labels[e.key])) return false;
  }
  return true;
}

let out: string;
let result: RunResult;
/** dist/chunks as the release saw it (another test run may rebuild dist/ later). */
let chunks: string[];

beforeAll(async () => {
  await ensureBuilt();
  out = join(tempDir("kvmig-release-"), "out");
  chunks = filesUnder(chunksDir).map((f) => `chunks/${relative(chunksDir, f).split("\\").join("/")}`);
  result = await release(["--out", out, "--base-url", `${baseUrl}/`]);
}, 120_000);

describe("scripts/release.mjs", () => {
  it("writes the archive, its sha256 and the krew manifest into --out, and nothing else", () => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([archiveName, `${archiveName}.sha256`, "kvmig.yaml"]);
    expect(result.stdout).toContain(`released kvmig ${version} into ${out}`);
  });

  it("the .sha256 file and the manifest carry the archive's real sha256", () => {
    const digest = sha256(readFileSync(join(out, archiveName)));
    expect(readFileSync(join(out, `${archiveName}.sha256`), "utf8")).toBe(`${digest}  ${archiveName}\n`);
    const plugin = parseYaml(readFileSync(join(out, "kvmig.yaml"), "utf8"));
    for (const platform of plugin.spec.platforms) expect(platform.sha256).toBe(digest);
  });

  it("fills every placeholder: a krew Plugin for kvmig with this version, the URI and bin kubectl-kvmig", () => {
    const text = readFileSync(join(out, "kvmig.yaml"), "utf8");
    expect(text).not.toContain("{{");
    expect(text).not.toContain("}}");
    const plugin = parseYaml(text);
    expect(plugin).toMatchObject({
      apiVersion: "krew.googlecontainertools.github.com/v1alpha2",
      kind: "Plugin",
      metadata: { name: "kvmig" },
      spec: { version: `v${version}`, homepage: expect.stringMatching(/^https:\/\//) },
    });
    expect(plugin.spec.shortDescription.length).toBeLessThanOrEqual(60);
    expect(plugin.spec.description.length).toBeGreaterThan(50);
    expect(plugin.spec.caveats).toMatch(/Node\.js 22/);
    // Every supported os/arch gets exactly one platform, all the same archive.
    for (const os of ["linux", "darwin"]) {
      for (const arch of ["amd64", "arm64"]) {
        const matching = plugin.spec.platforms.filter((p: Any) => selects(p.selector, { os, arch }));
        expect(matching, `${os}/${arch}`).toHaveLength(1);
        expect(matching[0]).toMatchObject({ uri: `${baseUrl}/${archiveName}`, bin: "kubectl-kvmig" });
        expect(matching[0].sha256).toMatch(/^[0-9a-f]{64}$/);
      }
    }
    expect(
      plugin.spec.platforms.some((p: Any) => selects(p.selector, { os: "windows", arch: "amd64" })),
    ).toBe(false);
  });

  it("the template has the placeholders the script fills", () => {
    const template = readFileSync(join(repoRoot, "deploy", "krew", "kvmig.yaml"), "utf8");
    for (const key of ["VERSION", "URI", "SHA256", "HOMEPAGE"]) expect(template).toContain(`{{${key}}}`);
    expect(parseYaml(template)).toMatchObject({ kind: "Plugin", metadata: { name: "kvmig" } });
  });

  it("packs kubectl-kvmig, package.json, README.md and every chunk, and the extracted kubectl-kvmig runs", async () => {
    const archive = join(out, archiveName);
    const listed = execFileSync("tar", ["-tzf", archive], { encoding: "utf8" }).trim().split("\n");
    const files = listed.filter((name) => !name.endsWith("/")).sort();
    expect(files).toEqual(["README.md", ...chunks, "kubectl-kvmig", "package.json"].sort());
    expect(chunks.some((c) => c.startsWith("chunks/scenarios/"))).toBe(true);

    const dir = join(tempDir("kvmig-release-x-"), "plugin");
    mkdirSync(dir);
    execFileSync("tar", ["-xzf", archive, "-C", dir]);
    expect(statSync(join(dir, "kubectl-kvmig")).mode & 0o111).not.toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))).toMatchObject({
      type: "module",
      version,
    });

    // `node kubectl-kvmig`, and as an executable through its shebang, as krew's symlink runs it.
    const viaNode = await runProcess([join(dir, "kubectl-kvmig"), "--version"], { env });
    expect(viaNode).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: "" });
    const direct = await runProcess(["--version"], { command: join(dir, "kubectl-kvmig"), env });
    expect(direct).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: "" });
    // The help says kubectl kvmig; the embedded simulator finds its scenarios in the archive.
    const help = await runProcess(["--help"], { command: join(dir, "kubectl-kvmig"), env });
    expect(help.stdout.split("\n")[0]).toBe("Usage: kubectl kvmig [options] [command]");
    const sim = await runProcess(["version", "--sim", "-o", "json"], {
      command: join(dir, "kubectl-kvmig"),
      env,
    });
    expect(sim.stderr).toBe("");
    expect(sim.code).toBe(0);
    expect(JSON.parse(sim.stdout)).toMatchObject({ kvmig: { version } });
  }, 60_000);

  it("is reproducible: the same dist/ gives the same archive", async () => {
    const [one, again] = [join(tempDir("kvmig-release-"), "one"), join(tempDir("kvmig-release-"), "again")];
    const [first, second] = await Promise.all([release(["--out", one]), release(["--out", again])]);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(sha256(readFileSync(join(again, archiveName)))).toBe(sha256(readFileSync(join(one, archiveName))));
    // Without --base-url the URI is a GitHub release one, with OWNER to replace.
    expect(parseYaml(readFileSync(join(again, "kvmig.yaml"), "utf8")).spec.platforms[0].uri).toBe(
      `https://github.com/OWNER/kvmig/releases/download/v${version}/${archiveName}`,
    );
  }, 60_000);

  it("an unknown option is exit 2 and writes nothing", async () => {
    const nowhere = join(tempDir("kvmig-release-"), "nowhere");
    const bad = await release(["--out", nowhere, "--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--bogus");
    expect(existsSync(nowhere)).toBe(false);
  });
});
