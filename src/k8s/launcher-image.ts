// The current virt-launcher image is the `--launcher-image` argument of the virt-controller
// Deployment (facts §l); guessing it from the KubeVirt CR's registry and version breaks with
// image prefixes, digests and custom images.

import type { Deployment } from "./types.js";

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
