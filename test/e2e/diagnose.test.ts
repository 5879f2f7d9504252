// kvmig diagnose end to end: the built CLI against the simulated cluster over HTTPS. For each
// failure scenario, the migration fails (from the scenario's history, or one started here), and
// the scenario's rule is the top finding, live and again offline from the --dump directory.
// Also: a healthy VM, kubectl's own -o yaml output as --from input, and malformed input.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { DiagnoseReport } from "../../src/diagnose/engine.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl, Kubectl } from "../helpers/kubectl.js";
import { simRequest } from "../helpers/sim.js";
import { cliEnv, ensureBuilt, lines, runKvmig } from "./built-cli.js";

beforeAll(ensureBuilt, 120_000);

const fixtures = fileURLToPath(new URL("../fixtures/diagnose-offline/", import.meta.url));

function kubeconfigFor(cluster: SimCluster): string {
  const path = join(tempDir(), "kubeconfig");
  writeFileSync(path, cluster.kubeconfig(), { mode: 0o600 });
  return path;
}

async function withCluster<T>(
  scenario: string,
  body: (cluster: SimCluster) => Promise<T>,
  speed = 1,
): Promise<T> {
  const cluster = await startSimCluster({ scenario, seed: 1, speed });
  try {
    return await body(cluster);
  } finally {
    await cluster.close();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON.
async function get(cluster: SimCluster, path: string): Promise<any> {
  const response = await simRequest(cluster, "GET", path);
  return response.json;
}

async function migrate(cluster: SimCluster, namespace: string, vm: string): Promise<void> {
  const response = await simRequest(
    cluster,
    "PUT",
    `/apis/subresources.kubevirt.io/v1/namespaces/${namespace}/virtualmachines/${vm}/migrate`,
    { body: {} },
  );
  expect([200, 202]).toContain(response.status);
}

/** Polls the cluster until `ready` holds; the test's own timeout bounds the wait. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 100));
}

function migrationsOf(cluster: SimCluster, namespace: string, vm: string) {
  return get(
    cluster,
    `/apis/kubevirt.io/v1/namespaces/${namespace}/virtualmachineinstancemigrations?labelSelector=kubevirt.io%2Fvmi-name%3D${vm}`,
  ).then(
    (list) =>
      (list?.items ?? []) as { metadata?: { creationTimestamp?: string }; status?: { phase?: string } }[],
  );
}

/**
 * The scenario's rule leads: it is the top finding, or it is the symptom the spec wants right
 * after its root cause (a backoff loop whose attempts all lost their connection), linked to it.
 */
function leader(report: DiagnoseReport, rule: string): string | undefined {
  // On a mismatch the assertion shows the whole order, with the links.
  const top = report.findings[0];
  if (!top || top.id === rule) return top?.id;
  const linked = report.findings.find((f) => f.id === rule && f.causedBy === top.id);
  return linked ? rule : report.findings.map((f) => (f.causedBy ? `${f.id}<-${f.causedBy}` : f.id)).join(" ");
}

interface Case {
  scenario: string;
  namespace: string;
  vm: string;
  rule: string;
  /** Makes the migration fail (or queue) when the scenario's history has not already. */
  provoke?: (cluster: SimCluster) => Promise<void>;
  /** Simulated seconds per wall second: faster, so that a migration started here ends soon. */
  speed?: number;
}

const cases: Case[] = [
  { scenario: "version-skew", namespace: "prod", vm: "orders-db", rule: "version-skew" },
  { scenario: "vif-cache", namespace: "telco", vm: "pbx-gateway", rule: "vif-cache-missing" },
  {
    scenario: "backoff-loop",
    namespace: "prod",
    vm: "erp-db",
    rule: "migration-backoff",
    // The evacuation controller creates the next attempt just after the cluster starts.
    provoke: (cluster) =>
      until(async () =>
        (await migrationsOf(cluster, "prod", "erp-db")).some(
          (m) => !["Failed", "Succeeded"].includes(m.status?.phase ?? ""),
        ),
      ),
  },
  { scenario: "unschedulable", namespace: "apps", vm: "pinned-app", rule: "target-pod-unschedulable" },
  { scenario: "not-converging", namespace: "data", vm: "busy-db", rule: "not-converging" },
  {
    scenario: "connection-lost",
    namespace: "shop",
    vm: "checkout",
    rule: "migration-connection-lost",
    speed: 10,
    provoke: async (cluster) => {
      await migrate(cluster, "shop", "checkout");
      await until(async () =>
        (await migrationsOf(cluster, "shop", "checkout")).some((m) => m.status?.phase === "Failed"),
      );
    },
  },
  {
    scenario: "cpu-mismatch",
    namespace: "erp",
    vm: "legacy-erp",
    rule: "cpu-model-mismatch",
    speed: 10,
    provoke: async (cluster) => {
      await migrate(cluster, "erp", "legacy-erp");
      // The target pod exists and the scheduler has said why it cannot place it.
      await until(async () => {
        const events = await get(cluster, "/api/v1/namespaces/erp/events");
        return (events?.items ?? []).some((e: { reason?: string }) => e.reason === "FailedScheduling");
      });
    },
  },
  {
    scenario: "queued",
    namespace: "batch",
    vm: "worker-3",
    rule: "migration-queued",
    provoke: async (cluster) => {
      // Three VMs on node-1 with one outbound slot per node: the third waits in Pending.
      for (const vm of ["worker-1", "worker-2", "worker-3"]) await migrate(cluster, "batch", vm);
      // Queued for longer than the few seconds virt-controller takes to start a migration.
      await until(async () => {
        const [m] = await migrationsOf(cluster, "batch", "worker-3");
        const since = Date.parse(m?.metadata?.creationTimestamp ?? "");
        return m?.status?.phase === "Pending" && cluster.time.now() - since > 12_000;
      });
    },
  },
];

describe("kvmig diagnose: the scenario's rule is the top finding, live and from the dump", () => {
  it.each(cases)(
    "$scenario: $rule for $namespace/$vm",
    async ({ scenario, namespace, vm, rule, provoke }) => {
      await withCluster(scenario, async (cluster) => {
        await provoke?.(cluster);
        const home = tempDir();
        const env = cliEnv(home, { KUBECONFIG: kubeconfigFor(cluster) });
        const dump = join(home, "evidence");
        const live = await runKvmig(["diagnose", vm, "-n", namespace, "--dump", dump, "-o", "json"], env);
        expect(live.stderr).not.toMatch(/\n\s+at /);
        const report = JSON.parse(live.stdout) as DiagnoseReport;
        expect(report.errors).toEqual([]);
        expect(leader(report, rule)).toBe(rule);
        expect(live.code).toBe(report.findings.some((f) => f.severity === "error") ? 7 : 0);

        const offline = await runKvmig(["diagnose", "--from", dump, "-o", "json"], cliEnv(home));
        const again = JSON.parse(offline.stdout) as DiagnoseReport;
        expect(again.findings.map((f) => f.id)).toEqual(report.findings.map((f) => f.id));
        expect(leader(again, rule)).toBe(rule);
        expect(offline.code).toBe(live.code);
      });
    },
    90_000,
  );
});

describe("kvmig diagnose, other cases", () => {
  it("a healthy VM: exit 0 and 'no problems found', with what was checked", async () => {
    const result = await runKvmig(["diagnose", "fedora-web", "--sim"], cliEnv(tempDir()));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = lines(result.stdout);
    expect(out[0]).toMatch(/^demo\/fedora-web: no problems found \(live cluster, at \S+\)$/);
    expect(out).toContain("  VM, VMI Running on node-1");
  }, 60_000);

  it("text output: findings with evidence and fix, and exit 7 with one error line", async () => {
    const result = await runKvmig(
      ["diagnose", "orders-db", "-n", "prod", "--sim=version-skew"],
      cliEnv(tempDir()),
    );
    expect(result.code).toBe(7);
    expect(result.stdout).toMatch(/^prod\/orders-db: \d+ problems? found \(live cluster, at \S+\)\n\nERROR /);
    expect(result.stdout).toMatch(/\n {2}Seen:\n/);
    expect(result.stdout).toMatch(/\n {2}Fix: /);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/^error: \d+ findings? at or above --fail-on error \(.+\)$/),
      "hint: each finding above says what to do; --fail-on never makes this exit 0",
    ]);
  }, 60_000);

  it("a VM that does not exist: exit 5 naming the VM and namespace", async () => {
    const result = await runKvmig(["diagnose", "nope", "--sim"], cliEnv(tempDir()));
    expect(result.code).toBe(5);
    expect(lines(result.stderr)).toEqual([
      'error: VirtualMachine "nope" not found in namespace "demo"',
      "hint: list the VMs with: kubectl --context sim-admin get vm,vmi -n demo",
    ]);
  }, 60_000);

  it("the dump holds no token of the cluster", async () => {
    await withCluster("version-skew", async (cluster) => {
      const token = cluster.token("sim-admin");
      // A token planted where a careless operator might put one.
      const patched = await simRequest(
        cluster,
        "PATCH",
        "/apis/kubevirt.io/v1/namespaces/prod/virtualmachines/orders-db",
        {
          contentType: "application/merge-patch+json",
          body: { metadata: { annotations: { "example.com/deploy-token": token } } },
        },
      );
      expect(patched.status).toBe(200);
      const home = tempDir();
      const dump = join(home, "evidence");
      const result = await runKvmig(
        ["diagnose", "orders-db", "-n", "prod", "--dump", dump, "--fail-on", "never", "-o", "json"],
        cliEnv(home, { KUBECONFIG: kubeconfigFor(cluster) }),
      );
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/^wrote \d+ files to .+evidence \(secrets and tokens left out\)$/m);
      // -e: a random token may begin with "-", which grep would read as an option.
      const grep = await import("node:child_process").then(({ spawnSync }) =>
        spawnSync("grep", ["-r", "-l", "-F", "-e", token, dump], { encoding: "utf8" }),
      );
      expect(grep.stdout).toBe("");
      expect(grep.status).toBe(1);
      expect(readFileSync(join(dump, "virtualmachines.yaml"), "utf8")).toMatch(
        /example\.com\/deploy-token: <redacted by kvmig>/,
      );
    });
  }, 60_000);

  it("--dump into a directory holding another VM's dump is refused before anything is read (exit 2); the dump stays whole", async () => {
    await withCluster("default", async (cluster) => {
      const home = tempDir();
      const dump = join(home, "evidence");
      const env = cliEnv(home, { KUBECONFIG: kubeconfigFor(cluster) });
      const first = await runKvmig(["diagnose", "fedora-web", "-n", "demo", "--dump", dump], env);
      expect(first.code).toBe(0);
      const before = readFileSync(join(dump, "snapshot.yaml"), "utf8");
      const second = await runKvmig(["diagnose", "cirros-test", "-n", "demo", "--dump", dump], env);
      expect(second.code).toBe(2);
      expect(second.stdout).toBe("");
      expect(lines(second.stderr)).toEqual([
        `error: --dump directory "${dump}" already holds the dump of demo/fedora-web`,
        `hint: name a new or empty directory (such as ${join(home, "demo-cirros-test-evidence")}): diagnose --from reads every file under it, so two VMs' dumps would mix`,
      ]);
      expect(readFileSync(join(dump, "snapshot.yaml"), "utf8")).toBe(before);
      // --from still reads one VM.
      const offline = await runKvmig(["diagnose", "--from", dump, "-o", "json"], cliEnv(home));
      expect(offline.code).toBe(0);
    });
  }, 60_000);

  const kubectl = findKubectl();
  it.skipIf(kubectl === undefined)(
    "kubectl get vmim,vmi,pods,events -o yaml > dump.yaml is accepted by --from",
    async () => {
      await withCluster("version-skew", async (cluster) => {
        const k = new Kubectl(kubectl ?? "kubectl", cluster);
        const yaml = await k.ok(["get", "vmim,vmi,pods,events", "-n", "prod", "-o", "yaml"]);
        const dir = join(tempDir(), "from-kubectl");
        mkdirSync(dir);
        writeFileSync(join(dir, "dump.yaml"), yaml);
        const result = await runKvmig(
          ["diagnose", "orders-db", "--from", dir, "-o", "json"],
          cliEnv(tempDir()),
        );
        expect(result.stderr).not.toMatch(/\n\s+at /);
        const report = JSON.parse(result.stdout) as DiagnoseReport;
        expect(report.errors).toEqual([]);
        expect(report.status).toBe("ProblemsFound");
        expect(result.code).toBe(7);
        // Several VMs in the file and no name: a usage error that lists them.
        const unnamed = await runKvmig(["diagnose", "--from", dir], cliEnv(tempDir()));
        expect(unnamed.code).toBe(2);
        expect(lines(unnamed.stderr)[0]).toMatch(
          /^error: ".+" holds \d+ VMs: prod\/api-gateway, .*prod\/orders-db.*; name the one to diagnose$/,
        );
      });
    },
    60_000,
  );

  it("malformed input: truncated YAML, binary files, unknown kinds, objects without status", async () => {
    const dir = join(tempDir(), "bad");
    cpSync(join(fixtures, "malformed"), dir, { recursive: true });
    const result = await runKvmig(["diagnose", "--from", dir], cliEnv(tempDir()));
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect([0, 7]).toContain(result.code);
    expect(result.stdout).toMatch(/^lab\/lonely: /);
    expect(result.stdout).toMatch(/\n {2}file truncated\.yaml: not valid YAML or JSON: .+\n/);
    expect(result.stdout).toMatch(/\n {2}file core\.json: not a text file, or unreadable\n/);
  }, 60_000);

  it("an empty directory: a usage error (exit 2), one line and a hint", async () => {
    const dir = tempDir();
    const result = await runKvmig(["diagnose", "--from", dir], cliEnv(tempDir()));
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      `error: directory "${dir}" is empty`,
      "hint: save the evidence first, e.g. kubectl get vm,vmi,vmim,pods,events -n NS -o yaml > DIR/objects.yaml",
    ]);
    expect(result.stdout).toBe("");
  }, 60_000);
});
