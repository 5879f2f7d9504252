// scripts/release.mjs end to end for this machine's platform (linux-x64; the other platforms'
// Node builds are never downloaded here): it builds the single executable, checks it, packs it
// into kvmig-VERSION-linux-amd64.tar.gz with the licences and the README, writes the sha256 sums
// and fills deploy/krew/kvmig.yaml into a krew manifest, all in a temp dir (--out). The extracted
// executable then runs as a kubectl plugin with no node anywhere on PATH.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { delimiter, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import manifest from "../../package.json" with { type: "json" };
import { nodeDir, type RunResult, repoRoot, runProcess } from "../e2e/built-cli.js";
import { krewSchemaErrors as schemaErrors } from "../helpers/krew-schema.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl } from "../helpers/kubectl.js";

const version = manifest.version;
const archiveName = `kvmig-${version}-linux-amd64.tar.gz`;
const sumsName = `kvmig-${version}-sha256sums.txt`;
const baseUrl = "https://downloads.example.invalid/kvmig/v9";
const linuxX64 = process.platform === "linux" && process.arch === "x64";
const env = {
  PATH: [nodeDir, "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter),
  HOME: tempDir(),
  NO_COLOR: "1",
};

function release(args: string[]): Promise<RunResult> {
  return runProcess([join(repoRoot, "scripts", "release.mjs"), ...args], { env, timeoutMs: 240_000 });
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

let out: string;
let result: RunResult;

beforeAll(async () => {
  if (!linuxX64) return;
  out = join(tempDir("kvmig-release-"), "out");
  result = await release(["--out", out, "--base-url", `${baseUrl}/`, "--targets", "linux-x64"]);
}, 300_000);

describe.skipIf(!linuxX64)("scripts/release.mjs --targets linux-x64", () => {
  it("writes the archive, the sha256 sums and the krew manifest into --out, and nothing else", () => {
    expect(result.stderr).not.toMatch(/^release: .*(failed|printed|began)/m);
    expect(result.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([archiveName, sumsName, "kvmig.yaml"]);
    expect(result.stdout).toContain(`released kvmig ${version} into ${out}`);
    // It checked the executable before writing anything.
    expect(result.stderr).toMatch(/^release: checked .*kubectl-kvmig: --version, --help, version --sim$/m);
  });

  it("the sums file and the manifest carry the archive's real sha256", () => {
    const digest = sha256(readFileSync(join(out, archiveName)));
    expect(readFileSync(join(out, sumsName), "utf8")).toBe(`${digest}  ${archiveName}\n`);
    const plugin = parseYaml(readFileSync(join(out, "kvmig.yaml"), "utf8"));
    expect(plugin.spec.platforms.map((p: { sha256: string }) => p.sha256)).toEqual([digest]);
  });

  it("fills the manifest: this version, one platform entry per executable, and caveats for what krew cannot do", () => {
    const text = readFileSync(join(out, "kvmig.yaml"), "utf8");
    expect(text).not.toContain("{{");
    const plugin = parseYaml(text);
    expect(plugin).toMatchObject({
      apiVersion: "krew.googlecontainertools.github.com/v1alpha2",
      kind: "Plugin",
      metadata: { name: "kvmig" },
      spec: { version: `v${version}`, homepage: expect.stringMatching(/^https:\/\//) },
    });
    expect(plugin.spec.platforms).toEqual([
      {
        selector: { matchLabels: { os: "linux", arch: "amd64" } },
        uri: `${baseUrl}/${archiveName}`,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        bin: "kubectl-kvmig",
      },
    ]);
    // The completion helper and the macOS signature are the user's to add; krew's rules hold.
    expect(schemaErrors(plugin)).toBe("");
    expect(plugin.spec.caveats).toContain(
      'ln -s "$(command -v kubectl-kvmig)" "$HOME/.krew/bin/kubectl_complete-kvmig"',
    );
    expect(plugin.spec.caveats).toContain("codesign --sign - --force");
  });

  it("the template has the placeholders and the platforms line the script fills", () => {
    const template = readFileSync(join(repoRoot, "deploy", "krew", "kvmig.yaml"), "utf8");
    for (const key of ["VERSION", "HOMEPAGE"]) expect(template).toContain(`{{${key}}}`);
    expect(template).toMatch(/^ {2}platforms: \[\]$/m);
    expect(parseYaml(template)).toMatchObject({ kind: "Plugin", metadata: { name: "kvmig" } });
  });

  it("packs the executable, LICENSE (Apache-2.0), Node's licence and the README", () => {
    const listed = execFileSync("tar", ["-tzvf", join(out, archiveName)], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(listed.map((line) => line.split(/\s+/).at(-1)).sort()).toEqual([
      "LICENSE",
      "LICENSE.node",
      "README.md",
      "kubectl-kvmig",
    ]);
    expect(listed.find((line) => line.endsWith(" kubectl-kvmig"))).toMatch(/^-rwxr-xr-x root\/root /);
    const dir = tempDir("kvmig-release-licence-");
    execFileSync("tar", ["-xzf", join(out, archiveName), "-C", dir, "LICENSE", "LICENSE.node"]);
    expect(readFileSync(join(dir, "LICENSE"), "utf8")).toBe(readFileSync(join(repoRoot, "LICENSE"), "utf8"));
    expect(readFileSync(join(dir, "LICENSE"), "utf8")).toContain(
      "Apache License\n                           Version 2.0",
    );
    expect(readFileSync(join(dir, "LICENSE.node"), "utf8")).toMatch(
      /^Node\.js is licensed for use as follows/,
    );
  });

  const kubectl = findKubectl();
  it.skipIf(!kubectl)(
    "with only the executable and kubectl on PATH (no node): kubectl kvmig migrate fedora-web -n demo --sim succeeds, and completion works through a kubectl_complete-kvmig link",
    async () => {
      const bin = join(tempDir("kvmig-release-x-"), "bin");
      mkdirSync(bin);
      execFileSync("tar", ["-xzf", join(out, archiveName), "-C", bin, "kubectl-kvmig"]);
      symlinkSync(kubectl as string, join(bin, "kubectl"));
      symlinkSync(join(bin, "kubectl-kvmig"), join(bin, "kubectl_complete-kvmig"));
      expect(readdirSync(bin).sort()).toEqual(["kubectl", "kubectl-kvmig", "kubectl_complete-kvmig"]);
      const alone = { PATH: bin, HOME: tempDir("kvmig-release-home-"), NO_COLOR: "1" };
      expect(existsSync(join(bin, "node"))).toBe(false);

      const migrate = await runProcess(["kvmig", "migrate", "fedora-web", "-n", "demo", "--sim"], {
        command: join(bin, "kubectl"),
        env: alone,
        timeoutMs: 90_000,
      });
      expect(migrate.stderr).not.toMatch(/^error:/m);
      expect(migrate.code).toBe(0);
      expect(migrate.stdout.split("\n")[0]).toMatch(
        /^Succeeded {2}demo\/fedora-web moved node-1 → node-[23]$/,
      );

      // The embedded scenarios: listed, and an unknown one is the usual one-line error.
      const list = await runProcess(["sim", "--list-scenarios"], {
        command: join(bin, "kubectl-kvmig"),
        env: alone,
      });
      expect(list.code).toBe(0);
      const names = readdirSync(join(repoRoot, "src", "sim", "scenarios"))
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => f.slice(0, -".yaml".length));
      expect(
        list.stdout
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split(" ")[0]),
      ).toEqual(["default", ...names.filter((n) => n !== "default").sort((a, b) => a.localeCompare(b))]);

      const complete = await runProcess(["mig"], {
        command: join(bin, "kubectl_complete-kvmig"),
        env: alone,
      });
      expect(complete.code).toBe(0);
      expect(complete.stdout.split("\n")).toContain("migrate");
    },
    120_000,
  );

  it("an unknown option or target is exit 2 and writes nothing", async () => {
    const nowhere = join(tempDir("kvmig-release-"), "nowhere");
    const bad = await release(["--out", nowhere, "--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--bogus");
    const target = await release(["--out", nowhere, "--targets", "linux-x64,solaris-sparc"]);
    expect(target.code).toBe(2);
    expect(target.stderr).toBe(
      "release: unknown target solaris-sparc (one of linux-x64, linux-arm64, darwin-x64, darwin-arm64, windows-x64)\n",
    );
    expect(existsSync(nowhere)).toBe(false);
  });
});
