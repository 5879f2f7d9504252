// migration-failed-unexplained's reasoning on hand-built snapshots: what it quotes (each launcher
// pod's state in words, the VMIM's and the VMI's failure fields, Warning events since the
// relevant migrations began, the last error lines of each launcher log, each line once), the
// next steps it lists (the logs of every launcher and virt-handler of every node it knows of),
// what it says it could not check, and its fixed words.

import { describe, expect, it } from "vitest";
import { migrationFailedUnexplained as rule } from "../../../src/diagnose/modes/migration-failed-unexplained.js";
import type { Evidence, Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { Pod, VirtualMachineInstanceMigration } from "../../../src/k8s/types.js";
import { ago, event, migration, ns, pod, snap, vmi } from "../../helpers/builders.js";

const UID = "bbbbbbbb-0000-4000-8000-000000000001";
const MIG = "VirtualMachineInstanceMigration/mig-1";
const SRC = "virt-launcher-db-1-src01";

function failed(
  extra: Record<string, unknown> = {},
  conditions?: unknown[],
): VirtualMachineInstanceMigration {
  return migration({
    name: "mig-1",
    uid: UID,
    phase: "Failed",
    created: ago(600),
    transitions: { Pending: ago(600), Running: ago(540), Failed: ago(480) },
    state: extra,
    ...(conditions ? { conditions } : {}),
  });
}

function launcher(name: string, node: string | undefined, status: Pod["status"], target = true): Pod {
  const p = pod(name, {
    labels: target ? { "kubevirt.io/migrationJobUID": UID } : {},
    spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: "compute", image: "launcher:1" }] },
  });
  if (status === undefined) delete p.status;
  else p.status = status;
  return p;
}

function s(parts: Partial<Snapshot> = {}): Snapshot {
  return snap({ vmi: vmi({ phase: "Running", nodeName: "node-1" }), ...parts });
}

function only(snapshot: Snapshot, earlier: Finding[] = []): Finding {
  const found = rule.detect(snapshot, earlier);
  expect(found).toHaveLength(1);
  return found[0] as Finding;
}

const handler = (node: string, kubevirtNs = "kubevirt") =>
  `kubectl logs -n ${kubevirtNs} $(kubectl get pods -n ${kubevirtNs} -l kubevirt.io=virt-handler --field-selector spec.nodeName=${node} -o name) --since=2h`;
const eventsCmd = "kubectl get events -n demo --field-selector involvedObject.name=db-1";
const dumpCmd = "kvmig diagnose db-1 -n demo --dump kvmig-dump-db-1";
const HANDLER_NOT_CHECKED = "virt-handler's logs on the source and target nodes (not part of a snapshot)";
const NO_EVENTS = "events (none in the snapshot: expired after an hour, or not read)";
const NO_LOGS = "the virt-launcher logs (the source's and the target's own error lines)";

function podLines(f: Finding): [string, string | undefined, string][] {
  return f.evidence.filter((e) => e.object.startsWith("Pod/")).map((e) => [e.object, e.field, e.text]);
}

describe("migration-failed-unexplained: its fixed words", () => {
  it("says what failed, that no mode explains it, and how to find out", () => {
    const f = only(s({ migrations: [failed()] }));
    expect(f).toMatchObject({
      id: "migration-failed-unexplained",
      title: "Migration failed, and no known failure mode explains it",
      severity: "error",
      confidence: "low",
      docs: "https://kubevirt.io/user-guide/debug_virt_stack/logging/",
    });
    expect(rule.specificity).toBe("fallback");
    expect(rule.severity).toBe("error");
    expect(rule.id).toBe(f.id);
    expect(f.summary).toBe(
      `${MIG} failed after Running. None of the known failure modes matches the evidence, so the cause is not named here: every piece of failure evidence found is quoted below. The launcher and virt-handler logs of both nodes usually say what happened.`,
    );
    expect(f.fix.explanation).toBe(
      "Read the source and target virt-launcher logs and virt-handler's log on both nodes around the failure time; " +
        "if the cause is still unclear, write the evidence to a directory with --dump and attach it to a bug report.",
    );
    expect(f.notChecked).toEqual([NO_EVENTS, NO_LOGS, HANDLER_NOT_CHECKED]);
  });

  it("joins several signals with semicolons", () => {
    const refused = { request: "PUT virtualmachines/db-1/migrate", status: 500, message: "boom" };
    const f = only(s({ migrations: [failed()], rejections: [refused] }));
    expect(f.summary).toMatch(
      new RegExp(
        `^${MIG} failed after Running; PUT virtualmachines/db-1/migrate was refused \\(HTTP 500\\)\\. None`,
      ),
    );
  });

  it("lists only the virt-handler logs as unchecked when events and launcher lines were read", () => {
    const f = only(
      s({
        migrations: [failed()],
        events: [event({ reason: "Started", type: "Normal", message: "ok", name: "other" })],
        logs: [{ namespace: ns, pod: SRC, container: "compute", lines: ["{}"] }],
      }),
    );
    expect(f.notChecked).toEqual([HANDLER_NOT_CHECKED]);
    // A log that holds no line is no log.
    const g = only(
      s({ migrations: [failed()], logs: [{ namespace: ns, pod: SRC, container: "compute", lines: [] }] }),
    );
    expect(g.notChecked).toEqual([NO_EVENTS, NO_LOGS, HANDLER_NOT_CHECKED]);
  });

  it("reports a VMIM that never got a status once it has waited past the Pending limit", () => {
    const bare = migration({ name: "mig-1", uid: UID, created: ago(1200) });
    delete bare.status;
    const f = only(s({ migrations: [bare] }));
    expect(f.summary).toMatch(new RegExp(`^${MIG} has been without a phase for 20 min\\.`));
  });
});

describe("migration-failed-unexplained: the launcher pods' state", () => {
  it("words each launcher's phase, node, deletion and container states, leaving out healthy ones", () => {
    const deleted = launcher("tgt-failed", "node-2", {
      phase: "Failed",
      containerStatuses: [
        { name: "compute", state: { terminated: { reason: "Error", exitCode: 1, message: "qemu died" } } },
      ] as never,
    });
    deleted.metadata.deletionTimestamp = ago(470);
    const noSpec = launcher("tgt-nospec", undefined, { phase: "Failed" });
    delete noSpec.spec;
    const pods = [
      launcher(
        SRC,
        "node-1",
        {
          phase: "Running",
          containerStatuses: [
            {
              name: "compute",
              state: { running: {} },
              lastState: { terminated: { reason: "OOMKilled", exitCode: 137 } },
            },
          ] as never,
        },
        false,
      ),
      deleted,
      launcher("tgt-pending", undefined, {
        phase: "Pending",
        containerStatuses: [
          { name: "compute", state: { waiting: { reason: "ContainerCreating", message: "pulling image" } } },
          { name: "hotplug", state: { waiting: { reason: "ErrImagePull" } } },
          { name: "idle", state: { waiting: {} } },
        ] as never,
      }),
      launcher("tgt-healthy", "node-3", {
        phase: "Running",
        containerStatuses: [{ name: "compute", state: { running: {} } }] as never,
      }),
      launcher("tgt-nophase", undefined, {
        containerStatuses: [{ name: "compute", state: { terminated: {} } }] as never,
      }),
      launcher("tgt-nostatus", "node-5", undefined),
      launcher("tgt-empty", undefined, {}),
      launcher("tgt-restarted", "node-6", {
        phase: "Running",
        containerStatuses: [
          { name: "compute", lastState: { terminated: { reason: "Error", exitCode: 2 } } },
          { name: "sidecar" },
        ] as never,
      }),
      noSpec,
      launcher("tgt-done", "node-4", { phase: "Succeeded" }),
    ];
    const f = only(s({ migrations: [failed({ sourcePod: SRC })], pods }));
    expect(podLines(f)).toEqual([
      [`Pod/${SRC}`, "status", "Running on node-1; compute terminated: OOMKilled (exit code 137)"],
      [
        "Pod/tgt-failed",
        "status",
        "Failed on node-2, being deleted; compute terminated: Error (exit code 1): qemu died",
      ],
      [
        "Pod/tgt-pending",
        "status",
        "Pending, not scheduled; compute waiting: ContainerCreating: pulling image; hotplug waiting: ErrImagePull",
      ],
      ["Pod/tgt-nophase", "status", "no phase, not scheduled; compute terminated: ? (exit code ?)"],
      ["Pod/tgt-restarted", "status", "Running on node-6; compute terminated: Error (exit code 2)"],
      ["Pod/tgt-nospec", "status", "Failed, not scheduled"],
      ["Pod/tgt-done", "status", "Succeeded on node-4"],
    ]);
  });

  it("reads the launchers the VMI's migrationState names", () => {
    const pods = [
      launcher("state-src", "node-1", { phase: "Failed" }, false),
      launcher("state-tgt", "node-2", { phase: "Failed" }, false),
    ];
    const state = {
      migrationUid: "gone",
      failed: true,
      sourcePod: "state-src",
      targetPod: "state-tgt",
      endTimestamp: ago(100),
    };
    const f = only(s({ vmi: vmi({ phase: "Running", nodeName: "node-1", migrationState: state }), pods }));
    expect(podLines(f)).toEqual([
      ["Pod/state-src", "status", "Failed on node-1"],
      ["Pod/state-tgt", "status", "Failed on node-2"],
    ]);
    expect(f.fix.commands).toEqual([
      "kubectl logs state-src -n demo -c compute",
      "kubectl logs state-tgt -n demo -c compute",
      handler("node-1"),
      handler("node-2"),
      eventsCmd,
      dumpCmd,
    ]);
  });
});

describe("migration-failed-unexplained: the failure fields", () => {
  it("quotes the VMIM's failureReason and each True condition, and the VMI's own failureReason", () => {
    const m = failed({ failureReason: "Boom" }, [
      { type: "Odd", status: "True", reason: "Boom", lastTransitionTime: ago(481) },
      { type: "Wordy", status: "True", reason: "Why", message: "because" },
      { type: "OnlyMessage", status: "True", message: "just this" },
      { type: "Bare", status: "True" },
      { type: "Off", status: "False", reason: "Nope" },
    ]);
    const state = { migrationUid: UID, failed: true, failureReason: "VMI says so", endTimestamp: ago(479) };
    const f = only(
      s({ vmi: vmi({ phase: "Running", nodeName: "node-1", migrationState: state }), migrations: [m] }),
    );
    const fields: Evidence[] = f.evidence.filter((e) => e.field !== "status.phaseTransitionTimestamps");
    expect(fields).toEqual([
      { object: MIG, field: "status.migrationState.failureReason", text: "Boom" },
      { object: MIG, field: "status.conditions[Odd]", time: ago(481), text: "Boom" },
      { object: MIG, field: "status.conditions[Wordy]", time: undefined, text: "Why: because" },
      { object: MIG, field: "status.conditions[OnlyMessage]", time: undefined, text: "just this" },
      { object: MIG, field: "status.conditions[Bare]", time: undefined, text: "True" },
      {
        object: "VirtualMachineInstance/db-1",
        field: "status.migrationState.failureReason",
        time: ago(479),
        text: "VMI says so",
      },
    ]);
  });
});

describe("migration-failed-unexplained: the events", () => {
  it("quotes Warning events on the VM, its migration and its launchers since the migration was created", () => {
    const events = [
      event({ reason: "Early", message: "before the migration", lastTimestamp: ago(601) }),
      event({ reason: "AtStart", message: "as it was created", lastTimestamp: ago(600) }),
      event({
        reason: "OnVmim",
        message: "on the VMIM",
        kind: "VirtualMachineInstanceMigration",
        name: "mig-1",
      }),
      event({ reason: "OnPod", message: "on the target", kind: "Pod", name: "tgt-1" }),
      event({ reason: "OnSource", message: "on the source", kind: "Pod", name: SRC }),
      event({ reason: "Quiet", message: "", kind: "Pod", name: "tgt-1" }),
      event({ reason: "Fine", type: "Normal", message: "a normal event" }),
      event({ reason: "Other", message: "about another pod", kind: "Pod", name: "elsewhere" }),
    ];
    const pods = [
      launcher(SRC, "node-1", { phase: "Running" }, false),
      launcher("tgt-1", "node-2", { phase: "Running" }),
    ];
    const f = only(s({ migrations: [failed({ sourcePod: SRC })], pods, events }));
    expect(
      f.evidence.filter((e) => e.field?.startsWith("event")).map((e) => [e.object, e.field, e.text]),
    ).toEqual([
      ["VirtualMachineInstance/db-1", "event AtStart", "as it was created"],
      ["VirtualMachineInstanceMigration/mig-1", "event OnVmim", "on the VMIM"],
      ["Pod/tgt-1", "event OnPod", "on the target"],
      [`Pod/${SRC}`, "event OnSource", "on the source"],
      ["Pod/tgt-1", "event Quiet", "(no message)"],
    ]);
  });

  it("quotes an event once even when a signal quoted it already", () => {
    const migrated = event({ reason: "Migrated", message: "VirtualMachineInstance migration uid x failed." });
    const f = only(s({ events: [migrated] }));
    expect(f.evidence).toEqual([
      {
        object: "VirtualMachineInstance/db-1",
        field: "event Migrated",
        time: ago(60),
        text: "VirtualMachineInstance migration uid x failed.",
      },
    ]);
  });
});

describe("migration-failed-unexplained: the launcher log lines", () => {
  it("quotes the last three error lines of each launcher, by level or, without one, by wording", () => {
    const json = (level: string, msg: string) => JSON.stringify({ level, msg });
    const logs: Snapshot["logs"] = [
      {
        namespace: ns,
        pod: SRC,
        container: "compute",
        lines: [
          json("error", `Migration info for ${UID}: TimeElapsed:100ms`),
          "error: Migration info for the record failed",
          "the dial timed out",
          "connection timeout",
          "all is well",
          json("info", "an error reported at info level"),
        ],
      },
      {
        namespace: ns,
        pod: "tgt-1",
        container: "compute",
        lines: [json("error", "only one")],
      },
    ];
    const f = only(s({ migrations: [failed()], logs }));
    expect(f.evidence.filter((e) => e.field?.startsWith("log")).map((e) => [e.object, e.text])).toEqual([
      [`Pod/${SRC}`, "error: Migration info for the record failed"],
      [`Pod/${SRC}`, "the dial timed out"],
      [`Pod/${SRC}`, "connection timeout"],
      ["Pod/tgt-1", "only one"],
    ]);
  });
});

describe("migration-failed-unexplained: the next steps", () => {
  it("reads every launcher's log and virt-handler's on every node it knows of, once each", () => {
    const pods = [
      launcher(SRC, "node-1", { phase: "Running" }, false),
      launcher("tgt-1", "node-3", { phase: "Failed" }),
      launcher("tgt-2", undefined, { phase: "Failed" }),
    ];
    const m = failed({ sourcePod: SRC, sourceNode: "node-1", targetNode: "node-2" });
    const f = only(
      s({
        migrations: [m],
        pods,
        kubevirt: { metadata: { name: "kubevirt", namespace: "kubevirt-system" }, spec: {} } as never,
      }),
    );
    expect(f.fix.commands).toEqual([
      `kubectl logs ${SRC} -n demo -c compute`,
      "kubectl logs tgt-1 -n demo -c compute",
      "kubectl logs tgt-2 -n demo -c compute",
      handler("node-1", "kubevirt-system"),
      handler("node-2", "kubevirt-system"),
      handler("node-3", "kubevirt-system"),
      eventsCmd,
      dumpCmd,
    ]);
  });

  it("lists the VM's pods when no launcher is known, and the VMI's node", () => {
    const f = only(s({ migrations: [failed()] }));
    expect(f.fix.commands).toEqual([
      "kubectl get pods -n demo -o wide -l vm.kubevirt.io/name=db-1",
      handler("node-1"),
      eventsCmd,
      dumpCmd,
    ]);
  });

  it("takes the nodes of the VMI's migrationState", () => {
    const state = {
      migrationUid: "gone",
      failed: true,
      sourceNode: "node-7",
      targetNode: "node-8",
      endTimestamp: ago(100),
    };
    const f = only(s({ vmi: vmi({ phase: "Running", migrationState: state }) }));
    expect(f.fix.commands).toEqual([
      "kubectl get pods -n demo -o wide -l vm.kubevirt.io/name=db-1",
      handler("node-7"),
      handler("node-8"),
      eventsCmd,
      dumpCmd,
    ]);
  });
});

describe("migration-failed-unexplained: odd shapes", () => {
  it("reads a VMI without a status", () => {
    const bare = vmi();
    delete bare.status;
    const f = only(s({ vmi: bare, migrations: [failed()] }));
    expect(f.fix.commands).toEqual([
      "kubectl get pods -n demo -o wide -l vm.kubevirt.io/name=db-1",
      eventsCmd,
      dumpCmd,
    ]);
  });

  it("looks up each launcher's own node", () => {
    const pods = [
      launcher(SRC, "node-5", { phase: "Running" }, false),
      launcher("tgt-1", "node-6", { phase: "Failed" }),
    ];
    const f = only(s({ migrations: [failed({ sourcePod: SRC })], pods }));
    expect(f.fix.commands.filter((c) => c.startsWith("kubectl logs -n kubevirt"))).toEqual([
      handler("node-1"),
      handler("node-5"),
      handler("node-6"),
    ]);
  });

  it("is not silenced by an earlier finding of its own", () => {
    const mine = only(s({ migrations: [failed()] }));
    expect(rule.detect(s({ migrations: [failed()] }), [mine])).toHaveLength(1);
  });
});

describe("migration-failed-unexplained: without a VMI", () => {
  it("still reports the failed migration, listing the VM's pods to look at", () => {
    const f = only(snap({ migrations: [failed()] }));
    expect(f.summary).toMatch(new RegExp(`^${MIG} failed after Running\\.`));
    expect(f.fix.commands).toEqual([
      "kubectl get pods -n demo -o wide -l vm.kubevirt.io/name=db-1",
      eventsCmd,
      dumpCmd,
    ]);
  });
});
