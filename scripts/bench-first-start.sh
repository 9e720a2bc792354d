#!/usr/bin/env bash
# What a new user waits for on a fresh clone (issue 15): build goc with an empty Go build
# cache (the module cache as it is), then `goc demo` on a fresh data folder until
# /healthz answers. Prints the two times and the machine's load average beside them.
#
#   scripts/bench-first-start.sh            # from the repository root
#
# The build cache, data folder and binary are temporary and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
-h | --help)
	sed -n '2,8p' "$0"
	exit 0
	;;
esac

work=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

echo "go: $(go version); $(nproc) CPUs; load before: $(load)" >&2
t0=$(now)
GOCACHE="$work/cache" go build -o "$work/goc" ./cmd/goc
t1=$(now)
echo "build with an empty cache: $(secs "$t0" "$t1") s (load $(load))" >&2

# The demo on a port the kernel chooses; its first line names the address.
"$work/goc" demo --addr 127.0.0.1:0 --portal-addr "" --data "$work/data" >"$work/demo.log" 2>&1 &
pid=$!
url=""
until [ -n "$url" ] && curl -fsS "$url/healthz" >/dev/null 2>&1; do
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$work/demo.log" >&2
		echo "goc demo exited before it was healthy" >&2
		exit 1
	fi
	url=$(grep -o 'is serving at http://[0-9.:]*' "$work/demo.log" | sed 's/is serving at //' || true)
	sleep 0.1
done
t2=$(now)
echo "demo to healthy: $(secs "$t1" "$t2") s (load $(load))" >&2
printf '| %s | %s s | %s s | %s |\n' "$(date -u +%F)" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")" "$(load)"
