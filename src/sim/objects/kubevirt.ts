// The KubeVirt installation as virt-operator leaves it (the KubeVirt CR and the virt-controller,
// virt-api and virt-operator Deployments), and the cluster-wide objects scenarios add next to it:
// MigrationPolicies and Multus NetworkAttachmentDefinitions.

import { createHash } from "node:crypto";
import type { Random } from "../random.js";
import { kubevirtApiVersion } from "./constants.js";
import { compact, goObject, type Json, rfc3339, sortKeysDeep } from "./format.js";
// ---------------------------------------------------------------------------------------------
// KubeVirt installation: the KubeVirt CR and the component Deployments
// ---------------------------------------------------------------------------------------------

export interface KubeVirtInstallDescription {
  createdAt: number;
  /** Default "v1.9.0". */
  version?: string;
  /** Default "quay.io/kubevirt". */
  registry?: string;
  /** Default "kubevirt". */
  namespace?: string;
  /** `spec.configuration.migrations`. */
  migrations?: Json;
  /** `spec.workloadUpdateStrategy`; defaults to LiveMigrate, 10 per 1m0s. */
  workloadUpdateStrategy?: Json;
  featureGates?: readonly string[];
  /** When the current version finished rolling out (the conditions' times); default 95 s after `createdAt`. */
  deployedAt?: number;
  /** `status.outdatedVirtualMachineInstanceWorkloads`. */
  outdatedWorkloads?: number;
  /**
   * The version observed before an upgrade that is still rolling out; when set (and different),
   * the CR shows phase Deploying with the UpdateInProgress conditions.
   */
  observedVersion?: string;
}

/** The virt-launcher image virt-operator configures for a version: `<registry>/virt-launcher:<version>`. */
export function launcherImageFor(desc: Pick<KubeVirtInstallDescription, "registry" | "version">): string {
  return `${desc.registry ?? "quay.io/kubevirt"}/virt-launcher:${desc.version ?? "v1.9.0"}`;
}

function deploymentConfig(registry: string, version: string, ns: string): { id: string; json: string } {
  const additionalProperties = { HypervisorName: "kvm", ImagePrefix: "", ImagePullPolicy: "IfNotPresent" };
  const seed = `ID|Namespace${ns}|Registry${registry}|KubeVirtVersion${version}|${JSON.stringify(additionalProperties)}`;
  const id = createHash("sha1").update(seed).digest("hex");
  const json = JSON.stringify({
    id,
    namespace: ns,
    registry,
    kubeVirtVersion: version,
    virtOperatorImage: `${registry}/virt-operator:${version}`,
    additionalProperties,
  });
  return { id, json };
}

export function kubevirtCR(desc: KubeVirtInstallDescription, random: Random): Json {
  const version = desc.version ?? "v1.9.0";
  const registry = desc.registry ?? "quay.io/kubevirt";
  const ns = desc.namespace ?? "kubevirt";
  const observedVersion = desc.observedVersion ?? version;
  const target = deploymentConfig(registry, version, ns);
  const observed = deploymentConfig(registry, observedVersion, ns);
  const upgrading = observedVersion !== version;
  const deployedAt = desc.deployedAt ?? desc.createdAt + 95_000;

  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastProbeTime: rfc3339(deployedAt),
    lastTransitionTime: rfc3339(deployedAt),
  });
  const conditions = upgrading
    ? ["Available", "Progressing", "Degraded"].map((type) =>
        condition(
          type,
          "True",
          "UpdateInProgress",
          `Transitioning from previous version ${observedVersion} with registry ${registry} to target version ${version} using registry ${registry}`,
        ),
      )
    : [
        condition("Available", "True", "AllComponentsReady", "All components are ready."),
        condition("Progressing", "False", "AllComponentsReady", "All components are ready."),
        condition("Degraded", "False", "AllComponentsReady", "All components are ready."),
        {
          ...condition("Created", "True", "AllResourcesCreated", "All resources were created."),
          lastTransitionTime: null,
        },
      ];

  const generation = (
    group: string,
    resource: string,
    name: string,
    lastGeneration: number,
    namespaced = true,
  ) =>
    compact({
      group,
      resource,
      name,
      namespace: namespaced ? ns : undefined,
      lastGeneration,
      hash: namespaced && group === "apps" ? random.hex(32) : undefined,
    });

  return sortKeysDeep({
    apiVersion: kubevirtApiVersion,
    kind: "KubeVirt",
    metadata: {
      name: "kubevirt",
      namespace: ns,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.createdAt),
      annotations: {
        "kubevirt.io/latest-observed-api-version": "v1",
        "kubevirt.io/storage-observed-api-version": "v1",
      },
      finalizers: ["kubevirt.io/foregroundDeleteKubeVirt"],
    },
    spec: compact({
      certificateRotateStrategy: {},
      configuration: compact({
        developerConfiguration: { featureGates: [...(desc.featureGates ?? [])] },
        migrations: desc.migrations,
      }),
      customizeComponents: {},
      imagePullPolicy: "IfNotPresent",
      workloadUpdateStrategy: desc.workloadUpdateStrategy ?? {
        workloadUpdateMethods: ["LiveMigrate"],
        batchEvictionSize: 10,
        batchEvictionInterval: "1m0s",
      },
    }),
    status: {
      conditions,
      defaultArchitecture: "amd64",
      generations: [
        generation(
          "admissionregistration.k8s.io",
          "validatingwebhookconfigurations",
          "virt-operator-validator",
          1,
          false,
        ),
        generation(
          "admissionregistration.k8s.io",
          "validatingwebhookconfigurations",
          "virt-api-validator",
          1,
          false,
        ),
        generation(
          "admissionregistration.k8s.io",
          "mutatingwebhookconfigurations",
          "virt-api-mutator",
          1,
          false,
        ),
        generation("apps", "deployments", "virt-api", 1),
        generation("apps", "deployments", "virt-controller", 1),
        generation("apps", "daemonsets", "virt-handler", 1),
        generation("policy", "poddisruptionbudgets", "virt-api-pdb", 1),
        generation("policy", "poddisruptionbudgets", "virt-controller-pdb", 1),
      ],
      observedDeploymentConfig: observed.json,
      observedDeploymentID: observed.id,
      observedGeneration: 1,
      observedKubeVirtRegistry: registry,
      observedKubeVirtVersion: observedVersion,
      operatorVersion: version,
      outdatedVirtualMachineInstanceWorkloads: desc.outdatedWorkloads ?? 0,
      phase: upgrading ? "Deploying" : "Deployed",
      targetDeploymentConfig: target.json,
      targetDeploymentID: target.id,
      targetKubeVirtRegistry: registry,
      targetKubeVirtVersion: version,
    },
  });
}

export interface ComponentDeploymentDescription {
  createdAt: number;
  version?: string;
  registry?: string;
  namespace?: string;
  /** virt-controller only: the `--launcher-image` argument; defaults to `launcherImageFor(version)`. */
  launcherImage?: string;
  replicas?: number;
  readyReplicas?: number;
}

interface ComponentSpec {
  name: string;
  serviceAccount: string;
  args: string[];
  ports: Json[];
  requests: Record<string, string>;
  env?: Json[];
}

function componentDeployment(
  desc: ComponentDeploymentDescription,
  component: ComponentSpec,
  random: Random,
): Json {
  const version = desc.version ?? "v1.9.0";
  const registry = desc.registry ?? "quay.io/kubevirt";
  const ns = desc.namespace ?? "kubevirt";
  const replicas = desc.replicas ?? 2;
  const ready = Math.min(desc.readyReplicas ?? replicas, replicas);
  const image = `${registry}/${component.name}:${version}`;
  const config = deploymentConfig(registry, version, ns);
  const rolledOutAt = desc.createdAt + 40_000;
  const podTemplateHash = random.suffix(10);
  const installAnnotations = {
    "kubevirt.io/install-strategy-identifier": config.id,
    "kubevirt.io/install-strategy-registry": registry,
    "kubevirt.io/install-strategy-version": version,
  };
  const labels = {
    "app.kubernetes.io/component": "kubevirt",
    "app.kubernetes.io/managed-by": "virt-operator",
    "kubevirt.io": component.name,
  };
  return goObject({
    kind: "Deployment",
    apiVersion: "apps/v1",
    metadata: {
      name: component.name,
      namespace: ns,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.createdAt),
      labels,
      annotations: {
        "deployment.kubernetes.io/revision": "1",
        ...installAnnotations,
        "kubevirt.io/customizer-identifier": random.hex(40),
        "kubevirt.io/generation": "1",
      },
    },
    spec: {
      replicas,
      selector: { matchLabels: { "kubevirt.io": component.name } },
      template: {
        metadata: {
          labels: { ...labels, "prometheus.kubevirt.io": "true" },
          annotations: { ...installAnnotations, "openshift.io/required-scc": "restricted-v2" },
        },
        spec: {
          containers: [
            compact({
              name: component.name,
              image,
              command: [component.name],
              args: component.args,
              ports: component.ports,
              env: component.env,
              resources: { requests: component.requests },
              terminationMessagePath: "/dev/termination-log",
              terminationMessagePolicy: "File",
              imagePullPolicy: "IfNotPresent",
              securityContext: {
                capabilities: { drop: ["ALL"] },
                allowPrivilegeEscalation: false,
                seccompProfile: { type: "RuntimeDefault" },
              },
            }),
          ],
          restartPolicy: "Always",
          terminationGracePeriodSeconds: 30,
          dnsPolicy: "ClusterFirst",
          nodeSelector: { "kubernetes.io/os": "linux" },
          serviceAccountName: component.serviceAccount,
          serviceAccount: component.serviceAccount,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 1,
                  podAffinityTerm: {
                    labelSelector: {
                      matchExpressions: [{ key: "kubevirt.io", operator: "In", values: [component.name] }],
                    },
                    topologyKey: "kubernetes.io/hostname",
                  },
                },
              ],
            },
          },
          schedulerName: "default-scheduler",
          tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
          priorityClassName: "kubevirt-cluster-critical",
        },
      },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: compact({
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: ready > 0 ? ready : undefined,
      availableReplicas: ready > 0 ? ready : undefined,
      unavailableReplicas: ready < replicas ? replicas - ready : undefined,
      conditions: [
        {
          type: "Available",
          status: ready > 0 ? "True" : "False",
          lastUpdateTime: rfc3339(rolledOutAt),
          lastTransitionTime: rfc3339(rolledOutAt),
          reason: ready > 0 ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
          message:
            ready > 0
              ? "Deployment has minimum availability."
              : "Deployment does not have minimum availability.",
        },
        {
          type: "Progressing",
          status: "True",
          lastUpdateTime: rfc3339(rolledOutAt),
          lastTransitionTime: rfc3339(desc.createdAt),
          reason: "NewReplicaSetAvailable",
          message: `ReplicaSet "${component.name}-${podTemplateHash}" has successfully progressed.`,
        },
      ],
    }),
  });
}

export function virtControllerDeployment(desc: ComponentDeploymentDescription, random: Random): Json {
  const registry = desc.registry ?? "quay.io/kubevirt";
  const version = desc.version ?? "v1.9.0";
  return componentDeployment(
    desc,
    {
      name: "virt-controller",
      serviceAccount: "kubevirt-controller",
      args: [
        "--launcher-image",
        desc.launcherImage ?? launcherImageFor({ registry, version }),
        "--exporter-image",
        `${registry}/virt-exportserver:${version}`,
        "--port",
        "8443",
        "-v",
        "2",
      ],
      ports: [{ name: "metrics", containerPort: 8443, protocol: "TCP" }],
      requests: { cpu: "10m", memory: "275Mi" },
      env: [{ name: "SIDECAR_SHIM_IMAGE", value: `${registry}/sidecar-shim:${version}` }],
    },
    random,
  );
}

export function virtApiDeployment(desc: ComponentDeploymentDescription, random: Random): Json {
  return componentDeployment(
    desc,
    {
      name: "virt-api",
      serviceAccount: "kubevirt-apiserver",
      args: ["--port", "8443", "--console-server-port", "8186", "--subresources-only", "-v", "2"],
      ports: [
        { name: "virt-api", containerPort: 8443, protocol: "TCP" },
        { name: "metrics", containerPort: 8443, protocol: "TCP" },
      ],
      requests: { cpu: "5m", memory: "500Mi" },
    },
    random,
  );
}

export function virtOperatorDeployment(desc: ComponentDeploymentDescription, random: Random): Json {
  const registry = desc.registry ?? "quay.io/kubevirt";
  const version = desc.version ?? "v1.9.0";
  return componentDeployment(
    desc,
    {
      name: "virt-operator",
      serviceAccount: "kubevirt-operator",
      args: ["--port", "8443", "-v", "2"],
      ports: [
        { name: "metrics", containerPort: 8443, protocol: "TCP" },
        { name: "webhooks", containerPort: 8444, protocol: "TCP" },
      ],
      requests: { cpu: "10m", memory: "450Mi" },
      env: [
        { name: "VIRT_OPERATOR_IMAGE", value: `${registry}/virt-operator:${version}` },
        {
          name: "WATCH_NAMESPACE",
          valueFrom: {
            fieldRef: { apiVersion: "v1", fieldPath: "metadata.annotations['olm.targetNamespaces']" },
          },
        },
        { name: "KUBEVIRT_VERSION", value: version },
      ],
    },
    random,
  );
}

// ---------------------------------------------------------------------------------------------
// MigrationPolicy and NetworkAttachmentDefinition
// ---------------------------------------------------------------------------------------------

export interface MigrationPolicyDescription {
  name: string;
  createdAt: number;
  namespaceSelector?: Record<string, string>;
  virtualMachineInstanceSelector?: Record<string, string>;
  allowAutoConverge?: boolean;
  allowPostCopy?: boolean;
  allowWorkloadDisruption?: boolean;
  bandwidthPerMigration?: string;
  completionTimeoutPerGiB?: number;
  maxDowntimeMs?: number;
}

export function migrationPolicy(desc: MigrationPolicyDescription, random: Random): Json {
  const { name, createdAt, namespaceSelector, virtualMachineInstanceSelector, ...settings } = desc;
  return sortKeysDeep({
    apiVersion: "migrations.kubevirt.io/v1alpha1",
    kind: "MigrationPolicy",
    metadata: { name, uid: random.uid(), creationTimestamp: rfc3339(createdAt) },
    spec: compact({ ...settings, selectors: compact({ namespaceSelector, virtualMachineInstanceSelector }) }),
  });
}

export interface NetworkAttachmentDefinitionDescription {
  name: string;
  namespace: string;
  createdAt: number;
  /** The CNI config as a JSON string; by default a Linux bridge CNI on `bridge` with `vlan`. */
  config?: string;
  /** Default "br1". */
  bridge?: string;
  vlan?: number;
  /**
   * False: no `k8s.v1.cni.cncf.io/resourceName` annotation (no bridge-marker resource, so the
   * scheduler does not keep the VM's pods to nodes that have the bridge).
   */
  resourceName?: boolean;
}

export function networkAttachmentDefinition(
  desc: NetworkAttachmentDefinitionDescription,
  random: Random,
): Json {
  const config =
    desc.config ??
    JSON.stringify({
      cniVersion: "0.3.1",
      name: desc.name,
      type: "bridge",
      bridge: desc.bridge ?? "br1",
      ...(desc.vlan !== undefined ? { vlan: desc.vlan } : {}),
      macspoofchk: true,
      ipam: {},
    });
  return sortKeysDeep({
    apiVersion: "k8s.cni.cncf.io/v1",
    kind: "NetworkAttachmentDefinition",
    metadata: {
      name: desc.name,
      namespace: desc.namespace,
      uid: random.uid(),
      creationTimestamp: rfc3339(desc.createdAt),
      ...(desc.resourceName === false
        ? {}
        : {
            annotations: {
              "k8s.v1.cni.cncf.io/resourceName": `bridge.network.kubevirt.io/${desc.bridge ?? "br1"}`,
            },
          }),
    },
    spec: { config },
  });
}
