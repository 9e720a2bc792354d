#!/usr/bin/env bash
# The README's test command. On a fresh machine it installs what the tests need (servers
# and tools, each in its own block below; each block reuses what is already installed),
# then runs every test. CI runs it through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

log "go: $(go version)"
go mod download

# --- tools and servers the tests need -------------------------------------------------
# Each block exports what the tests look for (GOC_*) and must be idempotent.
# (none yet beyond Go itself)

# --- checks ---------------------------------------------------------------------------
log "gofmt / go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...

# --- tests ----------------------------------------------------------------------------
log "go test"
go test -count=1 -timeout 25m ./...
