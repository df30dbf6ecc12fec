# Shared by up.sh, down.sh and zone.sh (and check-clean.sh, velero/*.sh).
# Every process we start is recorded as "<role> <pid>" in $state/pids so
# down.sh stops exactly those.

# parse_state_arg <script name> "$@": the arguments of a script whose only
# option is --state DIR; sets $state (as given: the caller checks it).
# Anything else: one line on stderr, exit 2. (up.sh and down.sh take more
# options and keep their own loops; up.sh could use this for --state later.)
parse_state_arg() {
  local name=$1
  shift
  state=
  while (($#)); do
    case $1 in
      --state)
        (($# >= 2)) || { echo "$name: --state needs a directory" >&2; exit 2; }
        state=$2
        shift 2
        ;;
      *) echo "$name: unknown option $1" >&2; exit 2 ;;
    esac
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start <role> <logname> <command...>: starts detached, records the PID.
start() {
  local role=$1; shift
  setsid "$@" >"$state/logs/$role.log" 2>&1 < /dev/null &
  local pid=$!
  echo "$role $pid" >>"$state/pids"
}

# pid_of <role>: the recorded PID of a running role, or nothing.
pid_of() {
  [[ -f "$state/pids" ]] || return 0
  awk -v r="$1" '$1 == r { p = $2 } END { if (p) print p }' "$state/pids"
}

alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

# stop_pid <pid> [signal]: TERM (or the given signal), then KILL after 10s.
stop_pid() {
  local pid=$1 sig=${2:-TERM}
  alive "$pid" || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

forget_role() {
  [[ -f "$state/pids" ]] || return 0
  awk -v r="$1" '$1 != r' "$state/pids" >"$state/pids.tmp" && mv "$state/pids.tmp" "$state/pids"
}

# start_kwok <zone>: one kwok per zone, managing only that zone's nodes, so a
# zone can lose power (its kwok stops, its node Leases stop renewing) while the
# others keep going. The "rest" kwok manages nodes outside the listed zones.
# No kwok ever manages a real node (realnodes.sh): their kubelets do.
start_kwok() {
  local zone=$1 selector port
  if [[ $zone == rest ]]; then
    selector="topology.kubernetes.io/zone notin ($(cat "$state/zones")),faultline.io/node-kind!=real"
  else
    selector="topology.kubernetes.io/zone=$zone,faultline.io/node-kind!=real"
  fi
  port=$(free_port)
  start "kwok-$zone" "$state/bin/kwok" \
    --kubeconfig="$state/kubeconfig" \
    --config="$state/kwok.yaml" \
    --manage-nodes-with-label-selector="$selector" \
    --node-lease-duration-seconds="$(cat "$state/node_lease" 2>/dev/null || echo 8)" \
    --server-address="127.0.0.1:$port" \
    --cidr="$(zone_cidr "$zone")"
}

# Pod IPs for a zone's kwok (objects only: no traffic ever goes to them).
zone_cidr() {
  local i=0 z
  for z in $(tr ',' ' ' <"$state/zones"); do
    i=$((i + 1))
    [[ $z == "$1" ]] && { echo "10.$((100 + i)).0.1/16"; return; }
  done
  echo "10.200.0.1/16"
}

kubectl_() { "$state/bin/kubectl" --kubeconfig="$state/kubeconfig" "$@"; }
