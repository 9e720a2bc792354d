#!/usr/bin/env bash
# Redis for G-OC's replicas, on one machine, for trying several replicas by hand (the
# tests start their own through internal/redistest).
#
#   scripts/redis.sh run [DIR] [PORT]   runs redis-server in the foreground on
#                                       127.0.0.1:PORT (6379) with its files in DIR
#                                       (./redis-data) and the append-only file on and
#                                       synced before each answer (appendfsync always):
#                                       the revision ledger, reviews, sessions, keys and
#                                       reminder claims survive a crash of Redis
#
# Install Redis first: apt-get install redis-server (scripts/test.sh does it).
set -euo pipefail

log() { printf '== redis: %s\n' "$*" >&2; }

run() {
	local dir=${1:-redis-data} port=${2:-6379} bin
	bin=${GOC_REDIS_SERVER:-$(command -v redis-server || true)}
	[ -n "$bin" ] || { log "no redis-server: apt-get install redis-server"; exit 1; }
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
dir $dir
appendonly yes
appendfsync always
save ""
protected-mode yes
daemonize no
CONF
	log "listening on 127.0.0.1:$port, files in $dir"
	exec "$bin" "$dir/redis.conf"
}

case "${1:-}" in
run) shift; run "$@" ;;
-h | --help | help | "")
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	[ -n "${1:-}" ] || exit 2
	;;
*) log "unknown command $1; try: scripts/redis.sh --help"; exit 2 ;;
esac
