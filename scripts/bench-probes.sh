#!/usr/bin/env bash
# Probe benchmark: G-OC's prober side by side with blackbox_exporter on the same
# loopback targets (see bench/probebench). Not part of scripts/test.sh: it takes a few
# minutes and its numbers go to BENCHMARKS.md.
#
#   scripts/bench-probes.sh                 # the BENCHMARKS.md run
#   scripts/bench-probes.sh -n 300 -rounds 1 -sched-n 0   # a quick look
#   scripts/bench-probes.sh -rounds 0 -timing 0 -sched-n 10000 -sched-interval 60s \
#     -sched-intervals 1 -sched-batch off,10ms,25ms,50ms,off,10ms,25ms,50ms -delay 37ms
#                                           # batch windows side by side (BENCHMARKS.md)
#   scripts/bench-probes.sh -n 0 -rounds 0 -timing 0 -sched-n 10000 -sched-interval 60s \
#     -sched-intervals 1 -sched-batch 10ms,25ms -delay 37ms -sched-raw
#                                           # G-OC's pipeline beside net/http alone and a
#                                           # bare client on the same grid (BENCHMARKS.md)
#
# blackbox_exporter comes from $BLACKBOX_EXPORTER, then PATH, then is built once
# (v0.28.0, in a throwaway module outside the repository) into ~/.cache/goc-bench.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

bbx="${BLACKBOX_EXPORTER:-}"
if [ -z "$bbx" ] && command -v blackbox_exporter >/dev/null 2>&1; then
	bbx="$(command -v blackbox_exporter)"
fi
if [ -z "$bbx" ]; then
	bbx="${XDG_CACHE_HOME:-$HOME/.cache}/goc-bench/blackbox_exporter-v0.28.0"
	if [ ! -x "$bbx" ]; then
		log "building blackbox_exporter v0.28.0 (once) into $bbx"
		mkdir -p "$(dirname "$bbx")"
		tmp="$(mktemp -d)"
		(
			cd "$tmp"
			go mod init probebench-tmp >/dev/null 2>&1
			go get -tool github.com/prometheus/blackbox_exporter@v0.28.0 >&2
			go build -o "$bbx" github.com/prometheus/blackbox_exporter
		)
		rm -rf "$tmp"
	fi
fi
log "blackbox_exporter: $("$bbx" --version 2>&1 | head -1)"
log "building bench/probebench"
bin="$(mktemp -d)/probebench"
go build -o "$bin" ./bench/probebench
log "running (several minutes); results follow as Markdown"
"$bin" -blackbox "$bbx" "$@"
rm -rf "$(dirname "$bin")"
