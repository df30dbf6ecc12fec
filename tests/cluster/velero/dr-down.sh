#!/usr/bin/env bash
# Stops both clusters of velero/dr-up.sh (their Velero and MinIO with them:
# all are in the clusters' pids files) and removes DIR.
# usage: velero/dr-down.sh --state DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
parse_state_arg velero/dr-down.sh "$@"
[[ -n $state && -d $state ]] || { echo "velero/dr-down.sh: nothing at '$state'"; exit 0; }
state=$(realpath -m "$state")
for r in a b; do
  [[ -d $state/$r ]] || continue
  "$here/down.sh" --state "$state/$r" >/dev/null
  "$here/../down.sh" --state "$state/$r" >/dev/null
done
rm -rf "$state"
echo "velero/dr-down.sh: stopped $state"
