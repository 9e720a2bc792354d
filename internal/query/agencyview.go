package query

import (
	"context"
	"fmt"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// IndicatorRank is an agency's place on one indicator among its peer group in a
// ranking period, and the change from the previous period.
type IndicatorRank struct {
	Rank int `json:"rank"`
	// Of is how many members have a value.
	Of           int  `json:"of"`
	PreviousRank *int `json:"previous_rank,omitempty"`
	// Change is PreviousRank − Rank: positive means it moved up.
	Change *int `json:"change,omitempty"`
}

// IndicatorRanks gives an agency's rank on each indicator among its peer group in the
// period of its card's ranking (the last ended year), from the figures of that ranking
// and of the previous period's: competition ranks (1, 2, 2, 4), best first in each
// indicator's direction. Empty for an agency in no peer group.
func (s *Service) IndicatorRanks(ctx context.Context, code string, p period.Period, method indicators.RankingMethod) (map[string]IndicatorRank, error) {
	a, ok := s.registry.Get(code)
	if !ok {
		return nil, &NotFoundError{"agency", code}
	}
	out := map[string]IndicatorRank{}
	g, ok := indicators.GroupOf(a.Kind)
	if !ok || !a.ActiveOn(indicators.LastDay(p)) {
		return out, nil
	}
	cur, err := s.Ranking(ctx, RankingRequest{Group: g, Period: p, Method: method})
	if err != nil {
		return nil, fmt.Errorf("indicator ranks of %s: %w", code, err)
	}
	prev, err := s.Ranking(ctx, RankingRequest{Group: g, Period: cur.PreviousPeriod, Method: method})
	if err != nil {
		return nil, fmt.Errorf("previous indicator ranks of %s: %w", code, err)
	}
	before := ranksByIndicator(s, prev, code, a.Predecessors)
	for c, r := range ranksByIndicator(s, cur, code, nil) {
		if b, ok := before[c]; ok {
			pr := b.Rank
			ch := pr - r.Rank
			r.PreviousRank, r.Change = &pr, &ch
		}
		out[c] = r
	}
	return out, nil
}

// ranksByIndicator ranks the members of a ranking on each indicator and returns the
// ranks of code (or, before a merger, of the first of its predecessors that was ranked).
func ranksByIndicator(s *Service, rep *RankingReport, code string, predecessors []string) map[string]IndicatorRank {
	out := map[string]IndicatorRank{}
	for _, ri := range rep.Indicators {
		ind, ok := s.catalogue.Get(ri.Code)
		if !ok {
			continue
		}
		var rows []RankedProgress
		for _, e := range rep.Entries {
			if v, ok := e.Values[ri.Code]; ok {
				rows = append(rows, RankedProgress{ProgressReport: ProgressReport{Progress: indicators.Progress{
					Agency: e.Agency, Latest: &indicators.Point{Period: v.Period, Value: v.Value}}}})
			}
		}
		RankByLatest(ind, rows)
		for _, want := range append([]string{code}, predecessors...) {
			found := false
			for _, r := range rows {
				if r.Agency == want {
					out[ri.Code] = IndicatorRank{Rank: r.Rank, Of: len(rows)}
					found = true
					break
				}
			}
			if found {
				break
			}
		}
	}
	return out
}
