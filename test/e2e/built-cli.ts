// The built CLI for end-to-end tests: builds dist/ when it is missing or older than the sources,
// and runs dist/kvmig.js in a child process with a controlled environment.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const distEntry = join(repoRoot, "dist", "kvmig.js");
export const chunksDir = join(repoRoot, "dist", "chunks");
/** The directory of the node running the tests: the built CLI's shebang needs `node` on PATH. */
export const nodeDir = dirname(process.execPath);

const run = promisify(execFile);

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** What the bundle is made of: a change to any of these makes dist/ stale. */
function sourcesMtime(): number {
  return Math.max(
    ...["src", "package.json", "scripts/build.mjs", "scripts/builtin-imports.mjs"].map((p) =>
      newestMtime(join(repoRoot, p)),
    ),
  );
}

function isFresh(): boolean {
  return existsSync(distEntry) && existsSync(chunksDir) && statSync(distEntry).mtimeMs > sourcesMtime();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Builds dist/ unless it is newer than every source file. Test files run in parallel workers,
 * and the build starts by deleting dist/, so builds take a lock (a directory) to run one at a time.
 */
export async function ensureBuilt(): Promise<void> {
  if (isFresh()) return;
  const id = createHash("sha256").update(repoRoot).digest("hex").slice(0, 12);
  const lock = join(tmpdir(), `kvmig-e2e-build-${id}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left behind by a killed run is stale after two minutes.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await sleep(100);
    }
  }
  try {
    if (isFresh()) return;
    await run(process.execPath, ["scripts/build.mjs"], { cwd: repoRoot });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The file names in dist/chunks/. */
export function chunkFiles(): string[] {
  return readdirSync(chunksDir).filter((f) => f.endsWith(".js"));
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: Record<string, string>;
  /** The executable; default: the node running the tests. */
  command?: string;
  timeoutMs?: number;
}

/** Spawns a process and collects its output; never rejects on a non-zero exit. */
export function runProcess(args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.command ?? process.execPath, args, {
      cwd: repoRoot,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 15_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

/** Runs `node dist/kvmig.js ...args` (with `nodeArgs` before the entry). */
export function runKvmig(args: string[], env: Record<string, string>, nodeArgs: string[] = []) {
  return runProcess([...nodeArgs, distEntry, ...args], { env });
}

/**
 * A small environment: no KUBECONFIG, in-cluster variables or NODE_OPTIONS inherited from the
 * test runner, HOME where the caller says, and no colours.
 */
export function cliEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: [nodeDir, "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter),
    HOME: home,
    NO_COLOR: "1",
    ...extra,
  };
}

/** Splits output into its lines, without the empty one after the last newline. */
export function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}
