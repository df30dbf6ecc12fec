#!/usr/bin/env bash
# Checks that a local cluster left nothing on this machine after down.sh:
# no process started for it (containerd shims and containers included), no
# mount under its state or run directories, no network namespace, veth,
# route or cgroup of its real nodes, no network index claimed.
# Prints each leftover and exits 1 if there is one. CI runs it after the e2e
# cluster is stopped (ctest: cluster_down_clean), since CI reuses machines.
# usage: check-clean.sh --state DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
parse_state_arg check-clean.sh "$@"
[[ -n $state ]] || { echo "check-clean.sh: --state DIR is required" >&2; exit 2; }
# The one spelling of the path that names everything of this cluster (the
# kernel reports mounts by physical path).
state=$(realpath -m "$state")
# shellcheck source=realnodes.sh
source "$here/realnodes.sh"

left=0
leftover() { echo "check-clean.sh: left behind: $*"; left=1; }

id=$(real_id)
run=$real_run_root/$id
for pid in $(pgrep -f -- "$state/|$run/" || true); do
  [[ $pid == "$$" ]] && continue
  args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
  # pgrep's own match on this script's arguments does not count.
  [[ $args == *check-clean.sh* ]] && continue
  leftover "process $pid: $args"
done
while read -r m; do
  if [[ $m == "$state"/* || $m == "$run"/* || $m == "$run" ]]; then leftover "mount $m"; fi
done < <(awk '{print $5}' /proc/self/mountinfo)
if [[ -e /run/netns/fl-$id ]]; then leftover "network namespace fl-$id"; fi
if ip link show "flh-$id" >/dev/null 2>&1; then leftover "veth flh-$id"; fi
if ip route show | grep -q "flh-$id"; then leftover "routes via flh-$id"; fi
for d in $(cgroup_dirs ""); do
  for c in "$d"/faultline-"$id"-*; do
    if [[ -e $c ]]; then leftover "cgroup $c"; fi
  done
done
if [[ -e $run ]]; then leftover "run directory $run"; fi
for f in "$real_run_root"/net/*; do
  if [[ -f $f && $(cut -d' ' -f1 "$f") == "$id" ]]; then leftover "network index $f"; fi
done
for f in /var/lib/cni/results/"fl-$id"-*; do
  if [[ -e $f ]]; then leftover "CNI result $f"; fi
done
# Shim sockets: containerd 1.6 names them after the shim's containerd address.
for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $run/" || true); do leftover "shim $pid"; done
if [[ -e $state ]]; then leftover "state directory $state"; fi
if ((left == 0)); then echo "check-clean.sh: nothing left of $state"; fi
exit "$left"
