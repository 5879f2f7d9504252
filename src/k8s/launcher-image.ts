// The current virt-launcher image is the `--launcher-image` argument of the virt-controller
// Deployment (facts §l); guessing it from the KubeVirt CR's registry and version breaks with
// image prefixes, digests and custom images.

import type { KubeClient } from "./kube-client.js";
import type { Deployment, KubeVirt } from "./types.js";

/**
 * On a VMI (and its launcher pod) whose `compute` image differs from virt-controller's
 * `--launcher-image`; its presence is the signal, the value is "" (facts §e).
 */
export const outdatedLauncherImageLabel = "kubevirt.io/outdatedLauncherImage";

export function launcherImageOf(deployment: Deployment | undefined): string | undefined {
  for (const container of deployment?.spec?.template?.spec?.containers ?? []) {
    const args = [...(container.command ?? []), ...(container.args ?? [])];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] ?? "";
      if (arg === "--launcher-image") return args[i + 1];
      if (arg.startsWith("--launcher-image=")) return arg.slice("--launcher-image=".length);
    }
  }
  return undefined;
}

/**
 * The current launcher image, read from the virt-controller Deployment next to the KubeVirt CR
 * (found when not given); undefined when either cannot be read.
 */
export async function currentLauncherImage(
  kube: KubeClient,
  kubevirt?: KubeVirt | undefined,
): Promise<string | undefined> {
  try {
    const found = kubevirt ?? (await kube.findKubeVirt());
    if (!found) return undefined;
    return launcherImageOf(await kube.findVirtController(found.metadata.namespace ?? "kubevirt"));
  } catch {
    return undefined;
  }
}
