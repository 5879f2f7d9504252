// stuck-migration's reasoning on hand-built snapshots: the limits per phase and their exact
// boundaries (Running past the completion and progress timeouts plus 300 s, or an hour without
// the guest's size; the launcher's progress lines silent for 300 s; a preparing phase over 600 s;
// Pending over an hour), the cancel that does not complete after 120 s, which phase time is read,
// the confidence for what was and was not read, the evidence, summary and fix word for word.

import { describe, expect, it } from "vitest";
import { stuckMigration } from "../../../src/diagnose/modes/stuck-migration.js";
import type { Finding, Snapshot } from "../../../src/diagnose/types.js";
import type {
  Node,
  Pod,
  VirtualMachineInstanceMigration,
  VirtualMachineInstanceMigrationState,
} from "../../../src/k8s/types.js";
import { ago, migration, ns, pod, snap, vmi } from "../../helpers/builders.js";

const UID = "bbbbbbbb-0000-4000-8000-000000000001";
const MIG = "VirtualMachineInstanceMigration/mig-1";
const TGT = "virt-launcher-db-1-tgt01";
const SRC = "virt-launcher-db-1-src01";
const CANCEL = "kvmig cancel db-1 -n demo";
const WATCH = "kvmig watch db-1 -n demo";
const RESTART = "kvmig restart db-1 -n demo";
const NO_LOG = "the source virt-launcher log (whether the migration still reports progress)";
/** 2 GiB: KubeVirt lets it run 2 × 150 s + 150 s = 450 s ("8 min"). */
const SIZED = { domain: { memory: { guest: "2Gi" } } } as never;

function inPhase(phase: string, seconds: number, extra: Partial<Parameters<typeof migration>[0]> = {}) {
  return migration({
    name: "mig-1",
    uid: UID,
    phase,
    created: ago(seconds + 30),
    transitions: { Pending: ago(seconds + 30), [phase]: ago(seconds) },
    ...extra,
  });
}

function s(
  parts: Partial<Snapshot> = {},
  sized = true,
  state?: VirtualMachineInstanceMigrationState,
): Snapshot {
  return snap({
    vmi: vmi(
      { phase: "Running", nodeName: "node-1", ...(state ? { migrationState: state } : {}) },
      sized ? SIZED : {},
    ),
    ...parts,
  });
}

function progress(at: string | undefined, uid = UID): string {
  return JSON.stringify({
    level: "info",
    msg: `Migration info for ${uid}: TimeElapsed:120000ms DataProcessed:1024MiB DataRemaining:512MiB DataTotal:2048MiB MemoryBandwidth:80Mbps DirtyRate:90Mbps Iteration:7`,
    ...(at ? { timestamp: at } : {}),
  });
}

function logs(lines: string[]): Snapshot["logs"] {
  return [{ namespace: ns, pod: SRC, container: "compute", lines }];
}

function only(snapshot: Snapshot): Finding {
  const found = stuckMigration.detect(snapshot);
  expect(found).toHaveLength(1);
  return found[0] as Finding;
}

function target(status?: Pod["status"], node?: string): Pod {
  const p = pod(TGT, {
    labels: { "kubevirt.io/migrationJobUID": UID },
    spec: { ...(node ? { nodeName: node } : {}), containers: [] },
  });
  if (status) p.status = status;
  else delete p.status;
  return p;
}

const silentFix = {
  explanation:
    "Cancel the migration (the VM stays on its source node); if the cancel does not complete either, restart the VM (downtime). Then look at virt-handler and virt-launcher on both nodes before migrating again.",
  commands: [CANCEL, RESTART],
};

describe("stuck-migration: Running without the launcher's log", () => {
  it("waits for the completion and progress timeouts plus 300 s, then says so word for word", () => {
    expect(stuckMigration.detect(s({ migrations: [inPhase("Running", 749)] }))).toEqual([]);
    const f = only(s({ migrations: [inPhase("Running", 750)] }));
    expect(f).toEqual({
      id: "stuck-migration",
      title: "Migration is stuck",
      severity: "error",
      confidence: "medium",
      summary: `${MIG} has been Running for 13 min with nothing moving: its launcher log was not read, and it has run longer than the 8 min after which virt-launcher aborts a migration by itself.`,
      evidence: [
        {
          object: MIG,
          field: "status.phaseTransitionTimestamps",
          time: ago(750),
          text: "Running since 13 min before the snapshot, no later phase",
        },
      ],
      fix: silentFix,
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: [NO_LOG],
      causedBy: undefined,
    });
    expect(stuckMigration.specificity).toBe("pattern");
  });

  it("without the guest's size waits an hour, and is low", () => {
    expect(stuckMigration.detect(s({ migrations: [inPhase("Running", 3599)] }, false))).toEqual([]);
    const f = only(s({ migrations: [inPhase("Running", 3600)] }, false));
    expect(f.confidence).toBe("low");
    expect(f.summary).toBe(
      `${MIG} has been Running for 60 min with nothing moving: its launcher log was not read.`,
    );
    expect(f.notChecked).toEqual([NO_LOG]);
  });

  it("with launcher logs that hold no progress line for it, is medium and misses nothing", () => {
    const other = logs([progress(ago(10), "another-migration"), '{"level":"info","msg":"hello"}']);
    const f = only(s({ migrations: [inPhase("Running", 750)], logs: other }));
    expect(f.confidence).toBe("medium");
    expect(f.summary).toBe(
      `${MIG} has been Running for 13 min with nothing moving: the launcher logs that were read hold no progress line for it, and it has run longer than the 8 min after which virt-launcher aborts a migration by itself.`,
    );
    expect(f.notChecked).toBeUndefined();
    // A log without lines was not read.
    const empty: Snapshot["logs"] = [{ namespace: ns, pod: SRC, container: "compute", lines: [] }];
    expect(only(s({ migrations: [inPhase("Running", 750)], logs: empty })).notChecked).toEqual([NO_LOG]);
  });

  it("adds the VMI's migrationState when it is about this migration", () => {
    const state = { migrationUid: UID, startTimestamp: ago(750), mode: "PreCopy" } as never;
    const f = only(s({ migrations: [inPhase("Running", 750)] }, true, state));
    expect(f.evidence[1]).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "status.migrationState",
      text: `startTimestamp: ${ago(750)}, completed: false, failed: false, mode: PreCopy`,
    });
    const done = { migrationUid: UID, completed: true, failed: true } as never;
    expect(only(s({ migrations: [inPhase("Running", 750)] }, true, done)).evidence[1]?.text).toBe(
      "startTimestamp: unset, completed: true, failed: true, mode: unset",
    );
    const other = { migrationUid: "other", startTimestamp: ago(750) } as never;
    expect(only(s({ migrations: [inPhase("Running", 750)] }, true, other)).evidence).toHaveLength(1);
  });
});

describe("stuck-migration: Running with the launcher's progress lines", () => {
  it("is stuck once the last progress line is 300 s old, and high", () => {
    const quiet = (seconds: number) =>
      s({ migrations: [inPhase("Running", 400)], logs: logs([progress(ago(1000)), progress(ago(seconds))]) });
    expect(stuckMigration.detect(quiet(299))).toEqual([]);
    const f = only(quiet(300));
    expect(f.confidence).toBe("high");
    expect(f.summary).toBe(
      `${MIG} has been Running for 7 min with nothing moving: the source launcher's last progress line is 5 min old.`,
    );
    expect(f.evidence[1]).toMatchObject({ object: `Pod/${SRC}`, field: "log compute", time: ago(300) });
    expect(f.evidence[1]?.text).toMatch(new RegExp(`^Migration info for ${UID}: `));
    expect(f.notChecked).toBeUndefined();
  });

  it("says it ran past the timeouts only once it has run longer than they allow", () => {
    const at = (seconds: number) =>
      only(s({ migrations: [inPhase("Running", seconds)], logs: logs([progress(ago(300))]) })).summary;
    expect(at(450)).not.toContain("longer than");
    expect(at(451)).toContain(", and it has run longer than the 8 min after which virt-launcher aborts");
  });

  it("does not judge a progress line without a time, nor one of a newer line", () => {
    const untimed = s({ migrations: [inPhase("Running", 4000)], logs: logs([progress(undefined)]) });
    expect(stuckMigration.detect(untimed)).toEqual([]);
    const fresh = s({
      migrations: [inPhase("Running", 4000)],
      logs: logs([progress(ago(900)), progress(ago(10))]),
    });
    expect(stuckMigration.detect(fresh)).toEqual([]);
  });

  it("counts every progress line for a migration without a uid", () => {
    const noUid = inPhase("Running", 4000);
    delete noUid.metadata.uid;
    expect(
      stuckMigration.detect(s({ migrations: [noUid], logs: logs([progress(ago(10), "whatever")]) })),
    ).toEqual([]);
  });
});

describe("stuck-migration: the phases before the transfer", () => {
  it("stops waiting for virt-handler to prepare the target after 600 s, in each preparing phase", () => {
    for (const phase of ["Scheduled", "PreparingTarget", "TargetReady"]) {
      expect(stuckMigration.detect(s({ migrations: [inPhase(phase, 599)] })), phase).toEqual([]);
      const f = only(
        s({ migrations: [inPhase(phase, 600)], pods: [target({ phase: "Running" }, "node-2")] }),
      );
      expect(f.confidence).toBe("medium");
      expect(f.summary).toBe(
        `${MIG} has been ${phase} for 10 min with nothing moving: virt-handler normally prepares the target and starts the transfer within a minute.`,
      );
      expect(f.evidence).toEqual([
        {
          object: MIG,
          field: "status.phaseTransitionTimestamps",
          time: ago(600),
          text: `${phase} since 10 min before the snapshot, no later phase`,
        },
        { object: `Pod/${TGT}`, field: "status.phase", text: "Running on node-2" },
      ]);
      expect(f.fix).toEqual(silentFix);
      expect(f.notChecked).toBeUndefined();
    }
  });

  it("words a target pod without a status or a node", () => {
    const f = only(s({ migrations: [inPhase("Scheduled", 600)], pods: [target()] }));
    expect(f.evidence[1]).toEqual({ object: `Pod/${TGT}`, field: "status.phase", text: "unknown on ?" });
    expect(only(s({ migrations: [inPhase("Scheduled", 600)] })).evidence).toHaveLength(1);
  });

  it("leaves Scheduling to the target pod rules, however long", () => {
    expect(stuckMigration.detect(s({ migrations: [inPhase("Scheduling", 7200)] }))).toEqual([]);
  });

  it("dates the phase by its own transition, else the latest one, else the VMIM's creation", () => {
    const noOwn = migration({
      name: "mig-1",
      uid: UID,
      phase: "PreparingTarget",
      created: ago(2000),
      transitions: { Pending: ago(2000), Scheduled: ago(700) },
    });
    expect(only(s({ migrations: [noOwn] })).summary).toContain("has been PreparingTarget for 12 min");
    const none = migration({ name: "mig-1", uid: UID, phase: "TargetReady", created: ago(900) });
    expect(only(s({ migrations: [none] })).summary).toContain("has been TargetReady for 15 min");
    const own = migration({
      name: "mig-1",
      uid: UID,
      phase: "Scheduled",
      created: ago(2000),
      transitions: { Pending: ago(2000), Scheduled: ago(650), Scheduling: ago(1500) },
    });
    expect(only(s({ migrations: [own] })).summary).toContain("has been Scheduled for 11 min");
    const undated = migration({ name: "mig-1", uid: UID, phase: "TargetReady" });
    delete undated.metadata.creationTimestamp;
    expect(stuckMigration.detect(s({ migrations: [undated] }))).toEqual([]);
  });

  it("is stuck Pending after an hour", () => {
    expect(stuckMigration.detect(s({ migrations: [inPhase("Pending", 3599)] }))).toEqual([]);
    expect(only(s({ migrations: [inPhase("Pending", 3600)] })).evidence).toHaveLength(1);
  });

  it("looks at the newest unfinished migration only", () => {
    const stuck = inPhase("TargetReady", 900);
    const done = migration({ name: "mig-2", uid: "uid-2", phase: "Succeeded", created: ago(60) });
    expect(only(s({ migrations: [stuck, done] })).summary).toContain("has been TargetReady");
    const fresh = migration({ name: "mig-3", uid: "uid-3", phase: "Scheduled", created: ago(30) });
    expect(stuckMigration.detect(s({ migrations: [stuck, fresh] }))).toEqual([]);
    expect(stuckMigration.detect(s({ migrations: [done] }))).toEqual([]);
  });

  it("says virt-handler's disruption caused it when a node of the migration lost its virt-handler", () => {
    const node: Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "node-1", annotations: { "kubevirt.io/heartbeat": ago(600) } },
    } as Node;
    const f = only(s({ migrations: [inPhase("TargetReady", 900)], nodes: [node] }));
    expect(f.causedBy).toBe("handler-disruption");
    const alive = {
      ...node,
      metadata: { ...node.metadata, annotations: { "kubevirt.io/heartbeat": ago(30) } },
    };
    expect(only(s({ migrations: [inPhase("TargetReady", 900)], nodes: [alive] })).causedBy).toBeUndefined();
  });
});

describe("stuck-migration: a cancel that does not complete", () => {
  const deleted = (
    phase: string,
    seconds: number,
    finalizers?: string[],
  ): VirtualMachineInstanceMigration => {
    const m = inPhase(phase, 3000);
    m.metadata.deletionTimestamp = ago(seconds);
    if (finalizers) m.metadata.finalizers = finalizers;
    return m;
  };
  const abortCondition = (lastTransitionTime?: string, lastProbeTime?: string, status = "True") => ({
    type: "migrationAbortRequested",
    status,
    ...(lastTransitionTime ? { lastTransitionTime } : {}),
    ...(lastProbeTime ? { lastProbeTime } : {}),
  });

  it("waits 120 s after the VMIM was deleted, and says nothing else about a deleted VMIM before", () => {
    expect(stuckMigration.detect(s({ migrations: [deleted("Running", 119)] }))).toEqual([]);
    const f = only(
      s({ migrations: [deleted("Running", 120, ["kubevirt.io/migrationJobFinalize", "other"])] }),
    );
    expect(f.title).toBe("Migration cancel does not complete");
    expect(f.confidence).toBe("high");
    expect(f.summary).toBe(
      `The cancel of ${MIG} was requested 2 min ago and the migration is still Running: the source virt-handler has not reported the abort result.`,
    );
    expect(f.evidence).toEqual([
      {
        object: MIG,
        field: "metadata.deletionTimestamp",
        time: ago(120),
        text: "deleted (cancel requested) 2 min ago; finalizer kubevirt.io/migrationJobFinalize, other still holds it",
      },
      { object: MIG, field: "status.phase", text: "Running" },
    ]);
    expect(f.fix).toEqual({
      explanation:
        "Check virt-handler on the source node; if the abort still does not finish, restart the VM (downtime) to clear the migration.",
      commands: [WATCH, RESTART],
    });
    expect(f.docs).toBe("https://kubevirt.io/user-guide/compute/live_migration/");
    expect(f.notChecked).toBeUndefined();
    expect(f.causedBy).toBeUndefined();
  });

  it("says when no finalizer is named", () => {
    const f = only(s({ migrations: [deleted("Running", 300)] }));
    expect(f.evidence[0]?.text).toBe("deleted (cancel requested) 5 min ago; finalizer none still holds it");
  });

  it("reads the abort condition: requested at its transition (else its probe), dated by its probe", () => {
    const both = inPhase("Running", 100, { conditions: [abortCondition(ago(200), ago(150))] });
    const f = only(s({ migrations: [both] }));
    expect(f.summary).toContain("was requested 3 min ago and the migration is still Running");
    expect(f.evidence).toEqual([
      {
        object: MIG,
        field: "status.conditions[migrationAbortRequested]",
        time: ago(150),
        text: "True; phase still Running",
      },
    ]);
    const probeOnly = inPhase("Running", 100, { conditions: [abortCondition(undefined, ago(300))] });
    const g = only(s({ migrations: [probeOnly] }));
    expect(g.evidence[0]?.time).toBe(ago(300));
    expect(g.summary).toContain("was requested 5 min ago");
    const transitionOnly = inPhase("Running", 100, { conditions: [abortCondition(ago(140))] });
    expect(only(s({ migrations: [transitionOnly] })).evidence[0]?.time).toBe(ago(140));
  });

  it("ignores an abort condition that is not True or too fresh", () => {
    const notTrue = inPhase("Running", 100, { conditions: [abortCondition(ago(600), undefined, "False")] });
    expect(stuckMigration.detect(s({ migrations: [notTrue] }))).toEqual([]);
    const fresh = inPhase("Running", 100, { conditions: [abortCondition(ago(119))] });
    expect(stuckMigration.detect(s({ migrations: [fresh] }))).toEqual([]);
  });

  it("after the hand-off, quotes the VMI's abort state and says when virt-handler is still Aborting", () => {
    const state = { migrationUid: UID, abortRequested: true, abortStatus: "Aborting" } as never;
    const f = only(s({ migrations: [deleted("Running", 300)] }, true, state));
    expect(f.summary).toBe(
      `The cancel of ${MIG} was requested 5 min ago and the migration is still Running: virt-handler reports the abort as still Aborting.`,
    );
    expect(f.evidence).toContainEqual({
      object: "VirtualMachineInstance/db-1",
      field: "status.migrationState",
      text: "abortRequested: true, abortStatus: Aborting, completed: false",
    });
    const quiet = { migrationUid: UID, completed: true } as never;
    const g = only(s({ migrations: [deleted("Running", 300)] }, true, quiet));
    expect(g.evidence).toContainEqual({
      object: "VirtualMachineInstance/db-1",
      field: "status.migrationState",
      text: "abortRequested: false, abortStatus: unset, completed: true",
    });
    expect(g.summary).toMatch(/: the source virt-handler has not reported the abort result\.$/);
  });

  it("handed off, a Scheduled migration is not one cancelled before the target took over", () => {
    const state = { migrationUid: UID } as never;
    const f = only(
      s({ migrations: [deleted("Scheduled", 300)], pods: [target({ phase: "Pending" })] }, true, state),
    );
    expect(f.summary).toMatch(/: the source virt-handler has not reported the abort result\.$/);
    expect(f.fix.commands).toEqual([WATCH, RESTART]);
  });

  it("before the hand-off, blames kubevirt#2228 and deletes the target pod that holds it", () => {
    for (const phase of ["Pending", "Scheduling", "Scheduled"]) {
      const f = only(s({ migrations: [deleted(phase, 1800)], pods: [target({ phase: "Pending" })] }));
      expect(f.summary).toBe(
        `The cancel of ${MIG} was requested 30 min ago and the migration is still ${phase}: it was cancelled before the target took over, a case KubeVirt before v0.53 could not abort (kubevirt/kubevirt#2228).`,
      );
      expect(f.evidence.at(-1)).toEqual({
        object: `Pod/${TGT}`,
        field: "status.phase",
        text: "Pending, not scheduled",
      });
      expect(f.fix).toEqual({
        explanation:
          "Delete the migration's target pod so that the controller can finish the cancel; if the VMIM still hangs, restart the VM (downtime) and upgrade KubeVirt.",
        commands: [`kubectl delete pod ${TGT} -n demo`, WATCH, RESTART],
      });
    }
  });

  it("before the hand-off, keeps a running target pod, and words an unset phase", () => {
    const running = only(
      s({ migrations: [deleted("Scheduling", 600)], pods: [target({ phase: "Running" }, "node-2")] }),
    );
    expect(running.fix.commands).toEqual([WATCH, RESTART]);
    expect(running.evidence.at(-1)?.text).toBe("Running on node-2");
    const noPod = only(s({ migrations: [deleted("Scheduling", 600)] }));
    expect(noPod.fix.commands).toEqual([WATCH, RESTART]);
    const unset = deleted("Pending", 600);
    delete unset.status;
    const f = only(s({ migrations: [unset], pods: [target()] }));
    expect(f.summary).toContain("the migration is still unset: it was cancelled before the target took over");
    expect(f.evidence).toContainEqual({ object: MIG, field: "status.phase", text: "unset" });
    expect(f.evidence.at(-1)).toEqual({
      object: `Pod/${TGT}`,
      field: "status.phase",
      text: "unknown, not scheduled",
    });
    expect(f.fix.commands[0]).toBe(`kubectl delete pod ${TGT} -n demo`);
  });

  it("a PreparingTarget migration is past the hand-off", () => {
    const f = only(
      s({ migrations: [deleted("PreparingTarget", 600)], pods: [target({ phase: "Pending" })] }),
    );
    expect(f.summary).toMatch(/: the source virt-handler has not reported the abort result\.$/);
    expect(f.fix.commands).toEqual([WATCH, RESTART]);
  });
});

describe("stuck-migration: odd shapes", () => {
  it("reads a VMIM without a status as one without a phase, Pending-like", () => {
    const bare = migration({ name: "mig-1", uid: UID, created: ago(3600) });
    delete bare.status;
    const f = only(s({ migrations: [bare] }));
    expect(f.confidence).toBe("medium");
    expect(f.summary).toMatch(
      new RegExp(
        `^${MIG} has been without a phase for 60 min with nothing moving: no target pod was ever created`,
      ),
    );
    expect(f.evidence[0]?.text).toBe("unset since 60 min before the snapshot, no later phase");
    expect(
      stuckMigration.detect(
        s({ migrations: [{ ...bare, metadata: { ...bare.metadata, creationTimestamp: ago(3599) } }] }),
      ),
    ).toEqual([]);
  });

  it("leaves a Pending migration of seconds alone, even before migration-queued speaks", () => {
    expect(stuckMigration.detect(s({ migrations: [inPhase("Pending", 5)] }))).toEqual([]);
  });

  it("reads a VMI without a status", () => {
    const bare = vmi(undefined, SIZED);
    delete bare.status;
    expect(only(snap({ vmi: bare, migrations: [inPhase("Running", 750)] })).confidence).toBe("medium");
    const deleted = inPhase("Running", 3000);
    deleted.metadata.deletionTimestamp = ago(300);
    expect(only(snap({ vmi: bare, migrations: [deleted] })).title).toBe("Migration cancel does not complete");
  });

  it("takes the VMI's migrationState as handed off only when it is about this migration", () => {
    const m = inPhase("Scheduling", 3000);
    m.metadata.deletionTimestamp = ago(300);
    const f = only(s({ migrations: [m] }, true, { migrationUid: "another" } as never));
    expect(f.summary).toContain("it was cancelled before the target took over");
    expect(f.evidence.map((e) => e.field)).not.toContain("status.migrationState");
  });

  it("counts only the migrationAbortRequested condition as a cancel", () => {
    const other = inPhase("Running", 100, {
      conditions: [{ type: "SomethingElse", status: "True", lastTransitionTime: ago(600) }],
    });
    expect(stuckMigration.detect(s({ migrations: [other] }))).toEqual([]);
  });

  it("words a cancelled VMIM whose status holds only the condition", () => {
    const m = migration({ name: "mig-1", uid: UID, created: ago(900) });
    m.status = {
      conditions: [{ type: "migrationAbortRequested", status: "True", lastTransitionTime: ago(300) }],
    } as never;
    const f = only(s({ migrations: [m] }));
    expect(f.evidence[0]?.text).toBe("True; phase still unset");
    expect(f.summary).toContain("the migration is still unset");
  });

  it("words target pods without a spec", () => {
    const noSpec = target({ phase: "Pending" });
    delete noSpec.spec;
    const deleted = inPhase("Scheduling", 3000);
    deleted.metadata.deletionTimestamp = ago(300);
    expect(only(s({ migrations: [deleted], pods: [noSpec] })).evidence.at(-1)?.text).toBe(
      "Pending, not scheduled",
    );
    expect(only(s({ migrations: [inPhase("TargetReady", 900)], pods: [noSpec] })).evidence.at(-1)?.text).toBe(
      "Pending on ?",
    );
  });

  it("skips a line that names progress but cannot be read as a progress line", () => {
    const odd = logs([
      JSON.stringify({ level: "info", msg: "Migration info for everything", timestamp: ago(5) }),
    ]);
    const f = only(s({ migrations: [inPhase("Running", 750)], logs: odd }));
    expect(f.summary).toContain("the launcher logs that were read hold no progress line for it");
  });

  it("is an error rule", () => {
    expect(stuckMigration.severity).toBe("error");
    expect(stuckMigration.id).toBe("stuck-migration");
  });
});

describe("stuck-migration: without a VMI", () => {
  it("does not know the guest's size: an hour Running, low", () => {
    const f = only(snap({ migrations: [inPhase("Running", 3600)] }));
    expect(f.confidence).toBe("low");
    expect(f.evidence).toHaveLength(1);
  });
});
