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
const bash = (paths: PathFlags) => `# bash completion for kvmig
#   source <(kvmig completion bash)
# or, for every new shell: kvmig completion bash > ~/.local/share/bash-completion/completions/kvmig

# A word as the command will get it: quotes and backslashes taken out (no expansion). Sets
# __kvmig_word.
__kvmig_dequote() {
    local in="$1" c quote="" i
    __kvmig_word=""
    for ((i = 0; i < \${#in}; i++)); do
        c="\${in:i:1}"
        if [[ $quote == "'" ]]; then
            if [[ $c == "'" ]]; then quote=""; else __kvmig_word+="$c"; fi
        elif [[ $c == "\\\\" ]]; then
            ((i++))
            c="\${in:i:1}"
            # Inside double quotes a backslash escapes only \\ " $ and \`.
            if [[ $quote == '"' ]]; then
                case $c in
                \\\\ | '"' | '$' | '\`') ;;
                *) __kvmig_word+="\\\\" ;;
                esac
            fi
            __kvmig_word+="$c"
        elif [[ $c == '"' ]]; then
            if [[ -n $quote ]]; then quote=""; else quote='"'; fi
        elif [[ $c == "'" ]]; then
            quote="'"
        else
            __kvmig_word+="$c"
        fi
    done
}

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
    __kvmig_dequote "\${cur:0:\${#cur}-\${#piece}}"
    local prefix="$__kvmig_word"
    local program="\${COMP_WORDS[0]/#\\~/$HOME}" candidate
    # kvmig gets the words unquoted; the candidates it gives are unquoted too.
    local -a args=()
    for word in "\${words[@]:1}"; do
        __kvmig_dequote "$word"
        args+=("$__kvmig_word")
    done
    COMPREPLY=()
    while IFS= read -r candidate; do
        if [[ -n $candidate && $candidate == "$prefix"* ]]; then
            candidate="\${candidate:\${#prefix}}"
            # Bash inserts a candidate as it is: after an opening quote it adds the closing one,
            # elsewhere a space or a quote in it must be escaped.
            case $piece in
            \\'* | \\"*) ;;
            *) [[ $candidate == *[!A-Za-z0-9_./:=,@%+-]* ]] && printf -v candidate %q "$candidate" ;;
            esac
            COMPREPLY+=("$candidate")
        fi
    done < <("$program" __complete -- "\${args[@]}" 2>/dev/null)
    # Nothing from kvmig for a directory flag's value: directories (elsewhere bash's default, files).
    if ((\${#COMPREPLY[@]} == 0)); then
        local flag="\${words[\${#words[@]}-2]}" path="$cur"
        if [[ $cur == --*=* ]]; then
            flag="\${cur%%=*}"
            path="\${cur#*=}"
        fi
        case $flag in
        ${alternatives(paths.dirs)})
            __kvmig_dequote "$path"
            while IFS= read -r candidate; do
                COMPREPLY+=("$candidate")
            done < <(compgen -d -- "$__kvmig_word")
            compopt -o filenames 2>/dev/null
            ;;
        esac
    fi
    # A value that ends in = (-o jsonpath=) is followed by more of the word: no space after it
    # (compopt is bash 4's; 3.2 adds the space).
    if ((\${#COMPREPLY[@]} == 1)) && [[ \${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -o default -F _kvmig ${commandNames.join(" ")}
`;

const zsh = (paths: PathFlags) => `#compdef ${commandNames.join(" ")}
# zsh completion for kvmig
#   source <(kvmig completion zsh)               (after compinit)
# or, for every new shell: kvmig completion zsh > "\${fpath[1]}/_kvmig"

_kvmig() {
    local program=\${words[1]}
    local -a candidates
    # kvmig gets the words unquoted ($words holds them as typed), and of the word under the
    # cursor what is before the cursor ($PREFIX, without an opening quote).
    candidates=("\${(@f)$(\${~program} __complete -- "\${(@Q)words[2,CURRENT-1]}" "\${(Q)PREFIX}" 2>/dev/null)}")
    candidates=("\${(@)candidates:#}")
    if (( \${#candidates} )); then
        # A value that ends in = (-o jsonpath=) is followed by more of the word: no space after it.
        compadd -S '' -- "\${(@M)candidates:#*=}"
        compadd -- "\${(@)candidates:#*=}"
    else
        # Nothing from kvmig: a path, or a cluster out of reach. Of --flag=PATH, the path.
        local flag=\${words[CURRENT-1]}
        if [[ $PREFIX == --*=* ]]; then
            flag=\${PREFIX%%=*}
            compset -P '*='
        fi
        case $flag in
        ${alternatives(paths.dirs)}) _files -/ ;;
        *) _files ;;
        esac
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
    "    # ~/bin/kvmig: the token keeps its ~, which command would not find (and would say so).",
    "    set -l program (string replace -r -- '^~(?=/|$)' ~ $words[1])",
    "    command -q $program; or return",
    "    set -e words[1]",
    "    # The token under the cursor as it is typed, unquoted; quoted, an empty one is still one word.",
    "    set -l current (commandline -ct | string unescape)",
    '    command $program __complete -- $words "$current" 2>/dev/null',
    "end",
    "",
    "# Whether the value of the long flag $argv[1] is under the cursor: --FLAG VALUE or --FLAG=VALUE.",
    "function __kvmig_value_of",
    "    set -l words (commandline -opc)",
    '    set -q words[2]; and string match -q -- "--$argv[1]" $words[-1]',
    '    or string match -q -- "--$argv[1]=*" (commandline -ct)',
    "end",
    "",
  ];
  // Files or directories only for those flags' values, not as flags everywhere (a -l rule would
  // offer --from after every command, where kvmig's own candidates are the right flags).
  for (const name of commandNames) {
    lines.push(`complete -c ${name} -f -a '(__kvmig_complete)'`);
    for (const flag of paths.files) lines.push(`complete -c ${name} -n '__kvmig_value_of ${flag}' -F`);
    for (const flag of paths.dirs)
      lines.push(`complete -c ${name} -n '__kvmig_value_of ${flag}' -f -a '(__fish_complete_directories)'`);
  }
  return `${lines.join("\n")}\n`;
}

/** A case pattern for the long flags `names` (one that never matches when there are none). */
function alternatives(names: readonly string[]): string {
  return names.length > 0 ? names.map((name) => `--${name}`).join(" | ") : "--";
}

export function completionScript(shell: Shell, paths: PathFlags): string {
  switch (shell) {
    case "bash":
      return bash(paths);
    case "zsh":
      return zsh(paths);
    case "fish":
      return fish(paths);
  }
}
