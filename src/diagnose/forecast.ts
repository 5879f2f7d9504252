// diagnose's use of the forecast model (migration/forecast.ts): the same model `kvmig migrate`
// runs while it follows a migration, fed here with the source launcher's progress lines found in
// the snapshot, and the VM's settings resolved from the snapshot's KubeVirt CR, MigrationPolicies
// and VMI exactly as the follow resolves them (migration/forecast-subject.ts). not-converging
// states what the model concludes from the samples, and its fix is the model's advice in the
// words and with the MigrationPolicy the migrate warning prints (migration/forecast-text.ts).
//
// The namespace's own labels are not in the snapshot: a policy is matched on its
// kubernetes.io/metadata.name only. KubeVirt records the policy a migration ran under
// (migrationState.migrationPolicyName), which is the one used when the VMI's state is about it.

import {
  type ConvergenceSigns,
  completionTimeoutSeconds,
  convergenceSigns,
  type Forecast,
  type ForecastSubject,
  forecastMigration,
  formatMiB,
} from "../migration/forecast.js";
import { forecastSubject } from "../migration/forecast-subject.js";
import {
  adviceHeading,
  adviceLines,
  applyPolicyCommand,
  policyAdvice,
  policyIntro,
} from "../migration/forecast-text.js";
import { kvmigCommand } from "../util/shell.js";
import type { LauncherProgress } from "./launcher-progress.js";
import type { Fix, Snapshot } from "./types.js";

/** The model's reading of one migration's progress lines. */
export interface SnapshotForecast {
  subject: ForecastSubject;
  forecast: Forecast;
  signs: ConvergenceSigns;
  /** How many progress lines it read. */
  samples: number;
  /** Seconds since the copy began at the last line (its TimeElapsed). */
  elapsedSeconds: number;
  /** The last line's timestamp, when it had one. */
  lastLineAt?: string | undefined;
  /** What the completion timeout scales with: the memory, or the data total when larger. */
  dataBytes: number;
}

/** The forecast subject for the snapshot's VM and one of its migrations. */
function snapshotSubject(s: Snapshot, migrationUid: string | undefined): ForecastSubject {
  return forecastSubject({ namespace: s.namespace, vmName: s.vmName, migrationUid }, s.vmi, {
    kubevirt: s.kubevirt,
    policies: s.migrationPolicies,
    namespaceLabels: { "kubernetes.io/metadata.name": s.namespace },
  });
}

/**
 * The model over a migration's progress lines (oldest first). Undefined when their rates are
 * unknown (a launcher whose release does not say how it wrote them: the rule then gives no
 * numbers), or too few to be sure (fewer than 3 with rates, as the follow's warning waits for).
 */
export function forecastOfLines(
  s: Snapshot,
  migrationUid: string | undefined,
  lines: readonly LauncherProgress[],
): SnapshotForecast | undefined {
  const progress = lines.map((l) => l.progress);
  const last = progress.at(-1);
  if (!last) return undefined;
  const subject = snapshotSubject(s, migrationUid);
  const forecast = forecastMigration(subject, progress);
  if (
    forecast.converging === null ||
    forecast.confidence === "low" ||
    forecast.rateBytesPerSecond === null ||
    forecast.dirtyRateBytesPerSecond === null
  )
    return undefined;
  return {
    subject,
    forecast,
    signs: convergenceSigns(progress),
    samples: progress.length,
    elapsedSeconds: last.elapsedMs / 1000,
    lastLineAt: lines.at(-1)?.entry.time ?? last.at,
    dataBytes: Math.max(subject.memoryBytes, last.dataTotalBytes),
  };
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** What the samples showed: the dirty rate against the rate, and the remainder that did not shrink. */
function samplesText(m: SnapshotForecast): string {
  const { forecast, signs } = m;
  const dirty = forecast.dirtyRateBytesPerSecond ?? 0;
  const rate = forecast.rateBytesPerSecond ?? 0;
  const parts = [
    dirty >= rate
      ? `the guest dirtied ${formatMiB(dirty)}, at least the ${formatMiB(rate)} sent`
      : `the guest dirtied ${formatMiB(dirty)}, less than the ${formatMiB(rate)} sent`,
  ];
  if (signs.notShrinking) {
    const iterations = list(signs.passStarts.map((p) => String(p.iteration)));
    const sizes = list(signs.passStarts.map((p) => String(Math.round(p.remainingBytes / 1024 ** 2))));
    parts.push(`the remaining data at the start of iterations ${iterations} (${sizes} MiB) did not shrink`);
  }
  return parts.join(", and ");
}

/** How the model ends it, in seconds since the copy began. */
function endText(m: SnapshotForecast): string {
  const { forecast, subject, dataBytes } = m;
  const settings = subject.settings;
  const units = Math.max(1, Math.ceil(dataBytes / 1e9));
  const timeout = completionTimeoutSeconds(settings, dataBytes);
  const completion = `completionTimeoutPerGiB ${settings.completionTimeoutPerGiB} s × ${units} started units of 10^9 bytes`;
  const at =
    forecast.endsInSeconds === null ? undefined : Math.round(m.elapsedSeconds + forecast.endsInSeconds);
  switch (forecast.endsBy) {
    case "completion-timeout":
      return `KubeVirt's completion timeout ends it ${timeout} s into the copy (${completion})`;
    case "progress-timeout":
      return `KubeVirt's progress timeout ends it once nothing is sent for ${settings.progressTimeout} s`;
    case "post-copy":
      return `KubeVirt switches it to post-copy at the completion timeout, ${timeout} s into the copy (${completion}), and it completes${at === undefined ? "" : ` ${at} s into the copy`}`;
    case "paused":
      return `KubeVirt pauses the guest at the completion timeout, ${timeout} s into the copy (${completion}), until the copy is done${at === undefined ? "" : ` ${at} s into it`}`;
    case "never":
      return "no completion timeout ends it: it runs until someone cancels it";
    default:
      return `it completes${at === undefined ? "" : ` ${at} s into the copy`}`;
  }
}

/**
 * The model's conclusion about a migration that ended (at `endedAt`, when known), for the
 * finding's summary: what its progress lines showed, whether pre-copy could converge, which
 * timeout ends such a copy and when; then when this one ended, in the same count: seconds into
 * the copy, the last line's TimeElapsed plus the time from that line to the end. (The VMI's
 * startTimestamp is earlier: the hand-off to the target precedes the copy.)
 */
export function endedConclusion(m: SnapshotForecast, endedAt: string | undefined): string {
  const head = `kvmig's forecast model, from the ${m.samples} progress lines of this migration: ${samplesText(m)}`;
  const after = (Date.parse(endedAt ?? "") - Date.parse(m.lastLineAt ?? "")) / 1000;
  const when = Number.isFinite(after)
    ? ` It ended ${Math.round(m.elapsedSeconds + Math.max(0, after))} s into the copy, at ${endedAt}.`
    : "";
  if (m.forecast.converging)
    return `${head}; at that pace pre-copy would have converged, so the guest's writing does not explain the abort.${when}`;
  return `${head}: pre-copy could not converge, and at that pace ${endText(m)}.${when}`;
}

/** The model's conclusion about a migration that still runs: its forecast, as the follow says it. */
export function runningConclusion(m: SnapshotForecast): string {
  const verdict = m.forecast.converging ? "converges" : "will not converge";
  return `kvmig's forecast model, from its ${m.samples} progress lines: ${verdict}: ${m.forecast.reason}.`;
}

/**
 * The fix from the model's advice, ranked as the forecast ranks it, in the words of the migrate
 * warning: the remedies, then the first one's MigrationPolicy applied with kubectl, and the
 * migration started again. Undefined when the model has no advice (it converges).
 */
export function modelFix(s: Snapshot, m: SnapshotForecast): Fix | undefined {
  const { advice } = m.forecast;
  if (advice.length === 0) return undefined;
  const top = policyAdvice(advice);
  return {
    explanation: [adviceHeading, ...adviceLines(advice), ...(top ? [policyIntro] : [])].join("\n"),
    commands: [
      ...(top ? [applyPolicyCommand(top.yaml, top.label)] : []),
      kvmigCommand(["migrate", s.vmName, "-n", s.namespace]),
    ],
  };
}
