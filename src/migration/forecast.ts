// Will it converge, and when does it end? A pure model of a live migration's pre-copy, fed with
// the progress samples seen so far (the source launcher's `Migration info` lines, or Prometheus)
// and the migration's settings (the KubeVirt CR, the MigrationPolicy that selects the VM, or the
// VMI's migrationState.migrationConfiguration once KubeVirt resolved them). docs/forecast.md
// states the model, its assumptions and the source of each term:
// - QEMU's pre-copy (docs/devel/migration/main.rst, migration/ram.c): each iteration sends the
//   pages dirty at its start; the guest dirties more meanwhile; QEMU switches over (stop-and-copy)
//   once what is left fits in max downtime at the measured bandwidth. With dirty rate D and rate
//   R the next pass is min(memory, D × the pass's time): it shrinks only while D < R.
// - auto-converge (migration/ram.c migration_trigger_throttle, cpu-throttle-initial 20,
//   cpu-throttle-increment 10, 99 at most): at a bitmap sync at least a second after the last
//   check, a period whose dirtied bytes exceed half the bytes sent counts as high; the second
//   high period in a row raises the vCPU throttle, which slows the guest's dirtying by its share.
// - KubeVirt's monitor (pkg/virt-launcher/virtwrap/live-migration-source.go handleLegacyConvergence):
//   completionTimeoutPerGiB × the data size in started units of 10^9 bytes, then with
//   allowWorkloadDisruption post-copy (allowPostCopy, not with VFIO devices) or a paused guest
//   and twice the time, else the abort; progressTimeout only ends a copy whose remaining data
//   stops falling between 400 ms polls, which a pass that still drains never does.

import type {
  KubeVirt,
  MigrationConfiguration,
  MigrationPolicy,
  MigrationPolicySpec,
  VirtualMachineInstance,
} from "../k8s/types.js";
import { compareText } from "../util/order.js";
import type { MigrationProgress } from "./progress-line.js";
import { parseQuantity } from "./quantity.js";

const MiB = 1024 * 1024;

/** QEMU's auto-converge parameters (migration/options.c defaults), in percent. */
export const throttleInitial = 20;
export const throttleIncrement = 10;
export const throttleMax = 99;
/** throttle-trigger-threshold: a period is high when dirtied bytes exceed this share of the bytes sent. */
export const throttleTriggerShare = 0.5;
/** QEMU checks the dirty rate at a bitmap sync at least this long after the previous check. */
const ratePeriodSeconds = 1;
/** Bytes of device state and of the bitmap of missing pages sent while the guest pauses for post-copy. */
const deviceStateBytes = MiB;
/** The forecast says "not converging" only from this many samples with rates. */
export const samplesForConfidence = 3;
/** Iterations whose first remaining data did not shrink that make "not shrinking" a cause. */
export const iterationsNotShrinking = 3;

/** A migration's settings as virt-launcher uses them (KubeVirt's defaults, facts §i). */
export interface MigrationSettings {
  /** Bytes per second; 0: no limit (the network's rate). */
  bandwidthPerMigration: number;
  completionTimeoutPerGiB: number;
  progressTimeout: number;
  maxDowntimeMs: number;
  allowAutoConverge: boolean;
  allowPostCopy: boolean;
  allowWorkloadDisruption: boolean;
  /** The NetworkAttachmentDefinition migrations use, when one is dedicated to them. */
  network?: string | undefined;
  /** The MigrationPolicy that selects the VM, when one does. */
  policy?: MigrationPolicy | undefined;
}

export const defaultSettings: MigrationSettings = {
  bandwidthPerMigration: 0,
  completionTimeoutPerGiB: 150,
  progressTimeout: 150,
  maxDowntimeMs: 900,
  allowAutoConverge: false,
  allowPostCopy: false,
  allowWorkloadDisruption: false,
};

/**
 * The policy KubeVirt applies to a VMI (pkg/virt-controller/watch/migration/migrationpolicy.go):
 * every selector label must match; the most matched labels (namespace and VMI) win, then the
 * most VMI labels, then the smallest name.
 */
export function matchPolicy(
  policies: readonly MigrationPolicy[],
  namespaceLabels: Readonly<Record<string, string>>,
  vmiLabels: Readonly<Record<string, string>>,
): MigrationPolicy | undefined {
  let best: { policy: MigrationPolicy; total: number; vmi: number } | undefined;
  for (const policy of policies) {
    const ns = Object.entries(policy.spec?.selectors?.namespaceSelector ?? {});
    const vmi = Object.entries(policy.spec?.selectors?.virtualMachineInstanceSelector ?? {});
    if (!ns.every(([k, v]) => namespaceLabels[k] === v) || !vmi.every(([k, v]) => vmiLabels[k] === v))
      continue;
    const total = ns.length + vmi.length;
    const name = policy.metadata.name ?? "";
    if (
      !best ||
      total > best.total ||
      (total === best.total && vmi.length > best.vmi) ||
      (total === best.total && vmi.length === best.vmi && name < (best.policy.metadata.name ?? ""))
    )
      best = { policy, total, vmi: vmi.length };
  }
  return best?.policy;
}

/** Fields of a migration configuration laid over settings; allowWorkloadDisruption follows allowPostCopy when unset. */
function overlay(
  base: MigrationSettings,
  c: MigrationConfiguration | MigrationPolicySpec,
): MigrationSettings {
  const out = { ...base };
  if (c.bandwidthPerMigration !== undefined)
    out.bandwidthPerMigration = parseQuantity(c.bandwidthPerMigration) ?? 0;
  if (c.completionTimeoutPerGiB !== undefined) out.completionTimeoutPerGiB = c.completionTimeoutPerGiB;
  if ("progressTimeout" in c && c.progressTimeout !== undefined) out.progressTimeout = c.progressTimeout;
  if (c.maxDowntimeMs !== undefined) out.maxDowntimeMs = c.maxDowntimeMs;
  if (c.allowAutoConverge !== undefined) out.allowAutoConverge = c.allowAutoConverge;
  if (c.allowPostCopy !== undefined) out.allowPostCopy = c.allowPostCopy;
  const disruption = c.allowWorkloadDisruption ?? c.allowPostCopy;
  if (disruption !== undefined) out.allowWorkloadDisruption = disruption;
  return out;
}

/**
 * The settings of a VMI's migration: its migrationState.migrationConfiguration when KubeVirt
 * stored one for `migrationUid` (the cluster's and the policy's, resolved at hand-off), else the
 * KubeVirt CR's with the matching policy laid over them, as KubeVirt would resolve them.
 */
export function resolveSettings(input: {
  kubevirt?: KubeVirt | undefined;
  policies?: readonly MigrationPolicy[] | undefined;
  namespaceLabels?: Readonly<Record<string, string>> | undefined;
  vmi?: VirtualMachineInstance | undefined;
  migrationUid?: string | undefined;
}): MigrationSettings {
  const cluster = input.kubevirt?.spec.configuration?.migrations ?? {};
  const network = cluster.network || undefined;
  const state = input.vmi?.status?.migrationState;
  const policyName = state?.migrationPolicyName ?? undefined;
  const policy = policyName
    ? input.policies?.find((p) => p.metadata.name === policyName)
    : matchPolicy(input.policies ?? [], input.namespaceLabels ?? {}, input.vmi?.metadata.labels ?? {});
  if (
    state?.migrationConfiguration &&
    input.migrationUid !== undefined &&
    state.migrationUid === input.migrationUid
  )
    return { ...overlay(defaultSettings, state.migrationConfiguration), network, policy };
  const settings = overlay(defaultSettings, cluster);
  return { ...(policy ? overlay(settings, policy.spec ?? {}) : settings), network, policy };
}

/** Seconds the monitor allows: completionTimeoutPerGiB × the size in started 10^9-byte units; Infinity for 0. */
export function completionTimeoutSeconds(settings: MigrationSettings, dataBytes: number): number {
  if (settings.completionTimeoutPerGiB <= 0) return Number.POSITIVE_INFINITY;
  return settings.completionTimeoutPerGiB * Math.max(1, Math.ceil(dataBytes / 1e9));
}

export type Ending =
  | "switch-over"
  | "post-copy"
  | "paused"
  | "completion-timeout"
  | "progress-timeout"
  | "never";

export interface ProjectionInput {
  memoryBytes: number;
  /** What the completion timeout scales with (memory plus migrated disks); the memory without. */
  dataBytes?: number | undefined;
  /** Transfer rate, bytes per second. */
  rate: number;
  /** The guest's dirty rate without any throttle, bytes per second. */
  dirtyRate: number;
  settings: MigrationSettings;
  /** Post-copy cannot start (VFIO devices): the monitor pauses the guest instead. */
  noPostCopy?: boolean | undefined;
  /** Where the copy stands: seconds since it began, the current pass's size and what is left of it. */
  elapsedSeconds?: number | undefined;
  passBytes?: number | undefined;
  remainingBytes?: number | undefined;
  /** How fast the current pass drains (faster than the rate in the first pass: zero pages cost nothing). */
  drainRate?: number | undefined;
  /** The auto-converge throttle already applied, percent. */
  throttlePercent?: number | undefined;
}

export interface Projection {
  ending: Ending;
  /** Seconds since the copy began when it ends (Infinity: never). */
  endsAtSeconds: number;
  /** The guest's pause at the end: the final stop-and-copy, the post-copy switch, or the whole pause. */
  downtimeMs: number | undefined;
  /** Passes projected from here on. */
  passes: number;
  throttlePercent: number;
}

const maxPasses = 100_000;

/**
 * Pre-copy pass by pass from where it stands to its end: the switch-over, the completion
 * timeout's post-copy, pause or abort, or the progress timeout when nothing moves.
 */
export function project(input: ProjectionInput): Projection {
  const { memoryBytes: memory, rate, settings } = input;
  const timeout = completionTimeoutSeconds(settings, input.dataBytes ?? memory);
  const threshold = (rate * settings.maxDowntimeMs) / 1000;
  let t = input.elapsedSeconds ?? 0;
  let pass = input.passBytes ?? memory;
  let left = Math.min(pass, input.remainingBytes ?? pass);
  let drain = input.drainRate !== undefined && input.drainRate > 0 ? input.drainRate : rate;
  let throttle = input.throttlePercent ?? 0;
  let high = 0;
  let period = { seconds: 0, dirtied: 0, sent: 0 };
  if (!(rate > 0)) {
    return {
      ending: "progress-timeout",
      endsAtSeconds: t + settings.progressTimeout,
      downtimeMs: undefined,
      passes: 0,
      throttlePercent: throttle,
    };
  }
  for (let passes = 0; passes < maxPasses; passes++) {
    const dirty = input.dirtyRate * (1 - throttle / 100);
    const passSeconds = pass / drain;
    const finishAt = t + left / drain;
    if (finishAt > timeout) {
      // The monitor acts at the timeout, in the middle of this pass.
      const done = passSeconds - (finishAt - timeout);
      const pending = Math.min(memory, left - (timeout - t) * drain + dirty * Math.max(0, done));
      const end = (kind: Ending, at: number, downtimeMs: number | undefined): Projection => ({
        ending: kind,
        endsAtSeconds: at,
        downtimeMs,
        passes: passes + 1,
        throttlePercent: throttle,
      });
      if (!settings.allowWorkloadDisruption) return end("completion-timeout", timeout, undefined);
      if (settings.allowPostCopy && !input.noPostCopy)
        return end(
          "post-copy",
          timeout + pending / rate,
          ((deviceStateBytes + memory / 32768) / rate) * 1000,
        );
      // A paused guest dirties nothing: what is pending goes, within twice the time allowed.
      const at = timeout + pending / rate;
      return at > 2 * timeout
        ? end("completion-timeout", 2 * timeout, undefined)
        : end("paused", at, (at - timeout) * 1000);
    }
    t = finishAt;
    const dirtied = Math.min(memory, dirty * passSeconds);
    period = {
      seconds: period.seconds + passSeconds,
      dirtied: period.dirtied + dirtied,
      sent: period.sent + pass,
    };
    if (period.seconds >= ratePeriodSeconds) {
      if (settings.allowAutoConverge && period.dirtied > period.sent * throttleTriggerShare) {
        high++;
        if (high >= 2) {
          high = 0;
          throttle = throttle === 0 ? throttleInitial : Math.min(throttleMax, throttle + throttleIncrement);
        }
      }
      period = { seconds: 0, dirtied: 0, sent: 0 };
    }
    if (dirtied < threshold) {
      const stop = dirtied / rate;
      return {
        ending: "switch-over",
        endsAtSeconds: t + stop,
        downtimeMs: stop * 1000,
        passes: passes + 1,
        throttlePercent: throttle,
      };
    }
    pass = dirtied;
    left = dirtied;
    drain = rate;
  }
  return {
    ending: "never",
    endsAtSeconds: Number.POSITIVE_INFINITY,
    downtimeMs: undefined,
    passes: maxPasses,
    throttlePercent: throttle,
  };
}

// --- from samples ---------------------------------------------------------------------------------

export interface Advice {
  action: "bandwidth" | "auto-converge" | "post-copy" | "network";
  /** One line: what to change and what the model expects of it. */
  text: string;
  /** Pre-copy would converge with it. */
  converges: boolean;
  /** The migration would complete with it (post-copy completes without converging). */
  completes: boolean;
  /** Projected seconds a new migration would take with it; null when it would not complete. */
  etaSeconds: number | null;
  risk?: string | undefined;
  /** A MigrationPolicy for this VM, to `kubectl apply -f -`. */
  yaml?: string | undefined;
  /**
   * The label the policy selects the VMI by when the VMI has none of its own to select it by
   * (kvmig's, put on the VMI first): without it the policy would select every VM of the namespace.
   */
  label?: { namespace: string; vmi: string; key: string; value: string } | undefined;
}

export interface Forecast {
  /** Seconds until it completes, from the last sample; null when it will not complete or cannot be told. */
  etaSeconds: number | null;
  /** Whether pre-copy converges before KubeVirt's timeout; null when it cannot be told yet. */
  converging: boolean | null;
  confidence: "low" | "medium" | "high";
  /** How it is projected to end. */
  endsBy: Ending | null;
  /** Seconds until that end; null when unknown (or never). */
  endsInSeconds: number | null;
  /** Why, in one sentence. */
  reason: string;
  /** The projected pause of the final stop-and-copy (or of the post-copy switch, or of the pause). */
  downtimeMs: number | null;
  rateBytesPerSecond: number | null;
  dirtyRateBytesPerSecond: number | null;
  /** What would make it converge, most effective first (empty when it converges). */
  advice: Advice[];
}

/** What the forecast knows of the VM beyond the samples. */
export interface ForecastSubject {
  namespace: string;
  vmName: string;
  memoryBytes: number;
  /** The VMI's labels (the policy selects them). */
  labels?: Readonly<Record<string, string>> | undefined;
  /** The VMI has VFIO devices (host devices, GPUs, SR-IOV): no post-copy. */
  vfio?: boolean | undefined;
  settings: MigrationSettings;
}

interface Sample {
  seconds: number;
  remaining: number;
  total: number;
  iteration: number;
  rate?: number | undefined;
  dirty?: number | undefined;
}

function samplesOf(progress: readonly MigrationProgress[]): Sample[] {
  const first = Date.parse(progress.find((p) => p.at)?.at ?? "");
  return progress.map((p) => ({
    // TimeElapsed when the launcher gave it; Prometheus gives only the sample's time.
    seconds:
      p.elapsedMs > 0 || Number.isNaN(Date.parse(p.at ?? ""))
        ? p.elapsedMs / 1000
        : (Date.parse(p.at ?? "") - first) / 1000,
    remaining: p.dataRemainingBytes,
    total: p.dataTotalBytes,
    iteration: p.iteration,
    // v1.0.1–v1.2.0's rates are known to a step: the middle of it.
    rate:
      p.bandwidthBytesPerSecond === undefined
        ? undefined
        : p.bandwidthBytesPerSecond + (p.rateStepBytesPerSecond ?? 0) / 2,
    dirty:
      p.dirtyRateBytesPerSecond === undefined
        ? undefined
        : p.dirtyRateBytesPerSecond + (p.rateStepBytesPerSecond ?? 0) / 2,
  }));
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** The auto-converge step that best explains a dirty rate below the guest's own. */
function impliedThrottle(current: number, base: number): number {
  if (!(base > 0)) return 0;
  const implied = 100 * (1 - current / base);
  if (implied < throttleInitial / 2) return 0;
  const steps = Math.round((implied - throttleInitial) / throttleIncrement);
  return Math.min(throttleMax, throttleInitial + Math.max(0, steps) * throttleIncrement);
}

/** Each iteration's first remaining data (its largest seen), from the second on, oldest first. */
function passStarts(samples: readonly Sample[]): { iteration: number; remainingBytes: number }[] {
  const byIteration = new Map<number, number>();
  for (const s of samples)
    if (s.iteration > 1)
      byIteration.set(s.iteration, Math.max(byIteration.get(s.iteration) ?? 0, s.remaining));
  return [...byIteration].map(([iteration, remainingBytes]) => ({ iteration, remainingBytes }));
}

/** The causes a person can check in the samples themselves, which make the forecast confident. */
export interface ConvergenceSigns {
  /** The dirty rate at least the rate in each of the last `samplesForConfidence` samples with rates. */
  dirtyAbove: boolean;
  /** The start of each of the last `iterationsNotShrinking` iterations, oldest first (fewer when fewer were seen). */
  passStarts: { iteration: number; remainingBytes: number }[];
  /** Those starts did not shrink (each at least 95% of the one before). */
  notShrinking: boolean;
}

function signsOf(samples: readonly Sample[]): ConvergenceSigns {
  const recent = samples
    .filter((s) => s.rate !== undefined && s.dirty !== undefined && s.rate > 0)
    .slice(-samplesForConfidence);
  const dirtyAbove =
    recent.length >= samplesForConfidence && recent.every((s) => (s.dirty ?? 0) >= (s.rate ?? 0));
  const starts = passStarts(samples).slice(-iterationsNotShrinking);
  const notShrinking =
    starts.length >= iterationsNotShrinking &&
    starts.every((v, i) => i === 0 || v.remainingBytes >= (starts[i - 1]?.remainingBytes ?? 0) * 0.95);
  return { dirtyAbove, passStarts: starts, notShrinking };
}

/** What the samples (oldest first) show of the forecast's two causes; forecastMigration reads the same. */
export function convergenceSigns(progress: readonly MigrationProgress[]): ConvergenceSigns {
  return signsOf(samplesOf(progress).filter((s) => s.total > 0));
}

export const formatMiB = (bytes: number): string => `${Math.round(bytes / MiB)} MiB/s`;

function seconds(value: number): string {
  const s = Math.round(value);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60 > 0 ? `${m % 60}m` : ""}`;
}

/** What ends it, in words, for the reason and the warning. */
export function endingText(
  forecast: Pick<Forecast, "endsBy" | "endsInSeconds">,
  settings: MigrationSettings,
): string {
  const when = forecast.endsInSeconds === null ? "" : ` in about ${seconds(forecast.endsInSeconds)}`;
  switch (forecast.endsBy) {
    case "completion-timeout":
      return `KubeVirt aborts it at the completion timeout (completionTimeoutPerGiB ${settings.completionTimeoutPerGiB} s per 10^9 bytes)${when}`;
    case "progress-timeout":
      return `KubeVirt aborts it when nothing moved for progressTimeout (${settings.progressTimeout} s)${when}`;
    case "post-copy":
      return `KubeVirt switches it to post-copy at the completion timeout; it completes${when}`;
    case "paused":
      return `KubeVirt pauses the guest at the completion timeout until the copy is done; it completes${when}`;
    case "never":
      return "it runs until someone cancels it (no completion timeout)";
    default:
      return `it completes${when}`;
  }
}

/**
 * The forecast from the samples so far (oldest first) and what is known of the VM. With no sample,
 * from the memory, the settings' bandwidth and a dirty rate read elsewhere (Prometheus), if any.
 */
export function forecastMigration(
  subject: ForecastSubject,
  progress: readonly MigrationProgress[],
  options: { dirtyRate?: number | undefined; rate?: number | undefined } = {},
): Forecast {
  const { settings } = subject;
  const samples = samplesOf(progress).filter((s) => s.total > 0);
  const last = samples.at(-1);
  const withRates = samples.filter((s) => s.rate !== undefined && s.dirty !== undefined && s.rate > 0);
  const recent = withRates.slice(-samplesForConfidence);
  const cap = settings.bandwidthPerMigration > 0 ? settings.bandwidthPerMigration : undefined;
  const rate = recent.length > 0 ? mean(recent.map((s) => s.rate ?? 0)) : (options.rate ?? cap);
  const currentDirty = recent.length > 0 ? mean(recent.map((s) => s.dirty ?? 0)) : options.dirtyRate;
  // Under auto-converge the reported rate is already throttled: the guest's own is the highest seen.
  const baseDirty =
    settings.allowAutoConverge && withRates.length > 0
      ? Math.max(...withRates.map((s) => s.dirty ?? 0))
      : currentDirty;
  const throttle =
    settings.allowAutoConverge && currentDirty !== undefined && baseDirty !== undefined
      ? impliedThrottle(currentDirty, baseDirty)
      : 0;
  const memory = subject.memoryBytes > 0 ? subject.memoryBytes : (last?.total ?? 0);
  const unknown = (reason: string): Forecast => ({
    etaSeconds: null,
    converging: null,
    confidence: "low",
    endsBy: null,
    endsInSeconds: null,
    reason,
    downtimeMs: null,
    rateBytesPerSecond: rate ?? null,
    dirtyRateBytesPerSecond: currentDirty ?? null,
    advice: [],
  });
  if (rate === undefined || !(rate > 0))
    return unknown(
      samples.length > 0
        ? "the transfer rate is unknown (the launcher's release does not say how it wrote it)"
        : "the transfer rate is unknown before the copy starts: no bandwidthPerMigration caps it",
    );
  if (baseDirty === undefined) {
    const p = project({ memoryBytes: memory, rate, dirtyRate: 0, settings });
    return {
      ...unknown(
        `the dirty rate is unknown: ${seconds(p.endsAtSeconds)} for ${formatGiB(memory)} at ${formatMiB(rate)} if the guest wrote nothing`,
      ),
      etaSeconds: Math.round(p.endsAtSeconds),
    };
  }
  // Where the copy stands: the current pass, what is left of it, and how fast it drains.
  let at: Pick<ProjectionInput, "elapsedSeconds" | "passBytes" | "remainingBytes" | "drainRate"> = {};
  if (last) {
    const same = samples.filter((s) => s.iteration === last.iteration);
    const previous = same.at(-2);
    const drop = previous
      ? (previous.remaining - last.remaining) / (last.seconds - previous.seconds)
      : undefined;
    const firstPass = last.iteration <= 1;
    at = {
      elapsedSeconds: last.seconds,
      passBytes: firstPass ? last.total : Math.max(...same.map((s) => s.remaining)),
      remainingBytes: last.remaining,
      drainRate:
        drop !== undefined && drop > 0 && Number.isFinite(drop)
          ? drop
          : firstPass && last.seconds > 0 && last.total > last.remaining
            ? (last.total - last.remaining) / last.seconds
            : undefined,
    };
  }
  const p = project({
    memoryBytes: memory,
    dataBytes: Math.max(memory, last?.total ?? 0),
    rate,
    dirtyRate: baseDirty,
    throttlePercent: throttle,
    settings,
    noPostCopy: subject.vfio,
    ...at,
  });
  const now = at.elapsedSeconds ?? 0;
  const endsIn = Number.isFinite(p.endsAtSeconds) ? Math.max(0, p.endsAtSeconds - now) : null;
  const converging = p.ending === "switch-over";
  const completes = converging || p.ending === "post-copy" || p.ending === "paused";
  // The causes a person can check in the samples.
  const { dirtyAbove, notShrinking } = signsOf(samples);
  const confidence: Forecast["confidence"] =
    (dirtyAbove || notShrinking) && !converging
      ? "high"
      : withRates.length >= samplesForConfidence || (samples.length === 0 && options.dirtyRate !== undefined)
        ? "medium"
        : "low";
  const partial = { endsBy: p.ending, endsInSeconds: endsIn === null ? null : Math.round(endsIn) };
  let reason: string;
  if (converging) {
    reason = `the guest dirties ${formatMiB(currentDirty ?? 0)} against ${formatMiB(rate)} sent: each pass is shorter than the one before, and the last fits in ${settings.maxDowntimeMs} ms`;
  } else if (dirtyAbove || (currentDirty ?? 0) >= rate) {
    reason = `the guest dirties ${formatMiB(currentDirty ?? 0)}, at least the ${formatMiB(rate)} sent, so each pass leaves as much to copy again; ${endingText(partial, settings)}`;
  } else if (notShrinking) {
    reason = `the remaining data did not shrink over ${iterationsNotShrinking} iterations; ${endingText(partial, settings)}`;
  } else {
    reason = `at ${formatMiB(currentDirty ?? 0)} dirtied against ${formatMiB(rate)} sent the passes shrink too slowly to finish in the time allowed; ${endingText(partial, settings)}`;
  }
  return {
    etaSeconds: completes && endsIn !== null ? Math.round(endsIn) : null,
    converging,
    confidence,
    ...partial,
    reason,
    downtimeMs: p.downtimeMs === undefined ? null : Math.round(p.downtimeMs),
    rateBytesPerSecond: Math.round(rate),
    dirtyRateBytesPerSecond: Math.round(currentDirty ?? 0),
    advice: converging ? [] : adviseFor(subject, { rate, dirtyRate: baseDirty, memory }),
  };
}

function formatGiB(bytes: number): string {
  return `${Math.round((bytes / 1024 ** 3) * 10) / 10} GiB`;
}

/** A rate that comfortably beats the dirty rate: twice it, rounded up to 50 MiB/s (10 below 100). */
export function suggestedBandwidth(dirtyRate: number): number {
  const twice = (2 * dirtyRate) / MiB;
  const step = twice >= 100 ? 50 : 10;
  return Math.max(step, Math.ceil(twice / step) * step) * MiB;
}

/** Labels that name this VM and stay put across migrations (kubevirt.io/nodeName and the like do not). */
function selectingLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const stable = new Set(["kubevirt.io/vm", "kubevirt.io/domain", "vm.kubevirt.io/name"]);
  return Object.fromEntries(
    Object.entries(labels)
      .filter(([k]) => stable.has(k) || !/(^|\.)kubevirt\.io\//.test(k))
      .sort(([a], [b]) => compareText(a, b)),
  );
}

/** The VMI label kvmig's policy selects by when the VMI has no label of its own to select it by. */
const policyLabelKey = "kvmig.io/migration-policy";

/**
 * The label to put on the VMI for its policy to select it, when none of its labels can (KubeVirt's
 * own, such as kubevirt.io/nodeName, change or are shared); undefined when its labels do.
 */
export function policyLabelOf(
  subject: Pick<ForecastSubject, "labels" | "namespace" | "vmName">,
): Advice["label"] {
  if (Object.keys(selectingLabels(subject.labels ?? {})).length > 0) return undefined;
  return {
    namespace: subject.namespace,
    vmi: subject.vmName,
    key: policyLabelKey,
    value: policyName(subject.vmName),
  };
}

/** The name of kvmig's policy for a VM: DNS-1123, at most 63 characters. */
export function policyName(vmName: string): string {
  return `kvmig-${vmName}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 63)
    .replace(/-+$/, "");
}

/**
 * A MigrationPolicy for this VM alone: its namespace and its labels, so it outranks a broader
 * policy (more matched labels win); it keeps the settings of the policy that selects the VM now.
 */
export function policyYaml(subject: ForecastSubject, change: MigrationPolicySpec): string {
  const q = (v: string) => JSON.stringify(v);
  const { selectors: _selectors, ...kept } = subject.settings.policy?.spec ?? {};
  const spec: Record<string, unknown> = { ...kept, ...change };
  const lines = [
    "apiVersion: migrations.kubevirt.io/v1alpha1",
    "kind: MigrationPolicy",
    "metadata:",
    `  name: ${policyName(subject.vmName)}`,
    "spec:",
    "  selectors:",
    "    namespaceSelector:",
    `      kubernetes.io/metadata.name: ${q(subject.namespace)}`,
  ];
  // Always a VMI selector: a policy with only the namespace's would apply to every VM there.
  const own = policyLabelOf(subject);
  const vmiLabels = own ? [[own.key, own.value]] : Object.entries(selectingLabels(subject.labels ?? {}));
  lines.push("    virtualMachineInstanceSelector:");
  for (const [k, v] of vmiLabels) lines.push(`      ${k}: ${q(v ?? "")}`);
  for (const [k, v] of Object.entries(spec).sort(([a], [b]) => compareText(a, b))) {
    if (v === undefined || typeof v === "object") continue;
    lines.push(`  ${k}: ${typeof v === "string" ? q(v) : String(v)}`);
  }
  return `${lines.join("\n")}\n`;
}

const postCopyRisk =
  "post-copy runs the guest on the target while its memory still comes from the source: if the network or either node fails meanwhile, the VM is lost";

/**
 * What would make a new migration of this VM converge, each projected with the model from the
 * start, most effective first: converging before completing otherwise, then the shortest.
 */
export function adviseFor(
  subject: ForecastSubject,
  measured: { rate: number; dirtyRate: number; memory: number },
): Advice[] {
  const { settings } = subject;
  const { rate, dirtyRate, memory } = measured;
  const run = (s: MigrationSettings, r = rate) =>
    project({ memoryBytes: memory, rate: r, dirtyRate, settings: s, noPostCopy: subject.vfio });
  const eta = (p: Projection) =>
    ["switch-over", "post-copy", "paused"].includes(p.ending) ? Math.round(p.endsAtSeconds) : null;
  const advice: Advice[] = [];
  const cap = settings.bandwidthPerMigration;
  const wanted = suggestedBandwidth(dirtyRate);
  if (cap > 0 && cap < wanted) {
    const p = run({ ...settings, bandwidthPerMigration: wanted }, wanted);
    const quantity = `${Math.round(wanted / MiB)}Mi`;
    advice.push({
      action: "bandwidth",
      text: `raise bandwidthPerMigration for this VM from ${formatMiB(cap)} to ${quantity} (twice its dirty rate): ${p.ending === "switch-over" ? `converges in about ${seconds(p.endsAtSeconds)}` : "still does not converge"}, if the network carries it`,
      converges: p.ending === "switch-over",
      completes: eta(p) !== null,
      etaSeconds: eta(p),
      yaml: policyYaml(subject, { bandwidthPerMigration: quantity }),
      label: policyLabelOf(subject),
    });
  }
  if (!settings.allowAutoConverge) {
    const p = run({ ...settings, allowAutoConverge: true });
    advice.push({
      action: "auto-converge",
      text: `allowAutoConverge: QEMU throttles the guest's vCPUs (20%, then 10% more every second high-dirty pass): ${p.ending === "switch-over" ? `converges in about ${seconds(p.endsAtSeconds)}` : `its ${seconds(memory / rate)} passes raise the throttle too slowly to converge before the timeout`}`,
      converges: p.ending === "switch-over",
      completes: eta(p) !== null,
      etaSeconds: eta(p),
      risk: "the guest runs slower while it is throttled",
      yaml: policyYaml(subject, { allowAutoConverge: true }),
      label: policyLabelOf(subject),
    });
  }
  if (!settings.allowPostCopy && !subject.vfio) {
    const p = run({ ...settings, allowPostCopy: true, allowWorkloadDisruption: true });
    advice.push({
      action: "post-copy",
      text: `allowPostCopy: at the completion timeout KubeVirt switches to post-copy, which always completes (in about ${seconds(p.endsAtSeconds)}); a lower completionTimeoutPerGiB switches sooner`,
      converges: false,
      completes: eta(p) !== null,
      etaSeconds: eta(p),
      risk: postCopyRisk,
      yaml: policyYaml(subject, { allowPostCopy: true }),
      label: policyLabelOf(subject),
    });
  }
  if (!settings.network) {
    advice.push({
      action: "network",
      text: "a dedicated migration network (spec.configuration.migrations.network in the KubeVirt CR, a NetworkAttachmentDefinition on a faster or quieter link) raises the rate for every migration",
      converges: false,
      completes: false,
      etaSeconds: null,
    });
  }
  const rank = (a: Advice) => (a.converges ? 0 : a.completes ? 1 : a.action === "network" ? 2 : 3);
  return advice.sort((a, b) => rank(a) - rank(b) || (a.etaSeconds ?? 1e12) - (b.etaSeconds ?? 1e12));
}
