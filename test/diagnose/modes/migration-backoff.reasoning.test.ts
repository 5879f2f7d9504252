// migration-backoff's reasoning on hand-built snapshots: what makes a backoff loop (MigrationBackoff
// warnings, or two failed controller migrations since the last success; a user's own migrations
// never count), who drives it (a drain or the workload updater), the delay it quotes, the root
// cause it links (causedBy) or the failure reasons it quotes, and its confidence and commands.

import { describe, expect, it } from "vitest";
import { migrationBackoff } from "../../../src/diagnose/modes/migration-backoff.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { ago, event, migration, snap, vmi } from "../../helpers/builders.js";

const evacuation = { "kubevirt.io/evacuationMigration": "node-1" };
const workload = { "kubevirt.io/workloadUpdateMigration": "" };

function failed(
  n: number,
  annotations: Record<string, string> = evacuation,
  reason = "boom",
): VirtualMachineInstanceMigration {
  return migration({
    name: `mig-${n}`,
    uid: `uid-${n}`,
    phase: "Failed",
    created: ago(2000 - n * 100),
    transitions: { Failed: ago(1950 - n * 100) },
    annotations,
    ...(reason ? { state: { failed: true, failureReason: reason } } : {}),
  });
}

const backoff = (at = ago(30), message = "backoff migrating vmi demo/db-1") =>
  event({ reason: "MigrationBackoff", message, lastTimestamp: at });

function detectOne(s: Snapshot): Finding {
  const findings = migrationBackoff.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const evacuating = vmi({
  phase: "Running",
  evacuationNodeName: "node-1",
} as VirtualMachineInstance["status"]);

describe("migration-backoff reasoning", () => {
  it("a drain whose attempts fail for a reason no rule explains: the whole finding", () => {
    const waiting = migration({
      name: "mig-w",
      uid: "uid-w",
      phase: "Pending",
      created: ago(20),
      annotations: evacuation,
    });
    const s = snap({
      vmi: evacuating,
      migrations: [failed(1), failed(2, evacuation, "kaboom"), waiting],
      events: [backoff(ago(600)), backoff(ago(30))],
    });
    expect(detectOne(s)).toEqual({
      id: "migration-backoff",
      title: "Migrations keep failing and are backed off",
      severity: "warning",
      confidence: "high",
      summary:
        '2 evacuation migrations of db-1 failed in a row; the evacuation controller (a drain of node-1) keeps creating new ones and virt-controller delays each (20 s after the first failure, doubling, about 40 s now), with MigrationBackoff warnings on the VMI. The attempts failed with: "boom"; "kaboom". The drain cannot finish until the VM leaves the node.',
      evidence: [
        {
          object: "VirtualMachineInstance/db-1",
          field: "event MigrationBackoff",
          time: ago(30),
          text: "backoff migrating vmi demo/db-1",
        },
        {
          object: "VirtualMachineInstanceMigration/mig-1",
          field: "status.phase",
          time: ago(1850),
          text: "Failed (evacuation migration)",
        },
        {
          object: "VirtualMachineInstanceMigration/mig-2",
          field: "status.phase",
          time: ago(1750),
          text: "Failed (evacuation migration)",
        },
        {
          object: "VirtualMachineInstanceMigration/mig-w",
          field: "status.phase",
          time: ago(20),
          text: "Pending (evacuation migration, waiting)",
        },
        { object: "VirtualMachineInstance/db-1", field: "status.evacuationNodeName", text: "node-1" },
        {
          object: "VirtualMachineInstanceMigration/mig-2",
          field: "status.migrationState.failureReason",
          time: ago(1750),
          text: "kaboom",
        },
      ],
      fix: {
        explanation:
          "Find out why the attempts fail before letting them continue. Cancel the waiting migration; cancelling a VMIM is not enough while the VMI keeps status.evacuationNodeName (the controller recreates it), so cancel the evacuation too, or restart the VM to take it off the node.",
        commands: [
          "kubectl get vmim -n demo -l kubevirt.io/vmi-name=db-1",
          "kvmig cancel db-1 -n demo",
          "virtctl evacuate-cancel vmi db-1 -n demo",
        ],
      },
      docs: "https://kubevirt.io/user-guide/cluster_admin/node_maintenance/",
      notChecked: undefined,
      causedBy: undefined,
    });
  });

  it("needs MigrationBackoff warnings or two failed controller migrations", () => {
    expect(migrationBackoff.detect(snap({ migrations: [failed(1)] }))).toEqual([]);
    expect(migrationBackoff.detect(snap({ migrations: [failed(1), failed(2)] }))).toHaveLength(1);
    expect(migrationBackoff.detect(snap({ migrations: [failed(1)], events: [backoff()] }))).toHaveLength(1);
    // A Normal MigrationBackoff event does not count.
    expect(
      migrationBackoff.detect(snap({ migrations: [failed(1)], events: [{ ...backoff(), type: "Normal" }] })),
    ).toEqual([]);
    // A user's migrations never count.
    expect(migrationBackoff.detect(snap({ migrations: [failed(1, {}), failed(2, {})] }))).toEqual([]);
  });

  it("counts only what happened since the last successful controller migration", () => {
    const success = (at: number, annotations: Record<string, string> = evacuation) =>
      migration({
        name: "mig-ok",
        uid: "uid-ok",
        phase: "Succeeded",
        created: ago(at + 50),
        transitions: { Succeeded: ago(at) },
        annotations,
      });
    // Both failures before the success: nothing.
    expect(migrationBackoff.detect(snap({ migrations: [failed(1), failed(2), success(100)] }))).toEqual([]);
    // The backoff warning before the success: nothing.
    expect(
      migrationBackoff.detect(snap({ migrations: [success(100)], events: [backoff(ago(200))] })),
    ).toEqual([]);
    expect(
      migrationBackoff.detect(snap({ migrations: [success(100)], events: [backoff(ago(50))] })),
    ).toHaveLength(1);
    // A user's success does not end the loop.
    expect(
      migrationBackoff.detect(snap({ migrations: [failed(1), failed(2), success(100, {})] })),
    ).toHaveLength(1);
    // A failure ending exactly at the success counts.
    const atSuccess = migration({
      name: "mig-x",
      phase: "Failed",
      created: ago(300),
      transitions: { Failed: ago(100) },
      annotations: evacuation,
    });
    expect(
      detectOne(snap({ migrations: [success(100), atSuccess], events: [backoff(ago(50))] })).summary,
    ).toMatch(/^1 evacuation migration of db-1 failed in a row;/);
  });

  it("the workload updater's loop, and the delay doubling with each failure", () => {
    const s = (n: number) =>
      detectOne(
        snap({ migrations: [1, 2, 3, 4].slice(0, n).map((i) => failed(i, workload)), events: [backoff()] }),
      ).summary;
    expect(s(1)).toMatch(
      /^1 workload-update migration of db-1 failed in a row; the workload updater \(outdated virt-launcher after an upgrade\) keeps creating new ones and virt-controller delays each \(20 s after the first failure, doubling, about 20 s now\)/,
    );
    expect(s(3)).toContain("3 workload-update migrations of db-1 failed in a row");
    expect(s(3)).toContain("about 80 s now");
    expect(s(4)).toContain("about 3 min now");
    expect(s(4)).not.toContain("The drain cannot finish");
    const f = detectOne(
      snap({ migrations: [failed(1, workload), failed(2, workload)], events: [backoff()] }),
    );
    expect(f.fix.explanation).toBe(
      "Find out why the attempts fail before letting them continue. Cancel the waiting migration, or restart the VM so that it runs on the current launcher.",
    );
    expect(f.fix.commands).toEqual(["kubectl get vmim -n demo -l kubevirt.io/vmi-name=db-1"]);
  });

  it("backoff warnings with no failed VMIM kept: held back, medium, says what is missing", () => {
    const f = detectOne(snap({ events: [backoff()] }));
    expect(f.confidence).toBe("medium");
    expect(f.summary).toBe(
      "Migrations of db-1 are being held back; KubeVirt's evacuation or workload-update controller keeps creating new ones and virt-controller delays each (20 s after the first failure, doubling, about 20 s now), with MigrationBackoff warnings on the VMI. Why the attempts failed could not be determined.",
    );
    expect(f.notChecked).toEqual([
      "why the attempts failed: no failureReason on the VMIMs or the VMI, and no failure events",
      "the failed VMIMs themselves (none kept: garbage-collected or not gathered)",
    ]);
  });

  it("failures without backoff warnings: medium, and says the warnings were not found", () => {
    const f = detectOne(
      snap({
        vmi: evacuating,
        migrations: [failed(1), failed(2)],
        events: [event({ reason: "Other", type: "Normal", message: "x" })],
      }),
    );
    expect(f.confidence).toBe("medium");
    expect(f.notChecked).toEqual([
      "MigrationBackoff events (none found: expired after an hour, or not gathered)",
    ]);
    expect(f.summary).toContain("about 40 s now). The attempts failed with");
    // No events at all: medium too.
    const g = detectOne(snap({ migrations: [failed(1), failed(2)] }));
    expect(g.confidence).toBe("medium");
  });

  it("the drain's node: the VMI's, else the evacuation annotation, else 'its node'", () => {
    const who = (s: Snapshot) => /; (.*?) keeps creating/.exec(detectOne(s).summary)?.[1];
    expect(
      who(snap({ migrations: [failed(1, { "kubevirt.io/evacuationMigration": "node-7" }), failed(2)] })),
    ).toBe("the evacuation controller (a drain of node-7)");
    expect(
      who(
        snap({
          migrations: [
            failed(1, { "kubevirt.io/evacuationMigration": "" }),
            failed(2, { "kubevirt.io/evacuationMigration": "" }),
          ],
        }),
      ),
    ).toBe("the evacuation controller (a drain of its node)");
    // The VMI's evacuation node makes it a drain even when the VMIMs are the workload updater's.
    expect(who(snap({ vmi: evacuating, migrations: [failed(1, workload), failed(2, workload)] }))).toBe(
      "the evacuation controller (a drain of node-1)",
    );
  });

  it("a mark KubeVirt does not migrate for (strategy External or None, from the VMI or the KubeVirt CR) is no drain: the workload updater's loop", () => {
    const marked = (evictionStrategy?: "External" | "None" | "LiveMigrate") =>
      vmi(
        {
          phase: "Running",
          evacuationNodeName: "node-1",
          conditions: [{ type: "LiveMigratable", status: "True" }],
        } as VirtualMachineInstance["status"],
        evictionStrategy ? { evictionStrategy } : {},
      );
    const migrations = [failed(1, workload), failed(2, workload)];
    const external = detectOne(snap({ vmi: marked("External"), migrations, events: [backoff()] }));
    expect(external.summary).toBe(
      '2 workload-update migrations of db-1 failed in a row; the workload updater (outdated virt-launcher after an upgrade) keeps creating new ones and virt-controller delays each (20 s after the first failure, doubling, about 40 s now), with MigrationBackoff warnings on the VMI. The attempts failed with: "boom". db-1 is marked for evacuation from node-1, but KubeVirt does not migrate it for that (eviction strategy External).',
    );
    expect(external.fix.explanation).toBe(
      "Find out why the attempts fail before letting them continue. Cancel the waiting migration, or restart the VM so that it runs on the current launcher.",
    );
    expect(external.fix.commands).not.toContain("virtctl evacuate-cancel vmi db-1 -n demo");
    // No strategy on the VMI and none in the KubeVirt CR: None.
    const kubevirt = {
      apiVersion: "kubevirt.io/v1",
      kind: "KubeVirt",
      metadata: { name: "kubevirt" },
      spec: {},
    };
    const none = detectOne(snap({ vmi: marked(), kubevirt, migrations, events: [backoff()] }));
    expect(none.summary).toMatch(/; the workload updater .* \(eviction strategy None\)\.$/);
    // The CR's LiveMigrate makes the same mark a drain.
    const clusterWide = {
      ...kubevirt,
      spec: { configuration: { evictionStrategy: "LiveMigrate" as const } },
    };
    const drained = detectOne(
      snap({ vmi: marked(), kubevirt: clusterWide, migrations, events: [backoff()] }),
    );
    expect(drained.summary).toMatch(/; the evacuation controller \(a drain of node-1\) keeps creating/);
    expect(drained.fix.commands).toContain("virtctl evacuate-cancel vmi db-1 -n demo");
  });

  it("quotes at most three distinct reasons, without the generic controller line", () => {
    const migs = [
      failed(1, evacuation, "r1"),
      failed(2, evacuation, "r2"),
      failed(3, evacuation, "source node reported migration failed"),
      failed(4, evacuation, "r1"),
      failed(5, evacuation, "r3"),
      failed(6, evacuation, "r4"),
    ];
    const f = detectOne(snap({ migrations: migs, events: [backoff()] }));
    expect(f.summary).toContain('The attempts failed with: "r1"; "r2"; "r3".');
    // The Migrated event's wrapper is taken off.
    const wrapped = event({
      reason: "Migrated",
      message: "VirtualMachineInstance migration uid uid-1 failed. reason: disk full",
    });
    const g = detectOne(
      snap({
        migrations: [failed(1, evacuation, ""), failed(2, evacuation, "")],
        events: [backoff(), wrapped],
      }),
    );
    expect(g.summary).toContain('The attempts failed with: "disk full".');
  });

  it("quotes up to three texts of the newest attempt", () => {
    const events = [1, 2, 3].map((i) =>
      event({
        kind: "VirtualMachineInstanceMigration",
        name: "mig-2",
        reason: "FailedMigration",
        message: `fail ${i}`,
      }),
    );
    const f = detectOne(snap({ migrations: [failed(1), failed(2)], events: [backoff(), ...events] }));
    expect(f.evidence.slice(-3).map((e) => e.text)).toEqual(["boom", "fail 1", "fail 2"]);
  });

  it("names the root cause another rule finds, and points at it", () => {
    const vifText = "open /var/run/kubevirt-private/vif-cache-default.json: no such file or directory";
    const s = snap({
      vmi: evacuating,
      migrations: [failed(1, evacuation, vifText), failed(2, evacuation, vifText)],
      events: [backoff()],
    });
    const f = detectOne(s);
    expect(f.causedBy).toBe("vif-cache-missing");
    expect(f.summary).toContain(
      "The attempts fail for the reason reported above: Migration target has no vif-cache for a bridge interface (vif-cache-missing).",
    );
    expect(f.fix.explanation).toMatch(
      /^Fix the root cause \(vif-cache-missing\) first: new attempts will fail until then\. Cancel/,
    );
    expect(f.fix.commands).toEqual([
      "kubectl get vmim -n demo -l kubevirt.io/vmi-name=db-1",
      "virtctl evacuate-cancel vmi db-1 -n demo",
      "kvmig diagnose db-1 -n demo --only vif-cache-missing",
    ]);
    expect(f.notChecked).toBeUndefined();
  });

  it("an unfinished migration without a phase is shown as such", () => {
    const noPhase = migration({ name: "mig-n", uid: "uid-n", created: ago(10), annotations: workload });
    const f = detectOne(
      snap({ migrations: [failed(1, workload), failed(2, workload), noPhase], events: [backoff()] }),
    );
    expect(f.evidence).toContainEqual({
      object: "VirtualMachineInstanceMigration/mig-n",
      field: "status.phase",
      time: ago(10),
      text: "(no phase yet) (workload-update migration, waiting)",
    });
    expect(f.fix.commands).toContain("kvmig cancel db-1 -n demo");
    // A user's unfinished migration is not the waiting one.
    const users = migration({ name: "mig-u", uid: "uid-u", phase: "Running", created: ago(10) });
    const g = detectOne(
      snap({ migrations: [failed(1, workload), failed(2, workload), users], events: [backoff()] }),
    );
    expect(g.fix.commands).not.toContain("kvmig cancel db-1 -n demo");
  });
});
