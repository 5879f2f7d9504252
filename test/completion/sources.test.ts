// The live completion sources that need no cluster: which kubeconfig files apply, and the
// context names they hold, merged in order, with broken or missing files adding nothing.
import { writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { contextNames, kubeconfigPaths, liveSources } from "../../src/completion/sources.js";
import type { KubeConnector } from "../../src/k8s/provider.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir } from "../helpers/kubeconfig.js";

function config(dir: string, name: string, contexts: string[]): string {
  const path = join(dir, name);
  const items = contexts.map((c) => `- name: ${c}\n  context: {cluster: c, user: u}`).join("\n");
  writeFileSync(path, `apiVersion: v1\nkind: Config\ncontexts:\n${items}\n`);
  return path;
}

describe("kubeconfigPaths: kubectl's order", () => {
  it("--kubeconfig, else every file of KUBECONFIG, else ~/.kube/config", () => {
    const env = { KUBECONFIG: ["/a", "", "/b"].join(delimiter), HOME: "/home/me" };
    expect(kubeconfigPaths("/flag", env)).toEqual(["/flag"]);
    expect(kubeconfigPaths(undefined, env)).toEqual(["/a", "/b"]);
    expect(kubeconfigPaths(undefined, { HOME: "/home/me" })).toEqual(["/home/me/.kube/config"]);
  });
});

describe("contextNames", () => {
  it("merges the files in order, each name once", async () => {
    const dir = tempDir();
    const first = config(dir, "one", ["dev", "prod"]);
    const second = config(dir, "two", ["prod", "staging"]);
    expect(await contextNames([first, second])).toEqual(["dev", "prod", "staging"]);
  });

  it("skips a missing file, a file that is not YAML, and one without contexts", async () => {
    const dir = tempDir();
    const broken = join(dir, "broken");
    writeFileSync(broken, "contexts: [unclosed\n");
    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    const good = config(dir, "good", ["dev"]);
    expect(await contextNames([join(dir, "missing"), broken, empty, good])).toEqual(["dev"]);
  });
});

describe("liveSources", () => {
  it("contexts from KUBECONFIG when the line names no kubeconfig", async () => {
    const dir = tempDir();
    const path = config(dir, "config", ["sim-admin", "sim-viewer"]);
    const refuse: KubeConnector = async () => {
      throw new Error("no cluster for contexts");
    };
    const sources = liveSources({ env: { KUBECONFIG: path }, clock: new FakeClock(), connect: refuse });
    expect(await sources.contexts(undefined)).toEqual(["sim-admin", "sim-viewer"]);
    expect(await sources.cluster("vmi", {})).toEqual([]);
  });
});
