// How `kvmig evacuate NODE` shows: the plan (the node's VMs and what happens to each, the room on
// the other nodes, KubeVirt's limits, an estimate, the problems), then on a terminal a live block
// on stderr (a bar for the node, one line per VM: phase, data left, rates, why it waits), in a
// pipe one line per change; the summary table on stdout; the `-o json` document.

import type { CommandContext } from "../context.js";
import { formatDuration } from "../duration.js";
import { formatTable, truncateToWidth } from "../io/table.js";
import { ownCsi } from "../io/untrusted.js";
import type { EvacuationPlan, PlannedVm } from "../migration/evacuation-plan.js";
import { formatBytes } from "../migration/format.js";
import type {
  EvacuateObserver,
  EvacuateOutcome,
  EvacuationCounts,
  EvacuationResult,
  VmStatus,
} from "../operations/evacuate-node.js";
import { plural } from "../util/words.js";
import { progressText } from "./migration-render.js";

const redrawMs = 250;

function cpu(millis: number): string {
  return millis % 1000 === 0 ? `${millis / 1000}` : (millis / 1000).toFixed(1);
}

function actionText(vm: PlannedVm): string {
  if (vm.action === "migrate") return "migrate";
  if (vm.action === "restart") return "restart (downtime)";
  return "blocked";
}

/** KubeVirt's reason in a few characters, as outdated shows it: its reasons end in NotLiveMigratable ("no: Disks"). */
function migratableText(vm: PlannedVm): string {
  if (vm.liveMigratable.ok === true) return "yes";
  if (vm.liveMigratable.ok === false) {
    const reason = vm.liveMigratable.reason;
    return reason ? `no: ${reason.replace(/Not(Live)?Migratable$/, "") || reason}` : "no";
  }
  return "unknown";
}

/** A table's lines cut to the terminal's width (`columns`), or whole (a pipe, a file). */
function fitToWidth(table: string, columns: number | undefined): string {
  if (columns === undefined) return table;
  return table
    .split("\n")
    .map((line) => truncateToWidth(line, columns))
    .join("\n");
}

/** The first few names, and how many more. */
function someOf(names: readonly string[], shown = 3): string {
  if (names.length === 0) return "-";
  return names.length <= shown
    ? names.join(", ")
    : `${names.slice(0, shown).join(", ")} and ${names.length - shown} more`;
}

/**
 * The plan as text lines (stderr on a run; stdout for --dry-run, where it is the data). On a
 * terminal (`columns`) the tables are cut to its width; the prose wraps as it will.
 */
export function planLines(
  plan: EvacuationPlan,
  ctx: Pick<CommandContext, "io">,
  columns?: number | undefined,
): string[] {
  const lines: string[] = [];
  const moving = plan.vms.filter((v) => v.action !== "blocked").length;
  lines.push(
    `Node ${plan.node}${plan.cordoned ? " (cordoned)" : ""}: ${plural(plan.vms.length, "VM")}, ${moving} to move`,
  );
  if (plan.vms.length > 0) {
    lines.push("");
    lines.push(
      fitToWidth(
        formatTable(
          ["NAMESPACE", "VM", "ACTION", "MIGRATABLE", "EVICTION", "MEMORY", "NOW"],
          plan.vms.map((v) => [
            v.namespace,
            v.vm,
            actionText(v),
            migratableText(v),
            v.evictionStrategy,
            formatBytes(v.guestMemoryBytes),
            v.migration
              ? `${v.migration.trigger} migration ${v.migration.phase || "Pending"}`
              : v.marked
                ? "marked"
                : "-",
          ]),
        ),
        columns,
      ),
    );
    for (const v of plan.vms.filter((x) => x.action !== "migrate")) {
      lines.push(`  ${v.namespace}/${v.vm}: ${v.why}${v.command ? `\n    to move it: ${v.command}` : ""}`);
    }
  }
  const usable = plan.room.nodes.filter((n) => n.node !== plan.node);
  if (usable.length > 0) {
    lines.push("");
    lines.push(
      fitToWidth(
        formatTable(
          ["NODE", "USABLE", "FREE MEMORY", "FREE CPU", "COULD TAKE"],
          usable.map((n) => [
            n.node,
            n.usable ? "yes" : `no: ${n.why ?? "?"}`,
            formatBytes(n.free.memoryBytes),
            cpu(n.free.cpuMillis),
            someOf(n.placed),
          ]),
        ),
        columns,
      ),
    );
  }
  const l = plan.limits;
  lines.push("");
  lines.push(
    `KubeVirt's limits: ${l.perNode} outbound per node (parallelOutboundMigrationsPerNode; ${l.outboundFromNode} from ${plan.node} now), ${l.perCluster} in the cluster (parallelMigrationsPerCluster; ${l.inCluster} now): ${plural(l.freeSlots, "free slot")}${l.queued ? `; ${l.queued} of the migrations wait in KubeVirt's queue and start as slots free` : ""}`,
  );
  lines.push(
    plan.estimate.seconds === null
      ? `Estimate: none (${plan.estimate.basis})`
      : `Estimate: about ${formatDuration(plan.estimate.seconds * 1000)} (${plan.estimate.basis})`,
  );
  for (const p of plan.problems) {
    const label = p.severity === "error" ? ctx.io.errColors.error("error") : ctx.io.errColors.warn("warning");
    lines.push(`${label}: ${p.message}${p.hint ? `\n  hint: ${p.hint}` : ""}`);
  }
  return lines;
}

export function progressBar(counts: EvacuationCounts, width = 20): string {
  const finished = counts.done + counts.failed + counts.blocked;
  const filled = counts.total === 0 ? width : Math.round((finished / counts.total) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${finished}/${counts.total}  done ${counts.done} · running ${counts.running} · queued ${counts.queued} · failed ${counts.failed} · blocked ${counts.blocked}`;
}

/** One VM's line: where it stands, with its migration's phase and progress or why it waits. */
export function vmLine(s: VmStatus): string {
  const who = `${s.vm.namespace}/${s.vm.vm}`;
  if (s.result) return resultLine(s.result);
  const tries = s.attempts > 0 ? ` (attempt ${s.attempts + 1})` : "";
  if (s.stage === "restarting") return `${who}: restarting (downtime)`;
  if (s.stage === "migrating") {
    const progress = s.view ? progressText(s.view, true) : undefined;
    const detail = s.waiting ?? progress;
    return `${who}: ${s.phase ?? "Pending"}${tries}${detail ? ` · ${detail}` : ""}`;
  }
  return `${who}: ${s.waiting ?? "queued"}${tries}`;
}

export function resultLine(r: EvacuationResult): string {
  const who = `${r.namespace}/${r.vm}`;
  const time = r.duration === null ? "" : ` in ${durationText(r.duration)}`;
  switch (r.outcome) {
    case "migrated":
      return `${who}: migrated ${r.from} → ${r.to ?? "?"}${time}`;
    case "restarted":
      return `${who}: restarted on ${r.to ?? "?"}${time}${r.message ? ` (${r.message})` : ""}`;
    case "failed":
      return `${who}: failed${r.cause ? ` (${r.cause})` : ""}: ${r.message ?? ""}`;
    case "blocked":
      return `${who}: blocked: ${r.message ?? ""}`;
    default:
      return `${who}: skipped: ${r.message ?? ""}`;
  }
}

/** What the run renders into; stop() draws the last frame. */
export interface EvacuationScreen {
  observer: EvacuateObserver;
  stop(): void;
}

export function evacuationScreen(ctx: CommandContext, node: string): EvacuationScreen {
  const io = ctx.io;
  const text = io.mode === "text";
  const live = text && io.stderrIsTTY;
  const statuses = new Map<string, VmStatus>();
  let counts: EvacuationCounts | undefined;
  let drawn = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const lastLine = new Map<string, string>();

  const frame = (): string[] => {
    const lines = counts ? [`${node} ${progressBar(counts)}`] : [];
    for (const s of statuses.values()) if (!s.result) lines.push(`  ${vmLine(s)}`);
    return lines.map((line) => truncateToWidth(line, io.columns));
  };
  // To the first column, up over the live block, clear to the end of the screen: kvmig's own
  // sequences (ownCsi), which stderr lets through.
  const clear = () => (drawn > 0 ? `${ownCsi("1G")}${ownCsi(`${drawn}A`)}${ownCsi("0J")}` : "");
  const draw = () => {
    timer = undefined;
    if (stopped) return;
    const lines = frame();
    io.stderr.write(`${clear()}${lines.join("\n")}${lines.length > 0 ? "\n" : ""}`);
    drawn = lines.length;
  };
  /** A line that stays above the live block. */
  const print = (line: string) => {
    if (!text) return;
    if (live) {
      io.stderr.write(`${clear()}${line}\n`);
      drawn = 0;
      if (!timer) timer = setTimeout(draw, redrawMs);
    } else io.err(line);
  };
  const schedule = () => {
    if (live && !timer && !stopped) timer = setTimeout(draw, redrawMs);
  };

  return {
    observer: {
      onCordon: (already) =>
        print(already ? `${node} was cordoned already` : `cordoned ${node}: no new pods are scheduled on it`),
      onVm: (s, c) => {
        counts = c;
        const k = `${s.vm.namespace}/${s.vm.vm}`;
        statuses.set(k, s);
        if (s.result) {
          print(resultLine(s.result));
          return;
        }
        if (live) {
          schedule();
          return;
        }
        // In a pipe: a line when the VM's stage, phase or reason to wait changes (not each progress sample).
        const line = `${k}: ${s.stage === "migrating" ? `${s.phase ?? "Pending"}${s.waiting ? ` · ${s.waiting}` : ""}` : s.stage === "restarting" ? "restarting (downtime)" : (s.waiting ?? "queued")}`;
        if (lastLine.get(k) !== line) {
          lastLine.set(k, line);
          print(line);
        }
      },
      onFailure: (s, finding, willRetry) => {
        const who = `${s.vm.namespace}/${s.vm.vm}`;
        const why = finding ? `${finding.id}: ${finding.title}` : "diagnose names no cause";
        print(
          `${who}: migration ${s.migration ?? ""} failed (attempt ${s.attempts}) — ${why}${willRetry ? "; KubeVirt will try again" : ""}`,
        );
      },
      onNote: (s, note) => print(s ? `${s.vm.namespace}/${s.vm.vm}: ${note}` : note),
    },
    stop: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (live && drawn > 0) io.stderr.write(clear());
      drawn = 0;
      stopped = true;
    },
  };
}

/** A VM's duration: whole seconds, "<1s" under one. */
function durationText(seconds: number | null): string {
  if (seconds === null) return "-";
  return seconds < 1 ? "<1s" : formatDuration(seconds * 1000);
}

/**
 * The summary: a row per VM (namespace/name, so that it fits 80 columns), its outcome, the node
 * it went to (all came from the evacuated node), how long, how many attempts, and the cause.
 */
export function summaryTable(results: readonly EvacuationResult[], columns?: number | undefined): string {
  return fitToWidth(
    formatTable(
      ["VM", "OUTCOME", "TO", "TIME", "ATTEMPTS", "CAUSE"],
      results.map((r) => [
        `${r.namespace}/${r.vm}`,
        r.outcome,
        r.to ?? "-",
        durationText(r.duration),
        String(r.attempts),
        r.cause ?? (r.outcome === "blocked" ? "not live-migratable" : "-"),
      ]),
    ),
    columns,
  );
}

/** The `-o json` document of a run (docs/schemas/evacuate.schema.json). */
export function evacuationJson(outcome: EvacuateOutcome, extra: { interrupted?: boolean } = {}) {
  return {
    node: outcome.node,
    cordoned: outcome.cordoned,
    results: outcome.results.map((r) => ({
      namespace: r.namespace,
      vm: r.vm,
      outcome: r.outcome,
      from: r.from,
      to: r.to,
      duration: r.duration,
      attempts: r.attempts,
      cause: r.cause,
      message: r.message,
    })),
    remaining: outcome.remaining,
    ...(extra.interrupted ? { interrupted: true } : {}),
  };
}
