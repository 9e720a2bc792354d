// Package api is G-OC's published HTTP contract: the OpenAPI 3.1 description of
// /api/v1 (openapi.yaml, beside this file, so tools and people find it where the issue
// and the README say) and the page that renders it. internal/api serves both; the
// contract tests validate every request and response of the API against the same bytes.
package api

import (
	"embed"
	"io/fs"
	"net/http"
	"strconv"
)

//go:embed openapi.yaml
var openapi string

// docs holds the page and the pinned Swagger UI (swagger-ui-dist 5.35.0, its
// bundle, style sheet, LICENSE and NOTICE as npm ships them), so the page needs
// no CDN and works on a machine without internet.
//
//go:embed docs
var docs embed.FS

// SwaggerUIVersion is the vendored Swagger UI's version (npm swagger-ui-dist).
const SwaggerUIVersion = "5.35.0"

// OpenAPI returns the description as served at /api/v1/openapi.yaml.
func OpenAPI() []byte { return []byte(openapi) }

// csp is the pages' policy (internal/web): scripts and styles from this server
// only. Swagger UI sets styles through the DOM, which style-src does not govern.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Handler serves GET /api/v1/openapi.yaml, the page /api/docs and its assets under
// /api/docs/. Mount it at those paths.
func Handler() http.Handler {
	mux := http.NewServeMux()
	assets, _ := fs.Sub(docs, "docs") // the directory is embedded above
	mux.HandleFunc("GET /api/v1/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(openapi)))
		w.Header().Set("Access-Control-Allow-Origin", "*") // public: let other sites' viewers read it
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write([]byte(openapi))
	})
	index, _ := fs.ReadFile(assets, "index.html") // embedded above
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(index)
	}
	mux.HandleFunc("GET /api/docs", page)
	mux.HandleFunc("GET /api/docs/{$}", page)
	files := http.StripPrefix("/api/docs/", http.FileServerFS(assets))
	mux.Handle("GET /api/docs/{file}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("file") == "index.html" {
			page(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// The bundle's name carries no hash; a day's cache, revalidated by Last-Modified.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
	return mux
}
