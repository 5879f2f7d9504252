// Following one migration to its end: watches on the VMIM, the VMI and the namespace's events,
// the source launcher's `compute` log (or Prometheus) for progress, and a periodic "why is it
// Pending" look. Everything flows into the pure reducer (migration/state.ts); each change goes to
// the observer, which the caller renders. A migration that failed is then diagnosed (followToEnd).
// Ctrl-C and --timeout stop the following only; the migration itself is never touched here.
// The watches ride out an API server that is away (k8s/watch.ts) until then, telling the outage
// through `outage`: a follow never gives up on its own before its --timeout.

import type { Clock } from "../clock.js";
import type { Finding } from "../diagnose/types.js";
import { timeLimit } from "../duration.js";
import { describeError, KvmigError } from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { kubevirtVersionOfLauncherImage, launcherKubeVirtVersion } from "../k8s/launcher-image.js";
import type { ApiOutage } from "../k8s/outage.js";
import type { Event, KubeVirt, Pod, VirtualMachineInstanceMigration } from "../k8s/types.js";
import type { ForecastContext } from "../migration/forecast-subject.js";
import { readOutboundNodes } from "../migration/outbound.js";
import { countsTowardsLimits, explainPending, type PendingReason } from "../migration/pending.js";
import { limitsOf } from "../migration/preflight.js";
import { parseAbortLine, parseMigrationInfo, progressLoggedByDefault } from "../migration/progress-line.js";
import { type FollowInput, initialView, type MigrationView, reduce } from "../migration/state.js";
import { forecastOfView, readForecastContext } from "./forecast.js";

export type FollowChange =
  | { kind: "phase"; from: string; to: string }
  | { kind: "progress" }
  | { kind: "pending"; reasons: PendingReason[] }
  | { kind: "event"; event: Event }
  | { kind: "note"; text: string };

export interface FollowMigrationInput {
  namespace: string;
  vmName: string;
  migration: VirtualMachineInstanceMigration;
  signal: AbortSignal;
  /** 0: no limit. */
  timeoutMs: number;
  clock: Clock;
  prometheusUrl?: string | undefined;
  /** Explain a Pending phase once it lasted this long. */
  pendingAfterMs?: number | undefined;
  debug?: ((line: string) => void) | undefined;
  /** Where the watches tell an API outage they ride out; untold without. */
  outage?: ApiOutage | undefined;
}

/** What a follow tells as it goes: each change of the migration's view. */
export interface FollowObserver {
  onChange(view: MigrationView, change: FollowChange): void;
  /** The following is over (before a failure is diagnosed): a live line can stop. */
  onFollowEnd?(): void | Promise<void>;
}

export type FollowEnd = { kind: "done" | "timeout" | "interrupted"; view: MigrationView };

const pendingPollMs = 5000;
const settleMs = 400;
const migrationJobLabel = "kubevirt.io/migrationJobUID";

/** A queue many producers push into and one consumer iterates. */
class Channel<T> {
  #items: T[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#wake?.();
  }
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

type Signal =
  | FollowInput
  | { kind: "tick" }
  | { kind: "stop"; why: "timeout" | "interrupted" }
  | { kind: "failed"; error: unknown };

export async function followMigration(
  kube: KubeClient,
  options: FollowMigrationInput,
  observer?: FollowObserver,
): Promise<FollowEnd> {
  const { namespace, vmName, clock } = options;
  const stop = new AbortController();
  const onAbort = () => channel.push({ kind: "stop", why: "interrupted" });
  const channel = new Channel<Signal>();
  options.signal.addEventListener("abort", onAbort, { once: true });
  if (options.signal.aborted) onAbort();

  let view = initialView(options.migration, vmName);
  let current = options.migration;
  let currentVmi: Parameters<typeof explainPending>[0]["vmi"];
  // The server's clock may run ahead of ours (skew, or a simulated cluster running faster):
  // "now" is never earlier than the newest server timestamp seen.
  let serverTime = 0;
  const observe = (time: string | null | undefined) => {
    const ms = Date.parse(time ?? "");
    if (!Number.isNaN(ms) && ms > serverTime) serverTime = ms;
  };
  const now = () => Math.max(clock.now(), serverTime);
  const iso = () => new Date(now()).toISOString();
  const events: Event[] = [];
  const relevant = (e: Event) => {
    const name = e.involvedObject.name;
    return (
      name === vmName ||
      name === view.name ||
      (name !== undefined && name === view.targetPod) ||
      name === view.sourcePod
    );
  };
  const since = Date.parse(view.createdAt ?? "") - 1000;
  let seen = false;

  const pump = async <T>(source: AsyncIterable<T>, map: (item: T) => Signal | undefined, what: string) => {
    try {
      for await (const item of source) {
        const signal = map(item);
        if (signal) channel.push(signal);
      }
    } catch (error) {
      if (!stop.signal.aborted)
        channel.push({
          kind: "failed",
          error: new KvmigError(`${what}: ${describeError(error).message}`, { cause: error }),
        });
    }
  };

  const watchOptions = { namespace, signal: stop.signal, outage: options.outage };
  const tasks: Promise<void>[] = [
    pump(
      kube.watch("vmim", { ...watchOptions, labelSelector: `kubevirt.io/vmi-name=${vmName}` }),
      (u) => {
        if (u.type !== "SYNCED") {
          if (u.object.metadata.uid === view.uid) seen = true;
          return { kind: "migration", type: u.type, object: u.object };
        }
        // Gone before the watch began (a cancel that finished at once): say so to the reducer.
        return seen ? undefined : { kind: "migration", type: "DELETED", object: current };
      },
      "watching migrations",
    ),
    pump(
      kube.watch("vmi", { ...watchOptions, fieldSelector: `metadata.name=${vmName}` }),
      (u) => (u.type === "SYNCED" ? undefined : { kind: "vmi", type: u.type, object: u.object }),
      "watching the VMI",
    ),
    // Events are context, not essential: a user who may not list them still gets the rest.
    // The ones already there come in the list's order (by object); they are told in time order,
    // as they happened (a finished migration's whole story comes this way).
    (async () => {
      let listed: Event[] | undefined = [];
      try {
        for await (const u of kube.watch("event", watchOptions)) {
          if (u.type === "SYNCED") {
            for (const object of byTime(listed ?? [])) channel.push({ kind: "event", object });
            listed = undefined;
            continue;
          }
          if (u.type === "DELETED") continue;
          const time = eventTime(u.object);
          if (!Number.isNaN(since) && time < since) continue;
          if (listed) listed.push(u.object);
          else channel.push({ kind: "event", object: u.object });
        }
      } catch (error) {
        if (!stop.signal.aborted) options.debug?.(`events not followed: ${describeError(error).message}`);
      }
    })(),
  ];

  const timeout = timeLimit(options.timeoutMs);
  if (timeout !== undefined) {
    tasks.push(
      clock.sleep(timeout, stop.signal).then(
        () => channel.push({ kind: "stop", why: "timeout" }),
        () => {},
      ),
    );
  }
  // A tick drives the pending explanation and the Prometheus poll.
  tasks.push(
    (async () => {
      try {
        await clock.sleep(options.pendingAfterMs ?? 3000, stop.signal);
        for (;;) {
          channel.push({ kind: "tick" });
          await clock.sleep(pendingPollMs, stop.signal);
        }
      } catch {
        // Stopped.
      }
    })(),
  );

  let logsFrom: string | undefined;
  let kubevirt: Promise<KubeVirt | undefined> | undefined;
  // The source launcher's image: the VMI's first while the migration runs (the target's replaces
  // it once the migration completes). Its release says how the progress line's rates read.
  let sourceImage: string | undefined;
  let kubevirtForRates: KubeVirt | undefined;
  // Read at the first progress sample: what the forecast's settings resolve from.
  let forecastContext: Promise<ForecastContext> | undefined;
  let lastPending = "";
  let ended: FollowEnd["kind"] | undefined;
  let settleUntil: number | undefined;

  const launcherVersion = () => launcherKubeVirtVersion(sourceImage, currentVmi, kubevirtForRates);
  let ratesExplained = false;

  const followLogs = (pod: string) => {
    logsFrom = pod;
    tasks.push(
      (async () => {
        // Without a release in the image's tag, the KubeVirt CR may tell (launcher-image.ts).
        if (!kubevirtVersionOfLauncherImage(sourceImage)) {
          kubevirt ??= kube.findKubeVirt().catch(() => undefined);
          kubevirtForRates = await kubevirt;
        }
        const version = launcherVersion();
        if (version && progressLoggedByDefault(version) === false)
          observer?.onChange(view, {
            kind: "note",
            text: `virt-launcher ${version} logs its progress only at verbosity 4 (spec.configuration.developerConfiguration.logVerbosity.virtLauncher): live progress may not show`,
          });
        for (let attempt = 0; !stop.signal.aborted && attempt < 5; attempt++) {
          try {
            for await (const line of kube.followPodLogs(namespace, pod, {
              container: "compute",
              tailLines: 20,
              signal: stop.signal,
            })) {
              const progress = parseMigrationInfo(line, launcherVersion());
              if (progress) channel.push({ kind: "progress", progress });
              if (progress && progress.bandwidthBytesPerSecond === undefined && !ratesExplained) {
                ratesExplained = true;
                observer?.onChange(view, {
                  kind: "note",
                  text: `bandwidth and dirty rate unknown: the source launcher's KubeVirt release cannot be told${sourceImage ? ` from ${sourceImage}` : ""}, and v1.0.1 to v1.2.0 logged them 64 times too small`,
                });
              }
              const abort = parseAbortLine(line);
              if (abort)
                channel.push({
                  kind: "launcher",
                  text: `Aborting migration: ${abort.why === "stuck" ? "stuck for" : "not completed after"} ${abort.seconds} seconds`,
                });
            }
            return;
          } catch (error) {
            if (stop.signal.aborted) return;
            const { message } = describeError(error);
            if (/forbidden|403/i.test(message)) {
              channel.push({ kind: "tick" });
              observer?.onChange(view, {
                kind: "note",
                text: `progress unavailable: cannot read the launcher log (${message}); --prometheus-url reads it from Prometheus`,
              });
              return;
            }
            options.debug?.(`launcher log of ${pod}: ${message}; retrying`);
            await clock.sleep(1000, stop.signal).catch(() => {});
          }
        }
      })(),
    );
  };

  const pollPrometheus = async (url: string) => {
    try {
      const { queryMigrationProgress } = await import("../metrics/prometheus.js");
      const progress = await queryMigrationProgress(
        url,
        { namespace, vmi: vmName, migrationUid: view.uid },
        stop.signal,
      );
      if (progress) channel.push({ kind: "progress", progress });
    } catch (error) {
      if (!stop.signal.aborted) {
        const { message, hint } = describeError(error);
        observer?.onChange(view, { kind: "note", text: hint ? `${message}; ${hint}` : message });
      }
    }
  };

  const explain = async () => {
    try {
      kubevirt ??= kube.findKubeVirt().catch(() => undefined);
      const [cluster, pods, kv] = await Promise.all([
        kube.list("vmim", {}).catch(() => undefined),
        kube
          .list("pod", { namespace, labelSelector: `${migrationJobLabel}=${view.uid}` })
          .catch((): Pod[] => []),
        kubevirt,
      ]);
      const unfinished = cluster?.filter((m) => !["Succeeded", "Failed"].includes(m.status?.phase ?? ""));
      // The per-node count comes from the running migrations' VMIs, as virt-controller's does.
      const outboundNodes = await readOutboundNodes(kube, unfinished?.filter(countsTowardsLimits) ?? []);
      for (const pod of pods) observe(pod.metadata.creationTimestamp);
      const reasons = explainPending({
        migration: current,
        vmi: currentVmi,
        clusterMigrations: unfinished,
        outboundNodes,
        limits: limitsOf(kv),
        targetPods: pods,
        events,
        now: now(),
      });
      const text = reasons.map((r) => r.text).join("; ");
      if (text !== lastPending && view.outcome === "in-progress" && isWaiting(view.phase, pods)) {
        lastPending = text;
        observer?.onChange(view, { kind: "pending", reasons });
      }
    } catch (error) {
      options.debug?.(`explaining the Pending phase: ${describeError(error).message}`);
    }
  };

  try {
    for await (const signal of channel) {
      if (signal.kind === "stop") {
        ended = signal.why;
        break;
      }
      if (signal.kind === "failed") throw signal.error;
      if (signal.kind === "tick") {
        if (view.outcome !== "in-progress") continue;
        if (isWaiting(view.phase, [])) void explain();
        if (options.prometheusUrl && view.phase === "Running") void pollPrometheus(options.prometheusUrl);
        continue;
      }
      if (signal.kind === "migration" && signal.object.metadata.uid === view.uid) {
        current = signal.object;
        for (const t of current.status?.phaseTransitionTimestamps ?? []) observe(t.phaseTransitionTimestamp);
      }
      if (signal.kind === "vmi") {
        currentVmi = signal.object;
        const state = signal.object.status?.migrationState;
        if (view.outcome === "in-progress" && !(state?.migrationUid === view.uid && state.completed))
          sourceImage ||= signal.object.status?.launcherContainerImageVersion || undefined;
      }
      if (signal.kind === "event") {
        if (!relevant(signal.object)) continue;
        observe(signal.object.lastTimestamp ?? signal.object.eventTime ?? signal.object.firstTimestamp);
        events.push(signal.object);
      }
      const before = view;
      view = reduce(view, signal, iso());
      if (signal.kind === "event") observer?.onChange(view, { kind: "event", event: signal.object });
      if (before.phase !== view.phase)
        observer?.onChange(view, { kind: "phase", from: before.phase, to: view.phase });
      if (signal.kind === "progress" && view.progress !== before.progress) {
        forecastContext ??= readForecastContext(kube, namespace);
        view = { ...view, forecast: forecastOfView(view, currentVmi, await forecastContext) };
        observer?.onChange(view, { kind: "progress" });
      }
      if (
        !logsFrom &&
        !options.prometheusUrl &&
        view.sourcePod &&
        view.outcome === "in-progress" &&
        ["Scheduled", "PreparingTarget", "TargetReady", "Running"].includes(view.phase)
      ) {
        followLogs(view.sourcePod);
      }
      if (view.outcome !== "in-progress" && settleUntil === undefined) {
        // Trailing events and the launcher's last line arrive just after the phase change.
        settleUntil = clock.now() + settleMs;
        tasks.push(
          clock.sleep(settleMs, stop.signal).then(
            () => channel.push({ kind: "stop", why: "timeout" }),
            () => {},
          ),
        );
      }
      if (settleUntil !== undefined && clock.now() >= settleUntil) break;
    }
  } finally {
    stop.abort();
    options.signal.removeEventListener("abort", onAbort);
    channel.close();
  }
  const kind: FollowEnd["kind"] = view.outcome !== "in-progress" ? "done" : (ended ?? "interrupted");
  return { kind, view };
}

/** A followed migration's end, with what diagnose found when it failed. */
export interface FollowResult {
  end: FollowEnd;
  /** The top findings of a failed migration (none otherwise, or when diagnose could not run). */
  findings: Finding[];
  /** When the follow ended (the clock's time), for the summary and the findings. */
  endedAt: string;
}

/** How many findings a failed migration's result carries. */
const topFindings = 3;

/**
 * Follows the migration to its end (followMigration), tells the observer the following is over,
 * and diagnoses a migration that failed, as `kvmig diagnose` would (src/diagnose/live.ts).
 */
export async function followToEnd(
  kube: KubeClient,
  input: FollowMigrationInput,
  observer?: FollowObserver,
): Promise<FollowResult> {
  let end: FollowEnd;
  try {
    end = await followMigration(kube, input, observer);
  } finally {
    await observer?.onFollowEnd?.();
  }
  const endedAt = new Date(input.clock.now()).toISOString();
  const findings = end.view.outcome === "failed" ? await diagnoseFailure(kube, input, endedAt) : [];
  return { end, findings, endedAt };
}

/** What diagnose finds about a failed migration; nothing (and a debug line) when it cannot run. */
async function diagnoseFailure(
  kube: KubeClient,
  input: FollowMigrationInput,
  now: string,
): Promise<Finding[]> {
  try {
    const { diagnoseLive } = await import("../diagnose/live.js");
    const { report } = await diagnoseLive(kube, { namespace: input.namespace, vmName: input.vmName }, now);
    return report.findings.slice(0, topFindings);
  } catch (error) {
    input.debug?.(`diagnose after the failure: ${describeError(error).message}`);
    return [];
  }
}

/** When an event last happened: lastTimestamp, eventTime, firstTimestamp, else its creation (ms). */
function eventTime(e: Event): number {
  return Date.parse(
    e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? "",
  );
}

/** Events oldest first; those without a time, and ties, keep their order (sort is stable). */
function byTime(events: readonly Event[]): Event[] {
  const at = (e: Event) => {
    const ms = eventTime(e);
    return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
  };
  return [...events].sort((a, b) => at(a) - at(b));
}

function isWaiting(phase: string, targetPods: readonly Pod[]): boolean {
  return (
    phase === "" ||
    phase === "Pending" ||
    phase === "Scheduling" ||
    targetPods.some((p) => p.status?.phase === "Pending")
  );
}
