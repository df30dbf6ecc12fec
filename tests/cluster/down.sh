#!/usr/bin/env bash
# Stops exactly the processes up.sh started (by recorded PID), then removes
# what real nodes leave behind (containers and shims, mounts, the network
# namespace with its bridges, veths and nftables tables, host routes,
# cgroups; see realnodes.sh) and the state directory.
# usage: down.sh [--state DIR] [--keep-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$here/.state/default
keep=
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    --name) state=$here/.state/$2; shift 2 ;;
    --keep-dir) keep=1; shift ;;
    *) echo "down.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -d $state ]] || { echo "down.sh: nothing at $state"; exit 0; }
# The one spelling of the path that names everything of this cluster (the
# kernel reports mounts by physical path).
state=$(realpath -m "$state")
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=realnodes.sh
source "$here/realnodes.sh"
# Real nodes first, all at once (SIGKILL: their state is thrown away).
real_teardown
if [[ -f "$state/pids" ]]; then
  # Only signal a PID that is still the program we started (no PID reuse
  # accidents). All at once, then wait: each one takes its own time to stop.
  ours=()
  while read -r _ pid; do
    if alive "$pid" && grep -q "$state" "/proc/$pid/cmdline" 2>/dev/null; then ours+=("$pid"); fi
  done < <(tac "$state/pids")
  if ((${#ours[@]})); then kill -TERM "${ours[@]}" 2>/dev/null || true; fi
  for pid in "${ours[@]}"; do stop_pid "$pid"; done
fi
real_teardown  # the namespace, once kube-proxy and the relay are gone
if [[ -z $keep ]]; then rm -rf "$state"; fi
echo "down.sh: stopped $state"
