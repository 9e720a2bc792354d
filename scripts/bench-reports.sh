#!/usr/bin/env bash
# Benchmarks of the reports (issue 6), as recorded in BENCHMARKS.md:
#   - a 1,000,000-row XLSX export against a bare excelize StreamWriter writing the same
#     cells in the same run (alternating, medians), with the peak heap of each;
#   - the export's peak heap at 100,000 and 1,000,000 rows (it must not grow);
#   - the same rows as CSV;
#   - the ranking workbook of every province (34 in 2025, 63 in 2024), from the SQLite
#     store through the query layer.
# Takes a few minutes on 2 cores. Not part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
printf '== go test -bench (reports)\n' >&2
go test ./reports -run '^$' -bench 'RankingWorkbook' -benchtime 10x
go test ./reports -run '^$' -bench 'Export1M$|ExportMemory|CSVExport1M' -benchtime 1x -timeout 30m
