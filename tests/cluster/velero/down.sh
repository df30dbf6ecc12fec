#!/usr/bin/env bash
# Stops what velero/up.sh started for one cluster (its Velero server and the
# plugin processes it ran, its MinIO if it has one), by recorded PID, and
# with --uninstall also removes Velero's namespace and CRDs from the cluster
# (a cluster "without Velero", for the drill's refusal tests). The cluster's
# own down.sh stops the same processes; this is for stopping Velero alone.
# usage: velero/down.sh --state CLUSTER_STATE [--uninstall] [--keep-store]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state= uninstall= keep_store=
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    --keep-store) keep_store=1; shift ;;
    *) echo "velero/down.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n $state && -d $state ]] || { echo "velero/down.sh: nothing at '$state'"; exit 0; }
state=$(realpath -m "$state")
# shellcheck source=../lib.sh
source "$here/../lib.sh"
roles=(velero)
[[ -z $keep_store ]] && roles+=(minio)
for role in "${roles[@]}"; do
  pid=$(pid_of "$role")
  if alive "$pid" && grep -q "$state" "/proc/$pid/cmdline" 2>/dev/null; then stop_pid "$pid"; fi
  forget_role "$role"
done
# Plugins outlive a Velero that was KILLed: they are known by the plugin
# path under this state (see up.sh), and nothing else has it.
for pid in $(pgrep -f -- "$state/velero/plugins/" || true); do
  grep -q "$state/velero/plugins/" "/proc/$pid/cmdline" 2>/dev/null && stop_pid "$pid"
done
if [[ -n $uninstall && -f $state/kubeconfig ]]; then
  kubectl_ delete namespace velero --ignore-not-found --wait=false >/dev/null
  kubectl_ get crd -o name | grep '\.velero\.io$' | xargs -r "$state/bin/kubectl" \
    --kubeconfig="$state/kubeconfig" delete --ignore-not-found >/dev/null
fi
echo "velero/down.sh: stopped Velero of $state"
