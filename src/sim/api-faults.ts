// Faults of the simulated API server itself (not of migrations: see controllers/faults.ts):
// watch streams that end early, an API server restart (every connection dropped, new ones
// refused for a while, then the same port again), 429/5xx answers with Retry-After, added
// latency, resourceVersions that expire quickly (410 Gone on a watch resume or a continue
// token), and slow or truncated log follows. Set with `kvmig sim --fault SPEC`, or from tests
// as typed objects and at run time through `cluster.faults`.
//
// Every random choice comes from a generator derived from the cluster's seed, so the same seed
// and the same sequence of requests give the same faults. Times are wall-clock times.
//
// The spec language (items separated by commas; `--fault` may be repeated):
//
//   drop-watches=DURATION            every watch stream ends (cleanly) DURATION after it started
//   outage=DURATION+DURATION[:MODE]  AT+FOR: AT after the spec took effect, every open connection
//                                    is destroyed and new ones fail for FOR; MODE `refuse` (the
//                                    default: the port is closed, ECONNREFUSED) or `reset` (the
//                                    port accepts and resets at once, ECONNRESET); then the same
//                                    port serves again
//   errors=RATE[:CODE][@KINDS]       that fraction of requests is answered with a Status of CODE
//                                    (429, 500, 503 or 504; default 503) instead of being served
//   latency=MS[:JITTER][@KINDS]      each request waits MS (plus 0..JITTER) before it is served
//   expire-rv=N                      a watch resuming from, or a continue token of, a
//                                    resourceVersion older than the newest N changes: 410 Expired
//   slow-logs=MS                     followed pod logs send at most one line per MS
//   truncate-logs=N                  followed pod logs end (cleanly) after N lines
//   retry-after=S                    the Retry-After of 429 and 503 answers (default 1; 0: none)
//   errors-after=N                   the first N requests after the spec took effect get no error
//
//   DURATION = NUMBER UNIT with UNIT ms, s or m (5s, 500ms, 1.5s, 2m)
//   MS       = a DURATION, or a bare number of milliseconds
//   RATE     = a number above 0 and at most 1
//   KINDS    = KIND[+KIND...], KIND one of GET POST PUT PATCH DELETE WATCH (any case); without
//              @KINDS a rule applies to every request but watches. GET (and HEAD) means the
//              GETs that are not watches; WATCH means watch requests only.
//
// errors, latency and outage may repeat; any other kind appears once. Every request is counted
// on arrival, before authentication and routing: each matching errors rule draws in turn and
// the first hit answers (the request itself is never executed, so a faulted POST creates
// nothing); the first matching latency rule delays it. Durations are at most 24h.

import type { IncomingMessage, ServerResponse } from "node:http";
import { queryFlag, sendJson } from "./http.js";
import type { LogFollowFaults } from "./pod-logs.js";
import type { Random } from "./random.js";

export type RequestKind = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "WATCH";
export const requestKinds: readonly RequestKind[] = ["GET", "POST", "PUT", "PATCH", "DELETE", "WATCH"];

export type FaultStatusCode = 429 | 500 | 503 | 504;
export const faultStatusCodes: readonly FaultStatusCode[] = [429, 500, 503, 504];

export type OutageMode = "refuse" | "reset";

export type ApiFaultSpec =
  | { kind: "drop-watches"; everyMs: number }
  | { kind: "outage"; atMs: number; forMs: number; mode?: OutageMode | undefined }
  | {
      kind: "errors";
      /** The fraction of (matching) requests answered with an error, in (0, 1]. */
      rate: number;
      code?: FaultStatusCode | undefined;
      /** Which requests; every request but watches when unset. */
      only?: readonly RequestKind[] | undefined;
    }
  | { kind: "latency"; ms: number; jitterMs?: number | undefined; only?: readonly RequestKind[] | undefined }
  | { kind: "expire-rv"; changes: number }
  | { kind: "slow-logs"; lineDelayMs: number }
  | { kind: "truncate-logs"; lines: number }
  | { kind: "retry-after"; seconds: number }
  | { kind: "errors-after"; requests: number };

export type ApiFaultKind = ApiFaultSpec["kind"];

/** The kinds with their value's shape: the hint of a bad spec. */
export const apiFaultKindsHint =
  "fault kinds: drop-watches=5s, outage=AT+FOR[:refuse|reset], errors=RATE[:429|500|503|504][@KINDS], latency=MS[:JITTER][@KINDS], expire-rv=N, slow-logs=MS, truncate-logs=N, retry-after=S, errors-after=N (KINDS: GET+POST+PUT+PATCH+DELETE+WATCH)";

const kindNames: readonly ApiFaultKind[] = [
  "drop-watches",
  "outage",
  "errors",
  "latency",
  "expire-rv",
  "slow-logs",
  "truncate-logs",
  "retry-after",
  "errors-after",
];

/** Kinds that may appear more than once (each rule applies on its own). */
const repeatable: ReadonlySet<ApiFaultKind> = new Set(["errors", "latency", "outage"]);

/** A bad fault spec: a one-line message (the CLI adds `apiFaultKindsHint`). */
export class ApiFaultSpecError extends Error {
  override readonly name = "ApiFaultSpecError";
}

const maxDurationMs = 24 * 3_600_000;
const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

function parseDuration(kind: string, text: string, bareMs: boolean): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m)?$/.exec(text);
  if (!match || (match[2] === undefined && !bareMs)) {
    const like = bareMs ? "like 200, 200ms or 1.5s" : "with a unit, like 500ms, 5s or 1m";
    throw new ApiFaultSpecError(`${kind}: "${text}" is not a duration (${like})`);
  }
  const ms = Math.round(Number(match[1]) * (units[match[2] ?? "ms"] ?? 1));
  if (ms > maxDurationMs) throw new ApiFaultSpecError(`${kind}: "${text}" is longer than 24h`);
  return ms;
}

function parseCount(kind: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new ApiFaultSpecError(`${kind}: "${text}" is not a whole number of ${min} or more`);
  }
  return Number(text);
}

function parseKinds(kind: string, text: string): RequestKind[] {
  const out: RequestKind[] = [];
  for (const part of text.split("+")) {
    const name = part.trim().toUpperCase() === "HEAD" ? "GET" : part.trim().toUpperCase();
    if (!requestKinds.includes(name as RequestKind)) {
      throw new ApiFaultSpecError(
        `${kind}: unknown request kind "${part}" after @ (use ${requestKinds.join(", ")}, joined with +)`,
      );
    }
    if (!out.includes(name as RequestKind)) out.push(name as RequestKind);
  }
  return out;
}

/** Splits `VALUE@KINDS`. */
function withKinds(kind: string, value: string): [string, RequestKind[] | undefined] {
  const at = value.indexOf("@");
  if (at < 0) return [value, undefined];
  return [value.slice(0, at), parseKinds(kind, value.slice(at + 1))];
}

function parseItem(item: string): ApiFaultSpec {
  const eq = item.indexOf("=");
  const kind = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
  const value = eq < 0 ? "" : item.slice(eq + 1).trim();
  if (!kindNames.includes(kind as ApiFaultKind)) {
    throw new ApiFaultSpecError(`unknown fault "${kind}" in "${item}"`);
  }
  if (value === "") {
    const example: Record<ApiFaultKind, string> = {
      "drop-watches": "drop-watches=5s",
      outage: "outage=3s+10s",
      errors: "errors=0.2:503",
      latency: "latency=200:50",
      "expire-rv": "expire-rv=5",
      "slow-logs": "slow-logs=500ms",
      "truncate-logs": "truncate-logs=10",
      "retry-after": "retry-after=2",
      "errors-after": "errors-after=20",
    };
    throw new ApiFaultSpecError(`fault "${kind}" needs a value, like ${example[kind as ApiFaultKind]}`);
  }
  switch (kind as ApiFaultKind) {
    case "drop-watches":
      return { kind: "drop-watches", everyMs: parseDuration(kind, value, false) };
    case "outage": {
      const [times = "", mode, ...rest] = value.split(":");
      const [at, forText, ...more] = times.split("+");
      if (at === undefined || forText === undefined || more.length > 0 || rest.length > 0) {
        throw new ApiFaultSpecError(
          `outage: write it as AT+FOR[:refuse|reset], like outage=3s+10s, not "${value}"`,
        );
      }
      if (mode !== undefined && mode !== "refuse" && mode !== "reset") {
        throw new ApiFaultSpecError(`outage: the mode is refuse or reset, not "${mode}"`);
      }
      return {
        kind: "outage",
        atMs: parseDuration(kind, at, false),
        forMs: parseDuration(kind, forText, false),
        ...(mode ? { mode } : {}),
      };
    }
    case "errors": {
      const [main, only] = withKinds(kind, value);
      const [rateText = "", codeText, ...rest] = main.split(":");
      if (rest.length > 0)
        throw new ApiFaultSpecError(`errors: write it as RATE[:CODE][@KINDS], not "${value}"`);
      const rate = /^(\d+(\.\d*)?|\.\d+)$/.test(rateText) ? Number(rateText) : Number.NaN;
      if (!(rate > 0 && rate <= 1)) {
        throw new ApiFaultSpecError(
          `errors: the rate must be above 0 and at most 1, like 0.2, not "${rateText}"`,
        );
      }
      if (codeText !== undefined && !faultStatusCodes.includes(Number(codeText) as FaultStatusCode)) {
        throw new ApiFaultSpecError(
          `errors: the status code is one of ${faultStatusCodes.join(", ")}, not "${codeText}"`,
        );
      }
      return {
        kind: "errors",
        rate,
        ...(codeText !== undefined ? { code: Number(codeText) as FaultStatusCode } : {}),
        ...(only ? { only } : {}),
      };
    }
    case "latency": {
      const [main, only] = withKinds(kind, value);
      const [msText = "", jitterText, ...rest] = main.split(":");
      if (rest.length > 0) {
        throw new ApiFaultSpecError(`latency: write it as MS[:JITTER][@KINDS], not "${value}"`);
      }
      return {
        kind: "latency",
        ms: parseDuration(kind, msText, true),
        ...(jitterText !== undefined ? { jitterMs: parseDuration(kind, jitterText, true) } : {}),
        ...(only ? { only } : {}),
      };
    }
    case "expire-rv":
      return { kind: "expire-rv", changes: parseCount(kind, value, 0) };
    case "slow-logs":
      return { kind: "slow-logs", lineDelayMs: parseDuration(kind, value, true) };
    case "truncate-logs":
      return { kind: "truncate-logs", lines: parseCount(kind, value, 1) };
    case "retry-after":
      return { kind: "retry-after", seconds: parseCount(kind, value, 0) };
    case "errors-after":
      return { kind: "errors-after", requests: parseCount(kind, value, 0) };
  }
}

/**
 * Checks specs given as objects (the parser's output passes too): ranges, and a kind that may
 * appear once appearing once. Throws ApiFaultSpecError.
 */
export function validateApiFaults(specs: readonly ApiFaultSpec[]): ApiFaultSpec[] {
  const seen = new Set<ApiFaultKind>();
  const duration = (kind: string, ms: number, min: number) => {
    if (!Number.isFinite(ms) || ms < min || ms > maxDurationMs) {
      throw new ApiFaultSpecError(
        `${kind}: the duration must be ${min === 0 ? "0" : "above 0"} to 24h, not ${ms}ms`,
      );
    }
  };
  const count = (kind: string, n: number, min: number) => {
    if (!Number.isSafeInteger(n) || n < min) {
      throw new ApiFaultSpecError(`${kind}: "${n}" is not a whole number of ${min} or more`);
    }
  };
  const kinds = (kind: string, only: readonly RequestKind[] | undefined) => {
    if (only === undefined) return;
    if (only.length === 0) throw new ApiFaultSpecError(`${kind}: an empty list of request kinds`);
    for (const k of only) parseKinds(kind, k);
  };
  for (const spec of specs) {
    if (!kindNames.includes(spec.kind)) {
      throw new ApiFaultSpecError(`unknown fault "${(spec as { kind: unknown }).kind}"`);
    }
    if (seen.has(spec.kind) && !repeatable.has(spec.kind)) {
      throw new ApiFaultSpecError(`fault "${spec.kind}" is given more than once`);
    }
    seen.add(spec.kind);
    switch (spec.kind) {
      case "drop-watches":
        duration(spec.kind, spec.everyMs, 1);
        break;
      case "outage":
        duration(spec.kind, spec.atMs, 0);
        duration(spec.kind, spec.forMs, 1);
        if (spec.mode !== undefined && spec.mode !== "refuse" && spec.mode !== "reset") {
          throw new ApiFaultSpecError(`outage: the mode is refuse or reset, not "${spec.mode}"`);
        }
        break;
      case "errors":
        if (!(spec.rate > 0 && spec.rate <= 1)) {
          throw new ApiFaultSpecError(
            `errors: the rate must be above 0 and at most 1, like 0.2, not "${spec.rate}"`,
          );
        }
        if (spec.code !== undefined && !faultStatusCodes.includes(spec.code)) {
          throw new ApiFaultSpecError(
            `errors: the status code is one of ${faultStatusCodes.join(", ")}, not "${spec.code}"`,
          );
        }
        kinds(spec.kind, spec.only);
        break;
      case "latency":
        duration(spec.kind, spec.ms, 0);
        duration(spec.kind, spec.jitterMs ?? 0, 0);
        kinds(spec.kind, spec.only);
        break;
      case "expire-rv":
        count(spec.kind, spec.changes, 0);
        break;
      case "slow-logs":
        duration(spec.kind, spec.lineDelayMs, 1);
        break;
      case "truncate-logs":
        count(spec.kind, spec.lines, 1);
        break;
      case "retry-after":
        count(spec.kind, spec.seconds, 0);
        break;
      case "errors-after":
        count(spec.kind, spec.requests, 0);
        break;
    }
  }
  return specs.map((spec) => ({ ...spec }));
}

/** Parses one or more specs (each comma-separated, as `--fault` takes them). */
export function parseApiFaults(texts: string | readonly string[]): ApiFaultSpec[] {
  const specs: ApiFaultSpec[] = [];
  for (const text of typeof texts === "string" ? [texts] : texts) {
    if (text.trim() === "") throw new ApiFaultSpecError("an empty fault spec");
    for (const item of text.split(",")) {
      if (item.trim() === "") throw new ApiFaultSpecError(`an empty fault in "${text}"`);
      specs.push(parseItem(item.trim()));
    }
  }
  return validateApiFaults(specs);
}

function formatMs(ms: number): string {
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The canonical text of one spec (what `kvmig sim` prints; parses back to the same spec). */
export function formatApiFault(spec: ApiFaultSpec): string {
  const only = (kinds: readonly RequestKind[] | undefined) => (kinds ? `@${kinds.join("+")}` : "");
  switch (spec.kind) {
    case "drop-watches":
      return `drop-watches=${formatMs(spec.everyMs)}`;
    case "outage":
      return `outage=${formatMs(spec.atMs)}+${formatMs(spec.forMs)}${spec.mode ? `:${spec.mode}` : ""}`;
    case "errors":
      return `errors=${spec.rate}:${spec.code ?? 503}${only(spec.only)}`;
    case "latency":
      return `latency=${formatMs(spec.ms)}${spec.jitterMs ? `:${formatMs(spec.jitterMs)}` : ""}${only(spec.only)}`;
    case "expire-rv":
      return `expire-rv=${spec.changes}`;
    case "slow-logs":
      return `slow-logs=${formatMs(spec.lineDelayMs)}`;
    case "truncate-logs":
      return `truncate-logs=${spec.lines}`;
    case "retry-after":
      return `retry-after=${spec.seconds}`;
    case "errors-after":
      return `errors-after=${spec.requests}`;
  }
}

export function formatApiFaults(specs: readonly ApiFaultSpec[]): string {
  return specs.map(formatApiFault).join(",");
}

/** What the faults did so far (a copy): for tests' assertions. */
export interface ApiFaultStats {
  /** Requests that reached the server (each counted once, faulted or not). */
  requests: number;
  /** Requests answered with an injected error, by status code. */
  errors: Record<string, number>;
  /** The 0-based indexes (in arrival order, over `requests`) of those requests; the first 10,000. */
  erroredRequests: number[];
  /** Requests held back by `latency`, and the total delay added. */
  delayed: number;
  delayedMs: number;
  /** Watch streams ended by `drop-watches`. */
  watchesDropped: number;
  /** Outages begun (from the spec or `outage()`). */
  outages: number;
  /** Open connections destroyed when an outage began. */
  connectionsDropped: number;
  /** New connections reset during a `reset` outage (a `refuse` outage's are refused by the OS, unseen). */
  connectionsRefused: number;
  /** Watch resumes and continue tokens answered 410 Expired by `expire-rv`. */
  expired: number;
  /** Log follows paced by `slow-logs`, and those cut short by `truncate-logs`. */
  logsSlowed: number;
  logsTruncated: number;
}

/** Runtime control of the API faults, for tests: `cluster.faults`. */
export interface ApiFaultControl {
  /** Replaces the active faults (a spec as for `--fault`, or objects); restarts their random streams. */
  set(spec: string | readonly ApiFaultSpec[]): void;
  /** Removes every fault, and ends an outage in progress. */
  clear(): void;
  active(): ApiFaultSpec[];
  /**
   * An outage from now on for `ms`: every open connection is destroyed and new ones fail
   * (refused, or reset with mode `reset`). Resolves once the server accepts again. During an
   * outage, a further call may only extend it.
   */
  outage(ms: number, mode?: OutageMode): Promise<void>;
  /** Whether an outage is in progress. */
  readonly down: boolean;
  stats(): ApiFaultStats;
  resetStats(): void;
}

/** What the faults need of the HTTPS server (SimServer). */
export interface FaultableServer {
  /** Destroys every open connection (watches and log follows too); returns how many. */
  dropConnections(): number;
  /** Closes the listening socket: new connections are refused. */
  stopListening(): void;
  /** Listens on the same port again. */
  listenAgain(): Promise<void>;
}

interface OpenWatch {
  res: ServerResponse;
  started: number;
  what: string;
  timer: NodeJS.Timeout | undefined;
}

interface Outage {
  mode: OutageMode;
  end: number;
  timer: NodeJS.Timeout | undefined;
  waiters: (() => void)[];
}

function emptyStats(): ApiFaultStats {
  return {
    requests: 0,
    errors: {},
    erroredRequests: [],
    delayed: 0,
    delayedMs: 0,
    watchesDropped: 0,
    outages: 0,
    connectionsDropped: 0,
    connectionsRefused: 0,
    expired: 0,
    logsSlowed: 0,
    logsTruncated: 0,
  };
}

/** The kind of a request, for `@KINDS`: WATCH for a watch, else its method (HEAD is GET). */
export function requestKindOf(method: string | undefined, url: URL): RequestKind | undefined {
  const upper = (method ?? "GET").toUpperCase();
  if (upper === "GET" || upper === "HEAD") {
    const segments = url.pathname.split("/");
    const watchPath =
      (segments[1] === "api" && segments[3] === "watch") ||
      (segments[1] === "apis" && segments[4] === "watch");
    return watchPath || queryFlag(url.searchParams.get("watch")) ? "WATCH" : "GET";
  }
  return requestKinds.includes(upper as RequestKind) ? (upper as RequestKind) : undefined;
}

function applies(only: readonly RequestKind[] | undefined, kind: RequestKind | undefined): boolean {
  if (kind === undefined) return false;
  return only ? only.includes(kind) : kind !== "WATCH";
}

const reasons: Record<FaultStatusCode, [string, string]> = {
  429: ["TooManyRequests", "Too many requests, please try again later."],
  500: ["InternalError", "Internal error occurred: injected fault"],
  503: ["ServiceUnavailable", "The server is currently unable to handle the request (injected fault)"],
  504: ["Timeout", "Timeout: request did not complete within the allotted timeout (injected fault)"],
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ApiFaultsOptions {
  /** The cluster's generator; the faults derive their own streams from it. */
  random: Random;
  log?: ((line: string) => void) | undefined;
  specs?: readonly ApiFaultSpec[] | undefined;
}

/** The faults in effect, and the hooks SimServer (and the store) call. */
export class ApiFaults implements ApiFaultControl {
  private specs: ApiFaultSpec[] = [];
  private errorRules: { spec: Extract<ApiFaultSpec, { kind: "errors" }>; random: Random }[] = [];
  private latencyRules: { spec: Extract<ApiFaultSpec, { kind: "latency" }>; random: Random }[] = [];
  private dropEveryMs: number | undefined;
  private expireChanges: number | undefined;
  private lineDelayMs: number | undefined;
  private maxLogLines: number | undefined;
  private retryAfter = 1;
  private errorsAfter = 0;
  /** `stats.requests` when the spec took effect (for errors-after). */
  private firstRequest = 0;
  private counters = emptyStats();
  private readonly watches = new Set<OpenWatch>();
  private scheduled: NodeJS.Timeout[] = [];
  private current: Outage | undefined;
  private server: FaultableServer | undefined;
  private stopped = false;

  constructor(private readonly options: ApiFaultsOptions) {
    this.configure(validateApiFaults(options.specs ?? []));
  }

  private log(line: string): void {
    this.options.log?.(`fault: ${line}`);
  }

  private configure(specs: ApiFaultSpec[]): void {
    const base = this.options.random.derive("api-faults");
    this.specs = specs;
    this.errorRules = [];
    this.latencyRules = [];
    this.dropEveryMs = undefined;
    this.expireChanges = undefined;
    this.lineDelayMs = undefined;
    this.maxLogLines = undefined;
    this.retryAfter = 1;
    this.errorsAfter = 0;
    this.firstRequest = this.counters.requests;
    for (const spec of specs) {
      switch (spec.kind) {
        case "errors":
          this.errorRules.push({ spec, random: base.derive(`errors/${this.errorRules.length}`) });
          break;
        case "latency":
          this.latencyRules.push({ spec, random: base.derive(`latency/${this.latencyRules.length}`) });
          break;
        case "drop-watches":
          this.dropEveryMs = spec.everyMs;
          break;
        case "expire-rv":
          this.expireChanges = spec.changes;
          break;
        case "slow-logs":
          this.lineDelayMs = spec.lineDelayMs;
          break;
        case "truncate-logs":
          this.maxLogLines = spec.lines;
          break;
        case "retry-after":
          this.retryAfter = spec.seconds;
          break;
        case "errors-after":
          this.errorsAfter = spec.requests;
          break;
        case "outage":
          break;
      }
    }
    for (const watch of this.watches) this.scheduleDrop(watch);
    this.scheduleOutages();
  }

  private scheduleOutages(): void {
    for (const timer of this.scheduled.splice(0)) clearTimeout(timer);
    if (!this.server || this.stopped) return;
    for (const spec of this.specs) {
      if (spec.kind !== "outage") continue;
      this.scheduled.push(
        setTimeout(() => {
          this.outage(spec.forMs, spec.mode ?? "refuse").catch(() => {});
        }, spec.atMs),
      );
    }
  }

  /** The server is listening: the spec's outages start counting from now. */
  attach(server: FaultableServer): void {
    this.server = server;
    this.scheduleOutages();
  }

  /** The cluster closes: no more timers. An outage in progress stays (the server closes anyway). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.scheduled.splice(0)) clearTimeout(timer);
    for (const watch of this.watches) clearTimeout(watch.timer);
    this.watches.clear();
    if (this.current) {
      clearTimeout(this.current.timer);
      const waiters = this.current.waiters.splice(0);
      this.current = undefined;
      for (const wake of waiters) wake();
    }
  }

  // --- ApiFaultControl ---

  set(spec: string | readonly ApiFaultSpec[]): void {
    this.configure(typeof spec === "string" ? parseApiFaults(spec) : validateApiFaults(spec));
    this.log(`set ${this.specs.length === 0 ? "(none)" : formatApiFaults(this.specs)}`);
  }

  clear(): void {
    this.configure([]);
    if (this.current) {
      clearTimeout(this.current.timer);
      void this.endOutage();
    }
    this.log("cleared");
  }

  active(): ApiFaultSpec[] {
    return this.specs.map((spec) => ({ ...spec }));
  }

  get down(): boolean {
    return this.current !== undefined;
  }

  outage(ms: number, mode: OutageMode = "refuse"): Promise<void> {
    if (!Number.isFinite(ms) || ms <= 0) return Promise.reject(new RangeError("outage: ms must be above 0"));
    const server = this.server;
    if (!server || this.stopped) return Promise.reject(new Error("outage: the server is not running"));
    const end = Date.now() + ms;
    const current = this.current;
    if (current) {
      if (end > current.end) {
        current.end = end;
        clearTimeout(current.timer);
        current.timer = setTimeout(() => void this.endOutage(), ms);
        this.log(`outage extended to ${ms}ms from now`);
      }
      return new Promise((resolve) => current.waiters.push(resolve));
    }
    const outage: Outage = { mode, end, timer: undefined, waiters: [] };
    this.current = outage;
    this.counters.outages++;
    if (mode === "refuse") server.stopListening();
    const dropped = server.dropConnections();
    this.counters.connectionsDropped += dropped;
    this.log(
      `outage for ${ms}ms: ${dropped} connection(s) dropped, new ones ${mode === "refuse" ? "refused" : "reset"}`,
    );
    outage.timer = setTimeout(() => void this.endOutage(), ms);
    return new Promise((resolve) => outage.waiters.push(resolve));
  }

  private async endOutage(): Promise<void> {
    const outage = this.current;
    if (!outage) return;
    outage.timer = undefined;
    if (outage.mode === "refuse" && this.server && !this.stopped) {
      // The port may be taken meanwhile (a client's ephemeral port): try again until it is free.
      for (;;) {
        try {
          await this.server.listenAgain();
          break;
        } catch (error) {
          if (this.stopped) break;
          this.log(`outage: listening again failed (${(error as Error).message}); retrying`);
          await sleep(100);
        }
      }
    }
    if (this.current !== outage) return;
    this.current = undefined;
    this.log("outage over: accepting connections again");
    for (const wake of outage.waiters.splice(0)) wake();
  }

  stats(): ApiFaultStats {
    const c = this.counters;
    return { ...c, errors: { ...c.errors }, erroredRequests: [...c.erroredRequests] };
  }

  resetStats(): void {
    const requests = this.counters.requests;
    this.counters = emptyStats();
    this.firstRequest -= requests;
  }

  // --- hooks ---

  /** A new connection: false to reset it at once (a `reset` outage). */
  acceptConnection(): boolean {
    if (this.current?.mode !== "reset") return true;
    this.counters.connectionsRefused++;
    return false;
  }

  /**
   * Every request, before authentication and routing: counts it, decides on an error (so a
   * faulted request is never executed), waits out the latency. True when it answered.
   */
  async intercept(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    headers: Record<string, string>,
  ): Promise<boolean> {
    const index = this.counters.requests++;
    const kind = requestKindOf(req.method, url);
    const what = `${req.method} ${url.pathname}${url.search}`;
    // The error is drawn on arrival, before any latency, so concurrent delays cannot reorder draws.
    let code: FaultStatusCode | undefined;
    if (index - this.firstRequest >= this.errorsAfter) {
      for (const rule of this.errorRules) {
        if (!applies(rule.spec.only, kind)) continue;
        if (rule.random.next() < rule.spec.rate) {
          code = rule.spec.code ?? 503;
          break;
        }
      }
    }
    const latency = this.latencyRules.find((rule) => applies(rule.spec.only, kind));
    if (latency) {
      const { ms, jitterMs } = latency.spec;
      const delay = jitterMs ? latency.random.int(ms, ms + jitterMs) : ms;
      if (delay > 0) {
        this.counters.delayed++;
        this.counters.delayedMs += delay;
        this.log(`latency ${delay}ms for ${what}`);
        await sleep(delay);
      }
    }
    if (code === undefined) return false;
    this.counters.errors[code] = (this.counters.errors[code] ?? 0) + 1;
    if (this.counters.erroredRequests.length < 10_000) this.counters.erroredRequests.push(index);
    const [reason, message] = reasons[code];
    const retry = (code === 429 || code === 503) && this.retryAfter > 0;
    this.log(`${code} ${reason} for ${what} (request #${index})`);
    sendJson(
      res,
      code,
      {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message,
        reason,
        ...(retry ? { details: { retryAfterSeconds: this.retryAfter } } : {}),
        code,
      },
      { ...headers, ...(retry ? { "Retry-After": String(this.retryAfter) } : {}) },
    );
    return true;
  }

  /** A watch stream began (`drop-watches` ends it after its interval). */
  watching(res: ServerResponse, what: string): void {
    if (res.writableEnded || this.stopped) return;
    const watch: OpenWatch = { res, started: Date.now(), what, timer: undefined };
    this.watches.add(watch);
    this.scheduleDrop(watch);
    res.on("close", () => {
      clearTimeout(watch.timer);
      this.watches.delete(watch);
    });
  }

  private scheduleDrop(watch: OpenWatch): void {
    clearTimeout(watch.timer);
    watch.timer = undefined;
    const every = this.dropEveryMs;
    if (every === undefined) return;
    watch.timer = setTimeout(
      () => {
        if (watch.res.writableEnded) return;
        this.counters.watchesDropped++;
        this.log(`watch ended after ${Date.now() - watch.started}ms: ${watch.what}`);
        watch.res.end();
      },
      Math.max(0, watch.started + every - Date.now()),
    );
  }

  /**
   * For the store: the oldest resourceVersion a watch or continue token may still use, given
   * the newest; undefined when `expire-rv` is off. `expired` counts and logs a 410 it caused.
   */
  expiryFloor(newest: number): number | undefined {
    return this.expireChanges === undefined ? undefined : Math.max(0, newest - this.expireChanges);
  }

  expired(rv: number, floor: number): void {
    this.counters.expired++;
    this.log(`410 Expired for resourceVersion ${rv} (oldest kept: ${floor})`);
  }

  /** The pacing of a followed log (undefined: none). */
  logFollow(what: string): LogFollowFaults | undefined {
    const lineDelayMs = this.lineDelayMs;
    const maxLines = this.maxLogLines;
    if (lineDelayMs === undefined && maxLines === undefined) return undefined;
    return {
      lineDelayMs,
      maxLines,
      started: () => {
        if (lineDelayMs === undefined) return;
        this.counters.logsSlowed++;
        this.log(`log follow slowed to a line per ${lineDelayMs}ms: ${what}`);
      },
      truncated: () => {
        this.counters.logsTruncated++;
        this.log(`log follow ended after ${maxLines} line(s): ${what}`);
      },
    };
  }
}
