#!/usr/bin/env bash
# Two local clusters for restore drills: DIR/a ("region-a", the source, with
# the MinIO) and DIR/b ("region-b", the DR region), each with its own Velero
# server on the same bucket, and DIR/kubeconfig holding both as contexts
# region-a and region-b. Prints that kubeconfig's path.
# usage: velero/dr-up.sh --state DIR [--nodes-per-zone N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state= per_zone=2
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    --nodes-per-zone) per_zone=$2; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "velero/dr-up.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n $state ]] || { echo "velero/dr-up.sh: --state DIR is required" >&2; exit 2; }
mkdir -p "$state" && state=$(realpath -m "$state")
t0=$(date +%s.%N)
fail() { echo "velero/dr-up.sh: $*" >&2; "$here/dr-down.sh" --state "$state" >/dev/null 2>&1 || true; exit 1; }
# Built before the clusters start: a cold build should not find a cluster idling.
"$here/build.sh" >/dev/null || fail "could not build Velero/MinIO"
for r in a b; do
  # kwok nodes only; the second cluster needs no real data plane.
  "$here/../up.sh" --state "$state/$r" --nodes-per-zone "$per_zone" --real-nodes-per-zone 0 >/dev/null ||
    fail "cluster $r did not start"
done
"$here/up.sh" --state "$state/a" || fail "Velero in region-a did not start"
"$here/up.sh" --state "$state/b" --store "$state/a" || fail "Velero in region-b did not start"
# One kubeconfig, two contexts (each cluster's own names renamed).
{
  echo "apiVersion: v1"
  echo "kind: Config"
  for part in clusters users contexts; do
    echo "$part:"
    for r in a b; do
      awk -v part="$part:" '$0 == part { on = 1; next } /^[a-z-]+:/ { on = 0 } on' "$state/$r/kubeconfig" |
        sed "s/faultline-local/region-$r/g; s/faultline-admin/region-$r-admin/g"
    done
  done
  echo "current-context: region-a"
} >"$state/kubeconfig.new"
chmod 600 "$state/kubeconfig.new" && mv "$state/kubeconfig.new" "$state/kubeconfig"
echo "velero/dr-up.sh: two regions with Velero ready in $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")s" >&2
echo "$state/kubeconfig"
