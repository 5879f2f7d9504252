// What a follow says while the API server is away. A follow (the watches of migrate, watch,
// restart, cancel and outdated) rides out an outage until the command's own --timeout or Ctrl-C
// (watch.ts); without a word the user would see a frozen spinner or table and could not tell a
// quiet migration from a lost cluster. So: one line once the outage has lasted a few seconds (a
// stream dropped and reopened at once is no news), the same line again at a modest interval
// while it lasts, and one line when the API server answers again.
//
// One ApiOutage serves every stream of a command (several watches and log follows at once, or
// several VMs in bulk), so an outage is told once, not once per stream: the first failure starts
// it, and the first stream that reconnects ends it. It does no I/O: the command prints the lines
// (stderr, above a spinner or table).

import type { Clock } from "../clock.js";
import { formatDuration } from "../duration.js";

export interface ApiOutageOptions {
  clock: Clock;
  /** Prints one line (the command's stderr). */
  report: (line: string) => void;
  /** An outage is told once it has lasted this long. */
  firstAfterMs?: number | undefined;
  /** ...and again at this interval while it lasts. */
  everyMs?: number | undefined;
}

export const outageFirstAfterMs = 5_000;
export const outageEveryMs = 30_000;

export class ApiOutage {
  #since: number | undefined;
  #toldAt: number | undefined;

  constructor(private readonly options: ApiOutageOptions) {}

  /** Whether a failure is being ridden out now. */
  get down(): boolean {
    return this.#since !== undefined;
  }

  /** A follow could not reach the API server (`reason`: a few words, as retry.ts's shortReason). */
  lost(reason: string): void {
    const now = this.options.clock.now();
    this.#since ??= now;
    const lasted = now - this.#since;
    if (lasted < (this.options.firstAfterMs ?? outageFirstAfterMs)) return;
    if (this.#toldAt !== undefined && now - this.#toldAt < (this.options.everyMs ?? outageEveryMs)) return;
    this.#toldAt = now;
    this.options.report(
      `kvmig: lost the API server (${reason}); reconnecting for ${formatDuration(lasted)} so far`,
    );
  }

  /** A follow reached the API server again. */
  back(): void {
    const since = this.#since;
    if (since === undefined) return;
    if (this.#toldAt !== undefined) {
      this.options.report(`kvmig: reconnected after ${formatDuration(this.options.clock.now() - since)}`);
    }
    this.#since = undefined;
    this.#toldAt = undefined;
  }
}
