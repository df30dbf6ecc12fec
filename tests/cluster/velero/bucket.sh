#!/usr/bin/env bash
# Acts on the MinIO bucket of a cluster whose velero/up.sh started one: the
# "backups lost" disaster of a restore drill's failure tests.
# usage: velero/bucket.sh --state CLUSTER_STATE list|empty
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state= verb=
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    list|empty) verb=$1; shift ;;
    *) echo "velero/bucket.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n $verb && -f $state/velero/s3.env ]] || { echo "velero/bucket.sh: usage: --state DIR list|empty (DIR with a MinIO)" >&2; exit 2; }
state=$(realpath -m "$state")
# shellcheck source=lib.sh
source "$here/lib.sh"
keys() { s3 GET "/$bucket?list-type=2&max-keys=1000" | grep -o '<Key>[^<]*</Key>' | sed 's/<Key>\(.*\)<\/Key>/\1/'; }
if [[ $verb == list ]]; then keys; exit 0; fi
n=0
while true; do
  mapfile -t batch < <(keys)
  ((${#batch[@]})) || break
  # Keys are Velero's own (backups/<name>/<file>): no characters to escape.
  for key in "${batch[@]}"; do s3 DELETE "/$bucket/$key" >/dev/null; n=$((n + 1)); done
done
echo "velero/bucket.sh: deleted $n objects from $bucket"
