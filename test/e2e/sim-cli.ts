// The built CLI against a simulated cluster running in the test process: a fresh cluster per
// call, its kubeconfig in a temp HOME, and helpers to run kvmig (to the end, or in the
// background) and to read the cluster's state directly.
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type SimCluster, type SimClusterOptions, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { simRequest } from "../helpers/sim.js";
import { cliEnv, distEntry, type RunResult, repoRoot, runProcess } from "./built-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

export interface SimCli {
  cluster: SimCluster;
  env: Record<string, string>;
  kubeconfig: string;
  run(args: string[], timeoutMs?: number): Promise<RunResult>;
  start(args: string[]): Running;
  /**
   * Adds a user to the cluster (a token; permissions from RBAC only) and its context to the
   * kubeconfig the CLI reads; returns the context name, for `--context`.
   */
  addUser(name: string, groups?: readonly string[]): string;
  migrations(namespace: string, vm: string): Any[];
  vmi(namespace: string, vm: string): Any;
  close(): Promise<void>;
}

export async function simCli(options: SimClusterOptions = {}): Promise<SimCli> {
  const cluster = await startSimCluster({ seed: 7, ...options });
  const home = tempDir();
  const kubeconfig = join(home, "kubeconfig");
  writeFileSync(kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
  const env = cliEnv(home, { KUBECONFIG: kubeconfig });
  return {
    cluster,
    env,
    kubeconfig,
    run: (args, timeoutMs = 30_000) => runProcess([distEntry, ...args], { env, timeoutMs }),
    start: (args) => {
      const child = spawn(process.execPath, [distEntry, ...args], {
        cwd: repoRoot,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (c: Buffer) => {
        stdout += c.toString("utf8");
      });
      child.stderr?.on("data", (c: Buffer) => {
        stderr += c.toString("utf8");
      });
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      return { child, stdout: () => stdout, stderr: () => stderr, exited };
    },
    addUser: (name, groups) => {
      const { context } = cluster.addUser(name, groups);
      writeFileSync(kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
      return context;
    },
    migrations: (namespace, vm) =>
      (cluster.store.list(R.vmim.storage, namespace) as Any[]).filter((m) => m.spec.vmiName === vm),
    vmi: (namespace, vm) =>
      (cluster.store.list(R.vmi.storage, namespace) as Any[]).find((v) => v.metadata.name === vm),
    close: () => cluster.close(),
  };
}

/** A fresh cluster (speed 10) whose VM demo/fedora-web has been stopped: no VMI left. */
export async function stoppedVm(): Promise<SimCli> {
  const cli = await simCli({ speed: 10 });
  const stopped = await simRequest(
    cli.cluster,
    "PUT",
    "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/stop",
    { body: {} },
  );
  if (stopped.status !== 202) throw new Error(`stopping fedora-web answered ${stopped.status}`);
  await until(() => cli.vmi("demo", "fedora-web") === undefined);
  return cli;
}

/** Waits (polling every 20 ms) until `check` holds; the test's timeout bounds the wait. */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Durations like 0ms, 12s, 1m3s become <d>; RFC 3339 times become <t>. */
export function normalize(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<t>")
    .replace(/\b(\d+h)?(\d+m)?(\d+(\.\d+)?(ms|s))\b|\b\d+h(\d+m)?\b|\b\d+m\b/g, "<d>");
}
