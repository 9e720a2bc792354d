#!/usr/bin/env bash
# Measures `goc import` on a 1,000,000-row XLSX and CSV against a plain excelize Rows()
# read of the same workbook: wall time, the ratio to the baseline, and peak RSS of each
# run (the child process's maximum resident set size). Prints a Markdown table for
# BENCHMARKS.md. The generated files (about 60 MB) stay in $DIR for later runs.
#
#   scripts/bench-import.sh            # one run of each
#   RUNS=3 scripts/bench-import.sh     # best of three
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DIR:-${TMPDIR:-/tmp}/goc-bench-import}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
printf '== build\n' >&2
go build -o "$BIN/goc" ./cmd/goc
go build -o "$BIN/importbench" ./bench/import
"$BIN/importbench" -goc "$BIN/goc" -dir "$DIR" -runs "${RUNS:-1}"
