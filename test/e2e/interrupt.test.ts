// Ctrl-C: the built CLI stops waiting on the cluster at once, says so, and exits 130.
import { spawn } from "node:child_process";
import { beforeAll, expect, it } from "vitest";
import { serverPerTest } from "../helpers/api-server.js";
import { tempDir, writeKubeconfig } from "../helpers/kubeconfig.js";
import { cliEnv, distEntry, ensureBuilt, lines, repoRoot } from "./built-cli.js";

beforeAll(ensureBuilt);
const currentServer = serverPerTest();

it("SIGINT while a request hangs (no request timeout): 'interrupted', exit 130", async () => {
  const server = currentServer();
  let requested: () => void = () => {};
  const seen = new Promise<void>((resolve) => {
    requested = resolve;
  });
  // The API server takes the requests and never answers.
  server.on("GET", /.*/, () => requested());
  const home = tempDir();
  const kubeconfig = writeKubeconfig(home, { server: server.url, caPem: server.pki.caPem, token: "t" });

  const child = spawn(process.execPath, [distEntry, "version", "--request-timeout", "0"], {
    cwd: repoRoot,
    env: cliEnv(home, { KUBECONFIG: kubeconfig }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

  await seen;
  child.kill("SIGINT");
  const code = await exited;

  expect(code).toBe(130);
  // With no request timeout, only the interrupt can end this run (else the test times out).
  expect(lines(stderr)).toEqual(["interrupted"]);
});
