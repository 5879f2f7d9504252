// kvmig version: the kvmig version, the Kubernetes server version and the KubeVirt version
// (operations/read-versions.ts), like `virtctl version`; and the KubeVirt releases kvmig
// supports, with a warning when the cluster's is outside them.

import type { CommandContext } from "../context.js";
import { writeData } from "../io/output.js";
import {
  supportedKubeVirtRange,
  supportOf,
  tooNewMessage,
  unsupportedMessage,
} from "../k8s/kubevirt-version.js";
import { readVersions, type VersionReport } from "../operations/read-versions.js";

export function renderVersion(report: VersionReport, ctx: CommandContext): void {
  const { io } = ctx;
  const c = io.colors;
  const kv = report.kubevirt;
  const rows: Array<[string, string]> = [
    ["kvmig", `${report.kvmig.version} (Node.js ${report.kvmig.node})`],
    [
      "Kubernetes",
      `${report.kubernetes.gitVersion} at ${report.kubernetes.server} (context "${report.kubernetes.context}")`,
    ],
    ["KubeVirt", kv.version ?? c.warn("unknown")],
  ];
  if (kv.resource) {
    const r = kv.resource;
    const upgrading =
      r.targetVersion && r.observedVersion && r.targetVersion !== r.observedVersion
        ? `, upgrading to ${r.targetVersion}`
        : "";
    rows.push([
      "KubeVirt CR",
      `${r.namespace}/${r.name}: ${r.phase ?? "no phase"}, deployed ${r.observedVersion ?? "unknown"}${upgrading}`,
    ]);
  }
  // Last, next to the versions it is about; the warnings below say when they are outside it.
  rows.push(["Supports", `KubeVirt ${supportedKubeVirtRange()}`]);
  // A fixed width, so the values line up the same with or without the KubeVirt CR row.
  const width = "KubeVirt CR: ".length;
  for (const [label, value] of rows) io.out(`${c.bold(`${label}:`.padEnd(width))}${value}`);
  for (const error of kv.errors) io.err(`${io.errColors.warn("warning:")} ${error}`);
  const deployed = supportOf(kv.resource?.observedVersion) ? kv.resource?.observedVersion : kv.version;
  if (deployed && kv.support === "older")
    io.err(`${io.errColors.warn("warning:")} ${unsupportedMessage(deployed)}; upgrade KubeVirt`);
  if (deployed && kv.support === "newer")
    io.err(
      `${io.errColors.warn("warning:")} ${tooNewMessage(deployed)}; what kvmig reads may have changed: look for a newer kvmig`,
    );
}

/** The action of `kvmig version` (cli-tree/tree.ts). */
export async function versionAction(ctx: CommandContext): Promise<void> {
  const report = await readVersions(await ctx.kube());
  await writeData(ctx.io, ctx.io.mode, report, () => renderVersion(report, ctx));
}
