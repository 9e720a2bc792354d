package query

import (
	"context"
	"fmt"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// PreviousValues returns the latest value of each of an agency's indicators for one
// period, by indicator code: what a template shows beside each input as "previous
// period".
func (s *Service) PreviousValues(ctx context.Context, agency string, p period.Period, codes []string) (map[string]indicators.Observation, error) {
	out := map[string]indicators.Observation{}
	if len(codes) == 0 {
		return out, nil
	}
	obs, err := s.read(ctx, store.Query{
		Indicators: codes, Agencies: []string{agency},
		From: p.Start(nil), To: p.End(nil), Kinds: []period.Kind{p.Kind},
	})
	if err != nil {
		return nil, fmt.Errorf("read %s's values for %s: %w", agency, p, err)
	}
	for _, o := range obs {
		if o.Period == p {
			out[o.Indicator] = o
		}
	}
	return out, nil
}

// SeriesKey names one agency's series of one indicator.
type SeriesKey struct{ Indicator, Agency string }

// OwnHistory returns the agencies' own latest values of the indicators, for periods of
// the given kind that start before `before`, oldest first: the history a submitted
// value is compared with to find outliers. One read, whatever the number of series.
func (s *Service) OwnHistory(ctx context.Context, codes, agencies []string, kind period.Kind, before time.Time) (map[SeriesKey][]indicators.Observation, error) {
	out := map[SeriesKey][]indicators.Observation{}
	if len(codes) == 0 || len(agencies) == 0 {
		return out, nil
	}
	obs, err := s.store.Observations(ctx, store.Query{
		Indicators: codes, Agencies: agencies, Kinds: []period.Kind{kind}, To: before,
	})
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	for _, o := range obs {
		k := SeriesKey{o.Indicator, o.Agency}
		out[k] = append(out[k], o)
	}
	return out, nil
}
