#!/usr/bin/env bash
# Deletes the kind cluster scripts/kind/up.sh made, and its kubeconfig. The downloads in the
# workspace stay (up.sh reuses them); delete that directory by hand if you like.
#
#   scripts/kind/down.sh            delete the cluster
#   scripts/kind/down.sh --dry-run  print the commands instead
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
. "$here/versions.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"

parse_args "usage: scripts/kind/down.sh [--dry-run]
Deletes the kind cluster '${CLUSTER_NAME}' and its kubeconfig ${KUBECONFIG_OUT}; --dry-run prints the commands only." "$@"

require docker kind

step "the kind cluster ${CLUSTER_NAME} (a no-op when there is none)"
run kind delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG_OUT"
run rm -f "$KUBECONFIG_OUT"
note "downloads stay in $(shell_quote "$WORKDIR") for the next up.sh"
