#!/usr/bin/env bash
# Fails a zone like a power loss, or brings it back.
#   zone.sh fail <zone> [--state DIR]     stop the zone's kwok: its node Leases stop
#                                         renewing; the node lifecycle controller marks
#                                         the nodes NotReady/Unknown, taints them
#                                         unreachable and the taint manager evicts pods
#   zone.sh restore <zone> [--state DIR]  start it again: nodes heartbeat, turn Ready
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
action=${1:-}; zone=${2:-}
[[ $action == fail || $action == restore ]] && [[ -n $zone ]] || { sed -n '2,7p' "$0" >&2; exit 2; }
shift 2
state=$here/.state/default
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    *) echo "zone.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=lib.sh
source "$here/lib.sh"
grep -qw -- "$zone" <(tr ',' '\n' <"$state/zones") || { echo "zone.sh: no zone '$zone' in $(cat "$state/zones")" >&2; exit 2; }
pid=$(pid_of "kwok-$zone")
case $action in
  fail)
    stop_pid "$pid" KILL   # power loss: no graceful shutdown
    forget_role "kwok-$zone"
    echo "zone.sh: $zone failed" ;;
  restore)
    alive "$pid" || start_kwok "$zone"
    echo "zone.sh: $zone restored" ;;
esac
