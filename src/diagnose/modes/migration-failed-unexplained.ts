// migration-failed-unexplained: a migration of the VM failed, is stuck or was refused, and no
// other rule explains it. Diagnose is never "no problems found" then: this fallback runs after
// every other rule, and when none of them raised a problem it quotes every piece of failure
// evidence the snapshot holds and says where to look next.
//
// State signature (no message needed): a relevant VMIM in phase Failed that nobody cancelled
// (no migrationAbortRequested condition, no deletionTimestamp, no abortRequested on the VMI), the
// VMI's status.migrationState with failed=true, an unfinished VMIM past the time its phase can
// take, an abort that has not finished, an API call the caller saw refused — each newer than
// the last successful migration (src/diagnose/failure-signals.ts). Texts only fill the evidence.

import type { Pod } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  eventAtOrAfter,
  eventEvidence,
  eventsCommand,
  type LogEntry,
  logEntries,
  logEvidence,
  migrationObject,
  nonEmpty,
  relevantSince,
  sourcePodOf,
  targetPodNamesOf,
  vmiObject,
} from "../evidence.js";
import { type FailureSignal, failureSignals } from "../failure-signals.js";
import type { Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "migration-failed-unexplained";
const title = "Migration failed, and no known failure mode explains it";
const docs = "https://kubevirt.io/user-guide/debug_virt_stack/logging/";
/** Launcher log lines that read as errors, when the level is not recorded. */
const errorText = /\b(error|failed|failure|unable|cannot|refused|denied|timed? ?out|abort)/i;
/** How many error lines of each launcher log to quote. */
const logLinesPerPod = 3;

function containerStateText(pod: Pod): string | undefined {
  const parts: string[] = [];
  for (const c of pod.status?.containerStatuses ?? []) {
    const t = c.state?.terminated ?? c.lastState?.terminated;
    const w = c.state?.waiting;
    if (t)
      parts.push(
        `${c.name} terminated: ${t.reason ?? "?"} (exit code ${t.exitCode ?? "?"})${t.message ? `: ${t.message}` : ""}`,
      );
    else if (w?.reason) parts.push(`${c.name} waiting: ${w.reason}${w.message ? `: ${w.message}` : ""}`);
  }
  const phase = pod.status?.phase;
  const deleted = pod.metadata.deletionTimestamp ? ", being deleted" : "";
  if (parts.length === 0 && !phase) return undefined;
  return `${phase ?? "no phase"}${pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : ", not scheduled"}${deleted}${parts.length ? `; ${parts.join("; ")}` : ""}`;
}

/** Every piece of failure evidence the snapshot holds about the signals' migrations. */
function failureEvidence(s: Snapshot, signals: readonly FailureSignal[]): Evidence[] {
  const out: Evidence[] = [];
  const seen = new Set<string>();
  const add = (found: Evidence) => {
    // An event without a message still says what happened, by its reason.
    const e = found.text === "" ? { ...found, text: "(no message)" } : found;
    const key = `${e.object}\u0000${e.field ?? ""}\u0000${e.text}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(e);
  };
  for (const signal of signals) for (const e of signal.evidence) add(e);
  const migrations = signals.map((x) => x.migration).filter((m) => m !== undefined);
  for (const m of migrations) {
    const reason = m.status?.migrationState?.failureReason;
    if (reason)
      add({ object: migrationObject(m), field: "status.migrationState.failureReason", text: reason });
    for (const c of m.status?.conditions ?? []) {
      if (c.status !== "True") continue;
      add({
        object: migrationObject(m),
        field: `status.conditions[${c.type}]`,
        time: c.lastTransitionTime ?? undefined,
        text: [c.reason, c.message].filter(Boolean).join(": ") || "True",
      });
    }
  }
  const state = s.vmi?.status?.migrationState;
  if (state?.failureReason)
    add({
      object: vmiObject(s),
      field: "status.migrationState.failureReason",
      time: state.endTimestamp ?? undefined,
      text: state.failureReason,
    });
  // The launcher pods: the source, and every target pod the migrations had.
  const podNames = new Set<string>();
  for (const m of migrations) {
    const source = sourcePodOf(s, m)?.metadata.name;
    if (source) podNames.add(source);
    for (const name of targetPodNamesOf(s, m)) podNames.add(name);
  }
  if (state?.sourcePod) podNames.add(state.sourcePod);
  if (state?.targetPod) podNames.add(state.targetPod);
  for (const name of podNames) {
    const pod = s.pods.find((p) => p.metadata.name === name);
    const text = pod && containerStateText(pod);
    if (pod && text && (pod.status?.phase !== "Running" || /terminated|waiting/.test(text)))
      add({ object: `Pod/${name}`, field: "status", text });
  }
  // Warning events on the VM, the VMI, its migrations and its pods since the relevant migrations began.
  const since = relevantSince(s);
  const names = new Set<string>([s.vmName, ...migrations.map((m) => m.metadata.name ?? ""), ...podNames]);
  for (const event of s.events) {
    if (event.type !== "Warning" || !names.has(event.involvedObject.name ?? "")) continue;
    if (eventAtOrAfter(event, since)) add(eventEvidence(event));
  }
  // The last error lines of each launcher log.
  const byPod = new Map<string, LogEntry[]>();
  for (const entry of logEntries(s)) {
    const isError = entry.level === "error" || (entry.level === undefined && errorText.test(entry.text));
    if (!isError || /^Migration info for /.test(entry.text)) continue;
    byPod.set(entry.pod, [...(byPod.get(entry.pod) ?? []), entry]);
  }
  for (const entries of byPod.values())
    for (const entry of entries.slice(-logLinesPerPod)) add(logEvidence(entry));
  return out;
}

function handlerLogsCommand(s: Snapshot, node: string): string {
  const ns = s.kubevirt?.metadata.namespace ?? "kubevirt";
  const pods = commandLine([
    "kubectl",
    "get",
    "pods",
    "-n",
    ns,
    "-l",
    "kubevirt.io=virt-handler",
    "--field-selector",
    `spec.nodeName=${node}`,
    "-o",
    "name",
  ]);
  return `${commandLine(["kubectl", "logs", "-n", ns])} $(${pods}) --since=2h`;
}

function nextSteps(s: Snapshot, signals: readonly FailureSignal[]): string[] {
  const ns = ["-n", s.namespace];
  const commands: string[] = [];
  const migrations = signals.map((x) => x.migration).filter((m) => m !== undefined);
  const state = s.vmi?.status?.migrationState;
  const launchers = new Set<string>();
  const nodes = new Set<string>();
  for (const m of migrations) {
    const source = sourcePodOf(s, m)?.metadata.name;
    if (source) launchers.add(source);
    for (const name of targetPodNamesOf(s, m)) launchers.add(name);
    const own = m.status?.migrationState;
    for (const node of [own?.sourceNode, own?.targetNode]) if (node) nodes.add(node);
  }
  for (const name of [state?.sourcePod, state?.targetPod]) if (name) launchers.add(name);
  for (const node of [state?.sourceNode, state?.targetNode, s.vmi?.status?.nodeName])
    if (node) nodes.add(node);
  for (const name of launchers) {
    const node = s.pods.find((p) => p.metadata.name === name)?.spec?.nodeName;
    if (node) nodes.add(node);
  }
  for (const name of launchers) commands.push(commandLine(["kubectl", "logs", name, ...ns, "-c", "compute"]));
  if (launchers.size === 0)
    commands.push(
      commandLine(["kubectl", "get", "pods", ...ns, "-o", "wide", "-l", `vm.kubevirt.io/name=${s.vmName}`]),
    );
  for (const node of nodes) commands.push(handlerLogsCommand(s, node));
  commands.push(eventsCommand(s, s.vmName));
  commands.push(kvmigCommand(["diagnose", s.vmName, ...ns, "--dump", `kvmig-dump-${s.vmName}`]));
  return commands;
}

function detect(s: Snapshot, earlier: readonly Finding[] = []): Finding[] {
  const explained = earlier.some((f) => f.id !== id && (f.severity === "error" || f.severity === "warning"));
  if (explained) return [];
  const signals = failureSignals(s);
  if (signals.length === 0) return [];
  const what = signals.map((x) => x.description);
  const notChecked: string[] = [];
  if (s.events.length === 0)
    notChecked.push("events (none in the snapshot: expired after an hour, or not read)");
  if (!s.logs.some((l) => l.lines.length > 0))
    notChecked.push("the virt-launcher logs (the source's and the target's own error lines)");
  notChecked.push("virt-handler's logs on the source and target nodes (not part of a snapshot)");
  return [
    {
      id,
      title,
      severity: "error",
      confidence: "low",
      summary:
        `${what.join("; ")}. None of the known failure modes matches the evidence, so the cause is not named here: ` +
        "every piece of failure evidence found is quoted below. The launcher and virt-handler logs of both nodes usually say what happened.",
      evidence: failureEvidence(s, signals),
      fix: {
        explanation:
          "Read the source and target virt-launcher logs and virt-handler's log on both nodes around the failure time; " +
          "if the cause is still unclear, write the evidence to a directory with --dump and attach it to a bug report.",
        commands: nextSteps(s, signals),
      },
      docs,
      notChecked: nonEmpty(notChecked),
    },
  ];
}

export const migrationFailedUnexplained: Rule = {
  id,
  title,
  severity: "error",
  specificity: "fallback",
  detect,
};
