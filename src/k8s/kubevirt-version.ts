// The KubeVirt releases kvmig supports, stated once here for `kvmig version`, the pre-flight
// check and the README (a test holds the README to this). kvmig reads KubeVirt v1 APIs and fields:
// the migrate subresource, migration state and phase timestamps, MigrationPolicies, the
// outdated-launcher label and workload updates. The oldest is the floor below which migrate
// refuses; the newest is the last release whose texts, fields and launcher log lines were
// checked against KubeVirt's source (docs/diagnose-messages.md): a newer one may have changed them.

import type { KubeVirt } from "./types.js";

export const oldestSupportedKubeVirt = "v1.0.0";
/** The newest minor release checked; every patch release of it is supported. */
export const newestSupportedKubeVirtMinor = "v1.9";

/** The oldest and newest supported minor releases, e.g. { oldest: "v1.0", newest: "v1.9" }. */
export function supportedKubeVirtMinors(): { oldest: string; newest: string } {
  const [major, minor] = parseKubeVirtVersion(oldestSupportedKubeVirt) ?? [];
  return { oldest: `v${major}.${minor}`, newest: newestSupportedKubeVirtMinor };
}

/** "v1.0 to v1.9": the range as `kvmig version` and the README state it. */
export function supportedKubeVirtRange(): string {
  const { oldest, newest } = supportedKubeVirtMinors();
  return `${oldest} to ${newest}`;
}

/** [major, minor, patch] of "v1.4.2", "1.4.2-rc.1" or "v1.9" (patch 0); undefined for anything else. */
export function parseKubeVirtVersion(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:$|[-+.])/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
}

/** <0, 0 or >0 as `a` is older than, the same release as, or newer than `b` (pre-release tags ignored). */
function compare(a: [number, number, number], b: [number, number, number]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** True only when `version` is known and older than `oldest`. */
export function isOlderThan(version: string, oldest = oldestSupportedKubeVirt): boolean {
  const a = parseKubeVirtVersion(version);
  const b = parseKubeVirtVersion(oldest);
  return a !== undefined && b !== undefined && compare(a, b) < 0;
}

/** True only when `version` is known and of a minor release after the newest supported one. */
export function isNewerThanSupported(version: string): boolean {
  const a = parseKubeVirtVersion(version);
  const [major, minor] = parseKubeVirtVersion(newestSupportedKubeVirtMinor) ?? [0, 0];
  return a !== undefined && (a[0] > major || (a[0] === major && a[1] > minor));
}

/** Where a version stands against the supported range; undefined when it cannot be read. */
export function supportOf(version: string | undefined): "older" | "supported" | "newer" | undefined {
  if (version === undefined || parseKubeVirtVersion(version) === undefined) return undefined;
  if (isOlderThan(version)) return "older";
  return isNewerThanSupported(version) ? "newer" : "supported";
}

/** The deployed version when it is older than kvmig supports, else undefined. */
export function unsupportedKubeVirtVersion(kubevirt: KubeVirt | undefined): string | undefined {
  const version = kubevirt?.status?.observedKubeVirtVersion;
  return version && isOlderThan(version) ? version : undefined;
}

export function unsupportedMessage(version: string): string {
  return `KubeVirt ${version} is older than ${oldestSupportedKubeVirt}, the oldest version kvmig supports`;
}

export function tooNewMessage(version: string): string {
  return `KubeVirt ${version} is newer than ${newestSupportedKubeVirtMinor}, the newest version kvmig supports`;
}
