// An HTTP CONNECT proxy on loopback that records which hosts it tunnelled to.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";

export class ConnectProxy {
  readonly tunnels: string[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ConnectProxy> {
    const server = createServer((_req, res) => {
      res.writeHead(405);
      res.end("CONNECT only");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const proxy = new ConnectProxy(server, `http://127.0.0.1:${port}`);
    server.on("connect", (req, client: Socket, head: Buffer) => {
      const target = req.url ?? "";
      proxy.tunnels.push(target);
      const [host = "", targetPort = "443"] = target.split(":");
      const upstream = connect(Number(targetPort), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on("error", () => socket.destroy());
        socket.on("close", () => proxy.sockets.delete(socket));
      }
    });
    return proxy;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
