// The source virt-launcher during a migration, poll by poll: the migration model's job stats and
// monitor decisions (migration-model.ts) turned into what a launcher of a given KubeVirt release
// logs and reports (pkg/virt-launcher/virtwrap/live-migration-source.go, read at each tag from
// v1.0.0 to v1.9.0):
// - the `Migration info` line on every 10th poll (`monitorLogInterval`), only while the job runs
//   (DOMAIN_JOB_UNBOUNDED): no line for the completed job, and none at iteration boundaries (those
//   come only with the alpha MigrationStallDetection gate, which the simulator does not model);
//   at V(4) before v1.1.1, so not at the default verbosity 2; in bytes (v1.0.0), in MiB with
//   "Mbps" 64 times too small (v1.0.1–v1.2.0), or in MiB and true Mbps (v1.2.1 and later);
// - the switch to post-copy or the guest's pause, which virt-handler copies into
//   `migrationState.mode` (setMigrationProgressStatus in pkg/virt-handler/migration-source.go);
// - the monitor's aborts: v1.9 warns `Aborting migration: …` and reports `Live migration has been
//   aborted` (setMigrationResult rewrites libvirt's "canceled by client"); v1.0–v1.8 put the
//   cause in failureReason (`Live migration stuck for N seconds and has been aborted`, `Live
//   migration is not completed after N seconds and has been aborted`) and log it as
//   `Live migration abort detected with reason: …`. Every release records abortStatus Succeeded.
// Both the live handler (controllers/handler.ts) and the scenario history (objects/history.ts)
// use it, so a past migration's log reads like a live one's.

import {
  type MigrationMode,
  MigrationModel,
  type MigrationModelInput,
  type MigrationSnapshot,
  MONITOR_LOG_INTERVAL_POLLS,
  MONITOR_POLL_MS,
  migrationInfoMessage,
  type ProgressLineForm,
} from "./migration-model.js";

/** The release the simulator models when it cannot tell the launcher's. */
export const DEFAULT_LAUNCHER_VERSION = "v1.9.0";

/** What a launcher of one KubeVirt release does differently while it migrates. */
export interface LauncherRelease {
  /** [major, minor, patch]. */
  readonly version: readonly [number, number, number];
  readonly progressForm: ProgressLineForm;
  /** The V() level of the progress line: 4 before v1.1.1, 2 from then on. */
  readonly progressVerbosity: 2 | 4;
  /**
   * v1.5.0 and later: allowWorkloadDisruption decides between post-copy or a pause and an abort at
   * the completion timeout. Before, post-copy at the timeout when allowPostCopy, else the abort.
   */
  readonly workloadDisruption: boolean;
  /** v1.9.0 and later: the abort's cause only in the launcher's `Aborting migration:` warning. */
  readonly abortCauseInLogOnly: boolean;
}

type Triple = [number, number, number];

function parseVersion(version: string | undefined): Triple | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:$|[-+])/.exec(version?.trim() ?? "");
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function atLeast(v: Triple, minor: number, patch = 0): boolean {
  if (v[0] !== 1) return v[0] > 1;
  return v[1] > minor || (v[1] === minor && v[2] >= patch);
}

/** A launcher release's behaviour; v1.9.0's when `version` is not a release number. */
export function launcherRelease(version: string | undefined): LauncherRelease {
  const v = parseVersion(version) ?? (parseVersion(DEFAULT_LAUNCHER_VERSION) as Triple);
  return {
    version: v,
    progressForm: !atLeast(v, 0, 1) ? "bytes" : atLeast(v, 2, 1) ? "mib" : "mib-steps",
    progressVerbosity: atLeast(v, 1, 1) ? 2 : 4,
    workloadDisruption: atLeast(v, 5),
    abortCauseInLogOnly: atLeast(v, 9),
  };
}

/**
 * Whether virt-handler of this KubeVirt release (the cluster's) records a failed migration's
 * reason in `migrationState.failureReason`: the field exists from v1.3.0 on; before, the reason
 * is only in its `Migrated` Warning event (`… failed. reason:<text>`, pkg/virt-handler/vm.go).
 */
export function handlerRecordsFailureReason(clusterVersion: string | undefined): boolean {
  return atLeast(parseVersion(clusterVersion) ?? (parseVersion(DEFAULT_LAUNCHER_VERSION) as Triple), 3);
}

/** The release in a launcher image's tag (`…/virt-launcher:v1.8.2`); undefined for a digest or another tag. */
export function launcherImageVersion(image: string | undefined): string | undefined {
  const tag = /:([^:/@]+)$/.exec(image ?? "")?.[1];
  return tag !== undefined && parseVersion(tag) ? tag : undefined;
}

export interface LauncherLine {
  level: "info" | "warning" | "error";
  msg: string;
  /** `file.go:line` of the logging call (v1.9.0's lines). */
  pos: string;
}

export interface LauncherPoll {
  snapshot: MigrationSnapshot;
  /** What the launcher logged during the poll, in order. */
  lines: LauncherLine[];
  /** The monitor switched to post-copy or paused the guest during the poll. */
  mode?: Exclude<MigrationMode, "PreCopy"> | undefined;
  /** The migration ended in the poll: its result as virt-handler reports it on the VMI. */
  end?: { failed: false } | { failed: true; failureReason: string; abortStatus: "Succeeded" } | undefined;
}

const source = "live-migration-source.go";
const at = (line: number): string => `${source}:${line}`;

/** The launcher's first line of a migration (`migrate`). */
export const migrationStartLine: LauncherLine = {
  level: "info",
  msg: "Initiating live migration.",
  pos: at(1399),
};

export interface LauncherMonitorOptions {
  migrationUid: string;
  /** The VMI's name, as `Signaled pause for <name>` prints it. */
  vmiName: string;
  release: LauncherRelease;
  /** The launcher's log verbosity (VIRT_LAUNCHER_LOG_VERBOSITY; 2 by default). */
  verbosity?: number | undefined;
}

export class LauncherMonitor {
  readonly model: MigrationModel;
  private polls = 0;
  private mode: MigrationMode = "PreCopy";

  constructor(
    input: MigrationModelInput,
    private readonly options: LauncherMonitorOptions,
  ) {
    // A launcher before v1.5.0 has no allowWorkloadDisruption: post-copy at the timeout iff allowPostCopy.
    const model = options.release.workloadDisruption
      ? input
      : { ...input, allowWorkloadDisruption: input.allowPostCopy };
    this.model = new MigrationModel(model);
  }

  /** One 400 ms poll of the monitor loop (`startMonitor`). */
  poll(): LauncherPoll {
    const { release, migrationUid, vmiName } = this.options;
    const snapshot = this.model.advance(MONITOR_POLL_MS);
    this.polls += 1;
    const lines: LauncherLine[] = [];
    const outcome = this.model.outcome;
    let mode: LauncherPoll["mode"];
    if (snapshot.mode !== this.mode) {
      this.mode = snapshot.mode;
      if (snapshot.mode === "PostCopy") {
        mode = "PostCopy";
        lines.push({ level: "info", msg: "Starting post copy mode for migration", pos: at(745) });
      } else if (snapshot.mode === "Paused") {
        mode = "Paused";
        lines.push(
          { level: "info", msg: "Pausing the guest to allow migration to complete", pos: at(777) },
          { level: "info", msg: `Signaled pause for ${vmiName}`, pos: at(785) },
        );
      }
    }
    const progressLine = (): void => {
      if (this.polls % MONITOR_LOG_INTERVAL_POLLS !== 0) return;
      if ((this.options.verbosity ?? 2) < release.progressVerbosity) return;
      lines.push({
        level: "info",
        msg: migrationInfoMessage(migrationUid, snapshot, undefined, release.progressForm),
        pos: at(967),
      });
    };
    if (outcome?.kind === "completed") {
      // The job is no longer unbounded: no progress line; migrate() reports the success.
      lines.push({ level: "info", msg: "Live migration succeeded.", pos: at(1421) });
      return { snapshot, lines, mode, end: { failed: false } };
    }
    if (outcome?.kind === "aborted") {
      const seconds = outcome.afterSeconds;
      let failureReason: string;
      if (release.abortCauseInLogOnly) {
        if (outcome.why === "stuck")
          lines.push({ level: "warning", msg: `live migration stuck for ${seconds} seconds`, pos: at(536) });
        lines.push({
          level: "warning",
          msg:
            outcome.why === "stuck"
              ? `Aborting migration: stuck for ${seconds} seconds`
              : `Aborting migration: not completed after ${seconds} seconds`,
          pos: at(outcome.why === "stuck" ? 801 : 811),
        });
        // The abort is asynchronous: the job is still running when the loop logs its line.
        progressLine();
        lines.push({ level: "info", msg: "Live migration abort succeeded", pos: at(1007) });
        failureReason = "Live migration has been aborted";
      } else {
        failureReason =
          outcome.why === "stuck"
            ? `Live migration stuck for ${seconds} seconds and has been aborted`
            : `Live migration is not completed after ${seconds} seconds and has been aborted`;
        if (outcome.why === "stuck")
          lines.push({ level: "warning", msg: `Live migration stuck for ${seconds} seconds`, pos: at(536) });
        lines.push({
          level: "error",
          msg: `Live migration abort detected with reason: ${failureReason}`,
          pos: at(660),
        });
      }
      // The aborted job makes libvirt's migrate call fail too.
      lines.push({ level: "error", msg: "Live migration failed.", pos: at(1416) });
      return { snapshot, lines, mode, end: { failed: true, failureReason, abortStatus: "Succeeded" } };
    }
    progressLine();
    return { snapshot, lines, mode };
  }
}
