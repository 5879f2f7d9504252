// The retry rules of src/k8s/retry.ts against loopback servers: which failures are sent again
// (reads after refused, reset, timeout, 429, 5xx; writes only when they cannot have arrived),
// the waits (Retry-After honoured, backoff growing and capped), the final error once the budget
// is spent, the -v log, Ctrl-C during a wait, and watches and log follows that resume.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError, ConnectionError, exitCodeOf, KvmigError } from "../../src/errors.js";
import { smallListBytes } from "../../src/k8s/client.js";
import { connect } from "../../src/k8s/connect.js";
import type { KubeClient, WatchUpdate } from "../../src/k8s/kube-client.js";
import { ApiOutage } from "../../src/k8s/outage.js";
import {
  ApiUnreachableError,
  classify,
  isOutcomeUnknown,
  RetriesExhaustedApiError,
  WriteOutcomeUnknownError,
} from "../../src/k8s/retry.js";
import { Transport } from "../../src/k8s/transport.js";
import type { VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import {
  type RecordedRequest,
  ScriptedApiServer,
  sendJson,
  sendStatus,
  startStream,
  writeEvent,
} from "../helpers/api-server.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir, writeKubeconfig } from "../helpers/kubeconfig.js";
import { createTestPki, type TestPki } from "../helpers/tls.js";

const vmis = "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances";
const vmims = "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations";
const sub = "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines";
const token = "secret-token-123";

/** A fake clock that can act while kvmig waits: the test's way to end an outage. */
class HookedClock extends FakeClock {
  onSleep: ((count: number) => void | Promise<void>) | undefined;
  override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    await super.sleep(ms, signal);
    await this.onSleep?.(this.sleeps.length);
  }
}

interface Connected {
  client: KubeClient;
  log: string[];
}

async function clientFor(
  url: string,
  caPem: string,
  clock: FakeClock | { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void> },
  options: { requestTimeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Connected> {
  const kubeconfig = writeKubeconfig(tempDir(), {
    server: url,
    caPem,
    token,
    context: "lab",
    namespace: "vms",
  });
  const log: string[] = [];
  const client = await connect(
    { kubeconfig, requestTimeoutMs: options.requestTimeoutMs },
    { env: {}, clock, userAgent: "kvmig-test", log: (line) => log.push(line), signal: options.signal },
  );
  return { client, log };
}

async function failure(promise: Promise<unknown>): Promise<KvmigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KvmigError);
  return error as KvmigError;
}

function vmiList() {
  return { kind: "VirtualMachineInstanceList", metadata: { resourceVersion: "5" }, items: [] };
}

function created(req: RecordedRequest) {
  const body = JSON.parse(req.body) as { metadata: object };
  return { ...body, metadata: { ...body.metadata, name: "kvmig-migrate-x1", uid: "u1" } };
}

/** Cuts the connection under a request, without an answer. */
function reset(_req: RecordedRequest, res: ServerResponse): void {
  res.socket?.destroy();
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/**
 * An HTTPS server that can go away (connections refused) and come back on the same port, or
 * reset the next connection before the TLS handshake.
 */
class RestartingServer {
  readonly requests: string[] = [];
  resetNextConnections = 0;
  private server: Server;
  private port = 0;

  constructor(
    readonly pki: TestPki,
    private readonly handler: (req: IncomingMessage, res: ServerResponse) => void,
  ) {
    this.server = this.create();
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  private create(): Server {
    const server = createServer({ cert: this.pki.certPem, key: this.pki.keyPem }, (req, res) => {
      this.requests.push(`${req.method} ${req.url}`);
      // Never keep a connection: each request of the client needs a new one.
      res.setHeader("Connection", "close");
      req.resume();
      req.on("end", () => this.handler(req, res));
    });
    server.on("connection", (socket) => {
      if (this.resetNextConnections > 0) {
        this.resetNextConnections -= 1;
        socket.destroy();
      }
    });
    return server;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server = this.create();
  }
}

describe("reads", () => {
  let server: ScriptedApiServer;
  let clock: HookedClock;
  let client: KubeClient;
  let log: string[];

  beforeEach(async () => {
    server = await ScriptedApiServer.start();
    clock = new HookedClock();
    ({ client, log } = await clientFor(server.url, server.pki.caPem, clock));
  });

  afterEach(async () => {
    client.close();
    await server.close();
    expect(server.unexpected).toEqual([]);
  });

  it("503 with Retry-After: waits what the server asked, then reads; -v logs the try and the retry", async () => {
    server.once("GET", vmis, (_req, res) => {
      res.setHeader("Retry-After", "2");
      sendStatus(res, 503, "ServiceUnavailable", "the server is restarting");
    });
    server.once("GET", vmis, (_req, res) => sendJson(res, 200, vmiList()));

    expect(await client.list("vmi", { namespace: "vms" })).toEqual([]);
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([2000]);
    expect(log.map((l) => l.replace(/ in \d+ms$/, " in Nms"))).toEqual([
      `GET ${vmis}?limit=500 503 Service Unavailable in Nms`,
      `GET ${vmis}?limit=500: try 1 failed (HTTP 503 ServiceUnavailable); retrying in 2000ms as the server asked (Retry-After)`,
      `GET ${vmis}?limit=500 200 OK in Nms`,
    ]);
    expect(log.join("\n")).not.toContain(token);
  });

  it("429 with the Status' retryAfterSeconds: waits that long", async () => {
    server.once("GET", "/version", (_req, res) =>
      sendStatus(res, 429, "TooManyRequests", "too many requests, please try again later", {
        retryAfterSeconds: 3,
      }),
    );
    server.once("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
    expect((await client.serverVersion()).gitVersion).toBe("v1.32.4");
    expect(clock.sleeps).toEqual([3000]);
  });

  it("a Retry-After beyond the cap waits 30 s, not more", async () => {
    server.once("GET", "/version", (_req, res) => {
      res.setHeader("Retry-After", "600");
      sendStatus(res, 503, "ServiceUnavailable", "overloaded");
    });
    server.once("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
    await client.serverVersion();
    expect(clock.sleeps).toEqual([30_000]);
  });

  it("without Retry-After: backoff from 200 ms with jitter, doubling; 500, 502 and 504 are retried too", async () => {
    server.once("GET", "/version", (_req, res) => sendStatus(res, 500, "InternalError", "etcd timeout"));
    server.once("GET", "/version", (_req, res) => {
      res.writeHead(502, { "Content-Type": "text/plain" });
      res.end("upstream connect error");
    });
    server.once("GET", "/version", (_req, res) => sendStatus(res, 504, "Timeout", "timed out"));
    server.once("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
    await client.serverVersion();
    expect(server.requests).toHaveLength(4);
    expect(clock.sleeps).toHaveLength(3);
    const [a = 0, b = 0, c = 0] = clock.sleeps;
    expect(a).toBeGreaterThanOrEqual(100);
    expect(a).toBeLessThanOrEqual(200);
    expect(b).toBeGreaterThanOrEqual(200);
    expect(b).toBeLessThanOrEqual(400);
    expect(c).toBeGreaterThanOrEqual(400);
    expect(c).toBeLessThanOrEqual(800);
  });

  it("a connection reset under a GET: sent again", async () => {
    server.once("GET", `${vmis}/db`, reset);
    server.once("GET", `${vmis}/db`, (_req, res) => sendJson(res, 200, { metadata: { name: "db" } }));
    expect((await client.get("vmi", "db")).metadata.name).toBe("db");
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toHaveLength(1);
    expect(log.some((l) => /^GET \S+\/db: try 1 failed \(connection (reset|closed)/.test(l))).toBe(true);
  });

  it("4xx other than 429 is never retried", async () => {
    server.on("GET", `${vmis}/db`, (_req, res) =>
      sendStatus(res, 404, "NotFound", 'virtualmachineinstances.kubevirt.io "db" not found'),
    );
    const error = await failure(client.get("vmi", "db"));
    expect(exitCodeOf(error)).toBe(5);
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("every page of a list is retried on its own, with its continue token", async () => {
    server.once("GET", vmis, (_req, res) =>
      sendJson(res, 200, { metadata: { continue: "page-2" }, items: [{ metadata: { name: "a" } }] }),
    );
    server.once("GET", vmis, (_req, res) => sendStatus(res, 503, "ServiceUnavailable", "restarting"));
    server.once("GET", vmis, (_req, res) =>
      sendJson(res, 200, { metadata: {}, items: [{ metadata: { name: "b" } }] }),
    );
    const all = await client.list("vmi", { namespace: "vms" });
    expect(all.map((v) => v.metadata.name)).toEqual(["a", "b"]);
    expect(server.requests.map((r) => r.query.get("continue"))).toEqual([null, "page-2", "page-2"]);
  });

  it("the budget spent: one line that says what failed, how often and how long; the hint; exit 1", async () => {
    server.on("GET", vmis, (_req, res) =>
      sendStatus(res, 503, "ServiceUnavailable", "the server is restarting"),
    );
    const error = await failure(client.list("vmi", { namespace: "vms" }));

    expect(error).toBeInstanceOf(RetriesExhaustedApiError);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
    const tries = server.requests.length;
    expect(tries).toBeGreaterThanOrEqual(5);
    expect(clock.sleeps).toHaveLength(tries - 1);
    // No try started later than 30 s after the first; the next wait would have gone past it.
    expect(sum(clock.sleeps)).toBeLessThanOrEqual(30_000);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(5000);
    expect(error.message).toBe(
      `GET ${vmis} failed after ${tries} tries over ${Math.round(sum(clock.sleeps) / 1000)}s at the API server at ${server.url} (context "lab"); its last answer: the server is restarting (HTTP 503)`,
    );
    expect(error.message).not.toContain("\n");
    expect(error.hint).toBe(
      "the KubeVirt API (virt-api) is unavailable; check its pods with: kubectl get pods -A -l kubevirt.io=virt-api; -v shows each try",
    );
    expect(exitCodeOf(error)).toBe(1);
    expect(log.at(-1)).toMatch(new RegExp(`^GET ${vmis}\\?limit=500: giving up after ${tries} tries over `));
  });

  it("a request timeout on a read: sent again", async () => {
    const timed = await clientFor(server.url, server.pki.caPem, clock, { requestTimeoutMs: 200 });
    server.once("GET", "/version", () => {
      // No answer this time.
    });
    server.once("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
    expect((await timed.client.serverVersion()).gitVersion).toBe("v1.32.4");
    timed.client.close();
    expect(server.requests).toHaveLength(2);
    expect(timed.log.some((l) => l.includes("try 1 failed (no answer within 0.2s)"))).toBe(true);
  });

  it("Ctrl-C during a wait ends it at once, with the interrupt", async () => {
    const controller = new AbortController();
    // The real clock: without the abort the wait below takes 30 s and the test times out.
    const { systemClock } = await import("../../src/clock.js");
    const real = await clientFor(server.url, server.pki.caPem, systemClock, { signal: controller.signal });
    server.on("GET", "/version", (_req, res) => {
      res.setHeader("Retry-After", "30");
      sendStatus(res, 503, "ServiceUnavailable", "restarting");
      setTimeout(() => controller.abort(new Error("interrupted")), 50);
    });
    const error = await real.client.serverVersion().then(
      () => undefined,
      (e: unknown) => e,
    );
    real.client.close();
    expect((error as Error).message).toBe("interrupted");
    expect(server.requests).toHaveLength(1);
    expect(real.log.at(-1)).toContain("retrying in 30000ms");
  });
});

describe("lists", () => {
  let server: ScriptedApiServer;
  let client: KubeClient;

  beforeEach(async () => {
    server = await ScriptedApiServer.start();
    ({ client } = await clientFor(server.url, server.pki.caPem, new HookedClock()));
  });

  afterEach(async () => {
    client.close();
    await server.close();
    expect(server.unexpected).toEqual([]);
  });

  it("a continue token that expired (410): the list starts over, and no object comes twice", async () => {
    const item = (name: string) => ({ metadata: { name, namespace: "vms" } });
    server.once("GET", vmis, (_req, res) =>
      sendJson(res, 200, { metadata: { continue: "t2" }, items: [item("a"), item("b")] }),
    );
    server.once("GET", vmis, (_req, res) =>
      sendStatus(res, 410, "Expired", "The provided continue parameter is too old"),
    );
    server.once("GET", vmis, (_req, res) =>
      sendJson(res, 200, { metadata: { continue: "u2" }, items: [item("a"), item("b")] }),
    );
    server.once("GET", vmis, (_req, res) => sendJson(res, 200, { metadata: {}, items: [item("c")] }));
    const pages: string[][] = [];
    for await (const page of client.listPages("vmi", { namespace: "vms", pageSize: 2 })) {
      pages.push(page.map((v) => v.metadata.name ?? ""));
    }
    expect(pages).toEqual([["a", "b"], [], ["c"]]);
    expect(server.requests.map((r) => r.query.get("continue"))).toEqual([null, "t2", null, "u2"]);
  });

  const item = (name: string) => ({ metadata: { name, namespace: "vms" }, spec: { note: `"${name}" {[` } });

  /** listStream's objects by page: names in order, a new page after each pageEnd. */
  async function streamed(options: { pageSize?: number } = {}) {
    const pages: string[][] = [[]];
    for await (const piece of client.listStream("vmi", { namespace: "vms", pageSize: 2, ...options })) {
      pages.at(-1)?.push(...piece.objects.map((v) => v.metadata.name ?? ""));
      if (piece.pageEnd) pages.push([]);
    }
    return pages.slice(0, -1);
  }

  it("listStream: the objects of each page, parsed as they arrive, page by page", async () => {
    server.once("GET", vmis, (_req, res) => {
      // The first object in one write, the rest of the page later: it is handed on before. (A
      // page is read object by object once it is longer than smallListBytes: "a" makes it so.)
      const large = { ...item("a"), status: { padding: "x".repeat(smallListBytes) } };
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(
        `{"kind":"VirtualMachineInstanceList","metadata":{"continue":"t2"},"items":[${JSON.stringify(large)},`,
      );
      setTimeout(() => res.end(`${JSON.stringify(item("b"))}]}`), 50);
    });
    server.once("GET", vmis, (_req, res) => sendJson(res, 200, { items: [item("c")], metadata: {} }));
    const first: string[] = [];
    const pieces: Array<{ names: string[]; pageEnd: boolean }> = [];
    for await (const piece of client.listStream("vmi", { namespace: "vms", pageSize: 2 })) {
      if (first.length === 0) first.push(...piece.objects.map((v) => v.metadata.name ?? ""));
      pieces.push({ names: piece.objects.map((v) => v.metadata.name ?? ""), pageEnd: piece.pageEnd });
    }
    expect(first).toEqual(["a"]);
    expect(pieces).toEqual([
      { names: ["a"], pageEnd: false },
      { names: ["b"], pageEnd: false },
      { names: [], pageEnd: true },
      { names: ["c"], pageEnd: false },
      { names: [], pageEnd: true },
    ]);
    expect(server.requests.map((r) => [r.query.get("limit"), r.query.get("continue")])).toEqual([
      ["2", null],
      ["2", "t2"],
    ]);
  });

  it("listStream: a page cut on the way is read again, and goes on after the objects handed on", async () => {
    server.once("GET", vmis, (_req, res) =>
      sendJson(res, 200, { metadata: { continue: "t2" }, items: [item("a"), item("b")] }),
    );
    server.once("GET", vmis, (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(`{"metadata":{"continue":"t3"},"items":[${JSON.stringify(item("c"))},{"metadata":`);
      setTimeout(() => res.socket?.destroy(), 20);
    });
    server.once("GET", vmis, (_req, res) =>
      sendJson(res, 200, { metadata: { continue: "t3" }, items: [item("c"), item("d")] }),
    );
    server.once("GET", vmis, (_req, res) => sendJson(res, 200, { metadata: {}, items: [item("e")] }));
    expect(await streamed()).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(server.requests.map((r) => r.query.get("continue"))).toEqual([null, "t2", "t2", "t3"]);
  });

  it("listStream: a continue token that expired (410): the list starts over after the objects handed on", async () => {
    server.once("GET", vmis, (_req, res) =>
      sendJson(res, 200, { metadata: { continue: "t2" }, items: [item("a"), item("b")] }),
    );
    server.once("GET", vmis, (_req, res) =>
      sendStatus(res, 410, "Expired", "The provided continue parameter is too old"),
    );
    server.once("GET", vmis, (_req, res) =>
      sendJson(res, 200, { metadata: { continue: "u2" }, items: [item("a"), item("b")] }),
    );
    server.once("GET", vmis, (_req, res) => sendJson(res, 200, { metadata: {}, items: [item("c")] }));
    expect(await streamed()).toEqual([["a", "b"], [], ["c"]]);
    expect(server.requests.map((r) => r.query.get("continue"))).toEqual([null, "t2", null, "u2"]);
  });

  it("listStream: an error answer fails the list; an answer that is not a list is not Kubernetes", async () => {
    server.once("GET", vmis, (_req, res) => sendStatus(res, 403, "Forbidden", "vmis is forbidden"));
    await expect(streamed()).rejects.toBeInstanceOf(ApiError);
    server.once("GET", vmis, (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<html><body>proxy login</body></html>");
    });
    await expect(streamed()).rejects.toThrow(
      /is not a Kubernetes API server: it answered GET .* with a web page/,
    );
    server.once("GET", vmis, (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"metadata":{},"items":[{"metadata":{"name":"a"}}');
    });
    await expect(streamed()).rejects.toThrow(/is not a Kubernetes API server/);
  });
});

describe("writes", () => {
  let server: ScriptedApiServer;
  let clock: HookedClock;
  let client: KubeClient;

  beforeEach(async () => {
    server = await ScriptedApiServer.start();
    clock = new HookedClock();
    ({ client } = await clientFor(server.url, server.pki.caPem, clock));
  });

  afterEach(async () => {
    client.close();
    await server.close();
    expect(server.unexpected).toEqual([]);
  });

  const migration = { metadata: { generateName: "kvmig-migrate-" }, spec: { vmiName: "db" } };

  it("POST reset after it was sent: not sent again; the error says the outcome is unknown and how to check", async () => {
    server.on("POST", vmims, reset);
    const error = await failure(client.createMigration("vms", migration));

    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(error).toBeInstanceOf(WriteOutcomeUnknownError);
    expect(isOutcomeUnknown(error)).toBe(true);
    expect((error as WriteOutcomeUnknownError).outcomeUnknown).toBe(true);
    expect((error as WriteOutcomeUnknownError).method).toBe("POST");
    expect((error as WriteOutcomeUnknownError).path).toBe(vmims);
    expect(error.message).toMatch(
      new RegExp(
        `^POST ${vmims} may or may not have been done: the API server at ${server.url} \\(context "lab"\\) gave no clear answer \\(connection (reset|closed)`,
      ),
    );
    expect(error.hint).toBe(
      "kvmig did not send it again, as that could do it twice; check with: kubectl get virtualmachineinstancemigrations.kubevirt.io -n vms",
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it("POST answered 429: sent again after Retry-After; one migration is created", async () => {
    let creates = 0;
    server.once("POST", vmims, (_req, res) => {
      res.setHeader("Retry-After", "1");
      sendStatus(res, 429, "TooManyRequests", "too many requests");
    });
    server.once("POST", vmims, (req, res) => {
      creates += 1;
      sendJson(res, 201, created(req));
    });
    const made = await client.createMigration("vms", migration);
    expect(made.metadata.name).toBe("kvmig-migrate-x1");
    expect(server.requests).toHaveLength(2);
    expect(creates).toBe(1);
    expect(clock.sleeps).toEqual([1000]);
  });

  it("PUT migrate answered 503: not sent again (a second one could start a second migration)", async () => {
    server.on("PUT", `${sub}/db/migrate`, (_req, res) =>
      sendStatus(res, 503, "ServiceUnavailable", "virt-api is unavailable"),
    );
    const error = await failure(client.migrate("vms", "db"));
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(error).toBeInstanceOf(ApiError);
    expect(isOutcomeUnknown(error)).toBe(false);
    expect((error as ApiError).status).toBe(503);
    expect(error.message).toBe("virt-api is unavailable");
  });

  it("PUT migrate through a gateway that answers 504: not sent again, outcome unknown with the vmim to look for", async () => {
    server.on("PUT", `${sub}/db/migrate`, (_req, res) => sendStatus(res, 504, "Timeout", "gateway timeout"));
    const error = await failure(client.migrate("vms", "db"));
    expect(server.requests).toHaveLength(1);
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(error.hint).toBe(
      "kvmig did not send it again, as that could do it twice; look for a new migration with: kubectl get vmim -n vms -l kubevirt.io/vmi-name=db",
    );
  });

  it("PUT restart with no answer in time: not sent again, outcome unknown", async () => {
    const timed = await clientFor(server.url, server.pki.caPem, clock, { requestTimeoutMs: 200 });
    server.on("PUT", `${sub}/db/restart`, () => {
      // Taken, never answered.
    });
    const error = await failure(timed.client.restart("vms", "db"));
    timed.client.close();
    expect(server.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(WriteOutcomeUnknownError);
    expect(error.message).toContain("(no answer within 0.2s)");
    expect(error.hint).toContain("kubectl get vmi db -n vms");
    expect(timed.log.at(-1)).toBe(
      `PUT ${sub}/db/restart: not sent again, it may have reached the server (no answer within 0.2s)`,
    );
  });

  it("DELETE with a uid precondition, reset after it was sent: not sent again", async () => {
    server.on("DELETE", `${vmims}/mig-1`, reset);
    const error = await failure(client.deleteMigration("vms", "mig-1", { uid: "uid-1" }));
    expect(server.requests).toHaveLength(1);
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(error.hint).toContain("kubectl get virtualmachineinstancemigrations.kubevirt.io mig-1 -n vms");
  });

  it("a review (POST that changes nothing) is retried as a read", async () => {
    const path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    server.once("POST", path, reset);
    server.once("POST", path, (req, res) =>
      sendJson(res, 201, { ...JSON.parse(req.body), status: { allowed: true } }),
    );
    const result = await client.canI({ verb: "get", group: "", resource: "pods", namespace: "vms" });
    expect(result.allowed).toBe(true);
    expect(server.requests).toHaveLength(2);
  });
});

describe("the API server goes away and comes back", () => {
  let pki: TestPki;
  let server: RestartingServer;
  let clock: HookedClock;
  let connected: Connected;
  let posts = 0;

  beforeEach(async () => {
    pki = await createTestPki();
    posts = 0;
    server = new RestartingServer(pki, (req, res) => {
      if (req.method === "POST") {
        posts += 1;
        sendJson(res, 201, { metadata: { name: "kvmig-migrate-x1" }, spec: { vmiName: "db" } });
      } else sendJson(res, 200, { gitVersion: "v1.32.4" });
    });
    await server.start();
    clock = new HookedClock();
    connected = await clientFor(server.url, pki.caPem, clock);
  });

  afterEach(async () => {
    connected.client.close();
    await server.stop();
  });

  it("GET refused while it restarts: retried until it is back", async () => {
    const { client, log } = connected;
    await client.serverVersion();
    await server.stop();
    clock.onSleep = async (count) => {
      if (count === 3) await server.start();
    };
    expect((await client.serverVersion()).gitVersion).toBe("v1.32.4");
    expect(clock.sleeps).toHaveLength(3);
    expect(log.filter((l) => l.includes("try") && l.includes("(connection refused)"))).toHaveLength(3);
    expect(server.requests).toEqual(["GET /version", "GET /version"]);
  });

  it("POST refused (nothing sent): sent again once the server is back; created once", async () => {
    const { client } = connected;
    await client.serverVersion();
    await server.stop();
    clock.onSleep = async (count) => {
      if (count === 1) await server.start();
    };
    const made = await client.createMigration("vms", { metadata: { name: "m" }, spec: { vmiName: "db" } });
    expect(made.metadata.name).toBe("kvmig-migrate-x1");
    expect(posts).toBe(1);
    expect(clock.sleeps).toHaveLength(1);
  });

  it("POST whose TLS handshake is cut (nothing sent): sent again; created once", async () => {
    const { client, log } = connected;
    await client.serverVersion();
    server.resetNextConnections = 1;
    const made = await client.createMigration("vms", { metadata: { name: "m" }, spec: { vmiName: "db" } });
    expect(made.metadata.name).toBe("kvmig-migrate-x1");
    expect(posts).toBe(1);
    expect(clock.sleeps).toHaveLength(1);
    expect(log.some((l) => /^POST \S+: try 1 failed/.test(l))).toBe(true);
  });

  it("refused before the server ever answered: a wrong address or a cluster that is down, said at once", async () => {
    await server.stop();
    const error = await failure(connected.client.serverVersion());
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toBe(
      `cannot connect to the API server at ${server.url} (context "lab"): connection refused`,
    );
    expect(clock.sleeps).toEqual([]);
  });

  it("refused for longer than the budget: the clear final error, exit 1", async () => {
    const { client } = connected;
    await client.serverVersion();
    await server.stop();
    const error = await failure(client.serverVersion());
    expect(error).toBeInstanceOf(ApiUnreachableError);
    const tries = clock.sleeps.length + 1;
    expect(tries).toBeGreaterThanOrEqual(5);
    expect(error.message).toBe(
      `the API server at ${server.url} (context "lab") did not answer GET /version after ${tries} tries over ${Math.round(sum(clock.sleeps) / 1000)}s: connection refused`,
    );
    expect(error.hint).toBe(
      "check that the API server is up and reachable from here (VPN, proxy; kubectl config view --minify --context lab shows the address); -v shows each try",
    );
    expect(exitCodeOf(error)).toBe(1);
  });
});

describe("watches", () => {
  let server: ScriptedApiServer;
  let clock: HookedClock;
  let client: KubeClient;
  let log: string[];

  beforeEach(async () => {
    server = await ScriptedApiServer.start();
    clock = new HookedClock();
    ({ client, log } = await clientFor(server.url, server.pki.caPem, clock));
  });

  afterEach(async () => {
    client.close();
    await server.close();
    expect(server.unexpected).toEqual([]);
  });

  function vmim(name: string, resourceVersion: string): VirtualMachineInstanceMigration {
    return {
      metadata: { name, namespace: "vms", resourceVersion, uid: `uid-${name}` },
      spec: { vmiName: name },
    };
  }

  function summary(update: WatchUpdate<VirtualMachineInstanceMigration>): string {
    return update.type === "SYNCED"
      ? `SYNCED@${update.resourceVersion}`
      : `${update.type} ${update.object.metadata.name}@${update.object.metadata.resourceVersion}`;
  }

  async function collect(count: number): Promise<string[]> {
    const controller = new AbortController();
    const seen: string[] = [];
    const timer = setTimeout(() => controller.abort(new Error("test timed out")), 10_000);
    try {
      for await (const update of client.watch("vmim", { namespace: "vms", signal: controller.signal })) {
        seen.push(summary(update));
        if (seen.length === count) controller.abort();
      }
    } finally {
      clearTimeout(timer);
    }
    return seen;
  }

  /** Lists and watches in turn from the given steps. */
  function script(
    lists: Array<(res: ServerResponse) => void>,
    watches: Array<(res: ServerResponse) => void>,
  ): RecordedRequest[] {
    const watchCalls: RecordedRequest[] = [];
    let listCount = 0;
    server.on("GET", vmims, (req, res) => {
      if (req.query.get("watch") === "1") {
        watchCalls.push(req);
        const step = watches[watchCalls.length - 1];
        if (step) step(res);
        else startStream(res);
      } else {
        const step = lists[listCount++];
        if (step) step(res);
        else sendStatus(res, 500, "InternalError", "no scripted list");
      }
    });
    return watchCalls;
  }

  const down = (res: ServerResponse) => sendStatus(res, 503, "ServiceUnavailable", "restarting");

  it("the API server down across several reconnects: resumes from where it was, nothing repeated", async () => {
    const watchCalls = script(
      [(res) => sendJson(res, 200, { metadata: { resourceVersion: "10" }, items: [vmim("mig-a", "10")] })],
      [
        (res) => {
          startStream(res);
          writeEvent(res, "MODIFIED", vmim("mig-a", "11"));
          setTimeout(() => res.destroy(), 20);
        },
        down,
        down,
        (res) => {
          startStream(res);
          // The server replays what kvmig has, then the next change.
          writeEvent(res, "MODIFIED", vmim("mig-a", "11"));
          writeEvent(res, "MODIFIED", vmim("mig-a", "12"));
        },
      ],
    );
    expect(await collect(4)).toEqual([
      "ADDED mig-a@10",
      "SYNCED@10",
      "MODIFIED mig-a@11",
      "MODIFIED mig-a@12",
    ]);
    expect(watchCalls.map((r) => r.query.get("resourceVersion"))).toEqual(["10", "11", "11", "11"]);
    expect(clock.sleeps).toHaveLength(3);
    expect(log.filter((l) => /^watch virtualmachineinstancemigrations in vms dropped/.test(l))).toHaveLength(
      3,
    );
  });

  it("a second 410 in a row waits before listing again; changes in the gap come out once", async () => {
    let lists = 0;
    const gone = (res: ServerResponse) => sendStatus(res, 410, "Expired", "too old resource version");
    const watchCalls = script(
      [
        (res) => sendJson(res, 200, { metadata: { resourceVersion: "10" }, items: [vmim("mig-a", "9")] }),
        (res) => {
          lists += 1;
          sendJson(res, 200, { metadata: { resourceVersion: "20" }, items: [vmim("mig-a", "9")] });
        },
        (res) => {
          lists += 1;
          sendJson(res, 200, { metadata: { resourceVersion: "30" }, items: [vmim("mig-b", "25")] });
        },
      ],
      [
        gone,
        gone,
        (res) => {
          startStream(res);
          writeEvent(res, "ADDED", vmim("mig-c", "31"));
        },
      ],
    );
    expect(await collect(5)).toEqual([
      "ADDED mig-a@9",
      "SYNCED@10",
      "ADDED mig-b@25",
      "DELETED mig-a@9",
      "ADDED mig-c@31",
    ]);
    expect(lists).toBe(2);
    expect(watchCalls.map((r) => r.query.get("resourceVersion"))).toEqual(["10", "20", "30"]);
    // The first 410 re-lists at once; the second one in a row backs off first.
    expect(clock.sleeps).toHaveLength(1);
  });

  it("a stream that ends at once with nothing in it is reopened after a wait; one that lasted, at once", async () => {
    const watchCalls = script(
      [(res) => sendJson(res, 200, { metadata: { resourceVersion: "1" }, items: [] })],
      [
        (res) => {
          startStream(res);
          res.end();
        },
        (res) => {
          startStream(res);
          setTimeout(() => {
            clock.advance(1500);
            res.end();
          }, 20);
        },
        (res) => {
          startStream(res);
          writeEvent(res, "ADDED", vmim("mig-a", "2"));
        },
      ],
    );
    expect(await collect(2)).toEqual(["SYNCED@1", "ADDED mig-a@2"]);
    expect(watchCalls).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(1);
    expect(log).toContainEqual(
      expect.stringMatching(
        /^watch virtualmachineinstancemigrations in vms: the server ended the stream at once; reopening in \d+ms$/,
      ),
    );
  });

  it("reconnects failing for 3 minutes (far past a request's 30 s budget): the watch rides them out, tells the outage, then carries on", async () => {
    // The list works; every watch after it is answered 503 until 3 minutes have passed.
    const minutes3 = 180_000;
    const watchCalls = script(
      [(res) => sendJson(res, 200, { metadata: { resourceVersion: "1" }, items: [] })],
      Array.from({ length: 200 }, () => (res: ServerResponse) => {
        if (sum(clock.sleeps) < minutes3) {
          down(res);
          return;
        }
        startStream(res);
        writeEvent(res, "ADDED", vmim("mig-a", "2"));
      }),
    );
    const told: string[] = [];
    const outage = new ApiOutage({ clock, report: (line) => told.push(line) });
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const update of client.watch("vmim", {
      namespace: "vms",
      signal: controller.signal,
      outage,
    })) {
      seen.push(summary(update));
      if (seen.length === 2) controller.abort();
    }
    expect(seen).toEqual(["SYNCED@1", "ADDED mig-a@2"]);
    expect(sum(clock.sleeps)).toBeGreaterThanOrEqual(minutes3);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(5000);
    expect(new Set(watchCalls.map((r) => r.query.get("resourceVersion")))).toEqual(new Set(["1"]));
    // Told once it lasted 5 s, then every 30 s or so, and when it was over.
    expect(told.length).toBeGreaterThanOrEqual(6);
    for (const line of told.slice(0, -1)) {
      expect(line).toMatch(
        /^kvmig: lost the API server \(HTTP 503 ServiceUnavailable\); reconnecting for (\d+s|\dm\d*s?) so far$/,
      );
    }
    expect(told.at(-1)).toMatch(/^kvmig: reconnected after 3m\d*s?$/);
  });
});

describe("a stream that goes silent", () => {
  it("is cut after its idle timeout and counts as dropped (a read to retry)", async () => {
    const server = await ScriptedApiServer.start();
    const transport = new Transport({
      server: server.url,
      context: "lab",
      tls: { ca: server.pki.caPem },
      authHeaders: async () => ({}),
      requestTimeoutMs: 5000,
      userAgent: "kvmig-test",
    });
    try {
      server.on("GET", vmims, (_req, res) => {
        startStream(res);
        writeEvent(res, "ADDED", { metadata: { name: "a" } });
        // ...and then nothing, without an end.
      });
      const stream = await transport.stream({ method: "GET", path: vmims, idleTimeoutMs: 200 });
      const lines: string[] = [];
      const error = await (async () => {
        for await (const line of stream) lines.push(line);
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(lines).toHaveLength(1);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toContain("the stream sent nothing for 0.2s");
      expect(classify(error, "read").retry).toBe(true);
    } finally {
      transport.close();
      await server.close();
    }
  });
});

describe("following a log", () => {
  let server: ScriptedApiServer;
  let clock: HookedClock;
  let client: KubeClient;
  let log: string[];

  beforeEach(async () => {
    server = await ScriptedApiServer.start();
    clock = new HookedClock();
    ({ client, log } = await clientFor(server.url, server.pki.caPem, clock));
  });

  afterEach(async () => {
    client.close();
    await server.close();
    expect(server.unexpected).toEqual([]);
  });

  const logPath = "/api/v1/namespaces/vms/pods/launcher/log";

  it("a dropped follow reopens from the last line's time and repeats no line", async () => {
    const requests: RecordedRequest[] = [];
    server.on("GET", logPath, (req, res) => {
      requests.push(req);
      startStream(res);
      switch (requests.length) {
        case 1:
          res.write("2026-11-25T12:00:01.100000000Z first\n");
          res.write("2026-11-25T12:00:02.1Z early in the second\n");
          res.write("2026-11-25T12:00:02.5Z second\n");
          res.write("2026-11-25T12:00:02.5Z second, same time\n");
          setTimeout(() => res.destroy(), 20);
          return;
        case 2:
          // From the start of that second: three lines kvmig has, then new ones; then a clean end.
          res.write("2026-11-25T12:00:02.1Z early in the second\n");
          res.write("2026-11-25T12:00:02.5Z second\n");
          res.write("2026-11-25T12:00:02.5Z second, same time\n");
          res.write("2026-11-25T12:00:02.5Z third, same time again\n");
          res.end("2026-11-25T12:00:03Z fourth\n");
          return;
        default:
          // Reopened after the clean end: nothing new, so the container has stopped.
          res.end("2026-11-25T12:00:03Z fourth\n");
      }
    });
    const lines: string[] = [];
    const controller = new AbortController();
    for await (const line of client.followPodLogs("vms", "launcher", {
      container: "compute",
      tailLines: 20,
      signal: controller.signal,
    })) {
      lines.push(line);
    }
    expect(lines).toEqual([
      "first",
      "early in the second",
      "second",
      "second, same time",
      "third, same time again",
      "fourth",
    ]);
    expect(requests).toHaveLength(3);
    expect(requests[2]?.query.get("sinceTime")).toBe("2026-11-25T12:00:03Z");
    expect(requests[0]?.query.get("tailLines")).toBe("20");
    expect(requests[0]?.query.get("timestamps")).toBe("true");
    expect(requests[1]?.query.get("sinceTime")).toBe("2026-11-25T12:00:02Z");
    expect(requests[1]?.query.get("tailLines")).toBeNull();
    expect(clock.sleeps).toHaveLength(1);
    expect(log.some((l) => l.startsWith("log of vms/launcher (compute) dropped ("))).toBe(true);
  });

  it("a follow cut short cleanly (the container still runs) carries on after the last line", async () => {
    const requests: RecordedRequest[] = [];
    server.on("GET", logPath, (req, res) => {
      requests.push(req);
      if (requests.length > 2) {
        sendStatus(res, 404, "NotFound", 'pods "launcher" not found');
        return;
      }
      startStream(res);
      if (requests.length === 1) res.end("2026-11-25T12:00:01Z one\n2026-11-25T12:00:02Z two\n");
      else res.end("2026-11-25T12:00:02Z two\n2026-11-25T12:00:04Z three\n");
    });
    const lines: string[] = [];
    for await (const line of client.followPodLogs("vms", "launcher", {
      container: "compute",
      timestamps: true,
      signal: new AbortController().signal,
    })) {
      lines.push(line);
    }
    // Asked with timestamps: delivered with them. The pod gone after the second end: over.
    expect(lines).toEqual([
      "2026-11-25T12:00:01Z one",
      "2026-11-25T12:00:02Z two",
      "2026-11-25T12:00:04Z three",
    ]);
    expect(requests.map((r) => r.query.get("sinceTime"))).toEqual([
      null,
      "2026-11-25T12:00:02Z",
      "2026-11-25T12:00:04Z",
    ]);
    expect(clock.sleeps).toEqual([]);
  });

  it("lines without a time cannot be resumed without repeats: the drop is the caller's", async () => {
    server.on("GET", logPath, (_req, res) => {
      startStream(res);
      res.write("no time here\n");
      setTimeout(() => res.destroy(), 20);
    });
    const lines: string[] = [];
    const error = await (async () => {
      for await (const line of client.followPodLogs("vms", "launcher", {
        container: "compute",
        signal: new AbortController().signal,
      })) {
        lines.push(line);
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(lines).toEqual(["no time here"]);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(server.requests).toHaveLength(1);
  });
});
