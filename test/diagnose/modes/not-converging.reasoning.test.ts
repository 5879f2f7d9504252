// not-converging's reasoning on hand-built snapshots: which failure reasons mean the monitor
// aborted the migration (the old texts with their seconds, the v1.9 text with the launcher's
// "Aborting migration" line), a user's cancel that is not this, the dirty rate against the
// bandwidth and the confidence it gives, repeated attempts, the fix per KubeVirt settings, and a
// running migration that is stalling now.

import { describe, expect, it } from "vitest";
import { notConverging } from "../../../src/diagnose/modes/not-converging.js";
import type { ContainerLog, Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { KubeVirt, VirtualMachineInstanceMigrationState } from "../../../src/k8s/types.js";
import { ago, snap as bareSnap, event, migration, pod, vmi } from "../../helpers/builders.js";

const uid = "bbbbbbbb-0000-4000-8000-000000000001";
const sourcePod = "virt-launcher-db-1-src01";
const stuck = "Live migration stuck for 150 seconds and has been aborted";
const aborted = "Live migration has been aborted";

function failed(state: VirtualMachineInstanceMigrationState, parts: { uid?: string; name?: string } = {}) {
  return migration({
    uid: parts.uid ?? uid,
    name: parts.name ?? "kubevirt-migrate-vm-abcde",
    phase: "Failed",
    transitions: { Failed: ago(100) },
    state: { failed: true, sourcePod, ...state },
  });
}

/** A snapshot with the source launcher's pod, a v1.5.0 one: its progress lines' Mbps are true. */
function snap(parts: Partial<Snapshot> = {}): Snapshot {
  return bareSnap({ pods: [pod(sourcePod)], ...parts });
}

const infoText = (forUid: string, remaining: number, bandwidth: number, dirty: number) =>
  `Migration info for ${forUid}: TimeElapsed:4000ms DataProcessed:1000MiB DataRemaining:${remaining}MiB DataTotal:8192MiB MemoryBandwidth:${bandwidth}Mbps DirtyRate:${dirty}Mbps Iteration:3`;

function info(remaining: number, bandwidth: number, dirty: number, at: string, forUid = uid): string {
  return JSON.stringify({
    level: "info",
    msg: infoText(forUid, remaining, bandwidth, dirty),
    timestamp: at,
  });
}

function log(lines: string[], pod = sourcePod): ContainerLog {
  return { namespace: "demo", pod, container: "compute", lines };
}

const abortLine = (text: string, at = ago(101)) =>
  JSON.stringify({ level: "error", msg: text, timestamp: at });

function kubevirt(migrations: Record<string, unknown>): KubeVirt {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "KubeVirt",
    metadata: { name: "kubevirt", namespace: "kubevirt" },
    spec: { configuration: { migrations } },
  } as KubeVirt;
}

function detectOne(s: Snapshot): Finding {
  const findings = notConverging.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const defaultCommands = [
  `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"allowAutoConverge":true}}}}'`,
  `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"allowPostCopy":true}}}}'`,
  "kvmig migrate db-1 -n demo",
];
const explanationTail =
  "or switch to post-copy (allowPostCopy: the guest briefly runs on the target with its memory fetched on demand; a network failure then loses the VM). To change only this VM, put the same settings in a MigrationPolicy that selects its labels; a dedicated migration network (spec.configuration.migrations.network) adds bandwidth. Then migrate again, ideally when the guest is less busy.";
const shrinkText = ": the remaining data stopped shrinking, so the copy could not catch up with the guest.";

describe("not-converging reasoning", () => {
  it("v1.8: the reason says stuck for N seconds; the whole finding with the event and the rates", () => {
    const migrated = event({
      reason: "Migrated",
      message: `VirtualMachineInstance migration uid ${uid} failed. reason:${stuck}`,
      lastTimestamp: ago(99),
    });
    const s = snap({
      migrations: [failed({ failureReason: stuck, endTimestamp: ago(98) })],
      events: [migrated],
      logs: [log([info(5000, 500, 1500, ago(200)), info(5100, 500, 1600, ago(150))])],
    });
    expect(detectOne(s)).toEqual({
      id: "not-converging",
      title: "Migration does not converge",
      severity: "error",
      confidence: "high",
      summary: `VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde was aborted by virt-launcher's migration monitor (no progress for 150 seconds)${shrinkText} The launcher's last progress lines show the guest dirtying memory at least as fast as the migration sends it.`,
      evidence: [
        {
          object: "VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde",
          field: "status.migrationState.failureReason",
          time: ago(98),
          text: stuck,
        },
        {
          object: "VirtualMachineInstance/db-1",
          field: "event Migrated",
          time: ago(99),
          text: `VirtualMachineInstance migration uid ${uid} failed. reason:${stuck}`,
        },
        {
          object: `Pod/${sourcePod}`,
          field: "log compute",
          time: ago(150),
          text: infoText(uid, 5100, 500, 1600),
        },
      ],
      fix: {
        explanation: `The guest writes memory faster than it can be copied. Let KubeVirt throttle the guest (allowAutoConverge), ${explanationTail}`,
        commands: defaultCommands,
      },
      docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      notChecked: undefined,
    });
  });

  it("reads the completion timeout and v0.x's 'sec' too", () => {
    const summary = (reason: string) =>
      detectOne(snap({ migrations: [failed({ failureReason: reason })] })).summary;
    expect(summary("Live migration is not completed after 300 seconds and has been aborted")).toContain(
      "(not completed within 300 seconds)",
    );
    expect(summary("Live migration stuck for 90 sec and has been aborted")).toContain(
      "(no progress for 90 seconds)",
    );
    expect(summary("Live migration is not completed after 45 sec and has been aborted")).toContain(
      "(not completed within 45 seconds)",
    );
  });

  it("the failure time falls back to the Failed phase transition", () => {
    const f = detectOne(snap({ migrations: [failed({ failureReason: stuck })] }));
    expect(f.evidence[0]?.time).toBe(ago(100));
  });

  it("ignores other failures, and migrations that did not fail", () => {
    expect(
      notConverging.detect(snap({ migrations: [failed({ failureReason: "connection reset" })] })),
    ).toEqual([]);
    expect(notConverging.detect(snap({ migrations: [failed({})] }))).toEqual([]);
    expect(
      notConverging.detect(
        snap({ migrations: [migration({ phase: "Succeeded", state: { failureReason: stuck } })] }),
      ),
    ).toEqual([]);
    // "Live migration has been aborted" only as the whole reason.
    expect(
      notConverging.detect(snap({ migrations: [failed({ failureReason: `${aborted} by the user` })] })),
    ).toEqual([]);
  });

  it("v1.9: the launcher's Aborting line on the source pod gives the cause", () => {
    const s = snap({
      migrations: [failed({ failureReason: aborted, abortStatus: "Succeeded" })],
      logs: [
        log(
          [abortLine("Aborting migration: not completed after 600 seconds", ago(300))],
          "virt-launcher-db-1-other",
        ),
        log([abortLine("Aborting migration: stuck for 150 seconds")]),
      ],
    });
    const f = detectOne(s);
    expect(f.confidence).toBe("high");
    expect(f.summary).toContain("(no progress for 150 seconds)");
    expect(f.evidence.slice(0, 2)).toEqual([
      {
        object: "VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde",
        field: "status.migrationState.failureReason",
        time: ago(100),
        text: aborted,
      },
      {
        object: `Pod/${sourcePod}`,
        field: "log compute",
        time: ago(101),
        text: "Aborting migration: stuck for 150 seconds",
      },
    ]);
    // Logs were read but have no progress lines for this migration.
    expect(f.notChecked).toEqual([
      "the launcher's Migration info lines for this migration (dirty rate against bandwidth)",
    ]);
    const timeout = detectOne({
      ...s,
      logs: [log([abortLine("Aborting migration: not completed after 600 seconds")])],
    });
    expect(timeout.summary).toContain("(not completed within 600 seconds)");
  });

  it("v1.9 without any launcher log: low, names no cause, and says which log it needed", () => {
    const f = detectOne(snap({ migrations: [failed({ failureReason: aborted })] }));
    expect(f.confidence).toBe("low");
    expect(f.summary).toBe(
      `VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde was aborted by virt-launcher's migration monitor${shrinkText}`,
    );
    expect(f.notChecked).toEqual([
      "the source virt-launcher log, which says whether the abort was for no progress or for the completion timeout",
    ]);
  });

  it("v1.9 with logs but no Aborting line: low, unless the rates show the guest winning (medium)", () => {
    const noRates = detectOne(
      snap({ migrations: [failed({ failureReason: aborted })], logs: [log([abortLine("something else")])] }),
    );
    expect(noRates.confidence).toBe("low");
    expect(noRates.notChecked).toEqual([
      'an "Aborting migration:" line in the launcher logs that were read (the log tail may not reach back to the abort)',
      "the launcher's Migration info lines for this migration (dirty rate against bandwidth)",
    ]);
    const above = detectOne(
      snap({
        migrations: [failed({ failureReason: aborted })],
        logs: [log([info(4000, 500, 900, ago(150))])],
      }),
    );
    expect(above.confidence).toBe("medium");
    expect(above.notChecked).toEqual([
      'an "Aborting migration:" line in the launcher logs that were read (the log tail may not reach back to the abort)',
    ]);
    const below = detectOne(
      snap({
        migrations: [failed({ failureReason: aborted })],
        logs: [log([info(4000, 900, 500, ago(150))])],
      }),
    );
    expect(below.confidence).toBe("low");
    expect(below.summary).toContain(
      " The launcher's last progress lines do not show the dirty rate above the bandwidth, so a slow or congested migration network is as likely as a busy guest.",
    );
  });

  it("an abort a user asked for is not this, nor one whose abort did not succeed", () => {
    expect(
      notConverging.detect(snap({ migrations: [failed({ failureReason: aborted, abortRequested: true })] })),
    ).toEqual([]);
    expect(
      notConverging.detect(snap({ migrations: [failed({ failureReason: aborted, abortStatus: "Failed" })] })),
    ).toEqual([]);
    expect(
      notConverging.detect(
        snap({ migrations: [failed({ failureReason: aborted, abortStatus: "Aborting" })] }),
      ),
    ).toEqual([]);
    // libvirt's own text counts whatever the abort status says, but not when a user asked.
    const libvirt = "operation aborted: job 'migration out' canceled by client";
    expect(
      notConverging.detect(snap({ migrations: [failed({ failureReason: libvirt, abortStatus: "Failed" })] })),
    ).toHaveLength(1);
    expect(
      notConverging.detect(
        snap({
          migrations: [failed({ failureReason: "operation aborted: job migration out canceled by client" })],
        }),
      ),
    ).toHaveLength(1);
    expect(
      notConverging.detect(snap({ migrations: [failed({ failureReason: libvirt, abortRequested: true })] })),
    ).toEqual([]);
  });

  it("the dirty rate must reach the bandwidth in each of the last three progress lines", () => {
    const confidence = (lines: string[]) =>
      detectOne(snap({ migrations: [failed({ failureReason: aborted })], logs: [log(lines)] })).confidence;
    // Equal counts as at least as fast.
    expect(confidence([info(4000, 500, 500, ago(150))])).toBe("medium");
    // Zero against zero is no evidence.
    expect(confidence([info(4000, 0, 0, ago(150))])).toBe("low");
    // An older line below the bandwidth is outside the last three.
    expect(
      confidence([
        info(4000, 900, 100, ago(190)),
        info(4000, 500, 600, ago(180)),
        info(4000, 500, 600, ago(170)),
        info(4000, 500, 600, ago(160)),
      ]),
    ).toBe("medium");
    // One of the last three below it.
    expect(
      confidence([
        info(4000, 500, 600, ago(180)),
        info(4000, 500, 400, ago(170)),
        info(4000, 500, 600, ago(160)),
      ]),
    ).toBe("low");
    // Lines of another migration, or without both rates, do not count.
    expect(confidence([info(4000, 500, 900, ago(150), "other-uid")])).toBe("low");
    const noRate = JSON.stringify({
      level: "info",
      msg: `Migration info for ${uid}: DataRemaining:10MiB`,
      timestamp: ago(150),
    });
    expect(confidence([noRate])).toBe("low");
  });

  it("quotes only the newest Migrated event that names this migration", () => {
    const ev = (id: string, n: number) =>
      event({
        reason: "Migrated",
        message: `VirtualMachineInstance migration uid ${id} failed. reason:${stuck} #${n}`,
        lastTimestamp: ago(200 - n),
      });
    const f = detectOne(
      snap({
        migrations: [failed({ failureReason: stuck })],
        events: [
          ev(uid, 1),
          ev(uid, 2),
          ev("other-uid", 3),
          { ...ev(uid, 4), type: "Normal" },
          { ...ev(uid, 5), reason: "FailedMigration" },
          event({ reason: "Migrated", message: `migration uid ${uid} succeeded` }),
        ],
      }),
    );
    expect(f.evidence.map((e) => e.text)).toEqual([
      stuck,
      `VirtualMachineInstance migration uid ${uid} failed. reason:${stuck} #2`,
    ]);
  });

  it("counts the aborted attempts since the last success, and reports the newest", () => {
    const first = failed({ failureReason: stuck }, { uid: "u-1", name: "mig-1" });
    const second = failed(
      { failureReason: "Live migration stuck for 200 seconds and has been aborted" },
      { uid: "u-2", name: "mig-2" },
    );
    const other = failed({ failureReason: "connection reset" }, { uid: "u-3", name: "mig-3" });
    const f = detectOne(snap({ migrations: [first, second, other] }));
    expect(f.summary).toBe(
      `VirtualMachineInstanceMigration/mig-2 was aborted by virt-launcher's migration monitor (no progress for 200 seconds)${shrinkText} 2 attempts since the last successful migration ended this way.`,
    );
    const success = migration({ uid: "u-s", name: "mig-s", phase: "Succeeded" });
    const g = detectOne(snap({ migrations: [first, success, second] }));
    expect(g.summary.endsWith(shrinkText)).toBe(true);
    expect(notConverging.detect(snap({ migrations: [first, second, success] }))).toEqual([]);
  });

  it("uses the VMI's record when it is about the failed VMIM", () => {
    const s = snap({
      vmi: vmi({
        phase: "Running",
        migrationState: { migrationUid: uid, failed: true, failureReason: stuck, endTimestamp: ago(90) },
      }),
      migrations: [failed({ failureReason: "stale copy" })],
    });
    const f = detectOne(s);
    expect(f.evidence[0]).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "status.migrationState.failureReason",
      time: ago(90),
      text: stuck,
    });
  });

  it("a VMIM that was deleted leaves the VMI's record: 'The last migration'", () => {
    const state = { migrationUid: "gone-uid", failed: true, failureReason: stuck };
    const f = detectOne(snap({ vmi: vmi({ phase: "Running", migrationState: state }) }));
    expect(f.summary).toMatch(
      /^The last migration was aborted by virt-launcher's migration monitor \(no progress for 150 seconds\)/,
    );
    expect(f.evidence[0]?.object).toBe("VirtualMachineInstance/db-1");
    // Not after a success, not when the VMIM is there, not when the record did not fail.
    const success = migration({ uid: "u-s", phase: "Succeeded" });
    expect(
      notConverging.detect(
        snap({ vmi: vmi({ phase: "Running", migrationState: state }), migrations: [success] }),
      ),
    ).toEqual([]);
    expect(
      notConverging.detect(
        snap({ vmi: vmi({ phase: "Running", migrationState: { ...state, failed: false } }) }),
      ),
    ).toEqual([]);
  });

  it("the fix leaves out what is already on, and lifts a bandwidth cap", () => {
    const fix = (migrations: Record<string, unknown>) =>
      detectOne(snap({ kubevirt: kubevirt(migrations), migrations: [failed({ failureReason: stuck })] })).fix;
    expect(fix({ allowAutoConverge: true, allowPostCopy: true }).commands).toEqual([
      "kvmig migrate db-1 -n demo",
    ]);
    const capped = fix({ bandwidthPerMigration: "64Mi" });
    expect(capped.commands).toEqual([
      defaultCommands[0],
      `kubectl patch kubevirt kubevirt -n kubevirt --type merge -p '{"spec":{"configuration":{"migrations":{"bandwidthPerMigration":"0Mi"}}}}'`,
      defaultCommands[1],
      defaultCommands[2],
    ]);
    expect(capped.explanation).toBe(
      `The guest writes memory faster than it can be copied. Let KubeVirt throttle the guest (allowAutoConverge), lift the per-migration bandwidth cap (64Mi), ${explanationTail}`,
    );
    // 0 (with or without a unit) means no cap.
    expect(fix({ bandwidthPerMigration: "0Mi" }).commands).toEqual(defaultCommands);
    expect(fix({ bandwidthPerMigration: "0" }).commands).toEqual(defaultCommands);
    expect(fix({ bandwidthPerMigration: "10Mi" }).commands).toHaveLength(4);
  });

  it("the v1.8 text outside failureReason: an event naming the migration, or the source pod's log line", () => {
    const f = detectOne(
      snap({
        migrations: [failed({ failureReason: "source node reported migration failed" })],
        events: [
          event({
            reason: "Migrated",
            message: `migration uid ${uid} failed: ${stuck}`,
            lastTimestamp: ago(99),
          }),
        ],
      }),
    );
    expect(f.confidence).toBe("high");
    expect(f.summary).toContain("(no progress for 150 seconds)");
    expect(f.evidence[0]).toEqual({
      object: "VirtualMachineInstance/db-1",
      field: "event Migrated",
      time: ago(99),
      text: `migration uid ${uid} failed: ${stuck}`,
    });
    const logged = (pod: string) =>
      notConverging.detect(
        snap({
          migrations: [failed({ failureReason: "source node reported migration failed" })],
          logs: [
            log(
              [
                abortLine(
                  `Live migration abort detected with reason: Live migration is not completed after 480 seconds and has been aborted`,
                ),
              ],
              pod,
            ),
          ],
        }),
      );
    expect(logged(sourcePod)[0]?.summary).toContain("(not completed within 480 seconds)");
    // A line on another launcher pod is not this migration's.
    expect(logged("virt-launcher-db-1-other")).toEqual([]);
  });

  describe("the monitor's abort from state alone", () => {
    const memory = (guest: string) => vmi({ phase: "Running" }, { domain: { memory: { guest } } });

    it("abortStatus Succeeded with no abort requested: low, and says the abort's words were not found", () => {
      const f = detectOne(
        snap({
          migrations: [
            failed({
              failureReason: "source node reported migration failed",
              abortStatus: "Succeeded",
              endTimestamp: ago(100),
            }),
          ],
        }),
      );
      expect(f.confidence).toBe("low");
      expect(f.summary).toBe(
        `VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde was aborted by virt-launcher's migration monitor${shrinkText}`,
      );
      expect(f.evidence[0]).toEqual({
        object: "VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde",
        field: "status.migrationState",
        time: ago(100),
        text: "failed: true, abortStatus: Succeeded, abortRequested: false",
      });
      expect(f.notChecked).toEqual([
        "the abort's own words (no failureReason, event or launcher line says why it was aborted)",
      ]);
      // Requested by a user, or the VMIM being deleted: not the monitor.
      expect(
        notConverging.detect(
          snap({ migrations: [failed({ abortStatus: "Succeeded", abortRequested: true })] }),
        ),
      ).toEqual([]);
      const deleting = failed({ abortStatus: "Succeeded" });
      deleting.metadata.deletionTimestamp = ago(10);
      expect(notConverging.detect(snap({ migrations: [deleting] }))).toEqual([]);
    });

    it("a run as long as the completion timeout (95% of it): names the timeout; with abortStatus Succeeded too, medium", () => {
      // 2Gi at 150 s per GiB: 300 s; 95% is 285 s.
      const ran = (seconds: number, abortStatus?: "Succeeded") =>
        notConverging.detect(
          snap({
            vmi: memory("2Gi"),
            migrations: [
              failed({
                startTimestamp: ago(100 + seconds),
                endTimestamp: ago(100),
                ...(abortStatus ? { abortStatus } : {}),
              }),
            ],
          }),
        );
      expect(ran(284)).toEqual([]);
      const [f] = ran(285);
      expect(f?.confidence).toBe("low");
      expect(f?.summary).toContain("(not completed within the 300 s completion timeout)");
      expect(f?.evidence.slice(0, 2)).toEqual([
        {
          object: "VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde",
          field: "status.migrationState",
          time: ago(100),
          text: "failed: true, abortStatus: unset, abortRequested: false, ran 285 s (startTimestamp → endTimestamp)",
        },
        {
          object: "VirtualMachineInstanceMigration/kubevirt-migrate-vm-abcde",
          field: "completion timeout",
          text: "300 s (completionTimeoutPerGiB × the guest's GiB of memory)",
        },
      ]);
      expect(ran(300, "Succeeded")[0]?.confidence).toBe("medium");
      // Self-aborted early: the timeout is not the cause.
      const [early] = ran(60, "Succeeded");
      expect(early?.confidence).toBe("low");
      expect(early?.summary).not.toContain("completion timeout");
    });

    it("the completion timeout follows the migration's own configuration", () => {
      const s = snap({
        vmi: vmi(
          {
            phase: "Running",
            migrationState: {
              migrationUid: "other",
              migrationConfiguration: { completionTimeoutPerGiB: 10, progressTimeout: 20 },
            },
          },
          { domain: { memory: { guest: "3Gi" } } },
        ),
        migrations: [failed({ startTimestamp: ago(130), endTimestamp: ago(100) })],
      });
      expect(detectOne(s).summary).toContain("(not completed within the 30 s completion timeout)");
    });
  });

  describe("a running migration that is losing the race now", () => {
    const running = migration({ uid, name: "mig-run", phase: "Running" });
    const lines = (lowAt: number) => [
      info(6000, 500, 900, ago(lowAt + 30)),
      info(4000, 500, 900, ago(lowAt)),
      info(4500, 500, 900, ago(lowAt - 20)),
      info(4200, 500, 950, ago(5)),
    ];

    it("warns when the remaining data has not reached a new low for a minute", () => {
      const s = snap({ migrations: [running], logs: [log(lines(90))] });
      expect(detectOne(s)).toEqual({
        id: "not-converging",
        title: "Migration is not converging",
        severity: "warning",
        confidence: "medium",
        // The forecast model's verdict over the 4 lines: 500 Mbps = 60 MiB/s sent, (900 + 900 + 950) / 3
        // Mbps = 109 MiB/s dirtied; 8 GiB (the lines' DataTotal) allows 150 s × 9, 4 s of it gone.
        summary:
          "VirtualMachineInstanceMigration/mig-run is Running but its remaining data has not reached a new low for 90 s and the guest dirties memory at least as fast as it is sent. " +
          "kvmig's forecast model, from its 4 progress lines: will not converge: the guest dirties 109 MiB/s, at least the 60 MiB/s sent, so each pass leaves as much to copy again; KubeVirt aborts it at the completion timeout (completionTimeoutPerGiB 150 s per 10^9 bytes) in about 22m26s. " +
          "virt-launcher counts any drop since its previous poll as progress, so its 150 s progress timeout will not end it: it runs until the completion timeout (completionTimeoutPerGiB × the guest's size) and is then aborted.",
        evidence: [
          {
            object: `Pod/${sourcePod}`,
            field: "log compute",
            time: ago(5),
            text: infoText(uid, 4200, 500, 950),
          },
        ],
        // The model's advice, as the migrate warning prints it: no cap to raise, so post-copy first.
        fix: {
          explanation: [
            "what would make it converge, most effective first:",
            "  1. allowPostCopy: at the completion timeout KubeVirt switches to post-copy, which always completes (in about 24m47s); a lower completionTimeoutPerGiB switches sooner (risk: post-copy runs the guest on the target while its memory still comes from the source: if the network or either node fails meanwhile, the VM is lost)",
            "  2. a dedicated migration network (spec.configuration.migrations.network in the KubeVirt CR, a NetworkAttachmentDefinition on a faster or quieter link) raises the rate for every migration",
            "  3. allowAutoConverge: QEMU throttles the guest's vCPUs (20%, then 10% more every second high-dirty pass): its 2m17s passes raise the throttle too slowly to converge before the timeout (risk: the guest runs slower while it is throttled)",
            "for the next migration of this VM (KubeVirt applies a policy when a migration starts):",
          ].join("\n"),
          commands: [
            [
              "kubectl label vmi db-1 -n demo kvmig.io/migration-policy=kvmig-db-1 --overwrite && kubectl apply -f - <<'EOF'",
              "apiVersion: migrations.kubevirt.io/v1alpha1",
              "kind: MigrationPolicy",
              "metadata:",
              "  name: kvmig-db-1",
              "spec:",
              "  selectors:",
              "    namespaceSelector:",
              '      kubernetes.io/metadata.name: "demo"',
              "    virtualMachineInstanceSelector:",
              '      kvmig.io/migration-policy: "kvmig-db-1"',
              "  allowPostCopy: true",
              "EOF",
            ].join("\n"),
            "kvmig migrate db-1 -n demo",
          ],
        },
        docs: "https://kubevirt.io/user-guide/compute/live_migration/",
      });
    });

    it("60 seconds is the threshold; the configured progress timeout is named", () => {
      expect(notConverging.detect(snap({ migrations: [running], logs: [log(lines(60))] }))).toHaveLength(1);
      expect(notConverging.detect(snap({ migrations: [running], logs: [log(lines(59))] }))).toEqual([]);
      const f = detectOne(
        snap({ migrations: [running], logs: [log(lines(60))], kubevirt: kubevirt({ progressTimeout: 300 }) }),
      );
      expect(f.summary).toContain("for 60 s and");
      expect(f.summary).toContain("so its 300 s progress timeout will not end it");
    });

    it("says what comes at the completion timeout: the abort, post-copy, or a paused guest", () => {
      const at = (migrations: Record<string, unknown>) =>
        detectOne(snap({ migrations: [running], logs: [log(lines(90))], kubevirt: kubevirt(migrations) }))
          .summary;
      expect(at({})).toMatch(/ and is then aborted\.$/);
      // allowWorkloadDisruption follows allowPostCopy when unset.
      expect(at({ allowPostCopy: true })).toMatch(/ and then switches to post-copy\.$/);
      expect(at({ allowPostCopy: true, allowWorkloadDisruption: false })).toMatch(/ and is then aborted\.$/);
      expect(at({ allowWorkloadDisruption: true })).toMatch(
        / and then pauses the guest until the copy is done\.$/,
      );
    });

    it("stays silent when the guest is not winning, the lines have no time, or nothing runs", () => {
      const slow = [info(6000, 900, 500, ago(200)), info(5000, 900, 500, ago(100))];
      expect(notConverging.detect(snap({ migrations: [running], logs: [log(slow)] }))).toEqual([]);
      const undated = [infoText(uid, 5000, 500, 900)];
      expect(notConverging.detect(snap({ migrations: [running], logs: [log(undated)] }))).toEqual([]);
      const pending = migration({ uid, name: "mig-run", phase: "Scheduling" });
      expect(notConverging.detect(snap({ migrations: [pending], logs: [log(lines(90))] }))).toEqual([]);
      expect(notConverging.detect(snap({ logs: [log(lines(90))] }))).toEqual([]);
      // Lines about another migration.
      const otherRunning = migration({ uid: "other", name: "mig-run", phase: "Running" });
      expect(notConverging.detect(snap({ migrations: [otherRunning], logs: [log(lines(90))] }))).toEqual([]);
    });

    it("a new low resets the clock", () => {
      const recovering = [
        info(6000, 500, 900, ago(200)),
        info(5000, 500, 900, ago(100)),
        info(3000, 500, 900, ago(10)),
      ];
      expect(notConverging.detect(snap({ migrations: [running], logs: [log(recovering)] }))).toEqual([]);
    });

    it("the same low again is not a new low", () => {
      const flat = [info(4000, 500, 900, ago(90)), info(4000, 500, 900, ago(10))];
      expect(detectOne(snap({ migrations: [running], logs: [log(flat)] })).summary).toContain(
        "has not reached a new low for 90 s",
      );
    });
  });

  describe("the rates as the launcher's release wrote them (progress-line.ts)", () => {
    const launcher = (image: string) =>
      pod(sourcePod, { spec: { containers: [{ name: "compute", image }] } });
    const abortedWith = (image: string, lines: string[]) =>
      detectOne(
        bareSnap({
          pods: [launcher(image)],
          migrations: [failed({ failureReason: aborted })],
          logs: [log(lines)],
        }),
      );
    const above =
      " The launcher's last progress lines show the guest dirtying memory at least as fast as the migration sends it.";
    const notAbove = " The launcher's last progress lines do not show the dirty rate above the bandwidth";

    it("v1.1.1: the 'Mbps' are bytes/s ÷ 8 ÷ 10^6, so the summary gives the true rates, as 8 MB/s ranges", () => {
      // 8 and 25 of these "Mbps" are 64–72 and 200–208 MB/s: read as true Mbps, 1 and 3 MB/s.
      const f = abortedWith("quay.io/kubevirt/virt-launcher:v1.1.1", [info(4000, 8, 25, ago(150))]);
      expect(f.summary).toContain(
        `${above} virt-launcher v1.1.1 labels its rates Mbps but writes bytes/s ÷ 8 ÷ 10^6, 64 times less (kubevirt/kubevirt#11377): the last line's dirty rate is 191–198 MiB/s against a bandwidth of 61.0–68.7 MiB/s.`,
      );
      expect(f.confidence).toBe("medium");
      // The quoted line stays as the launcher wrote it.
      expect(f.evidence.at(-1)?.text).toBe(infoText(uid, 4000, 8, 25));
    });

    it("v1.1.1: equal values are one 8 MB/s step, so they do not show the guest winning", () => {
      const tie = [info(4000, 12, 12, ago(150))];
      const buggy = abortedWith("quay.io/kubevirt/virt-launcher:v1.1.1", tie);
      expect(buggy.confidence).toBe("low");
      expect(buggy.summary).toContain(notAbove);
      expect(buggy.summary).toContain(
        "the last line's dirty rate is 91.6–99.2 MiB/s against a bandwidth of 91.6–99.2 MiB/s.",
      );
      // From v1.2.1 the same numbers are true Mbps: as fast, and nothing to add.
      const fixed = abortedWith("quay.io/kubevirt/virt-launcher:v1.2.1", tie);
      expect(fixed.confidence).toBe("medium");
      expect(fixed.summary.endsWith(above)).toBe(true);
    });

    it("a zero rate of v1.1.1 is below 8 MB/s: shown as such", () => {
      const f = abortedWith("quay.io/kubevirt/virt-launcher:v1.2.0", [info(4000, 3, 0, ago(150))]);
      expect(f.confidence).toBe("low");
      expect(f.summary).toContain(
        "the last line's dirty rate is < 7.6 MiB/s against a bandwidth of 22.9–30.5 MiB/s.",
      );
    });

    it("v0.59: a bytes line reads as written, whatever the image says", () => {
      const bytes = JSON.stringify({
        level: "info",
        msg:
          `Migration info for ${uid}: TimeElapsed:8004ms DataProcessed:851443712B DataRemaining:3461349376B DataTotal:4312793088B ` +
          "MemoryBandwidth:80000000B/s DirtyRate:80000000B/s Iteration:1 ExpectedDowntime:11470ms DiskBps:0",
        timestamp: ago(150),
      });
      for (const image of [
        "quay.io/kubevirt/virt-launcher:v0.59.0",
        "registry.example/virt-launcher@sha256:0a1b",
      ]) {
        const f = abortedWith(image, [bytes]);
        // Exact rates: equal is as fast, and the summary adds nothing to the quoted line.
        expect(f.confidence).toBe("medium");
        expect(f.summary.endsWith(above)).toBe(true);
      }
    });

    it("an unknown release: the rates are unknown, the comparison holds, a tie proves nothing", () => {
      const unknown =
        ' The launcher\'s KubeVirt release is unknown, so the rates themselves are too (v1.0.1–v1.2.0 wrote "Mbps" 64 times too small): only the dirty rate against the bandwidth is read.';
      for (const image of [
        "registry.example/virt-launcher@sha256:0a1b",
        "registry.example/virt-launcher-rhel9:v4.16.3",
      ]) {
        const winning = abortedWith(image, [info(4000, 500, 900, ago(150))]);
        expect(winning.confidence).toBe("medium");
        expect(winning.summary).toContain(`${above}${unknown}`);
        // No rate as a number: "Mbps" is named only as the launcher's label.
        expect(winning.summary).not.toMatch(/\d ?(MiB\/s|Mbps)/);
        // 12 against 12 may be one 8 MB/s step of v1.0.1–v1.2.0.
        const tie = abortedWith(image, [info(4000, 12, 12, ago(150))]);
        expect(tie.confidence).toBe("low");
        expect(tie.summary).toContain(
          `${notAbove}, so a slow or congested migration network is as likely as a busy guest.${unknown}`,
        );
      }
      // The source launcher's pod not read at all.
      const noPod = detectOne(
        bareSnap({
          migrations: [failed({ failureReason: aborted })],
          logs: [log([info(4000, 500, 900, ago(150))])],
        }),
      );
      expect(noPod.summary).toContain(`${above}${unknown}`);
    });

    it("a running v1.1.1 migration losing the race says the true rates too", () => {
      const running = migration({ uid, name: "mig-run", phase: "Running" });
      const lines = [info(6000, 8, 25, ago(120)), info(4000, 8, 25, ago(90)), info(4500, 8, 25, ago(5))];
      const [f] = notConverging.detect(
        bareSnap({
          pods: [launcher("quay.io/kubevirt/virt-launcher:v1.1.1")],
          migrations: [running],
          logs: [log(lines)],
        }),
      );
      expect(f?.summary).toBe(
        "VirtualMachineInstanceMigration/mig-run is Running but its remaining data has not reached a new low for 90 s and the guest dirties memory at least as fast as it is sent. " +
          // The model reads the middle of each 8 MB/s step: 25 Mbps → 195 MiB/s, 8 → 65 MiB/s.
          "kvmig's forecast model, from its 3 progress lines: will not converge: the guest dirties 195 MiB/s, at least the 65 MiB/s sent, so each pass leaves as much to copy again; KubeVirt aborts it at the completion timeout (completionTimeoutPerGiB 150 s per 10^9 bytes) in about 22m26s. " +
          "virt-launcher counts any drop since its previous poll as progress, so its 150 s progress timeout will not end it: it runs until the completion timeout (completionTimeoutPerGiB × the guest's size) and is then aborted. " +
          "virt-launcher v1.1.1 labels its rates Mbps but writes bytes/s ÷ 8 ÷ 10^6, 64 times less (kubevirt/kubevirt#11377): the last line's dirty rate is 191–198 MiB/s against a bandwidth of 61.0–68.7 MiB/s.",
      );
    });
  });
});
