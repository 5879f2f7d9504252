// Measuring one command: wall time from the bench's side (process.hrtime around spawn to exit),
// and the child's CPU time (user + system) and peak RSS from the kernel's rusage of the child,
// which GNU time (/usr/bin/time) reads with wait4() and writes to a file (`-o`), so that the
// command's own stdout and stderr stay untouched. Processes that run alongside the bench (the
// simulated cluster) are read from /proc instead. Linux only.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** GNU time, when it is there; without it the bench measures wall time only. */
export const gnuTime = findGnuTime();

function findGnuTime() {
  for (const path of ["/usr/bin/time", "/bin/time", "/usr/local/bin/time"]) {
    if (!existsSync(path)) continue;
    const probe = spawnSync(path, ["-f", "%U", "true"], { encoding: "utf8" });
    if (probe.status === 0 && /^\d+\.\d+\s*$/.test(probe.stderr)) return path;
  }
  return undefined;
}

let counter = 0;

/**
 * Runs `file args` to its end. stdout goes to `stdoutFile` (kept for the caller to check) or
 * /dev/null; stderr is kept in memory (the last 64 KiB). Returns wall, user and system time in
 * milliseconds, peak RSS in KiB, the exit code, and stderr. Rejects when the exit code is not
 * one of `ok`.
 */
export async function timeCommand(file, args, { env, cwd, tmp, ok = [0], stdoutFile, timeoutMs = 600_000 }) {
  const timeFile = join(tmp, `rusage-${process.pid}-${counter++}`);
  const argv = gnuTime ? [gnuTime, ["-f", "%e %U %S %M", "-o", timeFile, "--", file, ...args]] : [file, args];
  const out = openSync(stdoutFile ?? "/dev/null", "w");
  let stderr = "";
  const started = process.hrtime.bigint();
  const { code, signal } = await new Promise((resolve, reject) => {
    const child = track(
      spawn(argv[0], argv[1], { env, cwd, stdio: ["ignore", out, "pipe"], detached: true }),
    );
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), timeoutMs);
    child.stderr.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-65_536);
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (exitCode, exitSignal) => {
      clearTimeout(timer);
      resolve({ code: exitCode, signal: exitSignal });
    });
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  closeSync(out);
  const usage = gnuTime && existsSync(timeFile) ? readRusage(timeFile) : undefined;
  rmSync(timeFile, { force: true });
  if (!ok.includes(code)) {
    const shown = [file, ...args].join(" ");
    throw new Error(
      `${shown}: exit ${code ?? signal} (expected ${ok.join(" or ")})\n${stderr.trim().split("\n").slice(-8).join("\n")}`,
    );
  }
  return { wallMs, ...usage, code, stderr };
}

/** GNU time's line `%e %U %S %M` (the last one: a line before it may say how the command ended). */
export function readRusage(path) {
  const lines = readFileSync(path, "utf8").trim().split("\n");
  const [, user, sys, maxRss] = (lines.at(-1) ?? "").trim().split(/\s+/).map(Number);
  if (![user, sys, maxRss].every(Number.isFinite)) throw new Error(`unreadable rusage: ${lines.join(" / ")}`);
  return { cpuMs: (user + sys) * 1000, userMs: user * 1000, sysMs: sys * 1000, maxRssKiB: maxRss };
}

/**
 * Starts a long-running command the same way (GNU time around it), in its own process group so
 * that `stop()` can interrupt the command without interrupting GNU time (it ignores SIGINT
 * while it waits, then reports). `onStdout` gets each chunk of stdout.
 */
export function startTimed(file, args, { env, cwd, tmp, onStdout }) {
  const timeFile = join(tmp, `rusage-${process.pid}-${counter++}`);
  const argv = gnuTime ? [gnuTime, ["-f", "%e %U %S %M", "-o", timeFile, "--", file, ...args]] : [file, args];
  const started = process.hrtime.bigint();
  const child = track(
    spawn(argv[0], argv[1], { env, cwd, stdio: ["ignore", "pipe", "pipe"], detached: true }),
  );
  let stderr = "";
  child.stdout.on("data", (chunk) => onStdout?.(chunk));
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-65_536);
  });
  const done = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const usage = gnuTime && existsSync(timeFile) ? readRusage(timeFile) : undefined;
      rmSync(timeFile, { force: true });
      resolve({ wallMs, ...usage, code, signal, stderr });
    });
  });
  return {
    child,
    done,
    stop(signal = "SIGINT") {
      killGroup(child, signal);
      return done;
    },
  };
}

/** The children still running, so that an interrupted bench leaves none behind. */
const running = new Set();

/** Registers a child until it ends; `group`: it leads its own process group (spawned detached). */
export function track(child, group = true) {
  const entry = { child, group };
  running.add(entry);
  child.on("close", () => running.delete(entry));
  return child;
}

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Kills every child still running (and, for those in their own group, what they started). */
export function killAll(signal = "SIGKILL") {
  for (const { child, group } of running) {
    if (group) killGroup(child, signal);
    else child.kill(signal);
  }
}

/** CPU time (user + system, ms) and memory (KiB) of a running process, from /proc. */
export function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { cpuMs: (ticks * 1000) / clockTicks, rssKiB: kib("VmRSS"), peakRssKiB: kib("VmHWM") };
}

const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

export function median(values) {
  const numbers = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (numbers.length === 0) return null;
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The median of each measured quantity over the samples. */
export function summarize(samples) {
  return {
    runs: samples.length,
    wallMs: median(samples.map((s) => s.wallMs)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    maxRssKiB: median(samples.map((s) => s.maxRssKiB)),
    minWallMs: samples.length ? Math.min(...samples.map((s) => s.wallMs)) : null,
  };
}

export function ratio(a, b) {
  return typeof a === "number" && typeof b === "number" && b > 0 ? a / b : null;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
