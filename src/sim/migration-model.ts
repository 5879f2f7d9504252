// A pure, deterministic model of a live migration's data transfer, as the source virt-launcher sees
// it through libvirt's domain job stats, with the launcher's migration monitor on top. The simulated
// launcher (launcher-monitor.ts) polls it every 400 ms to log the "Migration info" progress line;
// the monitor decides, as KubeVirt's legacy convergence monitor does (`handleLegacyConvergence` in
// pkg/virt-launcher/virtwrap/live-migration-source.go, v1.9.0; `processInflightMigration` before),
// whether to switch to post-copy, pause the guest, or abort:
// - progress means DataRemaining below its value at the previous poll (`progressWatermark` holds
//   the last poll's value, not a low); no decrease for `progressTimeout` s is "stuck". A busy guest
//   whose passes keep draining is therefore never stuck: it runs to the completion timeout
//   (`completionTimeoutPerGiB` × size) and is aborted "not completed after N seconds";
// - at the completion timeout, with allowWorkloadDisruption (which follows allowPostCopy when unset),
//   it switches to post-copy when allowPostCopy is set, else pauses the guest (mode Paused) and
//   doubles the time allowed; nothing else starts post-copy.
//
// The transfer follows QEMU's pre-copy loop rather than an idealised "pass by pass" picture:
// - a block migration first copies the ephemeral disks (NBD mirror), then memory;
// - iteration 1 walks all of guest memory; zero pages cost no bandwidth (libvirt's ConstantPages);
// - the guest keeps dirtying pages; QEMU only learns of them at a bitmap sync, and every sync is a
//   new iteration (libvirt's MemIteration is QEMU's dirty-sync count);
// - QEMU syncs when its estimate of what is left drops below the switch-over threshold
//   (bandwidth × max downtime) and switches over (stop-and-copy) once the exact figure is below
//   it too. It checks this about every 50 ms, not continuously, which is what lets a migration
//   whose dirty rate is below the bandwidth eventually converge;
// - auto-converge throttles the guest's vCPUs the way QEMU's cpu-throttle does;
// - post-copy, once started, always finishes: the target pulls the remaining pages;
// - a paused guest dirties nothing, so its last passes drain and the switch-over follows.
//
// Nothing here reads a clock or Math.random: time only moves through `advance`, and the jitter
// comes from a seeded generator, so the same input and seed replay the same numbers.

import { Random } from "./random.js";

/**
 * What one migration stream carries between nodes when bandwidthPerMigration is not set:
 * KubeVirt migrates over TLS by default, and a single TLS-encrypted QEMU stream is bound by
 * one CPU core at about 3 Gbit/s, well below a 10 GbE link.
 */
export const DEFAULT_STREAM_BYTES_PER_SECOND = 3e9 / 8;

/** Guest page size: libvirt's page counters (ConstantPages, NormalPages) are in these units. */
export const PAGE_SIZE = 4096;
/** How often virt-launcher's migration monitor polls libvirt (`monitorSleepPeriodMS`). */
export const MONITOR_POLL_MS = 400;
/** The monitor logs the progress line every this many polls (`monitorLogPeriodMS / monitorSleepPeriodMS`). */
export const MONITOR_LOG_INTERVAL_POLLS = 10;

/** Granularity of QEMU's migration loop: ram_save_iterate yields about every 50 ms to re-check the pending size. */
const TICK_MS = 50;
/**
 * Bitmap syncs that a single tick may trigger by draining a pass. Syncs are not free in QEMU
 * either; past this many the link idles until the tick ends, which also bounds the work when tiny
 * passes (a 1 ms downtime budget, say) would otherwise sync thousands of times a poll.
 */
const MAX_SYNCS_PER_TICK = 4;
/** ± relative jitter of the bandwidth and the dirty rate when a seed is given. */
const JITTER = 0.05;
/** Zero-page share of guest memory when no seed is given (seeded runs draw 5–20%). */
const DEFAULT_ZERO_FRACTION = 0.1;
/** QEMU re-evaluates the dirty rate (and the auto-converge throttle) at most once a second. */
const RATE_PERIOD_MS = 1000;
/** QEMU's throttle-trigger-threshold: throttle when dirtied bytes exceed this share of the bytes sent. */
const THROTTLE_TRIGGER_SHARE = 0.5;
/** cpu-throttle-initial, cpu-throttle-increment and the 99% ceiling, in percent. */
const THROTTLE_INITIAL = 20;
const THROTTLE_INCREMENT = 10;
const THROTTLE_MAX = 99;
/** Device state sent while the guest is paused at the switch to post-copy. */
const DEVICE_STATE_BYTES = 1024 * 1024;
/** Share of the guest's memory touches on the target that fault on a page not yet received. */
const POSTCOPY_FAULT_SHARE = 0.1;

export interface MigrationModelInput {
  /** Guest memory in bytes. */
  memoryBytes: number;
  /** How fast the guest dirties (distinct) memory, bytes per second. */
  dirtyRateBytesPerSecond: number;
  /** Achievable transfer rate, bytes per second: bandwidthPerMigration if set, else the link. */
  bandwidthBytesPerSecond: number;
  /** Switch-over budget (KubeVirt default 900). */
  maxDowntimeMs: number;
  /** Seconds allowed per started 10^9 bytes of migrated data (default 150); 0 disables the timeout. */
  completionTimeoutPerGiB: number;
  /**
   * Seconds without DataRemaining decreasing from one poll to the next before the migration is
   * stuck (default 150); 0 disables.
   */
  progressTimeoutSeconds: number;
  /** QEMU auto-converge: throttle the guest's vCPUs while it dirties faster than half the transfer rate. */
  allowAutoConverge: boolean;
  /** At the completion timeout, with workload disruption allowed: switch to post-copy (else the guest is paused). */
  allowPostCopy: boolean;
  /**
   * At the completion timeout, post-copy (allowPostCopy) or pause the guest rather than abort.
   * Unset, it follows allowPostCopy, as KubeVirt's GetMigrationConfiguration and virt-handler do
   * (pkg/virt-config/virt-config.go, pkg/virt-handler/migration-source.go). A launcher older than
   * v1.5.0 has no such option: post-copy at the timeout iff allowPostCopy, i.e. this unset.
   */
  allowWorkloadDisruption?: boolean;
  /** Ephemeral disk data of a block migration: copied before memory, part of DataTotal and of the timeout size. */
  blockBytes?: number;
  /** Seeds a ±5% jitter of the rates and the zero-page share; without it the rates are exact. */
  seed?: number;
}

/** `migrationState.mode`: Paused is the guest suspended by the monitor to let pre-copy finish. */
export type MigrationMode = "PreCopy" | "PostCopy" | "Paused";

export type MigrationOutcome =
  /** `downtimeMs`: the guest's pause (for Paused, from the monitor's suspend to the end). */
  | { kind: "completed"; mode: MigrationMode; downtimeMs: number; downtimeNetMs: number }
  /**
   * `afterSeconds`: for "stuck" the seconds without progress, for "timeout" the allowed seconds
   * (doubled once the guest was paused), as the launcher logs them.
   */
  | { kind: "aborted"; why: "stuck" | "timeout"; afterSeconds: number };

/**
 * One poll of libvirt's job stats. Sizes are bytes, rates bytes per second (as libvirt reports
 * them; the log line converts to MiB and Mbps).
 */
export interface MigrationSnapshot {
  readonly elapsedMs: number;
  readonly dataProcessed: number;
  readonly dataRemaining: number;
  readonly dataTotal: number;
  readonly memoryProcessed: number;
  readonly memoryRemaining: number;
  /** Guest memory rounded up to whole pages. */
  readonly memoryTotal: number;
  readonly diskProcessed: number;
  readonly diskRemaining: number;
  readonly diskTotal: number;
  readonly memoryBandwidthBps: number;
  /** The guest's current dirty rate (after any auto-converge throttle); 0 once the guest runs on the target. */
  readonly dirtyRateBps: number;
  readonly diskBps: number;
  /** 0 while disks are copied, then QEMU's dirty-sync count. */
  readonly iteration: number;
  readonly postcopyRequests: number;
  readonly constantPages: number;
  readonly normalPages: number;
  readonly normalData: number;
  /** Remaining memory at the current bandwidth; the actual downtime once completed or in post-copy. */
  readonly expectedDowntimeMs: number;
  /** Auto-converge vCPU throttle, percent. */
  readonly throttlePercent: number;
  readonly mode: MigrationMode;
}

/**
 * Seconds allowed before the completion timeout: `completionTimeoutPerGiB` × the data size in
 * started units of 10^9 bytes (KubeVirt scales with resource.Giga, not GiB, and rounds up).
 */
export function completionTimeoutSeconds(
  input: Pick<MigrationModelInput, "memoryBytes" | "blockBytes" | "completionTimeoutPerGiB">,
): number {
  const size = input.memoryBytes + (input.blockBytes ?? 0);
  return input.completionTimeoutPerGiB * Math.ceil(size / 1e9);
}

const mib = (bytes: number): number => Math.floor(bytes / 1024 / 1024);
const mbps = (bytesPerSecond: number): number => Math.floor((bytesPerSecond * 8) / 1e6);
/** The "Mbps" of v1.0.1–v1.2.0: bytes per second ÷ 8 ÷ 10^6, 64 times too small (kubevirt/kubevirt#11377). */
const mbpsOfOldReleases = (bytesPerSecond: number): number => Math.floor(bytesPerSecond / 8 / 1e6);
const whole = (value: number): number => Math.floor(value);

/**
 * How a launcher release writes the progress line (`logMigrationInfo`/`LogMigrationInfo` in
 * live-migration-source.go, read at each tag):
 * - "bytes": v1.0.0 (and v0.55+): sizes in bytes, rates in `B/s`, then `DiskBps:<n>`;
 * - "mib-steps": v1.0.1–v1.2.0: MiB, rates labelled `Mbps` but bytes/s ÷ 8 ÷ 10^6;
 * - "mib": v1.2.1 and later: MiB and true Mbps (bits/s ÷ 10^6).
 */
export type ProgressLineForm = "bytes" | "mib-steps" | "mib";

/**
 * The `msg` of virt-launcher's progress line, as a launcher writing `form` writes it. For the
 * completed job's stats, `completed` puts v1.9's `Downtime:<n>ms DowntimeNet:<n>ms` where the
 * running job shows `ExpectedDowntime:<n>ms` (the launcher logs only running jobs, so only a
 * caller that wants the variant passes it).
 */
export function migrationInfoMessage(
  migrationUid: string,
  snapshot: MigrationSnapshot,
  completed?: { downtimeMs: number; downtimeNetMs?: number },
  form: ProgressLineForm = "mib",
): string {
  const s = snapshot;
  if (form === "bytes") {
    return (
      `Migration info for ${migrationUid}: TimeElapsed:${whole(s.elapsedMs)}ms ` +
      `DataProcessed:${whole(s.dataProcessed)}B DataRemaining:${whole(s.dataRemaining)}B DataTotal:${whole(s.dataTotal)}B ` +
      `MemoryProcessed:${whole(s.memoryProcessed)}B MemoryRemaining:${whole(s.memoryRemaining)}B ` +
      `MemoryTotal:${whole(s.memoryTotal)}B MemoryBandwidth:${whole(s.memoryBandwidthBps)}B/s ` +
      `DirtyRate:${whole(s.dirtyRateBps)}B/s Iteration:${s.iteration} PostcopyRequests:${s.postcopyRequests} ` +
      `ConstantPages:${s.constantPages} NormalPages:${s.normalPages} NormalData:${whole(s.normalData)}B ` +
      `ExpectedDowntime:${whole(s.expectedDowntimeMs)}ms DiskBps:${whole(s.diskBps)}`
    );
  }
  const rate = form === "mib-steps" ? mbpsOfOldReleases : mbps;
  const downtime =
    completed === undefined || form !== "mib"
      ? `ExpectedDowntime:${whole(s.expectedDowntimeMs)}ms`
      : `Downtime:${whole(completed.downtimeMs)}ms DowntimeNet:${whole(completed.downtimeNetMs ?? completed.downtimeMs)}ms`;
  return (
    `Migration info for ${migrationUid}: TimeElapsed:${whole(s.elapsedMs)}ms ` +
    `DataProcessed:${mib(s.dataProcessed)}MiB DataRemaining:${mib(s.dataRemaining)}MiB DataTotal:${mib(s.dataTotal)}MiB ` +
    `MemoryProcessed:${mib(s.memoryProcessed)}MiB MemoryRemaining:${mib(s.memoryRemaining)}MiB ` +
    `MemoryTotal:${mib(s.memoryTotal)}MiB MemoryBandwidth:${rate(s.memoryBandwidthBps)}Mbps ` +
    `DirtyRate:${rate(s.dirtyRateBps)}Mbps Iteration:${s.iteration} PostcopyRequests:${s.postcopyRequests} ` +
    `ConstantPages:${s.constantPages} NormalPages:${s.normalPages} NormalData:${mib(s.normalData)}MiB ` +
    `${downtime} DiskMbps:${rate(s.diskBps)}`
  );
}

/** The warning virt-launcher (v1.9.0+) logs when its monitor aborts the migration. */
export function migrationAbortLogMessage(outcome: Extract<MigrationOutcome, { kind: "aborted" }>): string {
  return outcome.why === "stuck"
    ? `Aborting migration: stuck for ${outcome.afterSeconds} seconds`
    : `Aborting migration: not completed after ${outcome.afterSeconds} seconds`;
}

type Phase = "disk" | "precopy" | "stopcopy" | "postcopy" | "done";

function checkNonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`MigrationModel: ${name} must be a finite number >= 0, got ${value}`);
  }
}

export class MigrationModel {
  private readonly input: MigrationModelInput;
  private readonly totalPages: number;
  private readonly blockTotal: number;
  private readonly zeroFraction: number;
  /** The monitor's acceptableCompletionTime, seconds: doubled when it pauses the guest. */
  private allowedSeconds: number;
  private readonly workloadDisruption: boolean;
  private readonly rng: Random | undefined;

  private phase: Phase;
  /** Simulated time, ms; fractional inside a poll because passes drain mid-tick. */
  private elapsed = 0;
  private diskDone = 0;
  private iterationCount: number;
  /** Pages of the current pass not yet sent (QEMU's migration bitmap). */
  private passRemaining = 0;
  /** Pages dirtied since the last sync that are not already in the pass (each counted once). */
  private dirtied = 0;
  /** Pages of iteration 1 already walked: the zero-page split is spread evenly over them. */
  private firstPassScanned = 0;
  private normalPages = 0;
  private constantPages = 0;
  /** Fractions of a page of send budget / dirtying carried between ticks, so no byte is lost to rounding. */
  private sendCarry = 0;
  private dirtyCarry = 0;
  private throttle = 0;
  private dirtyRateHighCount = 0;
  private periodStart = 0;
  private periodSentBytes = 0;
  private periodDirtiedPages = 0;
  private postcopyRequests = 0;
  private requestCarry = 0;
  private postcopyDowntimeMs = 0;
  /** Stop-and-copy: the rate the final pages go at (the link is otherwise idle) and the resulting downtime. */
  private stopCopyBandwidth = 0;
  private stopCopyDowntimeMs = 0;
  private lastBandwidth = 0;
  private lastDirtyRate = 0;
  private lastDiskRate = 0;
  /** DataRemaining at the previous poll (KubeVirt's progressWatermark; 0 before the first). */
  private previousRemaining = 0;
  private lastProgressMs = 0;
  /** When the monitor suspended the guest (mode Paused); undefined while it runs. */
  private pausedAtMs: number | undefined;
  private currentOutcome: MigrationOutcome | undefined;
  private changedIteration = false;
  private current: MigrationSnapshot;

  constructor(input: MigrationModelInput) {
    checkNonNegative("memoryBytes", input.memoryBytes);
    checkNonNegative("dirtyRateBytesPerSecond", input.dirtyRateBytesPerSecond);
    checkNonNegative("bandwidthBytesPerSecond", input.bandwidthBytesPerSecond);
    checkNonNegative("maxDowntimeMs", input.maxDowntimeMs);
    checkNonNegative("completionTimeoutPerGiB", input.completionTimeoutPerGiB);
    checkNonNegative("progressTimeoutSeconds", input.progressTimeoutSeconds);
    checkNonNegative("blockBytes", input.blockBytes);
    this.input = { ...input };
    this.totalPages = Math.ceil(input.memoryBytes / PAGE_SIZE);
    this.blockTotal = Math.ceil(input.blockBytes ?? 0);
    this.allowedSeconds = completionTimeoutSeconds(input);
    this.workloadDisruption = input.allowWorkloadDisruption ?? input.allowPostCopy;
    this.rng = input.seed === undefined ? undefined : new Random(input.seed);
    this.zeroFraction = this.rng === undefined ? DEFAULT_ZERO_FRACTION : 0.05 + 0.15 * this.rng.next();
    this.phase = "disk";
    this.iterationCount = 0;
    if (this.blockTotal === 0) this.startMemory();
    this.current = this.buildSnapshot();
  }

  get snapshot(): MigrationSnapshot {
    return this.current;
  }

  get outcome(): MigrationOutcome | undefined {
    return this.currentOutcome;
  }

  /**
   * True when the last `advance` crossed an iteration boundary. Only a launcher with the alpha
   * MigrationStallDetection gate logs a line then; the simulated launcher runs without it.
   */
  get iterationChanged(): boolean {
    return this.changedIteration;
  }

  /** Advances simulated time by `ms` (one monitor poll, normally 400 ms) and returns the new snapshot. */
  advance(ms: number): MigrationSnapshot {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`MigrationModel.advance: bad interval ${ms}`);
    this.changedIteration = false;
    if (this.currentOutcome !== undefined) return this.current;
    const iterationBefore = this.iterationCount;
    let left = ms;
    while (left > 0 && this.phase !== "done") {
      const step = Math.min(TICK_MS, left);
      this.tick(step);
      left -= step;
    }
    this.changedIteration = this.iterationCount !== iterationBefore;
    this.current = this.buildSnapshot();
    if (this.phase !== "done") this.monitor();
    return this.current;
  }

  // --- the monitor's side (virt-launcher), once per poll ---------------------------------------

  private monitor(): void {
    const now = this.current.elapsedMs;
    // Progress: DataRemaining below its value at the previous poll (processInflightMigration sets
    // progressWatermark to each poll's value, v1.0.0 to v1.9.0), or the first poll.
    const remaining = this.current.dataRemaining;
    if (this.previousRemaining === 0 || remaining < this.previousRemaining) this.lastProgressMs = now;
    this.previousRemaining = remaining;
    // Once in post-copy the monitor leaves the migration alone: aborting would lose the guest. A
    // stop-and-copy under way ends within the downtime budget, before any timeout could matter.
    if (this.phase === "postcopy" || this.phase === "stopcopy") return;
    // Both checks compare whole seconds with `>`, as KubeVirt's monitor does (shouldTriggerTimeout,
    // isMigrationProgressing), in handleLegacyConvergence's order.
    const timedOut = this.allowedSeconds > 0 && Math.floor(now / 1000) > this.allowedSeconds;
    if (this.workloadDisruption && timedOut && this.pausedAtMs === undefined) {
      if (this.input.allowPostCopy) {
        if (this.phase === "precopy") this.startPostCopy();
      } else {
        // dom.Suspend(): the vCPUs stop, pre-copy goes on without new dirty pages, and the
        // monitor allows as long again before it aborts.
        this.pausedAtMs = now;
        this.allowedSeconds *= 2;
      }
      this.current = this.buildSnapshot();
      return;
    }
    const stalledSeconds = Math.floor((now - this.lastProgressMs) / 1000);
    if (this.input.progressTimeoutSeconds > 0 && stalledSeconds > this.input.progressTimeoutSeconds) {
      this.currentOutcome = { kind: "aborted", why: "stuck", afterSeconds: stalledSeconds };
    } else if (timedOut) {
      this.currentOutcome = { kind: "aborted", why: "timeout", afterSeconds: this.allowedSeconds };
    }
  }

  // --- the transfer's side (QEMU), in 50 ms ticks -----------------------------------------------

  private jitter(): number {
    return this.rng === undefined ? 1 : 1 + JITTER * (2 * this.rng.next() - 1);
  }

  private tick(ms: number): void {
    // Draw both factors every tick, whatever the phase, so the stream does not depend on the phase.
    const bandwidth = this.input.bandwidthBytesPerSecond * this.jitter();
    const running = this.pausedAtMs === undefined ? 1 : 0;
    const dirtyRate =
      this.input.dirtyRateBytesPerSecond * (1 - this.throttle / 100) * this.jitter() * running;
    this.lastBandwidth = 0;
    this.lastDirtyRate = 0;
    this.lastDiskRate = 0;
    let left = ms;
    let syncs = 0;
    while (left > 0 && this.phase !== "done") {
      if (this.phase === "disk") {
        this.lastDiskRate = bandwidth;
        const toFinish = bandwidth > 0 ? ((this.blockTotal - this.diskDone) * 1000) / bandwidth : Infinity;
        const step = Math.min(left, toFinish);
        this.diskDone = step === toFinish ? this.blockTotal : this.diskDone + (bandwidth * step) / 1000;
        this.elapsed += step;
        left -= step;
        if (this.diskDone >= this.blockTotal) this.startMemory();
      } else if (this.phase === "precopy") {
        this.lastBandwidth = bandwidth;
        this.lastDirtyRate = dirtyRate;
        const step = syncs < MAX_SYNCS_PER_TICK ? Math.min(left, this.drainTimeMs(bandwidth)) : left;
        this.send(bandwidth, step, step !== left);
        this.dirty(dirtyRate, step);
        this.elapsed += step;
        left -= step;
        if (this.passRemaining === 0 && left > 0) {
          // The pass ran dry inside the tick: QEMU's estimate is 0, below any threshold, so it syncs now.
          syncs++;
          this.syncAndMaybeComplete(bandwidth);
        }
      } else if (this.phase === "stopcopy") {
        const rate = this.stopCopyBandwidth;
        this.lastBandwidth = rate;
        this.lastDirtyRate = 0; // the guest is paused
        const step = Math.min(left, this.drainTimeMs(rate));
        this.send(rate, step, step !== left);
        this.elapsed += step;
        left -= step;
        if (this.passRemaining === 0) this.completePreCopy();
      } else {
        this.lastBandwidth = bandwidth;
        const step = Math.min(left, this.drainTimeMs(bandwidth));
        const before = this.passRemaining;
        this.send(bandwidth, step, step !== left);
        this.fault(step, before, before - this.passRemaining);
        this.elapsed += step;
        left -= step;
        if (this.passRemaining === 0) this.complete("PostCopy", this.postcopyDowntimeMs);
      }
    }
    // End of the tick: QEMU compares its estimate (the pass remainder) with the threshold.
    if (this.phase === "precopy" && this.passRemaining * PAGE_SIZE < this.threshold(bandwidth)) {
      this.syncAndMaybeComplete(bandwidth);
    }
  }

  /** Bytes that fit in the downtime budget at this bandwidth: QEMU's threshold_size. */
  private threshold(bandwidth: number): number {
    return (bandwidth * this.input.maxDowntimeMs) / 1000;
  }

  private inFirstPass(): boolean {
    return this.phase === "precopy" && this.iterationCount === 1;
  }

  /** Zero pages among the first `scanned` pages of iteration 1. */
  private zeroPagesIn(scanned: number): number {
    return Math.floor(scanned * this.zeroFraction);
  }

  /** Time until the current pass is sent at this bandwidth. */
  private drainTimeMs(bandwidth: number): number {
    const zeros = this.inFirstPass()
      ? this.zeroPagesIn(this.totalPages) - this.zeroPagesIn(this.firstPassScanned)
      : 0;
    const bytes = Math.max(0, (this.passRemaining - zeros) * PAGE_SIZE - this.sendCarry);
    if (bytes === 0) return 0;
    return bandwidth > 0 ? (bytes * 1000) / bandwidth : Infinity;
  }

  /** Sends for `ms` at `bandwidth`; `drains` says the step was cut to exactly empty the pass. */
  private send(bandwidth: number, ms: number, drains: boolean): void {
    const budget = this.sendCarry + (bandwidth * ms) / 1000;
    const budgetPages = Math.floor(budget / PAGE_SIZE);
    let scanned: number;
    let zeros = 0;
    if (drains) {
      scanned = this.passRemaining;
    } else if (this.inFirstPass()) {
      // Zero pages cost no bandwidth, so the walk covers more pages than the budget pays for.
      scanned = Math.min(this.passRemaining, Math.floor(budgetPages / (1 - this.zeroFraction)));
      while (
        scanned > 0 &&
        scanned -
          (this.zeroPagesIn(this.firstPassScanned + scanned) - this.zeroPagesIn(this.firstPassScanned)) >
          budgetPages
      ) {
        scanned--;
      }
    } else {
      scanned = Math.min(this.passRemaining, budgetPages);
    }
    if (this.inFirstPass()) {
      zeros = this.zeroPagesIn(this.firstPassScanned + scanned) - this.zeroPagesIn(this.firstPassScanned);
      this.firstPassScanned += scanned;
    }
    const normal = scanned - zeros;
    this.passRemaining -= scanned;
    this.normalPages += normal;
    this.constantPages += zeros;
    this.periodSentBytes += normal * PAGE_SIZE;
    // Budget left over after draining belongs to the time after the drain, which the caller runs next.
    this.sendCarry = drains ? 0 : Math.max(0, budget - normal * PAGE_SIZE);
  }

  private dirty(dirtyRate: number, ms: number): void {
    this.dirtyCarry += (dirtyRate * ms) / 1000;
    const pages = Math.floor(this.dirtyCarry / PAGE_SIZE);
    this.dirtyCarry -= pages * PAGE_SIZE;
    // A page already pending (in the pass or dirtied before) is only sent once.
    const room = this.totalPages - this.passRemaining - this.dirtied;
    const added = Math.min(pages, Math.max(0, room));
    this.dirtied += added;
    this.periodDirtiedPages += added;
  }

  /**
   * Post-copy page faults: guest touches on the target that hit a page still on the source, in
   * proportion to how much is still missing. Each request is answered by a page actually sent, so
   * a stalled link does not pile up requests.
   */
  private fault(ms: number, missingPages: number, sentPages: number): void {
    if (this.totalPages === 0) return;
    const touchesPerSecond = (this.input.dirtyRateBytesPerSecond / PAGE_SIZE) * POSTCOPY_FAULT_SHARE;
    this.requestCarry += ((touchesPerSecond * ms) / 1000) * (missingPages / this.totalPages);
    const requests = Math.min(Math.floor(this.requestCarry), sentPages);
    this.requestCarry = Math.min(this.requestCarry - requests, 1);
    this.postcopyRequests += requests;
  }

  private startMemory(): void {
    this.phase = "precopy";
    this.iterationCount = 1;
    this.passRemaining = this.totalPages;
    this.periodStart = this.elapsed;
  }

  /** A bitmap sync (a new iteration), then QEMU's switch-over test on the exact pending size. */
  private syncAndMaybeComplete(bandwidth: number): void {
    this.iterationCount++;
    const pending = Math.min(this.totalPages, this.passRemaining + this.dirtied);
    this.passRemaining = pending;
    this.dirtied = 0;
    this.sendCarry = 0;
    this.updateRates();
    if (pending === 0 || pending * PAGE_SIZE < this.threshold(bandwidth)) {
      // Stop-and-copy: the guest pauses while the rest goes over the wire, which takes simulated
      // time like any other transfer (so a poll can land in the pause).
      this.iterationCount++; // the completion does one last sync
      this.phase = "stopcopy";
      this.stopCopyBandwidth = bandwidth;
      const downtimeMs = bandwidth > 0 ? (pending * PAGE_SIZE * 1000) / bandwidth : 0;
      this.stopCopyDowntimeMs = Math.max(1, Math.ceil(downtimeMs));
      if (pending === 0) this.completePreCopy();
    }
  }

  /** QEMU's dirty-rate check, at most once a second: auto-converge raises the throttle step by step. */
  private updateRates(): void {
    if (this.elapsed - this.periodStart < RATE_PERIOD_MS) return;
    const dirtiedBytes = this.periodDirtiedPages * PAGE_SIZE;
    if (this.input.allowAutoConverge && dirtiedBytes > this.periodSentBytes * THROTTLE_TRIGGER_SHARE) {
      // Like QEMU, only a second high period in a row raises the throttle.
      this.dirtyRateHighCount++;
      if (this.dirtyRateHighCount >= 2) {
        this.dirtyRateHighCount = 0;
        this.throttle =
          this.throttle === 0 ? THROTTLE_INITIAL : Math.min(THROTTLE_MAX, this.throttle + THROTTLE_INCREMENT);
      }
    }
    this.periodStart = this.elapsed;
    this.periodSentBytes = 0;
    this.periodDirtiedPages = 0;
  }

  private startPostCopy(): void {
    // The switch is one more sync; the guest pauses just long enough to send its device state
    // and the bitmap of pages the target must still fetch, then runs on the target.
    this.iterationCount++;
    this.passRemaining = Math.min(this.totalPages, this.passRemaining + this.dirtied);
    this.dirtied = 0;
    this.sendCarry = 0;
    this.phase = "postcopy";
    const switchBytes = DEVICE_STATE_BYTES + this.totalPages / 8;
    const bandwidth = this.input.bandwidthBytesPerSecond;
    this.postcopyDowntimeMs = Math.max(1, bandwidth > 0 ? Math.ceil((switchBytes * 1000) / bandwidth) : 1);
    // The resumed guest faults on a missing page right away, so a post-copy never has zero requests.
    this.postcopyRequests = Math.max(this.postcopyRequests, 1);
    if (this.passRemaining === 0) this.complete("PostCopy", this.postcopyDowntimeMs);
  }

  /** The end of pre-copy: a paused guest was down since the monitor suspended it. */
  private completePreCopy(): void {
    if (this.pausedAtMs === undefined) this.complete("PreCopy", this.stopCopyDowntimeMs);
    else this.complete("Paused", Math.max(1, Math.ceil(this.elapsed - this.pausedAtMs)));
  }

  private complete(mode: MigrationMode, downtimeMs: number): void {
    this.phase = "done";
    // The model has no separate statistics exchange at switch-over, so both downtimes agree.
    this.currentOutcome = { kind: "completed", mode, downtimeMs, downtimeNetMs: downtimeMs };
  }

  private buildSnapshot(): MigrationSnapshot {
    const memoryTotal = this.totalPages * PAGE_SIZE;
    const memoryRemaining =
      this.phase === "disk" ? memoryTotal : this.phase === "done" ? 0 : this.passRemaining * PAGE_SIZE;
    const memoryProcessed = this.normalPages * PAGE_SIZE;
    const diskProcessed = Math.floor(this.diskDone);
    const diskRemaining = this.blockTotal - diskProcessed;
    const outcome = this.currentOutcome;
    let expectedDowntimeMs = 0;
    if (outcome?.kind === "completed") expectedDowntimeMs = outcome.downtimeMs;
    else if (this.phase === "stopcopy") expectedDowntimeMs = this.stopCopyDowntimeMs;
    else if (this.phase === "postcopy") expectedDowntimeMs = this.postcopyDowntimeMs;
    else if (this.phase === "precopy" && this.lastBandwidth > 0) {
      expectedDowntimeMs = Math.floor((memoryRemaining * 1000) / this.lastBandwidth);
    }
    return Object.freeze({
      elapsedMs: Math.round(this.elapsed),
      dataProcessed: memoryProcessed + diskProcessed,
      dataRemaining: memoryRemaining + diskRemaining,
      dataTotal: memoryTotal + this.blockTotal,
      memoryProcessed,
      memoryRemaining,
      memoryTotal,
      diskProcessed,
      diskRemaining,
      diskTotal: this.blockTotal,
      memoryBandwidthBps: Math.round(this.lastBandwidth),
      dirtyRateBps: Math.round(this.lastDirtyRate),
      diskBps: Math.round(this.lastDiskRate),
      iteration: this.iterationCount,
      postcopyRequests: this.postcopyRequests,
      constantPages: this.constantPages,
      normalPages: this.normalPages,
      normalData: this.normalPages * PAGE_SIZE,
      expectedDowntimeMs,
      throttlePercent: this.throttle,
      mode:
        outcome?.kind === "completed"
          ? outcome.mode
          : this.phase === "postcopy"
            ? "PostCopy"
            : this.pausedAtMs !== undefined
              ? "Paused"
              : "PreCopy",
    });
  }
}
