// not-live-migratable's reasoning on hand-built snapshots: the verdict from the LiveMigratable
// condition or the webhook's rejection, the cause and fix per reason, when it is an error (a
// migration was wanted) rather than a warning, and what an unread VMI leaves unchecked.

import { describe, expect, it } from "vitest";
import { notLiveMigratable } from "../../../src/diagnose/modes/not-live-migratable.js";
import type { ApiRejection, Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { VirtualMachine, VirtualMachineInstance } from "../../../src/k8s/types.js";
import { ago, event, migration, snap, vmi } from "../../helpers/builders.js";

function notMigratable(
  reason: string | undefined,
  message: string | undefined,
  spec: VirtualMachineInstance["spec"] = {},
): VirtualMachineInstance {
  return vmi(
    {
      phase: "Running",
      conditions: [
        { type: "Ready", status: "True" },
        {
          type: "LiveMigratable",
          status: "False",
          ...(reason ? { reason } : {}),
          ...(message ? { message } : {}),
          lastTransitionTime: ago(3600),
        },
      ],
    },
    spec,
  );
}

function webhookRejection(
  reason: string,
  message: string,
  overrides: Partial<ApiRejection> = {},
): ApiRejection {
  return {
    request: "PUT virtualmachines/db-1/migrate",
    status: 422,
    message: `admission webhook "migration-create-validator.kubevirt.io" denied the request: Cannot migrate VMI, Reason: ${reason}, Message: ${message}`,
    at: ago(10),
    ...overrides,
  };
}

function detectOne(s: Snapshot): Finding {
  const findings = notLiveMigratable.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const pvcMessage =
  "cannot migrate VMI: PVC disk-db-1 is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)";

describe("not-live-migratable reasoning", () => {
  it("a non-shared PVC, from the condition alone: a warning, with the PVC's access modes to check", () => {
    const f = detectOne(snap({ vmi: notMigratable("DisksNotLiveMigratable", pvcMessage) }));
    expect(f).toEqual({
      id: "not-live-migratable",
      title: "VM is not live-migratable",
      severity: "warning",
      confidence: "high",
      summary:
        "KubeVirt marked the VM as not live-migratable (DisksNotLiveMigratable): its volume on PVC disk-db-1 is not shared (not ReadWriteMany), so the target node could not open the disk while the source still uses it. Every migration request is rejected until that changes.",
      evidence: [
        {
          object: "VirtualMachineInstance/db-1",
          field: "status.conditions[LiveMigratable]",
          time: ago(3600),
          text: `False, reason DisksNotLiveMigratable: ${pvcMessage}`,
        },
      ],
      fix: {
        explanation:
          "Move disk-db-1 to storage that supports ReadWriteMany (a volume migration to an RWX PVC keeps the VM running), or restart the VM to move it with downtime.",
        commands: [
          "kubectl get pvc disk-db-1 -n demo -o 'jsonpath={.spec.accessModes}'",
          "kubectl get storageclass",
          "kvmig restart db-1 -n demo",
        ],
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/#limitations",
      notChecked: undefined,
    });
  });

  it("a migratable VMI (or none at all) gives nothing, even with an old eviction warning", () => {
    const warning = event({
      reason: "Migrated",
      message: "EvictionStrategy is set but vmi is not migratable; cannot migrate VMI",
    });
    const migratable = vmi({ phase: "Running", conditions: [{ type: "LiveMigratable", status: "True" }] });
    expect(notLiveMigratable.detect(snap({ vmi: migratable, events: [warning] }))).toEqual([]);
    expect(notLiveMigratable.detect(snap({ events: [warning] }))).toEqual([]);
    expect(
      notLiveMigratable.detect(
        snap({ vmi: vmi({ phase: "Running", conditions: [{ type: "LiveMigratable", status: "Unknown" }] }) }),
      ),
    ).toEqual([]);
  });

  it("an unnamed reason and message are filled in", () => {
    const f = detectOne(snap({ vmi: notMigratable(undefined, undefined) }));
    expect(f.evidence[0]?.text).toBe("False, reason NotMigratable: ");
    expect(f.summary).toContain("(NotMigratable): virt-handler reported NotMigratable.");
    expect(f.fix).toEqual({
      explanation:
        "This kind of VM cannot be live-migrated; restart it instead (downtime) when it must leave its node.",
      commands: ["kvmig restart db-1 -n demo"],
    });
  });

  it("a webhook rejection alone gives the verdict, as an error of medium confidence (the VMI was not read)", () => {
    const r = webhookRejection("HostDeviceNotLiveMigratable", "  VMI uses a PCI host device  ");
    const f = detectOne(snap({ rejections: [r] }));
    expect(f.severity).toBe("error");
    expect(f.confidence).toBe("medium");
    expect(f.notChecked).toEqual(["the VMI's LiveMigratable condition (the VMI was not read)"]);
    expect(f.evidence).toEqual([{ object: r.request, field: "HTTP 422", time: ago(10), text: r.message }]);
    expect(f.summary).toBe(
      "KubeVirt marked the VM as not live-migratable (HostDeviceNotLiveMigratable): it uses host devices (PCI passthrough or GPUs) that cannot move with it. Every migration request is rejected until that changes.",
    );
    expect(f.fix).toEqual({
      explanation:
        "Restart the VM instead of migrating it (downtime); it is scheduled again where its devices exist.",
      commands: ["kvmig restart db-1 -n demo"],
    });
  });

  it("the condition's reason and message win over a rejection's; unrelated rejections are not evidence", () => {
    const s = snap({
      vmi: notMigratable("CPUModeLiveMigratable", "VMI uses host-passthrough"),
      rejections: [
        { request: "PUT virtualmachines/db-1/migrate", status: 403, message: "forbidden" },
        webhookRejection("DisksNotLiveMigratable", pvcMessage),
      ],
    });
    const f = detectOne(s);
    expect(f.summary).toContain("(CPUModeLiveMigratable): its CPU is host-passthrough");
    expect(f.evidence.map((e) => e.field)).toEqual(["status.conditions[LiveMigratable]", "HTTP 422"]);
  });

  it("takes the message from the rejection when the condition has none (the PVC named there)", () => {
    const s = snap({
      vmi: notMigratable("DisksNotLiveMigratable", undefined),
      rejections: [webhookRejection("DisksNotLiveMigratable", `${pvcMessage}\n`)],
    });
    expect(detectOne(s).fix.commands[0]).toBe(
      "kubectl get pvc disk-db-1 -n demo -o 'jsonpath={.spec.accessModes}'",
    );
  });

  it("the first rejection's message is kept", () => {
    const s = snap({
      rejections: [
        webhookRejection("DisksNotLiveMigratable", "PVC first is not shared"),
        webhookRejection("InterfaceNotLiveMigratable", "PVC second is not shared"),
      ],
    });
    const f = detectOne(s);
    expect(f.summary).toContain("(DisksNotLiveMigratable): its volume on PVC first is not shared");
    expect(f.evidence).toHaveLength(2);
  });

  it("a disk on local storage without a named PVC", () => {
    const f = detectOne(snap({ vmi: notMigratable("DisksNotLiveMigratable", "HostDisk is not migratable") }));
    expect(f.summary).toContain(
      "(DisksNotLiveMigratable): one of its disks is on node-local storage (a HostDisk or a non-shared PVC).",
    );
    expect(f.fix).toEqual({
      explanation:
        "Put the disk on shared ReadWriteMany storage, or restart the VM instead of migrating it (downtime).",
      commands: ["kvmig restart db-1 -n demo"],
    });
  });

  it("bridge binding on the pod network: names the interface, and offers to edit the VM", () => {
    const spec: VirtualMachineInstance["spec"] = {
      networks: [
        { name: "storage", multus: { networkName: "nad-1" } },
        { name: "default", pod: {} },
      ],
      domain: {
        devices: {
          interfaces: [
            { name: "storage", bridge: {} },
            { name: "default", bridge: {} },
          ],
        },
      },
    };
    const f = detectOne(
      snap({ vmi: notMigratable("InterfaceNotLiveMigratable", "bridge on pod network", spec) }),
    );
    expect(f.summary).toContain(
      "(InterfaceNotLiveMigratable): it connects to the pod network with bridge binding (interface default), and the pod IP cannot follow the VM to another node.",
    );
    expect(f.fix).toEqual({
      explanation:
        "Change the pod-network interface default to masquerade binding and restart the VM, or, if the CNI keeps the pod IP on migration, annotate the VM with kubevirt.io/allow-pod-bridge-network-live-migration. Until then, a restart moves the VM (with downtime).",
      commands: ["kubectl edit vm db-1 -n demo", "kvmig restart db-1 -n demo"],
    });
  });

  it("does not name an interface that is not bridge-bound, or when the spec is unknown", () => {
    const masquerade: VirtualMachineInstance["spec"] = {
      networks: [{ name: "default", pod: {} }],
      domain: { devices: { interfaces: [{ name: "default", masquerade: {} }] } },
    };
    for (const spec of [masquerade, {}]) {
      const f = detectOne(snap({ vmi: notMigratable("InterfaceNotLiveMigratable", "x", spec) }));
      expect(f.summary).toContain("with bridge binding, and the pod IP");
      expect(f.fix.explanation).toMatch(/^Change the pod-network interface to masquerade binding/);
    }
  });

  it("reads the interfaces from the VM's template when there is no VMI", () => {
    const vm = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: { name: "db-1", namespace: "demo" },
      spec: {
        template: {
          spec: {
            networks: [{ name: "pod-net", pod: {} }],
            domain: { devices: { interfaces: [{ name: "pod-net", bridge: {} }] } },
            evictionStrategy: "LiveMigrate",
          },
        },
      },
    } as VirtualMachine;
    const f = detectOne(snap({ vm, rejections: [webhookRejection("InterfaceNotLiveMigratable", "bridge")] }));
    expect(f.summary).toContain("(interface pod-net)");
    // The template's eviction strategy counts too.
    expect(f.summary).toMatch(/draining its node is blocked until it is restarted elsewhere\.$/);
  });

  it("host-passthrough CPU and hotplugged devices", () => {
    const cpu = detectOne(snap({ vmi: notMigratable("CPUModeLiveMigratable", "x") }));
    expect(cpu.summary).toContain(
      ": its CPU is host-passthrough, which ties the guest to this exact host CPU.",
    );
    expect(cpu.fix).toEqual({
      explanation:
        "Use host-model or a named CPU model, then restart the VM; until then only a restart moves it.",
      commands: ["kubectl edit vm db-1 -n demo", "kvmig restart db-1 -n demo"],
    });
    const hotplug = detectOne(snap({ vmi: notMigratable("HotplugNotLiveMigratable", "x") }));
    expect(hotplug.summary).toContain(": it has hotplugged volumes or interfaces that cannot be migrated.");
    expect(hotplug.fix).toEqual({
      explanation:
        "Unplug the hotplugged device (or make it part of the VM spec) and restart, or restart the VM instead of migrating it.",
      commands: ["kvmig restart db-1 -n demo"],
    });
  });

  it("is an error when a migration was wanted: a rejection, a VMIM, or an eviction strategy that migrates", () => {
    const severity = (parts: Partial<Snapshot>, spec: VirtualMachineInstance["spec"] = {}) =>
      detectOne(snap({ vmi: notMigratable("HostDeviceNotLiveMigratable", "x", spec), ...parts })).severity;
    expect(severity({})).toBe("warning");
    expect(severity({}, { evictionStrategy: "None" })).toBe("warning");
    expect(severity({}, { evictionStrategy: "LiveMigrateIfPossible" })).toBe("warning");
    expect(severity({ migrations: [migration({ phase: "Failed" })] })).toBe("error");
    expect(severity({}, { evictionStrategy: "LiveMigrate" })).toBe("error");
    expect(severity({}, { evictionStrategy: "External" })).toBe("error");
    expect(severity({ rejections: [{ request: "x", status: 403, message: "forbidden" }] })).toBe("error");
  });

  it("says a drain is blocked only for the LiveMigrate eviction strategy", () => {
    const summary = (evictionStrategy: "LiveMigrate" | "External") =>
      detectOne(snap({ vmi: notMigratable("HostDeviceNotLiveMigratable", "x", { evictionStrategy }) }))
        .summary;
    expect(summary("LiveMigrate")).toBe(
      "KubeVirt marked the VM as not live-migratable (HostDeviceNotLiveMigratable): it uses host devices (PCI passthrough or GPUs) that cannot move with it. Every migration request is rejected until that changes. Its eviction strategy is LiveMigrate, so draining its node is blocked until it is restarted elsewhere.",
    );
    expect(summary("External")).not.toContain("draining");
  });

  it("quotes the newest eviction warning about the VMI, and only Warning events named Migrated", () => {
    const older = event({
      reason: "Migrated",
      message: "EvictionStrategy is set but vmi is not migratable (1)",
      lastTimestamp: ago(300),
    });
    const newer = event({
      reason: "Migrated",
      message: "EvictionStrategy is set but vmi is not migratable (2)",
      lastTimestamp: ago(30),
      count: 4,
    });
    const normal = event({
      reason: "Migrated",
      type: "Normal",
      message: "EvictionStrategy is set but vmi is not migratable (3)",
    });
    const otherReason = event({
      reason: "Other",
      message: "EvictionStrategy is set but vmi is not migratable (4)",
    });
    const onPod = event({
      kind: "Pod",
      name: "virt-launcher-db-1-x",
      reason: "Migrated",
      message: "EvictionStrategy is set but vmi is not migratable (5)",
    });
    const f = detectOne(
      snap({
        vmi: notMigratable("HostDeviceNotLiveMigratable", "x"),
        events: [older, newer, normal, otherReason, onPod],
      }),
    );
    expect(f.evidence.slice(1)).toEqual([
      {
        object: "VirtualMachineInstance/db-1",
        field: "event Migrated (×4)",
        time: ago(30),
        text: "EvictionStrategy is set but vmi is not migratable (2)",
      },
    ]);
  });

  it("names the VMI as it is called, quotes the newest of three warnings, and reads odd VM shapes", () => {
    const named = notMigratable("HostDeviceNotLiveMigratable", "x");
    named.metadata.name = "db-1-vmi";
    const warn = (n: number) =>
      event({
        reason: "Migrated",
        message: `EvictionStrategy is set but vmi is not migratable (${n})`,
        lastTimestamp: ago(100 - n),
      });
    const f = detectOne(snap({ vmi: named, events: [warn(1), warn(2), warn(3)] }));
    expect(f.evidence[0]?.object).toBe("VirtualMachineInstance/db-1-vmi");
    expect(f.evidence.at(-1)?.text).toBe("EvictionStrategy is set but vmi is not migratable (3)");
    // Neither VMI nor VM: the interface cannot be named.
    const bare = detectOne(snap({ rejections: [webhookRejection("InterfaceNotLiveMigratable", "bridge")] }));
    expect(bare.summary).toContain("with bridge binding, and the pod IP");
    // A VM without a template, or a template without a spec.
    for (const spec of [{}, { template: {} }]) {
      const vm = {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachine",
        metadata: { name: "db-1" },
        spec,
      } as VirtualMachine;
      const g = detectOne(
        snap({ vm, rejections: [webhookRejection("InterfaceNotLiveMigratable", "bridge")] }),
      );
      expect(g.summary).not.toContain("draining");
    }
    // Networks without a pod network, or interfaces without devices.
    const noPod = notMigratable("InterfaceNotLiveMigratable", "x", {
      networks: [{ name: "m", multus: { networkName: "n" } }],
    });
    expect(detectOne(snap({ vmi: noPod })).summary).toContain("with bridge binding, and the pod IP");
    const noDomain = notMigratable("InterfaceNotLiveMigratable", "x", {
      networks: [{ name: "default", pod: {} }],
    });
    expect(detectOne(snap({ vmi: noDomain })).summary).toContain("with bridge binding, and the pod IP");
    expect(notLiveMigratable.severity).toBe("error");
  });
});
