// The bulk runner's --max-failures N (operations/bulk.ts): when a run stops starting new work. A
// fault that breaks one migration usually breaks the next ones the same way (launcher skew after
// an upgrade, a CPU model no node offers, a bridge missing on the targets), and every further
// attempt costs a failed migration or a restart's downtime for nothing. So by default the run
// stops at the first failure whose root cause diagnose names, and otherwise after three (their
// causes differ, or are unknown: a dropped connection can be a one-off). `--max-failures N`
// sets the limit itself, 0 for none. Pure: the bulk runner feeds it the causes it learns.

import { UsageError } from "../errors.js";

/** What diagnose named as the root cause of one failure (a rule id), undefined when not known. */
export type Cause = string | undefined;

/** The limits without --max-failures: one failure when the failures share a cause, else three. */
export const defaultLimits = { sharedCause: 1, otherwise: 3 } as const;

/** Why the run stopped starting new work. */
export interface FailureStop {
  /** Failures counted when the limit was reached (ones still running may fail after). */
  failures: number;
  limit: number;
  /** The user gave --max-failures (not the default). */
  explicit: boolean;
  /** The cause every failure shared, when the default limit of one applied. */
  cause: string | undefined;
}

export function parseMaxFailures(text: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new UsageError(`invalid --max-failures "${text}"`, {
      hint: "give a whole number of 0 or more, e.g. --max-failures 3 (0: never stop for failures)",
    });
  }
  return Number(trimmed);
}

/** The cause every failure so far shares, when each one is known and they are all the same. */
export function sharedCause(causes: readonly Cause[]): string | undefined {
  const first = causes[0];
  return first !== undefined && causes.every((c) => c === first) ? first : undefined;
}

/** How many failures stop the run: --max-failures (0: Infinity), else the default for these causes. */
export function failureLimit(maxFailures: number | undefined, causes: readonly Cause[]): number {
  if (maxFailures !== undefined) return maxFailures === 0 ? Number.POSITIVE_INFINITY : maxFailures;
  return sharedCause(causes) === undefined ? defaultLimits.otherwise : defaultLimits.sharedCause;
}

/** The stop, once the failures so far (one cause each) reach the limit. */
export function stopAfter(
  maxFailures: number | undefined,
  causes: readonly Cause[],
): FailureStop | undefined {
  const limit = failureLimit(maxFailures, causes);
  if (causes.length < limit) return undefined;
  const explicit = maxFailures !== undefined;
  return { failures: causes.length, limit, explicit, cause: explicit ? undefined : sharedCause(causes) };
}

/**
 * Whether the cause of the next failure can change the limit, so that diagnose is worth
 * running: only under the default limit, and only while every failure so far shares a known
 * cause (in practice, for the first failure: once one is unknown the limit is three for good).
 */
export function causeMatters(maxFailures: number | undefined, causes: readonly Cause[]): boolean {
  return maxFailures === undefined && (causes.length === 0 || sharedCause(causes) !== undefined);
}

function failuresText(n: number): string {
  return `${n} failure${n === 1 ? "" : "s"}`;
}

/** Why the run stopped, in parentheses-free words for a table cell: "stopped after 3 failures". */
export function stoppedDetail(stop: FailureStop): string {
  return `stopped after ${failuresText(stop.failures)} (--max-failures ${stop.limit})`;
}

/** The line that ends a stopped run: `stopped after 3 failures (--max-failures 3); 12 not started`. */
export function stopText(stop: FailureStop, notStarted: number): string {
  const why = stop.explicit
    ? `--max-failures ${stop.limit}`
    : stop.cause !== undefined
      ? `${stop.failures === 1 ? "cause" : "shared cause"}: ${stop.cause}; the default --max-failures is ${defaultLimits.sharedCause} when the failures share a cause`
      : `the default --max-failures is ${defaultLimits.otherwise} when their causes differ or are unknown`;
  return `stopped after ${failuresText(stop.failures)} (${why}); ${notStarted} not started`;
}

/** The id of a rule, and how directly it names a root cause (diagnose's Specificity). */
export type SpecificityOf = (id: string) => "cause" | "symptom" | "pattern" | "fallback" | undefined;

/**
 * The root cause diagnose names for a failed migration: the first error finding (they come most
 * likely first) whose rule names a mechanism rather than a symptom, a pattern or nothing (the
 * fallback). A symptom alone (the connection dropped, the target pod died) is no known cause.
 */
export function rootCause(
  findings: ReadonlyArray<{ id: string; severity: string }>,
  specificityOf: SpecificityOf,
): Cause {
  const found = findings.find((f) => f.severity === "error" && (specificityOf(f.id) ?? "cause") === "cause");
  return found?.id;
}
