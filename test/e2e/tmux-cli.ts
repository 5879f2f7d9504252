// The built CLI on a real terminal: a detached tmux session running kvmig against a simulated
// cluster, for the tests that read the screen (prompts, redraws, resizes, Ctrl-C).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/kubeconfig.js";
import { shQuote, TmuxSession } from "../helpers/terminals.js";
import { distEntry, nodeDir } from "./built-cli.js";
import type { SimCli } from "./sim-cli.js";

/**
 * Runs kvmig in a new tmux session of `columns`×30; the shell line prints EXIT=<code> when it
 * ends and then keeps the pane open, so that the test can read the end. The caller kills it.
 */
export async function kvmigInTmux(
  s: SimCli,
  label: string,
  args: string[],
  extraEnv: string[] = [],
  columns = 100,
): Promise<TmuxSession> {
  const home = tempDir();
  const kubeconfig = join(home, "kubeconfig");
  writeFileSync(kubeconfig, s.cluster.kubeconfig(), { mode: 0o600 });
  const env = [
    `KUBECONFIG=${kubeconfig}`,
    `HOME=${home}`,
    `PATH=${[nodeDir, "/usr/local/bin", "/usr/bin", "/bin"].join(":")}`,
    "TERM=xterm-256color",
    ...extraEnv,
  ];
  const command = ["env", "-u", "NO_COLOR", "-u", "FORCE_COLOR", ...env, process.execPath, distEntry, ...args]
    .map(shQuote)
    .join(" ");
  const t = new TmuxSession(label);
  // A Ctrl-C on a terminal in cooked mode signals the shell too: the trap keeps it alive to print
  // kvmig's exit code (a trap with a command, unlike an ignored signal, is not passed on to kvmig).
  await t.start(`trap true INT; ${command}; echo EXIT=$?; sleep 30`, columns, 30);
  return t;
}

/** The pane once kvmig has ended (its EXIT=<code> line is on the screen). */
export function ended(t: TmuxSession, timeoutMs = 30_000): Promise<string> {
  return t.waitFor((screen) => /^EXIT=\d+$/m.test(screen), "kvmig to end", timeoutMs);
}
