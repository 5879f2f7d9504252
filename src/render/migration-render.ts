// How a followed migration looks: the timeline as phases complete, one live line (a spinner on
// a terminal, a plain progress line at most every 5 s otherwise), and the summary at the end.

import { formatDuration } from "../duration.js";
import type { IO } from "../io/io.js";
import type { Progress } from "../io/progress.js";
import type { Event } from "../k8s/types.js";
import type { Forecast } from "../migration/forecast.js";
import {
  adviceHeading,
  adviceLines,
  applyPolicyCommand,
  policyAdvice,
  policyIntro,
} from "../migration/forecast-text.js";
import { formatBytes, formatRateWithin, sparkline } from "../migration/format.js";
import type { Verdict } from "../migration/preflight.js";
import {
  failureText,
  isFinalPhase,
  type MigrationView,
  phaseDurations,
  totalDuration,
} from "../migration/state.js";
import type { FollowChange } from "../operations/follow-migration.js";
import { plural } from "../util/words.js";

const plainProgressEveryMs = 5000;
const pendingRepeatMs = 30_000;

/** How many refused nodes a verdict lists on a terminal; JSON carries every one. */
const shownRefusals = 10;

export function renderVerdicts(io: IO, title: string, verdicts: readonly Verdict[]): void {
  const c = io.errColors;
  io.err(c.bold(title));
  for (const v of verdicts) {
    const label =
      v.status === "ok" ? c.ok("ok     ") : v.status === "warning" ? c.warn("warning") : c.error("error  ");
    io.err(`  ${label}  ${v.message}`);
    const nodes = v.nodes ?? [];
    for (const n of nodes.slice(0, shownRefusals)) io.err(`           ${n.node}: ${n.reason}`);
    if (nodes.length > shownRefusals) io.err(`           … and ${nodes.length - shownRefusals} more`);
    if (v.hint && v.status !== "ok") io.err(`           ${c.dim(v.hint)}`);
  }
}

export function progressText(view: MigrationView, compact = false): string | undefined {
  const p = view.progress;
  if (!p) return undefined;
  const parts = [`${formatBytes(p.dataRemainingBytes)} of ${formatBytes(p.dataTotalBytes)} left`];
  // Unknown when the launcher's release, which says how it wrote them, is unknown (progress-line.ts).
  if (p.bandwidthBytesPerSecond === undefined || p.dirtyRateBytesPerSecond === undefined)
    parts.push("rate unknown");
  else
    parts.push(
      formatRateWithin(p.bandwidthBytesPerSecond, p.rateStepBytesPerSecond),
      `dirty ${formatRateWithin(p.dirtyRateBytesPerSecond, p.rateStepBytesPerSecond)}`,
    );
  if (p.iteration > 0) parts.push(compact ? `iter ${p.iteration}` : `iteration ${p.iteration}`);
  if (p.expectedDowntimeMs !== undefined && !compact)
    parts.push(`expected downtime ${p.expectedDowntimeMs}ms`);
  const forecast = forecastText(view.forecast);
  if (forecast) parts.push(forecast);
  return parts.join(" · ");
}

/**
 * The forecast beside a progress line (migrate, watch, evacuate's VM lines): the ETA, or that it
 * will not converge once several samples say so; nothing while it cannot be told.
 */
export function forecastText(forecast: Forecast | undefined): string | undefined {
  if (!forecast) return undefined;
  if (forecast.converging === false && forecast.confidence !== "low") return "will not converge";
  if (forecast.etaSeconds === null) return undefined;
  return `ETA ${formatDuration(forecast.etaSeconds * 1000)}`;
}

/**
 * The warning when the forecast says it will not converge: its lines (the cause, the end, the
 * fixes, the command that applies the policy), printed indented under the label, and the
 * here-document the command reads, printed at the margin so that a copied block runs (the shell
 * ends it only at a line that is exactly EOF).
 */
export function forecastWarning(forecast: Forecast): { lines: string[]; document: string[] } {
  const lines = [`will not converge: ${forecast.reason}`];
  if (forecast.advice.length === 0) return { lines, document: [] };
  // The same text as diagnose's not-converging fix (migration/forecast-text.ts).
  lines.push(adviceHeading, ...adviceLines(forecast.advice));
  const top = policyAdvice(forecast.advice);
  if (!top) return { lines, document: [] };
  const [command = "", ...document] = applyPolicyCommand(top.yaml, top.label).split("\n");
  lines.push(policyIntro, `  ${command}`);
  return { lines, document };
}

function route(view: MigrationView): string {
  const source = view.sourceNode ?? "?";
  return view.targetNode ? `${source} → ${view.targetNode}` : `from ${source}`;
}

export interface RendererOptions {
  now: () => number;
  /** Show the VMI and VMIM events as they arrive (watch VM). */
  showEvents: boolean;
}

/** Draws the follow on stderr; call onChange for every change and stop() at the end. */
export class FollowRenderer {
  readonly #printed = new Set<string>();
  #lastPlainProgress = Number.NEGATIVE_INFINITY;
  #lastNote = "";
  #pendingKeys = "";
  #phase = "";
  #phaseSeenAt = 0;
  #pendingShownAt = Number.NEGATIVE_INFINITY;
  #forecastWarned = "";
  #view: MigrationView | undefined;
  /** Ticks the spinner's elapsed time between changes (a phase can be quiet for minutes). */
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly io: IO,
    private readonly progress: Progress,
    private readonly options: RendererOptions,
  ) {}

  get #tty(): boolean {
    return this.io.stderrIsTTY;
  }

  start(view: MigrationView): void {
    this.#printCompleted(view);
    this.#spin(view);
  }

  onChange(view: MigrationView, change: FollowChange): void {
    // With -o json or yaml, stdout carries the result and stderr stays quiet.
    if (this.io.mode !== "text") return;
    const c = this.io.errColors;
    switch (change.kind) {
      case "phase":
        this.#printCompleted(view);
        break;
      case "progress":
        this.#warnForecast(view.forecast);
        if (!this.#tty && this.options.now() - this.#lastPlainProgress >= plainProgressEveryMs) {
          const text = progressText(view);
          if (text) {
            this.#lastPlainProgress = this.options.now();
            this.io.err(`  progress  ${text}`);
          }
        }
        break;
      case "pending": {
        // Countdowns change every poll; a new reason is news, the same one is repeated at most every 30 s.
        const keys = change.reasons.map((r) => r.key).join("|");
        const due = !this.#tty && this.options.now() - this.#pendingShownAt >= pendingRepeatMs;
        if (keys !== this.#pendingKeys || due) {
          this.#pendingKeys = keys;
          this.#pendingShownAt = this.options.now();
          for (const reason of change.reasons) this.#line(`${c.warn("waiting")}   ${reason.text}`);
        }
        break;
      }
      case "note":
        if (change.text !== this.#lastNote) {
          this.#lastNote = change.text;
          this.#line(`${c.dim("note")}      ${change.text}`);
        }
        break;
      case "event":
        if (this.options.showEvents) this.#line(`${c.dim("event")}     ${eventLine(change.event)}`);
        break;
    }
    this.#spin(view);
  }

  stop(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.progress.stop();
  }

  /** Once per cause: the forecast's warning, as soon as enough samples say it will not converge. */
  #warnForecast(forecast: Forecast | undefined): void {
    if (forecast?.converging !== false || forecast.confidence === "low") return;
    const key = `${forecast.endsBy}|${forecast.advice.map((a) => a.action).join(",")}`;
    if (key === this.#forecastWarned) return;
    this.#forecastWarned = key;
    const c = this.io.errColors;
    const { lines, document } = forecastWarning(forecast);
    const [first, ...rest] = lines;
    this.#line(`${c.warn("warning")}   ${first}`);
    for (const line of rest) this.#line(`          ${line}`);
    for (const line of document) this.#atMargin(line);
  }

  /** A line at the margin (a here-document's), above the spinner or plain. */
  #atMargin(text: string): void {
    if (this.#tty) this.progress.info(text);
    else this.io.err(text);
  }

  /** A line above the spinner (a terminal) or a plain line. */
  #line(text: string): void {
    if (this.#tty) this.progress.info(text);
    else this.io.err(`  ${text}`);
  }

  #spin(view: MigrationView): void {
    this.#view = view;
    if (!this.#tty || view.outcome !== "in-progress") return;
    if (this.#ticker === undefined) {
      this.#ticker = setInterval(() => {
        if (this.#view) this.#spin(this.#view);
      }, 1000);
      this.#ticker.unref?.();
    }
    // Measured on our clock from when we saw the phase begin: the server's clock may differ.
    if (view.phase !== this.#phase) {
      this.#phase = view.phase;
      this.#phaseSeenAt = this.options.now();
    }
    const elapsed = ` ${formatDuration(Math.max(0, this.options.now() - this.#phaseSeenAt))}`;
    const detail = view.phase === "Running" ? progressText(view, true) : undefined;
    const text = `${view.phase || "Pending"}${elapsed}  ${route(view)}${detail ? `  ${detail}` : ""}`;
    // One terminal line: the spinner and a space take two columns.
    const room = Math.max(20, this.io.columns - 3);
    this.progress.update(text.length > room ? `${text.slice(0, room - 1)}…` : text);
  }

  #printCompleted(view: MigrationView): void {
    const durations = new Map(
      phaseDurations(view, new Date(this.options.now()).toISOString()).map((d) => [d.phase, d.ms]),
    );
    const entries = view.timeline;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (!entry || this.#printed.has(entry.phase)) continue;
      const done = isFinalPhase(entry.phase) || i < entries.length - 1;
      if (!done) continue;
      this.#printed.add(entry.phase);
      const c = this.io.errColors;
      if (isFinalPhase(entry.phase)) {
        const text = `${c.phase(entry.phase)}`;
        if (this.#tty) {
          if (entry.phase === "Succeeded") this.progress.succeed(text);
          else this.progress.fail(text);
        } else this.io.err(`  ${entry.phase}`);
        continue;
      }
      const ms = durations.get(entry.phase) ?? 0;
      const extra = entry.phase === "Running" ? `   ${route(view)}` : "";
      const text = `${entry.phase.padEnd(16)}${formatDuration(ms).padStart(7)}${extra}`;
      if (this.#tty) this.progress.succeed(text);
      else this.io.err(`  ${text}`);
    }
  }
}

function eventLine(event: Event): string {
  const what = `${event.involvedObject.kind ?? ""}/${event.involvedObject.name ?? ""}`;
  return `${event.type ?? "Normal"} ${event.reason ?? ""} ${what}: ${event.message ?? ""}`;
}

/** The summary at the end, for stdout. */
export function summaryLines(view: MigrationView, io: IO, now: string): string[] {
  const c = io.colors;
  const where = `${view.namespace}/${view.vmName}`;
  const lines: string[] = [];
  if (view.outcome === "succeeded") {
    lines.push(`${c.ok("Succeeded")}  ${where} moved ${route(view)}`);
  } else if (view.outcome === "failed") {
    const stays = view.vmiNode ?? view.sourceNode;
    lines.push(`${c.error("Failed")}  ${where}${stays ? ` stays on ${stays}` : ""}`);
  } else {
    lines.push(`${c.accent(view.phase || "Pending")}  ${where} ${route(view)} (still in progress)`);
  }
  lines.push(`  migration  ${view.name}`);
  lines.push(`  total      ${formatDuration(totalDuration(view, now))}`);
  const phases = phaseDurations(view, now).map((d) => `${d.phase} ${formatDuration(d.ms)}`);
  lines.push(...wrapList("  phases     ", phases, Math.min(io.columns, 100)));
  const p = view.progress;
  // No downtime row: virt-launcher logs its progress only while the job runs, so no line gives
  // the final downtime, and neither does any status. The mode does say when the guest stopped.
  const mode = modeText(view);
  if (mode) lines.push(`  mode       ${mode}`);
  if (view.remainingCurve.length > 0) {
    // The launcher's last line is up to 4 s before the end; a migration that succeeded sent it all.
    const curve = view.outcome === "succeeded" ? [...view.remainingCurve, 0] : view.remainingCurve;
    const first = curve[0] ?? 0;
    const last = curve.at(-1) ?? 0;
    // The last line's iteration; the copy may have gone through more after it.
    const atLeast = view.outcome === "succeeded" ? "at least " : "";
    const iterations = p && p.iteration > 0 ? ` over ${atLeast}${plural(p.iteration, "iteration")}` : "";
    lines.push(`  remaining  ${sparkline(curve)}  ${formatBytes(first)} → ${formatBytes(last)}${iterations}`);
  }
  if (view.outcome === "failed") {
    const reason = failureText(view);
    if (reason) lines.push(`  reason     ${reason}`);
    for (const warning of view.launcherWarnings) lines.push(`  launcher   ${warning}`);
    if (view.abortStatus) lines.push(`  abort      ${view.abortStatus}`);
  }
  return lines;
}

/**
 * What the VMI's migration mode says about the guest, when it is not plain pre-copy: KubeVirt
 * switches at the completion timeout, with allowWorkloadDisruption, to post-copy (allowPostCopy)
 * or pauses the guest until the copy is done.
 */
function modeText(view: MigrationView): string | undefined {
  const where = view.targetNode ? ` on ${view.targetNode}` : " on the target";
  if (view.mode === "PostCopy")
    return `post-copy: the guest ran${where} while the rest of its memory was copied (the completion timeout had passed)`;
  if (view.mode === "Paused")
    return "paused: the guest was paused to let the copy finish (the completion timeout had passed)";
  return undefined;
}

/** `label item, item, ...` wrapped under the label so each line fits `width`. */
function wrapList(label: string, items: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const [i, item] of items.entries()) {
    const piece = `${item}${i < items.length - 1 ? "," : ""}`;
    if (line !== "" && label.length + line.length + 1 + piece.length > width) {
      lines.push(line);
      line = piece;
    } else line = line === "" ? piece : `${line} ${piece}`;
  }
  if (line !== "") lines.push(line);
  return lines.map((l, i) => `${i === 0 ? label : " ".repeat(label.length)}${l}`);
}

/** `-o json` of migrate and watch VM: the spec's shape. */
export function migrationJson(
  view: MigrationView,
  now: string,
  findings?: unknown[],
): Record<string, unknown> {
  const end = view.outcome === "in-progress" ? undefined : view.endedAt;
  return {
    vm: view.vmName,
    namespace: view.namespace,
    migration: view.name,
    phase: view.phase,
    sourceNode: view.sourceNode ?? null,
    targetNode: view.targetNode ?? null,
    startedAt: view.createdAt ?? null,
    endedAt: end ?? null,
    durationSeconds: Math.round(totalDuration(view, now) / 100) / 10,
    timeline: view.timeline.map((e) => ({ phase: e.phase, at: e.at })),
    ...(view.outcome === "failed" ? { failureReason: failureText(view) ?? null } : {}),
    // The last forecast while it ran (none before the first progress sample).
    ...(view.forecast ? { forecast: view.forecast } : {}),
    ...(findings && findings.length > 0 ? { findings } : {}),
  };
}
