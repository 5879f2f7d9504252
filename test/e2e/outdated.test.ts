// kvmig outdated end to end: the built CLI against the simulated cluster over real HTTPS. The
// listing is checked against the cluster's own numbers and against kubectl on the same server;
// acting on the VMs is checked from the server's side (its VMIM history, the new VMIs).
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { R } from "../../src/sim/controllers/runtime.js";
import { findKubectl, Kubectl } from "../helpers/kubectl.js";
import { ensureBuilt, lines } from "./built-cli.js";
import { type SimCli, simCli, until } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
let kubectlDir: Kubectl | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  kubectlDir = undefined;
});

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

const outdatedLabel = "kubevirt.io/outdatedLauncherImage";
const current = "quay.io/kubevirt/virt-launcher:v1.9.0";
const schema = JSON.parse(
  readFileSync(new URL("../../docs/schemas/outdated.schema.json", import.meta.url), "utf8"),
);
const validate = new Ajv({ allErrors: true }).compile(schema);

function validJson(text: string): Any {
  const report = JSON.parse(text);
  const ok = validate(report);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
  return report;
}

/** The labelled VMIs as the server stores them, as namespace/name. */
function labelled(s: SimCli): string[] {
  return (s.cluster.store.list(R.vmi.storage) as Any[])
    .filter((v) => v.metadata.labels?.[outdatedLabel] !== undefined)
    .map((v) => `${v.metadata.namespace}/${v.metadata.name}`)
    .sort();
}

const kubectl = findKubectl();

/** The VMIs of the migrations created on the server from now on, until stop(). */
function createdMigrations(s: SimCli) {
  const vmis: string[] = [];
  const stop = s.cluster.store.subscribe((change: Any) => {
    if (change.storage === R.vmim.storage && change.type === "ADDED") vmis.push(change.object.spec.vmiName);
  });
  return { vmis, stop };
}

describe("kvmig outdated lists", () => {
  it("the outdated VMIs of the upgrade scenario, with the header, the action for each and the totals", async () => {
    sim = await simCli({ scenario: "upgrade" });
    const result = await sim.run(["outdated", "-A"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      "KubeVirt v1.9.0 (Deployed); its own count of outdated VMIs: 8",
      `current launcher ${current}`,
      "automatic workload updates: off (no workloadUpdateMethods in the KubeVirt CR)",
      "",
      "NAMESPACE   VM              NODE     LAUNCHER          MIGRATABLE      ACTION",
      "apps        api             node-1   v1.8.2 → v1.9.0   yes             migrate",
      "apps        ledger          node-2   v1.8.2 → v1.9.0   no: Disks       restart",
      "apps        legacy-bridge   node-3   v1.8.2 → v1.9.0   no: Interface   restart",
      "apps        web-1           node-1   v1.8.2 → v1.9.0   yes             migrate",
      "apps        web-2           node-2   v1.8.2 → v1.9.0   yes             migrate",
      "apps        worker-1        node-3   v1.8.2 → v1.9.0   yes             migrate",
      "team-b      build-cache     node-1   v1.8.2 → v1.9.0   no: Disks       restart",
      "team-b      worker-2        node-2   v1.8.2 → v1.9.0   yes             migrate",
      "",
      "8 outdated VMIs in all namespaces: 5 to migrate, 3 to restart (downtime)",
    ]);

    // One namespace, a label selector, -o wide with the full images and the reason's message.
    const wide = await sim.run(["outdated", "-n", "apps", "-l", "app=ledger", "-o", "wide"]);
    expect(wide.code).toBe(0);
    const rows = lines(wide.stdout).filter((l) => l.startsWith("ledger"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(
      new RegExp(
        `^ledger +node-2 +quay\\.io/kubevirt/virt-launcher:v1\\.8\\.2 +${current.replace(/\./g, "\\.")} +no: DisksNotLiveMigratable +restart \\(downtime\\) +cannot migrate VMI: PVC .+ is not shared`,
      ),
    );
    expect(lines(wide.stdout).at(-1)).toBe(
      "1 outdated VMI in namespace apps: 0 to migrate, 1 to restart (downtime)",
    );
  }, 30_000);

  it("-o json validates against the published schema, and -o yaml says the same", async () => {
    sim = await simCli({ scenario: "upgrade" });
    const json = await sim.run(["outdated", "-A", "-o", "json"]);
    expect(json.code).toBe(0);
    const report = validJson(json.stdout);
    expect(report.items.map((i: Any) => `${i.namespace}/${i.vmi}`).sort()).toEqual(labelled(sim));
    expect(report.summary).toEqual({ outdated: 8, migrate: 5, restart: 3, wait: 0, recreate: 0 });
    expect(report.cluster).toMatchObject({
      currentLauncherImage: current,
      automaticUpdates: false,
      workloadUpdateMethods: [],
      kubevirt: { observedVersion: "v1.9.0", targetVersion: "v1.9.0", outdatedWorkloads: 8 },
    });
    const yaml = await sim.run(["outdated", "-A", "-o", "yaml"]);
    expect(yaml.code).toBe(0);
    expect(parseYaml(yaml.stdout)).toEqual(report);

    // Nothing outdated is success, exit 0, with an empty list.
    const none = await sim.run(["outdated", "-n", "default", "-o", "json"]);
    expect(none.code).toBe(0);
    expect(validJson(none.stdout).items).toEqual([]);
  }, 30_000);

  it("a selector the API server refuses: its message, exit 2, and nothing on stdout", async () => {
    sim = await simCli({ scenario: "upgrade" });
    const result = await sim.run(["outdated", "-A", "-l", "app in (web"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/^error: unable to parse requirement: /),
      "hint: the API server rejected the request as invalid; fix the value it names and run again",
    ]);
  }, 30_000);

  it("automatic workload updates on: the header says so, with the methods", async () => {
    // Manual time: the workload updater's first batch of evictions goes out at once (the
    // non-migratable VMIs' pods go, the others are marked for evacuation), and nothing moves after.
    sim = await simCli({ scenario: "upgrade", manualTime: true });
    sim.cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
      spec: { workloadUpdateStrategy: { workloadUpdateMethods: ["Evict"], batchEvictionSize: 5 } },
    });
    await sim.cluster.controllers.settle();
    const count = (sim.cluster.store.get(R.kubevirt.storage, "kubevirt", "kubevirt") as Any).status
      .outdatedVirtualMachineInstanceWorkloads;
    expect(count).toBeLessThan(8);
    const result = await sim.run(["outdated", "-n", "default"]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout).slice(0, 3)).toEqual([
      `KubeVirt v1.9.0 (Deployed); its own count of outdated VMIs: ${count}`,
      `current launcher ${current}`,
      "automatic workload updates: on (Evict; evicts 5 every 1m0s)",
    ]);
    expect(lines(result.stdout).at(-1)).toBe("no VMI runs an outdated virt-launcher in namespace default");
  }, 30_000);

  it.skipIf(kubectl === undefined)(
    "the same set as `kubectl get vmi -l kubevirt.io/outdatedLauncherImage -A` on the same cluster",
    async () => {
      sim = await simCli({ scenario: "upgrade" });
      kubectlDir = new Kubectl(kubectl ?? "kubectl", sim.cluster);
      const theirs = await kubectlDir.ok([
        "get",
        "vmi",
        "-A",
        "-l",
        outdatedLabel,
        "-o",
        'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
      ]);
      const ours = validJson((await sim.run(["outdated", "-A", "-o", "json"])).stdout);
      expect(ours.items.map((i: Any) => `${i.namespace}/${i.vmi}`).sort()).toEqual(lines(theirs).sort());
      expect(lines(theirs)).toHaveLength(8);
    },
    30_000,
  );

  it.skipIf(kubectl === undefined)(
    "scale with 10,000 VMIs: exactly the outdated ones, matching the cluster's own count and kubectl, read in pages",
    async () => {
      sim = await simCli({ scenario: "scale", vms: 10_000 });
      const expected = labelled(sim);
      expect(expected).toHaveLength(1000);
      const result = await sim.run(["outdated", "-A", "-o", "json", "-v"], 60_000);
      expect(result.code).toBe(0);
      const report = validJson(result.stdout);
      const ours = report.items.map((i: Any) => `${i.namespace}/${i.vmi}`).sort();
      expect(ours).toEqual(expected);
      // The KubeVirt CR's status.outdatedVirtualMachineInstanceWorkloads, as the workload updater counts.
      expect(report.cluster.kubevirt.outdatedWorkloads).toBe(1000);
      expect(report.summary.outdated).toBe(1000);
      // Streamed: two pages of 500 through limit/continue, not one list of everything.
      const pages = lines(result.stderr).filter((l) =>
        /GET \/apis\/kubevirt\.io\/v1\/virtualmachineinstances\?/.test(l),
      );
      expect(pages).toHaveLength(2);
      expect(pages[0]).toMatch(/limit=500/);
      expect(pages[1]).toMatch(/continue=/);

      kubectlDir = new Kubectl(kubectl ?? "kubectl", sim.cluster);
      const theirs = await kubectlDir.ok(["get", "vmi", "-A", "-l", outdatedLabel, "-o", "name"]);
      expect(lines(theirs)).toHaveLength(1000);
      expect(
        new Set(lines(theirs).map((l) => l.replace(/^virtualmachineinstance\.kubevirt\.io\//, ""))),
      ).toEqual(new Set(report.items.map((i: Any) => i.vmi)));

      // --check reads every VMI (20 pages) and finds the same 1,000 by their image.
      const check = await sim.run(["outdated", "-A", "--check", "-o", "json", "-v"], 60_000);
      expect(check.code).toBe(0);
      expect(validJson(check.stdout).items).toHaveLength(1000);
      expect(
        lines(check.stderr).filter((l) => /GET \/apis\/kubevirt\.io\/v1\/virtualmachineinstances\?/.test(l)),
      ).toHaveLength(20);
    },
    120_000,
  );
});

describe("kvmig outdated acts", () => {
  it("--migrate --restart --yes --concurrency 3: never more than 3 migrations in flight, all end current, summary correct", async () => {
    sim = await simCli({ scenario: "upgrade" });
    const inFlight = new Set<string>();
    let most = 0;
    const created: string[] = [];
    const stop = sim.cluster.store.subscribe((change: Any) => {
      if (change.storage !== R.vmim.storage) return;
      const uid = change.object.metadata.uid;
      const phase = change.object.status?.phase;
      if (change.type === "ADDED") created.push(change.object.spec.vmiName);
      if (change.type === "DELETED" || phase === "Succeeded" || phase === "Failed") inFlight.delete(uid);
      else inFlight.add(uid);
      most = Math.max(most, inFlight.size);
    });
    const before = new Map(
      (sim.cluster.store.list(R.vmi.storage) as Any[]).map((v) => [v.metadata.name, v.metadata.uid]),
    );
    const result = await sim.run(
      ["outdated", "-A", "--migrate", "--restart", "--yes", "--concurrency", "3"],
      120_000,
    );
    stop();
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.code).toBe(0);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThanOrEqual(2);
    // One migration per live-migratable VM, none for the others.
    expect(created.sort()).toEqual(["api", "web-1", "web-2", "worker-1", "worker-2"]);

    // Every outdated VMI is now on the current launcher: migrated ones keep their VMI, restarted ones have a new one.
    expect(labelled(sim)).toEqual([]);
    for (const vmi of sim.cluster.store.list(R.vmi.storage) as Any[]) {
      expect(vmi.status.launcherContainerImageVersion).toBe(current);
      const restarted = ["ledger", "legacy-bridge", "build-cache"].includes(vmi.metadata.name);
      if (restarted) expect(vmi.metadata.uid).not.toBe(before.get(vmi.metadata.name));
      else expect(vmi.metadata.uid).toBe(before.get(vmi.metadata.name));
    }

    const err = lines(result.stderr);
    expect(err[0]).toBe("cycling 8 VMs (5 to migrate, 3 to restart), 3 at a time");
    expect(err.filter((l) => /^ok: migrated /.test(l))).toHaveLength(5);
    expect(err.filter((l) => /^ok: restarted .+ \(downtime \d+\.\ds\)$/.test(l))).toHaveLength(3);
    const out = lines(result.stdout);
    const table = out.slice(
      out.indexOf(
        "NAMESPACE   VM              ACTION    RESULT      NODES             TIME   LAUNCHER   DETAIL",
      ),
    );
    expect(table).toHaveLength(11);
    for (const row of table.slice(1, 9))
      expect(row).toMatch(
        /^(apps|team-b) +\S+ +(migrate|restart) +succeeded +node-\d → node-\d +\S+ +current\b/,
      );
    expect(out.at(-1)).toBe("8 succeeded, 0 failed, 0 timed out, 0 not started");

    // And kvmig outdated agrees: nothing left.
    const after = await sim.run(["outdated", "-A"]);
    expect(after.code).toBe(0);
    expect(lines(after.stdout).at(-1)).toBe("no VMI runs an outdated virt-launcher in all namespaces");
  }, 150_000);

  it("--concurrency above the cluster's free migration slots: capped, with a note saying why", async () => {
    sim = await simCli({ scenario: "upgrade", speed: 2 });
    sim.cluster.store.patch(R.kubevirt, "kubevirt", "kubevirt", "merge", {
      spec: { configuration: { migrations: { parallelMigrationsPerCluster: 2 } } },
    });
    const inFlight = new Set<string>();
    let most = 0;
    const stop = sim.cluster.store.subscribe((change: Any) => {
      if (change.storage !== R.vmim.storage) return;
      const phase = change.object.status?.phase;
      if (change.type === "DELETED" || phase === "Succeeded" || phase === "Failed")
        inFlight.delete(change.object.metadata.uid);
      else inFlight.add(change.object.metadata.uid);
      most = Math.max(most, inFlight.size);
    });
    const result = await sim.run(
      ["outdated", "-n", "apps", "--migrate", "--yes", "--concurrency", "4"],
      90_000,
    );
    stop();
    expect(result.code).toBe(0);
    expect(lines(result.stderr).slice(0, 2)).toEqual([
      "note: at most 2 migrations at a time: the cluster runs 2 in parallel (parallelMigrationsPerCluster) and 0 are under way",
      "cycling 4 VMs (4 to migrate, 0 to restart), 2 at a time",
    ]);
    expect(most).toBe(2);
    expect(lines(result.stdout).at(-1)).toBe("4 succeeded, 0 failed, 0 timed out, 0 not started");
  }, 120_000);

  it("on a terminal: a progress bar with counts redrawn in place, and a line per finished VM", async () => {
    sim = await simCli({ scenario: "upgrade", speed: 2 });
    const command = [
      "node",
      "dist/kvmig.js",
      "outdated",
      "-n",
      "team-b",
      "--migrate",
      "--restart",
      "--yes",
    ].join(" ");
    const { runProcess } = await import("./built-cli.js");
    const result = await runProcess(["-q", "-e", "-c", command, "/dev/null"], {
      command: "/usr/bin/script",
      env: { ...sim.env, TERM: "xterm", COLUMNS: "120" },
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(0);
    const screen = result.stdout;
    expect(screen).toMatch(/\[░{20}\] 0\/2 {2}done 0 · running 2 · failed 0 · left 0/);
    expect(screen).toMatch(/\[█{20}\] 2\/2 {2}done 2 · running 0 · failed 0 · left 0/);
    // Redrawn in place: the cursor goes back to the start of the line and clears from there to
    // the end of the screen (a frame the terminal re-wrapped after a resize is cleared whole).
    expect(screen).toContain("\u001b[1G\u001b[0J");
    expect(screen).toMatch(/✔\S* migrated team-b\/worker-2 node-2 → node-\d in \d+s/);
    expect(screen).toMatch(
      /✔\S* restarted team-b\/build-cache node-1 → node-\d in \d+s \(downtime \d+\.\ds\)/,
    );
  }, 90_000);

  it("--restart without a terminal and without --yes: exit 2 naming --yes before anything starts", async () => {
    sim = await simCli({ scenario: "upgrade" });
    const before = (sim.cluster.store.list(R.vmi.storage) as Any[]).map((v) => v.metadata.uid).sort();
    const result = await sim.run(["outdated", "-A", "--migrate", "--restart"]);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      `error: "Migrate 5 VMs live and restart 3 VMs with downtime (apps/ledger, apps/legacy-bridge, team-b/build-cache) on context sim-admin (${sim.cluster.url})?" needs an answer and there is no terminal to ask on`,
      "hint: pass --yes",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sim.cluster.store.list(R.vmim.storage)).toEqual([]);
    expect((sim.cluster.store.list(R.vmi.storage) as Any[]).map((v) => v.metadata.uid).sort()).toEqual(
      before,
    );
    for (const vm of sim.cluster.store.list(R.vm.storage) as Any[])
      expect(vm.status.stateChangeRequests).toBeUndefined();
  }, 30_000);

  it("without the permissions (the read-only user): exit 4 naming each one, before anything starts", async () => {
    sim = await simCli({ scenario: "upgrade" });
    const result = await sim.run([
      "outdated",
      "-A",
      "--migrate",
      "--restart",
      "--yes",
      "--context",
      "sim-viewer",
      "-o",
      "json",
    ]);
    expect(result.code).toBe(4);
    expect(lines(result.stderr)).toEqual([
      "error: not allowed to update virtualmachines/migrate in apps (4 VMs); update virtualmachines/restart in apps (2 VMs); update virtualmachines/restart in team-b (1 VM); update virtualmachines/migrate in team-b (1 VM); nothing was started",
      'hint: migrating needs the ClusterRole kubevirt.io:migrate (KubeVirt 1.5+) bound in the namespace; check with: echo \'{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"update","group":"subresources.kubevirt.io","resource":"virtualmachines","subresource":"migrate","namespace":"apps"}}}\' | kubectl --context sim-viewer create --validate=false -f - -o \'jsonpath={.status.allowed}\'',
    ]);
    // The listing is still a whole document, with no results.
    const report = validJson(result.stdout);
    expect(report.items).toHaveLength(8);
    expect(report.results).toEqual([]);
    expect(sim.cluster.store.list(R.vmim.storage)).toEqual([]);
  }, 30_000);

  it("--migrate on version-skew: the migrations fail (client socket is closed), the summary says so, exit 3", async () => {
    sim = await simCli({ scenario: "version-skew", speed: 2 });
    const result = await sim.run(
      ["outdated", "-n", "prod", "--migrate", "-l", "app in (gateway,batch)", "-o", "json"],
      90_000,
    );
    expect(result.code).toBe(3);
    const report = validJson(result.stdout);
    expect(report.results).toHaveLength(2);
    for (const r of report.results) {
      expect(r).toMatchObject({ action: "migrate", outcome: "failed" });
      expect(r.detail).toMatch(/client socket is closed/);
    }
    expect(lines(result.stderr).slice(-2)).toEqual([
      "error: 2 of 2 failed",
      `hint: see why with: kvmig diagnose ${report.results[0].vm} -n prod`,
    ]);
  }, 120_000);

  it("--max-failures by default on version-skew: the first failure's cause is version-skew, so nothing more starts (exit 3)", async () => {
    sim = await simCli({ scenario: "version-skew", speed: 2 });
    const created = createdMigrations(sim);
    const result = await sim.run(["outdated", "-n", "prod", "--migrate", "--concurrency", "1"], 90_000);
    created.stop();
    expect(result.code).toBe(3);
    expect(created.vmis).toHaveLength(1);
    const out = lines(result.stdout);
    expect(out.at(-1)).toBe("0 succeeded, 1 failed, 0 timed out, 3 not started");
    expect(
      out.filter((l) => / skipped .* not started: stopped after 1 failure \(--max-failures 1\)$/.test(l)),
    ).toHaveLength(3);
    expect(lines(result.stderr).slice(-2)).toEqual([
      "error: stopped after 1 failure (cause: version-skew; the default --max-failures is 1 when the failures share a cause); 3 not started",
      `hint: see why with: kvmig diagnose ${created.vmis[0]} -n prod; --max-failures N allows more failures, 0 any number`,
    ]);
  }, 120_000);

  it("--max-failures 2: two migrations fail, the other two never start, and the summary says why", async () => {
    sim = await simCli({ scenario: "version-skew", speed: 2 });
    const created = createdMigrations(sim);
    const result = await sim.run(
      ["outdated", "-n", "prod", "--migrate", "--concurrency", "1", "--max-failures", "2", "-o", "json"],
      120_000,
    );
    created.stop();
    expect(result.code).toBe(3);
    expect(created.vmis).toHaveLength(2);
    const report = validJson(result.stdout);
    expect(report.results.map((r: Any) => r.outcome).sort()).toEqual([
      "failed",
      "failed",
      "skipped",
      "skipped",
    ]);
    for (const r of report.results.filter((r: Any) => r.outcome === "skipped"))
      expect(r.detail).toBe("not started: stopped after 2 failures (--max-failures 2)");
    expect(lines(result.stderr).at(-2)).toBe(
      "error: stopped after 2 failures (--max-failures 2); 2 not started",
    );
  }, 150_000);

  it("Ctrl-C stops starting new work, waits for what runs, reports the rest as not started (exit 130), and the command it suggests goes on", async () => {
    sim = await simCli({ scenario: "upgrade" });
    const running = sim.start(["outdated", "-A", "--migrate", "--concurrency", "1", "-o", "json"]);
    await until(() => (sim?.cluster.store.list(R.vmim.storage).length ?? 0) > 0);
    running.child.kill("SIGINT");
    const code = await running.exited;
    expect(code).toBe(130);
    const report = validJson(running.stdout());
    const outcomes = report.results.map((r: Any) => r.outcome);
    expect(outcomes[0]).toBe("succeeded");
    expect(outcomes.slice(1)).toEqual(["skipped", "skipped", "skipped", "skipped"]);
    // Only the one that was running ever had a migration.
    expect(sim.cluster.store.list(R.vmim.storage)).toHaveLength(1);

    // The hint repeats the whole command, action flags included (and no --yes the user did not
    // give); running it migrates the four left, and only them.
    const hint = lines(running.stderr()).at(-1) ?? "";
    expect(hint).toBe(
      "hint: run the same command again to go on: kvmig outdated -A --migrate --concurrency 1 -o json",
    );
    const again = hint.replace(/^.*go on: kvmig /, "").split(" ");
    const resumed = await sim.run(again, 120_000);
    expect(resumed.code).toBe(0);
    const rest = validJson(resumed.stdout).results;
    expect(rest.map((r: Any) => r.outcome)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(rest.map((r: Any) => r.vm)).not.toContain(report.results[0].vm);
    expect(sim.cluster.store.list(R.vmim.storage)).toHaveLength(5);
    expect(labelled(sim)).toEqual(["apps/ledger", "apps/legacy-bridge", "team-b/build-cache"]);
  }, 180_000);
});
