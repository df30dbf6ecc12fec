#!/usr/bin/env bash
# A failed up.sh stops what it started (issue 14): up.sh is made to fail on
# purpose once the control plane and the kwoks are up (FAULTLINE_UP_FAIL_AT=
# nodes), then check-clean.sh must find nothing left on the machine.
# usage: up-fails-clean.sh   (exit 0: clean; 1: up.sh did not fail, or left something)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
state=$tmp/cluster
if FAULTLINE_UP_FAIL_AT=nodes "$here/up.sh" --state "$state" >"$tmp/up.log" 2>&1; then
  echo "up-fails-clean.sh: up.sh succeeded, it was meant to fail"; "$here/down.sh" --state "$state"; exit 1
fi
grep -q "failing at 'nodes'" "$tmp/up.log" || { echo "up-fails-clean.sh: up.sh failed before the hook:"; cat "$tmp/up.log"; exit 1; }
# It had started something before failing: the control plane and the kwoks.
started=$(wc -l <"$state/pids")
((started > 0)) || { echo "up-fails-clean.sh: nothing was started before the failure"; exit 1; }
# A failed up.sh keeps its logs (down.sh --keep-dir); what must be gone is
# everything else, which check-clean.sh finds by the state path.
rm -rf "$state"
"$here/check-clean.sh" --state "$state"
echo "up-fails-clean.sh: up.sh failed mid-way after starting $started processes; nothing left"
