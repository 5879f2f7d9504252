// kvmig against a misbehaving API server (the simulated cluster's injected faults): migrate
// reaches the right outcome with every phase printed exactly once under dropped watches, a
// 10-second outage, 20% 5xx and 410 on resume; watch -A ends on the same table as without
// faults; diagnose gives the same findings. The retries and the time they cost are printed.
import { afterEach, describe, expect, it } from "vitest";
import type { ApiFaultSpec } from "../../src/sim/api-faults.js";
import { type SimCli, simCli, until } from "./sim-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

const phases = [
  "Pending",
  "Scheduling",
  "Scheduled",
  "PreparingTarget",
  "TargetReady",
  "Running",
  "Succeeded",
];

let sims: SimCli[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function cluster(options: Parameters<typeof simCli>[0] = {}): Promise<SimCli> {
  const s = await simCli({ speed: 4, ...options });
  sims.push(s);
  return s;
}

/** The phase lines of migrate's plain (non-terminal) timeline, in order. */
function phaseLines(stderr: string): string[] {
  return stderr
    .split("\n")
    .map((line) => /^ {2}([A-Za-z]+)(\s|$)/.exec(line)?.[1] ?? "")
    .filter((word) => phases.includes(word));
}

/** Retries and reconnects the -v log reports: retried requests, and watches opened again. */
function retries(stderr: string): number {
  const lines = stderr.split("\n");
  const retried = lines.filter((line) => /retrying|resuming|reopening|re-list/i.test(line)).length;
  const watches = lines.filter((line) => /^GET \S+[?&]watch=(true|1)\b/.test(line)).length;
  return retried + watches;
}

interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  retries: number;
}

async function migrate(s: SimCli, during?: (s: SimCli) => Promise<void>): Promise<Measured> {
  const started = Date.now();
  const running = s.start(["migrate", "fedora-web", "-n", "demo", "-v"]);
  if (during) {
    await until(() => /migration \S+ started/.test(running.stderr()));
    await during(s);
  }
  const code = await running.exited;
  const stderr = running.stderr();
  return {
    code,
    stdout: running.stdout(),
    stderr,
    seconds: (Date.now() - started) / 1000,
    retries: retries(stderr),
  };
}

function expectCleanMigration(run: Measured, s: SimCli) {
  expect(run.code, run.stderr).toBe(0);
  // Every phase exactly once, in order: nothing missed across the faults, nothing repeated.
  expect(phaseLines(run.stderr)).toEqual(phases);
  expect(run.stdout).toMatch(/^Succeeded {2}demo\/fedora-web moved node-\d → node-\d/m);
  const migrations = s.migrations("demo", "fedora-web");
  expect(migrations).toHaveLength(1);
  expect(migrations[0].status.phase).toBe("Succeeded");
}

const report: string[] = [];
afterEach(() => {
  if (report.length > 0) console.log(report.splice(0).join("\n"));
});

describe("migrate under faults", () => {
  const cases: [string, ApiFaultSpec[] | string, ((s: SimCli) => Promise<void>) | undefined][] = [
    ["dropped watches every second", "drop-watches=1s", undefined],
    ["20% of reads and watches answered 503 (Retry-After: 1)", "errors=0.2:503@GET+WATCH", undefined],
    ["410 Gone on every resume", "expire-rv=0,drop-watches=1500ms", undefined],
    [
      "a 10-second API server outage in the middle",
      "",
      async (s) => {
        await s.cluster.faults.outage(10_000);
      },
    ],
  ];

  it("without faults (the baseline for the time added)", async () => {
    const s = await cluster();
    const run = await migrate(s);
    expectCleanMigration(run, s);
    report.push(`baseline: ${run.seconds.toFixed(1)} s`);
  }, 60_000);

  it.each(cases)(
    "%s",
    async (title, faults, during) => {
      const s = await cluster(faults === "" ? {} : { apiFaults: faults });
      const run = await migrate(s, during);
      expectCleanMigration(run, s);
      const stats = s.cluster.faults.stats();
      report.push(
        `${title}: ${run.seconds.toFixed(1)} s, ${run.retries} retries and watch (re)opens in -v, faults injected: ${JSON.stringify(
          {
            errors: stats.errors,
            watchesDropped: stats.watchesDropped,
            expired: stats.expired,
            outages: stats.outages,
            connectionsDropped: stats.connectionsDropped,
          },
        )}`,
      );
    },
    90_000,
  );
});

/** The last state of each migration in a watch -A -o json run. */
function finalTable(
  ndjson: string,
): Record<string, { phase: string; sourceNode: string; targetNode: string }> {
  const table: Record<string, Any> = {};
  for (const line of ndjson.split("\n").filter((l) => l.trim() !== "")) {
    const record = JSON.parse(line);
    if (record.type === "DELETED") delete table[`${record.namespace}/${record.migration}`];
    else
      table[`${record.namespace}/${record.migration}`] = {
        phase: record.phase,
        sourceNode: record.sourceNode,
        targetNode: record.targetNode,
      };
  }
  return table;
}

describe("watch -A under faults", () => {
  it("ends on the same table as a watch without faults", async () => {
    const s = await cluster({ apiFaults: "drop-watches=1s,errors=0.2:503@GET+WATCH,expire-rv=0" });
    for (const vm of ["fedora-web", "cirros-test", "rhel-db"]) {
      const started = await s.run(["migrate", vm, "-n", "demo", "--no-wait"]);
      expect(started.code, started.stderr).toBe(0);
    }
    const faulted = await s.run(["watch", "-A", "-o", "json", "--exit-on-done"], 120_000);
    expect(faulted.code, faulted.stderr).toBe(0);
    s.cluster.faults.clear();
    const clean = await s.run(["watch", "-A", "-o", "json", "--exit-on-done"]);
    expect(clean.code).toBe(0);
    const table = finalTable(faulted.stdout);
    expect(Object.keys(table)).toHaveLength(3);
    expect(table).toEqual(finalTable(clean.stdout));
    for (const row of Object.values(table)) expect(row.phase).toBe("Succeeded");
  }, 150_000);
});

describe("diagnose under faults", () => {
  it("finds the same failure modes as without faults", async () => {
    const s = await cluster({ scenario: "version-skew" });
    const failed = await s.run(["migrate", "orders-db", "-n", "prod"], 60_000);
    expect(failed.code).toBe(3);
    const clean = await s.run(["diagnose", "orders-db", "-n", "prod", "-o", "json"]);
    s.cluster.faults.set("errors=0.2:503@GET,latency=50:50,truncate-logs=3");
    const faulted = await s.run(["diagnose", "orders-db", "-n", "prod", "-o", "json"], 60_000);
    const ids = (out: string) => JSON.parse(out).findings.map((f: Any) => `${f.id}/${f.severity}`);
    expect(ids(clean.stdout).length).toBeGreaterThan(0);
    expect(ids(faulted.stdout)).toEqual(ids(clean.stdout));
    expect(faulted.code).toBe(clean.code);
  }, 120_000);
});
