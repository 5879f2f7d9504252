// Which proxy a request to the API server takes, by Go's golang.org/x/net/http/httpproxy rules
// (kubectl's): HTTPS_PROXY for https servers, HTTP_PROXY for http ones, upper case first;
// localhost and loopback never proxied; NO_PROXY's `*`, domains, .domain suffixes, IPs, CIDRs
// and host:port entries. The CONNECT tunnel itself is exercised against kubectl in
// test/e2e/kubectl-parity.test.ts.
import { describe, expect, it } from "vitest";
import { nodeProxiesHttp, parseProxyUrl, proxyFromEnvironment, useProxy } from "../../src/k8s/proxy.js";

const via = (server: string, env: Record<string, string>) => proxyFromEnvironment(new URL(server), env);

describe("proxyFromEnvironment", () => {
  it("HTTPS_PROXY for an https server, HTTP_PROXY for an http one", () => {
    const env = { HTTPS_PROXY: "http://secure:3128", HTTP_PROXY: "http://plain:3128" };
    expect(via("https://api.example:6443", env)).toEqual({
      url: new URL("http://secure:3128"),
      from: "HTTPS_PROXY",
    });
    expect(via("http://api.example:8001", env)).toEqual({
      url: new URL("http://plain:3128"),
      from: "HTTP_PROXY",
    });
    expect(via("https://api.example", { HTTP_PROXY: "http://plain:3128" })).toBeUndefined();
  });

  it("upper case before lower case; lower case alone works", () => {
    expect(
      via("https://api.example", { HTTPS_PROXY: "http://upper:1", https_proxy: "http://lower:1" })?.from,
    ).toBe("HTTPS_PROXY");
    expect(via("https://api.example", { https_proxy: "http://lower:1" })?.url.host).toBe("lower:1");
  });

  it("a proxy without a scheme is http://, as Go reads it", () => {
    expect(via("https://api.example", { HTTPS_PROXY: "proxy.corp:8080" })?.url.href).toBe(
      "http://proxy.corp:8080/",
    );
  });

  it("HTTP_PROXY is ignored in a CGI process (REQUEST_METHOD set), HTTPS_PROXY is not", () => {
    expect(via("http://api.example", { HTTP_PROXY: "http://p:1", REQUEST_METHOD: "GET" })).toBeUndefined();
    expect(via("https://api.example", { HTTPS_PROXY: "http://p:1", REQUEST_METHOD: "GET" })?.url.host).toBe(
      "p:1",
    );
  });

  it("NO_PROXY (or no_proxy) is honoured, with the default port of the scheme", () => {
    expect(
      via("https://api.example", { HTTPS_PROXY: "http://p:1", NO_PROXY: "api.example:443" }),
    ).toBeUndefined();
    expect(
      via("https://api.example", { HTTPS_PROXY: "http://p:1", no_proxy: "api.example:443" }),
    ).toBeUndefined();
    expect(
      via("https://api.example", { HTTPS_PROXY: "http://p:1", NO_PROXY: "api.example:6443" }),
    ).toBeDefined();
  });
});

describe("useProxy: Go's NO_PROXY matching", () => {
  const cases: Array<[string, string, string, boolean]> = [
    // host, port, NO_PROXY, proxied?
    ["localhost", "6443", "", false],
    ["127.0.0.1", "6443", "", false],
    ["127.1.2.3", "6443", "", false],
    ["::1", "6443", "", false],
    ["[::1]", "6443", "", false],
    ["10.0.0.1", "6443", "", true],
    ["api.example", "6443", "*", false],
    ["api.example", "6443", " * ", false],
    ["api.example", "6443", "example", false],
    ["api.example", "6443", "pi.example", true],
    ["api.example", "6443", "api.example", false],
    ["API.Example", "6443", "api.example", false],
    ["x.api.example", "6443", "api.example", false],
    ["api.example", "6443", ".api.example", true],
    ["x.api.example", "6443", ".api.example", false],
    ["x.api.example", "6443", "*.api.example", false],
    ["api.example", "6443", "*.api.example", true],
    ["notapi.example", "6443", "api.example", true],
    ["api.example", "6443", "api.example:6443", false],
    ["api.example", "443", "api.example:6443", true],
    ["10.1.2.3", "6443", "10.0.0.0/8", false],
    ["11.1.2.3", "6443", "10.0.0.0/8", true],
    ["10.1.2.3", "6443", "10.1.2.3", false],
    ["10.1.2.3", "6443", "10.1.2.3:6443", false],
    ["10.1.2.3", "443", "10.1.2.3:6443", true],
    ["10.1.2.3", "6443", "10.1.2.4", true],
    ["fd00::5", "6443", "fd00::/64", false],
    ["fd00::5", "6443", "[fd00::5]:6443", false],
    // A domain entry never matches an IP, an IP entry never a name.
    ["10.1.2.3", "6443", "3", true],
    ["api.example", "6443", "10.0.0.0/8,,other.example", true],
    ["api.example", "6443", "other.example, api.example", false],
  ];
  for (const [host, port, noProxy, proxied] of cases) {
    it(`${host}:${port} with NO_PROXY="${noProxy}": ${proxied ? "proxied" : "direct"}`, () => {
      expect(useProxy(host, port, noProxy)).toBe(proxied);
    });
  }
});

describe("parseProxyUrl", () => {
  it("http, https and socks5 are proxies; anything else is refused with where it came from", () => {
    expect(parseProxyUrl("https://p:443", "HTTPS_PROXY").protocol).toBe("https:");
    expect(parseProxyUrl("socks5://p:1080", "HTTPS_PROXY").protocol).toBe("socks5:");
    expect(() => parseProxyUrl("ftp://p:21", "HTTPS_PROXY")).toThrow(
      "HTTPS_PROXY has the scheme ftp, which is not http, https or socks5",
    );
    expect(() => parseProxyUrl("http://[bad", 'the proxy-url of cluster "c"')).toThrow(
      'the proxy-url of cluster "c" is not a URL: http://[bad',
    );
  });
});

describe("nodeProxiesHttp: node:http's own proxying (for http:// servers)", () => {
  it.each([
    ["24.5.0", true],
    ["24.22.3", true],
    ["25.0.0", true],
    ["22.21.0", true],
    ["24.4.1", false],
    ["22.12.0", false],
    ["23.11.0", false],
  ])("Node.js %s: %s", (version, supported) => {
    expect(nodeProxiesHttp(version)).toBe(supported);
  });
});
