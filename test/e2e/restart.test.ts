// kvmig restart end to end: the built CLI against the simulated cluster over real HTTPS. The
// restart subresource makes the VM controller replace the VMI (facts §a, §f); kvmig waits for
// the new one, measures the downtime and compares the launcher image with the current one.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
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

const outdatedLabel = "kubevirt.io/outdatedLauncherImage";
const current = "quay.io/kubevirt/virt-launcher:v1.9.0";
const previous = "quay.io/kubevirt/virt-launcher:v1.8.2";

function vm(s: SimCli, namespace: string, name: string): Any {
  return s.cluster.store.get(R.vm.storage, namespace, name);
}

describe("kvmig restart", () => {
  it("restarts an outdated VM on version-skew: the new VMI runs the current launcher, the label is gone, downtime is reported", async () => {
    sim = await simCli({ scenario: "version-skew" });
    const before = sim.vmi("prod", "orders-db");
    expect(before.metadata.labels[outdatedLabel]).toBe("");
    expect(before.status.launcherContainerImageVersion).toBe(previous);

    const result = await sim.run(["restart", "orders-db", "-n", "prod", "--yes"]);
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.code).toBe(0);
    const err = lines(result.stderr);
    expect(err.slice(0, 3)).toEqual([
      "warning: restarting prod/orders-db stops its guest: it is down until the new VMI runs (usually tens of seconds, longer for big VMs)",
      "  running on node-1 for 63d, phase Running",
      `  launcher ${previous} (outdated; the restart starts ${current})`,
    ]);
    expect(err).toContain("stopping prod/orders-db on node-1");
    expect(err.some((l) => /^stopped prod\/orders-db on node-1 after \d+s$/.test(l))).toBe(true);
    expect(err.some((l) => /^starting prod\/orders-db: Running on node-\d$/.test(l))).toBe(true);

    const after = sim.vmi("prod", "orders-db");
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.status.phase).toBe("Running");
    expect(after.status.launcherContainerImageVersion).toBe(current);
    expect(after.metadata.labels[outdatedLabel]).toBeUndefined();

    const out = lines(result.stdout);
    expect(out[0]).toBe(
      after.status.nodeName === "node-1"
        ? "Restarted  prod/orders-db on node-1 again"
        : `Restarted  prod/orders-db node-1 → ${after.status.nodeName}`,
    );
    expect(out[1]).toMatch(/^ {2}downtime {3}\d+\.\ds \(old VMI gone → new VMI Running\)$/);
    expect(out[2]).toMatch(/^ {2}stopping {3}\d+\.\ds \(restart requested → old VMI gone\)$/);
    expect(out.slice(3)).toEqual([`  launcher   ${current} (current)`, `  was        ${previous}`]);
    // The VM controller's own record of the restart: the old VMI deleted, a new one created.
    const reasons = (sim.cluster.store.list(R.event.storage, "prod") as Any[])
      .filter((e) => e.involvedObject.kind === "VirtualMachine" && e.involvedObject.name === "orders-db")
      .map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["SuccessfulDelete", "SuccessfulCreate"]));

    // kvmig outdated no longer lists it; the other three outdated VMs are still there.
    const outdated = await sim.run(["outdated", "-n", "prod", "-o", "json"]);
    expect(outdated.code).toBe(0);
    expect(JSON.parse(outdated.stdout).items.map((i: Any) => i.vm)).toEqual([
      "api-gateway",
      "batch-runner",
      "cache-redis",
    ]);
  }, 40_000);

  it("--no-wait returns after the request; the VM controller replaces the VMI anyway", async () => {
    sim = await simCli();
    const before = sim.vmi("demo", "cirros-test");
    const result = await sim.run(["restart", "cirros-test", "-n", "demo", "--yes", "--no-wait"]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      "VM demo/cirros-test was scheduled to restart; follow it with: kubectl get vmi cirros-test -n demo -w",
    ]);
    await until(() => {
      const now = sim?.vmi("demo", "cirros-test");
      return now !== undefined && now.metadata.uid !== before.metadata.uid && now.status?.phase === "Running";
    });
  }, 40_000);

  it("--timeout: exit 6 when the new VMI is not running in time, and the restart goes on", async () => {
    // Slow simulated time: the old VMI takes 15 s of wall time to shut down.
    sim = await simCli({ speed: 0.2 });
    const before = sim.vmi("demo", "cirros-test");
    const result = await sim.run(["restart", "cirros-test", "-n", "demo", "--yes", "--timeout", "2s"]);
    expect(result.code).toBe(6);
    expect(lines(result.stdout)[0]).toBe("Stopping  demo/cirros-test (restart still in progress)");
    expect(lines(result.stderr).slice(-2)).toEqual([
      "error: demo/cirros-test is not Running again after the --timeout; the restart goes on",
      "hint: follow it with: kubectl get vmi cirros-test -n demo -w; find out why with: kvmig diagnose cirros-test -n demo",
    ]);
    // The request was made: the VM controller is deleting the old VMI to replace it.
    const old = sim.vmi("demo", "cirros-test");
    expect(
      old === undefined || old.metadata.uid !== before.metadata.uid || old.metadata.deletionTimestamp,
    ).toBeTruthy();
  }, 60_000);

  it("-o json reports the measured downtime, both nodes and whether the launcher is current", async () => {
    sim = await simCli({ scenario: "version-skew" });
    const before = sim.vmi("prod", "batch-runner");
    const result = await sim.run(["restart", "batch-runner", "-n", "prod", "--yes", "-o", "json"]);
    expect(result.code).toBe(0);
    const after = sim.vmi("prod", "batch-runner");
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({
      vm: "batch-runner",
      namespace: "prod",
      outcome: "restarted",
      oldNode: "node-1",
      newNode: after.status.nodeName,
      oldVmiUid: before.metadata.uid,
      newVmiUid: after.metadata.uid,
      newPhase: "Running",
      oldLauncherImage: previous,
      launcherImage: current,
      currentLauncherImage: current,
      launcherCurrent: true,
    });
    expect(json.downtimeSeconds).toBeGreaterThan(0);
    expect(json.downtimeSeconds).toBeLessThan(30);
    expect(json.stopSeconds).toBeGreaterThan(0);
  }, 40_000);

  it("without a terminal and without --yes: exit 2 naming --yes, and the server saw no restart", async () => {
    sim = await simCli({ scenario: "version-skew" });
    const before = sim.vmi("prod", "orders-db");
    const result = await sim.run(["restart", "orders-db", "-n", "prod"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const err = lines(result.stderr);
    expect(err.slice(-2)).toEqual([
      `error: "Restart prod/orders-db on context sim-admin (${sim.cluster.url}) now?" needs an answer and there is no terminal to ask on`,
      "hint: pass --yes",
    ]);
    // Give the controllers time to act on a request, had there been one.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = sim.vmi("prod", "orders-db");
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.metadata.deletionTimestamp).toBeUndefined();
    expect(vm(sim, "prod", "orders-db").status.stateChangeRequests).toBeUndefined();
    expect((sim.cluster.store.list(R.vmi.storage, "prod") as Any[]).length).toBe(6);
  }, 30_000);

  it("--dry-run lets the server check the restart and changes nothing", async () => {
    sim = await simCli();
    const before = sim.vmi("demo", "cirros-test");
    const result = await sim.run(["restart", "cirros-test", "-n", "demo", "--dry-run"]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      "dry run: the API server accepted restarting demo/cirros-test; nothing was changed",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sim.vmi("demo", "cirros-test").metadata.uid).toBe(before.metadata.uid);
    expect(vm(sim, "demo", "cirros-test").status.stateChangeRequests).toBeUndefined();
  }, 30_000);

  it("--force warns about data loss and asks the server for grace period 0", async () => {
    sim = await simCli();
    const before = sim.vmi("demo", "fedora-web");
    let grace: unknown;
    const stopWatching = sim.cluster.store.subscribe((change: Any) => {
      if (change.object?.metadata?.uid === before.metadata.uid && change.object.spec)
        grace ??= change.object.spec.terminationGracePeriodSeconds === 1 ? 1 : undefined;
    });
    const result = await sim.run(["restart", "fedora-web", "-n", "demo", "--yes", "--force"]);
    stopWatching();
    expect(result.code).toBe(0);
    expect(lines(result.stderr)).toContain(
      "warning: --force stops the guest at once (grace period 0): writes not yet on disk may be lost",
    );
    // virt-api (v1.9) lowers the old VMI's grace period to 1 s for a force restart.
    expect(grace).toBe(1);
    expect(sim.vmi("demo", "fedora-web").metadata.uid).not.toBe(before.metadata.uid);
  }, 40_000);

  it("warns that a restart ends a migration in progress", async () => {
    sim = await simCli();
    const started = await sim.run(["migrate", "rhel-db", "-n", "demo", "--no-wait"]);
    expect(started.code).toBe(0);
    await until(() => !!sim?.vmi("demo", "rhel-db").status.migrationState?.startTimestamp);
    const result = await sim.run(["restart", "rhel-db", "-n", "demo", "--dry-run"]);
    expect(result.code).toBe(0);
    expect(lines(result.stderr)).toContainEqual(
      expect.stringMatching(
        /^warning: demo\/rhel-db is migrating \(node-2 → node-[13]\); the restart ends that migration$/,
      ),
    );
  }, 40_000);

  it("shows the server's refusal as it is, with a hint, exit 3, and nothing changes", async () => {
    sim = await simCli();
    sim.cluster.store.patch(R.vm, "demo", "legacy-pvc", "merge", { spec: { runStrategy: "Once" } });
    const before = sim.vmi("demo", "legacy-pvc");
    const result = await sim.run(["restart", "legacy-pvc", "-n", "demo", "--yes"]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toEqual([
      'error: the server refused to restart demo/legacy-pvc: Operation cannot be fulfilled on virtualmachine.kubevirt.io "legacy-pvc": RunStategy Once does not support manual restart requests',
      "hint: the VM's runStrategy does not allow a restart; start and stop it instead: virtctl stop legacy-pvc -n demo, then virtctl start legacy-pvc -n demo",
    ]);
    expect(sim.vmi("demo", "legacy-pvc").metadata.uid).toBe(before.metadata.uid);
  }, 30_000);

  it("without the permission (the read-only user): exit 4 naming virtualmachines/restart, nothing changes", async () => {
    sim = await simCli();
    const before = sim.vmi("demo", "cirros-test");
    const result = await sim.run([
      "restart",
      "cirros-test",
      "-n",
      "demo",
      "--yes",
      "--context",
      "sim-viewer",
    ]);
    expect(result.code).toBe(4);
    expect(lines(result.stderr)).toEqual([
      'error: virtualmachines.subresources.kubevirt.io "cirros-test" is forbidden: User "sim-viewer" cannot update resource "virtualmachines/restart" in API group "subresources.kubevirt.io" in the namespace "demo"',
      'hint: you may not update virtualmachines/restart in "demo"; the admin and edit ClusterRoles grant it',
    ]);
    expect(sim.vmi("demo", "cirros-test").metadata.uid).toBe(before.metadata.uid);
  }, 30_000);

  it("an unknown VM is exit 5 with a hint", async () => {
    sim = await simCli();
    const result = await sim.run(["restart", "nope", "-n", "demo", "--yes"]);
    expect(result.code).toBe(5);
    expect(lines(result.stderr)).toEqual([
      'error: VirtualMachine "nope" not found in namespace "demo"',
      "hint: list the VMs with: kubectl get vm,vmi -n demo",
    ]);
  }, 30_000);
});
