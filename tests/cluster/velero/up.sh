#!/usr/bin/env bash
# Starts Velero for one local cluster (tests/cluster/up.sh), as Velero's own
# development setup runs it: the server as a local process with the
# cluster's kubeconfig, its CRDs from `velero install --crds-only`, the AWS
# object-store plugin in a plugin directory of its own (in a pod it is an
# init container copying the binary into /plugins), and a
# BackupStorageLocation "default" in a MinIO bucket. Without --store this
# cluster also runs the MinIO (127.0.0.1, a free port, data under the
# cluster's state); with --store OTHER it uses OTHER's MinIO, so both
# clusters' Velero see the same bucket (the second region of a DR drill).
# Namespace objects only: no volume snapshots, no node agent. Every process
# is recorded in the cluster's pids file, so the cluster's down.sh stops it.
#
# usage: velero/up.sh --state CLUSTER_STATE [--store OTHER_CLUSTER_STATE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state= store=
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "velero/up.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n $state && -f $state/kubeconfig ]] || { echo "velero/up.sh: --state must name a running cluster's state directory" >&2; exit 2; }
state=$(realpath -m "$state")
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib.sh
source "$here/lib.sh"
log() { echo "velero/up.sh: $*" >&2; }
fail() {
  log "$*"
  for f in "$state"/logs/velero.log "$state"/logs/minio.log; do
    [[ -f $f ]] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}

vbin=$("$here/build.sh")
t0=$(date +%s.%N)
mkdir -p "$state/velero/plugins"
ln -sfn "$vbin" "$state/velero/bin"

# --- the object store ---
if [[ -z $store ]]; then
  store=$state
  if ! alive "$(pid_of minio)"; then
    mkdir -p "$state/velero/minio-data"
    port=$(free_port)
    # A fresh password each start (MinIO takes its root user from the
    # environment every time); readable by root only.
    (umask 077 && printf 'S3_USER=faultline\nS3_PASSWORD=%s\nS3_URL=http://127.0.0.1:%s\n' \
      "$(head -c 18 /dev/urandom | base64 | tr -d '+/=')" "$port" >"$state/velero/s3.env")
    # shellcheck disable=SC1091
    source "$state/velero/s3.env"
    chmod 600 "$state/velero/s3.env"
    MINIO_ROOT_USER=$S3_USER MINIO_ROOT_PASSWORD=$S3_PASSWORD MINIO_BROWSER=off \
      MINIO_CALLHOME_ENABLE=off MINIO_UPDATE=off \
      start minio "$vbin/minio" server --quiet --address "127.0.0.1:$port" \
      --console-address "127.0.0.1:$(free_port)" "$state/velero/minio-data"
    for _ in $(seq 1 300); do
      curl -fsS "http://127.0.0.1:$port/minio/health/ready" >/dev/null 2>&1 && break
      alive "$(pid_of minio)" || fail "minio exited"
      sleep 0.1
    done
    curl -fsS "http://127.0.0.1:$port/minio/health/ready" >/dev/null 2>&1 || fail "minio not ready after 30s"
    # health/ready can answer before the object layer is up: then the PUT
    # gets a 503 (seen once from a clean clone); retry for up to 10 s.
    for _ in $(seq 1 50); do
      s3 PUT "/$bucket" >/dev/null 2>&1 && break
      sleep 0.2
    done
    s3 GET "/$bucket?list-type=2&max-keys=1" >/dev/null || fail "could not create bucket $bucket"
  fi
fi
store=$(realpath -m "$store")
[[ -f $store/velero/s3.env ]] || fail "no MinIO at $store (start it there first)"
# shellcheck disable=SC1091
source "$store/velero/s3.env"
printf '[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n' "$S3_USER" "$S3_PASSWORD" \
  >"$state/velero/credentials"
chmod 600 "$state/velero/credentials"

# --- Velero ---
if ! alive "$(pid_of velero)"; then
  "$vbin/velero" install --crds-only --kubeconfig "$state/kubeconfig" >"$state/logs/velero-install.log" 2>&1 ||
    fail "velero install --crds-only failed (see $state/logs/velero-install.log)"
  kubectl_ wait --for=condition=Established crd/backups.velero.io crd/restores.velero.io \
    crd/backupstoragelocations.velero.io --timeout=60s >/dev/null || fail "Velero CRDs not Established"
  kubectl_ create namespace velero --dry-run=client -o yaml | kubectl_ apply -f - >/dev/null
  kubectl_ apply -f - >/dev/null <<BSL || fail "could not create the BackupStorageLocation"
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: { name: default, namespace: velero }
spec:
  provider: aws
  default: true
  objectStorage: { bucket: $bucket }
  config:
    region: minio
    s3ForcePathStyle: "true"
    s3Url: $S3_URL
    # MinIO does not take the checksums the AWS SDK now adds by default.
    checksumAlgorithm: ""
BSL
  # Velero's restore actions read the image of the Deployment "velero" (for
  # the restore helper they add to pods with volumes); it fails every
  # restore with pods when there is none. The server runs here as a local
  # process, so the Deployment stays at 0 replicas: it only names the image.
  kubectl_ apply -f - >/dev/null <<DEPLOY || fail "could not create the velero Deployment"
apiVersion: apps/v1
kind: Deployment
metadata: { name: velero, namespace: velero, labels: { component: velero } }
spec:
  replicas: 0
  selector: { matchLabels: { component: velero } }
  template:
    metadata: { labels: { component: velero } }
    spec:
      containers: [ { name: velero, image: "velero/velero:v1.18.3" } ]
DEPLOY
  # Through a symlink under the state, so the plugin's command line names
  # this cluster (down.sh and check-clean.sh know a process by it).
  ln -sfn "$vbin/plugins/velero-plugin-for-aws" "$state/velero/plugins/velero-plugin-for-aws"
  AWS_SHARED_CREDENTIALS_FILE=$state/velero/credentials VELERO_NAMESPACE=velero \
    start velero "$vbin/velero" server --kubeconfig="$state/kubeconfig" --namespace=velero \
    --plugin-dir="$state/velero/plugins" \
    --metrics-address="127.0.0.1:$(free_port)" --profiler-address="127.0.0.1:$(free_port)" \
    --default-backup-storage-location=default --backup-sync-period=5s \
    --store-validation-frequency=10s --default-volumes-to-fs-backup=false --log-level=info
fi
for _ in $(seq 1 600); do
  [[ $(kubectl_ get bsl default -n velero -o 'jsonpath={.status.phase}' 2>/dev/null) == Available ]] && break
  alive "$(pid_of velero)" || fail "velero server exited"
  sleep 0.1
done
[[ $(kubectl_ get bsl default -n velero -o 'jsonpath={.status.phase}' 2>/dev/null) == Available ]] ||
  fail "BackupStorageLocation default not Available after 60s"
log "Velero ready in $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")s (bucket $bucket at $S3_URL)"
