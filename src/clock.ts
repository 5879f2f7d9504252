// Every sleep and every "now" goes through a Clock, so tests run waits instantly.

import { timeLimit } from "./duration.js";

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms`, or rejects with the signal's reason when it aborts first. A sleep longer
   * than a timer can hold (timeLimit) only ends with the signal.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const delay = ms > 0 ? timeLimit(ms) : 0;
      const timer =
        delay === undefined
          ? undefined
          : setTimeout(() => {
              signal?.removeEventListener("abort", onAbort);
              resolve();
            }, delay);
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};
