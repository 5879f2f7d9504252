// virt-handler's guest dirty-rate gauge, kubevirt_vmi_dirty_rate_bytes_per_second {node, namespace,
// name}: from KubeVirt v1.6.0 (kubevirt/kubevirt#13806), for each Running VMI that is not in an
// active migration (its job stats give the rate then), from libvirt's dirty-rate calculation in
// MiB/s times 1024² (pkg/monitoring/metrics/virt-handler/domainstats/dirty_rate_metrics.go,
// dirty_rate_collector.go). The simulated guest dirties at its scenario's dirtyRateMiBps.

import { isOlderThan } from "../../k8s/kubevirt-version.js";
import { dirtyRateAnnotation } from "./constants.js";
import type { MetricSeries } from "./migration-metrics.js";

const dirtyRateMetric = "kubevirt_vmi_dirty_rate_bytes_per_second";

interface VmiLike {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  status?: {
    phase?: string;
    nodeName?: string;
    migrationState?: { startTimestamp?: string; completed?: boolean; failed?: boolean };
  };
}

/** True for v1.6.0 and later (and for a version that does not parse: the simulator's default, v1.9.0). */
function exportsDirtyRate(kubevirtVersion: string | undefined): boolean {
  return kubevirtVersion === undefined || !isOlderThan(kubevirtVersion, "v1.6.0");
}

/** The gauge as virt-handler reports it now; the series began a scrape ago and is still reported. */
export function guestDirtyRateSeries(
  vmis: readonly VmiLike[],
  kubevirtVersion: string | undefined,
  now: number,
): MetricSeries[] {
  if (!exportsDirtyRate(kubevirtVersion)) return [];
  const series: MetricSeries[] = [];
  for (const vmi of vmis) {
    if (vmi.status?.phase !== "Running") continue;
    const state = vmi.status.migrationState;
    if (state?.startTimestamp && !state.completed && !state.failed) continue;
    const mibps = Number(vmi.metadata?.annotations?.[dirtyRateAnnotation] ?? 30);
    series.push({
      name: dirtyRateMetric,
      labels: {
        node: vmi.status.nodeName ?? "",
        namespace: vmi.metadata?.namespace ?? "",
        name: vmi.metadata?.name ?? "",
      },
      value: mibps * 1024 * 1024,
      from: now - 30_000,
    });
  }
  return series;
}
