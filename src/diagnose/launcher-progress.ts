// The source virt-launcher's `Migration info` lines as diagnose reads them: with the parser the
// live progress uses (migration/progress-line.ts), given the release of the launcher that wrote each
// line, read from its pod's image as the live follow reads it (launcher-image.ts). diagnose once
// had its own parser, which took the "Mbps" of v1.0.1–v1.2.0 launchers at face value, though they
// are bytes/s ÷ 8 ÷ 10^6: 64 times too small, and in steps of 8 MB/s, so that a dirty rate equal to
// the bandwidth proves nothing.
//
// Rules compare the dirty rate with the bandwidth. Both are off by the same factor, so the
// comparison holds when the release is unknown; the rates themselves are then unknown, and a rule
// says so rather than print a number.

import { launcherKubeVirtVersion } from "../k8s/launcher-image.js";
import { formatRateWithin } from "../migration/format.js";
import { type MigrationProgress, parseMigrationInfo } from "../migration/progress-line.js";
import { computeImage, findLogLines, type LogEntry } from "./evidence.js";
import type { Snapshot } from "./types.js";

/**
 * A release whose "Mbps" are true: a line of an unknown release is read as if from it, for rates
 * that are right relative to each other only.
 */
const trueMbpsRelease = "v1.2.1";
/** One Mbps in bytes per second: the unit of a line whose release is unknown. */
const oneMbps = 1e6 / 8;

/** The dirty rate and the bandwidth of a line, in bytes per second, and how far to trust them. */
export interface LauncherRates {
  bandwidth: number;
  dirty: number;
  /**
   * Each true rate is at least its value and less than the value plus this: 0 when read exactly
   * (bytes, or true Mbps); the 8 MB/s of v1.0.1–v1.2.0; one unit of the line when the release is
   * unknown, since a tie may then hide a whole 8 MB/s step.
   */
  step: number;
  /** "relative": the release is unknown, so only the rates' ratio is right, not the rates. */
  reading: "exact" | "stepped" | "relative";
}

export interface LauncherProgress {
  entry: LogEntry;
  progress: MigrationProgress;
  /** The KubeVirt release of the launcher that wrote the line, when known. */
  launcherVersion?: string | undefined;
  rates: LauncherRates;
}

/**
 * The KubeVirt release of a launcher pod in the snapshot: its `compute` image's tag, or the
 * KubeVirt CR's version when the image is the VMI's own and the cluster still deploys it
 * (launcher-image.ts). Undefined when the pod was not read or neither tells.
 */
export function launcherVersionOfPod(s: Snapshot, podName: string): string | undefined {
  const pod = s.pods.find((p) => p.metadata.name === podName);
  const image = pod && computeImage(pod);
  // The VMI's outdated label speaks about its own launcher image only.
  const vmi = image === s.vmi?.status?.launcherContainerImageVersion ? s.vmi : undefined;
  return launcherKubeVirtVersion(image, vmi, s.kubevirt);
}

/** A log entry's progress, read for the release of the launcher that wrote it; undefined for other lines. */
export function readProgress(s: Snapshot, entry: LogEntry): LauncherProgress | undefined {
  const launcherVersion = launcherVersionOfPod(s, entry.pod);
  const progress = parseMigrationInfo(entry.text, launcherVersion);
  if (!progress) return undefined;
  const step = progress.rateStepBytesPerSecond;
  const known = progress.bandwidthBytesPerSecond !== undefined;
  // The parser leaves the rates of an unknown release undefined; read as true Mbps, their ratio holds.
  const read = known ? progress : parseMigrationInfo(entry.text, trueMbpsRelease);
  const rates: LauncherRates = {
    bandwidth: read?.bandwidthBytesPerSecond ?? 0,
    dirty: read?.dirtyRateBytesPerSecond ?? 0,
    step: known ? (step ?? 0) : oneMbps,
    reading: !known ? "relative" : step ? "stepped" : "exact",
  };
  return { entry, progress, launcherVersion, rates };
}

/** The progress lines in the snapshot's logs, in file order; of one migration when its UID is given. */
export function progressLines(s: Snapshot, migrationUid?: string | undefined): LauncherProgress[] {
  const out: LauncherProgress[] = [];
  for (const entry of findLogLines(s, /Migration info for /)) {
    const read = readProgress(s, entry);
    if (read && (migrationUid === undefined || read.progress.migrationUid === migrationUid)) out.push(read);
  }
  return out;
}

/**
 * Whether the guest dirtied memory at least as fast as the migration sent it, whichever true rates
 * the line's numbers stand for: the dirty rate's least must reach the bandwidth's most.
 */
export function dirtyAtLeastBandwidth(rates: LauncherRates): boolean {
  return rates.dirty > 0 && rates.dirty >= rates.bandwidth + rates.step;
}

/**
 * What a rule says about a line's rates when the quoted line does not say it right: the true
 * rates of a v1.0.1–v1.2.0 line (as ranges), or that a line's rates are unknown. Undefined when the
 * line reads as written (bytes, true Mbps).
 */
export function ratesNote(line: LauncherProgress): string | undefined {
  const { rates, launcherVersion } = line;
  if (rates.reading === "stepped")
    return (
      `virt-launcher ${launcherVersion} labels its rates Mbps but writes bytes/s ÷ 8 ÷ 10^6, 64 times less (kubevirt/kubevirt#11377): ` +
      `the last line's dirty rate is ${formatRateWithin(rates.dirty, rates.step)} against a bandwidth of ${formatRateWithin(rates.bandwidth, rates.step)}.`
    );
  if (rates.reading === "relative")
    return 'The launcher\'s KubeVirt release is unknown, so the rates themselves are too (v1.0.1–v1.2.0 wrote "Mbps" 64 times too small): only the dirty rate against the bandwidth is read.';
  return undefined;
}
