#!/usr/bin/env bash
# InfluxDB 1.8.10 for G-OC's tests and for trying the influx backend by hand.
#
#   scripts/influxd.sh install          prints the path of influxd 1.8.10, building it
#                                       from the Go module proxy if it is not there yet
#                                       (2-5 minutes the first time)
#   scripts/influxd.sh run [DIR] [PORT] runs it in the foreground on 127.0.0.1:PORT
#                                       (8086) with its data in DIR (./influxdb-data),
#                                       Flux on, and creates the database "goc"
#
# The tests start and stop influxd themselves from $GOC_INFLUXD, which scripts/test.sh
# sets from `install`. Progress goes to stderr; only the path goes to stdout.
set -euo pipefail

version=1.8.10
module=github.com/influxdata/influxdb
ldflags="-s -w -X main.version=$version"

log() { printf '== influxd: %s\n' "$*" >&2; }

is_wanted() { [ -x "$1" ] && "$1" version 2>/dev/null | grep -q "v$version "; }

install() {
	local bin
	if [ -n "${GOC_INFLUXD:-}" ] && is_wanted "$GOC_INFLUXD"; then
		log "reusing $GOC_INFLUXD"
		echo "$GOC_INFLUXD"
		return
	fi
	bin="$(go env GOPATH)/bin/influxd"
	if is_wanted "$bin"; then
		log "reusing $bin"
		echo "$bin"
		return
	fi
	log "building InfluxDB $version from the module proxy (a few minutes the first time)"
	if ! (cd "$(mktemp -d)" && go install -ldflags "$ldflags" "$module/cmd/influxd@v$version") >&2; then
		# Some proxies refuse `go install pkg@version` for modules with replace
		# directives; a throwaway module builds the same source.
		log "go install refused; building in a throwaway module"
		local tmp
		tmp=$(mktemp -d)
		(cd "$tmp" && go mod init influxd-build >/dev/null 2>&1 &&
			go get -tool "$module/cmd/influxd@v$version" >&2 &&
			go build -ldflags "$ldflags" -o "$bin" "$module/cmd/influxd") >&2
		rm -rf "$tmp"
	fi
	is_wanted "$bin" || { log "built $bin but it does not report version $version"; exit 1; }
	log "installed $bin"
	echo "$bin"
}

run() {
	local dir=${1:-influxdb-data} port=${2:-8086} bin rpc
	bin=$(install)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	rpc=$((port + 2))
	cat >"$dir/influxd.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$port"
  flux-enabled = true
  log-enabled = false
EOF
	"$bin" -config "$dir/influxd.conf" &
	local pid=$!
	trap 'kill $pid 2>/dev/null; wait $pid' INT TERM EXIT
	for _ in $(seq 300); do
		curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
		kill -0 $pid 2>/dev/null || { log "influxd exited"; exit 1; }
		sleep 0.1
	done
	curl -fsS -XPOST "http://127.0.0.1:$port/query" \
		--data-urlencode 'q=CREATE DATABASE goc WITH SHARD DURATION 520w' >/dev/null
	log "InfluxDB $version on http://127.0.0.1:$port, database goc (bucket goc/autogen), data in $dir; Ctrl-C stops it"
	wait $pid
}

case "${1:-}" in
install) install ;;
run) shift; run "$@" ;;
*)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
