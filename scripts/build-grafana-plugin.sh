#!/usr/bin/env bash
# Builds the G-OC Grafana data source into grafana/plugin/dist: the frontend with npm
# (install skipped when package-lock.json has not changed since the last install), a
# type check, and the Go backend as gpx_goc_<os>_<arch>. `goc grafana provision` copies
# that folder. Needs Node 20+ and npm; works offline once node_modules is there.
set -euo pipefail
cd "$(dirname "$0")/../grafana/plugin"

log() { printf '== grafana plugin: %s\n' "$*" >&2; }

stamp=node_modules/.goc-package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	log "npm ci"
	# Install scripts are not needed (the native swc binding comes as an optional package)
	# and npm 10 and 11 treat them differently, so none run.
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
	echo "$want" >"$stamp"
else
	log "node_modules up to date with package-lock.json"
fi

# The scaffold's webpack config is TypeScript run by ts-node; on Node 20 it needs
# CommonJS modules (Node 22 would load it natively).
export TS_NODE_COMPILER_OPTIONS='{"module":"commonjs","moduleResolution":"node","target":"es2020","esModuleInterop":true}'
log "typecheck"
npm run --silent typecheck >&2
log "webpack"
npm run --silent build >/dev/null

bin="gpx_goc_$(go env GOOS)_$(go env GOARCH)"
log "go build $bin"
(cd ../.. && go build -trimpath -o "grafana/plugin/dist/$bin" ./grafana/plugin/pkg)

# The SDK's Go build manifest, as its mage build writes it and Grafana's plugin validator
# checks it (go_plugin_build_manifest beside the binary): "sha256:path" for every Go file
# of the plugin's source folder, relative to it, node_modules left out.
log "go build manifest"
find . -path ./node_modules -prune -o -type f -name '*.go' -print | sed 's|^\./||' | LC_ALL=C sort |
	while IFS= read -r f; do printf '%s:%s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$f"; done >dist/go_plugin_build_manifest
log "built $(pwd)/dist"
