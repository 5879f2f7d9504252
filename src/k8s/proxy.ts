// Which proxy, if any, a request to the API server goes through, as kubectl decides it: the
// cluster's proxy-url, else HTTPS_PROXY (https servers) or HTTP_PROXY (http ones) from the
// environment with Go's rules (golang.org/x/net/http/httpproxy: upper case before lower case,
// localhost and loopback addresses never proxied, NO_PROXY's `*`, domain and .domain suffixes,
// IPs, CIDRs and host:port entries). And the agent that sends through it: for an https server our
// own CONNECT tunnel (node:http's CONNECT, then TLS to the server over the tunnel), for an http
// one node's own proxying agent (the request in absolute form); SOCKS is the Kubernetes client's.

import http from "node:http";
import https from "node:https";
import { BlockList, isIP } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { Environment } from "./kubeconfig-types.js";

export interface ProxyChoice {
  url: URL;
  /** Where it comes from, for messages: `proxy-url of cluster "x"`, `HTTPS_PROXY`. */
  from: string;
}

function variable(env: Environment, name: string): { value: string; name: string } | undefined {
  for (const key of [name.toUpperCase(), name.toLowerCase()]) {
    const value = env[key];
    if (value) return { value, name: key };
  }
  return undefined;
}

/** A proxy URL as Go reads one: no scheme means http://. */
export function parseProxyUrl(text: string, from: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`${from} is not a URL: ${text}`);
  }
  if (!["http:", "https:", "socks5:", "socks5h:"].includes(url.protocol)) {
    throw new Error(
      `${from} has the scheme ${url.protocol.slice(0, -1)}, which is not http, https or socks5`,
    );
  }
  return url;
}

/** The environment's proxy for `target`, by Go's httpproxy rules; undefined: connect directly. */
export function proxyFromEnvironment(target: URL, env: Environment): ProxyChoice | undefined {
  const secure = target.protocol === "https:";
  // Go ignores HTTP_PROXY in a CGI process (httpoxy).
  const chosen = secure
    ? variable(env, "https_proxy")
    : env.REQUEST_METHOD
      ? undefined
      : variable(env, "http_proxy");
  if (!chosen) return undefined;
  const port = target.port || (secure ? "443" : "80");
  if (!useProxy(target.hostname, port, variable(env, "no_proxy")?.value ?? "")) return undefined;
  return { url: parseProxyUrl(chosen.value, chosen.name), from: chosen.name };
}

/** Whether a request to host:port goes through the proxy, NO_PROXY considered (httpproxy's useProxy). */
export function useProxy(hostname: string, port: string, noProxy: string): boolean {
  const host = withoutBrackets(hostname).toLowerCase();
  if (host === "localhost") return false;
  const ipFamily = isIP(host);
  if (ipFamily !== 0 && isLoopback(host, ipFamily)) return false;
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return false;
    const cidr = /^(.+)\/(\d+)$/.exec(entry);
    if (cidr) {
      const [, base = "", bits = ""] = cidr;
      const family = isIP(base);
      if (family !== 0 && ipFamily === family) {
        const list = new BlockList();
        try {
          list.addSubnet(base, Number(bits), family === 6 ? "ipv6" : "ipv4");
          if (list.check(host, family === 6 ? "ipv6" : "ipv4")) return false;
        } catch {
          // A malformed CIDR matches nothing.
        }
      }
      continue;
    }
    let entryHost = entry;
    let entryPort = "";
    const hostPort = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry);
    if (hostPort) {
      entryHost = withoutBrackets(hostPort[1] ?? "");
      entryPort = hostPort[2] ?? "";
      if (entryHost === "") continue;
    }
    if (isIP(entryHost) !== 0) {
      if (ipFamily !== 0 && sameIp(entryHost, host) && (entryPort === "" || entryPort === port)) return false;
      continue;
    }
    if (ipFamily !== 0) continue;
    // foo.com matches foo.com and bar.foo.com; .foo.com and *.foo.com only bar.foo.com.
    let suffix = entryHost.startsWith("*.") ? entryHost.slice(1) : entryHost;
    const matchHost = !suffix.startsWith(".");
    if (matchHost) suffix = `.${suffix}`;
    if (
      (host.endsWith(suffix) || (matchHost && host === suffix.slice(1))) &&
      (entryPort === "" || entryPort === port)
    ) {
      return false;
    }
  }
  return true;
}

/** An IPv6 address as URL.hostname writes it, [::1], without its brackets. */
function withoutBrackets(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1");
}

function isLoopback(ip: string, family: number): boolean {
  if (family === 4) return ip.startsWith("127.");
  const list = new BlockList();
  list.addAddress("::1", "ipv6");
  list.addSubnet("::ffff:127.0.0.0", 104, "ipv6");
  return list.check(ip, "ipv6");
}

function sameIp(a: string, b: string): boolean {
  const family = isIP(a);
  if (family !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(a, family === 6 ? "ipv6" : "ipv4");
  return list.check(b, family === 6 ? "ipv6" : "ipv4");
}

/** Proxy-Authorization for a proxy URL with user:password, as Go sends it. */
function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(credentials).toString("base64")}`;
}

/** An https agent whose connections are CONNECT tunnels through an HTTP(S) proxy. */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: https.RequestOptions & tls.ConnectionOptions,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): undefined {
    const done = (error: Error | null, socket?: Duplex) => callback?.(error, socket as Duplex);
    const host = String(options.host ?? options.hostname ?? "");
    const port = Number(options.port ?? 443);
    const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const secureProxy = this.proxy.protocol === "https:";
    const headers: Record<string, string> = { Host: authority };
    const auth = proxyAuthorization(this.proxy);
    if (auth) headers["Proxy-Authorization"] = auth;
    const request = (secureProxy ? https : http).request({
      host: withoutBrackets(this.proxy.hostname),
      port: Number(this.proxy.port || (secureProxy ? 443 : 80)),
      method: "CONNECT",
      path: authority,
      headers,
      agent: false,
      // The proxy's own certificate is checked against the system's CAs (Go does the same).
      servername: secureProxy && isIP(this.proxy.hostname) === 0 ? this.proxy.hostname : undefined,
    });
    request.once("connect", (response, socket, head) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        done(
          new Error(
            `the proxy ${this.proxy.host} answered CONNECT with ${response.statusCode} ${response.statusMessage ?? ""}`.trim(),
          ),
        );
        return;
      }
      if (head.length > 0) socket.unshift(head);
      const secure = tls.connect({
        ...(options as tls.ConnectionOptions),
        socket,
        servername: options.servername || (isIP(host) === 0 ? host : undefined),
      });
      done(null, secure);
    });
    request.once("error", (error) => done(error));
    request.end();
    return undefined;
  }
}

/**
 * The agent that sends to `target` through `proxy` (HTTP or HTTPS proxies; SOCKS is the
 * Kubernetes client's), with `tls` for the connection to the API server.
 */
export function proxyAgent(target: URL, proxy: URL, tlsOptions: https.AgentOptions): http.Agent {
  if (target.protocol === "https:") return new TunnelAgent(proxy, { keepAlive: true, ...tlsOptions });
  // Node's own agent sends a plain-HTTP request through a proxy in absolute form, as Go does.
  if (!nodeProxiesHttp()) {
    throw new Error(
      `sending to an http:// server through a proxy needs Node.js 22.21 or 24.5 and later (this is ${process.versions.node})`,
    );
  }
  return new http.Agent({ keepAlive: true, proxyEnv: { HTTP_PROXY: proxy.href } } as http.AgentOptions);
}

/** Whether node:http's Agent takes proxyEnv (added in Node.js 24.5.0 and 22.21.0). */
export function nodeProxiesHttp(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 24 || (major === 24 && minor >= 5) || (major === 22 && minor >= 21);
}
