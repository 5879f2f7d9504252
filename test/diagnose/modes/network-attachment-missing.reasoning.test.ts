// network-attachment-missing's reasoning on hand-built snapshots: which Multus references lack a
// NAD (same namespace or `ns/name`), the direct evidence that names it (virt-controller's event,
// log line, the VMI's condition), a migration waiting without a target pod, what it says when
// the NADs were not read, and the summary and commands for a running or a stopped VM.

import { describe, expect, it } from "vitest";
import {
  missingAttachments,
  networkAttachmentMissing,
} from "../../../src/diagnose/modes/network-attachment-missing.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type {
  NetworkAttachmentDefinition,
  VirtualMachine,
  VirtualMachineInstance,
} from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const spec: VirtualMachineInstance["spec"] = {
  networks: [
    { name: "default", pod: {} },
    { name: "storage", multus: { networkName: "storage-nad" } },
    { name: "mgmt", multus: { networkName: "infra/mgmt-nad" } },
  ],
};

function nad(name: string, namespace?: string): NetworkAttachmentDefinition {
  return {
    apiVersion: "k8s.cni.cncf.io/v1",
    kind: "NetworkAttachmentDefinition",
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { config: "{}" },
  } as NetworkAttachmentDefinition;
}

const running = (status: Partial<NonNullable<VirtualMachineInstance["status"]>> = {}) =>
  vmi({ phase: "Running", ...status }, spec);
const present = [nad("mgmt-nad", "infra"), nad("other", "demo")];
const locate = (ref: string) =>
  `failed to render launch manifest: failed to locate network attachment definition ${ref}`;

function detectOne(s: Snapshot): Finding {
  const findings = networkAttachmentMissing.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const manifest = (name: string, namespace: string) =>
  JSON.stringify({
    apiVersion: "k8s.cni.cncf.io/v1",
    kind: "NetworkAttachmentDefinition",
    metadata: { name, namespace },
    spec: { config: "<the CNI configuration of this network, as on the other namespaces that use it>" },
  });

describe("network-attachment-missing reasoning", () => {
  it("a running VM, the NAD absent, nothing naming it: medium; the whole finding", () => {
    const s = snap({ vmi: running(), networkAttachmentDefinitions: present });
    expect(detectOne(s)).toEqual({
      id: "network-attachment-missing",
      title: "Multus network has no NetworkAttachmentDefinition",
      severity: "error",
      confidence: "medium",
      summary:
        "Network storage of db-1 uses the Multus network storage-nad, and there is no NetworkAttachmentDefinition storage-nad in demo. virt-controller cannot render a launcher pod for this VM without it, so every migration stays Pending with no target pod and no event.",
      evidence: [
        {
          object: "VirtualMachineInstance/db-1",
          field: "spec.networks[1].multus.networkName",
          text: "storage-nad",
        },
        { object: "NetworkAttachmentDefinitions in demo", text: "present: other; no storage-nad" },
      ],
      fix: {
        explanation: `Create the NetworkAttachmentDefinition storage-nad in demo with the CNI configuration of this network (copy spec.config from a namespace where it exists: ${manifest("storage-nad", "demo")}), or change the VM to a network that exists. A Pending migration then creates its target pod by itself; a VM that failed to start needs a restart.`,
        commands: [
          "kubectl get network-attachment-definitions -A --field-selector metadata.name=storage-nad",
          "kubectl get network-attachment-definitions -n demo",
          "kvmig watch db-1 -n demo",
        ],
      },
      docs: "https://kubevirt.io/user-guide/network/interfaces_and_networks/#multus",
      notChecked: [
        'virt-controller\'s log, where a migration that cannot render its target pod says "failed to locate network attachment definition"',
      ],
    });
  });

  it("matches NADs by name and namespace; a NAD without a namespace is the VM's", () => {
    expect(
      missingAttachments(snap({ vmi: running(), networkAttachmentDefinitions: [nad("storage-nad")] })),
    ).toEqual([{ network: "mgmt", reference: "infra/mgmt-nad", namespace: "infra", name: "mgmt-nad" }]);
    expect(
      missingAttachments(
        snap({
          vmi: running(),
          networkAttachmentDefinitions: [nad("storage-nad", "other-ns"), nad("mgmt-nad", "demo")],
        }),
      ),
    ).toEqual([
      { network: "storage", reference: "storage-nad", namespace: "demo", name: "storage-nad" },
      { network: "mgmt", reference: "infra/mgmt-nad", namespace: "infra", name: "mgmt-nad" },
    ]);
    expect(
      missingAttachments(
        snap({
          vmi: running(),
          networkAttachmentDefinitions: [nad("storage-nad", "demo"), nad("mgmt-nad", "infra")],
        }),
      ),
    ).toEqual([]);
    expect(missingAttachments(snap())).toEqual([]);
  });

  it("one finding per missing NAD; none in the namespace is 'none found'", () => {
    const findings = networkAttachmentMissing.detect(snap({ vmi: running() }));
    expect(findings.map((f) => f.evidence[1]?.text)).toEqual([
      "none found; no storage-nad",
      "none found; no mgmt-nad",
    ]);
    expect(findings[1]?.evidence[0]).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "spec.networks[2].multus.networkName",
      text: "infra/mgmt-nad",
    });
    expect(findings[1]?.fix.commands[1]).toBe("kubectl get network-attachment-definitions -n infra");
  });

  it("reads the VM template first, with its field path", () => {
    const vm = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: { name: "db-1", namespace: "demo" },
      spec: { template: { spec: { networks: [{ name: "n0", multus: { networkName: "vm-nad" } }] } } },
    } as VirtualMachine;
    const f = detectOne(snap({ vm, vmi: running(), networkAttachmentDefinitions: present }));
    expect(f.evidence[0]).toEqual({
      object: "VirtualMachine/db-1",
      field: "spec.template.spec.networks[0].multus.networkName",
      text: "vm-nad",
    });
  });

  it("virt-controller's words naming it make it high: the last event, the condition, the last log line", () => {
    const events = [
      event({ reason: "FailedCreate", message: locate("demo/storage-nad"), lastTimestamp: ago(200) }),
      event({
        reason: "FailedCreate",
        message: `Error creating pod: ${locate("demo/storage-nad")}`,
        lastTimestamp: ago(100),
      }),
      event({ reason: "FailedCreate", message: locate("demo/other-nad"), lastTimestamp: ago(50) }),
    ];
    const condition = {
      type: "Synchronized",
      status: "False" as const,
      reason: "FailedCreate",
      message: locate("storage-nad"),
      lastTransitionTime: ago(300),
    };
    const logs = [
      {
        namespace: "kubevirt",
        pod: "virt-controller-x",
        container: "virt-controller",
        lines: [
          JSON.stringify({
            level: "error",
            msg: `Failed to locate network attachment definition demo/storage-nad`,
            timestamp: ago(90),
          }),
          JSON.stringify({
            level: "error",
            msg: `sync failed: ${locate("demo/storage-nad")}`,
            timestamp: ago(80),
          }),
        ],
      },
    ];
    const s = snap({
      vmi: running({ conditions: [condition] }),
      networkAttachmentDefinitions: present,
      events,
      logs,
    });
    const f = detectOne(s);
    expect(f.confidence).toBe("high");
    expect(f.notChecked).toBeUndefined();
    expect(f.evidence.slice(2)).toEqual([
      {
        object: "VirtualMachineInstance/db-1",
        field: "event FailedCreate",
        time: ago(100),
        text: `Error creating pod: ${locate("demo/storage-nad")}`,
      },
      {
        object: "VirtualMachineInstance/db-1",
        field: "status.conditions[Synchronized]",
        time: ago(300),
        text: `FailedCreate: ${locate("storage-nad")}`,
      },
      {
        object: "Pod/virt-controller-x",
        field: "log virt-controller",
        time: ago(80),
        text: `sync failed: ${locate("demo/storage-nad")}`,
      },
    ]);
  });

  it("a condition without a reason is quoted as its message; a True condition is not evidence", () => {
    const bare = { type: "Synchronized", status: "False" as const, message: locate("storage-nad") };
    const f = detectOne(
      snap({ vmi: running({ conditions: [bare] }), networkAttachmentDefinitions: present }),
    );
    expect(f.evidence[2]?.text).toBe(locate("storage-nad"));
    expect(f.evidence[2]?.time).toBeUndefined();
    const ok = { type: "Synchronized", status: "True" as const, message: locate("storage-nad") };
    expect(
      detectOne(snap({ vmi: running({ conditions: [ok] }), networkAttachmentDefinitions: present }))
        .confidence,
    ).toBe("medium");
  });

  it("a waiting migration without a target pod is shown, the newest one", () => {
    const waiting = (n: number) =>
      migration({
        name: `mig-${n}`,
        uid: `uid-${n}`,
        phase: "Pending",
        created: ago(500 - n),
        transitions: { Pending: ago(400 - n) },
      });
    const s = snap({
      vmi: running(),
      networkAttachmentDefinitions: present,
      migrations: [waiting(1), waiting(2)],
    });
    expect(detectOne(s).evidence.at(-1)).toEqual({
      object: "VirtualMachineInstanceMigration/mig-2",
      field: "status.phase",
      time: ago(398),
      text: "Pending, no target pod",
    });
    // With a target pod, or not Pending, it is not waiting on this.
    const withPod = snap({
      vmi: running(),
      networkAttachmentDefinitions: present,
      migrations: [waiting(1)],
      pods: [pod("virt-launcher-db-1-t", { labels: { "kubevirt.io/migrationJobUID": "uid-1" } })],
    });
    expect(detectOne(withPod).evidence).toHaveLength(2);
    const scheduling = migration({ name: "mig-s", phase: "Scheduling" });
    expect(
      detectOne(snap({ vmi: running(), networkAttachmentDefinitions: present, migrations: [scheduling] }))
        .evidence,
    ).toHaveLength(2);
    const untimed = migration({ name: "mig-u", phase: "Pending", created: ago(70) });
    expect(
      detectOne(
        snap({ vmi: running(), networkAttachmentDefinitions: present, migrations: [untimed] }),
      ).evidence.at(-1)?.time,
    ).toBe(ago(70));
  });

  it("NADs not read: silent without evidence; info and low with only a waiting migration; error when named", () => {
    const missing = [{ what: "NetworkAttachmentDefinitions in demo", why: "forbidden" }];
    expect(networkAttachmentMissing.detect(snap({ vmi: running(), missing }))).toEqual([]);
    const waiting = migration({ name: "mig-w", phase: "Pending", created: ago(100) });
    const [info] = networkAttachmentMissing.detect(snap({ vmi: running(), missing, migrations: [waiting] }));
    expect(info?.severity).toBe("info");
    expect(info?.confidence).toBe("low");
    expect(info?.summary).toBe(
      "Network storage of db-1 uses the Multus network storage-nad, and the NetworkAttachmentDefinition could not be checked. virt-controller cannot render a launcher pod for this VM without it, so every migration stays Pending with no target pod and no event.",
    );
    expect(info?.evidence[1]).toEqual({
      object: "NetworkAttachmentDefinitions in demo",
      text: "not read (forbidden)",
    });
    expect(info?.notChecked).toEqual([
      "whether demo/storage-nad exists (NetworkAttachmentDefinitions were not read: forbidden)",
      'virt-controller\'s log, where a migration that cannot render its target pod says "failed to locate network attachment definition"',
    ]);
    const named = networkAttachmentMissing.detect(
      snap({
        vmi: running(),
        missing,
        events: [event({ reason: "FailedCreate", message: locate("demo/storage-nad") })],
      }),
    );
    expect(named.map((f) => [f.severity, f.confidence])).toEqual([["error", "high"]]);
    expect(named[0]?.summary).toContain("there is no NetworkAttachmentDefinition storage-nad in demo.");
    expect(named[0]?.notChecked).toEqual([
      "whether demo/storage-nad exists (NetworkAttachmentDefinitions were not read: forbidden)",
    ]);
  });

  it("a VM that is not running cannot start: restart it", () => {
    const f = detectOne(
      snap({ vmi: vmi({ phase: "Pending" }, spec), networkAttachmentDefinitions: present }),
    );
    expect(f.summary).toMatch(
      /without it, so the VM cannot start \(and no migration target can be created\)\.$/,
    );
    expect(f.fix.commands[2]).toBe("kvmig restart db-1 -n demo");
  });

  it("reads the NAD name out of each wording, and not a longer name", () => {
    const named = (message: string) =>
      detectOne(
        snap({
          vmi: running(),
          networkAttachmentDefinitions: present,
          events: [event({ reason: "FailedCreate", message })],
        }),
      ).confidence;
    expect(named("Failed to locate network attachment definition demo/storage-nad")).toBe("high");
    expect(named("failed to locate network attachment definition storage-nad")).toBe("high");
    expect(named("failed to locate network attachment definition demo/storage-nad-2")).toBe("medium");
    expect(named("failed to locate network attachment definition other/storage-nad")).toBe("medium");
  });
});
