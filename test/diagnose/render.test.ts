// The text form: findings with evidence, fix and docs, most severe first; what was checked when
// nothing is wrong; what could not be checked; and the compact form migrate and watch print.
import { describe, expect, it } from "vitest";
import { runRules } from "../../src/diagnose/engine.js";
import { formatDiagnosis, formatFinding, renderTopFindings } from "../../src/diagnose/render.js";
import type { Finding } from "../../src/diagnose/types.js";
import { createIO } from "../../src/io/io.js";
import { formatTime } from "../../src/io/time.js";
import { untag } from "../../src/io/untrusted.js";
import { wrapperFor } from "../../src/io/wrap.js";
import { bufferedStreams } from "../helpers/buffered-io.js";
import { emptySnapshot } from "../helpers/diagnose.js";

const skew: Finding = {
  id: "version-skew",
  title: "Migration failed between different virt-launcher versions",
  severity: "error",
  confidence: "high",
  summary: "The source runs v1.8.2 and the target v1.9.0; the connection dropped mid-migration.",
  evidence: [
    {
      object: "VirtualMachineInstance/db-1",
      field: "status.migrationState.failureReason",
      time: "2025-03-01T10:00:40Z",
      text: "virError(Code=1, Domain=10, Message='internal error: client socket is closed')",
    },
    { object: "Pod/virt-launcher-db-1-abcde", text: "line one\nline two" },
  ],
  fix: {
    explanation: "Restart the VM onto the current launcher (downtime).",
    commands: ["kvmig restart db-1 -n demo"],
  },
  docs: "https://kubevirt.io/user-guide/cluster_admin/updating_and_deletion/",
  notChecked: ["the target pod's log"],
};
const backoff: Finding = {
  ...skew,
  id: "migration-backoff",
  title: "Migrations of db-1 back off",
  severity: "warning",
  confidence: "medium",
  summary: "Each retry waits longer.",
  evidence: [
    {
      object: "VirtualMachineInstance/db-1",
      field: "event MigrationBackoff",
      text: "backoff migrating vmi demo/db-1",
    },
  ],
  fix: {
    explanation: "Cancel, fix the cause, then migrate.",
    commands: ["kvmig cancel db-1 -n demo", "kvmig migrate db-1 -n demo"],
  },
  notChecked: undefined,
  causedBy: "version-skew",
};

const rule = (finding: Finding) => ({
  id: finding.id,
  title: finding.title,
  severity: finding.severity,
  detect: () => [finding],
});

describe("formatDiagnosis", () => {
  it("prints each finding: severity, title, id and confidence, summary, evidence, fix, docs", () => {
    const snapshot = emptySnapshot({ missing: [{ what: "nodes", why: "forbidden: nodes is forbidden" }] });
    const report = runRules(snapshot, [rule(backoff), rule(skew)]);
    expect(formatDiagnosis(report, snapshot, { rulesRun: 2 })).toEqual([
      "demo/db-1: 2 problems found (directory, at 2025-03-01T12:00:00Z)",
      "",
      "ERROR Migration failed between different virt-launcher versions [version-skew, confidence high]",
      "  The source runs v1.8.2 and the target v1.9.0; the connection dropped mid-migration.",
      "  Seen:",
      "    VirtualMachineInstance/db-1, status.migrationState.failureReason, 2025-03-01T10:00:40Z:",
      "      virError(Code=1, Domain=10, Message='internal error: client socket is closed')",
      "    Pod/virt-launcher-db-1-abcde:",
      "      line one",
      "      line two",
      "  Fix: Restart the VM onto the current launcher (downtime).",
      "    kvmig restart db-1 -n demo",
      "  Not checked: the target pod's log",
      "  Docs: https://kubevirt.io/user-guide/cluster_admin/updating_and_deletion/",
      "",
      "WARNING Migrations of db-1 back off [migration-backoff, confidence medium] (caused by version-skew)",
      "  Each retry waits longer.",
      "  Seen:",
      "    VirtualMachineInstance/db-1, event MigrationBackoff:",
      "      backoff migrating vmi demo/db-1",
      "  Fix: Cancel, fix the cause, then migrate.",
      "    kvmig cancel db-1 -n demo",
      "    kvmig migrate db-1 -n demo",
      "  Docs: https://kubevirt.io/user-guide/cluster_admin/updating_and_deletion/",
      "",
      "Could not check:",
      "  nodes: forbidden: nodes is forbidden",
    ]);
  });

  it("on a terminal, times read relative: the header and each piece of evidence", () => {
    const snapshot = emptySnapshot({});
    const report = runRules(snapshot, [rule(skew)]);
    const now = Date.parse("2025-03-01T12:03:00Z");
    const time = (iso: string) => formatTime(iso, "relative", now);
    const lines = formatDiagnosis(report, snapshot, { rulesRun: 1, time });
    expect(lines[0]).toBe("demo/db-1: 1 problem found (directory, 3m ago)");
    expect(lines).toContain(
      "    VirtualMachineInstance/db-1, status.migrationState.failureReason, 122m ago:",
    );
    const piped = formatDiagnosis(report, snapshot, {
      rulesRun: 1,
      time: (iso) => formatTime(iso, "rfc3339", now),
    });
    expect(piped[0]).toBe("demo/db-1: 1 problem found (directory, at 2025-03-01T12:00:00Z)");
  });

  it("on a terminal, prose fits its width; fix commands stay on one line for copy and paste", () => {
    const snapshot = emptySnapshot({});
    const report = runRules(snapshot, [rule(skew), rule(backoff)]);
    const lines = formatDiagnosis(report, snapshot, { rulesRun: 2, wrap: wrapperFor(41) });
    for (const line of lines) {
      if (line.startsWith("    kvmig ") || line.includes("https://") || !line.trim().includes(" ")) continue;
      expect(line.length, line).toBeLessThanOrEqual(40);
    }
    expect(lines).toContain("    kvmig restart db-1 -n demo");
    expect(lines).toContain("ERROR Migration failed between different");
  });

  it("healthy: 'no problems found' and what was looked at", () => {
    const snapshot = emptySnapshot({
      source: "live",
      vm: { metadata: { name: "db-1" }, spec: {} },
      vmi: { metadata: { name: "db-1" }, spec: {}, status: { phase: "Running", nodeName: "node-2" } },
      logs: [{ namespace: "demo", pod: "p", container: "compute", lines: ["a", "b", "c"] }],
      nodes: [{ metadata: { name: "node-1" } }, { metadata: { name: "node-2" } }],
      currentLauncherImage: "quay.io/kubevirt/virt-launcher:v1.9.0",
      canMigrate: true,
    });
    const report = runRules(snapshot, []);
    expect(formatDiagnosis(report, snapshot, { rulesRun: 19 })).toEqual([
      "demo/db-1: no problems found (live cluster, at 2025-03-01T12:00:00Z)",
      "",
      "Checked 19 failure modes against:",
      "  VM, VMI Running on node-2",
      "  0 migrations, 0 launcher pods, 0 events",
      "  3 log lines from 1 container log",
      "  2 nodes, current launcher quay.io/kubevirt/virt-launcher:v1.9.0, 0 NetworkAttachmentDefinitions, 0 MigrationPolicies",
      "  permission to migrate: yes",
    ]);
  });

  it("lists rules that failed, after the findings", () => {
    const snapshot = emptySnapshot();
    const report = runRules(snapshot, [
      {
        id: "broken",
        title: "b",
        severity: "error",
        detect: () => {
          throw new Error("boom");
        },
      },
    ]);
    const lines = formatDiagnosis(report, snapshot, { rulesRun: 1 });
    expect(lines.slice(-2)).toEqual([
      "Rules that failed (a bug in kvmig; the other rules ran):",
      "  broken: boom",
    ]);
  });

  it("colours only through the colour scheme: none on a pipe, some on a terminal", () => {
    const pipe = createIO(bufferedStreams({ tty: false }).streams, {});
    const tty = createIO(bufferedStreams({ tty: true }).streams, {});
    const esc = String.fromCharCode(27);
    expect(formatFinding(skew, pipe.colors).join("\n")).not.toContain(esc);
    // kvmig's own colour, as the terminal gets it (untrusted.ts: the streams write it plain).
    expect(untag(formatFinding(skew, tty.colors)[0] ?? "")).toContain(`${esc}[31mERROR`);
  });
});

describe("renderTopFindings", () => {
  it("the first n findings in a few lines each, and how many more there are", () => {
    expect(renderTopFindings([skew, backoff], 1)).toEqual([
      "ERROR Migration failed between different virt-launcher versions [version-skew]",
      "  VirtualMachineInstance/db-1: virError(Code=1, Domain=10, Message='internal error: client socket is closed')",
      "  Fix: Restart the VM onto the current launcher (downtime).",
      "    kvmig restart db-1 -n demo",
      "(1 more finding: kvmig diagnose)",
    ]);
    expect(renderTopFindings([], 3)).toEqual([]);
  });
});

describe("a fix with a list and a here-document (not-converging's policy)", () => {
  const policy: Finding = {
    ...skew,
    fix: {
      explanation: "what would make it converge, most effective first:\n  1. raise it\n  2. post-copy",
      commands: [
        "kubectl apply -f - <<'EOF'\nkind: MigrationPolicy\nspec:\n  a: 1\nEOF",
        "kvmig migrate db-1 -n demo",
      ],
    },
  };
  // The here-document's lines stay at the margin: the shell ends it only at a line that is "EOF" alone.
  const fixLines = [
    "  Fix: what would make it converge, most effective first:",
    "      1. raise it",
    "      2. post-copy",
    "    kubectl apply -f - <<'EOF'",
    "kind: MigrationPolicy",
    "spec:",
    "  a: 1",
    "EOF",
  ];

  it("the list is indented under the fix, each command line copies as it runs", () => {
    const lines = formatFinding(policy);
    const at = lines.indexOf(fixLines[0] as string);
    expect(lines.slice(at, at + fixLines.length + 1)).toEqual([
      ...fixLines,
      "    kvmig migrate db-1 -n demo",
    ]);
  });

  it("the list's lines wrap on a terminal, the here-document's never", () => {
    const long: Finding = {
      ...policy,
      fix: { ...policy.fix, explanation: `heading:\n  1. ${"word ".repeat(20).trim()}` },
    };
    const lines = formatFinding(long, undefined, undefined, wrapperFor(41));
    // 40 columns: the item's indent, then 2 more on its continuation lines.
    expect(lines).toContain("      1. word word word word word word");
    expect(lines).toContain("        word word word word word word");
    expect(lines).toContain("kind: MigrationPolicy");
  });

  it("migrate's top findings show the same", () => {
    expect(renderTopFindings([policy], 1).slice(2)).toEqual(fixLines);
  });
});
