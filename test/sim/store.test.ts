// The store's object semantics, without HTTP: identity and versions, generateName, generation,
// optimistic concurrency, finalizers, garbage collection, dry run, history and snapshots.
import { describe, expect, it } from "vitest";
import { Random } from "../../src/sim/random.js";
import { findResource, type SimResource } from "../../src/sim/registry.js";
import { SimApiError } from "../../src/sim/status.js";
import { type Change, type SimObject, Store } from "../../src/sim/store.js";

function resource(group: string, version: string, plural: string): SimResource {
  const found = findResource(group, version, plural);
  if (!found) throw new Error(`no ${plural}`);
  return found;
}

const namespaces = resource("", "v1", "namespaces");
const pods = resource("", "v1", "pods");
const vms = resource("kubevirt.io", "v1", "virtualmachines");
const vmis = resource("kubevirt.io", "v1", "virtualmachineinstances");
const vmims = resource("kubevirt.io", "v1", "virtualmachineinstancemigrations");

function newStore(historyLimit?: number): { store: Store; clock: { now: number } } {
  const clock = { now: Date.parse("2026-11-25T10:00:00Z") };
  const store = new Store({ now: () => clock.now, random: new Random(7), historyLimit });
  store.create(namespaces, { metadata: { name: "demo" } });
  return { store, clock };
}

function vmim(name: string, extra: Partial<SimObject["metadata"]> = {}): SimObject {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: { name, namespace: "demo", ...extra },
    spec: { vmiName: "db" },
  };
}

function apiError(fn: () => unknown): SimApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SimApiError) return error;
    throw error;
  }
  throw new Error("expected an API error");
}

describe("identity and versions", () => {
  it("assigns uid, creationTimestamp, generation 1 and a growing cluster-wide resourceVersion", () => {
    const { store } = newStore();
    const a = store.create(vmims, vmim("a"));
    const b = store.create(vms, { metadata: { name: "b", namespace: "demo" }, spec: {} });
    expect(a.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.metadata.creationTimestamp).toBe("2026-11-25T10:00:00Z");
    expect(a.metadata.generation).toBe(1);
    expect(Number(b.metadata.resourceVersion)).toBe(Number(a.metadata.resourceVersion) + 1);
    expect(store.resourceVersion).toBe(Number(b.metadata.resourceVersion));
  });

  it("generateName gets a five-character suffix; a taken name is 409 AlreadyExists", () => {
    const { store } = newStore();
    const made = store.create(vmims, vmim("", { generateName: "kubevirt-migrate-vm-" }));
    expect(made.metadata.name).toMatch(/^kubevirt-migrate-vm-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    store.create(vmims, vmim("x"));
    const error = apiError(() => store.create(vmims, vmim("x")));
    expect(error.status).toMatchObject({
      code: 409,
      reason: "AlreadyExists",
      message: 'virtualmachineinstancemigrations.kubevirt.io "x" already exists',
      details: { name: "x", group: "kubevirt.io", kind: "virtualmachineinstancemigrations" },
    });
  });

  it("rejects a bad name (422) and a missing namespace (404) in the server's words", () => {
    const { store } = newStore();
    const bad = apiError(() => store.create(vmims, vmim("Bad_Name")));
    expect(bad.code).toBe(422);
    expect(bad.status.message).toMatch(
      /^VirtualMachineInstanceMigration\.kubevirt\.io "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    const missing = apiError(() =>
      store.create(vmims, { ...vmim("x"), metadata: { name: "x", namespace: "nope" } }),
    );
    expect(missing.status).toMatchObject({ code: 404, message: 'namespaces "nope" not found' });
  });

  it("generation grows with spec changes only; the status subresource changes status only", () => {
    const { store } = newStore();
    const created = store.create(vms, {
      metadata: { name: "vm", namespace: "demo" },
      spec: { running: true },
    });
    const relabelled = store.update(vms, {
      ...created,
      metadata: { ...created.metadata, labels: { a: "b" } },
    });
    expect(relabelled.metadata.generation).toBe(1);
    const respecced = store.update(vms, { ...relabelled, spec: { running: false }, status: { ready: true } });
    expect(respecced.metadata.generation).toBe(2);
    // The main resource ignores status where a status subresource exists...
    expect(respecced.status).toBeUndefined();
    // ...and the status subresource ignores everything else.
    const status = store.update(
      vms,
      { ...respecced, spec: { running: true }, status: { ready: true } },
      { subresource: "status" },
    );
    expect(status.status).toEqual({ ready: true });
    expect(status.spec).toEqual({ running: false });
    expect(status.metadata.generation).toBe(2);
  });

  it("a VMI has no status subresource, so a status change is a change of the object (generation too)", () => {
    const { store } = newStore();
    const vmi = store.create(vmis, { metadata: { name: "db", namespace: "demo" }, spec: {}, status: {} });
    const next = store.update(vmis, { ...vmi, status: { phase: "Running" } });
    expect(next.status).toEqual({ phase: "Running" });
    expect(next.metadata.generation).toBe(2);
  });

  it("an update that changes nothing keeps the resourceVersion and records no change", () => {
    const { store } = newStore();
    const created = store.create(vmims, vmim("a"));
    const changes: Change[] = [];
    store.subscribe((c) => changes.push(c));
    const same = store.update(vmims, created);
    expect(same.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(changes).toEqual([]);
  });
});

describe("optimistic concurrency", () => {
  it("409 Conflict on a stale resourceVersion, with the server's message", () => {
    const { store } = newStore();
    const first = store.create(vmims, vmim("a"));
    store.update(vmims, { ...first, metadata: { ...first.metadata, labels: { x: "1" } } });
    const error = apiError(() =>
      store.update(vmims, { ...first, metadata: { ...first.metadata, labels: { x: "2" } } }),
    );
    expect(error.status).toMatchObject({
      code: 409,
      reason: "Conflict",
      message:
        'Operation cannot be fulfilled on virtualmachineinstancemigrations.kubevirt.io "a": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it("a delete precondition on uid protects a replaced object", () => {
    const { store } = newStore();
    const old = store.create(vmims, vmim("a"));
    store.delete(vmims, "demo", "a");
    const replacement = store.create(vmims, vmim("a"));
    const error = apiError(() =>
      store.delete(vmims, "demo", "a", { preconditions: { uid: old.metadata.uid } }),
    );
    expect(error.code).toBe(409);
    expect(error.status.message).toBe(
      `Operation cannot be fulfilled on virtualmachineinstancemigrations.kubevirt.io "a": Precondition failed: UID in precondition: ${old.metadata.uid}, UID in object meta: ${replacement.metadata.uid}`,
    );
    expect(store.get(vmims.storage, "demo", "a")?.metadata.uid).toBe(replacement.metadata.uid);
  });
});

describe("finalizers and deletion", () => {
  it("an object with finalizers stays, with a deletionTimestamp, until the last one is removed", () => {
    const { store, clock } = newStore();
    store.create(vmims, vmim("a", { finalizers: ["kubevirt.io/migrationJobFinalize"] }));
    clock.now += 5000;
    const result = store.delete(vmims, "demo", "a");
    expect(result.gone).toBe(false);
    expect(result.object.metadata.deletionTimestamp).toBe("2026-11-25T10:00:05Z");
    expect(result.object.metadata.generation).toBe(2);
    const kept = store.get(vmims.storage, "demo", "a");
    expect(kept?.metadata.deletionTimestamp).toBe("2026-11-25T10:00:05Z");
    // Adding a finalizer to an object being deleted is forbidden.
    const refused = apiError(() =>
      store.update(vmims, {
        ...(kept as SimObject),
        metadata: { ...(kept as SimObject).metadata, finalizers: ["a", "b"] },
      }),
    );
    expect(refused.status.message).toContain("no new finalizers can be added if the object is being deleted");
    const changes: Change[] = [];
    store.subscribe((c) => changes.push(c));
    store.patch(vmims, "demo", "a", "json", [{ op: "remove", path: "/metadata/finalizers" }]);
    expect(store.get(vmims.storage, "demo", "a")).toBeUndefined();
    expect(changes.map((c) => c.type)).toEqual(["DELETED"]);
  });

  it("deleting an owner deletes its dependents (background garbage collection)", () => {
    const { store } = newStore();
    const vm = store.create(vms, { metadata: { name: "db", namespace: "demo" }, spec: {} });
    const owner = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      name: "db",
      uid: vm.metadata.uid ?? "",
    };
    const vmi = store.create(vmis, {
      metadata: { name: "db", namespace: "demo", ownerReferences: [owner] },
      spec: {},
    });
    const pod = store.create(pods, {
      metadata: {
        name: "virt-launcher-db-abcde",
        namespace: "demo",
        ownerReferences: [
          {
            apiVersion: "kubevirt.io/v1",
            kind: "VirtualMachineInstance",
            name: "db",
            uid: vmi.metadata.uid ?? "",
          },
        ],
      },
      spec: {},
    });
    store.delete(vms, "demo", "db");
    expect(store.get(vmis.storage, "demo", "db")).toBeUndefined();
    expect(store.get(pods.storage, "demo", pod.metadata.name ?? "")).toBeUndefined();
  });

  it("orphan propagation keeps dependents and drops their owner reference", () => {
    const { store } = newStore();
    const vm = store.create(vms, { metadata: { name: "db", namespace: "demo" }, spec: {} });
    store.create(vmis, {
      metadata: {
        name: "db",
        namespace: "demo",
        ownerReferences: [
          { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: "db", uid: vm.metadata.uid ?? "" },
        ],
      },
      spec: {},
    });
    store.delete(vms, "demo", "db", { propagationPolicy: "Orphan" });
    const vmi = store.get(vmis.storage, "demo", "db");
    expect(vmi).toBeDefined();
    expect(vmi?.metadata.ownerReferences).toBeUndefined();
  });

  it("deleting a namespace deletes what is in it, then the namespace", () => {
    const { store } = newStore();
    store.create(vmims, vmim("a"));
    store.delete(namespaces, undefined, "demo");
    expect(store.list(vmims.storage)).toEqual([]);
    expect(store.get("namespaces", undefined, "demo")).toBeUndefined();
  });
});

describe("dry run", () => {
  it("create, update and delete validate and answer, but change nothing", () => {
    const { store } = newStore();
    const rv = store.resourceVersion;
    const made = store.create(vmims, vmim("", { generateName: "kvmig-" }), { dryRun: true });
    expect(made.metadata.name).toMatch(/^kvmig-/);
    expect(made.metadata.uid).toBeDefined();
    expect(made.metadata.resourceVersion).toBeUndefined();
    expect(store.list(vmims.storage)).toEqual([]);
    expect(() => store.create(vmims, vmim("Bad"), { dryRun: true })).toThrow(SimApiError);
    const real = store.create(vmims, vmim("a"));
    store.update(vmims, { ...real, metadata: { ...real.metadata, labels: { a: "b" } } }, { dryRun: true });
    store.delete(vmims, "demo", "a", { dryRun: true });
    expect(store.get(vmims.storage, "demo", "a")).toEqual(real);
    expect(store.resourceVersion).toBe(rv + 1);
  });
});

describe("history and snapshots", () => {
  it("changesSince gives the changes after a version; older than the window is 410 Gone", () => {
    const { store } = newStore(4);
    const start = store.resourceVersion;
    for (let i = 0; i < 3; i++) store.create(vmims, vmim(`m${i}`));
    expect(store.changesSince(start).map((c) => c.object.metadata.name)).toEqual(["m0", "m1", "m2"]);
    for (let i = 3; i < 10; i++) store.create(vmims, vmim(`m${i}`));
    const error = apiError(() => store.changesSince(start));
    expect(error.status).toMatchObject({ code: 410, reason: "Expired" });
    expect(error.status.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it("listAt shows the objects as they were at a version, in key order", () => {
    const { store } = newStore();
    store.create(vmims, vmim("b"));
    store.create(vmims, vmim("a"));
    const at = store.resourceVersion;
    store.create(vmims, vmim("c"));
    store.delete(vmims, "demo", "a");
    const b = store.get(vmims.storage, "demo", "b") as SimObject;
    store.update(vmims, { ...b, metadata: { ...b.metadata, labels: { changed: "yes" } } });
    const snapshot = store.listAt(vmims.storage, at);
    expect(snapshot.map((o) => o.metadata.name)).toEqual(["a", "b"]);
    expect(snapshot[1]?.metadata.labels).toBeUndefined();
    expect(store.list(vmims.storage).map((o) => o.metadata.name)).toEqual(["b", "c"]);
  });

  it("objects handed out are copies: changing one does not change the store", () => {
    const { store } = newStore();
    const made = store.create(vmims, vmim("a"));
    (made.spec as { vmiName: string }).vmiName = "other";
    const got = store.get(vmims.storage, "demo", "a") as SimObject;
    got.metadata.labels = { x: "y" };
    expect(store.get(vmims.storage, "demo", "a")).toMatchObject({
      spec: { vmiName: "db" },
      metadata: { name: "a" },
    });
    expect(store.get(vmims.storage, "demo", "a")?.metadata.labels).toBeUndefined();
  });
});
