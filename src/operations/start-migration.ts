// Starting a live migration: the pre-flight reads and verdicts (migration/preflight.ts), the
// refusals they lead to, then one request through the VM's migrate subresource (a VMIM for a
// standalone VMI), and the VMIM it created found. Never a second migration for a VMI: one already
// in flight, or one that won a race with the request, is returned to follow instead. It prints
// nothing: the verdicts and a lost race go to a StartObserver.

import type { Clock } from "../clock.js";
import { ApiError, NotFoundError, PreflightRefusedError, UnauthorizedError } from "../errors.js";
import { accessCheckCommand } from "../k8s/access-check.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { currentLauncherImage } from "../k8s/launcher-image.js";
import { isOutcomeUnknown } from "../k8s/retry.js";
import type {
  KubeVirt,
  NodeNetworkState,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../k8s/types.js";
import { readOutboundNodes } from "../migration/outbound.js";
import { countsTowardsLimits } from "../migration/pending.js";
import { type PreflightInput, preflight, unfinishedMigration, type Verdict } from "../migration/preflight.js";
import { isFinalPhase } from "../migration/state.js";
import { commandLine, kvmigCommand } from "../util/shell.js";
import { listNodeNetworkStates } from "./node-network-states.js";
import { readPlacementPods } from "./placement-pods.js";
import { listMigrationsOf, readVm, vmiNameLabel } from "./read-vm.js";

async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  return promise.catch(() => undefined);
}

/** A read started before one it may be awaited after: its failure, if that one fails first, is no unhandled rejection. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Where a migration should go, as the user asked: a node, or node labels (never both). */
export interface Placement {
  targetNode?: string | undefined;
  nodeSelector?: Record<string, string> | undefined;
}

/**
 * kubernetes-nmstate's NodeNetworkStates, for a VM with Multus networks (its bridges, checked by
 * migration/bridges.ts); a 404 is nmstate not installed: why they are missing, never an error.
 */
async function readNodeNetworkStates(
  kube: KubeClient,
  vm: VirtualMachine | undefined,
  vmi: VirtualMachineInstance | undefined,
): Promise<{ states?: NodeNetworkState[] | undefined; unread?: string | undefined }> {
  const networks = vm?.spec.template?.spec?.networks ?? vmi?.spec.networks ?? [];
  if (!networks.some((n) => n.multus?.networkName)) return {};
  return listNodeNetworkStates(kube);
}

/**
 * What pre-flight reads of the cluster about one VM, once, in parallel; the verdicts come from
 * migration/preflight.ts. The reads that do not need the VM start with it, and each read that
 * needs another's answer starts as soon as that answer is there: on a cluster far away, three
 * round trips instead of five before the verdicts. `kubevirt`: the KubeVirt CR's read, when the
 * caller shares it with other reads (the forecast's).
 */
export async function gatherPreflight(
  kube: KubeClient,
  target: { namespace: string; vmName: string } & Placement,
  kubevirtRead: Promise<KubeVirt | undefined> = orUndefined(kube.findKubeVirt()),
): Promise<PreflightInput> {
  const { namespace, vmName } = target;
  const migrationsRead = handled(listMigrationsOf(kube, namespace, vmName));
  const nodesRead = orUndefined(kube.list("node"));
  const nadsRead = orUndefined(kube.list("nad", { namespace }));
  const unfinishedRead = orUndefined(kube.list("vmim")).then((all) =>
    all?.filter((m) => !isFinalPhase(m.status?.phase)),
  );
  const currentRead = kubevirtRead.then((kubevirt) =>
    kubevirt ? currentLauncherImage(kube, kubevirt) : undefined,
  );
  // The per-node count comes from the running migrations' VMIs, as virt-controller's does.
  const outboundRead = handled(
    unfinishedRead.then((unfinished) =>
      readOutboundNodes(kube, unfinished?.filter(countsTowardsLimits) ?? []),
    ),
  );
  const { vm, vmi } = await readVm(kube, namespace, vmName);
  const standalone = vm === undefined;
  const accessCheck = standalone
    ? { verb: "create", group: "kubevirt.io", resource: "virtualmachineinstancemigrations", namespace }
    : {
        verb: "update",
        group: "subresources.kubevirt.io",
        resource: "virtualmachines",
        subresource: "migrate",
        namespace,
        name: vmName,
      };
  const [
    migrations,
    nodes,
    nads,
    kubevirt,
    unfinished,
    allowed,
    placementPods,
    states,
    current,
    outboundNodes,
  ] = await Promise.all([
    migrationsRead,
    nodesRead,
    nadsRead,
    kubevirtRead,
    unfinishedRead,
    orUndefined(kube.canI(accessCheck)),
    readPlacementPods(kube, vmi, target.targetNode),
    readNodeNetworkStates(kube, vm, vmi),
    currentRead,
    outboundRead,
  ]);
  return {
    namespace,
    vmName,
    vm,
    vmi,
    migrations,
    nodes,
    nads,
    kubevirt,
    currentLauncherImage: current,
    clusterMigrations: unfinished,
    outboundNodes,
    access: allowed,
    accessDescription: standalone
      ? "create virtualmachineinstancemigrations"
      : "update virtualmachines/migrate",
    targetNode: target.targetNode,
    nodeSelector: target.nodeSelector,
    launcherPod: placementPods.launcherPod,
    pods: placementPods.pods,
    nodeNetworkStates: states.states,
    nodeNetworkStatesUnread: states.unread,
  };
}

/** The node selector the migration adds to the target pod's: --node-selector, and --target-node as kubernetes.io/hostname. */
export function addedNodeSelector(placement: Placement): Record<string, string> | undefined {
  const selector = { ...(placement.nodeSelector ?? {}) };
  if (placement.targetNode) selector["kubernetes.io/hostname"] = placement.targetNode;
  return Object.keys(selector).length > 0 ? selector : undefined;
}

function isInFlightRejection(error: unknown): boolean {
  return error instanceof ApiError && /in-flight migration detected/.test(error.message);
}

export interface MigrationRequest {
  namespace: string;
  /** The VM, or for a standalone VMI the VMI. */
  vmName: string;
  /** No VM owns the VMI: a VMIM is created instead of calling the VM's migrate subresource. */
  standalone: boolean;
  dryRun: boolean;
  selector?: Record<string, string> | undefined;
}

/**
 * Asks for the migration once (never again: a second request could start a second migration).
 * Returns the VMIM created (standalone), "started" when the subresource accepted it (or its
 * answer was lost), or undefined when another migration won the race (then follow that one).
 */
export async function requestMigration(
  kube: KubeClient,
  request: MigrationRequest,
): Promise<VirtualMachineInstanceMigration | "started" | undefined> {
  const { namespace, vmName, selector, standalone, dryRun } = request;
  try {
    if (standalone) {
      return await kube.createMigration(
        namespace,
        {
          metadata: { generateName: "kvmig-migrate-", namespace },
          spec: { vmiName: vmName, ...(selector ? { addedNodeSelector: selector } : {}) },
        },
        { dryRun },
      );
    }
    await kube.migrate(namespace, vmName, {
      ...(selector ? { addedNodeSelector: selector } : {}),
      ...(dryRun ? { dryRun: ["All"] } : {}),
    });
    return "started";
  } catch (error) {
    if (isInFlightRejection(error)) return undefined;
    // The connection dropped after the request went out: it may have started the migration.
    // Never send it again (that could start a second one); look for what it created instead.
    if (isOutcomeUnknown(error)) return "started";
    if (error instanceof ApiError && error.status === 403) {
      throw new UnauthorizedError(error.message, {
        hint: standalone
          ? `you may not create virtualmachineinstancemigrations in "${namespace}"; ask for the kubevirt.io:migrate ClusterRole`
          : `you may not update virtualmachines/migrate in "${namespace}"; since KubeVirt v1.5 this needs the kubevirt.io:migrate ClusterRole, bound in the namespace`,
        cause: error,
      });
    }
    throw error;
  }
}

/** The VMIM the migrate call created: the newest unfinished one that was not there before. */
export async function findCreated(
  kube: KubeClient,
  ctx: { clock: Clock; signal: AbortSignal },
  namespace: string,
  vmName: string,
  known: ReadonlySet<string>,
): Promise<VirtualMachineInstanceMigration> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const fresh = (await listMigrationsOf(kube, namespace, vmName)).filter(
      (m) => !known.has(m.metadata.uid ?? ""),
    );
    const found = unfinishedMigration(fresh) ?? fresh.at(-1);
    if (found) return found;
    await ctx.clock.sleep(200, ctx.signal);
  }
  throw new NotFoundError(
    `no VirtualMachineInstanceMigration appeared for ${namespace}/${vmName} after the migrate request (accepted, or its answer lost on the way)`,
    {
      hint: `nothing is migrating it now; look with: ${commandLine(["kubectl", "get", "vmim", "-n", namespace, "-l", `${vmiNameLabel}=${vmName}`])}, and run the migrate again if it is still needed`,
    },
  );
}

/** Where the migration to follow came from. */
export type MigrationOrigin = "started" | "in-flight" | "raced";

export interface EnsureMigrationInput extends Omit<MigrationRequest, "dryRun"> {
  /** The VMI's name, when not the VM's (its VMIMs carry it). */
  vmiName?: string | undefined;
  /** The VMI's migrations as read before (finished ones included). */
  migrations: readonly VirtualMachineInstanceMigration[];
  clock: Clock;
  /** Stops looking for the VMIM the request created. */
  signal: AbortSignal;
}

/**
 * The migration to follow: the unfinished one among `migrations`, else one started now. When
 * another migration won the race with the request, that one (undefined if it is already gone).
 */
export async function ensureMigration(
  kube: KubeClient,
  input: EnsureMigrationInput,
  observer?: Pick<StartObserver, "onRaced">,
): Promise<{ migration: VirtualMachineInstanceMigration | undefined; origin: MigrationOrigin }> {
  const vmiName = input.vmiName ?? input.vmName;
  const existing = unfinishedMigration(input.migrations);
  if (existing) return { migration: existing, origin: "in-flight" };
  const known = new Set(input.migrations.map((m) => m.metadata.uid ?? ""));
  const request = await requestMigration(kube, { ...input, dryRun: false });
  if (request === undefined) {
    observer?.onRaced?.();
    const migration = unfinishedMigration(await listMigrationsOf(kube, input.namespace, vmiName));
    return { migration, origin: "raced" };
  }
  if (request !== "started") return { migration: request, origin: "started" };
  const migration = await findCreated(kube, input, input.namespace, vmiName, known);
  return { migration, origin: "started" };
}

export interface StartMigrationInput extends Placement {
  namespace: string;
  vmName: string;
  /** Start even when a pre-flight check says error (never when there is nothing to migrate). */
  force: boolean;
  /** Pre-flight and a server-side dry run only. */
  dryRun: boolean;
  /** With dryRun: the pre-flight only, without the server-side dry run (--dry-run=client). */
  clientOnly?: boolean | undefined;
  clock: Clock;
  signal: AbortSignal;
  /** Add the forecast to the pre-flight (operations/forecast.ts), with the dirty rate from Prometheus when given. */
  forecast?: { prometheusUrl?: string | undefined } | undefined;
}

/** What a start tells as it goes. */
export interface StartObserver {
  /** The pre-flight verdicts, before any refusal. */
  onPreflight?(verdicts: readonly Verdict[], input: PreflightInput): void;
  /** Another migration of the VM started meanwhile: it is followed instead of starting a second one. */
  onRaced?(): void;
}

export type StartResult =
  | {
      kind: "dry-run";
      preflight: PreflightInput;
      verdicts: Verdict[];
      /** The unfinished migration a real run would follow instead of starting one. */
      existing: VirtualMachineInstanceMigration | undefined;
      selector: Record<string, string> | undefined;
    }
  | {
      kind: "follow";
      preflight: PreflightInput;
      verdicts: Verdict[];
      migration: VirtualMachineInstanceMigration;
      origin: MigrationOrigin;
    };

/** Pre-flight's errors as the error that stops the start, unless --force may override them. */
function refusal(verdicts: readonly Verdict[], input: StartMigrationInput): Error | undefined {
  const errors = verdicts.filter((v) => v.status === "error");
  // Nothing to migrate: --force cannot change that, so it is neither offered nor obeyed.
  const blocking = errors.find((v) => v.blocking);
  if (blocking) return new PreflightRefusedError(`pre-flight: ${blocking.message}`, { hint: blocking.hint });
  if (input.force) return undefined;
  const denied = errors.find((v) => v.check === "rbac");
  if (denied) {
    return new UnauthorizedError(
      `${denied.message}: the ClusterRole kubevirt.io:migrate (KubeVirt 1.5+) grants it`,
      {
        hint: `check with: ${accessCheckCommand({ verb: "update", group: "subresources.kubevirt.io", resource: "virtualmachines", subresource: "migrate", namespace: input.namespace })}`,
      },
    );
  }
  const first = errors[0];
  if (first) {
    return new PreflightRefusedError(`pre-flight: ${first.message}`, {
      hint: `${first.hint ? `${first.hint}; ` : ""}--force starts the migration anyway`,
    });
  }
  return undefined;
}

/**
 * `kvmig migrate`'s start: pre-flight, its refusals, then the migration to follow (one in
 * flight, or a new one), or with dryRun the server's dry run of the request.
 */
export async function startMigration(
  kube: KubeClient,
  input: StartMigrationInput,
  observer?: StartObserver,
): Promise<StartResult> {
  const { namespace, vmName } = input;
  const kubevirtRead = orUndefined(kube.findKubeVirt());
  // The forecast's code and reads start with pre-flight's, sharing its read of the KubeVirt CR:
  // they are used when the VMI turns out to be running (else two small reads were for nothing).
  const forecasting = input.forecast
    ? handled(
        import("./forecast.js").then((module) => ({
          module,
          context: module.readForecastContext(kube, namespace, kubevirtRead),
        })),
      )
    : undefined;
  const checked = await gatherPreflight(kube, input, kubevirtRead);
  const verdicts = preflight(checked);
  if (forecasting && input.forecast && checked.vmi?.status?.phase === "Running") {
    const { module, context } = await forecasting;
    const forecast = await module.preflightForecast(kube, input, checked.vmi, {
      ...input.forecast,
      signal: input.signal,
      context,
    });
    if (forecast) verdicts.push(forecast.verdict);
  }
  observer?.onPreflight?.(verdicts, checked);
  const refused = refusal(verdicts, input);
  if (refused) throw refused;

  const standalone = checked.vm === undefined;
  const selector = addedNodeSelector(input);
  if (input.dryRun) {
    const existing = unfinishedMigration(checked.migrations);
    if (!existing && !input.clientOnly)
      await requestMigration(kube, { namespace, vmName, standalone, dryRun: true, selector });
    return { kind: "dry-run", preflight: checked, verdicts, existing, selector };
  }
  const { migration, origin } = await ensureMigration(
    kube,
    {
      namespace,
      vmName,
      standalone,
      selector,
      migrations: checked.migrations,
      clock: input.clock,
      signal: input.signal,
    },
    observer,
  );
  if (!migration)
    throw new NotFoundError(`the in-flight migration of ${namespace}/${vmName} is already gone`, {
      hint: `see how it ended with: ${kvmigCommand(["watch", vmName, "-n", namespace])}`,
    });
  return { kind: "follow", preflight: checked, verdicts, migration, origin };
}
