// Kubeconfig resolution the way kubectl does it: which files, how several merge, which context
// and namespace win, and what a missing or broken kubeconfig says. resolveConfig directly, and
// `kvmig version` in-process against scripted API servers to see which cluster was reached.

import { writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, ExitCode, exitCodeOf, UsageError } from "../../src/errors.js";
import { kubeconfigFiles, resolveConfig } from "../../src/k8s/connect.js";
import { ScriptedApiServer, sendJson } from "../helpers/api-server.js";
import { tempDir, writeKubeconfig } from "../helpers/kubeconfig.js";
import { runCli } from "../helpers/test-context.js";

function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

async function thrown(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

async function configError(run: () => Promise<unknown>): Promise<ConfigError> {
  const error = await thrown(run);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

/** Two kubeconfig files: context "a" (namespace "ns-a") in one, context "b" (no namespace) in the other. */
function twoFiles(serverA = "https://127.0.0.1:1", serverB = "https://127.0.0.1:2", caA = "", caB = "") {
  const dir = tempDir();
  const a = writeKubeconfig(
    dir,
    { server: serverA, caPem: caA, token: "token-a", context: "a", namespace: "ns-a" },
    "a",
  );
  const b = writeKubeconfig(dir, { server: serverB, caPem: caB, token: "token-b", context: "b" }, "b");
  return { dir, a, b };
}

describe("kubeconfigFiles: which files apply", () => {
  it("--kubeconfig beats KUBECONFIG", () => {
    expect(kubeconfigFiles({ kubeconfig: "/x/one" }, { KUBECONFIG: "/x/two", HOME: "/home/u" })).toEqual([
      "/x/one",
    ]);
  });

  it("KUBECONFIG lists files separated by the path delimiter; empty entries are skipped", () => {
    const env = { KUBECONFIG: ["/x/one", "", "/x/two", ""].join(delimiter), HOME: "/home/u" };
    expect(kubeconfigFiles({}, env)).toEqual(["/x/one", "/x/two"]);
  });

  it("without either, ~/.kube/config under HOME", () => {
    expect(kubeconfigFiles({}, { HOME: "/home/u" })).toEqual(["/home/u/.kube/config"]);
    expect(kubeconfigFiles({}, { KUBECONFIG: "", HOME: "/home/u" })).toEqual(["/home/u/.kube/config"]);
  });
});

describe("resolveConfig: merging several files", () => {
  it("--context picks a context that only the second file defines", async () => {
    const { a, b } = twoFiles();
    const resolved = await resolveConfig({ context: "b" }, { KUBECONFIG: `${a}${delimiter}${b}` });
    expect(resolved.contextName).toBe("b");
    expect(resolved.config.getCurrentCluster()?.server).toBe("https://127.0.0.1:2");
    expect(resolved.config.getCurrentUser()?.token).toBe("token-b");
    expect(resolved.namespace).toBe("default");
  });

  it("the first file's current-context wins when both set one", async () => {
    const { a, b } = twoFiles();
    expect((await resolveConfig({}, { KUBECONFIG: `${a}${delimiter}${b}` })).contextName).toBe("a");
    expect((await resolveConfig({}, { KUBECONFIG: `${b}${delimiter}${a}` })).contextName).toBe("b");
  });

  it("a name defined in both files keeps the first file's entry", async () => {
    const dir = tempDir();
    const first = writeKubeconfig(
      dir,
      { server: "https://127.0.0.1:1", caPem: "", token: "t1", context: "same" },
      "1",
    );
    const second = writeKubeconfig(
      dir,
      { server: "https://127.0.0.1:2", caPem: "", token: "t2", context: "same", namespace: "other" },
      "2",
    );
    const resolved = await resolveConfig({}, { KUBECONFIG: `${first}${delimiter}${second}` });
    expect(resolved.config.getCurrentCluster()?.server).toBe("https://127.0.0.1:1");
    expect(resolved.config.getCurrentUser()?.token).toBe("t1");
    expect(resolved.namespace).toBe("default");
  });

  it("a file in KUBECONFIG that does not exist is skipped, as kubectl does", async () => {
    const { dir, b } = twoFiles();
    const resolved = await resolveConfig({}, { KUBECONFIG: `${join(dir, "gone")}${delimiter}${b}` });
    expect(resolved.contextName).toBe("b");
  });

  it("an empty file in KUBECONFIG is an empty config, as kubectl reads it", async () => {
    const { dir, b } = twoFiles();
    const empty = join(dir, "empty");
    writeFileSync(empty, "\n");
    const resolved = await resolveConfig({}, { KUBECONFIG: `${empty}${delimiter}${b}` });
    expect(resolved.contextName).toBe("b");
  });

  it("KUBECONFIG naming only missing files: a bad value, exit 2 like --kubeconfig naming one", async () => {
    const dir = tempDir();
    const [x, y] = [join(dir, "x"), join(dir, "y")];
    const error = await thrown(() => resolveConfig({}, { KUBECONFIG: `${x}${delimiter}${y}` }));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(
      `no kubeconfig found: KUBECONFIG names ${x}, ${y}, and none exists`,
    );
    expect((error as UsageError).hint).toContain("--kubeconfig");
    expect((error as UsageError).hint).toContain("KUBECONFIG");
    expect(exitCodeOf(error)).toBe(ExitCode.usage);
  });

  it("no KUBECONFIG and no kubeconfig in the home directory: no kubeconfig found, exit 1", async () => {
    const home = tempDir();
    const error = await configError(() =>
      resolveConfig({}, { HOME: home }, join(home, "no-service-account")),
    );
    expect(error.message).toBe(`no kubeconfig found: ${join(home, ".kube", "config")} does not exist`);
    expect(exitCodeOf(error)).toBe(ExitCode.unexpected);
  });

  it("--context that no file defines: a bad flag value (exit 2) naming it, and the hint lists the contexts", async () => {
    const { a, b } = twoFiles();
    const error = await thrown(() =>
      resolveConfig({ context: "nope" }, { KUBECONFIG: `${a}${delimiter}${b}` }),
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('context "nope" is not in the kubeconfig');
    expect((error as UsageError).hint).toBe("the contexts are: a, b");
    expect(exitCodeOf(error)).toBe(2);
  });
});

describe("resolveConfig: the namespace", () => {
  it("-n beats the context's namespace, which beats default", async () => {
    const { a, b } = twoFiles();
    const env = { KUBECONFIG: `${a}${delimiter}${b}` };
    expect((await resolveConfig({ namespace: "cli" }, env)).namespace).toBe("cli");
    expect((await resolveConfig({ namespace: "cli", context: "b" }, env)).namespace).toBe("cli");
    expect((await resolveConfig({}, env)).namespace).toBe("ns-a");
    expect((await resolveConfig({ context: "b" }, env)).namespace).toBe("default");
  });
});

describe("resolveConfig: YAML as client-go reads it", () => {
  const base = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: c",
    "  cluster: &cluster",
    "    server: https://127.0.0.1:7",
    "    insecure-skip-tls-verify: yes",
    "- name: d",
    "  cluster:",
    "    <<: *cluster",
    "    server: https://127.0.0.1:8",
    "contexts:",
    "- {name: x, context: {cluster: d, user: u, namespace: ns-x}}",
    "current-context: x",
    "users:",
    "- {name: u, user: {token: abc}}",
  ];

  it("a second document in the file is ignored, as kubectl ignores it", async () => {
    const file = join(tempDir(), "config");
    writeFileSync(file, [...base, "---", "foo: bar", ""].join("\n"));
    const resolved = await resolveConfig({ kubeconfig: file }, {});
    expect(resolved.contextName).toBe("x");
    expect(resolved.namespace).toBe("ns-x");
  });

  it("YAML 1.1: merge keys (<<) and yes as true, as go-yaml reads them", async () => {
    const file = join(tempDir(), "config");
    writeFileSync(file, `${base.join("\n")}\n`);
    const cluster = (await resolveConfig({ kubeconfig: file }, {})).config.getCurrentCluster();
    expect(cluster?.server).toBe("https://127.0.0.1:8");
    expect(cluster?.skipTLSVerify).toBe(true);
  });

  it.each(["yes", "on", "Y", "true"])(
    "insecure-skip-tls-verify: %s is true in a plain block-style file too",
    async (word) => {
      const file = join(tempDir(), "config");
      const text = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: c",
        "  cluster:",
        "    server: https://127.0.0.1:7",
        `    insecure-skip-tls-verify: ${word}`,
        "contexts:",
        "- name: x",
        "  context:",
        "    cluster: c",
        "    user: u",
        "current-context: x",
        "users:",
        "- name: u",
        "  user:",
        "    token: abc",
        "",
      ];
      writeFileSync(file, text.join("\n"));
      const cluster = (await resolveConfig({ kubeconfig: file }, {})).config.getCurrentCluster();
      expect(cluster?.server).toBe("https://127.0.0.1:7");
      expect(cluster?.skipTLSVerify).toBe(true);
    },
  );

  it("a broken first document: one line naming the file and the place", async () => {
    const file = join(tempDir(), "config");
    writeFileSync(file, "clusters: [\n---\nfoo: bar\n");
    const error = await configError(() => resolveConfig({ kubeconfig: file }, {}));
    expect(error.message).toMatch(new RegExp(`^cannot read kubeconfig ${file}: .*line \\d+`));
    expect(error.message).not.toContain("\n");
  });
});

describe("kvmig version with several kubeconfig files", () => {
  let serverA: ScriptedApiServer;
  let serverB: ScriptedApiServer;
  let files: ReturnType<typeof twoFiles>;

  const serve = (s: ScriptedApiServer) => {
    s.on("GET", "/version", (_req, res) =>
      sendJson(res, 200, { major: "1", minor: "32", gitVersion: "v1.32.4" }),
    );
    s.on("GET", "/apis/subresources.kubevirt.io/v1/version", (_req, res) =>
      sendJson(res, 200, { gitVersion: "v1.9.0" }),
    );
    s.on("GET", "/apis/kubevirt.io/v1/kubevirts", (_req, res) =>
      sendJson(res, 200, {
        apiVersion: "kubevirt.io/v1",
        kind: "KubeVirtList",
        metadata: {},
        items: [
          {
            apiVersion: "kubevirt.io/v1",
            kind: "KubeVirt",
            metadata: { name: "kubevirt", namespace: "kubevirt" },
            status: { phase: "Deployed", observedKubeVirtVersion: "v1.9.0", targetKubeVirtVersion: "v1.9.0" },
          },
        ],
      }),
    );
  };

  beforeEach(async () => {
    [serverA, serverB] = await Promise.all([ScriptedApiServer.start(), ScriptedApiServer.start()]);
    serve(serverA);
    serve(serverB);
    files = twoFiles(serverA.url, serverB.url, serverA.pki.caPem, serverB.pki.caPem);
  });

  afterEach(async () => {
    await Promise.all([serverA.close(), serverB.close()]);
    expect(serverA.unexpected).toEqual([]);
    expect(serverB.unexpected).toEqual([]);
  });

  const env = () => ({ KUBECONFIG: `${files.a}${delimiter}${files.b}`, HOME: files.dir });

  it("--context b reaches the cluster of the second file, with its credentials", async () => {
    const result = await runCli(["--context", "b", "version"], { env: env() });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`v1.32.4 at ${serverB.url} (context "b")`);
    expect(serverA.requests).toEqual([]);
    expect(serverB.requests.map((r) => r.headers.authorization)).toEqual([
      "Bearer token-b",
      "Bearer token-b",
      "Bearer token-b",
    ]);
  });

  it("without --context, the first file's current-context", async () => {
    const result = await runCli(["version"], { env: env() });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`v1.32.4 at ${serverA.url} (context "a")`);
    expect(serverB.requests).toEqual([]);
    expect(serverA.requests).toHaveLength(3);
  });

  it("--context nope: one error line, a hint listing the contexts; exit 2", async () => {
    const result = await runCli(["--context", "nope", "version"], { env: env() });
    expect(lines(result.stderr)).toEqual([
      'error: context "nope" is not in the kubeconfig',
      "hint: the contexts are: a, b",
    ]);
    expect(result.stdout).toBe("");
    expect(result.code).toBe(2);
    expect([...serverA.requests, ...serverB.requests]).toEqual([]);
  });

  it("--kubeconfig naming a missing file is a bad flag value even though KUBECONFIG is fine; exit 2", async () => {
    const missing = join(files.dir, "missing");
    const result = await runCli(["--kubeconfig", missing, "version"], { env: env() });
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toBe(`error: --kubeconfig ${missing} does not exist`);
    expect(stderr[1]).toMatch(/^hint: .*--kubeconfig PATH or the KUBECONFIG environment variable/);
    expect(result.stdout).toBe("");
    expect(result.code).toBe(2);
    expect([...serverA.requests, ...serverB.requests]).toEqual([]);
  });

  it("a kubeconfig that is not valid YAML: one line naming the file, no stack trace; exit 1", async () => {
    const corrupt = join(files.dir, "corrupt");
    writeFileSync(
      corrupt,
      "apiVersion: v1\nclusters: [\n  - name: x\n    cluster: {server: https://127.0.0.1:1\n",
    );
    const result = await runCli(["version"], { env: { KUBECONFIG: `${corrupt}${delimiter}${files.a}` } });
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(2);
    const prefix = `error: cannot read kubeconfig ${corrupt}: `;
    expect(stderr[0]?.slice(0, prefix.length)).toBe(prefix);
    // ...followed by the parser's reason.
    expect(stderr[0]?.length).toBeGreaterThan(prefix.length + 5);
    expect(stderr[1]).toMatch(/^hint: fix the file/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toContain("YAMLException");
    expect(result.stdout).toBe("");
    expect(result.code).toBe(1);
    expect([...serverA.requests, ...serverB.requests]).toEqual([]);
  });

  it("-n does not change which cluster is reached", async () => {
    const result = await runCli(["-n", "elsewhere", "version"], { env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`(context "a")`);
    expect(serverA.requests).toHaveLength(3);
  });
});
