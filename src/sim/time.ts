// Simulated time. On a live simulator it runs `speed` times as fast as the wall clock; in tests
// it can be driven by hand, so that a 300 s timeout or a 40 s backoff takes no wall time and
// the same seed gives the same run.

export interface SimTime {
  /** Epoch milliseconds of simulated time. */
  now(): number;
  /** Runs `fn` once `ms` of simulated time have passed; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

/** Simulated time that starts at the wall clock and runs `speed` times as fast. */
export class RealtimeSimTime implements SimTime {
  private readonly wallStart = performance.now();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly start: number,
    readonly speed: number,
  ) {}

  now(): number {
    return Math.floor(this.start + (performance.now() - this.wallStart) * this.speed);
  }

  after(ms: number, fn: () => void): () => void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      Math.max(0, ms / this.speed),
    );
    this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  /** Cancels every pending timer (the cluster is closing). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

interface ManualTimer {
  at: number;
  order: number;
  fn: () => void;
}

/** Simulated time that moves only when a test advances it; timers fire in time order. */
export class ManualSimTime implements SimTime {
  private current: number;
  private order = 0;
  private timers: ManualTimer[] = [];

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.current + Math.max(0, ms), order: this.order++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** The time of the next timer, if any. */
  nextTimer(): number | undefined {
    let next: number | undefined;
    for (const timer of this.timers) if (next === undefined || timer.at < next) next = timer.at;
    return next;
  }

  /** Moves to the next due timer (at most `until`) and runs it; false when none was due. */
  step(until: number): boolean {
    let due: ManualTimer | undefined;
    for (const timer of this.timers) {
      if (timer.at > until) continue;
      if (!due || timer.at < due.at || (timer.at === due.at && timer.order < due.order)) due = timer;
    }
    if (!due) {
      this.current = Math.max(this.current, until);
      return false;
    }
    this.timers = this.timers.filter((t) => t !== due);
    this.current = Math.max(this.current, due.at);
    due.fn();
    return true;
  }
}
