// The source virt-launcher's `Migration info for <uid>: ...` log line, turned into progress.
// The launcher logs it about every 4 s and at each iteration boundary (facts §n). Every launcher
// log line is a JSON object whose `msg` carries the text; `kubectl logs --timestamps` adds an
// RFC 3339 prefix. Lines that are not a progress line give undefined, never an error.
//
// The line changed over KubeVirt's releases (live-migration-source.go; tags from
// `git tag --contains`), and its rates cannot always be read from the line alone:
// - v0.55.0–v1.0.0 (kubevirt/kubevirt#7729): bytes, `DataProcessed:<n>B`, rates in `B/s`, then
//   `DiskBps:<n>`; logged at verbosity 4 only.
// - v1.0.1–v1.2.0 (#10239, backported to release-1.0): MiB, rates labelled `Mbps` but computed as
//   bytes/s ÷ 8 ÷ 10^6, truncated: 64 times too small, in steps of 8 MB/s. Verbosity 2 from v1.1.1.
// - v1.2.1, v1.3.0 and later (#11377, backported to release-1.2): the same text with true Mbps
//   (bits/s ÷ 10^6). release-1.0 and release-1.1 never got the fix.
// - v1.9.0 and later: a completed job's line has `Downtime:<n>ms DowntimeNet:<n>ms` in place of
//   `ExpectedDowntime`, and ` CompressionRatio:<x>x` may follow `DiskMbps`.
// So a MiB line's rates are read with the launcher's release (its image tag, or the KubeVirt CR);
// without it they are unknown, unless the line has a v1.9-only field. Sizes are right in every form.

import { parseKubeVirtVersion } from "../k8s/kubevirt-version.js";

const MiB = 1024 * 1024;
/** The step of the v1.0.1–v1.2.0 rates: one unit of bytes/s ÷ 8 ÷ 10^6. */
const buggyMbpsStep = 8_000_000;

export interface MigrationProgress {
  /** The migration (VMIM) UID the line is about. */
  migrationUid: string;
  /** The launcher's timestamp of the line, when it had one. */
  at?: string | undefined;
  elapsedMs: number;
  dataProcessedBytes: number;
  dataRemainingBytes: number;
  dataTotalBytes: number;
  memoryRemainingBytes?: number | undefined;
  /** Transfer rate, bytes per second; undefined when the launcher's unit cannot be known. */
  bandwidthBytesPerSecond?: number | undefined;
  /** How fast the guest dirties memory, bytes per second; undefined as the bandwidth. */
  dirtyRateBytesPerSecond?: number | undefined;
  /**
   * Set when the launcher (v1.0.1–v1.2.0) wrote its rates in steps of this many bytes per second:
   * each true rate is at least the value above and less than the value plus one step.
   */
  rateStepBytesPerSecond?: number | undefined;
  iteration: number;
  /** While running: what the switch-over would cost now. */
  expectedDowntimeMs?: number | undefined;
  /** On the completed job's line: the real pause. */
  downtimeMs?: number | undefined;
  compressionRatio?: number | undefined;
  /** Set when the line describes the completed job (Downtime instead of ExpectedDowntime). */
  completed: boolean;
}

const prefix = /Migration info for ([0-9A-Za-z-]+): (.*)$/;

/** `Key:123unit` pairs; the value keeps its unit so each field is read with the one it must have. */
function fields(text: string): Map<string, { value: number; unit: string }> {
  const out = new Map<string, { value: number; unit: string }>();
  for (const match of text.matchAll(/(\w+):(-?\d+(?:\.\d+)?)([A-Za-z]*(?:\/s)?)/g)) {
    const [, key, value, unit] = match;
    if (key !== undefined && value !== undefined) out.set(key, { value: Number(value), unit: unit ?? "" });
  }
  return out;
}

function message(line: string): { msg: string; at?: string | undefined } {
  const stamped = /^(\d{4}-\d\d-\d\dT\S+) (.*)$/.exec(line.trim());
  const body = stamped?.[2] ?? line.trim();
  if (body.startsWith("{")) {
    try {
      const json = JSON.parse(body) as { msg?: unknown; timestamp?: unknown };
      if (typeof json.msg === "string") {
        return { msg: json.msg, at: typeof json.timestamp === "string" ? json.timestamp : stamped?.[1] };
      }
    } catch {
      // A launcher line cut short: its numbers cannot be trusted (Iteration:12 may read as 1).
      return { msg: "", at: stamped?.[1] };
    }
  }
  return { msg: body, at: stamped?.[1] };
}

/**
 * How a launcher of this KubeVirt release wrote the rates of a MiB line: true Mbps (v1.2.1 and
 * later) or the 64-times-too-small steps of v1.0.1–v1.2.0. Undefined when the version is unknown,
 * not a KubeVirt release number kvmig knows (a downstream product's own version), or older than
 * any MiB line (the version is then wrong about the launcher).
 */
export function mbpsFormOf(launcherVersion: string | undefined): "Mbps" | "bytes/8e6" | undefined {
  const v = launcherVersion === undefined ? undefined : parseKubeVirtVersion(launcherVersion);
  if (v?.[0] !== 1) return undefined;
  const [, minor, patch] = v;
  if (minor > 2 || (minor === 2 && patch >= 1)) return "Mbps";
  return minor > 0 || patch >= 1 ? "bytes/8e6" : undefined;
}

/**
 * Whether a launcher of this release logs its progress line at the default verbosity (2, from
 * v1.1.1); before, only at 4. Undefined when the version does not say.
 */
export function progressLoggedByDefault(launcherVersion: string | undefined): boolean | undefined {
  const v = launcherVersion === undefined ? undefined : parseKubeVirtVersion(launcherVersion);
  if (!v || v[0] > 1) return undefined;
  return v[0] === 1 && (v[1] > 1 || (v[1] === 1 && v[2] >= 1));
}

/**
 * The progress a `Migration info` line reports, or undefined for any other line. The launcher's
 * KubeVirt release (e.g. "v1.2.0") says how to read the rates of a MiB line; without it they are
 * left undefined unless the line itself shows its form.
 */
export function parseMigrationInfo(line: string, launcherVersion?: string): MigrationProgress | undefined {
  const { msg, at } = message(line);
  const head = prefix.exec(msg);
  if (!head?.[1] || head[2] === undefined) return undefined;
  const f = fields(head[2]);
  const read = (key: string, unit: string): number | undefined => {
    const field = f.get(key);
    return field !== undefined && field.unit === unit ? field.value : undefined;
  };
  // The unit of DataProcessed names the form; every other field must then be in that form's units.
  const bytesForm = f.get("DataProcessed")?.unit === "B";
  const [size, rate, sizeScale] = bytesForm ? ["B", "B/s", 1] : ["MiB", "Mbps", MiB];
  const elapsedMs = read("TimeElapsed", "ms");
  const processed = read("DataProcessed", size);
  const remaining = read("DataRemaining", size);
  const total = read("DataTotal", size);
  const bandwidth = read("MemoryBandwidth", rate);
  const dirty = read("DirtyRate", rate);
  const iteration = read("Iteration", "");
  if (
    elapsedMs === undefined ||
    processed === undefined ||
    remaining === undefined ||
    total === undefined ||
    bandwidth === undefined ||
    dirty === undefined ||
    iteration === undefined
  ) {
    return undefined;
  }
  const downtimeMs = read("Downtime", "ms");
  const memoryRemaining = read("MemoryRemaining", size);
  const compressionRatio = read("CompressionRatio", "x");
  // DowntimeNet and CompressionRatio exist only in v1.9.0 and later: true Mbps, whatever the version says.
  const newerThanTheFix = f.has("DowntimeNet") || compressionRatio !== undefined;
  const form = bytesForm ? "B/s" : newerThanTheFix ? "Mbps" : mbpsFormOf(launcherVersion);
  // Mbps in the line are bits per second / 10^6; the v1.0.1–v1.2.0 "Mbps" are bytes/s / 8 / 10^6.
  const toBytesPerSecond = (value: number): number | undefined =>
    form === "B/s"
      ? value
      : form === "Mbps"
        ? (value * 1e6) / 8
        : form === "bytes/8e6"
          ? value * buggyMbpsStep
          : undefined;
  return {
    migrationUid: head[1],
    at,
    elapsedMs,
    dataProcessedBytes: processed * sizeScale,
    dataRemainingBytes: remaining * sizeScale,
    dataTotalBytes: total * sizeScale,
    memoryRemainingBytes: memoryRemaining === undefined ? undefined : memoryRemaining * sizeScale,
    bandwidthBytesPerSecond: toBytesPerSecond(bandwidth),
    dirtyRateBytesPerSecond: toBytesPerSecond(dirty),
    rateStepBytesPerSecond: form === "bytes/8e6" ? buggyMbpsStep : undefined,
    iteration,
    expectedDowntimeMs: read("ExpectedDowntime", "ms"),
    downtimeMs,
    compressionRatio,
    completed: downtimeMs !== undefined,
  };
}

/** The launcher's abort warnings (v1.9+ logs the reason only here), or undefined. */
export function parseAbortLine(line: string): { why: "stuck" | "timeout"; seconds: number } | undefined {
  const { msg } = message(line);
  const match = /^Aborting migration: (stuck for|not completed after) (\d+) seconds/.exec(msg);
  if (!match?.[2]) return undefined;
  return { why: match[1] === "stuck for" ? "stuck" : "timeout", seconds: Number(match[2]) };
}
