#!/usr/bin/env bash
# Builds Velero (server + CLI, one binary), velero-plugin-for-aws and MinIO
# from Go modules into a cache directory keyed by the hash of their inputs, as
# ../build.sh does for the control plane: an up-to-date set is never rebuilt
# and every clone of the repo (CI's included) shares it. Each has its own
# module under mod/: Velero pins k8s.io v0.33, the plugin its own Velero,
# MinIO its own world; one module would make MVS move their versions.
# Prints the bin directory on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${FAULTLINE_CACHE:-$HOME/.cache/faultline}

key=$(cat "$here"/mod/*/go.mod "$here"/mod/*/go.sum "$here"/mod/velero/cmd/velero/main.go "$here/build.sh" | sha256sum | cut -c1-16)
bin="$cache/velero-bin/$key"
if [[ -x "$bin/velero" && -x "$bin/velero-plugin-for-aws" && -x "$bin/minio" ]]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { echo "velero/build.sh: go is not installed (scripts/bootstrap.sh installs it)" >&2; exit 1; }
rm -rf "$bin.tmp" && mkdir -p "$bin.tmp"
echo "velero/build.sh: building velero, velero-plugin-for-aws and minio; a cold build takes a while" >&2
start=$(date +%s)
# Velero reports its version from these (velero version, the server's log).
vpkg=github.com/vmware-tanzu/velero/pkg/buildinfo
(cd "$here/mod/velero" && go build -trimpath \
  -ldflags "-s -w -X $vpkg.Version=v1.18.3 -X $vpkg.GitTreeState=clean" \
  -o "$bin.tmp/velero" ./cmd/velero)
echo "velero/build.sh: velero after $(( $(date +%s) - start ))s" >&2
# Velero runs every executable in its plugin directory: the plugin gets a
# directory of its own (plugins/), the other binaries stay beside it.
mkdir -p "$bin.tmp/plugins"
(cd "$here/mod/aws" && go build -trimpath -ldflags "-s -w" \
  -o "$bin.tmp/plugins/velero-plugin-for-aws" \
  github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws)
ln -s plugins/velero-plugin-for-aws "$bin.tmp/velero-plugin-for-aws"
echo "velero/build.sh: plugin after $(( $(date +%s) - start ))s" >&2
(cd "$here/mod/minio" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
  -o "$bin.tmp/minio" github.com/minio/minio)
rm -rf "$bin" && mv "$bin.tmp" "$bin"
echo "velero/build.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
