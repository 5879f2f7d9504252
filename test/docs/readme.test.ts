// The README as an operator's page: its pictures exist and come from the screens script, every
// failure mode diagnose knows is in its catalogue, and every command has its section.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { allRules } from "../../src/diagnose/modes/index.js";
import { oldestSupportedKubeVirt, supportedKubeVirtRange } from "../../src/k8s/kubevirt-version.js";

const root = new URL("../../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");

describe("README", () => {
  it("starts with the two set-up commands", () => {
    const block = /^# kvmig\n\n```sh\n(.+)\n(.+)\n```/.exec(readme);
    expect(block?.[1]).toMatch(/^npm ci && npm start -- migrate fedora-web -n demo --sim\s+#/);
    expect(block?.[2]).toMatch(/^npm ci && npm test\s+#/);
  });

  it("its test command installs the tools the tests run for real before it builds and tests", () => {
    const scripts = JSON.parse(readFileSync(new URL("package.json", root), "utf8")).scripts;
    expect(scripts.test.split(" && ")[0]).toBe("bash scripts/test-tools.sh");
    expect(scripts.test).toMatch(/scripts\/build\.mjs && .*vitest\.mjs run$/);
  });

  it("shows a picture for each command, each one a file the screens script writes", () => {
    const pictures = [...readme.matchAll(/!\[[^\]]*\]\((docs\/screens\/[\w-]+\.svg)\)/g)].map(
      (m) => m[1] ?? "",
    );
    expect(pictures.sort()).toEqual(
      ["cancel", "diagnose", "evacuate", "migrate", "outdated", "restart", "version", "watch"].map(
        (name) => `docs/screens/${name}.svg`,
      ),
    );
    const script = readFileSync(new URL("scripts/screens.mjs", root), "utf8");
    for (const picture of pictures) {
      expect(existsSync(new URL(picture, root)), picture).toBe(true);
      const name = picture.replace(/^docs\/screens\/|\.svg$/g, "");
      expect(script, name).toContain(`"${name}"`);
    }
    expect(readdirSync(new URL("docs/screens/", root)).filter((f) => f.endsWith(".svg"))).toHaveLength(
      pictures.length,
    );
  });

  it("lists every failure mode diagnose knows, one line each", () => {
    const catalogue = readme.slice(readme.indexOf("## Failure modes"), readme.indexOf("## Exit codes"));
    for (const rule of allRules)
      expect(catalogue).toMatch(new RegExp(`^\\| \`${rule.id}\` +\\| ${rule.severity} `, "m"));
    expect(catalogue.match(/^\| `[a-z-]+` /gm)).toHaveLength(allRules.length);
  });

  it("states the supported KubeVirt versions that kvmig version prints, from the one constant", () => {
    const section = readme.slice(readme.indexOf("\n## Supported KubeVirt versions\n"));
    const stated = /^kvmig supports KubeVirt (v\d+\.\d+ to v\d+\.\d+),/m.exec(section)?.[1];
    expect(stated).toBe(supportedKubeVirtRange());
    // The floor migrate's pre-flight enforces.
    expect(section.slice(0, section.indexOf("\n## ", 2))).toContain(`older than ${oldestSupportedKubeVirt}.`);
  });

  it("has a section for each command, and the configuration, RBAC and test sections", () => {
    for (const heading of [
      "### kvmig migrate",
      "### kvmig watch",
      "### kvmig cancel",
      "### kvmig restart",
      "### kvmig outdated",
      "### kvmig diagnose",
      "### kvmig version",
      "## Install",
      "## A quick tour",
      "## JSON output",
      "## Configuration",
      "## Permissions (RBAC)",
      "## Running the tests",
    ]) {
      expect(readme).toContain(`\n${heading}\n`);
    }
    for (const name of ["KUBECONFIG", "KVMIG_PROMETHEUS_URL", "NO_COLOR", "kubeconfig"])
      expect(readme).toContain(name);
  });
});
