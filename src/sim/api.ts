// The resource verbs of the simulated API server over the store: get, list (selectors, paging
// with consistent continue tokens), create, update, patch, delete, deletecollection, each in
// the API version the client asked for, with Table output for kubectl.

import type { ServerResponse } from "node:http";
import { coreFieldLabel, fromEventsV1, toEventsV1 } from "./events.js";
import { dryRunOf, type Negotiated, queryInt, sendJson } from "./http.js";
import { patchTypeOf } from "./patch.js";
import { apiVersionOf, type SimResource } from "./registry.js";
import {
  type FieldSelector,
  type LabelSelector,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from "./selectors.js";
import {
  badRequest,
  expiredContinue,
  gone,
  methodNotAllowed,
  SimApiError,
  statusError,
  successStatus,
  unsupportedMediaType,
} from "./status.js";
import { keyOf, type SimObject, type Store } from "./store.js";
import { tablePrinter, toTable } from "./tables.js";

export interface ResourceRequest {
  res: SimResource;
  group: string;
  version: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  params: URLSearchParams;
  negotiated: Negotiated;
  /** The authenticated user's name. */
  user: string;
}

export interface Selection {
  labels: LabelSelector;
  fields: FieldSelector;
  namespace: string | undefined;
}

/** The value of a field label on a stored object, as the API server's field set has it. */
export function fieldValue(res: SimResource, object: SimObject, field: string): string | undefined {
  const label = res.group === "events.k8s.io" ? coreFieldLabel(field) : field;
  if (label === "source" && res.storage === "events") {
    return ((object as { source?: { component?: string } }).source?.component ?? "") as string;
  }
  let value: unknown = object;
  for (const part of label.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined && label === "spec.unschedulable") return "false";
  if (value === undefined || value === null) return undefined;
  return String(value);
}

export function selectionOf(req: ResourceRequest): Selection {
  const supported = new Set(["metadata.name", "metadata.namespace", ...req.res.fieldLabels]);
  try {
    const labels = parseLabelSelector(req.params.get("labelSelector") ?? undefined);
    const fields = parseFieldSelector(req.params.get("fieldSelector") ?? undefined, supported);
    // `metadata.namespace=x` narrows a cluster-wide list, as the server's field index does.
    return { labels, fields, namespace: req.namespace };
  } catch (error) {
    if (error instanceof SelectorError) throw badRequest(error.message);
    throw error;
  }
}

export function selects(res: SimResource, selection: Selection, object: SimObject): boolean {
  if (selection.namespace !== undefined && object.metadata.namespace !== selection.namespace) return false;
  if (!selection.labels.matches(object.metadata.labels)) return false;
  return selection.fields.matches((field) => fieldValue(res, object, field));
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: token.rv, start: token.start })).toString(
    "base64",
  );
}

function decodeContinue(text: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as {
      v?: string;
      rv?: number;
      start?: string;
    };
    if (parsed.v !== "meta.k8s.io/v1" || typeof parsed.rv !== "number" || typeof parsed.start !== "string")
      throw new Error();
    return { rv: parsed.rv, start: parsed.start };
  } catch {
    throw badRequest(
      "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    );
  }
}

export class ResourceApi {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  /** A stored object as the requested API version shows it. */
  present(req: Pick<ResourceRequest, "res" | "group" | "version">, object: SimObject): SimObject {
    if (req.res.group === "events.k8s.io") return toEventsV1(object);
    const apiVersion = apiVersionOf(req.group, req.version);
    if (object.apiVersion === apiVersion && object.kind === req.res.kind) return object;
    return { ...object, apiVersion, kind: req.res.kind };
  }

  /** A body from the client in the storage form, checked against the request. */
  accept(req: ResourceRequest, body: unknown): SimObject {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw badRequest("Object 'Kind' is missing in the request body");
    }
    const object = body as SimObject;
    const expected = apiVersionOf(req.group, req.version);
    if (object.apiVersion !== undefined && object.apiVersion !== expected) {
      throw badRequest(
        `the API version in the data (${object.apiVersion}) does not match the expected API version (${expected})`,
      );
    }
    if (object.kind !== undefined && object.kind !== req.res.kind) {
      throw badRequest(
        `the kind in the data (${object.kind}) does not match the expected kind (${req.res.kind})`,
      );
    }
    object.metadata ??= {};
    if (req.res.namespaced) {
      if (
        object.metadata.namespace !== undefined &&
        object.metadata.namespace !== "" &&
        object.metadata.namespace !== req.namespace
      ) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      object.metadata.namespace = req.namespace;
    }
    const stored = req.res.group === "events.k8s.io" ? fromEventsV1(object) : object;
    const storageVersion = req.res.versions[0] ?? req.version;
    stored.apiVersion =
      req.res.group === "events.k8s.io" ? "v1" : apiVersionOf(req.res.group, storageVersion);
    stored.kind = req.res.kind;
    return stored;
  }

  get(req: ResourceRequest, res: ServerResponse, headers: Record<string, string>): void {
    const object = this.store.peek(req.res.storage, req.namespace, req.name ?? "");
    if (!object) throw notFoundFor(req);
    if (req.negotiated.as === "Table") {
      const printer = tablePrinter(req.res.group, req.res.plural);
      const table = toTable(
        printer,
        [this.present(req, object) as Record<string, unknown>],
        this.now(),
        { resourceVersion: object.metadata.resourceVersion ?? "" },
        includeObjectOf(req.params),
        req.negotiated.tableVersion,
      );
      sendJson(res, 200, table, headers);
      return;
    }
    if (req.negotiated.as === "PartialObjectMetadata") {
      sendJson(res, 200, partial(object, req.negotiated.tableVersion), headers);
      return;
    }
    sendJson(res, 200, this.present(req, object), headers);
  }

  list(req: ResourceRequest, res: ServerResponse, headers: Record<string, string>): void {
    const selection = selectionOf(req);
    const limit = queryInt(req.params, "limit");
    const continueParam = req.params.get("continue");
    let rv = this.store.resourceVersion;
    let start = "";
    if (continueParam) {
      const token = decodeContinue(continueParam);
      rv = token.rv;
      start = token.start;
      if (rv < this.store.oldestResourceVersion) throw gone(expiredContinue);
    }
    let objects: SimObject[];
    try {
      objects = this.store.listAt(req.res.storage, rv, req.namespace);
    } catch (error) {
      if (error instanceof SimApiError && error.code === 410) throw gone(expiredContinue);
      throw error;
    }
    let index = 0;
    if (start !== "") {
      let low = 0;
      let high = objects.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        const object = objects[mid] as SimObject;
        if (keyOf(object.metadata.namespace, object.metadata.name ?? "") < start) low = mid + 1;
        else high = mid;
      }
      index = low;
    }
    const items: SimObject[] = [];
    let next: string | undefined;
    for (; index < objects.length; index++) {
      const object = objects[index] as SimObject;
      if (!selects(req.res, selection, object)) continue;
      if (limit !== undefined && limit > 0 && items.length === limit) {
        const last = items[items.length - 1] as SimObject;
        next = `${keyOf(last.metadata.namespace, last.metadata.name ?? "")}\u0000`;
        break;
      }
      items.push(object);
    }
    const unfiltered = req.params.get("labelSelector") === null && req.params.get("fieldSelector") === null;
    const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = {
      resourceVersion: String(rv),
    };
    if (next !== undefined) {
      listMeta.continue = encodeContinue({ rv, start: next });
      if (unfiltered) listMeta.remainingItemCount = objects.length - index;
    }
    const presented = items.map((object) => this.present(req, object));
    if (req.negotiated.as === "Table") {
      const printer = tablePrinter(req.res.group, req.res.plural);
      sendJson(
        res,
        200,
        toTable(
          printer,
          presented as Record<string, unknown>[],
          this.now(),
          listMeta,
          includeObjectOf(req.params),
          req.negotiated.tableVersion,
        ),
        headers,
      );
      return;
    }
    if (req.negotiated.as === "PartialObjectMetadata") {
      sendJson(
        res,
        200,
        {
          kind: "PartialObjectMetadataList",
          apiVersion: req.negotiated.tableVersion,
          metadata: listMeta,
          items: items.map((object) => partial(object, req.negotiated.tableVersion)),
        },
        headers,
      );
      return;
    }
    sendJson(
      res,
      200,
      {
        kind: `${req.res.kind}List`,
        apiVersion: apiVersionOf(req.group, req.version),
        metadata: listMeta,
        items: presented,
      },
      headers,
    );
  }

  create(
    req: ResourceRequest,
    body: unknown,
    res: ServerResponse,
    headers: Record<string, string>,
  ): SimObject {
    if (req.name !== undefined) throw methodNotAllowed();
    const object = this.accept(req, body);
    const created = this.store.create(req.res, object, { dryRun: dryRunOf(req.params), user: req.user });
    sendJson(res, 201, this.present(req, created), headers);
    return created;
  }

  update(req: ResourceRequest, body: unknown, res: ServerResponse, headers: Record<string, string>): void {
    const object = this.accept(req, body);
    if (object.metadata.name !== req.name) {
      throw badRequest(
        `the name of the object (${object.metadata.name ?? ""}) does not match the name on the URL (${req.name})`,
      );
    }
    const updated = this.store.update(req.res, object, {
      dryRun: dryRunOf(req.params),
      subresource: req.subresource === "status" ? "status" : undefined,
      user: req.user,
    });
    sendJson(res, 200, this.present(req, updated), headers);
  }

  patch(
    req: ResourceRequest,
    body: unknown,
    contentType: string | undefined,
    res: ServerResponse,
    headers: Record<string, string>,
  ): void {
    const accepted = [
      "application/json-patch+json",
      "application/merge-patch+json",
      ...(req.res.custom ? [] : ["application/strategic-merge-patch+json"]),
      "application/apply-patch+yaml",
    ];
    const mediaType = (contentType ?? "").split(";")[0]?.trim() ?? "";
    const dryRun = dryRunOf(req.params);
    const subresource = req.subresource === "status" ? ("status" as const) : undefined;
    const name = req.name ?? "";
    if (mediaType === "application/apply-patch+yaml") {
      // Server-side apply, simplified: create when missing, else merge the applied fields.
      if (!req.params.get("fieldManager"))
        throw badRequest("PATCH /: fieldManager is required for apply requests");
      const existing = this.store.peek(req.res.storage, req.namespace, name);
      if (!existing) {
        const object = this.accept(req, body);
        object.metadata.name = name;
        sendJson(
          res,
          201,
          this.present(req, this.store.create(req.res, object, { dryRun, user: req.user })),
          headers,
        );
        return;
      }
      const applied = req.res.group === "events.k8s.io" ? fromEventsV1(body as SimObject) : body;
      const updated = this.store.patch(req.res, req.namespace, name, "merge", stripVersion(applied), {
        dryRun,
        subresource,
        user: req.user,
      });
      sendJson(res, 200, this.present(req, updated), headers);
      return;
    }
    const type = patchTypeOf(contentType);
    if (type === undefined || (type === "strategic" && req.res.custom)) throw unsupportedMediaType(accepted);
    const patch = req.res.group === "events.k8s.io" && type !== "json" ? fromEventsV1Patch(body) : body;
    const updated = this.store.patch(req.res, req.namespace, name, type, patch, {
      dryRun,
      subresource,
      user: req.user,
    });
    sendJson(res, 200, this.present(req, updated), headers);
  }

  delete(req: ResourceRequest, body: unknown, res: ServerResponse, headers: Record<string, string>): void {
    const options = (body ?? {}) as {
      preconditions?: { uid?: string; resourceVersion?: string };
      propagationPolicy?: "Background" | "Foreground" | "Orphan";
      dryRun?: string[];
    };
    const propagation = req.params.get("propagationPolicy") ?? options.propagationPolicy;
    if (
      propagation !== undefined &&
      propagation !== null &&
      !["Background", "Foreground", "Orphan"].includes(propagation)
    ) {
      throw badRequest(
        `Unsupported value: "${propagation}": supported values: "Foreground", "Background", "Orphan"`,
      );
    }
    const result = this.store.delete(req.res, req.namespace, req.name ?? "", {
      dryRun: dryRunOf(req.params, options),
      preconditions: options.preconditions,
      propagationPolicy: (propagation ?? undefined) as "Background" | "Foreground" | "Orphan" | undefined,
    });
    if (result.gone && req.res.custom) {
      sendJson(
        res,
        200,
        successStatus({
          name: req.name ?? "",
          group: req.res.group,
          kind: req.res.plural,
          uid: result.object.metadata.uid ?? "",
        }),
        headers,
      );
      return;
    }
    sendJson(res, result.gone ? 200 : 202, this.present(req, result.object), headers);
  }

  deleteCollection(
    req: ResourceRequest,
    body: unknown,
    res: ServerResponse,
    headers: Record<string, string>,
  ): void {
    const selection = selectionOf(req);
    const dryRun = dryRunOf(req.params, body as { dryRun?: unknown });
    const victims = this.store
      .list(req.res.storage, req.namespace)
      .filter((object) => selects(req.res, selection, object));
    const deleted: SimObject[] = [];
    for (const object of victims) {
      const name = object.metadata.name ?? "";
      if (!this.store.peek(req.res.storage, object.metadata.namespace, name)) continue;
      deleted.push(this.store.delete(req.res, object.metadata.namespace, name, { dryRun }).object);
    }
    sendJson(
      res,
      200,
      {
        kind: `${req.res.kind}List`,
        apiVersion: apiVersionOf(req.group, req.version),
        metadata: { resourceVersion: String(this.store.resourceVersion) },
        items: deleted.map((object) => this.present(req, object)),
      },
      headers,
    );
  }
}

export function notFoundFor(req: Pick<ResourceRequest, "res" | "name">): SimApiError {
  const res = req.res;
  const qualified = res.group === "" ? res.plural : `${res.plural}.${res.group}`;
  return statusError(404, "NotFound", `${qualified} "${req.name ?? ""}" not found`, {
    name: req.name ?? "",
    group: res.group,
    kind: res.plural,
  });
}

function includeObjectOf(params: URLSearchParams): "None" | "Metadata" | "Object" {
  const value = params.get("includeObject");
  return value === "None" || value === "Object" ? value : "Metadata";
}

function partial(object: SimObject, apiVersion: string): object {
  return { kind: "PartialObjectMetadata", apiVersion, metadata: object.metadata };
}

function stripVersion(body: unknown): unknown {
  if (typeof body !== "object" || body === null) return body;
  const { apiVersion: _a, kind: _k, ...rest } = body as Record<string, unknown>;
  return rest;
}

/** A merge patch written in events.k8s.io names, turned into the storage form's names. */
function fromEventsV1Patch(body: unknown): unknown {
  if (typeof body !== "object" || body === null) return body;
  const converted = fromEventsV1(body as SimObject) as Record<string, unknown>;
  delete converted.apiVersion;
  delete converted.kind;
  if (!("involvedObject" in (body as object)) && !("regarding" in (body as object)))
    delete converted.involvedObject;
  return converted;
}
