// Times as people read them: relative on a terminal ("3m ago", like kubectl's AGE), RFC 3339
// otherwise, so that a log or a script gets a timestamp it can parse and sort.

import { humanDuration } from "../duration.js";

export type TimeStyle = "relative" | "rfc3339";

/** The style for text written to a stream: relative only when a person reads it on a terminal. */
export function timeStyleFor(isTTY: boolean): TimeStyle {
  return isTTY ? "relative" : "rfc3339";
}

/** `iso` as "3m ago" / "in 20s" (relative to nowMs), or as RFC 3339 in UTC; other text unchanged. */
export function formatTime(iso: string, style: TimeStyle, nowMs: number): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  if (style === "rfc3339") {
    // Whole seconds, as Kubernetes writes them, unless the time has a fraction worth keeping.
    const text = new Date(ms).toISOString();
    return ms % 1000 === 0 ? text.replace(/\.000Z$/, "Z") : text;
  }
  const delta = nowMs - ms;
  if (Math.abs(delta) < 1000) return "just now";
  return delta > 0 ? `${humanDuration(delta)} ago` : `in ${humanDuration(-delta)}`;
}
