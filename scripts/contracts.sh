#!/usr/bin/env bash
# The published contracts, checked with the tools their readers use (issue 19):
# - the open-data package (internal/opendata, made from the demo history by its Go test)
#   validated by the Frictionless datapackage library: descriptor, every row against its
#   Table Schema, primary and foreign keys (scripts/validate-datapackage.js).
# - api/client/client.gen.go is what oapi-codegen (pinned in api/client/generate.go)
#   makes from api/openapi.yaml today, so the client never drifts from the description.
# - api/openapi.yaml linted by @redocly/cli (Redocly's recommended rules, each an error:
#   redocly.yaml; what is left out on purpose: .redocly.lint-ignore.yaml).
# The npm tools are pinned and installed once into .tools/ (GOC_TOOLS); a run with the
# pinned versions already there installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

REDOCLY_CLI=2.77.0
DATAPACKAGE=1.1.10

tools=${GOC_TOOLS:-$PWD/.tools}
log() { printf '== %s\n' "$*" >&2; }

# need PACKAGE VERSION BIN: install PACKAGE@VERSION into $tools unless it is there.
need() {
	local have
	have=$(node -p "try { require('$tools/node_modules/$1/package.json').version } catch { '' }" 2>/dev/null || true)
	if [ "$have" != "$2" ]; then
		log "installing $1@$2 into $tools"
		mkdir -p "$tools"
		npm install --silent --no-audit --no-fund --prefix "$tools" "$1@$2" >/dev/null
	fi
}

log "api/client: regenerate with oapi-codegen and compare with the committed client"
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
mkdir -p "$gen/api/client"
cp api/openapi.yaml "$gen/api/" && cp api/client/oapi-codegen.yaml "$gen/api/client/"
gocmd=$(sed -n 's|^//go:generate ||p' api/client/generate.go) # the same command and version
(cd "$gen/api/client" && $gocmd)
if ! cmp -s "$gen/api/client/client.gen.go" api/client/client.gen.go; then
	diff -u api/client/client.gen.go "$gen/api/client/client.gen.go" | head -40 >&2 || true
	echo "api/client/client.gen.go is stale: run go generate ./api/client and commit it" >&2
	exit 1
fi

need @redocly/cli "$REDOCLY_CLI"
log "lint api/openapi.yaml with @redocly/cli $REDOCLY_CLI"
# Redocly would otherwise send usage data and check for updates; CI has no network.
# Its Node version banner is boxed in ║ ╔ ╚ lines: left out of the log.
rc=0
out=$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	"$tools/node_modules/.bin/redocly" lint --format=stylish api/openapi.yaml 2>&1) || rc=$?
printf '%s\n' "$out" | grep -v '[║╔╚]' | grep -v '^[[:space:]]*$' || true
if [ "$rc" -ne 0 ]; then
	echo "api/openapi.yaml: the lint failed (exit $rc)" >&2
	exit 1
fi

need datapackage "$DATAPACKAGE"
od=$(mktemp -d)
trap 'rm -rf "$od" "$gen"' EXIT
log "open data: build the package from the demo history"
GOC_OPENDATA_KEEP="$od/package" go test -count=1 -run '^TestPackagePublishesApprovedFiguresOnlyAndReleasesOnlyOnChange$' ./internal/opendata
log "open data: validate with npm datapackage $DATAPACKAGE (schemas, keys, foreign keys)"
NODE_PATH="$tools/node_modules" node --no-warnings scripts/validate-datapackage.js "$od/package/datapackage.json"
