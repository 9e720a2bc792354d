package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
)

// getCompleteness answers who has reported for a period: on time, late, missing, or
// pending before the deadline, with counts and DHIS2's reporting rate.
//
//	GET /api/v1/completeness?period=2026-Q3[&level=province][&within=P20][&status=missing]
func (s *Server) getCompleteness(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var probs []Problem
	p, err := period.Parse(q.Get("period"))
	if err != nil {
		probs = append(probs, Problem{Field: "period", Reason: "bắt buộc, dạng 2026-Q3 / required, such as 2026-Q3: " + err.Error()})
	}
	var f query.CompletenessFilter
	if v := q.Get("level"); v != "" {
		l, err := indicators.ParseLevel(v)
		if err != nil {
			probs = append(probs, Problem{Field: "level", Reason: err.Error()})
		}
		f.Level = l
	}
	f.Within = q.Get("within")
	f.Status = query.ReportStatus(q.Get("status"))
	switch f.Status {
	case "", query.OnTime, query.Late, query.Missing, query.Pending:
	default:
		probs = append(probs, Problem{Field: "status", Reason: "phải là on_time, late, missing hoặc pending / must be on_time, late, missing or pending"})
	}
	pp := newParams(q)
	limit, _ := pp.page(&f.After)
	f.Limit = limit
	probs = append(probs, pp.probs...)
	if len(probs) > 0 {
		writeProblems(w, http.StatusBadRequest, probs)
		return
	}
	// The query layer pages: it keeps one page of agencies, however many must report.
	c, err := s.query.Completeness(r.Context(), p, s.sub.dueDays[p.Kind], s.loc, s.now(), f)
	if err != nil {
		s.queryError(w, "completeness", err)
		return
	}
	var next string
	if c.More {
		next = encodeCursor(c.Agencies[len(c.Agencies)-1].Agency)
	}
	writeJSON(w, http.StatusOK, struct {
		query.Completeness
		pageInfo
	}{c, newPageInfo(w, r, limit, next)})
}

// completenessCollector exports the reports of the latest period of each periodicity
// whose deadline has passed. Labels are the periodicity and that one period, so there
// are never more than four series per metric: old periods drop out instead of piling
// up.
//
// The counts are kept for completenessEvery and recomputed by the first scrape after
// that: computed on every scrape, a server busy with readers made each /metrics wait
// for a store connection until its timeout (5 s in the load test), and then left the
// gauges out. A failed computation keeps the previous counts.
type completenessCollector struct {
	s                       *Server
	missing, late, expected *prometheus.Desc

	refresh sync.Mutex // one computation at a time
	mu      sync.Mutex // guards snap and at
	snap    []prometheus.Metric
	at      time.Time
}

// completenessEvery is how long the completeness gauges are kept: a deadline is a day,
// so half a minute changes nothing an alert would see.
const completenessEvery = 30 * time.Second

func newCompletenessCollector(s *Server) *completenessCollector {
	labels := []string{"periodicity", "period"}
	return &completenessCollector{
		s: s,
		missing: prometheus.NewDesc("goc_submissions_missing",
			"Agencies that must report for the latest period past its deadline and have sent nothing.", labels, nil),
		late: prometheus.NewDesc("goc_submissions_late",
			"Agencies whose report for the latest period past its deadline arrived after the deadline.", labels, nil),
		expected: prometheus.NewDesc("goc_submissions_expected",
			"Agencies that must report for the latest period past its deadline.", labels, nil),
	}
}

func (c *completenessCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.missing
	ch <- c.late
	ch <- c.expected
}

func (c *completenessCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.query == nil {
		return
	}
	for _, m := range c.current() {
		ch <- m
	}
}

// current returns the kept counts, computing them first when they are older than
// completenessEvery.
func (c *completenessCollector) current() []prometheus.Metric {
	fresh := func(now time.Time) ([]prometheus.Metric, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.snap, !c.at.IsZero() && now.Sub(c.at) < completenessEvery
	}
	if snap, ok := fresh(c.s.now()); ok {
		return snap
	}
	c.refresh.Lock()
	defer c.refresh.Unlock()
	now := c.s.now()
	if snap, ok := fresh(now); ok { // another scrape computed them meanwhile
		return snap
	}
	snap, ok := c.compute(now)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.snap, c.at = snap, now
	}
	return c.snap
}

// compute counts the reports; false when a read failed (the error is logged).
func (c *completenessCollector) compute(now time.Time) ([]prometheus.Metric, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kinds := make([]period.Kind, 0, len(c.s.sub.dueDays))
	for k := range c.s.sub.dueDays {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var out []prometheus.Metric
	for _, k := range kinds {
		due := c.s.sub.dueDays[k]
		p := LastDuePeriod(k, due, c.s.loc, now)
		comp, err := c.s.query.Completeness(ctx, p, due, c.s.loc, now, query.CompletenessFilter{})
		if err != nil {
			c.s.metrics.StoreErrors.WithLabelValues("read").Inc()
			c.s.log.Error("completeness for metrics", "period", p.String(), "err", err)
			return nil, false
		}
		if comp.Expected == 0 {
			continue
		}
		for _, m := range []struct {
			d *prometheus.Desc
			v int
		}{{c.missing, comp.Missing}, {c.late, comp.Late}, {c.expected, comp.Expected}} {
			out = append(out, prometheus.MustNewConstMetric(m.d, prometheus.GaugeValue, float64(m.v), k.String(), p.String()))
		}
	}
	return out, true
}

// LastDuePeriod is the latest period of a kind whose reports were due by now.
func LastDuePeriod(k period.Kind, dueDays int, loc *time.Location, now time.Time) period.Period {
	p := period.Of(k, now.In(loc))
	for i := 0; i < 24 && query.Deadline(p, dueDays, loc).After(now); i++ {
		p = p.Prev()
	}
	return p
}

// registerCompleteness adds the completeness gauges to the Server's registry once.
func (s *Server) registerCompleteness() {
	err := s.metrics.Registry.Register(newCompletenessCollector(s))
	var already prometheus.AlreadyRegisteredError
	if err != nil && !errors.As(err, &already) {
		s.log.Error("register completeness metrics", "err", err)
	}
}
