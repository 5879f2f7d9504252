// kvmig history's text: a header naming the scope and how far back each source reaches, one row
// per migration (newest first), and the summary line. Notes (what the history may miss) go to
// stderr; -o json/yaml print the result as it is.

import type { CommandContext } from "../context.js";
import { formatDuration } from "../duration.js";
import { formatTable } from "../io/table.js";
import { formatTime, timeStyleFor } from "../io/time.js";
import type { HistoryItem, HistorySummary } from "../migration/history.js";
import type { HistoryResult, SourceReach } from "../operations/read-history.js";
import { plural } from "../util/words.js";

const sourceNames: Record<SourceReach["source"], string> = {
  vmim: "VMIMs",
  vmi: "VMI record",
  events: "events",
  prometheus: "Prometheus",
};

const shortSource: Record<SourceReach["source"], string> = {
  vmim: "vmim",
  vmi: "vmi",
  events: "events",
  prometheus: "prom",
};

const triggerText: Record<string, string> = {
  user: "user",
  evacuation: "evacuation",
  "workload-update": "workload update",
  "volume-update": "volume update",
};

export function summaryLine(summary: HistorySummary, since: string): string {
  if (summary.moves === 0) return `no migrations in the window (since ${since})`;
  const rate = summary.successRate === null ? "" : `, ${Math.round(summary.successRate * 100)}% succeeded`;
  const counts = `${summary.succeeded} succeeded, ${summary.failed} failed`;
  const median =
    summary.medianDurationSeconds === null
      ? ""
      : `; median duration ${formatDuration(summary.medianDurationSeconds * 1000)}`;
  return `${plural(summary.moves, "migration")} since ${since}: ${counts}${rate}${median}`;
}

export function sourceLine(sources: readonly SourceReach[], format: (iso: string) => string): string {
  return sources
    .map((s) => {
      const name = sourceNames[s.source];
      if (!s.read) return `${name}: not read`;
      const reach = s.since === null ? "nothing" : `since ${format(s.since)}`;
      return `${name}: ${reach} (${s.migrations})`;
    })
    .join(" · ");
}

/** The table's rows: with the VM when the scope has many, with more with -o wide. */
export function historyTable(
  items: readonly HistoryItem[],
  options: { manyVms: boolean; allNamespaces: boolean; wide: boolean; time: (iso: string) => string },
): string {
  const headers = [
    ...(options.allNamespaces ? ["NAMESPACE"] : []),
    ...(options.manyVms ? ["VM"] : []),
    "STARTED",
    "TRIGGER",
    "FROM",
    "TO",
    "DURATION",
    "OUTCOME",
    ...(options.wide ? ["MIGRATION", "ENDED"] : []),
    "SOURCES",
    "REASON",
  ];
  const rows = items.map((i) => [
    ...(options.allNamespaces ? [i.namespace] : []),
    ...(options.manyVms ? [i.vm] : []),
    i.startedAt === null ? "-" : options.time(i.startedAt),
    i.trigger === null ? "-" : (triggerText[i.trigger] ?? i.trigger),
    i.from ?? "-",
    i.to ?? "-",
    i.durationSeconds === null ? "-" : formatDuration(i.durationSeconds * 1000),
    i.outcome,
    ...(options.wide ? [i.migration ?? "-", i.endedAt === null ? "-" : options.time(i.endedAt)] : []),
    i.sources.map((s) => shortSource[s]).join(","),
    i.failureReason ?? "",
  ]);
  return formatTable(headers, rows);
}

export function renderHistory(result: HistoryResult, ctx: CommandContext, wide: boolean): void {
  const { io } = ctx;
  const c = io.colors;
  const now = ctx.clock.now();
  const style = timeStyleFor(io.stdoutIsTTY);
  const time = (iso: string) => formatTime(iso, style, now);
  const scope =
    result.vm !== null
      ? `${result.namespace}/${result.vm}`
      : result.namespace === null
        ? "every namespace"
        : `namespace ${result.namespace}`;
  const node = result.node === null ? "" : `, from or to ${result.node}`;
  io.out(c.bold(`Migrations of ${scope}${node}, newest first`));
  io.out(c.dim(sourceLine(result.sources, time)));
  if (result.items.length > 0) {
    io.out("");
    io.out(
      historyTable(result.items, {
        manyVms: result.vm === null,
        allNamespaces: result.namespace === null,
        wide,
        time,
      }),
    );
    io.out("");
  }
  io.out(summaryLine(result.summary, time(result.since)));
  for (const note of result.notes) io.err(`${io.errColors.dim("note:")} ${note}`);
}
