// kvmig evacuate NODE end to end (issue 22) on the `maintenance` scenario: eight VMs on node-1
// that KubeVirt live-migrates on eviction, legacy-rwo that cannot live-migrate (a ReadWriteOnce
// disk) and pinned-cpu whose every migration fails on a CPU model mismatch. The server's own
// change feed is the record: one VMIM per attempt, never two unfinished for one VMI, never more
// than parallelOutboundMigrationsPerNode running from node-1, and kvmig never creates one.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
import type { Change } from "../../src/sim/store.js";
import { findKubectl, Kubectl } from "../helpers/kubectl.js";
import { schemaErrors } from "../helpers/schemas.js";
import { ensureBuilt, lines } from "./built-cli.js";
import { type SimCli, simCli, until } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const finalPhases = new Set(["Succeeded", "Failed"]);
const eight = ["web-1", "web-2", "api-1", "db-main", "cache-1", "dev-build", "dev-test", "dev-ci"];
const namespaceOf = (vm: string) => (vm.startsWith("dev-") ? "dev" : "prod");

/** Every VMIM change the server made, with what a rule about them needs. */
function recordMigrations(cli: SimCli) {
  const changes: Change[] = [];
  const unsubscribe = cli.cluster.store.subscribe((change) => {
    if (change.storage === R.vmim.storage) changes.push(change);
  });
  const violations: string[] = [];
  const unfinished = new Map<string, Set<string>>();
  const running = new Set<string>();
  const vmiNode = (ns: string, vmi: string) => cli.vmi(ns, vmi)?.status?.nodeName;
  let maxRunningFromNode1 = 0;
  const watch = cli.cluster.store.subscribe((change) => {
    if (change.storage !== R.vmim.storage) return;
    const m = change.object as Any;
    const vmi = `${m.metadata.namespace}/${m.spec.vmiName}`;
    const open = unfinished.get(vmi) ?? new Set<string>();
    const phase = m.status?.phase ?? "";
    if (change.type === "DELETED" || finalPhases.has(phase)) open.delete(m.metadata.uid);
    else open.add(m.metadata.uid);
    unfinished.set(vmi, open);
    if (open.size > 1) violations.push(`${vmi} has ${open.size} unfinished migrations`);
    if (["Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running"].includes(phase)) {
      if (vmiNode(m.metadata.namespace, m.spec.vmiName) === "node-1" || running.has(m.metadata.uid))
        running.add(m.metadata.uid);
    } else running.delete(m.metadata.uid);
    maxRunningFromNode1 = Math.max(maxRunningFromNode1, running.size);
  });
  return {
    changes,
    violations,
    maxRunning: () => maxRunningFromNode1,
    created: () => changes.filter((c) => c.type === "ADDED").map((c) => c.object as Any),
    stop: () => {
      unsubscribe();
      watch();
    },
  };
}

describe("kvmig evacuate on the maintenance scenario", () => {
  it("moves the eight, blocks legacy-rwo, gives up pinned-cpu after two attempts, and exits 3", async () => {
    sim = await simCli({ speed: 20, scenario: "maintenance" });
    const cli = sim;
    const record = recordMigrations(cli);
    const writes: string[] = [];
    const off = cli.cluster.onRequest((r) => {
      if (r.method !== "GET") writes.push(`${r.method} ${r.path.split("?")[0]} ${r.status}`);
    });
    const result = await cli.run(["evacuate", "node-1", "--yes", "-o", "json"], 240_000);
    off();
    record.stop();
    expect(result.code).toBe(3);
    // -o json: the document on stdout, the exit's reason on stderr.
    expect(lines(result.stderr)).toEqual([
      "error: 2 VMs still on node-1: prod/legacy-rwo (blocked), prod/pinned-cpu (failed)",
      "hint: see why with: kvmig diagnose pinned-cpu -n prod",
    ]);
    const doc = JSON.parse(result.stdout);
    expect(schemaErrors("evacuate.schema.json", doc)).toBe("");
    expect(doc.node).toBe("node-1");
    expect(doc.cordoned).toBe(true);
    const byVm = new Map(doc.results.map((r: Any) => [r.vm, r]));
    for (const vm of eight) {
      const r = byVm.get(vm) as Any;
      expect(r?.outcome, vm).toBe("migrated");
      expect(r.from).toBe("node-1");
      expect(r.to).not.toBe("node-1");
      expect(r.attempts).toBe(1);
    }
    const blocked = byVm.get("legacy-rwo") as Any;
    expect(blocked.outcome).toBe("blocked");
    expect(blocked.attempts).toBe(0);
    const failed = byVm.get("pinned-cpu") as Any;
    expect(failed.outcome).toBe("failed");
    expect(failed.cause).toBe("cpu-model-mismatch");
    expect(failed.attempts).toBeLessThanOrEqual(2);
    expect(doc.remaining).toEqual([
      { namespace: "prod", vmi: "legacy-rwo" },
      { namespace: "prod", vmi: "pinned-cpu" },
    ]);

    // The server's record: every migration KubeVirt's (none created by kvmig), one per attempt.
    expect(record.violations).toEqual([]);
    expect(record.maxRunning()).toBeLessThanOrEqual(2);
    const created = record.created();
    expect(created.every((m: Any) => m.metadata.generateName === "kubevirt-evacuation-")).toBe(true);
    // One migration per attempt: the eight once each; pinned-cpu's two, and at most one more that
    // KubeVirt queued in its backoff and kvmig deleted before it started.
    for (const vm of eight) expect(created.filter((m: Any) => m.spec.vmiName === vm).length, vm).toBe(1);
    const pinned = created.filter((m: Any) => m.spec.vmiName === "pinned-cpu");
    expect(pinned.length).toBeGreaterThanOrEqual(failed.attempts);
    expect(pinned.length).toBeLessThanOrEqual(failed.attempts + 1);
    expect(created.filter((m: Any) => m.spec.vmiName === "legacy-rwo")).toEqual([]);
    expect(
      writes.filter((w) => w.startsWith("POST") && w.includes("virtualmachineinstancemigrations")),
    ).toEqual([]);
    // Cordoned with kvmig's mark; pinned-cpu's evacuation cancelled; nothing left pending for it.
    const node = cli.cluster.store.get(R.node.storage, undefined, "node-1") as Any;
    expect(node.spec.unschedulable).toBe(true);
    expect(node.metadata.annotations["kvmig.io/cordoned-by"]).toBe("kvmig evacuate");
    expect(cli.vmi("prod", "pinned-cpu").status.evacuationNodeName).toBeUndefined();
    expect(
      cli.migrations("prod", "pinned-cpu").filter((m: Any) => !finalPhases.has(m.status?.phase)),
    ).toEqual([]);
  }, 300_000);

  it("in a pipe: a line per change, with why a VM waits in KubeVirt's queue; the summary on stdout", async () => {
    sim = await simCli({ speed: 20, scenario: "maintenance" });
    const result = await sim.run(["evacuate", "node-1", "--yes"], 240_000);
    expect(result.code).toBe(3);
    const err = lines(result.stderr);
    expect(err).toContain("cordoned node-1: no new pods are scheduled on it");
    // Two outbound at a time from node-1: the others wait, and say so with the count.
    expect(
      err.some((l) =>
        /^(prod|dev)\/[\w-]+: queued: 2 of 2 outbound migrations from node-1 running \(parallelOutboundMigrationsPerNode\)$/.test(
          l,
        ),
      ),
    ).toBe(true);
    expect(
      err.some((l) =>
        /^prod\/pinned-cpu: queued: (.*; )?KubeVirt backs off before the next attempt \(longer after each failure\)$/.test(
          l,
        ),
      ),
    ).toBe(true);
    expect(err.filter((l) => / migrated node-1 → node-\d in /.test(l))).toHaveLength(8);
    expect(err).toContain(
      "error: 2 VMs still on node-1: prod/legacy-rwo (blocked), prod/pinned-cpu (failed)",
    );
    const out = lines(result.stdout);
    expect(out).toContain("from node-1:");
    expect(out).toContain("still on node-1: prod/legacy-rwo, prod/pinned-cpu (node-1 stays cordoned)");
  }, 300_000);

  it("--dry-run writes nothing and its plan names the same actions", async () => {
    sim = await simCli({ speed: 20, scenario: "maintenance" });
    const writes: string[] = [];
    const off = sim.cluster.onRequest((r) => {
      if (r.method !== "GET") writes.push(`${r.method} ${r.path}`);
    });
    const result = await sim.run(["evacuate", "node-1", "--dry-run", "-o", "json"]);
    off();
    expect(result.code).toBe(0);
    expect(writes).toEqual([]);
    const doc = JSON.parse(result.stdout);
    expect(schemaErrors("evacuate.schema.json", doc)).toBe("");
    const actions = Object.fromEntries(doc.plan.vms.map((v: Any) => [v.vm, v.action]));
    for (const vm of eight) expect(actions[vm], vm).toBe("migrate");
    expect(actions["pinned-cpu"]).toBe("migrate");
    expect(actions["legacy-rwo"]).toBe("blocked");

    // --cancel with nothing to cancel: the document says so, and a node cordoned by someone else stays so.
    sim.cluster.store.patch(R.node, undefined, "node-2", "merge", { spec: { unschedulable: true } });
    const cancel = await sim.run(["evacuate", "node-2", "--cancel", "-o", "json"]);
    expect(cancel.code).toBe(0);
    const cancelled = JSON.parse(cancel.stdout);
    expect(schemaErrors("evacuate.schema.json", cancelled)).toBe("");
    expect(cancelled).toEqual({
      node: "node-2",
      cancelled: [],
      deleted: [],
      running: [],
      uncordoned: false,
      cordonedByOther: true,
      errors: [],
    });
    const said = await sim.run(["evacuate", "node-2", "--cancel"]);
    expect(lines(said.stdout)).toEqual([
      "no VM is marked for evacuation from node-2",
      "node-2 stays cordoned: kvmig did not cordon it; uncordon it with: kubectl uncordon node-2",
    ]);

    const text = await sim.run(["evacuate", "node-1", "--dry-run", "--restart"]);
    expect(text.code).toBe(0);
    expect(lines(text.stdout).some((l) => /legacy-rwo\s+restart \(downtime\)/.test(l))).toBe(true);
  }, 60_000);

  it("--restart restarts legacy-rwo onto another node", async () => {
    sim = await simCli({ speed: 20, scenario: "maintenance" });
    const cli = sim;
    const result = await cli.run(["evacuate", "node-1", "--restart", "--yes", "-o", "json"], 240_000);
    const doc = JSON.parse(result.stdout);
    const legacy = doc.results.find((r: Any) => r.vm === "legacy-rwo");
    expect(legacy.outcome).toBe("restarted");
    expect(legacy.to).not.toBe("node-1");
    expect(cli.vmi("prod", "legacy-rwo").status.nodeName).not.toBe("node-1");
    // pinned-cpu still fails: exit 3, and it is the only VM left.
    expect(result.code).toBe(3);
    expect(doc.remaining).toEqual([{ namespace: "prod", vmi: "pinned-cpu" }]);
  }, 300_000);

  it("Ctrl-C leaves KubeVirt's evacuation going; a second run picks it up; --cancel stops it and uncordons", async () => {
    sim = await simCli({ speed: 5, scenario: "maintenance" });
    const cli = sim;
    const record = recordMigrations(cli);
    const first = cli.start(["evacuate", "node-1", "--yes"]);
    await until(() => eight.some((vm) => cli.migrations(namespaceOf(vm), vm).length > 0));
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(130);
    expect(first.stderr()).toContain("KubeVirt's evacuation of node-1 goes on");
    expect(first.stderr()).toContain("evacuate node-1 --cancel");

    // KubeVirt goes on by itself: the VMIs stay marked and their migrations run.
    const marked = eight.filter(
      (vm) => cli.vmi(namespaceOf(vm), vm)?.status?.evacuationNodeName === "node-1",
    );
    expect(marked.length).toBeGreaterThan(0);

    const second = await cli.run(["evacuate", "node-1", "--yes", "-o", "json"], 240_000);
    record.stop();
    expect(record.violations).toEqual([]);
    const doc = JSON.parse(second.stdout);
    expect(
      doc.results
        .filter((r: Any) => r.outcome === "migrated")
        .map((r: Any) => r.vm)
        .sort(),
    ).toEqual([...eight].sort());

    const cancel = await cli.run(["evacuate", "node-1", "--cancel"]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain("uncordoned node-1");
    const node = cli.cluster.store.get(R.node.storage, undefined, "node-1") as Any;
    expect(node.spec.unschedulable).toBeUndefined();
    expect(node.metadata.annotations?.["kvmig.io/cordoned-by"]).toBeUndefined();
  }, 300_000);

  it("refuses before any change when the other nodes lack the room, naming the shortfall per node", async () => {
    sim = await simCli({ speed: 20, scenario: "maintenance-full" });
    const writes: string[] = [];
    const off = sim.cluster.onRequest((r) => {
      if (r.method !== "GET") writes.push(`${r.method} ${r.path}`);
    });
    const result = await sim.run(["evacuate", "node-1", "--yes"]);
    off();
    expect(result.code).toBe(8);
    expect(writes).toEqual([]);
    const err = lines(result.stderr);
    const error = err.find((l) => l.startsWith("error: pre-flight:"));
    expect(error).toBeDefined();
    for (const n of ["node-2", "node-3", "node-4"]) expect(result.stderr).toContain(n);
    expect(result.stderr).toContain("--force");
  }, 60_000);

  it("beside a kubectl drain of the same node: no second migration for any VMI, and kvmig's report still true", async () => {
    const binary = findKubectl();
    if (!binary) throw new Error("kubectl is needed for this test (see README: Running the tests)");
    sim = await simCli({ speed: 20, scenario: "maintenance" });
    const cli = sim;
    const record = recordMigrations(cli);
    const kubectl = new Kubectl(binary, cli.cluster);
    try {
      const drain = kubectl.run([
        "drain",
        "node-1",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=20s",
      ]);
      const result = await cli.run(["evacuate", "node-1", "--yes", "-o", "json"], 240_000);
      const drained = await drain;
      record.stop();
      expect(record.violations).toEqual([]);
      expect(record.maxRunning()).toBeLessThanOrEqual(2);
      expect(result.code).toBe(3);
      const doc = JSON.parse(result.stdout);
      const outcome = Object.fromEntries(doc.results.map((r: Any) => [r.vm, r.outcome]));
      for (const vm of eight) expect(outcome[vm], vm).toBe("migrated");
      expect(outcome["legacy-rwo"]).toBe("blocked");
      expect(outcome["pinned-cpu"]).toBe("failed");
      // What kvmig reported migrated is where it says, by the server's objects.
      for (const r of doc.results.filter((x: Any) => x.outcome === "migrated"))
        expect(cli.vmi(r.namespace, r.vm).status.nodeName).toBe(r.to);
      // The drain, blind, timed out on the two that cannot move.
      expect(drained.code).toBe(1);
    } finally {
      await kubectl.close();
    }
  }, 300_000);
});
