// The error mapping, end to end: a loopback HTTPS server answers with the API server's own
// Status bodies (or fails below HTTP), and each error keeps the server's message, gets a hint
// naming what was refused or missing, and the exit code of the spec's table.
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../src/clock.js";
import { exitCodeOf, KvmigError } from "../../src/errors.js";
import { connect } from "../../src/k8s/connect.js";
import type { KubeClient } from "../../src/k8s/kube-client.js";
import { ScriptedApiServer, sendStatus } from "../helpers/api-server.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir, writeKubeconfig } from "../helpers/kubeconfig.js";
import { createTestPki } from "../helpers/tls.js";

let server: ScriptedApiServer;
let client: KubeClient;

async function clientFor(
  serverUrl: string,
  caPem: string,
  requestTimeoutMs?: number,
  clock: Clock = systemClock,
): Promise<KubeClient> {
  const kubeconfig = writeKubeconfig(tempDir(), {
    server: serverUrl,
    caPem,
    token: "secret-token",
    context: "lab",
    namespace: "vms",
  });
  return connect({ kubeconfig, requestTimeoutMs }, { env: {}, clock, userAgent: "kvmig-test" });
}

async function failure(promise: Promise<unknown>): Promise<KvmigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KvmigError);
  return error as KvmigError;
}

beforeEach(async () => {
  server = await ScriptedApiServer.start();
  client = await clientFor(server.url, server.pki.caPem);
});

afterEach(async () => {
  client.close();
  await server.close();
  expect(server.unexpected).toEqual([]);
});

describe("HTTP errors keep the server's message and add a hint", () => {
  it("401: names the server, the context and the refused request; exit 4", async () => {
    server.on("GET", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances/db", (_req, res) =>
      sendStatus(res, 401, "Unauthorized", "Unauthorized"),
    );
    const error = await failure(client.get("vmi", "db"));
    expect(error.message).toBe("Unauthorized");
    expect(error.hint).toBe(
      `the API server at ${server.url} did not accept the credentials of context "lab" (refused: get virtualmachineinstances.kubevirt.io in namespace "vms"); log in again or refresh the credentials in your kubeconfig`,
    );
    expect(exitCodeOf(error)).toBe(4);
  });

  it("401 from virt-api on a deeper subresource path: names both checks and the permission; exit 4", async () => {
    // kube-apiserver let `update virtualmachineinstances/evacuate` through; virt-api (v1.9+) asks
    // about `evacuate/cancel` and answers 401 with the review's reason, here none, as plain text.
    server.on(
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachineinstances/db/evacuate/cancel",
      (_req, res) => {
        res.writeHead(401, { "Content-Type": "text/plain; charset=utf-8" });
        res.end("");
      },
    );
    const error = await failure(client.evacuateCancel("vms", "db", "node-1"));
    expect(error.message).toBe(
      `KubeVirt's virt-api refused update virtualmachineinstances/evacuate/cancel.subresources.kubevirt.io in namespace "vms" (HTTP 401)`,
    );
    expect(error.hint).toMatch(
      /^the API server allowed update virtualmachineinstances\/evacuate, virt-api \(KubeVirt v1\.9\+\) checks virtualmachineinstances\/evacuate\/cancel too: a role needs both; check with: echo .*"subresource":"evacuate\/cancel".* \| kubectl create /,
    );
    expect(exitCodeOf(error)).toBe(4);

    // A one-segment subresource is checked alike by both: its 401 is the credentials'.
    server.on(
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/db/restart",
      (_req, res) => sendStatus(res, 401, "Unauthorized", "Unauthorized"),
    );
    const restart = await failure(client.restart("vms", "db"));
    expect(restart.message).toBe("Unauthorized");
    expect(restart.hint).toMatch(/did not accept the credentials of context "lab"/);
  });

  it("403: names verb, resource and namespace, and the migrate role; exit 4", async () => {
    const message =
      'virtualmachines.subresources.kubevirt.io "db" is forbidden: User "alice" cannot update resource "virtualmachines/migrate" in API group "subresources.kubevirt.io" in the namespace "vms"';
    server.on(
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/db/migrate",
      (_req, res) =>
        sendStatus(res, 403, "Forbidden", message, {
          name: "db",
          group: "subresources.kubevirt.io",
          kind: "virtualmachines",
        }),
    );
    const error = await failure(client.migrate("vms", "db"));
    expect(error.message).toBe(message);
    expect(error.hint).toBe(
      'you are not allowed to update virtualmachines/migrate.subresources.kubevirt.io in namespace "vms"; since KubeVirt v1.5 this needs the kubevirt.io:migrate ClusterRole (bind it with a RoleBinding in the namespace); check with: echo \'{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"update","group":"subresources.kubevirt.io","resource":"virtualmachines","subresource":"migrate","namespace":"vms","name":"db"}}}\' | kubectl create --validate=false -f - -o \'jsonpath={.status.allowed}\'',
    );
    expect(exitCodeOf(error)).toBe(4);
  });

  it("403 on a list: names list and the resource; exit 4", async () => {
    server.on("GET", "/api/v1/namespaces/vms/pods", (_req, res) =>
      sendStatus(res, 403, "Forbidden", 'pods is forbidden: User "bob" cannot list resource "pods"'),
    );
    const error = await failure(client.list("pod", { namespace: "vms" }));
    expect(error.hint).toBe(
      'you are not allowed to list pods in namespace "vms"; ask a cluster admin for a Role that grants it; check with: kubectl auth can-i list pods -n vms',
    );
    expect(exitCodeOf(error)).toBe(4);
  });

  it("404: names what is missing and how to list what exists; exit 5", async () => {
    server.on("GET", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines/nope", (_req, res) =>
      sendStatus(res, 404, "NotFound", 'virtualmachines.kubevirt.io "nope" not found', {
        name: "nope",
        group: "kubevirt.io",
        kind: "virtualmachines",
      }),
    );
    const error = await failure(client.get("vm", "nope"));
    expect(error.message).toBe('virtualmachines.kubevirt.io "nope" not found');
    expect(error.hint).toBe(
      'there is no virtualmachines.kubevirt.io "nope" in namespace "vms" (context "lab"); list what exists with: kubectl get virtualmachines.kubevirt.io -n vms',
    );
    expect(exitCodeOf(error)).toBe(5);
  });

  it("404 on a KubeVirt collection the server does not serve: KubeVirt is not installed; exit 1", async () => {
    server.on("GET", "/apis/kubevirt.io/v1/kubevirts", (_req, res) =>
      sendStatus(res, 404, "NotFound", "the server could not find the requested resource"),
    );
    const error = await failure(client.list("kubevirt"));
    expect(error.message).toBe(
      'KubeVirt is not installed on the cluster of context "lab": the API server does not serve kubevirt.io kubevirts',
    );
    expect(error.hint).toBe(
      "install KubeVirt (https://kubevirt.io/user-guide/cluster_admin/installation/), or choose the cluster that runs it with --context",
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it("a web page instead of a Status: not a Kubernetes API server; exit 1", async () => {
    server.on("GET", "/apis/kubevirt.io/v1/kubevirts", (_req, res) => {
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<!doctype html><html><body>Not here</body></html>");
    });
    const error = await failure(client.list("kubevirt"));
    expect(error.message).toBe(
      `the server at ${server.url} is not a Kubernetes API server: it answered GET /apis/kubevirt.io/v1/kubevirts with a web page (HTTP 404)`,
    );
    expect(error.hint).toBe(
      'check the server address of context "lab": kubectl config view --minify --context lab',
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it("409: keeps the message (a KubeVirt refusal); exit 1", async () => {
    const message = 'Operation cannot be fulfilled on virtualmachine.kubevirt.io "db": VM is not running';
    server.on(
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/db/migrate",
      (_req, res) => sendStatus(res, 409, "Conflict", message),
    );
    const error = await failure(client.migrate("vms", "db"));
    expect(error.message).toBe(message);
    expect(error.hint).toBe(
      "the object changed, or its state does not allow this now; check its current state and run again",
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it("410: says the read expired and to run again; exit 1", async () => {
    server.on("GET", "/api/v1/namespaces/vms/events", (_req, res) =>
      sendStatus(
        res,
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result.",
      ),
    );
    const error = await failure(client.list("event", { namespace: "vms" }));
    expect(error.message).toBe(
      "The provided continue parameter is too old to display a consistent list result.",
    );
    expect(error.hint).toBe(
      "what kvmig was reading expired on the server (too old a resourceVersion or continue token); run the command again",
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it("422: keeps the message and the field causes; exit 2", async () => {
    server.on("POST", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations", (_req, res) =>
      sendStatus(res, 422, "Invalid", 'VirtualMachineInstanceMigration.kubevirt.io "m" is invalid', {
        causes: [{ field: "spec.vmiName", message: "vmiName is missing", reason: "FieldValueRequired" }],
      }),
    );
    const error = await failure(
      client.createMigration("vms", { metadata: { name: "m" }, spec: { vmiName: "" } }),
    );
    expect(error.message).toBe(
      'VirtualMachineInstanceMigration.kubevirt.io "m" is invalid (spec.vmiName: vmiName is missing)',
    );
    expect(error.hint).toBe(
      "the API server rejected the request as invalid; fix the value it names and run again",
    );
    expect(exitCodeOf(error)).toBe(2);
  });

  it("500 carrying a webhook's denial: the cluster's answer, exit 3 with KubeVirt's reason", async () => {
    const message =
      'Internal error occurred: admission webhook "migration-create-validator.kubevirt.io" denied the request: in-flight migration detected. Active migration job (1234) is currently already in progress for VMI db.';
    server.on(
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/db/migrate",
      (_req, res) => sendStatus(res, 500, "InternalError", message),
    );
    const error = await failure(client.migrate("vms", "db"));
    expect(error.message).toBe(
      "KubeVirt refused the request: in-flight migration detected. Active migration job (1234) is currently already in progress for VMI db. (admission webhook migration-create-validator.kubevirt.io)",
    );
    expect(error.hint).toBe("a migration of it is already under way; follow it with: kvmig watch db -n vms");
    expect(exitCodeOf(error)).toBe(3);
  });

  it("an answer that is not a Status keeps its first line and the HTTP code", async () => {
    server.on("GET", "/version", (_req, res) => {
      res.writeHead(502, { "Content-Type": "text/plain" });
      res.end("upstream connect error\nmore");
    });
    // A 502 on a read is tried again (retry.ts) until the budget is spent: no real waits here.
    const patient = await clientFor(server.url, server.pki.caPem, undefined, new FakeClock());
    const error = await failure(patient.serverVersion());
    patient.close();
    expect((error.cause as KvmigError).message).toBe("upstream connect error (HTTP 502)");
    expect(error.message).toMatch(/; its last answer: upstream connect error \(HTTP 502\)$/);
    expect(exitCodeOf(error)).toBe(1);
  });
});

describe("failures below HTTP name the server URL and the context", () => {
  it("connection refused: exit 1", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await clientFor(`https://127.0.0.1:${port}`, server.pki.caPem);
    const error = await failure(down.serverVersion());
    down.close();
    expect(error.message).toBe(
      `cannot connect to the API server at https://127.0.0.1:${port} (context "lab"): connection refused`,
    );
    expect(error.hint).toBe(
      "is the cluster running? check the server address and the cluster with: kubectl config view --minify --context lab",
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it("TLS: a server whose certificate the kubeconfig's CA did not sign; exit 1", async () => {
    const otherCa = await createTestPki("another-ca");
    const mistrusting = await clientFor(server.url, otherCa.caPem);
    const error = await failure(mistrusting.serverVersion());
    mistrusting.close();
    expect(error.message).toMatch(
      new RegExp(`^TLS verification failed for the API server at ${server.url} \\(context "lab"\\): .+`),
    );
    expect(error.hint).toBe(
      "the certificate-authority in your kubeconfig does not match the server's certificate; fix the cluster's certificate-authority(-data) entry, or point --context at the right cluster (--insecure-skip-tls-verify skips the check, insecurely)",
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it("TLS: a kubeconfig with no CA at all is told so, not that its CA 'does not match'; exit 1", async () => {
    // The same cluster entry without certificate-authority-data: only the system's CAs are asked.
    const dir = tempDir();
    const path = writeKubeconfig(dir, {
      server: server.url,
      caPem: "",
      token: "secret-token",
      context: "lab",
    });
    writeFileSync(path, readFileSync(path, "utf8").replace(/^ *certificate-authority-data:.*\n/m, ""));
    expect(readFileSync(path, "utf8")).not.toContain("certificate-authority");
    const noCa = await connect(
      { kubeconfig: path },
      { env: {}, clock: systemClock, userAgent: "kvmig-test" },
    );
    const error = await failure(noCa.serverVersion());
    noCa.close();
    expect(error.message).toMatch(
      new RegExp(`^TLS verification failed for the API server at ${server.url} \\(context "lab"\\): .+`),
    );
    expect(error.hint).toBe(
      "the server's certificate is not signed by a CA this system trusts, and the kubeconfig has no certificate-authority(-data) for its cluster; add the cluster's CA there (certificate-authority-data, or certificate-authority: FILE), or point --context at the right cluster (--insecure-skip-tls-verify skips the check, insecurely)",
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it("timeout: says what was waited for; a read that keeps timing out is exit 1", async () => {
    server.on("GET", "/version", () => {
      // Never answers.
    });
    const slow = await clientFor(server.url, server.pki.caPem, 300);
    const error = await failure(slow.serverVersion());
    slow.close();
    // Each try times out with its own error; the read is tried twice (the budget is the 0.3s).
    const last = error.cause as KvmigError;
    expect(last.message).toBe(
      `timed out after 0.3s waiting for the API server at ${server.url} (context "lab") to answer GET /version`,
    );
    expect(last.hint).toBe("raise --request-timeout, or check the network path to the API server");
    expect(error.message).toMatch(
      new RegExp(
        `^the API server at ${server.url} \\(context "lab"\\) did not answer GET /version after 2 tries over [\\d.]+s: no answer within 0\\.3s$`,
      ),
    );
    expect(server.requests).toHaveLength(2);
    expect(exitCodeOf(error)).toBe(1);
  });
  it("timeout while the body is still arriving: still a timeout", async () => {
    server.on("GET", "/version", (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"gitVersion":');
      // ...and the rest never comes.
    });
    const slow = await clientFor(server.url, server.pki.caPem, 300);
    const error = await failure(slow.serverVersion());
    slow.close();
    expect((error.cause as KvmigError).message).toBe(
      `timed out after 0.3s waiting for the API server at ${server.url} (context "lab") to answer GET /version`,
    );
    expect(error.message).toMatch(/: no answer within 0\.3s$/);
    expect(exitCodeOf(error)).toBe(1);
  });
});
