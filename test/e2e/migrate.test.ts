// kvmig migrate end to end: the built CLI against the simulated cluster over real HTTP.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, lines } from "./built-cli.js";
import { normalize, type SimCli, simCli, until } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("kvmig migrate on the default scenario", () => {
  it("checks, starts, follows to Succeeded on another node, and prints the timeline and summary", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["migrate", "fedora-web", "-n", "demo"]);
    expect(result.stderr).not.toContain("error");
    expect(result.code).toBe(0);
    const [m] = sim.migrations("demo", "fedora-web");
    expect(m.status.phase).toBe("Succeeded");
    const target = sim.vmi("demo", "fedora-web").status.nodeName;
    expect(target).not.toBe("node-1");

    const stderr = lines(normalize(result.stderr)).filter((l) => !l.startsWith("  progress  "));
    expect(stderr).toEqual([
      `pre-flight demo/fedora-web on context sim-admin (${sim.cluster.url})`,
      "  ok       VMI fedora-web is Running on node-1",
      "  ok       live-migratable",
      "  ok       no migration in progress",
      "  ok       launcher image is current (quay.io/kubevirt/virt-launcher:v1.9.0)",
      "  ok       no Multus networks",
      "  ok       2 other schedulable nodes: node-2, node-3",
      "  ok       migration slots in use: 0 of 5 in the cluster, 0 of 2 from node-1",
      "  ok       allowed to update virtualmachines/migrate",
      // No bandwidthPerMigration and no Prometheus: nothing to forecast from before it starts.
      "  ok       forecast: duration unknown; dirty rate unknown (--prometheus-url reads it from KubeVirt's metrics), rate unknown",
      `migration ${m.metadata.name} started for demo/fedora-web on node-1`,
      ...["Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady"].map((phase) =>
        expect.stringMatching(new RegExp(`^  ${phase} +<d>$`)),
      ),
      expect.stringMatching(new RegExp(`^  Running +<d>   node-1 → ${target}$`)),
      "  Succeeded",
    ]);
    const out = lines(normalize(result.stdout));
    expect(out.slice(0, 3)).toEqual([
      `Succeeded  demo/fedora-web moved node-1 → ${target}`,
      `  migration  ${m.metadata.name}`,
      "  total      <d>",
    ]);
    // The phase list wraps to fit 80 columns, continuation lines aligned under it.
    const phaseLines = out.slice(3, -1);
    for (const line of phaseLines) expect(line.length).toBeLessThanOrEqual(80);
    expect(phaseLines[0]).toMatch(/^ {2}phases {5}Pending <d>,/);
    expect(phaseLines.slice(1).every((l) => l.startsWith(" ".repeat(13)))).toBe(true);
    expect(phaseLines.join(" ").replace(/\s+/g, " ")).toBe(
      " phases Pending <d>, Scheduling <d>, Scheduled <d>, PreparingTarget <d>, TargetReady <d>, Running <d>",
    );
    // No downtime row: the launcher logs no line for the completed job (it once came from the
    // simulator's extra "Downtime:" line). The curve ends at 0 B because the migration succeeded.
    expect(out.slice(-1)).toEqual([
      expect.stringMatching(/^ {2}remaining {2}[▁▂▃▄▅▆▇█]+ {2}4\.0 GiB → 0 B over at least \d+ iterations?$/),
    ]);
    expect(out.some((l) => l.startsWith("  downtime"))).toBe(false);
  }, 60_000);
});

describe("kvmig migrate: output, errors and interruptions", () => {
  it("-o json prints one object of the documented shape and nothing else on stdout", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["migrate", "cirros-test", "-n", "demo", "-o", "json"]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    // forecast comes only once a progress line came, which a small VM may finish before.
    expect(
      Object.keys(out)
        .filter((k) => k !== "forecast")
        .sort(),
    ).toEqual(
      [
        "durationSeconds",
        "endedAt",
        "migration",
        "namespace",
        "networks",
        "phase",
        "sourceNode",
        "started",
        "startedAt",
        "targetNode",
        "timeline",
        "vm",
      ].sort(),
    );
    expect(out).toMatchObject({
      vm: "cirros-test",
      namespace: "demo",
      started: true,
      phase: "Succeeded",
      sourceNode: "node-3",
    });
    expect(out.targetNode).toMatch(/^node-[12]$/);
    expect(out.migration).toBe(sim.migrations("demo", "cirros-test")[0].metadata.name);
    expect(typeof out.durationSeconds).toBe("number");
    expect(Date.parse(out.endedAt)).toBeGreaterThanOrEqual(Date.parse(out.startedAt));
    expect(out.timeline.map((t: { phase: string }) => t.phase)).toEqual([
      "Pending",
      "Scheduling",
      "Scheduled",
      "PreparingTarget",
      "TargetReady",
      "Running",
      "Succeeded",
    ]);
    for (const t of out.timeline) expect(Number.isNaN(Date.parse(t.at))).toBe(false);
    // No spinner, no colour, no summary on stdout; the pre-flight stays off stderr too.
    expect(result.stderr).toBe("");
  }, 60_000);

  it("on a terminal, the live line shows at least three progress updates with falling data remaining for an 8 GiB VM", async () => {
    // The launcher logs its progress every 4 s (simulated), and rhel-db takes about a minute.
    sim = await simCli({ speed: 4 });
    const command = ["node", "dist/kvmig.js", "migrate", "rhel-db", "-n", "demo"].join(" ");
    const { runProcess } = await import("./built-cli.js");
    const result = await runProcess(["-q", "-e", "-c", command, "/dev/null"], {
      command: "/usr/bin/script",
      env: { ...sim.env, TERM: "xterm", COLUMNS: "200" },
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(0);
    const shown = [...result.stdout.matchAll(/([\d.]+) (B|KiB|MiB|GiB) of 8\.0 GiB left/g)].map(
      ([, n, unit]) => Number(n) * 1024 ** ["B", "KiB", "MiB", "GiB"].indexOf(unit as string),
    );
    const distinct = shown.filter((v, i) => i === 0 || v !== shown[i - 1]);
    expect(distinct.length).toBeGreaterThanOrEqual(3);
    expect(distinct.at(-1)).toBeLessThan(distinct[0] as number);
    expect(result.stdout).toContain("Succeeded");
  }, 90_000);

  it("--dry-run checks and asks the server, and creates nothing", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run([
      "migrate",
      "fedora-web",
      "-n",
      "demo",
      "--dry-run",
      "--target-node",
      "node-2",
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("  ok       target node node-2 is Ready and schedulable");
    // The pre-flight on stderr, the dry run's result on stdout.
    expect(lines(result.stdout)).toEqual([
      "dry run: the API server accepted migrating demo/fedora-web off node-1 to a node with kubernetes.io/hostname=node-2; nothing was changed",
    ]);
    expect(sim.migrations("demo", "fedora-web")).toEqual([]);
  }, 30_000);

  it("--target-node sends the VM to that node", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["migrate", "fedora-web", "-n", "demo", "--target-node", "node-2"]);
    expect(result.code).toBe(0);
    expect(sim.migrations("demo", "fedora-web")[0].spec.addedNodeSelector).toEqual({
      "kubernetes.io/hostname": "node-2",
    });
    expect(sim.vmi("demo", "fedora-web").status.nodeName).toBe("node-2");
  }, 30_000);

  it("an unknown VM is exit 5 with the namespace named", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["migrate", "nope", "-n", "demo"]);
    expect(result.code).toBe(5);
    expect(lines(result.stderr)).toEqual([
      'error: VirtualMachine "nope" not found in namespace "demo"',
      "hint: list the VMs with: kubectl get vm,vmi -n demo",
    ]);
  }, 30_000);

  it("the read-only user gets exit 4 naming kubevirt.io:migrate, and nothing is created", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["migrate", "fedora-web", "-n", "demo", "--context", "sim-viewer"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("  error    not allowed to update virtualmachines/migrate in demo");
    expect(result.stderr).toMatch(/^error: .*kubevirt\.io:migrate/m);
    expect(result.stderr).toMatch(
      /^hint: check with: echo '\{"apiVersion":"authorization.k8s.io\/v1","kind":"SelfSubjectAccessReview".*"subresource":"migrate".* \| kubectl --context sim-viewer create --validate=false -f - -o 'jsonpath=\{\.status\.allowed\}'$/m,
    );
    expect(sim.migrations("demo", "fedora-web")).toEqual([]);
  }, 30_000);

  it("--force takes the read-only user to the server's own 403, still exit 4", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run([
      "migrate",
      "fedora-web",
      "-n",
      "demo",
      "--context",
      "sim-viewer",
      "--force",
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^error: .*forbidden/m);
    expect(result.stderr).toContain("kubevirt.io:migrate ClusterRole");
  }, 30_000);

  it("a VM that is not live-migratable stops at pre-flight with KubeVirt's reason (exit 3), before any change", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["migrate", "legacy-pvc", "-n", "demo"]);
    expect(result.code).toBe(8);
    expect(result.stderr).toContain(
      "  error    not live-migratable: DisksNotLiveMigratable: cannot migrate VMI: PVC legacy-pvc-data is not shared",
    );
    expect(result.stderr).toMatch(/^error: pre-flight: not live-migratable: DisksNotLiveMigratable/m);
    expect(result.stderr).toMatch(/^hint: .*kvmig restart legacy-pvc -n demo.*--force/m);
    expect(sim.migrations("demo", "legacy-pvc")).toEqual([]);
  }, 30_000);

  it("--force past that check: KubeVirt's webhook refuses, exit 3 with KubeVirt's reason, never 'unexpected error'", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["migrate", "legacy-pvc", "-n", "demo", "--force"]);
    expect(result.code).toBe(3);
    expect(lines(result.stderr).slice(-2)).toEqual([
      "error: KubeVirt refused the request: Cannot migrate VMI, Reason: DisksNotLiveMigratable, Message: cannot migrate VMI: PVC legacy-pvc-data is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode) (admission webhook migration-create-validator.kubevirt.io)",
      "hint: KubeVirt says it cannot be live-migrated now; see why with: kvmig diagnose legacy-pvc -n demo; a restart (kvmig restart legacy-pvc -n demo) moves it, with downtime",
    ]);
    expect(sim.migrations("demo", "legacy-pvc")).toEqual([]);
  }, 30_000);

  it("two migrate calls at once for one VM make one migration; both follow it to the end", async () => {
    sim = await simCli({ speed: 10 });
    const [a, b] = await Promise.all([
      sim.run(["migrate", "fedora-web", "-n", "demo"]),
      sim.run(["migrate", "fedora-web", "-n", "demo"]),
    ]);
    expect(sim.migrations("demo", "fedora-web")).toHaveLength(1);
    expect([a.code, b.code]).toEqual([0, 0]);
    const followers = [a, b].filter(
      (r) =>
        /following migration/.test(r.stderr) ||
        /another migration of this VM started meanwhile/.test(r.stderr),
    );
    expect(followers).toHaveLength(1);
    expect(a.stdout.split("\n")[0]).toBe(b.stdout.split("\n")[0]);
  }, 60_000);

  it("Ctrl-C stops following with exit 130 and the watch/cancel commands; the migration still succeeds", async () => {
    sim = await simCli({ speed: 4 });
    const running = sim.start(["migrate", "fedora-web", "-n", "demo"]);
    await until(() => sim?.migrations("demo", "fedora-web")[0]?.status?.phase === "Running");
    running.child.kill("SIGINT");
    expect(await running.exited).toBe(130);
    expect(running.stderr()).toMatch(
      /^error: stopped following migration kubevirt-migrate-vm-\w+; the migration goes on$/m,
    );
    expect(running.stderr()).toContain(
      "hint: follow it again with: kvmig watch fedora-web -n demo; cancel it with: kvmig cancel fedora-web -n demo",
    );
    await until(() => sim?.migrations("demo", "fedora-web")[0]?.status?.phase === "Succeeded");
    expect(sim.vmi("demo", "fedora-web").status.nodeName).not.toBe("node-1");
  }, 60_000);

  it("--timeout 1s on a slow migration exits 6 and leaves it running", async () => {
    sim = await simCli({ speed: 1 });
    const result = await sim.run(["migrate", "rhel-db", "-n", "demo", "--timeout", "1s"]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(
      /^error: migration kubevirt-migrate-vm-\w+ is still \w+ after the --timeout; it goes on$/m,
    );
    expect(result.stderr).toContain(
      "hint: follow it with: kvmig watch rhel-db -n demo; cancel it with: kvmig cancel rhel-db -n demo",
    );
    const [m] = sim.migrations("demo", "rhel-db");
    expect(["Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running"]).toContain(
      m.status.phase,
    );
  }, 30_000);

  it("--prometheus-url: progress from virt-handler's gauges (no iteration count), not from the launcher log", async () => {
    sim = await simCli({ speed: 1, prometheus: true });
    const url = sim.cluster.prometheus?.url ?? "";
    const result = await sim.run(["migrate", "fedora-web", "-n", "demo", "--prometheus-url", url], 60_000);
    expect(result.code).toBe(0);
    expect(sim.cluster.prometheus?.queries).toBeGreaterThan(0);
    const progress = lines(result.stderr).filter((l) => l.startsWith("  progress  "));
    expect(progress.length).toBeGreaterThan(0);
    for (const line of progress) {
      expect(line).toMatch(
        /^ {2}progress {2}[\d.]+ (B|KiB|MiB|GiB) of 4\.0 GiB left · [\d.]+ MiB\/s · dirty [\d.]+ MiB\/s( · ETA \d+(ms|s))?$/,
      );
    }
  }, 60_000);

  it("--prometheus-url that answers nothing Prometheus-like: a note with a hint, and the migration is still followed to the end", async () => {
    sim = await simCli({ speed: 2, prometheus: true });
    // A URL with a wrong path: the query API is not there.
    const wrong = `${sim.cluster.prometheus?.url}/prom`;
    const result = await sim.run(["migrate", "fedora-web", "-n", "demo", "--prometheus-url", wrong], 60_000);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^ {2}note {6}Prometheus query failed \(HTTP 404\): no \/prom\/api\/v1\/query here; try \/api\/v1\/query; check that --prometheus-url points at the Prometheus API/m,
    );
    expect(result.stdout).toMatch(/^Succeeded {2}demo\/fedora-web moved/m);
  }, 60_000);
});

// Node's timers hold at most 2^31-1 ms (about 24.8 days) and fire after 1 ms beyond that: a
// limit longer than a timer can hold means no limit, never an immediate timeout.
describe("kvmig migrate: durations longer than a timer can hold", () => {
  it("--timeout 1000h follows the migration to Succeeded (exit 0, not a timeout)", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["migrate", "cirros-test", "-n", "demo", "--timeout", "1000h"]);
    expect(result.stderr).not.toContain("--timeout");
    expect(result.stderr).not.toContain("TimeoutOverflowWarning");
    expect(result.stderr).not.toContain("error");
    expect(result.code).toBe(0);
    expect(lines(result.stderr).at(-1)).toBe("  Succeeded");
    expect(sim.migrations("demo", "cirros-test")[0].status.phase).toBe("Succeeded");
  }, 60_000);

  it("--request-timeout 99999999h answers version from a healthy server (exit 0)", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["version", "--request-timeout", "99999999h"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(lines(result.stdout).slice(1, 3)).toEqual([
      expect.stringMatching(
        /^Kubernetes: +v1\.\d+\.\d+ at https:\/\/127\.0\.0\.1:\d+ \(context "sim-admin"\)$/,
      ),
      "KubeVirt:    v1.9.0",
    ]);
  }, 60_000);
});
