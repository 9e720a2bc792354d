package query

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	// regOnce computes regHash, the registry's part of every kept set's stamp.
	regOnce sync.Once
	regHash []byte
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
	// Behind describes the observations behind each of Annual's points alone (same
	// index): what a ranking of that year reports of the figure it takes from Annual
	// (its sources and data cut-off). Nil when a kept year lacked it.
	Behind []store.Behind
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
	version, ok, err := s.cacheVersion(ctx)
	if !ok || err != nil {
		return nil, false, err
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
		e.series, e.err = s.loadFigures(context.WithoutCancel(ctx), ind, level)
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

// keptFigures is figures when they are kept for the store's current figures version
// (or being computed by another reader, whom it waits for): what a reader can have
// without rolling up the history itself; false when it would have to.
func (s *Service) keptFigures(ctx context.Context, ind *indicators.Indicator, level indicators.Level) (map[string]*agencyFigures, bool, error) {
	version, ok, err := s.cacheVersion(ctx)
	if !ok || err != nil {
		return nil, false, err
	}
	c := s.cache
	c.mu.Lock()
	e := c.entries[figureKey{ind.Code, level, s.audience.public()}]
	c.mu.Unlock()
	if e == nil || e.version != version {
		return nil, false, nil
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if e.err != nil {
		return nil, false, nil
	}
	return e.series, true, nil
}

// figuresFromYear is the first year computeYears reads on its own: everything before
// it is read in one chunk (digital-government figures before 2000 are few, if any).
const figuresFromYear = 2000

// figuresFormat is part of every kept set's stamp: change it when what a kept year
// holds, or how it is computed, changes, and every kept figure is recomputed.
const figuresFormat = "goc-figures-2"

// loadFigures gives the figures of ind at level for the Service's view: from the
// store's kept figures when it keeps them (recomputing only the years marked since,
// and storing them back), else rolled up from the whole history.
func (s *Service) loadFigures(ctx context.Context, ind *indicators.Indicator, level indicators.Level) (map[string]*agencyFigures, error) {
	keeper, ok := s.store.(store.FigureKeeper)
	if !ok {
		years, err := s.computeYears(ctx, ind, level)
		if err != nil {
			return nil, err
		}
		return assembleFigures(years), nil
	}
	set := s.figureSet(ind, level)
	stamp := s.cache.stampOf(ind, s.registry)
	kept, err := keeper.KeptFigures(ctx, set, stamp)
	if err != nil {
		return nil, err
	}
	u := store.FigureUpdate{Stamp: stamp, Base: kept}
	var years []store.YearFigures
	switch {
	case !kept.Valid:
		if years, err = s.computeYears(ctx, ind, level); err != nil {
			return nil, err
		}
		u.All, u.Years = true, years
	case len(kept.Stale) > 0:
		stale := map[int]bool{}
		for _, y := range kept.Stale {
			stale[y] = true
		}
		for _, f := range kept.Years {
			if !stale[f.Year] {
				years = append(years, f)
			}
		}
		for _, y := range kept.Stale {
			fresh, err := s.rollUpYears(ctx, ind, level, yearStart(y), yearStart(y+1))
			if err != nil {
				return nil, err
			}
			u.Years = append(u.Years, fresh...)
		}
		u.Recomputed = kept.Stale
		years = append(years, u.Years...)
		sortYears(years)
	default:
		return assembleFigures(kept.Years), nil
	}
	// Another reader storing first is no error: this reader's figures are as new. Nor
	// is a write that cannot start soon (a bulk load holds the store's writer for its
	// whole length): the figures are right, only not stored, and the marks they answer
	// stay for the next reader.
	kctx, cancel := context.WithTimeout(ctx, keepFiguresWait)
	defer cancel()
	if _, err := keeper.KeepFigures(kctx, set, u); err != nil && !errors.Is(kctx.Err(), context.DeadlineExceeded) {
		return nil, err
	}
	return assembleFigures(years), nil
}

// keepFiguresWait is how long a reader waits to store figures it recomputed before it
// answers without storing them.
const keepFiguresWait = 2 * time.Second

// figureSet names the Service's kept set of ind's figures at level.
func (s *Service) figureSet(ind *indicators.Indicator, level indicators.Level) store.FigureSet {
	view := "all"
	if s.audience.public() {
		view = "public"
	}
	return store.FigureSet{View: view, Indicator: ind.Code, Level: level}
}

// stampOf is what ind's figures are computed under: the indicator's definition, the
// whole registry (its hierarchy and dated mergers decide every roll-up) and
// figuresFormat, hashed. The registry's part is computed once per cache.
func (c *figureCache) stampOf(ind *indicators.Indicator, reg *indicators.Registry) string {
	c.regOnce.Do(func() {
		h := sha256.New()
		// An agency's fields are plain data; encoding cannot fail.
		_ = json.NewEncoder(h).Encode(reg.All())
		c.regHash = h.Sum(nil)
	})
	h := sha256.New()
	h.Write([]byte(figuresFormat))
	h.Write(c.regHash)
	if err := json.NewEncoder(h).Encode(ind); err != nil {
		// Never kept under a stamp that does not say what it was computed from.
		fmt.Fprintf(h, "%+v", *ind)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RebuildFigures recomputes from the whole history every figure the store keeps (every
// indicator, each level's national figure where the indicator has targets per level,
// for the public and for reviewers) and stores them, replacing what was kept:
// `goc rebuild`. progress, when not nil, is called after each set with how many are
// done of how many. It does nothing on a store that keeps no figures.
func (s *Service) RebuildFigures(ctx context.Context, progress func(done, total int, set store.FigureSet)) error {
	keeper, ok := s.store.(store.FigureKeeper)
	if !ok {
		return nil
	}
	type job struct {
		view *Service
		ind  *indicators.Indicator
		l    indicators.Level
	}
	var jobs []job
	for _, view := range []*Service{s.PublicView(), s.For(Audience{All: true})} {
		for _, ind := range s.catalogue.All() {
			for _, l := range figureLevels(ind) {
				jobs = append(jobs, job{view, ind, l})
			}
		}
	}
	for i, j := range jobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		set := j.view.figureSet(j.ind, j.l)
		// Marks read before the history is: the set reflects every one up to here.
		kept, err := keeper.KeptFigures(ctx, set, "")
		if err != nil {
			return err
		}
		years, err := j.view.computeYears(ctx, j.ind, j.l)
		if err != nil {
			return err
		}
		u := store.FigureUpdate{Stamp: j.view.cache.stampOf(j.ind, j.view.registry), Base: kept, All: true, Force: true, Years: years}
		if _, err := keeper.KeepFigures(ctx, set, u); err != nil {
			return err
		}
		if progress != nil {
			progress(i+1, len(jobs), set)
		}
	}
	return nil
}

// figureLevels are the levels whose figures are kept for ind: every agency's, and the
// country's at each level for an indicator with targets per level.
func figureLevels(ind *indicators.Indicator) []indicators.Level {
	levels := []indicators.Level{""}
	if ind.HasLevelTargets() {
		for _, l := range ind.Levels {
			if l != indicators.National {
				levels = append(levels, l)
			}
		}
	}
	return levels
}

func yearStart(y int) time.Time {
	return period.Period{Kind: period.Year, Year: y, Index: 1}.Start(nil)
}

// computeYears rolls the indicator up for every agency in the registry (or for the
// country alone at a level) over the whole history, reading it a year of periods at a
// time: a figure of a period needs only that period's observations, and a year of
// them is what memory holds, however many years the store keeps.
func (s *Service) computeYears(ctx context.Context, ind *indicators.Indicator, level indicators.Level) ([]store.YearFigures, error) {
	// Chunks: before figuresFromYear, each year to this one, then this year and later
	// (periods a clock slightly behind the data may hold).
	var out []store.YearFigures
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
		years, err := s.rollUpYears(ctx, ind, level, from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, years...)
	}
	sortYears(out)
	return out, nil
}

// rollUpYears rolls the indicator up for the periods starting in [from, to) (a zero
// bound does not bound), for every agency in the registry or the country alone at a
// level, and gives each agency's figures of each year.
func (s *Service) rollUpYears(ctx context.Context, ind *indicators.Indicator, level indicators.Level, from, to time.Time) ([]store.YearFigures, error) {
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
	return s.rollUpYearsOf(ctx, ind, level, from, to, codes)
}

// rollUpYearsOf is rollUpYears for the agencies codes alone. Each agency's figures are
// rolled up from the same observations (every agency's of the years) independently of
// the others', so they equal what rolling up every agency gives them.
func (s *Service) rollUpYearsOf(ctx context.Context, ind *indicators.Indicator, level indicators.Level, from, to time.Time, codes []string) ([]store.YearFigures, error) {
	byPeriod, err := s.ownByPeriodIn(ctx, ind, from, to)
	if err != nil {
		return nil, err
	}
	if len(byPeriod) == 0 {
		return nil, nil
	}
	var out []store.YearFigures
	shared := map[string][]indicators.Source{}
	for _, code := range codes {
		values := s.rollUpSeries(ind, byPeriod, code, level)
		// values are in period order, so each year's are together.
		for len(values) > 0 {
			n := 1
			for n < len(values) && values[n].Period.Year == values[0].Period.Year {
				n++
			}
			year := values[:n]
			values = values[n:]
			f := store.YearFigures{Agency: code, Year: year[0].Period.Year, Annual: indicators.AnnualPoints(year)}
			for _, v := range f.Annual {
				f.Behind = append(f.Behind, behindOf(v, byPeriod, shared))
			}
			seen := map[indicators.Source]bool{}
			for _, v := range year {
				for _, from := range v.From {
					o := byPeriod[v.Period][from]
					if !seen[o.Source] {
						seen[o.Source] = true
						f.Sources = append(f.Sources, o.Source)
					}
					if o.ReceivedAt.After(f.Cutoff) {
						f.Cutoff = o.ReceivedAt
					}
				}
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// behindOf describes the observations behind v (read into byPeriod), sharing the
// sources' slice between figures with the same sources through shared.
func behindOf(v indicators.Value, byPeriod ownObservations, shared map[string][]indicators.Source) store.Behind {
	var b store.Behind
	for _, from := range v.From {
		o := byPeriod[v.Period][from]
		if !slices.Contains(b.Sources, o.Source) {
			b.Sources = append(b.Sources, o.Source)
		}
		if o.ReceivedAt.After(b.Cutoff) {
			b.Cutoff = o.ReceivedAt
		}
	}
	slices.Sort(b.Sources)
	var key []byte
	for _, src := range b.Sources {
		key = append(append(key, src...), 0)
	}
	if s, ok := shared[string(key)]; ok {
		b.Sources = s
	} else {
		shared[string(key)] = b.Sources
	}
	return b
}

func sortYears(years []store.YearFigures) {
	slices.SortFunc(years, func(a, b store.YearFigures) int {
		if c := strings.Compare(a.Agency, b.Agency); c != 0 {
			return c
		}
		return a.Year - b.Year
	})
}

// assembleFigures joins each agency's yearly figures (sorted by agency, then year)
// into its figures of the whole history: the yearly points in year order, the sources
// in the order first seen, the newest cutoff. The result is what rolling up the whole
// history at once gives.
func assembleFigures(years []store.YearFigures) map[string]*agencyFigures {
	out := map[string]*agencyFigures{}
	var seen map[indicators.Source]bool
	var f *agencyFigures
	lacking := map[*agencyFigures]bool{}
	for i := range years {
		y := &years[i]
		if i == 0 || years[i-1].Agency != y.Agency {
			f = &agencyFigures{}
			out[y.Agency] = f
			seen = map[indicators.Source]bool{}
		}
		f.Annual = append(f.Annual, y.Annual...)
		if len(y.Behind) == len(y.Annual) {
			f.Behind = append(f.Behind, y.Behind...)
		} else {
			lacking[f] = true
		}
		for _, src := range y.Sources {
			if !seen[src] {
				seen[src] = true
				f.Sources = append(f.Sources, src)
			}
		}
		if y.Cutoff.After(f.Cutoff) {
			f.Cutoff = y.Cutoff
		}
	}
	for f := range lacking {
		f.Behind = nil // never out of step with Annual
	}
	return out
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

// cacheVersion is FiguresVersion for the figure cache: ok is false also when this
// Service has no cache.
func (s *Service) cacheVersion(ctx context.Context) (version string, ok bool, err error) {
	if s.cache == nil {
		return "", false, nil
	}
	return s.FiguresVersion(ctx)
}

// WarmUp computes what the first readers after a start would otherwise wait for, so
// that a restart does not make them pay for the whole history: every indicator's
// yearly figures for the public (each level's national figure too, for an indicator
// with a target per level), then every peer group's ranking of the year before the
// clock's, with and without trends; last, on a store that keeps no figures on disk or
// where each read is a round trip (InfluxDB), every indicator's yearly figures for a
// reviewer of the whole country.
// Readers arriving meanwhile wait for the figure being computed, not for the whole
// warm-up. It stops at the first error, or when ctx is done between two computations;
// it does nothing on a store that keeps no figures version, whose figures are not kept.
//
// A reviewer's figures (every newest revision, approved or not) on SQLite, which keeps
// figures in its data file, are read from there by the first request in a fraction of
// a second, so they are not held in memory before anyone asks; elsewhere that first
// request would roll up the indicator's whole history. InfluxDB keeps figures in its
// spool, but only those some reader computed: a set no reviewer has asked for since
// it was last marked whole (a new spool, or with a shared ledger any change) would be
// every latest value through Flux, seconds at national scale. So it is warmed there
// too: once kept, that costs reading the spool and the years marked since.
func (s *Service) WarmUp(ctx context.Context, method indicators.RankingMethod) error {
	if _, ok := s.store.(store.FiguresVersioner); !ok {
		return nil
	}
	pub := s.PublicView()
	if err := pub.warmFigures(ctx); err != nil {
		return err
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
	_, keeps := s.store.(store.FigureKeeper)
	if f, ok := s.store.(fewerReader); !keeps || ok && f.FewerLargerReads() {
		if err := s.For(Audience{All: true}).warmFigures(ctx); err != nil {
			return fmt.Errorf("a reviewer's figures: %w", err)
		}
	}
	return nil
}

// warmFigures computes every indicator's yearly figures (and each level's national
// figure, for an indicator with a target per level) for the Service's audience.
func (s *Service) warmFigures(ctx context.Context) error {
	for _, ind := range s.catalogue.All() {
		for _, l := range figureLevels(ind) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, _, err := s.figures(ctx, ind, l); err != nil {
				return fmt.Errorf("warm up %s: %w", ind.Code, err)
			}
		}
	}
	return nil
}
