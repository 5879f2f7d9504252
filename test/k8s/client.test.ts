// The domain verbs of the KubeClient against a scripted loopback API server: which request each
// one sends (path, query, body) and what it makes of the answer.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotKubernetesError } from "../../src/errors.js";
import { isDryRun, smallListBytes } from "../../src/k8s/client.js";
import { connect } from "../../src/k8s/connect.js";
import type { KubeClient } from "../../src/k8s/kube-client.js";
import { ScriptedApiServer, sendJson, sendStatus, startStream } from "../helpers/api-server.js";
import { ConnectProxy } from "../helpers/connect-proxy.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir, writeExecPluginKubeconfig, writeKubeconfig } from "../helpers/kubeconfig.js";

const sub = "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines";

let server: ScriptedApiServer;
let client: KubeClient;

beforeEach(async () => {
  server = await ScriptedApiServer.start();
  const kubeconfig = writeKubeconfig(tempDir(), {
    server: server.url,
    caPem: server.pki.caPem,
    token: "t0ken",
    namespace: "vms",
  });
  client = await connect({ kubeconfig }, { env: {}, clock: new FakeClock(), userAgent: "kvmig-test" });
});

afterEach(async () => {
  client.close();
  await server.close();
  expect(server.unexpected).toEqual([]);
});

function lastBody(): unknown {
  const body = server.requests.at(-1)?.body ?? "";
  return body === "" ? undefined : JSON.parse(body);
}

describe("subresources", () => {
  it("migrate: PUT with the added node selector and dry run, 202 with an empty body", async () => {
    server.on("PUT", `${sub}/db/migrate`, (_req, res) => {
      res.writeHead(202);
      res.end();
    });
    await client.migrate("vms", "db", {
      addedNodeSelector: { "kubernetes.io/hostname": "node-2" },
      dryRun: ["All"],
    });
    expect(lastBody()).toEqual({
      addedNodeSelector: { "kubernetes.io/hostname": "node-2" },
      dryRun: ["All"],
    });
    expect(server.requests.at(-1)?.headers["content-type"]).toBe("application/json");
  });

  it("a dry run goes on the pooled connection, a real write on a connection of its own", async () => {
    server.on("PUT", `${sub}/db/migrate`, (_req, res) => {
      res.writeHead(202);
      res.end();
    });
    await client.migrate("vms", "db", { dryRun: ["All"] });
    await client.migrate("vms", "db", {});
    // Node's keep-alive agent asks to keep the connection; the one-off agent closes it.
    expect(server.requests.map((r) => r.headers.connection)).toEqual(["keep-alive", "close"]);
  });

  it("isDryRun: dryRun=All in the query, the body or its deleteOptions, nothing else", () => {
    expect(isDryRun({ query: { dryRun: "All" } })).toBe(true);
    expect(isDryRun({ body: { dryRun: ["All"] } })).toBe(true);
    expect(isDryRun({ body: { deleteOptions: { dryRun: ["All"] } } })).toBe(true);
    expect(isDryRun({ query: { dryRun: undefined }, body: { dryRun: [] } })).toBe(false);
    expect(isDryRun({ body: { deleteOptions: {} } })).toBe(false);
    expect(isDryRun({})).toBe(false);
  });

  it("restart: PUT with the grace period", async () => {
    server.on("PUT", `${sub}/db/restart`, (_req, res) => {
      res.writeHead(202);
      res.end();
    });
    await client.restart("vms", "db", { gracePeriodSeconds: 0 });
    expect(lastBody()).toEqual({ gracePeriodSeconds: 0 });
  });
});

describe("node evacuation verbs", () => {
  const vmiSub = "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachineinstances";

  it("setNodeUnschedulable: one merge patch of spec.unschedulable and the annotations; uncordon sends null", async () => {
    server.on("PATCH", "/api/v1/nodes/node-1", (req, res) =>
      sendJson(res, 200, { metadata: { name: "node-1" }, spec: JSON.parse(req.body).spec }),
    );
    const node = await client.setNodeUnschedulable("node-1", true, {
      annotations: { "kvmig.io/cordoned": "yes", "kvmig.io/old": null },
      dryRun: true,
    });
    expect(node.spec?.unschedulable).toBe(true);
    expect(server.requests.at(-1)?.headers["content-type"]).toBe("application/merge-patch+json");
    expect(server.requests.at(-1)?.query.get("dryRun")).toBe("All");
    expect(lastBody()).toEqual({
      metadata: { annotations: { "kvmig.io/cordoned": "yes", "kvmig.io/old": null } },
      spec: { unschedulable: true },
    });
    await client.setNodeUnschedulable("node-1", false);
    expect(lastBody()).toEqual({ spec: { unschedulable: null } });
    expect(server.requests.at(-1)?.query.has("dryRun")).toBe(false);
  });

  it("evictPod: a policy/v1 Eviction, dry run in its deleteOptions as kubectl drain sends it", async () => {
    server.on("POST", "/api/v1/namespaces/vms/pods/virt-launcher-db-x/eviction", (_req, res) =>
      sendJson(res, 201, { kind: "Status", apiVersion: "v1", status: "Success", code: 201 }),
    );
    await client.evictPod("vms", "virt-launcher-db-x", { dryRun: true });
    expect(lastBody()).toEqual({
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: "virt-launcher-db-x", namespace: "vms" },
      deleteOptions: { dryRun: ["All"] },
    });
  });

  it("evictPod: a disruption budget's 429 is the server's message, unchanged, and is not sent again", async () => {
    const message = "Cannot evict pod as it would violate the pod's disruption budget.";
    server.on("POST", "/api/v1/namespaces/vms/pods/web-1/eviction", (_req, res) =>
      sendStatus(res, 429, "TooManyRequests", message, {
        causes: [{ reason: "DisruptionBudget", message: "The disruption budget web needs 2 healthy pods" }],
      }),
    );
    await expect(client.evictPod("vms", "web-1")).rejects.toMatchObject({
      status: 429,
      message,
      exitCode: 3,
    });
    expect(server.requests).toHaveLength(1);
  });

  it("evictPod: a 429 that asks for a wait (Retry-After) is throttling, sent again", async () => {
    let tries = 0;
    server.on("POST", "/api/v1/namespaces/vms/pods/web-1/eviction", (_req, res) => {
      tries += 1;
      if (tries === 1) {
        res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "1" });
        res.end(
          JSON.stringify({ kind: "Status", status: "Failure", code: 429, message: "Too many requests" }),
        );
        return;
      }
      sendJson(res, 201, { kind: "Status", status: "Success", code: 201 });
    });
    await client.evictPod("vms", "web-1");
    expect(tries).toBe(2);
  });

  it("evacuateCancel: PUT evacuate/cancel on the VMI with the node's name (and dry run)", async () => {
    server.on("PUT", `${vmiSub}/db/evacuate/cancel`, (_req, res) => {
      res.writeHead(200);
      res.end();
    });
    await client.evacuateCancel("vms", "db", "node-1", { dryRun: true });
    expect(lastBody()).toEqual({ evacuationNodeName: "node-1", dryRun: ["All"] });
    await client.evacuateCancel("vms", "db", "node-1");
    expect(lastBody()).toEqual({ evacuationNodeName: "node-1" });
  });

  it("evacuateCancel on a virt-api before v1.7 (404, no such subresource): says so, and how to clear the mark", async () => {
    server.on("PUT", `${vmiSub}/db/evacuate/cancel`, (_req, res) => {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("404 page not found");
    });
    const error = await client.evacuateCancel("vms", "db", "node-1").then(
      () => undefined,
      (e: unknown) => e as { message: string; hint?: string; exitCode: number },
    );
    expect(error?.message).toBe(
      "evacuate/cancel needs KubeVirt v1.7 or newer: this cluster's virt-api does not serve it (404 page not found (HTTP 404))",
    );
    expect(error?.hint).toBe(
      `on an older KubeVirt, stop the evacuation of vms/db by clearing the VMI's status.evacuationNodeName: kubectl patch vmi db -n vms --type=json -p '[{"op":"remove","path":"/status/evacuationNodeName"}]'`,
    );
    expect(error?.exitCode).toBe(5);
  });
});

describe("migrations", () => {
  const path = "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations";

  it("create: POST with apiVersion and kind, dryRun=All as a query parameter", async () => {
    server.on("POST", path, (req, res) => {
      const body = JSON.parse(req.body) as { metadata: object };
      sendJson(res, 201, {
        ...body,
        metadata: { ...body.metadata, name: "kubevirt-migrate-vm-x1", uid: "u1" },
      });
    });
    const created = await client.createMigration(
      "vms",
      { metadata: { generateName: "kvmig-" }, spec: { vmiName: "db" } },
      { dryRun: true },
    );
    expect(created.metadata.name).toBe("kubevirt-migrate-vm-x1");
    expect(server.requests.at(-1)?.query.get("dryRun")).toBe("All");
    expect(lastBody()).toEqual({
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: { generateName: "kvmig-" },
      spec: { vmiName: "db" },
    });
  });

  it("delete: DELETE with a uid precondition, so a replaced migration is never deleted", async () => {
    server.on("DELETE", `${path}/mig-1`, (_req, res) =>
      sendJson(res, 200, { kind: "Status", status: "Success" }),
    );
    await client.deleteMigration("vms", "mig-1", { uid: "uid-1", dryRun: true });
    expect(lastBody()).toEqual({
      apiVersion: "v1",
      kind: "DeleteOptions",
      preconditions: { uid: "uid-1" },
      dryRun: ["All"],
    });
  });

  it("delete: a precondition the server rejects is a 409 that keeps its message", async () => {
    const message =
      'Operation cannot be fulfilled on virtualmachineinstancemigrations.kubevirt.io "mig-1": Precondition failed: UID in precondition: uid-1, UID in object meta: uid-2';
    server.on("DELETE", `${path}/mig-1`, (_req, res) => sendStatus(res, 409, "Conflict", message));
    await expect(client.deleteMigration("vms", "mig-1", { uid: "uid-1" })).rejects.toMatchObject({
      message,
      exitCode: 1,
    });
  });
});

describe("reads", () => {
  it("get uses the context's namespace when none is given", async () => {
    server.on("GET", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines/db", (_req, res) =>
      sendJson(res, 200, { metadata: { name: "db", namespace: "vms" }, spec: {} }),
    );
    expect(client.namespace).toBe("vms");
    const vm = await client.get("vm", "db");
    expect(vm.metadata.name).toBe("db");
  });

  it("cluster-scoped resources have no namespace in the path", async () => {
    server.on("GET", "/api/v1/nodes/node-1", (_req, res) =>
      sendJson(res, 200, { metadata: { name: "node-1" } }),
    );
    server.on("GET", "/apis/migrations.kubevirt.io/v1alpha1/migrationpolicies", (_req, res) =>
      sendJson(res, 200, { metadata: {}, items: [{ metadata: { name: "fast" }, spec: { selectors: {} } }] }),
    );
    expect((await client.get("node", "node-1", "ignored")).metadata.name).toBe("node-1");
    expect((await client.list("migrationPolicy")).map((p) => p.metadata.name)).toEqual(["fast"]);
  });

  it("a metadata-only list asks for a PartialObjectMetadataList, falling back to the full list", async () => {
    const nodes = "/api/v1/nodes";
    server.on("GET", nodes, (_req, res) =>
      sendJson(res, 200, {
        kind: "PartialObjectMetadataList",
        apiVersion: "meta.k8s.io/v1",
        metadata: {},
        items: [
          { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: { name: "node-1" } },
        ],
      }),
    );
    const listed = await client.list("node", { metadataOnly: true });
    expect(listed.map((n) => n.metadata.name)).toEqual(["node-1"]);
    await client.list("node");
    expect(server.requests.map((r) => r.headers.accept)).toEqual([
      "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
      "application/json",
    ]);
  });

  it("findKubeVirt lists across namespaces; findVirtController reads the Deployment beside it", async () => {
    server.on("GET", "/apis/kubevirt.io/v1/kubevirts", (_req, res) =>
      sendJson(res, 200, {
        metadata: {},
        items: [
          {
            metadata: { name: "newer", namespace: "b", creationTimestamp: "2026-02-01T00:00:00Z" },
            spec: {},
          },
          {
            metadata: { name: "kubevirt", namespace: "kubevirt", creationTimestamp: "2025-01-01T00:00:00Z" },
            spec: {},
          },
        ],
      }),
    );
    server.on("GET", "/apis/apps/v1/namespaces/kubevirt/deployments/virt-controller", (_req, res) =>
      sendJson(res, 200, {
        metadata: { name: "virt-controller", namespace: "kubevirt" },
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: "virt-controller",
                  args: ["--launcher-image", "quay.io/kubevirt/virt-launcher:v1.9.0"],
                },
              ],
            },
          },
        },
      }),
    );
    server.on("GET", "/apis/apps/v1/namespaces/elsewhere/deployments/virt-controller", (_req, res) =>
      sendStatus(res, 404, "NotFound", 'deployments.apps "virt-controller" not found'),
    );
    const kv = await client.findKubeVirt();
    expect(kv?.metadata.namespace).toBe("kubevirt");
    const deployment = await client.findVirtController("kubevirt");
    expect(deployment?.spec?.template?.spec?.containers?.[0]?.args).toContain("--launcher-image");
    expect(await client.findVirtController("elsewhere")).toBeUndefined();
  });

  it("pod logs once: container, tailLines and timestamps as query parameters", async () => {
    server.on("GET", "/api/v1/namespaces/vms/pods/virt-launcher-db-abcde/log", (req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(
        `container=${req.query.get("container")} tail=${req.query.get("tailLines")} ts=${req.query.get("timestamps")}\n`,
      );
    });
    const text = await client.podLogs("vms", "virt-launcher-db-abcde", {
      container: "compute",
      tailLines: 200,
      timestamps: true,
    });
    expect(text).toBe("container=compute tail=200 ts=true\n");
  });

  it("pod logs following: yields each line as it arrives, ends when the container's log ends", async () => {
    server.on("GET", "/api/v1/namespaces/vms/pods/launcher/log", (_req, res) => {
      startStream(res);
      res.write('{"msg":"first"}\n{"msg":"sec');
      setTimeout(() => {
        res.write('ond"}\n');
        res.end('{"msg":"last, no newline"}');
      }, 30);
    });
    const lines: string[] = [];
    const controller = new AbortController();
    for await (const line of client.followPodLogs("vms", "launcher", {
      container: "compute",
      signal: controller.signal,
    })) {
      lines.push(line);
    }
    expect(lines).toEqual(['{"msg":"first"}', '{"msg":"second"}', '{"msg":"last, no newline"}']);
    expect(server.requests.at(-1)?.query.get("follow")).toBe("true");
    expect(server.requests.at(-1)?.query.get("container")).toBe("compute");
  });

  it("pod logs following: stops when the signal aborts", async () => {
    server.on("GET", "/api/v1/namespaces/vms/pods/launcher/log", (_req, res) => {
      startStream(res);
      res.write("one\n");
    });
    const controller = new AbortController();
    const lines: string[] = [];
    for await (const line of client.followPodLogs("vms", "launcher", {
      container: "compute",
      signal: controller.signal,
    })) {
      lines.push(line);
      controller.abort();
    }
    expect(lines).toEqual(["one"]);
  });

  it("canI sends a SelfSubjectAccessReview and reads allowed and reason", async () => {
    server.on("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", (req, res) => {
      const review = JSON.parse(req.body) as { spec: object };
      sendJson(res, 201, { ...review, status: { allowed: false, reason: "no RBAC policy matched" } });
    });
    const result = await client.canI({
      verb: "update",
      group: "subresources.kubevirt.io",
      resource: "virtualmachines",
      subresource: "migrate",
      namespace: "vms",
      name: "db",
    });
    expect(result).toEqual({ allowed: false, reason: "no RBAC policy matched" });
    expect(lastBody()).toEqual({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: {
        resourceAttributes: {
          verb: "update",
          group: "subresources.kubevirt.io",
          resource: "virtualmachines",
          subresource: "migrate",
          namespace: "vms",
          name: "db",
        },
      },
    });
  });
});

describe("listStream's answers, small and large", () => {
  const vmis = "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances";
  /** A page of `count` VMIs whose names sort as they come, each with `padding` bytes of note. */
  const page = (count: number, padding: number, cont?: string) => ({
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceList",
    metadata: { resourceVersion: "7", ...(cont ? { continue: cont } : {}) },
    items: Array.from({ length: count }, (_, i) => ({
      metadata: { name: `vm-${String(i).padStart(4, "0")}`, namespace: "vms" },
      spec: { note: "x".repeat(padding) },
    })),
  });
  const streamed = async () => {
    const pieces: string[][] = [];
    for await (const piece of client.listStream("vmi", { namespace: "vms" })) {
      pieces.push(piece.objects.map((v) => v.metadata.name ?? ""));
    }
    return pieces;
  };

  it("a page up to smallListBytes is handed on whole, one past it object by object, the continue token followed", async () => {
    expect(JSON.stringify(page(3, 10)).length).toBeLessThan(smallListBytes);
    expect(JSON.stringify(page(300, 1024)).length).toBeGreaterThan(smallListBytes);
    server.on("GET", vmis, (req, res) => {
      if (req.query.get("continue") === "next") sendJson(res, 200, page(300, 1024));
      else sendJson(res, 200, page(3, 10, "next"));
    });
    const pieces = (await streamed()).filter((p) => p.length > 0);
    // The small page in one piece; the large one in several, as its bytes came.
    expect(pieces[0]).toEqual(["vm-0000", "vm-0001", "vm-0002"]);
    expect(pieces.length).toBeGreaterThan(2);
    const large = pieces.slice(1).flat();
    expect(large).toEqual(Array.from({ length: 300 }, (_, i) => `vm-${String(i).padStart(4, "0")}`));
  });

  it("a small page that comes in two writes is parsed once, at its end (one piece)", async () => {
    const [a, b] = page(2, 10).items;
    server.on("GET", vmis, (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(`{"kind":"VirtualMachineInstanceList","metadata":{},"items":[${JSON.stringify(a)},`);
      setTimeout(() => res.end(`${JSON.stringify(b)}]}`), 30);
    });
    expect((await streamed()).filter((p) => p.length > 0)).toEqual([["vm-0000", "vm-0001"]]);
  });

  it("a small answer with no items is an empty page", async () => {
    server.on("GET", vmis, (_req, res) =>
      sendJson(res, 200, { kind: "VirtualMachineInstanceList", metadata: {} }),
    );
    expect((await streamed()).flat()).toEqual([]);
  });

  it("a small answer that is not a JSON object is not a Kubernetes API server", async () => {
    server.on("GET", vmis, (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<html><body>login</body></html>");
    });
    const error = await streamed().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotKubernetesError);
    expect((error as Error).message).toBe(
      `the server at ${server.url} is not a Kubernetes API server: it answered GET ${vmis} with a web page (HTTP 200)`,
    );
  });
});

describe("credentials", () => {
  it("sends the kubeconfig's bearer token", async () => {
    server.on("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
    await client.serverVersion();
    expect(server.requests.at(-1)?.headers.authorization).toBe("Bearer t0ken");
  });

  it("runs an exec credential plugin and sends the token it returns", async () => {
    const kubeconfig = writeExecPluginKubeconfig(tempDir(), {
      server: server.url,
      caPem: server.pki.caPem,
      token: "alice",
    });
    server.on("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
    const viaPlugin = await connect(
      { kubeconfig },
      { env: {}, clock: new FakeClock(), userAgent: "kvmig-test" },
    );
    await viaPlugin.serverVersion();
    await viaPlugin.serverVersion();
    viaPlugin.close();
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      "Bearer from-alice",
      "Bearer from-alice",
    ]);
    expect(viaPlugin.namespace).toBe("default");
  });

  it("in a pod, without a kubeconfig: the service account's token, CA and namespace", async () => {
    const serviceAccountDir = tempDir();
    writeFileSync(join(serviceAccountDir, "token"), "service-account-token");
    writeFileSync(join(serviceAccountDir, "ca.crt"), server.pki.caPem);
    writeFileSync(join(serviceAccountDir, "namespace"), "tenant-a\n");
    server.on("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
    const { port } = new URL(server.url);
    const inPod = await connect(
      {},
      {
        env: { HOME: tempDir(), KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: port },
        clock: new FakeClock(),
        userAgent: "kvmig-test",
        serviceAccountDir,
      },
    );
    await inPod.serverVersion();
    expect(server.requests.at(-1)?.headers.authorization).toBe("Bearer service-account-token");
    // The kubelet rotates the token: the next request reads the new one.
    writeFileSync(join(serviceAccountDir, "token"), "rotated-token\n");
    await inPod.serverVersion();
    inPod.close();
    expect(server.requests.at(-1)?.headers.authorization).toBe("Bearer rotated-token");
    expect(inPod.namespace).toBe("tenant-a");
    expect(inPod.context).toBe("in-cluster");
    expect(inPod.server).toBe(server.url);
  });

  it("tunnels through the kubeconfig's proxy-url, still verifying the server's certificate", async () => {
    const proxy = await ConnectProxy.start();
    try {
      const kubeconfig = writeKubeconfig(tempDir(), {
        server: server.url,
        caPem: server.pki.caPem,
        token: "via-proxy",
        proxyUrl: proxy.url,
      });
      server.on("GET", "/version", (_req, res) => sendJson(res, 200, { gitVersion: "v1.32.4" }));
      const proxied = await connect(
        { kubeconfig },
        { env: {}, clock: new FakeClock(), userAgent: "kvmig-test" },
      );
      expect((await proxied.serverVersion()).gitVersion).toBe("v1.32.4");
      proxied.close();
      expect(proxy.tunnels).toEqual([new URL(server.url).host]);
      expect(server.requests.at(-1)?.headers.authorization).toBe("Bearer via-proxy");
    } finally {
      await proxy.close();
    }
  });
});
