// The built CLI reads a kubeconfig written in YAML that kvmig's own small reader leaves to the
// Kubernetes client (anchors, merge keys, flow collections, block scalars): in the bundle the
// client's js-yaml is a shim over the `yaml` package (scripts/stubs/js-yaml-over-yaml.mjs): these
// read as before, and a broken file is one line naming it and the parser's reason.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sendJson, sendStatus, serverPerTest } from "../helpers/api-server.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { cliEnv, ensureBuilt, lines, runKvmig } from "./built-cli.js";

beforeAll(ensureBuilt);
const currentServer = serverPerTest();

function answerVersion() {
  const server = currentServer();
  server.on("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
  server.on("GET", "/apis/subresources.kubevirt.io/v1/version", (_req, res) =>
    sendJson(res, 200, { gitVersion: "v1.9.0" }),
  );
  server.on("GET", "/apis/kubevirt.io/v1/kubevirts", (_req, res) =>
    sendStatus(res, 404, "NotFound", "the server could not find the requested resource"),
  );
  return server;
}

function writeConfig(text: string) {
  const home = tempDir();
  const path = join(home, "kubeconfig");
  writeFileSync(path, text, { mode: 0o600 });
  return { home, path };
}

describe("a kubeconfig in YAML only a full parser reads", () => {
  it("an anchor and its alias, flow collections, a folded scalar: the context, server and token as written", async () => {
    const server = answerVersion();
    const ca = Buffer.from(server.pki.caPem).toString("base64");
    const { home, path } = writeConfig(`apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster: {server: "${server.url}", certificate-authority-data: ${ca}}
users:
- name: admin
  user: &admin
    token: >-
      abc.
      def
- name: same
  user: *admin
contexts: [{name: folded, context: {cluster: sim, user: same, namespace: demo}}]
current-context: folded
`);

    const result = await runKvmig(["version"], cliEnv(home, { KUBECONFIG: path }));

    expect(result.code).toBe(0);
    expect(lines(result.stdout)[1]).toBe(`Kubernetes:  v1.32.4 at ${server.url} (context "folded")`);
    // The alias gave the context's user the anchored user's token, folded to one line.
    expect(new Set(server.requests.map((r) => r.headers.authorization))).toEqual(
      new Set(["Bearer abc. def"]),
    );
  });

  const refused: Record<string, string> = {
    "a key given twice in one mapping": "clusters: []\ncontexts: []\nusers: {a: 1, a: 2}\n",
    "an unclosed flow sequence":
      "apiVersion: v1\nclusters: [\n  - name: x\n    cluster: {server: https://127.0.0.1:1\n",
  };
  it("two documents: the first is read and the second ignored, as kubectl reads them", async () => {
    const { home, path } = writeConfig("clusters: []\n---\n{contexts: []\n");

    const result = await runKvmig(["version"], cliEnv(home, { KUBECONFIG: path }));

    // The second document is not even valid YAML, and kubectl ignores it too: what kvmig refuses
    // is the first one, a kubeconfig without a current context.
    expect(lines(result.stderr)[0]).toBe("error: the kubeconfig has no current context");
    expect(result.code).toBe(1);
  });

  for (const [what, text] of Object.entries(refused)) {
    it(`${what}: one line naming the file and the parser's reason, the hint, exit 1`, async () => {
      const { home, path } = writeConfig(text);

      const result = await runKvmig(["version"], cliEnv(home, { KUBECONFIG: path }));

      const stderr = lines(result.stderr);
      expect(stderr).toHaveLength(2);
      const prefix = `error: cannot read kubeconfig ${path}: `;
      expect(stderr[0]?.startsWith(prefix)).toBe(true);
      expect(stderr[0]?.length).toBeGreaterThan(prefix.length + 5);
      expect(stderr[1]).toMatch(/^hint: fix the file/);
      expect(result.stdout).toBe("");
      expect(result.code).toBe(1);
    });
  }
});
