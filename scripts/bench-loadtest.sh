#!/usr/bin/env bash
# The hostile-load proof of issue 13: builds goc and bench/loadtest, fills an embedded
# store with VALUES observations (kept in $DIR for later runs), starts `goc serve` on
# loopback and for DURATION runs 200 readers of every public endpoint, 20 agencies
# uploading 5 MB files and 20 submitting small JSON. Prints requests, p99 per
# endpoint, status counts, the server's peak RSS and the acknowledged submissions found
# in the store after. Delete $DIR afterwards (1M values: about 300 MB).
#
#   scripts/bench-loadtest.sh                       # 1,000,000 values, 60 s
#   VALUES=100000 scripts/bench-loadtest.sh         # a tenth, to compare
#   PROFILE=1 scripts/bench-loadtest.sh             # also keep the heap profile of the
#                                                   # RSS peak in $DIR (goc serve --pprof)
set -euo pipefail
cd "$(dirname "$0")/.."
VALUES=${VALUES:-1000000}
DIR=${DIR:-${TMPDIR:-/tmp}/goc-loadtest-$VALUES}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/goc" ./cmd/goc
go build -o "$BIN/loadtest" ./bench/loadtest
"$BIN/loadtest" -goc "$BIN/goc" -dir "$DIR" -values "$VALUES" -duration "${DURATION:-60s}" ${PROFILE:+-profile}
