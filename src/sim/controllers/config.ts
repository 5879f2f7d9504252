// The cluster configuration the controllers read: the KubeVirt CR's migration settings with
// KubeVirt's defaults (facts §i), a MigrationPolicy that matches a VMI, and the current
// launcher image from virt-controller's `--launcher-image` argument (facts §l).

import { quantityBytes } from "../objects.js";
import type { SimObject } from "../store.js";
import { type ControllerRuntime, dig, R } from "./runtime.js";

export interface MigrationConfig {
  parallelMigrationsPerCluster: number;
  parallelOutboundMigrationsPerNode: number;
  /** Bytes per second; 0 = no limit. */
  bandwidthPerMigration: number;
  completionTimeoutPerGiB: number;
  progressTimeout: number;
  maxDowntimeMs: number;
  allowAutoConverge: boolean;
  allowPostCopy: boolean;
  /** Follows allowPostCopy when unset (GetMigrationConfiguration in pkg/virt-config/virt-config.go). */
  allowWorkloadDisruption: boolean;
  nodeDrainTaintKey: string;
}

export const migrationDefaults: MigrationConfig = {
  parallelMigrationsPerCluster: 5,
  parallelOutboundMigrationsPerNode: 2,
  bandwidthPerMigration: 0,
  completionTimeoutPerGiB: 150,
  progressTimeout: 150,
  maxDowntimeMs: 900,
  allowAutoConverge: false,
  allowPostCopy: false,
  allowWorkloadDisruption: false,
  nodeDrainTaintKey: "kubevirt.io/drain",
};

/** A Kubernetes quantity (`4Gi`, `64Mi`, `500M`) in its base unit; 0 when absent or unreadable. */
export function quantity(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return 0;
  try {
    return quantityBytes(value);
  } catch {
    return 0;
  }
}

export function findKubeVirt(rt: ControllerRuntime): SimObject | undefined {
  return rt.list(R.kubevirt)[0];
}

export function migrationConfig(rt: ControllerRuntime): MigrationConfig {
  const kv = findKubeVirt(rt);
  const raw = (dig(kv, "spec", "configuration", "migrations") ?? {}) as Record<string, unknown>;
  const config = { ...migrationDefaults };
  for (const key of Object.keys(config) as (keyof MigrationConfig)[]) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (key === "bandwidthPerMigration") config.bandwidthPerMigration = quantity(value);
    else (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (typeof raw.allowWorkloadDisruption !== "boolean") config.allowWorkloadDisruption = config.allowPostCopy;
  return config;
}

/** The policy that applies to a VMI: most matched labels, then most VMI labels, then name. */
export function matchingPolicy(rt: ControllerRuntime, vmi: SimObject): SimObject | undefined {
  const nsLabels =
    (rt.store.peek("namespaces", undefined, vmi.metadata.namespace ?? "")?.metadata.labels as Record<
      string,
      string
    >) ?? {};
  const vmiLabels = vmi.metadata.labels ?? {};
  let best: { policy: SimObject; total: number; vmiCount: number } | undefined;
  for (const policy of rt.list(R.policy)) {
    const selectors = (dig(policy, "spec", "selectors") ?? {}) as {
      namespaceSelector?: Record<string, string>;
      virtualMachineInstanceSelector?: Record<string, string>;
    };
    const nsSel = Object.entries(selectors.namespaceSelector ?? {});
    const vmiSel = Object.entries(selectors.virtualMachineInstanceSelector ?? {});
    if (!nsSel.every(([k, v]) => nsLabels[k] === v) || !vmiSel.every(([k, v]) => vmiLabels[k] === v))
      continue;
    const total = nsSel.length + vmiSel.length;
    const better =
      !best ||
      total > best.total ||
      (total === best.total && vmiSel.length > best.vmiCount) ||
      (total === best.total &&
        vmiSel.length === best.vmiCount &&
        (policy.metadata.name ?? "") < (best.policy.metadata.name ?? ""));
    if (better) best = { policy, total, vmiCount: vmiSel.length };
  }
  return best?.policy;
}

/** The cluster config with a policy's fields laid over it. */
export function effectiveConfig(rt: ControllerRuntime, policy: SimObject | undefined): MigrationConfig {
  const config = migrationConfig(rt);
  const spec = (dig(policy, "spec") ?? {}) as Record<string, unknown>;
  if (spec.bandwidthPerMigration !== undefined)
    config.bandwidthPerMigration = quantity(spec.bandwidthPerMigration);
  for (const key of [
    "completionTimeoutPerGiB",
    "maxDowntimeMs",
    "allowAutoConverge",
    "allowPostCopy",
  ] as const) {
    if (spec[key] !== undefined) (config as unknown as Record<string, unknown>)[key] = spec[key];
  }
  // A policy's allowPostCopy carries allowWorkloadDisruption along unless it sets that too
  // (applyMigrationPolicySpec in pkg/virt-controller/watch/migration/migrationpolicy.go).
  const disruption = spec.allowWorkloadDisruption ?? spec.allowPostCopy;
  if (typeof disruption === "boolean") config.allowWorkloadDisruption = disruption;
  return config;
}

/** virt-controller's `--launcher-image`: what every VMI should run. */
export function currentLauncherImage(rt: ControllerRuntime): string | undefined {
  for (const deployment of rt.list(R.deployment)) {
    if (deployment.metadata.name !== "virt-controller") continue;
    const containers = (dig(deployment, "spec", "template", "spec", "containers") ?? []) as {
      args?: string[];
      command?: string[];
    }[];
    for (const container of containers) {
      const args = [...(container.command ?? []), ...(container.args ?? [])];
      const index = args.indexOf("--launcher-image");
      if (index >= 0 && args[index + 1]) return args[index + 1];
      const inline = args.find((a) => a.startsWith("--launcher-image="));
      if (inline) return inline.slice("--launcher-image=".length);
    }
  }
  return undefined;
}
