package query

import (
	"context"
	"slices"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

// Audience says whose figures a reader may see before a reviewer approves them. The
// zero Audience is the public: approved figures only (store.Query.Published), which is
// what every page, the public API, Grafana, exports, rankings and open data show.
type Audience struct {
	// All sees every agency's newest figures, approved or not (a reviewer of the whole
	// country, an operator).
	All bool
	// Sees reports whether the reader may see an agency's newest figures before approval
	// (an officer: its own agency and delegated units; a reviewer: its scope). Figures of
	// other agencies stay the approved ones.
	Sees func(agency string) bool
}

// public reports whether a only sees approved figures.
func (a Audience) public() bool { return !a.All && a.Sees == nil }

// sees reports whether a may see agency's unapproved figures.
func (a Audience) sees(agency string) bool { return a.All || (a.Sees != nil && a.Sees(agency)) }

// For returns a Service whose reads answer for audience a. The Service itself answers
// for the public.
func (s *Service) For(a Audience) *Service {
	c := *s
	c.audience = a
	return &c
}

// Audience is who this Service answers for.
func (s *Service) Audience() Audience { return s.audience }

// read answers q for the Service's audience: approved figures, except the newest
// figures of the agencies the audience may see before approval. Paging (After, Limit)
// holds: each part is read with the same bounds and the union is cut to Limit. The cut
// union is exactly the next page because every approved row of a seen agency has a row
// with the same key among that agency's newest figures (the same series, or with
// History the same revision): dropping it from the approved part never leaves the union
// short of Limit rows up to that part's last key, so no row past either part's page
// comes first (TestSignedInReadsPageWithoutLosingOrRepeatingRows).
func (s *Service) read(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	a := s.audience
	if a.All {
		q.Published = false
		return s.store.Observations(ctx, q)
	}
	q.Published = true
	if a.public() {
		return s.store.Observations(ctx, q)
	}
	// Which agencies' newest figures to read: those asked for that the audience sees, or
	// every agency it sees when the query names none.
	own := q
	own.Published = false
	own.Agencies = nil
	names := q.Agencies
	if len(names) == 0 {
		for _, ag := range s.registry.All() {
			names = append(names, ag.Code)
		}
	}
	for _, c := range names {
		if a.Sees(c) {
			own.Agencies = append(own.Agencies, c)
		}
	}
	pub, err := s.store.Observations(ctx, q)
	if err != nil || len(own.Agencies) == 0 {
		return pub, err
	}
	mine, err := s.store.Observations(ctx, own)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(pub, func(o indicators.Observation) bool { return a.Sees(o.Agency) })
	out = append(out, mine...)
	slices.SortFunc(out, func(x, y indicators.Observation) int { return store.KeyOf(x).Compare(store.KeyOf(y), true) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// Unapproved returns, of obs (as read for this Service's audience), the ones that are
// not the approved revision of their series: what pages and the API mark as "waiting
// for approval". For the public it is always empty.
func (s *Service) Unapproved(ctx context.Context, obs []indicators.Observation) (map[store.Key]bool, error) {
	out := map[store.Key]bool{}
	if s.audience.public() || len(obs) == 0 {
		return out, nil
	}
	var inds, ags []string
	seen := map[string]bool{}
	for _, o := range obs {
		if s.audience.sees(o.Agency) {
			if !seen["i"+o.Indicator] {
				seen["i"+o.Indicator] = true
				inds = append(inds, o.Indicator)
			}
			if !seen["a"+o.Agency] {
				seen["a"+o.Agency] = true
				ags = append(ags, o.Agency)
			}
		}
	}
	if len(ags) == 0 {
		return out, nil
	}
	pub, err := s.store.Observations(ctx, store.Query{Indicators: inds, Agencies: ags, History: true, Published: true})
	if err != nil {
		return nil, err
	}
	approved := make(map[store.Key]bool, len(pub))
	for _, o := range pub {
		approved[store.KeyOf(o)] = true
	}
	for _, o := range obs {
		if k := store.KeyOf(o); s.audience.sees(o.Agency) && !approved[k] {
			out[k] = true
		}
	}
	return out, nil
}
