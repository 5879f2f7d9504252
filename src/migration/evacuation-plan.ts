// The plan of `kvmig evacuate NODE`, before anything changes: the VMs on the node and what
// KubeVirt's evacuation will do with each (migrate it, or nothing: a drain then waits on it or
// shuts it down), whether the other nodes have room for the ones that move, the parallel limits
// the migrations queue behind, and how long it may take. Pure: data in, data out.
//
// KubeVirt's rules (facts §e): the pod-eviction webhook marks a VMI for evacuation
// (`status.evacuationNodeName`) and refuses the eviction with 429 for eviction strategy
// LiveMigrate, LiveMigrateIfPossible on a migratable VMI, or External; it refuses a LiveMigrate
// VMI that cannot migrate outright, so a drain retries forever; anything else (None,
// LiveMigrateIfPossible that cannot migrate) is evicted, which shuts the VM down
// (pod-eviction-admitter.go). The evacuation controller migrates only what eviction-strategy.ts's
// evacuationMigrates accepts (evacuation.go); External VMIs are left to an external controller.
// The target pods repeat the launcher pods' requests, selectors, affinity and tolerations, plus
// KubeVirt's anti-affinity (target-pod.ts, placement.ts); the limits are
// parallelOutboundMigrationsPerNode and parallelMigrationsPerCluster (migration.go).

import type {
  KubeVirt,
  NetworkAttachmentDefinition,
  Node,
  NodeNetworkState,
  Pod,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../k8s/types.js";
import { compareText } from "../util/order.js";
import { commandLine, kvmigCommand } from "../util/shell.js";
import { plural } from "../util/words.js";
import { bulkBridgeWarnings } from "./bridges.js";
import { effectiveEvictionStrategy, evacuationMigrates } from "./eviction-strategy.js";
import { formatBytes, formatRate } from "./format.js";
import { type OutboundNodes, outboundFrom, outboundKey, outboundNodesOf } from "./outbound.js";
import { countsTowardsLimits } from "./pending.js";
import { type Placement, placeTargetPod, tolerates } from "./placement.js";
import { limitsOf, refusalSummary, unfinishedMigration } from "./preflight.js";
import { formatCpuQuantity, parseQuantity } from "./quantity.js";
import { isFinalPhase } from "./state.js";
import {
  podRequests,
  podSpec,
  schedulableLabel,
  type TargetPod,
  type Toleration,
  targetPodOf,
} from "./target-pod.js";
import { evacuationMigrationAnnotation, migrationTrigger } from "./trigger.js";

export type EvacuationAction = "migrate" | "restart" | "blocked";

export interface PlannedVm {
  namespace: string;
  /** The VM's name (the VMI's name for a standalone VMI). */
  vm: string;
  vmi: string;
  standalone: boolean;
  /** The VMI's active launcher pod on the node (what an eviction targets). */
  launcherPod: string | null;
  /** That pod's requests (memory, incl. overhead as the scheduler counts it). */
  memoryBytes: number;
  cpuMillis: number;
  /** What a migration copies (the VMI's guest memory). */
  guestMemoryBytes: number;
  /** The LiveMigratable condition; ok null: no condition. */
  liveMigratable: { ok: boolean | null; reason?: string; message?: string };
  /** As eviction-strategy.ts resolves it ("LiveMigrate", "None", ..., "unknown"). */
  evictionStrategy: string;
  /** With options.restart, a VM that cannot live-migrate gets "restart", else "blocked". */
  action: EvacuationAction;
  /** One line: why this action, naming KubeVirt's reason. */
  why: string;
  /** For blocked ones: the command that moves it. */
  command?: string;
  /** An unfinished migration of this VMI now. */
  migration?: { name: string; phase: string; trigger: string };
  /** status.evacuationNodeName === node. */
  marked: boolean;
  /** The node the room check put it on; null: none had room or accepted it. Unset for blocked VMs. */
  placedOn?: string | null;
}

export interface Resources {
  memoryBytes: number;
  cpuMillis: number;
}

export interface NodeRoom {
  node: string;
  /** Schedulable, Ready, a KubeVirt node, no NoSchedule taint the launcher pods do not tolerate. */
  usable: boolean;
  /** Why not usable ("cordoned", "NotReady", "taint k=v:NoSchedule"). */
  why?: string;
  allocatable: Resources;
  /** Non-terminal pods bound there now. */
  requested: Resources;
  free: Resources;
  /** What is left once the room check placed its VMs. */
  left?: Resources;
  /** "ns/vm" the room check put here. */
  placed: string[];
}

export interface EvacuationProblem {
  severity: "error" | "warning";
  message: string;
  hint?: string;
}

export interface EvacuationPlan {
  node: string;
  /** spec.unschedulable now. */
  cordoned: boolean;
  /** Sorted by namespace, vm. */
  vms: PlannedVm[];
  room: {
    nodes: NodeRoom[];
    fits: boolean;
    /** "ns/vm" of the VMs to move that no node takes. */
    unplaced: string[];
    /** The requests of the unplaced VMs: the room that is missing. */
    shortfall: Resources;
    /** False when the nodes could not be listed: nothing was checked. */
    checked?: boolean;
  };
  limits: {
    perNode: number;
    perCluster: number;
    /** Running migrations leaving the node, as KubeVirt counts them. */
    outboundFromNode: number;
    /** Running migrations in the cluster, as KubeVirt counts them. */
    inCluster: number;
    freeSlots: number;
    /** False when the migrations could not be listed: the counts are unknown (0). */
    counted?: boolean;
    /** VMs to migrate beyond the free slots now: they wait in KubeVirt's queue (not a problem). */
    queued?: number;
  };
  estimate: { seconds: number | null; basis: string };
  problems: EvacuationProblem[];
}

/** What kvmig read; undefined where a read failed (its message in `unread`). */
export interface EvacuationPlanInput {
  node: string;
  /** The node being evacuated, as read. */
  target: Node;
  /** Every node of the cluster (the evacuated one may be among them). */
  nodes?: readonly Node[] | undefined;
  /**
   * VMIs: those that run on the node (non-final, status.nodeName) are planned; the others only
   * lend their guest memory to the measured migration rate.
   */
  vmis: readonly VirtualMachineInstance[];
  /** The VMs of those VMIs (a VMI without one is standalone). */
  vms?: readonly VirtualMachine[] | undefined;
  /**
   * Each VMI's active launcher pod on the node, whole, by "namespace/name" (the operations layer
   * picks it: placement-pods.ts activeLauncherPod); undefined: the node's pods could not be listed.
   */
  launchers?: ReadonlyMap<string, Pod> | undefined;
  /** Non-terminal pods bound to nodes (may be slimmed to what placement reads). */
  pods?: readonly Pod[] | undefined;
  /** Every VMIM in the cluster. */
  migrations?: readonly VirtualMachineInstanceMigration[] | undefined;
  /** Where each running migration leaves from (outbound.ts), for those whose VMI is not among `vmis`. */
  outboundNodes?: OutboundNodes | undefined;
  /** null: there is none; undefined: could not be read. */
  kubevirt?: KubeVirt | null | undefined;
  options: { restart: boolean };
  /** Why a read failed, by what it was; shown with the warning that says what was not checked. */
  unread?: Partial<Record<UnreadPart, string>> | undefined;
  /** The bridge check (bridges.ts): the NADs of the VMs' namespaces and the nodes' NodeNetworkStates. */
  bridges?:
    | {
        nads?: readonly NetworkAttachmentDefinition[] | undefined;
        states?: readonly NodeNetworkState[] | undefined;
        statesUnread?: string | undefined;
      }
    | undefined;
}

export type UnreadPart = "nodes" | "pods" | "launchers" | "vms" | "migrations" | "kubevirt";

const migrationJobLabel = "kubevirt.io/migrationJobUID";
/** The newest successful migrations that measure the rate. */
const measuredMigrations = 20;
/** Seconds an unschedulable target pod waits before KubeVirt fails its migration (pending.ts). */
const unschedulableSeconds = 300;

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** "a, b and c". */
function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function cpuText(millis: number): string {
  return `${formatCpuQuantity(millis / 1000)} CPU`;
}

function because(part: UnreadPart, input: EvacuationPlanInput): string {
  const why = input.unread?.[part];
  return why ? ` (${why})` : "";
}

/** Who started a migration (trigger.ts), in words. */
function triggerOf(m: VirtualMachineInstanceMigration): { trigger: string; text: string } {
  const trigger = migrationTrigger(m);
  if (trigger === "evacuation") {
    const from = m.metadata.annotations?.[evacuationMigrationAnnotation];
    return { trigger, text: `KubeVirt's evacuation${from ? ` of ${from}` : ""}` };
  }
  if (trigger === "workload-update") return { trigger, text: "KubeVirt's workload updater" };
  if (trigger === "volume-update") return { trigger, text: "KubeVirt's workload updater (a volume update)" };
  return { trigger, text: "a user (kvmig migrate or virtctl migrate)" };
}

export function guestMemoryOf(vmi: VirtualMachineInstance): number {
  const domain = vmi.spec?.domain;
  return parseQuantity(domain?.memory?.guest ?? domain?.resources?.requests?.memory) ?? 0;
}

function isOnNode(vmi: VirtualMachineInstance, node: string): boolean {
  return vmi.status?.nodeName === node && !isFinalPhase(vmi.status?.phase);
}

function isStandalone(vmi: VirtualMachineInstance, vms: readonly VirtualMachine[] | undefined): boolean {
  if (vms) {
    return !vms.some(
      (vm) => vm.metadata.name === vmi.metadata.name && vm.metadata.namespace === vmi.metadata.namespace,
    );
  }
  return !(vmi.metadata.ownerReferences ?? []).some((o) => o.kind === "VirtualMachine");
}

interface Decision {
  action: EvacuationAction;
  why: string;
  command?: string | undefined;
}

/** What KubeVirt's evacuation does with the VMI, and so what kvmig plans for it. */
function decide(
  vmi: VirtualMachineInstance,
  strategy: string,
  migrates: boolean | undefined,
  standalone: boolean,
  restart: boolean,
): Decision {
  const namespace = vmi.metadata.namespace ?? "";
  const name = vmi.metadata.name ?? "";
  const condition = vmi.status?.conditions?.find((c) => c.type === "LiveMigratable");
  const migratable = condition?.status === "True";
  const migrateCommand = kvmigCommand(["migrate", name, "-n", namespace]);
  const restartCommand = standalone ? undefined : kvmigCommand(["restart", name, "-n", namespace]);
  const moveCommand = migratable ? migrateCommand : restartCommand;
  if (strategy === "unknown") {
    return {
      action: "blocked",
      why: "eviction strategy unknown: the VMI sets none and the KubeVirt CR could not be read, so whether a drain migrates it or shuts it down cannot be told",
      command: moveCommand,
    };
  }
  if (strategy === "External") {
    return {
      action: "blocked",
      why: "eviction strategy External: left to an external controller; KubeVirt marks it on a drain but never migrates it",
      command: moveCommand,
    };
  }
  if (migrates) {
    return {
      action: "migrate",
      why: `eviction strategy ${strategy} and live-migratable: KubeVirt's evacuation migrates it`,
    };
  }
  const notMigratable = condition
    ? `not live-migratable (${condition.reason || "no reason given"}${condition.message ? `: ${condition.message}` : ""})`
    : "not reported live-migratable yet (no LiveMigratable condition)";
  let base: string;
  if (strategy === "LiveMigrate") {
    base = `${notMigratable}; with eviction strategy LiveMigrate KubeVirt refuses its eviction, so a drain waits on it forever`;
  } else if (strategy === "LiveMigrateIfPossible") {
    base = `${notMigratable}; with eviction strategy LiveMigrateIfPossible a drain shuts it down instead`;
  } else if (migratable) {
    base = `eviction strategy ${strategy}: a drain shuts it down instead of migrating it, though it is live-migratable`;
  } else {
    base = `eviction strategy ${strategy} and ${notMigratable}: a drain shuts it down`;
  }
  if (restart && !standalone) {
    return { action: "restart", why: `${base}; --restart restarts it on another node, with downtime` };
  }
  if (restart) {
    return {
      action: "blocked",
      why: `${base}; a standalone VMI has no VirtualMachine to start it again, so --restart cannot move it`,
      command: migratable ? migrateCommand : undefined,
    };
  }
  return { action: "blocked", why: base, command: migratable ? migrateCommand : restartCommand };
}

function migrationsOf(
  vmi: VirtualMachineInstance,
  migrations: readonly VirtualMachineInstanceMigration[],
): VirtualMachineInstanceMigration[] {
  return migrations.filter(
    (m) => m.metadata.namespace === vmi.metadata.namespace && m.spec?.vmiName === vmi.metadata.name,
  );
}

interface VmWork {
  planned: PlannedVm;
  vmi: VirtualMachineInstance;
  launcher: Pod | undefined;
  target: TargetPod;
  inFlight: VirtualMachineInstanceMigration | undefined;
}

function planVm(input: EvacuationPlanInput, vmi: VirtualMachineInstance, nodes: readonly Node[]): VmWork {
  const namespace = vmi.metadata.namespace ?? "";
  const name = vmi.metadata.name ?? "";
  const standalone = isStandalone(vmi, input.vms);
  const launcher = input.launchers?.get(keyOf(namespace, name));
  const target = targetPodOf({ vmi, launcherPod: launcher, nodes, kubevirt: input.kubevirt ?? undefined });
  const requests = target.requests;
  const condition = vmi.status?.conditions?.find((c) => c.type === "LiveMigratable");
  const liveMigratable: PlannedVm["liveMigratable"] = condition
    ? {
        ok: condition.status === "True",
        ...(condition.reason ? { reason: condition.reason } : {}),
        ...(condition.message ? { message: condition.message } : {}),
      }
    : { ok: null };
  const strategy = effectiveEvictionStrategy(vmi, input.kubevirt) ?? "unknown";
  const decision = decide(
    vmi,
    strategy,
    evacuationMigrates(vmi, input.kubevirt),
    standalone,
    input.options.restart,
  );
  const inFlight = input.migrations ? unfinishedMigration(migrationsOf(vmi, input.migrations)) : undefined;
  const planned: PlannedVm = {
    namespace,
    vm: name,
    vmi: name,
    standalone,
    launcherPod: launcher?.metadata.name ?? null,
    memoryBytes: requests.memory ?? 0,
    cpuMillis: Math.round((requests.cpu ?? 0) * 1000),
    guestMemoryBytes: guestMemoryOf(vmi),
    liveMigratable,
    evictionStrategy: strategy,
    action: decision.action,
    why: decision.why,
    ...(decision.command ? { command: decision.command } : {}),
    ...(inFlight
      ? {
          migration: {
            name: inFlight.metadata.name ?? "",
            phase: inFlight.status?.phase || "Pending",
            trigger: triggerOf(inFlight).trigger,
          },
        }
      : {}),
    marked: vmi.status?.evacuationNodeName === input.node,
  };
  return { planned, vmi, launcher, target, inFlight };
}

// ---------------------------------------------------------------------------------------------
// Room
// ---------------------------------------------------------------------------------------------

/** Why a node cannot take any of the VMs, or undefined. */
function unusableWhy(node: Node, tolerations: readonly (readonly Toleration[])[]): string | undefined {
  if (node.spec?.unschedulable) return "cordoned";
  if (node.status?.conditions?.find((c) => c.type === "Ready")?.status !== "True") return "NotReady";
  const taint = (node.spec?.taints ?? []).find(
    (t) =>
      (t.effect === "NoSchedule" || t.effect === "NoExecute") &&
      !tolerations.some((list) => tolerates(list, t)),
  );
  if (taint) return `taint ${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect}`;
  const schedulable = node.metadata.labels?.[schedulableLabel];
  if (schedulable === "false") return `${schedulableLabel}=false`;
  if (schedulable !== "true") return `not a KubeVirt node (no ${schedulableLabel}=true label)`;
  return undefined;
}

function allocatableOf(node: Node): Resources {
  const allocatable = node.status?.allocatable ?? {};
  return {
    memoryBytes: parseQuantity(allocatable.memory) ?? 0,
    cpuMillis: Math.round((parseQuantity(allocatable.cpu) ?? 0) * 1000),
  };
}

function requestedOn(pods: readonly Pod[]): Map<string, Resources> {
  const out = new Map<string, Resources>();
  for (const pod of pods) {
    const node = podSpec(pod)?.nodeName;
    if (!node || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    const requests = podRequests(pod);
    const sum = out.get(node) ?? { memoryBytes: 0, cpuMillis: 0 };
    sum.memoryBytes += requests.memory ?? 0;
    sum.cpuMillis += Math.round((requests.cpu ?? 0) * 1000);
    out.set(node, sum);
  }
  return out;
}

/** The nodes a VM's target pod may go to, room aside: the room check does its own accounting. */
function acceptingNodes(placement: Placement): Set<string> {
  const out = new Set(placement.fits);
  for (const r of placement.refusals) {
    if (r.kind === "resources" && (r.resource === "memory" || r.resource === "cpu")) out.add(r.node);
  }
  return out;
}

interface Mover {
  work: VmWork;
  key: string;
  need: Resources;
  accepts: Set<string>;
  placement: Placement;
}

interface RoomResult {
  room: EvacuationPlan["room"];
  problems: EvacuationProblem[];
  placedOn: Map<string, string | null>;
}

function freeText(room: NodeRoom, withCpu: boolean): string {
  const memory = `${room.node}: ${formatBytes(room.free.memoryBytes)} free of memory`;
  return withCpu ? `${memory} and ${cpuText(room.free.cpuMillis)}` : memory;
}

function checkRoom(input: EvacuationPlanInput, works: readonly VmWork[], nodes: readonly Node[]): RoomResult {
  const node = input.node;
  const moving = works.filter((w) => w.planned.action !== "blocked");
  const placedOn = new Map<string, string | null>();
  const problems: EvacuationProblem[] = [];
  const pods = input.pods ?? [];
  const requested = requestedOn(pods);

  // A migration whose target pod is already bound holds its room: counted in `requested`.
  const boundTarget = new Map<string, string>();
  for (const w of moving) {
    const uid = w.inFlight?.metadata.uid;
    if (!uid) continue;
    const target = pods.find(
      (p) => p.metadata.labels?.[migrationJobLabel] === uid && podSpec(p)?.nodeName !== undefined,
    );
    const on = podSpec(target)?.nodeName;
    if (on && on !== node) boundTarget.set(keyOf(w.planned.namespace, w.planned.vm), on);
  }

  const movers: Mover[] = moving
    .filter((w) => !boundTarget.has(keyOf(w.planned.namespace, w.planned.vm)))
    .map((work) => {
      const placement = placeTargetPod({
        vmi: work.vmi,
        launcherPod: work.launcher,
        nodes,
        pods,
        kubevirt: input.kubevirt ?? undefined,
        inFlightMigrationUid: work.inFlight?.metadata.uid,
      });
      return {
        work,
        key: keyOf(work.planned.namespace, work.planned.vm),
        need: { memoryBytes: work.planned.memoryBytes, cpuMillis: work.planned.cpuMillis },
        accepts: placement.blocker ? new Set<string>() : acceptingNodes(placement),
        placement,
      };
    });

  const tolerations = movers.map((m) => m.work.target.tolerations);
  const rooms: NodeRoom[] = [...nodes]
    .filter((n) => n.metadata.name !== node)
    .sort((a, b) => compareText(a.metadata.name ?? "", b.metadata.name ?? ""))
    .map((n) => {
      const name = n.metadata.name ?? "";
      const allocatable = allocatableOf(n);
      const used = requested.get(name) ?? { memoryBytes: 0, cpuMillis: 0 };
      const free = {
        memoryBytes: Math.max(0, allocatable.memoryBytes - used.memoryBytes),
        cpuMillis: Math.max(0, allocatable.cpuMillis - used.cpuMillis),
      };
      const why = unusableWhy(n, tolerations);
      return {
        node: name,
        usable: why === undefined,
        ...(why ? { why } : {}),
        allocatable,
        requested: { ...used },
        free,
        left: { ...free },
        placed: [],
      };
    });
  for (const [key, on] of boundTarget) {
    rooms.find((r) => r.node === on)?.placed.push(key);
    placedOn.set(key, on);
  }

  // First fit, largest memory first.
  const order = [...movers].sort(
    (a, b) =>
      b.need.memoryBytes - a.need.memoryBytes ||
      b.need.cpuMillis - a.need.cpuMillis ||
      compareText(a.key, b.key),
  );
  const noRoom: Mover[] = [];
  const nowhere: Mover[] = [];
  for (const mover of order) {
    const candidates = rooms.filter((r) => r.usable && mover.accepts.has(r.node));
    const room = candidates.find(
      (r) =>
        (r.left as Resources).memoryBytes >= mover.need.memoryBytes &&
        (r.left as Resources).cpuMillis >= mover.need.cpuMillis,
    );
    if (room) {
      const left = room.left as Resources;
      left.memoryBytes -= mover.need.memoryBytes;
      left.cpuMillis -= mover.need.cpuMillis;
      room.placed.push(mover.key);
      placedOn.set(mover.key, room.node);
      continue;
    }
    placedOn.set(mover.key, null);
    (candidates.length > 0 ? noRoom : nowhere).push(mover);
  }

  const unplacedMovers = [...noRoom, ...nowhere].sort((a, b) => compareText(a.key, b.key));
  const shortfall = unplacedMovers.reduce(
    (sum, m) => ({
      memoryBytes: sum.memoryBytes + m.need.memoryBytes,
      cpuMillis: sum.cpuMillis + m.need.cpuMillis,
    }),
    { memoryBytes: 0, cpuMillis: 0 },
  );
  const usable = rooms.filter((r) => r.usable);
  const unusable = rooms.filter((r) => !r.usable);
  // "node-2 is cordoned", "node-4 has taint k=v:NoSchedule".
  const unusableText = unusable.map(
    (r) => `${r.node} ${r.why?.startsWith("taint ") || r.why?.includes("=false") ? "has" : "is"} ${r.why}`,
  );

  if (movers.length > 0 && usable.length === 0) {
    problems.push({
      severity: "error",
      message:
        rooms.length === 0
          ? `No other node can take the ${plural(movers.length, "VM")} to move: ${node} is the only node.`
          : `No other node can take the ${plural(movers.length, "VM")} to move: ${listText(unusableText)}.`,
      hint: `uncordon a node whose maintenance is over (${commandLine(["kubectl", "uncordon", "NODE"])}) or add a node, then plan again; --force evacuates anyway, and whatever finds no node stays on ${node}`,
    });
  } else {
    if (noRoom.length > 0) {
      const need = movers.reduce(
        (sum, m) => ({
          memoryBytes: sum.memoryBytes + m.need.memoryBytes,
          cpuMillis: sum.cpuMillis + m.need.cpuMillis,
        }),
        { memoryBytes: 0, cpuMillis: 0 },
      );
      const free = usable.reduce(
        (sum, r) => ({
          memoryBytes: sum.memoryBytes + r.free.memoryBytes,
          cpuMillis: sum.cpuMillis + r.free.cpuMillis,
        }),
        { memoryBytes: 0, cpuMillis: 0 },
      );
      const cpuShort = need.cpuMillis > free.cpuMillis;
      const memoryShort = need.memoryBytes > free.memoryBytes;
      const needs =
        cpuShort && !memoryShort
          ? `${cpuText(need.cpuMillis)}; ${cpuText(free.cpuMillis)} is free`
          : cpuShort
            ? `${formatBytes(need.memoryBytes)} of memory and ${cpuText(need.cpuMillis)}; ${formatBytes(free.memoryBytes)} and ${cpuText(free.cpuMillis)} are free`
            : `${formatBytes(need.memoryBytes)} of memory; ${formatBytes(free.memoryBytes)} is free`;
      const perNode = usable.map((r) => freeText(r, cpuShort)).join(", ");
      const elsewhere = unusable.length > 0 ? `; not counted: ${listText(unusableText)}` : "";
      const vms = noRoom
        .sort((a, b) => compareText(a.key, b.key))
        .map((m) => `${m.key} (${formatBytes(m.need.memoryBytes)})`);
      const verdict =
        memoryShort || cpuShort
          ? ""
          : " The total would fit, but not in the pieces each node has left, or not where those VMs may go.";
      problems.push({
        severity: "error",
        message: `Not enough room for the ${plural(movers.length, "VM")} to move off ${node}: ${movers.length === 1 ? "it needs" : "they need"} ${needs} (${perNode}${elsewhere}). ${plural(noRoom.length, "VM finds", "VMs find")} no room: ${listText(vms)}.${verdict}`,
        hint: `free room on those nodes (${commandLine(["kubectl", "describe", "node", "NODE"])} shows what runs there) or add a node, then plan again; --force evacuates anyway, and a VM that finds no room stays on ${node} (its target pod waits ${unschedulableSeconds / 60} minutes unschedulable, then KubeVirt fails the migration)`,
      });
    }
    for (const m of nowhere.sort((a, b) => compareText(a.key, b.key))) {
      const reasons = m.placement.blocker ? m.placement.blocker : nowhereWhy(m, rooms);
      problems.push({
        severity: "error",
        message: `${m.key} can go to no other node: ${reasons}.`,
        hint: m.placement.blocker
          ? `check the node's labels: ${commandLine(["kubectl", "get", "node", node, "--show-labels"])}`
          : `its nodeSelector, affinity or tolerations rule out every other node: change them${m.work.planned.standalone ? "" : ` (${commandLine(["kubectl", "edit", "vm", m.work.planned.vm, "-n", m.work.planned.namespace])})`} or make a node it accepts schedulable; --force evacuates the others and leaves it on ${node}`,
      });
    }
  }

  return {
    room: {
      nodes: rooms,
      fits: unplacedMovers.length === 0,
      unplaced: unplacedMovers.map((m) => m.key),
      shortfall,
      checked: true,
    },
    problems,
    placedOn,
  };
}

/** Why no node takes the VM: placement's refusals, and the accepting nodes that are unusable. */
function nowhereWhy(m: Mover, rooms: readonly NodeRoom[]): string {
  // Some usable node refused it (else it would have one to try): refusals other than the source's.
  const parts = [refusalSummary(m.placement.refusals.filter((r) => !m.accepts.has(r.node)))];
  const unusable = rooms.filter((r) => m.accepts.has(r.node) && !r.usable);
  if (unusable.length > 0) parts.push(unusable.map((r) => `${r.node}: ${r.why}`).join("; "));
  return parts.join("; ");
}

// ---------------------------------------------------------------------------------------------
// Limits and estimate
// ---------------------------------------------------------------------------------------------

function countLimits(
  input: EvacuationPlanInput,
  onNode: readonly VirtualMachineInstance[],
): EvacuationPlan["limits"] {
  const { perNode, perCluster } = limitsOf(input.kubevirt ?? undefined);
  if (!input.migrations) {
    return {
      perNode,
      perCluster,
      outboundFromNode: 0,
      inCluster: 0,
      freeSlots: Math.min(perNode, perCluster),
      counted: false,
    };
  }
  const running = input.migrations.filter((m) => !isFinalPhase(m.status?.phase) && countsTowardsLimits(m));
  const here = new Map(onNode.map((v) => [keyOf(v.metadata.namespace ?? "", v.metadata.name ?? ""), v]));
  const outbound = outboundFrom(input.node, running, (m) => {
    const known = input.outboundNodes?.get(outboundKey(m));
    if (known) return known;
    const vmi = here.get(keyOf(m.metadata.namespace ?? "", m.spec?.vmiName ?? ""));
    return vmi ? outboundNodesOf(m, vmi) : outboundNodesOf(m, undefined);
  }).length;
  return {
    perNode,
    perCluster,
    outboundFromNode: outbound,
    inCluster: running.length,
    freeSlots: Math.max(0, Math.min(perNode - outbound, perCluster - running.length)),
    counted: true,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Bytes per second of the newest successful migrations: guest memory over start-to-end time. */
function measuredRates(input: EvacuationPlanInput): number[] {
  const memory = new Map(
    input.vmis.map((v) => [keyOf(v.metadata.namespace ?? "", v.metadata.name ?? ""), guestMemoryOf(v)]),
  );
  const samples: { end: number; rate: number }[] = [];
  for (const m of input.migrations ?? []) {
    if (m.status?.phase !== "Succeeded") continue;
    const state = m.status.migrationState;
    const start = Date.parse(state?.startTimestamp ?? "");
    const end = Date.parse(state?.endTimestamp ?? "");
    const bytes = memory.get(keyOf(m.metadata.namespace ?? "", m.spec?.vmiName ?? ""));
    if (Number.isNaN(start) || Number.isNaN(end) || end <= start || !bytes) continue;
    samples.push({ end, rate: bytes / ((end - start) / 1000) });
  }
  return samples
    .sort((a, b) => b.end - a.end)
    .slice(0, measuredMigrations)
    .map((s) => s.rate);
}

function estimate(
  input: EvacuationPlanInput,
  vms: readonly PlannedVm[],
  limits: EvacuationPlan["limits"],
): EvacuationPlan["estimate"] {
  const migrating = vms.filter((v) => v.action === "migrate");
  if (migrating.length === 0) return { seconds: 0, basis: "no VM to migrate" };
  const total = migrating.reduce((sum, v) => sum + v.guestMemoryBytes, 0);
  const parallel = Math.max(1, Math.min(limits.perNode, limits.perCluster, migrating.length));
  const at = `${parallel} at a time`;
  const bandwidth = parseQuantity(input.kubevirt?.spec.configuration?.migrations?.bandwidthPerMigration);
  if (bandwidth !== undefined && bandwidth > 0) {
    return {
      seconds: Math.ceil(total / (bandwidth * parallel)),
      basis: `${formatBytes(total)} of guest memory at ${formatRate(bandwidth)} per migration (bandwidthPerMigration), ${at}`,
    };
  }
  const rates = measuredRates(input);
  if (rates.length === 0) {
    return {
      seconds: null,
      basis: input.migrations
        ? "no bandwidth limit set and no recent migration to measure"
        : "no bandwidth limit set, and the migrations could not be listed to measure a rate",
    };
  }
  const rate = median(rates);
  return {
    seconds: Math.ceil(total / (rate * parallel)),
    basis: `${formatBytes(total)} of guest memory at ${formatRate(rate)} per migration (the median of ${plural(rates.length, "recent successful migration")}), ${at}`,
  };
}

// ---------------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------------

export function planEvacuation(input: EvacuationPlanInput): EvacuationPlan {
  const node = input.node;
  const nodes = input.nodes ?? [input.target];
  const onNode = input.vmis
    .filter((v) => isOnNode(v, node))
    .sort(
      (a, b) =>
        compareText(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
        compareText(a.metadata.name ?? "", b.metadata.name ?? ""),
    );
  const works = onNode.map((vmi) => planVm(input, vmi, nodes));
  const problems: EvacuationProblem[] = [];

  let room: EvacuationPlan["room"];
  if (input.nodes) {
    const checked = checkRoom(input, works, input.nodes);
    room = checked.room;
    problems.push(...checked.problems);
    for (const w of works) {
      const on = checked.placedOn.get(keyOf(w.planned.namespace, w.planned.vm));
      if (on !== undefined) w.planned.placedOn = on;
    }
  } else {
    room = {
      nodes: [],
      fits: true,
      unplaced: [],
      shortfall: { memoryBytes: 0, cpuMillis: 0 },
      checked: false,
    };
  }
  const vms = works.map((w) => w.planned);
  const limits = countLimits(input, onNode);
  problems.push(...warnings(input, works, limits));
  if (input.bridges) {
    problems.push(
      ...bulkBridgeWarnings({
        vms: works
          .filter((w) => w.planned.action === "migrate")
          .map((w) => ({
            namespace: w.planned.namespace,
            vm: w.planned.vm,
            networks: w.vmi.spec.networks ?? [],
          })),
        nads: input.bridges.nads,
        states: input.bridges.states,
        statesUnread: input.bridges.statesUnread,
        candidates: room.nodes.filter((n) => n.usable && n.node !== node).map((n) => n.node),
      }),
    );
  }
  return {
    node,
    cordoned: input.target.spec?.unschedulable === true,
    vms,
    room,
    limits,
    estimate: estimate(input, vms, limits),
    problems,
  };
}

function warnings(
  input: EvacuationPlanInput,
  works: readonly VmWork[],
  limits: EvacuationPlan["limits"],
): EvacuationProblem[] {
  const node = input.node;
  const out: EvacuationProblem[] = [];
  const warn = (message: string, hint?: string) =>
    out.push({ severity: "warning", message, ...(hint ? { hint } : {}) });

  if (input.target.spec?.unschedulable) {
    warn(
      `${node} is already cordoned (spec.unschedulable): a drain or another maintenance may be under way.`,
      `${kvmigCommand(["watch", "--node", node])} follows the migrations already leaving it`,
    );
  }

  for (const w of works) {
    const key = keyOf(w.planned.namespace, w.planned.vm);
    if (w.inFlight) {
      const phase = w.inFlight.status?.phase || "Pending";
      warn(
        `${key} is already migrating: ${w.inFlight.metadata.name} is ${phase}, started by ${triggerOf(w.inFlight).text}; kvmig follows it and starts no second migration.`,
      );
    }
    const mark = w.vmi.status?.evacuationNodeName;
    if (mark && mark !== node) {
      warn(
        `${key} is marked for evacuation from ${mark}, not from ${node} where it runs (status.evacuationNodeName).`,
        `${kvmigCommand(["cancel", w.planned.vm, "-n", w.planned.namespace])} clears a mark that is left over`,
      );
    }
  }

  const restarted = works.filter((w) => w.planned.action === "restart");
  if (restarted.length > 0) {
    warn(
      `${plural(restarted.length, "VM")} cannot live-migrate and will be restarted on another node, with downtime: ${listText(restarted.map((w) => keyOf(w.planned.namespace, w.planned.vm)))}.`,
    );
  }
  const blocked = works.filter((w) => w.planned.action === "blocked");
  if (blocked.length > 0) {
    const restartable = input.options.restart
      ? 0
      : blocked.filter(
          (w) =>
            decide(
              w.vmi,
              w.planned.evictionStrategy,
              evacuationMigrates(w.vmi, input.kubevirt),
              w.planned.standalone,
              true,
            ).action === "restart",
        ).length;
    warn(
      `${plural(blocked.length, "VM")} will stay on ${node}, as the evacuation cannot move ${blocked.length === 1 ? "it" : "them"}: ${listText(blocked.map((w) => keyOf(w.planned.namespace, w.planned.vm)))}.`,
      restartable > 0
        ? `${kvmigCommand(["evacuate", node, "--restart"])} restarts ${restartable === blocked.length ? (blocked.length === 1 ? "it" : "them") : `the ${restartable} that cannot live-migrate`} on other nodes (downtime); each VM's line names the command that moves it alone`
        : "each VM's line names the command that moves it",
    );
  }

  // More to migrate than free slots is how every evacuation of a busy node goes: KubeVirt queues
  // them. The limits line says it; it is no problem.
  const toStart = works.filter((w) => w.planned.action === "migrate" && !w.inFlight).length;
  if (limits.counted !== false) limits.queued = Math.max(0, toStart - limits.freeSlots);

  // What placement could not check, once per note.
  const notes = new Map<string, string[]>();
  for (const w of works) {
    if (w.planned.action === "blocked") continue;
    for (const note of w.target.notes) {
      // Said once below for all, when the node's pods could not be listed.
      if (!input.launchers && note.startsWith("the launcher pod was not read")) continue;
      notes.set(note, [...(notes.get(note) ?? []), keyOf(w.planned.namespace, w.planned.vm)]);
    }
  }
  for (const [note, keys] of notes) warn(`Not checked for ${listText(keys)}: ${note}.`);

  const unreadWarnings: [UnreadPart, boolean, string][] = [
    [
      "nodes",
      input.nodes === undefined,
      "Could not list the nodes, so the room on the other nodes was not checked",
    ],
    [
      "pods",
      input.nodes !== undefined && input.pods === undefined,
      "Could not list the pods on the nodes, so the room check took every node as empty and may count room that is taken",
    ],
    [
      "launchers",
      input.launchers === undefined,
      `Could not list the pods on ${node}: the launcher pods are not named, and each VM's size is its VMI's requests, without KubeVirt's overhead`,
    ],
    [
      "vms",
      input.vms === undefined,
      "Could not list the VirtualMachines: a VMI without a VirtualMachine owner is taken as standalone",
    ],
    [
      "migrations",
      input.migrations === undefined,
      "Could not list the migrations: those already running, the free slots and the measured rate are unknown",
    ],
    [
      "kubevirt",
      input.kubevirt === undefined,
      "Could not read the KubeVirt CR: KubeVirt's default limits are assumed, and a VMI without its own eviction strategy has an unknown one",
    ],
  ];
  for (const [part, missing, text] of unreadWarnings) {
    if (missing) warn(`${text}${because(part, input)}.`);
  }
  if (input.kubevirt === null) {
    warn(
      "No KubeVirt CR was found: KubeVirt's default limits are assumed, and a VMI without its own eviction strategy has an unknown one.",
    );
  }
  return out;
}
