#!/usr/bin/env bash
# Imports OCI or Docker image archives into every real node of a local
# cluster (each node's containerd, namespace k8s.io), and keeps a copy so a
# node restarted by zone.sh restore has them too. No registry is involved:
# pods use the image by its normalized name with imagePullPolicy: Never.
# usage: load-image.sh [--state DIR] IMAGE.tar...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$here/.state/default
images=()
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    --name) state=$here/.state/$2; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    -*) echo "load-image.sh: unknown option $1" >&2; exit 2 ;;
    *) images+=("$1"); shift ;;
  esac
done
((${#images[@]})) || { echo "load-image.sh: no image archive given (see --help)" >&2; exit 2; }
# The one spelling of the path that names everything of this cluster (the
# kernel reports mounts by physical path).
state=$(realpath -m "$state")
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=realnodes.sh
source "$here/realnodes.sh"
[[ -n $(real_nodes) ]] || { echo "load-image.sh: $state has no real nodes (up.sh --real-nodes-per-zone N)" >&2; exit 2; }
for img in "${images[@]}"; do
  [[ -f $img ]] || { echo "load-image.sh: no such file: $img" >&2; exit 2; }
  cp "$img" "$state/images/loaded-$(basename "$img")"
done
for node in $(real_nodes | cut -d' ' -f1); do
  sock=$(node_run "$node")/containerd.sock
  if [[ ! -S $sock ]]; then
    echo "load-image.sh: $node is down; it gets the images when it is restored" >&2
    continue
  fi
  for img in "${images[@]}"; do
    ctr --address "$sock" -n k8s.io images import "$img" >/dev/null
  done
  echo "load-image.sh: $node: ${images[*]}"
done
