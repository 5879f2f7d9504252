// Container logs of the simulated pods: lines kept per container, read once or followed, with
// the query parameters of `GET .../pods/{name}/log` (tailLines, sinceTime, sinceSeconds, timestamps).

export interface LogLine {
  /** Epoch ms of the simulated clock. */
  readonly time: number;
  readonly text: string;
}

export interface LogQuery {
  tailLines?: number | undefined;
  /** Epoch ms; lines before it are left out. */
  since?: number | undefined;
  timestamps?: boolean | undefined;
  limitBytes?: number | undefined;
}

type Listener = (line: LogLine | undefined) => void;

interface ContainerLog {
  lines: LogLine[];
  ended: boolean;
  listeners: Set<Listener>;
}

/** RFC 3339 with nanoseconds, as the kubelet prefixes lines with `timestamps=true`. */
export function logTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`;
}

export function formatLogLine(line: LogLine, timestamps: boolean | undefined): string {
  return timestamps ? `${logTimestamp(line.time)} ${line.text}\n` : `${line.text}\n`;
}

export class LogStore {
  private readonly logs = new Map<string, ContainerLog>();
  /** Lines beyond this many per container are dropped oldest first, as log rotation would. */
  constructor(private readonly maxLinesPerContainer = 20_000) {}

  private entry(namespace: string, pod: string, container: string): ContainerLog {
    const key = `${namespace}/${pod}/${container}`;
    let log = this.logs.get(key);
    if (!log) {
      log = { lines: [], ended: false, listeners: new Set() };
      this.logs.set(key, log);
    }
    return log;
  }

  append(namespace: string, pod: string, container: string, line: LogLine): void {
    const log = this.entry(namespace, pod, container);
    if (log.ended) return;
    log.lines.push(line);
    if (log.lines.length > this.maxLinesPerContainer * 1.25)
      log.lines.splice(0, log.lines.length - this.maxLinesPerContainer);
    for (const listener of log.listeners) listener(line);
  }

  /** The container stopped (or its pod is gone): followers see the end of the stream. */
  end(namespace: string, pod: string, container: string): void {
    const log = this.entry(namespace, pod, container);
    log.ended = true;
    for (const listener of log.listeners) listener(undefined);
    log.listeners.clear();
  }

  /** Forgets every container of a deleted pod, ending its followers. */
  dropPod(namespace: string, pod: string): void {
    const prefix = `${namespace}/${pod}/`;
    for (const [key, log] of this.logs) {
      if (!key.startsWith(prefix)) continue;
      for (const listener of log.listeners) listener(undefined);
      this.logs.delete(key);
    }
  }

  read(namespace: string, pod: string, container: string, query: LogQuery): LogLine[] {
    let lines = this.entry(namespace, pod, container).lines;
    if (query.since !== undefined) {
      const since = query.since;
      lines = lines.filter((line) => line.time >= since);
    }
    if (query.tailLines !== undefined) lines = query.tailLines <= 0 ? [] : lines.slice(-query.tailLines);
    return lines;
  }

  isEnded(namespace: string, pod: string, container: string): boolean {
    return this.entry(namespace, pod, container).ended;
  }

  /** Calls `listener` with each new line, and with undefined when the log ends. */
  follow(namespace: string, pod: string, container: string, listener: Listener): () => void {
    const log = this.entry(namespace, pod, container);
    if (log.ended) {
      queueMicrotask(() => listener(undefined));
      return () => {};
    }
    log.listeners.add(listener);
    return () => log.listeners.delete(listener);
  }
}
