// HTTP to the API server over node:https: one request, or one stream of lines (watch, log follow).
// Auth and TLS settings come from the kubeconfig; errors leave here already mapped.

import http from "node:http";
import https from "node:https";
import net from "node:net";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import tls, { TLSSocket } from "node:tls";
import { timeLimit } from "../duration.js";
import {
  errorFromNetwork,
  errorFromResponse,
  type RequestInfo,
  timeoutError,
  unparsableAnswer,
} from "./api-errors.js";
import { formatSeconds, noteFailure } from "./retry.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type QueryValue = string | number | boolean | undefined;

export interface HttpRequest {
  method: HttpMethod;
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  contentType?: string;
  /** The Accept header; default application/json. */
  accept?: string;
  /**
   * Overrides the transport's request timeout; 0 means none. For a stream it bounds the wait for
   * the answer's headers only (default: the request timeout).
   */
  timeoutMs?: number;
  /** A stream whose body sends nothing for this long is cut, as a dropped stream (default: never). */
  idleTimeoutMs?: number;
  /**
   * Send on a connection of its own, never a pooled one (writes): a failure before that
   * connection is up then proves nothing was sent, and a pooled connection the server is closing
   * at that moment cannot swallow the request.
   */
  freshConnection?: boolean;
  signal?: AbortSignal | undefined;
}

export interface TlsSettings {
  ca?: Buffer | string | undefined;
  cert?: Buffer | string | undefined;
  key?: Buffer | string | undefined;
  pfx?: Buffer | string | undefined;
  passphrase?: string | undefined;
  rejectUnauthorized?: boolean | undefined;
  servername?: string | undefined;
}

export interface TransportConfig {
  /** The cluster's server URL, e.g. https://127.0.0.1:6443 (may carry a path prefix). */
  server: string;
  /** The kubeconfig context name, for messages. */
  context: string;
  tls: TlsSettings;
  /** Headers that authenticate a request (bearer token, exec plugin credential). Called per request. */
  authHeaders: () => Promise<Record<string, string | string[]>>;
  /**
   * The server answered 401 to a request sent with this Authorization: whether to send it once
   * more with fresh headers (an exec plugin's credential can expire without saying when).
   */
  refused?: ((authorization: string | undefined) => boolean) | undefined;
  /** Basic auth "user:password", when the kubeconfig has one. */
  basicAuth?: string | undefined;
  requestTimeoutMs: number;
  /** Verbose log: one line per request; headers and bodies only as logLevel says. */
  log?: ((line: string) => void) | undefined;
  /** kubectl's -v: 7 also logs the headers (credentials redacted), 8 also the bodies, cut short. */
  logLevel?: number | undefined;
  userAgent: string;
  /** The agent to send through instead of our own keep-alive one (a kubeconfig proxy-url). */
  agent?: http.Agent | undefined;
  /** Aborts every request (Ctrl-C); a request may add its own signal. */
  signal?: AbortSignal | undefined;
}

/** A request whose answer has begun to arrive. */
interface Sent {
  response: http.IncomingMessage;
  info: RequestInfo;
  started: number;
  /** The run's signal and the request's own, combined. */
  signal: AbortSignal | undefined;
  /** What cut the request short (our timeout, an abort), if anything did. */
  cutBy: () => unknown;
  /** The Authorization header the request went with. */
  authorization: string | undefined;
}

/** A response body read line by line; `close()` ends it early. */
export interface LineStream extends AsyncIterable<string> {
  close(): void;
}

export class Transport {
  private readonly base: URL;
  private readonly agent: http.Agent;
  /** One connection per request, for writes; undefined with a kubeconfig proxy's agent. */
  private readonly freshAgent: http.Agent | undefined;
  private readonly secure: boolean;
  /** Whether this server has answered anything yet (any HTTP status). */
  private answered = false;

  constructor(private readonly config: TransportConfig) {
    this.base = new URL(config.server);
    this.secure = this.base.protocol === "https:";
    const context = this.secure ? new SharedContext(config.tls) : undefined;
    this.agent = config.agent ?? this.ownAgent(true, context);
    this.freshAgent = config.agent ? undefined : this.ownAgent(false, context);
    // The first connection starts now: its TCP and TLS handshakes overlap the command's own work
    // before its first request (loading its code, reading what it needs).
    if (this.agent instanceof TlsAgent) this.agent.preconnect(this.base);
  }

  private ownAgent(keepAlive: boolean, context: SharedContext | undefined): http.Agent {
    return context ? new TlsAgent(keepAlive, this.config.tls, context) : new http.Agent({ keepAlive });
  }

  get server(): string {
    return this.config.server;
  }

  get context(): string {
    return this.config.context;
  }

  /** The run's signal (Ctrl-C), if any. */
  get signal(): AbortSignal | undefined {
    return this.config.signal;
  }

  get requestTimeoutMs(): number {
    return this.config.requestTimeoutMs;
  }

  /** What a request is, for messages: method, path with query, server, context. */
  describe(req: Pick<HttpRequest, "method" | "path" | "query">): RequestInfo {
    return {
      method: req.method,
      path: `${req.path}${this.url(req).search}`,
      server: this.config.server,
      context: this.config.context,
      kubeconfigCa: hasCa(this.config.tls.ca),
    };
  }

  /** Sends one request and parses the JSON answer; throws a mapped KvmigError on failure. */
  async request<T>(req: HttpRequest): Promise<T> {
    const text = await this.requestText(req);
    if (text === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw unparsableAnswer(text, this.describe(req));
    }
  }

  async requestText(req: HttpRequest): Promise<string> {
    const { response, info, started, cutBy } = await this.send(
      req,
      req.timeoutMs ?? this.config.requestTimeoutMs,
    );
    const body = await readBody(response).catch((error: unknown) => {
      // A body cut by our own timeout or by Ctrl-C reports that, not a network failure.
      const cut = cutBy() ?? errorFromNetwork(error, info);
      noteFailure(cut, { notSent: false, beforeFirstAnswer: false });
      throw cut;
    });
    if ((this.config.logLevel ?? 0) >= 8 && body !== "") this.config.log?.(`  < ${cutShort(body)}`);
    this.logDone(info, response.statusCode ?? 0, started);
    if ((response.statusCode ?? 0) >= 400) throw answerError(response, body, info);
    return body;
  }

  /**
   * Sends one request and hands its answer to `sink` chunk by chunk as it arrives (a page of a
   * long list, read object by object: see list-reader.ts), with the timeouts and errors of
   * requestText. An error answer (4xx, 5xx) is read whole and thrown, never handed on; an error
   * the sink throws ends the answer: the server did not send what a Kubernetes server sends.
   */
  async requestChunks(req: HttpRequest, sink: (chunk: Buffer) => void): Promise<void> {
    const { response, info, started, cutBy } = await this.send(
      req,
      req.timeoutMs ?? this.config.requestTimeoutMs,
    );
    const cut = (error: unknown) => {
      // A body cut by our own timeout or by Ctrl-C reports that, not a network failure.
      const reported = cutBy() ?? errorFromNetwork(error, info);
      noteFailure(reported, { notSent: false, beforeFirstAnswer: false });
      return reported;
    };
    const status = response.statusCode ?? 0;
    if (status >= 400) {
      const body = await readBody(response).catch((error: unknown) => {
        throw cut(error);
      });
      this.logDone(info, status, started);
      throw answerError(response, body, info);
    }
    let head = "";
    await readBody(response, (chunk) => {
      if (head === "") head = chunk.subarray(0, 64).toString("utf8");
      sink(chunk);
    }).catch((error: unknown) => {
      throw error instanceof SinkError ? unparsableAnswer(head, info) : cut(error);
    });
    this.logDone(info, status, started);
  }

  /** Opens a streaming request (watch, follow) and yields its body line by line. */
  async stream(req: HttpRequest): Promise<LineStream> {
    const { response, info, started, signal } = await this.send(
      req,
      req.timeoutMs ?? this.config.requestTimeoutMs,
      true,
    );
    const status = response.statusCode ?? 0;
    if (status >= 400) {
      const body = await readBody(response).catch(() => "");
      this.logDone(info, status, started);
      throw answerError(response, body, info);
    }
    this.logDone(info, status, started, " (stream)");
    return lineStream(response, info, signal, req.idleTimeoutMs ?? 0);
  }

  close(): void {
    this.agent.destroy();
    this.freshAgent?.destroy();
  }

  private url(req: Pick<HttpRequest, "path" | "query">): URL {
    const url = new URL(joinPath(this.base.pathname, req.path), this.base);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /**
   * Sends a request and resolves once its answer begins. `timeoutMs` guards the whole answer,
   * or with `untilHeaders` only until its headers arrive (a stream).
   */
  private async send(req: HttpRequest, timeoutMs: number, untilHeaders = false): Promise<Sent> {
    const sent = await this.sendOnce(req, timeoutMs, untilHeaders);
    // client-go's exec authenticator runs the plugin again after a 401; the request itself is
    // sent once more (nothing was done: authentication comes first), the next 401 stands.
    if (sent.response.statusCode !== 401 || !this.config.refused?.(sent.authorization)) return sent;
    sent.response.resume();
    this.logDone(sent.info, 401, sent.started, " (credential refused: asking for a fresh one)");
    return this.sendOnce(req, timeoutMs, untilHeaders);
  }

  private async sendOnce(req: HttpRequest, timeoutMs: number, untilHeaders: boolean): Promise<Sent> {
    const url = this.url(req);
    const info = this.describe(req);
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string | string[]> = {
      Accept: req.accept ?? "application/json",
      "User-Agent": this.config.userAgent,
      ...(await this.config.authHeaders()),
    };
    if (payload !== undefined) {
      headers["Content-Type"] = req.contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const started = performance.now();
    const signal = combine(this.config.signal, req.signal);
    if (signal?.aborted) throw signal.reason;
    if ((this.config.logLevel ?? 0) >= 7) this.logHeaders(">", `${req.method} ${url.href}`, headers, payload);

    return new Promise((resolve, reject) => {
      const client = this.secure ? https : http;
      const ownAgent = req.freshConnection ? this.freshAgent : undefined;
      const request = client.request(url, {
        method: req.method,
        headers,
        agent: ownAgent ?? this.agent,
        auth: this.config.basicAuth,
      });
      // Whether a byte of the request may have left: not before a fresh connection of our own
      // agent is up (TCP, and the TLS handshake). Any other agent's connection may be up already.
      let mayHaveSent = false;
      request.on("socket", (socket) => {
        if (request.reusedSocket || this.config.agent !== undefined) mayHaveSent = true;
        else if (socket instanceof TLSSocket) {
          // A connection opened ahead (preconnect) may be up already.
          if (secured.has(socket)) mayHaveSent = true;
          else socket.once("secureConnect", () => (mayHaveSent = true));
        } else if (socket.connecting) socket.once("connect", () => (mayHaveSent = true));
        else mayHaveSent = true;
      });
      let settled = false;
      let cutBy: unknown;
      const fail = (error: unknown) => {
        cutBy ??= error;
        if (settled) return;
        settled = true;
        cleanup();
        noteFailure(error, { notSent: !mayHaveSent, beforeFirstAnswer: !this.answered });
        this.logFailed(info, started, error);
        reject(error);
      };
      const limit = timeLimit(timeoutMs);
      const timer =
        limit !== undefined
          ? setTimeout(() => {
              const error = timeoutError(info, timeoutMs);
              noteFailure(error, { timeoutMs });
              request.destroy(error);
              fail(error);
            }, limit)
          : undefined;
      const onAbort = () => {
        request.destroy();
        fail(signal?.reason);
      };
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      request.on("error", (error) => fail(errorFromNetwork(error, info)));
      request.on("response", (response) => {
        if (settled) {
          response.destroy();
          return;
        }
        settled = true;
        this.answered = true;
        if ((this.config.logLevel ?? 0) >= 7)
          this.logHeaders("<", `${response.statusCode ?? 0} ${info.method} ${info.path}`, response.headers);
        if (untilHeaders && timer) clearTimeout(timer);
        // The timeout keeps guarding the body of a plain request; a stream is bounded by its signal.
        if (timer && !untilHeaders) {
          response.on("end", cleanup);
          response.on("close", cleanup);
        } else {
          signal?.removeEventListener("abort", onAbort);
          if (signal) {
            const abortBody = () => {
              cutBy ??= signal.reason;
              response.destroy();
            };
            signal.addEventListener("abort", abortBody, { once: true });
            response.on("close", () => signal.removeEventListener("abort", abortBody));
          }
        }
        const authorization = headers.Authorization;
        resolve({
          response,
          info,
          started,
          signal,
          cutBy: () => cutBy,
          authorization: typeof authorization === "string" ? authorization : undefined,
        });
      });
      request.end(payload);
    });
  }

  /** -v=7: a request's (>) or answer's (<) headers, credentials redacted; -v=8 the request body too. */
  private logHeaders(
    way: ">" | "<",
    what: string,
    headers: Record<string, string | string[] | number | undefined>,
    body?: string,
  ): void {
    const log = this.config.log;
    if (!log) return;
    log(`  ${way} ${what}`);
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      const shown = secretHeaders.has(name.toLowerCase()) ? redacted(String(value)) : String(value);
      log(`  ${way} ${name}: ${shown}`);
    }
    if (body !== undefined && (this.config.logLevel ?? 0) >= 8) log(`  ${way} ${cutShort(body)}`);
  }

  private logDone(info: RequestInfo, status: number, started: number, suffix = ""): void {
    this.config.log?.(
      `${info.method} ${info.path} ${status} ${http.STATUS_CODES[status] ?? ""} in ${elapsed(started)}${suffix}`,
    );
  }

  private logFailed(info: RequestInfo, started: number, error: unknown): void {
    const reason = error instanceof Error ? error.message : "aborted";
    this.config.log?.(`${info.method} ${info.path} failed in ${elapsed(started)}: ${reason}`);
  }
}

/** Headers whose values are credentials: -v=7 shows their scheme only. */
const secretHeaders = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

/** `Bearer <redacted>`: the scheme stays, the credential does not (kubectl masks it the same way). */
function redacted(value: string): string {
  const scheme = /^(\w+) /.exec(value)?.[1];
  return scheme ? `${scheme} <redacted>` : "<redacted>";
}

/** A body for -v=8: its first 1 KiB of characters, and how much more there was. */
function cutShort(body: string): string {
  const max = 1024;
  return body.length <= max ? body : `${body.slice(0, max)} … (${body.length - max} more characters)`;
}

/** The mapped error of an error answer, with what it says about waiting before a retry. */
function answerError(response: http.IncomingMessage, body: string, info: RequestInfo): Error {
  const error = errorFromResponse(response.statusCode ?? 0, body, info);
  const header = response.headers["retry-after"];
  noteFailure(error, {
    notSent: false,
    beforeFirstAnswer: false,
    status: response.statusCode ?? 0,
    retryAfterHeader: Array.isArray(header) ? header[0] : header,
    retryAfterSeconds: statusRetryAfter(body),
  });
  return error;
}

function statusRetryAfter(body: string): number | undefined {
  try {
    const seconds = (JSON.parse(body) as { details?: { retryAfterSeconds?: unknown } })?.details
      ?.retryAfterSeconds;
    return typeof seconds === "number" ? seconds : undefined;
  } catch {
    return undefined;
  }
}

export function combine(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return AbortSignal.any([a, b]);
}

function elapsed(started: number): string {
  return `${Math.round(performance.now() - started)}ms`;
}

function joinPath(prefix: string, path: string): string {
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return `${trimmed}${path}`;
}

/** The options without their undefined entries. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** TLS sockets whose handshake is done. */
const secured = new WeakSet<Duplex>();

/**
 * The kubeconfig's CA, client certificate and key as one SecureContext for every connection of a
 * run: Node otherwise builds one per connection, parsing the CA each time (about 1 ms each; 7 of
 * diagnose's 9 parallel reads). Built on first use, in the agent's createConnection, where
 * tls.connect would build its own: an unreadable key fails the request as before.
 */
class SharedContext {
  private context: tls.SecureContext | undefined;

  constructor(private readonly settings: TlsSettings) {}

  get(): tls.SecureContext {
    const { ca, cert, key, pfx, passphrase } = this.settings;
    this.context ??= tls.createSecureContext(definedOnly({ ca, cert, key, pfx, passphrase }));
    return this.context;
  }
}

type CreateCallback = (error: Error | null, socket?: Duplex) => void;

/**
 * Our HTTPS agent: the shared SecureContext, a first connection that may be opened ahead
 * (preconnect), and one full TLS handshake per run. Connections asked for while the first one's
 * handshake is under way wait for its TLS session, then resume it (https.Agent keeps the
 * session: no certificate to send and verify again); a request that finds the first connection
 * free by then takes it. Parallel requests otherwise open one full handshake each at once.
 */
class TlsAgent extends https.Agent {
  /** The first connection's handshake: resolved with its session, or when it ends without one. */
  private first: Promise<void> | undefined;
  private firstDone = false;
  /** The connection preconnect opened, until a request takes it. */
  private ahead: { socket: TLSSocket; key: string } | undefined;

  constructor(
    keepAlive: boolean,
    settings: TlsSettings,
    private readonly context: SharedContext,
  ) {
    const { rejectUnauthorized, servername } = settings;
    super({ keepAlive, ...definedOnly({ rejectUnauthorized, servername }) });
  }

  /** Opens the first connection now, for the first request to take. Never throws. */
  preconnect(base: URL): void {
    if (this.first !== undefined) return;
    try {
      // The options the agent gives createConnection for a request to `base` (see addRequest):
      // the same name means the same pool and TLS session cache.
      const host = base.hostname.replace(/^\[(.*)\]$/, "$1");
      const options: https.RequestOptions & { _agentKey?: string } = {
        ...this.options,
        host,
        port: Number(base.port || 443),
        servername: net.isIP(host) ? "" : host,
      };
      options._agentKey = this.getName(options);
      const socket = this.open(options);
      // Unclaimed, it must not hold the process, and an error is only kept: the first request
      // gets a connection of its own instead, and that one reports it.
      socket.unref();
      socket.on("error", () => {});
      this.ahead = { socket, key: options._agentKey };
    } catch {
      // The first request opens its connection and reports what went wrong.
    }
  }

  override createConnection(...args: unknown[]): Duplex | undefined {
    const options = args[0] as https.RequestOptions;
    const oncreate = args.at(-1) as CreateCallback;
    const ahead = this.ahead;
    this.ahead = undefined;
    const key = (options as { _agentKey?: string })._agentKey;
    if (ahead && !ahead.socket.destroyed && ahead.key === key) return ahead.socket.ref();
    ahead?.socket.destroy();
    if (this.first === undefined || this.firstDone) return this.open(options);
    void this.first.then(() => {
      try {
        oncreate(null, this.open(options));
      } catch (error) {
        oncreate(error as Error);
      }
    });
    return undefined;
  }

  override destroy(): void {
    this.ahead?.socket.destroy();
    this.ahead = undefined;
    super.destroy();
  }

  /** A connection through https.Agent's own (its TLS session cache), with the shared context. */
  private open(options: https.RequestOptions): TLSSocket {
    const socket = super.createConnection({
      ...options,
      secureContext: this.context.get(),
    } as never) as unknown as TLSSocket;
    socket.once("secureConnect", () => secured.add(socket));
    if (this.first === undefined) {
      this.first = new Promise<void>((resolve) => {
        const done = () => {
          this.firstDone = true;
          resolve();
        };
        socket.once("session", done);
        socket.once("close", done);
        // TLS 1.2 gives its session with the handshake; TLS 1.3 sends tickets after it.
        socket.once("secureConnect", () => {
          if (socket.getProtocol() !== "TLSv1.3") done();
        });
      });
    }
    return socket;
  }
}

/** What a body's sink threw (readBody's error otherwise is the network's). */
class SinkError extends Error {}

/** The body as text; or, with a sink, handed to it chunk by chunk (and resolved as ""). */
function readBody(response: http.IncomingMessage, sink?: (chunk: Buffer) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => {
      if (!sink) {
        chunks.push(chunk);
        return;
      }
      try {
        sink(chunk);
      } catch (error) {
        reject(new SinkError("the answer could not be read", { cause: error }));
        response.destroy();
      }
    });
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", reject);
    response.on("aborted", () => reject(new Error("the response was cut off")));
  });
}

function lineStream(
  response: http.IncomingMessage,
  info: RequestInfo,
  signal: AbortSignal | undefined,
  idleTimeoutMs: number,
): LineStream {
  response.setEncoding("utf8");
  let closed = false;
  // A stream that goes silent (a network path that died without a reset) counts as dropped. The
  // timer restarts with each chunk read (a "data" listener would take chunks from the iterator).
  const idleLimit = timeLimit(idleTimeoutMs);
  const idle =
    idleLimit !== undefined
      ? setTimeout(() => {
          response.destroy(new Error(`the stream sent nothing for ${formatSeconds(idleLimit)}`));
        }, idleLimit).unref()
      : undefined;
  if (idle) response.on("close", () => clearTimeout(idle));
  async function* lines(): AsyncGenerator<string> {
    let pending = "";
    try {
      for await (const chunk of response) {
        idle?.refresh();
        pending += chunk as string;
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line.trim() !== "") yield line;
          newline = pending.indexOf("\n");
        }
      }
    } catch (error) {
      // A stream we closed ourselves (close(), abort) ends quietly; a cut from the other side is an error.
      if (closed || signal?.aborted) return;
      const mapped = errorFromNetwork(error, info);
      noteFailure(mapped, { notSent: false, beforeFirstAnswer: false });
      throw mapped;
    }
    if (pending.trim() !== "") yield pending;
  }
  const iterator = lines();
  return {
    [Symbol.asyncIterator]: () => iterator,
    close: () => {
      closed = true;
      response.destroy();
    },
  };
}

/** A CA given in the kubeconfig (client-node reads certificate-authority files into `ca`). */
function hasCa(ca: TlsSettings["ca"]): boolean {
  return ca !== undefined && ca.length > 0;
}
