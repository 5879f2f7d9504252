// Issue 27: text from the cluster (or a --from directory) never drives the terminal. Each class
// of control sequence (test/helpers/hostile-text.ts) goes through each printing path: diagnose's
// text, migrate's failure summary, watch's table on a terminal, watch's event lines, an error
// quoting a server message, and completion. None writes a raw ESC, BEL, C1 or bidi control from
// it; each shows the visible form instead; and -o json carries the text exactly.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import type { Context } from "../../src/context.js";
import { createIO } from "../../src/io/io.js";
import { NonInteractivePrompter } from "../../src/io/prompter-impl.js";
import type { VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { runMain } from "../../src/main.js";
import { initialView } from "../../src/migration/state.js";
import { summaryLines } from "../../src/render/migration-render.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { ScriptedApiServer } from "../helpers/api-server.js";
import { bufferedStreams } from "../helpers/buffered-io.js";
import { foreignControls, hostileSamples, rawControl } from "../helpers/hostile-text.js";
import { tempDir, writeKubeconfig } from "../helpers/kubeconfig.js";
import { simRequest } from "../helpers/sim.js";
import { runCli } from "../helpers/test-context.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

/** Every sample in one text, so that one run of a path carries them all. */
const allSamples = hostileSamples.map((s) => s.text).join(" | ");
const ESC = "\u001B";

/** Runs kvmig in-process with the streams `tty` says, colours on; resolves once `ready` holds in what it wrote, then stops it. */
async function runUntil(
  argv: string[],
  env: Record<string, string>,
  options: { tty: boolean; ready?: (out: string) => boolean },
) {
  const buffers = bufferedStreams({ tty: options.tty, columns: 2000 });
  const controller = new AbortController();
  const ctx: Context = {
    io: createIO(buffers.streams, env),
    env,
    clock: systemClock,
    signal: controller.signal,
    prompter: new NonInteractivePrompter(),
    connect: (await import("../../src/k8s/provider.js")).connectLazily,
    programName: "kvmig",
  };
  const running = runMain(argv, ctx);
  const ready = options.ready;
  if (ready) {
    for (let i = 0; i < 3000 && !ready(buffers.stdout() + buffers.stderr()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    controller.abort(new Error("interrupted"));
  }
  const code = await running;
  return { code, stdout: buffers.stdout(), stderr: buffers.stderr() };
}

/** The checks every path makes for every class: the visible form, and no raw control but kvmig's own. */
function expectShownSafely(output: string, shown: string) {
  expect(output).toContain(shown);
  expect(foreignControls(output)).toEqual([]);
}

describe("diagnose --from a directory whose failure reason holds control sequences", () => {
  const dir = tempDir();
  let text = "";
  let json: Any;
  beforeAll(async () => {
    const fixture = fileURLToPath(new URL("../fixtures/diagnose-offline/kubectl-list/", import.meta.url));
    cpSync(fixture, dir, { recursive: true });
    const objects = join(dir, "objects.yaml");
    const original = 'failureReason: "Live migration failed: client socket is closed"';
    const yaml = readFileSync(objects, "utf8");
    expect(yaml).toContain(original);
    // JSON's string escapes are YAML's double-quoted ones.
    writeFileSync(
      objects,
      yaml.replace(
        original,
        `failureReason: ${JSON.stringify(`Live migration failed: client socket is closed ${allSamples}`)}`,
      ),
    );
    const run = await runCli(["diagnose", "db-1", "--from", dir], { tty: true });
    text = run.stdout + run.stderr;
    const asJson = await runCli(["diagnose", "db-1", "--from", dir, "-o", "json"]);
    json = JSON.parse(asJson.stdout);
  });

  it.each(hostileSamples)("shows $kind visibly in the text", ({ shown }) => {
    expect(text).toContain("client socket is closed");
    expectShownSafely(text, shown);
  });

  it("-o json carries the failure reason exactly", () => {
    expect(JSON.stringify(json)).toContain(JSON.stringify(allSamples).slice(1, -1));
  });
});

describe("migrate's failure summary", () => {
  const migration = {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: "kubevirt-migrate-vm-x1",
      namespace: "prod",
      uid: "u-1",
      creationTimestamp: "2026-11-26T00:00:00Z",
    },
    spec: { vmiName: "db" },
    status: { phase: "Failed" },
  } as VirtualMachineInstanceMigration;
  const view = { ...initialView(migration, "db"), outcome: "failed" as const, failureReason: allSamples };

  it.each(hostileSamples)("shows $kind visibly, with its own colours still on a terminal", ({ shown }) => {
    const b = bufferedStreams({ tty: true, columns: 2000 });
    const io = createIO(b.streams, {});
    for (const line of summaryLines(view, io, "2026-11-26T00:05:00Z")) io.out(line);
    expectShownSafely(b.stdout(), shown);
    expect(b.stdout()).toContain(`${ESC}[31mFailed${ESC}[39m`);
  });
});

describe("watch, against the simulated cluster", () => {
  let sim: SimCluster;
  let still: SimCluster | undefined;
  let env: Record<string, string>;
  let table = "";
  let events = "";
  let eventsJson = "";
  beforeAll(async () => {
    sim = await startSimCluster({ seed: 3, manualTime: true });
    const home = tempDir();
    const kubeconfig = join(home, "kubeconfig");
    writeFileSync(kubeconfig, sim.kubeconfig(), { mode: 0o600 });
    env = { HOME: home, KUBECONFIG: kubeconfig };
    const started = await simRequest(
      sim,
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/migrate",
      { body: {} },
    );
    expect(started.status).toBe(202);
    // Events about the VM, as anyone who may create events in the namespace can write them.
    for (const [i, sample] of hostileSamples.entries()) {
      const created = await simRequest(sim, "POST", "/api/v1/namespaces/demo/events", {
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: `fedora-web.hostile-${i}`, namespace: "demo" },
          involvedObject: { kind: "VirtualMachineInstance", namespace: "demo", name: "fedora-web" },
          reason: "Injected",
          type: "Warning",
          message: `note ${i}: ${sample.text}`,
        },
      });
      expect(created.status).toBe(201);
    }
    const last = `note ${hostileSamples.length - 1}: ${hostileSamples.at(-1)?.shown}`;
    const eventRun = await runUntil(["watch", "fedora-web", "-n", "demo"], env, {
      tty: false,
      ready: (out) => out.includes(last),
    });
    events = eventRun.stdout + eventRun.stderr;
    // A migration's phase as a (hostile) server may report it: on a cluster without controllers,
    // which would otherwise answer a phase they do not know by failing the migration.
    still = await startSimCluster({ seed: 3, controllers: false });
    const stillConfig = join(home, "kubeconfig-still");
    writeFileSync(stillConfig, still.kubeconfig(), { mode: 0o600 });
    const stillEnv = { HOME: home, KUBECONFIG: stillConfig };
    const created = await simRequest(
      still,
      "POST",
      "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations",
      {
        body: {
          apiVersion: "kubevirt.io/v1",
          kind: "VirtualMachineInstanceMigration",
          metadata: { name: "hostile-phase", namespace: "demo" },
          spec: { vmiName: "fedora-web" },
        },
      },
    );
    expect(created.status).toBe(201);
    const vmim = (still.store.list(R.vmim.storage, "demo") as Any[]).find(
      (m) => m.spec.vmiName === "fedora-web",
    );
    still.store.update(
      R.vmim,
      { ...vmim, status: { ...vmim.status, phase: `Running ${allSamples}` } },
      { subresource: "status" },
    );
    const tableRun = await runUntil(["watch", "-n", "demo"], stillEnv, {
      tty: true,
      ready: (out) => out.includes(hostileSamples.at(-1)?.shown ?? "?"),
    });
    table = tableRun.stdout + tableRun.stderr;
    const jsonRun = await runUntil(["watch", "-n", "demo", "-o", "json"], stillEnv, {
      tty: true,
      ready: (out) => out.includes("Running "),
    });
    eventsJson = jsonRun.stdout;
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    await still?.close();
  });

  it.each(hostileSamples)("the event lines show $kind visibly", ({ shown }) => {
    expectShownSafely(events, shown);
  });

  it.each(hostileSamples)(
    "the table on a terminal shows $kind visibly, redrawn with its own colours",
    ({ shown }) => {
      expectShownSafely(table, shown);
      // kvmig's own colour for the phase still reaches the terminal.
      expect(table).toContain(`${ESC}[36mRunning `);
    },
  );

  it("-o json carries the phase exactly", () => {
    const records = eventsJson
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line));
    expect(eventsJson).not.toMatch(rawControl);
    expect(records.map((r) => r.phase)).toContain(`Running ${allSamples}`);
  });
});

describe("an error quoting the server's message", () => {
  let server: ScriptedApiServer;
  let result: { code: number | undefined; stdout: string; stderr: string };
  beforeAll(async () => {
    server = await ScriptedApiServer.start();
    server.on("GET", /.*/, (_req, res) => {
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "Forbidden",
          code: 403,
          message: `forbidden: ${allSamples}`,
        }),
      );
    });
    const home = tempDir();
    const kubeconfig = writeKubeconfig(home, { server: server.url, caPem: server.pki.caPem, token: "t" });
    const run = await runCli(["watch", "fedora-web", "-n", "demo"], {
      env: { HOME: home, KUBECONFIG: kubeconfig },
    });
    result = { code: run.code, stdout: run.stdout, stderr: run.stderr };
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(hostileSamples)("shows $kind visibly on stderr", ({ shown }) => {
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^error: /m);
    expectShownSafely(result.stdout + result.stderr, shown);
  });
});

describe("completion of context names from a kubeconfig", () => {
  let out = "";
  beforeAll(async () => {
    const home = tempDir();
    const contexts = hostileSamples.map((s, i) => ({
      name: `ctx${i}-${s.text}`,
      context: { cluster: "c", user: "u" },
    }));
    const kubeconfig = join(home, "config");
    writeFileSync(kubeconfig, JSON.stringify({ apiVersion: "v1", kind: "Config", contexts }));
    out = (
      await runCli(["__complete", "--", "migrate", "--context", "ctx"], {
        env: { HOME: home, KUBECONFIG: kubeconfig },
      })
    ).stdout;
  });

  it.each(hostileSamples)("offers $kind visibly, one candidate a line", ({ shown }) => {
    expectShownSafely(out, shown);
    expect(out.split("\n").filter((l) => l !== "")).toHaveLength(hostileSamples.length);
  });
});
