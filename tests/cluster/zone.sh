#!/usr/bin/env bash
# Fails a zone like a power loss, or brings it back.
#   zone.sh fail <zone> [--state DIR]     SIGKILL the zone's kwok and, on its real
#                                         nodes, the kubelets, containerds, shims and
#                                         containers; their network goes (bridges, pod
#                                         namespaces; the pod ranges black-holed). Node
#                                         Leases stop renewing; the node lifecycle
#                                         controller marks the nodes NotReady/Unknown,
#                                         taints them unreachable, pods are evicted
#   zone.sh restore <zone> [--state DIR]  start it again: nodes heartbeat, turn Ready;
#                                         kubelets restart their pods as after a reboot
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
action=${1:-}; zone=${2:-}
[[ $action == fail || $action == restore ]] && [[ -n $zone ]] || { sed -n '2,12p' "$0" >&2; exit 2; }
shift 2
state=$here/.state/default
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    *) echo "zone.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
# The one spelling of the path that names everything of this cluster (the
# kernel reports mounts by physical path).
state=$(realpath -m "$state")
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=realnodes.sh
source "$here/realnodes.sh"
grep -qw -- "$zone" <(tr ',' '\n' <"$state/zones") || { echo "zone.sh: no zone '$zone' in $(cat "$state/zones")" >&2; exit 2; }
pid=$(pid_of "kwok-$zone")
case $action in
  fail)
    stop_pid "$pid" KILL   # power loss: no graceful shutdown
    forget_role "kwok-$zone"
    while read -r node z i; do
      if [[ $z == "$zone" ]]; then real_node_kill "$node" "$i"; fi
    done <<<"$(real_nodes)"
    echo "zone.sh: $zone failed" ;;
  restore)
    alive "$pid" || start_kwok "$zone"
    while read -r node z i; do
      if [[ $z == "$zone" ]] && ! alive "$(pid_of "kubelet-$node")"; then real_node_start "$node" "$z" "$i" || exit 1; fi
    done <<<"$(real_nodes)"
    echo "zone.sh: $zone restored" ;;
esac
