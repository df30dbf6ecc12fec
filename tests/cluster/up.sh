#!/usr/bin/env bash
# Starts a local Kubernetes control plane for faultline's tests and demo:
# etcd -> kube-apiserver (wait for /readyz) -> controller-manager, scheduler,
# one kwok per zone; creates nodes labelled by zone; writes a kubeconfig with
# inline certificates (client-cert auth, TLS verified against the cluster CA)
# and prints its path. The control plane binds to 127.0.0.1.
# Real nodes (kubelet + containerd each, kube-proxy, locally built images; see
# realnodes.sh) join the kwok nodes: labelled faultline.io/node-kind=real and
# tainted faultline.io/real-node=true:NoSchedule, so only pods meant for them
# (tolerating the taint) land there. 0 gives a kwok-only cluster. Real nodes
# need root (network namespace, cgroups, mounts).
#
# Sizes: --nodes-per-zone 334 (1,002 kwok nodes) was Ready in 155 s on 2 shared
# cores (issue 14); 100 (300 nodes) in 49 s.
# Node Leases: kwok renews each node's Lease every quarter of --node-lease
# seconds (default 8, so a zone that loses power is NotReady in 10 s); the
# controller-manager's grace is 1.25x that. At 1,000 nodes 8 s means ~500
# Lease writes/s, more than 2 cores carry beside a drill: nodes then miss
# their grace, the node controller marks their pods Ready=False and a PDB
# refuses every eviction. Large clusters pass --node-lease 40 (~100/s).
# FAULTLINE_APISERVER_PROFILING=1 serves the API server's /debug/pprof (tests/bench/drain).
# usage: up.sh [--state DIR] [--zones zone-a,zone-b,zone-c] [--nodes-per-zone 3]
#              [--real-nodes-per-zone 0] [--node-lease 8]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$here/.state/default
zones=zone-a,zone-b,zone-c
per_zone=3
real_per_zone=${FAULTLINE_REAL_NODES_PER_ZONE:-0}
node_lease=8
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    --zones) zones=$2; shift 2 ;;
    --nodes-per-zone) per_zone=$2; shift 2 ;;
    --real-nodes-per-zone) real_per_zone=$2; shift 2 ;;
    --node-lease) node_lease=$2; shift 2 ;;
    --name) state=$here/.state/$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "up.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $per_zone =~ ^[0-9]+$ ]] || { echo "up.sh: --nodes-per-zone expects a number, got '$per_zone'" >&2; exit 2; }
[[ $node_lease =~ ^[0-9]+$ && $node_lease -ge 4 ]] || { echo "up.sh: --node-lease expects seconds >= 4, got '$node_lease'" >&2; exit 2; }
[[ $real_per_zone =~ ^[0-9]+$ ]] || { echo "up.sh: --real-nodes-per-zone expects a number, got '$real_per_zone'" >&2; exit 2; }
if ((real_per_zone > 0)) && [[ $(id -u) -ne 0 ]]; then
  echo "up.sh: real nodes need root (network namespace, cgroups, mounts); use --real-nodes-per-zone 0" >&2; exit 2
fi
mkdir -p "$state"
# The one spelling of the path that names everything of this cluster (the
# kernel reports mounts by physical path; down.sh and zone.sh do the same).
state=$(realpath -m "$state")
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=realnodes.sh
source "$here/realnodes.sh"

log() { echo "up.sh: $*" >&2; }
fail() {
  log "$*"
  for f in "$state"/logs/*.log; do [[ -f $f ]] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }; done
  # Leave nothing running (the logs stay for a look).
  "$here/down.sh" --state "$state" --keep-dir >/dev/null 2>&1 || true
  exit 1
}

# Reuse a cluster that is already up for this state directory.
if [[ -f "$state/kubeconfig" ]] && alive "$(pid_of kube-apiserver)" &&
   kubectl_ get --raw /readyz >/dev/null 2>&1; then
  log "already running"
  echo "$state/kubeconfig"
  exit 0
fi
[[ -f "$state/pids" ]] && "$here/down.sh" --state "$state" --keep-dir >/dev/null 2>&1 || true
# From here on, any failure (a command under set -e, a signal, not only
# fail()) stops what this run started: nothing is left running for a
# cluster that never came up (issue 14; tests/cluster/up-fails-clean.sh).
trap 'rc=$?; if ((rc != 0)); then "$here/down.sh" --state "$state" --keep-dir >/dev/null 2>&1 || true; fi' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A test hook: fail on purpose once this step is reached.
fail_at() { if [[ ${FAULTLINE_UP_FAIL_AT:-} == "$1" ]]; then log "failing at '$1' (FAULTLINE_UP_FAIL_AT)"; false; fi; }

bin=$("$here/build.sh")
t0=$(date +%s.%N)
rm -rf "$state/etcd" "$state/pki" "$state/logs" "$state/pids" "$state/nodes" "$state/images" "$state/real_nodes"
mkdir -p "$state/pki" "$state/logs"
ln -sfn "$bin" "$state/bin"
echo "$zones" >"$state/zones"
echo "$node_lease" >"$state/node_lease"
for f in "$here"/stages/*.yaml; do echo "---"; cat "$f"; done >"$state/kwok.yaml"

# --- real nodes' network index: decides the Service range (and the API
# server certificate's Service IP) ---
service_cidr=10.96.0.0/16
service_ip=10.96.0.1
extra_san=
if [[ $(id -u) -eq 0 ]]; then
  real_allocate || exit 1
  service_cidr=$(service_range)
  service_ip=10.96.$((16 * $(real_k))).1
  if ((real_per_zone > 0)); then
    # Pods reach the API server on the relay's address in the namespace.
    extra_san=",IP:10.250.$(real_k).2"
  else
    # No data plane: ClusterIPs lead nowhere, and never off this machine.
    ip route replace unreachable "$service_cidr"
  fi
fi

# --- certificates (generated per cluster; nothing secret is committed) ---
pki=$state/pki
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
sign() { # sign <name> <subject> <extensions>
  key "$pki/$1.key"
  openssl req -new -key "$pki/$1.key" -subj "$2" -out "$pki/$1.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 365 -out "$pki/$1.crt" -extfile <(printf '%s\n' "$3") 2>/dev/null
}
key "$pki/ca.key"
openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=faultline-local-ca" -days 365 -out "$pki/ca.crt" 2>/dev/null
sign apiserver "/CN=kube-apiserver" "subjectAltName=IP:127.0.0.1,IP:$service_ip$extra_san,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature,keyEncipherment"
sign admin "/O=system:masters/CN=faultline-admin" "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
# The API server's client certificate to the kubelets (logs, exec, cp): the
# kubelets trust the cluster CA and ask RBAC, where system:masters may all.
sign kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
key "$pki/sa.key"
openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)
b64() { base64 -w0 <"$1"; }
cat >"$state/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: faultline-local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(b64 "$pki/ca.crt")
users:
- name: faultline-admin
  user:
    client-certificate-data: $(b64 "$pki/admin.crt")
    client-key-data: $(b64 "$pki/admin.key")
contexts:
- name: faultline-local
  context: { cluster: faultline-local, user: faultline-admin, namespace: default }
current-context: faultline-local
KC
chmod 600 "$state/kubeconfig"

# --- etcd ---
start etcd "$bin/etcd" --name=local --data-dir="$state/etcd" \
  --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
  --listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
  --initial-cluster="local=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level=warn
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null 2>&1 && break
  alive "$(pid_of etcd)" || fail "etcd exited"
  sleep 0.1
done
curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null || fail "etcd not healthy after 30s"

# --- kube-apiserver ---
# /debug/pprof only on request (FAULTLINE_APISERVER_PROFILING=1: tests/bench/drain
# profiles where the server's CPU goes during a drain).
apiserver_profiling=false
[[ ${FAULTLINE_APISERVER_PROFILING:-0} == 1 ]] && apiserver_profiling=true
# Short default tolerations: pods leave a failed node in seconds, not 5 minutes.
start kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$etcd_port" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --authorization-mode=Node,RBAC --service-cluster-ip-range="$service_cidr" \
  --endpoint-reconciler-type=none --allow-privileged=true \
  --profiling="$apiserver_profiling" \
  --default-not-ready-toleration-seconds=5 --default-unreachable-toleration-seconds=5 \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --kubelet-client-certificate="$pki/kubelet-client.crt" --kubelet-client-key="$pki/kubelet-client.key"
for _ in $(seq 1 600); do
  kubectl_ get --raw /readyz >/dev/null 2>&1 && break
  alive "$(pid_of kube-apiserver)" || fail "kube-apiserver exited"
  sleep 0.1
done
kubectl_ get --raw /readyz >/dev/null 2>&1 || fail "kube-apiserver not ready after 60s"

# --- controller-manager, scheduler ---
# Node failure in seconds: a node whose Lease is 10s stale (--node-lease 8) is
# NotReady/Unknown and tainted; a fully failed zone is evicted at 10 nodes/s.
start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig="$state/kubeconfig" --authentication-kubeconfig="$state/kubeconfig" \
  --authorization-kubeconfig="$state/kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$(free_port)" --leader-elect=false \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --use-service-account-credentials=false \
  --node-monitor-period=1s --node-monitor-grace-period="$((node_lease * 5 / 4))s" \
  --node-eviction-rate=10 --secondary-node-eviction-rate=10 \
  --kube-api-qps=200 --kube-api-burst=400
start kube-scheduler "$bin/kube-scheduler" \
  --kubeconfig="$state/kubeconfig" --authentication-kubeconfig="$state/kubeconfig" \
  --authorization-kubeconfig="$state/kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$(free_port)" --leader-elect=false

# --- kwok: one per zone, plus one for nodes outside the zones (benchmarks) ---
for zone in $(tr ',' ' ' <<<"$zones") rest; do start_kwok "$zone"; done

# --- nodes ---
fail_at nodes
# A /24 per node from 10.64.0.0/10 (one octet ran out at 255 nodes): up to
# 9,472 nodes before 10.101.0.0/16, the first zone's kwok pod range.
node_pod_cidr() { echo "10.$((64 + $1 / 256)).$(($1 % 256)).0/24"; }
{
  i=0
  for zone in $(tr ',' ' ' <<<"$zones"); do
    for n in $(seq 1 "$per_zone"); do
      i=$((i + 1))
      cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: $zone-$n
  labels:
    topology.kubernetes.io/zone: $zone
    topology.kubernetes.io/region: local
    kubernetes.io/hostname: $zone-$n
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
spec:
  podCIDR: $(node_pod_cidr "$i")
  podCIDRs: [$(node_pod_cidr "$i")]
status:
  allocatable: { cpu: "8", memory: 32Gi, pods: "110" }
  capacity: { cpu: "8", memory: 32Gi, pods: "110" }
NODE
    done
  done
} >"$state/nodes.yaml"
kubectl_ apply -f "$state/nodes.yaml" >/dev/null || fail "could not create nodes"
# 60 s, plus 1 s per 20 nodes beyond 100 (1,000 kwok nodes heartbeat on 2 cores).
ready_within=$((60 + (i > 100 ? (i - 100) / 20 : 0)))
kubectl_ wait --for=condition=Ready nodes --all --timeout="${ready_within}s" >/dev/null ||
  fail "nodes not Ready after ${ready_within}s"
# Pods need the namespace's default ServiceAccount, made by the controller-manager.
for _ in $(seq 1 300); do
  kubectl_ get serviceaccount default -n default >/dev/null 2>&1 && break
  sleep 0.1
done
kubectl_ get serviceaccount default -n default >/dev/null 2>&1 || fail "no default ServiceAccount after 30s"

# --- real nodes ---
if ((real_per_zone > 0)); then
  tr0=$(date +%s.%N)
  i=0
  for zone in $(tr ',' ' ' <<<"$zones"); do
    for n in $(seq 1 "$real_per_zone"); do
      i=$((i + 1))
      echo "$zone-r$n $zone $i" >>"$state/real_nodes"
    done
  done
  real_network_up || fail "could not set up the real nodes' network"
  real_relay_start "$api_port"
  real_build_images || fail "could not build the node images"
  while read -r node zone i; do
    real_node_prepare "$node" "$zone" "$i"
    real_node_start "$node" "$zone" "$i" || fail "real node $node did not start"
  done <"$state/real_nodes"
  real_kube_proxy_start
  real_api_endpoint "$api_port"
  for node in $(cut -d' ' -f1 "$state/real_nodes"); do
    for _ in $(seq 1 600); do
      kubectl_ get node "$node" >/dev/null 2>&1 && break
      sleep 0.1
    done
  done
  kubectl_ wait --for=condition=Ready nodes -l faultline.io/node-kind=real --timeout=120s >/dev/null ||
    fail "real nodes not Ready after 120s"
  log "real nodes Ready in $(printf '%.1f' "$(echo "$(date +%s.%N) - $tr0" | bc)")s"
fi

t1=$(date +%s.%N)
rss=0
while read -r _ pid; do
  if alive "$pid"; then rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status"))); fi
done <"$state/pids"
log "ready in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)")s: $(tr ',' ' ' <<<"$zones" | wc -w) zones x ($per_zone kwok + $real_per_zone real) nodes; RSS of what it started $((rss / 1024)) MiB"
echo "$state/kubeconfig"
