// Will it converge? The forecast through the built CLI against the simulated cluster: the warning
// well before KubeVirt aborts busy-db, the JSON's forecast, the suggested MigrationPolicy applied
// with the real kubectl and the next migration succeeding, fedora-web and batch-worker forecast
// to converge, and the pre-flight's forecast with the dirty rate read from Prometheus.
import { afterEach, describe, expect, it } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
import { findKubectl, Kubectl } from "../helpers/kubectl.js";
import { schemaErrors } from "../helpers/schemas.js";
import { type SimCli, simCli } from "./sim-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: the JSON documents are checked against their schema.
type Any = any;

let sim: SimCli | undefined;
let kubectl: Kubectl | undefined;
afterEach(async () => {
  await kubectl?.close();
  kubectl = undefined;
  await sim?.close();
  sim = undefined;
});

const lines = (text: string) => text.split("\n");

/** Resolves once `test` holds, checking every 20 ms of wall time. */
async function until<T>(test: () => T | undefined, timeoutMs: number): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = test();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const binary = findKubectl();

describe("the forecast on not-converging", () => {
  it("busy-db: the warning names the cause, the timeout and the fixes at least a simulated minute before KubeVirt aborts it (exit 3)", async () => {
    sim = await simCli({ speed: 100, scenario: "not-converging" });
    const cluster = sim.cluster;
    const running = sim.start(["migrate", "busy-db", "-n", "data"]);
    await until(() => running.stderr().includes("will not converge:"), 30_000);
    const warnedAt = cluster.time.now();
    const vmi = (cluster.store.list(R.vmi.storage, "data") as Any[]).find(
      (v) => v.metadata.name === "busy-db",
    );
    const started = Date.parse(vmi.status.migrationState.startTimestamp);
    // KubeVirt aborts it 1350 s (150 s × 9 units of 10^9 bytes) after it started.
    expect(warnedAt).toBeLessThanOrEqual(started + (1350 - 60) * 1000);
    expect(await running.exited).toBe(3);
    const err = lines(running.stderr());
    const warning = err.find((l) => l.startsWith("  warning   will not converge: "));
    expect(warning).toMatch(
      /^ {2}warning {3}will not converge: the guest dirties \d+ MiB\/s, at least the \d+ MiB\/s sent, so each pass leaves as much to copy again; KubeVirt aborts it at the completion timeout \(completionTimeoutPerGiB 150 s per 10\^9 bytes\) in about \d+m/,
    );
    const fixes = err.filter((l) => /^ {14}\d\. /.test(l));
    expect(fixes[0]).toMatch(
      /^ {14}1\. raise bandwidthPerMigration for this VM from 64 MiB\/s to \d+Mi \(twice its dirty rate\): converges in about \d+s/,
    );
    expect(fixes.map((l) => l.trim().split(" ")[1])).toEqual([
      "raise",
      "allowPostCopy:",
      "a",
      "allowAutoConverge:",
    ]);
    expect(err).toContain("              kubectl apply -f - <<'EOF'");
    expect(err).toContain("                name: kvmig-busy-db");
    // Told once, not at every sample.
    expect(err.filter((l) => l.includes("will not converge:"))).toHaveLength(1);
    expect(running.stdout()).toContain("Failed  data/busy-db stays on node-1");
  }, 60_000);

  it.skipIf(!binary)(
    "busy-db -o json: forecast.converging false with the reason and advice; the first advice's policy applied with kubectl, the next migration succeeds",
    async () => {
      sim = await simCli({ speed: 100, scenario: "not-converging" });
      const failed = await sim.run(["migrate", "busy-db", "-n", "data", "-o", "json"], 60_000);
      expect(failed.code).toBe(3);
      const doc = JSON.parse(failed.stdout);
      expect(schemaErrors("migration.schema.json", doc)).toBe("");
      expect(doc.phase).toBe("Failed");
      expect(doc.forecast).toMatchObject({
        converging: false,
        confidence: "high",
        endsBy: "completion-timeout",
        etaSeconds: null,
      });
      expect(doc.forecast.reason).toMatch(/^the guest dirties \d+ MiB\/s, at least the \d+ MiB\/s sent/);
      expect(doc.forecast.advice.map((a: Any) => a.action)).toEqual([
        "bandwidth",
        "post-copy",
        "network",
        "auto-converge",
      ]);
      const [top] = doc.forecast.advice;
      expect(top).toMatchObject({ converges: true, completes: true });
      expect(top.yaml).toMatch(/^apiVersion: migrations\.kubevirt\.io\/v1alpha1\nkind: MigrationPolicy\n/);

      kubectl = new Kubectl(binary as string, sim.cluster);
      const applied = await kubectl.ok(["apply", "-f", kubectl.writeFile(top.yaml)]);
      expect(applied.trim()).toBe("migrationpolicy.migrations.kubevirt.io/kvmig-busy-db created");

      const again = await sim.run(["migrate", "busy-db", "-n", "data", "-o", "json"], 60_000);
      expect(again.code).toBe(0);
      const ok = JSON.parse(again.stdout);
      expect(ok.phase).toBe("Succeeded");
      expect(ok.forecast).toMatchObject({ converging: true, advice: [] });
      // KubeVirt applied the new policy at hand-off: it outranks the namespace's others.
      const state = sim.vmi("data", "busy-db").status.migrationState;
      expect(state.migrationPolicyName).toBe("kvmig-busy-db");
      expect(state.migrationConfiguration.bandwidthPerMigration).toBe(
        String(
          Number.parseInt(/bandwidthPerMigration: "(\d+)Mi"/.exec(top.yaml)?.[1] ?? "0", 10) * 1024 * 1024,
        ),
      );
    },
    120_000,
  );

  it("batch-worker (its policy allows auto-converge) is forecast to converge, and does", async () => {
    sim = await simCli({ speed: 20, scenario: "not-converging" });
    const result = await sim.run(["migrate", "batch-worker", "-n", "data", "-o", "json"], 60_000);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(schemaErrors("migration.schema.json", doc)).toBe("");
    expect(doc.forecast).toMatchObject({ converging: true, endsBy: "switch-over", advice: [] });
    expect(typeof doc.forecast.etaSeconds).toBe("number");
  }, 60_000);

  it("--prometheus-url: the pre-flight forecast names the dirty rate it read, and says it will not converge", async () => {
    sim = await simCli({ speed: 10, scenario: "not-converging", prometheus: true });
    const url = sim.cluster.prometheus?.url as string;
    const result = await sim.run(["migrate", "busy-db", "-n", "data", "--dry-run", "--prometheus-url", url]);
    expect(result.code).toBe(0);
    const err = lines(result.stderr);
    expect(err).toContain(
      "  warning  forecast: will not converge: dirty rate 200 MiB/s (kubevirt_vmi_dirty_rate_bytes_per_second), 64 MiB/s sent; KubeVirt aborts it at the completion timeout (completionTimeoutPerGiB 150 s per 10^9 bytes) in about 22m30s",
    );
    expect(err).toContain(
      "           most effective: raise bandwidthPerMigration for this VM from 64 MiB/s to 400Mi (twice its dirty rate): converges in about 40s, if the network carries it",
    );
    const quiet = await sim.run(["migrate", "quiet-web", "-n", "data", "--dry-run", "--prometheus-url", url]);
    expect(lines(quiet.stderr)).toContain(
      "  ok       forecast: about 38s; dirty rate 10 MiB/s (kubevirt_vmi_dirty_rate_bytes_per_second), 64 MiB/s sent",
    );
    const without = await sim.run(["migrate", "quiet-web", "-n", "data", "--dry-run"]);
    expect(lines(without.stderr)).toContain(
      "  ok       forecast: at least 32s; dirty rate unknown (--prometheus-url reads it from KubeVirt's metrics), 64 MiB/s sent",
    );
  }, 30_000);
});

describe("the forecast on default", () => {
  it("fedora-web: forecast.converging true with etaSeconds, no warning (text and JSON)", async () => {
    sim = await simCli({ speed: 2 });
    const result = await sim.run(["migrate", "fedora-web", "-n", "demo", "-o", "json"], 60_000);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(schemaErrors("migration.schema.json", doc)).toBe("");
    expect(doc.forecast).toMatchObject({ converging: true, endsBy: "switch-over", advice: [] });
    expect(doc.forecast.etaSeconds).toBeGreaterThanOrEqual(0);
    const text = await sim.run(["migrate", "fedora-web", "-n", "demo"], 60_000);
    expect(text.code).toBe(0);
    expect(text.stderr).not.toContain("will not converge");
    expect(text.stderr).toMatch(
      / {2}ok {7}forecast: duration unknown; dirty rate unknown \(--prometheus-url reads it from KubeVirt's metrics\), rate unknown/,
    );
  }, 60_000);
});
