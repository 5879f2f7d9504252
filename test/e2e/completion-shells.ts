// kvmig's completion in the real shells: a private home in a temp dir (HOME, ZDOTDIR, the XDG
// directories, INPUTRC) so that no dotfile of the user's gets in, `kvmig`, `kubectl-kvmig` and
// `kubectl_complete-kvmig` on PATH as links to dist/kvmig.js, the scripts `kvmig completion SHELL`
// prints (and kubectl's, for `kubectl kvmig <Tab>`), and a simulated cluster behind KUBECONFIG.
// Interactive bash, zsh and fish run under tmux: the test types a line, presses Tab and reads the
// screen; fish is also asked with its own complete -C.
// A missing shell or tool fails the test (CI installs them with scripts/test-tools.sh).
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl } from "../helpers/kubectl.js";
import { shQuote, TmuxSession } from "../helpers/terminals.js";
import { distEntry, ensureBuilt, lines, nodeDir, runProcess } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

export type Shell = "bash" | "zsh" | "fish";

/** bash-completion's main script: kubectl's bash completion script needs its _init_completion. */
export const bashCompletion = "/usr/share/bash-completion/bash_completion";

function commandExists(name: string): boolean {
  try {
    execFileSync("sh", ["-c", 'command -v "$1"', "sh", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Fails, never skips, when a tool the test runs is missing: CI installs them all. */
export function requireTool(name: string, present = commandExists(name)): void {
  if (!present)
    throw new Error(
      `${name} is not installed: scripts/test-tools.sh installs it (CI runs it before the tests, so no completion test is skipped)`,
    );
}

/** The prompt of the interactive shells: the screen's lines that start with it are command lines. */
export const prompt = "kv> ";
/** A command line on the screen (which strips the spaces a line ends with). */
const isCommandLine = (row: string) => row.startsWith(prompt) || row === prompt.trimEnd();

export interface ShellLab {
  sim: SimCli;
  dir: string;
  /** The environment of every shell: PATH, the private home, KUBECONFIG, TERM. */
  env: Record<string, string>;
  /** The script `kvmig completion SHELL` printed, as a file. */
  script: Record<Shell, string>;
  /** kubectl's completion script for a shell (`kubectl completion SHELL`), as a file; undefined without kubectl. */
  kubectlScript(shell: Shell): Promise<string | undefined>;
  /** The real kubectl, or undefined (the kubectl tests warn and are skipped, as elsewhere). */
  kubectl: string | undefined;
  /** Names of stored objects (VMIs in a namespace, namespaces), sorted. */
  names(storage: string, namespace?: string): string[];
  close(): Promise<void>;
}

export async function shellLab(): Promise<ShellLab> {
  await ensureBuilt();
  const sim = await simCli();
  const dir = tempDir("kvmig-e2e-shells-");
  const bin = join(dir, "bin");
  const home = join(dir, "home");
  mkdirSync(bin);
  mkdirSync(join(home, "bin"), { recursive: true });
  // ~/bin/kvmig, off PATH: typed with its ~, which the script must expand to run it.
  symlinkSync(distEntry, join(home, "bin", "kvmig"));
  // ~/fake/kvmig: a stand-in whose __complete offers fixed values, for what the scripts do with
  // them whatever kvmig's candidates are.
  mkdirSync(join(home, "fake"));
  writeFileSync(
    join(home, "fake", "kvmig"),
    [
      "#!/bin/sh",
      '[ "$1" = __complete ] || exit 1',
      'for last in "$@"; do :; done',
      'for value in yaml jsonpath-as-json=; do case $value in "$last"*) echo "$value" ;; esac; done',
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  for (const name of ["kvmig", "kubectl-kvmig", "kubectl_complete-kvmig"])
    symlinkSync(distEntry, join(bin, name));
  const kubectl = findKubectl();
  const path = [bin, nodeDir, ...(kubectl ? [dirname(kubectl)] : []), "/usr/local/bin", "/usr/bin", "/bin"];
  const env: Record<string, string> = {
    PATH: [...new Set(path)].join(":"),
    HOME: home,
    ZDOTDIR: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    INPUTRC: join(home, ".inputrc"),
    KUBECONFIG: sim.kubeconfig,
    TERM: "screen",
    LANG: "C.UTF-8",
    NO_COLOR: "1",
  };
  const script = {} as Record<Shell, string>;
  for (const shell of ["bash", "zsh", "fish"] as const) {
    const printed = await runProcess(["completion", shell], { command: join(bin, "kvmig"), env });
    expect(printed).toMatchObject({ code: 0, stderr: "" });
    script[shell] = join(dir, `kvmig.${shell}`);
    writeFileSync(script[shell], printed.stdout);
  }
  const kubectlScripts = new Map<Shell, string>();
  return {
    sim,
    dir,
    env,
    script,
    kubectl,
    async kubectlScript(shell) {
      if (!kubectl) return undefined;
      const known = kubectlScripts.get(shell);
      if (known) return known;
      const printed = await runProcess(["completion", shell], { command: kubectl, env });
      expect(printed.code).toBe(0);
      const file = join(dir, `kubectl.${shell}`);
      writeFileSync(file, printed.stdout);
      kubectlScripts.set(shell, file);
      return file;
    },
    names: (storage, namespace) =>
      // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
      (sim.cluster.store.list(storage, namespace) as any[]).map((o) => o.metadata.name as string).sort(),
    close: async () => {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A kubeconfig whose context names need quoting or have colons (the cluster behind it is never asked). */
export function awkwardKubeconfig(dir: string): { path: string; contexts: string[] } {
  const contexts = ["arn:aws:eks:eu-west-1:123:cluster/prod", "my lab", "it's"];
  const path = join(dir, "awkward-kubeconfig");
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "contexts:",
      ...contexts.flatMap((name) => [`- name: ${JSON.stringify(name)}`, "  context: {cluster: c, user: u}"]),
      "",
    ].join("\n"),
  );
  return { path, contexts };
}

/** fish's own completion of a line: `complete -C LINE` after sourcing `scripts`; the candidates, descriptions cut. */
export async function fishComplete(lab: ShellLab, line: string, scripts: string[] = [lab.script.fish]) {
  requireTool("fish");
  const result = await runProcess(
    ["--no-config", "-c", "for s in $argv[2..]; source $s; end; complete -C $argv[1]", line, ...scripts],
    { command: "fish", env: lab.env, timeoutMs: 30_000 },
  );
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return lines(result.stdout).map((l) => l.split("\t")[0] ?? "");
}

/** An interactive bash, zsh or fish under tmux, started with a private rc file that loads `scripts`. */
export class InteractiveShell {
  private constructor(
    readonly shell: Shell,
    readonly tmux: TmuxSession,
  ) {}

  /**
   * Starts `shell` whose rc file runs `preamble` (zsh: before compinit), then sources `scripts`;
   * in its own directory under the lab's, where the rc files are too.
   */
  static async start(
    lab: ShellLab,
    shell: Shell,
    scripts: string[],
    preamble: string[] = [],
  ): Promise<InteractiveShell> {
    requireTool(shell);
    requireTool("tmux", await TmuxSession.available());
    const rcDir = mkdtempSync(join(lab.dir, `${shell}-`));
    let command: string[];
    if (shell === "bash") {
      const sources = [...preamble, ...scripts.map((s) => `source ${shQuote(s)}`)];
      // Ambiguous: list at once (no second Tab), never ask, no pager, no bell.
      const inputrc = join(rcDir, ".inputrc");
      writeFileSync(
        inputrc,
        "set show-all-if-ambiguous on\nset completion-query-items 0\nset page-completions off\nset bell-style none\n",
      );
      const rc = join(rcDir, ".bashrc");
      writeFileSync(rc, [`PS1=${shQuote(prompt)}`, "unset PROMPT_COMMAND", ...sources, ""].join("\n"));
      command = ["bash", "--noprofile", "--rcfile", rc, "-i"];
      return InteractiveShell.#launch(lab, shell, rcDir, command, { INPUTRC: inputrc });
    }
    if (shell === "fish") {
      // Its own configuration directory: no greeting, no suggestion drawn after the cursor, the prompt.
      const config = join(rcDir, "config");
      mkdirSync(join(config, "fish"), { recursive: true });
      writeFileSync(
        join(config, "fish", "config.fish"),
        [
          "set -g fish_greeting ''",
          "set -g fish_autosuggestion_enabled 0",
          `function fish_prompt; printf '%s' ${shQuote(prompt)}; end`,
          "function fish_right_prompt; end",
          ...preamble,
          ...scripts.map((s) => `source ${shQuote(s)}`),
          "",
        ].join("\n"),
      );
      return InteractiveShell.#launch(lab, shell, rcDir, ["fish"], { XDG_CONFIG_HOME: config });
    }
    writeFileSync(
      join(rcDir, ".zshrc"),
      [
        `PROMPT=${shQuote(prompt)}`,
        "RPROMPT=''",
        "unsetopt BEEP",
        ...preamble,
        'autoload -Uz compinit && compinit -u -d "$ZDOTDIR/.zcompdump"',
        ...scripts.map((s) => `source ${shQuote(s)}`),
        "",
      ].join("\n"),
    );
    // -d: not the system's rc files either (a distribution's may load its own completions).
    command = ["zsh", "-d", "-i"];
    return InteractiveShell.#launch(lab, shell, rcDir, command, { ZDOTDIR: rcDir });
  }

  static async #launch(
    lab: ShellLab,
    shell: Shell,
    dir: string,
    command: string[],
    extraEnv: Record<string, string>,
  ): Promise<InteractiveShell> {
    const env = Object.entries({ ...lab.env, ...extraEnv }).map(([k, v]) => `${k}=${v}`);
    const t = new TmuxSession(`completion-${shell}`);
    // In an empty directory: a file name offered instead of a candidate is not taken for one.
    const cwd = join(dir, "cwd");
    mkdirSync(cwd);
    await t.start(
      `cd ${shQuote(cwd)} && exec ${["env", "-i", ...env, ...command].map(shQuote).join(" ")}`,
      160,
      40,
    );
    const session = new InteractiveShell(shell, t);
    try {
      await t.waitFor((screen) => screen.split("\n").some(isCommandLine), `${shell}'s prompt`, 30_000);
    } catch (error) {
      await t.kill();
      throw error;
    }
    return session;
  }

  /**
   * Clears the line and the screen, types `line`, presses Tab, and returns the screen once
   * `done` holds for it (polled, with a generous deadline for a loaded machine).
   */
  async tab(line: string, done: (screen: string) => boolean, what: string): Promise<string> {
    await this.tmux.press("C-u", "C-l");
    await this.tmux.waitFor((screen) => screen.trim() === prompt.trim(), "a cleared screen", 30_000);
    await this.tmux.type(line);
    await this.tmux.waitFor(
      (screen) => commandLine(screen) === `${prompt}${line}`.trimEnd(),
      "the typed line",
      30_000,
    );
    await this.tmux.press("Tab");
    return this.tmux.waitFor(done, what, 30_000);
  }

  kill(): Promise<void> {
    return this.tmux.kill();
  }
}

/** The first command line on the screen (the prompt and what is typed after it). */
export function commandLine(screen: string): string | undefined {
  return screen.split("\n").find(isCommandLine);
}

/**
 * The candidates the shell listed under the first command line: the words of the lines up to the
 * next command line (bash draws the prompt again below its list, zsh does not), in columns at
 * least two spaces apart (a space inside a candidate is escaped: one).
 */
export function listed(screen: string): string[] {
  const rows = screen.split("\n");
  const first = rows.findIndex(isCommandLine);
  const words: string[] = [];
  for (const row of rows.slice(first + 1)) {
    if (isCommandLine(row)) break;
    words.push(
      ...row
        .trim()
        .split(/\s{2,}/)
        .filter(Boolean),
    );
  }
  return words.sort();
}

/** Whether the shell has listed every one of `words`. */
export function listedAll(screen: string, words: readonly string[]): boolean {
  const shown = listed(screen);
  return words.every((w) => shown.includes(w));
}

/**
 * The cases every interactive shell must get right, typed for real: command names, a command's
 * flags, VM names from the simulated cluster, namespaces after -n, -o's values, context names that
 * need quoting or have colons, and `kubectl kvmig` through kubectl's own completion script.
 */
export function interactiveCompletionTests(shell: Shell): void {
  // Each case takes well under a second here; the deadlines are for CI's loaded machine, where
  // a wait that runs out shows the screen it last read.
  vi.setConfig({ testTimeout: 90_000 });
  let lab: ShellLab;
  beforeAll(async () => {
    lab = await shellLab();
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  describe(`${shell}: kvmig <Tab>`, () => {
    let sh: InteractiveShell | undefined;
    beforeAll(async () => {
      sh = await InteractiveShell.start(lab, shell, [lab.script[shell]]);
    }, 60_000);
    afterAll(async () => {
      await sh?.kill();
    });
    const tab = (line: string, done: (screen: string) => boolean, what: string) => {
      if (!sh) throw new Error(`${shell} did not start`);
      return sh.tab(line, done, what);
    };
    const lineIs = (expected: string) => (screen: string) => commandLine(screen) === `${prompt}${expected}`;

    it(`the script parses (${shell} -n)`, () => {
      expect(() => execFileSync(shell, ["-n", lab.script[shell]], { stdio: "pipe" })).not.toThrow();
    });

    it("kvmig mig<Tab>: the command name is completed", async () => {
      const screen = await tab(
        "kvmig mig",
        (s) => /^kvmig migrate\b/.test(commandLine(s)?.slice(prompt.length) ?? ""),
        "migrate",
      );
      expect(commandLine(screen)).toMatch(/^kv> kvmig migrate(\s|$)/);
    });

    it("kvmig <Tab>: the commands, not the hidden __complete", async () => {
      const commands = ["migrate", "watch", "cancel", "evacuate", "diagnose", "completion"];
      const screen = await tab("kvmig ", (s) => listedAll(s, commands), "the commands listed");
      expect(listed(screen)).toEqual(expect.arrayContaining(commands));
      expect(listed(screen)).not.toContain("__complete");
    });

    it("kvmig migrate --<Tab>: migrate's flags and the global ones, not another command's", async () => {
      const flags = ["--target-node", "--namespace", "--dry-run", "--output", "--context"];
      const screen = await tab("kvmig migrate --", (s) => listedAll(s, flags), "migrate's flags listed");
      expect(listed(screen)).toEqual(expect.arrayContaining(flags));
      expect(listed(screen)).not.toContain("--from"); // diagnose's
    });

    it("kvmig migrate -n demo <Tab>: the VMs of demo in the simulated cluster", async () => {
      const vms = lab.names(R.vmi.storage, "demo");
      expect(vms).toContain("fedora-web");
      const screen = await tab("kvmig migrate -n demo ", (s) => listedAll(s, vms), "demo's VMs listed");
      expect(listed(screen)).toEqual(vms);
    });

    it("kvmig migrate -n demo fed<Tab>: the one VM that matches is inserted", async () => {
      const screen = await tab(
        "kvmig migrate -n demo fed",
        lineIs("kvmig migrate -n demo fedora-web"),
        "fedora-web",
      );
      expect(listed(screen)).toEqual([]);
    });

    it("~/bin/kvmig migrate -n demo fed<Tab>: a kvmig off PATH, typed with ~", async () => {
      await tab(
        "~/bin/kvmig migrate -n demo fed",
        lineIs("~/bin/kvmig migrate -n demo fedora-web"),
        "fedora-web",
      );
    });

    it("a value that ends in = (-o jsonpath=): no space after it, for the rest of the word; other values get one", async () => {
      await tab(
        "~/fake/kvmig -o jsonpath-",
        lineIs("~/fake/kvmig -o jsonpath-as-json="),
        "jsonpath-as-json=",
      );
      await sh?.tmux.type("{");
      await sh?.tmux.waitFor(lineIs("~/fake/kvmig -o jsonpath-as-json={"), "{ right after the =", 30_000);
      await tab("~/fake/kvmig -o ya", lineIs("~/fake/kvmig -o yaml"), "yaml");
      await sh?.tmux.type("X");
      await sh?.tmux.waitFor(lineIs("~/fake/kvmig -o yaml X"), "X after a space", 30_000);
    });

    it("kvmig migrate -n <Tab>: the namespaces of the cluster", async () => {
      const namespaces = lab.names("namespaces");
      expect(namespaces).toContain("demo");
      const screen = await tab("kvmig migrate -n ", (s) => listedAll(s, namespaces), "the namespaces listed");
      expect(listed(screen)).toEqual(namespaces);
    });

    it("kvmig migrate -o <Tab>: the output formats (wide only where a command has a table)", async () => {
      const screen = await tab(
        "kvmig migrate -o ",
        (s) => listedAll(s, ["json", "yaml", "text"]),
        "the formats",
      );
      expect(listed(screen)).toEqual(expect.arrayContaining(["json", "yaml", "text"]));
      expect(listed(screen)).not.toContain("wide");
    });

    describe("paths: where kvmig has no candidate, the shell's own", () => {
      let paths: string;
      beforeAll(() => {
        paths = join(lab.dir, "tab-paths");
        mkdirSync(join(paths, "dumps"), { recursive: true });
        writeFileSync(join(paths, "config.yaml"), "");
      });

      it("--kubeconfig PATH<Tab>, --kubeconfig=PATH<Tab>: file names", async () => {
        await tab(
          `kvmig --kubeconfig ${paths}/c`,
          lineIs(`kvmig --kubeconfig ${paths}/config.yaml`),
          "config.yaml",
        );
        await tab(
          `kvmig --kubeconfig=${paths}/c`,
          lineIs(`kvmig --kubeconfig=${paths}/config.yaml`),
          "config.yaml",
        );
      });

      it("diagnose --from PATH<Tab>, --from=PATH<Tab>: directories only", async () => {
        await tab(
          `kvmig diagnose --from ${paths}/`,
          lineIs(`kvmig diagnose --from ${paths}/dumps/`),
          "dumps/",
        );
        await tab(
          `kvmig diagnose --from=${paths}/`,
          lineIs(`kvmig diagnose --from=${paths}/dumps/`),
          "dumps/",
        );
      });
    });

    describe("context names that need quoting, or have colons", () => {
      let kubeconfig: string;
      beforeAll(() => {
        kubeconfig = awkwardKubeconfig(lab.dir).path;
      });

      it("--context <Tab>: all three listed (bash and zsh show them quoted, fish as they are)", async () => {
        const screen = await tab(
          `kvmig --kubeconfig ${kubeconfig} --context `,
          (s) => listed(s).length === 3,
          "three contexts",
        );
        const shown = shell === "fish" ? ["it's", "my lab"] : ["it\\'s", "my\\ lab"];
        expect(listed(screen)).toEqual(["arn:aws:eks:eu-west-1:123:cluster/prod", ...shown]);
      });

      it("a space in the name: escaped when typed bare, inside the quotes when one was opened", async () => {
        const bare = `kvmig --kubeconfig ${kubeconfig} --context m`;
        await tab(bare, lineIs(`${bare}y\\ lab`), "my\\ lab");
        const quoted = `kvmig --kubeconfig ${kubeconfig} --context 'm`;
        await tab(quoted, lineIs(`${quoted}y lab'`), "'my lab'");
        const escaped = `kvmig --kubeconfig ${kubeconfig} --context my\\ l`;
        await tab(escaped, lineIs(`${escaped}ab`), "my\\ lab from my\\ l");
      });

      it("a quote in the name: escaped", async () => {
        const line = `kvmig --kubeconfig ${kubeconfig} --context it`;
        await tab(line, lineIs(`${line}\\'s`), "it\\'s");
        const joined = `kvmig --kubeconfig ${kubeconfig} --context=it`;
        await tab(joined, lineIs(`${joined}\\'s`), "--context=it\\'s");
      });

      it("colons in the name: the whole name, not what follows the last colon twice", async () => {
        const line = `kvmig --kubeconfig ${kubeconfig} --context arn:aws:eks:eu`;
        await tab(
          line,
          lineIs(`kvmig --kubeconfig ${kubeconfig} --context arn:aws:eks:eu-west-1:123:cluster/prod`),
          "the ARN",
        );
      });
    });
  });

  describe(`${shell}: the script installed where the README says, loaded on the first Tab`, () => {
    let sh: InteractiveShell | undefined;
    beforeAll(async () => {
      const printed = readFileSync(lab.script[shell], "utf8");
      if (shell === "zsh") {
        // kvmig completion zsh > "${fpath[1]}/_kvmig": compinit autoloads it by its #compdef line.
        const functions = join(lab.dir, "zsh-functions");
        mkdirSync(functions);
        writeFileSync(join(functions, "_kvmig"), printed);
        sh = await InteractiveShell.start(lab, shell, [], [`fpath=(${shQuote(functions)} $fpath)`]);
      } else if (shell === "fish") {
        // kvmig completion fish > ~/.config/fish/completions/kvmig.fish: fish autoloads it from
        // $fish_complete_path, where that directory is, by the command's name.
        const completions = join(lab.dir, "fish-completions");
        mkdirSync(completions);
        writeFileSync(join(completions, "kvmig.fish"), printed);
        sh = await InteractiveShell.start(
          lab,
          shell,
          [],
          [`set -p fish_complete_path ${shQuote(completions)}`],
        );
      } else {
        // kvmig completion bash > ~/.local/share/bash-completion/completions/kvmig: bash-completion
        // loads it the first time kvmig is completed.
        requireTool("bash-completion", existsSync(bashCompletion));
        const completions = join(lab.env.XDG_DATA_HOME ?? "", "bash-completion", "completions");
        mkdirSync(completions, { recursive: true });
        writeFileSync(join(completions, "kvmig"), printed);
        sh = await InteractiveShell.start(lab, shell, [], [`source ${shQuote(bashCompletion)}`]);
      }
    }, 60_000);
    afterAll(async () => {
      await sh?.kill();
    });

    it("kvmig migrate -n demo <Tab>: the VMs of demo", async () => {
      if (!sh) throw new Error(`${shell} did not start`);
      const vms = lab.names(R.vmi.storage, "demo");
      const screen = await sh.tab("kvmig migrate -n demo ", (s) => listedAll(s, vms), "demo's VMs listed");
      expect(listed(screen)).toEqual(vms);
    });
  });

  if (!findKubectl())
    console.warn(
      `kubectl is neither on PATH nor at /usr/bin/kubectl: skipping kubectl kvmig <Tab> in ${shell}`,
    );
  describe(`${shell}: kubectl kvmig <Tab>, through kubectl's completion script and kubectl_complete-kvmig`, () => {
    let sh: InteractiveShell | undefined;
    beforeAll(async () => {
      if (!lab.kubectl) return;
      const kubectlScript = await lab.kubectlScript(shell);
      if (!kubectlScript) return;
      // kubectl's bash script needs bash-completion's _init_completion; zsh's, compinit (in the rc).
      if (shell === "bash") requireTool("bash-completion", existsSync(bashCompletion));
      const scripts = [...(shell === "bash" ? [bashCompletion] : []), lab.script[shell], kubectlScript];
      sh = await InteractiveShell.start(lab, shell, scripts);
    }, 60_000);
    afterAll(async () => {
      await sh?.kill();
    });

    it.skipIf(!findKubectl())("kubectl kvmig mig<Tab>: kvmig's command name", async () => {
      if (!sh) throw new Error(`${shell} did not start`);
      const screen = await sh.tab(
        "kubectl kvmig mig",
        (s) => /^kubectl kvmig migrate\b/.test(commandLine(s)?.slice(prompt.length) ?? ""),
        "migrate",
      );
      expect(commandLine(screen)).toMatch(/^kv> kubectl kvmig migrate(\s|$)/);
    });

    it.skipIf(!findKubectl())("kubectl kvmig migrate -n demo <Tab>: the VMs of demo", async () => {
      if (!sh) throw new Error(`${shell} did not start`);
      const vms = lab.names(R.vmi.storage, "demo");
      const screen = await sh.tab(
        "kubectl kvmig migrate -n demo ",
        (s) => listedAll(s, vms),
        "demo's VMs listed",
      );
      expect(listed(screen)).toEqual(vms);
    });
  });
}
