// `kubectl drain` on the simulated cluster: KubeVirt's eviction webhook refuses to evict the
// launcher pods (429), marks their VMIs for evacuation, the evacuation controller migrates them
// away, and the drain's retry then finds the pods gone; a viewer may not evict at all.
import { afterEach, describe, expect, it } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
import { findKubectl, Kubectl, outputLines } from "../helpers/kubectl.js";
import { simPerTest, simRequest } from "../helpers/sim.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const binary = findKubectl();
if (!binary) console.warn("kubectl not found on PATH or in /usr/bin: the kubectl drain test is skipped");

describe.skipIf(!binary)("kubectl drain", () => {
  const sim = simPerTest({ speed: 10 });
  let kubectl: Kubectl | undefined;
  afterEach(async () => {
    await kubectl?.close();
    kubectl = undefined;
  });

  it("evicting a launcher pod is refused with KubeVirt's message, the VMs migrate away, the node ends up empty", async () => {
    const cluster = sim();
    kubectl = new Kubectl(binary as string, cluster);
    const node = "node-2";
    const before = (cluster.store.list(R.vmi.storage, "demo") as Any[]).filter(
      (v) => v.status.nodeName === node,
    );
    expect(before.map((v) => v.metadata.name).sort()).toEqual(["rhel-db", "win-app"]);
    const launchers = (cluster.store.list(R.pod.storage, "demo") as Any[])
      .filter((p) => p.spec.nodeName === node)
      .map((p) => ({ vmi: p.metadata.annotations["kubevirt.io/domain"], pod: p.metadata.name }));
    expect(launchers).toHaveLength(2);
    const result = await kubectl.run([
      "drain",
      node,
      "--ignore-daemonsets",
      "--delete-emptydir-data",
      "--timeout=60s",
    ]);
    expect(result.code).toBe(0);
    const said = outputLines(result.stderr);
    const done = outputLines(result.stdout);
    expect(done[0]).toBe(`node/${node} cordoned`);
    for (const { vmi, pod } of launchers) {
      expect(said).toContain(
        `error when evicting pods/"${pod}" -n "demo" (will retry after 5s): admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: Eviction triggered evacuation of VMI "demo/${vmi}"`,
      );
    }
    expect(done.at(-1)).toBe(`node/${node} drained`);
    const after = cluster.store.list(R.vmi.storage, "demo") as Any[];
    for (const vmi of after) expect(vmi.status.nodeName).not.toBe(node);
    const migrations = cluster.store.list(R.vmim.storage, "demo") as Any[];
    expect(
      migrations
        .map((m) => [
          m.spec.vmiName,
          m.status.phase,
          m.metadata.annotations["kubevirt.io/evacuationMigration"],
        ])
        .sort(),
    ).toEqual([
      ["rhel-db", "Succeeded", node],
      ["win-app", "Succeeded", node],
    ]);
    expect(
      (cluster.store.list(R.pod.storage, "demo") as Any[]).filter((p) => p.spec.nodeName === node),
    ).toEqual([]);
  });

  it("a viewer may not evict: 403 naming pods/eviction", async () => {
    const cluster = sim();
    const pod = (cluster.store.list(R.pod.storage, "demo") as Any[])[0];
    const res = await simRequest(
      cluster,
      "POST",
      `/api/v1/namespaces/demo/pods/${pod.metadata.name}/eviction`,
      {
        token: cluster.token("sim-viewer"),
        body: {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: pod.metadata.name, namespace: "demo" },
        },
      },
    );
    expect([res.status, res.json.message]).toEqual([
      403,
      `pods "${pod.metadata.name}" is forbidden: User "sim-viewer" cannot create resource "pods/eviction" in API group "" in the namespace "demo"`,
    ]);
  });
});
