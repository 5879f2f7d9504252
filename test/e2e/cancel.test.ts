// kvmig cancel end to end: the built CLI against the simulated cluster over real HTTPS. Deleting
// the unfinished VMIM is the abort request (facts §c); the outcome is read from the VMI.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
import { simRequest } from "../helpers/sim.js";
import { ensureBuilt, lines } from "./built-cli.js";
import { type SimCli, simCli, until } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

const beforeHandOff = ["Pending", "Scheduling", "Scheduled"];

/** Starts a migration with `migrate --no-wait` and returns its VMIM as stored. */
async function startMigration(s: SimCli, namespace: string, vm: string): Promise<Any> {
  const known = new Set(s.migrations(namespace, vm).map((m) => m.metadata.uid));
  const started = await s.run(["migrate", vm, "-n", namespace, "--no-wait"]);
  expect(started.stderr).not.toMatch(/^error:/m);
  expect(started.code).toBe(0);
  const created = s.migrations(namespace, vm).filter((m) => !known.has(m.metadata.uid));
  expect(created).toHaveLength(1);
  return created[0];
}

/** The stored VMIM with this uid, if it still exists. */
function stored(s: SimCli, namespace: string, vm: string, uid: string): Any {
  return s.migrations(namespace, vm).find((m) => m.metadata.uid === uid);
}

function targetPods(s: SimCli, namespace: string, uid: string): Any[] {
  return (s.cluster.store.list(R.pod.storage, namespace) as Any[]).filter(
    (p) => p.metadata.labels?.["kubevirt.io/migrationJobUID"] === uid,
  );
}

describe("kvmig cancel aborts the unfinished migration", () => {
  it("before hand-off: deletes the VMIM and its target pod, reports 'aborted', and the VM stays on its source node", async () => {
    // Slow simulated time: the target pod takes 2 simulated seconds to start, 10 s of wall time here.
    sim = await simCli({ speed: 0.2 });
    const m = await startMigration(sim, "demo", "fedora-web");
    const name = m.metadata.name;
    expect(beforeHandOff).toContain(m.status?.phase || "Pending");

    const result = await sim.run(["cancel", "fedora-web", "-n", "demo", "--yes"]);
    expect(result.code).toBe(0);
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(
      new RegExp(
        `^abort requested for migration ${name} \\((Pending|Scheduling|Scheduled)\\); waiting for the outcome$`,
      ),
    );
    expect(lines(result.stdout)).toEqual([
      `aborted: migration ${name} was cancelled; demo/fedora-web is still on node-1`,
    ]);

    // Once final, the finalizer goes and the deleted VMIM disappears; its target pod went first.
    await until(() => stored(sim as SimCli, "demo", "fedora-web", m.metadata.uid) === undefined);
    expect(targetPods(sim, "demo", m.metadata.uid)).toEqual([]);
    const vmi = sim.vmi("demo", "fedora-web");
    expect(vmi.status.nodeName).toBe("node-1");
    expect(vmi.status.phase).toBe("Running");
  }, 40_000);

  it("while Running: the source aborts it (abortStatus Succeeded) and the VM stays on its source node", async () => {
    sim = await simCli({ speed: 2 });
    const m = await startMigration(sim, "demo", "rhel-db");
    const name = m.metadata.name;
    await until(() => stored(sim as SimCli, "demo", "rhel-db", m.metadata.uid)?.status?.phase === "Running");

    const result = await sim.run(["cancel", "rhel-db", "-n", "demo", "--yes"]);
    expect(result.code).toBe(0);
    expect(lines(result.stderr)).toEqual([
      `abort requested for migration ${name} (Running); waiting for the outcome`,
    ]);
    expect(lines(result.stdout)).toEqual([
      `aborted: migration ${name} was cancelled; demo/rhel-db is still on node-2`,
    ]);

    const vmi = sim.vmi("demo", "rhel-db");
    expect(vmi.status.nodeName).toBe("node-2");
    expect(vmi.status.migrationState).toMatchObject({
      migrationUid: m.metadata.uid,
      abortRequested: true,
      abortStatus: "Succeeded",
      completed: true,
      failed: true,
    });
    await until(() => stored(sim as SimCli, "demo", "rhel-db", m.metadata.uid) === undefined);
  }, 40_000);

  it("-o json prints one object: outcome, migration, phase, alreadyRequestedAt, abortStatus, node, evacuationNodeName", async () => {
    sim = await simCli({ speed: 2 });
    const m = await startMigration(sim, "demo", "rhel-db");
    await until(() => stored(sim as SimCli, "demo", "rhel-db", m.metadata.uid)?.status?.phase === "Running");

    const result = await sim.run(["cancel", "rhel-db", "-n", "demo", "--yes", "-o", "json"]);
    expect(result.code).toBe(0);
    // Data only on stdout; no progress messages with -o json.
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      vm: "rhel-db",
      namespace: "demo",
      outcome: "aborted",
      migration: m.metadata.name,
      phase: "Running",
      alreadyRequestedAt: null,
      abortStatus: "Succeeded",
      node: "node-2",
      evacuationNodeName: null,
    });
  }, 40_000);

  it("deletes only the unfinished VMIM: a finished VMIM of the same VM stays", async () => {
    // busy-db's last attempt, three hours ago, failed (the scenario's history).
    sim = await simCli({ speed: 1, scenario: "not-converging" });
    const [old] = sim.migrations("data", "busy-db");
    expect(old.status.phase).toBe("Failed");
    const m = await startMigration(sim, "data", "busy-db");

    const result = await sim.run(["cancel", "busy-db", "-n", "data", "--yes"]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      `aborted: migration ${m.metadata.name} was cancelled; data/busy-db is still on node-1`,
    ]);
    await until(() => stored(sim as SimCli, "data", "busy-db", m.metadata.uid) === undefined);
    const left = sim.migrations("data", "busy-db");
    expect(left.map((x: Any) => x.metadata.uid)).toEqual([old.metadata.uid]);
    expect(left[0].metadata.deletionTimestamp).toBeUndefined();
    expect(left[0].status.phase).toBe("Failed");
  }, 40_000);
});

describe("kvmig cancel: nothing to do, refusals, dry runs and hints", () => {
  it("nothing to cancel is exit 0 with a message (text and JSON)", async () => {
    sim = await simCli({ speed: 10 });
    const text = await sim.run(["cancel", "fedora-web", "-n", "demo", "--yes"]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe("");
    expect(lines(text.stdout)).toEqual(["nothing to cancel: demo/fedora-web has no unfinished migration"]);

    const json = await sim.run(["cancel", "fedora-web", "-n", "demo", "-o", "json"]);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe("");
    expect(JSON.parse(json.stdout)).toEqual({
      vm: "fedora-web",
      namespace: "demo",
      outcome: "nothing-to-cancel",
      migration: null,
      evacuationNodeName: null,
    });
  }, 30_000);

  it("without --yes and without a terminal: exit 2 with the hint naming --yes, and nothing is deleted", async () => {
    sim = await simCli({ speed: 1 });
    const m = await startMigration(sim, "demo", "rhel-db");
    const result = await sim.run(["cancel", "rhel-db", "-n", "demo"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toMatch(
      new RegExp(
        `^error: "Cancel migration ${m.metadata.name} of demo/rhel-db \\((Pending|Scheduling|Scheduled|PreparingTarget|TargetReady|Running), (on node-2|node-2 → node-[13])\\) on context sim-admin \\(https://127\\.0\\.0\\.1:\\d+\\)\\?" needs an answer and there is no terminal to ask on$`,
      ),
    );
    expect(stderr[1]).toBe("hint: pass --yes");
    const still = stored(sim, "demo", "rhel-db", m.metadata.uid);
    expect(still).toBeDefined();
    expect(still.metadata.deletionTimestamp).toBeUndefined();
    expect(still.status?.conditions ?? []).not.toContainEqual(
      expect.objectContaining({ type: "migrationAbortRequested" }),
    );
  }, 30_000);

  it("--dry-run deletes nothing (with or without --yes)", async () => {
    sim = await simCli({ speed: 1 });
    const m = await startMigration(sim, "demo", "rhel-db");
    const phaseRe = "(Pending|Scheduling|Scheduled|PreparingTarget|TargetReady|Running)";

    const text = await sim.run(["cancel", "rhel-db", "-n", "demo", "--yes", "--dry-run"]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe("");
    expect(text.stdout).toMatch(
      new RegExp(
        `^dry run: would delete migration ${m.metadata.name} \\(${phaseRe}\\) to cancel it; nothing was changed\\n$`,
      ),
    );

    // A dry run changes nothing, so it needs no confirmation either (kubectl delete --dry-run does not ask).
    const json = await sim.run(["cancel", "rhel-db", "-n", "demo", "--dry-run", "-o", "json"]);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out).toMatchObject({
      vm: "rhel-db",
      namespace: "demo",
      outcome: "dry-run",
      migration: m.metadata.name,
      evacuationNodeName: null,
    });
    expect(out.phase).toMatch(new RegExp(`^${phaseRe}$`));

    const still = stored(sim, "demo", "rhel-db", m.metadata.uid);
    expect(still).toBeDefined();
    expect(still.metadata.deletionTimestamp).toBeUndefined();
    expect(sim.vmi("demo", "rhel-db").status.migrationState?.abortRequested).not.toBe(true);
  }, 30_000);

  it("--no-wait requests the abort and returns; the abort then completes on its own", async () => {
    sim = await simCli({ speed: 2 });
    const m = await startMigration(sim, "demo", "rhel-db");
    await until(() => stored(sim as SimCli, "demo", "rhel-db", m.metadata.uid)?.status?.phase === "Running");

    const result = await sim.run(["cancel", "rhel-db", "-n", "demo", "--yes", "--no-wait"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(lines(result.stdout)).toEqual([
      `abort requested: migration ${m.metadata.name} (Running) is being cancelled`,
    ]);
    // The request is in: the VMIM is being deleted.
    const deleting = stored(sim, "demo", "rhel-db", m.metadata.uid);
    if (deleting) expect(deleting.metadata.deletionTimestamp).toBeDefined();

    await until(() => sim?.vmi("demo", "rhel-db").status.migrationState?.abortStatus === "Succeeded");
    await until(() => stored(sim as SimCli, "demo", "rhel-db", m.metadata.uid) === undefined);
    expect(sim.vmi("demo", "rhel-db").status.nodeName).toBe("node-2");
  }, 40_000);

  it("a VMI being evacuated (status.evacuationNodeName) gets the virtctl evacuate-cancel hint", async () => {
    sim = await simCli({ speed: 2 });
    const cluster = sim.cluster;
    // What the eviction webhook does during a drain: mark the VMI for evacuation from its node.
    const vmi = sim.vmi("demo", "fedora-web");
    cluster.store.update(
      R.vmi,
      { ...vmi, status: { ...vmi.status, evacuationNodeName: "node-1" } },
      { subresource: "status" },
    );
    // The evacuation controller then creates a migration of its own.
    await until(() => (sim?.migrations("demo", "fedora-web").length ?? 0) > 0);
    const [m] = sim.migrations("demo", "fedora-web");
    expect(m.metadata.name).toMatch(/^kubevirt-evacuation-/);

    const result = await sim.run(["cancel", "fedora-web", "-n", "demo", "--yes", "--no-wait"]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      expect.stringMatching(
        new RegExp(`^abort requested: migration ${m.metadata.name} \\(\\w+\\) is being cancelled$`),
      ),
    ]);
    expect(lines(result.stderr)).toEqual([
      "note: demo/fedora-web is being evacuated from node-1 (a drain); KubeVirt will create new migrations until the evacuation is cancelled: virtctl evacuate-cancel vmi fedora-web -n demo",
    ]);

    await until(() => stored(sim as SimCli, "demo", "fedora-web", m.metadata.uid) === undefined);
    const json = await sim.run(["cancel", "fedora-web", "-n", "demo", "--yes", "--no-wait", "-o", "json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).evacuationNodeName).toBe("node-1");
  }, 40_000);

  it("a VMI marked by a drain but with eviction strategy External: KubeVirt makes no migration, and the note says so", async () => {
    sim = await simCli({ speed: 2 });
    const cluster = sim.cluster;
    cluster.store.patch(R.vmi, "demo", "fedora-web", "merge", { spec: { evictionStrategy: "External" } });
    const pod = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
      (p) => p.metadata.annotations?.["kubevirt.io/domain"] === "fedora-web",
    );
    // A drain's eviction: refused, and the VMI marked for evacuation from its node.
    const evicted = await simRequest(
      cluster,
      "POST",
      `/api/v1/namespaces/demo/pods/${pod.metadata.name}/eviction`,
      {
        body: {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: pod.metadata.name, namespace: "demo" },
        },
      },
    );
    expect(evicted.status).toBe(429);
    expect(sim.vmi("demo", "fedora-web").status.evacuationNodeName).toBe("node-1");

    const result = await sim.run(["cancel", "fedora-web", "-n", "demo", "--yes"]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(["nothing to cancel: demo/fedora-web has no unfinished migration"]);
    expect(lines(result.stderr)).toEqual([
      "note: demo/fedora-web is marked for evacuation from node-1 (a drain), but KubeVirt does not migrate it (eviction strategy External); to clear the mark: virtctl evacuate-cancel vmi fedora-web -n demo",
    ]);
    expect(sim.migrations("demo", "fedora-web")).toEqual([]);
  }, 40_000);

  it("an unknown VM is exit 5 with the namespace named", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["cancel", "nope", "-n", "demo", "--yes"]);
    expect(result.code).toBe(5);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toEqual([
      'error: VirtualMachine "nope" not found in namespace "demo"',
      "hint: list the VMs with: kubectl get vm,vmi -n demo",
    ]);
  }, 30_000);
});
