package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/g-oc/goc/internal/auth"
)

//go:embed all:templates
var templateFS embed.FS

// templates holds one parsed template set per page: the layout plus that page's file,
// which defines "title" and "content".
type templates struct {
	byPage map[string]*template.Template
}

func parseTemplates(a *assets) (*templates, error) {
	funcs := template.FuncMap{
		"asset": a.URL,
		// dict builds a map for a sub-template that needs several values.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict needs pairs, got %d values", len(kv))
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"query": url.QueryEscape,
		// list makes a slice of strings, for a template's fixed choices.
		"list": func(v ...string) []string { return v },
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list page templates: %w", err)
	}
	t := &templates{byPage: map[string]*template.Template{}}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		files := []string{"templates/layout.html", p}
		partials, _ := fs.Glob(templateFS, "templates/_*.html")
		files = append(files, partials...)
		tp, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("parse page template %s: %w", p, err)
		}
		t.byPage[name] = tp
	}
	return t, nil
}

// view is what the layout needs besides the page's own data.
type view struct {
	L Lang
	// Nav is the key of the navigation item to mark as current ("" for none).
	Nav string
	// Self is the page's path and query, where the language toggle returns to.
	Self string
	// JSON is the API address that answers the same figures, shown in the footer.
	JSON string
	// Page is the page's own data.
	Page any
	// Who is the signed-in principal on the signed-in pages; nil on public pages, which
	// are the same for every reader (and cached as such).
	Who *auth.Principal
	// SignIn shows the sign-in link (when the server has sessions).
	SignIn bool
}

// ToggleURL is the language toggle's link.
func (v view) ToggleURL() string {
	return "/lang?to=" + string(v.L.Other()) + "&next=" + url.QueryEscape(v.Self)
}

// pageOpts is how one page asks to be rendered.
type pageOpts struct {
	// Template is the page's template name (file name without .html).
	Template string
	Nav      string
	JSON     string
	// Modified is when the newest data behind the page arrived; it is sent as
	// Last-Modified when known.
	Modified time.Time
	Data     any
	// Cached keeps the rendered page for the next reader of the same address and
	// language, as long as its figures are (see figureCache); Volatile pages (portal
	// status) are kept for CacheFor at most. Pages whose figures are not all cached
	// leave Cached false.
	Cached, Volatile bool
}

// renderedPage is a page's bytes and their ETag.
type renderedPage struct {
	body []byte
	etag string
}

// render writes a page with status 200, answering a conditional request (If-None-Match,
// If-Modified-Since) with 304 when the page is unchanged. The ETag is the hash of the
// page's bytes, so it changes exactly when something the reader sees changes; it also
// covers the language, and the Vary header says the cookie picks it.
func (s *Server) render(w http.ResponseWriter, r *http.Request, o pageOpts) error {
	build := func() (renderedPage, error) {
		body, err := s.execute(r, o)
		if err != nil {
			return renderedPage{}, err
		}
		sum := sha256.Sum256(body)
		return renderedPage{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
	}
	var page renderedPage
	var err error
	if o.Cached {
		page, err = cached(r.Context(), s, "html/"+string(langOf(r))+" "+r.URL.RequestURI(), o.Volatile, build)
	} else {
		page, err = build()
	}
	if err != nil {
		return err
	}
	body := page.body
	h := w.Header()
	pageHeaders(h, langOf(r))
	h.Set("ETag", page.etag)
	// no-cache: a browser keeps the page but asks each time; the answer is a 304 with no
	// body while nothing changed.
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", o.Modified, bytes.NewReader(body))
	return nil
}

func (s *Server) execute(r *http.Request, o pageOpts) ([]byte, error) {
	t, ok := s.pages.byPage[o.Template]
	if !ok {
		return nil, fmt.Errorf("no page template %q", o.Template)
	}
	self := r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	var buf bytes.Buffer
	v := view{L: langOf(r), Nav: o.Nav, Self: self, JSON: o.JSON, Page: o.Data, SignIn: s.sess != nil}
	if p, ok := auth.FromContext(r.Context()); ok {
		v.Who = &p
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return nil, fmt.Errorf("render page %s: %w", o.Template, err)
	}
	return buf.Bytes(), nil
}

func pageHeaders(h http.Header, l Lang) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(l))
	h.Set("Vary", "Cookie")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	// Pages load only their own embedded assets: no inline script, no third party.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
}

// renderPrivate writes a signed-in page (or the sign-in form) with its status. It is
// never cached, by the server or the browser: it shows one person's figures.
func (s *Server) renderPrivate(w http.ResponseWriter, r *http.Request, status int, o pageOpts) error {
	body, err := s.execute(r, o)
	if err != nil {
		return err
	}
	h := w.Header()
	pageHeaders(h, langOf(r))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

// errorPage writes the error page with its status. If even that fails to render, a
// plain bilingual line is written instead: never a stack trace.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, e *pageError) {
	body, err := s.execute(r, pageOpts{Template: "error", Data: e})
	h := w.Header()
	pageHeaders(h, langOf(r))
	h.Set("Cache-Control", "no-store")
	if err != nil {
		s.log.Error("error page failed to render", "err", err)
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.Status)
		fmt.Fprintf(w, "%d %s / %s\n", e.Status, e.VI, e.EN)
		return
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
