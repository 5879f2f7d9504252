// Reading a saved log of any size (`diagnose --from`) in bounded memory. A first pass streams the
// file in small chunks and remembers only where the lines worth keeping are: the last lines, and
// before them the newest lines a rule may read (errors, aborts, progress: logLineKind), up to a
// number of lines and bytes. A second pass reads just those lines, a line too long cut short.
// Positions rather than text: text kept while streaming outlives the garbage collector's young
// generation and makes the heap grow with the file. A log that was cut down says so, for "could
// not check". Lines are what `text.split(/\r?\n/)` gives, without a last empty one.

import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { formatBytes } from "../migration/format.js";
import { logLineKind } from "./evidence.js";

/** What a line is to the rules (logLineKind), as a line queue marks it. */
const Kind = { None: 0, Other: 1, Progress: 2 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

export interface LogLimits {
  /** The last lines of a log, kept whatever they say. */
  logTailLines: number;
  /** Lines kept of one log in all: its tail, and before it the newest lines a rule may read. */
  logLines: number;
  /** Bytes kept of one log in all. */
  logBytes: number;
  /** A longer line is cut to this many bytes. */
  logLineBytes: number;
}

/** About 1 MiB of a launcher's JSON lines; live, diagnose reads the last 300 lines. */
export const defaultLogLimits: LogLimits = {
  logTailLines: 500,
  logLines: 2000,
  logBytes: 1024 * 1024,
  logLineBytes: 64 * 1024,
};

/** Lines by where they are in a file: a queue of (start, length) in typed arrays. */
class LineQueue {
  private readonly starts: Float64Array;
  private readonly lengths: Float64Array;
  private readonly marks: Uint8Array;
  private head = 0;
  size = 0;
  /** The bytes the lines will take when read (each at most the line limit). */
  bytes = 0;

  constructor(
    readonly capacity: number,
    private readonly lineBytes: number,
  ) {
    this.starts = new Float64Array(capacity);
    this.lengths = new Float64Array(capacity);
    this.marks = new Uint8Array(capacity);
  }

  push(start: number, length: number, kind: Kind): void {
    const at = (this.head + this.size) % this.capacity;
    this.starts[at] = start;
    this.lengths[at] = length;
    this.marks[at] = kind;
    this.size++;
    this.bytes += Math.min(length, this.lineBytes);
  }

  /** The oldest line's start, length and kind; valid until the next push. */
  get firstStart(): number {
    return this.starts[this.head] ?? 0;
  }
  get firstLength(): number {
    return this.lengths[this.head] ?? 0;
  }
  get firstKind(): Kind {
    return (this.marks[this.head] ?? Kind.None) as Kind;
  }

  dropFirst(): void {
    this.bytes -= Math.min(this.firstLength, this.lineBytes);
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }

  *entries(): Generator<{ start: number; length: number }> {
    for (let i = 0; i < this.size; i++) {
      const at = (this.head + i) % this.capacity;
      yield { start: this.starts[at] ?? 0, length: this.lengths[at] ?? 0 };
    }
  }
}

/** Where the lines to keep are, and what was not kept. */
export interface LogPlan {
  /** The lines to read, in file order; `length` in bytes without the line break. */
  lines: { start: number; length: number }[];
  /** Of those, how many come before the tail (lines a rule may read). */
  earlierKept: number;
  linesRead: number;
  bytesRead: number;
  /** Whether the last line ends with a line break. */
  lastTerminated: boolean;
}

/**
 * Takes a log's lines one by one, by position, and keeps what the limits allow: the last lines,
 * and in the room left the newest lines rules read. Progress lines take up to half of that room
 * while other lines need it: a migration writes thousands of them, and the errors of an earlier
 * attempt must not be pushed out by the progress of a later one. Pure: no I/O.
 */
export class LogKeeper {
  private readonly tail: LineQueue;
  private readonly others: LineQueue;
  private readonly progress: LineQueue;
  private readonly room: number;
  private linesRead = 0;

  constructor(private readonly limits: LogLimits) {
    const tailLines = Math.max(0, limits.logTailLines);
    this.room = Math.max(0, limits.logLines - tailLines);
    this.tail = new LineQueue(tailLines, limits.logLineBytes);
    this.others = new LineQueue(this.room, limits.logLineBytes);
    this.progress = new LineQueue(this.room, limits.logLineBytes);
  }

  /** A line of `length` bytes at `start`, of a kind rules read or not (logLineKind). */
  add(start: number, length: number, kind: "progress" | "other" | undefined): void {
    this.linesRead++;
    const k = kind === "progress" ? Kind.Progress : kind === "other" ? Kind.Other : Kind.None;
    if (this.tail.capacity === 0) this.keepEarlier(start, length, k);
    else {
      if (this.tail.size === this.tail.capacity) {
        this.keepEarlier(this.tail.firstStart, this.tail.firstLength, this.tail.firstKind);
        this.tail.dropFirst();
      }
      this.tail.push(start, length, k);
    }
    // Over the bytes allowed: the lines before the tail go first, then the oldest of the tail.
    while (
      this.earlierSize() > 0 &&
      this.others.bytes + this.progress.bytes + this.tail.bytes > this.limits.logBytes
    )
      this.dropEarlier();
    while (this.tail.size > 1 && this.tail.bytes > this.limits.logBytes) this.tail.dropFirst();
  }

  private earlierSize(): number {
    return this.others.size + this.progress.size;
  }

  private keepEarlier(start: number, length: number, kind: Kind): void {
    if (kind === Kind.None || this.room === 0) return;
    (kind === Kind.Progress ? this.progress : this.others).push(start, length, kind);
    while (this.earlierSize() > this.room) this.dropEarlier();
  }

  /** The oldest progress line while progress lines take more than half the room, else the oldest other line. */
  private dropEarlier(): void {
    const progressOver = this.progress.size > Math.floor(this.room / 2) || this.others.size === 0;
    (progressOver ? this.progress : this.others).dropFirst();
  }

  plan(bytesRead: number, lastTerminated: boolean): LogPlan {
    const earlier = [...this.others.entries(), ...this.progress.entries()].sort((a, b) => a.start - b.start);
    return {
      lines: [...earlier, ...this.tail.entries()],
      earlierKept: earlier.length,
      linesRead: this.linesRead,
      bytesRead,
      lastTerminated,
    };
  }
}

/** A log as read: the lines kept, oldest first, and what was not kept. */
export interface KeptLog {
  lines: string[];
  linesRead: number;
  bytesRead: number;
  /** Of the lines kept, how many came before the tail. */
  earlierKept: number;
  /** Lines kept but cut to the line limit. */
  linesCut: number;
}

/** Reads a log file within the limits; rejects when the file cannot be read. */
export async function readLog(path: string, limits: LogLimits = defaultLogLimits): Promise<KeptLog> {
  const plan = await planLog(path, limits);
  const lines: string[] = [];
  let linesCut = 0;
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(Math.max(1, limits.logLineBytes));
    const last = plan.lines.length - 1;
    for (const [index, { start, length }] of plan.lines.entries()) {
      const cut = length > limits.logLineBytes;
      if (cut) linesCut++;
      const { bytesRead } = await handle.read(buffer, 0, Math.min(length, buffer.length), start);
      // `\r\n` ends a line as `\n` does; a line without a line break after it keeps its `\r`.
      const terminated = index < last || plan.lastTerminated;
      const end =
        !cut && terminated && bytesRead > 0 && buffer[bytesRead - 1] === 13 ? bytesRead - 1 : bytesRead;
      lines.push(buffer.toString("utf8", 0, end));
    }
  } finally {
    await handle.close();
  }
  return {
    lines,
    linesRead: plan.linesRead,
    bytesRead: plan.bytesRead,
    earlierKept: plan.earlierKept,
    linesCut,
  };
}

/** The first pass: every line's position, and whether a rule may read it. */
async function planLog(path: string, limits: LogLimits): Promise<LogPlan> {
  const keeper = new LogKeeper(limits);
  const max = Math.max(0, limits.logLineBytes);
  // The start of a line whose end is in a later chunk (at most `max` bytes of it).
  let carry: Buffer[] = [];
  let carried = 0;
  let offset = 0;
  let lineStart = 0;
  // Latin-1 maps each byte to one character: the ASCII words logLineKind looks for match as
  // they would in the UTF-8 text, for a fraction of the decoding work.
  const kindOf = (head: Buffer) => logLineKind(head.toString("latin1"));
  // 64 KiB chunks: larger ones pile up outside the heap faster than the collector frees them.
  for await (const data of createReadStream(path, { highWaterMark: 64 * 1024 })) {
    const chunk = data as Buffer;
    let from = 0;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, from)) {
      const own = chunk.subarray(from, Math.min(at, from + Math.max(0, max - carried)));
      const head = carried > 0 ? Buffer.concat([...carry, own]) : own;
      keeper.add(lineStart, offset + at - lineStart, kindOf(head));
      carry = [];
      carried = 0;
      lineStart = offset + at + 1;
      from = at + 1;
    }
    if (from < chunk.length && carried < max) {
      const piece = Buffer.from(chunk.subarray(from, Math.min(chunk.length, from + max - carried)));
      carry.push(piece);
      carried += piece.length;
    }
    offset += chunk.length;
  }
  const lastTerminated = lineStart === offset;
  if (!lastTerminated) keeper.add(lineStart, offset - lineStart, kindOf(Buffer.concat(carry)));
  return keeper.plan(offset, lastTerminated);
}

/**
 * What a log that was cut down lost, for "could not check"; undefined when it was kept whole.
 * E.g. "420 MiB, 1,685,055 lines: all read, 2,000 kept (the last 500, and before them the
 * newest 1,500 of the kinds diagnose looks for: errors, warnings, progress); 1,683,055 lines
 * skipped".
 */
export function logCutNote(log: KeptLog, limits: LogLimits = defaultLogLimits): string | undefined {
  const skipped = log.linesRead - log.lines.length;
  if (skipped === 0 && log.linesCut === 0) return undefined;
  const n = (count: number) => count.toLocaleString("en-US");
  const parts: string[] = [];
  if (skipped > 0) {
    const tail = log.lines.length - log.earlierKept;
    const which =
      log.earlierKept > 0
        ? `the last ${n(tail)}, and before them the newest ${n(log.earlierKept)} of the kinds diagnose looks for: errors, warnings, progress`
        : `the last ${n(tail)}`;
    parts.push(
      `${formatBytes(log.bytesRead)}, ${n(log.linesRead)} lines: all read, ${n(log.lines.length)} kept (${which}); ${n(skipped)} ${skipped === 1 ? "line" : "lines"} skipped`,
    );
  }
  if (log.linesCut > 0) {
    const lines = log.linesCut === 1 ? "line" : "lines";
    parts.push(`${n(log.linesCut)} ${lines} longer than ${formatBytes(limits.logLineBytes)} cut short`);
  }
  return parts.join("; ");
}
