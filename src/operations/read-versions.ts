// The versions kvmig, the Kubernetes API server and KubeVirt run (virt-api's version endpoint
// and the KubeVirt CR), like `virtctl version`, and the deployed KubeVirt against the releases
// kvmig supports. Only the API server's version must be readable; the rest says why it is not.

import { describeError } from "../errors.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { supportedKubeVirtMinors, supportOf } from "../k8s/kubevirt-version.js";
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

/** What `kvmig version` reports: kvmig's, the API server's and KubeVirt's versions, and KubeVirt's against what kvmig supports. */
export async function readVersions(kube: KubeClient): Promise<VersionReport> {
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
