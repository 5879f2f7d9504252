// The simulated API server's impersonation, as kube-apiserver's filter does it: Impersonate-User,
// -Group and -Uid need the impersonate verb on users, groups, uids (or a service account); the
// request then runs as the impersonated user, in system:authenticated. kubectl's --as against
// it: test/e2e/kubectl-parity.test.ts.
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";

let sim: SimCluster;
beforeAll(async () => {
  sim = await startSimCluster({ seed: 7, manualTime: true });
});
afterAll(async () => {
  await sim?.close();
});

/** A GET as `user`, with impersonation headers; the status and the body's parsed JSON. */
function get(path: string, user: string, headers: Record<string, string | string[]>, body?: unknown) {
  // biome-ignore lint/suspicious/noExplicitAny: the answer's JSON, read field by field
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(
      `${sim.url}${path}`,
      {
        method: body === undefined ? "GET" : "POST",
        ca: sim.pki.caPem,
        headers: {
          Authorization: `Bearer ${sim.token(user)}`,
          "Content-Type": "application/json",
          ...headers,
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString("utf8");
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const review = "/apis/authentication.k8s.io/v1/selfsubjectreviews";

describe("impersonation", () => {
  it("the admin as another user, with groups: the request runs as that user", async () => {
    const { status, body } = await get("/api/v1/namespaces/demo/pods", "sim-admin", {
      "Impersonate-User": "nobody",
      "Impersonate-Group": ["team-a", "team-b"],
      "Impersonate-Uid": "42",
    });
    expect(status).toBe(403);
    expect(body.message).toBe(
      'pods is forbidden: User "nobody" cannot list resource "pods" in API group "" in the namespace "demo"',
    );
  });

  it("a user without the impersonate verb is refused, naming what it may not impersonate", async () => {
    const { status, body } = await get("/version", "sim-viewer", { "Impersonate-User": "sim-admin" });
    expect(status).toBe(403);
    expect(body.message).toBe(
      'users "sim-admin" is forbidden: User "sim-viewer" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
  });

  it("groups or a UID without a user: 400", async () => {
    const { status, body } = await get("/version", "sim-admin", { "Impersonate-Group": "g" });
    expect(status).toBe(400);
    expect(body.message).toBe('requested [{"Group":"g"}] without impersonating a user');
  });

  it("an impersonated system:masters member may do what the admin may", async () => {
    const { status } = await get("/api/v1/namespaces/demo/pods", "sim-admin", {
      "Impersonate-User": "someone",
      "Impersonate-Group": "system:masters",
    });
    expect(status).toBe(200);
  });

  it("a service account: it and its groups, and system:authenticated, as SelfSubjectReview says", async () => {
    const { status, body } = await get(
      review,
      "sim-admin",
      { "Impersonate-User": "system:serviceaccount:demo:robot" },
      { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    );
    expect(status).toBe(201);
    expect(body.status.userInfo).toEqual({
      username: "system:serviceaccount:demo:robot",
      groups: ["system:serviceaccounts", "system:serviceaccounts:demo", "system:authenticated"],
    });
  });
});
