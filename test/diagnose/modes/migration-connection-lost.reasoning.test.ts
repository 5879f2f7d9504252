// migration-connection-lost's reasoning on hand-built snapshots: a dropped connection with the
// same launcher on both ends (read from the pods: high; inferred: medium; not comparable: low),
// never with launcher skew, the target node and its Ready condition, repeated drops, an abort
// under way, and what it could not check.

import { describe, expect, it } from "vitest";
import { migrationConnectionLost } from "../../../src/diagnose/modes/migration-connection-lost.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { KubeVirt, Node, VirtualMachineInstanceMigrationState } from "../../../src/k8s/types.js";
import { ago, migration, pod, snap, vmi } from "../../helpers/builders.js";

const image = "quay.io/kubevirt/virt-launcher:v1.5.0";
const otherImage = "quay.io/kubevirt/virt-launcher:v1.6.0";
const closed = "Unable to read from socket: Connection reset by peer";
const srcName = "virt-launcher-db-1-src01";
const tgtName = "virt-launcher-db-1-tgt01";

function dropped(n: number, state: VirtualMachineInstanceMigrationState = {}, reason = closed) {
  return migration({
    name: `mig-${n}`,
    uid: `uid-${n}`,
    phase: "Failed",
    created: ago(1000 - n * 100),
    transitions: { Failed: ago(950 - n * 100) },
    state: { failed: true, failureReason: reason, sourcePod: srcName, targetNode: "node-3", ...state },
  });
}

const source = pod(srcName, { spec: { nodeName: "node-1", containers: [{ name: "compute", image }] } });
source.metadata.creationTimestamp = ago(5000);
const target = (img = image, uid = "uid-1") =>
  pod(tgtName, {
    labels: { "kubevirt.io/migrationJobUID": uid },
    spec: { containers: [{ name: "compute", image: img }] },
    status: { phase: "Failed" },
  });

const logs = [{ namespace: "demo", pod: srcName, container: "compute", lines: ["{}"] }];
const someEvent = {
  apiVersion: "v1",
  kind: "Event",
  metadata: { name: "x", namespace: "demo" },
  involvedObject: { kind: "Pod", name: srcName },
  reason: "Started",
  type: "Normal",
  lastTimestamp: ago(5000),
};

function base(parts: Partial<Snapshot>): Snapshot {
  return snap({ vmi: vmi({ phase: "Running", nodeName: "node-1" }), logs, events: [someEvent], ...parts });
}

function detectOne(s: Snapshot): Finding {
  const findings = migrationConnectionLost.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const proxyText =
  "The migration runs through virt-handler's proxy on both nodes, so a target virt-handler that restarted, a node that went away or the migration network dropped it.";

describe("migration-connection-lost reasoning", () => {
  it("both pods read with the same image: high, and the whole finding", () => {
    const s = base({ migrations: [dropped(1)], pods: [source, target()] });
    expect(detectOne(s)).toEqual({
      id: "migration-connection-lost",
      title: "Migration lost its connection to the target",
      severity: "warning",
      confidence: "high",
      summary: `Migration mig-1 of db-1 failed because libvirt lost its connection to the target on node-3; both ends ran ${image}, so this is not launcher skew. ${proxyText}`,
      evidence: [
        {
          object: "VirtualMachineInstanceMigration/mig-1",
          field: "status.migrationState.failureReason",
          time: ago(850),
          text: closed,
        },
        {
          object: `Pod/${srcName}`,
          field: "spec.containers[compute].image",
          time: ago(5000),
          text: `${image} (source)`,
        },
        {
          object: `Pod/${tgtName}`,
          field: "spec.containers[compute].image",
          time: ago(600),
          text: `${image} (target)`,
        },
      ],
      fix: {
        explanation:
          "Check that virt-handler on the target node is running and has not just restarted, then migrate again. If it happens again, check the migration network between the nodes.",
        commands: [
          "kubectl get pods -n kubevirt -l kubevirt.io=virt-handler -o wide --field-selector spec.nodeName=node-3",
          "kvmig migrate db-1 -n demo",
        ],
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: undefined,
    });
  });

  it("the target's image inferred from virt-controller: medium, and says so", () => {
    const s = base({ migrations: [dropped(1)], pods: [source], currentLauncherImage: image });
    const f = detectOne(s);
    expect(f.confidence).toBe("medium");
    expect(f.summary).toContain(
      `; both ends ran ${image} (the target's image inferred), so this is not launcher skew.`,
    );
    expect(f.notChecked).toEqual([
      "the target pod's own image (the pod is gone; inferred from virt-controller's --launcher-image)",
    ]);
  });

  it("images not comparable: low, and it says what it could not check, events and logs too", () => {
    const s = snap({ vmi: vmi({ phase: "Running" }), migrations: [dropped(1, { targetNode: undefined })] });
    const f = detectOne(s);
    expect(f.confidence).toBe("low");
    expect(f.summary).toBe(
      `Migration mig-1 of db-1 failed because libvirt lost its connection to the target; the launcher images could not be compared. ${proxyText}`,
    );
    expect(f.notChecked).toEqual([
      "whether the source and target launcher images differ: no target pod, and neither the current launcher image (virt-controller Deployment) nor the VMI's launcher image is known",
      "events (none gathered: expired, or not readable)",
      "virt-launcher logs",
    ]);
    expect(f.fix.commands[0]).toBe("kubectl get pods -n kubevirt -l kubevirt.io=virt-handler -o wide");
  });

  it("stays silent on skew, on other failures, and on successes", () => {
    expect(
      migrationConnectionLost.detect(base({ migrations: [dropped(1)], pods: [source, target(otherImage)] })),
    ).toEqual([]);
    expect(
      migrationConnectionLost.detect(
        base({ migrations: [dropped(1, {}, "Failed to load virtio-net:virtio")], pods: [source, target()] }),
      ),
    ).toEqual([]);
    expect(
      migrationConnectionLost.detect(
        base({ migrations: [dropped(1, {}, "boom")], pods: [source, target()] }),
      ),
    ).toEqual([]);
    expect(
      migrationConnectionLost.detect(
        base({ migrations: [migration({ phase: "Succeeded", state: { failureReason: closed } })] }),
      ),
    ).toEqual([]);
  });

  it("with a skewed drop and a same-image one, reports the unexplained one only", () => {
    const s = base({
      migrations: [dropped(1), dropped(2)],
      pods: [
        source,
        target(otherImage, "uid-1"),
        {
          ...target(image, "uid-2"),
          metadata: {
            ...target().metadata,
            name: "virt-launcher-db-1-tgt02",
            labels: { "kubevirt.io/migrationJobUID": "uid-2" },
          },
        },
      ],
    });
    const f = detectOne(s);
    expect(f.summary).toMatch(/^Migration mig-2 of db-1 failed/);
    expect(f.summary).not.toContain("times since the last success");
  });

  it("repeated drops: counted, the migration network named, the KubeVirt migration settings to check", () => {
    const kubevirt = {
      apiVersion: "kubevirt.io/v1",
      kind: "KubeVirt",
      metadata: { name: "kv", namespace: "kv-system" },
      spec: {},
    } as KubeVirt;
    const s = base({
      migrations: [dropped(1), dropped(2), dropped(3)],
      pods: [source],
      currentLauncherImage: image,
      kubevirt,
    });
    const f = detectOne(s);
    expect(f.summary).toBe(
      `Migration mig-3 of db-1 failed because libvirt lost its connection to the target on node-3; both ends ran ${image} (the target's image inferred), so this is not launcher skew. ${proxyText} It happened 3 times since the last success.`,
    );
    expect(f.fix).toEqual({
      explanation:
        "Check that virt-handler on the target node is running and has not just restarted, then migrate again. It keeps happening: check the migration network (spec.configuration.migrations.network) and the nodes' connectivity on it.",
      commands: [
        "kubectl get pods -n kv-system -l kubevirt.io=virt-handler -o wide --field-selector spec.nodeName=node-3",
        "kvmig migrate db-1 -n demo",
        "kubectl get kubevirt -n kv-system -o 'jsonpath={.items[0].spec.configuration.migrations}'",
      ],
    });
  });

  it("says when an abort was under way", () => {
    const f = detectOne(
      base({ migrations: [dropped(1, { abortRequested: true })], pods: [source, target()] }),
    );
    expect(
      f.summary.endsWith(
        `${proxyText} An abort had been requested: the connection closed while it was under way, and no abort result was recorded.`,
      ),
    ).toBe(true);
    const g = detectOne(
      base({ migrations: [dropped(1, { abortRequested: false })], pods: [source, target()] }),
    );
    expect(g.summary.endsWith(proxyText)).toBe(true);
  });

  it("shows the target node when it is not Ready, with its reason and message", () => {
    const node = (status: string, reason?: string, message?: string): Node =>
      ({
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: "node-3" },
        status: {
          conditions: [
            { type: "MemoryPressure", status: "False" },
            {
              type: "Ready",
              status,
              ...(reason ? { reason } : {}),
              ...(message ? { message } : {}),
              lastTransitionTime: ago(900),
            },
          ],
        },
      }) as Node;
    const withNode = (n: Node) =>
      detectOne(base({ migrations: [dropped(1)], pods: [source, target()], nodes: [n] })).evidence;
    expect(
      withNode(node("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")).at(-1),
    ).toEqual({
      object: "Node/node-3",
      field: "status.conditions[Ready]",
      time: ago(900),
      text: "Ready=Unknown (NodeStatusUnknown): Kubelet stopped posting node status.",
    });
    expect(withNode(node("False")).at(-1)?.text).toBe("Ready=False");
    expect(withNode(node("True"))).toHaveLength(3);
    // Another node, or a node without a Ready condition, says nothing.
    expect(withNode({ ...node("False"), metadata: { name: "node-9" } })).toHaveLength(3);
    expect(withNode({ ...node("False"), status: { conditions: [] } })).toHaveLength(3);
  });

  it("a VMIM that is gone: the VMI's record names the attempt and the target node", () => {
    const state = {
      migrationUid: "gone",
      failed: true,
      failureReason: closed,
      targetNode: "node-5",
      endTimestamp: ago(100),
      sourcePod: srcName,
    };
    const s = base({
      vmi: vmi({ phase: "Running", migrationState: state }),
      pods: [source],
      currentLauncherImage: image,
    });
    const f = detectOne(s);
    expect(f.summary).toMatch(
      /^Migration \(VMIM gone\) of db-1 failed because libvirt lost its connection to the target on node-5;/,
    );
    expect(f.evidence[0]).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "status.migrationState.failureReason",
      time: ago(100),
      text: closed,
    });
  });

  it("the VMI's state about the failed VMIM gives the target node", () => {
    const s = base({
      vmi: vmi({
        phase: "Running",
        migrationState: { migrationUid: "uid-1", targetNode: "node-8", failed: true },
      }),
      migrations: [dropped(1, { targetNode: undefined })],
      pods: [source, target()],
    });
    expect(detectOne(s).summary).toContain("to the target on node-8;");
  });
});
