// The oldest KubeVirt kvmig supports, and the check against a cluster's KubeVirt CR. kvmig reads
// KubeVirt v1 APIs and fields: the migrate subresource, migration state and phase timestamps,
// MigrationPolicies, the outdated-launcher label and workload updates.

import type { KubeVirt } from "./types.js";

export const oldestSupportedKubeVirt = "v1.0.0";

/** [major, minor, patch] of "v1.4.2" or "1.4.2-rc.1"; undefined for anything else. */
function parse(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** True only when `version` is known and older than `oldest`. */
export function isOlderThan(version: string, oldest = oldestSupportedKubeVirt): boolean {
  const a = parse(version);
  const b = parse(oldest);
  if (!a || !b) return false;
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

/** The deployed version when it is older than kvmig supports, else undefined. */
export function unsupportedKubeVirtVersion(kubevirt: KubeVirt | undefined): string | undefined {
  const version = kubevirt?.status?.observedKubeVirtVersion;
  return version && isOlderThan(version) ? version : undefined;
}

export function unsupportedMessage(version: string): string {
  return `KubeVirt ${version} is older than ${oldestSupportedKubeVirt}, the oldest version kvmig supports`;
}
