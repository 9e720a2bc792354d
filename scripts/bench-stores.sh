#!/usr/bin/env bash
# Write throughput and read latency at national scale, for the embedded store (SQLite)
# and InfluxDB 1.8.10, in one run: the numbers in BENCHMARKS.md ("Stores").
#
#   scripts/bench-stores.sh [BENCHTIME]     (default 5x: five iterations of each)
#
# InfluxDB is built or reused by scripts/influxd.sh; its benchmarks start their own
# influxd on loopback. Results go to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

GOC_INFLUXD=$(scripts/influxd.sh install)
export GOC_INFLUXD

printf '== machine: %s cores, %s, %s\n' "$(nproc)" \
	"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
	"$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" >&2
printf '== %s, %s\n' "$(go version)" "$("$GOC_INFLUXD" version)" >&2
go test -run '^$' -bench . -benchtime "${1:-5x}" -timeout 30m \
	./internal/store/sqlite ./internal/store/influx
