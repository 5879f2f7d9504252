// List-then-watch with the guarantees an informer gives: after a dropped stream it resumes from
// the last resourceVersion it delivered; after 410 Gone it lists again and delivers only the
// difference; no change is lost or delivered twice; waits between failures back off, through
// the clock, and the loop ends when the signal aborts.

import type { Clock } from "../clock.js";
import { ApiError, KvmigError } from "../errors.js";
import type { WatchUpdate } from "./kube-client.js";
import { isStatus, type KubeList, type KubeObject, objectKey, type RawWatchEvent } from "./meta.js";

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
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

const statusGone = 410;

class ResourceExpired extends Error {}

/** HTTP errors that retrying cannot fix: they end the watch. */
function isPermanent(error: unknown): boolean {
  return error instanceof ApiError && [400, 401, 403, 404, 422].includes(error.status);
}

function isGone(error: unknown): boolean {
  return error instanceof ResourceExpired || (error instanceof ApiError && error.status === statusGone);
}

export async function* listThenWatch<T extends KubeObject>(
  backend: WatchBackend<T>,
  options: WatchLoopOptions,
): AsyncGenerator<WatchUpdate<T>> {
  const { signal, clock, log, what } = options;
  const initialBackoff = options.initialBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const known = new Map<string, T>();

  // The first list is not retried: a cluster that cannot be listed is an error to show now.
  let resourceVersion = yield* relist(backend, known);
  yield { type: "SYNCED", resourceVersion };

  let failures = 0;
  let mustRelist = false;
  while (!signal.aborted) {
    try {
      if (mustRelist) {
        log?.(`watch ${what}: resourceVersion ${resourceVersion} expired (410 Gone); listing again`);
        resourceVersion = yield* relist(backend, known);
        mustRelist = false;
      }
      const stream = await backend.openWatch(resourceVersion);
      try {
        for await (const line of stream) {
          const event = parseEvent(line);
          if (event.type === "ERROR") throw errorFromEvent(event.object);
          const object = event.object as T;
          const rv = object.metadata?.resourceVersion;
          if (rv !== undefined) resourceVersion = rv;
          if (event.type === "BOOKMARK") continue;
          const update = applyEvent(known, event.type, object);
          failures = 0;
          if (update) yield update;
        }
      } finally {
        stream.close();
      }
      // The server ended the stream (its timeout): reconnect at once from where we are.
    } catch (error) {
      if (signal.aborted) return;
      if (isGone(error)) {
        mustRelist = true;
        continue;
      }
      if (isPermanent(error)) throw error;
      failures += 1;
      const wait = Math.min(maxBackoff, initialBackoff * 2 ** (failures - 1));
      log?.(
        `watch ${what} dropped (${describe(error)}); resuming from resourceVersion ${resourceVersion} in ${wait}ms`,
      );
      try {
        await clock.sleep(wait, signal);
      } catch {
        return;
      }
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
    throw new KvmigError(`the watch stream sent a line that is not JSON: ${line.slice(0, 80)}`);
  }
  const event = parsed as Partial<RawWatchEvent>;
  if (typeof event?.type !== "string" || typeof event.object !== "object" || event.object === null) {
    throw new KvmigError(`the watch stream sent an event without type or object: ${line.slice(0, 80)}`);
  }
  return event as RawWatchEvent;
}

function errorFromEvent(object: unknown): Error {
  if (isStatus(object) && object.code === statusGone) return new ResourceExpired(object.message ?? "Gone");
  const message = isStatus(object) ? (object.message ?? "watch error") : "watch error";
  const code = isStatus(object) ? (object.code ?? 500) : 500;
  return new ApiError(message, code, isStatus(object) ? object.reason : undefined, 1);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
