// A scripted API server on loopback HTTPS: each test says which requests it expects and what to
// answer. A request nobody expected is answered 500 and recorded, and the test fails on it.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, expect } from "vitest";
import { statusError } from "../../src/sim/status.js";
import { createTestPki, type TestPki } from "./tls.js";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

interface Route {
  method: string;
  path: string | RegExp;
  handler: Handler;
  /** Routes added with `once` answer one request, in the order they were added. */
  once: boolean;
  used: number;
}

export class ScriptedApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly unexpected: string[] = [];
  private readonly routes: Route[] = [];

  private constructor(
    private readonly server: Server,
    readonly pki: TestPki,
    readonly url: string,
  ) {}

  static async start(pki?: TestPki): Promise<ScriptedApiServer> {
    const keys = pki ?? (await createTestPki());
    const server = createServer({ cert: keys.certPem, key: keys.keyPem });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const scripted = new ScriptedApiServer(server, keys, `https://127.0.0.1:${port}`);
    server.on("request", (req, res) => void scripted.dispatch(req, res));
    return scripted;
  }

  /** Answers every matching request. */
  on(method: string, path: string | RegExp, handler: Handler): this {
    this.routes.push({ method, path, handler, once: false, used: 0 });
    return this;
  }

  /** Answers the next matching request only; several `once` routes for one path answer in turn. */
  once(method: string, path: string | RegExp, handler: Handler): this {
    this.routes.push({ method, path, handler, once: true, used: 0 });
    return this;
  }

  /** `once` routes nobody used. */
  pendingRoutes(): string[] {
    return this.routes.filter((r) => r.once && r.used === 0).map((r) => `${r.method} ${String(r.path)}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    this.requests.push(recorded);
    const route = this.routes.find(
      (r) =>
        r.method === recorded.method &&
        (typeof r.path === "string" ? r.path === recorded.path : r.path.test(recorded.path)) &&
        !(r.once && r.used > 0),
    );
    if (!route) {
      this.unexpected.push(`${recorded.method} ${recorded.path}?${recorded.query}`);
      sendStatus(res, 500, "InternalError", `unexpected request ${recorded.method} ${recorded.path}`);
      return;
    }
    route.used += 1;
    await route.handler(recorded, res);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

/** An error answer in the API server's own shape. */
export function sendStatus(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): void {
  sendJson(res, code, statusError(code, reason, message, details).status);
}

/** Starts a chunked watch answer; write events with `writeEvent`, then end or destroy. */
export function startStream(res: ServerResponse): void {
  res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
  res.flushHeaders();
}

export function writeEvent(res: ServerResponse, type: string, object: unknown): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

/**
 * A fresh scripted server for each test of the calling file (or describe block), closed after
 * it; a request nobody scripted fails the test. Returns the current test's server.
 */
export function serverPerTest(): () => ScriptedApiServer {
  let server: ScriptedApiServer | undefined;
  beforeEach(async () => {
    server = await ScriptedApiServer.start();
  });
  afterEach(async () => {
    const done = server;
    server = undefined;
    await done?.close();
    expect(done?.unexpected).toEqual([]);
  });
  return () => {
    if (!server) throw new Error("the scripted server exists only while a test runs");
    return server;
  };
}
