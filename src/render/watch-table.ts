// kvmig watch without a VM, as it shows: every unfinished and recently finished migration in
// scope (operations/watch-migrations.ts watches them), as a table redrawn in place on a terminal,
// one line per change in a pipe, NDJSON with -o json. On --timeout it says what it last saw.
// In a pipe each line is stamped with the time of the change itself (the migration's phase
// transition, the launcher's progress line), not the moment kvmig saw it, so that a log read
// later, or a watch that reconnected, tells the truth; a line that would repeat the last one
// for its migration is left out, and so is a -o json or yaml record (its type aside). TRIGGER
// says who created each migration (user, evacuation, workload-update, volume-update).

import type { CommandContext } from "../context.js";
import { formatDuration } from "../duration.js";
import { TimeoutError } from "../errors.js";
import { objectName, writeDocument } from "../io/output.js";
import { formatTable, streamingTable, truncateToWidth } from "../io/table.js";
import { formatTime } from "../io/time.js";
import { ownCsi } from "../io/untrusted.js";
import { loadYamlWriter } from "../io/yaml.js";
import { ApiOutage } from "../k8s/outage.js";
import { isFinalPhase } from "../migration/state.js";
import type {
  MigrationRow,
  MigrationsObserver,
  MigrationsState,
  WatchMigrationsResult,
} from "../operations/watch-migrations.js";
import { compareText } from "../util/order.js";
import { kvmigCommand } from "../util/shell.js";

/** Finished migrations stay in the table this long. */
const recentMs = 10 * 60_000;
const redrawMs = 500;

export interface TableWatchFlags {
  namespace?: string | undefined;
  selector?: string | undefined;
  /** `--node`: only the migrations from or to this node. */
  node?: string | undefined;
  /** -o wide: the migration's name and its start time as columns, whatever the terminal's width. */
  wide?: boolean | undefined;
  noHeaders?: boolean | undefined;
}

/**
 * A time in whole seconds, as Kubernetes keeps an object's times: the launcher's progress lines
 * carry milliseconds, and a line stamped 12:00:19.5 before a phase change stamped 12:00:19 would
 * look out of order.
 */
function stamp(at: string | undefined): string {
  const ms = Date.parse(at ?? "");
  if (Number.isNaN(ms)) return "-";
  return new Date(ms - (((ms % 1000) + 1000) % 1000)).toISOString().replace(/\.000Z$/, "Z");
}

/** The later of two times (either may be missing). */
function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** `vmiTarget`: the VMI's migrationTargetNodeName label; the VMIM names its target only once final. */
function record(row: MigrationRow, type: string, vmiTarget?: string | undefined) {
  return {
    type,
    vm: row.vm,
    namespace: row.namespace,
    migration: row.migration,
    trigger: row.trigger,
    phase: row.phase,
    sourceNode: row.sourceNode ?? null,
    targetNode: row.targetNode ?? (isFinalPhase(row.phase) ? undefined : vmiTarget) ?? null,
    startedAt: row.startedAt ?? null,
    endedAt: row.endedAt ?? null,
    ...(row.progress ? { progress: row.progress } : {}),
  };
}

/** What the watch renders into: its observer, where its watches tell an outage, and end() once it is over. */
export interface MigrationsTable {
  observer: MigrationsObserver;
  outage: ApiOutage;
  /** The last drawing of the table on a terminal (also after an error); nothing is drawn after. */
  end(): void;
}

export async function migrationsTable(ctx: CommandContext, flags: TableWatchFlags): Promise<MigrationsTable> {
  const io = ctx.io;
  let drawnLines = 0;
  let redrawTimer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  let current: MigrationsState | undefined;
  const tty = io.stdoutIsTTY && io.mode === "text";
  const now = () => ctx.clock.now();
  // -o json is NDJSON, one object per line; -o yaml one document per change.
  const data = io.mode === "json" || io.mode === "yaml";
  const yaml = io.mode === "yaml" ? await loadYamlWriter() : undefined;
  const emit = (object: ReturnType<typeof record>) =>
    yaml
      ? io.stdout.write(`---\n${yaml(object)}`)
      : writeDocument(io, object, (o) => [objectName("vmim", o.migration)], true);

  const isVisible = (r: MigrationRow) => !r.endedAt || now() - Date.parse(r.endedAt) < recentMs;
  const visible = (state: MigrationsState) =>
    [...state.rows.values()]
      .filter(isVisible)
      .sort((a, b) => compareText(a.startedAt ?? "", b.startedAt ?? "") || compareText(a.key, b.key));

  const route = (state: MigrationsState, r: MigrationRow) => {
    const vmi = state.vmis.get(`${r.namespace}/${r.vm}`);
    const source = r.sourceNode ?? vmi?.node ?? "?";
    const target = r.targetNode ?? vmi?.target;
    return target ? `${source} → ${target}` : source;
  };
  const elapsed = (r: MigrationRow) => {
    const start = Date.parse(r.startedAt ?? "");
    if (Number.isNaN(start)) return "";
    return formatDuration(Math.max(0, (r.endedAt ? Date.parse(r.endedAt) : now()) - start));
  };

  const draw = (state: MigrationsState) => {
    redrawTimer = undefined;
    const list = visible(state);
    // Fit the terminal: the migration's name only where there is room, and no line ever wraps,
    // since a wrapped line would break the cursor arithmetic of the redraw.
    const wide = flags.wide === true || io.columns >= 110;
    // TRIGGER too, unless it alone would make the table wider than the terminal (-o wide keeps it).
    const table = (trigger: boolean) =>
      formatTable(
        [
          "VM",
          ...(flags.namespace === undefined ? ["NAMESPACE"] : []),
          "PHASE",
          ...(trigger ? ["TRIGGER"] : []),
          "SOURCE → TARGET",
          "ELAPSED",
          "PROGRESS",
          ...(wide ? ["MIGRATION"] : []),
          ...(flags.wide ? ["STARTED"] : []),
        ],
        list.map((r) => [
          r.vm,
          ...(flags.namespace === undefined ? [r.namespace] : []),
          io.colors.phase(r.phase || "Pending"),
          ...(trigger ? [r.trigger] : []),
          route(state, r),
          elapsed(r),
          r.progress ?? "-",
          ...(wide ? [r.migration] : []),
          ...(flags.wide ? [r.startedAt ? formatTime(r.startedAt, "relative", now()) : "-"] : []),
        ]),
        { noHeaders: flags.noHeaders },
      );
    const fits = (text: string) =>
      text.split("\n").every((line) => truncateToWidth(line, io.columns) === line);
    let body = `no migrations in flight${flags.node === undefined ? "" : ` from or to ${flags.node}`}`;
    if (list.length > 0) {
      body = table(true);
      if (!flags.wide && !fits(body)) body = table(false);
    }
    const lines = body.split("\n").map((line) => truncateToWidth(line, io.columns));
    // Back to the first column (the terminal's echo of a Ctrl-C, "^C", moved the cursor right),
    // up over the previous drawing, clear to the end of the screen, draw again.
    const up = drawnLines > 0 ? `${ownCsi("1G")}${ownCsi(`${drawnLines}A`)}${ownCsi("0J")}` : "";
    io.stdout.write(`${up}${lines.join("\n")}\n`);
    drawnLines = lines.length;
  };
  const scheduleDraw = () => {
    const state = current;
    if (tty && !ended && state?.synced && redrawTimer === undefined)
      redrawTimer = setTimeout(() => draw(state), redrawMs);
  };

  const vmiTarget = (state: MigrationsState, r: MigrationRow) =>
    state.vmis.get(`${r.namespace}/${r.vm}`)?.target;

  // In a pipe: the columns of the terminal's table, after the time of the change; -o wide adds
  // the elapsed time at that change and the start, as on a terminal.
  const pipeTable = streamingTable(
    [
      "TIME",
      "VM",
      ...(flags.namespace === undefined ? ["NAMESPACE"] : []),
      "PHASE",
      "TRIGGER",
      "SOURCE → TARGET",
      "PROGRESS",
      "MIGRATION",
      ...(flags.wide ? ["ELAPSED", "STARTED"] : []),
    ],
    // The longest phase, and the longest progress ("99.9 GiB left"), from the start: fewer shifts.
    {
      noHeaders: flags.noHeaders,
      minWidths: {
        PHASE: "PreparingTarget".length,
        TRIGGER: "workload-update".length,
        PROGRESS: "99.9 GiB left".length,
      },
    },
  );
  /** What a pipe line last said per migration: the same again is not news. */
  const printed = new Map<string, string>();
  const pipeLine = (
    state: MigrationsState,
    row: MigrationRow,
    type: string,
    at: string | undefined,
  ): string[] | undefined => {
    const phase = type === "DELETED" ? "deleted" : row.phase || "Pending";
    const said = [phase, route(state, row), row.progress ?? "-"].join("\u0000");
    if (printed.get(row.uid || row.key) === said) return undefined;
    printed.set(row.uid || row.key, said);
    const start = Date.parse(row.startedAt ?? "");
    const until = Date.parse(at ?? "");
    return [
      stamp(at),
      row.vm,
      ...(flags.namespace === undefined ? [row.namespace] : []),
      phase,
      row.trigger,
      route(state, row),
      row.progress ?? "-",
      row.migration,
      ...(flags.wide
        ? [
            Number.isNaN(start) || Number.isNaN(until) ? "-" : formatDuration(Math.max(0, until - start)),
            stamp(row.startedAt),
          ]
        : []),
    ];
  };
  const printLines = (cells: (string[] | undefined)[]) => {
    for (const line of pipeTable(cells.filter((c) => c !== undefined))) io.out(line);
  };

  /**
   * What the last record said per migration, its type aside: a change the record does not show
   * (the migration's finalizer removed once it is final, its labels) is not news, so that each
   * phase, final ones included, is told once. Forgotten when the migration is deleted.
   */
  const recorded = new Map<string, string>();
  const report = (state: MigrationsState, row: MigrationRow, type: string) => {
    if (!state.synced && io.mode === "text") return;
    if (data) {
      // The initial state, like the table: unfinished and recently finished migrations only.
      if (!state.synced && !isVisible(row)) return;
      const object = record(row, type, vmiTarget(state, row));
      const id = row.uid || row.key;
      if (type === "DELETED") recorded.delete(id);
      else {
        const { type: _, ...said } = object;
        const text = JSON.stringify(said);
        if (recorded.get(id) === text) return;
        recorded.set(id, text);
      }
      emit(object);
      return;
    }
    if (tty) {
      scheduleDraw();
      return;
    }
    printLines([pipeLine(state, row, type, row.changedAt)]);
  };

  // A line on stderr; on a terminal the table is then drawn again below it, not over it.
  const outage = new ApiOutage({
    clock: ctx.clock,
    report: (line) => {
      io.err(line);
      if (tty && io.stderrIsTTY) drawnLines = 0;
      scheduleDraw();
    },
  });

  return {
    outage,
    observer: {
      onSynced: (state) => {
        current = state;
        // After a reconnect the list comes again: only what changed meanwhile is printed.
        if (io.mode === "text" && !tty) {
          printLines(
            visible(state).map((row) => pipeLine(state, row, "ADDED", later(row.changedAt, row.progressAt))),
          );
        }
        if (tty) draw(state);
      },
      onMigration: (row, type, before, state) => {
        current = state;
        if (!before || before.phase !== row.phase || type === "DELETED" || data) report(state, row, type);
      },
      onProgress: (row, at, state) => {
        current = state;
        if (data) emit(record(row, "PROGRESS", vmiTarget(state, row)));
        else if (tty) scheduleDraw();
        else if (state.synced) printLines([pipeLine(state, row, "PROGRESS", at ?? row.changedAt)]);
      },
      onVmi: (state) => {
        current = state;
        scheduleDraw();
      },
    },
    end: () => {
      if (redrawTimer) clearTimeout(redrawTimer);
      if (tty && current?.synced && !ended) draw(current);
      ended = true;
    },
  };
}

/** The --timeout's end: what kvmig last saw, and how to watch again (exit 6). */
export function watchTimedOut(flags: TableWatchFlags, result: WatchMigrationsResult): TimeoutError {
  // With --node all namespaces are implied.
  const scope =
    flags.namespace === undefined ? (flags.node === undefined ? ["-A"] : []) : ["-n", flags.namespace];
  const again = kvmigCommand([
    "watch",
    ...(flags.node === undefined ? [] : ["--node", flags.node]),
    ...scope,
    ...(flags.selector ? ["-l", flags.selector] : []),
  ]);
  const n = result.state.unfinished();
  // What kvmig last saw, and no more: the API server may have been away at the end.
  const seen = !result.state.synced
    ? "before the migrations could be listed"
    : `${n === 0 ? "no" : n} migration${n === 1 ? "" : "s"} in flight when last seen${n === 0 ? "" : " (they go on)"}`;
  return new TimeoutError(
    `stopped watching after the --timeout (${formatDuration(result.timeoutMs ?? 0)}), ${seen}`,
    { hint: `watch again with: ${again}` },
  );
}
