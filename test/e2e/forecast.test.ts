// Will it converge? The forecast through the built CLI against the simulated cluster: the warning
// well before KubeVirt aborts busy-db, the JSON's forecast, the suggested MigrationPolicy applied
// with the real kubectl and the next migration succeeding, fedora-web and batch-worker forecast
// to converge, and the pre-flight's forecast with the dirty rate read from Prometheus.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { policyYaml, suggestedBandwidth } from "../../src/migration/forecast.js";
import { forecastSubject } from "../../src/migration/forecast-subject.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { tempDir } from "../helpers/kubeconfig.js";
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
    // The here-document at the margin: a copied block runs (the shell ends it only at "EOF").
    expect(err).toContain("  name: kvmig-busy-db");
    expect(err).toContain("EOF");
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

describe("kvmig diagnose after busy-db's migration failed: the same model and the same policy", () => {
  it("not-converging says what the samples showed and which timeout ends it; its fix applies the policy migrate advised, the one policyYaml writes for busy-db (live, text, and from the dump)", async () => {
    sim = await simCli({ speed: 100, scenario: "not-converging" });
    const failed = await sim.run(["migrate", "busy-db", "-n", "data", "-o", "json"], 60_000);
    expect(failed.code).toBe(3);
    const { forecast } = JSON.parse(failed.stdout);
    const [top] = forecast.advice;
    expect(top.action).toBe("bandwidth");

    const dump = join(tempDir(), "evidence");
    const live = await sim.run(["diagnose", "busy-db", "-n", "data", "--dump", dump, "-o", "json"]);
    expect(live.code).toBe(7);
    const [finding] = JSON.parse(live.stdout).findings;
    expect(finding.id).toBe("not-converging");
    // 200 MiB/s dirtied over the 64 MiB/s cap; 8 GiB = 9 units of 10^9 bytes × 150 s = 1350 s into the
    // copy, when the monitor aborted it.
    expect(finding.summary).toMatch(
      /\(not completed within 1350 seconds\).* kvmig's forecast model, from the \d+ progress lines of this migration: the guest dirtied (19\d|20\d) MiB\/s, at least the 6\d MiB\/s sent, and the remaining data at the start of iterations \d+, \d+ and \d+ \(\d+, \d+ and \d+ MiB\) did not shrink: pre-copy could not converge, and at that pace KubeVirt's completion timeout ends it 1350 s into the copy \(completionTimeoutPerGiB 150 s × 9 started units of 10\^9 bytes\)\. It ended 135\d s into the copy, at \S+Z\./,
    );
    // The policy migrate's forecast advised, to the byte.
    expect(finding.fix.commands).toEqual([
      `kubectl apply -f - <<'EOF'\n${top.yaml}EOF`,
      "kvmig migrate busy-db -n data",
    ]);
    // ... which is policyYaml's for busy-db, its settings resolved from the cluster's objects.
    const vmi = sim.vmi("data", "busy-db");
    const subject = forecastSubject(
      { namespace: "data", vmName: "busy-db", migrationUid: vmi.status.migrationState.migrationUid },
      vmi,
      {
        kubevirt: sim.cluster.store.list(R.kubevirt.storage)[0] as Any,
        policies: sim.cluster.store.list(R.policy.storage) as Any[],
        namespaceLabels: { team: "data", "kubernetes.io/metadata.name": "data" },
      },
    );
    const quantity = `${suggestedBandwidth(forecast.dirtyRateBytesPerSecond) / (1024 * 1024)}Mi`;
    expect(top.yaml).toBe(policyYaml(subject, { bandwidthPerMigration: quantity }));
    expect(top.yaml).toContain(
      '    virtualMachineInstanceSelector:\n      app: "db"\n      kubevirt.io/vm: "busy-db"\n',
    );
    // The advice in migrate's words and order.
    expect(finding.fix.explanation.split("\n")).toEqual([
      "what would make it converge, most effective first:",
      ...forecast.advice.map(
        (a: Any, i: number) => `  ${i + 1}. ${a.text}${a.risk ? ` (risk: ${a.risk})` : ""}`,
      ),
      "for the next migration of this VM (KubeVirt applies a policy when a migration starts):",
    ]);

    // The text form: the list under the fix, the here-document ready to copy.
    const text = await sim.run(["diagnose", "busy-db", "-n", "data"]);
    const out = lines(text.stdout);
    expect(out).toContain(`      1. ${top.text}`);
    const apply = out.indexOf("    kubectl apply -f - <<'EOF'");
    expect(out.slice(apply + 1, apply + 2 + lines(top.yaml.trimEnd()).length)).toEqual([
      ...lines(top.yaml.trimEnd()),
      "EOF",
    ]);

    // From the dump, offline: the same conclusion and the same fix.
    const offline = await sim.run(["diagnose", "--from", dump, "-o", "json"]);
    const [again] = JSON.parse(offline.stdout).findings;
    expect(again.summary).toBe(finding.summary);
    expect(again.fix).toEqual(finding.fix);
  }, 120_000);
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
