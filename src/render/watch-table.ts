// kvmig watch without a VM: every unfinished and recently finished migration in scope, as a
// table redrawn in place on a terminal, one line per change in a pipe, NDJSON with -o json.
// It goes on until --exit-on-done finds nothing in flight, Ctrl-C, or --timeout (exit 6, with the
// command that watches again); an API server that is away meanwhile is ridden out and told.
// In a pipe each line is stamped with the time of the change itself (the migration's phase
// transition, the launcher's progress line), not the moment kvmig saw it, so that a log read
// later, or a watch that reconnected, tells the truth; a line that would repeat the last one
// for its migration is left out.

import type { CommandContext } from "../context.js";
import { formatDuration, timeLimit } from "../duration.js";
import { describeError, TimeoutError } from "../errors.js";
import { formatTable, streamingTable, truncateToWidth } from "../io/table.js";
import { formatTime } from "../io/time.js";
import { loadYamlWriter } from "../io/yaml.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { ApiOutage } from "../k8s/outage.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigration } from "../k8s/types.js";
import { formatBytes } from "../migration/format.js";
import { parseMigrationInfo } from "../migration/progress-line.js";
import { isFinalPhase } from "../migration/state.js";
import { kvmigCommand } from "../util/shell.js";

/** Finished migrations stay in the table this long. */
const recentMs = 10 * 60_000;
const redrawMs = 500;
/** Launcher logs followed at once for the progress column. */
const maxLogStreams = 10;
const targetLabel = "kubevirt.io/migrationTargetNodeName";

export interface TableWatchFlags {
  namespace?: string | undefined;
  selector?: string | undefined;
  exitOnDone: boolean;
  /** -o wide: the migration's name and its start time as columns, whatever the terminal's width. */
  wide?: boolean | undefined;
  noHeaders?: boolean | undefined;
  /** --timeout: 0 (or more than a timer holds) for no limit. */
  timeoutMs?: number | undefined;
}

interface Row {
  key: string;
  uid: string;
  vm: string;
  namespace: string;
  migration: string;
  phase: string;
  sourceNode?: string | undefined;
  targetNode?: string | undefined;
  sourcePod?: string | undefined;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
  /** When the migration last changed phase (or was deleted), by the server's clock. */
  changedAt?: string | undefined;
  progress?: string | undefined;
  /** The launcher's time of the progress line behind `progress`. */
  progressAt?: string | undefined;
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

/** The newest of the migration's phase transitions, else its creation. */
function lastChange(m: VirtualMachineInstanceMigration): string | undefined {
  let newest: { at: string; ms: number } | undefined;
  for (const t of m.status?.phaseTransitionTimestamps ?? []) {
    const ms = Date.parse(t.phaseTransitionTimestamp ?? "");
    if (!Number.isNaN(ms) && (newest === undefined || ms >= newest.ms))
      newest = { at: t.phaseTransitionTimestamp ?? "", ms };
  }
  return newest?.at ?? m.metadata.creationTimestamp;
}

function rowOf(m: VirtualMachineInstanceMigration, previous: Row | undefined): Row {
  const status = m.status ?? {};
  const phase = status.phase ?? "";
  const ended = status.phaseTransitionTimestamps?.find((t) =>
    isFinalPhase(t.phase),
  )?.phaseTransitionTimestamp;
  return {
    key: `${m.metadata.namespace}/${m.metadata.name}`,
    uid: m.metadata.uid ?? "",
    vm: m.spec.vmiName ?? m.metadata.labels?.["kubevirt.io/vmi-name"] ?? "",
    namespace: m.metadata.namespace ?? "",
    migration: m.metadata.name ?? "",
    phase,
    sourceNode: status.migrationState?.sourceNode ?? previous?.sourceNode,
    targetNode: status.migrationState?.targetNode ?? previous?.targetNode,
    sourcePod: status.migrationState?.sourcePod ?? previous?.sourcePod,
    startedAt: m.metadata.creationTimestamp,
    endedAt: ended,
    changedAt: m.metadata.deletionTimestamp ?? lastChange(m),
    progress: isFinalPhase(phase) ? undefined : previous?.progress,
    progressAt: isFinalPhase(phase) ? undefined : previous?.progressAt,
  };
}

/** `vmiTarget`: the VMI's migrationTargetNodeName label; the VMIM names its target only once final. */
function record(row: Row, type: string, vmiTarget?: string | undefined) {
  return {
    type,
    vm: row.vm,
    namespace: row.namespace,
    migration: row.migration,
    phase: row.phase,
    sourceNode: row.sourceNode ?? null,
    targetNode: row.targetNode ?? (isFinalPhase(row.phase) ? undefined : vmiTarget) ?? null,
    startedAt: row.startedAt ?? null,
    endedAt: row.endedAt ?? null,
    ...(row.progress ? { progress: row.progress } : {}),
  };
}

export async function watchTable(
  kube: KubeClient,
  ctx: CommandContext,
  flags: TableWatchFlags,
): Promise<void> {
  const io = ctx.io;
  const rows = new Map<string, Row>();
  const vmis = new Map<string, { node?: string | undefined; target?: string | undefined }>();
  const streams = new Map<string, AbortController>();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  let synced = false;
  let drawnLines = 0;
  let redrawTimer: ReturnType<typeof setTimeout> | undefined;
  const tty = io.stdoutIsTTY && io.mode === "text";
  const now = () => ctx.clock.now();
  // -o json is NDJSON, one object per line; -o yaml one document per change.
  const data = io.mode === "json" || io.mode === "yaml";
  const yaml = io.mode === "yaml" ? await loadYamlWriter() : undefined;
  const emit = (object: ReturnType<typeof record>) =>
    io.stdout.write(yaml ? `---\n${yaml(object)}` : `${JSON.stringify(object)}\n`);

  const isVisible = (r: Row) => !r.endedAt || now() - Date.parse(r.endedAt) < recentMs;
  const visible = () =>
    [...rows.values()]
      .filter(isVisible)
      .sort((a, b) => (a.startedAt ?? "").localeCompare(b.startedAt ?? "") || a.key.localeCompare(b.key));
  const unfinished = () => [...rows.values()].filter((r) => !isFinalPhase(r.phase)).length;

  const route = (r: Row) => {
    const vmi = vmis.get(`${r.namespace}/${r.vm}`);
    const source = r.sourceNode ?? vmi?.node ?? "?";
    const target = r.targetNode ?? vmi?.target;
    return target ? `${source} → ${target}` : source;
  };
  const elapsed = (r: Row) => {
    const start = Date.parse(r.startedAt ?? "");
    if (Number.isNaN(start)) return "";
    return formatDuration(Math.max(0, (r.endedAt ? Date.parse(r.endedAt) : now()) - start));
  };

  const draw = () => {
    redrawTimer = undefined;
    const list = visible();
    // Fit the terminal: the migration's name only where there is room, and no line ever wraps,
    // since a wrapped line would break the cursor arithmetic of the redraw.
    const wide = flags.wide === true || io.columns >= 110;
    const headers = [
      "VM",
      ...(flags.namespace === undefined ? ["NAMESPACE"] : []),
      "PHASE",
      "SOURCE → TARGET",
      "ELAPSED",
      "PROGRESS",
      ...(wide ? ["MIGRATION"] : []),
      ...(flags.wide ? ["STARTED"] : []),
    ];
    const body =
      list.length === 0
        ? "no migrations in flight"
        : formatTable(
            headers,
            list.map((r) => [
              r.vm,
              ...(flags.namespace === undefined ? [r.namespace] : []),
              io.colors.phase(r.phase || "Pending"),
              route(r),
              elapsed(r),
              r.progress ?? "-",
              ...(wide ? [r.migration] : []),
              ...(flags.wide ? [r.startedAt ? formatTime(r.startedAt, "relative", now()) : "-"] : []),
            ]),
            { noHeaders: flags.noHeaders },
          );
    const lines = body.split("\n").map((line) => truncateToWidth(line, io.columns));
    // Back to the first column (the terminal's echo of a Ctrl-C, "^C", moved the cursor right),
    // up over the previous drawing, clear to the end of the screen, draw again.
    const up = drawnLines > 0 ? `\r\u001B[${drawnLines}A\u001B[0J` : "";
    io.stdout.write(`${up}${lines.join("\n")}\n`);
    drawnLines = lines.length;
  };
  const scheduleDraw = () => {
    if (tty && synced && redrawTimer === undefined) redrawTimer = setTimeout(draw, redrawMs);
  };

  const vmiTarget = (r: Row) => vmis.get(`${r.namespace}/${r.vm}`)?.target;

  // In a pipe: the columns of the terminal's table, after the time of the change; -o wide adds
  // the elapsed time at that change and the start, as on a terminal.
  const pipeTable = streamingTable(
    [
      "TIME",
      "VM",
      ...(flags.namespace === undefined ? ["NAMESPACE"] : []),
      "PHASE",
      "SOURCE → TARGET",
      "PROGRESS",
      "MIGRATION",
      ...(flags.wide ? ["ELAPSED", "STARTED"] : []),
    ],
    // The longest phase, and the longest progress ("99.9 GiB left"), from the start: fewer shifts.
    {
      noHeaders: flags.noHeaders,
      minWidths: { PHASE: "PreparingTarget".length, PROGRESS: "99.9 GiB left".length },
    },
  );
  /** What a pipe line last said per migration: the same again is not news. */
  const printed = new Map<string, string>();
  const pipeLine = (row: Row, type: string, at: string | undefined): string[] | undefined => {
    const phase = type === "DELETED" ? "deleted" : row.phase || "Pending";
    const said = [phase, route(row), row.progress ?? "-"].join("\u0000");
    if (printed.get(row.uid || row.key) === said) return undefined;
    printed.set(row.uid || row.key, said);
    const start = Date.parse(row.startedAt ?? "");
    const until = Date.parse(at ?? "");
    return [
      stamp(at),
      row.vm,
      ...(flags.namespace === undefined ? [row.namespace] : []),
      phase,
      route(row),
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

  const report = (row: Row, type: string) => {
    if (!synced && io.mode === "text") return;
    if (data) {
      // The initial state, like the table: unfinished and recently finished migrations only.
      if (!synced && !isVisible(row)) return;
      emit(record(row, type, vmiTarget(row)));
      return;
    }
    if (tty) {
      scheduleDraw();
      return;
    }
    printLines([pipeLine(row, type, row.changedAt)]);
  };

  const followProgress = (row: Row) => {
    if (streams.has(row.uid) || streams.size >= maxLogStreams || !row.sourcePod || row.phase !== "Running")
      return;
    const controller = new AbortController();
    streams.set(row.uid, controller);
    const signal = AbortSignal.any([controller.signal, stop.signal]);
    void (async () => {
      try {
        for await (const line of kube.followPodLogs(row.namespace, row.sourcePod ?? "", {
          container: "compute",
          tailLines: 5,
          signal,
        })) {
          const p = parseMigrationInfo(line);
          const current = rows.get(row.key);
          if (!p || !current || p.migrationUid !== row.uid) continue;
          current.progress = `${formatBytes(p.dataRemainingBytes)} left`;
          current.progressAt = p.at;
          if (data) emit(record(current, "PROGRESS", vmiTarget(current)));
          else if (tty) scheduleDraw();
          else if (synced) printLines([pipeLine(current, "PROGRESS", p.at ?? current.changedAt)]);
        }
      } catch (error) {
        if (!signal.aborted) ctx.debug(`progress of ${row.key}: ${describeError(error).message}`);
      } finally {
        streams.delete(row.uid);
      }
    })();
  };

  const done = () => flags.exitOnDone && synced && unfinished() === 0;

  const timeout = timeLimit(flags.timeoutMs ?? 0);
  let timedOut = false;
  if (timeout !== undefined) {
    ctx.clock.sleep(timeout, stop.signal).then(
      () => {
        timedOut = true;
        stop.abort();
      },
      () => {},
    );
  }
  // A line on stderr; on a terminal the table is then drawn again below it, not over it.
  const outage = new ApiOutage({
    clock: ctx.clock,
    report: (line) => {
      io.err(line);
      if (tty && io.stderrIsTTY) drawnLines = 0;
      scheduleDraw();
    },
  });

  const vmiWatch = (async () => {
    try {
      for await (const u of kube.watch("vmi", {
        namespace: flags.namespace,
        labelSelector: targetLabel,
        signal: stop.signal,
        outage,
      })) {
        if (u.type === "SYNCED") continue;
        const vmi: VirtualMachineInstance = u.object;
        const key = `${vmi.metadata.namespace}/${vmi.metadata.name}`;
        if (u.type === "DELETED") vmis.delete(key);
        else vmis.set(key, { node: vmi.status?.nodeName, target: vmi.metadata.labels?.[targetLabel] });
        scheduleDraw();
      }
    } catch (error) {
      if (!stop.signal.aborted) ctx.debug(`VMIs not followed: ${describeError(error).message}`);
    }
  })();

  try {
    for await (const u of kube.watch("vmim", {
      namespace: flags.namespace,
      labelSelector: flags.selector,
      signal: stop.signal,
      outage,
    })) {
      if (u.type === "SYNCED") {
        synced = true;
        // After a reconnect the list comes again: only what changed meanwhile is printed.
        if (io.mode === "text" && !tty) {
          printLines(visible().map((row) => pipeLine(row, "ADDED", later(row.changedAt, row.progressAt))));
        }
        if (tty) draw();
        if (done()) break;
        continue;
      }
      const key = `${u.object.metadata.namespace}/${u.object.metadata.name}`;
      const before = rows.get(key);
      const row = rowOf(u.object, before);
      if (u.type === "DELETED") {
        rows.delete(key);
        streams.get(row.uid)?.abort();
      } else {
        rows.set(key, row);
        if (isFinalPhase(row.phase)) streams.get(row.uid)?.abort();
        else followProgress(row);
      }
      if (!before || before.phase !== row.phase || u.type === "DELETED" || data) report(row, u.type);
      if (done()) break;
    }
  } finally {
    if (redrawTimer) clearTimeout(redrawTimer);
    if (tty && synced) draw();
    stop.abort();
    ctx.signal.removeEventListener("abort", onAbort);
    await vmiWatch;
  }
  if (timedOut) {
    const scope = flags.namespace === undefined ? ["-A"] : ["-n", flags.namespace];
    const again = kvmigCommand(["watch", ...scope, ...(flags.selector ? ["-l", flags.selector] : [])]);
    const n = unfinished();
    // What kvmig last saw, and no more: the API server may have been away at the end.
    const seen = !synced
      ? "before the migrations could be listed"
      : `${n === 0 ? "no" : n} migration${n === 1 ? "" : "s"} in flight when last seen${n === 0 ? "" : " (they go on)"}`;
    throw new TimeoutError(
      `stopped watching after the --timeout (${formatDuration(timeout ?? 0)}), ${seen}`,
      { hint: `watch again with: ${again}` },
    );
  }
}
