// Running the built CLI with and without a terminal, for end-to-end tests: with stdin closed (a
// script, a CI job), under a pseudo-terminal made by util-linux script(1), and inside a detached
// tmux session whose screen the test reads and types into.
import { execFile, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** How the child's stdin is given: a pipe ended at once, or /dev/null. */
export type StdinMode = "closed pipe" | "/dev/null";

export interface BoundedResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the kill timer fired: the process did not end by itself. */
  killed: boolean;
  elapsedMs: number;
}

/**
 * Runs `command args` without a terminal anywhere (stdin closed, stdout and stderr pipes), and
 * kills it with SIGKILL after `killAfterMs`: a process waiting on a prompt shows up as killed.
 */
export function runWithoutTerminal(
  command: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string; stdin: StdinMode; killAfterMs: number },
): Promise<BoundedResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.stdin === "closed pipe" ? "pipe" : "ignore", "pipe", "pipe"],
      // Its own process group, so that the kill reaches what it started (which may hold the pipes).
      detached: true,
    });
    if (child.stdin) {
      // The child may be gone before the end reaches it.
      child.stdin.on("error", () => {});
      child.stdin.end();
    }
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, options.killAfterMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (c: Buffer) => out.push(c));
    child.stderr?.on("data", (c: Buffer) => err.push(c));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        killed,
        elapsedMs: Date.now() - started,
      });
    });
  });
}

/** Quotes a word for sh. */
export function shQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export const scriptPath = "/usr/bin/script";

/** Whether util-linux script(1) is there to make a pseudo-terminal. */
export function hasScript(): boolean {
  return existsSync(scriptPath);
}

export interface PtyResult {
  code: number | null;
  /** Everything written to the terminal (stdout and stderr, unless the shell line redirects one). */
  screen: string;
  killed: boolean;
}

/**
 * Runs a shell line on a pseudo-terminal (stdin, stdout and stderr are all the terminal) of
 * `columns` columns, with exactly `env` as the environment. The result's code is the line's.
 */
export function runInPty(
  shellLine: string,
  options: { env: Record<string, string>; cwd?: string; columns?: number; killAfterMs?: number },
): Promise<PtyResult> {
  const columns = options.columns ?? 100;
  return runWithoutTerminal(
    scriptPath,
    ["-q", "-e", "-f", "-c", `stty cols ${columns}; ${shellLine}`, "/dev/null"],
    {
      env: options.env,
      cwd: options.cwd,
      stdin: "/dev/null",
      killAfterMs: options.killAfterMs ?? 30_000,
    },
  ).then((r) => ({ code: r.code, screen: r.stdout + r.stderr, killed: r.killed }));
}

/** A detached tmux server on its own socket, one session, whose pane the test reads and types into. */
export class TmuxSession {
  readonly socket: string;
  readonly session = "kvmig";

  constructor(label: string) {
    this.socket = `kvmig-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  static async available(): Promise<boolean> {
    try {
      await execFileAsync("tmux", ["-V"]);
      return true;
    } catch {
      return false;
    }
  }

  #tmux(args: string[]) {
    return execFileAsync("tmux", ["-L", this.socket, "-f", "/dev/null", ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm-256color", SHELL: "/bin/sh" },
    });
  }

  /** Starts the session running a shell line on a `columns`×`rows` screen. */
  async start(shellLine: string, columns = 100, rows = 30): Promise<void> {
    await this.#tmux([
      "new-session",
      "-d",
      "-s",
      this.session,
      "-x",
      String(columns),
      "-y",
      String(rows),
      shellLine,
    ]);
  }

  /**
   * The visible screen, as text: lines the terminal wrapped are joined again (-J). With
   * `attributes`, each cell's colours and bold/dim come as SGR escape sequences (-e); with
   * `history`, the lines scrolled off the top come first (-S -).
   */
  async screen(attributes = false, history = false): Promise<string> {
    const flags = [...(attributes ? ["-e"] : []), ...(history ? ["-S", "-"] : [])];
    const { stdout } = await this.#tmux(["capture-pane", "-p", "-J", ...flags, "-t", this.session]);
    return stdout.replace(/[ \t]+$/gm, "");
  }

  /** Polls the screen until `check` holds; throws with the last screen after `timeoutMs`. */
  async waitFor(check: (screen: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      last = await this.screen();
      if (check(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${last}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Types text as it is (no key names; a leading - is text too). */
  async type(text: string): Promise<void> {
    await this.#tmux(["send-keys", "-t", this.session, "-l", "--", text]);
  }

  /** Presses keys by tmux's names: Enter, Down, C-c. */
  async press(...keys: string[]): Promise<void> {
    await this.#tmux(["send-keys", "-t", this.session, ...keys]);
  }

  /** Resizes the window, as a person dragging the terminal's edge does. */
  async resize(columns: number, rows = 30): Promise<void> {
    await this.#tmux(["resize-window", "-t", this.session, "-x", String(columns), "-y", String(rows)]);
  }

  /** Ends the tmux server (and what runs in it); fine when it is already gone. */
  async kill(): Promise<void> {
    await this.#tmux(["kill-server"]).catch(() => {});
    // The server leaves its socket file behind: /tmp/tmux-UID/NAME (the client gets no TMUX_TMPDIR).
    rmSync(join("/tmp", `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}
