// Asking the API server (SelfSubjectAccessReview) several things at once before a bulk change:
// a review that cannot be made (an old server, a proxy that refuses it) is no answer, so the
// change goes ahead and finds out for itself; only a clear "no" stops it.

import type { AccessCheck, KubeClient } from "../k8s/kube-client.js";

/** Each check's answer, in order: false only when the server said no. */
export async function allowedEach(kube: KubeClient, checks: readonly AccessCheck[]): Promise<boolean[]> {
  return Promise.all(
    checks.map(async (check) => (await kube.canI(check).catch(() => undefined))?.allowed !== false),
  );
}
