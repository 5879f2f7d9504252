// The text form of a diagnosis: each finding with what was seen, why it matters and what to do;
// when nothing is wrong, what was looked at, so that "no problems" means something.

import type { ColorScheme } from "../io/io.js";
import { kvmigCommand } from "../util/shell.js";
import { plural } from "../util/words.js";
import type { DiagnoseReport } from "./engine.js";
import type { Evidence, Finding, Severity, Snapshot } from "./types.js";

const identity = (text: string) => text;

/** No colours: for callers that render to a string for a pipe or a log. */
export const plainColors: ColorScheme = {
  enabled: false,
  bold: identity,
  dim: identity,
  ok: identity,
  warn: identity,
  error: identity,
  accent: identity,
  phase: identity,
};

function severityLabel(severity: Severity, c: ColorScheme): string {
  switch (severity) {
    case "error":
      return c.error("ERROR");
    case "warning":
      return c.warn("WARNING");
    default:
      return c.accent("INFO");
  }
}

function indent(text: string, prefix: string): string[] {
  return text.split("\n").map((line) => `${prefix}${line}`);
}

/** The fix's explanation after "Fix:", a list in it (one item a line) indented under it. */
function explanationLines(explanation: string, c: ColorScheme): string[] {
  const [first = "", ...more] = explanation.split("\n");
  return [`  ${c.bold("Fix:")} ${first}`, ...more.map((line) => `    ${line}`)];
}

/**
 * A command indented under the fix. The lines after the first of a multi-line one (a
 * here-document: kubectl apply with a policy) stay at the margin, so that a copy of the block runs
 * as it is: the shell ends a here-document only at a line that is its delimiter alone.
 */
function commandLines(command: string, c: ColorScheme): string[] {
  const [first = "", ...more] = command.split("\n");
  return [`    ${c.accent(first)}`, ...more.map((line) => c.accent(line))];
}

type Wrap = (line: string) => string[];
const noWrap: Wrap = (line) => [line];

function evidenceLines(
  evidence: Evidence,
  c: ColorScheme,
  time: (iso: string) => string,
  wrap: Wrap,
): string[] {
  const at = evidence.time ? time(evidence.time) : undefined;
  const where = [evidence.object, evidence.field, at].filter((part) => part).join(", ");
  return [...wrap(`    ${c.dim(`${where}:`)}`), ...indent(evidence.text, "      ").flatMap(wrap)];
}

/** One finding in full: title, evidence, why it matters, the fix, the docs link. */
export function formatFinding(
  finding: Finding,
  c: ColorScheme = plainColors,
  time: (iso: string) => string = (iso) => iso,
  wrap: Wrap = noWrap,
): string[] {
  const cause = finding.causedBy ? c.dim(` (caused by ${finding.causedBy})`) : "";
  const lines = [
    ...wrap(
      `${severityLabel(finding.severity, c)} ${c.bold(finding.title)} ${c.dim(`[${finding.id}, confidence ${finding.confidence}]`)}${cause}`,
    ),
    ...indent(finding.summary, "  ").flatMap(wrap),
  ];
  if (finding.evidence.length > 0) {
    lines.push("  Seen:");
    for (const evidence of finding.evidence) lines.push(...evidenceLines(evidence, c, time, wrap));
  }
  lines.push(...explanationLines(finding.fix.explanation, c).flatMap(wrap));
  // Commands stay on one line each, whatever the width: they are for copy and paste.
  for (const command of finding.fix.commands) lines.push(...commandLines(command, c));
  if (finding.notChecked && finding.notChecked.length > 0) {
    lines.push(...wrap(`  Not checked: ${finding.notChecked.join("; ")}`));
  }
  lines.push(`  Docs: ${finding.docs}`);
  return lines;
}

/** What the snapshot held, in one line per kind of evidence. */
export function describeChecked(s: Snapshot): string[] {
  const lines: string[] = [];
  const vmi = s.vmi
    ? `VMI ${s.vmi.status?.phase ?? "without status"}${s.vmi.status?.nodeName ? ` on ${s.vmi.status.nodeName}` : ""}`
    : "no VMI";
  lines.push(`${s.vm ? "VM" : "no VM"}, ${vmi}`);
  lines.push(
    `${plural(s.migrations.length, "migration")}, ${plural(s.pods.length, "launcher pod")}, ${plural(s.events.length, "event")}`,
  );
  const logLines = s.logs.reduce((sum, log) => sum + log.lines.length, 0);
  lines.push(`${plural(logLines, "log line")} from ${plural(s.logs.length, "container log")}`);
  const cluster = [
    plural(s.nodes.length, "node"),
    s.kubevirt ? "the KubeVirt resource" : undefined,
    s.currentLauncherImage ? `current launcher ${s.currentLauncherImage}` : undefined,
    plural(s.networkAttachmentDefinitions.length, "NetworkAttachmentDefinition"),
    plural(s.migrationPolicies.length, "MigrationPolicy", "MigrationPolicies"),
  ].filter((part) => part !== undefined);
  lines.push(cluster.join(", "));
  if (s.canMigrate !== undefined) lines.push(`permission to migrate: ${s.canMigrate ? "yes" : "no"}`);
  return lines;
}

export interface RenderOptions {
  /** How many rules ran (after --only/--skip). */
  rulesRun: number;
  /** How a timestamp is shown ("3m ago" on a terminal); as it is when not given. */
  time?: ((iso: string) => string) | undefined;
  /** Fits prose to a terminal's width; lines are left whole when not given. */
  wrap?: Wrap | undefined;
}

/** The whole diagnosis as text lines, for stdout. */
export function formatDiagnosis(
  report: DiagnoseReport,
  snapshot: Snapshot,
  options: RenderOptions,
  c: ColorScheme = plainColors,
): string[] {
  const subject = `${snapshot.namespace}/${snapshot.vmName}`;
  const time = options.time ?? ((iso: string) => iso);
  const shown = time(snapshot.takenAt);
  const takenAt = /ago$|^just now$|^in /.test(shown) ? shown : `at ${shown}`;
  const from = snapshot.source === "live" ? "live cluster" : "directory";
  const wrap = options.wrap ?? noWrap;
  const lines: string[] = [];
  if (report.problems > 0) {
    lines.push(
      ...wrap(
        `${c.bold(`${subject}:`)} ${c.error(plural(report.problems, "problem"))} found ${c.dim(`(${from}, ${takenAt})`)}`,
      ),
    );
  } else {
    lines.push(
      ...wrap(`${c.bold(`${subject}:`)} ${c.ok("no problems found")} ${c.dim(`(${from}, ${takenAt})`)}`),
    );
  }
  for (const finding of report.findings) lines.push("", ...formatFinding(finding, c, time, wrap));
  if (report.problems === 0) {
    lines.push("", `Checked ${plural(options.rulesRun, "failure mode")} against:`);
    for (const line of describeChecked(snapshot)) lines.push(`  ${line}`);
  }
  if (snapshot.missing.length > 0) {
    lines.push("", "Could not check:");
    for (const m of snapshot.missing) lines.push(...wrap(`  ${m.what}: ${m.why}`));
  }
  if (report.errors.length > 0) {
    lines.push("", c.warn("Rules that failed (a bug in kvmig; the other rules ran):"));
    for (const e of report.errors) lines.push(`  ${e.rule}: ${e.message}`);
  }
  return lines;
}

/**
 * The first `n` findings in a few lines each, for migrate and watch to print after a failure:
 * title, the first piece of evidence, the first fix command.
 */
export function renderTopFindings(
  findings: readonly Finding[],
  n: number,
  c: ColorScheme = plainColors,
): string[] {
  const lines: string[] = [];
  for (const finding of findings.slice(0, Math.max(0, n))) {
    lines.push(`${severityLabel(finding.severity, c)} ${c.bold(finding.title)} ${c.dim(`[${finding.id}]`)}`);
    const first = finding.evidence[0];
    if (first) lines.push(`  ${c.dim(`${first.object}:`)} ${first.text.split("\n")[0] ?? ""}`);
    lines.push(...explanationLines(finding.fix.explanation, c));
    const command = finding.fix.commands[0];
    if (command) lines.push(...commandLines(command, c));
  }
  const more = findings.length - Math.max(0, n);
  if (more > 0) lines.push(c.dim(`(${plural(more, "more finding")}: ${kvmigCommand(["diagnose"])})`));
  return lines;
}
