// The built CLI authenticating through an exec credential plugin: the bundle must run the
// plugin with the real child_process (only commander's copy is stubbed out).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { sendJson, sendStatus, serverPerTest } from "../helpers/api-server.js";
import { tempDir, writeExecPluginKubeconfig } from "../helpers/kubeconfig.js";
import { cliEnv, ensureBuilt, lines, runKvmig } from "./built-cli.js";

beforeAll(ensureBuilt);
const currentServer = serverPerTest();

it("kvmig version sends the token the plugin returned", async () => {
  const server = currentServer();
  server.on("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
  server.on("GET", "/apis/subresources.kubevirt.io/v1/version", (_req, res) =>
    sendJson(res, 200, { gitVersion: "v1.9.0" }),
  );
  server.on("GET", "/apis/kubevirt.io/v1/kubevirts", (_req, res) =>
    sendStatus(res, 404, "NotFound", "the server could not find the requested resource"),
  );
  const home = tempDir();
  const kubeconfig = writeExecPluginKubeconfig(home, {
    server: server.url,
    caPem: server.pki.caPem,
    token: "carol",
  });

  const result = await runKvmig(["version"], cliEnv(home, { KUBECONFIG: kubeconfig }));

  expect(result.code).toBe(0);
  expect(lines(result.stdout)[1]).toBe(`Kubernetes:  v1.32.4 at ${server.url} (context "exec")`);
  expect(new Set(server.requests.map((r) => r.headers.authorization))).toEqual(
    new Set(["Bearer from-carol"]),
  );
});

// A credential without expirationTimestamp is kept until the server refuses it; then, as
// client-go's exec authenticator does, the plugin runs again and the request goes once more.
function rotatingPlugin(home: string): { kubeconfig: string; runs: () => number } {
  const kubeconfig = writeExecPluginKubeconfig(home, { server: "", caPem: "", token: "unused" });
  const counter = join(home, "runs");
  writeFileSync(counter, "0");
  writeFileSync(
    join(home, "credential-plugin.mjs"),
    `import { readFileSync, writeFileSync } from "node:fs";
const n = Number(readFileSync(${JSON.stringify(counter)}, "utf8")) + 1;
writeFileSync(${JSON.stringify(counter)}, String(n));
process.stdout.write(JSON.stringify({
  apiVersion: "client.authentication.k8s.io/v1",
  kind: "ExecCredential",
  status: { token: "token-" + n },
}));
`,
  );
  return { kubeconfig, runs: () => Number(readFileSync(counter, "utf8")) };
}

function withServer(kubeconfig: string, url: string, caPem: string): void {
  const config = readFileSync(kubeconfig, "utf8")
    .replace(/server: .*/, `server: ${url}`)
    .replace(
      /certificate-authority-data: .*/,
      `certificate-authority-data: ${Buffer.from(caPem).toString("base64")}`,
    );
  writeFileSync(kubeconfig, config);
}

it("a token the server refuses (401) makes kvmig run the plugin again and send the request once more", async () => {
  const server = currentServer();
  const accepted = (req: { headers: Record<string, unknown> }) =>
    req.headers.authorization === "Bearer token-2";
  const guard =
    (answer: (res: Parameters<typeof sendJson>[0]) => void) =>
    (req: { headers: Record<string, unknown> }, res: Parameters<typeof sendJson>[0]) =>
      accepted(req) ? answer(res) : sendStatus(res, 401, "Unauthorized", "Unauthorized");
  server.on(
    "GET",
    "/version",
    guard((res) => sendJson(res, 200, { gitVersion: "v1.32.4" })),
  );
  server.on(
    "GET",
    "/apis/subresources.kubevirt.io/v1/version",
    guard((res) => sendJson(res, 200, { gitVersion: "v1.9.0" })),
  );
  server.on(
    "GET",
    "/apis/kubevirt.io/v1/kubevirts",
    guard((res) => sendStatus(res, 404, "NotFound", "the server could not find the requested resource")),
  );
  const home = tempDir();
  const { kubeconfig, runs } = rotatingPlugin(home);
  withServer(kubeconfig, server.url, server.pki.caPem);

  const result = await runKvmig(["version"], cliEnv(home, { KUBECONFIG: kubeconfig }));

  expect(result.code).toBe(0);
  expect(result.stderr).not.toMatch(/401|nauthorized/);
  expect(lines(result.stdout)[1]).toBe(`Kubernetes:  v1.32.4 at ${server.url} (context "exec")`);
  expect(runs()).toBe(2);
  const sent = server.requests.map((r) => r.headers.authorization);
  expect(sent.filter((a) => a === "Bearer token-2")).toHaveLength(3);
  expect(sent.filter((a) => a === "Bearer token-1").length).toBeGreaterThan(0);
});

it("a token refused again after the plugin ran anew: the 401 stands (exit 4); the request went twice, not more", async () => {
  const server = currentServer();
  for (const path of [
    "/version",
    "/apis/subresources.kubevirt.io/v1/version",
    "/apis/kubevirt.io/v1/kubevirts",
  ]) {
    server.on("GET", path, (_req, res) => sendStatus(res, 401, "Unauthorized", "Unauthorized"));
  }
  const home = tempDir();
  const { kubeconfig, runs } = rotatingPlugin(home);
  withServer(kubeconfig, server.url, server.pki.caPem);

  const result = await runKvmig(["-v", "version"], cliEnv(home, { KUBECONFIG: kubeconfig }));

  expect(result.code).toBe(4);
  const stderr = lines(result.stderr);
  expect(stderr).toContain("error: Unauthorized");
  expect(runs()).toBeGreaterThan(1);
  const version = stderr.filter((line) => line.startsWith("GET /version "));
  expect(version).toEqual([
    expect.stringMatching(
      /^GET \/version 401 Unauthorized in \d+ms \(credential refused: asking for a fresh one\)$/,
    ),
    expect.stringMatching(/^GET \/version 401 Unauthorized in \d+ms$/),
  ]);
});
