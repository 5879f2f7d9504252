// The source virt-launcher's `Migration info for <uid>: ...` log line, turned into progress.
// The launcher logs it about every 4 s and at each iteration boundary (facts §n). Every launcher
// log line is a JSON object whose `msg` carries the text; `kubectl logs --timestamps` adds an
// RFC 3339 prefix. Lines that are not a progress line give undefined, never an error.

const MiB = 1024 * 1024;

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
  /** Transfer rate, bytes per second. */
  bandwidthBytesPerSecond: number;
  /** How fast the guest dirties memory, bytes per second. */
  dirtyRateBytesPerSecond: number;
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
  for (const match of text.matchAll(/(\w+):(-?\d+(?:\.\d+)?)([A-Za-z]*)/g)) {
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

/** The progress a `Migration info` line reports, or undefined for any other line. */
export function parseMigrationInfo(line: string): MigrationProgress | undefined {
  const { msg, at } = message(line);
  const head = prefix.exec(msg);
  if (!head?.[1] || head[2] === undefined) return undefined;
  const f = fields(head[2]);
  const read = (key: string, unit: string): number | undefined => {
    const field = f.get(key);
    return field !== undefined && field.unit === unit ? field.value : undefined;
  };
  const elapsedMs = read("TimeElapsed", "ms");
  const processed = read("DataProcessed", "MiB");
  const remaining = read("DataRemaining", "MiB");
  const total = read("DataTotal", "MiB");
  const bandwidth = read("MemoryBandwidth", "Mbps");
  const dirty = read("DirtyRate", "Mbps");
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
  const memoryRemaining = read("MemoryRemaining", "MiB");
  return {
    migrationUid: head[1],
    at,
    elapsedMs,
    dataProcessedBytes: processed * MiB,
    dataRemainingBytes: remaining * MiB,
    dataTotalBytes: total * MiB,
    memoryRemainingBytes: memoryRemaining === undefined ? undefined : memoryRemaining * MiB,
    // Mbps in the line are bits per second / 10^6.
    bandwidthBytesPerSecond: (bandwidth * 1e6) / 8,
    dirtyRateBytesPerSecond: (dirty * 1e6) / 8,
    iteration,
    expectedDowntimeMs: read("ExpectedDowntime", "ms"),
    downtimeMs,
    compressionRatio: read("CompressionRatio", "x"),
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
