#!/usr/bin/env bash
# Stops both clusters of velero/dr-up.sh (their Velero and MinIO with them:
# all are in the clusters' pids files) and removes DIR.
# usage: velero/dr-down.sh --state DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    *) echo "velero/dr-down.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n $state && -d $state ]] || { echo "velero/dr-down.sh: nothing at '$state'"; exit 0; }
state=$(realpath -m "$state")
for r in a b; do
  [[ -d $state/$r ]] || continue
  "$here/down.sh" --state "$state/$r" >/dev/null
  "$here/../down.sh" --state "$state/$r" >/dev/null
done
rm -rf "$state"
echo "velero/dr-down.sh: stopped $state"
