// The transport's connections (issue 26): one full TLS handshake per run, the first connection
// opened when the transport is made, and the errors of a server that is not there unchanged.
import { once } from "node:events";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConnectionError } from "../../src/errors.js";
import { Transport } from "../../src/k8s/transport.js";
import { createTestPki, type TestPki } from "../helpers/tls.js";

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

/** An HTTPS server on 127.0.0.1 that answers every request with its path, and tells its handshakes. */
async function startServer(): Promise<{ server: Server; url: string; handshakes: TLSSocket[] }> {
  const handshakes: TLSSocket[] = [];
  const server = createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ path: req.url }));
  });
  server.on("secureConnection", (socket: TLSSocket) => handshakes.push(socket));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { server, url: `https://127.0.0.1:${port}`, handshakes };
}

function transportFor(url: string): Transport {
  return new Transport({
    server: url,
    context: "lab",
    tls: { ca: pki.caPem },
    authHeaders: async () => ({}),
    requestTimeoutMs: 10_000,
    userAgent: "kvmig-test",
  });
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function running() {
  const started = await startServer();
  cleanups.push(() => {
    started.server.closeAllConnections();
    return new Promise<void>((resolve) => started.server.close(() => resolve()));
  });
  return started;
}

describe("the transport's connections", () => {
  it("makes one full TLS handshake for parallel requests: the other connections resume its session", async () => {
    const { url, handshakes } = await running();
    const transport = transportFor(url);
    cleanups.push(() => transport.close());
    const paths = ["/a", "/b", "/c", "/d", "/e", "/f"];
    const answers = await Promise.all(
      paths.map((path) => transport.request<{ path: string }>({ method: "GET", path })),
    );
    expect(answers.map((a) => a.path)).toEqual(paths);
    expect(handshakes.length).toBeGreaterThanOrEqual(1);
    expect(handshakes.filter((socket) => !socket.isSessionReused())).toHaveLength(1);
  });

  it("opens its first connection when it is made, and the first request goes over it", async () => {
    const { server, url, handshakes } = await running();
    const served: TLSSocket[] = [];
    server.prependListener("request", (req) => served.push(req.socket as TLSSocket));
    const transport = transportFor(url);
    cleanups.push(() => transport.close());
    // Up before anything is asked.
    await once(server, "secureConnection");
    expect(handshakes).toHaveLength(1);
    const answer = await transport.request<{ path: string }>({ method: "GET", path: "/version" });
    expect(answer.path).toBe("/version");
    expect(handshakes).toHaveLength(1);
    expect(served).toEqual([handshakes[0]]);
  });

  it("closes the connection it opened ahead when it is closed unused", async () => {
    const { server, url } = await running();
    const transport = transportFor(url);
    const [socket] = (await once(server, "secureConnection")) as [TLSSocket];
    const closed = once(socket, "close");
    transport.close();
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it("reports a server that refuses connections on the first request, as before", async () => {
    const { server, url } = await running();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const transport = transportFor(url);
    cleanups.push(() => transport.close());
    const error = await transport.request({ method: "GET", path: "/version" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toBe(
      `cannot connect to the API server at ${url} (context "lab"): connection refused`,
    );
  });
});
