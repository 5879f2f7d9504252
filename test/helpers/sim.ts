// The simulated cluster in tests: one per test file or per test, and raw HTTPS requests to it
// (verifying its CA, as kubectl does), including watch streams read event by event.

import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { afterAll, afterEach, beforeAll, beforeEach, onTestFinished } from "vitest";
import {
  type SimCluster,
  type SimClusterOptions,
  type SimRequestRecord,
  startSimCluster,
} from "../../src/sim/cluster.js";

export interface SimResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON.
  json: any;
}

export interface RequestOptions {
  /** A bearer token; `null` sends none. Default: the admin's. */
  token?: string | null;
  body?: unknown;
  contentType?: string;
  accept?: string;
}

function send(
  cluster: SimCluster,
  method: string,
  path: string,
  options: RequestOptions,
): Promise<IncomingMessage> {
  const token = options.token === undefined ? cluster.token("sim-admin") : options.token;
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${cluster.url}${path}`,
      {
        method,
        ca: cluster.pki.caPem,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(options.accept ? { Accept: options.accept } : {}),
          ...(body !== undefined
            ? {
                "Content-Type": options.contentType ?? "application/json",
                "Content-Length": Buffer.byteLength(body),
              }
            : {}),
        },
      },
      resolve,
    );
    req.on("error", reject);
    req.end(body);
  });
}

export async function simRequest(
  cluster: SimCluster,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<SimResponse> {
  const res = await send(cluster, method, path, options);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode ?? 0, headers: res.headers, text, json };
}

export interface WatchEvent {
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON.
  object: any;
}

/** An open watch: `next()` waits for the next event; `ended` once the server closed it. */
export class SimWatch {
  private readonly events: WatchEvent[] = [];
  private waiter: (() => void) | undefined;
  private buffer = "";
  ended = false;

  constructor(private readonly res: IncomingMessage) {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      this.buffer += chunk;
      let newline = this.buffer.indexOf("\n");
      while (newline >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        if (line.trim() !== "") this.events.push(JSON.parse(line) as WatchEvent);
        newline = this.buffer.indexOf("\n");
      }
      this.wake();
    });
    res.on("end", () => {
      this.ended = true;
      this.wake();
    });
    res.on("error", () => {
      this.ended = true;
      this.wake();
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** The next event, or undefined when the stream ended first. */
  async next(): Promise<WatchEvent | undefined> {
    while (this.events.length === 0 && !this.ended) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    return this.events.shift();
  }

  /** The next `n` events (fails the test by timeout if they never come). */
  async take(n: number): Promise<WatchEvent[]> {
    const out: WatchEvent[] = [];
    while (out.length < n) {
      const event = await this.next();
      if (!event) break;
      out.push(event);
    }
    return out;
  }

  close(): void {
    this.res.destroy();
  }
}

export async function simWatch(
  cluster: SimCluster,
  path: string,
  options: RequestOptions = {},
): Promise<SimWatch> {
  return new SimWatch(await send(cluster, "GET", path, options));
}

/** The API server alone: no KubeVirt webhooks or controllers change what a test writes. */
export const apiServerOnly = { controllers: false } as const;

/** A fresh cluster for every test of the file (the default), or one shared by the whole file. */
export function simPerTest(
  options: SimClusterOptions = {},
  scope: "test" | "file" = "test",
): () => SimCluster {
  let cluster: SimCluster | undefined;
  const watches: SimWatch[] = [];
  const start = async () => {
    cluster = await startSimCluster({ seed: 1, ...options });
  };
  const stop = async () => {
    for (const watch of watches.splice(0)) watch.close();
    await cluster?.close();
    cluster = undefined;
  };
  if (scope === "test") {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterAll(stop);
  }
  return () => {
    if (!cluster) throw new Error("the simulated cluster is not running");
    return cluster;
  };
}

/**
 * Every request the cluster handles from now until the test ends, in the order they end: the
 * records `kvmig sim --request-log` writes (e.g. to check that a dry run wrote nothing).
 */
export function recordRequests(cluster: SimCluster): SimRequestRecord[] {
  const records: SimRequestRecord[] = [];
  onTestFinished(cluster.onRequest((record) => records.push(record)));
  return records;
}

/** The records of requests that change something (not GET, HEAD, or a dry run). */
export function writeRequests(records: readonly SimRequestRecord[]): SimRequestRecord[] {
  return records.filter(
    (r) => !["GET", "HEAD", "OPTIONS"].includes(r.method) && !/[?&]dryRun=All(&|$)/.test(r.path),
  );
}
