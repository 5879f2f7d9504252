// List-then-watch with the guarantees an informer gives: after a dropped stream it resumes from
// the last resourceVersion it delivered (or a bookmark's); after 410 Gone it lists again and
// delivers only the difference; no change is lost or delivered twice; waits between failures
// back off through the clock with the read rules of retry.ts (the budget starts again after each
// successful reconnect), and the loop ends when the signal aborts.

import type { Clock } from "../clock.js";
import { ApiError, KvmigError } from "../errors.js";
import type { WatchUpdate } from "./kube-client.js";
import { isStatus, type KubeList, type KubeObject, objectKey, type RawWatchEvent } from "./meta.js";
import { classify, exhaustedError, type RetryStreak, serverWaitMs, shortReason } from "./retry.js";

export interface WatchBackend<T extends KubeObject> {
  /** One page of the list; `continueToken` undefined for the first. */
  listPage(continueToken: string | undefined): Promise<KubeList<T>>;
  /** Opens a watch from `resourceVersion`; yields the stream's raw lines. */
  openWatch(resourceVersion: string): Promise<AsyncIterable<string> & { close(): void }>;
}

export interface WatchLoopOptions {
  signal: AbortSignal;
  clock: Clock;
  /** Verbose log for reconnects. */
  log?: ((line: string) => void) | undefined;
  /** What is being watched, for the log. */
  what: string;
  /** Backoff and budget of the reconnects (retry.ts). */
  retry: RetryStreak;
  /** The server and context, for the error when the budget is spent. */
  server: { server: string; context: string };
}

const statusGone = 410;
/** A stream that ends sooner than this with nothing in it is reopened after a backoff. */
const quickEndMs = 1000;

class ResourceExpired extends Error {}

/** A stream line that is not a watch event (a cut line, a proxy's page): reconnect. */
class GarbledStream extends KvmigError {}

function isGone(error: unknown): boolean {
  return error instanceof ResourceExpired || (error instanceof ApiError && error.status === statusGone);
}

export async function* listThenWatch<T extends KubeObject>(
  backend: WatchBackend<T>,
  options: WatchLoopOptions,
): AsyncGenerator<WatchUpdate<T>> {
  const { signal, clock, log, what, retry: streak } = options;
  const known = new Map<string, T>();

  // Each page of the list is retried by the client (reads); what still fails is shown now.
  let resourceVersion = yield* relist(backend, known);
  yield { type: "SYNCED", resourceVersion };

  let mustRelist = false;
  /** 410s since the last line that arrived: a second one in a row waits first. */
  let goneInARow = 0;
  const pause = async (waitMs: number): Promise<boolean> => {
    try {
      await clock.sleep(waitMs, signal);
      return true;
    } catch {
      return false;
    }
  };
  while (!signal.aborted) {
    let delivered = false;
    try {
      if (mustRelist) {
        log?.(`watch ${what}: resourceVersion ${resourceVersion} expired (410 Gone); listing again`);
        resourceVersion = yield* relist(backend, known);
        mustRelist = false;
      }
      const stream = await backend.openWatch(resourceVersion);
      const opened = clock.now();
      streak.restartBudget();
      try {
        for await (const line of stream) {
          const event = parseEvent(line);
          if (event.type === "ERROR") throw errorFromEvent(event.object);
          // An event (or a bookmark): the stream works, so the failures so far are over.
          delivered = true;
          goneInARow = 0;
          streak.reset();
          const object = event.object as T;
          const rv = object.metadata?.resourceVersion;
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
        const next = streak.next(undefined);
        if (next) {
          log?.(`watch ${what}: the server ended the stream at once; reopening in ${next.waitMs}ms`);
          if (!(await pause(next.waitMs))) return;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (isGone(error)) {
        mustRelist = true;
        goneInARow += 1;
        if (goneInARow < 2) continue;
      }
      const verdict =
        error instanceof GarbledStream || isGone(error)
          ? { retry: true, reason: shortReason(error) }
          : classify(error, "read");
      if (!verdict.retry) throw error;
      const next = streak.next(serverWaitMs(error, clock, streak.policy));
      if (next === undefined) {
        const tries = streak.failures;
        log?.(`watch ${what}: giving up after ${tries} tries (${verdict.reason})`);
        throw exhaustedError(error, `the watch of ${what}`, options.server, tries, streak.elapsedMs());
      }
      log?.(
        `watch ${what} dropped (${verdict.reason}); resuming from resourceVersion ${resourceVersion} in ${next.waitMs}ms`,
      );
      if (!(await pause(next.waitMs))) return;
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
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion = "";
    try {
      do {
        const page = await backend.listPage(token);
        items.push(...page.items);
        // The first page's resourceVersion is the snapshot every later page belongs to.
        if (token === undefined) resourceVersion = page.metadata.resourceVersion ?? "";
        token = page.metadata.continue || undefined;
      } while (token !== undefined);
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

function parseEvent(line: string): RawWatchEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new GarbledStream(`the watch stream sent a line that is not JSON: ${line.slice(0, 80)}`);
  }
  const event = parsed as Partial<RawWatchEvent>;
  if (typeof event?.type !== "string" || typeof event.object !== "object" || event.object === null) {
    throw new GarbledStream(`the watch stream sent an event without type or object: ${line.slice(0, 80)}`);
  }
  return event as RawWatchEvent;
}

function errorFromEvent(object: unknown): Error {
  if (isStatus(object) && object.code === statusGone) return new ResourceExpired(object.message ?? "Gone");
  const message = isStatus(object) ? (object.message ?? "watch error") : "watch error";
  const code = isStatus(object) ? (object.code ?? 500) : 500;
  return new ApiError(message, code, isStatus(object) ? object.reason : undefined, 1);
}
