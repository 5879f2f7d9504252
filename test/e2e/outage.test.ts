// Following rides out an API server outage (issue 19, item 6): the built CLI against the
// simulated cluster, whose API server goes away (connections refused) while kvmig follows.
// `--request-timeout 2s` makes a one-shot read's retry budget 2 s, so an outage of 12 s is six
// budgets long: before, the follow gave up after the budget (exit 1, no hint); now it says it is
// reconnecting, and for how long, and carries on to the end, or to its own --timeout (exit 6,
// with the command that follows again).
import { afterEach, describe, expect, it } from "vitest";
import { type SimCli, simCli, until } from "./sim-cli.js";

let sims: SimCli[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function cluster(): Promise<SimCli> {
  const s = await simCli({ speed: 4 });
  sims.push(s);
  return s;
}

const phases = [
  "Pending",
  "Scheduling",
  "Scheduled",
  "PreparingTarget",
  "TargetReady",
  "Running",
  "Succeeded",
];

/** The phase lines of migrate's plain (non-terminal) timeline, in order. */
function phaseLines(stderr: string): string[] {
  return stderr
    .split("\n")
    .map((line) => /^ {2}([A-Za-z]+)(\s|$)/.exec(line)?.[1] ?? "")
    .filter((word) => phases.includes(word));
}

const outageMs = 12_000;
const lost = /^kvmig: lost the API server \(connection refused\); reconnecting for (\d+)s so far$/m;
const reconnected = /^kvmig: reconnected after (\d+)s$/m;

/** The last state of each migration in a watch -o json run. */
function finalPhases(ndjson: string): Record<string, string> {
  const table: Record<string, string> = {};
  for (const line of ndjson.split("\n").filter((l) => l.trim() !== "")) {
    const record = JSON.parse(line) as { type: string; namespace: string; migration: string; phase: string };
    const key = `${record.namespace}/${record.migration}`;
    if (record.type === "DELETED") delete table[key];
    else table[key] = record.phase;
  }
  return table;
}

describe("following through an API server outage", () => {
  it("migrate: an outage six times the retry budget is ridden out, told, and the migration followed to its end", async () => {
    const s = await cluster();
    const running = s.start(["migrate", "fedora-web", "-n", "demo", "--request-timeout", "2s"]);
    await until(() => /migration \S+ started/.test(running.stderr()));
    const outage = s.cluster.faults.outage(outageMs);
    const code = await running.exited;
    await outage;
    const stderr = running.stderr();
    expect(code, stderr).toBe(0);
    // Every phase exactly once, in order: nothing missed across the outage, nothing repeated.
    expect(phaseLines(stderr)).toEqual(phases);
    expect(running.stdout()).toMatch(/^Succeeded {2}demo\/fedora-web moved node-\d → node-\d/m);
    // Told once it lasted 5 s, then that it is back.
    expect(Number(lost.exec(stderr)?.[1])).toBeGreaterThanOrEqual(5);
    expect(Number(reconnected.exec(stderr)?.[1])).toBeGreaterThanOrEqual(10);
    expect(stderr.indexOf("kvmig: lost")).toBeLessThan(stderr.indexOf("kvmig: reconnected"));
    expect(s.migrations("demo", "fedora-web")).toHaveLength(1);
  }, 90_000);

  it("migrate: a --timeout that ends during the outage is the timeout (exit 6) with the commands that follow or cancel it", async () => {
    const s = await cluster();
    const running = s.start([
      "migrate",
      "fedora-web",
      "-n",
      "demo",
      "--request-timeout",
      "2s",
      "--timeout",
      "5s",
    ]);
    await until(() => /migration \S+ started/.test(running.stderr()));
    void s.cluster.faults.outage(60_000).catch(() => {});
    const code = await running.exited;
    const stderr = running.stderr();
    expect(code, stderr).toBe(6);
    expect(stderr).toMatch(/^error: migration \S+ is still \w+ after the --timeout; it goes on$/m);
    expect(stderr).toContain(
      "follow it with: kvmig watch fedora-web -n demo; cancel it with: kvmig cancel fedora-web -n demo",
    );
    expect(s.cluster.faults.down).toBe(true);
  }, 60_000);

  it("watch -A: an outage in the middle is ridden out and told; it ends when nothing is in flight, on the final table", async () => {
    const s = await cluster();
    for (const vm of ["fedora-web", "cirros-test"]) {
      const started = await s.run(["migrate", vm, "-n", "demo", "--no-wait"]);
      expect(started.code, started.stderr).toBe(0);
    }
    const running = s.start(["watch", "-A", "-o", "json", "--exit-on-done", "--request-timeout", "2s"]);
    await until(() => running.stdout().includes("\n"));
    const outage = s.cluster.faults.outage(outageMs);
    const code = await running.exited;
    await outage;
    const stderr = running.stderr();
    expect(code, stderr).toBe(0);
    expect(Object.values(finalPhases(running.stdout()))).toEqual(["Succeeded", "Succeeded"]);
    expect(Number(lost.exec(stderr)?.[1])).toBeGreaterThanOrEqual(5);
    expect(Number(reconnected.exec(stderr)?.[1])).toBeGreaterThanOrEqual(10);
  }, 90_000);

  it("watch -A: a --timeout that ends during the outage is exit 6, with the command that watches again", async () => {
    const s = await cluster();
    const started = await s.run(["migrate", "fedora-web", "-n", "demo", "--no-wait"]);
    expect(started.code, started.stderr).toBe(0);
    const running = s.start(["watch", "-A", "-o", "json", "--timeout", "5s", "--request-timeout", "2s"]);
    await until(() => running.stdout().includes("\n"));
    void s.cluster.faults.outage(60_000).catch(() => {});
    const code = await running.exited;
    const stderr = running.stderr();
    expect(code, stderr).toBe(6);
    expect(stderr).toMatch(
      /^error: stopped watching after the --timeout \(5s\), (no migrations|1 migration|\d+ migrations) in flight when last seen( \(they go on\))?$/m,
    );
    expect(stderr).toContain("watch again with: kvmig watch -A");
    expect(s.cluster.faults.down).toBe(true);
  }, 60_000);
});
