// The same message in the wordings of different KubeVirt and libvirt releases
// (docs/diagnose-messages.md): each rule matches the stable part, so an older or newer cluster is
// recognised as well as the release the rule was written against.

import { describe, expect, it } from "vitest";
import { timedOutPodName } from "../../src/diagnose/evidence.js";
import { readProgress } from "../../src/diagnose/launcher-progress.js";
import { handlerDisruption } from "../../src/diagnose/modes/handler-disruption.js";
import { migrationConnectionLost } from "../../src/diagnose/modes/migration-connection-lost.js";
import { notConverging } from "../../src/diagnose/modes/not-converging.js";
import { targetPodFailed } from "../../src/diagnose/modes/target-pod-failed.js";
import { schedulerReasons } from "../../src/diagnose/modes/target-pod-unschedulable.js";
import { versionSkew } from "../../src/diagnose/modes/version-skew.js";
import { ago, event, migration, pod, snap, vmi } from "../helpers/builders.js";

const uid = "bbbbbbbb-0000-4000-8000-00000000000w";

describe("wordings across releases", () => {
  it("the launcher's progress line: MiB and true Mbps (v1.2.1+) and bytes (v0.55–v1.0) read alike", () => {
    const launcher = (name: string, tag: string) =>
      pod(name, {
        spec: { containers: [{ name: "compute", image: `quay.io/kubevirt/virt-launcher:${tag}` }] },
      });
    const s = snap({ pods: [launcher("now", "v1.3.0"), launcher("old", "v0.59.0")] });
    const line = (pod: string, text: string) => ({
      namespace: "demo",
      pod,
      container: "compute",
      text,
      raw: text,
    });
    const now = readProgress(
      s,
      line(
        "now",
        `Migration info for ${uid}: TimeElapsed:2000ms DataProcessed:512MiB DataRemaining:256MiB DataTotal:1024MiB MemoryBandwidth:800Mbps DirtyRate:40Mbps Iteration:2`,
      ),
    );
    const old = readProgress(
      s,
      line(
        "old",
        `Migration info for ${uid}: TimeElapsed:2000ms DataProcessed:536870912B DataRemaining:268435456B DataTotal:1073741824B MemoryBandwidth:100000000B/s DirtyRate:5000000B/s Iteration:2`,
      ),
    );
    expect(old?.progress).toEqual(now?.progress);
    expect(old?.rates).toEqual(now?.rates);
  });

  it("the pending-pod timeout: '<ns>/<pod>' (v1.3+) and the %!(EXTRA ...) slip before", () => {
    expect(timedOutPodName("pending pod demo/virt-launcher-db-1-abcde timeout period exceeded")).toBe(
      "virt-launcher-db-1-abcde",
    );
    expect(
      timedOutPodName("pending pod timeout period exceeded%!(EXTRA string=virt-launcher-db-1-abcde)"),
    ).toBe("virt-launcher-db-1-abcde");
    expect(timedOutPodName("unschedulable pod demo/x timeout period exceeded")).toBeUndefined();
  });

  it("not-converging before v1.3: no failureReason field, the reason only in virt-handler's event", () => {
    const failed = migration({
      uid,
      phase: "Failed",
      transitions: { Running: ago(400), Failed: ago(100) },
    });
    const s = snap({
      vmi: vmi({ phase: "Running", nodeName: "node-1" }),
      migrations: [failed],
      events: [
        event({
          reason: "Migrated",
          message: `VirtualMachineInstance migration uid ${uid} failed. reason:Live migration stuck for 150 sec and has been aborted`,
        }),
      ],
    });
    const [f] = notConverging.detect(s);
    expect(f?.confidence).toBe("high");
    expect(f?.summary).toContain("(no progress for 150 seconds)");
  });

  it("libvirt's aborted job in each libvirt's words", () => {
    for (const text of [
      "operation aborted: job 'migration out' canceled by client",
      "operation aborted: migration out job: canceled by client",
      "operation aborted: migration job: canceled by client",
    ]) {
      const failed = migration({ uid, phase: "Failed", state: { failed: true, failureReason: text } });
      const [f] = notConverging.detect(snap({ migrations: [failed] }));
      expect(f?.id, text).toBe("not-converging");
    }
  });

  it("'target pod is down' in lower case (before v1.3) and capitalised (v1.3+)", () => {
    for (const reason of ["target pod is down", "Target pod is down"]) {
      const failed = migration({ uid, phase: "Failed", transitions: { Failed: ago(60) } });
      const s = snap({
        migrations: [failed],
        events: [
          event({
            reason: "FailedMigration",
            message: `VirtualMachineInstance migration uid ${uid} failed. reason: ${reason}`,
          }),
        ],
      });
      expect(
        targetPodFailed.detect(s).map((f) => f.id),
        reason,
      ).toEqual(["target-pod-failed"]);
    }
  });

  it("a volume's node affinity conflict is the volume's, not a node selector's", () => {
    const reasons = schedulerReasons(
      "0/3 nodes are available: 1 node(s) had volume node affinity conflict, 2 node(s) didn't match Pod's node affinity/selector.",
    );
    expect(reasons.map((r) => r.cause)).toEqual(["volume-affinity", "selector"]);
  });

  it("the launcher's notify-client error, capitalised (to v1.9) or not (after)", () => {
    for (const line of [
      "Failed to send domain notify event",
      "failed to send domain notify event with Unavailable",
    ]) {
      const running = migration({
        uid,
        phase: "Running",
        created: ago(300),
        transitions: { Running: ago(290) },
        state: { sourcePod: "virt-launcher-db-1-src" },
      });
      const s = snap({
        vmi: vmi({
          phase: "Running",
          nodeName: "node-1",
          migrationState: {
            migrationUid: uid,
            sourceNode: "node-1",
            targetNode: "node-2",
            sourcePod: "virt-launcher-db-1-src",
          },
        }),
        migrations: [running],
        logs: [
          {
            namespace: "demo",
            pod: "virt-launcher-db-1-src",
            container: "compute",
            lines: [JSON.stringify({ level: "error", msg: line, timestamp: ago(200) })],
          },
        ],
      });
      expect(
        handlerDisruption.detect(s).map((f) => f.id),
        line,
      ).toEqual(["handler-disruption"]);
    }
  });

  it("a target never reached (refused, no route, timed out) is the network's, even between two launcher images", () => {
    for (const reason of [
      "Live migration failed error encountered during MigrateToURI3 libvirt api call: virError(Code=38, Domain=7, Message='unable to connect to server at 'node-2:49152': Connection refused')",
      "operation failed: Failed to connect to remote libvirt URI qemu+tcp://10.0.0.2/system: No route to host",
      "dial tcp 10.0.0.2:49153: i/o timeout",
    ]) {
      const failed = migration({
        uid,
        phase: "Failed",
        state: { failed: true, failureReason: reason, targetNode: "node-2" },
      });
      const s = snap({
        vmi: vmi(
          { phase: "Running", nodeName: "node-1", launcherContainerImageVersion: "virt-launcher:v1.8.0" },
          {},
        ),
        currentLauncherImage: "virt-launcher:v1.9.0",
        migrations: [failed],
      });
      const [f] = migrationConnectionLost.detect(s);
      expect(f?.summary, reason).toContain("could not reach the target on node-2 at all");
      expect(f?.fix.explanation).toMatch(/NetworkPolicies/);
      expect(versionSkew.detect(s), reason).toEqual([]);
    }
  });
});
