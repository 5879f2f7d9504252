// The real kubectl against a simulated cluster: each cluster gets its own temp dir holding the
// kubeconfig, HOME and kubectl's discovery cache (clusters reuse ports, so a shared cache could
// answer for a cluster that is gone), and kubectl runs with nothing else from the environment.
// Plus parsers for what kubectl prints: aligned tables and the unaligned lines of `--watch`.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import type { SimCluster } from "../../src/sim/cluster.js";
import { tempDir } from "./kubeconfig.js";

const run = promisify(execFile);

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** kubectl from PATH, else /usr/bin/kubectl; undefined when there is none. */
export function findKubectl(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  for (const dir of [...dirs, "/usr/bin"]) {
    const candidate = join(dir, "kubectl");
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  /** The exit code; -1 when kubectl was killed by a signal. */
  code: number;
}

export interface KubectlOptions {
  /** `--context`; the kubeconfig's current context (sim-admin) when absent. Added users have their own. */
  context?: "sim-admin" | "sim-viewer" | (string & {});
}

/** A kubectl left running (a watch): its output so far, a wait for a line, and an end. */
export class RunningKubectl {
  stdout = "";
  stderr = "";
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      this.stdout += chunk;
      this.wake();
    });
    child.stderr?.on("data", (chunk: string) => {
      this.stderr += chunk;
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      child.on("close", (code) => {
        this.exitCode = code;
        this.wake();
        resolve();
      });
      child.on("error", () => {
        this.exitCode = null;
        this.wake();
        resolve();
      });
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** The complete lines of stdout so far. */
  lines(): string[] {
    const complete = this.stdout.slice(0, this.stdout.lastIndexOf("\n") + 1);
    return complete.split("\n").filter((line) => line.trim() !== "");
  }

  /**
   * Waits until a complete line of stdout satisfies `match` and returns it. Fails when kubectl
   * exits first, or once `deadlineMs` passed (a safety net far beyond the expected time).
   */
  async waitForLine(match: (line: string) => boolean, deadlineMs = 45_000): Promise<string> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const found = this.lines().find(match);
      if (found !== undefined) return found;
      if (this.exitCode !== undefined) {
        throw new Error(
          `kubectl exited (${this.exitCode}) before the expected line\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no expected line from kubectl\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  /** Ends kubectl (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.exitCode === undefined) this.child.kill("SIGTERM");
    await this.exited;
  }
}

/** kubectl bound to one simulated cluster. */
export class Kubectl {
  readonly dir: string;
  readonly kubeconfig: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly running = new Set<RunningKubectl>();
  private files = 0;

  constructor(
    readonly binary: string,
    /** The cluster, or anything that gives its kubeconfig (a `kvmig sim` run's file). */
    cluster: Pick<SimCluster, "kubeconfig">,
  ) {
    this.dir = tempDir("kvmig-kubectl-");
    const home = join(this.dir, "home");
    mkdirSync(home);
    this.kubeconfig = join(this.dir, "kubeconfig");
    writeFileSync(this.kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
    // Only what kubectl needs: no KUBECONFIG (or anything else) that could reach a real cluster.
    this.env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, KUBECACHEDIR: join(home, "cache") };
  }

  private argv(args: readonly string[], options: KubectlOptions): string[] {
    return [
      "--kubeconfig",
      this.kubeconfig,
      ...(options.context ? ["--context", options.context] : []),
      ...args,
    ];
  }

  /** Runs kubectl to the end; a non-zero exit is a result, not an error. */
  async run(args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
    try {
      const { stdout, stderr } = await run(this.binary, this.argv(args, options), {
        env: this.env,
        cwd: this.dir,
        encoding: "utf8",
        maxBuffer: 16 * 1024 * 1024,
      });
      return { stdout, stderr, code: 0 };
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; code?: unknown };
      if (typeof failed.code !== "number" && failed.code !== null) throw error;
      return {
        stdout: failed.stdout ?? "",
        stderr: failed.stderr ?? "",
        code: typeof failed.code === "number" ? failed.code : -1,
      };
    }
  }

  /** Runs kubectl and fails unless it exits 0. */
  async ok(args: readonly string[], options: KubectlOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      throw new Error(
        `kubectl ${args.join(" ")} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
      );
    }
    return result.stdout;
  }

  /** Starts kubectl and leaves it running (for `--watch`); `close()` ends what is left. */
  start(args: readonly string[], options: KubectlOptions = {}): RunningKubectl {
    const child = spawn(this.binary, this.argv(args, options), {
      env: this.env,
      cwd: this.dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const running = new RunningKubectl(child);
    this.running.add(running);
    return running;
  }

  /** Writes a manifest into this kubectl's temp dir and returns its path. */
  writeFile(text: string, name = `manifest-${++this.files}.yaml`): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }

  /** Ends every kubectl still running and removes the temp dir. */
  async close(): Promise<void> {
    await Promise.all([...this.running].map((r) => r.stop()));
    this.running.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Table {
  header: string[];
  /** Cells cut at the header's column starts, trimmed (an empty cell is ""). */
  rows: string[][];
}

/**
 * An aligned table as kubectl prints it (columns padded to a common start). Header names are
 * separated by at least two spaces, so names with one space (`LAST SEEN`) stay whole.
 */
export function parseTable(text: string): Table {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const headerLine = lines[0] ?? "";
  const header = headerLine.trim().split(/\s{2,}/);
  const starts: number[] = [];
  let from = 0;
  for (const name of header) {
    const at = headerLine.indexOf(name, from);
    starts.push(at);
    from = at + name.length;
  }
  const rows = lines.slice(1).map((line) =>
    starts.map((start, i) => {
      const end = i + 1 < starts.length ? starts[i + 1] : undefined;
      return line.slice(start, end).trim();
    }),
  );
  return { header, rows };
}

/** Several tables separated by blank lines (`kubectl get vm,vmi`). */
export function parseTables(text: string): Table[] {
  return text
    .split(/\n\s*\n/)
    .filter((block) => block.trim() !== "")
    .map(parseTable);
}

/** The whitespace-separated fields of a line (for the unaligned rows of `--watch`). */
export function fields(line: string): string[] {
  return line.trim().split(/\s+/);
}

/** Output lines without blank ones. */
export function outputLines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}
