// A clock whose sleeps return at once and move time forward, so waits and backoffs cost nothing.
import type { Clock } from "../../src/clock.js";

export class FakeClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(private current = Date.parse("2026-11-25T12:00:00Z")) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    this.sleeps.push(ms);
    this.current += ms;
    // Let other tasks run, as a real sleep would.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
