// kvmig completion SHELL: prints the completion script for bash, zsh or fish. And the hidden
// `__complete -- WORDS...` the scripts call on every Tab: the candidates for the last word, one
// per line (with --cobra, in the format kubectl expects from kubectl_complete-kvmig). A completion
// never prints an error: whatever fails, it prints nothing and exits 0. What the actions need is
// loaded when they run, so the definitions here stay part of the light program skeleton.

import { Argument, Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { examples } from "../cli-tree/command.js";
import { type Shell, shells } from "../completion/shells.js";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";

/** Cobra's ShellCompDirective bits: what kubectl's shell does when no candidate is given. */
const cobraDirective = {
  none: 4 /* NoFileComp */,
  files: 0 /* Default */,
  dirs: 16 /* FilterDirs */,
} as const;

function parseShell(programName: string) {
  return (value: string): Shell => {
    const shell = shells.find((s) => s === value);
    if (shell) return shell;
    throw new UsageError(`unknown shell "${value}"`, {
      hint: `the shells are bash, zsh and fish, e.g. ${programName} completion bash`,
    });
  };
}

/** How to load each script; bash's line for this shell comes first, as it does not start with kvmig. */
function loadingHelp(name: string): string {
  const loadNow = `\nLoad it in this shell:\n  source <(${name} completion bash)      # bash\n  ${name} completion fish | source       # fish\n`;
  return `${loadNow}${examples(
    [
      ["completion bash > ~/.local/share/bash-completion/completions/kvmig", "bash, every new shell"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh's ${fpath[1]}, printed as is.
      ['completion zsh > "${fpath[1]}/_kvmig"', "zsh, every new shell (compinit must be on)"],
      ["completion fish > ~/.config/fish/completions/kvmig.fish", "fish, every new shell"],
    ],
    name,
  )}`;
}

function completionCommand(program: CommandUnknownOpts, ctx: Context) {
  const name = ctx.programName;
  return new Command("completion")
    .description("Print the shell completion script: commands, flags, and VM names from the cluster")
    .addArgument(new Argument("<shell>", "the shell").choices(shells).argParser(parseShell(name)))
    .addHelpText(
      "after",
      `${loadingHelp(name)}
As a kubectl plugin (kubectl 1.26+), \`kubectl kvmig <Tab>\` completes through
kubectl_complete-kvmig, which comes with kvmig: it only needs to be on PATH.
`,
    )
    .action(async (shell) => {
      const [{ completionScript }, { pathFlags }] = await Promise.all([
        import("../completion/scripts.js"),
        import("../completion/candidates.js"),
      ]);
      ctx.io.stdout.write(completionScript(shell, pathFlags(program)));
    });
}

function completeCommand(program: CommandUnknownOpts, ctx: Context) {
  return new Command("__complete")
    .description("print the candidates for the last of WORDS, one per line (for the completion scripts)")
    .argument("[words...]", "the words of the command line after the program name, the last one partial")
    .option("--cobra", "cobra's format, for kubectl: bare --flag= values, then a :DIRECTIVE line", false)
    .action(async (words, flags) => {
      let out: string[];
      try {
        const [{ complete }, { liveSources }] = await Promise.all([
          import("../completion/candidates.js"),
          import("../completion/sources.js"),
        ]);
        const reply = await complete(program, words, liveSources(ctx), { home: ctx.env.HOME });
        // A value that ends in = (-o jsonpath=) is followed by more of the word: no space after it.
        const noSpace = reply.bare.length > 0 && reply.bare.every((word) => word.endsWith("=")) ? 2 : 0;
        out = flags.cobra
          ? [...reply.bare, `:${cobraDirective[reply.fallback] | noSpace}`]
          : reply.candidates;
      } catch {
        // A completion prints candidates or nothing: never an error under the prompt.
        out = [];
      }
      if (out.length > 0) ctx.io.stdout.write(`${out.join("\n")}\n`);
    });
}

/** Adds `completion` and the hidden `__complete` to the program; both walk the program's commands. */
export function addCompletionCommands(program: CommandUnknownOpts, ctx: Context): void {
  program.addCommand(completionCommand(program, ctx).copyInheritedSettings(program));
  program.addCommand(completeCommand(program, ctx).copyInheritedSettings(program), { hidden: true });
}
