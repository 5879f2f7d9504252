// Regenerates the README pictures, docs/screens/<name>.svg, from kvmig's real terminal output:
// for each screen it starts `kvmig sim` (a simulated cluster on loopback) with a fixed seed, runs
// the command under a pseudo-terminal (util-linux `script`, 80x30, TERM=xterm-256color) so kvmig
// draws what a person sees (colours, spinners, tables redrawn in place), replays the bytes in a
// small terminal emulator (screens/terminal.mjs) and draws the final screen as an SVG
// (screens/svg.mjs).
//
//   npm run screens                       builds dist/, then every screen
//   node scripts/screens.mjs --only migrate,version --out /tmp/screens
//
// Needs dist/kvmig.js (npm run build) and `script` from util-linux.
import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderSvg } from "./screens/svg.mjs";
import { Terminal } from "./screens/terminal.mjs";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const entry = join(repoRoot, "dist", "kvmig.js");
const cols = 80;
const rows = 30;
/** The sims use a fixed seed, so names (migration kubevirt-migrate-vm-xxxxx, ...) repeat. */
const seed = "7";

/**
 * The screens. scenario: the sim to run the command against; before: kvmig commands run first
 * (without a terminal), each optionally followed by waiting for a migration phase; args: the
 * command shown (after "kvmig"); exitCode: the exit code it should have (default 0; another one
 * fails the screen, so that an error or a stack trace does not end up in the README).
 * @type {{ name: string, scenario: string, speed?: number, before?: { args: string[],
 *   waitFor?: { namespace: string, vm: string, phase: string } }[], args: string[],
 *   exitCode?: number }[]}
 */
export const screens = [
  {
    name: "migrate",
    scenario: "default",
    args: ["migrate", "fedora-web", "-n", "demo"],
  },
  {
    // One migration that fails (an outdated launcher loses its libvirt connection) and two that
    // succeed, followed together until none is in flight.
    name: "watch",
    scenario: "version-skew",
    before: [
      { args: ["migrate", "api-gateway", "-n", "prod", "--no-wait"] },
      { args: ["migrate", "web-frontend", "-n", "prod", "--no-wait"] },
      { args: ["migrate", "metrics", "-n", "prod", "--no-wait"] },
    ],
    args: ["watch", "-A", "--exit-on-done"],
  },
  {
    // rhel-db (8 GiB, dirtying 220 MiB/s) takes a while: cancelled while it copies memory.
    name: "cancel",
    scenario: "default",
    before: [
      {
        args: ["migrate", "rhel-db", "-n", "demo", "--no-wait"],
        waitFor: { namespace: "demo", vm: "rhel-db", phase: "Running" },
      },
    ],
    args: ["cancel", "rhel-db", "-n", "demo", "--yes"],
  },
  {
    name: "restart",
    scenario: "version-skew",
    args: ["restart", "orders-db", "-n", "prod", "--yes"],
  },
  {
    // The scenario's history holds orders-db's failed migration (47 minutes ago).
    name: "diagnose",
    scenario: "version-skew",
    args: ["diagnose", "orders-db", "-n", "prod"],
    // Exit 7: it found a problem.
    exitCode: 7,
  },
  {
    name: "outdated",
    scenario: "upgrade",
    args: ["outdated", "-A"],
  },
  {
    // Node maintenance: eight VMs move; legacy-rwo (ReadWriteOnce disk) is restarted elsewhere;
    // pinned-cpu's migrations fail on a CPU model mismatch and it is given up after two. Exit 3:
    // a VM is left on the node.
    name: "evacuate",
    scenario: "maintenance",
    speed: 20,
    args: ["evacuate", "node-1", "--restart", "--yes"],
    exitCode: 3,
  },
  {
    name: "version",
    scenario: "default",
    args: ["version"],
  },
];

/** Every child process started here, killed on the way out whatever happens; the same for temp dirs. */
const children = new Set();
const tempDirs = new Set();

function track(child) {
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/** Quotes a word for the shell when it needs it. */
function shellWord(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A small environment: no CI, FORCE_COLOR, NO_COLOR or KUBECONFIG from the caller. */
function baseEnv(home, extra = {}) {
  return {
    PATH: [dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter),
    HOME: home,
    LANG: "C.UTF-8",
    TZ: "UTC",
    SHELL: "/bin/sh",
    ...extra,
  };
}

function waitForExit(child) {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit(child.exitCode);
    else child.on("exit", (code) => resolveExit(code));
  });
}

/** Starts `kvmig sim` and resolves once it serves and its kubeconfig is written. */
async function startSim(scenario, kubeconfig, home, speed) {
  const args = [entry, "sim", "--scenario", scenario, "--port", "0", "--kubeconfig-out", kubeconfig];
  args.push("--seed", seed);
  if (speed !== undefined) args.push("--speed", String(speed));
  const child = track(
    spawn(process.execPath, args, {
      cwd: repoRoot,
      env: baseEnv(home, { NO_COLOR: "1" }),
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 30_000;
  while (!(output.includes("export KUBECONFIG=") && existsSync(kubeconfig))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `kvmig sim --scenario ${scenario} exited (${child.exitCode ?? child.signalCode}):\n${output}`,
      );
    if (Date.now() > deadline)
      throw new Error(`kvmig sim --scenario ${scenario} did not start within 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await waitForExit(child);
  clearTimeout(timer);
}

/** Runs kvmig without a terminal; a failure is an error (these only set the scene). */
function runPlain(args, env) {
  return new Promise((resolveRun, reject) => {
    const child = track(spawn(process.execPath, [entry, ...args], { cwd: repoRoot, env, stdio: "pipe" }));
    let output = "";
    child.stdout.on("data", (c) => {
      output += c;
    });
    child.stderr.on("data", (c) => {
      output += c;
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun(output);
      else reject(new Error(`kvmig ${args.join(" ")} exited ${code}:\n${output}`));
    });
  });
}

/** Waits, by following `kvmig watch -n NS -o json`, until the VM's migration reaches a phase. */
function waitForPhase({ namespace, vm, phase }, env) {
  return new Promise((resolveWait, reject) => {
    const child = track(
      spawn(process.execPath, [entry, "watch", "-n", namespace, "-o", "json"], {
        cwd: repoRoot,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    let buffered = "";
    let stderr = "";
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill("SIGTERM");
      if (error) reject(error);
      else resolveWait();
    };
    const timer = setTimeout(
      () => finish(new Error(`${namespace}/${vm} did not reach ${phase} within 60 s`)),
      60_000,
    );
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        try {
          const event = JSON.parse(line);
          if (event.vm === vm && event.phase === phase) finish();
        } catch {
          // Not a JSON line: ignore it.
        }
      }
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => finish(new Error(`kvmig watch exited ${code} before ${phase}:\n${stderr}`)));
  });
}

/** Runs kvmig under a pseudo-terminal of 80x30 and returns every byte it wrote, and its exit code. */
function capture(args, env) {
  const command = [process.execPath, entry, ...args].map(shellWord).join(" ");
  return new Promise((resolveCapture, reject) => {
    // stdin stays an open pipe, as a terminal's would; script copies nothing from it.
    const child = track(
      spawn("script", ["-qefc", `stty cols ${cols} rows ${rows}; exec ${command}`, "/dev/null"], {
        cwd: repoRoot,
        env,
        stdio: ["pipe", "pipe", "pipe"],
      }),
    );
    const chunks = [];
    let stderr = "";
    child.stdout.on("data", (chunk) => chunks.push(chunk));
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), 120_000);
    child.on("error", (error) =>
      reject(new Error(`cannot run script (util-linux) for the pseudo-terminal: ${error.message}`)),
    );
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      child.stdin.destroy();
      if (signal) reject(new Error(`kvmig ${args.join(" ")} was killed (${signal}) after 120 s`));
      else resolveCapture({ bytes: Buffer.concat(chunks), code, stderr });
    });
  });
}

async function makeScreen(screen, outDir, keepRaw) {
  const started = Date.now();
  const tmp = await mkdtemp(join(tmpdir(), `kvmig-screen-${screen.name}-`));
  tempDirs.add(tmp);
  const home = join(tmp, "home");
  await mkdir(home);
  const kubeconfig = join(tmp, "kubeconfig");
  let sim;
  try {
    sim = await startSim(screen.scenario, kubeconfig, home, screen.speed);
    const plainEnv = baseEnv(home, { KUBECONFIG: kubeconfig, NO_COLOR: "1" });
    for (const step of screen.before ?? []) {
      await runPlain(step.args, plainEnv);
      if (step.waitFor) await waitForPhase(step.waitFor, plainEnv);
    }
    const ttyEnv = baseEnv(home, { KUBECONFIG: kubeconfig, TERM: "xterm-256color" });
    const { bytes, code, stderr } = await capture(screen.args, ttyEnv);
    if (keepRaw) await writeFile(join(outDir, `${screen.name}.raw`), bytes);
    const terminal = new Terminal({ cols, rows }).write(bytes);
    const lines = terminal.lines();
    if (lines.length === 0)
      throw new Error(
        `kvmig ${screen.args.join(" ")} printed nothing (exit ${code})${stderr ? `:\n${stderr}` : ""}`,
      );
    const expected = screen.exitCode ?? 0;
    if (code !== expected)
      throw new Error(
        `kvmig ${screen.args.join(" ")} exited ${code}, not ${expected}; its screen:\n${terminal.text().join("\n")}`,
      );
    const command = ["kvmig", ...screen.args].map(shellWord).join(" ");
    const file = join(outDir, `${screen.name}.svg`);
    await writeFile(file, renderSvg({ command, lines, cols }));
    const notes = [`exit ${code}`, `${lines.length} lines`, `${((Date.now() - started) / 1000).toFixed(1)}s`];
    if (terminal.wraps > 0) notes.push(`WARNING: ${terminal.wraps} wrap(s) at ${cols} columns`);
    return { name: screen.name, file, notes, text: terminal.text() };
  } finally {
    if (sim) await stop(sim);
    await rm(tmp, { recursive: true, force: true });
    tempDirs.delete(tmp);
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      out: { type: "string", default: join(repoRoot, "docs", "screens") },
      print: { type: "boolean", default: false },
      raw: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(`usage: node scripts/screens.mjs [--only NAME[,NAME]] [--out DIR] [--print] [--raw]
--print also prints each screen as plain text (to review it without an SVG viewer)
--raw   also writes the bytes captured from the terminal, as DIR/NAME.raw
screens: ${screens.map((s) => s.name).join(", ")}`);
    return;
  }
  let selected = screens;
  if (values.only !== undefined) {
    const names = values.only.split(",").map((n) => n.trim().replace(/\.svg$/, ""));
    const unknown = names.filter((n) => !screens.some((s) => s.name === n));
    if (unknown.length > 0)
      throw new Error(
        `unknown screen ${unknown.join(", ")}; known: ${screens.map((s) => s.name).join(", ")}`,
      );
    selected = screens.filter((s) => names.includes(s.name));
  }
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`);
  const outDir = resolve(values.out);
  await mkdir(outDir, { recursive: true });

  const started = Date.now();
  // Each screen has its own sim; they mostly wait, so all run at once.
  const results = await Promise.allSettled(selected.map((screen) => makeScreen(screen, outDir, values.raw)));
  let failed = 0;
  for (const [i, result] of results.entries()) {
    if (result.status === "fulfilled") {
      console.log(`${result.value.file}  (${result.value.notes.join(", ")})`);
      if (values.print) console.log(`${result.value.text.map((line) => `  | ${line}`).join("\n")}\n`);
    } else {
      failed++;
      console.error(`error: screen ${selected[i].name}: ${result.reason?.message ?? result.reason}`);
    }
  }
  console.log(
    `${results.length - failed} of ${results.length} screens in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
  if (failed > 0) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  main().catch((error) => {
    console.error(`error: ${error.message}`);
    killAll();
    process.exitCode = 1;
  });
}
