// `kvmig --help` and `kvmig --version` must not load the connection code, the Kubernetes client,
// ora or inquirer: the built CLI runs with a module hook that logs every module Node resolves, and
// the log says which dist/ files were loaded. `kvmig version` is the control: it must load the
// connection code, and the Kubernetes client only when its kubeconfig needs it (a SOCKS proxy).
// dist/kvmig.js answers --version itself and imports the CLI (chunks/run-*.js) for everything
// else; what the entry and the CLI import with import() is what a run may only load on demand.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import manifest from "../../package.json" with { type: "json" };
import { sendJson, serverPerTest } from "../helpers/api-server.js";
import { tempDir, writeExecPluginKubeconfig, writeKubeconfig } from "../helpers/kubeconfig.js";
import { hasScript, runInPty, shQuote } from "../helpers/terminals.js";
import {
  chunkFiles,
  chunksDir,
  cliEnv,
  distEntry,
  ensureBuilt,
  lines,
  nodeDir,
  repoRoot,
  runKvmig,
} from "./built-cli.js";

// Node 22.15+/24: synchronous, in-thread hooks; every import and import() passes through resolve.
const hookSource = `import { appendFileSync } from "node:fs";
import { registerHooks } from "node:module";
const log = process.env.KVMIG_LOAD_LOG;
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    if (log) appendFileSync(log, result.url + "\\n");
    return result;
  },
});
`;

let dir: string;
let hookUrl: string;

/** The CLI, which dist/kvmig.js imports for every run but --version. */
let cliChunk: string;
/** What start-up loads: the CLI and the chunks it, or the entry, imports statically. */
let startupChunks: string[];
/** The chunks the entry and start-up chunks load with import(): what a run may only load when it needs it. */
let lazyChunks: string[];
let connectChunk: string;
let clientChunk: string;
let oraChunk: string;
let inquirerChunk: string;
/** chalk, which colours are made with: loaded only when a run may colour. */
let chalkChunk: string;
/** The proxy code: loaded only for a proxy-url or a proxy variable. */
let proxyChunk: string;
/** The exec credential plugin runner: loaded only for a user with an exec plugin. */
let execChunk: string;
/** The `yaml` package: a kubeconfig that kubeconfig-yaml.ts reads never loads it. */
let yamlChunk: string;

beforeAll(async () => {
  await ensureBuilt();
  const entry = readFileSync(distEntry, "utf8");
  const dynamicImports = (code: string) =>
    [...code.matchAll(/import\("\.\/(?:chunks\/)?([^"]+\.js)"\)/g)].map((m) => m[1] as string);
  const staticImports = (code: string) =>
    [...code.matchAll(/(?:from|import)\s*"\.\/(?:chunks\/)?([^"]+\.js)"/g)].map((m) => m[1] as string);
  const fromEntry = dynamicImports(entry);
  expect(fromEntry, "the entry imports the CLI, and only it, with import()").toHaveLength(1);
  cliChunk = fromEntry[0] as string;
  expect(cliChunk).toMatch(/^run-/);
  startupChunks = [];
  const lazy = new Set<string>();
  const visit = (chunk: string) => {
    if (startupChunks.includes(chunk)) return;
    startupChunks.push(chunk);
    const code = readFileSync(join(chunksDir, chunk), "utf8");
    for (const imported of staticImports(code)) visit(imported);
    for (const imported of dynamicImports(code)) lazy.add(imported);
  };
  for (const chunk of [cliChunk, ...staticImports(entry)]) visit(chunk);
  lazyChunks = [...lazy].filter((chunk) => !startupChunks.includes(chunk));
  const chunks = chunkFiles();
  for (const chunk of startupChunks) expect(chunks).toContain(chunk);
  for (const chunk of lazyChunks) expect(chunks).toContain(chunk);
  const named = (what: string, test: (file: string) => boolean) => {
    const found = lazyChunks.filter(test);
    expect(found, `exactly one lazily loaded chunk is ${what}`).toHaveLength(1);
    return found[0] as string;
  };
  connectChunk = named("the connection code", (f) => f.startsWith("connect-"));
  // The Kubernetes client is loaded by the connection code, with import(), when a kubeconfig needs it.
  const clients = chunks.filter((f) => f.startsWith("kubeconfig-full-"));
  expect(clients, "exactly one chunk is the Kubernetes client").toHaveLength(1);
  clientChunk = clients[0] as string;
  const connectCode = readFileSync(join(chunksDir, connectChunk), "utf8");
  const loadsClient = (code: string) => dynamicImports(code).includes(clientChunk);
  expect(
    loadsClient(connectCode) ||
      staticImports(connectCode).some((c) => loadsClient(readFileSync(join(chunksDir, c), "utf8"))),
  ).toBe(true);
  expect(startupChunks).not.toContain(clientChunk);
  oraChunk = named("ora", (f) => f.startsWith("ora-"));
  // src/io/inquirer.ts: the prompts kvmig asks with, one chunk.
  inquirerChunk = named("inquirer", (f) => f.startsWith("inquirer-"));
  // esbuild names chalk's chunk after its file (source/index.js): found by the build's metafile.
  const meta = JSON.parse(readFileSync(join(distEntry, "..", "meta.json"), "utf8")) as {
    outputs: Record<string, { entryPoint?: string }>;
  };
  const chalkOutputs = Object.entries(meta.outputs)
    .filter(([, output]) => output.entryPoint?.endsWith("node_modules/chalk/source/index.js"))
    .map(([file]) => file.replace(/^dist\/chunks\//, ""));
  expect(chalkOutputs).toHaveLength(1);
  chalkChunk = named("chalk", (f) => f === chalkOutputs[0]);
  const entryChunk = (input: string) =>
    Object.entries(meta.outputs)
      // A package's path is as esbuild resolved it (through a linked node_modules, a longer one).
      .filter(([, output]) => output.entryPoint === input || output.entryPoint?.endsWith(`/${input}`))
      .map(([file]) => file.replace(/^dist\/chunks\//, ""))[0];
  // Loaded with import() by the connection code, so not among the chunks start-up loads.
  const ownChunk = (what: string, input: string) => {
    const chunk = entryChunk(input);
    expect(chunk, `${what} is a chunk of its own`).toBeDefined();
    expect(chunks).toContain(chunk);
    expect(startupChunks).not.toContain(chunk);
    return chunk as string;
  };
  proxyChunk = ownChunk("the proxy code", "src/k8s/proxy.ts");
  execChunk = ownChunk("the exec plugin runner", "src/k8s/exec-credential.ts");
  yamlChunk = ownChunk("the yaml package", "node_modules/yaml/dist/index.js");
}, 120_000);

beforeEach(() => {
  dir = tempDir("kvmig-e2e-lazy-");
  const hook = join(dir, "log-resolve.mjs");
  writeFileSync(hook, hookSource);
  hookUrl = pathToFileURL(hook).href;
});

/** Runs the built CLI with the hook; returns its result and the dist/ files it resolved. */
async function runLogged(args: string[], env: Record<string, string>) {
  const log = join(dir, `loads-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, "");
  const result = await runKvmig(args, { ...env, KVMIG_LOAD_LOG: log }, ["--import", hookUrl]);
  const urls = lines(readFileSync(log, "utf8"));
  const distUrl = pathToFileURL(join(distEntry, "..")).href;
  const loaded = urls.filter((u) => u.startsWith(`${distUrl}/`)).map((u) => u.slice(distUrl.length + 1));
  return { result, urls, loaded };
}

const loadedChunks = (loaded: string[]) =>
  loaded.filter((f) => f.startsWith("chunks/")).map((f) => f.slice("chunks/".length));

describe("commands that need no cluster load no cluster code", () => {
  it("--help loads kvmig.js, but not the Kubernetes client, ora or inquirer", async () => {
    const { result, loaded } = await runLogged(["--help"], cliEnv(dir));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(lines(result.stdout)[0]).toBe("Usage: kvmig [options] [command]");

    expect(loaded).toContain("kvmig.js");
    const chunks = loadedChunks(loaded);
    expect(chunks.filter((c) => c.startsWith("connect-"))).toEqual([]);
    expect(chunks).not.toContain(connectChunk);
    expect(chunks).not.toContain(clientChunk);
    expect(chunks).not.toContain(oraChunk);
    expect(chunks).not.toContain(inquirerChunk);
    // Nor any other chunk that is only loaded on demand (the YAML library, for one, or a
    // command's implementation): only the entry, the CLI and what they import statically.
    expect(chunks.filter((c) => lazyChunks.includes(c))).toEqual([]);
    expect(chunks).toContain(cliChunk);
    expect(chunks.filter((c) => !startupChunks.includes(c))).toEqual([]);
  });

  it("--version loads no lazily loaded chunk either, nor the CLI", async () => {
    const { result, loaded } = await runLogged(["--version"], cliEnv(dir));
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${manifest.version}\n`);
    expect(result.code).toBe(0);
    expect(loaded).toContain("kvmig.js");
    expect(loadedChunks(loaded).filter((c) => lazyChunks.includes(c))).toEqual([]);
    expect(loadedChunks(loaded)).not.toContain(cliChunk);
  });
});

describe.skipIf(!hasScript())("colours: chalk is loaded only when a run may colour", () => {
  /** --help on a pseudo-terminal (script(1)), with the hook; the dist/ chunks it loaded. */
  async function helpOnTerminal(extraEnv: Record<string, string>, args: string[] = []) {
    const log = join(dir, `loads-${Math.random().toString(36).slice(2)}.log`);
    writeFileSync(log, "");
    const line = [process.execPath, "--import", hookUrl, distEntry, "--help", ...args].map(shQuote).join(" ");
    const env = {
      PATH: [nodeDir, "/usr/bin", "/bin"].join(":"),
      HOME: dir,
      TERM: "xterm-256color",
      KVMIG_LOAD_LOG: log,
      ...extraEnv,
    };
    const result = await runInPty(line, { env, cwd: repoRoot });
    expect(result.code).toBe(0);
    const distUrl = pathToFileURL(join(distEntry, "..")).href;
    const loaded = lines(readFileSync(log, "utf8"))
      .filter((u) => u.startsWith(`${distUrl}/`))
      .map((u) => u.slice(distUrl.length + 1));
    return { screen: result.screen, chunks: loadedChunks(loaded) };
  }

  it("--help on a terminal loads chalk", async () => {
    const { screen, chunks } = await helpOnTerminal({});
    expect(screen).toContain("Usage: kvmig");
    expect(chunks).toContain(chalkChunk);
  });

  it("--help on a terminal under NO_COLOR, TERM=dumb or --no-color does not load it", async () => {
    for (const [env, args] of [
      [{ NO_COLOR: "1" }, []],
      [{ TERM: "dumb" }, []],
      [{}, ["--no-color"]],
    ] as const) {
      const { screen, chunks } = await helpOnTerminal(env, [...args]);
      expect(screen).toContain("Usage: kvmig");
      expect(chunks).not.toContain(chalkChunk);
    }
  });
});

describe("the detector works", () => {
  const currentServer = serverPerTest();

  const versionRoutes = (server: ReturnType<typeof currentServer>) => {
    server.on("GET", "/version", (_req, res) =>
      sendJson(res, 200, { major: "1", minor: "32", gitVersion: "v1.32.4", platform: "linux/amd64" }),
    );
    server.on("GET", "/apis/subresources.kubevirt.io/v1/version", (_req, res) =>
      sendJson(res, 200, { gitVersion: "v1.9.0" }),
    );
    server.on("GET", "/apis/kubevirt.io/v1/kubevirts", (_req, res) =>
      sendJson(res, 200, { apiVersion: "kubevirt.io/v1", kind: "KubeVirtList", metadata: {}, items: [] }),
    );
  };

  it("kvmig version loads the connection code, and not the Kubernetes client for a token", async () => {
    const server = currentServer();
    versionRoutes(server);
    const kubeconfig = writeKubeconfig(dir, { server: server.url, caPem: server.pki.caPem, token: "t" });
    const { result, urls, loaded } = await runLogged(["version"], cliEnv(dir, { KUBECONFIG: kubeconfig }));
    expect(result.stdout).toMatch(/^Kubernetes: +v1\.32\.4 at /m);
    expect(result.stderr).toBe("warning: KubeVirt resource: none found in any namespace\n");
    expect(result.code).toBe(0);
    expect(urls.some((u) => u.includes("/chunks/connect-"))).toBe(true);
    expect(loadedChunks(loaded)).toContain(connectChunk);
    expect(loadedChunks(loaded)).not.toContain(clientChunk);
    // No proxy, no exec plugin, a kubeconfig our own reader reads: none of their code.
    expect(loadedChunks(loaded)).not.toContain(proxyChunk);
    expect(loadedChunks(loaded)).not.toContain(execChunk);
    expect(loadedChunks(loaded)).not.toContain(yamlChunk);
    // A text run with no spinner and no prompt still leaves ora and inquirer alone.
    expect(loadedChunks(loaded)).not.toContain(oraChunk);
    expect(loadedChunks(loaded)).not.toContain(inquirerChunk);
  });

  it("kvmig version with an exec credential plugin runs it without the Kubernetes client", async () => {
    const server = currentServer();
    versionRoutes(server);
    const kubeconfig = writeExecPluginKubeconfig(dir, {
      server: server.url,
      caPem: server.pki.caPem,
      token: "carol",
    });
    const { result, loaded } = await runLogged(["version"], cliEnv(dir, { KUBECONFIG: kubeconfig }));
    expect(result.stdout).toMatch(/^Kubernetes: +v1\.32\.4 at /m);
    expect(result.code).toBe(0);
    expect(loadedChunks(loaded)).toContain(connectChunk);
    expect(loadedChunks(loaded)).not.toContain(clientChunk);
    expect(loadedChunks(loaded)).toContain(execChunk);
    expect(loadedChunks(loaded)).not.toContain(proxyChunk);
    expect(server.requests.map((r) => r.headers.authorization)).toContain("Bearer from-carol");
  });

  it("kvmig version with HTTPS_PROXY set loads the proxy code (NO_PROXY then sends it directly)", async () => {
    const server = currentServer();
    versionRoutes(server);
    const kubeconfig = writeKubeconfig(dir, { server: server.url, caPem: server.pki.caPem, token: "t" });
    const { result, loaded } = await runLogged(
      ["version"],
      cliEnv(dir, { KUBECONFIG: kubeconfig, HTTPS_PROXY: "http://127.0.0.1:1", NO_PROXY: "127.0.0.1" }),
    );
    expect(result.stdout).toMatch(/^Kubernetes: +v1\.32\.4 at /m);
    expect(result.code).toBe(0);
    expect(loadedChunks(loaded)).toContain(proxyChunk);
    expect(loadedChunks(loaded)).not.toContain(execChunk);
  });

  it("kvmig version with an EKS-style exec user (arguments that start with dashes) reads it without the yaml package", async () => {
    const server = currentServer();
    versionRoutes(server);
    const kubeconfig = join(dir, "eks-config");
    const plugin = join(dir, "eks-plugin.sh");
    writeFileSync(
      plugin,
      `#!/bin/sh\n[ "$1 $2" = "--region us-west-2" ] || exit 3\necho '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"from-eks"}}'\n`,
      { mode: 0o755 },
    );
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${Buffer.from(server.pki.caPem).toString("base64")}
    server: ${server.url}
  name: arn:aws:eks:us-west-2:123456789012:cluster/prod
contexts:
- context:
    cluster: arn:aws:eks:us-west-2:123456789012:cluster/prod
    user: arn:aws:eks:us-west-2:123456789012:cluster/prod
  name: arn:aws:eks:us-west-2:123456789012:cluster/prod
current-context: arn:aws:eks:us-west-2:123456789012:cluster/prod
kind: Config
preferences: {}
users:
- name: arn:aws:eks:us-west-2:123456789012:cluster/prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - us-west-2
      - eks
      - get-token
      command: ${plugin}
      interactiveMode: Never
      provideClusterInfo: false
`,
    );
    const { result, loaded } = await runLogged(["version"], cliEnv(dir, { KUBECONFIG: kubeconfig }));
    expect(result.stderr).toBe("warning: KubeVirt resource: none found in any namespace\n");
    expect(result.code).toBe(0);
    expect(server.requests.map((r) => r.headers.authorization)).toContain("Bearer from-eks");
    expect(loadedChunks(loaded)).toContain(execChunk);
    expect(loadedChunks(loaded)).not.toContain(yamlChunk);
    expect(loadedChunks(loaded)).not.toContain(clientChunk);
  });

  it("kvmig version through a SOCKS proxy-url loads the Kubernetes client, whose agent it is", async () => {
    const kubeconfig = writeKubeconfig(
      dir,
      { server: "https://127.0.0.1:1", caPem: "", token: "t", proxyUrl: "socks5://127.0.0.1:1" },
      "socks-config",
    );
    const { result, loaded } = await runLogged(["version"], cliEnv(dir, { KUBECONFIG: kubeconfig }));
    expect(result.code).not.toBe(0);
    expect(loadedChunks(loaded)).toContain(clientChunk);
  });
});
