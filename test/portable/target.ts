// The cluster the portable end-to-end suite (test/portable) runs against, chosen by
// KVMIG_E2E_TARGET:
//   unset or `sim`  a fresh simulated cluster per test file, scenario `kind`: the simulated twin
//                   of what scripts/kind/up.sh builds (same namespace, VMs, networks, node names)
//   `cluster`       the cluster in KUBECONFIG (its current context), e.g. the kind cluster from
//                   scripts/kind/up.sh; checked first, failing within seconds when it does not
//                   answer or is not shaped like that cluster
// Tests run the built CLI against the target and read state through the API on both (never the
// simulator's store), so the same assertions hold on each. Cases that need injected faults ask
// `supportsFaults` and skip, with the reason printed, on a real cluster.

import { existsSync, writeFileSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { systemClock } from "../../src/clock.js";
import { connect } from "../../src/k8s/connect.js";
import type { KubeClient } from "../../src/k8s/kube-client.js";
import type { Pod, VirtualMachineInstance, VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import type { FaultSpec } from "../../src/sim/controllers/faults.js";
import { cliEnv, distEntry, ensureBuilt, type RunResult, runProcess } from "../e2e/built-cli.js";
import { tempDir } from "../helpers/kubeconfig.js";

export type TargetKind = "sim" | "cluster";

/** What scripts/kind/up.sh deploys, and src/sim/scenarios/kind.yaml mirrors. */
export const namespace = "kvmig-e2e";
export const vmMasq = "vm-masq";
export const vmBridge = "vm-bridge";
export const testVms = [vmMasq, vmBridge] as const;
export const upScript = "scripts/kind/up.sh";

/** How long the reachability check gives each request, and the whole check. */
const reachRequestTimeout = "2s";
const reachDeadlineMs = 12_000;

/** The target KVMIG_E2E_TARGET names; a clear error for anything else. */
export function targetKind(env: NodeJS.ProcessEnv = process.env): TargetKind {
  const value = env.KVMIG_E2E_TARGET?.trim() ?? "";
  if (value === "" || value === "sim") return "sim";
  if (value === "cluster") return "cluster";
  throw new Error(
    `KVMIG_E2E_TARGET=${JSON.stringify(value)} is not a target: use sim (the default: a simulated cluster shaped like the one ${upScript} builds) or cluster (the cluster in KUBECONFIG)`,
  );
}

/** A test's time limit: `simMs` on the simulation; a real cluster gets at least `clusterMs`. */
export function timeoutFor(simMs: number, clusterMs = 300_000): number {
  try {
    return targetKind() === "cluster" ? Math.max(simMs, clusterMs) : simMs;
  } catch {
    return simMs;
  }
}

export interface TargetOptions {
  /** Simulation only: simulated seconds per wall second (default 4: the small VMs move in about a second). */
  speed?: number | undefined;
  /** Simulation only: API server faults, as `kvmig sim --fault` takes them. */
  apiFaults?: string | undefined;
  /** Simulation only: faults of future migrations (controllers/faults.ts). */
  migrationFaults?: readonly FaultSpec[] | undefined;
  /** Where KVMIG_E2E_TARGET and KUBECONFIG come from (tests of the switch); default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
}

export interface E2eTarget {
  readonly kind: TargetKind;
  /** Which cluster, for messages. */
  readonly description: string;
  /** Whether faults can be injected (only into the simulation). */
  readonly supportsFaults: boolean;
  /** The simulated cluster (faults, clock); undefined on a real cluster. */
  readonly sim: SimCluster | undefined;
  /** The environment the built CLI runs with: KUBECONFIG, a temp HOME, no colours. */
  readonly env: Record<string, string>;
  readonly kubeconfig: string;
  /** Runs the built CLI to its end (default limit: 60 s on the simulation, 5 min on a cluster). */
  run(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** Through the API, on either target. */
  vmi(name: string): Promise<VirtualMachineInstance | undefined>;
  migrations(vm: string): Promise<VirtualMachineInstanceMigration[]>;
  pods(labelSelector: string): Promise<Pod[]>;
  /** Waits until both test VMs run, each with no unfinished migration. */
  settle(timeoutMs?: number): Promise<void>;
  /** Deletes the test VMs' unfinished migrations (a test's leftovers), then settles. */
  cleanup(): Promise<void>;
  close(): Promise<void>;
}

const finalPhases = new Set(["Succeeded", "Failed"]);
export const isFinal = (m: VirtualMachineInstanceMigration) => finalPhases.has(m.status?.phase ?? "");

/** The first `error:` line kvmig printed (its one-line reason), else the last line of output. */
function reasonOf(result: RunResult): string {
  const lines = `${result.stderr}\n${result.stdout}`.split("\n").filter((l) => l.trim() !== "");
  const error = lines.find((l) => l.startsWith("error: "));
  if (error) return error.slice("error: ".length);
  if (result.signal) return `no answer within ${reachDeadlineMs / 1000}s (stopped with ${result.signal})`;
  return lines.at(-1) ?? `kvmig exited with ${result.code}`;
}

async function clientFor(kubeconfig: string, requestTimeoutMs: number): Promise<KubeClient> {
  return connect(
    { kubeconfig, requestTimeoutMs },
    { env: {}, clock: systemClock, userAgent: "kvmig-e2e-portable" },
  );
}

/**
 * KUBECONFIG's cluster answers (kvmig version, each request limited to 2 s), runs KubeVirt, and
 * has the test VMs; otherwise an error that says which of these failed and what to do.
 */
async function checkCluster(kubeconfig: string, env: Record<string, string>): Promise<KubeClient> {
  const where = `the cluster in KUBECONFIG (${kubeconfig})`;
  const start = `start one with ${upScript}, then: KUBECONFIG=<its kubeconfig> npm run test:e2e:cluster`;
  const version = await runProcess(
    [distEntry, "version", "-o", "json", "--request-timeout", reachRequestTimeout],
    { env, timeoutMs: reachDeadlineMs },
  );
  if (version.code !== 0) {
    throw new Error(`KVMIG_E2E_TARGET=cluster: ${where} did not answer: ${reasonOf(version)}; ${start}`);
  }
  let kubevirt: string | undefined;
  try {
    kubevirt = JSON.parse(version.stdout)?.kubevirt?.version;
  } catch {
    kubevirt = undefined;
  }
  if (!kubevirt) {
    throw new Error(
      `KVMIG_E2E_TARGET=cluster: ${where} answers but runs no KubeVirt (kvmig version found none); ${start}`,
    );
  }
  const client = await clientFor(kubeconfig, 10_000);
  const found = await client.list("vm", { namespace }).catch(() => []);
  const missing = testVms.filter((name) => !found.some((vm) => vm.metadata.name === name));
  if (missing.length > 0) {
    client.close();
    throw new Error(
      `KVMIG_E2E_TARGET=cluster: ${where} has no ${missing.join(", ")} in namespace ${namespace}, so it is not the cluster ${upScript} builds; run ${upScript} (it completes an existing cluster too)`,
    );
  }
  return client;
}

/** The target KVMIG_E2E_TARGET chooses, ready to use; rejects with a clear message otherwise. */
export async function createTarget(options: TargetOptions = {}): Promise<E2eTarget> {
  const env = options.env ?? process.env;
  const kind = targetKind(env);
  await ensureBuilt();
  const home = tempDir("kvmig-e2e-target-");
  let sim: SimCluster | undefined;
  let kubeconfig: string;
  let client: KubeClient;
  let description: string;
  if (kind === "sim") {
    sim = await startSimCluster({
      scenario: "kind",
      seed: 11,
      speed: options.speed ?? 4,
      apiFaults: options.apiFaults,
      faults: options.migrationFaults,
    });
    kubeconfig = join(home, "kubeconfig");
    writeFileSync(kubeconfig, sim.kubeconfig(), { mode: 0o600 });
    client = await clientFor(kubeconfig, 10_000);
    description = `the simulated kind cluster at ${sim.url} (speed ${options.speed ?? 4}x)`;
  } else {
    const given = env.KUBECONFIG?.trim();
    if (!given) {
      throw new Error(
        `KVMIG_E2E_TARGET=cluster needs KUBECONFIG: the kubeconfig of the cluster to test (${upScript} writes ~/.kube/kind-kvmig); unset KVMIG_E2E_TARGET to test against the simulated cluster`,
      );
    }
    if (options.apiFaults !== undefined || options.migrationFaults !== undefined) {
      throw new Error("faults can only be injected into the simulated cluster: check supportsFaults first");
    }
    // One file, so that kvmig and the API client read exactly the same kubeconfig.
    if (given.includes(delimiter)) {
      throw new Error(
        `KVMIG_E2E_TARGET=cluster needs KUBECONFIG to name one file, not several (${given}); kubectl config view --flatten merges them`,
      );
    }
    kubeconfig = resolve(given);
    if (!existsSync(kubeconfig)) {
      throw new Error(`KVMIG_E2E_TARGET=cluster: KUBECONFIG names ${kubeconfig}, which does not exist`);
    }
    client = await checkCluster(kubeconfig, cliEnv(home, { KUBECONFIG: kubeconfig }));
    description = `the cluster in KUBECONFIG (${client.server}, context ${client.context})`;
  }
  const cliEnvironment = cliEnv(home, { KUBECONFIG: kubeconfig });
  const defaultRunMs = kind === "sim" ? 60_000 : 300_000;
  const pollMs = kind === "sim" ? 100 : 1_000;

  const vmi = async (name: string) =>
    (await client.list("vmi", { namespace })).find((v) => v.metadata.name === name);
  const migrations = async (vm: string) =>
    client.list("vmim", { namespace, labelSelector: `kubevirt.io/vmi-name=${vm}` });

  const settle = async (timeoutMs = kind === "sim" ? 30_000 : 300_000) => {
    const deadline = Date.now() + timeoutMs;
    let state = "";
    for (;;) {
      const [vmis, vmims] = await Promise.all([
        client.list("vmi", { namespace }),
        client.list("vmim", { namespace }),
      ]);
      const waiting = testVms.flatMap((name) => {
        const v = vmis.find((x) => x.metadata.name === name);
        if (!v) return [`${name}: no VMI`];
        if (v.metadata.deletionTimestamp) return [`${name}: VMI being deleted`];
        if (v.status?.phase !== "Running") return [`${name}: VMI ${v.status?.phase || "without a phase"}`];
        const open = vmims.filter((m) => m.spec?.vmiName === name && !isFinal(m));
        return open.map((m) => `${name}: migration ${m.metadata.name} ${m.status?.phase || "Pending"}`);
      });
      if (waiting.length === 0) return;
      state = waiting.join("; ");
      if (Date.now() > deadline)
        throw new Error(`${description}: the test VMs did not settle within ${timeoutMs / 1000}s: ${state}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };

  return {
    kind,
    description,
    supportsFaults: kind === "sim",
    sim,
    env: cliEnvironment,
    kubeconfig,
    run: (args, timeoutMs = defaultRunMs) =>
      runProcess([distEntry, ...args], { env: cliEnvironment, timeoutMs }),
    vmi,
    migrations,
    pods: (labelSelector) => client.list("pod", { namespace, labelSelector }),
    settle,
    cleanup: async () => {
      for (const m of await client.list("vmim", { namespace })) {
        if (isFinal(m) || m.metadata.deletionTimestamp || !m.metadata.name) continue;
        if (!testVms.includes(m.spec?.vmiName as (typeof testVms)[number])) continue;
        await client.deleteMigration(namespace, m.metadata.name).catch(() => undefined);
      }
      await settle();
    },
    close: async () => {
      client.close();
      await sim?.close();
    },
  };
}

/**
 * For a case that needs injected faults: on a real cluster, prints why it is skipped and skips
 * it (vitest's ctx.skip); returns the simulated cluster otherwise.
 */
export function requireFaults(
  target: E2eTarget,
  ctx: { skip: (note?: string) => never },
  what: string,
): SimCluster {
  if (target.supportsFaults && target.sim) return target.sim;
  const reason = `needs injected faults (${what}), which only the simulated cluster has; ${target.description} runs the other cases`;
  console.log(`skipped: ${reason}`);
  return ctx.skip(reason);
}
