// When kvmig sends a request again, and when it must not.
//
// Reads (GET: get, list pages, versions, logs; and reviews that change nothing) are tried again
// after a failure that a moment may fix: the connection refused, reset or timed out, no answer in
// time, HTTP 429, 500, 502, 503, 504. Writes (POST, PUT, PATCH, DELETE) are tried again only when
// the server cannot have acted on them: HTTP 429 (rejected before processing) and a connection
// that failed before it was up (refused, unreachable, TLS handshake cut: nothing was sent). A
// write that may have reached the server (reset after sending, no answer in time, 502/504) is
// never sent again: it fails with a WriteOutcomeUnknownError that says how to check. A write
// answered 500 or 503 is not sent again either, and keeps the server's error (ApiError).
//
// Waits: what the server asks (Retry-After in seconds or as an HTTP date, or the Status'
// retryAfterSeconds), at most 30 s; otherwise 200 ms doubling to at most 5 s, each with jitter
// (between half and all of it). `Retry-After: 0`, or a date already past, asks for no wait: the
// backoff applies then, so that no server can make kvmig send in a tight loop.
//
// A request's budget starts before its first try, so a first try that hangs counts too: it gives
// up once its next try would start more than the budget after that (30 s, or --request-timeout
// when that is shorter), but is always tried at least twice; it then fails with one line that
// says what failed, how often, and over how long. That final error is never retried again by an
// outer loop (a follow, or a request around this one).
//
// A connection refused (or a host unreachable) before this server has answered anything in this
// run is not retried: that is a wrong address or a cluster that is not there, and saying so at
// once beats waiting 30 s. The same failure after the server has answered is a restart.
//
// Watches (watch.ts) and log follows (client.ts) are follows, not one-shot reads: they reconnect
// under the same read rules with one RetryStreak each, but without a budget. An API server down
// for minutes is ridden out until the follow's signal ends it (the command's --timeout, Ctrl-C);
// the backoff starts again once something arrives. TLS verification failures, 401/403 and
// unknown hosts are never retried, by a request or a follow.

import type { Clock } from "../clock.js";
import { timeLimit } from "../duration.js";
import { ApiError, ConnectionError, KvmigError, TimeoutError } from "../errors.js";
import { commandLine } from "../util/shell.js";
import {
  EvictionRefusedError,
  isTlsVerificationCode,
  type RequestInfo,
  resourceAttributes,
} from "./api-errors.js";

export interface RetryPolicy {
  /** The first backoff; each later one doubles. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** The longest wait a server's Retry-After is honoured with. */
  maxRetryAfterMs: number;
  /** No try starts later than this after the first (but there are always two tries). */
  budgetMs: number;
  /** In [0, 1); the jitter. */
  random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  initialBackoffMs: 200,
  maxBackoffMs: 5_000,
  maxRetryAfterMs: 30_000,
  budgetMs: 30_000,
  random: Math.random,
};

/** The budget for a transport whose requests time out after `requestTimeoutMs` (see timeLimit: 0, or more than a timer holds, is none). */
export function budgetFor(requestTimeoutMs: number, policy: RetryPolicy = defaultRetryPolicy): number {
  const limit = timeLimit(requestTimeoutMs);
  return limit !== undefined ? Math.min(policy.budgetMs, limit) : policy.budgetMs;
}

export type RequestKind = "read" | "write";

/** What the transport knew about a failure that the error itself does not say. */
export interface FailureFacts {
  /** The connection (and its TLS handshake) was not up yet: not one byte of the request left. */
  notSent?: boolean;
  /** Nothing from this server had been answered yet in this run. */
  beforeFirstAnswer?: boolean;
  /** The HTTP status of an error answer (whatever error it was mapped to). */
  status?: number;
  /** The `Retry-After` header of an error answer. */
  retryAfterHeader?: string;
  /** `details.retryAfterSeconds` of an error answer's Status. */
  retryAfterSeconds?: number;
  /** The request timeout that ran out. */
  timeoutMs?: number;
}

const factsByError = new WeakMap<object, FailureFacts>();

export function noteFailure(error: unknown, facts: FailureFacts): void {
  if (typeof error !== "object" || error === null) return;
  factsByError.set(error, { ...factsByError.get(error), ...facts });
}

export function failureFacts(error: unknown): FailureFacts {
  // A WeakMap has nothing for a value that is not an object (and does not throw for one).
  return factsByError.get(error as object) ?? {};
}

/** A write that may or may not have happened: kvmig did not send it again. Exit 1. */
export class WriteOutcomeUnknownError extends KvmigError {
  readonly outcomeUnknown = true;
  constructor(
    message: string,
    readonly method: string,
    /** The path without its query. */
    readonly path: string,
    details: { hint: string; cause: unknown },
  ) {
    super(message, details);
  }
}

/** The server could not be reached (or did not answer in time) on any try. Exit 1. */
export class ApiUnreachableError extends ConnectionError {
  constructor(
    message: string,
    readonly tries: number,
    readonly elapsedMs: number,
    details: { hint: string; cause: unknown },
  ) {
    super(message, details);
  }
}

/** The server answered an error that may pass (429, 5xx) on every try; keeps the last status. */
export class RetriesExhaustedApiError extends ApiError {
  constructor(
    message: string,
    last: ApiError,
    readonly tries: number,
    readonly elapsedMs: number,
    hint: string,
  ) {
    super(message, last.status, last.reason, last.exitCode, { hint, cause: last });
  }
}

export function isOutcomeUnknown(error: unknown): error is WriteOutcomeUnknownError {
  return error instanceof WriteOutcomeUnknownError;
}

/** Errors this module made: final, never retried again by an outer loop. */
function isFinal(error: unknown): boolean {
  return (
    error instanceof WriteOutcomeUnknownError ||
    error instanceof ApiUnreachableError ||
    error instanceof RetriesExhaustedApiError
  );
}

export type Verdict =
  | { retry: true; reason: string }
  | { retry: false; outcomeUnknown: boolean; reason: string };

const retriableStatus = new Set([429, 500, 502, 503, 504]);
/** A gateway that lost its upstream (or timed out on it) cannot say whether the write arrived. */
const gatewayStatus = new Set([502, 504]);
/** Connections that never came up; before any answer they mean a wrong address or a cluster that is down. */
const notThereCodes: ReadonlySet<string | undefined> = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}

function isPermanentNetworkCode(code: string | undefined): boolean {
  if (code === undefined) return false;
  return code === "ENOTFOUND" || isTlsVerificationCode(code);
}

function asksToWait(facts: FailureFacts): boolean {
  return facts.retryAfterHeader !== undefined || (facts.retryAfterSeconds ?? 0) > 0;
}

/** Whether a failed request of this kind may be sent again. */
export function classify(error: unknown, kind: RequestKind): Verdict {
  const reason = shortReason(error);
  if (isFinal(error)) return { retry: false, outcomeUnknown: false, reason };
  const facts = failureFacts(error);
  // An answer: by its status, whatever it was mapped to (a proxy's web page is no ApiError).
  const status = error instanceof ApiError ? error.status : facts.status;
  if (status !== undefined) {
    // A refused eviction is an answer, not throttling, unless the server asked for a wait.
    if (error instanceof EvictionRefusedError && !asksToWait(facts)) {
      return { retry: false, outcomeUnknown: false, reason };
    }
    if (status === 429) return { retry: true, reason };
    if (!retriableStatus.has(status)) return { retry: false, outcomeUnknown: false, reason };
    if (kind === "read") return { retry: true, reason };
    return { retry: false, outcomeUnknown: gatewayStatus.has(status), reason };
  }
  if (error instanceof TimeoutError) {
    if (kind === "read" || facts.notSent === true) return { retry: true, reason };
    return { retry: false, outcomeUnknown: true, reason };
  }
  if (error instanceof ConnectionError) {
    const code = causeCode(error);
    if (isPermanentNetworkCode(code)) return { retry: false, outcomeUnknown: false, reason };
    if (facts.beforeFirstAnswer === true && notThereCodes.has(code)) {
      return { retry: false, outcomeUnknown: false, reason };
    }
    if (kind === "read" || facts.notSent === true) return { retry: true, reason };
    return { retry: false, outcomeUnknown: true, reason };
  }
  return { retry: false, outcomeUnknown: false, reason };
}

const reasonByCode: ReadonlyMap<string | undefined, string> = new Map([
  ["ECONNREFUSED", "connection refused"],
  ["ECONNRESET", "connection reset"],
  ["EPIPE", "connection broken (EPIPE)"],
  ["ETIMEDOUT", "connection timed out"],
  ["EHOSTUNREACH", "host unreachable"],
  ["ENETUNREACH", "network unreachable"],
  ["EAI_AGAIN", "name lookup failed for now (EAI_AGAIN)"],
]);

/** A few words for the log and the final message: never a header, never a token. */
export function shortReason(error: unknown): string {
  if (error instanceof ApiError) return `HTTP ${error.status}${error.reason ? ` ${error.reason}` : ""}`;
  if (error instanceof TimeoutError) {
    const { timeoutMs } = failureFacts(error);
    return timeoutMs === undefined ? "no answer in time" : `no answer within ${formatSeconds(timeoutMs)}`;
  }
  const code = causeCode(error);
  const cause = (error as { cause?: unknown }).cause;
  const detail =
    cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  if (code === "ECONNRESET" && /socket hang up/i.test(detail)) return "connection closed (socket hang up)";
  if (code === "ECONNRESET" && /before secure TLS connection/i.test(detail)) {
    return "connection reset during the TLS handshake";
  }
  return reasonByCode.get(code) ?? detail;
}

/** Milliseconds to wait that the server asked for, capped; undefined when it asked nothing. */
export function serverWaitMs(error: unknown, clock: Clock, policy: RetryPolicy): number | undefined {
  const { retryAfterHeader, retryAfterSeconds } = failureFacts(error);
  // Seconds, or an HTTP date; else the Status' seconds. No header is "undefined", which is
  // neither; no seconds are NaN, which asks nothing.
  const header = String(retryAfterHeader).trim();
  const at = Date.parse(header);
  const ms = /^\d+$/.test(header)
    ? Number(header) * 1000
    : Number.isNaN(at)
      ? Number(retryAfterSeconds) * 1000
      : at - clock.now();
  return ms > 0 ? Math.min(ms, policy.maxRetryAfterMs) : undefined;
}

/**
 * The failures of one request (or of one watch between successful reconnects): counts the tries,
 * grows the backoff, and says when the budget is spent.
 */
export class RetryStreak {
  private started: number | undefined;
  private step = 0;
  private count = 0;

  constructor(
    private readonly clock: Clock,
    readonly policy: RetryPolicy,
  ) {}

  /** Failed tries so far. */
  get failures(): number {
    return this.count;
  }

  /** Starts the budget now (before a request's first try); else it starts at the first failure. */
  begin(): void {
    this.started ??= this.clock.now();
  }

  elapsedMs(): number {
    return this.started === undefined ? 0 : this.clock.now() - this.started;
  }

  /** After a failed try that may be retried: how long to wait, or undefined when the budget is spent. */
  next(serverWait: number | undefined): { waitMs: number; asked: boolean } | undefined {
    const next = this.nextWait(serverWait);
    if (this.count >= 2 && this.elapsedMs() + next.waitMs > this.policy.budgetMs) return undefined;
    return next;
  }

  /** The same for a follow, which has no budget: how long to wait before the next try. */
  nextWait(serverWait: number | undefined): { waitMs: number; asked: boolean } {
    this.begin();
    this.count += 1;
    const backoff = this.backoff();
    return { waitMs: serverWait ?? backoff, asked: serverWait !== undefined };
  }

  /** Something arrived: all is well again. */
  reset(): void {
    this.started = undefined;
    this.count = 0;
    this.step = 0;
  }

  /** Equal jitter: between half and all of 200 ms × 2^n, capped. */
  private backoff(): number {
    const { initialBackoffMs, maxBackoffMs, random } = this.policy;
    const base = Math.min(maxBackoffMs, initialBackoffMs * 2 ** this.step);
    this.step += 1;
    return Math.round(base / 2 + (random() * base) / 2);
  }
}

export interface RetrierSettings {
  clock: Clock;
  log?: ((line: string) => void) | undefined;
  policy: RetryPolicy;
}

/** Runs one request under the rules above. */
export class Retrier {
  constructor(private readonly settings: RetrierSettings) {}

  get policy(): RetryPolicy {
    return this.settings.policy;
  }

  streak(): RetryStreak {
    return new RetryStreak(this.settings.clock, this.settings.policy);
  }

  async run<T>(
    info: RequestInfo,
    kind: RequestKind,
    signal: AbortSignal | undefined,
    attempt: () => Promise<T>,
  ): Promise<T> {
    const { clock, log, policy } = this.settings;
    const streak = this.streak();
    streak.begin();
    const what = `${info.method} ${info.path}`;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (signal?.aborted) throw error;
        const verdict = classify(error, kind);
        if (!verdict.retry) {
          if (!verdict.outcomeUnknown) throw error;
          log?.(`${what}: not sent again, it may have reached the server (${verdict.reason})`);
          throw outcomeUnknownError(error, info, verdict.reason);
        }
        const next = streak.next(serverWaitMs(error, clock, policy));
        if (next === undefined) {
          log?.(
            `${what}: giving up after ${streak.failures} tries over ${formatSeconds(streak.elapsedMs())} (${verdict.reason})`,
          );
          throw exhaustedError(error, requestLabel(info), info, streak.failures, streak.elapsedMs());
        }
        log?.(
          `${what}: try ${streak.failures} failed (${verdict.reason}); retrying in ${next.waitMs}ms${next.asked ? " as the server asked (Retry-After)" : ""}`,
        );
        await clock.sleep(next.waitMs, signal);
      }
    }
  }
}

/** `GET /path` without the query. */
export function requestLabel(info: Pick<RequestInfo, "method" | "path">): string {
  return `${info.method} ${info.path.split("?")[0]}`;
}

/** The one-line error after the budget is spent; `what` names the request or the watch. */
export function exhaustedError(
  last: unknown,
  what: string,
  info: Pick<RequestInfo, "server" | "context">,
  tries: number,
  elapsedMs: number,
): KvmigError {
  const over = `after ${tries} ${tries === 1 ? "try" : "tries"} over ${formatSeconds(elapsedMs)}`;
  const where = `the API server at ${info.server} (context "${info.context}")`;
  const showTries = "-v shows each try";
  const status = last instanceof ApiError ? last.status : failureFacts(last).status;
  if (status !== undefined && last instanceof KvmigError) {
    const hint = `${last.hint ? `${last.hint}; ` : ""}${showTries}`;
    const answer = firstLine(last.message);
    const code = `(HTTP ${status})`;
    const message = `${what} failed ${over} at ${where}; its last answer: ${answer.includes(code) ? answer : `${answer} ${code}`}`;
    if (last instanceof ApiError) return new RetriesExhaustedApiError(message, last, tries, elapsedMs, hint);
    return new ApiUnreachableError(message, tries, elapsedMs, { hint, cause: last });
  }
  return new ApiUnreachableError(
    `${where} did not answer ${what} ${over}: ${shortReason(last)}`,
    tries,
    elapsedMs,
    {
      hint: `check that the API server is up and reachable from here (VPN, proxy; ${commandLine(["kubectl", "config", "view", "--minify", "--context", info.context])} shows the address); ${showTries}`,
      cause: last,
    },
  );
}

function outcomeUnknownError(error: unknown, info: RequestInfo, reason: string): WriteOutcomeUnknownError {
  const label = requestLabel(info);
  return new WriteOutcomeUnknownError(
    `${label} may or may not have been done: the API server at ${info.server} (context "${info.context}") gave no clear answer (${reason})`,
    info.method,
    info.path.split("?")[0] ?? info.path,
    {
      hint: `kvmig did not send it again, as that could do it twice; ${howToCheck(info)}`,
      cause: error,
    },
  );
}

/** How to see whether a write happened. */
function howToCheck(info: RequestInfo): string {
  const attrs = resourceAttributes(info.method, info.path);
  if (!attrs) return "check the cluster's state before running again";
  const ns = attrs.namespace === undefined ? [] : ["-n", attrs.namespace];
  if (attrs.group === "subresources.kubevirt.io" && attrs.subresource === "migrate") {
    return `look for a new migration with: ${commandLine(["kubectl", "get", "vmim", ...ns, "-l", `kubevirt.io/vmi-name=${attrs.name ?? ""}`])}`;
  }
  if (attrs.group === "subresources.kubevirt.io" && attrs.subresource === "restart") {
    return `see whether the VMI was restarted (a new creation time) with: ${commandLine(["kubectl", "get", "vmi", attrs.name ?? "", ...ns])}`;
  }
  const kind = attrs.group === "" ? attrs.resource : `${attrs.resource}.${attrs.group}`;
  const name = attrs.name === undefined || attrs.subresource !== undefined ? [] : [attrs.name];
  return `check with: ${commandLine(["kubectl", "get", kind, ...name, ...ns])}`;
}

function firstLine(text: string): string {
  return (text.split("\n").find((l) => l.trim() !== "") ?? "").trim();
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 || ms >= 10_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 1000).toFixed(1)}s`;
}
