// Durations as kubectl writes them: 90s, 5m, 1h30m, 500ms; a bare number means seconds.

import { UsageError } from "./errors.js";

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or a UsageError naming the flag. */
export function parseDuration(text: string, flag: string): number {
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (value === "" || parts.length === 0 || consumed !== value) {
    throw new UsageError(`invalid duration "${text}" for ${flag}`, {
      hint: "write it like 90s, 5m, 1h or 1h30m",
    });
  }
  return Math.round(
    parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * (units[unit ?? "s"] ?? 0), 0),
  );
}

/** The longest delay a Node timer holds: 2^31-1 ms, about 24.8 days. Beyond it a timer fires after 1 ms. */
export const maxTimerMs = 2 ** 31 - 1;

/**
 * A time limit as a timer's delay, or undefined for none: 0 (the flags' "no limit"), and any limit
 * longer than a timer can hold, which would otherwise fire at once. Every time limit and sleep that
 * reaches setTimeout goes through here.
 */
export function timeLimit(ms: number): number | undefined {
  return ms > 0 && ms <= maxTimerMs ? ms : undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes > 0 ? `${minutes}m` : ""}`;
  if (minutes > 0) return `${minutes}m${seconds > 0 ? `${seconds}s` : ""}`;
  return `${seconds}s`;
}

/** k8s HumanDuration ("5s", "3m", "2m30s", "4h", "3h2m", "5d", "2y10d"...) exactly as apimachinery formats ages. */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "<invalid>";
  const seconds = Math.trunc(ms / 1000);
  // Up to a second in the future is clock skew between machines, not a bad timestamp.
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}
