package alerting

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
)

// Reader is what the gauges read: completeness and progress, from internal/query.
type Reader interface {
	Completeness(ctx context.Context, p period.Period, dueDays int, loc *time.Location, now time.Time, f query.CompletenessFilter) (query.Completeness, error)
	ProgressOfAll(ctx context.Context, code string, year int, on time.Time) ([]query.ProgressReport, error)
}

// StatusClass ranks progress statuses, best first, so that "fell a class" is a
// comparison: 4 achieved, 3 on track, 2 needs acceleration, 1 stagnating, 0
// regressing. Statuses with no verdict (no target, too little data) have no class.
func StatusClass(s indicators.Status) (float64, bool) {
	switch s {
	case indicators.Achieved:
		return 4, true
	case indicators.OnTrack:
		return 3, true
	case indicators.NeedsAcceleration:
		return 2, true
	case indicators.Stagnating:
		return 1, true
	case indicators.Regressing:
		return 0, true
	}
	return 0, false
}

// Gauges exports, per agency, what the submission and progress rules read. Computing
// them reads the whole catalogue's progress, so it is done by Refresh on a schedule
// (alerts.refresh_every), not at every scrape; a scrape reads the last snapshot.
//
// Progress is exported for the country, ministries and provinces only: they have
// targets of their own, and 3,300 communes × 40 indicators would be 130,000 series.
type Gauges struct {
	reader  Reader
	cat     *indicators.Catalogue
	reg     *indicators.Registry
	dueDays map[period.Kind]int
	loc     *time.Location

	overdue, class, refreshed *prometheus.Desc

	mu   sync.RWMutex
	snap []constMetric
	at   time.Time
}

type constMetric struct {
	desc   *prometheus.Desc
	value  float64
	labels []string
}

// NewGauges builds the gauges; register them on a registry and call Refresh.
func NewGauges(r Reader, cat *indicators.Catalogue, reg *indicators.Registry, dueDays map[period.Kind]int, loc *time.Location) *Gauges {
	if loc == nil {
		loc = time.UTC
	}
	return &Gauges{reader: r, cat: cat, reg: reg, dueDays: dueDays, loc: loc,
		overdue: prometheus.NewDesc("goc_submission_overdue_seconds",
			"How long past its deadline an agency's report for the latest period due has been missing, by agency, periodicity and period; absent when the report arrived.",
			[]string{"agency", "periodicity", "period"}, nil),
		class: prometheus.NewDesc("goc_indicator_progress_status_class",
			"Progress class of an agency toward its next target on an indicator: 4 achieved, 3 on track, 2 needs acceleration, 1 stagnating, 0 regressing; absent without a verdict.",
			[]string{"indicator", "agency", "target_year"}, nil),
		refreshed: prometheus.NewDesc("goc_alerting_gauges_refresh_timestamp_seconds",
			"When the submission and progress gauges were last computed, unix seconds.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (g *Gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.overdue
	ch <- g.class
	ch <- g.refreshed
}

// Collect implements prometheus.Collector.
func (g *Gauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.RLock()
	snap, at := g.snap, g.at
	g.mu.RUnlock()
	if at.IsZero() {
		return
	}
	for _, m := range snap {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, m.value, m.labels...)
	}
	ch <- prometheus.MustNewConstMetric(g.refreshed, prometheus.GaugeValue, float64(at.UnixNano())/1e9)
}

// Refresh recomputes every gauge as of now. On an error the previous snapshot stays.
func (g *Gauges) Refresh(ctx context.Context, now time.Time) error {
	var snap []constMetric
	for _, k := range catalogueKinds(g.cat) {
		due, ok := g.dueDays[k]
		if !ok {
			continue
		}
		p := LastDuePeriod(k, due, g.loc, now)
		c, err := g.reader.Completeness(ctx, p, due, g.loc, now, query.CompletenessFilter{})
		if err != nil {
			return fmt.Errorf("alerting gauges: completeness of %s: %w", p, err)
		}
		for _, a := range c.Agencies {
			if a.Status == query.Missing {
				snap = append(snap, constMetric{g.overdue, now.Sub(c.Deadline).Seconds(), []string{a.Agency, k.String(), p.String()}})
			}
		}
	}
	for _, ind := range g.cat.All() {
		year, ok := nextTargetYear(ind, now.In(g.loc).Year())
		if !ok {
			continue
		}
		reps, err := g.reader.ProgressOfAll(ctx, ind.Code, year, now)
		if err != nil {
			return fmt.Errorf("alerting gauges: progress on %s: %w", ind.Code, err)
		}
		for _, r := range reps {
			if a, ok := g.reg.Get(r.Agency); !ok || !hasOwnTargets(a) {
				continue
			}
			if v, ok := StatusClass(r.Status); ok {
				snap = append(snap, constMetric{g.class, v, []string{ind.Code, r.Agency, fmt.Sprint(year)}})
			}
		}
	}
	g.mu.Lock()
	g.snap, g.at = snap, now
	g.mu.Unlock()
	return nil
}

// hasOwnTargets: the country, ministries and provinces.
func hasOwnTargets(a *indicators.Agency) bool {
	return slices.Contains([]indicators.AgencyKind{indicators.KindNational, indicators.KindMinistry,
		indicators.KindMinisterialAgency, indicators.KindGovernmentAgency, indicators.KindProvince}, a.Kind)
}

// nextTargetYear is the first target year not before this year.
func nextTargetYear(ind *indicators.Indicator, this int) (int, bool) {
	for _, y := range ind.TargetYears() {
		if y >= this {
			return y, true
		}
	}
	return 0, false
}

// LastDuePeriod is the latest period of a kind whose reports were due by now. It is the
// same rule the completeness gauges of internal/api follow.
func LastDuePeriod(k period.Kind, dueDays int, loc *time.Location, now time.Time) period.Period {
	p := period.Of(k, now.In(loc))
	for i := 0; i < 24 && query.Deadline(p, dueDays, loc).After(now); i++ {
		p = p.Prev()
	}
	return p
}
