// vif-cache-missing's reasoning on hand-built snapshots: where the missing-file error counts
// (Warning events, failure reasons, error and warning log lines, all after the last successful
// migration), how bridge-bound interfaces are described, the retry loop it counts, its
// confidence, and the commands that stop the retries before the restart.

import { describe, expect, it } from "vitest";
import { vifCacheMissing, vifCacheMissingPattern } from "../../../src/diagnose/modes/vif-cache-missing.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { VirtualMachine, VirtualMachineInstance } from "../../../src/k8s/types.js";
import { ago, event, migration, pod, snap, vmi } from "../../helpers/builders.js";

const errorText =
  "failed to configure vmi network: open /var/run/kubevirt-private/vif-cache-default.json: no such file or directory";

const bridgeSpec: VirtualMachineInstance["spec"] = {
  networks: [
    { name: "default", pod: {} },
    { name: "storage", multus: { networkName: "storage-nad" } },
    { name: "mgmt", multus: { networkName: "mgmt-nad" } },
  ],
  domain: {
    devices: {
      interfaces: [
        { name: "default", bridge: {} },
        { name: "storage", bridge: {} },
        { name: "mgmt", masquerade: {} },
        { name: "orphan", bridge: {} },
      ],
    },
  },
};

const syncFailed = (message = errorText, at = ago(60)) =>
  event({ kind: "Pod", name: "virt-launcher-db-1-t1", reason: "SyncFailed", message, lastTimestamp: at });

function detectOne(s: Snapshot): Finding {
  const findings = vifCacheMissing.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const tail =
  "The target pod fails before the migration starts, and a stale network state on that node makes every retry fail the same way (kubevirt/kubevirt#18087).";

describe("vif-cache-missing reasoning", () => {
  it("the whole finding, with every bridge interface described and the evidence for each", () => {
    const s = snap({ vmi: vmi({ phase: "Running" }, bridgeSpec), events: [syncFailed()] });
    expect(detectOne(s)).toEqual({
      id: "vif-cache-missing",
      title: "Migration target has no vif-cache for a bridge interface",
      severity: "error",
      confidence: "high",
      summary: `The migration target of db-1 could not set up its network: the cached interface file vif-cache-default.json was never written on the target (bridge-bound interfaces default (bridge binding on the pod network), storage (bridge binding on Multus network storage-nad), orphan (bridge binding)). ${tail}`,
      evidence: [
        {
          object: "Pod/virt-launcher-db-1-t1",
          field: "event SyncFailed",
          time: ago(60),
          text: errorText,
        },
        {
          object: "VirtualMachineInstance/db-1",
          field: "spec.domain.devices.interfaces[default].bridge",
          text: "bridge binding",
        },
        {
          object: "VirtualMachineInstance/db-1",
          field: "spec.domain.devices.interfaces[storage].bridge",
          text: "bridge binding, network storage-nad",
        },
        {
          object: "VirtualMachineInstance/db-1",
          field: "spec.domain.devices.interfaces[orphan].bridge",
          text: "bridge binding",
        },
      ],
      fix: {
        explanation:
          "Stop the retries, then restart the VM (downtime): its new launcher pod gets a clean CNI and network setup, and the stale state on the target node is no longer used. Later KubeVirt releases fix the stale state (kubevirt/kubevirt#18087).",
        commands: ["kvmig restart db-1 -n demo"],
      },
      docs: "https://github.com/kubevirt/kubevirt/issues/18087",
      notChecked: undefined,
    });
  });

  it("one bridge interface is singular", () => {
    const spec: VirtualMachineInstance["spec"] = {
      networks: [{ name: "default", pod: {} }],
      domain: { devices: { interfaces: [{ name: "default", bridge: {} }] } },
    };
    const f = detectOne(snap({ vmi: vmi({ phase: "Running" }, spec), events: [syncFailed()] }));
    expect(f.summary).toContain("(bridge-bound interface default (bridge binding on the pod network))");
  });

  it("no bridge interface now: medium, and says so", () => {
    const spec: VirtualMachineInstance["spec"] = {
      domain: { devices: { interfaces: [{ name: "default", masquerade: {} }] } },
    };
    const f = detectOne(snap({ vmi: vmi({ phase: "Running" }, spec), events: [syncFailed()] }));
    expect(f.confidence).toBe("medium");
    expect(f.summary).toContain("(yet no interface of the VM uses bridge binding now)");
    expect(f.evidence).toHaveLength(1);
    expect(f.notChecked).toBeUndefined();
    // No devices at all is the same.
    expect(detectOne(snap({ vmi: vmi({ phase: "Running" }, {}), events: [syncFailed()] })).summary).toContain(
      "yet no interface of the VM uses bridge binding now",
    );
  });

  it("no VM or VMI spec: medium, and names what it could not check", () => {
    const f = detectOne(snap({ events: [syncFailed()] }));
    expect(f.confidence).toBe("medium");
    expect(f.summary).toContain("(the VM's interfaces could not be read)");
    expect(f.notChecked).toEqual(["the VM's interface bindings (no VM or VMI spec)"]);
  });

  it("reads the interfaces from the VM's template when there is no VMI", () => {
    const vm = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: { name: "db-1", namespace: "demo" },
      spec: { template: { spec: bridgeSpec } },
    } as VirtualMachine;
    const f = detectOne(snap({ vm, events: [syncFailed()] }));
    expect(f.confidence).toBe("high");
    expect(f.summary).toContain("storage (bridge binding on Multus network storage-nad)");
  });

  it("counts Warning events only, and only since the last successful migration", () => {
    const spec = bridgeSpec;
    const at = (parts: Partial<Snapshot>) =>
      vifCacheMissing.detect(snap({ vmi: vmi({ phase: "Running" }, spec), ...parts }));
    expect(at({ events: [{ ...syncFailed(), type: "Normal" }] })).toEqual([]);
    expect(at({ events: [syncFailed("some other failure")] })).toEqual([]);
    const succeeded = migration({ phase: "Succeeded", transitions: { Succeeded: ago(120) } });
    expect(at({ migrations: [succeeded], events: [syncFailed(errorText, ago(180))] })).toEqual([]);
    expect(at({ migrations: [succeeded], events: [syncFailed(errorText, ago(120))] })).toHaveLength(1);
    expect(at({ migrations: [succeeded], events: [syncFailed(errorText, ago(60))] })).toHaveLength(1);
  });

  it("reads failure reasons on the VMI and the VMIMs, once per text, and not from before the last success", () => {
    const reason = errorText;
    const failedMig = migration({
      name: "mig-f",
      phase: "Failed",
      state: { failureReason: reason, endTimestamp: ago(30) },
    });
    const s = snap({
      vmi: vmi(
        { phase: "Running", migrationState: { failureReason: reason, endTimestamp: ago(30) } },
        bridgeSpec,
      ),
      migrations: [failedMig],
    });
    const f = detectOne(s);
    expect(f.evidence.slice(0, 1)).toEqual([
      {
        object: "VirtualMachineInstance/db-1",
        field: "status.migrationState.failureReason",
        time: ago(30),
        text: reason,
      },
    ]);
    expect(f.evidence.filter((e) => e.field === "status.migrationState.failureReason")).toHaveLength(1);
    // Before the last success: history. Without an end time it counts.
    const succeeded = migration({ name: "mig-s", phase: "Succeeded", transitions: { Succeeded: ago(20) } });
    expect(vifCacheMissing.detect(snap({ migrations: [failedMig, succeeded] }))).toEqual([]);
    const undated = migration({ name: "mig-u", phase: "Failed", state: { failureReason: reason } });
    const g = detectOne(snap({ migrations: [undated, succeeded] }));
    expect(g.evidence[0]).toEqual({
      object: "VirtualMachineInstanceMigration/mig-u",
      field: "status.migrationState.failureReason",
      time: undefined,
      text: reason,
    });
    // A reason about something else.
    expect(
      vifCacheMissing.detect(
        snap({ migrations: [migration({ phase: "Failed", state: { failureReason: "boom" } })] }),
      ),
    ).toEqual([]);
  });

  it("log lines: error and warning lines and plain lines count, info lines that name the file do not", () => {
    const line = (level: string | undefined, timestamp = ago(50)) =>
      JSON.stringify({ ...(level ? { level } : {}), msg: errorText, timestamp });
    const logs = (lines: string[]) => [
      { namespace: "demo", pod: "virt-launcher-db-1-t1", container: "compute", lines },
    ];
    const s = (lines: string[], parts: Partial<Snapshot> = {}) =>
      vifCacheMissing.detect(
        snap({ vmi: vmi({ phase: "Running" }, bridgeSpec), logs: logs(lines), ...parts }),
      );
    expect(s([line("info")])).toEqual([]);
    expect(s([line("error")])).toHaveLength(1);
    expect(s([line("warning")])).toHaveLength(1);
    expect(s([line(undefined)])).toHaveLength(1);
    expect(s([errorText])).toHaveLength(1);
    const [f] = s([line("error")]);
    expect(f?.evidence[0]).toEqual({
      object: "Pod/virt-launcher-db-1-t1",
      field: "log compute",
      time: ago(50),
      text: errorText,
    });
    const succeeded = migration({ phase: "Succeeded", transitions: { Succeeded: ago(40) } });
    expect(s([line("error")], { migrations: [succeeded] })).toEqual([]);
    expect(s([line("error", ago(30))], { migrations: [succeeded] })).toHaveLength(1);
    // An undated plain line cannot be placed before the success: it counts.
    expect(s([errorText], { migrations: [succeeded] })).toHaveLength(1);
  });

  it("logs but no events: confidence stays, and it says events were not gathered", () => {
    const logs = [
      { namespace: "demo", pod: "virt-launcher-db-1-t1", container: "compute", lines: [errorText] },
    ];
    const f = detectOne(snap({ vmi: vmi({ phase: "Running" }, bridgeSpec), logs }));
    expect(f.confidence).toBe("high");
    expect(f.notChecked).toEqual(["events (none gathered: expired, or not readable)"]);
    // Only a failure reason, with neither logs nor events: medium.
    const reasonOnly = detectOne(
      snap({ vmi: vmi({ phase: "Running", migrationState: { failureReason: errorText } }, bridgeSpec) }),
    );
    expect(reasonOnly.confidence).toBe("medium");
  });

  it("names the interface from the first text, or … when it cannot", () => {
    const f = detectOne(
      snap({
        vmi: vmi({ phase: "Running" }, bridgeSpec),
        events: [syncFailed("open vif-cache-net1.json: no such file")],
      }),
    );
    expect(f.summary).toContain("the cached interface file vif-cache-net1.json was never written");
    expect(vifCacheMissingPattern.test("vif-cache-.json no such file")).toBe(true);
    expect(vifCacheMissingPattern.test("VIF-CACHE-X.JSON: No Such File")).toBe(true);
    expect(vifCacheMissingPattern.test("vif-cache-a/b.json: no such file")).toBe(false);
  });

  it("counts the target pods created again and again, and the failed migrations", () => {
    const targets = [1, 2, 3].map((i) =>
      pod(`virt-launcher-db-1-t${i}`, { labels: { "kubevirt.io/migrationJobUID": `u${i}` } }),
    );
    const created = event({
      kind: "VirtualMachineInstance",
      type: "Normal",
      reason: "SuccessfulCreate",
      message: "Created migration target pod demo/virt-launcher-db-1-t9",
      count: 5,
    });
    const failedMigs = [
      migration({ name: "m1", phase: "Failed" }),
      migration({ name: "m2", phase: "Failed" }),
    ];
    const base = { vmi: vmi({ phase: "Running" }, bridgeSpec) };
    // The events say 5, the pods 3: the larger count.
    const f = detectOne(
      snap({
        ...base,
        pods: [pod("virt-launcher-db-1-src"), ...targets],
        events: [syncFailed(), created],
        migrations: failedMigs,
      }),
    );
    expect(f.summary).toMatch(
      / 5 migration target pods were created for it and 2 migrations failed: each new target pod fails the same way\.$/,
    );
    // The pods say 3, one event 1.
    const g = detectOne(
      snap({ ...base, pods: targets, events: [syncFailed(), { ...created, count: undefined }] }),
    );
    expect(g.summary).toMatch(
      / 3 migration target pods were created for it: each new target pod fails the same way\.$/,
    );
    // Two events without counts make 2; other reasons and messages do not count.
    const h = detectOne(
      snap({
        ...base,
        events: [
          syncFailed(),
          { ...created, count: undefined },
          { ...created, count: undefined },
          { ...created, reason: "Created" },
          { ...created, message: "Created pod virt-launcher-db-1-x" },
        ],
      }),
    );
    expect(h.summary).toMatch(/ 2 migration target pods were created for it: /);
    // One target pod is no loop.
    const one = detectOne(
      snap({ ...base, pods: [targets[0] as (typeof targets)[0]], events: [syncFailed()] }),
    );
    expect(one.summary.endsWith("(kubevirt/kubevirt#18087).")).toBe(true);
  });

  it("cancels an unfinished migration and an evacuation before the restart", () => {
    const s = snap({
      vmi: vmi(
        { phase: "Running", evacuationNodeName: "worker-1" } as VirtualMachineInstance["status"],
        bridgeSpec,
      ),
      migrations: [migration({ phase: "Failed" }), migration({ name: "m2", phase: "Scheduling" })],
      events: [syncFailed()],
    });
    expect(detectOne(s).fix.commands).toEqual([
      "kvmig cancel db-1 -n demo",
      "virtctl evacuate-cancel vmi db-1 -n demo",
      "kvmig restart db-1 -n demo",
    ]);
    const done = snap({
      vmi: vmi({ phase: "Running" }, bridgeSpec),
      migrations: [migration({ phase: "Failed" })],
      events: [syncFailed()],
    });
    expect(detectOne(done).fix.commands).toEqual(["kvmig restart db-1 -n demo"]);
  });
});
