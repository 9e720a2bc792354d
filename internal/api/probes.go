package api

import (
	"net/http"
	"strconv"

	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/redact"
)

// keptProbes gives the kept page of GET /api/v1/probes for the URL and the store's
// probes version, made by h when there is none.
func (s *Server) keptProbes(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		version, ok, err := s.query.ProbesVersion(r.Context())
		if err != nil {
			s.queryError(w, "probes", err)
			return
		}
		s.probes.serve(w, r, r.URL.Path+"?"+r.URL.RawQuery, version, ok, h)
	}
}

// listProbes answers GET /api/v1/probes?agency=&up=: the latest probe of each portal,
// a page at a time in portal order; count, up and down count every page.
func (s *Server) listProbes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := newParams(q)
	f := query.ProbeFilter{Agency: q.Get("agency")}
	if v := q.Get("up"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p.fail("up", "phải là true hoặc false / must be true or false")
		}
		f.Up = &b
	}
	var after string
	limit, _ := p.page(&after)
	if len(p.probs) > 0 {
		writeProblems(w, http.StatusBadRequest, p.probs)
		return
	}
	// The query layer pages: it holds one page of portals, however many there are.
	rep, more, err := s.query.ProbePage(r.Context(), f, after, limit)
	if err != nil {
		s.queryError(w, "probes", err)
		return
	}
	list := rep.Probes
	var next string
	if more {
		next = encodeCursor(list[len(list)-1].Target)
	}
	for i := range list {
		list[i].Target = redact.URL(list[i].Target)
		list[i].Error = redact.Text(list[i].Error)
	}
	extra := map[string]any{"up": rep.Up, "down": rep.Down}
	if !rep.WindowsAsOf.IsZero() {
		extra["windows_as_of"] = rep.WindowsAsOf
	}
	writePage(w, r, listPage{field: "probes", n: len(list), total: &rep.Count, item: func(i int) any { return list[i] }, limit: limit, next: next,
		extra: extra})
}

// listFeeds answers GET /api/v1/feeds: each feed's last pull, and its last error with
// every problem found, when the last pull failed; a page at a time, count and failing
// count every page.
func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request) {
	p := newParams(r.URL.Query())
	var after string
	limit, _ := p.page(&after)
	if len(p.probs) > 0 {
		writeProblems(w, http.StatusBadRequest, p.probs)
		return
	}
	list := []FeedStatus{}
	if s.feeds != nil {
		list = s.feeds.Statuses()
	}
	failing := 0
	for _, f := range list {
		if f.Error != nil {
			failing++
		}
	}
	total := len(list)
	list, next := afterName(list, func(f FeedStatus) string { return f.Name }, after, limit)
	for i := range list {
		list[i].URL = redact.URL(list[i].URL)
	}
	writePage(w, r, listPage{field: "feeds", n: len(list), total: &total, item: func(i int) any { return list[i] }, limit: limit, next: next,
		extra: map[string]any{"failing": failing}})
}
