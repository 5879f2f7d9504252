// The migration series virt-controller exports and a Prometheus beside the cluster keeps: what
// `kvmig history --prometheus-url` reads once KubeVirt has garbage-collected a VMIM.
//
// - `kubevirt_vmi_migration_succeeded` / `_failed` {vmi, vmim, namespace} = 1: one per final VMIM
//   in virt-controller's informer, so reported from the VMIM's final phase until it is
//   garbage-collected (pkg/monitoring/metrics/virt-controller/migrationstats_collector.go; named
//   so since v1.2.0, with `namespace` since v1.3.0).
// - `kubevirt_vmi_migration_start_time_seconds` {node, namespace, name, migration_name} and
//   `kubevirt_vmi_migration_end_time_seconds` {..., status}: the VMI's migrationState start and
//   end stamps (unix seconds), reported while that record is the VMI's, `node` being the VMI's
//   node at the scrape: the source while it runs, the target once a move succeeded
//   (vmistats_collector.go collectVMIMigrationTime, since v1.5.0).
//
// A series is kept here as the span it was reported over, not as scrapes: Prometheus's
// `*_over_time(...[range])` over a window only asks whether, and with what value, it was there.

import type { Json } from "./format.js";

export interface MetricSeries {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Epoch ms: first reported. */
  from: number;
  /** Epoch ms: last reported; undefined while it still is. */
  to?: number | undefined;
}

/** One earlier migration of a VMI, as the seed built it. */
export interface PastMigrationMetrics {
  namespace: string;
  vmi: string;
  vmim: string;
  result: "Succeeded" | "Failed";
  endedAt: number;
  /** Its hand-off; undefined when it never got that far (no record on the VMI). */
  handedOffAt?: number | undefined;
  /** The VMI's migrationState it left (startTimestamp, endTimestamp, sourceNode, targetNode...). */
  state?: Json | undefined;
  /** When KubeVirt deleted the VMIM (only the newest five final ones per VMI stay). */
  deletedAt?: number | undefined;
}

const seconds = (stamp: unknown): number | undefined =>
  typeof stamp === "string" ? Math.floor(Date.parse(stamp) / 1000) : undefined;

function endStatus(state: Json): string {
  if (state.completed !== true) return "";
  return state.failed === true ? "failed" : "succeeded";
}

/**
 * The series the past migrations of one VMI left (in creation order): each outcome series until
 * its VMIM went, each record's start/end series until the next hand-off replaced the record.
 * Series of what is still in the cluster are left open (`to` undefined).
 */
export function pastMigrationSeries(migrations: readonly PastMigrationMetrics[]): MetricSeries[] {
  const series: MetricSeries[] = [];
  migrations.forEach((m, i) => {
    series.push({
      name: m.result === "Succeeded" ? "kubevirt_vmi_migration_succeeded" : "kubevirt_vmi_migration_failed",
      labels: { namespace: m.namespace, vmi: m.vmi, vmim: m.vmim },
      value: 1,
      from: m.endedAt,
      to: m.deletedAt,
    });
    const state = m.state;
    if (!state || m.handedOffAt === undefined) return;
    const replacedAt = migrations.slice(i + 1).find((n) => n.handedOffAt !== undefined)?.handedOffAt;
    const start = seconds(state.startTimestamp);
    const end = seconds(state.endTimestamp);
    const source = String(state.sourceNode ?? "");
    const target = String(state.targetNode ?? "");
    const moved = state.completed === true && state.failed !== true;
    const base = { namespace: m.namespace, name: m.vmi, migration_name: m.vmim };
    if (start !== undefined) {
      const startMs = start * 1000;
      if (moved && end !== undefined) {
        series.push({
          name: "kubevirt_vmi_migration_start_time_seconds",
          labels: { ...base, node: source },
          value: start,
          from: startMs,
          to: end * 1000,
        });
        series.push({
          name: "kubevirt_vmi_migration_start_time_seconds",
          labels: { ...base, node: target },
          value: start,
          from: end * 1000,
          to: replacedAt,
        });
      } else {
        series.push({
          name: "kubevirt_vmi_migration_start_time_seconds",
          labels: { ...base, node: source },
          value: start,
          from: startMs,
          to: replacedAt,
        });
      }
    }
    if (end !== undefined) {
      series.push({
        name: "kubevirt_vmi_migration_end_time_seconds",
        labels: { ...base, node: moved ? target : source, status: endStatus(state) },
        value: end,
        from: end * 1000,
        to: replacedAt,
      });
    }
  });
  return series;
}

interface ObjectLike {
  metadata?: { name?: string; namespace?: string; uid?: string };
  spec?: { vmiName?: string };
  status?: {
    phase?: string;
    nodeName?: string;
    migrationState?: Json;
    phaseTransitionTimestamps?: { phase?: string; phaseTransitionTimestamp?: string }[];
  };
}

/**
 * What the collectors report now, from the cluster's objects: a final VMIM's outcome, a VMI
 * record's start and end (its migration named when its VMIM is still there, else `none`).
 */
export function currentMigrationSeries(
  vmims: readonly ObjectLike[],
  vmis: readonly ObjectLike[],
  now: number,
): MetricSeries[] {
  const series: MetricSeries[] = [];
  const namesByUid = new Map<string, string>();
  for (const m of vmims) {
    const namespace = m.metadata?.namespace ?? "";
    const name = m.metadata?.name ?? "";
    if (m.metadata?.uid) namesByUid.set(`${namespace}/${m.metadata.uid}`, name);
    const phase = m.status?.phase;
    if (phase !== "Succeeded" && phase !== "Failed") continue;
    const final = m.status?.phaseTransitionTimestamps?.find((p) => p.phase === phase);
    series.push({
      name: phase === "Succeeded" ? "kubevirt_vmi_migration_succeeded" : "kubevirt_vmi_migration_failed",
      labels: { namespace, vmi: m.spec?.vmiName ?? "", vmim: name },
      value: 1,
      from: final?.phaseTransitionTimestamp ? Date.parse(final.phaseTransitionTimestamp) : now,
    });
  }
  for (const vmi of vmis) {
    const state = vmi.status?.migrationState;
    if (!state) continue;
    const namespace = vmi.metadata?.namespace ?? "";
    const labels = {
      node: vmi.status?.nodeName ?? "",
      namespace,
      name: vmi.metadata?.name ?? "",
      migration_name: namesByUid.get(`${namespace}/${String(state.migrationUid ?? "")}`) ?? "none",
    };
    const start = seconds(state.startTimestamp);
    const end = seconds(state.endTimestamp);
    if (start !== undefined) {
      series.push({
        name: "kubevirt_vmi_migration_start_time_seconds",
        labels,
        value: start,
        from: start * 1000,
      });
    }
    if (end !== undefined) {
      series.push({
        name: "kubevirt_vmi_migration_end_time_seconds",
        labels: { ...labels, status: endStatus(state) },
        value: end,
        from: end * 1000,
      });
    }
  }
  return series;
}
