// The shell scripts `kvmig completion SHELL` prints. Each one hands the words of the line to the
// hidden `kvmig __complete -- WORDS...` and offers what it prints, one candidate per line; when
// it prints nothing (a path, or a cluster out of reach), the shell completes file names.

import type { Shell } from "./shells.js";

export { type Shell, shells } from "./shells.js";

/** The long flags (without `--`) whose value is a file, or a directory: for fish, which needs them up front. */
export interface PathFlags {
  files: readonly string[];
  dirs: readonly string[];
}

/** The command names the scripts register: the binary, and the kubectl plugin binary. */
const commandNames = ["kvmig", "kubectl-kvmig"];

// No dependency on the bash-completion package: the script rejoins `--flag=value` itself (bash
// splits words at the characters of COMP_WORDBREAKS, = and : among them) and works in bash 3.2.
const bash = `# bash completion for kvmig
#   source <(kvmig completion bash)
# or, for every new shell: kvmig completion bash > ~/.local/share/bash-completion/completions/kvmig

_kvmig() {
    local line="\${COMP_LINE:0:COMP_POINT}" rest="" trimmed word piece="" i
    local -a words=()
    if [[ -z $COMP_LINE ]]; then
        words=("\${COMP_WORDS[@]:0:COMP_CWORD+1}")
        piece="\${COMP_WORDS[COMP_CWORD]}"
    else
        # Bash splits --namespace=demo into three words; kvmig wants one. Words with no space
        # between them in the line are joined again.
        rest="$line"
        for ((i = 0; i <= COMP_CWORD; i++)); do
            word="\${COMP_WORDS[i]}"
            trimmed="\${rest#"\${rest%%[![:space:]]*}"}"
            if ((i == COMP_CWORD)) && [[ $word == "$trimmed"* ]]; then
                word="$trimmed" # the cursor may be inside the word: complete what is before it
            fi
            if [[ $trimmed == "$word"* ]]; then
                if ((i > 0 && \${#trimmed} == \${#rest})); then
                    words[\${#words[@]}-1]+="$word"
                else
                    words+=("$word")
                fi
                rest="\${trimmed:\${#word}}"
            else
                words+=("$word")
            fi
            ((i == COMP_CWORD)) && piece="$word"
        done
    fi
    # Bash replaces only the part of the word after its last = or :, so each candidate loses the
    # part before it.
    case $piece in
    *[!=:]* | "") ;;
    *) piece="" ;;
    esac
    local cur="\${words[\${#words[@]}-1]}"
    local prefix="\${cur:0:\${#cur}-\${#piece}}"
    local program="\${COMP_WORDS[0]/#\\~/$HOME}" candidate
    COMPREPLY=()
    while IFS= read -r candidate; do
        if [[ -n $candidate && $candidate == "$prefix"* ]]; then
            COMPREPLY+=("\${candidate:\${#prefix}}")
        fi
    done < <("$program" __complete -- "\${words[@]:1}" 2>/dev/null)
    return 0
}

complete -o default -F _kvmig ${commandNames.join(" ")}
`;

const zsh = `#compdef ${commandNames.join(" ")}
# zsh completion for kvmig
#   source <(kvmig completion zsh)               (after compinit)
# or, for every new shell: kvmig completion zsh > "\${fpath[1]}/_kvmig"

_kvmig() {
    local program=\${words[1]}
    local -a candidates
    candidates=("\${(@f)$(\${~program} __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
    candidates=("\${(@)candidates:#}")
    if (( \${#candidates} )); then
        compadd -- "\${(@)candidates}"
    else
        _files
    fi
}

if [[ "\${funcstack[1]}" == "_kvmig" ]]; then
    _kvmig "$@"
else
    compdef _kvmig ${commandNames.join(" ")}
fi
`;

function fish(paths: PathFlags): string {
  const lines = [
    "# fish completion for kvmig",
    "#   kvmig completion fish | source",
    "# or, for every new shell: kvmig completion fish > ~/.config/fish/completions/kvmig.fish",
    "",
    "function __kvmig_complete",
    "    set -l words (commandline -opc)",
    "    set -l program $words[1]",
    "    set -e words[1]",
    "    # Quoted, an empty current token is still one (empty) word.",
    "    set -l current (commandline -ct)",
    '    command $program __complete -- $words "$current" 2>/dev/null',
    "end",
    "",
  ];
  for (const name of commandNames) {
    lines.push(`complete -c ${name} -f -a '(__kvmig_complete)'`);
    for (const flag of paths.files) lines.push(`complete -c ${name} -l ${flag} -r -F`);
    for (const flag of paths.dirs)
      lines.push(`complete -c ${name} -l ${flag} -r -f -a '(__fish_complete_directories)'`);
  }
  return `${lines.join("\n")}\n`;
}

export function completionScript(shell: Shell, paths: PathFlags): string {
  switch (shell) {
    case "bash":
      return bash;
    case "zsh":
      return zsh;
    case "fish":
      return fish(paths);
  }
}
