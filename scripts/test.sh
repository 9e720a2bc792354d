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

# curl and jq (issue 15): the README's examples use both, and TestReadmeExamplesRunAsWritten
# runs them as written.
if ! command -v curl >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then
	log "installing curl and jq for the README's examples"
	apt-get update -qq && apt-get install -y -qq curl jq >/dev/null
fi

# LibreOffice Calc (headless, no GUI) and poppler-utils (issue 15): reports' print test
# converts the ranking workbook, a report card and a template to PDF in one soffice call
# and reads the pages back with pdftotext and pdfinfo.
# Carlito has Calibri's metrics (excelize's default font), so LibreOffice lays the sheets
# out as Excel would; without it Calc falls back to the wider DejaVu Sans.
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1 || [ -z "$(fc-list :family=Carlito 2>/dev/null)" ]; then
	log "installing libreoffice-calc-nogui, poppler-utils and the Carlito font for the print test"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui poppler-utils fonts-dejavu-core fonts-crosextra-carlito >/dev/null
fi

# InfluxDB 1.8.10 (issue 5): built once from the module proxy, then reused. The Go tests
# start and stop their own influxd processes from GOC_INFLUXD, on loopback ports.
GOC_INFLUXD=$(scripts/influxd.sh install)
export GOC_INFLUXD

# Prometheus and Alertmanager (issue 18): Debian's packages bring promtool and amtool.
# The alerting tests run promtool and amtool on the generated rules and Alertmanager
# config, and the end-to-end test starts its own prometheus and alertmanager on free
# loopback ports with their own data folders (a system service the package may start
# is left alone).
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null ||
	! command -v prometheus-alertmanager >/dev/null || ! command -v amtool >/dev/null; then
	log "installing prometheus and prometheus-alertmanager"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus prometheus-alertmanager >/dev/null
fi
GOC_PROMETHEUS=$(command -v prometheus)
GOC_PROMTOOL=$(command -v promtool)
GOC_ALERTMANAGER=$(command -v prometheus-alertmanager)
GOC_AMTOOL=$(command -v amtool)
export GOC_PROMETHEUS GOC_PROMTOOL GOC_ALERTMANAGER GOC_AMTOOL
log "prometheus: $("$GOC_PROMETHEUS" --version 2>&1 | head -1)"

# Redis (issue 17): Debian's redis-server. Tests start their own on free loopback ports
# with their own folders (internal/redistest, scripts/redis.sh); a system service the
# package may start is left alone.
if ! command -v redis-server >/dev/null 2>&1; then
	log "installing redis-server for the multi-replica tests"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
GOC_REDIS_SERVER=$(command -v redis-server)
export GOC_REDIS_SERVER
log "redis: $("$GOC_REDIS_SERVER" --version)"

# Grafana data source (issue 7): the frontend with npm (Node 20+, in the machine image;
# `npm ci` is skipped while package-lock.json is unchanged), the backend with go. The
# provisioning test copies this build.
if ! command -v npm >/dev/null 2>&1; then
	log "installing nodejs and npm for the Grafana plugin"
	apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
log "grafana plugin: node $(node --version), npm $(npm --version)"
scripts/build-grafana-plugin.sh
export GOC_GRAFANA_PLUGIN_DIST="$PWD/grafana/plugin/dist"

# Pages (issue 11): the browser tests drive Debian's chromium headless through chromedp
# (internal/web/webtest). axe-core is vendored in internal/web/webtest/testdata, so the
# accessibility check needs neither Node nor the network at test time.
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
	log "installing chromium for the page tests"
	apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
GOC_CHROMIUM=${GOC_CHROMIUM:-$(command -v chromium || echo /usr/bin/chromium)}
export GOC_CHROMIUM
log "pages: $("$GOC_CHROMIUM" --version 2>/dev/null || echo chromium)"

# --- checks ---------------------------------------------------------------------------
log "gofmt / go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
# staticcheck, pinned by its module version (the proxy serves v0.8.2 = 2026.2.2; its
# year-style tags are refused here). The plugin's backend is in this module, so it is
# checked too.
log "staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# The published contracts: the OpenAPI description linted, the open-data package validated
# (npm tools pinned in the script).
scripts/contracts.sh

# --- tests ----------------------------------------------------------------------------
log "go test"
go test -count=1 -timeout 25m ./...

# The InfluxDB outage test once more, verbosely, so its counts (acknowledged while
# influxd was up, down, and after G-OC restarted; found in InfluxDB) are in the log.
log "InfluxDB outage counts"
go test -count=1 -v -run '^TestInfluxDBOutageAndRestartLoseNothingAndDuplicateNothing$' ./internal/store/influx |
	grep -E 'acknowledged|in InfluxDB|^(--- |ok|FAIL)'

# --- fuzzing --------------------------------------------------------------------------
# The parsers of untrusted input each run under the fuzzer for a bounded count of inputs,
# about 10 s each on the 2-core machine (GOC_FUZZTIME: a duration or Nx for every
# target instead; 0 skips). A count, not a duration: with a duration Go 1.26's fuzz
# coordinator can fail a clean run with "context deadline exceeded" when the deadline
# meets a busy worker (go.dev/issue/75804, fixed in Go 1.27). A finding fails the run;
# go test writes the input to the package's testdata/fuzz/, where it stays as a
# regression case.
fuzztime=${GOC_FUZZTIME:-}
if [ "$fuzztime" != "0" ]; then
	for target in \
		"./indicators/period FuzzParse 300000x" \
		"./internal/intake FuzzCSV 20000x" \
		"./internal/intake FuzzJSON 40000x" \
		"./internal/intake FuzzPrometheus 12000x" \
		"./internal/intake FuzzFeedJSON 30000x" \
		"./internal/intake FuzzFeedCSV 15000x" \
		"./internal/intake FuzzXLSX 2000x" \
		"./internal/intake FuzzXLSXSheet 100x"; do
		set -- $target
		budget=${fuzztime:-$3}
		log "fuzz $2 in $1 for $budget"
		go test -run '^$' -fuzz "^$2\$" -fuzztime "$budget" "$1"
	done
fi
