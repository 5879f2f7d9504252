// diagnose's reading of the forecast model (src/diagnose/forecast.ts): when it speaks (3 progress
// lines with known rates), the conclusion it writes for an ended and a running migration, each
// ending in words, and the fix from the advice, which is the migrate warning's text.
import { afterEach, describe, expect, it } from "vitest";
import {
  endedConclusion,
  forecastOfLines,
  modelFix,
  runningConclusion,
  type SnapshotForecast,
} from "../../src/diagnose/forecast.js";
import { progressLines } from "../../src/diagnose/launcher-progress.js";
import type { ContainerLog } from "../../src/diagnose/types.js";
import { type Advice, defaultSettings, type Forecast } from "../../src/migration/forecast.js";
import { forecastWarning } from "../../src/render/migration-render.js";
import { setConnectionFlags } from "../../src/util/shell.js";
import { ago, pod, snap, vmi } from "../helpers/builders.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const uid = "cccccccc-0000-4000-8000-000000000001";
const sourcePod = "virt-launcher-db-1-src01";

afterEach(() => setConnectionFlags({}));

/** A v1.5.0 launcher's line (true Mbps): 8 GiB, at `elapsed` seconds, in `iteration`. */
function line(
  elapsed: number,
  remainingMiB: number,
  bandwidthMbps: number,
  dirtyMbps: number,
  iteration: number,
) {
  return JSON.stringify({
    level: "info",
    msg: `Migration info for ${uid}: TimeElapsed:${elapsed * 1000}ms DataProcessed:1000MiB DataRemaining:${remainingMiB}MiB DataTotal:8192MiB MemoryBandwidth:${bandwidthMbps}Mbps DirtyRate:${dirtyMbps}Mbps Iteration:${iteration}`,
    timestamp: ago(300 - elapsed),
  });
}

function snapWith(lines: string[], memory = "8Gi") {
  const log: ContainerLog = { namespace: "demo", pod: sourcePod, container: "compute", lines };
  return snap({
    pods: [pod(sourcePod)],
    logs: [log],
    vmi: vmi({ phase: "Running" }, { domain: { memory: { guest: memory }, devices: {} } }),
  });
}

const forecastOf = (lines: string[]) => {
  const s = snapWith(lines);
  return forecastOfLines(s, uid, progressLines(s, uid));
};

describe("when the model speaks", () => {
  // 536 Mbps = 64 MiB/s sent, 1677 Mbps = 200 MiB/s dirtied.
  const busy = [line(4, 7700, 536, 1677, 1), line(8, 5200, 536, 1677, 1), line(12, 3900, 536, 1677, 2)];

  it("from 3 lines with rates: the forecast, the signs, the lines read, where the copy stands", () => {
    const m = forecastOf(busy);
    expect(m).toBeDefined();
    expect(m?.forecast.converging).toBe(false);
    expect(m?.forecast.rateBytesPerSecond).toBe(67_000_000);
    expect(m?.samples).toBe(3);
    expect(m?.elapsedSeconds).toBe(12);
    expect(m?.dataBytes).toBe(8 * GiB);
    expect(m?.signs.dirtyAbove).toBe(true);
    expect(m?.subject).toMatchObject({ namespace: "demo", vmName: "db-1", memoryBytes: 8 * GiB });
  });

  it("not from 2 lines (the follow's warning waits for 3 too), none, or an unknown release's", () => {
    expect(forecastOf(busy.slice(0, 2))).toBeUndefined();
    expect(forecastOf([])).toBeUndefined();
    const s = { ...snapWith(busy), pods: [] };
    expect(forecastOfLines(s, uid, progressLines(s, uid))).toBeUndefined();
  });
});

const settings = { ...defaultSettings, bandwidthPerMigration: 64 * MiB };

function model(forecast: Partial<Forecast>, over: Partial<SnapshotForecast> = {}): SnapshotForecast {
  return {
    subject: { namespace: "demo", vmName: "db-1", memoryBytes: 8 * GiB, settings },
    forecast: {
      etaSeconds: null,
      converging: false,
      confidence: "high",
      endsBy: "completion-timeout",
      endsInSeconds: 2,
      reason: "the reason",
      downtimeMs: null,
      rateBytesPerSecond: 64 * MiB,
      dirtyRateBytesPerSecond: 200 * MiB,
      advice: [],
      ...forecast,
    },
    signs: { dirtyAbove: true, notShrinking: false, passStarts: [] },
    samples: 5,
    elapsedSeconds: 1348,
    lastLineAt: "2025-03-01T11:59:57Z",
    dataBytes: 8 * GiB,
    ...over,
  };
}

describe("the conclusion about an ended migration", () => {
  const head = "kvmig's forecast model, from the 5 progress lines of this migration: ";
  const units = "completionTimeoutPerGiB 150 s × 9 started units of 10^9 bytes";

  it("the rates, that it could not converge, the completion timeout and when it ended, both counted from the copy's start", () => {
    // The last line: 1348 s into the copy, 3 s before the end.
    expect(endedConclusion(model({}), "2025-03-01T12:00:00Z")).toBe(
      `${head}the guest dirtied 200 MiB/s, at least the 64 MiB/s sent: pre-copy could not converge, and at that pace KubeVirt's completion timeout ends it 1350 s into the copy (${units}). It ended 1351 s into the copy, at 2025-03-01T12:00:00Z.`,
    );
  });

  it("when it ended is left out without the end's time or the last line's", () => {
    expect(endedConclusion(model({}), undefined)).toMatch(/\(completionTimeoutPerGiB [^)]*\)\.$/);
    expect(endedConclusion(model({}, { lastLineAt: undefined }), "2025-03-01T12:00:00Z")).not.toContain(
      "It ended",
    );
  });

  it("the iterations that did not shrink, with their first remaining data", () => {
    const signs = {
      dirtyAbove: true,
      notShrinking: true,
      passStarts: [
        { iteration: 9, remainingBytes: 8166 * MiB },
        { iteration: 10, remainingBytes: 8114 * MiB },
        { iteration: 11, remainingBytes: 8061 * MiB },
      ],
    };
    expect(endedConclusion(model({}, { signs }), undefined)).toBe(
      `${head}the guest dirtied 200 MiB/s, at least the 64 MiB/s sent, and the remaining data at the start of iterations 9, 10 and 11 (8166, 8114 and 8061 MiB) did not shrink: pre-copy could not converge, and at that pace KubeVirt's completion timeout ends it 1350 s into the copy (${units}).`,
    );
  });

  it("a dirty rate below the rate, and a model that says it would have converged: the abort is not the guest's writing", () => {
    const m = model({ converging: true, dirtyRateBytesPerSecond: 20 * MiB, endsBy: "switch-over" });
    expect(endedConclusion(m, "2025-03-01T12:00:10Z")).toBe(
      `${head}the guest dirtied 20 MiB/s, less than the 64 MiB/s sent; at that pace pre-copy would have converged, so the guest's writing does not explain the abort. It ended 1361 s into the copy, at 2025-03-01T12:00:10Z.`,
    );
  });

  it("each way KubeVirt ends it: progress timeout, post-copy, a paused guest, none", () => {
    const end = (forecast: Partial<Forecast>) =>
      endedConclusion(model(forecast), undefined).split("and at that pace ")[1];
    expect(end({ endsBy: "progress-timeout", endsInSeconds: 150 })).toBe(
      "KubeVirt's progress timeout ends it once nothing is sent for 150 s.",
    );
    // 1348 s elapsed + 40 s to go.
    expect(end({ endsBy: "post-copy", endsInSeconds: 40 })).toBe(
      `KubeVirt switches it to post-copy at the completion timeout, 1350 s into the copy (${units}), and it completes 1388 s into the copy.`,
    );
    expect(end({ endsBy: "paused", endsInSeconds: 100 })).toBe(
      `KubeVirt pauses the guest at the completion timeout, 1350 s into the copy (${units}), until the copy is done 1448 s into it.`,
    );
    expect(end({ endsBy: "paused", endsInSeconds: null })).toBe(
      `KubeVirt pauses the guest at the completion timeout, 1350 s into the copy (${units}), until the copy is done.`,
    );
    expect(end({ endsBy: "never", endsInSeconds: null })).toBe(
      "no completion timeout ends it: it runs until someone cancels it.",
    );
  });

  it("the completion timeout scales with the data in started 10^9-byte units: 1 GiB is 2 of them", () => {
    const m = model({}, { dataBytes: GiB });
    expect(endedConclusion(m, undefined)).toContain(
      "ends it 300 s into the copy (completionTimeoutPerGiB 150 s × 2 started units of 10^9 bytes)",
    );
  });
});

describe("the conclusion about a running migration", () => {
  it("the forecast's own verdict and reason, as the follow says it", () => {
    expect(runningConclusion(model({ reason: "why not" }))).toBe(
      "kvmig's forecast model, from its 5 progress lines: will not converge: why not.",
    );
    expect(runningConclusion(model({ converging: true, reason: "why so" }))).toBe(
      "kvmig's forecast model, from its 5 progress lines: converges: why so.",
    );
  });
});

const yaml = "apiVersion: migrations.kubevirt.io/v1alpha1\nkind: MigrationPolicy\n";
const advice: Advice[] = [
  { action: "bandwidth", text: "raise it", converges: true, completes: true, etaSeconds: 40, yaml },
  {
    action: "post-copy",
    text: "post-copy",
    converges: false,
    completes: true,
    etaSeconds: 1400,
    risk: "the VM may be lost",
    yaml: "other: policy\n",
  },
  { action: "network", text: "a network", converges: false, completes: false, etaSeconds: null },
];

describe("the fix from the advice", () => {
  it("the advice numbered in the forecast's order, then the first policy applied and the migration again", () => {
    const fix = modelFix(snap(), model({ advice }));
    expect(fix).toEqual({
      explanation: [
        "what would make it converge, most effective first:",
        "  1. raise it",
        "  2. post-copy (risk: the VM may be lost)",
        "  3. a network",
        "for the next migration of this VM (KubeVirt applies a policy when a migration starts):",
      ].join("\n"),
      commands: [
        "kubectl apply -f - <<'EOF'\napiVersion: migrations.kubevirt.io/v1alpha1\nkind: MigrationPolicy\nEOF",
        "kvmig migrate db-1 -n demo",
      ],
    });
  });

  it("the same lines the migrate warning prints: the command indented under it, its here-document at the margin", () => {
    const forecast = model({ advice }).forecast;
    const fix = modelFix(snap(), model({ advice }));
    const [command, ...document] = fix?.commands[0]?.split("\n") ?? [];
    expect(forecastWarning(forecast)).toEqual({
      lines: ["will not converge: the reason", ...(fix?.explanation.split("\n") ?? []), `  ${command}`],
      document,
    });
    expect(document.at(-1)).toBe("EOF");
  });

  it("a policy from the first advice that has one; none at all: no apply, no policy line", () => {
    const [, postCopy, network] = advice as [Advice, Advice, Advice];
    expect(modelFix(snap(), model({ advice: [network, postCopy] }))?.commands[0]).toBe(
      "kubectl apply -f - <<'EOF'\nother: policy\nEOF",
    );
    expect(modelFix(snap(), model({ advice: [network] }))).toEqual({
      explanation: "what would make it converge, most effective first:\n  1. a network",
      commands: ["kvmig migrate db-1 -n demo"],
    });
    expect(modelFix(snap(), model({ advice: [] }))).toBeUndefined();
  });

  it("kubectl and kvmig reach the cluster this run read", () => {
    setConnectionFlags({ context: "prod" });
    expect(modelFix(snap(), model({ advice }))?.commands).toEqual([
      "kubectl --context prod apply -f - <<'EOF'\napiVersion: migrations.kubevirt.io/v1alpha1\nkind: MigrationPolicy\nEOF",
      "kvmig migrate db-1 -n demo --context prod",
    ]);
  });
});
