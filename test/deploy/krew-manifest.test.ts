// The krew manifest scripts/release.mjs writes, checked against krew's rules
// (deploy/krew/plugin.schema.json, from krew's pkg/index/types.go and
// pkg/index/validation/validate.go), for every platform the release builds; and the schema
// itself, which must reject what krew rejects.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import manifest from "../../package.json" with { type: "json" };
// @ts-expect-error: a JavaScript module of the release scripts, without types.
import { fillManifest } from "../../scripts/krew-manifest.mjs";
import { repoRoot } from "../e2e/built-cli.js";
import { krewSchemaErrors } from "../helpers/krew-schema.js";

const template = readFileSync(join(repoRoot, "deploy", "krew", "kvmig.yaml"), "utf8");
const digest = "0123456789abcdef".repeat(4);
const platforms = [
  ["linux", "amd64", "kubectl-kvmig"],
  ["linux", "arm64", "kubectl-kvmig"],
  ["darwin", "amd64", "kubectl-kvmig"],
  ["darwin", "arm64", "kubectl-kvmig"],
  ["windows", "amd64", "kubectl-kvmig.exe"],
].map(([os, arch, bin]) => ({
  os,
  arch,
  bin,
  sha256: digest,
  uri: `https://downloads.example.invalid/kvmig-${manifest.version}-${os}-${arch}.tar.gz`,
}));

// biome-ignore lint/suspicious/noExplicitAny: a parsed manifest, changed field by field below.
type Any = any;
function filled(): Any {
  return parseYaml(
    fillManifest(template, {
      version: manifest.version,
      homepage: "https://example.invalid/kvmig",
      platforms,
    }),
  );
}

describe("the krew manifest", () => {
  it("filled for all five platforms, it follows krew's rules", () => {
    const plugin = filled();
    expect(krewSchemaErrors(plugin)).toBe("");
    expect(plugin.metadata.name).toBe("kvmig");
    expect(plugin.spec.version).toBe(`v${manifest.version}`);
    expect(
      plugin.spec.platforms.map((p: Any) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`),
    ).toEqual(["linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"]);
    // Windows runs .exe entrypoints only; no files list, so everything (LICENSE too) is installed.
    expect(plugin.spec.platforms.at(-1).bin).toBe("kubectl-kvmig.exe");
    expect(plugin.spec.platforms.every((p: Any) => p.files === undefined)).toBe(true);
  });

  it("its caveats are extra steps only: the completion helper, the macOS signature, the RBAC binding", () => {
    const caveats: string = filled().spec.caveats;
    expect(caveats).toContain("kubectl_complete-kvmig, which krew cannot install");
    expect(caveats).toContain('ln -s "$(command -v kubectl-kvmig)" "$HOME/.krew/bin/kubectl_complete-kvmig"');
    expect(caveats).toContain('codesign --sign - --force "$(readlink "$(command -v kubectl-kvmig)")"');
    expect(caveats).toContain("kubevirt.io:migrate");
    expect(caveats).not.toMatch(/needs Node\.js|node --version/);
  });

  it("an unknown placeholder or a template without the platforms line is an error", () => {
    const options = { version: "1.0.0", homepage: "h", platforms };
    expect(() => fillManifest(`${template}\n  # {{NOPE}}`, options)).toThrow(
      "deploy/krew/kvmig.yaml has an unknown placeholder {{NOPE}}",
    );
    expect(() => fillManifest(template.replace("\n  platforms: []", "\n  platforms:"), options)).toThrow(
      "deploy/krew/kvmig.yaml has no `  platforms: []` line to fill",
    );
  });

  // What krew's ValidatePlugin rejects, the schema rejects too.
  const broken: [string, (p: Any) => void, string][] = [
    [
      "another apiVersion",
      (p) => (p.apiVersion = "krew.googlecontainertools.github.com/v1alpha1"),
      "/apiVersion",
    ],
    ["another kind", (p) => (p.kind = "Plugins"), "/kind"],
    ["a name with a dot", (p) => (p.metadata.name = "kv.mig"), "/metadata/name"],
    ["a Windows device name", (p) => (p.metadata.name = "Com1"), "/metadata/name"],
    ["no short description", (p) => (p.spec.shortDescription = ""), "/spec/shortDescription"],
    ["a version without its v", (p) => (p.spec.version = manifest.version), "/spec/version"],
    ["no platforms", (p) => (p.spec.platforms = []), "/spec/platforms"],
    [
      "an upper-case sha256",
      (p) => (p.spec.platforms[0].sha256 = digest.toUpperCase()),
      "/spec/platforms/0/sha256",
    ],
    ["no bin", (p) => delete p.spec.platforms[1].bin, "/spec/platforms/1"],
    ["no selector", (p) => delete p.spec.platforms[2].selector, "/spec/platforms/2"],
    [
      "an empty matchLabels",
      (p) => (p.spec.platforms[0].selector = { matchLabels: {} }),
      "/spec/platforms/0/selector/matchLabels",
    ],
    [
      "a selector key other than os and arch",
      (p) => (p.spec.platforms[0].selector.matchLabels.libc = "musl"),
      "/spec/platforms/0/selector/matchLabels",
    ],
    ["an empty files list", (p) => (p.spec.platforms[0].files = []), "/spec/platforms/0/files"],
    ["a misspelt field", (p) => (p.spec.platforms[0].sha = digest), "/spec/platforms/0"],
  ];
  it.each(broken)("the schema rejects %s", (_what, change, path) => {
    const plugin = filled();
    change(plugin);
    expect(krewSchemaErrors(plugin)).toContain(`${path} `);
  });
});
