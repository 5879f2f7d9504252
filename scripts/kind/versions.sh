# shellcheck shell=bash disable=SC2034
# Every version scripts/kind/up.sh installs, in this one place (sourced by up.sh and down.sh).
# Bump them together and re-run up.sh; the simulated twin of this cluster is
# src/sim/scenarios/kind.yaml (keep its KubeVirt version and image tags in step).

# kind and its node image. Node images are built for one kind release: take the digest from that
# release's notes (https://github.com/kubernetes-sigs/kind/releases/tag/v0.33.0 lists
# v1.37.0, v1.36.4, v1.35.8 and v1.34.11). Kubernetes 1.35 sits in the middle of the three
# Kubernetes releases KubeVirt v1.9 supports (KubeVirt supports the latest three at its release).
KIND_VERSION="v0.33.0"
KIND_NODE_IMAGE="kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0"

# KubeVirt: the operator and the KubeVirt CR from the release, with software emulation.
KUBEVIRT_VERSION="v1.9.0"

# Multus (thin plugin). The manifest at a tag still names the :snapshot image; up.sh pins the
# image to this tag as well.
MULTUS_VERSION="v4.2.2"

# The reference CNI plugins (containernetworking/plugins); up.sh installs only `bridge`.
CNI_PLUGINS_VERSION="v1.7.1"

# The test VMs' disk: cirros, tagged like the KubeVirt release.
CONTAINERDISK_IMAGE="quay.io/kubevirt/cirros-container-disk-demo:${KUBEVIRT_VERSION}"

# Where each of them comes from.
KUBEVIRT_OPERATOR_URL="https://github.com/kubevirt/kubevirt/releases/download/${KUBEVIRT_VERSION}/kubevirt-operator.yaml"
KUBEVIRT_CR_URL="https://github.com/kubevirt/kubevirt/releases/download/${KUBEVIRT_VERSION}/kubevirt-cr.yaml"
MULTUS_MANIFEST_URL="https://raw.githubusercontent.com/k8snetworkplumbingwg/multus-cni/${MULTUS_VERSION}/deployments/multus-daemonset.yml"
MULTUS_IMAGE="ghcr.io/k8snetworkplumbingwg/multus-cni:${MULTUS_VERSION}"
CNI_PLUGINS_URL="https://github.com/containernetworking/plugins/releases/download/${CNI_PLUGINS_VERSION}"
