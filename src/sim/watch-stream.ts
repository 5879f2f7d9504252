// `?watch=1`: a stream of ADDED/MODIFIED/DELETED events from a resourceVersion, with selectors
// (an object that stops matching is DELETED for this watcher, one that starts matching is
// ADDED), bookmarks, timeoutSeconds, and 410 Gone for a version older than the history, sent
// as an ERROR event the way the API server's watch cache does.

import type { ServerResponse } from "node:http";
import { type ResourceApi, type ResourceRequest, type Selection, selectionOf, selects } from "./api.js";
import { queryFlag, queryInt } from "./http.js";
import { apiVersionOf } from "./registry.js";
import { badRequest, SimApiError } from "./status.js";
import type { Change, SimObject, Store } from "./store.js";
import { tablePrinter, toTable } from "./tables.js";

export interface WatchSettings {
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK. */
  bookmarkIntervalMs: number;
  /** The server's own limit when the client sets no timeoutSeconds. */
  defaultTimeoutSeconds: number;
}

type EventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export function serveWatch(
  req: ResourceRequest,
  res: ServerResponse,
  headers: Record<string, string>,
  store: Store,
  api: ResourceApi,
  now: () => number,
  settings: WatchSettings,
): void {
  let selection: Selection = selectionOf(req);
  if (req.name !== undefined) {
    // The legacy `/watch/.../{name}` form watches one object.
    const name = req.name;
    const inner = selection;
    selection = {
      ...inner,
      fields: {
        requirements: inner.fields.requirements,
        matches: (get) => get("metadata.name") === name && inner.fields.matches(get),
      },
    };
  }
  const rvParam = req.params.get("resourceVersion");
  const sendInitial = queryFlag(req.params.get("sendInitialEvents"));
  let from: number | undefined;
  if (rvParam !== null && rvParam !== "" && rvParam !== "0") {
    from = Number(rvParam);
    if (!Number.isInteger(from) || from < 0) throw badRequest(`invalid resource version: ${rvParam}`);
  }
  const timeoutSeconds = queryInt(req.params, "timeoutSeconds") ?? settings.defaultTimeoutSeconds;
  const bookmarks = queryFlag(req.params.get("allowWatchBookmarks"));
  const asTable = req.negotiated.as === "Table";
  const printer = asTable ? tablePrinter(req.res.group, req.res.plural) : undefined;

  res.writeHead(200, {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache, private",
    "Transfer-Encoding": "chunked",
    ...headers,
  });
  res.flushHeaders();

  let firstTable = true;
  const write = (type: EventType, object: unknown) => {
    if (res.writableEnded) return;
    let payload = object;
    if (printer && (type === "ADDED" || type === "MODIFIED" || type === "DELETED")) {
      const presented = api.present(req, object as SimObject) as Record<string, unknown>;
      const table = toTable(
        printer,
        [presented],
        now(),
        { resourceVersion: (object as SimObject).metadata.resourceVersion ?? "" },
        "Metadata",
        req.negotiated.tableVersion,
      ) as { columnDefinitions?: unknown[] };
      // As the server's watch encoder does: column definitions with the first event only.
      if (!firstTable) table.columnDefinitions = [];
      firstTable = false;
      payload = table;
    } else if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") {
      payload = api.present(req, object as SimObject);
    }
    res.write(`${JSON.stringify({ type, object: payload })}\n`);
  };
  const bookmark = (rv: number, initialEventsEnd = false) => {
    write("BOOKMARK", {
      kind: req.res.kind,
      apiVersion: apiVersionOf(req.group, req.version),
      metadata: {
        resourceVersion: String(rv),
        ...(initialEventsEnd ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}),
      },
    });
  };

  const onChange = (change: Change) => {
    if (change.storage !== req.res.storage) return;
    const now = selects(req.res, selection, change.object);
    const before = change.previous !== undefined && selects(req.res, selection, change.previous);
    if (change.type === "ADDED") {
      if (now) write("ADDED", change.object);
    } else if (change.type === "DELETED") {
      if (before) write("DELETED", change.object);
    } else if (now && before) write("MODIFIED", change.object);
    else if (now) write("ADDED", change.object);
    else if (before && change.previous) {
      // Leaving the selection: the state this watcher last matched, at the new version.
      const last = change.previous;
      write("DELETED", {
        ...last,
        metadata: { ...last.metadata, resourceVersion: change.object.metadata.resourceVersion },
      });
    }
  };

  // Replay and subscription happen in one turn of the event loop, so no change falls between.
  if (from === undefined || sendInitial) {
    for (const object of store.list(req.res.storage, req.namespace)) {
      if (selects(req.res, selection, object)) write("ADDED", object);
    }
    if (sendInitial && bookmarks) bookmark(store.resourceVersion, true);
  } else {
    try {
      for (const change of store.changesSince(from)) onChange(change);
    } catch (error) {
      if (error instanceof SimApiError) {
        write("ERROR", error.status);
        res.end();
        return;
      }
      throw error;
    }
  }
  const unsubscribe = store.subscribe(onChange);
  const bookmarkTimer = bookmarks
    ? setInterval(() => bookmark(store.resourceVersion), settings.bookmarkIntervalMs)
    : undefined;
  const timeout = setTimeout(() => res.end(), timeoutSeconds * 1000);
  const stop = () => {
    unsubscribe();
    clearTimeout(timeout);
    if (bookmarkTimer) clearInterval(bookmarkTimer);
  };
  res.on("close", stop);
  res.on("finish", stop);
}
