# shellcheck shell=bash disable=SC2034
# Shared by scripts/kind/up.sh and down.sh (sourced): the cluster's shape, argument parsing,
# the prerequisite checks, and `run`, which prints a command (--dry-run) or runs it.

# The cluster. kind names the nodes <cluster>-control-plane, <cluster>-worker, <cluster>-worker2;
# src/sim/scenarios/kind.yaml mirrors these names, the namespace, the bridges and the VMs.
CLUSTER_NAME="kvmig"
NODES=("${CLUSTER_NAME}-control-plane" "${CLUSTER_NAME}-worker" "${CLUSTER_NAME}-worker2")
BRIDGES=("vlan-12" "vlan-13")
TEST_NAMESPACE="kvmig-e2e"
TEST_VMS=("vm-masq" "vm-bridge")

# Where the cluster's kubeconfig goes (not ~/.kube/config: the tests point KUBECONFIG at it),
# and where downloads and rendered manifests are kept between runs.
KUBECONFIG_OUT="${KVMIG_KIND_KUBECONFIG:-${HOME}/.kube/kind-${CLUSTER_NAME}}"
WORKDIR="${KVMIG_KIND_WORKDIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/kvmig-kind}"

DRY_RUN=0

# A word as the shell reads it back: bare when safe, else in single quotes.
shell_quote() {
  local word="$1"
  if [[ -n "$word" && "$word" =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then
    printf '%s' "$word"
  else
    printf "'%s'" "${word//\'/\'\\\'\'}"
  fi
}

# A command line, each word quoted as needed.
command_line() {
  local out="" word
  for word in "$@"; do
    out+="${out:+ }$(shell_quote "$word")"
  done
  printf '%s' "$out"
}

# --dry-run: print the command on stdout. Otherwise: log it on stderr, then run it.
run() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '%s\n' "$(command_line "$@")"
  else
    printf '+ %s\n' "$(command_line "$@")" >&2
    "$@"
  fi
}

# Like run, with the command's stdout written to the file given first.
run_to() {
  local file="$1"
  shift
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '%s > %s\n' "$(command_line "$@")" "$(shell_quote "$file")"
  else
    printf '+ %s > %s\n' "$(command_line "$@")" "$(shell_quote "$file")" >&2
    "$@" >"$file"
  fi
}

# Like run, in the directory given first (a subshell: the caller's directory stays).
run_in() {
  local dir="$1"
  shift
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '(cd %s && %s)\n' "$(shell_quote "$dir")" "$(command_line "$@")"
  else
    printf '+ (cd %s && %s)\n' "$(shell_quote "$dir")" "$(command_line "$@")" >&2
    (cd "$dir" && "$@")
  fi
}

# kubectl against the kind cluster only, whatever KUBECONFIG says.
kc() {
  run kubectl --kubeconfig "$KUBECONFIG_OUT" "$@"
}

# A step heading: a comment in the dry-run listing, a progress line otherwise.
step() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '\n# %s\n' "$*"
  else
    printf '\n== %s\n' "$*" >&2
  fi
}

# A remark: in the listing as a comment, on stderr otherwise.
note() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '# %s\n' "$*"
  else
    printf '%s\n' "$*" >&2
  fi
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# What each prerequisite is for and where to get it.
prerequisite_help() {
  case "$1" in
    docker) echo "kind runs each node as a Docker container: install Docker Engine (https://docs.docker.com/engine/install/) and check that \`docker info\` works" ;;
    kind) echo "install kind ${KIND_VERSION} (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)" ;;
    kubectl) echo "install kubectl (https://kubernetes.io/docs/tasks/tools/)" ;;
    curl) echo "up.sh downloads the Multus manifest and the CNI plugins with it: install curl" ;;
    tar) echo "up.sh unpacks the CNI plugins with it: install tar" ;;
    sha256sum) echo "up.sh checks the CNI plugins download with it: install coreutils" ;;
    *) echo "install $1" ;;
  esac
}

# Checks that every named command exists (and that Docker's daemon answers). Reports each missing
# one with what to do, then exits 1; with --dry-run it only warns on stderr and goes on.
require() {
  local missing=0 tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      printf '%s: %s is not installed: %s\n' "$([[ "$DRY_RUN" == 1 ]] && echo warning || echo error)" \
        "$tool" "$(prerequisite_help "$tool")" >&2
      missing=$((missing + 1))
    elif [[ "$tool" == docker && "$DRY_RUN" != 1 ]] && ! docker info >/dev/null 2>&1; then
      printf 'error: docker is installed but its daemon does not answer (docker info failed): start Docker, or add this user to the docker group\n' >&2
      missing=$((missing + 1))
    fi
  done
  if ((missing > 0)); then
    if [[ "$DRY_RUN" == 1 ]]; then
      printf 'warning: --dry-run only prints the commands; a real run needs the missing tools above\n' >&2
    else
      die "$missing prerequisite(s) missing (see above); nothing was changed"
    fi
  fi
}

# --dry-run and --help; anything else is a usage error.
parse_args() {
  local usage="$1"
  shift
  local arg
  for arg in "$@"; do
    case "$arg" in
      --dry-run) DRY_RUN=1 ;;
      -h | --help)
        printf '%s\n' "$usage"
        exit 0
        ;;
      *)
        printf 'error: unknown argument %s\n%s\n' "$(shell_quote "$arg")" "$usage" >&2
        exit 2
        ;;
    esac
  done
}
