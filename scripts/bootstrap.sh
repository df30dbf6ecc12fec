#!/usr/bin/env bash
# Installs every system package faultline needs to build, test and demo, from
# Debian's packages. Idempotent: a machine that has them all is left alone.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang-format ccache
  libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev prometheus-cpp-dev
  liblua5.4-dev libgtest-dev libgmock-dev
  libssl-dev  # the HTTPS test server in tests/unit/kube; SHA-256 in runner/dr
  zlib1g-dev  # runner/dr: Velero's gzipped restore results
  clang libclang-rt-14-dev  # the libFuzzer targets (tests/fuzz)
  # tests: real servers and validators
  prometheus prometheus-pushgateway chromium libxml2-utils openssl curl jq
  python3-jsonschema procps
  # tests/cluster real nodes: container runtime, CNI plugins (/usr/lib/cni),
  # kube-proxy's nftables, network namespaces and veths, nsenter
  containerd runc containernetworking-plugins nftables iptables iproute2 util-linux
  # the container image (scripts/image.sh, the faultline_image e2e fixture):
  # buildah builds the Dockerfile with no daemon, debootstrap makes its
  # Debian base images
  buildah debootstrap
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's packaged services must not run on their own: tests start their own.
for svc in prometheus prometheus-pushgateway; do
  if pgrep -x "$svc" >/dev/null 2>&1 && [[ -z "${FAULTLINE_KEEP_SERVICES:-}" ]]; then
    (service "$svc" stop || pkill -x "$svc") >/dev/null 2>&1 || true
  fi
done
# The local control plane (tests/cluster) is built from Go modules with the
# machine's Go toolchain; Debian 12's golang-go (1.19) is too old for it.
if ! go version 2>/dev/null | grep -qE 'go1\.(2[6-9]|[3-9][0-9])'; then
  echo "bootstrap: Go >= 1.26 is needed to build tests/cluster (found: $(go version 2>&1 | head -1))" >&2
  exit 1
fi
echo "bootstrap: all system packages present"
