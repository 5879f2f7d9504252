// diagnose --from on inputs too large to keep (issue 19, item 10): a launcher log longer than
// the limits gives the same diagnosis as the fixture it buries, with a note on what was skipped;
// a manifest file over the size limit is skipped unread with a note, and the rest is read; other
// pods' logs are never read. The limits are lowered so that a few MiB stand in for gigabytes.
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runRules } from "../../src/diagnose/engine.js";
import { allRules } from "../../src/diagnose/modes/index.js";
import { loadSnapshotFromDir, type OfflineOptions } from "../../src/diagnose/offline.js";
import { defaultEvidenceLimits, type EvidenceLimits } from "../../src/diagnose/offline-files.js";
import { formatDiagnosis } from "../../src/diagnose/render.js";
import { diagnoseFixturesDir, fixtureDir } from "../helpers/diagnose.js";
import { tempDir } from "../helpers/kubeconfig.js";

const mode = "not-converging";
const caseName = "v1.9-aborted-dirty-rate-above-bandwidth";
const sourcePod = "virt-launcher-busy-db-4hx7k";
const limits = (overrides: Partial<EvidenceLimits>): EvidenceLimits => ({
  ...defaultEvidenceLimits,
  ...overrides,
});

/** A copy of the fixture to add to. */
function copyOfFixture(): string {
  const dir = join(tempDir(), caseName);
  cpSync(fixtureDir(mode, caseName), dir, { recursive: true });
  return dir;
}

/**
 * `count` launcher lines of no consequence, at `time`; with `progressEvery`, every so many a
 * progress line of an older migration.
 */
function launcherLines(count: number, time: string, progressEvery = 0): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const msg =
      progressEvery > 0 && i % progressEvery === 0
        ? `Migration info for 0a0b0c0d-0000-4000-8000-000000000001: TimeElapsed:${i}ms DataRemaining:4000MiB`
        : `Synced vmi, line ${i}`;
    lines.push(JSON.stringify({ component: "virt-launcher", level: "info", msg, timestamp: time }));
  }
  return `${lines.join("\n")}\n`;
}

/** The diagnosis as the operator reads it, and the report `-o json` prints. */
async function diagnose(dir: string, options: OfflineOptions = {}) {
  const snapshot = await loadSnapshotFromDir(dir, options);
  const report = runRules(snapshot, allRules);
  const text = `${formatDiagnosis(report, snapshot, { rulesRun: allRules.length }).join("\n")}\n`;
  return { snapshot, report, text };
}

const expectedText = () => readFileSync(join(diagnoseFixturesDir, mode, caseName, "expected.txt"), "utf8");

/** The fixture's expected diagnosis with `notes` first under "Could not check:". */
function withNotes(notes: string[]): string {
  const text = expectedText();
  expect(text).toContain("\nCould not check:\n");
  return text.replace("\nCould not check:\n", `\nCould not check:\n${notes.map((n) => `  ${n}\n`).join("")}`);
}

describe("diagnose --from: a launcher log longer than the limits", () => {
  it("is read to its end: the same diagnosis as from the fixture, and a note on what was skipped", async () => {
    const dir = copyOfFixture();
    const log = join(dir, sourcePod, "compute.log");
    const story = readFileSync(log, "utf8");
    // 20,000 lines (about 2 MiB) of the hour before, every 8th a progress line, then the fixture's 15.
    writeFileSync(log, launcherLines(20000, "2025-06-10T13:00:00Z", 8) + story);
    const { snapshot, report, text } = await diagnose(dir, {
      limits: limits({ logTailLines: 20, logLines: 100 }),
    });
    expect(snapshot.logs).toHaveLength(1);
    expect(snapshot.logs[0]?.lines).toHaveLength(100);
    // The fixture's lines are the last 15 kept, the abort among them.
    expect(snapshot.logs[0]?.lines.slice(-15).join("\n")).toBe(story.trimEnd());
    const bytes = Buffer.byteLength(readFileSync(log));
    expect(bytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(text).toBe(
      withNotes([
        `log of ${sourcePod}/compute: 2.3 MiB, 20,015 lines: all read, 100 kept (the last 20, and before them the newest 80 of the kinds diagnose looks for: errors, warnings, progress); 19,915 lines skipped`,
      ]),
    );
    // The same findings, so the same status and exit code (7: an error finding).
    const whole = runRules(await loadSnapshotFromDir(fixtureDir(mode, caseName)), allRules);
    expect(report).toEqual(whole);
    expect(report.status).toBe("ProblemsFound");
  });

  it("keeps the abort and progress lines rules quote when they are older than the last lines", async () => {
    const dir = copyOfFixture();
    // 5,000 lines after the fixture's, as the launcher goes on logging after the failure.
    appendFileSync(join(dir, sourcePod, "compute.log"), launcherLines(5000, "2025-06-10T14:03:35Z"));
    const { text } = await diagnose(dir, { limits: limits({ logTailLines: 20, logLines: 100 }) });
    expect(text).toBe(
      withNotes([
        `log of ${sourcePod}/compute: 544 KiB, 5,015 lines: all read, 34 kept (the last 20, and before them the newest 14 of the kinds diagnose looks for: errors, warnings, progress); 4,981 lines skipped`,
      ]),
    );
  });

  it("a log within the limits is kept whole, without a note (the default limits)", async () => {
    const { snapshot, text } = await diagnose(fixtureDir(mode, caseName));
    expect(snapshot.logs[0]?.lines).toHaveLength(15);
    expect(text).toBe(expectedText());
  });

  it("other pods' logs, however large, are not the VM's: no note about them", async () => {
    const dir = copyOfFixture();
    const handler = join(dir, "namespaces", "kubevirt", "pods", "virt-handler-7x2kq", "virt-handler");
    mkdirSync(join(handler, "virt-handler", "logs"), { recursive: true });
    writeFileSync(
      join(handler, "virt-handler", "logs", "current.log"),
      launcherLines(5000, "2025-06-10T13:00:00Z"),
    );
    const { text } = await diagnose(dir, { limits: limits({ logTailLines: 20, logLines: 100 }) });
    expect(text).toBe(expectedText());
  });
});

describe("diagnose --from: a manifest file over the size limit", () => {
  /** 200 KiB of ConfigMaps as JSON on one line, in a .yaml file. */
  function oneLineYaml(dir: string): number {
    const data = { blob: "x".repeat(1000) };
    const items = Array.from({ length: 200 }, (_, i) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `cm-${i}`, namespace: "data" },
      data,
    }));
    const text = JSON.stringify({ apiVersion: "v1", kind: "List", items });
    writeFileSync(join(dir, "configmaps.yaml"), text);
    return Buffer.byteLength(text);
  }

  it("is skipped unread with a note, and the other files are read as before", async () => {
    const dir = copyOfFixture();
    const size = oneLineYaml(dir);
    expect(size).toBeGreaterThan(64 * 1024);
    const { report, text } = await diagnose(dir, { limits: limits({ manifestBytes: 64 * 1024 }) });
    expect(text).toBe(
      withNotes([
        "file configmaps.yaml: 216 KiB, larger than the 64.0 KiB diagnose reads of one manifest file; skipped unread (save fewer objects per file)",
      ]),
    );
    expect(report).toEqual(runRules(await loadSnapshotFromDir(fixtureDir(mode, caseName)), allRules));
  });

  it("a file of exactly the limit is read", async () => {
    const dir = copyOfFixture();
    const size = oneLineYaml(dir);
    const { text } = await diagnose(dir, { limits: limits({ manifestBytes: size }) });
    expect(text).toBe(expectedText());
  });

  it("a directory whose only manifest is too large says so in its usage error (exit 2)", async () => {
    const dir = tempDir();
    oneLineYaml(dir);
    const error = await loadSnapshotFromDir(dir, { limits: limits({ manifestBytes: 64 * 1024 }) }).then(
      () => undefined,
      (e: unknown) => e as { message: string; exitCode: number },
    );
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toBe(
      `directory "${dir}" holds no readable manifests or logs (file configmaps.yaml: 216 KiB, larger than the 64.0 KiB diagnose reads of one manifest file; skipped unread (save fewer objects per file))`,
    );
  });
});

describe("diagnose --from: the lines kept before the last ones are all that rules read", () => {
  // Every fixture with a log, its logs cut down to the lines logLineKind keeps (no last lines at
  // all): the same findings as from the whole logs, at the same time (the newest time in a log is
  // in its last lines, which a real cut keeps). A rule that starts reading a text no word covers
  // fails here on its fixture.
  const onlyRuleLines = limits({ logTailLines: 0, logLines: 100_000 });
  for (const c of corpusCases()) {
    it(`${c}: the same findings`, async () => {
      const [ruleId = "", caseDir = ""] = c.split("/");
      const whole = await loadSnapshotFromDir(fixtureDir(ruleId, caseDir));
      const cut = await loadSnapshotFromDir(fixtureDir(ruleId, caseDir), {
        limits: onlyRuleLines,
        at: whole.takenAt,
      });
      expect(runRules(cut, allRules).findings).toEqual(runRules(whole, allRules).findings);
    });
  }
});

/** `<rule>/<case>` of every diagnose fixture that has a log. */
function corpusCases(): string[] {
  const out: string[] = [];
  for (const rule of readdirSync(diagnoseFixturesDir, { withFileTypes: true })) {
    if (!rule.isDirectory()) continue;
    for (const c of readdirSync(join(diagnoseFixturesDir, rule.name), { withFileTypes: true })) {
      if (!c.isDirectory()) continue;
      const files = readdirSync(join(diagnoseFixturesDir, rule.name, c.name), { recursive: true });
      if (files.some((f) => String(f).endsWith(".log"))) out.push(`${rule.name}/${c.name}`);
    }
  }
  return out.sort();
}
