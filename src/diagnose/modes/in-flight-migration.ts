// in-flight-migration: a new migration was refused because KubeVirt believes another one of the
// same VMI is unfinished. The create webhook says "in-flight migration detected. Active migration
// job (<uid>) is currently already in progress for VMI <name>." (through virt-api's migrate
// subresource it arrives wrapped in a 500 "Internal error occurred: ..."); the workload updater
// and the evacuation controller report it in FailedCreate events; a VMIM that lost the race fails
// with "VMI is not eligible for migration because another migration job is in progress." The
// finding names the blocking migration. When that one is final or gone, KubeVirt up to v0.39
// refused on the VMI's open record alone (a stale record: stale-migration-state); since v0.40.0
// both refusals need an unfinished VMIM, so the blocker has finished since and a retry goes through.
//
// State signature: a FailedCreate Warning event on the VMI from the workload updater or the
// evacuation controller (they create migrations) at a time when a VMIM of the VMI was unfinished;
// with no text, that is the one refusal they meet while a migration runs (low confidence). A
// FailedCreate whose text names another cause is not this mode.

import type { Event, VirtualMachineInstanceMigration } from "../../k8s/types.js";
import { commandLine, kvmigCommand } from "../../util/shell.js";
import {
  eventEvidence,
  eventTime,
  findEvents,
  isFinal,
  migrationEndTime,
  migrationObject,
  nonEmpty,
  vmiObject,
} from "../evidence.js";
import type { Confidence, Evidence, Finding, Rule, Snapshot } from "../types.js";
import { openRecordRefusesMigrations } from "./stale-migration-state.js";

const id = "in-flight-migration";
const title = "Migration refused: another migration is in flight";
const docs = "https://kubevirt.io/user-guide/compute/live_migration/";
const inFlight =
  /in-flight migration detected\. Active migration job \(([^)]+)\) is currently already in progress for VMI ([^\s.]+)/;
const notEligible = /VMI is not eligible for migration because another migration job is in progress/;

function migrationsUnread(s: Snapshot): boolean {
  return s.missing.some((m) => /VirtualMachineInstanceMigration/.test(m.what));
}

/** The controllers that create migrations by themselves (their event source components). */
const migrationCreators = /workload-update|evacuation|disruption/i;

/**
 * A FailedCreate from a controller that creates migrations, with no message, while a VMIM of the
 * VMI was unfinished: the refusal, known from state and timing alone.
 */
function textlessRefusal(
  s: Snapshot,
): { event: Event; running: VirtualMachineInstanceMigration } | undefined {
  for (const event of findEvents(s, {
    kind: "VirtualMachineInstance",
    reason: "FailedCreate",
    type: "Warning",
  }).reverse()) {
    if (event.message || !migrationCreators.test(event.source?.component ?? event.reportingComponent ?? ""))
      continue;
    const at = Date.parse(eventTime(event) ?? "");
    const running = s.migrations.find((m) => {
      const created = Date.parse(m.metadata.creationTimestamp ?? "");
      const ended = Date.parse(migrationEndTime(s, m) ?? "");
      return created <= at && (!isFinal(m) || Number.isNaN(ended) || ended >= at);
    });
    if (running) return { event, running };
  }
  return undefined;
}

export const inFlightMigration: Rule = {
  id,
  title,
  severity: "warning",
  specificity: "symptom",
  detect(s: Snapshot): Finding[] {
    const evidence: Evidence[] = [];
    let blockingUid: string | undefined;
    for (const r of s.rejections) {
      const m = inFlight.exec(r.message);
      if (!m || (m[2] !== undefined && m[2] !== s.vmName && m[2] !== s.vmi?.metadata.name)) continue;
      blockingUid = m[1];
      evidence.push({
        object: r.request,
        field: `HTTP ${r.status}${r.reason ? ` ${r.reason}` : ""}`,
        time: r.at,
        text: r.message,
      });
    }
    const events = findEvents(s, { message: inFlight }).filter((e) => {
      const m = inFlight.exec(e.message ?? "");
      return m?.[2] === s.vmName || m?.[2] === s.vmi?.metadata.name;
    });
    const last = events.at(-1);
    if (last) {
      evidence.push(eventEvidence(last));
      blockingUid ??= inFlight.exec(last.message ?? "")?.[1];
    }
    const lost = findEvents(s, { kind: "VirtualMachineInstanceMigration", message: notEligible }).at(-1);
    if (lost) evidence.push(eventEvidence(lost));
    let textless = false;
    if (evidence.length === 0) {
      const refusal = textlessRefusal(s);
      if (!refusal) return [];
      textless = true;
      evidence.push(eventEvidence(refusal.event), {
        object: migrationObject(refusal.running),
        field: "status.phase",
        text: `${refusal.running.status?.phase || "unset"} when ${refusal.event.source?.component ?? "a controller"} failed to create a migration`,
      });
    }

    const state = s.vmi?.status?.migrationState;
    blockingUid ??= state?.migrationUid;
    const blocking: VirtualMachineInstanceMigration | undefined =
      (blockingUid ? s.migrations.find((m) => m.metadata.uid === blockingUid) : undefined) ??
      s.migrations.filter((m) => !isFinal(m) && m.metadata.name !== lost?.involvedObject.name).at(-1);
    const unread = migrationsUnread(s);
    const notChecked: string[] = [];
    let confidence: Confidence = textless ? "low" : "high";
    if (textless) notChecked.push("the refusal's text (the FailedCreate event carries no message)");
    let summary: string;
    let fix: Finding["fix"];
    let causedBy: string | undefined;
    if (blocking && !isFinal(blocking)) {
      evidence.push({
        object: migrationObject(blocking),
        field: "status.phase",
        text: `${blocking.status?.phase || "unset"} (UID ${blocking.metadata.uid ?? "?"})`,
      });
      summary = `A new migration of ${s.vmName} was refused because ${migrationObject(blocking)} is still ${blocking.status?.phase || "unset"}. KubeVirt allows one unfinished migration per VMI.`;
      fix = {
        explanation: "Follow the migration that is already under way, or cancel it and start again.",
        commands: [
          kvmigCommand(["watch", s.vmName, "-n", s.namespace]),
          kvmigCommand(["cancel", s.vmName, "-n", s.namespace]),
        ],
      };
    } else {
      // Up to v0.39 the webhook refused on the VMI's open record alone; since v0.40.0 it refuses
      // only while a VMIM of the VMI is unfinished, and virt-controller's "not eligible" only while
      // the record's VMIM is (migration-create-admitter.go, migration.go canMigrateVMI): a blocker
      // that is final or gone now has finished since the refusal.
      const recordRefuses = openRecordRefusesMigrations(s);
      const openState =
        recordRefuses &&
        state?.migrationUid !== undefined &&
        state.migrationUid === blockingUid &&
        state.completed !== true &&
        state.failed !== true;
      if (openState) {
        evidence.push({
          object: vmiObject(s),
          field: "status.migrationState",
          text: `migrationUid: ${state?.migrationUid}, completed and failed not set`,
        });
      }
      if (unread) {
        confidence = "medium";
        notChecked.push(
          "the VMIMs of this VM (not in the snapshot), so whether the blocking migration still runs",
        );
      }
      summary =
        `A new migration of ${s.vmName} was refused as in flight, but ${blocking ? `the blocking ${migrationObject(blocking)} is already ${blocking.status?.phase}` : `no VMIM with UID ${blockingUid ?? "?"} exists`}` +
        (openState
          ? ": the VMI still carries that migration's unfinished record, which is what this KubeVirt's webhook checks."
          : recordRefuses || (unread && !blocking)
            ? "."
            : ": it was unfinished when the migration was refused and has finished since. Nothing refuses a new migration now (KubeVirt refuses only while a VMIM of the VMI is unfinished).");
      causedBy = openState ? "stale-migration-state" : undefined;
      fix = recordRefuses
        ? {
            explanation: openState
              ? "The record will not clear by itself: restart the VM (downtime) to start a fresh VMI, then migrate."
              : "Retry once the VMI's migration state is final; if the refusal repeats, restart the VM (downtime).",
            commands: [
              commandLine([
                "kubectl",
                "get",
                "vmi",
                s.vmName,
                "-n",
                s.namespace,
                "-o",
                "jsonpath={.status.migrationState}",
              ]),
              kvmigCommand(["restart", s.vmName, "-n", s.namespace]),
            ],
          }
        : {
            explanation:
              unread && !blocking
                ? "Start the migration again; if it is refused again, the blocking migration still runs: follow it, or cancel it."
                : "Start the migration again; if it is refused again, another migration has started meanwhile.",
            commands: [
              kvmigCommand(["migrate", s.vmName, "-n", s.namespace]),
              kvmigCommand(["watch", s.vmName, "-n", s.namespace]),
            ],
          };
    }
    return [
      {
        id,
        title,
        severity: causedBy ? "error" : "warning",
        confidence,
        summary,
        evidence,
        fix,
        docs: causedBy ? "https://github.com/kubevirt/kubevirt/issues/2495" : docs,
        notChecked: nonEmpty(notChecked),
        causedBy,
      },
    ];
  },
};
