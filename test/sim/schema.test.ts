// Every KubeVirt object the simulated API server serves is shaped as KubeVirt writes it: each one
// read over HTTPS (lists, single objects, watch events, the deprecated kubevirt.io/v1alpha3 as
// well as v1) validates against KubeVirt's own OpenAPI schema (test/helpers/openapi-schema.ts).
import { describe, expect, it } from "vitest";
import { findResource, type SimResource } from "../../src/sim/registry.js";
import { validateKubeVirtObject } from "../helpers/openapi-schema.js";
import {
  apiServerOnly,
  type SimResponse,
  simPerTest,
  simRequest,
  simWatch,
  type WatchEvent,
} from "../helpers/sim.js";

type Json = Record<string, unknown>;

interface Collection {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const collections: readonly Collection[] = [
  {
    group: "kubevirt.io",
    version: "v1",
    plural: "virtualmachines",
    kind: "VirtualMachine",
    namespaced: true,
  },
  {
    group: "kubevirt.io",
    version: "v1",
    plural: "virtualmachineinstances",
    kind: "VirtualMachineInstance",
    namespaced: true,
  },
  {
    group: "kubevirt.io",
    version: "v1",
    plural: "virtualmachineinstancemigrations",
    kind: "VirtualMachineInstanceMigration",
    namespaced: true,
  },
  { group: "kubevirt.io", version: "v1", plural: "kubevirts", kind: "KubeVirt", namespaced: true },
  {
    group: "migrations.kubevirt.io",
    version: "v1alpha1",
    plural: "migrationpolicies",
    kind: "MigrationPolicy",
    namespaced: false,
  },
];

/** What the default seed holds, per kind. */
const seeded: Readonly<Record<string, number>> = {
  VirtualMachine: 5,
  VirtualMachineInstance: 5,
  VirtualMachineInstanceMigration: 0,
  KubeVirt: 1,
  MigrationPolicy: 0,
};

const deprecation = "kubevirt.io/v1alpha3 is now deprecated";

function resource(group: string, version: string, plural: string): SimResource {
  const found = findResource(group, version, plural);
  if (!found) throw new Error(`the simulator serves no ${plural}.${group}`);
  return found;
}

const vmis = resource("kubevirt.io", "v1", "virtualmachineinstances");

function demoVmisPath(version: string): string {
  return `/apis/kubevirt.io/${version}/namespaces/demo/virtualmachineinstances`;
}
const demoVmimsPath = "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations";

/** The event types of a watch's start: one ADDED per VMI of the seed's demo. */
const fiveAdded = ["ADDED", "ADDED", "ADDED", "ADDED", "ADDED"];

function meta(object: Json): { name: string; namespace?: string } {
  return object.metadata as { name: string; namespace?: string };
}

function objectPath(collection: Collection, version: string, object: Json): string {
  const { name, namespace } = meta(object);
  const ns = collection.namespaced ? `/namespaces/${namespace}` : "";
  return `/apis/${collection.group}/${version}${ns}/${collection.plural}/${name}`;
}

/** Counts what was validated, per kind, so that a test cannot pass by checking nothing. */
class Checker {
  readonly counts: Record<string, number> = {};

  /**
   * Validates against the schema of `kubevirt.io/v1` (KubeVirt serves v1alpha3 with the same
   * schema, so an object read in v1alpha3 is checked as v1 once its apiVersion says so).
   */
  check(object: Json, where: string, apiVersion: string): void {
    expect(object.apiVersion, `${where}: apiVersion`).toBe(apiVersion);
    const asStored =
      apiVersion === "kubevirt.io/v1alpha3" ? { ...object, apiVersion: "kubevirt.io/v1" } : object;
    const errors = validateKubeVirtObject(asStored);
    expect(
      errors,
      `${where} (${String(object.kind)} ${meta(object).name}):\n  ${errors.join("\n  ")}`,
    ).toEqual([]);
    const kind = String(object.kind);
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  /** Checks the object of each event; a missing event means a watch ended before it came. */
  checkEvents(events: readonly (WatchEvent | undefined)[], apiVersion: string): void {
    for (const event of events) {
      if (!event) throw new Error("a watch ended early");
      this.check(event.object as Json, `watch ${event.type}`, apiVersion);
    }
  }
}

function expectOk(response: SimResponse, path: string): void {
  expect(response.status, `GET ${path}: ${response.text.slice(0, 300)}`).toBe(200);
}

/** Creates a migration in demo over HTTP and fails unless the server answers 201 Created. */
async function postMigration(
  cluster: Parameters<typeof simRequest>[0],
  migration: { metadata: Json; spec: Json },
): Promise<SimResponse> {
  const created = await simRequest(cluster, "POST", demoVmimsPath, {
    body: { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstanceMigration", ...migration },
  });
  expect(created.status, created.text).toBe(201);
  return created;
}

/** Lists one collection in `version` and reads each item on its own; validates all of them. */
async function checkCollection(
  cluster: Parameters<typeof simRequest>[0],
  checker: Checker,
  collection: Collection,
  version: string,
): Promise<{ listed: number; headers: SimResponse["headers"][] }> {
  const apiVersion = `${collection.group}/${version}`;
  const path = `/apis/${apiVersion}/${collection.plural}`;
  const list = await simRequest(cluster, "GET", path);
  expectOk(list, path);
  expect(list.json.kind).toBe(`${collection.kind}List`);
  expect(list.json.apiVersion).toBe(apiVersion);
  const items = list.json.items as Json[];
  const headers = [list.headers];
  for (const item of items) {
    expect(item.kind).toBe(collection.kind);
    checker.check(item, `GET ${path}`, apiVersion);
    const one = objectPath(collection, version, item);
    const single = await simRequest(cluster, "GET", one);
    expectOk(single, one);
    headers.push(single.headers);
    checker.check(single.json as Json, `GET ${one}`, apiVersion);
    expect(single.json).toEqual(item);
  }
  return { listed: items.length, headers };
}

describe("KubeVirt objects served by a fresh cluster", () => {
  const sim = simPerTest(apiServerOnly);

  it("every list and every object of each list validates (kubevirt.io/v1, migrations.kubevirt.io/v1alpha1)", async () => {
    const cluster = sim();
    const listChecker = new Checker();
    for (const collection of collections) {
      const { listed, headers } = await checkCollection(cluster, listChecker, collection, collection.version);
      expect(listed, collection.plural).toBe(seeded[collection.kind]);
      for (const header of headers) expect(header.warning).toBeUndefined();
    }
    // Each object twice: as a list item and on its own.
    expect(listChecker.counts).toEqual({ VirtualMachine: 10, VirtualMachineInstance: 10, KubeVirt: 2 });
  });

  it("the namespaced lists (demo, kubevirt) validate too", async () => {
    const cluster = sim();
    const checker = new Checker();
    for (const [plural, namespace, count] of [
      ["virtualmachines", "demo", 5],
      ["virtualmachineinstances", "demo", 5],
      ["kubevirts", "kubevirt", 1],
      ["virtualmachineinstances", "kubevirt", 0],
    ] as const) {
      const path = `/apis/kubevirt.io/v1/namespaces/${namespace}/${plural}`;
      const response = await simRequest(cluster, "GET", path);
      expectOk(response, path);
      for (const item of response.json.items as Json[]) checker.check(item, `GET ${path}`, "kubevirt.io/v1");
      expect((response.json.items as Json[]).length, path).toBe(count);
    }
    expect(checker.counts).toEqual({ VirtualMachine: 5, VirtualMachineInstance: 5, KubeVirt: 1 });
  });

  it("migrations and policies created over HTTP validate as the server returns and lists them", async () => {
    const cluster = sim();
    const checker = new Checker();
    const created = await postMigration(cluster, {
      metadata: { generateName: "kvmig-fedora-web-", labels: { "kvmig.io/run": "r1" } },
      spec: { vmiName: "fedora-web", addedNodeSelector: { "kubernetes.io/hostname": "node-2" } },
    });
    checker.check(created.json as Json, `POST ${demoVmimsPath}`, "kubevirt.io/v1");
    const policyPath = "/apis/migrations.kubevirt.io/v1alpha1/migrationpolicies";
    const policy = await simRequest(cluster, "POST", policyPath, {
      body: {
        apiVersion: "migrations.kubevirt.io/v1alpha1",
        kind: "MigrationPolicy",
        metadata: { name: "databases" },
        spec: {
          allowAutoConverge: true,
          bandwidthPerMigration: "1Gi",
          completionTimeoutPerGiB: 300,
          selectors: { virtualMachineInstanceSelector: { app: "db" } },
        },
      },
    });
    expect(policy.status, policy.text).toBe(201);
    checker.check(policy.json as Json, `POST ${policyPath}`, "migrations.kubevirt.io/v1alpha1");

    for (const collection of collections.filter((c) => c.kind.includes("Migration"))) {
      const { listed } = await checkCollection(cluster, checker, collection, collection.version);
      expect(listed, collection.plural).toBe(1);
    }
    expect(checker.counts).toEqual({ VirtualMachineInstanceMigration: 3, MigrationPolicy: 3 });
  });
});

describe("KubeVirt objects in watch events", () => {
  const sim = simPerTest(apiServerOnly);

  it("the initial events, a VMI changed in the cluster, a migration created and deleted over HTTP", async () => {
    const cluster = sim();
    const checker = new Checker();
    const vmiWatch = await simWatch(cluster, `${demoVmisPath("v1")}?watch=1`);
    const vmimWatch = await simWatch(cluster, `${demoVmimsPath}?watch=1`);
    try {
      expect(vmiWatch.status).toBe(200);
      const initial = await vmiWatch.take(5);
      expect(initial.map((e) => e.type)).toEqual(fiveAdded);

      // A status change behind the API, as virt-handler makes one.
      cluster.store.patch(vmis, "demo", "fedora-web", "merge", {
        status: { evacuationNodeName: "node-1", migrationMethod: "LiveMigration" },
      });
      const [modified] = await vmiWatch.take(1);
      expect(modified?.type).toBe("MODIFIED");
      expect(modified?.object.status.evacuationNodeName).toBe("node-1");

      const created = await postMigration(cluster, {
        metadata: { generateName: "kvmig-fedora-web-" },
        spec: { vmiName: "fedora-web" },
      });
      // Without DeleteOptions: simRequest sets no Content-Length, and Node frames no body of a DELETE without one.
      const deleted = await simRequest(cluster, "DELETE", `${demoVmimsPath}/${created.json.metadata.name}`);
      expect(deleted.status, deleted.text).toBe(200);
      const migrationEvents = await vmimWatch.take(2);
      expect(migrationEvents.map((e) => e.type)).toEqual(["ADDED", "DELETED"]);

      checker.checkEvents([...initial, modified, ...migrationEvents], "kubevirt.io/v1");
      expect(checker.counts).toEqual({ VirtualMachineInstance: 6, VirtualMachineInstanceMigration: 2 });
    } finally {
      vmiWatch.close();
      vmimWatch.close();
    }
  });
});

describe("the deprecated kubevirt.io/v1alpha3", () => {
  const sim = simPerTest(apiServerOnly);
  const kubevirtCollections = collections.filter((c) => c.group === "kubevirt.io");

  it("lists and objects come back in v1alpha3, valid, with the deprecation warning", async () => {
    const cluster = sim();
    const checker = new Checker();
    for (const collection of kubevirtCollections) {
      const { listed, headers } = await checkCollection(cluster, checker, collection, "v1alpha3");
      expect(listed, collection.plural).toBe(seeded[collection.kind]);
      for (const header of headers) expect(header.warning).toContain(deprecation);
    }
    expect(checker.counts).toEqual({ VirtualMachine: 10, VirtualMachineInstance: 10, KubeVirt: 2 });
  });

  it("watch events come back in v1alpha3, valid, with the deprecation warning", async () => {
    const cluster = sim();
    const checker = new Checker();
    const watch = await simWatch(cluster, `${demoVmisPath("v1alpha3")}?watch=1`);
    try {
      expect(watch.status).toBe(200);
      const initial = await watch.take(5);
      cluster.store.patch(vmis, "demo", "rhel-db", "merge", { status: { evacuationNodeName: "node-3" } });
      const changed = await watch.take(1);
      expect([...initial, ...changed].map((e) => e.type)).toEqual([...fiveAdded, "MODIFIED"]);
      checker.checkEvents([...initial, ...changed], "kubevirt.io/v1alpha3");
      expect(checker.counts).toEqual({ VirtualMachineInstance: 6 });
    } finally {
      watch.close();
    }
    // The warning is a response header: read a whole (short) watch to see it.
    const short = await simRequest(cluster, "GET", `${demoVmisPath("v1alpha3")}?watch=1&timeoutSeconds=1`);
    expect(short.status).toBe(200);
    expect(short.headers.warning).toContain(deprecation);
    const events = short.text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as WatchEvent);
    expect(events.map((e) => e.type)).toEqual(fiveAdded);
    checker.checkEvents(events, "kubevirt.io/v1alpha3");
    expect(checker.counts).toEqual({ VirtualMachineInstance: 11 });
  });
});
