// The portable suite's target switch (test/portable/target.ts): KVMIG_E2E_TARGET picks the
// simulated twin of the kind cluster or the cluster in KUBECONFIG, and a cluster that is missing,
// unreachable or hanging fails the suite within seconds with a message that says what to do,
// instead of hanging the run. This file is not part of test/portable: it sets the switch itself.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, distEntry, ensureBuilt, type RunResult, repoRoot, runProcess } from "../e2e/built-cli.js";
import { kubeconfigYaml, tempDir } from "../helpers/kubeconfig.js";
import { createTestPki } from "../helpers/tls.js";
import { createTarget, type E2eTarget, namespace, targetKind, testVms } from "../portable/target.js";

let caPem = "";
beforeAll(async () => {
  await ensureBuilt();
  caPem = (await createTestPki()).caPem;
}, 120_000);

let target: E2eTarget | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await target?.close();
  target = undefined;
  for (const server of servers.splice(0)) server.close();
});

/** A kubeconfig whose only cluster is at `server`. */
function kubeconfigFor(server: string): string {
  const file = join(tempDir(), "kubeconfig");
  writeFileSync(file, kubeconfigYaml({ server, caPem, token: "t0ken" }), { mode: 0o600 });
  return file;
}

/** A TCP port that accepts connections and never says a word (a hung API server). */
async function silentPort(): Promise<number> {
  const server = createServer(() => {});
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const port = await silentPort();
  const server = servers.pop();
  await new Promise((resolve) => server?.close(resolve));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<{ message: string; ms: number }> {
  const start = Date.now();
  const error = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  return { message: error instanceof Error ? error.message : String(error), ms: Date.now() - start };
}

describe("KVMIG_E2E_TARGET", () => {
  it("unset or sim: the simulation; cluster: a real cluster; anything else: an error naming both", () => {
    expect(targetKind({})).toBe("sim");
    expect(targetKind({ KVMIG_E2E_TARGET: "sim" })).toBe("sim");
    expect(targetKind({ KVMIG_E2E_TARGET: "cluster" })).toBe("cluster");
    expect(() => targetKind({ KVMIG_E2E_TARGET: "kind" })).toThrow(
      'KVMIG_E2E_TARGET="kind" is not a target: use sim (the default: a simulated cluster shaped like the one scripts/kind/up.sh builds) or cluster (the cluster in KUBECONFIG)',
    );
  });

  it("sim: a simulated cluster with what scripts/kind/up.sh deploys, read through the API", async () => {
    target = await createTarget({ env: {} });
    expect(target.kind).toBe("sim");
    expect(target.supportsFaults).toBe(true);
    for (const name of testVms) expect((await target.vmi(name))?.status?.phase).toBe("Running");
    const version = await target.run(["version", "-o", "json"]);
    expect(version.code).toBe(0);
    expect(JSON.parse(version.stdout).kubevirt.version).toBe("v1.9.0");
    const nads = await target.run(["diagnose", "vm-bridge", "-n", namespace]);
    expect(nads.stdout).toContain("2 NetworkAttachmentDefinitions");
  }, 30_000);
});

describe("KVMIG_E2E_TARGET=cluster fails fast, saying what to do", () => {
  it("without KUBECONFIG: names KUBECONFIG and the script that makes a cluster", async () => {
    const { message } = await rejection(createTarget({ env: { KVMIG_E2E_TARGET: "cluster" } }));
    expect(message).toBe(
      "KVMIG_E2E_TARGET=cluster needs KUBECONFIG: the kubeconfig of the cluster to test (scripts/kind/up.sh writes ~/.kube/kind-kvmig); unset KVMIG_E2E_TARGET to test against the simulated cluster",
    );
  });

  it("with a KUBECONFIG file that does not exist", async () => {
    const missing = join(tempDir(), "nope");
    const { message } = await rejection(
      createTarget({ env: { KVMIG_E2E_TARGET: "cluster", KUBECONFIG: missing } }),
    );
    expect(message).toBe(`KVMIG_E2E_TARGET=cluster: KUBECONFIG names ${missing}, which does not exist`);
  });

  it("nothing listening at the server: connection refused, at once", async () => {
    const port = await closedPort();
    const kubeconfig = kubeconfigFor(`https://127.0.0.1:${port}`);
    const { message, ms } = await rejection(
      createTarget({ env: { KVMIG_E2E_TARGET: "cluster", KUBECONFIG: kubeconfig } }),
    );
    expect(message).toBe(
      `KVMIG_E2E_TARGET=cluster: the cluster in KUBECONFIG (${kubeconfig}) did not answer: cannot connect to the API server at https://127.0.0.1:${port} (context "test"): connection refused; start one with scripts/kind/up.sh, then: KUBECONFIG=<its kubeconfig> npm run test:e2e:cluster`,
    );
    console.log(`connection refused: failed after ${ms} ms`);
  }, 20_000);

  it("a server that accepts and never answers: gives up after a few seconds instead of hanging", async () => {
    const port = await silentPort();
    const kubeconfig = kubeconfigFor(`https://127.0.0.1:${port}`);
    const { message, ms } = await rejection(
      createTarget({ env: { KVMIG_E2E_TARGET: "cluster", KUBECONFIG: kubeconfig } }),
    );
    expect(message).toMatch(
      new RegExp(
        `^KVMIG_E2E_TARGET=cluster: the cluster in KUBECONFIG \\(${kubeconfig}\\) did not answer: the API server at https://127\\.0\\.0\\.1:${port} \\(context "test"\\) did not answer GET /version after \\d+ tries over [\\d.]+s: no answer within 2s; start one with scripts/kind/up\\.sh`,
      ),
    );
    // Each request may take 2 s and kvmig tries twice; the check itself stops at 12 s.
    expect(ms).toBeLessThan(13_000);
    console.log(`silent server: failed after ${ms} ms`);
  }, 20_000);

  it("a cluster without the test VMs (here: the default simulated cluster): says to run scripts/kind/up.sh", async () => {
    const { startSimCluster } = await import("../../src/sim/cluster.js");
    const sim = await startSimCluster({ seed: 3 });
    try {
      const kubeconfig = join(tempDir(), "kubeconfig");
      writeFileSync(kubeconfig, sim.kubeconfig(), { mode: 0o600 });
      const { message } = await rejection(
        createTarget({ env: { KVMIG_E2E_TARGET: "cluster", KUBECONFIG: kubeconfig } }),
      );
      expect(message).toBe(
        `KVMIG_E2E_TARGET=cluster: the cluster in KUBECONFIG (${kubeconfig}) has no vm-masq, vm-bridge in namespace kvmig-e2e, so it is not the cluster scripts/kind/up.sh builds; run scripts/kind/up.sh (it completes an existing cluster too)`,
      );
    } finally {
      await sim.close();
    }
  }, 20_000);

  it("a real cluster of the right shape (here: the kind scenario served as if real) is accepted", async () => {
    const { startSimCluster } = await import("../../src/sim/cluster.js");
    const sim = await startSimCluster({ seed: 5, scenario: "kind" });
    try {
      const kubeconfig = join(tempDir(), "kubeconfig");
      writeFileSync(kubeconfig, sim.kubeconfig(), { mode: 0o600 });
      target = await createTarget({ env: { KVMIG_E2E_TARGET: "cluster", KUBECONFIG: kubeconfig } });
      expect(target.kind).toBe("cluster");
      expect(target.supportsFaults).toBe(false);
      expect(target.sim).toBeUndefined();
      expect(target.description).toBe(`the cluster in KUBECONFIG (${sim.url}, context sim-admin)`);
      await target.close();
      target = undefined;
    } finally {
      await sim.close();
    }
  }, 20_000);
});

// The whole suite under the switch, as `npm run test:e2e:cluster` runs it (minus the build):
// vitest in a child process, against a cluster served by `kvmig sim` in another process.
describe("npm run test:e2e:cluster", () => {
  const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const script = manifest.scripts["test:e2e:cluster"] ?? "";
  const vitestArgs = script.split("vitest.mjs run ")[1]?.split(" ") ?? [];

  /** The portable suite (only `files` of it) with the script's flags, KVMIG_E2E_TARGET=cluster. */
  function suite(files: string[], kubeconfig: string): Promise<RunResult> {
    return runProcess(
      [
        join(repoRoot, "node_modules/vitest/vitest.mjs"),
        "run",
        ...vitestArgs.filter((a) => a.startsWith("--")),
        // The default reporter only: the JSON report is the outer run's.
        "--reporter=default",
        ...files,
      ],
      {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: tempDir(),
          NO_COLOR: "1",
          KVMIG_E2E_TARGET: "cluster",
          KUBECONFIG: kubeconfig,
        },
        timeoutMs: 90_000,
      },
    );
  }

  it("builds, then runs test/portable one file at a time with KVMIG_E2E_TARGET=cluster", () => {
    expect(script).toBe(
      "sh scripts/node.sh scripts/build.mjs && KVMIG_E2E_TARGET=cluster sh scripts/node.sh node_modules/vitest/vitest.mjs run test/portable --no-file-parallelism",
    );
  });

  it("with no cluster at KUBECONFIG: fails within seconds, printing what to do", async () => {
    const kubeconfig = kubeconfigFor(`https://127.0.0.1:${await closedPort()}`);
    const start = Date.now();
    const result = await suite(["test/portable/read-only.test.ts"], kubeconfig);
    const ms = Date.now() - start;
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain(
      `Error: KVMIG_E2E_TARGET=cluster: the cluster in KUBECONFIG (${kubeconfig}) did not answer: cannot connect to the API server at https`,
    );
    expect(result.stdout + result.stderr).toContain("start one with scripts/kind/up.sh");
    console.log(`the suite without a cluster failed after ${ms} ms`);
  }, 90_000);

  it("against a cluster shaped like kind's: fault cases skip with the reason printed, the others pass", async () => {
    const home = tempDir();
    const kubeconfig = join(home, "kubeconfig");
    const sim = spawn(
      process.execPath,
      [distEntry, "sim", "--scenario", "kind", "--seed", "4", "--kubeconfig-out", kubeconfig],
      { env: cliEnv(home), stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let out = "";
        sim.stdout?.on("data", (chunk: Buffer) => {
          out += chunk.toString("utf8");
          if (out.includes("export KUBECONFIG=")) resolve();
        });
        sim.on("exit", (code) => reject(new Error(`kvmig sim exited with ${code}`)));
      });
      const result = await suite(
        ["test/portable/faults.test.ts", "test/portable/read-only.test.ts"],
        kubeconfig,
      );
      const output = result.stdout + result.stderr;
      expect(output).toMatch(/Tests +3 passed \| 2 skipped \(5\)/);
      expect(result.code).toBe(0);
      const reasons = output.split("\n").filter((l) => l.startsWith("skipped: needs injected faults"));
      expect(reasons).toHaveLength(2);
      for (const reason of reasons) {
        expect(reason).toMatch(
          /^skipped: needs injected faults \(.+\), which only the simulated cluster has; the cluster in KUBECONFIG \(https:\/\/127\.0\.0\.1:\d+, context sim-admin\) runs the other cases$/,
        );
      }
    } finally {
      sim.kill("SIGTERM");
    }
  }, 90_000);
});
