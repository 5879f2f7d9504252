// List-then-watch with the guarantees an informer gives: after a dropped stream it resumes from
// the last resourceVersion it delivered (or a bookmark's); after 410 Gone it lists again and
// delivers only the difference; no change is lost or delivered twice; and the loop ends when the
// signal aborts, and only then or on an error no wait can fix (401/403, TLS, a resource that is
// not there).
//
// A watch is a follow, not a one-shot read: it has no retry budget. Its lists and watch requests
// are each tried once here, and every failure a moment may fix (retry.ts's read rules: refused,
// reset, no answer, 429, 5xx) is waited out with the capped backoff, for as long as the API
// server is away: the command's --timeout or Ctrl-C ends the wait. The outage is told on the way
// (outage.ts). A retrier's own final error (retry.ts) is not tried again here.
//
// What the stream sends is checked line by line: a line that is not a watch event (cut, a
// proxy's words) is skipped with a -v line, and the watch goes on. An ERROR event is the error
// its Status says, as if the server had answered the watch request with it: 410 lists again,
// 5xx is waited out, 403 ends the watch with the permission that is missing.

import type { Clock } from "../clock.js";
import { ApiError } from "../errors.js";
import { errorFromResponse, type RequestInfo } from "./api-errors.js";
import type { WatchUpdate } from "./kube-client.js";
import { isStatus, type KubeList, type KubeObject, objectKey, type RawWatchEvent } from "./meta.js";
import type { ApiOutage } from "./outage.js";
import { classify, failureFacts, noteFailure, type RetryStreak, serverWaitMs, shortReason } from "./retry.js";

export interface WatchBackend<T extends KubeObject> {
  /** One page of the list, tried once; `continueToken` undefined for the first. */
  listPage(continueToken: string | undefined): Promise<KubeList<T>>;
  /** Opens a watch from `resourceVersion`; yields the stream's raw lines. */
  openWatch(resourceVersion: string): Promise<AsyncIterable<string> & { close(): void }>;
}

export interface WatchLoopOptions {
  signal: AbortSignal;
  clock: Clock;
  /** Verbose log for reconnects and skipped lines. */
  log?: ((line: string) => void) | undefined;
  /** What is being watched, for the log. */
  what: string;
  /** The backoff between failures (retry.ts); its budget is not used. */
  retry: RetryStreak;
  /** The watch request (its path with `watch=1`, the server, the context): an ERROR event is its answer. */
  request: RequestInfo;
  /** Where an outage is told; shared by the streams of one command. */
  outage?: ApiOutage | undefined;
}

const statusGone = 410;
const statusThrottled = 429;
/** A stream that ends sooner than this with nothing in it is reopened after a backoff. */
const quickEndMs = 1000;

const eventTypes: ReadonlySet<string> = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

function isGone(error: unknown): boolean {
  return error instanceof ApiError && error.status === statusGone;
}

export async function* listThenWatch<T extends KubeObject>(
  backend: WatchBackend<T>,
  options: WatchLoopOptions,
): AsyncGenerator<WatchUpdate<T>> {
  const { signal, clock, log, what, retry: streak, outage } = options;
  const known = new Map<string, T>();
  let resourceVersion = "";
  let listed = false;
  let mustList = true;
  /** 410s since the last line that arrived: a second one in a row waits first. */
  let goneInARow = 0;
  /** A wait through the clock; the signal ends it early, and the loop with it. */
  const pause = (waitMs: number) => clock.sleep(waitMs, signal).catch(() => {});
  while (!signal.aborted) {
    let delivered = false;
    try {
      if (mustList) {
        if (listed)
          log?.(`watch ${what}: resourceVersion ${resourceVersion} expired (410 Gone); listing again`);
        resourceVersion = yield* relist(backend, known);
        mustList = false;
        if (!listed) yield { type: "SYNCED", resourceVersion };
        listed = true;
      }
      const stream = await backend.openWatch(resourceVersion);
      const opened = clock.now();
      outage?.back();
      try {
        for await (const line of stream) {
          const event = parseEvent(line);
          if (event === undefined) {
            log?.(`watch ${what}: skipped a line that is not a watch event: ${line.slice(0, 80)}`);
            continue;
          }
          if (event.type === "ERROR") throw errorFromEvent(event.object, options.request);
          // An event (or a bookmark): the stream works, so the failures so far are over.
          delivered = true;
          goneInARow = 0;
          streak.reset();
          const object = event.object as T;
          const rv = object.metadata.resourceVersion;
          if (rv !== undefined) resourceVersion = rv;
          if (event.type === "BOOKMARK") continue;
          const update = applyEvent(known, event.type, object);
          if (update) yield update;
        }
      } finally {
        stream.close();
      }
      if (signal.aborted) return;
      // The server ended the stream (its timeout): reconnect at once from where we are; but a
      // stream that ended at once with nothing in it waits a little first, so it cannot spin.
      if (!delivered && clock.now() - opened < quickEndMs) {
        const next = streak.nextWait(undefined);
        log?.(`watch ${what}: the server ended the stream at once; reopening in ${next.waitMs}ms`);
        await pause(next.waitMs);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (isGone(error)) {
        mustList = true;
        goneInARow += 1;
        if (goneInARow < 2) continue;
      } else {
        if (!classify(error, "read").retry) throw error;
        const status = error instanceof ApiError ? error.status : failureFacts(error).status;
        if (status !== statusThrottled) outage?.lost(shortReason(error));
      }
      const next = streak.nextWait(serverWaitMs(error, clock, streak.policy));
      log?.(
        `watch ${what} dropped (${shortReason(error)}); resuming from resourceVersion ${resourceVersion || "(none yet)"} in ${next.waitMs}ms`,
      );
      await pause(next.waitMs);
    }
  }
}

/**
 * Lists every page. On the first list every object is new; on a re-list only the difference
 * with what was already delivered comes out (added, changed, and deleted while we were away).
 */
async function* relist<T extends KubeObject>(
  backend: WatchBackend<T>,
  known: Map<string, T>,
): AsyncGenerator<WatchUpdate<T>, string> {
  const { items, resourceVersion } = await listAll(backend);
  const seen = new Set<string>();
  for (const object of items) {
    const key = objectKey(object.metadata);
    seen.add(key);
    const previous = known.get(key);
    known.set(key, object);
    if (previous === undefined) yield { type: "ADDED", object };
    else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion) {
      yield { type: "MODIFIED", object };
    }
  }
  for (const [key, object] of known) {
    if (!seen.has(key)) {
      known.delete(key);
      yield { type: "DELETED", object };
    }
  }
  return resourceVersion;
}

/** All pages of one consistent list; an expired continue token starts the list over. */
async function listAll<T extends KubeObject>(
  backend: WatchBackend<T>,
): Promise<{ items: T[]; resourceVersion: string }> {
  for (let attempt = 0; ; attempt++) {
    try {
      let page = await backend.listPage(undefined);
      // The first page's resourceVersion is the snapshot every later page belongs to.
      const resourceVersion = page.metadata.resourceVersion ?? "";
      const items = [...page.items];
      while (page.metadata.continue) {
        page = await backend.listPage(page.metadata.continue);
        items.push(...page.items);
      }
      return { items, resourceVersion };
    } catch (error) {
      if (!isGone(error) || attempt >= 2) throw error;
    }
  }
}

function applyEvent<T extends KubeObject>(
  known: Map<string, T>,
  type: "ADDED" | "MODIFIED" | "DELETED",
  object: T,
): WatchUpdate<T> | undefined {
  const key = objectKey(object.metadata);
  const previous = known.get(key);
  if (type === "DELETED") {
    if (previous === undefined) return undefined;
    known.delete(key);
    return { type, object };
  }
  // A replayed event for a version already delivered is not a change.
  if (previous !== undefined && previous.metadata.resourceVersion === object.metadata.resourceVersion) {
    return undefined;
  }
  known.set(key, object);
  return { type: previous === undefined ? "ADDED" : "MODIFIED", object };
}

/** A line of the stream as a watch event; undefined when it is not one. */
function parseEvent(line: string): RawWatchEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const event = parsed as Partial<RawWatchEvent> | null;
  if (typeof event?.type !== "string" || !eventTypes.has(event.type)) return undefined;
  const object = event.object as { metadata?: unknown } | null | undefined;
  if (typeof object !== "object" || object === null) return undefined;
  // An ERROR carries a Status; every other event an object with its metadata.
  if (event.type !== "ERROR" && (typeof object.metadata !== "object" || object.metadata === null)) {
    return undefined;
  }
  return event as RawWatchEvent;
}

/**
 * An ERROR event's Status, as the error an answer to the watch request with it would be (a
 * Status without an error code is the server failing: 500), with the wait it asks for.
 */
function errorFromEvent(object: unknown, request: RequestInfo): Error {
  const status = isStatus(object) ? object : undefined;
  const code = status?.code !== undefined && status.code >= 400 ? status.code : 500;
  const error = errorFromResponse(code, JSON.stringify(object), request);
  noteFailure(error, { status: code, retryAfterSeconds: status?.details?.retryAfterSeconds });
  return error;
}
