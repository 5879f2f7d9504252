// KubeClient over the Transport: resource paths from the descriptors, paging, list-then-watch.

import type { Clock } from "../clock.js";
import { ApiError, ExitCode } from "../errors.js";
import { compareText } from "../util/order.js";
import { commandLine } from "../util/shell.js";
import { isNotFound, unparsableAnswer } from "./api-errors.js";
import type {
  AccessCheck,
  AccessResult,
  DeleteMigrationOptions,
  DryRunOption,
  KubeClient,
  ListOptions,
  ListPiece,
  LogOptions,
  ObjectOf,
  WatchOptions,
  WatchUpdate,
} from "./kube-client.js";
import { type ListMeta, ListReader } from "./list-reader.js";
import { type KubeList, objectKey } from "./meta.js";
import {
  type ResourceName,
  resourcePath,
  resources,
  subresourceGroup,
  subresourceVersion,
} from "./resources.js";
import {
  budgetFor,
  classify,
  defaultRetryPolicy,
  type RequestKind,
  Retrier,
  type RetryPolicy,
  serverWaitMs,
  shortReason,
} from "./retry.js";
import { combine, type HttpRequest, type LineStream, type Transport } from "./transport.js";
import type {
  Deployment,
  KubeVirt,
  KubeVirtVersionInfo,
  MigrateOptions,
  Node,
  RestartOptions,
  SelfSubjectAccessReview,
  ServerVersion,
  VirtualMachineInstanceMigration,
} from "./types.js";
import { listThenWatch } from "./watch.js";

export const defaultPageSize = 500;
/**
 * What kubectl's metadata-only reads ask for: a PartialObjectMetadataList (each item its
 * apiVersion, kind and metadata only), else the full list from a server that cannot.
 */
const metadataListAccept =
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/** A list answer up to this size is parsed whole; a longer one object by object (list-reader.ts). */
export const smallListBytes = 256 * 1024;

/** A list answer parsed whole: its items, and the rest; undefined when it is no JSON object. */
function parseListPage<T>(body: Buffer): { items: T[]; meta: ListMeta } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
  const { items, ...meta } = parsed as ListMeta & { items?: unknown };
  if (items !== undefined && items !== null && !Array.isArray(items)) return undefined;
  return { items: (items ?? []) as T[], meta };
}
/** The server closes a watch after this long; the loop then resumes from where it was. */
const watchTimeoutSeconds = 300;
/** A watch silent for this long (no event, no bookmark, no end) lost its connection unnoticed. */
const watchIdleTimeoutMs = (watchTimeoutSeconds + 60) * 1000;

export interface ClientSettings {
  namespace: string;
  clock: Clock;
  log?: ((line: string) => void) | undefined;
  /** Overrides of the retry policy (tests); the budget defaults to budgetFor(request timeout). */
  retry?: Partial<RetryPolicy> | undefined;
}

/**
 * A server-side dry run changes nothing: it is sent and retried as a read, on the pooled
 * connection the reads opened (a real write goes on a connection of its own: see
 * freshConnection), which saves a TLS handshake.
 */
function effectiveKind(kind: RequestKind, req: HttpRequest): RequestKind {
  return kind === "write" && isDryRun(req) ? "read" : kind;
}

/** A write the API server only checks: dryRun=All in the query, the body or its deleteOptions. */
export function isDryRun(req: Pick<HttpRequest, "query" | "body">): boolean {
  const body = req.body as { dryRun?: unknown; deleteOptions?: { dryRun?: unknown } } | undefined;
  const all = (value: unknown) => Array.isArray(value) && value.includes("All");
  return req.query?.dryRun === "All" || all(body?.dryRun) || all(body?.deleteOptions?.dryRun);
}

function dryRunQuery(options: DryRunOption | undefined): Record<string, string | undefined> {
  return { dryRun: options?.dryRun ? "All" : undefined };
}

function subresourcePath(namespace: string, vmName: string, action: string): string {
  return `/apis/${subresourceGroup}/${subresourceVersion}/namespaces/${encodeURIComponent(namespace)}/virtualmachines/${encodeURIComponent(vmName)}/${action}`;
}

export class HttpKubeClient implements KubeClient {
  readonly namespace: string;
  private readonly retrier: Retrier;

  constructor(
    private readonly transport: Transport,
    private readonly settings: ClientSettings,
  ) {
    this.namespace = settings.namespace;
    this.retrier = new Retrier({
      clock: settings.clock,
      log: settings.log,
      policy: {
        ...defaultRetryPolicy,
        budgetMs: budgetFor(transport.requestTimeoutMs),
        ...settings.retry,
      },
    });
  }

  /** A request with the retry rules of its kind (see retry.ts); JSON answer. */
  private call<T>(kind: RequestKind, req: HttpRequest): Promise<T> {
    return this.retried(kind, req, () => this.transport.request<T>(this.prepared(kind, req)));
  }

  /** The same, for an answer kept as text. */
  private callText(kind: RequestKind, req: HttpRequest): Promise<string> {
    return this.retried(kind, req, () => this.transport.requestText(this.prepared(kind, req)));
  }

  private prepared(kind: RequestKind, req: HttpRequest): HttpRequest {
    return effectiveKind(kind, req) === "write" ? { ...req, freshConnection: true } : req;
  }

  private retried<T>(kind: RequestKind, req: HttpRequest, attempt: () => Promise<T>): Promise<T> {
    return this.retrier.run(
      this.transport.describe(req),
      effectiveKind(kind, req),
      combine(this.transport.signal, req.signal),
      attempt,
    );
  }

  get server(): string {
    return this.transport.server;
  }

  get context(): string {
    return this.transport.context;
  }

  serverVersion(): Promise<ServerVersion> {
    return this.call<ServerVersion>("read", { method: "GET", path: "/version" });
  }

  kubevirtVersion(): Promise<KubeVirtVersionInfo> {
    return this.call<KubeVirtVersionInfo>("read", {
      method: "GET",
      path: `/apis/${subresourceGroup}/${subresourceVersion}/version`,
    });
  }

  get<R extends ResourceName>(resource: R, name: string, namespace?: string): Promise<ObjectOf<R>> {
    const descriptor = resources[resource];
    const ns = descriptor.namespaced ? (namespace ?? this.namespace) : undefined;
    return this.call<ObjectOf<R>>("read", { method: "GET", path: resourcePath(descriptor, ns, name) });
  }

  async list<R extends ResourceName>(resource: R, options: ListOptions = {}): Promise<ObjectOf<R>[]> {
    const all: ObjectOf<R>[] = [];
    for await (const page of this.listPages(resource, options)) all.push(...page);
    return all;
  }

  /**
   * Pages of `limit` objects. A continue token that expires on the way (410) starts the list over,
   * at most twice, leaving out the objects already delivered.
   */
  async *listPages<R extends ResourceName>(
    resource: R,
    options: ListOptions = {},
  ): AsyncGenerator<ObjectOf<R>[]> {
    const delivered = new Set<string>();
    let restarts = 0;
    let token: string | undefined;
    for (;;) {
      let page: KubeList<ObjectOf<R>>;
      try {
        page = await this.listPage(resource, options, token);
      } catch (error) {
        if (token === undefined || !(error instanceof ApiError) || error.status !== 410 || restarts >= 2) {
          throw error;
        }
        restarts += 1;
        token = undefined;
        this.settings.log?.(
          `list of ${resources[resource].plural}: the continue token expired; listing again`,
        );
        continue;
      }
      const items =
        restarts === 0 ? page.items : page.items.filter((o) => !delivered.has(objectKey(o.metadata)));
      for (const object of items) delivered.add(objectKey(object.metadata));
      yield items;
      token = page.metadata.continue || undefined;
      if (token === undefined) return;
    }
  }

  async *listStream<R extends ResourceName>(
    resource: R,
    options: ListOptions = {},
  ): AsyncGenerator<ListPiece<ObjectOf<R>>> {
    // Each page is one request, tried again like every read. A page tried again after a failure
    // on the way, or a list started over (410), goes on after the last object handed on: the API
    // server sends a list in the order of its keys (namespace/name), and a continue token means
    // "from the next key". So nothing is remembered per object, and memory stays flat.
    let lastKey: string | undefined;
    let resumeAfter: string | undefined;
    let restarts = 0;
    let token: string | undefined;
    for (;;) {
      const req = this.listRequest(resource, options, token);
      const pieces: ObjectOf<R>[][] = [];
      let wake: (() => void) | undefined;
      let done = false;
      let failure: { error: unknown } | undefined;
      let meta: ListMeta | undefined;
      let tries = 0;
      // The page's answer pushes its objects here as they are parsed; the loop below hands them on.
      this.retried("read", req, async () => {
        if (tries++ > 0) resumeAfter = lastKey;
        const hand = (parsed: ObjectOf<R>[]) => {
          let objects = parsed;
          const after = resumeAfter;
          if (after !== undefined) {
            objects = objects.filter((o) => objectKey(o.metadata) > after);
            if (objects.length > 0) resumeAfter = undefined;
          }
          const last = objects.at(-1);
          if (last === undefined) return;
          lastKey = objectKey(last.metadata);
          pieces.push(objects);
          wake?.();
        };
        // A small answer is kept and parsed whole at its end (JSON.parse: a third of the reader's
        // time, less still before the reader's loop is compiled, as in a short command); one that
        // grows past smallListBytes goes through the reader from then on, object by object.
        let reader: ListReader<ObjectOf<R>> | undefined;
        let kept: Buffer[] = [];
        let keptBytes = 0;
        await this.transport.requestChunks(req, (chunk) => {
          if (reader === undefined) {
            kept.push(chunk);
            keptBytes += chunk.length;
            if (keptBytes <= smallListBytes) return;
            reader = new ListReader<ObjectOf<R>>();
            for (const piece of kept) hand(reader.push(piece));
            kept = [];
            return;
          }
          hand(reader.push(chunk));
        });
        if (reader === undefined) {
          const body = Buffer.concat(kept);
          const page = parseListPage<ObjectOf<R>>(body);
          if (page === undefined) {
            throw unparsableAnswer(body.subarray(0, 64).toString("utf8"), this.transport.describe(req));
          }
          hand(page.items);
          return page.meta;
        }
        try {
          return reader.end();
        } catch {
          throw unparsableAnswer(reader.head, this.transport.describe(req));
        }
      })
        .then(
          (value) => {
            meta = value;
          },
          (error: unknown) => {
            failure = { error };
          },
        )
        .finally(() => {
          done = true;
          wake?.();
        });
      for (;;) {
        const objects = pieces.shift();
        if (objects !== undefined) {
          yield { objects, pageEnd: false };
          continue;
        }
        if (done) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if (failure !== undefined) {
        const { error } = failure;
        if (token === undefined || !(error instanceof ApiError) || error.status !== 410 || restarts >= 2) {
          throw error;
        }
        restarts += 1;
        token = undefined;
        resumeAfter = lastKey;
        this.settings.log?.(
          `list of ${resources[resource].plural}: the continue token expired; listing again`,
        );
        continue;
      }
      yield { objects: [], pageEnd: true };
      token = meta?.metadata?.continue || undefined;
      if (token === undefined) return;
    }
  }

  watch<R extends ResourceName>(resource: R, options: WatchOptions): AsyncIterable<WatchUpdate<ObjectOf<R>>> {
    const descriptor = resources[resource];
    const path = resourcePath(descriptor, options.namespace);
    const { labelSelector, fieldSelector } = options;
    return listThenWatch<ObjectOf<R>>(
      {
        // Each page tried once: the watch loop waits out what fails, without a budget (a follow).
        listPage: (token) =>
          this.transport.request<KubeList<ObjectOf<R>>>(this.listRequest(resource, options, token)),
        openWatch: (resourceVersion) =>
          this.transport.stream({
            method: "GET",
            path,
            query: {
              watch: 1,
              resourceVersion,
              allowWatchBookmarks: true,
              timeoutSeconds: watchTimeoutSeconds,
              labelSelector,
              fieldSelector,
            },
            idleTimeoutMs: watchIdleTimeoutMs,
            signal: options.signal,
          }),
      },
      {
        signal: combine(options.signal, this.transport.signal) ?? options.signal,
        clock: this.settings.clock,
        log: this.settings.log,
        what: `${descriptor.plural}${options.namespace === undefined ? "" : ` in ${options.namespace}`}`,
        retry: this.retrier.streak(),
        request: this.transport.describe({
          method: "GET",
          path,
          query: { watch: 1, labelSelector, fieldSelector },
        }),
        outage: options.outage,
      },
    );
  }

  async findKubeVirt(): Promise<KubeVirt | undefined> {
    const all = await this.list("kubevirt");
    // More than one CR is an unsupported installation; KubeVirt itself uses the oldest.
    return all.sort((a, b) =>
      compareText(a.metadata.creationTimestamp ?? "", b.metadata.creationTimestamp ?? ""),
    )[0];
  }

  async findVirtController(kubevirtNamespace: string): Promise<Deployment | undefined> {
    try {
      return await this.get("deployment", "virt-controller", kubevirtNamespace);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  createMigration(
    namespace: string,
    migration: VirtualMachineInstanceMigration,
    options?: DryRunOption,
  ): Promise<VirtualMachineInstanceMigration> {
    return this.call<VirtualMachineInstanceMigration>("write", {
      method: "POST",
      path: resourcePath(resources.vmim, namespace),
      query: dryRunQuery(options),
      body: { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstanceMigration", ...migration },
    });
  }

  async deleteMigration(
    namespace: string,
    name: string,
    options: DeleteMigrationOptions = {},
  ): Promise<void> {
    // Not retried when it may have arrived, precondition or not: see retry.ts.
    await this.call("write", {
      method: "DELETE",
      path: resourcePath(resources.vmim, namespace, name),
      body: {
        apiVersion: "v1",
        kind: "DeleteOptions",
        ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
        ...(options.dryRun ? { dryRun: ["All"] } : {}),
      },
    });
  }

  async migrate(namespace: string, vmName: string, options: MigrateOptions = {}): Promise<void> {
    // A PUT, but not idempotent: a second one that arrives starts a second migration.
    await this.callText("write", {
      method: "PUT",
      path: subresourcePath(namespace, vmName, "migrate"),
      body: options,
    });
  }

  async restart(namespace: string, vmName: string, options: RestartOptions = {}): Promise<void> {
    await this.callText("write", {
      method: "PUT",
      path: subresourcePath(namespace, vmName, "restart"),
      body: options,
    });
  }

  setNodeUnschedulable(
    node: string,
    unschedulable: boolean,
    options: DryRunOption & { annotations?: Record<string, string | null> } = {},
  ): Promise<Node> {
    // A merge patch: null removes the field, as kubectl uncordon leaves no `unschedulable: false`.
    const annotations = options.annotations;
    return this.call<Node>("write", {
      method: "PATCH",
      path: resourcePath(resources.node, undefined, node),
      query: dryRunQuery(options),
      contentType: "application/merge-patch+json",
      body: {
        ...(annotations && Object.keys(annotations).length > 0 ? { metadata: { annotations } } : {}),
        spec: { unschedulable: unschedulable ? true : null },
      },
    });
  }

  async evictPod(namespace: string, pod: string, options: DryRunOption = {}): Promise<void> {
    // The 429 of a refusal comes back as an EvictionRefusedError, never sent again (retry.ts).
    await this.call("write", {
      method: "POST",
      path: resourcePath(resources.pod, namespace, pod, "eviction"),
      body: {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: pod, namespace },
        ...(options.dryRun ? { deleteOptions: { dryRun: ["All"] } } : {}),
      },
    });
  }

  async evacuateCancel(
    namespace: string,
    vmi: string,
    evacuationNodeName: string,
    options: DryRunOption = {},
  ): Promise<void> {
    const path = `/apis/${subresourceGroup}/${subresourceVersion}/namespaces/${encodeURIComponent(namespace)}/virtualmachineinstances/${encodeURIComponent(vmi)}/evacuate/cancel`;
    try {
      await this.callText("write", {
        method: "PUT",
        path,
        body: { evacuationNodeName, ...(options.dryRun ? { dryRun: ["All"] } : {}) },
      });
    } catch (error) {
      throw evacuateCancelError(error, namespace, vmi);
    }
  }

  podLogs(namespace: string, pod: string, options: LogOptions): Promise<string> {
    return this.callText("read", {
      method: "GET",
      path: `${resourcePath(resources.pod, namespace, pod)}/log`,
      query: logQuery(options, false),
      signal: options.signal,
    });
  }

  /**
   * Follows a log; a dropped stream is reopened from the time of the last line delivered
   * (sinceTime, with the lines of that same time already delivered skipped), so no line comes
   * twice. That needs the kubelet's timestamps, which are asked for and taken off again unless
   * the caller wants them. A log that ends cleanly is reopened once from its last line: a
   * container that stopped has nothing more (or its pod is gone), and the follow ends; a stream
   * something cut short carries on. Like a watch, a follow has no retry budget: an API server
   * that is away is waited out until the signal aborts.
   */
  async *followPodLogs(
    namespace: string,
    pod: string,
    options: LogOptions & { signal: AbortSignal },
  ): AsyncGenerator<string> {
    const { clock, log } = this.settings;
    const path = `${resourcePath(resources.pod, namespace, pod)}/log`;
    const signal = combine(options.signal, this.transport.signal) ?? options.signal;
    const streak = this.retrier.streak();
    const position = new LogPosition();
    /** The stream ended cleanly before: the container may have stopped, or the stream was cut. */
    let endedBefore = false;
    for (;;) {
      const query = position.resumeAt
        ? { container: options.container, timestamps: true, follow: true, sinceTime: position.resumeAt }
        : { ...logQuery(options, true), timestamps: true };
      let stream: LineStream | undefined;
      try {
        stream = await this.transport.stream({ method: "GET", path, query, signal: options.signal });
        let fresh = 0;
        for await (const raw of stream) {
          const line = position.take(raw);
          streak.reset();
          if (line === undefined) continue;
          fresh += 1;
          if (options.timestamps) yield raw;
          else if (line.trim() !== "") yield line;
        }
        if (signal.aborted) return;
        // A clean end: the container stopped, or something cut the stream short. Reopening from
        // the last line tells them apart (a stopped container has nothing more).
        if (!position.reopenable || (endedBefore && fresh === 0)) return;
        endedBefore = true;
        log?.(
          `log of ${namespace}/${pod} (${options.container}) ended; reopening from ${position.resumeAt} in case it was cut short`,
        );
        position.reopen();
      } catch (error) {
        if (signal.aborted) return;
        const verdict = classify(error, "read");
        // Reopened after an end, and the pod or its log is gone now: the log is over.
        if (!verdict.retry && endedBefore) return;
        // Lines without a time cannot be resumed without repeating some.
        if (!verdict.retry || !position.resumable) throw error;
        const next = streak.nextWait(serverWaitMs(error, clock, this.retrier.policy));
        log?.(
          `log of ${namespace}/${pod} (${options.container}) dropped (${shortReason(error)}); resuming${position.resumeAt ? ` from ${position.resumeAt}` : ""} in ${next.waitMs}ms`,
        );
        try {
          await clock.sleep(next.waitMs, signal);
        } catch {
          return;
        }
        position.reopen();
      } finally {
        stream?.close();
      }
    }
  }

  async canI(check: AccessCheck): Promise<AccessResult> {
    // A review changes nothing: a read, whatever its method.
    const review = await this.call<SelfSubjectAccessReview>("read", {
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { ...check } },
      },
    });
    return { allowed: review.status?.allowed === true, reason: review.status?.reason };
  }

  close(): void {
    this.transport.close();
  }

  private listPage<R extends ResourceName>(
    resource: R,
    options: ListOptions,
    token: string | undefined,
  ): Promise<KubeList<ObjectOf<R>>> {
    return this.call<KubeList<ObjectOf<R>>>("read", this.listRequest(resource, options, token));
  }

  private listRequest(resource: ResourceName, options: ListOptions, token: string | undefined): HttpRequest {
    return {
      method: "GET",
      path: resourcePath(resources[resource], options.namespace),
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.pageSize ?? defaultPageSize,
        continue: token,
      },
      ...(options.metadataOnly ? { accept: metadataListAccept } : {}),
      signal: options.signal,
    };
  }
}

/**
 * A 404 that does not name the VMI is virt-api without the evacuate/cancel subresource (before
 * KubeVirt v1.7); a missing VMI's 404 names it and stays as it is.
 */
function evacuateCancelError(error: unknown, namespace: string, vmi: string): unknown {
  if (!(error instanceof ApiError) || error.status !== 404 || error.message.includes(`"${vmi}"`))
    return error;
  const patch = JSON.stringify([{ op: "remove", path: "/status/evacuationNodeName" }]);
  return new ApiError(
    `evacuate/cancel needs KubeVirt v1.7 or newer: this cluster's virt-api does not serve it (${error.message})`,
    404,
    error.reason,
    ExitCode.notFound,
    {
      hint: `on an older KubeVirt, stop the evacuation of ${namespace}/${vmi} by clearing the VMI's status.evacuationNodeName: ${commandLine(["kubectl", "patch", "vmi", vmi, "-n", namespace, "--type=json", "-p", patch])}`,
      cause: error,
    },
  );
}

function logQuery(
  options: LogOptions,
  follow: boolean,
): Record<string, string | number | boolean | undefined> {
  return {
    container: options.container,
    tailLines: options.tailLines,
    sinceSeconds: options.sinceSeconds,
    timestamps: options.timestamps ? true : undefined,
    follow: follow ? true : undefined,
  };
}

/** A log line's kubelet timestamp (RFC 3339, up to nanoseconds) as seconds and nanoseconds. */
function parseLogTime(line: string): { seconds: number; nanos: number; since: string } | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) /.exec(line);
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const seconds = ms / 1000;
  return {
    seconds,
    nanos: Number((match[2] ?? "").padEnd(9, "0")),
    since: `${new Date(ms).toISOString().slice(0, 19)}Z`,
  };
}

/** Where a followed log is: the time of the last line delivered and how many lines had it. */
class LogPosition {
  /** sinceTime for a reopened stream (whole seconds, as the API takes it). */
  resumeAt: string | undefined;
  private last: { seconds: number; nanos: number } | undefined;
  private atLast = 0;
  /** While reopened: lines of the last time still to skip. */
  private skipping = false;
  private skipAtLast = 0;
  private untimed = false;
  private delivered = 0;

  /** Whether a reopened stream can carry on without repeating a line. */
  get resumable(): boolean {
    return this.delivered === 0 || !this.untimed;
  }

  /** Whether lines with their times were delivered, so a reopened stream starts after them. */
  get reopenable(): boolean {
    return this.resumeAt !== undefined && !this.untimed;
  }

  /** The line without its time, or undefined when it was delivered before the stream dropped. */
  take(raw: string): string | undefined {
    const time = parseLogTime(raw);
    if (!time) {
      this.untimed = true;
      this.delivered += 1;
      return raw;
    }
    const text = raw.slice(raw.indexOf(" ") + 1);
    if (this.skipping && this.last) {
      const order = time.seconds - this.last.seconds || time.nanos - this.last.nanos;
      if (order < 0) return undefined;
      if (order === 0 && this.skipAtLast > 0) {
        this.skipAtLast -= 1;
        return undefined;
      }
      this.skipping = false;
    }
    if (this.last && time.seconds === this.last.seconds && time.nanos === this.last.nanos) this.atLast += 1;
    else {
      this.last = { seconds: time.seconds, nanos: time.nanos };
      this.atLast = 1;
    }
    this.resumeAt = time.since;
    this.delivered += 1;
    return text;
  }

  /** A stream is being reopened from `resumeAt`. */
  reopen(): void {
    if (this.last === undefined) return;
    this.skipping = true;
    this.skipAtLast = this.atLast;
  }
}
