package opendata

import (
	"context"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Server publishes the package at /opendata/, rebuilding it into Dir when the
// figures changed (the store's figures version, when it keeps one), at most once every
// RebuildEvery; the releases it makes are still only those whose data changed.
type Server struct {
	q    Reader
	dir  string
	opts Options
	// version is the store's figures version; nil when it keeps none.
	version func(context.Context) (string, error)
	every   time.Duration
	log     *slog.Logger

	mu      sync.Mutex // one build at a time; readers wait for it
	built   string     // the figures version of the last build
	builtAt time.Time
}

// ServerOptions configure a Server.
type ServerOptions struct {
	Query Reader
	// Dir keeps the releases.
	Dir string
	// Licence of the data; DefaultLicence when empty.
	Licence Licence
	// FiguresVersion changes whenever a published figure does; nil rebuilds every
	// RebuildEvery. RebuildEvery is the least time between builds (10 minutes when
	// zero), so new figures reach /opendata/ within it.
	FiguresVersion func(context.Context) (string, error)
	RebuildEvery   time.Duration
	Logger         *slog.Logger
}

// NewServer builds the /opendata/ handler.
func NewServer(o ServerOptions) *Server {
	s := &Server{q: o.Query, dir: o.Dir, opts: Options{Licence: o.Licence}, version: o.FiguresVersion, every: o.RebuildEvery, log: o.Logger}
	if s.opts.Licence.Name == "" {
		s.opts.Licence = DefaultLicence()
	}
	if s.every <= 0 {
		s.every = 10 * time.Minute
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// fresh makes a release when the figures changed since the last one.
func (s *Server) fresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// At most one build per RebuildEvery: a busy day of submissions changes the figures
	// version every few seconds, and each build reads every approved figure.
	if !s.builtAt.IsZero() && time.Since(s.builtAt) < s.every {
		return nil
	}
	v := ""
	if s.version != nil {
		var err error
		if v, err = s.version(ctx); err != nil {
			return err
		}
		if v == s.built && !s.builtAt.IsZero() {
			return nil
		}
	}
	o := s.opts
	o.Now = time.Now()
	rel, err := Write(ctx, s.q, s.dir, o)
	if err != nil {
		return err
	}
	s.built, s.builtAt = v, time.Now()
	if rel.Changed {
		s.log.Info("open data release", "version", rel.Version, "observations", rel.Observations)
	}
	return nil
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Dữ liệu mở G-OC / G-OC open data</title></head>
<body>
<main>
<h1>Dữ liệu mở <span lang="en">/ Open data</span></h1>
<p>Mọi số liệu đã duyệt, dạng gói dữ liệu Frictionless. <span lang="en">Every approved figure, as a Frictionless data package.</span></p>
<p>Giấy phép <span lang="en">/ Licence</span>: <a rel="license" href="{{.Licence.Path}}">{{.Licence.Title}} ({{.Licence.Name}})</a></p>
<p>Phiên bản <span lang="en">/ Version</span>: <code>{{.Version}}</code> — <a href="datapackage.json">datapackage.json</a></p>
<h2>Tệp <span lang="en">/ Files</span></h2>
<ul>{{range .Resources}}<li><a href="{{.Path}}">{{.Name}}</a> — {{.Title}}</li>{{end}}</ul>
<h2>Bản phát hành <span lang="en">/ Releases</span></h2>
<p>Mỗi bản không bao giờ đổi; chỉ có bản mới khi số liệu đổi. <span lang="en">A release never changes; a new one comes only when the data changed.</span></p>
<ul>{{range .Releases}}<li><a href="releases/{{.}}/datapackage.json">{{.}}</a></li>{{end}}</ul>
<p>Số liệu một chỉ tiêu, bản mới nhất <span lang="en">/ one indicator, newest release</span>: <code>/opendata/indicators/MÃ.csv</code>, <code>/opendata/indicators/MÃ.json</code></p>
</main>
</body>
</html>
`))

// ServeHTTP answers GET /opendata/...: the index page, datapackage.json, the files
// of any release, and /opendata/indicators/CODE.csv|json redirected to the newest
// release's file. Every answer names the licence in a Link header.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "chỉ GET / GET only", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Link", "<"+s.opts.Licence.Path+`>; rel="license"`)
	if err := s.fresh(r.Context()); err != nil {
		s.log.Error("open data build", "err", err)
		http.Error(w, "không tạo được gói dữ liệu / could not build the data package", http.StatusServiceUnavailable)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/opendata/")
	var pkg struct {
		Version   string    `json:"version"`
		Licenses  []Licence `json:"licenses"`
		Resources []struct {
			Name  string `json:"name"`
			Title string `json:"title"`
			Path  string `json:"path"`
		} `json:"resources"`
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "datapackage.json"))
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if err != nil {
		http.Error(w, "gói dữ liệu chưa có / no data package yet", http.StatusServiceUnavailable)
		return
	}
	switch {
	case rest == "":
		releases, _ := os.ReadDir(filepath.Join(s.dir, "releases"))
		var names []string
		for i := len(releases) - 1; i >= 0; i-- {
			names = append(names, releases[i].Name())
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = indexPage.Execute(w, map[string]any{"Licence": s.opts.Licence, "Version": pkg.Version, "Resources": pkg.Resources, "Releases": names})
		return
	case rest == "datapackage.json":
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, filepath.Join(s.dir, "datapackage.json"))
		return
	case strings.HasPrefix(rest, "indicators/"):
		// The stable URL of an indicator: the newest release's file of it.
		name := strings.TrimPrefix(rest, "indicators/")
		if strings.ContainsAny(name, "/\\") || (!strings.HasSuffix(name, ".csv") && !strings.HasSuffix(name, ".json")) {
			http.NotFound(w, r)
			return
		}
		if _, err := os.Stat(filepath.Join(s.dir, "releases", pkg.Version, "indicators", name)); err != nil {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, "/opendata/releases/"+pkg.Version+"/indicators/"+name, http.StatusFound)
		return
	case strings.HasPrefix(rest, "releases/"):
		// A release never changes once written.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		http.StripPrefix("/opendata/", http.FileServer(http.Dir(s.dir))).ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}
