// kvmig migrate VM: pre-flight verdicts, start through the migrate subresource (a VMIM for a
// standalone VMI), then follow the migration to its end and summarise it.

import type { CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import { ApiError, NotFoundError, PreflightRefusedError, UnauthorizedError, UsageError } from "../errors.js";
import { writeData } from "../io/output.js";
import { accessCheckCommand } from "../k8s/access-check.js";
import { clusterName, type KubeClient } from "../k8s/kube-client.js";
import { currentLauncherImage } from "../k8s/launcher-image.js";
import { isOutcomeUnknown } from "../k8s/retry.js";
import type { VirtualMachineInstanceMigration } from "../k8s/types.js";
import { type PreflightInput, preflight, unfinishedMigration, type Verdict } from "../migration/preflight.js";
import { isFinalPhase } from "../migration/state.js";
import { followToEnd } from "../operations/follow-migration.js";
import { readPlacementPods } from "../operations/placement-pods.js";
import { listMigrationsOf, readVm, vmiNameLabel } from "../operations/read-vm.js";
import { followScreen, reportFollow } from "../render/follow-report.js";
import { renderVerdicts } from "../render/migration-render.js";
import { commandLine, kvmigCommand } from "../util/shell.js";
import type { MigrateOptions } from "./tree.js";
import { vmOrPick } from "./vm-picker.js";

export interface MigrateFlags {
  vm: string;
  targetNode?: string | undefined;
  nodeSelector?: Record<string, string> | undefined;
  dryRun: boolean;
  force: boolean;
  wait: boolean;
  timeoutMs: number;
  prometheusUrl?: string | undefined;
}

/** `k=v,k2=v2` → a map, or a usage error naming the flag. */
export function parseNodeSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    const match = /^\s*([A-Za-z0-9./_-]+)\s*=\s*([A-Za-z0-9._-]*)\s*$/.exec(part);
    if (!match?.[1]) {
      throw new UsageError(`invalid --node-selector "${text}"`, {
        hint: "write it as key=value[,key=value], e.g. topology.kubernetes.io/zone=a",
      });
    }
    out[match[1]] = match[2] ?? "";
  }
  return out;
}

async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  return promise.catch(() => undefined);
}

async function gatherPreflight(
  kube: KubeClient,
  flags: MigrateFlags,
  namespace: string,
): Promise<PreflightInput> {
  const { vm, vmi } = await readVm(kube, namespace, flags.vm);
  const standalone = vm === undefined;
  const accessCheck = standalone
    ? { verb: "create", group: "kubevirt.io", resource: "virtualmachineinstancemigrations", namespace }
    : {
        verb: "update",
        group: "subresources.kubevirt.io",
        resource: "virtualmachines",
        subresource: "migrate",
        namespace,
        name: flags.vm,
      };
  const [migrations, nodes, nads, kubevirt, clusterMigrations, allowed, placementPods] = await Promise.all([
    listMigrationsOf(kube, namespace, flags.vm),
    orUndefined(kube.list("node")),
    orUndefined(kube.list("nad", { namespace })),
    orUndefined(kube.findKubeVirt()),
    orUndefined(kube.list("vmim")),
    orUndefined(kube.canI(accessCheck)),
    readPlacementPods(kube, vmi, flags.targetNode),
  ]);
  const current = kubevirt ? await currentLauncherImage(kube, kubevirt) : undefined;
  const sourceNodes = new Map<string, string>();
  for (const m of clusterMigrations ?? []) {
    const node = m.status?.migrationState?.sourceNode;
    if (node && m.metadata.name) sourceNodes.set(m.metadata.name, node);
  }
  return {
    namespace,
    vmName: flags.vm,
    vm,
    vmi,
    migrations,
    nodes,
    nads,
    kubevirt,
    currentLauncherImage: current,
    clusterMigrations: clusterMigrations?.filter((m) => !isFinalPhase(m.status?.phase)),
    sourceNodes,
    access: allowed,
    accessDescription: standalone
      ? "create virtualmachineinstancemigrations"
      : "update virtualmachines/migrate",
    targetNode: flags.targetNode,
    nodeSelector: flags.nodeSelector,
    launcherPod: placementPods.launcherPod,
    pods: placementPods.pods,
  };
}

function addedNodeSelector(flags: MigrateFlags): Record<string, string> | undefined {
  const selector = { ...(flags.nodeSelector ?? {}) };
  if (flags.targetNode) selector["kubernetes.io/hostname"] = flags.targetNode;
  return Object.keys(selector).length > 0 ? selector : undefined;
}

function isInFlightRejection(error: unknown): boolean {
  return error instanceof ApiError && /in-flight migration detected/.test(error.message);
}

/** Starts the migration; returns undefined when another one won the race (then follow that). */
export async function startMigration(
  kube: KubeClient,
  namespace: string,
  vmName: string,
  options: { standalone: boolean; dryRun: boolean; selector?: Record<string, string> | undefined },
): Promise<VirtualMachineInstanceMigration | "started" | undefined> {
  const { selector, standalone, dryRun } = options;
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
  ctx: Pick<CommandContext, "clock" | "signal">,
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

export async function runMigrate(flags: MigrateFlags, ctx: CommandContext): Promise<void> {
  const kube = await ctx.kube();
  const namespace = kube.namespace;
  const text = ctx.io.mode === "text";
  const input = await gatherPreflight(kube, flags, namespace);
  const verdicts = preflight(input);
  if (text) renderVerdicts(ctx.io, `pre-flight ${namespace}/${flags.vm} on ${clusterName(kube)}`, verdicts);

  const errors = verdicts.filter((v) => v.status === "error");
  // Nothing to migrate: --force cannot change that, so it is neither offered nor obeyed.
  const blocking = errors.find((v) => v.blocking);
  if (blocking) throw new PreflightRefusedError(`pre-flight: ${blocking.message}`, { hint: blocking.hint });
  const denied = errors.find((v) => v.check === "rbac");
  if (denied && !flags.force) {
    throw new UnauthorizedError(
      `${denied.message}: the ClusterRole kubevirt.io:migrate (KubeVirt 1.5+) grants it`,
      {
        hint: `check with: ${accessCheckCommand({ verb: "update", group: "subresources.kubevirt.io", resource: "virtualmachines", subresource: "migrate", namespace })}`,
      },
    );
  }
  if (errors.length > 0 && !flags.force) {
    const first = errors[0] as Verdict;
    throw new PreflightRefusedError(`pre-flight: ${first.message}`, {
      hint: `${first.hint ? `${first.hint}; ` : ""}--force starts the migration anyway`,
    });
  }

  const existing = unfinishedMigration(input.migrations);
  let migration: VirtualMachineInstanceMigration | undefined = existing;
  if (flags.dryRun) {
    const selector = addedNodeSelector(flags);
    if (!existing) {
      await startMigration(kube, namespace, flags.vm, {
        standalone: input.vm === undefined,
        dryRun: true,
        selector,
      });
    }
    // The dry run's result is the command's result: on stdout, as cancel's and restart's are
    // (the pre-flight verdicts above stay on stderr).
    await writeData(
      ctx.io,
      ctx.io.mode,
      { vm: flags.vm, namespace, dryRun: true, wouldFollow: existing?.metadata.name ?? null, verdicts },
      () =>
        ctx.io.out(
          existing
            ? `dry run: migration ${existing.metadata.name} is already in progress; kvmig would follow it`
            : `dry run: the API server accepted migrating ${namespace}/${flags.vm} off ${input.vmi?.status?.nodeName ?? "its node"}${
                selector
                  ? ` to a node with ${Object.entries(selector)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(",")}`
                  : ""
              }; nothing was changed`,
        ),
    );
    return;
  }

  // Whether this run started the migration it reports on (false: one was already in flight).
  let started = false;
  if (!migration) {
    const known = new Set(input.migrations.map((m) => m.metadata.uid ?? ""));
    const request = await startMigration(kube, namespace, flags.vm, {
      standalone: input.vm === undefined,
      dryRun: false,
      selector: addedNodeSelector(flags),
    });
    if (request === undefined) {
      ctx.io.err(
        "another migration of this VM started meanwhile; following it instead of starting a second one",
      );
      migration = unfinishedMigration(await listMigrationsOf(kube, namespace, flags.vm));
      if (!migration)
        throw new NotFoundError(`the in-flight migration of ${namespace}/${flags.vm} is already gone`, {
          hint: `see how it ended with: ${kvmigCommand(["watch", flags.vm, "-n", namespace])}`,
        });
    } else if (request === "started") {
      migration = await findCreated(kube, ctx, namespace, flags.vm, known);
      started = true;
    } else {
      migration = request;
      started = true;
    }
    if (text && started)
      ctx.io.err(
        `migration ${migration.metadata.name} started for ${namespace}/${flags.vm} on ${input.vmi?.status?.nodeName ?? "?"}`,
      );
  } else if (text) {
    ctx.io.err(`following migration ${migration.metadata.name} (${migration.status?.phase || "Pending"})`);
  }

  if (!flags.wait) {
    const name = migration.metadata.name;
    const phase = migration.status?.phase ?? "";
    const follow = kvmigCommand(["watch", flags.vm, "-n", namespace]);
    // `started: false`: the migration named was already in flight, and kvmig started none.
    await writeData(ctx.io, ctx.io.mode, { vm: flags.vm, namespace, migration: name, phase, started }, () =>
      ctx.io.out(
        started
          ? `migration ${name} started; follow it with: ${follow}`
          : `migration ${name} was already in progress (${phase || "Pending"}); no other was started; follow it with: ${follow}`,
      ),
    );
    return;
  }
  const screen = followScreen(ctx, kube, { showEvents: false });
  const result = await followToEnd(
    kube,
    {
      namespace,
      vmName: flags.vm,
      migration,
      signal: ctx.signal,
      timeoutMs: flags.timeoutMs,
      clock: ctx.clock,
      prometheusUrl: flags.prometheusUrl,
      debug: ctx.debug,
      outage: screen.outage,
    },
    screen.observer,
  );
  await reportFollow(ctx, { namespace, vmName: flags.vm, started }, result);
}

/** The action of `kvmig migrate` (tree.ts): the flags checked and parsed, then runMigrate. */
export async function migrateAction(
  vmArg: string | undefined,
  options: MigrateOptions,
  ctx: CommandContext,
): Promise<void> {
  if (options.targetNode !== undefined && options.nodeSelector !== undefined) {
    throw new UsageError("--target-node and --node-selector cannot be combined", {
      hint: "--target-node NODE means --node-selector kubernetes.io/hostname=NODE; add the other labels to that",
    });
  }
  const vm = await vmOrPick(ctx, vmArg, "migrate");
  await runMigrate(
    {
      vm,
      targetNode: options.targetNode,
      nodeSelector: options.nodeSelector === undefined ? undefined : parseNodeSelector(options.nodeSelector),
      dryRun: options.dryRun,
      force: options.force,
      wait: options.wait,
      timeoutMs: parseDuration(options.timeout, "--timeout"),
      prometheusUrl: options.prometheusUrl,
    },
    ctx,
  );
}
