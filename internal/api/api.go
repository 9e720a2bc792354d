// Package api serves G-OC's HTTP API: health, metrics, the catalogue and registry,
// submissions, observations and progress. Handlers ask the query layer for figures and
// the store only to write accepted submissions.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	spec "github.com/g-oc/goc/api"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
)

// Writer is what submissions need from a store.
type Writer interface {
	WriteObservations(ctx context.Context, obs []indicators.Observation) ([]indicators.Observation, error)
}

// Pinger answers readiness.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Authenticator turns an Authorization header into the principal it stands for.
type Authenticator interface {
	Authenticate(header string) (auth.Principal, error)
}

// Server holds the API's dependencies; build it with New.
type Server struct {
	query    *query.Service
	writer   Writer
	pinger   Pinger
	auth     Authenticator
	metrics  *metrics.Metrics
	log      *slog.Logger
	now      func() time.Time
	maxBytes int64
	loc      *time.Location
	ranking  indicators.RankingMethod
	feeds    FeedStatuses
	files    Workbooks
	sub      submissionSettings
	guard    *guard
	// approvals is the review workflow; the Writer's own when it keeps one.
	approvals Approvals
	// probes keeps the encoded pages of GET /api/v1/probes, progress the answers of
	// GET /api/v1/progress, workbooks the ranking workbooks (see answerCache).
	probes, progress, workbooks *answerCache
}

// Options configure a Server.
type Options struct {
	Query   *query.Service
	Writer  Writer
	Pinger  Pinger
	Auth    Authenticator
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxSubmissionBytes caps a submission body; 10 MiB when zero.
	MaxSubmissionBytes int64
	// Location is the time zone periods are judged in; Asia/Ho_Chi_Minh (UTC+7) when nil.
	Location *time.Location
	// Ranking is the composite-index method of rankings and reports; the default
	// (min-max, equal weights, 20% missing-data rule) when its Normalisation is empty.
	Ranking indicators.RankingMethod
	// Feeds reports the KPI feeds for GET /api/v1/feeds; none when nil.
	Feeds FeedStatuses
	// Workbooks makes the ranking and card workbooks, raw exports and submission
	// templates (apiparts.Workbooks); those routes answer 503 when nil.
	Workbooks Workbooks
	// DueDays are the days after a period's end its reports are due, by periodicity
	// (completeness, template deadlines); DefaultDueDays for those not given.
	DueDays map[period.Kind]int
	// OutlierDeviations is the robust deviations from an agency's own median past which
	// a submitted value needs confirmation; 3 when zero.
	OutlierDeviations float64
	// Keys keeps Idempotency-Key answers; the Writer's own when it declares
	// store.IdempotencyKeys and this is nil.
	Keys store.IdempotencyKeys
	// Limits bound uploads being parsed at once and the rate of writes and failed
	// authentication; the defaults when zero.
	Limits Limits
	// Approvals keeps the review workflow; the Writer's own when it implements
	// Approvals and this is nil.
	Approvals Approvals
	// ProbeListStale is how old a page of GET /api/v1/probes may be when it is given
	// to a reader who arrives while a newer one is being made (see answerCache); on a
	// store without a probes version, how long a page is reused. Zero: readers wait for
	// the newer page, and without a version every page is made afresh.
	ProbeListStale time.Duration
}

// New builds the API server.
func New(o Options) *Server {
	s := &Server{query: o.Query, writer: o.Writer, pinger: o.Pinger, auth: o.Auth, metrics: o.Metrics,
		log: o.Logger, now: o.Now, maxBytes: o.MaxSubmissionBytes, loc: o.Location, ranking: o.Ranking,
		feeds: o.Feeds, files: o.Workbooks}
	if s.ranking.Normalisation == "" {
		s.ranking = indicators.DefaultRankingMethod()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBytes <= 0 {
		s.maxBytes = 10 << 20
	}
	if s.loc == nil {
		s.loc = time.FixedZone("ICT", 7*3600)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	s.sub = newSubmissionSettings(o)
	// Rates are judged by the wall clock, not the domain clock of periods and deadlines.
	s.guard = newGuard(o.Limits, nil)
	// A page of 5,000 portals is about 4 MiB; 256 pages of 1,000 fit.
	s.probes = newAnswerCache(o.ProbeListStale, time.Minute, 256, 32<<20)
	// Progress of every agency on one indicator is about 1 MiB at 3,400 agencies.
	s.progress = newAnswerCache(0, time.Minute, 256, 32<<20)
	// A ranking workbook is asked for a few groups and years; one of the provinces with
	// every commune's figure behind it is a few MiB. Reused until the figures change
	// (at most 10 minutes, for its default period and whether the period has ended).
	s.workbooks = newAnswerCache(0, 10*time.Minute, 16, 64<<20)
	s.approvals = o.Approvals
	if s.approvals == nil {
		s.approvals, _ = o.Writer.(Approvals)
	}
	s.registerCompleteness()
	return s
}

// withFiles answers 503 on a download route when the server was built without
// Workbooks, rather than failing on a nil interface.
func (s *Server) withFiles(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.files == nil {
			writeError(w, http.StatusServiceUnavailable, "tải tệp chưa được cấu hình trên máy chủ này / downloads are not configured on this server")
			return
		}
		h(w, r)
	}
}

// Handler is the whole API with its routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, s.instrument(pattern, h))
	}
	route("GET /healthz", s.healthz)
	route("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.instrument("GET /metrics", s.metrics.Handler()))
	route("GET /api/v1/indicators", s.listIndicators)
	route("GET /api/v1/indicators/{code}", s.getIndicator)
	route("GET /api/v1/agencies", s.listAgencies)
	route("GET /api/v1/agencies/{code}", s.getAgency)
	route("POST /api/v1/submissions", s.postSubmission)
	route("GET /api/v1/submissions", s.listSubmissions)
	route("GET /api/v1/submissions/{agency}/{period}", s.getSubmission)
	route("POST /api/v1/submissions/{agency}/{period}/approve", s.approveSubmission)
	route("POST /api/v1/submissions/{agency}/{period}/return", s.returnSubmission)
	// Reads whose cost grows with the store or a page size share Limits.HeavyReads.
	route("GET /api/v1/observations", s.heavy(s.listObservations))
	route("GET /api/v1/progress", s.keptProgress(s.heavy(s.getProgress)))
	route("GET /api/v1/completeness", s.heavy(s.getCompleteness))
	route("GET /api/v1/templates", s.withFiles(s.getTemplate))
	// A kept page is given without taking a heavy-read slot; making one takes it.
	route("GET /api/v1/probes", s.keptProbes(s.heavy(s.listProbes)))
	route("GET /api/v1/feeds", s.listFeeds)
	route("GET /api/v1/rankings", s.heavy(s.getRankings))
	route("GET /api/v1/agencies/{code}/card", s.heavy(s.getAgencyCard))
	route("GET /api/v1/reports/ranking.xlsx", s.keptWorkbook(s.heavy(s.withFiles(s.getRankingWorkbook))))
	route("GET /api/v1/reports/agency.xlsx", s.heavy(s.withFiles(s.getAgencyCardWorkbook)))
	route("GET /api/v1/reports/export.xlsx", s.export(s.withFiles(s.getExport)))
	route("GET /api/v1/reports/export.csv", s.export(s.withFiles(s.getExport)))
	route("GET /api/v1/series", s.heavy(s.getSeries))
	route("GET /api/v1/whoami", s.whoami)
	// The contract: the OpenAPI description and the page that renders it.
	contract := spec.Handler()
	route("GET /api/v1/openapi.yaml", contract.ServeHTTP)
	route("GET /api/docs", contract.ServeHTTP)
	route("GET /api/docs/", contract.ServeHTTP)
	// The catch-all "/" matches every method, so without it ServeMux would answer a wrong
	// method with 405 itself; with it, the mux hands a PUT on a GET route here. This
	// handler asks the mux which methods the path has, to answer 405 with Allow then.
	mux.Handle("/", s.instrument("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "phương thức "+r.Method+" không dùng được ở đây, chỉ "+
				strings.Join(allow, ", ")+" / method "+r.Method+" not allowed here, only "+strings.Join(allow, ", "))
			return
		}
		writeError(w, http.StatusNotFound, "không có đường dẫn này / no such path: "+r.URL.Path)
	})))
	return mux
}

// allowedMethods lists the methods for which mux has a route (other than the catch-all)
// matching r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// instrument counts and times a route's requests in the API's metrics.
func (s *Server) instrument(pattern string, h http.Handler) http.Handler {
	return s.metrics.Instrument(pattern, h)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	// A store that spools writes (InfluxDB) also tells how much is waiting, in both
	// answers: a backlog that grows while ready means InfluxDB refuses something.
	var spool map[string]any
	if b, ok := s.pinger.(store.Backlogger); ok {
		points, age := b.Backlog()
		spool = map[string]any{"pending_points": points, "oldest_age_seconds": age.Seconds()}
	}
	if err := s.pinger.Ping(ctx); err != nil {
		s.metrics.StoreErrors.WithLabelValues("ping").Inc()
		body := map[string]any{
			"status": "unavailable",
			"error":  "kho dữ liệu không phản hồi / store is not answering: " + err.Error(),
		}
		if spool != nil {
			body["spool"] = spool
		}
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	body := map[string]any{"status": "ready"}
	if spool != nil {
		body["spool"] = spool
	}
	writeJSON(w, http.StatusOK, body)
}

// listIndicators serves the catalogue; periodicity marshals as its name ("quarterly").
func (s *Server) listIndicators(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"indicators": s.query.Catalogue().All()})
}

func (s *Server) getIndicator(w http.ResponseWriter, r *http.Request) {
	ind, ok := s.query.Catalogue().Get(r.PathValue("code"))
	if !ok {
		writeError(w, http.StatusNotFound, (&query.NotFoundError{Field: "indicator", Value: r.PathValue("code")}).Error())
		return
	}
	writeJSON(w, http.StatusOK, ind)
}

func (s *Server) listAgencies(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var on time.Time
	if v := q.Get("active_on"); v != "" {
		d, err := indicators.ParseDate(v)
		if err != nil {
			writeProblems(w, http.StatusBadRequest, []Problem{{Field: "active_on", Reason: "ngày không hợp lệ / " + err.Error()}})
			return
		}
		on = d.Time
	}
	kinds := q["kind"]
	parent := q.Get("parent")
	p := newParams(q)
	var after string
	limit, _ := p.page(&after)
	if len(p.probs) > 0 {
		writeProblems(w, http.StatusBadRequest, p.probs)
		return
	}
	out := []*indicators.Agency{}
	for _, a := range s.query.Registry().All() {
		if len(kinds) > 0 && !contains(kinds, string(a.Kind)) {
			continue
		}
		if parent != "" && a.Parent != parent {
			continue
		}
		if !on.IsZero() && !a.ActiveOn(on) {
			continue
		}
		out = append(out, a)
	}
	out, next := afterName(out, func(a *indicators.Agency) string { return a.Code }, after, limit)
	writePage(w, r, listPage{field: "agencies", n: len(out), item: func(i int) any { return out[i] }, limit: limit, next: next})
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) getAgency(w http.ResponseWriter, r *http.Request) {
	a, ok := s.query.Registry().Get(r.PathValue("code"))
	if !ok {
		writeError(w, http.StatusNotFound, (&query.NotFoundError{Field: "agency", Value: r.PathValue("code")}).Error())
		return
	}
	children := s.query.Registry().Children(a.Code)
	codes := make([]string, len(children))
	for i, c := range children {
		codes[i] = c.Code
	}
	writeJSON(w, http.StatusOK, map[string]any{"agency": a, "children": codes})
}

// listObservations answers GET /api/v1/observations one page at a time: the store
// reads at most limit+1 observations after the cursor's key, so neither the store read
// nor the answer grows with the store (history=true included).
func (s *Server) listObservations(w http.ResponseWriter, r *http.Request) {
	p := newParams(r.URL.Query())
	sq := store.Query{Indicators: splitList(p.q["indicator"]), Agencies: splitList(p.q["agency"]), History: p.boolean("history")}
	if from, ok := p.period("from"); ok {
		sq.From = from.Start(nil)
	}
	if to, ok := p.period("to"); ok {
		sq.To = to.End(nil)
	}
	var cur obsCursor
	limit, hasCursor := p.page(&cur)
	if hasCursor {
		k, ok := cur.key()
		if !ok {
			p.fail("cursor", "con trỏ trang không hợp lệ / invalid cursor")
		}
		sq.After = k
	}
	if len(p.probs) > 0 {
		writeProblems(w, http.StatusBadRequest, p.probs)
		return
	}
	sq.Limit = limit + 1
	qs, ok := s.queryFor(w, r)
	if !ok {
		return
	}
	obs, err := qs.Observations(r.Context(), sq)
	if err != nil {
		s.queryError(w, "observations", err)
		return
	}
	obs, next := pageOf(obs, limit, func(o indicators.Observation) any { return cursorOf(o) })
	unapproved, err := qs.Unapproved(r.Context(), obs)
	if err != nil {
		s.queryError(w, "observations", err)
		return
	}
	s.roundValues(obs)
	revs := make([]revision, len(obs))
	for i, o := range obs {
		revs[i].Observation = o
	}
	if sq.History {
		if revs, err = s.withPrevious(r.Context(), qs, sq, obs); err != nil {
			s.queryError(w, "observations", err)
			return
		}
	}
	// Figures waiting for a reviewer (only an officer's or reviewer's own read has any)
	// say so.
	for i := range revs {
		if unapproved[store.KeyOf(obs[i])] {
			revs[i].Approved = new(bool)
		}
	}
	item := func(i int) any { return revs[i] }
	writePage(w, r, listPage{field: "observations", n: len(obs), item: item, limit: limit, next: next})
}

// roundValues publishes values at their indicator's precision (a ratio's value is
// computed from its parts); numerators and denominators are counts and stay as sent.
// The raw export gives the stored values at full precision.
func (s *Server) roundValues(obs []indicators.Observation) {
	cat := s.query.Catalogue()
	for i := range obs {
		if ind, ok := cat.Get(obs[i].Indicator); ok {
			obs[i].Value = indicators.RoundFor(ind, obs[i].Value)
		}
	}
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// keptProgress gives the answer of GET /api/v1/progress kept for the URL, the day (which
// agencies are active) and the store's figures version, made by h when there is none:
// progress of every agency is linear in agencies (3,400 at national scale), and every
// reader of an indicator's page asks for the same answer until a figure changes.
func (s *Server) keptProgress(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		version, ok, err := s.query.FiguresVersion(r.Context())
		if err != nil {
			s.queryError(w, "progress", err)
			return
		}
		now := s.now()
		key := r.URL.Path + "?" + r.URL.RawQuery + "@" + now.UTC().Format(time.DateOnly) + "/" + now.In(s.loc).Format(time.DateOnly)
		s.progress.serve(w, r, key, version, ok, h)
	}
}

func (s *Server) getProgress(w http.ResponseWriter, r *http.Request) {
	p := newParams(r.URL.Query())
	code := p.required("indicator")
	year := 2025
	if v := p.q.Get("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < period.MinYear || y > period.MaxYear {
			p.fail("year", "năm không hợp lệ / not a year: "+v)
		}
		year = y
	}
	level := p.level("level")
	if len(p.probs) > 0 {
		writeProblems(w, http.StatusBadRequest, p.probs)
		return
	}
	agency := p.q.Get("agency")
	switch agency {
	case "*":
		all, err := s.query.ProgressOfAll(r.Context(), code, year, s.now())
		if err != nil {
			s.queryError(w, "progress", err)
			return
		}
		ind, _ := s.query.Catalogue().Get(code)
		for i := range all {
			all[i] = all[i].Rounded(ind)
		}
		// Compact, as every list's pages are (writePage): indented, every agency's
		// progress is 3 MB at national scale, which every reader copies and decodes.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(map[string]any{"progress": all, "count": len(all)})
		return
	case "":
		agency = s.query.Registry().Root()
	}
	rep, err := s.query.Progress(r.Context(), code, agency, year, level)
	if err != nil {
		s.queryError(w, "progress", err)
		return
	}
	ind, _ := s.query.Catalogue().Get(code)
	writeJSON(w, http.StatusOK, rep.Rounded(ind))
}

func (s *Server) queryError(w http.ResponseWriter, op string, err error) {
	var nf *query.NotFoundError
	if errors.As(err, &nf) {
		writeProblems(w, http.StatusNotFound, []Problem{{Field: nf.Field, Reason: nf.Error()}})
		return
	}
	s.metrics.StoreErrors.WithLabelValues("read").Inc()
	s.log.Error("query failed", "op", op, "err", err)
	writeError(w, http.StatusInternalServerError, "lỗi máy chủ / server error: "+err.Error())
}

// Problem is one rejected field or cell, named so the submitter can find it.
type Problem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeProblems(w http.ResponseWriter, code int, probs []Problem) {
	msg := "yêu cầu không hợp lệ / invalid request"
	if code == http.StatusUnprocessableEntity {
		msg = "bài nộp bị từ chối, không có giá trị nào được lưu / submission rejected, nothing was stored"
	}
	writeJSON(w, code, map[string]any{"error": msg, "problems": probs})
}
