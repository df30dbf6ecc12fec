# Shared by velero/up.sh, velero/down.sh and velero/bucket.sh (after ../lib.sh).
bucket=velero

# s3 <method> <path>: one request to the MinIO of $store (s3.env), signed
# with SigV4 by curl itself. Prints the body; fails on an HTTP error.
s3() {
  local method=$1 path=$2
  # shellcheck disable=SC1091
  source "${store:-$state}/velero/s3.env"
  # The key goes to curl on stdin, not on its command line (ps shows that).
  curl -fsS -X "$method" --aws-sigv4 "aws:amz:minio:s3" -K - "$S3_URL$path" \
    <<<"user = \"$S3_USER:$S3_PASSWORD\""
}
