// The current virt-launcher image is the `--launcher-image` argument of the virt-controller
// Deployment (facts §l); guessing it from the KubeVirt CR's registry and version breaks with
// image prefixes, digests and custom images.

import type { KubeClient } from "./kube-client.js";
import type { Deployment, KubeVirt, VirtualMachineInstance } from "./types.js";

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

/**
 * The KubeVirt release of a virt-launcher image, read from its tag: `…/virt-launcher:v1.2.0`, also
 * behind an image prefix (`…/kv-virt-launcher:v1.2.0`) or with a digest after the tag. Undefined
 * for a digest alone, a tag that is not a release (`latest`, `devel`), and images not named
 * `virt-launcher`: downstream builds name theirs otherwise (`virt-launcher-rhel9`) and tag them
 * with their product's version, which is not KubeVirt's.
 */
export function kubevirtVersionOfLauncherImage(image: string | undefined): string | undefined {
  const named = image?.trim().split("@")[0] ?? "";
  const slash = named.lastIndexOf("/");
  const colon = named.lastIndexOf(":");
  if (colon <= slash) return undefined; // no tag (a registry port is before the last slash)
  const repository = named.slice(slash + 1, colon);
  const tag = named.slice(colon + 1);
  if (!repository.endsWith("virt-launcher")) return undefined;
  return /^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(tag) ? tag : undefined;
}

/**
 * The KubeVirt release of a VMI's launcher, whose image (`status.launcherContainerImageVersion`,
 * the `compute` container's) is given: the image's tag; else, when the VMI is not labelled outdated
 * (so its launcher is the one the cluster deploys now) and no upgrade is under way, the KubeVirt
 * CR's observed version. Undefined when neither tells: a digest-only launcher that is outdated,
 * or during an upgrade.
 */
export function launcherKubeVirtVersion(
  image: string | undefined,
  vmi: VirtualMachineInstance | undefined,
  kubevirt: KubeVirt | undefined,
): string | undefined {
  const fromTag = kubevirtVersionOfLauncherImage(image);
  if (fromTag) return fromTag;
  // An empty image is "unknown" to KubeVirt too, and never labelled outdated (facts §j).
  if (!image || !vmi || vmi.metadata.labels?.[outdatedLauncherImageLabel] !== undefined) return undefined;
  const status = kubevirt?.status;
  const observed = status?.observedKubeVirtVersion;
  if (!observed || status?.phase !== "Deployed") return undefined;
  if (status.targetKubeVirtVersion && status.targetKubeVirtVersion !== observed) return undefined;
  return observed;
}
