// kvmig's own KubeClient against the simulated cluster: every verb of the interface, over HTTPS
// with the kubeconfig the simulator writes, for the admin and the viewer. The scripted-server
// suites (test/k8s/) pin down the requests; this one proves that the client and the simulator
// agree on paths, queries, bodies, status codes, error messages, watch streams and log streams.
import { writeFileSync } from "node:fs";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { ApiError, exitCodeOf } from "../../src/errors.js";
import { connect } from "../../src/k8s/connect.js";
import type { KubeClient, ListOptions, WatchUpdate } from "../../src/k8s/kube-client.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { type SimCluster, simKubevirtVersion } from "../../src/sim/cluster.js";
import { findResource, type SimResource } from "../../src/sim/registry.js";
import type { SimObject } from "../../src/sim/store.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir, writeKubeconfig } from "../helpers/kubeconfig.js";
import { apiServerOnly, simPerTest } from "../helpers/sim.js";

function resource(group: string, version: string, plural: string): SimResource {
  const found = findResource(group, version, plural);
  if (!found) throw new Error(`the simulator serves no ${plural}.${group}`);
  return found;
}

const vmis = resource("kubevirt.io", "v1", "virtualmachineinstances");
const vmims = resource("kubevirt.io", "v1", "virtualmachineinstancemigrations");
const migrationPolicies = resource("migrations.kubevirt.io", "v1alpha1", "migrationpolicies");

const vmNames = ["cirros-test", "fedora-web", "legacy-pvc", "rhel-db", "win-app"];

interface ClientOptions {
  context?: "sim-admin" | "sim-viewer";
  /** Connect through this kubeconfig instead of the cluster's own. */
  kubeconfig?: string;
  log?: (line: string) => void;
}

const clients: KubeClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

/** A KubeClient as kvmig makes one: from a kubeconfig file, here the one the simulator writes. */
async function clientFor(cluster: SimCluster, options: ClientOptions = {}): Promise<KubeClient> {
  let kubeconfig = options.kubeconfig;
  if (kubeconfig === undefined) {
    kubeconfig = join(tempDir(), "config");
    writeFileSync(kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
  }
  const client = await connect(
    { kubeconfig, context: options.context },
    { env: {}, clock: new FakeClock(), userAgent: "kvmig-test", log: options.log },
  );
  clients.push(client);
  return client;
}

/** The rejection of `promise`: an ApiError, the KvmigError the client makes of an HTTP error answer. */
async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

/** Reads an async iterable in the background; `take(n)` waits for the next n items. */
class Collector<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;
  done = false;
  error: unknown;

  constructor(iterable: AsyncIterable<T>) {
    void (async () => {
      try {
        for await (const item of iterable) {
          this.items.push(item);
          this.wake();
        }
      } catch (error) {
        this.error = error;
      } finally {
        this.done = true;
        this.wake();
      }
    })();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  async take(n: number): Promise<T[]> {
    while (this.items.length < n && !this.done) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    if (this.items.length < n) {
      throw new Error(`the iteration ended after ${this.items.length} of ${n} items: ${String(this.error)}`);
    }
    return this.items.splice(0, n);
  }

  /** What arrived and was not taken yet. */
  get pending(): readonly T[] {
    return this.items;
  }
}

function summary(update: WatchUpdate<VirtualMachineInstance>): string {
  return update.type === "SYNCED"
    ? "SYNCED"
    : `${update.type} ${update.object.metadata.name}@${update.object.metadata.resourceVersion}`;
}

/** A migration of `vmiName` in demo; `metadata` gives its name or how the server generates one. */
function migrationOf(
  vmiName: string,
  metadata: VirtualMachineInstanceMigration["metadata"],
): VirtualMachineInstanceMigration {
  return { metadata, spec: { vmiName } };
}

/** A short wait, for "nothing more arrives" checks. */
function settle(ms = 100): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Watches the VMIs of demo in the background; the watch runs until `controller` aborts. */
function watchDemoVmis(
  client: KubeClient,
  options: Omit<ListOptions, "namespace" | "signal"> = {},
): { controller: AbortController; updates: Collector<WatchUpdate<VirtualMachineInstance>> } {
  const controller = new AbortController();
  const updates = new Collector(
    client.watch("vmi", { namespace: "demo", ...options, signal: controller.signal }),
  );
  return { controller, updates };
}

/** The summaries of the next `n` updates. */
async function nextSummaries(updates: Collector<WatchUpdate<VirtualMachineInstance>>, n: number) {
  return (await updates.take(n)).map(summary);
}

/** Fails if anything arrives within a short wait that was not taken yet. */
async function expectNothingMore(collector: Collector<unknown>): Promise<void> {
  await settle();
  expect(collector.pending).toEqual([]);
}

/** A VMI status change made behind the API, as a controller would; returns the new resourceVersion. */
function changeVmiStatus(cluster: SimCluster, name: string, evacuationNodeName: string): string {
  const changed = cluster.store.patch(vmis, "demo", name, "merge", { status: { evacuationNodeName } });
  return changed.metadata.resourceVersion ?? "";
}

/** Deletes a VMI for good: the delete leaves it with a deletionTimestamp, dropping the finalizers removes it. */
function deleteVmi(cluster: SimCluster, name: string): void {
  const { gone } = cluster.store.delete(vmis, "demo", name);
  if (!gone) cluster.store.patch(vmis, "demo", name, "merge", { metadata: { finalizers: null } });
}

/**
 * A TCP relay in front of the simulator (TLS passes through it untouched), so a test can cut
 * every open connection, as a restarting API server or a flaky network does.
 */
class Relay {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  port = 0;

  private constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<Relay> {
    const relay = new Relay(targetPort);
    await new Promise<void>((resolve) => relay.server.listen(0, "127.0.0.1", resolve));
    const address = relay.server.address();
    if (address === null || typeof address === "string") throw new Error("the relay has no port");
    relay.port = address.port;
    return relay;
  }

  private accept(client: Socket): void {
    const upstream = tcpConnect(this.targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }

  /** Cuts every open connection at once. */
  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The admin's client reaching the cluster through a relay the test can cut, and the requests
 * it logs; the relay closes when the test ends.
 */
async function clientViaRelay(
  cluster: SimCluster,
): Promise<{ client: KubeClient; relay: Relay; log: string[] }> {
  const relay = await Relay.start(cluster.port);
  onTestFinished(() => relay.close());
  const kubeconfig = writeKubeconfig(tempDir(), {
    server: `https://127.0.0.1:${relay.port}`,
    caPem: cluster.pki.caPem,
    token: cluster.token("sim-admin"),
    context: "via-relay",
    namespace: "demo",
  });
  const log: string[] = [];
  const client = await clientFor(cluster, { kubeconfig, log: (line) => log.push(line) });
  return { client, relay, log };
}

/** The requests the client logged, split into lists and watches of VMIs. */
function vmiRequests(log: readonly string[]): { lists: string[]; watches: string[] } {
  const requests = log.filter((line) =>
    /^GET \/apis\/kubevirt\.io\/v1\/namespaces\/demo\/virtualmachineinstances\?/.test(line),
  );
  return {
    lists: requests.filter((line) => !line.includes("watch=1")),
    watches: requests.filter((line) => line.includes("watch=1")),
  };
}

describe("versions and the KubeVirt installation", () => {
  const sim = simPerTest(apiServerOnly);

  it("serverVersion is Kubernetes v1.32; kubevirtVersion is virt-api's", async () => {
    const client = await clientFor(sim());
    expect((await client.serverVersion()).gitVersion).toMatch(/^v1\.32\.\d+$/);
    const kubevirt = await client.kubevirtVersion();
    expect(kubevirt.gitVersion).toBe(simKubevirtVersion.gitVersion);
    expect(kubevirt.gitCommit).toBe(simKubevirtVersion.gitCommit);
  });

  it("findKubeVirt finds the CR in namespace kubevirt; findVirtController names the launcher image", async () => {
    const client = await clientFor(sim());
    const kubevirt = await client.findKubeVirt();
    expect(kubevirt?.metadata.namespace).toBe("kubevirt");
    expect(kubevirt?.metadata.name).toBe("kubevirt");
    const controller = await client.findVirtController("kubevirt");
    const args = controller?.spec?.template?.spec?.containers?.[0]?.args ?? [];
    expect(args).toContain("--launcher-image");
    expect(args[args.indexOf("--launcher-image") + 1]).toBe("quay.io/kubevirt/virt-launcher:v1.9.0");
    expect(await client.findVirtController("demo")).toBeUndefined();
  });
});

describe("get", () => {
  const sim = simPerTest(apiServerOnly);

  it("reads each kind the client knows, in the context's namespace by default", async () => {
    const cluster = sim();
    cluster.store.create(migrationPolicies, {
      apiVersion: "migrations.kubevirt.io/v1alpha1",
      kind: "MigrationPolicy",
      metadata: { name: "fast" },
      spec: { allowAutoConverge: true, selectors: { namespaceSelector: { tier: "dev" } } },
    });
    const client = await clientFor(cluster);
    expect(client.namespace).toBe("demo");
    expect(client.context).toBe("sim-admin");
    expect(client.server).toBe(cluster.url);

    const vm = await client.get("vm", "fedora-web");
    expect([vm.kind, vm.metadata.namespace, vm.metadata.name]).toEqual([
      "VirtualMachine",
      "demo",
      "fedora-web",
    ]);
    const vmi = await client.get("vmi", "rhel-db", "demo");
    expect([vmi.kind, vmi.metadata.name, vmi.status?.nodeName]).toEqual([
      "VirtualMachineInstance",
      "rhel-db",
      "node-2",
    ]);
    const podName = (await client.list("pod", { namespace: "demo" }))
      .map((p) => p.metadata.name ?? "")
      .find((name) => name.startsWith("virt-launcher-fedora-web-"));
    expect(podName).toBeDefined();
    const pod = await client.get("pod", podName ?? "");
    expect([pod.kind, pod.spec?.nodeName]).toEqual(["Pod", "node-1"]);
    const node = await client.get("node", "node-1");
    expect([node.kind, node.metadata.name, node.metadata.namespace]).toEqual(["Node", "node-1", undefined]);
    const namespace = await client.get("namespace", "kubevirt");
    expect([namespace.kind, namespace.status?.phase]).toEqual(["Namespace", "Active"]);
    const kubevirt = await client.get("kubevirt", "kubevirt", "kubevirt");
    expect([kubevirt.kind, kubevirt.metadata.namespace]).toEqual(["KubeVirt", "kubevirt"]);
    const deployment = await client.get("deployment", "virt-controller", "kubevirt");
    expect(deployment.kind).toBe("Deployment");
    const eventName = (await client.list("event", { namespace: "demo" }))[0]?.metadata.name ?? "";
    const event = await client.get("event", eventName);
    expect([event.kind, event.metadata.name]).toEqual(["Event", eventName]);
    const nad = await client.get("nad", "vlan-13");
    expect([nad.kind, nad.metadata.namespace]).toEqual(["NetworkAttachmentDefinition", "demo"]);
    const policy = await client.get("migrationPolicy", "fast");
    expect([policy.kind, policy.spec.allowAutoConverge]).toEqual(["MigrationPolicy", true]);
    const created = await client.createMigration("demo", migrationOf("fedora-web", { name: "mig-1" }));
    const vmim = await client.get("vmim", "mig-1");
    expect([vmim.kind, vmim.metadata.uid, vmim.spec.vmiName]).toEqual([
      "VirtualMachineInstanceMigration",
      created.metadata.uid,
      "fedora-web",
    ]);
  });

  it("a missing object is a 404 with the server's message; exit code 5", async () => {
    const client = await clientFor(sim());
    const error = await failure(client.get("vmi", "nope"));
    expect(error.message).toBe('virtualmachineinstances.kubevirt.io "nope" not found');
    expect(error.status).toBe(404);
    expect(error.reason).toBe("NotFound");
    expect(exitCodeOf(error)).toBe(5);
    expect(error.hint).toContain(
      'there is no virtualmachineinstances.kubevirt.io "nope" in namespace "demo"',
    );
  });
});

describe("list", () => {
  const sim = simPerTest(apiServerOnly);

  it("with a label selector: the VMIs still on the old launcher", async () => {
    const client = await clientFor(sim());
    const outdated = await client.list("vmi", {
      namespace: "demo",
      labelSelector: "kubevirt.io/outdatedLauncherImage",
    });
    expect(outdated.map((v) => v.metadata.name)).toEqual(["cirros-test", "win-app"]);
    const current = await client.list("vmi", {
      namespace: "demo",
      labelSelector: "!kubevirt.io/outdatedLauncherImage,app in (web,db)",
    });
    expect(current.map((v) => v.metadata.name)).toEqual(["fedora-web", "rhel-db"]);
  });

  it("with field selectors: the events of one VM, the pods on one node", async () => {
    const cluster = sim();
    const client = await clientFor(cluster);
    const events = await client.list("event", {
      namespace: "demo",
      fieldSelector: "involvedObject.name=fedora-web",
    });
    const stored = cluster.store
      .list("events", "demo")
      .filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === "fedora-web");
    expect(events.length).toBeGreaterThan(0);
    expect(events.map((e) => e.metadata.name)).toEqual(stored.map((e) => e.metadata.name));
    expect(new Set(events.map((e) => e.involvedObject.name))).toEqual(new Set(["fedora-web"]));

    const onNode1 = await client.list("pod", { fieldSelector: "spec.nodeName=node-1" });
    expect(onNode1.map((p) => p.metadata.name)).toEqual([
      expect.stringMatching(/^virt-launcher-fedora-web-/),
    ]);
    const onNode2 = await client.list("pod", { fieldSelector: "spec.nodeName=node-2,status.phase=Running" });
    expect(onNode2.map((p) => p.metadata.name)).toEqual([
      expect.stringMatching(/^virt-launcher-rhel-db-/),
      expect.stringMatching(/^virt-launcher-win-app-/),
    ]);
  });

  it("across all namespaces, and cluster-scoped kinds", async () => {
    const client = await clientFor(sim());
    const all = await client.list("vmi");
    expect(all.map((v) => `${v.metadata.namespace}/${v.metadata.name}`)).toEqual(
      vmNames.map((name) => `demo/${name}`),
    );
    const deployments = await client.list("deployment");
    expect(deployments.map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual([
      "kubevirt/virt-api",
      "kubevirt/virt-controller",
      "kubevirt/virt-operator",
    ]);
    expect((await client.list("namespace")).map((n) => n.metadata.name)).toEqual([
      "default",
      "demo",
      "kube-system",
      "kubevirt",
    ]);
    expect((await client.list("node")).map((n) => n.metadata.name)).toEqual(["node-1", "node-2", "node-3"]);
    expect(await client.list("vmi", { namespace: "default" })).toEqual([]);
  });

  it("listPages: pages of 2, 2 and 1 for the five VMIs, in order", async () => {
    const client = await clientFor(sim());
    const pages: string[][] = [];
    for await (const page of client.listPages("vmi", { namespace: "demo", pageSize: 2 })) {
      pages.push(page.map((v) => v.metadata.name ?? ""));
    }
    expect(pages).toEqual([vmNames.slice(0, 2), vmNames.slice(2, 4), vmNames.slice(4)]);
    expect(await client.list("vmi", { namespace: "demo", pageSize: 2 })).toHaveLength(5);
  });

  it("listPages: the pages are one snapshot, whatever changes between them", async () => {
    const cluster = sim();
    const client = await clientFor(cluster);
    const pages: string[][] = [];
    for await (const page of client.listPages("vmi", { namespace: "demo", pageSize: 2 })) {
      pages.push(page.map((v) => v.metadata.name ?? ""));
      // Gone from the cluster, but not from the list that already began.
      if (pages.length === 1) deleteVmi(cluster, "win-app");
    }
    expect(pages).toEqual([vmNames.slice(0, 2), vmNames.slice(2, 4), vmNames.slice(4)]);
    expect((await client.list("vmi", { namespace: "demo" })).map((v) => v.metadata.name)).toEqual(
      vmNames.slice(0, 4),
    );
  });
});

describe("watch", () => {
  const sim = simPerTest(apiServerOnly);

  it("the list as ADDED, then SYNCED, then changes made in the cluster as MODIFIED and DELETED", async () => {
    const cluster = sim();
    const client = await clientFor(cluster);
    const { controller, updates } = watchDemoVmis(client);

    const initial = await updates.take(6);
    expect(initial.map((u) => u.type)).toEqual(["ADDED", "ADDED", "ADDED", "ADDED", "ADDED", "SYNCED"]);
    expect(initial.slice(0, 5).map((u) => (u.type === "SYNCED" ? "" : u.object.metadata.name))).toEqual(
      vmNames,
    );
    expect(initial[5]).toEqual({ type: "SYNCED", resourceVersion: String(cluster.store.resourceVersion) });

    const rv = changeVmiStatus(cluster, "fedora-web", "node-2");
    const [modified] = await updates.take(1);
    expect(modified?.type).toBe("MODIFIED");
    if (modified?.type !== "MODIFIED") throw new Error("expected MODIFIED");
    expect(modified.object.metadata.name).toBe("fedora-web");
    expect(modified.object.metadata.resourceVersion).toBe(rv);
    expect(modified.object.status?.evacuationNodeName).toBe("node-2");

    // The delete leaves it with a deletionTimestamp (finalizers); dropping them removes it.
    cluster.store.delete(vmis, "demo", "cirros-test");
    const [terminating] = await updates.take(1);
    expect(terminating?.type).toBe("MODIFIED");
    if (terminating?.type !== "MODIFIED") throw new Error("expected MODIFIED");
    expect(terminating.object.metadata.deletionTimestamp).toEqual(expect.any(String));
    cluster.store.patch(vmis, "demo", "cirros-test", "merge", { metadata: { finalizers: null } });
    const [deleted] = await updates.take(1);
    expect(deleted?.type === "DELETED" && deleted.object.metadata.name).toBe("cirros-test");

    await expectNothingMore(updates);
    controller.abort();
  });

  it("ends when the signal aborts", async () => {
    const client = await clientFor(sim());
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const update of client.watch("vmi", { namespace: "demo", signal: controller.signal })) {
      seen.push(update.type);
      if (update.type === "SYNCED") controller.abort();
    }
    expect(seen).toEqual(["ADDED", "ADDED", "ADDED", "ADDED", "ADDED", "SYNCED"]);
  });

  it("a viewer may watch, with a label selector", async () => {
    const cluster = sim();
    const client = await clientFor(cluster, { context: "sim-viewer" });
    expect(client.context).toBe("sim-viewer");
    const { controller, updates } = watchDemoVmis(client, {
      labelSelector: "kubevirt.io/outdatedLauncherImage",
    });
    expect((await nextSummaries(updates, 3)).map((s) => s.replace(/@\d+$/, ""))).toEqual([
      "ADDED cirros-test",
      "ADDED win-app",
      "SYNCED",
    ]);
    changeVmiStatus(cluster, "fedora-web", "node-3"); // not selected
    const rv = changeVmiStatus(cluster, "win-app", "node-1");
    expect(await nextSummaries(updates, 1)).toEqual([`MODIFIED win-app@${rv}`]);
    controller.abort();
  });

  it("resumes a dropped stream from the last resourceVersion: nothing missed, nothing repeated", async () => {
    const cluster = sim();
    const { client, relay, log } = await clientViaRelay(cluster);
    const { controller, updates } = watchDemoVmis(client);
    await updates.take(6);
    const a = changeVmiStatus(cluster, "fedora-web", "node-2");
    expect(await nextSummaries(updates, 1)).toEqual([`MODIFIED fedora-web@${a}`]);

    // Cut the stream, and change the cluster before the client can reconnect.
    relay.dropAll();
    const b = changeVmiStatus(cluster, "rhel-db", "node-1");
    const c = changeVmiStatus(cluster, "fedora-web", "node-3");
    expect(await nextSummaries(updates, 2)).toEqual([`MODIFIED rhel-db@${b}`, `MODIFIED fedora-web@${c}`]);
    const d = changeVmiStatus(cluster, "legacy-pvc", "node-1");
    expect(await nextSummaries(updates, 1)).toEqual([`MODIFIED legacy-pvc@${d}`]);
    await expectNothingMore(updates);

    // One list; the second watch resumed from the change the first one delivered last.
    const { lists, watches } = vmiRequests(log);
    expect(lists).toHaveLength(1);
    expect(watches).toHaveLength(2);
    expect(watches[1]).toContain(`resourceVersion=${a}&`);
    expect(log.some((line) => line.includes("410 Gone"))).toBe(false);
    controller.abort();
  });
});

describe("watch across a compacted history", () => {
  const sim = simPerTest({ ...apiServerOnly, historyLimit: 5 });

  it("410 Gone on resume: lists again and delivers only the difference", async () => {
    const cluster = sim();
    const { client, relay, log } = await clientViaRelay(cluster);
    const { controller, updates } = watchDemoVmis(client);
    const initial = await updates.take(6);
    const cirros = initial.find((u) => u.type === "ADDED" && u.object.metadata.name === "cirros-test");
    const cirrosRv = cirros?.type === "ADDED" ? cirros.object.metadata.resourceVersion : undefined;
    const a = changeVmiStatus(cluster, "fedora-web", "node-2");
    expect(await nextSummaries(updates, 1)).toEqual([`MODIFIED fedora-web@${a}`]);

    // While the client is away, more changes than the history keeps.
    relay.dropAll();
    let last = "";
    for (let i = 0; i < 10; i++) last = changeVmiStatus(cluster, "fedora-web", `node-${i}`);
    deleteVmi(cluster, "cirros-test");
    const template = cluster.store.get(vmis.storage, "demo", "rhel-db") as SimObject;
    const extra = cluster.store.create(vmis, {
      ...template,
      metadata: { name: "extra-vm", namespace: "demo", labels: template.metadata.labels },
    });
    expect(cluster.store.oldestResourceVersion).toBeGreaterThan(Number(a));

    // Key order of the new list (demo/extra-vm, demo/fedora-web), then what disappeared, as last seen.
    expect(await nextSummaries(updates, 3)).toEqual([
      `ADDED extra-vm@${extra.metadata.resourceVersion}`,
      `MODIFIED fedora-web@${last}`,
      `DELETED cirros-test@${cirrosRv}`,
    ]);
    // And the watch goes on from the new list.
    const d = changeVmiStatus(cluster, "win-app", "node-1");
    expect(await nextSummaries(updates, 1)).toEqual([`MODIFIED win-app@${d}`]);
    await expectNothingMore(updates);

    const expired = `resourceVersion ${a} expired (410 Gone); listing again`;
    expect(log.some((line) => line.includes(expired))).toBe(true);
    const { lists, watches } = vmiRequests(log);
    expect(lists).toHaveLength(2);
    expect(watches).toHaveLength(3);
    controller.abort();
  });
});

describe("migrations", () => {
  const sim = simPerTest(apiServerOnly);

  it("createMigration: the server names it from generateName and gives it a uid", async () => {
    const cluster = sim();
    const client = await clientFor(cluster);
    const created = await client.createMigration(
      "demo",
      migrationOf("fedora-web", { generateName: "kvmig-fedora-web-" }),
    );
    expect(created.metadata.name).toMatch(/^kvmig-fedora-web-[a-z0-9]{5}$/);
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.namespace).toBe("demo");
    expect(created.apiVersion).toBe("kubevirt.io/v1");
    const stored = cluster.store.get(vmims.storage, "demo", created.metadata.name ?? "");
    expect(stored?.metadata.uid).toBe(created.metadata.uid);
    expect(stored?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  it("createMigration with dryRun: an answer, and nothing stored", async () => {
    const cluster = sim();
    const client = await clientFor(cluster);
    const before = cluster.store.resourceVersion;
    const answer = await client.createMigration(
      "demo",
      migrationOf("fedora-web", { generateName: "kvmig-fedora-web-" }),
      { dryRun: true },
    );
    expect(answer.metadata.name).toMatch(/^kvmig-fedora-web-/);
    expect(answer.spec.vmiName).toBe("fedora-web");
    expect(cluster.store.list(vmims.storage)).toEqual([]);
    expect(cluster.store.resourceVersion).toBe(before);
  });

  it("deleteMigration with the right uid deletes it", async () => {
    const cluster = sim();
    const client = await clientFor(cluster);
    const created = await client.createMigration("demo", migrationOf("rhel-db", { generateName: "kvmig-" }));
    const name = created.metadata.name ?? "";
    await client.deleteMigration("demo", name, { uid: created.metadata.uid, dryRun: true });
    expect(cluster.store.get(vmims.storage, "demo", name)).toBeDefined();
    await client.deleteMigration("demo", name, { uid: created.metadata.uid });
    expect(cluster.store.get(vmims.storage, "demo", name)).toBeUndefined();
    expect(exitCodeOf(await failure(client.get("vmim", name)))).toBe(5);
  });

  it("deleteMigration of one with a finalizer: it stays, with a deletionTimestamp", async () => {
    const cluster = sim();
    const client = await clientFor(cluster);
    const finalizer = "kubevirt.io/migrationJobFinalize";
    const created = await client.createMigration(
      "demo",
      migrationOf("rhel-db", { name: "held", finalizers: [finalizer] }),
    );
    await client.deleteMigration("demo", "held", { uid: created.metadata.uid });
    const held = await client.get("vmim", "held");
    expect(held.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect(held.metadata.finalizers).toEqual([finalizer]);
  });

  it("deleteMigration with a stale uid is a 409 and leaves the object alone", async () => {
    const cluster = sim();
    const client = await clientFor(cluster);
    const created = await client.createMigration("demo", migrationOf("rhel-db", { name: "mig-1" }));
    const error = await failure(client.deleteMigration("demo", "mig-1", { uid: "not-the-uid" }));
    expect(error.status).toBe(409);
    expect(error.message).toBe(
      `Operation cannot be fulfilled on virtualmachineinstancemigrations.kubevirt.io "mig-1": Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${created.metadata.uid}`,
    );
    expect(exitCodeOf(error)).toBe(1);
    expect(cluster.store.get(vmims.storage, "demo", "mig-1")?.metadata.uid).toBe(created.metadata.uid);
  });
});

describe("pod logs", () => {
  const sim = simPerTest(apiServerOnly);

  /** The admin's client, and the name of `vm`'s launcher pod as the client finds it. */
  async function clientAndLauncher(
    vm: string,
  ): Promise<{ cluster: SimCluster; client: KubeClient; pod: string }> {
    const cluster = sim();
    const client = await clientFor(cluster);
    const pods = await client.list("pod", { namespace: "demo", labelSelector: "kubevirt.io=virt-launcher" });
    const pod = pods.map((p) => p.metadata.name ?? "").find((n) => n.startsWith(`virt-launcher-${vm}-`));
    if (!pod) throw new Error(`no launcher pod for ${vm}`);
    return { cluster, client, pod };
  }

  function lastComputeLine(cluster: SimCluster, pod: string): string | undefined {
    return cluster.logs.read("demo", pod, "compute", { tailLines: 1 })[0]?.text;
  }

  it("podLogs: the last lines, with the kubelet's timestamps", async () => {
    const { cluster, client, pod } = await clientAndLauncher("fedora-web");
    const all = cluster.logs.read("demo", pod, "compute", {});
    expect(all.length).toBeGreaterThan(2);

    const whole = await client.podLogs("demo", pod, { container: "compute" });
    expect(whole).toBe(all.map((line) => `${line.text}\n`).join(""));

    const tail = await client.podLogs("demo", pod, { container: "compute", tailLines: 2, timestamps: true });
    const lines = tail.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(2);
    all.slice(-2).forEach((expected, i) => {
      const [stamp, ...rest] = (lines[i] ?? "").split(" ");
      expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      expect(Date.parse(stamp ?? "")).toBe(Math.floor(expected.time));
      expect(rest.join(" ")).toBe(expected.text);
    });
  });

  it("podLogs of a container the pod does not have: 400 with the kubelet's message", async () => {
    const { client, pod } = await clientAndLauncher("rhel-db");
    const error = await failure(client.podLogs("demo", pod, { container: "nope" }));
    expect(error.status).toBe(400);
    expect(error.message).toBe(`container nope is not valid for pod ${pod}`);
  });

  it("followPodLogs: lines appended after the follow began arrive in order; the container's end ends it", async () => {
    const { cluster, client, pod } = await clientAndLauncher("fedora-web");
    const last = lastComputeLine(cluster, pod);
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const line of client.followPodLogs("demo", pod, {
      container: "compute",
      tailLines: 1,
      signal: controller.signal,
    })) {
      seen.push(line);
      if (seen.length === 1) {
        const time = cluster.time.now();
        for (const text of ["one", "two", "three"])
          cluster.logs.append("demo", pod, "compute", { time, text });
        cluster.logs.end("demo", pod, "compute");
      }
    }
    expect(seen).toEqual([last, "one", "two", "three"]);
    expect(controller.signal.aborted).toBe(false);
  });

  it("followPodLogs: lines arriving one by one, and the abort of the signal ends it", async () => {
    const { cluster, client, pod } = await clientAndLauncher("rhel-db");
    const last = lastComputeLine(cluster, pod);
    const controller = new AbortController();
    const follow = new Collector(
      client.followPodLogs("demo", pod, { container: "compute", tailLines: 1, signal: controller.signal }),
    );
    const append = (text: string) =>
      cluster.logs.append("demo", pod, "compute", { time: cluster.time.now(), text });
    // The last line came: the server follows the log from here on.
    expect(await follow.take(1)).toEqual([last]);
    append("first");
    expect(await follow.take(1)).toEqual(["first"]);
    append("second");
    expect(await follow.take(1)).toEqual(["second"]);
    controller.abort();
    await settle();
    expect(follow.done).toBe(true);
    expect(follow.error).toBeUndefined();
    append("after the abort");
    await expectNothingMore(follow);
  });
});

describe("canI", () => {
  const sim = simPerTest(apiServerOnly);
  const createVmim = {
    verb: "create",
    group: "kubevirt.io",
    resource: "virtualmachineinstancemigrations",
    namespace: "demo",
  };

  it("the admin may do anything", async () => {
    const client = await clientFor(sim());
    const result = await client.canI(createVmim);
    expect(result.allowed).toBe(true);
    // system:masters: kube-apiserver's superuser authorizer allows before RBAC, without a reason.
    expect(result.reason).toBeUndefined();
    expect(
      (
        await client.canI({
          verb: "update",
          group: "subresources.kubevirt.io",
          resource: "virtualmachines",
          subresource: "migrate",
          namespace: "demo",
          name: "fedora-web",
        })
      ).allowed,
    ).toBe(true);
  });

  it("the viewer may read but not create", async () => {
    const client = await clientFor(sim(), { context: "sim-viewer" });
    expect(await client.canI(createVmim)).toEqual({ allowed: false, reason: undefined });
    const list = await client.canI({ ...createVmim, verb: "list" });
    expect(list.allowed).toBe(true);
    expect(list.reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "sim-viewer" of ClusterRole "sim-viewer" to User "sim-viewer"',
    );
    expect((await client.canI({ ...createVmim, verb: "watch" })).allowed).toBe(true);
  });
});

describe("errors", () => {
  const sim = simPerTest(apiServerOnly);

  it("the viewer creating a migration: 403 with the server's message; exit code 4", async () => {
    const cluster = sim();
    const client = await clientFor(cluster, { context: "sim-viewer" });
    const error = await failure(
      client.createMigration("demo", migrationOf("fedora-web", { generateName: "kvmig-" })),
    );
    expect(error.status).toBe(403);
    expect(error.message).toBe(
      'virtualmachineinstancemigrations.kubevirt.io is forbidden: User "sim-viewer" cannot create resource "virtualmachineinstancemigrations" in API group "kubevirt.io" in the namespace "demo"',
    );
    expect(exitCodeOf(error)).toBe(4);
    expect(error.hint).toContain(
      "kubectl auth can-i create virtualmachineinstancemigrations.kubevirt.io -n demo",
    );
    expect(cluster.store.list(vmims.storage)).toEqual([]);
  });

  it("the viewer deleting a migration: 403 naming it", async () => {
    const cluster = sim();
    const admin = await clientFor(cluster);
    await admin.createMigration("demo", migrationOf("fedora-web", { name: "mig-1" }));
    const viewer = await clientFor(cluster, { context: "sim-viewer" });
    const error = await failure(viewer.deleteMigration("demo", "mig-1"));
    expect(error.message).toBe(
      'virtualmachineinstancemigrations.kubevirt.io "mig-1" is forbidden: User "sim-viewer" cannot delete resource "virtualmachineinstancemigrations" in API group "kubevirt.io" in the namespace "demo"',
    );
    expect(exitCodeOf(error)).toBe(4);
  });

  it("a wrong token: 401; exit code 4", async () => {
    const cluster = sim();
    const kubeconfig = writeKubeconfig(tempDir(), {
      server: cluster.url,
      caPem: cluster.pki.caPem,
      token: "not-a-sim-token",
      context: "stale",
      namespace: "demo",
    });
    const client = await clientFor(cluster, { kubeconfig });
    for (const call of [client.serverVersion(), client.get("vmi", "fedora-web"), client.list("vm")]) {
      const error = await failure(call);
      expect(error.status).toBe(401);
      expect(error.message).toBe("Unauthorized");
      expect(exitCodeOf(error)).toBe(4);
      expect(error.hint).toContain('did not accept the credentials of context "stale"');
    }
  });
});

describe("virt-api subresources", () => {
  const sim = simPerTest();

  it("migrate: 202, and a VMIM with the added node selector; a second one is refused as in flight", async () => {
    const client = await clientFor(sim());
    await client.migrate("demo", "fedora-web", { addedNodeSelector: { "kubernetes.io/hostname": "node-2" } });
    const created = await client.list("vmim", {
      namespace: "demo",
      labelSelector: "kubevirt.io/vmi-name=fedora-web",
    });
    expect(created).toHaveLength(1);
    expect(created[0]?.metadata.generateName).toBe("kubevirt-migrate-vm-");
    expect(created[0]?.spec?.addedNodeSelector).toEqual({ "kubernetes.io/hostname": "node-2" });
    const error = await failure(client.migrate("demo", "fedora-web"));
    expect(error.status).toBe(500);
    // KubeVirt's webhook said no: the cluster's answer (exit 3), its reason kept.
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(
      `KubeVirt refused the request: in-flight migration detected. Active migration job (${created[0]?.metadata.uid}) is currently already in progress for VMI fedora-web. (admission webhook migration-create-validator.kubevirt.io)`,
    );
  });

  it("restart: 202, and the VM asks its controller to stop the running VMI and start a new one", async () => {
    const client = await clientFor(sim());
    const vmi = await client.get("vmi", "win-app", "demo");
    await client.restart("demo", "win-app", { dryRun: ["All"] });
    expect((await client.get("vm", "win-app", "demo")).status?.stateChangeRequests).toBeUndefined();
    await client.restart("demo", "win-app");
    const vm = await client.get("vm", "win-app", "demo");
    const requests = vm.status?.stateChangeRequests ?? [];
    // The VM controller may already have acted on the Stop request.
    if (requests.length === 2)
      expect(requests).toEqual([{ action: "Stop", uid: vmi.metadata.uid }, { action: "Start" }]);
    else expect((await client.get("vmi", "win-app", "demo")).metadata.deletionTimestamp).toBeDefined();
    const error = await failure(client.restart("demo", "win-app", { gracePeriodSeconds: 5 }));
    expect([error.status, error.message]).toEqual([
      400,
      "For force restart, only gracePeriod=0 is supported for now",
    ]);
  });

  it("the viewer may not migrate: 403 naming the subresource", async () => {
    const client = await clientFor(sim(), { context: "sim-viewer" });
    const error = await failure(client.migrate("demo", "fedora-web"));
    expect(error.status).toBe(403);
    expect(error.message).toBe(
      'virtualmachines.subresources.kubevirt.io "fedora-web" is forbidden: User "sim-viewer" cannot update resource "virtualmachines/migrate" in API group "subresources.kubevirt.io" in the namespace "demo"',
    );
    expect(exitCodeOf(error)).toBe(4);
  });
});
