// Package feed pulls the KPI feeds agency systems publish over HTTP(S) and turns them
// into observations: JSON with a configured field mapping, CSV, Prometheus text
// exposition and XLSX. The payload is read by internal/intake's readers and checked by
// its validator, the same ones every submission goes through.
//
// A pull is all-or-nothing. The payload is fetched within the feed's size and time
// limits, every record is read and checked, and only when nothing is wrong are the
// observations written, in one store call. Anything wrong becomes a feed error that
// names each bad place (JSON path, CSV row and column, XLSX cell, exposition line)
// and is kept for the API and counted in the metrics; the store is left as it was.
// ETag and Last-Modified are remembered so an unchanged feed costs a 304.
package feed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/collectors/feed/feedconfig"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/redact"
)

// Format is how a feed's payload is written.
type Format = feedconfig.Format

// Formats, each read by intake's reader of the same name.
const (
	JSON       = feedconfig.JSON
	CSV        = feedconfig.CSV
	Prometheus = feedconfig.Prometheus
	XLSX       = feedconfig.XLSX
)

// Formats lists every format.
func Formats() []Format { return feedconfig.Formats() }

// Fields name where each part of a value sits in a record (see intake.Fields).
type Fields = feedconfig.Fields

// Feed is one configured feed: the configuration's own type, so a feed is pulled
// as it was written (a conversion, not a copy field by field). Its secrets are
// revealed only when the request is made.
type Feed feedconfig.Feed

// Submitter is what a feed's observations carry as their submitter.
func (f *Feed) Submitter() string { return "feed:" + f.Name }

// Problem is one thing wrong with a payload, at its place: intake's one problem type.
type Problem = intake.Problem

// Error categories, the `reason` label of goc_feed_errors_total.
const (
	ReasonFetch    = "fetch"     // no answer: DNS, connection, TLS
	ReasonStatus   = "status"    // an HTTP status other than 200 or 304
	ReasonTimeout  = "timeout"   // the pull took longer than the feed's timeout
	ReasonTooLarge = "too_large" // the payload is larger than the feed's limit
	ReasonParse    = "parse"     // the payload is not well-formed for its format
	ReasonInvalid  = "invalid"   // well-formed, but some values are rejected
	ReasonStore    = "store"     // the store refused the write
)

// Error is a failed pull: nothing of it was stored.
type Error struct {
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
	// Message is one line for logs and the API.
	Message string `json:"message"`
	// Problems lists every bad place in the payload, for parse and invalid errors.
	Problems []Problem `json:"problems,omitempty"`
}

func (e *Error) Error() string {
	if len(e.Problems) == 0 {
		return e.Message
	}
	ps := make([]string, 0, min(len(e.Problems), 5))
	for _, p := range e.Problems[:min(len(e.Problems), 5)] {
		ps = append(ps, p.String())
	}
	more := ""
	if len(e.Problems) > 5 {
		more = fmt.Sprintf("; … %d more", len(e.Problems)-5)
	}
	return e.Message + ": " + strings.Join(ps, "; ") + more
}

// Results of a pull.
const (
	ResultOK          = "ok"
	ResultNotModified = "not_modified"
	ResultError       = "error"
)

// Status is what G-OC knows about one feed: its last pull, and its last error if the
// last pull failed.
type Status struct {
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	Format      Format    `json:"format"`
	LastRun     time.Time `json:"last_run,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastResult is ok, not_modified or error; empty before the first pull.
	LastResult string `json:"last_result,omitempty"`
	// Values is how many values the last good payload held, and Written how many of
	// them were new revisions.
	Values  int `json:"values"`
	Written int `json:"written"`
	// Error is the last pull's error; null when it succeeded.
	Error *Error `json:"error"`
	// Errors counts failed pulls since G-OC started.
	Errors int `json:"errors"`
}

// Writer is what a puller needs from a store.
type Writer interface {
	WriteObservations(ctx context.Context, obs []indicators.Observation) ([]indicators.Observation, error)
}

// Metrics count pulls; build them with NewMetrics on the server's registry.
type Metrics struct {
	Runs        *prometheus.CounterVec
	Errors      *prometheus.CounterVec
	LastSuccess *prometheus.GaugeVec
	Failing     *prometheus.GaugeVec
	Written     *prometheus.CounterVec
}

// NewMetrics registers the feed metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_feed_pulls_total",
			Help: "Feed pulls, by feed and result (ok, not_modified, error).",
		}, []string{"feed", "result"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_feed_errors_total",
			Help: "Failed feed pulls, by feed and reason (fetch, status, timeout, too_large, parse, invalid, store). Nothing of a failed pull is stored.",
		}, []string{"feed", "reason"}),
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "goc_feed_last_success_timestamp_seconds",
			Help: "When each feed was last pulled without error (unix seconds).",
		}, []string{"feed"}),
		Failing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "goc_feed_failing",
			Help: "1 when the feed's last pull failed, 0 when it succeeded.",
		}, []string{"feed"}),
		Written: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_feed_values_written_total",
			Help: "Values from feeds stored as new revisions, by feed.",
		}, []string{"feed"}),
	}
	reg.MustRegister(m.Runs, m.Errors, m.LastSuccess, m.Failing, m.Written)
	return m
}

// Puller pulls feeds. It is safe for concurrent use; each feed keeps its own state.
type Puller struct {
	client  *http.Client
	checker *Checker
	writer  Writer
	metrics *Metrics
	log     *slog.Logger
	now     func() time.Time

	mu    sync.Mutex
	feeds map[string]*feedState
}

type feedState struct {
	mu           sync.Mutex // one pull of a feed at a time
	status       Status
	etag         string
	lastModified string
}

// PullerOptions configure a Puller.
type PullerOptions struct {
	Checker *Checker
	Writer  Writer
	// Client makes the requests (nil: a client with the system's roots that reaches
	// only public addresses and those Outbound allows).
	Client *http.Client
	// Outbound lists the internal addresses feeds may be pulled from when Client is nil;
	// nil allows none.
	Outbound *outbound.Policy
	Metrics  *Metrics // nil: not counted
	Logger   *slog.Logger
	Now      func() time.Time
}

// NewPuller builds a Puller.
func NewPuller(o PullerOptions) *Puller {
	p := &Puller{client: o.Client, checker: o.Checker, writer: o.Writer, metrics: o.Metrics,
		log: o.Logger, now: o.Now, feeds: map[string]*feedState{}}
	if p.client == nil {
		p.client = o.Outbound.Client(0) // each pull has its own timeout
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

func (p *Puller) state(f *Feed) *feedState {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.feeds[f.Name]
	if st == nil {
		// The URL as shown anywhere (API, pages, logs) hides credentials in it.
		st = &feedState{status: Status{Name: f.Name, URL: redact.URL(f.URL), Format: f.Format}}
		p.feeds[f.Name] = st
	}
	return st
}

// Register makes a feed known before its first pull, so the API lists it.
func (p *Puller) Register(f *Feed) { p.state(f) }

// Statuses lists every feed's status, by name.
func (p *Puller) Statuses() []Status {
	p.mu.Lock()
	states := make([]*feedState, 0, len(p.feeds))
	for _, st := range p.feeds {
		states = append(states, st)
	}
	p.mu.Unlock()
	out := make([]Status, 0, len(states))
	for _, st := range states {
		st.mu.Lock()
		out = append(out, st.status)
		st.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Pull fetches, reads, checks and stores one feed, and returns its status after the
// pull. The error is the pull's *Error, nil on success or when nothing changed.
func (p *Puller) Pull(ctx context.Context, f *Feed) (Status, error) {
	st := p.state(f)
	st.mu.Lock()
	defer st.mu.Unlock()
	start := p.now()
	result, values, written, ferr := p.pull(ctx, f, st)
	st.status.LastRun = start
	st.status.LastResult = result
	if ferr != nil {
		ferr.Time = start
		// A feed that keeps failing the same way is logged once, at its first failure.
		level := slog.LevelWarn
		if prev := st.status.Error; prev != nil && prev.Error() == ferr.Error() {
			level = slog.LevelDebug
		}
		p.log.Log(ctx, level, "nguồn số liệu bị từ chối, không lưu gì / feed rejected, nothing stored",
			"feed", f.Name, "reason", ferr.Reason, "err", ferr.Error())
		st.status.Error = ferr
		st.status.Errors++
	} else {
		st.status.Error = nil
		st.status.LastSuccess = start
		if result == ResultOK {
			st.status.Values, st.status.Written = values, written
		}
	}
	if m := p.metrics; m != nil {
		m.Runs.WithLabelValues(f.Name, result).Inc()
		if ferr != nil {
			m.Errors.WithLabelValues(f.Name, ferr.Reason).Inc()
			m.Failing.WithLabelValues(f.Name).Set(1)
		} else {
			m.Failing.WithLabelValues(f.Name).Set(0)
			m.LastSuccess.WithLabelValues(f.Name).Set(float64(start.Unix()))
			m.Written.WithLabelValues(f.Name).Add(float64(written))
		}
	}
	if ferr != nil {
		return st.status, ferr
	}
	return st.status, nil
}

func (p *Puller) pull(ctx context.Context, f *Feed, st *feedState) (result string, values, written int, _ *Error) {
	fail := func(reason, format string, args ...any) (string, int, int, *Error) {
		// Errors from net/http quote the URL, with any key in its query.
		return ResultError, 0, 0, &Error{Reason: reason, Message: redact.Text(fmt.Sprintf(format, args...))}
	}
	timeout, maxBytes := f.Timeout, f.MaxBytes
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if maxBytes <= 0 {
		maxBytes = 10 << 20
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return fail(ReasonFetch, "địa chỉ không hợp lệ / bad URL %q: %v", f.URL, err)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fail(ReasonFetch, "chỉ http và https / only http and https: %q", f.URL)
	}
	req.Header.Set("User-Agent", "G-OC-feed/1")
	req.Header.Set("Accept", accept(f.Format))
	if !f.Token.IsZero() {
		req.Header.Set("Authorization", "Bearer "+f.Token.Reveal())
	}
	if !f.Password.IsZero() {
		req.SetBasicAuth(f.Username, f.Password.Reveal())
	}
	if len(f.QuerySecrets) > 0 {
		q := req.URL.Query()
		for k, v := range f.QuerySecrets {
			q.Set(k, v.Reveal())
		}
		req.URL.RawQuery = q.Encode()
	}
	if st.etag != "" {
		req.Header.Set("If-None-Match", st.etag)
	}
	if st.lastModified != "" {
		req.Header.Set("If-Modified-Since", st.lastModified)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fail(ReasonTimeout, "quá thời gian %s / took longer than %s", timeout, timeout)
		}
		return fail(ReasonFetch, "không tải được / fetch failed: %v", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && (st.etag != "" || st.lastModified != ""):
		return ResultNotModified, 0, 0, nil
	case resp.StatusCode != http.StatusOK:
		return fail(ReasonStatus, "máy chủ trả về / the server answered %s", resp.Status)
	case resp.ContentLength > maxBytes:
		return fail(ReasonTooLarge, "nội dung %d byte vượt giới hạn %d byte / payload of %d bytes exceeds the %d-byte limit",
			resp.ContentLength, maxBytes, resp.ContentLength, maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fail(ReasonTimeout, "quá thời gian %s khi tải / took longer than %s to download", timeout, timeout)
		}
		return fail(ReasonFetch, "tải dở dang / download broke off: %v", err)
	}
	if int64(len(data)) > maxBytes {
		return fail(ReasonTooLarge, "nội dung vượt giới hạn %d byte / payload exceeds the %d-byte limit", maxBytes, maxBytes)
	}
	obs, perr := p.checker.Check(ctx, f, data)
	if perr != nil {
		return ResultError, 0, 0, perr
	}
	if len(obs) == 0 {
		return ResultError, 0, 0, &Error{Reason: ReasonInvalid, Message: "nguồn không có giá trị nào / the feed holds no values"}
	}
	batch := newBatchID()
	for i := range obs {
		obs[i].Batch = batch
	}
	stored, err := p.writer.WriteObservations(ctx, obs)
	if err != nil {
		return fail(ReasonStore, "không lưu được / store refused the write: %v", err)
	}
	for _, o := range stored {
		if o.Batch == batch { // a repeat comes back with its earlier batch
			written++
		}
	}
	// Remember the validators only once the content is stored, so a payload that
	// failed is fetched whole again next time.
	st.etag = resp.Header.Get("ETag")
	st.lastModified = resp.Header.Get("Last-Modified")
	return ResultOK, len(obs), written, nil
}

func newBatchID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

func accept(f Format) string {
	switch f {
	case JSON:
		return "application/json"
	case CSV:
		return "text/csv"
	case Prometheus:
		return "text/plain;version=0.0.4"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "*/*"
}

// Checker reads and checks a feed's payload with intake's reader for its format and
// intake's validator: a feed's values are held to the rules a submission is held to.
type Checker struct {
	cat *indicators.Catalogue
	reg *indicators.Registry
	loc *time.Location
	now func() time.Time
}

// NewChecker builds a Checker. loc is the zone periods are judged in.
func NewChecker(cat *indicators.Catalogue, reg *indicators.Registry, loc *time.Location, now func() time.Time) *Checker {
	if loc == nil {
		loc = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	return &Checker{cat: cat, reg: reg, loc: loc, now: now}
}

// Layout is where the feed's records and their parts sit, for intake's readers.
func (f *Feed) Layout() *intake.Layout {
	return &intake.Layout{Records: f.Records, Sheet: f.Sheet, Fields: intake.Fields(f.Fields),
		Agency: f.Agency, Indicator: f.Indicator, Period: f.Period}
}

// Check reads and checks one payload. It returns the observations, or an *Error whose
// reason is parse when the payload is not well-formed for its format (the reader found
// something wrong) and invalid when its values break a rule.
func (c *Checker) Check(ctx context.Context, f *Feed, data []byte) ([]indicators.Observation, *Error) {
	var obs []indicators.Observation
	v := intake.NewValidator(intake.Rules{Catalogue: c.cat, Registry: c.reg, Location: c.loc, Now: c.now(),
		Emit: func(o indicators.Observation, _ intake.Place) {
			o.Source, o.Submitter = indicators.FromFeed, f.Submitter()
			obs = append(obs, o)
		}})
	h := &counting{Validator: v}
	err := intake.Read(ctx, intake.Format(f.Format), bytes.NewReader(data), int64(len(data)),
		intake.Options{Catalogue: c.cat, Registry: c.reg, MaxUnzipped: max(int64(len(data))*20, 64<<20), Layout: f.Layout()}, h)
	res := v.Finish()
	var fe *intake.FileError
	switch {
	case errors.As(err, &fe):
		return nil, &Error{Reason: ReasonParse, Message: malformed(f), Problems: []Problem{{Rule: string(fe.Kind), Reason: fe.Reason}}}
	case err != nil:
		return nil, &Error{Reason: ReasonParse, Message: malformed(f) + ": " + err.Error()}
	case h.parse > 0:
		return nil, &Error{Reason: ReasonParse, Message: malformed(f), Problems: res.Problems}
	case !res.OK():
		return nil, &Error{Reason: ReasonInvalid,
			Message: fmt.Sprintf("%d giá trị bị từ chối / %d values rejected", res.Total, res.Total), Problems: res.Problems}
	}
	return obs, nil
}

func malformed(f *Feed) string {
	return "nội dung sai định dạng " + string(f.Format) + " / malformed " + string(f.Format) + " payload"
}

// counting is the Validator, counting the problems the reader itself reports: those
// make a payload malformed rather than invalid.
type counting struct {
	*intake.Validator
	parse int
}

func (h *counting) Problem(p intake.Problem) {
	h.parse++
	h.Validator.Problem(p)
}
