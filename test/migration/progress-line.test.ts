// The source virt-launcher's `Migration info for <uid>: ...` progress line and its abort warnings
// (facts §n), parsed from the exact JSON lines KubeVirt's logger writes, from `kubectl logs
// --timestamps` output and from the bare message; anything else gives undefined, never a throw.
import { describe, expect, it } from "vitest";
import {
  mbpsFormOf,
  parseAbortLine,
  parseMigrationInfo,
  progressLoggedByDefault,
} from "../../src/migration/progress-line.js";
import { type MigrationSnapshot, migrationInfoMessage } from "../../src/sim/migration-model.js";
import { launcherLogLine } from "../../src/sim/objects/logs.js";

const MiB = 1024 * 1024;
const uid = "5b1a9f3e-6c2d-4e8a-9b7f-0d1c2e3f4a5b";

/** A running job's stats, chosen so that every unit conversion is exact. */
const snapshot: MigrationSnapshot = {
  elapsedMs: 12_345,
  dataProcessed: 1536 * MiB,
  dataRemaining: 2560 * MiB,
  dataTotal: 4096 * MiB,
  memoryProcessed: 1536 * MiB,
  memoryRemaining: 2048 * MiB,
  memoryTotal: 4096 * MiB,
  diskProcessed: 0,
  diskRemaining: 0,
  diskTotal: 0,
  // 1000 Mbps and 100 Mbps in the line.
  memoryBandwidthBps: 125_000_000,
  dirtyRateBps: 12_500_000,
  diskBps: 0,
  iteration: 3,
  postcopyRequests: 0,
  constantPages: 26_214,
  normalPages: 393_216,
  normalData: 1536 * MiB,
  expectedDowntimeMs: 420,
  throttlePercent: 0,
  mode: "PreCopy",
};

const time = Date.parse("2025-03-14T09:26:53.589Z");

function jsonLine(msg: string, level: "info" | "warning" = "info"): string {
  return launcherLogLine({
    time,
    level,
    msg,
    pos: "live-migration-source.go:721",
    object: { namespace: "prod", name: "db-0", kind: "", uid: "0a4bd0d6-aaaa-bbbb-cccc-333344445555" },
  });
}

/** The same kind of line written out by hand, keys sorted as go-kit writes them. */
const literalLine =
  '{"component":"virt-launcher","kind":"","level":"info","msg":"Migration info for 9c5e2d1a-0b3f-4c7e-8a6d-1f2e3d4c5b6a: ' +
  "TimeElapsed:8004ms DataProcessed:812MiB DataRemaining:3301MiB DataTotal:4113MiB MemoryProcessed:812MiB " +
  "MemoryRemaining:3284MiB MemoryTotal:4096MiB MemoryBandwidth:2400Mbps DirtyRate:640Mbps Iteration:1 " +
  "PostcopyRequests:0 ConstantPages:12000 NormalPages:207000 NormalData:808MiB ExpectedDowntime:11470ms " +
  'DiskMbps:16","name":"web-1","namespace":"default","pos":"live-migration-source.go:721",' +
  '"timestamp":"2025-03-14T09:26:57.601203Z","uid":"7f00aa11-2222-4333-8444-555566667777"}';

describe("parseMigrationInfo", () => {
  it("reads a full JSON launcher line as the simulator writes it, converting the units", () => {
    const line = jsonLine(migrationInfoMessage(uid, snapshot));
    // The message really is the documented shape.
    expect(line).toContain(
      `"msg":"Migration info for ${uid}: TimeElapsed:12345ms DataProcessed:1536MiB DataRemaining:2560MiB DataTotal:4096MiB`,
    );
    expect(line).toContain("MemoryBandwidth:1000Mbps DirtyRate:100Mbps Iteration:3");
    // The simulator is KubeVirt v1.9.0: true Mbps.
    expect(parseMigrationInfo(line, "v1.9.0")).toEqual({
      migrationUid: uid,
      at: "2025-03-14T09:26:53.589000Z",
      elapsedMs: 12_345,
      dataProcessedBytes: 1536 * MiB,
      dataRemainingBytes: 2560 * MiB,
      dataTotalBytes: 4096 * MiB,
      memoryRemainingBytes: 2048 * MiB,
      bandwidthBytesPerSecond: 125_000_000,
      dirtyRateBytesPerSecond: 12_500_000,
      iteration: 3,
      expectedDowntimeMs: 420,
      downtimeMs: undefined,
      compressionRatio: undefined,
      completed: false,
    });
  });

  it("reads a literal launcher line written by hand", () => {
    const progress = parseMigrationInfo(literalLine, "v1.5.0");
    expect(progress).toEqual({
      migrationUid: "9c5e2d1a-0b3f-4c7e-8a6d-1f2e3d4c5b6a",
      at: "2025-03-14T09:26:57.601203Z",
      elapsedMs: 8004,
      dataProcessedBytes: 812 * MiB,
      dataRemainingBytes: 3301 * MiB,
      dataTotalBytes: 4113 * MiB,
      memoryRemainingBytes: 3284 * MiB,
      // Mbps are bits per second / 10^6: 2400 Mbps = 300 000 000 bytes/s.
      bandwidthBytesPerSecond: 300_000_000,
      dirtyRateBytesPerSecond: 80_000_000,
      iteration: 1,
      expectedDowntimeMs: 11_470,
      downtimeMs: undefined,
      compressionRatio: undefined,
      completed: false,
    });
  });

  it("takes the migration UID from the message, not the VMI uid of the JSON object", () => {
    const progress = parseMigrationInfo(jsonLine(migrationInfoMessage(uid, snapshot)));
    expect(progress?.migrationUid).toBe(uid);
  });

  it("reads the completed job's line: Downtime and DowntimeNet instead of ExpectedDowntime", () => {
    const msg = migrationInfoMessage(
      uid,
      { ...snapshot, dataRemaining: 0, dataProcessed: 4096 * MiB },
      { downtimeMs: 87, downtimeNetMs: 64 },
    );
    expect(msg).toContain("Downtime:87ms DowntimeNet:64ms DiskMbps:0");
    expect(msg).not.toContain("ExpectedDowntime");
    const progress = parseMigrationInfo(jsonLine(msg));
    expect(progress).toMatchObject({
      migrationUid: uid,
      completed: true,
      downtimeMs: 87,
      expectedDowntimeMs: undefined,
      dataRemainingBytes: 0,
      dataProcessedBytes: 4096 * MiB,
    });
  });

  it("does not mistake DowntimeNet or ExpectedDowntime for Downtime", () => {
    const running = parseMigrationInfo(jsonLine(migrationInfoMessage(uid, snapshot)));
    expect(running?.completed).toBe(false);
    expect(running?.downtimeMs).toBeUndefined();
    // DowntimeNet listed first must not be read as the downtime either.
    const text =
      `Migration info for ${uid}: TimeElapsed:1ms DataProcessed:0MiB DataRemaining:0MiB DataTotal:1MiB ` +
      "MemoryBandwidth:8Mbps DirtyRate:0Mbps Iteration:2 DowntimeNet:5ms Downtime:9ms DiskMbps:0";
    expect(parseMigrationInfo(text)).toMatchObject({ downtimeMs: 9, completed: true });
  });

  it("reads the CompressionRatio suffix after DiskMbps", () => {
    const msg = `${migrationInfoMessage(uid, snapshot)} CompressionRatio:2.35x`;
    const progress = parseMigrationInfo(jsonLine(msg));
    expect(progress?.compressionRatio).toBe(2.35);
    expect(progress?.dataRemainingBytes).toBe(2560 * MiB);
  });

  it("ignores a CompressionRatio without its x unit", () => {
    const msg = `${migrationInfoMessage(uid, snapshot)} CompressionRatio:2.35`;
    const progress = parseMigrationInfo(msg);
    expect(progress).toBeDefined();
    expect(progress?.compressionRatio).toBeUndefined();
  });

  it("reads a line with the kubectl logs --timestamps prefix, keeping the launcher's own timestamp", () => {
    const line = `2025-03-14T09:26:57.602311456Z ${literalLine}`;
    const progress = parseMigrationInfo(line);
    expect(progress?.at).toBe("2025-03-14T09:26:57.601203Z");
    expect(progress?.dataRemainingBytes).toBe(3301 * MiB);
  });

  it("uses the --timestamps prefix when the JSON has no timestamp", () => {
    const msg = migrationInfoMessage(uid, snapshot);
    const line = `2025-03-14T09:27:01.000000001Z ${JSON.stringify({ level: "info", msg })}`;
    expect(parseMigrationInfo(line)?.at).toBe("2025-03-14T09:27:01.000000001Z");
  });

  it("reads the plain message without JSON (at is unknown)", () => {
    const progress = parseMigrationInfo(migrationInfoMessage(uid, snapshot));
    expect(progress?.migrationUid).toBe(uid);
    expect(progress?.at).toBeUndefined();
    expect(progress?.dataTotalBytes).toBe(4096 * MiB);
    expect(progress?.iteration).toBe(3);
  });

  it("reads the plain message behind a --timestamps prefix, and a trailing newline", () => {
    const line = `2025-03-14T09:27:05.5Z ${migrationInfoMessage(uid, snapshot)}\n`;
    const progress = parseMigrationInfo(line);
    expect(progress?.at).toBe("2025-03-14T09:27:05.5Z");
    expect(progress?.elapsedMs).toBe(12_345);
  });

  it("converts MiB to bytes (× 1024²) and, from a v1.2.1+ launcher, Mbps to bytes per second (× 10^6 / 8)", () => {
    const text =
      `Migration info for ${uid}: TimeElapsed:0ms DataProcessed:1MiB DataRemaining:3MiB DataTotal:7MiB ` +
      "MemoryRemaining:5MiB MemoryBandwidth:1Mbps DirtyRate:8Mbps Iteration:0 ExpectedDowntime:0ms DiskMbps:0";
    expect(parseMigrationInfo(text, "v1.3.0")).toMatchObject({
      dataProcessedBytes: 1_048_576,
      dataRemainingBytes: 3_145_728,
      dataTotalBytes: 7_340_032,
      memoryRemainingBytes: 5_242_880,
      bandwidthBytesPerSecond: 125_000,
      dirtyRateBytesPerSecond: 1_000_000,
      iteration: 0,
    });
  });

  it("leaves memoryRemainingBytes undefined when the line lacks MemoryRemaining", () => {
    const text =
      `Migration info for ${uid}: TimeElapsed:10ms DataProcessed:1MiB DataRemaining:2MiB DataTotal:3MiB ` +
      "MemoryBandwidth:80Mbps DirtyRate:0Mbps Iteration:1";
    const progress = parseMigrationInfo(text);
    expect(progress).toBeDefined();
    expect(progress?.memoryRemainingBytes).toBeUndefined();
  });

  describe("anything else gives undefined", () => {
    const msg = migrationInfoMessage(uid, snapshot);
    const garbage: Array<[string, string]> = [
      ["empty string", ""],
      ["whitespace", "   \n"],
      ["another launcher line", jsonLine("Domain started.")],
      ["Live migration failed.", jsonLine("Live migration failed.", "warning")],
      ["an abort line", jsonLine("Aborting migration: stuck for 150 seconds", "warning")],
      [
        "truncated in the middle of a unit",
        msg.slice(0, msg.indexOf("DataTotal:4096") + "DataTotal:40".length),
      ],
      ["truncated before DirtyRate", msg.slice(0, msg.indexOf(" DirtyRate"))],
      ["only the prefix", `Migration info for ${uid}: `],
      ["no UID", "Migration info for : TimeElapsed:1ms"],
      ["DataRemaining in GiB", msg.replace("DataRemaining:2560MiB", "DataRemaining:12GiB")],
      ["DataTotal in bytes", msg.replace("DataTotal:4096MiB", "DataTotal:4294967296")],
      ["bandwidth in MiB/s", msg.replace("MemoryBandwidth:1000Mbps", "MemoryBandwidth:119MiBps")],
      ["elapsed time in seconds", msg.replace("TimeElapsed:12345ms", "TimeElapsed:12s")],
      ["iteration with a unit", msg.replace("Iteration:3", "Iteration:3x")],
      ["missing TimeElapsed", msg.replace("TimeElapsed:12345ms ", "")],
      ["missing DataProcessed", msg.replace("DataProcessed:1536MiB ", "")],
      ["missing DataRemaining", msg.replace("DataRemaining:2560MiB ", "")],
      ["missing DataTotal", msg.replace("DataTotal:4096MiB ", "")],
      ["missing MemoryBandwidth", msg.replace("MemoryBandwidth:1000Mbps ", "")],
      ["missing DirtyRate", msg.replace("DirtyRate:100Mbps ", "")],
      ["missing Iteration", msg.replace("Iteration:3 ", "")],
      ["a non-numeric value", msg.replace("DataRemaining:2560MiB", "DataRemaining:NaNMiB")],
      ["non-JSON braces", "{Migration info for nothing}"],
      ["a JSON object without msg", JSON.stringify({ level: "info", message: "x" })],
      ["a JSON msg that is not a string", JSON.stringify({ level: "info", msg: 42 })],
      ["JSON null", "null"],
      ["a JSON array", "[1,2,3]"],
      ["a lone timestamp", "2025-03-14T09:26:57.602311456Z"],
      ["binary junk", "\u0000\u0001\u00ff\ufffd{\u001b[31m\u0000]}\ud800"],
      ["a --timestamps prefix and junk", "2025-03-14T09:26:57Z \u0000\u0007{{{"],
    ];
    it.each(garbage)("%s", (_, line) => {
      expect(() => parseMigrationInfo(line)).not.toThrow();
      expect(parseMigrationInfo(line)).toBeUndefined();
    });

    it("random byte strings never throw", () => {
      // A fixed linear congruential generator: deterministic, no Math.random.
      let state = 12_345;
      const next = () => {
        state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
        return state;
      };
      for (let n = 0; n < 200; n++) {
        const chars = Array.from({ length: next() % 120 }, () => String.fromCharCode(next() % 256));
        const line = n % 2 === 0 ? chars.join("") : `{"msg":"${chars.join("")}`;
        expect(() => parseMigrationInfo(line)).not.toThrow();
        expect(parseMigrationInfo(line)).toBeUndefined();
      }
    });
  });

  it("a JSON line cut inside the message is not a progress line", () => {
    const line = jsonLine(migrationInfoMessage(uid, snapshot));
    const cut = line.slice(0, line.indexOf("DirtyRate:") + "DirtyRate:10".length);
    expect(parseMigrationInfo(cut)).toBeUndefined();
  });
});

/**
 * One moment of one migration (8 s in, 300 000 000 bytes/s sent, 80 000 000 bytes/s dirtied,
 * 2 000 000 bytes/s of disk) as each KubeVirt release's launcher logs it: the format strings of
 * logMigrationInfo in pkg/virt-launcher/virtwrap/live-migration-source.go at those tags, with the
 * numbers worked out by hand (integer division, as Go's uint64).
 */
const moment = "3f1c0d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f";
/** v0.55.0 to v1.0.0 (kubevirt/kubevirt#7729): bytes and bytes per second. */
const bytesLine =
  `Migration info for ${moment}: TimeElapsed:8004ms DataProcessed:851443712B DataRemaining:3461349376B ` +
  "DataTotal:4312793088B MemoryProcessed:851443712B MemoryRemaining:3443523584B MemoryTotal:4294967296B " +
  "MemoryBandwidth:300000000B/s DirtyRate:80000000B/s Iteration:1 PostcopyRequests:0 ConstantPages:12000 " +
  "NormalPages:207000 NormalData:847249408B ExpectedDowntime:11470ms DiskBps:2000000";
/** v1.0.1 to v1.2.0 (#10239): MiB, and "Mbps" that are bytes/s / 8 / 10^6 (300 000 000 → 37). */
const buggyMbpsLine =
  `Migration info for ${moment}: TimeElapsed:8004ms DataProcessed:812MiB DataRemaining:3301MiB ` +
  "DataTotal:4113MiB MemoryProcessed:812MiB MemoryRemaining:3284MiB MemoryTotal:4096MiB " +
  "MemoryBandwidth:37Mbps DirtyRate:10Mbps Iteration:1 PostcopyRequests:0 ConstantPages:12000 " +
  "NormalPages:207000 NormalData:808MiB ExpectedDowntime:11470ms DiskMbps:0";
/** v1.2.1, v1.3.0 and later (#11377): the same text with bits/s / 10^6 (300 000 000 → 2400). */
const mbpsLine =
  `Migration info for ${moment}: TimeElapsed:8004ms DataProcessed:812MiB DataRemaining:3301MiB ` +
  "DataTotal:4113MiB MemoryProcessed:812MiB MemoryRemaining:3284MiB MemoryTotal:4096MiB " +
  "MemoryBandwidth:2400Mbps DirtyRate:640Mbps Iteration:1 PostcopyRequests:0 ConstantPages:12000 " +
  "NormalPages:207000 NormalData:808MiB ExpectedDowntime:11470ms DiskMbps:16";
/** v1.9.0 and later, the completed job: Downtime and DowntimeNet in place of ExpectedDowntime. */
const completedV19Line =
  `Migration info for ${moment}: TimeElapsed:21004ms DataProcessed:4160MiB DataRemaining:0MiB ` +
  "DataTotal:4113MiB MemoryProcessed:4160MiB MemoryRemaining:0MiB MemoryTotal:4096MiB " +
  "MemoryBandwidth:2400Mbps DirtyRate:640Mbps Iteration:5 PostcopyRequests:0 ConstantPages:12000 " +
  "NormalPages:1064960 NormalData:4160MiB Downtime:87ms DowntimeNet:64ms DiskMbps:16";
/** v1.9.0 and later with compression: more guest data (NormalData) than was sent. */
const compressedV19Line =
  `Migration info for ${moment}: TimeElapsed:8004ms DataProcessed:812MiB DataRemaining:3301MiB ` +
  "DataTotal:4113MiB MemoryProcessed:812MiB MemoryRemaining:3284MiB MemoryTotal:4096MiB " +
  "MemoryBandwidth:2400Mbps DirtyRate:640Mbps Iteration:1 PostcopyRequests:0 ConstantPages:12000 " +
  "NormalPages:415000 NormalData:1621MiB ExpectedDowntime:11470ms DiskMbps:16 CompressionRatio:2.00x";

const sizes = {
  elapsedMs: 8004,
  dataProcessedBytes: 851_443_712,
  dataRemainingBytes: 3_461_349_376,
  dataTotalBytes: 4_312_793_088,
  memoryRemainingBytes: 3_443_523_584,
  iteration: 1,
  expectedDowntimeMs: 11_470,
  completed: false,
};

describe("the Migration info line of each KubeVirt release", () => {
  it.each([undefined, "v0.59.0", "v1.0.0", "v1.9.0", "v4.16.3"])(
    "v0.55.0–v1.0.0 bytes: read exactly whatever the launcher version says (%s)",
    (version) => {
      expect(parseMigrationInfo(jsonLine(bytesLine), version)).toMatchObject({
        ...sizes,
        migrationUid: moment,
        bandwidthBytesPerSecond: 300_000_000,
        dirtyRateBytesPerSecond: 80_000_000,
        rateStepBytesPerSecond: undefined,
      });
    },
  );

  it.each(["v1.0.1", "v1.1.0", "v1.1.1", "v1.2.0", "v1.2.0-rc.1"])(
    "v1.0.1–v1.2.0: the 'Mbps' are bytes/s ÷ 8 ÷ 10^6, read back as a step of 8 MB/s that holds the true rate (%s)",
    (version) => {
      const progress = parseMigrationInfo(jsonLine(buggyMbpsLine), version);
      expect(progress).toMatchObject({
        ...sizes,
        bandwidthBytesPerSecond: 37 * 8_000_000,
        dirtyRateBytesPerSecond: 10 * 8_000_000,
        rateStepBytesPerSecond: 8_000_000,
      });
      // The true rates of this moment lie in [value, value + step).
      const low = progress?.bandwidthBytesPerSecond ?? Number.NaN;
      expect(300_000_000).toBeGreaterThanOrEqual(low);
      expect(300_000_000).toBeLessThan(low + 8_000_000);
      const dirty = progress?.dirtyRateBytesPerSecond ?? Number.NaN;
      expect(80_000_000).toBeGreaterThanOrEqual(dirty);
      expect(80_000_000).toBeLessThan(dirty + 8_000_000);
    },
  );

  it.each(["v1.2.1", "v1.2.2", "v1.3.0-alpha.0", "v1.3.0", "v1.8.4", "v1.9.0", "v1.10.0"])(
    "v1.2.1 and later: true Mbps, bits/s ÷ 10^6 (%s)",
    (version) => {
      expect(parseMigrationInfo(jsonLine(mbpsLine), version)).toMatchObject({
        ...sizes,
        bandwidthBytesPerSecond: 300_000_000,
        dirtyRateBytesPerSecond: 80_000_000,
        rateStepBytesPerSecond: undefined,
      });
    },
  );

  it.each([
    ["no version", undefined],
    ["a tag that is not a release", "latest"],
    ["a downstream product's version", "v4.16.3"],
    ["a release that wrote bytes, not MiB", "v1.0.0"],
    ["a release before the line existed", "v0.54.0"],
    ["a digest", "sha256:0a1b2c3d"],
  ])("a MiB line with %s: the rate is unknown, never a wrong number; the sizes still read", (_, version) => {
    for (const line of [buggyMbpsLine, mbpsLine]) {
      const progress = parseMigrationInfo(jsonLine(line), version);
      expect(progress).toMatchObject(sizes);
      expect(progress?.bandwidthBytesPerSecond).toBeUndefined();
      expect(progress?.dirtyRateBytesPerSecond).toBeUndefined();
    }
  });

  it.each([
    ["the completed job's Downtime and DowntimeNet", completedV19Line],
    ["a CompressionRatio", compressedV19Line],
  ])(
    "%s: only v1.9.0 and later write it, so true Mbps without a version and over one that says otherwise",
    (_, line) => {
      for (const version of [undefined, "v1.2.0"]) {
        const progress = parseMigrationInfo(jsonLine(line), version);
        expect(progress?.bandwidthBytesPerSecond).toBe(300_000_000);
        expect(progress?.dirtyRateBytesPerSecond).toBe(80_000_000);
        expect(progress?.rateStepBytesPerSecond).toBeUndefined();
      }
      expect(parseMigrationInfo(completedV19Line)).toMatchObject({ completed: true, downtimeMs: 87 });
      expect(parseMigrationInfo(compressedV19Line)?.compressionRatio).toBe(2);
    },
  );

  it.each([
    ["a bytes line with one size in MiB", bytesLine.replace("DataTotal:4312793088B", "DataTotal:4113MiB")],
    [
      "a bytes line with its rate in Mbps",
      bytesLine.replace("MemoryBandwidth:300000000B/s", "MemoryBandwidth:2400Mbps"),
    ],
    [
      "a bytes line with a rate in bytes without /s",
      bytesLine.replace("DirtyRate:80000000B/s", "DirtyRate:80000000B"),
    ],
    [
      "a MiB line with one size in bytes",
      mbpsLine.replace("DataRemaining:3301MiB", "DataRemaining:3461349376B"),
    ],
    [
      "a MiB line with its rate in B/s",
      mbpsLine.replace("MemoryBandwidth:2400Mbps", "MemoryBandwidth:300000000B/s"),
    ],
  ])("%s is not a progress line", (_, line) => {
    expect(parseMigrationInfo(line, "v1.9.0")).toBeUndefined();
  });

  it("maps each release to how its MiB line's rates read", () => {
    const table = [
      "v1.0.0",
      "v1.0.1",
      "v1.1.0",
      "v1.1.1",
      "v1.2.0",
      "v1.2.1",
      "v1.3.0",
      "v1.9.0",
      "1.10.2",
      "v2.0.0",
    ];
    expect(table.map((v) => mbpsFormOf(v))).toEqual([
      undefined,
      "bytes/8e6",
      "bytes/8e6",
      "bytes/8e6",
      "bytes/8e6",
      "Mbps",
      "Mbps",
      "Mbps",
      "Mbps",
      undefined,
    ]);
  });

  it("knows which releases log the line at the default verbosity (2, from v1.1.1; 4 before)", () => {
    const table = [
      "v0.59.2",
      "v1.0.0",
      "v1.0.1",
      "v1.1.0",
      "v1.1.1",
      "v1.2.0",
      "v1.9.0",
      "latest",
      "v4.16.3",
    ];
    expect(table.map((v) => progressLoggedByDefault(v))).toEqual([
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      undefined,
      undefined,
    ]);
  });
});

describe("parseAbortLine", () => {
  it("reads the stuck warning from a JSON launcher line", () => {
    expect(parseAbortLine(jsonLine("Aborting migration: stuck for 150 seconds", "warning"))).toEqual({
      why: "stuck",
      seconds: 150,
    });
  });

  it("reads the completion-timeout warning", () => {
    expect(
      parseAbortLine(jsonLine("Aborting migration: not completed after 1200 seconds", "warning")),
    ).toEqual({ why: "timeout", seconds: 1200 });
  });

  it("reads the plain message and a --timestamps prefixed line", () => {
    expect(parseAbortLine("Aborting migration: stuck for 7 seconds")).toEqual({ why: "stuck", seconds: 7 });
    expect(
      parseAbortLine(
        `2025-03-14T09:40:00.000000001Z ${jsonLine("Aborting migration: not completed after 600 seconds", "warning")}`,
      ),
    ).toEqual({ why: "timeout", seconds: 600 });
    expect(parseAbortLine("2025-03-14T09:40:00Z Aborting migration: stuck for 300 seconds")).toEqual({
      why: "stuck",
      seconds: 300,
    });
  });

  it.each([
    ["empty", ""],
    ["a progress line", literalLine],
    ["Live migration failed.", jsonLine("Live migration failed.", "warning")],
    ["no number", "Aborting migration: stuck for a while"],
    ["another reason", "Aborting migration: cancelled by user"],
    ["not at the start of the message", "warning: Aborting migration: stuck for 150 seconds"],
    ["truncated", "Aborting migration: stuck for 15"],
    ["binary junk", "\u0000\u00ff{\ud800"],
  ])("%s gives undefined", (_, line) => {
    expect(() => parseAbortLine(line)).not.toThrow();
    expect(parseAbortLine(line)).toBeUndefined();
  });
});

describe("a launcher line cut short", () => {
  it("gives no progress: Iteration:12 cut to Iteration:1 must not be read", () => {
    const cut =
      '{"component":"virt-launcher","kind":"","level":"info","msg":"Migration info for abc-1: TimeElapsed:5ms DataProcessed:1MiB DataRemaining:2MiB DataTotal:3MiB MemoryBandwidth:8Mbps DirtyRate:0Mbps Iteration:1';
    expect(parseMigrationInfo(cut)).toBeUndefined();
  });
});
