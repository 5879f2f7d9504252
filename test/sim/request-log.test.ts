// The simulated API server's request log: one record per request handled, as it ends, with the
// method, the path and query, the status and who asked. In process through SimCluster.onRequest
// (test/helpers/sim.ts recordRequests), and as JSON lines in a file with `kvmig sim
// --request-log FILE`, readable while the sim runs (a kubectl run through it is there at once).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runMain } from "../../src/main.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl, Kubectl } from "../helpers/kubectl.js";
import { recordRequests, simPerTest, simRequest, simWatch, writeRequests } from "../helpers/sim.js";
import { testContext } from "../helpers/test-context.js";

/** Resolves once `done()` holds, checking every 10 ms. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}

describe("the request log, in process", () => {
  const sim = simPerTest();

  it("records each request as it ends: method, path with query, status, user, user agent", async () => {
    const cluster = sim();
    const records = recordRequests(cluster);
    const roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles";
    const role = (verbs: string[]) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "notes", namespace: "demo" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs }],
    });
    expect((await simRequest(cluster, "GET", "/api/v1/namespaces/demo/pods?limit=2")).status).toBe(200);
    expect((await simRequest(cluster, "POST", roles, { body: role(["get"]) })).status).toBe(201);
    expect((await simRequest(cluster, "PUT", `${roles}/notes`, { body: role(["get", "list"]) })).status).toBe(
      200,
    );
    const patched = await simRequest(cluster, "PATCH", `${roles}/notes`, {
      body: { metadata: { labels: { team: "a" } } },
      contentType: "application/merge-patch+json",
    });
    expect(patched.status).toBe(200);
    expect((await simRequest(cluster, "DELETE", `${roles}/notes`)).status).toBe(200);
    expect((await simRequest(cluster, "GET", `${roles}/notes`)).status).toBe(404);
    expect((await simRequest(cluster, "GET", "/api/v1/nodes", { token: null })).status).toBe(401);
    await until(() => records.length === 7);
    expect(records.map((r) => [r.method, r.path, r.status, r.user])).toEqual([
      ["GET", "/api/v1/namespaces/demo/pods?limit=2", 200, "sim-admin"],
      ["POST", roles, 201, "sim-admin"],
      ["PUT", `${roles}/notes`, 200, "sim-admin"],
      ["PATCH", `${roles}/notes`, 200, "sim-admin"],
      ["DELETE", `${roles}/notes`, 200, "sim-admin"],
      ["GET", `${roles}/notes`, 404, "sim-admin"],
      ["GET", "/api/v1/nodes", 401, undefined],
    ]);
    expect(writeRequests(records).map((r) => r.method)).toEqual(["POST", "PUT", "PATCH", "DELETE"]);
    for (const r of records) {
      expect(Date.parse(r.time)).not.toBeNaN();
      expect(Date.parse(r.simTime)).not.toBeNaN();
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(r.aborted).toBeUndefined();
    }
  });

  it("a watch the client ends is recorded when it ends, as cut short", async () => {
    const cluster = sim();
    const records = recordRequests(cluster);
    const watch = await simWatch(cluster, "/api/v1/namespaces/demo/pods?watch=true");
    expect(watch.status).toBe(200);
    await watch.next();
    expect(records).toEqual([]);
    watch.close();
    await until(() => records.length === 1);
    expect(records[0]).toMatchObject({
      method: "GET",
      path: "/api/v1/namespaces/demo/pods?watch=true",
      status: 200,
      user: "sim-admin",
      aborted: true,
    });
  });

  it("writeRequests leaves out reads and server-side dry runs", () => {
    const base = { time: "", simTime: "", status: 201, durationMs: 1 };
    expect(
      writeRequests([
        { ...base, method: "GET", path: "/api/v1/nodes" },
        { ...base, method: "POST", path: "/api/v1/namespaces/demo/pods/p/eviction?dryRun=All" },
        { ...base, method: "POST", path: "/api/v1/namespaces/demo/pods/p/eviction" },
        { ...base, method: "PATCH", path: "/api/v1/nodes/node-1?dryRun=All&fieldManager=x" },
      ]).map((r) => r.path),
    ).toEqual(["/api/v1/namespaces/demo/pods/p/eviction"]);
  });
});

const kubectlBinary = findKubectl();

describe("kvmig sim --request-log", () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  async function serve(args: string[]) {
    const home = tempDir();
    const kubeconfig = join(home, "kubeconfig");
    const t = testContext({ env: { HOME: home } });
    const running = runMain(["sim", "--port", "0", "--kubeconfig-out", kubeconfig, ...args], t.ctx);
    stop = async () => {
      t.controller.abort();
      await running;
    };
    await until(() => t.stdout().includes("export KUBECONFIG="));
    return { kubeconfig, t, running };
  }

  it.skipIf(!kubectlBinary)(
    "appends a JSON line per request as it ends; a kubectl get is there while the sim runs",
    async () => {
      const log = join(tempDir(), "requests.jsonl");
      writeFileSync(log, '{"earlier":"run"}\n');
      const { kubeconfig, t } = await serve(["--scenario", "maintenance", "--request-log", log]);
      expect(t.stderr()).toContain(`request log: ${log} (one JSON line per request)`);
      const kubectl = new Kubectl(kubectlBinary as string, {
        kubeconfig: () => readFileSync(kubeconfig, "utf8"),
      });
      const out = await kubectl.ok(["get", "vmi", "-A", "-l", "kubevirt.io/nodeName=node-1", "-o", "name"]);
      expect(out.split("\n").filter(Boolean)).toHaveLength(10);
      const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
      expect(lines[0]).toBe('{"earlier":"run"}');
      const records = lines.slice(1).map((line) => JSON.parse(line));
      const get = records.find(
        (r) => r.method === "GET" && r.path.startsWith("/apis/kubevirt.io/v1/virtualmachineinstances?"),
      );
      expect(get).toMatchObject({
        status: 200,
        user: "sim-admin",
        userAgent: expect.stringMatching(/^kubectl\//),
      });
      expect(get.path).toContain("labelSelector=kubevirt.io%2FnodeName%3Dnode-1");
      // Discovery came first, and every line is a whole record.
      expect(records.some((r) => r.path.startsWith("/api") && r.method === "GET")).toBe(true);
      for (const r of records)
        expect(Object.keys(r)).toEqual(expect.arrayContaining(["time", "method", "path", "status"]));
      await kubectl.close();
    },
    60_000,
  );

  it("a request log in a directory that does not exist: exit 2 before the cluster starts, with a hint", async () => {
    const home = tempDir();
    const t = testContext({ env: { HOME: home } });
    const missing = join(home, "nope", "requests.jsonl");
    const code = await runMain(["sim", "--port", "0", "--request-log", missing], t.ctx);
    expect(code).toBe(2);
    expect(t.stderr()).toContain(`cannot write the request log ${missing}: its directory does not exist`);
    expect(t.stderr()).toContain("give --request-log a file in an existing directory you can write to");
    expect(t.stderr()).not.toContain("serving");
    expect(t.stdout()).toBe("");
  });

  it("a request log that is a directory: exit 2", async () => {
    const dir = join(tempDir(), "logs");
    mkdirSync(dir);
    const t = testContext({ env: { HOME: tempDir() } });
    expect(await runMain(["sim", "--port", "0", "--request-log", dir], t.ctx)).toBe(2);
    expect(t.stderr()).toContain(`cannot write the request log ${dir}: it is a directory`);
  });
});
