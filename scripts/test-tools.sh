#!/usr/bin/env bash
# Installs the tools the test suite runs for real, when they are missing: the shells kvmig's
# completion is driven in (zsh, fish; bash is there), tmux (the shells' interactive completion and
# the VM picker on a terminal), bash-completion (which kubectl's bash completion script needs, for
# `kubectl kvmig <Tab>`), and also shellcheck and PyYAML (a YAML 1.1 parser: -o yaml must read back
# as -o json under it).
# Debian's packages, through apt-get, as root or with passwordless sudo. CI runs this before the
# tests so that no test is skipped for a missing tool.
#
#   scripts/test-tools.sh [TOOL...]           install what is missing (all, or the ones named)
#   scripts/test-tools.sh --check [TOOL...]   only say what is missing (exit 1 when something is)
set -euo pipefail

check=false
if [[ "${1:-}" == --check ]]; then
  check=true
  shift
fi
# tool:Debian package; a tool is a command, except pyyaml (a Python module) and bash-completion
# (a script bash sources)
tools=(zsh:zsh fish:fish tmux:tmux bash-completion:bash-completion shellcheck:shellcheck pyyaml:python3-yaml)

present() {
  case "$1" in
    pyyaml) python3 -c 'import yaml' >/dev/null 2>&1 ;;
    bash-completion) [[ -f /usr/share/bash-completion/bash_completion ]] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}
if [[ $# -gt 0 ]]; then
  wanted=()
  for name in "$@"; do
    found=""
    for pair in "${tools[@]}"; do [[ "${pair%%:*}" == "$name" ]] && found="$pair"; done
    [[ -n "$found" ]] || {
      echo "usage: scripts/test-tools.sh [--check] [$(printf '%s ' "${tools[@]%%:*}")]" >&2
      exit 2
    }
    wanted+=("$found")
  done
  tools=("${wanted[@]}")
fi

missing=()
for pair in "${tools[@]}"; do
  present "${pair%%:*}" || missing+=("${pair#*:}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "test tools: all present (${tools[*]%%:*})"
  exit 0
fi
if $check; then
  echo "test tools missing: ${missing[*]}" >&2
  exit 1
fi
if [[ "$(id -u)" == 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "error: ${missing[*]} missing, and installing them needs root (or passwordless sudo) for apt-get" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: ${missing[*]} missing, and there is no apt-get to install Debian's packages; install them another way" >&2
  exit 1
fi
echo "test tools missing: installing Debian's ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq >&2 || {
  echo "error: apt-get update failed; cannot install ${missing[*]}" >&2
  exit 1
}
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2 || {
  echo "error: apt-get install ${missing[*]} failed" >&2
  exit 1
}
echo "test tools: installed ${missing[*]}"
