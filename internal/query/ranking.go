package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// InvalidError says which input cannot be used and why, in Vietnamese and English.
type InvalidError struct{ Field, Reason string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// RankingRequest asks for one peer group's ranking in one period.
type RankingRequest struct {
	Group  indicators.PeerGroup
	Period period.Period
	Method indicators.RankingMethod
	// Provenance adds the stored observation behind every figure.
	Provenance bool
	// Trends adds the national yearly series of the key indicators (KeyIndicators).
	Trends bool
}

// RankingReport is a ranking as the API and the workbook show it: scores and ranks,
// the change from the previous period, every figure with the period it is for, and on
// request the observations behind them.
type RankingReport struct {
	Group   indicators.PeerGroup `json:"group"`
	GroupVI string               `json:"group_name_vi"`
	GroupEN string               `json:"group_name_en"`
	Level   indicators.Level     `json:"level"`
	Period  period.Period        `json:"period"`
	// PreviousPeriod is the period "change" is measured from: the same members ranked on
	// that period's figures of the same indicators, merged units on their predecessors'
	// rolled-up figures.
	PreviousPeriod period.Period `json:"previous_period"`
	// PeriodComplete is false while the period is still running: figures are then
	// year (or quarter) to date.
	PeriodComplete bool      `json:"period_complete"`
	GeneratedAt    time.Time `json:"generated_at"`
	// DataCutoff is when the newest observation behind any figure was received.
	DataCutoff *time.Time               `json:"data_cutoff,omitempty"`
	Method     indicators.RankingMethod `json:"method"`
	Pillars    []RankingPillar          `json:"pillars"`
	Indicators []RankingIndicator       `json:"indicators"`
	// Members is the size of the group on the last day of the period; Ranked how many
	// of them have a rank.
	Members int            `json:"members"`
	Ranked  int            `json:"ranked"`
	Entries []RankingEntry `json:"entries"`
	// Sources lists the kinds of source behind the figures ("demo" marks sample data).
	Sources    []indicators.Source `json:"sources"`
	Provenance []ProvenanceRow     `json:"provenance,omitempty"`
	// Names gives the Vietnamese name of every agency the provenance names.
	Names  map[string]string `json:"names,omitempty"`
	Trends []Trend           `json:"trends,omitempty"`
}

// RankingPillar is a pillar's share of the index.
type RankingPillar struct {
	Pillar string `json:"pillar"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
	// Weight is the pillar's share of the composite for an agency with every value.
	Weight float64 `json:"weight"`
}

// RankingIndicator is an indicator's part in a ranking, with its names and the targets
// of the group's level.
type RankingIndicator struct {
	indicators.RankedIndicator
	NameVI     string             `json:"name_vi"`
	NameEN     string             `json:"name_en"`
	Unit       indicators.Unit    `json:"unit"`
	Target2025 *indicators.Target `json:"target_2025,omitempty"`
	Target2030 *indicators.Target `json:"target_2030,omitempty"`
}

// RankingEntry is one member's row.
type RankingEntry struct {
	indicators.RankEntry
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
	// PreviousRank and PreviousScore are the member's standing in the previous period;
	// absent when it was not ranked then.
	PreviousRank  *int     `json:"previous_rank,omitempty"`
	PreviousScore *float64 `json:"previous_score,omitempty"`
	// Change is PreviousRank − Rank: positive means it moved up. Absent unless ranked in
	// both periods.
	Change *int `json:"change,omitempty"`
	// Values holds the figure of each indicator the member has.
	Values map[string]RankingValue `json:"values"`
}

// RankingValue is one figure in a ranking.
type RankingValue struct {
	Value float64 `json:"value"`
	// Period is the period the figure is for: the ranking period itself, or for a year
	// the latest period reported in it (see indicators.FigureWithin).
	Period   period.Period `json:"period"`
	Computed bool          `json:"computed"`
	From     []string      `json:"from"`
	Missing  []string      `json:"missing,omitempty"`
}

// ProvenanceRow ties a figure of a ranking to one stored observation behind it.
type ProvenanceRow struct {
	// Ranking is "current" or "previous": which of the two rankings used the figure.
	Ranking   string  `json:"ranking"`
	Agency    string  `json:"agency"`
	Indicator string  `json:"indicator"`
	Figure    float64 `json:"figure"`
	// Observation is the stored revision, with its source, submitter and time.
	Observation indicators.Observation `json:"observation"`
}

// Trend is the national yearly series of one key indicator with its targets.
type Trend struct {
	Indicator string               `json:"indicator"`
	NameVI    string               `json:"name_vi"`
	NameEN    string               `json:"name_en"`
	Unit      indicators.Unit      `json:"unit"`
	Direction indicators.Direction `json:"direction"`
	// Level is the tier the national figure speaks for: the group's level for an
	// indicator with a target per level (clause a.v), otherwise the national level.
	Level      indicators.Level   `json:"level"`
	Points     []indicators.Point `json:"points"`
	Target2025 *indicators.Target `json:"target_2025,omitempty"`
	Target2030 *indicators.Target `json:"target_2030,omitempty"`
}

// KeyIndicators are the indicators whose national series a ranking report charts: the
// quantitative ones with a target for both 2025 and 2030 (clauses a and b).
func KeyIndicators(cat *indicators.Catalogue, level indicators.Level) []*indicators.Indicator {
	var out []*indicators.Indicator
	for _, ind := range cat.All() {
		if ind.Qualitative {
			continue
		}
		l := indicators.National
		if ind.HasLevelTargets() {
			l = level
		}
		_, a := ind.TargetFor(2025, l)
		_, b := ind.TargetFor(2030, l)
		if a && b {
			out = append(out, ind)
		}
	}
	return out
}

// RankingIndicators are the indicators a group is ranked on: the quantitative ones its
// members report.
func RankingIndicators(cat *indicators.Catalogue, g indicators.PeerGroup) []*indicators.Indicator {
	var out []*indicators.Indicator
	for _, ind := range cat.All() {
		if !ind.Qualitative && ind.ReportedAt(g.Level()) {
			out = append(out, ind)
		}
	}
	return out
}

func targetPtr(ind *indicators.Indicator, year int, l indicators.Level) *indicators.Target {
	if t, ok := ind.TargetFor(year, l); ok {
		return &t
	}
	return nil
}

// Ranking ranks a peer group for a period, and the same members for the period before.
//
// Each indicator is read from the store once, for both periods (and, with Trends, its
// whole history up to the period's end). Each member's figure is its own value or its
// roll-up (indicators.RollUp), so a province formed on 1 July 2025 has a 2024 figure made
// from its predecessors', and "change from last year" compares like with like.
func (s *Service) Ranking(ctx context.Context, req RankingRequest) (*RankingReport, error) {
	if err := req.Method.Check(); err != nil {
		return nil, &InvalidError{"method", err.Error()}
	}
	if req.Group.Level() == "" {
		return nil, &InvalidError{"group", fmt.Sprintf("nhóm %q không tồn tại / unknown group %q", req.Group, req.Group)}
	}
	p := req.Period
	if p.Kind.PerYear() == 0 {
		return nil, &InvalidError{"period", "bắt buộc / required"}
	}
	now := s.now()
	if !now.After(p.Start(nil)) {
		return nil, &InvalidError{"period", fmt.Sprintf("kỳ %s chưa bắt đầu / period %s has not started yet", p, p)}
	}
	compute := func(ctx context.Context) (*RankingReport, error) { return s.computeRanking(ctx, req, now) }
	if rep, ok, err := s.cachedRanking(ctx, req, p.Ended(now), compute); ok {
		return rep, err
	}
	return compute(ctx)
}

// computeRanking reads the ranking's indicators and ranks the group (Ranking has
// checked the request): from the kept yearly figures where it can (see
// figureRanking), otherwise from the observations of the two periods.
func (s *Service) computeRanking(ctx context.Context, req RankingRequest, now time.Time) (*RankingReport, error) {
	rep, err := s.rankFrom(ctx, req, now, true)
	if errors.Is(err, errFiguresMoved) {
		// The store changed between the figures and their provenance: read it all.
		return s.rankFrom(ctx, req, now, false)
	}
	return rep, err
}

// errFiguresMoved says an observation behind a kept figure was not found when its
// provenance was read: the store changed in between.
var errFiguresMoved = errors.New("the observations behind the kept figures changed")

// rankFrom is computeRanking, taking the figures from the kept yearly figures when
// kept is true and they can give them.
func (s *Service) rankFrom(ctx context.Context, req RankingRequest, now time.Time, kept bool) (*RankingReport, error) {
	p := req.Period
	prev := p.Prev()
	level := req.Group.Level()
	members := req.Group.Members(s.registry, p)
	codes := make([]string, len(members))
	for i, a := range members {
		codes[i] = a.Code
	}

	rep := &RankingReport{
		Group: req.Group, GroupVI: req.Group.NameVI(), GroupEN: req.Group.NameEN(), Level: level,
		Period: p, PreviousPeriod: prev, PeriodComplete: p.Ended(now), GeneratedAt: now,
		Method: req.Method, Members: len(members),
	}
	rankInds := RankingIndicators(s.catalogue, req.Group)
	var keyInds []*indicators.Indicator
	if req.Trends {
		keyInds = KeyIndicators(s.catalogue, level)
	}
	toRead := slices.Clone(rankInds)
	for _, k := range keyInds {
		if !slices.Contains(toRead, k) {
			toRead = append(toRead, k)
		}
	}

	cur := indicators.RankingInput{Indicators: rankInds, Agencies: codes, Values: map[string]map[string]float64{}}
	old := indicators.RankingInput{Indicators: rankInds, Agencies: codes, Values: map[string]map[string]float64{}}
	t := &rankingTally{figures: map[string]map[string]RankingValue{}, sources: map[indicators.Source]bool{}}
	runs := []rankingRun{{"current", p, &cur}, {"previous", prev, &old}}
	for _, ind := range toRead {
		isKey, ranked := slices.Contains(keyInds, ind), slices.Contains(rankInds, ind)
		// A trend is the national yearly series up to the period's end: the kept yearly
		// figures give it without reading the history when the period ends with its
		// year (a year, its last quarter or month), as a ranking report's usually does.
		var keptTr *Trend
		if isKey {
			tr, ok, err := s.keptTrend(ctx, ind, level, p)
			if err != nil {
				return nil, err
			}
			if ok {
				keptTr = &tr
				rep.Trends = append(rep.Trends, tr)
			}
		}
		if !ranked && keptTr != nil {
			continue
		}
		// A key indicator without a kept trend has its history read below anyway.
		if ranked && kept && (!isKey || keptTr != nil) {
			ok, err := s.figureRanking(ctx, req, ind, codes, runs, rep, t)
			if err != nil {
				return nil, err
			}
			if ok {
				continue
			}
		}
		q := store.Query{Indicators: []string{ind.Code}, To: p.End(nil)}
		if !isKey || keptTr != nil {
			q.From = prev.Start(nil)
		}
		// The registry's agencies only: every figure is a roll-up over the registry,
		// and a store may hold many agencies besides (ownByPeriodIn).
		byPeriod, err := s.ownByPeriodIn(ctx, ind, q.From, q.To)
		if err != nil {
			return nil, err
		}
		periods := sortedPeriods(byPeriod)
		if isKey && keptTr == nil {
			rep.Trends = append(rep.Trends, s.trend(ind, level, periods, byPeriod))
		}
		if !ranked {
			continue
		}
		for _, run := range runs {
			vals := map[string]float64{}
			cands := indicators.PreferredPeriods(periods, run.r)
			for _, a := range codes {
				for _, c := range cands {
					v, ok := indicators.RollUp(ind, s.registry, a, c, byPeriod[c], "")
					if !ok {
						continue
					}
					vals[a] = v.Value
					for _, f := range v.From {
						o := byPeriod[c][f]
						t.saw(o.Source, o.ReceivedAt)
						if req.Provenance {
							rep.Provenance = append(rep.Provenance, ProvenanceRow{Ranking: run.name, Agency: a, Indicator: ind.Code, Figure: v.Value, Observation: o})
						}
					}
					if run.name == "current" {
						t.figure(a, ind.Code, v)
					}
					break
				}
			}
			run.in.Values[ind.Code] = vals
		}
	}
	if !t.cutoff.IsZero() {
		rep.DataCutoff = &t.cutoff
	}
	if req.Provenance {
		rep.Names = map[string]string{}
		for _, pr := range rep.Provenance {
			for _, c := range []string{pr.Agency, pr.Observation.Agency} {
				if a, ok := s.registry.Get(c); ok {
					rep.Names[c] = a.NameVI
				}
			}
		}
	}
	for src := range t.sources {
		rep.Sources = append(rep.Sources, src)
	}
	slices.Sort(rep.Sources)

	now2 := indicators.ComputeRanking(cur, req.Method)
	// The previous ranking uses this period's indicators only, so an indicator first
	// reported this year (or no longer reported) cannot move a rank by itself.
	old.Indicators = nil
	for i, ri := range now2.Indicators {
		if ri.Used {
			old.Indicators = append(old.Indicators, rankInds[i])
		}
	}
	before := indicators.ComputeRanking(old, req.Method)
	for _, ri := range now2.Indicators {
		ind, _ := s.catalogue.Get(ri.Code)
		rep.Indicators = append(rep.Indicators, RankingIndicator{
			RankedIndicator: ri, NameVI: ind.NameVI, NameEN: ind.NameEN, Unit: ind.Unit,
			Target2025: targetPtr(ind, 2025, level), Target2030: targetPtr(ind, 2030, level),
		})
	}
	rep.Pillars = pillarShares(now2)
	for _, e := range now2.Entries {
		a, _ := s.registry.Get(e.Agency)
		re := RankingEntry{RankEntry: e, NameVI: a.NameVI, NameEN: a.NameEN, Values: t.figures[e.Agency]}
		if re.Values == nil {
			re.Values = map[string]RankingValue{}
		}
		if pe, ok := before.Entry(e.Agency); ok && pe.Ranked() {
			pr := pe.Rank
			re.PreviousRank, re.PreviousScore = &pr, pe.Score
			if e.Ranked() {
				ch := pr - e.Rank
				re.Change = &ch
			}
		}
		if e.Ranked() {
			rep.Ranked++
		}
		rep.Entries = append(rep.Entries, re)
	}
	return rep, nil
}

// rankingRun is one of a ranking's two periods: the one ranked, or the one before.
type rankingRun struct {
	name string // "current" or "previous", as ProvenanceRow.Ranking says
	r    period.Period
	in   *indicators.RankingInput
}

// rankingTally gathers what a ranking says of its figures besides their values.
type rankingTally struct {
	figures map[string]map[string]RankingValue // agency → indicator → figure (current period)
	sources map[indicators.Source]bool
	cutoff  time.Time
}

func (t *rankingTally) saw(src indicators.Source, received time.Time) {
	t.sources[src] = true
	if received.After(t.cutoff) {
		t.cutoff = received
	}
}

func (t *rankingTally) figure(agency, code string, v indicators.Value) {
	if t.figures[agency] == nil {
		t.figures[agency] = map[string]RankingValue{}
	}
	t.figures[agency][code] = RankingValue{Value: v.Value, Period: v.Period, Computed: v.Computed, From: v.From, Missing: v.Missing}
}

// figuresOf gives the yearly figures of ind at level of agencies, in years (every year
// when empty), as cheaply as it can: those kept in memory for the current figures
// version; else only their rows from a store that keeps figures on disk, when none of
// years is marked since; else every agency's through figures (on such a store
// recomputing the marked years and storing them back). Without compute it gives them
// only when that costs no more than reading len(years) years of observations: kept
// already, or no more than len(years) years to roll up again; a set never kept, or one
// a bulk load has marked all over, is left to the caller's read (rolling the whole
// history of every ranked indicator up to rank one year costs 24 s of CPU at full
// size against 5 for the two years' read, and goc serve's warm-up or goc rebuild
// keep them). The map may hold other agencies and years too.
func (s *Service) figuresOf(ctx context.Context, ind *indicators.Indicator, level indicators.Level, agencies []string, years []int, compute bool) (map[string]*agencyFigures, bool, error) {
	if figs, ok, err := s.keptFigures(ctx, ind, level); err != nil || ok {
		return figs, ok, err
	}
	if part, ok := s.store.(store.FigurePartReader); ok && s.cache != nil && s.cacheable() && len(agencies) > 0 {
		kept, err := part.KeptFiguresOf(ctx, s.figureSet(ind, level), s.cache.stampOf(ind, s.registry), agencies, years)
		if err != nil {
			return nil, false, err
		}
		if kept.Valid && !slices.ContainsFunc(kept.Stale, func(y int) bool { return len(years) == 0 || slices.Contains(years, y) }) {
			return assembleFigures(kept.Years), true, nil
		}
		if !compute && (!kept.Valid || len(kept.Stale) > len(years)) {
			return nil, false, nil
		}
		if !kept.Valid {
			return s.figures(ctx, ind, level)
		}
		// Some of the asked years changed since they were kept: roll those up again
		// for the asked agencies alone, not every agency's whole set (reading, rolling
		// up and storing 3,335 agencies' figures to rank 34). Nothing is stored, so the
		// marks stay for the next reader of the whole set.
		if level != "" {
			agencies = []string{s.registry.Root()}
		}
		asked := func(y int) bool { return len(years) == 0 || slices.Contains(years, y) }
		var out []store.YearFigures
		for _, f := range kept.Years {
			if !slices.Contains(kept.Stale, f.Year) {
				out = append(out, f)
			}
		}
		for _, y := range kept.Stale {
			if !asked(y) {
				continue
			}
			fresh, err := s.rollUpYearsOf(ctx, ind, level, yearStart(y), yearStart(y+1), agencies)
			if err != nil {
				return nil, false, err
			}
			out = append(out, fresh...)
		}
		sortYears(out)
		return assembleFigures(out), true, nil
	}
	if compute {
		return s.figures(ctx, ind, level)
	}
	return nil, false, nil
}

// figureRanking takes one indicator's figures of a yearly ranking and of the year
// before from the kept yearly figures (figures, every agency), instead of reading two
// years of observations; false when it cannot: the period is not a year, or the
// figures are not kept.
//
// A member's figure of a year is the same either way. The ranking takes, among the
// periods within the year that have observations, the first in FigureWithin's order
// (the year itself, then the one ending last, the longer on a tie) for which the
// member's own value or roll-up (RollUp, level "") exists; the kept yearly figure is
// AnnualPoints of the same roll-ups of every period of that year, whose rule is the
// same order (TestKeptFiguresEqualHistoryAfterRandomWritesApprovalsAndMergers,
// TestRankingFromKeptFiguresEqualsRankingFromObservations). The sources and data
// cut-off of each figure are kept beside it (agencyFigures.Behind). Only the
// provenance, every observation behind every figure, is read from the store: the one
// period each figure is for and the agencies it came from, not two years of the
// registry.
func (s *Service) figureRanking(ctx context.Context, req RankingRequest, ind *indicators.Indicator, codes []string, runs []rankingRun, rep *RankingReport, t *rankingTally) (bool, error) {
	if req.Period.Kind != period.Year {
		return false, nil
	}
	// Only figures that cost no more than the two years' read (figuresOf).
	figs, ok, err := s.figuresOf(ctx, ind, "", codes, []int{runs[0].r.Year, runs[1].r.Year}, false)
	if err != nil || !ok {
		return false, err
	}
	for _, a := range codes {
		if f := figs[a]; f != nil && len(f.Behind) != len(f.Annual) {
			return false, nil // figures kept without what is behind them
		}
	}
	type pending struct {
		row    int    // index in rep.Provenance
		agency string // whose observation
		p      period.Period
	}
	var rows []pending
	for _, run := range runs {
		vals := map[string]float64{}
		for _, a := range codes {
			f := figs[a]
			if f == nil {
				continue
			}
			i, found := slices.BinarySearchFunc(f.Annual, run.r.Year, func(v indicators.Value, y int) int { return v.Period.Year - y })
			if !found {
				continue
			}
			v, b := f.Annual[i], f.Behind[i]
			vals[a] = v.Value
			for _, src := range b.Sources {
				t.saw(src, b.Cutoff)
			}
			if req.Provenance {
				for _, from := range v.From {
					rows = append(rows, pending{len(rep.Provenance), from, v.Period})
					rep.Provenance = append(rep.Provenance, ProvenanceRow{Ranking: run.name, Agency: a, Indicator: ind.Code, Figure: v.Value})
				}
			}
			if run.name == "current" {
				t.figure(a, ind.Code, v)
			}
		}
		run.in.Values[ind.Code] = vals
	}
	if len(rows) == 0 {
		return true, nil
	}
	// The provenance: for each period a figure is for, the observations of the agencies
	// its figures came from.
	need := map[period.Period][]string{}
	seen := map[period.Period]map[string]bool{}
	for _, r := range rows {
		if seen[r.p] == nil {
			seen[r.p] = map[string]bool{}
		}
		if !seen[r.p][r.agency] {
			seen[r.p][r.agency] = true
			need[r.p] = append(need[r.p], r.agency)
		}
	}
	found := map[period.Period]map[string]indicators.Observation{}
	step := max(1, s.agencyChunk)
	for _, p := range sortedPeriods(need) {
		agencies := need[p]
		slices.Sort(agencies)
		found[p] = make(map[string]indicators.Observation, len(agencies))
		for start := 0; start < len(agencies); start += step {
			chunk := agencies[start:min(len(agencies), start+step)]
			// One series per agency: at most one row each, so the limit cuts nothing
			// and spares the store counting the rows first.
			q := store.Query{Indicators: []string{ind.Code}, Agencies: chunk,
				From: p.Start(nil), To: p.Start(nil).Add(time.Second), Kinds: []period.Kind{p.Kind}, Limit: len(chunk)}
			obs, err := s.read(ctx, q)
			if err != nil {
				return false, fmt.Errorf("read the observations behind the ranking's %s: %w", ind.Code, err)
			}
			for _, o := range obs {
				if o.Period == p {
					found[p][o.Agency] = o
				}
			}
		}
	}
	for _, r := range rows {
		o, ok := found[r.p][r.agency]
		if !ok {
			return false, errFiguresMoved
		}
		rep.Provenance[r.row].Observation = o
	}
	return true, nil
}

func pillarShares(r indicators.Ranking) []RankingPillar {
	share := map[string]float64{}
	for _, ri := range r.Indicators {
		share[ri.Pillar] += ri.Weight
	}
	var out []RankingPillar
	for _, p := range indicators.Pillars() {
		if w, ok := share[p]; ok && w > 0 {
			vi, en := indicators.PillarName(p)
			out = append(out, RankingPillar{Pillar: p, NameVI: vi, NameEN: en, Weight: w})
		}
	}
	return out
}

// trend is the national yearly series of ind, judged at the group's level when the
// indicator has a target per level.
func (s *Service) trend(ind *indicators.Indicator, level indicators.Level, periods []period.Period, byPeriod map[period.Period]map[string]indicators.Observation) Trend {
	lvl, _ := trendLevel(ind, level)
	var values []indicators.Value
	for _, p := range periods {
		if v, ok := indicators.RollUp(ind, s.registry, s.registry.Root(), p, byPeriod[p], lvl); ok {
			values = append(values, v)
		}
	}
	return trendOf(ind, level, indicators.AnnualPoints(values))
}

// trendLevel is the level ind's national series is rolled up at (empty: every level)
// and the level it is judged at.
func trendLevel(ind *indicators.Indicator, level indicators.Level) (rollUp, judged indicators.Level) {
	if ind.HasLevelTargets() {
		return level, level
	}
	return "", indicators.National
}

func trendOf(ind *indicators.Indicator, level indicators.Level, annual []indicators.Value) Trend {
	_, judged := trendLevel(ind, level)
	tr := Trend{Indicator: ind.Code, NameVI: ind.NameVI, NameEN: ind.NameEN, Unit: ind.Unit, Direction: ind.Direction,
		Level: judged, Target2025: targetPtr(ind, 2025, judged), Target2030: targetPtr(ind, 2030, judged)}
	for _, v := range annual {
		tr.Points = append(tr.Points, indicators.Point{Period: v.Period, Value: v.Value})
	}
	return tr
}

// keptTrend is trend from the kept yearly figures (see figureCache), when p ends with
// its year, so that the series up to p's end is every kept year up to p's; false when
// it does not, or when the figures are not kept.
func (s *Service) keptTrend(ctx context.Context, ind *indicators.Indicator, level indicators.Level, p period.Period) (Trend, bool, error) {
	nextYear := period.Period{Kind: period.Year, Year: p.Year + 1, Index: 1}
	if !p.End(nil).Equal(nextYear.Start(nil)) {
		return Trend{}, false, nil
	}
	lvl, _ := trendLevel(ind, level)
	root := s.registry.Root()
	figs, ok, err := s.figuresOf(ctx, ind, lvl, []string{root}, nil, true)
	if err != nil || !ok {
		return Trend{}, false, err
	}
	var annual []indicators.Value
	if f := figs[root]; f != nil {
		annual = f.Annual
	}
	i := 0
	for i < len(annual) && annual[i].Period.Year <= p.Year {
		i++
	}
	return trendOf(ind, level, annual[:i]), true, nil
}
