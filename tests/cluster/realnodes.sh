# Real nodes: a kubelet + containerd (+ runc, Debian's CNI bridge plugin) per
# node, one kube-proxy, all inside a network namespace this cluster creates
# (fl-<id>), so that two local clusters never share a bridge, a route, a port
# or kube-proxy's fixed nftables table. Sourced by up.sh, down.sh, zone.sh
# after lib.sh.
#
# The network of cluster k (1..15, allocated machine-wide in /run/faultline/net;
# a kwok-only cluster run as root takes one too, for its Service range, which
# the host then routes nowhere: a probe of a ClusterIP without a data plane
# fails here instead of leaving the machine):
#   host  flh-<id> 10.250.k.1/24  <-veth->  flc-<id> 10.250.k.2/24 (in fl-<id>)
#   node i: IP 10.250.k.(10+i) on flc-<id>, bridge flbr<i>, pods 10.(128+k).i.0/24
#   Services 10.96.(16k).0/20; the host routes it and the pod range into fl-<id>.
# The API server stays on the host's 127.0.0.1; a relay (nodetools relay)
# accepts on 127.0.0.1:<port> and 10.250.k.2:<port> inside fl-<id>, so the
# kubelets, kube-proxy and pods reach it with the same kubeconfig.
# Nothing routes out of fl-<id>: it has no default route.

real_run_root=/run/faultline
cni_bin=/usr/lib/cni  # where Debian installs the CNI plugins

real_id() { printf '%s' "$state" | sha256sum | cut -c1-8; }
real_netns() { echo "fl-$(real_id)"; }
# The cluster's network index k (empty when it has no real nodes).
real_k() { [[ -f "$state/realnet" ]] && cat "$state/realnet" || true; }
real_nodes() { [[ -f "$state/real_nodes" ]] && cat "$state/real_nodes" || true; }  # "<node> <zone> <i>" lines
# Runs a command inside the cluster's network namespace, and only that: the
# mount namespace stays the host's (not `ip netns exec`), so the kubelet's
# volume mounts are seen by containerd and runc, and by down.sh.
in_netns() { nsenter --net="/run/netns/$(real_netns)" "$@"; }
node_dir() { echo "$state/nodes/$1"; }
node_run() { echo "$real_run_root/$(real_id)/$1"; }  # short: unix sockets are limited to 108 bytes
node_ip() { echo "10.250.$(real_k).$((10 + $1))"; }
node_cidr() { echo "10.$((128 + $(real_k))).$1.0/24"; }
pod_range() { echo "10.$((128 + $(real_k))).0.0/16"; }
service_range() { echo "10.96.$((16 * $(real_k))).0/20"; }
cgroup_root() { echo "/faultline-$(real_id)-$1"; }
# Every cgroup v1 hierarchy a kubelet uses (cgroup v2: the unified one).
cgroup_dirs() {
  local h
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then echo "/sys/fs/cgroup$1"; return; fi
  for h in /sys/fs/cgroup/*/; do
    if [[ -f ${h}cgroup.procs && $h != */unified/ ]]; then echo "${h%/}$1"; fi
  done
}

# Every process in a node's cgroups (its containers).
cgroup_procs() {
  local d
  for d in $(cgroup_dirs "$(cgroup_root "$1")"); do
    if [[ -d $d ]]; then find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true; fi
  done
}

# real_allocate: claims a free network index for this cluster (machine-wide).
real_allocate() {
  local k owner owner_state
  mkdir -p "$real_run_root/net"
  for k in $(seq 1 15); do
    owner= owner_state=
    if [[ -f $real_run_root/net/$k ]]; then read -r owner owner_state <"$real_run_root/net/$k" || true; fi
    # Held by a cluster that no longer claims it (its state dir is gone or
    # was reset without down.sh): reclaim.
    if [[ -n $owner && $owner != "$(real_id)" && $(cat "$owner_state/realnet" 2>/dev/null) != "$k" ]]; then
      rm -f "$real_run_root/net/$k"
      owner=
    fi
    if [[ $owner == "$(real_id)" ]] || (set -o noclobber; echo "$(real_id) $state" >"$real_run_root/net/$k") 2>/dev/null; then
      echo "$k" >"$state/realnet"
      return 0
    fi
  done
  echo "up.sh: no free network index (15 local clusters already run on this machine)" >&2
  return 1
}

real_network_up() {
  local ns k id
  ns=$(real_netns); k=$(real_k); id=$(real_id)
  ip netns add "$ns"
  ip link add "flh-$id" type veth peer name "flc-$id" netns "$ns"
  ip addr add "10.250.$k.1/24" dev "flh-$id"
  ip link set "flh-$id" up
  in_netns ip link set lo up
  in_netns ip addr add "10.250.$k.2/24" dev "flc-$id"
  in_netns ip link set "flc-$id" up
  in_netns sysctl -qw net.ipv4.ip_forward=1
  ip route add "$(pod_range)" via "10.250.$k.2"
  ip route add "$(service_range)" via "10.250.$k.2"
}

# real_node_prepare <node> <zone> <i>: config files of one node.
real_node_prepare() {
  local node=$1 zone=$2 i=$3 nd run
  nd=$(node_dir "$node"); run=$(node_run "$node")
  mkdir -p "$nd/cni" "$nd/kubelet" "$nd/pod-logs" "$nd/ipam"
  cat >"$nd/containerd.toml" <<TOML
version = 2
root = "$nd/containerd"
state = "$run/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$run/containerd.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$nd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/faultline/pause:local"
  # The sandbox lacks CAP_SYS_RESOURCE: without this every sandbox fails with
  # runc's "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  # Pod network namespaces under our own state dir, not /var/run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$cni_bin"
    conf_dir = "$nd/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$run/runc"
        SystemdCgroup = false
TOML
  cat >"$nd/cni/10-bridge.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "fl-$(real_id)",
  "plugins": [{
    "type": "bridge", "bridge": "flbr$i", "isGateway": true, "ipMasq": false, "hairpinMode": true,
    "ipam": { "type": "host-local", "dataDir": "$nd/ipam",
              "ranges": [[{ "subnet": "$(node_cidr "$i")" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
  }]
}
JSON
  cat >"$nd/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(node_ip "$i")
port: 10250
readOnlyPort: 0
healthzBindAddress: $(node_ip "$i")
healthzPort: 10248
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $state/pki/ca.crt }
authorization: { mode: Webhook }
containerRuntimeEndpoint: unix://$run/containerd.sock
# This machine: cgroup v1, no systemd, swap allowed. Each kubelet has its own
# cgroup root so that no kubelet ever "cleans up" another one's pods.
cgroupDriver: cgroupfs
cgroupRoot: $(cgroup_root "$node")
failCgroupV1: false
failSwapOn: false
podLogsDir: $nd/pod-logs
# No cluster DNS; pods get no resolver (nothing to resolve outside anyway).
resolvConf: ""
# Like the kwok nodes (up.sh --node-lease, 8 s by default: renewed every 2 s,
# and the node lifecycle controller's 10 s grace decides a lost node).
nodeLeaseDurationSeconds: $(cat "$state/node_lease" 2>/dev/null || echo 8)
# A shared CI disk must not evict the test pods or collect the local images.
evictionHard: { memory.available: 1Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%, imagefs.inodesFree: 1% }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
registerWithTaints:
  - { key: faultline.io/real-node, value: "true", effect: NoSchedule }
YAML
}

# real_node_start <node> <zone> <i>: network, containerd, images, kubelet.
real_node_start() {
  local node=$1 zone=$2 i=$3 nd run d
  nd=$(node_dir "$node"); run=$(node_run "$node")
  mkdir -p "$run"
  in_netns ip addr replace "$(node_ip "$i")/24" dev "flc-$(real_id)"
  in_netns ip route del blackhole "$(node_cidr "$i")" 2>/dev/null || true
  for d in $(cgroup_dirs "$(cgroup_root "$node")"); do
    mkdir -p "$d"
    # A new cpuset cgroup starts empty: no task could join it.
    if [[ -f $d/cpuset.cpus ]]; then
      cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
      cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
    fi
  done
  start "containerd-$node" nsenter --net="/run/netns/$(real_netns)" containerd --config "$nd/containerd.toml"
  for _ in $(seq 1 100); do
    [[ -S $run/containerd.sock ]] && ctr --address "$run/containerd.sock" version >/dev/null 2>&1 && break
    alive "$(pid_of "containerd-$node")" || return 1
    sleep 0.1
  done
  for img in "$state"/images/*.tar; do
    ctr --address "$run/containerd.sock" -n k8s.io images import "$img" >/dev/null || return 1
  done
  start "kubelet-$node" nsenter --net="/run/netns/$(real_netns)" "$state/bin/kubelet" \
    --config="$nd/kubelet.yaml" --kubeconfig="$state/kubeconfig" \
    --root-dir="$nd/kubelet" --hostname-override="$node" --node-ip="$(node_ip "$i")" \
    --node-labels="topology.kubernetes.io/zone=$zone,topology.kubernetes.io/region=local,faultline.io/node-kind=real"
}

# real_node_kill <node> <i>: a power loss. SIGKILL the kubelet, containerd,
# the shims and every container, then what a reboot clears: mounts, /run,
# the pod network namespaces and the node's bridge; the node's pod range
# becomes a black hole (packets vanish, as to a machine without power).
real_node_kill() {
  local node=$1 i=$2 run pid d
  run=$(node_run "$node")
  for role in "kubelet-$node" "containerd-$node"; do
    pid=$(pid_of "$role")
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    forget_role "$role"
  done
  real_kill_shims "$run"
  cgroup_procs "$node" | xargs -r kill -KILL 2>/dev/null || true
  for _ in $(seq 1 50); do
    [[ -z $(cgroup_procs "$node") ]] && break
    sleep 0.1
  done
  unmount_under "$run" "$(node_dir "$node")"
  rm -rf "$run"
  if [[ -e /run/netns/$(real_netns) ]]; then
    in_netns ip link del "flbr$i" 2>/dev/null || true
    in_netns ip addr del "$(node_ip "$i")/24" dev "flc-$(real_id)" 2>/dev/null || true
    in_netns ip route replace blackhole "$(node_cidr "$i")"
  fi
}

# Shims, and what a killed shim leaves: its socket in /run/containerd/s and
# libcni's cached results in /var/lib/cni/results.
# $1: the node's run dir (a regular expression: all nodes' when given one).
real_kill_shims() {
  local pattern=$1/containerd.sock pid args id address
  for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $pattern( |$)" || true); do
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    id=$(sed -n 's/.* -id \([^ ]*\).*/\1/p' <<<"$args")
    address=$(sed -n 's/.* -address \([^ ]*\).*/\1/p' <<<"$args")
    kill -KILL "$pid" 2>/dev/null || true
    # containerd 1.6: the socket is /run/containerd/s/sha256(<address>/<namespace>/<id>).
    if [[ -n $id ]]; then
      rm -f "/run/containerd/s/$(printf '%s' "$address/k8s.io/$id" | sha256sum | cut -c1-64)"
      # libcni's cache of the sandbox's networks (loopback and ours).
      rm -f /var/lib/cni/results/*-"$id"-*
    fi
  done
}

# unmount_under <dir>...: every mount point below the dirs, deepest first.
unmount_under() {
  local prefixes=("$@") m p
  awk '{print $5}' /proc/self/mountinfo | while read -r m; do
    for p in "${prefixes[@]}"; do if [[ $m == "$p"/* ]]; then echo "$m"; fi; done
  done | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

real_kube_proxy_start() {
  cat >"$state/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $state/kubeconfig }
hostnameOverride: $(head -1 <<<"$(real_nodes)" | cut -d' ' -f1)
mode: nftables
clusterCIDR: $(pod_range)
# Every Service connection is masqueraded: pod -> Service -> pod on the same
# bridge works without br_netfilter (which a sandbox cannot load).
masqueradeAll: true
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: { maxPerCore: 0 }
YAML
  start kube-proxy nsenter --net="/run/netns/$(real_netns)" "$state/bin/kube-proxy" --config="$state/kube-proxy.yaml"
}

# The API server, seen from inside fl-<id>.
real_relay_start() {
  local port=$1
  start relay "$state/bin/nodetools" relay -netns "/run/netns/$(real_netns)" \
    -listen "127.0.0.1:$port" -listen "10.250.$(real_k).2:$port" -to "127.0.0.1:$port"
}

# The images every node has: the sandbox and the demo's HTTP server.
real_build_images() {
  mkdir -p "$state/images"
  "$state/bin/nodetools" image -o "$state/images/pause.tar" -name docker.io/faultline/pause:local \
    -user 65535:65535 -entrypoint /nodetools -entrypoint pause "$state/bin/nodetools"
  "$state/bin/nodetools" image -o "$state/images/httpd.tar" -name docker.io/faultline/httpd:local \
    -entrypoint /nodetools -entrypoint httpd "$state/bin/nodetools"
}

# Everything real nodes leave on the machine, gone. Idempotent, and needs no
# file of the state dir but its path (names derive from it): also mops up
# after a cluster that was killed, or whose state dir was half removed.
real_teardown() {
  local node zone i d k f
  while read -r node zone i; do
    if [[ -n $node ]]; then real_node_kill "$node" "$i"; fi
  done <<<"$(real_nodes)"
  # Whatever the node list no longer names: every shim and container of ours.
  real_kill_shims "$real_run_root/$(real_id)/[^/ ]*"
  for d in $(cgroup_dirs ""); do
    for f in "$d"/faultline-"$(real_id)"-*; do
      if [[ -d $f ]]; then find "$f" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true; fi
    done
  done
  sleep 0.2
  unmount_under "$state" "$real_run_root/$(real_id)"
  for d in $(cgroup_dirs ""); do
    for f in "$d"/faultline-"$(real_id)"-*; do
      if [[ -d $f ]]; then find "$f" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
    done
  done
  # The network index: the state dir's record, else the machine-wide claim.
  k=$(real_k)
  for f in "$real_run_root"/net/*; do
    if [[ -f $f && $(cut -d' ' -f1 "$f") == "$(real_id)" ]]; then k=$(basename "$f"); rm -f "$f"; fi
  done
  if [[ -n $k ]]; then
    echo "$k" >"$state/realnet" 2>/dev/null || true
    ip route del "$(service_range)" 2>/dev/null || true
    ip route del "$(pod_range)" 2>/dev/null || true
  fi
  ip link del "flh-$(real_id)" 2>/dev/null || true
  if [[ -e /run/netns/$(real_netns) ]]; then ip netns del "$(real_netns)"; fi
  rm -f /var/lib/cni/results/"fl-$(real_id)"-* 2>/dev/null || true
  rm -rf "${real_run_root:?}/$(real_id)"
  rm -f "$state/realnet"
}

# The `kubernetes` Service (the API server runs with --endpoint-reconciler-type
# none) gets the relay as its endpoint, so in-cluster clients on real nodes
# (KUBERNETES_SERVICE_HOST) reach the API server through kube-proxy.
real_api_endpoint() {
  kubectl_ apply -f - >/dev/null <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes-relay
  namespace: default
  labels:
    kubernetes.io/service-name: kubernetes
    endpointslice.kubernetes.io/managed-by: up.sh.faultline.io
addressType: IPv4
endpoints: [{ addresses: ["10.250.$(real_k).2"], conditions: { ready: true } }]
ports: [{ name: https, port: $1, protocol: TCP }]
YAML
}
