// The KubeClient verbs of a node evacuation against the simulated cluster over HTTPS: cordon and
// uncordon (one merge patch of the node, annotations in it), the policy/v1 Eviction of a launcher
// pod (KubeVirt's eviction webhook refuses it with 429 and marks the VMI; a pod whose VMI has no
// eviction strategy goes), and virt-api's evacuate/cancel (facts §a). The requests' shapes where
// the simulator cannot answer (an older virt-api's 404, a throttled eviction) are in client.test.ts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError, exitCodeOf } from "../../src/errors.js";
import { EvictionRefusedError } from "../../src/k8s/api-errors.js";
import { connect } from "../../src/k8s/connect.js";
import type { KubeClient } from "../../src/k8s/kube-client.js";
import type { SimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { simPerTest } from "../helpers/sim.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const sim = simPerTest({ manualTime: true });
const clients: KubeClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

/** kvmig's client from the simulator's kubeconfig; `requests` collects its request log lines. */
async function clientFor(cluster: SimCluster, requests: string[] = []): Promise<KubeClient> {
  const kubeconfig = join(tempDir(), "config");
  writeFileSync(kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
  const client = await connect(
    { kubeconfig },
    { env: {}, clock: new FakeClock(), userAgent: "kvmig-test", log: (line) => requests.push(line) },
  );
  clients.push(client);
  return client;
}

function nodeOf(cluster: SimCluster, name: string): Any {
  return cluster.store.get(R.node.storage, undefined, name);
}

function vmiOf(cluster: SimCluster, name: string): Any {
  return cluster.store.get(R.vmi.storage, "demo", name);
}

/** The VMI's running launcher pod. */
function launcherOf(cluster: SimCluster, vmi: string): string {
  const node = vmiOf(cluster, vmi).status.nodeName;
  const pod = (cluster.store.list(R.pod.storage, "demo") as Any[]).find(
    (p) =>
      p.metadata.annotations?.["kubevirt.io/domain"] === vmi &&
      p.spec.nodeName === node &&
      p.status?.phase === "Running",
  );
  if (!pod) throw new Error(`no launcher pod of ${vmi}`);
  return pod.metadata.name as string;
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe("setNodeUnschedulable", () => {
  it("cordons with its annotations in one patch, uncordons removing both; returns the server's node", async () => {
    const cluster = sim();
    const requests: string[] = [];
    const kube = await clientFor(cluster, requests);
    const cordoned = await kube.setNodeUnschedulable("node-2", true, {
      annotations: { "kvmig.io/cordoned-by": "evacuate" },
    });
    expect(cordoned.spec?.unschedulable).toBe(true);
    expect(cordoned.metadata.annotations?.["kvmig.io/cordoned-by"]).toBe("evacuate");
    expect(nodeOf(cluster, "node-2").spec.unschedulable).toBe(true);
    expect(requests.filter((l) => l.startsWith("PATCH /api/v1/nodes/node-2 200"))).toHaveLength(1);

    const uncordoned = await kube.setNodeUnschedulable("node-2", false, {
      annotations: { "kvmig.io/cordoned-by": null },
    });
    expect(uncordoned.spec).not.toHaveProperty("unschedulable");
    expect(uncordoned.metadata.annotations ?? {}).not.toHaveProperty("kvmig.io/cordoned-by");
    expect(nodeOf(cluster, "node-2").spec).not.toHaveProperty("unschedulable");
  });

  it("dry run: the server answers the cordoned node and keeps it schedulable", async () => {
    const cluster = sim();
    const kube = await clientFor(cluster);
    const answered = await kube.setNodeUnschedulable("node-3", true, { dryRun: true });
    expect(answered.spec?.unschedulable).toBe(true);
    expect(nodeOf(cluster, "node-3").spec).not.toHaveProperty("unschedulable");
  });

  it("a node that does not exist: 404 with the server's message, exit 5", async () => {
    const kube = await clientFor(sim());
    const error = await rejection(kube.setNodeUnschedulable("node-9", true));
    expect(error.status).toBe(404);
    expect(error.message).toBe('nodes "node-9" not found');
    expect(exitCodeOf(error)).toBe(5);
  });
});

describe("evictPod", () => {
  it("KubeVirt's webhook refuses a LiveMigrate VMI's launcher: 429 with the server's message unchanged, sent once, the VMI marked", async () => {
    const cluster = sim();
    const requests: string[] = [];
    const kube = await clientFor(cluster, requests);
    const pod = launcherOf(cluster, "rhel-db");
    const error = await rejection(kube.evictPod("demo", pod));
    expect(error).toBeInstanceOf(EvictionRefusedError);
    expect(error.status).toBe(429);
    expect(error.message).toBe(
      'admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: Eviction triggered evacuation of VMI "demo/rhel-db"',
    );
    expect(exitCodeOf(error)).toBe(3);
    expect(error.hint).toContain("ask again later");
    expect(
      requests.filter((l) => l.startsWith(`POST /api/v1/namespaces/demo/pods/${pod}/eviction`)),
    ).toHaveLength(1);
    expect(vmiOf(cluster, "rhel-db").status.evacuationNodeName).toBe("node-2");
    // Asked again: KubeVirt's second answer, still a refusal.
    const again = await rejection(kube.evictPod("demo", pod));
    expect(again.message).toMatch(
      /Evacuation in progress: Eviction triggered evacuation of VMI "demo\/rhel-db"$/,
    );
  });

  it("a pod whose VMI has no eviction strategy goes (201); a dry run leaves it", async () => {
    const cluster = sim();
    const kube = await clientFor(cluster);
    const pod = launcherOf(cluster, "cirros-test");
    await kube.evictPod("demo", pod, { dryRun: true });
    expect(cluster.store.get(R.pod.storage, "demo", pod)).toBeDefined();
    await expect(kube.evictPod("demo", pod)).resolves.toBeUndefined();
    const left = cluster.store.get(R.pod.storage, "demo", pod) as Any;
    expect(left === undefined || left.metadata.deletionTimestamp !== undefined).toBe(true);
  });

  it("a dry run of a refused eviction is refused the same, and marks nothing", async () => {
    const cluster = sim();
    const kube = await clientFor(cluster);
    const error = await rejection(kube.evictPod("demo", launcherOf(cluster, "rhel-db"), { dryRun: true }));
    expect(error.status).toBe(429);
    expect(vmiOf(cluster, "rhel-db").status).not.toHaveProperty("evacuationNodeName");
  });
});

describe("evacuateCancel", () => {
  it("clears the VMI's evacuationNodeName that an eviction set; a dry run leaves it", async () => {
    const cluster = sim();
    const kube = await clientFor(cluster);
    await rejection(kube.evictPod("demo", launcherOf(cluster, "rhel-db")));
    expect(vmiOf(cluster, "rhel-db").status.evacuationNodeName).toBe("node-2");
    await kube.evacuateCancel("demo", "rhel-db", "node-2", { dryRun: true });
    expect(vmiOf(cluster, "rhel-db").status.evacuationNodeName).toBe("node-2");
    await kube.evacuateCancel("demo", "rhel-db", "node-2");
    expect(vmiOf(cluster, "rhel-db").status).not.toHaveProperty("evacuationNodeName");
    // Nothing to cancel any more: 200, nothing done.
    await expect(kube.evacuateCancel("demo", "rhel-db", "node-2")).resolves.toBeUndefined();
  });

  it("a VMI that does not exist: the server's 404 naming it, not the version message", async () => {
    const kube = await clientFor(sim());
    const error = await rejection(kube.evacuateCancel("demo", "nope", "node-2"));
    expect(error.status).toBe(404);
    expect(error.message).toContain('"nope" not found');
    expect(error.message).not.toContain("v1.7");
    expect(exitCodeOf(error)).toBe(5);
  });
});
