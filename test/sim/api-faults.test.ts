// API faults of the simulated cluster (src/sim/api-faults.ts) over real HTTPS on loopback: the
// spec language, watches that end early, an outage on the same port, 429/5xx with Retry-After
// (deterministic for a seed, never executing the faulted request), latency, resourceVersions
// that expire quickly, slow and truncated log follows, the real kubectl against a flaky server,
// and `kvmig sim --fault`.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  type ApiFaultSpec,
  ApiFaultSpecError,
  formatApiFaults,
  parseApiFaults,
  validateApiFaults,
} from "../../src/sim/api-faults.js";
import { type SimCluster, type SimClusterOptions, startSimCluster } from "../../src/sim/cluster.js";
import { Random } from "../../src/sim/random.js";
import { cliEnv, distEntry, ensureBuilt, lines, repoRoot, runKvmig } from "../e2e/built-cli.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl, Kubectl, parseTable } from "../helpers/kubectl.js";
import { apiServerOnly, simRequest, simWatch } from "../helpers/sim.js";

const vmiPath = "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstances";
const vmimPath = "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations";

const clusters: SimCluster[] = [];

async function cluster(options: SimClusterOptions): Promise<SimCluster> {
  const started = await startSimCluster({ seed: 1, ...apiServerOnly, ...options });
  clusters.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});

function migration(name: string): object {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: { name },
    spec: { vmiName: "fedora-web" },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The error code of a request that fails to connect (ECONNREFUSED, ECONNRESET), or its status. */
async function outcome(sim: SimCluster, path = "/version"): Promise<number | string> {
  try {
    return (await simRequest(sim, "GET", path)).status;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

describe("the fault spec language", () => {
  it("parses each kind, comma-separated or as several specs, and formats back to the same specs", () => {
    const specs = parseApiFaults([
      "drop-watches=5s,outage=3s+10s,errors=0.2:503",
      "errors=0.1:429@GET+watch, latency=200:50@POST",
      "expire-rv=5,slow-logs=500ms,truncate-logs=10,retry-after=2,errors-after=20",
      "outage=1m+1.5s:reset, errors=.5",
    ]);
    expect(specs).toEqual<ApiFaultSpec[]>([
      { kind: "drop-watches", everyMs: 5000 },
      { kind: "outage", atMs: 3000, forMs: 10_000 },
      { kind: "errors", rate: 0.2, code: 503 },
      { kind: "errors", rate: 0.1, code: 429, only: ["GET", "WATCH"] },
      { kind: "latency", ms: 200, jitterMs: 50, only: ["POST"] },
      { kind: "expire-rv", changes: 5 },
      { kind: "slow-logs", lineDelayMs: 500 },
      { kind: "truncate-logs", lines: 10 },
      { kind: "retry-after", seconds: 2 },
      { kind: "errors-after", requests: 20 },
      { kind: "outage", atMs: 60_000, forMs: 1500, mode: "reset" },
      { kind: "errors", rate: 0.5 },
    ]);
    expect(formatApiFaults(specs)).toBe(
      "drop-watches=5s,outage=3s+10s,errors=0.2:503,errors=0.1:429@GET+WATCH,latency=200ms:50ms@POST,expire-rv=5,slow-logs=500ms,truncate-logs=10,retry-after=2,errors-after=20,outage=1m+1500ms:reset,errors=0.5:503",
    );
    expect(parseApiFaults(formatApiFaults(specs))).toEqual(
      specs.map((s) => (s.kind === "errors" ? { code: 503, ...s } : s)),
    );
    // Bare numbers are milliseconds where the value is MS; HEAD counts as GET.
    expect(parseApiFaults("latency=250@head,slow-logs=40")).toEqual([
      { kind: "latency", ms: 250, only: ["GET"] },
      { kind: "slow-logs", lineDelayMs: 40 },
    ]);
  });

  it.each([
    ["", "an empty fault spec"],
    ["drop-watches=5s,,errors=0.1", 'an empty fault in "drop-watches=5s,,errors=0.1"'],
    ["flaky=1", 'unknown fault "flaky" in "flaky=1"'],
    ["drop-watches", 'fault "drop-watches" needs a value, like drop-watches=5s'],
    ["drop-watches=5", 'drop-watches: "5" is not a duration (with a unit, like 500ms, 5s or 1m)'],
    ["drop-watches=0s", "drop-watches: the duration must be above 0 to 24h, not 0ms"],
    ["drop-watches=25h", 'drop-watches: "25h" is not a duration (with a unit, like 500ms, 5s or 1m)'],
    ["outage=10s", 'outage: write it as AT+FOR[:refuse|reset], like outage=3s+10s, not "10s"'],
    ["outage=1s+2s:drop", 'outage: the mode is refuse or reset, not "drop"'],
    ["errors=1.5", 'errors: the rate must be above 0 and at most 1, like 0.2, not "1.5"'],
    ["errors=0", 'errors: the rate must be above 0 and at most 1, like 0.2, not "0"'],
    ["errors=20%", 'errors: the rate must be above 0 and at most 1, like 0.2, not "20%"'],
    ["errors=0.2:404", 'errors: the status code is one of 429, 500, 503, 504, not "404"'],
    [
      "errors=0.2:503@LIST",
      'errors: unknown request kind "LIST" after @ (use GET, POST, PUT, PATCH, DELETE, WATCH, joined with +)',
    ],
    ["latency=fast", 'latency: "fast" is not a duration (like 200, 200ms or 1.5s)'],
    ["expire-rv=-1", 'expire-rv: "-1" is not a whole number of 0 or more'],
    ["truncate-logs=0", 'truncate-logs: "0" is not a whole number of 1 or more'],
    ["drop-watches=1s,drop-watches=2s", 'fault "drop-watches" is given more than once'],
  ])("%j: %s", (spec, message) => {
    expect(() => parseApiFaults(spec)).toThrow(new ApiFaultSpecError(message));
  });

  it("checks typed specs too, and a bad spec keeps the cluster from starting", async () => {
    expect(() => validateApiFaults([{ kind: "errors", rate: 2 }])).toThrow(
      'errors: the rate must be above 0 and at most 1, like 0.2, not "2"',
    );
    expect(() => validateApiFaults([{ kind: "latency", ms: -5 }])).toThrow(
      "latency: the duration must be 0 to 24h, not -5ms",
    );
    await expect(startSimCluster({ seed: 1, ...apiServerOnly, apiFaults: "errors=2" })).rejects.toThrow(
      ApiFaultSpecError,
    );
  });
});

describe("drop-watches", () => {
  it("ends every watch stream cleanly after the interval; other requests are untouched", async () => {
    const sim = await cluster({ apiFaults: [{ kind: "drop-watches", everyMs: 400 }] });
    const started = Date.now();
    const watch = await simWatch(sim, `${vmiPath}?watch=1`);
    expect(watch.status).toBe(200);
    const initial = await watch.take(5);
    expect(initial.map((e) => e.type)).toEqual(["ADDED", "ADDED", "ADDED", "ADDED", "ADDED"]);
    // Open past the interval would fail the test by its timeout; a clean end gives undefined.
    expect(await watch.next()).toBeUndefined();
    expect(watch.ended).toBe(true);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(3000);
    expect(sim.faults.stats().watchesDropped).toBe(1);
    expect((await simRequest(sim, "GET", vmiPath)).status).toBe(200);

    // Without the fault, a watch stays open past the interval.
    sim.faults.clear();
    const kept = await simWatch(sim, `${vmiPath}?watch=1`);
    await kept.take(5);
    await sleep(600);
    expect(kept.ended).toBe(false);
    kept.close();
    expect(sim.faults.stats().watchesDropped).toBe(1);
  });

  it("set() at run time applies to watches already open, counting from their start", async () => {
    const sim = await cluster({});
    const watch = await simWatch(sim, `${vmiPath}?watch=1`);
    await watch.take(5);
    await sleep(300);
    sim.faults.set("drop-watches=200ms");
    // Already older than 200ms: it ends at once.
    expect(await watch.next()).toBeUndefined();
    expect(sim.faults.stats().watchesDropped).toBe(1);
  });
});

describe("outage", () => {
  it("drops open connections, refuses new ones, then serves on the same port", async () => {
    const sim = await cluster({});
    const port = sim.port;
    expect(await outcome(sim)).toBe(200);
    const watch = await simWatch(sim, `${vmiPath}?watch=1`);
    await watch.take(5);
    const over = sim.faults.outage(700);
    expect(sim.faults.down).toBe(true);
    expect(await watch.next()).toBeUndefined();
    expect(await outcome(sim)).toBe("ECONNREFUSED");
    await over;
    expect(sim.faults.down).toBe(false);
    expect(sim.port).toBe(port);
    expect(await outcome(sim)).toBe(200);
    expect(sim.faults.stats()).toMatchObject({ outages: 1, connectionsDropped: expect.any(Number) });
    expect(sim.faults.stats().connectionsDropped).toBeGreaterThanOrEqual(1);
  });

  it("mode reset: the port accepts and resets each connection; they are counted", async () => {
    const sim = await cluster({});
    const over = sim.faults.outage(500, "reset");
    expect(await outcome(sim)).toBe("ECONNRESET");
    expect(sim.faults.stats().connectionsRefused).toBe(1);
    await over;
    expect(await outcome(sim)).toBe(200);
  });

  it("closing the cluster during an outage ends it at once and leaves nothing listening", async () => {
    const sim = await startSimCluster({ seed: 1, ...apiServerOnly });
    const over = sim.faults.outage(60_000);
    const started = Date.now();
    await sim.close();
    await over;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sim.faults.down).toBe(false);
    expect(await outcome(sim)).toBe("ECONNREFUSED");
  });

  it("outage=AT+FOR from the spec: down AT after start, for FOR, then up again", async () => {
    const sim = await cluster({ apiFaults: "outage=300ms+600ms" });
    const started = Date.now();
    expect(await outcome(sim)).toBe(200);
    while ((await outcome(sim)) === 200) await sleep(20);
    const down = Date.now() - started;
    expect(down).toBeGreaterThanOrEqual(290);
    expect(await outcome(sim)).toBe("ECONNREFUSED");
    while ((await outcome(sim)) !== 200) await sleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(890);
    expect(sim.faults.stats().outages).toBe(1);
  });
});

describe("errors", () => {
  async function statuses(sim: SimCluster, n: number, path = "/version"): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await simRequest(sim, "GET", path)).status);
    return out;
  }

  const faulted = (codes: number[], code: number) =>
    codes.flatMap((status, index) => (status === code ? [index] : []));

  it("answers about RATE of the requests with 503 and Retry-After, the same ones for the same seed", async () => {
    const spec = "errors=0.2:503";
    const first = await cluster({ seed: 11, apiFaults: spec });
    const codes = await statuses(first, 500);
    expect(new Set(codes)).toEqual(new Set([200, 503]));
    const indexes = faulted(codes, 503);
    expect(indexes.length).toBeGreaterThan(0.2 * 500 - 30);
    expect(indexes.length).toBeLessThan(0.2 * 500 + 30);
    expect(first.faults.stats()).toMatchObject({ requests: 500, errors: { 503: indexes.length } });
    expect(first.faults.stats().erroredRequests).toEqual(indexes);

    const again = await cluster({ seed: 11, apiFaults: spec });
    expect(faulted(await statuses(again, 500), 503)).toEqual(indexes);
    const other = await cluster({ seed: 12, apiFaults: spec });
    expect(faulted(await statuses(other, 500), 503)).not.toEqual(indexes);

    // One faulted answer to look at (about one in five).
    let answer = await simRequest(again, "GET", vmiPath);
    while (answer.status !== 503) answer = await simRequest(again, "GET", vmiPath);
    expect(answer.headers["retry-after"]).toBe("1");
    expect(answer.json).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "The server is currently unable to handle the request (injected fault)",
      reason: "ServiceUnavailable",
      details: { retryAfterSeconds: 1 },
      code: 503,
    });
  });

  it("429 TooManyRequests with retry-after=S; 500 has no Retry-After", async () => {
    const sim = await cluster({ apiFaults: "errors=1:429,retry-after=3" });
    const limited = await simRequest(sim, "GET", vmiPath);
    expect([limited.status, limited.headers["retry-after"], limited.json.reason]).toEqual([
      429,
      "3",
      "TooManyRequests",
    ]);
    expect(limited.json.details).toEqual({ retryAfterSeconds: 3 });
    sim.faults.set("errors=1:500");
    const internal = await simRequest(sim, "GET", vmiPath);
    expect([internal.status, internal.headers["retry-after"], internal.json.reason]).toEqual([
      500,
      undefined,
      "InternalError",
    ]);
  });

  it("a faulted POST changes nothing; @POST leaves GETs alone; watches are exempt by default", async () => {
    const sim = await cluster({ apiFaults: "errors=1:503@POST" });
    const before = sim.store.resourceVersion;
    const created = await simRequest(sim, "POST", vmimPath, { body: migration("faulted") });
    expect(created.status).toBe(503);
    expect(sim.store.resourceVersion).toBe(before);
    expect((await simRequest(sim, "GET", `${vmimPath}/faulted`)).status).toBe(404);
    expect((await simRequest(sim, "GET", vmiPath)).status).toBe(200);

    sim.faults.set("errors=1:503");
    const watch = await simWatch(sim, `${vmiPath}?watch=1`);
    expect(watch.status).toBe(200);
    watch.close();
    sim.faults.set("errors=1:503@WATCH");
    const refused = await simWatch(sim, `${vmiPath}?watch=1`);
    expect(refused.status).toBe(503);
    refused.close();
    expect((await simRequest(sim, "GET", vmiPath)).status).toBe(200);
  });

  it("errors-after=N spares the first N requests", async () => {
    const sim = await cluster({ apiFaults: "errors=1:503,errors-after=3" });
    expect(await statuses(sim, 5)).toEqual([200, 200, 200, 503, 503]);
    expect(sim.faults.stats().erroredRequests).toEqual([3, 4]);
  });
});

describe("latency", () => {
  it("holds each request back by at least the delay, plus up to the jitter", async () => {
    const sim = await cluster({ apiFaults: "latency=150" });
    const started = performance.now();
    expect((await simRequest(sim, "GET", "/version")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(148);
    expect(sim.faults.stats()).toMatchObject({ delayed: 1, delayedMs: 150 });

    sim.faults.set("latency=50:100");
    for (let i = 0; i < 5; i++) await simRequest(sim, "GET", "/version");
    const { delayed, delayedMs } = sim.faults.stats();
    expect(delayed).toBe(6);
    expect(delayedMs - 150).toBeGreaterThanOrEqual(5 * 50);
    expect(delayedMs - 150).toBeLessThanOrEqual(5 * 150);
    // The jitter varies.
    expect(delayedMs - 150).not.toBe(5 * 50);

    sim.faults.set("latency=10s@POST");
    const quick = performance.now();
    await simRequest(sim, "GET", "/version");
    expect(performance.now() - quick).toBeLessThan(5000);
    expect(sim.faults.stats().delayed).toBe(6);
  });
});

describe("expire-rv", () => {
  it("a watch resuming from before the newest N changes: ERROR 410 Expired; within them it resumes", async () => {
    const sim = await cluster({ apiFaults: "expire-rv=2" });
    const rv = Number((await simRequest(sim, "GET", vmimPath)).json.metadata.resourceVersion);
    await simRequest(sim, "POST", vmimPath, { body: migration("m1") });
    await simRequest(sim, "POST", vmimPath, { body: migration("m2") });
    const resumed = await simWatch(sim, `${vmimPath}?watch=1&resourceVersion=${rv}`);
    expect((await resumed.take(2)).map((e) => [e.type, e.object.metadata.name])).toEqual([
      ["ADDED", "m1"],
      ["ADDED", "m2"],
    ]);
    resumed.close();
    await simRequest(sim, "POST", vmimPath, { body: migration("m3") });
    const expired = await simWatch(sim, `${vmimPath}?watch=1&resourceVersion=${rv}`);
    const event = await expired.next();
    expect(event?.type).toBe("ERROR");
    expect(event?.object).toMatchObject({
      kind: "Status",
      code: 410,
      reason: "Expired",
      message: `too old resource version: ${rv} (${rv + 1})`,
    });
    expect(await expired.next()).toBeUndefined();
    expect(sim.faults.stats().expired).toBe(1);
    // Without the fault, the same resume works (the history keeps 10,000 changes).
    sim.faults.clear();
    const kept = await simWatch(sim, `${vmimPath}?watch=1&resourceVersion=${rv}`);
    expect((await kept.take(3)).map((e) => e.object.metadata.name)).toEqual(["m1", "m2", "m3"]);
    kept.close();
  });

  it("a continue token older than the newest N changes: 410 Expired", async () => {
    const sim = await cluster({ apiFaults: "expire-rv=1" });
    const first = (await simRequest(sim, "GET", `${vmiPath}?limit=2`)).json;
    const next = `${vmiPath}?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`;
    await simRequest(sim, "POST", vmimPath, { body: migration("m1") });
    expect((await simRequest(sim, "GET", next)).status).toBe(200);
    await simRequest(sim, "POST", vmimPath, { body: migration("m2") });
    const expired = await simRequest(sim, "GET", next);
    expect(expired.status).toBe(410);
    expect(expired.json).toMatchObject({ reason: "Expired", code: 410 });
    expect(expired.json.message).toMatch(/^The provided continue parameter is too old/);
    expect(sim.faults.stats().expired).toBe(1);
  });
});

describe("slow and truncated log follows", () => {
  interface LogLineAt {
    text: string;
    at: number;
  }

  /** Follows a log: each line with its arrival time, and a promise of the end. */
  function follow(sim: SimCluster, path: string): { lines: LogLineAt[]; ended: Promise<void> } {
    const lines: LogLineAt[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      const req = httpsRequest(
        `${sim.url}${path}`,
        { ca: sim.pki.caPem, headers: { Authorization: `Bearer ${sim.token("sim-admin")}` } },
        (res) => {
          let buffer = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            buffer += chunk;
            const parts = buffer.split("\n");
            buffer = parts.pop() ?? "";
            for (const text of parts) lines.push({ text, at: performance.now() });
          });
          res.on("end", () => resolve());
          // Destroyed by the test's cleanup: not a failure of a test that already ended.
          res.on("error", () => resolve());
        },
      );
      req.on("error", reject);
      req.end();
      followers.push(req);
    });
    // Handled here too: a follow the cleanup destroys is no failure of a test that already ended.
    ended.catch(() => {});
    return { lines, ended };
  }
  const followers: { destroy(): void }[] = [];
  afterEach(() => {
    for (const req of followers.splice(0)) req.destroy();
  });

  async function launcherPod(sim: SimCluster, vm: string): Promise<string> {
    const selector = encodeURIComponent(`vm.kubevirt.io/name=${vm}`);
    return (await simRequest(sim, "GET", `/api/v1/namespaces/demo/pods?labelSelector=${selector}`)).json
      .items[0].metadata.name;
  }

  it("slow-logs=MS: at least MS between two lines of a follow, backlog and new lines alike", async () => {
    const sim = await cluster({ apiFaults: "slow-logs=120ms" });
    const pod = await launcherPod(sim, "fedora-web");
    for (const text of ["a", "b", "c"]) sim.logs.append("demo", pod, "compute", { time: Date.now(), text });
    const log = follow(
      sim,
      `/api/v1/namespaces/demo/pods/${pod}/log?container=compute&follow=true&tailLines=3`,
    );
    while (log.lines.length < 1) await sleep(10);
    sim.logs.append("demo", pod, "compute", { time: Date.now(), text: "d" });
    while (log.lines.length < 4) await sleep(10);
    expect(log.lines.map((l) => l.text)).toEqual(["a", "b", "c", "d"]);
    // 120ms at least between two writes: the four lines span at least 360ms (less a margin for
    // a first line that reached the client late).
    expect((log.lines[3]?.at ?? 0) - (log.lines[0]?.at ?? 0)).toBeGreaterThanOrEqual(330);
    expect(sim.faults.stats().logsSlowed).toBe(1);
    // A log read without follow is not paced (paced, four lines would take at least 6s).
    sim.faults.set("slow-logs=2s");
    const once = performance.now();
    const plain = await simRequest(
      sim,
      "GET",
      `/api/v1/namespaces/demo/pods/${pod}/log?container=compute&tailLines=4`,
    );
    expect(plain.text).toBe("a\nb\nc\nd\n");
    expect(performance.now() - once).toBeLessThan(4000);
    expect(sim.faults.stats().logsSlowed).toBe(1);
  });

  it("truncate-logs=N: a follow ends cleanly after N lines, counting the backlog", async () => {
    const sim = await cluster({ apiFaults: "truncate-logs=3" });
    const pod = await launcherPod(sim, "fedora-web");
    for (const text of ["a", "b"]) sim.logs.append("demo", pod, "compute", { time: Date.now(), text });
    const log = follow(
      sim,
      `/api/v1/namespaces/demo/pods/${pod}/log?container=compute&follow=true&tailLines=2`,
    );
    while (log.lines.length < 2) await sleep(10);
    for (const text of ["c", "d"]) sim.logs.append("demo", pod, "compute", { time: Date.now(), text });
    await log.ended;
    expect(log.lines.map((l) => l.text)).toEqual(["a", "b", "c"]);
    expect(sim.faults.stats().logsTruncated).toBe(1);
  });
});

const kubectlBinary = findKubectl();

describe.skipIf(!kubectlBinary)("the real kubectl against errors=0.3:503", () => {
  it("kubectl get vmi -A retries the 503s (Retry-After: 1) and succeeds", { timeout: 90_000 }, async () => {
    // A seed whose first draw is a fault, so kubectl meets at least one 503 whatever its order.
    let seed = 1;
    while (new Random(seed).derive("api-faults").derive("errors/0").next() >= 0.3) seed++;
    const sim = await cluster({ seed, apiFaults: "errors=0.3:503" });
    const kubectl = new Kubectl(kubectlBinary as string, sim);
    try {
      const started = Date.now();
      const result = await kubectl.run(["get", "vmi", "-A"]);
      const stats = sim.faults.stats();
      console.info(
        `kubectl get vmi -A against errors=0.3:503 (seed ${seed}): exit ${result.code} after ${Date.now() - started}ms, ${stats.requests} requests, ${stats.errors[503] ?? 0} answered 503; stderr: ${JSON.stringify(result.stderr)}`,
      );
      expect(stats.errors[503]).toBeGreaterThan(0);
      expect(result.code).toBe(0);
      const table = parseTable(result.stdout);
      expect(table.header.slice(0, 2)).toEqual(["NAMESPACE", "NAME"]);
      expect(table.rows.length).toBe(sim.store.list("virtualmachineinstances.kubevirt.io").length);
    } finally {
      await kubectl.close();
    }
  });
});

describe("kvmig sim --fault", () => {
  beforeAll(ensureBuilt, 120_000);

  it.each([
    [["--fault", "flaky=1"], 'invalid --fault "flaky=1": unknown fault "flaky" in "flaky=1"'],
    [
      ["--fault", "errors=2"],
      'invalid --fault "errors=2": errors: the rate must be above 0 and at most 1, like 0.2, not "2"',
    ],
    [
      ["--fault", "expire-rv=1", "--fault", "expire-rv=2"],
      'invalid --fault: fault "expire-rv" is given more than once',
    ],
  ])("bad spec %j: one line, the kinds as hint, exit 2", async (args, message) => {
    const result = await runKvmig(["sim", ...args], cliEnv(tempDir()));
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      `error: ${message}`,
      expect.stringMatching(/^hint: fault kinds: drop-watches=5s, outage=AT\+FOR/),
    ]);
    expect(result.stdout).toBe("");
  });

  it("prints the active faults at start, and -v logs each injected fault", { timeout: 30_000 }, async () => {
    const home = tempDir();
    const child: ChildProcess = spawn(
      process.execPath,
      [
        distEntry,
        "sim",
        "-v",
        "--seed",
        "5",
        "--fault",
        "errors=1:429@GET",
        "--fault",
        "drop-watches=30s,expire-rv=4",
      ],
      { cwd: repoRoot, env: cliEnv(home), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
    });
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      let path: string | undefined;
      while (!path) {
        path = /^export KUBECONFIG=(.+)$/m.exec(stdout)?.[1];
        if (child.exitCode !== null) throw new Error(`kvmig sim exited: ${stderr}`);
        await sleep(20);
      }
      expect(stderr).toMatch(/^api faults: errors=1:429@GET, drop-watches=30s, expire-rv=4 \(seed 5\)$/m);
      const config = parseYaml(readFileSync(path, "utf8")) as {
        clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
        users: { user: { token: string } }[];
      };
      const server = config.clusters[0]?.cluster;
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          `${server?.server}/version`,
          {
            ca: Buffer.from(server?.["certificate-authority-data"] ?? "", "base64"),
            headers: { Authorization: `Bearer ${config.users[0]?.user.token}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(429);
      while (!/fault: 429 TooManyRequests for GET \/version \(request #0\)/.test(stderr)) await sleep(20);
    } finally {
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    }
  });
});
