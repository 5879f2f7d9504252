// The simulated API server's front door: HTTPS on loopback, bearer-token authentication,
// authorization, routing to discovery, resource verbs, watches, pod logs, the self-review
// APIs and KubeVirt's subresource API.

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { notFoundFor, ResourceApi, type ResourceRequest } from "./api.js";
import type { ApiFaults, FaultableServer } from "./api-faults.js";
import {
  authenticate,
  authorize,
  impersonated,
  type RequestAttributes,
  type SimUser,
  selfSubjectAccessReview,
  selfSubjectReview,
  selfSubjectRulesReview,
} from "./auth.js";
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions } from "./discovery.js";
import { dryRunOf, negotiate, parseBody, queryFlag, readBody, sendError, sendJson } from "./http.js";
import type { LogStore } from "./logs.js";
import { openApiDocument, openApiRoot } from "./openapi.js";
import type { Pki } from "./pki.js";
import { servePodLog } from "./pod-logs.js";
import { nameFromFieldSelector, RbacAuthorizer } from "./rbac.js";
import { apiVersionOf, deprecatedVersions, kubevirtSubresourceGroup } from "./registry.js";
import { parseRoute, type Route } from "./routes.js";
import { methodNotAllowed, pathNotFound, statusError, unauthorized } from "./status.js";
import type { SimObject, Store } from "./store.js";
import { serveWatch, type WatchSettings } from "./watch-stream.js";

export interface KubevirtActionRequest {
  action: string;
  resource: "virtualmachines" | "virtualmachineinstances";
  namespace: string;
  name: string;
  body: unknown;
  user: SimUser;
}

export interface KubevirtActionResult {
  code: number;
  body?: unknown;
}

/** virt-api's handlers (migrate, restart, ...): the cluster's behaviour plugs in here. */
export type KubevirtActions = (request: KubevirtActionRequest) => KubevirtActionResult;

/**
 * One request the API server handled, as `kvmig sim --request-log` writes it (one JSON line
 * each) and `SimCluster.onRequest` hands it: when it ended, what was asked, the status sent, and
 * who asked (the authenticated user, the client's User-Agent) when known.
 */
export interface SimRequestRecord {
  /** Wall-clock time the response ended (ISO 8601). */
  time: string;
  /** The simulated clock then (ISO 8601): what the objects' timestamps say. */
  simTime: string;
  method: string;
  /** The path with its query string, as sent. */
  path: string;
  /** The status sent; 0 when the connection went before a status was sent. */
  status: number;
  user?: string;
  userAgent?: string;
  durationMs: number;
  /** The client or the server closed the connection before the response ended (a watch, a follow). */
  aborted?: true;
}

export interface SimServerOptions {
  store: Store;
  logs: LogStore;
  users: readonly SimUser[];
  pki: Pki;
  now: () => number;
  port?: number | undefined;
  serverVersion: object;
  kubevirtVersion: object;
  kubevirtActions?: KubevirtActions | undefined;
  /** KubeVirt's pod-eviction webhook: throws the 429 that refuses an eviction it turns into a migration. */
  evictionWebhook?: ((pod: SimObject, dryRun: boolean, eviction: unknown) => void) | undefined;
  watch?: Partial<WatchSettings> | undefined;
  /** One line per request (method, path, user, status), for `kvmig sim -v`. */
  log?: ((line: string) => void) | undefined;
  /** API faults (errors, latency, dropped watches, outages, paced logs): api-faults.ts. */
  faults?: ApiFaults | undefined;
  /** Who may do what (default: RBAC over the roles and bindings in the store). */
  authorizer?: RbacAuthorizer | undefined;
  /**
   * API groups this cluster does not have (an add-on not installed: kubernetes-nmstate's
   * `nmstate.io`): left out of discovery and OpenAPI, and every path under them is a 404.
   */
  absentGroups?: ReadonlySet<string> | undefined;
}

export class SimServer implements FaultableServer {
  private readonly server: Server;
  private readonly api: ResourceApi;
  private readonly watchSettings: WatchSettings;
  private address: AddressInfo | undefined;
  /** Every open TCP connection, for an outage to drop. */
  private readonly sockets = new Set<Socket>();
  private closing = false;

  private readonly authorizer: RbacAuthorizer;
  private readonly requestListeners = new Set<(record: SimRequestRecord) => void>();

  constructor(private readonly options: SimServerOptions) {
    this.authorizer = options.authorizer ?? new RbacAuthorizer(options.store);
    this.api = new ResourceApi(options.store, options.now);
    this.watchSettings = { bookmarkIntervalMs: 60_000, defaultTimeoutSeconds: 1800, ...options.watch };
    this.server = createServer({ key: options.pki.keyPem, cert: options.pki.certPem }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => sendError(res, error));
    });
    // Long watches and log follows are normal; the server never times them out on its own.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 65_000;
    this.server.on("connection", (socket: Socket) => {
      if (options.faults && !options.faults.acceptConnection()) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port ?? 0, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.address = this.server.address() as AddressInfo;
  }

  get port(): number {
    return this.address?.port ?? 0;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Calls `listener` as each request ends (after its response, or when its connection went); returns the unsubscribe. */
  onRequest(listener: (record: SimRequestRecord) => void): () => void {
    this.requestListeners.add(listener);
    return () => this.requestListeners.delete(listener);
  }

  private recordRequest(
    req: IncomingMessage,
    res: ServerResponse,
    user: SimUser | undefined,
    started: number,
  ): void {
    if (this.requestListeners.size === 0) return;
    const agent = req.headers["user-agent"];
    const record: SimRequestRecord = {
      time: new Date().toISOString(),
      simTime: new Date(this.options.now()).toISOString(),
      method: req.method ?? "GET",
      path: req.url ?? "/",
      status: res.headersSent ? res.statusCode : 0,
      ...(user ? { user: user.name } : {}),
      ...(agent ? { userAgent: agent } : {}),
      durationMs: Math.round(performance.now() - started),
      ...(res.writableFinished ? {} : { aborted: true as const }),
    };
    for (const listener of this.requestListeners) listener(record);
  }

  /** An outage (api-faults.ts): every open connection, mid-request or idle, destroyed. */
  dropConnections(): number {
    const count = this.sockets.size;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return count;
  }

  /** An outage: the port closes, so new connections are refused. */
  stopListening(): void {
    if (this.server.listening) this.server.close();
  }

  /** After an outage: the same port again (unless the server closed meanwhile). */
  async listenAgain(): Promise<void> {
    if (this.server.listening || this.closing) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.port, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    if (this.closing) this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const headers: Record<string, string> = { "Audit-Id": randomUUID() };
    let user: SimUser | undefined;
    res.on("finish", () =>
      this.options.log?.(
        `${req.method} ${url.pathname}${url.search} ${user?.name ?? "-"} ${res.statusCode} ${Math.round(performance.now() - started)}ms`,
      ),
    );
    // "close" comes after "finish", and also for a response cut short (a watch the client ended).
    res.once("close", () => this.recordRequest(req, res, user, started));
    try {
      if (this.options.faults && (await this.options.faults.intercept(req, res, url, headers))) return;
      const authenticated = authenticate(this.options.users, req.headers.authorization);
      if (!authenticated) throw unauthorized();
      user = impersonated(this.authorizer, authenticated, req.headers);
      const route = parseRoute(url.pathname);
      if (this.isAbsent(route)) throw pathNotFound();
      await this.dispatch(route, req, res, url, user, headers);
    } catch (error) {
      sendError(res, error, headers);
    }
  }

  /** Whether the route lies in an API group this cluster does not serve (options.absentGroups). */
  private isAbsent(route: Route): boolean {
    const absent = this.options.absentGroups;
    if (!absent || absent.size === 0) return false;
    switch (route.type) {
      case "group":
      case "resourceList":
      case "resource":
        return absent.has(route.group);
      case "openapi":
        return [...absent].some((group) => route.path.startsWith(`/openapi/v3/apis/${group}/`));
      default:
        return false;
    }
  }

  /** Discovery's group list and OpenAPI's root without the groups this cluster does not serve. */
  private withoutAbsent(route: Route, document: object): object {
    const absent = this.options.absentGroups;
    if (!absent || absent.size === 0) return document;
    if (route.type === "groupList") {
      const list = document as { groups: { name: string }[] };
      return { ...list, groups: list.groups.filter((g) => !absent.has(g.name)) };
    }
    if (route.type === "openapi") {
      const root = document as { paths: Record<string, unknown> };
      const paths = Object.entries(root.paths).filter(
        ([path]) => ![...absent].some((group) => path.startsWith(`apis/${group}/`)),
      );
      return { ...root, paths: Object.fromEntries(paths) };
    }
    return document;
  }

  private async dispatch(
    route: Route,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    user: SimUser,
    headers: Record<string, string>,
  ): Promise<void> {
    const method = req.method ?? "GET";
    if (route.type === "resource") {
      await this.resource(route, req, res, url, user, headers);
      return;
    }
    if (route.type === "kubevirt" && route.action !== "version" && route.action !== "healthz") {
      await this.kubevirtAction(route, req, res, user, headers);
      return;
    }
    const verb = method === "GET" || method === "HEAD" ? "get" : method.toLowerCase();
    // virt-api's /version and /healthz are, to the authorizer, collections in its API group.
    const attributes: RequestAttributes =
      route.type === "kubevirt"
        ? { verb: verb === "get" ? "list" : verb, resource: route.action, group: kubevirtSubresourceGroup }
        : { verb, path: url.pathname };
    authorize(this.authorizer, user, attributes);
    if (method !== "GET") throw methodNotAllowed();
    const document = this.document(route);
    if (document === undefined) throw pathNotFound();
    if (typeof document === "string") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", ...headers });
      res.end(document);
      return;
    }
    sendJson(res, 200, this.withoutAbsent(route, document), headers);
  }

  private document(route: Route): object | string | undefined {
    switch (route.type) {
      case "version":
        return this.options.serverVersion;
      case "health":
        return "ok";
      case "openapi":
        return route.path === "/openapi/v3" ? openApiRoot() : openApiDocument(route.path);
      case "apiVersions":
        return apiVersions(`127.0.0.1:${this.port}`);
      case "groupList":
        return apiGroupList();
      case "group":
        return apiGroupDocument(route.group);
      case "resourceList":
        return apiResourceList(route.group, route.version);
      case "kubevirt":
        return route.action === "version" ? this.options.kubevirtVersion : "ok";
      default:
        return undefined;
    }
  }

  private async resource(
    route: Extract<Route, { type: "resource" }>,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    user: SimUser,
    headers: Record<string, string>,
  ): Promise<void> {
    const method = req.method ?? "GET";
    const params = url.searchParams;
    const { res: resource, name, subresource } = route;
    const watch = route.watchPath || queryFlag(params.get("watch"));
    if (subresource !== undefined && !resource.subresources.includes(subresource)) throw pathNotFound();
    if (resource.namespaced && route.namespace === undefined && name !== undefined) throw pathNotFound();
    // POST pods/{name}/eviction creates an Eviction: the one subresource that is posted to.
    const verb =
      subresource === "eviction" && method === "POST"
        ? "create"
        : verbOf(method, name !== undefined && !route.watchPath, watch);
    if (verb === undefined) throw methodNotAllowed();
    const attributes: RequestAttributes = {
      verb,
      resource: resource.plural,
      subresource,
      group: route.group,
      namespace: route.namespace,
      // A list or watch of one object by `metadata.name=` is authorized with that name.
      name:
        name ??
        ((verb === "list" || verb === "watch") && !route.watchPath
          ? nameFromFieldSelector(params.get("fieldSelector"))
          : undefined),
    };
    authorize(this.authorizer, user, attributes);
    const deprecation = deprecatedVersions.get(apiVersionOf(route.group, route.version));
    if (deprecation) headers.Warning = `299 - "${deprecation}"`;

    const request: ResourceRequest = {
      res: resource,
      group: route.group,
      version: route.version,
      namespace: route.namespace,
      name,
      subresource,
      params,
      negotiated: negotiate(req.headers.accept),
      user: user.name,
    };
    const body = method === "GET" ? undefined : parseBody(await readBody(req), req.headers["content-type"]);

    if (resource.virtual) {
      if (verb !== "create") throw methodNotAllowed();
      const review = body as { spec?: never };
      const answer =
        resource.plural === "selfsubjectaccessreviews"
          ? selfSubjectAccessReview(this.authorizer, user, review ?? {})
          : resource.plural === "selfsubjectrulesreviews"
            ? selfSubjectRulesReview(this.authorizer, user, review ?? {})
            : selfSubjectReview(user);
      sendJson(res, 201, answer, headers);
      return;
    }
    switch (verb) {
      case "watch":
        serveWatch(request, res, headers, this.options.store, this.api, this.options.now, this.watchSettings);
        this.options.faults?.watching(res, `${req.method} ${url.pathname}${url.search}`);
        return;
      case "list":
        this.api.list(request, res, headers);
        return;
      case "get":
        if (subresource === "log") {
          const pod = this.options.store.peek(resource.storage, route.namespace, name ?? "");
          if (!pod) throw notFoundFor(request);
          servePodLog(
            pod,
            params,
            res,
            this.options.store,
            this.options.logs,
            this.options.now,
            queryFlag(params.get("follow"))
              ? this.options.faults?.logFollow(`${req.method} ${url.pathname}${url.search}`)
              : undefined,
          );
          return;
        }
        this.api.get(request, res, headers);
        return;
      case "create":
        if (subresource === "eviction") {
          this.evict(request, body, res, headers);
          return;
        }
        this.api.create(request, body, res, headers);
        return;
      case "update":
        this.api.update(request, body, res, headers);
        return;
      case "patch":
        this.api.patch(request, body, req.headers["content-type"], res, headers);
        return;
      case "delete":
        this.api.delete(request, body, res, headers);
        return;
      case "deletecollection":
        this.api.deleteCollection(request, body, res, headers);
        return;
    }
  }

  /** policy/v1 Eviction: KubeVirt's webhook may refuse it for a launcher pod; otherwise the pod goes. */
  private evict(
    request: ResourceRequest,
    body: unknown,
    res: ServerResponse,
    headers: Record<string, string>,
  ): void {
    const pod = this.options.store.peek(request.res.storage, request.namespace, request.name ?? "");
    if (!pod) throw notFoundFor(request);
    const dryRun = dryRunOf(
      request.params,
      (body as { deleteOptions?: { dryRun?: unknown } } | undefined)?.deleteOptions,
    );
    this.options.evictionWebhook?.(pod, dryRun, body);
    if (!dryRun) this.options.store.delete(request.res, request.namespace, request.name ?? "");
    sendJson(
      res,
      201,
      { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 },
      headers,
    );
  }

  private async kubevirtAction(
    route: Extract<Route, { type: "kubevirt" }>,
    req: IncomingMessage,
    res: ServerResponse,
    user: SimUser,
    headers: Record<string, string>,
  ): Promise<void> {
    const verb = req.method === "PUT" ? "update" : req.method === "GET" ? "get" : undefined;
    const resource = route.resource ?? "virtualmachines";
    const attributes: RequestAttributes = {
      verb: verb ?? (req.method ?? "").toLowerCase(),
      resource,
      // The authorizer sees the first segment only (`evacuate` of `evacuate/cancel`), as RequestInfo does.
      subresource: route.action.split("/")[0],
      group: kubevirtSubresourceGroup,
      namespace: route.namespace,
      name: route.name,
    };
    authorize(this.authorizer, user, attributes);
    if (verb === undefined) throw methodNotAllowed();
    const actions = this.options.kubevirtActions;
    if (!actions) {
      throw statusError(
        503,
        "ServiceUnavailable",
        `the simulated virt-api does not handle ${route.action} requests`,
      );
    }
    // virt-api authorizes again (pkg/virt-api/rest/authorizer.go, a SubjectAccessReview for the
    // user the aggregator names): since KubeVirt v1.9 with the whole path after the name as the
    // subresource (`evacuate/cancel`), where kube-apiserver checked its first segment. A refusal
    // there is virt-api's own answer: 401 with the review's reason as plain text (api.go's filter).
    const deep = route.action.split("/")[0] === "portforward" ? "portforward" : route.action;
    if (deep !== attributes.subresource) {
      const decision = this.authorizer.authorize(user, { ...attributes, subresource: deep });
      if (!decision.allowed) {
        res.writeHead(401, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
        res.end(decision.reason);
        return;
      }
    }
    const body = parseBody(await readBody(req), req.headers["content-type"]);
    const result = actions({
      action: route.action,
      resource,
      namespace: route.namespace ?? "",
      name: route.name ?? "",
      body,
      user,
    });
    if (result.body === undefined) {
      res.writeHead(result.code, { ...headers, "Content-Length": 0 });
      res.end();
      return;
    }
    sendJson(res, result.code, result.body, headers);
  }
}

function verbOf(method: string, named: boolean, watch: boolean): string | undefined {
  switch (method) {
    case "GET":
    case "HEAD":
      if (watch) return "watch";
      return named ? "get" : "list";
    case "POST":
      return named ? undefined : "create";
    case "PUT":
      return named ? "update" : undefined;
    case "PATCH":
      return named ? "patch" : undefined;
    case "DELETE":
      return named ? "delete" : "deletecollection";
    default:
      return undefined;
  }
}
