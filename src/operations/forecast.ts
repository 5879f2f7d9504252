// The reads behind a forecast (migration/forecast.ts): the KubeVirt CR, the MigrationPolicies and
// the namespace's labels (to resolve the settings as KubeVirt would), and before a migration the
// guest's dirty rate from Prometheus: virt-handler's kubevirt_vmi_dirty_rate_bytes_per_second
// (labels node, namespace, name), from KubeVirt v1.6.0 on (kubevirt/kubevirt#13806,
// pkg/monitoring/metrics/virt-handler/domainstats/dirty_rate_metrics.go). A read that fails
// leaves its part out: the forecast then says what it does not know.

import { describeError } from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { KubeVirt, VirtualMachineInstance } from "../k8s/types.js";
import { type Forecast, forecastMigration, formatMiB } from "../migration/forecast.js";
import { type ForecastContext, forecastSubject } from "../migration/forecast-subject.js";
import type { Verdict } from "../migration/preflight.js";
import type { MigrationView } from "../migration/state.js";

/** `kubevirt`: the KubeVirt CR's read, when the caller shares one (pre-flight's). */
export async function readForecastContext(
  kube: KubeClient,
  namespace: string,
  kubevirt?: Promise<KubeVirt | undefined>,
): Promise<ForecastContext> {
  // Each read may fail, or be refused (RBAC): the forecast goes on with KubeVirt's defaults.
  const optional = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch {
      return undefined;
    }
  };
  const [found, policies, ns] = await Promise.all([
    kubevirt ?? optional(() => kube.findKubeVirt()),
    optional(() => kube.list("migrationPolicy")),
    optional(() => kube.get("namespace", namespace)),
  ]);
  return {
    kubevirt: found,
    policies,
    namespaceLabels: { ...(ns?.metadata.labels ?? {}), "kubernetes.io/metadata.name": namespace },
  };
}

/** The forecast of a followed migration from its samples so far. */
export function forecastOfView(
  view: MigrationView,
  vmi: VirtualMachineInstance | undefined,
  context: ForecastContext,
): Forecast {
  return forecastMigration(
    forecastSubject({ namespace: view.namespace, vmName: view.vmName, migrationUid: view.uid }, vmi, context),
    view.samples,
  );
}

const dirtyRateMetric = "kubevirt_vmi_dirty_rate_bytes_per_second";

/** The guest's dirty rate as virt-handler last measured it (v1.6.0+), over the last 10 minutes. */
async function readDirtyRate(
  prometheusUrl: string,
  target: { namespace: string; vmName: string },
  signal?: AbortSignal,
): Promise<number | undefined> {
  const { instantQuery } = await import("../metrics/prometheus.js");
  const query = `max_over_time(${dirtyRateMetric}{namespace=${JSON.stringify(target.namespace)},name=${JSON.stringify(target.vmName)}}[10m])`;
  const [sample] = await instantQuery(prometheusUrl, query, signal);
  const value = Number(sample?.value[1]);
  return sample && Number.isFinite(value) ? value : undefined;
}

const seconds = (s: number): string => (s < 60 ? `${Math.round(s)}s` : `${Math.round(s / 60)}m`);

/**
 * The pre-flight's forecast line: with Prometheus, from the dirty rate it read; without, from
 * the memory and the bandwidth, saying the dirty rate is unknown.
 */
export async function preflightForecast(
  kube: KubeClient,
  target: { namespace: string; vmName: string },
  vmi: VirtualMachineInstance | undefined,
  options: {
    prometheusUrl?: string | undefined;
    signal?: AbortSignal | undefined;
    /** The context's reads, when the caller started them already. */
    context?: Promise<ForecastContext> | undefined;
  },
): Promise<{ verdict: Verdict; forecast: Forecast } | undefined> {
  if (!vmi) return undefined;
  const context = await (options.context ?? readForecastContext(kube, target.namespace));
  const subject = forecastSubject(target, vmi, context);
  let dirtyRate: number | undefined;
  let unread: string | undefined;
  if (options.prometheusUrl) {
    try {
      dirtyRate = await readDirtyRate(options.prometheusUrl, target, options.signal);
      if (dirtyRate === undefined)
        unread = `Prometheus has no ${dirtyRateMetric} for it (KubeVirt v1.6.0 or newer exports it)`;
    } catch (error) {
      unread = `Prometheus: ${describeError(error).message}`;
    }
  } else unread = "--prometheus-url reads it from KubeVirt's metrics";
  const forecast = forecastMigration(subject, [], { dirtyRate });
  const read =
    dirtyRate === undefined
      ? `dirty rate unknown (${unread})`
      : `dirty rate ${formatMiB(dirtyRate)} (${dirtyRateMetric})`;
  const rate =
    forecast.rateBytesPerSecond === null ? "rate unknown" : `${formatMiB(forecast.rateBytesPerSecond)} sent`;
  if (forecast.converging === false) {
    const top = forecast.advice[0];
    return {
      forecast,
      verdict: {
        check: "forecast",
        status: "warning",
        message: `forecast: will not converge: ${read}, ${rate}; ${forecast.reason.split("; ").at(-1)}`,
        hint: top ? `most effective: ${top.text}` : undefined,
      },
    };
  }
  // Without the dirty rate the estimate is a guest that writes nothing: a lower bound.
  const eta =
    forecast.etaSeconds === null
      ? "duration unknown"
      : `${dirtyRate === undefined ? "at least" : "about"} ${seconds(forecast.etaSeconds)}`;
  return {
    forecast,
    verdict: { check: "forecast", status: "ok", message: `forecast: ${eta}; ${read}, ${rate}` },
  };
}
