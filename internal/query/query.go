// Package query is the one read layer every presenter (HTTP API, pages, reports, Grafana)
// asks. It turns stored observations into the figures users see: roll-ups over the agency
// hierarchy and progress toward targets, each traceable to the observations behind it.
// No presenter reaches into a store backend.
package query

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// Reader is what the query layer needs from a store.
type Reader interface {
	Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error)
}

// Service answers questions about indicators, agencies and progress.
type Service struct {
	store     Reader
	catalogue *indicators.Catalogue
	registry  *indicators.Registry
	now       func() time.Time
	// cache keeps rolled-up yearly figures between requests (see figureCache); copies
	// of the Service share it.
	cache *figureCache
	// rankings keeps computed rankings the same way (see rankingCache).
	rankings *rankingCache
	// audience is whose unapproved figures reads include; the zero value is the
	// public (see For).
	audience Audience
	// agencyChunk is how many agencies one store read names: Completeness reads their
	// reports, the figures their observations, a chunk at a time.
	agencyChunk int
}

// New builds a Service. now is the clock (time.Now in production).
func New(st Reader, cat *indicators.Catalogue, reg *indicators.Registry, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, catalogue: cat, registry: reg, now: now, cache: newFigureCache(), rankings: newRankingCache(),
		agencyChunk: defaultAgencyChunk}
}

// Catalogue is the indicator catalogue in force.
func (s *Service) Catalogue() *indicators.Catalogue { return s.catalogue }

// Registry is the agency registry in force.
func (s *Service) Registry() *indicators.Registry { return s.registry }

// NotFoundError says which input named something that does not exist.
type NotFoundError struct{ Field, Value string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %q không tồn tại / %s %q is not known", e.Field, e.Value, e.Field, e.Value)
}

// Series is one agency's values of one indicator over time, own or rolled up.
type Series struct {
	Indicator string             `json:"indicator"`
	Agency    string             `json:"agency"`
	Level     indicators.Level   `json:"level,omitempty"`
	Values    []indicators.Value `json:"values"`
}

// Series computes an agency's values of an indicator for every period with data. With a
// level, only agencies of that level contribute (the national commune-level figure).
func (s *Service) Series(ctx context.Context, code, agency string, level indicators.Level) (*indicators.Indicator, Series, error) {
	ind, ok := s.catalogue.Get(code)
	if !ok {
		return nil, Series{}, &NotFoundError{"indicator", code}
	}
	if _, ok := s.registry.Get(agency); !ok {
		return nil, Series{}, &NotFoundError{"agency", agency}
	}
	byPeriod, err := s.ownByPeriod(ctx, ind)
	if err != nil {
		return nil, Series{}, err
	}
	return ind, Series{Indicator: code, Agency: agency, Level: level, Values: s.rollUpSeries(ind, byPeriod, agency, level)}, nil
}

// ownObservations maps each period to every agency's own latest observation in it.
type ownObservations = map[period.Period]map[string]indicators.Observation

// rollUpSeries is an agency's value in every period with data, own or rolled up, from
// observations already read.
func (s *Service) rollUpSeries(ind *indicators.Indicator, byPeriod ownObservations, agency string, level indicators.Level) []indicators.Value {
	var values []indicators.Value
	for _, p := range sortedPeriods(byPeriod) {
		if v, ok := indicators.RollUp(ind, s.registry, agency, p, byPeriod[p], level); ok {
			values = append(values, v)
		}
	}
	return values
}

// ownByPeriod loads the latest revision of every agency's own observations of one
// indicator in one query, grouped by period.
func (s *Service) ownByPeriod(ctx context.Context, ind *indicators.Indicator) (ownObservations, error) {
	return s.ownByPeriodIn(ctx, ind, time.Time{}, time.Time{})
}

// ownByPeriodIn is ownByPeriod for the periods that start in [from, to); a zero bound
// does not bound.
//
// It reads the observations of the registry's agencies (and the root), agencyChunk of
// them at a time, as Completeness does: no figure is rolled up from any other agency,
// and a store may hold many (a registry that has changed since, or the load test's
// 10,417 synthetic agencies). So what it holds is the registry's observations of the
// range, however many other agencies the store keeps, and those are never read: each
// chunk is a seek per agency on the store's (indicator, agency, period) key.
func (s *Service) ownByPeriodIn(ctx context.Context, ind *indicators.Indicator, from, to time.Time) (ownObservations, error) {
	codes := s.registryCodes()
	byPeriod := ownObservations{}
	step := max(1, s.agencyChunk)
	if f, ok := s.store.(fewerReader); ok && f.FewerLargerReads() {
		// Every chunk's observations are held together below anyway.
		step = len(codes)
	}
	for start := 0; start < len(codes); start += step {
		q := store.Query{Indicators: []string{ind.Code}, Agencies: codes[start:min(len(codes), start+step)], From: from, To: to}
		obs, err := s.read(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read observations of %s: %w", ind.Code, err)
		}
		for _, o := range obs {
			m := byPeriod[o.Period]
			if m == nil {
				m = map[string]indicators.Observation{}
				byPeriod[o.Period] = m
			}
			m[o.Agency] = o
		}
	}
	return byPeriod, nil
}

// fewerReader is a store where each read costs a round trip whatever it returns
// (InfluxDB: a Flux query is planned and run by influxd, tens of milliseconds before
// the first row), so that the figures read every agency of a range in one read rather
// than agencyChunk at a time: a reviewer's figures of one indicator at national scale
// were 196 Flux queries (28 ranges of years, 7 chunks each), 9.5 s of influxd's CPU.
type fewerReader interface {
	FewerLargerReads() bool
}

// registryCodes are the codes of every agency in the registry, current and former, and
// the root, in code order.
func (s *Service) registryCodes() []string {
	codes := make([]string, 0, len(s.registry.All())+1)
	for _, a := range s.registry.All() {
		codes = append(codes, a.Code)
	}
	if root := s.registry.Root(); !slices.Contains(codes, root) {
		codes = append(codes, root)
	}
	slices.Sort(codes)
	return codes
}

func sortedPeriods[V any](m map[period.Period]V) []period.Period {
	ps := make([]period.Period, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, period.Period.Compare)
	return ps
}

// ProgressReport is progress toward one target with the figures it came from.
type ProgressReport struct {
	indicators.Progress
	// LatestFrom and BaselineFrom list the agencies whose own observations make the
	// latest and baseline figures (one code when the agency reported it itself).
	LatestFrom   []string `json:"latest_from,omitempty"`
	BaselineFrom []string `json:"baseline_from,omitempty"`
	// LatestComputed is true when the latest figure is a roll-up.
	LatestComputed bool `json:"latest_computed"`
	// Missing lists agencies expected in the latest roll-up that had no value.
	Missing []string `json:"missing,omitempty"`
	// ByLevel is set for the country on an indicator with a target per level (clause
	// a.v): one report per level, each judged against its own target, since the levels
	// are never mixed into one national figure.
	ByLevel []ProgressReport `json:"by_level,omitempty"`
}

// Progress computes one agency's progress on one indicator toward the target of a year.
// The level defaults to the agency's own; the national root with a level gives that
// level's national figure against that level's target.
func (s *Service) Progress(ctx context.Context, code, agency string, year int, level indicators.Level) (ProgressReport, error) {
	a, ok := s.registry.Get(agency)
	if !ok {
		return ProgressReport{}, &NotFoundError{"agency", agency}
	}
	ind, ok := s.catalogue.Get(code)
	if !ok {
		return ProgressReport{}, &NotFoundError{"indicator", code}
	}
	judged := level
	if judged == "" {
		judged = a.Level()
	}
	perLevel := a.Kind == indicators.KindNational && level == "" && ind.HasLevelTargets()
	// The yearly figures kept between requests, while the store has not changed.
	if values, ok, err := s.annualValues(ctx, ind, agency, level); err != nil {
		return ProgressReport{}, err
	} else if ok {
		rep := progressOf(ind, agency, judged, year, values)
		for _, l := range ind.Levels {
			if perLevel && l != indicators.National {
				lv, _, err := s.annualValues(ctx, ind, agency, l)
				if err != nil {
					return ProgressReport{}, err
				}
				rep.ByLevel = append(rep.ByLevel, progressOf(ind, agency, l, year, lv))
			}
		}
		return rep, nil
	}
	// One read serves the agency's figure and, for a per-level indicator, every level's.
	byPeriod, err := s.ownByPeriod(ctx, ind)
	if err != nil {
		return ProgressReport{}, err
	}
	rep := progressOf(ind, agency, judged, year, s.rollUpSeries(ind, byPeriod, agency, level))
	if perLevel {
		for _, l := range ind.Levels {
			if l != indicators.National {
				rep.ByLevel = append(rep.ByLevel, progressOf(ind, agency, l, year, s.rollUpSeries(ind, byPeriod, agency, l)))
			}
		}
	}
	return rep, nil
}

func progressOf(ind *indicators.Indicator, agency string, level indicators.Level, year int, values []indicators.Value) ProgressReport {
	annual := indicators.AnnualPoints(values)
	points := make([]indicators.Point, len(annual))
	for i, v := range annual {
		points[i] = indicators.Point{Period: v.Period, Value: v.Value}
	}
	rep := ProgressReport{Progress: indicators.ComputeProgress(ind, agency, level, points, year)}
	if len(annual) > 0 {
		last, first := annual[len(annual)-1], annual[0]
		rep.LatestFrom, rep.LatestComputed, rep.Missing = last.From, last.Computed, last.Missing
		rep.BaselineFrom = first.From
	}
	return rep
}

// ProgressOfAll computes progress on one indicator for every agency of the given levels
// active on the day, plus the country, from one read of the store: the "every province
// on one indicator" view, which must stay fast at 3,400 agencies.
func (s *Service) ProgressOfAll(ctx context.Context, code string, year int, on time.Time) ([]ProgressReport, error) {
	ind, ok := s.catalogue.Get(code)
	if !ok {
		return nil, &NotFoundError{"indicator", code}
	}
	agencies := []*indicators.Agency{}
	if root, ok := s.registry.Get(s.registry.Root()); ok {
		agencies = append(agencies, root)
	}
	for _, a := range s.registry.All() {
		if a.Kind != indicators.KindNational && ind.ReportedAt(a.Level()) && a.ActiveOn(on) {
			agencies = append(agencies, a)
		}
	}
	out := make([]ProgressReport, 0, len(agencies))
	figs, ok, err := s.figures(ctx, ind, "")
	if err != nil {
		return nil, err
	}
	if ok {
		for _, a := range agencies {
			var values []indicators.Value
			if f := figs[a.Code]; f != nil {
				values = f.Annual
			}
			out = append(out, progressOf(ind, a.Code, a.Level(), year, values))
		}
		return out, nil
	}
	byPeriod, err := s.ownByPeriod(ctx, ind)
	if err != nil {
		return nil, err
	}
	for _, a := range agencies {
		out = append(out, progressOf(ind, a.Code, a.Level(), year, s.rollUpSeries(ind, byPeriod, a.Code, "")))
	}
	return out, nil
}

// Observations returns stored observations as they are, with source and revision:
// approved ones, and the newest of the agencies the Service's audience sees.
func (s *Service) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	for _, c := range q.Indicators {
		if _, ok := s.catalogue.Get(c); !ok {
			return nil, &NotFoundError{"indicator", c}
		}
	}
	for _, c := range q.Agencies {
		if _, ok := s.registry.Get(c); !ok {
			return nil, &NotFoundError{"agency", c}
		}
	}
	obs, err := s.read(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read observations: %w", err)
	}
	return obs, nil
}
