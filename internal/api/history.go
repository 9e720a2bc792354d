package api

import (
	"context"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
)

// revision is one stored revision with the figures it replaced: the audit view of
// GET /api/v1/observations?history=true (who changed what, when, from which value to
// which).
type revision struct {
	indicators.Observation
	PreviousValue       *float64 `json:"previous_value,omitempty"`
	PreviousNumerator   *float64 `json:"previous_numerator,omitempty"`
	PreviousDenominator *float64 `json:"previous_denominator,omitempty"`
	PreviousSubmitter   string   `json:"previous_submitter,omitempty"`
	// Approved is false on a figure a reviewer has not approved yet, which only its
	// officer and reviewers see; absent on published figures.
	Approved *bool `json:"approved,omitempty"`
}

// withPrevious pairs each revision of a history page with the one before it. The
// store answers history ordered by series and revision, so the one before is the
// preceding element of the same series; for the first element of a page that is the
// last of the previous page, read again by key (one observation) through qs, the
// Service the page was read for: an officer's history holds its returned revisions,
// which the public one lacks, and a revision must show the same previous value whether
// or not it starts a page.
func (s *Server) withPrevious(ctx context.Context, qs *query.Service, q store.Query, obs []indicators.Observation) ([]revision, error) {
	out := make([]revision, len(obs))
	for i, o := range obs {
		out[i].Observation = o
		var p *indicators.Observation
		switch {
		case i > 0 && obs[i-1].SeriesKey == o.SeriesKey && obs[i-1].Revision == o.Revision-1:
			p = &obs[i-1]
		case i == 0 && q.After != nil && o.Revision > 1:
			prev, err := qs.Observations(ctx, store.Query{
				Indicators: []string{o.Indicator}, Agencies: []string{o.Agency}, History: true,
				After: &store.Key{SeriesKey: o.SeriesKey, Revision: o.Revision - 2}, Limit: 1,
			})
			if err != nil {
				return nil, err
			}
			if len(prev) == 1 && prev[0].SeriesKey == o.SeriesKey && prev[0].Revision == o.Revision-1 {
				s.roundValues(prev)
				p = &prev[0]
			}
		}
		if p != nil {
			out[i].PreviousValue = new(p.Value)
			out[i].PreviousNumerator, out[i].PreviousDenominator = p.Numerator, p.Denominator
			out[i].PreviousSubmitter = p.Submitter
		}
	}
	return out, nil
}
