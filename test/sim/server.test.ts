// The simulated API server over real HTTPS: authentication and authorization bodies, discovery,
// selectors, paging with continue, watches (resume, selectors, bookmarks, 410), Table output,
// dry run, patches, both event APIs, and pod logs.
import { describe, expect, it } from "vitest";
import type { SimCluster } from "../../src/sim/cluster.js";
import { findResource } from "../../src/sim/registry.js";
import type { SimObject } from "../../src/sim/store.js";
import { apiServerOnly, simPerTest, simRequest, simWatch } from "../helpers/sim.js";

const vmimPath = "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations";
const vmiPath = "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstances";

function migration(name: string, labels?: Record<string, string>): object {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { vmiName: "fedora-web" },
  };
}

async function create(
  cluster: SimCluster,
  name: string,
  labels?: Record<string, string>,
): Promise<SimObject> {
  const res = await simRequest(cluster, "POST", vmimPath, { body: migration(name, labels) });
  expect(res.status).toBe(201);
  return res.json as SimObject;
}

function names(list: { items: SimObject[] }): string[] {
  return list.items.map((item) => item.metadata.name ?? "");
}

describe("authentication and authorization", () => {
  const sim = simPerTest(apiServerOnly, "file");

  it("no token or a wrong one: 401 with the server's Status body", async () => {
    for (const token of [null, "not-a-token"]) {
      const res = await simRequest(sim(), "GET", "/api/v1/namespaces", { token });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    }
  });

  it("the viewer reads but may not write: 403 naming user, verb, resource, group and namespace", async () => {
    const viewer = sim().token("sim-viewer");
    expect((await simRequest(sim(), "GET", vmiPath, { token: viewer })).status).toBe(200);
    const denied = await simRequest(sim(), "POST", vmimPath, { token: viewer, body: migration("x") });
    expect(denied.status).toBe(403);
    expect(denied.json).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message:
        'virtualmachineinstancemigrations.kubevirt.io is forbidden: User "sim-viewer" cannot create resource "virtualmachineinstancemigrations" in API group "kubevirt.io" in the namespace "demo"',
      reason: "Forbidden",
      details: { group: "kubevirt.io", kind: "virtualmachineinstancemigrations" },
      code: 403,
    });
  });

  it("403 for a named object at cluster scope, and for KubeVirt's migrate subresource", async () => {
    const viewer = sim().token("sim-viewer");
    const node = await simRequest(sim(), "DELETE", "/api/v1/nodes/node-1", { token: viewer });
    expect(node.json.message).toBe(
      'nodes "node-1" is forbidden: User "sim-viewer" cannot delete resource "nodes" in API group "" at the cluster scope',
    );
    expect(node.json.details).toEqual({ name: "node-1", group: "", kind: "nodes" });
    const migrate = await simRequest(
      sim(),
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/migrate",
      { token: viewer, body: {} },
    );
    expect(migrate.status).toBe(403);
    expect(migrate.json.message).toBe(
      'virtualmachines.subresources.kubevirt.io "fedora-web" is forbidden: User "sim-viewer" cannot update resource "virtualmachines/migrate" in API group "subresources.kubevirt.io" in the namespace "demo"',
    );
  });

  it("not found: the object's message, and the generic one for an unknown path", async () => {
    const missing = await simRequest(sim(), "GET", `${vmiPath}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      reason: "NotFound",
      message: 'virtualmachineinstances.kubevirt.io "nope" not found',
      details: { name: "nope", group: "kubevirt.io", kind: "virtualmachineinstances" },
    });
    const unknown = await simRequest(sim(), "GET", "/apis/kubevirt.io/v1/namespaces/demo/gadgets");
    expect(unknown.json).toMatchObject({
      code: 404,
      message: "the server could not find the requested resource",
    });
  });
});

describe("discovery", () => {
  const sim = simPerTest(apiServerOnly, "file");

  it("groups with their preferred versions, KubeVirt's resources with short names and categories", async () => {
    const groups = (await simRequest(sim(), "GET", "/apis")).json as {
      groups: { name: string; preferredVersion: { version: string } }[];
    };
    const byName = new Map(groups.groups.map((g) => [g.name, g.preferredVersion.version]));
    expect(byName.get("kubevirt.io")).toBe("v1");
    expect(byName.get("migrations.kubevirt.io")).toBe("v1alpha1");
    expect(byName.get("subresources.kubevirt.io")).toBe("v1");
    expect(byName.get("events.k8s.io")).toBe("v1");
    const kubevirt = (await simRequest(sim(), "GET", "/apis/kubevirt.io/v1")).json as {
      resources: {
        name: string;
        shortNames?: string[];
        categories?: string[];
        namespaced: boolean;
        verbs: string[];
      }[];
    };
    const vmim = kubevirt.resources.find((r) => r.name === "virtualmachineinstancemigrations");
    expect(vmim).toMatchObject({ shortNames: ["vmim", "vmims"], categories: ["all"], namespaced: true });
    expect(vmim?.verbs).toEqual(
      expect.arrayContaining(["create", "delete", "get", "list", "patch", "watch"]),
    );
    expect(kubevirt.resources.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        "virtualmachineinstancemigrations/status",
        "virtualmachines/status",
        "kubevirts",
      ]),
    );
    expect(kubevirt.resources.find((r) => r.name === "virtualmachineinstances/status")).toBeUndefined();
    const core = (await simRequest(sim(), "GET", "/api/v1")).json as { resources: { name: string }[] };
    expect(core.resources.map((r) => r.name)).toEqual(
      expect.arrayContaining(["pods", "pods/log", "nodes", "events"]),
    );
  });

  it("/version is the Kubernetes version; virt-api's version is under subresources.kubevirt.io", async () => {
    expect((await simRequest(sim(), "GET", "/version")).json).toMatchObject({
      major: "1",
      gitVersion: /^v1\.32\./,
    });
    const kubevirt = await simRequest(sim(), "GET", "/apis/subresources.kubevirt.io/v1/version");
    expect(kubevirt.json).toMatchObject({ gitVersion: "v1.9.0", platform: "linux/amd64" });
  });

  it("OpenAPI v3 tells kubectl that the server validates fields itself", async () => {
    const root = (await simRequest(sim(), "GET", "/openapi/v3")).json as {
      paths: Record<string, { serverRelativeURL: string }>;
    };
    const url = root.paths["apis/kubevirt.io/v1"]?.serverRelativeURL ?? "";
    expect(url).toMatch(/^\/openapi\/v3\/apis\/kubevirt\.io\/v1\?hash=/);
    const doc = (await simRequest(sim(), "GET", url)).json as {
      paths: Record<
        string,
        { patch?: { parameters: { name: string }[]; "x-kubernetes-group-version-kind": object } }
      >;
    };
    const patch =
      doc.paths["/apis/kubevirt.io/v1/namespaces/{namespace}/virtualmachineinstancemigrations/{name}"]?.patch;
    expect(patch?.parameters.map((p) => p.name)).toContain("fieldValidation");
    expect(patch?.["x-kubernetes-group-version-kind"]).toEqual({
      group: "kubevirt.io",
      version: "v1",
      kind: "VirtualMachineInstanceMigration",
    });
  });
});

describe("selectors", () => {
  const sim = simPerTest(apiServerOnly, "file");

  const listVmis = async (query: string) =>
    (await simRequest(sim(), "GET", `/apis/kubevirt.io/v1/virtualmachineinstances?${query}`)).json;

  it("label selectors: exists, !key, =, ==, !=, in, notin", async () => {
    const outdated = "kubevirt.io/outdatedLauncherImage";
    expect(names(await listVmis(`labelSelector=${encodeURIComponent(outdated)}`))).toEqual([
      "cirros-test",
      "win-app",
    ]);
    expect(names(await listVmis(`labelSelector=${encodeURIComponent(`!${outdated}`)}`))).toEqual([
      "fedora-web",
      "legacy-pvc",
      "rhel-db",
    ]);
    const onNode = (op: string) =>
      listVmis(`labelSelector=${encodeURIComponent(`kubevirt.io/nodeName${op}`)}`);
    const all = (await listVmis("")) as { items: SimObject[] };
    const node = all.items[0]?.metadata.labels?.["kubevirt.io/nodeName"] ?? "";
    const expected = all.items
      .filter((i) => i.metadata.labels?.["kubevirt.io/nodeName"] === node)
      .map((i) => i.metadata.name);
    expect(names(await onNode(`=${node}`))).toEqual(expected);
    expect(names(await onNode(`==${node}`))).toEqual(expected);
    expect(names(await onNode(` in (${node}, nowhere)`))).toEqual(expected);
    expect(names(await onNode(`!=${node}`))).toEqual(names(all).filter((n) => !expected.includes(n)));
    expect(names(await onNode(` notin (${node})`))).toEqual(names(all).filter((n) => !expected.includes(n)));
  });

  it("a malformed label selector is 400 with the parser's message", async () => {
    const res = await simRequest(sim(), "GET", `${vmiPath}?labelSelector=${encodeURIComponent("a in b")}`);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      reason: "BadRequest",
      message: expect.stringContaining("unable to parse requirement"),
    });
  });

  it("field selectors: events by involved object and reason, pods by node and phase", async () => {
    const events = (
      await simRequest(
        sim(),
        "GET",
        `/api/v1/namespaces/demo/events?fieldSelector=${encodeURIComponent("involvedObject.kind=VirtualMachineInstance,involvedObject.name=fedora-web,reason=Started")}`,
      )
    ).json as { items: { involvedObject: { name: string }; reason: string; type: string }[] };
    expect(events.items.length).toBeGreaterThan(0);
    for (const event of events.items)
      expect([event.involvedObject.name, event.reason]).toEqual(["fedora-web", "Started"]);
    const pods = (
      await simRequest(
        sim(),
        "GET",
        "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1,status.phase%3DRunning",
      )
    ).json as { items: { spec: { nodeName: string }; status: { phase: string } }[] };
    expect(pods.items.length).toBeGreaterThan(0);
    for (const pod of pods.items)
      expect([pod.spec.nodeName, pod.status.phase]).toEqual(["node-1", "Running"]);
    const notRunning = (await simRequest(sim(), "GET", "/api/v1/pods?fieldSelector=status.phase!%3DRunning"))
      .json;
    expect(notRunning.items).toEqual([]);
  });

  it("an unsupported field label is 400 `field label not supported`", async () => {
    const res = await simRequest(sim(), "GET", "/api/v1/pods?fieldSelector=spec.hostname%3Dx");
    expect(res.status).toBe(400);
    expect(res.json.message).toBe("field label not supported: spec.hostname");
  });
});

describe("paging with limit and continue", () => {
  const sim = simPerTest({ ...apiServerOnly, historyLimit: 20 });

  it("pages of two with a continue token and the remaining count, over one consistent state", async () => {
    const first = (await simRequest(sim(), "GET", `${vmiPath}?limit=2`)).json;
    expect(names(first)).toEqual(["cirros-test", "fedora-web"]);
    expect(first.metadata.remainingItemCount).toBe(3);
    // Changes after the first page do not show in the later ones.
    const vmis = findResource("kubevirt.io", "v1", "virtualmachineinstances");
    if (!vmis) throw new Error("no vmis");
    sim().store.patch(vmis, "demo", "legacy-pvc", "json", [{ op: "remove", path: "/metadata/finalizers" }]);
    sim().store.delete(vmis, "demo", "legacy-pvc", { propagationPolicy: "Orphan" });
    sim().store.create(vmis, { metadata: { name: "aaa-new", namespace: "demo" }, spec: {} });
    const second = (
      await simRequest(
        sim(),
        "GET",
        `${vmiPath}?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`,
      )
    ).json;
    expect(names(second)).toEqual(["legacy-pvc", "rhel-db"]);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const third = (
      await simRequest(
        sim(),
        "GET",
        `${vmiPath}?limit=2&continue=${encodeURIComponent(second.metadata.continue)}`,
      )
    ).json;
    expect(names(third)).toEqual(["win-app"]);
    expect(third.metadata.continue).toBeUndefined();
    // A new list sees the changes.
    expect(names((await simRequest(sim(), "GET", vmiPath)).json)).toEqual([
      "aaa-new",
      "cirros-test",
      "fedora-web",
      "rhel-db",
      "win-app",
    ]);
  });

  it("a continue token older than the history is 410 Expired; a garbled one is 400", async () => {
    const first = (await simRequest(sim(), "GET", `${vmiPath}?limit=2`)).json;
    for (let i = 0; i < 30; i++) await create(sim(), `m${i}`);
    const expired = await simRequest(
      sim(),
      "GET",
      `${vmiPath}?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`,
    );
    expect(expired.status).toBe(410);
    expect(expired.json).toMatchObject({ reason: "Expired", code: 410 });
    expect(expired.json.message).toMatch(
      /^The provided continue parameter is too old to display a consistent list result/,
    );
    const garbled = await simRequest(sim(), "GET", `${vmiPath}?limit=2&continue=bm9wZQ`);
    expect(garbled.status).toBe(400);
    expect(garbled.json.message).toMatch(/^continue key is not valid/);
  });

  it("with a selector, pages hold only matching items", async () => {
    for (const name of ["a1", "b1", "a2", "b2", "a3"]) await create(sim(), name, { kind: name[0] ?? "" });
    const seen: string[] = [];
    let token = "";
    for (let guard = 0; guard < 10; guard++) {
      const page = (
        await simRequest(
          sim(),
          "GET",
          `${vmimPath}?labelSelector=kind%3Da&limit=2${token ? `&continue=${encodeURIComponent(token)}` : ""}`,
        )
      ).json;
      seen.push(...names(page));
      expect(page.metadata.remainingItemCount).toBeUndefined();
      token = page.metadata.continue ?? "";
      if (!token) break;
    }
    expect(seen).toEqual(["a1", "a2", "a3"]);
  });
});

describe("watch", () => {
  const sim = simPerTest({ ...apiServerOnly, historyLimit: 10, bookmarkIntervalMs: 50 });

  it("from a resourceVersion: the changes after it, in order; a resumed watch replays what it missed", async () => {
    const list = (await simRequest(sim(), "GET", vmimPath)).json;
    const watch = await simWatch(
      sim(),
      `${vmimPath}?watch=1&resourceVersion=${list.metadata.resourceVersion}`,
    );
    const a = await create(sim(), "a");
    await simRequest(sim(), "PATCH", `${vmimPath}/a`, {
      body: { metadata: { labels: { step: "2" } } },
      contentType: "application/merge-patch+json",
    });
    await simRequest(sim(), "DELETE", `${vmimPath}/a`);
    const events = await watch.take(3);
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ["ADDED", "a"],
      ["MODIFIED", "a"],
      ["DELETED", "a"],
    ]);
    expect(events[0]?.object).toMatchObject({
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
    });
    watch.close();
    // Resuming from the first event's version replays the two after it.
    const resumed = await simWatch(
      sim(),
      `${vmimPath}?watch=1&resourceVersion=${a.metadata.resourceVersion}`,
    );
    expect((await resumed.take(2)).map((e) => e.type)).toEqual(["MODIFIED", "DELETED"]);
    resumed.close();
  });

  it("a resourceVersion older than the history: an ERROR event with 410 Expired, then the stream ends", async () => {
    const list = (await simRequest(sim(), "GET", vmimPath)).json;
    for (let i = 0; i < 20; i++) await create(sim(), `m${i}`);
    const watch = await simWatch(
      sim(),
      `${vmimPath}?watch=1&resourceVersion=${list.metadata.resourceVersion}`,
    );
    const event = await watch.next();
    expect(event?.type).toBe("ERROR");
    expect(event?.object).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
    expect(event?.object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    expect(await watch.next()).toBeUndefined();
    expect(watch.ended).toBe(true);
  });

  it("with a selector, an object leaving it is DELETED and one entering it is ADDED", async () => {
    await create(sim(), "a", { team: "x" });
    const watch = await simWatch(sim(), `${vmimPath}?watch=1&labelSelector=team%3Dx`);
    expect((await watch.next())?.type).toBe("ADDED");
    const patch = (team: string) =>
      simRequest(sim(), "PATCH", `${vmimPath}/a`, {
        body: { metadata: { labels: { team } } },
        contentType: "application/merge-patch+json",
      });
    await patch("y");
    await patch("x");
    const events = await watch.take(2);
    // Leaving the selection, the watcher gets the state it last matched, at the new version.
    expect(events.map((e) => [e.type, e.object.metadata.labels.team])).toEqual([
      ["DELETED", "x"],
      ["ADDED", "x"],
    ]);
    expect(Number(events[1]?.object.metadata.resourceVersion)).toBeGreaterThan(
      Number(events[0]?.object.metadata.resourceVersion),
    );
    watch.close();
  });

  it("bookmarks carry the current resourceVersion; timeoutSeconds ends the stream", async () => {
    const watch = await simWatch(
      sim(),
      `${vmimPath}?watch=1&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=${sim().store.resourceVersion}`,
    );
    const bookmark = await watch.next();
    expect(bookmark).toMatchObject({
      type: "BOOKMARK",
      object: { kind: "VirtualMachineInstanceMigration", apiVersion: "kubevirt.io/v1" },
    });
    expect(bookmark?.object.metadata.resourceVersion).toBe(String(sim().store.resourceVersion));
    while (await watch.next()) {
      // More bookmarks until the server's timeout ends the stream.
    }
    expect(watch.ended).toBe(true);
  });

  it("without a resourceVersion: every current object as ADDED first", async () => {
    const watch = await simWatch(sim(), `${vmiPath}?watch=true`);
    const events = await watch.take(5);
    expect(events.every((e) => e.type === "ADDED")).toBe(true);
    expect(events.map((e) => e.object.metadata.name)).toEqual([
      "cirros-test",
      "fedora-web",
      "legacy-pvc",
      "rhel-db",
      "win-app",
    ]);
    watch.close();
  });
});

describe("writes", () => {
  const sim = simPerTest(apiServerOnly);

  it("Table output for kubectl: KubeVirt's printer columns, rows with object metadata", async () => {
    await create(sim(), "m1");
    const table = (
      await simRequest(sim(), "GET", vmimPath, {
        accept:
          "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
      })
    ).json;
    expect(table.kind).toBe("Table");
    expect(table.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(["Name", "Phase", "VMI"]);
    expect(table.rows[0].cells).toEqual(["m1", null, "fedora-web"]);
    expect(table.rows[0].object).toMatchObject({
      kind: "PartialObjectMetadata",
      metadata: { name: "m1", namespace: "demo" },
    });
  });

  it("dryRun=All validates and answers without storing anything", async () => {
    const rv = sim().store.resourceVersion;
    const created = await simRequest(sim(), "POST", `${vmimPath}?dryRun=All`, { body: migration("dry") });
    expect(created.status).toBe(201);
    expect(created.json.metadata).toMatchObject({ name: "dry", namespace: "demo" });
    expect((await simRequest(sim(), "GET", `${vmimPath}/dry`)).status).toBe(404);
    const invalid = await simRequest(sim(), "POST", `${vmimPath}?dryRun=All`, {
      body: migration("Not_Valid"),
    });
    expect(invalid.status).toBe(422);
    await create(sim(), "real");
    const deleted = await simRequest(sim(), "DELETE", `${vmimPath}/real?dryRun=All`);
    expect(deleted.status).toBe(200);
    expect((await simRequest(sim(), "GET", `${vmimPath}/real`)).status).toBe(200);
    expect(sim().store.resourceVersion).toBe(rv + 1);
    const badValue = await simRequest(sim(), "POST", `${vmimPath}?dryRun=Some`, { body: migration("x") });
    expect(badValue.status).toBe(400);
  });

  it("stale resourceVersion on PUT: 409 Conflict; the right one: 200 with a new version", async () => {
    const made = await create(sim(), "m");
    const put = (rv: string | undefined, label: string) =>
      simRequest(sim(), "PUT", `${vmimPath}/m`, {
        body: { ...made, metadata: { ...made.metadata, resourceVersion: rv, labels: { v: label } } },
      });
    const ok = await put(made.metadata.resourceVersion, "1");
    expect(ok.status).toBe(200);
    expect(ok.json.metadata.resourceVersion).not.toBe(made.metadata.resourceVersion);
    const stale = await put(made.metadata.resourceVersion, "2");
    expect(stale.status).toBe(409);
    expect(stale.json.reason).toBe("Conflict");
  });

  it("patches: merge and JSON patch apply; a failed JSON patch test is 422; strategic merge is 415 on a CRD", async () => {
    await create(sim(), "m");
    const merged = await simRequest(sim(), "PATCH", `${vmimPath}/m`, {
      body: { metadata: { annotations: { a: "1" } } },
      contentType: "application/merge-patch+json",
    });
    expect(merged.json.metadata.annotations).toEqual({ a: "1" });
    const failedTest = await simRequest(sim(), "PATCH", `${vmimPath}/m`, {
      body: [{ op: "test", path: "/spec/vmiName", value: "other" }],
      contentType: "application/json-patch+json",
    });
    expect(failedTest.status).toBe(422);
    expect(failedTest.json.details.causes[0].message).toContain("jsonpatch test operation does not apply");
    const strategic = await simRequest(sim(), "PATCH", `${vmimPath}/m`, {
      body: { metadata: { labels: { a: "b" } } },
      contentType: "application/strategic-merge-patch+json",
    });
    expect(strategic.status).toBe(415);
    expect(strategic.json.message).toBe(
      "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    );
    // Core kinds accept strategic merge patches.
    const node = await simRequest(sim(), "PATCH", "/api/v1/nodes/node-1", {
      body: { spec: { unschedulable: true } },
      contentType: "application/strategic-merge-patch+json",
    });
    expect(node.json.spec.unschedulable).toBe(true);
  });

  it("events: core v1 and events.k8s.io/v1 are one store under two shapes", async () => {
    const created = await simRequest(sim(), "POST", "/apis/events.k8s.io/v1/namespaces/demo/events", {
      body: {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name: "fedora-web.1" },
        regarding: {
          kind: "VirtualMachineInstance",
          name: "fedora-web",
          namespace: "demo",
          apiVersion: "kubevirt.io/v1",
        },
        reason: "Migrating",
        note: "VirtualMachineInstance is migrating.",
        type: "Normal",
        action: "Migrate",
        reportingController: "virt-handler",
        reportingInstance: "node-1",
        eventTime: "2026-11-25T10:00:00.000000Z",
      },
    });
    expect(created.status).toBe(201);
    const core = (await simRequest(sim(), "GET", "/api/v1/namespaces/demo/events/fedora-web.1")).json;
    expect(core).toMatchObject({
      apiVersion: "v1",
      involvedObject: { kind: "VirtualMachineInstance", name: "fedora-web" },
      message: "VirtualMachineInstance is migrating.",
      reportingComponent: "virt-handler",
    });
    const selected = (
      await simRequest(
        sim(),
        "GET",
        "/apis/events.k8s.io/v1/namespaces/demo/events?fieldSelector=regarding.name%3Dfedora-web,reason%3DMigrating",
      )
    ).json;
    expect(selected.items.map((e: { note: string }) => e.note)).toEqual([
      "VirtualMachineInstance is migrating.",
    ]);
  });
});

describe("pod logs", () => {
  const sim = simPerTest(apiServerOnly);

  async function launcherPod(cluster: SimCluster, vmi: string): Promise<string> {
    const pods = (
      await simRequest(
        cluster,
        "GET",
        `/api/v1/namespaces/demo/pods?labelSelector=${encodeURIComponent(`vm.kubevirt.io/name=${vmi}`)}`,
      )
    ).json;
    return pods.items[0].metadata.name;
  }

  it("a container's lines with tailLines and timestamps; several containers need one named", async () => {
    const pod = await launcherPod(sim(), "fedora-web");
    const path = `/api/v1/namespaces/demo/pods/${pod}/log`;
    const unnamed = await simRequest(sim(), "GET", path);
    expect(unnamed.status).toBe(400);
    expect(unnamed.json.message).toMatch(
      new RegExp(`^a container name must be specified for pod ${pod}, choose one of: \\[compute `),
    );
    const at = Date.parse("2026-11-25T10:00:00Z");
    sim().logs.append("demo", pod, "compute", { time: at, text: '{"msg":"one"}' });
    sim().logs.append("demo", pod, "compute", { time: at + 1000, text: '{"msg":"two"}' });
    const tail = await simRequest(sim(), "GET", `${path}?container=compute&tailLines=2&timestamps=true`);
    expect(tail.headers["content-type"]).toBe("text/plain");
    expect(tail.text).toBe(
      '2026-11-25T10:00:00.000000000Z {"msg":"one"}\n2026-11-25T10:00:01.000000000Z {"msg":"two"}\n',
    );
    // Init containers (the guest-console-log sidecar among them) have logs too.
    sim().logs.append("demo", pod, "guest-console-log", { time: at, text: "console" });
    const sidecar = await simRequest(sim(), "GET", `${path}?container=guest-console-log`);
    expect([sidecar.status, sidecar.text]).toEqual([200, "console\n"]);
    const wrong = await simRequest(sim(), "GET", `${path}?container=nope`);
    expect(wrong.json.message).toBe(`container nope is not valid for pod ${pod}`);
  });

  it("follow streams new lines and ends when the pod is deleted", async () => {
    const pod = await launcherPod(sim(), "rhel-db");
    const watch = await simWatch(
      sim(),
      `/api/v1/namespaces/demo/pods/${pod}/log?container=compute&follow=true&tailLines=0`,
    );
    const lines: string[] = [];
    const done = new Promise<void>((resolve) => {
      // biome-ignore lint/suspicious/noExplicitAny: the raw response behind the watch helper.
      const res = (watch as any).res as NodeJS.ReadableStream;
      res.removeAllListeners("data");
      res.on("data", (chunk: string) => lines.push(...chunk.split("\n").filter((l) => l !== "")));
      res.on("end", () => resolve());
    });
    sim().logs.append("demo", pod, "compute", { time: Date.now(), text: "first" });
    sim().logs.append("demo", pod, "compute", { time: Date.now(), text: "second" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await simRequest(sim(), "DELETE", `/api/v1/namespaces/demo/pods/${pod}`);
    await done;
    expect(lines).toEqual(["first", "second"]);
  });
});
