// kvmig version: the kvmig version, the Kubernetes server version and the KubeVirt version
// (virt-api's version endpoint and the KubeVirt CR), like `virtctl version`; and the KubeVirt
// releases kvmig supports, with a warning when the cluster's is outside them.

import type { CommandContext } from "../context.js";
import { describeError } from "../errors.js";
import { writeData } from "../io/output.js";
import {
  supportedKubeVirtMinors,
  supportedKubeVirtRange,
  supportOf,
  tooNewMessage,
  unsupportedMessage,
} from "../k8s/kubevirt-version.js";
import type { KubeVirt } from "../k8s/types.js";
import { kvmigVersion } from "../version.js";

export interface VersionReport {
  kvmig: {
    version: string;
    node: string;
    /** The KubeVirt minor releases kvmig supports, every patch release of each. */
    supportedKubeVirt: { oldest: string; newest: string };
  };
  kubernetes: { server: string; context: string; gitVersion: string; platform?: string | undefined };
  kubevirt: {
    /** virt-api's answer; undefined when it could not be read. */
    version?: string | undefined;
    gitCommit?: string | undefined;
    buildDate?: string | undefined;
    /** The KubeVirt custom resource: what the operator deployed. */
    resource?:
      | {
          namespace: string;
          name: string;
          phase?: string | undefined;
          observedVersion?: string | undefined;
          targetVersion?: string | undefined;
        }
      | undefined;
    /**
     * The deployed version (the CR's, else virt-api's) against kvmig's supported range; absent when
     * neither can be read as a release.
     */
    support?: "supported" | "older" | "newer" | undefined;
    /** What could not be read, and why; the command still succeeds. */
    errors: string[];
  };
}

export async function runVersion(ctx: CommandContext): Promise<VersionReport> {
  const kube = await ctx.kube();
  // The Kubernetes version is the reachability check: if it fails, the command fails.
  const [server, virtApi, resource] = await Promise.all([
    kube.serverVersion(),
    settle(kube.kubevirtVersion()),
    settle(kube.findKubeVirt()),
  ]);
  const errors: string[] = [];
  if (!virtApi.ok) errors.push(`virt-api version: ${describeError(virtApi.error).message}`);
  if (!resource.ok) errors.push(`KubeVirt resource: ${describeError(resource.error).message}`);
  else if (resource.value === undefined) errors.push("KubeVirt resource: none found in any namespace");
  const virtApiVersion = virtApi.ok ? virtApi.value.gitVersion : undefined;
  const observed = resource.ok ? resource.value?.status?.observedKubeVirtVersion : undefined;
  const support = supportOf(observed) ?? supportOf(virtApiVersion);
  return {
    kvmig: { version: kvmigVersion, node: process.version, supportedKubeVirt: supportedKubeVirtMinors() },
    kubernetes: {
      server: kube.server,
      context: kube.context,
      gitVersion: server.gitVersion ?? `v${server.major ?? "?"}.${server.minor ?? "?"}`,
      platform: server.platform,
    },
    kubevirt: {
      version: virtApiVersion,
      gitCommit: virtApi.ok ? virtApi.value.gitCommit : undefined,
      buildDate: virtApi.ok ? virtApi.value.buildDate : undefined,
      resource: resource.ok && resource.value ? describeResource(resource.value) : undefined,
      ...(support ? { support } : {}),
      errors,
    },
  };
}

function describeResource(kv: KubeVirt): NonNullable<VersionReport["kubevirt"]["resource"]> {
  return {
    namespace: kv.metadata.namespace ?? "",
    name: kv.metadata.name ?? "",
    phase: kv.status?.phase,
    observedVersion: kv.status?.observedKubeVirtVersion,
    targetVersion: kv.status?.targetKubeVirtVersion,
  };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

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
  const report = await runVersion(ctx);
  await writeData(ctx.io, ctx.io.mode, report, () => renderVersion(report, ctx));
}
