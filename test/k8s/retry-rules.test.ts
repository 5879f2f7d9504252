// The retry rules of src/k8s/retry.ts without a network: which failures are tried again, how long
// kvmig waits (Retry-After as seconds, as an HTTP date, as 0), when the budget starts and ends,
// Ctrl-C during a request, and a retrier's own final error, which no outer loop tries again.
import { describe, expect, it } from "vitest";
import { ApiError, ConnectionError, exitCodeOf, KvmigError, TimeoutError } from "../../src/errors.js";
import type { RequestInfo } from "../../src/k8s/api-errors.js";
import {
  ApiUnreachableError,
  budgetFor,
  classify,
  defaultRetryPolicy,
  exhaustedError,
  failureFacts,
  formatSeconds,
  isOutcomeUnknown,
  noteFailure,
  Retrier,
  RetriesExhaustedApiError,
  type RetryPolicy,
  RetryStreak,
  requestLabel,
  serverWaitMs,
  shortReason,
  WriteOutcomeUnknownError,
} from "../../src/k8s/retry.js";
import { FakeClock } from "../helpers/fake-clock.js";

/** No jitter: each wait is its whole step. */
const policy: RetryPolicy = { ...defaultRetryPolicy, random: () => 1 };

const info: RequestInfo = {
  method: "GET",
  path: "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances?limit=500",
  server: "https://10.0.0.1:6443",
  context: "lab",
};

function networkError(code: string, message = `connect ${code}`): ConnectionError {
  return new ConnectionError(`cannot reach the API server: ${message}`, {
    cause: Object.assign(new Error(message), { code }),
  });
}

const unavailable = () => new ApiError("the server is restarting", 503, "ServiceUnavailable", 1);

function retrier(clock = new FakeClock(), overrides: Partial<RetryPolicy> = {}) {
  const log: string[] = [];
  return {
    clock,
    log,
    retrier: new Retrier({ clock, log: (l) => log.push(l), policy: { ...policy, ...overrides } }),
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
}

describe("Retry-After", () => {
  const clock = new FakeClock();
  const waitFor = (facts: Parameters<typeof noteFailure>[1], p: RetryPolicy = policy) => {
    const error = unavailable();
    noteFailure(error, facts);
    return serverWaitMs(error, clock, p);
  };

  it("in seconds, with spaces around", () => {
    expect(waitFor({ retryAfterHeader: " 7 " })).toBe(7_000);
  });

  it("0 asks for no wait: kvmig's own backoff applies, never a tight loop", () => {
    expect(waitFor({ retryAfterHeader: "0" })).toBeUndefined();
    expect(waitFor({ retryAfterSeconds: 0 })).toBeUndefined();
  });

  it("as an HTTP date: the time until then, by kvmig's clock", () => {
    const in7s = new Date(clock.now() + 7_000).toUTCString();
    expect(waitFor({ retryAfterHeader: in7s })).toBe(7_000);
  });

  it("a date already past asks for no wait; a date far ahead waits the cap", () => {
    expect(waitFor({ retryAfterHeader: new Date(clock.now() - 60_000).toUTCString() })).toBeUndefined();
    expect(waitFor({ retryAfterHeader: new Date(clock.now() + 600_000).toUTCString() })).toBe(30_000);
    expect(waitFor({ retryAfterHeader: "600" }, { ...policy, maxRetryAfterMs: 10_000 })).toBe(10_000);
  });

  it("neither a number nor a date, or empty: the Status' retryAfterSeconds if any, else nothing", () => {
    expect(waitFor({ retryAfterHeader: "soon" })).toBeUndefined();
    expect(waitFor({ retryAfterHeader: "1.5" })).toBeUndefined();
    expect(waitFor({ retryAfterHeader: "  " })).toBeUndefined();
    expect(waitFor({ retryAfterHeader: "soon", retryAfterSeconds: 3 })).toBe(3_000);
    expect(waitFor({ retryAfterSeconds: 120 })).toBe(30_000);
  });

  it("the header wins over the Status' retryAfterSeconds", () => {
    expect(waitFor({ retryAfterHeader: "2", retryAfterSeconds: 9 })).toBe(2_000);
  });

  it("nothing asked: nothing", () => {
    expect(waitFor({})).toBeUndefined();
    expect(serverWaitMs(new Error("x"), clock, policy)).toBeUndefined();
  });
});

describe("RetryStreak", () => {
  it("backoff: 200 ms doubling to 5 s; jitter between half and all of each step", () => {
    const steps = (random: () => number) => {
      const streak = new RetryStreak(new FakeClock(), {
        ...policy,
        random,
        budgetMs: Number.POSITIVE_INFINITY,
      });
      return Array.from({ length: 8 }, () => streak.next(undefined)?.waitMs);
    };
    expect(steps(() => 1)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(steps(() => 0)).toEqual([100, 200, 400, 800, 1600, 2500, 2500, 2500]);
    expect(steps(() => 0.5)).toEqual([150, 300, 600, 1200, 2400, 3750, 3750, 3750]);
  });

  it("a server's wait replaces the backoff (which still grows), and says it was asked", () => {
    const streak = new RetryStreak(new FakeClock(), policy);
    expect(streak.next(7_000)).toEqual({ waitMs: 7_000, asked: true });
    expect(streak.next(undefined)).toEqual({ waitMs: 400, asked: false });
  });

  it("without begin(), the budget starts at the first failure", () => {
    const clock = new FakeClock();
    const streak = new RetryStreak(clock, { ...policy, budgetMs: 1_000 });
    clock.advance(60_000);
    expect(streak.elapsedMs()).toBe(0);
    expect(streak.next(undefined)).toEqual({ waitMs: 200, asked: false });
    clock.advance(200);
    expect(streak.elapsedMs()).toBe(200);
    // 200 + 400 <= 1000: one more; then 600 + 800 > 1000: spent.
    expect(streak.next(undefined)?.waitMs).toBe(400);
    clock.advance(400);
    expect(streak.next(undefined)).toBeUndefined();
    expect(streak.failures).toBe(3);
  });

  it("with begin(), the time before the first failure counts", () => {
    const clock = new FakeClock();
    const streak = new RetryStreak(clock, { ...policy, budgetMs: 1_000 });
    streak.begin();
    clock.advance(700);
    streak.begin();
    expect(streak.elapsedMs()).toBe(700);
    expect(streak.next(undefined)?.waitMs).toBe(200);
    clock.advance(200);
    // 900 + 400 > 1000.
    expect(streak.next(undefined)).toBeUndefined();
  });

  it("always two tries, even when the first took the whole budget; the wait that ends exactly at the budget is allowed", () => {
    const clock = new FakeClock();
    const streak = new RetryStreak(clock, { ...policy, budgetMs: 600 });
    streak.begin();
    clock.advance(5_000);
    expect(streak.next(undefined)?.waitMs).toBe(200);
    const exact = new RetryStreak(clock, { ...policy, budgetMs: 600 });
    expect(exact.next(undefined)?.waitMs).toBe(200);
    clock.advance(200);
    expect(exact.next(undefined)?.waitMs).toBe(400);
  });

  it("nextWait (a follow) never gives up, and reset() starts the backoff and the count again", () => {
    const clock = new FakeClock();
    const streak = new RetryStreak(clock, policy);
    let last = 0;
    for (let i = 0; i < 100; i++) {
      last = streak.nextWait(undefined).waitMs;
      clock.advance(last);
    }
    expect(last).toBe(5_000);
    expect(streak.failures).toBe(100);
    expect(streak.nextWait(3_000)).toEqual({ waitMs: 3_000, asked: true });
    streak.reset();
    expect(streak.failures).toBe(0);
    expect(streak.elapsedMs()).toBe(0);
    expect(streak.nextWait(undefined)).toEqual({ waitMs: 200, asked: false });
  });
});

describe("Retrier.run", () => {
  it("tries again what may pass, with the -v log of each try; returns the answer", async () => {
    const { retrier: r, clock, log } = retrier();
    let tries = 0;
    const answer = await r.run(info, "read", undefined, async () => {
      tries += 1;
      if (tries === 1) throw unavailable();
      if (tries === 2) {
        const e = unavailable();
        noteFailure(e, { retryAfterHeader: "3" });
        throw e;
      }
      return "ok";
    });
    expect(answer).toBe("ok");
    expect(clock.sleeps).toEqual([200, 3_000]);
    expect(log).toEqual([
      `GET ${info.path}: try 1 failed (HTTP 503 ServiceUnavailable); retrying in 200ms`,
      `GET ${info.path}: try 2 failed (HTTP 503 ServiceUnavailable); retrying in 3000ms as the server asked (Retry-After)`,
    ]);
  });

  it("the budget starts before the first try: a first try that hung for 29.9 s leaves room for one more, not for a streak", async () => {
    const { retrier: r, clock, log } = retrier();
    let tries = 0;
    const error = await failure(
      r.run(info, "read", undefined, async () => {
        tries += 1;
        if (tries === 1) clock.advance(29_900);
        throw unavailable();
      }),
    );
    expect(tries).toBe(2);
    expect(clock.sleeps).toEqual([200]);
    expect(error).toBeInstanceOf(RetriesExhaustedApiError);
    expect((error as RetriesExhaustedApiError).tries).toBe(2);
    expect((error as RetriesExhaustedApiError).elapsedMs).toBe(30_100);
    expect(log.at(-1)).toBe(
      `GET ${info.path}: giving up after 2 tries over 30s (HTTP 503 ServiceUnavailable)`,
    );
  });

  it("the whole budget: no try starts more than 30 s after the first", async () => {
    const { retrier: r, clock } = retrier();
    let tries = 0;
    const error = await failure(
      r.run(info, "read", undefined, async () => {
        tries += 1;
        throw unavailable();
      }),
    );
    // 200 + 400 + 800 + 1600 + 3200 + 5000 × 3 = 21.2 s; one more 5 s wait: 26.2 s; the next: past 30 s.
    expect(clock.sleeps).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
    expect(tries).toBe(10);
    expect((error as RetriesExhaustedApiError).tries).toBe(10);
    expect(exitCodeOf(error)).toBe(1);
  });

  it("Ctrl-C while a request is on its way: its error comes out as it is, not tried again, no wait", async () => {
    const { retrier: r, clock, log } = retrier();
    const controller = new AbortController();
    const cut = networkError("ECONNRESET", "aborted");
    let tries = 0;
    const error = await failure(
      r.run(info, "read", controller.signal, async () => {
        tries += 1;
        controller.abort(new Error("interrupted"));
        throw cut;
      }),
    );
    expect(error).toBe(cut);
    expect(tries).toBe(1);
    expect(clock.sleeps).toEqual([]);
    expect(log).toEqual([]);
  });

  it("Ctrl-C during the wait: the wait ends with the interrupt", async () => {
    const controller = new AbortController();
    const clock = new FakeClock();
    const aborting = new Retrier({
      clock: {
        now: () => clock.now(),
        sleep: async (ms, signal) => {
          controller.abort(new Error("interrupted"));
          return clock.sleep(ms, signal);
        },
      },
      policy,
    });
    const error = await failure(
      aborting.run(info, "read", controller.signal, async () => {
        throw unavailable();
      }),
    );
    expect((error as Error).message).toBe("interrupted");
  });

  it.each([
    ["an unreachable server", () => new ApiUnreachableError("x", 9, 30_000, { hint: "h", cause: undefined })],
    ["an error answer on every try", () => new RetriesExhaustedApiError("x", unavailable(), 9, 30_000, "h")],
    [
      "a write whose outcome is unknown",
      () => new WriteOutcomeUnknownError("x", "POST", "/p", { hint: "h", cause: undefined }),
    ],
  ])("a retrier's own final error (%s) is not tried again by an outer one", async (_name, make) => {
    const { retrier: r, clock } = retrier();
    const final = make();
    let tries = 0;
    const error = await failure(
      r.run(info, "read", undefined, async () => {
        tries += 1;
        throw final;
      }),
    );
    expect(error).toBe(final);
    expect(tries).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("a request inside a request: the inner one's final error ends both; no try more than the inner budget", async () => {
    const clock = new FakeClock();
    const outer = retrier(clock).retrier;
    const inner = retrier(clock).retrier;
    let tries = 0;
    const error = await failure(
      outer.run(info, "read", undefined, () =>
        inner.run(info, "read", undefined, async () => {
          tries += 1;
          throw networkError("ECONNREFUSED");
        }),
      ),
    );
    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect(tries).toBe(10);
    expect(clock.sleeps).toHaveLength(9);
  });

  it("its policy is the one it was given", () => {
    expect(retrier().retrier.policy).toEqual(policy);
  });

  it("without a -v log: the same errors, nothing else", async () => {
    const clock = new FakeClock();
    const quiet = new Retrier({ clock, policy });
    const sent = await failure(
      quiet.run({ ...info, method: "POST" }, "write", undefined, async () => {
        throw networkError("ECONNRESET", "read ECONNRESET");
      }),
    );
    expect(sent).toBeInstanceOf(WriteOutcomeUnknownError);
    const spent = await failure(
      quiet.run(info, "read", undefined, async () => {
        throw unavailable();
      }),
    );
    expect(spent).toBeInstanceOf(RetriesExhaustedApiError);
  });

  it("a write that may have arrived: not sent again; the error says so and how to check", async () => {
    const { retrier: r, clock, log } = retrier();
    const post = {
      ...info,
      method: "POST",
      path: "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations?dryRun=All",
    };
    let tries = 0;
    const error = await failure(
      r.run(post, "write", undefined, async () => {
        tries += 1;
        throw networkError("ECONNRESET", "read ECONNRESET");
      }),
    );
    expect(tries).toBe(1);
    expect(clock.sleeps).toEqual([]);
    expect(isOutcomeUnknown(error)).toBe(true);
    const unknown = error as WriteOutcomeUnknownError;
    expect(unknown.message).toBe(
      'POST /apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations may or may not have been done: the API server at https://10.0.0.1:6443 (context "lab") gave no clear answer (connection reset)',
    );
    expect(unknown.method).toBe("POST");
    expect(unknown.path).toBe("/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations");
    expect(unknown.hint).toBe(
      "kvmig did not send it again, as that could do it twice; check with: kubectl get virtualmachineinstancemigrations.kubevirt.io -n vms",
    );
    expect(log).toEqual([
      "POST /apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations?dryRun=All: not sent again, it may have reached the server (connection reset)",
    ]);
  });

  it.each([
    [
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/db/migrate",
      "look for a new migration with: kubectl get vmim -n vms -l kubevirt.io/vmi-name=db",
    ],
    [
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/db/restart",
      "see whether the VMI was restarted (a new creation time) with: kubectl get vmi db -n vms",
    ],
    [
      "DELETE",
      "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations/mig-1",
      "check with: kubectl get virtualmachineinstancemigrations.kubevirt.io mig-1 -n vms",
    ],
    [
      "DELETE",
      "/api/v1/namespaces/vms/pods/virt-launcher-db-x",
      "check with: kubectl get pods virt-launcher-db-x -n vms",
    ],
    ["PATCH", "/api/v1/nodes/node-1", "check with: kubectl get nodes node-1"],
    ["PATCH", "/api/v1/namespaces/vms/pods/p/status", "check with: kubectl get pods -n vms"],
    ["POST", "/healthz", "check the cluster's state before running again"],
    [
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/db/start",
      "check with: kubectl get virtualmachines.subresources.kubevirt.io -n vms",
    ],
    [
      "PUT",
      "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances/db/migrate",
      "check with: kubectl get virtualmachineinstances.kubevirt.io -n vms",
    ],
    [
      "PUT",
      "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances/db/restart",
      "check with: kubectl get virtualmachineinstances.kubevirt.io -n vms",
    ],
  ])("how to check a %s of %s", async (method, path, check) => {
    const { retrier: r } = retrier();
    const error = await failure(
      r.run({ ...info, method, path }, "write", undefined, async () => {
        throw new TimeoutError("no answer");
      }),
    );
    expect((error as KvmigError).hint).toBe(
      `kvmig did not send it again, as that could do it twice; ${check}`,
    );
  });
});

describe("classify", () => {
  const withFacts = <E extends object>(error: E, facts: Parameters<typeof noteFailure>[1]): E => {
    noteFailure(error, facts);
    return error;
  };
  const api = (status: number) => new ApiError("x", status, undefined, 1);

  it.each([
    ["429, a read", api(429), "read", { retry: true }],
    ["429, a write", api(429), "write", { retry: true }],
    ["500, a read", api(500), "read", { retry: true }],
    ["500, a write: the server's error", api(500), "write", { retry: false, outcomeUnknown: false }],
    ["503, a write", api(503), "write", { retry: false, outcomeUnknown: false }],
    ["502, a write: a gateway cannot say", api(502), "write", { retry: false, outcomeUnknown: true }],
    ["504, a write", api(504), "write", { retry: false, outcomeUnknown: true }],
    ["404", api(404), "read", { retry: false, outcomeUnknown: false }],
    ["410", api(410), "read", { retry: false, outcomeUnknown: false }],
    ["403", api(403), "read", { retry: false, outcomeUnknown: false }],
    [
      "a proxy's 503 page (no ApiError, its status noted)",
      withFacts(new KvmigError("a web page"), { status: 503 }),
      "read",
      { retry: true },
    ],
    ["no answer in time, a read", new TimeoutError("t"), "read", { retry: true }],
    [
      "no answer in time, a write never sent",
      withFacts(new TimeoutError("t"), { notSent: true }),
      "write",
      { retry: true },
    ],
    [
      "no answer in time, a write sent",
      new TimeoutError("t"),
      "write",
      { retry: false, outcomeUnknown: true },
    ],
    ["an unknown host", networkError("ENOTFOUND"), "read", { retry: false, outcomeUnknown: false }],
    [
      "a certificate not trusted",
      networkError("CERT_HAS_EXPIRED"),
      "read",
      { retry: false, outcomeUnknown: false },
    ],
    [
      "refused before any answer",
      withFacts(networkError("ECONNREFUSED"), { beforeFirstAnswer: true }),
      "read",
      { retry: false, outcomeUnknown: false },
    ],
    [
      "network unreachable before any answer",
      withFacts(networkError("ENETUNREACH"), { beforeFirstAnswer: true }),
      "read",
      { retry: false, outcomeUnknown: false },
    ],
    [
      "host unreachable before any answer",
      withFacts(networkError("EHOSTUNREACH"), { beforeFirstAnswer: true }),
      "read",
      { retry: false, outcomeUnknown: false },
    ],
    [
      "reset before any answer",
      withFacts(networkError("ECONNRESET"), { beforeFirstAnswer: true }),
      "read",
      { retry: true },
    ],
    ["refused after an answer, a read", networkError("ECONNREFUSED"), "read", { retry: true }],
    [
      "refused, a write never sent",
      withFacts(networkError("ECONNREFUSED"), { notSent: true }),
      "write",
      { retry: true },
    ],
    ["reset, a write sent", networkError("ECONNRESET"), "write", { retry: false, outcomeUnknown: true }],
    [
      "a connection error without a code",
      new ConnectionError("lost", { cause: new Error("x") }),
      "read",
      { retry: true },
    ],
    ["anything else", new Error("a bug"), "read", { retry: false, outcomeUnknown: false }],
    [
      "a retrier's final error",
      new ApiUnreachableError("x", 2, 1, { hint: "", cause: undefined }),
      "read",
      { retry: false, outcomeUnknown: false },
    ],
  ] as const)("%s", (_name, error, kind, verdict) => {
    expect(classify(error, kind)).toEqual({ ...verdict, reason: shortReason(error) });
  });
});

describe("shortReason", () => {
  it.each([
    [new ApiError("x", 503, "ServiceUnavailable", 1), "HTTP 503 ServiceUnavailable"],
    [new ApiError("x", 502, undefined, 1), "HTTP 502"],
    [new TimeoutError("t"), "no answer in time"],
    [
      (() => {
        const e = new TimeoutError("t");
        noteFailure(e, { timeoutMs: 1_500 });
        return e;
      })(),
      "no answer within 1.5s",
    ],
    [networkError("ECONNREFUSED"), "connection refused"],
    [networkError("ECONNRESET", "socket hang up"), "connection closed (socket hang up)"],
    [
      networkError(
        "ECONNRESET",
        "Client network socket disconnected before secure TLS connection was established",
      ),
      "connection reset during the TLS handshake",
    ],
    [networkError("ECONNRESET", "read ECONNRESET"), "connection reset"],
    [networkError("EPIPE", "socket hang up"), "connection broken (EPIPE)"],
    [
      networkError(
        "ETIMEDOUT",
        "Client network socket disconnected before secure TLS connection was established",
      ),
      "connection timed out",
    ],
    [networkError("EPIPE"), "connection broken (EPIPE)"],
    [networkError("ETIMEDOUT"), "connection timed out"],
    [networkError("EHOSTUNREACH"), "host unreachable"],
    [networkError("ENETUNREACH"), "network unreachable"],
    [networkError("EAI_AGAIN"), "name lookup failed for now (EAI_AGAIN)"],
    [networkError("EWEIRD", "something odd"), "something odd"],
    [new ConnectionError("the stream sent nothing for 0.2s"), "the stream sent nothing for 0.2s"],
    ["a string", "a string"],
  ])("%s", (error, reason) => {
    expect(shortReason(error)).toBe(reason);
  });
});

describe("the final error", () => {
  const where = 'the API server at https://10.0.0.1:6443 (context "lab")';

  it("after error answers: the request, how often, how long, and the last answer with its status; the answer's hint", () => {
    const last = new ApiError("the server is restarting", 503, "ServiceUnavailable", 1, { hint: "wait" });
    const error = exhaustedError(last, "GET /x", info, 4, 12_000);
    expect(error).toBeInstanceOf(RetriesExhaustedApiError);
    expect(error.message).toBe(
      `GET /x failed after 4 tries over 12s at ${where}; its last answer: the server is restarting (HTTP 503)`,
    );
    expect(error.hint).toBe("wait; -v shows each try");
    expect((error as RetriesExhaustedApiError).status).toBe(503);
    expect((error as RetriesExhaustedApiError).reason).toBe("ServiceUnavailable");
    expect(error.cause).toBe(last);
  });

  it("the answer's first line that has words, without the blanks around it", () => {
    const last = new ApiError("  \n\n  upstream failed (HTTP 502)  \nmore", 502, undefined, 1);
    expect(exhaustedError(last, "GET /x", info, 2, 1_000).message).toBe(
      `GET /x failed after 2 tries over 1s at ${where}; its last answer: upstream failed (HTTP 502)`,
    );
  });

  it("an answer that names its status already is not given it twice; one try is 'try'", () => {
    const last = new ApiError("upstream failed (HTTP 502)\nmore", 502, undefined, 1);
    const error = exhaustedError(last, "GET /x", info, 1, 500);
    expect(error.message).toBe(
      `GET /x failed after 1 try over 0.5s at ${where}; its last answer: upstream failed (HTTP 502)`,
    );
    expect(error.hint).toBe("-v shows each try");
  });

  it("a proxy's error page (not an ApiError, its status noted): unreachable, with the page's words", () => {
    const page = new KvmigError("bad gateway", { hint: "check the proxy" });
    noteFailure(page, { status: 502 });
    const error = exhaustedError(page, "GET /x", info, 3, 2_000);
    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect(error.message).toBe(
      `GET /x failed after 3 tries over 2s at ${where}; its last answer: bad gateway (HTTP 502)`,
    );
    expect(error.hint).toBe("check the proxy; -v shows each try");
  });

  it("no answer at all: what did not answer, and where to look", () => {
    const error = exhaustedError(networkError("ECONNREFUSED"), "GET /version", info, 5, 9_400);
    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect((error as ApiUnreachableError).tries).toBe(5);
    expect((error as ApiUnreachableError).elapsedMs).toBe(9_400);
    expect(error.message).toBe(
      `${where} did not answer GET /version after 5 tries over 9.4s: connection refused`,
    );
    expect(error.hint).toBe(
      "check that the API server is up and reachable from here (VPN, proxy; kubectl config view --minify --context lab shows the address); -v shows each try",
    );
    expect(exitCodeOf(error)).toBe(1);
  });
});

describe("small parts", () => {
  it("budgetFor: the shorter of 30 s and the request timeout; no timeout is 30 s", () => {
    expect(budgetFor(5_000)).toBe(5_000);
    expect(budgetFor(60_000)).toBe(30_000);
    expect(budgetFor(0)).toBe(30_000);
    expect(budgetFor(2 ** 40)).toBe(30_000);
    expect(budgetFor(5_000, { ...policy, budgetMs: 1_000 })).toBe(1_000);
  });

  it("formatSeconds: whole seconds, tenths below 10 s", () => {
    expect([1_000, 1_500, 9_950, 10_400, 12_600, 0].map(formatSeconds)).toEqual([
      "1s",
      "1.5s",
      "9.9s",
      "10s",
      "13s",
      "0s",
    ]);
  });

  it("requestLabel: the method and the path without its query", () => {
    expect(requestLabel(info)).toBe("GET /apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances");
  });

  it("failure facts add up; a value that is not an object has none", () => {
    const error = new Error("x");
    noteFailure(error, { notSent: true });
    noteFailure(error, { status: 503 });
    expect(failureFacts(error)).toEqual({ notSent: true, status: 503 });
    noteFailure("text", { status: 1 });
    noteFailure(null, { status: 1 });
    expect(failureFacts("text")).toEqual({});
    expect(failureFacts(null)).toEqual({});
    expect(failureFacts(new Error("y"))).toEqual({});
  });

  it("the default policy", () => {
    expect({ ...defaultRetryPolicy, random: undefined }).toEqual({
      initialBackoffMs: 200,
      maxBackoffMs: 5_000,
      maxRetryAfterMs: 30_000,
      budgetMs: 30_000,
      random: undefined,
    });
    expect(defaultRetryPolicy.random).toBe(Math.random);
  });
});
