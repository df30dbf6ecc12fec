#!/usr/bin/env bash
# The runner's peak RSS while it tracks a zone drain on a large local cluster
# (issue 5). Starts (or reuses) a kwok cluster at --state, grows it to
# --nodes-per-zone nodes in each of its three zones, deploys --replicas pods
# spread evenly over the zones behind a Service and a PodDisruptionBudget,
# then runs a zone-drain experiment (probes: pods + endpoints) under
# /usr/bin/time -v and prints peak RSS, cluster size, drain and re-placement
# times. A benchmark: it prints figures and asserts nothing about them.
#
# usage: bench_rss.sh [--state DIR] [--nodes-per-zone N] [--replicas R]
#                     [--max-unavailable PCT] [--within SECONDS] [--node-lease SECONDS]
#                     [--binary FAULTLINE] [--keep]
#   --state            cluster state dir (default /tmp/faultline-bench-rss)
#   --nodes-per-zone   default 100
#   --replicas         default 600
#   --max-unavailable  the PDB's maxUnavailable (default 10%)
#   --within           the drain's timeout and the replacement SLO's bound, s
#                      (default 180; a zone of thousands of pods needs more)
#   --node-lease       the nodes' Lease duration for a cluster this starts
#                      (up.sh --node-lease; default 8, 40 above 300 nodes:
#                      kwok's Lease writes otherwise take the control plane)
#   --binary           the faultline binary (default $FAULTLINE_BINARY, else build/runner/faultline)
#   --keep             leave the cluster running (default: down.sh at the end)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
state=/tmp/faultline-bench-rss
per_zone=100
replicas=600
max_unavailable=10%
within=180
node_lease=
binary=${FAULTLINE_BINARY:-$src/build/runner/faultline}
keep=
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    --nodes-per-zone) per_zone=$2; shift 2 ;;
    --replicas) replicas=$2; shift 2 ;;
    --max-unavailable) max_unavailable=$2; shift 2 ;;
    --within) within=$2; shift 2 ;;
    --node-lease) node_lease=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "bench_rss.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $per_zone =~ ^[0-9]+$ && $per_zone -ge 1 ]] || { echo "bench_rss.sh: --nodes-per-zone expects a number >= 1, got '$per_zone'" >&2; exit 2; }
[[ $replicas =~ ^[0-9]+$ && $replicas -ge 3 ]] || { echo "bench_rss.sh: --replicas expects a number >= 3, got '$replicas'" >&2; exit 2; }
[[ $within =~ ^[0-9]+$ && $within -ge 1 ]] || { echo "bench_rss.sh: --within expects seconds >= 1, got '$within'" >&2; exit 2; }
[[ -x $binary ]] || { echo "bench_rss.sh: no faultline binary at $binary (build it, or pass --binary)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench_rss.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

log() { echo "bench_rss: $*" >&2; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

# Kept afterwards: the experiment, the runner's log, its reports.
work=$(mktemp -d /tmp/faultline-bench-rss-work.XXXXXX)
cleanup() {
  if [[ -z $keep ]]; then "$src/tests/cluster/down.sh" --state "$state" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# --- the cluster: up.sh's 3 nodes per zone, then the rest added here ---
t=$(now)
[[ -n $node_lease ]] || { if ((per_zone * 3 > 300)); then node_lease=40; else node_lease=8; fi; }
kubeconfig=$("$src/tests/cluster/up.sh" --state "$state" --nodes-per-zone 3 --node-lease "$node_lease" | tail -n 1)
K() { "$state/bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }
zones=$(tr ',' ' ' <"$state/zones")
if ((per_zone > 3)); then
  for zone in $zones; do
    for n in $(seq 4 "$per_zone"); do
      # No podCIDR: kwok hands out pod IPs from its own per-zone range.
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
status:
  allocatable: { cpu: "8", memory: 32Gi, pods: "110" }
  capacity: { cpu: "8", memory: 32Gi, pods: "110" }
NODE
    done
  done >"$work/nodes.yaml"
  # --force-conflicts: on a re-run the controller-manager co-owns the ttl annotation.
  K apply --server-side --force-conflicts -f "$work/nodes.yaml" >/dev/null
fi
K wait --for=condition=Ready nodes --all --timeout=300s >/dev/null
nodes=$(K get nodes --no-headers | wc -l)
log "cluster: $nodes nodes Ready in $(since "$t")s"

# --- the workload: even over zones, a Service, a PDB ---
t=$(now)
cat >"$work/app.yaml" <<APP
apiVersion: v1
kind: Namespace
metadata: { name: bench }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: bench, namespace: bench, labels: { app: bench } }
spec:
  replicas: $replicas
  # On 2 loaded cores the controller-manager's status can lag minutes behind
  # pods that are Ready; the default 600 s deadline then fails a healthy
  # rollout (seen at 1,500 pods).
  progressDeadlineSeconds: 3600
  selector: { matchLabels: { app: bench } }
  template:
    metadata:
      labels: { app: bench }
      annotations: { pod-ready.stage.kwok.x-k8s.io/delay: "1s" }
    spec:
      automountServiceAccountToken: false
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions: [{ key: topology.kubernetes.io/zone, operator: Exists }]
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: DoNotSchedule
          labelSelector: { matchLabels: { app: bench } }
          matchLabelKeys: [pod-template-hash]
          nodeTaintsPolicy: Honor
      containers:
        - name: app
          image: registry.k8s.io/pause:3.10
          ports: [{ name: http, containerPort: 8080 }]
          resources: { requests: { cpu: 10m, memory: 16Mi } }
---
apiVersion: v1
kind: Service
metadata: { name: bench, namespace: bench }
spec:
  selector: { app: bench }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: bench, namespace: bench }
spec:
  maxUnavailable: $max_unavailable
  selector: { matchLabels: { app: bench } }
APP
# A fresh namespace each run: a previous drain leaves the pods bunched in the
# surviving zones, and the drill must start from an even spread.
K delete namespace bench --ignore-not-found --wait=true --timeout=600s >/dev/null
K apply -f "$work/app.yaml" >/dev/null
K rollout status deployment/bench -n bench --timeout=1800s >/dev/null
pods_in() { K get pods -n bench -l app=bench -o wide --no-headers | awk -v z="$1-" 'index($7, z) == 1' | wc -l; }
zone=$(awk '{print $1}' <<<"$zones")
in_zone=$(pods_in "$zone")
log "workload: $replicas replicas Ready in $(since "$t")s, $in_zone on $zone"

# --- the drill, measured ---
cat >"$work/drain.yaml" <<EXP
apiVersion: faultline.io/v1alpha1
kind: Experiment
metadata: { name: bench-rss-zone-drain }
spec:
  script: zone_drain.lua
  params: { zone: $zone, timeout: ${within}s, within: ${within}s }
  target: { namespace: bench, selector: app=bench, service: bench }
  probes:
    - { name: endpoints, endpoints: { service: bench } }
    - { name: pods, pods: {} }
  slos:
    - { ready_endpoints: { service: bench, min: 1 } }
    - { replacement: { within: ${within}s, max_skew: 1 } }
    - { pdb: { name: bench } }
  guards: { max_zones: 1, namespaces: [bench] }
  timing: { warmup: 3s, recovery: 30s, cooldown: 2s }
EXP
log "draining $zone under /usr/bin/time -v"
set +e
/usr/bin/time -v -o "$work/time.txt" "$binary" run "$work/drain.yaml" --kubeconfig "$kubeconfig" \
  --scripts "$src/lua-scripts" --output-dir "$work/report" --no-progress >"$work/run.log" 2>&1 &
timer=$!
# RSS over time (every 0.5s), to see which phase the peak falls in.
t0=$(now)
runner=
while kill -0 "$timer" 2>/dev/null; do
  # /usr/bin/time has one child, the runner, whatever its binary is called.
  [[ -z $runner ]] && runner=$(pgrep -P "$timer" | head -n 1 || true)
  if [[ -n $runner ]]; then
    # VmRSS, then what it is made of: RssAnon (heap, stacks), RssFile (the
    # binary and its libraries), the thread count, and VmHWM (the peak so
    # far: where it rises tells the 0.5 s a peak between two samples fell in).
    sample=$(awk '/^VmRSS/ {r=$2} /^RssAnon/ {a=$2} /^RssFile/ {f=$2} /^Threads/ {n=$2} /^VmHWM/ {h=$2}
                  END {if (r) print r, a, f, n, h}' "/proc/$runner/status" 2>/dev/null || true)
    [[ -n $sample ]] && echo "$(since "$t0") $sample" >>"$work/rss.txt"
  fi
  sleep 0.5
done
wait "$timer"
rc=$?
set -e
/usr/bin/time -v -o "$work/time-idle.txt" "$binary" version >/dev/null 2>&1 || true

peak_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
idle_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time-idle.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u + s}' "$work/time.txt")
# From the report: when the drain began and ended (the script's log lines),
# what it evicted, and when every replica was Ready off the zone.
read -r drain_s evicted failed refusals replaced_s samples result < <(python3 - "$work/report/report.json" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
def t(pattern):
    for line in r.get("log", []):
        if re.search(pattern, line):
            return float(line.split("s ", 1)[0])
    return None
start, end = t(r"zone drain: draining"), t(r"evicted \d+ pod")
m = next((re.search(r"evicted (\d+) pod.*failed (\d+), (\d+) PDB refusal", l) for l in r.get("log", []) if "evicted" in l), None)
samples = sum(len(s.get("points", [])) for s in r.get("series", []))
print(f"{end - start:.1f}" if start is not None and end is not None else "?",
      *(m.groups() if m else ("?", "?", "?")),
      f"{r['replacement_seconds']:.1f}" if isinstance(r.get("replacement_seconds"), (int, float)) else "?",
      samples, r.get("result", "?"))
PY
)

if ((rc != 0)); then
  log "the drill did not pass; the end of its log:"
  grep -v '^\[' "$work/run.log" | tail -n 15 >&2
fi
# Evictions that failed (not PDB refusals, which are retried): their errors, counted.
python3 - "$work/report/report.json" <<'PY' >&2 || true
import collections, json, re, sys
r = json.load(open(sys.argv[1]))
errors = collections.Counter(re.sub(r'pods "[^"]*"', 'pods "<pod>"', f.get("error", "")) for f in r.get("faults", [])
                             if f.get("action", "").startswith("evict") and f.get("error"))
for e, n in errors.most_common(5):
    print(f"bench_rss: {n} eviction(s) failed: {e}")
PY

# The phase the RSS peak fell in (sampled; the phases from the report, in
# seconds since the run started, which is within ~0.1s of the sampler's t0).
peak_phase=$(python3 - "$work/report/report.json" "$work/rss.txt" <<'PY' 2>/dev/null || echo "?"
import json, sys
r = json.load(open(sys.argv[1]))
samples = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
t, kib, anon, file, threads, *_ = max(samples, key=lambda s: s[1])
def phase_at(t):
    return next((p["name"] for p in r["phases"] if p["started"] <= t <= p["ended"] + 0.5), "?")
at = {p["name"]: max((s[1] for s in samples if p["started"] <= s[0] <= p["ended"]), default=0) for p in r["phases"]}
# The true peak (VmHWM) may fall between samples: the first sample that
# shows the final high-water mark follows it.
hwm = [s for s in samples if len(s) > 5]
true_peak = ""
if hwm:
    top = max(s[5] for s in hwm)
    i = next(i for i, s in enumerate(hwm) if s[5] == top)
    since = hwm[i - 1][0] if i else 0.0
    true_peak = f"; the peak ({int(top)} KiB) fell in t={since:.1f}-{hwm[i][0]:.1f}s ({phase_at(hwm[i][0])})"
print(f"{phase_at(t)} (t={t:.1f}s: anon {int(anon) // 1024}, file {int(file) // 1024} MiB, {int(threads)} threads); by phase: "
      + ", ".join(f"{n} {int(k) // 1024}" for n, k in at.items() if k) + " MiB" + true_peak)
PY
)

cat <<OUT
bench_rss: zone drain of $zone tracked by $("$binary" version 2>/dev/null | head -n 1)
  cluster               $nodes nodes ($per_zone per zone x $(wc -w <<<"$zones") zones), $replicas pods, $in_zone on $zone
  PDB                   maxUnavailable $max_unavailable
  result                $result (exit $rc)
  drain                 ${drain_s}s: $evicted pods evicted, $failed failed, $refusals PDB refusals retried
  re-placement          ${replaced_s}s from the fault until every replica was Ready off $zone (the replacement SLO's measure)
  timeline samples      $samples
  runner wall / CPU     $wall / ${cpu}s
  runner peak RSS       $((peak_kib / 1024)) MiB ($peak_kib KiB)
  peak in phase         $peak_phase
  baseline RSS          $((idle_kib / 1024)) MiB (faultline version)
  run log, reports      $work
OUT
