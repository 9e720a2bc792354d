package query

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// figureCache keeps, per indicator, every agency's yearly figures rolled up from the
// whole history, stamped with the store's data version: progress of one agency or of
// every agency, and the report card, read them instead of rolling up years of monthly
// figures for each request. An entry is recomputed (once, however many requests wait
// for it) when the version moves. It holds at most one entry per indicator and level,
// so its size is bounded by the catalogue and the registry, not by the history.
type figureCache struct {
	mu      sync.Mutex
	entries map[figureKey]*figureEntry
}

type figureKey struct {
	indicator string
	level     indicators.Level
	published bool // the public view's figures, or every newest revision's
}

type figureEntry struct {
	version string
	ready   chan struct{} // closed when series or err is set
	series  map[string]*agencyFigures
	err     error
}

// agencyFigures is one agency's figures of one indicator.
type agencyFigures struct {
	// Annual is one point per year (indicators.AnnualPoints), rolled up or its own.
	Annual []indicators.Value
	// Sources and Cutoff describe the observations behind every period's figure: their
	// sources, and when the newest of them was received.
	Sources []indicators.Source
	Cutoff  time.Time
}

func newFigureCache() *figureCache {
	return &figureCache{entries: map[figureKey]*figureEntry{}}
}

// figures returns the figures of every agency (level "") or of the country alone (a
// level) for one indicator, and false when they cannot be cached: the store keeps no
// data version.
func (s *Service) figures(ctx context.Context, ind *indicators.Indicator, level indicators.Level) (map[string]*agencyFigures, bool, error) {
	// The figures version changes whenever anything an observation read could see
	// changes (a new revision, an approval); a store without it gets every figure
	// computed afresh from its history.
	dv, ok := s.store.(store.FiguresVersioner)
	if !ok || s.cache == nil || !s.cacheable() {
		return nil, false, nil
	}
	version, err := dv.FiguresVersion(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("read data version: %w", err)
	}
	key := figureKey{ind.Code, level, s.audience.public()}
	c := s.cache
	c.mu.Lock()
	e := c.entries[key]
	if e == nil || e.version != version {
		e = &figureEntry{version: version, ready: make(chan struct{})}
		c.entries[key] = e
		c.mu.Unlock()
		// One reader's hang-up must not fail the others waiting for the same figures.
		e.series, e.err = s.computeFigures(context.WithoutCancel(ctx), ind, level)
		close(e.ready)
		if e.err != nil {
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key) // the next request tries again
			}
			c.mu.Unlock()
		}
		return e.series, true, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, true, ctx.Err()
	}
	if e.err != nil {
		return nil, true, e.err
	}
	return e.series, true, nil
}

// figuresFromYear is the first year computeFigures reads on its own: everything before
// it is read in one chunk (digital-government figures before 2000 are few, if any).
const figuresFromYear = 2000

// computeFigures rolls the indicator up for every agency in the registry (or for the
// country alone at a level), reading it a year of periods at a time: a figure of a
// period needs only that period's observations, and a year of them is what memory
// holds, however many years the store keeps.
func (s *Service) computeFigures(ctx context.Context, ind *indicators.Indicator, level indicators.Level) (map[string]*agencyFigures, error) {
	var codes []string
	if level == "" {
		for _, a := range s.registry.All() {
			codes = append(codes, a.Code)
		}
		if !slices.Contains(codes, s.registry.Root()) {
			codes = append(codes, s.registry.Root())
		}
	} else {
		codes = []string{s.registry.Root()}
	}
	out := make(map[string]*agencyFigures, len(codes))
	seen := make(map[string]map[indicators.Source]bool, len(codes))
	yearStart := func(y int) time.Time { return period.Period{Kind: period.Year, Year: y, Index: 1}.Start(nil) }
	// Chunks: before figuresFromYear, each year to this one, then this year and later
	// (periods a clock slightly behind the data may hold).
	last := max(s.now().Year(), figuresFromYear)
	for y := figuresFromYear - 1; y <= last; y++ {
		var from, to time.Time
		switch {
		case y < figuresFromYear:
			to = yearStart(figuresFromYear)
		case y == last:
			from = yearStart(y)
		default:
			from, to = yearStart(y), yearStart(y+1)
		}
		byPeriod, err := s.ownByPeriodIn(ctx, ind, from, to)
		if err != nil {
			return nil, err
		}
		if len(byPeriod) == 0 {
			continue
		}
		for _, code := range codes {
			values := s.rollUpSeries(ind, byPeriod, code, level)
			if len(values) == 0 {
				continue
			}
			f := out[code]
			if f == nil {
				f = &agencyFigures{}
				out[code] = f
				seen[code] = map[indicators.Source]bool{}
			}
			f.Annual = append(f.Annual, indicators.AnnualPoints(values)...)
			for _, v := range values {
				for _, from := range v.From {
					o := byPeriod[v.Period][from]
					if !seen[code][o.Source] {
						seen[code][o.Source] = true
						f.Sources = append(f.Sources, o.Source)
					}
					if o.ReceivedAt.After(f.Cutoff) {
						f.Cutoff = o.ReceivedAt
					}
				}
			}
		}
	}
	return out, nil
}

// cacheable reports whether this Service's reads are the same for every reader: only
// those are kept in the figure cache.
func (s *Service) cacheable() bool { return s.audience.public() || s.audience.All }

// annualValues is one agency's yearly figures from the cache, when it can answer.
func (s *Service) annualValues(ctx context.Context, ind *indicators.Indicator, agency string, level indicators.Level) ([]indicators.Value, bool, error) {
	if level != "" && agency != s.registry.Root() {
		return nil, false, nil
	}
	figs, ok, err := s.figures(ctx, ind, level)
	if err != nil || !ok {
		return nil, ok, err
	}
	if f := figs[agency]; f != nil {
		return f.Annual, true, nil
	}
	return nil, true, nil
}

// FiguresVersion is the store's figures version (store.FiguresVersioner) when the
// Service's figures are the same for every reader: the same version means the same
// figures, so an answer made from them can be reused. ok is false otherwise.
func (s *Service) FiguresVersion(ctx context.Context) (version string, ok bool, err error) {
	dv, ok := s.store.(store.FiguresVersioner)
	if !ok || !s.cacheable() {
		return "", false, nil
	}
	v, err := dv.FiguresVersion(ctx)
	if err != nil {
		return "", true, fmt.Errorf("read data version: %w", err)
	}
	return v, true, nil
}

// WarmUp computes what the first readers after a start would otherwise wait for, so
// that a restart does not make them pay for the whole history: every indicator's
// yearly figures for the public (each level's national figure too, for an indicator
// with a target per level), then every peer group's ranking of the year before the
// clock's, with and without trends. Readers arriving meanwhile wait for the figure
// being computed, not for the whole warm-up. It stops at the first error, or when ctx
// is done between two computations; it does nothing on a store that keeps no figures
// version, whose figures are not kept.
func (s *Service) WarmUp(ctx context.Context, method indicators.RankingMethod) error {
	if _, ok := s.store.(store.FiguresVersioner); !ok {
		return nil
	}
	pub := s.PublicView()
	for _, ind := range s.catalogue.All() {
		levels := []indicators.Level{""}
		if ind.HasLevelTargets() {
			for _, l := range ind.Levels {
				if l != indicators.National {
					levels = append(levels, l)
				}
			}
		}
		for _, l := range levels {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, _, err := pub.figures(ctx, ind, l); err != nil {
				return fmt.Errorf("warm up %s: %w", ind.Code, err)
			}
		}
	}
	last := period.Period{Kind: period.Year, Year: s.now().Year() - 1, Index: 1}
	for _, g := range indicators.PeerGroups() {
		for _, trends := range []bool{false, true} {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := pub.Ranking(ctx, RankingRequest{Group: g, Period: last, Method: method, Trends: trends}); err != nil {
				return fmt.Errorf("warm up the ranking of %s: %w", g, err)
			}
		}
	}
	return nil
}
