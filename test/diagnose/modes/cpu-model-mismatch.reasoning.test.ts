// cpu-model-mismatch's reasoning on hand-built snapshots: the three kinds of evidence (the
// NoSuitableNodesForHostModelMigration event, libvirt's missing-features text, a target pod whose
// CPU labels no other node carries), the features and model named in the summary, the model
// offered in the fix (common to every schedulable node, a host model first), and confidence.

import { describe, expect, it } from "vitest";
import {
  checkCpuSelector,
  cpuExplainsUnschedulable,
  cpuMismatchFound,
  cpuModelMismatch,
  cpuSelector,
  isCpuLabel,
  unsatisfiableCpuTargets,
} from "../../../src/diagnose/modes/cpu-model-mismatch.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { Node, Pod, VirtualMachine } from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const migUid = "bbbbbbbb-0000-4000-8000-000000000001";
const hostLabel = "host-model-cpu.node.kubevirt.io/Icelake-Server";

function node(name: string, labels: Record<string, string>, unschedulable = false): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels },
    spec: unschedulable ? { unschedulable: true } : {},
  };
}

function target(selector: Record<string, string>, nodeName?: string, name = "virt-launcher-db-1-tgt"): Pod {
  return pod(name, {
    labels: { "kubevirt.io/migrationJobUID": migUid },
    spec: { ...(nodeName ? { nodeName } : {}), nodeSelector: selector, containers: [] },
    status: { phase: "Pending" },
  });
}

const running = migration({ uid: migUid, phase: "Scheduling", created: ago(300) });
const onNode1 = (model?: string) =>
  vmi({ phase: "Running", nodeName: "node-1" }, model === undefined ? {} : { domain: { cpu: { model } } });

const noSuitable = (at = ago(60), n = 1) =>
  event({
    reason: "NoSuitableNodesForHostModelMigration",
    message: `Migration cannot proceed since no node is suitable to run the required CPU model / required features (${n})`,
    lastTimestamp: at,
  });

function detectOne(s: Snapshot): Finding {
  const findings = cpuModelMismatch.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const missingText = "guest CPU doesn't match specification: missing features: avx512f,avx512bw";

describe("cpu-model-mismatch reasoning", () => {
  it("the event alone, host-model VM, nodes read with a common model: the whole finding", () => {
    const nodes = [
      node("node-1", {
        [hostLabel]: "true",
        "cpu-model.node.kubevirt.io/Icelake-Server": "true",
        "cpu-model.node.kubevirt.io/Broadwell": "true",
        "cpu-model.node.kubevirt.io/Haswell": "true",
      }),
      node("node-2", {
        "host-model-cpu.node.kubevirt.io/Haswell": "true",
        "cpu-model.node.kubevirt.io/Broadwell": "true",
        "cpu-model.node.kubevirt.io/Haswell": "true",
      }),
    ];
    const s = snap({ vmi: onNode1("host-model"), migrations: [running], events: [noSuitable()], nodes });
    expect(detectOne(s)).toEqual({
      id: "cpu-model-mismatch",
      title: "No node offers the VM's CPU model or features",
      severity: "error",
      confidence: "high",
      summary:
        "The VM uses the host-model CPU, so it can only move to nodes with the same CPU model and features as the node it started on; no other node offers them, so the migration target cannot be placed anywhere. A running guest keeps its CPU: only a restart with a CPU model every node offers fixes this.",
      evidence: [
        {
          object: "VirtualMachineInstance/db-1",
          field: "event NoSuitableNodesForHostModelMigration",
          time: ago(60),
          text: "Migration cannot proceed since no node is suitable to run the required CPU model / required features (1)",
        },
        { object: "VirtualMachineInstance/db-1", field: "spec.domain.cpu.model", text: "host-model" },
      ],
      fix: {
        explanation:
          "Set the VM's CPU model to one every node advertises (Broadwell, Haswell here; Haswell is used below), then restart the VM so it boots with that model (this causes downtime). A cluster-wide default is spec.configuration.cpuModel in the KubeVirt CR.",
        commands: [
          "kubectl get nodes -l cpu-model.node.kubevirt.io/Haswell=true",
          `kubectl patch vm db-1 -n demo --type merge -p '{"spec":{"template":{"spec":{"domain":{"cpu":{"model":"Haswell"}}}}}}'`,
          "kvmig restart db-1 -n demo",
        ],
      },
      docs: "https://kubevirt.io/user-guide/compute/virtual_hardware/",
      notChecked: undefined,
    });
  });

  it("quotes the last two events, and only those since the relevant migration began", () => {
    const events = [
      noSuitable(ago(400), 0),
      noSuitable(ago(200), 1),
      noSuitable(ago(100), 2),
      noSuitable(ago(50), 3),
    ];
    const f = detectOne(snap({ vmi: onNode1(), migrations: [running], events }));
    expect(f.evidence.slice(0, 2).map((e) => e.text.slice(-3))).toEqual(["(2)", "(3)"]);
    expect(
      detectOne(snap({ vmi: onNode1(), migrations: [running], events: events.slice(0, 2) })).evidence[0]
        ?.text,
    ).toContain("(1)");
    expect(
      cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations: [running], events: events.slice(0, 1) })),
    ).toEqual([]);
  });

  it("an unset model is the cluster default; without VM or VMI no model line", () => {
    const f = detectOne(snap({ vmi: onNode1(), events: [noSuitable()] }));
    expect(f.evidence[1]).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "spec.domain.cpu.model",
      text: "(unset: the cluster default, host-model unless the KubeVirt CR sets cpuModel)",
    });
    expect(f.summary).toMatch(/^The VM uses the host-model CPU/);
    const bare = detectOne(snap({ events: [noSuitable()] }));
    expect(bare.evidence).toHaveLength(1);
    expect(bare.notChecked).toEqual(["the nodes' CPU model and feature labels (nodes were not read)"]);
    // No nodes: the generic fix.
    expect(bare.fix).toEqual({
      explanation:
        "Pick a CPU model that every node advertises (the cpu-model.node.kubevirt.io/<model> node labels) and set it in the VM's spec.template.spec.domain.cpu.model (or cluster-wide in the KubeVirt CR's spec.configuration.cpuModel), then restart the VM so it boots with that model (this causes downtime).",
      commands: [
        "kubectl get nodes --show-labels",
        "kubectl edit vm db-1 -n demo",
        "kvmig restart db-1 -n demo",
      ],
    });
  });

  it("a named model from the VM template, no other node can provide it", () => {
    const vm = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: { name: "db-1", namespace: "demo" },
      spec: { template: { spec: { domain: { cpu: { model: "Cascadelake-Server" } } } } },
    } as VirtualMachine;
    const f = detectOne(snap({ vm, events: [noSuitable()] }));
    expect(f.summary).toMatch(
      /^The VM asks for CPU model Cascadelake-Server, which no other node can provide; no other node/,
    );
    expect(f.evidence[1]?.text).toBe("Cascadelake-Server");
  });

  it("libvirt's missing features: named in the summary, each once, from every form of the text", () => {
    const s = snap({
      vmi: onNode1("Skylake-Server"),
      migrations: [migration({ uid: migUid, phase: "Failed", state: { failureReason: missingText } })],
      events: [
        event({ reason: "Migrated", message: "Host CPU does not provide required features: avx512f,vmx" }),
        event({ reason: "Migrated", message: "guest CPU doesnt match specification: missing features: pku" }),
        event({ reason: "Migrated", message: "operation failed: the CPU is incompatible with host CPU" }),
      ],
    });
    const f = detectOne(s);
    expect(f.confidence).toBe("high");
    expect(f.summary).toBe(
      "The VM asks for CPU model Skylake-Server, which no other node can provide; the target node's CPU lacks features the guest uses (missing on the target: avx512f, avx512bw, vmx, pku), so libvirt refused the incoming guest. A running guest keeps its CPU: only a restart with a CPU model every node offers fixes this.",
    );
    // At most three texts are quoted, then the model.
    expect(f.evidence.map((e) => e.text)).toEqual([
      missingText,
      "Host CPU does not provide required features: avx512f,vmx",
      "guest CPU doesnt match specification: missing features: pku",
      "Skylake-Server",
    ]);
  });

  it("the incompatible-CPU text without features names none", () => {
    const s = snap({
      vmi: onNode1(),
      migrations: [
        migration({
          uid: migUid,
          phase: "Failed",
          state: { failureReason: "the CPU is incompatible with host CPU" },
        }),
      ],
    });
    expect(detectOne(s).summary).toContain(
      "the target node's CPU lacks features the guest uses, so libvirt refused",
    );
    // Extra features are version skew's, not this.
    const extra = snap({
      vmi: onNode1(),
      migrations: [
        migration({
          uid: migUid,
          phase: "Failed",
          state: { failureReason: "guest CPU doesn't match specification: extra features: ht" },
        }),
      ],
    });
    expect(cpuModelMismatch.detect(extra)).toEqual([]);
    expect(cpuMismatchFound(extra)).toBe(false);
  });

  it("an unscheduled target pod whose CPU labels no other node has: names what each node lacks", () => {
    const selector = {
      [hostLabel]: "true",
      "cpu-feature.node.kubevirt.io/avx512f": "true",
      "cpu-feature.node.kubevirt.io/avx512bw": "true",
      "cpu-feature.node.kubevirt.io/pku": "true",
      "kubernetes.io/arch": "amd64",
    };
    const nodes = [
      node("node-1", selector),
      node("node-2", { "cpu-feature.node.kubevirt.io/avx512f": "true" }),
      node("node-3", {
        [hostLabel]: "false",
        "cpu-feature.node.kubevirt.io/avx512f": "true",
        "cpu-feature.node.kubevirt.io/avx512bw": "true",
        "cpu-feature.node.kubevirt.io/pku": "true",
      }),
    ];
    const s = snap({ vmi: onNode1(), migrations: [running], pods: [target(selector)], nodes });
    const f = detectOne(s);
    expect(f.confidence).toBe("high");
    expect(f.evidence[0]).toEqual({
      object: "Pod/virt-launcher-db-1-tgt",
      field: "spec.nodeSelector",
      text: `requires ${hostLabel}=true, cpu-feature.node.kubevirt.io/avx512f=true, cpu-feature.node.kubevirt.io/avx512bw=true, cpu-feature.node.kubevirt.io/pku=true; no node other than the source has them all (node-2 lacks ${hostLabel}, cpu-feature.node.kubevirt.io/avx512bw, cpu-feature.node.kubevirt.io/pku; node-3 lacks ${hostLabel})`,
    });
    expect(f.fix.commands[0]).toBe("kubectl describe pod virt-launcher-db-1-tgt -n demo");
    expect(unsatisfiableCpuTargets(s).map((c) => c.pod.metadata.name)).toEqual(["virt-launcher-db-1-tgt"]);
    expect(cpuExplainsUnschedulable(s, s.pods[0] as Pod)).toBe(true);
  });

  it("lists at most four nodes and three labels each", () => {
    const selector = Object.fromEntries(
      [1, 2, 3, 4].map((i) => [`cpu-feature.node.kubevirt.io/f${i}`, "true"]),
    );
    const nodes = [node("node-1", selector), ...[2, 3, 4, 5, 6].map((i) => node(`node-${i}`, {}))];
    const f = detectOne(snap({ vmi: onNode1(), migrations: [running], pods: [target(selector)], nodes }));
    const text = f.evidence[0]?.text ?? "";
    expect(text).toContain(
      "(node-2 lacks cpu-feature.node.kubevirt.io/f1, cpu-feature.node.kubevirt.io/f2, cpu-feature.node.kubevirt.io/f3, ...; node-3 lacks",
    );
    expect(text).toContain("node-5 lacks");
    expect(text).not.toContain("node-6");
  });

  it("stays silent when another node fits, when the pod is scheduled, or without CPU labels or nodes", () => {
    const selector = { [hostLabel]: "true" };
    const fits = [node("node-1", selector), node("node-2", selector)];
    expect(
      cpuModelMismatch.detect(
        snap({ vmi: onNode1(), migrations: [running], pods: [target(selector)], nodes: fits }),
      ),
    ).toEqual([]);
    const lacking = [node("node-1", selector), node("node-2", {})];
    expect(
      cpuModelMismatch.detect(
        snap({ vmi: onNode1(), migrations: [running], pods: [target(selector, "node-2")], nodes: lacking }),
      ),
    ).toEqual([]);
    expect(
      cpuModelMismatch.detect(
        snap({
          vmi: onNode1(),
          migrations: [running],
          pods: [target({ "kubernetes.io/arch": "amd64" })],
          nodes: lacking,
        }),
      ),
    ).toEqual([]);
    expect(
      cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations: [running], pods: [target(selector)] })),
    ).toEqual([]);
  });

  it("the source node is the VMI's migration source, else its node; without VMIMs any target pod counts", () => {
    const selector = { [hostLabel]: "true" };
    const nodes = [node("node-1", selector), node("node-2", {})];
    // The migration state says the source is node-2: node-1 then fits.
    const movedFrom2 = vmi({
      phase: "Running",
      nodeName: "node-1",
      migrationState: { sourceNode: "node-2" },
    });
    expect(
      cpuModelMismatch.detect(
        snap({ vmi: movedFrom2, migrations: [running], pods: [target(selector)], nodes }),
      ),
    ).toEqual([]);
    const noVmim = snap({ vmi: onNode1(), pods: [target(selector), pod("virt-launcher-db-1-src")], nodes });
    expect(detectOne(noVmim).evidence[0]?.object).toBe("Pod/virt-launcher-db-1-tgt");
  });

  it("checks a selector against the other nodes", () => {
    const p = target({
      [hostLabel]: "true",
      "cpu-model-migration.node.kubevirt.io/Icelake": "true",
      other: "x",
    });
    expect(cpuSelector(p)).toEqual({
      [hostLabel]: "true",
      "cpu-model-migration.node.kubevirt.io/Icelake": "true",
    });
    expect(isCpuLabel("cpu-model.node.kubevirt.io/Haswell")).toBe(true);
    expect(isCpuLabel("x-cpu-model.node.kubevirt.io/Haswell")).toBe(false);
    const s = snap({
      nodes: [
        node("a", { [hostLabel]: "true", "cpu-model-migration.node.kubevirt.io/Icelake": "true" }),
        node("b", { [hostLabel]: "true" }),
      ],
    });
    expect(checkCpuSelector(s, p, undefined)).toEqual({
      pod: p,
      required: { [hostLabel]: "true", "cpu-model-migration.node.kubevirt.io/Icelake": "true" },
      fitting: ["a"],
      lacking: [{ node: "b", labels: ["cpu-model-migration.node.kubevirt.io/Icelake"] }],
    });
    expect(checkCpuSelector(s, p, "a")?.fitting).toEqual([]);
    expect(checkCpuSelector(s, target({}), undefined)).toBeUndefined();
    expect(checkCpuSelector(snap(), p, undefined)).toBeUndefined();
  });

  it("explains an unschedulable pod with CPU labels when the event is there", () => {
    const withLabels = target({ [hostLabel]: "true" });
    const s = snap({ vmi: onNode1(), migrations: [running], pods: [withLabels], events: [noSuitable()] });
    expect(cpuExplainsUnschedulable(s, withLabels)).toBe(true);
    expect(cpuExplainsUnschedulable(s, target({ "kubernetes.io/arch": "amd64" }))).toBe(false);
    expect(
      cpuExplainsUnschedulable(
        snap({ vmi: onNode1(), migrations: [running], pods: [withLabels] }),
        withLabels,
      ),
    ).toBe(false);
  });

  it("the fix: a common model of the schedulable nodes, a host model first, and the first target pod unscheduled", () => {
    const nodes = [
      node("node-1", {
        "cpu-model.node.kubevirt.io/Broadwell": "true",
        "cpu-model.node.kubevirt.io/Skylake": "true",
        "cpu-model.node.kubevirt.io/Zen": "true",
      }),
      node("node-2", {
        "cpu-model.node.kubevirt.io/Broadwell": "true",
        "cpu-model.node.kubevirt.io/Skylake": "true",
        "cpu-model.node.kubevirt.io/Zen": "false",
      }),
      node("node-3", { "cpu-model.node.kubevirt.io/Nehalem": "true" }, true),
    ];
    const pods = [
      target({}, "node-2", "virt-launcher-db-1-placed"),
      target({}, undefined, "virt-launcher-db-1-waiting"),
    ];
    const f = detectOne(snap({ vmi: onNode1(), events: [noSuitable()], nodes, pods }));
    expect(f.fix.explanation).toContain("(Broadwell, Skylake here; Broadwell is used below)");
    expect(f.fix.commands).toEqual([
      "kubectl describe pod virt-launcher-db-1-waiting -n demo",
      "kubectl get nodes -l cpu-model.node.kubevirt.io/Broadwell=true",
      `kubectl patch vm db-1 -n demo --type merge -p '{"spec":{"template":{"spec":{"domain":{"cpu":{"model":"Broadwell"}}}}}}'`,
      "kvmig restart db-1 -n demo",
    ]);
    // One schedulable node is not enough to know what is common.
    const single = detectOne(
      snap({ vmi: onNode1(), events: [noSuitable()], nodes: [nodes[0] as Node, nodes[2] as Node] }),
    );
    expect(single.fix.commands).toEqual([
      "kubectl get nodes --show-labels",
      "kubectl edit vm db-1 -n demo",
      "kvmig restart db-1 -n demo",
    ]);
    // No model common to all.
    const disjoint = [
      node("a", { "cpu-model.node.kubevirt.io/X": "true" }),
      node("b", { "cpu-model.node.kubevirt.io/Y": "true" }),
    ];
    expect(detectOne(snap({ vmi: onNode1(), events: [noSuitable()], nodes: disjoint })).fix.commands[0]).toBe(
      "kubectl get nodes --show-labels",
    );
  });

  it("missing events: said; lower only when the event was all there was", () => {
    const missing = [{ what: "events in demo", why: "forbidden" }];
    const eventOnly = detectOne(snap({ vmi: onNode1(), events: [noSuitable()], missing }));
    expect(eventOnly.confidence).toBe("medium");
    expect(eventOnly.notChecked).toEqual([
      "the nodes' CPU model and feature labels (nodes were not read)",
      "events (NoSuitableNodesForHostModelMigration is an event on the VMI)",
    ]);
    const withText = detectOne(
      snap({
        vmi: onNode1(),
        migrations: [migration({ uid: migUid, phase: "Failed", state: { failureReason: missingText } })],
        missing,
      }),
    );
    expect(withText.confidence).toBe("high");
    const selector = { [hostLabel]: "true" };
    const withPod = detectOne(
      snap({
        vmi: onNode1(),
        migrations: [running],
        pods: [target(selector)],
        nodes: [node("node-1", selector), node("node-2", {})],
        missing,
      }),
    );
    expect(withPod.confidence).toBe("high");
    expect(withPod.notChecked).toEqual([
      "events (NoSuitableNodesForHostModelMigration is an event on the VMI)",
    ]);
  });

  it("finds nothing with no evidence at all", () => {
    expect(cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations: [running] }))).toEqual([]);
    expect(cpuMismatchFound(snap({ vmi: onNode1(), events: [noSuitable()] }))).toBe(true);
  });

  describe("from state alone: a host-model guest failing within a minute of Running between CPU generations", () => {
    const nodes = [
      node("node-1", { "host-model-cpu.node.kubevirt.io/Icelake-Server": "true" }),
      node("node-2", { "host-model-cpu.node.kubevirt.io/Skylake-Server": "true" }),
      node("node-3", { "host-model-cpu.node.kubevirt.io/Icelake-Server": "true" }),
    ];
    const early = (
      seconds: number,
      state: Record<string, string> = { sourceNode: "node-1", targetNode: "node-2" },
    ) =>
      migration({
        uid: migUid,
        name: "mig-1",
        phase: "Failed",
        created: ago(500),
        transitions: { Running: ago(300), Failed: ago(300 - seconds) },
        state,
      });

    it("names both nodes' host models, low, and says libvirt's words were not found", () => {
      const f = detectOne(snap({ vmi: onNode1(), migrations: [early(12)], nodes }));
      expect(f.confidence).toBe("low");
      expect(f.evidence).toEqual([
        {
          object: "VirtualMachineInstanceMigration/mig-1",
          field: "status.phaseTransitionTimestamps",
          time: ago(288),
          text: "Failed 12 s after Running: the target refused the guest as the transfer began",
        },
        {
          object: "Node/node-1",
          field: "metadata.labels",
          text: "host-model-cpu.node.kubevirt.io/Icelake-Server (the source: the guest's host-model CPU)",
        },
        {
          object: "Node/node-2",
          field: "metadata.labels",
          text: "host-model-cpu.node.kubevirt.io/Skylake-Server (the target: another CPU generation)",
        },
        {
          object: "VirtualMachineInstance/db-1",
          field: "spec.domain.cpu.model",
          text: "(unset: the cluster default, host-model unless the KubeVirt CR sets cpuModel)",
        },
      ]);
      expect(f.notChecked).toEqual([
        "libvirt's own words (\"guest CPU doesn't match specification\" and the missing features): no failure text was found, so this is read from the nodes' CPU models and the timing",
      ]);
    });

    it("a minute at most, at or after Running; the same model, the same node, or a named model is not this", () => {
      expect(cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations: [early(60)], nodes }))).toHaveLength(
        1,
      );
      expect(cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations: [early(0)], nodes }))).toHaveLength(
        1,
      );
      expect(cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations: [early(61)], nodes }))).toEqual([]);
      expect(cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations: [early(-5)], nodes }))).toEqual([]);
      for (const targetNode of ["node-3", "node-1", "node-9"]) {
        const migrations = [early(10, { sourceNode: "node-1", targetNode })];
        expect(cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations, nodes })), targetNode).toEqual([]);
      }
      expect(
        cpuModelMismatch.detect(snap({ vmi: onNode1("Haswell"), migrations: [early(10)], nodes })),
      ).toEqual([]);
      expect(
        cpuModelMismatch.detect(snap({ vmi: onNode1("host-model"), migrations: [early(10)], nodes })),
      ).toHaveLength(1);
      // Never Running: not the transfer.
      const never = migration({
        uid: migUid,
        name: "mig-1",
        phase: "Failed",
        transitions: { Failed: ago(100) },
        state: { sourceNode: "node-1", targetNode: "node-2" },
      });
      expect(cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations: [never], nodes }))).toEqual([]);
      // Not failed.
      const ok = migration({
        uid: migUid,
        name: "mig-1",
        phase: "Succeeded",
        transitions: { Running: ago(300), Succeeded: ago(290) },
        state: { sourceNode: "node-1", targetNode: "node-2" },
      });
      expect(cpuModelMismatch.detect(snap({ vmi: onNode1(), migrations: [ok], nodes }))).toEqual([]);
    });

    it("the target from its placed pod, the source from the source pod or the VMI's node", () => {
      const placed = pod("virt-launcher-db-1-t", {
        labels: { "kubevirt.io/migrationJobUID": migUid },
        spec: { nodeName: "node-2", containers: [] },
      });
      const f = detectOne(snap({ vmi: onNode1(), migrations: [early(10, {})], pods: [placed], nodes }));
      expect(f.evidence.slice(1, 3).map((e) => e.object)).toEqual(["Node/node-1", "Node/node-2"]);
      const srcPod = pod("virt-launcher-db-1-s", { spec: { nodeName: "node-3", containers: [] } });
      srcPod.metadata.creationTimestamp = ago(9000);
      const g = cpuModelMismatch.detect(
        snap({
          vmi: onNode1(),
          migrations: [early(10, { sourcePod: "virt-launcher-db-1-s", targetNode: "node-2" })],
          pods: [srcPod],
          nodes,
        }),
      );
      expect(g[0]?.evidence[1]?.object).toBe("Node/node-3");
    });

    it("other evidence comes first: then the timing is not used", () => {
      const f = detectOne(
        snap({ vmi: onNode1(), migrations: [early(10)], nodes, events: [noSuitable(ago(100))] }),
      );
      expect(f.confidence).toBe("high");
      expect(f.evidence.some((e) => e.field === "status.phaseTransitionTimestamps")).toBe(false);
    });
  });
});
