// The pods migrate's pre-flight reads to place the target pod: the VMI's running launcher pod in
// full, and every non-terminal pod on a node cut down to what placement reads; a node-wide list
// that is refused is reported as unknown, never as an empty cluster.
import { describe, expect, it } from "vitest";
import type { ListOptions, ListPiece } from "../../src/k8s/kube-client.js";
import type { Pod, VirtualMachineInstance } from "../../src/k8s/types.js";
import { readPlacementPods } from "../../src/operations/placement-pods.js";
import { fakeKube } from "../helpers/fake-kube.js";

const vmi: VirtualMachineInstance = {
  metadata: { name: "db", namespace: "prod", uid: "vmi-uid" },
  spec: {},
  status: { phase: "Running", nodeName: "node-1" },
};

function launcher(name: string, nodeName: string, phase: "Running" | "Failed" | "Pending"): Pod {
  return {
    metadata: { name, namespace: "prod", labels: { "kubevirt.io/created-by": "vmi-uid" } },
    spec: {
      nodeName,
      nodeSelector: { "kubevirt.io/schedulable": "true" },
      containers: [{ name: "compute", image: "virt-launcher", resources: { requests: { memory: "2Gi" } } }],
    } as unknown as Pod["spec"],
    status: { phase },
  };
}

async function* pieces(pods: Pod[]): AsyncIterable<ListPiece<Pod>> {
  yield { objects: pods, pageEnd: true };
}

describe("readPlacementPods", () => {
  it("takes the VMI's running launcher pod on its node, and every pod on a node, slimmed", async () => {
    const running = launcher("virt-launcher-db-a", "node-1", "Running");
    const streamed: ListOptions[] = [];
    const kube = fakeKube({
      list: (async (_resource: string, options: ListOptions) => {
        expect(options).toEqual({ namespace: "prod", labelSelector: "kubevirt.io/created-by=vmi-uid" });
        return [
          launcher("virt-launcher-db-old", "node-1", "Failed"),
          running,
          launcher("virt-launcher-db-t", "node-2", "Pending"),
        ];
      }) as never,
      listStream: ((_resource: string, options: ListOptions) => {
        streamed.push(options);
        return pieces([running, { metadata: { name: "unbound" }, spec: {} } as Pod]);
      }) as never,
    });
    const read = await readPlacementPods(kube, vmi, undefined);
    expect(read.launcherPod).toBe(running);
    expect(streamed).toEqual([{ fieldSelector: "status.phase!=Succeeded,status.phase!=Failed" }]);
    expect(read.pods).toEqual([
      {
        metadata: {
          name: "virt-launcher-db-a",
          namespace: "prod",
          labels: { "kubevirt.io/created-by": "vmi-uid" },
        },
        spec: { nodeName: "node-1", containers: [{ name: "", resources: { requests: { memory: "2Gi" } } }] },
        status: { phase: "Running" },
      },
    ]);
    kube.assertDone();
  });

  it("lists only the --target-node's pods, and reports a refused list as unknown", async () => {
    const streamed: ListOptions[] = [];
    const kube = fakeKube({
      list: (async () => []) as never,
      listStream: ((_resource: string, options: ListOptions) => {
        streamed.push(options);
        return (async function* () {
          yield* [];
          throw new Error("pods is forbidden");
        })();
      }) as never,
    });
    const read = await readPlacementPods(kube, vmi, "node-2");
    expect(streamed[0]?.fieldSelector).toBe(
      "spec.nodeName=node-2,status.phase!=Succeeded,status.phase!=Failed",
    );
    expect(read).toEqual({ launcherPod: undefined, pods: undefined });
  });

  it("reads nothing for a VMI that is not Running", async () => {
    const kube = fakeKube({});
    expect(await readPlacementPods(kube, { ...vmi, status: { phase: "Scheduling" } }, undefined)).toEqual({});
    expect(kube.calls).toEqual([]);
  });
});
