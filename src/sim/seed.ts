// The simulated cluster's default contents: three worker nodes, KubeVirt v1.9.0 (upgraded from
// v1.8.2 three days ago, so two VMs still run on the old launcher), and five VMs in `demo` that
// cover the interesting migration cases.
//
// A cluster is described as plain data (`ClusterDescription`, what a scenario file will hold) and
// turned into objects by `buildSeed`; the same seed always gives the same uids, names and addresses.

import {
  type ComponentDeploymentDescription,
  type Json,
  type KubeVirtInstallDescription,
  kubevirtCR,
  launcherImageFor,
  type MigrationPolicyDescription,
  migrationPolicy,
  type NamespaceDescription,
  type NetworkAttachmentDefinitionDescription,
  type NodeDescription,
  namespace,
  networkAttachmentDefinition,
  node,
  nodeNetwork,
  type VmDescription,
  virtApiDeployment,
  virtControllerDeployment,
  virtOperatorDeployment,
  vmBundle,
} from "./objects.js";
import { Random } from "./random.js";

export interface SeedLogLine {
  /** Epoch ms. */
  time: number;
  text: string;
}

export interface SeedLog {
  namespace: string;
  pod: string;
  container: string;
  lines: SeedLogLine[];
}

export interface SeedData {
  objects: Record<string, unknown>[];
  logs: SeedLog[];
}

export interface ClusterDescription {
  namespaces: NamespaceDescription[];
  nodes: NodeDescription[];
  kubevirt: KubeVirtInstallDescription & {
    /** virt-controller's `--launcher-image`; defaults to `<registry>/virt-launcher:<version>`. */
    launcherImage?: string;
  };
  networkAttachmentDefinitions?: NetworkAttachmentDefinitionDescription[];
  migrationPolicies?: MigrationPolicyDescription[];
  vms: VmDescription[];
}

const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

const previousLauncherImage = "quay.io/kubevirt/virt-launcher:v1.8.2";

/** The default cluster, with times relative to `now` (epoch ms of the simulated clock). */
export function defaultCluster(now: number): ClusterDescription {
  const clusterCreated = now - 34 * day - 5 * hour - 17 * minute - 41 * second;
  const kubevirtInstalled = clusterCreated + 2 * hour + 8 * minute + 12 * second;
  const upgraded = now - 3 * day - 2 * hour - 44 * minute - 9 * second;
  const launcherImage = launcherImageFor({ registry: "quay.io/kubevirt", version: "v1.9.0" });
  const heartbeat = now - 7 * second;

  return {
    namespaces: [
      { name: "default", createdAt: clusterCreated },
      { name: "kube-system", createdAt: clusterCreated },
      { name: "kubevirt", createdAt: kubevirtInstalled - 31 * second },
      { name: "demo", createdAt: clusterCreated + 1 * day + 3 * hour + 2 * minute + 55 * second },
    ],
    nodes: [1, 2, 3].map((n) => ({
      name: `node-${n}`,
      createdAt: clusterCreated + 40 * second + n * 71 * second,
      heartbeatAt: heartbeat - n * second,
      memory: "32Gi",
      cpu: 8,
      ready: true,
      schedulable: true,
      role: "worker" as const,
    })),
    kubevirt: {
      createdAt: kubevirtInstalled,
      deployedAt: upgraded + 2 * minute + 36 * second,
      version: "v1.9.0",
      registry: "quay.io/kubevirt",
      namespace: "kubevirt",
      launcherImage,
      migrations: {
        parallelMigrationsPerCluster: 5,
        parallelOutboundMigrationsPerNode: 2,
        bandwidthPerMigration: "0Mi",
        completionTimeoutPerGiB: 150,
        progressTimeout: 150,
      },
      workloadUpdateStrategy: {
        workloadUpdateMethods: ["LiveMigrate"],
        batchEvictionSize: 10,
        batchEvictionInterval: "1m0s",
      },
    },
    networkAttachmentDefinitions: [
      {
        name: "vlan-13",
        namespace: "demo",
        createdAt: now - 25 * day - 6 * hour - 3 * minute,
        bridge: "br1",
        vlan: 13,
      },
    ],
    vms: [
      {
        name: "fedora-web",
        namespace: "demo",
        node: "node-1",
        createdAt: now - 5 * hour - 12 * minute - 37 * second,
        memory: "4Gi",
        cpuCores: 2,
        dirtyRateMiBps: 40,
        os: "fedora",
        labels: { app: "web" },
        networks: [{ name: "default", binding: "masquerade" }],
        volumes: [
          { name: "containerdisk", kind: "containerDisk", image: "quay.io/containerdisks/fedora:41" },
          { name: "cloudinitdisk", kind: "cloudInitNoCloud" },
        ],
        evictionStrategy: "LiveMigrate",
        launcherImage,
      },
      {
        name: "rhel-db",
        namespace: "demo",
        node: "node-2",
        createdAt: now - 2 * day - 7 * hour - 48 * minute - 3 * second,
        memory: "8Gi",
        cpuCores: 4,
        dirtyRateMiBps: 220,
        os: "rhel9",
        labels: { app: "db" },
        networks: [{ name: "default", binding: "masquerade" }],
        volumes: [
          {
            name: "rootdisk",
            kind: "pvc",
            claimName: "rhel-db-rootdisk",
            accessMode: "ReadWriteMany",
            size: "60Gi",
          },
        ],
        evictionStrategy: "LiveMigrate",
        launcherImage,
      },
      {
        name: "cirros-test",
        namespace: "demo",
        node: "node-3",
        createdAt: now - 11 * day - 4 * hour - 9 * minute - 50 * second,
        memory: "512Mi",
        cpuCores: 1,
        dirtyRateMiBps: 4,
        os: "cirros",
        networks: [{ name: "default", binding: "masquerade" }],
        volumes: [
          {
            name: "containerdisk",
            kind: "containerDisk",
            image: "quay.io/kubevirt/cirros-container-disk-demo:v1.8.2",
          },
        ],
        launcherImage: previousLauncherImage,
      },
      {
        name: "win-app",
        namespace: "demo",
        node: "node-2",
        createdAt: now - 19 * day - 22 * hour - 31 * minute - 18 * second,
        memory: "8Gi",
        cpuCores: 4,
        dirtyRateMiBps: 75,
        os: "windows2022",
        labels: { app: "erp" },
        networks: [
          { name: "default", binding: "masquerade" },
          { name: "vlan-13", binding: "bridge", multus: "vlan-13" },
        ],
        volumes: [
          {
            name: "rootdisk",
            kind: "pvc",
            claimName: "win-app-rootdisk",
            accessMode: "ReadWriteMany",
            size: "80Gi",
          },
        ],
        evictionStrategy: "LiveMigrate",
        launcherImage: previousLauncherImage,
      },
      {
        name: "legacy-pvc",
        namespace: "demo",
        node: "node-3",
        createdAt: now - 1 * day - 3 * hour - 26 * minute - 44 * second,
        memory: "2Gi",
        cpuCores: 1,
        dirtyRateMiBps: 12,
        os: "centos-stream9",
        labels: { app: "legacy" },
        networks: [{ name: "default", binding: "masquerade" }],
        volumes: [
          {
            name: "datadisk",
            kind: "pvc",
            claimName: "legacy-pvc-data",
            accessMode: "ReadWriteOnce",
            size: "20Gi",
            volumeMode: "Filesystem",
          },
        ],
        evictionStrategy: "LiveMigrate",
        launcherImage,
      },
    ],
  };
}

/** Turns a cluster description into store objects and container logs, deterministically for `seed`. */
export function buildSeed(cluster: ClusterDescription, seed: number): SeedData {
  const root = new Random(seed);
  const objects: Json[] = [];
  const events: Json[] = [];
  const logs: SeedLog[] = [];

  for (const ns of cluster.namespaces) objects.push(namespace(ns, root.derive(`namespace/${ns.name}`)));
  for (const n of cluster.nodes) objects.push(node(n, root.derive(`node/${n.name}`)));

  const kv = cluster.kubevirt;
  const launcherImage = kv.launcherImage ?? launcherImageFor(kv);
  const outdated = cluster.vms.filter((vm) => vm.launcherImage !== launcherImage).length;
  objects.push(
    kubevirtCR({ ...kv, outdatedWorkloads: kv.outdatedWorkloads ?? outdated }, root.derive("kubevirt")),
  );
  const component: ComponentDeploymentDescription = {
    createdAt: kv.createdAt + 20 * second,
    version: kv.version,
    registry: kv.registry,
    namespace: kv.namespace,
    launcherImage,
  };
  objects.push(
    virtOperatorDeployment(
      { ...component, createdAt: kv.createdAt - 25 * second },
      root.derive("deploy/virt-operator"),
    ),
  );
  objects.push(virtApiDeployment(component, root.derive("deploy/virt-api")));
  objects.push(virtControllerDeployment(component, root.derive("deploy/virt-controller")));

  for (const nad of cluster.networkAttachmentDefinitions ?? []) {
    objects.push(networkAttachmentDefinition(nad, root.derive(`nad/${nad.namespace}/${nad.name}`)));
  }
  for (const policy of cluster.migrationPolicies ?? []) {
    objects.push(migrationPolicy(policy, root.derive(`migrationpolicy/${policy.name}`)));
  }

  const nodes = cluster.nodes.map(nodeNetwork);
  const usedIPs = new Set<string>();
  for (const desc of cluster.vms) {
    const bundle = vmBundle(desc, {
      random: root.derive(`vm/${desc.namespace}/${desc.name}`),
      currentLauncherImage: launcherImage,
      nodes,
      usedIPs,
    });
    objects.push(bundle.vm, bundle.vmi, bundle.pod);
    events.push(...bundle.events);
    logs.push(bundle.log);
  }

  events.sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)));
  return { objects: [...objects, ...events], logs };
}

export function defaultSeed(options: { seed: number; now: number }): SeedData {
  return buildSeed(defaultCluster(options.now), options.seed);
}
