// The convergence model (src/migration/forecast.ts): each term against cases computed by hand
// from QEMU's and KubeVirt's rules (docs/forecast.md), then the forecast from the simulated
// launcher's own progress lines.
import { describe, expect, it } from "vitest";
import type { MigrationPolicy, VirtualMachineInstance } from "../../src/k8s/types.js";
import {
  adviseFor,
  completionTimeoutSeconds,
  convergenceSigns,
  defaultSettings,
  type ForecastSubject,
  forecastMigration,
  type MigrationSettings,
  matchPolicy,
  policyLabelOf,
  policyName,
  policyYaml,
  project,
  resolveSettings,
  suggestedBandwidth,
} from "../../src/migration/forecast.js";
import { applyPolicyCommand } from "../../src/migration/forecast-text.js";
import type { MigrationProgress } from "../../src/migration/progress-line.js";
import { parseMigrationInfo } from "../../src/migration/progress-line.js";
import { LauncherMonitor, launcherRelease } from "../../src/sim/launcher-monitor.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const settings = (over: Partial<MigrationSettings> = {}): MigrationSettings => ({
  ...defaultSettings,
  ...over,
});

describe("the completion timeout", () => {
  it("is completionTimeoutPerGiB × the size in started units of 10^9 bytes", () => {
    // 8 GiB = 8.59e9 bytes: 9 units × 150 s.
    expect(completionTimeoutSeconds(settings(), 8 * GiB)).toBe(1350);
    expect(completionTimeoutSeconds(settings({ completionTimeoutPerGiB: 10 }), 1e9)).toBe(10);
    expect(completionTimeoutSeconds(settings(), 1)).toBe(150);
    expect(completionTimeoutSeconds(settings({ completionTimeoutPerGiB: 0 }), GiB)).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});

describe("pre-copy, pass by pass", () => {
  it("converges when each pass's dirtying fits under the switch-over threshold: 1 GiB at 100 MiB/s, dirty 10 MiB/s", () => {
    // Pass 1: 10.24 s, dirties 102.4 MiB; threshold 100 MiB/s × 0.9 s = 90 MiB: one more pass.
    // Pass 2: 1.024 s, dirties 10.24 MiB < 90 MiB: stop-and-copy of 0.1024 s.
    const p = project({ memoryBytes: GiB, rate: 100 * MiB, dirtyRate: 10 * MiB, settings: settings() });
    expect(p.ending).toBe("switch-over");
    expect(p.passes).toBe(2);
    expect(p.endsAtSeconds).toBeCloseTo(10.24 + 1.024 + 0.1024, 6);
    expect(p.downtimeMs).toBeCloseTo(102.4, 6);
  });

  it("a dirty rate at or above the rate refills every pass: aborted at the completion timeout", () => {
    const p = project({ memoryBytes: 8 * GiB, rate: 64 * MiB, dirtyRate: 200 * MiB, settings: settings() });
    expect(p).toMatchObject({ ending: "completion-timeout", endsAtSeconds: 1350, downtimeMs: undefined });
    // 128 s passes: the 11th crosses 1350 s.
    expect(p.passes).toBe(11);
  });

  it("with allowWorkloadDisruption and allowPostCopy it switches to post-copy at the timeout and completes", () => {
    const p = project({
      memoryBytes: 8 * GiB,
      rate: 64 * MiB,
      dirtyRate: 200 * MiB,
      settings: settings({ allowPostCopy: true, allowWorkloadDisruption: true }),
    });
    expect(p.ending).toBe("post-copy");
    // At 1350 s the 11th pass has sent 70 s of 128 s and 8 GiB is dirty again: all 8 GiB pending.
    expect(p.endsAtSeconds).toBeCloseTo(1350 + 128, 6);
    // Device state (1 MiB) and the bitmap of missing pages (8 GiB / 32768 = 256 KiB) at 64 MiB/s.
    expect(p.downtimeMs).toBeCloseTo(((MiB + 256 * 1024) / (64 * MiB)) * 1000, 6);
  });

  it("VFIO devices cannot post-copy: the guest is paused instead; without disruption, the abort", () => {
    const base = { memoryBytes: 8 * GiB, rate: 64 * MiB, dirtyRate: 200 * MiB };
    const paused = project({
      ...base,
      settings: settings({ allowPostCopy: true, allowWorkloadDisruption: true }),
      noPostCopy: true,
    });
    expect(paused.ending).toBe("paused");
    expect(paused.downtimeMs).toBeCloseTo(128_000, 3);
    const aborted = project({
      ...base,
      settings: settings({ allowPostCopy: true, allowWorkloadDisruption: false }),
    });
    expect(aborted.ending).toBe("completion-timeout");
  });

  it("a paused guest that cannot send its memory within twice the time is aborted then", () => {
    const p = project({
      memoryBytes: 8 * GiB,
      rate: 1 * MiB,
      dirtyRate: 200 * MiB,
      settings: settings({ completionTimeoutPerGiB: 10, allowWorkloadDisruption: true }),
    });
    expect(p).toMatchObject({ ending: "completion-timeout", endsAtSeconds: 180 });
  });

  it("nothing sent: the progress timeout ends it", () => {
    const p = project({
      memoryBytes: GiB,
      rate: 0,
      dirtyRate: 0,
      settings: settings({ progressTimeout: 150 }),
    });
    expect(p).toMatchObject({ ending: "progress-timeout", endsAtSeconds: 150 });
  });

  it("no completion timeout and no convergence: it never ends", () => {
    const p = project({
      memoryBytes: GiB,
      rate: 10 * MiB,
      dirtyRate: 20 * MiB,
      settings: settings({ completionTimeoutPerGiB: 0 }),
    });
    expect(p.ending).toBe("never");
  });

  it("auto-converge raises the throttle 20, 30, ... at every second high period, and the throttled guest converges", () => {
    // 1 GiB at 64 MiB/s (16 s passes), dirty 100 MiB/s: every pass is high (dirtied > half the sent).
    const p = project({
      memoryBytes: GiB,
      rate: 64 * MiB,
      dirtyRate: 100 * MiB,
      settings: settings({ allowAutoConverge: true }),
    });
    expect(p.ending).toBe("switch-over");
    // The throttle only ever takes QEMU's steps.
    expect([20, 30, 40, 50, 60, 70, 80, 90, 99]).toContain(p.throttlePercent);
    const without = project({ memoryBytes: GiB, rate: 64 * MiB, dirtyRate: 100 * MiB, settings: settings() });
    expect(without.ending).toBe("completion-timeout");
  });

  it("the first throttle step comes after two high periods: 20% then 30%", () => {
    // Passes of exactly 16 s: after pass 2 the throttle is 20%, after pass 4 30%.
    const two = project({
      memoryBytes: GiB,
      rate: 64 * MiB,
      dirtyRate: 10_000 * MiB,
      settings: settings({ allowAutoConverge: true, completionTimeoutPerGiB: 33 }),
    });
    // 2 units × 33 s = 66 s: four whole passes (64 s), the fifth crosses the timeout.
    expect(two).toMatchObject({ ending: "completion-timeout", passes: 5, throttlePercent: 30 });
  });

  it("starts where the copy stands: the rest of this pass at its own drain rate", () => {
    const p = project({
      memoryBytes: GiB,
      rate: 100 * MiB,
      dirtyRate: 10 * MiB,
      settings: settings(),
      elapsedSeconds: 5,
      passBytes: GiB,
      remainingBytes: 512 * MiB,
      drainRate: 128 * MiB,
    });
    // 4 s more of pass 1, which took 8 s in all and dirtied 80 MiB < 90 MiB: stop-and-copy 0.8 s.
    expect(p.ending).toBe("switch-over");
    expect(p.endsAtSeconds).toBeCloseTo(5 + 4 + 0.8, 6);
  });
});

describe("the settings KubeVirt uses", () => {
  const policy = (name: string, spec: MigrationPolicy["spec"]): MigrationPolicy => ({
    apiVersion: "migrations.kubevirt.io/v1alpha1",
    kind: "MigrationPolicy",
    metadata: { name },
    spec,
  });

  it("the policy with the most matched labels wins, then the most VMI labels, then the smallest name", () => {
    const ns = { team: "data", "kubernetes.io/metadata.name": "data" };
    const vmi = { app: "db", tier: "gold" };
    const a = policy("a", { selectors: { virtualMachineInstanceSelector: { app: "db" } } });
    const b = policy("b", {
      selectors: { namespaceSelector: { team: "data" }, virtualMachineInstanceSelector: { app: "db" } },
    });
    const c = policy("c", { selectors: { virtualMachineInstanceSelector: { app: "db", tier: "gold" } } });
    const miss = policy("0", { selectors: { virtualMachineInstanceSelector: { app: "web" } } });
    expect(matchPolicy([a, b, miss], ns, vmi)?.metadata.name).toBe("b");
    // b and c both match two labels: c has more VMI labels.
    expect(matchPolicy([a, b, c], ns, vmi)?.metadata.name).toBe("c");
    const c2 = policy("b9", { selectors: { virtualMachineInstanceSelector: { app: "db", tier: "gold" } } });
    expect(matchPolicy([c, c2], ns, vmi)?.metadata.name).toBe("b9");
    expect(matchPolicy([miss], ns, vmi)).toBeUndefined();
  });

  it("the KubeVirt CR's settings, the policy's over them; allowWorkloadDisruption follows allowPostCopy", () => {
    const s = resolveSettings({
      kubevirt: {
        apiVersion: "kubevirt.io/v1",
        kind: "KubeVirt",
        metadata: { name: "kubevirt" },
        spec: { configuration: { migrations: { bandwidthPerMigration: "64Mi", progressTimeout: 100 } } },
      },
      policies: [
        policy("p", { selectors: { virtualMachineInstanceSelector: { app: "db" } }, allowPostCopy: true }),
      ],
      vmi: { metadata: { name: "v", labels: { app: "db" } } } as unknown as VirtualMachineInstance,
    });
    expect(s).toMatchObject({
      bandwidthPerMigration: 64 * MiB,
      progressTimeout: 100,
      completionTimeoutPerGiB: 150,
      allowPostCopy: true,
      allowWorkloadDisruption: true,
    });
    expect(s.policy?.metadata.name).toBe("p");
  });

  it("once KubeVirt resolved them for this migration, the VMI's migrationConfiguration", () => {
    const vmi = {
      metadata: { name: "v" },
      status: {
        migrationState: {
          migrationUid: "u1",
          migrationConfiguration: {
            bandwidthPerMigration: "0",
            allowAutoConverge: true,
            completionTimeoutPerGiB: 20,
          },
        },
      },
    } as unknown as VirtualMachineInstance;
    expect(resolveSettings({ vmi, migrationUid: "u1" })).toMatchObject({
      bandwidthPerMigration: 0,
      allowAutoConverge: true,
      completionTimeoutPerGiB: 20,
    });
    // Another migration's record says nothing about this one.
    expect(resolveSettings({ vmi, migrationUid: "u2" }).allowAutoConverge).toBe(false);
  });
});

const busyDb: ForecastSubject = {
  namespace: "data",
  vmName: "busy-db",
  memoryBytes: 8 * GiB,
  labels: { app: "db", "kubevirt.io/vm": "busy-db", "kubevirt.io/nodeName": "node-1" },
  settings: settings({ bandwidthPerMigration: 64 * MiB }),
};

describe("advice", () => {
  it("twice the dirty rate, rounded up to 50 MiB/s (10 below 100)", () => {
    expect(suggestedBandwidth(200 * MiB)).toBe(400 * MiB);
    expect(suggestedBandwidth(204 * MiB)).toBe(450 * MiB);
    expect(suggestedBandwidth(30 * MiB)).toBe(60 * MiB);
    expect(suggestedBandwidth(0)).toBe(10 * MiB);
  });

  it("busy-db: the bandwidth first (it converges), then post-copy (it completes), the network, auto-converge (too slow)", () => {
    const advice = adviseFor(busyDb, { rate: 64 * MiB, dirtyRate: 200 * MiB, memory: 8 * GiB });
    expect(advice.map((a) => a.action)).toEqual(["bandwidth", "post-copy", "network", "auto-converge"]);
    expect(advice[0]).toMatchObject({ converges: true, completes: true });
    expect(advice[1]).toMatchObject({ converges: false, completes: true, etaSeconds: 1350 + 128 });
    expect(advice[1]?.risk).toContain("the VM is lost");
    expect(advice[3]).toMatchObject({ converges: false, etaSeconds: null });
  });

  it("what is already on is not offered; VFIO rules out post-copy", () => {
    const advice = adviseFor(
      {
        ...busyDb,
        vfio: true,
        settings: settings({ bandwidthPerMigration: 0, allowAutoConverge: true, network: "migration" }),
      },
      { rate: 64 * MiB, dirtyRate: 200 * MiB, memory: 8 * GiB },
    );
    expect(advice).toEqual([]);
  });

  it("the policy YAML selects this VM by namespace and stable labels, keeping the current policy's settings", () => {
    const yaml = policyYaml(
      {
        ...busyDb,
        settings: settings({
          policy: {
            apiVersion: "migrations.kubevirt.io/v1alpha1",
            kind: "MigrationPolicy",
            metadata: { name: "db" },
            spec: {
              selectors: { virtualMachineInstanceSelector: { app: "db" } },
              completionTimeoutPerGiB: 200,
            },
          },
        }),
      },
      { bandwidthPerMigration: "400Mi" },
    );
    expect(yaml).toBe(
      [
        "apiVersion: migrations.kubevirt.io/v1alpha1",
        "kind: MigrationPolicy",
        "metadata:",
        "  name: kvmig-busy-db",
        "spec:",
        "  selectors:",
        "    namespaceSelector:",
        '      kubernetes.io/metadata.name: "data"',
        "    virtualMachineInstanceSelector:",
        '      app: "db"',
        '      kubevirt.io/vm: "busy-db"',
        '  bandwidthPerMigration: "400Mi"',
        "  completionTimeoutPerGiB: 200",
        "",
      ].join("\n"),
    );
    expect(policyName("My_VM.1")).toBe("kvmig-my-vm-1");
    expect(policyLabelOf(busyDb)).toBeUndefined();
  });

  it("a VMI with no label of its own to select it by gets kvmig's first, never a namespace-wide policy", () => {
    const bare = { ...busyDb, labels: { "kubevirt.io/nodeName": "node-1" } };
    const label = policyLabelOf(bare);
    expect(label).toEqual({
      namespace: "data",
      vmi: "busy-db",
      key: "kvmig.io/migration-policy",
      value: "kvmig-busy-db",
    });
    const yaml = policyYaml(bare, { allowAutoConverge: true });
    expect(yaml.split("\n").slice(5, 10)).toEqual([
      "  selectors:",
      "    namespaceSelector:",
      '      kubernetes.io/metadata.name: "data"',
      "    virtualMachineInstanceSelector:",
      '      kvmig.io/migration-policy: "kvmig-busy-db"',
    ]);
    expect(applyPolicyCommand(yaml, label).split("\n")[0]).toBe(
      "kubectl label vmi busy-db -n data kvmig.io/migration-policy=kvmig-busy-db --overwrite && kubectl apply -f - <<'EOF'",
    );
    expect(applyPolicyCommand(yaml).split("\n")[0]).toBe("kubectl apply -f - <<'EOF'");
    const advice = adviseFor(bare, { rate: 64 * MiB, dirtyRate: 200 * MiB, memory: 8 * GiB });
    for (const a of advice.filter((x) => x.yaml)) expect(a.label).toEqual(label);
  });
});

/** The simulated launcher's progress lines of one migration, parsed, and when it really ended. */
function simulated(input: {
  memoryMiB: number;
  dirtyMiBps: number;
  bandwidth: number;
  autoConverge?: boolean;
  seed: number;
}): { samples: MigrationProgress[]; endSeconds: number; completed: boolean } {
  const monitor = new LauncherMonitor(
    {
      memoryBytes: input.memoryMiB * MiB,
      dirtyRateBytesPerSecond: input.dirtyMiBps * MiB,
      bandwidthBytesPerSecond: input.bandwidth,
      maxDowntimeMs: 900,
      completionTimeoutPerGiB: 150,
      progressTimeoutSeconds: 150,
      allowAutoConverge: input.autoConverge === true,
      allowPostCopy: false,
      seed: input.seed,
    },
    { migrationUid: "uid-1", vmiName: "vm", release: launcherRelease("v1.9.0") },
  );
  const samples: MigrationProgress[] = [];
  for (;;) {
    const poll = monitor.poll();
    for (const line of poll.lines) {
      const p = parseMigrationInfo(JSON.stringify({ msg: line.msg }), "v1.9.0");
      if (p) samples.push(p);
    }
    if (poll.end) return { samples, endSeconds: poll.snapshot.elapsedMs / 1000, completed: !poll.end.failed };
  }
}

describe("the signs in the samples (what diagnose quotes)", () => {
  const sample = (iteration: number, remainingMiB: number, rateMiB?: number, dirtyMiB?: number) => ({
    migrationUid: "u",
    elapsedMs: iteration * 4000,
    dataProcessedBytes: 0,
    dataRemainingBytes: remainingMiB * MiB,
    dataTotalBytes: 8192 * MiB,
    bandwidthBytesPerSecond: rateMiB === undefined ? undefined : rateMiB * MiB,
    dirtyRateBytesPerSecond: dirtyMiB === undefined ? undefined : dirtyMiB * MiB,
    iteration,
    completed: false,
  });

  it("the start of each of the last 3 iterations (its largest remainder seen), from the second; not shrinking within 5%", () => {
    const signs = convergenceSigns([
      sample(1, 8000, 64, 200),
      sample(2, 4000, 64, 200),
      sample(2, 3000, 64, 200),
      sample(3, 3900, 64, 200),
      sample(4, 3706, 64, 200),
      sample(5, 3600, 64, 200),
    ]);
    expect(signs.passStarts).toEqual([
      { iteration: 3, remainingBytes: 3900 * MiB },
      { iteration: 4, remainingBytes: 3706 * MiB },
      { iteration: 5, remainingBytes: 3600 * MiB },
    ]);
    // 3706 ≥ 0.95 × 3900 = 3705, and 3600 ≥ 0.95 × 3706.
    expect(signs.notShrinking).toBe(true);
    expect(signs.dirtyAbove).toBe(true);
  });

  it("a start under 95% of the one before is shrinking; fewer than 3 iterations prove nothing", () => {
    const shrinking = convergenceSigns([sample(2, 4000), sample(3, 3900), sample(4, 3704)]);
    expect(shrinking.notShrinking).toBe(false);
    expect(convergenceSigns([sample(2, 4000), sample(3, 4000)]).notShrinking).toBe(false);
  });

  it("the dirty rate at least the rate in each of the last 3 samples with rates, not just some", () => {
    expect(
      convergenceSigns([sample(1, 8000, 64, 64), sample(1, 7000, 64, 64), sample(1, 6000, 64, 64)])
        .dirtyAbove,
    ).toBe(true);
    expect(
      convergenceSigns([sample(1, 8000, 64, 200), sample(1, 7000, 64, 63), sample(1, 6000, 64, 200)])
        .dirtyAbove,
    ).toBe(false);
    // Samples without rates do not count towards the 3.
    expect(
      convergenceSigns([sample(1, 8000, 64, 200), sample(1, 7000), sample(1, 6000, 64, 200)]).dirtyAbove,
    ).toBe(false);
  });
});

describe("the forecast from the simulated launcher's progress lines", () => {
  it.each([1, 2, 3, 4, 5])(
    "default's fedora-web (4 GiB, dirty 40 MiB/s, no cap), seed %i: converging, the ETA within 25% from the second sample on, no advice",
    (seed) => {
      const run = simulated({ memoryMiB: 4096, dirtyMiBps: 40, bandwidth: 3e9 / 8, seed });
      expect(run.completed).toBe(true);
      expect(run.samples.length).toBeGreaterThanOrEqual(2);
      const subject = { ...busyDb, vmName: "fedora-web", memoryBytes: 4 * GiB, settings: settings() };
      for (let i = 1; i < run.samples.length; i++) {
        const seen = run.samples.slice(0, i + 1);
        const f = forecastMigration(subject, seen);
        const left = run.endSeconds - (seen.at(-1)?.elapsedMs ?? 0) / 1000;
        expect(f.converging).toBe(true);
        expect(f.advice).toEqual([]);
        expect(Math.abs((f.etaSeconds ?? -1) - left)).toBeLessThanOrEqual(Math.max(0.25 * left, 1));
      }
    },
  );

  it("busy-db (8 GiB, dirty 200 MiB/s over 64 MiB/s): not converging with high confidence from the third sample, ending at the completion timeout", () => {
    const run = simulated({ memoryMiB: 8192, dirtyMiBps: 200, bandwidth: 64 * MiB, seed: 3 });
    expect(run.completed).toBe(false);
    const two = forecastMigration(busyDb, run.samples.slice(0, 2));
    expect(two).toMatchObject({ converging: false, confidence: "low" });
    const three = forecastMigration(busyDb, run.samples.slice(0, 3));
    expect(three).toMatchObject({
      converging: false,
      confidence: "high",
      endsBy: "completion-timeout",
      etaSeconds: null,
    });
    const at = (run.samples[2]?.elapsedMs ?? 0) / 1000;
    expect(three.endsInSeconds).toBe(Math.round(1350 - at));
    expect(three.reason).toMatch(/^the guest dirties \d+ MiB\/s, at least the \d+ MiB\/s sent/);
    expect(three.advice[0]?.action).toBe("bandwidth");
  });

  it("batch-worker (1 GiB, dirty 100 MiB/s over 64 MiB/s, auto-converge): converging all along, with an ETA", () => {
    const run = simulated({
      memoryMiB: 1024,
      dirtyMiBps: 100,
      bandwidth: 64 * MiB,
      autoConverge: true,
      seed: 3,
    });
    expect(run.completed).toBe(true);
    const subject = {
      ...busyDb,
      vmName: "batch-worker",
      memoryBytes: GiB,
      settings: settings({ bandwidthPerMigration: 64 * MiB, allowAutoConverge: true }),
    };
    for (let i = 1; i <= run.samples.length; i++) {
      const f = forecastMigration(subject, run.samples.slice(0, i));
      expect(f.converging).toBe(true);
      expect(f.etaSeconds).not.toBeNull();
    }
  });

  it("before any sample: from the memory and the cap, the dirty rate read elsewhere or unknown", () => {
    const known = forecastMigration(busyDb, [], { dirtyRate: 200 * MiB });
    expect(known).toMatchObject({
      converging: false,
      confidence: "medium",
      endsBy: "completion-timeout",
      endsInSeconds: 1350,
    });
    const unknown = forecastMigration(busyDb, []);
    // 8 GiB at 64 MiB/s if the guest wrote nothing: 128 s.
    expect(unknown).toMatchObject({ converging: null, etaSeconds: 128 });
    expect(unknown.reason).toContain("the dirty rate is unknown");
    const noCap = forecastMigration({ ...busyDb, settings: settings() }, []);
    expect(noCap).toMatchObject({ converging: null, etaSeconds: null });
    expect(noCap.reason).toContain("no bandwidthPerMigration caps it");
  });
});
