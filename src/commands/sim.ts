// kvmig sim: the embedded simulated cluster as a long-lived server, for trying kvmig and
// kubectl without a cluster. And `--sim[=SCENARIO]`: one command against a fresh embedded
// cluster. The simulator loads only here, on demand.

import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SimCliOptions } from "../cli-tree/options.js";
import type { CommandContext, Context } from "../context.js";
import { UsageError } from "../errors.js";
import type { SimCluster, SimClusterOptions } from "../sim/cluster.js";
import { claimKubeconfigOut, type KubeconfigOut } from "../util/kubeconfig-out.js";
import { kvmigCommand } from "../util/shell.js";

export interface SimOptions {
  scenario: string;
  port: number;
  kubeconfigOut?: string | undefined;
  /** Replace an existing regular file at `kubeconfigOut`. */
  force?: boolean | undefined;
  speed: number;
  seed?: number | undefined;
  vms?: number | undefined;
  /** `--fault` specs of the API server's faults (src/sim/api-faults.ts), as given. */
  faults?: readonly string[] | undefined;
  /** `--request-log`: the file to append one JSON line per request to. */
  requestLog?: string | undefined;
}

async function loadSimulator() {
  return import("../sim/cluster.js");
}

export async function startSimulator(options: SimClusterOptions): Promise<SimCluster> {
  const { startSimCluster, scenarioNames } = await loadSimulator();
  const scenario = options.scenario ?? "default";
  const names = scenarioNames();
  if (!names.includes(scenario)) {
    throw new UsageError(`unknown scenario "${scenario}"`, {
      hint: `the scenarios are: ${names.join(", ")} (${kvmigCommand(["sim", "--list-scenarios"])})`,
    });
  }
  if (options.vms !== undefined && scenario !== "scale") {
    throw new UsageError("--vms applies to the scale scenario only", {
      hint: kvmigCommand(["sim", "--scenario", "scale", "--vms", "1000"]),
    });
  }
  try {
    return await startSimCluster(options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new UsageError(`port ${options.port} on 127.0.0.1 is already in use`, {
        hint: "choose another --port, or --port 0 for any free one",
      });
    }
    if (code === "EACCES") {
      throw new UsageError(`not allowed to listen on port ${options.port}`, {
        hint: "use a port above 1023",
      });
    }
    throw error;
  }
}

/** The `--fault` flags as fault specs; a bad one is a usage error naming it, with the kinds as hint. */
async function parseFaultFlags(texts: readonly string[]) {
  const faults = await import("../sim/api-faults.js");
  const usage = (error: unknown, what: string) =>
    error instanceof faults.ApiFaultSpecError
      ? new UsageError(`invalid ${what}: ${error.message}`, { hint: faults.apiFaultKindsHint })
      : error;
  const specs = texts.flatMap((text) => {
    try {
      return faults.parseApiFaults(text);
    } catch (error) {
      throw usage(error, `--fault "${text}"`);
    }
  });
  try {
    // Across flags too: a kind that may appear once, given in two --fault flags.
    return faults.validateApiFaults(specs);
  } catch (error) {
    throw usage(error, "--fault");
  }
}

/**
 * Opens the request log for appending (created, mode 0600, if missing: paths and users are in
 * it). A path that cannot be opened is a usage error before the cluster starts.
 */
function openRequestLog(path: string): number {
  try {
    return openSync(path, "a", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "its directory does not exist"
        : code === "EISDIR"
          ? "it is a directory"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied"
            : (code ?? String(error));
    throw new UsageError(`cannot write the request log ${path}: ${why}`, {
      hint: "give --request-log a file in an existing directory you can write to",
    });
  }
}

/**
 * Appends each request as one JSON line when it ends. writeSync goes to the file at once, so a
 * test or a `tail -f` reads every request handled so far while the sim runs.
 */
function logRequests(cluster: SimCluster, fd: number): () => void {
  return cluster.onRequest((record) => {
    writeSync(fd, `${JSON.stringify(record)}\n`);
  });
}

/** Writes a new kubeconfig readable by its owner only: it holds the users' tokens. */
function writeKubeconfig(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600, flag: "wx" });
}

export async function runSim(options: SimOptions, ctx: CommandContext): Promise<void> {
  const apiFaults = options.faults?.length ? await parseFaultFlags(options.faults) : undefined;
  // The kubeconfig's place first: a path kvmig will not write stops it before the cluster starts.
  const out = claimKubeconfigOut(options.kubeconfigOut, options.force ?? false);
  // It holds tokens: gone when the sim stops, even by a second Ctrl-C (process.exit).
  const removeOut = () => out.remove();
  process.once("exit", removeOut);
  let requestLog: number | undefined;
  try {
    requestLog = options.requestLog === undefined ? undefined : openRequestLog(options.requestLog);
    await serveSim(options, apiFaults, out, requestLog, ctx);
  } finally {
    process.removeListener("exit", removeOut);
    out.remove();
    if (requestLog !== undefined) closeSync(requestLog);
  }
}

async function serveSim(
  options: SimOptions,
  apiFaults: Awaited<ReturnType<typeof parseFaultFlags>> | undefined,
  out: KubeconfigOut,
  requestLog: number | undefined,
  ctx: CommandContext,
): Promise<void> {
  const cluster = await startSimulator({
    scenario: options.scenario,
    port: options.port,
    speed: options.speed,
    seed: options.seed,
    vms: options.vms,
    apiFaults,
    prometheus: true,
    log: ctx.options.verbose ? ctx.debug : undefined,
  });
  const stopLogging = requestLog === undefined ? undefined : logRequests(cluster, requestLog);
  try {
    const path = out.path;
    out.write(cluster.kubeconfig());
    const c = ctx.io.errColors;
    ctx.io.err(
      `${c.bold("kvmig sim")} serving ${cluster.url} (scenario ${options.scenario}, seed ${cluster.seed}, speed ${options.speed}x)`,
    );
    ctx.io.err(c.dim("contexts: sim-admin (everything), sim-viewer (get, list, watch); Ctrl-C stops it"));
    if (apiFaults?.length) {
      const { formatApiFault } = await import("../sim/api-faults.js");
      ctx.io.err(`api faults: ${apiFaults.map(formatApiFault).join(", ")} (seed ${cluster.seed})`);
    }
    if (options.requestLog !== undefined) {
      ctx.io.err(c.dim(`request log: ${options.requestLog} (one JSON line per request)`));
    }
    if (cluster.prometheus) {
      ctx.io.err(
        c.dim(
          `prometheus: ${cluster.prometheus.url} (${kvmigCommand(["migrate", "..."])} --prometheus-url ${cluster.prometheus.url})`,
        ),
      );
    }
    ctx.io.out(`kubeconfig: ${path}`);
    ctx.io.out(`export KUBECONFIG=${path}`);
    await untilAborted(ctx.signal);
    ctx.io.err("kvmig sim: stopped");
    ctx.setExitCode(0);
  } finally {
    await cluster.close();
    // After the close: the requests it cut short are logged too.
    stopLogging?.();
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) done();
    else signal.addEventListener("abort", () => done(), { once: true });
  });
}

/**
 * Runs `body` against a fresh embedded cluster (`--sim`): the kubeconfig is a temporary file
 * that points at it, removed afterwards with the cluster.
 */
export async function withEmbeddedSim<T>(
  scenario: string,
  ctx: Pick<Context, "io">,
  verbose: boolean,
  body: (kubeconfig: string) => Promise<T>,
): Promise<T> {
  const cluster = await startSimulator({
    scenario,
    log: verbose ? (line) => ctx.io.err(ctx.io.errColors.dim(line)) : undefined,
  });
  const dir = mkdtempSync(join(tmpdir(), "kvmig-sim-"));
  try {
    const path = join(dir, "kubeconfig");
    writeKubeconfig(path, cluster.kubeconfig());
    return await body(path);
  } finally {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The action of `kvmig sim` (cli-tree/tree.ts): the scenario list, or the simulator until Ctrl-C. */
export async function simAction(flags: SimCliOptions, ctx: CommandContext): Promise<void> {
  if (flags.listScenarios) {
    const { listScenarios } = await import("../sim/scenario.js");
    const scenarios = listScenarios();
    // At least two spaces after the longest name (maintenance-full has 16 characters).
    const width = Math.max(16, ...scenarios.map((s) => s.name.length + 2));
    for (const scenario of scenarios) ctx.io.out(`${scenario.name.padEnd(width)}${scenario.description}`);
    return;
  }
  await runSim(
    {
      scenario: flags.scenario,
      port: flags.port,
      kubeconfigOut: flags.kubeconfigOut,
      force: flags.force,
      speed: flags.speed,
      seed: flags.seed,
      vms: flags.vms,
      faults: flags.fault,
      requestLog: flags.requestLog,
    },
    ctx,
  );
}
