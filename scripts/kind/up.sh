#!/usr/bin/env bash
# A real test cluster for kvmig's end-to-end suite, shaped like the seed environment: kind (one
# control plane, two workers), KubeVirt with software emulation, Multus with the bridge CNI and
# the Linux bridges vlan-12 and vlan-13 on every node, their NetworkAttachmentDefinitions, and two
# small VMs in namespace kvmig-e2e (vm-masq: masquerade only; vm-bridge: also bridge-bound to
# vlan-13). Idempotent: run it again to repair or finish a cluster. Versions: versions.sh.
#
#   scripts/kind/up.sh            build (or complete) the cluster
#   scripts/kind/up.sh --dry-run  print every command instead of running it
#   scripts/kind/down.sh          delete it
#
# Then: KUBECONFIG=~/.kube/kind-kvmig npm run test:e2e:cluster
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
. "$here/versions.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"

parse_args "usage: scripts/kind/up.sh [--dry-run]
Creates the kind cluster '${CLUSTER_NAME}' with KubeVirt ${KUBEVIRT_VERSION}, Multus ${MULTUS_VERSION} and
the bridge CNI, the bridges ${BRIDGES[*]} and the test VMs; --dry-run prints the commands only." "$@"

require docker kind kubectl curl tar sha256sum

case "$(uname -m)" in
  aarch64 | arm64) cni_arch=arm64 ;;
  *) cni_arch=amd64 ;;
esac
cni_tarball="cni-plugins-linux-${cni_arch}-${CNI_PLUGINS_VERSION}.tgz"

if [[ "$DRY_RUN" != 1 ]]; then
  have_kind="$(kind version 2>/dev/null | awk '{print $2}' || true)"
  if [[ "$have_kind" != "$KIND_VERSION" ]]; then
    note "warning: kind ${have_kind:-(unknown version)} is installed; the node image is built for kind ${KIND_VERSION}"
  fi
fi

step "workspace for downloads and rendered manifests, and the kubeconfig's directory"
run mkdir -p "$WORKDIR/cni" "$(dirname "$KUBECONFIG_OUT")"

step "the kind cluster ${CLUSTER_NAME}: one control plane, two workers (${KIND_NODE_IMAGE%%@*})"
if [[ "$DRY_RUN" != 1 ]] && kind get clusters 2>/dev/null | grep -x "$CLUSTER_NAME" >/dev/null; then
  note "kind cluster ${CLUSTER_NAME} exists; reusing it"
  run kind export kubeconfig --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG_OUT"
else
  if [[ "$DRY_RUN" == 1 ]]; then
    note "when \`kind get clusters\` lists ${CLUSTER_NAME} already, instead: kind export kubeconfig --name ${CLUSTER_NAME} --kubeconfig $(shell_quote "$KUBECONFIG_OUT")"
  fi
  run kind create cluster --name "$CLUSTER_NAME" --image "$KIND_NODE_IMAGE" \
    --config "$here/kind-config.yaml" --kubeconfig "$KUBECONFIG_OUT" --wait 5m
fi
kc wait node --all --for condition=Ready --timeout=5m

step "the bridge CNI plugin ${CNI_PLUGINS_VERSION} into /opt/cni/bin of every node (kind's node image has only the plugins kindnet uses)"
[[ "$DRY_RUN" == 1 ]] && note "the downloads are skipped when the tarball is there and matches its checksum"
if [[ "$DRY_RUN" != 1 && -f "$WORKDIR/$cni_tarball" && -f "$WORKDIR/$cni_tarball.sha256" ]] &&
  (cd "$WORKDIR" && sha256sum --check --status "$cni_tarball.sha256"); then
  note "$cni_tarball already downloaded and verified"
else
  run curl -fsSL -o "$WORKDIR/$cni_tarball" "$CNI_PLUGINS_URL/$cni_tarball"
  run curl -fsSL -o "$WORKDIR/$cni_tarball.sha256" "$CNI_PLUGINS_URL/$cni_tarball.sha256"
  run_in "$WORKDIR" sha256sum --check --strict "$cni_tarball.sha256"
fi
run tar -xzf "$WORKDIR/$cni_tarball" -C "$WORKDIR/cni"
for node in "${NODES[@]}"; do
  run docker cp "$WORKDIR/cni/bridge" "$node:/opt/cni/bin/bridge"
done

step "Linux bridges ${BRIDGES[*]} on every node (the NetworkAttachmentDefinitions' bridges)"
[[ "$DRY_RUN" == 1 ]] && note "each \`ip link add\` is skipped when the node has that bridge already"
for node in "${NODES[@]}"; do
  for bridge in "${BRIDGES[@]}"; do
    if [[ "$DRY_RUN" != 1 ]] && docker exec "$node" ip link show "$bridge" >/dev/null 2>&1; then
      note "$node: bridge $bridge exists"
    else
      run docker exec "$node" ip link add "$bridge" type bridge
    fi
    run docker exec "$node" ip link set "$bridge" up
  done
done

step "Multus ${MULTUS_VERSION} (thin plugin), its image pinned to the same tag"
run curl -fsSL -o "$WORKDIR/multus-daemonset.yml" "$MULTUS_MANIFEST_URL"
run sed -i -E "s#ghcr\\.io/k8snetworkplumbingwg/multus-cni:[A-Za-z0-9._-]+#${MULTUS_IMAGE}#g" \
  "$WORKDIR/multus-daemonset.yml"
kc apply -f "$WORKDIR/multus-daemonset.yml"
kc -n kube-system rollout status daemonset/kube-multus-ds --timeout=5m

step "KubeVirt ${KUBEVIRT_VERSION}: the operator, then the KubeVirt CR with software emulation (no /dev/kvm in kind)"
kc apply --server-side --force-conflicts -f "$KUBEVIRT_OPERATOR_URL"
kc -n kubevirt wait deployment/virt-operator --for condition=Available --timeout=5m
kc apply --server-side --force-conflicts -f "$KUBEVIRT_CR_URL"
kc -n kubevirt patch kubevirt kubevirt --type merge \
  -p '{"spec":{"configuration":{"developerConfiguration":{"useEmulation":true}}}}'
kc -n kubevirt wait kv/kubevirt --for condition=Available --timeout=15m

step "namespace ${TEST_NAMESPACE} and the NetworkAttachmentDefinitions ${BRIDGES[*]} (bridge CNI)"
kc apply -f "$here/nads.yaml"

step "the test VMs ${TEST_VMS[*]} (${CONTAINERDISK_IMAGE}), until they run"
run_to "$WORKDIR/vms.yaml" sed -e "s#@CONTAINERDISK_IMAGE@#${CONTAINERDISK_IMAGE}#g" "$here/vms.yaml.in"
kc apply -f "$WORKDIR/vms.yaml"
kc -n "$TEST_NAMESPACE" wait "${TEST_VMS[@]/#/vm/}" --for condition=Ready --timeout=10m
kc -n "$TEST_NAMESPACE" get vmi -o wide

step "done"
note "the cluster is ready: KUBECONFIG=$(shell_quote "$KUBECONFIG_OUT") npm run test:e2e:cluster"
