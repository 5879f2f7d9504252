// A failing `kvmig migrate` on each failure scenario: exit 3, the scenario's rule as the top
// finding inline, and the same rule on top through `kvmig diagnose` live and again offline from
// its --dump directory.
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DiagnoseReport } from "../../src/diagnose/engine.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { cliEnv, ensureBuilt } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** The rule leads: first, or right after the root cause it names. */
function leads(findings: { id: string; causedBy?: string | undefined }[], rule: string): boolean {
  const [top] = findings;
  return top?.id === rule || findings.some((f) => f.id === rule && f.causedBy === top?.id);
}

function order(findings: { id: string; causedBy?: string | undefined }[]): string {
  return findings.map((f) => (f.causedBy ? `${f.id}<-${f.causedBy}` : f.id)).join(" ");
}

const cases = [
  {
    scenario: "version-skew",
    namespace: "prod",
    vm: "orders-db",
    rule: "version-skew",
    reason: /client socket is closed/,
  },
  {
    scenario: "vif-cache",
    namespace: "telco",
    vm: "pbx-gateway",
    rule: "vif-cache-missing",
    // The target launcher died before the migration started: virt-controller closes the VMI's
    // record with "Target pod is down" (migration.go handleMarkMigrationFailedOnVMI).
    reason: /^Target pod is down$/,
  },
  {
    scenario: "connection-lost",
    namespace: "shop",
    vm: "checkout",
    rule: "migration-connection-lost",
    reason: /client socket is closed/,
  },
  {
    scenario: "unschedulable",
    namespace: "apps",
    vm: "pinned-app",
    rule: "target-pod-unschedulable",
    reason: /target pod/i,
  },
  { scenario: "not-converging", namespace: "data", vm: "busy-db", rule: "not-converging", reason: /aborted/ },
  // The evacuation keeps recreating migrations: kvmig follows the one in flight to its failure.
  { scenario: "backoff-loop", namespace: "prod", vm: "erp-db", rule: "migration-backoff", reason: /./ },
  {
    scenario: "cpu-mismatch",
    namespace: "erp",
    vm: "legacy-erp",
    rule: "cpu-model-mismatch",
    reason: /target pod/i,
  },
];

describe("a failing kvmig migrate, then kvmig diagnose", () => {
  it.each(cases)(
    "$scenario: exit 3 and $rule on top, inline, live and from the dump",
    async ({ scenario, namespace, vm, rule, reason }) => {
      sim = await simCli({ scenario, speed: 50, seed: 1 });
      // --force: the pre-flight refuses the unschedulable and cpu-mismatch VMs (no node can take
      // them), and the point here is the failure KubeVirt then reports.
      const migrate = await sim.run(["migrate", vm, "-n", namespace, "-o", "json", "--force"], 60_000);
      expect(migrate.stderr).toMatch(/^error: migration \S+ failed: /m);
      expect(migrate.stderr).toContain(`hint: find out why with: kvmig diagnose ${vm} -n ${namespace}`);
      expect(migrate.code).toBe(3);
      const result = JSON.parse(migrate.stdout);
      expect(result.phase).toBe("Failed");
      expect(result.failureReason).toMatch(reason);
      expect(order(result.findings)).toContain(rule);
      expect(leads(result.findings, rule), order(result.findings)).toBe(true);

      const home = tempDir();
      const dump = join(home, "evidence");
      const live = await sim.run(["diagnose", vm, "-n", namespace, "--dump", dump, "-o", "json"]);
      const report = JSON.parse(live.stdout) as DiagnoseReport;
      expect(report.errors).toEqual([]);
      expect(leads(report.findings, rule), order(report.findings)).toBe(true);
      const failing = report.findings.some((f) => f.severity === "error");
      expect(live.code).toBe(failing ? 7 : 0);

      const offline = await sim.run(["diagnose", "--from", dump, "-o", "json"]);
      const again = JSON.parse(offline.stdout) as DiagnoseReport;
      expect(again.findings.map((f) => f.id)).toEqual(report.findings.map((f) => f.id));
      expect(offline.code).toBe(failing ? 7 : 0);
      expect(cliEnv(home).HOME).toBe(home);
    },
    90_000,
  );
});
