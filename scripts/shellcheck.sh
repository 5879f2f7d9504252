#!/usr/bin/env bash
# Runs ShellCheck on every shell script in the repository: *.sh files and files whose first line
# is a sh/bash shebang (like .ci/run), outside node_modules, dist, .git and mutation testing's
# sandboxes and reports.
#
#   scripts/shellcheck.sh            check; fails when shellcheck is not installed
#   scripts/shellcheck.sh --install  the same, installing Debian's shellcheck package first when
#                                    it is missing (as root, or with passwordless sudo); CI uses this
#   scripts/shellcheck.sh --list     only print the files that would be checked
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

mode=check
case "${1:-}" in
  "") ;;
  --install) mode=install ;;
  --list) mode=list ;;
  *)
    echo "usage: scripts/shellcheck.sh [--install | --list]" >&2
    exit 2
    ;;
esac

scripts() {
  local file first
  while IFS= read -r -d '' file; do
    file="${file#./}"
    if [[ "$file" == *.sh ]]; then
      printf '%s\n' "$file"
      continue
    fi
    IFS= read -r first <"$file" || true
    if [[ "$first" =~ ^#!.*[/[:space:]](env[[:space:]]+)?(ba|da)?sh([[:space:]]|$) ]]; then
      printf '%s\n' "$file"
    fi
  done < <(find . \( -name node_modules -o -name dist -o -name .git -o -name .stryker-tmp -o -name reports \) -prune -o -type f -print0) | sort
}

if [[ "$mode" == list ]]; then
  scripts
  exit 0
fi

if ! command -v shellcheck >/dev/null 2>&1; then
  if [[ "$mode" != install ]]; then
    echo "error: shellcheck is not installed: install Debian's package (apt-get install shellcheck), or run scripts/shellcheck.sh --install" >&2
    exit 1
  fi
  bash scripts/test-tools.sh shellcheck
fi

mapfile -t files < <(scripts)
echo "$(shellcheck --version | sed -n 's/^version: /shellcheck /p') on ${#files[@]} scripts: ${files[*]}"
# -x follows sourced files (each script names them with a source= directive).
shellcheck -x "${files[@]}"
echo "shellcheck: no findings"
