// The list-then-watch loop (src/k8s/watch.ts) against a scripted backend and a fake clock: an
// API server away for minutes is ridden out (a follow has no retry budget) and the outage told;
// odd input (lines that are not events, ERROR events of every kind, a 410 while paging) neither
// crashes the loop nor is taken for something else; the bookkeeping behind "nothing delivered
// twice"; the stream closed whatever ends it; Ctrl-C in the middle of a request.
import { describe, expect, it } from "vitest";
import { ApiError, ConnectionError, exitCodeOf, TimeoutError } from "../../src/errors.js";
import type { WatchUpdate } from "../../src/k8s/kube-client.js";
import type { KubeList, KubeObject } from "../../src/k8s/meta.js";
import { ApiOutage } from "../../src/k8s/outage.js";
import {
  ApiUnreachableError,
  defaultRetryPolicy,
  noteFailure,
  RetriesExhaustedApiError,
  RetryStreak,
} from "../../src/k8s/retry.js";
import { listThenWatch, type WatchBackend } from "../../src/k8s/watch.js";
import { FakeClock } from "../helpers/fake-clock.js";

const request = {
  method: "GET",
  path: "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations?watch=1",
  server: "https://127.0.0.1:6443",
  context: "lab",
};
const what = "virtualmachineinstancemigrations in vms";

function obj(name: string, resourceVersion: string): KubeObject {
  return { metadata: { name, namespace: "vms", resourceVersion } };
}

function page(resourceVersion: string, items: KubeObject[], next?: string): KubeList<KubeObject> {
  return { metadata: { resourceVersion, ...(next ? { continue: next } : {}) }, items };
}

const line = (type: string, object: unknown) => JSON.stringify({ type, object });
const event = (type: string, name: string, rv: string) => line(type, obj(name, rv));

function status(code: number | undefined, reason: string, message: string, extra: object = {}) {
  return { kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code, ...extra };
}

/** A connection error as the transport makes it: `code` on the cause. */
function networkError(code: string, message = `connect ${code}`): ConnectionError {
  return new ConnectionError(`cannot reach the API server: ${message}`, {
    cause: Object.assign(new Error(message), { code }),
  });
}

const refused = () => networkError("ECONNREFUSED");

/**
 * One watch stream: its lines, then an end (clean, an error thrown, or held open until closed).
 * `ends` runs when the stream has no more lines (it may throw, or advance the clock).
 */
interface StreamScript {
  lines: string[];
  /** "hold": open until closed, then it fails with the signal's reason; "hold-end": ends cleanly then. */
  after?: "end" | "hold" | "hold-end" | Error;
  ends?: () => void;
}

type ListStep = KubeList<KubeObject> | Error;
type WatchStep = StreamScript | Error | (() => StreamScript | Error);

class Backend implements WatchBackend<KubeObject> {
  readonly tokens: (string | undefined)[] = [];
  readonly resumedFrom: string[] = [];
  closed = 0;
  opened = 0;
  /** Runs before each openWatch answers (the test's way to act mid-request). */
  onOpen: (() => void) | undefined;
  /** The watch's signal: a held stream ends with it, as a request does. */
  signal: AbortSignal | undefined;

  constructor(
    private readonly lists: ListStep[],
    private readonly watches: WatchStep[],
    private readonly fallback: WatchStep = { lines: [], after: "hold" },
  ) {}

  async listPage(token: string | undefined): Promise<KubeList<KubeObject>> {
    this.tokens.push(token);
    const step = this.lists.shift();
    if (step === undefined) throw new Error(`no scripted list #${this.tokens.length}`);
    if (step instanceof Error) throw step;
    return step;
  }

  async openWatch(resourceVersion: string): Promise<AsyncIterable<string> & { close(): void }> {
    this.resumedFrom.push(resourceVersion);
    this.onOpen?.();
    const next = this.watches.shift() ?? this.fallback;
    const made = typeof next === "function" ? next() : next;
    if (made instanceof Error) throw made;
    const step: StreamScript = made;
    this.opened += 1;
    let closed = false;
    let wake: (() => void) | undefined;
    const close = () => {
      if (closed) return;
      closed = true;
      this.closed += 1;
      wake?.();
    };
    const signal = this.signal;
    signal?.addEventListener("abort", () => wake?.(), { once: true });
    async function* lines(): AsyncGenerator<string> {
      for (const l of step.lines) {
        if (closed) return;
        yield l;
      }
      step.ends?.();
      if (step.after instanceof Error) throw step.after;
      if (step.after === "hold" || step.after === "hold-end") {
        while (!closed && !signal?.aborted) await new Promise<void>((resolve) => (wake = resolve));
        if (signal?.aborted && step.after === "hold") throw signal.reason;
      }
    }
    const iterator = lines();
    return { [Symbol.asyncIterator]: () => iterator, close };
  }
}

interface Run {
  seen: string[];
  log: string[];
  told: string[];
  error: unknown;
  clock: FakeClock;
}

function summary(update: WatchUpdate<KubeObject>): string {
  return update.type === "SYNCED"
    ? `SYNCED@${update.resourceVersion}`
    : `${update.type} ${update.object.metadata.name}@${update.object.metadata.resourceVersion}`;
}

/** A streak whose jitter is none: every wait is its whole step (200, 400, ... 5000). */
function streakOn(clock: FakeClock): RetryStreak {
  return new RetryStreak(clock, { ...defaultRetryPolicy, random: () => 1 });
}

/** Runs the loop until `count` updates arrived (then aborts it), it ends, or it throws. */
async function run(
  backend: Backend,
  count: number,
  options: { clock?: FakeClock; controller?: AbortController; quiet?: boolean } = {},
): Promise<Run> {
  const clock = options.clock ?? new FakeClock();
  const controller = options.controller ?? new AbortController();
  const result: Run = { seen: [], log: [], told: [], error: undefined, clock };
  const outage = new ApiOutage({ clock, report: (l) => result.told.push(l) });
  backend.signal = controller.signal;
  try {
    for await (const update of listThenWatch(backend, {
      signal: controller.signal,
      clock,
      // quiet: no -v log, and nowhere to tell an outage.
      log: options.quiet ? undefined : (l) => result.log.push(l),
      what,
      retry: streakOn(clock),
      request,
      outage: options.quiet ? undefined : outage,
    })) {
      result.seen.push(summary(update));
      if (result.seen.length === count) controller.abort();
    }
  } catch (error) {
    result.error = error;
  }
  return result;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("an API server that is away: ridden out, without a budget", () => {
  it("3 minutes of refused connections: waits them out (5 s at most between tries), then delivers what comes after, from where it was", async () => {
    const clock = new FakeClock();
    const started = clock.now();
    const minutes3 = 180_000;
    const backend = new Backend(
      [page("10", [obj("a", "10")])],
      [
        { lines: [event("MODIFIED", "a", "11")], after: networkError("ECONNRESET", "read ECONNRESET") },
        ...Array.from(
          { length: 60 },
          () => () =>
            clock.now() - started < minutes3 ? refused() : { lines: [event("MODIFIED", "a", "12")] },
        ),
      ],
    );
    const { seen, error, told, log } = await run(backend, 4, { clock });
    expect(error).toBeUndefined();
    expect(seen).toEqual(["ADDED a@10", "SYNCED@10", "MODIFIED a@11", "MODIFIED a@12"]);
    // Every try resumed from the last change delivered; nothing was listed again.
    expect(backend.tokens).toEqual([undefined]);
    expect(new Set(backend.resumedFrom)).toEqual(new Set(["10", "11"]));
    expect(backend.resumedFrom.filter((rv) => rv === "10")).toHaveLength(1);
    // The backoff: 200 ms doubling, capped at 5 s, for as long as it takes.
    expect(clock.sleeps.slice(0, 7)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(Math.max(...clock.sleeps)).toBe(5000);
    expect(sum(clock.sleeps)).toBeGreaterThanOrEqual(minutes3);
    // Told after 5 s (at the try at 6.2 s), every 30 s after, and when it was over (at 3m1.2s).
    expect(told).toEqual([
      "kvmig: lost the API server (connection refused); reconnecting for 6s so far",
      "kvmig: lost the API server (connection refused); reconnecting for 36s so far",
      "kvmig: lost the API server (connection refused); reconnecting for 1m6s so far",
      "kvmig: lost the API server (connection refused); reconnecting for 1m36s so far",
      "kvmig: lost the API server (connection refused); reconnecting for 2m6s so far",
      "kvmig: lost the API server (connection refused); reconnecting for 2m36s so far",
      "kvmig: reconnected after 3m1s",
    ]);
    expect(log[0]).toBe(
      `watch ${what} dropped (connection reset); resuming from resourceVersion 11 in 200ms`,
    );
    expect(log[1]).toBe(
      `watch ${what} dropped (connection refused); resuming from resourceVersion 11 in 400ms`,
    );
  });

  it("a drop reopened at once is no outage: nothing told", async () => {
    const backend = new Backend([page("1", [])], [refused(), { lines: [event("ADDED", "a", "2")] }]);
    const { seen, told, clock } = await run(backend, 2);
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    expect(clock.sleeps).toEqual([200]);
    expect(told).toEqual([]);
  });

  it("answers that may pass (no answer in time, 5xx) are waited out too; 429 is waited out but is no outage", async () => {
    const unavailable = () => {
      const e = new ApiError("the server is restarting", 503, "ServiceUnavailable", 1);
      return e;
    };
    const throttled = new ApiError("too many requests", 429, "TooManyRequests", 1);
    noteFailure(throttled, { retryAfterSeconds: 7 });
    const backend = new Backend(
      [page("1", [])],
      [
        ...Array.from({ length: 4 }, unavailable),
        new TimeoutError("no answer"),
        new TimeoutError("no answer"),
        throttled,
        { lines: [event("ADDED", "a", "2")] },
      ],
    );
    const { seen, told, error, clock } = await run(backend, 2);
    expect(error).toBeUndefined();
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    // The server's Retry-After is honoured (7 s).
    expect(clock.sleeps).toEqual([200, 400, 800, 1600, 3200, 5000, 7000]);
    expect(told).toEqual([
      "kvmig: lost the API server (no answer in time); reconnecting for 6s so far",
      "kvmig: reconnected after 18s",
    ]);
  });

  it("the first list rides out an outage as well, and SYNCED comes once, after it", async () => {
    const backend = new Backend(
      [refused(), new ApiError("etcd timeout", 500, "InternalError", 1), page("3", [obj("a", "3")])],
      [],
    );
    const { seen, clock, error, log } = await run(backend, 2);
    expect(error).toBeUndefined();
    expect(seen).toEqual(["ADDED a@3", "SYNCED@3"]);
    expect(clock.sleeps).toEqual([200, 400]);
    expect(backend.resumedFrom).toEqual(["3"]);
    expect(log).toEqual([
      `watch ${what} dropped (connection refused); resuming from resourceVersion (none yet) in 200ms`,
      `watch ${what} dropped (HTTP 500 InternalError); resuming from resourceVersion (none yet) in 400ms`,
    ]);
  });

  it("a signal that aborts during the outage (the command's --timeout, Ctrl-C) ends the watch quietly, with no reconnect told", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const backend = new Backend([page("1", [])], [], refused());
    backend.onOpen = () => {
      if (backend.resumedFrom.length === 12) controller.abort(new Error("timed out"));
    };
    const { seen, error, told } = await run(backend, 99, { clock, controller });
    expect(error).toBeUndefined();
    expect(seen).toEqual(["SYNCED@1"]);
    expect(backend.resumedFrom).toHaveLength(12);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^kvmig: lost the API server \(connection refused\); reconnecting for/);
  });

  it.each([
    ["403", () => new ApiError("forbidden", 403, "Forbidden", 4), 4],
    ["401", () => new ApiError("Unauthorized", 401, "Unauthorized", 4), 4],
    ["an unknown host", () => networkError("ENOTFOUND", "getaddrinfo ENOTFOUND api.example"), 1],
    ["a certificate kvmig does not trust", () => networkError("SELF_SIGNED_CERT_IN_CHAIN"), 1],
  ])("%s ends it at once, with that error", async (_name, make, exitCode) => {
    const failure = make();
    const backend = new Backend([page("1", [])], [failure]);
    const { error, clock, told } = await run(backend, 99);
    expect(error).toBe(failure);
    expect(exitCodeOf(error)).toBe(exitCode);
    expect(clock.sleeps).toEqual([]);
    expect(told).toEqual([]);
  });

  it("refused before the server ever answered (a wrong address): ends it at once", async () => {
    const never = refused();
    noteFailure(never, { beforeFirstAnswer: true });
    const backend = new Backend([never], []);
    const { error, clock } = await run(backend, 99);
    expect(error).toBe(never);
    expect(clock.sleeps).toEqual([]);
  });

  it.each([
    [
      "an unreachable server",
      () =>
        new ApiUnreachableError("did not answer after 9 tries", 9, 30_000, { hint: "", cause: undefined }),
    ],
    [
      "an error answer on every try",
      () =>
        new RetriesExhaustedApiError(
          "failed after 9 tries",
          new ApiError("restarting", 503, "ServiceUnavailable", 1),
          9,
          30_000,
          "",
        ),
    ],
  ])("a retrier's own final error (%s) is not tried again", async (_name, make) => {
    const final = make();
    const backend = new Backend([page("1", [])], [final]);
    const { error, clock } = await run(backend, 99);
    expect(error).toBe(final);
    expect(clock.sleeps).toEqual([]);
    expect(backend.resumedFrom).toEqual(["1"]);
  });
});

describe("what the stream sends", () => {
  it("a line that is not JSON is skipped with a -v line, and the same stream goes on", async () => {
    const backend = new Backend(
      [page("1", [])],
      [{ lines: ['{"type":"ADDED","object":{"metad', event("ADDED", "a", "2")], after: "hold" }],
    );
    const { seen, log, error, clock } = await run(backend, 2);
    expect(error).toBeUndefined();
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    expect(backend.resumedFrom).toEqual(["1"]);
    expect(clock.sleeps).toEqual([]);
    expect(log).toEqual([
      `watch ${what}: skipped a line that is not a watch event: {"type":"ADDED","object":{"metad`,
    ]);
  });

  it.each([
    ["without an object", JSON.stringify({ type: "ADDED" })],
    ["with a null object", line("MODIFIED", null)],
    ["with an object that is not one", line("ADDED", "mig-a")],
    ["without a type", JSON.stringify({ object: obj("a", "5") })],
    ["of a type that does not exist", event("CHANGED", "a", "5")],
    ["with an object without metadata", line("ADDED", { kind: "VirtualMachineInstanceMigration" })],
    ["that is JSON but no object", "null"],
    ["that is a number", "42"],
  ])("an event %s is skipped with a -v line; the events after it are delivered", async (_name, odd) => {
    const backend = new Backend([page("1", [])], [{ lines: [odd, event("ADDED", "a", "2")], after: "hold" }]);
    const { seen, log, error } = await run(backend, 2);
    expect(error).toBeUndefined();
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    expect(log).toEqual([`watch ${what}: skipped a line that is not a watch event: ${odd.slice(0, 80)}`]);
    expect(backend.opened).toBe(1);
  });

  it("a long odd line is cut to 80 characters in the -v line", async () => {
    const long = `garbage ${"x".repeat(200)}`;
    const backend = new Backend([page("1", [])], [{ lines: [long, event("ADDED", "a", "2")] }]);
    const { log } = await run(backend, 2);
    expect(log).toEqual([`watch ${what}: skipped a line that is not a watch event: ${long.slice(0, 80)}`]);
  });

  it("a stream of nothing but odd lines that ends at once is reopened after a wait, not at once", async () => {
    const backend = new Backend(
      [page("1", [])],
      [{ lines: ["<html>"], after: "end" }, { lines: [event("ADDED", "a", "2")] }],
    );
    const { seen, clock } = await run(backend, 2);
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    expect(clock.sleeps).toEqual([200]);
  });

  it("ERROR 500 is the server failing: the watch resumes from where it was after a wait, without listing again", async () => {
    const backend = new Backend(
      [page("1", [])],
      [
        {
          lines: [event("ADDED", "a", "2"), line("ERROR", status(500, "InternalError", "etcd timeout"))],
        },
        { lines: [event("MODIFIED", "a", "3")] },
      ],
    );
    const { seen, log, clock, error } = await run(backend, 3);
    expect(error).toBeUndefined();
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2", "MODIFIED a@3"]);
    expect(backend.tokens).toEqual([undefined]);
    expect(backend.resumedFrom).toEqual(["1", "2"]);
    expect(clock.sleeps).toEqual([200]);
    expect(log).toEqual([
      `watch ${what} dropped (HTTP 500 InternalError); resuming from resourceVersion 2 in 200ms`,
    ]);
    expect(backend.closed).toBe(2);
  });

  it("ERROR with a Status that has no error code is the server failing too (500)", async () => {
    const backend = new Backend(
      [page("1", [])],
      [
        { lines: [line("ERROR", status(undefined, "", "something broke"))] },
        { lines: [line("ERROR", status(200, "", "not an error code"))] },
        { lines: [line("ERROR", { message: "not a Status" })] },
        { lines: [event("ADDED", "a", "2")] },
      ],
    );
    const { seen, log, error } = await run(backend, 2);
    expect(error).toBeUndefined();
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    expect(log.map((l) => /dropped \((.*)\); resuming/.exec(l)?.[1])).toEqual([
      "HTTP 500",
      "HTTP 500",
      "HTTP 500",
    ]);
  });

  it("ERROR 429 with retryAfterSeconds: waits what the Status asks", async () => {
    const backend = new Backend(
      [page("1", [])],
      [
        {
          lines: [
            line("ERROR", status(429, "TooManyRequests", "slow down", { details: { retryAfterSeconds: 4 } })),
          ],
        },
        { lines: [event("ADDED", "a", "2")] },
      ],
    );
    const { seen, clock } = await run(backend, 2);
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    expect(clock.sleeps).toEqual([4000]);
  });

  it("ERROR 403 ends the watch with the permission that is missing (exit 4), not as an expired version", async () => {
    const backend = new Backend(
      [page("1", [])],
      [
        {
          lines: [
            line(
              "ERROR",
              status(
                403,
                "Forbidden",
                'virtualmachineinstancemigrations.kubevirt.io is forbidden: User "dev" cannot watch',
              ),
            ),
          ],
        },
      ],
    );
    const { error, clock } = await run(backend, 99);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(403);
    expect((error as ApiError).message).toBe(
      'virtualmachineinstancemigrations.kubevirt.io is forbidden: User "dev" cannot watch',
    );
    expect(exitCodeOf(error)).toBe(4);
    expect((error as ApiError).hint).toMatch(
      /^you are not allowed to watch virtualmachineinstancemigrations\.kubevirt\.io in namespace "vms"; /,
    );
    expect(backend.tokens).toEqual([undefined]);
    expect(clock.sleeps).toEqual([]);
    expect(backend.closed).toBe(1);
  });

  it("ERROR 410 lists again at once and delivers only the difference", async () => {
    const backend = new Backend(
      [page("10", [obj("a", "8"), obj("b", "9")]), page("20", [obj("a", "16"), obj("c", "18")])],
      [
        {
          lines: [
            event("MODIFIED", "a", "11"),
            line("ERROR", status(410, "Expired", "too old resource version: 11 (15)")),
          ],
        },
        { lines: [event("ADDED", "d", "21")] },
      ],
    );
    const { seen, log, clock } = await run(backend, 8);
    expect(seen).toEqual([
      "ADDED a@8",
      "ADDED b@9",
      "SYNCED@10",
      "MODIFIED a@11",
      "MODIFIED a@16",
      "ADDED c@18",
      "DELETED b@9",
      "ADDED d@21",
    ]);
    expect(backend.resumedFrom).toEqual(["10", "20"]);
    expect(clock.sleeps).toEqual([]);
    expect(log).toEqual([`watch ${what}: resourceVersion 11 expired (410 Gone); listing again`]);
  });

  it("a second 410 in a row waits before listing again; a 410 after an event does not", async () => {
    const gone = () => new ApiError("too old resource version", 410, "Expired", 1);
    const backend = new Backend(
      [page("10", []), page("20", []), page("30", []), page("40", [obj("a", "31")])],
      [
        gone(),
        gone(),
        { lines: [event("ADDED", "a", "31")], after: gone() },
        { lines: [event("ADDED", "b", "41")] },
      ],
    );
    const { seen, clock } = await run(backend, 3);
    expect(seen).toEqual(["SYNCED@10", "ADDED a@31", "ADDED b@41"]);
    expect(backend.resumedFrom).toEqual(["10", "20", "30", "40"]);
    expect(clock.sleeps).toEqual([200]);
  });

  it("a bookmark moves the resourceVersion on and is not delivered", async () => {
    const backend = new Backend(
      [page("3", [obj("a", "3")])],
      [
        {
          lines: [line("BOOKMARK", { kind: "X", metadata: { resourceVersion: "30" } })],
          ends: () => {},
          after: "end",
        },
        { lines: [event("MODIFIED", "a", "31")] },
      ],
    );
    const { seen } = await run(backend, 3);
    expect(seen).toEqual(["ADDED a@3", "SYNCED@3", "MODIFIED a@31"]);
    expect(backend.resumedFrom).toEqual(["3", "30"]);
  });

  it("an event without a resourceVersion keeps the one before for the resume", async () => {
    const backend = new Backend(
      [page("3", [])],
      [
        { lines: [line("ADDED", { metadata: { name: "a", namespace: "vms" } })], after: refused() },
        { lines: [event("ADDED", "b", "5")] },
      ],
    );
    const { seen } = await run(backend, 3);
    expect(seen).toEqual(["SYNCED@3", "ADDED a@undefined", "ADDED b@5"]);
    expect(backend.resumedFrom).toEqual(["3", "3"]);
  });
});

describe("the server ending the stream", () => {
  it("a stream that lasted is reopened at once; one that ended at once with nothing, after a growing wait", async () => {
    const clock = new FakeClock();
    const backend = new Backend(
      [page("1", [])],
      [
        { lines: [], after: "end" },
        { lines: [], after: "end" },
        { lines: [], after: "end", ends: () => clock.advance(1000) },
        { lines: [event("ADDED", "a", "2")], after: "end" },
        { lines: [], after: "end" },
        { lines: [event("ADDED", "b", "3")] },
      ],
    );
    const { seen, log } = await run(backend, 3, { clock });
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2", "ADDED b@3"]);
    // The third lasted 1 s: no wait; the fifth follows an event, so the backoff starts again.
    expect(clock.sleeps).toEqual([200, 400, 200]);
    expect(log[0]).toBe(`watch ${what}: the server ended the stream at once; reopening in 200ms`);
    expect(backend.resumedFrom).toEqual(["1", "1", "1", "1", "2", "2"]);
  });
});

describe("a 410 while paging the list", () => {
  it("the list starts over without the continue token, and every object comes once", async () => {
    const gone = new ApiError("The provided continue parameter is too old", 410, "Expired", 1);
    const backend = new Backend(
      [
        page("10", [obj("a", "8")], "t2"),
        gone,
        page("12", [obj("a", "8")], "u2"),
        page("12", [obj("b", "11")]),
      ],
      [],
    );
    const { seen, clock } = await run(backend, 3);
    expect(seen).toEqual(["ADDED a@8", "ADDED b@11", "SYNCED@12"]);
    expect(backend.tokens).toEqual([undefined, "t2", undefined, "u2"]);
    expect(backend.resumedFrom).toEqual(["12"]);
    expect(clock.sleeps).toEqual([]);
  });

  it("a token that keeps expiring: three tries a list, then the loop's own 410 handling (a wait the second time)", async () => {
    const gone = () => new ApiError("too old", 410, "Expired", 1);
    const tries = Array.from({ length: 6 }, () => [page("10", [], "t2"), gone()]).flat();
    const backend = new Backend([...tries, page("50", [])], []);
    const { seen, clock } = await run(backend, 1);
    expect(seen).toEqual(["SYNCED@50"]);
    expect(backend.tokens).toEqual([...Array.from({ length: 6 }, () => [undefined, "t2"]).flat(), undefined]);
    expect(clock.sleeps).toEqual([200]);
  });

  it("another error while paging is not taken for an expired token", async () => {
    const backend = new Backend([page("10", [], "t2"), new ApiError("forbidden", 403, "Forbidden", 4)], []);
    const { error } = await run(backend, 99);
    expect((error as ApiError).status).toBe(403);
    expect(backend.tokens).toEqual([undefined, "t2"]);
  });
});

describe("nothing delivered twice", () => {
  it("a replayed event at a version already delivered is not a change; a new version is", async () => {
    const backend = new Backend(
      [page("3", [obj("a", "3")])],
      [{ lines: [event("MODIFIED", "a", "3"), event("ADDED", "a", "3"), event("MODIFIED", "a", "4")] }],
    );
    expect((await run(backend, 3)).seen).toEqual(["ADDED a@3", "SYNCED@3", "MODIFIED a@4"]);
  });

  it("a DELETED for an object never delivered is not delivered; an object deleted and made again is ADDED", async () => {
    const backend = new Backend(
      [page("3", [obj("a", "3")])],
      [
        {
          lines: [
            event("DELETED", "ghost", "4"),
            event("DELETED", "a", "5"),
            event("DELETED", "a", "5"),
            event("ADDED", "a", "6"),
            event("MODIFIED", "b", "7"),
          ],
        },
      ],
    );
    expect((await run(backend, 5)).seen).toEqual([
      "ADDED a@3",
      "SYNCED@3",
      "DELETED a@5",
      "ADDED a@6",
      "ADDED b@7",
    ]);
  });

  it("after a 410, what was deleted in the stream is not deleted again, and what did not change is not repeated", async () => {
    const backend = new Backend(
      [
        page("3", [obj("a", "3"), obj("b", "3"), obj("c", "3")]),
        // a deleted (seen in the stream), b unchanged, c changed while away, d new.
        page("9", [obj("b", "3"), obj("c", "8"), obj("d", "9")]),
      ],
      [
        {
          lines: [event("DELETED", "a", "4"), line("ERROR", status(410, "Expired", "too old"))],
        },
        { lines: [event("DELETED", "b", "10")] },
      ],
    );
    expect((await run(backend, 8)).seen).toEqual([
      "ADDED a@3",
      "ADDED b@3",
      "ADDED c@3",
      "SYNCED@3",
      "DELETED a@4",
      "MODIFIED c@8",
      "ADDED d@9",
      "DELETED b@10",
    ]);
  });

  it("objects of the same name in two namespaces are two objects", async () => {
    const inNs = (ns: string, rv: string) => ({
      metadata: { name: "a", namespace: ns, resourceVersion: rv },
    });
    const backend = new Backend(
      [page("3", [inNs("x", "1"), inNs("y", "2")])],
      [{ lines: [line("DELETED", inNs("x", "4")), line("MODIFIED", inNs("y", "2"))] }],
    );
    const { seen } = await run(backend, 4);
    expect(seen).toEqual(["ADDED a@1", "ADDED a@2", "SYNCED@3", "DELETED a@4"]);
  });
});

describe("the stream is closed", () => {
  it("when the consumer stops reading", async () => {
    const backend = new Backend([page("1", [])], [{ lines: [event("ADDED", "a", "2")], after: "hold" }]);
    const generator = listThenWatch(backend, {
      signal: new AbortController().signal,
      clock: new FakeClock(),
      what,
      retry: streakOn(new FakeClock()),
      request,
    });
    const seen: string[] = [];
    for await (const update of generator) {
      seen.push(summary(update));
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    expect(backend.closed).toBe(1);
  });

  it("when the signal aborts while it is idle: the watch ends quietly", async () => {
    const controller = new AbortController();
    const backend = new Backend([page("1", [])], [{ lines: [], after: "hold" }]);
    setTimeout(() => controller.abort(), 20);
    const { seen, error } = await run(backend, 99, { controller });
    expect(error).toBeUndefined();
    expect(seen).toEqual(["SYNCED@1"]);
    expect(backend.closed).toBe(1);
    expect(backend.opened).toBe(1);
  });

  it("when it fails, and when the server ends it", async () => {
    const backend = new Backend(
      [page("1", [])],
      [
        { lines: [], after: refused() },
        { lines: [event("ADDED", "a", "2")], after: "end" },
        { lines: [], after: "hold" },
      ],
    );
    await run(backend, 2);
    expect(backend.opened).toBe(2);
    expect(backend.closed).toBe(2);
  });
});

describe("Ctrl-C during a request", () => {
  it("while the watch request is on its way: ends quietly, nothing retried", async () => {
    const controller = new AbortController();
    const backend = new Backend([page("1", [])], [], refused());
    backend.onOpen = () => controller.abort(new Error("interrupted"));
    const { seen, error, clock, told } = await run(backend, 99, { controller });
    expect(error).toBeUndefined();
    expect(seen).toEqual(["SYNCED@1"]);
    expect(backend.resumedFrom).toEqual(["1"]);
    expect(clock.sleeps).toEqual([]);
    expect(told).toEqual([]);
  });

  it("while the list is on its way: ends quietly, nothing retried, no SYNCED", async () => {
    const controller = new AbortController();
    const backend = new Backend([], []);
    backend.listPage = async () => {
      controller.abort(new Error("interrupted"));
      throw refused();
    };
    const { seen, error, clock } = await run(backend, 99, { controller });
    expect(error).toBeUndefined();
    expect(seen).toEqual([]);
    expect(clock.sleeps).toEqual([]);
  });

  it("a signal aborted before the start: nothing is asked", async () => {
    const controller = new AbortController();
    controller.abort();
    const backend = new Backend([page("1", [])], []);
    const { seen } = await run(backend, 99, { controller });
    expect(seen).toEqual([]);
    expect(backend.tokens).toEqual([]);
  });
});

describe("more odd cases", () => {
  it("without a -v log or an outage to tell: the same updates, through a relist, a skipped line, quick ends and drops", async () => {
    const backend = new Backend(
      [page("1", [obj("a", "1")]), page("5", [obj("a", "4")])],
      [
        { lines: ["not json"], after: "end" },
        refused(),
        { lines: [event("MODIFIED", "a", "2"), line("ERROR", status(410, "Expired", "too old"))] },
        { lines: [event("MODIFIED", "a", "6")] },
      ],
    );
    const { seen, error, log, told, clock } = await run(backend, 5, { quiet: true });
    expect(error).toBeUndefined();
    expect(seen).toEqual(["ADDED a@1", "SYNCED@1", "MODIFIED a@2", "MODIFIED a@4", "MODIFIED a@6"]);
    expect(log).toEqual([]);
    expect(told).toEqual([]);
    expect(clock.sleeps).toEqual([200, 400]);
  });

  it("a stream that ends cleanly because the signal aborted is not taken for one the server ended", async () => {
    const controller = new AbortController();
    const backend = new Backend([page("1", [])], [{ lines: [], after: "hold-end" }]);
    setTimeout(() => controller.abort(), 20);
    const { seen, log, error, clock } = await run(backend, 99, { controller });
    expect(error).toBeUndefined();
    expect(seen).toEqual(["SYNCED@1"]);
    expect(log).toEqual([]);
    expect(clock.sleeps).toEqual([]);
    expect(backend.opened).toBe(1);
  });

  it("Ctrl-C during the wait between two tries: the watch ends quietly, with no try after", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const backend = new Backend([page("1", [])], [], refused());
    const generator = listThenWatch(backend, {
      signal: controller.signal,
      clock,
      log: () => controller.abort(new Error("interrupted")),
      what,
      retry: streakOn(clock),
      request,
    });
    backend.signal = controller.signal;
    const seen: string[] = [];
    for await (const update of generator) seen.push(summary(update));
    expect(seen).toEqual(["SYNCED@1"]);
    expect(backend.resumedFrom).toEqual(["1"]);
    expect(clock.sleeps).toEqual([]);
  });

  it("429 for longer than 5 s is waited out but told as no outage, whatever carried it", async () => {
    const throttled = () => new ApiError("too many requests", 429, "TooManyRequests", 1);
    const page429 = () => {
      const e = new ConnectionError("a proxy's page");
      noteFailure(e, { status: 429 });
      return e;
    };
    const backend = new Backend(
      [page("1", [])],
      [
        ...Array.from({ length: 4 }, throttled),
        ...Array.from({ length: 4 }, page429),
        { lines: [event("ADDED", "a", "2")] },
      ],
    );
    const { seen, told, clock } = await run(backend, 2);
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    expect(sum(clock.sleeps)).toBeGreaterThan(10_000);
    expect(told).toEqual([]);
  });

  it("what a relist found deleted is not deleted again by the next relist", async () => {
    const gone = () => line("ERROR", status(410, "Expired", "too old"));
    const backend = new Backend(
      [page("3", [obj("a", "3"), obj("b", "3")]), page("6", [obj("a", "3")]), page("9", [obj("a", "7")])],
      [
        { lines: [gone()] },
        { lines: [event("MODIFIED", "a", "7"), gone()] },
        { lines: [event("ADDED", "c", "10")] },
      ],
    );
    const { seen } = await run(backend, 6);
    expect(seen).toEqual(["ADDED a@3", "ADDED b@3", "SYNCED@3", "DELETED b@3", "MODIFIED a@7", "ADDED c@10"]);
  });

  it("a list without a resourceVersion: the watch starts from none (the server's now)", async () => {
    const backend = new Backend(
      [{ metadata: {}, items: [obj("a", "3")] }],
      [{ lines: [event("ADDED", "a", "3"), event("MODIFIED", "a", "4")] }],
    );
    const { seen } = await run(backend, 3);
    expect(seen).toEqual(["ADDED a@3", "SYNCED@", "MODIFIED a@4"]);
    expect(backend.resumedFrom).toEqual([""]);
  });

  it("an event whose metadata is null is skipped", async () => {
    const odd = line("ADDED", { metadata: null });
    const backend = new Backend([page("1", [])], [{ lines: [odd, event("ADDED", "a", "2")] }]);
    const { seen, log } = await run(backend, 2);
    expect(seen).toEqual(["SYNCED@1", "ADDED a@2"]);
    expect(log).toEqual([`watch ${what}: skipped a line that is not a watch event: ${odd}`]);
  });

  it("ERROR 400 is the server refusing the request: it ends the watch, not waited out as a failure", async () => {
    const backend = new Backend(
      [page("1", [])],
      [{ lines: [line("ERROR", status(400, "BadRequest", "bad fieldSelector"))] }],
    );
    const { error, clock } = await run(backend, 99);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toBe("bad fieldSelector");
    expect(clock.sleeps).toEqual([]);
  });
});
