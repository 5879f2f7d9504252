// Every diagnose fixture through the whole engine, as `kvmig diagnose --from DIR` runs it: the
// top problem is the expected mode (the fixture's directory unless `expectedTop` says which
// root cause comes before it), near misses raise no problem of their mode, and no failure —
// also with every message stripped to state only — ever reads "no problems found". Each
// fixture's whole diagnosis, as the operator reads it (every finding's summary, evidence lines,
// fix and what it could not check), is kept beside it in `expected.txt`: a change to what
// diagnose says about a real report shows in review.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runRules } from "../../src/diagnose/engine.js";
import { failureSignals } from "../../src/diagnose/failure-signals.js";
import { allRules } from "../../src/diagnose/modes/index.js";
import { formatDiagnosis } from "../../src/diagnose/render.js";
import type { Finding, Snapshot } from "../../src/diagnose/types.js";
import { diagnoseFixturesDir, fixtureSnapshot, stripMessages } from "../helpers/diagnose.js";

/**
 * Fixtures whose top problem is not their directory's mode: the directory names the symptom
 * the report was filed about; the root cause that explains it comes first. A near miss listed
 * here may raise this other problem (and never its own directory's mode); one not listed raises
 * no problem at all.
 */
const expectedTop: Readonly<Record<string, string | null>> = {
  // The refusal is explained by the VMI's stale migrationState.
  "in-flight-migration/kv2495-refused-by-stale-state": "stale-migration-state",
  // The backoff loop's attempts all failed for launcher skew / a CPU the target lacks.
  "migration-backoff/harvester-11615-workload-update-skew": "version-skew",
  "migration-backoff/harvester-7965-maintenance-cpu": "cpu-model-mismatch",
  // Two launcher pods are active: the stale one is why the migration waits.
  "migration-queued/kv12773-two-active-pods": "stale-migration-state",
  // The cancel hangs because the target pod never got a node.
  "stuck-migration/kv2228-cancel-in-scheduling": "target-pod-unschedulable",
  // Near misses that are another mode's case.
  // A user migration that failed once, 300 s into Scheduling: the unschedulable timeout.
  "migration-backoff/near-miss-single-user-failure": "target-pod-unschedulable",
  "migration-backoff/near-miss-user-retries": "target-pod-unschedulable",
  "migration-connection-lost/near-miss-skewed-socket-closed": "version-skew",
  "migration-connection-lost/kubevirt-5319-abort-socket-closed": "migration-connection-lost",
  "migration-queued/near-miss-backoff": "migration-backoff",
  "migration-queued/near-miss-pending-2s": null,
  "network-attachment-missing/near-miss-nad-in-other-namespace": "migration-queued",
  "network-attachment-missing/near-miss-nad-present": "migration-queued",
  "target-pod-failed/near-miss-unschedulable-timeout": "target-pod-unschedulable",
  "version-skew/near-miss-harvester-2029-same-image": "target-pod-failed",
  "version-skew/near-miss-socket-closed-same-image": "migration-connection-lost",
};

/**
 * Failures that state alone cannot name: their only evidence is a text, and without it nothing
 * in KubeVirt's objects shows that anything failed. Each is still recognised from its text.
 */
const textOnly: Readonly<Record<string, string>> = {
  "network-attachment-missing/harvester-759-management-network":
    "a VM that cannot start: without the FailedCreate message only a Pending VMI is left, and NADs were not dumped",
};

interface Case {
  mode: string;
  name: string;
  key: string;
  nearMiss: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const mode of readdirSync(diagnoseFixturesDir).sort()) {
    const dir = join(diagnoseFixturesDir, mode);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!statSync(join(dir, name)).isDirectory()) continue;
      out.push({ mode, name, key: `${mode}/${name}`, nearMiss: name.startsWith("near-miss-") });
    }
  }
  return out;
}

const all = cases();
const problems = (findings: readonly Finding[]) =>
  findings.filter((f) => f.severity === "error" || f.severity === "warning");

describe("diagnose on every fixture", () => {
  it("has the corpus the issue asks for, and no stale expectation", () => {
    expect(all.filter((c) => !c.nearMiss).length).toBeGreaterThanOrEqual(80);
    expect(all.filter((c) => c.nearMiss).length).toBeGreaterThanOrEqual(30);
    const keys = new Set(all.map((c) => c.key));
    expect(Object.keys(expectedTop).filter((k) => !keys.has(k))).toEqual([]);
    expect(Object.keys(textOnly).filter((k) => !keys.has(k))).toEqual([]);
  });

  for (const c of all.filter((x) => !x.nearMiss)) {
    const want = expectedTop[c.key] ?? c.mode;
    it(`${c.key}: the top problem is ${want}`, async () => {
      const report = runRules(await fixtureSnapshot(c.mode, c.name), allRules);
      expect(report.errors).toEqual([]);
      expect(problems(report.findings).map((f) => f.id)[0]).toBe(want);
    });
  }

  for (const c of all) {
    it(`${c.key}: the whole diagnosis is the one in expected.txt`, async () => {
      const snapshot = await fixtureSnapshot(c.mode, c.name);
      const report = runRules(snapshot, allRules);
      const text = `${formatDiagnosis(report, snapshot, { rulesRun: allRules.length }).join("\n")}\n`;
      await expect(text).toMatchFileSnapshot(join(diagnoseFixturesDir, c.mode, c.name, "expected.txt"));
    });
  }

  for (const c of all.filter((x) => x.nearMiss)) {
    const other = c.key in expectedTop ? expectedTop[c.key] : null;
    it(`${c.key}: raises ${other ? `${other} first, and never ${c.mode}` : "no problem"}`, async () => {
      const report = runRules(await fixtureSnapshot(c.mode, c.name), allRules);
      const ids = problems(report.findings).map((f) => f.id);
      expect(ids).not.toContain(c.mode);
      if (other) expect(ids[0]).toBe(other);
      else expect(ids).toEqual([]);
    });
  }
});

/** Modes with no state-only fixture, and why (docs/diagnose.md, "recognised by text alone"). */
const noStateSignature: Readonly<Record<string, string>> = {
  "vif-cache-missing": "only the missing file's name tells it from any failure of target preparation",
  "postcopy-unavailable": "only the refusal tells it from a migration that did not converge",
  "migration-connection-lost": "a failure in Running between identical launchers fits several causes",
  "migrate-forbidden": "a refused API call is text the caller hands over, not cluster state",
  "in-flight-migration": "its state-only signature needs an event source, covered by a unit test",
};

describe("state-only fixtures", () => {
  const stateOnly = all.filter((c) => c.name.startsWith("state-only-"));

  it("every mode has one, except those that only text can tell", () => {
    const modes = [...new Set(all.map((c) => c.mode))];
    const without = modes.filter((m) => !stateOnly.some((c) => c.mode === m));
    expect(without.sort()).toEqual(Object.keys(noStateSignature).sort());
  });

  for (const c of stateOnly) {
    it(`${c.key} holds no message text at all`, async () => {
      const s = await fixtureSnapshot(c.mode, c.name);
      expect(s.logs).toEqual([]);
      expect(s.events.filter((e) => e.message)).toEqual([]);
      expect(stripMessages(s)).toEqual(s);
    });
  }
});

describe("never silent on a failure", () => {
  for (const c of all.filter((x) => !x.nearMiss)) {
    it(`${c.key}, and its state alone: at least one problem`, async () => {
      const snapshot = await fixtureSnapshot(c.mode, c.name);
      for (const s of c.key in textOnly ? [snapshot] : [snapshot, stripMessages(snapshot)]) {
        const report = runRules(s, allRules);
        expect(report.status).toBe("ProblemsFound");
        expect(problems(report.findings).length).toBeGreaterThan(0);
      }
    });
  }

  it("a near miss with nothing failed has no failure signal (so the fallback stays quiet)", async () => {
    const quiet = all.filter((c) => c.nearMiss && !(c.key in expectedTop));
    expect(quiet.length).toBeGreaterThan(5);
    for (const c of quiet) {
      const s = await fixtureSnapshot(c.mode, c.name);
      const report = runRules(s, allRules);
      expect(
        report.findings.map((f) => f.id),
        c.key,
      ).not.toContain("migration-failed-unexplained");
      if (problems(report.findings).length === 0) expect(failureSignals(s), c.key).toEqual([]);
    }
  });
});

describe("no problem from absent evidence", () => {
  // A dump that lacks one kind of evidence (a partial dump) must not turn a healthy case into a problem.
  const cuts: [string, (s: Snapshot) => Partial<Snapshot>][] = [
    [
      "events",
      (s) => ({ events: [], missing: [...s.missing, { what: "events", why: "not in the directory" }] }),
    ],
    ["logs", () => ({ logs: [] })],
    ["nodes", () => ({ nodes: [] })],
    [
      "the KubeVirt resource",
      () => ({ kubevirt: undefined, virtController: undefined, currentLauncherImage: undefined }),
    ],
    ["pods", () => ({ pods: [], handlerPods: [] })],
    [
      "NetworkAttachmentDefinitions",
      (s) => ({
        networkAttachmentDefinitions: [],
        missing: [...s.missing, { what: "NetworkAttachmentDefinitions", why: "not in the directory" }],
      }),
    ],
    ["the VM", () => ({ vm: undefined })],
  ];
  for (const c of all.filter((x) => x.nearMiss && !(x.key in expectedTop))) {
    it(`${c.key}, with any one kind of evidence missing, still raises no problem`, async () => {
      const s = await fixtureSnapshot(c.mode, c.name);
      for (const [what, cut] of cuts) {
        const report = runRules({ ...s, ...cut(s) }, allRules);
        expect(
          problems(report.findings).map((f) => f.id),
          `without ${what}`,
        ).toEqual([]);
      }
    });
  }
});

describe("order on fixtures with several findings: the root cause first", () => {
  const order: Readonly<Record<string, string[]>> = {
    // The target pod never got a node: why the cancel hangs.
    "stuck-migration/kv2228-cancel-in-scheduling": ["target-pod-unschedulable", "stuck-migration"],
    // The attempts fail for launcher skew, or a CPU the target lacks: why the loop goes on.
    "migration-backoff/harvester-11615-workload-update-skew": ["version-skew", "migration-backoff"],
    "migration-backoff/harvester-7965-maintenance-cpu": ["cpu-model-mismatch", "migration-backoff"],
    // Skew before the target pod that died of it.
    "version-skew/kubevirt-16386-virtio-net-load": ["version-skew", "target-pod-failed"],
    // The stale record before the refusal and the wait it causes.
    "in-flight-migration/kv2495-refused-by-stale-state": ["stale-migration-state", "in-flight-migration"],
    "migration-queued/kv12773-two-active-pods": ["stale-migration-state", "migration-queued"],
    // virt-handler's restart before the migration it left hanging.
    "handler-disruption/kv18670-handler-rollout-mid-migration": ["handler-disruption", "stuck-migration"],
    // The missing vif-cache before the evacuation loop it drives.
    "vif-cache-missing/kubevirt-18103-evacuation-loop": ["vif-cache-missing", "migration-backoff"],
  };
  for (const [key, ids] of Object.entries(order)) {
    it(`${key}: ${ids.join(" before ")}`, async () => {
      const [mode, name] = key.split("/") as [string, string];
      const report = runRules(await fixtureSnapshot(mode, name), allRules);
      expect(problems(report.findings).map((f) => f.id)).toEqual(ids);
    });
  }
});
