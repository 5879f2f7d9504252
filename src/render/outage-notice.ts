// Where a command's follow tells that it lost the API server and is reconnecting (k8s/outage.ts):
// stderr, in every output mode (stdout keeps the data, JSON included), above the spinner or
// progress bar on a terminal. One ApiOutage per client, so that the watches of several follows
// at once (outdated's jobs) tell one outage once.

import type { CommandContext } from "../context.js";
import type { Progress } from "../io/progress.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { ApiOutage } from "../k8s/outage.js";

const byClient = new WeakMap<KubeClient, ApiOutage>();

/**
 * The ApiOutage of this client. The first call says where its lines go: above `progress` (its
 * spinner or bar) on a terminal, else a plain line on stderr; later calls get the same one.
 */
export function outageNotices(
  ctx: Pick<CommandContext, "clock" | "io">,
  kube: KubeClient,
  progress?: Progress,
): ApiOutage {
  let outage = byClient.get(kube);
  if (outage === undefined) {
    const { io } = ctx;
    const above = progress !== undefined && io.mode === "text" && io.stderrIsTTY ? progress : undefined;
    outage = new ApiOutage({
      clock: ctx.clock,
      report: (line) => (above ? above.info(line) : io.err(line)),
    });
    byClient.set(kube, outage);
  }
  return outage;
}
