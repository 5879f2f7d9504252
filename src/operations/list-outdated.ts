// Listing the VMIs still on an outdated virt-launcher: the label virt-controller sets, and with
// `check` an image that differs from virt-controller's --launcher-image. The VMIs are read page by
// page and each is looked at as it arrives and dropped, so that memory stays flat however many
// there are; what comes out is a row per outdated VMI (outdated/rows.ts), a piece at a time.

import type { KubeClient } from "../k8s/kube-client.js";
import { currentLauncherImage, outdatedLauncherImageLabel } from "../k8s/launcher-image.js";
import type { KubeVirt } from "../k8s/types.js";
import { isOutdated, type OutdatedRow, outdatedRow } from "../outdated/rows.js";

/**
 * The API server's page size. Memory does not depend on it (each VMI is parsed as it arrives
 * and dropped, see listStream): 500 as kubectl, few requests, and a table's columns fitted to
 * many rows at once.
 */
const pageSize = 500;

/** The KubeVirt CR and the launcher image a new VMI gets; either undefined when not readable. */
export async function readLauncherFacts(
  kube: KubeClient,
): Promise<{ kubevirt: KubeVirt | undefined; current: string | undefined }> {
  const kubevirt = await kube.findKubeVirt().catch(() => undefined);
  const current = kubevirt ? await currentLauncherImage(kube, kubevirt) : undefined;
  return { kubevirt, current };
}

export interface ListOutdatedInput {
  /** Undefined: every namespace. */
  namespace: string | undefined;
  /** The user's label selector. */
  selector?: string | undefined;
  /** Compare each VMI's image with `current` (reads every VMI, not only the labelled ones). */
  check: boolean;
  current: string | undefined;
  signal: AbortSignal;
}

function listSelector(input: ListOutdatedInput): string | undefined {
  const user = input.selector?.trim() || undefined;
  if (input.check) return user;
  return user ? `${outdatedLauncherImageLabel},${user}` : outdatedLauncherImageLabel;
}

/** The outdated VMIs' rows as they arrive; `pageEnd` marks the last piece of a page. */
export async function* listOutdated(
  kube: KubeClient,
  input: ListOutdatedInput,
): AsyncGenerator<{ rows: OutdatedRow[]; pageEnd: boolean }> {
  for await (const piece of kube.listStream("vmi", {
    namespace: input.namespace,
    labelSelector: listSelector(input),
    pageSize,
    signal: input.signal,
  })) {
    const rows: OutdatedRow[] = [];
    for (const vmi of piece.objects) {
      if (isOutdated(vmi, input.current, input.check)) rows.push(outdatedRow(vmi, input.current));
    }
    yield { rows, pageEnd: piece.pageEnd };
  }
}
