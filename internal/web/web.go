// Package web serves G-OC's pages: the national scoreboard, indicator, agency, ranking
// and portal status pages for leaders and the public. Pages are html/template files and
// assets embedded in the binary; each page has one handler and one template, and its
// data is built by one function from internal/query, the same layer the API asks, so a
// figure on a page equals the API's. Pages work without JavaScript; a small embedded
// script only enhances (table sorting).
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/limit"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/query"
)

// Options configure a Server.
type Options struct {
	// Query is the read layer; the public pages take its PublicView, which shows
	// approved figures only.
	Query *query.Service
	// Metrics counts page requests by route beside the API's; none when nil.
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Location is the time zone dates are shown in; Asia/Ho_Chi_Minh (UTC+7) when nil.
	Location *time.Location
	// Ranking is the composite-index method, the API's; the default when its
	// Normalisation is empty.
	Ranking indicators.RankingMethod
	// DueDays are the days after a period's end its reports are due, by periodicity,
	// as the API's completeness uses them; 30 for a periodicity not given.
	DueDays map[period.Kind]int
	// FiguresVersion, when set, changes whenever a stored figure or its publication
	// changes (the SQLite store's FiguresVersion); pages then reuse computed figures
	// until it changes. See figureCache.
	FiguresVersion func(ctx context.Context) (string, error)
	// CacheFor is how long portal status (and, without FiguresVersion, other figures)
	// may be reused; 0 recomputes on every request.
	CacheFor time.Duration

	// Sessions keeps signed-in sessions (store.Sessions); without it, or without Keys
	// and API, there is no sign-in and the officer's and reviewer's pages answer 404.
	Sessions SessionStore
	// Keys checks tokens on the sign-in form and on every signed-in request.
	Keys Keys
	// API is the JSON API's handler. The signed-in pages act through it in process,
	// with the session's principal in the request's context, so an upload from the page
	// goes through the same reading, checks, limits and storage as one sent with curl.
	API http.Handler
	// SessionIdle and SessionMax end a session after that long without a request, and
	// that long after sign-in; DefaultSessionIdle and DefaultSessionMax when zero.
	SessionIdle, SessionMax time.Duration
	// SignInFailures bounds failed sign-ins per client address; 5 at once, then one a
	// minute, when zero.
	SignInFailures limit.Options
}

// Server renders the pages; build it with New.
type Server struct {
	query   *query.Service
	metrics *metrics.Metrics
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location
	assets  *assets
	pages   *templates
	ranking indicators.RankingMethod
	dueDays map[period.Kind]int
	cache   *figureCache
	// sess is the sign-in machinery; nil when Options give no sessions.
	sess *sessions
	api  http.Handler
}

// New builds the page server. It fails only if an embedded template or asset is broken,
// which the package's tests catch before a release.
func New(o Options) (*Server, error) {
	s := &Server{query: o.Query, metrics: o.Metrics, log: o.Logger, now: o.Now, loc: o.Location,
		ranking: o.Ranking, dueDays: o.DueDays,
		cache: &figureCache{ttl: o.CacheFor, version: o.FiguresVersion, entries: map[string]*cacheEntry{}}}
	if s.ranking.Normalisation == "" {
		s.ranking = indicators.DefaultRankingMethod()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = time.FixedZone("ICT", 7*3600)
	}
	if o.Sessions != nil && o.Keys != nil && o.API != nil {
		s.api = o.API
		s.sess = &sessions{store: o.Sessions, keys: o.Keys, idle: o.SessionIdle, max: o.SessionMax,
			cop: http.NewCrossOriginProtection()}
		if s.sess.idle <= 0 {
			s.sess.idle = DefaultSessionIdle
		}
		if s.sess.max <= 0 {
			s.sess.max = DefaultSessionMax
		}
		lo := o.SignInFailures
		if lo.Every <= 0 {
			lo.Every, lo.Burst = time.Minute, 5
		}
		s.sess.fails = limit.New(lo)
		s.sess.cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s.assets = a
	if s.pages, err = parseTemplates(a); err != nil {
		return nil, err
	}
	return s, nil
}

// handler is a page handler: it writes the page, or returns an error the error page
// explains (a *pageError, a *query.NotFoundError, or anything else as "data cannot be
// read right now").
type handler func(w http.ResponseWriter, r *http.Request) error

// Handler is every page with its routes. Anything it does not know gets the HTML 404
// page; the caller mounts the API's paths (/api/, /healthz, /metrics) before it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	page := func(pattern string, h handler) {
		mux.Handle(pattern, s.instrument(pattern, s.serve(h)))
	}
	page("GET /{$}", s.scoreboard)
	page("GET /indicators/{code}", s.indicator)
	page("GET /observations", s.observations)
	page("GET /agencies/{code}", s.agency)
	page("GET /rankings", s.rankings)
	page("GET /status", s.status)
	page("GET /status/{portal...}", s.portal)
	page("GET /lang", s.switchLang)
	if s.sess != nil {
		// Every form (every unsafe method) is behind the cross-origin protection.
		form := func(pattern string, h handler) {
			mux.Handle(pattern, s.instrument(pattern, s.crossOrigin(s.serve(h))))
		}
		page("GET /signin", s.signInForm)
		form("POST /signin", s.signIn)
		form("POST /signout", s.signOut)
		s.portalRoutes(page, form)
	}
	mux.Handle("GET /assets/", s.instrument("GET /assets/", http.HandlerFunc(s.assets.serve)))
	mux.Handle("/", s.instrument("other", s.serve(func(w http.ResponseWriter, r *http.Request) error {
		return notFound()
	})))
	return mux
}

// serve runs a page handler and turns its error into the error page. A panic becomes
// the same page with no stack trace shown; the trace goes to the log.
func (s *Server) serve(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("page panicked", "path", r.URL.Path, "panic", v)
				s.errorPage(w, r, &pageError{Status: http.StatusInternalServerError, Title: "error.store"})
			}
		}()
		if err := h(w, r); err != nil {
			s.errorPage(w, r, s.explain(r, err))
		}
	})
}

// pageError is what the error page shows: a status and a message in both languages.
type pageError struct {
	Status int
	// Title is a message key of the page's heading.
	Title string
	// VI and EN say what was wrong, naming the input; empty for a plain "not found".
	VI, EN string
}

func (e *pageError) Error() string { return fmt.Sprintf("%d %s / %s", e.Status, e.VI, e.EN) }

func notFound() *pageError {
	return &pageError{Status: http.StatusNotFound, Title: "error.title",
		VI: messages["error.notfound"].vi, EN: messages["error.notfound"].en}
}

// badParam is the 400 for a query parameter a page cannot use; it names the parameter.
func badParam(name, value, vi, en string) *pageError {
	return &pageError{Status: http.StatusBadRequest, Title: "error.bad",
		VI: fmt.Sprintf("Tham số %s=%q không hợp lệ: %s", name, value, vi),
		EN: fmt.Sprintf("Parameter %s=%q is not valid: %s", name, value, en)}
}

func (s *Server) explain(r *http.Request, err error) *pageError {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe
	}
	var nf *query.NotFoundError
	if errors.As(err, &nf) {
		vi, en, _ := strings.Cut(nf.Error(), " / ")
		return &pageError{Status: http.StatusNotFound, Title: "error.title", VI: vi, EN: en}
	}
	// Only a failing store gets here: the reader did nothing wrong, so no 4xx, and the
	// page says so plainly without the error's internals.
	s.log.Error("page could not read its data", "path", r.URL.Path, "err", err)
	return &pageError{Status: http.StatusServiceUnavailable, Title: "error.store",
		VI: "Kho dữ liệu không trả lời. Vui lòng thử lại sau ít phút.",
		EN: "The data store is not answering. Please try again in a few minutes."}
}

// switchLang is the language toggle: it keeps the choice in a cookie for a year and
// sends the reader back to the page they were on. It works without JavaScript, as a
// plain link. Only a local path is followed, so the link cannot send anyone elsewhere.
func (s *Server) switchLang(w http.ResponseWriter, r *http.Request) error {
	to := Lang(r.URL.Query().Get("to"))
	if to != Vietnamese && to != English {
		return badParam("to", string(to), "chỉ nhận vi hoặc en", "only vi or en")
	}
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		next = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(to), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// instrument counts page requests by route pattern in the API's metrics (nothing
// when the pages run without metrics).
func (s *Server) instrument(pattern string, h http.Handler) http.Handler {
	if s.metrics == nil {
		return h
	}
	return s.metrics.Instrument(pattern, h)
}

// Combine puts the API and the pages on one port: the API keeps /api/, /healthz,
// /readyz, /metrics and /opendata/; every other path is a page, so an unknown one gets
// the HTML 404 page while an unknown /api/ path keeps the API's JSON 404.
func Combine(api, pages http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics", "/opendata/"} {
		mux.Handle(p, api)
	}
	mux.Handle("/", pages)
	return mux
}
