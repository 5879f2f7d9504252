// The simulated cluster's default contents: three worker nodes, KubeVirt v1.9.0 (upgraded from
// v1.8.2 three days ago, so two VMs still run on the old launcher), and five VMs in `demo` that
// cover the interesting migration cases.
//
// A cluster is described as plain data (`ClusterDescription`, what a scenario file will hold) and
// turned into objects by `buildSeed`; the same seed always gives the same uids, names and addresses.

import {
  type MetricSeries,
  type PastMigrationMetrics,
  pastMigrationSeries,
} from "./objects/migration-metrics.js";
import { type NmstateDescription, nmstateObjects } from "./objects/nmstate.js";
import {
  aggregateEvents,
  type ComponentDeploymentDescription,
  type EventDescription,
  event,
  generatedName,
  type Json,
  type KubeVirtInstallDescription,
  kubevirtCR,
  launcherImageFor,
  launcherLogLine,
  type MigrationPolicyDescription,
  migrationPolicy,
  type NamespaceDescription,
  type NetworkAttachmentDefinitionDescription,
  type NodeDescription,
  type NodeNetwork,
  namespace,
  networkAttachmentDefinition,
  node,
  nodeNetwork,
  type PastMigrationDescription,
  pastMigration,
  referenceTo,
  sortKeysDeep,
  type VmDescription,
  type VmStamper,
  virtApiDeployment,
  virtControllerDeployment,
  virtOperatorDeployment,
  vmBundle,
  vmStamper,
} from "./objects.js";
import { Random } from "./random.js";
import { nmstateGroup } from "./registry.js";

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
  /** The migration series a Prometheus beside the cluster kept of what is no longer reported. */
  metrics?: MetricSeries[];
  /** API groups of add-ons this cluster lacks (no `nmstate` section: kubernetes-nmstate's nmstate.io). */
  absentGroups?: string[];
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
  /** kubernetes-nmstate installed, with its policies; absent: the nmstate.io API is not served. */
  nmstate?: NmstateDescription;
  vms: VmDescription[];
  /** What happened before: earlier migrations, events and launcher log lines. */
  history?: HistoryDescription;
  /** Many generated VMs (the `scale` scenario), built by stamping one bundle per shape. */
  scale?: ScaleDescription;
}

/** An earlier migration of one of the cluster's VMs. Times are epoch ms. */
export interface HistoryMigrationDescription
  extends Omit<PastMigrationDescription, "createdAt" | "targetNode" | "notBefore"> {
  namespace: string;
  vm: string;
  /** Unset: a retry, created just after the previous one of this VM ended (what the evacuation controller does). */
  createdAt?: number;
  /** Default: the first other Ready node, by name. */
  targetNode?: string;
}

export interface HistoryEventDescription extends Omit<EventDescription, "involvedObject"> {
  /** Kind and name (and namespace) of an object of the cluster. */
  object: {
    kind: "VirtualMachine" | "VirtualMachineInstance" | "Node" | "KubeVirt";
    namespace?: string;
    name: string;
  };
}

export interface HistoryLogDescription {
  namespace: string;
  /** The VM whose launcher pod logged the lines (its compute container unless `container`). */
  vm: string;
  container?: string;
  lines: { time: number; level: "info" | "warning" | "error"; pos: string; msg: string }[];
}

export interface HistoryDescription {
  migrations?: HistoryMigrationDescription[];
  events?: HistoryEventDescription[];
  logs?: HistoryLogDescription[];
  /** Events that ended before this (epoch ms) are gone, as kube-apiserver's --event-ttl removes them. */
  eventsAfter?: number;
}

export type VmShape = Omit<
  VmDescription,
  "name" | "namespace" | "node" | "createdAt" | "startedAt" | "launcherImage"
>;

export interface ScaleDescription {
  /** How many VMs. */
  count: number;
  /** VM `i` (from 1) is `<namePrefix><i>`, zero-padded to the width of `count`. */
  namePrefix: string;
  /** Namespaces the VMs go to, in turn (they must be among the cluster's namespaces). */
  namespaces: readonly string[];
  /** Nodes the VMs go to, in turn. */
  nodes: readonly string[];
  /** Every n-th VM runs `outdatedLauncherImage`; 0: none. */
  outdatedEvery: number;
  outdatedLauncherImage?: string;
  /** Picked at random by weight. */
  shapes: readonly { weight: number; vm: VmShape }[];
  /** VM creation times are spread between these (epoch ms). */
  createdBetween: { from: number; to: number };
}

/** KubeVirt's MigrationConfiguration defaults (facts §i), as `migrationState.migrationConfiguration` spells them. */
const migrationConfigurationDefaults: Json = {
  allowAutoConverge: false,
  allowPostCopy: false,
  bandwidthPerMigration: "0Mi",
  completionTimeoutPerGiB: 150,
  maxDowntimeMs: 900,
  nodeDrainTaintKey: "kubevirt.io/drain",
  parallelMigrationsPerCluster: 5,
  parallelOutboundMigrationsPerNode: 2,
  progressTimeout: 150,
  unsafeMigrationOverride: false,
  utilityVolumesTimeout: 150,
};

export const policySettings = [
  "allowAutoConverge",
  "allowPostCopy",
  "allowWorkloadDisruption",
  "bandwidthPerMigration",
  "completionTimeoutPerGiB",
  "maxDowntimeMs",
] as const;

/** The policy virt-controller matches to a VMI: most matched labels, then most VMI labels, then the smallest name. */
export function matchMigrationPolicy(
  policies: readonly MigrationPolicyDescription[],
  namespaceLabels: Record<string, string>,
  vmiLabels: Record<string, string>,
): MigrationPolicyDescription | undefined {
  let best: { policy: MigrationPolicyDescription; total: number; vmi: number } | undefined;
  for (const policy of policies) {
    const ns = Object.entries(policy.namespaceSelector ?? {});
    const vmi = Object.entries(policy.virtualMachineInstanceSelector ?? {});
    if (!ns.every(([k, v]) => namespaceLabels[k] === v) || !vmi.every(([k, v]) => vmiLabels[k] === v))
      continue;
    const total = ns.length + vmi.length;
    if (
      !best ||
      total > best.total ||
      (total === best.total && vmi.length > best.vmi) ||
      (total === best.total && vmi.length === best.vmi && policy.name < best.policy.name)
    ) {
      best = { policy, total, vmi: vmi.length };
    }
  }
  return best?.policy;
}

/** The effective migration settings at hand-off: defaults, the KubeVirt CR's, then a policy's (facts §i). */
export function effectiveMigrationConfiguration(
  clusterMigrations: Json | undefined,
  policy: MigrationPolicyDescription | undefined,
): Json {
  const config: Json = { ...migrationConfigurationDefaults, ...clusterMigrations };
  if (clusterMigrations?.allowWorkloadDisruption === undefined)
    config.allowWorkloadDisruption = config.allowPostCopy;
  if (policy) {
    for (const key of policySettings) if (policy[key] !== undefined) config[key] = policy[key];
    if (policy.allowWorkloadDisruption === undefined && policy.allowPostCopy !== undefined) {
      config.allowWorkloadDisruption = policy.allowPostCopy;
    }
  }
  return sortKeysDeep(config);
}

const second = 1_000;

/** Turns a cluster description into store objects and container logs, deterministically for `seed`. */
export function buildSeed(cluster: ClusterDescription, seed: number): SeedData {
  const root = new Random(seed);
  const objects: Json[] = [];
  const events: Json[] = [];
  const logs: SeedLog[] = [];

  for (const ns of cluster.namespaces) objects.push(namespace(ns, root.derive(`namespace/${ns.name}`)));
  const nodeUids = new Map<string, string>();
  for (const n of cluster.nodes) {
    const built = node(n, root.derive(`node/${n.name}`));
    nodeUids.set(n.name, String((built.metadata as Json).uid));
    objects.push(built);
  }

  const kv = cluster.kubevirt;
  const launcherImage = kv.launcherImage ?? launcherImageFor(kv);
  const scale = cluster.scale;
  const scaleOutdated =
    scale && scale.outdatedEvery > 0 && scale.outdatedLauncherImage !== undefined
      ? Math.floor(scale.count / scale.outdatedEvery)
      : 0;
  const outdated = cluster.vms.filter((vm) => vm.launcherImage !== launcherImage).length + scaleOutdated;
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
  if (cluster.nmstate) {
    objects.push(...nmstateObjects(cluster.nmstate, cluster.nodes, nodes, nodeUids, root.derive("nmstate")));
  }
  const usedIPs = new Set<string>();
  const bundles = new Map<string, { desc: VmDescription; bundle: ReturnType<typeof vmBundle> }>();
  for (const desc of cluster.vms) {
    const bundle = vmBundle(desc, {
      random: root.derive(`vm/${desc.namespace}/${desc.name}`),
      currentLauncherImage: launcherImage,
      nodes,
      usedIPs,
    });
    bundles.set(`${desc.namespace}/${desc.name}`, { desc, bundle });
    objects.push(bundle.vm, bundle.vmi, bundle.pod);
    events.push(...bundle.events);
    logs.push(bundle.log);
  }

  let metrics: MetricSeries[] | undefined;
  if (cluster.history) {
    const history = buildHistory(cluster, cluster.history, { root, nodes, bundles, objects });
    objects.push(...history.objects);
    events.push(...history.events);
    metrics = history.metrics;
  }
  for (const log of logs) log.lines.sort((a, b) => a.time - b.time);
  if (scale) {
    const stamped = stampScale(scale, { root: root.derive("scale"), launcherImage, nodes, usedIPs });
    // A loop, not push(...): 50,000 VMs stamp more objects than a call can take as arguments.
    for (const object of stamped.objects) objects.push(object);
    for (const log of stamped.logs) logs.push(log);
  }

  events.sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)));
  const eventsAfter = cluster.history?.eventsAfter;
  const kept =
    eventsAfter === undefined
      ? events
      : events.filter((e) => Date.parse(String(e.lastTimestamp ?? e.firstTimestamp)) >= eventsAfter);
  return {
    objects: [...objects, ...kept],
    logs,
    ...(metrics ? { metrics } : {}),
    ...(cluster.nmstate ? {} : { absentGroups: [nmstateGroup] }),
  };
}

interface HistoryContext {
  root: Random;
  nodes: readonly NodeNetwork[];
  bundles: ReadonlyMap<string, { desc: VmDescription; bundle: ReturnType<typeof vmBundle> }>;
  objects: readonly Json[];
}

const backoffStartMs = 20_000;

/** Earlier migrations, events and log lines, consistent with the VMs they are about. */
function buildHistory(
  cluster: ClusterDescription,
  history: HistoryDescription,
  ctx: HistoryContext,
): { objects: Json[]; events: Json[]; metrics: MetricSeries[] } {
  const objects: Json[] = [];
  const eventDescs: EventDescription[] = [];
  const random = ctx.root.derive("history");
  const policies = cluster.migrationPolicies ?? [];
  const nsLabels = new Map(
    cluster.namespaces.map((ns) => [ns.name, { ...ns.labels, "kubernetes.io/metadata.name": ns.name }]),
  );
  const lookup = (namespace: string, name: string, where: string) => {
    const found = ctx.bundles.get(`${namespace}/${name}`);
    if (!found) throw new Error(`${where}: no VM ${namespace}/${name}`);
    return found;
  };
  /** Per VM: earlier attempts in order, for retries, backoff and the VMI's last migration state. */
  const attempts = new Map<
    string,
    { trigger: string; result: string; endedAt: number; state?: Json; vmim: Json; handedOffAt?: number }[]
  >();
  const places = moveChain(history.migrations ?? [], ctx, random);
  (history.migrations ?? []).forEach((m, index) => {
    const where = `history.migrations[${index}]`;
    const { desc, bundle } = lookup(m.namespace, m.vm, where);
    const key = `${m.namespace}/${m.vm}`;
    const previous = attempts.get(key) ?? [];
    const last = previous[previous.length - 1];
    const createdAt = m.createdAt ?? (last ? last.endedAt + 300 + (index % 7) * 90 : undefined);
    if (createdAt === undefined) throw new Error(`${where}: a retry needs an earlier migration of ${key}`);
    const trigger = m.trigger ?? "user";
    let notBefore: number | undefined;
    if (trigger !== "user") {
      // Backoff (facts §g): 20 s for the first failure of the eligible ones before it, doubling.
      let delay = 0;
      let lastFailure: number | undefined;
      for (const earlier of [...previous].reverse()) {
        if (earlier.trigger === "user") continue;
        if (earlier.result === "Succeeded") break;
        delay = delay === 0 ? backoffStartMs : delay * 2;
        lastFailure ??= earlier.endedAt;
      }
      if (lastFailure !== undefined) notBefore = lastFailure + delay;
    }
    const place = places[index] as MovePlace;
    const targetNode =
      place.targetNode ??
      cluster.nodes.find((n) => n.name !== place.sourceNode && (n.ready ?? true) && !n.cordoned)?.name;
    if (!targetNode) throw new Error(`${where}: no node to migrate ${key} to`);
    if (targetNode === place.sourceNode)
      throw new Error(`${where}: ${key} was on ${targetNode} then; the target is another node`);
    const vmiLabels = (bundle.vmi.metadata as { labels?: Record<string, string> }).labels ?? {};
    const policy = matchMigrationPolicy(policies, nsLabels.get(m.namespace) ?? {}, vmiLabels);
    const past = pastMigration(
      desc,
      { ...m, ...place, createdAt, targetNode, notBefore },
      {
        random: random.derive(`${key}/${index}`),
        plan: bundle.plan,
        nodes: ctx.nodes,
        migrationConfiguration: effectiveMigrationConfiguration(cluster.kubevirt.migrations, policy),
        migrationPolicyName: policy?.name ?? null,
        kubevirtVersion: cluster.kubevirt.version,
      },
    );
    if (past.startedAt < bundle.plan.times.vmiRunning) {
      throw new Error(`${where}: starts before ${key} was running`);
    }
    eventDescs.push(...past.events);
    // A failure's lines are in the log of the launcher it started from, when that is still the VM's.
    if (m.result !== "Succeeded" && past.log.pod === bundle.plan.podName)
      bundle.log.lines.push(...past.log.lines);
    previous.push({
      trigger,
      result: m.result,
      endedAt: past.endedAt,
      state: past.vmiState,
      vmim: past.vmim,
      handedOffAt: past.handedOffAt,
    });
    attempts.set(key, previous);
  });
  const metrics: MetricSeries[] = [];
  for (const [key, list] of attempts) {
    // KubeVirt keeps the newest five final VMIMs of a VMI and deletes the older ones as each
    // new one ends (migration.go garbageCollectFinalizedMigrations, facts §c).
    const newestFirst = [...list].sort(
      (a, b) => createdOf(b.vmim).localeCompare(createdOf(a.vmim)) || b.endedAt - a.endedAt,
    );
    const deletedAt = new Map<Json, number>();
    newestFirst.forEach((a, i) => {
      const deleter = newestFirst[i - finishedMigrationsKept];
      if (i >= finishedMigrationsKept && deleter) deletedAt.set(a.vmim, deleter.endedAt);
    });
    for (const a of list) if (!deletedAt.has(a.vmim)) objects.push(a.vmim);
    const [namespace = "", vmi = ""] = key.split("/");
    const past: PastMigrationMetrics[] = list.map((a) => ({
      namespace,
      vmi,
      vmim: String((a.vmim.metadata as { name?: string }).name),
      result: a.result as "Succeeded" | "Failed",
      endedAt: a.endedAt,
      handedOffAt: a.handedOffAt,
      state: a.state,
      deletedAt: deletedAt.get(a.vmim),
    }));
    // What is still reported the running cluster's collectors tell (currentMigrationSeries).
    metrics.push(...pastMigrationSeries(past).filter((series) => series.to !== undefined));
  }
  for (const [key, list] of attempts) {
    // The VMI keeps the state of the last migration that got as far as the hand-off.
    const state = [...list].reverse().find((a) => a.state !== undefined)?.state;
    const vmi = ctx.bundles.get(key)?.bundle.vmi;
    if (state && vmi) vmi.status = sortKeysDeep({ ...(vmi.status as Json), migrationState: state });
  }

  (history.events ?? []).forEach((e, index) => {
    const where = `history.events[${index}]`;
    const { object, ...rest } = e;
    const target = ctx.objects.find((candidate) => {
      const meta = candidate.metadata as { name?: string; namespace?: string };
      return (
        candidate.kind === object.kind && meta.name === object.name && meta.namespace === object.namespace
      );
    });
    if (!target)
      throw new Error(
        `${where}: no ${object.kind} ${object.namespace ? `${object.namespace}/` : ""}${object.name}`,
      );
    eventDescs.push({ ...rest, involvedObject: referenceTo(target) });
  });

  (history.logs ?? []).forEach((l, index) => {
    const { bundle } = lookup(l.namespace, l.vm, `history.logs[${index}]`);
    const container = l.container ?? "compute";
    if (container !== "compute") throw new Error(`history.logs[${index}].container: only compute is kept`);
    for (const line of l.lines) {
      bundle.log.lines.push({
        time: Math.floor(line.time),
        text: launcherLogLine({
          time: line.time,
          level: line.level,
          pos: line.pos,
          msg: line.msg,
          object: { namespace: l.namespace, name: l.vm, kind: "", uid: bundle.plan.vmiUid },
        }),
      });
    }
  });

  const events = aggregateEvents(eventDescs).map((desc, i) => event(desc, random.derive(`event/${i}`)));
  return { objects, events, metrics };
}

/** `migration.go` defaultFinalizedMigrationGarbageCollectionBuffer. */
const finishedMigrationsKept = 5;

function createdOf(vmim: Json): string {
  return String((vmim.metadata as { creationTimestamp?: string }).creationTimestamp ?? "");
}

/** Where a past migration started and, for a move, ended: its node and launcher pod at each end. */
interface MovePlace {
  sourceNode: string;
  sourcePod: string;
  targetNode?: string | undefined;
  targetPod?: string | undefined;
}

/**
 * The nodes and launcher pods of each VM's past migrations. A VM's Succeeded moves chain: the
 * first leaves its `sourceNode`, each later one leaves where the one before ended, and the last
 * ends on the VM's node in its launcher pod now; a failure starts from wherever the VM was then.
 * A move before the last ends in a launcher pod that is gone, named here.
 */
function moveChain(
  migrations: readonly HistoryMigrationDescription[],
  ctx: HistoryContext,
  random: Random,
): MovePlace[] {
  const places: MovePlace[] = [];
  const byVm = new Map<string, number[]>();
  migrations.forEach((m, i) => {
    const key = `${m.namespace}/${m.vm}`;
    byVm.set(key, [...(byVm.get(key) ?? []), i]);
  });
  for (const [key, indexes] of byVm) {
    const found = ctx.bundles.get(key);
    if (!found) throw new Error(`history.migrations[${indexes[0]}]: no VM ${key}`);
    const { desc, bundle } = found;
    const moves = indexes.filter((i) => migrations[i]?.result === "Succeeded");
    // Epoch e: where the VM ran after e moves; the last is now.
    const nodes: string[] = [];
    const pods: string[] = [];
    moves.forEach((i, e) => {
      const m = migrations[i] as HistoryMigrationDescription;
      const earlier = moves[e - 1] === undefined ? undefined : migrations[moves[e - 1] as number];
      if (earlier?.targetNode !== undefined && earlier.targetNode !== m.sourceNode) {
        throw new Error(
          `history.migrations[${i}]: ${key} left ${m.sourceNode}, but the move before it ended on ${earlier.targetNode}`,
        );
      }
      nodes.push(m.sourceNode as string);
      pods.push(generatedName(`virt-launcher-${desc.name}-`, random.derive(`${key}/launcher/${e}`)));
    });
    nodes.push(desc.node);
    pods.push(bundle.plan.podName);
    const lastMove = moves.at(-1);
    if (lastMove !== undefined) {
      const last = migrations[lastMove] as HistoryMigrationDescription;
      if (last.targetNode !== undefined && last.targetNode !== desc.node)
        throw new Error(`history.migrations[${lastMove}]: ${key}'s last move ends on its node ${desc.node}`);
    }
    let epoch = 0;
    for (const i of indexes) {
      const m = migrations[i] as HistoryMigrationDescription;
      const place: MovePlace = {
        sourceNode: nodes[epoch] as string,
        sourcePod: pods[epoch] as string,
        targetNode: m.targetNode,
      };
      if (m.result === "Succeeded") {
        epoch += 1;
        place.targetNode = nodes[epoch];
        place.targetPod = pods[epoch];
      }
      places[i] = place;
    }
  }
  return places;
}

/** Generated VMs: one stamper per shape and launcher, pod IPs handed out in order per node. */
function stampScale(
  scale: ScaleDescription,
  ctx: { root: Random; launcherImage: string; nodes: readonly NodeNetwork[]; usedIPs: Set<string> },
): { objects: Json[]; logs: SeedLog[] } {
  const objects: Json[] = [];
  const logs: SeedLog[] = [];
  if (scale.shapes.length === 0) throw new Error("scale: no VM shapes");
  if (scale.namespaces.length === 0 || scale.nodes.length === 0)
    throw new Error("scale: no namespaces or nodes");
  const totalWeight = scale.shapes.reduce((sum, shape) => sum + shape.weight, 0);
  const stampers = new Map<string, VmStamper>();
  const stamperFor = (shape: number, outdated: boolean) => {
    const key = `${shape}/${outdated}`;
    let stamper = stampers.get(key);
    if (!stamper) {
      const vm = scale.shapes[shape]?.vm as VmShape;
      stamper = vmStamper(
        {
          ...vm,
          name: "template",
          namespace: "template",
          node: "template-node",
          createdAt: scale.createdBetween.from,
          launcherImage: outdated ? (scale.outdatedLauncherImage ?? ctx.launcherImage) : ctx.launcherImage,
        },
        { currentLauncherImage: ctx.launcherImage, random: ctx.root.derive(`template/${key}`) },
      );
      stampers.set(key, stamper);
    }
    return stamper;
  };
  const nodeByName = new Map(ctx.nodes.map((n) => [n.name, n]));
  const nextHost = new Map<string, number>();
  const podIP = (node: NodeNetwork) => {
    const prefix = node.podCIDR.split("/")[0]?.split(".").slice(0, 3).join(".") ?? "10.244.0";
    let host = nextHost.get(node.name) ?? 2;
    while (ctx.usedIPs.has(`${prefix}.${host}`)) host++;
    if (host > 254) throw new Error(`scale: no free address left in ${node.podCIDR} of ${node.name}`);
    nextHost.set(node.name, host + 1);
    const ip = `${prefix}.${host}`;
    ctx.usedIPs.add(ip);
    return ip;
  };
  const width = String(scale.count).length;
  const random = ctx.root.derive("vms");
  const span = Math.max(0, scale.createdBetween.to - scale.createdBetween.from);
  for (let i = 1; i <= scale.count; i++) {
    let pick = random.next() * totalWeight;
    let shape = 0;
    while (shape < scale.shapes.length - 1 && pick >= (scale.shapes[shape]?.weight ?? 0)) {
      pick -= scale.shapes[shape]?.weight ?? 0;
      shape++;
    }
    const outdated = scale.outdatedEvery > 0 && i % scale.outdatedEvery === 0;
    const nodeName = scale.nodes[(i - 1) % scale.nodes.length] as string;
    const node = nodeByName.get(nodeName);
    if (!node) throw new Error(`scale: unknown node ${nodeName}`);
    const stamped = stamperFor(shape, outdated).stamp({
      name: `${scale.namePrefix}${String(i).padStart(width, "0")}`,
      namespace: scale.namespaces[(i - 1) % scale.namespaces.length] as string,
      node,
      createdAt: scale.createdBetween.from + Math.floor(random.next() * span),
      podIP: podIP(node),
      random,
    });
    objects.push(stamped.vm, stamped.vmi, stamped.pod);
    logs.push(stamped.log);
  }
  return { objects, logs };
}
