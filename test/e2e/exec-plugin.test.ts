// The built CLI authenticating through an exec credential plugin: the bundle must run the
// plugin with the real child_process (only commander's copy is stubbed out).
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
